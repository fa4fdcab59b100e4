//! Day-2 operations the lead owns, through the CLI against the fake API server: `scale` (an
//! override later upgrades keep while values render the same replicas; HPA-owned replicas
//! refused, `--hpa-min/--hpa-max` instead) and drift (fields another field manager changed:
//! shown by `status` and `diff`, restored by `upgrade --correct-drift`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{FakeCluster, write_files};

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
    fn replicas(&self, kind: &str, name: &str) -> Value {
        let api = if kind == "HorizontalPodAutoscaler" {
            "autoscaling/v2"
        } else {
            "apps/v1"
        };
        let o = self.fake.object(api, kind, Some("shop"), name).unwrap();
        if kind == "HorizontalPodAutoscaler" {
            json!([o["spec"]["minReplicas"], o["spec"]["maxReplicas"]])
        } else {
            o["spec"]["replicas"].clone()
        }
    }

    fn chart(&self) -> String {
        let dir = self.tmp.path().join("web");
        let files: BTreeMap<String, String> = [
            ("Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n"),
            ("values.yaml", "replicas: 2\nhpa: false\nannotation: a\n"),
            (
                "templates/deployment.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    note: {{ .Values.annotation }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 1\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n      containers: [{name: db, image: postgres:17}]\n",
            ),
            (
                "templates/hpa.yaml",
                "{{- if .Values.hpa }}\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 1\n  maxReplicas: 4\n{{- end }}\n",
            ),
        ]
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
        write_files(&dir, &files);
        dir.to_str().unwrap().to_string()
    }
}

#[test]
fn scale_is_kept_by_upgrades_until_values_change_the_replicas() {
    let c = Cluster::new();
    let chart = c.chart();
    c.ok(&["install", "web", &chart]);
    c.ok(&["scale", "web", "web=5", "statefulset/db=3"]);
    assert_eq!(c.replicas("Deployment", "web"), 5);
    assert_eq!(c.replicas("StatefulSet", "db"), 3);
    let history = c.ok(&["history", "web"]);
    assert!(
        history.contains("Scale Deployment/web=5, StatefulSet/db=3"),
        "{history}"
    );
    // An upgrade that leaves the replicas' values alone keeps the scale (here: nothing changes).
    let out = c.ok(&["upgrade", "web", &chart, "--reuse-values"]);
    assert!(out.is_empty(), "{out}");
    c.ok(&["upgrade", "web", &chart, "--set", "annotation=b"]);
    assert_eq!(c.replicas("Deployment", "web"), 5);
    // Values that render other replicas win, and the override is gone.
    c.ok(&["upgrade", "web", &chart, "--set", "replicas=3"]);
    assert_eq!(c.replicas("Deployment", "web"), 3);
    assert_eq!(c.replicas("StatefulSet", "db"), 3, "db's override holds");
    c.ok(&["upgrade", "web", &chart, "--set", "replicas=2"]);
    assert_eq!(c.replicas("Deployment", "web"), 2);
    // Rolling back to the scaled revision brings its replicas back.
    c.ok(&["rollback", "web", "2"]);
    assert_eq!(c.replicas("Deployment", "web"), 5);
    // Bad input.
    let (code, _, err) = c.run(&["scale", "web", "web=many"]);
    assert_eq!(code, 1);
    assert!(err.contains("whole number"), "{err}");
    let (code, _, err) = c.run(&["scale", "web", "nope=1"]);
    assert_eq!(code, 1);
    assert!(err.contains("no workload `nope`"), "{err}");
}

#[test]
fn replicas_an_hpa_owns_are_refused_and_its_bounds_change_instead() {
    let c = Cluster::new();
    let chart = c.chart();
    c.ok(&["install", "web", &chart, "--set", "hpa=true"]);
    let (code, _, err) = c.run(&["scale", "web", "web=5"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("owned by the HorizontalPodAutoscaler `web`"),
        "{err}"
    );
    assert!(err.contains("--hpa-min"), "{err}");
    c.ok(&["scale", "web", "web", "--hpa-min", "2", "--hpa-max", "8"]);
    assert_eq!(c.replicas("HorizontalPodAutoscaler", "web"), json!([2, 8]));
    // Kept by an upgrade with the same values.
    c.ok(&[
        "upgrade",
        "web",
        &chart,
        "--reuse-values",
        "--set",
        "annotation=c",
    ]);
    assert_eq!(c.replicas("HorizontalPodAutoscaler", "web"), json!([2, 8]));
    let (code, _, err) = c.run(&["scale", "web", "web", "--hpa-min", "9", "--hpa-max", "8"]);
    assert_eq!(code, 1);
    assert!(err.contains("above --hpa-max"), "{err}");
}

/// `kubectl edit`: a merge patch by the field manager `kubectl-edit` (an Update).
fn kubectl_edit(c: &Cluster, path: &str, patch: Value) {
    let resp = cocktail_pkg::repo::http::client()
        .unwrap()
        .patch(format!("{}{path}?fieldManager=kubectl-edit", c.fake.url))
        .header("content-type", "application/merge-patch+json")
        .body(patch.to_string())
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().unwrap());
}

#[test]
fn drift_is_shown_by_diff_and_corrected_by_upgrade() {
    let c = Cluster::new();
    let chart = c.chart();
    c.ok(&["install", "web", &chart]);
    kubectl_edit(
        &c,
        "/apis/apps/v1/namespaces/shop/deployments/web",
        json!({"spec": {"replicas": 7}, "metadata": {"annotations": {"note": "edited"}}}),
    );
    // status marks it.
    let status = c.ok(&["status", "web"]);
    assert!(status.contains("(drift)"), "{status}");
    assert!(
        status
            .contains("Deployment/web .spec.replicas: release 2, live 7 (changed by kubectl-edit)"),
        "{status}"
    );
    // diff shows the drift with the live values instead of failing on the conflict.
    let (code, out, err) = c.run(&["diff", "upgrade", "web", &chart, "--set", "annotation=z"]);
    assert_eq!(code, 2, "{err}\n{out}");
    assert!(out.contains("Drift (changed outside cocktail-pkg"), "{out}");
    assert!(
        out.contains("Deployment/web .spec.replicas: release 2, live 7 (changed by kubectl-edit)"),
        "{out}"
    );
    assert!(
        out.contains(".metadata.annotations.note: release \"a\", live \"edited\""),
        "{out}"
    );
    assert!(out.contains("stops at the conflict"), "{out}");
    // Without changes of its own, diff still reports the drift (exit 2).
    let (code, out, _) = c.run(&["diff", "upgrade", "web", &chart]);
    assert_eq!(code, 2, "{out}");
    // A plain upgrade that changes the object stops at the conflict, and says how to go on.
    let (code, _, err) = c.run(&["upgrade", "web", &chart, "--set", "annotation=z"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("conflict"), "{err}");
    // --correct-drift takes the fields back, even with nothing else to change.
    c.ok(&["upgrade", "web", &chart, "--correct-drift"]);
    assert_eq!(c.replicas("Deployment", "web"), 2);
    let history = c.ok(&["history", "web"]);
    assert!(
        history.contains("drift corrected: Deployment/web"),
        "{history}"
    );
    let (code, out, _) = c.run(&["diff", "upgrade", "web", &chart]);
    assert_eq!(code, 0, "no drift left: {out}");
}
