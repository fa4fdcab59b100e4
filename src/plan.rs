//! Plans: what an install, upgrade, rollback or uninstall will do, as data, before it is done.
//! The same plan drives `diff`, `--dry-run` and the apply itself. Pure, no IO.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::model::ObjectId;
use crate::render::RenderedObject;

/// Apply order by kind; deletes go in reverse. Kinds not listed come after the listed ones.
pub const KIND_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
];

/// The annotation that keeps an object when a later revision or uninstall would delete it.
pub const KEEP_ANNOTATION: &str = "cocktail.io/resource-policy";

/// Where a kind goes in the apply order.
pub fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// `live` cut down to the fields `desired` sets (lists item by item): what a diff shows as
/// "before" when there is no earlier revision of the object, only the live one.
pub fn as_applied(live: &Value, desired: &Value) -> Value {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => Value::Object(
            d.keys()
                .filter_map(|k| l.get(k).map(|lv| (k.clone(), as_applied(lv, &d[k]))))
                .collect(),
        ),
        (Value::Array(l), Value::Array(d)) if l.len() == d.len() => {
            Value::Array(l.iter().zip(d).map(|(lv, dv)| as_applied(lv, dv)).collect())
        }
        _ => live.clone(),
    }
}

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Removed from the package but annotated to keep: left in place, no longer owned.
    Orphan,
    Unchanged,
}

/// A change to a field Kubernetes will not let an update change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImmutableChange {
    /// JSON pointer of the field (`/spec/selector`).
    pub field: String,
    pub why: &'static str,
}

/// One object's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub id: ObjectId,
    pub action: Action,
    /// The object as the previous revision applied it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The object as this revision will apply it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub immutable: Vec<ImmutableChange>,
}

/// The whole plan: changes in the order they are applied (creates and updates in kind order,
/// then deletes in reverse kind order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    /// Splits the plan into the changes of the objects `first` picks and the others, each in
    /// its order.
    pub fn split(&self, first: impl Fn(&ObjectId) -> bool) -> (Plan, Plan) {
        let (a, b) = self.changes.iter().cloned().partition(|c| first(&c.id));
        (Plan { changes: a }, Plan { changes: b })
    }

    /// True when applying the plan would change something.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::Unchanged)
    }

    /// Changes that an update cannot make (the apply would be refused).
    pub fn immutable_problems(&self) -> Vec<(&ObjectId, &ImmutableChange)> {
        self.changes
            .iter()
            .flat_map(|c| c.immutable.iter().map(move |i| (&c.id, i)))
            .collect()
    }

    /// Turns "unchanged" into "update": when what is applied is not known for sure (after a
    /// failed revision), every object is applied again.
    pub fn reapply_unchanged(&mut self) {
        for c in &mut self.changes {
            if c.action == Action::Unchanged {
                c.action = Action::Update;
            }
        }
    }

    /// The objects the release has after the plan (created, updated and unchanged), with ids.
    pub fn desired(&self) -> Vec<(ObjectId, Value)> {
        self.changes
            .iter()
            .filter(|c| {
                matches!(
                    c.action,
                    Action::Create | Action::Update | Action::Unchanged
                )
            })
            .filter_map(|c| c.after.clone().map(|a| (c.id.clone(), a)))
            .collect()
    }

    /// Counts per action, for summaries.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for c in &self.changes {
            let k = match c.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Delete => "delete",
                Action::Orphan => "orphan",
                Action::Unchanged => "unchanged",
            };
            *out.entry(k).or_insert(0) += 1;
        }
        out
    }
}

/// Whether an object is annotated to be kept when dropped from a package or uninstalled.
pub fn keeps(obj: &Value) -> bool {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(KEEP_ANNOTATION))
        .and_then(Value::as_str)
        == Some("keep")
}

/// Plans moving from `previous` (the objects the last revision applied) to `desired`.
pub fn plan(desired: &[RenderedObject], previous: &[(ObjectId, Value)]) -> Plan {
    let before: BTreeMap<&ObjectId, &Value> = previous.iter().map(|(id, v)| (id, v)).collect();
    let mut forward: Vec<Change> = desired
        .iter()
        .map(|o| {
            let old = before.get(&o.id).copied();
            let action = match old {
                None => Action::Create,
                Some(v) if *v == o.object => Action::Unchanged,
                Some(_) => Action::Update,
            };
            let immutable = match old {
                Some(v) if action == Action::Update => immutable_changes(&o.id.kind, v, &o.object),
                _ => Vec::new(),
            };
            Change {
                id: o.id.clone(),
                action,
                before: old.cloned(),
                after: Some(o.object.clone()),
                immutable,
            }
        })
        .collect();
    forward.sort_by_key(|c| kind_rank(&c.id.kind));
    let wanted: std::collections::HashSet<&ObjectId> = desired.iter().map(|o| &o.id).collect();
    let mut removed: Vec<Change> = previous
        .iter()
        .filter(|(id, _)| !wanted.contains(id))
        .map(|(id, v)| Change {
            id: id.clone(),
            action: if keeps(v) {
                Action::Orphan
            } else {
                Action::Delete
            },
            before: Some(v.clone()),
            after: None,
            immutable: Vec::new(),
        })
        .collect();
    removed.sort_by_key(|c| std::cmp::Reverse(kind_rank(&c.id.kind)));
    forward.extend(removed);
    Plan { changes: forward }
}

/// Fields whose change Kubernetes refuses on update, by kind.
fn immutable_changes(kind: &str, before: &Value, after: &Value) -> Vec<ImmutableChange> {
    let fields: &[(&str, &'static str)] = match kind {
        "StatefulSet" => &[
            ("/spec/selector", "a StatefulSet's selector cannot change"),
            (
                "/spec/volumeClaimTemplates",
                "a StatefulSet's volumeClaimTemplates cannot change",
            ),
            (
                "/spec/serviceName",
                "a StatefulSet's serviceName cannot change",
            ),
            (
                "/spec/podManagementPolicy",
                "a StatefulSet's podManagementPolicy cannot change",
            ),
        ],
        "Deployment" | "DaemonSet" | "ReplicaSet" => {
            &[("/spec/selector", "a workload's selector cannot change")]
        }
        "Job" => &[
            ("/spec/template", "a Job's pod template cannot change"),
            ("/spec/selector", "a Job's selector cannot change"),
        ],
        "Service" => &[("/spec/clusterIP", "a Service's clusterIP cannot change")],
        "PersistentVolumeClaim" => &[
            (
                "/spec/storageClassName",
                "a claim's storage class cannot change",
            ),
            ("/spec/accessModes", "a claim's access modes cannot change"),
            ("/spec/volumeName", "a claim's volume cannot change"),
        ],
        "ConfigMap" | "Secret" if before.get("immutable") == Some(&Value::Bool(true)) => &[
            ("/data", "this object is marked immutable"),
            ("/stringData", "this object is marked immutable"),
            ("/binaryData", "this object is marked immutable"),
        ],
        _ => &[],
    };
    fields
        .iter()
        .filter(|(ptr, _)| before.pointer(ptr) != after.pointer(ptr))
        .map(|(ptr, why)| ImmutableChange {
            field: (*ptr).to_string(),
            why,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, name: &str, spec: Value) -> RenderedObject {
        let api = match kind {
            "Deployment" | "StatefulSet" => "apps/v1",
            "Job" => "batch/v1",
            _ => "v1",
        };
        RenderedObject {
            template: "t.yaml".into(),
            id: ObjectId {
                group: ObjectId::group_of(api).into(),
                kind: kind.into(),
                namespace: "shop".into(),
                name: name.into(),
            },
            object: json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": spec}),
        }
    }

    fn prev(objs: &[RenderedObject]) -> Vec<(ObjectId, Value)> {
        objs.iter()
            .map(|o| (o.id.clone(), o.object.clone()))
            .collect()
    }

    #[test]
    fn first_install_creates_in_kind_order() {
        let desired = [
            obj("Deployment", "web", json!({})),
            obj("Service", "web", json!({})),
            obj("ConfigMap", "web", json!({})),
        ];
        let p = plan(&desired, &[]);
        let order: Vec<(&str, Action)> = p
            .changes
            .iter()
            .map(|c| (c.id.kind.as_str(), c.action))
            .collect();
        assert_eq!(
            order,
            [
                ("ConfigMap", Action::Create),
                ("Service", Action::Create),
                ("Deployment", Action::Create)
            ]
        );
        assert!(p.has_changes());
    }

    #[test]
    fn upgrade_updates_keeps_deletes_and_orphans() {
        let old = [
            obj("ConfigMap", "a", json!({"x": 1})),
            obj("Service", "svc", json!({})),
            obj("Deployment", "gone", json!({})),
            {
                let mut o = obj("PersistentVolumeClaim", "data", json!({}));
                o.object["metadata"]["annotations"] = json!({KEEP_ANNOTATION: "keep"});
                o
            },
        ];
        let new = [
            obj("ConfigMap", "a", json!({"x": 2})),
            obj("Service", "svc", json!({})),
        ];
        let p = plan(&new, &prev(&old));
        let got: Vec<(&str, Action)> = p
            .changes
            .iter()
            .map(|c| (c.id.name.as_str(), c.action))
            .collect();
        assert_eq!(
            got,
            [
                ("a", Action::Update),
                ("svc", Action::Unchanged),
                ("gone", Action::Delete),
                ("data", Action::Orphan)
            ]
        );
        assert_eq!(p.counts()["update"], 1);
        let same = plan(&new, &prev(&new));
        assert!(!same.has_changes());
    }

    #[test]
    fn immutable_field_changes_are_found() {
        let old = [
            obj(
                "StatefulSet",
                "db",
                json!({"selector": {"matchLabels": {"a": "1"}}, "serviceName": "db"}),
            ),
            obj(
                "Job",
                "migrate",
                json!({"template": {"spec": {"containers": [{"image": "m:1"}]}}}),
            ),
        ];
        let new = [
            obj(
                "StatefulSet",
                "db",
                json!({"selector": {"matchLabels": {"a": "2"}}, "serviceName": "db", "replicas": 2}),
            ),
            obj(
                "Job",
                "migrate",
                json!({"template": {"spec": {"containers": [{"image": "m:2"}]}}}),
            ),
        ];
        let p = plan(&new, &prev(&old));
        let problems: Vec<(String, String)> = p
            .immutable_problems()
            .into_iter()
            .map(|(id, c)| (id.name.clone(), c.field.clone()))
            .collect();
        assert_eq!(
            problems,
            [
                ("db".to_string(), "/spec/selector".to_string()),
                ("migrate".to_string(), "/spec/template".to_string())
            ]
        );
    }
}
