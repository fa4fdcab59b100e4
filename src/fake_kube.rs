//! A fake Kubernetes API server for integration tests and benchmarks.
//!
//! [`FakeKube::start`] serves the Kubernetes REST API over plain HTTP on `127.0.0.1` (a random
//! port) from a thread of its own, so the kube target can be exercised over the real wire with
//! the `kube` crate as client. It aims to be honest to the documented API where a package
//! manager can notice the difference:
//!
//! - discovery (`/version`, `/api`, `/apis`, `/apis/{group}`, `/api/v1`,
//!   `/apis/{group}/{version}`) from one resource table that also drives routing (plural <->
//!   kind, namespaced or not); `/healthz`, `/livez`, `/readyz`;
//! - the standard paths and verbs: get, list (label and field selectors, `limit`/`continue`),
//!   create (`generateName` too), replace, patch (server-side apply, JSON merge patch,
//!   strategic merge patch treated as merge patch, JSON patch), delete (preconditions,
//!   propagation policy, finalizers), deletecollection, and the `status` subresource;
//! - `Status` error bodies with the real reasons, messages and details (`NotFound`,
//!   `AlreadyExists`, `Conflict`, `Invalid` with causes, `BadRequest`, `MethodNotAllowed`,
//!   `UnsupportedMediaType`);
//! - bookkeeping: `uid`, a global `resourceVersion` bumped on every write (a write that changes
//!   nothing is not a write), `creationTimestamp`, `generation` (bumped when anything outside
//!   `metadata` and `status` changes), `managedFields`;
//! - server-side apply with field managers, conflicts, `force`, removal of fields a manager
//!   stopped applying, shared ownership; `dryRun=All` everywhere;
//! - a few server behaviours: Secret `stringData` folded into `data`, Service `clusterIP` and
//!   `nodePort` allocation and defaults, immutable fields, name and label validation, the 1 MiB
//!   ConfigMap/Secret limit, Namespace deletion removing its content, garbage collection through
//!   `ownerReferences`;
//! - a controller simulation ([`Readiness`]) that fills the status of workloads, claims,
//!   Services (with an EndpointSlice) and Ingresses after each write.
//!
//! Simplifications, on purpose:
//!
//! - lists are atomic: ownership is tracked per leaf, and an array is one leaf (the real server
//!   merges some lists by key, such as containers by `name`); `fieldsV1` is the simplified
//!   `{"f:spec":{"f:replicas":{}}}` form, without `"."` entries or list-item keys;
//! - no watch (`watch=true` answers 405), no scale/log/exec subresources, no OpenAPI, no
//!   schema: unknown fields are stored as sent; no defaulting beyond what is listed above;
//! - Namespace deletion is immediate (no `Terminating` phase you can observe afterwards);
//!   finalizers are honoured on other objects, but garbage collection ignores them;
//! - list items carry no apiVersion/kind and zero status counters are omitted, as on a real
//!   server; the Update field manager defaults to `unknown` (the real server derives it from
//!   the User-Agent);
//! - `continue` tokens page over the current state, not a snapshot;
//! - the cluster starts with the Namespaces `default`, `kube-system`, `kube-public` and
//!   `kube-node-lease`, and nothing else (no `kubernetes` Service, no default ServiceAccounts);
//! - authentication: a request without `Authorization` is served (anonymous); one with a token
//!   other than `Bearer fake-token` gets 401.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};

/// The bearer token written to the kubeconfig and accepted by the server.
pub const TOKEN: &str = "fake-token";

/// The field manager of the simulated controllers.
const CONTROLLER: &str = "kube-controller-manager";

/// The most a request body may hold (the real server's limit is 3 MiB).
const MAX_BODY: usize = 3 << 20;

/// ConfigMaps and Secrets may hold at most this much data.
const MAX_DATA_BYTES: usize = 1 << 20;

// ------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------

/// One request as the server received it, recorded before faults and handling.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// The raw path, without the query.
    pub path: String,
    /// Query parameters, percent-decoded (the last value wins when one repeats).
    pub query: BTreeMap<String, String>,
    pub content_type: Option<String>,
    pub authorization: Option<String>,
    /// The body when it parses as JSON (or YAML, for apply patches).
    pub body: Option<Value>,
}

/// A fault rule: the next `times` requests whose method matches (any when `None`) and whose
/// path contains `path_contains` sleep `delay_ms`, then, when `status` is not 0, get a `Status`
/// error with that code instead of being handled.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Option<String>,
    pub path_contains: String,
    /// 0: no error, only the delay.
    pub status: u16,
    pub times: usize,
    pub delay_ms: u64,
}

/// What the simulated controllers report after a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Readiness {
    /// Everything becomes ready, available, bound or complete at once.
    #[default]
    Immediate,
    /// Nothing ever becomes ready: pods stay unready, claims pending, jobs active.
    Never,
}

/// A running fake API server; stops (gracefully) when dropped.
pub struct FakeKube {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeKube {
    /// Starts a server on `127.0.0.1:0` in a thread owning a two-worker tokio runtime.
    ///
    /// # Panics
    ///
    /// When the runtime cannot be built or the port cannot be bound.
    pub fn start() -> FakeKube {
        let shared = Arc::new(Shared::new());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<Result<SocketAddr, String>>();
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fake-kube".to_string())
            .spawn(move || serve_thread(server_shared, addr_tx, stop_rx))
            .expect("fake kube: spawn the server thread");
        let addr = match addr_rx.recv() {
            Ok(Ok(addr)) => addr,
            Ok(Err(e)) => panic!("fake kube: {e}"),
            Err(_) => panic!("fake kube: the server thread ended before binding"),
        };
        lock(&shared.store).server_address = addr.to_string();
        FakeKube {
            url: format!("http://{addr}"),
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// The stored object, as a GET would return it.
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let res = find_by_kind(api_version, kind)?;
        let ns = if res.namespaced { namespace } else { None };
        let store = lock(&self.shared.store);
        store
            .objects
            .get(&key(res, ns, name))
            .map(|s| s.obj.clone())
    }

    /// Every stored object, sorted by apiVersion, kind, namespace and name.
    pub fn objects(&self) -> Vec<Value> {
        let store = lock(&self.shared.store);
        let mut all: Vec<(String, String, String, String, Value)> = store
            .objects
            .values()
            .map(|s| {
                let o = &s.obj;
                let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
                (
                    text(o.get("apiVersion")),
                    text(o.get("kind")),
                    text(o.pointer("/metadata/namespace")),
                    text(o.pointer("/metadata/name")),
                    o.clone(),
                )
            })
            .collect();
        all.sort_by(|a, b| (&a.0, &a.1, &a.2, &a.3).cmp(&(&b.0, &b.1, &b.2, &b.3)));
        all.into_iter().map(|t| t.4).collect()
    }

    /// Stores `object` as given, status included (an update by the field manager `test`, no
    /// validation, no controller); creates its namespace when missing. Sets the bookkeeping
    /// (`uid`, `resourceVersion`, `creationTimestamp`, `generation`, `managedFields`).
    ///
    /// # Panics
    ///
    /// When the object has no known apiVersion/kind or no name.
    pub fn insert(&self, object: Value) {
        let now = now();
        let mut store = lock(&self.shared.store);
        if let Err(e) = store.insert_as_is(object, &now) {
            panic!("FakeKube::insert: {}", e.message);
        }
    }

    /// Server-side apply of `object` by the field manager `manager`, with `force=true`, as
    /// another client would do it (validation and controllers included).
    ///
    /// # Panics
    ///
    /// When the server refuses the apply (the message is the `Status` message).
    pub fn apply_as(&self, manager: &str, object: Value) {
        let now = now();
        let mut store = lock(&self.shared.store);
        if let Err(e) = store.apply_helper(manager, object, &now) {
            panic!("FakeKube::apply_as: {}", e.message);
        }
    }

    /// Replaces the status of a stored object (an update of the `status` subresource by the
    /// field manager `test`).
    ///
    /// # Panics
    ///
    /// When the object does not exist.
    pub fn set_status(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        status: Value,
    ) {
        let now = now();
        let mut store = lock(&self.shared.store);
        if let Err(e) = store.set_status_helper(api_version, kind, namespace, name, status, &now) {
            panic!("FakeKube::set_status: {}", e.message);
        }
    }

    /// Queues a fault rule (rules are tried in the order they were queued).
    pub fn fault(&self, fault: Fault) {
        if fault.times > 0 {
            lock(&self.shared.faults).push(fault);
        }
    }

    /// Sets what the simulated controllers report, and re-reconciles every stored object.
    pub fn set_readiness(&self, r: Readiness) {
        let now = now();
        let mut store = lock(&self.shared.store);
        store.readiness = r;
        let keys: Vec<Key> = store.objects.keys().cloned().collect();
        for k in keys {
            store.reconcile(&k, &now);
        }
    }

    /// Writes a kubeconfig: cluster, user and context `fake` (the current context, with
    /// `namespace` when given) and a context `other` pointing at an unreachable server.
    pub fn write_kubeconfig(
        &self,
        path: &std::path::Path,
        namespace: Option<&str>,
    ) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig(namespace))
    }

    fn kubeconfig(&self, namespace: Option<&str>) -> String {
        let q = |s: &str| Value::from(s).to_string();
        let mut lines = vec![
            "apiVersion: v1".to_string(),
            "kind: Config".to_string(),
            "clusters:".to_string(),
            "- name: fake".to_string(),
            "  cluster:".to_string(),
            format!("    server: {}", q(&self.url)),
            "- name: other".to_string(),
            "  cluster:".to_string(),
            format!("    server: {}", q("http://127.0.0.1:9")),
            "users:".to_string(),
            "- name: fake".to_string(),
            "  user:".to_string(),
            format!("    token: {}", q(TOKEN)),
            "contexts:".to_string(),
            "- name: fake".to_string(),
            "  context:".to_string(),
            "    cluster: fake".to_string(),
            "    user: fake".to_string(),
        ];
        if let Some(ns) = namespace {
            lines.push(format!("    namespace: {}", q(ns)));
        }
        lines.extend(
            [
                "- name: other",
                "  context:",
                "    cluster: other",
                "    user: fake",
                "current-context: fake",
                "preferences: {}",
            ]
            .map(String::from),
        );
        lines.join("\n") + "\n"
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_thread(
    shared: Arc<Shared>,
    addr_tx: std::sync::mpsc::Sender<Result<SocketAddr, String>>,
    stop_rx: tokio::sync::watch::Receiver<bool>,
) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("fake-kube-worker")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = addr_tx.send(Err(format!("build the runtime: {e}")));
            return;
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => {
                let _ = addr_tx.send(Err(format!("bind 127.0.0.1:0: {e}")));
                return;
            }
        };
        match listener.local_addr() {
            Ok(a) => {
                let _ = addr_tx.send(Ok(a));
            }
            Err(e) => {
                let _ = addr_tx.send(Err(format!("local address: {e}")));
                return;
            }
        }
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(shared);
        let mut graceful = stop_rx.clone();
        let mut hard = stop_rx;
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = graceful.wait_for(|stop| *stop).await;
        });
        // Connections kept open by clients must not hold the test up for long.
        let deadline = async move {
            let _ = hard.wait_for(|stop| *stop).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        };
        tokio::select! {
            r = serve => {
                if let Err(e) = r {
                    tracing::warn!("fake kube: {e}");
                }
            }
            () = deadline => {}
        }
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}

// ------------------------------------------------------------------------------------------
// Resources
// ------------------------------------------------------------------------------------------

#[derive(Debug)]
struct ResourceDef {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    /// Has a `status` subresource.
    status: bool,
    short_names: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)]
const fn def(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    status: bool,
    short_names: &'static [&'static str],
) -> ResourceDef {
    ResourceDef {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        status,
        short_names,
    }
}

/// Every served resource: discovery and routing both read this table. Namespaces first.
#[rustfmt::skip]
const RESOURCES: &[ResourceDef] = &[
    def("", "v1", "namespaces", "namespace", "Namespace", false, true, &["ns"]),
    def("", "v1", "configmaps", "configmap", "ConfigMap", true, false, &["cm"]),
    def("", "v1", "secrets", "secret", "Secret", true, false, &[]),
    def("", "v1", "services", "service", "Service", true, true, &["svc"]),
    def("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, false, &["sa"]),
    def("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, true, &["pvc"]),
    def("", "v1", "pods", "pod", "Pod", true, true, &["po"]),
    def("", "v1", "endpoints", "endpoints", "Endpoints", true, false, &["ep"]),
    def("", "v1", "events", "event", "Event", true, false, &["ev"]),
    def("apps", "v1", "deployments", "deployment", "Deployment", true, true, &["deploy"]),
    def("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, true, &["sts"]),
    def("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, true, &["ds"]),
    def("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, true, &["rs"]),
    def("batch", "v1", "jobs", "job", "Job", true, true, &[]),
    def("batch", "v1", "cronjobs", "cronjob", "CronJob", true, true, &["cj"]),
    def("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, true, &["ing"]),
    def("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, false, &["netpol"]),
    def("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, false, &[]),
    def("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, true, &["hpa"]),
    def("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, true, &["pdb"]),
    def("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, false, &[]),
    def("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, false, &[]),
    def("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, false, &[]),
    def("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, false, &[]),
    def("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, false, &[]),
    def("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, false, &[]),
    def("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, false, &["sc"]),
];

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

impl ResourceDef {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, `configmaps`: how messages name the resource.
    fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps`, `Service`: how `Invalid` messages name the kind.
    fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    fn is(&self, group: &str, kind: &str) -> bool {
        self.group == group && self.kind == kind
    }
}

fn namespaces_def() -> &'static ResourceDef {
    &RESOURCES[0]
}

fn find_by_plural(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

fn find_by_group_plural(group: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural)
}

fn find_by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// The served (group, version) pairs, in table order, without repeats.
fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

fn gv_string(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn api_group_json(group: &str) -> Value {
    let versions: Vec<Value> = group_versions()
        .into_iter()
        .filter(|(g, _)| *g == group)
        .map(|(g, v)| json!({"groupVersion": gv_string(g, v), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

fn resource_list_json(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let mut m = Map::new();
        m.insert("name".into(), r.plural.into());
        m.insert("singularName".into(), r.singular.into());
        m.insert("namespaced".into(), r.namespaced.into());
        m.insert("kind".into(), r.kind.into());
        m.insert("verbs".into(), json!(VERBS));
        if !r.short_names.is_empty() {
            m.insert("shortNames".into(), json!(r.short_names));
        }
        resources.push(Value::Object(m));
        if r.status {
            resources.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": STATUS_VERBS,
            }));
        }
    }
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv_string(group, version),
        "resources": resources,
    })
}

fn version_json() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0",
        "gitCommit": "60a317eadfcb839692a68eab88b2096f4d708f4f",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T13:07:31Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

// ------------------------------------------------------------------------------------------
// Status errors
// ------------------------------------------------------------------------------------------

/// A `Status` failure: the body every error answer carries.
#[derive(Debug, Clone)]
struct ApiError {
    code: u16,
    reason: &'static str,
    message: String,
    details: Option<Value>,
}

/// One cause of an `Invalid` answer.
#[derive(Debug, Clone)]
struct FieldError {
    reason: &'static str,
    field: String,
    /// `Invalid value: "x": field is immutable`, `Required value: ...`.
    detail: String,
}

impl FieldError {
    fn invalid(field: impl Into<String>, value: &Value, why: &str) -> Self {
        FieldError {
            reason: "FieldValueInvalid",
            field: field.into(),
            detail: format!("Invalid value: {value}: {why}"),
        }
    }

    fn required(field: impl Into<String>, why: &str) -> Self {
        FieldError {
            reason: "FieldValueRequired",
            field: field.into(),
            detail: if why.is_empty() {
                "Required value".to_string()
            } else {
                format!("Required value: {why}")
            },
        }
    }

    fn forbidden(field: impl Into<String>, why: &str) -> Self {
        FieldError {
            reason: "FieldValueForbidden",
            field: field.into(),
            detail: format!("Forbidden: {why}"),
        }
    }

    fn unsupported(field: impl Into<String>, value: &Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        FieldError {
            reason: "FieldValueNotSupported",
            field: field.into(),
            detail: format!(
                "Unsupported value: {value}: supported values: {}",
                list.join(", ")
            ),
        }
    }
}

fn resource_details(res: &ResourceDef, name: &str) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("name".into(), name.into());
    if !res.group.is_empty() {
        d.insert("group".into(), res.group.into());
    }
    d.insert("kind".into(), res.plural.into());
    d
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), "Status".into());
        m.insert("apiVersion".into(), "v1".into());
        m.insert("metadata".into(), json!({}));
        m.insert("status".into(), "Failure".into());
        m.insert("message".into(), self.message.clone().into());
        m.insert("reason".into(), self.reason.into());
        if let Some(d) = &self.details {
            m.insert("details".into(), d.clone());
        }
        m.insert("code".into(), self.code.into());
        Value::Object(m)
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    fn not_found(res: &ResourceDef, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", res.group_resource()),
        )
        .with_details(Value::Object(resource_details(res, name)))
    }

    fn namespace_not_found(ns: &str) -> Self {
        Self::not_found(namespaces_def(), ns)
    }

    fn path_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    fn already_exists(res: &ResourceDef, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", res.group_resource()),
        )
        .with_details(Value::Object(resource_details(res, name)))
    }

    fn conflict(res: &ResourceDef, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                res.group_resource()
            ),
        )
        .with_details(Value::Object(resource_details(res, name)))
    }

    fn modified(res: &ResourceDef, name: &str) -> Self {
        Self::conflict(
            res,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// `Invalid` for an object of `res` named `name`.
    fn invalid(res: &ResourceDef, name: &str, errors: Vec<FieldError>) -> Self {
        Self::invalid_kind(res.group, &res.group_kind(), res.kind, name, errors)
    }

    /// `Invalid` for request options (`PatchOptions.meta.k8s.io`, `DeleteOptions.meta.k8s.io`).
    fn invalid_options(kind: &'static str, errors: Vec<FieldError>) -> Self {
        Self::invalid_kind(
            "meta.k8s.io",
            &format!("{kind}.meta.k8s.io"),
            kind,
            "",
            errors,
        )
    }

    fn invalid_kind(
        group: &str,
        group_kind: &str,
        kind: &str,
        name: &str,
        errors: Vec<FieldError>,
    ) -> Self {
        let list: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.detail))
            .collect();
        let what = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| json!({"reason": e.reason, "message": e.detail, "field": e.field}))
            .collect();
        let mut d = Map::new();
        d.insert("name".into(), name.into());
        if !group.is_empty() {
            d.insert("group".into(), group.into());
        }
        d.insert("kind".into(), kind.into());
        d.insert("causes".into(), causes.into());
        Self::new(
            422,
            "Invalid",
            format!("{group_kind} \"{name}\" is invalid: {what}"),
        )
        .with_details(Value::Object(d))
    }

    /// A 422 without field causes (a JSON patch that does not apply).
    fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }

    fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format ({content_type}) - accepted media types include: \
                 application/json-patch+json, application/merge-patch+json, \
                 application/apply-patch+yaml, application/strategic-merge-patch+json"
            ),
        )
    }

    fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// The answer of a fault rule.
    fn injected(code: u16) -> Self {
        let (reason, message) = match code {
            400 => ("BadRequest", "injected fault"),
            401 => ("Unauthorized", "Unauthorized (injected fault)"),
            403 => ("Forbidden", "forbidden (injected fault)"),
            404 => (
                "NotFound",
                "the server could not find the requested resource (injected fault)",
            ),
            405 => (
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource (injected fault)",
            ),
            409 => ("Conflict", "Operation cannot be fulfilled: injected fault"),
            410 => (
                "Expired",
                "the resource version is too old (injected fault)",
            ),
            415 => (
                "UnsupportedMediaType",
                "unsupported media type (injected fault)",
            ),
            422 => ("Invalid", "invalid (injected fault)"),
            429 => (
                "TooManyRequests",
                "Too many requests, please try again later. (injected fault)",
            ),
            500 => ("InternalError", "Internal error occurred: injected fault"),
            503 => (
                "ServiceUnavailable",
                "the server is currently unable to handle the request (injected fault)",
            ),
            504 => (
                "Timeout",
                "the server was unable to return a response in the time allotted, but may still be processing the request (injected fault)",
            ),
            _ => ("Unknown", "injected fault"),
        };
        Self::new(code, reason, message)
    }
}

// ------------------------------------------------------------------------------------------
// Store
// ------------------------------------------------------------------------------------------

/// A path to a field: the keys from the root. Arrays are leaves (atomic).
type FieldPath = Vec<String>;

/// (group, plural, namespace or "", name)
type Key = (String, String, String, String);

type Query = BTreeMap<String, String>;

type Reply = Result<(u16, Value), ApiError>;

fn key(res: &ResourceDef, ns: Option<&str>, name: &str) -> Key {
    (
        res.group.to_string(),
        res.plural.to_string(),
        ns.unwrap_or("").to_string(),
        name.to_string(),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Apply,
    Update,
}

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sub {
    /// Everything but `status`.
    Main,
    /// Only `status`.
    Status,
}

impl Sub {
    fn name(self) -> &'static str {
        match self {
            Sub::Main => "",
            Sub::Status => "status",
        }
    }
}

/// One `managedFields` entry: the leaves a manager owns through one operation.
#[derive(Debug, Clone)]
struct ManagerEntry {
    manager: String,
    operation: Operation,
    subresource: &'static str,
    api_version: String,
    time: String,
    fields: BTreeSet<FieldPath>,
}

impl ManagerEntry {
    fn is(&self, manager: &str, operation: Operation, sub: Sub) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == sub.name()
    }

    fn to_json(&self) -> Value {
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
    fn describe(&self) -> String {
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
fn same_managers(a: &[ManagerEntry], b: &[ManagerEntry]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.manager == y.manager
                && x.operation == y.operation
                && x.subresource == y.subresource
                && x.api_version == y.api_version
                && x.fields == y.fields
        })
}

fn fields_v1(paths: &BTreeSet<FieldPath>) -> Value {
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

fn display_path(p: &[String]) -> String {
    p.iter().map(|k| format!(".{k}")).collect()
}

#[derive(Debug, Clone)]
struct Stored {
    /// The object as a GET returns it, `managedFields` included.
    obj: Value,
    managers: Vec<ManagerEntry>,
}

struct Store {
    objects: BTreeMap<Key, Stored>,
    /// The last resourceVersion handed out.
    rv: u64,
    rng: u64,
    next_ip: u32,
    next_node_port: u16,
    readiness: Readiness,
    server_address: String,
}

/// What one write addresses and how.
struct Write<'a> {
    res: &'static ResourceDef,
    ns: Option<&'a str>,
    name: &'a str,
    sub: Sub,
    dry_run: bool,
    /// Validate and apply server behaviours (off for [`FakeKube::insert`] and controllers).
    validate: bool,
    now: &'a str,
}

impl Write<'_> {
    fn key(&self) -> Key {
        key(self.res, self.ns, self.name)
    }
}

struct Shared {
    store: Mutex<Store>,
    requests: Mutex<Vec<RecordedRequest>>,
    faults: Mutex<Vec<Fault>>,
}

impl Shared {
    fn new() -> Self {
        let seed = std::collections::hash_map::RandomState::new()
            .hash_one(std::time::SystemTime::now())
            | 1;
        let mut store = Store {
            objects: BTreeMap::new(),
            rv: 0,
            rng: seed,
            next_ip: 10,
            next_node_port: 30000,
            readiness: Readiness::Immediate,
            server_address: String::new(),
        };
        let now = now();
        for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            if let Err(e) = store.create_namespace(ns, "kube-apiserver", &now) {
                tracing::warn!("fake kube: namespace {ns}: {}", e.message);
            }
        }
        Shared {
            store: Mutex::new(store),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
        }
    }

    /// The first queued rule matching the request, used once.
    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let i = faults.iter().position(|f| {
            f.times > 0
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && path.contains(&f.path_contains)
        })?;
        let hit = faults[i].clone();
        faults[i].times -= 1;
        if faults[i].times == 0 {
            faults.remove(i);
        }
        Some(hit)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now() -> String {
    crate::time::format_rfc3339(crate::time::now())
}

// ------------------------------------------------------------------------------------------
// JSON helpers
// ------------------------------------------------------------------------------------------

/// Makes `v` an object when it is not one, and returns its map.
fn obj_mut(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

fn meta_mut(v: &mut Value) -> &mut Map<String, Value> {
    let m = obj_mut(v);
    let meta = m
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    obj_mut(meta)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Drops `null` members, as decoding into typed objects does.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, c| !c.is_null());
            for c in m.values_mut() {
                strip_nulls(c);
            }
        }
        Value::Array(a) => {
            for c in a {
                strip_nulls(c);
            }
        }
        _ => {}
    }
}

/// Every leaf below the root object: scalars, arrays (atomic) and empty objects.
fn leaves(v: &Value) -> BTreeMap<FieldPath, Value> {
    fn walk(v: &Value, path: &mut FieldPath, out: &mut BTreeMap<FieldPath, Value>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, c) in m {
                    path.push(k.clone());
                    walk(c, path, out);
                    path.pop();
                }
            }
            _ => {
                out.insert(path.clone(), v.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Value::Object(m) = v {
        let mut path = Vec::new();
        for (k, c) in m {
            path.push(k.clone());
            walk(c, &mut path, &mut out);
            path.pop();
        }
    }
    out
}

fn get_path<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.as_object()?.get(k)?;
    }
    Some(cur)
}

fn set_path(v: &mut Value, path: &[String], val: Value) {
    match path.split_first() {
        None => *v = val,
        Some((first, rest)) => {
            let child = obj_mut(v).entry(first.clone()).or_insert(Value::Null);
            set_path(child, rest, val);
        }
    }
}

/// Removes the field at `path`, then the maps it leaves empty. True when something went.
fn remove_path(v: &mut Value, path: &[String]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let Value::Object(m) = v else {
        return false;
    };
    if rest.is_empty() {
        return m.shift_remove(first).is_some();
    }
    let Some(child) = m.get_mut(first) else {
        return false;
    };
    let removed = remove_path(child, rest);
    if removed && child.as_object().is_some_and(Map::is_empty) {
        m.shift_remove(first);
    }
    removed
}

/// One path is a prefix of the other.
fn overlaps(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            let t = obj_mut(target);
            for (k, v) in p {
                if v.is_null() {
                    t.shift_remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// RFC 6902 JSON patch.
fn json_patch(doc: &mut Value, ops: &[Value]) -> Result<(), String> {
    fn tokens(ptr: &str) -> Result<Vec<String>, String> {
        if ptr.is_empty() {
            return Ok(Vec::new());
        }
        let Some(rest) = ptr.strip_prefix('/') else {
            return Err(format!("invalid JSON pointer {ptr:?}"));
        };
        Ok(rest
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect())
    }
    fn walk<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value, String> {
        let mut cur = doc;
        for t in toks {
            cur = match cur {
                Value::Object(m) => m
                    .get_mut(t.as_str())
                    .ok_or_else(|| format!("missing key {t:?}"))?,
                Value::Array(a) => {
                    let i: usize = t.parse().map_err(|_| format!("bad index {t:?}"))?;
                    a.get_mut(i)
                        .ok_or_else(|| format!("index {i} out of range"))?
                }
                _ => return Err(format!("cannot descend into a scalar at {t:?}")),
            };
        }
        Ok(cur)
    }
    fn add(doc: &mut Value, ptr: &str, val: Value) -> Result<(), String> {
        let toks = tokens(ptr)?;
        let Some((last, parents)) = toks.split_last() else {
            *doc = val;
            return Ok(());
        };
        match walk(doc, parents)? {
            Value::Object(m) => {
                m.insert(last.clone(), val);
                Ok(())
            }
            Value::Array(a) => {
                if last == "-" {
                    a.push(val);
                    return Ok(());
                }
                let i: usize = last.parse().map_err(|_| format!("bad index {last:?}"))?;
                if i > a.len() {
                    return Err(format!("index {i} out of range"));
                }
                a.insert(i, val);
                Ok(())
            }
            _ => Err(format!("cannot add to a scalar at {ptr:?}")),
        }
    }
    fn remove(doc: &mut Value, ptr: &str) -> Result<Value, String> {
        let toks = tokens(ptr)?;
        let Some((last, parents)) = toks.split_last() else {
            return Err("cannot remove the root".to_string());
        };
        match walk(doc, parents)? {
            Value::Object(m) => m
                .shift_remove(last.as_str())
                .ok_or_else(|| format!("missing key {last:?} at {ptr:?}")),
            Value::Array(a) => {
                let i: usize = last.parse().map_err(|_| format!("bad index {last:?}"))?;
                if i >= a.len() {
                    return Err(format!("index {i} out of range"));
                }
                Ok(a.remove(i))
            }
            _ => Err(format!("cannot remove from a scalar at {ptr:?}")),
        }
    }
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("an operation without \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("an operation without \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or(format!("{kind} without \"value\""))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or(format!("{kind} without \"from\""))
        };
        match kind {
            "add" => add(doc, path, value()?)?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                let v = value()?;
                if path.is_empty() {
                    *doc = v;
                } else {
                    remove(doc, path)?;
                    add(doc, path, v)?;
                }
            }
            "move" => {
                let v = remove(doc, from()?)?;
                add(doc, path, v)?;
            }
            "copy" => {
                let v = walk(doc, &tokens(from()?)?)?.clone();
                add(doc, path, v)?;
            }
            "test" => {
                let want = value()?;
                if walk(doc, &tokens(path)?)? != &want {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("unexpected kind of operation {other:?}")),
        }
    }
    Ok(())
}

/// The fields a write to `sub` manages: for the main resource everything but
/// apiVersion/kind/status and the metadata bookkeeping (labels, annotations, ownerReferences and
/// finalizers stay); for `status`, only `status`.
fn managed_view(obj: &Value, sub: Sub) -> Value {
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

/// What `generation` tracks: everything outside apiVersion, kind, metadata and status.
fn spec_content(obj: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(m) = obj {
        for (k, v) in m {
            if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status") {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// The real server's member order: apiVersion, kind, metadata (bookkeeping first), the rest,
/// status last.
fn canonicalize(obj: Value) -> Value {
    const META_ORDER: &[&str] = &[
        "name",
        "generateName",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    ];
    let Value::Object(mut m) = obj else {
        return obj;
    };
    let mut out = Map::new();
    for k in ["apiVersion", "kind"] {
        if let Some(v) = m.shift_remove(k) {
            out.insert(k.into(), v);
        }
    }
    if let Some(meta) = m.shift_remove("metadata") {
        let meta = match meta {
            Value::Object(mut mm) => {
                let mut o = Map::new();
                for k in META_ORDER {
                    if let Some(v) = mm.shift_remove(*k) {
                        o.insert((*k).into(), v);
                    }
                }
                o.extend(mm);
                Value::Object(o)
            }
            other => other,
        };
        out.insert("metadata".into(), meta);
    }
    let status = m.shift_remove("status");
    out.extend(m);
    if let Some(s) = status {
        out.insert("status".into(), s);
    }
    Value::Object(out)
}

/// An object as a list item: the real server omits apiVersion and kind there.
fn list_item(obj: &Value) -> Value {
    let mut item = obj.clone();
    if let Value::Object(m) = &mut item {
        m.shift_remove("apiVersion");
        m.shift_remove("kind");
    }
    item
}

fn percent_decode(s: &str, plus_is_space: bool) -> String {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> Query {
    let mut out = BTreeMap::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(percent_decode(k, true), percent_decode(v, true));
    }
    out
}

/// A short stable hash in the alphabet the real server uses for generated names.
fn short_hash(v: &Value, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in v.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
            h /= ALPHABET.len() as u64;
            h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
            c
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// Field ownership
// ------------------------------------------------------------------------------------------

/// Ownership after an Update (create, PUT, merge/JSON patch, controllers): the updater takes
/// every leaf whose value changed; changed and removed leaves leave every other manager.
fn update_managers(
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

/// A field another manager owns with a different value.
struct Conflict {
    manager: String,
    path: FieldPath,
}

/// Server-side apply of `config` (a managed view) by `who` onto `live`: conflicts, forced
/// ownership transfer, removal of fields `who` stopped applying, then the merge.
#[allow(clippy::too_many_arguments)]
fn ssa_apply(
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
fn apply_conflict_error(conflicts: Vec<Conflict>) -> ApiError {
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

// ------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_1123_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn is_1123_label_chars(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_1123_label_chars)
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Why `name` is not a valid object name for `res`.
fn name_error(res: &ResourceDef, name: &str) -> Option<String> {
    if res.group == "rbac.authorization.k8s.io" {
        return match name {
            "." => Some("may not be '.'".into()),
            ".." => Some("may not be '..'".into()),
            _ if name.contains('/') => Some("may not contain '/'".into()),
            _ if name.contains('%') => Some("may not contain '%'".into()),
            _ => None,
        };
    }
    match (res.group, res.kind) {
        ("", "Namespace") => {
            if name.len() > 63 {
                Some("must be no more than 63 characters".into())
            } else if !is_1123_label_chars(name) {
                Some(LABEL_1123_MSG.into())
            } else {
                None
            }
        }
        ("", "Service") => {
            if name.len() > 63 {
                Some("must be no more than 63 characters".into())
            } else if !is_1123_label_chars(name) || !name.as_bytes()[0].is_ascii_lowercase() {
                Some(LABEL_1035_MSG.into())
            } else {
                None
            }
        }
        _ => {
            if name.len() > 253 {
                Some("must be no more than 253 characters".into())
            } else if !is_dns1123_subdomain(name) {
                Some(SUBDOMAIN_MSG.into())
            } else {
                None
            }
        }
    }
}

/// Why `key` is not a valid label or annotation key (`[prefix/]name`).
fn qualified_name_error(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("prefix part must be non-empty".into());
        }
        if !is_dns1123_subdomain(p) {
            return Some(format!("prefix part {SUBDOMAIN_MSG}"));
        }
    }
    if name.is_empty() {
        return Some("name part must be non-empty".into());
    }
    if name.len() > 63 {
        return Some("name part must be no more than 63 characters".into());
    }
    if !is_name_part(name) {
        return Some(NAME_PART_MSG.into());
    }
    None
}

fn label_value_error(v: &str) -> Option<String> {
    if v.len() > 63 {
        Some("must be no more than 63 characters".into())
    } else if !v.is_empty() && !is_name_part(v) {
        Some(LABEL_VALUE_MSG.into())
    } else {
        None
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Decoding checks (400): apiVersion/kind present and served here, metadata well typed.
fn check_object(res: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
    let Value::Object(m) = obj else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = m.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() {
        return Err(ApiError::bad_request(
            "Object 'Kind' is missing in the request body",
        ));
    }
    if api_version.is_empty() {
        return Err(ApiError::bad_request(
            "Object 'apiVersion' is missing in the request body",
        ));
    }
    if api_version != res.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            res.api_version()
        )));
    }
    if kind != res.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            res.kind
        )));
    }
    let Some(meta) = m.get("metadata") else {
        return Ok(());
    };
    let Some(meta) = meta.as_object() else {
        return Err(ApiError::bad_request(format!(
            "json: cannot unmarshal {} into Go struct field {}.metadata of type v1.ObjectMeta",
            json_type(meta),
            res.kind
        )));
    };
    for f in [
        "name",
        "generateName",
        "namespace",
        "resourceVersion",
        "uid",
    ] {
        if let Some(v) = meta.get(f).filter(|v| !v.is_string()) {
            return Err(ApiError::bad_request(format!(
                "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{f} of type string",
                json_type(v)
            )));
        }
    }
    for f in ["labels", "annotations"] {
        match meta.get(f) {
            None => {}
            Some(Value::Object(map)) => {
                if let Some(v) = map.values().find(|v| !v.is_string()) {
                    return Err(ApiError::bad_request(format!(
                        "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{f} of type string",
                        json_type(v)
                    )));
                }
            }
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{f} of type map[string]string",
                    json_type(v)
                )));
            }
        }
    }
    Ok(())
}

/// The body names the object of the URL (400 otherwise).
fn check_identity(t: &Target, name: &str, obj: &Value, require_name: bool) -> Result<(), ApiError> {
    let body_name = str_at(obj, "/metadata/name").unwrap_or("");
    if (require_name || !body_name.is_empty()) && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if t.res.namespaced
        && let Some(ns) = str_at(obj, "/metadata/namespace").filter(|s| !s.is_empty())
        && Some(ns) != t.ns.as_deref()
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// `metadata.resourceVersion` and `metadata.uid` in a write body are preconditions.
fn check_preconditions(
    res: &ResourceDef,
    name: &str,
    live: &Value,
    incoming: &Value,
) -> Result<(), ApiError> {
    let live_rv = str_at(live, "/metadata/resourceVersion").unwrap_or("");
    if let Some(rv) = str_at(incoming, "/metadata/resourceVersion").filter(|s| !s.is_empty())
        && rv != live_rv
    {
        return Err(ApiError::modified(res, name));
    }
    let live_uid = str_at(live, "/metadata/uid").unwrap_or("");
    if let Some(uid) = str_at(incoming, "/metadata/uid").filter(|s| !s.is_empty())
        && uid != live_uid
    {
        return Err(ApiError::conflict(
            res,
            name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {live_uid}"
            ),
        ));
    }
    Ok(())
}

fn immutable(field: &str, new: Option<&Value>, old: Option<&Value>, out: &mut Vec<FieldError>) {
    if new != old {
        out.push(FieldError::invalid(
            field,
            new.unwrap_or(&Value::Null),
            "field is immutable",
        ));
    }
}

/// Validation of a main-resource write (422 causes).
fn validate(res: &ResourceDef, name: &str, old: Option<&Value>, new: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if old.is_none()
        && let Some(why) = name_error(res, name)
    {
        errs.push(FieldError::invalid(
            "metadata.name",
            &Value::from(name),
            &why,
        ));
    }
    for f in ["labels", "annotations"] {
        let Some(map) = new
            .pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (k, v) in map {
            if let Some(why) = qualified_name_error(k) {
                errs.push(FieldError::invalid(
                    format!("metadata.{f}"),
                    &Value::from(k.as_str()),
                    &why,
                ));
            }
            if f == "labels"
                && let Some(why) = v.as_str().and_then(label_value_error)
            {
                errs.push(FieldError::invalid("metadata.labels", v, &why));
            }
        }
    }
    let spec = |v: &Value, p: &str| v.pointer(&format!("/spec{p}")).cloned();
    match (res.group, res.kind) {
        ("", "ConfigMap") | ("", "Secret") => {
            let is_secret = res.kind == "Secret";
            let mut size = 0usize;
            for field in ["data", "binaryData"] {
                let Some(map) = new.get(field).and_then(Value::as_object) else {
                    continue;
                };
                for (k, v) in map {
                    if k.len() > 253
                        || !k
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
                    {
                        errs.push(FieldError::invalid(
                            format!("{field}[{k}]"),
                            &Value::from(k.as_str()),
                            CONFIG_KEY_MSG,
                        ));
                    }
                    let text = v.as_str().unwrap_or("");
                    size += k.len()
                        + if is_secret || field == "binaryData" {
                            text.len() / 4 * 3
                        } else {
                            text.len()
                        };
                }
            }
            if size > MAX_DATA_BYTES {
                errs.push(FieldError {
                    reason: "FieldValueTooLong",
                    field: "data".into(),
                    detail: format!("Too long: must have at most {MAX_DATA_BYTES} bytes"),
                });
            }
            if let Some(old) = old
                && old.get("immutable") == Some(&Value::Bool(true))
            {
                for field in ["data", "binaryData"] {
                    if new.get(field) != old.get(field) {
                        errs.push(FieldError::forbidden(
                            field,
                            "field is immutable when `immutable` is set",
                        ));
                    }
                }
                if new.get("immutable") != Some(&Value::Bool(true)) {
                    errs.push(FieldError::forbidden(
                        "immutable",
                        "field is immutable when `immutable` is set",
                    ));
                }
            }
        }
        ("apps", "Deployment")
        | ("apps", "StatefulSet")
        | ("apps", "DaemonSet")
        | ("apps", "ReplicaSet") => {
            let selector = new.pointer("/spec/selector");
            let match_labels = selector
                .and_then(|s| s.get("matchLabels"))
                .and_then(Value::as_object);
            let has_expr = selector
                .and_then(|s| s.get("matchExpressions"))
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if match_labels.is_none_or(Map::is_empty) && !has_expr {
                errs.push(FieldError::required("spec.selector", ""));
            } else if let Some(ml) = match_labels {
                let tl = new.pointer("/spec/template/metadata/labels");
                let ok = ml.iter().all(|(k, v)| tl.and_then(|t| t.get(k)) == Some(v));
                if !ok {
                    errs.push(FieldError::invalid(
                        "spec.template.metadata.labels",
                        tl.unwrap_or(&Value::Null),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            if let Some(old) = old {
                if res.kind == "StatefulSet" {
                    let strip = |v: &Value| {
                        let mut s = v.get("spec").cloned().unwrap_or(json!({}));
                        if let Value::Object(m) = &mut s {
                            for k in [
                                "replicas",
                                "ordinals",
                                "template",
                                "updateStrategy",
                                "persistentVolumeClaimRetentionPolicy",
                                "minReadySeconds",
                            ] {
                                m.shift_remove(k);
                            }
                        }
                        s
                    };
                    if strip(new) != strip(old) {
                        errs.push(FieldError::forbidden(
                            "spec",
                            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                        ));
                    }
                } else {
                    immutable(
                        "spec.selector",
                        spec(new, "/selector").as_ref(),
                        spec(old, "/selector").as_ref(),
                        &mut errs,
                    );
                }
            }
        }
        ("batch", "Job") => {
            if let Some(old) = old {
                immutable(
                    "spec.selector",
                    spec(new, "/selector").as_ref(),
                    spec(old, "/selector").as_ref(),
                    &mut errs,
                );
                immutable(
                    "spec.template",
                    spec(new, "/template").as_ref(),
                    spec(old, "/template").as_ref(),
                    &mut errs,
                );
                immutable(
                    "spec.completions",
                    spec(new, "/completions").as_ref(),
                    spec(old, "/completions").as_ref(),
                    &mut errs,
                );
            }
        }
        ("", "Service") => {
            let ip = |v: &Value| {
                str_at(v, "/spec/clusterIP")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            if let Some(old) = old
                && let (Some(n), Some(o)) = (ip(new), ip(old))
                && n != o
            {
                errs.push(FieldError::invalid(
                    "spec.clusterIP",
                    &Value::from(n),
                    "field is immutable",
                ));
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(old) = old {
                let strip = |v: &Value| {
                    let mut s = v.get("spec").cloned().unwrap_or(json!({}));
                    remove_path(&mut s, &["resources".to_string(), "requests".to_string()]);
                    if let Value::Object(m) = &mut s {
                        m.shift_remove("volumeAttributesClassName");
                        m.shift_remove("volumeName");
                    }
                    s
                };
                if strip(new) != strip(old) {
                    errs.push(FieldError::forbidden(
                        "spec",
                        "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
                    ));
                }
            }
        }
        _ => {}
    }
    errs
}

// ------------------------------------------------------------------------------------------
// Selectors
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        match self {
            Requirement::Eq(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEq(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        }
    }
}

fn parse_label_selector(s: &str) -> Result<Vec<Requirement>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                if depth == 0 {
                    return Err("found ')', expected: identifier".into());
                }
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if depth != 0 {
        return Err("found end of string, expected: ')'".into());
    }
    parts.push(cur);
    parts.iter().map(|p| parse_requirement(p.trim())).collect()
}

fn parse_requirement(p: &str) -> Result<Requirement, String> {
    let key = |k: &str| -> Result<String, String> {
        let k = k.trim();
        if k.is_empty() {
            return Err("found '', expected: identifier".into());
        }
        match qualified_name_error(k) {
            Some(why) => Err(format!("key: Invalid value: {}: {why}", Value::from(k))),
            None => Ok(k.to_string()),
        }
    };
    let value = |v: &str| -> Result<String, String> {
        let v = v.trim();
        match label_value_error(v) {
            Some(why) => Err(format!(
                "values[0][{v}]: Invalid value: {}: {why}",
                Value::from(v)
            )),
            None => Ok(v.to_string()),
        }
    };
    if p.is_empty() {
        return Err("found '', expected: identifier".into());
    }
    if let Some(k) = p.strip_prefix('!') {
        return Ok(Requirement::NotExists(key(k)?));
    }
    if let Some(open) = p.find('(') {
        let Some(inner) = p[open + 1..].strip_suffix(')') else {
            return Err(format!("found '{p}', expected: ')'"));
        };
        let mut head = p[..open].split_whitespace();
        let (Some(k), Some(op), None) = (head.next(), head.next(), head.next()) else {
            return Err(format!("unable to parse requirement {p:?}"));
        };
        let values: Vec<String> = inner.split(',').map(value).collect::<Result<_, _>>()?;
        if values.iter().all(String::is_empty) {
            return Err("for 'in', 'notin' operators, values set can't be empty".into());
        }
        return match op {
            "in" => Ok(Requirement::In(key(k)?, values)),
            "notin" => Ok(Requirement::NotIn(key(k)?, values)),
            other => Err(format!("found '{other}', expected: in, notin")),
        };
    }
    if let Some((k, v)) = p.split_once("!=") {
        return Ok(Requirement::NotEq(key(k)?, value(v)?));
    }
    if let Some((k, v)) = p.split_once("==") {
        return Ok(Requirement::Eq(key(k)?, value(v)?));
    }
    if let Some((k, v)) = p.split_once('=') {
        return Ok(Requirement::Eq(key(k)?, value(v)?));
    }
    if p.contains(['<', '>', ' ']) {
        return Err(format!("unable to parse requirement {p:?}"));
    }
    Ok(Requirement::Exists(key(p)?))
}

/// (field, equal?, value) for `metadata.name` and `metadata.namespace`.
fn parse_field_selector(s: &str) -> Result<Vec<(String, bool, String)>, ApiError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (f, eq, v) = if let Some((f, v)) = part.split_once("!=") {
            (f, false, v)
        } else if let Some((f, v)) = part.split_once("==") {
            (f, true, v)
        } else if let Some((f, v)) = part.split_once('=') {
            (f, true, v)
        } else {
            return Err(ApiError::bad_request(format!(
                "invalid field selector: invalid selector: '{s}'; can't understand '{part}'"
            )));
        };
        let f = f.trim();
        if f != "metadata.name" && f != "metadata.namespace" {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {f}"
            )));
        }
        out.push((f.to_string(), eq, v.trim().to_string()));
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// Requests
// ------------------------------------------------------------------------------------------

/// A resource path: the resource, its namespace, the object name and the subresource.
#[derive(Debug)]
struct Target {
    res: &'static ResourceDef,
    ns: Option<String>,
    name: Option<String>,
    sub: Sub,
}

impl Target {
    fn ns(&self) -> Option<&str> {
        if self.res.namespaced {
            self.ns.as_deref()
        } else {
            None
        }
    }

    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    fn key(&self) -> Key {
        key(self.res, self.ns(), self.name())
    }
}

fn media_type(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// JSON first (JSON is YAML), then YAML.
fn parse_json_or_yaml(body: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
    crate::yaml::from_str::<Value>("request body", text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
}

/// The body of a create or replace: a JSON (or YAML) object, nulls dropped.
fn decode_object(content_type: Option<&str>, body: &[u8]) -> Result<Value, ApiError> {
    let media = media_type(content_type);
    let mut v = match media.as_str() {
        "" | "application/json" | "*/*" => parse_json(body)?,
        "application/yaml" => parse_json_or_yaml(body)?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    strip_nulls(&mut v);
    Ok(v)
}

fn dry_run(q: &Query) -> Result<bool, ApiError> {
    match q.get("dryRun").map(String::as_str) {
        None => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dryRun value: {other:?}: supported values: \"All\""
        ))),
    }
}

fn field_manager(q: &Query) -> String {
    q.get("fieldManager")
        .filter(|m| !m.is_empty())
        .cloned()
        .unwrap_or_else(|| "unknown".to_string())
}

struct DeleteOpts {
    dry_run: bool,
    policy: String,
    resource_version: Option<String>,
    uid: Option<String>,
}

fn delete_options(q: &Query, body: &[u8]) -> Result<DeleteOpts, ApiError> {
    let opts = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        parse_json(body)?
    };
    if !opts.is_object() {
        return Err(ApiError::bad_request("DeleteOptions must be a JSON object"));
    }
    let mut dry = dry_run(q)?;
    if let Some(d) = opts.get("dryRun") {
        let Some(values) = d.as_array() else {
            return Err(ApiError::bad_request("DeleteOptions.dryRun must be a list"));
        };
        for v in values {
            match v.as_str() {
                Some("All") => dry = true,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid dryRun value: {v}: supported values: \"All\""
                    )));
                }
            }
        }
    }
    let orphan = opts.get("orphanDependents") == Some(&Value::Bool(true))
        || q.get("orphanDependents").is_some_and(|v| v == "true");
    let policy = opts
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| q.get("propagationPolicy").cloned())
        .or_else(|| orphan.then(|| "Orphan".to_string()))
        .unwrap_or_else(|| "Background".to_string());
    const POLICIES: &[&str] = &["Foreground", "Background", "Orphan"];
    if !POLICIES.contains(&policy.as_str()) {
        return Err(ApiError::invalid_options(
            "DeleteOptions",
            vec![FieldError::unsupported(
                "propagationPolicy",
                &Value::from(policy),
                POLICIES,
            )],
        ));
    }
    let text = |p: &str| opts.pointer(p).and_then(Value::as_str).map(str::to_string);
    Ok(DeleteOpts {
        dry_run: dry,
        policy,
        resource_version: text("/preconditions/resourceVersion"),
        uid: text("/preconditions/uid"),
    })
}

fn owned_by(obj: &Value, uid: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
        })
}

impl Store {
    fn next_rand(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn new_uid(&mut self) -> String {
        let a = self.next_rand();
        let b = self.next_rand();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// Five characters, as `generateName` appends.
    fn random_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..5)
            .map(|_| ALPHABET[(self.next_rand() % ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.objects.contains_key(&key(namespaces_def(), None, ns))
    }

    /// Sets the namespace of a body for the target path (400 on a mismatch); cluster-scoped
    /// objects lose any namespace.
    fn namespace_for_write(t: &Target, obj: &mut Value) -> Result<Option<String>, ApiError> {
        if !t.res.namespaced {
            meta_mut(obj).shift_remove("namespace");
            return Ok(None);
        }
        let Some(ns) = t.ns.clone() else {
            return Err(ApiError::method_not_allowed());
        };
        if let Some(b) = str_at(obj, "/metadata/namespace").filter(|s| !s.is_empty())
            && b != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        meta_mut(obj).insert("namespace".into(), ns.clone().into());
        Ok(Some(ns))
    }

    // --- reads ----------------------------------------------------------------------------

    fn get(&self, t: &Target) -> Reply {
        self.objects
            .get(&t.key())
            .map(|s| (200, s.obj.clone()))
            .ok_or_else(|| ApiError::not_found(t.res, t.name()))
    }

    /// The keys a list or deletecollection addresses, and whether a selector filtered them.
    fn select(&self, t: &Target, q: &Query) -> Result<(Vec<Key>, bool), ApiError> {
        let label_text = q.get("labelSelector").map(String::as_str).unwrap_or("");
        let labels = parse_label_selector(label_text)
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
        let fields =
            parse_field_selector(q.get("fieldSelector").map(String::as_str).unwrap_or(""))?;
        let filtered = !labels.is_empty() || !fields.is_empty();
        let ns = t.ns();
        let keys = self
            .objects
            .iter()
            .filter(|(k, _)| k.0 == t.res.group && k.1 == t.res.plural)
            .filter(|(k, _)| ns.is_none_or(|n| k.2 == n))
            .filter(|(_, s)| {
                let l = s.obj.pointer("/metadata/labels").and_then(Value::as_object);
                labels.iter().all(|r| r.matches(l))
            })
            .filter(|(k, _)| {
                fields.iter().all(|(f, eq, v)| {
                    let actual = if f == "metadata.name" { &k.3 } else { &k.2 };
                    (actual == v) == *eq
                })
            })
            .map(|(k, _)| k.clone())
            .collect();
        Ok((keys, filtered))
    }

    fn list(&self, t: &Target, q: &Query) -> Reply {
        if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "watch is not supported by this fake API server",
            ));
        }
        let (mut keys, filtered) = self.select(t, q)?;
        if let Some(token) = q.get("continue").filter(|c| !c.is_empty()) {
            let start = decode_continue(token)?;
            keys.retain(|k| (k.2.as_str(), k.3.as_str()) > (start.0.as_str(), start.1.as_str()));
        }
        let limit: usize = match q.get("limit").map(String::as_str) {
            None | Some("") => 0,
            Some(l) => l
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?,
        };
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), self.rv.to_string().into());
        if limit > 0 && keys.len() > limit {
            let remaining = keys.len() - limit;
            keys.truncate(limit);
            if let Some(last) = keys.last() {
                meta.insert(
                    "continue".into(),
                    encode_continue(self.rv, &last.2, &last.3).into(),
                );
            }
            if !filtered {
                meta.insert("remainingItemCount".into(), remaining.into());
            }
        }
        let items: Vec<Value> = keys
            .iter()
            .filter_map(|k| self.objects.get(k))
            .map(|s| list_item(&s.obj))
            .collect();
        Ok((
            200,
            json!({
                "kind": format!("{}List", t.res.kind),
                "apiVersion": t.res.api_version(),
                "metadata": meta,
                "items": items,
            }),
        ))
    }

    // --- writes ---------------------------------------------------------------------------

    fn create(&mut self, t: &Target, q: &Query, ct: Option<&str>, body: &[u8], now: &str) -> Reply {
        let dry_run = dry_run(q)?;
        let mut obj = decode_object(ct, body)?;
        check_object(t.res, &obj)?;
        let ns = Self::namespace_for_write(t, &mut obj)?;
        if let Some(ns) = &ns
            && !self.namespace_exists(ns)
        {
            return Err(ApiError::namespace_not_found(ns));
        }
        let name = match str_at(&obj, "/metadata/name").filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => match str_at(&obj, "/metadata/generateName").filter(|g| !g.is_empty()) {
                Some(g) => {
                    let g = g.to_string();
                    format!("{g}{}", self.random_suffix())
                }
                None => {
                    return Err(ApiError::invalid(
                        t.res,
                        "",
                        vec![FieldError::required(
                            "metadata.name",
                            "name or generateName is required",
                        )],
                    ));
                }
            },
        };
        meta_mut(&mut obj).insert("name".into(), name.clone().into());
        if let Some(why) = name_error(t.res, &name) {
            return Err(ApiError::invalid(
                t.res,
                &name,
                vec![FieldError::invalid(
                    "metadata.name",
                    &Value::from(name.as_str()),
                    &why,
                )],
            ));
        }
        let k = key(t.res, ns.as_deref(), &name);
        if self.objects.contains_key(&k) {
            return Err(ApiError::already_exists(t.res, &name));
        }
        normalize_input(t.res, &mut obj)?;
        obj_mut(&mut obj).shift_remove("status");
        let w = Write {
            res: t.res,
            ns: ns.as_deref(),
            name: &name,
            sub: Sub::Main,
            dry_run,
            validate: true,
            now,
        };
        let (written, out) = self.update_object(&w, None, obj, &field_manager(q))?;
        if written {
            self.reconcile(&k, now);
        }
        Ok((201, out))
    }

    fn replace(
        &mut self,
        t: &Target,
        q: &Query,
        ct: Option<&str>,
        body: &[u8],
        now: &str,
    ) -> Reply {
        let dry_run = dry_run(q)?;
        let mut obj = decode_object(ct, body)?;
        check_object(t.res, &obj)?;
        check_identity(t, t.name(), &obj, true)?;
        Self::namespace_for_write(t, &mut obj)?;
        let old = self
            .objects
            .get(&t.key())
            .cloned()
            .ok_or_else(|| ApiError::not_found(t.res, t.name()))?;
        check_preconditions(t.res, t.name(), &old.obj, &obj)?;
        let out = self.finish_update(t, q, old, obj, dry_run, now)?;
        Ok((200, out))
    }

    /// Replace, merge patch and JSON patch end here: the incoming object replaces the main
    /// resource (status kept) or only the status.
    fn finish_update(
        &mut self,
        t: &Target,
        q: &Query,
        old: Stored,
        incoming: Value,
        dry_run: bool,
        now: &str,
    ) -> Result<Value, ApiError> {
        let new = match t.sub {
            Sub::Main => {
                let mut n = incoming;
                normalize_input(t.res, &mut n)?;
                let m = obj_mut(&mut n);
                match old.obj.get("status") {
                    Some(s) => {
                        m.insert("status".into(), s.clone());
                    }
                    None => {
                        m.shift_remove("status");
                    }
                }
                n
            }
            Sub::Status => {
                let mut n = old.obj.clone();
                let m = obj_mut(&mut n);
                match incoming.get("status") {
                    Some(s) => {
                        m.insert("status".into(), s.clone());
                    }
                    None => {
                        m.shift_remove("status");
                    }
                }
                n
            }
        };
        let w = Write {
            res: t.res,
            ns: t.ns(),
            name: t.name(),
            sub: t.sub,
            dry_run,
            validate: true,
            now,
        };
        let (written, out) = self.update_object(&w, Some(&old), new, &field_manager(q))?;
        if written && t.sub == Sub::Main {
            self.reconcile(&t.key(), now);
        }
        Ok(out)
    }

    fn patch(&mut self, t: &Target, q: &Query, ct: Option<&str>, body: &[u8], now: &str) -> Reply {
        let dry_run = dry_run(q)?;
        let media = media_type(ct);
        let force = match q.get("force").map(String::as_str) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "invalid value for force: {other:?}"
                )));
            }
        };
        let is_apply = media == "application/apply-patch+yaml";
        if force.is_some() && !is_apply {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                vec![FieldError::forbidden(
                    "force",
                    "may not be specified for non-apply patch",
                )],
            ));
        }
        match media.as_str() {
            "application/apply-patch+yaml" => {
                self.apply(t, q, body, force.unwrap_or(false), dry_run, now)
            }
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                let patch = parse_json(body)?;
                if !patch.is_object() {
                    return Err(ApiError::bad_request("the patch must be a JSON object"));
                }
                self.patch_existing(t, q, dry_run, now, |doc| {
                    merge_patch(doc, &patch);
                    Ok(())
                })
            }
            "application/json-patch+json" => {
                let Value::Array(ops) = parse_json(body)? else {
                    return Err(ApiError::bad_request(
                        "a JSON patch must be a list of operations",
                    ));
                };
                self.patch_existing(t, q, dry_run, now, |doc| {
                    json_patch(doc, &ops).map_err(|e| {
                        ApiError::unprocessable(format!(
                            "the server rejected our request due to an error in our request: {e}"
                        ))
                    })
                })
            }
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }

    fn patch_existing(
        &mut self,
        t: &Target,
        q: &Query,
        dry_run: bool,
        now: &str,
        f: impl FnOnce(&mut Value) -> Result<(), ApiError>,
    ) -> Reply {
        let old = self
            .objects
            .get(&t.key())
            .cloned()
            .ok_or_else(|| ApiError::not_found(t.res, t.name()))?;
        let mut doc = old.obj.clone();
        f(&mut doc)?;
        strip_nulls(&mut doc);
        check_object(t.res, &doc)?;
        check_identity(t, t.name(), &doc, true)?;
        check_preconditions(t.res, t.name(), &old.obj, &doc)?;
        let out = self.finish_update(t, q, old, doc, dry_run, now)?;
        Ok((200, out))
    }

    fn apply(
        &mut self,
        t: &Target,
        q: &Query,
        body: &[u8],
        force: bool,
        dry_run: bool,
        now: &str,
    ) -> Reply {
        let Some(manager) = q.get("fieldManager").filter(|m| !m.is_empty()) else {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                vec![FieldError::required(
                    "fieldManager",
                    "is required for apply patch",
                )],
            ));
        };
        let mut cfg = parse_json_or_yaml(body)?;
        if !cfg.is_object() {
            return Err(ApiError::bad_request(
                "the apply configuration must be an object",
            ));
        }
        strip_nulls(&mut cfg);
        check_object(t.res, &cfg)?;
        check_identity(t, t.name(), &cfg, false)?;
        let k = t.key();
        let old = self.objects.get(&k).cloned();
        match &old {
            Some(o) => check_preconditions(t.res, t.name(), &o.obj, &cfg)?,
            None => {
                if t.sub == Sub::Status {
                    return Err(ApiError::not_found(t.res, t.name()));
                }
                if str_at(&cfg, "/metadata/resourceVersion").is_some_and(|s| !s.is_empty()) {
                    return Err(ApiError::modified(t.res, t.name()));
                }
                if let Some(ns) = t.ns()
                    && !self.namespace_exists(ns)
                {
                    return Err(ApiError::namespace_not_found(ns));
                }
            }
        }
        if t.sub == Sub::Main {
            normalize_input(t.res, &mut cfg)?;
        }
        let view = managed_view(&cfg, t.sub);
        let live = match &old {
            Some(o) => o.obj.clone(),
            None => json!({
                "apiVersion": t.res.api_version(),
                "kind": t.res.kind,
                "metadata": {"name": t.name()},
            }),
        };
        let managers = old.as_ref().map(|o| o.managers.clone()).unwrap_or_default();
        let (new_obj, managers) = ssa_apply(
            &live,
            managers,
            &view,
            manager,
            t.sub,
            force,
            &t.res.api_version(),
            now,
        )
        .map_err(apply_conflict_error)?;
        let w = Write {
            res: t.res,
            ns: t.ns(),
            name: t.name(),
            sub: t.sub,
            dry_run,
            validate: true,
            now,
        };
        let (written, out) = self.commit(&w, old.as_ref(), new_obj, managers)?;
        if written && t.sub == Sub::Main {
            self.reconcile(&k, now);
        }
        Ok((if old.is_none() { 201 } else { 200 }, out))
    }

    fn delete(&mut self, t: &Target, q: &Query, body: &[u8], now: &str) -> Reply {
        let opts = delete_options(q, body)?;
        let k = t.key();
        let old = self
            .objects
            .get(&k)
            .cloned()
            .ok_or_else(|| ApiError::not_found(t.res, t.name()))?;
        let live_uid = str_at(&old.obj, "/metadata/uid").unwrap_or("").to_string();
        let live_rv = str_at(&old.obj, "/metadata/resourceVersion")
            .unwrap_or("")
            .to_string();
        if let Some(uid) = &opts.uid
            && *uid != live_uid
        {
            return Err(ApiError::conflict(
                t.res,
                t.name(),
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {live_uid}"
                ),
            ));
        }
        if let Some(rv) = &opts.resource_version
            && *rv != live_rv
        {
            return Err(ApiError::conflict(
                t.res,
                t.name(),
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {live_rv}"
                ),
            ));
        }
        self.delete_one(t.res, &k, old, &opts, now)
    }

    fn delete_one(
        &mut self,
        res: &'static ResourceDef,
        k: &Key,
        old: Stored,
        opts: &DeleteOpts,
        now: &str,
    ) -> Reply {
        if res.is("", "Namespace") {
            let mut out = old.obj.clone();
            meta_mut(&mut out).insert("deletionTimestamp".into(), now.into());
            set_path(
                &mut out,
                &["status".to_string(), "phase".to_string()],
                "Terminating".into(),
            );
            if !opts.dry_run {
                self.remove_object(k, &opts.policy);
            }
            return Ok((200, canonicalize(out)));
        }
        let finalizers = old
            .obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if finalizers {
            if old.obj.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok((202, old.obj));
            }
            let mut out = old.obj.clone();
            let m = meta_mut(&mut out);
            m.insert("deletionTimestamp".into(), now.into());
            m.insert("deletionGracePeriodSeconds".into(), 0.into());
            if opts.dry_run {
                return Ok((200, canonicalize(out)));
            }
            self.rv += 1;
            meta_mut(&mut out).insert("resourceVersion".into(), self.rv.to_string().into());
            let out = canonicalize(out);
            self.objects.insert(
                k.clone(),
                Stored {
                    obj: out.clone(),
                    managers: old.managers,
                },
            );
            return Ok((202, out));
        }
        if !opts.dry_run {
            self.remove_object(k, &opts.policy);
        }
        if res.is("", "Pod") {
            return Ok((200, old.obj));
        }
        let mut details = resource_details(res, &k.3);
        details.insert(
            "uid".into(),
            str_at(&old.obj, "/metadata/uid").unwrap_or("").into(),
        );
        Ok((
            200,
            json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": details,
            }),
        ))
    }

    fn delete_collection(&mut self, t: &Target, q: &Query, body: &[u8], now: &str) -> Reply {
        if t.res.is("", "Namespace") || (t.res.namespaced && t.ns.is_none()) {
            return Err(ApiError::method_not_allowed());
        }
        let opts = delete_options(q, body)?;
        let (keys, _) = self.select(t, q)?;
        let mut items = Vec::new();
        for k in keys {
            if let Some(old) = self.objects.get(&k).cloned() {
                items.push(list_item(&old.obj));
                self.delete_one(t.res, &k, old, &opts, now)?;
            }
        }
        Ok((
            200,
            json!({
                "kind": format!("{}List", t.res.kind),
                "apiVersion": t.res.api_version(),
                "metadata": {"resourceVersion": self.rv.to_string()},
                "items": items,
            }),
        ))
    }

    /// Removes an object now, with what depends on it: a Namespace's content, and objects
    /// whose ownerReferences name it (orphaned instead with the `Orphan` policy).
    fn remove_object(&mut self, k: &Key, policy: &str) {
        let Some(stored) = self.objects.remove(k) else {
            return;
        };
        self.rv += 1;
        if k.0.is_empty() && k.1 == "namespaces" {
            let content: Vec<Key> = self
                .objects
                .keys()
                .filter(|o| o.2 == k.3)
                .cloned()
                .collect();
            for c in content {
                self.objects.remove(&c);
            }
        }
        let uid = str_at(&stored.obj, "/metadata/uid")
            .unwrap_or("")
            .to_string();
        if uid.is_empty() {
            return;
        }
        let dependents: Vec<Key> = self
            .objects
            .iter()
            .filter(|(_, s)| owned_by(&s.obj, &uid))
            .map(|(d, _)| d.clone())
            .collect();
        for d in dependents {
            if policy == "Orphan" {
                self.rv += 1;
                let rv = self.rv.to_string();
                if let Some(s) = self.objects.get_mut(&d) {
                    let m = meta_mut(&mut s.obj);
                    if let Some(Value::Array(refs)) = m.get_mut("ownerReferences") {
                        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                        if refs.is_empty() {
                            m.shift_remove("ownerReferences");
                        }
                    }
                    m.insert("resourceVersion".into(), rv.into());
                }
            } else {
                self.remove_object(&d, "Background");
            }
        }
    }

    // --- the write path -------------------------------------------------------------------

    /// An Update-operation write (create, replace, patches, controllers): ownership moves to
    /// `manager` for the fields that changed, then [`Store::commit`].
    fn update_object(
        &mut self,
        w: &Write,
        old: Option<&Stored>,
        new_obj: Value,
        manager: &str,
    ) -> Result<(bool, Value), ApiError> {
        let old_view = old.map_or_else(|| json!({}), |o| managed_view(&o.obj, w.sub));
        let new_view = managed_view(&new_obj, w.sub);
        let managers = update_managers(
            old.map(|o| o.managers.clone()).unwrap_or_default(),
            &old_view,
            &new_view,
            manager,
            w.sub,
            &w.res.api_version(),
            w.now,
        );
        self.commit(w, old, new_obj, managers)
    }

    /// Bookkeeping, server behaviours, validation, generation, managedFields; then stores the
    /// object unless it is a dry run or nothing changed. True when something was written.
    fn commit(
        &mut self,
        w: &Write,
        old: Option<&Stored>,
        mut obj: Value,
        managers: Vec<ManagerEntry>,
    ) -> Result<(bool, Value), ApiError> {
        let m = obj_mut(&mut obj);
        m.insert("apiVersion".into(), w.res.api_version().into());
        m.insert("kind".into(), w.res.kind.into());
        let uid = match old {
            Some(_) => None,
            None => Some(self.new_uid()),
        };
        {
            let meta = meta_mut(&mut obj);
            meta.insert("name".into(), w.name.into());
            match w.ns {
                Some(ns) => {
                    meta.insert("namespace".into(), ns.into());
                }
                None => {
                    meta.shift_remove("namespace");
                }
            }
            meta.shift_remove("managedFields");
            meta.shift_remove("selfLink");
            const KEPT: &[&str] = &[
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ];
            for k in KEPT {
                match old.and_then(|o| o.obj.pointer(&format!("/metadata/{k}"))) {
                    Some(v) => {
                        meta.insert((*k).into(), v.clone());
                    }
                    None => {
                        meta.shift_remove(*k);
                    }
                }
            }
            if let Some(uid) = uid {
                meta.insert("uid".into(), uid.into());
                meta.insert("creationTimestamp".into(), w.now.into());
                meta.insert("generation".into(), 1.into());
            }
        }
        if w.validate && w.sub == Sub::Main {
            let errs = validate(w.res, w.name, old.map(|o| &o.obj), &obj);
            if !errs.is_empty() {
                return Err(ApiError::invalid(w.res, w.name, errs));
            }
            self.normalize_output(w, old.map(|o| &o.obj), &mut obj);
        }
        if let Some(o) = old
            && spec_content(&o.obj) != spec_content(&obj)
        {
            let g = o
                .obj
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut obj).insert("generation".into(), (g + 1).into());
        }
        let rendered: Vec<Value> = managers.iter().map(ManagerEntry::to_json).collect();
        if !rendered.is_empty() {
            meta_mut(&mut obj).insert("managedFields".into(), rendered.into());
        }
        let obj = canonicalize(obj);
        if let Some(o) = old {
            let bare = |v: &Value| {
                let mut v = v.clone();
                meta_mut(&mut v).shift_remove("managedFields");
                v
            };
            if bare(&o.obj) == bare(&obj) && same_managers(&o.managers, &managers) {
                return Ok((false, o.obj.clone()));
            }
        }
        if w.dry_run {
            return Ok((false, obj));
        }
        self.rv += 1;
        let mut obj = obj;
        meta_mut(&mut obj).insert("resourceVersion".into(), self.rv.to_string().into());
        let obj = canonicalize(obj);
        let k = w.key();
        let finalized = obj.pointer("/metadata/deletionTimestamp").is_some()
            && obj
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
        self.objects.insert(
            k.clone(),
            Stored {
                obj: obj.clone(),
                managers,
            },
        );
        if finalized {
            self.remove_object(&k, "Background");
        }
        Ok((true, obj))
    }

    /// What the real registry adds on write: Service IPs, ports and defaults, the Namespace
    /// name label and phase, the Secret type.
    fn normalize_output(&mut self, w: &Write, old: Option<&Value>, obj: &mut Value) {
        match (w.res.group, w.res.kind) {
            ("", "Service") => self.normalize_service(old, obj),
            ("", "Namespace") => {
                let meta = meta_mut(obj);
                let labels = obj_mut(
                    meta.entry("labels")
                        .or_insert_with(|| Value::Object(Map::new())),
                );
                labels.insert("kubernetes.io/metadata.name".into(), w.name.into());
                let m = obj_mut(obj);
                let spec = obj_mut(m.entry("spec").or_insert_with(|| json!({})));
                spec.entry("finalizers")
                    .or_insert_with(|| json!(["kubernetes"]));
                if old.is_none() {
                    m.insert("status".into(), json!({"phase": "Active"}));
                }
            }
            ("", "Secret") => {
                obj_mut(obj)
                    .entry("type")
                    .or_insert_with(|| "Opaque".into());
            }
            _ => {}
        }
    }

    fn normalize_service(&mut self, old: Option<&Value>, obj: &mut Value) {
        let used_ips: BTreeSet<String> = self
            .objects
            .iter()
            .filter(|(k, _)| k.0.is_empty() && k.1 == "services")
            .filter_map(|(_, s)| str_at(&s.obj, "/spec/clusterIP").map(str::to_string))
            .collect();
        let mut used_ports: BTreeSet<i64> = self
            .objects
            .iter()
            .filter(|(k, _)| k.0.is_empty() && k.1 == "services")
            .filter(|(_, s)| Some(&s.obj) != old)
            .flat_map(|(_, s)| {
                s.obj
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
            })
            .collect();
        let old_ip = old
            .and_then(|o| str_at(o, "/spec/clusterIP"))
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let old_ports: Vec<Value> = old
            .and_then(|o| o.pointer("/spec/ports"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let m = obj_mut(obj);
        if old.is_none() {
            m.insert("status".into(), json!({"loadBalancer": {}}));
        }
        let spec = obj_mut(m.entry("spec").or_insert_with(|| json!({})));
        let ty = spec
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string();
        spec.insert("type".into(), ty.clone().into());
        if ty != "ExternalName" {
            let ip = match spec
                .get("clusterIP")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                Some(ip) => ip.to_string(),
                None => match old_ip {
                    Some(ip) => ip,
                    None => self.allocate_ip(&used_ips),
                },
            };
            spec.insert("clusterIP".into(), ip.clone().into());
            spec.insert("clusterIPs".into(), json!([ip]));
            spec.entry("ipFamilies").or_insert_with(|| json!(["IPv4"]));
            spec.entry("ipFamilyPolicy")
                .or_insert_with(|| "SingleStack".into());
            spec.entry("internalTrafficPolicy")
                .or_insert_with(|| "Cluster".into());
        }
        spec.entry("sessionAffinity")
            .or_insert_with(|| "None".into());
        if ty == "NodePort" || ty == "LoadBalancer" {
            spec.entry("externalTrafficPolicy")
                .or_insert_with(|| "Cluster".into());
            if ty == "LoadBalancer" {
                spec.entry("allocateLoadBalancerNodePorts")
                    .or_insert(Value::Bool(true));
            }
            if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                for p in ports.iter_mut() {
                    if p.get("nodePort").and_then(Value::as_i64).is_some() {
                        continue;
                    }
                    let same = old_ports.iter().find(|o| {
                        o.get("port") == p.get("port") && o.get("protocol") == p.get("protocol")
                    });
                    let port = match same.and_then(|o| o.get("nodePort")).and_then(Value::as_i64) {
                        Some(n) => n,
                        None => self.allocate_node_port(&used_ports),
                    };
                    used_ports.insert(port);
                    obj_mut(p).insert("nodePort".into(), port.into());
                }
            }
        }
    }

    fn allocate_ip(&mut self, used: &BTreeSet<String>) -> String {
        loop {
            let n = self.next_ip;
            self.next_ip = if n >= 65_000 { 10 } else { n + 1 };
            if n.is_multiple_of(256) || n % 256 == 255 {
                continue;
            }
            let ip = format!("10.96.{}.{}", n / 256, n % 256);
            if !used.contains(&ip) {
                return ip;
            }
        }
    }

    fn allocate_node_port(&mut self, used: &BTreeSet<i64>) -> i64 {
        for _ in 0..=2767 {
            let p = self.next_node_port;
            self.next_node_port = if p >= 32767 { 30000 } else { p + 1 };
            if !used.contains(&i64::from(p)) {
                return i64::from(p);
            }
        }
        i64::from(self.next_node_port)
    }

    // --- test helpers ---------------------------------------------------------------------

    fn create_namespace(&mut self, name: &str, manager: &str, now: &str) -> Result<(), ApiError> {
        let res = namespaces_def();
        let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let w = Write {
            res,
            ns: None,
            name,
            sub: Sub::Main,
            dry_run: false,
            validate: true,
            now,
        };
        self.update_object(&w, None, obj, manager).map(|_| ())
    }

    /// (resource, namespace, name) of a whole object given to a helper; the namespace
    /// defaults to `default`.
    fn identify(obj: &Value) -> Result<(&'static ResourceDef, Option<String>, String), ApiError> {
        let av = str_at(obj, "/apiVersion").unwrap_or("");
        let kind = str_at(obj, "/kind").unwrap_or("");
        let res = find_by_kind(av, kind).ok_or_else(|| {
            ApiError::bad_request(format!(
                "no served resource for apiVersion {av:?} kind {kind:?}"
            ))
        })?;
        let name = str_at(obj, "/metadata/name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::bad_request("metadata.name is required"))?
            .to_string();
        let ns = res.namespaced.then(|| {
            str_at(obj, "/metadata/namespace")
                .filter(|n| !n.is_empty())
                .unwrap_or("default")
                .to_string()
        });
        Ok((res, ns, name))
    }

    fn insert_as_is(&mut self, mut obj: Value, now: &str) -> Result<(), ApiError> {
        strip_nulls(&mut obj);
        let (res, ns, name) = Self::identify(&obj)?;
        if let Some(ns) = &ns
            && !self.namespace_exists(ns)
        {
            self.create_namespace(ns, "test", now)?;
        }
        let k = key(res, ns.as_deref(), &name);
        let old = self.objects.get(&k).cloned();
        let w = Write {
            res,
            ns: ns.as_deref(),
            name: &name,
            sub: Sub::Main,
            dry_run: false,
            validate: false,
            now,
        };
        self.update_object(&w, old.as_ref(), obj, "test")
            .map(|_| ())
    }

    fn apply_helper(&mut self, manager: &str, obj: Value, now: &str) -> Result<(), ApiError> {
        let (res, ns, name) = Self::identify(&obj)?;
        let t = Target {
            res,
            ns,
            name: Some(name),
            sub: Sub::Main,
        };
        let mut q = Query::new();
        q.insert("fieldManager".into(), manager.into());
        let body = serde_json::to_vec(&obj).map_err(|e| ApiError::bad_request(e.to_string()))?;
        self.apply(&t, &q, &body, true, false, now).map(|_| ())
    }

    fn set_status_helper(
        &mut self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        status: Value,
        now: &str,
    ) -> Result<(), ApiError> {
        let res = find_by_kind(api_version, kind).ok_or_else(|| {
            ApiError::bad_request(format!("no served resource for {api_version} {kind}"))
        })?;
        let ns = if res.namespaced { namespace } else { None };
        let old = self
            .objects
            .get(&key(res, ns, name))
            .cloned()
            .ok_or_else(|| ApiError::not_found(res, name))?;
        let mut new = old.obj.clone();
        obj_mut(&mut new).insert("status".into(), status);
        let w = Write {
            res,
            ns,
            name,
            sub: Sub::Status,
            dry_run: false,
            validate: false,
            now,
        };
        self.update_object(&w, Some(&old), new, "test").map(|_| ())
    }
}

/// Input normalization before ownership is computed: Secret `stringData` folded into `data`
/// (and `data` checked as base64), Service port defaults.
fn normalize_input(res: &ResourceDef, obj: &mut Value) -> Result<(), ApiError> {
    match (res.group, res.kind) {
        ("", "Secret") => {
            let m = obj_mut(obj);
            if let Some(sd) = m.shift_remove("stringData") {
                let Value::Object(sd) = sd else {
                    return Err(ApiError::bad_request(
                        "json: cannot unmarshal into Go struct field Secret.stringData of type map[string]string",
                    ));
                };
                let data = obj_mut(m.entry("data").or_insert_with(|| json!({})));
                for (k, v) in sd {
                    let Some(s) = v.as_str() else {
                        return Err(ApiError::bad_request(format!(
                            "json: cannot unmarshal {} into Go struct field Secret.stringData of type string",
                            json_type(&v)
                        )));
                    };
                    data.insert(
                        k,
                        base64::engine::general_purpose::STANDARD.encode(s).into(),
                    );
                }
            }
            if let Some(data) = m.get("data") {
                let Some(data) = data.as_object() else {
                    return Err(ApiError::bad_request(
                        "json: cannot unmarshal into Go struct field Secret.data of type map[string][]uint8",
                    ));
                };
                for (k, v) in data {
                    let ok = v.as_str().is_some_and(|s| {
                        base64::engine::general_purpose::STANDARD.decode(s).is_ok()
                    });
                    if !ok {
                        return Err(ApiError::bad_request(format!(
                            "illegal base64 data in Secret.data[{k}]"
                        )));
                    }
                }
            }
        }
        ("", "Service") => {
            if let Some(Value::Array(ports)) = obj.pointer_mut("/spec/ports") {
                for p in ports.iter_mut() {
                    if let Value::Object(pm) = p {
                        pm.entry("protocol").or_insert_with(|| "TCP".into());
                        if !pm.contains_key("targetPort")
                            && let Some(port) = pm.get("port").cloned()
                        {
                            pm.insert("targetPort".into(), port);
                        }
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{ns}/{name}\u{0}")});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    let start = start.trim_end_matches('\u{0}');
    let (ns, name) = start.split_once('/').ok_or_else(bad)?;
    Ok((ns.to_string(), name.to_string()))
}

// ------------------------------------------------------------------------------------------
// Controllers
// ------------------------------------------------------------------------------------------

/// Which timestamps a condition carries.
#[derive(Clone, Copy)]
enum CondStyle {
    /// Deployments: lastUpdateTime and lastTransitionTime.
    Update,
    /// Jobs and Pods: lastProbeTime (null) and lastTransitionTime.
    Probe,
}

/// A condition, keeping the timestamps of the same condition in `old_status` when its status
/// (and, for lastUpdateTime, reason and message) did not change.
fn condition(
    old_status: Option<&Value>,
    ctype: &str,
    status: &str,
    reason: &str,
    message: &str,
    style: CondStyle,
    now: &str,
) -> Value {
    let prev = old_status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == ctype));
    let same_status = prev.is_some_and(|p| p["status"] == status);
    let transition = match prev {
        Some(p) if same_status => p
            .get("lastTransitionTime")
            .cloned()
            .unwrap_or_else(|| now.into()),
        _ => now.into(),
    };
    let mut m = Map::new();
    m.insert("type".into(), ctype.into());
    m.insert("status".into(), status.into());
    match style {
        CondStyle::Update => {
            let unchanged = same_status
                && prev.is_some_and(|p| p["reason"] == reason && p["message"] == message);
            let update = match prev {
                Some(p) if unchanged => p
                    .get("lastUpdateTime")
                    .cloned()
                    .unwrap_or_else(|| now.into()),
                _ => now.into(),
            };
            m.insert("lastUpdateTime".into(), update);
        }
        CondStyle::Probe => {
            m.insert("lastProbeTime".into(), Value::Null);
        }
    }
    m.insert("lastTransitionTime".into(), transition);
    if !reason.is_empty() {
        m.insert("reason".into(), reason.into());
    }
    if !message.is_empty() {
        m.insert("message".into(), message.into());
    }
    Value::Object(m)
}

/// The status a controller would eventually report for `obj`, or `None` when no controller
/// acts on its kind.
fn desired_status(
    res: &ResourceDef,
    obj: &Value,
    readiness: Readiness,
    now: &str,
) -> Option<Value> {
    let ready = readiness == Readiness::Immediate;
    let name = str_at(obj, "/metadata/name").unwrap_or("");
    let generation = obj
        .pointer("/metadata/generation")
        .cloned()
        .unwrap_or_else(|| 1.into());
    let old = obj.get("status");
    let replicas = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mut s = Map::new();
    // Most status counters are `omitempty` in the real API: zero is absent.
    let put = |s: &mut Map<String, Value>, k: &str, n: i64| {
        if n != 0 {
            s.insert(k.into(), n.into());
        }
    };
    let old_time = |k: &str| {
        old.and_then(|o| o.get(k))
            .cloned()
            .unwrap_or_else(|| now.into())
    };
    match (res.group, res.kind) {
        ("apps", "Deployment") => {
            s.insert("observedGeneration".into(), generation);
            put(&mut s, "replicas", replicas);
            put(&mut s, "updatedReplicas", replicas);
            put(&mut s, "readyReplicas", if ready { replicas } else { 0 });
            put(
                &mut s,
                "availableReplicas",
                if ready { replicas } else { 0 },
            );
            put(
                &mut s,
                "unavailableReplicas",
                if ready { 0 } else { replicas },
            );
            let template = obj
                .pointer("/spec/template")
                .cloned()
                .unwrap_or(Value::Null);
            let rs = format!("{name}-{}", short_hash(&template, 10));
            let available = if ready || replicas == 0 {
                condition(
                    old,
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    CondStyle::Update,
                    now,
                )
            } else {
                condition(
                    old,
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                    CondStyle::Update,
                    now,
                )
            };
            let progressing = if ready {
                condition(
                    old,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    &format!("ReplicaSet \"{rs}\" has successfully progressed."),
                    CondStyle::Update,
                    now,
                )
            } else {
                condition(
                    old,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    &format!("ReplicaSet \"{rs}\" is progressing."),
                    CondStyle::Update,
                    now,
                )
            };
            s.insert("conditions".into(), json!([available, progressing]));
        }
        ("apps", "StatefulSet") => {
            s.insert("observedGeneration".into(), generation);
            s.insert("replicas".into(), replicas.into());
            put(&mut s, "readyReplicas", if ready { replicas } else { 0 });
            put(&mut s, "currentReplicas", replicas);
            put(&mut s, "updatedReplicas", replicas);
            s.insert("currentRevision".into(), format!("{name}-1").into());
            s.insert("updateRevision".into(), format!("{name}-1").into());
            s.insert("collisionCount".into(), 0.into());
            s.insert(
                "availableReplicas".into(),
                (if ready { replicas } else { 0 }).into(),
            );
        }
        ("apps", "DaemonSet") => {
            let nodes = 2;
            s.insert("currentNumberScheduled".into(), nodes.into());
            s.insert("numberMisscheduled".into(), 0.into());
            s.insert("desiredNumberScheduled".into(), nodes.into());
            s.insert("numberReady".into(), (if ready { nodes } else { 0 }).into());
            s.insert("observedGeneration".into(), generation);
            put(&mut s, "updatedNumberScheduled", nodes);
            put(&mut s, "numberAvailable", if ready { nodes } else { 0 });
            put(&mut s, "numberUnavailable", if ready { 0 } else { nodes });
        }
        ("apps", "ReplicaSet") => {
            s.insert("replicas".into(), replicas.into());
            put(&mut s, "fullyLabeledReplicas", replicas);
            put(&mut s, "readyReplicas", if ready { replicas } else { 0 });
            put(
                &mut s,
                "availableReplicas",
                if ready { replicas } else { 0 },
            );
            s.insert("observedGeneration".into(), generation);
        }
        ("batch", "Job") => {
            let completions = obj
                .pointer("/spec/completions")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            if ready {
                let complete = condition(
                    old,
                    "Complete",
                    "True",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    CondStyle::Probe,
                    now,
                );
                s.insert("conditions".into(), json!([complete]));
                s.insert("startTime".into(), old_time("startTime"));
                s.insert("completionTime".into(), old_time("completionTime"));
                s.insert("succeeded".into(), completions.into());
            } else {
                s.insert("startTime".into(), old_time("startTime"));
                s.insert("active".into(), 1.into());
            }
            s.insert("ready".into(), 0.into());
        }
        ("", "PersistentVolumeClaim") => {
            if ready {
                s.insert("phase".into(), "Bound".into());
                if let Some(modes) = obj.pointer("/spec/accessModes") {
                    s.insert("accessModes".into(), modes.clone());
                }
                if let Some(size) = obj.pointer("/spec/resources/requests/storage") {
                    s.insert("capacity".into(), json!({"storage": size}));
                }
            } else {
                s.insert("phase".into(), "Pending".into());
            }
        }
        ("", "Service") => {
            let lb = str_at(obj, "/spec/type") == Some("LoadBalancer");
            if lb && ready {
                s.insert(
                    "loadBalancer".into(),
                    json!({"ingress": [{"ip": "203.0.113.10", "ipMode": "VIP"}]}),
                );
            } else {
                s.insert("loadBalancer".into(), json!({}));
            }
        }
        ("networking.k8s.io", "Ingress") => {
            if ready {
                s.insert(
                    "loadBalancer".into(),
                    json!({"ingress": [{"ip": "203.0.113.20"}]}),
                );
            } else {
                s.insert("loadBalancer".into(), json!({}));
            }
        }
        ("", "Pod") => {
            if ready {
                s.insert("phase".into(), "Running".into());
                let c = condition(old, "Ready", "True", "", "", CondStyle::Probe, now);
                s.insert("conditions".into(), json!([c]));
                s.insert("podIP".into(), "10.244.0.10".into());
                s.insert("startTime".into(), old_time("startTime"));
            } else {
                s.insert("phase".into(), "Pending".into());
            }
        }
        _ => return None,
    }
    Some(Value::Object(s))
}

impl Store {
    /// Runs the simulated controller of a stored object: its status, and for a Service its
    /// EndpointSlice.
    fn reconcile(&mut self, k: &Key, now: &str) {
        let Some(stored) = self.objects.get(k).cloned() else {
            return;
        };
        let Some(res) = find_by_group_plural(&k.0, &k.1) else {
            return;
        };
        let ns = (!k.2.is_empty()).then_some(k.2.as_str());
        if let Some(status) = desired_status(res, &stored.obj, self.readiness, now)
            && stored.obj.get("status") != Some(&status)
        {
            let mut new = stored.obj.clone();
            obj_mut(&mut new).insert("status".into(), status);
            let w = Write {
                res,
                ns,
                name: &k.3,
                sub: Sub::Status,
                dry_run: false,
                validate: false,
                now,
            };
            if let Err(e) = self.update_object(&w, Some(&stored), new, CONTROLLER) {
                tracing::warn!("fake kube: controller status of {}: {}", k.3, e.message);
            }
        }
        if res.is("", "Service") {
            self.reconcile_endpoint_slice(&stored.obj, now);
        }
    }

    fn reconcile_endpoint_slice(&mut self, svc: &Value, now: &str) {
        let has_selector = svc
            .pointer("/spec/selector")
            .and_then(Value::as_object)
            .is_some_and(|s| !s.is_empty());
        if !has_selector || str_at(svc, "/spec/type") == Some("ExternalName") {
            return;
        }
        let (Some(ns), Some(name)) = (
            str_at(svc, "/metadata/namespace"),
            str_at(svc, "/metadata/name"),
        ) else {
            return;
        };
        let uid = str_at(svc, "/metadata/uid").unwrap_or("");
        let ready = self.readiness == Readiness::Immediate;
        let ports: Vec<Value> = svc
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| {
                let port = p
                    .get("targetPort")
                    .filter(|v| v.is_number())
                    .or_else(|| p.get("port"))
                    .cloned()
                    .unwrap_or(Value::Null);
                json!({
                    "name": p.get("name").cloned().unwrap_or_else(|| "".into()),
                    "port": port,
                    "protocol": p.get("protocol").cloned().unwrap_or_else(|| "TCP".into()),
                })
            })
            .collect();
        let slice_name = format!("{name}-abc12");
        let slice = json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": slice_name,
                "namespace": ns,
                "labels": {
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    "kubernetes.io/service-name": name,
                },
                "ownerReferences": [{
                    "apiVersion": "v1",
                    "kind": "Service",
                    "name": name,
                    "uid": uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "addressType": "IPv4",
            "endpoints": [{
                "addresses": ["10.244.0.10"],
                "conditions": {"ready": ready, "serving": ready, "terminating": false},
                "nodeName": "fake-node-1",
            }],
            "ports": ports,
        });
        let Some(res) = find_by_group_plural("discovery.k8s.io", "endpointslices") else {
            return;
        };
        let k = key(res, Some(ns), &slice_name);
        let old = self.objects.get(&k).cloned();
        let w = Write {
            res,
            ns: Some(ns),
            name: &slice_name,
            sub: Sub::Main,
            dry_run: false,
            validate: false,
            now,
        };
        if let Err(e) = self.update_object(&w, old.as_ref(), slice, CONTROLLER) {
            tracing::warn!("fake kube: endpoint slice {slice_name}: {}", e.message);
        }
    }
}

// ------------------------------------------------------------------------------------------
// HTTP
// ------------------------------------------------------------------------------------------

fn json_response(code: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = parse_query(uri.query().unwrap_or(""));
    let header_text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header_text(header::CONTENT_TYPE);
    let authorization = header_text(header::AUTHORIZATION);
    let recorded_body = if body.is_empty() {
        None
    } else {
        serde_json::from_slice::<Value>(&body).ok().or_else(|| {
            let yaml = media_type(content_type.as_deref()).contains("yaml");
            yaml.then(|| parse_json_or_yaml(&body).ok()).flatten()
        })
    };
    lock(&shared.requests).push(RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        content_type: content_type.clone(),
        authorization: authorization.clone(),
        body: recorded_body,
    });
    tracing::debug!("fake kube: {method} {uri}");
    if let Some(f) = shared.take_fault(method.as_str(), &path) {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if f.status != 0 {
            let e = ApiError::injected(f.status);
            return json_response(e.code, &e.body());
        }
    }
    if let Some(a) = &authorization
        && a.trim() != format!("Bearer {TOKEN}")
    {
        let e = ApiError::unauthorized();
        return json_response(e.code, &e.body());
    }
    if matches!(path.as_str(), "/healthz" | "/livez" | "/readyz") {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "ok").into_response();
    }
    let now = now();
    let result = {
        let mut store = lock(&shared.store);
        route(
            &mut store,
            &method,
            &path,
            &query,
            content_type.as_deref(),
            &body,
            &now,
        )
    };
    match result {
        Ok((code, v)) => json_response(code, &v),
        Err(e) => json_response(e.code, &e.body()),
    }
}

fn get_only(method: &Method, body: Value) -> Reply {
    if method == Method::GET {
        Ok((200, body))
    } else {
        Err(ApiError::method_not_allowed())
    }
}

fn route(
    store: &mut Store,
    method: &Method,
    path: &str,
    q: &Query,
    ct: Option<&str>,
    body: &[u8],
    now: &str,
) -> Reply {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["version"] => get_only(method, version_json()),
        ["api"] => get_only(
            method,
            json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": store.server_address}
                ],
            }),
        ),
        ["apis"] => {
            let mut groups = Vec::new();
            for (g, _) in group_versions() {
                if !g.is_empty() && !groups.iter().any(|x: &Value| x["name"] == g) {
                    groups.push(api_group_json(g));
                }
            }
            get_only(
                method,
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            )
        }
        ["apis", group] => {
            if group_versions()
                .iter()
                .any(|(g, _)| g == group && !g.is_empty())
            {
                let mut v = api_group_json(group);
                if let Value::Object(m) = &mut v {
                    let mut o = Map::new();
                    o.insert("kind".into(), "APIGroup".into());
                    o.insert("apiVersion".into(), "v1".into());
                    o.extend(std::mem::take(m));
                    *m = o;
                }
                get_only(method, v)
            } else {
                Err(ApiError::path_not_found())
            }
        }
        ["api", "v1", rest @ ..] => resources(store, method, "", "v1", rest, q, ct, body, now),
        ["apis", group, version, rest @ ..] => {
            resources(store, method, group, version, rest, q, ct, body, now)
        }
        _ => Err(ApiError::path_not_found()),
    }
}

#[allow(clippy::too_many_arguments)]
fn resources(
    store: &mut Store,
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    q: &Query,
    ct: Option<&str>,
    body: &[u8],
    now: &str,
) -> Reply {
    if !group_versions()
        .iter()
        .any(|(g, v)| *g == group && *v == version)
    {
        return Err(ApiError::path_not_found());
    }
    if rest.is_empty() {
        return get_only(method, resource_list_json(group, version));
    }
    let namespace_sub =
        group.is_empty() && rest.len() == 3 && matches!(rest[2], "status" | "finalize");
    let (ns, plural, name, sub) = if rest[0] == "namespaces" && rest.len() >= 3 && !namespace_sub {
        if rest.len() > 5 {
            return Err(ApiError::path_not_found());
        }
        (
            Some(rest[1]),
            rest[2],
            rest.get(3).copied(),
            rest.get(4).copied(),
        )
    } else {
        if rest.len() > 3 {
            return Err(ApiError::path_not_found());
        }
        (None, rest[0], rest.get(1).copied(), rest.get(2).copied())
    };
    let res = find_by_plural(group, version, plural).ok_or_else(ApiError::path_not_found)?;
    if (ns.is_some() && !res.namespaced) || (ns.is_none() && res.namespaced && name.is_some()) {
        return Err(ApiError::path_not_found());
    }
    let sub = match sub {
        None => Sub::Main,
        Some("status") if res.status => Sub::Status,
        Some(_) => return Err(ApiError::path_not_found()),
    };
    let t = Target {
        res,
        ns: ns.map(str::to_string),
        name: name.map(str::to_string),
        sub,
    };
    match (method.as_str(), t.name.is_some(), sub) {
        ("GET", false, _) => store.list(&t, q),
        ("GET", true, _) => store.get(&t),
        ("POST", false, Sub::Main) => {
            if res.namespaced && t.ns.is_none() {
                Err(ApiError::method_not_allowed())
            } else {
                store.create(&t, q, ct, body, now)
            }
        }
        ("PUT", true, _) => store.replace(&t, q, ct, body, now),
        ("PATCH", true, _) => store.patch(&t, q, ct, body, now),
        ("DELETE", true, Sub::Main) => store.delete(&t, q, body, now),
        ("DELETE", false, Sub::Main) => store.delete_collection(&t, q, body, now),
        _ => Err(ApiError::method_not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::blocking::Client;

    struct Api {
        fk: FakeKube,
        client: Client,
    }

    fn setup() -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        Api {
            fk: FakeKube::start(),
            client,
        }
    }

    const APPLY: &str = "application/apply-patch+yaml";
    const MERGE: &str = "application/merge-patch+json";

    impl Api {
        fn call(
            &self,
            method: &str,
            path: &str,
            query: &[(&str, &str)],
            ct: Option<&str>,
            body: Option<&Value>,
        ) -> (u16, Value) {
            let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let mut url = format!("{}{path}", self.fk.url);
            for (i, (k, v)) in query.iter().enumerate() {
                url.push(if i == 0 { '?' } else { '&' });
                url.push_str(&format!("{}={}", encode(k), encode(v)));
            }
            let mut req = self
                .client
                .request(m, url)
                .header("Authorization", "Bearer fake-token");
            if let Some(ct) = ct {
                req = req.header("Content-Type", ct);
            }
            if let Some(b) = body {
                req = req.body(b.to_string());
            }
            let resp = req.send().expect("send");
            let code = resp.status().as_u16();
            let text = resp.text().expect("text");
            let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
            (code, v)
        }

        fn get(&self, path: &str) -> (u16, Value) {
            self.call("GET", path, &[], None, None)
        }

        fn list(&self, path: &str, query: &[(&str, &str)]) -> Vec<String> {
            let (code, v) = self.call("GET", path, query, None, None);
            assert_eq!(code, 200, "{v}");
            names(&v)
        }

        fn post(&self, path: &str, body: &Value) -> (u16, Value) {
            self.call("POST", path, &[], Some("application/json"), Some(body))
        }

        fn put(&self, path: &str, body: &Value) -> (u16, Value) {
            self.call("PUT", path, &[], Some("application/json"), Some(body))
        }

        fn apply(&self, path: &str, manager: &str, body: &Value) -> (u16, Value) {
            self.call(
                "PATCH",
                path,
                &[("fieldManager", manager)],
                Some(APPLY),
                Some(body),
            )
        }

        fn rv(&self, path: &str) -> String {
            let (code, v) = self.get(path);
            assert_eq!(code, 200, "{v}");
            rv_of(&v)
        }
    }

    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    fn names(list: &Value) -> Vec<String> {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
            .collect()
    }

    fn rv_of(v: &Value) -> String {
        v["metadata"]["resourceVersion"]
            .as_str()
            .expect("rv")
            .to_string()
    }

    fn cm(name: &str, labels: Value, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "labels": labels}, "data": data})
    }

    fn deployment(name: &str, replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "main", "image": image}]},
                },
            },
        })
    }

    const CMS: &str = "/api/v1/namespaces/default/configmaps";
    const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";

    fn manager<'a>(obj: &'a Value, name: &str, op: &str) -> Option<&'a Value> {
        obj["metadata"]["managedFields"]
            .as_array()?
            .iter()
            .find(|e| e["manager"] == name && e["operation"] == op)
    }

    #[test]
    fn discovery_lists_groups_and_resources() {
        let api = setup();
        let (code, v) = api.get("/version");
        assert_eq!(code, 200);
        assert_eq!(v["minor"], "33");
        assert_eq!(v["gitVersion"], "v1.33.0");
        let (_, v) = api.get("/api");
        assert_eq!(v["kind"], "APIVersions");
        assert_eq!(v["versions"], json!(["v1"]));
        let (_, v) = api.get("/apis");
        assert_eq!(v["kind"], "APIGroupList");
        let groups = v["groups"].as_array().expect("groups");
        let apps = groups.iter().find(|g| g["name"] == "apps").expect("apps");
        assert_eq!(apps["preferredVersion"]["groupVersion"], "apps/v1");
        let hpa = groups
            .iter()
            .find(|g| g["name"] == "autoscaling")
            .expect("autoscaling");
        assert_eq!(hpa["versions"][0]["version"], "v2");
        assert_eq!(groups.len(), 9, "{groups:?}");
        let (_, v) = api.get("/apis/apps/v1");
        assert_eq!(v["kind"], "APIResourceList");
        assert_eq!(v["groupVersion"], "apps/v1");
        let res = v["resources"].as_array().expect("resources");
        let d = res
            .iter()
            .find(|r| r["name"] == "deployments")
            .expect("deployments");
        assert_eq!(d["kind"], "Deployment");
        assert_eq!(d["singularName"], "deployment");
        assert_eq!(d["namespaced"], true);
        assert!(
            d["verbs"]
                .as_array()
                .expect("verbs")
                .contains(&json!("patch"))
        );
        assert!(res.iter().any(|r| r["name"] == "deployments/status"));
        let (_, v) = api.get("/api/v1");
        let ns = v["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["name"] == "namespaces")
            .cloned()
            .expect("namespaces");
        assert_eq!(ns["namespaced"], false);
        let (_, v) = api.get("/apis/rbac.authorization.k8s.io/v1");
        let cr = v["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["name"] == "clusterroles")
            .cloned()
            .expect("clusterroles");
        assert_eq!(cr["namespaced"], false);
        for path in [
            "/apis/nope/v1",
            "/apis/apps/v2",
            "/apis/apps/v1/widgets",
            "/api/v2",
            "/foo",
        ] {
            let (code, v) = api.get(path);
            assert_eq!(code, 404, "{path}");
            assert_eq!(v["kind"], "Status");
            assert_eq!(v["reason"], "NotFound");
        }
        let (code, _) = api.get("/healthz");
        assert_eq!(code, 200);
    }

    #[test]
    fn create_get_and_list_with_selectors_and_pages() {
        let api = setup();
        for (name, labels) in [
            ("a", json!({"app": "web", "tier": "front"})),
            ("b", json!({"app": "web", "tier": "back"})),
            ("c", json!({"app": "db"})),
        ] {
            let (code, v) = api.call(
                "POST",
                CMS,
                &[("fieldManager", "tester")],
                Some("application/json"),
                Some(&cm(name, labels, json!({"k": "v"}))),
            );
            assert_eq!(code, 201, "{v}");
            assert_eq!(v["metadata"]["generation"], 1);
            assert_eq!(v["metadata"]["namespace"], "default");
            assert!(v["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
            assert!(
                v["metadata"]["creationTimestamp"]
                    .as_str()
                    .is_some_and(|t| t.ends_with('Z'))
            );
            let e = manager(&v, "tester", "Update").expect("managed fields");
            assert_eq!(e["fieldsType"], "FieldsV1");
            assert_eq!(e["fieldsV1"]["f:data"], json!({"f:k": {}}));
        }
        let (code, v) = api.get(&format!("{CMS}/a"));
        assert_eq!(code, 200);
        assert_eq!(v["kind"], "ConfigMap");
        assert_eq!(v["data"]["k"], "v");

        let sel = |s: &str| api.list(CMS, &[("labelSelector", s)]);
        assert_eq!(sel("app=web"), ["a", "b"]);
        assert_eq!(sel("app==web"), ["a", "b"]);
        assert_eq!(sel("app!=web"), ["c"]);
        assert_eq!(sel("tier in (front, back)"), ["a", "b"]);
        assert_eq!(sel("tier notin (front)"), ["b", "c"]);
        assert_eq!(sel("!tier"), ["c"]);
        assert_eq!(sel("tier"), ["a", "b"]);
        assert_eq!(sel("app=web,tier notin (front)"), ["b"]);
        assert_eq!(sel(""), ["a", "b", "c"]);
        assert_eq!(
            api.list(CMS, &[("fieldSelector", "metadata.name=c")]),
            ["c"]
        );
        assert_eq!(
            api.list(CMS, &[("fieldSelector", "metadata.name!=c")]),
            ["a", "b"]
        );
        assert_eq!(
            api.list("/api/v1/configmaps", &[("labelSelector", "app")]),
            ["a", "b", "c"]
        );
        assert!(
            api.list("/api/v1/namespaces/kube-system/configmaps", &[])
                .is_empty()
        );

        let (code, v) = api.call("GET", CMS, &[], None, None);
        assert_eq!(code, 200);
        assert_eq!(v["kind"], "ConfigMapList");
        assert_eq!(v["apiVersion"], "v1");
        assert!(v["metadata"]["resourceVersion"].as_str().is_some());
        assert!(
            v["items"][0].get("kind").is_none(),
            "list items carry no kind, as on a real server"
        );

        for bad in ["app in (web", "a b", "app=we b", "x in ()"] {
            let (code, v) = api.call("GET", CMS, &[("labelSelector", bad)], None, None);
            assert_eq!(code, 400, "{bad}: {v}");
            assert_eq!(v["reason"], "BadRequest");
        }
        let (code, v) = api.call("GET", CMS, &[("fieldSelector", "spec.x=1")], None, None);
        assert_eq!(code, 400);
        assert_eq!(v["message"], "field label not supported: spec.x");

        let (_, page1) = api.call("GET", CMS, &[("limit", "2")], None, None);
        assert_eq!(names(&page1), ["a", "b"]);
        assert_eq!(page1["metadata"]["remainingItemCount"], 1);
        let token = page1["metadata"]["continue"]
            .as_str()
            .expect("continue")
            .to_string();
        let (_, page2) = api.call(
            "GET",
            CMS,
            &[("limit", "2"), ("continue", &token)],
            None,
            None,
        );
        assert_eq!(names(&page2), ["c"]);
        assert!(page2["metadata"].get("continue").is_none());
        let (code, _) = api.call("GET", CMS, &[("continue", "garbage!")], None, None);
        assert_eq!(code, 400);
        let (code, v) = api.call("GET", CMS, &[("watch", "true")], None, None);
        assert_eq!(code, 405, "{v}");

        let (code, v) = api.post(
            CMS,
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}),
        );
        assert_eq!(code, 201);
        let name = v["metadata"]["name"].as_str().expect("name");
        assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    }

    #[test]
    fn error_bodies_are_kubernetes_statuses() {
        let api = setup();
        let (code, v) = api.get(&format!("{DEPLOYS}/web"));
        assert_eq!(code, 404);
        assert_eq!(
            v,
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                   "message":"deployments.apps \"web\" not found","reason":"NotFound",
                   "details":{"name":"web","group":"apps","kind":"deployments"},"code":404})
        );
        let (code, v) = api.get(&format!("{CMS}/x"));
        assert_eq!(code, 404);
        assert_eq!(v["message"], "configmaps \"x\" not found");
        assert_eq!(v["details"], json!({"name": "x", "kind": "configmaps"}));

        assert_eq!(api.post(CMS, &cm("a", json!({}), json!({}))).0, 201);
        let (code, v) = api.post(CMS, &cm("a", json!({}), json!({})));
        assert_eq!(code, 409);
        assert_eq!(v["reason"], "AlreadyExists");
        assert_eq!(v["message"], "configmaps \"a\" already exists");

        let (code, v) = api.post(
            "/api/v1/namespaces/nope/configmaps",
            &cm("a", json!({}), json!({})),
        );
        assert_eq!(code, 404);
        assert_eq!(v["message"], "namespaces \"nope\" not found");
        assert_eq!(v["details"], json!({"name": "nope", "kind": "namespaces"}));

        let mut other_ns = cm("b", json!({}), json!({}));
        other_ns["metadata"]["namespace"] = json!("kube-system");
        let (code, v) = api.post(CMS, &other_ns);
        assert_eq!(code, 400);
        assert_eq!(v["reason"], "BadRequest");

        let (code, _) = api.post(
            CMS,
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
        );
        assert_eq!(code, 400);
        let (code, _) = api.post(CMS, &json!({"metadata": {"name": "s"}}));
        assert_eq!(code, 400);
        let (code, _) = api.post(CMS, &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s", "labels": {"a": 1}}}));
        assert_eq!(code, 400);

        let (code, v) = api.post(CMS, &cm("Bad_Name", json!({}), json!({})));
        assert_eq!(code, 422);
        assert_eq!(v["reason"], "Invalid");
        assert_eq!(v["details"]["kind"], "ConfigMap");
        assert_eq!(v["details"]["causes"][0]["field"], "metadata.name");
        assert!(v["message"].as_str().expect("message").starts_with(
            "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\""
        ));
        let (code, v) = api.post(CMS, &cm("c", json!({"app": "has space"}), json!({})));
        assert_eq!(code, 422, "{v}");
        assert_eq!(v["details"]["causes"][0]["field"], "metadata.labels");
        let (code, v) = api.post(
            CMS,
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
        );
        assert_eq!(code, 422);
        assert_eq!(v["details"]["causes"][0]["reason"], "FieldValueRequired");

        let (code, _) = api.put(
            &format!("{CMS}/missing"),
            &cm("missing", json!({}), json!({})),
        );
        assert_eq!(code, 404);
        let (code, v) = api.put(&format!("{CMS}/a"), &cm("b", json!({}), json!({})));
        assert_eq!(code, 400);
        assert_eq!(
            v["message"],
            "the name of the object (b) does not match the name on the URL (a)"
        );
        let (code, v) = api.post(&format!("{CMS}/a"), &cm("a", json!({}), json!({})));
        assert_eq!(code, 405);
        assert_eq!(v["reason"], "MethodNotAllowed");
        let (code, v) = api.call(
            "PATCH",
            &format!("{CMS}/a"),
            &[],
            Some("text/plain"),
            Some(&json!({})),
        );
        assert_eq!(code, 415);
        assert_eq!(v["reason"], "UnsupportedMediaType");
        let (code, _) = api.post("/apis/apps/v1/deployments", &deployment("x", 1, "i"));
        assert_eq!(code, 405);

        let resp = api
            .client
            .get(format!("{}{CMS}", api.fk.url))
            .header("Authorization", "Bearer wrong")
            .send()
            .expect("send");
        assert_eq!(resp.status().as_u16(), 401);
        let resp = api
            .client
            .get(format!("{}{CMS}", api.fk.url))
            .send()
            .expect("send");
        assert_eq!(resp.status().as_u16(), 200, "anonymous requests are served");
    }

    #[test]
    fn put_with_a_stale_resource_version_conflicts() {
        let api = setup();
        let path = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
        let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                           "metadata": {"name": "x"}, "spec": {"holderIdentity": "a"}});
        let (code, created) = api.post(path, &lease);
        assert_eq!(code, 201);
        let rv1 = rv_of(&created);
        let mut next = created.clone();
        next["spec"]["holderIdentity"] = json!("b");
        let (code, updated) = api.put(&format!("{path}/x"), &next);
        assert_eq!(code, 200, "{updated}");
        let rv2 = rv_of(&updated);
        assert!(rv2.parse::<u64>().expect("number") > rv1.parse::<u64>().expect("number"));
        assert_eq!(updated["metadata"]["generation"], 2);
        assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
        next["spec"]["holderIdentity"] = json!("c");
        let (code, v) = api.put(&format!("{path}/x"), &next);
        assert_eq!(code, 409);
        assert_eq!(v["reason"], "Conflict");
        assert_eq!(
            v["message"],
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(
            v["details"],
            json!({"name": "x", "group": "coordination.k8s.io", "kind": "leases"})
        );
        next["metadata"]
            .as_object_mut()
            .expect("meta")
            .remove("resourceVersion");
        let (code, v) = api.put(&format!("{path}/x"), &next);
        assert_eq!(
            code, 200,
            "an update without resourceVersion is unconditional"
        );
        assert_eq!(v["spec"]["holderIdentity"], "c");
        // The same object again: nothing changes, no new resourceVersion.
        let (code, again) = api.put(&format!("{path}/x"), &v);
        assert_eq!(code, 200);
        assert_eq!(rv_of(&again), rv_of(&v));
    }

    #[test]
    fn apply_creates_and_a_repeated_apply_changes_nothing() {
        let api = setup();
        let (code, v) = api.apply(
            &format!("{DEPLOYS}/web"),
            "cocktail",
            &deployment("web", 2, "nginx:1"),
        );
        assert_eq!(code, 201, "{v}");
        assert_eq!(v["metadata"]["generation"], 1);
        let e = manager(&v, "cocktail", "Apply").expect("apply entry");
        assert_eq!(e["apiVersion"], "apps/v1");
        assert_eq!(e["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
        assert_eq!(e["fieldsV1"]["f:metadata"]["f:labels"]["f:app"], json!({}));
        let stored_rv = api.rv(&format!("{DEPLOYS}/web"));
        let (code, v) = api.apply(
            &format!("{DEPLOYS}/web"),
            "cocktail",
            &deployment("web", 2, "nginx:1"),
        );
        assert_eq!(code, 200);
        assert_eq!(rv_of(&v), stored_rv, "a no-op apply does not write");
        assert_eq!(api.rv(&format!("{DEPLOYS}/web")), stored_rv);
        // JSON sent as YAML text works too, and YAML proper.
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: main, image: 'nginx:1'}]\n";
        let resp = api
            .client
            .patch(format!("{}{DEPLOYS}/web?fieldManager=cocktail", api.fk.url))
            .header("Content-Type", APPLY)
            .body(yaml)
            .send()
            .expect("send");
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(api.rv(&format!("{DEPLOYS}/web")), stored_rv);
        let (code, v) = api.apply(
            &format!("{DEPLOYS}/web"),
            "cocktail",
            &deployment("web", 4, "nginx:1"),
        );
        assert_eq!(code, 200);
        assert_ne!(rv_of(&v), stored_rv);
        assert_eq!(v["metadata"]["generation"], 2);
        assert_eq!(v["spec"]["replicas"], 4);
        // Label changes do not bump the generation.
        let mut relabeled = deployment("web", 4, "nginx:1");
        relabeled["metadata"]["labels"]["extra"] = json!("1");
        let (_, v) = api.apply(&format!("{DEPLOYS}/web"), "cocktail", &relabeled);
        assert_eq!(v["metadata"]["generation"], 2);
        assert_eq!(v["metadata"]["labels"]["extra"], "1");
    }

    #[test]
    fn apply_conflicts_name_the_field_and_force_takes_it() {
        let api = setup();
        let path = format!("{DEPLOYS}/web");
        assert_eq!(
            api.apply(&path, "cocktail", &deployment("web", 2, "nginx:1"))
                .0,
            201
        );
        api.fk.apply_as(
            "kubectl-edit",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 3}}),
        );
        let (code, v) = api.apply(&path, "cocktail", &deployment("web", 2, "nginx:1"));
        assert_eq!(code, 409, "{v}");
        assert_eq!(v["reason"], "Conflict");
        assert_eq!(
            v["message"],
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\": .spec.replicas"
        );
        assert_eq!(
            v["details"]["causes"],
            json!([{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-edit\"", "field": ".spec.replicas"}])
        );
        // The same value as the other manager is no conflict: shared ownership.
        let (code, v) = api.apply(&path, "cocktail", &deployment("web", 3, "nginx:1"));
        assert_eq!(code, 200, "{v}");
        assert_eq!(
            manager(&v, "kubectl-edit", "Apply").expect("kept")["fieldsV1"]["f:spec"]["f:replicas"],
            json!({})
        );
        assert_eq!(
            manager(&v, "cocktail", "Apply").expect("mine")["fieldsV1"]["f:spec"]["f:replicas"],
            json!({})
        );
        // An Update by another manager (a merge patch) takes the field too.
        let (code, v) = api.call(
            "PATCH",
            &path,
            &[("fieldManager", "hpa")],
            Some(MERGE),
            Some(&json!({"spec": {"replicas": 5}})),
        );
        assert_eq!(code, 200, "{v}");
        let (code, v) = api.apply(&path, "cocktail", &deployment("web", 2, "nginx:1"));
        assert_eq!(code, 409);
        let msg = v["message"].as_str().expect("message");
        assert!(
            msg.starts_with(
                "Apply failed with 1 conflict: conflict with \"hpa\" using apps/v1 at "
            ),
            "{msg}"
        );
        assert!(msg.ends_with(": .spec.replicas"), "{msg}");
        let (code, v) = api.call(
            "PATCH",
            &path,
            &[("fieldManager", "cocktail"), ("force", "true")],
            Some(APPLY),
            Some(&deployment("web", 2, "nginx:1")),
        );
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["spec"]["replicas"], 2);
        assert!(
            manager(&v, "hpa", "Update").is_none(),
            "hpa owned nothing else"
        );
        let edit = manager(&v, "kubectl-edit", "Apply");
        assert!(edit.is_none_or(|e| e["fieldsV1"]["f:spec"].get("f:replicas").is_none()));
        assert_eq!(
            manager(&v, "cocktail", "Apply").expect("mine")["fieldsV1"]["f:spec"]["f:replicas"],
            json!({})
        );
    }

    #[test]
    fn apply_removes_fields_dropped_from_the_config() {
        let api = setup();
        let path = format!("{CMS}/settings");
        let (code, _) = api.apply(
            &path,
            "m1",
            &cm(
                "settings",
                json!({"a": "1", "b": "2"}),
                json!({"x": "1", "y": "2"}),
            ),
        );
        assert_eq!(code, 201);
        api.fk.apply_as(
            "other",
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default"}, "data": {"y": "2"}}),
        );
        let (code, v) = api.apply(
            &path,
            "m1",
            &cm("settings", json!({"a": "1"}), json!({"x": "1"})),
        );
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["metadata"]["labels"], json!({"a": "1"}));
        assert_eq!(
            v["data"],
            json!({"x": "1", "y": "2"}),
            "y is still owned by another manager"
        );
        let (_, v) = api.apply(
            &path,
            "m1",
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}),
        );
        assert!(v["metadata"].get("labels").is_none(), "{v}");
        assert_eq!(v["data"], json!({"y": "2"}));
        // Fields set by an Update are not removed by an apply that never owned them.
        let (code, _) = api.call(
            "PATCH",
            &path,
            &[("fieldManager", "editor")],
            Some(MERGE),
            Some(&json!({"data": {"z": "3"}})),
        );
        assert_eq!(code, 200);
        let (_, v) = api.apply(&path, "m1", &cm("settings", json!({}), json!({"x": "1"})));
        assert_eq!(v["data"], json!({"y": "2", "z": "3", "x": "1"}));
    }

    #[test]
    fn dry_run_all_stores_nothing() {
        let api = setup();
        let list_rv = |api: &Api| {
            let (_, v) = api.get(CMS);
            rv_of(&v)
        };
        let before = list_rv(&api);
        let dry = [("dryRun", "All")];
        let (code, v) = api.call(
            "POST",
            CMS,
            &dry,
            Some("application/json"),
            Some(&cm("a", json!({}), json!({"k": "v"}))),
        );
        assert_eq!(code, 201);
        assert_eq!(v["data"]["k"], "v");
        assert!(v["metadata"]["uid"].is_string());
        assert_eq!(api.get(&format!("{CMS}/a")).0, 404);
        let (code, _) = api.call(
            "PATCH",
            &format!("{CMS}/b"),
            &[("dryRun", "All"), ("fieldManager", "m")],
            Some(APPLY),
            Some(&cm("b", json!({}), json!({}))),
        );
        assert_eq!(code, 201);
        assert_eq!(api.get(&format!("{CMS}/b")).0, 404);
        assert_eq!(list_rv(&api), before);

        let (_, created) = api.post(CMS, &cm("a", json!({}), json!({"k": "v"})));
        let rv = rv_of(&created);
        let mut changed = created.clone();
        changed["data"]["k"] = json!("w");
        let (code, v) = api.call(
            "PUT",
            &format!("{CMS}/a"),
            &dry,
            Some("application/json"),
            Some(&changed),
        );
        assert_eq!(code, 200);
        assert_eq!(v["data"]["k"], "w");
        let (code, v) = api.call(
            "PATCH",
            &format!("{CMS}/a"),
            &dry,
            Some(MERGE),
            Some(&json!({"data": {"k": "z"}})),
        );
        assert_eq!(code, 200);
        assert_eq!(v["data"]["k"], "z");
        let (code, v) = api.call("PUT", &format!("{CMS}/a"), &dry, Some("application/json"), Some(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "1"}})));
        assert_eq!(code, 409, "conflicts are still detected: {v}");
        let (code, _) = api.call("DELETE", &format!("{CMS}/a"), &dry, None, None);
        assert_eq!(code, 200);
        let (code, v) = api.get(&format!("{CMS}/a"));
        assert_eq!(code, 200);
        assert_eq!(v["data"]["k"], "v");
        assert_eq!(rv_of(&v), rv);
        let (code, v) = api.call(
            "POST",
            CMS,
            &[("dryRun", "Yes")],
            Some("application/json"),
            Some(&cm("c", json!({}), json!({}))),
        );
        assert_eq!(code, 400, "{v}");
    }

    #[test]
    fn namespace_deletion_cascades_and_missing_namespaces_are_404() {
        let api = setup();
        let (code, ns) = api.post(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
        );
        assert_eq!(code, 201);
        assert_eq!(ns["status"]["phase"], "Active");
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "apps"
        );
        let cms = "/api/v1/namespaces/apps/configmaps";
        assert_eq!(api.post(cms, &cm("a", json!({}), json!({}))).0, 201);
        let mut d = deployment("web", 1, "nginx");
        d["metadata"]["namespace"] = json!("apps");
        assert_eq!(
            api.apply("/apis/apps/v1/namespaces/apps/deployments/web", "m", &d)
                .0,
            201
        );
        let (code, v) = api.call("DELETE", "/api/v1/namespaces/apps", &[], None, None);
        assert_eq!(code, 200);
        assert_eq!(v["status"]["phase"], "Terminating");
        assert_eq!(api.get(&format!("{cms}/a")).0, 404);
        assert_eq!(api.get("/api/v1/namespaces/apps").0, 404);
        assert!(
            api.fk
                .objects()
                .iter()
                .all(|o| o["metadata"]["namespace"] != "apps")
        );
        let (code, v) = api.post(cms, &cm("a", json!({}), json!({})));
        assert_eq!(code, 404);
        assert_eq!(v["message"], "namespaces \"apps\" not found");
        let (code, v) = api.apply("/apis/apps/v1/namespaces/apps/deployments/web", "m", &d);
        assert_eq!(code, 404);
        assert_eq!(v["message"], "namespaces \"apps\" not found");
        let (code, _) = api.call(
            "PATCH",
            &format!("{cms}/a"),
            &[],
            Some(MERGE),
            Some(&json!({})),
        );
        assert_eq!(code, 404);
        let names: Vec<String> = api.list("/api/v1/namespaces", &[]);
        assert_eq!(
            names,
            ["default", "kube-node-lease", "kube-public", "kube-system"]
        );
    }

    #[test]
    fn fault_rules_fail_then_let_requests_through() {
        let api = setup();
        api.fk.fault(Fault {
            method: Some("GET".into()),
            path_contains: "/configmaps".into(),
            status: 500,
            times: 1,
            delay_ms: 0,
        });
        let (code, v) = api.get(CMS);
        assert_eq!(code, 500);
        assert_eq!(v["reason"], "InternalError");
        assert_eq!(v["code"], 500);
        assert_eq!(api.get(CMS).0, 200);
        api.fk.fault(Fault {
            method: None,
            path_contains: "/leases".into(),
            status: 503,
            times: 2,
            delay_ms: 0,
        });
        let leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
        assert_eq!(api.get(leases).0, 503);
        assert_eq!(api.get(leases).1["reason"], "ServiceUnavailable");
        assert_eq!(api.get(leases).0, 200);
        api.fk.fault(Fault {
            method: Some("post".into()),
            path_contains: "/configmaps".into(),
            status: 0,
            times: 1,
            delay_ms: 150,
        });
        let start = std::time::Instant::now();
        assert_eq!(api.post(CMS, &cm("slow", json!({}), json!({}))).0, 201);
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(150) && took < Duration::from_secs(5),
            "{took:?}"
        );
        let reqs = api.fk.requests();
        assert_eq!(reqs.len(), 6);
        assert_eq!(reqs[0].method, "GET");
        assert_eq!(reqs[0].path, CMS);
        assert_eq!(reqs[0].authorization.as_deref(), Some("Bearer fake-token"));
        let post = &reqs[5];
        assert_eq!(post.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            post.body.as_ref().expect("body")["metadata"]["name"],
            "slow"
        );
        api.fk.clear_requests();
        api.get("/api/v1/namespaces/default/configmaps?labelSelector=app%3Dweb%2Ctier");
        let reqs = api.fk.requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(
            reqs[0].query.get("labelSelector").map(String::as_str),
            Some("app=web,tier")
        );
    }

    fn workloads(api: &Api) {
        let ok = |(code, v): (u16, Value)| assert!(code == 200 || code == 201, "{v}");
        ok(api.apply(
            &format!("{DEPLOYS}/web"),
            "m",
            &deployment("web", 3, "nginx"),
        ));
        ok(api.apply("/apis/apps/v1/namespaces/default/statefulsets/db", "m", &json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "pg"}]}}}})));
        ok(api.apply("/apis/apps/v1/namespaces/default/daemonsets/agent", "m", &json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "a"}]}}}})));
        ok(api.apply("/apis/batch/v1/namespaces/default/jobs/migrate", "m", &json!({
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "m"}]}}}})));
        ok(api.apply("/api/v1/namespaces/default/persistentvolumeclaims/data", "m", &json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})));
        ok(api.apply("/api/v1/namespaces/default/services/web", "m", &json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})));
        ok(api.apply(
            "/apis/networking.k8s.io/v1/namespaces/default/ingresses/web",
            "m",
            &json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
            "spec": {"rules": [{"host": "web.example"}]}}),
        ));
    }

    #[test]
    fn immediate_readiness_reports_everything_ready() {
        let api = setup();
        workloads(&api);
        let (_, d) = api.get(&format!("{DEPLOYS}/web"));
        let s = &d["status"];
        assert_eq!(s["observedGeneration"], 1);
        assert_eq!(
            (
                s["replicas"].clone(),
                s["readyReplicas"].clone(),
                s["availableReplicas"].clone(),
                s["updatedReplicas"].clone()
            ),
            (json!(3), json!(3), json!(3), json!(3))
        );
        assert_eq!(s["conditions"][0]["type"], "Available");
        assert_eq!(s["conditions"][0]["status"], "True");
        assert_eq!(s["conditions"][1]["reason"], "NewReplicaSetAvailable");
        assert!(manager(&d, CONTROLLER, "Update").is_some_and(|e| e["subresource"] == "status"));
        let (_, sts) = api.get("/apis/apps/v1/namespaces/default/statefulsets/db");
        assert_eq!(sts["status"]["readyReplicas"], 2);
        assert_eq!(sts["status"]["currentRevision"], "db-1");
        let (_, ds) = api.get("/apis/apps/v1/namespaces/default/daemonsets/agent");
        assert_eq!(ds["status"]["numberReady"], 2);
        assert_eq!(ds["status"]["desiredNumberScheduled"], 2);
        let (_, job) = api.get("/apis/batch/v1/namespaces/default/jobs/migrate");
        assert_eq!(job["status"]["succeeded"], 1);
        assert_eq!(job["status"]["conditions"][0]["type"], "Complete");
        assert!(job["status"]["completionTime"].is_string());
        let (_, pvc) = api.get("/api/v1/namespaces/default/persistentvolumeclaims/data");
        assert_eq!(pvc["status"]["phase"], "Bound");
        assert_eq!(pvc["status"]["capacity"]["storage"], "1Gi");
        let (_, svc) = api.get("/api/v1/namespaces/default/services/web");
        assert_eq!(
            svc["status"]["loadBalancer"]["ingress"][0]["ip"],
            "203.0.113.10"
        );
        let node_port = svc["spec"]["ports"][0]["nodePort"]
            .as_i64()
            .expect("nodePort");
        assert!((30000..=32767).contains(&node_port));
        assert!(
            svc["spec"]["clusterIP"]
                .as_str()
                .is_some_and(|ip| ip.starts_with("10.96."))
        );
        let (code, slice) =
            api.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc12");
        assert_eq!(code, 200);
        assert_eq!(
            slice["metadata"]["labels"]["kubernetes.io/service-name"],
            "web"
        );
        assert_eq!(slice["endpoints"][0]["conditions"]["ready"], true);
        assert_eq!(
            slice["ports"],
            json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
        );
        let (_, ing) = api.get("/apis/networking.k8s.io/v1/namespaces/default/ingresses/web");
        assert_eq!(
            ing["status"]["loadBalancer"]["ingress"][0]["ip"],
            "203.0.113.20"
        );
        // Controllers do not move the resourceVersion when nothing changes.
        let rv = api.rv(&format!("{DEPLOYS}/web"));
        api.apply(
            &format!("{DEPLOYS}/web"),
            "m",
            &deployment("web", 3, "nginx"),
        );
        assert_eq!(api.rv(&format!("{DEPLOYS}/web")), rv);
        // Deleting the Service collects its EndpointSlice.
        assert_eq!(
            api.call(
                "DELETE",
                "/api/v1/namespaces/default/services/web",
                &[],
                None,
                None
            )
            .0,
            200
        );
        assert_eq!(
            api.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc12")
                .0,
            404
        );
    }

    #[test]
    fn never_readiness_reports_nothing_ready_until_it_changes() {
        let api = setup();
        api.fk.set_readiness(Readiness::Never);
        workloads(&api);
        let (_, d) = api.get(&format!("{DEPLOYS}/web"));
        let s = &d["status"];
        assert_eq!(s["observedGeneration"], 1);
        assert_eq!(s["replicas"], 3);
        assert_eq!(s["updatedReplicas"], 3);
        assert_eq!(s["unavailableReplicas"], 3);
        assert!(
            s.get("readyReplicas").is_none(),
            "zero counters are omitted, as on a real server"
        );
        assert_eq!(s["conditions"][0]["status"], "False");
        let (_, sts) = api.get("/apis/apps/v1/namespaces/default/statefulsets/db");
        assert!(sts["status"].get("readyReplicas").is_none());
        assert_eq!(sts["status"]["availableReplicas"], 0);
        let (_, ds) = api.get("/apis/apps/v1/namespaces/default/daemonsets/agent");
        assert_eq!(ds["status"]["numberReady"], 0);
        let (_, job) = api.get("/apis/batch/v1/namespaces/default/jobs/migrate");
        assert_eq!(job["status"]["active"], 1);
        assert!(job["status"].get("succeeded").is_none());
        let (_, pvc) = api.get("/api/v1/namespaces/default/persistentvolumeclaims/data");
        assert_eq!(pvc["status"]["phase"], "Pending");
        let (_, svc) = api.get("/api/v1/namespaces/default/services/web");
        assert_eq!(svc["status"]["loadBalancer"], json!({}));
        let (_, slice) =
            api.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc12");
        assert_eq!(slice["endpoints"][0]["conditions"]["ready"], false);
        let (_, ing) = api.get("/apis/networking.k8s.io/v1/namespaces/default/ingresses/web");
        assert_eq!(ing["status"]["loadBalancer"], json!({}));

        api.fk.set_readiness(Readiness::Immediate);
        let (_, d) = api.get(&format!("{DEPLOYS}/web"));
        assert_eq!(d["status"]["readyReplicas"], 3);
        let (_, pvc) = api.get("/api/v1/namespaces/default/persistentvolumeclaims/data");
        assert_eq!(pvc["status"]["phase"], "Bound");
    }

    #[test]
    fn kubeconfig_names_the_server_token_and_contexts() {
        let fk = FakeKube::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        fk.write_kubeconfig(&path, Some("team")).expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        let v: Value = crate::yaml::from_str("kubeconfig", &text).expect("yaml");
        assert_eq!(v["current-context"], "fake");
        assert_eq!(v["clusters"][0]["name"], "fake");
        assert_eq!(v["clusters"][0]["cluster"]["server"], fk.url.as_str());
        assert_eq!(v["clusters"][1]["cluster"]["server"], "http://127.0.0.1:9");
        assert_eq!(v["users"][0]["user"]["token"], "fake-token");
        assert_eq!(v["contexts"][0]["context"]["namespace"], "team");
        assert_eq!(v["contexts"][0]["context"]["user"], "fake");
        assert_eq!(v["contexts"][1]["name"], "other");
        fk.write_kubeconfig(&path, None).expect("write");
        let v: Value =
            crate::yaml::from_str("kubeconfig", &std::fs::read_to_string(&path).expect("read"))
                .expect("yaml");
        assert!(v["contexts"][0]["context"].get("namespace").is_none());
    }

    #[test]
    fn services_secrets_and_immutable_fields() {
        let api = setup();
        let svcs = "/api/v1/namespaces/default/services";
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
        let (code, created) = api.post(svcs, &svc);
        assert_eq!(code, 201, "{created}");
        let ip = created["spec"]["clusterIP"]
            .as_str()
            .expect("clusterIP")
            .to_string();
        assert!(ip.starts_with("10.96."));
        assert_eq!(created["spec"]["clusterIPs"], json!([ip]));
        assert_eq!(created["spec"]["type"], "ClusterIP");
        assert_eq!(created["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(created["spec"]["ports"][0]["protocol"], "TCP");
        assert!(created["spec"]["ports"][0].get("nodePort").is_none());
        // PUT without clusterIP keeps it; changing it is refused.
        let (code, v) = api.put(&format!("{svcs}/web"), &svc);
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["spec"]["clusterIP"], ip.as_str());
        let mut moved = svc.clone();
        moved["spec"]["clusterIP"] = json!("10.96.99.99");
        let (code, v) = api.put(&format!("{svcs}/web"), &moved);
        assert_eq!(code, 422);
        assert_eq!(
            v["message"],
            "Service \"web\" is invalid: spec.clusterIP: Invalid value: \"10.96.99.99\": field is immutable"
        );
        assert_eq!(v["details"]["causes"][0]["field"], "spec.clusterIP");
        let (code, v) = api.post(svcs, &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
            "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 443, "nodePort": 31000}]}}));
        assert_eq!(code, 201);
        let p = v["spec"]["ports"][0]["nodePort"]
            .as_i64()
            .expect("allocated");
        assert!((30000..=32767).contains(&p) && p != 31000);
        assert_eq!(v["spec"]["ports"][1]["nodePort"], 31000);
        let (code, v) = api.post(
            svcs,
            &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "headless"},
            "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}),
        );
        assert_eq!(code, 201);
        assert_eq!(v["spec"]["clusterIP"], "None");
        let (code, v) = api.post(
            svcs,
            &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1bad"}}),
        );
        assert_eq!(code, 422, "service names are DNS-1035 labels: {v}");

        let secrets = "/api/v1/namespaces/default/secrets";
        let (code, v) = api.post(
            secrets,
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "stringData": {"password": "hello"}, "data": {"other": "d29ybGQ="}}),
        );
        assert_eq!(code, 201, "{v}");
        assert_eq!(
            v["data"],
            json!({"other": "d29ybGQ=", "password": "aGVsbG8="})
        );
        assert!(v.get("stringData").is_none());
        assert_eq!(v["type"], "Opaque");
        let (code, _) = api.post(secrets, &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}, "data": {"x": "not base64!"}}));
        assert_eq!(code, 400);
        let big = "x".repeat(MAX_DATA_BYTES + 1);
        let (code, v) = api.post(CMS, &cm("big", json!({}), json!({"k": big})));
        assert_eq!(code, 422);
        assert_eq!(v["details"]["causes"][0]["reason"], "FieldValueTooLong");

        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        let path = "/apis/apps/v1/namespaces/default/statefulsets/db";
        assert_eq!(api.apply(path, "m", &sts).0, 201);
        let mut changed = sts.clone();
        changed["spec"]["serviceName"] = json!("other");
        let (code, v) = api.apply(path, "m", &changed);
        assert_eq!(code, 422);
        assert_eq!(v["details"]["causes"][0]["reason"], "FieldValueForbidden");
        assert!(
            v["message"]
                .as_str()
                .expect("message")
                .contains("updates to statefulset spec for fields other than")
        );
        let mut scaled = sts.clone();
        scaled["spec"]["replicas"] = json!(5);
        assert_eq!(api.apply(path, "m", &scaled).0, 200);
        let mut d = deployment("web", 1, "i");
        assert_eq!(api.apply(&format!("{DEPLOYS}/web"), "m", &d).0, 201);
        d["spec"]["selector"]["matchLabels"]["extra"] = json!("x");
        d["spec"]["template"]["metadata"]["labels"]["extra"] = json!("x");
        let (code, v) = api.apply(&format!("{DEPLOYS}/web"), "m", &d);
        assert_eq!(code, 422);
        assert_eq!(v["details"]["causes"][0]["field"], "spec.selector");
        let mut mismatched = deployment("other", 1, "i");
        mismatched["spec"]["template"]["metadata"]["labels"] = json!({"app": "nope"});
        let (code, v) = api.apply(&format!("{DEPLOYS}/other"), "m", &mismatched);
        assert_eq!(code, 422);
        assert_eq!(
            v["details"]["causes"][0]["field"],
            "spec.template.metadata.labels"
        );
    }

    #[test]
    fn patches_and_the_status_subresource() {
        let api = setup();
        let path = format!("{CMS}/a");
        assert_eq!(
            api.post(CMS, &cm("a", json!({"x": "1"}), json!({"k": "v"})))
                .0,
            201
        );
        let (code, v) = api.call(
            "PATCH",
            &path,
            &[],
            Some(MERGE),
            Some(&json!({"data": {"k": null, "n": "1"}})),
        );
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["data"], json!({"n": "1"}));
        assert_eq!(v["metadata"]["generation"], 2);
        assert!(manager(&v, "unknown", "Update").is_some());
        let (code, v) = api.call(
            "PATCH",
            &path,
            &[],
            Some("application/strategic-merge-patch+json"),
            Some(&json!({"metadata": {"labels": {"y": "2"}}})),
        );
        assert_eq!(code, 200);
        assert_eq!(v["metadata"]["labels"], json!({"x": "1", "y": "2"}));
        assert_eq!(v["metadata"]["generation"], 2);
        let ops = json!([{"op": "add", "path": "/data/m", "value": "2"}, {"op": "remove", "path": "/metadata/labels/x"}]);
        let (code, v) = api.call(
            "PATCH",
            &path,
            &[],
            Some("application/json-patch+json"),
            Some(&ops),
        );
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["data"], json!({"n": "1", "m": "2"}));
        assert_eq!(v["metadata"]["labels"], json!({"y": "2"}));
        let (code, _) = api.call(
            "PATCH",
            &path,
            &[],
            Some("application/json-patch+json"),
            Some(&json!([{"op": "test", "path": "/data/n", "value": "9"}])),
        );
        assert_eq!(code, 422);
        let (code, v) = api.call(
            "PATCH",
            &path,
            &[("force", "true")],
            Some(MERGE),
            Some(&json!({})),
        );
        assert_eq!(code, 422, "{v}");
        let (code, v) = api.call(
            "PATCH",
            &path,
            &[],
            Some(APPLY),
            Some(&cm("a", json!({}), json!({}))),
        );
        assert_eq!(code, 422);
        assert_eq!(v["details"]["causes"][0]["field"], "fieldManager");
        let (code, _) = api.call(
            "PATCH",
            &path,
            &[("fieldManager", "m")],
            Some(APPLY),
            Some(&json!("not an object")),
        );
        assert_eq!(code, 400);
        let rv = api.rv(&path);
        let (code, v) = api.call(
            "PATCH",
            &path,
            &[],
            Some(MERGE),
            Some(&json!({"metadata": {"resourceVersion": "1"}, "data": {"z": "z"}})),
        );
        assert_eq!(code, 409, "{v}");
        assert_eq!(api.rv(&path), rv);

        let mut d = deployment("web", 1, "i");
        assert_eq!(api.apply(&format!("{DEPLOYS}/web"), "m", &d).0, 201);
        let status_path = format!("{DEPLOYS}/web/status");
        let (_, current) = api.get(&status_path);
        let mut with_status = current.clone();
        with_status["status"] = json!({"replicas": 7});
        with_status["spec"]["replicas"] = json!(9);
        let (code, v) = api.put(&status_path, &with_status);
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["status"], json!({"replicas": 7}));
        assert_eq!(
            v["spec"]["replicas"], 1,
            "a status write changes only the status"
        );
        assert_eq!(v["metadata"]["generation"], 1);
        let (code, v) = api.call(
            "PATCH",
            &status_path,
            &[("fieldManager", "ctl")],
            Some(MERGE),
            Some(&json!({"status": {"readyReplicas": 1}})),
        );
        assert_eq!(code, 200);
        assert_eq!(v["status"], json!({"replicas": 7, "readyReplicas": 1}));
        assert_eq!(
            manager(&v, "ctl", "Update").expect("ctl")["subresource"],
            "status"
        );
        d["status"] = json!({"replicas": 100});
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("j");
        let (code, v) = api.apply(&format!("{DEPLOYS}/web"), "m", &d);
        assert_eq!(code, 200);
        assert_ne!(
            v["status"]["replicas"], 100,
            "a main write never sets the status"
        );
        assert_eq!(v["metadata"]["generation"], 2);
        assert_eq!(
            api.get(&format!("{CMS}/a/status")).0,
            404,
            "ConfigMaps have no status subresource"
        );
    }

    #[test]
    fn deletes_honour_preconditions_finalizers_and_collections() {
        let api = setup();
        let (_, created) = api.post(CMS, &cm("a", json!({"app": "x"}), json!({})));
        let uid = created["metadata"]["uid"]
            .as_str()
            .expect("uid")
            .to_string();
        let path = format!("{CMS}/a");
        let (code, v) = api.call(
            "DELETE",
            &path,
            &[],
            Some("application/json"),
            Some(&json!({"preconditions": {"uid": "nope"}})),
        );
        assert_eq!(code, 409);
        assert!(
            v["message"]
                .as_str()
                .expect("message")
                .contains("Precondition failed: UID in precondition: nope")
        );
        let (code, _) = api.call(
            "DELETE",
            &path,
            &[],
            Some("application/json"),
            Some(&json!({"preconditions": {"resourceVersion": "1"}})),
        );
        assert_eq!(code, 409);
        let (code, _) = api.call(
            "DELETE",
            &path,
            &[],
            Some("application/json"),
            Some(&json!({"propagationPolicy": "Sideways"})),
        );
        assert_eq!(code, 422);
        let (code, v) = api.call("DELETE", &path, &[], Some("application/json"), Some(&json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground", "preconditions": {"uid": uid}})));
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["status"], "Success");
        assert_eq!(
            v["details"],
            json!({"name": "a", "kind": "configmaps", "uid": uid})
        );
        assert_eq!(api.call("DELETE", &path, &[], None, None).0, 404);

        let mut held = cm("held", json!({}), json!({}));
        held["metadata"]["finalizers"] = json!(["example.com/hold"]);
        assert_eq!(api.post(CMS, &held).0, 201);
        let (code, v) = api.call("DELETE", &format!("{CMS}/held"), &[], None, None);
        assert_eq!(code, 202);
        assert!(v["metadata"]["deletionTimestamp"].is_string());
        assert_eq!(api.get(&format!("{CMS}/held")).0, 200);
        let (code, _) = api.call(
            "PATCH",
            &format!("{CMS}/held"),
            &[],
            Some(MERGE),
            Some(&json!({"metadata": {"finalizers": null}})),
        );
        assert_eq!(code, 200);
        assert_eq!(
            api.get(&format!("{CMS}/held")).0,
            404,
            "the last finalizer gone, the object goes"
        );

        for n in ["b", "c", "d"] {
            let app = if n == "d" { "keep" } else { "drop" };
            api.post(CMS, &cm(n, json!({"app": app}), json!({})));
        }
        let (code, v) = api.call("DELETE", CMS, &[("labelSelector", "app=drop")], None, None);
        assert_eq!(code, 200);
        assert_eq!(names(&v), ["b", "c"]);
        assert_eq!(api.list(CMS, &[]), ["d"]);
    }

    #[test]
    fn helpers_insert_read_and_set_status() {
        let fk = FakeKube::start();
        fk.insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "legacy", "namespace": "old"},
            "spec": {"replicas": 1}, "status": {"readyReplicas": 1}}));
        let d = fk
            .object("apps/v1", "Deployment", Some("old"), "legacy")
            .expect("stored");
        assert_eq!(
            d["status"]["readyReplicas"], 1,
            "insert stores the status as given"
        );
        assert_eq!(d["metadata"]["generation"], 1);
        assert_eq!(d["metadata"]["managedFields"][0]["manager"], "test");
        assert!(
            fk.object("v1", "Namespace", None, "old").is_some(),
            "the namespace was created"
        );
        assert!(
            fk.object("apps/v1", "Deployment", Some("other"), "legacy")
                .is_none()
        );
        assert!(fk.object("v9", "Nothing", None, "x").is_none());
        let rv = rv_of(&d);
        fk.set_status(
            "apps/v1",
            "Deployment",
            Some("old"),
            "legacy",
            json!({"readyReplicas": 0}),
        );
        let d = fk
            .object("apps/v1", "Deployment", Some("old"), "legacy")
            .expect("stored");
        assert_eq!(d["status"], json!({"readyReplicas": 0}));
        assert_ne!(rv_of(&d), rv);
        assert_eq!(d["metadata"]["generation"], 1);
        let all = fk.objects();
        let kinds: Vec<(String, String)> = all
            .iter()
            .map(|o| {
                (
                    o["kind"].as_str().unwrap_or("").to_string(),
                    o["metadata"]["name"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert_eq!(
            kinds[0],
            ("Deployment".to_string(), "legacy".to_string()),
            "apps/v1 sorts before v1"
        );
        assert_eq!(kinds[1], ("Namespace".to_string(), "default".to_string()));
        assert_eq!(
            kinds.last().cloned(),
            Some(("Namespace".to_string(), "old".to_string()))
        );
        assert_eq!(all.len(), 6);
        assert!(fk.requests().is_empty());
    }

    #[test]
    fn unit_pieces() {
        assert_eq!(
            parse_label_selector("a in (x, y),!b,c!=d").expect("parse"),
            vec![
                Requirement::In("a".into(), vec!["x".into(), "y".into()]),
                Requirement::NotExists("b".into()),
                Requirement::NotEq("c".into(), "d".into()),
            ]
        );
        assert!(parse_label_selector("example.com/app=web").is_ok());
        assert!(parse_label_selector("a=(").is_err());
        let mut doc = json!({"a": {"b": 1, "c": [1, 2]}});
        merge_patch(&mut doc, &json!({"a": {"b": null, "d": 2}}));
        assert_eq!(doc, json!({"a": {"c": [1, 2], "d": 2}}));
        json_patch(
            &mut doc,
            &[
                json!({"op": "add", "path": "/a/c/-", "value": 3}),
                json!({"op": "move", "from": "/a/d", "path": "/e"}),
            ],
        )
        .expect("patch");
        assert_eq!(doc, json!({"a": {"c": [1, 2, 3]}, "e": 2}));
        let mut v = json!({"spec": {"x": {"y": 1}}, "keep": 1});
        assert!(remove_path(
            &mut v,
            &["spec".into(), "x".into(), "y".into()]
        ));
        assert_eq!(v, json!({"keep": 1}));
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(percent_decode("100%", false), "100%");
        let token = encode_continue(7, "ns", "name");
        assert_eq!(
            decode_continue(&token).expect("decode"),
            ("ns".to_string(), "name".to_string())
        );
        assert_eq!(
            fields_v1(
                &[vec!["spec".to_string(), "replicas".to_string()]]
                    .into_iter()
                    .collect()
            ),
            json!({"f:spec": {"f:replicas": {}}})
        );
    }

    #[test]
    fn the_kube_crate_works_against_it() {
        use k8s_openapi::api::apps::v1::Deployment;
        use k8s_openapi::api::core::v1::ConfigMap;
        use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};

        let _ = rustls::crypto::ring::default_provider().install_default();
        let fk = FakeKube::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        fk.write_kubeconfig(&path, Some("default"))
            .expect("kubeconfig");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let kc = kube::config::Kubeconfig::read_from(&path).expect("read");
            let options = kube::config::KubeConfigOptions::default();
            let config = kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .expect("config");
            assert_eq!(config.default_namespace, "default");
            let client = kube::Client::try_from(config).expect("client");
            let info = client.apiserver_version().await.expect("version");
            assert_eq!(info.minor, "33");
            let discovery = kube::discovery::Discovery::new(client.clone())
                .run()
                .await
                .expect("discovery");
            assert!(discovery.has_group("apps"));
            assert!(discovery.has_group("coordination.k8s.io"));

            let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
            let cm: ConfigMap =
                serde_json::from_value(cm("settings", json!({"app": "web"}), json!({"k": "v"})))
                    .expect("configmap");
            let apply = PatchParams::apply("cocktail");
            let applied = cms
                .patch("settings", &apply, &Patch::Apply(&cm))
                .await
                .expect("apply");
            assert!(applied.metadata.resource_version.is_some());
            let listed = cms
                .list(&ListParams::default().labels("app=web"))
                .await
                .expect("list");
            assert_eq!(listed.items.len(), 1);
            assert_eq!(listed.items[0].metadata.name.as_deref(), Some("settings"));
            assert!(cms.get_opt("missing").await.expect("get_opt").is_none());
            match cms.create(&PostParams::default(), &cm).await {
                Err(kube::Error::Api(s)) => assert!(s.is_already_exists(), "{s:?}"),
                other => panic!("expected AlreadyExists, got {other:?}"),
            }
            let dry = PatchParams::apply("cocktail").dry_run();
            let mut changed = cm.clone();
            changed.data = Some([("k".to_string(), "w".to_string())].into());
            let preview = cms
                .patch("settings", &dry, &Patch::Apply(&changed))
                .await
                .expect("dry run");
            assert_eq!(
                preview
                    .data
                    .as_ref()
                    .and_then(|d| d.get("k"))
                    .map(String::as_str),
                Some("w")
            );
            let stored = cms.get("settings").await.expect("get");
            assert_eq!(
                stored
                    .data
                    .as_ref()
                    .and_then(|d| d.get("k"))
                    .map(String::as_str),
                Some("v")
            );

            let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
            let d: Deployment =
                serde_json::from_value(deployment("web", 2, "nginx")).expect("deployment");
            deployments
                .patch("web", &apply, &Patch::Apply(&d))
                .await
                .expect("apply deployment");
            let status = deployments
                .get_status("web")
                .await
                .expect("status")
                .status
                .expect("a status");
            assert_eq!(status.ready_replicas, Some(2));
            fk.apply_as(
                "kubectl-edit",
                json!({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "web", "namespace": "default"},
                       "spec": {"replicas": 5}}),
            );
            match deployments.patch("web", &apply, &Patch::Apply(&d)).await {
                Err(kube::Error::Api(s)) => {
                    assert!(s.is_conflict(), "{s:?}");
                    assert!(s.message.contains(".spec.replicas"), "{}", s.message);
                }
                other => panic!("expected a conflict, got {other:?}"),
            }
            let forced = deployments
                .patch("web", &apply.clone().force(), &Patch::Apply(&d))
                .await
                .expect("forced");
            assert_eq!(forced.spec.and_then(|s| s.replicas), Some(2));
            let deleted = cms
                .delete("settings", &DeleteParams::default())
                .await
                .expect("delete");
            assert!(deleted.is_right(), "an immediate delete answers a Status");
        });
        let reqs = fk.requests();
        assert!(!reqs.is_empty());
        assert!(
            reqs.iter()
                .all(|r| r.authorization.as_deref() == Some("Bearer fake-token"))
        );
    }
}
