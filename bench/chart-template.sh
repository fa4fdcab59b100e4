#!/usr/bin/env bash
# Whole-process `cocktail-pkg template` against `helm template` on the same fixture charts, in
# the same run (issue: charts as packages). Release build; hyperfine (Debian's package).
#
#   HELM=/path/to/helm bench/chart-template.sh        (default: $HELM, else `helm` on PATH)
#
# Charts: tests/fixtures/charts/small (one Deployment and a Service) and
# tests/fixtures/charts/big (three sub-charts incl. a library, 70 objects).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM="${HELM:-helm}"
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
"$HELM" version --short >/dev/null || { echo "needs helm: set HELM=/path/to/helm" >&2; exit 2; }
cargo build --release --quiet --bin cocktail-pkg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Measured as installed (`cargo install` copies the binary): the file the linker has just
# written sits in the page cache in small pieces, which costs every run ~25 more page faults
# (~0.3 ms) until the cache is dropped. A copy reads like any installed program, as helm does.
B="$tmp/cocktail-pkg"
cp "${CARGO_TARGET_DIR:-target}/release/cocktail-pkg" "$B"
export HELM_CACHE_HOME="$tmp/cache" HELM_CONFIG_HOME="$tmp/config" HELM_DATA_HOME="$tmp/data"
for chart in small big; do
  dir=tests/fixtures/charts/$chart
  # Same output first: the benchmark compares equal work.
  if ! diff <("$B" template "$dir" --release-name rel) <("$HELM" template rel "$dir") >/dev/null; then
    echo "warning: outputs differ on $chart" >&2
  fi
  hyperfine -N --warmup 5 --runs "${RUNS:-50}" --export-json "$tmp/$chart.json" \
    -n "cocktail-pkg template $chart" "$B template $dir --release-name rel" \
    -n "helm template $chart" "$HELM template rel $dir" >/dev/null
  python3 - "$tmp/$chart.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ours, helm = r[0], r[1]
for x in r:
    print(f"| {x['command']} | {x['mean']*1000:.2f} ± {x['stddev']*1000:.2f} ms | {x['min']*1000:.2f} ms |")
print(f"| ratio (helm / cocktail-pkg, means) | {helm['mean']/ours['mean']:.0f}× | |")
PY
done
