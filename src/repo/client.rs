//! Fetching and verifying repositories, with a cache that only ever holds verified data.
//!
//! Cache layout (`COCKTAIL_PKG_CACHE_HOME`):
//!
//! ```text
//! index-v1/REPO/index.json          the last verified root
//! index-v1/REPO/index.json.sig      its signature
//! index-v1/REPO/etags.json          ETags for conditional requests
//! index-v1/REPO/packages/NAME-HEX.json   versions files, by digest
//! packages-v1/sha256/HEX.tgz        archives, content-addressed
//! ```

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use reqwest::blocking::Client;

use super::config::{BUILTIN, RepoEntry};
use super::http::{self, HttpError};
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
}

impl RepoError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RepoError::Config(_) => Some(
                "fix or remove the repositories file (`cocktail-pkg repo list` shows where it is)".into(),
            ),
            RepoError::Archive(e) => e.hint(),
            RepoError::Package(e) => e.hint(),
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
    cache: PathBuf,
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
        Self { http: None, cache }
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

    /// Fetches and verifies the root, with conditional requests; caches it only once verified.
    pub fn update(&mut self, repo: &RepoEntry) -> Result<(RootIndex, Freshness), RepoError> {
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
            let mut headers = Vec::new();
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
        let client = self.http()?.clone();
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
                        let resp = http::get(self.http()?, &url, &[])?;
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

    /// An archive's bytes, digest-verified; downloads go to the content-addressed cache.
    pub fn archive(
        &mut self,
        repo: &Repo,
        entry: &VersionEntry,
        progress: Progress<'_>,
    ) -> Result<Vec<u8>, RepoError> {
        if let Repo::Builtin = repo {
            let bytes = builtin_file(&entry.url)?;
            if Digest::of(bytes) != entry.digest {
                return Err(RepoError::Builtin(format!("a consistent {}", entry.url)));
            }
            return Ok(bytes.to_vec());
        }
        let path = self
            .cache
            .join("packages-v1")
            .join("sha256")
            .join(format!("{}.tgz", entry.digest.hex()));
        if let Some(b) = read_opt(&path).filter(|b| Digest::of(b) == entry.digest) {
            return Ok(b);
        }
        let Repo::Remote(r) = repo else {
            return Err(RepoError::Builtin(entry.url.clone()));
        };
        let url = resolve_url(&r.url, &entry.url);
        let resp = http::get(self.http()?, &url, &[])?;
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
        cache_write(&path, &body)?;
        Ok(body)
    }

    /// Removes a repository's cached index.
    pub fn forget(&self, name: &str) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.repo_dir(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Fetches a server's published public key (`index.pub`), for trust on first use.
    pub fn fetch_public_key(&mut self, url: &str) -> Result<String, RepoError> {
        let full = resolve_url(url, "index.pub");
        let resp = http::get(self.http()?, &full, &[])?;
        let body = read_body(resp, "public key", &full, 4096, &mut |_, _| {})?;
        Ok(String::from_utf8_lossy(&body).trim().to_string())
    }
}
