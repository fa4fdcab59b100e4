//! Operations: one file per verb, `XOptions` in, `XOutcome` out. Operations do the IO a verb
//! needs (read files, write archives) and call the pure modules; they never print.

pub mod adopt;
pub mod auto;
pub mod chart_release;
pub mod commit;
pub mod deploy;
pub mod docs;
pub mod drift;
pub mod events;
pub mod exec;
pub mod get;
pub mod history;
pub mod hooks;
pub mod index;
pub mod interrupt;
pub mod lint;
pub mod list;
pub mod logs;
pub mod package;
pub mod policy;
pub mod port_forward;
pub mod provenance;
pub mod registry;
pub mod repo;
pub mod restart;
pub mod rollback;
pub mod scale;
pub mod service_map;
pub mod set_image;
pub mod show;
pub mod status;
pub mod template;
pub mod test;
pub mod uninstall;
pub mod unlock;
pub mod wait;
pub mod workload_pods;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::archive::ArchiveError;
use crate::docs::DocsError;
use crate::index::IndexError;
use crate::package::{Package, PackageError};
use crate::render::RenderError;
use crate::repo::RepoError;
use crate::source::SourceError;
use crate::targets::TargetError;
use crate::values::{self, ValuesError, ValuesInput};
use crate::yaml::YamlError;

/// An operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Boxed: a source error is large, and every operation returns this type.
    #[error(transparent)]
    Source(Box<SourceError>),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Values(#[from] ValuesError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Chart(Box<crate::chart::ChartError>),
    /// `package` of a chart: overrides and `--dependency-update`.
    #[error(transparent)]
    ChartPackage(Box<package::ChartPackageError>),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error(transparent)]
    Docs(DocsError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// An OCI registry step.
    #[error(transparent)]
    Oci(#[from] crate::repo::oci::OciError),
    #[error(transparent)]
    Target(Box<TargetError>),
    #[error("failed to read {what} {}", .path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Wait(#[from] wait::WaitError),
    /// The release changed while an automatic run was deciding.
    #[error("{0}")]
    Stale(String),
    /// A server refused a request; the hint says what to change.
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },
    /// No such release (or revision) in the service map looked in.
    #[error("release `{release}` {}", match .revision {
        Some(n) => format!("has no revision {n} in service map `{service_map}`"),
        None => format!("is not installed in service map `{service_map}`"),
    })]
    NotFound {
        release: String,
        service_map: String,
        revision: Option<u64>,
    },
    /// A release record whose objects cannot all be accounted for: nothing was applied or
    /// deleted.
    #[error(
        "failed to account for the objects of release `{release}` revision {revision}: {detail}"
    )]
    Inventory {
        release: String,
        revision: u64,
        detail: String,
    },
    /// Ctrl-C or SIGTERM stopped the operation ([`interrupt`]).
    #[error("interrupted by {0}")]
    Interrupted(interrupt::Signal),
    /// A panic inside an operation, caught so the revision ends failed and the lease is
    /// given back (a bug: the message says where).
    #[error("internal error: {0}")]
    Panicked(String),
    /// A chart hook failed or timed out.
    #[error(transparent)]
    Hook(Box<hooks::HookError>),
    /// `adopt` refused a Helm release or could not read it.
    #[error(transparent)]
    Adopt(Box<adopt::AdoptError>),
    /// An operation failed and `--atomic` undid it.
    #[error("{undone}")]
    Atomic {
        #[source]
        cause: Box<OpError>,
        undone: String,
    },
}

impl OpError {
    /// A hint for the user, from the innermost error that has one.
    pub fn hint(&self) -> Option<String> {
        match self {
            OpError::Source(e) => e.hint().or_else(|| match e.as_ref() {
                SourceError::Package { source, .. } => source.hint(),
                SourceError::Archive { source, .. } => source.hint(),
                _ => None,
            }),
            OpError::Package(e) => e.hint(),
            OpError::Values(e) => e.hint(),
            OpError::Render(e) => e.hint(),
            OpError::Chart(e) => e.hint(),
            OpError::ChartPackage(e) => e.hint(),
            OpError::Archive(e) => e.hint(),
            OpError::Yaml(e) => e.hint(),
            OpError::Docs(e) => e.hint(),
            OpError::Index(e) => e.hint(),
            OpError::Repo(e) => e.hint(),
            OpError::Oci(e) => e.hint(),
            OpError::Target(e) => e.hint(),
            OpError::Adopt(e) => e.hint(),
            OpError::Read { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
                Some("values files must be UTF-8 text".into())
            }
            OpError::Read { .. } => Some("check the path and its permissions".into()),
            OpError::Write { .. } => Some("check that the folder exists and is writable".into()),
            OpError::Invalid(_) | OpError::Stale(_) => None,
            OpError::Refused { hint, .. } => hint.clone(),
            OpError::NotFound {
                release,
                service_map,
                revision: Some(_),
            } => Some(format!(
                "see its revisions with `cocktail-pkg history {release} -n {service_map}`"
            )),
            OpError::NotFound { .. } => Some(
                "a release lives in a service map: pass `-n SERVICE_MAP` (or set COCKTAIL_PKG_SERVICE_MAP); `cocktail-pkg list -A` lists the releases of every service map".into(),
            ),
            OpError::Inventory { release, revision, .. } => Some(format!(
                "nothing was applied or deleted; the record was changed or damaged outside cocktail-pkg: compare `cocktail-pkg get manifest {release} --revision {revision}` with the service map and remove what it names by hand"
            )),
            OpError::Interrupted(_) => Some(
                "the revision is marked failed and the lease given back; run the command again, or `cocktail-pkg rollback RELEASE`".into(),
            ),
            OpError::Panicked(_) => Some(
                "this is a bug in cocktail-pkg: please report it with the command you ran; the revision is marked failed and the lease given back".into(),
            ),
            OpError::Wait(wait::WaitError::Interrupted(_)) => Some(
                "the revision is marked failed and the lease given back; run the command again, or `cocktail-pkg rollback RELEASE`".into(),
            ),
            OpError::Wait(wait::WaitError::Target(e)) => e.hint(),
            OpError::Wait(_) => Some(
                "the revision is marked failed; look at `cocktail-pkg status RELEASE`, raise --timeout, or pass --atomic to roll back automatically".into(),
            ),
            OpError::Hook(_) => Some(
                "the revision is marked failed (nothing is left pending); `cocktail-pkg get hooks RELEASE` shows each hook's last run, and --atomic rolls back a failed upgrade automatically".into(),
            ),
            OpError::Atomic { .. } => {
                Some("see `cocktail-pkg history RELEASE` for the failed and the restored revisions".into())
            }
        }
    }
}

impl From<SourceError> for OpError {
    fn from(e: SourceError) -> Self {
        OpError::Source(Box::new(e))
    }
}

impl From<interrupt::Signal> for OpError {
    fn from(s: interrupt::Signal) -> Self {
        OpError::Interrupted(s)
    }
}

impl From<crate::chart::ChartError> for OpError {
    fn from(e: crate::chart::ChartError) -> Self {
        OpError::Chart(Box::new(e))
    }
}

impl From<TargetError> for OpError {
    fn from(e: TargetError) -> Self {
        OpError::Target(Box::new(e))
    }
}

/// Loads a package like [`load_package`] and tells its digest: the archive's, or for a
/// directory the digest of the reproducible archive `cocktail-pkg package` would build.
pub fn load_package_digest(
    reference: &Path,
) -> Result<(Package, crate::model::Digest, Option<String>), OpError> {
    use crate::repo::reference::{PackageRef, fetch};
    match PackageRef::parse(&reference.to_string_lossy()) {
        PackageRef::Path(p) => {
            let loaded = crate::source::load(&p, None)?;
            let digest = match &loaded.origin {
                crate::source::Origin::Archive { digest, .. } => digest.clone(),
                crate::source::Origin::Directory(_) => {
                    crate::model::Digest::of(&package::archive_bytes(&loaded.package)?)
                }
            };
            Ok((loaded.package, digest, None))
        }
        PackageRef::Repo { repo, name, req } => {
            let mut client = crate::repo::RepoClient::from_env();
            let fetched = fetch(&mut client, &repo, &name, req.as_ref(), &mut |_, _| {})?;
            Ok((fetched.package, fetched.entry.digest, Some(repo)))
        }
        PackageRef::Oci { reference } => {
            // The repository (`oci://HOST/PATH/NAME`, no tag) is what automatic upgrades track.
            let fetched = registry::fetch(&reference, false, &mut |_, _| {})?;
            let repository = fetched.pulled.reference.base();
            Ok((
                fetched.package,
                fetched.pulled.layer.digest,
                Some(repository),
            ))
        }
    }
}

/// Loads a package from a directory, an archive, `REPO/NAME[@REQ]` or `oci://…` (fetched and
/// verified).
/// With `digest`, the archive must have that digest.
pub fn load_package(
    reference: &Path,
    digest: Option<&crate::model::Digest>,
) -> Result<Package, OpError> {
    use crate::repo::reference::{PackageRef, fetch};
    match PackageRef::parse(&reference.to_string_lossy()) {
        PackageRef::Path(p) => Ok(crate::source::load(&p, digest)?.package),
        PackageRef::Repo { repo, name, req } => {
            let mut client = crate::repo::RepoClient::from_env();
            let fetched = fetch(&mut client, &repo, &name, req.as_ref(), &mut |_, _| {})?;
            if let Some(d) = digest
                && *d != fetched.entry.digest
            {
                return Err(ArchiveError::DigestMismatch {
                    expected: d.clone(),
                    actual: fetched.entry.digest,
                }
                .into());
            }
            Ok(fetched.package)
        }
        PackageRef::Oci { reference } => {
            let fetched = registry::fetch(&reference, false, &mut |_, _| {})?;
            if let Some(d) = digest
                && *d != fetched.pulled.layer.digest
            {
                return Err(ArchiveError::DigestMismatch {
                    expected: d.clone(),
                    actual: fetched.pulled.layer.digest,
                }
                .into());
            }
            Ok(fetched.package)
        }
    }
}

/// The clock and a seed from the operating system's randomness for a render (a chart's `now`,
/// `randAlphaNum`, `genCA`); an error rather than a weak fallback when there is no randomness.
pub fn entropy() -> Result<crate::render::Entropy, OpError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| {
        OpError::Invalid(format!(
            "failed to get random bytes from the operating system: {e}"
        ))
    })?;
    Ok(crate::render::Entropy {
        now_unix: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        now_nanos: now.subsec_nanos(),
        seed,
    })
}

/// Where the user's values come from, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ValuesSources {
    /// `-f/--values` files, in order; `-` reads standard input.
    pub files: Vec<PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    /// `key=path` pairs.
    pub set_file: Vec<String>,
    pub set_json: Vec<String>,
    pub set_literal: Vec<String>,
    /// Charts: do not check values against `values.schema.json`.
    pub skip_schema_validation: bool,
}

/// Largest values file read from disk.
const MAX_VALUES_FILE: u64 = 8 * 1024 * 1024;

fn read_text(what: &'static str, path: &Path) -> Result<String, OpError> {
    let read_err = |source| OpError::Read {
        what,
        path: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut s).map_err(read_err)?;
        return Ok(s);
    }
    let len = std::fs::metadata(path).map_err(read_err)?.len();
    if len > MAX_VALUES_FILE {
        return Err(OpError::Invalid(format!(
            "{what} {} is {len} bytes, over the {MAX_VALUES_FILE}-byte limit",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(read_err)
}

impl ValuesSources {
    /// True when no values flag was given.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.set.is_empty()
            && self.set_string.is_empty()
            && self.set_file.is_empty()
            && self.set_json.is_empty()
    }

    /// Reads the files named by `-f` and `--set-file`.
    pub fn read(&self) -> Result<ValuesInput, OpError> {
        let mut input = ValuesInput {
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_json: self.set_json.clone(),
            set_literal: self.set_literal.clone(),
            skip_schema_validation: self.skip_schema_validation,
            ..Default::default()
        };
        for f in &self.files {
            input
                .files
                .push((f.display().to_string(), read_text("values file", f)?));
        }
        for pair in &self.set_file {
            let Some((key, path)) = pair.split_once('=') else {
                return Err(ValuesError::Set {
                    flag: "--set-file",
                    expr: pair.clone(),
                    reason: "expected `key=path`".into(),
                }
                .into());
            };
            input
                .set_file
                .push((key.to_string(), read_text("--set-file", Path::new(path))?));
        }
        Ok(input)
    }
}

/// How values marked `x-cocktail-generate` are filled when the user leaves them unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// Fresh random values from the operating system (install, `template`).
    Random,
    /// Fixed placeholders, for reproducible output (`lint`, tests, snapshots).
    Placeholder,
}

/// Values ready to render.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub values: Value,
    /// Paths (`$.auth.password`) whose values were generated.
    pub generated: Vec<String>,
}

/// Helm's pipeline for a chart's values: dependencies enabled by the user's values, imports,
/// coalescing, every chart's schema (charts have no generated values). Returns the chart with
/// its dependencies processed, as it renders, and the values.
pub(crate) fn resolve_chart_values(
    chart: &crate::chart::Chart,
    input: &ValuesInput,
) -> Result<(crate::chart::Chart, serde_json::Value), OpError> {
    crate::chart::values::resolve(chart, input).map_err(|e| match e {
        crate::chart::values::ResolveError::Values(v) => OpError::Values(v),
        crate::chart::values::ResolveError::Chart(c) => OpError::from(c),
    })
}

/// Resolves values for `pkg` (defaults + user layers), fills generated values, and checks the
/// result against the schema.
pub fn resolve_values(
    pkg: &Package,
    input: &ValuesInput,
    generation: Generation,
) -> Result<Resolved, OpError> {
    if let Some(chart) = pkg.chart() {
        let (_, values) = resolve_chart_values(chart, input)?;
        return Ok(Resolved {
            values,
            generated: Vec::new(),
        });
    }
    let mut values = values::resolve(&pkg.values, input)?;
    let mut generated = Vec::new();
    if let Some(schema_json) = &pkg.schema_json {
        let paths = values::generated_paths(schema_json)?;
        let mut failure = None;
        generated = values::fill_generated(&mut values, &paths, &mut |kind| match generation {
            Generation::Placeholder => kind.placeholder(),
            Generation::Random => values::random_value(kind).unwrap_or_else(|e| {
                failure = Some(e.to_string());
                String::new()
            }),
        });
        if let Some(e) = failure {
            return Err(OpError::Invalid(format!(
                "failed to generate a random value: {e}"
            )));
        }
    }
    if let Some(schema) = &pkg.schema {
        schema.validate(&values)?;
    }
    Ok(Resolved { values, generated })
}
