//! `package`: write a reproducible `NAME-VERSION.tgz` from a package directory.
//!
//! Ours: every file under `NAME/`, sorted, with folder entries ([`archive::write`]). A Helm
//! chart: `helm package`'s layout ([`archive::write_chart`]): the top folder and the file name
//! use `Chart.yaml`'s name and version as written, `.helmignore` is honoured (the source module
//! reads the folder as Helm's loader does), sub-charts in `charts/` go in as they are (folders or
//! `.tgz`), and `--version`/`--app-version` rewrite `Chart.yaml` inside the archive only. A
//! chart whose declared dependencies are missing from `charts/` is refused, as `template` and
//! `helm package` refuse it.
//!
//! `--dependency-update` first does what `helm dependency update` does for local dependencies:
//! each `file://PATH` dependency (relative to the chart) is packaged into
//! `charts/NAME-VERSION.tgz` after checking its version against the constraint, outdated
//! archives of the same chart are removed, and `Chart.lock` (`requirements.lock` for apiVersion
//! v1) is written with Helm's digest ([`hash_req`]) unless its digest is unchanged. A dependency
//! chart that itself has `file://` dependencies is updated the same way, in memory (its folder is
//! not touched). Everything is computed before the first write, and a failure while writing
//! restores `charts/` and the lock file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::OpError;
use crate::archive;
use crate::chart::{self, Dependency};
use crate::fsutil::write_atomic;
use crate::model::Digest;
use crate::package::{Format, Package, PackageError};
use crate::source::{self, SourceError};

#[derive(Debug, Clone)]
pub struct PackageOptions {
    pub dir: PathBuf,
    pub out_dir: PathBuf,
    /// Charts only: the version written into the archive's `Chart.yaml` (and its file name).
    pub version: Option<String>,
    /// Charts only: the `appVersion` written into the archive's `Chart.yaml`.
    pub app_version: Option<String>,
    /// Charts only: package `file://` dependencies into `charts/` and write `Chart.lock` first.
    pub dependency_update: bool,
    /// The time a new `Chart.lock` records as `generated` (Unix seconds).
    pub now: crate::time::UnixTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageOutcome {
    pub name: String,
    pub version: String,
    pub path: PathBuf,
    pub digest: Digest,
    pub size: u64,
    /// `--dependency-update`: what changed in the chart's folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<DependencyUpdate>,
}

/// What `--dependency-update` did in the chart's folder (paths relative to it).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DependencyUpdate {
    /// The dependencies as locked.
    pub locked: Vec<LockedDependency>,
    /// Archives written under `charts/` (unchanged ones are not rewritten but listed).
    pub saved: Vec<String>,
    /// Outdated archives of the same charts removed from `charts/`.
    pub removed: Vec<String>,
    /// The lock file written, or `None` when its digest was unchanged (Helm keeps it then).
    pub lock: Option<String>,
}

/// One dependency as `Chart.lock` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedDependency {
    pub name: String,
    pub repository: String,
    pub version: String,
}

/// `package` on a chart failed.
#[derive(Debug, thiserror::Error)]
pub enum ChartPackageError {
    #[error("`{flag}` applies to Helm charts; {} is a package in our format", .dir.display())]
    NotAChart { flag: &'static str, dir: PathBuf },
    #[error("`--version` `{0}` is not a semantic version")]
    InvalidVersion(String),
    #[error("failed to set {field} in Chart.yaml: {reason}")]
    Rewrite { field: &'static str, reason: String },
    #[error(
        "dependency `{name}` of chart `{chart}` comes from `{repository}`, which `--dependency-update` cannot fetch"
    )]
    Remote {
        chart: String,
        name: String,
        repository: String,
    },
    #[error(
        "dependency `{name}` of chart `{chart}` has an invalid version constraint `{constraint}`: {message}"
    )]
    Constraint {
        chart: String,
        name: String,
        constraint: String,
        message: String,
    },
    #[error(
        "dependency `{name}` of chart `{chart}` has no repository, and charts/{name}/ is missing"
    )]
    LocalMissing { chart: String, name: String },
    #[error("dependency `{name}` of chart `{chart}`: {} does not exist", .path.display())]
    NotFound {
        chart: String,
        name: String,
        path: PathBuf,
    },
    #[error("failed to load dependency `{name}` of chart `{chart}` from {}", .path.display())]
    Load {
        chart: String,
        name: String,
        path: PathBuf,
        #[source]
        source: Box<OpError>,
    },
    #[error("dependency `{name}` of chart `{chart}` points to {}, which holds chart `{found}`", .path.display())]
    WrongName {
        chart: String,
        name: String,
        path: PathBuf,
        found: String,
    },
    #[error(
        "dependency `{name}` of chart `{chart}` needs version `{constraint}`, but {} holds version {version}",
        .path.display()
    )]
    Unsatisfied {
        chart: String,
        name: String,
        constraint: String,
        path: PathBuf,
        version: String,
    },
    #[error("local dependencies form a cycle: {}", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" -> "))]
    Cycle(Vec<PathBuf>),
    #[error(
        "local dependencies are nested more than {} levels deep",
        chart::MAX_CHART_DEPTH
    )]
    TooDeep,
}

impl ChartPackageError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ChartPackageError::NotAChart { .. } => Some(
                "set the version in package.yaml; `--dependency-update` is for charts' `file://` dependencies".into(),
            ),
            ChartPackageError::InvalidVersion(_) => {
                Some("give a version like 1.2.3 (a `v` prefix and a pre-release are accepted, as by Helm)".into())
            }
            ChartPackageError::Rewrite { .. } => Some(
                "write Chart.yaml as a block map with `version:` and `appVersion:` at the top level".into(),
            ),
            ChartPackageError::Remote { .. } => Some(
                "only `file://PATH` dependencies are packaged for now: vendor this one into charts/ with `helm dependency update`, or point `repository` at a local copy with `file://`".into(),
            ),
            ChartPackageError::Constraint { .. } => Some(
                "write the dependency's `version` as a constraint such as `1.2.3`, `~1.2` or `>=1.0.0 <2`".into(),
            ),
            ChartPackageError::LocalMissing { .. } => Some(
                "a dependency without `repository` must already be a folder in charts/; or set `repository: file://PATH`".into(),
            ),
            ChartPackageError::NotFound { .. } => Some(
                "`file://` paths are relative to the chart's folder (or absolute)".into(),
            ),
            ChartPackageError::Load { source, .. } => source.hint(),
            ChartPackageError::WrongName { .. } => Some(
                "a dependency's `name` must be the `name` in its Chart.yaml (use `alias` to rename it)".into(),
            ),
            ChartPackageError::Unsatisfied { .. } => Some(
                "change the version constraint in Chart.yaml, or the version in the dependency's Chart.yaml".into(),
            ),
            ChartPackageError::Cycle(_) | ChartPackageError::TooDeep => None,
        }
    }
}

impl From<ChartPackageError> for OpError {
    fn from(e: ChartPackageError) -> Self {
        OpError::ChartPackage(Box::new(e))
    }
}

/// Builds the archive bytes of a package: files under `NAME/`, reproducibly; a chart in Helm's
/// layout.
pub fn archive_bytes(pkg: &Package) -> Result<Vec<u8>, OpError> {
    match &pkg.format {
        Format::Chart(c) => Ok(archive::write_chart(c.name(), &pkg.files)?),
        Format::Cocktail(_) => Ok(archive::write(pkg.manifest.name.as_str(), &pkg.files)?),
    }
}

pub fn package(opts: &PackageOptions) -> Result<PackageOutcome, OpError> {
    if !opts.dir.exists() {
        return Err(SourceError::NotFound(opts.dir.clone()).into());
    }
    if !opts.dir.is_dir() {
        return Err(OpError::Invalid(format!(
            "{} is not a package directory (`package` builds an archive from a directory)",
            opts.dir.display()
        )));
    }
    // A chart folder is read as Helm reads it; not loaded first, so that `--dependency-update`
    // can replace a broken or outdated archive in `charts/`.
    if opts.dir.join("Chart.yaml").is_file() && !opts.dir.join("package.yaml").exists() {
        return package_chart(opts);
    }
    let pkg = source::load(&opts.dir, None)?.package;
    for (set, flag) in [
        (opts.version.is_some(), "--version"),
        (opts.app_version.is_some(), "--app-version"),
        (opts.dependency_update, "--dependency-update"),
    ] {
        if set {
            return Err(ChartPackageError::NotAChart {
                flag,
                dir: opts.dir.clone(),
            }
            .into());
        }
    }
    let bytes = archive_bytes(&pkg)?;
    let path = opts
        .out_dir
        .join(format!("{}.tgz", pkg.manifest.archive_stem()));
    write_atomic(&path, &bytes).map_err(|source| OpError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(PackageOutcome {
        name: pkg.manifest.name.to_string(),
        version: pkg.manifest.version.to_string(),
        path,
        digest: Digest::of(&bytes),
        size: bytes.len() as u64,
        dependencies: None,
    })
}

fn package_chart(opts: &PackageOptions) -> Result<PackageOutcome, OpError> {
    let mut files = source::read_chart_dir(&opts.dir)?;
    let mut plan = None;
    if opts.dependency_update {
        let mut chain = vec![canonical(&opts.dir)];
        let p = plan_update(&opts.dir, &files, opts.now, &mut chain)?;
        p.apply(&mut files);
        plan = Some(p);
    }
    if opts.version.is_some() || opts.app_version.is_some() {
        let text = files
            .get("Chart.yaml")
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let text = rewrite_chart_yaml(&text, opts.version.as_deref(), opts.app_version.as_deref())?;
        files.insert("Chart.yaml".into(), text.into_bytes());
    }
    let pkg = Package::from_files(files).map_err(|source| SourceError::Package {
        path: opts.dir.clone(),
        source,
    })?;
    let Some(chart) = pkg.chart() else {
        return Err(OpError::Invalid(format!(
            "{} is no longer a chart",
            opts.dir.display()
        )));
    };
    chart::check_dependencies(chart)?;
    let name = chart.name().to_string();
    let version = chart.metadata.version.clone();
    let bytes = archive::write_chart(&name, &pkg.files)?;
    let path = opts.out_dir.join(format!("{name}-{version}.tgz"));
    let mut journal = Journal::default();
    let update = match &plan {
        Some(p) => Some(p.commit(&opts.dir, &mut journal)?),
        None => None,
    };
    if let Err(source) = write_atomic(&path, &bytes) {
        journal.rollback();
        return Err(OpError::Write { path, source });
    }
    Ok(PackageOutcome {
        name,
        version,
        path,
        digest: Digest::of(&bytes),
        size: bytes.len() as u64,
        dependencies: update,
    })
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Sets `version` and/or `appVersion` of a `Chart.yaml` text, keeping everything else as
/// written: the top-level line (and any indented continuation) is replaced, or appended when
/// absent. The result is parsed back to check it says what was asked.
fn rewrite_chart_yaml(
    text: &str,
    version: Option<&str>,
    app_version: Option<&str>,
) -> Result<String, ChartPackageError> {
    let mut out = text.to_string();
    if let Some(v) = version {
        if chart::semver::parse(v).is_none() {
            return Err(ChartPackageError::InvalidVersion(v.to_string()));
        }
        out = set_top_level(&out, "version", v);
    }
    if let Some(v) = app_version {
        out = set_top_level(&out, "appVersion", v);
    }
    let meta = chart::parse_metadata(&out).map_err(|e| ChartPackageError::Rewrite {
        field: "the version",
        reason: crate::error_chain(&e),
    })?;
    if let Some(v) = version
        && meta.version != v
    {
        return Err(ChartPackageError::Rewrite {
            field: "version",
            reason: format!("Chart.yaml still says `{}`", meta.version),
        });
    }
    if let Some(v) = app_version
        && meta.app_version != v
    {
        return Err(ChartPackageError::Rewrite {
            field: "appVersion",
            reason: format!("Chart.yaml still says `{}`", meta.app_version),
        });
    }
    Ok(out)
}

/// Replaces the top-level `key:` line of a YAML map (and its indented continuation lines) with
/// `key: "value"`, or appends that line.
fn set_top_level(text: &str, key: &str, value: &str) -> String {
    let mut quoted = String::new();
    gotpl::json::write_string(&mut quoted, value, false);
    let line = format!("{key}: {quoted}");
    let mut out: Vec<&str> = Vec::new();
    let mut replaced = false;
    let mut skipping = false;
    for l in text.lines() {
        if skipping {
            if l.starts_with([' ', '\t']) {
                continue;
            }
            skipping = false;
        }
        let is_key = l
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with(':'));
        if is_key && !replaced {
            out.push(&line);
            replaced = true;
            skipping = true;
            continue;
        }
        out.push(l);
    }
    let mut s = out.join("\n");
    if !replaced {
        if !s.is_empty() && !s.ends_with('\n') {
            s.push('\n');
        }
        s.push_str(&line);
    }
    s.push('\n');
    s
}

/// What `--dependency-update` changes in one chart's folder, computed before anything is
/// written.
#[derive(Debug, Default)]
struct Plan {
    /// Archives to write under `charts/` (path relative to the chart, bytes).
    writes: Vec<(String, Vec<u8>)>,
    /// Outdated archives of the same charts to remove.
    removes: Vec<String>,
    /// The lock file to write (its name and bytes), when its digest changed.
    lock: Option<(String, Vec<u8>)>,
    locked: Vec<LockedDependency>,
}

impl Plan {
    /// The chart's files after the update.
    fn apply(&self, files: &mut BTreeMap<String, Vec<u8>>) {
        for r in &self.removes {
            files.remove(r);
        }
        for (p, b) in &self.writes {
            files.insert(p.clone(), b.clone());
        }
        if let Some((p, b)) = &self.lock {
            files.insert(p.clone(), b.clone());
        }
    }

    /// Writes the plan into the chart's folder, recording how to undo it; on a failure, undoes
    /// what was done.
    fn commit(&self, dir: &Path, journal: &mut Journal) -> Result<DependencyUpdate, OpError> {
        let result = (|| {
            let charts = dir.join("charts");
            if !self.writes.is_empty() && !charts.exists() {
                std::fs::create_dir_all(&charts).map_err(|source| OpError::Write {
                    path: charts.clone(),
                    source,
                })?;
                journal.undo.push(Undo::RemoveDir(charts));
            }
            for (p, b) in &self.writes {
                journal.write(&dir.join(p), b)?;
            }
            for p in &self.removes {
                journal.remove(&dir.join(p))?;
            }
            if let Some((p, b)) = &self.lock {
                journal.write(&dir.join(p), b)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            std::mem::take(journal).rollback();
            return Err(e);
        }
        Ok(DependencyUpdate {
            locked: self.locked.clone(),
            saved: self.writes.iter().map(|(p, _)| p.clone()).collect(),
            removed: self.removes.clone(),
            lock: self.lock.as_ref().map(|(p, _)| p.clone()),
        })
    }
}

/// How to undo the writes of a dependency update.
#[derive(Debug, Default)]
struct Journal {
    undo: Vec<Undo>,
}

#[derive(Debug)]
enum Undo {
    /// Put back a file's previous bytes.
    Restore(PathBuf, Vec<u8>),
    /// Remove a file that did not exist.
    Remove(PathBuf),
    /// Remove a folder that did not exist (when empty).
    RemoveDir(PathBuf),
}

impl Journal {
    fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), OpError> {
        let old = std::fs::read(path).ok();
        if old.as_deref() == Some(bytes) {
            return Ok(());
        }
        write_atomic(path, bytes).map_err(|source| OpError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        self.undo.push(match old {
            Some(b) => Undo::Restore(path.to_path_buf(), b),
            None => Undo::Remove(path.to_path_buf()),
        });
        Ok(())
    }

    fn remove(&mut self, path: &Path) -> Result<(), OpError> {
        let old = std::fs::read(path).map_err(|source| OpError::Read {
            what: "archive",
            path: path.to_path_buf(),
            source,
        })?;
        std::fs::remove_file(path).map_err(|source| OpError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        self.undo.push(Undo::Restore(path.to_path_buf(), old));
        Ok(())
    }

    /// Undoes every recorded change, newest first (best effort: a restore that fails leaves
    /// the others to be tried).
    fn rollback(self) {
        for u in self.undo.into_iter().rev() {
            let _ = match u {
                Undo::Restore(p, b) => write_atomic(&p, &b),
                Undo::Remove(p) => std::fs::remove_file(&p),
                Undo::RemoveDir(p) => std::fs::remove_dir(&p),
            };
        }
    }
}

/// The time a lock made for a dependency chart in memory records as `generated`: fixed, so the
/// archives stay reproducible.
const NESTED_LOCK_TIME: crate::time::UnixTime = archive::FIXED_MTIME as crate::time::UnixTime;

/// Plans `helm dependency update` for the chart in `dir` whose files are `files`: resolves every
/// dependency (all must be `file://` or already a folder in `charts/`), packages the local ones,
/// and the lock.
fn plan_update(
    dir: &Path,
    files: &BTreeMap<String, Vec<u8>>,
    now: crate::time::UnixTime,
    chain: &mut Vec<PathBuf>,
) -> Result<Plan, OpError> {
    let own = load_own(dir, files)?;
    let chart_name = own.metadata.name.clone();
    let reqs = own.metadata.dependencies.clone();
    let mut plan = Plan::default();
    if reqs.is_empty() {
        return Ok(plan);
    }
    // Helm checks every constraint before fetching anything.
    let mut constraints = Vec::new();
    for d in &reqs {
        let c = gotpl::funcs::versions::Constraints::parse(&d.version).map_err(|message| {
            ChartPackageError::Constraint {
                chart: chart_name.clone(),
                name: d.name.clone(),
                constraint: d.version.clone(),
                message,
            }
        })?;
        constraints.push(c);
    }
    for (d, constraint) in reqs.iter().zip(&constraints) {
        if d.repository.is_empty() {
            let prefix = format!("charts/{}/", d.name);
            if !files.keys().any(|p| p.starts_with(&prefix)) {
                return Err(ChartPackageError::LocalMissing {
                    chart: chart_name.clone(),
                    name: d.name.clone(),
                }
                .into());
            }
            plan.locked.push(LockedDependency {
                name: d.name.clone(),
                repository: String::new(),
                version: d.version.clone(),
            });
            continue;
        }
        let Some(rel) = d.repository.strip_prefix("file://") else {
            return Err(ChartPackageError::Remote {
                chart: chart_name.clone(),
                name: d.name.clone(),
                repository: d.repository.clone(),
            }
            .into());
        };
        let path = if Path::new(rel).is_absolute() {
            PathBuf::from(rel)
        } else {
            dir.join(rel)
        };
        if !path.exists() {
            return Err(ChartPackageError::NotFound {
                chart: chart_name.clone(),
                name: d.name.clone(),
                path,
            }
            .into());
        }
        let (sub_name, sub_version, bytes) = package_dependency(&chart_name, d, &path, chain)?;
        if sub_name != d.name {
            return Err(ChartPackageError::WrongName {
                chart: chart_name.clone(),
                name: d.name.clone(),
                path,
                found: sub_name,
            }
            .into());
        }
        let satisfied = gotpl::funcs::versions::Version::parse(&sub_version)
            .is_ok_and(|v| constraint.check(&v));
        if !satisfied {
            return Err(ChartPackageError::Unsatisfied {
                chart: chart_name.clone(),
                name: d.name.clone(),
                constraint: d.version.clone(),
                path,
                version: sub_version,
            }
            .into());
        }
        let file = format!("charts/{sub_name}-{sub_version}.tgz");
        for (p, old) in files {
            let in_charts = p
                .strip_prefix("charts/")
                .is_some_and(|rest| !rest.contains('/') && rest.ends_with(".tgz"));
            if in_charts
                && *p != file
                && archive_chart_name(old).as_deref() == Some(sub_name.as_str())
                && !plan.removes.contains(p)
            {
                plan.removes.push(p.clone());
            }
        }
        plan.writes.push((file, bytes));
        plan.locked.push(LockedDependency {
            name: d.name.clone(),
            repository: d.repository.clone(),
            version: sub_version,
        });
    }
    let digest = hash_req(&reqs, &plan.locked);
    let lock_name = if own.metadata.api_version == "v1" {
        "requirements.lock"
    } else {
        "Chart.lock"
    };
    let old_digest = files
        .get(lock_name)
        .and_then(|b| gotpl::yaml::parse_document(&String::from_utf8_lossy(b)).ok())
        .map(|v| v.to_json())
        .and_then(|v| v.get("digest").and_then(|d| d.as_str()).map(str::to_string));
    if old_digest.as_deref() != Some(digest.as_str()) {
        let text = lock_yaml(&plan.locked, &digest, now).map_err(|e| {
            OpError::Invalid(format!(
                "failed to write {lock_name} of chart `{chart_name}`: {e}"
            ))
        })?;
        plan.lock = Some((lock_name.to_string(), text.into_bytes()));
    }
    Ok(plan)
}

/// The chart's own metadata and lock (its `charts/` left out, so an outdated or broken
/// vendored archive does not stop the update that replaces it).
fn load_own(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<chart::Chart, OpError> {
    let own: BTreeMap<String, Vec<u8>> = files
        .iter()
        .filter(|(p, _)| !p.starts_with("charts/"))
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect();
    chart::load(&own).map_err(|e| {
        SourceError::Package {
            path: dir.to_path_buf(),
            source: PackageError::Chart(Box::new(e)),
        }
        .into()
    })
}

/// Reads the dependency chart at `path` (a folder, as Helm's loader reads it, or a `.tgz`),
/// updates its own `file://` dependencies in memory, checks it loads, and packages it. Returns
/// its name, version and archive.
fn package_dependency(
    parent: &str,
    dep: &Dependency,
    path: &Path,
    chain: &mut Vec<PathBuf>,
) -> Result<(String, String, Vec<u8>), OpError> {
    let load_err = |source: OpError| ChartPackageError::Load {
        chart: parent.to_string(),
        name: dep.name.clone(),
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    let key = canonical(path);
    if chain.contains(&key) {
        let mut cycle = chain.clone();
        cycle.push(key);
        return Err(ChartPackageError::Cycle(cycle).into());
    }
    if chain.len() > chart::MAX_CHART_DEPTH {
        return Err(ChartPackageError::TooDeep.into());
    }
    let mut files = if path.is_dir() {
        source::read_chart_dir(path).map_err(|e| load_err(e.into()))?
    } else {
        let bytes = std::fs::read(path).map_err(|source| {
            load_err(OpError::Read {
                what: "chart archive",
                path: path.to_path_buf(),
                source,
            })
        })?;
        archive::read(&bytes, None)
            .map_err(|e| load_err(e.into()))?
            .files
    };
    let own = load_own(path, &files).map_err(load_err)?;
    if own
        .metadata
        .dependencies
        .iter()
        .any(|d| d.repository.starts_with("file://"))
    {
        chain.push(key);
        let plan = plan_update(path, &files, NESTED_LOCK_TIME, chain);
        chain.pop();
        plan?.apply(&mut files);
    }
    let full = chart::load(&files).map_err(|e| load_err(e.into()))?;
    chart::check_dependencies(&full).map_err(|e| load_err(e.into()))?;
    let bytes = archive::write_chart(full.name(), &files).map_err(|e| load_err(e.into()))?;
    Ok((
        full.metadata.name.clone(),
        full.metadata.version.clone(),
        bytes,
    ))
}

/// The chart name inside a `.tgz`, when it is a readable chart archive.
fn archive_chart_name(bytes: &[u8]) -> Option<String> {
    let un = archive::read(bytes, None).ok()?;
    let chart_yaml = un.files.get("Chart.yaml")?;
    chart::parse_metadata(&String::from_utf8_lossy(chart_yaml))
        .ok()
        .map(|m| m.name)
}

/// Helm's `resolver.HashReq`: `sha256:` and the SHA-256 of Go's `json.Marshal` of
/// `[dependencies as declared, dependencies as locked]` (struct fields in Go's order, empty
/// ones left out, `<`, `>`, `&` escaped).
pub(crate) fn hash_req(reqs: &[Dependency], locked: &[LockedDependency]) -> String {
    let mut s = String::from("[[");
    for (i, d) in reqs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let mut fields: Vec<(&str, String)> = vec![("name", json_str(&d.name))];
        if !d.version.is_empty() {
            fields.push(("version", json_str(&d.version)));
        }
        fields.push(("repository", json_str(&d.repository)));
        if !d.condition.is_empty() {
            fields.push(("condition", json_str(&d.condition)));
        }
        if !d.tags.is_empty() {
            let tags: Vec<String> = d.tags.iter().map(|t| json_str(t)).collect();
            fields.push(("tags", format!("[{}]", tags.join(","))));
        }
        if d.enabled {
            fields.push(("enabled", "true".into()));
        }
        if !d.import_values.is_empty() {
            let v =
                gotpl::Value::from_json_values(&serde_json::Value::Array(d.import_values.clone()));
            fields.push((
                "import-values",
                gotpl::json::to_json(&v, true).unwrap_or_else(|_| "null".into()),
            ));
        }
        if !d.alias.is_empty() {
            fields.push(("alias", json_str(&d.alias)));
        }
        push_object(&mut s, &fields);
    }
    s.push_str("],[");
    for (i, l) in locked.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let mut fields: Vec<(&str, String)> = vec![("name", json_str(&l.name))];
        if !l.version.is_empty() {
            fields.push(("version", json_str(&l.version)));
        }
        fields.push(("repository", json_str(&l.repository)));
        push_object(&mut s, &fields);
    }
    s.push_str("]]");
    Digest::of(s.as_bytes()).to_string()
}

fn json_str(s: &str) -> String {
    let mut out = String::new();
    gotpl::json::write_string(&mut out, s, true);
    out
}

fn push_object(out: &mut String, fields: &[(&str, String)]) {
    out.push('{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_str(k));
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
}

/// `Chart.lock` as Helm writes it (`sigs.k8s.io/yaml`: keys sorted, `generated` in RFC 3339).
fn lock_yaml(
    locked: &[LockedDependency],
    digest: &str,
    generated: crate::time::UnixTime,
) -> Result<String, String> {
    let deps: Vec<serde_json::Value> = locked
        .iter()
        .map(|l| {
            let mut m = serde_json::Map::new();
            m.insert("name".into(), l.name.clone().into());
            m.insert("repository".into(), l.repository.clone().into());
            if !l.version.is_empty() {
                m.insert("version".into(), l.version.clone().into());
            }
            serde_json::Value::Object(m)
        })
        .collect();
    let doc = serde_json::json!({
        "dependencies": deps,
        "digest": digest,
        "generated": crate::time::format_rfc3339(generated),
    });
    gotpl::yaml::to_yaml(&gotpl::Value::from_json_values(&doc)).map_err(|e| e.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, version: &str, repository: &str) -> Dependency {
        Dependency {
            name: name.into(),
            version: version.into(),
            repository: repository.into(),
            ..Dependency::default()
        }
    }

    fn locked(name: &str, version: &str, repository: &str) -> LockedDependency {
        LockedDependency {
            name: name.into(),
            repository: repository.into(),
            version: version.into(),
        }
    }

    #[test]
    fn hash_req_is_helms_digest() {
        // Recorded from `helm dependency update` (v4.1.4) on the same Chart.yaml.
        let mut b = dep("b", ">=0.1.0 <1", "file://../b");
        b.alias = "bee".into();
        b.condition = "bee.enabled".into();
        b.tags = vec!["x".into()];
        b.import_values = vec![serde_json::json!({"parent": "bar", "child": "foo"})];
        let reqs = [b, dep("c", "~0.1", "file://../c")];
        let lock = [
            locked("b", "0.1.0", "file://../b"),
            locked("c", "0.1.0", "file://../c"),
        ];
        assert_eq!(
            hash_req(&reqs, &lock),
            "sha256:375d326982830107536a888a5ecf67de7d9fa0e0d8886baeadf12a9a150bd6da"
        );
    }

    #[test]
    fn lock_is_written_as_helm_writes_it() {
        let text = lock_yaml(
            &[locked("b", "0.1.0", "file://../b"), locked("local", "", "")],
            "sha256:abc",
            1_796_065_620,
        )
        .unwrap();
        assert_eq!(
            text,
            "dependencies:\n- name: b\n  repository: file://../b\n  version: 0.1.0\n- name: local\n  repository: \"\"\ndigest: sha256:abc\ngenerated: \"2026-11-30T19:07:00Z\"\n"
        );
    }

    #[test]
    fn dependencies_without_repository_must_be_vendored_folders() {
        let chart = "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n  - name: sub\n    version: 1.x\n";
        let mut files = BTreeMap::from([("Chart.yaml".to_string(), chart.as_bytes().to_vec())]);
        let dir = Path::new("/nonexistent");
        let err = plan_update(dir, &files, 0, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(&err, OpError::ChartPackage(e) if matches!(**e, ChartPackageError::LocalMissing { .. })),
            "{err}"
        );
        files.insert(
            "charts/sub/Chart.yaml".into(),
            b"apiVersion: v2\nname: sub\nversion: 1.2.0\n".to_vec(),
        );
        let plan = plan_update(dir, &files, 0, &mut Vec::new()).unwrap();
        assert_eq!(plan.locked, [locked("sub", "1.x", "")]);
        assert!(plan.writes.is_empty());
        let (name, lock) = plan.lock.unwrap();
        assert_eq!(name, "Chart.lock");
        assert!(
            String::from_utf8(lock)
                .unwrap()
                .starts_with("dependencies:\n- name: sub\n  repository: \"\"\n  version: 1.x\n"),
        );
        // A repository dependency is named in the error.
        let remote = chart.replace("1.x\n", "1.x\n    repository: https://charts.example.com\n");
        files.insert("Chart.yaml".into(), remote.into_bytes());
        let err = plan_update(dir, &files, 0, &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dependency `sub` of chart `a` comes from `https://charts.example.com`, which `--dependency-update` cannot fetch"
        );
    }

    #[test]
    fn chart_yaml_rewrite_keeps_the_rest() {
        let text = "# top\napiVersion: v2\nname: a\nversion: 0.1.0 # old\ndescription: >-\n  long\nappVersion:\n  \"1.0\"\nkeywords: [x]\n";
        let out = rewrite_chart_yaml(text, Some("1.2.3+b.1"), Some("v9 x")).unwrap();
        assert_eq!(
            out,
            "# top\napiVersion: v2\nname: a\nversion: \"1.2.3+b.1\"\ndescription: >-\n  long\nappVersion: \"v9 x\"\nkeywords: [x]\n"
        );
        let appended =
            rewrite_chart_yaml("apiVersion: v2\nname: a\nversion: 1.0.0", None, Some("2")).unwrap();
        assert_eq!(
            appended,
            "apiVersion: v2\nname: a\nversion: 1.0.0\nappVersion: \"2\"\n"
        );
        assert!(matches!(
            rewrite_chart_yaml(text, Some("one"), None),
            Err(ChartPackageError::InvalidVersion(_))
        ));
        assert!(matches!(
            rewrite_chart_yaml(
                "{apiVersion: v2, name: a, version: 1.0.0}\n",
                Some("2.0.0"),
                None
            ),
            Err(ChartPackageError::Rewrite { .. })
        ));
    }
}
