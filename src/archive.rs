//! Package archives (`NAME-VERSION.tgz`): reproducible writing and distrustful reading.
//!
//! Writing sorts entries and fixes mtime, uid, gid, owner names and modes, so the same files give
//! a byte-identical archive and digest. Two layouts: ours ([`write`]: folder entries, every path
//! sorted) and a Helm chart's ([`write_chart`]: `helm package`'s entry order and gzip header, no
//! folder entries). Reading verifies a given digest before anything else, then
//! accepts only regular files and directories under one top folder, refusing absolute paths, `..`,
//! links and devices, and caps the file count and decompressed size (gzip bombs). Everything
//! happens in memory: nothing is written to disk. Pure, no IO.

use std::collections::BTreeMap;
use std::io::Read;

use flate2::read::GzDecoder;

use crate::model::Digest;

/// Most entries (files and directories) an archive may hold.
pub const MAX_ENTRIES: usize = 2_000;
/// Most bytes the archive may decompress to (the tar stream, headers included).
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
/// Largest single file.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// The mtime written on every entry (2000-01-01T00:00:00Z), for reproducible archives.
pub const FIXED_MTIME: u64 = 946_684_800;

/// An archive that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("digest mismatch: expected {expected}, the archive is {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("archive is truncated or not a gzip-compressed tar file: {0}")]
    Corrupt(String),
    #[error("archive entry `{path}` is refused: {reason}")]
    UnsafeEntry { path: String, reason: &'static str },
    #[error("archive has more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("archive decompresses to more than {MAX_UNPACKED_BYTES} bytes (possible gzip bomb)")]
    TooLarge,
    #[error("archive entry `{path}` is larger than {MAX_FILE_BYTES} bytes")]
    FileTooLarge { path: String },
    #[error("archive entries must all be under one top folder, found `{first}` and `{second}`")]
    MultipleRoots { first: String, second: String },
    #[error("archive is empty")]
    Empty,
    #[error("archive entry `{0}` appears twice")]
    DuplicateEntry(String),
    #[error("failed to write archive: {0}")]
    Write(String),
}

impl ArchiveError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ArchiveError::DigestMismatch { .. } => Some(
                "the archive changed after its digest was published, or the download was corrupted; do not use it".into(),
            ),
            ArchiveError::Corrupt(_) => Some("download the archive again or rebuild it with `cocktail-pkg package`".into()),
            ArchiveError::UnsafeEntry { .. }
            | ArchiveError::MultipleRoots { .. }
            | ArchiveError::TooManyEntries
            | ArchiveError::TooLarge
            | ArchiveError::FileTooLarge { .. } => Some(
                "package archives hold only regular files and folders under one top folder; build them with `cocktail-pkg package`".into(),
            ),
            _ => None,
        }
    }
}

/// Writes `files` (relative paths) under the top folder `root` as a reproducible `.tgz`.
pub fn write(root: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, ArchiveError> {
    let werr = |e: std::io::Error| ArchiveError::Write(e.to_string());
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    // Directories first appear implicitly in sorted order, each once.
    let mut dirs = std::collections::BTreeSet::new();
    for path in files.keys() {
        let mut acc = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for p in &parts[..parts.len().saturating_sub(1)] {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(p);
            dirs.insert(acc.clone());
        }
    }
    let mut entries: Vec<(String, Option<&Vec<u8>>)> = Vec::new();
    entries.push((format!("{root}/"), None));
    for d in &dirs {
        entries.push((format!("{root}/{d}/"), None));
    }
    for (p, data) in files {
        entries.push((format!("{root}/{p}"), Some(data)));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(FIXED_MTIME);
        header.set_uid(0);
        header.set_gid(0);
        match data {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, &path, std::io::empty())
                    .map_err(werr)?;
            }
            Some(bytes) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(bytes.len() as u64);
                tar.append_data(&mut header, &path, bytes.as_slice())
                    .map_err(werr)?;
            }
        }
    }
    let raw = tar.into_inner().map_err(werr)?;
    gzip(&raw, None, None)
}

/// Gzip with miniz_oxide at level 6, byte for byte what flate2's `GzEncoder` with its
/// miniz_oxide backend writes (mtime 0, OS 255). Archives are compared by digest (the signed
/// index, `--digest`, Chart.lock), so their bytes must not depend on which backend flate2 is
/// built with: a dependency turning on flate2's `zlib-rs` would change every digest.
fn gzip(data: &[u8], extra: Option<&[u8]>, comment: Option<&str>) -> Result<Vec<u8>, ArchiveError> {
    use miniz_oxide::deflate::core::CompressorOxide;
    use miniz_oxide::deflate::stream::deflate;
    use miniz_oxide::{DataFormat, MZFlush, MZStatus};
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut flags = 0u8;
    if let Some(x) = extra {
        flags |= 4;
        let len = u16::try_from(x.len())
            .map_err(|_| ArchiveError::Write("gzip extra field too long".into()))?;
        out.extend(len.to_le_bytes());
        out.extend(x);
    }
    if let Some(c) = comment {
        flags |= 16;
        out.extend(c.as_bytes());
        out.push(0);
    }
    out[3] = flags;
    let mut compressor = Box::<CompressorOxide>::default();
    compressor.set_format_and_level(DataFormat::Raw, 6);
    let mut buf = vec![0u8; 64 * 1024];
    let mut input = data;
    loop {
        let r = deflate(&mut compressor, input, &mut buf, MZFlush::Finish);
        out.extend(buf.get(..r.bytes_written).unwrap_or_default());
        input = input.get(r.bytes_consumed..).unwrap_or_default();
        match r.status {
            Ok(MZStatus::StreamEnd) => break,
            Ok(_) => {}
            Err(e) => return Err(ArchiveError::Write(format!("gzip failed: {e:?}"))),
        }
    }
    out.extend(crc32fast::hash(data).to_le_bytes());
    // ISIZE: the length modulo 2^32, as gzip defines it.
    out.extend(((data.len() & 0xffff_ffff) as u32).to_le_bytes());
    Ok(out)
}

/// The gzip header's extra field `helm package` writes (Go's `chartutil.Save`); tools that
/// recognise Helm archives may look for it.
const HELM_GZIP_EXTRA: &[u8] = b"+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=";
/// The gzip header's comment `helm package` writes.
const HELM_GZIP_COMMENT: &str = "Helm";

/// Writes a Helm chart's `files` (paths relative to the chart) under the top folder `root` as
/// `helm package` lays them out: `Chart.yaml`, `Chart.lock`, `values.yaml`,
/// `values.schema.json`, then `templates/`, then the other files, then `charts/` (each sub-chart
/// folder in the same order, recursively; archives as they are), paths compared folder by folder
/// as Helm's directory walk does ([`chart_order`]). Regular-file entries only (no folder
/// entries), mode 0644, uid/gid 0, no owner names, and the gzip header's extra field and comment
/// Helm writes. Unlike Helm, which stamps each entry with its file's modification time, every
/// entry has mtime [`FIXED_MTIME`], so the same files give the same bytes.
pub fn write_chart(root: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, ArchiveError> {
    let werr = |e: std::io::Error| ArchiveError::Write(e.to_string());
    let mut tar = tar::Builder::new(Vec::new());
    let mut entries: Vec<(&String, &Vec<u8>)> = files.iter().collect();
    entries.sort_by(|a, b| chart_order(a.0, b.0));
    for (path, bytes) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mtime(FIXED_MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mode(0o644);
        header.set_size(bytes.len() as u64);
        tar.append_data(&mut header, format!("{root}/{path}"), bytes.as_slice())
            .map_err(werr)?;
    }
    let raw = tar.into_inner().map_err(werr)?;
    gzip(&raw, Some(HELM_GZIP_EXTRA), Some(HELM_GZIP_COMMENT))
}

/// The order of two paths of a chart in a Helm chart archive (Helm's `chartutil.Save`): see
/// [`write_chart`]. `.prov` files under `charts/` count as the chart's own files, as Helm's
/// loader counts them.
pub fn chart_order(a: &str, b: &str) -> std::cmp::Ordering {
    chart_key(a).cmp(&chart_key(b))
}

/// The sort key of a chart path: one (rank, path components) step per chart level.
fn chart_key(path: &str) -> Vec<(u8, Vec<&str>)> {
    let mut key = Vec::new();
    let mut rest = path;
    // Bounded by the path's own depth: every step consumes `charts/NAME/`.
    loop {
        let rank = match rest {
            "Chart.yaml" => 0,
            "Chart.lock" => 1,
            "values.yaml" => 2,
            "values.schema.json" => 3,
            p if p.starts_with("templates/") => 4,
            p if p.starts_with("charts/") && !p.ends_with(".prov") => {
                let sub = &p["charts/".len()..];
                match sub.split_once('/') {
                    Some((name, inner)) => {
                        key.push((6, vec![name]));
                        rest = inner;
                        continue;
                    }
                    None => {
                        key.push((6, vec![sub]));
                        return key;
                    }
                }
            }
            _ => 5,
        };
        key.push((rank, rest.split('/').collect()));
        return key;
    }
}

/// A reader that fails once more than `limit` bytes came through.
struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
    exceeded: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("decompressed size limit exceeded"));
        }
        Ok(n)
    }
}

/// The files of an unpacked archive: the top folder's name and files by path below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    pub root: String,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Reads an archive in memory. When `expected` is given, the digest is checked first.
pub fn read(bytes: &[u8], expected: Option<&Digest>) -> Result<Unpacked, ArchiveError> {
    if let Some(expected) = expected {
        let actual = Digest::of(bytes);
        if &actual != expected {
            return Err(ArchiveError::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
    }
    let capped = Capped {
        inner: GzDecoder::new(bytes),
        read: 0,
        limit: MAX_UNPACKED_BYTES,
        exceeded: false,
    };
    let mut archive = tar::Archive::new(capped);
    let result = read_entries(&mut archive);
    if archive.into_inner().exceeded {
        return Err(ArchiveError::TooLarge);
    }
    result
}

fn read_entries<R: Read>(archive: &mut tar::Archive<R>) -> Result<Unpacked, ArchiveError> {
    let corrupt = |e: std::io::Error| ArchiveError::Corrupt(e.to_string());
    let mut root: Option<String> = None;
    let mut files = BTreeMap::new();
    let mut count = 0usize;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries);
        }
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let unsafe_entry = |reason| ArchiveError::UnsafeEntry {
            path: raw_path.clone(),
            reason,
        };
        let kind = entry.header().entry_type();
        let is_dir = match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => false,
            tar::EntryType::Directory => true,
            tar::EntryType::Symlink => return Err(unsafe_entry("symbolic links are not allowed")),
            tar::EntryType::Link => return Err(unsafe_entry("hard links are not allowed")),
            tar::EntryType::Char | tar::EntryType::Block => {
                return Err(unsafe_entry("device files are not allowed"));
            }
            tar::EntryType::Fifo => return Err(unsafe_entry("FIFOs are not allowed")),
            _ => return Err(unsafe_entry("only regular files and folders are allowed")),
        };
        let path = check_path(&raw_path).map_err(unsafe_entry)?;
        let (top, rest) = match path.split_once('/') {
            Some((t, r)) => (t.to_string(), r.to_string()),
            None => (path.clone(), String::new()),
        };
        match &root {
            None => root = Some(top.clone()),
            Some(r) if *r != top => {
                return Err(ArchiveError::MultipleRoots {
                    first: r.clone(),
                    second: top,
                });
            }
            Some(_) => {}
        }
        if is_dir {
            continue;
        }
        if rest.is_empty() {
            return Err(unsafe_entry("files must be inside the top folder"));
        }
        let size = entry.header().size().map_err(corrupt)?;
        if size > MAX_FILE_BYTES {
            return Err(ArchiveError::FileTooLarge { path: raw_path });
        }
        let mut data = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut data).map_err(corrupt)?;
        if files.insert(rest.clone(), data).is_some() {
            return Err(ArchiveError::DuplicateEntry(raw_path));
        }
    }
    let root = root.ok_or(ArchiveError::Empty)?;
    if files.is_empty() {
        return Err(ArchiveError::Empty);
    }
    Ok(Unpacked { root, files })
}

/// Normalises an entry path, refusing absolute paths, `..` and odd components.
fn check_path(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') || raw.starts_with('\\') {
        return Err("absolute paths are not allowed");
    }
    if raw.len() > 1 && raw.as_bytes()[1] == b':' {
        return Err("absolute paths are not allowed");
    }
    if raw.contains('\\') {
        return Err("backslashes are not allowed in paths");
    }
    if raw.contains('\0') {
        return Err("NUL bytes are not allowed in paths");
    }
    let mut parts = Vec::new();
    for seg in raw.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err("`..` is not allowed in paths"),
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return Err("empty path");
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            ("package.yaml".to_string(), b"name: x\n".to_vec()),
            ("templates/a.yaml".to_string(), b"a: 1\n".to_vec()),
            ("templates/sub/b.yaml".to_string(), b"b: 2\n".to_vec()),
        ])
    }

    #[test]
    fn round_trip_and_reproducible() {
        let a = write("x", &files()).unwrap();
        let b = write("x", &files()).unwrap();
        assert_eq!(a, b);
        let un = read(&a, Some(&Digest::of(&a))).unwrap();
        assert_eq!(un.root, "x");
        assert_eq!(un.files, files());
    }

    #[test]
    fn digest_checked_first() {
        let a = write("x", &files()).unwrap();
        let err = read(&a, Some(&Digest::of(b"other"))).unwrap_err();
        assert!(matches!(err, ArchiveError::DigestMismatch { .. }));
    }

    #[test]
    fn chart_archives_follow_helms_order_and_are_reproducible() {
        let files: BTreeMap<String, Vec<u8>> = [
            ".helmignore",
            "Chart.lock",
            "Chart.yaml",
            "README.md",
            "charts/a-1.0.0.tgz",
            "charts/a-1.0.0.tgz.prov",
            "charts/b/Chart.yaml",
            "charts/b/templates/x.yaml",
            "charts/b/values.yaml",
            "charts/b/z.txt",
            "files/a.txt",
            "files/a/b.txt",
            "templates/_helpers.tpl",
            "templates/a.yaml",
            "templates/a/b.yaml",
            "values.schema.json",
            "values.yaml",
        ]
        .iter()
        .map(|p| (p.to_string(), p.as_bytes().to_vec()))
        .collect();
        let a = write_chart("c", &files).unwrap();
        assert_eq!(a, write_chart("c", &files).unwrap());
        // Helm's gzip header: FEXTRA and FCOMMENT, mtime 0.
        assert_eq!(&a[..10], &[0x1f, 0x8b, 8, 0x14, 0, 0, 0, 0, 0, 0xff]);
        let mut tar = tar::Archive::new(GzDecoder::new(a.as_slice()));
        let names: Vec<String> = tar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                assert_eq!(e.header().entry_type(), tar::EntryType::Regular);
                assert_eq!(e.header().mode().unwrap(), 0o644);
                assert_eq!(e.header().mtime().unwrap(), FIXED_MTIME);
                e.path().unwrap().to_string_lossy().into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "c/Chart.yaml",
                "c/Chart.lock",
                "c/values.yaml",
                "c/values.schema.json",
                "c/templates/_helpers.tpl",
                "c/templates/a/b.yaml",
                "c/templates/a.yaml",
                "c/.helmignore",
                "c/README.md",
                "c/charts/a-1.0.0.tgz.prov",
                "c/files/a/b.txt",
                "c/files/a.txt",
                "c/charts/a-1.0.0.tgz",
                "c/charts/b/Chart.yaml",
                "c/charts/b/values.yaml",
                "c/charts/b/templates/x.yaml",
                "c/charts/b/z.txt",
            ]
        );
        let un = read(&a, None).unwrap();
        assert_eq!(un.root, "c");
        assert_eq!(un.files, files);
    }

    #[test]
    fn path_checks() {
        assert_eq!(check_path("a/./b/"), Ok("a/b".into()));
        assert!(check_path("/etc/passwd").is_err());
        assert!(check_path("a/../../b").is_err());
        assert!(check_path("C:/x").is_err());
    }
}
