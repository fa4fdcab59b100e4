//! `install` and `upgrade` (`upgrade --auto` is [`super::auto`]).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::settings::{DeployArgs, Opened, WaitDisplay, holder};
use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, exit};
use crate::model::ReleaseName;
use crate::ops::commit::DeployOutcome;
use crate::ops::deploy::{DeployMode, DeployOptions, deploy_with};
use crate::ops::{Generation, OpError};

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Release name (DNS-1123 label).
    pub release: ReleaseName,
    /// Package directory, archive, or REPO/NAME[@VERSION-REQ].
    #[arg(value_name = "PKG")]
    pub package: PathBuf,
    #[command(flatten)]
    pub common: DeployArgs,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Release name (not with --auto).
    #[arg(required_unless_present = "auto")]
    pub release: Option<ReleaseName>,
    /// Package directory, archive, or REPO/NAME[@VERSION-REQ] (not with --auto).
    #[arg(value_name = "PKG", required_unless_present = "auto")]
    pub package: Option<PathBuf>,
    #[command(flatten)]
    pub common: DeployArgs,
    /// Install the release if it does not exist.
    #[arg(long)]
    pub install: bool,
    /// Start from the previous revision's values, then apply -f/--set. For a chart, onto the
    /// new chart's defaults: what Helm's --reset-then-reuse-values does (Helm's --reuse-values
    /// would keep the old chart's defaults too, hiding the new version's).
    #[arg(
        long,
        conflicts_with = "reset_values",
        visible_alias = "reset-then-reuse-values"
    )]
    pub reuse_values: bool,
    /// Start from the package defaults (the default).
    #[arg(long)]
    pub reset_values: bool,
    /// Record a new revision even when nothing changed (same objects, values, package and
    /// policy); by default such an upgrade makes no revision.
    #[arg(long, conflicts_with = "auto")]
    pub force: bool,
    /// Restore fields of the release's objects that another field manager changed (`kubectl
    /// edit`, an operator): those objects are applied again and their fields taken back, even
    /// when nothing else changed. `--force-conflicts` does the same. `diff upgrade` shows the
    /// drift first.
    #[arg(long, conflicts_with = "auto")]
    pub correct_drift: bool,
    /// The cron entry point: upgrade every release whose policy allows a newer version now,
    /// with its stored values, waiting, soaking, rolling back on failure. Exit 3 when some
    /// were rolled back.
    #[arg(long, conflicts_with_all = ["release", "package", "install", "reuse_values", "reset_values"])]
    pub auto: bool,
    /// With --auto: every service map (default: those given with -n, else all).
    #[arg(short = 'A', long, requires = "auto")]
    pub all_service_maps: bool,
    /// With --auto: releases upgraded at once.
    #[arg(long, default_value_t = 4, requires = "auto")]
    pub max_parallel: usize,
    /// With --auto: post the run's report as JSON to this webhook (retried; a failure is
    /// reported but does not fail the run).
    #[arg(long, value_name = "URL", requires = "auto")]
    pub notify_url: Option<String>,
    /// With --auto: the report's format.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

fn deploy(
    release: &ReleaseName,
    package: &std::path::Path,
    args: &DeployArgs,
    mode: DeployMode,
    force: bool,
    correct_drift: bool,
    printer: &Printer,
) -> anyhow::Result<u8> {
    let policy = args.policy.update()?;
    let package = &args.verify.check(&args.package_ref(package)?, printer)?.0;
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let mut display = WaitDisplay::new(printer);
    let out = deploy_with(
        target.as_ref(),
        &DeployOptions {
            release: release.clone(),
            service_map,
            package: package.to_path_buf(),
            values: args.values.sources(),
            mode,
            dry_run: args.dry_run,
            history_max: args.history_max,
            holder: holder(),
            now: crate::time::now(),
            generation: Generation::Random,
            apply: args.apply.settings(),
            create_service_map: args.create_service_map,
            policy,
            expect_revision: None,
            force,
            force_crd_changes: args.force_crd_changes,
            correct_drift,
        },
        &mut |obs| display.show(obs),
    );
    display.finish();
    report(&out?, printer, &target.describe())
}

pub(crate) fn report(out: &DeployOutcome, printer: &Printer, target: &str) -> anyhow::Result<u8> {
    let mut stdout = std::io::stdout().lock();
    for c in &out.plan.changes {
        let action = serde_json::to_value(c.action)?
            .as_str()
            .unwrap_or("?")
            .to_string();
        if action != "unchanged" {
            writeln!(stdout, "{action:<10} {}", c.id)?;
        }
    }
    let counts: Vec<String> = out
        .plan
        .counts()
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    let r = &out.record;
    if out.up_to_date {
        printer.text(&format!(
            "release `{}` is up to date (revision {}, nothing changed)",
            r.name, r.revision
        ));
        return Ok(exit::OK);
    }
    if out.dry_run {
        printer.status(
            "Planned",
            &format!(
                "{} revision {} in {target} ({}); nothing applied",
                r.name,
                r.revision,
                counts.join(", ")
            ),
        );
    } else {
        // The hooks this revision ran (a rollback's record keeps older runs of other hooks).
        for h in &r.hooks {
            if let Some(run) = h.last_run.as_ref().filter(|run| run.started >= r.created) {
                printer.status(
                    "Hook",
                    &format!("{} {}/{}: {}", run.event, h.id.kind, h.id.name, run.phase),
                );
            }
        }
        printer.status(
            "Deployed",
            &format!(
                "{} revision {} ({} {}) to service map {} in {target} ({})",
                r.name,
                r.revision,
                r.package.name,
                r.package.version,
                r.service_map,
                counts.join(", ")
            ),
        );
        if let Some(notes) = &r.notes {
            printer.text(notes.trim_end());
        }
    }
    Ok(exit::OK)
}

pub fn install(args: InstallArgs, printer: &Printer) -> anyhow::Result<u8> {
    deploy(
        &args.release,
        &args.package,
        &args.common,
        DeployMode::Install,
        false,
        false,
        printer,
    )
}

/// `upgrade RELEASE PKG`; `cli::run` sends `upgrade --auto` to [`super::auto::run`].
pub fn upgrade(args: UpgradeArgs, printer: &Printer) -> anyhow::Result<u8> {
    let (Some(release), Some(package)) = (&args.release, &args.package) else {
        return Err(OpError::Invalid("upgrade needs RELEASE and PKG (or --auto)".into()).into());
    };
    let mode = DeployMode::Upgrade {
        install_if_missing: args.install,
        reuse_values: args.reuse_values,
    };
    deploy(
        release,
        package,
        &args.common,
        mode,
        args.force,
        args.correct_drift,
        printer,
    )
}
