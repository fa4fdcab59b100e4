//! Repositories: indexes the client knows by a short name, fetched over HTTP with conditional
//! requests, verified (root signature, versions-file and archive digests) before anything is
//! cached, and the built-in catalog embedded in the binary. IO.

pub mod http;
