//! `restart`: rolls the pods of a release's workloads by stamping their pod templates, as
//! `kubectl rollout restart` does; no revision.

use serde_json::Value;

use super::OpError;
use super::commit::{find_workload, hold, installed, manifest_objects};
use super::wait::{Observation, WaitOptions, wait_ready};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::targets::{Holder, Target};
use crate::time::{UnixTime, format_rfc3339};

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
    pub holder: Holder,
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
    let mut objects = manifest_objects(&current)?;
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
