//! The Kubernetes target, through the kube crate.
//!
//! - Connection: kubeconfig and contexts as kubectl resolves them (`--kube-context`,
//!   `KUBECONFIG` with several files, `~/.kube/config`), else the in-cluster service account.
//! - Objects: server-side apply (`PATCH` with `application/apply-patch+yaml`) with field manager
//!   `cocktail-pkg`, `force` only with `--force-conflicts`, `dryRun=All` for `--dry-run`.
//!   Kinds are resolved through API discovery (like kubectl's REST mapper) and cached.
//! - Release records: Secrets of type `cocktail.io/release.v1` named
//!   `cocktail.release.v1.<release>.v<revision>` (further chunks `….part<i>`), labelled `owner`,
//!   `name`, `revision`, `status`, `chunk` and `chunks`.
//! - Leases: `coordination.k8s.io/v1` Lease `cocktail-pkg.<release>` in the service map, created
//!   or taken over with optimistic concurrency (`resourceVersion`), deleted with a
//!   `resourceVersion` precondition when done.
//! - Transient failures (5xx, 429, connection errors and timeouts) of idempotent calls are
//!   retried three times with backoff; lease writes are not retried (they are conditional).
//!
//! - Pods (`pods`): logs streamed line by line (`pods/log`, `follow`), commands run through
//!   `pods/exec` and ports forwarded through `pods/portforward` over WebSocket (the kube crate's
//!   `ws` feature: `v5.channel.k8s.io`, falling back to `v4.channel.k8s.io`), on a client without
//!   the read timeout.
//!
//! The trait is synchronous: each call blocks on a runtime owned by the target. Calls may come
//! from several threads at once (one kind wave is applied concurrently).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, Preconditions,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::Scope;
use serde_json::{Value, json};

use super::lease::{Holder, decide, local_liveness};
use super::{ApplyMode, ExecIo, ExecRequest, Lease, LogRequest, LogStream, Target, TargetError};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::release::{self, Record};
use crate::time::{UnixTime, format_rfc3339, parse_rfc3339};

mod pods;

/// The field manager of every apply.
pub const FIELD_MANAGER: &str = "cocktail-pkg";
/// The Secret type of release records.
pub const RECORD_TYPE: &str = "cocktail.io/release.v1";

/// How to connect.
#[derive(Debug, Clone, Default)]
pub struct KubeOptions {
    /// A kubeconfig context (`--kube-context`); default: the current context.
    pub context: Option<String>,
    /// A kubeconfig file instead of `KUBECONFIG` / `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// Timeout of one API request (default 30 s).
    pub timeout: Option<Duration>,
}

/// Whether there is a cluster to talk to without asking: a kubeconfig (`KUBECONFIG` or
/// `~/.kube/config`) or an in-cluster service account.
pub fn kubeconfig_available() -> bool {
    if let Some(paths) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) {
        return std::env::split_paths(&paths).any(|p| p.is_file());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    home.is_some_and(|h| h.join(".kube").join("config").is_file())
        || std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
}

/// Discovered resources per (group, version or "" for the preferred one): (resource, namespaced).
type ResourceCache = HashMap<(String, String), Vec<(ApiResource, bool)>>;

/// See the module docs.
pub struct KubeTarget {
    rt: tokio::runtime::Runtime,
    client: kube::Client,
    /// The same connection settings without the read timeout: for streams that may stay quiet
    /// for long (`logs -f`, an idle shell, a forwarded port).
    stream_client: kube::Client,
    name: String,
    url: String,
    default_namespace: String,
    resources: Mutex<ResourceCache>,
    /// Held while a discovery request is in flight.
    discovery: Mutex<()>,
}

fn connect_error(
    message: String,
) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> TargetError {
    move |source| TargetError::Connect {
        message,
        source: Some(source),
    }
}

impl KubeTarget {
    /// Resolves the kubeconfig (or in-cluster account) and builds a client. Sends nothing.
    pub fn connect(opts: &KubeOptions) -> Result<Self, TargetError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kube")
            .enable_all()
            .build()
            .map_err(|e| connect_error("failed to start the kube client".into())(Box::new(e)))?;
        let kopts = KubeConfigOptions {
            context: opts.context.clone(),
            ..Default::default()
        };
        let (mut config, name) = rt.block_on(async {
            let file = match &opts.kubeconfig {
                Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| {
                    connect_error(format!("failed to read kubeconfig {}", path.display()))(
                        Box::new(e),
                    )
                })?),
                None if kubeconfig_available()
                    && std::env::var_os("KUBERNETES_SERVICE_HOST").is_none()
                    || opts.context.is_some() =>
                {
                    Some(Kubeconfig::read().map_err(|e| {
                        connect_error(
                            "failed to read the kubeconfig (KUBECONFIG or ~/.kube/config)".into(),
                        )(Box::new(e))
                    })?)
                }
                None => None,
            };
            match file {
                Some(file) => {
                    let name = opts
                        .context
                        .clone()
                        .or_else(|| file.current_context.clone())
                        .unwrap_or_else(|| "default".into());
                    let config = kube::Config::from_custom_kubeconfig(file, &kopts)
                        .await
                        .map_err(|e| {
                            connect_error(format!("failed to use kube context `{name}`"))(Box::new(
                                e,
                            ))
                        })?;
                    Ok((config, name))
                }
                None => kube::Config::incluster()
                    .map(|c| (c, "in-cluster".to_string()))
                    .map_err(|e| {
                        connect_error("no kubeconfig and not running in a cluster".into())(
                            Box::new(e),
                        )
                    }),
            }
        })?;
        config.read_timeout = Some(opts.timeout.unwrap_or(Duration::from_secs(30)));
        config.connect_timeout = Some(Duration::from_secs(10));
        let url = config.cluster_url.to_string();
        let default_namespace = config.default_namespace.clone();
        let mut stream_config = config.clone();
        stream_config.read_timeout = None;
        let build = |config: kube::Config| {
            rt.block_on(async { kube::Client::try_from(config) })
                .map_err(|e| {
                    connect_error(format!("failed to build a client for {url}"))(Box::new(e))
                })
        };
        let client = build(config)?;
        let stream_client = build(stream_config)?;
        Ok(Self {
            rt,
            client,
            stream_client,
            name,
            url,
            default_namespace,
            resources: Mutex::new(HashMap::new()),
            discovery: Mutex::new(()),
        })
    }

    /// The namespace of the kube context (`default` when it names none).
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    fn err(&self, action: String, id: Option<&ObjectId>, e: kube::Error) -> TargetError {
        match e {
            kube::Error::Api(status) => {
                let code = status.code;
                let reason = status.reason.clone();
                let details_kind = status
                    .details
                    .as_ref()
                    .map(|d| d.kind.clone())
                    .unwrap_or_default();
                if code == 404 && details_kind == "namespaces" {
                    let name = status
                        .details
                        .as_ref()
                        .map(|d| d.name.clone())
                        .unwrap_or_default();
                    return TargetError::NoServiceMap(name);
                }
                if let (409, "Conflict", Some(id)) = (code, reason.as_str(), id) {
                    return TargetError::Conflict {
                        id: id.clone(),
                        message: status.message.clone(),
                    };
                }
                TargetError::Api {
                    action,
                    code,
                    message: format!("{} ({code} {reason})", status.message),
                }
            }
            other => TargetError::Connect {
                message: connect_message(&action, &self.url, &crate::error_chain(&other)),
                source: Some(Box::new(other)),
            },
        }
    }

    /// Runs an idempotent call, retrying transient failures.
    fn call<T, F, Fut>(&self, f: F) -> Result<T, kube::Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        self.rt.block_on(async {
            let mut attempt = 0u32;
            loop {
                match f().await {
                    Err(e) if attempt < 2 && transient(&e) => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    }
                    r => return r,
                }
            }
        })
    }

    /// The API resource of a kind: pinned when the version is known, else the group's
    /// preferred version.
    fn resource(
        &self,
        group: &str,
        version: Option<&str>,
        kind: &str,
    ) -> Result<(ApiResource, bool), TargetError> {
        let key = (group.to_string(), version.unwrap_or("").to_string());
        let find = |cache: &ResourceCache| {
            cache
                .get(&key)
                .map(|list| list.iter().find(|(ar, _)| ar.kind == kind).cloned())
        };
        // (Each cache lookup is its own statement: the guard must be dropped before the next.)
        let cached = find(&self.lock_resources());
        let found = match cached {
            Some(Some(found)) => Some(found),
            // Not cached, or cached without this kind: a CRD may have been created since.
            _ => {
                // One discovery request per group version, even when a whole kind wave misses
                // the cache at once: the others wait for it, then read the cache.
                let _flight = self.discovery.lock().unwrap_or_else(|p| p.into_inner());
                let cached = find(&self.lock_resources());
                match cached {
                    Some(Some(found)) => Some(found),
                    _ => {
                        let list = self.discover(group, version).map_err(|e| {
                            self.err(format!("failed to discover kind {kind}"), None, e)
                        })?;
                        self.lock_resources().insert(key.clone(), list);
                        let cached = find(&self.lock_resources());
                        cached.flatten()
                    }
                }
            }
        };
        found.ok_or_else(|| {
            let api_version = match version {
                Some(v) if !group.is_empty() => format!("{group}/{v}"),
                Some(v) => v.to_string(),
                None if group.is_empty() => "v1".into(),
                None => group.to_string(),
            };
            TargetError::Api {
                action: format!("failed to find kind {kind}"),
                code: 404,
                message: format!(
                    "the cluster does not serve kind {kind} in {api_version} (is its CRD installed?)"
                ),
            }
        })
    }

    /// The resources of a group version (or of a group's preferred version); empty when the
    /// cluster does not serve it.
    fn discover(
        &self,
        group: &str,
        version: Option<&str>,
    ) -> Result<Vec<(ApiResource, bool)>, kube::Error> {
        let resources = match version {
            Some(v) => {
                let gv = kube::core::GroupVersion::gv(group, v);
                self.call(|| kube::discovery::pinned_group(&self.client, &gv))
                    .map(|g| g.versioned_resources(v))
            }
            None => self
                .call(|| kube::discovery::group(&self.client, group))
                .map(|g| g.recommended_resources()),
        };
        match resources {
            Ok(list) => Ok(list
                .into_iter()
                .map(|(ar, caps)| (ar, caps.scope == Scope::Namespaced))
                .collect()),
            Err(kube::Error::Discovery(_)) => Ok(Vec::new()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    fn lock_resources(&self) -> std::sync::MutexGuard<'_, ResourceCache> {
        match self.resources.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn api(&self, ar: &ApiResource, namespaced: bool, namespace: &str) -> Api<DynamicObject> {
        if namespaced && !namespace.is_empty() {
            Api::namespaced_with(self.client.clone(), namespace, ar)
        } else {
            Api::all_with(self.client.clone(), ar)
        }
    }

    fn api_for(
        &self,
        id: &ObjectId,
        version: Option<&str>,
    ) -> Result<Api<DynamicObject>, TargetError> {
        let (ar, namespaced) = self.resource(&id.group, version, &id.kind)?;
        Ok(self.api(&ar, namespaced, &id.namespace))
    }

    fn secrets(&self, namespace: Option<&str>) -> Api<DynamicObject> {
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("", "v1", "Secret"),
            "secrets",
        );
        match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        }
    }

    fn leases(&self, namespace: &str) -> Api<DynamicObject> {
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("coordination.k8s.io", "v1", "Lease"),
            "leases",
        );
        Api::namespaced_with(self.client.clone(), namespace, &ar)
    }

    fn record_secrets(
        &self,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<DynamicObject>, TargetError> {
        let api = self.secrets(Some(namespace));
        let lp = ListParams::default().labels(selector);
        self.call(|| api.list(&lp))
            .map(|l| l.items)
            .map_err(|e| self.err("failed to list release records".into(), None, e))
    }
}

fn transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => matches!(s.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

fn to_value(o: DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

fn micro_time(t: UnixTime) -> String {
    format_rfc3339(t).replace('Z', ".000000Z")
}

fn label<'a>(o: &'a DynamicObject, key: &str) -> Option<&'a str> {
    o.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(key))
        .map(String::as_str)
}

/// The chunk of a record a Secret holds (its `release` key): a Secret that lacks it or does
/// not hold base64 text is an error naming the Secret, never an empty chunk.
fn record_chunk(s: &DynamicObject, release: &str, revision: u64) -> Result<String, TargetError> {
    let bad = |why: &str| TargetError::Record {
        release: release.to_string(),
        revision,
        source: release::CodecError::Base64(format!(
            "Secret {} {why}",
            s.metadata.name.as_deref().unwrap_or("(unnamed)")
        )),
    };
    let text = s
        .data
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("has no `release` key"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| bad(&format!("holds no base64 data: {e}")))?;
    String::from_utf8(bytes).map_err(|_| bad("holds a chunk that is not text"))
}

fn record_name(release: &str, revision: u64, chunk: usize) -> String {
    if chunk == 0 {
        format!("cocktail.release.v1.{release}.v{revision}")
    } else {
        format!("cocktail.release.v1.{release}.v{revision}.part{chunk}")
    }
}

fn lease_name(release: &str) -> String {
    format!("cocktail-pkg.{release}")
}

/// A Lease object as a [`Lease`]: holder, acquire time and expiry (renew time + duration).
fn lease_state(o: &DynamicObject, service_map: &str, release: &str) -> Lease {
    let spec = o.data.get("spec");
    let text = |k: &str| {
        spec.and_then(|s| s.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    // A Lease another tool wrote may lack times: then it counts as acquired at the epoch and
    // expired, as the Kubernetes leader-election code treats it.
    let acquired = parse_rfc3339(&text("acquireTime")).unwrap_or(0);
    let renewed = parse_rfc3339(&text("renewTime")).unwrap_or(acquired);
    let ttl = spec
        .and_then(|s| s.get("leaseDurationSeconds"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    Lease {
        service_map: service_map.to_string(),
        release: release.to_string(),
        holder: Holder::parse(&text("holderIdentity")),
        acquired,
        expires: renewed.saturating_add(ttl),
        took_over_from: None,
    }
}

impl Target for KubeTarget {
    fn describe(&self) -> String {
        format!("kube:{}", self.name)
    }

    fn get(&self, id: &ObjectId) -> Result<Option<Value>, TargetError> {
        let api = self.api_for(id, None)?;
        self.call(|| api.get_opt(&id.name))
            .map(|o| o.map(to_value))
            .map_err(|e| self.err(format!("failed to get {id}"), Some(id), e))
    }

    fn apply(&self, id: &ObjectId, object: &Value, mode: ApplyMode) -> Result<Value, TargetError> {
        let version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string());
        let api = self.api_for(id, version.as_deref())?;
        let mut pp = PatchParams::apply(FIELD_MANAGER);
        match mode {
            ApplyMode::DryRun => pp = pp.dry_run(),
            ApplyMode::Commit { force_conflicts } if force_conflicts => pp = pp.force(),
            ApplyMode::Commit { .. } => {}
        }
        let patch = Patch::Apply(object);
        self.call(|| api.patch(&id.name, &pp, &patch))
            .map(to_value)
            .map_err(|e| self.err(format!("failed to apply {id}"), Some(id), e))
    }

    fn delete(&self, id: &ObjectId) -> Result<(), TargetError> {
        let api = self.api_for(id, None)?;
        let dp = DeleteParams::background();
        match self.call(|| api.delete(&id.name, &dp)) {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(self.err(format!("failed to delete {id}"), Some(id), e)),
        }
    }

    fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, TargetError> {
        let group = ObjectId::group_of(api_version);
        let version = api_version.rsplit('/').next().unwrap_or(api_version);
        let (ar, namespaced) = self.resource(group, Some(version), kind)?;
        let api = self.api(&ar, namespaced, namespace.unwrap_or(""));
        let mut lp = ListParams::default();
        if let Some(sel) = label_selector {
            lp = lp.labels(sel);
        }
        self.call(|| api.list(&lp))
            .map(|l| {
                l.items
                    .into_iter()
                    .map(|mut o| {
                        o.types = Some(kube::core::TypeMeta {
                            api_version: api_version.to_string(),
                            kind: kind.to_string(),
                        });
                        to_value(o)
                    })
                    .collect()
            })
            .map_err(|e| self.err(format!("failed to list {kind}"), None, e))
    }

    fn apply_as(
        &self,
        id: &ObjectId,
        partial: &Value,
        field_manager: &str,
    ) -> Result<(), TargetError> {
        let version = partial
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string());
        let api = self.api_for(id, version.as_deref())?;
        let pp = PatchParams::apply(field_manager).force();
        let patch = Patch::Apply(partial);
        self.call(|| api.patch(&id.name, &pp, &patch))
            .map(drop)
            .map_err(|e| self.err(format!("failed to apply {id}"), Some(id), e))
    }

    fn is_cluster(&self) -> bool {
        true
    }

    fn take_ownership(
        &self,
        id: &ObjectId,
        object: &Value,
        from: &[&str],
    ) -> Result<Vec<String>, TargetError> {
        self.apply(
            id,
            object,
            ApplyMode::Commit {
                force_conflicts: true,
            },
        )?;
        let version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string());
        let api = self.api_for(id, version.as_deref())?;
        let action = || format!("failed to take ownership of {id}");
        // client-go's csaupgrade way: write managedFields without the old managers, with the
        // resourceVersion read as a precondition; a concurrent write (409) reads again.
        let mut attempt = 0u32;
        loop {
            let Some(live) = self
                .call(|| api.get_opt(&id.name))
                .map_err(|e| self.err(action(), Some(id), e))?
                .map(to_value)
            else {
                return Ok(Vec::new());
            };
            let entries = live
                .pointer("/metadata/managedFields")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let (removed, kept): (Vec<Value>, Vec<Value>) = entries.into_iter().partition(|e| {
                e.get("manager")
                    .and_then(Value::as_str)
                    .is_some_and(|m| from.contains(&m))
            });
            if removed.is_empty() {
                return Ok(Vec::new());
            }
            // An empty list would leave managedFields as they are: one empty entry resets them.
            let kept = if kept.is_empty() {
                vec![json!({})]
            } else {
                kept
            };
            let patch = json!({"metadata": {
                "managedFields": kept,
                "resourceVersion": live.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null),
            }});
            let merge = Patch::Merge(&patch);
            match self
                .rt
                .block_on(api.patch(&id.name, &PatchParams::default(), &merge))
            {
                Ok(_) => {
                    return Ok(removed
                        .iter()
                        .map(|e| {
                            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
                            match text("subresource") {
                                "" => format!("{} ({})", text("manager"), text("operation")),
                                sub => {
                                    format!("{} ({}, {sub})", text("manager"), text("operation"))
                                }
                            }
                        })
                        .collect());
                }
                Err(kube::Error::Api(s)) if s.code == 409 && attempt < 3 => attempt += 1,
                Err(e) => return Err(self.err(action(), Some(id), e)),
            }
        }
    }

    fn current_records(
        &self,
        service_map: Option<&ServiceMapName>,
    ) -> Result<Vec<Record>, TargetError> {
        // One list: the revisions that can be current (not superseded, not uninstalled).
        let api = self.secrets(service_map.map(ServiceMapName::as_str));
        let lp = ListParams::default().labels(&format!(
            "owner={FIELD_MANAGER},status in (deployed,failed,pending-install,pending-upgrade,pending-rollback)"
        ));
        let items = self
            .call(|| api.list(&lp))
            .map_err(|e| self.err("failed to list release records".into(), None, e))?
            .items;
        let mut by_release: BTreeMap<(String, String), Vec<DynamicObject>> = BTreeMap::new();
        for s in items {
            let (Some(ns), Some(name)) = (s.metadata.namespace.clone(), label(&s, "name")) else {
                continue;
            };
            by_release
                .entry((ns, name.to_string()))
                .or_default()
                .push(s);
        }
        let mut out = Vec::new();
        for ((_, release), secrets) in by_release {
            let newest = secrets
                .iter()
                .filter_map(|s| label(s, "revision").and_then(|r| r.parse::<u64>().ok()))
                .max()
                .unwrap_or(0);
            let mut chunks: Vec<(usize, String)> = secrets
                .iter()
                .filter(|s| {
                    label(s, "revision").and_then(|r| r.parse::<u64>().ok()) == Some(newest)
                })
                .filter_map(|s| {
                    let chunk = label(s, "chunk")?.parse::<usize>().ok()?;
                    Some(record_chunk(s, &release, newest).map(|text| (chunk, text)))
                })
                .collect::<Result<_, _>>()?;
            chunks.sort();
            let texts: Vec<String> = chunks.into_iter().map(|(_, t)| t).collect();
            out.push(
                release::decode(&texts).map_err(|source| TargetError::Record {
                    release: release.clone(),
                    revision: newest,
                    source,
                })?,
            );
        }
        Ok(out)
    }

    fn pod_log(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        tail: i64,
    ) -> Result<Option<String>, TargetError> {
        let api: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(self.client.clone(), namespace);
        let lp = kube::api::LogParams {
            container: container.map(str::to_string),
            tail_lines: Some(tail),
            ..Default::default()
        };
        self.call(|| api.logs(pod, &lp)).map(Some).map_err(|e| {
            self.err(
                format!("failed to read the log of pod {namespace}/{pod}"),
                None,
                e,
            )
        })
    }

    fn pod_log_stream(
        &self,
        namespace: &str,
        pod: &str,
        request: &LogRequest,
    ) -> Result<LogStream, TargetError> {
        self.log_stream(namespace, pod, request)
    }

    fn exec(&self, request: &ExecRequest, io: ExecIo) -> Result<i32, TargetError> {
        self.exec_in(request, io)
    }

    fn port_forward(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
        connection: std::net::TcpStream,
    ) -> Result<(), TargetError> {
        self.forward(namespace, pod, port, connection)
    }

    fn kube_version(&self) -> Result<Option<semver::Version>, TargetError> {
        let info = self
            .call(|| self.client.apiserver_version())
            .map_err(|e| self.err("failed to read the cluster version".into(), None, e))?;
        let digits = |s: &str| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        };
        let version = semver::Version::parse(&format!(
            "{}.{}.0",
            digits(&info.major),
            digits(&info.minor)
        ))
        .ok()
        .or_else(|| {
            semver::Version::parse(info.git_version.trim_start_matches('v').split('+').next()?).ok()
        });
        Ok(version)
    }

    fn records(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
    ) -> Result<Vec<Record>, TargetError> {
        let secrets = self.record_secrets(
            service_map.as_str(),
            &format!("owner={FIELD_MANAGER},name={release}"),
        )?;
        let mut by_revision: BTreeMap<u64, Vec<(usize, String)>> = BTreeMap::new();
        for s in &secrets {
            let (Some(rev), Some(chunk)) = (
                label(s, "revision").and_then(|r| r.parse::<u64>().ok()),
                label(s, "chunk").and_then(|c| c.parse::<usize>().ok()),
            ) else {
                continue;
            };
            by_revision
                .entry(rev)
                .or_default()
                .push((chunk, record_chunk(s, release.as_str(), rev)?));
        }
        let mut out = Vec::new();
        for (revision, mut chunks) in by_revision {
            chunks.sort();
            let texts: Vec<String> = chunks.into_iter().map(|(_, t)| t).collect();
            let record = release::decode(&texts).map_err(|source| TargetError::Record {
                release: release.to_string(),
                revision,
                source,
            })?;
            out.push(record);
        }
        Ok(out)
    }

    fn releases(
        &self,
        service_map: Option<&ServiceMapName>,
    ) -> Result<Vec<(String, String)>, TargetError> {
        let api = self.secrets(service_map.map(ServiceMapName::as_str));
        let lp = ListParams::default().labels(&format!("owner={FIELD_MANAGER},chunk=0"));
        let items = self
            .call(|| api.list(&lp))
            .map_err(|e| self.err("failed to list releases".into(), None, e))?
            .items;
        let mut out: Vec<(String, String)> = items
            .iter()
            .filter_map(|s| Some((s.metadata.namespace.clone()?, label(s, "name")?.to_string())))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn write_record(&self, record: &Record) -> Result<(), TargetError> {
        let chunks = TargetError::encode(record)?;
        let api = self.secrets(Some(&record.service_map));
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        for (i, chunk) in chunks.iter().enumerate() {
            let name = record_name(&record.name, record.revision, i);
            let secret = json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": name,
                    "namespace": record.service_map,
                    "labels": {
                        "owner": FIELD_MANAGER,
                        "name": record.name,
                        "revision": record.revision.to_string(),
                        "status": record.status.as_str(),
                        "chunk": i.to_string(),
                        "chunks": chunks.len().to_string(),
                    },
                },
                "type": RECORD_TYPE,
                "data": {"release": base64::engine::general_purpose::STANDARD.encode(chunk)},
            });
            let patch = Patch::Apply(&secret);
            self.call(|| api.patch(&name, &pp, &patch))
                .map_err(|e| self.err(format!("failed to write release record {name}"), None, e))?;
        }
        // A record that shrank leaves parts behind: remove them.
        let parts = self.record_secrets(
            &record.service_map,
            &format!(
                "owner={FIELD_MANAGER},name={},revision={}",
                record.name, record.revision
            ),
        )?;
        for s in parts {
            let stale = label(&s, "chunk")
                .and_then(|c| c.parse::<usize>().ok())
                .is_some_and(|c| c >= chunks.len());
            if let (true, Some(name)) = (stale, s.metadata.name.as_deref()) {
                let dp = DeleteParams::default();
                match self.call(|| api.delete(name, &dp)) {
                    Ok(_) => {}
                    Err(kube::Error::Api(st)) if st.code == 404 => {}
                    Err(e) => return Err(self.err(format!("failed to delete {name}"), None, e)),
                }
            }
        }
        Ok(())
    }

    fn delete_record(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        revision: u64,
    ) -> Result<(), TargetError> {
        let api = self.secrets(Some(service_map.as_str()));
        let parts = self.record_secrets(
            service_map.as_str(),
            &format!("owner={FIELD_MANAGER},name={release},revision={revision}"),
        )?;
        for s in parts {
            let Some(name) = s.metadata.name.as_deref() else {
                continue;
            };
            let dp = DeleteParams::default();
            match self.call(|| api.delete(name, &dp)) {
                Ok(_) => {}
                Err(kube::Error::Api(st)) if st.code == 404 => {}
                Err(e) => return Err(self.err(format!("failed to delete {name}"), None, e)),
            }
        }
        Ok(())
    }

    fn acquire(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        holder: &Holder,
        ttl_secs: i64,
        now: UnixTime,
    ) -> Result<Lease, TargetError> {
        let api = self.leases(service_map.as_str());
        let name = lease_name(release.as_str());
        let action = || format!("failed to take the lease {name}");
        // Another process wrote the Lease between our read and our write (409): report who
        // holds it now, read again; if even that fails, say the holder is unknown.
        let contended = || {
            match self.call(|| api.get_opt(&name)) {
            Ok(Some(o)) => {
                let l = lease_state(&o, service_map.as_str(), release.as_str());
                TargetError::lease_held(
                    release.as_str(),
                    &l.holder,
                    l.acquired,
                    l.expires.saturating_sub(now),
                )
            }
            Ok(None) => TargetError::LeaseHeld {
                release: release.to_string(),
                detail: "another process that took and gave back the lease at the same moment (try again)".into(),
            },
            Err(e) => TargetError::LeaseHeld {
                release: release.to_string(),
                detail: format!(
                    "an unknown holder: another process took the lease at the same moment, and reading it failed: {}",
                    crate::error_chain(&e)
                ),
            },
        }
        };
        let existing = self
            .call(|| api.get_opt(&name))
            .map_err(|e| self.err(action(), None, e))?;
        let spec = |transitions: i64, acquired: UnixTime| {
            json!({
                "holderIdentity": holder.to_string(),
                "leaseDurationSeconds": ttl_secs,
                "acquireTime": micro_time(acquired),
                "renewTime": micro_time(now),
                "leaseTransitions": transitions,
            })
        };
        let (acquired, took_over_from) = match existing {
            None => {
                let lease: DynamicObject = serde_json::from_value(json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {
                        "name": name,
                        "namespace": service_map.as_str(),
                        "labels": {"owner": FIELD_MANAGER, "name": release.as_str()},
                    },
                    "spec": spec(0, now),
                }))
                .map_err(|e| TargetError::Api {
                    action: action(),
                    code: 0,
                    message: format!("failed to build the Lease: {e}"),
                })?;
                match self.rt.block_on(api.create(&PostParams::default(), &lease)) {
                    Ok(_) => (now, None),
                    Err(kube::Error::Api(s)) if s.code == 409 => return Err(contended()),
                    Err(e) => return Err(self.err(action(), None, e)),
                }
            }
            Some(mut current) => {
                let state = lease_state(&current, service_map.as_str(), release.as_str());
                let (acquired, took_over_from) = decide(Some(&state), holder, now, &local_liveness)
                    .grant(release.as_str(), Some(state.acquired), now)?;
                let transitions = current
                    .data
                    .pointer("/spec/leaseTransitions")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                current.data["spec"] = spec(transitions.saturating_add(1), acquired);
                // The stored resourceVersion makes this a compare-and-swap.
                match self
                    .rt
                    .block_on(api.replace(&name, &PostParams::default(), &current))
                {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 409 => return Err(contended()),
                    Err(e) => return Err(self.err(action(), None, e)),
                }
                (acquired, took_over_from)
            }
        };
        Ok(Lease {
            service_map: service_map.to_string(),
            release: release.to_string(),
            holder: holder.clone(),
            acquired,
            expires: now.saturating_add(ttl_secs),
            took_over_from,
        })
    }

    fn lease(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
    ) -> Result<Option<Lease>, TargetError> {
        let api = self.leases(service_map.as_str());
        let name = lease_name(release.as_str());
        let found = self
            .call(|| api.get_opt(&name))
            .map_err(|e| self.err(format!("failed to read the lease {name}"), None, e))?;
        Ok(found
            .map(|o| lease_state(&o, service_map.as_str(), release.as_str()))
            .filter(|l| !l.holder.is_empty()))
    }

    fn renew(&self, lease: &Lease, ttl_secs: i64, now: UnixTime) -> Result<Lease, TargetError> {
        let api = self.leases(&lease.service_map);
        let name = lease_name(&lease.release);
        let action = || format!("failed to renew the lease {name}");
        let mut current = self
            .call(|| api.get_opt(&name))
            .map_err(|e| self.err(action(), None, e))?
            .ok_or_else(|| TargetError::LeaseLost {
                release: lease.release.clone(),
                detail: format!("the Lease {name} was deleted"),
            })?;
        let state = lease_state(&current, &lease.service_map, &lease.release);
        if state.holder != lease.holder {
            return Err(TargetError::LeaseLost {
                release: lease.release.clone(),
                detail: format!("{} holds it now", state.holder),
            });
        }
        current.data["spec"]["renewTime"] = json!(micro_time(now));
        current.data["spec"]["leaseDurationSeconds"] = json!(ttl_secs);
        self.rt
            .block_on(api.replace(&name, &PostParams::default(), &current))
            .map_err(|e| self.err(action(), None, e))?;
        Ok(Lease {
            expires: now.saturating_add(ttl_secs),
            ..lease.clone()
        })
    }

    fn release_lease(&self, lease: &Lease) -> Result<(), TargetError> {
        let api = self.leases(&lease.service_map);
        let name = lease_name(&lease.release);
        let action = || format!("failed to give back the lease {name}");
        let Some(current) = self
            .call(|| api.get_opt(&name))
            .map_err(|e| self.err(action(), None, e))?
        else {
            return Ok(());
        };
        if lease_state(&current, &lease.service_map, &lease.release).holder != lease.holder {
            return Ok(());
        }
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: current.metadata.resource_version.clone(),
                uid: current.metadata.uid.clone(),
            }),
            ..DeleteParams::default()
        };
        match self.rt.block_on(api.delete(&name, &dp)) {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
            Err(e) => Err(self.err(action(), None, e)),
        }
    }
}

/// What a failed connection means, from its error chain: an untrusted TLS certificate is not
/// "no answer" (rustls reports `UnknownIssuer`, `invalid peer certificate`, ...).
fn connect_message(action: &str, url: &str, chain: &str) -> String {
    const TLS: &[&str] = &[
        "UnknownIssuer",
        "invalid peer certificate",
        "NotValidForName",
        "CertExpired",
        "BadSignature",
    ];
    if TLS.iter().any(|t| chain.contains(t)) {
        format!(
            "{action}: the cluster at {url} presented a TLS certificate this client does not trust"
        )
    } else {
        format!("{action}: no answer from the cluster at {url}")
    }
}

#[cfg(test)]
mod tests {
    /// Issue 10, defect 7: an untrusted certificate is named, not reported as "no answer".
    #[test]
    fn an_unknown_issuer_is_a_tls_error_not_no_answer() {
        let m = super::connect_message(
            "read Secret",
            "https://10.0.0.1:6443",
            "client error (Connect): invalid peer certificate: UnknownIssuer",
        );
        assert!(
            m.contains("TLS certificate this client does not trust"),
            "{m}"
        );
        let m = super::connect_message(
            "read Secret",
            "https://x",
            "tcp connect error: Connection refused",
        );
        assert!(m.contains("no answer from the cluster"), "{m}");
    }
}
