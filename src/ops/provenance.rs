//! `--verify`: a chart's provenance file checked against the user's keyring before the chart is
//! cached or used (as `helm pull|install|upgrade|template --verify` do). The checks themselves
//! are in [`crate::repo::provenance`]; this module reads the keyring, picks where the `.prov`
//! comes from (`URL.prov` in a Helm repository, the provenance layer in an OCI registry, the
//! `.tgz.prov` beside a local archive) and writes it beside a pulled archive.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::OpError;
use crate::fsutil::write_atomic;
use crate::model::Digest;
use crate::repo::RepoClient;
use crate::repo::oci::OciClient;
use crate::repo::oci::reference::{OciRef, Selector};
use crate::repo::provenance::{self, Keyring, ProvenanceError, Verified};
use crate::repo::reference::{PackageRef, fetch_verified};

/// Who signed a verified chart.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedBy {
    /// The signing key's user id (`Name <email>`).
    pub signer: String,
    /// The fingerprint of the key that made the signature.
    pub fingerprint: String,
    /// The archive's sha256, as signed.
    pub digest: Digest,
    /// Where the provenance file was written (`pull`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<PathBuf>,
}

impl SignedBy {
    fn of(v: Verified) -> Self {
        SignedBy {
            signer: v.signer,
            fingerprint: v.fingerprint,
            digest: v.digest,
            provenance: None,
        }
    }
}

/// Helm's default keyring: `~/.gnupg/pubring.gpg`.
pub fn default_keyring() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".gnupg")
        .join("pubring.gpg")
}

/// Reads and parses a keyring file.
pub fn read_keyring(path: &Path) -> Result<Keyring, OpError> {
    let shown = path.display().to_string();
    let err = |reason: String| {
        OpError::Repo(
            ProvenanceError::Keyring {
                path: shown.clone(),
                reason,
            }
            .into(),
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.len() > provenance::MAX_KEYRING_BYTES {
        return Err(err(format!(
            "it is larger than {} bytes",
            provenance::MAX_KEYRING_BYTES
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    Keyring::parse(&shown, &bytes).map_err(|e| OpError::Repo(e.into()))
}

/// Writes a verified provenance file beside the archive at `archive` (`NAME-VERSION.tgz.prov`).
pub fn write(archive: &Path, prov: &[u8], verified: Verified) -> Result<SignedBy, OpError> {
    let mut name = archive.as_os_str().to_os_string();
    name.push(provenance::SUFFIX);
    let path = PathBuf::from(name);
    write_atomic(&path, prov).map_err(|source| OpError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(SignedBy {
        provenance: Some(path),
        ..SignedBy::of(verified)
    })
}

/// A package reference whose provenance checked out.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The reference to load now, pinned to what was verified: `REPO/NAME@VERSION` (the archive
    /// is in the content-addressed cache), `oci://…@sha256:MANIFEST`, or the local archive.
    pub reference: PathBuf,
    /// The verified archive's digest (to check again when the package is loaded).
    pub digest: Digest,
    pub signed_by: SignedBy,
}

/// Verifies the provenance of the chart `reference` names (`REPO/NAME[@REQ]`, `oci://…`, or a
/// local `.tgz` with its `.tgz.prov` beside it) before anything is cached; a folder has no
/// provenance and is refused.
pub fn verify_reference(reference: &Path, keyring: &Keyring) -> Result<Checked, OpError> {
    match PackageRef::parse(&reference.to_string_lossy()) {
        PackageRef::Path(p) => {
            if p.is_dir() {
                return Err(OpError::Invalid(format!(
                    "--verify needs a chart archive (NAME-VERSION.tgz with its .prov beside it) or a chart reference; {} is a folder",
                    p.display()
                )));
            }
            let bytes = std::fs::read(&p).map_err(|source| OpError::Read {
                what: "archive",
                path: p.clone(),
                source,
            })?;
            let mut prov_path = p.as_os_str().to_os_string();
            prov_path.push(provenance::SUFFIX);
            let prov_path = PathBuf::from(prov_path);
            let subject = p.display().to_string();
            let prov = match std::fs::read(&prov_path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(OpError::Repo(
                        ProvenanceError::Missing {
                            subject,
                            location: format!("no {}", prov_path.display()),
                        }
                        .into(),
                    ));
                }
                Err(source) => {
                    return Err(OpError::Read {
                        what: "provenance file",
                        path: prov_path,
                        source,
                    });
                }
            };
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let verified = provenance::verify(&subject, &prov, keyring, &file, &bytes)
                .map_err(crate::repo::RepoError::from)?;
            Ok(Checked {
                reference: p,
                digest: verified.digest.clone(),
                signed_by: SignedBy::of(verified),
            })
        }
        PackageRef::Repo { repo, name, req } => {
            let mut client = RepoClient::from_env();
            let (fetched, _, verified) = fetch_verified(
                &mut client,
                &repo,
                &name,
                req.as_ref(),
                keyring,
                &mut |_, _| {},
            )?;
            Ok(Checked {
                reference: PathBuf::from(format!("{repo}/{name}@{}", fetched.entry.version)),
                digest: fetched.entry.digest,
                signed_by: SignedBy::of(verified),
            })
        }
        PackageRef::Oci { reference } => {
            // Verified here and loaded by the op through the pinned manifest digest (from the
            // cache this pull fills).
            let r = OciRef::parse(&reference)?;
            let mut client = OciClient::from_env(false);
            let (pulled, _, verified) = client.pull_verified(&r, keyring, &mut |_, _| {})?;
            let pinned = pulled
                .reference
                .with(Selector::Digest(pulled.manifest_digest.clone()));
            Ok(Checked {
                reference: PathBuf::from(pinned.to_string()),
                digest: pulled.layer.digest,
                signed_by: SignedBy::of(verified),
            })
        }
    }
}
