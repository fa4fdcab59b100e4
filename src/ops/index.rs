//! `index build` and `index keygen`: build the catalog index from package sources, and make
//! signing keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::OpError;
use super::package::archive_bytes;
use crate::fsutil::write_atomic;
use crate::index::format::{ARCHIVES_DIR, PACKAGES_DIR, ROOT_FILE, SIGNATURE_FILE, VersionsFile};
use crate::index::sign::{SecretKey, SignatureFile};
use crate::index::{self, IndexError, update};
use crate::model::Digest;
use crate::source;
use crate::time::{UnixTime, format_rfc3339};

#[derive(Debug, Clone)]
pub struct IndexBuildOptions {
    /// A folder of package directories (`catalog/`).
    pub catalog: PathBuf,
    /// The index folder to create or extend.
    pub out: PathBuf,
    /// Secret key file to sign the root with.
    pub key: Option<PathBuf>,
    /// Publication time for versions added now.
    pub now: UnixTime,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct IndexBuildOutcome {
    pub packages: usize,
    pub versions: usize,
    /// `name version` of each version added by this build.
    pub added: Vec<String>,
    /// Key id of the signature written, if signed.
    pub signed_by: Option<String>,
    /// True when an old signature was removed because the root changed and no key was given.
    pub signature_removed: bool,
}

fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, OpError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(OpError::Read {
            what: "index file",
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), OpError> {
    write_atomic(path, bytes).map_err(|source| OpError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a secret key file.
pub fn read_secret_key(path: &Path) -> Result<SecretKey, OpError> {
    let text = std::fs::read_to_string(path).map_err(|source| OpError::Read {
        what: "secret key",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(SecretKey::parse(&text).map_err(IndexError::from)?)
}

/// The package directories of a catalog folder, sorted by name.
pub fn catalog_dirs(catalog: &Path) -> Result<Vec<PathBuf>, OpError> {
    let entries = std::fs::read_dir(catalog).map_err(|source| OpError::Read {
        what: "catalog folder",
        path: catalog.to_path_buf(),
        source,
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("package.yaml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

pub fn build(opts: &IndexBuildOptions) -> Result<IndexBuildOutcome, OpError> {
    let key = opts.key.as_deref().map(read_secret_key).transpose()?;
    let dirs = catalog_dirs(&opts.catalog)?;
    if dirs.is_empty() {
        return Err(OpError::Invalid(format!(
            "{} holds no package directories (folders with package.yaml)",
            opts.catalog.display()
        )));
    }
    // Start from what is published: versions files of packages no longer in the catalog stay.
    let mut files: BTreeMap<String, VersionsFile> = BTreeMap::new();
    let packages_dir = opts.out.join(PACKAGES_DIR);
    if let Ok(entries) = std::fs::read_dir(&packages_dir) {
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json") {
                let bytes = read_opt(&p)?.unwrap_or_default();
                let f = VersionsFile::parse(&p.display().to_string(), &bytes)
                    .map_err(IndexError::from)?;
                files.insert(f.name.clone(), f);
            }
        }
    }
    let mut newest_manifest = BTreeMap::new();
    let mut added = Vec::new();
    for dir in &dirs {
        let pkg = source::load(dir, None)?.package;
        let m = &pkg.manifest;
        let bytes = archive_bytes(&pkg)?;
        let digest = Digest::of(&bytes);
        let file_name = update::archive_file_name(m);
        let entry = update::version_entry(m, &bytes, format_rfc3339(opts.now));
        let name = m.name.to_string();
        let (file, was_added) = index::add_version(&name, files.remove(&name), entry)?;
        let archive_path = opts.out.join(ARCHIVES_DIR).join(&file_name);
        let on_disk = read_opt(&archive_path)?;
        if on_disk.as_deref().map(Digest::of).as_ref() != Some(&digest) {
            write(&archive_path, &bytes)?;
        }
        if was_added {
            added.push(format!("{name} {}", m.version));
        }
        files.insert(name.clone(), file);
        newest_manifest.insert(name, pkg.manifest);
    }
    // Versions files, then the root (the commit point), then its signature.
    let mut summaries = Vec::new();
    let mut versions = 0;
    for (name, file) in &files {
        let bytes = file.to_bytes();
        let path = opts.out.join(update::versions_path(name));
        if read_opt(&path)?.as_deref() != Some(bytes.as_slice()) {
            write(&path, &bytes)?;
        }
        versions += file.versions.len();
        let newest = newest_manifest.get(name);
        if let Some(s) = update::package_summary(file, &bytes, newest, None) {
            summaries.push(s);
        }
    }
    let (root, signature) = update::seal(summaries, key.as_ref());
    let root_path = opts.out.join(ROOT_FILE);
    let root_changed = read_opt(&root_path)?.as_deref() != Some(root.as_slice());
    if root_changed {
        write(&root_path, &root)?;
    }
    let sig_path = opts.out.join(SIGNATURE_FILE);
    let mut signature_removed = false;
    let signed_by = match signature {
        Some(sig) => {
            write(&sig_path, &sig.to_bytes())?;
            Some(sig.key_id)
        }
        None => {
            if root_changed && sig_path.exists() {
                std::fs::remove_file(&sig_path).map_err(|source| OpError::Write {
                    path: sig_path.clone(),
                    source,
                })?;
                signature_removed = true;
            }
            read_opt(&sig_path)?
                .and_then(|b| SignatureFile::parse(&b).ok())
                .map(|s| s.key_id)
        }
    };
    Ok(IndexBuildOutcome {
        packages: files.len(),
        versions,
        added,
        signed_by,
        signature_removed,
    })
}

#[derive(Debug, Clone)]
pub struct KeygenOptions {
    /// Where to write the secret key; the public key goes to `<out>.pub`.
    pub out: PathBuf,
    pub force: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct KeygenOutcome {
    pub secret_path: PathBuf,
    pub public_path: PathBuf,
    pub public_key: String,
    pub key_id: String,
}

pub fn keygen(opts: &KeygenOptions) -> Result<KeygenOutcome, OpError> {
    if opts.out.exists() && !opts.force {
        return Err(OpError::Invalid(format!(
            "{} already exists; refusing to overwrite a key (pass --force to replace it)",
            opts.out.display()
        )));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| OpError::Invalid(format!("failed to get random bytes for a key: {e}")))?;
    let key = SecretKey::from_seed(seed);
    let public = key.public();
    // Owner-only from the first byte (no window in which the key is readable by others).
    crate::fsutil::write_atomic_private(&opts.out, key.to_text().as_bytes()).map_err(|source| {
        OpError::Write {
            path: opts.out.clone(),
            source,
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&opts.out, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| OpError::Write {
                path: opts.out.clone(),
                source,
            },
        )?;
    }
    let mut public_path = opts.out.clone().into_os_string();
    public_path.push(".pub");
    let public_path = PathBuf::from(public_path);
    write(&public_path, public.to_text().as_bytes())?;
    Ok(KeygenOutcome {
        secret_path: opts.out.clone(),
        public_path,
        public_key: public.to_text().trim().to_string(),
        key_id: public.key_id(),
    })
}
