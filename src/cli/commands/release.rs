//! `install`, `upgrade`, `uninstall`, `list`, `history`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, ValuesArgs, exit};
use crate::model::{ReleaseName, ServiceMapName};
use crate::ops::release::{self, DeployMode, DeployOptions, DeployOutcome, UninstallOptions};
use crate::ops::{Generation, OpError};
use crate::target::Target;
use crate::target::dir::DirTarget;

/// Where releases live, shared by the release commands.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Where releases live: `dir:PATH` (a local GitOps folder). Also COCKTAIL_PKG_TARGET.
    #[arg(
        long,
        value_name = "TARGET",
        env = "COCKTAIL_PKG_TARGET",
        hide_env_values = true
    )]
    pub target: Option<String>,
    /// Service map (namespace) of the release.
    #[arg(
        short = 'n',
        long,
        value_name = "NAME",
        env = "COCKTAIL_PKG_SERVICE_MAP",
        hide_env_values = true,
        default_value = "default"
    )]
    pub service_map: ServiceMapName,
}

impl TargetArgs {
    pub fn open(&self) -> Result<Box<dyn Target>, OpError> {
        match self.target.as_deref() {
            Some(t) if t.starts_with("dir:") => Ok(Box::new(DirTarget::new(PathBuf::from(&t[4..])))),
            Some("kube") | Some("kubernetes") => Err(OpError::Invalid(
                "the kube target is not available yet in this version; use --target dir:PATH".into(),
            )),
            Some(other) => Err(OpError::Invalid(format!(
                "unknown target `{other}`: use `dir:PATH` (a local folder in a GitOps layout)"
            ))),
            None => Err(OpError::Invalid(
                "no target: pass --target dir:PATH or set COCKTAIL_PKG_TARGET (nothing is written until you choose)".into(),
            )),
        }
    }
}

fn holder() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "someone".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Release name (DNS-1123 label).
    pub release: ReleaseName,
    /// Package directory, archive, or REPO/NAME[@VERSION-REQ].
    #[arg(value_name = "PKG")]
    pub package: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Show what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Revisions kept in history.
    #[arg(long, default_value_t = 10)]
    pub history_max: usize,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub common: InstallArgs,
    /// Install the release if it does not exist.
    #[arg(long)]
    pub install: bool,
    /// Start from the previous revision's values, then apply -f/--set.
    #[arg(long, conflicts_with = "reset_values")]
    pub reuse_values: bool,
    /// Start from the package defaults (the default).
    #[arg(long)]
    pub reset_values: bool,
}

fn deploy(args: &InstallArgs, mode: DeployMode, printer: &Printer) -> anyhow::Result<u8> {
    let target = args.target.open()?;
    let out = release::deploy(
        target.as_ref(),
        &DeployOptions {
            release: args.release.clone(),
            service_map: args.target.service_map.clone(),
            package: args.package.clone(),
            values: args.values.sources(),
            mode,
            dry_run: args.dry_run,
            history_max: args.history_max,
            holder: holder(),
            now: crate::time::now(),
            generation: Generation::Random,
        },
    )?;
    report(&out, printer, &target.describe())
}

fn report(out: &DeployOutcome, printer: &Printer, target: &str) -> anyhow::Result<u8> {
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
    deploy(&args, DeployMode::Install, printer)
}

pub fn upgrade(args: UpgradeArgs, printer: &Printer) -> anyhow::Result<u8> {
    let mode = DeployMode::Upgrade {
        install_if_missing: args.install,
        reuse_values: args.reuse_values,
    };
    deploy(&args.common, mode, printer)
}

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
}

pub fn uninstall(args: UninstallArgs, printer: &Printer) -> anyhow::Result<u8> {
    let target = args.target.open()?;
    let out = release::uninstall(
        target.as_ref(),
        &UninstallOptions {
            release: args.release.clone(),
            service_map: args.target.service_map.clone(),
            keep_history: args.keep_history,
            delete_volumes: args.delete_volumes,
            holder: holder(),
            now: crate::time::now(),
        },
    )?;
    for id in &out.kept {
        printer.warning(&format!("kept {id} (volumes survive uninstall unless --delete-volumes; objects annotated to keep stay)"));
    }
    printer.status(
        "Uninstalled",
        &format!("{} ({} objects deleted)", args.release, out.deleted.len()),
    );
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// List releases of every service map.
    #[arg(short = 'A', long)]
    pub all_service_maps: bool,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn list(args: ListArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let target = args.target.open()?;
    let filter = (!args.all_service_maps).then_some(&args.target.service_map);
    let rows = release::list(target.as_ref(), filter)?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?,
        OutputFormat::Yaml => write!(out, "{}", crate::yaml::to_string(&rows)?)?,
        OutputFormat::Table => {
            writeln!(
                out,
                "{:<20} {:<16} {:<9} {:<10} {:<28} UPDATED",
                "NAME", "SERVICE MAP", "REVISION", "STATUS", "PACKAGE"
            )?;
            for r in rows {
                writeln!(
                    out,
                    "{:<20} {:<16} {:<9} {:<10} {:<28} {}",
                    r.name,
                    r.service_map,
                    r.revision,
                    r.status,
                    format!("{}-{}", r.package, r.version),
                    r.updated
                )?;
            }
        }
    }
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub release: ReleaseName,
    #[command(flatten)]
    pub target: TargetArgs,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn history(args: HistoryArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let target = args.target.open()?;
    let rows = release::history(target.as_ref(), &args.target.service_map, &args.release)?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json | OutputFormat::Yaml => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|(r, d)| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    v["description"] = d.clone().into();
                    v
                })
                .collect();
            if args.output == OutputFormat::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                write!(out, "{}", crate::yaml::to_string(&v)?)?;
            }
        }
        OutputFormat::Table => {
            writeln!(
                out,
                "{:<9} {:<22} {:<12} {:<28} DESCRIPTION",
                "REVISION", "UPDATED", "STATUS", "PACKAGE"
            )?;
            for (r, d) in rows {
                writeln!(
                    out,
                    "{:<9} {:<22} {:<12} {:<28} {d}",
                    r.revision,
                    r.updated,
                    r.status,
                    format!("{}-{}", r.package, r.version)
                )?;
            }
        }
    }
    Ok(exit::OK)
}

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
}

pub fn rollback(args: RollbackArgs, printer: &Printer) -> anyhow::Result<u8> {
    let target = args.target.open()?;
    let out = release::rollback(
        target.as_ref(),
        &release::RollbackOptions {
            release: args.release.clone(),
            service_map: args.target.service_map.clone(),
            to: args.revision,
            dry_run: args.dry_run,
            history_max: args.history_max,
            holder: holder(),
            now: crate::time::now(),
        },
    )?;
    report(&out, printer, &target.describe())
}

/// What `get` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GetWhat {
    /// The values the user supplied (secrets masked).
    Values,
    /// The rendered objects.
    Manifest,
    /// The rendered NOTES.txt.
    Notes,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    #[arg(value_enum)]
    pub what: GetWhat,
    pub release: ReleaseName,
    /// A revision (default: the current one).
    #[arg(long)]
    pub revision: Option<u64>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Show values the package marks secret instead of `*****`.
    #[arg(long)]
    pub show_secrets: bool,
    /// Output format (values only).
    #[arg(short, long, value_enum, default_value = "yaml")]
    pub output: OutputFormat,
}

pub fn get(args: GetArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let target = args.target.open()?;
    let record = release::revision(
        target.as_ref(),
        &args.target.service_map,
        &args.release,
        args.revision,
    )?;
    let mut out = std::io::stdout().lock();
    match args.what {
        GetWhat::Values => {
            let v = serde_json::Value::Object(release::values_of(&record, args.show_secrets));
            match args.output {
                OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?,
                _ => write!(out, "{}", crate::yaml::to_string(&v)?)?,
            }
        }
        GetWhat::Manifest => write!(out, "{}", record.manifest)?,
        GetWhat::Notes => writeln!(out, "{}", record.notes.as_deref().unwrap_or("").trim_end())?,
    }
    Ok(exit::OK)
}
