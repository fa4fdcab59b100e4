//! `get values|manifest|notes|hooks|all`.

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
    /// A chart's hooks as rendered (`-o json|yaml`: with each hook's events, weight, delete
    /// policies and last run).
    Hooks,
    /// Everything: the revision's summary, values (supplied and computed), hooks, manifest
    /// and notes.
    All,
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
        GetWhat::Hooks => match args.output {
            OutputFormat::Json => {
                writeln!(out, "{}", serde_json::to_string_pretty(&record.hooks)?)?
            }
            _ => write!(out, "{}", hooks_text(&record.hooks)?)?,
        },
        GetWhat::All => {
            let values = values_of(&record, args.show_secrets);
            // Records from before computed values were kept have none to show.
            let computed = computed_values_of(&record, args.show_secrets).unwrap_or_default();
            if args.output == OutputFormat::Json {
                let mut all = serde_json::to_value(&record)?;
                all["values"] = serde_json::Value::Object(values);
                all["computedValues"] = serde_json::Value::Object(computed);
                writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
            } else {
                let p = &record.package;
                writeln!(out, "NAME: {}", record.name)?;
                writeln!(out, "LAST DEPLOYED: {}", record.updated)?;
                writeln!(out, "SERVICE MAP: {}", record.service_map)?;
                writeln!(out, "STATUS: {}", record.status.as_str())?;
                writeln!(out, "REVISION: {}", record.revision)?;
                writeln!(out, "PACKAGE: {}-{} ({})", p.name, p.version, p.source)?;
                if let Some(app) = &p.app_version {
                    writeln!(out, "APP VERSION: {app}")?;
                }
                writeln!(out, "USER-SUPPLIED VALUES:")?;
                write!(
                    out,
                    "{}",
                    crate::yaml::to_string(&serde_json::Value::Object(values))?
                )?;
                writeln!(out, "\nCOMPUTED VALUES:")?;
                write!(
                    out,
                    "{}",
                    crate::yaml::to_string(&serde_json::Value::Object(computed))?
                )?;
                if !record.hooks.is_empty() {
                    writeln!(out, "\nHOOKS:")?;
                    write!(out, "{}", hooks_text(&record.hooks)?)?;
                }
                writeln!(out, "MANIFEST:")?;
                write!(out, "{}", record.manifest)?;
                if let Some(notes) = &record.notes {
                    writeln!(out, "\nNOTES:\n{}", notes.trim_end())?;
                }
            }
        }
    }
    Ok(exit::OK)
}

/// Hooks as Helm's `get hooks` prints them: each one's source and object.
fn hooks_text(hooks: &[crate::release::Hook]) -> anyhow::Result<String> {
    let mut text = String::new();
    for h in hooks {
        text.push_str(&format!("---\n# Source: {}\n", h.template));
        text.push_str(&crate::yaml::to_string(&h.object)?);
    }
    Ok(text)
}
