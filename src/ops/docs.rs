//! `docs`: regenerate (or check) the values table in a package's README (ours, or a Helm
//! chart's `README.md`, from its `values.yaml` comments; see [`crate::docs`]).

use std::path::PathBuf;

use super::OpError;
use crate::docs::{self, DocsError};
use crate::fsutil::write_atomic;
use crate::source;

/// Write the README, or only check that it is up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocsMode {
    Write,
    Check,
}

#[derive(Debug, Clone)]
pub struct DocsOptions {
    /// A package directory (ours, or a Helm chart).
    pub dir: PathBuf,
    pub mode: DocsMode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocsOutcome {
    /// The README already had the current table.
    UpToDate,
    /// The README was rewritten.
    Written(PathBuf),
    /// `--check`: the README's table is stale.
    Stale(PathBuf),
}

pub fn docs(opts: &DocsOptions) -> Result<DocsOutcome, OpError> {
    let pkg = source::load(&opts.dir, None)?.package;
    // A chart's README.md may be spelled in any case (Helm's `show readme` is as lenient).
    let (name, readme) = match pkg.chart() {
        Some(_) => pkg
            .files
            .iter()
            .find(|(p, _)| !p.contains('/') && p.eq_ignore_ascii_case("README.md"))
            .map(|(p, b)| (p.clone(), String::from_utf8_lossy(b).into_owned())),
        None => pkg.readme.clone().map(|r| ("README.md".to_string(), r)),
    }
    .ok_or(OpError::Docs(DocsError::NoReadme))?;
    let readme = readme.as_str();
    let fresh = docs::update_readme(readme, &pkg).map_err(OpError::Docs)?;
    let path = opts.dir.join(name);
    if fresh == readme {
        return Ok(DocsOutcome::UpToDate);
    }
    match opts.mode {
        DocsMode::Check => Ok(DocsOutcome::Stale(path)),
        DocsMode::Write => {
            write_atomic(&path, fresh.as_bytes()).map_err(|source| OpError::Write {
                path: path.clone(),
                source,
            })?;
            Ok(DocsOutcome::Written(path))
        }
    }
}
