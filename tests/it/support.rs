//! Builders that produce real artifacts: package directories on disk and archives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root (where `catalog/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `cocktail-pkg` binary, with colour off and a fixed working directory.
pub fn cmd() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin!("cocktail-pkg"));
    c.current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("COCKTAIL_PKG_SERVICE_MAP");
    c
}

/// A package directory written to a temporary folder.
pub struct PackageBuilder {
    files: BTreeMap<String, String>,
}

impl PackageBuilder {
    pub fn new(name: &str) -> Self {
        let mut files = BTreeMap::new();
        files.insert(
            "package.yaml".to_string(),
            format!("apiVersion: cocktail-pkg/v1\nname: {name}\nversion: 1.0.0\nappVersion: \"2.0\"\ndescription: test\n"),
        );
        Self { files }
    }

    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.insert(path.to_string(), text.to_string());
        self
    }

    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.files
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
            .collect()
    }

    /// Writes the package under a new temporary folder; returns the folder and the package path.
    pub fn write(&self) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pkg");
        write_files(&dir, &self.files);
        (tmp, dir)
    }
}

pub fn write_files(dir: &Path, files: &BTreeMap<String, String>) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A ConfigMap template, for small packages.
pub const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-cm\ndata:\n  greeting: {{ values.greeting | quote }}\n";
