//! `policy set|show`.

use std::io::Write;

use clap::{Args, Subcommand};

use super::settings::{Opened, PolicyArgs, TargetArgs, holder};
use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, exit};
use crate::model::ReleaseName;
use crate::ops::OpError;
use crate::ops::policy::{set_policy, show_policy};
use crate::policy::format_duration;

#[derive(Debug, Args)]
pub struct PolicyCmdArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Change a release's automatic-upgrade policy (no new revision: nothing is applied).
    Set {
        release: ReleaseName,
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Show a release's automatic-upgrade policy.
    Show {
        release: ReleaseName,
        #[command(flatten)]
        target: TargetArgs,
        /// Output format: a table, or the policy as JSON or YAML.
        #[arg(short, long, value_enum, default_value = "table")]
        output: OutputFormat,
    },
}

pub fn run(args: PolicyCmdArgs, printer: &Printer) -> anyhow::Result<u8> {
    match args.command {
        PolicyCommand::Set {
            release,
            policy,
            target,
        } => {
            let update = policy.update()?;
            if update.is_empty() {
                return Err(OpError::Invalid(
                    "nothing to change: pass --auto-upgrade, --upgrade-window, --allow-prerelease, --min-age or --soak".into(),
                )
                .into());
            }
            let Opened {
                target,
                service_map,
            } = target.open()?;
            let p = set_policy(
                target.as_ref(),
                &service_map,
                &release,
                &update,
                &holder(),
                crate::time::now(),
            )?;
            printer.status(
                "Updated",
                &format!("policy of {release}: {}", p.auto_upgrade),
            );
        }
        PolicyCommand::Show {
            release,
            target,
            output,
        } => {
            let Opened {
                target,
                service_map,
            } = target.open()?;
            let (record, p) = show_policy(target.as_ref(), &service_map, &release)?;
            if crate::cli::print_structured(output, &p)? {
                return Ok(exit::OK);
            }
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "RELEASE:          {release} ({} {})",
                record.package.name, record.package.version
            )?;
            writeln!(
                out,
                "FROM:             {}",
                record.package.repository.as_deref().map_or_else(
                    || format!("{} (not a repository)", record.package.source),
                    |r| format!("repository {r}")
                )
            )?;
            writeln!(out, "AUTO-UPGRADE:     {}", p.auto_upgrade)?;
            let windows: Vec<String> = p.windows.iter().map(ToString::to_string).collect();
            writeln!(
                out,
                "WINDOWS:          {}",
                if windows.is_empty() {
                    "any time".into()
                } else {
                    windows.join("; ")
                }
            )?;
            writeln!(
                out,
                "PRE-RELEASES:     {}",
                if p.allow_prerelease { "allowed" } else { "no" }
            )?;
            writeln!(out, "MIN AGE:          {}", format_duration(p.min_age_secs))?;
            writeln!(out, "SOAK:             {}", format_duration(p.soak_secs))?;
            writeln!(out, "ON DRIFT:         {}", p.on_drift.as_str())?;
            if !record.failed_versions.is_empty() {
                let v: Vec<String> = record
                    .failed_versions
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                writeln!(
                    out,
                    "NOT RETRIED:      {} (failed and rolled back)",
                    v.join(", ")
                )?;
            }
        }
    }
    Ok(exit::OK)
}
