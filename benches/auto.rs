//! Benchmark of `upgrade --auto --dry-run` over 1,000 releases in 50 service maps, against
//! the fake API server (`fake_kube`). Every release comes from the built-in
//! catalog with an automatic-upgrade policy, so each one is decided: the records are read
//! (one list of Secrets), decoded, the catalog's versions looked up (once per package), the
//! cluster version read, and the decision made. Target: under 2 s wall.
//!
//! The 1,000 records are seeded into the fake server once (untimed); a dry run changes
//! nothing, so every sample sees the same cluster. Each sample connects a fresh `KubeTarget`,
//! as a CLI process does. Run with `cargo bench --bench auto`; figures in docs/benchmarks.md.

#![expect(clippy::unwrap_used, reason = "a benchmark's set-up fails loudly")]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use cocktail_pkg::model::{ReleaseName, ServiceMapName};
use cocktail_pkg::ops::auto::{AutoOptions, run};
use cocktail_pkg::ops::commit::ApplySettings;
use cocktail_pkg::ops::deploy::{DeployMode, DeployOptions, deploy};
use cocktail_pkg::ops::{Generation, ValuesSources};
use cocktail_pkg::policy::{Policy, Track};
use cocktail_pkg::release::{self, Record};
use cocktail_pkg::repo::RepoClient;
use cocktail_pkg::targets::kube::{KubeOptions, KubeTarget};
use cocktail_pkg::targets::memory::MemoryTarget;
use fake_kube::FakeKube;
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SERVICE_MAPS: usize = 50;
const RELEASES: usize = 1_000;

struct Fixture {
    fake: FakeKube,
    kubeconfig: PathBuf,
    cache: tempfile::TempDir,
    _dir: tempfile::TempDir,
}

/// One real record (catalog/nginx rendered and installed into memory), cloned into 1,000
/// releases with a `minor` policy, stored as Secrets the way the kube target stores them.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let memory = MemoryTarget::new();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let out = deploy(
            &memory,
            &DeployOptions {
                release: ReleaseName::new("web").unwrap(),
                service_map: ServiceMapName::new("sm-0").unwrap(),
                package: root.join("catalog/nginx"),
                values: ValuesSources::default(),
                mode: DeployMode::Install,
                dry_run: false,
                history_max: 10,
                holder: "bench".into(),
                now: 1_795_305_600,
                generation: Generation::Placeholder,
                apply: ApplySettings::default(),
                create_service_map: false,
                policy: Default::default(),
                expect_revision: None,
                force: false,
                force_crd_changes: false,
                correct_drift: false,
            },
        )
        .unwrap();
        let template: Record = out.record;
        let fake = FakeKube::start();
        for s in 0..SERVICE_MAPS {
            fake.insert(json!({"apiVersion": "v1", "kind": "Namespace",
                               "metadata": {"name": format!("sm-{s}")}}));
        }
        for i in 0..RELEASES {
            let mut r = template.clone();
            r.name = format!("web-{i}");
            r.service_map = format!("sm-{}", i % SERVICE_MAPS);
            r.package.repository = Some("catalog".into());
            r.package.source = "catalog/nginx@^1".into();
            r.policy = Some(Policy {
                auto_upgrade: Track::Minor,
                ..Policy::default()
            });
            let chunks = release::encode(&r).unwrap();
            for (c, chunk) in chunks.iter().enumerate() {
                fake.insert(json!({
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": {
                        "name": format!("cocktail.release.v1.{}.v{}{}", r.name, r.revision,
                                        if c == 0 { String::new() } else { format!(".part{c}") }),
                        "namespace": r.service_map,
                        "labels": {"owner": "cocktail-pkg", "name": r.name,
                                   "revision": r.revision.to_string(), "status": "deployed",
                                   "chunk": c.to_string(), "chunks": chunks.len().to_string()},
                    },
                    "type": "cocktail.io/release.v1",
                    "data": {"release": base64::engine::general_purpose::STANDARD.encode(chunk)},
                }));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        fake.write_kubeconfig(&kubeconfig, None).unwrap();
        Fixture {
            fake,
            kubeconfig,
            cache: tempfile::tempdir().unwrap(),
            _dir: dir,
        }
    })
}

fn dry_run(f: &Fixture) -> usize {
    let target = KubeTarget::connect(&KubeOptions {
        context: None,
        kubeconfig: Some(f.kubeconfig.clone()),
        timeout: None,
    })
    .unwrap();
    let report = run(
        &target,
        &AutoOptions {
            service_maps: Vec::new(),
            dry_run: true,
            max_parallel: 4,
            timeout: Duration::from_secs(300),
            holder: "bench".into(),
            now: 1_795_305_600,
        },
        RepoClient::new(f.cache.path().to_path_buf()),
        &|_| {},
    )
    .unwrap();
    report.releases.len()
}

fn main() {
    let f = fixture();
    f.fake.clear_requests();
    let start = std::time::Instant::now();
    let decided = dry_run(f);
    eprintln!(
        "auto dry run: {decided} releases decided in {:?} with {} HTTP requests",
        start.elapsed(),
        f.fake.requests().len()
    );
    assert_eq!(decided, RELEASES);
    divan::main();
}

/// `upgrade --auto --dry-run --all-service-maps` over 1,000 releases in 50 service maps.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn auto_dry_run_1000_releases() -> usize {
    dry_run(fixture())
}
