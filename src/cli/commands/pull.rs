use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::commands::settings::VerifyArgs;
use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::ops::repo::{self, PullOptions};
use crate::repo::RepoClient;
use crate::repo::reference::{PackageRef, Requirement};

#[derive(Debug, Args)]
pub struct PullArgs {
    /// REPO/NAME, optionally @VERSION-REQ (a package of our index or a Helm chart); or
    /// oci://HOST/PATH/NAME with :TAG, @sha256:DIGEST or @VERSION-REQ.
    #[arg(value_name = "REPO/PKG")]
    pub package: String,
    /// A version (`1.2.3` is exactly that version, `1.4` the newest 1.4.x) or a semver range
    /// (`^2`, `~1.4`, `>=1.2, <2`, or Helm's `>=1.2 <2`); default: the newest stable version.
    #[arg(long, value_name = "REQ", value_parser = parse_req)]
    pub version: Option<Requirement>,
    /// Folder to write NAME-VERSION.tgz into.
    #[arg(short = 'd', long, value_name = "DIR", default_value = ".")]
    pub destination: PathBuf,
    /// For oci:// references: talk plain HTTP to the registry (loopback registries always are).
    #[arg(long)]
    pub plain_http: bool,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

fn parse_req(text: &str) -> Result<Requirement, String> {
    Requirement::parse(text)
}

pub fn run(args: PullArgs, printer: &Printer) -> anyhow::Result<u8> {
    if crate::repo::oci::OciRef::is_oci(&args.package) {
        let version = args.version.as_ref().map(|v| v.as_str());
        return super::registry::pull(
            &args.package,
            version,
            &args.destination,
            args.plain_http,
            args.verify.keyring()?,
            printer,
        );
    }
    let PackageRef::Repo { repo, name, req } = PackageRef::parse(&args.package) else {
        anyhow::bail!(
            "`{}` is not a REPO/PACKAGE reference (like catalog/redis or team/redis@^2)",
            args.package
        );
    };
    let keyring = args.verify.keyring()?;
    let mut client = RepoClient::from_env();
    let mut bar = printer.progress(&format!("Downloading {repo}/{name}"));
    let outcome = repo::pull(
        &mut client,
        &PullOptions {
            repo,
            name,
            req: args.version.or(req),
            dest: args.destination,
            verify: keyring,
        },
        &mut |done, total| bar.update(done, total),
    );
    bar.finish();
    let outcome = outcome?;
    printer.status(
        "Pulled",
        &format!(
            "{} {} to {} ({} bytes)",
            outcome.name,
            outcome.version,
            outcome.path.display(),
            outcome.size
        ),
    );
    if let Some(s) = &outcome.signed_by {
        super::registry::report_signed(s, printer);
    }
    writeln!(std::io::stdout().lock(), "{}", outcome.digest)?;
    Ok(exit::OK)
}
