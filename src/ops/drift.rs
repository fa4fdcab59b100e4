//! Drift of a release's objects on the target: each object of the current revision read back
//! and compared field by field with what the release applied ([`crate::drift`]). A target
//! without live state (a GitOps folder) has no drift to see.

use std::collections::HashSet;

use serde_json::Value;

use super::OpError;
use super::commit::manifest_objects;
use crate::drift::{ObjectDrift, detect};
use crate::release::Record;
use crate::targets::Target;
use crate::targets::kube::FIELD_MANAGER;

/// The drifted objects of `record` (missing ones included), in manifest order.
pub fn of_release(target: &dyn Target, record: &Record) -> Result<Vec<ObjectDrift>, OpError> {
    if !target.observes_live_state() {
        return Ok(Vec::new());
    }
    let objects = manifest_objects(record)?;
    // Workloads an HPA scales: of the release's, and live ones in its namespaces.
    let mut autoscaled: HashSet<(String, String, String)> = HashSet::new();
    let mut add = |ns: &str, hpa: &Value| {
        let s = |p: &str| {
            hpa.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        autoscaled.insert((
            ns.to_string(),
            s("/spec/scaleTargetRef/kind"),
            s("/spec/scaleTargetRef/name"),
        ));
    };
    let mut namespaces: Vec<&str> = objects
        .iter()
        .map(|(id, _)| id.namespace.as_str())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    for (id, o) in &objects {
        if id.kind == "HorizontalPodAutoscaler" {
            add(&id.namespace, o);
        }
    }
    for ns in namespaces.into_iter().filter(|n| !n.is_empty()) {
        // A cluster without autoscaling/v2 has no HPA to ask about.
        for hpa in target
            .list("autoscaling/v2", "HorizontalPodAutoscaler", Some(ns), None)
            .unwrap_or_default()
        {
            add(ns, &hpa);
        }
    }
    let mut out = Vec::new();
    for (id, applied) in &objects {
        match target.get(id)? {
            None => out.push(ObjectDrift {
                id: id.clone(),
                missing: true,
                fields: Vec::new(),
            }),
            Some(live) => {
                let scaled =
                    autoscaled.contains(&(id.namespace.clone(), id.kind.clone(), id.name.clone()));
                let mut fields = detect(applied, &live, FIELD_MANAGER, scaled);
                if id.kind == "Secret" {
                    // Say that a secret value changed, never what it is.
                    for f in &mut fields {
                        f.release = hidden(&f.release);
                        f.live = hidden(&f.live);
                    }
                }
                if !fields.is_empty() {
                    out.push(ObjectDrift {
                        id: id.clone(),
                        missing: false,
                        fields,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// `(hidden, 1a2b3c4d5e6f)`: a short digest of a secret value.
fn hidden(v: &Value) -> Value {
    let digest = crate::model::Digest::of(v.to_string().as_bytes()).hex();
    Value::String(format!("(hidden, {})", digest.get(..12).unwrap_or("")))
}
