//! `set-image`: a new revision that only replaces one container's image.

use serde_json::Value;

use super::OpError;
use super::commit::{
    ApplySettings, DeployOutcome, Revision, WORKLOAD_KINDS, commit, find_workload, hold, installed,
    manifest_objects, plan_edited, pod_template_mut,
};
use super::wait::Observation;
use crate::model::{ReleaseName, ServiceMapName};
use crate::release::{Record, Status};
use crate::targets::{Holder, Target};
use crate::time::{UnixTime, format_rfc3339};

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
    pub holder: Holder,
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
    let before = manifest_objects(&current)?;
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
    let (plan, manifest) = plan_edited(&objects, &records, "set-image")?;
    let revision = super::commit::next_revision(&records)?;
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
            up_to_date: false,
            drift: Vec::new(),
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
            event: None,
        },
        opts.apply,
        progress,
    )
}
