//! Live state of objects: readiness rules for `cocktail-pkg status` and `--wait`.
//!
//! The model is kstatus (`sigs.k8s.io/cli-utils/pkg/kstatus`) and `kubectl rollout status`:
//! every object read back from the API server is given one [`State`] and a short, human
//! summary for a table. Everything here is pure: objects come in as `serde_json::Value`, the
//! time comes in as `now`, nothing does IO or reads the clock. Any field may be missing or of
//! the wrong type; the rules never panic, a field that cannot be read counts as absent.
//!
//! # Rules
//!
//! - Every kind: no live object is `Missing` ("not found"); `metadata.deletionTimestamp` set is
//!   `Progressing` ("terminating"). For the workload kinds (and any object with a status), a
//!   `status.observedGeneration` behind `metadata.generation` is `Progressing` ("waiting for
//!   the controller to observe generation N"): the rest of the status describes an older spec.
//! - Deployment: condition `Progressing=False` reason `ProgressDeadlineExceeded` is `Failed`.
//!   Fewer updated replicas than desired (`spec.replicas`, default 1), old replicas still
//!   running, or more replicas than desired are `Progressing`. Once the rollout is done,
//!   `min(readyReplicas, availableReplicas) == desired` is `Ready`; fewer is `Degraded` when
//!   condition `Available` is `False` (pods lost after the rollout) and `Progressing`
//!   otherwise (availability lags a rollout).
//! - StatefulSet: `OnDelete` updates are `Ready` once enough replicas are ready; otherwise a
//!   rolling update (`updateRevision != currentRevision`, or fewer updated replicas than the
//!   partition allows) is `Progressing`, then readiness as for a Deployment.
//! - DaemonSet: `Progressing` until `updatedNumberScheduled` and `numberAvailable` (or
//!   `numberReady`) reach `desiredNumberScheduled`.
//! - Job: condition `Failed=True` is `Failed`, `Complete=True` is `Ready`, a suspended Job is
//!   `Ready`, anything else is running, `Progressing`.
//! - CronJob: suspended is `Ready`; otherwise the newest Job it owns (from [`Related::jobs`])
//!   decides: failed is `Failed`, succeeded or still running is `Ready` (a CronJob is ready
//!   while its schedule runs); with no Job, `Ready` with the last schedule time.
//! - PersistentVolumeClaim: `Bound` is `Ready`, `Pending` `Progressing`, `Lost` `Failed`.
//! - Service: a LoadBalancer without an address is `Progressing`; a Service with a selector
//!   and no ready endpoint in [`Related::endpoint_slices`] is `Degraded`; else `Ready`.
//! - Ingress: `Ready` once the load balancer reports an address, else `Progressing`.
//! - HorizontalPodAutoscaler: `Ready`, `Degraded` when condition `ScalingActive` is `False`
//!   (except reason `ScalingDisabled`: the target is scaled to 0 on purpose).
//! - Pod: `Running` with every container ready or `Succeeded` is `Ready`, `Failed` is
//!   `Failed`, anything else `Progressing`.
//! - CustomResourceDefinition: `Established=True` is `Ready`, `NamesAccepted=False` `Failed`.
//! - Any other kind (ConfigMap, Secret, RBAC, custom resources...): kstatus' generic rules on
//!   the standard conditions: `Stalled=True` is `Failed`, `Reconciling=True` or a `Ready`
//!   condition not `True` is `Progressing`; without those, an object that exists is `Ready`
//!   ("present").
//!
//! `Unknown` is only for objects whose state cannot be observed at all ([`unobserved`]: a
//! target that keeps no live state).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::model::ObjectId;
use crate::render::labels::WORKLOAD_GROUP;
use crate::time::{UnixTime, format_rfc3339, parse_rfc3339};

/// The group name [`group_by_workload_group`] gives objects without a workload group.
pub const NO_GROUP: &str = "(no group)";

/// The summary of [`unobserved`].
pub const UNOBSERVED_SUMMARY: &str = "written; no live state on this target";

/// The live state of one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Reconciled and serving.
    Ready,
    /// A rollout, bind or run is under way.
    Progressing,
    /// The rollout is done but fewer replicas or endpoints serve than desired.
    Degraded,
    /// Will not get better by waiting (failed Job, progress deadline exceeded, lost volume).
    Failed,
    /// The object does not exist.
    Missing,
    /// The state cannot be observed.
    Unknown,
}

/// One object's state, with a short human summary for a table.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    pub id: ObjectId,
    pub state: State,
    pub summary: String,
    /// The `cocktail.io/workload-group` label of the live object (`None` when it is missing:
    /// callers that know the desired object may fill it in from [`workload_group`]).
    pub workload_group: Option<String>,
    /// Why it is not ready, in one line, from the live objects ([`diagnose`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The evidence behind `why`: pods, container states, log lines, warning events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// Other live objects some rules need, read from the object's namespace.
#[derive(Debug, Clone, Default)]
pub struct Related {
    /// EndpointSlices (`discovery.k8s.io/v1`), matched to Services by the
    /// `kubernetes.io/service-name` label.
    pub endpoint_slices: Vec<Value>,
    /// Jobs, matched to CronJobs by their `ownerReferences`.
    pub jobs: Vec<Value>,
    /// Pods, matched to workloads by `ownerReferences` (through the ReplicaSet of a
    /// Deployment's newest revision) or by selector, and to Services by selector.
    pub pods: Vec<Value>,
    /// ReplicaSets, matched to Deployments by their `ownerReferences`.
    pub replica_sets: Vec<Value>,
    /// core/v1 Events, matched by `involvedObject` kind and name.
    pub events: Vec<Value>,
    /// The last lines of container logs [`log_requests`] asked for, by (pod, container).
    pub logs: BTreeMap<(String, String), Vec<String>>,
}

/// The state of a whole release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Overall {
    Deployed,
    Progressing,
    Degraded,
    Failed,
    Unknown,
}

/// The state of one object from its live version (`None` when it does not exist).
pub fn assess(
    id: &ObjectId,
    live: Option<&Value>,
    related: &Related,
    now: UnixTime,
) -> ObjectStatus {
    let status = |state: State, summary: String, workload_group: Option<String>| ObjectStatus {
        id: id.clone(),
        state,
        summary,
        workload_group,
        why: None,
        explanation: None,
    };
    let obj = match live {
        None | Some(Value::Null) => return status(State::Missing, "not found".into(), None),
        Some(v) if !v.is_object() => {
            return status(State::Unknown, "live state is not an object".into(), None);
        }
        Some(v) => v,
    };
    let (state, summary) = if let Some(t) = str_at(obj, &["metadata", "deletionTimestamp"]) {
        (
            State::Progressing,
            format!("terminating (deletion requested {})", ago(t, now)),
        )
    } else {
        match (id.group.as_str(), id.kind.as_str()) {
            ("apps", "Deployment") => deployment(obj),
            ("apps", "StatefulSet") => stateful_set(obj),
            ("apps", "DaemonSet") => daemon_set(obj),
            ("batch", "Job") => job(obj, now),
            ("batch", "CronJob") => cron_job(id, obj, related, now),
            ("", "PersistentVolumeClaim") => pvc(obj),
            ("", "Service") => service(id, obj, related),
            ("", "Pod") => pod(obj),
            ("networking.k8s.io" | "extensions", "Ingress") => ingress(obj),
            ("autoscaling", "HorizontalPodAutoscaler") => hpa(obj),
            ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(obj),
            _ => generic(obj),
        }
    };
    status(state, summary, workload_group(obj))
}

/// The status of an object written to a target that keeps no live state: `Unknown`.
pub fn unobserved(id: &ObjectId, desired: &Value) -> ObjectStatus {
    ObjectStatus {
        id: id.clone(),
        state: State::Unknown,
        summary: UNOBSERVED_SUMMARY.into(),
        workload_group: workload_group(desired),
        why: None,
        explanation: None,
    }
}

/// The state of a release from the states of its objects: any `Failed` is `Failed`; else any
/// `Missing` or `Degraded` is `Degraded`; else any `Progressing` is `Progressing`; else all
/// `Unknown` is `Unknown`; else (and when empty) `Deployed`.
pub fn overall(statuses: &[ObjectStatus]) -> Overall {
    let any = |f: fn(State) -> bool| statuses.iter().any(|s| f(s.state));
    if any(|s| s == State::Failed) {
        Overall::Failed
    } else if any(|s| matches!(s, State::Missing | State::Degraded)) {
        Overall::Degraded
    } else if any(|s| s == State::Progressing) {
        Overall::Progressing
    } else if !statuses.is_empty() && statuses.iter().all(|s| s.state == State::Unknown) {
        Overall::Unknown
    } else {
        Overall::Deployed
    }
}

/// The `cocktail.io/workload-group` label of an object: on `metadata.labels`, else on the pod
/// template (`spec.template`), else on a CronJob's pod template
/// (`spec.jobTemplate.spec.template`). Empty values count as absent.
pub fn workload_group(object: &Value) -> Option<String> {
    const PLACES: [&[&str]; 3] = [
        &["metadata", "labels"],
        &["spec", "template", "metadata", "labels"],
        &[
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "metadata",
            "labels",
        ],
    ];
    PLACES.iter().find_map(|path| {
        at(object, path)?
            .get(WORKLOAD_GROUP)?
            .as_str()
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
    })
}

/// Whether `--wait` is done with this object: only `Ready` is.
pub fn is_ready(s: &ObjectStatus) -> bool {
    s.state == State::Ready
}

/// Statuses grouped by workload group, groups in first-seen order, objects in input order;
/// objects without a group come last under [`NO_GROUP`].
pub fn group_by_workload_group(statuses: &[ObjectStatus]) -> Vec<(String, Vec<&ObjectStatus>)> {
    let mut groups: Vec<(String, Vec<&ObjectStatus>)> = Vec::new();
    let mut ungrouped = Vec::new();
    for s in statuses {
        match s.workload_group.as_deref() {
            Some(g) if g != NO_GROUP => match groups.iter_mut().find(|(name, _)| name == g) {
                Some((_, members)) => members.push(s),
                None => groups.push((g.to_owned(), vec![s])),
            },
            _ => ungrouped.push(s),
        }
    }
    if !ungrouped.is_empty() {
        groups.push((NO_GROUP.to_owned(), ungrouped));
    }
    groups
}

// ---------------------------------------------------------------------------------------------
// Field access
// ---------------------------------------------------------------------------------------------

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path)?.as_str()
}

/// An integer field; integral floats are accepted, anything else is absent.
fn int_at(v: &Value, path: &[&str]) -> Option<i64> {
    let v = at(v, path)?;
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
}

fn bool_at(v: &Value, path: &[&str]) -> bool {
    at(v, path).and_then(Value::as_bool).unwrap_or(false)
}

fn count(v: &Value, path: &[&str]) -> i64 {
    int_at(v, path).unwrap_or(0).max(0)
}

/// `spec.replicas`, 1 when absent (the API server's default).
fn desired_replicas(obj: &Value) -> i64 {
    int_at(obj, &["spec", "replicas"]).unwrap_or(1).max(0)
}

/// The status object, when there is a non-empty one.
fn status_of(obj: &Value) -> Option<&Value> {
    obj.get("status")
        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
}

/// A condition from `status.conditions` by type.
fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    at(obj, &["status", "conditions"])?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

/// Whether condition `kind` has status `want` (`"True"`, `"False"`).
fn condition_is(obj: &Value, kind: &str, want: &str) -> bool {
    condition(obj, kind).and_then(|c| c.get("status")?.as_str()) == Some(want)
}

fn field<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c.get(name)?.as_str().filter(|s| !s.is_empty())
}

/// A condition's reason, else its message.
fn reason_of(c: Option<&Value>) -> Option<&str> {
    let c = c?;
    field(c, "reason").or_else(|| field(c, "message"))
}

/// `Progressing` summary when the controller has not seen the current spec yet.
fn generation_behind(obj: &Value) -> Option<String> {
    let generation = int_at(obj, &["metadata", "generation"])?;
    let observed = int_at(obj, &["status", "observedGeneration"])?;
    (observed < generation)
        .then(|| format!("waiting for the controller to observe generation {generation}"))
}

/// A timestamp as an age (`5m ago`), kubectl style; a time in the future is shown as is.
fn ago(t: &str, now: UnixTime) -> String {
    match parse_rfc3339(t) {
        Some(t) if t <= now => format!("{} ago", human_duration(now - t)),
        Some(t) => format_rfc3339(t),
        None => t.to_owned(),
    }
}

/// The age of a timestamp, kubectl style (`30s`, `5m`, `2h`, `3d`); `-` when there is none, the
/// text as is when it is not a time or is in the future.
pub fn age(t: &str, now: UnixTime) -> String {
    match parse_rfc3339(t) {
        _ if t.is_empty() => "-".into(),
        Some(t) if t <= now => human_duration(now - t),
        _ => t.to_owned(),
    }
}

fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 120 * 60 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn progressing(s: impl Into<String>) -> (State, String) {
    (State::Progressing, s.into())
}

fn ready(s: impl Into<String>) -> (State, String) {
    (State::Ready, s.into())
}

// ---------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------

fn deployment(obj: &Value) -> (State, String) {
    let (state, summary) = deployment_rollout(obj);
    if state == State::Progressing && bool_at(obj, &["spec", "paused"]) {
        (state, format!("{summary} (paused)"))
    } else {
        (state, summary)
    }
}

fn deployment_rollout(obj: &Value) -> (State, String) {
    let desired = desired_replicas(obj);
    let Some(status) = status_of(obj) else {
        return progressing("no status yet");
    };
    if let Some(behind) = generation_behind(obj) {
        return progressing(behind);
    }
    let progress = condition(obj, "Progressing");
    if condition_is(obj, "Progressing", "False")
        && progress.and_then(|c| field(c, "reason")) == Some("ProgressDeadlineExceeded")
    {
        return (State::Failed, "progress deadline exceeded".into());
    }
    let updated = count(status, &["updatedReplicas"]);
    let replicas = count(status, &["replicas"]);
    if updated < desired {
        return progressing(format!("{updated}/{desired} updated"));
    }
    if replicas > updated {
        return progressing("old replicas terminating");
    }
    if replicas > desired {
        return progressing(format!("scaling down: {replicas} -> {desired} replicas"));
    }
    if desired == 0 {
        return ready("scaled to 0");
    }
    let serving = count(status, &["readyReplicas"]).min(count(status, &["availableReplicas"]));
    let summary = format!("{serving}/{desired} ready");
    if serving >= desired {
        (State::Ready, summary)
    } else if condition_is(obj, "Available", "False") {
        (State::Degraded, summary)
    } else {
        (State::Progressing, summary)
    }
}

fn stateful_set(obj: &Value) -> (State, String) {
    let desired = desired_replicas(obj);
    let Some(status) = status_of(obj) else {
        return progressing("no status yet");
    };
    if let Some(behind) = generation_behind(obj) {
        return progressing(behind);
    }
    let ready_n = count(status, &["readyReplicas"]);
    let updated = count(status, &["updatedReplicas"]);
    let replicas = count(status, &["replicas"]);
    let readiness = || {
        let summary = format!("{ready_n}/{desired} ready");
        if desired == 0 && replicas == 0 {
            ready("scaled to 0")
        } else if ready_n >= desired {
            ready(summary)
        } else {
            progressing(summary)
        }
    };
    if str_at(obj, &["spec", "updateStrategy", "type"]) == Some("OnDelete") {
        return readiness();
    }
    if replicas > desired {
        return progressing(format!("scaling down: {replicas} -> {desired} replicas"));
    }
    let partition = int_at(
        obj,
        &["spec", "updateStrategy", "rollingUpdate", "partition"],
    )
    .unwrap_or(0)
    .max(0);
    if partition > 0 {
        let target = (desired - partition).max(0);
        if updated < target {
            return progressing(format!(
                "rolling update: {updated}/{target} updated (partition {partition})"
            ));
        }
    } else if let (Some(current), Some(update)) = (
        str_at(status, &["currentRevision"]),
        str_at(status, &["updateRevision"]),
    ) && current != update
    {
        return progressing(format!("rolling update: {updated}/{desired} updated"));
    }
    readiness()
}

fn daemon_set(obj: &Value) -> (State, String) {
    let Some(status) = status_of(obj) else {
        return progressing("no status yet");
    };
    if let Some(behind) = generation_behind(obj) {
        return progressing(behind);
    }
    let desired = count(status, &["desiredNumberScheduled"]);
    if desired == 0 {
        return ready("no nodes scheduled");
    }
    let updated = count(status, &["updatedNumberScheduled"]);
    if updated < desired {
        return progressing(format!("{updated}/{desired} updated"));
    }
    let available = int_at(status, &["numberAvailable"])
        .unwrap_or_else(|| count(status, &["numberReady"]))
        .max(0);
    if available < desired {
        return progressing(format!("{available}/{desired} ready"));
    }
    ready(format!("{available}/{desired} ready on nodes"))
}

/// Where a Job is, with the times its summary shows.
enum JobOutcome<'a> {
    Failed {
        why: Option<&'a str>,
        at: Option<&'a str>,
    },
    Succeeded {
        at: Option<&'a str>,
    },
    Suspended,
    Running {
        since: Option<&'a str>,
    },
}

fn job_outcome(obj: &Value) -> JobOutcome<'_> {
    if condition_is(obj, "Failed", "True") {
        let c = condition(obj, "Failed");
        return JobOutcome::Failed {
            why: reason_of(c),
            at: c.and_then(|c| field(c, "lastTransitionTime")),
        };
    }
    if condition_is(obj, "Complete", "True") {
        let at = str_at(obj, &["status", "completionTime"])
            .or_else(|| condition(obj, "Complete").and_then(|c| field(c, "lastTransitionTime")));
        return JobOutcome::Succeeded { at };
    }
    if bool_at(obj, &["spec", "suspend"]) {
        return JobOutcome::Suspended;
    }
    JobOutcome::Running {
        since: str_at(obj, &["status", "startTime"]),
    }
}

fn job(obj: &Value, now: UnixTime) -> (State, String) {
    match job_outcome(obj) {
        JobOutcome::Failed { why, .. } => (
            State::Failed,
            why.map_or_else(|| "failed".into(), |why| format!("failed: {why}")),
        ),
        JobOutcome::Succeeded { at } => ready(at.map_or_else(
            || "succeeded".into(),
            |t| format!("succeeded {}", ago(t, now)),
        )),
        JobOutcome::Suspended => ready("suspended"),
        JobOutcome::Running { .. } => {
            let Some(status) = status_of(obj) else {
                return progressing("no status yet");
            };
            let active = count(status, &["active"]);
            let succeeded = count(status, &["succeeded"]);
            let failed = count(status, &["failed"]);
            let mut summary = format!("running (active {active}, succeeded {succeeded}");
            if let Some(completions) = int_at(obj, &["spec", "completions"]) {
                summary.push_str(&format!("/{completions}"));
            }
            if failed > 0 {
                summary.push_str(&format!(", failed {failed}"));
            }
            summary.push(')');
            progressing(summary)
        }
    }
}

/// Whether `job` is owned by the CronJob `id`.
fn owned_by_cron_job(job: &Value, id: &ObjectId) -> bool {
    if let Some(ns) = str_at(job, &["metadata", "namespace"])
        && !ns.is_empty()
        && !id.namespace.is_empty()
        && ns != id.namespace
    {
        return false;
    }
    at(job, &["metadata", "ownerReferences"])
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                r.get("kind").and_then(Value::as_str) == Some("CronJob")
                    && r.get("name").and_then(Value::as_str) == Some(id.name.as_str())
            })
        })
}

fn job_started(job: &Value) -> Option<UnixTime> {
    str_at(job, &["status", "startTime"])
        .and_then(parse_rfc3339)
        .or_else(|| str_at(job, &["metadata", "creationTimestamp"]).and_then(parse_rfc3339))
}

fn cron_job(id: &ObjectId, obj: &Value, related: &Related, now: UnixTime) -> (State, String) {
    if bool_at(obj, &["spec", "suspend"]) {
        return ready("suspended");
    }
    let last = related
        .jobs
        .iter()
        .filter(|j| owned_by_cron_job(j, id))
        .max_by_key(|j| job_started(j));
    let when = |t: Option<&str>| t.map(|t| format!(" {}", ago(t, now))).unwrap_or_default();
    if let Some(last) = last {
        let started = str_at(last, &["status", "startTime"])
            .or_else(|| str_at(last, &["metadata", "creationTimestamp"]));
        return match job_outcome(last) {
            JobOutcome::Failed { why, at } => {
                let why = why.map(|w| format!(": {w}")).unwrap_or_default();
                (
                    State::Failed,
                    format!("last run failed{}{why}", when(at.or(started))),
                )
            }
            JobOutcome::Succeeded { at } => {
                ready(format!("last run succeeded{}", when(at.or(started))))
            }
            JobOutcome::Suspended => ready("last run suspended"),
            JobOutcome::Running { since } => match since.or(started) {
                Some(t) => ready(format!("running, started {}", ago(t, now))),
                None => ready("running"),
            },
        };
    }
    if let Some(t) = str_at(obj, &["status", "lastScheduleTime"]) {
        return ready(format!("last scheduled {}", ago(t, now)));
    }
    match str_at(obj, &["spec", "schedule"]) {
        Some(schedule) => ready(format!("not run yet (schedule {schedule})")),
        None => ready("not run yet"),
    }
}

fn pod(obj: &Value) -> (State, String) {
    let phase = str_at(obj, &["status", "phase"]);
    let statuses = at(obj, &["status", "containerStatuses"])
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let ready_n = statuses
        .iter()
        .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    let waiting: BTreeSet<&str> = statuses
        .iter()
        .filter_map(|c| str_at(c, &["state", "waiting", "reason"]))
        .collect();
    let waiting = if waiting.is_empty() {
        String::new()
    } else {
        format!(" ({})", waiting.into_iter().collect::<Vec<_>>().join(", "))
    };
    match phase {
        Some("Running") if !statuses.is_empty() && ready_n == statuses.len() => {
            ready(format!("Running, {ready_n}/{ready_n} ready"))
        }
        Some("Running") => progressing(format!(
            "Running, {ready_n}/{} ready{waiting}",
            statuses.len()
        )),
        Some("Succeeded") => ready("Succeeded"),
        Some("Failed") => {
            let why = str_at(obj, &["status", "reason"])
                .or_else(|| str_at(obj, &["status", "message"]))
                .filter(|w| !w.is_empty());
            (
                State::Failed,
                why.map_or_else(|| "Failed".into(), |w| format!("Failed: {w}")),
            )
        }
        Some(other) if !other.is_empty() => progressing(format!("{other}{waiting}")),
        _ => progressing("no status yet"),
    }
}

// ---------------------------------------------------------------------------------------------
// Storage, network, autoscaling, definitions
// ---------------------------------------------------------------------------------------------

fn pvc(obj: &Value) -> (State, String) {
    match str_at(obj, &["status", "phase"]) {
        Some("Bound") => {
            let mut summary = String::from("Bound");
            for part in [
                str_at(obj, &["status", "capacity", "storage"]),
                str_at(obj, &["spec", "storageClassName"]),
            ]
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            {
                summary.push(' ');
                summary.push_str(part);
            }
            ready(summary)
        }
        Some("Lost") => (State::Failed, "Lost".into()),
        Some(phase) if !phase.is_empty() => progressing(phase),
        _ => progressing("no status yet"),
    }
}

/// The addresses (`ip`, else `hostname`) in `status.loadBalancer.ingress`.
fn lb_addresses(obj: &Value) -> Vec<&str> {
    at(obj, &["status", "loadBalancer", "ingress"])
        .and_then(Value::as_array)
        .map(|ingress| {
            ingress
                .iter()
                .filter_map(|i| field(i, "ip").or_else(|| field(i, "hostname")))
                .collect()
        })
        .unwrap_or_default()
}

/// Ready endpoints of Service `id` in `slices`: endpoints whose `conditions.ready` is not
/// `false`, counted once per target (a dual-stack Service has one slice per address family).
fn ready_endpoints(id: &ObjectId, slices: &[Value]) -> usize {
    let mut seen = BTreeSet::new();
    for slice in slices {
        let labelled = at(slice, &["metadata", "labels", "kubernetes.io/service-name"])
            .and_then(Value::as_str)
            == Some(id.name.as_str());
        let ns = str_at(slice, &["metadata", "namespace"]).unwrap_or_default();
        if !labelled || (!ns.is_empty() && !id.namespace.is_empty() && ns != id.namespace) {
            continue;
        }
        let endpoints = slice.get("endpoints").and_then(Value::as_array);
        for ep in endpoints.into_iter().flatten() {
            if at(ep, &["conditions", "ready"]).and_then(Value::as_bool) == Some(false) {
                continue;
            }
            let target = ep.get("targetRef").filter(|t| t.is_object()).map(|t| {
                let part = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default();
                format!(
                    "ref:{}/{}/{}/{}",
                    part("kind"),
                    part("namespace"),
                    part("name"),
                    part("uid")
                )
            });
            match target {
                Some(target) => {
                    seen.insert(target);
                }
                None => {
                    let addresses = ep.get("addresses").and_then(Value::as_array);
                    for a in addresses.into_iter().flatten().filter_map(Value::as_str) {
                        seen.insert(format!("addr:{a}"));
                    }
                }
            }
        }
    }
    seen.len()
}

fn service(id: &ObjectId, obj: &Value, related: &Related) -> (State, String) {
    let kind = str_at(obj, &["spec", "type"])
        .filter(|t| !t.is_empty())
        .unwrap_or("ClusterIP");
    let mut parts: Vec<String> = Vec::new();
    let mut lb_pending = false;
    match kind {
        "ExternalName" => {
            let target = str_at(obj, &["spec", "externalName"]).unwrap_or_default();
            return ready(format!("ExternalName {target}").trim_end().to_owned());
        }
        "LoadBalancer" => {
            let addresses = lb_addresses(obj);
            if addresses.is_empty() {
                lb_pending = true;
                parts.push("waiting for a load-balancer address".into());
            } else {
                parts.push(format!("LoadBalancer {}", addresses.join(",")));
            }
        }
        "NodePort" => {
            let ports: Vec<String> = at(obj, &["spec", "ports"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| int_at(p, &["nodePort"]))
                .map(|p| p.to_string())
                .collect();
            if ports.is_empty() {
                parts.push("NodePort".into());
            } else {
                parts.push(format!("NodePort {}", ports.join(",")));
            }
        }
        other => match str_at(obj, &["spec", "clusterIP"]) {
            Some("None") => parts.push("headless".into()),
            Some(ip) if !ip.is_empty() => parts.push(format!("{other} {ip}")),
            _ => parts.push(other.to_owned()),
        },
    }
    let has_selector = at(obj, &["spec", "selector"])
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty());
    let state = if has_selector {
        let n = ready_endpoints(id, &related.endpoint_slices);
        match n {
            0 => parts.push("no ready endpoints".into()),
            1 => parts.push("1 endpoint".into()),
            n => parts.push(format!("{n} endpoints")),
        }
        if lb_pending {
            State::Progressing
        } else if n == 0 {
            State::Degraded
        } else {
            State::Ready
        }
    } else {
        parts.push("no selector (endpoints managed elsewhere)".into());
        if lb_pending {
            State::Progressing
        } else {
            State::Ready
        }
    };
    (state, parts.join(", "))
}

fn ingress(obj: &Value) -> (State, String) {
    let mut hosts: Vec<&str> = Vec::new();
    let rules = at(obj, &["spec", "rules"]).and_then(Value::as_array);
    for host in rules.into_iter().flatten().filter_map(|r| field(r, "host")) {
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    let hosts = if hosts.is_empty() {
        None
    } else {
        Some(format!("hosts: {}", hosts.join(", ")))
    };
    let addresses = lb_addresses(obj);
    if addresses.is_empty() {
        match hosts {
            Some(hosts) => progressing(format!("waiting for an address ({hosts})")),
            None => progressing("waiting for an address"),
        }
    } else {
        let addresses = addresses.join(",");
        match hosts {
            Some(hosts) => ready(format!("{addresses} {hosts}")),
            None => ready(addresses),
        }
    }
}

fn hpa(obj: &Value) -> (State, String) {
    let min = int_at(obj, &["spec", "minReplicas"]).unwrap_or(1);
    let range = match int_at(obj, &["spec", "maxReplicas"]) {
        Some(max) => format!("{min}-{max} replicas"),
        None => format!("min {min} replicas"),
    };
    let summary = match int_at(obj, &["status", "currentReplicas"]) {
        Some(current) => format!("current {current} / {range}"),
        None => range,
    };
    if condition_is(obj, "ScalingActive", "False") {
        let c = condition(obj, "ScalingActive");
        if c.and_then(|c| field(c, "reason")) == Some("ScalingDisabled") {
            return ready(format!("scaling disabled (target scaled to 0), {summary}"));
        }
        let why = reason_of(c).unwrap_or("ScalingActive is False");
        return (State::Degraded, format!("scaling inactive: {why}"));
    }
    ready(summary)
}

fn crd(obj: &Value) -> (State, String) {
    if condition_is(obj, "NamesAccepted", "False") {
        let why = reason_of(condition(obj, "NamesAccepted")).unwrap_or("NamesAccepted is False");
        return (State::Failed, format!("names not accepted: {why}"));
    }
    if condition_is(obj, "Established", "True") {
        ready("established")
    } else {
        progressing("not established yet")
    }
}

/// kstatus' rules for kinds without their own: the standard conditions, else present.
fn generic(obj: &Value) -> (State, String) {
    if status_of(obj).is_none() {
        return ready("present");
    }
    if let Some(behind) = generation_behind(obj) {
        return progressing(behind);
    }
    if condition_is(obj, "Stalled", "True") {
        let why = reason_of(condition(obj, "Stalled"));
        return (
            State::Failed,
            why.map_or_else(|| "stalled".into(), |w| format!("stalled: {w}")),
        );
    }
    if condition_is(obj, "Reconciling", "True") {
        let why = reason_of(condition(obj, "Reconciling"));
        return progressing(
            why.map_or_else(|| "reconciling".into(), |w| format!("reconciling: {w}")),
        );
    }
    if let Some(c) = condition(obj, "Ready") {
        if c.get("status").and_then(Value::as_str) == Some("True") {
            return ready("ready");
        }
        let why = reason_of(Some(c));
        return progressing(why.map_or_else(|| "not ready".into(), |w| format!("not ready: {w}")));
    }
    ready("present")
}

// ---------------------------------------------------------------------------------------------
// Why it is not ready
// ---------------------------------------------------------------------------------------------

/// How many log lines a cause quotes, and how many [`Explanation`] keeps per container.
pub const LOG_LINES: usize = 5;
/// How many warning events an [`Explanation`] keeps (the newest).
const EVENTS_KEPT: usize = 5;
/// How many containers' logs [`log_requests`] asks for, per object.
const LOGS_PER_OBJECT: usize = 2;

/// The evidence of why an object is not ready.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// Facts about the object itself: a Job's failed condition, a selector matching no pod.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Its pods (a workload's, a Service's selected ones), not-ready ones first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<PodExplanation>,
    /// The newest warning events of the object, its ReplicaSets and its pods, newest last.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventLine>,
}

/// One pod of a not-ready object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodExplanation {
    pub name: String,
    pub phase: String,
    pub ready: bool,
    /// Why this pod is not ready, when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Conditions that are not `True`: `PodScheduled=False Unschedulable: 0/3 nodes...`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    pub containers: Vec<ContainerExplanation>,
}

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerExplanation {
    pub name: String,
    pub ready: bool,
    pub restarts: i64,
    /// `running`, `waiting: CrashLoopBackOff (back-off 40s ...)`, `terminated: Error (exit code 1)`.
    pub state: String,
    /// The state of the previous instance, when it has restarted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_state: Option<String>,
    /// The last lines of its log (the previous instance's for a restarted container).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
}

/// One event, as `events` and `status --explain` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventLine {
    /// `Pod/web-7d4b9c-x2k4q`.
    pub object: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub message: String,
    pub count: u64,
    /// RFC 3339, as the server wrote it (empty when it wrote none).
    pub first_seen: String,
    pub last_seen: String,
}

/// A container log the diagnosis would quote: the caller reads it (the previous instance's
/// for a restarted container) and passes the last lines in [`Related::logs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogWanted {
    pub pod: String,
    pub container: String,
    pub previous: bool,
}

/// Why `live` (whose state is `state`) is not ready: a one-line cause and the evidence. `None`
/// for ready, missing and unobservable objects. Reads pods, ReplicaSets, events and logs from
/// `related`; without them it says less, never something false.
pub fn diagnose(
    id: &ObjectId,
    live: &Value,
    state: State,
    related: &Related,
) -> Option<(Option<String>, Explanation)> {
    if !matches!(state, State::Progressing | State::Degraded | State::Failed) {
        return None;
    }
    let pods = pods_of(id, live, related);
    let mut ex = Explanation::default();
    let mut involved: Vec<(String, String)> = vec![(id.kind.clone(), id.name.clone())];
    if id.kind == "Deployment" {
        for rs in owned(&related.replica_sets, "Deployment", &id.name) {
            involved.push(("ReplicaSet".into(), name_of(rs).to_owned()));
        }
    }
    for p in &pods {
        involved.push(("Pod".into(), name_of(p).to_owned()));
    }
    let warnings = warning_events(&related.events, &involved);
    let mut reports: Vec<PodExplanation> = pods
        .iter()
        .map(|p| explain_pod(p, related, &warnings))
        .collect();
    reports.sort_by_key(|r| r.ready);
    let first_cause = reports.iter().find_map(|r| r.cause.clone());
    let with_cause = reports.iter().filter(|r| r.cause.is_some()).count();
    let latest_warning = |names: &[(String, String)]| {
        warnings
            .iter()
            .rev()
            .find(|e| {
                names
                    .iter()
                    .any(|(k, n)| *k == e.kind_of && *n == e.name_of)
            })
            .map(|e| format!("{}: {}", e.line.reason, e.line.message))
    };
    let mut why = match (id.group.as_str(), id.kind.as_str()) {
        ("", "Service") => {
            let selector = at(live, &["spec", "selector"]).and_then(Value::as_object);
            match selector {
                Some(sel) if !sel.is_empty() => {
                    let text: Vec<String> = sel
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect();
                    let text = text.join(",");
                    if pods.is_empty() {
                        Some(format!("selector {text} matches no pod"))
                    } else {
                        let ready_n = reports.iter().filter(|r| r.ready).count();
                        let n = pods.len();
                        let pods_word = if n == 1 { "pod" } else { "pods" };
                        let mut w =
                            format!("selector {text} matches {n} {pods_word}, {ready_n} ready");
                        if let Some(c) = &first_cause {
                            w.push_str(&format!(": {c}"));
                        }
                        Some(w)
                    }
                }
                _ => None,
            }
        }
        ("batch", "Job") => {
            let failed = condition_is(live, "Failed", "True")
                .then(|| condition(live, "Failed"))
                .flatten()
                .map(|c| {
                    let text = |k| field(c, k).unwrap_or_default();
                    format!("{}: {}", text("reason"), text("message"))
                });
            if let Some(f) = &failed {
                ex.notes.push(format!("condition Failed=True {f}"));
            }
            first_cause.clone().or(failed)
        }
        _ => first_cause.clone(),
    };
    if with_cause > 1 && !matches!(id.kind.as_str(), "Service" | "Pod") {
        why = why.map(|w| format!("{w} (and {} more pods)", with_cause - 1));
    }
    if why.is_none() {
        why = latest_warning(&involved);
    }
    if why.is_none() && pods.is_empty() && is_pod_owner(id) {
        why = Some("no pods yet".into());
    }
    if let Some(w) = &why
        && w.starts_with("selector ")
    {
        ex.notes.push(w.clone());
    }
    ex.pods = reports;
    let keep = warnings.len().saturating_sub(EVENTS_KEPT);
    ex.events = warnings.into_iter().skip(keep).map(|w| w.line).collect();
    Some((why, ex))
}

/// The container logs [`diagnose`] would quote for `live`: those of containers that exited
/// (a crash loop's previous instance, a terminated container), a few per object.
pub fn log_requests(id: &ObjectId, live: &Value, related: &Related) -> Vec<LogWanted> {
    let mut out = Vec::new();
    for pod in pods_of(id, live, related) {
        for c in container_statuses(pod) {
            let name = field(c, "name").unwrap_or_default();
            let restarted = at(c, &["lastState", "terminated"]).is_some()
                && str_at(c, &["state", "waiting", "reason"]).is_some();
            let exited = int_at(c, &["state", "terminated", "exitCode"]).is_some_and(|e| e != 0);
            if (restarted || exited) && !name.is_empty() && out.len() < LOGS_PER_OBJECT {
                out.push(LogWanted {
                    pod: name_of(pod).to_owned(),
                    container: name.to_owned(),
                    previous: restarted,
                });
            }
        }
    }
    out
}

/// Whether pods of this kind come from a controller of it.
fn is_pod_owner(id: &ObjectId) -> bool {
    matches!(
        (id.group.as_str(), id.kind.as_str()),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet") | ("batch", "Job")
    )
}

fn name_of(v: &Value) -> &str {
    str_at(v, &["metadata", "name"]).unwrap_or_default()
}

/// The objects of `list` whose `ownerReferences` name `kind`/`name`.
fn owned<'a>(list: &'a [Value], kind: &str, name: &str) -> Vec<&'a Value> {
    list.iter()
        .filter(|o| {
            at(o, &["metadata", "ownerReferences"])
                .and_then(Value::as_array)
                .is_some_and(|refs| {
                    refs.iter().any(|r| {
                        r.get("kind").and_then(Value::as_str) == Some(kind)
                            && r.get("name").and_then(Value::as_str) == Some(name)
                    })
                })
        })
        .collect()
}

/// Whether `labels` has every `key: value` of `selector` (a non-empty map).
fn labels_match(selector: &serde_json::Map<String, Value>, obj: &Value) -> bool {
    !selector.is_empty()
        && selector
            .iter()
            .all(|(k, v)| at(obj, &["metadata", "labels", k]) == Some(v))
}

/// The pods of an object: a Deployment's through the ReplicaSet of its newest revision, a
/// StatefulSet's, DaemonSet's or Job's through `ownerReferences`, else by the selector's
/// `matchLabels`; a Service's by its selector; a Pod is its own.
pub fn pods_of<'a>(id: &ObjectId, live: &'a Value, related: &'a Related) -> Vec<&'a Value> {
    let by_selector = |sel: Option<&serde_json::Map<String, Value>>| -> Vec<&'a Value> {
        match sel {
            Some(sel) => related
                .pods
                .iter()
                .filter(|p| labels_match(sel, p))
                .collect(),
            None => Vec::new(),
        }
    };
    let match_labels = || at(live, &["spec", "selector", "matchLabels"]).and_then(Value::as_object);
    match (id.group.as_str(), id.kind.as_str()) {
        ("", "Pod") => vec![live],
        ("", "Service") => by_selector(at(live, &["spec", "selector"]).and_then(Value::as_object)),
        ("apps", "Deployment") => {
            let revision = |rs: &Value| {
                str_at(
                    rs,
                    &[
                        "metadata",
                        "annotations",
                        "deployment.kubernetes.io/revision",
                    ],
                )
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0)
            };
            let newest = owned(&related.replica_sets, "Deployment", &id.name)
                .into_iter()
                .max_by_key(|rs| {
                    (
                        revision(rs),
                        str_at(rs, &["metadata", "creationTimestamp"])
                            .and_then(parse_rfc3339)
                            .unwrap_or(0),
                    )
                });
            match newest {
                Some(rs) => owned(&related.pods, "ReplicaSet", name_of(rs)),
                None => by_selector(match_labels()),
            }
        }
        ("apps", "StatefulSet" | "DaemonSet") | ("batch", "Job") => {
            let pods = owned(&related.pods, &id.kind, &id.name);
            if pods.is_empty() {
                by_selector(match_labels())
            } else {
                pods
            }
        }
        _ => Vec::new(),
    }
}

fn container_statuses(pod: &Value) -> impl Iterator<Item = &Value> {
    ["initContainerStatuses", "containerStatuses"]
        .into_iter()
        .filter_map(|k| at(pod, &["status", k])?.as_array())
        .flatten()
}

/// A warning event with what it is about.
struct Warning {
    kind_of: String,
    name_of: String,
    time: String,
    line: EventLine,
}

/// The time an event was last seen: `lastTimestamp`, `series.lastObservedTime`, `eventTime`,
/// `firstTimestamp`, else its creation.
pub fn event_time(e: &Value) -> &str {
    [
        &["lastTimestamp"][..],
        &["series", "lastObservedTime"],
        &["eventTime"],
        &["firstTimestamp"],
        &["metadata", "creationTimestamp"],
    ]
    .iter()
    .find_map(|p| str_at(e, p).filter(|t| !t.is_empty()))
    .unwrap_or_default()
}

/// An event as a row: `Kind/name`, type, reason, message, count (at least 1), first and last
/// seen.
pub fn event_line(e: &Value) -> EventLine {
    let text = |p: &[&str]| str_at(e, p).unwrap_or_default().to_owned();
    let count = int_at(e, &["count"])
        .or_else(|| int_at(e, &["series", "count"]))
        .unwrap_or(1)
        .max(1);
    let first = [
        &["firstTimestamp"][..],
        &["eventTime"],
        &["metadata", "creationTimestamp"],
    ]
    .iter()
    .find_map(|p| str_at(e, p).filter(|t| !t.is_empty()))
    .unwrap_or_default()
    .to_owned();
    EventLine {
        object: format!(
            "{}/{}",
            text(&["involvedObject", "kind"]),
            text(&["involvedObject", "name"])
        ),
        kind: text(&["type"]),
        reason: text(&["reason"]),
        message: text(&["message"]),
        count: u64::try_from(count).unwrap_or(1),
        first_seen: first,
        last_seen: event_time(e).to_owned(),
    }
}

/// The warning events about `involved` (kind, name), oldest first.
fn warning_events(events: &[Value], involved: &[(String, String)]) -> Vec<Warning> {
    let mut out: Vec<Warning> = events
        .iter()
        .filter(|e| str_at(e, &["type"]) == Some("Warning"))
        .filter_map(|e| {
            let kind = str_at(e, &["involvedObject", "kind"])?;
            let name = str_at(e, &["involvedObject", "name"])?;
            involved
                .iter()
                .any(|(k, n)| k == kind && n == name)
                .then(|| Warning {
                    kind_of: kind.to_owned(),
                    name_of: name.to_owned(),
                    time: event_time(e).to_owned(),
                    line: event_line(e),
                })
        })
        .collect();
    out.sort_by(|a, b| a.time.cmp(&b.time));
    out
}

/// A pod's report: phase, conditions, containers and the cause of its not being ready.
fn explain_pod(pod: &Value, related: &Related, warnings: &[Warning]) -> PodExplanation {
    let name = name_of(pod).to_owned();
    let phase = str_at(pod, &["status", "phase"])
        .unwrap_or("Unknown")
        .to_owned();
    let conditions: Vec<String> = at(pod, &["status", "conditions"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| field(c, "status").is_some_and(|s| s != "True"))
        .map(|c| {
            let mut t = format!(
                "{}={}",
                field(c, "type").unwrap_or("?"),
                field(c, "status").unwrap_or("?")
            );
            if let Some(r) = field(c, "reason") {
                t.push_str(&format!(" {r}"));
            }
            if let Some(m) = field(c, "message") {
                t.push_str(&format!(": {m}"));
            }
            t
        })
        .collect();
    let containers: Vec<ContainerExplanation> = container_statuses(pod)
        .map(|c| {
            let cname = field(c, "name").unwrap_or("?").to_owned();
            ContainerExplanation {
                ready: c.get("ready").and_then(Value::as_bool) == Some(true),
                restarts: count(c, &["restartCount"]),
                state: state_text(c.get("state")),
                last_state: c
                    .get("lastState")
                    .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
                    .map(|s| state_text(Some(s))),
                log: related
                    .logs
                    .get(&(name.clone(), cname.clone()))
                    .cloned()
                    .unwrap_or_default(),
                name: cname,
            }
        })
        .collect();
    let ready = match phase.as_str() {
        "Succeeded" => true,
        "Running" => !containers.is_empty() && containers.iter().all(|c| c.ready),
        _ => false,
    };
    let cause = if ready {
        None
    } else {
        pod_cause(pod, &name, related, warnings)
    };
    PodExplanation {
        name,
        phase,
        ready,
        cause,
        conditions,
        containers,
    }
}

/// `running`, `waiting: REASON (message)`, `terminated: REASON (exit code N)`.
fn state_text(state: Option<&Value>) -> String {
    let Some(state) = state else {
        return "unknown".into();
    };
    if let Some(w) = state.get("waiting") {
        let mut t = format!("waiting: {}", field(w, "reason").unwrap_or("?"));
        if let Some(m) = field(w, "message") {
            t.push_str(&format!(" ({m})"));
        }
        t
    } else if let Some(t) = state.get("terminated") {
        format!(
            "terminated: {} (exit code {})",
            field(t, "reason").unwrap_or("?"),
            int_at(t, &["exitCode"]).unwrap_or(0)
        )
    } else if state.get("running").is_some() {
        "running".into()
    } else {
        "unknown".into()
    }
}

/// ` (last log lines: a | b)` when the log of that container was read.
fn log_suffix(related: &Related, pod: &str, container: &str) -> String {
    match related.logs.get(&(pod.to_owned(), container.to_owned())) {
        Some(lines) if !lines.is_empty() => {
            let keep = lines.len().saturating_sub(LOG_LINES.min(3));
            format!(" (last log lines: {})", lines[keep..].join(" | "))
        }
        _ => String::new(),
    }
}

/// Why one pod is not ready: scheduling, a waiting or failed container, a probe.
fn pod_cause(pod: &Value, name: &str, related: &Related, warnings: &[Warning]) -> Option<String> {
    if str_at(pod, &["status", "phase"]) == Some("Failed") {
        let why =
            str_at(pod, &["status", "reason"]).or_else(|| str_at(pod, &["status", "message"]));
        if let Some(w) = why.filter(|w| !w.is_empty()) {
            return Some(format!("pod failed: {w}"));
        }
    }
    if condition_is(pod, "PodScheduled", "False") {
        let c = condition(pod, "PodScheduled");
        let reason = c
            .and_then(|c| field(c, "reason"))
            .unwrap_or("Unschedulable");
        return Some(match c.and_then(|c| field(c, "message")) {
            Some(m) => format!("{reason}: {m}"),
            None => reason.to_owned(),
        });
    }
    let mut running_unready = None;
    for c in container_statuses(pod) {
        let cname = field(c, "name").unwrap_or("?");
        let restarts = count(c, &["restartCount"]);
        if let Some(reason) = str_at(c, &["state", "waiting", "reason"]) {
            let last = at(c, &["lastState", "terminated"]);
            match reason {
                "ContainerCreating" | "PodInitializing" => continue,
                "CrashLoopBackOff" | "RunContainerError" if last.is_some() => {
                    let code = last.and_then(|t| int_at(t, &["exitCode"])).unwrap_or(0);
                    let last_reason = last.and_then(|t| field(t, "reason")).unwrap_or_default();
                    let times = if restarts == 1 { "time" } else { "times" };
                    let head = if last_reason == "OOMKilled" {
                        format!(
                            "OOMKilled: container {cname} was killed for using more memory than its limit (exit code {code}), restarted {restarts} {times}"
                        )
                    } else {
                        format!(
                            "{reason}: container {cname} exited with code {code}, restarted {restarts} {times}"
                        )
                    };
                    return Some(head + &log_suffix(related, name, cname));
                }
                _ => {
                    return Some(match field(at(c, &["state", "waiting"])?, "message") {
                        Some(m) => format!("{reason}: {m}"),
                        None => format!("{reason}: container {cname}"),
                    });
                }
            }
        }
        if let Some(t) = at(c, &["state", "terminated"]) {
            let code = int_at(t, &["exitCode"]).unwrap_or(0);
            if code != 0 {
                return Some(format!(
                    "container {cname} terminated: {} (exit code {code}){}",
                    field(t, "reason").unwrap_or("Error"),
                    log_suffix(related, name, cname)
                ));
            }
        }
        if at(c, &["state", "running"]).is_some()
            && c.get("ready").and_then(Value::as_bool) != Some(true)
            && running_unready.is_none()
        {
            running_unready = Some(format!("container {cname} is running but not ready"));
        }
    }
    let latest = warnings
        .iter()
        .rev()
        .find(|w| w.kind_of == "Pod" && w.name_of == name)
        .map(|w| format!("{}: {}", w.line.reason, w.line.message));
    match (running_unready, latest) {
        (Some(r), Some(w)) => Some(format!("{r} ({w})")),
        (Some(r), None) => Some(r),
        (None, Some(w)) => Some(w),
        (None, None) => match str_at(pod, &["status", "phase"]) {
            Some("Pending") | None => Some(format!("pod {name} is Pending")),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2026-11-22T00:30:00Z
    const NOW: UnixTime = 1_795_307_400;

    fn id(group: &str, kind: &str, name: &str) -> ObjectId {
        ObjectId {
            group: group.into(),
            kind: kind.into(),
            namespace: "shop".into(),
            name: name.into(),
        }
    }

    fn check(group: &str, kind: &str, live: Value) -> (State, String) {
        check_with(group, kind, live, &Related::default())
    }

    fn check_with(group: &str, kind: &str, live: Value, related: &Related) -> (State, String) {
        let name = live
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("x")
            .to_owned();
        let s = assess(&id(group, kind, &name), Some(&live), related, NOW);
        (s.state, s.summary)
    }

    fn st(state: State, summary: &str) -> (State, String) {
        (state, summary.to_owned())
    }

    fn deploy(replicas: i64, status: Value) -> Value {
        json!({
            "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": replicas},
            "status": status,
        })
    }

    #[test]
    fn missing_and_unobserved() {
        let i = id("apps", "Deployment", "web");
        let s = assess(&i, None, &Related::default(), NOW);
        assert_eq!((s.state, s.summary.as_str()), (State::Missing, "not found"));
        assert_eq!(s.workload_group, None);
        let s = assess(&i, Some(&Value::Null), &Related::default(), NOW);
        assert_eq!(s.state, State::Missing);
        let s = assess(&i, Some(&json!("junk")), &Related::default(), NOW);
        assert_eq!(s.state, State::Unknown);

        let desired = json!({"metadata": {"labels": {"cocktail.io/workload-group": "front"}}});
        let s = unobserved(&i, &desired);
        assert_eq!(s.state, State::Unknown);
        assert_eq!(s.summary, UNOBSERVED_SUMMARY);
        assert_eq!(s.workload_group.as_deref(), Some("front"));
        assert!(!is_ready(&s));
    }

    #[test]
    fn deployment_rules() {
        let ready_status = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "availableReplicas": 3});
        assert_eq!(
            check("apps", "Deployment", deploy(3, ready_status.clone())),
            st(State::Ready, "3/3 ready")
        );
        // No status at all.
        assert_eq!(
            check("apps", "Deployment", json!({"spec": {"replicas": 3}})),
            st(State::Progressing, "no status yet")
        );
        // Generation not observed yet.
        let mut behind = ready_status.clone();
        behind["observedGeneration"] = json!(1);
        assert_eq!(
            check("apps", "Deployment", deploy(3, behind)),
            st(
                State::Progressing,
                "waiting for the controller to observe generation 2"
            )
        );
        // Rolling out.
        assert_eq!(
            check(
                "apps",
                "Deployment",
                deploy(
                    3,
                    json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 1})
                )
            ),
            st(State::Progressing, "1/3 updated")
        );
        assert_eq!(
            check(
                "apps",
                "Deployment",
                deploy(
                    3,
                    json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3,
                           "readyReplicas": 3, "availableReplicas": 3})
                )
            ),
            st(State::Progressing, "old replicas terminating")
        );
        // Deadline exceeded.
        let failed = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
            "conditions": [{"type": "Progressing", "status": "False",
                            "reason": "ProgressDeadlineExceeded"}]});
        assert_eq!(
            check("apps", "Deployment", deploy(3, failed)),
            st(State::Failed, "progress deadline exceeded")
        );
        // Updated but not all available: Progressing unless Available is False.
        let lagging = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 1, "availableReplicas": 1,
            "conditions": [{"type": "Available", "status": "True"}]});
        assert_eq!(
            check("apps", "Deployment", deploy(3, lagging)),
            st(State::Progressing, "1/3 ready")
        );
        let crashed = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 1, "availableReplicas": 1,
            "conditions": [{"type": "Available", "status": "False",
                            "reason": "MinimumReplicasUnavailable"}]});
        assert_eq!(
            check("apps", "Deployment", deploy(3, crashed)),
            st(State::Degraded, "1/3 ready")
        );
        // Scaled to 0; default of 1 replica.
        assert_eq!(
            check(
                "apps",
                "Deployment",
                deploy(0, json!({"observedGeneration": 2}))
            ),
            st(State::Ready, "scaled to 0")
        );
        let default_one = json!({"metadata": {"generation": 1}, "spec": {},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                       "readyReplicas": 1, "availableReplicas": 1}});
        assert_eq!(
            check("apps", "Deployment", default_one),
            st(State::Ready, "1/1 ready")
        );
        // Paused mid-rollout.
        let mut paused = deploy(3, json!({"observedGeneration": 2, "updatedReplicas": 1}));
        paused["spec"]["paused"] = json!(true);
        assert_eq!(
            check("apps", "Deployment", paused),
            st(State::Progressing, "1/3 updated (paused)")
        );
    }

    #[test]
    fn stateful_set_rules() {
        let sts = |strategy: Value, status: Value| {
            json!({"metadata": {"name": "db", "generation": 1},
                   "spec": {"replicas": 3, "updateStrategy": strategy}, "status": status})
        };
        let rolling = json!({"type": "RollingUpdate"});
        assert_eq!(
            check(
                "apps",
                "StatefulSet",
                sts(
                    rolling.clone(),
                    json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
                       "updatedReplicas": 1, "currentRevision": "db-a", "updateRevision": "db-b"})
                )
            ),
            st(State::Progressing, "rolling update: 1/3 updated")
        );
        assert_eq!(
            check(
                "apps",
                "StatefulSet",
                sts(
                    rolling.clone(),
                    json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 2,
                       "updatedReplicas": 3, "currentRevision": "db-b", "updateRevision": "db-b"})
                )
            ),
            st(State::Progressing, "2/3 ready")
        );
        assert_eq!(
            check(
                "apps",
                "StatefulSet",
                sts(
                    rolling.clone(),
                    json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
                       "updatedReplicas": 3, "currentRevision": "db-b", "updateRevision": "db-b"})
                )
            ),
            st(State::Ready, "3/3 ready")
        );
        assert_eq!(
            check(
                "apps",
                "StatefulSet",
                sts(
                    rolling.clone(),
                    json!({"observedGeneration": 0, "readyReplicas": 3})
                )
            ),
            st(
                State::Progressing,
                "waiting for the controller to observe generation 1"
            )
        );
        // OnDelete ignores revisions.
        let on_delete = json!({"type": "OnDelete"});
        assert_eq!(
            check(
                "apps",
                "StatefulSet",
                sts(
                    on_delete,
                    json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
                       "updatedReplicas": 0, "currentRevision": "db-a", "updateRevision": "db-b"})
                )
            ),
            st(State::Ready, "3/3 ready")
        );
        // A partition leaves the revisions different for good.
        let partitioned = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}});
        assert_eq!(
            check(
                "apps",
                "StatefulSet",
                sts(
                    partitioned.clone(),
                    json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
                       "updatedReplicas": 1, "currentRevision": "db-a", "updateRevision": "db-b"})
                )
            ),
            st(State::Ready, "3/3 ready")
        );
        assert_eq!(
            check(
                "apps",
                "StatefulSet",
                sts(
                    partitioned,
                    json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
                       "updatedReplicas": 0, "currentRevision": "db-a", "updateRevision": "db-b"})
                )
            ),
            st(
                State::Progressing,
                "rolling update: 0/1 updated (partition 2)"
            )
        );
    }

    #[test]
    fn daemon_set_rules() {
        let ds = |status: Value| json!({"metadata": {"generation": 4}, "status": status});
        assert_eq!(
            check(
                "apps",
                "DaemonSet",
                ds(json!({"observedGeneration": 4, "desiredNumberScheduled": 3,
                          "updatedNumberScheduled": 2, "numberAvailable": 3}))
            ),
            st(State::Progressing, "2/3 updated")
        );
        assert_eq!(
            check(
                "apps",
                "DaemonSet",
                ds(json!({"observedGeneration": 4, "desiredNumberScheduled": 3,
                          "updatedNumberScheduled": 3, "numberReady": 2}))
            ),
            st(State::Progressing, "2/3 ready")
        );
        assert_eq!(
            check(
                "apps",
                "DaemonSet",
                ds(json!({"observedGeneration": 4, "desiredNumberScheduled": 3,
                          "updatedNumberScheduled": 3, "numberAvailable": 3, "numberReady": 3}))
            ),
            st(State::Ready, "3/3 ready on nodes")
        );
        assert_eq!(
            check(
                "apps",
                "DaemonSet",
                ds(json!({"observedGeneration": 4, "desiredNumberScheduled": 0}))
            ),
            st(State::Ready, "no nodes scheduled")
        );
        assert_eq!(
            check(
                "apps",
                "DaemonSet",
                ds(json!({"observedGeneration": 3, "desiredNumberScheduled": 0}))
            ),
            st(
                State::Progressing,
                "waiting for the controller to observe generation 4"
            )
        );
    }

    #[test]
    fn job_rules() {
        let failed = json!({"spec": {"completions": 1}, "status": {"failed": 6, "conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
             "message": "Job has reached the specified backoff limit"}]}});
        assert_eq!(
            check("batch", "Job", failed),
            st(State::Failed, "failed: BackoffLimitExceeded")
        );
        let done = json!({"spec": {"completions": 1}, "status": {"succeeded": 1,
            "completionTime": "2026-11-22T00:25:00Z",
            "conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(
            check("batch", "Job", done),
            st(State::Ready, "succeeded 5m ago")
        );
        let running = json!({"spec": {"completions": 3},
            "status": {"active": 1, "succeeded": 1, "failed": 1,
                       "startTime": "2026-11-22T00:20:00Z"}});
        assert_eq!(
            check("batch", "Job", running),
            st(
                State::Progressing,
                "running (active 1, succeeded 1/3, failed 1)"
            )
        );
        let queue = json!({"spec": {"parallelism": 2}, "status": {"active": 2}});
        assert_eq!(
            check("batch", "Job", queue),
            st(State::Progressing, "running (active 2, succeeded 0)")
        );
        let suspended = json!({"spec": {"suspend": true}, "status": {}});
        assert_eq!(
            check("batch", "Job", suspended),
            st(State::Ready, "suspended")
        );
        assert_eq!(
            check("batch", "Job", json!({"spec": {}})),
            st(State::Progressing, "no status yet")
        );
    }

    fn cron_job() -> Value {
        json!({"metadata": {"name": "backup", "namespace": "shop"},
               "spec": {"schedule": "0 3 * * *"}})
    }

    fn owned_job(name: &str, start: &str, status: Value) -> Value {
        let mut status = status;
        status["startTime"] = json!(start);
        json!({"metadata": {"name": name, "namespace": "shop",
                            "ownerReferences": [{"kind": "CronJob", "name": "backup"}]},
               "status": status})
    }

    #[test]
    fn cron_job_rules() {
        assert_eq!(
            check("batch", "CronJob", cron_job()),
            st(State::Ready, "not run yet (schedule 0 3 * * *)")
        );
        let mut scheduled = cron_job();
        scheduled["status"] = json!({"lastScheduleTime": "2026-11-21T03:00:00Z"});
        assert_eq!(
            check("batch", "CronJob", scheduled),
            st(State::Ready, "last scheduled 21h ago")
        );
        let mut suspended = cron_job();
        suspended["spec"]["suspend"] = json!(true);
        assert_eq!(
            check("batch", "CronJob", suspended),
            st(State::Ready, "suspended")
        );

        let old_ok = owned_job(
            "backup-1",
            "2026-11-20T03:00:00Z",
            json!({"completionTime": "2026-11-20T03:05:00Z",
                   "conditions": [{"type": "Complete", "status": "True"}]}),
        );
        let new_failed = owned_job(
            "backup-2",
            "2026-11-21T03:00:00Z",
            json!({"conditions": [{"type": "Failed", "status": "True",
                    "reason": "BackoffLimitExceeded", "lastTransitionTime": "2026-11-22T00:00:00Z"}]}),
        );
        let running = owned_job("backup-3", "2026-11-22T00:20:00Z", json!({"active": 1}));
        let mut other_owner = owned_job(
            "other-9",
            "2026-11-22T00:29:00Z",
            json!({"conditions": [{"type": "Failed", "status": "True"}]}),
        );
        other_owner["metadata"]["ownerReferences"][0]["name"] = json!("other");
        let mut other_ns = new_failed.clone();
        other_ns["metadata"]["namespace"] = json!("elsewhere");

        let related = |jobs: Vec<Value>| Related {
            jobs,
            ..Related::default()
        };
        assert_eq!(
            check_with(
                "batch",
                "CronJob",
                cron_job(),
                &related(vec![
                    new_failed.clone(),
                    old_ok.clone(),
                    other_owner.clone()
                ])
            ),
            st(
                State::Failed,
                "last run failed 30m ago: BackoffLimitExceeded"
            )
        );
        assert_eq!(
            check_with(
                "batch",
                "CronJob",
                cron_job(),
                &related(vec![old_ok.clone(), other_owner.clone(), other_ns])
            ),
            st(State::Ready, "last run succeeded 45h ago")
        );
        assert_eq!(
            check_with(
                "batch",
                "CronJob",
                cron_job(),
                &related(vec![old_ok, new_failed, running])
            ),
            st(State::Ready, "running, started 10m ago")
        );
        assert_eq!(
            check_with("batch", "CronJob", cron_job(), &related(vec![other_owner])),
            st(State::Ready, "not run yet (schedule 0 3 * * *)")
        );
    }

    #[test]
    fn pvc_rules() {
        let bound = json!({"spec": {"storageClassName": "standard"},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}}});
        assert_eq!(
            check("", "PersistentVolumeClaim", bound),
            st(State::Ready, "Bound 10Gi standard")
        );
        assert_eq!(
            check(
                "",
                "PersistentVolumeClaim",
                json!({"status": {"phase": "Pending"}})
            ),
            st(State::Progressing, "Pending")
        );
        assert_eq!(
            check(
                "",
                "PersistentVolumeClaim",
                json!({"status": {"phase": "Lost"}})
            ),
            st(State::Failed, "Lost")
        );
        assert_eq!(
            check("", "PersistentVolumeClaim", json!({"spec": {}})),
            st(State::Progressing, "no status yet")
        );
    }

    fn slice(service: &str, endpoints: Value) -> Value {
        json!({"metadata": {"namespace": "shop",
                            "labels": {"kubernetes.io/service-name": service}},
               "endpoints": endpoints})
    }

    #[test]
    fn service_rules() {
        let svc = |spec: Value, status: Value| json!({"metadata": {"name": "web"}, "spec": spec, "status": status});
        let slices = Related {
            endpoint_slices: vec![
                slice(
                    "web",
                    json!([
                        {"addresses": ["10.1.0.1"], "conditions": {"ready": true},
                         "targetRef": {"kind": "Pod", "name": "web-a"}},
                        {"addresses": ["10.1.0.2"], "conditions": {},
                         "targetRef": {"kind": "Pod", "name": "web-b"}},
                        {"addresses": ["10.1.0.3"], "conditions": {"ready": false},
                         "targetRef": {"kind": "Pod", "name": "web-c"}}
                    ]),
                ),
                // The IPv6 slice of the same pods.
                slice(
                    "web",
                    json!([{"addresses": ["fd00::1"], "conditions": {"ready": true},
                            "targetRef": {"kind": "Pod", "name": "web-a"}}]),
                ),
                slice("other", json!([{"addresses": ["10.1.0.9"]}])),
            ],
            ..Related::default()
        };
        let selector = json!({"app": "web"});
        assert_eq!(
            check_with(
                "",
                "Service",
                svc(
                    json!({"clusterIP": "10.96.0.12", "selector": selector}),
                    json!({})
                ),
                &slices
            ),
            st(State::Ready, "ClusterIP 10.96.0.12, 2 endpoints")
        );
        assert_eq!(
            check(
                "",
                "Service",
                svc(
                    json!({"clusterIP": "10.96.0.12", "selector": selector}),
                    json!({})
                )
            ),
            st(State::Degraded, "ClusterIP 10.96.0.12, no ready endpoints")
        );
        assert_eq!(
            check_with(
                "",
                "Service",
                svc(
                    json!({"clusterIP": "None", "selector": selector}),
                    json!({})
                ),
                &slices
            ),
            st(State::Ready, "headless, 2 endpoints")
        );
        assert_eq!(
            check(
                "",
                "Service",
                svc(json!({"clusterIP": "10.96.0.13"}), json!({}))
            ),
            st(
                State::Ready,
                "ClusterIP 10.96.0.13, no selector (endpoints managed elsewhere)"
            )
        );
        assert_eq!(
            check_with(
                "",
                "Service",
                svc(
                    json!({"type": "NodePort", "selector": selector,
                           "ports": [{"port": 80, "nodePort": 30080}]}),
                    json!({})
                ),
                &slices
            ),
            st(State::Ready, "NodePort 30080, 2 endpoints")
        );
        // LoadBalancer waiting: Progressing even with no endpoints.
        assert_eq!(
            check(
                "",
                "Service",
                svc(
                    json!({"type": "LoadBalancer", "selector": selector}),
                    json!({"loadBalancer": {}})
                )
            ),
            st(
                State::Progressing,
                "waiting for a load-balancer address, no ready endpoints"
            )
        );
        assert_eq!(
            check_with(
                "",
                "Service",
                svc(
                    json!({"type": "LoadBalancer", "selector": selector}),
                    json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}})
                ),
                &slices
            ),
            st(State::Ready, "LoadBalancer 203.0.113.10, 2 endpoints")
        );
        assert_eq!(
            check(
                "",
                "Service",
                svc(
                    json!({"type": "ExternalName", "externalName": "db.example.com"}),
                    json!({})
                )
            ),
            st(State::Ready, "ExternalName db.example.com")
        );
        // Endpoints without targetRef are counted by address.
        let bare = Related {
            endpoint_slices: vec![slice("web", json!([{"addresses": ["10.1.0.7"]}]))],
            ..Related::default()
        };
        assert_eq!(
            check_with(
                "",
                "Service",
                svc(json!({"selector": selector}), json!({})),
                &bare
            ),
            st(State::Ready, "ClusterIP, 1 endpoint")
        );
    }

    #[test]
    fn ingress_rules() {
        let ing = |status: Value| {
            json!({"spec": {"rules": [{"host": "a.example.com"}, {"host": "a.example.com"},
                                       {"host": "b.example.com"}]},
                   "status": status})
        };
        assert_eq!(
            check(
                "networking.k8s.io",
                "Ingress",
                ing(json!({"loadBalancer": {"ingress": [{"hostname": "lb.example.net"}]}}))
            ),
            st(
                State::Ready,
                "lb.example.net hosts: a.example.com, b.example.com"
            )
        );
        assert_eq!(
            check(
                "networking.k8s.io",
                "Ingress",
                ing(json!({"loadBalancer": {}}))
            ),
            st(
                State::Progressing,
                "waiting for an address (hosts: a.example.com, b.example.com)"
            )
        );
        assert_eq!(
            check("networking.k8s.io", "Ingress", json!({"spec": {}})),
            st(State::Progressing, "waiting for an address")
        );
    }

    #[test]
    fn hpa_rules() {
        let hpa = |status: Value| json!({"spec": {"minReplicas": 2, "maxReplicas": 10}, "status": status});
        assert_eq!(
            check(
                "autoscaling",
                "HorizontalPodAutoscaler",
                hpa(json!({"currentReplicas": 3}))
            ),
            st(State::Ready, "current 3 / 2-10 replicas")
        );
        assert_eq!(
            check(
                "autoscaling",
                "HorizontalPodAutoscaler",
                hpa(json!({"currentReplicas": 2, "conditions": [
                    {"type": "ScalingActive", "status": "False",
                     "reason": "FailedGetResourceMetric"}]}))
            ),
            st(State::Degraded, "scaling inactive: FailedGetResourceMetric")
        );
        assert_eq!(
            check(
                "autoscaling",
                "HorizontalPodAutoscaler",
                json!({"spec": {"maxReplicas": 5}})
            ),
            st(State::Ready, "1-5 replicas")
        );
    }

    #[test]
    fn pod_rules() {
        let pod = |status: Value| json!({"status": status});
        assert_eq!(
            check(
                "",
                "Pod",
                pod(json!({"phase": "Running", "containerStatuses": [
                {"ready": true}, {"ready": true}]}))
            ),
            st(State::Ready, "Running, 2/2 ready")
        );
        assert_eq!(
            check(
                "",
                "Pod",
                pod(json!({"phase": "Running", "containerStatuses": [
                {"ready": true}, {"ready": false, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}))
            ),
            st(State::Progressing, "Running, 1/2 ready (CrashLoopBackOff)")
        );
        assert_eq!(
            check("", "Pod", pod(json!({"phase": "Succeeded"}))),
            st(State::Ready, "Succeeded")
        );
        assert_eq!(
            check(
                "",
                "Pod",
                pod(json!({"phase": "Failed", "reason": "Evicted"}))
            ),
            st(State::Failed, "Failed: Evicted")
        );
        assert_eq!(
            check("", "Pod", pod(json!({"phase": "Pending"}))),
            st(State::Progressing, "Pending")
        );
    }

    #[test]
    fn other_kinds() {
        assert_eq!(
            check("", "ConfigMap", json!({"data": {"a": "b"}})),
            st(State::Ready, "present")
        );
        assert_eq!(
            check("rbac.authorization.k8s.io", "Role", json!({"rules": []})),
            st(State::Ready, "present")
        );
        let crd = |conditions: Value| json!({"status": {"conditions": conditions}});
        assert_eq!(
            check(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                crd(json!([{"type": "Established", "status": "True"}]))
            ),
            st(State::Ready, "established")
        );
        assert_eq!(
            check(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                crd(json!([{"type": "NamesAccepted", "status": "False", "reason": "Conflict"}]))
            ),
            st(State::Failed, "names not accepted: Conflict")
        );
        // Custom resources: kstatus' standard conditions.
        let cr = |conditions: Value| {
            json!({"metadata": {"generation": 1},
                   "status": {"observedGeneration": 1, "conditions": conditions}})
        };
        assert_eq!(
            check(
                "example.com",
                "Widget",
                cr(json!([{"type": "Ready", "status": "True"}]))
            ),
            st(State::Ready, "ready")
        );
        assert_eq!(
            check(
                "example.com",
                "Widget",
                cr(json!([{"type": "Ready", "status": "False", "reason": "Waiting"}]))
            ),
            st(State::Progressing, "not ready: Waiting")
        );
        assert_eq!(
            check(
                "example.com",
                "Widget",
                cr(json!([{"type": "Stalled", "status": "True", "message": "bad spec"}]))
            ),
            st(State::Failed, "stalled: bad spec")
        );
        assert_eq!(
            check(
                "example.com",
                "Widget",
                cr(json!([{"type": "Reconciling", "status": "True"}]))
            ),
            st(State::Progressing, "reconciling")
        );
        // Deletion in progress, any kind.
        assert_eq!(
            check(
                "",
                "ConfigMap",
                json!({"metadata": {"deletionTimestamp": "2026-11-22T00:29:00Z"}})
            ),
            st(
                State::Progressing,
                "terminating (deletion requested 60s ago)"
            )
        );
    }

    #[test]
    fn wrong_types_never_panic() {
        let kinds = [
            ("apps", "Deployment"),
            ("apps", "StatefulSet"),
            ("apps", "DaemonSet"),
            ("batch", "Job"),
            ("batch", "CronJob"),
            ("", "PersistentVolumeClaim"),
            ("", "Service"),
            ("", "Pod"),
            ("networking.k8s.io", "Ingress"),
            ("autoscaling", "HorizontalPodAutoscaler"),
            ("apiextensions.k8s.io", "CustomResourceDefinition"),
            ("example.com", "Widget"),
        ];
        let junk = [
            json!({}),
            json!({"metadata": 1, "spec": "x", "status": []}),
            json!({"metadata": {"generation": "2", "labels": [1]},
                   "spec": {"replicas": -3, "selector": "app", "type": 7, "rules": {"a": 1},
                            "ports": "80", "updateStrategy": [], "suspend": "yes"},
                   "status": {"observedGeneration": 1.5, "conditions": {"type": "Ready"},
                              "replicas": "3", "phase": 5, "containerStatuses": {},
                              "loadBalancer": {"ingress": "1.2.3.4"}}}),
            json!({"status": {"conditions": [null, 1, {"type": 3}], "updatedReplicas": 1e300,
                              "readyReplicas": u64::MAX, "availableReplicas": -1}}),
        ];
        let related = Related {
            endpoint_slices: vec![json!(null), json!({"endpoints": "x"}), json!([1])],
            jobs: vec![
                json!("job"),
                json!({"metadata": {"ownerReferences": {"kind": "CronJob"}}}),
            ],
            ..Related::default()
        };
        for (group, kind) in kinds {
            for live in &junk {
                let s = assess(&id(group, kind, "x"), Some(live), &related, NOW);
                assert!(!s.summary.is_empty(), "{kind}: {live}");
            }
        }
    }

    fn status(state: State, group: Option<&str>) -> ObjectStatus {
        ObjectStatus {
            id: id("", "ConfigMap", "x"),
            state,
            summary: String::new(),
            workload_group: group.map(str::to_owned),
            why: None,
            explanation: None,
        }
    }

    #[test]
    fn overall_state() {
        use State::*;
        let of = |states: &[State]| {
            let v: Vec<_> = states.iter().map(|s| status(*s, None)).collect();
            overall(&v)
        };
        assert_eq!(of(&[]), Overall::Deployed);
        assert_eq!(of(&[Ready, Ready]), Overall::Deployed);
        assert_eq!(of(&[Ready, Unknown]), Overall::Deployed);
        assert_eq!(of(&[Unknown, Unknown]), Overall::Unknown);
        assert_eq!(of(&[Ready, Progressing, Unknown]), Overall::Progressing);
        assert_eq!(of(&[Progressing, Missing]), Overall::Degraded);
        assert_eq!(of(&[Progressing, Degraded]), Overall::Degraded);
        assert_eq!(of(&[Degraded, Failed, Missing]), Overall::Failed);
        assert!(is_ready(&status(Ready, None)));
        for s in [Progressing, Degraded, Failed, Missing, Unknown] {
            assert!(!is_ready(&status(s, None)));
        }
    }

    #[test]
    fn grouping_keeps_first_seen_order() {
        let statuses = vec![
            status(State::Ready, Some("back")),
            status(State::Ready, None),
            status(State::Ready, Some("front")),
            status(State::Progressing, Some("back")),
            status(State::Ready, None),
        ];
        let groups = group_by_workload_group(&statuses);
        let shape: Vec<(&str, usize)> = groups
            .iter()
            .map(|(g, members)| (g.as_str(), members.len()))
            .collect();
        assert_eq!(shape, [("back", 2), ("front", 1), (NO_GROUP, 2)]);
        assert_eq!(groups[0].1[1].state, State::Progressing);
        assert!(group_by_workload_group(&[]).is_empty());
    }

    #[test]
    fn workload_group_lookups() {
        let label = |g: &str| json!({"cocktail.io/workload-group": g});
        assert_eq!(
            workload_group(&json!({"metadata": {"labels": label("a")},
                "spec": {"template": {"metadata": {"labels": label("b")}}}})),
            Some("a".into())
        );
        assert_eq!(
            workload_group(&json!({"metadata": {"labels": {"app": "x"}},
                "spec": {"template": {"metadata": {"labels": label("b")}}}})),
            Some("b".into())
        );
        assert_eq!(
            workload_group(&json!({"spec": {"jobTemplate": {"spec": {"template":
                {"metadata": {"labels": label("c")}}}}}})),
            Some("c".into())
        );
        assert_eq!(
            workload_group(&json!({"metadata": {"labels": label("")}})),
            None
        );
        assert_eq!(
            workload_group(&json!({"metadata": {"labels": {"cocktail.io/workload-group": 3}}})),
            None
        );
        assert_eq!(workload_group(&json!("x")), None);
        // assess reads it from the live object.
        let live = json!({"metadata": {"labels": label("front")}});
        let s = assess(
            &id("", "ConfigMap", "c"),
            Some(&live),
            &Related::default(),
            NOW,
        );
        assert_eq!(s.workload_group.as_deref(), Some("front"));
    }

    #[test]
    fn serializes_camel_case_and_lowercase() {
        let s = ObjectStatus {
            id: id("apps", "Deployment", "web"),
            state: State::Progressing,
            summary: "1/3 updated".into(),
            workload_group: Some("front".into()),
            why: None,
            explanation: None,
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "progressing");
        assert_eq!(v["workloadGroup"], "front");
        assert_eq!(v["id"]["kind"], "Deployment");
        assert_eq!(serde_json::to_value(Overall::Deployed).unwrap(), "deployed");
    }

    #[test]
    fn diagnosis_names_the_cause_from_pods_and_events() {
        let dep = json!({"metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}}});
        let rs = |name: &str, rev: &str| {
            json!({"metadata": {"name": name,
            "annotations": {"deployment.kubernetes.io/revision": rev},
            "ownerReferences": [{"kind": "Deployment", "name": "web"}]}})
        };
        let pod = |name: &str, rs: &str, cs: Value| {
            json!({"metadata": {"name": name,
            "labels": {"app": "web"}, "ownerReferences": [{"kind": "ReplicaSet", "name": rs}]},
            "status": {"phase": "Running", "containerStatuses": cs}})
        };
        let oom = json!([{"name": "app", "ready": false, "restartCount": 2,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]);
        let mut related = Related {
            replica_sets: vec![rs("web-old", "1"), rs("web-new", "2")],
            pods: vec![
                pod(
                    "web-old-a",
                    "web-old",
                    json!([{"name": "app", "ready": true,
                    "state": {"running": {}}}]),
                ),
                pod("web-new-a", "web-new", oom),
            ],
            ..Related::default()
        };
        let id = id("apps", "Deployment", "web");
        let wanted = log_requests(&id, &dep, &related);
        assert_eq!(
            wanted,
            [LogWanted {
                pod: "web-new-a".into(),
                container: "app".into(),
                previous: true
            }]
        );
        related
            .logs
            .insert(("web-new-a".into(), "app".into()), vec!["alloc".into()]);
        let (why, ex) = diagnose(&id, &dep, State::Progressing, &related).unwrap();
        assert_eq!(
            why.as_deref(),
            Some(
                "OOMKilled: container app was killed for using more memory than its limit (exit code 137), restarted 2 times (last log lines: alloc)"
            )
        );
        assert_eq!(ex.pods.len(), 1, "only the newest revision's pods");
        assert!(diagnose(&id, &dep, State::Ready, &related).is_none());
        // A failed Job without pods: its condition.
        let job = json!({"status": {"conditions": [{"type": "Failed", "status": "True",
            "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}]}});
        let (why, _) = diagnose(
            &super::tests::id("batch", "Job", "j"),
            &job,
            State::Failed,
            &Related::default(),
        )
        .unwrap();
        assert_eq!(
            why.as_deref(),
            Some("DeadlineExceeded: Job was active longer than specified deadline")
        );
        // Junk never panics.
        for live in [
            json!(null),
            json!({"spec": 1, "status": {"containerStatuses": "x"}}),
        ] {
            let _ = diagnose(
                &id,
                &live,
                State::Failed,
                &Related {
                    pods: vec![
                        json!(1),
                        json!({"status": {"containerStatuses": [1, {"state": 2}]}}),
                    ],
                    events: vec![json!("e"), json!({"type": "Warning", "involvedObject": 3})],
                    ..Related::default()
                },
            );
        }
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(ago("2026-11-22T00:29:30Z", NOW), "30s ago");
        assert_eq!(ago("2026-11-21T22:30:00Z", NOW), "2h ago");
        assert_eq!(ago("2026-11-19T00:30:00Z", NOW), "3d ago");
        assert_eq!(ago("2026-11-23T00:30:00Z", NOW), "2026-11-23T00:30:00Z");
        assert_eq!(ago("yesterday", NOW), "yesterday");
    }
}
