//! `cargo bench -p gotpl --bench yaml`: YAML reading (`split_documents` + `parse_document`
//! per rendered document, as the chart renderer does) and `toYaml` writing (the whole values
//! map, each top-level subtree, each rendered document), printed as time per iteration.
//!
//! A plain `harness = false` bench: each case is warmed up, then timed over enough
//! iterations to fill about a second; the best of five such rounds is printed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gotpl::Value;
use gotpl::yaml::{parse_document, parse_values, split_documents, to_yaml};

const RENDERED: &str = include_str!("data/big-rendered.yaml");
const VALUES: &str = include_str!("data/big-values.yaml");

fn bench(name: &str, mut f: impl FnMut()) {
    // `cargo bench -p gotpl --bench yaml -- to_yaml` times only the cases whose name has it.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        return;
    }
    // Warm up and size the rounds to about 200 ms each.
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < Duration::from_millis(100) {
        f();
        calls += 1;
    }
    let per = start.elapsed().as_secs_f64() / calls as f64;
    let iters = ((0.2 / per) as u64).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / iters as f64);
    }
    let (v, unit) = if best >= 1e-3 {
        (best * 1e3, "ms")
    } else {
        (best * 1e6, "µs")
    };
    println!("{name:<44} {v:>10.2} {unit}/iter  ({iters} iters/round)");
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let docs = split_documents(RENDERED).unwrap_or_default();
    let parsed: Vec<Value> = docs
        .iter()
        .map(|d| parse_document(d).unwrap_or_default())
        .collect();
    let values = parse_values(VALUES).unwrap_or_default();
    let subtrees: Vec<Value> = values
        .as_map()
        .map(|m| m.read().values().cloned().collect())
        .unwrap_or_default();
    assert!(
        docs.len() > 10 && !subtrees.is_empty(),
        "bench data missing"
    );
    if quick {
        for d in &parsed {
            black_box(to_yaml(d).ok());
        }
        println!("yaml bench: smoke run ok (pass --bench to time)");
        return;
    }

    bench("split_documents (rendered, 67 KB)", || {
        black_box(split_documents(black_box(RENDERED)).ok());
    });
    bench("parse_document x docs (rendered)", || {
        for d in &docs {
            black_box(parse_document(black_box(d)).ok());
        }
    });
    bench("split + parse_document (rendered)", || {
        for d in split_documents(black_box(RENDERED)).unwrap_or_default() {
            black_box(parse_document(&d).ok());
        }
    });
    bench("parse_values (values, 3.5 KB)", || {
        black_box(parse_values(black_box(VALUES)).ok());
    });
    bench("to_yaml whole values map", || {
        black_box(to_yaml(black_box(&values)).ok());
    });
    bench("to_yaml each top-level values subtree", || {
        for v in &subtrees {
            black_box(to_yaml(black_box(v)).ok());
        }
    });
    bench("to_yaml x docs (parsed rendered)", || {
        for v in &parsed {
            black_box(to_yaml(black_box(v)).ok());
        }
    });
}
