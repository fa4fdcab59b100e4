//! The catalog index: format v1 (`docs/reference/index-format.md`), signatures, version
//! selection. Pure, no IO: the builder in `ops::index` and the client in `repo` do the IO.
//!
//! Layout, relative to the index root URL:
//!
//! ```text
//! index.json              the root: one summary per package, each pinning its versions file
//! index.json.sig          ed25519 signature of index.json's exact bytes
//! packages/NAME.json      one versions file per package: every version with its archive digest
//! archives/NAME-VER.tgz   the archives
//! ```
//!
//! One signature on the root pins every versions file (by digest) and so every archive.

pub mod format;
pub mod search;
pub mod select;
pub mod sign;
pub mod update;

pub use format::{Change, PackageSummary, RootIndex, VersionEntry, VersionsFile};

use crate::model::Digest;

/// An index that cannot be built as asked.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "{package} {version} is already published with digest {published}, but the package now archives to {current}"
    )]
    DigestChanged {
        package: String,
        version: Box<semver::Version>,
        published: Box<Digest>,
        current: Box<Digest>,
    },
    #[error("versions file of `{package}` lists a different package, `{found}`")]
    WrongPackage { package: String, found: String },
    #[error(transparent)]
    Format(#[from] format::FormatError),
    #[error(transparent)]
    Sign(#[from] sign::SignError),
}

impl IndexError {
    pub fn hint(&self) -> Option<String> {
        match self {
            IndexError::DigestChanged { .. } => Some(
                "a published version never changes: bump `version` in package.yaml for the new content".into(),
            ),
            IndexError::Format(e) => e.hint(),
            IndexError::Sign(e) => e.hint(),
            IndexError::WrongPackage { .. } => None,
        }
    }
}

/// Adds `entry` to a package's versions (append-only): a version already published must keep
/// its digest; its publication time and yanked flag are kept. Versions come out newest first.
pub fn add_version(
    name: &str,
    existing: Option<VersionsFile>,
    entry: VersionEntry,
) -> Result<(VersionsFile, bool), IndexError> {
    let mut file = existing.unwrap_or_else(|| VersionsFile::new(name, Vec::new()));
    if file.name != name {
        return Err(IndexError::WrongPackage {
            package: name.to_string(),
            found: file.name,
        });
    }
    let added = match file.versions.iter().find(|v| v.version == entry.version) {
        Some(published) if published.digest != entry.digest => {
            return Err(IndexError::DigestChanged {
                package: name.to_string(),
                version: Box::new(entry.version),
                published: Box::new(published.digest.clone()),
                current: Box::new(entry.digest),
            });
        }
        Some(_) => false,
        None => {
            file.versions.push(entry);
            true
        }
    };
    file.versions.sort_by(|a, b| b.version.cmp(&a.version));
    Ok((file, added))
}
