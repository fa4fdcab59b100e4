//! The kube target over the real HTTP wire, against the fake API server
//! (`crates/fake-kube`): request paths, the apply-patch content type, `fieldManager`,
//! `force` and `dryRun`, release records as Secrets, Leases, and behaviour on conflicts, 500s
//! and timeouts. The CLI is run as a user runs it, with a kubeconfig.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fake_kube::{Fault, Readiness, RecordedRequest};
use predicates::prelude::*;
use serde_json::{Value, json};

use crate::support::FakeCluster;

/// The fake cluster ([`FakeCluster`]) with this file's helpers.
struct Cluster(FakeCluster);

impl std::ops::Deref for Cluster {
    type Target = FakeCluster;
    fn deref(&self) -> &FakeCluster {
        &self.0
    }
}

impl Cluster {
    /// A fake cluster whose kube context's namespace is `shop` (not created).
    fn new() -> Self {
        Self(FakeCluster::bare())
    }

    fn requests(&self, method: &str, path_contains: &str) -> Vec<RecordedRequest> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.contains(path_contains))
            .collect()
    }

    fn deployment(&self, name: &str) -> Option<Value> {
        self.fake
            .object("apps/v1", "Deployment", Some("shop"), name)
    }

    fn record_secrets(&self) -> Vec<Value> {
        self.fake
            .objects()
            .into_iter()
            .filter(|o| o["kind"] == "Secret" && o["type"] == "cocktail.io/release.v1")
            .collect()
    }
}

fn statuses(h: &[(u64, String, String)]) -> Vec<(u64, &str)> {
    h.iter().map(|(r, s, _)| (*r, s.as_str())).collect()
}

fn position(reqs: &[RecordedRequest], method: &str, path: &str) -> usize {
    reqs.iter()
        .position(|r| r.method == method && r.path == path)
        .unwrap_or_else(|| panic!("no {method} {path}"))
}

#[test]
fn install_speaks_server_side_apply_with_records_and_a_lease() {
    let c = Cluster::new();
    c.cmd()
        .args(["install", "web", "catalog/nginx", "--create-service-map"])
        .assert()
        .success()
        .stderr(predicate::str::contains("to service map shop in kube:fake"));
    let reqs = c.fake.requests();
    // Every request carries the kubeconfig's credentials.
    assert!(
        reqs.iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer fake-token")),
        "{reqs:?}"
    );
    // Objects: server-side apply, our field manager, no force, no dry run.
    let applies: Vec<&RecordedRequest> = reqs
        .iter()
        .filter(|r| r.method == "PATCH" && !r.path.contains("/secrets/"))
        .collect();
    let paths: Vec<&str> = applies.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/v1/namespaces/shop",
            "/api/v1/namespaces/shop/configmaps/web-nginx",
            "/api/v1/namespaces/shop/services/web-nginx",
            "/apis/apps/v1/namespaces/shop/deployments/web-nginx",
        ]
    );
    for r in &applies {
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
        assert_eq!(
            r.query.get("fieldManager").map(String::as_str),
            Some("cocktail-pkg")
        );
        assert!(
            !r.query.contains_key("force") && !r.query.contains_key("dryRun"),
            "{r:?}"
        );
    }
    let ns = c.fake.object("v1", "Namespace", None, "shop").unwrap();
    assert_eq!(ns["metadata"]["labels"]["cocktail.io/service-map"], "true");
    let dep = c.deployment("web-nginx").unwrap();
    let managers: Vec<&str> = dep["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"cocktail-pkg"), "{managers:?}");
    // The lease is taken before anything is written and given back at the end, with a
    // resourceVersion precondition.
    let lease_path = "/apis/coordination.k8s.io/v1/namespaces/shop/leases";
    let take = position(&reqs, "POST", lease_path);
    let give_back = position(&reqs, "DELETE", &format!("{lease_path}/cocktail-pkg.web"));
    let record_path = "/api/v1/namespaces/shop/secrets/cocktail.release.v1.web.v1";
    let first_record = position(&reqs, "PATCH", record_path);
    let first_object = position(
        &reqs,
        "PATCH",
        "/api/v1/namespaces/shop/configmaps/web-nginx",
    );
    assert!(take < first_record && first_record < first_object && first_object < give_back);
    let lease_body = reqs[take].body.as_ref().unwrap();
    assert!(
        lease_body["spec"]["holderIdentity"]
            .as_str()
            .unwrap()
            .contains('@')
    );
    assert_eq!(lease_body["spec"]["leaseDurationSeconds"], 300);
    let delete_body = reqs[give_back].body.as_ref().unwrap();
    assert!(
        delete_body["preconditions"]["resourceVersion"].is_string(),
        "{delete_body}"
    );
    assert!(
        c.fake
            .object(
                "coordination.k8s.io/v1",
                "Lease",
                Some("shop"),
                "cocktail-pkg.web"
            )
            .is_none()
    );
    // The record: a Secret of our type, labelled, written pending then deployed.
    let record_writes: Vec<&RecordedRequest> = reqs
        .iter()
        .filter(|r| r.method == "PATCH" && r.path == record_path)
        .collect();
    let labels: Vec<&str> = record_writes
        .iter()
        .map(|r| {
            r.body.as_ref().unwrap()["metadata"]["labels"]["status"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(labels, ["pending-install", "deployed"]);
    let secrets = c.record_secrets();
    assert_eq!(secrets.len(), 1);
    let labels = &secrets[0]["metadata"]["labels"];
    assert_eq!(
        (
            labels["owner"].as_str(),
            labels["name"].as_str(),
            labels["revision"].as_str(),
            labels["status"].as_str()
        ),
        (
            Some("cocktail-pkg"),
            Some("web"),
            Some("1"),
            Some("deployed")
        )
    );
    // list reads the records back.
    c.cmd()
        .args(["list", "-o", "json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"status\": \"deployed\""));
}

#[test]
fn dry_run_is_a_server_side_dry_run_and_stores_nothing() {
    let c = Cluster::new();
    c.cmd()
        .args(["service-map", "create", "shop"])
        .assert()
        .success();
    c.cmd()
        .args(["install", "web", "catalog/nginx", "--dry-run"])
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing applied"));
    let patches = c.requests("PATCH", "/namespaces/shop/");
    assert!(!patches.is_empty());
    for r in patches.iter().filter(|r| !r.path.contains("/secrets/")) {
        assert_eq!(
            r.query.get("dryRun").map(String::as_str),
            Some("All"),
            "{r:?}"
        );
    }
    assert!(c.deployment("web-nginx").is_none());
    assert!(c.record_secrets().is_empty());
    // Read-only: no lease taken, so it needs no write access and never waits for one.
    assert!(c.requests("POST", "/leases").is_empty());
    assert!(c.requests("PUT", "/leases").is_empty());
}

#[test]
fn a_missing_service_map_is_explained() {
    let c = Cluster::new();
    c.cmd()
        .args(["install", "web", "catalog/nginx"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: service map `shop` does not exist",
        ))
        .stderr(predicate::str::contains("--create-service-map"));
    c.cmd()
        .args([
            "install",
            "web",
            "catalog/nginx",
            "-n",
            "other",
            "--create-service-map",
        ])
        .assert()
        .success();
    assert!(
        c.deployment("web-nginx").is_none(),
        "-n wins over the context's namespace"
    );
    assert!(
        c.fake
            .object("apps/v1", "Deployment", Some("other"), "web-nginx")
            .is_some()
    );
}

#[test]
fn conflicts_with_another_field_manager_need_force_conflicts() {
    let c = Cluster::new();
    c.cmd()
        .args(["install", "web", "catalog/nginx", "--create-service-map"])
        .assert()
        .success();
    // Someone scales the Deployment with kubectl.
    c.fake.apply_as(
        "kubectl-edit",
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web-nginx", "namespace": "shop"},
               "spec": {"replicas": 7}}),
    );
    c.cmd()
        .args(["upgrade", "web", "catalog/nginx", "--set", "replicas=3"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("conflict with \"kubectl-edit\""))
        .stderr(predicate::str::contains(".spec.replicas"))
        .stderr(predicate::str::contains("--force-conflicts"));
    assert_eq!(c.deployment("web-nginx").unwrap()["spec"]["replicas"], 7);
    c.cmd()
        .args([
            "upgrade",
            "web",
            "catalog/nginx",
            "--set",
            "replicas=3",
            "--force-conflicts",
        ])
        .assert()
        .success();
    let forced = c.requests("PATCH", "/deployments/web-nginx");
    assert_eq!(
        forced
            .last()
            .unwrap()
            .query
            .get("force")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(c.deployment("web-nginx").unwrap()["spec"]["replicas"], 3);
    assert_eq!(
        statuses(&c.history("web")),
        [(1, "superseded"), (2, "failed"), (3, "deployed")]
    );
}

#[test]
fn server_errors_are_retried_then_reported_and_the_revision_fails() {
    let c = Cluster::new();
    c.cmd()
        .args(["install", "web", "catalog/nginx", "--create-service-map"])
        .assert()
        .success();
    // One 500: retried, the upgrade goes through.
    c.fake.fault(Fault {
        method: Some("PATCH".into()),
        path_contains: "/deployments/web-nginx".into(),
        status: 500,
        times: 1,
        delay_ms: 0,
    });
    c.fake.clear_requests();
    c.cmd()
        .args(["upgrade", "web", "catalog/nginx", "--set", "replicas=3"])
        .assert()
        .success();
    assert_eq!(c.requests("PATCH", "/deployments/web-nginx").len(), 2);
    // A 500 that persists: the error names the request and the code, nothing is left pending.
    c.fake.fault(Fault {
        method: Some("PATCH".into()),
        path_contains: "/deployments/web-nginx".into(),
        status: 500,
        times: 10,
        delay_ms: 0,
    });
    c.fake.clear_requests();
    c.cmd()
        .args(["upgrade", "web", "catalog/nginx", "--set", "replicas=4"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: failed to apply Deployment.apps/shop/web-nginx",
        ))
        .stderr(predicate::str::contains("500"))
        .stderr(predicate::str::contains("hint:"));
    assert_eq!(c.requests("PATCH", "/deployments/web-nginx").len(), 3);
    assert_eq!(
        statuses(&c.history("web")),
        [(1, "superseded"), (2, "deployed"), (3, "failed")]
    );
}

#[test]
fn a_cluster_that_does_not_answer_in_time_is_an_error_not_a_hang() {
    let c = Cluster::new();
    c.cmd()
        .args(["service-map", "create", "shop"])
        .assert()
        .success();
    c.fake.fault(Fault {
        method: Some("GET".into()),
        path_contains: "/leases/".into(),
        status: 0,
        times: 3,
        delay_ms: 3_000,
    });
    let start = Instant::now();
    c.cmd()
        .env("COCKTAIL_PKG_KUBE_TIMEOUT", "1")
        .args(["install", "web", "catalog/nginx"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no answer from the cluster at http://127.0.0.1:",
        ))
        .stderr(predicate::str::contains("kubectl cluster-info"));
    // Three attempts of one second each, plus backoff; far from the 3 s x 3 of the delays.
    assert!(start.elapsed() < Duration::from_secs(8));
    assert!(c.record_secrets().is_empty());
    // Another context of the kubeconfig: a server that refuses connections.
    c.cmd()
        .args(["list", "--kube-context", "other"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no answer from the cluster at http://127.0.0.1:9",
        ));
}

#[test]
fn a_held_lease_fails_fast_and_an_expired_one_is_taken_over() {
    let c = Cluster::new();
    c.cmd()
        .args(["install", "web", "catalog/nginx", "--create-service-map"])
        .assert()
        .success();
    let now = cocktail_pkg::time::format_rfc3339(cocktail_pkg::time::now());
    let lease = |renew: &str| {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "cocktail-pkg.web", "namespace": "shop"},
               "spec": {"holderIdentity": "ci@runner/42", "leaseDurationSeconds": 300,
                        "acquireTime": renew, "renewTime": renew}})
    };
    c.fake.insert(lease(&now));
    c.cmd()
        .args(["upgrade", "web", "catalog/nginx"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "error: operation in progress on release `web` by ci@runner/42 since {now}"
        )));
    // The holder was killed long ago: its lease has expired.
    c.fake.insert(lease("2020-01-01T00:00:00.000000Z"));
    c.cmd()
        .args(["upgrade", "web", "catalog/nginx", "--set", "replicas=3"])
        .assert()
        .success();
    let replaced = c.requests("PUT", "/leases/cocktail-pkg.web");
    assert_eq!(replaced.len(), 1);
    let body = replaced[0].body.as_ref().unwrap();
    assert_eq!(body["spec"]["leaseTransitions"], 1);
    assert!(
        body["metadata"]["resourceVersion"].is_string(),
        "compare-and-swap: {body}"
    );
}

#[test]
fn wait_follows_readiness_and_atomic_rolls_back() {
    let c = Cluster::new();
    c.cmd()
        .args([
            "install",
            "web",
            "catalog/nginx",
            "--create-service-map",
            "--wait",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("Waiting 3/3 ready"));
    c.cmd()
        .args(["status", "web"])
        .assert()
        .success()
        .stdout(predicate::str::contains("LIVE STATE:  deployed"))
        .stdout(predicate::str::contains("2/2 ready"))
        .stdout(predicate::str::contains("1 endpoint"));
    // Pods never get ready: --wait times out, the revision fails, status says so.
    c.fake.set_readiness(Readiness::Never);
    c.cmd()
        .args([
            "upgrade",
            "web",
            "catalog/nginx",
            "--set",
            "replicas=3",
            "--wait",
            "--timeout",
            "1s",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: timed out after 1s waiting for",
        ))
        .stderr(predicate::str::contains("Deployment/web-nginx (0/3 ready)"))
        .stderr(predicate::str::contains("--atomic"));
    let out = c
        .cmd()
        .args(["status", "web", "-o", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["release"]["status"], "failed");
    assert_ne!(v["overall"], "deployed");
    // With --atomic the failed upgrade is undone: a new revision with the last good objects.
    c.cmd()
        .args([
            "upgrade",
            "web",
            "catalog/nginx",
            "--set",
            "replicas=5",
            "--atomic",
            "--timeout",
            "1s",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: the upgrade failed; --atomic rolled back to revision 1 (now revision 4)",
        ));
    assert_eq!(c.deployment("web-nginx").unwrap()["spec"]["replicas"], 2);
    assert_eq!(
        statuses(&c.history("web")),
        [
            (1, "superseded"),
            (2, "failed"),
            (3, "failed"),
            (4, "deployed")
        ]
    );
}

#[test]
fn set_image_and_restart_on_the_cluster() {
    let c = Cluster::new();
    c.cmd()
        .args(["install", "web", "catalog/nginx", "--create-service-map"])
        .assert()
        .success();
    let packaged = c.deployment("web-nginx").unwrap()["spec"]["template"]["spec"]["containers"][0]
        ["image"]
        .clone();
    c.cmd()
        .args([
            "set-image",
            "web",
            "deployment/web-nginx=nginx:1.27.9",
            "--wait",
        ])
        .assert()
        .success();
    let dep = c.deployment("web-nginx").unwrap();
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27.9"
    );
    c.cmd().args(["restart", "web"]).assert().success();
    let restart = c.requests("PATCH", "/deployments/web-nginx");
    let last = restart.last().unwrap();
    assert_eq!(
        last.query.get("fieldManager").map(String::as_str),
        Some("cocktail-pkg-restart")
    );
    assert_eq!(last.query.get("force").map(String::as_str), Some("true"));
    let dep = c.deployment("web-nginx").unwrap();
    assert!(
        dep["spec"]["template"]["metadata"]["annotations"]["cocktail.io/restartedAt"].is_string()
    );
    // The next upgrade by cocktail-pkg leaves the restart stamp alone (another manager owns it).
    c.cmd()
        .args(["upgrade", "web", "catalog/nginx", "--set", "replicas=3"])
        .assert()
        .success();
    let dep = c.deployment("web-nginx").unwrap();
    assert!(
        dep["spec"]["template"]["metadata"]["annotations"]["cocktail.io/restartedAt"].is_string()
    );
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        packaged
    );
}

#[test]
fn service_maps_on_the_cluster() {
    let c = Cluster::new();
    c.cmd()
        .args([
            "service-map",
            "create",
            "shop",
            "--display-name",
            "Shop",
            "--description",
            "The web shop",
        ])
        .assert()
        .success();
    c.cmd()
        .args([
            "install",
            "web",
            "catalog/nginx",
            "--set",
            "service.type=LoadBalancer",
        ])
        .assert()
        .success();
    c.cmd()
        .args(["service-map", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("shop").and(predicate::str::contains("Shop")))
        .stdout(predicate::str::contains("default").not());
    c.cmd()
        .args(["service-map", "show", "shop"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"(?m)^  web\s+nginx-1\.0\.0\s+revision 1\s+deployed$")
                .unwrap(),
        )
        .stdout(predicate::str::contains("Deployment/web-nginx"))
        .stdout(predicate::str::contains("LoadBalancer"))
        .stdout(predicate::str::contains("at 203.0.113.10"))
        .stdout(predicate::str::contains("ConfigMap/web-nginx"))
        .stdout(predicate::str::contains("cocktail.release").not());
    c.cmd()
        .args(["service-map", "delete", "default"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not a service map"));
    c.cmd()
        .args(["service-map", "delete", "shop"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "still has 1 installed release(s): web",
        ));
    c.cmd()
        .args(["service-map", "delete", "shop", "--force"])
        .assert()
        .success();
    assert!(c.fake.object("v1", "Namespace", None, "shop").is_none());
    assert!(c.deployment("web-nginx").is_none());
}

#[test]
fn records_over_900_kib_are_split_into_chunks() {
    let c = Cluster::new();
    // A ConfigMap of incompressible data just under the 1 MiB object limit.
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = vec![0u8; 700 * 1024];
    getrandom_fill(&mut bytes);
    let blob = base64_encode(&bytes);
    let pkg = write_blob_package(tmp.path(), &blob);
    c.cmd()
        .args([
            "install",
            "big",
            pkg.to_str().unwrap(),
            "--create-service-map",
        ])
        .assert()
        .success();
    let secrets = c.record_secrets();
    assert_eq!(secrets.len(), 2, "two chunks");
    let names: Vec<&str> = secrets
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"cocktail.release.v1.big.v1.part1"),
        "{names:?}"
    );
    c.cmd()
        .args(["get", "manifest", "big"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&blob[..64]));
    c.cmd().args(["uninstall", "big"]).assert().success();
    assert!(c.record_secrets().is_empty());
}

fn getrandom_fill(buf: &mut [u8]) {
    // xorshift: incompressible enough for gzip, and deterministic.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = (x >> 24) as u8;
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn write_blob_package(dir: &Path, blob: &str) -> PathBuf {
    let pkg = dir.join("big");
    std::fs::create_dir_all(pkg.join("templates")).unwrap();
    std::fs::write(
        pkg.join("package.yaml"),
        "apiVersion: cocktail-pkg/v1\nname: big\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(pkg.join("values.yaml"), "{}\n").unwrap();
    std::fs::write(
        pkg.join("templates/blob.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: blob\ndata:\n  blob: {blob}\n"
        ),
    )
    .unwrap();
    pkg
}

#[test]
fn a_process_killed_mid_upgrade_on_the_cluster_is_recovered() {
    let c = Cluster::new();
    c.cmd()
        .args(["install", "web", "catalog/nginx", "--create-service-map"])
        .assert()
        .success();
    // The Deployment's apply hangs: the process is killed while it waits for the answer.
    c.fake.fault(Fault {
        method: Some("PATCH".into()),
        path_contains: "/deployments/web-nginx".into(),
        status: 0,
        times: 1,
        delay_ms: 20_000,
    });
    c.fake.clear_requests();
    let mut victim = std::process::Command::new(crate::support::bin())
        .current_dir(crate::support::root())
        .env("KUBECONFIG", &c.kubeconfig)
        .env_remove("COCKTAIL_PKG_TARGET")
        .env("COCKTAIL_PKG_LEASE_TTL", "1")
        .args(["upgrade", "web", "catalog/nginx", "--set", "replicas=3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while c.requests("PATCH", "/deployments/web-nginx").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the upgrade never reached the Deployment"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    victim.kill().unwrap();
    victim.wait().unwrap();
    assert_eq!(
        statuses(&c.history("web")),
        [(1, "deployed"), (2, "pending-upgrade")]
    );
    // A second operation fails fast while the lease lives, then takes over once it expired.
    let start = Instant::now();
    loop {
        let out = c
            .cmd()
            .args(["upgrade", "web", "catalog/nginx", "--set", "replicas=4"])
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("operation in progress on release `web`"),
            "{err}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the lease never expired"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let h = c.history("web");
    assert_eq!(
        statuses(&h),
        [(1, "superseded"), (2, "failed"), (3, "deployed")]
    );
    assert!(h[1].2.starts_with("interrupted"), "{}", h[1].2);
    assert_eq!(c.deployment("web-nginx").unwrap()["spec"]["replicas"], 4);
}

/// Issue 10, defect 5: a 409 when creating the Lease (another process won the race) reads the
/// Lease again and says who holds it, never an empty holder "since 1970".
#[test]
fn a_lease_conflict_names_the_winner_not_an_empty_holder() {
    let c = Cluster::new();
    c.cmd()
        .args(["service-map", "create", "shop"])
        .assert()
        .success();
    c.fake.fault(Fault {
        method: Some("POST".into()),
        path_contains: "/leases".into(),
        status: 409,
        times: 1,
        delay_ms: 0,
    });
    c.cmd()
        .args(["install", "web", "catalog/nginx"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "operation in progress on release `web` by another process that took and gave back the lease at the same moment (try again)",
        ))
        .stderr(predicate::str::contains("1970").not());
    // The next attempt goes through.
    c.cmd()
        .args(["install", "web", "catalog/nginx"])
        .assert()
        .success();
}
