//! `install`, `upgrade`, `uninstall`, `list`, `history`: releases on a [`Target`].
//!
//! Every operation holds the release's lease for its whole run. A deploy writes a pending
//! record first, applies the plan, then marks the revision deployed (or failed, never left
//! pending), supersedes the previous one and prunes history. A lease taken over from an
//! interrupted operation marks that operation's pending revision failed first.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

use super::wait::{Observation, WaitOptions, wait_ready};
use super::{Generation, OpError, ValuesSources, load_package_digest, placeholder};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::plan::{self, Action, Plan};
use crate::release::{self, PackageRef, Record, Status};
use crate::render::{self, Capabilities, ReleaseInfo, RenderContext};
use crate::targets::{ApplyMode, Lease, Target, TargetError};
use crate::time::{UnixTime, format_rfc3339};
use crate::values;
use crate::yaml;

/// How long a lease lasts without renewal.
pub const LEASE_TTL_SECS: i64 = 300;

/// The lease TTL: `COCKTAIL_PKG_LEASE_TTL` seconds, else [`LEASE_TTL_SECS`]. A shorter TTL
/// recovers sooner from a killed process; the lease is renewed at half its TTL while waiting.
pub fn lease_ttl() -> i64 {
    std::env::var(crate::env::LEASE_TTL)
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|t| *t > 0)
        .unwrap_or(LEASE_TTL_SECS)
}

impl From<TargetError> for OpError {
    fn from(e: TargetError) -> Self {
        OpError::Target(Box::new(e))
    }
}

/// Install or upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployMode {
    Install,
    Upgrade {
        /// Install when the release does not exist (`upgrade --install`).
        install_if_missing: bool,
        /// Start from the previous revision's values (`--reuse-values`).
        reuse_values: bool,
    },
}

#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// A directory, an archive or `REPO/NAME[@REQ]`.
    pub package: PathBuf,
    pub values: ValuesSources,
    pub mode: DeployMode,
    pub dry_run: bool,
    pub history_max: usize,
    /// Who holds the lease (`user@host`).
    pub holder: String,
    pub now: UnixTime,
    pub generation: Generation,
    pub apply: ApplySettings,
    /// Create the service map (namespace) first when it does not exist.
    pub create_service_map: bool,
    /// Changes to the automatic-upgrade policy (kept from the previous revision otherwise).
    pub policy: super::auto::PolicyUpdate,
    /// Only go on if the release's current revision is still this one (automatic upgrades:
    /// another run may have upgraded it meanwhile).
    pub expect_revision: Option<u64>,
}

/// How a revision is applied: shared by install, upgrade, rollback and set-image.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplySettings {
    /// Take fields owned by other field managers (server-side apply `force`).
    pub force_conflicts: bool,
    /// Wait for every object to be ready before the revision counts as deployed.
    pub wait: Option<WaitOptions>,
    /// On failure, roll back to the previous revision (or remove a failed first install).
    pub atomic: bool,
    /// After the wait, how long every object must stay ready with no pod restarting.
    pub soak: Option<std::time::Duration>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeployOutcome {
    pub record: Record,
    pub plan: Plan,
    pub dry_run: bool,
}

/// The objects of a stored manifest, with their ids.
pub fn manifest_objects(manifest: &str) -> Vec<(ObjectId, Value)> {
    yaml::split_documents(manifest)
        .into_iter()
        .filter(|(_, d)| !yaml::is_blank(d))
        .filter_map(|(_, d)| yaml::from_str::<Value>("manifest", &d).ok())
        .filter_map(|v| {
            let api = v.get("apiVersion")?.as_str()?.to_string();
            let id = ObjectId {
                group: ObjectId::group_of(&api).to_string(),
                kind: v.get("kind")?.as_str()?.to_string(),
                namespace: v
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                name: v.pointer("/metadata/name")?.as_str()?.to_string(),
            };
            Some((id, v))
        })
        .collect()
}

/// What a release's revisions have applied: the last deployed revision's objects, overlaid
/// with those of later failed or interrupted revisions (they may have applied part of theirs).
/// `clean` is false when there are such revisions: then no object can be assumed unchanged.
fn applied_objects(records: &[Record]) -> (Vec<(ObjectId, Value)>, bool) {
    let mut sorted: Vec<&Record> = records.iter().collect();
    sorted.sort_by_key(|r| r.revision);
    if sorted
        .last()
        .is_none_or(|r| r.status == Status::Uninstalled)
    {
        return (Vec::new(), true);
    }
    let start = sorted
        .iter()
        .rposition(|r| r.status == Status::Deployed)
        .unwrap_or(0);
    let mut objects: Vec<(ObjectId, Value)> = Vec::new();
    let mut clean = true;
    for (i, r) in sorted[start..].iter().enumerate() {
        if r.status == Status::Superseded || r.status == Status::Uninstalled {
            continue;
        }
        if i > 0 || r.status != Status::Deployed {
            clean = false;
        }
        for (id, obj) in manifest_objects(&r.manifest) {
            match objects.iter_mut().find(|(k, _)| *k == id) {
                Some(slot) => slot.1 = obj,
                None => objects.push((id, obj)),
            }
        }
    }
    (objects, clean)
}

/// Plans moving from what the release applied to `desired`; after a failed or interrupted
/// revision every object is applied again (server-side apply makes that safe).
fn plan_against(desired: &[crate::render::RenderedObject], records: &[Record]) -> Plan {
    let (previous, clean) = applied_objects(records);
    let mut plan = plan::plan(desired, &previous);
    if !clean {
        plan.reapply_unchanged();
    }
    plan
}

/// The current revision of an installed release, or the error that it is not installed.
pub(crate) fn installed(
    records: &[Record],
    service_map: &ServiceMapName,
    release: &ReleaseName,
) -> Result<Record, OpError> {
    release::current(records)
        .filter(|r| r.status != Status::Uninstalled)
        .cloned()
        .ok_or_else(|| {
            OpError::Invalid(format!(
                "release `{release}` is not installed in service map `{service_map}`"
            ))
        })
}

/// The release's lease while an operation runs (none for a dry run: it only reads).
struct Held<'a> {
    target: &'a dyn Target,
    lease: Option<Lease>,
}

impl Held<'_> {
    /// Renews the lease when less than half its time is left.
    fn renew_if_due(&mut self, now: UnixTime) -> Result<(), TargetError> {
        let ttl = lease_ttl();
        if let Some(lease) = &mut self.lease
            && lease.expires - now < ttl / 2 + 1
        {
            *lease = self.target.renew(lease, ttl, now)?;
        }
        Ok(())
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(lease) = &self.lease {
            let _ = self.target.release_lease(lease);
        }
    }
}

/// Takes the release's lease and reads its records; a lease taken over from an interrupted
/// operation marks that operation's pending revision failed. A dry run (`diff`, `--dry-run`)
/// only reads: it takes no lease, so it needs no write access and never waits for one.
fn hold<'a>(
    target: &'a dyn Target,
    sm: &ServiceMapName,
    rel: &ReleaseName,
    holder: &str,
    now: UnixTime,
    dry_run: bool,
) -> Result<(Held<'a>, Vec<Record>), OpError> {
    if dry_run {
        let records = target.records(sm, rel)?;
        return Ok((
            Held {
                target,
                lease: None,
            },
            records,
        ));
    }
    let lease = target.acquire(sm, rel, holder, lease_ttl(), now)?;
    let took_over_from = lease.took_over_from.clone();
    let held = Held {
        target,
        lease: Some(lease),
    };
    let mut records = target.records(sm, rel)?;
    if let Some(previous) = took_over_from {
        for r in records.iter_mut().filter(|r| r.status.is_pending()) {
            r.status = Status::Failed;
            r.updated = format_rfc3339(now);
            r.description = format!(
                "interrupted: the operation holding the lease ({previous}) stopped before finishing"
            );
            target.write_record(r)?;
        }
    }
    Ok((held, records))
}

/// Installs or upgrades a release.
pub fn deploy(target: &dyn Target, opts: &DeployOptions) -> Result<DeployOutcome, OpError> {
    deploy_with(target, opts, &mut |_| {})
}

/// Creates the service map when asked to and it is missing (not on a dry run).
fn ensure_service_map(
    target: &dyn Target,
    service_map: &ServiceMapName,
    create: bool,
    dry_run: bool,
) -> Result<(), OpError> {
    if !create || dry_run {
        return Ok(());
    }
    let id = super::service_map::namespace_id(service_map);
    if target.get(&id)?.is_none() {
        super::service_map::create(
            target,
            &super::service_map::CreateOptions {
                name: service_map.clone(),
                display_name: None,
                description: None,
            },
        )?;
    }
    Ok(())
}

/// [`deploy`], reporting each round of `--wait` to `progress`.
pub fn deploy_with(
    target: &dyn Target,
    opts: &DeployOptions,
    progress: &mut dyn FnMut(&Observation),
) -> Result<DeployOutcome, OpError> {
    let (pkg, digest, repository) = load_package_digest(&opts.package)?;
    ensure_service_map(
        target,
        &opts.service_map,
        opts.create_service_map,
        opts.dry_run,
    )?;
    let (mut held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
        opts.dry_run,
    )?;
    let current = release::current(&records).filter(|r| r.status != Status::Uninstalled);
    if let Some(expected) = opts.expect_revision
        && current.map(|c| c.revision) != Some(expected)
    {
        return Err(OpError::Stale(format!(
            "release `{}` changed since this run read it (revision {expected} is no longer current)",
            opts.release
        )));
    }
    let is_install = match (opts.mode, current) {
        (DeployMode::Install, Some(c)) => {
            return Err(OpError::Invalid(format!(
                "release `{}` already exists in service map `{}` (revision {}, {})",
                opts.release,
                opts.service_map,
                c.revision,
                c.status.as_str()
            )));
        }
        (DeployMode::Install, None) => true,
        (
            DeployMode::Upgrade {
                install_if_missing: false,
                ..
            },
            None,
        ) => {
            return Err(OpError::Invalid(format!(
                "release `{}` does not exist in service map `{}`; install it, or pass --install",
                opts.release, opts.service_map
            )));
        }
        (DeployMode::Upgrade { .. }, None) => true,
        (DeployMode::Upgrade { .. }, Some(_)) => false,
    };
    // Values: the user's overlay (on top of the previous one with --reuse-values); generated
    // values are kept from the previous revision, else generated now.
    let mut overlay = values::user_overlay(&opts.values.read()?)?;
    if let (
        DeployMode::Upgrade {
            reuse_values: true, ..
        },
        Some(c),
    ) = (opts.mode, current)
    {
        let mut merged = c.values.clone();
        values::merge_keep_null(&mut merged, overlay);
        overlay = merged;
    }
    if let Some(schema) = &pkg.schema_json {
        for a in values::generated_paths(schema)? {
            let ptr: String = a.path.iter().map(|k| format!("/{k}")).collect();
            let unset = overlay
                .pointer(&ptr)
                .is_none_or(|v| v.is_null() || v.as_str() == Some(""));
            let previous = current
                .and_then(|c| c.values.pointer(&ptr))
                .filter(|v| !v.is_null());
            let value = match (unset, previous) {
                (false, _) => continue,
                (true, Some(p)) => p.clone(),
                (true, None) => Value::String(match opts.generation {
                    Generation::Placeholder => placeholder(a.what),
                    Generation::Random => values::random_value(a.what).map_err(|e| {
                        OpError::Invalid(format!("failed to generate a random value: {e}"))
                    })?,
                }),
            };
            let segs: Vec<values::Seg> =
                a.path.iter().map(|k| values::Seg::Key(k.clone())).collect();
            values::set_path(&mut overlay, &segs, value, "generate", "")?;
        }
    }
    let resolved = values::coalesce(&pkg.values, &overlay);
    if let Some(schema) = &pkg.schema {
        schema.validate(&resolved)?;
    }
    let revision = records.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let ctx = RenderContext {
        release: ReleaseInfo {
            name: opts.release.clone(),
            service_map: opts.service_map.clone(),
            revision,
            is_install,
            is_upgrade: !is_install,
        },
        capabilities: Capabilities::default(),
    };
    let rendered = render::render(&pkg, &resolved, &ctx)?;
    let plan = plan_against(&rendered.objects, &records);
    refuse_immutable(&plan, "upgrade")?;
    let now = format_rfc3339(opts.now);
    let mut record = Record {
        api_version: release::API_VERSION.into(),
        name: opts.release.to_string(),
        service_map: opts.service_map.to_string(),
        revision,
        status: if is_install {
            Status::PendingInstall
        } else {
            Status::PendingUpgrade
        },
        package: PackageRef {
            name: pkg.manifest.name.to_string(),
            version: pkg.manifest.version.clone(),
            app_version: pkg.manifest.app_version.clone(),
            source: opts.package.display().to_string(),
            digest: Some(digest),
            repository: repository.clone(),
        },
        values: overlay,
        manifest: rendered.to_yaml_stream(pkg.manifest.name.as_str())?,
        inventory: rendered.objects.iter().map(|o| o.id.clone()).collect(),
        notes: rendered.notes.clone(),
        created: now.clone(),
        updated: now,
        description: String::new(),
        secret_paths: pkg
            .schema_json
            .as_ref()
            .map(values::secret_paths)
            .unwrap_or_default(),
        policy: opts
            .policy
            .apply_to(current.and_then(|c| c.policy.as_ref())),
        // Automatic upgrades keep the list; an upgrade by hand is a human decision: clear it.
        failed_versions: match (opts.expect_revision, current) {
            (Some(_), Some(c)) => c.failed_versions.clone(),
            _ => Vec::new(),
        },
    };
    if record
        .policy
        .as_ref()
        .is_some_and(|p| p.auto_upgrade != crate::policy::Track::Off)
        && repository.is_none()
    {
        return Err(OpError::Invalid(format!(
            "automatic upgrades need a package from a repository (REPO/NAME[@VERSION]), not `{}`",
            opts.package.display()
        )));
    }
    if opts.dry_run {
        for c in &plan.changes {
            if let Some(after) = &c.after {
                target.apply(&c.id, after, ApplyMode::DryRun)?;
            }
        }
        record.description = "Dry run: nothing applied".into();
        return Ok(DeployOutcome {
            record,
            plan,
            dry_run: true,
        });
    }
    let (done, failed) = if is_install {
        ("Install complete", "Install failed")
    } else {
        ("Upgrade complete", "Upgrade failed")
    };
    commit(
        &mut held,
        Revision {
            record,
            plan,
            previous: records,
            history_max: opts.history_max,
            done: done.into(),
            failed: failed.into(),
        },
        opts.apply,
        progress,
    )
}

/// Refuses a plan that changes fields Kubernetes cannot update, before anything is applied.
fn refuse_immutable(plan: &Plan, operation: &str) -> Result<(), OpError> {
    let problems = plan.immutable_problems();
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems
        .iter()
        .map(|(id, c)| format!("{id} {}: {}", c.field, c.why))
        .collect();
    Err(OpError::Invalid(format!(
        "the {operation} changes fields Kubernetes cannot update, nothing was applied: {}",
        list.join("; ")
    )))
}

/// A revision ready to be committed.
struct Revision {
    record: Record,
    plan: Plan,
    /// The release's records before this revision.
    previous: Vec<Record>,
    history_max: usize,
    done: String,
    failed: String,
}

/// Writes the pending revision, applies the plan (and waits), and ends the revision deployed
/// (superseding the previous ones and pruning history) or failed — never left pending. With
/// `--atomic`, a failure is undone: the previous deployed revision is re-applied as a new
/// revision, or a failed first install is removed.
fn commit(
    held: &mut Held<'_>,
    rev: Revision,
    settings: ApplySettings,
    progress: &mut dyn FnMut(&Observation),
) -> Result<DeployOutcome, OpError> {
    let target = held.target;
    let Revision {
        mut record,
        plan,
        previous,
        history_max,
        done,
        failed,
    } = rev;
    target.write_record(&record)?;
    let result = apply_plan(target, &plan, settings.force_conflicts)
        .map_err(OpError::from)
        .and_then(|()| match settings.wait {
            Some(w) => {
                let desired = plan.desired();
                let mut tick = |obs: &Observation| {
                    progress(obs);
                    held.renew_if_due(crate::time::now())
                };
                wait_ready(target, &desired, w, &mut tick)?;
                if let Some(soak_for) = settings.soak {
                    super::wait::soak(target, &desired, soak_for, w.interval, &mut tick)?;
                }
                Ok(())
            }
            None => Ok(()),
        });
    if let Err(e) = result {
        record.status = Status::Failed;
        record.updated = format_rfc3339(crate::time::now());
        // An error may quote an object; never let it carry a secret into history.
        record.description = values::redact(
            &format!("{failed}: {}", crate::error_chain(&e)),
            &values::secret_values(&record.values, &record.secret_paths),
        );
        target.write_record(&record)?;
        if settings.atomic {
            let undone = undo(target, &record, &previous, history_max, &e)?;
            return Err(OpError::Atomic {
                cause: Box::new(e),
                undone,
            });
        }
        return Err(e);
    }
    record.status = Status::Deployed;
    record.updated = format_rfc3339(crate::time::now());
    record.description = done;
    target.write_record(&record)?;
    finish(target, &record, previous, history_max)?;
    Ok(DeployOutcome {
        record,
        plan,
        dry_run: false,
    })
}

/// Supersedes the deployed revision before `record` and prunes history. Failed revisions stay
/// failed: history tells what happened.
fn finish(
    target: &dyn Target,
    record: &Record,
    previous: Vec<Record>,
    history_max: usize,
) -> Result<(), OpError> {
    for mut r in previous
        .into_iter()
        .filter(|r| r.revision != record.revision && r.status == Status::Deployed)
    {
        r.status = Status::Superseded;
        target.write_record(&r)?;
    }
    let service_map =
        ServiceMapName::new(&record.service_map).map_err(|e| OpError::Invalid(e.to_string()))?;
    let name = ReleaseName::new(&record.name).map_err(|e| OpError::Invalid(e.to_string()))?;
    let all = target.records(&service_map, &name)?;
    for rev in release::prune(&all, history_max) {
        target.delete_record(&service_map, &name, rev)?;
    }
    Ok(())
}

/// `--atomic`: undoes the failed revision `failed`. Returns what was done, for the error.
fn undo(
    target: &dyn Target,
    failed: &Record,
    previous: &[Record],
    history_max: usize,
    cause: &OpError,
) -> Result<String, OpError> {
    let now = format_rfc3339(crate::time::now());
    let last_good = previous
        .iter()
        .filter(|r| r.status == Status::Deployed)
        .max_by_key(|r| r.revision);
    let Some(good) = last_good else {
        // A failed first install: remove what it applied; history keeps the attempt.
        let mut objects = manifest_objects(&failed.manifest);
        objects.sort_by_key(|(id, _)| std::cmp::Reverse(plan::kind_rank(&id.kind)));
        for (id, obj) in &objects {
            if !plan::keeps(obj) {
                target.delete(id)?;
            }
        }
        let mut r = failed.clone();
        r.status = Status::Uninstalled;
        r.updated = now;
        r.description = format!(
            "Install failed and was removed (--atomic): {}",
            crate::error_chain(cause)
        );
        target.write_record(&r)?;
        return Ok(format!(
            "the install failed; --atomic removed it (revision {} is kept in history as uninstalled)",
            failed.revision
        ));
    };
    let desired: Vec<crate::render::RenderedObject> = manifest_objects(&good.manifest)
        .into_iter()
        .map(|(id, object)| crate::render::RenderedObject {
            template: String::new(),
            id,
            object,
        })
        .collect();
    let back = plan::plan(&desired, &manifest_objects(&failed.manifest));
    // Force: the failed revision's fields are ours, and nothing may block the way back.
    apply_plan(target, &back, true)?;
    let mut failed_versions = failed.failed_versions.clone();
    if failed.package.version != good.package.version
        && !failed_versions.contains(&failed.package.version)
    {
        failed_versions.push(failed.package.version.clone());
    }
    let record = Record {
        revision: failed.revision + 1,
        status: Status::Deployed,
        created: now.clone(),
        updated: now,
        description: format!(
            "Rollback to {} (--atomic: revision {} failed)",
            good.revision, failed.revision
        ),
        policy: failed.policy.clone(),
        failed_versions,
        ..good.clone()
    };
    target.write_record(&record)?;
    // The failed revision stays failed in history, beside the rollback that undid it.
    finish(target, &record, previous.to_vec(), history_max)?;
    let what = match failed.status {
        _ if failed.description.starts_with("Rollback") => "rollback",
        _ if failed.description.starts_with("Set image") => "set-image",
        _ => "upgrade",
    };
    Ok(format!(
        "the {what} failed; --atomic rolled back to revision {} (now revision {})",
        good.revision, record.revision
    ))
}

/// Most objects applied at once within one kind wave.
const APPLY_CONCURRENCY: usize = 8;

/// Runs `op` on items grouped in kind waves (consecutive items of one kind rank): the items of
/// a wave concurrently ([`APPLY_CONCURRENCY`] at once), a wave only after the one before it
/// succeeded. The first error stops handing out work (items in flight finish) and is returned.
fn in_waves<T: Sync>(
    items: &[T],
    kind_of: impl Fn(&T) -> &str + Sync,
    op: impl Fn(&T) -> Result<(), TargetError> + Sync,
) -> Result<(), TargetError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut start = 0;
    while start < items.len() {
        let rank = plan::kind_rank(kind_of(&items[start]));
        let end = items[start..]
            .iter()
            .position(|i| plan::kind_rank(kind_of(i)) != rank)
            .map_or(items.len(), |n| start + n);
        let wave = &items[start..end];
        if wave.len() == 1 {
            op(&wave[0])?;
        } else {
            let next = AtomicUsize::new(0);
            let first_error: std::sync::Mutex<Option<TargetError>> = std::sync::Mutex::new(None);
            std::thread::scope(|scope| {
                for _ in 0..APPLY_CONCURRENCY.min(wave.len()) {
                    scope.spawn(|| {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(item) = wave.get(i) else { break };
                            if let Err(e) = op(item) {
                                let mut slot =
                                    first_error.lock().unwrap_or_else(|p| p.into_inner());
                                slot.get_or_insert(e);
                                next.store(wave.len(), Ordering::Relaxed);
                                break;
                            }
                        }
                    });
                }
            });
            if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
                return Err(e);
            }
        }
        start = end;
    }
    Ok(())
}

/// Applies a plan wave by wave (kinds in [`plan::KIND_ORDER`]), then deletes what it drops,
/// also in waves, in reverse kind order.
fn apply_plan(target: &dyn Target, plan: &Plan, force_conflicts: bool) -> Result<(), TargetError> {
    let mode = ApplyMode::Commit { force_conflicts };
    let applies: Vec<(&ObjectId, &Value)> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update))
        .filter_map(|c| c.after.as_ref().map(|a| (&c.id, a)))
        .collect();
    in_waves(
        &applies,
        |(id, _)| id.kind.as_str(),
        |(id, obj)| target.apply(id, obj, mode).map(drop),
    )?;
    let deletes: Vec<&ObjectId> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| &c.id)
        .collect();
    in_waves(&deletes, |id| id.kind.as_str(), |id| target.delete(id))
}

#[derive(Debug, Clone)]
pub struct UninstallOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    pub keep_history: bool,
    pub delete_volumes: bool,
    pub holder: String,
    pub now: UnixTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct UninstallOutcome {
    pub deleted: Vec<ObjectId>,
    /// Objects left in place: volumes (without --delete-volumes) and objects annotated to keep.
    pub kept: Vec<ObjectId>,
}

pub fn uninstall(
    target: &dyn Target,
    opts: &UninstallOptions,
) -> Result<UninstallOutcome, OpError> {
    let (_held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
        false,
    )?;
    let current = installed(&records, &opts.service_map, &opts.release)?;
    let mut objects = manifest_objects(&current.manifest);
    objects.sort_by_key(|(id, _)| std::cmp::Reverse(plan::kind_rank(&id.kind)));
    let (mut deleted, mut kept) = (Vec::new(), Vec::new());
    for (id, obj) in objects {
        if plan::keeps(&obj) || (id.kind == "PersistentVolumeClaim" && !opts.delete_volumes) {
            kept.push(id);
        } else {
            deleted.push(id);
        }
    }
    // Reverse kind order, the objects of one kind concurrently.
    in_waves(&deleted, |id| id.kind.as_str(), |id| target.delete(id))?;
    if opts.keep_history {
        let mut r = current;
        r.status = Status::Uninstalled;
        r.updated = format_rfc3339(opts.now);
        r.description = "Uninstalled".into();
        target.write_record(&r)?;
    } else {
        for r in &records {
            target.delete_record(&opts.service_map, &opts.release, r.revision)?;
        }
    }
    Ok(UninstallOutcome { deleted, kept })
}

/// One row of `list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRow {
    pub name: String,
    pub service_map: String,
    pub revision: u64,
    pub status: String,
    pub package: String,
    pub version: String,
    pub app_version: String,
    pub updated: String,
}

impl From<&Record> for ReleaseRow {
    fn from(r: &Record) -> Self {
        Self {
            name: r.name.clone(),
            service_map: r.service_map.clone(),
            revision: r.revision,
            status: r.status.as_str().into(),
            package: r.package.name.clone(),
            version: r.package.version.to_string(),
            app_version: r.package.app_version.clone().unwrap_or_default(),
            updated: r.updated.clone(),
        }
    }
}

pub fn list(
    target: &dyn Target,
    service_map: Option<&ServiceMapName>,
) -> Result<Vec<ReleaseRow>, OpError> {
    let mut out = Vec::new();
    for (sm, rel) in target.releases(service_map)? {
        let (Ok(sm), Ok(rel)) = (ServiceMapName::new(sm), ReleaseName::new(rel)) else {
            continue;
        };
        let records = target.records(&sm, &rel)?;
        if let Some(r) = release::current(&records).filter(|r| r.status != Status::Uninstalled) {
            out.push(ReleaseRow::from(r));
        }
    }
    Ok(out)
}

pub fn history(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
) -> Result<Vec<(ReleaseRow, String)>, OpError> {
    let records = target.records(service_map, release)?;
    if records.is_empty() {
        return Err(OpError::Invalid(format!(
            "release `{release}` has no history in service map `{service_map}`"
        )));
    }
    Ok(records
        .iter()
        .map(|r| (ReleaseRow::from(r), r.description.clone()))
        .collect())
}

/// A revision's user-supplied values, with secret values masked unless `show_secrets`.
pub fn values_of(record: &Record, show_secrets: bool) -> Map<String, Value> {
    let mut v = record.values.clone();
    if !show_secrets {
        values::mask_secrets(&mut v, &record.secret_paths);
    }
    v.as_object().cloned().unwrap_or_default()
}

/// A revision of a release: the given one, or the current one.
pub fn revision(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
    revision: Option<u64>,
) -> Result<Record, OpError> {
    let records = target.records(service_map, release)?;
    let found = match revision {
        Some(n) => records.iter().find(|r| r.revision == n),
        None => release::current(&records),
    };
    found.cloned().ok_or_else(|| {
        OpError::Invalid(match revision {
            Some(n) => format!(
                "release `{release}` has no revision {n} in service map `{service_map}` (see `cocktail-pkg history {release}`)"
            ),
            None => format!("release `{release}` is not installed in service map `{service_map}`"),
        })
    })
}

#[derive(Debug, Clone)]
pub struct RollbackOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// Default: the newest revision before the current one that was deployed.
    pub to: Option<u64>,
    pub dry_run: bool,
    pub history_max: usize,
    pub holder: String,
    pub now: UnixTime,
    pub apply: ApplySettings,
}

/// Makes a new revision that re-applies an earlier revision's manifest and values.
pub fn rollback(target: &dyn Target, opts: &RollbackOptions) -> Result<DeployOutcome, OpError> {
    rollback_with(target, opts, &mut |_| {})
}

/// [`rollback`], reporting each round of `--wait` to `progress`.
pub fn rollback_with(
    target: &dyn Target,
    opts: &RollbackOptions,
    progress: &mut dyn FnMut(&Observation),
) -> Result<DeployOutcome, OpError> {
    let (mut held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
        opts.dry_run,
    )?;
    let current = installed(&records, &opts.service_map, &opts.release)?;
    let to = match opts.to {
        Some(n) => records
            .iter()
            .find(|r| r.revision == n)
            .cloned()
            .ok_or_else(|| {
                OpError::Invalid(format!(
                    "release `{}` has no revision {n} (see `cocktail-pkg history {}`)",
                    opts.release, opts.release
                ))
            })?,
        None => records
            .iter()
            .filter(|r| {
                r.revision < current.revision
                    && matches!(r.status, Status::Superseded | Status::Deployed)
            })
            .max_by_key(|r| r.revision)
            .cloned()
            .ok_or_else(|| {
                OpError::Invalid(format!(
                    "release `{}` has no earlier revision to roll back to",
                    opts.release
                ))
            })?,
    };
    let desired: Vec<crate::render::RenderedObject> = manifest_objects(&to.manifest)
        .into_iter()
        .map(|(id, object)| crate::render::RenderedObject {
            template: String::new(),
            id,
            object,
        })
        .collect();
    let plan = plan_against(&desired, &records);
    refuse_immutable(&plan, "rollback")?;
    let revision = records.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let now = format_rfc3339(opts.now);
    let mut record = Record {
        revision,
        status: Status::PendingRollback,
        policy: current.policy.clone(),
        failed_versions: current.failed_versions.clone(),
        created: now.clone(),
        updated: now,
        description: String::new(),
        ..to.clone()
    };
    if opts.dry_run {
        record.description = format!("Dry run: rollback to {}", to.revision);
        return Ok(DeployOutcome {
            record,
            plan,
            dry_run: true,
        });
    }
    commit(
        &mut held,
        Revision {
            record,
            plan,
            previous: records,
            history_max: opts.history_max,
            done: format!("Rollback to {}", to.revision),
            failed: format!("Rollback to {} failed", to.revision),
        },
        opts.apply,
        progress,
    )
}

/// The workloads whose pods a release runs, by kind.
const WORKLOAD_KINDS: [&str; 5] = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

/// Finds a workload of a manifest by `NAME` or `KIND/NAME` (kind case-insensitive).
fn find_workload<'a>(
    objects: &'a mut [(ObjectId, Value)],
    spec: &str,
    kinds: &[&str],
) -> Result<&'a mut (ObjectId, Value), OpError> {
    let (kind, name) = match spec.split_once('/') {
        Some((k, n)) => (Some(k.to_lowercase()), n),
        None => (None, spec),
    };
    let matches: Vec<usize> = objects
        .iter()
        .enumerate()
        .filter(|(_, (id, _))| {
            kinds.contains(&id.kind.as_str())
                && id.name == name
                && kind.as_ref().is_none_or(|k| *k == id.kind.to_lowercase())
        })
        .map(|(i, _)| i)
        .collect();
    let names = || {
        objects
            .iter()
            .filter(|(id, _)| kinds.contains(&id.kind.as_str()))
            .map(|(id, _)| format!("{}/{}", id.kind, id.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match matches.as_slice() {
        [i] => Ok(&mut objects[*i]),
        [] => Err(OpError::Invalid(format!(
            "the release has no workload `{spec}` (workloads: {})",
            names()
        ))),
        _ => Err(OpError::Invalid(format!(
            "`{spec}` names several workloads; say which with KIND/NAME (workloads: {})",
            names()
        ))),
    }
}

/// The pod template of a workload (`spec.template`, or a CronJob's job template's).
fn pod_template_mut<'a>(kind: &str, object: &'a mut Value) -> Option<&'a mut Value> {
    if kind == "CronJob" {
        object.pointer_mut("/spec/jobTemplate/spec/template")
    } else {
        object.pointer_mut("/spec/template")
    }
}

#[derive(Debug, Clone)]
pub struct SetImageOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// `NAME`, `KIND/NAME`; with `/CONTAINER` after it when the pod has several containers.
    pub workload: String,
    pub container: Option<String>,
    pub image: String,
    pub dry_run: bool,
    pub history_max: usize,
    pub holder: String,
    pub now: UnixTime,
    pub apply: ApplySettings,
}

/// Makes a new revision that only replaces one container's image. The next `upgrade`
/// re-renders the package and so returns to the package's image unless values set it.
pub fn set_image(
    target: &dyn Target,
    opts: &SetImageOptions,
    progress: &mut dyn FnMut(&Observation),
) -> Result<DeployOutcome, OpError> {
    if opts.image.trim().is_empty() || opts.image.contains(char::is_whitespace) {
        return Err(OpError::Invalid(format!(
            "`{}` is not an image reference (REGISTRY/NAME:TAG or NAME@sha256:...)",
            opts.image
        )));
    }
    let (mut held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
        opts.dry_run,
    )?;
    let current = installed(&records, &opts.service_map, &opts.release)?;
    let before = manifest_objects(&current.manifest);
    let mut objects = before.clone();
    let (id, object) = find_workload(&mut objects, &opts.workload, &WORKLOAD_KINDS)?;
    let id = id.clone();
    let template = pod_template_mut(&id.kind, object)
        .ok_or_else(|| OpError::Invalid(format!("{id} has no pod template")))?;
    let mut found = None;
    let mut names = Vec::new();
    for list in ["containers", "initContainers"] {
        if let Some(containers) = template
            .pointer_mut(&format!("/spec/{list}"))
            .and_then(Value::as_array_mut)
        {
            for c in containers.iter_mut() {
                let name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                names.push(name.clone());
                let wanted = match &opts.container {
                    Some(want) => *want == name,
                    None => list == "containers",
                };
                if wanted {
                    found = Some(found.map_or(1, |n: usize| n + 1));
                    c["image"] = Value::String(opts.image.clone());
                }
            }
        }
    }
    match (found, &opts.container) {
        (Some(1), _) => {}
        (None, Some(c)) => {
            return Err(OpError::Invalid(format!(
                "{id} has no container `{c}` (containers: {})",
                names.join(", ")
            )));
        }
        (None, None) => return Err(OpError::Invalid(format!("{id} has no containers"))),
        (Some(_), _) => {
            return Err(OpError::Invalid(format!(
                "{id} has several containers ({}); name one: {}/CONTAINER=IMAGE",
                names.join(", "),
                opts.workload
            )));
        }
    }
    let desired: Vec<crate::render::RenderedObject> = objects
        .iter()
        .map(|(id, object)| crate::render::RenderedObject {
            template: String::new(),
            id: id.clone(),
            object: object.clone(),
        })
        .collect();
    let plan = plan_against(&desired, &records);
    refuse_immutable(&plan, "set-image")?;
    let mut manifest = String::new();
    for (_, o) in &objects {
        manifest.push_str("---\n");
        manifest.push_str(&yaml::to_string(o)?);
    }
    let revision = records.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let now = format_rfc3339(opts.now);
    let target_name = match &opts.container {
        Some(c) => format!("{}/{}/{c}", id.kind, id.name),
        None => format!("{}/{}", id.kind, id.name),
    };
    let record = Record {
        revision,
        status: Status::PendingUpgrade,
        manifest,
        created: now.clone(),
        updated: now,
        description: format!("Set image {target_name}={}", opts.image),
        ..current
    };
    if opts.dry_run {
        return Ok(DeployOutcome {
            record,
            plan,
            dry_run: true,
        });
    }
    let done = record.description.clone();
    commit(
        &mut held,
        Revision {
            record,
            plan,
            previous: records,
            history_max: opts.history_max,
            done,
            failed: format!("Set image {target_name} failed"),
        },
        opts.apply,
        progress,
    )
}

/// The pod-template annotation `restart` sets, as `kubectl rollout restart` sets
/// `kubectl.kubernetes.io/restartedAt`.
pub const RESTARTED_AT: &str = "cocktail.io/restartedAt";
/// The field manager of `restart`: the annotation is not part of the release's revisions, so
/// the next upgrade neither removes it nor rolls the pods again.
pub const RESTART_MANAGER: &str = "cocktail-pkg-restart";

#[derive(Debug, Clone)]
pub struct RestartOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// `NAME` or `KIND/NAME`; default: every Deployment, StatefulSet and DaemonSet.
    pub workload: Option<String>,
    pub holder: String,
    pub now: UnixTime,
    pub wait: Option<WaitOptions>,
}

/// Rolls the pods of a release's workloads by stamping their pod templates.
pub fn restart(
    target: &dyn Target,
    opts: &RestartOptions,
    progress: &mut dyn FnMut(&Observation),
) -> Result<Vec<ObjectId>, OpError> {
    const KINDS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];
    let (mut held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
        false,
    )?;
    let current = installed(&records, &opts.service_map, &opts.release)?;
    let mut objects = manifest_objects(&current.manifest);
    let chosen: Vec<(ObjectId, Value)> = match &opts.workload {
        Some(w) => vec![find_workload(&mut objects, w, &KINDS)?.clone()],
        None => objects
            .into_iter()
            .filter(|(id, _)| KINDS.contains(&id.kind.as_str()))
            .collect(),
    };
    if chosen.is_empty() {
        return Err(OpError::Invalid(format!(
            "release `{}` has no Deployment, StatefulSet or DaemonSet to restart",
            opts.release
        )));
    }
    let stamp = format_rfc3339(opts.now);
    for (id, object) in &chosen {
        let partial = serde_json::json!({
            "apiVersion": object.get("apiVersion").cloned().unwrap_or(Value::Null),
            "kind": id.kind,
            "metadata": {"name": id.name, "namespace": id.namespace},
            "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}},
        });
        target.apply_as(id, &partial, RESTART_MANAGER)?;
    }
    if let Some(w) = opts.wait {
        wait_ready(target, &chosen, w, &mut |obs| {
            progress(obs);
            held.renew_if_due(crate::time::now())
        })?;
    }
    Ok(chosen.into_iter().map(|(id, _)| id).collect())
}

/// `status`: the current revision and its objects' live state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub release: ReleaseRow,
    pub description: String,
    #[serde(flatten)]
    pub live: Observation,
    pub notes: Option<String>,
}

pub fn status(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
) -> Result<StatusReport, OpError> {
    let record = revision(target, service_map, release, None)?;
    if record.status == Status::Uninstalled {
        return Err(OpError::Invalid(format!(
            "release `{release}` was uninstalled (see `cocktail-pkg history {release}`)"
        )));
    }
    let objects = manifest_objects(&record.manifest);
    let live = super::wait::observe(target, &objects, crate::time::now())?;
    Ok(StatusReport {
        release: ReleaseRow::from(&record),
        description: record.description.clone(),
        live,
        notes: record.notes.clone(),
    })
}
