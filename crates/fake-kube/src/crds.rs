//! CustomResourceDefinitions (`apiextensions.k8s.io/v1`), as the apiextensions server handles
//! them: the defaults and validation of the registry (names, scope, versions, exactly one
//! storage version, `metadata.name` = `PLURAL.GROUP`, stored versions that must stay in
//! `spec.versions`), `status.storedVersions` accumulating every storage version, the status
//! the naming and establishing controllers report, and the custom resources an Established
//! CRD serves (discovery, routing and storage then treat them like built-in resources).
//!
//! Not simulated: schema validation, pruning and defaulting of custom resources, conversion
//! webhooks (versions differ only in `apiVersion`), name conflicts between CRDs.

use serde_json::{Map, Value, json};

use crate::controllers::{CondStyle, Readiness, condition};
use crate::json::{obj_mut, str_at};
use crate::resources::{CustomNames, ResourceDef, intern_custom};
use crate::store::{Key, Store};
use crate::validation::{FieldError, LABEL_1035_MSG, immutable, is_dns1123_subdomain};

pub(crate) const GROUP: &str = "apiextensions.k8s.io";
const PLURAL: &str = "customresourcedefinitions";

pub(crate) fn is_crd(res: &ResourceDef) -> bool {
    res.is(GROUP, "CustomResourceDefinition")
}

fn versions(obj: &Value) -> &[Value] {
    obj.pointer("/spec/versions")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn storage_version(obj: &Value) -> Option<&str> {
    versions(obj)
        .iter()
        .find(|v| v.get("storage") == Some(&Value::Bool(true)))
        .and_then(|v| str_at(v, "/name"))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// The registry's defaults, applied on decode: `names.singular` (the lowercased kind),
/// `names.listKind` (`KIND` + `List`) and `conversion.strategy: None`.
pub(crate) fn apply_defaults(obj: &mut Value) {
    let Some(Value::Object(spec)) = obj.get_mut("spec") else {
        return;
    };
    if let Some(Value::Object(names)) = spec.get_mut("names")
        && let Some(kind) = names
            .get("kind")
            .and_then(Value::as_str)
            .map(str::to_string)
        && !kind.is_empty()
    {
        let empty = |v: Option<&Value>| v.and_then(Value::as_str).is_none_or(str::is_empty);
        if empty(names.get("singular")) {
            names.insert("singular".into(), kind.to_lowercase().into());
        }
        if empty(names.get("listKind")) {
            names.insert("listKind".into(), format!("{kind}List").into());
        }
    }
    spec.entry("conversion")
        .or_insert_with(|| json!({"strategy": "None"}));
}

/// The stored versions after a write: the old ones, then the new storage version.
pub(crate) fn stored_versions(old: Option<&Value>, new: &Value) -> Vec<String> {
    let mut out = strings(old.and_then(|o| o.pointer("/status/storedVersions")));
    if let Some(v) = storage_version(new)
        && !out.iter().any(|s| s == v)
    {
        out.push(v.to_string());
    }
    out
}

pub(crate) fn is_established(obj: &Value) -> bool {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        })
}

/// The registry's validation of a CRD write (`ValidateCustomResourceDefinition` and its update
/// variant in k8s.io/apiextensions-apiserver), for the checks a package manager can meet.
pub(crate) fn validate(name: &str, old: Option<&Value>, new: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let text = |p: &str| str_at(new, p).unwrap_or("");
    let group = text("/spec/group");
    let plural = text("/spec/names/plural");
    if name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid(
            "metadata.name",
            &Value::from(name),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if group.is_empty() {
        errs.push(FieldError::required("spec.group", ""));
    } else if !is_dns1123_subdomain(group) {
        errs.push(FieldError::invalid(
            "spec.group",
            &Value::from(group),
            crate::validation::SUBDOMAIN_MSG,
        ));
    } else if !group.contains('.') {
        errs.push(FieldError::invalid(
            "spec.group",
            &Value::from(group),
            "should be a domain with at least one dot",
        ));
    }
    match text("/spec/scope") {
        "" => errs.push(FieldError::required("spec.scope", "")),
        "Cluster" | "Namespaced" => {}
        other => errs.push(FieldError::unsupported(
            "spec.scope",
            &Value::from(other),
            &["Cluster", "Namespaced"],
        )),
    }
    let list = versions(new);
    let mut seen: Vec<&str> = Vec::new();
    let mut unique = true;
    for (i, v) in list.iter().enumerate() {
        let vname = str_at(v, "/name").unwrap_or("");
        if seen.contains(&vname) {
            unique = false;
        }
        seen.push(vname);
        let label = crate::validation::is_1123_label_chars(vname)
            && vname.len() <= 63
            && vname.as_bytes()[0].is_ascii_lowercase();
        if !label {
            errs.push(FieldError::invalid(
                format!("spec.versions[{i}].name"),
                &Value::from(vname),
                LABEL_1035_MSG,
            ));
        }
        match v.pointer("/schema/openAPIV3Schema") {
            Some(schema) if schema.is_object() => {
                if str_at(schema, "/type").is_none_or(str::is_empty) {
                    errs.push(FieldError::required(
                        format!("spec.versions[{i}].schema.openAPIV3Schema.type"),
                        "must not be empty at the root",
                    ));
                }
            }
            _ => errs.push(FieldError::required(
                format!("spec.versions[{i}].schema.openAPIV3Schema"),
                "schemas are required",
            )),
        }
    }
    let versions_value = new
        .pointer("/spec/versions")
        .cloned()
        .unwrap_or(Value::Null);
    if !unique {
        errs.push(FieldError::invalid(
            "spec.versions",
            &versions_value,
            "must contain unique version names",
        ));
    }
    let storage = list
        .iter()
        .filter(|v| v.get("storage") == Some(&Value::Bool(true)))
        .count();
    if storage != 1 {
        errs.push(FieldError::invalid(
            "spec.versions",
            &versions_value,
            "must have exactly one version marked as storage version",
        ));
    }
    for (field, value) in [
        ("plural", plural),
        ("singular", text("/spec/names/singular")),
        ("kind", text("/spec/names/kind")),
        ("listKind", text("/spec/names/listKind")),
    ] {
        if value.is_empty() {
            errs.push(FieldError::required(format!("spec.names.{field}"), ""));
        }
    }
    let stored = stored_versions(old, new);
    if stored.is_empty() {
        errs.push(FieldError::invalid(
            "status.storedVersions",
            &json!([]),
            "must have at least one stored version",
        ));
    }
    for (i, v) in stored.iter().enumerate() {
        if !seen.contains(&v.as_str()) {
            errs.push(FieldError::invalid(
                format!("status.storedVersions[{i}]"),
                &Value::from(v.as_str()),
                "must appear in spec.versions",
            ));
        }
    }
    if let Some(old) = old {
        if is_established(old) {
            immutable(
                "spec.scope",
                new.pointer("/spec/scope"),
                old.pointer("/spec/scope"),
                &mut errs,
            );
            immutable(
                "spec.names.kind",
                new.pointer("/spec/names/kind"),
                old.pointer("/spec/names/kind"),
                &mut errs,
            );
        }
        immutable(
            "spec.group",
            new.pointer("/spec/group"),
            old.pointer("/spec/group"),
            &mut errs,
        );
        immutable(
            "spec.names.plural",
            new.pointer("/spec/names/plural"),
            old.pointer("/spec/names/plural"),
            &mut errs,
        );
    }
    errs
}

/// What the registry writes into the status of a CRD on every write of the main resource:
/// `storedVersions` gains the storage version (a new CRD starts with empty accepted names).
pub(crate) fn finish_write(old: Option<&Value>, obj: &mut Value) {
    let stored = stored_versions(old, obj);
    let m = obj_mut(obj);
    let status = obj_mut(
        m.entry("status")
            .or_insert_with(|| json!({"acceptedNames": {"plural": "", "kind": ""}})),
    );
    status.insert("storedVersions".into(), json!(stored));
}

/// The status the naming and establishing controllers report: the names accepted as asked
/// (no conflicts are looked for), `NamesAccepted`, and `Established` (`False`/`Installing`
/// with [`Readiness::Never`]).
pub(crate) fn status(obj: &Value, readiness: Readiness, now: &str) -> Value {
    let old = obj.get("status");
    let mut names = Map::new();
    let spec_names = obj.pointer("/spec/names");
    for k in [
        "plural",
        "singular",
        "shortNames",
        "kind",
        "listKind",
        "categories",
    ] {
        if let Some(v) = spec_names.and_then(|n| n.get(k)) {
            names.insert(k.into(), v.clone());
        }
    }
    let accepted = condition(
        old,
        "NamesAccepted",
        "True",
        "NoConflicts",
        "no conflicts found",
        CondStyle::Transition,
        now,
    );
    let established = if readiness == Readiness::Immediate || is_established(obj) {
        condition(
            old,
            "Established",
            "True",
            "InitialNamesAccepted",
            "the initial names have been accepted",
            CondStyle::Transition,
            now,
        )
    } else {
        condition(
            old,
            "Established",
            "False",
            "Installing",
            "the initial names have been accepted",
            CondStyle::Transition,
            now,
        )
    };
    json!({
        "acceptedNames": names,
        "conditions": [accepted, established],
        "storedVersions": old
            .and_then(|s| s.get("storedVersions"))
            .cloned()
            .unwrap_or_else(|| json!([])),
    })
}

/// The served versions of an Established CRD, by the names it was accepted under.
pub(crate) fn served(obj: &Value) -> Vec<CustomNames> {
    if !is_established(obj) {
        return Vec::new();
    }
    let names = obj
        .pointer("/status/acceptedNames")
        .filter(|n| str_at(n, "/plural").is_some_and(|p| !p.is_empty()))
        .or_else(|| obj.pointer("/spec/names"));
    let name = |k: &str| {
        names
            .and_then(|n| str_at(n, &format!("/{k}")))
            .unwrap_or("")
    };
    let group = str_at(obj, "/spec/group").unwrap_or("");
    if group.is_empty() || name("plural").is_empty() || name("kind").is_empty() {
        return Vec::new();
    }
    versions(obj)
        .iter()
        .filter(|v| v.get("served") == Some(&Value::Bool(true)))
        .filter_map(|v| {
            Some(CustomNames {
                group: group.to_string(),
                version: str_at(v, "/name")?.to_string(),
                plural: name("plural").to_string(),
                singular: name("singular").to_string(),
                kind: name("kind").to_string(),
                namespaced: str_at(obj, "/spec/scope") == Some("Namespaced"),
                status: v
                    .pointer("/subresources/status")
                    .is_some_and(Value::is_object),
                short_names: strings(names.and_then(|n| n.get("shortNames"))),
                categories: strings(names.and_then(|n| n.get("categories"))),
            })
        })
        .collect()
}

impl Store {
    /// Rebuilds the table of served custom resources from the stored CRDs.
    pub(crate) fn refresh_custom(&mut self) {
        let mut custom: Vec<&'static ResourceDef> = Vec::new();
        for (k, s) in &self.objects {
            if k.0 == GROUP && k.1 == PLURAL {
                custom.extend(served(&s.obj).iter().map(intern_custom));
            }
        }
        self.custom = custom;
    }

    /// A deleted CRD takes its custom resources with it (the real server's
    /// `customresourcecleanup` finalizer, done at once).
    pub(crate) fn remove_custom_resources(&mut self, crd: &Value) {
        let group = str_at(crd, "/spec/group").unwrap_or("").to_string();
        let plural = str_at(crd, "/spec/names/plural").unwrap_or("").to_string();
        if !group.is_empty() && !plural.is_empty() {
            let doomed: Vec<Key> = self
                .objects
                .keys()
                .filter(|k| k.0 == group && k.1 == plural)
                .cloned()
                .collect();
            for k in doomed {
                self.remove_object(&k, "Background");
            }
        }
        self.refresh_custom();
    }
}

pub(crate) fn is_crd_key(k: &Key) -> bool {
    k.0 == GROUP && k.1 == PLURAL
}
