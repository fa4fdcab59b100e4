//! The integration test binary: the CLI end to end, hostile inputs, and rendering snapshots.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test set-up fails loudly; helpers outside #[test] functions count too"
)]

mod adopt;
mod architecture;
mod auto;
mod browser;
mod catalog;
mod chart;
mod chart_lint;
mod chart_package;
mod chart_release;
mod cli;
mod day2;
mod fake_crd;
mod helm_repo;
mod hostile;
mod index;
mod kube;
mod lifecycle;
mod oci;
mod pods;
mod provenance;
mod release;
mod render;
mod repo;
mod server;
mod support;
mod why;
