//! Embeds the built-in catalog's index (`index/`) in the binary, so the default repository
//! works with no set-up and no network.

#![expect(
    clippy::expect_used,
    reason = "a build script reports failures by panicking with the cause"
)]

use std::io::Write;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk(&p, base, out);
        } else if let Ok(rel) = p.strip_prefix(base) {
            out.push((rel.to_string_lossy().replace('\\', "/"), p));
        }
    }
}

fn main() {
    // The binary is linked position-dependent on x86-64 Linux, as Go links helm and kubectl:
    // start-up then applies no relocations to 750 KB of tables and vtables (`--version` 2.1 ->
    // 1.7 ms, docs/benchmarks.md). Libraries, heap and stack stay randomized.
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .is_ok_and(|f| f.split(',').any(|f| f == "crt-static"));
    if os == "linux" && arch == "x86_64" && !crt_static {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let index = manifest.join("index");
    println!("cargo:rerun-if-changed=index");
    let mut files = Vec::new();
    walk(&index, &index, &mut files);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin_index.rs");
    let mut f = std::fs::File::create(&out).expect("OUT_DIR is writable");
    writeln!(f, "/// The files of `index/`, by path relative to it.").expect("write");
    writeln!(f, "pub static FILES: &[(&str, &[u8])] = &[").expect("write");
    for (rel, path) in files {
        writeln!(
            f,
            "    ({rel:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .expect("write");
    }
    writeln!(f, "];").expect("write");
}
