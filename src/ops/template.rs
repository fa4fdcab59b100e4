//! `template`: render a package locally, no cluster involved.

use std::path::{Path, PathBuf};

use semver::Version;
use serde_json::Value;

use super::{Generation, OpError, ValuesSources, resolve_values};
use crate::chart::Chart;
use crate::fsutil::write_atomic;
use crate::model::{Digest, ReleaseName, ServiceMapName};
use crate::package::Package;
use crate::render::chart::{ChartOutput, HELM_API_VERSIONS, HELM_KUBE_VERSION};
use crate::render::{self, Capabilities, ReleaseInfo, RenderContext, Rendered};

#[derive(Debug, Clone)]
pub struct TemplateOptions {
    /// A package directory or archive.
    pub source: PathBuf,
    /// When set, an archive must have this digest.
    pub digest: Option<Digest>,
    pub values: ValuesSources,
    /// Default: the package name.
    pub release_name: Option<ReleaseName>,
    pub service_map: ServiceMapName,
    pub kube_version: Option<Version>,
    /// Extra API versions to advertise in `capabilities.apiVersions`.
    pub api_versions: Vec<String>,
    pub generation: Generation,
    /// Render as an upgrade (`.Release.IsUpgrade`; charts only).
    pub is_upgrade: bool,
    /// Charts: build `rendered.objects` (`-o json`, `--output-dir`). Off, a chart's outcome has
    /// the documents `helm template` prints and no objects.
    pub objects: bool,
}

#[derive(Debug)]
pub struct TemplateOutcome {
    pub package: Package,
    pub values: Value,
    /// Paths of values that were generated (`$.auth.password`).
    pub generated: Vec<String>,
    pub rendered: Rendered,
    /// For a chart, the documents as `helm template` prints them.
    pub chart: Option<ChartOutput>,
}

/// `helm template`'s defaults for a chart (its dependencies processed by
/// [`super::resolve_chart_values`]): release `release-name`, Kubernetes v1.35.0 and Helm's API
/// versions (plus `--api-versions`).
fn template_chart(
    opts: &TemplateOptions,
    chart: &Chart,
    values: &Value,
) -> Result<ChartOutput, OpError> {
    let release_name = match &opts.release_name {
        Some(n) => n.clone(),
        None => ReleaseName::new("release-name").map_err(|e| OpError::Invalid(e.to_string()))?,
    };
    let mut api_versions: Vec<String> = HELM_API_VERSIONS.iter().map(|s| s.to_string()).collect();
    api_versions.extend(opts.api_versions.iter().cloned());
    let ctx = RenderContext {
        release: ReleaseInfo {
            name: release_name,
            service_map: opts.service_map.clone(),
            revision: 1,
            is_install: !opts.is_upgrade,
            is_upgrade: opts.is_upgrade,
        },
        capabilities: Capabilities {
            kube_version: opts.kube_version.clone().unwrap_or_else(|| {
                Version::parse(HELM_KUBE_VERSION).unwrap_or(Version::new(1, 35, 0))
            }),
            api_versions,
        },
        entropy: super::entropy()?,
    };
    Ok(render::chart::render_processed_chart(
        chart,
        values,
        &ctx,
        opts.objects,
    )?)
}

pub fn template(opts: &TemplateOptions) -> Result<TemplateOutcome, OpError> {
    let package = super::load_package(&opts.source, opts.digest.as_ref())?;
    let input = opts.values.read()?;
    if let Some(chart) = package.chart() {
        if chart.is_library() {
            // `helm template` of a library chart: "library charts are not installable".
            return Err(OpError::Refused {
                message: format!(
                    "chart `{}` is a library chart: library charts are not installable",
                    chart.name()
                ),
                hint: Some(
                    "a library chart only provides defines: render a chart that depends on it"
                        .into(),
                ),
            });
        }
        let (processed, values) = super::resolve_chart_values(chart, &input)?;
        let mut out = template_chart(opts, &processed, &values)?;
        // The objects move to `rendered` (the chart output keeps the documents as printed).
        return Ok(TemplateOutcome {
            rendered: Rendered {
                objects: std::mem::take(&mut out.objects),
                notes: out.notes.clone(),
            },
            package,
            values,
            generated: Vec::new(),
            chart: Some(out),
        });
    }
    let release_name = match &opts.release_name {
        Some(n) => n.clone(),
        None => ReleaseName::new(package.manifest.name.as_str())
            .map_err(|e| OpError::Invalid(e.to_string()))?,
    };
    let resolved = resolve_values(&package, &input, opts.generation)?;
    let values = resolved.values;
    let mut capabilities = Capabilities::default();
    if let Some(v) = &opts.kube_version {
        capabilities.kube_version = v.clone();
    }
    capabilities
        .api_versions
        .extend(opts.api_versions.iter().cloned());
    let ctx = RenderContext {
        release: ReleaseInfo {
            name: release_name,
            service_map: opts.service_map.clone(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        },
        capabilities,
        entropy: super::entropy()?,
    };
    let rendered = render::render(&package, &values, &ctx)?;
    Ok(TemplateOutcome {
        package,
        values,
        generated: resolved.generated,
        rendered,
        chart: None,
    })
}

/// Writes the rendered objects under `dir/<package>/<template path>`, one file per template,
/// each written atomically. Returns the files written.
pub fn write_output_dir(outcome: &TemplateOutcome, dir: &Path) -> Result<Vec<PathBuf>, OpError> {
    let name = outcome.package.manifest.name.to_string();
    let mut by_template: std::collections::BTreeMap<&str, String> = Default::default();
    for o in &outcome.rendered.objects {
        let text = by_template.entry(o.template.as_str()).or_default();
        text.push_str("---\n");
        text.push_str(&crate::yaml::to_string(&o.object)?);
    }
    let mut written = Vec::new();
    for (template, text) in by_template {
        let path = dir.join(&name).join(template);
        write_atomic(&path, text.as_bytes()).map_err(|source| OpError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
