//! `list`.

use std::io::Write;

use clap::Args;

use super::settings::{Opened, TargetArgs};
use crate::cli::printer::Printer;
use crate::cli::table::Table;
use crate::cli::{OutputFormat, exit};

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// List releases of every service map.
    #[arg(short = 'A', long)]
    pub all_service_maps: bool,
    /// Output format: a table, or the releases as JSON or YAML.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn run(args: ListArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let filter = (!args.all_service_maps).then_some(&service_map);
    let rows = crate::ops::list::list(target.as_ref(), filter)?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?,
        OutputFormat::Yaml => write!(out, "{}", crate::yaml::to_string(&rows)?)?,
        OutputFormat::Table => {
            let mut table = Table::new(&[
                "NAME",
                "SERVICE MAP",
                "REVISION",
                "STATUS",
                "PACKAGE",
                "UPDATED",
            ]);
            for r in rows {
                table.row([
                    r.name.to_string(),
                    r.service_map.to_string(),
                    r.revision.to_string(),
                    r.status.to_string(),
                    format!("{}-{}", r.package, r.version),
                    r.updated.clone(),
                ]);
            }
            table.write(&mut out)?;
        }
    }
    Ok(exit::OK)
}
