//! Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), for
//! the kinds typed clients write that way: Secrets and ConfigMaps (client-go's clientsets send
//! built-in types as protobuf; Helm's storage drivers write their release records through
//! them). Responses stay JSON, which such clients also accept.
//!
//! The envelope is the 4-byte magic `k8s\0` and a `runtime.Unknown` (1: `typeMeta` {1:
//! apiVersion, 2: kind}, 2: `raw`, 3: contentEncoding, 4: contentType); `raw` is the object as
//! generated from `k8s.io/api` (`generated.proto`). Only the fields those kinds and their
//! `ObjectMeta` carry are read; unknown fields are skipped, as protobuf readers do.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::validation::ApiError;

const MAGIC: &[u8] = b"k8s\0";

fn bad(why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "the protobuf request body cannot be decoded: {why}"
    ))
}

/// One field of a message: its number and its value (a varint or the bytes of a
/// length-delimited field; fixed-width fields are skipped).
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, ApiError> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or_else(|| bad("truncated varint"))?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err(bad("varint too long"))
}

fn fields(buf: &[u8]) -> Result<Vec<(u64, Field<'_>)>, ApiError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let tag = varint(buf, &mut pos)?;
        let (number, wire) = (tag >> 3, tag & 7);
        let field = match wire {
            0 => Field::Varint(varint(buf, &mut pos)?),
            1 | 5 => {
                pos += if wire == 1 { 8 } else { 4 };
                if pos > buf.len() {
                    return Err(bad("truncated fixed-width field"));
                }
                Field::Other
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| bad("length"))?;
                let end = pos.checked_add(len).filter(|e| *e <= buf.len());
                let end = end.ok_or_else(|| bad("truncated field"))?;
                let bytes = &buf[pos..end];
                pos = end;
                Field::Bytes(bytes)
            }
            _ => return Err(bad("unsupported wire type")),
        };
        out.push((number, field));
    }
    Ok(out)
}

fn text(b: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(b.to_vec()).map_err(|_| bad("a string is not UTF-8"))
}

/// A `map<string, string|bytes>` entry (1: key, 2: value); bytes values become base64, as
/// JSON carries them.
fn map_entry(b: &[u8], bytes_values: bool) -> Result<(String, Value), ApiError> {
    let mut key = String::new();
    let mut value = Value::String(String::new());
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Bytes(k)) => key = text(k)?,
            (2, Field::Bytes(v)) if bytes_values => {
                value = base64::engine::general_purpose::STANDARD.encode(v).into();
            }
            (2, Field::Bytes(v)) => value = text(v)?.into(),
            _ => {}
        }
    }
    Ok((key, value))
}

fn insert_entry(
    m: &mut Map<String, Value>,
    key: &str,
    b: &[u8],
    bytes: bool,
) -> Result<(), ApiError> {
    let (k, v) = map_entry(b, bytes)?;
    if let Value::Object(inner) = m.entry(key).or_insert_with(|| Value::Object(Map::new())) {
        inner.insert(k, v);
    }
    Ok(())
}

/// `ObjectMeta`: name, generateName, namespace, uid, resourceVersion, labels, annotations,
/// finalizers (timestamps, owner references and managed fields are the server's or unused).
fn object_meta(b: &[u8]) -> Result<Value, ApiError> {
    let mut m = Map::new();
    for (n, f) in fields(b)? {
        let Field::Bytes(v) = f else { continue };
        match n {
            1 => drop(m.insert("name".into(), text(v)?.into())),
            2 => drop(m.insert("generateName".into(), text(v)?.into())),
            3 => drop(m.insert("namespace".into(), text(v)?.into())),
            5 => drop(m.insert("uid".into(), text(v)?.into())),
            6 => drop(m.insert("resourceVersion".into(), text(v)?.into())),
            11 => insert_entry(&mut m, "labels", v, false)?,
            12 => insert_entry(&mut m, "annotations", v, false)?,
            14 => {
                let list = m
                    .entry("finalizers")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(a) = list {
                    a.push(text(v)?.into());
                }
            }
            _ => {}
        }
    }
    Ok(Value::Object(m))
}

/// Decodes a protobuf create or replace body into the JSON object it stands for.
pub(crate) fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("it does not start with the `k8s\\0` magic"))?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (n, f) in fields(rest)? {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                for (n, f) in fields(tm)? {
                    match (n, f) {
                        (1, Field::Bytes(v)) => api_version = text(v)?,
                        (2, Field::Bytes(v)) => kind = text(v)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(r)) => raw = r,
            _ => {}
        }
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), api_version.clone().into());
    obj.insert("kind".into(), kind.clone().into());
    match (api_version.as_str(), kind.as_str()) {
        ("v1", "Secret") => {
            for (n, f) in fields(raw)? {
                match (n, f) {
                    (1, Field::Bytes(v)) => drop(obj.insert("metadata".into(), object_meta(v)?)),
                    (2, Field::Bytes(v)) => insert_entry(&mut obj, "data", v, true)?,
                    (3, Field::Bytes(v)) => drop(obj.insert("type".into(), text(v)?.into())),
                    (4, Field::Bytes(v)) => insert_entry(&mut obj, "stringData", v, false)?,
                    (5, Field::Varint(v)) => drop(obj.insert("immutable".into(), (v != 0).into())),
                    _ => {}
                }
            }
        }
        ("v1", "ConfigMap") => {
            for (n, f) in fields(raw)? {
                match (n, f) {
                    (1, Field::Bytes(v)) => drop(obj.insert("metadata".into(), object_meta(v)?)),
                    (2, Field::Bytes(v)) => insert_entry(&mut obj, "data", v, false)?,
                    (3, Field::Bytes(v)) => insert_entry(&mut obj, "binaryData", v, true)?,
                    (4, Field::Varint(v)) => drop(obj.insert("immutable".into(), (v != 0).into())),
                    _ => {}
                }
            }
        }
        // What client-go sends with a DELETE (helm's release Secrets): `k8s.io/apimachinery`
        // `DeleteOptions` (1: gracePeriodSeconds, 2: preconditions {1: uid, 2:
        // resourceVersion}, 3: orphanDependents, 4: propagationPolicy, 5: dryRun).
        (_, "DeleteOptions") => {
            for (n, f) in fields(raw)? {
                match (n, f) {
                    (1, Field::Varint(v)) => {
                        drop(obj.insert("gracePeriodSeconds".into(), (v as i64).into()))
                    }
                    (2, Field::Bytes(v)) => {
                        let mut pre = Map::new();
                        for (n, f) in fields(v)? {
                            match (n, f) {
                                (1, Field::Bytes(u)) => {
                                    drop(pre.insert("uid".into(), text(u)?.into()))
                                }
                                (2, Field::Bytes(r)) => {
                                    drop(pre.insert("resourceVersion".into(), text(r)?.into()))
                                }
                                _ => {}
                            }
                        }
                        obj.insert("preconditions".into(), Value::Object(pre));
                    }
                    (3, Field::Varint(v)) => {
                        drop(obj.insert("orphanDependents".into(), (v != 0).into()))
                    }
                    (4, Field::Bytes(v)) => {
                        drop(obj.insert("propagationPolicy".into(), text(v)?.into()))
                    }
                    (5, Field::Bytes(v)) => {
                        let list = obj
                            .entry("dryRun")
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(a) = list {
                            a.push(text(v)?.into());
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {
            return Err(ApiError::unsupported_media_type(&format!(
                "application/vnd.kubernetes.protobuf for {api_version} {kind}"
            )));
        }
    }
    Ok(Value::Object(obj))
}

/// Whether a body is in Kubernetes' protobuf encoding (starts with the magic).
pub(crate) fn is_protobuf(body: &[u8]) -> bool {
    body.starts_with(MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len_field(n: u64, b: &[u8]) -> Vec<u8> {
        let mut out = vec![(n << 3 | 2) as u8, b.len() as u8];
        out.extend_from_slice(b);
        out
    }

    #[test]
    fn decodes_delete_options_as_client_go_encodes_them() {
        let mut raw = len_field(4, b"Background");
        raw.extend(len_field(5, b"All"));
        raw.extend(len_field(2, &len_field(1, b"u-1")));
        let mut tm = len_field(1, b"v1");
        tm.extend(len_field(2, b"DeleteOptions"));
        let mut body = b"k8s\0".to_vec();
        body.extend(len_field(1, &tm));
        body.extend(len_field(2, &raw));
        assert!(is_protobuf(&body));
        let v = decode(&body).unwrap();
        assert_eq!(v["propagationPolicy"], "Background");
        assert_eq!(v["dryRun"], serde_json::json!(["All"]));
        assert_eq!(v["preconditions"]["uid"], "u-1");
    }

    #[test]
    fn decodes_a_secret_as_client_go_encodes_it() {
        let meta = [
            len_field(1, b"r1"),
            len_field(
                11,
                &[len_field(1, b"owner"), len_field(2, b"helm")].concat(),
            ),
        ]
        .concat();
        let secret = [
            len_field(1, &meta),
            len_field(
                2,
                &[len_field(1, b"release"), len_field(2, b"abc")].concat(),
            ),
            len_field(3, b"helm.sh/release.v1"),
        ]
        .concat();
        let unknown = [
            len_field(1, &[len_field(1, b"v1"), len_field(2, b"Secret")].concat()),
            len_field(2, &secret),
        ]
        .concat();
        let body = [MAGIC, &unknown].concat();
        let v = decode(&body).expect("decodes");
        assert_eq!(
            v,
            serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "r1", "labels": {"owner": "helm"}},
                "data": {"release": "YWJj"}, "type": "helm.sh/release.v1"})
        );
        assert!(decode(b"k8s\0\x0a\x05").is_err());
        assert!(decode(b"{}").is_err());
    }
}
