use std::path::PathBuf;

use clap::Args;

use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::ops::docs::{self, DocsMode, DocsOptions, DocsOutcome};

#[derive(Debug, Args)]
#[command(
    after_long_help = "A Helm chart (a folder with Chart.yaml) gets one row per value of values.yaml (dotted \
                       path, type, default), described by helm-docs comments (`# -- description` above the \
                       key, `# -- (type) ...`, `# @default -- ...`, `# @ignored`), Bitnami readme-generator \
                       comments (`## @param path description`, `## @skip path`) or the schema's descriptions.\n\n\
                       Examples:\n  \
                       cocktail-pkg docs catalog/redis\n  \
                       cocktail-pkg docs my-chart/ --check"
)]
pub struct DocsArgs {
    /// Package directory (ours, or a Helm chart) whose README.md gets the values table.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Only check: exit 1 when the table in README.md is out of date.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: DocsArgs, printer: &Printer) -> anyhow::Result<u8> {
    let mode = if args.check {
        DocsMode::Check
    } else {
        DocsMode::Write
    };
    match docs::docs(&DocsOptions {
        dir: args.dir.clone(),
        mode,
    })? {
        DocsOutcome::UpToDate => {
            printer.status(
                "Fresh",
                &format!("{} values table is up to date", args.dir.display()),
            );
            Ok(exit::OK)
        }
        DocsOutcome::Written(p) => {
            printer.status("Wrote", &format!("values table to {}", p.display()));
            Ok(exit::OK)
        }
        DocsOutcome::Stale(p) => {
            printer.error(
                &format!("the values table in {} is out of date", p.display()),
                &[],
                Some(&format!("run `cocktail-pkg docs {}`", args.dir.display())),
            );
            Ok(exit::FAILURE)
        }
    }
}
