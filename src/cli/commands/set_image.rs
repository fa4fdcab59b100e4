//! `set-image`.

use clap::Args;

use super::deploy::report;
use super::settings::{ApplyArgs, Opened, TargetArgs, WaitDisplay, holder};
use crate::cli::printer::Printer;
use crate::model::ReleaseName;
use crate::ops::OpError;
use crate::ops::set_image::{SetImageOptions, set_image};

#[derive(Debug, Args)]
pub struct SetImageArgs {
    pub release: ReleaseName,
    /// `WORKLOAD[/CONTAINER]=IMAGE`; WORKLOAD is NAME or KIND/NAME (e.g. deployment/web).
    #[arg(value_name = "WORKLOAD[/CONTAINER]=IMAGE")]
    pub assignment: String,
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

/// Splits `WORKLOAD[/CONTAINER]=IMAGE` where WORKLOAD may itself be `KIND/NAME`.
fn split_assignment(text: &str) -> Result<(String, Option<String>, String), OpError> {
    let bad = || {
        OpError::Invalid(format!(
            "`{text}` is not WORKLOAD[/CONTAINER]=IMAGE (e.g. web=nginx:1.27 or deployment/web/nginx=nginx:1.27)"
        ))
    };
    let (lhs, image) = text.split_once('=').ok_or_else(bad)?;
    let parts: Vec<&str> = lhs.split('/').collect();
    let kinds = ["deployment", "statefulset", "daemonset", "job", "cronjob"];
    let (workload, container) = match parts.as_slice() {
        [w] => (w.to_string(), None),
        [k, w] if kinds.contains(&k.to_lowercase().as_str()) => (format!("{k}/{w}"), None),
        [w, c] => (w.to_string(), Some(c.to_string())),
        [k, w, c] => (format!("{k}/{w}"), Some(c.to_string())),
        _ => return Err(bad()),
    };
    if workload.is_empty() || image.is_empty() {
        return Err(bad());
    }
    Ok((workload, container, image.to_string()))
}

pub fn run(args: SetImageArgs, printer: &Printer) -> anyhow::Result<u8> {
    let (workload, container, image) = split_assignment(&args.assignment)?;
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let mut display = WaitDisplay::new(printer);
    let out = set_image(
        target.as_ref(),
        &SetImageOptions {
            release: args.release.clone(),
            service_map,
            workload,
            container,
            image,
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
