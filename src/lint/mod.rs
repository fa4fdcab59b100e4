//! Lint rules: what makes a package good to run, beyond rendering. Pure, no IO.
//!
//! Errors make `cocktail-pkg lint` exit 1; warnings are advice (they fail too with `--strict`);
//! infos never fail. Rules look at the package itself and at each rendered variant (defaults,
//! and each `tests/*.values.yaml`). Helm charts get Helm's lint rules instead ([`chart`]), plus
//! ours on their rendered objects ([`lint_chart_objects`]).

pub mod chart;
pub mod deprecations;

use serde::Serialize;
use serde_json::Value;

use crate::model::{ReleaseName, ServiceMapName};
use crate::package::Package;
use crate::render::{self, Capabilities, ReleaseInfo, RenderContext, RenderedObject, labels};
use crate::values::{self, ValuesError, ValuesInput};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// Advice that never fails lint (Helm's `[INFO]`).
    Info,
}

impl Severity {
    /// How the table shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// The rule's short name (`image-tag`).
    pub rule: &'static str,
    /// What it is about: `package.yaml`, or `Deployment/web (templates/web.yaml)`.
    pub subject: String,
    pub message: String,
}

fn finding(
    severity: Severity,
    rule: &'static str,
    subject: impl Into<String>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        severity,
        rule,
        subject: subject.into(),
        message: message.into(),
    }
}

/// Everything lint found in a package: the rules on the package itself and on each rendered
/// variant. Used by `cocktail-pkg lint` and by the server before it publishes an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The value sets rendered: `defaults`, then each `tests/*.values.yaml`.
    pub variants: Vec<String>,
    /// Errors first, then warnings.
    pub findings: Vec<Finding>,
}

/// Resolves one variant's values with placeholders for generated values, then checks the schema.
fn resolve_placeholder_values(pkg: &Package, input: &ValuesInput) -> Result<Value, ValuesError> {
    let mut resolved = values::resolve(&pkg.values, input)?;
    if let Some(schema_json) = &pkg.schema_json {
        let paths = values::generated_paths(schema_json)?;
        values::fill_generated(&mut resolved, &paths, &mut |kind| kind.placeholder());
    }
    if let Some(schema) = &pkg.schema {
        schema.validate(&resolved)?;
    }
    Ok(resolved)
}

/// Lints a package: the package rules, then a render with its defaults and with each
/// `tests/*.values.yaml`, each with `base` (the user's extra values) applied on top. A variant
/// that does not resolve or render is a finding, not an error.
pub fn lint_variants(pkg: &Package, base: &ValuesInput) -> Report {
    let mut findings = lint_package(pkg);
    let mut variants: Vec<(String, ValuesInput)> = vec![("defaults".into(), base.clone())];
    for (path, bytes) in &pkg.files {
        if path.starts_with("tests/") && path.ends_with(".values.yaml") {
            let mut input = ValuesInput {
                files: vec![(path.clone(), String::from_utf8_lossy(bytes).into_owned())],
                ..Default::default()
            };
            input.files.extend(base.files.iter().cloned());
            input.set = base.set.clone();
            input.set_string = base.set_string.clone();
            input.set_file = base.set_file.clone();
            input.set_json = base.set_json.clone();
            variants.push((path.clone(), input));
        }
    }
    let release = ReleaseName::new("lint").and_then(|name| {
        Ok(ReleaseInfo {
            name,
            service_map: ServiceMapName::new("lint")?,
            revision: 1,
            is_install: true,
            is_upgrade: false,
        })
    });
    let ctx = match release {
        Ok(release) => RenderContext {
            release,
            capabilities: Capabilities::default(),
            // Reproducible: lint runs the same way every time.
            entropy: Default::default(),
        },
        Err(e) => {
            findings.push(finding(
                Severity::Error,
                "render",
                "defaults",
                crate::error_chain(&e),
            ));
            return Report {
                variants: variants.into_iter().map(|(n, _)| n).collect(),
                findings,
            };
        }
    };
    for (name, input) in &variants {
        let rendered = resolve_placeholder_values(pkg, input)
            .map_err(RenderOrValues::Values)
            .and_then(|v| render::render(pkg, &v, &ctx).map_err(RenderOrValues::Render));
        match rendered {
            Ok(rendered) => findings.extend(lint_objects(&rendered.objects, name)),
            Err(RenderOrValues::Values(ValuesError::Schema(violations))) => {
                for v in violations {
                    findings.push(finding(
                        Severity::Error,
                        "schema",
                        name.clone(),
                        format!("{}: {}", v.path, v.message),
                    ));
                }
            }
            Err(RenderOrValues::Values(e)) => {
                findings.push(finding(
                    Severity::Error,
                    "render",
                    name.clone(),
                    crate::error_chain(&e),
                ));
            }
            Err(RenderOrValues::Render(e)) => {
                findings.push(finding(
                    Severity::Error,
                    "render",
                    name.clone(),
                    crate::error_chain(&e),
                ));
            }
        }
    }
    findings.sort_by_key(|f| f.severity);
    Report {
        variants: variants.into_iter().map(|(n, _)| n).collect(),
        findings,
    }
}

enum RenderOrValues {
    Values(ValuesError),
    Render(render::RenderError),
}

/// Rules on the package itself (manifest, files, schema).
pub fn lint_package(pkg: &Package) -> Vec<Finding> {
    use Severity::*;
    let mut out: Vec<Finding> = pkg
        .warnings
        .iter()
        .map(|w| finding(Warning, "manifest", "package.yaml", w.clone()))
        .collect();
    let m = &pkg.manifest;
    if m.description.as_deref().is_none_or(str::is_empty) {
        out.push(finding(
            Warning,
            "manifest",
            "package.yaml",
            "`description` is missing: the catalog shows it",
        ));
    }
    if m.app_version.is_none() {
        out.push(finding(
            Warning,
            "manifest",
            "package.yaml",
            "`appVersion` is missing: the version of the software the package deploys",
        ));
    }
    if m.kube_version.is_none() {
        out.push(finding(
            Warning,
            "manifest",
            "package.yaml",
            "`kubeVersion` is missing: say which Kubernetes versions the package supports",
        ));
    }
    if pkg.schema.is_none() {
        out.push(finding(
            Warning,
            "schema",
            "values.schema.json",
            "the package has no values.schema.json: wrong values are caught only when rendering",
        ));
    }
    if pkg.readme.is_none() {
        out.push(finding(
            Warning,
            "files",
            "README.md",
            "the package has no README.md",
        ));
    }
    if !pkg.has_notes() {
        out.push(finding(
            Warning,
            "files",
            "NOTES.txt",
            "the package has no NOTES.txt telling users how to reach the software",
        ));
    }
    out
}

const LONG_RUNNING: &[&str] = &["Deployment", "StatefulSet", "DaemonSet"];
const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

/// The pod template's `metadata` and `spec` of a workload, if it is one.
pub fn pod_template(obj: &RenderedObject) -> Option<(&Value, &Value)> {
    let spec = obj.object.get("spec")?;
    let template = match obj.id.kind.as_str() {
        "CronJob" => spec.get("jobTemplate")?.get("spec")?.get("template")?,
        k if WORKLOADS.contains(&k) => spec.get("template")?,
        "Pod" => return Some((obj.object.get("metadata")?, spec)),
        _ => return None,
    };
    Some((
        template.get("metadata").unwrap_or(&Value::Null),
        template.get("spec")?,
    ))
}

/// Rules on rendered objects. `variant` names the values used (`defaults`, `tests/tls.values.yaml`).
pub fn lint_objects(objects: &[RenderedObject], variant: &str) -> Vec<Finding> {
    use Severity::*;
    let mut out = Vec::new();
    for o in objects {
        let subject = if variant == "defaults" {
            format!("{}/{} ({})", o.id.kind, o.id.name, o.template)
        } else {
            format!(
                "{}/{} ({}, with {variant})",
                o.id.kind, o.id.name, o.template
            )
        };
        if !is_dns_subdomain(&o.id.name) {
            out.push(finding(Error, "object-name", &subject, format!("`{}` is not a valid object name (lowercase letters, digits, `-` and `.`, at most 253)", o.id.name)));
        }
        let kind = o.id.kind.as_str();
        if WORKLOADS.contains(&kind) {
            let has_group = o
                .object
                .pointer("/metadata/labels")
                .and_then(|l| l.get(labels::WORKLOAD_GROUP))
                .is_some();
            if !has_group {
                out.push(finding(
                    Warning,
                    "workload-group",
                    &subject,
                    format!(
                        "workloads should carry the `{}` label so the service map can group them",
                        labels::WORKLOAD_GROUP
                    ),
                ));
            }
        }
        let Some((meta, spec)) = pod_template(o) else {
            continue;
        };
        if WORKLOADS.contains(&kind) {
            for l in [labels::NAME, labels::INSTANCE] {
                if meta
                    .pointer(&format!("/labels/{}", l.replace('/', "~1")))
                    .is_none()
                {
                    out.push(finding(
                        Warning,
                        "labels",
                        &subject,
                        format!("the pod template should carry the `{l}` label"),
                    ));
                }
            }
        }
        for (field, is_init) in [("initContainers", true), ("containers", false)] {
            let Some(Value::Array(containers)) = spec.get(field) else {
                continue;
            };
            for c in containers {
                let cname = c.get("name").and_then(Value::as_str).unwrap_or("?");
                let image = c.get("image").and_then(Value::as_str).unwrap_or("");
                if let Some(problem) = image_problem(image) {
                    out.push(finding(
                        Error,
                        "image-tag",
                        &subject,
                        format!("container `{cname}` {problem}"),
                    ));
                }
                out.extend(container_resources(c, cname, &subject, Warning));
                if !is_init && LONG_RUNNING.contains(&kind) {
                    out.extend(container_probes(c, cname, &subject));
                }
            }
        }
    }
    out
}

/// Our rules on a Helm chart's rendered objects, all warnings: pinned images, resource requests
/// and limits, readiness and liveness probes. (Our labels and the workload-group label are
/// added to chart objects at install time, and Helm's rules already check names.) Subjects
/// read `Deployment/web (templates/web.yaml)`.
pub fn lint_chart_objects(objects: &[RenderedObject]) -> Vec<Finding> {
    use Severity::*;
    let mut out = Vec::new();
    for o in objects {
        let subject = format!("{}/{} ({})", o.id.kind, o.id.name, o.template);
        let kind = o.id.kind.as_str();
        let Some((_, spec)) = pod_template(o) else {
            continue;
        };
        for (field, is_init) in [("initContainers", true), ("containers", false)] {
            let Some(Value::Array(containers)) = spec.get(field) else {
                continue;
            };
            for c in containers {
                let cname = c.get("name").and_then(Value::as_str).unwrap_or("?");
                let image = c.get("image").and_then(Value::as_str).unwrap_or("");
                if let Some(problem) = image_problem(image) {
                    out.push(finding(
                        Warning,
                        "image-tag",
                        &subject,
                        format!("container `{cname}` {problem}"),
                    ));
                }
                out.extend(container_resources(c, cname, &subject, Warning));
                if !is_init && LONG_RUNNING.contains(&kind) {
                    out.extend(container_probes(c, cname, &subject));
                }
            }
        }
    }
    out
}

fn container_resources(c: &Value, cname: &str, subject: &str, severity: Severity) -> Vec<Finding> {
    let res = c.get("resources");
    let has = |k: &str| {
        res.and_then(|r| r.get(k))
            .is_some_and(|v| v.as_object().is_some_and(|m| !m.is_empty()))
    };
    let mut out = Vec::new();
    if !has("requests") {
        out.push(finding(
            severity,
            "resources",
            subject,
            format!("container `{cname}` has no resource requests"),
        ));
    }
    if !has("limits") {
        out.push(finding(
            severity,
            "resources",
            subject,
            format!("container `{cname}` has no resource limits"),
        ));
    }
    out
}

fn container_probes(c: &Value, cname: &str, subject: &str) -> Vec<Finding> {
    ["readinessProbe", "livenessProbe"]
        .into_iter()
        .filter(|probe| c.get(probe).is_none())
        .map(|probe| {
            finding(
                Severity::Warning,
                "probes",
                subject,
                format!("container `{cname}` has no {probe}"),
            )
        })
        .collect()
}

/// Why an image reference is not pinned, if it is not.
pub fn image_problem(image: &str) -> Option<String> {
    if image.is_empty() {
        return Some("has no image".into());
    }
    if image.contains('@') {
        return None; // pinned by digest
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some(format!("uses image `{image}` without a tag; pin a version")),
        Some((_, "latest")) => Some(format!(
            "uses image `{image}`; pin a version instead of `latest`"
        )),
        Some((_, "")) => Some(format!("uses image `{image}` with an empty tag")),
        Some(_) => None,
    }
}

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_pins() {
        assert!(image_problem("nginx:1.27.3").is_none());
        assert!(image_problem("registry:5000/team/app:1.0").is_none());
        assert!(image_problem("nginx@sha256:abc").is_none());
        assert!(image_problem("nginx").unwrap().contains("without a tag"));
        assert!(
            image_problem("registry:5000/app")
                .unwrap()
                .contains("without a tag")
        );
        assert!(image_problem("nginx:latest").unwrap().contains("latest"));
    }

    #[test]
    fn names() {
        assert!(is_dns_subdomain("web-1.a"));
        assert!(!is_dns_subdomain("Web"));
        assert!(!is_dns_subdomain("-a"));
    }
}
