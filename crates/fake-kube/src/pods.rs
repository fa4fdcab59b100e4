//! Run-to-completion workloads: Pod phases and container states, the per-object outcome knob
//! ([`OUTCOME`], [`EXIT_CODE`], [`LOG`], [`PREVIOUS_LOG`]), troubled pods (crash loops, images
//! that cannot be pulled, OOM kills, pods no node can take), the Job controller's pod and Job
//! status, the Deployment controller's ReplicaSet and pods, the events the controllers, the
//! scheduler and the kubelet record, and `pods/{name}/log`.

use serde_json::{Map, Value, json};

use crate::controllers::{CONTROLLER, CondStyle, Readiness, condition};
use crate::events::{Event, NODE};
use crate::json::str_at;
use crate::resources::find_by_group_plural;
use crate::ssa::Sub;
use crate::store::{Query, Store, Write, key};
use crate::validation::ApiError;

/// The outcome knob: `succeed`, `fail` or `never`, on a Pod, a Job or a Job's pod template.
pub const OUTCOME: &str = "fake-kube.cocktail.io/outcome";
/// The exit code of a failed pod's containers (default 1).
pub const EXIT_CODE: &str = "fake-kube.cocktail.io/exit-code";
/// The log of a pod's containers (`LOG.CONTAINER` for one container).
pub const LOG: &str = "fake-kube.cocktail.io/log";
/// The log of a pod's previous (restarted) containers, what `previous=true` returns
/// (`PREVIOUS_LOG.CONTAINER` for one container).
pub const PREVIOUS_LOG: &str = "fake-kube.cocktail.io/previous-log";

/// How many times the containers of a crash-looping pod have restarted.
pub(crate) const CRASH_RESTARTS: i64 = 3;
/// What the scheduler says of a pod it cannot place.
pub(crate) const UNSCHEDULABLE_MESSAGE: &str = "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";

const MESSAGE_BACKOFF: &str = "Job has reached the specified backoff limit";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// What the readiness mode says.
    Default,
    Succeed,
    Fail,
    Never,
    /// Containers exit (code [`EXIT_CODE`]) and are restarted with back-off: `CrashLoopBackOff`.
    CrashLoop,
    /// The image cannot be pulled: `ImagePullBackOff`, the pod stays `Pending`.
    ImagePull,
    /// Containers are killed for their memory (`OOMKilled`, exit code 137) and restarted.
    OomKilled,
    /// No node can take the pod: `PodScheduled=False`, reason `Unschedulable`.
    Unschedulable,
}

fn annotation<'a>(obj: &'a Value, base: &str, name: &str) -> Option<&'a str> {
    obj.pointer(&format!("{base}/annotations"))
        .and_then(|a| a.get(name))
        .and_then(Value::as_str)
}

fn parse_outcome(v: Option<&str>) -> Outcome {
    match v {
        Some("succeed") => Outcome::Succeed,
        Some("fail") => Outcome::Fail,
        Some("never") => Outcome::Never,
        Some("crashloop") => Outcome::CrashLoop,
        Some("imagepull") => Outcome::ImagePull,
        Some("oomkilled") => Outcome::OomKilled,
        Some("unschedulable") => Outcome::Unschedulable,
        _ => Outcome::Default,
    }
}

/// A Job's outcome: its own annotation, else its pod template's.
pub(crate) fn job_outcome(job: &Value) -> Outcome {
    parse_outcome(
        annotation(job, "/metadata", OUTCOME)
            .or_else(|| annotation(job, "/spec/template/metadata", OUTCOME)),
    )
}

fn exit_code(pod: &Value) -> i64 {
    annotation(pod, "/metadata", EXIT_CODE)
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(1)
}

fn containers(pod: &Value, field: &str) -> Vec<(String, String)> {
    pod.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            (
                str_at(c, "/name").unwrap_or("").to_string(),
                str_at(c, "/image").unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn run_to_completion(pod: &Value) -> bool {
    matches!(
        str_at(pod, "/spec/restartPolicy"),
        Some("Never" | "OnFailure")
    )
}

/// The outcome a pod template asks for (a Deployment's pods).
pub(crate) fn template_outcome(workload: &Value) -> Outcome {
    parse_outcome(annotation(workload, "/spec/template/metadata", OUTCOME))
}

/// Whether pods of this outcome can become ready.
pub(crate) fn outcome_can_be_ready(o: Outcome) -> bool {
    matches!(o, Outcome::Default | Outcome::Succeed)
}

/// The phase the kubelet would report for `pod`.
fn pod_phase(pod: &Value, readiness: Readiness) -> &'static str {
    let ready = readiness == Readiness::Immediate;
    match parse_outcome(annotation(pod, "/metadata", OUTCOME)) {
        Outcome::Fail => "Failed",
        Outcome::CrashLoop | Outcome::OomKilled => "Running",
        Outcome::ImagePull | Outcome::Unschedulable => "Pending",
        Outcome::Never => {
            if ready {
                "Running"
            } else {
                "Pending"
            }
        }
        Outcome::Succeed if run_to_completion(pod) => "Succeeded",
        Outcome::Succeed => "Running",
        Outcome::Default if !ready => "Pending",
        Outcome::Default if run_to_completion(pod) => "Succeeded",
        Outcome::Default => "Running",
    }
}

/// The status of a Pod: `Pending`, `Running` (ready unless the outcome is `never`),
/// `Succeeded` (run-to-completion pods) or `Failed`, with container states.
pub(crate) fn pod_status(pod: &Value, readiness: Readiness, now: &str) -> Value {
    let old = pod.get("status");
    let phase = pod_phase(pod, readiness);
    let outcome = parse_outcome(annotation(pod, "/metadata", OUTCOME));
    if let Some(status) = troubled_pod_status(pod, outcome, now) {
        return status;
    }
    if phase == "Pending" {
        return json!({"phase": "Pending"});
    }
    let start = old
        .and_then(|o| o.get("startTime"))
        .cloned()
        .unwrap_or_else(|| now.into());
    let running_ready = phase == "Running"
        && parse_outcome(annotation(pod, "/metadata", OUTCOME)) != Outcome::Never;
    let ready_condition = match phase {
        "Running" if running_ready => {
            condition(old, "Ready", "True", "", "", CondStyle::Probe, now)
        }
        "Running" => condition(
            old,
            "Ready",
            "False",
            "ContainersNotReady",
            "containers with unready status",
            CondStyle::Probe,
            now,
        ),
        "Succeeded" => condition(
            old,
            "Ready",
            "False",
            "PodCompleted",
            "",
            CondStyle::Probe,
            now,
        ),
        _ => condition(
            old,
            "Ready",
            "False",
            "PodFailed",
            "",
            CondStyle::Probe,
            now,
        ),
    };
    let code = exit_code(pod);
    let statuses: Vec<Value> = containers(pod, "containers")
        .into_iter()
        .map(|(name, image)| {
            let state = match phase {
                "Running" => json!({"running": {"startedAt": start}}),
                "Succeeded" => json!({"terminated": {
                    "exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": start,
                }}),
                _ => json!({"terminated": {
                    "exitCode": code, "reason": "Error", "startedAt": start, "finishedAt": start,
                }}),
            };
            json!({
                "name": name,
                "state": state,
                "lastState": {},
                "ready": running_ready,
                "restartCount": 0,
                "image": image,
                "imageID": "",
                "started": phase == "Running",
            })
        })
        .collect();
    let mut s = Map::new();
    s.insert("phase".into(), phase.into());
    s.insert("conditions".into(), json!([ready_condition]));
    s.insert("hostIP".into(), "172.18.0.2".into());
    s.insert("podIP".into(), "10.244.0.10".into());
    s.insert("startTime".into(), start);
    s.insert("containerStatuses".into(), statuses.into());
    Value::Object(s)
}

/// The status of a pod whose outcome is trouble (`crashloop`, `oomkilled`, `imagepull`,
/// `unschedulable`), as the kubelet and the scheduler report it.
fn troubled_pod_status(pod: &Value, outcome: Outcome, now: &str) -> Option<Value> {
    let old = pod.get("status");
    let scheduled = |status: &str, reason: &str, message: &str| {
        condition(
            old,
            "PodScheduled",
            status,
            reason,
            message,
            CondStyle::Probe,
            now,
        )
    };
    if outcome == Outcome::Unschedulable {
        return Some(json!({
            "phase": "Pending",
            "conditions": [scheduled("False", "Unschedulable", UNSCHEDULABLE_MESSAGE)],
        }));
    }
    let pod_name = str_at(pod, "/metadata/name").unwrap_or("");
    let pod_ns = str_at(pod, "/metadata/namespace").unwrap_or("");
    let uid = str_at(pod, "/metadata/uid").unwrap_or("");
    let start = old
        .and_then(|o| o.get("startTime"))
        .cloned()
        .unwrap_or_else(|| now.into());
    let (phase, restarts) = match outcome {
        Outcome::CrashLoop | Outcome::OomKilled => ("Running", CRASH_RESTARTS),
        Outcome::ImagePull => ("Pending", 0),
        _ => return None,
    };
    let statuses: Vec<Value> = containers(pod, "containers")
        .into_iter()
        .map(|(name, image)| {
            let (state, last) = match outcome {
                Outcome::ImagePull => (
                    json!({"waiting": {"reason": "ImagePullBackOff",
                        "message": format!("Back-off pulling image \"{image}\"")}}),
                    json!({}),
                ),
                _ => {
                    let (code, reason) = if outcome == Outcome::OomKilled {
                        (137, "OOMKilled")
                    } else {
                        (exit_code(pod), "Error")
                    };
                    (
                        json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!(
                            "back-off 40s restarting failed container={name} pod={pod_name}_{pod_ns}({uid})"
                        )}}),
                        json!({"terminated": {"exitCode": code, "reason": reason,
                            "startedAt": start, "finishedAt": now}}),
                    )
                }
            };
            json!({
                "name": name,
                "state": state,
                "lastState": last,
                "ready": false,
                "restartCount": restarts,
                "image": image,
                "imageID": "",
                "started": false,
            })
        })
        .collect();
    let not_ready = condition(
        old,
        "Ready",
        "False",
        "ContainersNotReady",
        &format!(
            "containers with unready status: [{}]",
            containers(pod, "containers")
                .into_iter()
                .map(|c| c.0)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        CondStyle::Probe,
        now,
    );
    Some(json!({
        "phase": phase,
        "conditions": [scheduled("True", "", ""), not_ready],
        "hostIP": "172.18.0.2",
        "podIP": "10.244.0.10",
        "startTime": start,
        "containerStatuses": statuses,
    }))
}

/// The waiting reason of a pod's first container, or its scheduling trouble: what changes
/// when the kubelet or the scheduler has something new to report.
fn trouble(status: Option<&Value>) -> Option<String> {
    let status = status?;
    if let Some(c) = status
        .get("conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled"))
        && c["status"] == "False"
    {
        return Some("Unschedulable".into());
    }
    str_at(status, "/containerStatuses/0/state/waiting/reason").map(|r| {
        let last = str_at(status, "/containerStatuses/0/lastState/terminated/reason").unwrap_or("");
        format!("{r}/{last}")
    })
}

/// The status of a Job: complete, failed (`BackoffLimitExceeded`) or active.
pub(crate) fn job_status(job: &Value, readiness: Readiness, now: &str) -> Value {
    let old = job.get("status");
    let old_time = |k: &str| {
        old.and_then(|o| o.get(k))
            .cloned()
            .unwrap_or_else(|| now.into())
    };
    let completions = job
        .pointer("/spec/completions")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let ready = readiness == Readiness::Immediate;
    let mut s = Map::new();
    match (job_outcome(job), ready) {
        (Outcome::Fail, _) => {
            let target = condition(
                old,
                "FailureTarget",
                "True",
                "BackoffLimitExceeded",
                MESSAGE_BACKOFF,
                CondStyle::Probe,
                now,
            );
            let failed = condition(
                old,
                "Failed",
                "True",
                "BackoffLimitExceeded",
                MESSAGE_BACKOFF,
                CondStyle::Probe,
                now,
            );
            s.insert("conditions".into(), json!([target, failed]));
            s.insert("startTime".into(), old_time("startTime"));
            s.insert("failed".into(), 1.into());
        }
        (Outcome::Succeed, _) | (Outcome::Default, true) => {
            let complete = condition(
                old,
                "Complete",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                CondStyle::Probe,
                now,
            );
            s.insert("conditions".into(), json!([complete]));
            s.insert("startTime".into(), old_time("startTime"));
            s.insert("completionTime".into(), old_time("completionTime"));
            s.insert("succeeded".into(), completions.into());
        }
        _ => {
            s.insert("startTime".into(), old_time("startTime"));
            s.insert("active".into(), 1.into());
        }
    }
    s.insert("ready".into(), 0.into());
    Value::Object(s)
}

/// A boolean query parameter (`true`/`false`, `1`/`0`; absent is false).
fn query_flag(q: &Query, name: &str) -> Result<bool, ApiError> {
    match q.get(name).map(String::as_str) {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "invalid value for {name}: {other:?}"
        ))),
    }
}

fn condition_true(status: Option<&Value>, ctype: &str) -> bool {
    status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == ctype && c["status"] == "True")
        })
}

impl Store {
    /// The Job controller's pod: one per Job, created once, labelled and owned as the real
    /// controller does it; annotations of the template plus the Job's own knobs.
    pub(crate) fn ensure_job_pod(&mut self, job: &Value, now: &str) {
        let (Some(ns), Some(name), Some(uid)) = (
            str_at(job, "/metadata/namespace"),
            str_at(job, "/metadata/name"),
            str_at(job, "/metadata/uid"),
        ) else {
            return;
        };
        let has_pod = self.objects.iter().any(|(k, s)| {
            k.0.is_empty()
                && k.1 == "pods"
                && k.2 == ns
                && crate::controllers::owned_by(&s.obj, uid)
        });
        let Some(res) = find_by_group_plural("", "pods") else {
            return;
        };
        if has_pod {
            return;
        }
        let template = job
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null);
        let mut labels = template
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (k, v) in [
            ("batch.kubernetes.io/controller-uid", uid),
            ("batch.kubernetes.io/job-name", name),
            ("controller-uid", uid),
            ("job-name", name),
        ] {
            labels.insert(k.into(), v.into());
        }
        let mut annotations = template
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(own) = job
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        {
            for (k, v) in own {
                if k.starts_with("fake-kube.cocktail.io/") && !annotations.contains_key(k) {
                    annotations.insert(k.clone(), v.clone());
                }
            }
        }
        let base: String = name.chars().take(57).collect();
        let pod_name = format!("{base}-{}", self.random_suffix());
        let mut meta = Map::new();
        meta.insert("name".into(), pod_name.clone().into());
        meta.insert("namespace".into(), ns.into());
        meta.insert("labels".into(), labels.into());
        if !annotations.is_empty() {
            meta.insert("annotations".into(), annotations.into());
        }
        meta.insert(
            "ownerReferences".into(),
            json!([{
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": name,
                "uid": uid,
                "controller": true,
                "blockOwnerDeletion": true,
            }]),
        );
        let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
        if let Value::Object(m) = &mut spec {
            m.insert("nodeName".into(), NODE.into());
        }
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec});
        let w = Write {
            res,
            ns: Some(ns),
            name: &pod_name,
            sub: Sub::Main,
            dry_run: false,
            validate: false,
            now,
        };
        if let Err(e) = self.update_object(&w, None, pod, CONTROLLER) {
            tracing::warn!("fake kube: pod of job {name}: {}", e.message);
            return;
        }
        let ev = Event {
            kind: "Normal",
            reason: "SuccessfulCreate",
            message: format!("Created pod: {pod_name}"),
            component: "job-controller",
            field_path: None,
        };
        self.record_event(job, &ev, now);
        self.reconcile(&key(res, Some(ns), &pod_name), now);
    }

    /// The events of a status change made by a simulated controller.
    pub(crate) fn status_events(
        &mut self,
        obj: &Value,
        old: Option<&Value>,
        new: &Value,
        now: &str,
    ) {
        match (
            str_at(obj, "/apiVersion").unwrap_or(""),
            str_at(obj, "/kind").unwrap_or(""),
        ) {
            ("batch/v1", "Job") => {
                if condition_true(Some(new), "Failed") && !condition_true(old, "Failed") {
                    let ev = Event {
                        kind: "Warning",
                        reason: "BackoffLimitExceeded",
                        message: MESSAGE_BACKOFF.into(),
                        component: "job-controller",
                        field_path: None,
                    };
                    self.record_event(obj, &ev, now);
                }
                if condition_true(Some(new), "Complete") && !condition_true(old, "Complete") {
                    let ev = Event {
                        kind: "Normal",
                        reason: "Completed",
                        message: "Job completed".into(),
                        component: "job-controller",
                        field_path: None,
                    };
                    self.record_event(obj, &ev, now);
                }
            }
            ("v1", "PersistentVolumeClaim") => {
                let knob = annotation(obj, "/metadata", OUTCOME) == Some("fail");
                if knob && str_at(new, "/phase") == Some("Pending") && old.is_none() {
                    let class = str_at(obj, "/spec/storageClassName").unwrap_or("standard");
                    let ev = Event {
                        kind: "Warning",
                        reason: "ProvisioningFailed",
                        message: format!("storageclass.storage.k8s.io \"{class}\" not found"),
                        component: "persistentvolume-controller",
                        field_path: None,
                    };
                    self.record_event(obj, &ev, now);
                }
            }
            ("v1", "Pod") if trouble(Some(new)).is_some() => {
                if trouble(old) == trouble(Some(new)) {
                    return;
                }
                self.trouble_events(obj, new, now);
            }
            ("v1", "Pod") => {
                let was_failed = old.and_then(|o| str_at(o, "/phase")) == Some("Failed");
                if str_at(new, "/phase") != Some("Failed") || was_failed {
                    return;
                }
                let restarts = str_at(obj, "/spec/restartPolicy") != Some("Never");
                let pod = format!(
                    "{}_{}({})",
                    str_at(obj, "/metadata/name").unwrap_or(""),
                    str_at(obj, "/metadata/namespace").unwrap_or(""),
                    str_at(obj, "/metadata/uid").unwrap_or("")
                );
                let code = exit_code(obj);
                for (c, _) in containers(obj, "containers") {
                    let field_path = Some(format!("spec.containers{{{c}}}"));
                    if restarts {
                        let ev = Event {
                            kind: "Warning",
                            reason: "BackOff",
                            message: format!(
                                "Back-off restarting failed container {c} in pod {pod}"
                            ),
                            component: "kubelet",
                            field_path: field_path.clone(),
                        };
                        self.record_event(obj, &ev, now);
                    }
                    let ev = Event {
                        kind: "Warning",
                        reason: "Failed",
                        message: format!("Error: container {c} exited with code {code}"),
                        component: "kubelet",
                        field_path,
                    };
                    self.record_event(obj, &ev, now);
                }
            }
            _ => {}
        }
    }

    /// The kubelet's and the scheduler's events for a troubled pod: `FailedScheduling`, or per
    /// container `Failed`/`BackOff` for an image that cannot be pulled, `BackOff` (twice: the
    /// kubelet repeats it, the recorder counts) for a container that keeps exiting.
    fn trouble_events(&mut self, obj: &Value, new: &Value, now: &str) {
        if trouble(Some(new)).as_deref() == Some("Unschedulable") {
            let ev = Event {
                kind: "Warning",
                reason: "FailedScheduling",
                message: UNSCHEDULABLE_MESSAGE.into(),
                component: "default-scheduler",
                field_path: None,
            };
            self.record_event(obj, &ev, now);
            return;
        }
        let pod = format!(
            "{}_{}({})",
            str_at(obj, "/metadata/name").unwrap_or(""),
            str_at(obj, "/metadata/namespace").unwrap_or(""),
            str_at(obj, "/metadata/uid").unwrap_or("")
        );
        let statuses = new
            .get("containerStatuses")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for c in &statuses {
            let name = str_at(c, "/name").unwrap_or("");
            let image = str_at(c, "/image").unwrap_or("");
            let field_path = Some(format!("spec.containers{{{name}}}"));
            let mut events: Vec<(&str, &str, String)> = Vec::new();
            match str_at(c, "/state/waiting/reason") {
                Some("ImagePullBackOff") => {
                    events.push((
                        "Warning",
                        "Failed",
                        format!(
                            "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"
                        ),
                    ));
                    events.push(("Warning", "Failed", "Error: ErrImagePull".into()));
                    events.push((
                        "Normal",
                        "BackOff",
                        format!("Back-off pulling image \"{image}\""),
                    ));
                    events.push(("Warning", "Failed", "Error: ImagePullBackOff".into()));
                }
                Some("CrashLoopBackOff") => {
                    let backoff =
                        format!("Back-off restarting failed container {name} in pod {pod}");
                    events.push(("Warning", "BackOff", backoff.clone()));
                    events.push(("Warning", "BackOff", backoff));
                }
                _ => {}
            }
            for (kind, reason, message) in events {
                let ev = Event {
                    kind,
                    reason,
                    message,
                    component: "kubelet",
                    field_path: field_path.clone(),
                };
                self.record_event(obj, &ev, now);
            }
        }
    }

    /// `GET pods/{name}/log`: the pod's [`LOG`] annotation (or `LOG.CONTAINER`), honouring
    /// `container`, `tailLines`, `limitBytes`, `timestamps` and `previous` ([`PREVIOUS_LOG`], else the same text).
    pub(crate) fn pod_log(&self, ns: &str, name: &str, q: &Query) -> Result<String, ApiError> {
        let res = find_by_group_plural("", "pods")
            .ok_or_else(|| ApiError::internal("pods are not served"))?;
        let pod = self
            .objects
            .get(&key(res, Some(ns), name))
            .map(|s| &s.obj)
            .ok_or_else(|| ApiError::not_found(res, name))?;
        let names: Vec<String> = containers(pod, "containers")
            .into_iter()
            .map(|c| c.0)
            .collect();
        let init: Vec<String> = containers(pod, "initContainers")
            .into_iter()
            .map(|c| c.0)
            .collect();
        let container = match q.get("container").filter(|c| !c.is_empty()) {
            Some(c) => {
                if !names.contains(c) && !init.contains(c) {
                    return Err(ApiError::bad_request(format!(
                        "container {c} is not valid for pod {name}"
                    )));
                }
                c.clone()
            }
            None if names.len() == 1 => names[0].clone(),
            None => {
                let mut message = format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    names.join(" ")
                );
                if !init.is_empty() {
                    message.push_str(&format!(
                        " or one of the init containers: [{}]",
                        init.join(" ")
                    ));
                }
                return Err(ApiError::bad_request(message));
            }
        };
        if str_at(pod, "/status/phase").is_none_or(|p| p == "Pending") {
            return Err(ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
            )));
        }
        let previous = query_flag(q, "previous")?;
        let current = annotation(pod, "/metadata", &format!("{LOG}.{container}"))
            .or_else(|| annotation(pod, "/metadata", LOG));
        let text = if previous {
            let restarts = pod
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .and_then(|cs| {
                    cs.iter()
                        .find(|c| str_at(c, "/name") == Some(container.as_str()))
                })
                .and_then(|c| c.get("restartCount"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let text = annotation(pod, "/metadata", &format!("{PREVIOUS_LOG}.{container}"))
                .or_else(|| annotation(pod, "/metadata", PREVIOUS_LOG));
            match text {
                Some(t) if restarts > 0 => t,
                Some(_) => {
                    return Err(ApiError::bad_request(format!(
                        "previous terminated container \"{container}\" in pod \"{name}\" not found"
                    )));
                }
                // Without the knob, the log of the current container stands in.
                None => current.unwrap_or(""),
            }
        } else {
            current.unwrap_or("")
        };
        let mut lines: Vec<&str> = text.lines().collect();
        if let Some(n) = q.get("tailLines").filter(|n| !n.is_empty()) {
            let n: usize = n.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid value for tailLines: {n:?}"))
            })?;
            let skip = lines.len().saturating_sub(n);
            lines.drain(..skip);
        }
        let stamp = str_at(pod, "/status/startTime")
            .map(|t| t.replace('Z', ".000000000Z"))
            .unwrap_or_default();
        let timestamps = query_flag(q, "timestamps")?;
        let mut out = String::new();
        for l in lines {
            if timestamps {
                out.push_str(&stamp);
                out.push(' ');
            }
            out.push_str(l);
            out.push('\n');
        }
        if let Some(n) = q.get("limitBytes").filter(|n| !n.is_empty()) {
            let n: usize = n.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid value for limitBytes: {n:?}"))
            })?;
            let mut cut = n.min(out.len());
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
        }
        Ok(out)
    }
}

/// The revision annotation the Deployment controller writes on its ReplicaSets.
const REVISION: &str = "deployment.kubernetes.io/revision";

impl Store {
    /// The Deployment controller: a ReplicaSet per pod template (`NAME-HASH`, label
    /// `pod-template-hash`, annotation `deployment.kubernetes.io/revision`, owned by the
    /// Deployment) with `spec.replicas` pods (`NAME-HASH-xxxxx`, owned by the ReplicaSet, the
    /// template's labels and annotations, so the outcome knob applies); the ReplicaSets of older
    /// templates are scaled to 0 and their pods removed (a rollout done at once).
    pub(crate) fn ensure_deployment_pods(&mut self, dep: &Value, now: &str) {
        let (Some(ns), Some(name), Some(uid)) = (
            str_at(dep, "/metadata/namespace"),
            str_at(dep, "/metadata/name"),
            str_at(dep, "/metadata/uid"),
        ) else {
            return;
        };
        let (Some(rs_res), Some(pod_res)) = (
            find_by_group_plural("apps", "replicasets"),
            find_by_group_plural("", "pods"),
        ) else {
            return;
        };
        let template = dep
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null);
        let hash = crate::json::short_hash(&template, 10);
        let rs_name = format!("{name}-{hash}");
        let replicas = dep
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1)
            .max(0);
        let owned = |store: &Store, plural: &str, owner: &str| -> Vec<crate::store::Key> {
            store
                .objects
                .iter()
                .filter(|(k, s)| {
                    k.1 == plural && k.2 == ns && crate::controllers::owned_by(&s.obj, owner)
                })
                .map(|(k, _)| k.clone())
                .collect()
        };
        let mut newest_revision = 0i64;
        let mut current = None;
        for k in owned(self, "replicasets", uid) {
            let Some(stored) = self.objects.get(&k).cloned() else {
                continue;
            };
            let revision = annotation(&stored.obj, "/metadata", REVISION)
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0);
            newest_revision = newest_revision.max(revision);
            if k.3 == rs_name {
                current = Some(stored);
                continue;
            }
            if let Some(old_uid) = str_at(&stored.obj, "/metadata/uid").map(str::to_string) {
                for p in owned(self, "pods", &old_uid) {
                    self.remove_object(&p, "Background");
                }
            }
            if stored.obj.pointer("/spec/replicas").and_then(Value::as_i64) != Some(0) {
                let mut scaled = stored.obj.clone();
                if let Some(spec) = scaled.get_mut("spec").and_then(Value::as_object_mut) {
                    spec.insert("replicas".into(), 0.into());
                }
                self.controller_write(rs_res, ns, &k.3, Some(&stored), scaled, now);
            }
        }
        let mut labels = template
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        labels.insert("pod-template-hash".into(), hash.clone().into());
        let mut selector = dep
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        selector.insert("pod-template-hash".into(), hash.clone().into());
        let mut rs_template = template.clone();
        crate::json::meta_mut(&mut rs_template).insert("labels".into(), labels.clone().into());
        let revision = current
            .as_ref()
            .and_then(|c| annotation(&c.obj, "/metadata", REVISION).map(str::to_string))
            .unwrap_or_else(|| (newest_revision + 1).to_string());
        let rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name,
                "namespace": ns,
                "labels": labels,
                "annotations": {REVISION: revision},
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": uid,
                    "controller": true, "blockOwnerDeletion": true,
                }],
            },
            "spec": {"replicas": replicas, "selector": {"matchLabels": selector},
                     "template": rs_template},
        });
        let unchanged = current.as_ref().is_some_and(|c| {
            c.obj.get("spec") == rs.get("spec")
                && c.obj.pointer("/metadata/annotations") == rs.pointer("/metadata/annotations")
        });
        if !unchanged {
            let mut new = current
                .as_ref()
                .map_or_else(|| rs.clone(), |c| c.obj.clone());
            if let Some(m) = new.as_object_mut() {
                m.insert("spec".into(), rs["spec"].clone());
                if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert("annotations".into(), rs["metadata"]["annotations"].clone());
                }
            }
            self.controller_write(rs_res, ns, &rs_name, current.as_ref(), new, now);
            self.reconcile(&key(rs_res, Some(ns), &rs_name), now);
        }
        let Some(rs_uid) = self
            .objects
            .get(&key(rs_res, Some(ns), &rs_name))
            .and_then(|s| str_at(&s.obj, "/metadata/uid"))
            .map(str::to_string)
        else {
            return;
        };
        let pods = owned(self, "pods", &rs_uid);
        let want = usize::try_from(replicas).unwrap_or(0);
        for extra in pods.iter().skip(want) {
            self.remove_object(extra, "Background");
        }
        for _ in pods.len()..want {
            let pod_name = format!("{rs_name}-{}", self.random_suffix());
            let mut meta = Map::new();
            meta.insert("name".into(), pod_name.clone().into());
            meta.insert("namespace".into(), ns.into());
            meta.insert("labels".into(), labels.clone().into());
            if let Some(a) = template.pointer("/metadata/annotations") {
                meta.insert("annotations".into(), a.clone());
            }
            meta.insert(
                "ownerReferences".into(),
                json!([{
                    "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": rs_uid,
                    "controller": true, "blockOwnerDeletion": true,
                }]),
            );
            let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
            let unschedulable = parse_outcome(annotation(&template, "/metadata", OUTCOME))
                == Outcome::Unschedulable;
            if let Value::Object(m) = &mut spec
                && !unschedulable
            {
                m.insert("nodeName".into(), NODE.into());
            }
            let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec});
            if self.controller_write(pod_res, ns, &pod_name, None, pod, now) {
                let rs_obj = self
                    .objects
                    .get(&key(rs_res, Some(ns), &rs_name))
                    .map(|s| s.obj.clone())
                    .unwrap_or(Value::Null);
                let ev = Event {
                    kind: "Normal",
                    reason: "SuccessfulCreate",
                    message: format!("Created pod: {pod_name}"),
                    component: "replicaset-controller",
                    field_path: None,
                };
                self.record_event(&rs_obj, &ev, now);
                self.reconcile(&key(pod_res, Some(ns), &pod_name), now);
            }
        }
    }

    /// A write by the simulated controllers; false (and a log line) when it is refused.
    fn controller_write(
        &mut self,
        res: &'static crate::resources::ResourceDef,
        ns: &str,
        name: &str,
        old: Option<&crate::store::Stored>,
        obj: Value,
        now: &str,
    ) -> bool {
        let w = Write {
            res,
            ns: Some(ns),
            name,
            sub: Sub::Main,
            dry_run: false,
            validate: false,
            now,
        };
        match self.update_object(&w, old, obj, CONTROLLER) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!("fake kube: controller write of {name}: {}", e.message);
                false
            }
        }
    }
}
