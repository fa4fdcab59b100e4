//! Repositories: indexes the client knows by a short name, fetched over HTTP with conditional
//! requests, verified (root signature, versions-file and archive digests) before anything is
//! cached, and the built-in catalog embedded in the binary. IO.

pub mod client;
pub mod config;
pub mod http;
pub mod reference;

pub use client::{Freshness, Repo, RepoClient, RepoError};
pub use config::{BUILTIN, RepoEntry, RepoFile};
