//! cocktail-pkg: a package manager for Kubernetes service maps.
//!
//! # The pipeline
//!
//! ```text
//! source (dir | .tgz) -> archive (safe unpack, in memory) -> package (ours: package.yaml; or a
//! Helm chart: chart/) -> values (layers, merge, schema check) -> render (a format turns
//! templates into text: render::cocktail (minijinja) or render::chart (gotpl, Go templates +
//! Sprig); then one shared split/parse/check pipeline) -> lint | output | plan -> targets
//! ```
//!
//! Dependencies point one way: `cli -> ops -> {targets, repo, index, source, archive, chart,
//! package, values, render, plan, release, status, lint, docs, yaml, fsutil, time} -> model`.
//! Nothing imports `cli`. Pure modules do no IO and read no clock (`tests/it/architecture.rs`
//! checks both rules); the modules nothing outside the crate uses are `pub(crate)`.
//!
//! # Files read and written
//!
//! - read: a package directory (every non-hidden regular file; a chart's `.helmignore` honoured)
//!   or a `.tgz` archive; values files given with `-f` and `--set-file`.
//! - written: `NAME-VERSION.tgz` by `package`; rendered objects under `--output-dir` by
//!   `template`; objects and records of a `dir:` target. Every write is atomic
//!   (`fsutil::write_atomic`), following the umask, or owner-only for secrets.

pub mod archive;
pub(crate) mod chart;
pub mod cli;
pub mod crd;
pub(crate) mod dirs;
pub(crate) mod docs;
pub mod drift;
pub mod env;
pub(crate) mod fsutil;
pub mod helm_release;
pub mod index;
pub mod lint;
pub mod model;
pub mod ops;
pub mod package;
pub(crate) mod plan;
pub mod policy;
pub mod release;
pub mod render;
pub mod repo;
pub mod server;
pub mod source;
pub(crate) mod status;
pub mod targets;
pub mod time;
pub mod values;
pub(crate) mod yaml;

/// An error and its causes on one line, `: `-separated (for findings and logs).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
