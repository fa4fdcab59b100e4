//! Ed25519 keys and signatures for the index root. Pure: randomness for new keys is passed in.
//!
//! Key files are one line: `cocktail-pkg-ed25519-secret:BASE64` (32-byte seed) and
//! `cocktail-pkg-ed25519:BASE64` (32-byte public key). The signature file is JSON:
//! `{"algorithm": "ed25519", "keyId": "…", "signature": "BASE64"}` over the root's exact bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::model::Digest;

const SECRET_PREFIX: &str = "cocktail-pkg-ed25519-secret:";
const PUBLIC_PREFIX: &str = "cocktail-pkg-ed25519:";

/// A key or signature that could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    #[error("invalid {what}: {reason}")]
    BadKey { what: &'static str, reason: String },
    #[error("invalid signature file: {0}")]
    BadSignatureFile(String),
    #[error("the index is signed by key {found}, but this repository trusts key {expected}")]
    WrongKey { expected: String, found: String },
    #[error("the index signature does not match its content (signed by key {key_id})")]
    Mismatch { key_id: String },
}

impl SignError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SignError::WrongKey { .. } => Some(
                "the index host changed its key, or someone is impersonating it; if the change is expected, re-add the repository with the new --public-key".into(),
            ),
            SignError::Mismatch { .. } => Some(
                "the index was modified after signing, or the download was corrupted; nothing was cached".into(),
            ),
            _ => None,
        }
    }
}

/// A secret signing key.
pub struct SecretKey(SigningKey);

/// A public key that verifies index signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

/// The signature file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureFile {
    pub algorithm: String,
    pub key_id: String,
    pub signature: String,
}

fn decode32(what: &'static str, b64: &str) -> Result<[u8; 32], SignError> {
    let bytes = B64.decode(b64.trim()).map_err(|e| SignError::BadKey {
        what,
        reason: e.to_string(),
    })?;
    bytes.try_into().map_err(|_| SignError::BadKey {
        what,
        reason: "expected 32 bytes".into(),
    })
}

impl SecretKey {
    /// A key from 32 random bytes.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    pub fn parse(text: &str) -> Result<Self, SignError> {
        let b64 = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SignError::BadKey {
                what: "secret key",
                reason: format!("expected a line starting with `{SECRET_PREFIX}`"),
            })?;
        Ok(Self::from_seed(decode32("secret key", b64)?))
    }

    /// The key file's text (one line).
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}\n", B64.encode(self.0.to_bytes()))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message`; ed25519 signatures are deterministic.
    pub fn sign(&self, message: &[u8]) -> SignatureFile {
        let sig: Signature = self.0.sign(message);
        SignatureFile {
            algorithm: "ed25519".into(),
            key_id: self.public().key_id(),
            signature: B64.encode(sig.to_bytes()),
        }
    }
}

impl PublicKey {
    pub fn parse(text: &str) -> Result<Self, SignError> {
        let b64 = text
            .trim()
            .strip_prefix(PUBLIC_PREFIX)
            .ok_or(SignError::BadKey {
                what: "public key",
                reason: format!("expected `{PUBLIC_PREFIX}` followed by base64"),
            })?;
        VerifyingKey::from_bytes(&decode32("public key", b64)?)
            .map(Self)
            .map_err(|e| SignError::BadKey {
                what: "public key",
                reason: e.to_string(),
            })
    }

    pub fn to_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}\n", B64.encode(self.0.to_bytes()))
    }

    /// A short fingerprint: the first 16 hex digits of the key's sha256.
    pub fn key_id(&self) -> String {
        Digest::of(&self.0.to_bytes()).hex()[..16].to_string()
    }

    /// Checks that `sig` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], sig: &SignatureFile) -> Result<(), SignError> {
        if sig.algorithm != "ed25519" {
            return Err(SignError::BadSignatureFile(format!(
                "unsupported algorithm `{}`",
                sig.algorithm
            )));
        }
        if sig.key_id != self.key_id() {
            return Err(SignError::WrongKey {
                expected: self.key_id(),
                found: sig.key_id.clone(),
            });
        }
        let bytes: [u8; 64] = B64
            .decode(sig.signature.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                SignError::BadSignatureFile("the signature is not 64 bytes of base64".into())
            })?;
        self.0
            .verify_strict(message, &Signature::from_bytes(&bytes))
            .map_err(|_| SignError::Mismatch {
                key_id: sig.key_id.clone(),
            })
    }
}

impl SignatureFile {
    pub fn parse(bytes: &[u8]) -> Result<Self, SignError> {
        serde_json::from_slice(bytes).map_err(|e| SignError::BadSignatureFile(e.to_string()))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let key = SecretKey::from_seed([7; 32]);
        let public = key.public();
        let sig = key.sign(b"root");
        assert_eq!(sig, key.sign(b"root"), "deterministic");
        public.verify(b"root", &sig).unwrap();
        assert!(matches!(
            public.verify(b"r00t", &sig),
            Err(SignError::Mismatch { .. })
        ));
        let other = SecretKey::from_seed([8; 32]).public();
        assert!(matches!(
            other.verify(b"root", &sig),
            Err(SignError::WrongKey { .. })
        ));
        // Key files round-trip.
        assert_eq!(SecretKey::parse(&key.to_text()).unwrap().public(), public);
        assert_eq!(PublicKey::parse(&public.to_text()).unwrap(), public);
        assert!(PublicKey::parse("ssh-ed25519 AAAA").is_err());
        let mut tampered = sig.clone();
        tampered.signature = B64.encode([0u8; 64]);
        assert!(public.verify(b"root", &tampered).is_err());
    }
}
