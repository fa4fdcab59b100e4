//! Where a package comes from: a directory or a `.tgz` archive on disk. IO.
//!
//! Directories are read whole into memory (hidden files skipped, symbolic links refused, sizes
//! capped like archives), so the rest of the pipeline works on the same in-memory file map
//! whatever the source.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::archive::{self, ArchiveError, MAX_ENTRIES, MAX_FILE_BYTES, MAX_UNPACKED_BYTES};
use crate::model::Digest;
use crate::package::{Package, PackageError};

/// A package that could not be loaded from disk.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("failed to read package from {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} does not exist", .0.display())]
    NotFound(PathBuf),
    #[error("{} is neither a package directory nor a .tgz archive", .0.display())]
    NotAPackage(PathBuf),
    #[error("Chart.yaml file is missing: the .helmignore of {} leaves it out", .0.display())]
    ChartYamlIgnored(PathBuf),
    #[error("refusing symbolic link {} in package directory", .0.display())]
    Symlink(PathBuf),
    #[error("package directory {} is too large (over {MAX_ENTRIES} files or {MAX_UNPACKED_BYTES} bytes)", .0.display())]
    TooLarge(PathBuf),
    #[error("failed to unpack {}", .path.display())]
    Archive {
        path: PathBuf,
        #[source]
        source: ArchiveError,
    },
    #[error("invalid package at {}", .path.display())]
    Package {
        path: PathBuf,
        #[source]
        source: PackageError,
    },
}

impl SourceError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SourceError::NotFound(_) | SourceError::NotAPackage(_) => Some(
                "PKG is a package directory (with package.yaml) or a NAME-VERSION.tgz archive; the built-in catalog is under catalog/".into(),
            ),
            SourceError::ChartYamlIgnored(_) => Some(
                "a .helmignore rule matches Chart.yaml (a lone `!pattern` ignores everything else, as in Helm): fix the rules"
                    .into(),
            ),
            SourceError::Symlink(_) => {
                Some("copy the file into the package instead of linking it".into())
            }
            _ => None,
        }
    }
}

/// Where a loaded package came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Directory(PathBuf),
    Archive { path: PathBuf, digest: Digest },
}

/// A package read from disk.
#[derive(Debug)]
pub struct Loaded {
    pub package: Package,
    pub origin: Origin,
}

/// Loads a package from a directory or an archive. With `expected`, an archive's digest must match.
pub fn load(path: &Path, expected: Option<&Digest>) -> Result<Loaded, SourceError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            SourceError::NotFound(path.to_path_buf())
        } else {
            SourceError::Io {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })?;
    let (files, origin) = if meta.is_dir() && is_chart_dir(path) {
        (read_chart_dir(path)?, Origin::Directory(path.to_path_buf()))
    } else if meta.is_dir() {
        (read_dir_files(path)?, Origin::Directory(path.to_path_buf()))
    } else if meta.is_file() {
        let bytes = std::fs::read(path).map_err(|source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let digest = Digest::of(&bytes);
        let unpacked = archive::read(&bytes, expected).map_err(|source| SourceError::Archive {
            path: path.to_path_buf(),
            source,
        })?;
        (
            unpacked.files,
            Origin::Archive {
                path: path.to_path_buf(),
                digest,
            },
        )
    } else {
        return Err(SourceError::NotAPackage(path.to_path_buf()));
    };
    if !files.contains_key("package.yaml")
        && !files.contains_key("Chart.yaml")
        && matches!(origin, Origin::Directory(_))
    {
        if is_chart_dir(path) {
            // Chart.yaml is there but the chart's own .helmignore leaves it out (helm: "Chart.yaml
            // file is missing").
            return Err(SourceError::ChartYamlIgnored(path.to_path_buf()));
        }
        return Err(SourceError::NotAPackage(path.to_path_buf()));
    }
    let package = Package::from_files(files).map_err(|source| SourceError::Package {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Loaded { package, origin })
}

/// A Helm chart folder: `Chart.yaml` at the top and no `package.yaml`.
fn is_chart_dir(path: &Path) -> bool {
    path.join("Chart.yaml").is_file() && !path.join("package.yaml").exists()
}

/// Reads a chart folder as Helm's loader does: hidden files included, `.helmignore` rules (and
/// Helm's default `templates/.?*`) applied, ignored folders not entered.
pub fn read_chart_dir(root: &Path) -> Result<BTreeMap<String, Vec<u8>>, SourceError> {
    let rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(text) => crate::chart::glob::IgnoreRules::parse(&text).map_err(|e| SourceError::Io {
            path: root.join(".helmignore"),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?,
        Err(_) => crate::chart::glob::IgnoreRules::defaults(),
    };
    read_tree(root, &|rel, is_dir| rules.ignore(rel, is_dir))
}

/// Reads every non-hidden regular file below `root`, keyed by `/`-separated relative path.
pub fn read_dir_files(root: &Path) -> Result<BTreeMap<String, Vec<u8>>, SourceError> {
    read_tree(root, &|rel, _| {
        rel.rsplit('/').next().is_some_and(|n| n.starts_with('.'))
    })
}

fn read_tree(
    root: &Path,
    skip: &dyn Fn(&str, bool) -> bool,
) -> Result<BTreeMap<String, Vec<u8>>, SourceError> {
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let io = |source| SourceError::Io {
            path: dir.clone(),
            source,
        };
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(io)?
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let ft = entry.file_type().map_err(|source| SourceError::Io {
                path: path.clone(),
                source,
            })?;
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if skip(&rel, ft.is_dir()) {
                continue;
            }
            if ft.is_symlink() {
                return Err(SourceError::Symlink(path));
            } else if ft.is_dir() {
                stack.push((path, rel));
            } else if ft.is_file() {
                use std::io::Read as _;
                let read_err = |source| SourceError::Io {
                    path: path.clone(),
                    source,
                };
                // Open, size, read: one `stat` per file (a chart is dozens of small files).
                let file = std::fs::File::open(&path).map_err(read_err)?;
                let len = file.metadata().map(|m| m.len()).unwrap_or(0);
                total += len;
                if files.len() >= MAX_ENTRIES || len > MAX_FILE_BYTES || total > MAX_UNPACKED_BYTES
                {
                    return Err(SourceError::TooLarge(root.to_path_buf()));
                }
                let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                // A file that grew since its size was read stops at the limit, not at memory.
                file.take(MAX_FILE_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(read_err)?;
                if bytes.len() as u64 > MAX_FILE_BYTES {
                    return Err(SourceError::TooLarge(root.to_path_buf()));
                }
                files.insert(rel, bytes);
            }
        }
    }
    Ok(files)
}
