//! Environment variables cocktail-pkg reads, in one place.

/// Disables colour when set to any value (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Default for `--color` (`auto`, `always`, `never`).
pub const COLOR: &str = "COCKTAIL_PKG_COLOR";
/// Default service map for release and render commands (`--service-map`).
pub const SERVICE_MAP: &str = "COCKTAIL_PKG_SERVICE_MAP";
/// Publication time (Unix seconds) `index build` records for new versions, for reproducible builds.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";
/// Default for `index build --key`.
pub const INDEX_KEY: &str = "COCKTAIL_PKG_INDEX_KEY";
