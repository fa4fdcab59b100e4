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

    /// Packages matching a search: every word of `q` must appear in the name, description or
    /// keywords (case-insensitive); `category` must match exactly when given. Name matches first.
    pub fn search(&self, q: &str, category: Option<&str>) -> Vec<&PackageSummary> {
        search(&self.root.packages, q, category)
    }
}

/// See [`Snapshot::search`].
pub fn search<'a>(
    packages: &'a [PackageSummary],
    q: &str,
    category: Option<&str>,
) -> Vec<&'a PackageSummary> {
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    let mut hits: Vec<(u8, &PackageSummary)> = packages
        .iter()
        .filter(|p| category.is_none_or(|c| c.is_empty() || p.category.as_deref() == Some(c)))
        .filter_map(|p| {
            let name = p.name.to_lowercase();
            let hay = format!(
                "{name} {} {}",
                p.description.to_lowercase(),
                p.keywords.join(" ").to_lowercase()
            );
            if !words.iter().all(|w| hay.contains(w.as_str())) {
                return None;
            }
            let rank = if words.contains(&name) {
                0
            } else if words.iter().any(|w| name.contains(w.as_str())) {
                1
            } else {
                2
            };
            Some((rank, p))
        })
        .collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.name.cmp(&b.1.name)));
    hits.into_iter().map(|(_, p)| p).collect()
}
