//! cocktail-pkg: a package manager for Kubernetes service maps.
//!
//! # The pipeline
//!
//! ```text
//! source (dir | .tgz) -> archive (safe unpack, in memory) -> package (manifest, defaults, schema,
//! templates) -> values (layers, merge, schema check) -> render (minijinja -> objects, labels,
//! namespace) -> lint | output
//! ```
//!
//! Dependencies point one way: `cli -> ops -> {source, archive, package, values, render, lint,
//! yaml, fsutil} -> model`. Nothing imports `cli`. Pure modules (`archive`, `package`, `values`,
//! `render`, `lint`, `yaml`, `model`) do no IO and read no clock.
//!
//! # Files read and written
//!
//! - read: a package directory (every non-hidden regular file) or a `NAME-VERSION.tgz` archive;
//!   values files given with `-f` and `--set-file`.
//! - written: `NAME-VERSION.tgz` by `package`; rendered objects under `--output-dir` by
//!   `template`. Every write is atomic (see [`fsutil::write_atomic`]).

pub mod archive;
pub mod chart;
pub mod cli;
pub mod dirs;
pub mod docs;
pub mod env;
pub mod fsutil;
pub mod index;
pub mod lint;
pub mod model;
pub mod ops;
pub mod package;
pub mod plan;
pub mod policy;
pub mod release;
pub mod render;
pub mod repo;
pub mod server;
pub mod source;
pub mod status;
pub mod targets;
pub mod time;
pub mod values;
pub mod yaml;

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
