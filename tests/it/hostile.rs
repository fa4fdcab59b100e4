//! The hostile-input corpus: every malicious or broken input is refused with its own error.

use std::io::Write;

use cocktail_pkg::archive::{self, ArchiveError};
use cocktail_pkg::model::Digest;
use flate2::Compression;
use flate2::write::GzEncoder;
use predicates::prelude::*;

use crate::support::{PackageBuilder, cmd};

/// A gzip-compressed tar written header by header, so paths and types are exactly as given
/// (tar's own builder refuses `..` and absolute paths, which is what we need to test).
fn raw_tgz(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
    let mut tar_bytes = Vec::new();
    for (path, kind, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..path.len()].copy_from_slice(path.as_bytes());
            gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        tar_bytes.extend_from_slice(h.as_bytes());
        tar_bytes.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        tar_bytes.extend(std::iter::repeat_n(0u8, pad));
    }
    tar_bytes.extend(std::iter::repeat_n(0u8, 1024));
    gzip(&tar_bytes)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn refused(bytes: &[u8]) -> ArchiveError {
    archive::read(bytes, None).expect_err("the archive must be refused")
}

const FILE: tar::EntryType = tar::EntryType::Regular;

#[test]
fn path_traversal_is_refused() {
    let err = refused(&raw_tgz(&[("pkg/../../etc/cron.d/x", FILE, b"x", "")]));
    assert_eq!(
        err.to_string(),
        "archive entry `pkg/../../etc/cron.d/x` is refused: `..` is not allowed in paths"
    );
}

#[test]
fn absolute_paths_are_refused() {
    let err = refused(&raw_tgz(&[("/etc/passwd", FILE, b"x", "")]));
    assert_eq!(
        err.to_string(),
        "archive entry `/etc/passwd` is refused: absolute paths are not allowed"
    );
}

#[test]
fn symlinks_are_refused() {
    let err = refused(&raw_tgz(&[(
        "pkg/link",
        tar::EntryType::Symlink,
        b"",
        "/etc/passwd",
    )]));
    assert_eq!(
        err.to_string(),
        "archive entry `pkg/link` is refused: symbolic links are not allowed"
    );
}

#[test]
fn hardlinks_are_refused() {
    let err = refused(&raw_tgz(&[
        ("pkg/a", FILE, b"x", ""),
        ("pkg/b", tar::EntryType::Link, b"", "pkg/a"),
    ]));
    assert_eq!(
        err.to_string(),
        "archive entry `pkg/b` is refused: hard links are not allowed"
    );
}

#[test]
fn device_files_are_refused() {
    for kind in [tar::EntryType::Char, tar::EntryType::Block] {
        let err = refused(&raw_tgz(&[("pkg/dev", kind, b"", "")]));
        assert_eq!(
            err.to_string(),
            "archive entry `pkg/dev` is refused: device files are not allowed"
        );
    }
    let err = refused(&raw_tgz(&[("pkg/fifo", tar::EntryType::Fifo, b"", "")]));
    assert_eq!(
        err.to_string(),
        "archive entry `pkg/fifo` is refused: FIFOs are not allowed"
    );
}

#[test]
fn entries_outside_one_top_folder_are_refused() {
    let err = refused(&raw_tgz(&[
        ("a/package.yaml", FILE, b"x", ""),
        ("b/evil", FILE, b"x", ""),
    ]));
    assert_eq!(
        err.to_string(),
        "archive entries must all be under one top folder, found `a` and `b`"
    );
    let err = refused(&raw_tgz(&[("loose-file", FILE, b"x", "")]));
    assert_eq!(
        err.to_string(),
        "archive entry `loose-file` is refused: files must be inside the top folder"
    );
}

#[test]
fn gzip_bomb_is_refused() {
    // Eight 10 MiB files of zeros: about 80 KiB compressed, 80 MiB unpacked.
    let zeros = vec![0u8; 10 * 1024 * 1024];
    let names: Vec<String> = (0..8).map(|i| format!("pkg/f{i}")).collect();
    let entries: Vec<(&str, tar::EntryType, &[u8], &str)> = names
        .iter()
        .map(|n| (n.as_str(), FILE, zeros.as_slice(), ""))
        .collect();
    let bomb = raw_tgz(&entries);
    assert!(
        bomb.len() < 1024 * 1024,
        "the bomb should be small: {}",
        bomb.len()
    );
    let err = refused(&bomb);
    assert!(matches!(err, ArchiveError::TooLarge), "{err}");
    assert_eq!(
        err.to_string(),
        "archive decompresses to more than 67108864 bytes (possible gzip bomb)"
    );
}

#[test]
fn one_huge_file_is_refused() {
    let big = vec![b'a'; 17 * 1024 * 1024];
    let err = refused(&raw_tgz(&[("pkg/big", FILE, &big, "")]));
    assert_eq!(
        err.to_string(),
        "archive entry `pkg/big` is larger than 16777216 bytes"
    );
}

#[test]
fn too_many_files_are_refused() {
    let names: Vec<String> = (0..2001).map(|i| format!("pkg/f{i}")).collect();
    let entries: Vec<(&str, tar::EntryType, &[u8], &str)> = names
        .iter()
        .map(|n| (n.as_str(), FILE, &b"x"[..], ""))
        .collect();
    assert!(matches!(
        refused(&raw_tgz(&entries)),
        ArchiveError::TooManyEntries
    ));
}

#[test]
fn truncated_archive_is_refused() {
    let good = archive::write("pkg", &PackageBuilder::new("pkg").files()).unwrap();
    let cut = &good[..good.len() / 2];
    let err = refused(cut);
    assert!(matches!(err, ArchiveError::Corrupt(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("archive is truncated or not a gzip-compressed tar file")
    );
    assert!(matches!(
        refused(b"not an archive at all"),
        ArchiveError::Corrupt(_)
    ));
}

#[test]
fn wrong_digest_is_refused_before_unpacking() {
    let good = archive::write("pkg", &PackageBuilder::new("pkg").files()).unwrap();
    let wrong = Digest::of(b"something else");
    let err = archive::read(&good, Some(&wrong)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "digest mismatch: expected {wrong}, the archive is {}",
            Digest::of(&good)
        )
    );
    // Through the CLI too, with a hint, and nothing is written anywhere.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("pkg-1.0.0.tgz");
    std::fs::write(&path, &good).unwrap();
    cmd()
        .arg("template")
        .arg(&path)
        .args(["--digest", &wrong.to_string()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("caused by: digest mismatch").and(
            predicate::str::contains("hint: the archive changed after its digest was published"),
        ));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn malicious_archive_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("evil.tgz");
    std::fs::write(
        &path,
        raw_tgz(&[("pkg/../../../../tmp/evil", FILE, b"x", "")]),
    )
    .unwrap();
    cmd()
        .arg("template")
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(format!("error: failed to unpack {}\n  caused by: archive entry `pkg/../../../../tmp/evil` is refused: `..` is not allowed in paths\nhint: ", path.display())));
    assert!(!std::path::Path::new("/tmp/evil").exists());
}

#[test]
fn yaml_alias_bomb_in_values_is_refused() {
    let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        y.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bomb.yaml");
    std::fs::write(&f, y).unwrap();
    cmd()
        .args(["template", "catalog/nginx", "-f"])
        .arg(&f)
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(format!(
            "error: failed to read values from {}\n  caused by: {} is not valid YAML:",
            f.display(),
            f.display()
        )));
}

#[test]
fn ten_thousand_deep_nesting_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("deep.yaml");
    std::fs::write(
        &f,
        format!("a: {}{}", "[".repeat(10_000), "]".repeat(10_000)),
    )
    .unwrap();
    cmd()
        .args(["template", "catalog/nginx", "-f"])
        .arg(&f)
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not valid YAML"));
    // The same inside a package's values.yaml.
    let (_t, dir) = PackageBuilder::new("deep")
        .file(
            "values.yaml",
            &format!("a: {}{}", "{b: ".repeat(10_000), "}".repeat(10_000)),
        )
        .file("templates/x.yaml", "")
        .write();
    cmd()
        .arg("template")
        .arg(&dir)
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "caused by: failed to read values.yaml",
        ));
}

#[test]
fn template_that_loops_forever_runs_out_of_fuel() {
    let (_t, dir) = PackageBuilder::new("loop")
        .file("templates/loop.yaml", "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}")
        .write();
    cmd()
        .arg("template")
        .arg(&dir)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stderr(
            "error: failed to render templates/loop.yaml of package `loop` (line 1): engine ran out of fuel\nhint: a template may run at most 20000000 instructions; look for a runaway loop\n",
        );
}

#[test]
fn template_that_recurses_forever_hits_the_limit() {
    let (_t, dir) = PackageBuilder::new("rec")
        .file(
            "templates/_m.yaml",
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}",
        )
        .file(
            "templates/rec.yaml",
            "{% import \"_m.yaml\" as m %}{{ m.f(0) }}",
        )
        .write();
    cmd()
        .arg("template")
        .arg(&dir)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("recursion limit exceeded").and(
            predicate::str::contains("hint: a macro or include recurses too deeply"),
        ));
}

#[test]
fn package_directory_with_symlink_is_refused() {
    let (_t, dir) = PackageBuilder::new("ln")
        .file("templates/x.yaml", "")
        .write();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("templates/passwd.yaml")).unwrap();
    cmd()
        .arg("package")
        .arg(&dir)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(format!(
            "error: refusing symbolic link {}",
            dir.join("templates/passwd.yaml").display()
        )));
}
