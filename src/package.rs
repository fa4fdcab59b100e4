//! The package format v1: `package.yaml`, `values.yaml`, `values.schema.json`, `templates/`,
//! `NOTES.txt`, `README.md` (see `docs/reference/package-format.md`).
//!
//! A [`Package`] is built from an in-memory file map (from a directory or an archive), so this
//! module does no IO. Invariants: the manifest's required fields are valid, the default values
//! are a map, the schema (when present) compiles, and every template path is under `templates/`.

use std::collections::BTreeMap;

use semver::{Version, VersionReq};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::PackageName;
use crate::values::{self, Schema, ValuesError};
use crate::yaml::{self, YamlError};

/// The `apiVersion` every package.yaml must declare.
pub const API_VERSION: &str = "cocktail-pkg/v1";
/// Keys `package.yaml` understands; others produce a warning.
pub const KNOWN_KEYS: &[&str] = &[
    "apiVersion",
    "name",
    "version",
    "appVersion",
    "description",
    "category",
    "keywords",
    "home",
    "icon",
    "sources",
    "maintainers",
    "kubeVersion",
    "annotations",
    "deprecated",
    "changelog",
];

/// A package that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("package has no package.yaml")]
    MissingManifest,
    #[error("failed to read package.yaml")]
    ManifestYaml(#[source] YamlError),
    #[error("package.yaml must be a map of fields")]
    ManifestNotAMap,
    #[error("package.yaml: field `{field}` {reason}")]
    Field { field: String, reason: String },
    #[error("failed to read values.yaml")]
    Values(#[source] ValuesError),
    #[error("values.schema.json is not valid JSON: {0}")]
    SchemaJson(String),
    #[error("invalid values.schema.json")]
    Schema(#[source] ValuesError),
    #[error("{path} is not valid UTF-8 text")]
    NotUtf8 { path: String },
    #[error("package has no templates (expected files under templates/)")]
    NoTemplates,
    #[error("invalid chart")]
    Chart(#[source] Box<crate::chart::ChartError>),
}

impl PackageError {
    pub fn hint(&self) -> Option<String> {
        match self {
            PackageError::MissingManifest => Some(
                "a package directory holds package.yaml, values.yaml and templates/; see docs/reference/package-format.md".into(),
            ),
            PackageError::Field { .. } | PackageError::ManifestNotAMap => Some(
                "see docs/reference/package-format.md for the fields of package.yaml".into(),
            ),
            PackageError::ManifestYaml(e) => e.hint(),
            PackageError::Values(e) | PackageError::Schema(e) => e.hint(),
            PackageError::Chart(e) => e.hint(),
            _ => None,
        }
    }
}

/// A maintainer entry of `package.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Maintainer {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A changelog entry of a package version (`changelog:` in package.yaml, copied to the index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub description: String,
    /// The change fixes a security problem (automatic upgrades prefer such versions).
    #[serde(default)]
    pub security: bool,
}

/// `package.yaml`, parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub api_version: String,
    pub name: PackageName,
    pub version: Version,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub maintainers: Vec<Maintainer>,
    /// The Kubernetes versions the package supports (`>=1.25`), as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// What changed in this version.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changelog: Vec<Change>,
}

impl Manifest {
    /// Parses `package.yaml` text. Returns the manifest and warnings (unknown keys).
    pub fn parse(text: &str) -> Result<(Self, Vec<String>), PackageError> {
        let raw: Option<Value> =
            yaml::from_str_opt("package.yaml", text).map_err(PackageError::ManifestYaml)?;
        let Some(Value::Object(map)) = raw else {
            return Err(PackageError::ManifestNotAMap);
        };
        let mut warnings = Vec::new();
        for key in map.keys() {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                warnings.push(format!(
                    "package.yaml: unknown field `{key}` is ignored{}",
                    suggest(key, KNOWN_KEYS)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default()
                ));
            }
        }
        let f = Fields(&map);
        let api_version = f.req_str("apiVersion")?;
        if api_version != API_VERSION {
            return Err(field(
                "apiVersion",
                format!("must be `{API_VERSION}`, found `{api_version}`"),
            ));
        }
        let name = PackageName::new(f.req_str("name")?)
            .map_err(|e| field("name", e.reason.to_string()))?;
        let version_text = f.req_str("version")?;
        let version = Version::parse(&version_text).map_err(|e| {
            field(
                "version",
                format!("`{version_text}` is not a semantic version (like 1.2.3): {e}"),
            )
        })?;
        let kube_version = f.opt_str("kubeVersion")?;
        if let Some(k) = &kube_version {
            parse_kube_constraint(k).map_err(|e| field("kubeVersion", e))?;
        }
        let maintainers = match map.get("maintainers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let fld = format!("maintainers[{i}]");
                    let Value::Object(m) = m else {
                        return Err(field(&fld, "must be a map with `name`".into()));
                    };
                    let mf = Fields(m);
                    Ok(Maintainer {
                        name: mf
                            .req_str("name")
                            .map_err(|_| field(&format!("{fld}.name"), "is required".into()))?,
                        email: mf.opt_str("email")?,
                        url: mf.opt_str("url")?,
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(field("maintainers", "must be a list".into())),
        };
        let annotations = match map.get("annotations") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(field(
                        &format!("annotations.{k}"),
                        "must be a string".into(),
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(field("annotations", "must be a map of strings".into())),
        };
        let deprecated = match map.get("deprecated") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(field("deprecated", "must be true or false".into())),
        };
        let changelog = match map.get("changelog") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let fld = format!("changelog[{i}]");
                    let Value::Object(c) = c else {
                        return Err(field(&fld, "must be a map with `description`".into()));
                    };
                    let cf = Fields(c);
                    let security = match c.get("security") {
                        None | Some(Value::Null) => false,
                        Some(Value::Bool(b)) => *b,
                        Some(_) => {
                            return Err(field(
                                &format!("{fld}.security"),
                                "must be true or false".into(),
                            ));
                        }
                    };
                    Ok(Change {
                        description: cf.req_str("description").map_err(|_| {
                            field(&format!("{fld}.description"), "is required".into())
                        })?,
                        security,
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(field("changelog", "must be a list".into())),
        };
        let manifest = Manifest {
            api_version,
            name,
            version,
            app_version: f.opt_scalar("appVersion")?,
            description: f.opt_str("description")?,
            category: f.opt_str("category")?,
            keywords: f.str_list("keywords")?,
            home: f.opt_str("home")?,
            icon: f.opt_str("icon")?,
            sources: f.str_list("sources")?,
            maintainers,
            kube_version,
            annotations,
            deprecated,
            changelog,
        };
        Ok((manifest, warnings))
    }

    /// `NAME-VERSION`, the archive's base name.
    pub fn archive_stem(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

fn field(name: &str, reason: String) -> PackageError {
    PackageError::Field {
        field: name.to_string(),
        reason,
    }
}

struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn req_str(&self, key: &str) -> Result<String, PackageError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Err(field(key, "is required".into())),
            Some(Value::String(s)) if s.trim().is_empty() => {
                Err(field(key, "must not be empty".into()))
            }
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(field(key, "must be a string".into())),
        }
    }
    fn opt_str(&self, key: &str) -> Result<Option<String>, PackageError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(field(key, "must be a string".into())),
        }
    }
    /// A string, also accepting an unquoted number (`appVersion: 7.2` is a common slip).
    fn opt_scalar(&self, key: &str) -> Result<Option<String>, PackageError> {
        match self.0.get(key) {
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            _ => self.opt_str(key),
        }
    }
    fn str_list(&self, key: &str) -> Result<Vec<String>, PackageError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(field(key, "must be a list of strings".into())),
                })
                .collect(),
            Some(_) => Err(field(key, "must be a list of strings".into())),
        }
    }
}

/// Parses a Kubernetes version constraint such as `>=1.25` or `>=1.25.0-0, <1.32`.
pub fn parse_kube_constraint(text: &str) -> Result<VersionReq, String> {
    VersionReq::parse(text.trim())
        .map_err(|e| format!("`{text}` is not a version constraint (like `>=1.25`): {e}"))
}

/// Parses a Kubernetes version as clusters report it: `v1.30.2`, `1.30`, `v1.29.3-eks-abc`.
pub fn parse_kube_version(text: &str) -> Result<Version, String> {
    let t = text.trim().trim_start_matches('v');
    let (core, pre) = match t.split_once(['-', '+']) {
        Some((c, _)) => (c, true),
        None => (t, false),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    let _ = pre; // vendor suffixes such as `-eks-abc` are not pre-releases
    Version::parse(&parts[..3].join("."))
        .map_err(|e| format!("`{text}` is not a Kubernetes version (like v1.30.2): {e}"))
}

/// The closest candidate within two edits, for "did you mean" hints.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_lowercase();
    if let Some(c) = candidates.iter().find(|c| {
        let c = c.to_lowercase();
        c.len() >= 4 && (lower.starts_with(&c) || c.starts_with(&lower))
    }) {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| (edit_distance(&word.to_lowercase(), &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// How a package turns values into objects. Everything after rendering is format-blind.
#[derive(Debug)]
pub enum Format {
    /// Ours: `package.yaml`, minijinja `templates/`, `NOTES.txt` (see [`crate::render::cocktail`]).
    Cocktail(Templates),
    /// A Helm chart: `Chart.yaml`, Go-template `templates/`, `charts/`, `crds/` (see
    /// [`crate::chart`] and [`crate::render::chart`]).
    Chart(Box<crate::chart::Chart>),
}

/// The templates of a package in our format.
#[derive(Debug, Default)]
pub struct Templates {
    /// Template sources by path (`templates/deployment.yaml`), sorted.
    pub templates: BTreeMap<String, String>,
    /// `NOTES.txt` template, when present.
    pub notes: Option<String>,
}

impl Templates {
    /// Templates that produce objects: `.yaml`/`.yml` files whose name does not start with `_`.
    pub fn rendered(&self) -> impl Iterator<Item = (&String, &String)> {
        self.templates
            .iter()
            .filter(|(p, _)| is_rendered_template(p))
    }
}

/// A loaded package: metadata, defaults, schema, its format's templates and the raw files.
#[derive(Debug)]
pub struct Package {
    /// The package's metadata (for a chart, read from `Chart.yaml`).
    pub manifest: Manifest,
    /// How it renders.
    pub format: Format,
    /// Default values (`values.yaml`), always a map.
    pub values: Value,
    /// `values.schema.json` parsed, when present.
    pub schema_json: Option<Value>,
    /// The compiled schema, when present.
    pub schema: Option<Schema>,
    /// `README.md`, when present.
    pub readme: Option<String>,
    /// Every file of the package by relative path, as archived.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Problems that do not stop loading (unknown manifest keys).
    pub warnings: Vec<String>,
}

fn text(path: &str, bytes: &[u8]) -> Result<String, PackageError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| PackageError::NotUtf8 {
        path: path.to_string(),
    })
}

impl Package {
    /// Builds a package from its files (paths relative to the package root, `/`-separated).
    pub fn from_files(files: BTreeMap<String, Vec<u8>>) -> Result<Self, PackageError> {
        if crate::chart::is_chart(&files) {
            return Self::from_chart_files(files);
        }
        let manifest_bytes = files
            .get("package.yaml")
            .ok_or(PackageError::MissingManifest)?;
        let (manifest, warnings) = Manifest::parse(&text("package.yaml", manifest_bytes)?)?;
        let values = match files.get("values.yaml") {
            Some(b) => Value::Object(
                values::parse_values("values.yaml", &text("values.yaml", b)?)
                    .map_err(PackageError::Values)?,
            ),
            None => Value::Object(Map::new()),
        };
        let (schema_json, schema) = match files.get("values.schema.json") {
            Some(b) => {
                let v: Value = serde_json::from_slice(b)
                    .map_err(|e| PackageError::SchemaJson(e.to_string()))?;
                let compiled = Schema::compile(&v).map_err(PackageError::Schema)?;
                (Some(v), Some(compiled))
            }
            None => (None, None),
        };
        let mut templates = BTreeMap::new();
        for (path, bytes) in &files {
            if path.starts_with("templates/") {
                templates.insert(path.clone(), text(path, bytes)?);
            }
        }
        if templates.is_empty() {
            return Err(PackageError::NoTemplates);
        }
        let notes = files
            .get("NOTES.txt")
            .map(|b| text("NOTES.txt", b))
            .transpose()?;
        let readme = files
            .get("README.md")
            .map(|b| text("README.md", b))
            .transpose()?;
        Ok(Self {
            manifest,
            format: Format::Cocktail(Templates { templates, notes }),
            values,
            schema_json,
            schema,
            readme,
            files,
            warnings,
        })
    }

    /// Builds a package from a Helm chart's files (`Chart.yaml` at the top).
    fn from_chart_files(files: BTreeMap<String, Vec<u8>>) -> Result<Self, PackageError> {
        let chart = crate::chart::load(&files).map_err(|e| PackageError::Chart(Box::new(e)))?;
        let manifest = chart_manifest(&chart.metadata)?;
        let mut warnings = Vec::new();
        if chart.metadata.deprecated {
            warnings.push(format!("chart `{}` is deprecated", chart.name()));
        }
        let readme = chart
            .readme()
            .map(|b| String::from_utf8_lossy(b).into_owned());
        Ok(Self {
            manifest,
            values: chart.values.clone(),
            schema_json: chart.schema_json.clone(),
            schema: chart
                .schema_json
                .as_ref()
                .map(Schema::compile)
                .transpose()
                .map_err(PackageError::Schema)?,
            readme,
            format: Format::Chart(Box::new(chart)),
            files,
            warnings,
        })
    }

    /// The Helm chart, when the package is one.
    pub fn chart(&self) -> Option<&crate::chart::Chart> {
        match &self.format {
            Format::Chart(c) => Some(c),
            Format::Cocktail(_) => None,
        }
    }

    /// Whether the package has notes to render after install.
    pub fn has_notes(&self) -> bool {
        match &self.format {
            Format::Cocktail(t) => t.notes.is_some(),
            Format::Chart(c) => c.templates.iter().any(|(p, _)| p == "templates/NOTES.txt"),
        }
    }
}

/// Our manifest for a chart: what maps from `Chart.yaml` (the name made a valid package name,
/// the version a semantic version); the chart keeps its own metadata for `.Chart`.
fn chart_manifest(m: &crate::chart::Metadata) -> Result<Manifest, PackageError> {
    let lowered: String = m
        .name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = PackageName::new(lowered.trim_matches('-'))
        .or_else(|_| PackageName::new("chart"))
        .map_err(|e| field("name", e.reason.to_string()))?;
    let version = crate::chart::semver::parse(&m.version)
        .and_then(|(major, minor, patch, pre, meta)| {
            let mut text = format!("{major}.{minor}.{patch}");
            if !pre.is_empty() {
                text.push_str(&format!("-{pre}"));
            }
            if !meta.is_empty() {
                text.push_str(&format!("+{meta}"));
            }
            Version::parse(&text).ok()
        })
        .unwrap_or(Version::new(0, 0, 0));
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(Manifest {
        api_version: m.api_version.clone(),
        name,
        version,
        app_version: opt(&m.app_version),
        description: opt(&m.description),
        category: None,
        keywords: m.keywords.clone(),
        home: opt(&m.home),
        icon: opt(&m.icon),
        sources: m.sources.clone(),
        maintainers: m
            .maintainers
            .iter()
            .map(|x| Maintainer {
                name: x.name.clone(),
                email: opt(&x.email),
                url: opt(&x.url),
            })
            .collect(),
        kube_version: opt(&m.kube_version),
        annotations: m.annotations.clone(),
        deprecated: m.deprecated,
        changelog: Vec::new(),
    })
}

/// True for template files that render objects (not `_helpers` macro files).
pub fn is_rendered_template(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    !file.starts_with('_') && (file.ends_with(".yaml") || file.ends_with(".yml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Result<(Manifest, Vec<String>), PackageError> {
        Manifest::parse(text)
    }

    const OK: &str = "apiVersion: cocktail-pkg/v1\nname: redis\nversion: 1.2.3\n";

    #[test]
    fn minimal_manifest() {
        let (m, w) = manifest(OK).unwrap();
        assert_eq!(m.name.as_str(), "redis");
        assert_eq!(m.version, Version::new(1, 2, 3));
        assert!(w.is_empty());
    }

    #[test]
    fn unknown_keys_warn_with_suggestion() {
        let (_, w) = manifest(&format!("{OK}descripton: x\nfoo: 1\n")).unwrap();
        assert_eq!(
            w,
            [
                "package.yaml: unknown field `descripton` is ignored (did you mean `description`?)",
                "package.yaml: unknown field `foo` is ignored"
            ]
        );
    }

    #[test]
    fn field_errors_name_the_field() {
        let cases = [
            (
                "name: redis\nversion: 1.0.0\n",
                "field `apiVersion` is required",
            ),
            (
                "apiVersion: v2\nname: redis\nversion: 1.0.0\n",
                "field `apiVersion` must be `cocktail-pkg/v1`",
            ),
            (
                "apiVersion: cocktail-pkg/v1\nversion: 1.0.0\n",
                "field `name` is required",
            ),
            (
                "apiVersion: cocktail-pkg/v1\nname: Redis\nversion: 1.0.0\n",
                "field `name` may contain only",
            ),
            (
                "apiVersion: cocktail-pkg/v1\nname: redis\nversion: '1.0'\n",
                "field `version` `1.0` is not a semantic version",
            ),
            (
                "apiVersion: cocktail-pkg/v1\nname: redis\nversion: 1.0.0\nkubeVersion: '>>1'\n",
                "field `kubeVersion`",
            ),
            (
                "apiVersion: cocktail-pkg/v1\nname: redis\nversion: 1.0.0\nkeywords: x\n",
                "field `keywords` must be a list",
            ),
            (
                "apiVersion: cocktail-pkg/v1\nname: redis\nversion: 1.0.0\nmaintainers: [{email: a}]\n",
                "field `maintainers[0].name` is required",
            ),
        ];
        for (text, want) in cases {
            let err = manifest(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: got {err}");
        }
    }

    #[test]
    fn kube_versions() {
        assert_eq!(
            parse_kube_version("v1.30.2").unwrap(),
            Version::new(1, 30, 2)
        );
        assert_eq!(parse_kube_version("1.29").unwrap(), Version::new(1, 29, 0));
        assert_eq!(
            parse_kube_version("v1.28.3-eks-4f4795d").unwrap(),
            Version::new(1, 28, 3)
        );
        assert!(parse_kube_version("latest").is_err());
    }

    #[test]
    fn template_kinds() {
        assert!(is_rendered_template("templates/deployment.yaml"));
        assert!(is_rendered_template("templates/sub/svc.yml"));
        assert!(!is_rendered_template("templates/_helpers.yaml"));
        assert!(!is_rendered_template("templates/notes.txt"));
    }
}
