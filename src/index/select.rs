//! Version selection: the newest version matching a semver requirement. Pure.
//!
//! Requirements are read as Helm users read them: a bare full version (`1.0.0`, `v1.0.0`) is that
//! version exactly, not Cargo's `^1.0.0`; a bare partial version is that series (`1.4` is any
//! `1.4.x`, `1` any `1.x.y`); operators stay explicit (`^1`, `~1.4`, `>=1.2, <2`, `*`). An exact
//! version may name a yanked version (yanking stops automatic selection, not a deliberate pin).

use semver::{Op, VersionReq};

use super::format::VersionEntry;

/// Whether pre-releases may be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prerelease {
    /// Only when the requirement itself names a pre-release (semver's rule).
    IfRequested,
    /// Any matching pre-release counts.
    Allow,
}

/// Parses a version requirement from the command line, a reference (`REPO/NAME@REQ`) or a policy
/// track: a bare full version is exact, a bare partial version is its series (see the module
/// docs).
pub fn parse_requirement(text: &str) -> Result<VersionReq, semver::Error> {
    let t = text.trim();
    let bare = t.strip_prefix('v').unwrap_or(t);
    let starts_with_digit = bare.chars().next().is_some_and(|c| c.is_ascii_digit());
    if starts_with_digit && !bare.contains([',', ' ', '*', 'x', 'X']) {
        // `1.2.3`, `1.2.3-rc.1`, `1.4`, `1`: pin with `=` (exact for a full version, the series
        // for a partial one).
        return VersionReq::parse(&format!("={bare}"));
    }
    VersionReq::parse(t)
}

/// True when `req` names one version exactly (`=1.2.3`), which may then be a yanked one.
pub fn is_exact(req: &VersionReq) -> bool {
    matches!(
        req.comparators.as_slice(),
        [c] if c.op == Op::Exact && c.minor.is_some() && c.patch.is_some()
    )
}

/// The newest version matching `req`: yanked versions only when `req` names one exactly.
pub fn select<'a>(
    versions: &'a [VersionEntry],
    req: &VersionReq,
    pre: Prerelease,
) -> Option<&'a VersionEntry> {
    let exact = is_exact(req);
    versions
        .iter()
        .filter(|v| exact || !v.yanked)
        .filter(|v| {
            req.matches(&v.version)
                || (pre == Prerelease::Allow && !v.version.pre.is_empty() && {
                    let mut plain = v.version.clone();
                    plain.pre = semver::Prerelease::EMPTY;
                    req.matches(&plain)
                })
        })
        .max_by(|a, b| a.version.cmp(&b.version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Digest;
    use semver::Version;

    fn e(v: &str, yanked: bool) -> VersionEntry {
        VersionEntry {
            version: Version::parse(v).unwrap(),
            url: String::new(),
            digest: Digest::of(b""),
            size: 0,
            app_version: None,
            kube_version: None,
            created: String::new(),
            yanked,
            changelog: vec![],
        }
    }

    #[test]
    fn selection_table() {
        let vs = [
            e("1.0.0", false),
            e("1.4.2", false),
            e("2.0.0", false),
            e("2.1.0", true),
            e("2.2.0-beta.1", false),
            e("3.0.0-rc.1", false),
        ];
        let pick = |r: &str, p| {
            select(&vs, &VersionReq::parse(r).unwrap(), p).map(|v| v.version.to_string())
        };
        use Prerelease::*;
        assert_eq!(pick("*", IfRequested).as_deref(), Some("2.0.0"));
        assert_eq!(pick("^1", IfRequested).as_deref(), Some("1.4.2"));
        assert_eq!(
            pick("^2", IfRequested).as_deref(),
            Some("2.0.0"),
            "2.1.0 is yanked"
        );
        assert_eq!(pick("^2", Allow).as_deref(), Some("2.2.0-beta.1"));
        assert_eq!(
            pick(">=2.2.0-beta.0", IfRequested).as_deref(),
            Some("2.2.0-beta.1")
        );
        assert_eq!(pick("=1.0.0", IfRequested).as_deref(), Some("1.0.0"));
        assert_eq!(
            pick("=2.1.0", IfRequested).as_deref(),
            Some("2.1.0"),
            "a yanked version can be fetched exactly"
        );
        assert_eq!(pick("^4", Allow), None);
        assert_eq!(pick("*", Allow).as_deref(), Some("3.0.0-rc.1"));
    }

    #[test]
    fn bare_versions_are_exact_and_partial_ones_are_series() {
        let vs = [
            e("1.0.0", false),
            e("1.1.0", false),
            e("1.4.2", false),
            e("1.4.7", true),
            e("2.0.0", false),
        ];
        let pick = |r: &str| {
            let req = parse_requirement(r).unwrap();
            select(&vs, &req, Prerelease::IfRequested).map(|v| v.version.to_string())
        };
        assert_eq!(pick("1.0.0").as_deref(), Some("1.0.0"), "not ^1.0.0");
        assert_eq!(pick("v1.0.0").as_deref(), Some("1.0.0"));
        assert_eq!(
            pick("1.4.7").as_deref(),
            Some("1.4.7"),
            "exact, though yanked"
        );
        assert_eq!(pick("1.4").as_deref(), Some("1.4.2"), "the 1.4 series");
        assert_eq!(pick("1").as_deref(), Some("1.4.2"));
        assert_eq!(
            pick("^1.0.0").as_deref(),
            Some("1.4.2"),
            "ranges stay explicit"
        );
        assert_eq!(pick("~1.1").as_deref(), Some("1.1.0"));
        assert_eq!(pick(">=1.2, <2").as_deref(), Some("1.4.2"));
        assert_eq!(pick("*").as_deref(), Some("2.0.0"));
        assert_eq!(pick("1.x").as_deref(), Some("1.4.2"));
        assert!(is_exact(&parse_requirement("1.2.3").unwrap()));
        assert!(!is_exact(&parse_requirement("1.2").unwrap()));
        assert!(parse_requirement("banana").is_err());
    }
}
