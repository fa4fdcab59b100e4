#!/usr/bin/env bash
# Whole-process `cocktail-pkg template` against `helm template` on the same fixture charts, in
# the same run (issue: charts as packages). Release builds (static, as shipped on x86-64 Linux,
# and dynamic); hyperfine (Debian's package).
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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Measured as installed (`cargo install` copies the binary): the file the linker has just
# written sits in the page cache in small pieces, which costs every run ~25 more page faults
# (~0.3 ms) until the cache is dropped. A copy reads like any installed program, as helm does.
# Both builds: the static one we ship on x86-64 Linux (scripts/build-static) and the dynamic
# one `cargo install --path .` makes.
cargo build --release --bin cocktail-pkg
cp "${CARGO_TARGET_DIR:-target}/release/cocktail-pkg" "$tmp/cocktail-pkg-dynamic"
names=() bins=()
if [[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]]; then
  static=$(scripts/build-static)
  cp "$static" "$tmp/cocktail-pkg-static"
  names+=("cocktail-pkg (static)") bins+=("$tmp/cocktail-pkg-static")
else
  echo "note: no static build on $(uname -s)-$(uname -m) (scripts/build-static); measuring the dynamic one" >&2
fi
names+=("cocktail-pkg (dynamic)") bins+=("$tmp/cocktail-pkg-dynamic")
export HELM_CACHE_HOME="$tmp/cache" HELM_CONFIG_HOME="$tmp/config" HELM_DATA_HOME="$tmp/data"
for chart in small big; do
  dir=tests/fixtures/charts/$chart
  args=()
  for i in "${!bins[@]}"; do
    # Same output first: the benchmark compares equal work.
    if ! diff <("${bins[$i]}" template "$dir" --release-name rel) <("$HELM" template rel "$dir") >/dev/null; then
      echo "warning: ${names[$i]} and helm differ on $chart" >&2
    fi
    args+=(-n "${names[$i]} template $chart" "${bins[$i]} template $dir --release-name rel")
  done
  hyperfine -N --warmup 5 --runs "${RUNS:-50}" --export-json "$tmp/$chart.json" \
    "${args[@]}" -n "helm template $chart" "$HELM template rel $dir" >/dev/null
  python3 - "$tmp/$chart.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
helm = r[-1]
for x in r:
    print(f"| {x['command']} | {x['mean']*1000:.2f} ± {x['stddev']*1000:.2f} ms | {x['min']*1000:.2f} ms |")
for x in r[:-1]:
    print(f"| ratio helm / {x['command']} (means) | {helm['mean']/x['mean']:.1f}× | |")
PY
done
