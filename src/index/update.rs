//! Changing an index: add a version, recompute the root, re-sign it. The one rule `index build`
//! (`ops::index`) and the server's publish and yank share. Pure: it returns the files to write,
//! in commit order (versions files, then the root, then its signature); the callers write them
//! atomically.

use super::format::{
    ARCHIVES_DIR, PACKAGES_DIR, PackageSummary, RootIndex, VersionEntry, VersionsFile,
};
use super::sign::{SecretKey, SignatureFile};
use crate::model::Digest;
use crate::package::Manifest;

/// The entry that publishes `archive` (the package's reproducible `.tgz`) at `created`
/// (RFC 3339), stored under `archives/NAME-VERSION.tgz`.
pub fn version_entry(manifest: &Manifest, archive: &[u8], created: String) -> VersionEntry {
    VersionEntry {
        version: manifest.version.clone(),
        url: format!("{ARCHIVES_DIR}/{}", archive_file_name(manifest)),
        digest: Digest::of(archive),
        size: archive.len() as u64,
        app_version: manifest.app_version.clone(),
        kube_version: manifest.kube_version.clone(),
        created,
        yanked: false,
        changelog: manifest.changelog.clone(),
    }
}

/// The archive's file name in `archives/` (`redis-1.0.0.tgz`).
pub fn archive_file_name(manifest: &Manifest) -> String {
    format!("{}.tgz", manifest.archive_stem())
}

/// Where a package's versions file lives, relative to the index root.
pub fn versions_path(name: &str) -> String {
    format!("{PACKAGES_DIR}/{name}.json")
}

/// The summary the root lists for a package whose versions file is `versions` (serialized as
/// `versions_bytes`). The descriptive fields (description, category, keywords, icon) come from
/// `manifest` when given, else from the package's `previous` summary.
pub fn package_summary(
    versions: &VersionsFile,
    versions_bytes: &[u8],
    manifest: Option<&Manifest>,
    previous: Option<&PackageSummary>,
) -> Option<PackageSummary> {
    let mut summary = versions.summary(
        versions_path(&versions.name),
        Digest::of(versions_bytes),
        manifest,
    )?;
    if manifest.is_none()
        && let Some(old) = previous
    {
        summary.description = old.description.clone();
        summary.category = old.category.clone();
        summary.keywords = old.keywords.clone();
        summary.icon = old.icon.clone();
    }
    Some(summary)
}

/// The root listing `summaries` (sorted by name) and, with a key, its signature.
pub fn seal(
    mut summaries: Vec<PackageSummary>,
    key: Option<&SecretKey>,
) -> (Vec<u8>, Option<SignatureFile>) {
    summaries.sort_by(|a, b| a.name.cmp(&b.name));
    let root = RootIndex::new(summaries).to_bytes();
    let signature = key.map(|k| k.sign(&root));
    (root, signature)
}

/// The files that make a change to one package visible, in the order to write them.
#[derive(Debug, Clone)]
pub struct Commit {
    /// `packages/NAME.json` and its bytes.
    pub versions: (String, Vec<u8>),
    /// `index.json`: the commit point.
    pub root: Vec<u8>,
    /// `index.json.sig`, last.
    pub signature: SignatureFile,
}

/// One package's versions changed (a version added or yanked): its versions file, the root with
/// its summary replaced, re-signed with `key`. `manifest` is the version just added, if any; it
/// describes the package only when it is the newest, else the previous summary's description
/// stays.
pub fn replace_package(
    root: &RootIndex,
    versions: &VersionsFile,
    manifest: Option<&Manifest>,
    key: &SecretKey,
) -> Commit {
    let name = versions.name.as_str();
    let versions_bytes = versions.to_bytes();
    let mut packages: Vec<PackageSummary> = root
        .packages
        .iter()
        .filter(|p| p.name != name)
        .cloned()
        .collect();
    let newest = super::format::latest(&versions.versions).map(|v| v.version.clone());
    let manifest = manifest.filter(|m| newest.as_ref() == Some(&m.version));
    if let Some(summary) = package_summary(versions, &versions_bytes, manifest, root.package(name))
    {
        packages.push(summary);
    }
    let (root_bytes, _) = seal(packages, None);
    let signature = key.sign(&root_bytes);
    Commit {
        versions: (versions_path(name), versions_bytes),
        root: root_bytes,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(version: &str, description: &str) -> Manifest {
        let yaml = format!(
            "apiVersion: cocktail-pkg/v1\nname: hello\nversion: {version}\ndescription: {description}\ncategory: web\n"
        );
        crate::package::Manifest::parse(&yaml).unwrap().0
    }

    #[test]
    fn an_older_version_keeps_the_newest_description() {
        let key = SecretKey::from_seed([7; 32]);
        let newest = manifest("2.0.0", "new words");
        let entry = version_entry(&newest, b"two", "2026-01-01T00:00:00Z".into());
        let (file, added) = super::super::add_version("hello", None, entry).unwrap();
        assert!(added);
        let first = replace_package(&RootIndex::new(Vec::new()), &file, Some(&newest), &key);
        let root = RootIndex::parse(&first.root).unwrap();
        assert_eq!(root.package("hello").unwrap().description, "new words");
        key.public().verify(&first.root, &first.signature).unwrap();

        let older = manifest("1.0.0", "old words");
        let entry = version_entry(&older, b"one", "2026-01-02T00:00:00Z".into());
        assert_eq!(entry.url, "archives/hello-1.0.0.tgz");
        let (file, _) = super::super::add_version("hello", Some(file), entry).unwrap();
        let second = replace_package(&root, &file, Some(&older), &key);
        let root = RootIndex::parse(&second.root).unwrap();
        let summary = root.package("hello").unwrap();
        assert_eq!(summary.description, "new words");
        assert_eq!(summary.version_count, 2);
        assert_eq!(summary.latest.to_string(), "2.0.0");
        assert_eq!(second.versions.0, "packages/hello.json");
        assert_eq!(summary.versions_digest, Digest::of(&second.versions.1));
    }
}
