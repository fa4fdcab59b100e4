//! `cocktail-pkg serve`: hosts an index folder over HTTP — the signed index files and archives
//! with strong ETags, a JSON API (search, package detail, publish), the catalog web page,
//! `/healthz` and `/metrics`. [`router`] builds the whole application from its state, so tests
//! drive it without a socket; [`serve`] binds it with limits and graceful shutdown.

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
use crate::index::format::{
    ARCHIVES_DIR, PACKAGES_DIR, ROOT_FILE, RootIndex, SIGNATURE_FILE, VersionEntry,
};
use crate::index::sign::SecretKey;
use crate::index::{self, IndexError, VersionsFile};
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

impl AppState {
    pub fn new(config: ServerConfig) -> Result<Arc<Self>, ServeError> {
        let snapshot = Snapshot::load(&config.index_dir, &config.key)?;
        Ok(Arc::new(Self {
            config,
            snapshot: RwLock::new(Arc::new(snapshot)),
            publish_lock: tokio::sync::Mutex::new(()),
            metrics: Metrics::default(),
            started: Instant::now(),
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
        .fallback(not_found)
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

/// Serves `router(state)` on `addr` until SIGTERM or Ctrl-C, then finishes in-flight requests.
/// `ready` receives the bound address (useful with port 0).
pub async fn serve(
    state: Arc<AppState>,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(ServeError::Run)?;
    ready(local);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ServeError::Run)
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

/// The files of a package's latest version, read from its archive.
pub fn latest_package(snap: &Snapshot, name: &str) -> Option<Package> {
    let (file, _) = snap.versions.get(name)?;
    let latest = crate::index::format::latest(&file.versions)?;
    let archive_name = latest.url.strip_prefix(&format!("{ARCHIVES_DIR}/"))?;
    let a = snap.archives.get(archive_name)?;
    let bytes = std::fs::read(&a.path).ok()?;
    let unpacked = archive::read(&bytes, Some(&a.digest)).ok()?;
    Package::from_files(unpacked.files).ok()
}

async fn api_package(State(s): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    let snap = s.snapshot();
    let Some(summary) = snap.root.package(&name) else {
        return error(StatusCode::NOT_FOUND, format!("no package `{name}`"));
    };
    let Some((versions, _)) = snap.versions.get(&name) else {
        return error(StatusCode::NOT_FOUND, format!("no package `{name}`"));
    };
    let pkg = {
        let snap = Arc::clone(&snap);
        let name = name.clone();
        tokio::task::spawn_blocking(move || latest_package(&snap, &name))
            .await
            .ok()
            .flatten()
    };
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
    }))
    .into_response()
}

async fn healthz(State(s): State<Arc<AppState>>) -> Response {
    let snap = s.snapshot();
    axum::Json(json!({
        "status": "ok",
        "packages": snap.root.packages.len(),
        "uptimeSeconds": s.started.elapsed().as_secs(),
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
    let lint = crate::ops::lint::lint_package(&pkg, &ValuesInput::default())
        .map_err(|e| bad(format!("lint failed: {}", crate::error_chain(&e))))?;
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
    let file_name = format!("{}.tgz", pkg.manifest.archive_stem());
    let entry = VersionEntry {
        version: pkg.manifest.version.clone(),
        url: format!("{ARCHIVES_DIR}/{file_name}"),
        digest: Digest::of(body),
        size: body.len() as u64,
        app_version: pkg.manifest.app_version.clone(),
        kube_version: pkg.manifest.kube_version.clone(),
        created: format_rfc3339((state.config.clock)()),
        yanked: false,
        changelog: pkg.manifest.changelog.clone(),
    };
    let internal = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
    let (versions, _) = index::add_version(&name, existing, entry.clone())
        .map_err(|e: IndexError| internal(e.to_string()))?;
    write_atomic(&dir.join(ARCHIVES_DIR).join(&file_name), body)
        .map_err(|e| internal(format!("failed to write {file_name}: {e}")))?;
    commit_versions(state, &snap, &name, &versions, Some(&pkg.manifest))?;
    Ok((name, entry))
}

/// Writes a package's versions file, then the root that pins it (re-signed), and swaps the
/// snapshot. `manifest` is the package just published, for the summary when it is the newest.
fn commit_versions(
    state: &AppState,
    snap: &Snapshot,
    name: &str,
    versions: &VersionsFile,
    manifest: Option<&crate::package::Manifest>,
) -> Result<(), (StatusCode, String)> {
    let internal = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
    let dir = &state.config.index_dir;
    let write = |path: PathBuf, bytes: &[u8]| {
        write_atomic(&path, bytes)
            .map_err(|e| internal(format!("failed to write {}: {e}", path.display())))
    };
    let versions_bytes = versions.to_bytes();
    let rel = format!("{PACKAGES_DIR}/{name}.json");
    write(dir.join(&rel), &versions_bytes)?;
    let mut packages: Vec<_> = snap
        .root
        .packages
        .iter()
        .filter(|p| p.name != name)
        .cloned()
        .collect();
    let newest = crate::index::format::latest(&versions.versions).map(|v| v.version.clone());
    let manifest = manifest.filter(|m| newest.as_ref() == Some(&m.version));
    let old = snap.root.package(name);
    if let Some(mut summary) = versions.summary(rel, Digest::of(&versions_bytes), manifest) {
        if manifest.is_none()
            && let Some(old) = old
        {
            summary.description = old.description.clone();
            summary.category = old.category.clone();
            summary.keywords = old.keywords.clone();
            summary.icon = old.icon.clone();
        }
        packages.push(summary);
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    let root_bytes = RootIndex::new(packages).to_bytes();
    write(dir.join(ROOT_FILE), &root_bytes)?;
    write(
        dir.join(SIGNATURE_FILE),
        &state.config.key.sign(&root_bytes).to_bytes(),
    )?;
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
        commit_versions(&state, &snap, &name, &versions, None)?;
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
