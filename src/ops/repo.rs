//! `repo add|list|update|remove`, `search` and `pull`.

use std::path::PathBuf;

use serde::Serialize;

use super::OpError;
use crate::fsutil::write_atomic;
use crate::index::format::VersionEntry;
use crate::index::sign::PublicKey;
use crate::model::{Digest, PackageName};
use crate::repo::client::Progress;
use crate::repo::config::{BUILTIN, RepoAuth, RepoEntry, RepoFile, RepoKind};
use crate::repo::reference::{Requirement, fetch};
use crate::repo::{Freshness, Repo, RepoClient, RepoError};

fn config_err(e: crate::repo::config::ConfigError) -> OpError {
    OpError::Invalid(crate::error_chain(&e))
}

/// Where the public key of a new repository comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Given by the user (a key file's path or the key text).
    Given(String),
    /// Fetched from the server's `index.pub` and pinned from now on (trust on first use).
    FirstUse,
}

/// What `repo add` expects at the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindChoice {
    /// Our index when the server publishes a key (`index.pub`), else a Helm repository
    /// (`index.yaml`).
    Detect,
    Cocktail,
    Helm,
}

#[derive(Debug, Clone)]
pub struct AddOptions {
    pub name: String,
    pub url: String,
    pub key: KeySource,
    pub force: bool,
    pub kind: KindChoice,
    pub auth: Option<RepoAuth>,
    pub ca_file: Option<PathBuf>,
    pub insecure_skip_tls_verify: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddOutcome {
    pub name: String,
    pub url: String,
    pub kind: RepoKind,
    /// Empty for a Helm repository.
    pub key_id: String,
    pub trusted_on_first_use: bool,
    pub packages: usize,
    /// Helm chart versions left out of the cache (no valid version, digest or URL).
    pub skipped: usize,
}

fn normalize_url(url: &str) -> Result<String, OpError> {
    let u = url.trim();
    if !(u.starts_with("http://") || u.starts_with("https://")) {
        return Err(OpError::Invalid(format!(
            "repository URL `{u}` must start with http:// or https://"
        )));
    }
    let u = u.trim_end_matches("index.json");
    let u = u.trim_end_matches("index.yaml");
    Ok(if u.ends_with('/') {
        u.to_string()
    } else {
        format!("{u}/")
    })
}

pub fn add(client: &mut RepoClient, opts: &AddOptions) -> Result<AddOutcome, OpError> {
    PackageName::new(&opts.name)
        .map_err(|e| OpError::Invalid(e.to_string().replace("package name", "repository name")))?;
    if opts.name == BUILTIN {
        return Err(OpError::Invalid(format!(
            "`{BUILTIN}` is the built-in catalog's name; pick another"
        )));
    }
    let path = RepoFile::path();
    let mut file = RepoFile::load(&path).map_err(config_err)?;
    if file.get(&opts.name).is_some() && !opts.force {
        return Err(OpError::Invalid(format!(
            "repository `{}` already exists (pass --force to replace it)",
            opts.name
        )));
    }
    let url = normalize_url(&opts.url)?;
    if let Some(ca) = &opts.ca_file
        && !ca.is_file()
    {
        return Err(OpError::Invalid(format!(
            "the CA file {} does not exist",
            ca.display()
        )));
    }
    let mut entry = RepoEntry {
        name: opts.name.clone(),
        url: url.clone(),
        auth: opts.auth.clone(),
        ca_file: opts.ca_file.clone(),
        insecure_skip_tls_verify: opts.insecure_skip_tls_verify,
        ..RepoEntry::default()
    };
    // Which format: the one asked for; else ours when a key is given or the server publishes
    // one (as before Helm repositories existed), else a Helm repository.
    let (key, tofu) = match (opts.kind, &opts.key) {
        (KindChoice::Helm, _) => (None, false),
        (_, KeySource::Given(k)) => {
            let text = match std::fs::read_to_string(k) {
                Ok(t) => t,
                Err(_) => k.clone(),
            };
            (Some(text.trim().to_string()), false)
        }
        (KindChoice::Cocktail, KeySource::FirstUse) => {
            (Some(client.fetch_public_key(&entry)?), true)
        }
        (KindChoice::Detect, KeySource::FirstUse) => match client.fetch_public_key(&entry) {
            Ok(k) if PublicKey::parse(&k).is_ok() => (Some(k), true),
            Ok(_) | Err(RepoError::Http(crate::repo::http::HttpError::Status { .. })) => {
                (None, false)
            }
            Err(e) => return Err(e.into()),
        },
    };
    let key = match key {
        Some(text) => {
            let key = PublicKey::parse(&text).map_err(|e| OpError::Invalid(format!("{e}")))?;
            entry.public_key = key.to_text().trim().to_string();
            Some(key)
        }
        None => {
            entry.kind = RepoKind::Helm;
            None
        }
    };
    // Only a repository whose index verifies (ours) or parses (Helm's) is added.
    client.forget(&opts.name).ok();
    let (root, _) = client.update(&entry)?;
    let skipped = if entry.kind == RepoKind::Helm {
        client.helm_cache(&entry)?.skipped
    } else {
        0
    };
    let kind = entry.kind;
    file.repositories.retain(|r| r.name != opts.name);
    file.repositories.push(entry);
    file.repositories.sort_by(|a, b| a.name.cmp(&b.name));
    file.save(&path).map_err(config_err)?;
    Ok(AddOutcome {
        name: opts.name.clone(),
        url,
        kind,
        key_id: key.map(|k| k.key_id()).unwrap_or_default(),
        trusted_on_first_use: tofu,
        packages: root.packages.len(),
        skipped,
    })
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoListing {
    pub name: String,
    pub url: String,
    pub kind: RepoKind,
    pub key_id: String,
    pub builtin: bool,
    /// `basic` or `bearer` when credentials are stored (never the secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_tls_verify: bool,
}

pub fn list() -> Result<Vec<RepoListing>, OpError> {
    let file = RepoFile::load(&RepoFile::path()).map_err(config_err)?;
    let mut out = vec![RepoListing {
        name: BUILTIN.into(),
        url: "(built in)".into(),
        kind: RepoKind::Cocktail,
        key_id: String::new(),
        builtin: true,
        auth: None,
        insecure_skip_tls_verify: false,
    }];
    for r in file.repositories {
        let key_id = PublicKey::parse(&r.public_key)
            .map(|k| k.key_id())
            .unwrap_or_default();
        out.push(RepoListing {
            name: r.name,
            url: r.url,
            kind: r.kind,
            key_id,
            builtin: false,
            auth: r.auth.as_ref().map(|a| a.kind().to_string()),
            insecure_skip_tls_verify: r.insecure_skip_tls_verify,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOutcome {
    pub name: String,
    pub kind: RepoKind,
    pub changed: bool,
    pub packages: usize,
}

pub fn update(client: &mut RepoClient, names: &[String]) -> Result<Vec<UpdateOutcome>, OpError> {
    let file = RepoFile::load(&RepoFile::path()).map_err(config_err)?;
    let mut out = Vec::new();
    for r in &file.repositories {
        if !names.is_empty() && !names.contains(&r.name) {
            continue;
        }
        let (root, fresh) = client.update(r)?;
        out.push(UpdateOutcome {
            name: r.name.clone(),
            kind: r.kind,
            changed: fresh == Freshness::Updated,
            packages: root.packages.len(),
        });
    }
    for n in names {
        if n != BUILTIN && file.get(n).is_none() {
            return Err(crate::repo::RepoError::UnknownRepo(n.clone()).into());
        }
    }
    Ok(out)
}

pub fn remove(client: &RepoClient, name: &str) -> Result<(), OpError> {
    let path = RepoFile::path();
    let mut file = RepoFile::load(&path).map_err(config_err)?;
    if file.get(name).is_none() {
        return Err(crate::repo::RepoError::UnknownRepo(name.into()).into());
    }
    file.repositories.retain(|r| r.name != name);
    file.save(&path).map_err(config_err)?;
    client.forget(name).map_err(|source| OpError::Write {
        path: crate::dirs::cache_home().join("index-v1").join(name),
        source,
    })?;
    Ok(())
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub repo: String,
    /// `helm` for a Helm repository (absent for ours).
    #[serde(skip_serializing_if = "RepoKind::is_cocktail")]
    pub kind: RepoKind,
    pub name: String,
    pub latest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A Helm chart whose newest version is deprecated.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionEntry>,
}

/// Searches every repository's cached (or first-fetched) index.
pub fn search(
    client: &mut RepoClient,
    term: &str,
    with_versions: bool,
) -> Result<Vec<SearchHit>, OpError> {
    let file = RepoFile::load(&RepoFile::path()).map_err(config_err)?;
    let mut repos = vec![Repo::Builtin];
    repos.extend(file.repositories.into_iter().map(Repo::Remote));
    let mut hits = Vec::new();
    for repo in &repos {
        // A Helm chart's summary also says whether it is deprecated (its newest version is).
        let (root, deprecated) = match repo {
            Repo::Remote(e) if e.kind == RepoKind::Helm => {
                let cache = client.helm_cache(e)?;
                let deprecated: std::collections::BTreeSet<String> = cache
                    .charts
                    .iter()
                    .filter(|c| c.deprecated)
                    .map(|c| c.name.clone())
                    .collect();
                (cache.to_root(), deprecated)
            }
            _ => (client.root(repo)?, Default::default()),
        };
        for p in crate::index::search::search(&root.packages, term, None) {
            let versions = if with_versions {
                client.versions(repo, p)?.versions
            } else {
                Vec::new()
            };
            hits.push(SearchHit {
                repo: repo.name().to_string(),
                kind: match repo {
                    Repo::Remote(e) => e.kind,
                    Repo::Builtin => RepoKind::Cocktail,
                },
                name: p.name.clone(),
                latest: p.latest.to_string(),
                app_version: p.app_version.clone(),
                description: p.description.clone(),
                category: p.category.clone(),
                deprecated: deprecated.contains(&p.name),
                versions,
            });
        }
    }
    Ok(hits)
}

#[derive(Debug, Clone)]
pub struct PullOptions {
    pub repo: String,
    pub name: String,
    pub req: Option<Requirement>,
    pub dest: PathBuf,
    /// Verify the chart's provenance file (`URL.prov`) against this keyring (`--verify`) and
    /// write it beside the archive.
    pub verify: Option<crate::repo::provenance::Keyring>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullOutcome {
    pub name: String,
    pub version: String,
    pub path: PathBuf,
    pub digest: Digest,
    pub size: u64,
    /// With `--verify`: who signed it, and where its provenance file was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<super::provenance::SignedBy>,
}

pub fn pull(
    client: &mut RepoClient,
    opts: &PullOptions,
    progress: Progress<'_>,
) -> Result<PullOutcome, OpError> {
    let (fetched, prov) = match &opts.verify {
        None => (
            fetch(client, &opts.repo, &opts.name, opts.req.as_ref(), progress)?,
            None,
        ),
        Some(keyring) => {
            let (f, prov, verified) = crate::repo::reference::fetch_verified(
                client,
                &opts.repo,
                &opts.name,
                opts.req.as_ref(),
                keyring,
                progress,
            )?;
            (f, Some((prov, verified)))
        }
    };
    let path = opts
        .dest
        .join(format!("{}-{}.tgz", opts.name, fetched.entry.version));
    let signed_by = match prov {
        None => None,
        Some((prov, verified)) => Some(super::provenance::write(&path, &prov, verified)?),
    };
    write_atomic(&path, &fetched.bytes).map_err(|source| OpError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(PullOutcome {
        name: opts.name.clone(),
        version: fetched.entry.version.to_string(),
        path,
        digest: fetched.entry.digest.clone(),
        size: fetched.bytes.len() as u64,
        signed_by,
    })
}

#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// A package directory or archive.
    pub package: PathBuf,
    /// A repository name or a server URL.
    pub to: String,
    pub token: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishOutcome {
    pub name: String,
    pub version: String,
    pub url: String,
    pub digest: Digest,
}

/// Uploads an archive to a server's publish API (`POST /api/v1/packages`).
pub fn publish(opts: &PublishOptions) -> Result<PublishOutcome, OpError> {
    let (bytes, name, version) = if opts.package.is_dir() {
        let pkg = crate::source::load(&opts.package, None)?.package;
        let bytes = super::package::archive_bytes(&pkg)?;
        (
            bytes,
            pkg.manifest.name.to_string(),
            pkg.manifest.version.to_string(),
        )
    } else {
        let bytes = std::fs::read(&opts.package).map_err(|source| OpError::Read {
            what: "archive",
            path: opts.package.clone(),
            source,
        })?;
        let pkg = crate::package::Package::from_files(crate::archive::read(&bytes, None)?.files)?;
        (
            bytes,
            pkg.manifest.name.to_string(),
            pkg.manifest.version.to_string(),
        )
    };
    let base = if opts.to.starts_with("http://") || opts.to.starts_with("https://") {
        normalize_url(&opts.to)?
    } else {
        let file = RepoFile::load(&RepoFile::path()).map_err(config_err)?;
        file.get(&opts.to)
            .map(|r| r.url.clone())
            .ok_or_else(|| OpError::from(crate::repo::RepoError::UnknownRepo(opts.to.clone())))?
    };
    let url = format!("{base}api/v1/packages");
    let client = crate::repo::http::client().map_err(crate::repo::RepoError::from)?;
    let resp = client
        .post(&url)
        .bearer_auth(&opts.token)
        .header("Content-Type", "application/gzip")
        .body(bytes.clone())
        .send()
        .map_err(|e| {
            OpError::Invalid(format!(
                "failed to publish to {url}: {}",
                crate::error_chain(&e)
            ))
        })?;
    let status = resp.status();
    if !status.is_success() {
        let body: serde_json::Value = resp.json().unwrap_or_default();
        let msg = body["error"].as_str().unwrap_or("no details").to_string();
        let hint = match status.as_u16() {
            403 if msg.contains("disabled") => Some(
                "this server was started without a publish token: start it with `cocktail-pkg serve --token-file FILE` (or COCKTAIL_PKG_PUBLISH_TOKEN set), then publish with the same token".into(),
            ),
            401 | 403 => Some(
                "pass the server's publish token with --token-file FILE or COCKTAIL_PKG_PUBLISH_TOKEN".into(),
            ),
            _ => None,
        };
        return Err(OpError::Refused {
            message: format!("the server refused the package ({status}): {msg}"),
            hint,
        });
    }
    Ok(PublishOutcome {
        name,
        version,
        url: base,
        digest: Digest::of(&bytes),
    })
}

#[derive(Debug, Clone)]
pub struct YankOptions {
    pub name: String,
    pub version: semver::Version,
    /// A repository name (from `repo add`) or a server URL.
    pub to: String,
    pub token: String,
    /// False to take a yank back.
    pub yanked: bool,
}

/// Yanks (or un-yanks) a published version on a server started with `serve`: it stays
/// downloadable for those who pinned it, but no requirement or automatic upgrade picks it.
pub fn yank(opts: &YankOptions) -> Result<String, OpError> {
    let base = if opts.to.starts_with("http://") || opts.to.starts_with("https://") {
        normalize_url(&opts.to)?
    } else {
        let file = RepoFile::load(&RepoFile::path()).map_err(config_err)?;
        file.get(&opts.to)
            .map(|r| r.url.clone())
            .ok_or_else(|| OpError::from(crate::repo::RepoError::UnknownRepo(opts.to.clone())))?
    };
    let url = format!("{base}api/v1/packages/{}/{}/yank", opts.name, opts.version);
    let client = crate::repo::http::client().map_err(crate::repo::RepoError::from)?;
    let resp = client
        .post(&url)
        .bearer_auth(&opts.token)
        .header("Content-Type", "application/json")
        .body(serde_json::json!({ "yanked": opts.yanked }).to_string())
        .send()
        .map_err(|e| {
            OpError::Invalid(format!("failed to reach {url}: {}", crate::error_chain(&e)))
        })?;
    let status = resp.status();
    if !status.is_success() {
        let body: serde_json::Value = resp.json().unwrap_or_default();
        let msg = body["error"].as_str().unwrap_or("no details").to_string();
        return Err(OpError::Invalid(format!(
            "the server refused ({status}): {msg}"
        )));
    }
    Ok(base)
}
