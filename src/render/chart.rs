//! Helm charts' templates: Helm's `pkg/engine` and the manifest sorting of `helm template`.
//!
//! All templates of the chart and of its enabled sub-charts are parsed into one
//! [`gotpl::Templates`] set named `CHART/templates/x.yaml`, `CHART/charts/SUB/templates/y.yaml`,
//! so `include` and `tpl` resolve across sub-charts; they execute in Helm's order (deepest
//! path first, ties in reverse name order), each with its chart's top-level data (`.Values`
//! scoped to the chart and shared, so a `set` leaks into later templates as in Helm,
//! `.Chart`, `.Release`, `.Capabilities`, `.Files`, `.Template`, `.Subcharts`). Partials
//! (`_*`) render nothing; `<no value>` is removed from each output. The outputs are split into
//! documents, sorted in Helm's install order (hooks apart), and kept as written so `template`
//! prints exactly what `helm template` prints. Pure: the clock and randomness come in through
//! [`gotpl::funcs::Env`], `lookup` answers an empty map.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotpl::funcs::{Env, FuncError, FuncMap, Offline};
use gotpl::{ExecOptions, Map as GMap, MapRef, Object, Value as GValue};
use serde_json::Value;

use super::{RenderContext, RenderError, Rendered, RenderedObject, TemplateFailure};
use crate::chart::{Chart, values as chart_values};
use crate::model::ObjectId;

/// The Kubernetes version `helm template` (v4.1) assumes.
pub const HELM_KUBE_VERSION: &str = "1.35.0";
/// The API versions `helm template` (v4.1) advertises by default, in its order.
pub const HELM_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// Helm's `InstallOrder`.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Helm's hook events (`helm.sh/hook`).
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One document of the output, as written by its template.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// `CHART/templates/x.yaml`.
    pub source: String,
    /// The document's text, trimmed (Helm's `SplitManifests`).
    pub content: String,
    pub kind: String,
    /// The `helm.sh/hook` annotation of a hook document.
    pub hook: Option<String>,
}

impl Document {
    /// A test hook (`helm.sh/hook: test`, or the older `test-success`), which `--skip-tests`
    /// leaves out.
    pub fn is_test_hook(&self) -> bool {
        self.hook.as_deref().is_some_and(|events| {
            events.split(',').any(|e| {
                matches!(
                    e.trim().to_ascii_lowercase().as_str(),
                    "test" | "test-success"
                )
            })
        })
    }
}

/// What a chart renders, in `helm template`'s order.
#[derive(Debug, Clone, Default)]
pub struct ChartOutput {
    /// `crds/` files of the chart and its enabled sub-charts: (`CHART/crds/x.yaml`, text).
    pub crds: Vec<(String, String)>,
    /// Non-hook documents, sorted by kind in install order.
    pub manifests: Vec<Document>,
    /// Hook documents (`helm.sh/hook`), sorted by kind.
    pub hooks: Vec<Document>,
    /// The chart's rendered `templates/NOTES.txt`.
    pub notes: Option<String>,
    /// The objects of `manifests`, parsed (documents without `apiVersion`, `kind` or
    /// `metadata.name` are printed but are not objects).
    pub objects: Vec<RenderedObject>,
}

impl ChartOutput {
    /// `helm template --no-hooks` (no hook documents) and `--skip-tests` (no test hooks).
    pub fn without_hooks(mut self, no_hooks: bool, skip_tests: bool) -> ChartOutput {
        if no_hooks {
            self.hooks.clear();
        } else if skip_tests {
            self.hooks.retain(|h| !h.is_test_hook());
        }
        self
    }

    /// The text `helm template` prints (without `--show-only`).
    pub fn helm_text(&self, include_crds: bool) -> String {
        let mut manifest = String::new();
        if include_crds {
            for (path, text) in &self.crds {
                manifest.push_str(&format!("---\n# Source: {path}\n{text}\n"));
            }
        }
        for d in &self.manifests {
            manifest.push_str(&format!("---\n# Source: {}\n{}\n", d.source, d.content));
        }
        let mut out = manifest.trim().to_string();
        out.push('\n');
        if out == "\n" {
            out.clear();
            out.push('\n');
        }
        for h in &self.hooks {
            out.push_str(&format!("---\n# Source: {}\n{}\n", h.source, h.content));
        }
        out
    }

    /// `helm template --show-only`: the documents whose source (without the chart name) matches
    /// one of the patterns (Go's `filepath.Match`), pattern by pattern.
    pub fn show_only(&self, include_crds: bool, patterns: &[String]) -> Result<String, String> {
        let text = self.helm_text(include_crds);
        let docs = split_manifests(&text);
        let mut out = String::new();
        for pattern in patterns {
            let mut missing = true;
            for doc in &docs {
                let Some(rest) = doc.find("# Source: ").map(|i| &doc[i + 10..]) else {
                    continue;
                };
                let line = rest.lines().next().unwrap_or("");
                let Some((chart, path)) = line.split_once('/') else {
                    continue;
                };
                if chart.is_empty() || path.is_empty() {
                    continue;
                }
                if crate::chart::glob::go_match(pattern, path) {
                    out.push_str(&format!("---\n{doc}\n"));
                    missing = false;
                }
            }
            if missing {
                return Err(format!("could not find template {pattern} in chart"));
            }
        }
        Ok(out)
    }
}

/// Helm's `SplitManifests`: split on `(?:^|\s*\n)---\s*` and trim each document.
pub fn split_manifests(text: &str) -> Vec<String> {
    let text = text.trim();
    let b = text.as_bytes();
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c');
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    if b.starts_with(b"---") {
        i = 3;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        pieces.push("");
        start = i;
    }
    while i < b.len() {
        if is_ws(b[i]) {
            // A whitespace run ending in `\n` followed by `---` is a separator.
            let mut j = i;
            while j < b.len() && is_ws(b[j]) {
                j += 1;
            }
            if b[j - 1] == b'\n' && b[j..].starts_with(b"---") {
                pieces.push(&text[start..i]);
                let mut k = j + 3;
                while k < b.len() && is_ws(b[k]) {
                    k += 1;
                }
                start = k;
                i = k;
                continue;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    pieces.push(&text[start..]);
    pieces
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.trim().to_string())
        .collect()
}

fn kind_rank(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

/// Helm's `lessByKind` as a sort key, for a stable sort: kinds of the install order by their
/// rank, then the others by name. (A key per document, not two rank look-ups per comparison.)
fn kind_key(kind: &str) -> (usize, String) {
    match kind_rank(kind) {
        Some(rank) => (rank, String::new()),
        None => (usize::MAX, kind.to_string()),
    }
}

#[cfg(test)]
fn by_kind(a: &str, b: &str) -> std::cmp::Ordering {
    kind_key(a).cmp(&kind_key(b))
}

/// `.Capabilities` (`*common.Capabilities`).
#[derive(Debug)]
struct Capabilities {
    kube: Arc<KubeVersion>,
    api_versions: Arc<ApiVersions>,
}

#[derive(Debug)]
struct KubeVersion {
    version: String,
    major: String,
    minor: String,
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<GValue> {
        Some(match name {
            "Version" | "GitVersion" | "String" => GValue::str(self.version.as_str()),
            "Major" => GValue::str(self.major.as_str()),
            "Minor" => GValue::str(self.minor.as_str()),
            _ => return None,
        })
    }
    /// Prints as Helm 4 prints the struct with `%v` (`{v1.35.0 v1.35.0 1 35}`); the engine
    /// prints objects through this value.
    fn to_value(&self) -> GValue {
        GValue::str(format!(
            "{{{} {} {} {}}}",
            self.version, self.version, self.major, self.minor
        ))
    }
}

#[derive(Debug)]
struct ApiVersions(Vec<String>);

impl Object for ApiVersions {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn kind_name(&self) -> &str {
        "slice"
    }
    fn field(&self, _: &str) -> Option<GValue> {
        None
    }
    fn call_method(&self, name: &str, args: &[GValue]) -> Option<Result<GValue, FuncError>> {
        if name != "Has" {
            return None;
        }
        Some(match args {
            [GValue::String(s)] => Ok(GValue::Bool(self.0.iter().any(|v| v == &**s))),
            _ => Err(FuncError::msg("Has takes one string")),
        })
    }
    fn to_value(&self) -> GValue {
        GValue::list(self.0.iter().map(|s| GValue::str(s.as_str())).collect())
    }
}

fn helm_version() -> GValue {
    let mut m = GMap::new();
    for (k, v) in [
        ("version", "v4.1.4"),
        ("git_commit", "05fa37973dc9e42b76e1d2883494c87174b6074f"),
        ("git_tree_state", "clean"),
        ("go_version", "go1.25.9"),
        ("kube_client_version", "v1.35"),
    ] {
        m.insert(k.into(), GValue::str(v));
    }
    GValue::map(m)
}

impl Object for Capabilities {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn kind_name(&self) -> &str {
        "ptr"
    }
    fn field(&self, name: &str) -> Option<GValue> {
        Some(match name {
            "KubeVersion" => GValue::Object(self.kube.clone()),
            "APIVersions" => GValue::Object(self.api_versions.clone()),
            "HelmVersion" => helm_version(),
            _ => return None,
        })
    }
    fn to_value(&self) -> GValue {
        let mut kv = GMap::new();
        kv.insert("Version".into(), GValue::str(self.kube.version.as_str()));
        kv.insert("Major".into(), GValue::str(self.kube.major.as_str()));
        kv.insert("Minor".into(), GValue::str(self.kube.minor.as_str()));
        let mut m = GMap::new();
        m.insert("KubeVersion".into(), GValue::map(kv));
        m.insert("APIVersions".into(), self.api_versions.to_value());
        m.insert("HelmVersion".into(), helm_version());
        GValue::map(m)
    }
}

/// `.Files` (`engine.files`): a chart's non-template files.
#[derive(Debug)]
struct Files(BTreeMap<String, Arc<[u8]>>);

impl Files {
    fn get(&self, name: &str) -> Arc<[u8]> {
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| Arc::from(&[][..]))
    }
}

fn yaml_of_strings(m: BTreeMap<String, String>) -> Result<GValue, FuncError> {
    let map: GMap = m.into_iter().map(|(k, v)| (k, GValue::str(v))).collect();
    let text = gotpl::yaml::to_yaml(&GValue::map(map)).map_err(|e| FuncError::msg(e.0))?;
    Ok(GValue::str(text.strip_suffix('\n').unwrap_or(&text)))
}

fn base_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn kind_name(&self) -> &str {
        "map"
    }
    fn field(&self, name: &str) -> Option<GValue> {
        match name {
            "AsConfig" => self.call_method(name, &[]).and_then(Result::ok),
            "AsSecrets" => self.call_method(name, &[]).and_then(Result::ok),
            _ => None,
        }
    }
    fn call_method(&self, name: &str, args: &[GValue]) -> Option<Result<GValue, FuncError>> {
        let arg = || match args {
            [GValue::String(s)] => Ok(s.to_string()),
            _ => Err(FuncError::msg(format!("{name} takes one string argument"))),
        };
        Some(match name {
            "Get" => arg().map(|a| GValue::str(gotpl::value::go_string_from_bytes(&self.get(&a)))),
            "GetBytes" => arg().map(|a| GValue::Bytes(self.get(&a))),
            "Lines" => arg().map(|a| {
                let data = self.get(&a);
                if data.is_empty() {
                    return GValue::list(Vec::new());
                }
                let s = gotpl::value::go_string_from_bytes(&data);
                let s = s.strip_suffix('\n').unwrap_or(&s);
                GValue::list(s.split('\n').map(GValue::str).collect())
            }),
            "Glob" => arg().map(|pattern| {
                let picked = self
                    .0
                    .iter()
                    .filter(|(n, _)| crate::chart::glob::files_glob(&pattern, n))
                    .map(|(n, d)| (n.clone(), d.clone()))
                    .collect();
                GValue::Object(Arc::new(Files(picked)))
            }),
            "AsConfig" => yaml_of_strings(
                self.0
                    .iter()
                    .map(|(k, v)| (base_name(k), String::from_utf8_lossy(v).into_owned()))
                    .collect(),
            ),
            "AsSecrets" => {
                use base64::Engine as _;
                yaml_of_strings(
                    self.0
                        .iter()
                        .map(|(k, v)| {
                            (
                                base_name(k),
                                base64::engine::general_purpose::STANDARD.encode(v),
                            )
                        })
                        .collect(),
                )
            }
            _ => return None,
        })
    }
    fn to_value(&self) -> GValue {
        GValue::map(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), GValue::Bytes(v.clone())))
                .collect(),
        )
    }
}

/// `.Chart`: Helm 4 hands templates the metadata as a map with Go's field names.
fn chart_value(chart: &Chart, is_root: bool) -> GValue {
    let m = &chart.metadata;
    let s = |v: &str| GValue::str(v);
    let list = |v: &[String]| GValue::list(v.iter().map(|x| GValue::str(x.as_str())).collect());
    let mut map = GMap::new();
    map.insert("APIVersion".into(), s(&m.api_version));
    map.insert(
        "Annotations".into(),
        if m.annotations.is_empty() {
            GValue::Nil
        } else {
            GValue::map(
                m.annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), GValue::str(v.as_str())))
                    .collect(),
            )
        },
    );
    map.insert("AppVersion".into(), s(&m.app_version));
    map.insert("Condition".into(), s(&m.condition));
    let deps = m
        .dependencies
        .iter()
        .map(|d| {
            let mut o = GMap::new();
            o.insert("Name".into(), s(&d.name));
            o.insert("Version".into(), s(&d.version));
            o.insert("Repository".into(), s(&d.repository));
            o.insert("Condition".into(), s(&d.condition));
            o.insert("Tags".into(), list(&d.tags));
            o.insert("Enabled".into(), GValue::Bool(d.enabled));
            o.insert(
                "ImportValues".into(),
                GValue::list(
                    d.import_values
                        .iter()
                        .map(chart_values::to_template_value)
                        .collect(),
                ),
            );
            o.insert("Alias".into(), s(&d.alias));
            GValue::map(o)
        })
        .collect();
    map.insert("Dependencies".into(), GValue::list(deps));
    map.insert("Deprecated".into(), GValue::Bool(m.deprecated));
    map.insert("Description".into(), s(&m.description));
    map.insert("Home".into(), s(&m.home));
    map.insert("Icon".into(), s(&m.icon));
    map.insert("IsRoot".into(), GValue::Bool(is_root));
    map.insert("Keywords".into(), list(&m.keywords));
    map.insert("KubeVersion".into(), s(&m.kube_version));
    let maintainers = m
        .maintainers
        .iter()
        .map(|x| {
            let mut o = GMap::new();
            o.insert("Email".into(), s(&x.email));
            o.insert("Name".into(), s(&x.name));
            o.insert("URL".into(), s(&x.url));
            GValue::map(o)
        })
        .collect();
    map.insert("Maintainers".into(), GValue::list(maintainers));
    map.insert("Name".into(), s(&m.name));
    map.insert("Sources".into(), list(&m.sources));
    map.insert("Tags".into(), s(&m.tags));
    map.insert("Type".into(), s(&m.chart_type));
    map.insert("Version".into(), s(&m.version));
    GValue::map(map)
}

/// One template to execute, with its chart's top-level data.
struct Renderable {
    name: String,
    text: String,
    data: MapRef,
    base_path: String,
}

struct Shared {
    release: GValue,
    capabilities: GValue,
}

/// Helm's `recAllTpls`: every template of `chart` and its sub-charts with its data.
fn collect(
    chart: &Chart,
    parent: Option<&MapRef>,
    parent_path: Option<&str>,
    shared: &Shared,
    root_values: &GValue,
    out: &mut Vec<Renderable>,
) -> MapRef {
    let is_root = parent.is_none();
    let subcharts = MapRef::new(GMap::new());
    let next = MapRef::new(GMap::new());
    next.insert("Chart", chart_value(chart, is_root));
    next.insert(
        "Files",
        GValue::Object(Arc::new(Files(
            chart
                .files
                .iter()
                .map(|(k, v)| (k.clone(), Arc::from(v.as_slice())))
                .collect(),
        ))),
    );
    next.insert("Release", shared.release.clone());
    next.insert("Capabilities", shared.capabilities.clone());
    let values = match parent {
        None => root_values.clone(),
        Some(p) => match p
            .get("Values")
            .and_then(|v| v.as_map().and_then(|m| m.get(chart.name())))
        {
            Some(v @ GValue::Map(_)) => v,
            _ => GValue::map(GMap::new()),
        },
    };
    next.insert("Values", values);
    next.insert("Subcharts", GValue::Map(subcharts.clone()));
    let full = match parent_path {
        None => chart.name().to_string(),
        Some(p) => format!("{p}/charts/{}", chart.name()),
    };
    for child in &chart.dependencies {
        let child_next = collect(child, Some(&next), Some(&full), shared, root_values, out);
        subcharts.insert(child.name(), GValue::Map(child_next));
    }
    for (name, text) in chart.templates.iter() {
        let file = name.rsplit('/').next().unwrap_or(name);
        if chart.is_library() && !file.starts_with('_') {
            continue;
        }
        out.push(Renderable {
            name: format!("{full}/{name}"),
            text: text.clone(),
            data: next.clone(),
            base_path: format!("{full}/templates"),
        });
    }
    next
}

/// Helm's `sortTemplates`: most `/` first, ties in reverse name order.
fn sort_templates(list: &mut [Renderable]) {
    list.sort_by_cached_key(|r| {
        let slashes = r.name.bytes().filter(|b| *b == b'/').count();
        std::cmp::Reverse((slashes, r.name.clone()))
    });
}

fn chart_error(chart: &str, kind: TemplateFailure, message: String) -> RenderError {
    RenderError::ChartTemplate {
        chart: chart.to_string(),
        kind,
        message,
    }
}

/// Helm's `cleanupParseError` / `reformatExecErrorMsg` forms.
fn template_error(chart: &str, file: &str, e: &gotpl::Error) -> RenderError {
    match e {
        gotpl::Error::Parse(p) => {
            let text = p.to_string();
            let tokens: Vec<&str> = text.split(": ").collect();
            let message = if tokens.len() == 1 {
                format!("parse error in ({file}): {text}")
            } else {
                format!(
                    "parse error at ({}): {}",
                    tokens[1],
                    tokens[tokens.len() - 1]
                )
            };
            chart_error(chart, TemplateFailure::Syntax, message)
        }
        gotpl::Error::Exec(x) => {
            let location = x
                .location
                .as_ref()
                .map(|l| format!("{}:{}:{}", l.file, l.line, l.col))
                .unwrap_or_else(|| file.to_string());
            if let Some(msg) = &x.fail_message {
                return chart_error(
                    chart,
                    TemplateFailure::Failed,
                    format!("execution error at ({location}): {msg}"),
                );
            }
            let kind = if x.limit {
                TemplateFailure::OutOfFuel
            } else {
                TemplateFailure::Other
            };
            let mut message = format!(
                "{location}\n  executing {} at <{}>:\n    ",
                gotpl::fmt::go_quote(&x.template),
                x.context
            );
            if let Some(f) = &x.func {
                message.push_str(&format!("error calling {f}:\n"));
            }
            // A recursive include nests the whole chain in the message: keep both ends.
            let inner = &x.message;
            if inner.chars().count() > 800 {
                let head: String = inner.chars().take(300).collect();
                let tail: Vec<char> = inner.chars().rev().take(300).collect();
                let tail: String = tail.into_iter().rev().collect();
                message.push_str(&format!("{head} … {tail}"));
            } else {
                message.push_str(inner);
            }
            chart_error(chart, kind, message)
        }
    }
}

/// Renders a chart with fully resolved `values`, Helm's way, with the render stack (deep
/// recursion in hostile templates meets the engine's limits, not the end of the stack): a chart
/// whose dependencies [`chart_values::resolve`] has already processed (for the user's values,
/// as Helm does before it coalesces them), with the values it resolved. Without `objects` it
/// renders for `helm template`'s text alone: each document is still read as YAML (a document
/// that is not YAML is Helm's error) for its kind and hook, but no objects are built
/// (`objects` is empty).
pub fn render_processed_chart(
    processed: &Chart,
    values: &Value,
    ctx: &RenderContext,
    objects: bool,
) -> Result<ChartOutput, RenderError> {
    let how = How {
        objects,
        processed: true,
        ..How::default()
    };
    render_chart_in(processed, values, ctx, how)
}

/// Renders a chart (the loaded tree; dependencies are processed against `values`) in Helm's
/// lint mode (`helm lint`): `required` with a missing value and `fail` render `""` instead of
/// stopping the render.
pub fn render_chart_lint(
    chart: &Chart,
    values: &Value,
    ctx: &RenderContext,
) -> Result<ChartOutput, RenderError> {
    let how = How {
        lint: true,
        ..How::default()
    };
    render_chart_in(chart, values, ctx, how)
}

/// Renders a chart (the loaded tree; dependencies are processed against `values`) for a
/// release: `lookup` asks `host` (the target) instead of answering an empty map.
pub fn render_chart_with(
    chart: &Chart,
    values: &Value,
    ctx: &RenderContext,
    host: &mut (dyn gotpl::funcs::Host + Send),
) -> Result<ChartOutput, RenderError> {
    super::on_render_stack(|| render_chart_here(chart, values, ctx, How::default(), Some(host)))
}

/// How a chart renders: in Helm's lint mode or not, with objects or documents alone.
#[derive(Debug, Clone, Copy)]
struct How {
    /// Helm's lint mode (`required` and `fail` render `""`).
    lint: bool,
    /// Build [`ChartOutput::objects`] (off for `helm template`'s text, which needs none).
    objects: bool,
    /// The chart's dependencies are already processed for these values.
    processed: bool,
}

impl Default for How {
    fn default() -> How {
        How {
            lint: false,
            objects: true,
            processed: false,
        }
    }
}

fn render_chart_in(
    chart: &Chart,
    values: &Value,
    ctx: &RenderContext,
    how: How,
) -> Result<ChartOutput, RenderError> {
    super::on_render_stack(|| render_chart_here(chart, values, ctx, how, None))
}

fn render_chart_here(
    chart: &Chart,
    values: &Value,
    ctx: &RenderContext,
    how: How,
    host: Option<&mut dyn gotpl::funcs::Host>,
) -> Result<ChartOutput, RenderError> {
    let name = chart.name().to_string();
    let processing;
    let processed = if how.processed {
        chart
    } else {
        processing = chart_values::process_dependencies(chart, values)
            .map_err(|e| chart_error(&name, TemplateFailure::Other, e.to_string()))?;
        &processing
    };
    let kube = &ctx.capabilities.kube_version;
    let kube_text = format!("v{kube}");
    if !chart.metadata.kube_version.is_empty()
        && !crate::chart::semver::matches(&chart.metadata.kube_version, &kube_text)
    {
        return Err(RenderError::KubeVersion {
            package: name,
            constraint: chart.metadata.kube_version.clone(),
            kube_version: kube.clone(),
        });
    }
    let mut release = GMap::new();
    release.insert("Name".into(), GValue::str(ctx.release.name.as_str()));
    release.insert(
        "Namespace".into(),
        GValue::str(ctx.release.service_map.as_str()),
    );
    release.insert("IsUpgrade".into(), GValue::Bool(ctx.release.is_upgrade));
    release.insert("IsInstall".into(), GValue::Bool(ctx.release.is_install));
    release.insert(
        "Revision".into(),
        GValue::Int(i64::try_from(ctx.release.revision).unwrap_or(i64::MAX)),
    );
    release.insert("Service".into(), GValue::str("Helm"));
    let shared = Shared {
        release: GValue::map(release),
        capabilities: GValue::Object(Arc::new(Capabilities {
            kube: Arc::new(KubeVersion {
                version: kube_text.clone(),
                major: kube.major.to_string(),
                minor: kube.minor.to_string(),
            }),
            api_versions: Arc::new(ApiVersions(ctx.capabilities.api_versions.clone())),
        })),
    };
    let root_values = chart_values::to_template_value(values);
    let mut list = Vec::new();
    collect(processed, None, None, &shared, &root_values, &mut list);
    sort_templates(&mut list);

    let funcs = Arc::new(FuncMap::helm());
    let opts = ExecOptions::default();
    let jobs: Vec<&Renderable> = list
        .iter()
        .filter(|r| {
            let file = r.name.rsplit('/').next().unwrap_or(&r.name);
            !file.starts_with('_')
        })
        .collect();
    let size: usize = list.iter().map(|r| r.text.len()).sum();
    let render = Render {
        chart: &name,
        funcs: &funcs,
        list: &list,
        jobs: &jobs,
        opts: &opts,
        entropy: &ctx.entropy,
        how,
    };
    let done = match host {
        Some(host) => render.sequential(&render.parse_all()?, host),
        None if size >= PARALLEL_MIN_TEMPLATE_BYTES && two_cores() => render.concurrent()?,
        None => render.sequential(&render.parse_all()?, &mut Offline),
    };
    // Helm's order: every template renders first (the first failure in template order is the
    // error), then the documents are read, in path order.
    let mut rendered: BTreeMap<&str, Done> = BTreeMap::new();
    for (r, d) in jobs.iter().zip(done) {
        if let Err(e) = &d.text {
            return Err(template_error(&name, &r.name, e));
        }
        rendered.insert(r.name.as_str(), d);
    }
    let notes_name = format!("{name}/templates/NOTES.txt");
    let notes = rendered
        .get(notes_name.as_str())
        .and_then(|d| d.text.as_ref().ok().cloned());
    let mut manifests = Vec::new();
    let mut hooks = Vec::new();
    for (path, d) in rendered {
        for (doc, head) in d.docs {
            let head = head.map_err(|e| {
                chart_error(
                    &name,
                    TemplateFailure::Other,
                    format!("YAML parse error on {path}: {}", e.0),
                )
            })?;
            let Head { kind, hook, object } = head;
            let document = Document {
                source: path.to_string(),
                content: doc,
                kind,
                hook: hook.clone(),
            };
            match hook {
                None => manifests.push((document, object)),
                Some(events) => {
                    let known = events
                        .split(',')
                        .all(|e| HOOK_EVENTS.contains(&e.trim().to_ascii_lowercase().as_str()));
                    if known {
                        hooks.push(document);
                    }
                }
            }
        }
    }
    // `sort_by_cached_key` is stable, as Helm's sort.SliceStable.
    manifests.sort_by_cached_key(|(d, _)| kind_key(&d.kind));
    hooks.sort_by_cached_key(|d| kind_key(&d.kind));
    let mut objects = Vec::new();
    let mut documents = Vec::with_capacity(manifests.len());
    for (doc, object) in manifests {
        let source = doc.source.clone();
        documents.push(doc);
        if object.is_null() {
            continue;
        }
        // `helm template` prints documents that are not objects (no kind, no name); they are
        // not objects to apply, so they stay out of `objects` (install checks them apart).
        let Ok(id) = object_id(&object) else {
            continue;
        };
        objects.push(RenderedObject {
            template: source,
            id,
            object,
        });
        if objects.len() > super::MAX_OBJECTS {
            return Err(RenderError::TooManyObjects { package: name });
        }
    }
    let crds = processed
        .crds("")
        .into_iter()
        .map(|(p, d)| (p, String::from_utf8_lossy(d).into_owned()))
        .collect();
    Ok(ChartOutput {
        crds,
        manifests: documents,
        hooks,
        notes,
        objects,
    })
}

/// Parses and executes a chart's templates (Helm's render loop) with one clock and a random
/// stream per template derived from the render's seed, so the output does not depend on
/// scheduling.
struct Render<'a> {
    chart: &'a str,
    funcs: &'a Arc<FuncMap>,
    /// Every template, partials included, in Helm's order.
    list: &'a [Renderable],
    /// Those that render (not `_*`), in the same order.
    jobs: &'a [&'a Renderable],
    opts: &'a ExecOptions,
    entropy: &'a super::Entropy,
    how: How,
}

/// One template rendered: its text, and each of its documents with the YAML read from it
/// (none for `NOTES.txt`).
struct Done {
    text: Result<String, gotpl::Error>,
    docs: Vec<(String, Result<Head, gotpl::yaml::YamlError>)>,
}

/// What a rendered document's YAML says: its kind, its `helm.sh/hook` annotation, and the
/// object (null when the render builds no objects).
struct Head {
    kind: String,
    hook: Option<String>,
    object: Value,
}

impl Head {
    fn read(doc: &GValue, object: bool) -> Head {
        let map = doc.as_map();
        let kind = map
            .and_then(|m| m.get("kind"))
            .and_then(|k| k.as_str().map(str::to_string))
            .unwrap_or_default();
        let hook = map
            .and_then(|m| m.get("metadata"))
            .and_then(|md| md.as_map().and_then(|md| md.get("annotations")))
            .and_then(|a| a.as_map().and_then(|a| a.get("helm.sh/hook")))
            .and_then(|h| h.as_str().map(str::to_string));
        // The object is the document read the way the API server reads it (sigs.k8s.io/yaml):
        // a whole number is an integer (`replicas: 2`), not Helm's float64 of values.
        let object = if object {
            chart_values::integral_floats_as_integers(doc.to_json())
        } else {
            Value::Null
        };
        Head { kind, hook, object }
    }
}

/// What the second thread of a concurrent render is asked to help with.
enum Phase {
    Parse,
    Render,
}

impl Render<'_> {
    fn env(&self, index: usize) -> Env {
        let e = *self.entropy;
        let mut env = Env::seeded_by(e.now_unix, e.now_nanos, move || {
            use sha2::Digest as _;
            let mut h = sha2::Sha256::new();
            h.update(e.seed);
            h.update((index as u64).to_le_bytes());
            h.finalize().into()
        });
        env.lint_mode = self.how.lint;
        env
    }

    /// Every template in one set, in Helm's order; the first that fails to parse is the error.
    fn parse_all(&self) -> Result<gotpl::Templates, RenderError> {
        let mut set = gotpl::Templates::new(self.funcs.clone());
        for r in self.list {
            set.parse(&r.name, &r.text)
                .map_err(|e| template_error(self.chart, &r.name, &e))?;
        }
        Ok(set)
    }

    /// Renders `r` with `data` as `.` (its `Template` already set, see [`template_value`]) and
    /// reads its documents.
    fn render(
        &self,
        set: &gotpl::Templates,
        index: usize,
        r: &Renderable,
        data: &MapRef,
        host: &mut dyn gotpl::funcs::Host,
    ) -> Done {
        let text = set
            .execute(
                &r.name,
                &GValue::Map(data.clone()),
                self.opts,
                &mut self.env(index),
                host,
            )
            .map(|out| out.replace("<no value>", ""));
        let docs = match &text {
            Ok(t) if !r.name.ends_with("NOTES.txt") && !t.trim().is_empty() => split_manifests(t)
                .into_iter()
                .map(|doc| {
                    // Without objects only the kind and the hook annotation are wanted: the
                    // rest of the document is checked (a document that is not YAML is Helm's
                    // error) but not built.
                    let read = if self.how.objects {
                        gotpl::yaml::parse_document(&doc)
                    } else {
                        gotpl::yaml::parse_document_keeping(&doc, &["kind", "metadata"])
                    };
                    let head = read.map(|v| Head::read(&v, self.how.objects));
                    (doc, head)
                })
                .collect(),
            _ => Vec::new(),
        };
        Done { text, docs }
    }

    /// Helm's way: one template after the other over the shared maps (a template's `set` on
    /// `.Values` is seen by the next one), and `lookup` asks `host`.
    fn sequential(&self, set: &gotpl::Templates, host: &mut dyn gotpl::funcs::Host) -> Vec<Done> {
        self.jobs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.data.insert("Template", template_value(r));
                self.render(set, i, r, &r.data, host)
            })
            .collect()
    }

    /// Offline on two threads (this one and one more): both parse templates, then both render
    /// them, each template as a [`gotpl::speculate`] on its own copy of its top-level data.
    /// When any template wrote to a map it shares with others (`set .Values ...`, `merge
    /// .Values ...`), where Helm's order would show in the output, the write was diverted and
    /// everything renders again [`Render::sequential`]ly.
    fn concurrent(&self) -> Result<Vec<Done>, RenderError> {
        use std::sync::Mutex;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let checker = gotpl::Templates::new(self.funcs.clone());
        let parsed: Vec<Mutex<Option<Result<gotpl::Parsed, gotpl::Error>>>> =
            self.list.iter().map(|_| Mutex::new(None)).collect();
        let copies: Vec<MapRef> = self
            .jobs
            .iter()
            .map(|r| {
                let mut data = r.data.snapshot();
                data.insert("Template".into(), template_value(r));
                MapRef::new(data)
            })
            .collect();
        let done: Vec<Mutex<Option<(Done, bool)>>> =
            self.jobs.iter().map(|_| Mutex::new(None)).collect();
        let set_slot: std::sync::OnceLock<gotpl::Templates> = std::sync::OnceLock::new();
        let (next_parse, next_render) = (AtomicUsize::new(0), AtomicUsize::new(0));
        // Longest first, so that the two threads finish together: parsing by length, rendering
        // by length times the `range`s a template has (loops render their body again).
        let mut parse_order: Vec<usize> = (0..self.list.len()).collect();
        parse_order.sort_by_key(|&i| std::cmp::Reverse(self.list[i].text.len()));
        let mut render_order: Vec<usize> = (0..self.jobs.len()).collect();
        render_order.sort_by_key(|&i| {
            let t = &self.jobs[i].text;
            std::cmp::Reverse(t.len() * (1 + t.matches("range").count()))
        });
        fn put<T>(slot: &Mutex<Option<T>>, v: T) {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
        }
        let parse_some = || loop {
            let Some(&i) = parse_order.get(next_parse.fetch_add(1, Ordering::Relaxed)) else {
                return;
            };
            let r = &self.list[i];
            put(&parsed[i], checker.parse_alone(&r.name, &r.text));
        };
        let render_some = || {
            let Some(set) = set_slot.get() else {
                return;
            };
            loop {
                let Some(&i) = render_order.get(next_render.fetch_add(1, Ordering::Relaxed)) else {
                    return;
                };
                let r = self.jobs[i];
                let out = gotpl::speculate(i as u64 + 1, || {
                    self.render(set, i, r, &copies[i], &mut Offline)
                });
                put(&done[i], out);
            }
        };
        let failed = std::thread::scope(|s| {
            let (go, orders) = std::sync::mpsc::channel::<Phase>();
            let (finished, reports) = std::sync::mpsc::channel::<()>();
            let helper = super::render_thread()
                .spawn_scoped(s, move || {
                    for phase in orders {
                        match phase {
                            Phase::Parse => parse_some(),
                            Phase::Render => render_some(),
                        }
                        if finished.send(()).is_err() {
                            return;
                        }
                    }
                })
                .is_ok();
            // Runs a phase here and on the helper; returns when both are through (a helper that
            // died leaves slots empty: they are done again below).
            let both = |phase: Phase, here: &dyn Fn()| {
                let sent = helper && go.send(phase).is_ok();
                here();
                if sent {
                    let _ = reports.recv();
                }
            };
            both(Phase::Parse, &parse_some);
            let mut set = gotpl::Templates::new(self.funcs.clone());
            for (r, slot) in self.list.iter().zip(&parsed) {
                let p = slot
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_else(|| checker.parse_alone(&r.name, &r.text));
                match p {
                    Ok(p) => set.add(p),
                    Err(e) => return Some(template_error(self.chart, &r.name, &e)),
                }
            }
            let _ = set_slot.set(set);
            both(Phase::Render, &render_some);
            None
        });
        if let Some(e) = failed {
            return Err(e);
        }
        let Some(set) = set_slot.get() else {
            return Ok(Vec::new());
        };
        let outcomes: Vec<Option<(Done, bool)>> = done
            .into_iter()
            .map(|slot| slot.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect();
        if outcomes
            .iter()
            .any(|o| o.as_ref().is_none_or(|(_, diverted)| *diverted))
        {
            return Ok(self.sequential(set, &mut Offline));
        }
        Ok(outcomes.into_iter().flatten().map(|(d, _)| d).collect())
    }
}

/// `.Template` of a template: its name and base path.
fn template_value(r: &Renderable) -> GValue {
    let mut t = GMap::new();
    t.insert("Name".into(), GValue::str(r.name.as_str()));
    t.insert("BasePath".into(), GValue::str(r.base_path.as_str()));
    GValue::map(t)
}

/// Below this much template text a chart renders on one thread: starting another costs more
/// than it saves (docs/benchmarks.md).
const PARALLEL_MIN_TEMPLATE_BYTES: usize = 16 * 1024;

/// Whether the machine has a second core for [`Render::concurrent`] (read once: it reads
/// cgroup files).
fn two_cores() -> bool {
    static TWO: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TWO.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2))
}

fn object_id(object: &Value) -> Result<ObjectId, String> {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let api_version = s(object.get("apiVersion"));
    let kind = s(object.get("kind"));
    if api_version.is_empty() {
        return Err("object has no `apiVersion`".into());
    }
    if kind.is_empty() {
        return Err("object has no `kind`".into());
    }
    let meta = object.get("metadata");
    let name = s(meta.and_then(|m| m.get("name")));
    if name.is_empty() {
        return Err(format!("{kind} has no `metadata.name`"));
    }
    let namespace = if super::CLUSTER_SCOPED_KINDS.contains(&kind.as_str()) {
        String::new()
    } else {
        s(meta.and_then(|m| m.get("namespace")))
    };
    Ok(ObjectId {
        group: ObjectId::group_of(&api_version).to_string(),
        kind,
        namespace,
        name,
    })
}

/// The format-blind render of a chart (used by `render::render`), with the clock and
/// randomness of `ctx.entropy`.
pub(super) fn render(
    chart: &Chart,
    values: &Value,
    ctx: &RenderContext,
) -> Result<Rendered, RenderError> {
    let out = render_chart_here(chart, values, ctx, How::default(), None)?;
    Ok(Rendered {
        objects: out.objects,
        notes: out.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_helm() {
        assert_eq!(split_manifests("a: 1\n---\nb: 2\n"), ["a: 1", "b: 2"]);
        assert_eq!(split_manifests("---\na: 1\n---\nb: 2"), ["a: 1", "b: 2"]);
        assert_eq!(
            split_manifests("a: 1\n---\n   \n---\nb"),
            ["a: 1", "---\nb"]
        );
        assert_eq!(split_manifests("a: '---'\n"), ["a: '---'"]);
    }

    #[test]
    fn kind_order() {
        let mut kinds = vec!["Foo", "Deployment", "", "Service", "Bar", "Namespace"];
        kinds.sort_by(|a, b| by_kind(a, b));
        assert_eq!(
            kinds,
            ["Namespace", "Service", "Deployment", "", "Bar", "Foo"]
        );
    }
}
