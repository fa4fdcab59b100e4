//! `diff upgrade` and `diff rollback`: what an upgrade or rollback would change, as a table and
//! a unified diff per object; Secret values are shown as short hashes. Exit 0 when nothing
//! would change, 2 when something would.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::settings::{Opened, TargetArgs, holder};
use crate::cli::printer::Printer;
use crate::cli::{ValuesArgs, exit};
use crate::model::{Digest, ReleaseName};
use crate::ops::Generation;
use crate::ops::commit::DeployOutcome;
use crate::ops::deploy::{DeployMode, DeployOptions, deploy};
use crate::ops::rollback::{RollbackOptions, rollback};
use crate::plan::Action;

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(subcommand)]
    pub command: DiffCommand,
}

#[derive(Debug, Subcommand)]
pub enum DiffCommand {
    /// What `upgrade RELEASE PKG` would change.
    Upgrade {
        release: ReleaseName,
        #[arg(value_name = "PKG")]
        package: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        values: ValuesArgs,
        /// Start from the previous revision's values.
        #[arg(long)]
        reuse_values: bool,
    },
    /// What `rollback RELEASE [REVISION]` would change.
    Rollback {
        release: ReleaseName,
        revision: Option<u64>,
        #[command(flatten)]
        target: TargetArgs,
    },
}

/// Replaces Secret values by a short hash, so a diff shows that a secret changed, not its value.
fn mask(obj: &Value) -> Value {
    let mut o = obj.clone();
    if o.get("kind").and_then(Value::as_str) == Some("Secret") {
        for field in ["data", "stringData"] {
            if let Some(Value::Object(m)) = o.get_mut(field) {
                for v in m.values_mut() {
                    let text = v.as_str().unwrap_or_default().to_string();
                    *v = Value::String(format!(
                        "(hidden, {})",
                        &Digest::of(text.as_bytes()).hex()[..12]
                    ));
                }
            }
        }
    }
    o
}

fn yaml_of(v: &Option<Value>) -> anyhow::Result<String> {
    Ok(match v {
        Some(o) => crate::yaml::to_string(&mask(o))?,
        None => String::new(),
    })
}

fn print(out: &DeployOutcome, secrets: &[String]) -> anyhow::Result<u8> {
    let mut w = std::io::stdout().lock();
    let changed: Vec<_> = out
        .plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .collect();
    for c in &changed {
        writeln!(
            w,
            "{:<10} {}",
            serde_json::to_value(c.action)?.as_str().unwrap_or("?"),
            c.id
        )?;
    }
    for c in &changed {
        let (before, after) = (
            crate::values::redact(&yaml_of(&c.before)?, secrets),
            crate::values::redact(&yaml_of(&c.after)?, secrets),
        );
        let diff = similar::TextDiff::from_lines(&before, &after);
        writeln!(w)?;
        write!(
            w,
            "{}",
            diff.unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", c.id), &format!("b/{}", c.id))
        )?;
    }
    if !out.drift.is_empty() {
        writeln!(
            w,
            "\nDrift (changed outside cocktail-pkg; `upgrade --correct-drift` restores the release's values):"
        )?;
        for d in &out.drift {
            for line in d.describe() {
                let line = crate::values::redact(&line, secrets);
                writeln!(w, "  {}/{} {line}", d.id.kind, d.id.name)?;
            }
        }
        let touched: Vec<String> = out
            .drift
            .iter()
            .filter(|d| changed.iter().any(|c| c.id == d.id))
            .map(|d| format!("{}/{}", d.id.kind, d.id.name))
            .collect();
        if !touched.is_empty() {
            writeln!(
                w,
                "  the upgrade changes {} too: without --correct-drift (or --force-conflicts) it stops at the conflict",
                touched.join(", ")
            )?;
        }
    }
    Ok(if changed.is_empty() && out.drift.is_empty() {
        exit::OK
    } else {
        exit::CHANGES
    })
}

/// The secret values of the release's current revision (none before its first install).
fn current_secrets(opened: &Opened, rel: &ReleaseName) -> anyhow::Result<Vec<String>> {
    let records = opened.target.records(&opened.service_map, rel)?;
    Ok(crate::release::current(&records)
        .map(|r| crate::values::secret_values(&r.values, &r.secret_paths))
        .unwrap_or_default())
}

pub fn run(args: DiffArgs, printer: &Printer) -> anyhow::Result<u8> {
    let now = crate::time::now();
    let before_secrets: Vec<String>;
    let out = match args.command {
        DiffCommand::Upgrade {
            release: rel,
            package,
            target,
            values,
            reuse_values,
        } => {
            let opened = target.open()?;
            before_secrets = current_secrets(&opened, &rel)?;
            deploy(
                opened.target.as_ref(),
                &DeployOptions {
                    release: rel,
                    service_map: opened.service_map.clone(),
                    package,
                    values: values.sources(),
                    mode: DeployMode::Upgrade {
                        install_if_missing: true,
                        reuse_values,
                    },
                    dry_run: true,
                    history_max: usize::MAX,
                    holder: holder(),
                    now,
                    generation: Generation::Placeholder,
                    apply: Default::default(),
                    create_service_map: false,
                    policy: Default::default(),
                    expect_revision: None,
                    force: false,
                    force_crd_changes: false,
                    correct_drift: false,
                },
            )?
        }
        DiffCommand::Rollback {
            release: rel,
            revision,
            target,
        } => {
            let opened = target.open()?;
            before_secrets = current_secrets(&opened, &rel)?;
            rollback(
                opened.target.as_ref(),
                &RollbackOptions {
                    release: rel,
                    service_map: opened.service_map.clone(),
                    to: revision,
                    dry_run: true,
                    history_max: usize::MAX,
                    holder: holder(),
                    now,
                    apply: Default::default(),
                },
            )?
        }
    };
    let mut secrets = before_secrets;
    secrets.extend(crate::values::secret_values(
        &out.record.values,
        &out.record.secret_paths,
    ));
    let code = print(&out, &secrets)?;
    let counts: Vec<String> = out
        .plan
        .counts()
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    printer.status("Diff", &counts.join(", "));
    Ok(code)
}
