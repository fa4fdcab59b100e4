//! `package` and `docs` on Helm charts: Helm's archive layout, reproducibility, `.helmignore`,
//! `--version`/`--app-version`, `--dependency-update` from `file://` paths (Chart.lock as helm
//! writes it, atomic on failure), the values table from helm-docs comments. With `HELM` set
//! (CI installs helm v4), helm itself loads our archives and writes the lock we compare with.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::support::{cmd, root, write_files};

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/charts").join(name)
}

/// Packages `dir` into `out`; returns the archive's path.
fn package(dir: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let o = cmd()
        .arg("package")
        .arg(dir)
        .arg("-d")
        .arg(out)
        .args(extra)
        .args(["-o", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    PathBuf::from(v["path"].as_str().unwrap())
}

/// The entries of a `.tgz` in archive order: (path, bytes).
fn entries(archive: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(archive).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (path, data)
        })
        .collect()
}

fn names(archive: &Path) -> Vec<String> {
    entries(archive).into_iter().map(|(p, _)| p).collect()
}

fn entry(archive: &Path, path: &str) -> String {
    let (_, data) = entries(archive)
        .into_iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| panic!("{path} is not in {}", archive.display()));
    String::from_utf8(data).unwrap()
}

fn helm() -> Option<PathBuf> {
    std::env::var_os("HELM")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Runs helm with its homes in `scratch`; returns stdout, asserting success.
fn run_helm(helm: &Path, scratch: &Path, args: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new(helm)
        .args(args)
        .current_dir(scratch)
        .env("TZ", "UTC")
        .env("HELM_CACHE_HOME", scratch.join("cache"))
        .env("HELM_CONFIG_HOME", scratch.join("config"))
        .env("HELM_DATA_HOME", scratch.join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "helm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// Every file under `dir` with its bytes (for "nothing changed" checks).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

#[test]
fn chart_archive_is_reproducible_in_helms_order_without_helmignored_files() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let pa = package(&fixture("files"), a.path(), &[]);
    let pb = package(&fixture("files"), b.path(), &[]);
    assert_eq!(pa.file_name().unwrap(), "files-0.1.0.tgz");
    assert_eq!(std::fs::read(&pa).unwrap(), std::fs::read(&pb).unwrap());
    // The order `helm package` (v4.1.4) writes for this chart; `*.bak`, `files/ignored/` and
    // `secret-*.txt` are in .helmignore.
    assert_eq!(
        names(&pa),
        [
            "files/Chart.yaml",
            "files/templates/configmap.yaml",
            "files/.helmignore",
            "files/files/blob.bin",
            "files/files/conf/app.ini",
            "files/files/conf/data.json",
            "files/files/lines.txt",
            "files/files/notrail.txt",
            "files/scripts/run.sh",
        ]
    );
    // Files go in as written (helm re-serialises Chart.yaml; we keep it).
    assert_eq!(
        entry(&pa, "files/Chart.yaml"),
        std::fs::read_to_string(fixture("files/Chart.yaml")).unwrap()
    );
    // Fixed times, modes and owners: nothing of the machine leaks in.
    let bytes = std::fs::read(&pa).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    for e in tar.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        assert_eq!(h.entry_type(), tar::EntryType::Regular);
        assert_eq!(h.mtime().unwrap(), 946_684_800);
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.username().unwrap(), Some(""));
    }
}

#[test]
fn chart_sub_charts_go_in_as_they_are_and_the_archive_renders_like_the_folder() {
    let out = tempfile::tempdir().unwrap();
    for chart in ["vendored-tgz", "deps-tree", "library-user", "basic"] {
        let archive = package(&fixture(chart), out.path(), &[]);
        let render = |p: &Path| {
            let o = cmd()
                .arg("template")
                .arg(p)
                .assert()
                .success()
                .get_output()
                .clone();
            String::from_utf8(o.stdout).unwrap()
        };
        assert_eq!(render(&archive), render(&fixture(chart)), "{chart}");
    }
    let vendored = names(&out.path().join("vendored-tgz-0.1.0.tgz"));
    assert_eq!(
        vendored,
        [
            "vendored-tgz/Chart.yaml",
            "vendored-tgz/Chart.lock",
            "vendored-tgz/values.yaml",
            "vendored-tgz/templates/cm.yaml",
            "vendored-tgz/.helmignore",
            "vendored-tgz/charts/packaged-1.0.3.tgz",
        ]
    );
    // A library chart is packaged too, as helm packages it.
    let lib = package(&fixture("library-user/charts/common"), out.path(), &[]);
    assert_eq!(lib.file_name().unwrap(), "common-2.0.0.tgz");
}

#[test]
fn chart_version_overrides_rewrite_chart_yaml_in_the_archive_only() {
    let out = tempfile::tempdir().unwrap();
    let before = std::fs::read(fixture("basic/Chart.yaml")).unwrap();
    let archive = package(
        &fixture("basic"),
        out.path(),
        &["--version", "v2.0.0-rc.1+b7", "--app-version", "9.9"],
    );
    // The file name keeps the version as given, as helm writes it.
    assert_eq!(archive.file_name().unwrap(), "basic-v2.0.0-rc.1+b7.tgz");
    let chart_yaml = entry(&archive, "basic/Chart.yaml");
    assert!(
        chart_yaml.contains("\nversion: \"v2.0.0-rc.1+b7\"\n"),
        "{chart_yaml}"
    );
    assert!(
        chart_yaml.contains("\nappVersion: \"9.9\"\n"),
        "{chart_yaml}"
    );
    assert_eq!(std::fs::read(fixture("basic/Chart.yaml")).unwrap(), before);
    cmd()
        .args(["show", "chart"])
        .arg(&archive)
        .assert()
        .success()
        .stdout(predicate::str::contains("version: v2.0.0-rc.1+b7"))
        .stdout(predicate::str::contains("appVersion: \"9.9\""));
    cmd()
        .args([
            "package",
            "tests/fixtures/charts/basic",
            "--version",
            "one",
            "-d",
        ])
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: `--version` `one` is not a semantic version\nhint: ",
        ));
    // Our own packages keep their behaviour: the flags are for charts.
    cmd()
        .args(["package", "catalog/nginx", "--version", "2.0.0", "-d"])
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: `--version` applies to Helm charts; catalog/nginx is a package in our format\n",
        ));
}

#[test]
fn chart_with_missing_dependencies_is_refused_like_template() {
    let out = tempfile::tempdir().unwrap();
    let template = cmd()
        .args(["template", "tests/fixtures/charts/missing-dep"])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    cmd()
        .args(["package", "tests/fixtures/charts/missing-dep", "-d"])
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(String::from_utf8(template).unwrap());
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn helm_loads_our_chart_archives() {
    let Some(helm) = helm() else {
        eprintln!("HELM is not set: helm loading our archives is skipped (CI sets it)");
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    for chart in ["basic", "files", "deps-tree", "vendored-tgz"] {
        let ours = package(&fixture(chart), out.path(), &[]);
        let dir = fixture(chart);
        run_helm(&helm, scratch.path(), &[os("lint"), ours.as_os_str()]);
        assert_eq!(
            run_helm(&helm, scratch.path(), &[os("template"), ours.as_os_str()]),
            run_helm(&helm, scratch.path(), &[os("template"), dir.as_os_str()]),
            "{chart}: helm template of our archive"
        );
        assert_eq!(
            run_helm(
                &helm,
                scratch.path(),
                &[os("show"), os("chart"), ours.as_os_str()]
            ),
            run_helm(
                &helm,
                scratch.path(),
                &[os("show"), os("chart"), dir.as_os_str()]
            ),
            "{chart}: helm show chart of our archive"
        );
    }
    // Charts without several sub-charts (helm writes those in map order) list their entries
    // exactly as `helm package` does.
    for chart in ["basic", "files"] {
        let helm_out = scratch.path().join("helm-out");
        run_helm(
            &helm,
            scratch.path(),
            &[
                os("package"),
                fixture(chart).as_os_str(),
                os("-d"),
                helm_out.as_os_str(),
            ],
        );
        let theirs = std::fs::read_dir(&helm_out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(chart))
            .unwrap();
        let ours = out.path().join(theirs.file_name().unwrap());
        assert_eq!(names(&ours), names(&theirs), "{chart}: entry order");
    }
}

/// A two-level tree of local dependencies: app -> b (aliased, with a condition) -> c, and
/// app -> c. Returns the folder holding `app/`, `b/` and `c/`.
fn dependency_tree(c_constraint_in_app: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}-{{ .Values.where }}\n";
    let files: BTreeMap<String, String> = [
        (
            "app/Chart.yaml",
            format!(
                "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: b\n    version: \">=0.1.0 <1\"\n    repository: file://../b\n    alias: bee\n    condition: bee.enabled\n  - name: c\n    version: \"{c_constraint_in_app}\"\n    repository: \"file://../c\"\n"
            ),
        ),
        ("app/values.yaml", "where: top\nbee:\n  enabled: true\n".into()),
        ("app/templates/cm.yaml", cm.into()),
        (
            "b/Chart.yaml",
            "apiVersion: v2\nname: b\nversion: 0.1.0\ndependencies:\n  - name: c\n    version: 0.2.x\n    repository: file://../c\n".into(),
        ),
        ("b/values.yaml", "where: b\nc:\n  where: in-b\n".into()),
        ("b/templates/cm.yaml", cm.into()),
        ("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.2.0\n".into()),
        ("c/values.yaml", "where: c\n".into()),
        ("c/templates/cm.yaml", cm.into()),
        ("c/.helmignore", "*.tmp\n".into()),
        ("c/scratch.tmp", "not packaged\n".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    write_files(tmp.path(), &files);
    tmp
}

/// The digest `helm dependency update` (v4.1.4) writes for `dependency_tree("~0.2")`'s app.
const APP_LOCK_DIGEST: &str =
    "sha256:4d5e9cc1da50183705d452fbc77a34bed010f5b73892ca37897daa77e53f3e22";

fn without_generated(lock: &str) -> String {
    lock.lines()
        .filter(|l| !l.starts_with("generated:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn dependency_update_packages_file_dependencies_recursively_and_locks_like_helm() {
    let tree = dependency_tree("~0.2");
    let app = tree.path().join("app");
    let out = tempfile::tempdir().unwrap();
    let first = cmd()
        .arg("package")
        .arg(&app)
        .args(["--dependency-update", "-d"])
        .arg(out.path())
        .env("SOURCE_DATE_EPOCH", "1796065620")
        .assert()
        .success()
        .stderr(predicate::str::contains("Saved"))
        .stderr(predicate::str::contains("Locked"))
        .get_output()
        .stdout
        .clone();
    let lock = std::fs::read_to_string(app.join("Chart.lock")).unwrap();
    assert_eq!(
        lock,
        format!(
            "dependencies:\n- name: b\n  repository: file://../b\n  version: 0.1.0\n- name: c\n  repository: file://../c\n  version: 0.2.0\ndigest: {APP_LOCK_DIGEST}\ngenerated: \"2026-11-30T19:07:00Z\"\n"
        )
    );
    // b's archive carries its own dependency c, packaged from the same folder; c's
    // .helmignore holds.
    let b = app.join("charts/b-0.1.0.tgz");
    assert_eq!(
        names(&b),
        [
            "b/Chart.yaml",
            "b/Chart.lock",
            "b/values.yaml",
            "b/templates/cm.yaml",
            "b/charts/c-0.2.0.tgz",
        ]
    );
    assert_eq!(
        names(&app.join("charts/c-0.2.0.tgz")),
        [
            "c/Chart.yaml",
            "c/values.yaml",
            "c/templates/cm.yaml",
            "c/.helmignore",
        ]
    );
    let archive = out.path().join("app-0.1.0.tgz");
    assert_eq!(
        names(&archive)[..3],
        ["app/Chart.yaml", "app/Chart.lock", "app/values.yaml"]
    );
    let rendered = cmd()
        .arg("template")
        .arg(&archive)
        .args(["--release-name", "rn"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rendered = String::from_utf8(rendered).unwrap();
    for name in ["rn-app-top", "rn-bee-b", "rn-c-in-b", "rn-c-c"] {
        assert!(
            rendered.contains(&format!("name: {name}\n")),
            "{name}:\n{rendered}"
        );
    }
    // Again: the lock's digest is unchanged so it is kept, and the archive is the same bytes.
    let again = tempfile::tempdir().unwrap();
    let second = cmd()
        .arg("package")
        .arg(&app)
        .args(["-u", "-d"])
        .arg(again.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("Locked").not())
        .get_output()
        .stdout
        .clone();
    assert_eq!(first, second);
    assert_eq!(
        std::fs::read_to_string(app.join("Chart.lock")).unwrap(),
        lock
    );
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        std::fs::read(again.path().join("app-0.1.0.tgz")).unwrap()
    );

    let Some(helm) = helm() else {
        eprintln!("HELM is not set: comparing Chart.lock with helm's is skipped (CI sets it)");
        return;
    };
    let theirs = dependency_tree("~0.2");
    let scratch = tempfile::tempdir().unwrap();
    run_helm(
        &helm,
        scratch.path(),
        &[
            os("dependency"),
            os("update"),
            theirs.path().join("app").as_os_str(),
        ],
    );
    let helm_lock = std::fs::read_to_string(theirs.path().join("app/Chart.lock")).unwrap();
    assert_eq!(without_generated(&lock), without_generated(&helm_lock));
    // helm loads the archive with the dependencies we packaged.
    run_helm(&helm, scratch.path(), &[os("lint"), archive.as_os_str()]);
}

#[test]
fn dependency_update_failure_leaves_the_chart_untouched() {
    let tree = dependency_tree("~9");
    let app = tree.path().join("app");
    let out = tempfile::tempdir().unwrap();
    // An older archive of b and a lock from before: a successful update would replace both.
    let old_b = cocktail_pkg::archive::write(
        "b",
        &BTreeMap::from([(
            "Chart.yaml".to_string(),
            b"apiVersion: v2\nname: b\nversion: 0.0.1\n".to_vec(),
        )]),
    )
    .unwrap();
    std::fs::create_dir_all(app.join("charts")).unwrap();
    std::fs::write(app.join("charts/b-0.0.1.tgz"), &old_b).unwrap();
    std::fs::write(app.join("Chart.lock"), "digest: sha256:old\n").unwrap();
    let before = snapshot(&app);

    // c 0.2.0 does not satisfy ~9: nothing is written.
    cmd()
        .arg("package")
        .arg(&app)
        .args(["-u", "-d"])
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(format!(
            "error: dependency `c` of chart `app` needs version `~9`, but {} holds version 0.2.0\nhint: ",
            app.join("../c").display()
        )));
    assert_eq!(snapshot(&app), before);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);

    // A failure after the dependencies were written (the archive cannot be written) undoes
    // them.
    let chart_yaml = std::fs::read_to_string(app.join("Chart.yaml")).unwrap();
    std::fs::write(app.join("Chart.yaml"), chart_yaml.replace("~9", "~0.2")).unwrap();
    let before = snapshot(&app);
    let blocker = out.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    cmd()
        .arg("package")
        .arg(&app)
        .args(["-u", "-d"])
        .arg(blocker.join("dist"))
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: failed to write "));
    assert_eq!(snapshot(&app), before);

    // Then it works, and the outdated archive of b is gone.
    package(&app, out.path(), &["-u"]);
    let charts: Vec<String> = snapshot(&app.join("charts")).into_keys().collect();
    assert_eq!(charts, ["b-0.1.0.tgz", "c-0.2.0.tgz"]);
}

#[test]
fn dependency_update_refuses_repository_dependencies_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let files: BTreeMap<String, String> = [
        (
            "app/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 20.x\n    repository: oci://registry-1.docker.io/bitnamicharts\n",
        ),
        ("app/templates/cm.yaml", "a: b\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    write_files(tmp.path(), &files);
    let app = tmp.path().join("app");
    let before = snapshot(&app);
    cmd()
        .arg("package")
        .arg(&app)
        .args(["--dependency-update", "-d"])
        .arg(tmp.path())
        .assert()
        .code(1)
        .stderr(
            "error: dependency `redis` of chart `app` comes from `oci://registry-1.docker.io/bitnamicharts`, which `--dependency-update` cannot fetch\n\
             hint: only `file://PATH` dependencies are packaged for now: vendor this one into charts/ with `helm dependency update`, or point `repository` at a local copy with `file://`\n",
        );
    assert_eq!(snapshot(&app), before);
}

#[test]
fn docs_on_a_chart_reads_helm_docs_comments() {
    let tmp = tempfile::tempdir().unwrap();
    let files: BTreeMap<String, String> = [
        ("Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n"),
        (
            "values.yaml",
            "# -- How many pods\nreplicaCount: 2\n\nimage:\n  # -- Image repository\n  repository: nginx\n  # -- (string) Image tag\n  # @default -- `.Chart.AppVersion`\n  tag:\n  pullPolicy: IfNotPresent\n\n# -- Extra labels,\n# merged into every object\nlabels: {}\n\n# -- Probe settings\nprobe:\n  path: /healthz\n  # -- seconds\n  period: 10\n\nenv:\n  - name: A\n    # -- not documented: inside a list\n    value: b\n\n## @param service.port Service port\nservice:\n  port: 80\n  # @ignored\n  internal: true\n",
        ),
        (
            "values.schema.json",
            r#"{"type":"object","properties":{"image":{"type":"object","properties":{"pullPolicy":{"type":"string","description":"When to pull"}}}}}"#,
        ),
        ("templates/cm.yaml", "a: b\n"),
        (
            "README.md",
            "# web\n\n## Values\n\n<!-- values:start -->\n<!-- values:end -->\n\nMore.\n",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let dir = tmp.path().join("web");
    write_files(&dir, &files);
    cmd()
        .arg("docs")
        .arg(&dir)
        .arg("--check")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is out of date"));
    cmd().arg("docs").arg(&dir).assert().success();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert_eq!(
        readme,
        "# web\n\n## Values\n\n<!-- values:start -->\n\
         | Key | Type | Default | Description |\n\
         |---|---|---|---|\n\
         | `env` | array | `[{\"name\":\"A\",\"value\":\"b\"}]` |  |\n\
         | `image.pullPolicy` | string | `\"IfNotPresent\"` | When to pull |\n\
         | `image.repository` | string | `\"nginx\"` | Image repository |\n\
         | `image.tag` | string | `.Chart.AppVersion` | Image tag |\n\
         | `labels` | object | `{}` | Extra labels, merged into every object |\n\
         | `probe` | object | `{\"path\":\"/healthz\",\"period\":10}` | Probe settings |\n\
         | `probe.period` | integer | `10` | seconds |\n\
         | `replicaCount` | integer | `2` | How many pods |\n\
         | `service.port` | integer | `80` | Service port |\n\
         <!-- values:end -->\n\nMore.\n"
    );
    cmd()
        .arg("docs")
        .arg(&dir)
        .arg("--check")
        .assert()
        .success();
    // A changed default makes the table stale again.
    let values = std::fs::read_to_string(dir.join("values.yaml")).unwrap();
    std::fs::write(
        dir.join("values.yaml"),
        values.replace("replicaCount: 2", "replicaCount: 3"),
    )
    .unwrap();
    cmd().arg("docs").arg(&dir).arg("--check").assert().code(1);
}
