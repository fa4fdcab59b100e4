//! `package`: write a reproducible `NAME-VERSION.tgz` from a package directory.

use std::path::PathBuf;

use super::OpError;
use crate::archive;
use crate::fsutil::write_atomic;
use crate::model::Digest;
use crate::package::Package;
use crate::source;

#[derive(Debug, Clone)]
pub struct PackageOptions {
    pub dir: PathBuf,
    pub out_dir: PathBuf,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PackageOutcome {
    pub name: String,
    pub version: String,
    pub path: PathBuf,
    pub digest: Digest,
    pub size: u64,
}

/// Builds the archive bytes of a package: files under `NAME/`, reproducibly.
pub fn archive_bytes(pkg: &Package) -> Result<Vec<u8>, OpError> {
    Ok(archive::write(pkg.manifest.name.as_str(), &pkg.files)?)
}

pub fn package(opts: &PackageOptions) -> Result<PackageOutcome, OpError> {
    if !opts.dir.exists() {
        return Err(crate::source::SourceError::NotFound(opts.dir.clone()).into());
    }
    if !opts.dir.is_dir() {
        return Err(OpError::Invalid(format!(
            "{} is not a package directory (`package` builds an archive from a directory)",
            opts.dir.display()
        )));
    }
    let loaded = source::load(&opts.dir, None)?;
    let pkg = loaded.package;
    let bytes = archive_bytes(&pkg)?;
    let path = opts
        .out_dir
        .join(format!("{}.tgz", pkg.manifest.archive_stem()));
    write_atomic(&path, &bytes).map_err(|source| OpError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(PackageOutcome {
        name: pkg.manifest.name.to_string(),
        version: pkg.manifest.version.to_string(),
        path,
        digest: Digest::of(&bytes),
        size: bytes.len() as u64,
    })
}
