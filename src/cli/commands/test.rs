//! `test`.

use std::io::Write;

use clap::Args;

use super::settings::{Opened, TargetArgs, holder};
use crate::cli::printer::Printer;
use crate::cli::table::Table;
use crate::cli::{OutputFormat, exit};
use crate::model::ReleaseName;
use crate::ops::hooks::HookSettings;
use crate::ops::test::{TestOptions, test};

/// Runs a release's test hooks (`helm.sh/hook: test`) and reports each one. Exit 1 when a test
/// failed.
#[derive(Debug, Args)]
pub struct TestArgs {
    pub release: ReleaseName,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Run only this test (the hook object's name); repeat for several.
    #[arg(long, value_name = "NAME")]
    pub filter: Vec<String>,
    /// How long each test may run (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::time::parse_duration)]
    pub timeout: std::time::Duration,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn run(args: TestArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let out = test(
        target.as_ref(),
        &TestOptions {
            release: args.release.clone(),
            service_map,
            holder: holder(),
            now: crate::time::now(),
            filter: args.filter.clone(),
            settings: HookSettings {
                timeout: args.timeout,
                interval: crate::ops::wait::WaitOptions::new(args.timeout).interval,
            },
        },
        &mut |m| printer.status("Testing", m),
    )?;
    let mut stdout = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&out)?)?,
        OutputFormat::Yaml => write!(stdout, "{}", crate::yaml::to_string(&out)?)?,
        OutputFormat::Table => {
            if out.tests.is_empty() {
                printer.text(&format!(
                    "release `{}` revision {} has no test hooks",
                    out.release, out.revision
                ));
            } else {
                let mut table = Table::new(&["TEST", "PHASE", "STARTED", "COMPLETED", "MESSAGE"]);
                for t in &out.tests {
                    table.row([
                        format!("{}/{}", t.id.kind, t.id.name),
                        t.run.phase.clone(),
                        t.run.started.clone(),
                        t.run.completed.clone(),
                        t.run.message.clone(),
                    ]);
                }
                table.write(&mut stdout)?;
            }
        }
    }
    if out.failed() > 0 {
        printer.warning(&format!(
            "{} of {} tests failed",
            out.failed(),
            out.tests.len()
        ));
        return Ok(exit::FAILURE);
    }
    Ok(exit::OK)
}
