//! The catalog index: the committed `index/` is current, builds are reproducible and
//! append-only, and signatures verify.

use std::path::Path;

use cocktail_pkg::index::format::{ROOT_FILE, SIGNATURE_FILE, VersionsFile};
use cocktail_pkg::index::sign::{PublicKey, SignatureFile};
use cocktail_pkg::ops::index::{IndexBuildOptions, KeygenOptions, build, keygen};
use predicates::prelude::*;

use crate::support::{cmd, copy_dir, root};

fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    cocktail_pkg::source::read_dir_files(dir).unwrap()
}

#[test]
fn committed_index_is_current() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("index");
    copy_dir(&root().join("index"), &copy);
    let before = snapshot(&copy);
    let outcome = build(&IndexBuildOptions {
        catalog: root().join("catalog"),
        out: copy.clone(),
        key: None,
        now: 0,
    })
    .unwrap();
    assert!(
        outcome.added.is_empty() && snapshot(&copy) == before,
        "index/ is stale (new: {:?}): run `SOURCE_DATE_EPOCH=$(date +%s) cargo run -- index build catalog/ --out index/` and commit it",
        outcome.added
    );
}

#[test]
fn builds_are_reproducible_and_append_only() {
    let tmp = tempfile::tempdir().unwrap();
    let cat = tmp.path().join("catalog");
    copy_dir(&root().join("catalog/nginx"), &cat.join("nginx"));
    let out_a = tmp.path().join("a");
    let out_b = tmp.path().join("b");
    let opts = |out: &Path, now| IndexBuildOptions {
        catalog: cat.clone(),
        out: out.to_path_buf(),
        key: None,
        now,
    };
    build(&opts(&out_a, 1_000)).unwrap();
    build(&opts(&out_b, 1_000)).unwrap();
    assert_eq!(
        snapshot(&out_a),
        snapshot(&out_b),
        "same sources and time give the same bytes"
    );
    // Rebuilding later changes nothing: publication times are kept.
    build(&opts(&out_a, 9_999)).unwrap();
    assert_eq!(snapshot(&out_a), snapshot(&out_b));
    // A changed package with the same version is refused, and nothing is written.
    let manifest = cat.join("nginx/values.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("replicas: 2", "replicas: 3")).unwrap();
    let err = build(&opts(&out_a, 2_000)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("nginx 1.0.0 is already published with digest sha256:"),
        "{err}"
    );
    assert_eq!(snapshot(&out_a), snapshot(&out_b));
    // With a new version it is added; the old one stays.
    let pkg = cat.join("nginx/package.yaml");
    let text = std::fs::read_to_string(&pkg).unwrap();
    std::fs::write(&pkg, text.replace("version: 1.0.0", "version: 1.1.0")).unwrap();
    let outcome = build(&opts(&out_a, 2_000)).unwrap();
    assert_eq!(outcome.added, ["nginx 1.1.0"]);
    let versions = VersionsFile::parse(
        "nginx",
        &std::fs::read(out_a.join("packages/nginx.json")).unwrap(),
    )
    .unwrap();
    let listed: Vec<String> = versions
        .versions
        .iter()
        .map(|v| format!("{} {}", v.version, v.created))
        .collect();
    assert_eq!(
        listed,
        ["1.1.0 1970-01-01T00:33:20Z", "1.0.0 1970-01-01T00:16:40Z"]
    );
    assert!(out_a.join("archives/nginx-1.0.0.tgz").exists());
}

#[test]
fn signed_index_verifies_and_tampering_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let key_path = tmp.path().join("signing.key");
    let k = keygen(&KeygenOptions {
        out: key_path.clone(),
        force: false,
    })
    .unwrap();
    assert!(
        keygen(&KeygenOptions {
            out: key_path.clone(),
            force: false
        })
        .is_err(),
        "never overwrites a key"
    );
    let public = PublicKey::parse(&std::fs::read_to_string(&k.public_path).unwrap()).unwrap();
    let cat = tmp.path().join("catalog");
    copy_dir(&root().join("catalog/redis"), &cat.join("redis"));
    let out = tmp.path().join("out");
    let outcome = build(&IndexBuildOptions {
        catalog: cat,
        out: out.clone(),
        key: Some(key_path),
        now: 0,
    })
    .unwrap();
    assert_eq!(outcome.signed_by.as_deref(), Some(k.key_id.as_str()));
    let root_bytes = std::fs::read(out.join(ROOT_FILE)).unwrap();
    let sig = SignatureFile::parse(&std::fs::read(out.join(SIGNATURE_FILE)).unwrap()).unwrap();
    public.verify(&root_bytes, &sig).unwrap();
    let mut tampered = root_bytes.clone();
    let pos = tampered.iter().position(|b| *b == b'5').unwrap();
    tampered[pos] = b'6';
    assert!(public.verify(&tampered, &sig).is_err());
}

#[test]
fn index_commands_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    cmd()
        .args(["index", "keygen", "--out"])
        .arg(tmp.path().join("k"))
        .assert()
        .success()
        .stdout(predicate::str::starts_with("cocktail-pkg-ed25519:"));
    cmd()
        .args(["index", "build", "catalog", "--out"])
        .arg(tmp.path().join("site"))
        .arg("--key")
        .arg(tmp.path().join("k"))
        .env("SOURCE_DATE_EPOCH", "0")
        .assert()
        .success()
        .stderr(
            predicate::str::contains("Indexed ").and(predicate::str::contains("(signed by key")),
        );
    cmd()
        .args(["index", "build", "no-such-catalog", "--out"])
        .arg(tmp.path().join("x"))
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: failed to read catalog folder no-such-catalog",
        ));
}
