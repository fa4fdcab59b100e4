//! `oci://HOST[:PORT]/PATH/NAME` references with `:TAG`, `@sha256:DIGEST` or `@REQ` (a semver
//! requirement resolved from the registry's tag list, newest match, as Helm and Flux do). Pure.
//!
//! Tags are versions with Helm's one change: `+` (build metadata), which tags may not hold, is
//! written `_` (`1.2.3+build.1` is the tag `1.2.3_build.1`).

use std::fmt;

use semver::{Version, VersionReq};

use super::OciError;
use crate::index::select::parse_requirement;
use crate::model::Digest;

/// The `oci://` prefix.
pub const SCHEME: &str = "oci://";

/// Which artifact of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `:TAG`.
    Tag(String),
    /// `@sha256:…` (a tag beside it is ignored, as Docker does).
    Digest(Digest),
    /// `@REQ`, or nothing: the newest semver tag matching (`None`: the newest stable one).
    Req(Option<VersionReq>),
    /// `@REQ` in Helm's constraint syntax only (Masterminds semver: `>=1.2 <2`, `^1 || ^2`).
    Constraint(String),
}

/// A parsed `oci://` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    /// `HOST[:PORT]` as written (`registry.example.com`, `127.0.0.1:5000`, `[::1]:5000`).
    pub registry: String,
    /// The repository path below the registry (`charts/redis`), lowercase.
    pub repository: String,
    pub selector: Selector,
}

fn invalid(reference: &str, reason: impl Into<String>) -> OciError {
    OciError::InvalidReference {
        reference: reference.into(),
        reason: reason.into(),
    }
}

/// A repository path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    if c.bytes()
        .any(|x| !(x.is_ascii_lowercase() || x.is_ascii_digit() || matches!(x, b'.' | b'_' | b'-')))
    {
        return false;
    }
    // Separators: `.`, `_`, `__` or any run of `-`, never mixed or doubled otherwise.
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
}

fn valid_registry(r: &str) -> bool {
    let (host_ok, port) = if let Some(rest) = r.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else {
            return false;
        };
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => return false,
            },
        };
        (
            !h.is_empty() && h.bytes().all(|x| x.is_ascii_hexdigit() || x == b':'),
            port,
        )
    } else {
        let (h, port) = match r.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (r, None),
        };
        (
            !h.is_empty()
                && h.bytes()
                    .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'.' | b'-'))
                && !h.starts_with(['.', '-']),
            port,
        )
    };
    host_ok
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|x| x.is_ascii_digit()))
}

/// The tag a version is published under (`+` becomes `_`, as Helm writes it).
pub fn tag_for(version: &Version) -> String {
    version.to_string().replace('+', "_")
}

/// The version a tag names, if it is a strict semantic version (Helm's `_` read back as `+`).
pub fn version_of_tag(tag: &str) -> Option<Version> {
    Version::parse(&tag.replace('_', "+")).ok()
}

impl OciRef {
    /// Whether `arg` is meant as an OCI reference.
    pub fn is_oci(arg: &str) -> bool {
        arg.starts_with(SCHEME)
    }

    /// Parses `oci://HOST[:PORT]/PATH/NAME[:TAG][@sha256:DIGEST|@REQ]`.
    pub fn parse(arg: &str) -> Result<OciRef, OciError> {
        let rest = arg
            .strip_prefix(SCHEME)
            .ok_or_else(|| invalid(arg, "it must start with oci://"))?;
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| invalid(arg, "expected oci://HOST/PATH/NAME"))?;
        if !valid_registry(registry) {
            return Err(invalid(
                arg,
                format!("`{registry}` is not a registry host[:port]"),
            ));
        }
        let (path, at) = match path.split_once('@') {
            Some((p, a)) => (p, Some(a)),
            None => (path, None),
        };
        let (repository, tag) = match path.rsplit_once('/') {
            Some((dir, last)) => match last.split_once(':') {
                Some((name, tag)) => (format!("{dir}/{name}"), Some(tag)),
                None => (path.to_string(), None),
            },
            None => match path.split_once(':') {
                Some((name, tag)) => (name.to_string(), Some(tag)),
                None => (path.to_string(), None),
            },
        };
        if repository.is_empty() || repository.len() > 255 {
            return Err(invalid(arg, "the repository path is empty or too long"));
        }
        if let Some(bad) = repository.split('/').find(|c| !valid_component(c)) {
            return Err(invalid(
                arg,
                format!(
                    "`{bad}` is not a valid repository path component (lowercase letters, digits, and `.`, `_`, `-` between them)"
                ),
            ));
        }
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(invalid(arg, format!("`{t}` is not a valid tag")));
        }
        let selector = match (at, tag) {
            (Some(a), _) if a.starts_with("sha256:") => Selector::Digest(
                a.parse()
                    .map_err(|e: crate::model::DigestParseError| invalid(arg, e.to_string()))?,
            ),
            (Some(a), _) if a.contains(':') && !a.contains([' ', '<', '>', '=', ',']) => {
                return Err(invalid(
                    arg,
                    format!("unsupported digest `{a}` (only sha256)"),
                ));
            }
            (Some(_), Some(t)) => {
                return Err(invalid(
                    arg,
                    format!("both a tag (`{t}`) and a version requirement: use one"),
                ));
            }
            (Some(a), None) => match parse_requirement(a) {
                Ok(r) => Selector::Req(Some(r)),
                Err(_) if gotpl::funcs::versions::Constraints::parse(a.trim()).is_ok() => {
                    Selector::Constraint(a.trim().to_string())
                }
                Err(e) => {
                    return Err(invalid(
                        arg,
                        format!("`{a}` is not a version requirement: {e}"),
                    ));
                }
            },
            (None, Some(t)) => Selector::Tag(t.to_string()),
            (None, None) => Selector::Req(None),
        };
        Ok(OciRef {
            registry: registry.to_string(),
            repository,
            selector,
        })
    }

    /// The last path component: the chart's or package's name.
    pub fn name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// `oci://HOST/REPOSITORY` without a tag or digest.
    pub fn base(&self) -> String {
        format!("{SCHEME}{}/{}", self.registry, self.repository)
    }

    /// The same repository with another selector.
    pub fn with(&self, selector: Selector) -> OciRef {
        OciRef {
            selector,
            ..self.clone()
        }
    }

    /// Whether the registry is on this machine (plain HTTP is used for it without asking).
    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.registry)
    }
}

/// Whether a `HOST[:PORT]` names this machine: `localhost`, `127.0.0.0/8` or `[::1]`.
pub fn is_loopback(registry: &str) -> bool {
    let host = if registry.starts_with('[') {
        registry
            .split(']')
            .next()
            .unwrap_or("")
            .trim_start_matches('[')
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, _)| h)
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.base())?;
        match &self.selector {
            Selector::Tag(t) => write!(f, ":{t}"),
            Selector::Digest(d) => write!(f, "@{d}"),
            Selector::Req(Some(r)) => write!(f, "@{r}"),
            Selector::Constraint(c) => write!(f, "@{c}"),
            Selector::Req(None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> OciRef {
        OciRef::parse(s).unwrap()
    }

    #[test]
    fn parses_tags_digests_and_requirements() {
        let r = p("oci://registry.example.com/charts/redis:1.2.3");
        assert_eq!(r.registry, "registry.example.com");
        assert_eq!(r.repository, "charts/redis");
        assert_eq!(r.selector, Selector::Tag("1.2.3".into()));
        assert_eq!(r.name(), "redis");

        let r = p("oci://127.0.0.1:5000/a/b/c@^1.2");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "a/b/c");
        assert_eq!(
            r.selector,
            Selector::Req(Some(VersionReq::parse("^1.2").unwrap()))
        );
        assert!(r.is_loopback());

        let hex = "a".repeat(64);
        let r = p(&format!("oci://localhost:5000/redis:1.0.0@sha256:{hex}"));
        assert_eq!(r.repository, "redis");
        assert!(matches!(r.selector, Selector::Digest(_)));

        let r = p("oci://ghcr.io/org/charts/app");
        assert_eq!(r.selector, Selector::Req(None));
        assert!(!r.is_loopback());
        assert_eq!(r.to_string(), "oci://ghcr.io/org/charts/app");

        let r = p("oci://h/x@>=1.0, <2");
        assert_eq!(
            r.selector,
            Selector::Req(Some(VersionReq::parse(">=1.0, <2").unwrap()))
        );
        assert_eq!(
            p("oci://h/x@1.2.3").selector,
            Selector::Req(Some(VersionReq::parse("=1.2.3").unwrap())),
            "a bare version is exact"
        );
        assert!(p("oci://[::1]:5000/x:1").is_loopback());
        assert_eq!(
            p("oci://h/x@>=1.2 <2").selector,
            Selector::Constraint(">=1.2 <2".into()),
            "Helm's constraint syntax when ours does not parse"
        );
    }

    #[test]
    fn refuses_malformed_references() {
        for bad in [
            "oci://",
            "oci://host",
            "oci://host/",
            "oci://host/Charts/redis",
            "oci://host/charts//redis",
            "oci://host/charts/redis:",
            "oci://host/charts/redis:bad tag",
            "oci://host/charts/redis@sha256:abc",
            "oci://host/charts/redis@sha512:abc",
            "oci://host/charts/redis:1.0@^1",
            "oci://host/charts/redis@not a req",
            "oci://ho st/x",
            "oci://host:port/x",
            "oci://host/-x",
        ] {
            assert!(OciRef::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn tags_write_build_metadata_as_underscore() {
        let v = Version::parse("1.2.3+build.7").unwrap();
        assert_eq!(tag_for(&v), "1.2.3_build.7");
        assert_eq!(version_of_tag("1.2.3_build.7"), Some(v));
        assert_eq!(version_of_tag("latest"), None);
        assert_eq!(version_of_tag("v1.2.3"), None, "strict semver, as Helm");
    }
}
