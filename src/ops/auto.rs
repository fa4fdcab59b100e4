//! Automatic upgrades: `outdated`, and `upgrade --auto`, the cron entry point (policies are
//! set and shown by [`super::policy`]).
//!
//! A run reads the current record of every release in one pass, refreshes each repository's
//! index once (a conditional request), decides per release with the pure
//! [`crate::policy::decide`], then upgrades the chosen releases — at most `max_parallel` at
//! once — with their stored values, waiting for readiness, soaking, and rolling back
//! automatically (`--atomic`) on failure. Each upgrade holds its release's lease and checks that
//! the release did not change since the run read it, so concurrent runs are safe and a second
//! run finds nothing left to do.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::OpError;
use super::commit::ApplySettings;
use super::deploy::{DeployMode, DeployOptions, deploy};
use super::wait::WaitOptions;
use crate::index::format::VersionEntry;
use crate::model::{ReleaseName, ServiceMapName};
use crate::policy::{self, Decision, Input, Track};
use crate::release::{Record, Status};
use crate::repo::client::{Repo, RepoClient};
use crate::targets::{Holder, Target, TargetError};
use crate::time::{UnixTime, format_rfc3339};

/// What the run did with one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AutoAction {
    Upgraded,
    /// `--dry-run`: would have upgraded.
    WouldUpgrade,
    RolledBack,
    Skipped,
    Failed,
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRow {
    pub release: String,
    pub service_map: String,
    pub package: String,
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub action: AutoAction,
    /// A stable code: `upgraded`, `rolled-back`, `off`, `up-to-date`, `outside-window`, …
    pub code: String,
    pub reason: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub security: bool,
    /// Fields of the release's objects another field manager changed (releases due for an
    /// upgrade are checked), one line each: `Deployment/web .spec.replicas: release 2, live 5
    /// (changed by kubectl-edit)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
}

/// The report of an `upgrade --auto` run (also the webhook's body).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoReport {
    pub started: String,
    pub finished: String,
    pub dry_run: bool,
    pub target: String,
    pub upgraded: usize,
    pub rolled_back: usize,
    pub skipped: usize,
    pub failed: usize,
    pub releases: Vec<AutoRow>,
    /// The outcome of `--notify-url` (`sent`, or why it failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AutoOptions {
    /// Service maps to look at; empty: all.
    pub service_maps: Vec<ServiceMapName>,
    pub dry_run: bool,
    pub max_parallel: usize,
    /// How long each upgrade waits for readiness.
    pub timeout: Duration,
    pub holder: Holder,
    pub now: UnixTime,
}

/// The versions of the packages the releases come from, one index refresh per repository.
struct Catalogs {
    client: RepoClient,
    repos: BTreeMap<String, Result<Repo, String>>,
    versions: BTreeMap<(String, String), Result<Vec<VersionEntry>, String>>,
}

impl Catalogs {
    fn new(client: RepoClient) -> Self {
        Self {
            client,
            repos: BTreeMap::new(),
            versions: BTreeMap::new(),
        }
    }

    fn repo(&mut self, name: &str) -> Result<Repo, String> {
        if let Some(r) = self.repos.get(name) {
            return r.clone();
        }
        let found = crate::repo::reference::find_repo(name)
            .map_err(|e| crate::error_chain(&e))
            .and_then(|repo| match &repo {
                Repo::Builtin => Ok(repo),
                // The one conditional refresh of this run.
                Repo::Remote(entry) => self
                    .client
                    .update(entry)
                    .map(|_| repo.clone())
                    .map_err(|e| crate::error_chain(&e)),
            });
        self.repos.insert(name.to_string(), found.clone());
        found
    }

    fn versions(&mut self, repo_name: &str, package: &str) -> Result<Vec<VersionEntry>, String> {
        let key = (repo_name.to_string(), package.to_string());
        if let Some(v) = self.versions.get(&key) {
            return v.clone();
        }
        if repo_name.starts_with("oci://") {
            let found = oci_versions(repo_name);
            self.versions.insert(key, found.clone());
            return found;
        }
        let found = self.repo(repo_name).and_then(|repo| {
            let root = self
                .client
                .root(&repo)
                .map_err(|e| crate::error_chain(&e))?;
            let summary = root.package(package).ok_or_else(|| {
                format!("repository `{repo_name}` no longer has package `{package}`")
            })?;
            self.client
                .versions(&repo, summary)
                .map(|f| f.versions)
                .map_err(|e| crate::error_chain(&e))
        });
        self.versions.insert(key, found.clone());
        found
    }
}

/// The versions of an OCI repository (`oci://HOST/PATH/NAME`), from its tag list: one request
/// (per page of 1,000 tags). Tags carry no publication time and no digest without fetching each
/// manifest: `created` is left empty (a `min-age` does not hold an OCI version back, see the
/// automatic-upgrades guide) and the digest is checked when the chosen version is pulled.
fn oci_versions(repository: &str) -> Result<Vec<VersionEntry>, String> {
    use crate::repo::oci::{OciClient, reference::OciRef};
    let r = OciRef::parse(repository).map_err(|e| crate::error_chain(&e))?;
    let mut client = OciClient::from_env(false);
    let tags = client.versions(&r).map_err(|e| crate::error_chain(&e))?;
    Ok(tags
        .into_iter()
        .map(|(version, tag)| VersionEntry {
            version,
            url: format!("{}:{tag}", r.base()),
            // Unknown until pulled; automatic upgrades never read it (the pull verifies).
            digest: crate::model::Digest::of(tag.as_bytes()),
            size: 0,
            app_version: None,
            kube_version: None,
            created: String::new(),
            yanked: false,
            changelog: Vec::new(),
        })
        .collect())
}

/// The current records of the releases a run looks at.
fn current_records(
    target: &dyn Target,
    service_maps: &[ServiceMapName],
) -> Result<Vec<Record>, TargetError> {
    if service_maps.is_empty() {
        return target.current_records(None);
    }
    let mut out = Vec::new();
    for sm in service_maps {
        out.extend(target.current_records(Some(sm))?);
    }
    Ok(out)
}

fn kube_version(target: &dyn Target) -> Result<semver::Version, TargetError> {
    Ok(target.kube_version()?.unwrap_or_else(|| {
        semver::Version::parse(crate::render::DEFAULT_KUBE_VERSION)
            .unwrap_or(semver::Version::new(1, 33, 0))
    }))
}

/// A decision made for one release, before anything is applied.
struct Planned {
    record: Record,
    row: AutoRow,
    /// `REPO/NAME@=VERSION` when the release is to be upgraded.
    upgrade_to: Option<String>,
}

fn skipped(record: &Record, code: &str, reason: String) -> AutoRow {
    AutoRow {
        release: record.name.clone(),
        service_map: record.service_map.clone(),
        package: record.package.name.clone(),
        from: record.package.version.to_string(),
        to: None,
        action: AutoAction::Skipped,
        code: code.into(),
        reason,
        security: false,
        drift: Vec::new(),
    }
}

fn plan_release(
    record: Record,
    catalogs: &mut Catalogs,
    now: UnixTime,
    kube: &semver::Version,
) -> Planned {
    let policy = record.policy.clone().unwrap_or_default();
    let skip = |record: Record, code: &str, reason: String| Planned {
        row: skipped(&record, code, reason),
        record,
        upgrade_to: None,
    };
    if policy.auto_upgrade == Track::Off {
        return skip(
            record,
            "off",
            "automatic upgrades are off for this release".into(),
        );
    }
    if record.status != Status::Deployed {
        let reason = format!(
            "the current revision {} is {}; fix it first (see `cocktail-pkg history {} -n {}`)",
            record.revision,
            record.status.as_str(),
            record.name,
            record.service_map
        );
        return skip(record, "not-deployed", reason);
    }
    let Some(repo) = record.package.repository.clone() else {
        let reason = format!(
            "installed from `{}`, not from a repository",
            record.package.source
        );
        return skip(record, "not-from-repository", reason);
    };
    let versions = match catalogs.versions(&repo, &record.package.name) {
        Ok(v) => v,
        Err(e) => {
            let mut p = skip(record, "index", e);
            p.row.action = AutoAction::Failed;
            return p;
        }
    };
    // Versions this release already failed with are not tried again automatically.
    let (blocked, versions): (Vec<VersionEntry>, Vec<VersionEntry>) = versions
        .into_iter()
        .partition(|v| record.failed_versions.contains(&v.version));
    let mut decision = policy::decide(&Input {
        policy: &policy,
        current: &record.package.version,
        versions: &versions,
        now,
        kube_version: kube,
    });
    if let Decision::Skip(s) = &decision
        && s.code == "up-to-date"
        && let Some(b) = blocked
            .iter()
            .filter(|b| b.version > record.package.version)
            .max_by(|a, b| a.version.cmp(&b.version))
    {
        decision = Decision::Skip(policy::Skip {
            code: "failed-before",
            reason: format!(
                "{} failed here and was rolled back; upgrade by hand to try it again",
                b.version
            ),
        });
    }
    match decision {
        Decision::Skip(s) => skip(record, s.code, s.reason),
        Decision::Upgrade {
            to,
            security,
            reason,
        } => {
            let row = AutoRow {
                release: record.name.clone(),
                service_map: record.service_map.clone(),
                package: record.package.name.clone(),
                from: record.package.version.to_string(),
                to: Some(to.to_string()),
                action: AutoAction::WouldUpgrade,
                code: "upgrade".into(),
                reason,
                security,
                drift: Vec::new(),
            };
            Planned {
                upgrade_to: Some(if repo.starts_with("oci://") {
                    // The chosen version's tag (Helm writes `+` as `_` in tags).
                    format!("{repo}:{}", crate::repo::oci::reference::tag_for(&to))
                } else {
                    format!("{repo}/{}@={to}", record.package.name)
                }),
                record,
                row,
            }
        }
    }
}

/// Upgrades one release as decided; fills in its row.
fn upgrade_one(target: &dyn Target, p: &mut Planned, opts: &AutoOptions) {
    let Some(reference) = p.upgrade_to.clone() else {
        return;
    };
    let policy = p.record.policy.clone().unwrap_or_default();
    let (Ok(service_map), Ok(name)) = (
        ServiceMapName::new(&p.record.service_map),
        ReleaseName::new(&p.record.name),
    ) else {
        return;
    };
    // Drift first: the policy says whether to upgrade over it, take it back, or stop.
    match super::drift::of_release(target, &p.record) {
        Ok(drift) => {
            p.row.drift = drift
                .iter()
                .flat_map(|d| {
                    d.describe()
                        .into_iter()
                        .map(move |l| format!("{}/{} {l}", d.id.kind, d.id.name))
                })
                .collect();
        }
        Err(e) => p.row.drift = vec![format!("drift not checked: {}", crate::error_chain(&e))],
    }
    if !p.row.drift.is_empty() && policy.on_drift == crate::policy::OnDrift::Skip {
        p.row.action = AutoAction::Skipped;
        p.row.code = "drift".into();
        p.row.reason = format!(
            "the release drifted and its policy says skip (--on-drift skip); look with `cocktail-pkg diff upgrade {} … -n {}`, then `upgrade --correct-drift`",
            p.record.name, p.record.service_map
        );
        return;
    }
    let result = deploy(
        target,
        &DeployOptions {
            release: name,
            service_map,
            package: PathBuf::from(reference),
            values: Default::default(),
            mode: DeployMode::Upgrade {
                install_if_missing: false,
                reuse_values: true,
            },
            dry_run: false,
            history_max: 10,
            holder: opts.holder.clone(),
            now: crate::time::now(),
            generation: super::Generation::Random,
            apply: ApplySettings {
                force_conflicts: false,
                wait: Some(WaitOptions::new(opts.timeout)),
                atomic: true,
                soak: (policy.soak_secs > 0).then(|| Duration::from_secs(policy.soak_secs)),
                no_hooks: false,
                hook_timeout: Some(opts.timeout),
            },
            create_service_map: false,
            policy: Default::default(),
            expect_revision: Some(p.record.revision),
            force: false,
            // An automatic upgrade never forces a breaking CRD change: it is refused and reported.
            force_crd_changes: false,
            correct_drift: policy.on_drift == crate::policy::OnDrift::Correct,
        },
    );
    let row = &mut p.row;
    match result {
        Ok(out) => {
            row.action = AutoAction::Upgraded;
            row.code = "upgraded".into();
            row.reason = format!("{} (revision {})", row.reason, out.record.revision);
        }
        Err(OpError::Atomic { cause, undone }) => {
            row.action = AutoAction::RolledBack;
            row.code = "rolled-back".into();
            row.reason = format!("{}: {undone}", crate::error_chain(cause.as_ref()));
        }
        Err(OpError::Target(e)) if matches!(*e, TargetError::LeaseHeld { .. }) => {
            row.action = AutoAction::Skipped;
            row.code = "busy".into();
            row.reason = e.to_string();
        }
        Err(OpError::Stale(reason)) => {
            row.action = AutoAction::Skipped;
            row.code = "changed".into();
            row.reason = reason;
        }
        Err(e) => {
            row.action = AutoAction::Failed;
            row.code = "failed".into();
            row.reason = crate::error_chain(&e);
        }
    }
}

/// `upgrade --auto`. `on_done` hears of each upgrade as it ends (progress for long runs).
pub fn run(
    target: &dyn Target,
    opts: &AutoOptions,
    client: RepoClient,
    on_done: &(dyn Fn(&AutoRow) + Sync),
) -> Result<AutoReport, OpError> {
    let started = format_rfc3339(opts.now);
    let records = current_records(target, &opts.service_maps)?;
    let kube = kube_version(target)?;
    let mut catalogs = Catalogs::new(client);
    let mut planned: Vec<Planned> = records
        .into_iter()
        .map(|r| plan_release(r, &mut catalogs, opts.now, &kube))
        .collect();
    planned.sort_by(|a, b| {
        (&a.row.service_map, &a.row.release).cmp(&(&b.row.service_map, &b.row.release))
    });
    if !opts.dry_run {
        let work: Vec<&mut Planned> = planned
            .iter_mut()
            .filter(|p| p.upgrade_to.is_some())
            .collect();
        let queue = std::sync::Mutex::new(work);
        std::thread::scope(|scope| {
            for _ in 0..opts.max_parallel.max(1) {
                scope.spawn(|| {
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                        let Some(p) = next else { break };
                        upgrade_one(target, p, opts);
                        on_done(&p.row);
                    }
                });
            }
        });
    }
    let releases: Vec<AutoRow> = planned.into_iter().map(|p| p.row).collect();
    let count = |a: AutoAction| releases.iter().filter(|r| r.action == a).count();
    Ok(AutoReport {
        started,
        finished: format_rfc3339(crate::time::now()),
        dry_run: opts.dry_run,
        target: target.describe(),
        upgraded: count(AutoAction::Upgraded) + count(AutoAction::WouldUpgrade),
        rolled_back: count(AutoAction::RolledBack),
        skipped: count(AutoAction::Skipped),
        failed: count(AutoAction::Failed),
        releases,
        notification: None,
    })
}

/// One row of `outdated`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutdatedRow {
    pub release: String,
    pub service_map: String,
    pub package: String,
    pub version: String,
    /// The policy in short: `minor`, `off`, `^2`.
    pub policy: String,
    /// The newest version the policy allows, if newer than the installed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
    /// The newest version overall.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest: Option<String>,
    /// When the next upgrade window opens (`now` when inside one; absent: any time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_window: Option<String>,
    /// Why nothing is offered, when so.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// `outdated`: each release, its version, the newest its policy allows, the newest overall,
/// and when its next window opens.
pub fn outdated(
    target: &dyn Target,
    service_maps: &[ServiceMapName],
    client: RepoClient,
    now: UnixTime,
) -> Result<Vec<OutdatedRow>, OpError> {
    let records = current_records(target, service_maps)?;
    let kube = kube_version(target)?;
    let mut catalogs = Catalogs::new(client);
    let mut rows = Vec::new();
    for r in records {
        let policy = r.policy.clone().unwrap_or_default();
        let mut row = OutdatedRow {
            release: r.name.clone(),
            service_map: r.service_map.clone(),
            package: r.package.name.clone(),
            version: r.package.version.to_string(),
            policy: policy.auto_upgrade.to_string(),
            allowed: None,
            newest: None,
            next_window: policy::next_window(&policy.windows, now).map(format_rfc3339),
            note: String::new(),
        };
        match r.package.repository.as_deref() {
            None => row.note = format!("installed from `{}`, not a repository", r.package.source),
            Some(repo) => match catalogs.versions(repo, &r.package.name) {
                Err(e) => row.note = e,
                Ok(versions) => {
                    let input = Input {
                        policy: &policy,
                        current: &r.package.version,
                        versions: &versions,
                        now,
                        kube_version: &kube,
                    };
                    row.newest = policy::newest(&versions, policy.allow_prerelease)
                        .map(|v| v.version.to_string());
                    if policy.auto_upgrade != Track::Off {
                        row.allowed = policy::newest_allowed(&input).map(|v| v.version.to_string());
                    }
                    if let Decision::Skip(s) = policy::decide(&input) {
                        row.note = s.reason;
                    }
                }
            },
        }
        rows.push(row);
    }
    rows.sort_by(|a, b| (&a.service_map, &a.release).cmp(&(&b.service_map, &b.release)));
    Ok(rows)
}

/// Posts the report to a webhook through the one HTTP client (`repo::http`: its timeout and
/// its retries with backoff). Returns what happened; a failure never fails the run.
pub fn notify(url: &str, report: &AutoReport) -> Result<(), String> {
    let body = serde_json::to_vec(report).map_err(|e| e.to_string())?;
    let client = crate::repo::http::client().map_err(|e| crate::error_chain(&e))?;
    crate::repo::http::post_json(&client, url, &body)
        .map(|_| ())
        .map_err(|e| crate::error_chain(&e))
}
