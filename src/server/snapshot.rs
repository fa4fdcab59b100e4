//! What the server serves, held in memory: the signed root, the versions files, the archive
//! table, with ETags and gzip bodies computed once per publish. Loading does IO; searching is
//! pure.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::index::format::{
    ARCHIVES_DIR, PACKAGES_DIR, PackageSummary, ROOT_FILE, RootIndex, VersionsFile,
};
use crate::index::sign::SecretKey;
use crate::model::Digest;

/// A file served from memory: its bytes, a gzip copy, and its strong ETag.
#[derive(Debug, Clone)]
pub struct Served {
    /// Shared, so a response does not copy the file.
    pub bytes: axum::body::Bytes,
    pub gzip: axum::body::Bytes,
    pub etag: String,
}

impl Served {
    pub fn new(bytes: Vec<u8>) -> Self {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        // Writing into a Vec cannot fail.
        let _ = gz.write_all(&bytes);
        let gzip = gz.finish().unwrap_or_default();
        let etag = format!("\"{}\"", Digest::of(&bytes).hex());
        Self {
            bytes: bytes.into(),
            gzip: gzip.into(),
            etag,
        }
    }
}

/// An archive the index lists: where it is on disk and what it must hash to.
#[derive(Debug, Clone)]
pub struct ArchiveFile {
    pub path: PathBuf,
    pub digest: Digest,
    pub size: u64,
    pub package: String,
}

/// Everything the read routes need, swapped whole on publish.
#[derive(Debug)]
pub struct Snapshot {
    pub root: RootIndex,
    pub root_file: Served,
    pub signature: Served,
    pub public_key: Served,
    pub versions: BTreeMap<String, (VersionsFile, Served)>,
    /// By file name (`redis-1.0.0.tgz`).
    pub archives: HashMap<String, ArchiveFile>,
}

/// An index folder that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("failed to read {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid index: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl Snapshot {
    /// Loads an index folder and signs its root with `key` (in memory: the folder is not touched).
    pub fn load(dir: &Path, key: &SecretKey) -> Result<Self, LoadError> {
        let root_bytes = read(&dir.join(ROOT_FILE))?;
        Self::from_root(dir, root_bytes, key)
    }

    /// Builds a snapshot from root bytes already read from `dir`: each versions file is read and
    /// must match the digest the root pins.
    pub fn from_root(dir: &Path, root_bytes: Vec<u8>, key: &SecretKey) -> Result<Self, LoadError> {
        let invalid = |path: &Path, e: &dyn std::fmt::Display| LoadError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let root = RootIndex::parse(&root_bytes).map_err(|e| invalid(&dir.join(ROOT_FILE), &e))?;
        let mut versions = BTreeMap::new();
        let mut archives = HashMap::new();
        for p in &root.packages {
            let path = dir.join(PACKAGES_DIR).join(format!("{}.json", p.name));
            let bytes = read(&path)?;
            if Digest::of(&bytes) != p.versions_digest {
                return Err(invalid(&path, &"its digest does not match the root"));
            }
            let file = VersionsFile::parse(&p.name, &bytes).map_err(|e| invalid(&path, &e))?;
            for v in &file.versions {
                let Some(name) = v.url.strip_prefix(&format!("{ARCHIVES_DIR}/")) else {
                    continue; // hosted elsewhere
                };
                archives.insert(
                    name.to_string(),
                    ArchiveFile {
                        path: dir.join(ARCHIVES_DIR).join(name),
                        digest: v.digest.clone(),
                        size: v.size,
                        package: p.name.clone(),
                    },
                );
            }
            versions.insert(p.name.clone(), (file, Served::new(bytes)));
        }
        let signature = Served::new(key.sign(&root_bytes).to_bytes());
        Ok(Self {
            root,
            root_file: Served::new(root_bytes),
            signature,
            public_key: Served::new(key.public().to_text().into_bytes()),
            versions,
            archives,
        })
    }

    /// Checks the archives this snapshot lists that `previous` did not (or listed with another
    /// digest): each must be on disk with its published digest. A rebuilt index is served only
    /// when every new archive is there and intact.
    pub fn verify_new_archives(&self, previous: &Snapshot) -> Result<(), LoadError> {
        let mut new: Vec<(&String, &ArchiveFile)> = self
            .archives
            .iter()
            .filter(|(name, a)| previous.archives.get(*name).map(|p| &p.digest) != Some(&a.digest))
            .collect();
        new.sort_by(|a, b| a.0.cmp(b.0));
        for (_, a) in new {
            let bytes = read(&a.path)?;
            if Digest::of(&bytes) != a.digest {
                return Err(LoadError::Invalid {
                    path: a.path.clone(),
                    message: format!("its digest does not match the index ({})", a.digest),
                });
            }
        }
        Ok(())
    }

    /// Packages matching a search (see [`crate::index::search::search`]).
    pub fn search(&self, q: &str, category: Option<&str>) -> Vec<&PackageSummary> {
        crate::index::search::search(&self.root.packages, q, category)
    }
}
