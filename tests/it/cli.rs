//! Each command's happy path and its main failures, with exact messages, through the real binary.

use predicates::prelude::*;

use crate::support::{CONFIGMAP, PackageBuilder, cmd};

#[test]
fn template_renders_the_nginx_package() {
    let out = cmd()
        .args([
            "template",
            "catalog/nginx",
            "--release-name",
            "web",
            "-n",
            "shop",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("# Source: nginx/templates/deployment.yaml"));
    assert!(text.contains("  name: web-nginx\n  namespace: shop\n"));
    assert!(text.contains("app.kubernetes.io/instance: web"));
}

#[test]
fn template_json_is_a_list() {
    let out = cmd()
        .args(["template", "catalog/nginx", "-o", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["kind"], "List");
    let kinds: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ConfigMap", "Deployment", "Service"]);
}

#[test]
fn template_layers_values_files_and_sets() {
    let (tmp, dir) = PackageBuilder::new("hello")
        .file("values.yaml", "greeting: hi\n")
        .file("templates/cm.yaml", CONFIGMAP)
        .write();
    let f1 = tmp.path().join("one.yaml");
    std::fs::write(&f1, "greeting: from-file\n").unwrap();
    let json = tmp.path().join("g.txt");
    std::fs::write(&json, "from-set-file").unwrap();
    cmd()
        .arg("template")
        .arg(&dir)
        .arg("-f")
        .arg(&f1)
        .assert()
        .success()
        .stdout(predicate::str::contains("greeting: from-file"));
    cmd()
        .arg("template")
        .arg(&dir)
        .args(["-f"])
        .arg(&f1)
        .args(["--set", "greeting=from-set"])
        .assert()
        .success()
        .stdout(predicate::str::contains("greeting: from-set"));
    cmd()
        .arg("template")
        .arg(&dir)
        .args(["--set", "greeting=a", "--set-file"])
        .arg(format!("greeting={}", json.display()))
        .assert()
        .success()
        .stdout(predicate::str::contains("greeting: from-set-file"));
    cmd()
        .arg("template")
        .arg(&dir)
        .args(["--set-file"])
        .arg(format!("greeting={}", json.display()))
        .args(["--set-json", "greeting=\"from-json\""])
        .assert()
        .success()
        .stdout(predicate::str::contains("greeting: from-json"));
}

#[test]
fn template_output_dir_writes_files() {
    let tmp = tempfile::tempdir().unwrap();
    cmd()
        .args(["template", "catalog/nginx", "--output-dir"])
        .arg(tmp.path())
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("Wrote 3 objects in 3 files"));
    let dep = std::fs::read_to_string(tmp.path().join("nginx/templates/deployment.yaml")).unwrap();
    assert!(dep.starts_with("---\napiVersion: apps/v1\nkind: Deployment\n"));
}

#[test]
fn schema_violations_are_listed_with_paths() {
    cmd()
        .args(["template", "catalog/nginx", "--set", "replicas=abc", "--set", "service.nodePort=80"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            "error: values do not match values.schema.json (2 violations):\n  - $.replicas: \"abc\" is not of type \"integer\"\n  - $.service.nodePort: 80 is less than the minimum of 30000\n\
             hint: see the package's values with `cocktail-pkg show values PKG` and its schema with `cocktail-pkg show schema PKG`\n",
        );
}

#[test]
fn bad_set_expression_names_flag_and_reason() {
    cmd()
        .args(["template", "catalog/nginx", "--set", "a[x]=1"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: invalid --set `a[x]=1`: list index must be `[N]`\nhint: --set takes",
        ));
}

#[test]
fn missing_package_gives_a_hint() {
    cmd()
        .args(["template", "no/such/dir"])
        .assert()
        .code(1)
        .stderr(
            "error: no/such/dir does not exist\nhint: PKG is a package directory (with package.yaml) or a NAME-VERSION.tgz archive; the built-in catalog is under catalog/\n",
        );
}

#[test]
fn usage_errors_exit_64() {
    cmd().args(["template"]).assert().code(64);
    cmd().args(["frobnicate"]).assert().code(64);
}

#[test]
fn malformed_values_file_is_refused_with_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.yaml");
    std::fs::write(&f, "replicas: [1, 2\n").unwrap();
    let out = cmd()
        .args(["template", "catalog/nginx", "-f"])
        .arg(&f)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.starts_with(&format!(
            "error: failed to read values from {}\n  caused by: {} is not valid YAML:",
            f.display(),
            f.display()
        )),
        "{err}"
    );
    assert!(err.contains("hint: check indentation"), "{err}");
}

#[test]
fn manifest_errors_name_the_field() {
    let (_tmp, dir) = PackageBuilder::new("x")
        .file(
            "package.yaml",
            "apiVersion: cocktail-pkg/v1\nname: x\nversion: one\n",
        )
        .file("templates/cm.yaml", CONFIGMAP)
        .write();
    cmd()
        .arg("template")
        .arg(&dir)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "  caused by: package.yaml: field `version` `one` is not a semantic version (like 1.2.3)",
        ));
}

#[test]
fn unknown_manifest_keys_warn() {
    let (_tmp, dir) = PackageBuilder::new("x")
        .file(
            "package.yaml",
            "apiVersion: cocktail-pkg/v1\nname: x\nversion: 1.0.0\nhomepage: y\n",
        )
        .file("values.yaml", "greeting: hi\n")
        .file("templates/cm.yaml", CONFIGMAP)
        .write();
    cmd().arg("template").arg(&dir).assert().success().stderr(
        "warning: package.yaml: unknown field `homepage` is ignored (did you mean `home`?)\n",
    );
    cmd()
        .arg("template")
        .arg(&dir)
        .arg("--quiet")
        .assert()
        .success()
        .stderr("");
}

#[test]
fn undefined_value_names_template_and_line() {
    let (_tmp, dir) = PackageBuilder::new("x")
        .file("templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: {{ values.missing.deep }}\n")
        .write();
    cmd()
        .arg("template")
        .arg(&dir)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: failed to render templates/cm.yaml of package `x` (line 6): `values.missing` is undefined\nhint: a template used a value that is not set",
        ));
}

#[test]
fn required_filter_fails_with_its_message() {
    let (_tmp, dir) = PackageBuilder::new("x")
        .file("templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: {{ values.host | required(\"set host to the database address\") }}\n")
        .write();
    cmd()
        .arg("template")
        .arg(&dir)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: failed to render templates/cm.yaml of package `x` (line 6): set host to the database address\n",
        ));
}

#[test]
fn kube_version_constraint_is_enforced() {
    cmd()
        .args(["template", "catalog/nginx", "--kube-version", "v1.20.4"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: package `nginx` requires Kubernetes >=1.25.0, but the target runs 1.20.4\n",
        ));
}

#[test]
fn lint_passes_on_nginx_and_fails_on_latest_images() {
    cmd()
        .args(["lint", "catalog/nginx"])
        .assert()
        .success()
        .stderr(predicate::str::contains("Linted nginx 1.0.0: 0 error(s)"));
    let (_tmp, dir) = PackageBuilder::new("bad")
        .file(
            "templates/d.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n        - name: c\n          image: nginx:latest\n",
        )
        .write();
    let out = cmd()
        .arg("lint")
        .arg(&dir)
        .args(["-o", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let rules: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["severity"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(rules[0], ("error", "image-tag"));
    for want in [
        "resources",
        "probes",
        "workload-group",
        "labels",
        "schema",
        "files",
    ] {
        assert!(
            rules.iter().any(|(_, r)| *r == want),
            "missing {want}: {rules:?}"
        );
    }
}

#[test]
fn package_is_reproducible_and_prints_digest() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let run = |out: &std::path::Path| {
        let o = cmd()
            .args(["package", "catalog/nginx", "-d"])
            .arg(out)
            .assert()
            .success()
            .get_output()
            .clone();
        String::from_utf8(o.stdout).unwrap()
    };
    let da = run(a.path());
    let db = run(b.path());
    assert!(da.starts_with("sha256:") && da.len() == 72, "{da:?}");
    assert_eq!(da, db);
    let bytes_a = std::fs::read(a.path().join("nginx-1.0.0.tgz")).unwrap();
    let bytes_b = std::fs::read(b.path().join("nginx-1.0.0.tgz")).unwrap();
    assert_eq!(bytes_a, bytes_b);
    // The archive renders like the directory, and its digest is checked when given.
    let archive = a.path().join("nginx-1.0.0.tgz");
    let from_dir = cmd()
        .args(["template", "catalog/nginx"])
        .output()
        .unwrap()
        .stdout;
    let from_tgz = cmd()
        .arg("template")
        .arg(&archive)
        .args(["--digest", da.trim()])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(from_dir, from_tgz);
}

#[test]
fn show_prints_package_parts() {
    cmd()
        .args(["show", "package", "catalog/nginx"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("apiVersion: cocktail-pkg/v1\nname: nginx\nversion: \"1.0.0\"\nappVersion: \"1.27.3\"\ndescription: NGINX web server and reverse proxy, serving static content or fronting your applications.\n"));
    cmd()
        .args(["show", "values", "catalog/nginx"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("# Container image."));
    cmd()
        .args(["show", "readme", "catalog/nginx"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("# nginx\n"));
    cmd()
        .args(["show", "schema", "catalog/nginx"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"$schema\""));
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_cocktail__pkg()"),
        ("zsh", "#compdef cocktail-pkg"),
        ("fish", "complete -c cocktail-pkg"),
    ] {
        cmd()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker));
    }
}

#[test]
fn generated_values_are_filled_and_announced() {
    let (_tmp, dir) = PackageBuilder::new("x")
        .file("values.yaml", "auth:\n  password: null\n")
        .file(
            "values.schema.json",
            r#"{"type": "object", "properties": {"auth": {"type": "object", "properties": {"password": {"type": ["string", "null"], "x-cocktail-generate": "password", "x-cocktail-secret": true}}}}}"#,
        )
        .file("templates/s.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: {{ values.auth.password | b64encode }}\n")
        .write();
    let out = cmd()
        .arg("template")
        .arg(&dir)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("warning: generated random values for $.auth.password"),
        "{stderr}"
    );
    let again = cmd().arg("template").arg(&dir).output().unwrap();
    assert_ne!(out.stdout, again.stdout, "random each time without --set");
    cmd()
        .arg("template")
        .arg(&dir)
        .args(["--set", "auth.password=fixed"])
        .assert()
        .success()
        .stderr("")
        .stdout(predicate::str::contains("password: Zml4ZWQ="));
}

#[test]
fn cli_reference_is_current() {
    let path = crate::support::root().join("docs/reference/cli.md");
    let fresh = cocktail_pkg::cli::reference_markdown();
    if std::env::var_os("COCKTAIL_PKG_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "docs/reference/cli.md is stale: run `COCKTAIL_PKG_BLESS=1 cargo test --test it cli_reference`"
    );
}

#[test]
fn cli_definition_is_consistent() {
    use clap::CommandFactory;
    cocktail_pkg::cli::Cli::command().debug_assert();
}

#[test]
fn template_can_show_the_notes() {
    cmd()
        .args([
            "template",
            "catalog/nginx",
            "--notes",
            "-n",
            "shop",
            "--set",
            "service.type=NodePort",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "nginx is deployed as `nginx` in service map `shop`.",
        ))
        .stderr(predicate::str::contains("node port"));
}

#[test]
fn every_environment_variable_is_documented() {
    let source = std::fs::read_to_string(crate::support::root().join("src/env.rs")).unwrap();
    let doc = std::fs::read_to_string(crate::support::root().join("docs/reference/environment.md"))
        .unwrap();
    let names: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter_map(|l| l.split('"').nth(1))
        .collect();
    assert!(names.len() >= 15, "{names:?}");
    for name in names {
        assert!(
            doc.contains(&format!("`{name}`")),
            "{name} is missing from docs/reference/environment.md"
        );
    }
}

/// Issue 10, defect 1: archives, indexes and GitOps files follow the umask, not 0600; the
/// Secrets of a dir target stay private.
#[cfg(unix)]
#[test]
fn written_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // The umask this test runs under, read off a freshly created directory (0o777 less umask).
    let umask = !mode(dir.path()) & 0o777;
    cmd()
        .args(["package", "catalog/redis", "-d"])
        .arg(dir.path())
        .assert()
        .success();
    let archive = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".tgz"))
        .unwrap()
        .path();
    assert_eq!(mode(&archive), 0o666 & !umask, "{}", archive.display());
    let out = dir.path().join("rendered");
    cmd()
        .args(["template", "catalog/redis", "--output-dir"])
        .arg(&out)
        .assert()
        .success();
    let files: Vec<_> = walk(&out);
    assert!(!files.is_empty());
    for f in files {
        assert_eq!(mode(&f), 0o666 & !umask, "{}", f.display());
    }
    // A dir target: objects as the umask allows, Secrets and release records owner-only.
    let gitops = dir.path().join("gitops");
    cmd()
        .args([
            "install",
            "db",
            "catalog/redis",
            "-n",
            "shop",
            "--create-service-map",
        ])
        .arg("--target")
        .arg(format!("dir:{}", gitops.display()))
        .assert()
        .success();
    let mut secrets = 0;
    for f in walk(&gitops) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let secret = name.starts_with("secret-") || f.to_string_lossy().contains("/releases/");
        if name.ends_with(".lock") || f.to_string_lossy().contains("/locks/") {
            continue;
        }
        let want = if secret { 0o600 } else { 0o666 & !umask };
        secrets += usize::from(secret);
        assert_eq!(mode(&f), want, "{}", f.display());
    }
    assert!(secrets >= 2, "a Secret and a record were checked");
}

#[cfg(unix)]
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Issue 10, defect 7: a misspelt package gets a "did you mean".
#[test]
fn a_misspelt_package_gets_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    cmd()
        .current_dir(dir.path())
        .args(["template", "catalog/redsi"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: repository `catalog` has no package `redsi`",
        ))
        .stderr(predicate::str::contains(
            "hint: did you mean `catalog/redis`?",
        ));
}

/// Issue 10, defect 7: a release looked for in the wrong service map gets a hint about `-n`, and
/// a missing revision a `history` command that names the service map.
#[test]
fn release_not_found_hints_name_the_service_map() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("dir:{}", dir.path().display());
    cmd()
        .args([
            "install",
            "web",
            "catalog/nginx",
            "-n",
            "shop",
            "--create-service-map",
        ])
        .args(["--target", &target])
        .assert()
        .success();
    cmd()
        .args(["status", "web", "--target", &target])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: release `web` is not installed in service map `default`",
        ))
        .stderr(predicate::str::contains(
            "hint: a release lives in a service map: pass `-n SERVICE_MAP`",
        ));
    cmd()
        .args(["rollback", "web", "9", "-n", "shop", "--target", &target])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: release `web` has no revision 9 in service map `shop`",
        ))
        .stderr(predicate::str::contains(
            "hint: see its revisions with `cocktail-pkg history web -n shop`",
        ));
}

/// Issue 10, defect 11: `get values --all` shows the computed values (defaults included).
#[test]
fn get_values_all_shows_the_computed_values() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("dir:{}", dir.path().display());
    cmd()
        .args([
            "install",
            "web",
            "catalog/nginx",
            "-n",
            "shop",
            "--create-service-map",
        ])
        .args(["--set", "replicas=3", "--target", &target])
        .assert()
        .success();
    let get = |extra: &[&str]| {
        let out = cmd()
            .args([
                "get", "values", "web", "-n", "shop", "-o", "json", "--target", &target,
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let set = get(&[]);
    assert_eq!(set, serde_json::json!({"replicas": 3}));
    let all = get(&["--all"]);
    assert_eq!(all["replicas"], 3);
    assert!(
        all["service"]["type"].is_string(),
        "defaults included: {all}"
    );
}
