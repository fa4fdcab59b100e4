//! Release records: one per revision of a release, holding what is needed to show, diff, roll
//! back and auto-upgrade it — the package reference and digest, the values the user supplied
//! (not the whole package), the rendered manifest, the inventory, the status and times.
//!
//! The codec is versioned JSON, gzip-compressed, base64-encoded and split into chunks of at
//! most [`CHUNK_BYTES`], so a record's size is never a limit (Helm's is 1 MiB). Pure, no IO:
//! targets store the chunks (kube: Secrets; dir: files). Records come from storage anyone may
//! have edited: nothing here may panic on them (checked arithmetic, enforced by clippy).

#![deny(clippy::arithmetic_side_effects)]

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Digest, ObjectId};

/// The record format's version.
pub const API_VERSION: &str = "cocktail-pkg/v1";
/// Largest chunk of encoded record (a Kubernetes Secret holds at most 1 MiB).
pub const CHUNK_BYTES: usize = 900 * 1024;
/// Largest decoded record accepted (guards against a decompression bomb in a stored record).
pub const MAX_RECORD_BYTES: u64 = 256 * 1024 * 1024;

/// Where a release is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
    Deployed,
    Failed,
    Superseded,
    Uninstalled,
}

impl Status {
    /// An operation was under way when this record was written.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
            Status::Deployed => "deployed",
            Status::Failed => "failed",
            Status::Superseded => "superseded",
            Status::Uninstalled => "uninstalled",
        }
    }
}

/// The package a revision was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageRef {
    pub name: String,
    pub version: semver::Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// How the user named it: `catalog/redis`, `team/redis@^2`, a path.
    pub source: String,
    /// The archive digest: of the archive or repository entry, or for a directory of the
    /// reproducible archive `cocktail-pkg package` would build from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// The repository it came from (`REPO/NAME`), where automatic upgrades look for versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

/// One revision of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub api_version: String,
    pub name: String,
    pub service_map: String,
    pub revision: u64,
    pub status: Status,
    pub package: PackageRef,
    /// The values the user supplied (the overlay), generated values included; not the defaults.
    pub values: Value,
    /// The rendered objects as a YAML stream.
    pub manifest: String,
    /// The objects this revision owns.
    pub inventory: Vec<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// RFC 3339 times.
    pub created: String,
    pub updated: String,
    /// What happened (`Install complete`, `Upgrade failed: …`).
    #[serde(default)]
    pub description: String,
    /// Value paths the package's schema marks secret (`x-cocktail-secret`): masked when shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_paths: Vec<Vec<String>>,
    /// The automatic-upgrade policy, carried from revision to revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::policy::Policy>,
    /// Versions an automatic upgrade failed with and rolled back from: not tried again
    /// automatically. An upgrade by hand clears the list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_versions: Vec<semver::Version>,
    /// The values the templates saw: the package's defaults coalesced with `values`, generated
    /// values included (`get values --all`). Absent in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed_values: Option<Value>,
    /// A chart's hooks (`helm.sh/hook`), in the order they run, with what their last run did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Hook>,
    /// The CustomResourceDefinitions of a chart's `crds/` folders this revision applied. Not
    /// part of the inventory: uninstall and prune never delete a CRD (its deletion would delete
    /// every custom resource of its kind, in every namespace).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crds: Vec<ObjectId>,
    /// The package's format when it is not ours (`chart` for a Helm chart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Changes made by hand on top of the render (`scale`), carried into later upgrades while
    /// the render leaves the field as it was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

/// A field of one object set by hand (`scale web=5`): an upgrade keeps it as long as the
/// package still renders the field as `rendered`; when values or a new version render another
/// value, the values win and the override is dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Override {
    pub id: ObjectId,
    /// JSON pointer of the field (`/spec/replicas`).
    pub pointer: String,
    pub value: Value,
    /// What the package rendered there when the override was made (`null`: not set).
    pub rendered: Value,
    /// Why: `scale Deployment/web=5`.
    #[serde(default)]
    pub reason: String,
}

impl Override {
    /// Applies the overrides that still hold to rendered `objects`; returns those kept.
    pub fn carry(
        overrides: &[Override],
        objects: &mut [crate::render::RenderedObject],
    ) -> Vec<Override> {
        let mut kept = Vec::new();
        for o in overrides {
            let Some(obj) = objects.iter_mut().find(|r| r.id == o.id) else {
                continue;
            };
            let now = obj
                .object
                .pointer(&o.pointer)
                .cloned()
                .unwrap_or(Value::Null);
            if now != o.rendered {
                continue;
            }
            if let Some(slot) = obj.object.pointer_mut(&o.pointer) {
                *slot = o.value.clone();
                kept.push(o.clone());
            } else if let Some((parent, key)) = o.pointer.rsplit_once('/')
                && let Some(Value::Object(m)) = obj.object.pointer_mut(parent)
            {
                m.insert(key.to_string(), o.value.clone());
                kept.push(o.clone());
            }
        }
        kept
    }
}

/// One hook of a chart: an object created at an event of the release's life (`pre-install`,
/// `post-upgrade`, `test` …), waited for, and deleted per its policies. Not part of the
/// inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hook {
    pub id: ObjectId,
    /// The template that rendered it (`CHART/templates/job.yaml`).
    pub template: String,
    /// The events it runs at, lower-case (`pre-install`, `test`).
    pub events: Vec<String>,
    /// `helm.sh/hook-weight`: lower runs first.
    #[serde(default)]
    pub weight: i64,
    /// `helm.sh/hook-delete-policy`: `before-hook-creation` (the default), `hook-succeeded`,
    /// `hook-failed`.
    #[serde(default)]
    pub delete_policies: Vec<String>,
    /// The object as rendered.
    pub object: Value,
    /// What its last run did, if it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<HookRun>,
}

/// One run of a hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookRun {
    /// The event it ran for.
    pub event: String,
    /// `succeeded`, `failed` or `running` (interrupted).
    pub phase: String,
    /// RFC 3339 times.
    pub started: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub completed: String,
    /// Why it failed: the Job's condition, its pods' reasons, events.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// A record that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("release record is not valid base64: {0}")]
    Base64(String),
    #[error("release record is not valid gzip data: {0}")]
    Gzip(String),
    #[error("release record decompresses to more than {MAX_RECORD_BYTES} bytes")]
    TooLarge,
    #[error("release record is not valid JSON: {0}")]
    Json(String),
    #[error("release record has apiVersion `{0}`; this cocktail-pkg reads `{API_VERSION}`")]
    ApiVersion(String),
    #[error("release record has no chunks")]
    Empty,
    #[error("failed to encode the release record: {0}")]
    Encode(String),
}

/// Encodes a record into chunks of at most [`CHUNK_BYTES`] base64 characters.
pub fn encode(record: &Record) -> Result<Vec<String>, CodecError> {
    let json = serde_json::to_vec(record).map_err(|e| CodecError::Encode(e.to_string()))?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&json)
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    let compressed = gz.finish().map_err(|e| CodecError::Encode(e.to_string()))?;
    let text = B64.encode(compressed);
    // Base64 is ASCII: every split is at a character boundary.
    let mut chunks = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let (chunk, tail) = rest
            .split_at_checked(rest.len().min(CHUNK_BYTES))
            .ok_or_else(|| CodecError::Encode("base64 text is not ASCII".into()))?;
        chunks.push(chunk.to_string());
        rest = tail;
    }
    Ok(chunks)
}

/// Decodes the chunks of one record, in order. Unknown fields are tolerated.
pub fn decode(chunks: &[String]) -> Result<Record, CodecError> {
    if chunks.is_empty() {
        return Err(CodecError::Empty);
    }
    let text: String = chunks.concat();
    let compressed = B64
        .decode(text.trim())
        .map_err(|e| CodecError::Base64(e.to_string()))?;
    let mut json = Vec::new();
    GzDecoder::new(compressed.as_slice())
        .take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|e| CodecError::Gzip(e.to_string()))?;
    if json.len() as u64 > MAX_RECORD_BYTES {
        return Err(CodecError::TooLarge);
    }
    let record: Record =
        serde_json::from_slice(&json).map_err(|e| CodecError::Json(e.to_string()))?;
    if record.api_version != API_VERSION {
        return Err(CodecError::ApiVersion(record.api_version));
    }
    Ok(record)
}

/// The current revision: the newest record that is deployed, failed or pending; when every
/// record is superseded or uninstalled, the newest one.
pub fn current(records: &[Record]) -> Option<&Record> {
    records
        .iter()
        .filter(|r| matches!(r.status, Status::Deployed | Status::Failed) || r.status.is_pending())
        .max_by_key(|r| r.revision)
        .or_else(|| records.iter().max_by_key(|r| r.revision))
}

/// Revisions to delete so at most `max` remain (oldest first; the current one is always kept).
pub fn prune(records: &[Record], max: usize) -> Vec<u64> {
    let keep_current = current(records).map(|r| r.revision);
    let mut revs: Vec<u64> = records.iter().map(|r| r.revision).collect();
    revs.sort_unstable();
    let excess = revs.len().saturating_sub(max.max(1));
    revs.into_iter()
        .filter(|r| Some(*r) != keep_current)
        .take(excess)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(revision: u64, status: Status, manifest: String) -> Record {
        Record {
            api_version: API_VERSION.into(),
            name: "web".into(),
            service_map: "shop".into(),
            revision,
            status,
            package: PackageRef {
                name: "nginx".into(),
                version: semver::Version::new(1, 0, 0),
                app_version: Some("1.27.3".into()),
                source: "catalog/nginx".into(),
                digest: Some(Digest::of(b"x")),
                repository: None,
            },
            values: serde_json::json!({"replicas": 3}),
            manifest,
            inventory: vec![ObjectId {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: "shop".into(),
                name: "web".into(),
            }],
            notes: None,
            created: "2026-11-22T00:00:00Z".into(),
            updated: "2026-11-22T00:00:00Z".into(),
            description: "Install complete".into(),
            secret_paths: vec![],
            policy: None,
            failed_versions: vec![],
            computed_values: None,
            hooks: vec![],
            crds: vec![],
            format: None,
            overrides: vec![],
        }
    }

    #[test]
    fn round_trips_small_and_huge_records() {
        let small = record(1, Status::Deployed, "kind: ConfigMap\n".into());
        let chunks = encode(&small).unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(decode(&chunks).unwrap(), small);
        // 5 MiB of incompressible-ish manifest: several chunks, none over the limit.
        let mut noise = String::new();
        let mut x: u64 = 1;
        while noise.len() < 5 * 1024 * 1024 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            noise.push_str(&format!("{x:x}\n"));
        }
        let big = record(2, Status::Deployed, noise);
        let chunks = encode(&big).unwrap();
        assert!(chunks.len() > 3, "{}", chunks.len());
        assert!(chunks.iter().all(|c| c.len() <= CHUNK_BYTES));
        assert_eq!(decode(&chunks).unwrap(), big);
    }

    #[test]
    fn broken_records_are_errors() {
        assert!(matches!(decode(&[]), Err(CodecError::Empty)));
        assert!(matches!(decode(&["!!".into()]), Err(CodecError::Base64(_))));
        assert!(matches!(
            decode(&[B64.encode(b"plain")]),
            Err(CodecError::Gzip(_))
        ));
        let mut r = record(1, Status::Deployed, String::new());
        r.api_version = "cocktail-pkg/v9".into();
        assert!(matches!(
            decode(&encode(&r).unwrap()),
            Err(CodecError::ApiVersion(_))
        ));
        // Missing chunk: not valid gzip.
        let big = record(
            1,
            Status::Deployed,
            (0..400_000).map(|i| format!("{i:x}")).collect::<String>(),
        );
        let chunks = encode(&big).unwrap();
        if chunks.len() > 1 {
            assert!(decode(&chunks[..1]).is_err());
        }
    }

    #[test]
    fn current_and_prune() {
        let rs = vec![
            record(1, Status::Superseded, String::new()),
            record(2, Status::Superseded, String::new()),
            record(3, Status::Deployed, String::new()),
            record(4, Status::Failed, String::new()),
        ];
        assert_eq!(current(&rs).unwrap().revision, 4);
        assert_eq!(prune(&rs, 2), vec![1, 2]);
        assert_eq!(prune(&rs, 10), Vec::<u64>::new());
        let all_old = vec![
            record(1, Status::Superseded, String::new()),
            record(2, Status::Uninstalled, String::new()),
        ];
        assert_eq!(current(&all_old).unwrap().revision, 2);
        assert_eq!(prune(&all_old, 1), vec![1]);
    }
}
