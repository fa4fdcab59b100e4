//! `events`.

use std::collections::BTreeMap;
use std::io::Write;

use clap::Args;

use super::settings::{Opened, TargetArgs};
use crate::cli::printer::Printer;
use crate::cli::table::Table;
use crate::cli::{OutputFormat, exit};
use crate::model::ReleaseName;
use crate::status::EventLine;

#[derive(Debug, Args)]
pub struct EventsArgs {
    pub release: ReleaseName,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format: a table (LAST SEEN, TYPE, REASON, OBJECT, COUNT, MESSAGE), or the
    /// report as JSON or YAML (with --watch: one JSON or YAML document per new or changed row).
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
    /// Keep polling (every 2 seconds, or `COCKTAIL_PKG_POLL_INTERVAL_MS`) and print only new
    /// or changed rows, until Ctrl-C.
    #[arg(short, long)]
    pub watch: bool,
}

pub fn run(args: EventsArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let report = crate::ops::events::events(target.as_ref(), &service_map, &args.release)?;
    if !args.watch {
        if crate::cli::print_structured(args.output, &report)? {
            return Ok(exit::OK);
        }
        let mut out = std::io::stdout().lock();
        if report.events.is_empty() {
            writeln!(
                out,
                "no events for release `{}` in service map {}",
                report.release, report.service_map
            )?;
            return Ok(exit::OK);
        }
        table(&report.events, crate::time::now()).write(&mut out)?;
        return Ok(exit::OK);
    }
    // --watch: rows keyed by object, type, reason and message; a row is printed again when its
    // count or last-seen time changes.
    let setting = std::env::var(crate::env::POLL_INTERVAL_MS).ok();
    let interval = match setting {
        Some(_) => crate::ops::wait::poll_interval(setting.as_deref()),
        None => std::time::Duration::from_secs(2),
    };
    let mut seen: BTreeMap<(String, String, String, String), (u64, String)> = BTreeMap::new();
    let mut header = true;
    let mut rows = report.events;
    loop {
        let fresh: Vec<EventLine> = rows
            .into_iter()
            .filter(|r| {
                let key = (
                    r.object.clone(),
                    r.kind.clone(),
                    r.reason.clone(),
                    r.message.clone(),
                );
                let now = (r.count, r.last_seen.clone());
                seen.insert(key, now.clone()) != Some(now)
            })
            .collect();
        if !fresh.is_empty() {
            let mut out = std::io::stdout().lock();
            match args.output {
                OutputFormat::Table => {
                    let mut lines = Vec::new();
                    table(&fresh, crate::time::now()).write(&mut lines)?;
                    let text = String::from_utf8_lossy(&lines);
                    let skip = usize::from(!header);
                    for line in text.lines().skip(skip) {
                        writeln!(out, "{line}")?;
                    }
                    header = false;
                }
                OutputFormat::Json => {
                    for r in &fresh {
                        writeln!(out, "{}", serde_json::to_string(r)?)?;
                    }
                }
                OutputFormat::Yaml => {
                    for r in &fresh {
                        write!(out, "---\n{}", crate::yaml::to_string(r)?)?;
                    }
                }
            }
            out.flush()?;
        }
        if crate::ops::interrupt::sleep(interval).is_err() {
            return Ok(exit::OK);
        }
        rows = crate::ops::events::events(target.as_ref(), &service_map, &args.release)?.events;
    }
}

/// The events table; LAST SEEN is an age (`5s`, `3m`), as kubectl shows it.
fn table(rows: &[EventLine], now: crate::time::UnixTime) -> Table {
    let mut table = Table::new(&["LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"]);
    for r in rows {
        table.row([
            crate::status::age(&r.last_seen, now),
            r.kind.clone(),
            r.reason.clone(),
            r.object.clone(),
            r.count.to_string(),
            r.message.clone(),
        ]);
    }
    table
}
