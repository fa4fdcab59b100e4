use std::io::Write;

use clap::{Args, Subcommand};

use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, exit};
use crate::ops::repo::{self, AddOptions, KeySource};
use crate::repo::RepoClient;

#[derive(Debug, Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Add a repository: an index hosted at URL (for example by `cocktail-pkg serve`).
    #[command(
        long_about = "Add a repository by name. Its index root is fetched and its signature verified before it is \
                      added. Without --public-key, the server's key (URL/index.pub) is trusted on first use and \
                      pinned: later fetches must be signed by the same key.",
        after_help = "Examples:\n  cocktail-pkg repo add team http://127.0.0.1:8080/\n  cocktail-pkg repo add team https://charts.example.com/ --public-key team.key.pub"
    )]
    Add {
        /// Short name used in REPO/PACKAGE references.
        name: String,
        /// The folder URL holding index.json.
        url: String,
        /// The index signing key: a .pub file or the `cocktail-pkg-ed25519:…` text.
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
        /// Replace a repository with the same name.
        #[arg(long)]
        force: bool,
    },
    /// List repositories.
    List {
        /// Output format: a table, or the repositories as JSON or YAML.
        #[arg(short, long, value_enum, default_value = "table")]
        output: OutputFormat,
    },
    /// Refresh repository indexes (all, or the ones named); unchanged indexes transfer no body.
    Update { names: Vec<String> },
    /// Remove a repository and its cached index.
    Remove { name: String },
}

pub fn run(args: RepoArgs, printer: &Printer) -> anyhow::Result<u8> {
    let mut client = RepoClient::from_env();
    match args.command {
        RepoCommand::Add {
            name,
            url,
            public_key,
            force,
        } => {
            let key = match public_key {
                Some(k) => KeySource::Given(k),
                None => KeySource::FirstUse,
            };
            let o = repo::add(
                &mut client,
                &AddOptions {
                    name,
                    url,
                    key,
                    force,
                },
            )?;
            if o.trusted_on_first_use {
                printer.warning(&format!(
                    "trusting the key {} served by {} on first use; compare it with the key the index host publishes",
                    o.key_id, o.url
                ));
            }
            printer.status(
                "Added",
                &format!(
                    "{} ({}, {} packages, key {})",
                    o.name, o.url, o.packages, o.key_id
                ),
            );
        }
        RepoCommand::List { output } => {
            let list = repo::list()?;
            let mut out = std::io::stdout().lock();
            match output {
                OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?,
                OutputFormat::Yaml => write!(out, "{}", crate::yaml::to_string(&list)?)?,
                OutputFormat::Table => {
                    writeln!(out, "{:<16} {:<48} KEY", "NAME", "URL")?;
                    for r in list {
                        writeln!(out, "{:<16} {:<48} {}", r.name, r.url, r.key_id)?;
                    }
                }
            }
        }
        RepoCommand::Update { names } => {
            for u in repo::update(&mut client, &names)? {
                let what = if u.changed { "new index" } else { "unchanged" };
                printer.status(
                    "Updated",
                    &format!("{} ({what}, {} packages)", u.name, u.packages),
                );
            }
        }
        RepoCommand::Remove { name } => {
            repo::remove(&client, &name)?;
            printer.status("Removed", &name);
        }
    }
    Ok(exit::OK)
}
