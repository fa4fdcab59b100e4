//! The kube target against CustomResourceDefinitions on the fake API server: a CRD applied by
//! server-side apply is not served until Established, the target waits for it, then applies
//! and reads a custom resource of it; a CRD update that drops a stored version is refused with
//! the API server's message.

use std::time::{Duration, Instant};

use cocktail_pkg::model::ObjectId;
use cocktail_pkg::targets::kube::{KubeOptions, KubeTarget};
use cocktail_pkg::targets::{ApplyMode, Target, TargetError};
use fake_kube::{FakeKube, Readiness};
use serde_json::{Value, json};

fn crd(versions: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": versions},
    })
}

fn version(name: &str, storage: bool) -> Value {
    json!({"name": name, "served": true, "storage": storage,
           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
               "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}})
}

fn id(group: &str, kind: &str, namespace: &str, name: &str) -> ObjectId {
    ObjectId {
        group: group.into(),
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
    }
}

fn established(crd: &Value) -> bool {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        })
}

#[test]
fn the_kube_target_applies_a_crd_waits_for_it_and_applies_a_custom_resource() {
    let fake = FakeKube::start();
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, Some("default")).unwrap();
    let target = KubeTarget::connect(&KubeOptions {
        kubeconfig: Some(kubeconfig),
        ..KubeOptions::default()
    })
    .unwrap();
    let commit = ApplyMode::Commit {
        force_conflicts: false,
    };
    let crd_id = id(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "",
        "widgets.example.com",
    );
    fake.set_readiness(Readiness::Never);
    let applied = target
        .apply(&crd_id, &crd(json!([version("v1", true)])), commit)
        .unwrap();
    assert_eq!(applied["status"]["storedVersions"], json!(["v1"]));
    let live = target.get(&crd_id).unwrap().expect("the CRD");
    assert!(!established(&live), "not yet: {}", live["status"]);

    // The API server establishes it; wait for it as a release would.
    fake.set_readiness(Readiness::Immediate);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let live = target.get(&crd_id).unwrap().expect("the CRD");
        if established(&live) {
            break;
        }
        assert!(Instant::now() < deadline, "never Established: {live}");
        std::thread::sleep(Duration::from_millis(20));
    }

    let widget_id = id("example.com", "Widget", "default", "w");
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget",
                        "metadata": {"name": "w", "namespace": "default"},
                        "spec": {"size": 3}});
    let applied = target.apply(&widget_id, &widget, commit).unwrap();
    assert_eq!(applied["spec"]["size"], 3);
    let got = target.get(&widget_id).unwrap().expect("the widget");
    assert_eq!(
        got["metadata"]["managedFields"][0]["manager"],
        "cocktail-pkg"
    );
    assert!(
        fake.object("example.com/v1", "Widget", Some("default"), "w")
            .is_some()
    );

    // v2 becomes the storage version; dropping v1 afterwards is refused by the API server.
    let both = crd(json!([version("v1", false), version("v2", true)]));
    let applied = target.apply(&crd_id, &both, commit).unwrap();
    assert_eq!(applied["status"]["storedVersions"], json!(["v1", "v2"]));
    let err = target
        .apply(&crd_id, &crd(json!([version("v2", true)])), commit)
        .unwrap_err();
    match &err {
        TargetError::Api { code, message, .. } => {
            assert_eq!(*code, 422);
            assert!(
                message.contains(
                    "status.storedVersions[0]: Invalid value: \"v1\": must appear in spec.versions"
                ),
                "{message}"
            );
        }
        other => panic!("expected a 422, got {other:?}"),
    }
}
