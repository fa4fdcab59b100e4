//! `history`: every revision of a release, with its description.

use super::OpError;
use super::list::ReleaseRow;
use crate::model::{ReleaseName, ServiceMapName};
use crate::targets::Target;

pub fn history(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
) -> Result<Vec<(ReleaseRow, String)>, OpError> {
    let records = target.records(service_map, release)?;
    if records.is_empty() {
        return Err(OpError::Invalid(format!(
            "release `{release}` has no history in service map `{service_map}`"
        )));
    }
    Ok(records
        .iter()
        .map(|r| (ReleaseRow::from(r), r.description.clone()))
        .collect())
}
