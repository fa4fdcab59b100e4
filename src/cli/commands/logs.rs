//! `logs`.

use std::io::Write;
use std::time::Duration;

use clap::Args;

use super::settings::{Opened, TargetArgs};
use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::model::ReleaseName;
use crate::ops::OpError;
use crate::ops::logs::{LogEvent, LogsOptions, logs};

#[derive(Debug, Args)]
pub struct LogsArgs {
    pub release: ReleaseName,
    /// A workload as `status` names it (`web`, `Deployment/web`), optionally with a container
    /// (`web/nginx`, `Deployment/web/nginx`); default: every workload of the release.
    #[arg(value_name = "WORKLOAD[/CONTAINER]")]
    pub workload: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Keep following: new lines, restarted containers and the new pods of a rollout, until
    /// Ctrl-C.
    #[arg(short, long)]
    pub follow: bool,
    /// Only lines newer than this (e.g. 10m, 1h).
    #[arg(long, value_name = "DURATION", value_parser = crate::time::parse_duration)]
    pub since: Option<Duration>,
    /// Only the last N lines of each container.
    #[arg(long, value_name = "N")]
    pub tail: Option<u32>,
    /// The log of the previous (terminated) instance of each container: why it crashed.
    #[arg(short, long, conflicts_with = "follow")]
    pub previous: bool,
    /// Every container of each pod (init containers that started included), not only the
    /// default one.
    #[arg(long)]
    pub all_containers: bool,
    /// Start each line with the time the container wrote it (RFC 3339).
    #[arg(long)]
    pub timestamps: bool,
}

/// ANSI colours for the `[pod/container]` prefixes.
const COLOURS: [&str; 6] = [
    "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m", "\x1b[31m",
];
const RESET: &str = "\x1b[0m";

/// The colour of a prefix: the same for the same pod and container in every run (FNV-1a).
fn colour(prefix: &str) -> &'static str {
    let hash = prefix.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    COLOURS[(hash % COLOURS.len() as u64) as usize]
}

/// How often `logs -f` reads the pod list: every 2 s, or `COCKTAIL_PKG_POLL_INTERVAL_MS`.
fn poll_interval() -> Duration {
    std::env::var(crate::env::POLL_INTERVAL_MS)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .map_or(Duration::from_secs(2), |d| {
            d.max(crate::ops::wait::MIN_POLL_INTERVAL)
        })
}

pub fn run(args: LogsArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let opts = LogsOptions {
        release: args.release,
        service_map,
        workload: args.workload,
        follow: args.follow,
        since: args.since,
        tail: args.tail.map(i64::from),
        previous: args.previous,
        all_containers: args.all_containers,
        timestamps: args.timestamps,
        poll_interval: poll_interval(),
    };
    let colour_on = printer.stdout_color();
    let stdout = std::io::stdout();
    let write_error = |source| OpError::Write {
        path: "stdout".into(),
        source,
    };
    logs(target.as_ref(), &opts, &mut |event| {
        match event {
            LogEvent::Line {
                pod,
                container,
                text,
            } => {
                let prefix = format!("{pod}/{container}");
                let mut out = stdout.lock();
                if colour_on {
                    write!(out, "{}[{prefix}]{RESET} ", colour(&prefix))
                } else {
                    write!(out, "[{prefix}] ")
                }
                .and_then(|()| out.write_all(text))
                .and_then(|()| out.write_all(b"\n"))
                .map_err(write_error)?;
            }
            LogEvent::Note(message) => printer.text(&message),
            LogEvent::Warning(message) => printer.warning(&message),
        }
        Ok(())
    })?;
    stdout.lock().flush()?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_prefix_keeps_its_colour() {
        assert_eq!(super::colour("web-1/web"), super::colour("web-1/web"));
        let distinct: std::collections::BTreeSet<&str> = ["a/x", "b/x", "c/x", "d/x", "e/x", "f/x"]
            .iter()
            .map(|p| super::colour(p))
            .collect();
        assert!(distinct.len() > 1);
    }
}
