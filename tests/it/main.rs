//! The integration test binary: the CLI end to end, hostile inputs, and rendering snapshots.

mod architecture;
mod auto;
mod browser;
mod catalog;
mod chart;
mod cli;
mod hostile;
mod index;
mod kube;
mod lifecycle;
mod release;
mod render;
mod repo;
mod server;
mod support;
