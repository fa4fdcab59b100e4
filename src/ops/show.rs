//! `show`: print parts of a package.

use std::path::PathBuf;

use super::OpError;
use crate::model::Digest;

/// Which part of the package to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowPart {
    /// `package.yaml`, normalised.
    Package,
    /// `values.yaml` as written (comments kept).
    Values,
    Readme,
    Schema,
}

#[derive(Debug, Clone)]
pub struct ShowOptions {
    pub source: PathBuf,
    pub digest: Option<Digest>,
    pub part: ShowPart,
}

/// The text to print.
pub fn show(opts: &ShowOptions) -> Result<String, OpError> {
    let pkg = super::load_package(&opts.source, opts.digest.as_ref())?;
    let file = |name: &str| -> Result<String, OpError> {
        match pkg.files.get(name) {
            Some(b) => Ok(String::from_utf8_lossy(b).into_owned()),
            None => Err(OpError::Invalid(format!(
                "package `{}` has no {name}",
                pkg.manifest.name
            ))),
        }
    };
    match opts.part {
        ShowPart::Package => Ok(crate::yaml::to_string(&pkg.manifest)?),
        ShowPart::Values => file("values.yaml"),
        ShowPart::Readme => file("README.md"),
        ShowPart::Schema => file("values.schema.json"),
    }
}
