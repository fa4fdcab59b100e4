//! Package references on the command line: a path (directory or archive), `REPO/NAME[@REQ]`,
//! or `oci://HOST/PATH/NAME[:TAG|@DIGEST|@REQ]` (see [`super::oci::reference`]).
//!
//! `REQ` is read with our rules when it can be (`index::select::parse_requirement`: a bare
//! version is exact, `1.4` the 1.4 series, `^2`, `>=1.2, <2`), else with Helm's (Masterminds
//! semver: `>=1.2 <2`, `1.2 - 1.4`, `^1 || ^2`). A Helm repository always resolves with Helm's
//! rules; its deprecated versions are skipped unless one is named exactly.

use std::path::{Path, PathBuf};

use semver::VersionReq;

use super::client::{Progress, Repo, RepoClient, RepoError};
use super::config::{BUILTIN, RepoFile, RepoKind};
use super::provenance::{Keyring, Verified};
use crate::archive;
use crate::index::format::VersionEntry;
use crate::index::select::{Prerelease, is_exact, parse_requirement, select};
use crate::model::PackageName;
use crate::package::Package;

/// A version requirement as written (after `@`, or given to `--version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    text: String,
    /// The requirement under our rules, when it parses under them.
    semver: Option<VersionReq>,
}

impl Requirement {
    /// Our syntax, else Helm's (see the module docs).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        match parse_requirement(t) {
            Ok(r) => Ok(Self {
                text: t.to_string(),
                semver: Some(r),
            }),
            Err(e) => match gotpl::funcs::versions::Constraints::parse(t) {
                Ok(_) if !t.is_empty() => Ok(Self {
                    text: t.to_string(),
                    semver: None,
                }),
                _ => Err(format!("invalid version requirement `{t}`: {e}")),
            },
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The requirement under our rules (`None` for Helm-only syntax).
    pub fn semver(&self) -> Option<&VersionReq> {
        self.semver.as_ref()
    }

    /// Names one version exactly, which may then be yanked or deprecated.
    pub fn is_exact(&self) -> bool {
        self.semver.as_ref().is_some_and(is_exact)
    }

    /// The newest version matching under Helm's rules (Masterminds semver: a pre-release only
    /// when the constraint names one), yanked/deprecated ones only when named exactly.
    pub fn select_helm<'a>(
        &self,
        versions: &'a [VersionEntry],
    ) -> Result<Option<&'a VersionEntry>, String> {
        use gotpl::funcs::versions::{Constraints, Version};
        let c = Constraints::parse(&self.text)?;
        let exact = self.is_exact();
        Ok(versions
            .iter()
            .filter(|v| exact || !v.yanked)
            .filter(|v| Version::parse(&v.version.to_string()).is_ok_and(|mv| c.check(&mv)))
            .max_by(|a, b| a.version.cmp(&b.version)))
    }
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<VersionReq> for Requirement {
    fn from(r: VersionReq) -> Self {
        Self {
            text: r.to_string(),
            semver: Some(r),
        }
    }
}

/// Where a package comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageRef {
    Path(PathBuf),
    Repo {
        repo: String,
        name: String,
        /// `None` means the newest stable version.
        req: Option<Requirement>,
    },
    /// `oci://HOST[:PORT]/PATH/NAME[:TAG|@sha256:DIGEST|@REQ]`, as written; parsed (with a
    /// clear error) by [`super::oci::OciRef::parse`] when loaded.
    Oci {
        reference: String,
    },
}

impl PackageRef {
    /// A path that exists wins; else `REPO/NAME[@REQ]`; else the path (for a clear not-found error).
    pub fn parse(arg: &str) -> PackageRef {
        if super::oci::OciRef::is_oci(arg) {
            return PackageRef::Oci {
                reference: arg.into(),
            };
        }
        if Path::new(arg).exists() {
            return PackageRef::Path(arg.into());
        }
        if let Some((repo, rest)) = arg.split_once('/') {
            let (name, req) = match rest.split_once('@') {
                Some((n, r)) => (n, Some(r)),
                None => (rest, None),
            };
            if PackageName::new(repo).is_ok() && PackageName::new(name).is_ok() {
                let req = match req {
                    None => None,
                    Some(r) => match Requirement::parse(r) {
                        Ok(r) => Some(r),
                        Err(_) => return PackageRef::Path(arg.into()),
                    },
                };
                return PackageRef::Repo {
                    repo: repo.into(),
                    name: name.into(),
                    req,
                };
            }
        }
        PackageRef::Path(arg.into())
    }
}

/// Finds a repository by name: the built-in catalog or one from `repositories.yaml`.
pub fn find_repo(name: &str) -> Result<Repo, RepoError> {
    if name == BUILTIN {
        return Ok(Repo::Builtin);
    }
    let path = RepoFile::path();
    let file = RepoFile::load(&path)?;
    file.get(name)
        .cloned()
        .map(Repo::Remote)
        .ok_or_else(|| RepoError::UnknownRepo(name.into()))
}

/// The chosen version of a package in a repository.
pub fn resolve_version(
    client: &mut RepoClient,
    repo: &Repo,
    name: &str,
    req: Option<&Requirement>,
) -> Result<VersionEntry, RepoError> {
    let root = client.root(repo)?;
    let summary = root.package(name).ok_or_else(|| {
        let names: Vec<&str> = root.packages.iter().map(|p| p.name.as_str()).collect();
        RepoError::UnknownPackage {
            repo: repo.name().into(),
            name: name.into(),
            suggestion: crate::package::suggest(name, &names).map(String::from),
        }
    })?;
    let versions = client.versions(repo, summary)?;
    let helm = matches!(repo, Repo::Remote(e) if e.kind == RepoKind::Helm);
    let any = VersionReq::STAR;
    let chosen = match req {
        None => select(&versions.versions, &any, Prerelease::IfRequested),
        Some(r) => match r.semver() {
            Some(sv) if !helm => select(&versions.versions, sv, Prerelease::IfRequested),
            _ => r
                .select_helm(&versions.versions)
                .map_err(|message| RepoError::Requirement {
                    req: r.to_string(),
                    message,
                })?,
        },
    };
    let mark = if helm { " (deprecated)" } else { " (yanked)" };
    chosen.cloned().ok_or_else(|| RepoError::NoMatchingVersion {
        repo: repo.name().into(),
        name: name.into(),
        req: req.map_or_else(|| any.to_string(), ToString::to_string),
        available: versions
            .versions
            .iter()
            .map(|v| v.version.to_string() + if v.yanked { mark } else { "" })
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// A package fetched from a repository: the package and the entry it came from.
pub struct Fetched {
    pub package: Package,
    pub entry: VersionEntry,
    pub bytes: Vec<u8>,
}

/// Fetches, verifies and loads `REPO/NAME[@REQ]`.
pub fn fetch(
    client: &mut RepoClient,
    repo_name: &str,
    name: &str,
    req: Option<&Requirement>,
    progress: Progress<'_>,
) -> Result<Fetched, RepoError> {
    let repo = find_repo(repo_name)?;
    let entry = resolve_version(client, &repo, name, req)?;
    let bytes = client.archive(&repo, &entry, progress)?;
    let unpacked = archive::read(&bytes, Some(&entry.digest))?;
    let package = Package::from_files(unpacked.files)?;
    Ok(Fetched {
        package,
        entry,
        bytes,
    })
}

/// Like [`fetch`], with the chart's provenance file (`URL.prov`) verified against `keyring`
/// before the archive is cached or used: (fetched, provenance file, verdict).
pub fn fetch_verified(
    client: &mut RepoClient,
    repo_name: &str,
    name: &str,
    req: Option<&Requirement>,
    keyring: &Keyring,
    progress: Progress<'_>,
) -> Result<(Fetched, Vec<u8>, Verified), RepoError> {
    let repo = find_repo(repo_name)?;
    let entry = resolve_version(client, &repo, name, req)?;
    let subject = format!("{repo_name}/{name} {}", entry.version);
    let (bytes, prov, verified) =
        client.archive_verified(&repo, &subject, &entry, keyring, progress)?;
    let unpacked = archive::read(&bytes, Some(&entry.digest))?;
    let package = Package::from_files(unpacked.files)?;
    Ok((
        Fetched {
            package,
            entry,
            bytes,
        },
        prov,
        verified,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        assert_eq!(
            PackageRef::parse("oci://127.0.0.1:5000/charts/redis@^2"),
            PackageRef::Oci {
                reference: "oci://127.0.0.1:5000/charts/redis@^2".into()
            }
        );
        assert_eq!(
            PackageRef::parse("stable/redis@^2"),
            PackageRef::Repo {
                repo: "stable".into(),
                name: "redis".into(),
                req: Some(Requirement::parse("^2").unwrap())
            }
        );
        let PackageRef::Repo { req: Some(req), .. } = PackageRef::parse("team/redis@1.0.0") else {
            panic!("a repository reference")
        };
        assert_eq!(
            req.semver(),
            Some(&VersionReq::parse("=1.0.0").unwrap()),
            "a bare version is exact"
        );
        assert_eq!(
            PackageRef::parse("stable/redis"),
            PackageRef::Repo {
                repo: "stable".into(),
                name: "redis".into(),
                req: None
            }
        );
        assert_eq!(
            PackageRef::parse("./x/y.tgz"),
            PackageRef::Path("./x/y.tgz".into())
        );
        assert_eq!(PackageRef::parse("a/b/c"), PackageRef::Path("a/b/c".into()));
        assert_eq!(
            PackageRef::parse("Stable/redis"),
            PackageRef::Path("Stable/redis".into())
        );
    }

    #[test]
    fn helm_requirements_parse_and_select_with_helm_rules() {
        let PackageRef::Repo { req: Some(req), .. } = PackageRef::parse("h/nginx@>=1.2 <2") else {
            panic!("Helm's space-separated AND is a requirement")
        };
        assert_eq!(req.semver(), None);
        assert_eq!(req.as_str(), ">=1.2 <2");
        assert!(Requirement::parse("banana").is_err());
        let e = |v: &str, yanked: bool| VersionEntry {
            version: semver::Version::parse(v).unwrap(),
            url: String::new(),
            digest: crate::model::Digest::of(b""),
            size: 0,
            app_version: None,
            kube_version: None,
            created: String::new(),
            yanked,
            changelog: vec![],
        };
        let vs = [
            e("1.1.0", false),
            e("1.4.0", false),
            e("1.5.0", true),
            e("2.0.0", false),
            e("3.0.0-rc.1", false),
        ];
        let pick = |r: &str| {
            Requirement::parse(r)
                .unwrap()
                .select_helm(&vs)
                .unwrap()
                .map(|v| v.version.to_string())
        };
        assert_eq!(
            pick(">=1.2 <2").as_deref(),
            Some("1.4.0"),
            "1.5.0 is deprecated"
        );
        assert_eq!(pick("1.5.0").as_deref(), Some("1.5.0"), "unless pinned");
        assert_eq!(pick("1.1 - 1.4").as_deref(), Some("1.4.0"));
        assert_eq!(pick("^1 || ^2").as_deref(), Some("2.0.0"));
        assert_eq!(pick("*").as_deref(), Some("2.0.0"), "no pre-release");
        assert_eq!(pick(">=3.0.0-0").as_deref(), Some("3.0.0-rc.1"));
        assert_eq!(pick("~1.1").as_deref(), Some("1.1.0"));
        assert_eq!(pick("^4"), None);
    }
}
