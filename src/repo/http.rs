//! The HTTP client every network step uses: rustls with the ring provider, gzip, timeouts, and
//! retries with backoff on 5xx and connection failures. IO.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};

/// Attempts per request (1 + retries).
pub const ATTEMPTS: u32 = 4;
/// First retry delay; doubles each time.
pub const BACKOFF: Duration = Duration::from_millis(100);

/// A request that failed for good.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("failed to build the HTTP client: {0}")]
    Client(String),
    #[error("GET {url} failed after {attempts} attempts: {message}")]
    Transport {
        url: String,
        attempts: u32,
        message: String,
    },
    /// The TLS handshake failed on the server's certificate (not retried).
    #[error("GET {url} failed: {message}")]
    Certificate { url: String, message: String },
    #[error("GET {url} answered {status}")]
    Status { url: String, status: StatusCode },
}

impl HttpError {
    pub fn hint(&self) -> Option<String> {
        match self {
            HttpError::Status { status, .. } if *status == StatusCode::NOT_FOUND => {
                Some("check the repository URL (it should point at the folder holding index.json, or index.yaml for a Helm repository) and the package name".into())
            }
            HttpError::Status { status, .. }
                if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN =>
            {
                Some("the repository wants credentials: add it again with `cocktail-pkg repo add NAME URL --force` and --username/--password-stdin or --token".into())
            }
            HttpError::Client(m) if m.contains("CA file") => {
                Some("--ca-file takes a PEM file of one or more CA certificates".into())
            }
            HttpError::Transport { message, .. } if message.contains("timed out") => Some(format!(
                "the server did not answer in time; raise {} (seconds) if it is just slow",
                crate::env::HTTP_TIMEOUT
            )),
            HttpError::Certificate { .. } => Some(
                "the server's TLS certificate is not trusted: pass its CA with --ca-file (PEM) when adding the repository or logging in, or --insecure-skip-tls-verify to skip the check (not for production)".into(),
            ),
            HttpError::Transport { .. } => Some("check that the server is up and reachable".into()),
            _ => None,
        }
    }
}

/// Request timeout in seconds, from `COCKTAIL_PKG_HTTP_TIMEOUT` (default 30).
pub fn timeout() -> Duration {
    let secs = std::env::var(crate::env::HTTP_TIMEOUT)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(30.0);
    Duration::from_secs_f64(secs)
}

/// Builds the client. Safe to call more than once.
pub fn client() -> Result<Client, HttpError> {
    client_with(&Tls::default())
}

/// TLS settings of one repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// PEM file of extra CA certificates to trust.
    pub ca_file: Option<std::path::PathBuf>,
    /// Accept any certificate (announced through [`warn`] every time a client is built).
    pub insecure: bool,
}

/// Builds a client with a repository's TLS settings.
pub fn client_with(tls: &Tls) -> Result<Client, HttpError> {
    // Installing twice is an error we can ignore: the provider is the same.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = Client::builder()
        .user_agent(concat!("cocktail-pkg/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5).min(timeout()))
        .timeout(timeout())
        .gzip(true);
    if let Some(path) = &tls.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            HttpError::Client(format!(
                "failed to read the CA file {}: {e}",
                path.display()
            ))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            HttpError::Client(format!(
                "the CA file {} holds no valid PEM certificate: {}",
                path.display(),
                crate::error_chain(&e)
            ))
        })?;
        if certs.is_empty() {
            return Err(HttpError::Client(format!(
                "the CA file {} holds no PEM certificate",
                path.display()
            )));
        }
        builder = builder.tls_certs_merge(certs);
    }
    if tls.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| HttpError::Client(crate::error_chain(&e)))
}

type Warner = Box<dyn Fn(&str) + Send + Sync>;
static WARNER: std::sync::OnceLock<Warner> = std::sync::OnceLock::new();

/// Sets where network warnings go (the CLI's printer); the first call wins.
pub fn set_warner(f: Warner) {
    let _ = WARNER.set(f);
}

/// A warning the user must see (TLS verification turned off): through the warner the CLI set,
/// else the log.
pub fn warn(message: &str) {
    match WARNER.get() {
        Some(f) => f(message),
        None => tracing::warn!("{message}"),
    }
}

/// GET with retries. `headers` are added to every attempt. Returns the response for any status
/// below 500 except 4xx other than 304, which are errors; 5xx and transport errors are retried.
pub fn get(client: &Client, url: &str, headers: &[(&str, String)]) -> Result<Response, HttpError> {
    with_retries("GET", url, || {
        let mut req = client.get(url);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req
    })
}

/// POSTs a JSON body with the same retries as [`get`] (the automatic-upgrade webhook).
pub fn post_json(client: &Client, url: &str, body: &[u8]) -> Result<Response, HttpError> {
    with_retries("POST", url, || {
        client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_vec())
    })
}

/// A TLS handshake that failed on the server's certificate (rustls: `invalid peer certificate`).
fn is_certificate_error(message: &str) -> bool {
    message.contains("invalid peer certificate")
}

/// The one retry loop: `ATTEMPTS` tries with exponential backoff on 5xx and transport errors;
/// success and 304 return the response, other 4xx are errors at once.
fn with_retries(
    method: &str,
    url: &str,
    request: impl Fn() -> reqwest::blocking::RequestBuilder,
) -> Result<Response, HttpError> {
    let mut delay = BACKOFF;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match request().send() {
            Ok(resp) if resp.status().is_server_error() => {
                last = format!("server error {}", resp.status());
            }
            Ok(resp) if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED => {
                return Ok(resp);
            }
            Ok(resp) => {
                return Err(HttpError::Status {
                    url: url.to_string(),
                    status: resp.status(),
                });
            }
            Err(e) => {
                last = crate::error_chain(&e);
                // An untrusted certificate does not get better by retrying.
                if is_certificate_error(&last) {
                    return Err(HttpError::Certificate {
                        url: url.to_string(),
                        message: last,
                    });
                }
            }
        }
        if attempt < ATTEMPTS {
            tracing::debug!("{method} {url} failed ({last}); retrying in {delay:?}");
            std::thread::sleep(delay);
            delay *= 2;
        }
    }
    Err(HttpError::Transport {
        url: url.to_string(),
        attempts: ATTEMPTS,
        message: last,
    })
}
