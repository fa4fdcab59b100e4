//! Benchmarks for the foundation: render a 40-template, 200-object package with values from three
//! layered files, and archive it. Targets (docs/benchmarks.md): render < 5 ms, package < 20 ms.
//!
//! Run with `cargo bench --bench render`.

#![expect(clippy::unwrap_used, reason = "a benchmark's set-up fails loudly")]

use std::collections::BTreeMap;

use cocktail_pkg::archive;
use cocktail_pkg::model::{ReleaseName, ServiceMapName};
use cocktail_pkg::package::Package;
use cocktail_pkg::render::{self, Capabilities, ReleaseInfo, RenderContext};
use cocktail_pkg::values::{self, ValuesInput};

/// The allocator of the binary (src/main.rs), so figures match the CLI.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

/// A package of 40 templates, each rendering 5 objects (a Deployment, a Service, a ConfigMap, a
/// Secret and a PVC) from its own block of values, using macros, loops, conditionals and filters.
fn big_package() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert(
        "package.yaml".to_string(),
        b"apiVersion: cocktail-pkg/v1\nname: big\nversion: 1.0.0\nappVersion: \"1.0\"\ndescription: benchmark\n".to_vec(),
    );
    let mut values = String::from(
        "common:\n  image: registry.example.com/app\n  tag: \"1.0.0\"\n  env: {LOG_LEVEL: info, REGION: kr}\ncomponents:\n",
    );
    for i in 0..40 {
        values.push_str(&format!(
            "  c{i}:\n    replicas: {}\n    port: {}\n    storage: 1Gi\n    config: {{a: \"1\", b: \"2\", c: \"3\"}}\n    enabled: true\n",
            1 + i % 3,
            8000 + i
        ));
    }
    files.insert("values.yaml".to_string(), values.into_bytes());
    files.insert(
        "templates/_helpers.yaml".to_string(),
        br#"{% macro labels(c) %}
app.kubernetes.io/name: {{ package.name }}
app.kubernetes.io/instance: {{ release.name }}
app.kubernetes.io/component: {{ c }}
{% endmacro %}
"#
        .to_vec(),
    );
    for i in 0..40 {
        let t = format!(
            r#"{{% import "_helpers.yaml" as h %}}
{{% set c = values.components.c{i} %}}
{{% if c.enabled %}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ release.name }}}}-c{i}
  labels:
    cocktail.io/workload-group: group{g}
spec:
  replicas: {{{{ c.replicas }}}}
  selector:
    matchLabels: {{{{ h.labels("c{i}") | nindent(6) }}}}
  template:
    metadata:
      labels: {{{{ h.labels("c{i}") | nindent(8) }}}}
      annotations:
        checksum/config: {{{{ c.config | to_json | sha256 }}}}
    spec:
      containers:
        - name: app
          image: "{{{{ values.common.image }}}}:{{{{ values.common.tag }}}}"
          ports:
            - name: http
              containerPort: {{{{ c.port }}}}
          env:
{{% for k, v in values.common.env | items %}}
            - name: {{{{ k }}}}
              value: {{{{ v | quote }}}}
{{% endfor %}}
          resources: {{{{ {{"requests": {{"cpu": "100m", "memory": "128Mi"}}, "limits": {{"cpu": "1", "memory": "256Mi"}}}} | to_json }}}}
          volumeMounts:
            - {{name: data, mountPath: /data}}
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: {{{{ release.name }}}}-c{i}
---
apiVersion: v1
kind: Service
metadata:
  name: {{{{ release.name }}}}-c{i}
spec:
  selector: {{{{ h.labels("c{i}") | nindent(4) }}}}
  ports:
    - name: http
      port: {{{{ c.port }}}}
      targetPort: http
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{{{ release.name }}}}-c{i}
data: {{{{ c.config | to_yaml | nindent(2) }}}}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{{{ release.name }}}}-c{i}
data:
  token: {{{{ ("token-c{i}-" ~ release.name) | b64encode }}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{{{ release.name }}}}-c{i}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: {{{{ c.storage }}}}
{{% endif %}}
"#,
            g = i % 4
        );
        files.insert(format!("templates/c{i:02}.yaml"), t.into_bytes());
    }
    files
}

fn layers() -> ValuesInput {
    let mut one = String::from("common:\n  tag: \"1.1.0\"\ncomponents:\n");
    let mut two = String::from("components:\n");
    let mut three =
        String::from("common:\n  env: {LOG_LEVEL: debug, EXTRA: \"yes\"}\ncomponents:\n");
    for i in 0..40 {
        one.push_str(&format!("  c{i}:\n    replicas: 2\n"));
        two.push_str(&format!(
            "  c{i}:\n    storage: 5Gi\n    config: {{d: \"4\"}}\n"
        ));
        three.push_str(&format!("  c{i}:\n    port: {}\n", 9000 + i));
    }
    ValuesInput {
        files: vec![
            ("one.yaml".into(), one),
            ("two.yaml".into(), two),
            ("three.yaml".into(), three),
        ],
        ..Default::default()
    }
}

fn ctx() -> RenderContext {
    RenderContext {
        release: ReleaseInfo {
            name: ReleaseName::new("bench").unwrap(),
            service_map: ServiceMapName::new("bench").unwrap(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        },
        capabilities: Capabilities::default(),
        entropy: Default::default(),
    }
}

/// The whole render step as `template` runs it: parse the package, layer three values files,
/// render 40 templates into 200 objects.
#[divan::bench]
fn render_40_templates_200_objects(bencher: divan::Bencher) {
    let files = big_package();
    let input = layers();
    let ctx = ctx();
    let check = Package::from_files(files.clone()).unwrap();
    let v = values::resolve(&check.values, &input).unwrap();
    assert_eq!(render::render(&check, &v, &ctx).unwrap().objects.len(), 200);
    bencher.bench(|| {
        let pkg = Package::from_files(divan::black_box(files.clone())).unwrap();
        let values = values::resolve(&pkg.values, &input).unwrap();
        render::render(&pkg, &values, &ctx).unwrap()
    });
}

/// Writing the reproducible archive of the same package.
#[divan::bench]
fn package_40_templates(bencher: divan::Bencher) {
    let files = big_package();
    bencher.bench(|| archive::write("big", divan::black_box(&files)).unwrap());
}

/// Reading it back (digest check + safe unpack).
#[divan::bench]
fn unpack_40_templates(bencher: divan::Bencher) {
    let bytes = archive::write("big", &big_package()).unwrap();
    let digest = cocktail_pkg::model::Digest::of(&bytes);
    bencher.bench(|| archive::read(divan::black_box(&bytes), Some(&digest)).unwrap());
}

/// Phase: parse the package files (manifest, defaults, templates).
#[divan::bench]
fn phase_load_package(bencher: divan::Bencher) {
    let files = big_package();
    bencher.bench(|| Package::from_files(divan::black_box(files.clone())).unwrap());
}

/// Phase: layer the three values files onto the defaults.
#[divan::bench]
fn phase_resolve_3_values_files(bencher: divan::Bencher) {
    let pkg = Package::from_files(big_package()).unwrap();
    let input = layers();
    bencher.bench(|| values::resolve(&pkg.values, divan::black_box(&input)).unwrap());
}

/// Phase: render templates and parse the 200 objects, values already resolved.
#[divan::bench]
fn phase_render_resolved(bencher: divan::Bencher) {
    let pkg = Package::from_files(big_package()).unwrap();
    let v = values::resolve(&pkg.values, &layers()).unwrap();
    let ctx = ctx();
    bencher.bench(|| render::render(&pkg, divan::black_box(&v), &ctx).unwrap());
}
