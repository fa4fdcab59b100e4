//! `events`: the Kubernetes events of a release's objects and of their pods and ReplicaSets,
//! merged by object and deduplicated, warnings first.
//!
//! Reads core/v1 Events, one list per namespace: the API server keeps one store of events and
//! serves it as both `v1` and `events.k8s.io/v1`, so core/v1 holds every event whatever API
//! its reporter used. IO is the reading ([`events`]); [`merge`] is pure.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::OpError;
use super::commit::manifest_objects;
use super::get::revision;
use crate::model::{ReleaseName, ServiceMapName};
use crate::release::Status;
use crate::status::{EventLine, Related, event_line, pods_of};
use crate::targets::Target;

/// The events of a release.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsReport {
    pub release: String,
    pub service_map: String,
    /// Warnings first, then the rest; oldest first within each group.
    pub events: Vec<EventLine>,
}

/// Reads the events of `release`'s objects, their ReplicaSets and their pods.
pub fn events(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
) -> Result<EventsReport, OpError> {
    if !target.observes_live_state() {
        return Err(OpError::Invalid(format!(
            "{} keeps no live state (a GitOps folder): it has no events to show; read them on the cluster that syncs it",
            target.describe()
        )));
    }
    let record = revision(target, service_map, release, None)?;
    if record.status == Status::Uninstalled {
        return Err(OpError::Invalid(format!(
            "release `{release}` was uninstalled (see `cocktail-pkg history {release} -n {service_map}`)"
        )));
    }
    let objects = manifest_objects(&record)?;
    let mut by_ns: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut namespaces: Vec<&str> = objects
        .iter()
        .map(|(id, _)| id.namespace.as_str())
        .filter(|ns| !ns.is_empty())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    let mut all = Vec::new();
    for ns in namespaces {
        let mine: Vec<_> = objects
            .iter()
            .filter(|(id, _)| id.namespace == ns)
            .collect();
        let with_pods = mine.iter().any(|(id, _)| {
            matches!(
                id.kind.as_str(),
                "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "Pod"
            )
        });
        let mut related = Related::default();
        if with_pods {
            related.pods = target.list("v1", "Pod", Some(ns), None)?;
            related.replica_sets = target.list("apps/v1", "ReplicaSet", Some(ns), None)?;
        }
        let involved = by_ns.entry(ns.to_string()).or_default();
        for (id, _) in &mine {
            involved.push((id.kind.clone(), id.name.clone()));
            if !matches!(
                id.kind.as_str(),
                "Deployment" | "StatefulSet" | "DaemonSet" | "Job"
            ) {
                continue;
            }
            let Some(live) = target.get(id)? else {
                continue;
            };
            if id.kind == "Deployment" {
                for rs in &related.replica_sets {
                    if owned_by(rs, "Deployment", &id.name) {
                        involved.push(("ReplicaSet".into(), name_of(rs)));
                    }
                }
            }
            // Every pod of the workload, not only the newest revision's.
            for p in &related.pods {
                let owner_rs = involved
                    .iter()
                    .filter(|(k, _)| k == "ReplicaSet")
                    .any(|(_, n)| owned_by(p, "ReplicaSet", n));
                if owner_rs || owned_by(p, &id.kind, &id.name) {
                    involved.push(("Pod".into(), name_of(p)));
                }
            }
            for p in pods_of(id, &live, &related) {
                involved.push(("Pod".into(), name_of(p)));
            }
        }
        involved.sort();
        involved.dedup();
        let events = target.list("v1", "Event", Some(ns), None)?;
        all.extend(events.into_iter().filter(|e| {
            let text = |p: &str| e.pointer(p).and_then(Value::as_str).unwrap_or_default();
            involved.iter().any(|(k, n)| {
                text("/involvedObject/kind") == k && text("/involvedObject/name") == n
            })
        }));
    }
    Ok(EventsReport {
        release: release.to_string(),
        service_map: service_map.to_string(),
        events: merge(&all),
    })
}

fn name_of(v: &Value) -> String {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn owned_by(v: &Value, kind: &str, name: &str) -> bool {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                r.get("kind").and_then(Value::as_str) == Some(kind)
                    && r.get("name").and_then(Value::as_str) == Some(name)
            })
        })
}

/// Events as rows: one per object, type, reason and message (counts added, the first first
/// seen and the last last seen kept), warnings first, oldest first within each group.
pub fn merge(events: &[Value]) -> Vec<EventLine> {
    let mut rows: Vec<EventLine> = Vec::new();
    for e in events {
        let line = event_line(e);
        match rows.iter_mut().find(|r| {
            r.object == line.object
                && r.kind == line.kind
                && r.reason == line.reason
                && r.message == line.message
        }) {
            Some(row) => {
                row.count = row.count.saturating_add(line.count);
                if !line.first_seen.is_empty()
                    && (row.first_seen.is_empty() || line.first_seen < row.first_seen)
                {
                    row.first_seen = line.first_seen;
                }
                if line.last_seen > row.last_seen {
                    row.last_seen = line.last_seen;
                }
            }
            None => rows.push(line),
        }
    }
    rows.sort_by(|a, b| {
        (a.kind != "Warning", &a.last_seen, &a.object).cmp(&(
            b.kind != "Warning",
            &b.last_seen,
            &b.object,
        ))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(
        name: &str,
        kind: &str,
        reason: &str,
        message: &str,
        count: u64,
        first: &str,
        last: &str,
    ) -> Value {
        json!({"metadata": {"name": format!("{name}.{reason}{first}")},
               "involvedObject": {"kind": "Pod", "name": name},
               "type": kind, "reason": reason, "message": message, "count": count,
               "firstTimestamp": first, "lastTimestamp": last})
    }

    #[test]
    fn merges_deduplicates_and_puts_warnings_first() {
        let rows = merge(&[
            ev(
                "web-1",
                "Normal",
                "Pulled",
                "pulled",
                1,
                "2026-01-01T00:00:01Z",
                "2026-01-01T00:00:01Z",
            ),
            ev(
                "web-1",
                "Warning",
                "BackOff",
                "back-off",
                2,
                "2026-01-01T00:00:05Z",
                "2026-01-01T00:00:09Z",
            ),
            ev(
                "web-1",
                "Warning",
                "BackOff",
                "back-off",
                1,
                "2026-01-01T00:00:02Z",
                "2026-01-01T00:00:03Z",
            ),
            ev(
                "web-2",
                "Warning",
                "Failed",
                "no image",
                1,
                "2026-01-01T00:00:04Z",
                "2026-01-01T00:00:04Z",
            ),
            json!({"involvedObject": {"kind": "Pod", "name": "web-3"}, "type": "Warning",
                   "reason": "Unhealthy", "message": "probe", "eventTime": "2026-01-01T00:00:00.000001Z",
                   "series": {"count": 4, "lastObservedTime": "2026-01-01T00:00:07Z"}}),
        ]);
        let shape: Vec<(&str, &str, u64)> = rows
            .iter()
            .map(|r| (r.object.as_str(), r.reason.as_str(), r.count))
            .collect();
        assert_eq!(
            shape,
            [
                ("Pod/web-2", "Failed", 1),
                ("Pod/web-3", "Unhealthy", 4),
                ("Pod/web-1", "BackOff", 3),
                ("Pod/web-1", "Pulled", 1),
            ]
        );
        assert_eq!(rows[2].first_seen, "2026-01-01T00:00:02Z");
        assert_eq!(rows[2].last_seen, "2026-01-01T00:00:09Z");
        // Junk never panics: events without fields are one row.
        assert_eq!(merge(&[json!(null), json!("x")])[0].count, 2);
    }
}
