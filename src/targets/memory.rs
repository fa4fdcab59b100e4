//! A target in memory, with failure knobs for tests: fail the Nth apply, fail record writes,
//! a lease held by someone else, workloads that never become ready. Applied workloads get the
//! status their controllers would report, so readiness waits have something to observe.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

use super::lease::{Holder, decide, local_liveness};
use super::{ApplyMode, Lease, Target, TargetError};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::release::Record;
use crate::time::UnixTime;

/// Failure knobs.
#[derive(Debug, Clone, Default)]
pub struct Knobs {
    /// Fail the Nth committed apply (1-based), counting from when the knob was set.
    pub fail_apply_nth: Option<usize>,
    /// Panic in the Nth committed apply (1-based): a bug inside an operation.
    pub panic_apply_nth: Option<usize>,
    /// Fail every record write.
    pub fail_record_writes: bool,
    /// Workloads never become ready (no pod gets ready, volumes stay Pending).
    pub never_ready: bool,
    /// After this many reads (`get`) of objects, counting from when the knob was set,
    /// workloads read back as not ready: they break after having been ready (for soaks).
    pub unready_after_reads: Option<usize>,
}

/// The status a controller would report for an applied object: every replica ready, or none.
pub fn simulated_status(object: &Value, ready: bool) -> Option<Value> {
    let kind = object.get("kind")?.as_str()?;
    let generation = object
        .pointer("/metadata/generation")
        .cloned()
        .unwrap_or(1.into());
    let replicas = object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let r = if ready { replicas } else { 0 };
    Some(match kind {
        "Deployment" => serde_json::json!({
            "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": r, "availableReplicas": r,
        }),
        "StatefulSet" => serde_json::json!({
            "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": r, "currentReplicas": replicas,
        }),
        "DaemonSet" => serde_json::json!({
            "observedGeneration": generation, "desiredNumberScheduled": 2,
            "updatedNumberScheduled": 2, "numberReady": if ready { 2 } else { 0 },
            "numberAvailable": if ready { 2 } else { 0 },
        }),
        "Job" if ready => serde_json::json!({
            "succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}],
        }),
        "Job" => serde_json::json!({"active": 1}),
        "PersistentVolumeClaim" => {
            serde_json::json!({"phase": if ready { "Bound" } else { "Pending" }})
        }
        _ => return None,
    })
}

#[derive(Default)]
struct State {
    objects: BTreeMap<ObjectId, Value>,
    records: BTreeMap<(String, String, u64), Record>,
    leases: BTreeMap<(String, String), Lease>,
    applies: usize,
    reads: usize,
    knobs: Knobs,
}

/// See the module docs.
#[derive(Default)]
pub struct MemoryTarget {
    state: Mutex<State>,
}

impl MemoryTarget {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_knobs(&self, knobs: Knobs) {
        let mut s = self.lock();
        s.knobs = knobs;
        s.applies = 0;
        s.reads = 0;
    }

    /// Pretends another process holds the release's lease until `expires`.
    pub fn hold_lease(
        &self,
        service_map: &str,
        release: &str,
        holder: &str,
        acquired: UnixTime,
        expires: UnixTime,
    ) {
        self.lock().leases.insert(
            (service_map.into(), release.into()),
            Lease {
                service_map: service_map.into(),
                release: release.into(),
                holder: Holder::parse(holder),
                acquired,
                expires,
                took_over_from: None,
            },
        );
    }

    pub fn objects(&self) -> BTreeMap<ObjectId, Value> {
        self.lock().objects.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

impl Target for MemoryTarget {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn get(&self, id: &ObjectId) -> Result<Option<Value>, TargetError> {
        let mut s = self.lock();
        s.reads = s.reads.saturating_add(1);
        let broken = s.knobs.unready_after_reads.is_some_and(|n| s.reads > n);
        let mut object = s.objects.get(id).cloned();
        if broken
            && let Some(o) = object.as_mut()
            && let Some(status) = simulated_status(o, false)
            && let Some(map) = o.as_object_mut()
        {
            map.insert("status".into(), status);
        }
        Ok(object)
    }

    fn apply(&self, id: &ObjectId, object: &Value, mode: ApplyMode) -> Result<Value, TargetError> {
        let mut s = self.lock();
        if let ApplyMode::Commit { .. } = mode {
            s.applies = s.applies.saturating_add(1);
            if s.knobs.panic_apply_nth == Some(s.applies) {
                drop(s);
                panic!("injected panic applying {id}");
            }
            if s.knobs.fail_apply_nth == Some(s.applies) {
                return Err(TargetError::Injected(format!(
                    "injected failure applying {id}"
                )));
            }
            let mut stored = object.clone();
            let never_ready = s.knobs.never_ready;
            if let (Some(status), Some(map)) = (
                simulated_status(object, !never_ready),
                stored.as_object_mut(),
            ) {
                map.insert("status".into(), status);
            }
            s.objects.insert(id.clone(), stored);
        }
        Ok(object.clone())
    }

    fn delete(&self, id: &ObjectId) -> Result<(), TargetError> {
        let mut s = self.lock();
        if id.group.is_empty() && id.kind == "Namespace" {
            s.objects.retain(|k, _| k.namespace != id.name);
            s.records.retain(|(m, _, _), _| *m != id.name);
        }
        s.objects.remove(id);
        Ok(())
    }

    fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, TargetError> {
        Ok(self
            .lock()
            .objects
            .iter()
            .filter(|(id, _)| namespace.is_none_or(|ns| ns == id.namespace))
            .map(|(_, v)| v)
            .filter(|v| super::listed(v, api_version, kind, label_selector))
            .cloned()
            .collect())
    }

    fn apply_as(
        &self,
        id: &ObjectId,
        partial: &Value,
        _field_manager: &str,
    ) -> Result<(), TargetError> {
        let mut s = self.lock();
        let merged = super::merged_as(id, s.objects.get(id).cloned(), partial)?;
        s.objects.insert(id.clone(), merged);
        Ok(())
    }

    fn records(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
    ) -> Result<Vec<Record>, TargetError> {
        let s = self.lock();
        Ok(s.records
            .iter()
            .filter(|((m, r, _), _)| m == service_map.as_str() && r == release.as_str())
            .map(|(_, rec)| rec.clone())
            .collect())
    }

    fn releases(
        &self,
        service_map: Option<&ServiceMapName>,
    ) -> Result<Vec<(String, String)>, TargetError> {
        let s = self.lock();
        let mut out: Vec<(String, String)> = s
            .records
            .keys()
            .filter(|(m, _, _)| service_map.is_none_or(|sm| sm.as_str() == m))
            .map(|(m, r, _)| (m.clone(), r.clone()))
            .collect();
        out.dedup();
        Ok(out)
    }

    fn write_record(&self, record: &Record) -> Result<(), TargetError> {
        let mut s = self.lock();
        if s.knobs.fail_record_writes {
            return Err(TargetError::Injected(format!(
                "injected failure writing record {} v{}",
                record.name, record.revision
            )));
        }
        s.records.insert(
            (
                record.service_map.clone(),
                record.name.clone(),
                record.revision,
            ),
            record.clone(),
        );
        Ok(())
    }

    fn delete_record(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        revision: u64,
    ) -> Result<(), TargetError> {
        self.lock()
            .records
            .remove(&(service_map.to_string(), release.to_string(), revision));
        Ok(())
    }

    fn acquire(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        holder: &Holder,
        ttl_secs: i64,
        now: UnixTime,
    ) -> Result<Lease, TargetError> {
        let mut s = self.lock();
        let key = (service_map.to_string(), release.to_string());
        let existing = s.leases.get(&key);
        let (acquired, took_over_from) = decide(existing, holder, now, &local_liveness).grant(
            release.as_str(),
            existing.map(|l| l.acquired),
            now,
        )?;
        let lease = Lease {
            service_map: key.0.clone(),
            release: key.1.clone(),
            holder: holder.clone(),
            acquired,
            expires: now.saturating_add(ttl_secs),
            took_over_from,
        };
        s.leases.insert(key, lease.clone());
        Ok(lease)
    }

    fn lease(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
    ) -> Result<Option<Lease>, TargetError> {
        Ok(self
            .lock()
            .leases
            .get(&(service_map.to_string(), release.to_string()))
            .cloned())
    }

    fn renew(&self, lease: &Lease, ttl_secs: i64, now: UnixTime) -> Result<Lease, TargetError> {
        let mut s = self.lock();
        let key = (lease.service_map.clone(), lease.release.clone());
        match s.leases.get_mut(&key) {
            Some(l) if l.holder == lease.holder => {
                l.expires = now.saturating_add(ttl_secs);
                Ok(l.clone())
            }
            Some(l) => Err(TargetError::LeaseLost {
                release: lease.release.clone(),
                detail: format!("{} holds it now", l.holder),
            }),
            None => Err(TargetError::LeaseLost {
                release: lease.release.clone(),
                detail: "it was removed".into(),
            }),
        }
    }

    fn release_lease(&self, lease: &Lease) -> Result<(), TargetError> {
        let mut s = self.lock();
        let key = (lease.service_map.clone(), lease.release.clone());
        if s.leases.get(&key).is_some_and(|l| l.holder == lease.holder) {
            s.leases.remove(&key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn knobs_inject_failures() {
        let t = MemoryTarget::new();
        let id = |n: &str| ObjectId {
            group: String::new(),
            kind: "ConfigMap".into(),
            namespace: "shop".into(),
            name: n.into(),
        };
        t.set_knobs(Knobs {
            fail_apply_nth: Some(2),
            ..Knobs::default()
        });
        let commit = ApplyMode::Commit {
            force_conflicts: false,
        };
        t.apply(&id("a"), &json!({}), commit).unwrap();
        assert!(matches!(
            t.apply(&id("b"), &json!({}), commit),
            Err(TargetError::Injected(_))
        ));
        t.apply(&id("c"), &json!({}), commit).unwrap();
        assert_eq!(t.objects().len(), 2);
        let (sm, rel) = (
            ServiceMapName::new("shop").unwrap(),
            ReleaseName::new("web").unwrap(),
        );
        t.hold_lease("shop", "web", "other", 0, 100);
        let me = Holder::parse("me");
        let err = t.acquire(&sm, &rel, &me, 30, 50).unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation in progress on release `web` by other since 1970-01-01T00:00:00Z; expires in 50s"
        );
        let lease = t.acquire(&sm, &rel, &me, 30, 150).unwrap();
        assert_eq!(lease.took_over_from, Some(Holder::parse("other")));
    }
}
