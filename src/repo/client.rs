//! Fetching and verifying repositories, with a cache that only ever holds verified data.
//!
//! Cache layout (`COCKTAIL_PKG_CACHE_HOME`):
//!
//! ```text
//! index-v1/REPO/index.json          the last verified root
//! index-v1/REPO/index.json.sig      its signature
//! index-v1/REPO/etags.json          ETags for conditional requests
//! index-v1/REPO/packages/NAME-HEX.json   versions files, by digest
//! index-v1/REPO/helm-index.json     a Helm repository's cache (see `helm`)
//! index-v1/REPO/helm-versions-HEX.jsonl
//! packages-v1/sha256/HEX.tgz        archives (ours and charts), content-addressed
//! ```
//!
//! A repository's credentials go only to its own origin (scheme, host and port): a chart whose
//! URL points elsewhere is fetched without them, as Helm does without `--pass-credentials`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use reqwest::blocking::Client;

use super::config::{BUILTIN, RepoEntry, RepoKind};
use super::helm::{self, HelmIndexError};
use super::http::{self, HttpError};
use super::provenance::{self, Keyring, ProvenanceError, Verified};
use crate::fsutil::write_atomic;
use crate::index::format::{
    FormatError, PackageSummary, ROOT_FILE, RootIndex, SIGNATURE_FILE, VersionEntry, VersionsFile,
    resolve_url,
};
use crate::index::sign::{PublicKey, SignError, SignatureFile};
use crate::model::Digest;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_index.rs"));
}

/// Largest archive downloaded.
pub const MAX_ARCHIVE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest index file downloaded.
pub const MAX_INDEX_BYTES: u64 = 256 * 1024 * 1024;

/// A repository step that failed. Nothing unverified is ever cached.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("repository `{repo}` failed signature verification")]
    Signature {
        repo: String,
        #[source]
        source: SignError,
    },
    #[error("repository `{repo}` has an invalid index")]
    Format {
        repo: String,
        #[source]
        source: FormatError,
    },
    #[error("{what} from {url} has digest {actual}, but the index says {expected}")]
    DigestMismatch {
        what: String,
        url: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("{what} from {url} is larger than {max} bytes")]
    TooLarge { what: String, url: String, max: u64 },
    #[error("failed to read the download of {url}: {message}")]
    Body { url: String, message: String },
    #[error("no repository named `{0}`")]
    UnknownRepo(String),
    #[error("repository `{repo}` has no package `{name}`")]
    UnknownPackage {
        repo: String,
        name: String,
        /// The closest package name, when one is close (`redsi` -> `redis`).
        suggestion: Option<String>,
    },
    #[error(
        "repository `{repo}` has no version of `{name}` matching `{req}` (versions: {available})"
    )]
    NoMatchingVersion {
        repo: String,
        name: String,
        req: String,
        available: String,
    },
    #[error("the built-in catalog is missing {0}")]
    Builtin(String),
    /// A Helm repository's `index.yaml` was refused; the previous cache is kept.
    #[error("repository `{repo}` served an index.yaml that was refused")]
    HelmIndex {
        repo: String,
        #[source]
        source: HelmIndexError,
    },
    /// The local cache of a Helm repository is damaged.
    #[error("the cache of repository `{repo}` is damaged: {message}")]
    HelmCache { repo: String, message: String },
    /// A requirement in Helm's syntax that our index cannot use (only its versions parse).
    #[error("`{req}` is not a valid version requirement: {message}")]
    Requirement { req: String, message: String },
    #[error("failed to write the cache at {}", .path.display())]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `repositories.yaml` could not be read.
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    /// A downloaded archive could not be unpacked.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    /// A downloaded archive does not hold a valid package.
    #[error(transparent)]
    Package(#[from] crate::package::PackageError),
    /// A chart's provenance file (`--verify`) did not check out; nothing was cached.
    #[error(transparent)]
    Provenance(#[from] ProvenanceError),
}

impl RepoError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RepoError::Config(_) => Some(
                "fix or remove the repositories file (`cocktail-pkg repo list` shows where it is)".into(),
            ),
            RepoError::Archive(e) => e.hint(),
            RepoError::Package(e) => e.hint(),
            RepoError::Provenance(e) => e.hint(),
            RepoError::Http(e) => e.hint(),
            RepoError::Signature { source, .. } => source.hint(),
            RepoError::Format { source, .. } => source.hint(),
            RepoError::DigestMismatch { .. } => Some(
                "the file changed after the index was signed, or the download was corrupted; nothing was cached: run `cocktail-pkg repo update` and retry".into(),
            ),
            RepoError::UnknownRepo(_) => Some(
                "list repositories with `cocktail-pkg repo list`; add one with `cocktail-pkg repo add NAME URL`".into(),
            ),
            RepoError::UnknownPackage {
                repo,
                suggestion: Some(s),
                ..
            } => Some(format!(
                "did you mean `{repo}/{s}`? search with `cocktail-pkg search TERM`"
            )),
            RepoError::UnknownPackage { .. } => {
                Some("search with `cocktail-pkg search TERM`, or refresh with `cocktail-pkg repo update`".into())
            }
            RepoError::HelmIndex { .. } => Some(
                "the previous cache was kept; check that the URL serves a complete index.yaml (Helm's `helm repo index` writes one) and retry `cocktail-pkg repo update`".into(),
            ),
            RepoError::HelmCache { repo, .. } => Some(format!(
                "rebuild it with `cocktail-pkg repo update {repo}`"
            )),
            RepoError::NoMatchingVersion { .. } => Some(
                "see the versions with `cocktail-pkg search NAME --versions`; a requirement looks like `^2`, `~1.4`, `>=1.2, <2` or `=1.2.3`".into(),
            ),
            _ => None,
        }
    }
}

/// Progress callback for downloads: (bytes so far, total if known).
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>);

/// A repository to read: the built-in catalog or one the user added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repo {
    Builtin,
    Remote(RepoEntry),
}

impl Repo {
    pub fn name(&self) -> &str {
        match self {
            Repo::Builtin => BUILTIN,
            Repo::Remote(r) => &r.name,
        }
    }
}

/// Whether `update` fetched a new root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Unchanged,
    Updated,
}

/// The client: HTTP plus the cache.
pub struct RepoClient {
    http: Option<Client>,
    /// Clients of repositories with their own TLS settings, by repository name.
    tls_clients: BTreeMap<String, Client>,
    cache: PathBuf,
}

/// The origin (`scheme://host:port`) of a URL, to decide where credentials may go.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let u = reqwest::Url::parse(url).ok()?;
    Some((
        u.scheme().to_string(),
        u.host_str()?.to_string(),
        u.port_or_known_default()?,
    ))
}

/// The headers of a request to `url` for `repo`: its credentials, when `url` is on the
/// repository's own origin.
fn auth_headers(repo: &RepoEntry, url: &str) -> Vec<(&'static str, String)> {
    match &repo.auth {
        Some(auth) if origin(url).is_some() && origin(url) == origin(&repo.url) => {
            vec![("Authorization", auth.header())]
        }
        _ => Vec::new(),
    }
}

fn builtin_file(path: &str) -> Result<&'static [u8], RepoError> {
    builtin::FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, b)| *b)
        .ok_or_else(|| RepoError::Builtin(path.to_string()))
}

fn read_opt(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

fn cache_write(path: &Path, bytes: &[u8]) -> Result<(), RepoError> {
    write_atomic(path, bytes).map_err(|source| RepoError::Cache {
        path: path.to_path_buf(),
        source,
    })
}

/// The last path segment of a URL (`https://x/charts/demo-0.1.0.tgz?a=b` -> `demo-0.1.0.tgz`):
/// the file name Helm downloads an archive to, which its provenance file names.
fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Reads a body up to `max` bytes, hashing as it goes and reporting progress.
fn read_body(
    mut resp: reqwest::blocking::Response,
    what: &str,
    url: &str,
    max: u64,
    progress: Progress<'_>,
) -> Result<Vec<u8>, RepoError> {
    let total = resp.content_length();
    if total.is_some_and(|t| t > max) {
        return Err(RepoError::TooLarge {
            what: what.into(),
            url: url.into(),
            max,
        });
    }
    let mut out = Vec::with_capacity(total.unwrap_or(0).min(max) as usize);
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = resp.read(&mut buf).map_err(|e| RepoError::Body {
            url: url.into(),
            message: e.to_string(),
        })?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() as u64 > max {
            return Err(RepoError::TooLarge {
                what: what.into(),
                url: url.into(),
                max,
            });
        }
        progress(out.len() as u64, total);
    }
    if let Some(t) = total
        && out.len() as u64 != t
    {
        return Err(RepoError::Body {
            url: url.into(),
            message: format!("got {} of {t} bytes", out.len()),
        });
    }
    Ok(out)
}

impl RepoClient {
    pub fn new(cache: PathBuf) -> Self {
        Self {
            http: None,
            tls_clients: BTreeMap::new(),
            cache,
        }
    }

    /// A client using the user's cache folder.
    pub fn from_env() -> Self {
        Self::new(crate::dirs::cache_home())
    }

    fn http(&mut self) -> Result<&Client, RepoError> {
        if self.http.is_none() {
            self.http = Some(http::client()?);
        }
        // Set just above.
        self.http
            .as_ref()
            .ok_or_else(|| RepoError::Builtin("http client".into()))
    }

    fn repo_dir(&self, name: &str) -> PathBuf {
        self.cache.join("index-v1").join(name)
    }

    /// The client for a repository: the shared one, or one with the repository's CA file or
    /// with verification off (announced loudly, once per repository and process).
    fn http_for(&mut self, repo: &RepoEntry) -> Result<Client, RepoError> {
        if repo.ca_file.is_none() && !repo.insecure_skip_tls_verify {
            return Ok(self.http()?.clone());
        }
        if let Some(c) = self.tls_clients.get(&repo.name) {
            return Ok(c.clone());
        }
        if repo.insecure_skip_tls_verify {
            http::warn(&format!(
                "TLS certificate verification is OFF for repository `{}` ({}): anyone between you and the server can read your credentials and serve you other charts; add it again without --insecure-skip-tls-verify (use --ca-file) as soon as you can",
                repo.name, repo.url
            ));
        }
        let client = http::client_with(&http::Tls {
            ca_file: repo.ca_file.clone(),
            insecure: repo.insecure_skip_tls_verify,
        })?;
        self.tls_clients.insert(repo.name.clone(), client.clone());
        Ok(client)
    }

    /// Fetches a Helm repository's `index.yaml` (conditionally when a cache exists) and
    /// rebuilds the cache from it; a refused index keeps the previous cache.
    fn update_helm(&mut self, repo: &RepoEntry) -> Result<(RootIndex, Freshness), RepoError> {
        let dir = self.repo_dir(&repo.name);
        let cached = helm::load_cache(&dir).filter(|c| c.url == repo.url);
        let url = resolve_url(&repo.url, helm::INDEX_FILE);
        let mut headers = auth_headers(repo, &url);
        if let Some(c) = &cached {
            if let Some(tag) = &c.etag {
                headers.push(("If-None-Match", tag.clone()));
            }
            if let Some(lm) = &c.last_modified {
                headers.push(("If-Modified-Since", lm.clone()));
            }
        }
        let client = self.http_for(repo)?;
        let resp = http::get(&client, &url, &headers)?;
        if resp.status() == StatusCode::NOT_MODIFIED
            && let Some(c) = cached
        {
            return Ok((c.to_root(), Freshness::Unchanged));
        }
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = helm::Validators {
            etag: header(reqwest::header::ETAG),
            last_modified: header(reqwest::header::LAST_MODIFIED),
        };
        let body = read_body(resp, "index.yaml", &url, MAX_INDEX_BYTES, &mut |_, _| {})?;
        if let Some(mut c) = cached
            && c.index_digest == Digest::of(&body)
        {
            // The same bytes (a server without validators): keep the cache, note the new ones.
            if c.etag != validators.etag || c.last_modified != validators.last_modified {
                c.etag = validators.etag;
                c.last_modified = validators.last_modified;
                helm::write_cache(&dir, &c).map_err(|source| RepoError::Cache {
                    path: dir.join(helm::CACHE_FILE),
                    source,
                })?;
            }
            return Ok((c.to_root(), Freshness::Unchanged));
        }
        let cache = helm::build_cache(&dir, &repo.url, &body, validators).map_err(|source| {
            RepoError::HelmIndex {
                repo: repo.name.clone(),
                source,
            }
        })?;
        Ok((cache.to_root(), Freshness::Updated))
    }

    /// Fetches and verifies the root, with conditional requests; caches it only once verified.
    /// For a Helm repository: fetches `index.yaml` and rebuilds its cache.
    pub fn update(&mut self, repo: &RepoEntry) -> Result<(RootIndex, Freshness), RepoError> {
        if repo.kind == RepoKind::Helm {
            return self.update_helm(repo);
        }
        let key = PublicKey::parse(&repo.public_key).map_err(|source| RepoError::Signature {
            repo: repo.name.clone(),
            source,
        })?;
        let dir = self.repo_dir(&repo.name);
        let etags_path = dir.join("etags.json");
        let mut etags: BTreeMap<String, String> = read_opt(&etags_path)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let cached_root = read_opt(&dir.join(ROOT_FILE));
        let cached_sig = read_opt(&dir.join(SIGNATURE_FILE));
        let mut fetch = |client: &Client,
                         file: &str,
                         cached: &Option<Vec<u8>>|
         -> Result<(Vec<u8>, bool), RepoError> {
            let url = resolve_url(&repo.url, file);
            let mut headers = auth_headers(repo, &url);
            if cached.is_some()
                && let Some(tag) = etags.get(file)
            {
                headers.push(("If-None-Match", tag.clone()));
            }
            let resp = http::get(client, &url, &headers)?;
            if resp.status() == StatusCode::NOT_MODIFIED
                && let Some(c) = cached
            {
                return Ok((c.clone(), false));
            }
            let tag = resp
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = read_body(resp, file, &url, MAX_INDEX_BYTES, &mut |_, _| {})?;
            match tag {
                Some(t) => etags.insert(file.to_string(), t),
                None => etags.remove(file),
            };
            Ok((body, true))
        };
        let client = self.http_for(repo)?;
        let (root_bytes, root_new) = fetch(&client, ROOT_FILE, &cached_root)?;
        let (sig_bytes, sig_new) = fetch(&client, SIGNATURE_FILE, &cached_sig)?;
        let sig_err = |source| RepoError::Signature {
            repo: repo.name.clone(),
            source,
        };
        let sig = SignatureFile::parse(&sig_bytes).map_err(sig_err)?;
        key.verify(&root_bytes, &sig).map_err(sig_err)?;
        let root = RootIndex::parse(&root_bytes).map_err(|source| RepoError::Format {
            repo: repo.name.clone(),
            source,
        })?;
        // Verified: now it may be cached.
        if root_new {
            cache_write(&dir.join(ROOT_FILE), &root_bytes)?;
        }
        if sig_new {
            cache_write(&dir.join(SIGNATURE_FILE), &sig_bytes)?;
        }
        if root_new || sig_new {
            let text = serde_json::to_vec_pretty(&etags).unwrap_or_default();
            cache_write(&etags_path, &text)?;
        }
        let fresh = if root_new {
            Freshness::Updated
        } else {
            Freshness::Unchanged
        };
        Ok((root, fresh))
    }

    /// A Helm repository's cache, fetched first when there is none.
    pub fn helm_cache(&mut self, repo: &RepoEntry) -> Result<helm::HelmCache, RepoError> {
        let dir = self.repo_dir(&repo.name);
        if let Some(c) = helm::load_cache(&dir).filter(|c| c.url == repo.url) {
            return Ok(c);
        }
        self.update_helm(repo)?;
        helm::load_cache(&dir).ok_or_else(|| RepoError::HelmCache {
            repo: repo.name.clone(),
            message: format!(
                "{} could not be read back",
                dir.join(helm::CACHE_FILE).display()
            ),
        })
    }

    /// The root of a repository: embedded for the built-in catalog; for others the verified
    /// cache (re-verified against the pinned key), fetched first when there is none.
    pub fn root(&mut self, repo: &Repo) -> Result<RootIndex, RepoError> {
        let entry = match repo {
            Repo::Builtin => {
                return RootIndex::parse(builtin_file(ROOT_FILE)?).map_err(|source| {
                    RepoError::Format {
                        repo: BUILTIN.into(),
                        source,
                    }
                });
            }
            Repo::Remote(e) => e,
        };
        let dir = self.repo_dir(&entry.name);
        if entry.kind == RepoKind::Helm {
            return Ok(self.helm_cache(entry)?.to_root());
        }
        if let (Some(root), Some(sig)) = (
            read_opt(&dir.join(ROOT_FILE)),
            read_opt(&dir.join(SIGNATURE_FILE)),
        ) {
            let verified = PublicKey::parse(&entry.public_key)
                .and_then(|k| SignatureFile::parse(&sig).and_then(|s| k.verify(&root, &s)));
            if verified.is_ok()
                && let Ok(r) = RootIndex::parse(&root)
            {
                return Ok(r);
            }
        }
        Ok(self.update(entry)?.0)
    }

    /// A package's versions file, verified against the root's digest; cached by digest.
    pub fn versions(
        &mut self,
        repo: &Repo,
        summary: &PackageSummary,
    ) -> Result<VersionsFile, RepoError> {
        let format_err = |source| RepoError::Format {
            repo: repo.name().to_string(),
            source,
        };
        let bytes = match repo {
            Repo::Builtin => builtin_file(&summary.versions_url)?.to_vec(),
            Repo::Remote(entry) if entry.kind == RepoKind::Helm => helm::read_versions(
                &self.repo_dir(&entry.name),
                &summary.versions_url,
                &summary.versions_digest,
            )
            .map_err(|message| RepoError::HelmCache {
                repo: entry.name.clone(),
                message,
            })?,
            Repo::Remote(entry) => {
                let path = self.repo_dir(&entry.name).join("packages").join(format!(
                    "{}-{}.json",
                    summary.name,
                    summary.versions_digest.hex()
                ));
                match read_opt(&path).filter(|b| Digest::of(b) == summary.versions_digest) {
                    Some(b) => b,
                    None => {
                        let url = resolve_url(&entry.url, &summary.versions_url);
                        let client = self.http_for(entry)?;
                        let resp = http::get(&client, &url, &auth_headers(entry, &url))?;
                        let body = read_body(
                            resp,
                            "versions file",
                            &url,
                            MAX_INDEX_BYTES,
                            &mut |_, _| {},
                        )?;
                        let actual = Digest::of(&body);
                        if actual != summary.versions_digest {
                            return Err(RepoError::DigestMismatch {
                                what: format!("the versions file of `{}`", summary.name),
                                url,
                                expected: summary.versions_digest.clone(),
                                actual,
                            });
                        }
                        cache_write(&path, &body)?;
                        body
                    }
                }
            }
        };
        if matches!(repo, Repo::Builtin) && Digest::of(&bytes) != summary.versions_digest {
            return Err(RepoError::Builtin(format!(
                "a consistent {}",
                summary.versions_url
            )));
        }
        VersionsFile::parse(&summary.versions_url, &bytes).map_err(format_err)
    }

    fn archive_path(&self, entry: &VersionEntry) -> PathBuf {
        self.cache
            .join("packages-v1")
            .join("sha256")
            .join(format!("{}.tgz", entry.digest.hex()))
    }

    /// An archive from the cache, when it holds one with the right digest; else downloaded and
    /// digest-verified, not cached yet: (bytes, downloaded).
    fn archive_bytes(
        &mut self,
        repo: &Repo,
        entry: &VersionEntry,
        progress: Progress<'_>,
    ) -> Result<(Vec<u8>, bool), RepoError> {
        if let Repo::Builtin = repo {
            let bytes = builtin_file(&entry.url)?;
            if Digest::of(bytes) != entry.digest {
                return Err(RepoError::Builtin(format!("a consistent {}", entry.url)));
            }
            return Ok((bytes.to_vec(), false));
        }
        let path = self.archive_path(entry);
        if let Some(b) = read_opt(&path).filter(|b| Digest::of(b) == entry.digest) {
            return Ok((b, false));
        }
        let Repo::Remote(r) = repo else {
            return Err(RepoError::Builtin(entry.url.clone()));
        };
        let url = resolve_url(&r.url, &entry.url);
        let client = self.http_for(r)?;
        let resp = http::get(&client, &url, &auth_headers(r, &url))?;
        let body = read_body(resp, "archive", &url, MAX_ARCHIVE_BYTES, progress)?;
        let actual = Digest::of(&body);
        if actual != entry.digest {
            return Err(RepoError::DigestMismatch {
                what: format!("archive {}", entry.url),
                url,
                expected: entry.digest.clone(),
                actual,
            });
        }
        Ok((body, true))
    }

    /// An archive's bytes, digest-verified; downloads go to the content-addressed cache.
    pub fn archive(
        &mut self,
        repo: &Repo,
        entry: &VersionEntry,
        progress: Progress<'_>,
    ) -> Result<Vec<u8>, RepoError> {
        let (bytes, downloaded) = self.archive_bytes(repo, entry, progress)?;
        if downloaded {
            cache_write(&self.archive_path(entry), &bytes)?;
        }
        Ok(bytes)
    }

    /// An archive verified against its provenance file (the archive's URL + `.prov`, as Helm
    /// serves it) and `keyring` before it is cached: (archive, provenance file, verdict).
    /// `subject` names the chart in errors.
    pub fn archive_verified(
        &mut self,
        repo: &Repo,
        subject: &str,
        entry: &VersionEntry,
        keyring: &Keyring,
        progress: Progress<'_>,
    ) -> Result<(Vec<u8>, Vec<u8>, Verified), RepoError> {
        let (bytes, downloaded) = self.archive_bytes(repo, entry, progress)?;
        let Repo::Remote(r) = repo else {
            return Err(ProvenanceError::Missing {
                subject: subject.to_string(),
                location:
                    "the built-in catalog is verified by its signed index, not by provenance files"
                        .into(),
            }
            .into());
        };
        let url = format!("{}{}", resolve_url(&r.url, &entry.url), provenance::SUFFIX);
        let client = self.http_for(r)?;
        let prov = match http::get(&client, &url, &auth_headers(r, &url)) {
            Ok(resp) => read_body(
                resp,
                "provenance file",
                &url,
                provenance::MAX_PROV_BYTES,
                &mut |_, _| {},
            )?,
            Err(HttpError::Status { status, .. })
                if status == StatusCode::NOT_FOUND || status == StatusCode::GONE =>
            {
                return Err(ProvenanceError::Missing {
                    subject: subject.to_string(),
                    location: format!("{url} answered {status}"),
                }
                .into());
            }
            Err(e) => return Err(e.into()),
        };
        let file = url_file_name(&entry.url);
        let verified = provenance::verify(subject, &prov, keyring, &file, &bytes)?;
        // Verified: now it may be cached.
        if downloaded {
            cache_write(&self.archive_path(entry), &bytes)?;
        }
        Ok((bytes, prov, verified))
    }

    /// Removes a repository's cached index.
    pub fn forget(&self, name: &str) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.repo_dir(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Fetches a server's published public key (`index.pub`), for trust on first use, with
    /// the repository's credentials and TLS settings.
    pub fn fetch_public_key(&mut self, repo: &RepoEntry) -> Result<String, RepoError> {
        let full = resolve_url(&repo.url, "index.pub");
        let client = self.http_for(repo)?;
        let resp = http::get(&client, &full, &auth_headers(repo, &full))?;
        let body = read_body(resp, "public key", &full, 4096, &mut |_, _| {})?;
        Ok(String::from_utf8_lossy(&body).trim().to_string())
    }
}
