//! `history`.

use std::io::Write;

use clap::Args;

use super::settings::{Opened, TargetArgs};
use crate::cli::printer::Printer;
use crate::cli::table::Table;
use crate::cli::{OutputFormat, exit};
use crate::model::ReleaseName;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub release: ReleaseName,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format: a table, or the revisions as JSON or YAML.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn run(args: HistoryArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let rows = crate::ops::history::history(target.as_ref(), &service_map, &args.release)?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json | OutputFormat::Yaml => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|(r, d)| {
                    let mut v = serde_json::to_value(r)?;
                    v["description"] = d.clone().into();
                    Ok(v)
                })
                .collect::<Result<_, serde_json::Error>>()?;
            if args.output == OutputFormat::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                write!(out, "{}", crate::yaml::to_string(&v)?)?;
            }
        }
        OutputFormat::Table => {
            let mut table =
                Table::new(&["REVISION", "UPDATED", "STATUS", "PACKAGE", "DESCRIPTION"]);
            for (r, d) in rows {
                table.row([
                    r.revision.to_string(),
                    r.updated.clone(),
                    r.status.to_string(),
                    format!("{}-{}", r.package, r.version),
                    d.to_string(),
                ]);
            }
            table.write(&mut out)?;
        }
    }
    Ok(exit::OK)
}
