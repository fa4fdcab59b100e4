//! `lint`: check a package renders and follows the rules in `lint`; for a Helm chart, Helm's
//! lint rules and ours (see [`crate::lint::chart`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::Version;

use super::{OpError, ValuesSources};
use crate::chart::glob::IgnoreRules;
use crate::lint::chart::{ChartInput, ChartLintOptions, Entry, LINT_NAMESPACE};
use crate::lint::{self, Finding, Severity};
use crate::model::ServiceMapName;
use crate::package::Package;
use crate::values::ValuesInput;

#[derive(Debug, Clone)]
pub struct LintOptions {
    pub source: PathBuf,
    /// Extra values applied to every variant.
    pub values: ValuesSources,
}

/// What only charts use (`helm lint`'s flags).
#[derive(Debug, Clone, Default)]
pub struct ChartLintFlags {
    /// Also lint every chart under `charts/` on its own (`--with-subcharts`).
    pub with_subcharts: bool,
    /// Kubernetes version to render for and check deprecated APIs against (default v1.35.0).
    pub kube_version: Option<Version>,
    /// `.Release.Namespace` (default `default`).
    pub namespace: Option<ServiceMapName>,
}

/// One chart linted (the chart, then each sub-chart with `--with-subcharts`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartLinted {
    /// The chart's folder or archive name, or `charts/db` for a sub-chart.
    pub path: String,
    pub name: String,
    pub version: String,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LintOutcome {
    pub package: String,
    pub version: String,
    /// The value sets rendered: `defaults`, then each `tests/*.values.yaml`.
    pub variants: Vec<String>,
    pub findings: Vec<Finding>,
    /// For a Helm chart: every chart linted (`N chart(s) linted`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub charts: Vec<ChartLinted>,
}

impl LintOutcome {
    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }
    pub fn infos(&self) -> usize {
        self.count(Severity::Info)
    }
    /// Whether lint fails: any error, or with `strict` any warning (infos never fail).
    pub fn failed(&self, strict: bool) -> bool {
        self.errors() > 0 || (strict && self.warnings() > 0)
    }
    /// How many charts failed (for a chart), with `strict` counting warnings.
    pub fn charts_failed(&self, strict: bool) -> usize {
        self.charts
            .iter()
            .filter(|c| c.errors > 0 || (strict && c.warnings > 0))
            .count()
    }
}

pub fn lint(opts: &LintOptions) -> Result<LintOutcome, OpError> {
    lint_with(opts, &ChartLintFlags::default())
}

/// Lints a package or a chart (a chart folder or archive is linted from its files as Helm
/// does, so a broken `Chart.yaml` is a finding rather than an error).
pub fn lint_with(opts: &LintOptions, flags: &ChartLintFlags) -> Result<LintOutcome, OpError> {
    let base = opts.values.read()?;
    if let Some(root) = read_chart_source(&opts.source)? {
        return lint_charts(root, &base, flags, &opts.source);
    }
    let pkg = super::load_package(&opts.source, None)?;
    if pkg.chart().is_some() {
        // A chart fetched from a repository.
        let label = pkg.manifest.name.to_string();
        let root = ChartSource::from_files(label, pkg.files.clone(), None);
        return lint_charts(root, &base, flags, &opts.source);
    }
    lint_package(&pkg, &base)
}

/// Lints a loaded package with extra values applied to every variant (see
/// [`lint::lint_variants`]).
pub fn lint_package(pkg: &Package, base: &ValuesInput) -> Result<LintOutcome, OpError> {
    let report = lint::lint_variants(pkg, base);
    Ok(LintOutcome {
        package: pkg.manifest.name.to_string(),
        version: pkg.manifest.version.to_string(),
        variants: report.variants,
        findings: report.findings,
        charts: Vec::new(),
    })
}

/// A chart as read for linting.
struct ChartSource {
    label: String,
    files: BTreeMap<String, Vec<u8>>,
    chart_yaml: Option<Vec<u8>>,
    values_yaml: Option<Vec<u8>>,
    schema_json: Option<Vec<u8>>,
    templates: Entry,
    crds: Entry,
    dir_name: Option<String>,
    /// The chart's folder, when read from one (its sub-charts are read from disk too).
    dir: Option<PathBuf>,
}

impl ChartSource {
    /// A chart from an archive's files (what the archive holds is what Helm sees).
    fn from_files(label: String, files: BTreeMap<String, Vec<u8>>, dir: Option<PathBuf>) -> Self {
        let under = |prefix: &str| {
            if files.keys().any(|p| p.starts_with(prefix)) {
                Entry::Dir
            } else if files.contains_key(prefix.trim_end_matches('/')) {
                Entry::File
            } else {
                Entry::Missing
            }
        };
        let (templates, crds) = (under("templates/"), under("crds/"));
        ChartSource {
            label,
            chart_yaml: files.get("Chart.yaml").cloned(),
            values_yaml: files.get("values.yaml").cloned(),
            schema_json: files.get("values.schema.json").cloned(),
            templates,
            crds,
            dir_name: None,
            dir,
            files,
        }
    }
}

fn entry(path: &Path) -> Entry {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Entry::Dir,
        Ok(_) => Entry::File,
        Err(_) => Entry::Missing,
    }
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, OpError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(_) if path.is_dir() => Ok(None),
        Err(source) => Err(OpError::Read {
            what: "chart file",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A chart folder read as Helm's linter reads it: `Chart.yaml`, `values.yaml` and the schema
/// from disk, everything else through `.helmignore`.
fn read_chart_dir(dir: &Path, label: String) -> Result<ChartSource, OpError> {
    let files = crate::source::read_chart_dir(dir)?;
    Ok(ChartSource {
        label,
        chart_yaml: read_optional(&dir.join("Chart.yaml"))?,
        values_yaml: read_optional(&dir.join("values.yaml"))?,
        schema_json: read_optional(&dir.join("values.schema.json"))?,
        templates: entry(&dir.join("templates")),
        crds: entry(&dir.join("crds")),
        dir_name: dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
        dir: Some(dir.to_path_buf()),
        files,
    })
}

fn read_chart_archive(path: &Path, label: String) -> Result<Option<ChartSource>, OpError> {
    let bytes = std::fs::read(path).map_err(|source| OpError::Read {
        what: "chart archive",
        path: path.to_path_buf(),
        source,
    })?;
    let unpacked = crate::archive::read(&bytes, None).map_err(|source| {
        crate::source::SourceError::Archive {
            path: path.to_path_buf(),
            source,
        }
    })?;
    if !crate::chart::is_chart(&unpacked.files) {
        return Ok(None);
    }
    Ok(Some(ChartSource::from_files(label, unpacked.files, None)))
}

/// The chart at `path` (a folder with `Chart.yaml` and no `package.yaml`, or an archive of a
/// chart), or `None` when it is something else (a package of ours, a repository reference).
fn read_chart_source(path: &Path) -> Result<Option<ChartSource>, OpError> {
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if meta.is_dir() {
        if path.join("Chart.yaml").exists() && !path.join("package.yaml").exists() {
            return read_chart_dir(path, label).map(Some);
        }
        return Ok(None);
    }
    if meta.is_file() {
        // Not an archive, or not a chart: the package loader says why.
        return Ok(read_chart_archive(path, label).ok().flatten());
    }
    Ok(None)
}

/// Helm's `--with-subcharts`: every folder under `charts/` holding a `Chart.yaml` and every
/// `.tgz` there, in path order, as `charts/db`, `charts/db/charts/backup`, `charts/x-1.0.0.tgz`.
fn subcharts(root: &ChartSource) -> Result<Vec<ChartSource>, OpError> {
    let mut out = Vec::new();
    if let Some(dir) = &root.dir {
        let mut stack = vec![(dir.join("charts"), "charts".to_string())];
        let mut found = Vec::new();
        while let Some((d, rel)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries.into_iter().rev() {
                let name = e.file_name().to_string_lossy().into_owned();
                let path = e.path();
                let sub = format!("{rel}/{name}");
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    stack.push((path, sub));
                } else if ft.is_file() && name == "Chart.yaml" {
                    found.push((rel.clone(), d.clone(), false));
                } else if ft.is_file() && (name.ends_with(".tgz") || name.ends_with(".tar.gz")) {
                    found.push((sub, path, true));
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        for (label, path, archive) in found {
            if archive {
                if let Some(c) = read_chart_archive(&path, label)? {
                    out.push(c);
                }
            } else {
                out.push(read_chart_dir(&path, label)?);
            }
        }
        return Ok(out);
    }
    // A chart archive: its sub-chart folders and archives, from its files.
    let mut labels: Vec<String> = root
        .files
        .keys()
        .filter(|p| p.starts_with("charts/"))
        .filter_map(|p| {
            if let Some(d) = p.strip_suffix("/Chart.yaml") {
                Some(d.to_string())
            } else if p.ends_with(".tgz") || p.ends_with(".tar.gz") {
                Some(p.clone())
            } else {
                None
            }
        })
        .collect();
    labels.sort();
    labels.dedup();
    for label in labels {
        if let Some(bytes) = root.files.get(&label) {
            let unpacked = crate::archive::read(bytes, None).map_err(|source| {
                crate::source::SourceError::Archive {
                    path: PathBuf::from(&label),
                    source,
                }
            })?;
            if crate::chart::is_chart(&unpacked.files) {
                out.push(ChartSource::from_files(label, unpacked.files, None));
            }
            continue;
        }
        let prefix = format!("{label}/");
        let inner: BTreeMap<String, Vec<u8>> = root
            .files
            .iter()
            .filter_map(|(p, d)| p.strip_prefix(&prefix).map(|r| (r.to_string(), d.clone())))
            .collect();
        let inner = apply_helmignore(inner);
        out.push(ChartSource::from_files(label, inner, None));
    }
    Ok(out)
}

/// A sub-chart's own `.helmignore`, as Helm applies it when it loads the sub-chart alone.
fn apply_helmignore(files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    let Some(rules) = files
        .get(".helmignore")
        .and_then(|b| IgnoreRules::parse(&String::from_utf8_lossy(b)).ok())
    else {
        return files;
    };
    files
        .into_iter()
        .filter(|(p, _)| {
            let parts: Vec<&str> = p.split('/').collect();
            let dirs_ok = (1..parts.len()).all(|i| !rules.ignore(&parts[..i].join("/"), true));
            dirs_ok && !rules.ignore(p, false) || p == "Chart.yaml"
        })
        .collect()
}

fn lint_charts(
    root: ChartSource,
    base: &ValuesInput,
    flags: &ChartLintFlags,
    source: &Path,
) -> Result<LintOutcome, OpError> {
    let user_values = crate::chart::values::user_values(base)?;
    let namespace = match &flags.namespace {
        Some(n) => n.clone(),
        None => ServiceMapName::new(LINT_NAMESPACE).map_err(|e| OpError::Invalid(e.to_string()))?,
    };
    let opts = ChartLintOptions {
        user_values,
        kube_version: flags.kube_version.clone(),
        namespace,
        skip_schema_validation: base.skip_schema_validation,
    };
    let mut sources = Vec::new();
    if flags.with_subcharts {
        sources = subcharts(&root)?;
    }
    sources.insert(0, root);
    let mut findings = Vec::new();
    let mut charts = Vec::new();
    let mut first: Option<(String, String)> = None;
    for (i, s) in sources.iter().enumerate() {
        let prefix = if i == 0 {
            String::new()
        } else {
            format!("{}/", s.label)
        };
        let input = ChartInput {
            label: &s.label,
            prefix: &prefix,
            files: &s.files,
            chart_yaml: s.chart_yaml.as_deref(),
            values_yaml: s.values_yaml.as_deref(),
            schema_json: s.schema_json.as_deref(),
            templates: s.templates,
            crds: s.crds,
            dir_name: s.dir_name.as_deref(),
        };
        let report = lint::chart::lint_chart(&input, &opts);
        let count = |sev| report.findings.iter().filter(|f| f.severity == sev).count();
        charts.push(ChartLinted {
            path: s.label.clone(),
            name: report.name.clone(),
            version: report.version.clone(),
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
        });
        if first.is_none() {
            first = Some((report.name.clone(), report.version.clone()));
        }
        findings.extend(report.findings);
    }
    findings.sort_by_key(|f| f.severity);
    let (name, version) = first.unwrap_or_default();
    Ok(LintOutcome {
        package: if name.is_empty() {
            source.display().to_string()
        } else {
            name
        },
        version,
        variants: vec!["defaults".into()],
        findings,
        charts,
    })
}
