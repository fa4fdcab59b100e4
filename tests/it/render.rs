//! Rendering through the library: snapshots of fixture packages, labels, namespaces, duplicates.

use std::path::Path;

use cocktail_pkg::model::{ReleaseName, ServiceMapName};
use cocktail_pkg::ops::{Generation, ValuesSources, resolve_values};
use cocktail_pkg::package::Package;
use cocktail_pkg::render::{self, Capabilities, ReleaseInfo, RenderContext, RenderError};
use cocktail_pkg::values::ValuesInput;

use crate::support::{PackageBuilder, root};

fn ctx(release: &str, service_map: &str) -> RenderContext {
    RenderContext {
        release: ReleaseInfo {
            name: ReleaseName::new(release).unwrap(),
            service_map: ServiceMapName::new(service_map).unwrap(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        },
        capabilities: Capabilities::default(),
        entropy: Default::default(),
    }
}

/// Renders a package directory with optional values files, as YAML.
pub fn render_dir(dir: &Path, values_files: &[&Path]) -> String {
    let pkg = cocktail_pkg::source::load(dir, None).unwrap().package;
    let input = ValuesSources {
        files: values_files.iter().map(|p| p.to_path_buf()).collect(),
        ..Default::default()
    }
    .read()
    .unwrap();
    let resolved = resolve_values(&pkg, &input, Generation::Placeholder).unwrap();
    let rendered = render::render(&pkg, &resolved.values, &ctx("demo", "shop")).unwrap();
    let mut out = rendered.to_yaml_stream(pkg.manifest.name.as_str()).unwrap();
    if let Some(notes) = rendered.notes {
        out.push_str("--- NOTES.txt\n");
        out.push_str(&notes);
    }
    out
}

fn pkg(b: PackageBuilder) -> Package {
    Package::from_files(b.files()).unwrap()
}

#[test]
fn standard_labels_are_added_without_clobbering() {
    let p = pkg(PackageBuilder::new("app").file(
        "templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    app.kubernetes.io/name: custom\n",
    ));
    let r = render::render(&p, &p.values, &ctx("rel", "shop")).unwrap();
    let labels = &r.objects[0].object["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/name"], "custom");
    assert_eq!(labels["app.kubernetes.io/managed-by"], "cocktail-pkg");
    assert_eq!(labels["app.kubernetes.io/instance"], "rel");
    assert_eq!(labels["app.kubernetes.io/version"], "2.0");
    assert_eq!(labels["cocktail.io/package"], "app-1.0.0");
}

#[test]
fn namespaced_objects_get_the_service_map() {
    let p = pkg(PackageBuilder::new("app").file(
        "templates/x.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  namespace: ignored\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: elsewhere\n",
    ));
    let r = render::render(&p, &p.values, &ctx("rel", "shop")).unwrap();
    let ns: Vec<String> = r.objects.iter().map(|o| o.id.namespace.clone()).collect();
    assert_eq!(ns, ["shop", "", "elsewhere"]);
    assert!(r.objects[1].object["metadata"].get("namespace").is_none());
}

#[test]
fn empty_documents_are_dropped() {
    let p = pkg(PackageBuilder::new("app").file(
        "templates/x.yaml",
        "---\n# only a comment\n---\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n",
    ));
    let r = render::render(&p, &p.values, &ctx("rel", "shop")).unwrap();
    assert_eq!(r.objects.len(), 1);
}

#[test]
fn duplicate_objects_are_an_error() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n";
    let p = pkg(PackageBuilder::new("app")
        .file("templates/a.yaml", cm)
        .file("templates/b.yaml", cm));
    let err = render::render(&p, &p.values, &ctx("rel", "shop")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ConfigMap/shop/same is rendered twice: by templates/a.yaml and by templates/b.yaml"
    );
    // Same name, different kind: fine.
    let p = pkg(PackageBuilder::new("app")
        .file("templates/a.yaml", cm)
        .file(
            "templates/b.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: same\n",
        ));
    assert!(render::render(&p, &p.values, &ctx("rel", "shop")).is_ok());
}

#[test]
fn objects_need_api_version_kind_and_name() {
    let cases = [
        (
            "kind: ConfigMap\nmetadata: {name: a}\n",
            "object has no `apiVersion`",
        ),
        (
            "apiVersion: v1\nmetadata: {name: a}\n",
            "object has no `kind`",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\n",
            "ConfigMap has no `metadata` map",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {}}\n",
            "ConfigMap has no `metadata.name`",
        ),
        ("- a\n- b\n", "an object must be a YAML map"),
    ];
    for (text, want) in cases {
        let p = pkg(PackageBuilder::new("app").file("templates/x.yaml", text));
        let err = render::render(&p, &p.values, &ctx("rel", "shop")).unwrap_err();
        assert!(matches!(err, RenderError::Object { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!("templates/x.yaml of package `app`, document 1: {want}")
        );
    }
}

#[test]
fn filters_behave_as_documented() {
    let tpl = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: f
data:
  yaml: {{ values.m | to_yaml | quote }}
  json: {{ values.m | to_json | quote }}
  nindent: {{ "a: 1\nb: 2" | nindent(4) | quote }}
  indent: {{ "x\ny" | indent(2) | quote }}
  b64: {{ "hello" | b64encode }}
  unb64: {{ "aGVsbG8=" | b64decode }}
  sha: {{ "hello" | sha256 }}
  quoted: {{ 'say "hi"' | quote }}
  dflt: {{ values.missing | default("fallback") }}
  keepfalse: {{ values.f | default(true) | quote }}
  trunc: {{ "abcdef" | trunc(3) }}
  truncneg: {{ "abcdef" | trunc(-2) }}
  semver: {{ semver_compare(">=1.25", capabilities.kubeVersion) | quote }}
  old: {{ semver_compare("<1.20", "v1.19.3") | quote }}
  rel: "{{ release.name }}/{{ release.serviceMap }}/{{ release.revision }}/{{ release.isInstall }}/{{ package.version }}"
"#;
    let p = pkg(PackageBuilder::new("app")
        .file("values.yaml", "m: {a: 1, b: [x]}\nf: false\n")
        .file("templates/f.yaml", tpl));
    let r = render::render(&p, &p.values, &ctx("rel", "shop")).unwrap();
    let d = &r.objects[0].object["data"];
    assert_eq!(d["yaml"], "a: 1\nb:\n- x");
    assert_eq!(d["json"], r#"{"a":1,"b":["x"]}"#);
    assert_eq!(d["nindent"], "\n    a: 1\n    b: 2");
    assert_eq!(d["indent"], "  x\n  y");
    assert_eq!(d["b64"], "aGVsbG8=");
    assert_eq!(d["unb64"], "hello");
    assert_eq!(
        d["sha"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(d["quoted"], "say \"hi\"");
    assert_eq!(d["dflt"], "fallback");
    assert_eq!(d["keepfalse"], "false");
    assert_eq!(d["trunc"], "abc");
    assert_eq!(d["truncneg"], "ef");
    assert_eq!(d["semver"], "true");
    assert_eq!(d["old"], "true");
    assert_eq!(d["rel"], "rel/shop/1/true/1.0.0");
}

#[test]
fn fail_function_stops_the_render() {
    let p = pkg(PackageBuilder::new("app")
        .file(
            "templates/x.yaml",
            "{% if values.mode != \"a\" %}{{ fail(\"mode must be a\") }}{% endif %}",
        )
        .file("values.yaml", "mode: b\n"));
    let err = render::render(&p, &p.values, &ctx("rel", "shop")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to render templates/x.yaml of package `app` (line 1): mode must be a"
    );
}

#[test]
fn rendering_is_deterministic() {
    let dir = root().join("catalog/nginx");
    let a = render_dir(&dir, &[]);
    let b = render_dir(&dir, &[]);
    assert_eq!(a, b);
}

#[test]
fn values_resolution_rejects_schema_violations_with_all_paths() {
    let p = cocktail_pkg::source::load(&root().join("catalog/nginx"), None)
        .unwrap()
        .package;
    let input = ValuesInput {
        set: vec!["replicas=0,service.type=Internal".into()],
        ..Default::default()
    };
    let err = resolve_values(&p, &input, Generation::Placeholder).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("$.replicas: 0 is less than the minimum of 1"),
        "{text}"
    );
    assert!(text.contains("$.service.type"), "{text}");
}

#[test]
fn the_first_bad_document_is_reported_whatever_the_thread_timing() {
    let mut b = PackageBuilder::new("many");
    for i in 0..60 {
        let body = if i == 17 || i == 45 {
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n".to_string()
        } else {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n")
        };
        b = b.file(&format!("templates/t{i:02}.yaml"), &body);
    }
    let p = pkg(b);
    for _ in 0..20 {
        let err = render::render(&p, &p.values, &ctx("rel", "shop")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "templates/t17.yaml of package `many` produced invalid YAML (document 1, starting at line 1)"
        );
    }
    let good = pkg(PackageBuilder::new("many").file(
        "templates/a.yaml",
        &(0..100)
            .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n"))
            .collect::<String>(),
    ));
    let r = render::render(&good, &good.values, &ctx("rel", "shop")).unwrap();
    let names: Vec<String> = r.objects.iter().map(|o| o.id.name.clone()).collect();
    assert_eq!(
        names,
        (0..100).map(|i| format!("cm{i}")).collect::<Vec<_>>()
    );
}
