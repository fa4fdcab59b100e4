//! Automatic upgrades end to end: an index served on 127.0.0.1, a version published between
//! two runs, windows, the webhook, and — on the kube target against the fake API server, since
//! a GitOps folder has no live state to find a broken version with — an automatic rollback.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use predicates::prelude::*;
use serde_json::Value;

use crate::support::{PackageBuilder, TOKEN, TestServer, cmd};

/// A lint-clean package `app` at `version`: a Deployment and a ConfigMap.
fn app(dir: &Path, version: &str) -> PathBuf {
    let (_t, built) = PackageBuilder::new("app")
        .file(
            "package.yaml",
            &format!(
                "apiVersion: cocktail-pkg/v1\nname: app\nversion: {version}\nappVersion: \"{version}\"\ndescription: A test application.\ncategory: test\nkubeVersion: \">=1.25.0\"\n"
            ),
        )
        .file(
            "values.yaml",
            "# Greeting shown by the app.\nmessage: hello\n# Workload group.\nworkloadGroup: web\n",
        )
        .file(
            "templates/app.yaml",
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ release.name }}}}-app\ndata:\n  message: {{{{ values.message | quote }}}}\n  version: \"{version}\"\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{{{ release.name }}}}-app\n  labels:\n    cocktail.io/workload-group: {{{{ values.workloadGroup | quote }}}}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: {{{{ release.name }}}}-app}}\n  template:\n    metadata:\n      labels:\n        app: {{{{ release.name }}}}-app\n        cocktail.io/workload-group: {{{{ values.workloadGroup | quote }}}}\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27.3\n          ports: [{{containerPort: 80, name: http}}]\n          readinessProbe: {{httpGet: {{path: /, port: http}}}}\n          livenessProbe: {{httpGet: {{path: /, port: http}}}}\n          resources:\n            requests: {{cpu: 10m, memory: 16Mi}}\n            limits: {{cpu: 100m, memory: 64Mi}}\n"
            ),
        )
        .write();
    let to = dir.join(format!("app-{version}"));
    crate::support::copy_dir(&built.join("."), &to);
    to
}

struct World {
    server: TestServer,
    home: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        let server = TestServer::start();
        let home = tempfile::tempdir().unwrap();
        let w = Self { server, home };
        let key = w.home.path().join("server.pub");
        std::fs::write(&key, w.server.public_key.to_text()).unwrap();
        w.cmd()
            .args(["repo", "add", "test", &w.server.url, "--public-key"])
            .arg(&key)
            .assert()
            .success();
        w
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = cmd();
        c.env("COCKTAIL_PKG_CONFIG_HOME", self.home.path().join("config"))
            .env("COCKTAIL_PKG_CACHE_HOME", self.home.path().join("cache"))
            .env("COCKTAIL_PKG_HTTP_TIMEOUT", "5")
            .env("COCKTAIL_PKG_POLL_INTERVAL_MS", "50");
        c
    }

    fn publish(&self, version: &str) {
        let dir = app(self.home.path(), version);
        self.cmd()
            .arg("publish")
            .arg(&dir)
            .args(["--to", "test"])
            .env("COCKTAIL_PKG_PUBLISH_TOKEN", TOKEN)
            .assert()
            .success();
    }

    /// `repo update`, as a user does before installing a version just published.
    fn update(&self) {
        self.cmd().args(["repo", "update"]).assert().success();
    }
}

/// A window that contains now, and one that does not, in UTC.
fn windows() -> (String, String) {
    let hour = (cocktail_pkg::time::now().rem_euclid(86_400) / 3600) as u32;
    let inside = format!(
        "daily {:02}:00-{:02}:00 UTC",
        (hour + 23) % 24,
        (hour + 2) % 24
    );
    let outside = format!(
        "daily {:02}:00-{:02}:00 UTC",
        (hour + 6) % 24,
        (hour + 8) % 24
    );
    (inside, outside)
}

/// A webhook receiver on loopback: each POST body goes to the channel.
fn webhook() -> (String, mpsc::Receiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let Ok(n) = s.read(&mut chunk) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break Some(buf[end + 4..end + 4 + len].to_vec());
                    }
                }
            };
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n");
            if let Some(b) = body.and_then(|b| serde_json::from_slice(&b).ok()) {
                let _ = tx.send(b);
            }
        }
    });
    (url, rx)
}

fn report(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn a_release_upgrades_itself_inside_its_window_on_a_gitops_folder() {
    let w = World::new();
    w.publish("1.0.0");
    w.update();
    let target = format!("dir:{}", w.home.path().join("gitops").display());
    let (inside, outside) = windows();
    w.cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args([
            "install",
            "web",
            "test/app@1.0.0",
            "-n",
            "shop",
            "--set",
            "message=hi",
        ])
        .args(["--auto-upgrade", "minor", "--upgrade-window", &outside])
        .assert()
        .success();
    w.cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args(["policy", "show", "web", "-n", "shop"])
        .assert()
        .success()
        .stdout(predicate::str::contains("minor"))
        .stdout(predicate::str::contains(&outside));
    w.publish("1.1.0");
    w.publish("2.0.0");
    // Outside the window: nothing happens.
    let out = w
        .cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args(["upgrade", "--auto", "--all-service-maps", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r = report(&out);
    assert_eq!(r["upgraded"], 0);
    assert_eq!(r["releases"][0]["code"], "outside-window", "{r}");
    let out = w
        .cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args(["outdated", "--all-service-maps", "-o", "json"])
        .output()
        .unwrap();
    let rows = report(&out);
    assert_eq!(rows[0]["version"], "1.0.0");
    assert_eq!(rows[0]["allowed"], "1.1.0", "minor: not 2.0.0");
    assert_eq!(rows[0]["newest"], "2.0.0");
    assert!(rows[0]["nextWindow"].is_string());
    // Inside the window: upgraded to the newest minor, with the values it had.
    w.cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args([
            "policy",
            "set",
            "web",
            "-n",
            "shop",
            "--upgrade-window",
            &inside,
        ])
        .assert()
        .success();
    let (hook, received) = webhook();
    let out = w
        .cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args([
            "upgrade",
            "--auto",
            "-n",
            "shop",
            "-o",
            "json",
            "--notify-url",
            &hook,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = report(&out);
    assert_eq!(r["upgraded"], 1, "{r}");
    assert_eq!(r["releases"][0]["action"], "upgraded");
    assert_eq!(r["releases"][0]["to"], "1.1.0");
    assert_eq!(r["notification"], "sent");
    let posted = received
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    assert_eq!(posted["upgraded"], 1);
    assert_eq!(posted["releases"][0]["release"], "web");
    let cm =
        std::fs::read_to_string(w.home.path().join("gitops/shop/configmap-web-app.yaml")).unwrap();
    assert!(
        cm.contains("version: 1.1.0") || cm.contains("version: \"1.1.0\""),
        "{cm}"
    );
    assert!(
        cm.contains("message: hi"),
        "the stored values were kept: {cm}"
    );
    // A second run finds nothing to do: 2.0.0 is outside the `minor` track.
    let out = w
        .cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args(["upgrade", "--auto", "-n", "shop", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let row = &report(&out)["releases"][0];
    assert_eq!(row["code"], "track", "{row}");
    assert_eq!(row["action"], "skipped");
    // A webhook that is down is reported, and does not fail the run.
    w.cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args([
            "upgrade",
            "--auto",
            "-n",
            "shop",
            "--notify-url",
            "http://127.0.0.1:9/hook",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: failed to notify"));
}

#[test]
fn a_broken_version_is_rolled_back_and_the_run_exits_3() {
    use fake_kube::{FakeKube, Readiness};
    let w = World::new();
    w.publish("1.0.0");
    w.update();
    let fake = FakeKube::start();
    let kubeconfig = w.home.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, Some("shop")).unwrap();
    let kube = || {
        let mut c = w.cmd();
        c.env("KUBECONFIG", &kubeconfig)
            .env_remove("COCKTAIL_PKG_TARGET");
        c
    };
    kube()
        .args([
            "install",
            "web",
            "test/app@1.0.0",
            "--create-service-map",
            "--wait",
        ])
        .args(["--auto-upgrade", "patch", "--soak", "0s"])
        .assert()
        .success();
    w.publish("1.0.1");
    // The new version's pods never get ready.
    fake.set_readiness(Readiness::Never);
    let (hook, received) = webhook();
    let out = kube()
        .args([
            "upgrade",
            "--auto",
            "--timeout",
            "1s",
            "-o",
            "json",
            "--notify-url",
            &hook,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = report(&out);
    assert_eq!(r["rolledBack"], 1, "{r}");
    let row = &r["releases"][0];
    assert_eq!(row["action"], "rolled-back");
    assert!(
        row["reason"].as_str().unwrap().contains("timed out"),
        "{row}"
    );
    let posted = received
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    assert_eq!(posted["rolledBack"], 1);
    let out = kube()
        .args(["history", "web", "-o", "json"])
        .output()
        .unwrap();
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<(&str, &str)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["version"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("1.0.0", "superseded"),
            ("1.0.1", "failed"),
            ("1.0.0", "deployed")
        ]
    );
    // The next run does not retry the broken version: it waits for a newer one, or for a
    // human to upgrade by hand.
    fake.set_readiness(Readiness::Immediate);
    let out = kube()
        .args(["upgrade", "--auto", "--timeout", "5s", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = &report(&out)["releases"][0];
    assert_eq!(row["code"], "failed-before", "{row}");
    kube()
        .args(["policy", "show", "web"])
        .assert()
        .success()
        .stdout(predicate::str::contains("NOT RETRIED:      1.0.1"));
    // A newer patch is tried.
    w.publish("1.0.2");
    let out = kube()
        .args(["upgrade", "--auto", "--timeout", "5s", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report(&out)["releases"][0]["to"], "1.0.2");
}

#[test]
fn a_yanked_version_is_not_picked_until_the_yank_is_undone() {
    let w = World::new();
    w.publish("1.0.0");
    w.update();
    let target = format!("dir:{}", w.home.path().join("gitops").display());
    let auto = || {
        let out = w
            .cmd()
            .env("COCKTAIL_PKG_TARGET", &target)
            .args(["upgrade", "--auto", "-A", "-o", "json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        report(&out)["releases"][0].clone()
    };
    w.cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args([
            "install",
            "web",
            "test/app@1.0.0",
            "-n",
            "shop",
            "--auto-upgrade",
            "patch",
        ])
        .assert()
        .success();
    w.publish("1.0.1");
    // Refused without the token, and for a version that does not exist.
    w.cmd()
        .args(["yank", "app", "1.0.1", "--to", "test"])
        .env("COCKTAIL_PKG_PUBLISH_TOKEN", "wrong")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the token is not valid"));
    w.cmd()
        .args(["yank", "app", "9.9.9", "--to", "test"])
        .env("COCKTAIL_PKG_PUBLISH_TOKEN", TOKEN)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("app has no version 9.9.9"));
    w.cmd()
        .args(["yank", "app", "1.0.1", "--to", "test"])
        .env("COCKTAIL_PKG_PUBLISH_TOKEN", TOKEN)
        .assert()
        .success()
        .stderr(predicate::str::contains("Yanked app 1.0.1"));
    let row = auto();
    assert_eq!(row["code"], "yanked", "{row}");
    w.cmd()
        .args(["yank", "app", "1.0.1", "--to", "test", "--undo"])
        .env("COCKTAIL_PKG_PUBLISH_TOKEN", TOKEN)
        .assert()
        .success();
    let row = auto();
    assert_eq!(
        (row["action"].as_str(), row["to"].as_str()),
        (Some("upgraded"), Some("1.0.1")),
        "{row}"
    );
}

/// Issue 10, defects 3 and 4: a bare version is exact (Helm users read `@1.0.0` so), and an exact
/// version may be a yanked one.
#[test]
fn a_bare_version_is_exact_and_a_yanked_version_can_be_pinned() {
    let w = World::new();
    w.publish("1.0.0");
    w.publish("1.1.0");
    w.update();
    let version_label = |args: &[&str]| {
        let out = w.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.lines()
            .find_map(|l| l.trim().strip_prefix("app.kubernetes.io/version: "))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("no version label in {text}"))
    };
    assert_eq!(version_label(&["template", "test/app@1.0.0"]), "1.0.0");
    assert_eq!(version_label(&["template", "test/app@v1.0.0"]), "1.0.0");
    assert_eq!(version_label(&["template", "test/app@^1.0.0"]), "1.1.0");
    assert_eq!(version_label(&["template", "test/app@1"]), "1.1.0");
    let dest = w.home.path().join("dl");
    w.cmd()
        .args(["pull", "test/app", "--version", "1.0.0", "-d"])
        .arg(&dest)
        .assert()
        .success();
    assert!(dest.join("app-1.0.0.tgz").is_file());

    w.cmd()
        .args(["yank", "app", "1.1.0", "--to", "test"])
        .env("COCKTAIL_PKG_PUBLISH_TOKEN", TOKEN)
        .assert()
        .success();
    w.update();
    assert_eq!(version_label(&["template", "test/app@1.1.0"]), "1.1.0");
    assert_eq!(version_label(&["template", "test/app@=1.1.0"]), "1.1.0");
    assert_eq!(version_label(&["template", "test/app@^1"]), "1.0.0");
    w.cmd()
        .args(["pull", "test/app", "--version", "1.1.0", "-d"])
        .arg(&dest)
        .assert()
        .success();
    assert!(dest.join("app-1.1.0.tgz").is_file());

    // `install --version` reads the same way as `@`.
    let target = format!("dir:{}", w.home.path().join("gitops").display());
    w.cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args([
            "install",
            "web",
            "test/app",
            "--version",
            "1.0.0",
            "-n",
            "shop",
        ])
        .arg("--create-service-map")
        .assert()
        .success();
    let out = w
        .cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args(["list", "-n", "shop", "-o", "json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["version"], "1.0.0", "{rows}");
    w.cmd()
        .env("COCKTAIL_PKG_TARGET", &target)
        .args([
            "install",
            "x",
            "test/app@1",
            "--version",
            "1.0.0",
            "-n",
            "shop",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already names a version"));
}
