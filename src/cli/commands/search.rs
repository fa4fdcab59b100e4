use std::io::Write;

use clap::Args;

use crate::cli::printer::Printer;
use crate::cli::table::Table;
use crate::cli::{OutputFormat, exit};
use crate::ops::repo;
use crate::repo::{RepoClient, RepoKind};

/// Search every repository: the built-in catalog, our indexes and Helm repositories, from their
/// local caches (a repository not fetched yet is fetched once).
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words that must all appear in a package's name, description or keywords (empty lists all).
    #[arg(default_value = "")]
    pub term: String,
    /// List every version, not only the latest.
    #[arg(long)]
    pub versions: bool,
    /// Output format: a table, or the matches (with versions) as JSON or YAML.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn run(args: SearchArgs, printer: &Printer) -> anyhow::Result<u8> {
    let mut client = RepoClient::from_env();
    let hits = repo::search(&mut client, &args.term, args.versions)?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&hits)?)?,
        OutputFormat::Yaml => write!(out, "{}", crate::yaml::to_string(&hits)?)?,
        OutputFormat::Table => {
            let mut table = Table::new(&["NAME", "VERSION", "APP VERSION", "DESCRIPTION"]);
            for h in &hits {
                let full = format!("{}/{}", h.repo, h.name);
                // A Helm chart's deprecated versions are marked like our yanked ones.
                let withdrawn = if h.kind == RepoKind::Helm {
                    " (deprecated)"
                } else {
                    " (yanked)"
                };
                if args.versions {
                    for v in &h.versions {
                        let yanked = if v.yanked { withdrawn } else { "" };
                        table.row([
                            full.clone(),
                            v.version.to_string(),
                            v.app_version.clone().unwrap_or_default(),
                            format!("{}{yanked}", h.description),
                        ]);
                    }
                } else {
                    let deprecated = if h.deprecated { " (deprecated)" } else { "" };
                    table.row([
                        full.clone(),
                        h.latest.to_string(),
                        h.app_version.clone().unwrap_or_default(),
                        format!("{}{deprecated}", h.description),
                    ]);
                }
            }
            table.write(&mut out)?;
        }
    }
    if hits.is_empty() {
        printer.warning(&format!("no package matches `{}`", args.term));
    }
    Ok(exit::OK)
}
