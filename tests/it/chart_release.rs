//! Helm charts through the release engine on the kube target, against the fake API server:
//! install with CRDs (applied first, Established before their custom resources), hooks in
//! weight order with their delete policies, `lookup` reading the cluster, standard labels;
//! a failing pre-upgrade hook ending the revision failed (and `--atomic` restoring); a CRD
//! upgrade that removes a field of a stored version refused unless forced; `test`; uninstall
//! running pre-delete hooks and keeping CRDs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use fake_kube::RecordedRequest;
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
    fn get(&self, api_version: &str, kind: &str, ns: Option<&str>, name: &str) -> Option<Value> {
        self.fake.object(api_version, kind, ns, name)
    }

    /// A chart folder under the cluster's temporary folder.
    fn chart(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.tmp.path().join(name);
        let files: BTreeMap<String, String> = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        write_files(&dir, &files);
        dir
    }
}

const CRD_V1: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
                colour: {type: string}
"#;

fn shop_chart(c: &Cluster, version: &str, crd: &str) -> PathBuf {
    let chart_yaml =
        format!("apiVersion: v2\nname: shop\nversion: {version}\nappVersion: \"2.0\"\n");
    c.chart(
        &format!("shop-{version}"),
        &[
            ("Chart.yaml", &chart_yaml),
            ("values.yaml", "replicas: 2\nhookOutcome: succeed\n"),
            ("crds/widgets.yaml", crd),
            (
                "templates/widget.yaml",
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {{ .Release.Name }}-w\nspec:\n  size: 3\n",
            ),
            (
                "templates/deployment.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n  labels:\n    app.kubernetes.io/name: web\n    app.kubernetes.io/managed-by: {{ .Release.Service }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n",
            ),
            (
                "templates/secret.yaml",
                "{{- $db := lookup \"v1\" \"Secret\" .Release.Namespace \"db-pass\" }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-conf\nstringData:\n  password: {{ if $db }}{{ index $db.data \"password\" | b64dec }}{{ else }}none{{ end }}\n",
            ),
            (
                "templates/hooks.yaml",
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}-migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"5\"\n    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded\n    fake-kube.cocktail.io/outcome: {{ .Values.hookOutcome }}\nspec:\n  backoffLimit: 0\n  template:\n    metadata:\n      annotations:\n        fake-kube.cocktail.io/log: \"migrating\\nerror: relation users does not exist\"\n    spec:\n      restartPolicy: Never\n      containers: [{name: migrate, image: migrate:1}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-first\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"-3\"\ndata:\n  revision: {{ .Release.Revision | quote }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-bye\n  annotations:\n    helm.sh/hook: pre-delete\n",
            ),
            (
                "templates/tests/test.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n  annotations:\n    helm.sh/hook: test\nspec:\n  restartPolicy: Never\n  containers: [{name: t, image: busybox:1.36}]\n",
            ),
            ("templates/NOTES.txt", "{{ .Release.Name }} is at revision {{ .Release.Revision }}.\n"),
        ],
    )
}

fn paths(reqs: &[RecordedRequest], method: &str) -> Vec<String> {
    reqs.iter()
        .filter(|r| r.method == method)
        .map(|r| r.path.clone())
        .collect()
}

fn first(paths: &[String], needle: &str) -> usize {
    paths
        .iter()
        .position(|p| p.contains(needle))
        .unwrap_or_else(|| panic!("no request to {needle} in {paths:#?}"))
}

#[test]
fn a_chart_installs_with_crds_first_hooks_in_weight_order_and_lookup_reading_the_cluster() {
    let c = Cluster::new();
    c.fake.insert(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-pass", "namespace": "shop"},
        "data": {"password": "czNjcjN0"}}));
    let chart = shop_chart(&c, "1.0.0", CRD_V1);
    c.ok(&["install", "web", chart.to_str().unwrap()]);

    // The CRD, then (Established) the hooks by weight, then the objects, the custom resource last.
    let reqs = c.fake.requests();
    let patches = paths(&reqs, "PATCH");
    let crd = first(&patches, "customresourcedefinitions/widgets.example.com");
    let cm_hook = first(&patches, "configmaps/web-first");
    let job = first(&patches, "jobs/web-migrate");
    let deploy = first(&patches, "deployments/web-web");
    let widget = first(&patches, "widgets/web-w");
    assert!(
        crd < cm_hook && cm_hook < job && job < deploy && deploy < widget,
        "{patches:#?}"
    );

    let crd_obj = c
        .get(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "widgets.example.com",
        )
        .unwrap();
    assert!(
        crd_obj["status"]["conditions"]
            .to_string()
            .contains("Established")
    );
    assert!(
        c.get("example.com/v1", "Widget", Some("shop"), "web-w")
            .is_some()
    );
    // hook-succeeded: the Job is gone; the ConfigMap hook (default policy) stays.
    assert!(
        c.get("batch/v1", "Job", Some("shop"), "web-migrate")
            .is_none()
    );
    assert!(
        c.get("v1", "ConfigMap", Some("shop"), "web-first")
            .is_some()
    );
    // lookup saw the existing Secret.
    let conf = c.get("v1", "Secret", Some("shop"), "web-conf").unwrap();
    assert_eq!(conf["data"]["password"], "czNjcjN0");
    // The chart's labels are kept, ours added where the chart is silent.
    let d = c
        .get("apps/v1", "Deployment", Some("shop"), "web-web")
        .unwrap();
    let labels = &d["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "Helm");
    assert_eq!(labels["app.kubernetes.io/name"], "web");
    assert_eq!(labels["app.kubernetes.io/instance"], "web");
    assert_eq!(labels["cocktail.io/package"], "shop-1.0.0");
    // Hooks and CRDs are not in the inventory; the record keeps the hooks with their runs.
    let manifest = c.ok(&["get", "manifest", "web"]);
    assert!(manifest.contains("# Source: shop/templates/deployment.yaml"));
    assert!(!manifest.contains("web-migrate") && !manifest.contains("CustomResourceDefinition"));
    let hooks: Value = serde_json::from_str(&c.ok(&["get", "hooks", "web", "-o", "json"])).unwrap();
    let runs: Vec<(String, String)> = hooks
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| {
            let run = h.get("lastRun")?;
            Some((
                h["id"]["name"].as_str().unwrap().to_string(),
                format!("{}:{}", run["event"].as_str()?, run["phase"].as_str()?),
            ))
        })
        .collect();
    assert_eq!(
        runs,
        [
            ("web-first".to_string(), "pre-install:succeeded".to_string()),
            (
                "web-migrate".to_string(),
                "pre-install:succeeded".to_string()
            )
        ]
    );
    assert_eq!(c.ok(&["get", "notes", "web"]), "web is at revision 1.\n");
    assert_eq!(c.history("web")[0].1, "deployed");

    // A no-op upgrade makes no revision and runs no hook.
    c.fake.clear_requests();
    let out = c.ok(&["upgrade", "web", chart.to_str().unwrap()]);
    assert!(out.is_empty(), "{out}");
    let writes: Vec<String> = paths(&c.fake.requests(), "PATCH")
        .into_iter()
        .filter(|p| !p.contains("/leases/"))
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
    assert_eq!(c.history("web").len(), 1);

    // test runs the test Pod and records it.
    let out = c.ok(&["test", "web"]);
    assert!(
        out.contains("Pod/web-test") && out.contains("succeeded"),
        "{out}"
    );

    // uninstall runs the pre-delete hook and keeps the CRD (and says so).
    let (code, _, err) = c.run(&["uninstall", "web"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("kept CustomResourceDefinition"), "{err}");
    assert!(c.get("v1", "ConfigMap", Some("shop"), "web-bye").is_some());
    assert!(
        c.get("apps/v1", "Deployment", Some("shop"), "web-web")
            .is_none()
    );
    assert!(
        c.get(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "widgets.example.com"
        )
        .is_some()
    );
}

#[test]
fn a_failing_pre_upgrade_hook_fails_the_revision_and_atomic_restores() {
    let c = Cluster::new();
    let chart = shop_chart(&c, "1.0.0", CRD_V1);
    let chart = chart.to_str().unwrap();
    c.ok(&["install", "web", chart]);
    let (code, _, err) = c.run(&[
        "upgrade",
        "web",
        chart,
        "--set",
        "hookOutcome=fail,replicas=5",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("pre-upgrade hook Job/web-migrate"), "{err}");
    assert!(err.contains("BackoffLimitExceeded"), "{err}");
    // The pod's state and its log's last lines say why.
    assert!(err.contains("exit code 1"), "{err}");
    assert!(
        err.contains("error: relation users does not exist"),
        "{err}"
    );
    let h = c.history("web");
    assert_eq!(h[1].0, 2);
    assert_eq!(h[1].1, "failed");
    assert!(h[1].2.contains("web-migrate"), "{h:?}");
    // The hook failed before the objects were applied.
    let d = c
        .get("apps/v1", "Deployment", Some("shop"), "web-web")
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 2);

    let (code, _, err) = c.run(&[
        "upgrade",
        "web",
        chart,
        "--set",
        "hookOutcome=fail,replicas=5",
        "--atomic",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("rolled back to revision 1"), "{err}");
    let h = c.history("web");
    let last = h.last().unwrap();
    assert_eq!(last.1, "deployed", "{h:?}");
    assert_eq!(h[h.len() - 2].1, "failed", "{h:?}");
    // Nothing is pending.
    assert!(h.iter().all(|r| !r.1.starts_with("pending")), "{h:?}");
}

#[test]
fn a_crd_upgrade_that_removes_a_stored_field_is_refused_unless_forced() {
    let c = Cluster::new();
    let v1 = shop_chart(&c, "1.0.0", CRD_V1);
    c.ok(&["install", "web", v1.to_str().unwrap()]);
    let narrower = CRD_V1.replace("                colour: {type: string}\n", "");
    let v2 = shop_chart(&c, "1.1.0", &narrower);
    let (code, _, err) = c.run(&["upgrade", "web", v2.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("widgets.example.com") && err.contains("colour"),
        "{err}"
    );
    assert!(err.contains("--force-crd-changes"), "{err}");
    assert_eq!(c.history("web").len(), 1, "nothing recorded");
    // diff shows the refusal too.
    let (code, _, err) = c.run(&["diff", "upgrade", "web", v2.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("colour"), "{err}");

    c.ok(&[
        "upgrade",
        "web",
        v2.to_str().unwrap(),
        "--force-crd-changes",
    ]);
    let crd = c
        .get(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "widgets.example.com",
        )
        .unwrap();
    assert!(!crd.to_string().contains("colour"));

    // A new field is a safe change.
    let wider = CRD_V1.replace("colour: {type: string}", "shape: {type: string}");
    let v3 = shop_chart(&c, "1.2.0", &wider);
    c.ok(&["upgrade", "web", v3.to_str().unwrap()]);
}

#[test]
fn a_failing_test_is_reported_with_exit_1() {
    let c = Cluster::new();
    let chart = shop_chart(&c, "1.0.0", CRD_V1);
    let test = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n  annotations:\n    helm.sh/hook: test\n    fake-kube.cocktail.io/outcome: fail\nspec:\n  restartPolicy: Never\n  containers: [{name: t, image: busybox:1.36}]\n";
    std::fs::write(chart.join("templates/tests/test.yaml"), test).unwrap();
    c.ok(&["install", "web", chart.to_str().unwrap()]);
    let (code, out, err) = c.run(&["test", "web", "-o", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["tests"][0]["run"]["phase"], "failed");
    assert!(
        v["tests"][0]["run"]["message"]
            .as_str()
            .unwrap()
            .contains("exit code 1")
    );
    assert!(err.contains("1 of 1 tests failed"), "{err}");
}

#[test]
fn offline_rendering_of_a_lookup_chart_is_unchanged() {
    // `template` never asks a cluster, even when one is configured.
    let c = Cluster::new();
    c.fake.insert(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-pass", "namespace": "shop"},
        "data": {"password": "czNjcjN0"}}));
    let chart = shop_chart(&c, "1.0.0", CRD_V1);
    let out = c.ok(&[
        "template",
        chart.to_str().unwrap(),
        "--release-name",
        "web",
        "-n",
        "shop",
    ]);
    assert!(out.contains("password: none"), "{out}");
}

#[test]
fn installing_over_a_release_helm_manages_is_refused_with_the_way_to_adopt_it() {
    let c = Cluster::new();
    c.fake.insert(
        json!({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.web.v1", "namespace": "shop",
            "labels": {"owner": "helm", "name": "web", "status": "deployed", "version": "1"}},
        "data": {"release": "e30="}}),
    );
    let chart = shop_chart(&c, "1.0.0", CRD_V1);
    let (code, _, err) = c.run(&["install", "web", chart.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is managed by Helm"), "{err}");
    assert!(err.contains("cocktail-pkg adopt web -n shop"), "{err}");
    assert!(
        c.get("apps/v1", "Deployment", Some("shop"), "web-web")
            .is_none()
    );
    // Another name is fine.
    c.ok(&["install", "web2", chart.to_str().unwrap()]);
}

#[test]
fn a_crd_upgrade_that_removes_a_stored_version_is_refused() {
    let c = Cluster::new();
    let v1 = shop_chart(&c, "1.0.0", CRD_V1);
    c.ok(&["install", "web", v1.to_str().unwrap()]);
    // Version v1 holds the stored Widget; v2 alone would leave it unreadable.
    let only_v2 = CRD_V1.replace("    - name: v1\n", "    - name: v2\n");
    let v2 = shop_chart(&c, "2.0.0", &only_v2);
    let (code, _, err) = c.run(&["upgrade", "web", v2.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("version v1 holds stored objects"), "{err}");
    assert!(
        err.contains("version v1 is served and would be removed"),
        "{err}"
    );
    assert_eq!(c.history("web").len(), 1, "nothing recorded");
    let crd = c
        .get(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "widgets.example.com",
        )
        .unwrap();
    assert_eq!(crd["spec"]["versions"][0]["name"], "v1", "nothing applied");
}
