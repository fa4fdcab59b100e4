use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::ops::index::{self, IndexBuildOptions, KeygenOptions};

#[derive(Debug, Args)]
pub struct IndexArgs {
    #[command(subcommand)]
    pub command: IndexCommand,
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Build or extend an index from a folder of package directories.
    #[command(
        long_about = "Package every package directory of CATALOG reproducibly and write the index under --out: \
                      archives/, one packages/NAME.json per package and the root index.json, signed with --key \
                      when given. The index is append-only: a version already published keeps its digest (a \
                      changed package with the same version is refused) and versions removed from the catalog stay \
                      published. Rebuilding unchanged sources rewrites nothing.\n\n\
                      Publication times come from SOURCE_DATE_EPOCH when set, else the clock.",
        after_help = "Examples:\n  cocktail-pkg index build catalog/ --out index/\n  cocktail-pkg index keygen --out signing.key && cocktail-pkg index build catalog/ --out site/ --key signing.key"
    )]
    Build(BuildArgs),
    /// Make an ed25519 key pair for signing an index.
    Keygen(KeygenArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Folder of package directories.
    #[arg(value_name = "CATALOG")]
    pub catalog: PathBuf,
    /// Index folder to create or extend.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Secret key file (from `index keygen`) to sign the root with.
    #[arg(
        long,
        value_name = "FILE",
        env = "COCKTAIL_PKG_INDEX_KEY",
        hide_env_values = true
    )]
    pub key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the secret key (mode 0600); the public key goes to FILE.pub.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing key file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: IndexArgs, printer: &Printer) -> anyhow::Result<u8> {
    match args.command {
        IndexCommand::Build(a) => {
            let now = std::env::var(crate::env::SOURCE_DATE_EPOCH)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(crate::time::now);
            let outcome = index::build(&IndexBuildOptions {
                catalog: a.catalog,
                out: a.out.clone(),
                key: a.key,
                now,
            })?;
            for added in &outcome.added {
                printer.status("Added", added);
            }
            if outcome.signature_removed {
                printer.warning("the root changed and no --key was given: the old signature was removed, the index is unsigned");
            }
            let signed = match &outcome.signed_by {
                Some(k) => format!("signed by key {k}"),
                None => "unsigned".into(),
            };
            printer.status(
                "Indexed",
                &format!(
                    "{} packages, {} versions in {} ({signed})",
                    outcome.packages,
                    outcome.versions,
                    a.out.display()
                ),
            );
            Ok(exit::OK)
        }
        IndexCommand::Keygen(a) => {
            let outcome = index::keygen(&KeygenOptions {
                out: a.out,
                force: a.force,
            })?;
            printer.status(
                "Wrote",
                &format!(
                    "secret key {} and public key {} (key id {})",
                    outcome.secret_path.display(),
                    outcome.public_path.display(),
                    outcome.key_id
                ),
            );
            println!("{}", outcome.public_key);
            Ok(exit::OK)
        }
    }
}
