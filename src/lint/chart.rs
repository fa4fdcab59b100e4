//! Lint rules for Helm charts: the rules of Helm v4's `helm lint` (`Chart.yaml`, `values.yaml`,
//! `templates/`, dependencies, `crds/`, deprecated APIs) with Helm's severities and, where they
//! read well, Helm's messages; plus ours on the rendered objects (pinned images, resources,
//! probes) as warnings. Findings name files relative to the chart linted (`templates/a.yaml`;
//! `charts/db/templates/b.yaml` for a sub-chart). Pure: `ops::lint` reads the chart.
//!
//! The templates render as `helm lint` renders them: release `test-release` in namespace
//! `default` (or `--namespace`), Kubernetes v1.35.0 (or `--kube-version`), Helm's default API
//! versions, and Helm's lint mode, where `required` and `fail` do not stop the render.

use std::collections::BTreeMap;

use semver::Version;
use serde_json::{Map, Value};

use super::{Finding, Severity, finding};
use crate::chart::{self as charts, Chart};
use crate::model::{ReleaseName, ServiceMapName};
use crate::render::chart::{ChartOutput, Document, HELM_API_VERSIONS, HELM_KUBE_VERSION};
use crate::render::{Capabilities, ReleaseInfo, RenderContext, RenderError};

/// The release name `helm lint` renders with.
pub const LINT_RELEASE_NAME: &str = "test-release";
/// The namespace `helm lint` renders in when no `--namespace` is given.
pub const LINT_NAMESPACE: &str = "default";

/// Whether a path of the chart exists on disk, and as what (Helm checks `templates/` and
/// `crds/` on disk, before `.helmignore` applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Missing,
    File,
    Dir,
}

/// One chart to lint, as read by the caller.
#[derive(Debug, Clone)]
pub struct ChartInput<'a> {
    /// How chart-level findings name the chart: its folder or archive name, or `charts/db`
    /// for a sub-chart linted on its own.
    pub label: &'a str,
    /// Put before every file a finding names: empty, or `charts/db/` for a sub-chart.
    pub prefix: &'a str,
    /// The chart's files as Helm's loader sees them (`.helmignore` applied).
    pub files: &'a BTreeMap<String, Vec<u8>>,
    /// `Chart.yaml`, `values.yaml` and `values.schema.json` as on disk: Helm reads them
    /// whatever `.helmignore` says.
    pub chart_yaml: Option<&'a [u8]>,
    pub values_yaml: Option<&'a [u8]>,
    pub schema_json: Option<&'a [u8]>,
    pub templates: Entry,
    pub crds: Entry,
    /// The chart's folder name, for a chart read from a folder (not an archive).
    pub dir_name: Option<&'a str>,
}

/// How to lint a chart.
#[derive(Debug, Clone)]
pub struct ChartLintOptions {
    /// The user's values (`-f`, `--set`…), merged in Helm's order
    /// ([`crate::chart::values::user_values`]).
    pub user_values: Value,
    /// The Kubernetes version to render for and to check deprecations against (default:
    /// Helm's, v1.35.0).
    pub kube_version: Option<Version>,
    /// `.Release.Namespace` (default `default`, as `helm lint`).
    pub namespace: ServiceMapName,
    /// Skip `values.schema.json` validation (`--skip-schema-validation`).
    pub skip_schema_validation: bool,
}

/// What linting one chart gave.
#[derive(Debug, Clone)]
pub struct ChartReport {
    /// The chart's name and version from `Chart.yaml` (empty when unreadable).
    pub name: String,
    pub version: String,
    /// In Helm's rule order (Chart.yaml, values, templates, dependencies, CRDs), ours last.
    pub findings: Vec<Finding>,
}

struct Ctx<'a> {
    input: &'a ChartInput<'a>,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    /// A finding about a file of the chart (`Chart.yaml`, `templates/`, `crds/x.yaml`).
    fn file(&mut self, severity: Severity, rule: &'static str, path: &str, message: String) {
        let subject = format!("{}{path}", self.input.prefix);
        self.out.push(finding(severity, rule, subject, message));
    }
    /// A finding about the chart as a whole (its dependencies, loading it).
    fn chart(&mut self, severity: Severity, rule: &'static str, message: String) {
        self.out.push(finding(
            severity,
            rule,
            self.input.label.to_string(),
            message,
        ));
    }
}

const CHART_YAML: &str = "Chart.yaml";
const VALUES_YAML: &str = "values.yaml";
const TEMPLATES: &str = "templates/";

/// Lints one chart: Helm's rules, then ours on the rendered objects.
pub fn lint_chart(input: &ChartInput, opts: &ChartLintOptions) -> ChartReport {
    let mut c = Ctx {
        input,
        out: Vec::new(),
    };
    let (name, version) = chartfile(&mut c, opts);
    values_rule(&mut c, opts);
    let loaded = charts::load(input.files).map_err(|e| crate::error_chain(&e));
    let rendered = templates_rule(&mut c, opts, &loaded);
    dependencies_rule(&mut c, &loaded);
    crds_rule(&mut c, &loaded);
    if let (Ok(chart), Some(out)) = (&loaded, rendered) {
        let root = format!("{}/", chart.name());
        let objects: Vec<_> = out
            .objects
            .iter()
            .map(|o| {
                let mut o = o.clone();
                let rel = o.template.strip_prefix(&root).unwrap_or(&o.template);
                o.template = format!("{}{rel}", input.prefix);
                o
            })
            .collect();
        c.out.extend(super::lint_chart_objects(&objects));
    }
    ChartReport {
        name,
        version,
        findings: c.out,
    }
}

// ---------------------------------------------------------------------------------------------
// Chart.yaml (Helm's `rules.Chartfile`)

const METADATA_KEYS: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
];
const MAINTAINER_KEYS: &[&str] = &["name", "email", "url"];
const DEPENDENCY_KEYS: &[&str] = &[
    "name",
    "version",
    "repository",
    "condition",
    "tags",
    "enabled",
    "import-values",
    "alias",
];

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

/// Go's `%T` of a value decoded from YAML into `interface{}`.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// The chart's name and version as written (for the report).
fn chartfile(c: &mut Ctx, opts: &ChartLintOptions) -> (String, String) {
    use Severity::*;
    let rule = "chart-yaml";
    let Some(bytes) = c.input.chart_yaml else {
        c.file(Error, rule, CHART_YAML, "file does not exist".into());
        return Default::default();
    };
    let text = String::from_utf8_lossy(bytes);
    let map = match gotpl::yaml::parse_document(&text).map(|v| v.to_json()) {
        Ok(Value::Object(m)) => m,
        Ok(Value::Null) => Map::new(),
        Ok(other) => {
            c.file(
                Error,
                rule,
                CHART_YAML,
                format!(
                    "unable to parse YAML\n\tcannot unmarshal {} into the chart's metadata",
                    go_type(&other)
                ),
            );
            return Default::default();
        }
        Err(e) => {
            c.file(
                Error,
                rule,
                CHART_YAML,
                format!("unable to parse YAML\n\t{}", e.0),
            );
            return Default::default();
        }
    };
    let mut unknown: Vec<String> = map
        .keys()
        .filter(|k| !METADATA_KEYS.contains(&k.as_str()))
        .map(|k| format!("{k:?}"))
        .collect();
    for (list, known) in [
        ("maintainers", MAINTAINER_KEYS),
        ("dependencies", DEPENDENCY_KEYS),
    ] {
        if let Some(Value::Array(items)) = map.get(list) {
            for item in items.iter().filter_map(Value::as_object) {
                unknown.extend(
                    item.keys()
                        .filter(|k| !known.contains(&k.as_str()))
                        .map(|k| format!("{k:?} (in {list})")),
                );
            }
        }
    }
    if !unknown.is_empty() {
        c.file(
            Warning,
            rule,
            CHART_YAML,
            format!(
                "failed to strictly parse chart metadata file\n\tunknown field {}",
                unknown.join(", ")
            ),
        );
    }
    let s = |k: &str| map.get(k).and_then(scalar).unwrap_or_default();
    let name = s("name");
    let version = s("version");
    let api_version = s("apiVersion");

    // Name.
    if name.is_empty() {
        c.file(Error, rule, CHART_YAML, "name is required".into());
    } else if name.contains('/') || name.contains('\\') {
        c.file(
            Error,
            rule,
            CHART_YAML,
            format!("chart name {name:?} is invalid"),
        );
    } else if !is_chart_name(&name) {
        // Ours (newer Helm makes it an error): such a name breaks the `helm.sh/chart` label.
        c.file(
            Warning,
            rule,
            CHART_YAML,
            format!(
                "chart name {name:?} is invalid; chart names must contain lowercase letters, numbers, and dashes, and must start and end with a lowercase letter or number"
            ),
        );
    }
    if let Some(dir) = c.input.dir_name
        && !name.is_empty()
        && dir != name
    {
        c.file(
            Info,
            rule,
            CHART_YAML,
            format!("the chart's folder `{dir}` is not named after the chart `{name}`"),
        );
    }
    // apiVersion.
    if api_version.is_empty() {
        c.file(
            Error,
            rule,
            CHART_YAML,
            "apiVersion is required. The value must be either \"v1\" or \"v2\"".into(),
        );
    } else if api_version != "v1" && api_version != "v2" {
        c.file(
            Error,
            rule,
            CHART_YAML,
            format!(
                "apiVersion '{api_version}' is not valid. The value must be either \"v1\" or \"v2\""
            ),
        );
    }
    // version and appVersion types, version.
    for key in ["version", "appVersion"] {
        if let Some(v) = map.get(key)
            && !v.is_string()
        {
            if key == "appVersion" {
                // Helm checks appVersion's type after the version itself.
                continue;
            }
            c.file(
                Error,
                rule,
                CHART_YAML,
                format!(
                    "{key} should be of type string but it's of type {}",
                    go_type(v)
                ),
            );
        }
    }
    if version.is_empty() {
        c.file(Error, rule, CHART_YAML, "version is required".into());
    } else {
        match charts::semver::parse(&version) {
            None => c.file(
                Error,
                rule,
                CHART_YAML,
                format!("version '{version}' is not a valid SemVer"),
            ),
            Some((0, 0, 0, pre, _)) if pre == "0" => c.file(
                Error,
                rule,
                CHART_YAML,
                format!("version {version} is less than or equal to 0.0.0-0"),
            ),
            Some(_) => {}
        }
    }
    if let Some(v) = map.get("appVersion")
        && !v.is_string()
    {
        c.file(
            Error,
            rule,
            CHART_YAML,
            format!(
                "appVersion should be of type string but it's of type {}",
                go_type(v)
            ),
        );
    }
    // Maintainers: the first problem.
    if let Some(Value::Array(items)) = map.get("maintainers") {
        for m in items {
            let problem = match m {
                Value::Null => Some("a maintainer entry is empty".to_string()),
                m => {
                    let f = |k: &str| m.get(k).and_then(scalar).unwrap_or_default();
                    let (mname, email, url) = (f("name"), f("email"), f("url"));
                    if mname.is_empty() {
                        Some("each maintainer requires a name".to_string())
                    } else if !email.is_empty() && !is_email(&email) {
                        Some(format!("invalid email '{email}' for maintainer '{mname}'"))
                    } else if !url.is_empty() && !is_url(&url) {
                        Some(format!("invalid url '{url}' for maintainer '{mname}'"))
                    } else {
                        None
                    }
                }
            };
            if let Some(p) = problem {
                c.file(Error, rule, CHART_YAML, p);
                break;
            }
        }
    }
    // Sources: the first bad one.
    if let Some(Value::Array(items)) = map.get("sources")
        && let Some(bad) = items
            .iter()
            .map(|v| scalar(v).unwrap_or_default())
            .find(|s| s.is_empty() || !is_request_url(s))
    {
        c.file(
            Error,
            rule,
            CHART_YAML,
            format!("invalid source URL '{bad}'"),
        );
    }
    let icon = s("icon");
    if icon.is_empty() {
        c.file(Info, rule, CHART_YAML, "icon is recommended".into());
    } else if !is_request_url(&icon) {
        c.file(
            Error,
            rule,
            CHART_YAML,
            format!("invalid icon URL '{icon}'"),
        );
    }
    if !s("type").is_empty() && api_version != "v2" {
        c.file(
            Error,
            rule,
            CHART_YAML,
            format!(
                "chart type is not valid in apiVersion '{api_version}'. It is valid in apiVersion 'v2'"
            ),
        );
    }
    if matches!(map.get("dependencies"), Some(Value::Array(d)) if !d.is_empty())
        && api_version != "v2"
    {
        c.file(
            Error,
            rule,
            CHART_YAML,
            format!(
                "dependencies are not valid in the Chart file with apiVersion '{api_version}'. They are valid in apiVersion 'v2'"
            ),
        );
    }
    if !version.is_empty() && Version::parse(&version).is_err() {
        c.file(
            Warning,
            rule,
            CHART_YAML,
            format!("version '{version}' is not a valid SemVerV2"),
        );
    }
    // Ours: home is a URL, kubeVersion parses and admits the Kubernetes version linted for.
    let home = s("home");
    if !home.is_empty() && !is_request_url(&home) {
        c.file(
            Warning,
            rule,
            CHART_YAML,
            format!("invalid home URL '{home}'"),
        );
    }
    let kube = s("kubeVersion");
    if !kube.is_empty() {
        let target = format!("v{}", kube_version(opts));
        match gotpl::funcs::versions::constraint_matches(&kube, &target) {
            Err(e) => c.file(
                Error,
                "kube-version",
                CHART_YAML,
                format!(
                    "kubeVersion '{kube}' is not a valid version constraint ({e}): every install would fail"
                ),
            ),
            Ok(false) => c.file(
                Warning,
                "kube-version",
                CHART_YAML,
                format!(
                    "chart requires kubeVersion: {kube} which is incompatible with Kubernetes {target} (lint renders for it anyway; pass --kube-version to lint for another)"
                ),
            ),
            Ok(true) => {}
        }
    }
    (name, version)
}

fn is_chart_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `govalidator.IsRequestURL`: Go's `url.ParseRequestURI` accepts it and it has a scheme.
fn is_request_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() || s.chars().any(|c| c.is_control()) {
        return false;
    }
    match rest.strip_prefix("//") {
        Some(after) => {
            let authority = after.split(['/', '?', '#']).next().unwrap_or("");
            !authority.contains(' ')
        }
        None => true,
    }
}

/// `govalidator.IsURL`, approximately: an optional scheme, a host with a dot (or
/// `localhost`, or an IP), no spaces.
fn is_url(s: &str) -> bool {
    if s.is_empty() || s.len() > 2083 || s.starts_with('.') || s.chars().any(char::is_whitespace) {
        return false;
    }
    let rest = match s.split_once("://") {
        Some((scheme, rest)) => {
            if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
                return false;
            }
            rest
        }
        None => s,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = host_port.split(':').next().unwrap_or("");
    !host.is_empty()
        && (host == "localhost" || host.contains('.'))
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// `govalidator.IsEmail`, approximately: `local@domain.tld`.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let tld = domain.rsplit('.').next().unwrap_or("");
    !local.is_empty()
        && !local.chars().any(|c| c.is_whitespace() || c == '@')
        && domain.contains('.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
        && tld.chars().next().is_some_and(char::is_alphabetic)
}

fn kube_version(opts: &ChartLintOptions) -> Version {
    opts.kube_version
        .clone()
        .unwrap_or_else(|| Version::parse(HELM_KUBE_VERSION).unwrap_or(Version::new(1, 35, 0)))
}

// ---------------------------------------------------------------------------------------------
// values.yaml (Helm's `rules.ValuesWithOverrides`)

/// Helm's `CoalesceTables(dst, src)`: `dst` wins, `src` fills what is missing, a `null` in
/// `dst` deletes the key.
fn coalesce_tables(dst: &mut Map<String, Value>, src: &Map<String, Value>) {
    for (k, sv) in src {
        match dst.get_mut(k) {
            None => {
                dst.insert(k.clone(), sv.clone());
            }
            Some(Value::Null) => {
                dst.remove(k);
            }
            Some(Value::Object(d)) => {
                if let Value::Object(s) = sv {
                    coalesce_tables(d, s);
                }
            }
            Some(_) => {}
        }
    }
}

fn values_rule(c: &mut Ctx, opts: &ChartLintOptions) {
    let rule = "values";
    let Some(bytes) = c.input.values_yaml else {
        c.file(
            Severity::Info,
            rule,
            VALUES_YAML,
            "file does not exist".into(),
        );
        return;
    };
    let values = match gotpl::yaml::parse_values(&String::from_utf8_lossy(bytes)) {
        Ok(v) => v.to_json(),
        Err(e) => {
            c.file(
                Severity::Error,
                rule,
                VALUES_YAML,
                format!("unable to parse YAML: {}", e.0),
            );
            return;
        }
    };
    let Some(schema) = c.input.schema_json.filter(|s| !s.is_empty()) else {
        return;
    };
    if opts.skip_schema_validation {
        return;
    }
    // Helm checks only the chart's own values (with the user's on top), not sub-charts'.
    let mut merged = match &opts.user_values {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if let Value::Object(v) = &values {
        coalesce_tables(&mut merged, v);
    }
    let compiled = serde_json::from_slice::<Value>(schema)
        .map_err(|e| e.to_string())
        .and_then(|s| crate::values::Schema::compile(&s).map_err(|e| crate::error_chain(&e)));
    match compiled {
        Err(e) => c.file(
            Severity::Error,
            "schema",
            VALUES_YAML,
            format!("unable to validate schema: {e}"),
        ),
        Ok(schema) => {
            for v in schema.violations(&Value::Object(merged)) {
                c.file(
                    Severity::Error,
                    "schema",
                    VALUES_YAML,
                    format!("- at '{}': {}", v.path, v.message),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// templates/ (Helm's `rules.Templates`)

fn templates_rule(
    c: &mut Ctx,
    opts: &ChartLintOptions,
    loaded: &Result<Chart, String>,
) -> Option<ChartOutput> {
    use Severity::*;
    match c.input.templates {
        Entry::Missing => {
            c.file(
                Warning,
                "templates",
                TEMPLATES,
                "directory does not exist".into(),
            );
            return None;
        }
        Entry::File => {
            c.file(Error, "templates", TEMPLATES, "not a directory".into());
            return None;
        }
        Entry::Dir => {}
    }
    let chart = match loaded {
        Ok(chart) => chart,
        Err(e) => {
            c.file(Error, "templates", TEMPLATES, e.clone());
            return None;
        }
    };
    let user = &opts.user_values;
    let values = charts::values::process_dependencies(chart, user).and_then(|processed| {
        let vals = charts::values::coalesce_all(&processed, user, false)?;
        if !opts.skip_schema_validation {
            charts::values::validate(&processed, &vals)?;
        }
        Ok(vals)
    });
    let values = match values {
        Ok(v) => v,
        Err(e) => {
            let rule = match e {
                charts::ChartError::SchemaViolations(_) => "schema",
                _ => "values",
            };
            c.file(Error, rule, TEMPLATES, e.to_string());
            return None;
        }
    };
    let mut lintable = chart.clone();
    // `helm lint` does not check `kubeVersion` (ours does, on Chart.yaml): render anyway.
    lintable.metadata.kube_version.clear();
    let ctx = match context(opts) {
        Ok(ctx) => ctx,
        Err(e) => {
            c.file(Error, "render", TEMPLATES, e);
            return None;
        }
    };
    let out = match crate::render::chart::render_chart_lint(&lintable, &values, &ctx) {
        Ok(out) => out,
        Err(e) => {
            render_failure(c, chart.name(), &e);
            return None;
        }
    };
    let root = format!("{}/", chart.name());
    let kube = kube_version(opts);
    for (path, _) in chart.templates.iter() {
        let ext = extension(path);
        if !matches!(ext, ".yaml" | ".yml" | ".tpl" | ".txt") {
            c.file(
                Error,
                "templates",
                path,
                format!(
                    "file extension '{ext}' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt"
                ),
            );
        }
        if !matches!(ext.to_ascii_lowercase().as_str(), ".yaml" | ".yml") {
            continue;
        }
        let source = format!("{root}{path}");
        let docs: Vec<&Document> = out
            .manifests
            .iter()
            .chain(out.hooks.iter())
            .filter(|d| d.source == source)
            .collect();
        if docs.is_empty() {
            continue;
        }
        let whole = docs
            .iter()
            .map(|d| d.content.as_str())
            .collect::<Vec<_>>()
            .join("\n---\n");
        for d in &docs {
            if let Some(line) = illegal_indent(&d.content) {
                c.file(
                    Warning,
                    "indent",
                    path,
                    format!(
                        "document starts with an illegal indent: {line:?} is less indented than the lines after it, which may cause parsing problems"
                    ),
                );
            }
        }
        for d in &docs {
            let parsed = gotpl::yaml::parse_document(&d.content).map(|v| v.to_json());
            let obj = match parsed {
                Err(e) => {
                    c.file(
                        Error,
                        "yaml",
                        path,
                        format!("unable to parse YAML: {}", e.0),
                    );
                    return Some(out);
                }
                Ok(Value::Null) => continue,
                Ok(Value::Object(m)) => m,
                Ok(other) => {
                    c.file(
                        Error,
                        "yaml",
                        path,
                        format!(
                            "unable to parse YAML: cannot unmarshal {} into an object (apiVersion, kind, metadata)",
                            go_type(&other)
                        ),
                    );
                    return Some(out);
                }
            };
            document_rules(c, path, &obj, &whole, &kube);
        }
    }
    Some(out)
}

/// The release, namespace and capabilities `helm lint` renders with.
fn context(opts: &ChartLintOptions) -> Result<RenderContext, String> {
    Ok(RenderContext {
        release: ReleaseInfo {
            name: ReleaseName::new(LINT_RELEASE_NAME).map_err(|e| e.to_string())?,
            service_map: opts.namespace.clone(),
            revision: 0,
            is_install: false,
            is_upgrade: false,
        },
        capabilities: Capabilities {
            kube_version: kube_version(opts),
            api_versions: HELM_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
        },
        // Reproducible: lint runs the same way every time.
        entropy: Default::default(),
    })
}

/// A failed render as Helm's lint reports it: invalid YAML under the file, anything else
/// under `templates/`.
fn render_failure(c: &mut Ctx, chart: &str, e: &RenderError) {
    if let RenderError::ChartTemplate { message, .. } = e
        && let Some(rest) = message.strip_prefix("YAML parse error on ")
        && let Some((source, detail)) = rest.split_once(": ")
    {
        let path = source
            .strip_prefix(chart)
            .and_then(|p| p.strip_prefix('/'))
            .unwrap_or(source);
        c.file(
            Severity::Error,
            "yaml",
            path,
            format!("unable to parse YAML: {detail}"),
        );
        return;
    }
    let message = match e {
        RenderError::ChartTemplate { message, .. } => message.clone(),
        other => crate::error_chain(other),
    };
    c.file(Severity::Error, "render", TEMPLATES, message);
}

/// Go's `filepath.Ext`.
fn extension(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.rfind('.').map(|i| &file[i..]).unwrap_or("")
}

/// Helm warns when a template's output starts indented. Documents reach us trimmed, so this
/// spots what the trim leaves: a first line less indented than every line after it.
fn illegal_indent(doc: &str) -> Option<String> {
    let mut lines = doc
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let first = lines.next()?;
    if first.starts_with([' ', '\t']) {
        return Some(first.to_string());
    }
    let rest: Vec<&str> = lines.collect();
    let all_indented = !rest.is_empty() && rest.iter().all(|l| l.starts_with([' ', '\t']));
    all_indented.then(|| first.to_string())
}

/// The rules Helm applies to each rendered document, and ours on documents that cannot be
/// applied.
fn document_rules(c: &mut Ctx, path: &str, obj: &Map<String, Value>, whole: &str, kube: &Version) {
    use Severity::*;
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let api_version = s(obj.get("apiVersion"));
    let kind = s(obj.get("kind"));
    let name = s(obj.get("metadata").and_then(|m| m.get("name")));
    let problems = name_problems(&kind, &name);
    if !problems.is_empty() {
        let joined = if problems.len() == 1 {
            problems[0].clone()
        } else {
            format!("[{}]", problems.join(", "))
        };
        c.file(
            Warning,
            "object-name",
            path,
            format!(
                "object name does not conform to Kubernetes naming requirements: {name:?}: metadata.name: Invalid value: {name:?}: {joined}"
            ),
        );
    }
    if !api_version.is_empty()
        && !kind.is_empty()
        && let Some(msg) =
            super::deprecations::deprecation(&api_version, &kind, kube.major, kube.minor)
    {
        c.file(Warning, "deprecated-api", path, msg);
    }
    if matches!(
        kind.as_str(),
        "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet"
    ) && !whole.contains("matchLabels")
        && !whole.contains("matchExpressions")
    {
        c.file(
            Error,
            "selector",
            path,
            format!("a {kind} must contain matchLabels or matchExpressions, and {name:?} does not"),
        );
    }
    if kind == "List"
        && let Some(Value::Array(items)) = obj.get("items")
        && items.iter().any(|i| {
            i.pointer("/metadata/annotations/helm.sh~1resource-policy")
                .is_some()
        })
    {
        c.file(
            Error,
            "list-annotations",
            path,
            "annotation 'helm.sh/resource-policy' within List objects are ignored".into(),
        );
    }
    // Ours: Kubernetes refuses a document without apiVersion or kind at install.
    for (field, value) in [("apiVersion", &api_version), ("kind", &kind)] {
        if value.is_empty() {
            c.file(
                Error,
                "object",
                path,
                format!(
                    "a document{} has no `{field}`: installing it fails",
                    if name.is_empty() {
                        String::new()
                    } else {
                        format!(" ({name:?})")
                    }
                ),
            );
        }
    }
}

const DNS1123_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_LABEL: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Helm's `validateMetadataNameFunc`: the name rules of the kind (apimachinery's messages).
fn name_problems(kind: &str, name: &str) -> Vec<String> {
    let too_long = |max: usize| format!("must be no more than {max} characters");
    let mut out = Vec::new();
    match kind.to_ascii_lowercase().as_str() {
        "service" => {
            if name.len() > 63 {
                out.push(too_long(63));
            }
            if !is_label(name) || !name.as_bytes()[0].is_ascii_lowercase() {
                out.push(DNS1035_LABEL.to_string());
            }
        }
        "namespace" => {
            if name.len() > 63 {
                out.push(too_long(63));
            }
            if !is_label(name) {
                out.push(DNS1123_LABEL.to_string());
            }
        }
        "certificatesigningrequest" => {}
        "role" | "clusterrole" | "rolebinding" | "clusterrolebinding" => {
            if name == "." || name == ".." {
                out.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    out.push(format!("may not contain '{bad}'"));
                }
            }
        }
        _ => {
            if name.len() > 253 {
                out.push(too_long(253));
            }
            if !name.split('.').all(is_label) {
                out.push(DNS1123_SUBDOMAIN.to_string());
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Dependencies and CRDs (Helm's `rules.Dependencies`, `rules.Crds`)

fn dependencies_rule(c: &mut Ctx, loaded: &Result<Chart, String>) {
    use Severity::*;
    let chart = match loaded {
        Ok(chart) => chart,
        Err(e) => {
            c.chart(
                Error,
                "dependencies",
                format!("unable to load chart\n\t{e}"),
            );
            return;
        }
    };
    let declared = &chart.metadata.dependencies;
    let undeclared: Vec<&str> = chart
        .dependencies
        .iter()
        .map(Chart::name)
        .filter(|n| !declared.iter().any(|d| d.name == *n))
        .collect();
    if !undeclared.is_empty() {
        c.chart(
            Error,
            "dependencies",
            format!(
                "chart metadata is missing these dependencies: {}",
                undeclared.join(",")
            ),
        );
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut shadowing: Vec<&str> = Vec::new();
    for d in declared {
        let key = if d.alias.is_empty() {
            &d.name
        } else {
            &d.alias
        };
        if seen.contains(&key.as_str()) {
            shadowing.push(key);
        }
        seen.push(key);
    }
    if !shadowing.is_empty() {
        c.chart(
            Error,
            "dependencies",
            format!(
                "multiple dependencies with name or alias: {}",
                shadowing.join(",")
            ),
        );
    }
    let missing: Vec<&str> = declared
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|s| s.name() == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !missing.is_empty() {
        c.chart(
            Warning,
            "dependencies",
            format!(
                "chart directory is missing these dependencies: {}",
                missing.join(",")
            ),
        );
    }
}

fn crds_rule(c: &mut Ctx, loaded: &Result<Chart, String>) {
    use Severity::*;
    match c.input.crds {
        Entry::Missing => return,
        Entry::File => {
            c.file(Error, "crds", "crds/", "not a directory".into());
            return;
        }
        Entry::Dir => {}
    }
    let chart = match loaded {
        Ok(chart) => chart,
        Err(e) => {
            c.file(Error, "crds", "crds/", e.clone());
            return;
        }
    };
    let root = format!("{}/", chart.name());
    for (full, data) in chart.crds("") {
        let path = full.strip_prefix(&root).unwrap_or(&full).to_string();
        let text = String::from_utf8_lossy(data);
        let docs = match gotpl::yaml::split_documents(&text) {
            Ok(d) => d,
            Err(e) => {
                c.file(
                    Error,
                    "crds",
                    &path,
                    format!("unable to parse YAML: {}", e.0),
                );
                return;
            }
        };
        for doc in docs {
            let obj = match gotpl::yaml::parse_document(&doc).map(|v| v.to_json()) {
                Ok(Value::Null) => continue,
                Ok(Value::Object(m)) => m,
                Ok(other) => {
                    c.file(
                        Error,
                        "crds",
                        &path,
                        format!(
                            "unable to parse YAML: cannot unmarshal {} into an object",
                            go_type(&other)
                        ),
                    );
                    return;
                }
                Err(e) => {
                    c.file(
                        Error,
                        "crds",
                        &path,
                        format!("unable to parse YAML: {}", e.0),
                    );
                    return;
                }
            };
            let api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            if !api.starts_with("apiextensions.k8s.io") {
                c.file(
                    Error,
                    "crds",
                    &path,
                    "apiVersion is not in 'apiextensions.k8s.io'".into(),
                );
            }
            if obj.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
                c.file(
                    Error,
                    "crds",
                    &path,
                    "object kind is not 'CustomResourceDefinition'".into(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_emails() {
        assert!(is_request_url("https://example.com/a.png"));
        assert!(is_request_url("mailto:x@y.z"));
        assert!(!is_request_url("notaurl"));
        assert!(!is_request_url("bad icon"));
        assert!(!is_request_url("http://a b/"));
        assert!(is_email("a@b.io"));
        assert!(!is_email("nope"));
        assert!(!is_email("a@b"));
        assert!(is_url("https://example.com"));
        assert!(is_url("example.com/x"));
        assert!(!is_url("not a url"));
    }

    #[test]
    fn names_by_kind() {
        assert!(name_problems("Service", "web").is_empty());
        assert_eq!(name_problems("Service", "1web"), [DNS1035_LABEL]);
        assert!(name_problems("ConfigMap", "a.b-c").is_empty());
        assert_eq!(name_problems("ConfigMap", "UPPER"), [DNS1123_SUBDOMAIN]);
        assert_eq!(name_problems("Role", "a/b"), ["may not contain '/'"]);
        assert!(name_problems("Role", "system:a").is_empty());
        assert!(name_problems("CertificateSigningRequest", "ANY").is_empty());
        assert_eq!(name_problems("Namespace", "a.b"), [DNS1123_LABEL]);
    }

    #[test]
    fn indents() {
        assert_eq!(
            illegal_indent("apiVersion: v1\n  kind: x\n  metadata: {}").as_deref(),
            Some("apiVersion: v1")
        );
        assert!(illegal_indent("a: 1\nb:\n  c: 2").is_none());
        assert!(illegal_indent("# c\na: 1").is_none());
    }
}
