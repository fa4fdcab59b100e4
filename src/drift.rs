//! Drift: fields of a release's objects that another field manager changed after cocktail-pkg
//! applied them (`kubectl edit`, `kubectl scale`, an operator). Pure: the object as the release
//! applied it and the live object (with `metadata.managedFields`) in, the drifted fields out.
//!
//! A field drifts when a manager other than ours owns it in `managedFields` and its live value
//! differs from the one the release applied. Ownership is what server-side apply records: a
//! `kubectl edit` that changes a field we applied takes it from us. So the fields a mutating
//! webhook changes on our requests (they stay ours) are never drift, and neither are the
//! replicas of an autoscaled workload (`autoscaled`: an HPA targets it) or anything written
//! through the `scale` or `status` subresources.
//!
//! `fieldsV1` is read in the real API server's form (`f:` fields, `k:` list items by key, `v:`
//! set items, `i:` indexes, `.` the node itself) and in the fake API server's simplified one
//! (lists are atomic leaves).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::ObjectId;

/// One drifted field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDrift {
    /// `.spec.template.spec.containers[name=web].image`.
    pub path: String,
    /// What the release applied.
    pub release: Value,
    /// What the cluster has.
    pub live: Value,
    /// Who changed it (`kubectl-edit`).
    pub manager: String,
}

/// The drift of one object: changed fields, or the object is gone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectDrift {
    pub id: ObjectId,
    /// The object was deleted outside cocktail-pkg.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldDrift>,
}

impl ObjectDrift {
    /// One line per field: `.spec.replicas: release 2, live 5 (kubectl-edit)`.
    pub fn describe(&self) -> Vec<String> {
        if self.missing {
            return vec!["deleted outside cocktail-pkg".into()];
        }
        self.fields
            .iter()
            .map(|f| {
                format!(
                    "{}: release {}, live {} (changed by {})",
                    f.path,
                    short(&f.release),
                    short(&f.live),
                    f.manager
                )
            })
            .collect()
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 80 {
        let head: String = text.chars().take(77).collect();
        format!("{head}...")
    } else {
        text
    }
}

/// The fields of `applied` that a manager other than `ours` changed in `live`.
pub fn detect(applied: &Value, live: &Value, ours: &str, autoscaled: bool) -> Vec<FieldDrift> {
    let mut out = Vec::new();
    let entries = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for e in entries {
        let manager = e.get("manager").and_then(Value::as_str).unwrap_or("");
        let sub = e.get("subresource").and_then(Value::as_str).unwrap_or("");
        if manager == ours || !sub.is_empty() {
            continue;
        }
        let Some(Value::Object(fields)) = e.get("fieldsV1") else {
            continue;
        };
        walk(fields, Some(applied), Some(live), "", manager, &mut out);
    }
    if autoscaled {
        out.retain(|f| f.path != ".spec.replicas");
    }
    // Two managers may own one field (one set it, the other applied the same value later).
    out.dedup_by(|a, b| a.path == b.path);
    out
}

fn walk(
    fields: &Map<String, Value>,
    applied: Option<&Value>,
    live: Option<&Value>,
    path: &str,
    manager: &str,
    out: &mut Vec<FieldDrift>,
) {
    for (key, child) in fields {
        let (here, a, l) = if let Some(name) = key.strip_prefix("f:") {
            if path.is_empty() && matches!(name, "status" | "apiVersion" | "kind") {
                continue;
            }
            (
                format!("{path}.{name}"),
                applied.and_then(|a| a.get(name)),
                live.and_then(|l| l.get(name)),
            )
        } else if let Some(k) = key.strip_prefix("k:") {
            let Ok(Value::Object(keys)) = serde_json::from_str::<Value>(k) else {
                continue;
            };

            let label: Vec<String> = keys
                .iter()
                .map(|(kk, kv)| {
                    format!(
                        "{kk}={}",
                        kv.as_str().map_or_else(|| kv.to_string(), str::to_string)
                    )
                })
                .collect();
            (
                format!("{path}[{}]", label.join(",")),
                by_key(applied, &keys),
                by_key(live, &keys),
            )
        } else if let Some(v) = key.strip_prefix("v:") {
            let Ok(value) = serde_json::from_str::<Value>(v) else {
                continue;
            };
            (
                format!("{path}[{v}]"),
                by_value(applied, &value),
                by_value(live, &value),
            )
        } else if let Some(i) = key.strip_prefix("i:") {
            let Ok(i) = i.parse::<usize>() else { continue };
            (format!("{path}[{i}]"), at(applied, i), at(live, i))
        } else {
            // `.`: the node itself, owned with its children listed beside it.
            continue;
        };
        // Only what the release applied can drift from it.
        let Some(a) = a else { continue };
        let children: Map<String, Value> = match child {
            Value::Object(m) => m
                .iter()
                .filter(|(k, _)| *k != ".")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            _ => Map::new(),
        };
        if children.is_empty() {
            let live_value = l.cloned().unwrap_or(Value::Null);
            if !same(a, &live_value) {
                out.push(FieldDrift {
                    path: here,
                    release: a.clone(),
                    live: live_value,
                    manager: manager.to_string(),
                });
            }
        } else {
            walk(&children, Some(a), l, &here, manager, out);
        }
    }
}

/// The item of a list whose fields are `keys` (a `k:` entry).
fn by_key<'a>(list: Option<&'a Value>, keys: &Map<String, Value>) -> Option<&'a Value> {
    list.and_then(Value::as_array)?
        .iter()
        .find(|i| keys.iter().all(|(k, v)| i.get(k) == Some(v)))
}

/// The item of a set equal to `value` (a `v:` entry).
fn by_value<'a>(list: Option<&'a Value>, value: &Value) -> Option<&'a Value> {
    list.and_then(Value::as_array)?.iter().find(|i| *i == value)
}

/// The item at an index (an `i:` entry).
fn at(list: Option<&Value>, i: usize) -> Option<&Value> {
    list.and_then(Value::as_array)?.get(i)
}

/// Whether the live value is what was applied: equal scalars (numbers by value), and for
/// maps and lists every applied field the same live (the server may add defaults inside).
fn same(applied: &Value, live: &Value) -> bool {
    match (applied, live) {
        (Value::Object(a), Value::Object(l)) => a
            .iter()
            .all(|(k, av)| l.get(k).is_some_and(|lv| same(av, lv)) || av.is_null()),
        (Value::Array(a), Value::Array(l)) => {
            a.len() == l.len() && a.iter().zip(l).all(|(av, lv)| same(av, lv))
        }
        (Value::Number(a), Value::Number(l)) => a.as_f64() == l.as_f64(),
        // `"1"` for a port an API server keeps as a number and the like are not drift.
        (Value::String(a), Value::Number(l)) | (Value::Number(l), Value::String(a)) => {
            a.parse::<f64>().ok() == l.as_f64()
        }
        _ => applied == live,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(fields: Value, manager: &str, replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "managedFields": [
                {"manager": "cocktail-pkg", "operation": "Apply", "fieldsV1": {"f:spec": {"f:selector": {}}}},
                {"manager": manager, "operation": "Update", "fieldsV1": fields}
            ]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "web", "image": image, "terminationMessagePath": "/dev/termination-log"}]}}}})
    }

    fn applied() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
    }

    #[test]
    fn a_field_another_manager_changed_is_drift() {
        let l = live(
            json!({"f:spec": {"f:replicas": {}}}),
            "kubectl-edit",
            5,
            "nginx:1.27",
        );
        let d = detect(&applied(), &l, "cocktail-pkg", false);
        assert_eq!(
            d,
            [FieldDrift {
                path: ".spec.replicas".into(),
                release: json!(2),
                live: json!(5),
                manager: "kubectl-edit".into()
            }]
        );
        assert!(
            detect(&applied(), &l, "cocktail-pkg", true).is_empty(),
            "autoscaled"
        );
    }

    #[test]
    fn list_items_by_key_as_the_real_server_writes_them() {
        let fields = json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {".": {}, "f:image": {}}}}}}});
        let l = live(fields, "kubectl-set", 2, "nginx:1.28");
        let d = detect(&applied(), &l, "cocktail-pkg", false);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, ".spec.template.spec.containers[name=web].image");
        assert_eq!(d[0].live, json!("nginx:1.28"));
        let o = ObjectDrift {
            id: crate::targets::object_id(&l).unwrap(),
            missing: false,
            fields: d,
        };
        assert_eq!(
            o.describe(),
            [
                ".spec.template.spec.containers[name=web].image: release \"nginx:1.27\", live \"nginx:1.28\" (changed by kubectl-set)"
            ]
        );
    }

    #[test]
    fn atomic_lists_compare_what_was_applied_and_equal_values_are_no_drift() {
        // The fake's simplified form: a list is a leaf; the server's defaults inside are fine.
        let fields =
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {}}}, "f:replicas": {}}});
        let l = live(fields, "other", 2, "nginx:1.27");
        assert!(detect(&applied(), &l, "cocktail-pkg", false).is_empty());
        let l = live(
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {}}}}}),
            "other",
            2,
            "x:1",
        );
        assert_eq!(
            detect(&applied(), &l, "cocktail-pkg", false)[0].path,
            ".spec.template.spec.containers"
        );
        // Fields we never applied, subresources and our own manager are not drift.
        let l = live(
            json!({"f:spec": {"f:paused": {}}}),
            "other",
            2,
            "nginx:1.27",
        );
        assert!(detect(&applied(), &l, "cocktail-pkg", false).is_empty());
        let mut l = live(
            json!({"f:spec": {"f:replicas": {}}}),
            "kube-controller-manager",
            7,
            "nginx:1.27",
        );
        l["metadata"]["managedFields"][1]["subresource"] = json!("scale");
        assert!(detect(&applied(), &l, "cocktail-pkg", false).is_empty());
    }
}
