//! `port-forward`: local ports whose connections are carried to a pod of a release, each
//! through the target's `pods/portforward` subresource.
//!
//! The pod is the first ready pod behind a Service of the release (its selector; the Service
//! port resolved to its `targetPort`, a named one through the pod's container ports) or of a
//! workload. Ports are bound before anything is forwarded ([`prepare`]); [`serve`] then accepts
//! connections until the process stops, one thread per connection.

use std::net::{IpAddr, SocketAddr, TcpListener};

use serde_json::Value;

use super::OpError;
use super::workload_pods::{name, pick_workload, pods_of, ready_pod, release_objects};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::targets::{Target, TargetError};

/// `[LOCAL:]REMOTE`: REMOTE is a port number or a port name; LOCAL empty (`:REMOTE`) or `0`
/// picks a free port, absent takes REMOTE's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub local: Option<u16>,
    pub remote: String,
}

impl std::str::FromStr for PortSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (local, remote) = match s.split_once(':') {
            Some(("", r)) => (Some(0), r),
            Some((l, r)) => (
                Some(
                    l.parse::<u16>()
                        .map_err(|_| format!("`{l}` is not a local port number"))?,
                ),
                r,
            ),
            None => (None, s),
        };
        let remote_ok = match remote.parse::<u32>() {
            Ok(n) => (1..=65535).contains(&n),
            Err(_) => {
                !remote.is_empty()
                    && remote.len() <= 15
                    && remote
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            }
        };
        if !remote_ok {
            return Err(format!(
                "`{remote}` is not a port (a number from 1 to 65535, or a port name)"
            ));
        }
        Ok(PortSpec {
            local,
            remote: remote.to_string(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct PortForwardOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// A Service (`web`, `Service/web`) or a workload (`Deployment/web`) of the release; a bare
    /// name is a Service's when the release has one of that name.
    pub name: String,
    pub ports: Vec<PortSpec>,
    pub address: IpAddr,
    /// A pod to forward to, rather than the first ready one.
    pub pod: Option<String>,
}

/// Bound local ports and where they lead.
#[derive(Debug)]
pub struct Forwarding {
    pub namespace: String,
    pub pod: String,
    /// Each local listener with the pod's port it leads to.
    pub ports: Vec<(TcpListener, u16)>,
}

impl Forwarding {
    /// (local address, pod port) of each listener.
    pub fn addresses(&self) -> Vec<(SocketAddr, u16)> {
        self.ports
            .iter()
            .filter_map(|(l, remote)| l.local_addr().ok().map(|a| (a, *remote)))
            .collect()
    }
}

/// What [`serve`] reports.
#[derive(Debug)]
pub enum ForwardEvent {
    /// A local connection is being carried to the pod.
    Connection { local: SocketAddr, remote: u16 },
    /// A connection failed (the others go on).
    Failed(String),
}

/// Finds the pod and its ports, and binds the local ports.
pub fn prepare(target: &dyn Target, opts: &PortForwardOptions) -> Result<Forwarding, OpError> {
    if !target.observes_live_state() {
        return Err(TargetError::Unsupported {
            action: "forward ports",
            target: target.describe(),
        }
        .into());
    }
    if opts.ports.is_empty() {
        return Err(OpError::Invalid(
            "no port to forward: give [LOCAL:]REMOTE (`8080:80`)".into(),
        ));
    }
    let objects = release_objects(target, &opts.service_map, &opts.release)?;
    let (pod, remotes) = match find_service(&objects, &opts.name) {
        Some((id, manifest)) => {
            let service = target.get(id)?.unwrap_or_else(|| manifest.clone());
            let selector = service
                .pointer("/spec/selector")
                .and_then(Value::as_object)
                .filter(|m| !m.is_empty())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .ok_or_else(|| {
                    OpError::Invalid(format!(
                        "Service/{} has no selector: it has no pods to forward to",
                        id.name
                    ))
                })?;
            let mut pods = target.list("v1", "Pod", Some(&id.namespace), Some(&selector))?;
            pods.sort_by(|a, b| name(a).cmp(name(b)));
            let pod = ready_pod(&pods, id, opts.pod.as_deref())?;
            let remotes = opts
                .ports
                .iter()
                .map(|p| service_target_port(&service, &pod, &id.name, &p.remote))
                .collect::<Result<Vec<_>, _>>()?;
            (pod, remotes)
        }
        None => {
            let ((id, manifest), container) =
                pick_workload(&objects, &opts.name).map_err(|e| match e {
                    OpError::Invalid(m) => {
                        OpError::Invalid(format!("{m}; Services: {}", services(&objects)))
                    }
                    other => other,
                })?;
            if let Some(c) = container {
                return Err(OpError::Invalid(format!(
                    "`{}` names a container (`{c}`): forward to a Service or a workload",
                    opts.name
                )));
            }
            let pods = pods_of(target, &id, &manifest)?;
            let pod = ready_pod(&pods, &id, opts.pod.as_deref())?;
            let remotes = opts
                .ports
                .iter()
                .map(|p| container_port(&pod, &p.remote))
                .collect::<Result<Vec<_>, _>>()?;
            (pod, remotes)
        }
    };
    let mut ports = Vec::new();
    for (spec, (remote, default_local)) in opts.ports.iter().zip(remotes) {
        let local = spec.local.unwrap_or(default_local);
        let listener = TcpListener::bind((opts.address, local)).map_err(|e| OpError::Refused {
            message: format!(
                "failed to listen on {}: {e}",
                SocketAddr::new(opts.address, local)
            ),
            hint: Some(
                "choose another local port with LOCAL:REMOTE (`18080:80`), or `:REMOTE` for any free one".into(),
            ),
        })?;
        ports.push((listener, remote));
    }
    Ok(Forwarding {
        namespace: pod
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(opts.service_map.as_str())
            .to_string(),
        pod: name(&pod).to_string(),
        ports,
    })
}

/// Accepts connections on every port until the process stops, each carried to the pod on a
/// thread of its own.
pub fn serve(
    target: &dyn Target,
    forwarding: &Forwarding,
    report: &(dyn Fn(ForwardEvent) + Sync),
) -> Result<(), OpError> {
    std::thread::scope(|scope| {
        for (listener, remote) in &forwarding.ports {
            let remote = *remote;
            scope.spawn(move || {
                for connection in listener.incoming() {
                    let connection = match connection {
                        Ok(c) => c,
                        Err(e) => {
                            report(ForwardEvent::Failed(format!(
                                "failed to accept a connection: {e}"
                            )));
                            continue;
                        }
                    };
                    let local = connection
                        .local_addr()
                        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
                    report(ForwardEvent::Connection { local, remote });
                    scope.spawn(move || {
                        if let Err(e) = target.port_forward(
                            &forwarding.namespace,
                            &forwarding.pod,
                            remote,
                            connection,
                        ) {
                            report(ForwardEvent::Failed(crate::error_chain(&e)));
                        }
                    });
                }
            });
        }
    });
    Ok(())
}

/// The Service named `spec` (`web`, `Service/web`, `svc/web`) among the release's objects.
fn find_service<'a>(objects: &'a [(ObjectId, Value)], spec: &str) -> Option<&'a (ObjectId, Value)> {
    let name = match spec.split_once('/') {
        Some((kind, name)) if kind.eq_ignore_ascii_case("service") || kind == "svc" => name,
        Some(_) => return None,
        None => spec,
    };
    objects
        .iter()
        .find(|(id, _)| id.kind == "Service" && id.group.is_empty() && id.name == name)
}

fn services(objects: &[(ObjectId, Value)]) -> String {
    let names: Vec<String> = objects
        .iter()
        .filter(|(id, _)| id.kind == "Service")
        .map(|(id, _)| format!("Service/{}", id.name))
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// A Service port (number or name) -> (the pod's port, the default local port).
fn service_target_port(
    service: &Value,
    pod: &Value,
    service_name: &str,
    remote: &str,
) -> Result<(u16, u16), OpError> {
    let ports: Vec<&Value> = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let number = |p: &Value| p.get("port").and_then(Value::as_u64);
    let found = ports.iter().find(|p| {
        remote.parse::<u64>().ok() == number(p)
            || p.get("name").and_then(Value::as_str) == Some(remote)
    });
    let Some(port) = found else {
        let listed: Vec<String> = ports
            .iter()
            .map(|p| match p.get("name").and_then(Value::as_str) {
                Some(n) => format!("{} ({n})", number(p).unwrap_or(0)),
                None => number(p).unwrap_or(0).to_string(),
            })
            .collect();
        return Err(OpError::Invalid(format!(
            "Service/{service_name} has no port `{remote}` (ports: {})",
            listed.join(", ")
        )));
    };
    let service_port = number(port)
        .and_then(|n| u16::try_from(n).ok())
        .unwrap_or(0);
    let target = match port.get("targetPort") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(service_port),
        Some(Value::String(s)) => match s.parse::<u16>() {
            Ok(n) => n,
            Err(_) => container_port(pod, s)?.0,
        },
        _ => service_port,
    };
    Ok((target, service_port))
}

/// A container port (number or name) of a pod -> (its number, the default local port).
fn container_port(pod: &Value, remote: &str) -> Result<(u16, u16), OpError> {
    if let Ok(n) = remote.parse::<u16>() {
        return Ok((n, n));
    }
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c.get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .find(|p| p.get("name").and_then(Value::as_str) == Some(remote))
        .and_then(|p| p.get("containerPort").and_then(Value::as_u64))
        .and_then(|n| u16::try_from(n).ok())
        .map(|n| (n, n))
        .ok_or_else(|| {
            OpError::Invalid(format!(
                "pod {} has no container port named `{remote}`",
                name(pod)
            ))
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn port_specs_parse_like_kubectls() {
        let p = |s: &str| s.parse::<PortSpec>();
        assert_eq!(
            p("8080:80").unwrap(),
            PortSpec {
                local: Some(8080),
                remote: "80".into()
            }
        );
        assert_eq!(p("80").unwrap().local, None);
        assert_eq!(p(":80").unwrap().local, Some(0));
        assert_eq!(p("9000:http").unwrap().remote, "http");
        assert!(p("x:80").is_err());
        assert!(p("70000").is_err());
        assert!(p("8080:").is_err());
    }

    #[test]
    fn a_service_port_leads_to_its_target_port_named_or_not() {
        let service = json!({"spec": {"ports": [
            {"name": "http", "port": 80, "targetPort": "web"},
            {"name": "admin", "port": 9000, "targetPort": 9090},
            {"port": 7000},
        ]}});
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "app", "ports": [{"name": "web", "containerPort": 8080}]},
        ]}});
        assert_eq!(
            service_target_port(&service, &pod, "s", "80").unwrap(),
            (8080, 80)
        );
        assert_eq!(
            service_target_port(&service, &pod, "s", "http").unwrap(),
            (8080, 80)
        );
        assert_eq!(
            service_target_port(&service, &pod, "s", "admin").unwrap(),
            (9090, 9000)
        );
        assert_eq!(
            service_target_port(&service, &pod, "s", "7000").unwrap(),
            (7000, 7000)
        );
        let err = service_target_port(&service, &pod, "s", "443")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ports: 80 (http), 9000 (admin), 7000"),
            "{err}"
        );
    }
}
