//! `exec` and `shell`: a command run in a container of a release's workload, through the
//! target's `pods/exec` subresource. The pod is the first ready pod of the workload (sorted by
//! name) unless one is named; the container the one named, else the pod's default one. The
//! command's exit code is returned, for the CLI to exit with.

use super::OpError;
use super::workload_pods::{
    check_container, default_container, pick_workload, pods_of, ready_pod, release_objects,
};
use crate::model::{ReleaseName, ServiceMapName};
use crate::targets::{ExecIo, ExecRequest, Target, TargetError};

/// What `shell` runs: bash when the container has it, else sh (one exec, so no failed attempt
/// is shown on the terminal).
pub const SHELL: [&str; 3] = [
    "sh",
    "-c",
    "command -v bash >/dev/null 2>&1 && exec bash || exec sh",
];

#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// `WORKLOAD[/CONTAINER]` (`web`, `Deployment/web`, `web/nginx`).
    pub workload: String,
    /// A pod of the workload, rather than its first ready one.
    pub pod: Option<String>,
    pub command: Vec<String>,
    /// Allocate a terminal.
    pub tty: bool,
}

/// Where a command runs: the pod and container picked.
pub fn resolve(target: &dyn Target, opts: &ExecOptions) -> Result<ExecRequest, OpError> {
    if opts.command.is_empty() {
        return Err(OpError::Invalid(
            "no command to run: give it after `--` (`cocktail-pkg exec RELEASE WORKLOAD -- ls /`)"
                .into(),
        ));
    }
    if !target.observes_live_state() {
        return Err(TargetError::Unsupported {
            action: "run commands in containers",
            target: target.describe(),
        }
        .into());
    }
    let objects = release_objects(target, &opts.service_map, &opts.release)?;
    let ((id, manifest), container) = pick_workload(&objects, &opts.workload)?;
    let pods = pods_of(target, &id, &manifest)?;
    let pod = ready_pod(&pods, &id, opts.pod.as_deref())?;
    let container = match container {
        Some(c) => {
            check_container(&pod, &c)?;
            Some(c)
        }
        None => default_container(&pod),
    };
    Ok(ExecRequest {
        namespace: pod
            .pointer("/metadata/namespace")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(opts.service_map.as_str())
            .to_string(),
        pod: super::workload_pods::name(&pod).to_string(),
        container,
        command: opts.command.clone(),
        tty: opts.tty,
    })
}

/// Runs the command of `request` (from [`resolve`]) with its streams on `io`; returns its exit
/// code.
pub fn exec(target: &dyn Target, request: &ExecRequest, io: ExecIo) -> Result<i32, OpError> {
    Ok(target.exec(request, io)?)
}
