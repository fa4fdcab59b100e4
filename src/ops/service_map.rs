//! `service-map create|list|show|delete`: namespaces managed as one application space.
//!
//! A service map is a Namespace labelled `cocktail.io/service-map: "true"`, with display-name
//! and description annotations. `delete` refuses while releases are installed (unless forced)
//! and never deletes a namespace that is not a service map.

use serde::Serialize;
use serde_json::{Value, json};

use super::OpError;
use super::list::{ReleaseRow, list};
use crate::model::{ObjectId, ServiceMapName};
use crate::status::{self, ObjectStatus, Related};
use crate::targets::Target;
use crate::time::UnixTime;

pub const LABEL: &str = "cocktail.io/service-map";
pub const DISPLAY_NAME: &str = "cocktail.io/display-name";
pub const DESCRIPTION: &str = "cocktail.io/description";

/// The Namespace object of a service map.
pub fn namespace_id(name: &ServiceMapName) -> ObjectId {
    ObjectId {
        group: String::new(),
        kind: "Namespace".into(),
        namespace: String::new(),
        name: name.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct CreateOptions {
    pub name: ServiceMapName,
    pub display_name: Option<String>,
    pub description: Option<String>,
}

/// One row of `service-map list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMapRow {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub releases: usize,
    pub created: String,
}

fn annotation(ns: &Value, key: &str) -> String {
    ns.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn is_service_map(ns: &Value) -> bool {
    ns.pointer("/metadata/labels")
        .and_then(|l| l.get(LABEL))
        .and_then(Value::as_str)
        == Some("true")
}

/// What `create` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Created {
    Created,
    /// A plain namespace existed and is now labelled as a service map.
    Adopted,
    /// The service map existed; its display name and description were updated.
    Updated,
}

pub fn create(target: &dyn Target, opts: &CreateOptions) -> Result<Created, OpError> {
    let id = namespace_id(&opts.name);
    let existing = target.get(&id)?;
    let mut annotations = serde_json::Map::new();
    if let Some(d) = &opts.display_name {
        annotations.insert(DISPLAY_NAME.into(), json!(d));
    }
    if let Some(d) = &opts.description {
        annotations.insert(DESCRIPTION.into(), json!(d));
    }
    let outcome = match &existing {
        None => Created::Created,
        Some(ns) if is_service_map(ns) => {
            if annotations.is_empty() {
                return Err(OpError::Invalid(format!(
                    "service map `{}` already exists",
                    opts.name
                )));
            }
            Created::Updated
        }
        Some(_) => Created::Adopted,
    };
    // Keep annotations set earlier that this call does not change.
    if let Some(ns) = &existing {
        for key in [DISPLAY_NAME, DESCRIPTION] {
            let old = annotation(ns, key);
            if !old.is_empty() && !annotations.contains_key(key) {
                annotations.insert(key.into(), json!(old));
            }
        }
    }
    let mut object = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": opts.name.as_str(), "labels": {LABEL: "true"}},
    });
    if !annotations.is_empty() {
        object["metadata"]["annotations"] = Value::Object(annotations);
    }
    target.apply(
        &id,
        &object,
        crate::targets::ApplyMode::Commit {
            force_conflicts: false,
        },
    )?;
    Ok(outcome)
}

pub fn list_maps(target: &dyn Target) -> Result<Vec<ServiceMapRow>, OpError> {
    let namespaces = target.list("v1", "Namespace", None, Some(&format!("{LABEL}=true")))?;
    let releases = list(target, None)?;
    let mut rows: Vec<ServiceMapRow> = namespaces
        .iter()
        .filter_map(|ns| {
            let name = ns.pointer("/metadata/name")?.as_str()?.to_string();
            Some(ServiceMapRow {
                releases: releases.iter().filter(|r| r.service_map == name).count(),
                display_name: annotation(ns, DISPLAY_NAME),
                description: annotation(ns, DESCRIPTION),
                created: ns
                    .pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                name,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// A Service's or Ingress's exposure, for `show`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exposure {
    pub kind: String,
    pub name: String,
    /// ClusterIP, NodePort, LoadBalancer, headless, or Ingress.
    pub r#type: String,
    /// Ports (`80/TCP`, `80:30080/TCP`) or Ingress hosts and paths.
    pub routes: Vec<String>,
    /// Load-balancer or Ingress addresses.
    pub addresses: Vec<String>,
}

/// A PersistentVolumeClaim, for `show`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    pub phase: String,
    pub size: String,
    pub storage_class: String,
    pub access_modes: Vec<String>,
}

/// A ConfigMap or Secret, for `show` (keys only, never values).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigObject {
    pub kind: String,
    pub name: String,
    pub keys: Vec<String>,
}

/// `service-map show`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMapView {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub releases: Vec<ReleaseRow>,
    /// Workloads by workload group (label `cocktail.io/workload-group`).
    pub workload_groups: Vec<(String, Vec<ObjectStatus>)>,
    pub exposure: Vec<Exposure>,
    pub volumes: Vec<Volume>,
    pub config: Vec<ConfigObject>,
    /// False on targets without live state.
    pub observed: bool,
}

fn text(v: &Value, ptr: &str) -> String {
    v.pointer(ptr)
        .map(|x| match x {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

fn lb_addresses(v: &Value) -> Vec<String> {
    v.pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| {
                    i.get("ip")
                        .or_else(|| i.get("hostname"))
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn missing(name: &ServiceMapName) -> OpError {
    OpError::Invalid(format!(
        "service map `{name}` does not exist (see `cocktail-pkg service-map list`)"
    ))
}

pub fn show(
    target: &dyn Target,
    name: &ServiceMapName,
    now: UnixTime,
) -> Result<ServiceMapView, OpError> {
    let ns_obj = target
        .get(&namespace_id(name))?
        .ok_or_else(|| missing(name))?;
    if !is_service_map(&ns_obj) {
        return Err(OpError::Invalid(format!(
            "namespace `{name}` is not a service map (no label {LABEL}=true); turn it into one with `cocktail-pkg service-map create {name}`"
        )));
    }
    let ns = Some(name.as_str());
    let observed = target.observes_live_state();
    let related = Related {
        endpoint_slices: if observed {
            target.list("discovery.k8s.io/v1", "EndpointSlice", ns, None)?
        } else {
            Vec::new()
        },
        jobs: target.list("batch/v1", "Job", ns, None)?,
        ..Related::default()
    };
    let mut workloads = Vec::new();
    for (api, kind) in [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("batch/v1", "CronJob"),
        ("batch/v1", "Job"),
    ] {
        for o in target.list(api, kind, ns, None)? {
            let Some(id) = crate::targets::object_id(&o) else {
                continue;
            };
            // Jobs a CronJob made are shown through the CronJob.
            if kind == "Job"
                && o.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter()
                            .any(|r| r.get("kind").and_then(Value::as_str) == Some("CronJob"))
                    })
            {
                continue;
            }
            workloads.push(if observed {
                status::assess(&id, Some(&o), &related, now)
            } else {
                status::unobserved(&id, &o)
            });
        }
    }
    let workload_groups = status::group_by_workload_group(&workloads)
        .into_iter()
        .map(|(g, list)| (g, list.into_iter().cloned().collect()))
        .collect();
    let mut exposure = Vec::new();
    for svc in target.list("v1", "Service", ns, None)? {
        let ty = text(&svc, "/spec/type");
        let headless = text(&svc, "/spec/clusterIP") == "None";
        let routes = svc
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .map(|ports| {
                ports
                    .iter()
                    .map(|p| {
                        let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                        match p.get("nodePort").and_then(Value::as_i64) {
                            Some(np) => format!("{}:{np}/{proto}", text(p, "/port")),
                            None => format!("{}/{proto}", text(p, "/port")),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        exposure.push(Exposure {
            kind: "Service".into(),
            name: text(&svc, "/metadata/name"),
            r#type: if headless {
                "headless".into()
            } else if ty.is_empty() {
                "ClusterIP".into()
            } else {
                ty
            },
            routes,
            addresses: lb_addresses(&svc),
        });
    }
    for ing in target.list("networking.k8s.io/v1", "Ingress", ns, None)? {
        let mut routes = Vec::new();
        for rule in ing
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let host = rule.get("host").and_then(Value::as_str).unwrap_or("*");
            for path in rule
                .pointer("/http/paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                routes.push(format!(
                    "{host}{} -> {}:{}",
                    path.get("path").and_then(Value::as_str).unwrap_or("/"),
                    text(path, "/backend/service/name"),
                    path.pointer("/backend/service/port/number")
                        .or_else(|| path.pointer("/backend/service/port/name"))
                        .map(|p| p.as_str().map_or_else(|| p.to_string(), String::from))
                        .unwrap_or_default()
                ));
            }
        }
        let tls = ing
            .pointer("/spec/tls")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty());
        exposure.push(Exposure {
            kind: "Ingress".into(),
            name: text(&ing, "/metadata/name"),
            r#type: if tls {
                "Ingress (TLS)".into()
            } else {
                "Ingress".into()
            },
            routes,
            addresses: lb_addresses(&ing),
        });
    }
    let volumes = target
        .list("v1", "PersistentVolumeClaim", ns, None)?
        .iter()
        .map(|pvc| Volume {
            name: text(pvc, "/metadata/name"),
            phase: if observed {
                text(pvc, "/status/phase")
            } else {
                "not observed".into()
            },
            size: text(pvc, "/spec/resources/requests/storage"),
            storage_class: text(pvc, "/spec/storageClassName"),
            access_modes: pvc
                .pointer("/spec/accessModes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let mut config = Vec::new();
    for (kind, key_fields) in [
        ("ConfigMap", &["data", "binaryData"][..]),
        ("Secret", &["data", "stringData"][..]),
    ] {
        for o in target.list("v1", kind, ns, None)? {
            // Release records are bookkeeping, not configuration.
            if o.get("type").and_then(Value::as_str) == Some(crate::targets::kube::RECORD_TYPE) {
                continue;
            }
            let mut keys: Vec<String> = key_fields
                .iter()
                .filter_map(|f| o.get(*f).and_then(Value::as_object))
                .flat_map(|m| m.keys().cloned())
                .collect();
            keys.sort();
            keys.dedup();
            config.push(ConfigObject {
                kind: kind.into(),
                name: text(&o, "/metadata/name"),
                keys,
            });
        }
    }
    Ok(ServiceMapView {
        name: name.to_string(),
        display_name: annotation(&ns_obj, DISPLAY_NAME),
        description: annotation(&ns_obj, DESCRIPTION),
        releases: list(target, Some(name))?,
        workload_groups,
        exposure,
        volumes,
        config,
        observed,
    })
}

/// Deletes a service map: refused while releases are installed unless `force`.
pub fn delete(
    target: &dyn Target,
    name: &ServiceMapName,
    force: bool,
) -> Result<Vec<String>, OpError> {
    let ns_obj = target
        .get(&namespace_id(name))?
        .ok_or_else(|| missing(name))?;
    if !is_service_map(&ns_obj) {
        return Err(OpError::Invalid(format!(
            "namespace `{name}` is not a service map (no label {LABEL}=true); cocktail-pkg deletes only service maps"
        )));
    }
    let releases: Vec<String> = list(target, Some(name))?
        .into_iter()
        .map(|r| r.name)
        .collect();
    if !releases.is_empty() && !force {
        return Err(OpError::Invalid(format!(
            "service map `{name}` still has {} installed release(s): {}; uninstall them first, or pass --force to delete the service map with everything in it",
            releases.len(),
            releases.join(", ")
        )));
    }
    target.delete(&namespace_id(name))?;
    Ok(releases)
}
