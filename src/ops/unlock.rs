//! `unlock`: removes a release's lease by hand, for when its holder is known to have stopped
//! on another host (a lease of a process of this host that is gone is taken over on its own).
//! The pending revision the holder left is marked failed, `unlocked by USER`.

use serde::Serialize;

use super::OpError;
use super::commit::{fail_pending, hold};
use crate::model::{ReleaseName, ServiceMapName};
use crate::targets::{Holder, Lease, Target};
use crate::time::UnixTime;

#[derive(Debug, Clone)]
pub struct UnlockOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// Who unlocks (takes the lease for the time it takes to mark the revision failed).
    pub holder: Holder,
    pub now: UnixTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnlockOutcome {
    /// The lease that was removed.
    pub removed: Lease,
    /// Pending revisions marked failed.
    pub failed: Vec<u64>,
}

/// The release's lease, or the error that none is held (nothing to unlock).
pub fn held_lease(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
) -> Result<Lease, OpError> {
    target.lease(service_map, release)?.ok_or_else(|| {
        OpError::Invalid(format!(
            "no lease is held on release `{release}` in service map `{service_map}`: no operation is in progress, nothing to unlock"
        ))
    })
}

/// Removes `expected`, the lease the user confirmed, and marks the revision it left pending
/// failed. Refused when the lease changed since it was shown.
pub fn unlock(
    target: &dyn Target,
    opts: &UnlockOptions,
    expected: &Lease,
) -> Result<UnlockOutcome, OpError> {
    let current = held_lease(target, &opts.service_map, &opts.release)?;
    if current.holder != expected.holder || current.acquired != expected.acquired {
        return Err(OpError::Stale(format!(
            "the lease of release `{}` changed while you were asked (now held by {}); nothing was unlocked",
            opts.release, current.holder
        )));
    }
    target.release_lease(&current)?;
    let (_held, mut records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
        false,
    )?;
    let failed = fail_pending(
        target,
        &mut records,
        opts.now,
        &format!(
            "unlocked by {} (the lease was held by {})",
            opts.holder.user, current.holder
        ),
    )?;
    Ok(UnlockOutcome {
        removed: current,
        failed,
    })
}
