//! One file per command: resolve settings, call one op, print the outcome.

pub mod auto;
pub mod completions;
pub mod diff;
pub mod docs;
pub mod index;
pub mod lint;
pub mod package;
pub mod publish;
pub mod pull;
pub mod release;
pub mod repo;
pub mod search;
pub mod serve;
pub mod service_map;
pub mod show;
pub mod template;
