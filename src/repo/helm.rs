//! Helm repositories: a repository's `index.yaml` is read once, streaming, into a compact local
//! cache, so later commands read a few KB instead of the whole index.
//!
//! The index is parsed with serde-saphyr's event-driven deserializer and a visitor that handles
//! one chart's versions at a time (never a tree of the whole index), with budgets on events,
//! depth, aliases and scalar bytes. Each chart's versions become one line of a versions file (our
//! `VersionsFile` JSON: version, appVersion, digest, the resolved `urls[0]`, created,
//! deprecated as yanked, kubeVersion); the cache file lists every chart, sorted, with its
//! newest stable version, description, deprecation and the byte range and sha256 of its line.
//!
//! ```text
//! index-v1/REPO/helm-index.json            the cache: ETag, Last-Modified, index digest, charts
//! index-v1/REPO/helm-versions-HEX.jsonl    one VersionsFile line per chart (by content digest)
//! ```
//!
//! A new index is written to a temporary file first; the cache file is replaced last (an atomic
//! rename), so a truncated or malformed index leaves the previous cache as it was.
//!
//! Versions follow Helm: Masterminds semver (`v1.2`, `1.2` are read as `1.2.0`); versions that do
//! not parse, and versions without a sha256 `digest` or `urls`, are skipped and counted (nothing
//! unverified is ever fetched). IO: the cache files.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::index::format::{API_VERSION, PackageSummary, RootIndex, VersionEntry, VersionsFile};
use crate::model::Digest;

/// The file a Helm repository serves at its URL.
pub const INDEX_FILE: &str = "index.yaml";
/// The cache file, in the repository's cache folder.
pub const CACHE_FILE: &str = "helm-index.json";
const VERSIONS_PREFIX: &str = "helm-versions-";
const VERSIONS_SUFFIX: &str = ".jsonl";

/// Most parser events in one index (a 60 MB index has about 6 million).
pub const MAX_EVENTS: usize = 100_000_000;
/// Deepest nesting accepted in an index.
pub const MAX_DEPTH: usize = 64;
/// Most versions of one chart.
pub const MAX_VERSIONS_PER_CHART: usize = 100_000;

/// The cache of one Helm repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmCache {
    pub api_version: String,
    pub kind: String,
    /// The repository URL the cache was built from.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// sha256 of the `index.yaml` bytes the cache was built from.
    pub index_digest: Digest,
    /// The versions file (in the same folder).
    pub versions_file: String,
    /// Versions left out (no valid version, digest or URL).
    #[serde(default)]
    pub skipped: usize,
    /// Sorted by name.
    pub charts: Vec<ChartSummary>,
}

/// One chart in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartSummary {
    pub name: String,
    /// The newest version neither deprecated nor a pre-release (else the newest).
    pub latest: semver::Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// The chart's newest stable version is deprecated (Helm's rule for a deprecated chart;
    /// `latest` is then the newest version that is not).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    pub version_count: usize,
    /// Byte range of the chart's line in the versions file.
    pub offset: u64,
    pub len: u64,
    /// sha256 of those bytes.
    pub digest: Digest,
}

impl HelmCache {
    /// The cache as the root of an index, for the code shared with our repositories
    /// (resolution, search, automatic upgrades). A versions URL is `FILE#OFFSET+LEN`.
    pub fn to_root(&self) -> RootIndex {
        RootIndex::new(
            self.charts
                .iter()
                .map(|c| PackageSummary {
                    name: c.name.clone(),
                    latest: c.latest.clone(),
                    app_version: c.app_version.clone(),
                    description: c.description.clone(),
                    category: None,
                    keywords: c.keywords.clone(),
                    icon: c.icon.clone(),
                    versions_url: format!("{}#{}+{}", self.versions_file, c.offset, c.len),
                    versions_digest: c.digest.clone(),
                    version_count: c.version_count,
                })
                .collect(),
        )
    }

    pub fn chart(&self, name: &str) -> Option<&ChartSummary> {
        self.charts
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .and_then(|i| self.charts.get(i))
    }
}

/// A Helm index that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HelmIndexError {
    #[error("index.yaml is not valid UTF-8")]
    Utf8,
    #[error("index.yaml is not a valid Helm index: {0}")]
    Parse(String),
    #[error("index.yaml has no apiVersion (Helm refuses such an index too)")]
    NoApiVersion,
    #[error("index.yaml has no entries")]
    NoEntries,
    #[error(
        "index.yaml has no `generated` field: it looks truncated (Helm writes it after the entries)"
    )]
    NoGenerated,
    #[error("failed to write the cache: {0}")]
    Write(#[from] std::io::Error),
}

/// One chart version as `index.yaml` lists it: only what the cache keeps.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct HelmVersion {
    version: Option<String>,
    app_version: Option<String>,
    description: Option<String>,
    keywords: Option<Vec<String>>,
    icon: Option<String>,
    digest: Option<String>,
    urls: Option<Vec<String>>,
    created: Option<String>,
    deprecated: Option<bool>,
    kube_version: Option<String>,
}

/// What parsing an index gives besides the versions it wrote.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Sorted by name.
    pub charts: Vec<ChartSummary>,
    pub skipped: usize,
}

/// A Helm (Masterminds) version as a semver version: a missing minor or patch is 0, a leading
/// `v` is dropped. `None` when Helm would refuse it too.
pub fn to_semver(text: &str) -> Option<semver::Version> {
    let v = gotpl::funcs::versions::Version::parse(text.trim()).ok()?;
    let mut out = semver::Version::new(v.major, v.minor, v.patch);
    if !v.pre.is_empty() {
        out.pre = semver::Prerelease::new(&v.pre).ok()?;
    }
    if !v.metadata.is_empty() {
        out.build = semver::BuildMetadata::new(&v.metadata).ok()?;
    }
    Some(out)
}

/// Resolves a chart URL as Helm does: absolute URLs stay, others are relative to the
/// repository URL (which ends with `/`).
pub fn resolve_chart_url(base: &reqwest::Url, reference: &str) -> Option<String> {
    base.join(reference.trim()).ok().map(String::from)
}

fn parse_digest(hex: &str) -> Option<Digest> {
    let h = hex.trim();
    let h = h.strip_prefix("sha256:").unwrap_or(h);
    if h.len() != 64 {
        return None;
    }
    format!("sha256:{}", h.to_ascii_lowercase()).parse().ok()
}

struct Ctx<'w> {
    base: reqwest::Url,
    out: &'w mut dyn Write,
    offset: u64,
    parsed: Parsed,
    api_version: Option<String>,
    saw_entries: bool,
    saw_generated: bool,
}

impl Ctx<'_> {
    fn add_chart(&mut self, name: String, raw: Vec<HelmVersion>) -> std::io::Result<()> {
        let mut entries: Vec<(VersionEntry, HelmVersion)> = Vec::with_capacity(raw.len());
        for v in raw {
            let version = v.version.as_deref().and_then(to_semver);
            let digest = v.digest.as_deref().and_then(parse_digest);
            let url = v
                .urls
                .as_ref()
                .and_then(|u| u.first())
                .and_then(|u| resolve_chart_url(&self.base, u));
            let (Some(version), Some(digest), Some(url)) = (version, digest, url) else {
                self.parsed.skipped += 1;
                continue;
            };
            let entry = VersionEntry {
                version,
                url,
                digest,
                size: 0,
                app_version: v.app_version.clone(),
                kube_version: v.kube_version.clone(),
                created: v.created.clone().unwrap_or_default(),
                yanked: v.deprecated.unwrap_or(false),
                changelog: Vec::new(),
            };
            entries.push((entry, v));
        }
        if entries.is_empty() {
            return Ok(());
        }
        entries.sort_by(|a, b| b.0.version.cmp(&a.0.version));
        entries.dedup_by(|a, b| a.0.version == b.0.version);
        let (versions, metas): (Vec<VersionEntry>, Vec<HelmVersion>) = entries.into_iter().unzip();
        let Some(latest) = crate::index::format::latest(&versions) else {
            return Ok(());
        };
        let meta = versions
            .iter()
            .position(|v| v.version == latest.version)
            .and_then(|i| metas.get(i));
        let summary_base = ChartSummary {
            name: name.clone(),
            latest: latest.version.clone(),
            app_version: latest.app_version.clone(),
            description: meta.and_then(|m| m.description.clone()).unwrap_or_default(),
            keywords: meta.and_then(|m| m.keywords.clone()).unwrap_or_default(),
            icon: meta.and_then(|m| m.icon.clone()),
            // Helm's rule: a chart is deprecated when its newest (stable) version is.
            deprecated: versions
                .iter()
                .find(|v| v.version.pre.is_empty())
                .or(versions.first())
                .is_some_and(|v| v.yanked),
            version_count: versions.len(),
            offset: self.offset,
            len: 0,
            digest: Digest::of(b""),
        };
        let file = VersionsFile {
            api_version: API_VERSION.into(),
            kind: "HelmChartVersions".into(),
            name,
            versions,
        };
        let line = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        self.out.write_all(&line)?;
        self.out.write_all(b"\n")?;
        let len = line.len() as u64;
        self.offset += len + 1;
        self.parsed.charts.push(ChartSummary {
            len,
            digest: Digest::of(&line),
            ..summary_base
        });
        Ok(())
    }
}

struct Top<'a, 'w>(&'a mut Ctx<'w>);

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Helm index (a map with apiVersion and entries)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "apiVersion" => self.0.api_version = map.next_value::<Option<String>>()?,
                "entries" => {
                    self.0.saw_entries = true;
                    map.next_value_seed(Entries(&mut *self.0))?;
                }
                "generated" => {
                    self.0.saw_generated = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Entries<'a, 'w>(&'a mut Ctx<'w>);

impl<'de> DeserializeSeed<'de> for Entries<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map of chart names to their versions")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        while let Some(name) = map.next_key::<String>()? {
            let versions: Option<Vec<HelmVersion>> = map.next_value()?;
            let versions = versions.unwrap_or_default();
            if versions.len() > MAX_VERSIONS_PER_CHART {
                return Err(A::Error::custom(format!(
                    "chart `{name}` has {} versions, over the limit of {MAX_VERSIONS_PER_CHART}",
                    versions.len()
                )));
            }
            self.0
                .add_chart(name, versions)
                .map_err(|e| A::Error::custom(format!("failed to write the cache: {e}")))?;
        }
        Ok(())
    }
}

fn options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_events = MAX_EVENTS;
    budget.max_nodes = MAX_EVENTS;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = len.max(1024);
    budget.max_aliases = crate::yaml::MAX_ALIASES;
    budget.max_anchors = crate::yaml::MAX_ALIASES;
    budget.max_recorded_anchor_events = crate::yaml::MAX_REPLAYED_EVENTS;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.alias_limits.max_total_replayed_events = crate::yaml::MAX_REPLAYED_EVENTS;
    opts.alias_limits.max_replay_stack_depth = 16;
    opts.with_snippet = false;
    opts
}

fn parse_error(e: serde_saphyr::Error) -> HelmIndexError {
    HelmIndexError::Parse(
        e.to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// Parses `index.yaml`, writing one versions line per chart to `out`. `base` is the repository
/// URL (ending with `/`) that relative chart URLs are resolved against.
///
/// An index in the block layout `helm repo index` writes is split at its chart keys and the
/// pieces parsed on all cores (each with its own budget); any other layout, or a piece that does
/// not parse, goes through one streaming parse of the whole text, whose result (or error) is
/// the reference.
pub fn parse_index(
    bytes: &[u8],
    base: &reqwest::Url,
    out: &mut dyn Write,
) -> Result<Parsed, HelmIndexError> {
    parse_index_with(bytes, base, out, true)
}

fn parse_index_with(
    bytes: &[u8],
    base: &reqwest::Url,
    out: &mut dyn Write,
    allow_split: bool,
) -> Result<Parsed, HelmIndexError> {
    let text = std::str::from_utf8(bytes).map_err(|_| HelmIndexError::Utf8)?;
    let split = if allow_split {
        parse_split(text, base)
    } else {
        None
    };
    let (header, mut parsed) = match split {
        Some((header, pieces)) => {
            let mut parsed = Parsed::default();
            let mut offset = 0u64;
            for (mut p, buf) in pieces {
                for c in &mut p.charts {
                    c.offset += offset;
                }
                out.write_all(&buf)?;
                offset += buf.len() as u64;
                parsed.charts.append(&mut p.charts);
                parsed.skipped += p.skipped;
            }
            (header, parsed)
        }
        None => {
            let mut ctx = Ctx {
                base: base.clone(),
                out,
                offset: 0,
                parsed: Parsed::default(),
                api_version: None,
                saw_entries: false,
                saw_generated: false,
            };
            serde_saphyr::with_deserializer_from_str_with_options(
                text,
                options(text.len()),
                |de| Top(&mut ctx).deserialize(de),
            )
            .map_err(parse_error)?;
            let header = Header {
                api_version: ctx.api_version,
                saw_entries: ctx.saw_entries,
                saw_generated: ctx.saw_generated,
            };
            (header, ctx.parsed)
        }
    };
    if header.api_version.as_deref().is_none_or(str::is_empty) {
        return Err(HelmIndexError::NoApiVersion);
    }
    if !header.saw_entries {
        return Err(HelmIndexError::NoEntries);
    }
    // A file cut at a line boundary is still valid YAML; `helm repo index` (and the servers
    // built on Helm's library) write `generated` after `entries`, so its absence is the sign.
    if !header.saw_generated {
        return Err(HelmIndexError::NoGenerated);
    }
    parsed.charts.sort_by(|a, b| a.name.cmp(&b.name));
    let before = parsed.charts.len();
    parsed.charts.dedup_by(|a, b| a.name == b.name);
    parsed.skipped += before - parsed.charts.len();
    Ok(parsed)
}

/// What the top level of an index says besides its entries.
struct Header {
    api_version: Option<String>,
    saw_entries: bool,
    saw_generated: bool,
}

/// Where the chart keys of a block-layout `entries:` map are: `(header text with the entries
/// replaced by `{}`, the pieces of the entries map)`, or `None` for another layout.
fn split_entries(text: &str, pieces: usize) -> Option<(String, Vec<&str>)> {
    let mut pos = 0usize;
    let mut entries_line: Option<(usize, usize)> = None;
    let mut keys = Vec::new();
    let mut end = text.len();
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        match entries_line {
            None => {
                if body.trim_end() == "entries:" {
                    entries_line = Some((start, pos));
                }
            }
            Some(_) => {
                let bytes = body.as_bytes();
                if body.trim().is_empty() || body.trim_start().starts_with('#') {
                    continue;
                }
                match bytes {
                    [b' ', b' ', c, ..] if !matches!(c, b' ' | b'-' | b'#' | b'\t') => {
                        keys.push(start)
                    }
                    [c, ..] if !matches!(c, b' ' | b'\t') => {
                        end = start;
                        break;
                    }
                    _ if keys.is_empty() => return None,
                    _ => {}
                }
            }
        }
    }
    let (entries_start, entries_end) = entries_line?;
    let first = *keys.first()?;
    if text.get(entries_end..first)?.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    }) {
        return None;
    }
    let header = format!(
        "{}entries: {{}}\n{}",
        text.get(..entries_start)?,
        text.get(end..)?
    );
    let target = (end - first) / pieces.max(1) + 1;
    let mut out = Vec::new();
    let mut piece_start = first;
    for &k in &keys {
        if k - piece_start >= target {
            out.push(text.get(piece_start..k)?);
            piece_start = k;
        }
    }
    out.push(text.get(piece_start..end)?);
    Some((header, out))
}

/// The split parse of [`parse_index`]: `None` when the layout does not allow it or a piece
/// fails (the caller then parses the whole text in one stream).
/// One parsed piece: what it holds and the versions lines it wrote (offsets from its start).
type Piece = (Parsed, Vec<u8>);

fn parse_split(text: &str, base: &reqwest::Url) -> Option<(Header, Vec<Piece>)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || text.len() < 1024 * 1024 {
        return None;
    }
    let (header_text, pieces) = split_entries(text, threads * 4)?;
    let mut sink = std::io::sink();
    let mut ctx = Ctx {
        base: base.clone(),
        out: &mut sink,
        offset: 0,
        parsed: Parsed::default(),
        api_version: None,
        saw_entries: false,
        saw_generated: false,
    };
    serde_saphyr::with_deserializer_from_str_with_options(
        &header_text,
        options(header_text.len()),
        |de| Top(&mut ctx).deserialize(de),
    )
    .ok()?;
    let header = Header {
        api_version: ctx.api_version,
        saw_entries: ctx.saw_entries,
        saw_generated: ctx.saw_generated,
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Each thread's pieces with their numbers; `None` when one of its pieces failed.
    type Done = Option<Vec<(usize, Parsed, Vec<u8>)>>;
    let results: Vec<Done> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(piece) = pieces.get(i) else {
                            return Some(done);
                        };
                        let mut buf = Vec::with_capacity(piece.len() / 3);
                        let mut ctx = Ctx {
                            base: base.clone(),
                            out: &mut buf,
                            offset: 0,
                            parsed: Parsed::default(),
                            api_version: None,
                            saw_entries: false,
                            saw_generated: false,
                        };
                        serde_saphyr::with_deserializer_from_str_with_options(
                            piece,
                            options(piece.len()),
                            |de| Entries(&mut ctx).deserialize(de),
                        )
                        .ok()?;
                        let parsed = ctx.parsed;
                        done.push((i, parsed, buf));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let mut all = Vec::with_capacity(pieces.len());
    for r in results {
        all.extend(r?);
    }
    all.sort_by_key(|(i, _, _)| *i);
    Some((header, all.into_iter().map(|(_, p, b)| (p, b)).collect()))
}

/// A writer that hashes what it writes.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Where an index came from (the conditional-request validators).
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Parses `bytes` into a new cache in `dir`, replacing the previous one only once everything is
/// written (a failure leaves it as it was). Returns the new cache.
pub fn build_cache(
    dir: &Path,
    url: &str,
    bytes: &[u8],
    validators: Validators,
) -> Result<HelmCache, HelmIndexError> {
    let base = reqwest::Url::parse(url).map_err(|e| HelmIndexError::Parse(e.to_string()))?;
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".cocktail-pkg-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let mut writer = Hashing {
        inner: std::io::BufWriter::with_capacity(256 * 1024, tmp),
        hasher: Sha256::new(),
    };
    let parsed = parse_index(bytes, &base, &mut writer)?;
    writer.flush()?;
    let hex = crate::model::hex(&writer.hasher.finalize());
    let tmp = writer
        .inner
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    tmp.as_file().sync_all()?;
    let versions_file = format!("{VERSIONS_PREFIX}{hex}{VERSIONS_SUFFIX}");
    tmp.persist(dir.join(&versions_file)).map_err(|e| e.error)?;
    let cache = HelmCache {
        api_version: API_VERSION.into(),
        kind: "HelmIndexCache".into(),
        url: url.to_string(),
        etag: validators.etag,
        last_modified: validators.last_modified,
        index_digest: Digest::of(bytes),
        versions_file,
        skipped: parsed.skipped,
        charts: parsed.charts,
    };
    write_cache(dir, &cache)?;
    remove_stale_versions(dir, &cache.versions_file);
    Ok(cache)
}

/// Writes the cache file (atomically).
pub fn write_cache(dir: &Path, cache: &HelmCache) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(cache).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    crate::fsutil::write_atomic(&dir.join(CACHE_FILE), &bytes)
}

/// Versions files no longer named by the cache.
fn remove_stale_versions(dir: &Path, keep: &str) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for e in read.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with(VERSIONS_PREFIX) && name.ends_with(VERSIONS_SUFFIX) && name != keep {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The cache of the repository in `dir`, when there is a readable one.
pub fn load_cache(dir: &Path) -> Option<HelmCache> {
    let bytes = std::fs::read(dir.join(CACHE_FILE)).ok()?;
    let cache: HelmCache = serde_json::from_slice(&bytes).ok()?;
    (cache.api_version == API_VERSION).then_some(cache)
}

/// Reads one chart's versions line (`FILE#OFFSET+LEN`, as [`HelmCache::to_root`] wrote it) with
/// a seek, and checks its digest.
pub fn read_versions(dir: &Path, versions_url: &str, digest: &Digest) -> Result<Vec<u8>, String> {
    let bad = || format!("invalid cached versions reference `{versions_url}`");
    let (file, range) = versions_url.split_once('#').ok_or_else(bad)?;
    let (offset, len) = range.split_once('+').ok_or_else(bad)?;
    let offset: u64 = offset.parse().map_err(|_| bad())?;
    let len: usize = len.parse().map_err(|_| bad())?;
    if file.contains(['/', '\\']) || len > crate::repo::client::MAX_INDEX_BYTES as usize {
        return Err(bad());
    }
    let path = dir.join(file);
    let mut f = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = vec![0u8; len];
    f.read_exact(&mut buf)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if Digest::of(&buf) != *digest {
        return Err(format!("{} does not match its digest", path.display()));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"apiVersion: v1
entries:
  nginx:
  - apiVersion: v2
    appVersion: 1.25.0
    created: "2024-01-02T00:00:00Z"
    description: NGINX, newest
    digest: 1111111111111111111111111111111111111111111111111111111111111111
    name: nginx
    urls:
    - charts/nginx-1.2.0.tgz
    version: 1.2.0
    maintainers:
    - name: a
      email: a@example.com
  - appVersion: "1.24"
    description: NGINX, older
    digest: 2222222222222222222222222222222222222222222222222222222222222222
    urls: [https://cdn.example.com/nginx-1.1.tgz]
    version: v1.1
  - description: a pre-release
    digest: 3333333333333333333333333333333333333333333333333333333333333333
    urls: [nginx-2.0.0-rc.1.tgz]
    version: 2.0.0-rc.1
  - description: no digest
    urls: [nginx-0.9.0.tgz]
    version: 0.9.0
  - description: not a version
    digest: 4444444444444444444444444444444444444444444444444444444444444444
    urls: [x.tgz]
    version: banana
  old:
  - deprecated: true
    description: gone
    digest: 5555555555555555555555555555555555555555555555555555555555555555
    urls: [/abs/old-1.0.0.tgz]
    version: 1.0.0
  empty: []
generated: "2024-01-02T00:00:00Z"
serverInfo: {}
"#;

    fn base() -> reqwest::Url {
        reqwest::Url::parse("https://charts.example.com/repo/").unwrap()
    }

    #[test]
    fn parses_an_index_into_summaries_and_versions_lines() {
        let mut out = Vec::new();
        let parsed = parse_index(INDEX.as_bytes(), &base(), &mut out).unwrap();
        assert_eq!(parsed.skipped, 2, "no digest, not a version");
        let names: Vec<&str> = parsed.charts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["nginx", "old"]);
        let nginx = &parsed.charts[0];
        assert_eq!(nginx.latest.to_string(), "1.2.0");
        assert_eq!(nginx.description, "NGINX, newest");
        assert_eq!(nginx.version_count, 3);
        assert!(!nginx.deprecated);
        assert!(parsed.charts[1].deprecated);
        let line = &out[nginx.offset as usize..(nginx.offset + nginx.len) as usize];
        assert_eq!(Digest::of(line), nginx.digest);
        let file = VersionsFile::parse("t", line).unwrap();
        let vs: Vec<String> = file
            .versions
            .iter()
            .map(|v| v.version.to_string())
            .collect();
        assert_eq!(vs, ["2.0.0-rc.1", "1.2.0", "1.1.0"], "newest first");
        assert_eq!(
            file.versions[1].url,
            "https://charts.example.com/repo/charts/nginx-1.2.0.tgz"
        );
        assert_eq!(
            file.versions[2].url,
            "https://cdn.example.com/nginx-1.1.tgz"
        );
        assert_eq!(file.versions[2].app_version.as_deref(), Some("1.24"));
        let old = &parsed.charts[1];
        let line = &out[old.offset as usize..(old.offset + old.len) as usize];
        let file = VersionsFile::parse("t", line).unwrap();
        assert_eq!(
            file.versions[0].url, "https://charts.example.com/abs/old-1.0.0.tgz",
            "an absolute path is resolved against the host, as Helm does"
        );
        assert!(file.versions[0].yanked);
    }

    #[test]
    fn refuses_damaged_indexes() {
        let truncated = &INDEX[..INDEX.find("urls: [https").unwrap() + 12];
        assert!(matches!(
            parse_index(truncated.as_bytes(), &base(), &mut Vec::new()),
            Err(HelmIndexError::Parse(_))
        ));
        assert!(matches!(
            parse_index(b"entries: {}\ngenerated: x\n", &base(), &mut Vec::new()),
            Err(HelmIndexError::NoApiVersion)
        ));
        assert!(matches!(
            parse_index(b"apiVersion: v1\ngenerated: x\n", &base(), &mut Vec::new()),
            Err(HelmIndexError::NoEntries)
        ));
        assert!(matches!(
            parse_index(
                b"apiVersion: v1\nentries: [1, 2]\n",
                &base(),
                &mut Vec::new()
            ),
            Err(HelmIndexError::Parse(_))
        ));
        assert!(matches!(
            parse_index(&[0xff, 0xfe], &base(), &mut Vec::new()),
            Err(HelmIndexError::Utf8)
        ));
        // An alias bomb is refused by the budget, not expanded.
        let mut bomb = String::from("apiVersion: v1\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!(
                "b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        // Cut at a line boundary: valid YAML, but not a whole index.
        let cut = &INDEX[..INDEX.find("  old:").unwrap()];
        assert!(matches!(
            parse_index(cut.as_bytes(), &base(), &mut Vec::new()),
            Err(HelmIndexError::NoGenerated)
        ));
        let empty = b"apiVersion: v1\nentries: {}\ngenerated: x\n";
        assert!(parse_index(empty, &base(), &mut Vec::new()).is_ok());
        bomb.push_str("entries: {}\n");
        assert!(parse_index(bomb.as_bytes(), &base(), &mut Vec::new()).is_err());
    }

    /// An index in helm's layout, big enough to be split.
    fn big_index() -> String {
        let mut s = String::from("# made by a test\napiVersion: v1\nentries:\n");
        for c in 0..400 {
            s.push_str(&format!("  chart-{c:03}:\n"));
            for v in 0..12 {
                s.push_str(&format!(
                    "  - annotations:\n      images: |\n        - name: x\n          image: x:{v}\n    description: \"chart {c}, a long description to make the index bigger than a mebibyte\"\n    digest: {:064x}\n    keywords:\n    - k{c}\n    urls:\n    - chart-{c:03}-{v}.0.0.tgz\n    version: {v}.0.0\n",
                    c * 100 + v
                ));
            }
        }
        s.push_str("generated: \"2026-01-01T00:00:00Z\"\nserverInfo: {}\n");
        s
    }

    #[test]
    fn a_split_parse_gives_what_one_stream_gives() {
        let text = big_index();
        assert!(text.len() > 1024 * 1024);
        let (header, pieces) = split_entries(&text, 8).unwrap();
        assert!(pieces.len() > 1, "split in pieces");
        assert!(header.contains("entries: {}") && header.contains("generated:"));
        assert!(
            parse_split(&text, &base()).is_some()
                || std::thread::available_parallelism().map_or(true, |n| n.get() < 2)
        );
        let (mut split, mut stream) = (Vec::new(), Vec::new());
        let a = parse_index_with(text.as_bytes(), &base(), &mut split, true).unwrap();
        let b = parse_index_with(text.as_bytes(), &base(), &mut stream, false).unwrap();
        assert_eq!(a.charts, b.charts);
        assert_eq!(a.charts.len(), 400);
        assert_eq!(split, stream);
        // A piece that does not parse sends the whole text through one stream (same error).
        let broken = text.replacen("  chart-200:\n  - ", "  chart-200:\n  - [", 1);
        let e1 = parse_index_with(broken.as_bytes(), &base(), &mut Vec::new(), true).unwrap_err();
        let e2 = parse_index_with(broken.as_bytes(), &base(), &mut Vec::new(), false).unwrap_err();
        assert_eq!(e1.to_string(), e2.to_string());
        // Other layouts are not split.
        assert!(split_entries("apiVersion: v1\nentries: {a: []}\ngenerated: x\n", 4).is_none());
        assert!(
            split_entries(
                "apiVersion: v1\nentries:\n    a:\n    - version: 1.0.0\n",
                4
            )
            .is_none()
        );
    }

    #[test]
    fn helm_versions_become_semver() {
        assert_eq!(to_semver("v1.2").unwrap().to_string(), "1.2.0");
        assert_eq!(
            to_semver("1.0.0-rc.1+b").unwrap().to_string(),
            "1.0.0-rc.1+b"
        );
        assert!(to_semver("1.2.3.4").is_none());
        assert!(to_semver("").is_none());
    }

    #[test]
    fn builds_reads_and_replaces_a_cache() {
        let dir = tempfile::tempdir().unwrap();
        let url = "https://charts.example.com/repo/";
        let cache = build_cache(dir.path(), url, INDEX.as_bytes(), Validators::default()).unwrap();
        let loaded = load_cache(dir.path()).unwrap();
        assert_eq!(loaded.charts, cache.charts);
        let root = loaded.to_root();
        let nginx = root.package("nginx").unwrap();
        let bytes = read_versions(dir.path(), &nginx.versions_url, &nginx.versions_digest).unwrap();
        assert_eq!(VersionsFile::parse("t", &bytes).unwrap().versions.len(), 3);
        // A damaged index leaves the cache as it was.
        assert!(
            build_cache(
                dir.path(),
                url,
                b"apiVersion: v1\nentries: [",
                Validators::default()
            )
            .is_err()
        );
        assert_eq!(
            load_cache(dir.path()).unwrap().index_digest,
            cache.index_digest
        );
        let files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(files.len(), 2, "no temporary file left: {files:?}");
        // A tampered cache line is refused.
        let path = dir.path().join(&cache.versions_file);
        let mut raw = std::fs::read(&path).unwrap();
        raw[5] ^= 1;
        std::fs::write(&path, raw).unwrap();
        assert!(read_versions(dir.path(), &nginx.versions_url, &nginx.versions_digest).is_err());
    }
}
