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
    found.cloned().ok_or_else(|| {
        OpError::Invalid(match revision {
            Some(n) => format!(
                "release `{release}` has no revision {n} in service map `{service_map}` (see `cocktail-pkg history {release}`)"
            ),
            None => format!("release `{release}` is not installed in service map `{service_map}`"),
        })
    })
}
