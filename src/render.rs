//! Rendering: package templates + values -> Kubernetes objects.
//!
//! One minijinja environment per render, loaded from the package's in-memory templates (no file
//! system loader). Undefined values are errors when printed, iterated or looked into (an `if` on
//! an undefined value is false, so optional blocks read naturally). Fuel and a recursion limit
//! stop hostile templates; rendering runs on a thread with a large stack so deep recursion hits
//! the limit, not the end of the stack. Pure and deterministic: no clock, no randomness, no
//! cluster lookups.

use std::collections::HashMap;

use base64::Engine as _;
use minijinja::value::{Serde, Value as JValue};
use minijinja::{Environment, Error as JError, ErrorKind, UndefinedBehavior};
use semver::Version;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::model::{ObjectId, ReleaseName, ServiceMapName, hex};
use crate::package::{self, Package};
use crate::yaml;

/// Instructions one template may execute before it is stopped.
pub const FUEL_PER_TEMPLATE: u64 = 20_000_000;
/// minijinja's recursion limit (macros and includes cost more than one level each).
pub const RECURSION_LIMIT: usize = 500;
/// Most objects one package may render.
pub const MAX_OBJECTS: usize = 10_000;
/// Stack of the render thread: ample for `RECURSION_LIMIT`.
const RENDER_STACK_BYTES: usize = 64 * 1024 * 1024;
/// The Kubernetes version assumed when no cluster is asked (`template`, `lint`).
pub const DEFAULT_KUBE_VERSION: &str = "1.33.0";
/// API versions assumed available when no cluster is asked.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "apps/v1",
    "batch/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "networking.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
    "storage.k8s.io/v1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "apiextensions.k8s.io/v1",
    "admissionregistration.k8s.io/v1",
];
/// Kinds that live outside any namespace; every other kind gets the service map's namespace.
pub const CLUSTER_SCOPED_KINDS: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

/// Label keys every rendered object carries.
pub mod labels {
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
    pub const INSTANCE: &str = "app.kubernetes.io/instance";
    pub const NAME: &str = "app.kubernetes.io/name";
    pub const VERSION: &str = "app.kubernetes.io/version";
    pub const PACKAGE: &str = "cocktail.io/package";
    pub const WORKLOAD_GROUP: &str = "cocktail.io/workload-group";
    /// The value of `app.kubernetes.io/managed-by`.
    pub const MANAGER: &str = "cocktail-pkg";
}

/// A render that failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("failed to render {template} of package `{package}`{}: {message}", line_suffix(*.line))]
    Template {
        package: String,
        template: String,
        line: Option<usize>,
        kind: TemplateFailure,
        message: String,
    },
    #[error(
        "{template} of package `{package}` produced invalid YAML (document {document}, starting at line {line})"
    )]
    Yaml {
        package: String,
        template: String,
        document: usize,
        line: usize,
        #[source]
        source: yaml::YamlError,
    },
    #[error("{template} of package `{package}`, document {document}: {message}")]
    Object {
        package: String,
        template: String,
        document: usize,
        message: String,
    },
    #[error("{id} is rendered twice: by {first} and by {second}")]
    Duplicate {
        id: Box<ObjectId>,
        first: String,
        second: String,
    },
    #[error(
        "package `{package}` requires Kubernetes {constraint}, but the target runs {kube_version}"
    )]
    KubeVersion {
        package: String,
        constraint: String,
        kube_version: Version,
    },
    #[error("package `{package}` renders more than {MAX_OBJECTS} objects")]
    TooManyObjects { package: String },
    #[error("the render thread failed: {0}")]
    Thread(String),
}

/// Why a template failed, for hints and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateFailure {
    Syntax,
    Undefined,
    OutOfFuel,
    Recursion,
    Failed,
    Other,
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

impl RenderError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RenderError::Template { kind, .. } => match kind {
                TemplateFailure::Undefined => Some(
                    "a template used a value that is not set: set it with --set or -f, or guard it with `| default(...)` or `{% if ... %}`".into(),
                ),
                TemplateFailure::OutOfFuel => Some(format!(
                    "a template may run at most {FUEL_PER_TEMPLATE} instructions; look for a runaway loop"
                )),
                TemplateFailure::Recursion => {
                    Some("a macro or include recurses too deeply; look for a macro calling itself".into())
                }
                TemplateFailure::Syntax => Some("see docs/reference/package-format.md for the template language".into()),
                _ => None,
            },
            RenderError::Yaml { .. } => Some(
                "the template's output is not valid YAML: check its indentation, and insert nested YAML with `| to_yaml | nindent(N)` or inline JSON with `| to_json`".into(),
            ),
            RenderError::Object { .. } => {
                Some("every object needs `apiVersion`, `kind` and `metadata.name`".into())
            }
            RenderError::Duplicate { .. } => {
                Some("give each object a unique name, for example prefixed with the release name".into())
            }
            RenderError::KubeVersion { .. } => Some(
                "pass --kube-version to render for another Kubernetes version, or pick a package version that supports this one".into(),
            ),
            _ => None,
        }
    }
}

/// `release` in the template context.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseInfo {
    pub name: ReleaseName,
    pub service_map: ServiceMapName,
    pub revision: u64,
    pub is_install: bool,
    pub is_upgrade: bool,
}

/// `capabilities` in the template context.
#[derive(Debug, Clone)]
pub struct Capabilities {
    pub kube_version: Version,
    pub api_versions: Vec<String>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            kube_version: Version::parse(DEFAULT_KUBE_VERSION).unwrap_or(Version::new(1, 33, 0)),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Everything a render needs besides the package and values.
#[derive(Debug, Clone)]
pub struct RenderContext {
    pub release: ReleaseInfo,
    pub capabilities: Capabilities,
}

/// One rendered object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedObject {
    /// The template that produced it (`templates/service.yaml`).
    pub template: String,
    pub id: ObjectId,
    pub object: Value,
}

/// The result of a render: objects in template order, and the rendered notes.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub objects: Vec<RenderedObject>,
    pub notes: Option<String>,
}

impl Rendered {
    /// A YAML stream with a `# Source:` comment before each object.
    pub fn to_yaml_stream(&self, package: &str) -> Result<String, yaml::YamlError> {
        let mut out = String::new();
        for o in &self.objects {
            out.push_str("---\n# Source: ");
            out.push_str(package);
            out.push('/');
            out.push_str(&o.template);
            out.push('\n');
            out.push_str(&yaml::to_string(&o.object)?);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        Ok(out)
    }
}

/// Renders `pkg` with fully resolved `values`.
pub fn render(pkg: &Package, values: &Value, ctx: &RenderContext) -> Result<Rendered, RenderError> {
    check_kube_version(pkg, &ctx.capabilities.kube_version)?;
    // Deep recursion in hostile templates needs more stack than a test or worker thread has.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("render".into())
            .stack_size(RENDER_STACK_BYTES)
            .spawn_scoped(s, || render_on_this_thread(pkg, values, ctx))
            .map_err(|e| RenderError::Thread(e.to_string()))?
            .join()
            .map_err(|_| RenderError::Thread("the render thread panicked".into()))?
    })
}

fn check_kube_version(pkg: &Package, kube: &Version) -> Result<(), RenderError> {
    let Some(constraint) = &pkg.manifest.kube_version else {
        return Ok(());
    };
    let Ok(req) = package::parse_kube_constraint(constraint) else {
        return Ok(());
    };
    // Compare without pre-release parts so `>=1.25.0-0` style constraints also work.
    let plain = Version::new(kube.major, kube.minor, kube.patch);
    if req.matches(&plain) {
        return Ok(());
    }
    Err(RenderError::KubeVersion {
        package: pkg.manifest.name.to_string(),
        constraint: constraint.clone(),
        kube_version: kube.clone(),
    })
}

fn render_on_this_thread(
    pkg: &Package,
    values: &Value,
    ctx: &RenderContext,
) -> Result<Rendered, RenderError> {
    let pkg_name = pkg.manifest.name.to_string();
    let env = environment(pkg).map_err(|e| template_error(&pkg_name, None, &e))?;
    let context = template_context(pkg, values, ctx);
    // Run the templates on this thread while worker threads parse, check and label the YAML
    // documents they produce (parsing is most of the cost of a render).
    let (docs, finished) = render_and_parse(&env, pkg, ctx, &context, &pkg_name)?;
    // De-duplicate in document order.
    let mut objects: Vec<RenderedObject> = Vec::with_capacity(finished.len());
    let mut seen: HashMap<ObjectId, usize> = HashMap::new();
    for (doc, item) in docs.into_iter().zip(finished) {
        let Some((id, object)) = item else {
            continue;
        };
        if let Some(&first) = seen.get(&id) {
            return Err(RenderError::Duplicate {
                id: Box::new(id),
                first: objects[first].template.clone(),
                second: doc.template,
            });
        }
        seen.insert(id.clone(), objects.len());
        objects.push(RenderedObject {
            template: doc.template,
            id,
            object,
        });
    }
    let notes = match &pkg.notes {
        Some(src) => Some(
            env.render_named_str("NOTES.txt", src, context.clone())
                .map_err(|e| template_error(&pkg_name, Some("NOTES.txt"), &e))?,
        ),
        None => None,
    };
    Ok(Rendered { objects, notes })
}

/// A parsed, checked and labelled object, or `None` for an empty document.
type Finished = Option<(ObjectId, Value)>;

/// One YAML document of rendered output, before parsing.
#[derive(Clone)]
struct Doc {
    template: String,
    document: usize,
    line: usize,
    text: String,
}

/// Renders every template and parses its documents. Parsing runs on worker threads fed through a
/// channel while templates are still rendering; the results come back in document order, and
/// the first failure in document order is the one reported, so errors are deterministic.
fn render_and_parse(
    env: &Environment<'_>,
    pkg: &Package,
    ctx: &RenderContext,
    context: &JValue,
    package: &str,
) -> Result<(Vec<Doc>, Vec<Finished>), RenderError> {
    use std::sync::{Arc, Mutex, mpsc};

    // Parse one document and make it an object (`None` for a `null` document).
    let parse = |doc: &Doc| -> Result<Finished, RenderError> {
        let value: Value = yaml::from_str(&format!("{} (rendered)", doc.template), &doc.text)
            .map_err(|source| RenderError::Yaml {
                package: package.to_string(),
                template: doc.template.clone(),
                document: doc.document,
                line: doc.line,
                source,
            })?;
        if value.is_null() {
            return Ok(None);
        }
        finish_object(value, pkg, ctx)
            .map(Some)
            .map_err(|message| RenderError::Object {
                package: package.to_string(),
                template: doc.template.clone(),
                document: doc.document,
                message,
            })
    };
    // One worker per core; this thread renders, then joins in parsing what is left.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    // Work goes out one template's documents at a time, to keep thread hand-offs few.
    type Batch = (usize, Vec<Arc<Doc>>);
    type Done = Vec<(usize, Result<Finished, RenderError>)>;
    let (work_tx, work_rx) = mpsc::channel::<Batch>();
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    // Takes the next queued batch, if any; `None` once the queue is closed and empty.
    let next = |rx: &Mutex<mpsc::Receiver<Batch>>, block: bool| {
        let guard = rx.lock().ok()?;
        if block {
            guard.recv().ok()
        } else {
            guard.try_recv().ok()
        }
    };
    let run = |(first, batch): Batch| -> Done {
        batch
            .iter()
            .enumerate()
            .map(|(i, doc)| (first + i, parse(doc)))
            .collect()
    };
    std::thread::scope(|s| {
        for _ in 0..workers {
            let rx = Arc::clone(&work_rx);
            let tx = done_tx.clone();
            s.spawn(move || {
                while let Some(batch) = next(&rx, true) {
                    if tx.send(run(batch)).is_err() {
                        break;
                    }
                }
            });
        }
        let mut docs: Vec<Arc<Doc>> = Vec::new();
        let mut produce = || -> Result<(), RenderError> {
            for (path, _) in pkg.rendered_templates() {
                let text = env
                    .get_template(path)
                    .and_then(|t| t.render(context.clone()))
                    .map_err(|e| template_error(package, Some(path), &e))?;
                let first = docs.len();
                for (document, (line, text)) in yaml::split_documents(&text).into_iter().enumerate()
                {
                    if yaml::is_blank(&text) {
                        continue;
                    }
                    if docs.len() >= MAX_OBJECTS {
                        return Err(RenderError::TooManyObjects {
                            package: package.to_string(),
                        });
                    }
                    docs.push(Arc::new(Doc {
                        template: path.clone(),
                        document: document + 1,
                        line,
                        text,
                    }));
                }
                if docs.len() > first {
                    // The receiver lives until the scope ends, so sending cannot fail.
                    let _ = work_tx.send((first, docs[first..].to_vec()));
                }
            }
            Ok(())
        };
        let produced = produce();
        drop(work_tx);
        drop(done_tx);
        // Help with the remaining batches instead of waiting idle.
        let mut results: Vec<Option<Result<Finished, RenderError>>> =
            (0..docs.len()).map(|_| None).collect();
        while let Some(batch) = next(&work_rx, false) {
            for (i, r) in run(batch) {
                results[i] = Some(r);
            }
        }
        for done in done_rx {
            for (i, r) in done {
                results[i] = Some(r);
            }
        }
        produced?;
        let mut values = Vec::with_capacity(results.len());
        for r in results {
            values.push(
                r.ok_or_else(|| RenderError::Thread("a YAML document was not parsed".into()))??,
            );
        }
        let docs = docs
            .into_iter()
            .map(|d| Arc::try_unwrap(d).unwrap_or_else(|d| (*d).clone()))
            .collect();
        Ok((docs, values))
    })
}

fn template_context(pkg: &Package, values: &Value, ctx: &RenderContext) -> JValue {
    let m = &pkg.manifest;
    minijinja::context! {
        values => Serde(values),
        release => Serde(&ctx.release),
        package => minijinja::context! {
            name => m.name.as_str(),
            version => m.version.to_string(),
            appVersion => m.app_version.clone().unwrap_or_default(),
        },
        capabilities => minijinja::context! {
            kubeVersion => format!("v{}", ctx.capabilities.kube_version),
            apiVersions => ctx.capabilities.api_versions.clone(),
        },
    }
}

fn template_error(package: &str, template: Option<&str>, e: &JError) -> RenderError {
    let kind = match e.kind() {
        ErrorKind::SyntaxError => TemplateFailure::Syntax,
        ErrorKind::UndefinedError => TemplateFailure::Undefined,
        ErrorKind::OutOfFuel => TemplateFailure::OutOfFuel,
        ErrorKind::InvalidOperation if e.detail() == Some("recursion limit exceeded") => {
            TemplateFailure::Recursion
        }
        ErrorKind::InvalidOperation if e.detail().is_some_and(|d| d.starts_with(FAIL_PREFIX)) => {
            TemplateFailure::Failed
        }
        _ => TemplateFailure::Other,
    };
    let mut message = match e.detail() {
        Some(d) => d.strip_prefix(FAIL_PREFIX).unwrap_or(d).to_string(),
        None => e.kind().to_string(),
    };
    if kind == TemplateFailure::Undefined && e.detail().is_none() {
        message = "undefined value".into();
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    RenderError::Template {
        package: package.to_string(),
        template: e
            .name()
            .map(str::to_string)
            .or(template.map(str::to_string))
            .unwrap_or_else(|| "a template".into()),
        line: e.line(),
        kind,
        message,
    }
}

/// Checks the required fields, sets the namespace and adds the standard labels.
fn finish_object(
    mut value: Value,
    pkg: &Package,
    ctx: &RenderContext,
) -> Result<(ObjectId, Value), String> {
    let Value::Object(obj) = &mut value else {
        return Err("an object must be a YAML map".into());
    };
    let api_version = required_str(obj, "apiVersion")?;
    let kind = required_str(obj, "kind")?;
    let meta = match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => return Err(format!("{kind} has no `metadata` map")),
    };
    let name = match meta.get("name") {
        Some(Value::String(n)) if !n.is_empty() => n.clone(),
        _ => return Err(format!("{kind} has no `metadata.name`")),
    };
    let namespaced = !CLUSTER_SCOPED_KINDS.contains(&kind.as_str());
    let namespace = if namespaced {
        match meta.get("namespace") {
            Some(Value::String(ns)) if !ns.is_empty() => ns.clone(),
            _ => {
                let ns = ctx.release.service_map.to_string();
                meta.insert("namespace".into(), Value::String(ns.clone()));
                ns
            }
        }
    } else {
        meta.remove("namespace");
        String::new()
    };
    let labels = match meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()))
    {
        Value::Object(l) => l,
        _ => return Err(format!("{kind} {name}: `metadata.labels` must be a map")),
    };
    for (k, v) in standard_labels(pkg, &ctx.release.name) {
        labels.entry(k).or_insert(Value::String(v));
    }
    order_metadata(meta);
    let id = ObjectId {
        group: ObjectId::group_of(&api_version).to_string(),
        kind,
        namespace,
        name,
    };
    Ok((id, value))
}

/// Puts `name`, `namespace`, `labels` and `annotations` first, as people write them.
fn order_metadata(meta: &mut Map<String, Value>) {
    const FIRST: [&str; 4] = ["name", "namespace", "labels", "annotations"];
    let mut ordered = Map::new();
    for k in FIRST {
        if let Some(v) = meta.remove(k) {
            ordered.insert(k.to_string(), v);
        }
    }
    ordered.append(meta);
    *meta = ordered;
}

fn required_str(obj: &Map<String, Value>, key: &str) -> Result<String, String> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(format!("`{key}` must be a non-empty string")),
        None => Err(format!("object has no `{key}`")),
    }
}

/// The standard labels for a package's objects, in a fixed order.
pub fn standard_labels(pkg: &Package, release: &ReleaseName) -> Vec<(String, String)> {
    let m = &pkg.manifest;
    let mut out = vec![
        (labels::MANAGED_BY.to_string(), labels::MANAGER.to_string()),
        (labels::INSTANCE.to_string(), release.to_string()),
        (labels::NAME.to_string(), m.name.to_string()),
    ];
    if let Some(app) = &m.app_version {
        out.push((labels::VERSION.to_string(), label_value(app)));
    }
    out.push((
        labels::PACKAGE.to_string(),
        label_value(&format!("{}-{}", m.name, m.version)),
    ));
    out
}

/// Makes `s` a valid label value: `[A-Za-z0-9._-]`, at most 63, alphanumeric at both ends.
pub fn label_value(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    mapped
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

const FAIL_PREFIX: &str = "fail: ";

fn environment(pkg: &Package) -> Result<Environment<'_>, JError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_fuel(Some(FUEL_PER_TEMPLATE));
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_path_join_callback(|name, parent| {
        if name.starts_with("templates/") {
            return name.to_string().into();
        }
        let mut parts: Vec<&str> = parent.split('/').collect();
        parts.pop();
        for seg in name.split('/') {
            match seg {
                "." | "" => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        parts.join("/").into()
    });
    // Print values the way YAML reads them back: `true`/`false`, `null` for none.
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            return out.write_str("null").map_err(JError::from);
        }
        if value.kind() == minijinja::value::ValueKind::Bool {
            let b = value.is_true();
            return out
                .write_str(if b { "true" } else { "false" })
                .map_err(JError::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
    for (path, src) in &pkg.templates {
        env.add_template(path.as_str(), src.as_str())?;
    }
    add_filters(&mut env);
    Ok(env)
}

fn to_json_value(v: &JValue) -> Result<Value, JError> {
    if v.is_undefined() {
        return Err(JError::new(
            ErrorKind::UndefinedError,
            "cannot serialize an undefined value",
        ));
    }
    serde_json::to_value(v).map_err(|e| JError::new(ErrorKind::BadSerialization, e.to_string()))
}

fn str_of(v: &JValue, what: &str) -> Result<String, JError> {
    if v.is_undefined() {
        return Err(JError::new(
            ErrorKind::UndefinedError,
            format!("{what} got an undefined value"),
        ));
    }
    if v.kind() == minijinja::value::ValueKind::Bool {
        let b = v.is_true();
        return Ok(if b { "true" } else { "false" }.to_string());
    }
    Ok(match v.as_str() {
        Some(s) => s.to_string(),
        None if v.is_none() => String::new(),
        None => v.to_string(),
    })
}

fn indent_lines(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    s.split('\n')
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `version` (`v1.30.2`, `1.30`) satisfies the requirement `constraint` (`>=1.25`).
fn semver_compare(constraint: &str, version: &JValue) -> Result<bool, JError> {
    let fail = |e: String| JError::new(ErrorKind::InvalidOperation, format!("semver_compare: {e}"));
    let req = package::parse_kube_constraint(constraint).map_err(fail)?;
    let v = package::parse_kube_version(&str_of(version, "semver_compare")?).map_err(fail)?;
    Ok(req.matches(&v))
}

fn add_filters(env: &mut Environment<'_>) {
    env.add_filter("to_yaml", |v: JValue| -> Result<String, JError> {
        let json = to_json_value(&v)?;
        let text = yaml::to_string(&json)
            .map_err(|e| JError::new(ErrorKind::BadSerialization, e.to_string()))?;
        Ok(text.trim_end_matches('\n').to_string())
    });
    env.add_filter("to_json", |v: JValue| -> Result<String, JError> {
        let json = to_json_value(&v)?;
        serde_json::to_string(&json)
            .map_err(|e| JError::new(ErrorKind::BadSerialization, e.to_string()))
    });
    env.add_filter("indent", |v: JValue, n: usize| -> Result<String, JError> {
        Ok(indent_lines(&str_of(&v, "indent")?, n))
    });
    env.add_filter("nindent", |v: JValue, n: usize| -> Result<String, JError> {
        Ok(format!("\n{}", indent_lines(&str_of(&v, "nindent")?, n)))
    });
    env.add_filter("b64encode", |v: JValue| -> Result<String, JError> {
        Ok(base64::engine::general_purpose::STANDARD.encode(str_of(&v, "b64encode")?))
    });
    env.add_filter("b64decode", |v: JValue| -> Result<String, JError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(str_of(&v, "b64decode")?.trim())
            .map_err(|e| JError::new(ErrorKind::InvalidOperation, format!("b64decode: {e}")))?;
        String::from_utf8(bytes).map_err(|_| {
            JError::new(
                ErrorKind::InvalidOperation,
                "b64decode: result is not UTF-8 text",
            )
        })
    });
    env.add_filter("sha256", |v: JValue| -> Result<String, JError> {
        Ok(hex(&Sha256::digest(str_of(&v, "sha256")?.as_bytes())))
    });
    env.add_filter("quote", |v: JValue| -> Result<String, JError> {
        Ok(Value::String(str_of(&v, "quote")?).to_string())
    });
    env.add_filter(
        "required",
        |v: JValue, message: Option<String>| -> Result<JValue, JError> {
            let missing = v.is_undefined() || v.is_none() || v.as_str() == Some("");
            if missing {
                return Err(JError::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "{FAIL_PREFIX}{}",
                        message.unwrap_or_else(|| "a required value is not set".into())
                    ),
                ));
            }
            Ok(v)
        },
    );
    env.add_filter("default", |v: JValue, fallback: Option<JValue>| -> JValue {
        if v.is_undefined() || v.is_none() {
            fallback.unwrap_or_else(|| JValue::from(""))
        } else {
            v
        }
    });
    env.add_filter("trunc", |v: JValue, n: i64| -> Result<String, JError> {
        let s = str_of(&v, "trunc")?;
        let count = s.chars().count();
        let n_abs = n.unsigned_abs() as usize;
        Ok(if n >= 0 {
            s.chars().take(n_abs).collect()
        } else {
            s.chars().skip(count.saturating_sub(n_abs)).collect()
        })
    });
    env.add_function("semver_compare", |constraint: String, version: JValue| {
        semver_compare(&constraint, &version)
    });
    env.add_filter("semver_compare", |version: JValue, constraint: String| {
        semver_compare(&constraint, &version)
    });
    env.add_function("fail", |message: String| -> Result<String, JError> {
        Err(JError::new(
            ErrorKind::InvalidOperation,
            format!("{FAIL_PREFIX}{message}"),
        ))
    });
}
