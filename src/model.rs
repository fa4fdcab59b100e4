//! Domain newtypes shared by every module: names, digests and object ids.
//!
//! Parse, don't validate: a `PackageName` or `Digest` that exists is valid. Pure, no IO.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Why a name was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {what} `{value}`: {reason}")]
pub struct NameError {
    pub what: &'static str,
    pub value: String,
    pub reason: &'static str,
}

/// Checks a DNS-1123 label: lowercase alphanumerics and `-`, starting and ending alphanumeric.
fn check_dns_label(what: &'static str, value: &str, max: usize) -> Result<(), NameError> {
    let err = |reason| NameError {
        what,
        value: value.to_string(),
        reason,
    };
    if value.is_empty() {
        return Err(err("must not be empty"));
    }
    if value.len() > max {
        return Err(err("is too long"));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(err(
            "may contain only lowercase letters, digits and `-` (DNS-1123 label)",
        ));
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Err(err("must start and end with a letter or digit"));
    }
    Ok(())
}

macro_rules! dns_name {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Longest accepted name.
            pub const MAX_LEN: usize = $max;

            pub fn new(value: impl Into<String>) -> Result<Self, NameError> {
                let value = value.into();
                check_dns_label($what, &value, $max)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

dns_name!(
    /// A package name: a DNS-1123 label of at most 53 characters (room for release suffixes).
    PackageName,
    "package name",
    53
);
dns_name!(
    /// A release name: a DNS-1123 label of at most 53 characters, so `<release>-<suffix>` object
    /// names still fit in 63.
    ReleaseName,
    "release name",
    53
);
dns_name!(
    /// A service map name: the Kubernetes namespace it manages (DNS-1123 label, at most 63).
    ServiceMapName,
    "service map name",
    63
);

/// A content digest, always sha256 here, written `sha256:<64 lowercase hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

/// Why a digest string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid digest `{0}`: expected `sha256:` followed by 64 hex digits")]
pub struct DigestParseError(pub String);

impl Digest {
    /// The sha256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    pub fn from_sha256(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Lowercase hex of the hash, without the algorithm prefix.
    pub fn hex(&self) -> String {
        hex(&self.0)
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl FromStr for Digest {
    type Err = DigestParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DigestParseError(s.to_string());
        let h = s.strip_prefix("sha256:").ok_or_else(err)?;
        if h.len() != 64 {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, chunk) in h.as_bytes().chunks(2).enumerate() {
            let nib = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            };
            out[i] = (nib(chunk[0]).ok_or_else(err)? << 4) | nib(chunk[1]).ok_or_else(err)?;
        }
        Ok(Self(out))
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The identity of one Kubernetes object: group, kind, namespace (empty when cluster-scoped), name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectId {
    /// API group, empty for the core group (`v1`).
    pub group: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
}

impl ObjectId {
    /// The group part of an `apiVersion` (`apps/v1` -> `apps`, `v1` -> ``).
    pub fn group_of(api_version: &str) -> &str {
        api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}", self.kind)?;
        } else {
            write!(f, "{}.{}", self.kind, self.group)?;
        }
        if self.namespace.is_empty() {
            write!(f, "/{}", self.name)
        } else {
            write!(f, "/{}/{}", self.namespace, self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dns_1123() {
        assert!(PackageName::new("redis").is_ok());
        assert!(PackageName::new("node-exporter2").is_ok());
        for bad in ["", "Redis", "-a", "a-", "a_b", "a.b", &"x".repeat(54)] {
            assert!(PackageName::new(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(ServiceMapName::new("x".repeat(63)).is_ok());
    }

    #[test]
    fn digest_round_trips() {
        let d = Digest::of(b"hello");
        assert_eq!(
            d.to_string(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        assert!("sha256:zz".parse::<Digest>().is_err());
        assert!("md5:00".parse::<Digest>().is_err());
    }

    #[test]
    fn object_id_display() {
        let id = ObjectId {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
        };
        assert_eq!(id.to_string(), "Deployment.apps/shop/web");
        assert_eq!(ObjectId::group_of("apps/v1"), "apps");
        assert_eq!(ObjectId::group_of("v1"), "");
    }
}
