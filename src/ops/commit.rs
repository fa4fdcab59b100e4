//! The commit engine every release operation shares: the release's lease and records
//! ([`hold`]), the objects the release has applied ([`applied_objects`], [`plan_against`]), and
//! [`commit`]: the pending record, the apply in kind waves, the wait, the end `deployed` or
//! `failed` (never left pending), the `--atomic` undo, superseding and pruning history.
//!
//! Every operation holds the release's lease for its whole run. A lease taken over from an
//! interrupted operation marks that operation's pending revision failed first.
//!
//! Nothing here may panic on input (records are read from the target, numbers come from flags
//! and the environment): arithmetic is checked or saturating, which clippy enforces.

#![deny(clippy::arithmetic_side_effects)]

use serde::Serialize;
use serde_json::Value;

use super::OpError;
use super::wait::{Observation, WaitOptions, wait_ready};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::plan::{self, Action, Plan};
use crate::release::{self, Record, Status};
use crate::targets::{ApplyMode, Holder, Lease, Target, TargetError};
use crate::time::{UnixTime, format_rfc3339};
use crate::values;
use crate::yaml;

/// How long a lease lasts without renewal.
pub const LEASE_TTL_SECS: i64 = 300;

/// The lease TTL: `COCKTAIL_PKG_LEASE_TTL` seconds, else [`LEASE_TTL_SECS`]. A shorter TTL
/// recovers sooner from a killed process; the lease is renewed at half its TTL while waiting.
pub fn lease_ttl() -> i64 {
    // Unset or not a number: the default, as documented.
    let setting = std::env::var(crate::env::LEASE_TTL).ok();
    setting
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|t| *t > 0)
        .map_or(LEASE_TTL_SECS, |t| {
            t.min(i64::try_from(crate::time::MAX_DURATION_SECS).unwrap_or(i64::MAX))
        })
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
    /// Do not run a chart's hooks (`--no-hooks`).
    pub no_hooks: bool,
    /// How long each hook may run (`--timeout`); [`super::hooks::DEFAULT_HOOK_TIMEOUT`] if unset.
    pub hook_timeout: Option<std::time::Duration>,
}

impl ApplySettings {
    fn hook_settings(&self) -> super::hooks::HookSettings {
        let timeout = self
            .hook_timeout
            .unwrap_or(super::hooks::DEFAULT_HOOK_TIMEOUT);
        super::hooks::HookSettings {
            timeout,
            interval: self
                .wait
                .map_or_else(|| WaitOptions::new(timeout).interval, |w| w.interval),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DeployOutcome {
    pub record: Record,
    pub plan: Plan,
    pub dry_run: bool,
    /// Nothing changed, so no revision was made: `record` is the current one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub up_to_date: bool,
    /// Fields of the release's objects another field manager changed (dry runs: what `diff`
    /// shows; `--correct-drift`: what was restored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<crate::drift::ObjectDrift>,
}

/// The objects a revision owns: its manifest's documents, each accounted for by its
/// inventory and the other way round. A document that does not parse, an object the inventory
/// does not name or an inventory entry without its object is an error naming the record and
/// the document: uninstall, prune and rollback must never leave an object behind silently.
pub fn manifest_objects(record: &Record) -> Result<Vec<(ObjectId, Value)>, OpError> {
    let bad = |detail: String| OpError::Inventory {
        release: record.name.clone(),
        revision: record.revision,
        detail,
    };
    let mut objects: Vec<(ObjectId, Value)> = Vec::new();
    for (line, doc) in yaml::split_documents(&record.manifest) {
        if yaml::is_blank(&doc) {
            continue;
        }
        let value = yaml::from_str::<Value>("manifest", &doc).map_err(|e| {
            bad(format!(
                "the manifest document at line {line} does not parse: {}",
                crate::error_chain(&e)
            ))
        })?;
        let id = crate::targets::object_id(&value).ok_or_else(|| {
            bad(format!(
                "the manifest document at line {line} is not an object with apiVersion, kind and metadata.name"
            ))
        })?;
        if !record.inventory.contains(&id) {
            return Err(bad(format!(
                "the manifest holds {id} (line {line}), which the inventory does not name"
            )));
        }
        objects.push((id, value));
    }
    if let Some(missing) = record
        .inventory
        .iter()
        .find(|id| !objects.iter().any(|(o, _)| o == *id))
    {
        return Err(bad(format!(
            "the inventory names {missing}, which the manifest does not hold"
        )));
    }
    Ok(objects)
}

/// What a release's revisions have applied: the last deployed revision's objects, overlaid
/// with those of later failed or interrupted revisions (they may have applied part of theirs).
/// `clean` is false when there are such revisions: then no object can be assumed unchanged.
pub(crate) fn applied_objects(
    records: &[Record],
) -> Result<(Vec<(ObjectId, Value)>, bool), OpError> {
    let mut sorted: Vec<&Record> = records.iter().collect();
    sorted.sort_by_key(|r| r.revision);
    if sorted
        .last()
        .is_none_or(|r| r.status == Status::Uninstalled)
    {
        return Ok((Vec::new(), true));
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
        for (id, obj) in manifest_objects(r)? {
            match objects.iter_mut().find(|(k, _)| *k == id) {
                Some(slot) => slot.1 = obj,
                None => objects.push((id, obj)),
            }
        }
    }
    Ok((objects, clean))
}

/// Plans moving from what the release applied to `desired`; after a failed or interrupted
/// revision every object is applied again (server-side apply makes that safe).
pub(crate) fn plan_against(
    desired: &[crate::render::RenderedObject],
    records: &[Record],
) -> Result<Plan, OpError> {
    let (previous, clean) = applied_objects(records)?;
    let mut plan = plan::plan(desired, &previous);
    if !clean {
        plan.reapply_unchanged();
    }
    Ok(plan)
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
        .ok_or_else(|| OpError::NotFound {
            release: release.to_string(),
            service_map: service_map.to_string(),
            revision: None,
        })
}

/// The release's lease while an operation runs (none for a dry run: it only reads).
pub(crate) struct Held<'a> {
    pub(crate) target: &'a dyn Target,
    pub(crate) lease: Option<Lease>,
}

impl Held<'_> {
    /// Renews the lease when less than half its time is left.
    pub(crate) fn renew_if_due(&mut self, now: UnixTime) -> Result<(), TargetError> {
        let ttl = lease_ttl();
        if let Some(lease) = &mut self.lease
            && lease.expires.saturating_sub(now) <= ttl.div_euclid(2)
        {
            *lease = self.target.renew(lease, ttl, now)?;
        }
        Ok(())
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(lease) = &self.lease {
            // Nothing can be returned from a drop, and the outcome of the operation is what
            // the user needs to hear; a lease that could not be given back expires on its own
            // (and a gone process's lease is taken over at once on this host).
            let _expires_on_its_own = self.target.release_lease(lease);
        }
    }
}

/// Takes the release's lease and reads its records; a lease taken over from an interrupted
/// operation marks that operation's pending revision failed. A dry run (`diff`, `--dry-run`)
/// only reads: it takes no lease, so it needs no write access and never waits for one.
pub(crate) fn hold<'a>(
    target: &'a dyn Target,
    sm: &ServiceMapName,
    rel: &ReleaseName,
    holder: &Holder,
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
        fail_pending(
            target,
            &mut records,
            now,
            &format!(
                "interrupted: the operation holding the lease ({previous}) stopped before finishing"
            ),
        )?;
    }
    Ok((held, records))
}

/// Marks the pending revisions among `records` failed (their operation stopped); returns them.
pub(crate) fn fail_pending(
    target: &dyn Target,
    records: &mut [Record],
    now: UnixTime,
    description: &str,
) -> Result<Vec<u64>, OpError> {
    let mut failed = Vec::new();
    for r in records.iter_mut().filter(|r| r.status.is_pending()) {
        r.status = Status::Failed;
        r.updated = format_rfc3339(now);
        r.description = description.to_string();
        target.write_record(r)?;
        failed.push(r.revision);
    }
    Ok(failed)
}

/// Refuses a plan that changes fields Kubernetes cannot update, before anything is applied.
pub(crate) fn refuse_immutable(plan: &Plan, operation: &str) -> Result<(), OpError> {
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

/// A revision that edits the current revision's objects by hand (`set-image`, `scale`): its
/// plan against what the release applied (changes Kubernetes cannot make refused, naming
/// `operation`) and its manifest.
pub(crate) fn plan_edited(
    objects: &[(ObjectId, Value)],
    records: &[Record],
    operation: &str,
) -> Result<(Plan, String), OpError> {
    let desired: Vec<crate::render::RenderedObject> = objects
        .iter()
        .map(|(id, object)| crate::render::RenderedObject {
            template: String::new(),
            id: id.clone(),
            object: object.clone(),
        })
        .collect();
    let plan = plan_against(&desired, records)?;
    refuse_immutable(&plan, operation)?;
    let mut manifest = String::new();
    for (_, o) in objects {
        manifest.push_str("---\n");
        manifest.push_str(&yaml::to_string(o)?);
    }
    Ok((plan, manifest))
}

/// A revision ready to be committed.
pub(crate) struct Revision {
    pub(crate) record: Record,
    pub(crate) plan: Plan,
    /// The release's records before this revision.
    pub(crate) previous: Vec<Record>,
    pub(crate) history_max: usize,
    pub(crate) done: String,
    pub(crate) failed: String,
    /// The event of a chart's hooks (`install`, `upgrade`, `rollback`): its `pre-` hooks run
    /// before the objects are applied, its `post-` hooks after they are (and are ready, with
    /// `--wait`). `None`: no hooks (set-image, restart).
    pub(crate) event: Option<&'static str>,
}

/// Writes the pending revision, applies the plan (and waits), and ends the revision deployed
/// (superseding the previous ones and pruning history) or failed — never left pending. With
/// `--atomic`, a failure is undone: the previous deployed revision is re-applied as a new
/// revision, or a failed first install is removed.
pub(crate) fn commit(
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
        event,
    } = rev;
    // A signal received while rendering: stop before anything is written.
    super::interrupt::check()?;
    target.write_record(&record)?;
    // Whatever goes wrong while applying and waiting, a panic included, ends the revision
    // failed below, and `held` gives the lease back.
    let hooks = &mut record.hooks;
    let crds = &record.crds;
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (crd_plan, rest) = plan.split(|id| crds.contains(id));
        if crd_plan.has_changes() {
            // CRDs first, and Established before anything (a hook, a custom resource) uses
            // them. Force: a chart's CRDs are the chart's.
            apply_plan(target, &crd_plan, true)?;
            let w = settings
                .wait
                .unwrap_or_else(|| WaitOptions::new(settings.hook_settings().timeout));
            wait_ready(target, &crd_plan.desired(), w, &mut |_| {
                held.renew_if_due(crate::time::now())
            })?;
        }
        let run_hooks = |hooks: &mut [release::Hook], when: &str| -> Result<(), OpError> {
            match event {
                Some(e) if !settings.no_hooks => {
                    let event = format!("{when}-{e}");
                    super::hooks::run(
                        target,
                        hooks,
                        &event,
                        settings.hook_settings(),
                        &mut |_| {},
                    )?;
                    Ok(())
                }
                _ => Ok(()),
            }
        };
        run_hooks(hooks, "pre")?;
        apply_plan(target, &rest, settings.force_conflicts)?;
        if let Some(w) = settings.wait {
            let desired = rest.desired();
            let mut tick = |obs: &Observation| {
                progress(obs);
                held.renew_if_due(crate::time::now())
            };
            wait_ready(target, &desired, w, &mut tick)?;
            if let Some(soak_for) = settings.soak {
                super::wait::soak(target, &desired, soak_for, w.interval, &mut tick)?;
            }
        }
        run_hooks(hooks, "post")?;
        Ok(())
    }));
    let result =
        applied.unwrap_or_else(|panic| Err(OpError::Panicked(panic_message(panic.as_ref()))));
    if let Err(e) = result {
        record.status = Status::Failed;
        record.updated = format_rfc3339(crate::time::now());
        if let Some(signal) = super::interrupt::interrupted() {
            // Stopping was asked for: no --atomic undo, which would take as long again.
            record.description = format!("interrupted by {signal}");
            target.write_record(&record)?;
            return Err(OpError::Interrupted(signal));
        }
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
        up_to_date: false,
        drift: Vec::new(),
    })
}

/// The number of the next revision after `records`: an error, not an overflow, past u64::MAX.
pub(crate) fn next_revision(records: &[Record]) -> Result<u64, OpError> {
    let last = records.iter().map(|r| r.revision).max().unwrap_or(0);
    last.checked_add(1).ok_or_else(|| {
        OpError::Invalid(format!(
            "release `{}` has revision {last}, the last there can be",
            records.first().map_or("", |r| r.name.as_str())
        ))
    })
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
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
        let mut objects = manifest_objects(failed)?;
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
    let desired: Vec<crate::render::RenderedObject> = manifest_objects(good)?
        .into_iter()
        .map(|(id, object)| crate::render::RenderedObject {
            template: String::new(),
            id,
            object,
        })
        .collect();
    let back = plan::plan(&desired, &manifest_objects(failed)?);
    // Force: the failed revision's fields are ours, and nothing may block the way back.
    apply_plan(target, &back, true)?;
    let mut failed_versions = failed.failed_versions.clone();
    if failed.package.version != good.package.version
        && !failed_versions.contains(&failed.package.version)
    {
        failed_versions.push(failed.package.version.clone());
    }
    let record = Record {
        revision: next_revision(std::slice::from_ref(failed))?,
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
pub(crate) fn in_waves<T: Sync>(
    items: &[T],
    kind_of: impl Fn(&T) -> &str + Sync,
    op: impl Fn(&T) -> Result<(), TargetError> + Sync,
) -> Result<(), OpError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Each item first checks for Ctrl-C/SIGTERM: an interrupted apply stops between objects.
    let op = |item: &T| -> Result<(), OpError> {
        super::interrupt::check()?;
        Ok(op(item)?)
    };
    let mut start = 0;
    while let Some(first) = items.get(start) {
        let rank = plan::kind_rank(kind_of(first));
        let end = items
            .get(start..)
            .unwrap_or_default()
            .iter()
            .position(|i| plan::kind_rank(kind_of(i)) != rank)
            .map_or(items.len(), |n| start.saturating_add(n));
        let wave = items.get(start..end).unwrap_or_default();
        if let [only] = wave {
            op(only)?;
        } else {
            let next = AtomicUsize::new(0);
            let first_error: std::sync::Mutex<Option<OpError>> = std::sync::Mutex::new(None);
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
pub(crate) fn apply_plan(
    target: &dyn Target,
    plan: &Plan,
    force_conflicts: bool,
) -> Result<(), OpError> {
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

/// The workloads whose pods a release runs, by kind.
pub(crate) const WORKLOAD_KINDS: [&str; 5] =
    ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

/// Finds a workload of a manifest by `NAME` or `KIND/NAME` (kind case-insensitive).
pub(crate) fn find_workload<'a>(
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
pub(crate) fn pod_template_mut<'a>(kind: &str, object: &'a mut Value) -> Option<&'a mut Value> {
    if kind == "CronJob" {
        object.pointer_mut("/spec/jobTemplate/spec/template")
    } else {
        object.pointer_mut("/spec/template")
    }
}
