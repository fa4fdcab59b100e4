//! `status`: a release's current revision and the live state of its objects.

use serde::Serialize;

use super::OpError;
use super::commit::manifest_objects;
use super::get::revision;
use super::list::ReleaseRow;
use super::wait::Observation;
use crate::model::{ReleaseName, ServiceMapName};
use crate::release::Status;
use crate::targets::Target;

/// `status`: the current revision and its objects' live state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub release: ReleaseRow,
    pub description: String,
    #[serde(flatten)]
    pub live: Observation,
    pub notes: Option<String>,
    /// Objects whose fields another field manager changed since the release applied them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<crate::drift::ObjectDrift>,
}

pub fn status(
    target: &dyn Target,
    service_map: &ServiceMapName,
    release: &ReleaseName,
) -> Result<StatusReport, OpError> {
    let record = revision(target, service_map, release, None)?;
    if record.status == Status::Uninstalled {
        return Err(OpError::Invalid(format!(
            "release `{release}` was uninstalled (see `cocktail-pkg history {release} -n {service_map}`)"
        )));
    }
    let objects = manifest_objects(&record)?;
    let live = super::wait::observe(target, &objects, crate::time::now())?;
    let drift = super::drift::of_release(target, &record)?;
    Ok(StatusReport {
        release: ReleaseRow::from(&record),
        description: record.description.clone(),
        live,
        notes: record.notes.clone(),
        drift,
    })
}
