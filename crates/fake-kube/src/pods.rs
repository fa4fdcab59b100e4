//! Run-to-completion workloads: Pod phases and container states, the per-object outcome knob
//! ([`OUTCOME`], [`EXIT_CODE`], [`LOG`]), the Job controller's pod and Job status, the events
//! the Job controller and the kubelet record, and `pods/{name}/log`.

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

const MESSAGE_BACKOFF: &str = "Job has reached the specified backoff limit";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// What the readiness mode says.
    Default,
    Succeed,
    Fail,
    Never,
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

/// The phase the kubelet would report for `pod`.
fn pod_phase(pod: &Value, readiness: Readiness) -> &'static str {
    let ready = readiness == Readiness::Immediate;
    match parse_outcome(annotation(pod, "/metadata", OUTCOME)) {
        Outcome::Fail => "Failed",
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
        (Outcome::Never | Outcome::Default, _) => {
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

    /// `GET pods/{name}/log`: the pod's [`LOG`] annotation (or `LOG.CONTAINER`), honouring
    /// `container`, `tailLines`, `limitBytes`, `timestamps` and `previous` (the same text).
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
        let text = annotation(pod, "/metadata", &format!("{LOG}.{container}"))
            .or_else(|| annotation(pod, "/metadata", LOG))
            .unwrap_or("");
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
        query_flag(q, "previous")?;
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
