//! Where cocktail-pkg keeps configuration and caches: the XDG base directories, overridable
//! with `COCKTAIL_PKG_CONFIG_HOME` and `COCKTAIL_PKG_CACHE_HOME`. Reads the environment only.

use std::path::PathBuf;

use crate::env;

fn from_env(own: &str, xdg: &str, fallback: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(own).filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os(xdg).filter(|v| !v.is_empty()) {
        return PathBuf::from(p).join("cocktail-pkg");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(fallback).join("cocktail-pkg")
}

/// Configuration: `repositories.yaml`, the server's signing key.
pub fn config_home() -> PathBuf {
    from_env(env::CONFIG_HOME, "XDG_CONFIG_HOME", ".config")
}

/// Caches: fetched indexes and archives (safe to delete).
pub fn cache_home() -> PathBuf {
    from_env(env::CACHE_HOME, "XDG_CACHE_HOME", ".cache")
}
