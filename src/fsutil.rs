//! File-system helpers with the guarantees the rest relies on: atomic writes (temporary file in
//! the same folder, fsync, rename), so a crash never leaves a half-written file. IO.
//!
//! Modes: an ordinary file is created `0666` less the process umask (`0644` under umask 022), as
//! any other tool would, so an index built here can be served by a web server running as another
//! user; a secret (signing keys, tokens, Secret objects and release records in a dir target) is
//! `0600` whatever the umask.

use std::io::Write;
use std::path::Path;

/// Who may read a file written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// `0666` less the umask.
    Public,
    /// `0600`: only the owner.
    Private,
}

/// Writes `bytes` to `path` atomically: readers see the old file or the new one, never a part.
/// The file is readable as the umask allows (see [`Visibility::Public`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_as(path, bytes, Visibility::Public)
}

/// [`write_atomic`] for secrets: the file is `0600`.
pub fn write_atomic_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_as(path, bytes, Visibility::Private)
}

/// Writes `bytes` to `path` atomically with the given visibility.
pub fn write_atomic_as(path: &Path, bytes: &[u8], visibility: Visibility) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".cocktail-pkg-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The kernel applies the umask to the mode given at creation, as for any new file.
        let mode = match visibility {
            Visibility::Public => 0o666,
            Visibility::Private => 0o600,
        };
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = visibility;
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Make the rename itself durable; not every platform allows syncing a directory.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    /// The umask of this process, read back from a file created with mode 0o666.
    fn umask() -> u32 {
        let dir = tempfile::tempdir().unwrap();
        let probe = dir.path().join("probe");
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&probe)
            .unwrap();
        !mode(&probe) & 0o666
    }

    #[test]
    fn ordinary_files_follow_the_umask_not_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.json");
        write_atomic(&path, b"{}").unwrap();
        assert_eq!(mode(&path), 0o666 & !umask());
        // Replacing a file keeps the rule (the temporary file's mode survives the rename).
        write_atomic(&path, b"{ }").unwrap();
        assert_eq!(mode(&path), 0o666 & !umask());
    }

    #[test]
    fn secrets_are_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_atomic_private(&path, b"secret").unwrap();
        assert_eq!(mode(&path), 0o600);
    }
}
