//! The built-in catalog: every package renders with its defaults and each test values file
//! (snapshotted), every object is a valid Kubernetes object of its kind (no unknown fields),
//! objects refer to each other correctly, lint finds no errors, and READMEs are current.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cocktail_pkg::lint::{Severity, pod_template};
use cocktail_pkg::model::{ReleaseName, ServiceMapName};
use cocktail_pkg::ops::lint::{LintOptions, lint};
use cocktail_pkg::ops::{Generation, ValuesSources, resolve_values};
use cocktail_pkg::package::Package;
use cocktail_pkg::render::{self, Capabilities, ReleaseInfo, RenderContext, RenderedObject};
use serde_json::Value;

use crate::support::root;

fn packages() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("catalog"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("package.yaml").is_file())
        .collect();
    out.sort();
    out
}

/// (variant name, values files) for a package: defaults, then each tests/*.values.yaml.
fn variants(dir: &Path) -> Vec<(String, Vec<PathBuf>)> {
    let mut out = vec![("defaults".to_string(), Vec::new())];
    if let Ok(entries) = std::fs::read_dir(dir.join("tests")) {
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if let Some(v) = name.strip_suffix(".values.yaml") {
                out.push((v.to_string(), vec![f]));
            }
        }
    }
    out
}

struct Rendered {
    pkg: Package,
    values: Value,
    objects: Vec<RenderedObject>,
    text: String,
}

fn render_variant(dir: &Path, files: &[PathBuf]) -> Rendered {
    let pkg = cocktail_pkg::source::load(dir, None).unwrap().package;
    let input = ValuesSources {
        files: files.to_vec(),
        ..Default::default()
    }
    .read()
    .unwrap();
    let values = resolve_values(&pkg, &input, Generation::Placeholder)
        .unwrap_or_else(|e| panic!("{}: {}", dir.display(), cocktail_pkg::error_chain(&e)))
        .values;
    let ctx = RenderContext {
        release: ReleaseInfo {
            name: ReleaseName::new("demo").unwrap(),
            service_map: ServiceMapName::new("shop").unwrap(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        },
        capabilities: Capabilities::default(),
        entropy: Default::default(),
    };
    let r = render::render(&pkg, &values, &ctx)
        .unwrap_or_else(|e| panic!("{}: {}", dir.display(), cocktail_pkg::error_chain(&e)));
    let mut text = r.to_yaml_stream(pkg.manifest.name.as_str()).unwrap();
    if let Some(notes) = &r.notes {
        text.push_str("--- NOTES.txt\n");
        text.push_str(notes);
    }
    Rendered {
        pkg,
        values,
        objects: r.objects,
        text,
    }
}

#[test]
fn catalog_has_the_promised_breadth() {
    let names: Vec<String> = packages()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert!(names.len() >= 15, "{names:?}");
    let mut kinds = BTreeSet::new();
    for dir in packages() {
        for (_, files) in variants(&dir) {
            for o in render_variant(&dir, &files).objects {
                kinds.insert(o.id.kind.clone());
            }
        }
    }
    for k in [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "HorizontalPodAutoscaler",
        "Service",
        "Ingress",
        "PersistentVolumeClaim",
        "ConfigMap",
        "Secret",
    ] {
        assert!(
            kinds.contains(k),
            "no catalog package renders a {k}: {kinds:?}"
        );
    }
}

#[test]
fn catalog_renders_match_snapshots() {
    for dir in packages() {
        let pkg = dir.file_name().unwrap().to_string_lossy().to_string();
        for (variant, files) in variants(&dir) {
            let r = render_variant(&dir, &files);
            insta::assert_snapshot!(format!("catalog-{pkg}-{variant}"), r.text);
        }
    }
}

fn unknown_fields<T: serde::de::DeserializeOwned>(v: &Value) -> Result<Vec<String>, String> {
    let mut unknown = Vec::new();
    let text = v.to_string();
    let de = &mut serde_json::Deserializer::from_str(&text);
    let _: T = serde_ignored::deserialize(de, |p| unknown.push(p.to_string()))
        .map_err(|e| e.to_string())?;
    Ok(unknown)
}

/// Deserializes an object into the k8s-openapi type of its apiVersion/kind.
fn check_api_type(o: &Value) -> Result<Vec<String>, String> {
    use k8s_openapi::api::{
        apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch, core::v1 as core,
        networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
    };
    let api = o["apiVersion"].as_str().unwrap_or("");
    let kind = o["kind"].as_str().unwrap_or("");
    match (api, kind) {
        ("apps/v1", "Deployment") => unknown_fields::<apps::Deployment>(o),
        ("apps/v1", "StatefulSet") => unknown_fields::<apps::StatefulSet>(o),
        ("apps/v1", "DaemonSet") => unknown_fields::<apps::DaemonSet>(o),
        ("batch/v1", "Job") => unknown_fields::<batch::Job>(o),
        ("batch/v1", "CronJob") => unknown_fields::<batch::CronJob>(o),
        ("v1", "Service") => unknown_fields::<core::Service>(o),
        ("v1", "ConfigMap") => unknown_fields::<core::ConfigMap>(o),
        ("v1", "Secret") => unknown_fields::<core::Secret>(o),
        ("v1", "PersistentVolumeClaim") => unknown_fields::<core::PersistentVolumeClaim>(o),
        ("v1", "ServiceAccount") => unknown_fields::<core::ServiceAccount>(o),
        ("networking.k8s.io/v1", "Ingress") => unknown_fields::<networking::Ingress>(o),
        ("networking.k8s.io/v1", "NetworkPolicy") => unknown_fields::<networking::NetworkPolicy>(o),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => {
            unknown_fields::<autoscaling::HorizontalPodAutoscaler>(o)
        }
        ("policy/v1", "PodDisruptionBudget") => unknown_fields::<policy::PodDisruptionBudget>(o),
        ("rbac.authorization.k8s.io/v1", "Role") => unknown_fields::<rbac::Role>(o),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => unknown_fields::<rbac::RoleBinding>(o),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => unknown_fields::<rbac::ClusterRole>(o),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            unknown_fields::<rbac::ClusterRoleBinding>(o)
        }
        _ => Err(format!("unknown apiVersion/kind {api}/{kind}")),
    }
}

#[test]
fn every_object_is_a_valid_kubernetes_object() {
    let mut failures = Vec::new();
    for dir in packages() {
        for (variant, files) in variants(&dir) {
            for o in render_variant(&dir, &files).objects {
                let at = format!("{} [{variant}] {}/{}", dir.display(), o.id.kind, o.id.name);
                match check_api_type(&o.object) {
                    Ok(u) if u.is_empty() => {}
                    Ok(u) => failures.push(format!("{at}: unknown fields {u:?}")),
                    Err(e) => failures.push(format!("{at}: {e}")),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every string anywhere in the values: names a package takes from the user.
fn value_strings(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| value_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| value_strings(x, out)),
        _ => {}
    }
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// A pod template's identity, labels and container ports.
struct Pod {
    labels: BTreeMap<String, String>,
    port_names: BTreeSet<String>,
    port_numbers: BTreeSet<i64>,
}

/// The cross-object problems of one rendered variant.
fn cross_object_problems(r: &Rendered) -> Vec<String> {
    let mut problems = Vec::new();
    let mut supplied = BTreeSet::new();
    value_strings(&r.values, &mut supplied);
    let named = |kind: &str| -> BTreeSet<String> {
        r.objects
            .iter()
            .filter(|o| o.id.kind == kind)
            .map(|o| o.id.name.clone())
            .collect()
    };
    let (configmaps, secrets, mut pvcs, services, accounts) = (
        named("ConfigMap"),
        named("Secret"),
        named("PersistentVolumeClaim"),
        named("Service"),
        named("ServiceAccount"),
    );
    // Pods: labels, container port names, and what they reference.
    let mut pods: Vec<Pod> = Vec::new();
    for o in &r.objects {
        if o.id.kind == "StatefulSet"
            && let Some(Value::Array(ts)) = o.object.pointer("/spec/volumeClaimTemplates")
        {
            for t in ts {
                if let Some(n) = str_at(t, "/metadata/name") {
                    pvcs.insert(n.to_string());
                }
            }
        }
    }
    let known = |set: &BTreeSet<String>, name: &str| set.contains(name) || supplied.contains(name);
    for o in &r.objects {
        let Some((meta, spec)) = pod_template(o) else {
            continue;
        };
        let at = format!("{}/{}", o.id.kind, o.id.name);
        let labels: BTreeMap<String, String> = meta
            .get("labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let mut port_names = BTreeSet::new();
        let mut port_numbers = BTreeSet::new();
        for field in ["containers", "initContainers"] {
            for c in spec
                .get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for p in c
                    .get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = p.get("name").and_then(Value::as_str) {
                        port_names.insert(n.to_string());
                    }
                    if let Some(n) = p.get("containerPort").and_then(Value::as_i64) {
                        port_numbers.insert(n);
                    }
                }
                for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
                    for (key, set) in [("configMapKeyRef", &configmaps), ("secretKeyRef", &secrets)]
                    {
                        if let Some(r) = e.pointer(&format!("/valueFrom/{key}"))
                            && r.get("optional") != Some(&Value::Bool(true))
                            && let Some(n) = r.get("name").and_then(Value::as_str)
                            && !known(set, n)
                        {
                            problems.push(format!("{at}: env {key} names `{n}`, which is not rendered or set by a value"));
                        }
                    }
                }
                for e in c
                    .get("envFrom")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    for (key, set) in [("configMapRef", &configmaps), ("secretRef", &secrets)] {
                        if let Some(r) = e.get(key)
                            && r.get("optional") != Some(&Value::Bool(true))
                            && let Some(n) = r.get("name").and_then(Value::as_str)
                            && !known(set, n)
                        {
                            problems.push(format!("{at}: envFrom {key} names `{n}`, which is not rendered or set by a value"));
                        }
                    }
                }
            }
        }
        for v in spec
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let refs = [
                ("configMap", "/configMap/name", &configmaps),
                ("secret", "/secret/secretName", &secrets),
                (
                    "persistentVolumeClaim",
                    "/persistentVolumeClaim/claimName",
                    &pvcs,
                ),
            ];
            for (key, ptr, set) in refs {
                if v.get(key).and_then(|x| x.get("optional")) == Some(&Value::Bool(true)) {
                    continue;
                }
                if let Some(n) = str_at(v, ptr)
                    && !known(set, n)
                {
                    problems.push(format!(
                        "{at}: volume {key} `{n}` is not rendered or set by a value"
                    ));
                }
            }
            for src in v
                .pointer("/projected/sources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for (key, set) in [("configMap", &configmaps), ("secret", &secrets)] {
                    if let Some(n) = src
                        .get(key)
                        .and_then(|x| x.get("name"))
                        .and_then(Value::as_str)
                        && !known(set, n)
                    {
                        problems.push(format!(
                            "{at}: projected {key} `{n}` is not rendered or set by a value"
                        ));
                    }
                }
            }
        }
        if let Some(sa) = spec.get("serviceAccountName").and_then(Value::as_str)
            && sa != "default"
            && !known(&accounts, sa)
        {
            problems.push(format!(
                "{at}: serviceAccountName `{sa}` is not rendered or set by a value"
            ));
        }
        if o.id.kind == "StatefulSet"
            && let Some(svc) = str_at(&o.object, "/spec/serviceName")
            && !services.contains(svc)
        {
            problems.push(format!(
                "{at}: serviceName `{svc}` is not a rendered Service"
            ));
        }
        pods.push(Pod {
            labels,
            port_names,
            port_numbers,
        });
    }
    // Services select pods of the package and name ports those pods have.
    let mut service_ports: BTreeMap<String, (BTreeSet<String>, BTreeSet<i64>)> = BTreeMap::new();
    for o in r.objects.iter().filter(|o| o.id.kind == "Service") {
        let at = format!("Service/{}", o.id.name);
        let mut names = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        for p in o
            .object
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = p.get("name").and_then(Value::as_str) {
                names.insert(n.to_string());
            }
            if let Some(n) = p.get("port").and_then(Value::as_i64) {
                numbers.insert(n);
            }
        }
        service_ports.insert(o.id.name.clone(), (names, numbers));
        let Some(selector) = o
            .object
            .pointer("/spec/selector")
            .and_then(Value::as_object)
        else {
            continue;
        };
        let matching: Vec<_> = pods
            .iter()
            .filter(|pod| {
                selector
                    .iter()
                    .all(|(k, v)| pod.labels.get(k).map(String::as_str) == v.as_str())
            })
            .collect();
        if matching.is_empty() {
            problems.push(format!(
                "{at}: selector {selector:?} matches no pod template of the package"
            ));
            continue;
        }
        for p in o
            .object
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match p.get("targetPort") {
                Some(Value::String(name))
                    if !matching.iter().any(|pod| pod.port_names.contains(name)) =>
                {
                    problems.push(format!(
                        "{at}: targetPort `{name}` is not a container port name of the selected pods"
                    ));
                }
                Some(Value::Number(n)) => {
                    let n = n.as_i64().unwrap_or(-1);
                    if !matching.iter().any(|pod| pod.port_numbers.contains(&n)) {
                        problems.push(format!(
                            "{at}: targetPort {n} is not a container port of the selected pods"
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    // Ingress backends name a Service and one of its ports.
    for o in r.objects.iter().filter(|o| o.id.kind == "Ingress") {
        let at = format!("Ingress/{}", o.id.name);
        let mut backends = Vec::new();
        if let Some(b) = o.object.pointer("/spec/defaultBackend/service") {
            backends.push(b.clone());
        }
        for rule in o
            .object
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for path in rule
                .pointer("/http/paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(b) = path.pointer("/backend/service") {
                    backends.push(b.clone());
                }
            }
        }
        for b in backends {
            let name = b.get("name").and_then(Value::as_str).unwrap_or("");
            let Some((names, numbers)) = service_ports.get(name) else {
                problems.push(format!("{at}: backend Service `{name}` is not rendered"));
                continue;
            };
            let ok = match (
                str_at(&b, "/port/name"),
                b.pointer("/port/number").and_then(Value::as_i64),
            ) {
                (Some(pn), _) => names.contains(pn),
                (None, Some(num)) => numbers.contains(&num),
                _ => false,
            };
            if !ok {
                problems.push(format!(
                    "{at}: backend port {} is not a port of Service `{name}`",
                    b["port"]
                ));
            }
        }
    }
    // Autoscalers and bindings point at objects of the package.
    for o in &r.objects {
        let at = format!("{}/{}", o.id.kind, o.id.name);
        if o.id.kind == "HorizontalPodAutoscaler" {
            let kind = str_at(&o.object, "/spec/scaleTargetRef/kind").unwrap_or("");
            let name = str_at(&o.object, "/spec/scaleTargetRef/name").unwrap_or("");
            if !r
                .objects
                .iter()
                .any(|x| x.id.kind == kind && x.id.name == name)
            {
                problems.push(format!(
                    "{at}: scaleTargetRef {kind}/{name} is not rendered"
                ));
            }
        }
        if o.id.kind.ends_with("RoleBinding") {
            let kind = str_at(&o.object, "/roleRef/kind").unwrap_or("");
            let name = str_at(&o.object, "/roleRef/name").unwrap_or("");
            if !r
                .objects
                .iter()
                .any(|x| x.id.kind == kind && x.id.name == name)
                && !supplied.contains(name)
            {
                problems.push(format!("{at}: roleRef {kind}/{name} is not rendered"));
            }
            for s in o
                .object
                .get("subjects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if str_at(s, "/kind") == Some("ServiceAccount")
                    && let Some(n) = str_at(s, "/name")
                    && !known(&accounts, n)
                {
                    problems.push(format!(
                        "{at}: subject ServiceAccount `{n}` is not rendered"
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn objects_refer_to_each_other_correctly() {
    let mut failures = Vec::new();
    for dir in packages() {
        for (variant, files) in variants(&dir) {
            let r = render_variant(&dir, &files);
            for p in cross_object_problems(&r) {
                failures.push(format!("{} [{variant}]: {p}", r.pkg.manifest.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cross_object_checks_catch_mistakes() {
    // A fixture with every mistake the checks look for; each must be reported.
    let b = crate::support::PackageBuilder::new("broken").file(
        "templates/all.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27.3
          ports: [{name: http, containerPort: 8080}]
          envFrom: [{secretRef: {name: missing-secret}}]
      volumes:
        - {name: c, configMap: {name: missing-config}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: https}]
---
apiVersion: v1
kind: Service
metadata: {name: other}
spec:
  selector: {app: nothing}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: grpc}}}}
          - {path: /x, pathType: Prefix, backend: {service: {name: ghost, port: {number: 80}}}}
"#,
    );
    let (_tmp, dir) = b.write();
    let r = render_variant(&dir, &[]);
    let problems = cross_object_problems(&r).join("\n");
    for want in [
        "envFrom secretRef names `missing-secret`",
        "volume configMap `missing-config`",
        "targetPort `https` is not a container port name",
        "Service/other: selector",
        "backend port {\"name\":\"grpc\"} is not a port of Service `web`",
        "backend Service `ghost` is not rendered",
    ] {
        assert!(problems.contains(want), "missing `{want}` in:\n{problems}");
    }
}

#[test]
fn catalog_lints_without_errors() {
    let mut failures = Vec::new();
    for dir in packages() {
        let outcome = lint(&LintOptions {
            source: dir.clone(),
            values: ValuesSources::default(),
        })
        .unwrap();
        for f in outcome
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            failures.push(format!(
                "{}: {} {}: {}",
                dir.display(),
                f.rule,
                f.subject,
                f.message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn catalog_readmes_have_current_values_tables() {
    use cocktail_pkg::ops::docs::{DocsMode, DocsOptions, DocsOutcome, docs};
    for dir in packages() {
        let outcome = docs(&DocsOptions {
            dir: dir.clone(),
            mode: DocsMode::Check,
        })
        .unwrap();
        assert_eq!(
            outcome,
            DocsOutcome::UpToDate,
            "run `cargo run -- docs {}` to refresh its values table",
            dir.display()
        );
    }
}

#[test]
fn catalog_index_lists_every_package() {
    let index = std::fs::read_to_string(root().join("catalog/README.md")).unwrap();
    for dir in packages() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            index.contains(&format!("[{name}]({name}/)")),
            "catalog/README.md does not list {name}"
        );
    }
}
