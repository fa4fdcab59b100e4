//! Targets: where releases live. One narrow trait — objects (get, apply, delete), release
//! records, and per-release leases — implemented by a local directory in a GitOps layout
//! ([`dir::DirTarget`]) and by memory with failure knobs for tests ([`memory::MemoryTarget`]).
//! The Kubernetes implementation comes with the install commands. IO at the edge.

pub mod dir;
pub mod memory;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::release::{CodecError, Record};
use crate::time::UnixTime;

/// Whether an apply changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyMode {
    /// Validate and return what would be stored, change nothing.
    DryRun,
    /// Store the object; `force_conflicts` takes fields owned by other managers.
    Commit { force_conflicts: bool },
}

/// A per-release lock: who holds it and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    pub service_map: String,
    pub release: String,
    pub holder: String,
    pub acquired: UnixTime,
    pub expires: UnixTime,
    /// When an expired lease was taken over: who held it. The operation that left it was
    /// interrupted, so its pending revision must be marked failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_over_from: Option<String>,
}

/// A target operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("failed to {action} {}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("operation in progress on release `{release}` by {holder} since {since}")]
    LeaseHeld {
        release: String,
        holder: String,
        since: String,
    },
    #[error("{id}: {message}")]
    Rejected { id: ObjectId, message: String },
    #[error("failed to read the release record of `{release}` revision {revision}")]
    Record {
        release: String,
        revision: u64,
        #[source]
        source: CodecError,
    },
    #[error("{0}")]
    Injected(String),
}

impl TargetError {
    pub fn hint(&self) -> Option<String> {
        match self {
            TargetError::LeaseHeld { .. } => Some(
                "wait for it to finish; a lease left by a killed process expires on its own and the next operation marks the interrupted revision failed".into(),
            ),
            _ => None,
        }
    }
}

/// Where releases live.
pub trait Target {
    /// How users name it: `dir:PATH`, `memory`.
    fn describe(&self) -> String;
    /// The stored object, if any.
    fn get(&self, id: &ObjectId) -> Result<Option<Value>, TargetError>;
    /// Stores an object (or, with `DryRun`, checks it) and returns what is stored.
    fn apply(&self, id: &ObjectId, object: &Value, mode: ApplyMode) -> Result<Value, TargetError>;
    /// Deletes an object; deleting a missing object is not an error.
    fn delete(&self, id: &ObjectId) -> Result<(), TargetError>;
    /// Every record of a release, in revision order.
    fn records(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
    ) -> Result<Vec<Record>, TargetError>;
    /// The releases that have records, optionally in one service map.
    fn releases(
        &self,
        service_map: Option<&ServiceMapName>,
    ) -> Result<Vec<(String, String)>, TargetError>;
    /// Writes (creates or replaces) one record.
    fn write_record(&self, record: &Record) -> Result<(), TargetError>;
    fn delete_record(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        revision: u64,
    ) -> Result<(), TargetError>;
    /// Takes the release's lease, failing fast when someone else holds an unexpired one.
    fn acquire(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        holder: &str,
        ttl_secs: i64,
        now: UnixTime,
    ) -> Result<Lease, TargetError>;
    /// Extends a held lease.
    fn renew(&self, lease: &Lease, ttl_secs: i64, now: UnixTime) -> Result<Lease, TargetError>;
    /// Gives the lease back (only if still held by the same holder).
    fn release_lease(&self, lease: &Lease) -> Result<(), TargetError>;
}
