//! Why it is not ready, and `events`: causes read from the live objects of the fake API server
//! (crash loops with the previous container's log, images that cannot be pulled, pods no node
//! can take, claims that cannot be provisioned, Services whose selector matches nothing) in
//! `--wait` failures, `history`, `status` (WHY) and `status --explain`; `events` merged and
//! deduplicated; a dir target saying it cannot observe.

use std::collections::BTreeMap;

use fake_kube::{OUTCOME, PREVIOUS_LOG};
use serde_json::{Value, json};

use crate::support::{FakeCluster, cmd, write_files};

/// The fake cluster ([`FakeCluster`]) with this file's helpers.
struct Cluster(FakeCluster);

impl std::ops::Deref for Cluster {
    type Target = FakeCluster;
    fn deref(&self) -> &FakeCluster {
        &self.0
    }
}

impl Cluster {
    fn new() -> Self {
        Self(FakeCluster::new())
    }
    /// A chart `app` whose templates are `templates` (plain YAML).
    fn chart(&self, templates: &[(&str, String)]) -> String {
        let dir = self.tmp.path().join("app");
        let mut files = BTreeMap::new();
        files.insert(
            "Chart.yaml".to_string(),
            "apiVersion: v2\nname: app\nversion: 1.0.0\n".to_string(),
        );
        for (name, text) in templates {
            files.insert(format!("templates/{name}"), text.clone());
        }
        write_files(&dir, &files);
        dir.to_string_lossy().into_owned()
    }
}

/// A Deployment `web` (one replica) whose pod template carries `annotations`.
fn deployment(image: &str, annotations: Value) -> String {
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}, "annotations": annotations},
                              "spec": {"containers": [{"name": "web", "image": image}]}}},
    });
    serde_json::to_string_pretty(&d).unwrap()
}

fn status_json(c: &Cluster) -> Value {
    serde_json::from_str(&c.ok(&["status", "app", "-o", "json"])).unwrap()
}

fn why_of(status: &Value, kind: &str) -> String {
    status["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"]["kind"] == kind)
        .and_then(|o| o["why"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_crash_looping_deployment_says_why_in_wait_history_and_status() {
    let c = Cluster::new();
    let chart = c.chart(&[(
        "web.yaml",
        deployment(
            "example.com/web:1",
            json!({OUTCOME: "crashloop",
                   PREVIOUS_LOG: "starting web\nerror: cannot connect to db:5432"}),
        ),
    )]);
    let (code, _, err) = c.run(&["install", "app", &chart, "--wait", "--timeout", "2s"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("timed out after 2s waiting for Deployment/web (0/1 ready): CrashLoopBackOff: container web exited with code 1"), "{err}");
    assert!(
        err.contains("last log lines: starting web | error: cannot connect to db:5432"),
        "{err}"
    );
    // The failed revision's description carries it.
    let history: Value = serde_json::from_str(&c.ok(&["history", "app", "-o", "json"])).unwrap();
    let description = history[0]["description"].as_str().unwrap();
    assert_eq!(history[0]["status"], "failed");
    assert!(
        description.contains("CrashLoopBackOff: container web exited with code 1"),
        "{description}"
    );
    assert!(
        description.contains("cannot connect to db:5432"),
        "{description}"
    );
    // status: the WHY column.
    let table = c.ok(&["status", "app"]);
    let header = table.lines().find(|l| l.contains("OBJECT")).unwrap();
    assert!(header.contains("WHY"), "{table}");
    assert!(
        table.contains("CrashLoopBackOff: container web exited with code 1, restarted 3 times"),
        "{table}"
    );
    // status --explain: the pod, its container states, the log lines, the events.
    let explain = c.ok(&["status", "app", "--explain"]);
    assert!(
        explain.contains("EXPLAIN Deployment/web (0/1 ready)"),
        "{explain}"
    );
    assert!(explain.contains("  pod web-"), "{explain}");
    assert!(
        explain.contains(
            "container web: waiting: CrashLoopBackOff (back-off 40s restarting failed container=web"
        ),
        "{explain}"
    );
    assert!(
        explain.contains("last state: terminated: Error (exit code 1)"),
        "{explain}"
    );
    assert!(
        explain.contains("        error: cannot connect to db:5432"),
        "{explain}"
    );
    assert!(explain.contains("BackOff (x2"), "{explain}");
    // JSON carries the explanation.
    let v = status_json(&c);
    let deploy = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"]["kind"] == "Deployment")
        .unwrap();
    assert_eq!(
        deploy["explanation"]["pods"][0]["containers"][0]["restarts"],
        3
    );
}

#[test]
fn an_image_that_cannot_be_pulled() {
    let c = Cluster::new();
    let chart = c.chart(&[(
        "web.yaml",
        deployment("nginx:nope", json!({OUTCOME: "imagepull"})),
    )]);
    c.ok(&["install", "app", &chart]);
    assert_eq!(
        why_of(&status_json(&c), "Deployment"),
        "ImagePullBackOff: Back-off pulling image \"nginx:nope\""
    );
}

#[test]
fn an_unschedulable_pod() {
    let c = Cluster::new();
    let chart = c.chart(&[(
        "web.yaml",
        deployment("nginx:1", json!({OUTCOME: "unschedulable"})),
    )]);
    c.ok(&["install", "app", &chart]);
    let why = why_of(&status_json(&c), "Deployment");
    assert!(
        why.starts_with("Unschedulable: 0/3 nodes are available: 3 Insufficient memory."),
        "{why}"
    );
    let explain = c.ok(&["status", "app", "--explain"]);
    assert!(
        explain.contains("condition PodScheduled=False Unschedulable"),
        "{explain}"
    );
    assert!(explain.contains("FailedScheduling"), "{explain}");
}

#[test]
fn a_claim_stuck_pending_shows_its_event() {
    let c = Cluster::new();
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "annotations": {OUTCOME: "fail"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                 "resources": {"requests": {"storage": "1Gi"}}}});
    let chart = c.chart(&[("pvc.yaml", pvc.to_string())]);
    c.ok(&["install", "app", &chart]);
    assert_eq!(
        why_of(&status_json(&c), "PersistentVolumeClaim"),
        "ProvisioningFailed: storageclass.storage.k8s.io \"fast\" not found"
    );
}

#[test]
fn a_service_whose_selector_matches_no_pod() {
    let c = Cluster::new();
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}});
    let chart = c.chart(&[("svc.yaml", svc.to_string())]);
    c.ok(&["install", "app", &chart]);
    // What the endpoint-slice controller writes for a selector that matches no pod (the
    // fake's controller always reports one endpoint).
    c.fake.insert(
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "api-abc12", "namespace": "shop",
                     "labels": {"kubernetes.io/service-name": "api"}},
        "addressType": "IPv4", "endpoints": []}),
    );
    let v = status_json(&c);
    assert_eq!(why_of(&v, "Service"), "selector app=api matches no pod");
    assert!(
        c.ok(&["status", "app"])
            .contains("selector app=api matches no pod")
    );
}

#[test]
fn events_are_merged_deduplicated_and_warnings_first() {
    let c = Cluster::new();
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}});
    let chart = c.chart(&[("svc.yaml", svc.to_string())]);
    c.ok(&["install", "app", &chart]);
    let event = |name: &str, kind: &str, reason: &str, t: &str| {
        json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": "shop"},
            "involvedObject": {"kind": "Service", "name": "api", "namespace": "shop"},
            "type": kind, "reason": reason, "message": format!("{reason} happened"),
            "count": 1, "firstTimestamp": t, "lastTimestamp": t})
    };
    c.fake
        .insert(event("api.1", "Normal", "Synced", "2026-01-01T00:00:01Z"));
    c.fake
        .insert(event("api.2", "Warning", "BackOff", "2026-01-01T00:00:02Z"));
    c.fake
        .insert(event("api.3", "Warning", "BackOff", "2026-01-01T00:00:05Z"));
    // Another object's event is not the release's.
    let mut other = event("other.1", "Warning", "Failed", "2026-01-01T00:00:03Z");
    other["involvedObject"]["name"] = "other".into();
    c.fake.insert(other);
    let table = c.ok(&["events", "app"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("LAST SEEN") && lines[0].contains("MESSAGE"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[1].contains("Warning")
            && lines[1].contains("BackOff")
            && lines[1].contains("Service/api")
            && lines[1].contains(" 2 "),
        "{table}"
    );
    assert!(
        lines[2].contains("Normal") && lines[2].contains("Synced"),
        "{table}"
    );
    let v: Value = serde_json::from_str(&c.ok(&["events", "app", "-o", "json"])).unwrap();
    let rows = v["events"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["reason"], "BackOff");
    assert_eq!(rows[0]["count"], 2);
    assert_eq!(rows[0]["firstSeen"], "2026-01-01T00:00:02Z");
    assert_eq!(rows[0]["lastSeen"], "2026-01-01T00:00:05Z");
    assert_eq!(rows[0]["type"], "Warning");
}

#[test]
fn a_dir_target_says_it_cannot_observe() {
    let tmp = tempfile::tempdir().unwrap();
    let target = format!("dir:{}", tmp.path().join("out").display());
    cmd()
        .args([
            "install",
            "web",
            "catalog/nginx",
            "-n",
            "shop",
            "--target",
            &target,
        ])
        .assert()
        .success();
    let out = cmd()
        .args([
            "status",
            "web",
            "-n",
            "shop",
            "--target",
            &target,
            "--explain",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot observe why"), "{text}");
    assert!(text.contains("keeps no live state"), "{text}");
}

/// `events --watch` prints the rows it has, then only new or changed ones as they come, until
/// Ctrl-C (every wait has a deadline; the process is killed if the test fails).
#[test]
fn events_watch_prints_new_and_changed_rows_until_interrupted() {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let c = Cluster::new();
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}});
    let chart = c.chart(&[("svc.yaml", svc.to_string())]);
    c.ok(&["install", "app", &chart]);
    let event = |name: &str, reason: &str, count: i64, t: &str| {
        json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": "shop"},
            "involvedObject": {"kind": "Service", "name": "api", "namespace": "shop"},
            "type": "Warning", "reason": reason, "message": format!("{reason} happened"),
            "count": count, "firstTimestamp": "2026-01-01T00:00:01Z", "lastTimestamp": t})
    };
    c.fake
        .insert(event("api.1", "BackOff", 1, "2026-01-01T00:00:01Z"));
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Killed(
        std::process::Command::new(crate::support::bin())
            .current_dir(crate::support::root())
            .env("NO_COLOR", "1")
            .env("KUBECONFIG", &c.kubeconfig)
            .env_remove("COCKTAIL_PKG_TARGET")
            .env_remove("COCKTAIL_PKG_KUBE_CONTEXT")
            .env("COCKTAIL_PKG_POLL_INTERVAL_MS", "50")
            .args(["events", "app", "--watch"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let (out, mut pipe) = (out.clone(), child.0.stdout.take().unwrap());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let wait_for = |what: &str, f: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !f(&out.lock().unwrap()) {
            assert!(Instant::now() < deadline, "{what}: {}", out.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for("the first row", &|o| o.contains("BackOff"));
    // A new event, and the first one seen again (count 3): both printed, the first once more.
    c.fake
        .insert(event("api.2", "Unhealthy", 1, "2026-01-01T00:00:09Z"));
    wait_for("the new row", &|o| o.contains("Unhealthy"));
    let resp = cocktail_pkg::repo::http::client()
        .unwrap()
        .patch(format!(
            "{}/api/v1/namespaces/shop/events/api.1",
            c.fake.url
        ))
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"count": 3, "lastTimestamp": "2026-01-01T00:00:10Z"}"#)
        .send()
        .unwrap();
    assert!(resp.status().is_success());
    let rows = |o: &str, reason: &str| o.lines().filter(|l| l.contains(reason)).count();
    wait_for("the changed row", &|o| rows(o, "BackOff") == 2);
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "--watch did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    };
    reader.join().unwrap();
    let text = out.lock().unwrap().clone();
    assert_eq!(rows(&text, "Unhealthy"), 1, "printed once: {text}");
    let last_backoff = text.lines().rev().find(|l| l.contains("BackOff")).unwrap();
    assert!(last_backoff.contains(" 3 "), "the count is updated: {text}");
    // Ended by the signal (as `kubectl get -w` is), or exiting on its own after it.
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.signal() == Some(2) || matches!(status.code(), Some(0) | Some(130)),
        "{status:?}: {text}"
    );
}
