//! `rollback`: a new revision that re-applies an earlier revision's objects and values.

use super::OpError;
use super::commit::{
    ApplySettings, DeployOutcome, Revision, commit, hold, installed, manifest_objects,
    plan_against, refuse_immutable,
};
use super::wait::Observation;
use crate::model::{ReleaseName, ServiceMapName};
use crate::release::{Record, Status};
use crate::targets::{Holder, Target};
use crate::time::{UnixTime, format_rfc3339};

#[derive(Debug, Clone)]
pub struct RollbackOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// Default: the newest revision before the current one that was deployed.
    pub to: Option<u64>,
    pub dry_run: bool,
    pub history_max: usize,
    pub holder: Holder,
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
            .ok_or_else(|| OpError::NotFound {
                release: opts.release.to_string(),
                service_map: opts.service_map.to_string(),
                revision: Some(n),
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
    let desired: Vec<crate::render::RenderedObject> = manifest_objects(&to)?
        .into_iter()
        .map(|(id, object)| crate::render::RenderedObject {
            template: String::new(),
            id,
            object,
        })
        .collect();
    let plan = plan_against(&desired, &records)?;
    refuse_immutable(&plan, "rollback")?;
    let revision = super::commit::next_revision(&records)?;
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
            up_to_date: false,
            drift: Vec::new(),
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
            event: Some("rollback"),
        },
        opts.apply,
        progress,
    )
}
