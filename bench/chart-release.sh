#!/usr/bin/env bash
# Charts as releases, whole processes, against the fake API server (issue 13): `cocktail-pkg
# install`, `upgrade` with nothing changed and `uninstall` of a 300-object chart side by side with
# `helm install`/`upgrade`/`uninstall` in the same run, and `cocktail-pkg adopt` of a 50-object
# release that `helm install` created. Release build; hyperfine (Debian's package) and curl.
#
#   HELM=/path/to/helm bench/chart-release.sh   (default: $HELM, else `helm` on PATH, else
#                                                /opt/k8stools/helm/helm; RUNS=20 by default)
#
# The fake API server (crates/fake-kube/examples/serve.rs) runs in a process of its own; both
# tools reach it through the same kubeconfig. Every timed run gets a fresh namespace (hyperfine
# --prepare: the namespace is deleted, with everything in it, and created again; for the upgrade,
# the uninstall and the adoption the release is installed there too), so every run does the same
# work and the server's store stays small. Chart: tests/fixtures/bench-charts/web300 (100
# ConfigMaps, 100 Services, 100 Deployments, the standard helpers of `helm create`); the adopted
# release is the same chart with --set configMaps=17,services=17,deployments=16 (50 objects).
# Figures and how to read them: docs/benchmarks.md ("Charts as releases").
set -euo pipefail
cd "$(dirname "$0")/.."
HELM="${HELM:-$(command -v helm || echo /opt/k8stools/helm/helm)}"
RUNS="${RUNS:-20}"
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
command -v curl >/dev/null || { echo "needs curl" >&2; exit 2; }
"$HELM" version --short >/dev/null || { echo "needs helm: set HELM=/path/to/helm" >&2; exit 2; }
if [[ -z "${NO_BUILD:-}" ]]; then # NO_BUILD=1: use the binaries built before
  cargo build --release --quiet --bin cocktail-pkg
  cargo build --release --quiet -p fake-kube --example serve
fi
target_dir="${CARGO_TARGET_DIR:-target}"
export B="$PWD/$target_dir/release/cocktail-pkg" HELM CHART="$PWD/tests/fixtures/bench-charts/web300"
SMALL=(--set configMaps=17,services=17,deployments=16)

tmp=$(mktemp -d)
# Both tools get their own, isolated homes (helm's discovery cache lives under $HOME/.kube).
export HOME="$tmp/home" KUBECONFIG="$tmp/kubeconfig"
export HELM_CACHE_HOME="$tmp/helm/cache" HELM_CONFIG_HOME="$tmp/helm/config" HELM_DATA_HOME="$tmp/helm/data"
export COCKTAIL_PKG_CONFIG_HOME="$tmp/cocktail/config" COCKTAIL_PKG_CACHE_HOME="$tmp/cocktail/cache"
unset COCKTAIL_PKG_TARGET COCKTAIL_PKG_KUBE_CONTEXT COCKTAIL_PKG_SERVICE_MAP
mkdir -p "$HOME"

# The fake API server: its stdin is ours (it stops when that closes), its first line the URL.
coproc FAKE { exec "$target_dir/release/examples/serve" "$KUBECONFIG"; }
fake_pid=$FAKE_PID
stop() {
  [[ -n "${FAKE[1]:-}" ]] && exec {FAKE[1]}>&-
  wait "$fake_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap stop EXIT
read -r -t 30 URL <&"${FAKE[0]}"
export URL
# The requests the server received since the last call: "N METHOD=n ...".
requests() { echo requests >&"${FAKE[1]}"; read -r -t 30 line <&"${FAKE[0]}"; echo "$line"; }

# The preparations hyperfine runs before each timed run (a script, so that it runs with -N too).
cat >"$tmp/prep" <<'SH'
#!/usr/bin/env bash
# prep NAMESPACE [ours|helm] [ARGS...]: a fresh namespace; with `ours`/`helm`, the chart
# installed there by that tool as release `web` (ARGS added to the install).
# prep --delete NAMESPACE: the namespace deleted, with everything in it.
set -euo pipefail
delete=
[[ $1 == --delete ]] && { delete=1; shift; }
ns=$1; shift
api() { curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer fake-token" "$@"; }
code=$(api -X DELETE "$URL/api/v1/namespaces/$ns")
[[ $code == 200 || $code == 404 ]] || { echo "prep: delete namespace $ns: HTTP $code" >&2; exit 1; }
[[ -n $delete ]] && exit 0
code=$(api -H 'Content-Type: application/json' \
  -d "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" "$URL/api/v1/namespaces")
[[ $code == 201 ]] || { echo "prep: create namespace $ns: HTTP $code" >&2; exit 1; }
case "${1:-}" in
  ours) shift; "$B" install web "$CHART" -n "$ns" "$@" >/dev/null 2>&1 ;;
  helm) shift; "$HELM" install web "$CHART" -n "$ns" --disable-openapi-validation "$@" >/dev/null ;;
  "") ;;
  *) echo "prep: unknown tool $1" >&2; exit 2 ;;
esac
SH
chmod +x "$tmp/prep"
P="$tmp/prep"

# The namespace a preparation makes ("$P NS ..." -> NS). Each case's namespace is deleted when
# its runs are over: the fake's DELETE looks through every stored object for dependents (an
# O(objects) scan), so releases left behind by earlier cases would slow the uninstalls down.
namespace() { local rest=${1#"$P "}; echo "${rest%% *}"; }

# name | prepare | command. Helm needs --disable-openapi-validation: the fake serves no OpenAPI.
H="$HELM"
HV=--disable-openapi-validation
cases=(
  "cocktail-pkg install|$P c-install|$B install web $CHART -n c-install"
  "helm install|$P h-install|$H install web $CHART -n h-install $HV"
  "cocktail-pkg upgrade (no-op)|$P c-upgrade ours|$B upgrade web $CHART -n c-upgrade"
  "helm upgrade (no-op)|$P h-upgrade helm|$H upgrade web $CHART -n h-upgrade $HV"
  "cocktail-pkg uninstall|$P c-uninstall ours|$B uninstall web -n c-uninstall"
  "helm uninstall|$P h-uninstall helm|$H uninstall web -n h-uninstall"
  "cocktail-pkg adopt (50 objects)|$P c-adopt helm ${SMALL[*]}|$B adopt web -n c-adopt"
)

# ONLY=REGEX: only the cases whose name matches (the targets are then reported as far as measured).
if [[ -n "${ONLY:-}" ]]; then
  kept=()
  for c in "${cases[@]}"; do [[ ${c%%|*} =~ $ONLY ]] && kept+=("$c"); done
  cases=("${kept[@]}")
fi
# One untimed run of each, checked, with the requests it sent (the preparation's are not counted).
# The fake cannot read the protobuf DeleteOptions client-go sends when helm deletes its release
# Secret: `helm uninstall` then fails at its last step, "Failed to purge the release", after
# deleting the 300 objects; that failure (and only that one) is tolerated and reported.
declare -A census
echo "census (one run each):" >&2
for c in "${cases[@]}"; do
  IFS='|' read -r name prep cmd <<<"$c"
  # shellcheck disable=SC2086 # word splitting is the point: the same strings hyperfine runs
  $prep >/dev/null
  requests >/dev/null
  # shellcheck disable=SC2086
  if ! out=$($cmd 2>&1); then
    if [[ $name == "helm uninstall" && $out == *"Failed to purge the release"* ]]; then
      echo "  warning: $name: ${out##*Error: }" >&2
    else
      echo "$name failed: $out" >&2
      exit 1
    fi
  fi
  census[$name]=$(requests)
  echo "  $name: ${census[$name]} requests" >&2
  "$P" --delete "$(namespace "$prep")" >/dev/null
done

for c in "${cases[@]}"; do
  IFS='|' read -r name prep cmd <<<"$c"
  flags=()
  [[ $name == "helm uninstall" ]] && flags=(-i)
  file="$tmp/$(echo "$name" | tr -c 'a-z0-9\n' '-').json"
  hyperfine -N --warmup 2 --runs "$RUNS" "${flags[@]}" --export-json "$file" \
    --prepare "$prep" --cleanup "$P --delete $(namespace "$prep")" -n "$name" "$cmd" >/dev/null
  requests >/dev/null # forget what the runs sent
  echo "$file|${census[$name]}" >>"$tmp/results"
done

python3 - "$tmp/results" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    file, census = line.rstrip("\n").split("|")
    r = json.load(open(file))["results"][0]
    rows[r["command"]] = (r, census.split()[0])
ms = lambda s: f"{s*1000:.1f}"
print("| Operation | cocktail-pkg (mean ± σ) | min | requests | helm (mean ± σ) | min | requests | helm ÷ cocktail-pkg |")
print("|---|---|---|---|---|---|---|---|")
for op, ours, helm in [("install, 300 objects", "cocktail-pkg install", "helm install"),
                       ("upgrade, nothing changed", "cocktail-pkg upgrade (no-op)", "helm upgrade (no-op)"),
                       ("uninstall, 300 objects", "cocktail-pkg uninstall", "helm uninstall"),
                       ("adopt, 50 objects", "cocktail-pkg adopt (50 objects)", None)]:
    if ours not in rows:
        continue
    o, on = rows[ours]
    cells = [op, f"{ms(o['mean'])} ± {ms(o['stddev'])} ms", f"{ms(o['min'])} ms", on]
    if helm in rows:
        h, hn = rows[helm]
        cells += [f"{ms(h['mean'])} ± {ms(h['stddev'])} ms", f"{ms(h['min'])} ms", hn, f"{h['mean']/o['mean']:.1f}×"]
    else:
        cells += ["(helm has no adopt)" if helm is None else "(not run)", "", "", ""]
    print("| " + " | ".join(cells) + " |")
print()
for name, limit, text in [("cocktail-pkg upgrade (no-op)", 0.1, "no-op upgrade < 100 ms"),
                          ("cocktail-pkg adopt (50 objects)", 1.0, "adoption < 1 s")]:
    if name in rows:
        mean = rows[name][0]["mean"]
        print(f"{text}: {'met' if mean < limit else 'NOT met'} ({ms(mean)} ms mean)")
PY
