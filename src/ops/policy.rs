//! `policy set|show`: a release's automatic-upgrade policy, stored with its current revision.
//! Setting it makes no revision (nothing is applied) and holds the release's lease.

use super::OpError;
use super::commit::{hold, installed};
use super::get::revision;
use crate::model::{ReleaseName, ServiceMapName};
use crate::policy::{Policy, PolicyUpdate, Track};
use crate::release::Record;
use crate::targets::{Holder, Target};
use crate::time::{UnixTime, format_rfc3339};

/// `policy set`: changes the policy stored with the release's current revision (no new
/// revision: nothing is applied), under the release's lease.
pub fn set_policy(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
    update: &PolicyUpdate,
    holder: &Holder,
    now: UnixTime,
) -> Result<Policy, OpError> {
    let (_held, records) = hold(target, service_map, release, holder, now, false)?;
    let mut current = installed(&records, service_map, release)?;
    let policy = update.apply_to(current.policy.as_ref()).unwrap_or_default();
    if policy.auto_upgrade != Track::Off && current.package.repository.is_none() {
        return Err(OpError::Invalid(format!(
            "release `{release}` was installed from `{}`, not from a repository, so there is nothing to upgrade it from; upgrade it once from REPO/{} to enable automatic upgrades",
            current.package.source, current.package.name
        )));
    }
    current.policy = Some(policy.clone());
    current.updated = format_rfc3339(now);
    target.write_record(&current)?;
    Ok(policy)
}

/// The policy of a release (the default, off, when none was set).
pub fn show_policy(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
) -> Result<(Record, Policy), OpError> {
    let record = revision(target, service_map, release, None)?;
    let policy = record.policy.clone().unwrap_or_default();
    Ok((record, policy))
}
