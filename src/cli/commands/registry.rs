//! `registry login|logout`, and the `oci://` sides of `pull` and `publish`.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::ops::registry::{self, LoginOptions, PublishOptions, PullOptions};
use crate::repo::oci::{OciRef, Selector};

#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Log in to an OCI registry: check the credentials against it, then store them.
    #[command(
        long_about = "Log in to an OCI registry. The credentials are checked against the registry first (through \
                      its Basic or token challenge), then stored like Docker's config.json in the configuration \
                      folder (registry/config.json, owner-only). Pulls and publishes to that registry use them; \
                      credentials in Docker's config.json ($DOCKER_CONFIG or ~/.docker) are used too.",
        after_help = "Examples:\n  echo \"$TOKEN\" | cocktail-pkg registry login ghcr.io -u me --password-stdin\n  cocktail-pkg registry login 127.0.0.1:5000 -u admin --password-stdin < password.txt"
    )]
    Login {
        /// The registry: HOST or HOST:PORT.
        registry: String,
        /// The user name.
        #[arg(short = 'u', long, value_name = "USER")]
        username: Option<String>,
        /// Read the password (or token) from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The password on the command line (visible to other users of this machine: prefer
        /// --password-stdin).
        #[arg(short = 'p', long, value_name = "PASSWORD", hide_default_value = true)]
        password: Option<String>,
        /// Talk plain HTTP to the registry (loopback registries always are).
        #[arg(long)]
        plain_http: bool,
    },
    /// Remove the stored credentials of an OCI registry.
    Logout {
        /// The registry: HOST or HOST:PORT.
        registry: String,
    },
}

pub fn run(args: RegistryArgs, printer: &Printer) -> anyhow::Result<u8> {
    match args.command {
        RegistryCommand::Login {
            registry,
            username,
            password_stdin,
            password,
            plain_http,
        } => {
            let Some(username) = username else {
                anyhow::bail!("pass the user name with -u USER");
            };
            let password = match (password_stdin, password) {
                (true, Some(_)) => anyhow::bail!("pass either --password-stdin or --password"),
                (true, None) => {
                    let mut text = String::new();
                    std::io::stdin()
                        .lock()
                        .take(64 * 1024)
                        .read_to_string(&mut text)
                        .context("failed to read the password from standard input")?;
                    text.trim_end_matches(['\r', '\n']).to_string()
                }
                (false, Some(p)) => {
                    printer.warning(
                        "a password on the command line is visible to other users of this machine; prefer --password-stdin",
                    );
                    p
                }
                (false, None) => anyhow::bail!(
                    "pass the password on standard input with --password-stdin (or with --password)"
                ),
            };
            if password.is_empty() {
                anyhow::bail!("the password is empty");
            }
            let o = registry::login(&LoginOptions {
                registry,
                username,
                password,
                plain_http,
            })?;
            printer.status(
                "Logged in",
                &format!(
                    "to {} (credentials stored in {})",
                    o.registry,
                    o.path.display()
                ),
            );
            Ok(exit::OK)
        }
        RegistryCommand::Logout { registry } => {
            let o = registry::logout(&registry)?;
            printer.status(
                "Logged out",
                &format!("of {} (removed from {})", o.registry, o.path.display()),
            );
            Ok(exit::OK)
        }
    }
}

/// `pull oci://…`: `--version` resolves like `@REQ`.
pub fn pull(
    reference: &str,
    version: Option<&str>,
    dest: &Path,
    plain_http: bool,
    verify: Option<crate::repo::provenance::Keyring>,
    printer: &Printer,
) -> anyhow::Result<u8> {
    let reference = match version {
        None => reference.to_string(),
        Some(v) => match OciRef::parse(reference)?.selector {
            Selector::Req(None) => format!("{reference}@{v}"),
            _ => anyhow::bail!(
                "`{reference}` already names a tag, digest or version: use either oci://…:TAG|@REQ or --version"
            ),
        },
    };
    let mut bar = printer.progress(&format!("Downloading {reference}"));
    let outcome = registry::pull(
        &PullOptions {
            reference,
            dest: dest.to_path_buf(),
            plain_http,
            verify,
        },
        &mut |done, total| bar.update(done, total),
    );
    bar.finish();
    let outcome = outcome?;
    printer.status(
        "Pulled",
        &format!(
            "{} {} from {} to {} ({} bytes, manifest {})",
            outcome.name,
            outcome.version,
            outcome.reference,
            outcome.path.display(),
            outcome.size,
            outcome.manifest_digest
        ),
    );
    if let Some(s) = &outcome.signed_by {
        report_signed(s, printer);
    }
    writeln!(std::io::stdout().lock(), "{}", outcome.digest)?;
    Ok(exit::OK)
}

/// `pull --verify`: who signed the archive and where its provenance file went.
pub(crate) fn report_signed(s: &crate::ops::provenance::SignedBy, printer: &Printer) {
    let prov = s
        .provenance
        .as_ref()
        .map(|p| format!("; provenance in {}", p.display()))
        .unwrap_or_default();
    printer.status(
        "Verified",
        &format!("signed by {} (key {}){prov}", s.signer, s.fingerprint),
    );
}

/// `publish PKG --to oci://HOST/PATH`.
pub fn publish(
    package: &Path,
    to: &str,
    plain_http: bool,
    force: bool,
    printer: &Printer,
) -> anyhow::Result<u8> {
    let now = std::env::var(crate::env::SOURCE_DATE_EPOCH)
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or_else(crate::time::now);
    let o = registry::publish(&PublishOptions {
        package: package.to_path_buf(),
        to: to.to_string(),
        plain_http,
        force,
        now,
    })?;
    if o.unchanged {
        printer.status(
            "Unchanged",
            &format!(
                "{} {} is already at {} ({})",
                o.name, o.version, o.reference, o.manifest_digest
            ),
        );
    } else {
        printer.status(
            "Published",
            &format!(
                "{} {} to {} ({})",
                o.name, o.version, o.reference, o.manifest_digest
            ),
        );
    }
    writeln!(std::io::stdout().lock(), "{}", o.manifest_digest)?;
    Ok(exit::OK)
}
