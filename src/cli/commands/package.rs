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
pub struct PackageArgs {
    /// Package directory.
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
    /// `text` prints the digest; `json` prints name, version, path, digest and size.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: PackageFormat,
}

pub fn run(args: PackageArgs, printer: &Printer) -> anyhow::Result<u8> {
    let outcome = package::package(&PackageOptions {
        dir: args.dir.clone(),
        out_dir: args.destination.clone(),
    })?;
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
