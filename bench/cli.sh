#!/usr/bin/env bash
# Whole-process timings of the CLI on the built-in catalog (release build), with hyperfine when
# available, else a bounded loop with `date`. Usage: bench/cli.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
B=target/release/cocktail-pkg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmds=(
  "$B template catalog/wordpress -q -f catalog/wordpress/tests/ingress-tls.values.yaml"
  "$B lint catalog/wordpress -q"
  "$B package catalog/wordpress -q -d $tmp"
)
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 3 --runs 30 --export-markdown "$tmp/out.md" "${cmds[@]}" >/dev/null
  cat "$tmp/out.md"
else
  for c in "${cmds[@]}"; do
    start=$(date +%s%N)
    for _ in $(seq 20); do $c >/dev/null 2>&1; done
    end=$(date +%s%N)
    echo "$c: $(( (end - start) / 20000 )) µs mean of 20"
  done
fi
