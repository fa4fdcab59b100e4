//! A fake Kubernetes API server for integration tests and benchmarks.
//!
//! [`FakeKube::start`] serves the Kubernetes REST API over plain HTTP on `127.0.0.1` (a random
//! port) from a thread of its own, so the kube target can be exercised over the real wire with
//! the `kube` crate as client. It aims to be honest to the documented API where a package
//! manager can notice the difference:
//!
//! - discovery (`/version`, `/api`, `/apis`, `/apis/{group}`, `/api/v1`,
//!   `/apis/{group}/{version}`) from one resource table that also drives routing (plural <->
//!   kind, namespaced or not), plus the custom resources of Established CRDs; `/healthz`, `/livez`, `/readyz`;
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
//!   Services (with an EndpointSlice) and Ingresses after each write; the Deployment
//!   controller makes a ReplicaSet per pod template (`NAME-HASH`, label `pod-template-hash`,
//!   annotation `deployment.kubernetes.io/revision`, owned by the Deployment; older ones
//!   scaled to 0) and its pods (`NAME-HASH-xxxxx`, the template's labels and annotations,
//!   owned by the ReplicaSet, event `SuccessfulCreate`);
//! - CustomResourceDefinitions (`apiextensions.k8s.io/v1`): the registry's validation (names,
//!   scope, versions, exactly one storage version, `metadata.name` = `PLURAL.GROUP`, schemas
//!   required, an update dropping a version of `status.storedVersions` refused) and defaults,
//!   `status.storedVersions` gaining each storage version, `acceptedNames` and the
//!   `NamesAccepted`/`Established` conditions; an Established CRD serves its custom resources
//!   (discovery, every verb, the `status` subresource when a version declares it, storage like
//!   other objects; the served versions only, each answering with its own `apiVersion`);
//!   deleting a CRD deletes its custom resources;
//! - run-to-completion workloads: a Pod whose `restartPolicy` is `Never` or `OnFailure`
//!   reaches `Succeeded` (container terminated, exit code 0, `Completed`); the Job controller
//!   creates one Pod per Job (`JOB-xxxxx`, labels `job-name`, `batch.kubernetes.io/job-name`,
//!   `controller-uid`, `batch.kubernetes.io/controller-uid`, an owning `ownerReference`) whose
//!   phase follows the Job's outcome;
//! - core/v1 Events recorded by the simulated controllers: a Job's `SuccessfulCreate`,
//!   `Completed` and `BackoffLimitExceeded`, a failed Pod's `Failed` (and `BackOff` unless its
//!   `restartPolicy` is `Never`), aggregated (`count`, `lastTimestamp`); field selectors on
//!   `involvedObject.*`, `reason`, `type`, `source` (and Pods' `status.phase`,
//!   `spec.nodeName`..., Secrets' `type`);
//! - `pods/{name}/log` (`text/plain`) with `container`, `tailLines`, `limitBytes`, `timestamps`
//!   and `previous`, and the real server's 400s (several containers and no `container`, an
//!   unknown container, a container waiting to start); `sinceSeconds` and `follow=true` too:
//!   lines tests append ([`FakeKube::append_log`]) stream to followers, and a followed log ends
//!   when its pod is deleted or finishes;
//! - `pods/{name}/exec` over WebSocket (`v5.channel.k8s.io`, else `v4.channel.k8s.io`): the
//!   channel protocol with the status channel's `Status` and exit code, terminal resizes
//!   recorded ([`FakeKube::exec_sessions`]), commands simulated (`echo`, `cat`, `exit N`,
//!   `sh -c` with simple scripts, interactive `sh`/`bash`: see the `exec` module);
//! - `pods/{name}/portforward` over WebSocket (the v4 port-forward protocol: a data and an
//!   error channel per port, each opened with the port number), to an echo or to an address
//!   a test gives ([`FakeKube::forward_port_to`]).
//!
//! # The outcome knob
//!
//! Annotations on a Pod, a Job or a Job's pod template (a Job's own are copied to its pod) set
//! what one workload does, whatever the [`Readiness`] mode:
//!
//! - [`OUTCOME`] (`fake-kube.cocktail.io/outcome`): `succeed` completes (a Job `Complete`, a
//!   run-to-completion Pod `Succeeded`, another Pod Running and ready) even under
//!   [`Readiness::Never`]; `fail` fails (a Job gets `FailureTarget` and `Failed=True`, reason
//!   `BackoffLimitExceeded`, message `Job has reached the specified backoff limit`,
//!   `status.failed: 1`; a Pod the phase `Failed` with its containers terminated, reason
//!   `Error`); `never` runs forever (a Job stays active, its Pod Running and not ready, or
//!   Pending under `Never`); on a Pod or a Deployment's pod template (never ready, and the
//!   Deployment not available): `crashloop` (Running, containers waiting `CrashLoopBackOff`,
//!   `lastState.terminated` with the exit code and reason `Error`, `restartCount` 3, events
//!   `BackOff` counted twice), `oomkilled` (the same with reason `OOMKilled`, exit code 137),
//!   `imagepull` (Pending, waiting `ImagePullBackOff` `Back-off pulling image "IMAGE"`,
//!   events `Failed` and `BackOff`), `unschedulable` (Pending, no node, `PodScheduled=False`
//!   reason `Unschedulable` `0/3 nodes are available: 3 Insufficient memory. ...`, event
//!   `FailedScheduling` from `default-scheduler`); on a PersistentVolumeClaim, `fail` keeps
//!   it `Pending` with the event `ProvisioningFailed` (`storageclass.storage.k8s.io "CLASS"
//!   not found`); any other value or none: what the readiness mode says;
//! - [`EXIT_CODE`] (`fake-kube.cocktail.io/exit-code`): the exit code of a failed Pod's
//!   containers (default 1);
//! - [`LOG`] (`fake-kube.cocktail.io/log`): the log of every container of the Pod, or
//!   `fake-kube.cocktail.io/log.CONTAINER` for one container;
//! - [`PREVIOUS_LOG`] (`fake-kube.cocktail.io/previous-log`, or `.CONTAINER`): what
//!   `pods/log?previous=true` returns for a container that has restarted (with the annotation
//!   and no restart, the real server's 400 `previous terminated container ... not found`;
//!   without the annotation, the current log stands in).
//!
//! Simplifications, on purpose:
//!
//! - lists are atomic: ownership is tracked per leaf, and an array is one leaf (the real server
//!   merges some lists by key, such as containers by `name`); `fieldsV1` is the simplified
//!   `{"f:spec":{"f:replicas":{}}}` form, without `"."` entries or list-item keys;
//! - no watch (`watch=true` answers 405), no scale/attach subresources, no OpenAPI, no
//!   schema: unknown fields are stored as sent; no defaulting beyond what is listed above;
//! - custom resources are not validated, pruned or defaulted against their CRD's schema (no
//!   OpenAPI schema, CEL rules, `x-kubernetes-*` semantics), versions are not converted (no
//!   webhooks: they differ only in `apiVersion`), `status` is always the subresource's field
//!   (a CRD version without a `status` subresource still keeps `status` out of main-resource
//!   writes), and CRDs' names are accepted without looking for conflicts; a CRD is deleted at
//!   once with its custom resources (no `customresourcecleanup` finalizer to observe);
//! - a Job has exactly one Pod whatever its `parallelism`, `completions` or `backoffLimit`
//!   (a failed Job reports `failed: 1`); Pods never restart (`restartCount` stays 0, but 3 for
//!   the crash-looping outcomes) and run on the one node `fake-node-1`; only Deployments get
//!   pods from a controller (StatefulSets and DaemonSets have a status only); a rollout
//!   replaces every pod at once; the kubelet's `Failed` event of a failed container is
//!   worded `Error: container NAME exited with code N`; `events.k8s.io/v1` serves the core/v1
//!   events converted, for reading only (writes go through core/v1);
//! - Namespace deletion is immediate (no `Terminating` phase you can observe afterwards);
//!   finalizers are honoured on other objects, but garbage collection ignores them;
//! - list items carry no apiVersion/kind and zero status counters are omitted, as on a real
//!   server; the Update field manager defaults to `unknown` (the real server derives it from
//!   the User-Agent);
//! - `continue` tokens page over the current state, not a snapshot;
//! - the cluster starts with the Namespaces `default`, `kube-system`, `kube-public` and
//!   `kube-node-lease`, and nothing else (no `kubernetes` Service, no default ServiceAccounts);
//! - authentication: a request without `Authorization` is served (anonymous); one with a token
//!   other than `Bearer fake-token` gets 401;
//! - limits: request bodies up to 3 MiB; apply bodies in YAML are read with serde-saphyr's
//!   budgets (nesting, aliases); a JSON patch may nest the object at most 256 levels deep and
//!   its `copy` operations may add at most 3 MiB (the real server's copy limit); a full Service
//!   IP or node port range is a 500.
//!
//! # Layout
//!
//! - [`FakeKube`] (this file): start and stop, the test helpers, the kubeconfig;
//! - `http`: the axum handler, routing by path, discovery documents, query decoding;
//! - `verbs`: the REST verbs (create, replace, patch, apply, delete, deletecollection) and the
//!   decoding of their bodies and options;
//! - `store`: objects, `resourceVersion`, `uid`, the write path (bookkeeping, `generation`,
//!   `managedFields`, no-op writes), reads, selectors (`store::selector`) and pagination;
//! - `ssa`: field ownership: managers, Update and Apply operations, conflicts, `force`,
//!   removal of fields a manager stopped applying;
//! - `validation`: `Status` error bodies, names, labels, immutable fields, preconditions;
//! - `defaults`: what the registry adds on write (Service IPs and ports, Secret `stringData`);
//! - `controllers`: the readiness simulation, Namespace cascade, `ownerReferences` GC;
//! - `crds`: CRD validation, defaults, status and stored versions, the served custom resources
//!   (interned definitions in `resources`, the store's `custom` table);
//! - `pods`: Pod phases, the outcome knob, the Job controller's pods and events, pod logs;
//! - `logs`: `pods/log` as a stream (lines appended by tests, `follow`, `sinceSeconds`);
//!   `exec`: `pods/exec` over WebSocket (the channel protocol, simulated commands) and the
//!   WebSocket upgrade; `portforward`: `pods/portforward` over WebSocket (to an echo or a
//!   test's address);
//! - `events`: recording and aggregating core/v1 Events;
//! - `protobuf`: protobuf request bodies of the kinds typed clients write that way (Secrets,
//!   ConfigMaps);
//! - `faults`: fault rules; `resources`: the served resource table; `json`: value helpers and
//!   the JSON patch flavours.
//!
//! Test-setup failures (a port that cannot be bound, a helper given an object the server
//! refuses) panic; anything a request carries gets a `Status` answer instead.

mod controllers;
mod crds;
mod defaults;
mod events;
mod exec;
mod faults;
mod http;
mod json;
mod logs;
mod pods;
mod portforward;
mod protobuf;
mod resources;
mod ssa;
mod store;
mod validation;
mod verbs;

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use serde_json::Value;

pub use controllers::Readiness;
pub use exec::{ExecRecord, SHELLS};
pub use faults::Fault;
pub use pods::{EXIT_CODE, LOG, OUTCOME, PREVIOUS_LOG};

use crate::http::serve_thread;
use crate::store::{Key, Store, key};

/// The bearer token written to the kubeconfig and accepted by the server.
pub const TOKEN: &str = "fake-token";

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
    #[expect(
        clippy::expect_used,
        clippy::panic,
        reason = "test setup: a server that cannot start, or a helper the server refuses, must stop the test"
    )]
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
        let store = lock(&self.shared.store);
        let res = store.find_by_kind(api_version, kind)?;
        let ns = if res.namespaced { namespace } else { None };
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
    #[expect(
        clippy::panic,
        reason = "test setup: a server that cannot start, or a helper the server refuses, must stop the test"
    )]
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
    #[expect(
        clippy::panic,
        reason = "test setup: a server that cannot start, or a helper the server refuses, must stop the test"
    )]
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
    #[expect(
        clippy::panic,
        reason = "test setup: a server that cannot start, or a helper the server refuses, must stop the test"
    )]
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

/// What the handler and the [`FakeKube`] helpers share.
pub(crate) struct Shared {
    pub(crate) store: Mutex<Store>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) faults: Mutex<Vec<Fault>>,
    /// Lines appended to containers' logs ([`FakeKube::append_log`]).
    pub(crate) appended: Mutex<logs::Appended>,
    /// Exec sessions ([`FakeKube::exec_sessions`]).
    pub(crate) exec_sessions: Mutex<Vec<ExecRecord>>,
    /// Where forwarded ports lead ([`FakeKube::forward_port_to`]).
    pub(crate) port_targets: Mutex<portforward::PortTargets>,
}

impl Shared {
    fn new() -> Self {
        let seed = std::collections::hash_map::RandomState::new()
            .hash_one(std::time::SystemTime::now())
            | 1;
        let mut store = Store::new(seed);
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
            appended: Mutex::new(logs::Appended::default()),
            exec_sessions: Mutex::new(Vec::new()),
            port_targets: Mutex::new(portforward::PortTargets::new()),
        }
    }
}

/// Locks `m`; a panic in another holder (a failed test) does not poison the server.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The current time as the API writes timestamps: RFC 3339 in UTC, whole seconds
/// (`2026-11-22T00:30:00Z`).
pub(crate) fn now() -> String {
    format_rfc3339(jiff::Timestamp::now())
}

fn format_rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
