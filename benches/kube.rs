//! Benchmarks of the kube target over the real HTTP wire, against the fake API server
//! (`fake_kube`): install a 300-object release (100 ConfigMaps, 100 Services,
//! 100 Deployments) into a service map, upgrade it with nothing changed, and uninstall it.
//! Figures and how to read them: docs/benchmarks.md.
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

use cocktail_pkg::model::{ReleaseName, ServiceMapName};
use cocktail_pkg::ops::commit::ApplySettings;
use cocktail_pkg::ops::deploy::{DeployMode, DeployOptions, deploy};
use cocktail_pkg::ops::service_map::{self, CreateOptions};
use cocktail_pkg::ops::uninstall::{UninstallOptions, uninstall};
use cocktail_pkg::ops::{Generation, ValuesSources};
use cocktail_pkg::targets::kube::{KubeOptions, KubeTarget};
use fake_kube::FakeKube;

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

fn main() {
    census();
    divan::main();
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
