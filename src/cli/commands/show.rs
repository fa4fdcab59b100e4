use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::commands::settings::VerifyArgs;
use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::model::Digest;
use crate::ops::show::{self, ShowOptions, ShowPart};

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(subcommand)]
    pub part: ShowCommand,
}

#[derive(Debug, Args)]
pub struct ShowTarget {
    /// Package directory, NAME-VERSION.tgz archive, or REPO/NAME[@VERSION-REQ] from a repository.
    #[arg(value_name = "PKG")]
    pub package: PathBuf,
    /// Require an archive to have this digest (`sha256:…`).
    #[arg(long, value_name = "DIGEST")]
    pub digest: Option<Digest>,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[derive(Debug, Subcommand)]
pub enum ShowCommand {
    /// The package manifest (package.yaml), normalised.
    Package(ShowTarget),
    /// The default values (values.yaml), with its comments.
    Values(ShowTarget),
    /// The package README.
    Readme(ShowTarget),
    /// The values schema (values.schema.json).
    Schema(ShowTarget),
    /// A chart's Chart.yaml as `helm show chart` prints it (a package's manifest otherwise).
    Chart(ShowTarget),
    /// A chart's custom resource definitions (crds/ folders).
    Crds(ShowTarget),
    /// Everything: the manifest, values, README and CRDs, as `helm show all`.
    All(ShowTarget),
}

pub fn run(args: ShowArgs, printer: &Printer) -> anyhow::Result<u8> {
    let (part, target) = match args.part {
        ShowCommand::Package(t) => (ShowPart::Package, t),
        ShowCommand::Values(t) => (ShowPart::Values, t),
        ShowCommand::Readme(t) => (ShowPart::Readme, t),
        ShowCommand::Schema(t) => (ShowPart::Schema, t),
        ShowCommand::Chart(t) => (ShowPart::Chart, t),
        ShowCommand::Crds(t) => (ShowPart::Crds, t),
        ShowCommand::All(t) => (ShowPart::All, t),
    };
    let (source, verified) = target.verify.check(&target.package, printer)?;
    let text = show::show(&ShowOptions {
        source,
        digest: target.digest.or(verified),
        part,
    })?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(exit::OK)
}
