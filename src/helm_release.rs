//! Helm's release records, read (and written) exactly as Helm's storage drivers keep them, so
//! `adopt` can take over releases Helm installed.
//!
//! - A record is a release revision as JSON (`pkg/release/v1`: `name`, `namespace`, `version`,
//!   `info`, `chart`, `config`, `manifest`, `hooks`), gzip-compressed (best compression) and
//!   base64-encoded (`pkg/storage/driver/util.go`). Reading accepts a payload that is not
//!   gzip-compressed too, as Helm does for records written before compression (it checks the
//!   gzip magic bytes `1f 8b 08`).
//! - The Secret driver (Helm's default) stores it in a Secret `sh.helm.release.v1.NAME.vN` of
//!   type `helm.sh/release.v1`, labels `owner=helm`, `name`, `status`, `version` (and
//!   `createdAt`/`modifiedAt`), data key `release`. The Secret's data is bytes, so the base64
//!   text is itself base64-encoded in the object.
//! - The ConfigMap driver stores the same text as a ConfigMap's `data.release`, same name and
//!   labels.
//!
//! Pure, no IO. Records come from a cluster anyone may have written to: nothing here may panic
//! on them, and decompression is bounded by [`crate::release::MAX_RECORD_BYTES`].

#![deny(clippy::arithmetic_side_effects)]

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use crate::release::MAX_RECORD_BYTES;

/// The `owner` label of Helm's records.
pub const OWNER: &str = "helm";
/// The Secret type of Helm 3 and 4 release records.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// The gzip magic bytes Helm looks for.
const MAGIC_GZIP: [u8; 3] = [0x1f, 0x8b, 0x08];

/// The name of a revision's record: `sh.helm.release.v1.NAME.vN` (Secret or ConfigMap).
pub fn record_name(release: &str, version: u64) -> String {
    format!("sh.helm.release.v1.{release}.v{version}")
}

/// One revision of a Helm release (`pkg/release/v1.Release`). Fields Helm writes that
/// cocktail-pkg does not use are ignored when read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HelmRelease {
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<Chart>,
    /// The values the user supplied (`helm get values`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub manifest: String,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "hooks"
    )]
    pub hooks: Vec<Hook>,
    /// The revision (a Go `int`: anything may be stored, callers check it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: i64,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub namespace: String,
    /// Helm 4: `ssa` (server-side apply) or `csa` (client-side apply, the default when empty).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub apply_method: String,
}

/// `pkg/release/v1.Info`. Times are Go's RFC 3339 with nanoseconds; an empty string, null or
/// Go's zero time (`0001-01-01T00:00:00Z`) means unset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Info {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "time"
    )]
    pub first_deployed: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "time"
    )]
    pub last_deployed: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "time"
    )]
    pub deleted: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub description: String,
    /// `unknown`, `deployed`, `uninstalled`, `superseded`, `failed`, `uninstalling`,
    /// `pending-install`, `pending-upgrade`, `pending-rollback`.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub status: String,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub notes: String,
}

/// The chart a revision was made from (`pkg/chart/v2.Chart`): Helm stores it whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The chart's `values.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "files"
    )]
    pub templates: Vec<ChartFile>,
    /// Every other file of the chart (`crds/…`, `README.md` …).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "files"
    )]
    pub files: Vec<ChartFile>,
}

/// `Chart.yaml` as Helm stores it (camelCase keys); other keys are kept as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub name: String,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub version: String,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub app_version: String,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub api_version: String,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A file of a stored chart: its path and its bytes (base64 in the JSON, Go's `[]byte`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartFile {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub data: String,
}

impl ChartFile {
    /// The file's text, when its data is base64 of UTF-8.
    pub fn text(&self) -> Option<String> {
        String::from_utf8(B64.decode(self.data.as_bytes()).ok()?).ok()
    }
}

/// `pkg/release/v1.Hook`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub name: String,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub kind: String,
    /// The chart-relative template path (`mychart/templates/job.yaml`).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub path: String,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub manifest: String,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "strings"
    )]
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<HookExecution>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight: i64,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "strings"
    )]
    pub delete_policies: Vec<String>,
}

/// `pkg/release/v1.HookExecution`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookExecution {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "time"
    )]
    pub started_at: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "time"
    )]
    pub completed_at: Option<String>,
    /// `Unknown`, `Running`, `Succeeded`, `Failed`.
    #[serde(default, deserialize_with = "nullable")]
    pub phase: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A string that Go may have written as `null`.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A Go `time.Time`: unset when null, empty or Go's zero time (year 1).
fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    Ok(s.filter(|t| !t.is_empty() && !t.starts_with("0001-01-01")))
}

/// A Go slice of pointers: `null` entries skipped.
fn hooks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hook>, D::Error> {
    let list = Option::<Vec<Option<Hook>>>::deserialize(d)?;
    Ok(list.unwrap_or_default().into_iter().flatten().collect())
}

fn files<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ChartFile>, D::Error> {
    let list = Option::<Vec<Option<ChartFile>>>::deserialize(d)?;
    Ok(list.unwrap_or_default().into_iter().flatten().collect())
}

fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

impl HelmRelease {
    /// `info.status`, or `unknown`.
    pub fn status(&self) -> &str {
        self.info
            .as_ref()
            .map(|i| i.status.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
    }

    /// Helm's statuses of a release with an operation under way (or interrupted).
    pub fn is_pending(&self) -> bool {
        matches!(
            self.status(),
            "pending-install" | "pending-upgrade" | "pending-rollback" | "uninstalling"
        )
    }
}

/// A Helm record that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HelmCodecError {
    #[error("it has no `release` data")]
    NoData,
    #[error("its data is not valid base64: {0}")]
    Base64(String),
    #[error("its data is not valid gzip: {0}")]
    Gzip(String),
    #[error("its data decompresses to more than {MAX_RECORD_BYTES} bytes")]
    TooLarge,
    #[error("its release is not valid JSON: {0}")]
    Json(String),
    #[error("failed to encode a Helm release: {0}")]
    Encode(String),
}

/// Encodes a release as Helm's `encodeRelease` does: JSON, gzip (best compression), base64.
pub fn encode(release: &HelmRelease) -> Result<String, HelmCodecError> {
    let json = serde_json::to_vec(release).map_err(|e| HelmCodecError::Encode(e.to_string()))?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&json)
        .map_err(|e| HelmCodecError::Encode(e.to_string()))?;
    let compressed = gz
        .finish()
        .map_err(|e| HelmCodecError::Encode(e.to_string()))?;
    Ok(B64.encode(compressed))
}

/// Decodes a release as Helm's `decodeRelease` does: base64, then gunzip when the gzip magic
/// bytes are there (bounded), then JSON.
pub fn decode(data: &str) -> Result<HelmRelease, HelmCodecError> {
    let bytes = B64
        .decode(data.trim())
        .map_err(|e| HelmCodecError::Base64(e.to_string()))?;
    let json = if bytes.starts_with(&MAGIC_GZIP) {
        let mut out = Vec::new();
        GzDecoder::new(bytes.as_slice())
            .take(MAX_RECORD_BYTES.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| HelmCodecError::Gzip(e.to_string()))?;
        if out.len() as u64 > MAX_RECORD_BYTES {
            return Err(HelmCodecError::TooLarge);
        }
        out
    } else {
        bytes
    };
    serde_json::from_slice(&json).map_err(|e| HelmCodecError::Json(e.to_string()))
}

/// Which of Helm's storage drivers holds a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Driver {
    Secret,
    ConfigMap,
}

impl Driver {
    /// The kind of object the driver stores records in.
    pub fn kind(self) -> &'static str {
        match self {
            Driver::Secret => "Secret",
            Driver::ConfigMap => "ConfigMap",
        }
    }
}

/// The labels Helm's drivers put on a record (`createdAt` as `Create` sets it).
fn labels(release: &HelmRelease, created_at: i64) -> Value {
    json!({
        "createdAt": created_at.to_string(),
        "name": release.name,
        "owner": OWNER,
        "status": release.status(),
        "version": release.version.to_string(),
    })
}

/// The object Helm's driver writes for a release (as `Create` does, at Unix time `created_at`):
/// a Secret of type [`SECRET_TYPE`] whose `data.release` is the base64 of [`encode`]'s text, or
/// a ConfigMap whose `data.release` is that text.
pub fn record_object(
    driver: Driver,
    release: &HelmRelease,
    created_at: i64,
) -> Result<Value, HelmCodecError> {
    let text = encode(release)?;
    let version = u64::try_from(release.version).unwrap_or(0);
    let metadata = json!({
        "name": record_name(&release.name, version),
        "namespace": release.namespace,
        "labels": labels(release, created_at),
    });
    Ok(match driver {
        Driver::Secret => json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata,
            "type": SECRET_TYPE,
            "data": {"release": B64.encode(text.as_bytes())},
        }),
        Driver::ConfigMap => json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata,
            "data": {"release": text},
        }),
    })
}

/// Reads the release a record object holds (a Secret's or ConfigMap's `data.release`).
pub fn from_object(driver: Driver, object: &Value) -> Result<HelmRelease, HelmCodecError> {
    let data = object
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or(HelmCodecError::NoData)?;
    match driver {
        Driver::Secret => {
            // The Secret API base64-encodes data bytes; the bytes are Helm's base64 text.
            let bytes = B64
                .decode(data.trim())
                .map_err(|e| HelmCodecError::Base64(e.to_string()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| HelmCodecError::Base64("the Secret's data is not text".into()))?;
            decode(&text)
        }
        Driver::ConfigMap => decode(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> HelmRelease {
        HelmRelease {
            name: "web".into(),
            namespace: "shop".into(),
            version: 2,
            info: Some(Info {
                first_deployed: Some("2026-01-02T03:04:05.123456789+09:00".into()),
                last_deployed: Some("2026-01-03T03:04:05Z".into()),
                deleted: None,
                description: "Upgrade complete".into(),
                status: "deployed".into(),
                notes: "hello".into(),
            }),
            chart: Some(Chart {
                metadata: Some(Metadata {
                    name: "nginx".into(),
                    version: "1.2.3".into(),
                    app_version: "1.27".into(),
                    api_version: "v2".into(),
                    other: Map::new(),
                }),
                values: Some(json!({"replicas": 1})),
                templates: vec![],
                files: vec![],
            }),
            config: Some(json!({"replicas": 3})),
            manifest: "---\n# Source: nginx/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n".into(),
            hooks: vec![Hook {
                name: "web-test".into(),
                kind: "Pod".into(),
                path: "nginx/templates/test.yaml".into(),
                manifest: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-test\n".into(),
                events: vec!["test".into()],
                last_run: Some(HookExecution {
                    started_at: None,
                    completed_at: None,
                    phase: "Unknown".into(),
                }),
                weight: -5,
                delete_policies: vec!["before-hook-creation".into()],
            }],
            apply_method: String::new(),
        }
    }

    #[test]
    fn round_trips_through_both_drivers() {
        let r = sample();
        for driver in [Driver::Secret, Driver::ConfigMap] {
            let obj = record_object(driver, &r, 1_700_000_000).unwrap();
            assert_eq!(obj["metadata"]["name"], "sh.helm.release.v1.web.v2");
            assert_eq!(obj["metadata"]["labels"]["owner"], "helm");
            assert_eq!(obj["metadata"]["labels"]["status"], "deployed");
            assert_eq!(obj["metadata"]["labels"]["version"], "2");
            assert_eq!(from_object(driver, &obj).unwrap(), r);
        }
        let secret = record_object(Driver::Secret, &r, 0).unwrap();
        assert_eq!(secret["type"], SECRET_TYPE);
        // The Secret holds base64 of Helm's base64 text, which starts with gzip's magic.
        let inner = B64
            .decode(secret["data"]["release"].as_str().unwrap())
            .unwrap();
        let gz = B64.decode(&inner).unwrap();
        assert_eq!(&gz[..3], &MAGIC_GZIP);
    }

    #[test]
    fn reads_what_go_writes() {
        // Helm 3 writes Go's zero time for `deleted`, nulls for empty slices and maps; old
        // records are not compressed.
        let json = r#"{"name":"web","info":{"first_deployed":"2026-01-02T03:04:05.5Z","last_deployed":"2026-01-02T03:04:05.5Z","deleted":"0001-01-01T00:00:00Z","description":"Install complete","status":"deployed"},"chart":{"metadata":{"name":"nginx","version":"0.1.0","apiVersion":"v2","keywords":null},"templates":null,"values":null,"files":[{"name":"crds/a.yaml","data":"YTogMQo="}]},"config":null,"manifest":"","hooks":[null],"version":1,"namespace":"shop","unknownField":{"x":1}}"#;
        let r = decode(&B64.encode(json)).unwrap();
        assert_eq!(r.version, 1);
        assert_eq!(r.info.as_ref().unwrap().deleted, None);
        assert!(r.hooks.is_empty());
        assert_eq!(
            r.chart.as_ref().unwrap().files[0].text().as_deref(),
            Some("a: 1\n")
        );
        assert_eq!(r.status(), "deployed");
    }

    #[test]
    fn broken_records_are_errors_not_panics() {
        assert!(matches!(decode("!!"), Err(HelmCodecError::Base64(_))));
        assert!(matches!(decode(""), Err(HelmCodecError::Json(_))));
        assert!(matches!(decode("H4sI"), Err(HelmCodecError::Gzip(_))));
        assert!(matches!(
            decode(&B64.encode(b"{not json")),
            Err(HelmCodecError::Json(_))
        ));
        // Truncated gzip.
        let text = encode(&sample()).unwrap();
        let bytes = B64.decode(&text).unwrap();
        let cut = B64.encode(&bytes[..bytes.len() / 2]);
        assert!(matches!(decode(&cut), Err(HelmCodecError::Gzip(_))));
        assert!(matches!(
            from_object(Driver::Secret, &json!({"data": {}})),
            Err(HelmCodecError::NoData)
        ));
    }
}
