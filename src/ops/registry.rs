//! OCI registries: fetching a chart or package by `oci://` reference (for every command that
//! loads one), `pull`, `publish` to `oci://…`, and `registry login|logout`.

use std::path::PathBuf;

use serde::Serialize;

use super::OpError;
use crate::fsutil::write_atomic;
use crate::model::Digest;
use crate::package::Package;
use crate::repo::client::Progress;
use crate::repo::oci::auth::{self, Credentials};
use crate::repo::oci::manifest::{self, ArtifactKind, Meta};
use crate::repo::oci::reference::{OciRef, Selector, tag_for};
use crate::repo::oci::{OciClient, OciError, Pulled};
use crate::repo::provenance::{Keyring, Verified};

/// A chart or package fetched from a registry, verified and loaded.
pub struct OciFetched {
    pub package: Package,
    pub pulled: Pulled,
}

fn not_a_package(r: &OciRef, reason: &str) -> OpError {
    OciError::NotAPackage {
        reference: r.to_string(),
        reason: reason.into(),
    }
    .into()
}

/// Fetches, verifies and loads `oci://…`.
pub fn fetch(
    reference: &str,
    plain_http: bool,
    progress: Progress<'_>,
) -> Result<OciFetched, OpError> {
    let r = OciRef::parse(reference)?;
    let mut client = OciClient::from_env(plain_http);
    let pulled = client.pull(&r, progress)?;
    load(pulled)
}

/// Like [`fetch`], with the chart's provenance layer verified against `keyring` before the
/// archive is cached or used: (fetched, provenance file, verdict).
pub fn fetch_verified(
    reference: &str,
    plain_http: bool,
    keyring: &Keyring,
    progress: Progress<'_>,
) -> Result<(OciFetched, Vec<u8>, Verified), OpError> {
    let r = OciRef::parse(reference)?;
    let mut client = OciClient::from_env(plain_http);
    let (pulled, prov, verified) = client.pull_verified(&r, keyring, progress)?;
    Ok((load(pulled)?, prov, verified))
}

/// Loads a pulled archive, refusing a chart layer without a chart and a package layer with one.
fn load(pulled: Pulled) -> Result<OciFetched, OpError> {
    let unpacked = crate::archive::read(&pulled.bytes, Some(&pulled.layer.digest))?;
    let package = Package::from_files(unpacked.files)?;
    match (pulled.kind, package.chart().is_some()) {
        (ArtifactKind::Chart, false) => {
            return Err(not_a_package(
                &pulled.reference,
                "a chart layer that holds no Chart.yaml",
            ));
        }
        (ArtifactKind::Package, true) => {
            return Err(not_a_package(
                &pulled.reference,
                "a package layer that holds a Helm chart",
            ));
        }
        _ => {}
    }
    Ok(OciFetched { package, pulled })
}

/// The name and version a chart or package is published under (a chart's as `Chart.yaml`
/// writes them).
fn name_and_version(pkg: &Package) -> (String, String) {
    match pkg.chart() {
        Some(c) => (c.metadata.name.clone(), c.metadata.version.clone()),
        None => (
            pkg.manifest.name.to_string(),
            pkg.manifest.version.to_string(),
        ),
    }
}

#[derive(Debug, Clone)]
pub struct PullOptions {
    /// `oci://…`.
    pub reference: String,
    pub dest: PathBuf,
    pub plain_http: bool,
    /// Verify the chart's provenance against this keyring (`--verify`) and write it beside
    /// the archive (`NAME-VERSION.tgz.prov`).
    pub verify: Option<Keyring>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullOutcome {
    pub name: String,
    pub version: String,
    pub kind: ArtifactKind,
    /// The reference resolved to a tag (or the digest it was pinned to).
    pub reference: String,
    pub manifest_digest: Digest,
    pub path: PathBuf,
    /// The archive's digest.
    pub digest: Digest,
    pub size: u64,
    /// With `--verify`: who signed it, and where its provenance file was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<super::provenance::SignedBy>,
}

/// Downloads a chart or package into `dest/NAME-VERSION.tgz`, verified (and its provenance
/// file beside it with `--verify`).
pub fn pull(opts: &PullOptions, progress: Progress<'_>) -> Result<PullOutcome, OpError> {
    let (fetched, prov) = match &opts.verify {
        None => (fetch(&opts.reference, opts.plain_http, progress)?, None),
        Some(keyring) => {
            let (f, prov, verified) =
                fetch_verified(&opts.reference, opts.plain_http, keyring, progress)?;
            (f, Some((prov, verified)))
        }
    };
    let (name, version) = name_and_version(&fetched.package);
    let path = opts.dest.join(format!("{name}-{version}.tgz"));
    let signed_by = match prov {
        None => None,
        Some((prov, verified)) => Some(super::provenance::write(&path, &prov, verified)?),
    };
    write_atomic(&path, &fetched.pulled.bytes).map_err(|source| OpError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(PullOutcome {
        name,
        version,
        kind: fetched.pulled.kind,
        reference: fetched.pulled.reference.to_string(),
        manifest_digest: fetched.pulled.manifest_digest,
        path,
        digest: fetched.pulled.layer.digest,
        size: fetched.pulled.bytes.len() as u64,
        signed_by,
    })
}

#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// A package or chart directory, or an archive.
    pub package: PathBuf,
    /// `oci://HOST[:PORT]/PATH`: the package goes to `PATH/NAME:VERSION`, as `helm push` does.
    pub to: String,
    pub plain_http: bool,
    /// Replace a tag that holds another archive.
    pub force: bool,
    /// The `org.opencontainers.image.created` time.
    pub now: crate::time::UnixTime,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishOutcome {
    pub name: String,
    pub version: String,
    pub kind: ArtifactKind,
    /// `oci://HOST/PATH/NAME:TAG`.
    pub reference: String,
    pub manifest_digest: Digest,
    /// The archive's digest.
    pub digest: Digest,
    /// The tag already held this archive: nothing was uploaded.
    pub unchanged: bool,
}

/// Pushes a chart or package to an OCI registry with Helm's media types and annotations (ours
/// for our packages), tagged with its version.
pub fn publish(opts: &PublishOptions) -> Result<PublishOutcome, OpError> {
    let to = OciRef::parse(&opts.to)?;
    if to.selector != Selector::Req(None) {
        return Err(OciError::InvalidReference {
            reference: opts.to.clone(),
            reason: "--to names a repository path; the tag is the package's version".into(),
        }
        .into());
    }
    let (bytes, pkg) = if opts.package.is_dir() {
        let pkg = crate::source::load(&opts.package, None)?.package;
        (super::package::archive_bytes(&pkg)?, pkg)
    } else {
        let bytes = std::fs::read(&opts.package).map_err(|source| OpError::Read {
            what: "archive",
            path: opts.package.clone(),
            source,
        })?;
        let pkg = Package::from_files(crate::archive::read(&bytes, None)?.files)?;
        (bytes, pkg)
    };
    let (name, version) = name_and_version(&pkg);
    let (kind, config, meta, tag) = match pkg.chart() {
        Some(c) => (
            ArtifactKind::Chart,
            manifest::helm_config(&c.metadata),
            Meta::of_chart(&c.metadata),
            version.replace('+', "_"),
        ),
        None => (
            ArtifactKind::Package,
            manifest::package_config(&pkg.manifest),
            Meta::of_package(&pkg.manifest),
            tag_for(&pkg.manifest.version),
        ),
    };
    let repository = OciRef::parse(&format!("{}/{name}", to.base()))?;
    let created = crate::time::format_rfc3339(opts.now);
    let mut client = OciClient::from_env(opts.plain_http);
    let pushed = client.push(&crate::repo::oci::client::Push {
        repository,
        tag,
        kind,
        config,
        layer: bytes,
        annotations: manifest::annotations(&meta, &created),
        force: opts.force,
    })?;
    Ok(PublishOutcome {
        name,
        version,
        kind,
        reference: pushed.reference.to_string(),
        manifest_digest: pushed.manifest_digest,
        digest: pushed.layer_digest,
        unchanged: pushed.unchanged,
    })
}

/// `HOST[:PORT]` from what the user typed (`oci://HOST`, `https://HOST/`, `HOST`).
pub fn registry_host(text: &str) -> Result<String, OpError> {
    let t = text.trim();
    let bare = t
        .strip_prefix("oci://")
        .or_else(|| t.strip_prefix("https://"))
        .or_else(|| t.strip_prefix("http://"))
        .unwrap_or(t)
        .trim_end_matches('/');
    // Validated by the reference parser, with a placeholder repository.
    OciRef::parse(&format!("oci://{bare}/x"))
        .map(|r| r.registry)
        .map_err(|_| {
            OpError::Invalid(format!(
                "`{text}` is not a registry host (like registry.example.com or 127.0.0.1:5000)"
            ))
        })
}

#[derive(Debug, Clone)]
pub struct LoginOptions {
    pub registry: String,
    pub username: String,
    pub password: String,
    pub plain_http: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginOutcome {
    pub registry: String,
    /// Where the credentials were stored.
    pub path: PathBuf,
}

/// Checks credentials against the registry (through its Basic or token challenge), then
/// stores them.
pub fn login(opts: &LoginOptions) -> Result<LoginOutcome, OpError> {
    let registry = registry_host(&opts.registry)?;
    if opts.username.is_empty() || opts.username.contains(':') {
        return Err(OpError::Invalid(
            "the user name must be non-empty and hold no `:`".into(),
        ));
    }
    let creds = Credentials {
        username: opts.username.clone(),
        password: opts.password.clone(),
    };
    OciClient::from_env(opts.plain_http).login(&registry, &creds)?;
    let path = auth::store(&registry, &creds)?;
    Ok(LoginOutcome { registry, path })
}

/// Removes the stored credentials of a registry.
pub fn logout(registry: &str) -> Result<LoginOutcome, OpError> {
    let registry = registry_host(registry)?;
    let path = auth::remove(&registry)?;
    Ok(LoginOutcome { registry, path })
}
