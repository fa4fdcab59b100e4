//! `lint`: check a package renders and follows the rules in `lint`.

use std::path::PathBuf;

use super::{Generation, OpError, ValuesSources, resolve_values};
use crate::lint::{self, Finding, Severity};
use crate::model::{ReleaseName, ServiceMapName};
use crate::package::Package;
use crate::render::{self, Capabilities, ReleaseInfo, RenderContext};
use crate::values::{self, ValuesInput};

#[derive(Debug, Clone)]
pub struct LintOptions {
    pub source: PathBuf,
    /// Extra values applied to every variant.
    pub values: ValuesSources,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LintOutcome {
    pub package: String,
    pub version: String,
    /// The value sets rendered: `defaults`, then each `tests/*.values.yaml`.
    pub variants: Vec<String>,
    pub findings: Vec<Finding>,
}

impl LintOutcome {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
}

pub fn lint(opts: &LintOptions) -> Result<LintOutcome, OpError> {
    let pkg = super::load_package(&opts.source, None)?;
    let base = opts.values.read()?;
    lint_package(&pkg, &base)
}

/// Lints a loaded package with extra values applied to every variant.
pub fn lint_package(pkg: &Package, base: &ValuesInput) -> Result<LintOutcome, OpError> {
    let mut findings = lint::lint_package(pkg);
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
    let ctx = RenderContext {
        release: ReleaseInfo {
            name: ReleaseName::new("lint").map_err(|e| OpError::Invalid(e.to_string()))?,
            service_map: ServiceMapName::new("lint")
                .map_err(|e| OpError::Invalid(e.to_string()))?,
            revision: 1,
            is_install: true,
            is_upgrade: false,
        },
        capabilities: Capabilities::default(),
    };
    for (name, input) in &variants {
        let result = resolve_values(pkg, input, Generation::Placeholder)
            .and_then(|r| Ok(render::render(pkg, &r.values, &ctx)?));
        match result {
            Ok(rendered) => findings.extend(lint::lint_objects(&rendered.objects, name)),
            Err(OpError::Values(values::ValuesError::Schema(violations))) => {
                for v in violations {
                    findings.push(Finding {
                        severity: Severity::Error,
                        rule: "schema",
                        subject: name.clone(),
                        message: format!("{}: {}", v.path, v.message),
                    });
                }
            }
            Err(e) => findings.push(Finding {
                severity: Severity::Error,
                rule: "render",
                subject: name.clone(),
                message: crate::error_chain(&e),
            }),
        }
    }
    findings.sort_by_key(|f| f.severity);
    Ok(LintOutcome {
        package: pkg.manifest.name.to_string(),
        version: pkg.manifest.version.to_string(),
        variants: variants.into_iter().map(|(n, _)| n).collect(),
        findings,
    })
}
