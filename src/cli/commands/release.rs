//! `install`, `upgrade`, `uninstall`, `list`, `history`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, ValuesArgs, exit};
use crate::model::{ReleaseName, ServiceMapName};
use crate::ops::auto::PolicyUpdate;
use crate::ops::release::{
    self, ApplySettings, DeployMode, DeployOptions, DeployOutcome, UninstallOptions,
};
use crate::ops::wait::{Observation, WaitOptions};
use crate::ops::{Generation, OpError};
use crate::policy::{Track, Window};
use crate::targets::Target;
use crate::targets::dir::DirTarget;
use crate::targets::kube::{self as kube_target, KubeOptions, KubeTarget};

/// Where releases live, shared by the release commands.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Where releases live: `kube` (the cluster of the kubeconfig; `kube:CONTEXT` for another
    /// context) or `dir:PATH` (a local folder in a GitOps layout). Default: `kube` when a
    /// kubeconfig or in-cluster service account exists. Also COCKTAIL_PKG_TARGET.
    #[arg(
        long,
        value_name = "TARGET",
        env = "COCKTAIL_PKG_TARGET",
        hide_env_values = true
    )]
    pub target: Option<String>,
    /// The kubeconfig context of the kube target (default: the current context).
    #[arg(
        long,
        value_name = "CONTEXT",
        env = "COCKTAIL_PKG_KUBE_CONTEXT",
        hide_env_values = true
    )]
    pub kube_context: Option<String>,
    /// A kubeconfig file (default: KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Service map (namespace) of the release. Default: COCKTAIL_PKG_SERVICE_MAP, then the
    /// kube context's namespace, then `default`.
    /// (`upgrade --auto` and `outdated` take several: `-n shop -n blog` or `-n shop,blog`.)
    #[arg(
        short = 'n',
        long,
        value_name = "NAME",
        env = "COCKTAIL_PKG_SERVICE_MAP",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub service_map: Vec<ServiceMapName>,
}

/// An opened target and the service map commands work in.
pub struct Opened {
    pub target: Box<dyn Target>,
    pub service_map: ServiceMapName,
}

impl TargetArgs {
    /// Opens the target for commands that work in one service map.
    pub fn open(&self) -> Result<Opened, OpError> {
        if self.service_map.len() > 1 {
            return Err(OpError::Invalid(format!(
                "this command works in one service map, and {} were given",
                self.service_map.len()
            )));
        }
        self.open_target()
    }

    /// Opens the target for commands that take several service maps (or all): the service
    /// maps named explicitly, possibly none.
    pub fn open_many(&self) -> Result<(Box<dyn Target>, Vec<ServiceMapName>), OpError> {
        let opened = self.open_target()?;
        Ok((opened.target, self.service_map.clone()))
    }

    fn open_target(&self) -> Result<Opened, OpError> {
        let kube = |context: Option<String>| -> Result<Opened, OpError> {
            let timeout = std::env::var(crate::env::KUBE_TIMEOUT)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .map(std::time::Duration::from_secs);
            let t = KubeTarget::connect(&KubeOptions {
                context: context.or_else(|| self.kube_context.clone()),
                kubeconfig: self.kubeconfig.clone(),
                timeout,
            })?;
            let service_map = match self.service_map.first() {
                Some(sm) => sm.clone(),
                None => ServiceMapName::new(t.default_namespace())
                    .map_err(|e| OpError::Invalid(format!("the kube context's namespace: {e}")))?,
            };
            Ok(Opened {
                target: Box::new(t),
                service_map,
            })
        };
        let default_map = || {
            self.service_map
                .first()
                .cloned()
                .unwrap_or_else(|| ServiceMapName::new("default").expect("valid name"))
        };
        match self.target.as_deref() {
            Some(t) if t.starts_with("dir:") && t.len() > 4 => Ok(Opened {
                target: Box::new(DirTarget::new(PathBuf::from(&t[4..]))),
                service_map: default_map(),
            }),
            Some("kube") | Some("kubernetes") => kube(None),
            Some(t) if t.starts_with("kube:") && t.len() > 5 => kube(Some(t[5..].to_string())),
            Some(other) => Err(OpError::Invalid(format!(
                "unknown target `{other}`: use `kube`, `kube:CONTEXT` or `dir:PATH`"
            ))),
            None if self.kube_context.is_some()
                || self.kubeconfig.is_some()
                || kube_target::kubeconfig_available() =>
            {
                kube(None)
            }
            None => Err(OpError::Invalid(
                "no target: no kubeconfig found (KUBECONFIG, ~/.kube/config, in-cluster); pass --target kube with a kubeconfig, or --target dir:PATH for a local GitOps folder, or set COCKTAIL_PKG_TARGET (nothing is written until you choose)".into(),
            )),
        }
    }
}

/// Who holds a release's lease: `user@host` and the process, unique per running command.
pub fn holder() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "someone".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}/{}", std::process::id())
}

/// Parses a duration: `90`, `90s`, `5m`, `1h30m`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("invalid duration `{text}`: use e.g. 90s, 5m or 1h30m");
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    let (mut total, mut number) = (0u64, String::new());
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            number.push(ch);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        total += n * match ch {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
    }
    if !number.is_empty() || text.is_empty() {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs(total))
}

/// `--wait`, `--timeout`, `--atomic`, `--force-conflicts`: how a revision is applied.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Wait until every object is ready (Deployments rolled out, Jobs complete, volumes bound,
    /// load balancers addressed) before the revision counts as deployed.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (e.g. 90s, 5m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// On failure (apply or wait), roll back to the previous revision, or remove a failed first
    /// install. Implies --wait.
    #[arg(long)]
    pub atomic: bool,
    /// Take fields that other field managers (kubectl, operators) own (server-side apply force).
    #[arg(long)]
    pub force_conflicts: bool,
}

impl ApplyArgs {
    pub fn settings(&self) -> ApplySettings {
        ApplySettings {
            force_conflicts: self.force_conflicts,
            wait: (self.wait || self.atomic).then(|| WaitOptions::new(self.timeout)),
            atomic: self.atomic,
            soak: None,
        }
    }
}

/// Shows `--wait` progress: a live line on a terminal, a line per change otherwise.
pub struct WaitDisplay<'a> {
    printer: &'a Printer,
    line: crate::cli::printer::ProgressLine,
    last: Option<(usize, usize)>,
    noted_unobserved: bool,
}

impl<'a> WaitDisplay<'a> {
    pub fn new(printer: &'a Printer) -> Self {
        Self {
            printer,
            line: printer.progress("Waiting"),
            last: None,
            noted_unobserved: false,
        }
    }

    pub fn show(&mut self, obs: &Observation) {
        if !obs.observed {
            if !self.noted_unobserved {
                self.printer.status(
                    "Waiting",
                    "skipped: this target keeps no live state (a GitOps folder); objects are written",
                );
                self.noted_unobserved = true;
            }
            return;
        }
        let ready = obs
            .objects
            .iter()
            .filter(|s| crate::status::is_ready(s))
            .count();
        let total = obs.objects.len();
        let pending: Vec<String> = obs
            .objects
            .iter()
            .filter(|s| !crate::status::is_ready(s))
            .take(3)
            .map(|s| format!("{} {}", crate::ops::wait::short(&s.id), s.summary))
            .collect();
        let text = format!("{ready}/{total} ready {}", pending.join("; "));
        if self.line.is_live() {
            self.line.message(&text);
        } else if self.last != Some((ready, total)) {
            self.printer.status("Waiting", &text);
        }
        self.last = Some((ready, total));
    }

    pub fn finish(&mut self) {
        self.line.finish();
    }
}

/// The automatic-upgrade policy flags of `install`, `upgrade` and `policy set`.
#[derive(Debug, Clone, Args, Default)]
pub struct PolicyArgs {
    /// Automatic upgrades: `patch`, `minor`, `major`, a semver requirement (`'>=2.1, <3'`), or
    /// `off`. Stored with the release; `upgrade --auto` acts on it.
    #[arg(long, value_name = "TRACK", value_parser = parse_track)]
    pub auto_upgrade: Option<Track>,
    /// When automatic upgrades may start: `DAYS HH:MM-HH:MM ZONE` (e.g. `Sat,Sun 02:00-05:00
    /// Asia/Seoul`; DAYS like `Mon-Fri` or `daily`), repeatable; `always` for any time.
    #[arg(long, value_name = "WINDOW")]
    pub upgrade_window: Vec<String>,
    /// Let automatic upgrades pick pre-release versions.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub allow_prerelease: Option<bool>,
    /// Skip versions published less than this long ago (e.g. 72h); security fixes excepted.
    #[arg(long, value_name = "DURATION", value_parser = parse_policy_duration)]
    pub min_age: Option<u64>,
    /// After an automatic upgrade is ready, how long everything must stay ready with no pod
    /// restarting before it counts as good (e.g. 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_policy_duration)]
    pub soak: Option<u64>,
}

fn parse_track(text: &str) -> Result<Track, String> {
    text.parse::<Track>().map_err(|e| e.to_string())
}

fn parse_policy_duration(text: &str) -> Result<u64, String> {
    crate::policy::parse_duration(text)
}

impl PolicyArgs {
    pub fn update(&self) -> Result<PolicyUpdate, OpError> {
        let windows = if self.upgrade_window.is_empty() {
            None
        } else if self.upgrade_window.iter().any(|w| w.trim() == "always") {
            Some(Vec::new())
        } else {
            Some(
                self.upgrade_window
                    .iter()
                    .map(|w| {
                        w.parse::<Window>()
                            .map_err(|e| OpError::Invalid(e.to_string()))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            )
        };
        Ok(PolicyUpdate {
            auto_upgrade: self.auto_upgrade.clone(),
            windows,
            allow_prerelease: self.allow_prerelease,
            min_age_secs: self.min_age,
            soak_secs: self.soak,
        })
    }
}

/// The flags `install` and `upgrade` share.
#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub apply: ApplyArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Create the service map (namespace) when it does not exist.
    #[arg(long)]
    pub create_service_map: bool,
    /// Show what would change (server-side dry run on kube), change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Revisions kept in history.
    #[arg(long, default_value_t = 10)]
    pub history_max: usize,
}

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
    /// Start from the previous revision's values, then apply -f/--set.
    #[arg(long, conflicts_with = "reset_values")]
    pub reuse_values: bool,
    /// Start from the package defaults (the default).
    #[arg(long)]
    pub reset_values: bool,
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
    printer: &Printer,
) -> anyhow::Result<u8> {
    let policy = args.policy.update()?;
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let mut display = WaitDisplay::new(printer);
    let out = release::deploy_with(
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
        },
        &mut |obs| display.show(obs),
    );
    display.finish();
    report(&out?, printer, &target.describe())
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
    deploy(
        &args.release,
        &args.package,
        &args.common,
        DeployMode::Install,
        printer,
    )
}

pub fn upgrade(args: UpgradeArgs, printer: &Printer) -> anyhow::Result<u8> {
    if args.auto {
        return super::auto::run(&args, printer);
    }
    let (Some(release), Some(package)) = (&args.release, &args.package) else {
        return Err(OpError::Invalid("upgrade needs RELEASE and PKG (or --auto)".into()).into());
    };
    let mode = DeployMode::Upgrade {
        install_if_missing: args.install,
        reuse_values: args.reuse_values,
    };
    deploy(release, package, &args.common, mode, printer)
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
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let out = release::uninstall(
        target.as_ref(),
        &UninstallOptions {
            release: args.release.clone(),
            service_map,
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
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let filter = (!args.all_service_maps).then_some(&service_map);
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
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let rows = release::history(target.as_ref(), &service_map, &args.release)?;
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
    #[command(flatten)]
    pub apply: ApplyArgs,
}

pub fn rollback(args: RollbackArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let mut display = WaitDisplay::new(printer);
    let out = release::rollback_with(
        target.as_ref(),
        &release::RollbackOptions {
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
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let record = release::revision(target.as_ref(), &service_map, &args.release, args.revision)?;
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

#[derive(Debug, Args)]
pub struct StatusArgs {
    pub release: ReleaseName,
    #[command(flatten)]
    pub target: TargetArgs,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
    /// Also print the release's notes.
    #[arg(long)]
    pub notes: bool,
}

/// Exit code of `status`: 0 deployed, 1 otherwise is not useful for scripts that only read;
/// `status` exits 0 whenever it could read the state (the state is in the output).
pub fn status(args: StatusArgs, _printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let report = release::status(target.as_ref(), &service_map, &args.release)?;
    if crate::cli::print_structured(args.output, &report)? {
        return Ok(exit::OK);
    }
    let mut out = std::io::stdout().lock();
    let r = &report.release;
    let live = if report.live.observed {
        serde_json::to_value(report.live.overall)?
            .as_str()
            .unwrap_or("?")
            .to_string()
    } else {
        format!("not observed ({} keeps no live state)", target.describe())
    };
    writeln!(out, "NAME:        {}", r.name)?;
    writeln!(out, "SERVICE MAP: {}", r.service_map)?;
    writeln!(
        out,
        "PACKAGE:     {}-{} (app {})",
        r.package,
        r.version,
        if r.app_version.is_empty() {
            "-"
        } else {
            &r.app_version
        }
    )?;
    writeln!(
        out,
        "REVISION:    {} ({}, {})",
        r.revision, r.status, r.updated
    )?;
    if !report.description.is_empty() {
        writeln!(out, "DESCRIPTION: {}", report.description)?;
    }
    writeln!(out, "LIVE STATE:  {live}")?;
    for (group, objects) in crate::status::group_by_workload_group(&report.live.objects) {
        writeln!(out, "\nWORKLOAD GROUP {group}")?;
        writeln!(out, "  {:<44} {:<12} SUMMARY", "OBJECT", "STATE")?;
        for s in objects {
            let state = serde_json::to_value(s.state)?;
            writeln!(
                out,
                "  {:<44} {:<12} {}",
                crate::ops::wait::short(&s.id),
                state.as_str().unwrap_or("?"),
                s.summary
            )?;
        }
    }
    if args.notes
        && let Some(n) = &report.notes
    {
        writeln!(out, "\nNOTES:\n{}", n.trim_end())?;
    }
    Ok(exit::OK)
}

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

pub fn set_image(args: SetImageArgs, printer: &Printer) -> anyhow::Result<u8> {
    let (workload, container, image) = split_assignment(&args.assignment)?;
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let mut display = WaitDisplay::new(printer);
    let out = release::set_image(
        target.as_ref(),
        &release::SetImageOptions {
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
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

pub fn restart(args: RestartArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let mut display = WaitDisplay::new(printer);
    let out = release::restart(
        target.as_ref(),
        &release::RestartOptions {
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
