//! Rendering: package + values -> Kubernetes objects, whatever the package's format.
//!
//! A format module turns its templates into text ([`cocktail`]: minijinja); this module owns
//! what every format shares: the render thread with a large stack (deep recursion in hostile
//! templates hits the format's limit, not the end of the stack), splitting the output into YAML
//! documents parsed on worker threads while templates are still rendering, the object checks
//! (`apiVersion`, `kind`, `metadata.name`), the service map's namespace, the standard labels and
//! duplicate detection. Everything after rendering (plan, apply, records, status) sees only
//! [`Rendered`] and never asks which format produced it. Pure and deterministic: no clock, no
//! randomness, no cluster lookups.

pub mod chart;
pub mod cocktail;

use std::collections::HashMap;

use semver::Version;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::package::{self, Format, Package};
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
    /// A chart's template failed; `message` is in Helm's words (`parse error at (x/templates/a.yaml:3): ...`).
    #[error("failed to render chart `{chart}`: {message}")]
    ChartTemplate {
        chart: String,
        kind: TemplateFailure,
        message: String,
    },
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
            RenderError::ChartTemplate { kind, .. } => match kind {
                TemplateFailure::OutOfFuel => Some(
                    "a template hit a limit (steps, output size or nesting); look for a runaway loop, a recursive include or a huge repeat".into(),
                ),
                TemplateFailure::Syntax => Some("see https://pkg.go.dev/text/template for the template language".into()),
                _ => None,
            },
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
    /// The clock and randomness a chart's templates may use (`now`, `randAlphaNum`, `genCA`).
    pub entropy: Entropy,
}

/// The outside world a render may see, passed in as data so rendering stays pure: the time, and
/// a seed for a chart's random functions (from the operating system in `ops`; the default,
/// all zeros, gives reproducible output for `lint`, tests and benchmarks). Our own format uses
/// neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entropy {
    pub now_unix: i64,
    pub now_nanos: u32,
    pub seed: [u8; 32],
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
    /// A YAML stream with a `# Source: TEMPLATE` comment before each object, for templates
    /// named with their chart already (`CHART/templates/x.yaml`).
    pub fn to_yaml_stream_as_named(&self) -> Result<String, yaml::YamlError> {
        let mut out = String::new();
        for o in &self.objects {
            out.push_str("---\n# Source: ");
            out.push_str(&o.template);
            out.push('\n');
            out.push_str(&yaml::to_string(&o.object)?);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        Ok(out)
    }

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
    if let Format::Cocktail(_) = &pkg.format {
        check_kube_version(pkg, &ctx.capabilities.kube_version)?;
    }
    on_render_stack(|| match &pkg.format {
        Format::Cocktail(templates) => cocktail::render(pkg, templates, values, ctx),
        Format::Chart(c) => chart::render(c, values, ctx),
    })
}

thread_local! {
    /// Whether this thread's stack may grow to [`RENDER_STACK_BYTES`] (see
    /// [`grow_main_stack`]).
    static BIG_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Lets the process's main thread render in place, as a render thread would: on Linux the main
/// thread's stack grows on demand up to the soft `RLIMIT_STACK` read at each fault (8 MiB by
/// default, with at least 128 MiB kept free below it), so raising that limit to
/// [`RENDER_STACK_BYTES`] gives this thread the render stack without starting a thread, whose
/// start, first allocations and exit cost more than a small chart's whole render. Where the
/// hard limit forbids it (or elsewhere than Linux) renders keep their own thread. Call it from
/// `main`, on the main thread, before anything else; child processes inherit the limit.
pub fn grow_main_stack() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let want = RENDER_STACK_BYTES as u64;
        let now = getrlimit(Resource::Stack);
        let big = match now.current {
            None => true,
            Some(current) if current >= want => true,
            Some(_) if now.maximum.is_some_and(|max| max < want) => false,
            Some(_) => {
                let raised = Rlimit {
                    current: Some(want),
                    maximum: now.maximum,
                };
                setrlimit(Resource::Stack, raised).is_ok()
            }
        };
        BIG_STACK.with(|b| b.set(big));
    }
}

/// Runs `render` with [`RENDER_STACK_BYTES`] of stack: deep recursion in hostile templates
/// meets the engines' limits, not the end of a test's or worker's stack. On a thread of its own,
/// unless this thread's stack may grow that far ([`grow_main_stack`]); a panic is an error
/// either way.
pub(crate) fn on_render_stack<T: Send>(
    render: impl FnOnce() -> Result<T, RenderError> + Send,
) -> Result<T, RenderError> {
    if BIG_STACK.with(std::cell::Cell::get) {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(render))
            .map_err(|_| RenderError::Thread("the render panicked".into()))?;
    }
    std::thread::scope(|s| {
        render_thread()
            .spawn_scoped(s, render)
            .map_err(|e| RenderError::Thread(e.to_string()))?
            .join()
            .map_err(|_| RenderError::Thread("the render thread panicked".into()))?
    })
}

/// A thread named `render` with the render stack.
pub(crate) fn render_thread() -> std::thread::Builder {
    std::thread::Builder::new()
        .name("render".into())
        .stack_size(RENDER_STACK_BYTES)
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

/// Emits one template's rendered text (`path`, `text`) into [`parse_rendered`].
pub type Emit<'a> = dyn FnMut(&str, String) -> Result<(), RenderError> + 'a;

/// Parses what a format's templates render into checked, namespaced, labelled, unique objects.
///
/// `produce` renders the templates in order and hands each one's text to `emit`. Parsing runs
/// on worker threads fed while templates are still rendering; results come back in document
/// order, and the first failure in document order is the one reported, so errors are
/// deterministic.
pub fn parse_rendered(
    pkg: &Package,
    ctx: &RenderContext,
    produce: &mut dyn FnMut(&mut Emit<'_>) -> Result<(), RenderError>,
) -> Result<Vec<RenderedObject>, RenderError> {
    let package = pkg.manifest.name.to_string();
    let (docs, finished) = split_and_parse(pkg, ctx, &package, produce)?;
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
    Ok(objects)
}

fn split_and_parse(
    pkg: &Package,
    ctx: &RenderContext,
    package: &str,
    produce: &mut dyn FnMut(&mut Emit<'_>) -> Result<(), RenderError>,
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
        let mut emit = |path: &str, text: String| -> Result<(), RenderError> {
            {
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
                        template: path.to_string(),
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
        let produced = produce(&mut emit);
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

/// Checks the required fields, sets the namespace and adds the standard labels.
fn finish_object(
    value: Value,
    pkg: &Package,
    ctx: &RenderContext,
) -> Result<(ObjectId, Value), String> {
    finish(value, pkg, ctx, true)
}

/// Checks an object's required fields, gives a namespaced object without a namespace the
/// service map's, and with `label` adds the standard labels the object does not set itself.
pub fn finish(
    mut value: Value,
    pkg: &Package,
    ctx: &RenderContext,
    label: bool,
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
    if label {
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
