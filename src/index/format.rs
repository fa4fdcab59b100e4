//! Index format v1: the root file and the per-package versions files, as JSON.
//!
//! Readers tolerate unknown fields (the format grows by adding fields); writers emit a stable
//! field order and sorted entries so a rebuild is byte-identical.

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::model::Digest;
pub use crate::package::Change;

pub const API_VERSION: &str = "cocktail-pkg/v1";
pub const ROOT_FILE: &str = "index.json";
pub const SIGNATURE_FILE: &str = "index.json.sig";
pub const PACKAGES_DIR: &str = "packages";
pub const ARCHIVES_DIR: &str = "archives";

/// The root file: what clients fetch first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootIndex {
    pub api_version: String,
    pub kind: String,
    /// Sorted by name.
    pub packages: Vec<PackageSummary>,
}

/// One package in the root file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageSummary {
    pub name: String,
    /// The newest version that is neither yanked nor a pre-release (else the newest).
    pub latest: Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// URL of the versions file, relative to the index root or absolute.
    pub versions_url: String,
    /// sha256 of the versions file's exact bytes.
    pub versions_digest: Digest,
    pub version_count: usize,
}

/// One package's versions file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionsFile {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// Newest first.
    pub versions: Vec<VersionEntry>,
}

/// One published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionEntry {
    pub version: Version,
    /// Archive URL, relative to the index root or absolute.
    pub url: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    /// When the version was published (RFC 3339, UTC).
    pub created: String,
    #[serde(default)]
    pub yanked: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changelog: Vec<Change>,
}

/// A file of the index that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{what} is not a valid index file: {message}")]
    Invalid { what: String, message: String },
    #[error("{what} has apiVersion `{found}`; this cocktail-pkg reads `{API_VERSION}`")]
    ApiVersion { what: String, found: String },
}

impl FormatError {
    pub fn hint(&self) -> Option<String> {
        match self {
            FormatError::ApiVersion { .. } => {
                Some("upgrade cocktail-pkg, or ask the index host which versions it serves".into())
            }
            FormatError::Invalid { .. } => Some(
                "the index is damaged or not a cocktail-pkg index; check the repository URL".into(),
            ),
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(what: &str, bytes: &[u8]) -> Result<T, FormatError> {
    serde_json::from_slice(bytes).map_err(|e| FormatError::Invalid {
        what: what.to_string(),
        message: e.to_string(),
    })
}

fn check_api(what: &str, api: &str) -> Result<(), FormatError> {
    if api == API_VERSION {
        Ok(())
    } else {
        Err(FormatError::ApiVersion {
            what: what.to_string(),
            found: api.to_string(),
        })
    }
}

impl RootIndex {
    pub fn new(packages: Vec<PackageSummary>) -> Self {
        Self {
            api_version: API_VERSION.into(),
            kind: "Index".into(),
            packages,
        }
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        let root: Self = parse(ROOT_FILE, bytes)?;
        check_api(ROOT_FILE, &root.api_version)?;
        Ok(root)
    }

    /// Canonical bytes: pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(self)
    }

    pub fn package(&self, name: &str) -> Option<&PackageSummary> {
        self.packages
            .binary_search_by(|p| p.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.packages[i])
    }
}

impl VersionsFile {
    pub fn new(name: &str, versions: Vec<VersionEntry>) -> Self {
        Self {
            api_version: API_VERSION.into(),
            kind: "PackageVersions".into(),
            name: name.to_string(),
            versions,
        }
    }

    pub fn parse(what: &str, bytes: &[u8]) -> Result<Self, FormatError> {
        let file: Self = parse(what, bytes)?;
        check_api(what, &file.api_version)?;
        Ok(file)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(self)
    }

    /// The summary the root lists for this package.
    pub fn summary(
        &self,
        versions_url: String,
        versions_digest: Digest,
        newest: Option<&crate::package::Manifest>,
    ) -> Option<PackageSummary> {
        let latest = latest(&self.versions)?;
        Some(PackageSummary {
            name: self.name.clone(),
            latest: latest.version.clone(),
            app_version: latest.app_version.clone(),
            description: newest
                .and_then(|m| m.description.clone())
                .unwrap_or_default(),
            category: newest.and_then(|m| m.category.clone()),
            keywords: newest.map(|m| m.keywords.clone()).unwrap_or_default(),
            icon: newest.and_then(|m| m.icon.clone()),
            versions_url,
            versions_digest,
            version_count: self.versions.len(),
        })
    }
}

/// The version the root calls latest: newest stable and not yanked, else newest not yanked,
/// else newest.
pub fn latest(versions: &[VersionEntry]) -> Option<&VersionEntry> {
    let newest = |f: &dyn Fn(&&VersionEntry) -> bool| {
        versions
            .iter()
            .filter(f)
            .max_by(|a, b| a.version.cmp(&b.version))
    };
    newest(&|v| !v.yanked && v.version.pre.is_empty())
        .or_else(|| newest(&|v| !v.yanked))
        .or_else(|| newest(&|_| true))
}

fn to_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    // Serializing plain data structures to JSON cannot fail.
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Resolves `url` (absolute, or relative to the index root `base`, which ends with `/`).
pub fn resolve_url(base: &str, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        format!("{base}{}", url.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: &str, yanked: bool) -> VersionEntry {
        VersionEntry {
            version: Version::parse(v).unwrap(),
            url: format!("archives/x-{v}.tgz"),
            digest: Digest::of(v.as_bytes()),
            size: 1,
            app_version: None,
            kube_version: None,
            created: "2026-01-01T00:00:00Z".into(),
            yanked,
            changelog: vec![],
        }
    }

    #[test]
    fn latest_prefers_stable_unyanked() {
        let vs = vec![
            entry("2.0.0-rc.1", false),
            entry("1.2.0", true),
            entry("1.1.0", false),
        ];
        assert_eq!(latest(&vs).unwrap().version.to_string(), "1.1.0");
        let vs = vec![entry("2.0.0-rc.1", false), entry("1.2.0", true)];
        assert_eq!(latest(&vs).unwrap().version.to_string(), "2.0.0-rc.1");
        assert!(latest(&[]).is_none());
    }

    #[test]
    fn unknown_fields_are_tolerated_and_api_version_checked() {
        let v = VersionsFile::new("x", vec![entry("1.0.0", false)]);
        let mut json: serde_json::Value = serde_json::from_slice(&v.to_bytes()).unwrap();
        json["future"] = serde_json::json!(true);
        json["versions"][0]["signatures"] = serde_json::json!([]);
        let back = VersionsFile::parse("x.json", &serde_json::to_vec(&json).unwrap()).unwrap();
        assert_eq!(back, v);
        json["apiVersion"] = "cocktail-pkg/v9".into();
        assert!(matches!(
            VersionsFile::parse("x.json", &serde_json::to_vec(&json).unwrap()),
            Err(FormatError::ApiVersion { .. })
        ));
    }

    #[test]
    fn urls_resolve_against_the_root() {
        assert_eq!(
            resolve_url("http://h/i/", "packages/a.json"),
            "http://h/i/packages/a.json"
        );
        assert_eq!(
            resolve_url("http://h/i/", "https://cdn/a.tgz"),
            "https://cdn/a.tgz"
        );
    }
}
