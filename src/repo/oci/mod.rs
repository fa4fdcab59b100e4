//! OCI registries: packages and Helm charts stored as OCI artifacts (the OCI Distribution spec
//! v1.1), on our blocking `reqwest` client. IO.
//!
//! - [`reference`]: `oci://HOST[:PORT]/PATH/NAME[:TAG|@sha256:DIGEST|@REQ]` (pure).
//! - [`manifest`]: the image manifest, Helm's and our media types, the config blob and the
//!   annotations `helm push` writes (pure).
//! - [`auth`]: `WWW-Authenticate` challenges (pure) and credentials stored like Docker's
//!   `config.json` (ours under the config folder, read also from Docker's).
//! - [`client`]: the wire protocol: tag lists, manifests, blobs, uploads, the Basic and Bearer
//!   token flows, verification of every digest before anything is cached.
//!
//! Artifacts (what `publish` writes, what pulling accepts):
//!
//! | | config media type | layer media type |
//! |---|---|---|
//! | Helm chart | `application/vnd.cncf.helm.config.v1+json` (Chart.yaml as JSON) | `application/vnd.cncf.helm.chart.content.v1.tar+gzip` (also the legacy `application/tar+gzip` when pulling) |
//! | our package | `application/vnd.cocktail.package.config.v1+json` (package.yaml as JSON) | `application/vnd.cocktail.package.v1.tar+gzip` |
//!
//! Cache (`COCKTAIL_PKG_CACHE_HOME`), written only after verification:
//!
//! ```text
//! packages-v1/sha256/HEX.tgz     layers (chart and package archives), like repository archives
//! oci-v1/sha256/HEX              manifests and config blobs, by digest
//! ```

pub mod auth;
pub mod client;
pub mod manifest;
pub mod reference;

pub use client::{OciClient, Pulled};
pub use reference::{OciRef, Selector};

use std::path::PathBuf;

use crate::model::Digest;

/// An OCI registry step that failed. Nothing unverified is ever cached.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("invalid OCI reference `{reference}`: {reason}")]
    InvalidReference { reference: String, reason: String },
    #[error("failed to build the HTTP client: {0}")]
    Client(String),
    #[error("{method} {url} failed after {attempts} attempts: {message}")]
    Transport {
        method: &'static str,
        url: String,
        attempts: u32,
        message: String,
    },
    #[error("{method} {url} answered {status}{}", fmt_detail(.detail))]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        detail: String,
    },
    #[error("registry {registry} refused the credentials{}", fmt_detail(.detail))]
    Unauthorized {
        registry: String,
        /// Whether credentials were sent.
        had_credentials: bool,
        detail: String,
    },
    #[error("registry {registry} denied access to {repository}{}", fmt_detail(.detail))]
    Denied {
        registry: String,
        repository: String,
        detail: String,
    },
    #[error("{what} not found in {registry}{}", fmt_detail(.detail))]
    NotFound {
        what: String,
        registry: String,
        detail: String,
    },
    #[error(
        "registry {registry} sent an authentication challenge this client cannot answer: {challenge}"
    )]
    Challenge { registry: String, challenge: String },
    #[error("failed to get a token from {realm}: {message}")]
    Token { realm: String, message: String },
    #[error("refusing to send credentials over plain HTTP to {url}")]
    InsecureRealm { url: String },
    #[error("{what} from {url} has digest {actual}, expected {expected}")]
    DigestMismatch {
        what: String,
        url: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("{what} from {url} has {actual} bytes, the manifest says {expected}")]
    SizeMismatch {
        what: String,
        url: String,
        expected: u64,
        actual: u64,
    },
    #[error("{what} from {url} is larger than {max} bytes")]
    TooLarge { what: String, url: String, max: u64 },
    #[error("failed to read {what} from {url}: {message}")]
    Body {
        what: String,
        url: String,
        message: String,
    },
    #[error("the manifest of {reference} is invalid: {reason}")]
    BadManifest { reference: String, reason: String },
    #[error("{reference} is not a Helm chart or a cocktail-pkg package ({reason})")]
    NotAPackage { reference: String, reason: String },
    #[error("{reference} has no tag matching `{req}` (semver tags: {available})")]
    NoMatchingTag {
        reference: String,
        req: String,
        available: String,
    },
    #[error("{reference} already holds a different artifact (layer {existing})")]
    TagExists { reference: String, existing: Digest },
    #[error("failed to upload {what} to {url}: {message}")]
    Upload {
        what: String,
        url: String,
        message: String,
    },
    #[error("failed to read the registry credentials {}", .path.display())]
    CredentialsRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid credentials file: {message}", .path.display())]
    CredentialsParse { path: PathBuf, message: String },
    #[error("failed to write the registry credentials {}", .path.display())]
    CredentialsWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not logged in to {0}")]
    NotLoggedIn(String),
    #[error("failed to write the cache at {}", .path.display())]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A chart's provenance layer (`--verify`) did not check out; nothing was cached.
    #[error(transparent)]
    Provenance(#[from] crate::repo::provenance::ProvenanceError),
}

fn fmt_detail(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl OciError {
    pub fn hint(&self) -> Option<String> {
        match self {
            OciError::InvalidReference { .. } => Some(
                "an OCI reference looks like oci://registry.example.com/charts/redis:1.2.3, oci://HOST/PATH/NAME@sha256:… or oci://HOST/PATH/NAME@^1".into(),
            ),
            OciError::Unauthorized { registry, had_credentials: false, .. } => Some(format!(
                "log in with `cocktail-pkg registry login {registry} -u USER --password-stdin`"
            )),
            OciError::Unauthorized { registry, .. } => Some(format!(
                "the stored credentials were refused: log in again with `cocktail-pkg registry login {registry} -u USER --password-stdin`"
            )),
            OciError::Denied { .. } => Some(
                "the account lacks permission for this repository (pull, or push to publish)".into(),
            ),
            OciError::NotFound { .. } => Some(
                "check the registry, path, name and tag; list a chart's versions with a semver range, like oci://HOST/PATH/NAME@*".into(),
            ),
            OciError::Transport { message, .. } if message.contains("broke off") => Some(
                "the registry (or a proxy before it) cut the download short on every attempt; nothing was cached: retry later".into(),
            ),
            OciError::Transport { message, .. } if message.contains("timed out") => Some(format!(
                "the registry did not answer in time; raise {} (seconds) if it is just slow",
                crate::env::HTTP_TIMEOUT
            )),
            OciError::Transport { url, .. } if url.starts_with("https://") => Some(format!(
                "check that the registry is up and reachable; a registry that serves plain HTTP needs --plain-http (or {}=1)",
                crate::env::PLAIN_HTTP
            )),
            OciError::Transport { .. } => Some("check that the registry is up and reachable".into()),
            OciError::InsecureRealm { .. } => Some(format!(
                "the registry's token service is not HTTPS; pass --plain-http (or {}=1) only if you trust the network",
                crate::env::PLAIN_HTTP
            )),
            OciError::DigestMismatch { .. } | OciError::SizeMismatch { .. } | OciError::Body { .. } => Some(
                "the registry sent other bytes than its manifest names (corrupted or tampered with); nothing was cached".into(),
            ),
            OciError::NoMatchingTag { .. } => Some(
                "a requirement looks like `^2`, `~1.4`, `>=1.2, <2` or `=1.2.3`; pre-releases match only when the requirement names one".into(),
            ),
            OciError::TagExists { .. } => Some(
                "versions are published once; publish a new version, or pass --force to replace the tag".into(),
            ),
            OciError::CredentialsParse { .. } => Some(
                "fix or remove the file; `cocktail-pkg registry login` writes a new one".into(),
            ),
            OciError::NotLoggedIn(_) => Some(
                "`cocktail-pkg registry logout` removes only what `registry login` stored".into(),
            ),
            OciError::Provenance(e) => e.hint(),
            OciError::NotAPackage { .. } => Some(
                "only Helm charts (pushed with `helm push`) and packages published with `cocktail-pkg publish` can be pulled".into(),
            ),
            _ => None,
        }
    }
}
