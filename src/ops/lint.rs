//! `lint`: check a package renders and follows the rules in `lint`.

use std::path::PathBuf;

use super::{OpError, ValuesSources};
use crate::lint::{self, Finding, Severity};
use crate::package::Package;
use crate::values::ValuesInput;

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

/// Lints a loaded package with extra values applied to every variant (see
/// [`lint::lint_variants`]).
pub fn lint_package(pkg: &Package, base: &ValuesInput) -> Result<LintOutcome, OpError> {
    let report = lint::lint_variants(pkg, base);
    Ok(LintOutcome {
        package: pkg.manifest.name.to_string(),
        version: pkg.manifest.version.to_string(),
        variants: report.variants,
        findings: report.findings,
    })
}
