//! `restart`.

use clap::Args;

use super::settings::{Opened, TargetArgs, WaitDisplay, holder};
use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::model::ReleaseName;
use crate::ops::restart::{RestartOptions, restart};
use crate::ops::wait::WaitOptions;

#[derive(Debug, Args)]
pub struct RestartArgs {
    pub release: ReleaseName,
    /// A workload (NAME or KIND/NAME); default: every Deployment, StatefulSet and DaemonSet.
    pub workload: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Wait until the restarted workloads are ready again.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::time::parse_duration)]
    pub timeout: std::time::Duration,
}

pub fn run(args: RestartArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let mut display = WaitDisplay::new(printer);
    let out = restart(
        target.as_ref(),
        &RestartOptions {
            release: args.release.clone(),
            service_map,
            workload: args.workload.clone(),
            holder: holder(),
            now: crate::time::now(),
            wait: args.wait.then(|| WaitOptions::new(args.timeout)),
        },
        &mut |obs| display.show(obs),
    );
    display.finish();
    let restarted = out?;
    let names: Vec<String> = restarted.iter().map(crate::ops::wait::short).collect();
    printer.status("Restarted", &names.join(", "));
    Ok(exit::OK)
}
