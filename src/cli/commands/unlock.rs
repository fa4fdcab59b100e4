//! `unlock`: remove a release's lease by hand, after a confirmation.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;

use super::settings::{Opened, TargetArgs, holder};
use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::model::ReleaseName;
use crate::ops::OpError;
use crate::ops::unlock::{UnlockOptions, held_lease, unlock};
use crate::targets::lease::format_expires_in;
use crate::time::format_rfc3339;

#[derive(Debug, Args)]
pub struct UnlockArgs {
    pub release: ReleaseName,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Do not ask for confirmation (needed when standard input is not a terminal).
    #[arg(short, long)]
    pub yes: bool,
}

pub fn run(args: UnlockArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let now = crate::time::now();
    let lease = held_lease(target.as_ref(), &service_map, &args.release)?;
    let what = format!(
        "release `{}` in service map {service_map} is locked by {} since {} (expires in {})",
        args.release,
        lease.holder,
        format_rfc3339(lease.acquired),
        format_expires_in(lease.expires.saturating_sub(now))
    );
    if !args.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(OpError::Invalid(format!(
                "{what}; refusing to unlock without confirmation: pass --yes"
            ))
            .into());
        }
        let mut err = std::io::stderr().lock();
        write!(
            err,
            "{what}.\nUnlock it only if that operation has stopped; its pending revision will be marked failed. Unlock? [y/N] "
        )?;
        err.flush()?;
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            printer.status("Kept", "the lease; nothing was changed");
            return Ok(exit::FAILURE);
        }
    }
    let out = unlock(
        target.as_ref(),
        &UnlockOptions {
            release: args.release.clone(),
            service_map,
            holder: holder(),
            now,
        },
        &lease,
    )?;
    let failed = match out.failed.as_slice() {
        [] => String::new(),
        revs => format!(
            "; revision {} marked failed",
            revs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    printer.status(
        "Unlocked",
        &format!(
            "{} (the lease of {}){failed}",
            args.release, out.removed.holder
        ),
    );
    Ok(exit::OK)
}
