//! `get values|manifest|notes`: one revision of a release.

use serde_json::{Map, Value};

use super::OpError;
use crate::model::{ReleaseName, ServiceMapName};
use crate::release::{self, Record};
use crate::targets::Target;
use crate::values;

/// A revision's user-supplied values, with secret values masked unless `show_secrets`.
pub fn values_of(record: &Record, show_secrets: bool) -> Map<String, Value> {
    let mut v = record.values.clone();
    if !show_secrets {
        values::mask_secrets(&mut v, &record.secret_paths);
    }
    v.as_object().cloned().unwrap_or_default()
}

/// A revision's computed values (what its templates saw: defaults, the user's values and
/// generated values), secret values masked unless `show_secrets`.
pub fn computed_values_of(
    record: &Record,
    show_secrets: bool,
) -> Result<Map<String, Value>, OpError> {
    let Some(mut v) = record.computed_values.clone() else {
        return Err(OpError::Invalid(format!(
            "revision {} of release `{}` was recorded before computed values were kept: \
             `get values` (without --all) shows what was set; an upgrade with --reuse-values \
             --force records them",
            record.revision, record.name
        )));
    };
    if !show_secrets {
        values::mask_secrets(&mut v, &record.secret_paths);
    }
    Ok(v.as_object().cloned().unwrap_or_default())
}

/// A revision of a release: the given one, or the current one.
pub fn revision(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
    revision: Option<u64>,
) -> Result<Record, OpError> {
    let records = target.records(service_map, release)?;
    let found = match revision {
        Some(n) => records.iter().find(|r| r.revision == n),
        None => release::current(&records),
    };
    found.cloned().ok_or_else(|| OpError::NotFound {
        release: release.to_string(),
        service_map: service_map.to_string(),
        revision,
    })
}
