//! Package references on the command line: a path (directory or archive) or `REPO/NAME[@REQ]`.

use std::path::{Path, PathBuf};

use semver::VersionReq;

use super::client::{Progress, Repo, RepoClient, RepoError};
use super::config::{BUILTIN, RepoFile};
use crate::archive;
use crate::index::format::VersionEntry;
use crate::index::select::{Prerelease, parse_requirement, select};
use crate::model::PackageName;
use crate::package::Package;

/// Where a package comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageRef {
    Path(PathBuf),
    Repo {
        repo: String,
        name: String,
        /// `None` means the newest stable version.
        req: Option<VersionReq>,
    },
}

impl PackageRef {
    /// A path that exists wins; else `REPO/NAME[@REQ]`; else the path (for a clear not-found error).
    pub fn parse(arg: &str) -> PackageRef {
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
                    Some(r) => match parse_requirement(r) {
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
    req: Option<&VersionReq>,
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
    let any = VersionReq::STAR;
    let req = req.unwrap_or(&any);
    select(&versions.versions, req, Prerelease::IfRequested)
        .cloned()
        .ok_or_else(|| RepoError::NoMatchingVersion {
            repo: repo.name().into(),
            name: name.into(),
            req: req.to_string(),
            available: versions
                .versions
                .iter()
                .map(|v| v.version.to_string() + if v.yanked { " (yanked)" } else { "" })
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
    req: Option<&VersionReq>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        assert_eq!(
            PackageRef::parse("stable/redis@^2"),
            PackageRef::Repo {
                repo: "stable".into(),
                name: "redis".into(),
                req: Some(VersionReq::parse("^2").unwrap())
            }
        );
        assert_eq!(
            PackageRef::parse("team/redis@1.0.0"),
            PackageRef::Repo {
                repo: "team".into(),
                name: "redis".into(),
                req: Some(VersionReq::parse("=1.0.0").unwrap())
            },
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
}
