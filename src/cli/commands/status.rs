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
    /// For each object that is not ready, print the full cause: pod by pod, container
    /// states, the last log lines, recent warning events.
    #[arg(long)]
    pub explain: bool,
}

/// `status --explain`: for each object that is not ready, its cause and evidence.
fn explain(out: &mut impl Write, objects: &[crate::status::ObjectStatus]) -> anyhow::Result<()> {
    let unready: Vec<_> = objects
        .iter()
        .filter(|s| s.why.is_some() || s.explanation.is_some())
        .collect();
    if unready.is_empty() {
        writeln!(out, "\nEXPLAIN: every object is ready")?;
        return Ok(());
    }
    for s in unready {
        writeln!(
            out,
            "\nEXPLAIN {} ({})",
            crate::ops::wait::short(&s.id),
            s.summary
        )?;
        if let Some(why) = &s.why {
            writeln!(out, "  why: {why}")?;
        }
        let Some(ex) = &s.explanation else { continue };
        for n in &ex.notes {
            writeln!(out, "  {n}")?;
        }
        for p in &ex.pods {
            let ready = if p.ready { "ready" } else { "not ready" };
            writeln!(out, "  pod {} ({}, {ready})", p.name, p.phase)?;
            for c in &p.conditions {
                writeln!(out, "    condition {c}")?;
            }
            for c in &p.containers {
                writeln!(
                    out,
                    "    container {}: {} (restarts {})",
                    c.name, c.state, c.restarts
                )?;
                if let Some(last) = &c.last_state {
                    writeln!(out, "      last state: {last}")?;
                }
                if !c.log.is_empty() {
                    writeln!(out, "      last log lines:")?;
                    for l in &c.log {
                        writeln!(out, "        {l}")?;
                    }
                }
            }
        }
        if !ex.events.is_empty() {
            writeln!(out, "  warning events (newest last):")?;
            for e in &ex.events {
                writeln!(
                    out,
                    "    {} {} (x{}, last seen {}): {}",
                    e.object, e.reason, e.count, e.last_seen, e.message
                )?;
            }
        }
    }
    Ok(())
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
        let mut table = Table::new(&["OBJECT", "STATE", "SUMMARY", "WHY"]).indent(2);
        for s in objects {
            let state = serde_json::to_value(s.state)?;
            // Drifted objects are marked; the fields are listed below the tables.
            let drifted = report.drift.iter().any(|d| d.id == s.id);
            table.row([
                crate::ops::wait::short(&s.id),
                format!(
                    "{}{}",
                    state.as_str().unwrap_or("?"),
                    if drifted { " (drift)" } else { "" }
                ),
                s.summary.clone(),
                s.why.clone().unwrap_or_default(),
            ]);
        }
        table.write(&mut out)?;
    }
    if !report.drift.is_empty() {
        writeln!(
            out,
            "\nDRIFT (changed outside cocktail-pkg; `diff upgrade` shows it, `upgrade --correct-drift` restores it):"
        )?;
        for d in &report.drift {
            for line in d.describe() {
                writeln!(out, "  {}/{} {line}", d.id.kind, d.id.name)?;
            }
        }
    }
    if args.explain {
        if report.live.observed {
            explain(&mut out, &report.live.objects)?;
        } else {
            writeln!(
                out,
                "\nEXPLAIN: cannot observe why: {} keeps no live state (a GitOps folder has no pods, events or logs); look at the cluster that syncs it",
                target.describe()
            )?;
        }
    }
    if args.notes
        && let Some(n) = &report.notes
    {
        writeln!(out, "\nNOTES:\n{}", n.trim_end())?;
    }
    Ok(exit::OK)
}
