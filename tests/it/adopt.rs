//! `adopt`: releases Helm installed, taken over on the fake API server. Helm's records are
//! built the way Helm's storage drivers write them (`cocktail_pkg::helm_release`: JSON, gzip,
//! base64; Secrets of type `helm.sh/release.v1` or ConfigMaps, labels `owner=helm`, `name`,
//! `status`, `version`), their objects owned by the field manager `helm` as Helm 4 (`Apply`)
//! or Helm 3 (`Update`) leaves them; and, with `HELM` set, by the real helm itself.

use std::io::{Read, Write};

use cocktail_pkg::helm_release::{
    self, Chart, ChartFile, Driver, HelmRelease, Hook, HookExecution, Info, Metadata,
};
use predicates::prelude::*;
use serde_json::{Value, json};

use crate::support::{FakeCluster, cmd, root};

/// The fake cluster ([`FakeCluster`]) with this file's helpers.
struct Cluster(FakeCluster);

impl std::ops::Deref for Cluster {
    type Target = FakeCluster;
    fn deref(&self) -> &FakeCluster {
        &self.0
    }
}

impl Cluster {
    /// A fake cluster with the namespace `shop` (created by kubectl), the kube context's
    /// namespace.
    fn new() -> Self {
        let c = FakeCluster::bare();
        c.fake.apply_as(
            "kubectl",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        );
        Self(c)
    }

    /// Stores a Helm record as Helm's driver creates it.
    fn store(&self, driver: Driver, release: &HelmRelease) {
        let object = helm_release::record_object(driver, release, 1_767_225_600).unwrap();
        self.fake.insert(object);
    }

    fn get(&self, api_version: &str, kind: &str, name: &str) -> Value {
        self.fake
            .object(api_version, kind, Some("shop"), name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    fn cocktail_records(&self) -> Vec<Value> {
        self.fake
            .objects()
            .into_iter()
            .filter(|o| o["type"] == "cocktail.io/release.v1")
            .collect()
    }

    /// Sends one request to the fake over HTTP/1.1 (as a client that is not server-side apply,
    /// like Helm 3, would): the status code and body.
    fn http(&self, method: &str, path: &str, content_type: &str, body: &Value) -> (u16, Value) {
        let addr = self.fake.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let body = body.to_string();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            fake_kube::TOKEN,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        let code: u16 = response[9..12].parse().unwrap();
        let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        // The body may be chunked: take the JSON between the first `{` and the last `}`.
        let json = match (body.find('{'), body.rfind('}')) {
            (Some(a), Some(b)) => serde_json::from_str(&body[a..=b]).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        (code, json)
    }
}

/// The objects of revision `rev` of a Helm release `name` as Helm's manifest holds them (no
/// namespace): a ConfigMap, a Deployment (the same pod template in every revision) and a
/// Service.
fn objects(name: &str, rev: u64) -> Vec<(&'static str, Value)> {
    vec![
        (
            "test/templates/configmap.yaml",
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": format!("{name}-config"), "labels": {"app.kubernetes.io/instance": name}},
                   "data": {"revision": rev.to_string()}}),
        ),
        (
            "test/templates/service.yaml",
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name},
                   "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80}]}}),
        ),
        (
            "test/templates/deployment.yaml",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "labels": {"app.kubernetes.io/instance": name}},
                   "spec": {"replicas": rev % 4 + 1,
                            "selector": {"matchLabels": {"app": name}},
                            "template": {"metadata": {"labels": {"app": name}},
                                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27.3"}]}}}}),
        ),
    ]
}

fn manifest(name: &str, rev: u64) -> String {
    objects(name, rev)
        .iter()
        .map(|(source, o)| {
            format!(
                "---\n# Source: {source}\n{}",
                serde_json::to_string_pretty(o).unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn helm_release(name: &str, rev: u64, status: &str) -> HelmRelease {
    HelmRelease {
        name: name.into(),
        namespace: "shop".into(),
        version: rev as i64,
        info: Some(Info {
            first_deployed: Some("2026-01-01T00:00:00.123456789+09:00".into()),
            last_deployed: Some(format!("2026-01-{:02}T10:00:00.5Z", rev)),
            deleted: None,
            description: if rev == 1 {
                "Install complete".into()
            } else {
                "Upgrade complete".into()
            },
            status: status.into(),
            notes: format!("{name} revision {rev}"),
        }),
        chart: Some(Chart {
            metadata: Some(Metadata {
                name: "test".into(),
                version: format!("1.{rev}.0"),
                app_version: "1.27.3".into(),
                api_version: "v2".into(),
                other: Default::default(),
            }),
            values: Some(json!({"replicas": 1, "image": {"tag": "1.27.3"}})),
            templates: vec![],
            files: vec![ChartFile {
                name: "crds/widgets.yaml".into(),
                data: base64_of(
                    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
                ),
            }],
        }),
        config: Some(json!({"replicas": rev % 4 + 1})),
        manifest: manifest(name, rev),
        hooks: vec![Hook {
            name: format!("{name}-test"),
            kind: "Pod".into(),
            path: "test/templates/tests/test.yaml".into(),
            manifest: format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}-test\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers: []\n"
            ),
            events: vec!["test".into()],
            last_run: Some(HookExecution {
                started_at: Some("2026-01-02T00:00:00Z".into()),
                completed_at: Some("2026-01-02T00:00:05Z".into()),
                phase: "Succeeded".into(),
            }),
            weight: 0,
            delete_policies: vec!["before-hook-creation".into()],
        }],
        apply_method: "ssa".into(),
    }
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Creates revision `rev`'s objects as Helm 4 does: server-side apply as `helm`.
fn deploy_as_helm4(c: &Cluster, name: &str, rev: u64) {
    for (_, mut o) in objects(name, rev) {
        o["metadata"]["namespace"] = json!("shop");
        c.fake.apply_as("helm", o);
    }
}

/// Creates revision `rev`'s objects as Helm 3 does: a create (an `Update` operation) with the
/// field manager `helm`.
fn deploy_as_helm3(c: &Cluster, name: &str, rev: u64) {
    for (_, o) in objects(name, rev) {
        let plural = match o["kind"].as_str().unwrap() {
            "ConfigMap" => "/api/v1/namespaces/shop/configmaps",
            "Service" => "/api/v1/namespaces/shop/services",
            _ => "/apis/apps/v1/namespaces/shop/deployments",
        };
        let (code, body) = c.http(
            "POST",
            &format!("{plural}?fieldManager=helm"),
            "application/json",
            &o,
        );
        assert_eq!(code, 201, "{body}");
    }
}

fn managers(o: &Value) -> Vec<(String, String)> {
    o["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap().to_string(),
                e["operation"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What adoption must not change: identity, generation and the pod template.
fn identity(o: &Value) -> (Value, Value, Value) {
    (
        o["metadata"]["uid"].clone(),
        o["metadata"]["generation"].clone(),
        o["spec"]["template"].clone(),
    )
}

fn adopted_label(o: &Value) -> Option<&str> {
    o["metadata"]["labels"]["cocktail.io/adopted-by"].as_str()
}

fn helm_records(c: &Cluster, kind: &str) -> Vec<Value> {
    c.fake
        .objects()
        .into_iter()
        .filter(|o| o["kind"] == kind && o["metadata"]["labels"]["owner"] == "helm")
        .collect()
}

#[test]
fn a_release_of_ten_revisions_is_adopted_and_rolls_back_to_an_imported_revision() {
    let c = Cluster::new();
    for rev in 1..=10 {
        let status = if rev == 10 { "deployed" } else { "superseded" };
        c.store(Driver::Secret, &helm_release("web", rev, status));
    }
    deploy_as_helm4(&c, "web", 10);
    let before = identity(&c.get("apps/v1", "Deployment", "web"));
    assert!(
        managers(&c.get("apps/v1", "Deployment", "web")).contains(&("helm".into(), "Apply".into()))
    );

    c.cmd()
        .args(["adopt", "web"])
        .assert()
        .success()
        .stdout(predicate::str::contains("web").and(predicate::str::contains("test-1.10.0")))
        .stderr(predicate::str::contains("Adopted"));

    // History: every revision, the newest deployed and marked as adopted.
    let h = c.history("web");
    assert_eq!(h.len(), 10, "{h:?}");
    assert!(h[..9].iter().all(|(_, s, _)| s == "superseded"), "{h:?}");
    assert_eq!(h[9].1, "deployed");
    assert_eq!(h[9].2, "Upgrade complete (adopted from Helm)");
    // Ownership moved; nothing was recreated or restarted.
    for (api, kind, name) in [
        ("apps/v1", "Deployment", "web"),
        ("v1", "Service", "web"),
        ("v1", "ConfigMap", "web-config"),
    ] {
        let o = c.get(api, kind, name);
        let m = managers(&o);
        assert!(!m.iter().any(|(n, _)| n == "helm"), "{kind}: {m:?}");
        assert!(
            m.contains(&("cocktail-pkg".into(), "Apply".into())),
            "{kind}: {m:?}"
        );
    }
    assert_eq!(identity(&c.get("apps/v1", "Deployment", "web")), before);
    // Helm's records stay, marked.
    let records = helm_records(&c, "Secret");
    assert_eq!(records.len(), 10);
    for r in &records {
        assert_eq!(adopted_label(r), Some("cocktail-pkg"), "{}", r["metadata"]);
        assert!(r["metadata"]["annotations"]["cocktail.io/adopted-at"].is_string());
        assert_eq!(r["type"], "helm.sh/release.v1");
    }
    // What the revisions hold.
    let out = c
        .cmd()
        .args(["get", "values", "web", "--revision", "3", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, json!({"replicas": 4}));
    let out = c.cmd().args(["get", "manifest", "web"]).output().unwrap();
    let manifest = String::from_utf8_lossy(&out.stdout);
    assert!(
        manifest.contains("# Source: test/templates/deployment.yaml"),
        "{manifest}"
    );
    assert!(manifest.contains("namespace: shop"), "{manifest}");

    // Rollback to an imported revision applies its stored manifest.
    c.cmd().args(["rollback", "web", "3"]).assert().success();
    let dep = c.get("apps/v1", "Deployment", "web");
    assert_eq!(dep["spec"]["replicas"], 4);
    assert_eq!(dep["metadata"]["uid"], before.0);
    assert_eq!(dep["spec"]["template"], before.2);
    assert_eq!(
        c.get("v1", "ConfigMap", "web-config")["data"]["revision"],
        "3"
    );
    let h = c.history("web");
    let last = h.last().unwrap();
    assert_eq!(
        (last.0, last.1.as_str(), last.2.as_str()),
        (11, "deployed", "Rollback to 3")
    );
}

#[test]
fn helm3_update_owners_and_the_configmap_driver() {
    let c = Cluster::new();
    c.store(Driver::ConfigMap, &helm_release("api", 1, "superseded"));
    c.store(Driver::ConfigMap, &helm_release("api", 2, "deployed"));
    deploy_as_helm3(&c, "api", 2);
    let dep = c.get("apps/v1", "Deployment", "api");
    assert!(
        managers(&dep).contains(&("helm".into(), "Update".into())),
        "{:?}",
        managers(&dep)
    );
    let before = identity(&dep);

    c.cmd()
        .args(["adopt", "api", "-o", "json"])
        .assert()
        .success();

    let dep = c.get("apps/v1", "Deployment", "api");
    assert_eq!(identity(&dep), before);
    let m = managers(&dep);
    assert!(!m.iter().any(|(n, _)| n == "helm"), "{m:?}");
    assert!(
        m.contains(&("cocktail-pkg".into(), "Apply".into())),
        "{m:?}"
    );
    assert_eq!(
        c.history("api")
            .iter()
            .map(|(r, s, _)| (*r, s.clone()))
            .collect::<Vec<_>>(),
        vec![(1, "superseded".into()), (2, "deployed".into())]
    );
    for r in helm_records(&c, "ConfigMap") {
        assert_eq!(adopted_label(&r), Some("cocktail-pkg"));
    }
}

#[test]
fn a_pending_upgrade_is_refused_with_a_hint_and_nothing_changes() {
    let c = Cluster::new();
    c.store(Driver::Secret, &helm_release("web", 1, "deployed"));
    c.store(Driver::Secret, &helm_release("web", 2, "pending-upgrade"));
    deploy_as_helm4(&c, "web", 1);
    let before = c.fake.objects();
    c.cmd()
        .args(["adopt", "web"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "error: Helm release `web` is `pending-upgrade` (revision 2)",
        ))
        .stderr(predicate::str::contains("helm rollback web -n shop"));
    assert_eq!(c.fake.objects(), before);
    assert!(c.cocktail_records().is_empty());
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let c = Cluster::new();
    c.store(Driver::Secret, &helm_release("web", 1, "superseded"));
    c.store(Driver::Secret, &helm_release("web", 2, "deployed"));
    deploy_as_helm4(&c, "web", 2);
    let before = c.fake.objects();
    c.cmd()
        .args(["adopt", "web", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Revisions to import:"))
        .stdout(predicate::str::contains(
            "Upgrade complete (adopted from Helm)",
        ))
        .stdout(predicate::str::contains("Deployment.apps/shop/web"))
        .stdout(predicate::str::contains("helm (Apply)"))
        .stdout(predicate::str::contains("Secret/sh.helm.release.v1.web.v2"));
    let out = c
        .cmd()
        .args(["adopt", "web", "--dry-run", "-o", "json"])
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["dryRun"], true);
    assert_eq!(
        plan["releases"][0]["revisions"].as_array().unwrap().len(),
        2
    );
    assert_eq!(plan["releases"][0]["objects"].as_array().unwrap().len(), 3);
    assert_eq!(c.fake.objects(), before);
}

#[test]
fn adopt_all_takes_every_release_and_a_second_adopt_is_refused() {
    let c = Cluster::new();
    c.store(Driver::Secret, &helm_release("web", 1, "deployed"));
    c.store(Driver::Secret, &helm_release("api", 1, "superseded"));
    c.store(Driver::Secret, &helm_release("api", 2, "deployed"));
    deploy_as_helm4(&c, "web", 1);
    deploy_as_helm4(&c, "api", 2);
    let out = c
        .cmd()
        .args(["adopt", "--all", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["release"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "web"]);
    assert_eq!(c.history("api").len(), 2);
    assert_eq!(c.history("web").len(), 1);

    c.cmd()
        .args(["adopt", "web"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "Helm release `web` was already adopted",
        ))
        .stderr(predicate::str::contains("cocktail.io/adopted-by-"));
    c.cmd()
        .args(["adopt", "--all"])
        .assert()
        .success()
        .stderr(predicate::str::contains("Skipped"));
    assert_eq!(c.history("web").len(), 1);
}

#[test]
fn a_corrupt_record_names_its_secret_and_nothing_changes() {
    let c = Cluster::new();
    c.store(Driver::Secret, &helm_release("web", 1, "superseded"));
    let mut broken =
        helm_release::record_object(Driver::Secret, &helm_release("web", 2, "deployed"), 0)
            .unwrap();
    broken["data"]["release"] = json!(base64_of("H4sIAAAA-not-gzip"));
    c.fake.insert(broken);
    deploy_as_helm4(&c, "web", 2);
    let before = c.fake.objects();
    c.cmd()
        .args(["adopt", "web"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "error: failed to read Helm's release record Secret sh.helm.release.v1.web.v2",
        ))
        .stderr(predicate::str::contains("hint:"));
    assert_eq!(c.fake.objects(), before);
}

#[test]
fn adoption_needs_a_cluster_and_a_release() {
    let tmp = tempfile::tempdir().unwrap();
    cmd()
        .args(["adopt", "web", "-n", "shop", "--target"])
        .arg(format!("dir:{}", tmp.path().display()))
        .assert()
        .failure()
        .stderr(predicate::str::contains("holds no Helm releases"));
    let c = Cluster::new();
    c.cmd()
        .args(["adopt", "nothing"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "no Helm release `nothing` in namespace `shop`",
        ));
}

/// After adoption the release upgrades like any chart release, from the chart `--chart` named.
#[test]
fn an_adopted_release_upgrades_from_its_chart() {
    let c = Cluster::new();
    let chart = root().join("tests/fixtures/charts/basic");
    c.store(Driver::Secret, &helm_release("web", 1, "deployed"));
    deploy_as_helm4(&c, "web", 1);
    c.cmd()
        .args(["adopt", "web", "--chart"])
        .arg(&chart)
        .assert()
        .success();
    c.cmd()
        .args(["upgrade", "web"])
        .arg(&chart)
        .assert()
        .success();
    let h = c.history("web");
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[1].1, "deployed");
}

/// Genuine Helm records: the real helm installs and upgrades a fixture chart on the fake API
/// server, then cocktail-pkg adopts what it wrote.
#[test]
fn what_the_real_helm_wrote_is_adopted() {
    let Some(helm) = std::env::var_os("HELM").filter(|h| !h.is_empty()) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "HELM must be set in CI"
        );
        eprintln!("HELM is not set: adoption of the real helm's records is skipped (CI sets it)");
        return;
    };
    let c = Cluster::new();
    let scratch = tempfile::tempdir().unwrap();
    let helm = |args: &[&str]| {
        let out = std::process::Command::new(&helm)
            .args(args)
            .current_dir(root())
            .env("KUBECONFIG", &c.kubeconfig)
            .env("HELM_CACHE_HOME", scratch.path().join("cache"))
            .env("HELM_CONFIG_HOME", scratch.path().join("config"))
            .env("HELM_DATA_HOME", scratch.path().join("data"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "helm {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let chart = "tests/fixtures/charts/basic";
    // The fake serves no OpenAPI documents (`/openapi/v2`, `/openapi/v3`), which helm's client
    // validation downloads: the server validates what it stores instead.
    helm(&[
        "install",
        "web",
        chart,
        "-n",
        "shop",
        "--disable-openapi-validation",
    ]);
    helm(&[
        "upgrade",
        "web",
        chart,
        "-n",
        "shop",
        "--set",
        "replicaCount=2",
        "--disable-openapi-validation",
    ]);
    let deployments: Vec<Value> = c
        .fake
        .objects()
        .into_iter()
        .filter(|o| o["kind"] == "Deployment")
        .collect();
    assert_eq!(deployments.len(), 1);
    let name = deployments[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let before = identity(&deployments[0]);
    assert!(
        managers(&deployments[0]).iter().any(|(m, _)| m == "helm"),
        "{:?}",
        managers(&deployments[0])
    );

    c.cmd().args(["adopt", "web"]).assert().success();

    let h = c.history("web");
    assert_eq!(
        h.iter()
            .map(|(r, s, _)| (*r, s.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "superseded"), (2, "deployed")],
        "{h:?}"
    );
    let dep = c.get("apps/v1", "Deployment", &name);
    assert_eq!(identity(&dep), before);
    let m = managers(&dep);
    assert!(!m.iter().any(|(n, _)| n == "helm"), "{m:?}");
    assert!(
        m.contains(&("cocktail-pkg".into(), "Apply".into())),
        "{m:?}"
    );
    let out = c
        .cmd()
        .args(["get", "values", "web", "-o", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, json!({"replicaCount": 2}));
    for r in helm_records(&c, "Secret") {
        assert_eq!(adopted_label(&r), Some("cocktail-pkg"));
    }
}
