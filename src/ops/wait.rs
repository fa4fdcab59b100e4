//! Live state of a release's objects: `status`, and the `--wait` loop.
//!
//! The wait polls (every second by default) until every object is ready, stops early when one
//! has failed, and gives up at a deadline; it renews the release's lease as it goes so a long
//! wait never loses it. Polling rather than watching keeps it to one GET per object per round,
//! which is what `kubectl rollout status` costs too, and works through any proxy. While
//! something is not ready, a round also lists the pods, ReplicaSets and events of its
//! namespace and reads a few container logs, so progress and failures say why
//! ([`crate::status::diagnose`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::model::ObjectId;
use crate::status::{self, ObjectStatus, Overall, Related, State};
use crate::targets::{LogRequest, Target, TargetError};
use crate::time::UnixTime;

/// How long and how often to wait.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    pub timeout: Duration,
    pub interval: Duration,
}

/// The shortest poll interval `COCKTAIL_PKG_POLL_INTERVAL_MS` may set: less would busy-loop.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(50);

impl WaitOptions {
    /// Polls every second, or every `COCKTAIL_PKG_POLL_INTERVAL_MS` (at least
    /// [`MIN_POLL_INTERVAL`]).
    pub fn new(timeout: Duration) -> Self {
        let setting = std::env::var(crate::env::POLL_INTERVAL_MS).ok();
        Self {
            timeout,
            interval: poll_interval(setting.as_deref()),
        }
    }
}

/// The poll interval a `COCKTAIL_PKG_POLL_INTERVAL_MS` value asks for: at least
/// [`MIN_POLL_INTERVAL`] (0 would busy-loop); unset or not a number: one second.
pub fn poll_interval(setting: Option<&str>) -> Duration {
    setting
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), |ms| {
            Duration::from_millis(ms).max(MIN_POLL_INTERVAL)
        })
}

/// Why a wait ended without every object ready.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("timed out after {}s waiting for {}", .after.as_secs(), describe(.pending))]
    Timeout {
        after: Duration,
        pending: Vec<ObjectStatus>,
    },
    #[error("{} failed", describe(.failed))]
    Failed { failed: Vec<ObjectStatus> },
    /// A workload stopped being ready, or its pods restarted, while soaking.
    #[error("soak failed after {}s: {reason}", .after.as_secs())]
    Soak { after: Duration, reason: String },
    #[error(transparent)]
    Target(Box<TargetError>),
    /// Ctrl-C or SIGTERM ([`super::interrupt`]).
    #[error("interrupted by {0}")]
    Interrupted(super::interrupt::Signal),
}

impl From<super::interrupt::Signal> for WaitError {
    fn from(s: super::interrupt::Signal) -> Self {
        WaitError::Interrupted(s)
    }
}

impl From<TargetError> for WaitError {
    fn from(e: TargetError) -> Self {
        WaitError::Target(Box::new(e))
    }
}

/// `Deployment/web (0/1 ready): CrashLoopBackOff: ...`: each object with its summary and,
/// when known, why it is not ready (objects then separated by `; `, a cause may hold commas).
fn describe(list: &[ObjectStatus]) -> String {
    let shown: Vec<String> = list
        .iter()
        .take(5)
        .map(|s| match &s.why {
            Some(why) => format!("{} ({}): {why}", short(&s.id), s.summary),
            None => format!("{} ({})", short(&s.id), s.summary),
        })
        .collect();
    let sep = if list.iter().take(5).any(|s| s.why.is_some()) {
        "; "
    } else {
        ", "
    };
    let more = list.len().saturating_sub(5);
    if more > 0 {
        format!("{} and {more} more", shown.join(sep))
    } else {
        shown.join(sep)
    }
}

/// `Kind/name`, how users name objects in a service map.
pub fn short(id: &ObjectId) -> String {
    format!("{}/{}", id.kind, id.name)
}

/// One round of observation of a release's objects.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub overall: Overall,
    /// False on targets without live state (a GitOps folder): objects are only checked to be
    /// written.
    pub observed: bool,
    pub objects: Vec<ObjectStatus>,
}

/// Reads the live state of `objects` (desired objects with their ids). For objects that are
/// not ready, it then reads what says why ([`status::diagnose`]): the pods, ReplicaSets and
/// events of their namespace (one list per kind per namespace per round) and the last lines
/// of a few exited containers' logs. Those reads are best effort: a failure leaves the cause
/// out, never the state.
pub fn observe(
    target: &dyn Target,
    objects: &[(ObjectId, Value)],
    now: UnixTime,
) -> Result<Observation, TargetError> {
    let observed = target.observes_live_state();
    let mut related_by_ns: BTreeMap<String, Related> = Default::default();
    if observed {
        for ns in namespaces(objects) {
            let needs = |kind: &str| {
                objects
                    .iter()
                    .any(|(id, _)| id.namespace == ns && id.kind == kind)
            };
            let mut related = Related::default();
            if needs("Service") {
                related.endpoint_slices =
                    target.list("discovery.k8s.io/v1", "EndpointSlice", Some(ns), None)?;
            }
            if needs("CronJob") {
                related.jobs = target.list("batch/v1", "Job", Some(ns), None)?;
            }
            related_by_ns.insert(ns.to_string(), related);
        }
    }
    let empty = Related::default();
    let mut statuses = Vec::with_capacity(objects.len());
    let mut lives = Vec::with_capacity(objects.len());
    for (id, desired) in objects {
        let live = target.get(id)?;
        statuses.push(match (&live, observed) {
            (Some(_), false) => status::unobserved(id, desired),
            _ => status::assess(
                id,
                live.as_ref(),
                related_by_ns.get(&id.namespace).unwrap_or(&empty),
                now,
            ),
        });
        lives.push(live);
    }
    if observed {
        explain(target, objects, &lives, &mut statuses, &mut related_by_ns);
    }
    Ok(Observation {
        overall: status::overall(&statuses),
        observed,
        objects: statuses,
    })
}

/// The namespaces of `objects`, sorted, without the empty one (cluster-scoped objects).
fn namespaces(objects: &[(ObjectId, Value)]) -> Vec<&str> {
    let mut namespaces: Vec<&str> = objects
        .iter()
        .map(|(id, _)| id.namespace.as_str())
        .filter(|ns| !ns.is_empty())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    namespaces
}

/// How many container logs one round of observation reads, at most.
const LOGS_PER_ROUND: usize = 4;

/// Whether a state gets a cause.
fn unready(state: State) -> bool {
    matches!(state, State::Progressing | State::Degraded | State::Failed)
}

/// Fills `why` and `explanation` of the objects that are not ready.
fn explain(
    target: &dyn Target,
    objects: &[(ObjectId, Value)],
    lives: &[Option<Value>],
    statuses: &mut [ObjectStatus],
    related_by_ns: &mut BTreeMap<String, Related>,
) {
    let pending: Vec<usize> = (0..statuses.len())
        .filter(|&i| unready(statuses[i].state) && lives[i].is_some())
        .collect();
    let list = |api: &str, kind: &str, ns: &str| {
        target.list(api, kind, Some(ns), None).unwrap_or_else(|e| {
            tracing::debug!("reading {kind} of {ns} to explain readiness: {e}");
            Vec::new()
        })
    };
    let mut nss: Vec<&str> = pending
        .iter()
        .map(|&i| objects[i].0.namespace.as_str())
        .filter(|ns| !ns.is_empty())
        .collect();
    nss.sort();
    nss.dedup();
    for ns in nss {
        let kinds: BTreeSet<&str> = pending
            .iter()
            .filter(|&&i| objects[i].0.namespace == ns)
            .map(|&i| objects[i].0.kind.as_str())
            .collect();
        let related = related_by_ns.entry(ns.to_string()).or_default();
        let with_pods = ["Deployment", "StatefulSet", "DaemonSet", "Job", "Service"];
        if with_pods.iter().any(|k| kinds.contains(k)) {
            related.pods = list("v1", "Pod", ns);
        }
        if kinds.contains("Deployment") {
            related.replica_sets = list("apps/v1", "ReplicaSet", ns);
        }
        related.events = list("v1", "Event", ns);
    }
    // The logs the causes quote, a few per round.
    let mut budget = LOGS_PER_ROUND;
    for &i in &pending {
        let (id, live) = (&objects[i].0, lives[i].as_ref());
        let Some(live) = live else { continue };
        let Some(related) = related_by_ns.get_mut(&id.namespace) else {
            continue;
        };
        for want in status::log_requests(id, live, related) {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let key = (want.pod.clone(), want.container.clone());
            if related.logs.contains_key(&key) {
                continue;
            }
            let lines = last_log_lines(target, &id.namespace, &want);
            related.logs.insert(key, lines);
        }
    }
    let empty = Related::default();
    for i in pending {
        let (id, live) = (&objects[i].0, lives[i].as_ref());
        let Some(live) = live else { continue };
        let related = related_by_ns.get(&id.namespace).unwrap_or(&empty);
        if let Some((why, explanation)) = status::diagnose(id, live, statuses[i].state, related) {
            statuses[i].why = why;
            statuses[i].explanation = Some(explanation);
        }
    }
}

/// The last non-empty lines of a container's log (the previous instance's when asked), read
/// with a bound on lines and bytes; nothing when it cannot be read.
fn last_log_lines(target: &dyn Target, namespace: &str, want: &status::LogWanted) -> Vec<String> {
    use std::io::{BufRead, Read};
    let request = LogRequest {
        container: Some(want.container.clone()),
        tail_lines: Some(status::LOG_LINES as i64),
        previous: want.previous,
        ..LogRequest::default()
    };
    let Ok(stream) = target.pod_log_stream(namespace, &want.pod, &request) else {
        return Vec::new();
    };
    let mut lines: Vec<String> = Vec::new();
    for line in stream.take(64 * 1024).lines() {
        let Ok(line) = line else { break };
        let line = line.trim_end().to_string();
        if line.is_empty() {
            continue;
        }
        lines.push(line);
        if lines.len() > status::LOG_LINES {
            lines.remove(0);
        }
    }
    lines
}

/// Waits until every object is ready. `tick` is called after each round (progress display,
/// lease renewal); an error from it ends the wait.
pub fn wait_ready(
    target: &dyn Target,
    objects: &[(ObjectId, Value)],
    opts: WaitOptions,
    tick: &mut dyn FnMut(&Observation) -> Result<(), TargetError>,
) -> Result<Observation, WaitError> {
    // A timeout too long to add to the clock (`--timeout` in the billions of years) waits
    // without a deadline.
    let deadline = Instant::now().checked_add(opts.timeout);
    loop {
        super::interrupt::check()?;
        let obs = observe(target, objects, crate::time::now())?;
        tick(&obs)?;
        super::interrupt::check()?;
        if !obs.observed {
            return Ok(obs);
        }
        let failed: Vec<ObjectStatus> = obs
            .objects
            .iter()
            .filter(|s| s.state == State::Failed)
            .cloned()
            .collect();
        if !failed.is_empty() {
            return Err(WaitError::Failed { failed });
        }
        if obs.objects.iter().all(status::is_ready) {
            return Ok(obs);
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return Err(WaitError::Timeout {
                after: opts.timeout,
                pending: obs
                    .objects
                    .into_iter()
                    .filter(|s| !status::is_ready(s))
                    .collect(),
            });
        }
        super::interrupt::sleep(left.map_or(opts.interval, |l| opts.interval.min(l)))?;
    }
}

/// Restarts of the pods of the workloads among `objects`: pods matched by each workload's
/// `spec.selector.matchLabels`, one list per namespace.
fn restarts(target: &dyn Target, objects: &[(ObjectId, Value)]) -> Result<u64, TargetError> {
    let mut total: u64 = 0;
    let mut namespaces: Vec<&str> = objects
        .iter()
        .map(|(id, _)| id.namespace.as_str())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    for ns in namespaces.into_iter().filter(|ns| !ns.is_empty()) {
        let selectors: Vec<&serde_json::Map<String, Value>> = objects
            .iter()
            .filter(|(id, _)| {
                id.namespace == ns
                    && matches!(id.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet")
            })
            .filter_map(|(_, o)| o.pointer("/spec/selector/matchLabels")?.as_object())
            .filter(|m| !m.is_empty())
            .collect();
        if selectors.is_empty() {
            continue;
        }
        for pod in target.list("v1", "Pod", Some(ns), None)? {
            let labels = pod.pointer("/metadata/labels");
            let matches = selectors.iter().any(|sel| {
                sel.iter()
                    .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            });
            if !matches {
                continue;
            }
            let restarted = pod
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| c.get("restartCount").and_then(Value::as_u64))
                        .fold(0u64, u64::saturating_add)
                })
                .unwrap_or(0);
            total = total.saturating_add(restarted);
        }
    }
    Ok(total)
}

/// Watches ready objects for `duration`: every object must stay ready and no pod of the
/// workloads may restart. Targets without live state have nothing to soak.
pub fn soak(
    target: &dyn Target,
    objects: &[(ObjectId, Value)],
    duration: Duration,
    interval: Duration,
    tick: &mut dyn FnMut(&Observation) -> Result<(), TargetError>,
) -> Result<(), WaitError> {
    if !target.observes_live_state() || duration.is_zero() {
        return Ok(());
    }
    let start = Instant::now();
    // A soak too long to add to the clock never ends on its own: it fails or is interrupted.
    let deadline = start.checked_add(duration);
    let before = restarts(target, objects)?;
    loop {
        super::interrupt::check()?;
        let obs = observe(target, objects, crate::time::now())?;
        tick(&obs)?;
        let unready: Vec<ObjectStatus> = obs
            .objects
            .iter()
            .filter(|s| !status::is_ready(s))
            .cloned()
            .collect();
        if !unready.is_empty() {
            return Err(WaitError::Soak {
                after: start.elapsed(),
                reason: format!("{} stopped being ready", describe(&unready)),
            });
        }
        let now_restarts = restarts(target, objects)?;
        if now_restarts > before {
            return Err(WaitError::Soak {
                after: start.elapsed(),
                reason: format!(
                    "pods restarted {} time(s) while soaking",
                    now_restarts.saturating_sub(before)
                ),
            });
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return Ok(());
        }
        super::interrupt::sleep(left.map_or(interval, |l| interval.min(l)))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_interval_never_busy_loops() {
        assert_eq!(poll_interval(Some("0")), MIN_POLL_INTERVAL);
        assert_eq!(poll_interval(Some("10")), MIN_POLL_INTERVAL);
        assert_eq!(poll_interval(Some("250")), Duration::from_millis(250));
        assert_eq!(poll_interval(Some("fast")), Duration::from_secs(1));
        assert_eq!(poll_interval(None), Duration::from_secs(1));
    }
}
