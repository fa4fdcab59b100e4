//! Helm charts, the second package format: loading (this file), values ([`values`]) and the
//! `.helmignore` and glob rules ([`glob`]). Rendering lives in [`crate::render::chart`].
//!
//! A [`Chart`] is built from an in-memory file map exactly as Helm's loader sorts files:
//! `Chart.yaml` (apiVersion v1 or v2), `Chart.lock`, `values.yaml` (read as Helm v4 reads it:
//! every number a `float64`, YAML 1.1 booleans), `values.schema.json`, `requirements.yaml`
//! (v1), `templates/`, `charts/` (sub-charts as folders or `.tgz`, unpacked in memory with the
//! archive module's caps) and every other file into the chart's `.Files`. Values are kept as
//! JSON whose numbers remember Helm's Go types: a float (`is_f64`) is a `float64`, an integer
//! an `int64` (`--set`). Pure: no IO.

pub mod glob;
pub mod values;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::archive::{self, ArchiveError};
use crate::values::{Schema, ValuesError};

/// Deepest nesting of sub-charts inside sub-charts.
pub const MAX_CHART_DEPTH: usize = 20;

/// A chart that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("Chart.yaml file is missing")]
    MissingChartYaml,
    #[error("failed to read {file} of chart `{chart}`: {message}")]
    Yaml {
        chart: String,
        file: &'static str,
        message: String,
    },
    #[error("invalid Chart.yaml of chart `{chart}`: {message}")]
    Metadata { chart: String, message: String },
    #[error("values.schema.json of chart `{chart}` is not valid JSON: {message}")]
    SchemaJson { chart: String, message: String },
    #[error("invalid values.schema.json of chart `{chart}`")]
    Schema {
        chart: String,
        #[source]
        source: ValuesError,
    },
    #[error("failed to unpack sub-chart {name} of chart `{chart}`")]
    SubchartArchive {
        chart: String,
        name: String,
        #[source]
        source: ArchiveError,
    },
    #[error("failed to load sub-chart {name} of chart `{chart}`")]
    Subchart {
        chart: String,
        name: String,
        #[source]
        source: Box<ChartError>,
    },
    #[error("sub-charts are nested more than {MAX_CHART_DEPTH} levels deep")]
    TooDeep,
    #[error(
        "chart `{chart}` declares dependencies that are missing from its charts/ folder: {}",
        .missing.join(", ")
    )]
    MissingDependencies { chart: String, missing: Vec<String> },
    #[error("type mismatch on {name}: sub-chart values must be a map")]
    ValuesType { name: String },
    #[error(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{0}"
    )]
    SchemaViolations(String),
}

impl ChartError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ChartError::MissingDependencies { .. } => Some(
                "vendor the dependencies into charts/ with `helm dependency build`; for `file://` dependencies `cocktail-pkg package --dependency-update` does it".into(),
            ),
            ChartError::Metadata { .. } => Some(
                "Chart.yaml needs apiVersion (v1 or v2), name and a semantic version; see docs/concepts/helm-charts.md".into(),
            ),
            ChartError::Schema { source, .. } => source.hint(),
            ChartError::Subchart { source, .. } => source.hint(),
            ChartError::SubchartArchive { source, .. } => source.hint(),
            ChartError::SchemaViolations(_) => Some(
                "see the chart's values with `cocktail-pkg show values CHART` and its schema with `cocktail-pkg show schema CHART`".into(),
            ),
            _ => None,
        }
    }
}

/// A maintainer of `Chart.yaml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// One entry of `dependencies:` (Helm's `chart.Dependency`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    /// `import-values`: strings or `{child, parent}` maps, as written.
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// `Chart.yaml` (Helm's `chart.Metadata`), strings as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub api_version: String,
    pub name: String,
    pub version: String,
    pub app_version: String,
    pub kube_version: String,
    pub description: String,
    pub chart_type: String,
    pub home: String,
    pub icon: String,
    pub sources: Vec<String>,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub annotations: BTreeMap<String, String>,
    pub deprecated: bool,
    pub dependencies: Vec<Dependency>,
    /// v1 fields kept for `.Chart`.
    pub condition: String,
    pub tags: String,
}

/// A loaded chart and its sub-charts.
#[derive(Debug, Clone)]
pub struct Chart {
    pub metadata: Metadata,
    /// `values.yaml`, always a map (numbers are floats, as Helm reads them).
    pub values: Value,
    /// `values.schema.json`, parsed.
    pub schema_json: Option<Value>,
    pub schema: Option<Arc<Schema>>,
    /// Files under `templates/` by path (`templates/deployment.yaml`), sorted. Shared: a chart
    /// is cloned for each processing step, its files never change.
    pub templates: Arc<Vec<(String, String)>>,
    /// Helm's `.Files`: every file that is not `Chart.yaml`, `values.yaml`, the schema, a
    /// template or a sub-chart.
    pub files: Arc<BTreeMap<String, Vec<u8>>>,
    /// Sub-charts from `charts/`, in name order.
    pub dependencies: Vec<Chart>,
    /// `Chart.lock`, when present.
    pub lock: Option<Value>,
    /// `values.yaml` and `values.schema.json` as written (for `show`).
    pub raw: Arc<BTreeMap<String, Vec<u8>>>,
}

impl Chart {
    /// The chart's name (after an alias, the alias).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// `type: library`.
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// CRD files of `crds/` (`.yaml`, `.yml`, `.json`), with their full path (`CHART/crds/x.yaml`),
    /// then those of the sub-charts, as Helm's `CRDObjects`.
    pub fn crds(&self, prefix: &str) -> Vec<(String, &[u8])> {
        let full = if prefix.is_empty() {
            self.name().to_string()
        } else {
            format!("{prefix}/charts/{}", self.name())
        };
        let mut out: Vec<(String, &[u8])> = self
            .files
            .iter()
            .filter(|(p, _)| p.starts_with("crds/") && has_manifest_extension(p))
            .map(|(p, d)| (format!("{full}/{p}"), d.as_slice()))
            .collect();
        for d in &self.dependencies {
            out.extend(d.crds(&full));
        }
        out
    }

    /// The README Helm's `show readme` picks.
    pub fn readme(&self) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(p, _)| {
                !p.contains('/')
                    && matches!(
                        p.to_ascii_lowercase().as_str(),
                        "readme.md" | "readme.txt" | "readme"
                    )
            })
            .map(|(_, d)| d.as_slice())
    }
}

/// A file's text as Helm reads it (invalid UTF-8 as U+FFFD); checks valid text, nearly
/// always the case, the fast way first.
fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn has_manifest_extension(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}

/// True when the files are a chart (`Chart.yaml` at the top).
pub fn is_chart(files: &BTreeMap<String, Vec<u8>>) -> bool {
    files.contains_key("Chart.yaml") && !files.contains_key("package.yaml")
}

/// Loads a chart from its files (paths relative to the chart's folder).
pub fn load(files: &BTreeMap<String, Vec<u8>>) -> Result<Chart, ChartError> {
    load_at(files, 0)
}

fn load_at(files: &BTreeMap<String, Vec<u8>>, depth: usize) -> Result<Chart, ChartError> {
    if depth > MAX_CHART_DEPTH {
        return Err(ChartError::TooDeep);
    }
    let chart_yaml = files
        .get("Chart.yaml")
        .ok_or(ChartError::MissingChartYaml)?;
    let mut metadata = parse_metadata(&text(chart_yaml))?;
    let name = metadata.name.clone();
    if let Some(req) = files.get("requirements.yaml") {
        let doc = yaml_json(&name, "requirements.yaml", req)?;
        if let Some(Value::Array(deps)) = doc.get("dependencies") {
            metadata.dependencies = parse_dependencies(&name, deps)?;
        }
    }
    let values = match files.get("values.yaml") {
        Some(b) => gotpl::yaml::parse_values(&text(b))
            .map_err(|e| ChartError::Yaml {
                chart: name.clone(),
                file: "values.yaml",
                message: e.0,
            })?
            .to_json(),
        None => Value::Object(Map::new()),
    };
    let (schema_json, schema) = match files.get("values.schema.json") {
        Some(b) => {
            let v: Value = serde_json::from_slice(b).map_err(|e| ChartError::SchemaJson {
                chart: name.clone(),
                message: e.to_string(),
            })?;
            let compiled = Schema::compile(&v).map_err(|source| ChartError::Schema {
                chart: name.clone(),
                source,
            })?;
            (Some(v), Some(Arc::new(compiled)))
        }
        None => (None, None),
    };
    let lock = files
        .get("Chart.lock")
        .map(|b| yaml_json(&name, "Chart.lock", b))
        .transpose()?;
    let mut templates = Vec::new();
    let mut other = BTreeMap::new();
    let mut subcharts: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    let v1 = metadata.api_version == "v1";
    for (path, data) in files {
        match path.as_str() {
            "Chart.yaml" | "Chart.lock" | "values.yaml" | "values.schema.json" => {}
            "requirements.yaml" | "requirements.lock" => {
                if v1 {
                    other.insert(path.clone(), data.clone());
                }
            }
            p if p.starts_with("templates/") => {
                templates.push((path.clone(), text(data).into_owned()));
            }
            p if p.starts_with("charts/") => {
                if p.ends_with(".prov") {
                    other.insert(path.clone(), data.clone());
                    continue;
                }
                let rest = &p["charts/".len()..];
                let (sub, inner) = rest.split_once('/').unwrap_or((rest, ""));
                subcharts
                    .entry(sub.to_string())
                    .or_default()
                    .insert(inner.to_string(), data.clone());
            }
            _ => {
                other.insert(path.clone(), data.clone());
            }
        }
    }
    let mut dependencies = Vec::new();
    for (sub, sub_files) in subcharts {
        if sub.starts_with(['_', '.']) {
            continue;
        }
        let chart = if sub.ends_with(".tgz") {
            let Some(bytes) = sub_files.get("") else {
                continue;
            };
            let unpacked =
                archive::read(bytes, None).map_err(|source| ChartError::SubchartArchive {
                    chart: name.clone(),
                    name: sub.clone(),
                    source,
                })?;
            load_at(&unpacked.files, depth + 1)
        } else {
            let inner: BTreeMap<String, Vec<u8>> = sub_files
                .into_iter()
                .filter(|(p, _)| !p.is_empty())
                .collect();
            load_at(&inner, depth + 1)
        }
        .map_err(|source| ChartError::Subchart {
            chart: name.clone(),
            name: sub.clone(),
            source: Box::new(source),
        })?;
        dependencies.push(chart);
    }
    Ok(Chart {
        metadata,
        values,
        schema_json,
        schema,
        templates: Arc::new(templates),
        files: Arc::new(other),
        dependencies,
        lock,
        raw: Arc::new(
            ["values.yaml", "values.schema.json"]
                .iter()
                .filter_map(|n| files.get(*n).map(|d| (n.to_string(), d.clone())))
                .collect(),
        ),
    })
}

/// Helm's `CheckDependencies`: every dependency of `Chart.yaml` is in `charts/`.
pub fn check_dependencies(chart: &Chart) -> Result<(), ChartError> {
    let missing: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !chart.dependencies.iter().any(|d| d.name() == r.name))
        .map(|r| r.name.clone())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ChartError::MissingDependencies {
            chart: chart.name().to_string(),
            missing,
        })
    }
}

fn yaml_json(chart: &str, file: &'static str, bytes: &[u8]) -> Result<Value, ChartError> {
    gotpl::yaml::parse_document(&text(bytes))
        .map(|v| v.to_json())
        .map_err(|e| ChartError::Yaml {
            chart: chart.to_string(),
            file,
            message: e.0,
        })
}

/// A scalar as a Go string field receives it from YAML (numbers as Go prints them).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if n.is_f64() => gotpl::fmt::format_v(&gotpl::Value::Float(f)),
            _ => n.to_string(),
        }),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(scalar).collect(),
        _ => Vec::new(),
    }
}

/// Parses `Chart.yaml` and validates it as Helm's `Metadata.Validate` does.
pub fn parse_metadata(text: &str) -> Result<Metadata, ChartError> {
    let doc = gotpl::yaml::parse_document(text)
        .map_err(|e| ChartError::Yaml {
            chart: "?".into(),
            file: "Chart.yaml",
            message: e.0,
        })?
        .to_json();
    let Value::Object(map) = doc else {
        return Err(ChartError::Metadata {
            chart: "?".into(),
            message: "Chart.yaml must be a map of fields".into(),
        });
    };
    let s = |k: &str| map.get(k).and_then(scalar).unwrap_or_default();
    let name = s("name");
    let bad = |message: String| ChartError::Metadata {
        chart: if name.is_empty() {
            "?".into()
        } else {
            name.clone()
        },
        message,
    };
    let mut api_version = s("apiVersion");
    if api_version.is_empty() {
        // Helm's loader reads a chart without apiVersion as v1.
        api_version = "v1".into();
    }
    if api_version != "v1" && api_version != "v2" {
        return Err(bad(format!(
            "apiVersion `{api_version}` is not supported (v1 or v2)"
        )));
    }
    if name.is_empty() {
        return Err(bad("chart.metadata.name is required".into()));
    }
    if name.contains('/') || name.contains('\\') || name == "." || name == ".." {
        return Err(bad(format!("chart.metadata.name {name:?} is invalid")));
    }
    let version = s("version");
    if version.is_empty() {
        return Err(bad("chart.metadata.version is required".into()));
    }
    if semver::parse(&version).is_none() {
        return Err(bad(format!(
            "chart.metadata.version {version:?} is invalid"
        )));
    }
    let chart_type = s("type");
    if !matches!(chart_type.as_str(), "" | "application" | "library") {
        return Err(bad(
            "chart.metadata.type must be application or library".into()
        ));
    }
    let maintainers = match map.get("maintainers") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|m| {
                let f = |k: &str| m.get(k).and_then(scalar).unwrap_or_default();
                Maintainer {
                    name: f("name"),
                    email: f("email"),
                    url: f("url"),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let annotations = match map.get("annotations") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), scalar(v).unwrap_or_default()))
            .collect(),
        _ => BTreeMap::new(),
    };
    let dependencies = match map.get("dependencies") {
        Some(Value::Array(deps)) => parse_dependencies(&name, deps)?,
        _ => Vec::new(),
    };
    Ok(Metadata {
        api_version,
        version,
        app_version: s("appVersion"),
        kube_version: s("kubeVersion"),
        description: s("description"),
        chart_type,
        home: s("home"),
        icon: s("icon"),
        sources: str_list(map.get("sources")),
        keywords: str_list(map.get("keywords")),
        maintainers,
        annotations,
        deprecated: matches!(map.get("deprecated"), Some(Value::Bool(true))),
        dependencies,
        condition: s("condition"),
        tags: s("tags"),
        name,
    })
}

fn parse_dependencies(chart: &str, deps: &[Value]) -> Result<Vec<Dependency>, ChartError> {
    let mut out: Vec<Dependency> = Vec::new();
    for d in deps {
        let f = |k: &str| d.get(k).and_then(scalar).unwrap_or_default();
        let dep = Dependency {
            name: f("name"),
            version: f("version"),
            repository: f("repository"),
            condition: f("condition"),
            tags: str_list(d.get("tags")),
            enabled: matches!(d.get("enabled"), Some(Value::Bool(true))),
            import_values: match d.get("import-values") {
                Some(Value::Array(v)) => v.clone(),
                _ => Vec::new(),
            },
            alias: f("alias"),
        };
        let bad = |message: String| ChartError::Metadata {
            chart: chart.to_string(),
            message,
        };
        if dep.name.is_empty() {
            return Err(bad("dependencies need a name".into()));
        }
        if !dep.alias.is_empty()
            && !dep
                .alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(format!(
                "dependency {:?} has disallowed characters in the alias",
                dep.name
            )));
        }
        let key = if dep.alias.is_empty() {
            &dep.name
        } else {
            &dep.alias
        };
        if out.iter().any(|o| {
            (if o.alias.is_empty() {
                &o.name
            } else {
                &o.alias
            }) == key
        }) {
            return Err(bad(format!(
                "more than one dependency with name or alias {key:?}"
            )));
        }
        out.push(dep);
    }
    Ok(out)
}

impl Metadata {
    /// The metadata as `helm show chart` prints it (Go's JSON field names, empty fields left
    /// out, `repository` always kept in dependencies).
    pub fn to_show_json(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                m.insert(k.into(), Value::String(v.into()));
            }
        };
        put("name", &self.name);
        put("home", &self.home);
        put("version", &self.version);
        put("description", &self.description);
        put("icon", &self.icon);
        put("apiVersion", &self.api_version);
        put("condition", &self.condition);
        put("tags", &self.tags);
        put("appVersion", &self.app_version);
        put("kubeVersion", &self.kube_version);
        put("type", &self.chart_type);
        let list =
            |v: &[String]| Value::Array(v.iter().map(|s| Value::String(s.clone())).collect());
        if !self.sources.is_empty() {
            m.insert("sources".into(), list(&self.sources));
        }
        if !self.keywords.is_empty() {
            m.insert("keywords".into(), list(&self.keywords));
        }
        if !self.maintainers.is_empty() {
            let ms = self
                .maintainers
                .iter()
                .map(|x| {
                    let mut o = Map::new();
                    for (k, v) in [("name", &x.name), ("email", &x.email), ("url", &x.url)] {
                        if !v.is_empty() {
                            o.insert(k.into(), Value::String(v.clone()));
                        }
                    }
                    Value::Object(o)
                })
                .collect();
            m.insert("maintainers".into(), Value::Array(ms));
        }
        if self.deprecated {
            m.insert("deprecated".into(), Value::Bool(true));
        }
        if !self.annotations.is_empty() {
            m.insert(
                "annotations".into(),
                Value::Object(
                    self.annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                ),
            );
        }
        if !self.dependencies.is_empty() {
            let ds = self
                .dependencies
                .iter()
                .map(|d| {
                    let mut o = Map::new();
                    o.insert("name".into(), Value::String(d.name.clone()));
                    if !d.version.is_empty() {
                        o.insert("version".into(), Value::String(d.version.clone()));
                    }
                    o.insert("repository".into(), Value::String(d.repository.clone()));
                    if !d.condition.is_empty() {
                        o.insert("condition".into(), Value::String(d.condition.clone()));
                    }
                    if !d.tags.is_empty() {
                        o.insert("tags".into(), list(&d.tags));
                    }
                    if d.enabled {
                        o.insert("enabled".into(), Value::Bool(true));
                    }
                    if !d.import_values.is_empty() {
                        o.insert(
                            "import-values".into(),
                            Value::Array(d.import_values.clone()),
                        );
                    }
                    if !d.alias.is_empty() {
                        o.insert("alias".into(), Value::String(d.alias.clone()));
                    }
                    Value::Object(o)
                })
                .collect();
            m.insert("dependencies".into(), Value::Array(ds));
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        list.iter()
            .map(|(p, d)| (p.to_string(), d.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn loads_metadata_values_and_subcharts() {
        let c = load(&files(&[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: a\nversion: v1.2\nappVersion: 1.16\n",
            ),
            ("values.yaml", "x: 1\n"),
            ("templates/a.yaml", "a: 1\n"),
            ("README.md", "hi"),
            (
                "charts/b/Chart.yaml",
                "apiVersion: v2\nname: b\nversion: 1.0.0\n",
            ),
            ("charts/b/templates/b.yaml", "b: 1\n"),
        ]))
        .unwrap();
        assert_eq!(c.metadata.version, "v1.2");
        assert_eq!(c.metadata.app_version, "1.16");
        assert!(c.values["x"].as_number().unwrap().is_f64());
        assert_eq!(c.templates.len(), 1);
        assert_eq!(c.files.keys().collect::<Vec<_>>(), ["README.md"]);
        assert_eq!(c.dependencies[0].name(), "b");
    }

    #[test]
    fn metadata_errors() {
        for (text, want) in [
            ("apiVersion: v2\nversion: 1.0.0\n", "name is required"),
            ("apiVersion: v2\nname: a\n", "version is required"),
            (
                "apiVersion: v2\nname: a\nversion: x\n",
                "version \"x\" is invalid",
            ),
            (
                "apiVersion: v3\nname: a\nversion: 1.0.0\n",
                "apiVersion `v3`",
            ),
            (
                "apiVersion: v2\nname: a\nversion: 1.0.0\ntype: app\n",
                "application or library",
            ),
        ] {
            let e = parse_metadata(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}

/// Masterminds semver, as Helm checks `kubeVersion` and dependency versions (the engine's
/// implementation, which `semver`/`semverCompare` in templates use too).
pub mod semver {
    use gotpl::funcs::versions::{Version, constraint_matches};

    /// Helm's `IsCompatibleRange`: false when either side does not parse.
    pub fn matches(constraint: &str, version: &str) -> bool {
        constraint_matches(constraint, version).unwrap_or(false)
    }

    /// `semver.NewVersion`: (major, minor, patch, prerelease, metadata).
    pub fn parse(version: &str) -> Option<(u64, u64, u64, String, String)> {
        let v = Version::parse(version).ok()?;
        Some((v.major, v.minor, v.patch, v.pre, v.metadata))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn masterminds() {
            assert!(super::matches(">=1.20.0-0", "v1.35.0"));
            assert!(!super::matches(">=1.20.0-0", "v1.19.0"));
            assert!(super::matches("~1.2 || ^2", "2.3.0"));
            assert!(!super::matches("", "1.0.0"));
            assert_eq!(
                super::parse("v1.2"),
                Some((1, 2, 0, String::new(), String::new()))
            );
            assert!(super::parse("x").is_none());
        }
    }
}
