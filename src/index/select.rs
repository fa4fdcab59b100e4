//! Version selection: the newest version matching a semver requirement. Pure.

use semver::VersionReq;

use super::format::VersionEntry;

/// Whether pre-releases may be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prerelease {
    /// Only when the requirement itself names a pre-release (semver's rule).
    IfRequested,
    /// Any matching pre-release counts.
    Allow,
}

/// The newest non-yanked version matching `req`.
pub fn select<'a>(
    versions: &'a [VersionEntry],
    req: &VersionReq,
    pre: Prerelease,
) -> Option<&'a VersionEntry> {
    versions
        .iter()
        .filter(|v| !v.yanked)
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
        assert_eq!(pick("^4", Allow), None);
        assert_eq!(pick("*", Allow).as_deref(), Some("3.0.0-rc.1"));
    }
}
