//! Helm provenance files (`NAME-VERSION.tgz.prov`): parse and verify. Pure: bytes in, a
//! verdict out; fetching the `.prov` next to an archive is the clients' job.
//!
//! A provenance file is an OpenPGP clear-signed message (RFC 9580, section 7) whose body is the
//! chart's `Chart.yaml` as YAML, a `...` line, and the archive digests Helm's
//! `pkg/provenance` writes:
//!
//! ```text
//! -----BEGIN PGP SIGNED MESSAGE-----
//! Hash: SHA512
//!
//! apiVersion: v2
//! name: demo
//! version: 0.1.0
//!
//! ...
//! files:
//!   demo-0.1.0.tgz: sha256:4f1b…
//! -----BEGIN PGP SIGNATURE-----
//! …
//! ```
//!
//! Verification is Helm's (`helm pull --verify`): the signature must be made by a key of the
//! user's keyring (a binary `pubring.gpg` as `gpg --export` writes it, or armored keys), a
//! signing subkey counting only with a valid binding to its primary key; then the archive's
//! sha256 must be the one signed for its file name. Key expiry, revocation and trust levels are
//! not evaluated (Helm does not either): the keyring is the trust decision.

use std::collections::BTreeMap;

use pgp::composed::{CleartextSignedMessage, PublicOrSecret, SignedPublicKey};
use pgp::types::KeyDetails;

use crate::model::Digest;

/// Largest provenance file read (Helm's are about 1 KB plus the Chart.yaml).
pub const MAX_PROV_BYTES: u64 = 1024 * 1024;
/// Largest keyring read.
pub const MAX_KEYRING_BYTES: u64 = 64 * 1024 * 1024;
/// The suffix of a provenance file, next to its archive.
pub const SUFFIX: &str = ".prov";
/// The media type of the provenance layer `helm push` adds to a chart's manifest.
pub const OCI_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";

/// Why a provenance check failed. Nothing is cached or used after one.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// The chart has no `.prov` (404, no layer, no file).
    #[error("{subject} has no provenance file ({location})")]
    Missing { subject: String, location: String },
    #[error("the provenance file of {subject} is malformed: {reason}")]
    Malformed { subject: String, reason: String },
    #[error("the keyring {path} could not be read: {reason}")]
    Keyring { path: String, reason: String },
    #[error(
        "the provenance file of {subject} is signed by an unknown key ({}): none of the keyring's keys made the signature",
        .key_ids.join(", ")
    )]
    UnknownKey {
        subject: String,
        key_ids: Vec<String>,
    },
    #[error("the provenance file of {subject} has a bad signature (key {key}): {reason}")]
    BadSignature {
        subject: String,
        key: String,
        reason: String,
    },
    #[error("the provenance file of {subject} signs no digest for `{file}` (it names: {names})")]
    NoDigest {
        subject: String,
        file: String,
        names: String,
    },
    #[error("{subject} has digest {actual}, but its provenance file signs {signed} for `{file}`")]
    DigestMismatch {
        subject: String,
        file: String,
        signed: String,
        actual: Digest,
    },
}

impl ProvenanceError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ProvenanceError::Missing { .. } => {
                "the chart was not published with a signature (`helm package --sign`); drop --verify to use it unsigned, or ask its publisher to sign it".into()
            }
            ProvenanceError::Malformed { .. } => {
                "a provenance file is the clear-signed output of `helm package --sign`; republish the chart".into()
            }
            ProvenanceError::Keyring { .. } => {
                "pass the publisher's public keys with --keyring PATH (binary, like `gpg --export KEY > pubring.gpg`, or armored, `gpg --export --armor`); gpg 2.1+ keeps keys in pubring.kbx, which is not a keyring file".into()
            }
            ProvenanceError::UnknownKey { .. } => {
                "import the publisher's public key into the keyring given with --keyring (`gpg --export KEY > pubring.gpg`); nothing was cached".into()
            }
            ProvenanceError::BadSignature { .. } => {
                "the provenance file was altered after signing, or forged; nothing was cached: do not use this chart".into()
            }
            ProvenanceError::NoDigest { .. } => {
                "the provenance file belongs to another archive; nothing was cached".into()
            }
            ProvenanceError::DigestMismatch { .. } => {
                "the archive is not the one that was signed (tampered, or republished without a new signature); nothing was cached: do not use this chart".into()
            }
        })
    }
}

/// The public keys a user trusts to sign charts.
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<SignedPublicKey>,
}

impl Keyring {
    /// Parses a keyring: binary OpenPGP packets (`gpg --export`, a legacy `pubring.gpg`; a
    /// secret keyring counts by its public parts, as in Helm) or armored key blocks. `path`
    /// names it in errors.
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Keyring, ProvenanceError> {
        let err = |reason: String| ProvenanceError::Keyring {
            path: path.to_string(),
            reason,
        };
        let mut keys = Vec::new();
        let mut take =
            |iter: Box<dyn Iterator<Item = pgp::errors::Result<PublicOrSecret>> + '_>| {
                for key in iter {
                    keys.push(match key.map_err(|e| err(e.to_string()))? {
                        PublicOrSecret::Public(k) => k,
                        PublicOrSecret::Secret(k) => k.to_public_key(),
                    });
                }
                Ok::<(), ProvenanceError>(())
            };
        let text = std::str::from_utf8(bytes).ok();
        match text.filter(|t| t.trim_start().starts_with("-----BEGIN PGP")) {
            Some(text) => {
                // Armored: every PUBLIC KEY BLOCK and PRIVATE KEY BLOCK in the file.
                let mut rest = text;
                while let Some(start) = rest.find("-----BEGIN PGP ") {
                    let block = &rest[start..];
                    let kind = block
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .trim_start_matches("-----BEGIN ")
                        .trim_end_matches("-----")
                        .to_string();
                    let end_line = format!("-----END {kind}-----");
                    let end = block
                        .find(&end_line)
                        .map(|e| e + end_line.len())
                        .ok_or_else(|| err(format!("the armored `{kind}` has no END line")))?;
                    if kind == "PGP PUBLIC KEY BLOCK" || kind == "PGP PRIVATE KEY BLOCK" {
                        let (iter, _) = PublicOrSecret::from_armor_many(&block.as_bytes()[..end])
                            .map_err(|e| err(e.to_string()))?;
                        take(iter)?;
                    }
                    rest = &block[end..];
                }
            }
            None => take(PublicOrSecret::from_bytes_many(bytes).map_err(|e| err(e.to_string()))?)?,
        }
        if keys.is_empty() {
            return Err(err("it holds no public key".into()));
        }
        Ok(Keyring { keys })
    }

    /// How many primary keys the keyring holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The signed body of a provenance file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `name` and `version` from the signed Chart.yaml (empty when absent).
    pub name: String,
    pub version: String,
    /// Archive file name -> `sha256:HEX`.
    pub files: BTreeMap<String, String>,
}

/// A provenance check that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signing key's first user id (`Name <email>`), or its fingerprint.
    pub signer: String,
    /// The fingerprint of the key that made the signature (upper-case hex).
    pub fingerprint: String,
    pub file: String,
    pub digest: Digest,
    pub statement: Statement,
}

fn upper_hex(bytes: &[u8]) -> String {
    crate::model::hex(bytes).to_uppercase()
}

#[derive(serde::Deserialize)]
struct Sums {
    #[serde(default)]
    files: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
struct Meta {
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    version: Option<serde_json::Value>,
}

fn scalar(v: Option<serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Parses the clear-signed body (`Chart.yaml`, `...`, `files:`), as Helm's
/// `parseMessageBlock` does.
pub fn parse_statement(subject: &str, body: &str) -> Result<Statement, ProvenanceError> {
    let malformed = |reason: String| ProvenanceError::Malformed {
        subject: subject.to_string(),
        reason,
    };
    let body = body.replace("\r\n", "\n");
    let Some((meta, sums)) = body.split_once("\n...\n") else {
        return Err(malformed(
            "its signed text has no `...` line between Chart.yaml and the files".into(),
        ));
    };
    let meta: Option<Meta> = crate::yaml::from_str_opt("the signed Chart.yaml", meta)
        .map_err(|e| malformed(e.to_string()))?;
    let sums: Option<Sums> = crate::yaml::from_str_opt("the signed digests", sums)
        .map_err(|e| malformed(e.to_string()))?;
    let (name, version) =
        meta.map_or_else(Default::default, |m| (scalar(m.name), scalar(m.version)));
    let files = sums.map(|s| s.files).unwrap_or_default();
    if files.is_empty() {
        return Err(malformed("it signs no file digest".into()));
    }
    Ok(Statement {
        name,
        version,
        files,
    })
}

/// Checks the signature of a provenance file against the keyring and the archive's digest
/// against the signed one for `file` (the archive's file name, `NAME-VERSION.tgz`). `subject`
/// names the chart in errors.
pub fn verify(
    subject: &str,
    prov: &[u8],
    keyring: &Keyring,
    file: &str,
    archive: &[u8],
) -> Result<Verified, ProvenanceError> {
    let malformed = |reason: String| ProvenanceError::Malformed {
        subject: subject.to_string(),
        reason,
    };
    let text = std::str::from_utf8(prov)
        .map_err(|_| malformed("it is not text (a clear-signed message is)".into()))?;
    let start = text
        .find("-----BEGIN PGP SIGNED MESSAGE-----")
        .ok_or_else(|| malformed("it is not an OpenPGP clear-signed message".into()))?;
    let (msg, _) = CleartextSignedMessage::from_string(&text[start..])
        .map_err(|e| malformed(e.to_string()))?;
    if msg.signatures().is_empty() {
        return Err(malformed("it holds no signature".into()));
    }
    let signed = msg.signed_text();
    let (signer, fingerprint) = check_signature(subject, &msg, keyring)?;
    let statement = parse_statement(subject, &signed)?;
    let actual = Digest::of(archive);
    let Some(sum) = statement.files.get(file) else {
        return Err(ProvenanceError::NoDigest {
            subject: subject.to_string(),
            file: file.to_string(),
            names: statement
                .files
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let expected = format!("sha256:{}", actual.hex());
    if !sum.trim().eq_ignore_ascii_case(&expected) {
        return Err(ProvenanceError::DigestMismatch {
            subject: subject.to_string(),
            file: file.to_string(),
            signed: sum.trim().to_string(),
            actual,
        });
    }
    Ok(Verified {
        signer,
        fingerprint,
        file: file.to_string(),
        digest: actual,
        statement,
    })
}

/// Finds a keyring key that made one of the message's signatures: (signer, fingerprint).
fn check_signature(
    subject: &str,
    msg: &CleartextSignedMessage,
    keyring: &Keyring,
) -> Result<(String, String), ProvenanceError> {
    let mut issuers: Vec<Vec<u8>> = Vec::new();
    for sig in msg.signatures() {
        for id in sig.issuer_key_id() {
            issuers.push(id.as_ref().to_vec());
        }
        for fp in sig.issuer_fingerprint() {
            let fp = fp.as_ref();
            // A v4 key id is the last 8 bytes of its fingerprint; v6 ids are the first 8.
            if fp.len() == 20 {
                issuers.push(fp[12..].to_vec());
            } else if fp.len() >= 8 {
                issuers.push(fp[..8].to_vec());
            }
        }
    }
    let named = |id: &[u8]| issuers.is_empty() || issuers.iter().any(|i| i.as_slice() == id);
    let mut bad: Option<(String, String)> = None;
    for key in &keyring.keys {
        let signer = key
            .details
            .users
            .iter()
            .find_map(|u| u.id.as_str().map(str::to_string))
            .unwrap_or_else(|| upper_hex(key.fingerprint().as_ref()));
        // The primary key, then its signing subkeys bound to it.
        if named(key.legacy_key_id().as_ref()) {
            let fingerprint = upper_hex(key.fingerprint().as_ref());
            match key
                .details
                .verify_bindings(&key.primary_key)
                .map_err(|e| format!("its self-signature does not verify: {e}"))
                .and_then(|()| verify_any(msg, &key.primary_key))
            {
                Ok(()) => return Ok((signer, fingerprint)),
                Err(e) => bad = Some((fingerprint, e)),
            }
        }
        for sub in &key.public_subkeys {
            if !named(sub.key.legacy_key_id().as_ref()) {
                continue;
            }
            let fingerprint = upper_hex(sub.key.fingerprint().as_ref());
            match sub
                .verify_bindings(&key.primary_key)
                .map_err(|e| format!("its binding to the primary key does not verify: {e}"))
                .and_then(|()| verify_any(msg, &sub.key))
            {
                Ok(()) => return Ok((signer, fingerprint)),
                Err(e) => bad = Some((fingerprint, e)),
            }
        }
    }
    match bad {
        Some((key, reason)) => Err(ProvenanceError::BadSignature {
            subject: subject.to_string(),
            key,
            reason,
        }),
        None => {
            let mut key_ids: Vec<String> = issuers.iter().map(|i| upper_hex(i)).collect();
            key_ids.sort();
            key_ids.dedup();
            if key_ids.is_empty() {
                key_ids.push("no issuer named".into());
            }
            Err(ProvenanceError::UnknownKey {
                subject: subject.to_string(),
                key_ids,
            })
        }
    }
}

/// Whether one of the message's signatures verifies with `key`; else why the last one did not.
fn verify_any(
    msg: &CleartextSignedMessage,
    key: &impl pgp::types::VerifyingKey,
) -> Result<(), String> {
    let signed = msg.signed_text();
    let mut why = String::from("no signature");
    for sig in msg.signatures() {
        match sig.verify(key, signed.as_bytes()) {
            Ok(()) => return Ok(()),
            // rPGP's own text is an internal assertion (`left == right`): not for users.
            Err(_) => why = "the signature does not match the signed text".into(),
        }
    }
    Err(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_parses_helms_message_block() {
        let body = "apiVersion: v2\nname: demo\nversion: 0.1.0\n\n...\nfiles:\n  demo-0.1.0.tgz: sha256:abc\n";
        let s = parse_statement("demo", body).unwrap();
        assert_eq!(s.name, "demo");
        assert_eq!(s.version, "0.1.0");
        assert_eq!(s.files["demo-0.1.0.tgz"], "sha256:abc");
        let e = parse_statement("demo", "name: demo\nfiles: {}\n").unwrap_err();
        assert!(e.to_string().contains("`...`"), "{e}");
    }

    #[test]
    fn garbage_is_refused_without_panics() {
        let ring = Keyring::parse("ring", b"\x99\x00\x01garbage");
        assert!(ring.is_err());
        let e = Keyring::parse("ring", b"").unwrap_err();
        assert!(e.to_string().contains("no public key"), "{e}");
        let e =
            Keyring::parse("ring", b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n").unwrap_err();
        assert!(e.to_string().contains("END"), "{e}");
    }
}
