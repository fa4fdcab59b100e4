//! `uninstall`: removes the objects of a release's inventory in reverse kind order (volumes
//! and objects annotated to keep stay), then its records (or marks the current one
//! uninstalled). A record whose objects cannot all be accounted for stops it before anything
//! is deleted.

use serde::Serialize;

use super::OpError;
use super::commit::{applied_objects, hold, in_waves, installed};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::plan;
use crate::release::Status;
use crate::targets::{Holder, Target};
use crate::time::{UnixTime, format_rfc3339};

#[derive(Debug, Clone)]
pub struct UninstallOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    pub keep_history: bool,
    pub delete_volumes: bool,
    pub holder: Holder,
    pub now: UnixTime,
    /// Do not run a chart's `pre-delete`/`post-delete` hooks.
    pub no_hooks: bool,
    /// How long each hook may run.
    pub hook_timeout: std::time::Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct UninstallOutcome {
    pub deleted: Vec<ObjectId>,
    /// CRDs of a chart, never deleted (deleting one deletes every custom resource of its kind).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept_crds: Vec<ObjectId>,
    /// The hooks that ran.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<super::hooks::HookReport>,
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
    // Every object the release may have applied: the inventories of the last deployed
    // revision and of any failed one after it (it may have applied part of its objects),
    // each checked against its manifest. Anything unaccounted for stops the uninstall before
    // anything is deleted.
    let (mut objects, _) = applied_objects(&records)?;
    objects.sort_by_key(|(id, _)| std::cmp::Reverse(plan::kind_rank(&id.kind)));
    let (mut deleted, mut kept) = (Vec::new(), Vec::new());
    for (id, obj) in objects {
        if plan::keeps(&obj) || (id.kind == "PersistentVolumeClaim" && !opts.delete_volumes) {
            kept.push(id);
        } else {
            deleted.push(id);
        }
    }
    let mut hooks = current.hooks.clone();
    let settings = super::hooks::HookSettings {
        timeout: opts.hook_timeout,
        interval: super::wait::WaitOptions::new(opts.hook_timeout).interval,
    };
    let mut reports = Vec::new();
    if !opts.no_hooks {
        // A failed pre-delete hook stops the uninstall before anything is deleted.
        reports.extend(super::hooks::run(
            target,
            &mut hooks,
            "pre-delete",
            settings,
            &mut |_| {},
        )?);
    }
    // Reverse kind order, the objects of one kind concurrently.
    in_waves(&deleted, |id| id.kind.as_str(), |id| target.delete(id))?;
    if !opts.no_hooks {
        reports.extend(super::hooks::run(
            target,
            &mut hooks,
            "post-delete",
            settings,
            &mut |_| {},
        )?);
    }
    let kept_crds = current.crds.clone();
    if opts.keep_history {
        let mut r = current;
        r.hooks = hooks;
        r.status = Status::Uninstalled;
        r.updated = format_rfc3339(opts.now);
        r.description = "Uninstalled".into();
        target.write_record(&r)?;
    } else {
        for r in &records {
            target.delete_record(&opts.service_map, &opts.release, r.revision)?;
        }
    }
    Ok(UninstallOutcome {
        deleted,
        kept_crds,
        hooks: reports,
        kept,
    })
}
