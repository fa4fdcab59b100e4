//! `rollback`.

use clap::Args;

use super::deploy::report;
use super::settings::{ApplyArgs, Opened, TargetArgs, WaitDisplay, holder};
use crate::cli::printer::Printer;
use crate::model::ReleaseName;
use crate::ops::rollback::{RollbackOptions, rollback_with};

#[derive(Debug, Args)]
pub struct RollbackArgs {
    pub release: ReleaseName,
    /// The revision to return to (default: the one before the current).
    pub revision: Option<u64>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Show what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, default_value_t = 10)]
    pub history_max: usize,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

pub fn run(args: RollbackArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let mut display = WaitDisplay::new(printer);
    let out = rollback_with(
        target.as_ref(),
        &RollbackOptions {
            release: args.release.clone(),
            service_map,
            to: args.revision,
            dry_run: args.dry_run,
            history_max: args.history_max,
            holder: holder(),
            now: crate::time::now(),
            apply: args.apply.settings(),
        },
        &mut |obs| display.show(obs),
    );
    display.finish();
    report(&out?, printer, &target.describe())
}
