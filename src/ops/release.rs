//! `install`, `upgrade`, `uninstall`, `list`, `history`: releases on a [`Target`].
//!
//! Every operation holds the release's lease for its whole run. A deploy writes a pending
//! record first, applies the plan, then marks the revision deployed (or failed, never left
//! pending), supersedes the previous one and prunes history. A lease taken over from an
//! interrupted operation marks that operation's pending revision failed first.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Generation, OpError, ValuesSources, load_package, placeholder};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::plan::{self, Action, Plan};
use crate::release::{self, PackageRef, Record, Status};
use crate::render::{self, Capabilities, ReleaseInfo, RenderContext};
use crate::target::{ApplyMode, Lease, Target, TargetError};
use crate::time::{UnixTime, format_rfc3339};
use crate::values;
use crate::yaml;

/// How long a lease lasts without renewal.
pub const LEASE_TTL_SECS: i64 = 300;

impl From<TargetError> for OpError {
    fn from(e: TargetError) -> Self {
        OpError::Target(e)
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

struct Held<'a> {
    target: &'a dyn Target,
    lease: Lease,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.target.release_lease(&self.lease);
    }
}

fn hold<'a>(
    target: &'a dyn Target,
    sm: &ServiceMapName,
    rel: &ReleaseName,
    holder: &str,
    now: UnixTime,
) -> Result<(Held<'a>, Vec<Record>), OpError> {
    let lease = target.acquire(sm, rel, holder, LEASE_TTL_SECS, now)?;
    let held = Held { target, lease };
    let mut records = target.records(sm, rel)?;
    if held.lease.took_over_from.is_some() {
        for r in records.iter_mut().filter(|r| r.status.is_pending()) {
            r.status = Status::Failed;
            r.updated = format_rfc3339(now);
            r.description = format!(
                "interrupted: the operation holding the lease ({}) stopped before finishing",
                held.lease.took_over_from.clone().unwrap_or_default()
            );
            target.write_record(r)?;
        }
    }
    Ok((held, records))
}

/// Installs or upgrades a release.
pub fn deploy(target: &dyn Target, opts: &DeployOptions) -> Result<DeployOutcome, OpError> {
    let pkg = load_package(&opts.package, None)?;
    let (_held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
    )?;
    let current = release::current(&records).filter(|r| r.status != Status::Uninstalled);
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
    let previous = current
        .map(|c| manifest_objects(&c.manifest))
        .unwrap_or_default();
    let plan = plan::plan(&rendered.objects, &previous);
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
            digest: None,
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
    };
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
        target,
        record,
        plan,
        records,
        opts.history_max,
        done.into(),
        failed,
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

/// Writes the pending revision, applies the plan, and ends the revision deployed (superseding
/// the previous ones and pruning history) or failed — never left pending.
fn commit(
    target: &dyn Target,
    mut record: Record,
    plan: Plan,
    previous: Vec<Record>,
    history_max: usize,
    done: String,
    failed: &str,
) -> Result<DeployOutcome, OpError> {
    target.write_record(&record)?;
    if let Err(e) = apply_plan(target, &plan) {
        record.status = Status::Failed;
        record.description = format!("{failed}: {}", crate::error_chain(&e));
        target.write_record(&record)?;
        return Err(e.into());
    }
    record.status = Status::Deployed;
    record.description = done;
    target.write_record(&record)?;
    for mut r in previous
        .into_iter()
        .filter(|r| r.status == Status::Deployed || r.status == Status::Failed)
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
    Ok(DeployOutcome {
        record,
        plan,
        dry_run: false,
    })
}

fn apply_plan(target: &dyn Target, plan: &Plan) -> Result<(), TargetError> {
    for c in &plan.changes {
        match (c.action, &c.after) {
            (Action::Create | Action::Update, Some(after)) => {
                target.apply(
                    &c.id,
                    after,
                    ApplyMode::Commit {
                        force_conflicts: false,
                    },
                )?;
            }
            (Action::Delete, _) => target.delete(&c.id)?,
            _ => {}
        }
    }
    Ok(())
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
    )?;
    let Some(current) = release::current(&records)
        .filter(|r| r.status != Status::Uninstalled)
        .cloned()
    else {
        return Err(OpError::Invalid(format!(
            "release `{}` is not installed in service map `{}`",
            opts.release, opts.service_map
        )));
    };
    let mut objects = manifest_objects(&current.manifest);
    objects.sort_by_key(|(id, _)| std::cmp::Reverse(plan::kind_rank(&id.kind)));
    let (mut deleted, mut kept) = (Vec::new(), Vec::new());
    for (id, obj) in objects {
        let keep_annotation = obj
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(plan::KEEP_ANNOTATION))
            .and_then(Value::as_str)
            == Some("keep");
        if keep_annotation || (id.kind == "PersistentVolumeClaim" && !opts.delete_volumes) {
            kept.push(id);
        } else {
            target.delete(&id)?;
            deleted.push(id);
        }
    }
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
}

/// Makes a new revision that re-applies an earlier revision's manifest and values.
pub fn rollback(target: &dyn Target, opts: &RollbackOptions) -> Result<DeployOutcome, OpError> {
    let (_held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
    )?;
    let current = release::current(&records)
        .filter(|r| r.status != Status::Uninstalled)
        .cloned()
        .ok_or_else(|| {
            OpError::Invalid(format!(
                "release `{}` is not installed in service map `{}`",
                opts.release, opts.service_map
            ))
        })?;
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
    let plan = plan::plan(&desired, &manifest_objects(&current.manifest));
    refuse_immutable(&plan, "rollback")?;
    let revision = records.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let now = format_rfc3339(opts.now);
    let mut record = Record {
        revision,
        status: Status::PendingRollback,
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
    let failed = format!("Rollback to {} failed", to.revision);
    commit(
        target,
        record,
        plan,
        records,
        opts.history_max,
        format!("Rollback to {}", to.revision),
        &failed,
    )
}
