use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::ops::package::{self, PackageOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PackageFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
#[command(
    after_long_help = "A Helm chart (a folder with Chart.yaml) is archived as `helm package` lays it out: \
                       NAME-VERSION.tgz with the name and version of Chart.yaml, .helmignore honoured, \
                       sub-charts in charts/ as they are; a chart whose dependencies are missing from \
                       charts/ is refused. Unlike helm, every entry gets the same fixed time, so the \
                       archive is reproducible too.\n\n\
                       Examples:\n  \
                       cocktail-pkg package catalog/redis -d dist/\n  \
                       cocktail-pkg package my-chart/ --dependency-update --version 1.2.3 --app-version 4.5 -d dist/"
)]
pub struct PackageArgs {
    /// Package directory (ours, or a Helm chart).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Folder to write NAME-VERSION.tgz into.
    #[arg(
        short = 'd',
        long = "destination",
        value_name = "OUT",
        default_value = "."
    )]
    pub destination: PathBuf,
    /// Charts: the version to write into the archive's Chart.yaml and file name (the folder is
    /// not changed).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Charts: the appVersion to write into the archive's Chart.yaml.
    #[arg(long, value_name = "VERSION")]
    pub app_version: Option<String>,
    /// Charts: first package each `file://` dependency into charts/NAME-VERSION.tgz (checking its
    /// version constraint, recursively) and write Chart.lock, like `helm dependency update`.
    /// Nothing in the folder changes when it fails.
    #[arg(short = 'u', long)]
    pub dependency_update: bool,
    /// `text` prints the digest; `json` prints name, version, path, digest and size.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: PackageFormat,
}

pub fn run(args: PackageArgs, printer: &Printer) -> anyhow::Result<u8> {
    // A new Chart.lock records this time, as Helm's does; SOURCE_DATE_EPOCH fixes it.
    let now = std::env::var(crate::env::SOURCE_DATE_EPOCH)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(crate::time::now);
    let outcome = package::package(&PackageOptions {
        dir: args.dir.clone(),
        out_dir: args.destination.clone(),
        version: args.version.clone(),
        app_version: args.app_version.clone(),
        dependency_update: args.dependency_update,
        now,
    })?;
    if let Some(update) = &outcome.dependencies {
        for saved in &update.saved {
            printer.status("Saved", &args.dir.join(saved).display().to_string());
        }
        for removed in &update.removed {
            printer.status("Removed", &args.dir.join(removed).display().to_string());
        }
        match &update.lock {
            Some(lock) => printer.status("Locked", &args.dir.join(lock).display().to_string()),
            None if !update.locked.is_empty() => {
                printer.status("Fresh", "the lock file's digest is unchanged")
            }
            None => {}
        }
    }
    printer.status(
        "Packaged",
        &format!(
            "{} {} to {} ({} bytes)",
            outcome.name,
            outcome.version,
            outcome.path.display(),
            outcome.size
        ),
    );
    let mut out = std::io::stdout().lock();
    match args.output {
        PackageFormat::Text => writeln!(out, "{}", outcome.digest)?,
        PackageFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&outcome)?)?,
    }
    Ok(exit::OK)
}
