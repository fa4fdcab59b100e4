//! Benchmarks of the kube target over the real HTTP wire, against the fake API server
//! (`fake_kube`): install a 300-object release (100 ConfigMaps, 100 Services,
//! 100 Deployments) into a service map, upgrade it with nothing changed, and uninstall it —
//! once from a cocktail-pkg package, once from a Helm chart with the same objects
//! (`tests/fixtures/bench-charts/web300`, the chart `bench/chart-release.sh` times against
//! helm) — and adopt a 50-object release Helm installed (its record and objects written as
//! Helm 4 leaves them). Figures and how to read them: docs/benchmarks.md.
//!
//! Every sample gets a fresh fake API server and a freshly connected `KubeTarget` (an empty
//! connection pool and discovery cache, as in a CLI process); creating the service map and the
//! prior install are set-up and not timed. The fake server answers from memory on loopback, so
//! the figures measure cocktail-pkg's client side, not a real API server.
//!
//! Run with `cargo bench --bench kube`.

#![expect(clippy::unwrap_used, reason = "a benchmark's set-up fails loudly")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cocktail_pkg::helm_release::{self, Driver, HelmRelease, Info, Metadata};
use cocktail_pkg::model::{ReleaseName, ServiceMapName};
use cocktail_pkg::ops::adopt::{AdoptOptions, adopt};
use cocktail_pkg::ops::commit::ApplySettings;
use cocktail_pkg::ops::deploy::{DeployMode, DeployOptions, deploy};
use cocktail_pkg::ops::service_map::{self, CreateOptions};
use cocktail_pkg::ops::template::{TemplateOptions, template};
use cocktail_pkg::ops::uninstall::{UninstallOptions, uninstall};
use cocktail_pkg::ops::{Generation, ValuesSources};
use cocktail_pkg::targets::kube::{KubeOptions, KubeTarget};
use fake_kube::FakeKube;
use serde_json::json;

/// The allocator of the binary (src/main.rs), so figures match the CLI.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Objects of each kind in the package.
const PER_KIND: usize = 100;
/// Objects in the release.
const OBJECTS: usize = 3 * PER_KIND;
/// The service map (namespace) and the release.
const SERVICE_MAP: &str = "bench";
const RELEASE: &str = "web";
/// The adopted release's objects: 17 ConfigMaps, 17 Services, 16 Deployments.
const ADOPTED_OBJECTS: usize = 50;
const ADOPTED_COUNTS: &str = "configMaps=17,services=17,deployments=16";

fn main() {
    census();
    chart_census();
    divan::main();
}

/// The chart: 100 ConfigMaps, 100 Services and 100 Deployments with the standard helpers of
/// `helm create` (the same objects as [`write_package`]'s, in Go templates).
fn chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bench-charts/web300")
}

/// As [`census`], for the chart; then the adoption of a 50-object Helm release.
fn chart_census() {
    let chart = chart();
    let cluster = Cluster::new();
    cluster.fake.clear_requests();
    let out = deploy(
        &cluster.connect(),
        &deploy_options(&chart, DeployMode::Install),
    )
    .unwrap();
    assert_eq!(out.plan.counts()["create"], OBJECTS);
    assert_eq!(cluster.release_objects(), OBJECTS);
    cluster.report("chart install");

    cluster.fake.clear_requests();
    let out = deploy(&cluster.connect(), &deploy_options(&chart, UPGRADE)).unwrap();
    assert!(!out.plan.has_changes(), "{:?}", out.plan.counts());
    assert_eq!(out.plan.counts()["unchanged"], OBJECTS);
    cluster.report("chart no-op upgrade");

    let cluster = Cluster::installed(&chart);
    cluster.fake.clear_requests();
    let out = uninstall(&cluster.connect(), &uninstall_options()).unwrap();
    assert_eq!(out.deleted.len(), OBJECTS);
    assert_eq!(cluster.release_objects(), 0);
    cluster.report("chart uninstall");

    let helm = HelmInstalled::new();
    let cluster = helm.cluster();
    cluster.fake.clear_requests();
    let out = adopt(&cluster.connect(), &adopt_options(), &mut |_| {}).unwrap();
    assert_eq!(out.releases.len(), 1);
    assert_eq!(out.releases[0].objects.len(), ADOPTED_OBJECTS);
    assert_eq!(cluster.release_objects(), ADOPTED_OBJECTS);
    cluster.report("adopt (50 objects)");
}

/// What `helm install web web300 --set configMaps=17,services=17,deployments=16` leaves in a
/// namespace, made without helm: the objects rendered by cocktail-pkg's chart renderer (the
/// same as helm's: `bench/chart-release.sh` and the chart tests check that) and server-side
/// applied by the field manager `helm`, and the release record Helm 4's Secret driver writes.
struct HelmInstalled {
    objects: Vec<serde_json::Value>,
    record: serde_json::Value,
}

impl HelmInstalled {
    fn new() -> Self {
        let values = ValuesSources {
            set: vec![ADOPTED_COUNTS.into()],
            ..Default::default()
        };
        let out = template(&TemplateOptions {
            source: chart(),
            digest: None,
            values,
            release_name: Some(ReleaseName::new(RELEASE).unwrap()),
            service_map: ServiceMapName::new(SERVICE_MAP).unwrap(),
            kube_version: None,
            api_versions: Vec::new(),
            generation: Generation::Placeholder,
            is_upgrade: false,
            objects: true,
        })
        .unwrap();
        let manifest = out.rendered.to_yaml_stream_as_named().unwrap();
        let objects: Vec<serde_json::Value> = out
            .rendered
            .objects
            .into_iter()
            .map(|o| {
                let mut object = o.object;
                object["metadata"]["namespace"] = json!(SERVICE_MAP);
                object
            })
            .collect();
        assert_eq!(objects.len(), ADOPTED_OBJECTS);
        let release = HelmRelease {
            name: RELEASE.into(),
            namespace: SERVICE_MAP.into(),
            version: 1,
            info: Some(Info {
                first_deployed: Some("2026-11-01T10:00:00.123456789Z".into()),
                last_deployed: Some("2026-11-01T10:00:00.123456789Z".into()),
                deleted: None,
                description: "Install complete".into(),
                status: "deployed".into(),
                notes: String::new(),
            }),
            chart: Some(helm_release::Chart {
                metadata: Some(Metadata {
                    name: "web300".into(),
                    version: "1.0.0".into(),
                    app_version: "1.27.3".into(),
                    api_version: "v2".into(),
                    other: Default::default(),
                }),
                values: Some(out.values),
                templates: Vec::new(),
                files: Vec::new(),
            }),
            config: Some(json!({"configMaps": 17, "services": 17, "deployments": 16})),
            manifest,
            hooks: Vec::new(),
            apply_method: "ssa".into(),
        };
        let record = helm_release::record_object(Driver::Secret, &release, 1_793_527_200).unwrap();
        HelmInstalled { objects, record }
    }

    /// A fresh cluster holding the Helm release.
    fn cluster(&self) -> Cluster {
        let cluster = Cluster::new();
        for o in &self.objects {
            cluster.fake.apply_as("helm", o.clone());
        }
        cluster.fake.insert(self.record.clone());
        cluster
    }
}

fn adopt_options() -> AdoptOptions {
    AdoptOptions {
        service_map: ServiceMapName::new(SERVICE_MAP).unwrap(),
        release: Some(ReleaseName::new(RELEASE).unwrap()),
        chart: None,
        dry_run: false,
        holder: "bench@localhost".into(),
        now: cocktail_pkg::time::now(),
    }
}

/// Runs each operation once, untimed: checks what it did and prints the HTTP requests it sent.
fn census() {
    let package = write_package();
    let cluster = Cluster::new();
    cluster.fake.clear_requests();
    let out = deploy(
        &cluster.connect(),
        &deploy_options(package.path(), DeployMode::Install),
    )
    .unwrap();
    assert_eq!(out.plan.counts()["create"], OBJECTS);
    assert_eq!(cluster.release_objects(), OBJECTS);
    cluster.report("install");

    cluster.fake.clear_requests();
    let out = deploy(&cluster.connect(), &deploy_options(package.path(), UPGRADE)).unwrap();
    assert!(!out.plan.has_changes(), "{:?}", out.plan.counts());
    assert_eq!(out.plan.counts()["unchanged"], OBJECTS);
    cluster.report("no-op upgrade");

    // As the benchmark: uninstall a release with one revision.
    let cluster = Cluster::installed(package.path());
    cluster.fake.clear_requests();
    let out = uninstall(&cluster.connect(), &uninstall_options()).unwrap();
    assert_eq!(out.deleted.len(), OBJECTS);
    assert_eq!(cluster.release_objects(), 0);
    cluster.report("uninstall");
}

/// Writes the package: three templates, each a loop rendering `values.count` objects of one
/// kind.
fn write_package() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("templates")).unwrap();
    let files: [(&str, String); 6] = [
        (
            "package.yaml",
            "apiVersion: cocktail-pkg/v1\nname: fleet\nversion: 1.0.0\nappVersion: \"1.27.3\"\ndescription: benchmark\n"
                .into(),
        ),
        (
            "values.yaml",
            format!(
                "count: {PER_KIND}\nimage: registry.example.com/app@sha256:{}\nport: 8080\nlogLevel: info\n",
                "0123456789abcdef".repeat(4)
            ),
        ),
        (
            "templates/_helpers.yaml",
            r#"{% macro selector(i) %}
app.kubernetes.io/name: {{ package.name }}
app.kubernetes.io/instance: {{ release.name }}
app.kubernetes.io/component: app-{{ i }}
{% endmacro %}
"#
            .into(),
        ),
        (
            "templates/configmaps.yaml",
            r#"{% for i in range(values.count) %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ release.name }}-app-{{ i }}
data:
  LOG_LEVEL: {{ values.logLevel | quote }}
  INSTANCE: "{{ i }}"
  app.conf: |
    listen {{ values.port }};
    worker_processes 2;
    upstream = "{{ release.name }}-app-{{ (i + 1) % values.count }}"
{% endfor %}
"#
            .into(),
        ),
        (
            "templates/services.yaml",
            r#"{% import "_helpers.yaml" as h %}
{% for i in range(values.count) %}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ release.name }}-app-{{ i }}
spec:
  type: ClusterIP
  selector: {{ h.selector(i) | nindent(4) }}
  ports:
    - name: http
      port: 80
      targetPort: http
{% endfor %}
"#
            .into(),
        ),
        (
            "templates/deployments.yaml",
            r#"{% import "_helpers.yaml" as h %}
{% for i in range(values.count) %}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ release.name }}-app-{{ i }}
spec:
  replicas: 1
  selector:
    matchLabels: {{ h.selector(i) | nindent(6) }}
  template:
    metadata:
      labels: {{ h.selector(i) | nindent(8) }}
    spec:
      containers:
        - name: app
          image: {{ values.image | quote }}
          ports:
            - name: http
              containerPort: {{ values.port }}
          envFrom:
            - configMapRef:
                name: {{ release.name }}-app-{{ i }}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: "1", memory: 256Mi}
{% endfor %}
"#
            .into(),
        ),
    ];
    for (path, text) in files {
        std::fs::write(root.join(path), text).unwrap();
    }
    dir
}

/// A fresh fake API server, its kubeconfig, and the service map, created.
struct Cluster {
    fake: FakeKube,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Cluster {
    fn new() -> Self {
        let fake = FakeKube::start();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        fake.write_kubeconfig(&kubeconfig, Some(SERVICE_MAP))
            .unwrap();
        let cluster = Cluster {
            fake,
            _dir: dir,
            kubeconfig,
        };
        service_map::create(
            &cluster.connect(),
            &CreateOptions {
                name: ServiceMapName::new(SERVICE_MAP).unwrap(),
                display_name: None,
                description: None,
            },
        )
        .unwrap();
        cluster
    }

    /// A new client: empty connection pool and discovery cache, as in a fresh CLI process.
    fn connect(&self) -> KubeTarget {
        KubeTarget::connect(&KubeOptions {
            context: None,
            kubeconfig: Some(self.kubeconfig.clone()),
            timeout: None,
        })
        .unwrap()
    }

    /// The cluster with the release installed.
    fn installed(package: &Path) -> Self {
        let cluster = Cluster::new();
        deploy(
            &cluster.connect(),
            &deploy_options(package, DeployMode::Install),
        )
        .unwrap();
        cluster
    }

    /// Objects of the release's kinds in the service map.
    fn release_objects(&self) -> usize {
        self.fake
            .objects()
            .iter()
            .filter(|o| {
                o.pointer("/metadata/namespace").and_then(|v| v.as_str()) == Some(SERVICE_MAP)
                    && matches!(
                        o["kind"].as_str(),
                        Some("ConfigMap" | "Service" | "Deployment")
                    )
            })
            .count()
    }

    /// Prints the requests recorded since the last `clear_requests`: in all, and by method and
    /// resource.
    fn report(&self, operation: &str) {
        let requests = self.fake.requests();
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for r in &requests {
            *by.entry(format!("{} {}", r.method, resource_of(&r.path)))
                .or_default() += 1;
        }
        eprintln!("{operation}: {} HTTP requests", requests.len());
        for (k, n) in by {
            eprintln!("  {n:>4}  {k}");
        }
    }
}

/// The resource (plural) a request path addresses, or the path of a discovery request.
fn resource_of(path: &str) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    // /api/v1/... or /apis/GROUP/VERSION/...
    let rest = match segs.first() {
        Some(&"api") => &segs[segs.len().min(2)..],
        Some(&"apis") => &segs[segs.len().min(3)..],
        _ => return path.to_string(),
    };
    match rest {
        [] => format!("{path} (discovery)"),
        ["namespaces", _, resource, ..] => (*resource).into(),
        [resource, ..] => (*resource).into(),
    }
}

fn deploy_options(package: &Path, mode: DeployMode) -> DeployOptions {
    DeployOptions {
        release: ReleaseName::new(RELEASE).unwrap(),
        service_map: ServiceMapName::new(SERVICE_MAP).unwrap(),
        package: package.to_path_buf(),
        values: ValuesSources::default(),
        mode,
        dry_run: false,
        history_max: 10,
        holder: "bench@localhost".into(),
        now: cocktail_pkg::time::now(),
        generation: Generation::Placeholder,
        apply: ApplySettings::default(),
        create_service_map: false,
        policy: Default::default(),
        expect_revision: None,
        force: false,
        force_crd_changes: false,
        correct_drift: false,
    }
}

const UPGRADE: DeployMode = DeployMode::Upgrade {
    install_if_missing: false,
    reuse_values: false,
};

fn uninstall_options() -> UninstallOptions {
    UninstallOptions {
        release: ReleaseName::new(RELEASE).unwrap(),
        service_map: ServiceMapName::new(SERVICE_MAP).unwrap(),
        keep_history: false,
        delete_volumes: false,
        holder: "bench@localhost".into(),
        now: cocktail_pkg::time::now(),
        no_hooks: false,
        hook_timeout: std::time::Duration::from_secs(300),
    }
}

/// Install of the 300-object release into an existing, empty service map.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn install_300_objects(bencher: divan::Bencher) {
    let package = write_package();
    bencher
        .with_inputs(|| {
            let cluster = Cluster::new();
            let target = cluster.connect();
            let opts = deploy_options(package.path(), DeployMode::Install);
            (cluster, target, opts)
        })
        .bench_local_refs(|(_cluster, target, opts)| deploy(target, opts).unwrap());
}

/// Upgrade with the same package and values: every object unchanged, so only the release
/// records and the lease are written.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn upgrade_noop_300_objects(bencher: divan::Bencher) {
    let package = write_package();
    bencher
        .with_inputs(|| {
            let cluster = Cluster::installed(package.path());
            let target = cluster.connect();
            let opts = deploy_options(package.path(), UPGRADE);
            (cluster, target, opts)
        })
        .bench_local_refs(|(_cluster, target, opts)| deploy(target, opts).unwrap());
}

/// Uninstall of the 300-object release (history deleted too).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn uninstall_300_objects(bencher: divan::Bencher) {
    let package = write_package();
    bencher
        .with_inputs(|| {
            let cluster = Cluster::installed(package.path());
            let target = cluster.connect();
            (cluster, target, uninstall_options())
        })
        .bench_local_refs(|(_cluster, target, opts)| uninstall(target, opts).unwrap());
}

/// Install of the 300-object chart into an existing, empty service map.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn chart_install_300_objects(bencher: divan::Bencher) {
    let chart = chart();
    bencher
        .with_inputs(|| {
            let cluster = Cluster::new();
            let target = cluster.connect();
            let opts = deploy_options(&chart, DeployMode::Install);
            (cluster, target, opts)
        })
        .bench_local_refs(|(_cluster, target, opts)| deploy(target, opts).unwrap());
}

/// Upgrade with the same chart and values: every object unchanged, no new revision.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn chart_upgrade_noop_300_objects(bencher: divan::Bencher) {
    let chart = chart();
    bencher
        .with_inputs(|| {
            let cluster = Cluster::installed(&chart);
            let target = cluster.connect();
            let opts = deploy_options(&chart, UPGRADE);
            (cluster, target, opts)
        })
        .bench_local_refs(|(_cluster, target, opts)| deploy(target, opts).unwrap());
}

/// Uninstall of the 300-object chart release (history deleted too).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn chart_uninstall_300_objects(bencher: divan::Bencher) {
    let chart = chart();
    bencher
        .with_inputs(|| {
            let cluster = Cluster::installed(&chart);
            let target = cluster.connect();
            (cluster, target, uninstall_options())
        })
        .bench_local_refs(|(_cluster, target, opts)| uninstall(target, opts).unwrap());
}

/// Adoption of a 50-object release Helm installed (one revision): import the record, take
/// field ownership of every object from `helm`, mark Helm's record.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn adopt_helm_release_50_objects(bencher: divan::Bencher) {
    let helm = HelmInstalled::new();
    bencher
        .with_inputs(|| {
            let cluster = helm.cluster();
            let target = cluster.connect();
            (cluster, target, adopt_options())
        })
        .bench_local_refs(|(_cluster, target, opts)| adopt(target, opts, &mut |_| {}).unwrap());
}
