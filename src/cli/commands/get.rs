//! `get values|manifest|notes`.

use std::io::Write;

use clap::Args;

use super::settings::{Opened, TargetArgs};
use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, exit};
use crate::model::ReleaseName;
use crate::ops::get::{computed_values_of, revision, values_of};

/// What `get` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GetWhat {
    /// The values the user supplied (secrets masked).
    Values,
    /// The rendered objects.
    Manifest,
    /// The rendered NOTES.txt.
    Notes,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    #[arg(value_enum)]
    pub what: GetWhat,
    pub release: ReleaseName,
    /// A revision (default: the current one).
    #[arg(long)]
    pub revision: Option<u64>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Show values the package marks secret instead of `*****`.
    #[arg(long)]
    pub show_secrets: bool,
    /// With `values`: every value the templates saw (package defaults, your values and
    /// generated values), not only what was set (as `helm get values --all`).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Output format of `get values`: YAML or JSON (`table` prints YAML); manifests and notes
    /// print as they were rendered.
    #[arg(short, long, value_enum, default_value = "yaml")]
    pub output: OutputFormat,
}

pub fn run(args: GetArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let record = revision(target.as_ref(), &service_map, &args.release, args.revision)?;
    let mut out = std::io::stdout().lock();
    match args.what {
        GetWhat::Values => {
            let v = serde_json::Value::Object(if args.all {
                computed_values_of(&record, args.show_secrets)?
            } else {
                values_of(&record, args.show_secrets)
            });
            match args.output {
                OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?,
                _ => write!(out, "{}", crate::yaml::to_string(&v)?)?,
            }
        }
        GetWhat::Manifest => write!(out, "{}", record.manifest)?,
        GetWhat::Notes => writeln!(out, "{}", record.notes.as_deref().unwrap_or("").trim_end())?,
    }
    Ok(exit::OK)
}
