//! Environment variables cocktail-pkg reads, in one place.

/// Disables colour when set to any value (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Default for `--color` (`auto`, `always`, `never`).
pub const COLOR: &str = "COCKTAIL_PKG_COLOR";
/// Default service map for release and render commands (`--service-map`).
pub const SERVICE_MAP: &str = "COCKTAIL_PKG_SERVICE_MAP";
