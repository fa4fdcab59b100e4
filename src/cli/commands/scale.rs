//! `scale`.

use clap::Args;

use super::deploy::report;
use super::settings::{ApplyArgs, Opened, TargetArgs, WaitDisplay, holder};
use crate::cli::printer::Printer;
use crate::model::ReleaseName;
use crate::ops::OpError;
use crate::ops::scale::{ScaleOptions, scale};

#[derive(Debug, Args)]
pub struct ScaleArgs {
    pub release: ReleaseName,
    /// `WORKLOAD=REPLICAS` (WORKLOAD is NAME or KIND/NAME, a Deployment or StatefulSet), one or
    /// more; just `WORKLOAD` with --hpa-min/--hpa-max.
    #[arg(value_name = "WORKLOAD=REPLICAS", required = true)]
    pub assignments: Vec<String>,
    /// The lowest replica count of the HorizontalPodAutoscaler that owns the workload's
    /// replicas (a workload an HPA scales is otherwise refused).
    #[arg(long, value_name = "N")]
    pub hpa_min: Option<i64>,
    /// The highest replica count of the workload's HorizontalPodAutoscaler.
    #[arg(long, value_name = "N")]
    pub hpa_max: Option<i64>,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub apply: ApplyArgs,
    /// Show what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, default_value_t = 10)]
    pub history_max: usize,
}

fn parse(text: &str) -> Result<(String, Option<i64>), OpError> {
    match text.rsplit_once('=') {
        None if !text.is_empty() => Ok((text.to_string(), None)),
        Some((w, n)) if !w.is_empty() => n
            .trim()
            .parse::<i64>()
            .map(|n| (w.to_string(), Some(n)))
            .map_err(|_| {
                OpError::Invalid(format!(
                    "`{text}`: replicas must be a whole number (WORKLOAD=REPLICAS, e.g. web=3)"
                ))
            }),
        _ => Err(OpError::Invalid(format!(
            "`{text}` is not WORKLOAD=REPLICAS (e.g. web=3 or statefulset/db=2)"
        ))),
    }
}

pub fn run(args: ScaleArgs, printer: &Printer) -> anyhow::Result<u8> {
    let workloads = args
        .assignments
        .iter()
        .map(|a| parse(a))
        .collect::<Result<Vec<_>, _>>()?;
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let mut display = WaitDisplay::new(printer);
    let out = scale(
        target.as_ref(),
        &ScaleOptions {
            release: args.release.clone(),
            service_map,
            workloads,
            hpa_min: args.hpa_min,
            hpa_max: args.hpa_max,
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
