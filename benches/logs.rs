//! `logs -f` of a pod writing 50 MB: the peak memory of the `cocktail-pkg` process (VmHWM)
//! must stay under 50 MiB, whatever the volume (lines are streamed one by one, never the whole
//! log). A benchmark, not a timed test: `cargo bench --bench logs` prints the peak and the
//! throughput, and exits 1 when the peak is 50 MiB or more. Linux only (`/proc`).

#![expect(clippy::unwrap_used, reason = "benchmark set-up fails loudly")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_kube::FakeKube;
use serde_json::json;

const TOTAL: usize = 50 * 1000 * 1000;
const LINE: usize = 100;
const LIMIT_KIB: u64 = 50 * 1024;

fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let fake = FakeKube::start();
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, Some("shop")).unwrap();
    fake.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
    let chart = tmp.path().join("shop");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/web.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_cocktail-pkg");
    let cli = || {
        let mut c = Command::new(bin);
        c.env("KUBECONFIG", &kubeconfig)
            .env("NO_COLOR", "1")
            .env("COCKTAIL_PKG_POLL_INTERVAL_MS", "200")
            .env_remove("COCKTAIL_PKG_TARGET")
            .env_remove("COCKTAIL_PKG_SERVICE_MAP");
        c
    };
    let ok = cli()
        .args(["install", "shop", chart.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    fake.insert(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-a", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        "status": {"phase": "Running", "startTime": "2026-01-01T00:00:00Z",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0,
                "state": {"running": {}}}]},
    }));
    let mut child = cli()
        .args(["logs", "shop", "web", "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let lines = TOTAL / LINE;
    let reader = std::thread::spawn(move || {
        let mut n = 0;
        for line in BufReader::new(stdout).lines() {
            if line.is_err() {
                break;
            }
            n += 1;
            if n == lines {
                break;
            }
        }
        n
    });
    let start = Instant::now();
    let text = format!("{}\n", "x".repeat(LINE - 1));
    let chunk: String = text.repeat(10_000);
    let mut peak = 0;
    for _ in 0..lines / 10_000 {
        fake.append_log("shop", "web-a", "web", &chunk);
        peak = peak.max(peak_kib(pid));
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    while !reader.is_finished() && Instant::now() < deadline {
        peak = peak.max(peak_kib(pid));
        std::thread::sleep(Duration::from_millis(50));
    }
    peak = peak.max(peak_kib(pid));
    let _ = child.kill();
    let _ = child.wait();
    let read = reader.join().unwrap_or(0);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "logs -f of {} MB ({read} of {lines} lines) in {secs:.1} s: peak memory (VmHWM) {:.1} MiB (limit {} MiB)",
        TOTAL / 1_000_000,
        peak as f64 / 1024.0,
        LIMIT_KIB / 1024
    );
    if read < lines || peak >= LIMIT_KIB {
        std::process::exit(1);
    }
}
