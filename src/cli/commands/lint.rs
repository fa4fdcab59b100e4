use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, ValuesArgs, exit};
use crate::lint::Severity;
use crate::ops::lint::{self, LintOptions};

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Package directory, NAME-VERSION.tgz archive, or REPO/NAME[@VERSION-REQ] from a repository.
    #[arg(value_name = "PKG")]
    pub package: PathBuf,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Output format for the findings.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn run(args: LintArgs, printer: &Printer) -> anyhow::Result<u8> {
    let outcome = lint::lint(&LintOptions {
        source: args.package.clone(),
        values: args.values.sources(),
    })?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&outcome)?)?,
        OutputFormat::Yaml => write!(out, "{}", crate::yaml::to_string(&outcome)?)?,
        OutputFormat::Table => {
            for f in &outcome.findings {
                let sev = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                writeln!(out, "{sev:<8} {:<15} {}: {}", f.rule, f.subject, f.message)?;
            }
        }
    }
    out.flush().context("failed to write to stdout")?;
    let summary = format!(
        "{} {}: {} error(s), {} warning(s) across {} value set(s)",
        outcome.package,
        outcome.version,
        outcome.errors(),
        outcome.warnings(),
        outcome.variants.len()
    );
    if outcome.errors() > 0 {
        printer.error(&format!("lint failed for {summary}"), &[], None);
        Ok(exit::FAILURE)
    } else {
        printer.status("Linted", &summary);
        Ok(exit::OK)
    }
}
