//! The fake API server over HTTP, as a client sees it: discovery, verbs, selectors and pages,
//! `Status` bodies, server-side apply, dry runs, deletion, faults, readiness, the helpers, and
//! the `kube` crate against it.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed setup or an unexpected answer stops the test"
)]

use std::time::Duration;

use fake_kube::{FakeKube, Fault, Readiness};
use serde_json::{Value, json};

/// ConfigMaps and Secrets may hold at most this much data (the real server's limit).
const MAX_DATA_BYTES: usize = 1 << 20;
use reqwest::blocking::Client;

struct Api {
    fk: FakeKube,
    client: Client,
}

fn setup() -> Api {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    Api {
        fk: FakeKube::start(),
        client,
    }
}

const APPLY: &str = "application/apply-patch+yaml";
const MERGE: &str = "application/merge-patch+json";

impl Api {
    fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        ct: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut url = format!("{}{path}", self.fk.url);
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{}={}", encode(k), encode(v)));
        }
        let mut req = self
            .client
            .request(m, url)
            .header("Authorization", "Bearer fake-token");
        if let Some(ct) = ct {
            req = req.header("Content-Type", ct);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().expect("send");
        let code = resp.status().as_u16();
        let text = resp.text().expect("text");
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (code, v)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, &[], None, None)
    }

    fn list(&self, path: &str, query: &[(&str, &str)]) -> Vec<String> {
        let (code, v) = self.call("GET", path, query, None, None);
        assert_eq!(code, 200, "{v}");
        names(&v)
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("POST", path, &[], Some("application/json"), Some(body))
    }

    fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("PUT", path, &[], Some("application/json"), Some(body))
    }

    fn apply(&self, path: &str, manager: &str, body: &Value) -> (u16, Value) {
        self.call(
            "PATCH",
            path,
            &[("fieldManager", manager)],
            Some(APPLY),
            Some(body),
        )
    }

    fn rv(&self, path: &str) -> String {
        let (code, v) = self.get(path);
        assert_eq!(code, 200, "{v}");
        rv_of(&v)
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

fn rv_of(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string()
}

fn cm(name: &str, labels: Value, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "labels": labels}, "data": data})
}

fn deployment(name: &str, replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    })
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";

fn manager<'a>(obj: &'a Value, name: &str, op: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == name && e["operation"] == op)
}

#[test]
fn discovery_lists_groups_and_resources() {
    let api = setup();
    let (code, v) = api.get("/version");
    assert_eq!(code, 200);
    assert_eq!(v["minor"], "33");
    assert_eq!(v["gitVersion"], "v1.33.0");
    let (_, v) = api.get("/api");
    assert_eq!(v["kind"], "APIVersions");
    assert_eq!(v["versions"], json!(["v1"]));
    let (_, v) = api.get("/apis");
    assert_eq!(v["kind"], "APIGroupList");
    let groups = v["groups"].as_array().expect("groups");
    let apps = groups.iter().find(|g| g["name"] == "apps").expect("apps");
    assert_eq!(apps["preferredVersion"]["groupVersion"], "apps/v1");
    let hpa = groups
        .iter()
        .find(|g| g["name"] == "autoscaling")
        .expect("autoscaling");
    assert_eq!(hpa["versions"][0]["version"], "v2");
    assert_eq!(groups.len(), 11, "{groups:?}");
    let (_, v) = api.get("/apis/apps/v1");
    assert_eq!(v["kind"], "APIResourceList");
    assert_eq!(v["groupVersion"], "apps/v1");
    let res = v["resources"].as_array().expect("resources");
    let d = res
        .iter()
        .find(|r| r["name"] == "deployments")
        .expect("deployments");
    assert_eq!(d["kind"], "Deployment");
    assert_eq!(d["singularName"], "deployment");
    assert_eq!(d["namespaced"], true);
    assert!(
        d["verbs"]
            .as_array()
            .expect("verbs")
            .contains(&json!("patch"))
    );
    assert!(res.iter().any(|r| r["name"] == "deployments/status"));
    let (_, v) = api.get("/api/v1");
    let ns = v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "namespaces")
        .cloned()
        .expect("namespaces");
    assert_eq!(ns["namespaced"], false);
    let (_, v) = api.get("/apis/rbac.authorization.k8s.io/v1");
    let cr = v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "clusterroles")
        .cloned()
        .expect("clusterroles");
    assert_eq!(cr["namespaced"], false);
    for path in [
        "/apis/nope/v1",
        "/apis/apps/v2",
        "/apis/apps/v1/widgets",
        "/api/v2",
        "/foo",
    ] {
        let (code, v) = api.get(path);
        assert_eq!(code, 404, "{path}");
        assert_eq!(v["kind"], "Status");
        assert_eq!(v["reason"], "NotFound");
    }
    let (code, _) = api.get("/healthz");
    assert_eq!(code, 200);
}

#[test]
fn create_get_and_list_with_selectors_and_pages() {
    let api = setup();
    for (name, labels) in [
        ("a", json!({"app": "web", "tier": "front"})),
        ("b", json!({"app": "web", "tier": "back"})),
        ("c", json!({"app": "db"})),
    ] {
        let (code, v) = api.call(
            "POST",
            CMS,
            &[("fieldManager", "tester")],
            Some("application/json"),
            Some(&cm(name, labels, json!({"k": "v"}))),
        );
        assert_eq!(code, 201, "{v}");
        assert_eq!(v["metadata"]["generation"], 1);
        assert_eq!(v["metadata"]["namespace"], "default");
        assert!(v["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
        assert!(
            v["metadata"]["creationTimestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        let e = manager(&v, "tester", "Update").expect("managed fields");
        assert_eq!(e["fieldsType"], "FieldsV1");
        assert_eq!(e["fieldsV1"]["f:data"], json!({"f:k": {}}));
    }
    let (code, v) = api.get(&format!("{CMS}/a"));
    assert_eq!(code, 200);
    assert_eq!(v["kind"], "ConfigMap");
    assert_eq!(v["data"]["k"], "v");

    let sel = |s: &str| api.list(CMS, &[("labelSelector", s)]);
    assert_eq!(sel("app=web"), ["a", "b"]);
    assert_eq!(sel("app==web"), ["a", "b"]);
    assert_eq!(sel("app!=web"), ["c"]);
    assert_eq!(sel("tier in (front, back)"), ["a", "b"]);
    assert_eq!(sel("tier notin (front)"), ["b", "c"]);
    assert_eq!(sel("!tier"), ["c"]);
    assert_eq!(sel("tier"), ["a", "b"]);
    assert_eq!(sel("app=web,tier notin (front)"), ["b"]);
    assert_eq!(sel(""), ["a", "b", "c"]);
    assert_eq!(
        api.list(CMS, &[("fieldSelector", "metadata.name=c")]),
        ["c"]
    );
    assert_eq!(
        api.list(CMS, &[("fieldSelector", "metadata.name!=c")]),
        ["a", "b"]
    );
    assert_eq!(
        api.list("/api/v1/configmaps", &[("labelSelector", "app")]),
        ["a", "b", "c"]
    );
    assert!(
        api.list("/api/v1/namespaces/kube-system/configmaps", &[])
            .is_empty()
    );

    let (code, v) = api.call("GET", CMS, &[], None, None);
    assert_eq!(code, 200);
    assert_eq!(v["kind"], "ConfigMapList");
    assert_eq!(v["apiVersion"], "v1");
    assert!(v["metadata"]["resourceVersion"].as_str().is_some());
    assert!(
        v["items"][0].get("kind").is_none(),
        "list items carry no kind, as on a real server"
    );

    for bad in ["app in (web", "a b", "app=we b", "x in ()"] {
        let (code, v) = api.call("GET", CMS, &[("labelSelector", bad)], None, None);
        assert_eq!(code, 400, "{bad}: {v}");
        assert_eq!(v["reason"], "BadRequest");
    }
    let (code, v) = api.call("GET", CMS, &[("fieldSelector", "spec.x=1")], None, None);
    assert_eq!(code, 400);
    assert_eq!(v["message"], "field label not supported: spec.x");

    let (_, page1) = api.call("GET", CMS, &[("limit", "2")], None, None);
    assert_eq!(names(&page1), ["a", "b"]);
    assert_eq!(page1["metadata"]["remainingItemCount"], 1);
    let token = page1["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    let (_, page2) = api.call(
        "GET",
        CMS,
        &[("limit", "2"), ("continue", &token)],
        None,
        None,
    );
    assert_eq!(names(&page2), ["c"]);
    assert!(page2["metadata"].get("continue").is_none());
    let (code, _) = api.call("GET", CMS, &[("continue", "garbage!")], None, None);
    assert_eq!(code, 400);
    let (code, v) = api.call("GET", CMS, &[("watch", "true")], None, None);
    assert_eq!(code, 405, "{v}");

    let (code, v) = api.post(
        CMS,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}),
    );
    assert_eq!(code, 201);
    let name = v["metadata"]["name"].as_str().expect("name");
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
}

#[test]
fn error_bodies_are_kubernetes_statuses() {
    let api = setup();
    let (code, v) = api.get(&format!("{DEPLOYS}/web"));
    assert_eq!(code, 404);
    assert_eq!(
        v,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
               "message":"deployments.apps \"web\" not found","reason":"NotFound",
               "details":{"name":"web","group":"apps","kind":"deployments"},"code":404})
    );
    let (code, v) = api.get(&format!("{CMS}/x"));
    assert_eq!(code, 404);
    assert_eq!(v["message"], "configmaps \"x\" not found");
    assert_eq!(v["details"], json!({"name": "x", "kind": "configmaps"}));

    assert_eq!(api.post(CMS, &cm("a", json!({}), json!({}))).0, 201);
    let (code, v) = api.post(CMS, &cm("a", json!({}), json!({})));
    assert_eq!(code, 409);
    assert_eq!(v["reason"], "AlreadyExists");
    assert_eq!(v["message"], "configmaps \"a\" already exists");

    let (code, v) = api.post(
        "/api/v1/namespaces/nope/configmaps",
        &cm("a", json!({}), json!({})),
    );
    assert_eq!(code, 404);
    assert_eq!(v["message"], "namespaces \"nope\" not found");
    assert_eq!(v["details"], json!({"name": "nope", "kind": "namespaces"}));

    let mut other_ns = cm("b", json!({}), json!({}));
    other_ns["metadata"]["namespace"] = json!("kube-system");
    let (code, v) = api.post(CMS, &other_ns);
    assert_eq!(code, 400);
    assert_eq!(v["reason"], "BadRequest");

    let (code, _) = api.post(
        CMS,
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
    );
    assert_eq!(code, 400);
    let (code, _) = api.post(CMS, &json!({"metadata": {"name": "s"}}));
    assert_eq!(code, 400);
    let (code, _) = api.post(CMS, &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s", "labels": {"a": 1}}}));
    assert_eq!(code, 400);

    let (code, v) = api.post(CMS, &cm("Bad_Name", json!({}), json!({})));
    assert_eq!(code, 422);
    assert_eq!(v["reason"], "Invalid");
    assert_eq!(v["details"]["kind"], "ConfigMap");
    assert_eq!(v["details"]["causes"][0]["field"], "metadata.name");
    assert!(v["message"].as_str().expect("message").starts_with(
        "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\""
    ));
    let (code, v) = api.post(CMS, &cm("c", json!({"app": "has space"}), json!({})));
    assert_eq!(code, 422, "{v}");
    assert_eq!(v["details"]["causes"][0]["field"], "metadata.labels");
    let (code, v) = api.post(
        CMS,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
    );
    assert_eq!(code, 422);
    assert_eq!(v["details"]["causes"][0]["reason"], "FieldValueRequired");

    let (code, _) = api.put(
        &format!("{CMS}/missing"),
        &cm("missing", json!({}), json!({})),
    );
    assert_eq!(code, 404);
    let (code, v) = api.put(&format!("{CMS}/a"), &cm("b", json!({}), json!({})));
    assert_eq!(code, 400);
    assert_eq!(
        v["message"],
        "the name of the object (b) does not match the name on the URL (a)"
    );
    let (code, v) = api.post(&format!("{CMS}/a"), &cm("a", json!({}), json!({})));
    assert_eq!(code, 405);
    assert_eq!(v["reason"], "MethodNotAllowed");
    let (code, v) = api.call(
        "PATCH",
        &format!("{CMS}/a"),
        &[],
        Some("text/plain"),
        Some(&json!({})),
    );
    assert_eq!(code, 415);
    assert_eq!(v["reason"], "UnsupportedMediaType");
    let (code, _) = api.post("/apis/apps/v1/deployments", &deployment("x", 1, "i"));
    assert_eq!(code, 405);

    let resp = api
        .client
        .get(format!("{}{CMS}", api.fk.url))
        .header("Authorization", "Bearer wrong")
        .send()
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    let resp = api
        .client
        .get(format!("{}{CMS}", api.fk.url))
        .send()
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200, "anonymous requests are served");
}

#[test]
fn put_with_a_stale_resource_version_conflicts() {
    let api = setup();
    let path = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                       "metadata": {"name": "x"}, "spec": {"holderIdentity": "a"}});
    let (code, created) = api.post(path, &lease);
    assert_eq!(code, 201);
    let rv1 = rv_of(&created);
    let mut next = created.clone();
    next["spec"]["holderIdentity"] = json!("b");
    let (code, updated) = api.put(&format!("{path}/x"), &next);
    assert_eq!(code, 200, "{updated}");
    let rv2 = rv_of(&updated);
    assert!(rv2.parse::<u64>().expect("number") > rv1.parse::<u64>().expect("number"));
    assert_eq!(updated["metadata"]["generation"], 2);
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    next["spec"]["holderIdentity"] = json!("c");
    let (code, v) = api.put(&format!("{path}/x"), &next);
    assert_eq!(code, 409);
    assert_eq!(v["reason"], "Conflict");
    assert_eq!(
        v["message"],
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"x\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(
        v["details"],
        json!({"name": "x", "group": "coordination.k8s.io", "kind": "leases"})
    );
    next["metadata"]
        .as_object_mut()
        .expect("meta")
        .remove("resourceVersion");
    let (code, v) = api.put(&format!("{path}/x"), &next);
    assert_eq!(
        code, 200,
        "an update without resourceVersion is unconditional"
    );
    assert_eq!(v["spec"]["holderIdentity"], "c");
    // The same object again: nothing changes, no new resourceVersion.
    let (code, again) = api.put(&format!("{path}/x"), &v);
    assert_eq!(code, 200);
    assert_eq!(rv_of(&again), rv_of(&v));
}

#[test]
fn apply_creates_and_a_repeated_apply_changes_nothing() {
    let api = setup();
    let (code, v) = api.apply(
        &format!("{DEPLOYS}/web"),
        "cocktail",
        &deployment("web", 2, "nginx:1"),
    );
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["metadata"]["generation"], 1);
    let e = manager(&v, "cocktail", "Apply").expect("apply entry");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
    assert_eq!(e["fieldsV1"]["f:metadata"]["f:labels"]["f:app"], json!({}));
    let stored_rv = api.rv(&format!("{DEPLOYS}/web"));
    let (code, v) = api.apply(
        &format!("{DEPLOYS}/web"),
        "cocktail",
        &deployment("web", 2, "nginx:1"),
    );
    assert_eq!(code, 200);
    assert_eq!(rv_of(&v), stored_rv, "a no-op apply does not write");
    assert_eq!(api.rv(&format!("{DEPLOYS}/web")), stored_rv);
    // JSON sent as YAML text works too, and YAML proper.
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: main, image: 'nginx:1'}]\n";
    let resp = api
        .client
        .patch(format!("{}{DEPLOYS}/web?fieldManager=cocktail", api.fk.url))
        .header("Content-Type", APPLY)
        .body(yaml)
        .send()
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(api.rv(&format!("{DEPLOYS}/web")), stored_rv);
    let (code, v) = api.apply(
        &format!("{DEPLOYS}/web"),
        "cocktail",
        &deployment("web", 4, "nginx:1"),
    );
    assert_eq!(code, 200);
    assert_ne!(rv_of(&v), stored_rv);
    assert_eq!(v["metadata"]["generation"], 2);
    assert_eq!(v["spec"]["replicas"], 4);
    // Label changes do not bump the generation.
    let mut relabeled = deployment("web", 4, "nginx:1");
    relabeled["metadata"]["labels"]["extra"] = json!("1");
    let (_, v) = api.apply(&format!("{DEPLOYS}/web"), "cocktail", &relabeled);
    assert_eq!(v["metadata"]["generation"], 2);
    assert_eq!(v["metadata"]["labels"]["extra"], "1");
}

#[test]
fn apply_conflicts_name_the_field_and_force_takes_it() {
    let api = setup();
    let path = format!("{DEPLOYS}/web");
    assert_eq!(
        api.apply(&path, "cocktail", &deployment("web", 2, "nginx:1"))
            .0,
        201
    );
    api.fk.apply_as(
        "kubectl-edit",
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 3}}),
    );
    let (code, v) = api.apply(&path, "cocktail", &deployment("web", 2, "nginx:1"));
    assert_eq!(code, 409, "{v}");
    assert_eq!(v["reason"], "Conflict");
    assert_eq!(
        v["message"],
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\": .spec.replicas"
    );
    assert_eq!(
        v["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-edit\"", "field": ".spec.replicas"}])
    );
    // The same value as the other manager is no conflict: shared ownership.
    let (code, v) = api.apply(&path, "cocktail", &deployment("web", 3, "nginx:1"));
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        manager(&v, "kubectl-edit", "Apply").expect("kept")["fieldsV1"]["f:spec"]["f:replicas"],
        json!({})
    );
    assert_eq!(
        manager(&v, "cocktail", "Apply").expect("mine")["fieldsV1"]["f:spec"]["f:replicas"],
        json!({})
    );
    // An Update by another manager (a merge patch) takes the field too.
    let (code, v) = api.call(
        "PATCH",
        &path,
        &[("fieldManager", "hpa")],
        Some(MERGE),
        Some(&json!({"spec": {"replicas": 5}})),
    );
    assert_eq!(code, 200, "{v}");
    let (code, v) = api.apply(&path, "cocktail", &deployment("web", 2, "nginx:1"));
    assert_eq!(code, 409);
    let msg = v["message"].as_str().expect("message");
    assert!(
        msg.starts_with("Apply failed with 1 conflict: conflict with \"hpa\" using apps/v1 at "),
        "{msg}"
    );
    assert!(msg.ends_with(": .spec.replicas"), "{msg}");
    let (code, v) = api.call(
        "PATCH",
        &path,
        &[("fieldManager", "cocktail"), ("force", "true")],
        Some(APPLY),
        Some(&deployment("web", 2, "nginx:1")),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["spec"]["replicas"], 2);
    assert!(
        manager(&v, "hpa", "Update").is_none(),
        "hpa owned nothing else"
    );
    let edit = manager(&v, "kubectl-edit", "Apply");
    assert!(edit.is_none_or(|e| e["fieldsV1"]["f:spec"].get("f:replicas").is_none()));
    assert_eq!(
        manager(&v, "cocktail", "Apply").expect("mine")["fieldsV1"]["f:spec"]["f:replicas"],
        json!({})
    );
}

#[test]
fn apply_removes_fields_dropped_from_the_config() {
    let api = setup();
    let path = format!("{CMS}/settings");
    let (code, _) = api.apply(
        &path,
        "m1",
        &cm(
            "settings",
            json!({"a": "1", "b": "2"}),
            json!({"x": "1", "y": "2"}),
        ),
    );
    assert_eq!(code, 201);
    api.fk.apply_as(
        "other",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default"}, "data": {"y": "2"}}),
    );
    let (code, v) = api.apply(
        &path,
        "m1",
        &cm("settings", json!({"a": "1"}), json!({"x": "1"})),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["metadata"]["labels"], json!({"a": "1"}));
    assert_eq!(
        v["data"],
        json!({"x": "1", "y": "2"}),
        "y is still owned by another manager"
    );
    let (_, v) = api.apply(
        &path,
        "m1",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}),
    );
    assert!(v["metadata"].get("labels").is_none(), "{v}");
    assert_eq!(v["data"], json!({"y": "2"}));
    // Fields set by an Update are not removed by an apply that never owned them.
    let (code, _) = api.call(
        "PATCH",
        &path,
        &[("fieldManager", "editor")],
        Some(MERGE),
        Some(&json!({"data": {"z": "3"}})),
    );
    assert_eq!(code, 200);
    let (_, v) = api.apply(&path, "m1", &cm("settings", json!({}), json!({"x": "1"})));
    assert_eq!(v["data"], json!({"y": "2", "z": "3", "x": "1"}));
}

#[test]
fn dry_run_all_stores_nothing() {
    let api = setup();
    let list_rv = |api: &Api| {
        let (_, v) = api.get(CMS);
        rv_of(&v)
    };
    let before = list_rv(&api);
    let dry = [("dryRun", "All")];
    let (code, v) = api.call(
        "POST",
        CMS,
        &dry,
        Some("application/json"),
        Some(&cm("a", json!({}), json!({"k": "v"}))),
    );
    assert_eq!(code, 201);
    assert_eq!(v["data"]["k"], "v");
    assert!(v["metadata"]["uid"].is_string());
    assert_eq!(api.get(&format!("{CMS}/a")).0, 404);
    let (code, _) = api.call(
        "PATCH",
        &format!("{CMS}/b"),
        &[("dryRun", "All"), ("fieldManager", "m")],
        Some(APPLY),
        Some(&cm("b", json!({}), json!({}))),
    );
    assert_eq!(code, 201);
    assert_eq!(api.get(&format!("{CMS}/b")).0, 404);
    assert_eq!(list_rv(&api), before);

    let (_, created) = api.post(CMS, &cm("a", json!({}), json!({"k": "v"})));
    let rv = rv_of(&created);
    let mut changed = created.clone();
    changed["data"]["k"] = json!("w");
    let (code, v) = api.call(
        "PUT",
        &format!("{CMS}/a"),
        &dry,
        Some("application/json"),
        Some(&changed),
    );
    assert_eq!(code, 200);
    assert_eq!(v["data"]["k"], "w");
    let (code, v) = api.call(
        "PATCH",
        &format!("{CMS}/a"),
        &dry,
        Some(MERGE),
        Some(&json!({"data": {"k": "z"}})),
    );
    assert_eq!(code, 200);
    assert_eq!(v["data"]["k"], "z");
    let (code, v) = api.call("PUT", &format!("{CMS}/a"), &dry, Some("application/json"), Some(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "1"}})));
    assert_eq!(code, 409, "conflicts are still detected: {v}");
    let (code, _) = api.call("DELETE", &format!("{CMS}/a"), &dry, None, None);
    assert_eq!(code, 200);
    let (code, v) = api.get(&format!("{CMS}/a"));
    assert_eq!(code, 200);
    assert_eq!(v["data"]["k"], "v");
    assert_eq!(rv_of(&v), rv);
    let (code, v) = api.call(
        "POST",
        CMS,
        &[("dryRun", "Yes")],
        Some("application/json"),
        Some(&cm("c", json!({}), json!({}))),
    );
    assert_eq!(code, 400, "{v}");
}

#[test]
fn namespace_deletion_cascades_and_missing_namespaces_are_404() {
    let api = setup();
    let (code, ns) = api.post(
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
    );
    assert_eq!(code, 201);
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "apps"
    );
    let cms = "/api/v1/namespaces/apps/configmaps";
    assert_eq!(api.post(cms, &cm("a", json!({}), json!({}))).0, 201);
    let mut d = deployment("web", 1, "nginx");
    d["metadata"]["namespace"] = json!("apps");
    assert_eq!(
        api.apply("/apis/apps/v1/namespaces/apps/deployments/web", "m", &d)
            .0,
        201
    );
    let (code, v) = api.call("DELETE", "/api/v1/namespaces/apps", &[], None, None);
    assert_eq!(code, 200);
    assert_eq!(v["status"]["phase"], "Terminating");
    assert_eq!(api.get(&format!("{cms}/a")).0, 404);
    assert_eq!(api.get("/api/v1/namespaces/apps").0, 404);
    assert!(
        api.fk
            .objects()
            .iter()
            .all(|o| o["metadata"]["namespace"] != "apps")
    );
    let (code, v) = api.post(cms, &cm("a", json!({}), json!({})));
    assert_eq!(code, 404);
    assert_eq!(v["message"], "namespaces \"apps\" not found");
    let (code, v) = api.apply("/apis/apps/v1/namespaces/apps/deployments/web", "m", &d);
    assert_eq!(code, 404);
    assert_eq!(v["message"], "namespaces \"apps\" not found");
    let (code, _) = api.call(
        "PATCH",
        &format!("{cms}/a"),
        &[],
        Some(MERGE),
        Some(&json!({})),
    );
    assert_eq!(code, 404);
    let names: Vec<String> = api.list("/api/v1/namespaces", &[]);
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
}

#[test]
fn fault_rules_fail_then_let_requests_through() {
    let api = setup();
    api.fk.fault(Fault {
        method: Some("GET".into()),
        path_contains: "/configmaps".into(),
        status: 500,
        times: 1,
        delay_ms: 0,
    });
    let (code, v) = api.get(CMS);
    assert_eq!(code, 500);
    assert_eq!(v["reason"], "InternalError");
    assert_eq!(v["code"], 500);
    assert_eq!(api.get(CMS).0, 200);
    api.fk.fault(Fault {
        method: None,
        path_contains: "/leases".into(),
        status: 503,
        times: 2,
        delay_ms: 0,
    });
    let leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    assert_eq!(api.get(leases).0, 503);
    assert_eq!(api.get(leases).1["reason"], "ServiceUnavailable");
    assert_eq!(api.get(leases).0, 200);
    api.fk.fault(Fault {
        method: Some("post".into()),
        path_contains: "/configmaps".into(),
        status: 0,
        times: 1,
        delay_ms: 150,
    });
    let start = std::time::Instant::now();
    assert_eq!(api.post(CMS, &cm("slow", json!({}), json!({}))).0, 201);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let reqs = api.fk.requests();
    assert_eq!(reqs.len(), 6);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].path, CMS);
    assert_eq!(reqs[0].authorization.as_deref(), Some("Bearer fake-token"));
    let post = &reqs[5];
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        post.body.as_ref().expect("body")["metadata"]["name"],
        "slow"
    );
    api.fk.clear_requests();
    api.get("/api/v1/namespaces/default/configmaps?labelSelector=app%3Dweb%2Ctier");
    let reqs = api.fk.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].query.get("labelSelector").map(String::as_str),
        Some("app=web,tier")
    );
}

fn workloads(api: &Api) {
    let ok = |(code, v): (u16, Value)| assert!(code == 200 || code == 201, "{v}");
    ok(api.apply(
        &format!("{DEPLOYS}/web"),
        "m",
        &deployment("web", 3, "nginx"),
    ));
    ok(api.apply("/apis/apps/v1/namespaces/default/statefulsets/db", "m", &json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "pg"}]}}}})));
    ok(api.apply("/apis/apps/v1/namespaces/default/daemonsets/agent", "m", &json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "a"}]}}}})));
    ok(api.apply("/apis/batch/v1/namespaces/default/jobs/migrate", "m", &json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "m"}]}}}})));
    ok(api.apply(
        "/api/v1/namespaces/default/persistentvolumeclaims/data",
        "m",
        &json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    ));
    ok(api.apply("/api/v1/namespaces/default/services/web", "m", &json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})));
    ok(api.apply(
        "/apis/networking.k8s.io/v1/namespaces/default/ingresses/web",
        "m",
        &json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
        "spec": {"rules": [{"host": "web.example"}]}}),
    ));
}

#[test]
fn immediate_readiness_reports_everything_ready() {
    let api = setup();
    workloads(&api);
    let (_, d) = api.get(&format!("{DEPLOYS}/web"));
    let s = &d["status"];
    assert_eq!(s["observedGeneration"], 1);
    assert_eq!(
        (
            s["replicas"].clone(),
            s["readyReplicas"].clone(),
            s["availableReplicas"].clone(),
            s["updatedReplicas"].clone()
        ),
        (json!(3), json!(3), json!(3), json!(3))
    );
    assert_eq!(s["conditions"][0]["type"], "Available");
    assert_eq!(s["conditions"][0]["status"], "True");
    assert_eq!(s["conditions"][1]["reason"], "NewReplicaSetAvailable");
    assert!(
        manager(&d, "kube-controller-manager", "Update")
            .is_some_and(|e| e["subresource"] == "status")
    );
    let (_, sts) = api.get("/apis/apps/v1/namespaces/default/statefulsets/db");
    assert_eq!(sts["status"]["readyReplicas"], 2);
    assert_eq!(sts["status"]["currentRevision"], "db-1");
    let (_, ds) = api.get("/apis/apps/v1/namespaces/default/daemonsets/agent");
    assert_eq!(ds["status"]["numberReady"], 2);
    assert_eq!(ds["status"]["desiredNumberScheduled"], 2);
    let (_, job) = api.get("/apis/batch/v1/namespaces/default/jobs/migrate");
    assert_eq!(job["status"]["succeeded"], 1);
    assert_eq!(job["status"]["conditions"][0]["type"], "Complete");
    assert!(job["status"]["completionTime"].is_string());
    let (_, pvc) = api.get("/api/v1/namespaces/default/persistentvolumeclaims/data");
    assert_eq!(pvc["status"]["phase"], "Bound");
    assert_eq!(pvc["status"]["capacity"]["storage"], "1Gi");
    let (_, svc) = api.get("/api/v1/namespaces/default/services/web");
    assert_eq!(
        svc["status"]["loadBalancer"]["ingress"][0]["ip"],
        "203.0.113.10"
    );
    let node_port = svc["spec"]["ports"][0]["nodePort"]
        .as_i64()
        .expect("nodePort");
    assert!((30000..=32767).contains(&node_port));
    assert!(
        svc["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("10.96."))
    );
    let (code, slice) =
        api.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc12");
    assert_eq!(code, 200);
    assert_eq!(
        slice["metadata"]["labels"]["kubernetes.io/service-name"],
        "web"
    );
    assert_eq!(slice["endpoints"][0]["conditions"]["ready"], true);
    assert_eq!(
        slice["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
    let (_, ing) = api.get("/apis/networking.k8s.io/v1/namespaces/default/ingresses/web");
    assert_eq!(
        ing["status"]["loadBalancer"]["ingress"][0]["ip"],
        "203.0.113.20"
    );
    // Controllers do not move the resourceVersion when nothing changes.
    let rv = api.rv(&format!("{DEPLOYS}/web"));
    api.apply(
        &format!("{DEPLOYS}/web"),
        "m",
        &deployment("web", 3, "nginx"),
    );
    assert_eq!(api.rv(&format!("{DEPLOYS}/web")), rv);
    // Deleting the Service collects its EndpointSlice.
    assert_eq!(
        api.call(
            "DELETE",
            "/api/v1/namespaces/default/services/web",
            &[],
            None,
            None
        )
        .0,
        200
    );
    assert_eq!(
        api.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc12")
            .0,
        404
    );
}

#[test]
fn never_readiness_reports_nothing_ready_until_it_changes() {
    let api = setup();
    api.fk.set_readiness(Readiness::Never);
    workloads(&api);
    let (_, d) = api.get(&format!("{DEPLOYS}/web"));
    let s = &d["status"];
    assert_eq!(s["observedGeneration"], 1);
    assert_eq!(s["replicas"], 3);
    assert_eq!(s["updatedReplicas"], 3);
    assert_eq!(s["unavailableReplicas"], 3);
    assert!(
        s.get("readyReplicas").is_none(),
        "zero counters are omitted, as on a real server"
    );
    assert_eq!(s["conditions"][0]["status"], "False");
    let (_, sts) = api.get("/apis/apps/v1/namespaces/default/statefulsets/db");
    assert!(sts["status"].get("readyReplicas").is_none());
    assert_eq!(sts["status"]["availableReplicas"], 0);
    let (_, ds) = api.get("/apis/apps/v1/namespaces/default/daemonsets/agent");
    assert_eq!(ds["status"]["numberReady"], 0);
    let (_, job) = api.get("/apis/batch/v1/namespaces/default/jobs/migrate");
    assert_eq!(job["status"]["active"], 1);
    assert!(job["status"].get("succeeded").is_none());
    let (_, pvc) = api.get("/api/v1/namespaces/default/persistentvolumeclaims/data");
    assert_eq!(pvc["status"]["phase"], "Pending");
    let (_, svc) = api.get("/api/v1/namespaces/default/services/web");
    assert_eq!(svc["status"]["loadBalancer"], json!({}));
    let (_, slice) =
        api.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc12");
    assert_eq!(slice["endpoints"][0]["conditions"]["ready"], false);
    let (_, ing) = api.get("/apis/networking.k8s.io/v1/namespaces/default/ingresses/web");
    assert_eq!(ing["status"]["loadBalancer"], json!({}));

    api.fk.set_readiness(Readiness::Immediate);
    let (_, d) = api.get(&format!("{DEPLOYS}/web"));
    assert_eq!(d["status"]["readyReplicas"], 3);
    let (_, pvc) = api.get("/api/v1/namespaces/default/persistentvolumeclaims/data");
    assert_eq!(pvc["status"]["phase"], "Bound");
}

#[test]
fn kubeconfig_names_the_server_token_and_contexts() {
    let fk = FakeKube::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    fk.write_kubeconfig(&path, Some("team")).expect("write");
    let text = std::fs::read_to_string(&path).expect("read");
    let v: Value = serde_saphyr::from_str(&text).expect("yaml");
    assert_eq!(v["current-context"], "fake");
    assert_eq!(v["clusters"][0]["name"], "fake");
    assert_eq!(v["clusters"][0]["cluster"]["server"], fk.url.as_str());
    assert_eq!(v["clusters"][1]["cluster"]["server"], "http://127.0.0.1:9");
    assert_eq!(v["users"][0]["user"]["token"], "fake-token");
    assert_eq!(v["contexts"][0]["context"]["namespace"], "team");
    assert_eq!(v["contexts"][0]["context"]["user"], "fake");
    assert_eq!(v["contexts"][1]["name"], "other");
    fk.write_kubeconfig(&path, None).expect("write");
    let v: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&path).expect("read")).expect("yaml");
    assert!(v["contexts"][0]["context"].get("namespace").is_none());
}

#[test]
fn services_secrets_and_immutable_fields() {
    let api = setup();
    let svcs = "/api/v1/namespaces/default/services";
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                     "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    let (code, created) = api.post(svcs, &svc);
    assert_eq!(code, 201, "{created}");
    let ip = created["spec"]["clusterIP"]
        .as_str()
        .expect("clusterIP")
        .to_string();
    assert!(ip.starts_with("10.96."));
    assert_eq!(created["spec"]["clusterIPs"], json!([ip]));
    assert_eq!(created["spec"]["type"], "ClusterIP");
    assert_eq!(created["spec"]["ports"][0]["targetPort"], 80);
    assert_eq!(created["spec"]["ports"][0]["protocol"], "TCP");
    assert!(created["spec"]["ports"][0].get("nodePort").is_none());
    // PUT without clusterIP keeps it; changing it is refused.
    let (code, v) = api.put(&format!("{svcs}/web"), &svc);
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["spec"]["clusterIP"], ip.as_str());
    let mut moved = svc.clone();
    moved["spec"]["clusterIP"] = json!("10.96.99.99");
    let (code, v) = api.put(&format!("{svcs}/web"), &moved);
    assert_eq!(code, 422);
    assert_eq!(
        v["message"],
        "Service \"web\" is invalid: spec.clusterIP: Invalid value: \"10.96.99.99\": field is immutable"
    );
    assert_eq!(v["details"]["causes"][0]["field"], "spec.clusterIP");
    let (code, v) = api.post(
        svcs,
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
        "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 443, "nodePort": 31000}]}}),
    );
    assert_eq!(code, 201);
    let p = v["spec"]["ports"][0]["nodePort"]
        .as_i64()
        .expect("allocated");
    assert!((30000..=32767).contains(&p) && p != 31000);
    assert_eq!(v["spec"]["ports"][1]["nodePort"], 31000);
    let (code, v) = api.post(
        svcs,
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "headless"},
        "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}),
    );
    assert_eq!(code, 201);
    assert_eq!(v["spec"]["clusterIP"], "None");
    let (code, v) = api.post(
        svcs,
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1bad"}}),
    );
    assert_eq!(code, 422, "service names are DNS-1035 labels: {v}");

    let secrets = "/api/v1/namespaces/default/secrets";
    let (code, v) = api.post(
        secrets,
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "stringData": {"password": "hello"}, "data": {"other": "d29ybGQ="}}),
    );
    assert_eq!(code, 201, "{v}");
    assert_eq!(
        v["data"],
        json!({"other": "d29ybGQ=", "password": "aGVsbG8="})
    );
    assert!(v.get("stringData").is_none());
    assert_eq!(v["type"], "Opaque");
    let (code, _) = api.post(secrets, &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}, "data": {"x": "not base64!"}}));
    assert_eq!(code, 400);
    let big = "x".repeat(MAX_DATA_BYTES + 1);
    let (code, v) = api.post(CMS, &cm("big", json!({}), json!({"k": big})));
    assert_eq!(code, 422);
    assert_eq!(v["details"]["causes"][0]["reason"], "FieldValueTooLong");

    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    let path = "/apis/apps/v1/namespaces/default/statefulsets/db";
    assert_eq!(api.apply(path, "m", &sts).0, 201);
    let mut changed = sts.clone();
    changed["spec"]["serviceName"] = json!("other");
    let (code, v) = api.apply(path, "m", &changed);
    assert_eq!(code, 422);
    assert_eq!(v["details"]["causes"][0]["reason"], "FieldValueForbidden");
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("updates to statefulset spec for fields other than")
    );
    let mut scaled = sts.clone();
    scaled["spec"]["replicas"] = json!(5);
    assert_eq!(api.apply(path, "m", &scaled).0, 200);
    let mut d = deployment("web", 1, "i");
    assert_eq!(api.apply(&format!("{DEPLOYS}/web"), "m", &d).0, 201);
    d["spec"]["selector"]["matchLabels"]["extra"] = json!("x");
    d["spec"]["template"]["metadata"]["labels"]["extra"] = json!("x");
    let (code, v) = api.apply(&format!("{DEPLOYS}/web"), "m", &d);
    assert_eq!(code, 422);
    assert_eq!(v["details"]["causes"][0]["field"], "spec.selector");
    let mut mismatched = deployment("other", 1, "i");
    mismatched["spec"]["template"]["metadata"]["labels"] = json!({"app": "nope"});
    let (code, v) = api.apply(&format!("{DEPLOYS}/other"), "m", &mismatched);
    assert_eq!(code, 422);
    assert_eq!(
        v["details"]["causes"][0]["field"],
        "spec.template.metadata.labels"
    );
}

#[test]
fn patches_and_the_status_subresource() {
    let api = setup();
    let path = format!("{CMS}/a");
    assert_eq!(
        api.post(CMS, &cm("a", json!({"x": "1"}), json!({"k": "v"})))
            .0,
        201
    );
    let (code, v) = api.call(
        "PATCH",
        &path,
        &[],
        Some(MERGE),
        Some(&json!({"data": {"k": null, "n": "1"}})),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"], json!({"n": "1"}));
    assert_eq!(v["metadata"]["generation"], 2);
    assert!(manager(&v, "unknown", "Update").is_some());
    let (code, v) = api.call(
        "PATCH",
        &path,
        &[],
        Some("application/strategic-merge-patch+json"),
        Some(&json!({"metadata": {"labels": {"y": "2"}}})),
    );
    assert_eq!(code, 200);
    assert_eq!(v["metadata"]["labels"], json!({"x": "1", "y": "2"}));
    assert_eq!(v["metadata"]["generation"], 2);
    let ops = json!([{"op": "add", "path": "/data/m", "value": "2"}, {"op": "remove", "path": "/metadata/labels/x"}]);
    let (code, v) = api.call(
        "PATCH",
        &path,
        &[],
        Some("application/json-patch+json"),
        Some(&ops),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"], json!({"n": "1", "m": "2"}));
    assert_eq!(v["metadata"]["labels"], json!({"y": "2"}));
    let (code, _) = api.call(
        "PATCH",
        &path,
        &[],
        Some("application/json-patch+json"),
        Some(&json!([{"op": "test", "path": "/data/n", "value": "9"}])),
    );
    assert_eq!(code, 422);
    let (code, v) = api.call(
        "PATCH",
        &path,
        &[("force", "true")],
        Some(MERGE),
        Some(&json!({})),
    );
    assert_eq!(code, 422, "{v}");
    let (code, v) = api.call(
        "PATCH",
        &path,
        &[],
        Some(APPLY),
        Some(&cm("a", json!({}), json!({}))),
    );
    assert_eq!(code, 422);
    assert_eq!(v["details"]["causes"][0]["field"], "fieldManager");
    let (code, _) = api.call(
        "PATCH",
        &path,
        &[("fieldManager", "m")],
        Some(APPLY),
        Some(&json!("not an object")),
    );
    assert_eq!(code, 400);
    let rv = api.rv(&path);
    let (code, v) = api.call(
        "PATCH",
        &path,
        &[],
        Some(MERGE),
        Some(&json!({"metadata": {"resourceVersion": "1"}, "data": {"z": "z"}})),
    );
    assert_eq!(code, 409, "{v}");
    assert_eq!(api.rv(&path), rv);

    let mut d = deployment("web", 1, "i");
    assert_eq!(api.apply(&format!("{DEPLOYS}/web"), "m", &d).0, 201);
    let status_path = format!("{DEPLOYS}/web/status");
    let (_, current) = api.get(&status_path);
    let mut with_status = current.clone();
    with_status["status"] = json!({"replicas": 7});
    with_status["spec"]["replicas"] = json!(9);
    let (code, v) = api.put(&status_path, &with_status);
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], json!({"replicas": 7}));
    assert_eq!(
        v["spec"]["replicas"], 1,
        "a status write changes only the status"
    );
    assert_eq!(v["metadata"]["generation"], 1);
    let (code, v) = api.call(
        "PATCH",
        &status_path,
        &[("fieldManager", "ctl")],
        Some(MERGE),
        Some(&json!({"status": {"readyReplicas": 1}})),
    );
    assert_eq!(code, 200);
    assert_eq!(v["status"], json!({"replicas": 7, "readyReplicas": 1}));
    assert_eq!(
        manager(&v, "ctl", "Update").expect("ctl")["subresource"],
        "status"
    );
    d["status"] = json!({"replicas": 100});
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("j");
    let (code, v) = api.apply(&format!("{DEPLOYS}/web"), "m", &d);
    assert_eq!(code, 200);
    assert_ne!(
        v["status"]["replicas"], 100,
        "a main write never sets the status"
    );
    assert_eq!(v["metadata"]["generation"], 2);
    assert_eq!(
        api.get(&format!("{CMS}/a/status")).0,
        404,
        "ConfigMaps have no status subresource"
    );
}

/// `{"a": {"a": ... {}}}`: `levels` nested objects.
fn nested(levels: usize) -> Value {
    let mut v = json!({});
    for _ in 1..levels {
        v = json!({ "a": v });
    }
    v
}

#[test]
fn json_patches_cannot_nest_too_deep_or_copy_without_bound() {
    let api = setup();
    let path = format!("{CMS}/p");
    assert_eq!(api.post(CMS, &cm("p", json!({}), json!({"k": "v"}))).0, 201);
    let json_patch = |ops: Value| {
        api.call(
            "PATCH",
            &path,
            &[],
            Some("application/json-patch+json"),
            Some(&ops),
        )
    };
    let deep = |levels: usize| "/a".repeat(levels);

    // 121 and 241 levels are accepted; one more value 100 levels deep would make 341.
    let (code, v) = json_patch(json!([
        {"op": "add", "path": "/n", "value": nested(120)},
        {"op": "add", "path": format!("/n{}/b", deep(119)), "value": nested(120)},
    ]));
    assert_eq!(code, 200, "{v}");
    let (code, v) = json_patch(json!([{
        "op": "add",
        "path": format!("/n{}/b{}/c", deep(119), deep(119)),
        "value": nested(100),
    }]));
    assert_eq!(code, 422, "{v}");
    assert_eq!(v["reason"], "Invalid");
    let message = v["message"].as_str().unwrap_or("");
    assert!(message.contains("deeper than 256 levels"), "{message}");

    // Doubling copies: 1 KiB, then 2, 4 ... 4 MiB would pass the 3 MiB copy limit.
    let (code, v) = json_patch(json!([
        {"op": "remove", "path": "/n"},
        {"op": "add", "path": "/x", "value": {"v": "x".repeat(1024)}},
    ]));
    assert_eq!(code, 200, "{v}");
    let copies: Vec<Value> = (0..12)
        .map(|i| json!({"op": "copy", "from": "/x", "path": format!("/x/c{i}")}))
        .collect();
    let (code, v) = json_patch(Value::Array(copies));
    assert_eq!(code, 422, "{v}");
    let message = v["message"].as_str().unwrap_or("");
    assert!(
        message.contains("accumulated size increase") && message.contains("3145728"),
        "{message}"
    );
    let (_, stored) = api.get(&path);
    assert_eq!(
        stored["x"],
        json!({"v": "x".repeat(1024)}),
        "nothing was stored"
    );
}

#[test]
fn deletes_honour_preconditions_finalizers_and_collections() {
    let api = setup();
    let (_, created) = api.post(CMS, &cm("a", json!({"app": "x"}), json!({})));
    let uid = created["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let path = format!("{CMS}/a");
    let (code, v) = api.call(
        "DELETE",
        &path,
        &[],
        Some("application/json"),
        Some(&json!({"preconditions": {"uid": "nope"}})),
    );
    assert_eq!(code, 409);
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("Precondition failed: UID in precondition: nope")
    );
    let (code, _) = api.call(
        "DELETE",
        &path,
        &[],
        Some("application/json"),
        Some(&json!({"preconditions": {"resourceVersion": "1"}})),
    );
    assert_eq!(code, 409);
    let (code, _) = api.call(
        "DELETE",
        &path,
        &[],
        Some("application/json"),
        Some(&json!({"propagationPolicy": "Sideways"})),
    );
    assert_eq!(code, 422);
    let (code, v) = api.call("DELETE", &path, &[], Some("application/json"), Some(&json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground", "preconditions": {"uid": uid}})));
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "Success");
    assert_eq!(
        v["details"],
        json!({"name": "a", "kind": "configmaps", "uid": uid})
    );
    assert_eq!(api.call("DELETE", &path, &[], None, None).0, 404);

    let mut held = cm("held", json!({}), json!({}));
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    assert_eq!(api.post(CMS, &held).0, 201);
    let (code, v) = api.call("DELETE", &format!("{CMS}/held"), &[], None, None);
    assert_eq!(code, 202);
    assert!(v["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(api.get(&format!("{CMS}/held")).0, 200);
    let (code, _) = api.call(
        "PATCH",
        &format!("{CMS}/held"),
        &[],
        Some(MERGE),
        Some(&json!({"metadata": {"finalizers": null}})),
    );
    assert_eq!(code, 200);
    assert_eq!(
        api.get(&format!("{CMS}/held")).0,
        404,
        "the last finalizer gone, the object goes"
    );

    for n in ["b", "c", "d"] {
        let app = if n == "d" { "keep" } else { "drop" };
        api.post(CMS, &cm(n, json!({"app": app}), json!({})));
    }
    let (code, v) = api.call("DELETE", CMS, &[("labelSelector", "app=drop")], None, None);
    assert_eq!(code, 200);
    assert_eq!(names(&v), ["b", "c"]);
    assert_eq!(api.list(CMS, &[]), ["d"]);
}

#[test]
fn helpers_insert_read_and_set_status() {
    let fk = FakeKube::start();
    fk.insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "legacy", "namespace": "old"},
        "spec": {"replicas": 1}, "status": {"readyReplicas": 1}}));
    let d = fk
        .object("apps/v1", "Deployment", Some("old"), "legacy")
        .expect("stored");
    assert_eq!(
        d["status"]["readyReplicas"], 1,
        "insert stores the status as given"
    );
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["metadata"]["managedFields"][0]["manager"], "test");
    assert!(
        fk.object("v1", "Namespace", None, "old").is_some(),
        "the namespace was created"
    );
    assert!(
        fk.object("apps/v1", "Deployment", Some("other"), "legacy")
            .is_none()
    );
    assert!(fk.object("v9", "Nothing", None, "x").is_none());
    let rv = rv_of(&d);
    fk.set_status(
        "apps/v1",
        "Deployment",
        Some("old"),
        "legacy",
        json!({"readyReplicas": 0}),
    );
    let d = fk
        .object("apps/v1", "Deployment", Some("old"), "legacy")
        .expect("stored");
    assert_eq!(d["status"], json!({"readyReplicas": 0}));
    assert_ne!(rv_of(&d), rv);
    assert_eq!(d["metadata"]["generation"], 1);
    let all = fk.objects();
    let kinds: Vec<(String, String)> = all
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap_or("").to_string(),
                o["metadata"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds[0],
        ("Deployment".to_string(), "legacy".to_string()),
        "apps/v1 sorts before v1"
    );
    assert_eq!(kinds[1], ("Namespace".to_string(), "default".to_string()));
    assert_eq!(
        kinds.last().cloned(),
        Some(("Namespace".to_string(), "old".to_string()))
    );
    assert_eq!(all.len(), 6);
    assert!(fk.requests().is_empty());
}

#[test]
fn the_kube_crate_works_against_it() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};

    let _ = rustls::crypto::ring::default_provider().install_default();
    let fk = FakeKube::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    fk.write_kubeconfig(&path, Some("default"))
        .expect("kubeconfig");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&path).expect("read");
        let options = kube::config::KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kc, &options)
            .await
            .expect("config");
        assert_eq!(config.default_namespace, "default");
        let client = kube::Client::try_from(config).expect("client");
        let info = client.apiserver_version().await.expect("version");
        assert_eq!(info.minor, "33");
        let discovery = kube::discovery::Discovery::new(client.clone())
            .run()
            .await
            .expect("discovery");
        assert!(discovery.has_group("apps"));
        assert!(discovery.has_group("coordination.k8s.io"));

        let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
        let cm: ConfigMap =
            serde_json::from_value(cm("settings", json!({"app": "web"}), json!({"k": "v"})))
                .expect("configmap");
        let apply = PatchParams::apply("cocktail");
        let applied = cms
            .patch("settings", &apply, &Patch::Apply(&cm))
            .await
            .expect("apply");
        assert!(applied.metadata.resource_version.is_some());
        let listed = cms
            .list(&ListParams::default().labels("app=web"))
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 1);
        assert_eq!(listed.items[0].metadata.name.as_deref(), Some("settings"));
        assert!(cms.get_opt("missing").await.expect("get_opt").is_none());
        match cms.create(&PostParams::default(), &cm).await {
            Err(kube::Error::Api(s)) => assert!(s.is_already_exists(), "{s:?}"),
            other => panic!("expected AlreadyExists, got {other:?}"),
        }
        let dry = PatchParams::apply("cocktail").dry_run();
        let mut changed = cm.clone();
        changed.data = Some([("k".to_string(), "w".to_string())].into());
        let preview = cms
            .patch("settings", &dry, &Patch::Apply(&changed))
            .await
            .expect("dry run");
        assert_eq!(
            preview
                .data
                .as_ref()
                .and_then(|d| d.get("k"))
                .map(String::as_str),
            Some("w")
        );
        let stored = cms.get("settings").await.expect("get");
        assert_eq!(
            stored
                .data
                .as_ref()
                .and_then(|d| d.get("k"))
                .map(String::as_str),
            Some("v")
        );

        let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
        let d: Deployment =
            serde_json::from_value(deployment("web", 2, "nginx")).expect("deployment");
        deployments
            .patch("web", &apply, &Patch::Apply(&d))
            .await
            .expect("apply deployment");
        let status = deployments
            .get_status("web")
            .await
            .expect("status")
            .status
            .expect("a status");
        assert_eq!(status.ready_replicas, Some(2));
        fk.apply_as(
            "kubectl-edit",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "default"},
                   "spec": {"replicas": 5}}),
        );
        match deployments.patch("web", &apply, &Patch::Apply(&d)).await {
            Err(kube::Error::Api(s)) => {
                assert!(s.is_conflict(), "{s:?}");
                assert!(s.message.contains(".spec.replicas"), "{}", s.message);
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        let forced = deployments
            .patch("web", &apply.clone().force(), &Patch::Apply(&d))
            .await
            .expect("forced");
        assert_eq!(forced.spec.and_then(|s| s.replicas), Some(2));
        let deleted = cms
            .delete("settings", &DeleteParams::default())
            .await
            .expect("delete");
        assert!(deleted.is_right(), "an immediate delete answers a Status");
    });
    let reqs = fk.requests();
    assert!(!reqs.is_empty());
    assert!(
        reqs.iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer fake-token"))
    );
}

// --- CustomResourceDefinitions ------------------------------------------------------------

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const WIDGETS: &str = "/apis/example.com/v1/namespaces/default/widgets";

fn crd_version(name: &str, served: bool, storage: bool, properties: Value) -> Value {
    json!({
        "name": name, "served": served, "storage": storage,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": properties}},
        "subresources": {"status": {}},
    })
}

fn widget_crd(versions: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"],
                      "categories": ["all"]},
            "versions": versions,
        },
    })
}

fn widget(name: &str, size: i64) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget",
           "metadata": {"name": name}, "spec": {"size": size}})
}

fn condition<'a>(obj: &'a Value, ctype: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == ctype)
}

#[test]
fn crds_serve_their_custom_resources_once_established() {
    let api = setup();
    let crd = widget_crd(json!([
        crd_version("v1alpha1", false, false, json!({})),
        crd_version("v1beta1", true, false, json!({})),
        crd_version("v1", true, true, json!({})),
    ]));
    let (code, created) = api.post(CRDS, &crd);
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["spec"]["names"]["singular"], "widget", "defaulted");
    assert_eq!(created["spec"]["names"]["listKind"], "WidgetList");
    assert_eq!(created["status"]["storedVersions"], json!(["v1"]));
    let (_, crd) = api.get(&format!("{CRDS}/widgets.example.com"));
    let s = &crd["status"];
    assert_eq!(s["acceptedNames"]["kind"], "Widget");
    assert_eq!(s["acceptedNames"]["shortNames"], json!(["wd"]));
    let names = condition(&crd, "NamesAccepted").expect("NamesAccepted");
    assert_eq!(
        (&names["status"], &names["reason"]),
        (&json!("True"), &json!("NoConflicts"))
    );
    let est = condition(&crd, "Established").expect("Established");
    assert_eq!(
        (&est["status"], &est["reason"], &est["message"]),
        (
            &json!("True"),
            &json!("InitialNamesAccepted"),
            &json!("the initial names have been accepted")
        )
    );
    assert!(est["lastTransitionTime"].is_string());

    // Discovery: the group, its served versions (preferred first), the resources.
    let (_, groups) = api.get("/apis");
    let g = groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["name"] == "example.com")
        .cloned()
        .expect("example.com in /apis");
    assert_eq!(
        g["versions"],
        json!([{"groupVersion": "example.com/v1", "version": "v1"},
               {"groupVersion": "example.com/v1beta1", "version": "v1beta1"}])
    );
    assert_eq!(g["preferredVersion"]["version"], "v1");
    let (code, g) = api.get("/apis/example.com");
    assert_eq!((code, &g["kind"]), (200, &json!("APIGroup")));
    assert_eq!(api.get("/apis/example.com/v1alpha1").0, 404, "not served");
    let (_, list) = api.get("/apis/example.com/v1");
    let resources = list["resources"].as_array().expect("resources");
    let w = resources
        .iter()
        .find(|r| r["name"] == "widgets")
        .expect("widgets");
    assert_eq!(w["kind"], "Widget");
    assert_eq!(w["singularName"], "widget");
    assert_eq!(w["namespaced"], true);
    assert_eq!(w["shortNames"], json!(["wd"]));
    assert_eq!(w["categories"], json!(["all"]));
    assert!(resources.iter().any(|r| r["name"] == "widgets/status"));

    // The custom resources: create, apply, list, patch, status, other versions, delete.
    let (code, v) = api.post(WIDGETS, &widget("a", 1));
    assert_eq!(code, 201, "{v}");
    assert!(v["metadata"]["uid"].is_string());
    assert_eq!(v["metadata"]["generation"], 1);
    let (code, v) = api.apply(&format!("{WIDGETS}/b"), "m", &widget("b", 2));
    assert_eq!(code, 201, "{v}");
    assert_eq!(api.list(WIDGETS, &[]), ["a", "b"]);
    let (code, v) = api.call(
        "PATCH",
        &format!("{WIDGETS}/a"),
        &[],
        Some(MERGE),
        Some(&json!({"spec": {"size": 5}})),
    );
    assert_eq!((code, &v["spec"]["size"]), (200, &json!(5)));
    assert_eq!(v["metadata"]["generation"], 2);
    let mut with_status = v.clone();
    with_status["status"] = json!({"phase": "Ready"});
    let (code, v) = api.put(&format!("{WIDGETS}/a/status"), &with_status);
    assert_eq!((code, &v["status"]["phase"]), (200, &json!("Ready")));
    assert_eq!(v["metadata"]["generation"], 2, "status is not the spec");
    let (code, v) = api.get("/apis/example.com/v1beta1/namespaces/default/widgets/a");
    assert_eq!(code, 200);
    assert_eq!(v["apiVersion"], "example.com/v1beta1");
    assert_eq!(
        api.fk
            .object("example.com/v1", "Widget", Some("default"), "a")
            .expect("helper")["spec"]["size"],
        5
    );
    let (code, _) = api.call("DELETE", &format!("{WIDGETS}/b"), &[], None, None);
    assert_eq!(code, 200);
    assert_eq!(api.list(WIDGETS, &[]), ["a"]);
    assert_eq!(
        api.get("/apis/example.com/v1/widgets").0,
        200,
        "all namespaces"
    );

    // Deleting the CRD deletes its custom resources and stops serving them.
    let (code, _) = api.call(
        "DELETE",
        &format!("{CRDS}/widgets.example.com"),
        &[],
        None,
        None,
    );
    assert_eq!(code, 200);
    assert!(
        api.fk
            .object("example.com/v1", "Widget", Some("default"), "a")
            .is_none()
    );
    assert!(api.fk.objects().iter().all(|o| o["kind"] != "Widget"));
    assert_eq!(api.get(WIDGETS).0, 404);
    assert_eq!(api.get("/apis/example.com").0, 404);
    // Created again, it serves an empty collection.
    assert_eq!(api.post(CRDS, &crd).0, 201);
    assert_eq!(api.list(WIDGETS, &[]), Vec::<String>::new());
}

#[test]
fn cluster_scoped_crds_without_a_status_subresource() {
    let api = setup();
    let mut crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.tools.example.org"},
        "spec": {"group": "tools.example.org", "scope": "Cluster",
                 "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                          "x-kubernetes-preserve-unknown-fields": true}}}]},
    });
    let (code, v) = api.apply(&format!("{CRDS}/gadgets.tools.example.org"), "m", &crd);
    assert_eq!(code, 201, "{v}");
    let (_, list) = api.get("/apis/tools.example.org/v1");
    let names: Vec<&str> = list["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["gadgets"]);
    assert_eq!(list["resources"][0]["namespaced"], false);
    let g = json!({"apiVersion": "tools.example.org/v1", "kind": "Gadget",
                   "metadata": {"name": "g"}, "anything": {"goes": true}});
    let (code, v) = api.post("/apis/tools.example.org/v1/gadgets", &g);
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["anything"]["goes"], true, "no schema pruning");
    assert_eq!(
        api.get("/apis/tools.example.org/v1/gadgets/g/status").0,
        404
    );
    assert_eq!(
        api.get("/apis/tools.example.org/v1/namespaces/default/gadgets/g")
            .0,
        404
    );
    // Re-applying the same CRD changes nothing.
    let rv = api.rv(&format!("{CRDS}/gadgets.tools.example.org"));
    api.apply(&format!("{CRDS}/gadgets.tools.example.org"), "m", &crd);
    assert_eq!(api.rv(&format!("{CRDS}/gadgets.tools.example.org")), rv);
    // Not serving the only version any more is allowed; the resource is gone from the API.
    crd["spec"]["versions"][0]["served"] = json!(false);
    let (code, v) = api.apply(&format!("{CRDS}/gadgets.tools.example.org"), "m", &crd);
    assert_eq!(code, 200, "{v}");
    assert_eq!(api.get("/apis/tools.example.org/v1/gadgets/g").0, 404);
    assert!(
        api.fk.objects().iter().any(|o| o["kind"] == "Gadget"),
        "stored, not deleted"
    );
}

#[test]
fn crds_wait_for_established_under_never_readiness() {
    let api = setup();
    api.fk.set_readiness(Readiness::Never);
    let crd = widget_crd(json!([crd_version("v1", true, true, json!({}))]));
    assert_eq!(api.post(CRDS, &crd).0, 201);
    let (_, crd) = api.get(&format!("{CRDS}/widgets.example.com"));
    assert_eq!(
        condition(&crd, "NamesAccepted").expect("names")["status"],
        "True"
    );
    let est = condition(&crd, "Established").expect("Established");
    assert_eq!(
        (&est["status"], &est["reason"]),
        (&json!("False"), &json!("Installing"))
    );
    let (code, v) = api.post(WIDGETS, &widget("a", 1));
    assert_eq!(code, 404, "{v}");
    assert_eq!(v["reason"], "NotFound");
    assert_eq!(api.get("/apis/example.com/v1").0, 404);
    api.fk.set_readiness(Readiness::Immediate);
    let (_, crd) = api.get(&format!("{CRDS}/widgets.example.com"));
    assert_eq!(
        condition(&crd, "Established").expect("Established")["status"],
        "True"
    );
    assert_eq!(api.post(WIDGETS, &widget("a", 1)).0, 201);
}

#[test]
fn crd_validation_follows_the_apiextensions_server() {
    let api = setup();
    let mut bad = widget_crd(json!([crd_version("v1", true, true, json!({}))]));
    bad["metadata"]["name"] = json!("widgets.example.org");
    let (code, v) = api.post(CRDS, &bad);
    assert_eq!(code, 422, "{v}");
    assert_eq!(v["reason"], "Invalid");
    assert_eq!(
        v["message"],
        "CustomResourceDefinition.apiextensions.k8s.io \"widgets.example.org\" is invalid: \
         metadata.name: Invalid value: \"widgets.example.org\": must be spec.names.plural+\".\"+spec.group"
    );
    let two = widget_crd(json!([
        crd_version("v1", true, true, json!({})),
        crd_version("v2", true, true, json!({})),
    ]));
    let (code, v) = api.post(CRDS, &two);
    assert_eq!(code, 422, "{v}");
    let msg = v["message"].as_str().expect("message");
    assert!(
        msg.contains("spec.versions: Invalid value: ")
            && msg.ends_with("must have exactly one version marked as storage version"),
        "{msg}"
    );
    let mut no_schema = widget_crd(json!([{"name": "v1", "served": true, "storage": true}]));
    let (code, v) = api.post(CRDS, &no_schema);
    assert_eq!(code, 422, "{v}");
    assert!(
        v["message"].as_str().expect("message").ends_with(
            "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"
        ),
        "{v}"
    );
    no_schema["spec"]["group"] = json!("nodot");
    assert_eq!(api.post(CRDS, &no_schema).0, 422);

    // Stored versions accumulate; an update dropping one is refused.
    let v1 = widget_crd(json!([crd_version("v1", true, true, json!({}))]));
    let path = format!("{CRDS}/widgets.example.com");
    assert_eq!(api.apply(&path, "m", &v1).0, 201);
    let both = widget_crd(json!([
        crd_version("v1", true, false, json!({})),
        crd_version("v2", true, true, json!({})),
    ]));
    let (code, v) = api.apply(&path, "m", &both);
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"]["storedVersions"], json!(["v1", "v2"]));
    let only_v2 = widget_crd(json!([crd_version("v2", true, true, json!({}))]));
    let (code, v) = api.apply(&path, "m", &only_v2);
    assert_eq!(code, 422, "{v}");
    assert_eq!(
        v["message"],
        "CustomResourceDefinition.apiextensions.k8s.io \"widgets.example.com\" is invalid: \
         status.storedVersions[0]: Invalid value: \"v1\": must appear in spec.versions"
    );
    assert_eq!(
        v["details"]["causes"][0]["field"],
        "status.storedVersions[0]"
    );
    // Once the stored versions are migrated (status written by a storage migrator), it is.
    let (_, live) = api.get(&path);
    let mut migrated = live.clone();
    migrated["status"]["storedVersions"] = json!(["v2"]);
    assert_eq!(api.put(&format!("{path}/status"), &migrated).0, 200);
    let (code, v) = api.apply(&path, "m", &only_v2);
    assert_eq!(code, 200, "{v}");
    // Group and plural never change; kind and scope not once established.
    let mut renamed = only_v2.clone();
    renamed["spec"]["names"]["kind"] = json!("Gizmo");
    renamed["spec"]["scope"] = json!("Cluster");
    let (code, v) = api.apply(&path, "m", &renamed);
    assert_eq!(code, 422, "{v}");
    let msg = v["message"].as_str().expect("message");
    assert!(
        msg.contains("spec.scope: Invalid value: \"Cluster\": field is immutable")
            && msg.contains("spec.names.kind: Invalid value: \"Gizmo\": field is immutable"),
        "{msg}"
    );
}

#[test]
fn the_kube_crate_discovers_custom_resources() {
    use kube::api::{Api as KubeApi, DynamicObject, Patch, PatchParams};

    let _ = rustls::crypto::ring::default_provider().install_default();
    let fk = FakeKube::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    fk.write_kubeconfig(&path, Some("default"))
        .expect("kubeconfig");
    fk.apply_as(
        "test",
        widget_crd(json!([crd_version("v1", true, true, json!({}))])),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&path).expect("read");
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .expect("config");
        let client = kube::Client::try_from(config).expect("client");
        let discovery = kube::discovery::Discovery::new(client.clone())
            .run()
            .await
            .expect("discovery");
        assert!(discovery.has_group("example.com"));
        let gvk = kube::core::GroupVersionKind::gvk("example.com", "v1", "Widget");
        let (ar, caps) = discovery.resolve_gvk(&gvk).expect("Widget is discovered");
        assert_eq!(ar.plural, "widgets");
        assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
        let group = kube::discovery::group(&client, "example.com")
            .await
            .expect("group");
        assert_eq!(group.preferred_version_or_latest(), "v1");
        let widgets: KubeApi<DynamicObject> =
            KubeApi::namespaced_with(client.clone(), "default", &ar);
        let w: DynamicObject = serde_json::from_value(widget("w", 3)).expect("widget");
        widgets
            .patch("w", &PatchParams::apply("cocktail"), &Patch::Apply(&w))
            .await
            .expect("apply a widget");
        let got = widgets.get("w").await.expect("get");
        assert_eq!(got.data["spec"]["size"], 3);
    });
}

// --- Jobs, Pods, events and logs -------------------------------------------------------------

const JOBS: &str = "/apis/batch/v1/namespaces/default/jobs";
const PODS: &str = "/api/v1/namespaces/default/pods";
const EVENTS: &str = "/api/v1/namespaces/default/events";

fn job(name: &str, job_annotations: Value, pod_annotations: Value, restart: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "annotations": job_annotations},
        "spec": {"backoffLimit": 0, "template": {
            "metadata": {"labels": {"app": name}, "annotations": pod_annotations},
            "spec": {"restartPolicy": restart,
                     "containers": [{"name": "main", "image": "busybox"}]},
        }},
    })
}

fn pod(name: &str, annotations: Value, restart: &str, containers: &[&str]) -> Value {
    let cs: Vec<Value> = containers
        .iter()
        .map(|c| json!({"name": c, "image": "busybox"}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "annotations": annotations},
           "spec": {"restartPolicy": restart, "containers": cs}})
}

/// The events about `name` of `kind`, by field selector, as (type, reason, message).
fn events_of(api: &Api, kind: &str, name: &str) -> Vec<(String, String, String)> {
    let selector = format!("involvedObject.name={name},involvedObject.kind={kind}");
    let (code, v) = api.call("GET", EVENTS, &[("fieldSelector", &selector)], None, None);
    assert_eq!(code, 200, "{v}");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
            (s("type"), s("reason"), s("message"))
        })
        .collect()
}

fn pods_of_job(api: &Api, job: &str) -> Vec<Value> {
    let (code, v) = api.call(
        "GET",
        PODS,
        &[("labelSelector", &format!("job-name={job}"))],
        None,
        None,
    );
    assert_eq!(code, 200, "{v}");
    v["items"].as_array().expect("items").clone()
}

#[test]
fn a_job_runs_one_labelled_pod_to_completion_and_records_events() {
    let api = setup();
    let (code, j) = api.post(JOBS, &job("migrate", json!({}), json!({}), "Never"));
    assert_eq!(code, 201, "{j}");
    let (_, j) = api.get(&format!("{JOBS}/migrate"));
    let uid = j["metadata"]["uid"].as_str().expect("uid");
    assert_eq!(j["status"]["succeeded"], 1);
    assert_eq!(
        condition(&j, "Complete").expect("Complete")["status"],
        "True"
    );
    let pods = pods_of_job(&api, "migrate");
    assert_eq!(pods.len(), 1);
    let p = &pods[0];
    let name = p["metadata"]["name"].as_str().expect("name");
    assert!(
        name.starts_with("migrate-") && name.len() == "migrate-".len() + 5,
        "{name}"
    );
    let labels = &p["metadata"]["labels"];
    assert_eq!(labels["app"], "migrate", "the template's labels");
    assert_eq!(labels["batch.kubernetes.io/job-name"], "migrate");
    assert_eq!(labels["controller-uid"], uid);
    assert_eq!(labels["batch.kubernetes.io/controller-uid"], uid);
    let owner = &p["metadata"]["ownerReferences"][0];
    assert_eq!(
        (&owner["kind"], &owner["uid"], &owner["controller"]),
        (&json!("Job"), &json!(uid), &json!(true))
    );
    assert_eq!(p["status"]["phase"], "Succeeded");
    let term = &p["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(
        (&term["exitCode"], &term["reason"]),
        (&json!(0), &json!("Completed"))
    );
    assert_eq!(
        events_of(&api, "Job", "migrate"),
        [
            (
                "Normal".to_string(),
                "SuccessfulCreate".to_string(),
                format!("Created pod: {name}")
            ),
            (
                "Normal".to_string(),
                "Completed".to_string(),
                "Job completed".to_string()
            ),
        ]
    );
    let (_, all) = api.get(EVENTS);
    let created = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["reason"] == "SuccessfulCreate")
        .cloned()
        .expect("event");
    assert_eq!(created["involvedObject"]["uid"], uid);
    assert_eq!(created["involvedObject"]["apiVersion"], "batch/v1");
    assert_eq!(created["source"]["component"], "job-controller");
    assert_eq!(created["count"], 1);
    assert!(created["firstTimestamp"].is_string() && created["lastTimestamp"].is_string());
    // Other field selectors of events; unsupported ones are refused as the server does.
    let (_, v) = api.call(
        "GET",
        EVENTS,
        &[("fieldSelector", "source=job-controller,type!=Warning")],
        None,
        None,
    );
    assert_eq!(v["items"].as_array().expect("items").len(), 2);
    let (code, v) = api.call(
        "GET",
        CMS,
        &[("fieldSelector", "involvedObject.name=x")],
        None,
        None,
    );
    assert_eq!(
        (code, &v["message"]),
        (
            400,
            &json!("field label not supported: involvedObject.name")
        )
    );
    let (_, v) = api.call(
        "GET",
        PODS,
        &[("fieldSelector", "status.phase=Succeeded")],
        None,
        None,
    );
    assert_eq!(names(&v), [name]);
    // Deleting the Job collects its pod.
    assert_eq!(
        api.call("DELETE", &format!("{JOBS}/migrate"), &[], None, None)
            .0,
        200
    );
    assert!(pods_of_job(&api, "migrate").is_empty());
}

#[test]
fn the_outcome_knob_fails_jobs_and_pods_with_events() {
    let api = setup();
    let knobs = json!({"fake-kube.cocktail.io/outcome": "fail",
                       "fake-kube.cocktail.io/exit-code": "3"});
    assert_eq!(
        api.post(JOBS, &job("bad", json!({}), knobs, "Never")).0,
        201
    );
    let (_, j) = api.get(&format!("{JOBS}/bad"));
    let failed = condition(&j, "Failed").expect("Failed");
    assert_eq!(
        (&failed["status"], &failed["reason"], &failed["message"]),
        (
            &json!("True"),
            &json!("BackoffLimitExceeded"),
            &json!("Job has reached the specified backoff limit")
        )
    );
    assert_eq!(j["status"]["failed"], 1);
    assert!(condition(&j, "Complete").is_none());
    let pods = pods_of_job(&api, "bad");
    let p = &pods[0];
    assert_eq!(p["status"]["phase"], "Failed");
    let term = &p["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(
        (&term["exitCode"], &term["reason"]),
        (&json!(3), &json!("Error"))
    );
    let events = events_of(&api, "Job", "bad");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[1],
        (
            "Warning".to_string(),
            "BackoffLimitExceeded".to_string(),
            "Job has reached the specified backoff limit".to_string()
        )
    );
    let pod_name = p["metadata"]["name"].as_str().expect("name");
    let pod_events = events_of(&api, "Pod", pod_name);
    assert_eq!(
        pod_events,
        [(
            "Warning".to_string(),
            "Failed".to_string(),
            "Error: container main exited with code 3".to_string()
        )]
    );

    // On the Job itself, the knob reaches the pod; a pod that restarts backs off first.
    let knob = json!({"fake-kube.cocktail.io/outcome": "fail"});
    assert_eq!(
        api.post(JOBS, &job("bad2", knob.clone(), json!({}), "OnFailure"))
            .0,
        201
    );
    let p = &pods_of_job(&api, "bad2")[0];
    assert_eq!(
        p["metadata"]["annotations"]["fake-kube.cocktail.io/outcome"],
        "fail"
    );
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        1
    );
    let (code, _) = api.post(PODS, &pod("web", knob, "Always", &["app"]));
    assert_eq!(code, 201);
    let reasons: Vec<String> = events_of(&api, "Pod", "web")
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(reasons, ["BackOff", "Failed"]);
    let (_, v) = api.call(
        "GET",
        EVENTS,
        &[("fieldSelector", "involvedObject.name=web,reason=BackOff")],
        None,
        None,
    );
    let backoff = &v["items"][0];
    assert!(
        backoff["message"]
            .as_str()
            .expect("message")
            .starts_with("Back-off restarting failed container app in pod web_default("),
        "{backoff}"
    );
    assert_eq!(
        backoff["involvedObject"]["fieldPath"],
        "spec.containers{app}"
    );
    assert_eq!(backoff["source"]["component"], "kubelet");
}

#[test]
fn the_outcome_knob_overrides_readiness() {
    let api = setup();
    // Run-to-completion pods succeed at once; others run.
    api.post(PODS, &pod("once", json!({}), "OnFailure", &["c"]));
    api.post(PODS, &pod("server", json!({}), "Always", &["c"]));
    let phase = |name: &str| api.get(&format!("{PODS}/{name}")).1["status"]["phase"].clone();
    assert_eq!(phase("once"), "Succeeded");
    assert_eq!(phase("server"), "Running");
    let (_, server) = api.get(&format!("{PODS}/server"));
    assert_eq!(server["status"]["containerStatuses"][0]["ready"], true);

    // `never` runs forever; `succeed` completes even when nothing else becomes ready.
    let never = json!({"fake-kube.cocktail.io/outcome": "never"});
    api.post(JOBS, &job("forever", never.clone(), json!({}), "Never"));
    let (_, j) = api.get(&format!("{JOBS}/forever"));
    assert_eq!(j["status"]["active"], 1);
    assert!(j["status"].get("conditions").is_none());
    let p = &pods_of_job(&api, "forever")[0];
    assert_eq!(p["status"]["phase"], "Running");
    assert_eq!(
        condition(p, "Ready").expect("Ready")["status"],
        "False",
        "running, never done"
    );

    api.fk.set_readiness(Readiness::Never);
    let succeed = json!({"fake-kube.cocktail.io/outcome": "succeed"});
    api.post(JOBS, &job("quick", json!({}), succeed, "Never"));
    api.post(JOBS, &job("slow", json!({}), json!({}), "Never"));
    let (_, j) = api.get(&format!("{JOBS}/quick"));
    assert_eq!(j["status"]["succeeded"], 1);
    assert_eq!(
        pods_of_job(&api, "quick")[0]["status"]["phase"],
        "Succeeded"
    );
    let (_, j) = api.get(&format!("{JOBS}/slow"));
    assert_eq!(j["status"]["active"], 1);
    assert_eq!(pods_of_job(&api, "slow")[0]["status"]["phase"], "Pending");
    api.post(PODS, &pod("later", json!({}), "Never", &["c"]));
    assert_eq!(phase("later"), "Pending");
    api.fk.set_readiness(Readiness::Immediate);
    assert_eq!(phase("later"), "Succeeded");
    assert_eq!(pods_of_job(&api, "slow")[0]["status"]["phase"], "Succeeded");
    let (_, j) = api.get(&format!("{JOBS}/slow"));
    assert_eq!(j["status"]["succeeded"], 1);
    assert_eq!(pods_of_job(&api, "slow").len(), 1, "one pod per Job");
    assert_eq!(phase("forever"), Value::Null, "not a pod name");
}

#[test]
fn pod_logs_are_plain_text_from_the_log_annotation() {
    let api = setup();
    let log = json!({"fake-kube.cocktail.io/log": "one\ntwo\nthree\nfour\n",
                     "fake-kube.cocktail.io/log.side": "side car\n"});
    api.post(PODS, &pod("two", log.clone(), "Never", &["main", "side"]));
    let (code, v) = api.get(&format!("{PODS}/two/log"));
    assert_eq!(code, 400);
    assert_eq!(
        v["message"],
        "a container name must be specified for pod two, choose one of: [main side]"
    );
    let text = |query: &[(&str, &str)]| {
        let (code, v) = api.call("GET", &format!("{PODS}/two/log"), query, None, None);
        assert_eq!(code, 200, "{v}");
        v.as_str().expect("plain text").to_string()
    };
    assert_eq!(text(&[("container", "main")]), "one\ntwo\nthree\nfour\n");
    assert_eq!(
        text(&[("container", "main"), ("tailLines", "2")]),
        "three\nfour\n"
    );
    assert_eq!(
        text(&[
            ("container", "main"),
            ("previous", "true"),
            ("timestamps", "false")
        ]),
        "one\ntwo\nthree\nfour\n"
    );
    assert_eq!(text(&[("container", "side")]), "side car\n");
    let stamped = text(&[("container", "side"), ("timestamps", "true")]);
    let (stamp, line) = stamped.split_once(' ').expect("a timestamp");
    assert!(stamp.ends_with(".000000000Z"), "{stamp}");
    assert_eq!(line, "side car\n");
    let (code, v) = api.call(
        "GET",
        &format!("{PODS}/two/log"),
        &[("container", "nope")],
        None,
        None,
    );
    assert_eq!(
        (code, &v["message"]),
        (400, &json!("container nope is not valid for pod two"))
    );
    let resp = api
        .client
        .get(format!(
            "{}{PODS}/two/log?container=main&tailLines=1",
            api.fk.url
        ))
        .send()
        .expect("send");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/plain")
    );
    assert_eq!(resp.text().expect("text"), "four\n");
    let (code, v) = api.get(&format!("{PODS}/missing/log"));
    assert_eq!(
        (code, &v["message"]),
        (404, &json!("pods \"missing\" not found"))
    );

    // A Job's pod carries its template's log; a pending pod has no log yet.
    api.post(
        JOBS,
        &job(
            "talk",
            json!({}),
            json!({"fake-kube.cocktail.io/log": "migrated 3 tables\n"}),
            "Never",
        ),
    );
    let p = &pods_of_job(&api, "talk")[0];
    let name = p["metadata"]["name"].as_str().expect("name");
    let (_, v) = api.get(&format!("{PODS}/{name}/log"));
    assert_eq!(v, "migrated 3 tables\n");
    api.fk.set_readiness(Readiness::Never);
    api.post(PODS, &pod("waiting", json!({}), "Never", &["main"]));
    let (code, v) = api.get(&format!("{PODS}/waiting/log"));
    assert_eq!(
        (code, &v["message"]),
        (
            400,
            &json!("container \"main\" in pod \"waiting\" is waiting to start: ContainerCreating")
        )
    );
}

/// `events.k8s.io/v1` serves the same events as core/v1, converted, with its field names.
#[test]
fn events_k8s_io_v1_serves_the_core_events_converted() {
    let api = setup();
    let knobs = json!({"fake-kube.cocktail.io/outcome": "fail"});
    assert_eq!(
        api.post(JOBS, &job("bad", json!({}), knobs, "Never")).0,
        201
    );
    let path = "/apis/events.k8s.io/v1/namespaces/default/events";
    let (code, v) = api.call(
        "GET",
        path,
        &[(
            "fieldSelector",
            "regarding.name=bad,regarding.kind=Job,type=Warning",
        )],
        None,
        None,
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["apiVersion"], "events.k8s.io/v1");
    assert_eq!(v["kind"], "EventList");
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{v}");
    let e = &items[0];
    assert_eq!(e["apiVersion"], "events.k8s.io/v1");
    assert_eq!(e["regarding"]["name"], "bad");
    assert_eq!(e["reason"], "BackoffLimitExceeded");
    assert_eq!(e["note"], "Job has reached the specified backoff limit");
    assert_eq!(e["reportingController"], "job-controller");
    assert_eq!(e["deprecatedCount"], 1);
    assert!(e.get("eventTime").is_some());
    // By name, and the same object as core/v1 has.
    let name = e["metadata"]["name"].as_str().expect("name");
    let (code, one) = api.get(&format!("{path}/{name}"));
    assert_eq!(code, 200, "{one}");
    assert_eq!(one["note"], e["note"]);
    let (code, core) = api.get(&format!("{EVENTS}/{name}"));
    assert_eq!(code, 200);
    assert_eq!(core["message"], e["note"]);
    // Writes go through core/v1.
    assert_eq!(api.post(path, &json!({"metadata": {"name": "x"}})).0, 405);
}
