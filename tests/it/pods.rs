//! `logs`, `exec`, `shell` and `port-forward` through the CLI against the fake API server: the
//! logs of two pods prefixed, `logs -f` across a pod replaced mid-stream, `exec`'s exit code
//! passed through, `exec -i -- cat` echoing stdin, a shell, and `port-forward` carrying bytes
//! both ways. The release's Deployment has no replicas: the tests insert its pods themselves.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use fake_kube::{FakeKube, LOG, SHELLS};
use serde_json::{Value, json};

use crate::support::{cmd, write_files};

/// No wait in these tests lasts longer than this: a missing line fails the test, never hangs it.
const DEADLINE: Duration = Duration::from_secs(60);

const CHART: &[(&str, &str)] = &[
    (
        "Chart.yaml",
        "apiVersion: v2\nname: shop\nversion: 1.0.0\nappVersion: \"1.0\"\n",
    ),
    (
        "templates/web.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 0
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http}
"#,
    ),
];

struct Cluster {
    fake: FakeKube,
    _tmp: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Cluster {
    /// A cluster with the release `shop` installed in the service map `shop`.
    fn new() -> Self {
        let fake = FakeKube::start();
        let tmp = tempfile::tempdir().unwrap();
        let kubeconfig = tmp.path().join("kubeconfig");
        fake.write_kubeconfig(&kubeconfig, Some("shop")).unwrap();
        fake.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
        let chart = tmp.path().join("shop");
        write_files(
            &chart,
            &CHART
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
        );
        let c = Self {
            fake,
            _tmp: tmp,
            kubeconfig,
        };
        let (code, _, err) = c.run(&["install", "shop", chart.to_str().unwrap()], None);
        assert_eq!(code, 0, "{err}");
        c
    }

    fn env(&self, c: &mut std::process::Command) {
        c.current_dir(crate::support::root())
            .env("NO_COLOR", "1")
            .env("KUBECONFIG", &self.kubeconfig)
            .env("COCKTAIL_PKG_POLL_INTERVAL_MS", "50")
            .env_remove("COCKTAIL_PKG_SERVICE_MAP")
            .env_remove("COCKTAIL_PKG_TARGET")
            .env_remove("COCKTAIL_PKG_KUBE_CONTEXT");
    }

    /// Runs the CLI to its end (with `stdin` when given): (exit code, stdout, stderr).
    fn run(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut c = cmd();
        c.env("KUBECONFIG", &self.kubeconfig)
            .env_remove("COCKTAIL_PKG_TARGET")
            .env_remove("COCKTAIL_PKG_KUBE_CONTEXT")
            .args(args);
        if let Some(input) = stdin {
            c.write_stdin(input);
        }
        let out = c.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Starts the CLI in the background; its stdout lines arrive on the receiver.
    fn spawn(&self, args: &[&str]) -> (Killed, Receiver<String>) {
        let mut c = std::process::Command::new(crate::support::bin());
        self.env(&mut c);
        let mut child = c
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (Killed(child), rx)
    }

    /// A running, ready pod of the Deployment `web`.
    fn pod(&self, name: &str, log: &str) {
        self.fake.insert(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "shop",
                "labels": {"app": "web"},
                "annotations": {LOG: log},
            },
            "spec": {"containers": [{
                "name": "web",
                "image": "nginx:1.27",
                "ports": [{"name": "http", "containerPort": 8080}],
            }]},
            "status": {
                "phase": "Running",
                "startTime": "2026-01-01T00:00:00Z",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{
                    "name": "web", "ready": true, "restartCount": 0,
                    "image": "nginx:1.27", "imageID": "", "started": true,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                }],
            },
        }));
    }

    /// Deletes a pod through the API, as `kubectl delete pod` would.
    fn delete_pod(&self, name: &str) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = format!("{}/api/v1/namespaces/shop/pods/{name}", self.fake.url);
        let status = reqwest::blocking::Client::new()
            .delete(url)
            .bearer_auth(fake_kube::TOKEN)
            .send()
            .unwrap()
            .status();
        assert!(status.is_success(), "delete pod {name}: {status}");
    }
}

/// A child process killed when dropped (a failed assertion does not leave it running).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (at most [`DEADLINE`]) for a line equal to `want`; returns the lines seen so far.
fn expect_line(rx: &Receiver<String>, seen: &mut Vec<String>, want: &str) {
    let end = Instant::now() + DEADLINE;
    while !seen.iter().any(|l| l == want) {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(line) => seen.push(line),
            Err(RecvTimeoutError::Timeout) => {
                panic!("no line {want:?} within {DEADLINE:?}; saw {seen:#?}")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("the command ended before {want:?}; saw {seen:#?}")
            }
        }
    }
}

#[test]
fn logs_prefix_each_line_with_its_pod_and_container() {
    let c = Cluster::new();
    c.pod("web-a", "a1\na2\n");
    c.pod("web-b", "b1\nb2\n");
    let (code, out, err) = c.run(&["logs", "shop"], None);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "[web-a/web] a1",
            "[web-a/web] a2",
            "[web-b/web] b1",
            "[web-b/web] b2"
        ],
        "{err}"
    );
    // One workload, the last line of each pod, and kubectl's KIND/NAME/CONTAINER form.
    let (code, out, err) = c.run(&["logs", "shop", "Deployment/web/web", "--tail", "1"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "[web-a/web] a2\n[web-b/web] b2\n");
    // A workload the release does not have.
    let (code, _, err) = c.run(&["logs", "shop", "db"], None);
    assert_eq!(code, 1);
    assert!(err.contains("the release has no workload `db`"), "{err}");
    let sent: Vec<_> = c
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/log"))
        .collect();
    assert!(
        sent.iter().any(
            |r| r.query.get("tailLines").map(String::as_str) == Some("1")
                && r.query.get("container").map(String::as_str) == Some("web")
        ),
        "{sent:#?}"
    );
}

#[test]
fn logs_follow_goes_on_across_a_pod_replaced_mid_stream() {
    let c = Cluster::new();
    c.pod("web-a", "a1\n");
    let (_child, rx) = c.spawn(&["logs", "shop", "web", "-f"]);
    let mut seen = Vec::new();
    expect_line(&rx, &mut seen, "[web-a/web] a1");
    c.fake.append_log("shop", "web-a", "web", "a2\n");
    expect_line(&rx, &mut seen, "[web-a/web] a2");
    // A rollout: the pod is replaced by another.
    c.delete_pod("web-a");
    c.pod("web-c", "c1\n");
    expect_line(&rx, &mut seen, "[web-c/web] c1");
    c.fake.append_log("shop", "web-c", "web", "c2\n");
    expect_line(&rx, &mut seen, "[web-c/web] c2");
    let of_a: Vec<&String> = seen.iter().filter(|l| l.starts_with("[web-a/")).collect();
    assert_eq!(of_a, ["[web-a/web] a1", "[web-a/web] a2"], "{seen:#?}");
    let follows = c
        .fake
        .requests()
        .into_iter()
        .filter(|r| {
            r.path.ends_with("/log") && r.query.get("follow").map(String::as_str) == Some("true")
        })
        .count();
    assert!(follows >= 2, "each pod followed once");
}

#[test]
fn exec_passes_the_remote_exit_code_through() {
    let c = Cluster::new();
    c.pod("web-a", "");
    c.pod("web-b", "");
    let (code, out, err) = c.run(&["exec", "shop", "web", "--", "exit", "3"], None);
    assert_eq!(code, 3, "{out}\n{err}");
    let (code, out, err) = c.run(
        &[
            "exec",
            "shop",
            "web/web",
            "--pod",
            "web-b",
            "--",
            "sh",
            "-c",
            "echo hi; exit 0",
        ],
        None,
    );
    assert_eq!((code, out.as_str()), (0, "hi\n"), "{err}");
    let sessions = c.fake.exec_sessions();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].pod, "web-a", "the first ready pod");
    assert_eq!(sessions[0].command, ["exit", "3"]);
    assert_eq!(sessions[0].protocol, "v5.channel.k8s.io");
    assert_eq!(sessions[0].exit_code, Some(3));
    assert_eq!(sessions[1].pod, "web-b");
    // A command that cannot start is an error, not an exit code.
    let (code, _, err) = c.run(&["exec", "shop", "web", "--", "nosuch"], None);
    assert_eq!(code, 1);
    assert!(err.contains("executable file not found"), "{err}");
}

#[test]
fn exec_with_stdin_echoes_it_through_cat() {
    let c = Cluster::new();
    c.pod("web-a", "");
    let (code, out, err) = c.run(
        &["exec", "shop", "web", "-i", "--", "cat"],
        Some("hello\nworld\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "hello\nworld\n");
    assert!(c.fake.exec_sessions()[0].stdin);
}

#[test]
fn shell_runs_bash_or_sh_and_exits_with_its_code() {
    let c = Cluster::new();
    c.pod("web-a", "");
    let (code, out, err) = c.run(&["shell", "shop", "web"], Some("echo inside\nexit 4\n"));
    assert_eq!(code, 4, "{err}");
    assert_eq!(out, "inside\n");
    let s = &c.fake.exec_sessions()[0];
    assert_eq!(s.command[..2], ["sh", "-c"]);
    assert!(!s.tty, "stdin is not a terminal");
    // A container without bash gets sh.
    let mut pod = c.fake.object("v1", "Pod", Some("shop"), "web-a").unwrap();
    pod["metadata"]["annotations"][SHELLS] = Value::from("sh");
    c.fake.insert(pod);
    let (code, out, err) = c.run(
        &["shell", "shop", "web"],
        Some("command -v bash || echo no-bash\n"),
    );
    assert_eq!((code, out.as_str()), (0, "no-bash\n"), "{err}");
}

#[test]
fn port_forward_carries_bytes_both_ways() {
    let c = Cluster::new();
    c.pod("web-a", "");
    // The pod's port 8080 (the Service's port 80, targetPort `http`) is a test server that
    // answers "pong:" and what it read.
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    c.fake
        .forward_port_to("shop", "web-a", 8080, server.local_addr().unwrap());
    let served = std::thread::spawn(move || {
        let (mut conn, _) = server.accept().unwrap();
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).unwrap();
        conn.write_all(b"pong:").unwrap();
        conn.write_all(&buf).unwrap();
        buf
    });
    let (_child, rx) = c.spawn(&["port-forward", "shop", "web", ":80"]);
    let first = rx.recv_timeout(DEADLINE).unwrap();
    let (local, remote) = first
        .strip_prefix("Forwarding from ")
        .and_then(|r| r.split_once(" -> "))
        .unwrap_or_else(|| panic!("{first}"));
    assert_eq!(remote, "8080");
    assert!(local.starts_with("127.0.0.1:"), "{local}");
    let mut conn = std::net::TcpStream::connect(local).unwrap();
    conn.set_read_timeout(Some(DEADLINE)).unwrap();
    conn.write_all(b"ping").unwrap();
    let mut answer = [0u8; 9];
    conn.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"pong:ping");
    assert_eq!(&served.join().unwrap(), b"ping");
    let forwarded = c
        .fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/portforward"))
        .unwrap();
    assert_eq!(
        forwarded.path,
        "/api/v1/namespaces/shop/pods/web-a/portforward"
    );
    assert_eq!(
        forwarded.query.get("ports").map(String::as_str),
        Some("8080")
    );
}

#[test]
fn a_dir_target_says_it_runs_no_pods() {
    let tmp = tempfile::tempdir().unwrap();
    let target = format!("dir:{}", tmp.path().display());
    cmd()
        .args([
            "install",
            "web",
            "catalog/nginx",
            "-n",
            "shop",
            "--target",
            &target,
            "--create-service-map",
        ])
        .assert()
        .success();
    let out = cmd()
        .args(["logs", "web", "-n", "shop", "--target", &target])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("cannot read pod logs: it runs no pods"),
        "{err}"
    );
    assert!(
        err.contains("hint: logs, exec, shell and port-forward need a cluster"),
        "{err}"
    );
}
