//! `show`: print parts of a package.

use std::path::PathBuf;

use super::OpError;
use crate::model::Digest;

/// Which part of the package to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowPart {
    /// `package.yaml`, normalised.
    Package,
    /// `values.yaml` as written (comments kept).
    Values,
    Readme,
    Schema,
    /// A chart's `Chart.yaml`, as `helm show chart` prints it (a package's manifest otherwise).
    Chart,
    /// A chart's CRDs (`crds/` of the chart and its sub-charts).
    Crds,
    /// Everything `helm show all` prints.
    All,
}

#[derive(Debug, Clone)]
pub struct ShowOptions {
    pub source: PathBuf,
    pub digest: Option<Digest>,
    pub part: ShowPart,
}

/// The text to print.
pub fn show(opts: &ShowOptions) -> Result<String, OpError> {
    let pkg = super::load_package(&opts.source, opts.digest.as_ref())?;
    let file = |name: &str| -> Result<String, OpError> {
        match pkg.files.get(name) {
            Some(b) => Ok(String::from_utf8_lossy(b).into_owned()),
            None => Err(OpError::Invalid(format!(
                "package `{}` has no {name}",
                pkg.manifest.name
            ))),
        }
    };
    if let Some(chart) = pkg.chart() {
        return show_chart(chart, opts.part);
    }
    match opts.part {
        ShowPart::Package | ShowPart::Chart => Ok(crate::yaml::to_string(&pkg.manifest)?),
        ShowPart::Crds => Ok(String::new()),
        ShowPart::All => {
            let mut out = crate::yaml::to_string(&pkg.manifest)?;
            for name in ["values.yaml", "README.md"] {
                if let Some(b) = pkg.files.get(name) {
                    out.push_str("---\n");
                    out.push_str(&String::from_utf8_lossy(b));
                }
            }
            Ok(out)
        }
        ShowPart::Values => file("values.yaml"),
        ShowPart::Readme => file("README.md"),
        ShowPart::Schema => file("values.schema.json"),
    }
}

/// `helm show` on a chart.
fn show_chart(chart: &crate::chart::Chart, part: ShowPart) -> Result<String, OpError> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let chart_yaml = || -> Result<String, OpError> {
        let json = chart.metadata.to_show_json();
        let yaml = gotpl::yaml::to_yaml(&crate::chart::values::to_template_value(&json))
            .map_err(|e| OpError::Invalid(format!("failed to print Chart.yaml: {}", e.0)))?;
        Ok(format!("{yaml}\n"))
    };
    let missing = |what: &str| OpError::Invalid(format!("chart `{}` has no {what}", chart.name()));
    let crds = || -> String {
        chart
            .crds("")
            .into_iter()
            .map(|(_, d)| format!("---\n{}\n", text(d)))
            .collect()
    };
    match part {
        ShowPart::Package | ShowPart::Chart => chart_yaml(),
        ShowPart::Values => Ok(chart_file(chart, "values.yaml")
            .map(text)
            .unwrap_or_default()),
        ShowPart::Readme => chart.readme().map(text).ok_or_else(|| missing("README")),
        ShowPart::Schema => chart_file(chart, "values.schema.json")
            .map(text)
            .ok_or_else(|| missing("values.schema.json")),
        ShowPart::Crds => Ok(crds()),
        ShowPart::All => {
            let mut out = chart_yaml()?;
            if let Some(v) = chart_file(chart, "values.yaml") {
                out.push_str(&format!("---\n{}\n", text(v)));
            }
            if let Some(r) = chart.readme() {
                out.push_str(&format!("---\n{}\n", text(r)));
            }
            out.push_str(&crds());
            Ok(out)
        }
    }
}

/// The raw text of `values.yaml` or `values.schema.json`, which the chart keeps parsed only.
fn chart_file<'a>(chart: &'a crate::chart::Chart, name: &str) -> Option<&'a [u8]> {
    chart.raw.get(name).map(Vec::as_slice)
}
