use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use semver::Version;

use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, ValuesArgs, exit};
use crate::model::ServiceMapName;
use crate::ops::lint::{self, ChartLintFlags, LintOptions, LintOutcome};
use crate::package::parse_kube_version;

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Package or chart directory, .tgz archive, or REPO/NAME[@VERSION-REQ] from a repository.
    #[arg(value_name = "PKG")]
    pub package: PathBuf,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Fail on warnings too, as `helm lint --strict`.
    #[arg(long)]
    pub strict: bool,
    /// Charts: also lint each chart under charts/ on its own, as `helm lint --with-subcharts`.
    #[arg(long)]
    pub with_subcharts: bool,
    /// Charts: the Kubernetes version to render for and check deprecated APIs against
    /// (default: 1.35.0, as helm).
    #[arg(long, value_name = "VERSION", value_parser = parse_kube_version)]
    pub kube_version: Option<Version>,
    /// Charts: `.Release.Namespace` while rendering (default: default, as helm).
    #[arg(short = 'n', long, visible_alias = "namespace", value_name = "NAME")]
    pub service_map: Option<ServiceMapName>,
    /// Output format for the findings.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn run(args: LintArgs, printer: &Printer) -> anyhow::Result<u8> {
    let outcome = lint::lint_with(
        &LintOptions {
            source: args.package.clone(),
            values: args.values.sources(),
        },
        &ChartLintFlags {
            with_subcharts: args.with_subcharts,
            kube_version: args.kube_version.clone(),
            namespace: args.service_map.clone(),
        },
    )?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&outcome)?)?,
        OutputFormat::Yaml => write!(out, "{}", crate::yaml::to_string(&outcome)?)?,
        OutputFormat::Table => {
            for f in &outcome.findings {
                let sev = f.severity.as_str();
                writeln!(out, "{sev:<8} {:<15} {}: {}", f.rule, f.subject, f.message)?;
            }
        }
    }
    out.flush().context("failed to write to stdout")?;
    let summary = summary(&outcome, args.strict);
    if outcome.failed(args.strict) {
        printer.error(&format!("lint failed: {summary}"), &[], None);
        Ok(exit::FAILURE)
    } else {
        printer.status("Linted", &summary);
        Ok(exit::OK)
    }
}

fn summary(outcome: &LintOutcome, strict: bool) -> String {
    let counts = format!(
        "{} error(s), {} warning(s)",
        outcome.errors(),
        outcome.warnings()
    );
    if outcome.charts.is_empty() {
        return format!(
            "{} {}: {counts} across {} value set(s)",
            outcome.package,
            outcome.version,
            outcome.variants.len()
        );
    }
    format!(
        "{} {}: {counts}, {} info(s); {} chart(s) linted, {} chart(s) failed",
        outcome.package,
        outcome.version,
        outcome.infos(),
        outcome.charts.len(),
        outcome.charts_failed(strict)
    )
}
