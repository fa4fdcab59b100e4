use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::ops::repo::{PublishOptions, publish};

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Package directory (archived reproducibly first) or NAME-VERSION.tgz archive; for
    /// oci:// also a Helm chart folder or archive.
    #[arg(value_name = "PKG")]
    pub package: PathBuf,
    /// Where to publish: a repository name (from `repo add`), a server URL, or an OCI registry
    /// path `oci://HOST/PATH` (the package goes to PATH/NAME, tagged with its version, as `helm
    /// push` does; log in first with `registry login` if the registry needs it).
    #[arg(long, value_name = "REPO|URL|oci://HOST/PATH")]
    pub to: String,
    /// File holding the publish token (else COCKTAIL_PKG_PUBLISH_TOKEN); not for oci://.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// oci:// only: talk plain HTTP to the registry (loopback registries always are).
    #[arg(long)]
    pub plain_http: bool,
    /// oci:// only: replace the version's tag when it holds another archive (versions are
    /// otherwise published once).
    #[arg(long)]
    pub force: bool,
}

/// The publish token: from a file, else the environment.
fn token(token_file: &Option<PathBuf>) -> anyhow::Result<String> {
    let token = match token_file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("failed to read token file {}", f.display()))?,
        None => std::env::var(crate::env::PUBLISH_TOKEN).map_err(|_| {
            anyhow::anyhow!(
                "no publish token: pass --token-file FILE or set {}",
                crate::env::PUBLISH_TOKEN
            )
        })?,
    };
    Ok(token.trim().to_string())
}

pub fn run(args: PublishArgs, printer: &Printer) -> anyhow::Result<u8> {
    if crate::repo::oci::OciRef::is_oci(&args.to) {
        return super::registry::publish(
            &args.package,
            &args.to,
            args.plain_http,
            args.force,
            printer,
        );
    }
    let outcome = publish(&PublishOptions {
        package: args.package,
        to: args.to,
        token: token(&args.token_file)?,
    })?;
    printer.status(
        "Published",
        &format!(
            "{} {} to {} ({})",
            outcome.name, outcome.version, outcome.url, outcome.digest
        ),
    );
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct YankArgs {
    /// Package name.
    pub name: crate::model::PackageName,
    /// The version to yank.
    pub version: semver::Version,
    /// Where: a repository name (from `repo add`) or a server URL.
    #[arg(long, value_name = "REPO|URL")]
    pub to: String,
    /// File holding the publish token (else COCKTAIL_PKG_PUBLISH_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Take a yank back.
    #[arg(long)]
    pub undo: bool,
}

pub fn yank(args: YankArgs, printer: &Printer) -> anyhow::Result<u8> {
    let base = crate::ops::repo::yank(&crate::ops::repo::YankOptions {
        name: args.name.to_string(),
        version: args.version.clone(),
        to: args.to,
        token: token(&args.token_file)?,
        yanked: !args.undo,
    })?;
    printer.status(
        if args.undo { "Unyanked" } else { "Yanked" },
        &format!("{} {} on {base}", args.name, args.version),
    );
    Ok(exit::OK)
}
