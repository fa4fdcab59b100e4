//! `uninstall`.

use clap::Args;

use super::settings::{Opened, TargetArgs, holder};
use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::model::ReleaseName;
use crate::ops::uninstall::{UninstallOptions, uninstall};

#[derive(Debug, Args)]
pub struct UninstallArgs {
    pub release: ReleaseName,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Keep the release's history (its records) after removing its objects.
    #[arg(long)]
    pub keep_history: bool,
    /// Also delete PersistentVolumeClaims (kept by default).
    #[arg(long)]
    pub delete_volumes: bool,
    /// Do not run a chart's pre-delete and post-delete hooks.
    #[arg(long)]
    pub no_hooks: bool,
    /// How long each hook may run (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::time::parse_duration)]
    pub timeout: std::time::Duration,
}

pub fn run(args: UninstallArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let out = uninstall(
        target.as_ref(),
        &UninstallOptions {
            release: args.release.clone(),
            service_map,
            keep_history: args.keep_history,
            delete_volumes: args.delete_volumes,
            holder: holder(),
            now: crate::time::now(),
            no_hooks: args.no_hooks,
            hook_timeout: args.timeout,
        },
    )?;
    for id in &out.kept_crds {
        printer.warning(&format!(
            "kept {id} (CRDs are never deleted by uninstall: that would delete every custom resource of its kind; delete it yourself when nothing uses it)"
        ));
    }
    for id in &out.kept {
        printer.warning(&format!("kept {id} (volumes survive uninstall unless --delete-volumes; objects annotated to keep stay)"));
    }
    printer.status(
        "Uninstalled",
        &format!("{} ({} objects deleted)", args.release, out.deleted.len()),
    );
    Ok(exit::OK)
}
