//! Live state of a release's objects: `status`, and the `--wait` loop.
//!
//! The wait polls (every second by default) until every object is ready, stops early when one
//! has failed, and gives up at a deadline; it renews the release's lease as it goes so a long
//! wait never loses it. Polling rather than watching keeps it to one GET per object per round,
//! which is what `kubectl rollout status` costs too, and works through any proxy.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::model::ObjectId;
use crate::status::{self, ObjectStatus, Overall, Related, State};
use crate::targets::{Target, TargetError};
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

fn describe(list: &[ObjectStatus]) -> String {
    let shown: Vec<String> = list
        .iter()
        .take(5)
        .map(|s| format!("{} ({})", short(&s.id), s.summary))
        .collect();
    let more = list.len().saturating_sub(5);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
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

/// Reads the live state of `objects` (desired objects with their ids).
pub fn observe(
    target: &dyn Target,
    objects: &[(ObjectId, Value)],
    now: UnixTime,
) -> Result<Observation, TargetError> {
    let observed = target.observes_live_state();
    let mut related_by_ns: std::collections::BTreeMap<String, Related> = Default::default();
    if observed {
        let mut namespaces: Vec<&str> = objects
            .iter()
            .map(|(id, _)| id.namespace.as_str())
            .collect();
        namespaces.sort();
        namespaces.dedup();
        for ns in namespaces.into_iter().filter(|ns| !ns.is_empty()) {
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
    }
    Ok(Observation {
        overall: status::overall(&statuses),
        observed,
        objects: statuses,
    })
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
