//! `repositories.yaml`: the repositories the user added, each with its pinned public key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::write_atomic;
use crate::yaml;

/// The name of the built-in catalog repository (always available, embedded in the binary).
pub const BUILTIN: &str = "catalog";

/// One added repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoEntry {
    pub name: String,
    /// The index root URL, ending with `/`.
    pub url: String,
    /// The pinned key (`cocktail-pkg-ed25519:…`) the root signature must verify with.
    pub public_key: String,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoFile {
    pub api_version: String,
    #[serde(default)]
    pub repositories: Vec<RepoEntry>,
}

impl Default for RepoFile {
    fn default() -> Self {
        Self {
            api_version: crate::package::API_VERSION.into(),
            repositories: Vec::new(),
        }
    }
}

/// The configuration file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid repositories file", .path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: yaml::YamlError,
    },
    #[error("failed to write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RepoFile {
    pub fn path() -> PathBuf {
        crate::dirs::config_home().join("repositories.yaml")
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(yaml::from_str_opt(&path.display().to_string(), &text)
                .map_err(|source| ConfigError::Parse {
                    path: path.to_path_buf(),
                    source,
                })?
                .unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = yaml::to_string(self).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        write_atomic(path, text.as_bytes()).map_err(|source| ConfigError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn get(&self, name: &str) -> Option<&RepoEntry> {
        self.repositories.iter().find(|r| r.name == name)
    }
}
