//! The directory target end to end through the CLI, with real processes: status, set-image,
//! restart, service maps, two concurrent upgrades, a process killed mid-upgrade, and --atomic
//! after a failure injected through the file system.
//!
//! A process is held mid-operation without test hooks: with `--wait`, the dir target reads back
//! the objects it has, and an unchanged object's file replaced by a FIFO blocks that read until
//! the test writes into it. By then the lease is held and the pending record written.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::support::{PackageBuilder, cmd};

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    v1: PathBuf,
    v2: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let make = |version: &str, image: &str, rbac: bool| {
            let dir = tmp.path().join(format!("app-{version}"));
            let (_t, built) = PackageBuilder::new("app")
                .file(
                    "package.yaml",
                    &format!("apiVersion: cocktail-pkg/v1\nname: app\nversion: {version}\n"),
                )
                .file("values.yaml", &format!("image: {image}\nrbac: {rbac}\n"))
                .file(
                    "templates/all.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata: {fixed: \"yes\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata: {image: \"{{ values.image }}\"}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {cocktail.io/workload-group: front}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: {{ values.image }}\n{% if values.rbac %}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: app-reader\nrules: []\n{% endif %}",
                )
                .write();
            crate::support::copy_dir(&built, &dir);
            dir
        };
        let v1 = make("1.0.0", "nginx:1.27", false);
        let v2 = make("1.1.0", "nginx:1.28", true);
        let root = tmp.path().join("gitops");
        Self {
            _tmp: tmp,
            root,
            v1,
            v2,
        }
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = cmd();
        c.env(
            "COCKTAIL_PKG_TARGET",
            format!("dir:{}", self.root.display()),
        )
        .env("COCKTAIL_PKG_SERVICE_MAP", "shop");
        c
    }

    fn spawn(&self, args: &[&str], lease_ttl: &str) -> Child {
        std::process::Command::new(crate::support::bin())
            .current_dir(crate::support::root())
            .env("NO_COLOR", "1")
            .env(
                "COCKTAIL_PKG_TARGET",
                format!("dir:{}", self.root.display()),
            )
            .env("COCKTAIL_PKG_SERVICE_MAP", "shop")
            .env("COCKTAIL_PKG_LEASE_TTL", lease_ttl)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn settings(&self) -> PathBuf {
        self.root.join("shop").join("configmap-settings.yaml")
    }

    fn record(&self, revision: u64) -> PathBuf {
        self.root
            .join(".cocktail-pkg/releases/shop/web")
            .join(format!("v{revision}.json"))
    }

    /// Replaces the unchanged `settings` object by a FIFO; returns its content.
    fn block_reads(&self) -> String {
        let text = std::fs::read_to_string(self.settings()).unwrap();
        std::fs::remove_file(self.settings()).unwrap();
        let ok = std::process::Command::new("mkfifo")
            .arg(self.settings())
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo failed");
        text
    }

    fn restore(&self, text: &str) {
        std::fs::remove_file(self.settings()).unwrap();
        std::fs::write(self.settings(), text).unwrap();
    }

    fn history(&self) -> Vec<(u64, String, String)> {
        let out = self
            .cmd()
            .args(["history", "web", "-o", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["revision"].as_u64().unwrap(),
                    r["status"].as_str().unwrap().to_string(),
                    r["description"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

fn wait_for(what: &str, deadline: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn statuses(h: &[(u64, String, String)]) -> Vec<(u64, &str)> {
    h.iter().map(|(r, s, _)| (*r, s.as_str())).collect()
}

fn exists(p: &Path) -> bool {
    p.exists()
}

#[test]
fn install_status_upgrade_diff_rollback_uninstall() {
    let s = Setup::new();
    let v1 = s.v1.to_str().unwrap();
    let v2 = s.v2.to_str().unwrap();
    s.cmd()
        .args(["service-map", "create", "shop", "--display-name", "Shop"])
        .assert()
        .success();
    s.cmd()
        .args(["install", "web", v1, "--wait"])
        .assert()
        .success()
        .stderr(predicate::str::contains("keeps no live state"));
    s.cmd()
        .args(["status", "web"])
        .assert()
        .success()
        .stdout(predicate::str::contains("REVISION:    1 (deployed"))
        .stdout(predicate::str::contains("WORKLOAD GROUP front"))
        .stdout(predicate::str::contains("Deployment/web"))
        .stdout(predicate::str::contains("LIVE STATE:  not observed"));
    let out = s
        .cmd()
        .args(["status", "web", "-o", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["overall"], "unknown");
    assert_eq!(v["observed"], false);
    assert_eq!(v["objects"].as_array().unwrap().len(), 3);
    s.cmd()
        .args(["diff", "upgrade", "web", v2])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("ClusterRole"));
    s.cmd().args(["upgrade", "web", v2]).assert().success();
    s.cmd()
        .args(["set-image", "web", "web=nginx:1.29"])
        .assert()
        .success();
    let dep = std::fs::read_to_string(s.root.join("shop/deployment-web.yaml")).unwrap();
    assert!(dep.contains("image: nginx:1.29"), "{dep}");
    s.cmd().args(["restart", "web"]).assert().success();
    let dep = std::fs::read_to_string(s.root.join("shop/deployment-web.yaml")).unwrap();
    assert!(dep.contains("cocktail.io/restartedAt"), "{dep}");
    s.cmd().args(["rollback", "web", "1"]).assert().success();
    assert!(!exists(
        &s.root.join("_cluster/clusterrole-app-reader.yaml")
    ));
    assert_eq!(
        statuses(&s.history()),
        [
            (1, "superseded"),
            (2, "superseded"),
            (3, "superseded"),
            (4, "deployed")
        ]
    );
    s.cmd()
        .args(["service-map", "delete", "shop"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "still has 1 installed release(s): web",
        ));
    s.cmd().args(["uninstall", "web"]).assert().success();
    s.cmd()
        .args(["service-map", "delete", "shop"])
        .assert()
        .success();
    assert!(!exists(&s.root.join("shop")));
}

#[test]
fn two_concurrent_upgrades_one_wins_the_other_fails_fast() {
    let s = Setup::new();
    let (v1, v2) = (s.v1.to_str().unwrap(), s.v2.to_str().unwrap());
    s.cmd().args(["install", "web", v1]).assert().success();
    let text = s.block_reads();
    // Same package version (the labels of `settings` stay the same), a new image.
    let first = s.spawn(
        &["upgrade", "web", v1, "--set", "image=nginx:1.28", "--wait"],
        "300",
    );
    wait_for(
        "the first upgrade's pending record",
        Duration::from_secs(30),
        || exists(&s.record(2)),
    );
    s.cmd()
        .args(["upgrade", "web", v2])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: operation in progress on release `web` by",
        ))
        .stderr(predicate::str::contains(" since "))
        .stderr(predicate::str::contains("hint:"));
    // Let the first one go: it reads the object, finishes, and gives the lease back.
    let mut first = first;
    write_fifo(&s.settings(), &text, &mut first);
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.restore(&text);
    assert_eq!(statuses(&s.history()), [(1, "superseded"), (2, "deployed")]);
    s.cmd().args(["upgrade", "web", v1]).assert().success();
}

#[test]
fn a_process_killed_mid_upgrade_is_recovered_by_the_next_operation() {
    let s = Setup::new();
    let (v1, v2) = (s.v1.to_str().unwrap(), s.v2.to_str().unwrap());
    s.cmd().args(["install", "web", v1]).assert().success();
    let text = s.block_reads();
    let mut victim = s.spawn(
        &["upgrade", "web", v1, "--set", "image=nginx:1.28", "--wait"],
        "1",
    );
    wait_for("the pending record", Duration::from_secs(30), || {
        exists(&s.record(2))
    });
    victim.kill().unwrap();
    victim.wait().unwrap();
    s.restore(&text);
    let pending = s.history();
    assert_eq!(
        statuses(&pending),
        [(1, "deployed"), (2, "pending-upgrade")]
    );
    // The killed process's lease expires (1 s); the next upgrade takes over, marks the
    // interrupted revision failed and goes on.
    let start = Instant::now();
    loop {
        let out = s.cmd().args(["upgrade", "web", v2]).output().unwrap();
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("operation in progress"), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the lease never expired"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let h = s.history();
    assert_eq!(
        statuses(&h),
        [(1, "superseded"), (2, "failed"), (3, "deployed")]
    );
    assert!(h[1].2.starts_with("interrupted"), "{}", h[1].2);
}

#[test]
fn a_lease_left_by_a_dead_process_of_this_host_is_taken_over_at_once() {
    let s = Setup::new();
    let (v1, v2) = (s.v1.to_str().unwrap(), s.v2.to_str().unwrap());
    s.cmd().args(["install", "web", v1]).assert().success();
    let text = s.block_reads();
    // A long TTL: only the holder's PID being gone can free the lease at once.
    let mut victim = s.spawn(
        &["upgrade", "web", v1, "--set", "image=nginx:1.28", "--wait"],
        "300",
    );
    wait_for("the pending record", Duration::from_secs(30), || {
        exists(&s.record(2))
    });
    victim.kill().unwrap();
    victim.wait().unwrap();
    s.restore(&text);
    let lock = std::fs::read_to_string(s.root.join(".cocktail-pkg/locks/shop/web.json")).unwrap();
    assert!(lock.contains(&format!("/{}\"", victim.id())), "{lock}");
    s.cmd().args(["upgrade", "web", v2]).assert().success();
    let h = s.history();
    assert_eq!(
        statuses(&h),
        [(1, "superseded"), (2, "failed"), (3, "deployed")]
    );
    assert!(h[1].2.starts_with("interrupted"), "{}", h[1].2);
}

#[test]
fn ctrl_c_during_an_upgrade_fails_the_revision_and_gives_the_lease_back() {
    let s = Setup::new();
    let (v1, v2) = (s.v1.to_str().unwrap(), s.v2.to_str().unwrap());
    s.cmd().args(["install", "web", v1]).assert().success();
    let text = s.block_reads();
    let mut victim = s.spawn(
        &["upgrade", "web", v1, "--set", "image=nginx:1.28", "--wait"],
        "300",
    );
    wait_for("the pending record", Duration::from_secs(30), || {
        exists(&s.record(2))
    });
    // Only once it is blocked opening the FIFO: a signal before that would end it before it
    // ever reads the FIFO, and the write below would wait for a reader that never comes.
    wait_for(
        "the upgrade to block on the FIFO",
        Duration::from_secs(30),
        || blocked_in_open(victim.id()),
    );
    // Its stderr, read as it comes: the process says when it got the signal.
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let (stderr, mut pipe) = (stderr.clone(), victim.stderr.take().unwrap());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut pipe, &mut buf) {
                if n == 0 {
                    break;
                }
                stderr
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let sent = std::process::Command::new("kill")
        .args(["-INT", &victim.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    wait_for("the signal to be noticed", Duration::from_secs(30), || {
        stderr.lock().unwrap().contains("SIGINT received")
    });
    // The process is blocked reading the FIFO: let that read finish, then it sees the signal.
    write_fifo(&s.settings(), &text, &mut victim);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = victim.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the interrupted upgrade never exited"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    reader.join().unwrap();
    let stderr = stderr.lock().unwrap().clone();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("error: interrupted by SIGINT"), "{stderr}");
    s.restore(&text);
    assert!(!exists(&s.root.join(".cocktail-pkg/locks/shop/web.json")));
    let h = s.history();
    assert_eq!(statuses(&h), [(1, "deployed"), (2, "failed")]);
    assert_eq!(h[1].2, "interrupted by SIGINT");
    // The next command runs at once.
    s.cmd().args(["upgrade", "web", v2]).assert().success();
}

/// Writes a lease file as another host's process would, and a pending revision it left.
fn foreign_lease(s: &Setup, expires_in: i64) {
    let now = cocktail_pkg::time::now();
    let lock = serde_json::json!({
        "lease": {"serviceMap": "shop", "release": "web", "holder": "alice@ci-7.example/4242",
                  "acquired": now - 10, "expires": now + expires_in},
        "pid": 4242,
    });
    std::fs::write(
        s.root.join(".cocktail-pkg/locks/shop/web.json"),
        serde_json::to_vec(&lock).unwrap(),
    )
    .unwrap();
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.record(1)).unwrap()).unwrap();
    let chunks: Vec<String> = serde_json::from_value(file["chunks"].clone()).unwrap();
    let mut pending = cocktail_pkg::release::decode(&chunks).unwrap();
    pending.revision = 2;
    pending.status = cocktail_pkg::release::Status::PendingUpgrade;
    let chunks = cocktail_pkg::release::encode(&pending).unwrap();
    std::fs::write(
        s.record(2),
        serde_json::to_vec(&serde_json::json!({"chunks": chunks})).unwrap(),
    )
    .unwrap();
}

#[test]
fn a_foreign_lease_says_when_it_expires_and_unlock_removes_it() {
    let s = Setup::new();
    let v1 = s.v1.to_str().unwrap();
    s.cmd().args(["install", "web", v1]).assert().success();
    s.cmd()
        .args(["unlock", "web", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: no lease is held on release `web` in service map `shop`",
        ));
    foreign_lease(&s, 252);
    s.cmd()
        .args(["upgrade", "web", v1, "--set", "image=nginx:1.28"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: operation in progress on release `web` by alice@ci-7.example/4242 since ",
        ))
        .stderr(predicate::str::is_match("; expires in 4m(1[0-2])s\n").unwrap())
        .stderr(predicate::str::contains("cocktail-pkg unlock web"));
    // Not a terminal and no --yes: refused, nothing changes.
    s.cmd()
        .args(["unlock", "web"])
        .write_stdin("y\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pass --yes"));
    assert_eq!(statuses(&s.history())[1], (2, "pending-upgrade"));
    s.cmd()
        .args(["unlock", "web", "--yes"])
        .env("USER", "bob")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "Unlocked web (the lease of alice@ci-7.example/4242); revision 2 marked failed",
        ));
    let h = s.history();
    assert_eq!(statuses(&h), [(1, "deployed"), (2, "failed")]);
    assert_eq!(
        h[1].2,
        "unlocked by bob (the lease was held by alice@ci-7.example/4242)"
    );
    assert!(!exists(&s.root.join(".cocktail-pkg/locks/shop/web.json")));
    s.cmd()
        .args(["upgrade", "web", v1, "--set", "image=nginx:1.28"])
        .assert()
        .success();
}

#[test]
fn atomic_upgrade_rolls_back_after_an_injected_failure() {
    let s = Setup::new();
    let (v1, v2) = (s.v1.to_str().unwrap(), s.v2.to_str().unwrap());
    s.cmd().args(["install", "web", v1]).assert().success();
    // Cluster-scoped objects go under `_cluster/`: a file there makes the ClusterRole that
    // v2 adds fail to write, after v2's ConfigMap was already written.
    std::fs::write(s.root.join("_cluster"), "in the way").unwrap();
    s.cmd()
        .args(["upgrade", "web", v2, "--atomic"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: the upgrade failed; --atomic rolled back to revision 1 (now revision 3)",
        ))
        .stderr(predicate::str::contains("caused by: failed to write"))
        .stderr(predicate::str::contains("clusterrole-app-reader.yaml"));
    let h = s.history();
    assert_eq!(
        statuses(&h),
        [(1, "superseded"), (2, "failed"), (3, "deployed")]
    );
    assert_eq!(h[2].2, "Rollback to 1 (--atomic: revision 2 failed)");
    let app = std::fs::read_to_string(s.root.join("shop/configmap-app.yaml")).unwrap();
    assert!(app.contains("nginx:1.27"), "v1's ConfigMap is back: {app}");
    // Without --atomic the failed revision stays applied as far as it got.
    s.cmd().args(["upgrade", "web", v2]).assert().code(1);
    let app = std::fs::read_to_string(s.root.join("shop/configmap-app.yaml")).unwrap();
    assert!(app.contains("nginx:1.28"), "{app}");
    assert_eq!(statuses(&s.history())[3], (4, "failed"));
}

#[test]
fn diff_hides_values_marked_secret_wherever_they_appear() {
    let tmp = tempfile::tempdir().unwrap();
    let (_t, built) = PackageBuilder::new("app")
        .file("values.yaml", "password: null\n")
        .file(
            "values.schema.json",
            r#"{"type": "object", "properties": {"password": {"type": ["string", "null"], "x-cocktail-secret": true}}}"#,
        )
        .file(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  dsn: \"postgres://app:{{ values.password }}@db/app\"\n",
        )
        .write();
    let pkg = tmp.path().join("app");
    crate::support::copy_dir(&built, &pkg);
    let target = format!("dir:{}", tmp.path().join("gitops").display());
    let run = |args: &[&str]| {
        let mut c = cmd();
        c.env("COCKTAIL_PKG_TARGET", &target).args(args);
        c
    };
    let p = pkg.to_str().unwrap();
    run(&["install", "web", p, "--set", "password=hunter2-old"])
        .assert()
        .success();
    run(&["diff", "upgrade", "web", p, "--set", "password=hunter2-new"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("-  dsn: postgres://app:(hidden, "))
        .stdout(predicate::str::contains("+  dsn: postgres://app:(hidden, "))
        .stdout(predicate::str::contains("hunter2").not());
    run(&["get", "values", "web"])
        .assert()
        .success()
        .stdout(predicate::str::contains("*****"))
        .stdout(predicate::str::contains("hunter2").not());
}

/// Whether a thread of process `pid` is inside `open`/`openat` (blocked opening a FIFO: the
/// only file whose opening blocks in these tests), from `/proc/PID/task/*/syscall`.
fn blocked_in_open(pid: u32) -> bool {
    let open_calls: &[&str] = if cfg!(target_arch = "aarch64") {
        &["56"]
    } else {
        &["2", "257"]
    };
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|t| {
        std::fs::read_to_string(t.path().join("syscall"))
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_string))
            .is_some_and(|n| open_calls.contains(&n.as_str()))
    })
}

/// Writes `text` into the FIFO at `path` once `reader` has it open; never blocks forever: a
/// reader that exited instead is a test failure with its output.
fn write_fifo(path: &std::path::Path, text: &str, reader: &mut std::process::Child) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    const O_NONBLOCK: i32 = 0o4000;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(O_NONBLOCK)
            .open(path)
        {
            Ok(mut f) => {
                f.write_all(text.as_bytes()).unwrap();
                return;
            }
            // ENXIO: no reader yet.
            Err(e) if e.raw_os_error() == Some(6) => {
                if let Some(status) = reader.try_wait().unwrap() {
                    panic!("the process exited ({status}) before reading the FIFO");
                }
                assert!(Instant::now() < deadline, "nobody opened the FIFO");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("failed to open the FIFO: {e}"),
        }
    }
}
