//! Environment variables cocktail-pkg reads, in one place.

/// Disables colour when set to any value (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Default for `--color` (`auto`, `always`, `never`).
pub const COLOR: &str = "COCKTAIL_PKG_COLOR";
/// Default service map for release and render commands (`--service-map`).
pub const SERVICE_MAP: &str = "COCKTAIL_PKG_SERVICE_MAP";
/// Publication time (Unix seconds) `index build` records for new versions, for reproducible builds.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";
/// Default for `index build --key`.
pub const INDEX_KEY: &str = "COCKTAIL_PKG_INDEX_KEY";
/// Overrides the configuration folder (default `$XDG_CONFIG_HOME/cocktail-pkg`).
pub const CONFIG_HOME: &str = "COCKTAIL_PKG_CONFIG_HOME";
/// Overrides the cache folder (default `$XDG_CACHE_HOME/cocktail-pkg`).
pub const CACHE_HOME: &str = "COCKTAIL_PKG_CACHE_HOME";
/// The bearer token `serve` accepts for publishing (alternative to `--token-file`).
pub const PUBLISH_TOKEN: &str = "COCKTAIL_PKG_PUBLISH_TOKEN";
/// Log filter for `serve` (tracing's env-filter syntax, default `info`).
pub const LOG: &str = "COCKTAIL_PKG_LOG";
/// Timeout of each HTTP request in seconds (default 30).
pub const HTTP_TIMEOUT: &str = "COCKTAIL_PKG_HTTP_TIMEOUT";
/// How often `--wait` polls, in milliseconds (default 1000).
pub const POLL_INTERVAL_MS: &str = "COCKTAIL_PKG_POLL_INTERVAL_MS";
/// Timeout of each Kubernetes API request in seconds (default 30).
pub const KUBE_TIMEOUT: &str = "COCKTAIL_PKG_KUBE_TIMEOUT";
/// Default kube context for the kube target (`--kube-context`).
pub const KUBE_CONTEXT: &str = "COCKTAIL_PKG_KUBE_CONTEXT";
/// Default target of release commands (`--target`).
pub const TARGET: &str = "COCKTAIL_PKG_TARGET";
/// Lifetime of a release lease in seconds (default 300); renewed while an operation runs.
pub const LEASE_TTL: &str = "COCKTAIL_PKG_LEASE_TTL";
/// Talk plain HTTP to every OCI registry (`1`/`true`), like `--plain-http`; loopback registries
/// (`localhost`, `127.0.0.1`, `[::1]`) always get plain HTTP.
pub const PLAIN_HTTP: &str = "COCKTAIL_PKG_PLAIN_HTTP";
/// Docker's configuration folder; its `config.json` is read for registry credentials.
pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
