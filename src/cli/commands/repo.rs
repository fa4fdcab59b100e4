use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::cli::printer::Printer;
use crate::cli::{OutputFormat, exit};
use crate::ops::repo::{self, AddOptions, KeySource, KindChoice};
use crate::repo::{RepoAuth, RepoClient, RepoKind};

#[derive(Debug, Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Add a repository: our signed index (for example `cocktail-pkg serve`) or a Helm chart
    /// repository (index.yaml).
    #[command(
        long_about = "Add a repository by name. For our index, its root is fetched and its signature verified before \
                      it is added; without --public-key, the server's key (URL/index.pub) is trusted on first use \
                      and pinned: later fetches must be signed by the same key. When the server publishes no key, \
                      URL/index.yaml is read as a Helm chart repository (or say which with --type): it is parsed \
                      once into a small local cache that search and resolution read, and chart archives are \
                      checked against the index's sha256 digests before they are cached. Credentials (--username \
                      with --password-stdin or --password, or --token) are stored in repositories.yaml (mode 0600) \
                      and sent only to the repository's own host.",
        after_help = "Examples:\n  cocktail-pkg repo add team http://127.0.0.1:8080/\n  cocktail-pkg repo add team https://charts.example.com/ --public-key team.key.pub\n  cocktail-pkg repo add bitnami https://charts.bitnami.com/bitnami\n  echo \"$PASSWORD\" | cocktail-pkg repo add private https://charts.example.com/ --username me --password-stdin\n  cocktail-pkg repo add internal https://charts.corp.example/ --ca-file corp-ca.pem --token \"$TOKEN\""
    )]
    Add {
        /// Short name used in REPO/PACKAGE references.
        name: String,
        /// The folder URL holding index.json (ours) or index.yaml (Helm).
        url: String,
        /// The index signing key: a .pub file or the `cocktail-pkg-ed25519:…` text (our indexes).
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
        /// What the URL serves; `auto`: our index when it publishes a key (index.pub), else Helm.
        #[arg(long = "type", value_enum, default_value = "auto", value_name = "TYPE")]
        kind: RepoType,
        /// User name for HTTP basic authentication (with --password-stdin or --password).
        #[arg(long, value_name = "USER", requires = "password_source")]
        username: Option<String>,
        /// Password for basic authentication (visible to other users in the process list:
        /// prefer --password-stdin).
        #[arg(
            long,
            value_name = "PASSWORD",
            group = "password_source",
            requires = "username"
        )]
        password: Option<String>,
        /// Read the basic-authentication password from standard input.
        #[arg(long, group = "password_source", requires = "username")]
        password_stdin: bool,
        /// Bearer token sent as `Authorization: Bearer TOKEN`.
        #[arg(long, value_name = "TOKEN", conflicts_with = "username")]
        token: Option<String>,
        /// PEM file of CA certificates to trust for this repository (besides the system's).
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
        /// Do not check the server's TLS certificate (a warning is printed on every use).
        #[arg(long)]
        insecure_skip_tls_verify: bool,
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
    /// Refresh repository indexes (all, or the ones named); unchanged indexes transfer no body
    /// (conditional requests: ETag and Last-Modified).
    Update { names: Vec<String> },
    /// Remove a repository and its cached index.
    Remove { name: String },
}

/// `--type` of `repo add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RepoType {
    Auto,
    Cocktail,
    Helm,
}

pub fn run(args: RepoArgs, printer: &Printer) -> anyhow::Result<u8> {
    let mut client = RepoClient::from_env();
    match args.command {
        RepoCommand::Add {
            name,
            url,
            public_key,
            kind,
            username,
            password,
            password_stdin,
            token,
            ca_file,
            insecure_skip_tls_verify,
            force,
        } => {
            let key = match public_key {
                Some(k) => KeySource::Given(k),
                None => KeySource::FirstUse,
            };
            let auth = match (username, token) {
                (Some(username), _) => {
                    let password = match password {
                        Some(p) => p,
                        None if password_stdin => {
                            let mut p = String::new();
                            std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut p)
                                .context("failed to read the password from standard input")?;
                            p.trim_end_matches(['\r', '\n']).to_string()
                        }
                        None => anyhow::bail!("--username needs --password-stdin or --password"),
                    };
                    Some(RepoAuth::Basic { username, password })
                }
                (None, Some(token)) => Some(RepoAuth::Bearer {
                    token: token.trim().to_string(),
                }),
                (None, None) => None,
            };
            let o = repo::add(
                &mut client,
                &AddOptions {
                    name,
                    url,
                    key,
                    force,
                    kind: match kind {
                        RepoType::Auto => KindChoice::Detect,
                        RepoType::Cocktail => KindChoice::Cocktail,
                        RepoType::Helm => KindChoice::Helm,
                    },
                    auth,
                    ca_file,
                    insecure_skip_tls_verify,
                },
            )?;
            if o.trusted_on_first_use {
                printer.warning(&format!(
                    "trusting the key {} served by {} on first use; compare it with the key the index host publishes",
                    o.key_id, o.url
                ));
            }
            match o.kind {
                RepoKind::Cocktail => printer.status(
                    "Added",
                    &format!(
                        "{} ({}, {} packages, key {})",
                        o.name, o.url, o.packages, o.key_id
                    ),
                ),
                RepoKind::Helm => {
                    printer.status(
                        "Added",
                        &format!(
                            "{} ({}, Helm repository, {} charts)",
                            o.name, o.url, o.packages
                        ),
                    );
                    if o.skipped > 0 {
                        printer.warning(&format!(
                            "{} chart versions of {} were left out: no valid version, sha256 digest or URL",
                            o.skipped, o.name
                        ));
                    }
                }
            }
        }
        RepoCommand::List { output } => {
            let list = repo::list()?;
            let mut out = std::io::stdout().lock();
            match output {
                OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?,
                OutputFormat::Yaml => write!(out, "{}", crate::yaml::to_string(&list)?)?,
                OutputFormat::Table => {
                    writeln!(out, "{:<16} {:<48} {:<8} KEY", "NAME", "URL", "TYPE")?;
                    for r in list {
                        let mut extra = r.key_id.clone();
                        if let Some(a) = &r.auth {
                            extra = format!("{extra} ({a} auth)").trim().to_string();
                        }
                        if r.insecure_skip_tls_verify {
                            extra = format!("{extra} (TLS NOT VERIFIED)").trim().to_string();
                        }
                        writeln!(
                            out,
                            "{:<16} {:<48} {:<8} {}",
                            r.name,
                            r.url,
                            r.kind.as_str(),
                            extra
                        )?;
                    }
                }
            }
        }
        RepoCommand::Update { names } => {
            for u in repo::update(&mut client, &names)? {
                let what = if u.changed { "new index" } else { "unchanged" };
                let noun = match u.kind {
                    RepoKind::Cocktail => "packages",
                    RepoKind::Helm => "charts",
                };
                printer.status(
                    "Updated",
                    &format!("{} ({what}, {} {noun})", u.name, u.packages),
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
