//! The settings release commands share: where releases live and how to open it
//! ([`TargetArgs`] -> [`Opened`]), who holds the lease ([`holder`]), how a revision is applied
//! ([`ApplyArgs`]), the policy flags ([`PolicyArgs`]), the flags `install` and `upgrade` share
//! ([`DeployArgs`]), and the `--wait` progress display ([`WaitDisplay`]).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::ValuesArgs;
use crate::cli::printer::Printer;
use crate::model::ServiceMapName;
use crate::ops::OpError;
use crate::ops::commit::ApplySettings;
use crate::ops::wait::{Observation, WaitOptions};
use crate::policy::{PolicyUpdate, Track, Window};
use crate::targets::dir::DirTarget;
use crate::targets::kube::{self as kube_target, KubeOptions, KubeTarget};
use crate::targets::{Holder, Target};

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
        #[expect(
            clippy::expect_used,
            reason = "`default` is a valid DNS-1123 name, checked by a unit test of model"
        )]
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

/// Who holds a release's lease: `user@host/pid`, unique per running command.
pub fn holder() -> Holder {
    Holder::current()
}

/// `--wait`, `--timeout`, `--atomic`, `--force-conflicts`: how a revision is applied.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Wait until every object is ready (Deployments rolled out, Jobs complete, volumes bound,
    /// load balancers addressed) before the revision counts as deployed.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, and how long each chart hook may run (e.g. 90s, 5m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::time::parse_duration)]
    pub timeout: std::time::Duration,
    /// On failure (apply or wait), roll back to the previous revision, or remove a failed first
    /// install. Implies --wait.
    #[arg(long)]
    pub atomic: bool,
    /// Take fields that other field managers (kubectl, operators) own (server-side apply force).
    #[arg(long)]
    pub force_conflicts: bool,
    /// Do not run a chart's hooks (`helm.sh/hook`). Hooks otherwise run at their events, each
    /// waited for up to --timeout.
    #[arg(long)]
    pub no_hooks: bool,
}

impl ApplyArgs {
    pub fn settings(&self) -> ApplySettings {
        ApplySettings {
            force_conflicts: self.force_conflicts,
            wait: (self.wait || self.atomic).then(|| WaitOptions::new(self.timeout)),
            atomic: self.atomic,
            soak: None,
            no_hooks: self.no_hooks,
            hook_timeout: Some(self.timeout),
        }
    }
}

/// Shows `--wait` progress: a live line on a terminal, a line per change otherwise.
pub struct WaitDisplay<'a> {
    printer: &'a Printer,
    line: crate::cli::printer::ProgressLine,
    last: Option<(usize, usize, Vec<String>)>,
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
            .map(|s| match &s.why {
                Some(why) => format!("{} {}: {why}", crate::ops::wait::short(&s.id), s.summary),
                None => format!("{} {}", crate::ops::wait::short(&s.id), s.summary),
            })
            .collect();
        // A new cause is news too, not only a new count.
        let whys: Vec<String> = obs.objects.iter().filter_map(|s| s.why.clone()).collect();
        let text = format!("{ready}/{total} ready {}", pending.join("; "));
        let now = Some((ready, total, whys));
        if self.line.is_live() {
            self.line.message(&text);
        } else if self.last != now {
            self.printer.status("Waiting", &text);
        }
        self.last = now;
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
    #[arg(long, value_name = "DURATION", value_parser = crate::time::parse_duration_secs)]
    pub min_age: Option<u64>,
    /// After an automatic upgrade is ready, how long everything must stay ready with no pod
    /// restarting before it counts as good (e.g. 5m).
    #[arg(long, value_name = "DURATION", value_parser = crate::time::parse_duration_secs)]
    pub soak: Option<u64>,
    /// What `upgrade --auto` does when the release's objects drifted (fields another field
    /// manager changed): `warn` (report, upgrade without touching them; the default), `correct`
    /// (take them back with the upgrade) or `skip` (report, leave the release alone).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub on_drift: Option<crate::policy::OnDrift>,
}

fn parse_track(text: &str) -> Result<Track, String> {
    text.parse::<Track>().map_err(|e| e.to_string())
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
            on_drift: self.on_drift,
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
    /// Apply a chart's CRD changes even when they drop a served or stored version or remove a
    /// field from a stored version's schema (refused by default: custom resources stored that
    /// way would become unreadable or lose data).
    #[arg(long)]
    pub force_crd_changes: bool,
    /// The version of a REPO/NAME package, as Helm's `--version`: `1.2.3` is exactly that
    /// version, `1.4` the newest 1.4.x, or a range (`^2`, `>=1.2, <2`). Same as `REPO/NAME@REQ`.
    #[arg(long, value_name = "REQ", value_parser = parse_version_req)]
    pub version: Option<String>,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

fn parse_version_req(text: &str) -> Result<String, String> {
    crate::repo::reference::Requirement::parse(text).map(|r| r.to_string())
}

impl DeployArgs {
    /// The package reference with `--version` applied (`team/redis` + `1.2.3` ->
    /// `team/redis@1.2.3`); refused for a local folder or archive, or when the reference
    /// already names a version.
    pub fn package_ref(&self, package: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
        let Some(version) = &self.version else {
            return Ok(package.to_path_buf());
        };
        let text = package.to_string_lossy();
        match crate::repo::reference::PackageRef::parse(&text) {
            crate::repo::reference::PackageRef::Repo { .. } if !text.contains('@') => {
                Ok(format!("{text}@{version}").into())
            }
            crate::repo::reference::PackageRef::Repo { .. } => anyhow::bail!(
                "`{text}` already names a version: use either REPO/NAME@REQ or --version"
            ),
            crate::repo::reference::PackageRef::Oci { .. } => {
                match crate::repo::oci::OciRef::parse(&text)?.selector {
                    crate::repo::oci::Selector::Req(None) => Ok(format!("{text}@{version}").into()),
                    _ => anyhow::bail!(
                        "`{text}` already names a tag, digest or version: use either oci://…:TAG|@REQ or --version"
                    ),
                }
            }
            crate::repo::reference::PackageRef::Path(_) => anyhow::bail!(
                "--version applies to a package from a repository (REPO/NAME), not the folder or archive `{text}`"
            ),
        }
    }
}

/// `--verify` and `--keyring`, for the commands that fetch a chart by reference.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Verify the chart's provenance file (`NAME-VERSION.tgz.prov`, OpenPGP, as `helm package
    /// --sign` writes it) against --keyring before the chart is cached or used: a missing
    /// `.prov`, a signature by a key not in the keyring, a bad signature or an archive other
    /// than the signed one is an error. For REPO/NAME (the archive's URL + `.prov`), oci://…
    /// (the provenance layer `helm push` adds) and a local `.tgz` with its `.tgz.prov` beside it;
    /// `pull --verify` also writes the `.prov` beside the archive, as `helm pull --prov`.
    #[arg(long)]
    pub verify: bool,
    /// The public keys trusted with --verify: a binary keyring (`gpg --export KEY >
    /// pubring.gpg`) or armored keys (`gpg --export --armor`). Default: ~/.gnupg/pubring.gpg,
    /// as Helm.
    #[arg(long, value_name = "PATH", requires = "verify")]
    pub keyring: Option<PathBuf>,
}

impl VerifyArgs {
    /// The keyring to verify with, when --verify is given.
    pub fn keyring(&self) -> anyhow::Result<Option<crate::repo::provenance::Keyring>> {
        if !self.verify {
            return Ok(None);
        }
        let path = self
            .keyring
            .clone()
            .unwrap_or_else(crate::ops::provenance::default_keyring);
        Ok(Some(crate::ops::provenance::read_keyring(&path)?))
    }

    /// With --verify: checks the provenance of `package` and returns the reference to load
    /// (pinned to what was verified) and the archive digest to expect; without it, `package`.
    pub fn check(
        &self,
        package: &Path,
        printer: &Printer,
    ) -> anyhow::Result<(PathBuf, Option<crate::model::Digest>)> {
        let Some(keyring) = self.keyring()? else {
            return Ok((package.to_path_buf(), None));
        };
        let checked = crate::ops::provenance::verify_reference(package, &keyring)?;
        printer.status(
            "Verified",
            &format!(
                "{} signed by {} (key {})",
                package.display(),
                checked.signed_by.signer,
                checked.signed_by.fingerprint
            ),
        );
        Ok((checked.reference, Some(checked.digest)))
    }
}
