//! `upgrade --auto` and `outdated`.

use std::io::Write;

use clap::Args;

use super::deploy::UpgradeArgs;
use super::settings::{TargetArgs, holder};
use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, exit};
use crate::ops::OpError;
use crate::ops::auto::{self, AutoAction, AutoOptions, AutoReport};
use crate::repo::RepoClient;

/// `upgrade --auto`: exit 0 (fine or nothing to do), 1 (an error), 3 (some rolled back).
pub fn run(args: &UpgradeArgs, printer: &Printer) -> anyhow::Result<u8> {
    let c = &args.common;
    if !c.values.sources().is_empty() || !c.policy.update()?.is_empty() {
        return Err(OpError::Invalid(
            "upgrade --auto uses each release's stored values and policy; set them with `upgrade RELEASE PKG` or `policy set RELEASE`".into(),
        )
        .into());
    }
    let (target, service_maps) = c.target.open_many()?;
    let service_maps = if args.all_service_maps {
        Vec::new()
    } else {
        service_maps
    };
    let mut report = auto::run(
        target.as_ref(),
        &AutoOptions {
            service_maps,
            dry_run: c.dry_run,
            max_parallel: args.max_parallel,
            timeout: c.apply.timeout,
            holder: holder(),
            now: crate::time::now(),
        },
        RepoClient::from_env(),
        &|row| {
            let verb = match row.action {
                AutoAction::Upgraded => "Upgraded",
                AutoAction::RolledBack => "Rolled back",
                AutoAction::Failed => "Failed",
                AutoAction::Skipped | AutoAction::WouldUpgrade => "Skipped",
            };
            printer.status(
                verb,
                &format!(
                    "{}/{} {}: {}",
                    row.service_map, row.release, row.package, row.reason
                ),
            );
            for d in &row.drift {
                printer.warning(&format!("{}/{} drifted: {d}", row.service_map, row.release));
            }
        },
    )?;
    if let Some(url) = &args.notify_url {
        report.notification = Some(match auto::notify(url, &report) {
            Ok(()) => "sent".into(),
            Err(e) => {
                printer.warning(&format!("failed to notify {url}: {e}"));
                format!("failed: {e}")
            }
        });
    }
    show_report(&report, args.output, printer)?;
    Ok(if report.failed > 0 {
        exit::FAILURE
    } else if report.rolled_back > 0 {
        exit::ROLLED_BACK
    } else {
        exit::OK
    })
}

fn show_report(report: &AutoReport, output: OutputFormat, printer: &Printer) -> anyhow::Result<()> {
    if crate::cli::print_structured(output, report)? {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<20} {:<16} {:<16} {:<10} {:<10} {:<14} REASON",
        "RELEASE", "SERVICE MAP", "PACKAGE", "FROM", "TO", "ACTION"
    )?;
    for r in &report.releases {
        let action = serde_json::to_value(r.action)?
            .as_str()
            .unwrap_or("?")
            .to_string();
        writeln!(
            out,
            "{:<20} {:<16} {:<16} {:<10} {:<10} {:<14} {}",
            r.release,
            r.service_map,
            r.package,
            r.from,
            r.to.as_deref().unwrap_or("-"),
            action,
            if r.action == AutoAction::Skipped {
                format!("{}: {}", r.code, r.reason)
            } else {
                r.reason.clone()
            }
        )?;
        for d in &r.drift {
            writeln!(out, "{:<20} drift: {d}", "")?;
        }
    }
    let verb = if report.dry_run { "Planned" } else { "Done" };
    printer.status(
        verb,
        &format!(
            "{} {}, {} rolled back, {} skipped, {} failed",
            report.upgraded,
            if report.dry_run {
                "would upgrade"
            } else {
                "upgraded"
            },
            report.rolled_back,
            report.skipped,
            report.failed
        ),
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct OutdatedArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Every service map (default: those given with -n, else all).
    #[arg(short = 'A', long)]
    pub all_service_maps: bool,
    /// Output format: a table, or the rows as JSON or YAML.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn outdated(args: OutdatedArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let (target, service_maps) = args.target.open_many()?;
    let service_maps = if args.all_service_maps {
        Vec::new()
    } else {
        service_maps
    };
    let rows = auto::outdated(
        target.as_ref(),
        &service_maps,
        RepoClient::from_env(),
        crate::time::now(),
    )?;
    if crate::cli::print_structured(args.output, &rows)? {
        return Ok(exit::OK);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<20} {:<16} {:<16} {:<10} {:<10} {:<10} {:<10} {:<22} NOTE",
        "RELEASE",
        "SERVICE MAP",
        "PACKAGE",
        "VERSION",
        "POLICY",
        "ALLOWED",
        "NEWEST",
        "NEXT WINDOW"
    )?;
    for r in rows {
        writeln!(
            out,
            "{:<20} {:<16} {:<16} {:<10} {:<10} {:<10} {:<10} {:<22} {}",
            r.release,
            r.service_map,
            r.package,
            r.version,
            r.policy,
            r.allowed.as_deref().unwrap_or("-"),
            r.newest.as_deref().unwrap_or("-"),
            r.next_window.as_deref().unwrap_or("any time"),
            r.note
        )?;
    }
    Ok(exit::OK)
}
