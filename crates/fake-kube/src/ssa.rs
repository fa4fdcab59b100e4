//! Field ownership (`managedFields`): Update operations take the fields they change;
//! server-side apply detects conflicts, honours `force`, and removes fields a manager stopped
//! applying when nobody else owns them. Arrays are atomic leaves.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::json::{get_path, leaves, overlaps, remove_path, set_path};
use crate::validation::ApiError;

/// A path to a field: the keys from the root. Arrays are leaves (atomic).
pub(crate) type FieldPath = Vec<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Apply,
    Update,
}

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sub {
    /// Everything but `status`.
    Main,
    /// Only `status`.
    Status,
}

impl Sub {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Sub::Main => "",
            Sub::Status => "status",
        }
    }
}

/// One `managedFields` entry: the leaves a manager owns through one operation.
#[derive(Debug, Clone)]
pub(crate) struct ManagerEntry {
    pub(crate) manager: String,
    pub(crate) operation: Operation,
    pub(crate) subresource: &'static str,
    pub(crate) api_version: String,
    pub(crate) time: String,
    pub(crate) fields: BTreeSet<FieldPath>,
}

impl ManagerEntry {
    pub(crate) fn is(&self, manager: &str, operation: Operation, sub: Sub) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == sub.name()
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), self.manager.clone().into());
        m.insert(
            "operation".into(),
            match self.operation {
                Operation::Apply => "Apply",
                Operation::Update => "Update",
            }
            .into(),
        );
        m.insert("apiVersion".into(), self.api_version.clone().into());
        m.insert("time".into(), self.time.clone().into());
        m.insert("fieldsType".into(), "FieldsV1".into());
        m.insert("fieldsV1".into(), fields_v1(&self.fields));
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), self.subresource.into());
        }
        Value::Object(m)
    }

    /// How conflict messages name the manager (as the real server prints it).
    pub(crate) fn describe(&self) -> String {
        let mut s = format!("\"{}\"", self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource \"{}\"", self.subresource));
        }
        if self.operation == Operation::Update {
            s.push_str(&format!(" using {} at {}", self.api_version, self.time));
        }
        s
    }
}

/// Equal ownership, ignoring the times.
pub(crate) fn same_managers(a: &[ManagerEntry], b: &[ManagerEntry]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.manager == y.manager
                && x.operation == y.operation
                && x.subresource == y.subresource
                && x.api_version == y.api_version
                && x.fields == y.fields
        })
}

pub(crate) fn fields_v1(paths: &BTreeSet<FieldPath>) -> Value {
    fn insert(m: &mut Map<String, Value>, path: &[String]) {
        if let Some((first, rest)) = path.split_first() {
            let child = m
                .entry(format!("f:{first}"))
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(c) = child {
                insert(c, rest);
            }
        }
    }
    let mut root = Map::new();
    for p in paths {
        insert(&mut root, p);
    }
    Value::Object(root)
}

pub(crate) fn display_path(p: &[String]) -> String {
    p.iter().map(|k| format!(".{k}")).collect()
}

/// The fields a write to `sub` manages: for the main resource everything but
/// apiVersion/kind/status and the metadata bookkeeping (labels, annotations, ownerReferences and
/// finalizers stay); for `status`, only `status`.
pub(crate) fn managed_view(obj: &Value, sub: Sub) -> Value {
    let mut view = Map::new();
    match sub {
        Sub::Status => {
            if let Some(s) = obj.get("status") {
                view.insert("status".into(), s.clone());
            }
        }
        Sub::Main => {
            if let Value::Object(m) = obj {
                for (k, v) in m {
                    if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status") {
                        view.insert(k.clone(), v.clone());
                    }
                }
            }
            let mut meta = Map::new();
            for k in ["labels", "annotations", "ownerReferences", "finalizers"] {
                if let Some(v) = obj.get("metadata").and_then(|m| m.get(k)) {
                    meta.insert(k.into(), v.clone());
                }
            }
            if !meta.is_empty() {
                view.insert("metadata".into(), Value::Object(meta));
            }
        }
    }
    Value::Object(view)
}

/// Ownership after an Update (create, PUT, merge/JSON patch, controllers): the updater takes
/// every leaf whose value changed; changed and removed leaves leave every other manager.
pub(crate) fn update_managers(
    mut managers: Vec<ManagerEntry>,
    old_view: &Value,
    new_view: &Value,
    who: &str,
    sub: Sub,
    api_version: &str,
    now: &str,
) -> Vec<ManagerEntry> {
    let old = leaves(old_view);
    let new = leaves(new_view);
    let changed: Vec<FieldPath> = new
        .iter()
        .filter(|(p, v)| old.get(*p) != Some(*v))
        .map(|(p, _)| p.clone())
        .collect();
    let removed: Vec<FieldPath> = old
        .keys()
        .filter(|p| !new.contains_key(*p))
        .cloned()
        .collect();
    if changed.is_empty() && removed.is_empty() {
        return managers;
    }
    for e in &mut managers {
        e.fields.retain(|f| {
            !changed.iter().any(|c| overlaps(f, c)) && !removed.iter().any(|r| overlaps(f, r))
        });
    }
    if !changed.is_empty() {
        match managers
            .iter()
            .position(|e| e.is(who, Operation::Update, sub))
        {
            Some(i) => {
                let e = &mut managers[i];
                e.fields.extend(changed);
                e.time = now.to_string();
                e.api_version = api_version.to_string();
            }
            None => managers.push(ManagerEntry {
                manager: who.to_string(),
                operation: Operation::Update,
                subresource: sub.name(),
                api_version: api_version.to_string(),
                time: now.to_string(),
                fields: changed.into_iter().collect(),
            }),
        }
    }
    managers.retain(|e| !e.fields.is_empty());
    managers
}

/// The ownership an Update request sets by writing `metadata.managedFields` (every write but
/// apply may: the Kubernetes way to drop a manager, and what client-go's `csaupgrade` sends),
/// or `None` when the request leaves it as stored (absent, an empty list, or unchanged). A
/// list holding one empty entry (`[{}]`) resets ownership; entries without a manager or a
/// known operation are dropped. `fieldsV1` is read in this server's simplified form.
pub(crate) fn requested_managers(
    incoming: &Value,
    stored: Option<&Value>,
) -> Option<Vec<ManagerEntry>> {
    let list = incoming.pointer("/metadata/managedFields")?.as_array()?;
    if list.is_empty()
        || stored.and_then(|s| s.pointer("/metadata/managedFields"))
            == incoming.pointer("/metadata/managedFields")
    {
        return None;
    }
    fn walk(node: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
        let children: Vec<(&String, &Value)> = node
            .as_object()
            .map(|m| m.iter().filter(|(k, _)| k.starts_with("f:")).collect())
            .unwrap_or_default();
        if children.is_empty() {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            return;
        }
        for (k, c) in children {
            path.push(k[2..].to_string());
            walk(c, path, out);
            path.pop();
        }
    }
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Some(
        list.iter()
            .filter_map(|e| {
                let operation = match e.get("operation").and_then(Value::as_str) {
                    Some("Apply") => Operation::Apply,
                    Some("Update") => Operation::Update,
                    _ => return None,
                };
                let manager = text(e, "manager");
                if manager.is_empty() {
                    return None;
                }
                let mut fields = BTreeSet::new();
                walk(
                    e.get("fieldsV1").unwrap_or(&Value::Null),
                    &mut Vec::new(),
                    &mut fields,
                );
                Some(ManagerEntry {
                    manager,
                    operation,
                    subresource: if text(e, "subresource") == "status" {
                        "status"
                    } else {
                        ""
                    },
                    api_version: text(e, "apiVersion"),
                    time: text(e, "time"),
                    fields,
                })
            })
            .collect(),
    )
}

/// A field another manager owns with a different value.
pub(crate) struct Conflict {
    pub(crate) manager: String,
    pub(crate) path: FieldPath,
}

/// Server-side apply of `config` (a managed view) by `who` onto `live`: conflicts, forced
/// ownership transfer, removal of fields `who` stopped applying, then the merge.
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the request: every part is needed"
)]
pub(crate) fn ssa_apply(
    live: &Value,
    mut managers: Vec<ManagerEntry>,
    config: &Value,
    who: &str,
    sub: Sub,
    force: bool,
    api_version: &str,
    now: &str,
) -> Result<(Value, Vec<ManagerEntry>), Vec<Conflict>> {
    let applied = leaves(config);
    // Two objects at the shorter path are not a conflict: ownership below is granular.
    let differs = |path: &[String]| match (get_path(live, path), get_path(config, path)) {
        (Some(l), Some(c)) => !(l.is_object() && c.is_object()) && l != c,
        _ => false,
    };
    let mut conflicts: Vec<(usize, FieldPath)> = Vec::new();
    for (i, e) in managers.iter().enumerate() {
        if e.is(who, Operation::Apply, sub) {
            continue;
        }
        for owned in &e.fields {
            let clash = applied.keys().any(|p| {
                overlaps(p, owned) && differs(if p.len() <= owned.len() { p } else { owned })
            });
            if clash {
                conflicts.push((i, owned.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts
            .into_iter()
            .map(|(i, path)| Conflict {
                manager: managers[i].describe(),
                path,
            })
            .collect());
    }
    for (i, path) in &conflicts {
        managers[*i].fields.remove(path);
    }
    let mine = managers
        .iter()
        .position(|e| e.is(who, Operation::Apply, sub));
    let previous = mine.map(|i| managers[i].fields.clone()).unwrap_or_default();
    let mut out = live.clone();
    for gone in &previous {
        let still_applied = applied.keys().any(|p| overlaps(p, gone));
        let owned_elsewhere = managers.iter().any(|e| {
            !e.is(who, Operation::Apply, sub) && e.fields.iter().any(|f| overlaps(f, gone))
        });
        if !still_applied && !owned_elsewhere {
            remove_path(&mut out, gone);
        }
    }
    for (p, v) in &applied {
        let keep_map = v.as_object().is_some_and(Map::is_empty)
            && get_path(&out, p).is_some_and(Value::is_object);
        if !keep_map {
            set_path(&mut out, p, v.clone());
        }
    }
    let fields: BTreeSet<FieldPath> = applied.into_keys().collect();
    match mine {
        Some(i) => {
            let e = &mut managers[i];
            e.fields = fields;
            e.time = now.to_string();
            e.api_version = api_version.to_string();
        }
        None => managers.push(ManagerEntry {
            manager: who.to_string(),
            operation: Operation::Apply,
            subresource: sub.name(),
            api_version: api_version.to_string(),
            time: now.to_string(),
            fields,
        }),
    }
    managers.retain(|e| !e.fields.is_empty());
    Ok((out, managers))
}

/// The 409 of a refused apply, worded as the real server words it.
pub(crate) fn apply_conflict_error(conflicts: Vec<Conflict>) -> ApiError {
    let message = if conflicts.len() == 1 {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            conflicts[0].manager,
            display_path(&conflicts[0].path)
        )
    } else {
        let mut by_manager: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for c in &conflicts {
            by_manager
                .entry(c.manager.as_str())
                .or_default()
                .push(display_path(&c.path));
        }
        let mut lines = Vec::new();
        for (m, paths) in by_manager {
            lines.push(format!("conflicts with {m}:"));
            for p in paths {
                lines.push(format!("- {p}"));
            }
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager),
                "field": display_path(&c.path),
            })
        })
        .collect();
    ApiError::new(409, "Conflict", message).with_details(json!({"causes": causes}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_fields_written_by_an_update_replace_ownership() {
        let entry = ManagerEntry {
            manager: "helm".into(),
            operation: Operation::Update,
            subresource: "",
            api_version: "apps/v1".into(),
            time: "t".into(),
            fields: [vec!["spec".to_string(), "replicas".to_string()]]
                .into_iter()
                .collect(),
        };
        let stored = json!({"metadata": {"managedFields": [entry.to_json()]}});
        assert!(requested_managers(&stored, Some(&stored)).is_none());
        assert!(
            requested_managers(&json!({"metadata": {"managedFields": []}}), Some(&stored))
                .is_none()
        );
        let parsed = requested_managers(&stored, None).expect("parsed");
        assert!(same_managers(&parsed, std::slice::from_ref(&entry)));
        let reset =
            requested_managers(&json!({"metadata": {"managedFields": [{}]}}), Some(&stored));
        assert!(reset.expect("reset").is_empty());
    }

    #[test]
    fn fields_v1_nests_the_paths() {
        assert_eq!(
            fields_v1(
                &[vec!["spec".to_string(), "replicas".to_string()]]
                    .into_iter()
                    .collect()
            ),
            json!({"f:spec": {"f:replicas": {}}})
        );
    }
}
