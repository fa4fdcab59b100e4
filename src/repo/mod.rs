//! Repositories: indexes the client knows by a short name, fetched over HTTP with conditional
//! requests, verified (root signature, versions-file and archive digests) before anything is
//! cached, and the built-in catalog embedded in the binary; Helm repositories (`index.yaml`,
//! streamed once into a compact cache, chart digests verified). IO.

pub mod client;
pub mod config;
pub mod helm;
pub mod http;
pub mod oci;
pub mod provenance;
pub mod reference;

pub use client::{Freshness, Repo, RepoClient, RepoError};
pub use config::{BUILTIN, RepoAuth, RepoEntry, RepoFile, RepoKind};
