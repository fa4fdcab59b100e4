//! `cocktail-pkg serve`: hosts an index folder over HTTP — the signed index files and archives
//! with strong ETags, a JSON API (search, package detail, publish), the catalog web page,
//! `/healthz` and `/metrics`. [`router`] builds the whole application from its state, so tests
//! drive it without a socket; [`serve`] binds it with limits and graceful shutdown, and
//! reloads the index when it is rebuilt on disk ([`reload`]: a periodic check of the root, and
//! SIGHUP), verified before it is swapped in; a broken rebuild keeps the last good snapshot and
//! shows in `/healthz`.

pub mod snapshot;
pub mod web;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::archive;
use crate::fsutil::write_atomic;
use crate::index::format::{ARCHIVES_DIR, ROOT_FILE, SIGNATURE_FILE, VersionEntry};
use crate::index::sign::SecretKey;
use crate::index::{self, IndexError, VersionsFile, update};
use crate::lint::Severity;
use crate::model::{Digest, PackageName};
use crate::package::Package;
use crate::time::{UnixTime, format_rfc3339};
use crate::values::ValuesInput;
use snapshot::{Served, Snapshot};

/// Largest request body (a published archive).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Server settings.
pub struct ServerConfig {
    /// The index folder served (and written on publish).
    pub index_dir: PathBuf,
    /// Signs the root on load and on every publish.
    pub key: SecretKey,
    /// Bearer token that allows publishing; `None` disables publishing.
    pub publish_token: Option<String>,
    pub request_timeout: Duration,
    pub max_concurrency: usize,
    /// The clock, for publication times (tests pass a fixed one).
    pub clock: fn() -> UnixTime,
}

/// Request counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    publishes_ok: AtomicU64,
    publishes_refused: AtomicU64,
}

/// Shared server state.
pub struct AppState {
    config: ServerConfig,
    snapshot: RwLock<Arc<Snapshot>>,
    publish_lock: tokio::sync::Mutex<()>,
    metrics: Metrics,
    started: Instant,
    reload: Mutex<ReloadState>,
}

/// What the reloader knows beyond the snapshot: the last failed reload.
#[derive(Debug, Default)]
struct ReloadState {
    failure: Option<ReloadFailure>,
}

#[derive(Debug, Clone)]
struct ReloadFailure {
    /// The index files that failed (root and signature digests), to tell a change from a retry.
    fingerprint: Fingerprint,
    message: String,
    at: UnixTime,
    /// Shown in the log and `/healthz`: the same files failed twice (a rebuild is not half
    /// written), or a human asked (SIGHUP).
    reported: bool,
}

/// The root's and the signature's digests as found on disk (`None`: unreadable or absent).
type Fingerprint = (Option<Digest>, Option<Digest>);

/// Why a reload is attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadTrigger {
    /// The periodic check: reloads only when the root changed, and reports a failure only when
    /// the same files fail twice in a row (an index being rebuilt is written file by file).
    Check,
    /// SIGHUP: reloads whatever changed, and reports a failure at once.
    Signal,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The root on disk is the one served.
    Unchanged,
    /// A new snapshot is served.
    Reloaded { packages: usize, versions: usize },
    /// The last good snapshot is still served; why the new one was refused.
    Refused(String),
}

/// How `serve` follows an index rebuilt on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// Only on SIGHUP.
    OnSignal,
    /// On SIGHUP and when a check of the root file, this often, finds it changed.
    Every(Duration),
}

/// A server that could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Load(#[from] snapshot::LoadError),
    #[error("failed to listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server stopped with an error")]
    Run(#[source] std::io::Error),
}

impl ServeError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ServeError::Load(_) => Some(
                "serve a folder made by `cocktail-pkg index build CATALOG --out DIR` (it holds index.json)".into(),
            ),
            ServeError::Bind { addr, source } => match source.kind() {
                std::io::ErrorKind::AddrInUse => {
                    let mut other = *addr;
                    other.set_port(addr.port().checked_add(1).unwrap_or(8080));
                    Some(format!(
                        "another program is listening on {addr} (perhaps another `cocktail-pkg serve`): stop it, or choose another port with `--addr {other}`"
                    ))
                }
                std::io::ErrorKind::PermissionDenied => {
                    let mut other = *addr;
                    other.set_port(8080);
                    Some(format!(
                        "ports below 1024 need privileges: choose another port with `--addr {other}`"
                    ))
                }
                std::io::ErrorKind::AddrNotAvailable => Some(format!(
                    "{} is not an address of this machine: use `--addr 127.0.0.1:{}` (this machine only) or `--addr 0.0.0.0:{}` (every interface)",
                    addr.ip(),
                    addr.port(),
                    addr.port()
                )),
                _ => None,
            },
            ServeError::Run(_) => None,
        }
    }
}

impl AppState {
    pub fn new(config: ServerConfig) -> Result<Arc<Self>, ServeError> {
        let snapshot = Snapshot::load(&config.index_dir, &config.key)?;
        Ok(Arc::new(Self {
            config,
            snapshot: RwLock::new(Arc::new(snapshot)),
            publish_lock: tokio::sync::Mutex::new(()),
            metrics: Metrics::default(),
            started: Instant::now(),
            reload: Mutex::new(ReloadState::default()),
        }))
    }

    /// The current snapshot (cheap: an `Arc` clone).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace_snapshot(&self, s: Snapshot) {
        let mut guard = match self.snapshot.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(s);
    }
}

/// The whole application.
pub fn router(state: Arc<AppState>) -> Router {
    let timeout = state.config.request_timeout;
    let concurrency = state.config.max_concurrency.max(1);
    Router::new()
        .route("/", get(web::index_page))
        .route("/packages/{file}", get(package_file_or_page))
        .route("/index.json", get(root_file))
        .route("/index.json.sig", get(signature_file))
        .route("/index.pub", get(public_key))
        .route("/archives/{file}", get(archive_file))
        .route("/api/v1/packages", get(api_search).post(api_publish))
        .route("/api/v1/packages/{name}", get(api_package))
        .route("/api/v1/packages/{name}/{version}/yank", post(api_yank))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/static/style.css", get(web::stylesheet))
        .route("/favicon.ico", get(web::favicon))
        .route("/favicon.svg", get(web::favicon))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            access_log,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(concurrency))
        .with_state(state)
}

/// Serves `router(state)` on `addr` until SIGTERM or Ctrl-C, then finishes in-flight requests,
/// reloading the index as `reload` says. `ready` receives the bound address (useful with port
/// 0), once SIGHUP is handled.
pub async fn serve(
    state: Arc<AppState>,
    addr: SocketAddr,
    reload: Reload,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(ServeError::Run)?;
    let watcher = tokio::spawn(watch(Arc::clone(&state), reload, hangups()));
    ready(local);
    let result = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ServeError::Run);
    watcher.abort();
    result
}

/// A stream of SIGHUPs (registered now, so a signal sent after this returns is never fatal).
#[cfg(unix)]
fn hangups() -> Option<tokio::signal::unix::Signal> {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("SIGHUP will not reload the index: {e}");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangups() -> Option<()> {
    None
}

/// Reloads the index on each SIGHUP and, with [`Reload::Every`], on each periodic check.
#[cfg(unix)]
async fn watch(
    state: Arc<AppState>,
    reload: Reload,
    mut hangups: Option<tokio::signal::unix::Signal>,
) {
    let period = match reload {
        Reload::Every(d) => Some(d.max(Duration::from_millis(100))),
        Reload::OnSignal => None,
    };
    let mut ticks = period.map(|p| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + p, p);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    loop {
        let trigger = tokio::select! {
            Some(()) = async {
                match hangups.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            } => ReloadTrigger::Signal,
            _ = async {
                match ticks.as_mut() {
                    Some(t) => t.tick().await,
                    None => std::future::pending().await,
                }
            } => ReloadTrigger::Check,
            // SIGHUP's stream closed and there is no periodic check: nothing left to watch.
            else => return,
        };
        if trigger == ReloadTrigger::Signal {
            tracing::info!("SIGHUP: reloading the index");
        }
        reload_now(&state, trigger).await;
    }
}

#[cfg(not(unix))]
async fn watch(state: Arc<AppState>, reload: Reload, _hangups: Option<()>) {
    let Reload::Every(period) = reload else {
        return;
    };
    let period = period.max(Duration::from_millis(100));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        ticks.tick().await;
        reload_now(&state, ReloadTrigger::Check).await;
    }
}

/// Runs [`reload`] off the async runtime, one at a time with publishing.
pub async fn reload_now(state: &Arc<AppState>, trigger: ReloadTrigger) -> ReloadOutcome {
    let _guard = state.publish_lock.lock().await;
    let s = Arc::clone(state);
    match tokio::task::spawn_blocking(move || reload(&s, trigger)).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!("the index reload task failed: {e}");
            ReloadOutcome::Refused(format!("the index reload task failed: {e}"))
        }
    }
}

fn read_optional(path: &std::path::Path) -> Result<Option<Vec<u8>>, String> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("failed to read {}: {e}", path.display())),
    }
}

/// Loads the index folder again when its root changed, verifies it and swaps it in: the root
/// parses, every versions file matches the digest the root pins, every archive not served
/// before is on disk with its digest, and a signature on disk made with the server's key
/// matches the root (one made with another key is replaced by the server's, as at start-up).
/// Anything wrong keeps the last good snapshot; the reason goes to the log and `/healthz`.
/// Blocking: call it where blocking is allowed, one at a time with publishing.
pub fn reload(state: &AppState, trigger: ReloadTrigger) -> ReloadOutcome {
    let dir = &state.config.index_dir;
    let current = state.snapshot();
    let root = read_optional(&dir.join(ROOT_FILE));
    let signature = read_optional(&dir.join(SIGNATURE_FILE));
    let fingerprint: Fingerprint = (
        root.as_ref()
            .ok()
            .and_then(|r| r.as_deref().map(Digest::of)),
        signature
            .as_ref()
            .ok()
            .and_then(|s| s.as_deref().map(Digest::of)),
    );
    let unchanged = matches!(&root, Ok(Some(bytes)) if *bytes == current.root_file.bytes[..]);
    if unchanged && trigger == ReloadTrigger::Check {
        if let Some(f) = state.take_failure()
            && f.reported
        {
            tracing::info!("the index in {} is the one served again", dir.display());
        }
        return ReloadOutcome::Unchanged;
    }
    let attempt = root.and_then(|root| {
        let root = root.ok_or_else(|| format!("{} is missing", dir.join(ROOT_FILE).display()))?;
        if let Some(sig) = signature? {
            verify_signature(state, &root, &sig)?;
        }
        let fresh = Snapshot::from_root(dir, root, &state.config.key)
            .map_err(|e| crate::error_chain(&e))?;
        fresh
            .verify_new_archives(&current)
            .map_err(|e| crate::error_chain(&e))?;
        Ok(fresh)
    });
    match attempt {
        Ok(fresh) => {
            let packages = fresh.root.packages.len();
            let versions = fresh.versions.values().map(|(f, _)| f.versions.len()).sum();
            if !unchanged {
                tracing::info!(
                    "reloaded the index in {}: {packages} packages, {versions} versions",
                    dir.display()
                );
            }
            state.replace_snapshot(fresh);
            state.take_failure();
            if unchanged {
                ReloadOutcome::Unchanged
            } else {
                ReloadOutcome::Reloaded { packages, versions }
            }
        }
        Err(message) => {
            state.record_failure(fingerprint, &message, trigger);
            ReloadOutcome::Refused(message)
        }
    }
}

/// A signature on disk made with the server's key must match the root; others are ignored (the
/// server signs what it serves with its own key).
fn verify_signature(state: &AppState, root: &[u8], sig: &[u8]) -> Result<(), String> {
    let public = state.config.key.public();
    let sig = crate::index::sign::SignatureFile::parse(sig)
        .map_err(|e| format!("{SIGNATURE_FILE} is not a signature file: {e}"))?;
    if sig.key_id != public.key_id() {
        return Ok(());
    }
    public
        .verify(root, &sig)
        .map_err(|e| format!("{SIGNATURE_FILE} does not verify {ROOT_FILE}: {e}"))
}

impl AppState {
    fn take_failure(&self) -> Option<ReloadFailure> {
        match self.reload.lock() {
            Ok(mut r) => r.failure.take(),
            Err(poisoned) => poisoned.into_inner().failure.take(),
        }
    }

    fn record_failure(&self, fingerprint: Fingerprint, message: &str, trigger: ReloadTrigger) {
        let mut r = match self.reload.lock() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        let previous = r.failure.take();
        let retried = previous
            .as_ref()
            .is_some_and(|p| p.fingerprint == fingerprint);
        let reported = trigger == ReloadTrigger::Signal || retried;
        let already_said = previous
            .as_ref()
            .is_some_and(|p| p.reported && p.message == message);
        if reported && !already_said {
            tracing::error!(
                "the index in {} was not reloaded; still serving the last good one: {message}",
                self.config.index_dir.display()
            );
        } else if !reported {
            tracing::debug!("the index is changing or broken, checking again: {message}");
        }
        let at = match &previous {
            Some(p) if already_said => p.at,
            _ => (self.config.clock)(),
        };
        r.failure = Some(ReloadFailure {
            fingerprint,
            message: message.to_string(),
            at,
            reported,
        });
    }

    /// The last reload failure shown to people: its message and when it happened.
    pub fn last_reload_error(&self) -> Option<(String, UnixTime)> {
        let r = match self.reload.lock() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        r.failure
            .as_ref()
            .filter(|f| f.reported)
            .map(|f| (f.message.clone(), f.at))
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn access_log(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    if let Ok(mut m) = state.metrics.requests.lock() {
        *m.entry((method.clone(), route, status)).or_insert(0) += 1;
    }
    tracing::info!(
        target: "access",
        "{method} {path} {status} {:.1}ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    resp
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found")
}

/// Unknown addresses: JSON under `/api/`, the styled page elsewhere.
async fn fallback(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        not_found().await
    } else {
        web::not_found_page(None)
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// An index file with its strong ETag: 304 when the client has it, gzip when it accepts it.
fn serve_file(headers: &HeaderMap, file: &Served, content_type: &'static str) -> Response {
    let gzip = accepts_gzip(headers);
    // Strong ETags differ per representation.
    let etag = if gzip {
        format!("{}-gzip\"", file.etag.trim_end_matches('"'))
    } else {
        file.etag.clone()
    };
    let mut resp = if if_none_match(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if gzip {
        let mut r = file.gzip.clone().into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        file.bytes.clone().into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    resp
}

async fn root_file(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    serve_file(&headers, &s.snapshot().root_file, "application/json")
}

async fn signature_file(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    serve_file(&headers, &s.snapshot().signature, "application/json")
}

async fn public_key(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    serve_file(
        &headers,
        &s.snapshot().public_key,
        "text/plain; charset=utf-8",
    )
}

async fn package_file_or_page(
    State(s): State<Arc<AppState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let snap = s.snapshot();
    match file.strip_suffix(".json") {
        Some(name) => match snap.versions.get(name) {
            Some((_, served)) => serve_file(&headers, served, "application/json"),
            None => not_found().await,
        },
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| {
                    h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
                })
                .unwrap_or("HOST");
            // Behind a TLS-terminating proxy the page is reached over https.
            let scheme = match headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
            {
                Some("https") => "https",
                _ => "http",
            };
            web::package_page(&snap, &file, &format!("{scheme}://{host}/")).await
        }
    }
}

async fn archive_file(
    State(s): State<Arc<AppState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let snap = s.snapshot();
    // Only names the index lists are served: user input never becomes a path.
    let Some(a) = snap.archives.get(&file) else {
        return not_found().await;
    };
    let etag = format!("\"{}\"", a.digest.hex());
    if if_none_match(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    match tokio::fs::read(&a.path).await {
        Ok(bytes) if Digest::of(&bytes) == a.digest => (
            [
                (header::CONTENT_TYPE, "application/gzip".to_string()),
                (header::ETAG, etag),
                (
                    header::CACHE_CONTROL,
                    "public, max-age=31536000, immutable".to_string(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(_) => {
            tracing::error!(
                "archive {} on disk does not match its published digest",
                a.path.display()
            );
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "archive does not match its published digest",
            )
        }
        Err(e) => {
            tracing::error!("failed to read archive {}: {e}", a.path.display());
            error(StatusCode::NOT_FOUND, "archive is missing")
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub category: Option<String>,
}

async fn api_search(State(s): State<Arc<AppState>>, Query(q): Query<SearchQuery>) -> Response {
    let snap = s.snapshot();
    let hits = snap.search(&q.q, q.category.as_deref());
    axum::Json(json!({ "packages": hits })).into_response()
}

/// The files of a package's latest version, read from its archive: `Ok(None)` when its archive
/// is not on this server (hosted elsewhere), `Err` saying why when the archive is unreadable
/// (missing, damaged, not matching its digest, not a valid package).
pub fn latest_package(snap: &Snapshot, name: &str) -> Result<Option<Package>, String> {
    let Some((file, _)) = snap.versions.get(name) else {
        return Ok(None);
    };
    let Some(latest) = crate::index::format::latest(&file.versions) else {
        return Ok(None);
    };
    let Some(a) = latest
        .url
        .strip_prefix(&format!("{ARCHIVES_DIR}/"))
        .and_then(|archive_name| snap.archives.get(archive_name))
    else {
        return Ok(None);
    };
    let what = format!("the archive of {name} {}", latest.version);
    let bytes = std::fs::read(&a.path)
        .map_err(|e| format!("failed to read {what} ({}): {e}", a.path.display()))?;
    let unpacked = archive::read(&bytes, Some(&a.digest))
        .map_err(|e| format!("{what} is unreadable: {}", crate::error_chain(&e)))?;
    Package::from_files(unpacked.files)
        .map(Some)
        .map_err(|e| format!("{what} holds no valid package: {}", crate::error_chain(&e)))
}

async fn api_package(State(s): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    let snap = s.snapshot();
    let Some(summary) = snap.root.package(&name) else {
        return error(StatusCode::NOT_FOUND, format!("no package `{name}`"));
    };
    let Some((versions, _)) = snap.versions.get(&name) else {
        return error(StatusCode::NOT_FOUND, format!("no package `{name}`"));
    };
    let (pkg, archive_error) = web::read_latest(&snap, &name).await;
    let text = |p: &Option<Package>, f: &str| {
        p.as_ref()
            .and_then(|p| p.files.get(f))
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    axum::Json(json!({
        "package": summary,
        "versions": versions.versions,
        "readme": text(&pkg, "README.md"),
        "values": text(&pkg, "values.yaml"),
        "schema": pkg.as_ref().and_then(|p| p.schema_json.clone()),
        "install": web::install_command(&name),
        "archiveError": archive_error,
    }))
    .into_response()
}

/// `/healthz`: 200 while the server serves an index. `status` is `degraded` (still 200: the last
/// good index is served) when the index on disk could not be reloaded, with `lastReloadError`.
async fn healthz(State(s): State<Arc<AppState>>) -> Response {
    let snap = s.snapshot();
    let failure = s.last_reload_error();
    axum::Json(json!({
        "status": if failure.is_some() { "degraded" } else { "ok" },
        "packages": snap.root.packages.len(),
        "uptimeSeconds": s.started.elapsed().as_secs(),
        "lastReloadError": failure.as_ref().map(|(m, _)| m),
        "lastReloadErrorAt": failure.map(|(_, at)| format_rfc3339(at)),
    }))
    .into_response()
}

async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    let snap = s.snapshot();
    let mut out = String::new();
    out.push_str(
        "# HELP cocktail_pkg_http_requests_total HTTP requests by method, route and status.\n",
    );
    out.push_str("# TYPE cocktail_pkg_http_requests_total counter\n");
    if let Ok(m) = s.metrics.requests.lock() {
        for ((method, route, status), n) in m.iter() {
            out.push_str(&format!(
                "cocktail_pkg_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}\n"
            ));
        }
    }
    out.push_str("# HELP cocktail_pkg_publishes_total Publish requests by outcome.\n");
    out.push_str("# TYPE cocktail_pkg_publishes_total counter\n");
    out.push_str(&format!(
        "cocktail_pkg_publishes_total{{outcome=\"published\"}} {}\n",
        s.metrics.publishes_ok.load(Ordering::Relaxed)
    ));
    out.push_str(&format!(
        "cocktail_pkg_publishes_total{{outcome=\"refused\"}} {}\n",
        s.metrics.publishes_refused.load(Ordering::Relaxed)
    ));
    let versions: usize = snap.versions.values().map(|(f, _)| f.versions.len()).sum();
    out.push_str("# HELP cocktail_pkg_index_packages Packages in the index.\n# TYPE cocktail_pkg_index_packages gauge\n");
    out.push_str(&format!(
        "cocktail_pkg_index_packages {}\n",
        snap.root.packages.len()
    ));
    out.push_str("# HELP cocktail_pkg_index_versions Versions in the index.\n# TYPE cocktail_pkg_index_versions gauge\n");
    out.push_str(&format!("cocktail_pkg_index_versions {versions}\n"));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks the publish token: `Err` is the refusal to send.
fn authorize(s: &AppState, headers: &HeaderMap) -> Result<(), (StatusCode, String)> {
    let Some(expected) = &s.config.publish_token else {
        return Err((
            StatusCode::FORBIDDEN,
            "publishing is disabled on this server".into(),
        ));
    };
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err((
            StatusCode::UNAUTHORIZED,
            "missing `Authorization: Bearer TOKEN`".into(),
        ));
    };
    if !constant_time_eq(given.trim().as_bytes(), expected.as_bytes()) {
        return Err((
            StatusCode::FORBIDDEN,
            "the token is not valid for publishing".into(),
        ));
    }
    Ok(())
}

async fn api_publish(State(s): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let refuse = |status, msg: String| {
        s.metrics.publishes_refused.fetch_add(1, Ordering::Relaxed);
        error(status, msg)
    };
    if let Err((status, msg)) = authorize(&s, &headers) {
        return refuse(status, msg);
    }
    // One publish at a time: each sees the result of the one before.
    let _guard = s.publish_lock.lock().await;
    let state = Arc::clone(&s);
    let result = tokio::task::spawn_blocking(move || publish(&state, &body)).await;
    match result {
        Ok(Ok(entry)) => {
            s.metrics.publishes_ok.fetch_add(1, Ordering::Relaxed);
            tracing::info!("published {} {}", entry.0, entry.1.version);
            (
                StatusCode::CREATED,
                axum::Json(json!({ "name": entry.0, "version": entry.1 })),
            )
                .into_response()
        }
        Ok(Err((status, msg))) => refuse(status, msg),
        Err(_) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the publish task failed".into(),
        ),
    }
}

type PublishResult = Result<(String, VersionEntry), (StatusCode, String)>;

/// Checks an uploaded archive fully, then makes it visible: archive, versions file, root and
/// signature are each written atomically, root last, and the in-memory snapshot is swapped.
fn publish(state: &AppState, body: &[u8]) -> PublishResult {
    let bad = |m: String| (StatusCode::UNPROCESSABLE_ENTITY, m);
    let unpacked = archive::read(body, None)
        .map_err(|e| bad(format!("refused archive: {}", crate::error_chain(&e))))?;
    let pkg = Package::from_files(unpacked.files)
        .map_err(|e| bad(format!("invalid package: {}", crate::error_chain(&e))))?;
    let name = pkg.manifest.name.to_string();
    if unpacked.root != name {
        return Err(bad(format!(
            "the archive's top folder `{}` must be the package name `{name}`",
            unpacked.root
        )));
    }
    let lint = crate::lint::lint_variants(&pkg, &ValuesInput::default());
    let errors: Vec<String> = lint
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{} {}: {}", f.rule, f.subject, f.message))
        .collect();
    if !errors.is_empty() {
        return Err(bad(format!(
            "lint found {} error(s): {}",
            errors.len(),
            errors.join("; ")
        )));
    }
    let snap = state.snapshot();
    let existing = snap.versions.get(&name).map(|(f, _)| f.clone());
    if existing
        .as_ref()
        .is_some_and(|f| f.versions.iter().any(|v| v.version == pkg.manifest.version))
    {
        return Err((
            StatusCode::CONFLICT,
            format!(
                "{name} {} is already published; bump the version",
                pkg.manifest.version
            ),
        ));
    }
    let dir = &state.config.index_dir;
    let file_name = update::archive_file_name(&pkg.manifest);
    let entry = update::version_entry(&pkg.manifest, body, format_rfc3339((state.config.clock)()));
    let internal = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
    let (versions, _) = index::add_version(&name, existing, entry.clone())
        .map_err(|e: IndexError| internal(e.to_string()))?;
    write_atomic(&dir.join(ARCHIVES_DIR).join(&file_name), body)
        .map_err(|e| internal(format!("failed to write {file_name}: {e}")))?;
    commit_versions(state, &snap, &versions, Some(&pkg.manifest))?;
    Ok((name, entry))
}

/// Writes a package's versions file, then the root that pins it (re-signed), and swaps the
/// snapshot. `manifest` is the package just published, for the summary when it is the newest.
fn commit_versions(
    state: &AppState,
    snap: &Snapshot,
    versions: &VersionsFile,
    manifest: Option<&crate::package::Manifest>,
) -> Result<(), (StatusCode, String)> {
    let internal = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
    let dir = &state.config.index_dir;
    let commit = update::replace_package(&snap.root, versions, manifest, &state.config.key);
    // Versions file, then the root (the commit point), then its signature.
    for (rel, bytes) in [
        (commit.versions.0.as_str(), commit.versions.1.as_slice()),
        (ROOT_FILE, commit.root.as_slice()),
        (SIGNATURE_FILE, commit.signature.to_bytes().as_slice()),
    ] {
        let path = dir.join(rel);
        write_atomic(&path, bytes)
            .map_err(|e| internal(format!("failed to write {}: {e}", path.display())))?;
    }
    let fresh =
        Snapshot::load(dir, &state.config.key).map_err(|e| internal(crate::error_chain(&e)))?;
    state.replace_snapshot(fresh);
    Ok(())
}

#[derive(serde::Deserialize)]
struct YankBody {
    #[serde(default = "yes")]
    yanked: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/v1/packages/NAME/VERSION/yank` (`{"yanked": false}` to undo): a yanked version
/// stays downloadable for those who pinned it, but is never chosen by a version requirement
/// or an automatic upgrade.
async fn api_yank(
    State(s): State<Arc<AppState>>,
    axum::extract::Path((name, version)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err((status, msg)) = authorize(&s, &headers) {
        return error(status, msg);
    }
    let yanked = if body.is_empty() {
        true
    } else {
        match serde_json::from_slice::<YankBody>(&body) {
            Ok(b) => b.yanked,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid body: {e}")),
        }
    };
    let Ok(version) = semver::Version::parse(&version) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("`{version}` is not a semantic version"),
        );
    };
    let _guard = s.publish_lock.lock().await;
    let state = Arc::clone(&s);
    let result = tokio::task::spawn_blocking(move || {
        let snap = state.snapshot();
        let Some((file, _)) = snap.versions.get(&name) else {
            return Err((StatusCode::NOT_FOUND, format!("no package `{name}`")));
        };
        let mut versions = file.clone();
        let Some(entry) = versions.versions.iter_mut().find(|v| v.version == version) else {
            return Err((
                StatusCode::NOT_FOUND,
                format!("{name} has no version {version}"),
            ));
        };
        entry.yanked = yanked;
        let entry = entry.clone();
        commit_versions(&state, &snap, &versions, None)?;
        Ok((name, entry))
    })
    .await;
    match result {
        Ok(Ok((name, entry))) => {
            tracing::info!("{name} {} yanked={}", entry.version, entry.yanked);
            axum::Json(json!({"name": name, "version": entry.version, "yanked": entry.yanked}))
                .into_response()
        }
        Ok(Err((status, msg))) => error(status, msg),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the yank task failed".to_string(),
        ),
    }
}

/// Checks a package name from a URL.
pub fn valid_name(name: &str) -> bool {
    PackageName::new(name).is_ok()
}

/// Html helper re-exported for the web module.
pub(crate) fn html(body: String) -> Response {
    Html(body).into_response()
}
