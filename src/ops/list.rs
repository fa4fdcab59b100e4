//! `list`: the current revision of every installed release.

use serde::Serialize;

use super::OpError;
use crate::model::{ReleaseName, ServiceMapName};
use crate::release::{self, Record, Status};
use crate::targets::Target;

/// One row of `list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRow {
    pub name: String,
    pub service_map: String,
    pub revision: u64,
    pub status: String,
    pub package: String,
    pub version: String,
    pub app_version: String,
    pub updated: String,
}

impl From<&Record> for ReleaseRow {
    fn from(r: &Record) -> Self {
        Self {
            name: r.name.clone(),
            service_map: r.service_map.clone(),
            revision: r.revision,
            status: r.status.as_str().into(),
            package: r.package.name.clone(),
            version: r.package.version.to_string(),
            app_version: r.package.app_version.clone().unwrap_or_default(),
            updated: r.updated.clone(),
        }
    }
}

pub fn list(
    target: &dyn Target,
    service_map: Option<&ServiceMapName>,
) -> Result<Vec<ReleaseRow>, OpError> {
    let mut out = Vec::new();
    for (sm, rel) in target.releases(service_map)? {
        let (Ok(sm), Ok(rel)) = (ServiceMapName::new(sm), ReleaseName::new(rel)) else {
            continue;
        };
        let records = target.records(&sm, &rel)?;
        if let Some(r) = release::current(&records).filter(|r| r.status != Status::Uninstalled) {
            out.push(ReleaseRow::from(r));
        }
    }
    Ok(out)
}
