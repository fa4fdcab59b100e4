//! `repositories.yaml`: the repositories the user added: our signed indexes (each with its pinned
//! public key) and Helm repositories (`index.yaml`), with their credentials and TLS settings. The
//! file is written `0600`: it may hold passwords and tokens.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::write_atomic_private;
use crate::yaml;

/// The name of the built-in catalog repository (always available, embedded in the binary).
pub const BUILTIN: &str = "catalog";

/// What a repository serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoKind {
    /// Our signed index (`index.json`, `index.json.sig`, versions files).
    #[default]
    Cocktail,
    /// A Helm chart repository (`index.yaml`).
    Helm,
}

impl RepoKind {
    pub fn is_cocktail(&self) -> bool {
        *self == RepoKind::Cocktail
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            RepoKind::Cocktail => "cocktail",
            RepoKind::Helm => "helm",
        }
    }
}

/// Credentials sent with every request to the repository's own host.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum RepoAuth {
    /// HTTP basic authentication.
    Basic { username: String, password: String },
    /// `Authorization: Bearer TOKEN`.
    Bearer { token: String },
}

impl std::fmt::Debug for RepoAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, not even in debug output.
        match self {
            RepoAuth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            RepoAuth::Bearer { .. } => write!(f, "Bearer(***)"),
        }
    }
}

impl RepoAuth {
    /// The `Authorization` header value.
    pub fn header(&self) -> String {
        use base64::Engine;
        match self {
            RepoAuth::Basic { username, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            ),
            RepoAuth::Bearer { token } => format!("Bearer {token}"),
        }
    }

    /// `basic` or `bearer`, for listings.
    pub fn kind(&self) -> &'static str {
        match self {
            RepoAuth::Basic { .. } => "basic",
            RepoAuth::Bearer { .. } => "bearer",
        }
    }
}

/// One added repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoEntry {
    pub name: String,
    /// The index root URL, ending with `/`.
    pub url: String,
    /// The pinned key (`cocktail-pkg-ed25519:…`) the root signature must verify with; empty
    /// for a Helm repository.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub public_key: String,
    /// What the URL serves (absent: our index, as before Helm repositories existed).
    #[serde(default, skip_serializing_if = "RepoKind::is_cocktail")]
    pub kind: RepoKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<RepoAuth>,
    /// A PEM file of CA certificates trusted for this repository, besides the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// TLS certificates are not checked at all (a loud warning on every use).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_tls_verify: bool,
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
        write_atomic_private(path, text.as_bytes()).map_err(|source| ConfigError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn get(&self, name: &str) -> Option<&RepoEntry> {
        self.repositories.iter().find(|r| r.name == name)
    }
}
