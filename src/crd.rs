//! CustomResourceDefinition upgrade safety: what an upgrade of a CRD from the live object to
//! the rendered one would break. Pure: no IO, no clock.
//!
//! Three kinds of breaking change, checked version by version:
//!
//! - a version the cluster serves is missing from the new CRD, or no longer `served` (its
//!   clients get 404s);
//! - a version that holds stored objects (`status.storedVersions`, or the live storage version
//!   when the status is absent) is missing from the new CRD (the API server refuses it: those
//!   objects could no longer be read);
//! - for every stored version kept, a field of the live schema is missing from the new one
//!   (the API server prunes it from stored objects on their next write): field paths follow
//!   `properties` (`.spec.size`), `items` (`.spec.ports[*].name`) and `additionalProperties`
//!   (`.spec.labels.*`), unless the new schema keeps unknown fields there
//!   (`x-kubernetes-preserve-unknown-fields: true`).
//!
//! Adding versions or fields, and changing descriptions, types or validation rules are not
//! reported.

use std::fmt;

use serde_json::Value;

use crate::model::ObjectId;

/// The API group of CustomResourceDefinitions.
pub const CRD_GROUP: &str = "apiextensions.k8s.io";

/// Whether `id` names a CustomResourceDefinition.
pub fn is_crd(id: &ObjectId) -> bool {
    id.group == CRD_GROUP && id.kind == "CustomResourceDefinition"
}

/// What kind of breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrdChangeKind {
    /// A served version is missing from the new CRD.
    ServedVersionRemoved,
    /// A served version is kept but marked `served: false`.
    VersionNoLongerServed,
    /// A version with stored objects is missing from the new CRD.
    StoredVersionRemoved,
    /// A field of a stored version's schema is missing from the new schema.
    FieldRemoved,
}

/// One breaking change of a CRD upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdChange {
    pub kind: CrdChangeKind,
    /// The CRD version concerned (`v1beta1`).
    pub version: String,
    /// The field, for [`CrdChangeKind::FieldRemoved`]: `.spec.ports[*].name`.
    pub path: Option<String>,
}

impl fmt::Display for CrdChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.version;
        match self.kind {
            CrdChangeKind::ServedVersionRemoved => write!(
                f,
                "version {v} is served and would be removed: its clients would get 404s"
            ),
            CrdChangeKind::VersionNoLongerServed => write!(
                f,
                "version {v} would no longer be served (served: false): its clients would get 404s"
            ),
            CrdChangeKind::StoredVersionRemoved => write!(
                f,
                "version {v} holds stored objects (status.storedVersions) and would be removed: they could no longer be read"
            ),
            CrdChangeKind::FieldRemoved => write!(
                f,
                "field {} of stored version {v} would be removed from the schema: its values would be pruned from stored objects",
                self.path.as_deref().unwrap_or("?")
            ),
        }
    }
}

fn versions(crd: &Value) -> &[Value] {
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn version<'a>(crd: &'a Value, name: &str) -> Option<&'a Value> {
    versions(crd)
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(name))
}

fn name_of(v: &Value) -> &str {
    v.get("name").and_then(Value::as_str).unwrap_or("")
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The schema of a version: its own, else the CRD-wide one (`apiextensions.k8s.io/v1beta1`).
fn schema<'a>(crd: &'a Value, v: &'a Value) -> Option<&'a Value> {
    v.pointer("/schema/openAPIV3Schema")
        .or_else(|| crd.pointer("/spec/validation/openAPIV3Schema"))
}

/// The versions holding stored objects: `status.storedVersions`, else the storage version.
fn stored_versions(live: &Value) -> Vec<&str> {
    let listed: Vec<&str> = live
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    versions(live)
        .iter()
        .filter(|v| flag(v, "storage"))
        .map(name_of)
        .collect()
}

/// The breaking changes of upgrading the CRD `live` (as read from the cluster, status
/// included) to `desired` (as rendered), in the order of `live`'s versions and fields.
pub fn breaking_changes(live: &Value, desired: &Value) -> Vec<CrdChange> {
    let mut out = Vec::new();
    let change = |kind, version: &str, path: Option<String>| CrdChange {
        kind,
        version: version.to_string(),
        path,
    };
    for v in versions(live).iter().filter(|v| flag(v, "served")) {
        let name = name_of(v);
        match version(desired, name) {
            None => out.push(change(CrdChangeKind::ServedVersionRemoved, name, None)),
            Some(d) if !flag(d, "served") => {
                out.push(change(CrdChangeKind::VersionNoLongerServed, name, None));
            }
            Some(_) => {}
        }
    }
    for name in stored_versions(live) {
        let Some(d) = version(desired, name) else {
            out.push(change(CrdChangeKind::StoredVersionRemoved, name, None));
            continue;
        };
        let Some(l) = version(live, name) else {
            continue;
        };
        let (Some(live_schema), desired_schema) = (schema(live, l), schema(desired, d)) else {
            continue;
        };
        let mut paths = Vec::new();
        removed_fields(live_schema, desired_schema, "", &mut paths);
        out.extend(
            paths
                .into_iter()
                .map(|p| change(CrdChangeKind::FieldRemoved, name, Some(p))),
        );
    }
    out
}

/// The field paths under `live` that `desired` (absent: nothing) no longer has.
fn removed_fields(live: &Value, desired: Option<&Value>, path: &str, out: &mut Vec<String>) {
    if desired.is_some_and(|d| flag(d, "x-kubernetes-preserve-unknown-fields")) {
        return;
    }
    if let Some(props) = live.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            let child = format!("{path}.{name}");
            match desired.and_then(|d| d.pointer(&format!("/properties/{}", escape(name)))) {
                Some(d) => removed_fields(sub, Some(d), &child, out),
                None => out.push(child),
            }
        }
    }
    for (key, suffix) in [("items", "[*]"), ("additionalProperties", ".*")] {
        if let Some(sub) = live.get(key).filter(|s| s.is_object()) {
            let d = desired.and_then(|d| d.get(key)).filter(|s| s.is_object());
            removed_fields(sub, d, &format!("{path}{suffix}"), out);
        }
    }
}

/// A JSON pointer token.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn crd(versions: Value, stored: Option<Value>) -> Value {
        let mut c = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "kind": "Widget"},
                     "versions": versions},
        });
        if let Some(s) = stored {
            c["status"] = json!({"storedVersions": s});
        }
        c
    }

    fn v(name: &str, served: bool, storage: bool, spec: Value) -> Value {
        json!({"name": name, "served": served, "storage": storage,
               "schema": {"openAPIV3Schema": {"type": "object",
                          "properties": {"spec": spec}}}})
    }

    fn spec() -> Value {
        json!({"type": "object", "description": "the widget", "properties": {
            "size": {"type": "integer"},
            "ports": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "port": {"type": "integer"}}}},
            "labels": {"type": "object", "additionalProperties": {
                "type": "object", "properties": {"value": {"type": "string"}}}},
        }})
    }

    fn kinds(changes: &[CrdChange]) -> Vec<(CrdChangeKind, &str, Option<&str>)> {
        changes
            .iter()
            .map(|c| (c.kind, c.version.as_str(), c.path.as_deref()))
            .collect()
    }

    #[test]
    fn a_safe_upgrade_has_no_breaking_change() {
        let live = crd(json!([v("v1", true, true, spec())]), Some(json!(["v1"])));
        let mut richer = spec();
        richer["description"] = json!("a widget, described anew");
        richer["properties"]["color"] = json!({"type": "string"});
        richer["properties"]["size"]["description"] = json!("how big");
        let desired = crd(
            json!([
                v("v1", true, false, richer.clone()),
                v("v2", true, true, richer)
            ]),
            None,
        );
        assert_eq!(breaking_changes(&live, &desired), []);
        assert_eq!(breaking_changes(&live, &live), []);
    }

    #[test]
    fn a_served_version_removed_or_unserved_is_breaking() {
        let live = crd(
            json!([
                v("v1beta1", true, false, spec()),
                v("v1alpha1", true, false, spec()),
                v("v1", true, true, spec())
            ]),
            Some(json!(["v1"])),
        );
        let desired = crd(
            json!([
                v("v1alpha1", false, false, spec()),
                v("v1", true, true, spec())
            ]),
            None,
        );
        let changes = breaking_changes(&live, &desired);
        assert_eq!(
            kinds(&changes),
            [
                (CrdChangeKind::ServedVersionRemoved, "v1beta1", None),
                (CrdChangeKind::VersionNoLongerServed, "v1alpha1", None),
            ]
        );
        assert_eq!(
            changes[0].to_string(),
            "version v1beta1 is served and would be removed: its clients would get 404s"
        );
        // An unserved version may go.
        let live = crd(
            json!([
                v("v1alpha1", false, false, spec()),
                v("v1", true, true, spec())
            ]),
            Some(json!(["v1"])),
        );
        let desired = crd(json!([v("v1", true, true, spec())]), None);
        assert_eq!(breaking_changes(&live, &desired), []);
    }

    #[test]
    fn a_stored_version_removed_is_breaking_even_when_not_served() {
        let live = crd(
            json!([
                v("v1alpha1", false, false, spec()),
                v("v1", true, true, spec())
            ]),
            Some(json!(["v1alpha1", "v1"])),
        );
        let desired = crd(json!([v("v1", true, true, spec())]), None);
        let changes = breaking_changes(&live, &desired);
        assert_eq!(
            kinds(&changes),
            [(CrdChangeKind::StoredVersionRemoved, "v1alpha1", None)]
        );
        assert!(changes[0].to_string().contains("status.storedVersions"));
        // Without a status, the live storage version is the stored one.
        let live = crd(json!([v("v1", true, true, spec())]), None);
        let desired = crd(json!([v("v2", true, true, spec())]), None);
        assert_eq!(
            kinds(&breaking_changes(&live, &desired)),
            [
                (CrdChangeKind::ServedVersionRemoved, "v1", None),
                (CrdChangeKind::StoredVersionRemoved, "v1", None),
            ]
        );
    }

    #[test]
    fn fields_removed_from_a_stored_version_are_breaking() {
        let live = crd(
            json!([
                v("v1beta1", true, false, spec()),
                v("v1", true, true, spec())
            ]),
            Some(json!(["v1"])),
        );
        let mut poorer = spec();
        let props = poorer["properties"].as_object_mut().unwrap();
        props.shift_remove("size");
        props["ports"]["items"]["properties"]
            .as_object_mut()
            .unwrap()
            .shift_remove("port");
        props["labels"]["additionalProperties"]["properties"]
            .as_object_mut()
            .unwrap()
            .shift_remove("value");
        // v1beta1 is not stored: its fields may change freely.
        let desired = crd(
            json!([
                v("v1beta1", true, false, json!({"type": "object"})),
                v("v1", true, true, poorer)
            ]),
            None,
        );
        let changes = breaking_changes(&live, &desired);
        assert_eq!(
            kinds(&changes),
            [
                (CrdChangeKind::FieldRemoved, "v1", Some(".spec.size")),
                (
                    CrdChangeKind::FieldRemoved,
                    "v1",
                    Some(".spec.ports[*].port")
                ),
                (
                    CrdChangeKind::FieldRemoved,
                    "v1",
                    Some(".spec.labels.*.value")
                ),
            ]
        );
        assert_eq!(
            changes[0].to_string(),
            "field .spec.size of stored version v1 would be removed from the schema: its values would be pruned from stored objects"
        );
        // A whole subtree gone reports each of its fields.
        let desired = crd(
            json!([v("v1", true, true, json!({"type": "object"}))]),
            None,
        );
        let live_v1 = crd(json!([v("v1", true, true, spec())]), Some(json!(["v1"])));
        let paths: Vec<String> = breaking_changes(&live_v1, &desired)
            .into_iter()
            .filter_map(|c| c.path)
            .collect();
        assert_eq!(paths, [".spec.size", ".spec.ports", ".spec.labels"]);
    }

    #[test]
    fn preserved_unknown_fields_are_not_removed() {
        let live = crd(json!([v("v1", true, true, spec())]), Some(json!(["v1"])));
        let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        let desired = crd(json!([v("v1", true, true, open)]), None);
        assert_eq!(breaking_changes(&live, &desired), []);
        let mut partly = spec();
        partly["properties"]["ports"]["items"] =
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        partly["properties"]
            .as_object_mut()
            .unwrap()
            .shift_remove("size");
        let desired = crd(json!([v("v1", true, true, partly)]), None);
        assert_eq!(
            kinds(&breaking_changes(&live, &desired)),
            [(CrdChangeKind::FieldRemoved, "v1", Some(".spec.size"))]
        );
    }

    #[test]
    fn crds_are_recognised_by_group_and_kind() {
        let id = |group: &str, kind: &str| ObjectId {
            group: group.into(),
            kind: kind.into(),
            namespace: String::new(),
            name: "widgets.example.com".into(),
        };
        assert!(is_crd(&id(
            "apiextensions.k8s.io",
            "CustomResourceDefinition"
        )));
        assert!(!is_crd(&id("example.com", "CustomResourceDefinition")));
        assert!(!is_crd(&id("apiextensions.k8s.io", "Widget")));
    }
}
