//! `status`.

use std::io::Write;

use clap::Args;

use super::settings::{Opened, TargetArgs};
use crate::cli::printer::Printer;
use crate::cli::table::Table;
use crate::cli::{OutputFormat, exit};
use crate::model::ReleaseName;

#[derive(Debug, Args)]
pub struct StatusArgs {
    pub release: ReleaseName,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format: a table grouped by workload group, or the report as JSON or YAML.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
    /// Also print the release's notes.
    #[arg(long)]
    pub notes: bool,
}

/// Exit code of `status`: 0 deployed, 1 otherwise is not useful for scripts that only read;
/// `status` exits 0 whenever it could read the state (the state is in the output).
pub fn run(args: StatusArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let report = crate::ops::status::status(target.as_ref(), &service_map, &args.release)?;
    if crate::cli::print_structured(args.output, &report)? {
        return Ok(exit::OK);
    }
    let mut out = std::io::stdout().lock();
    let r = &report.release;
    let live = if report.live.observed {
        serde_json::to_value(report.live.overall)?
            .as_str()
            .unwrap_or("?")
            .to_string()
    } else {
        format!("not observed ({} keeps no live state)", target.describe())
    };
    writeln!(out, "NAME:        {}", r.name)?;
    writeln!(out, "SERVICE MAP: {}", r.service_map)?;
    writeln!(
        out,
        "PACKAGE:     {}-{} (app {})",
        r.package,
        r.version,
        if r.app_version.is_empty() {
            "-"
        } else {
            &r.app_version
        }
    )?;
    writeln!(
        out,
        "REVISION:    {} ({}, {})",
        r.revision, r.status, r.updated
    )?;
    if !report.description.is_empty() {
        writeln!(out, "DESCRIPTION: {}", report.description)?;
    }
    writeln!(out, "LIVE STATE:  {live}")?;
    for (group, objects) in crate::status::group_by_workload_group(&report.live.objects) {
        writeln!(out, "\nWORKLOAD GROUP {group}")?;
        let mut table = Table::new(&["OBJECT", "STATE", "SUMMARY"]).indent(2);
        for s in objects {
            let state = serde_json::to_value(s.state)?;
            table.row([
                crate::ops::wait::short(&s.id),
                state.as_str().unwrap_or("?").to_string(),
                s.summary.clone(),
            ]);
        }
        table.write(&mut out)?;
    }
    if args.notes
        && let Some(n) = &report.notes
    {
        writeln!(out, "\nNOTES:\n{}", n.trim_end())?;
    }
    Ok(exit::OK)
}
