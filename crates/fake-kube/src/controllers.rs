//! The simulated controllers: workload, claim, Service, Ingress and CRD status after each write
//! ([`Readiness`]), the Job controller's pods and the events of status changes (`pods`,
//! `events`), EndpointSlices for Services, Namespace deletion removing its content, a CRD's
//! deletion removing its custom resources, and garbage collection through `ownerReferences`.

use serde_json::{Map, Value, json};

use crate::json::{meta_mut, obj_mut, short_hash, str_at};
use crate::resources::ResourceDef;
use crate::ssa::Sub;
use crate::store::{Key, Store, Write, key};

/// The field manager of the simulated controllers.
pub(crate) const CONTROLLER: &str = "kube-controller-manager";

/// What the simulated controllers report after a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Readiness {
    /// Everything becomes ready, available, bound or complete at once.
    #[default]
    Immediate,
    /// Nothing ever becomes ready: pods stay pending, claims pending, jobs active, CRDs not
    /// Established (until the mode changes). The outcome knob ([`crate::OUTCOME`]) overrides it.
    Never,
}

/// Which timestamps a condition carries.
#[derive(Clone, Copy)]
pub(crate) enum CondStyle {
    /// Deployments: lastUpdateTime and lastTransitionTime.
    Update,
    /// Jobs and Pods: lastProbeTime (null) and lastTransitionTime.
    Probe,
    /// CRDs: lastTransitionTime only.
    Transition,
}

/// A condition, keeping the timestamps of the same condition in `old_status` when its status
/// (and, for lastUpdateTime, reason and message) did not change.
pub(crate) fn condition(
    old_status: Option<&Value>,
    ctype: &str,
    status: &str,
    reason: &str,
    message: &str,
    style: CondStyle,
    now: &str,
) -> Value {
    let prev = old_status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == ctype));
    let same_status = prev.is_some_and(|p| p["status"] == status);
    let transition = match prev {
        Some(p) if same_status => p
            .get("lastTransitionTime")
            .cloned()
            .unwrap_or_else(|| now.into()),
        _ => now.into(),
    };
    let mut m = Map::new();
    m.insert("type".into(), ctype.into());
    m.insert("status".into(), status.into());
    match style {
        CondStyle::Update => {
            let unchanged = same_status
                && prev.is_some_and(|p| p["reason"] == reason && p["message"] == message);
            let update = match prev {
                Some(p) if unchanged => p
                    .get("lastUpdateTime")
                    .cloned()
                    .unwrap_or_else(|| now.into()),
                _ => now.into(),
            };
            m.insert("lastUpdateTime".into(), update);
        }
        CondStyle::Probe => {
            m.insert("lastProbeTime".into(), Value::Null);
        }
        CondStyle::Transition => {}
    }
    m.insert("lastTransitionTime".into(), transition);
    if !reason.is_empty() {
        m.insert("reason".into(), reason.into());
    }
    if !message.is_empty() {
        m.insert("message".into(), message.into());
    }
    Value::Object(m)
}

/// The status a controller would eventually report for `obj`, or `None` when no controller
/// acts on its kind.
pub(crate) fn desired_status(
    res: &ResourceDef,
    obj: &Value,
    readiness: Readiness,
    now: &str,
) -> Option<Value> {
    let ready = readiness == Readiness::Immediate;
    let name = str_at(obj, "/metadata/name").unwrap_or("");
    let generation = obj
        .pointer("/metadata/generation")
        .cloned()
        .unwrap_or_else(|| 1.into());
    let old = obj.get("status");
    let replicas = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mut s = Map::new();
    // Most status counters are `omitempty` in the real API: zero is absent.
    let put = |s: &mut Map<String, Value>, k: &str, n: i64| {
        if n != 0 {
            s.insert(k.into(), n.into());
        }
    };
    // Pods whose template asks for trouble never get ready, whatever the mode.
    let ready = ready
        && (!matches!(res.kind, "Deployment" | "ReplicaSet")
            || crate::pods::outcome_can_be_ready(crate::pods::template_outcome(obj)));
    match (res.group, res.kind) {
        ("apps", "Deployment") => {
            s.insert("observedGeneration".into(), generation);
            put(&mut s, "replicas", replicas);
            put(&mut s, "updatedReplicas", replicas);
            put(&mut s, "readyReplicas", if ready { replicas } else { 0 });
            put(
                &mut s,
                "availableReplicas",
                if ready { replicas } else { 0 },
            );
            put(
                &mut s,
                "unavailableReplicas",
                if ready { 0 } else { replicas },
            );
            let template = obj
                .pointer("/spec/template")
                .cloned()
                .unwrap_or(Value::Null);
            let rs = format!("{name}-{}", short_hash(&template, 10));
            let available = if ready || replicas == 0 {
                condition(
                    old,
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    CondStyle::Update,
                    now,
                )
            } else {
                condition(
                    old,
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                    CondStyle::Update,
                    now,
                )
            };
            let progressing = if ready {
                condition(
                    old,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    &format!("ReplicaSet \"{rs}\" has successfully progressed."),
                    CondStyle::Update,
                    now,
                )
            } else {
                condition(
                    old,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    &format!("ReplicaSet \"{rs}\" is progressing."),
                    CondStyle::Update,
                    now,
                )
            };
            s.insert("conditions".into(), json!([available, progressing]));
        }
        ("apps", "StatefulSet") => {
            s.insert("observedGeneration".into(), generation);
            s.insert("replicas".into(), replicas.into());
            put(&mut s, "readyReplicas", if ready { replicas } else { 0 });
            put(&mut s, "currentReplicas", replicas);
            put(&mut s, "updatedReplicas", replicas);
            s.insert("currentRevision".into(), format!("{name}-1").into());
            s.insert("updateRevision".into(), format!("{name}-1").into());
            s.insert("collisionCount".into(), 0.into());
            s.insert(
                "availableReplicas".into(),
                (if ready { replicas } else { 0 }).into(),
            );
        }
        ("apps", "DaemonSet") => {
            let nodes = 2;
            s.insert("currentNumberScheduled".into(), nodes.into());
            s.insert("numberMisscheduled".into(), 0.into());
            s.insert("desiredNumberScheduled".into(), nodes.into());
            s.insert("numberReady".into(), (if ready { nodes } else { 0 }).into());
            s.insert("observedGeneration".into(), generation);
            put(&mut s, "updatedNumberScheduled", nodes);
            put(&mut s, "numberAvailable", if ready { nodes } else { 0 });
            put(&mut s, "numberUnavailable", if ready { 0 } else { nodes });
        }
        ("apps", "ReplicaSet") => {
            s.insert("replicas".into(), replicas.into());
            put(&mut s, "fullyLabeledReplicas", replicas);
            put(&mut s, "readyReplicas", if ready { replicas } else { 0 });
            put(
                &mut s,
                "availableReplicas",
                if ready { replicas } else { 0 },
            );
            s.insert("observedGeneration".into(), generation);
        }
        ("batch", "Job") => return Some(crate::pods::job_status(obj, readiness, now)),
        ("", "Pod") => return Some(crate::pods::pod_status(obj, readiness, now)),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            return Some(crate::crds::status(obj, readiness, now));
        }
        ("", "PersistentVolumeClaim") => {
            let provisioning_fails = obj
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(crate::pods::OUTCOME))
                .and_then(Value::as_str)
                == Some("fail");
            if ready && !provisioning_fails {
                s.insert("phase".into(), "Bound".into());
                if let Some(modes) = obj.pointer("/spec/accessModes") {
                    s.insert("accessModes".into(), modes.clone());
                }
                if let Some(size) = obj.pointer("/spec/resources/requests/storage") {
                    s.insert("capacity".into(), json!({"storage": size}));
                }
            } else {
                s.insert("phase".into(), "Pending".into());
            }
        }
        ("", "Service") => {
            let lb = str_at(obj, "/spec/type") == Some("LoadBalancer");
            if lb && ready {
                s.insert(
                    "loadBalancer".into(),
                    json!({"ingress": [{"ip": "203.0.113.10", "ipMode": "VIP"}]}),
                );
            } else {
                s.insert("loadBalancer".into(), json!({}));
            }
        }
        ("networking.k8s.io", "Ingress") => {
            if ready {
                s.insert(
                    "loadBalancer".into(),
                    json!({"ingress": [{"ip": "203.0.113.20"}]}),
                );
            } else {
                s.insert("loadBalancer".into(), json!({}));
            }
        }
        _ => return None,
    }
    Some(Value::Object(s))
}

impl Store {
    /// Runs the simulated controller of a stored object: its status, and for a Service its
    /// EndpointSlice.
    pub(crate) fn reconcile(&mut self, k: &Key, now: &str) {
        let Some(stored) = self.objects.get(k).cloned() else {
            return;
        };
        let Some(res) = self.find_by_group_plural(&k.0, &k.1) else {
            return;
        };
        let ns = (!k.2.is_empty()).then_some(k.2.as_str());
        if res.is("batch", "Job") {
            self.ensure_job_pod(&stored.obj, now);
        }
        if res.is("apps", "Deployment") {
            self.ensure_deployment_pods(&stored.obj, now);
        }
        if let Some(status) = desired_status(res, &stored.obj, self.readiness, now)
            && stored.obj.get("status") != Some(&status)
        {
            let old_status = stored.obj.get("status").cloned();
            let mut new = stored.obj.clone();
            obj_mut(&mut new).insert("status".into(), status.clone());
            let w = Write {
                res,
                ns,
                name: &k.3,
                sub: Sub::Status,
                dry_run: false,
                validate: false,
                now,
            };
            match self.update_object(&w, Some(&stored), new, CONTROLLER) {
                Ok((true, written)) => {
                    self.status_events(&written, old_status.as_ref(), &status, now);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("fake kube: controller status of {}: {}", k.3, e.message);
                }
            }
        }
        if res.is("", "Service") {
            self.reconcile_endpoint_slice(&stored.obj, now);
        }
    }

    pub(crate) fn reconcile_endpoint_slice(&mut self, svc: &Value, now: &str) {
        let has_selector = svc
            .pointer("/spec/selector")
            .and_then(Value::as_object)
            .is_some_and(|s| !s.is_empty());
        if !has_selector || str_at(svc, "/spec/type") == Some("ExternalName") {
            return;
        }
        let (Some(ns), Some(name)) = (
            str_at(svc, "/metadata/namespace"),
            str_at(svc, "/metadata/name"),
        ) else {
            return;
        };
        let uid = str_at(svc, "/metadata/uid").unwrap_or("");
        let ready = self.readiness == Readiness::Immediate;
        let ports: Vec<Value> = svc
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| {
                let port = p
                    .get("targetPort")
                    .filter(|v| v.is_number())
                    .or_else(|| p.get("port"))
                    .cloned()
                    .unwrap_or(Value::Null);
                json!({
                    "name": p.get("name").cloned().unwrap_or_else(|| "".into()),
                    "port": port,
                    "protocol": p.get("protocol").cloned().unwrap_or_else(|| "TCP".into()),
                })
            })
            .collect();
        let slice_name = format!("{name}-abc12");
        let slice = json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": slice_name,
                "namespace": ns,
                "labels": {
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    "kubernetes.io/service-name": name,
                },
                "ownerReferences": [{
                    "apiVersion": "v1",
                    "kind": "Service",
                    "name": name,
                    "uid": uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "addressType": "IPv4",
            "endpoints": [{
                "addresses": ["10.244.0.10"],
                "conditions": {"ready": ready, "serving": ready, "terminating": false},
                "nodeName": "fake-node-1",
            }],
            "ports": ports,
        });
        let Some(res) = self.find_by_group_plural("discovery.k8s.io", "endpointslices") else {
            return;
        };
        let k = key(res, Some(ns), &slice_name);
        let old = self.objects.get(&k).cloned();
        let w = Write {
            res,
            ns: Some(ns),
            name: &slice_name,
            sub: Sub::Main,
            dry_run: false,
            validate: false,
            now,
        };
        if let Err(e) = self.update_object(&w, old.as_ref(), slice, CONTROLLER) {
            tracing::warn!("fake kube: endpoint slice {slice_name}: {}", e.message);
        }
    }
}

pub(crate) fn owned_by(obj: &Value, uid: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
        })
}

impl Store {
    /// Removes an object now, with what depends on it: a Namespace's content, and objects
    /// whose ownerReferences name it (orphaned instead with the `Orphan` policy).
    pub(crate) fn remove_object(&mut self, k: &Key, policy: &str) {
        let Some(stored) = self.objects.remove(k) else {
            return;
        };
        self.rv += 1;
        if k.0.is_empty() && k.1 == "namespaces" {
            let content: Vec<Key> = self
                .objects
                .keys()
                .filter(|o| o.2 == k.3)
                .cloned()
                .collect();
            for c in content {
                self.objects.remove(&c);
            }
        }
        if crate::crds::is_crd_key(k) {
            self.remove_custom_resources(&stored.obj);
        }
        let uid = str_at(&stored.obj, "/metadata/uid")
            .unwrap_or("")
            .to_string();
        if uid.is_empty() {
            return;
        }
        let dependents: Vec<Key> = self
            .objects
            .iter()
            .filter(|(_, s)| owned_by(&s.obj, &uid))
            .map(|(d, _)| d.clone())
            .collect();
        for d in dependents {
            if policy == "Orphan" {
                self.rv += 1;
                let rv = self.rv.to_string();
                if let Some(s) = self.objects.get_mut(&d) {
                    let m = meta_mut(&mut s.obj);
                    if let Some(Value::Array(refs)) = m.get_mut("ownerReferences") {
                        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                        if refs.is_empty() {
                            m.shift_remove("ownerReferences");
                        }
                    }
                    m.insert("resourceVersion".into(), rv.into());
                }
            } else {
                self.remove_object(&d, "Background");
            }
        }
    }
}
