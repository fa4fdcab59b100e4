//! Targets: where releases live. One narrow trait — objects (get, apply, delete), release
//! records, and per-release leases — implemented by a local directory in a GitOps layout
//! ([`dir::DirTarget`]), by a Kubernetes cluster through the kube crate ([`kube::KubeTarget`])
//! and by memory with failure knobs for tests ([`memory::MemoryTarget`]). IO at the edge.

pub mod dir;
pub mod kube;
pub mod lease;
pub mod memory;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::release::{CodecError, Record};
use crate::time::{UnixTime, format_rfc3339};
pub use lease::Holder;

/// Whether an apply changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyMode {
    /// Validate and return what would be stored, change nothing.
    DryRun,
    /// Store the object; `force_conflicts` takes fields owned by other managers.
    Commit { force_conflicts: bool },
}

/// A per-release lock: who holds it and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    pub service_map: String,
    pub release: String,
    pub holder: Holder,
    pub acquired: UnixTime,
    pub expires: UnixTime,
    /// When a lease was taken over (expired, or its holder gone): who held it. The operation
    /// that left it was interrupted, so its pending revision must be marked failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_over_from: Option<Holder>,
}

/// A target operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("failed to {action} {}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file of a dir target that should hold an object and does not.
    #[error("failed to read the object file {}", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: crate::yaml::YamlError,
    },
    /// `detail`: `HOLDER since TIME; expires in 4m12s`, or why the holder is unknown.
    #[error("operation in progress on release `{release}` by {detail}")]
    LeaseHeld { release: String, detail: String },
    /// The lease this operation held was taken by someone else, or removed.
    #[error("lost the lease of release `{release}`: {detail}")]
    LeaseLost { release: String, detail: String },
    #[error("{id}: {message}")]
    Rejected { id: ObjectId, message: String },
    #[error("failed to read the release record of `{release}` revision {revision}")]
    Record {
        release: String,
        revision: u64,
        #[source]
        source: CodecError,
    },
    #[error("failed to write the release record of `{release}` revision {revision}")]
    RecordWrite {
        release: String,
        revision: u64,
        #[source]
        source: CodecError,
    },
    #[error("{0}")]
    Injected(String),
    /// Server-side apply found fields owned by another field manager.
    #[error("{id}: {message}")]
    Conflict { id: ObjectId, message: String },
    /// The service map (namespace) does not exist.
    #[error("service map `{0}` does not exist")]
    NoServiceMap(String),
    /// The Kubernetes API refused or failed a request.
    #[error("{action}: {message}")]
    Api {
        action: String,
        code: u16,
        message: String,
    },
    /// The target has no pods to read logs of, run commands in or forward ports to.
    #[error("the {target} target cannot {action}: it runs no pods")]
    Unsupported {
        action: &'static str,
        target: String,
    },
    /// A stream of a pod (a log, a command, a forwarded port) failed after it started.
    #[error("{action}: {message}")]
    Stream { action: String, message: String },
    /// The cluster could not be reached or configured.
    #[error("{message}")]
    Connect {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl TargetError {
    pub fn hint(&self) -> Option<String> {
        match self {
            TargetError::LeaseHeld { release, .. } => Some(format!(
                "wait for it to finish; a lease left by a process of this host that is gone is taken over at once, elsewhere it expires on its own (the next operation marks the interrupted revision failed); if you know the holder stopped, `cocktail-pkg unlock {release} -n SERVICE_MAP` releases it now"
            )),
            TargetError::Conflict { .. } => Some(
                "another field manager (kubectl, an operator) owns these fields; pass --force-conflicts to take them over".into(),
            ),
            TargetError::NoServiceMap(name) => Some(format!(
                "create it with `cocktail-pkg service-map create {name}` or pass --create-service-map"
            )),
            TargetError::Api { code: 401 | 403, .. } => Some(
                "check the credentials of the kube context (`kubectl auth can-i`), and that it may manage this service map".into(),
            ),
            TargetError::Connect { message, .. } if message.contains("TLS certificate") => Some(
                "the kubeconfig's `certificate-authority`/`certificate-authority-data` must be the CA that signed the API server's certificate (and the server name must match it); compare with `kubectl cluster-info` on the same context".into(),
            ),
            TargetError::Unsupported { .. } => Some(
                "logs, exec, shell and port-forward need a cluster: pass --target kube (a dir target only writes files)".into(),
            ),
            TargetError::Api { code: 500.., .. } | TargetError::Connect { .. } => Some(
                "check that the cluster is reachable (`kubectl cluster-info`); nothing is left half-done: run the command again".into(),
            ),
            _ => None,
        }
    }
}

impl TargetError {
    /// The chunks of a record to write, or the error naming it.
    pub fn encode(record: &Record) -> Result<Vec<String>, TargetError> {
        crate::release::encode(record).map_err(|source| TargetError::RecordWrite {
            release: record.name.clone(),
            revision: record.revision,
            source,
        })
    }

    /// A lease someone else holds: who, since when, and when it expires.
    pub fn lease_held(release: &str, holder: &Holder, since: UnixTime, expires_in: i64) -> Self {
        TargetError::LeaseHeld {
            release: release.to_string(),
            detail: format!(
                "{holder} since {}; expires in {}",
                format_rfc3339(since),
                lease::format_expires_in(expires_in)
            ),
        }
    }
}

/// Whether an object is one `list(api_version, kind, _, label_selector)` returns (the
/// namespace is filtered by the caller).
pub(crate) fn listed(
    object: &Value,
    api_version: &str,
    kind: &str,
    label_selector: Option<&str>,
) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some(api_version)
        && object.get("kind").and_then(Value::as_str) == Some(kind)
        && label_selector
            .is_none_or(|sel| selector_matches(sel, object.pointer("/metadata/labels")))
}

/// What `apply_as` stores on targets without field managers: the stored object with the
/// partial object merged in (an object that does not exist cannot be patched).
pub(crate) fn merged_as(
    id: &ObjectId,
    stored: Option<Value>,
    partial: &Value,
) -> Result<Value, TargetError> {
    let Some(mut stored) = stored else {
        return Err(TargetError::Rejected {
            id: id.clone(),
            message: "not found".into(),
        });
    };
    crate::values::merge_keep_null(&mut stored, partial.clone());
    Ok(stored)
}

/// Matches a label selector (`k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated) against labels.
pub fn selector_matches(selector: &str, labels: Option<&Value>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                label(k.trim()) != Some(v.trim())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                label(k.trim()) == Some(v.trim())
            } else if let Some(k) = term.strip_prefix('!') {
                label(k.trim()).is_none()
            } else {
                label(term).is_some()
            }
        })
}

/// The id of an object (apiVersion, kind, metadata.namespace and .name), if it has one.
pub fn object_id(object: &Value) -> Option<ObjectId> {
    let api = object.get("apiVersion")?.as_str()?;
    Some(ObjectId {
        group: ObjectId::group_of(api).to_string(),
        kind: object.get("kind")?.as_str()?.to_string(),
        namespace: object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        name: object.pointer("/metadata/name")?.as_str()?.to_string(),
    })
}

/// What to read of a container's log (the `pods/log` subresource's parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogRequest {
    /// The container; the pod's only one when `None`.
    pub container: Option<String>,
    /// Keep the stream open and send new lines as the container writes them.
    pub follow: bool,
    /// Only lines newer than this many seconds.
    pub since_seconds: Option<i64>,
    /// Only the last lines.
    pub tail_lines: Option<i64>,
    /// The log of the previous (terminated) instance of the container.
    pub previous: bool,
    /// Each line starts with its RFC 3339 timestamp.
    pub timestamps: bool,
}

/// A container's log as it arrives: read it line by line (the whole log is never held).
pub type LogStream = Box<dyn std::io::BufRead + Send>;

/// A command to run in a container (the `pods/exec` subresource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub namespace: String,
    pub pod: String,
    /// The container; the pod's only one when `None`.
    pub container: Option<String>,
    pub command: Vec<String>,
    /// Allocate a terminal (stderr then arrives on stdout, as on a terminal).
    pub tty: bool,
}

/// A terminal's size, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalSize {
    pub width: u16,
    pub height: u16,
}

/// Where a command's streams go: `stdin` (when attached) is read until its end, and terminal
/// sizes (with a tty) are sent as they arrive on `resize`.
pub struct ExecIo {
    pub stdin: Option<Box<dyn std::io::Read + Send>>,
    pub stdout: Box<dyn std::io::Write + Send>,
    pub stderr: Box<dyn std::io::Write + Send>,
    pub resize: Option<std::sync::mpsc::Receiver<TerminalSize>>,
}

/// Where releases live. `Sync`: the objects of one kind wave are applied concurrently.
pub trait Target: Send + Sync {
    /// How users name it: `dir:PATH`, `kube:CONTEXT`, `memory`.
    fn describe(&self) -> String;
    /// Whether objects have a live state (status) to read: false for a GitOps folder.
    fn observes_live_state(&self) -> bool {
        true
    }
    /// Objects of one kind (`apiVersion` + `kind`), in one namespace or all, filtered by a
    /// label selector.
    fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, TargetError>;
    /// Applies a partial object as another field manager (forcing), leaving the fields of
    /// `cocktail-pkg` alone: how `restart` sets its pod-template annotation.
    fn apply_as(
        &self,
        id: &ObjectId,
        partial: &Value,
        field_manager: &str,
    ) -> Result<(), TargetError>;
    /// Whether this is a cluster, where other tools (Helm) keep releases of their own.
    fn is_cluster(&self) -> bool {
        false
    }
    /// Takes field ownership of a stored object from the field managers `from`: applies
    /// `object` as `cocktail-pkg` (forcing), then removes the `managedFields` entries of `from`
    /// (any operation), the Kubernetes way: by writing `managedFields` without them. Returns the
    /// entries removed (`helm (Update)`). Targets without field managers only apply.
    fn take_ownership(
        &self,
        id: &ObjectId,
        object: &Value,
        from: &[&str],
    ) -> Result<Vec<String>, TargetError> {
        let _ = from;
        self.apply(
            id,
            object,
            ApplyMode::Commit {
                force_conflicts: true,
            },
        )?;
        Ok(Vec::new())
    }
    /// The stored object, if any.
    fn get(&self, id: &ObjectId) -> Result<Option<Value>, TargetError>;
    /// Stores an object (or, with `DryRun`, checks it) and returns what is stored.
    fn apply(&self, id: &ObjectId, object: &Value, mode: ApplyMode) -> Result<Value, TargetError>;
    /// Deletes an object; deleting a missing object is not an error.
    fn delete(&self, id: &ObjectId) -> Result<(), TargetError>;
    /// Every record of a release, in revision order.
    fn records(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
    ) -> Result<Vec<Record>, TargetError>;
    /// The releases that have records, optionally in one service map.
    fn releases(
        &self,
        service_map: Option<&ServiceMapName>,
    ) -> Result<Vec<(String, String)>, TargetError>;
    /// The current record of every installed release (uninstalled ones left out), optionally
    /// in one service map. Targets that can read them in one request override this.
    fn current_records(
        &self,
        service_map: Option<&ServiceMapName>,
    ) -> Result<Vec<Record>, TargetError> {
        let mut out = Vec::new();
        for (sm, rel) in self.releases(service_map)? {
            let (Ok(sm), Ok(rel)) = (ServiceMapName::new(sm), ReleaseName::new(rel)) else {
                continue;
            };
            let records = self.records(&sm, &rel)?;
            if let Some(r) = crate::release::current(&records)
                .filter(|r| r.status != crate::release::Status::Uninstalled)
            {
                out.push(r.clone());
            }
        }
        Ok(out)
    }
    /// The cluster's Kubernetes version, when the target has a cluster.
    fn kube_version(&self) -> Result<Option<semver::Version>, TargetError> {
        Ok(None)
    }
    /// The last `tail` lines of a pod's container log (`container`: the pod's only one when
    /// `None`), when the target runs pods; `None` on targets without pods.
    fn pod_log(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        tail: i64,
    ) -> Result<Option<String>, TargetError> {
        let _ = (namespace, pod, container, tail);
        Ok(None)
    }
    /// A container's log as a stream of lines (with `follow`, open until the container stops
    /// or the pod is gone). Targets without pods say they cannot.
    fn pod_log_stream(
        &self,
        namespace: &str,
        pod: &str,
        request: &LogRequest,
    ) -> Result<LogStream, TargetError> {
        let _ = (namespace, pod, request);
        Err(TargetError::Unsupported {
            action: "read pod logs",
            target: self.describe(),
        })
    }
    /// Runs a command in a container, its streams connected to `io`, until it ends; returns its
    /// exit code. Targets without pods say they cannot.
    fn exec(&self, request: &ExecRequest, io: ExecIo) -> Result<i32, TargetError> {
        let _ = (request, io);
        Err(TargetError::Unsupported {
            action: "run commands in containers",
            target: self.describe(),
        })
    }
    /// Carries one local connection to `port` of a pod, both ways, until either side closes.
    /// Targets without pods say they cannot.
    fn port_forward(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
        connection: std::net::TcpStream,
    ) -> Result<(), TargetError> {
        let _ = (namespace, pod, port, connection);
        Err(TargetError::Unsupported {
            action: "forward ports",
            target: self.describe(),
        })
    }
    /// Writes (creates or replaces) one record.
    fn write_record(&self, record: &Record) -> Result<(), TargetError>;
    fn delete_record(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        revision: u64,
    ) -> Result<(), TargetError>;
    /// Takes the release's lease as [`lease::decide`] rules: fails fast when someone else
    /// holds it.
    fn acquire(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        holder: &Holder,
        ttl_secs: i64,
        now: UnixTime,
    ) -> Result<Lease, TargetError>;
    /// The release's lease as stored, if any (`unlock` shows it before removing it).
    fn lease(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
    ) -> Result<Option<Lease>, TargetError>;
    /// Extends a held lease.
    fn renew(&self, lease: &Lease, ttl_secs: i64, now: UnixTime) -> Result<Lease, TargetError>;
    /// Gives the lease back (only if still held by the same holder).
    fn release_lease(&self, lease: &Lease) -> Result<(), TargetError>;
}
