//! The pods of a release's workloads, for `logs`, `exec`, `shell` and `port-forward`: the
//! workloads of the current revision (named as `status` shows them: `web`, `Deployment/web`),
//! their live pods (through the workload's label selector; a CronJob's through its Jobs), the
//! containers of a pod and which pods are ready. IO through the target only.

use serde_json::Value;

use super::OpError;
use super::commit::{find_workload, manifest_objects};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::release::Status;
use crate::targets::Target;

/// The kinds whose pods these commands reach.
pub const WORKLOAD_KINDS: [&str; 7] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
];

/// The annotation `kubectl` reads for a pod's default container.
pub const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// The objects of a release's current revision (uninstalled releases refused).
pub(crate) fn release_objects(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
) -> Result<Vec<(ObjectId, Value)>, OpError> {
    let record = super::get::revision(target, service_map, release, None)?;
    if record.status == Status::Uninstalled {
        return Err(OpError::Invalid(format!(
            "release `{release}` was uninstalled (see `cocktail-pkg history {release} -n {service_map}`)"
        )));
    }
    manifest_objects(&record)
}

/// The workloads among a release's objects.
pub(crate) fn workloads(objects: &[(ObjectId, Value)]) -> Vec<(ObjectId, Value)> {
    objects
        .iter()
        .filter(|(id, _)| WORKLOAD_KINDS.contains(&id.kind.as_str()))
        .cloned()
        .collect()
}

/// `WORKLOAD[/CONTAINER]`, where WORKLOAD is `NAME` or `KIND/NAME`: the workload and the
/// container named. `a/b` is KIND/NAME when `a` is a workload kind naming one, else
/// NAME/CONTAINER.
pub(crate) fn pick_workload(
    objects: &[(ObjectId, Value)],
    spec: &str,
) -> Result<((ObjectId, Value), Option<String>), OpError> {
    let mut objects = workloads(objects);
    let parts: Vec<&str> = spec.split('/').collect();
    let is_kind = |k: &str| WORKLOAD_KINDS.iter().any(|w| w.eq_ignore_ascii_case(k));
    match parts.as_slice() {
        [_] => Ok((
            find_workload(&mut objects, spec, &WORKLOAD_KINDS)?.clone(),
            None,
        )),
        [kind, name, container] if !container.is_empty() => Ok((
            find_workload(&mut objects, &format!("{kind}/{name}"), &WORKLOAD_KINDS)?.clone(),
            Some((*container).to_string()),
        )),
        [first, second] if is_kind(first) => {
            match find_workload(&mut objects, spec, &WORKLOAD_KINDS) {
                Ok(found) => Ok((found.clone(), None)),
                Err(e) => match find_workload(&mut objects, first, &WORKLOAD_KINDS) {
                    Ok(found) => Ok((found.clone(), Some((*second).to_string()))),
                    Err(_) => Err(e),
                },
            }
        }
        [name, container] if !container.is_empty() => Ok((
            find_workload(&mut objects, name, &WORKLOAD_KINDS)?.clone(),
            Some((*container).to_string()),
        )),
        _ => Err(OpError::Invalid(format!(
            "`{spec}` is not WORKLOAD, KIND/WORKLOAD or WORKLOAD/CONTAINER"
        ))),
    }
}

/// A label selector (`matchLabels`, `matchExpressions`) as the API's query syntax; `None` for
/// an empty selector (it would select every pod).
pub(crate) fn selector_query(selector: &Value) -> Option<String> {
    let mut terms: Vec<String> = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            terms.push(format!("{k}={}", v.as_str().unwrap_or_default()));
        }
    }
    for e in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        match e.get("operator").and_then(Value::as_str) {
            Some("In") => terms.push(format!("{key} in ({})", values.join(","))),
            Some("NotIn") => terms.push(format!("{key} notin ({})", values.join(","))),
            Some("Exists") => terms.push(key.to_string()),
            Some("DoesNotExist") => terms.push(format!("!{key}")),
            _ => {}
        }
    }
    (!terms.is_empty()).then(|| terms.join(","))
}

/// The live pods of a workload, sorted by name. The live object's selector is used (a Job's
/// carries its controller's uid), else the manifest's.
pub(crate) fn pods_of(
    target: &dyn Target,
    id: &ObjectId,
    manifest: &Value,
) -> Result<Vec<Value>, OpError> {
    let ns = id.namespace.as_str();
    let mut pods = match id.kind.as_str() {
        "Pod" => target.get(id)?.into_iter().collect(),
        "CronJob" => {
            let mut pods = Vec::new();
            for job in target.list("batch/v1", "Job", Some(ns), None)? {
                let owned = job
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter().any(|r| {
                            r.get("kind").and_then(Value::as_str) == Some("CronJob")
                                && r.get("name").and_then(Value::as_str) == Some(&id.name)
                        })
                    });
                let name = job.pointer("/metadata/name").and_then(Value::as_str);
                if let (true, Some(name)) = (owned, name) {
                    pods.extend(target.list(
                        "v1",
                        "Pod",
                        Some(ns),
                        Some(&format!("job-name={name}")),
                    )?);
                }
            }
            pods
        }
        _ => {
            let live = target.get(id)?;
            let object = live.as_ref().unwrap_or(manifest);
            let selector = object
                .pointer("/spec/selector")
                .and_then(selector_query)
                .or_else(|| (id.kind == "Job").then(|| format!("job-name={}", id.name)))
                .ok_or_else(|| {
                    OpError::Invalid(format!(
                        "{}/{} has no pod selector to find its pods by",
                        id.kind, id.name
                    ))
                })?;
            target.list("v1", "Pod", Some(ns), Some(&selector))?
        }
    };
    pods.sort_by(|a, b| name(a).cmp(name(b)));
    Ok(pods)
}

/// A pod's name.
pub(crate) fn name(pod: &Value) -> &str {
    pod.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A pod's containers (`spec.containers`), in order; with `init`, its init containers first.
pub(crate) fn containers(pod: &Value, init: bool) -> Vec<String> {
    let names = |field: &str| -> Vec<String> {
        pod.pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    let mut out = if init {
        names("initContainers")
    } else {
        Vec::new()
    };
    out.extend(names("containers"));
    out
}

/// The container commands run in when none is named: the `kubectl.kubernetes.io/default-container`
/// annotation's, else the first.
pub(crate) fn default_container(pod: &Value) -> Option<String> {
    let all = containers(pod, false);
    pod.pointer("/metadata/annotations")
        .and_then(|a| a.get(DEFAULT_CONTAINER))
        .and_then(Value::as_str)
        .filter(|c| all.iter().any(|n| n == c))
        .map(str::to_string)
        .or_else(|| all.first().cloned())
}

/// Checks that a pod has the container named.
pub(crate) fn check_container(pod: &Value, container: &str) -> Result<(), OpError> {
    let all = containers(pod, true);
    if all.iter().any(|c| c == container) {
        Ok(())
    } else {
        Err(OpError::Invalid(format!(
            "pod {} has no container `{container}` (containers: {})",
            name(pod),
            all.join(", ")
        )))
    }
}

/// Whether a pod is ready (condition `Ready` true) and not being deleted.
pub(crate) fn is_ready(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_none()
        && pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.get("type").and_then(Value::as_str) == Some("Ready")
                        && c.get("status").and_then(Value::as_str) == Some("True")
                })
            })
}

/// The pod commands run in: `wanted` when named (one of the workload's pods), else the first
/// ready one.
pub(crate) fn ready_pod(
    pods: &[Value],
    workload: &ObjectId,
    wanted: Option<&str>,
) -> Result<Value, OpError> {
    let names = || {
        let names: Vec<&str> = pods.iter().map(name).collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    if let Some(wanted) = wanted {
        return pods
            .iter()
            .find(|p| name(p) == wanted)
            .cloned()
            .ok_or_else(|| {
                OpError::Invalid(format!(
                    "pod `{wanted}` is not a pod of {}/{} (its pods: {})",
                    workload.kind,
                    workload.name,
                    names()
                ))
            });
    }
    pods.iter()
        .find(|p| is_ready(p))
        .cloned()
        .ok_or_else(|| OpError::Refused {
            message: format!(
                "{}/{} has no ready pod (its pods: {})",
                workload.kind,
                workload.name,
                names()
            ),
            hint: Some(format!(
                "see why with `cocktail-pkg status RELEASE`; name a pod that is not ready with --pod, or wait for the workload (`kubectl get pods -n {}` lists them)",
                workload.namespace
            )),
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn objects() -> Vec<(ObjectId, Value)> {
        let id = |kind: &str, name: &str| ObjectId {
            group: if kind == "Service" { "" } else { "apps" }.into(),
            kind: kind.into(),
            namespace: "shop".into(),
            name: name.into(),
        };
        vec![
            (id("Deployment", "web"), json!({})),
            (id("StatefulSet", "db"), json!({})),
            (id("Service", "web"), json!({})),
        ]
    }

    #[test]
    fn workloads_are_named_as_status_shows_them_with_an_optional_container() {
        let objects = objects();
        let pick = |s: &str| {
            let ((id, _), c) = pick_workload(&objects, s).unwrap();
            (format!("{}/{}", id.kind, id.name), c)
        };
        assert_eq!(pick("web"), ("Deployment/web".into(), None));
        assert_eq!(pick("Deployment/web"), ("Deployment/web".into(), None));
        assert_eq!(pick("deployment/web"), ("Deployment/web".into(), None));
        assert_eq!(
            pick("web/nginx"),
            ("Deployment/web".into(), Some("nginx".into()))
        );
        assert_eq!(
            pick("statefulset/db/postgres"),
            ("StatefulSet/db".into(), Some("postgres".into()))
        );
        let err = pick_workload(&objects, "cache").unwrap_err().to_string();
        assert!(err.contains("no workload `cache`"), "{err}");
        assert!(err.contains("Deployment/web, StatefulSet/db"), "{err}");
    }

    #[test]
    fn selectors_become_the_apis_query_syntax() {
        let sel = json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        });
        assert_eq!(
            selector_query(&sel).as_deref(),
            Some("app=web,tier in (a,b),!canary")
        );
        assert_eq!(selector_query(&json!({})), None);
    }

    #[test]
    fn the_default_container_follows_kubectls_annotation() {
        let pod = json!({
            "metadata": {"name": "p", "annotations": {DEFAULT_CONTAINER: "app"}},
            "spec": {"containers": [{"name": "sidecar"}, {"name": "app"}]},
        });
        assert_eq!(default_container(&pod).as_deref(), Some("app"));
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(default_container(&pod).as_deref(), Some("a"));
    }
}
