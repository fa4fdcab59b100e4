//! The fake API server in a process of its own, for whole-process benchmarks and manual tries
//! with real clients (`bench/chart-release.sh` points both cocktail-pkg and helm at it).
//!
//! ```text
//! cargo run --release -p fake-kube --example serve -- KUBECONFIG [NAMESPACE]
//! ```
//!
//! Starts [`FakeKube`] on `127.0.0.1` (a random port), writes a kubeconfig for it to
//! `KUBECONFIG` (context `fake`, with `NAMESPACE` as its namespace when given), prints the
//! server's URL on one line of stdout, and serves until stdin closes (or the process gets
//! SIGTERM, whose default action ends it). Each line read from stdin is a command:
//!
//! - `requests`: prints one line, the number of requests received since the previous
//!   `requests` (or the start) then `METHOD=N` counts, and forgets them (the server records
//!   every request it serves: asking now and then also bounds the memory that takes);
//! - `objects`: prints the number of stored objects.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::process::ExitCode;

use fake_kube::FakeKube;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(kubeconfig) = args.next() else {
        eprintln!("usage: serve KUBECONFIG [NAMESPACE]");
        return ExitCode::from(2);
    };
    let namespace = args.next().map(|n| n.to_string_lossy().into_owned());
    let fake = FakeKube::start();
    if let Err(e) = fake.write_kubeconfig(kubeconfig.as_ref(), namespace.as_deref()) {
        eprintln!(
            "error: write the kubeconfig {}: {e}",
            std::path::Path::new(&kubeconfig).display()
        );
        return ExitCode::FAILURE;
    }
    match serve(&fake) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: serve: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the URL, then answers stdin's commands until it closes.
fn serve(fake: &FakeKube) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", fake.url)?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        match line?.trim() {
            "requests" => {
                let requests = fake.requests();
                fake.clear_requests();
                let mut by: BTreeMap<&str, usize> = BTreeMap::new();
                for r in &requests {
                    *by.entry(r.method.as_str()).or_default() += 1;
                }
                let counts: Vec<String> = by.iter().map(|(m, n)| format!("{m}={n}")).collect();
                writeln!(out, "{} {}", requests.len(), counts.join(" "))?;
            }
            "objects" => writeln!(out, "{}", fake.objects().len())?,
            "" => continue,
            other => writeln!(out, "unknown command `{other}`: requests, objects")?,
        }
        out.flush()?;
    }
    Ok(())
}
