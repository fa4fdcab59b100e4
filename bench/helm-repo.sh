#!/usr/bin/env bash
# Helm repository benchmark: a synthetic Helm index.yaml of 2,500 charts x 20 versions (~42 MiB,
# bench/gen_helm_index.py) served on 127.0.0.1 by `python3 -m http.server` (Last-Modified and
# If-Modified-Since, no ETag), and, side by side in the same run, cocktail-pkg and helm:
#   - `repo add` (download + parse + cache), `repo update` with the index unchanged (304),
#     `search` (a word with ~60 hits), and resolving and fetching one chart (`pull` with a range);
#   - whole-process wall time (hyperfine, or a loop of 10 runs without it) and peak RSS
#     (/usr/bin/time -f %M, the largest of 5 runs).
# Usage: bench/helm-repo.sh   (needs python3, /usr/bin/time, curl; hyperfine recommended:
# apt-get install -y hyperfine time). HELM=/path/to/helm (default /opt/k8stools/helm/helm; the
# helm rows are skipped when it is missing). Knobs: RUNS (default 10), CHARTS (2500),
# VERSIONS (20).
# Prints Markdown tables on stdout; progress goes to stderr. Everything lives in a temp dir that is
# removed on exit, and the server started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
CHARTS=${CHARTS:-2500}
VERSIONS=${VERSIONS:-20}
HELM=${HELM:-/opt/k8stools/helm/helm}
PULL=acme-postgres-server
TERM_=postgres
say() { echo "# $*" >&2; }

for tool in python3 curl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y time curl)" >&2; exit 1; }
done
have_hyperfine=1
command -v hyperfine >/dev/null || have_hyperfine=0
have_helm=1
[[ -x $HELM ]] || have_helm=0

cargo build --release --quiet
B=$PWD/target/release/cocktail-pkg

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- the repository ----------------------------------------------------------------------------
site=$tmp/site
say "generating $CHARTS charts x $VERSIONS versions"
python3 bench/gen_helm_index.py --out "$site" --charts "$CHARTS" --versions "$VERSIONS" \
  --pull "$PULL" --report "$TERM_" >"$tmp/gen.json"
index_bytes=$(stat -c %s "$site/index.yaml")
# A second, bigger index (~60 MB) for the memory budget of `repo add`.
BIG_CHARTS=${BIG_CHARTS:-3400}
say "generating $BIG_CHARTS charts x $VERSIONS versions (the big index)"
python3 bench/gen_helm_index.py --out "$site/big" --charts "$BIG_CHARTS" --versions "$VERSIONS" >/dev/null
big_bytes=$(stat -c %s "$site/big/index.yaml")
hits=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hits"][sys.argv[2]])' "$tmp/gen.json" "$TERM_")
port=$(free_port)
url=http://127.0.0.1:$port/
say "serving $site on $url"
(cd "$site" && exec python3 -m http.server "$port" --bind 127.0.0.1 >"$tmp/http.log" 2>&1) &
server_pid=$!
for _ in $(seq 300); do
  curl -sf -o /dev/null "${url}index.yaml" -r 0-0 && break
  sleep 0.1
done

# --- isolated homes ----------------------------------------------------------------------------
export COCKTAIL_PKG_CONFIG_HOME=$tmp/c/config COCKTAIL_PKG_CACHE_HOME=$tmp/c/cache
export COCKTAIL_PKG_COLOR=never
export HELM_CONFIG_HOME=$tmp/h/config HELM_CACHE_HOME=$tmp/h/cache HELM_DATA_HOME=$tmp/h/data
out=$tmp/pulled
mkdir -p "$out"
c_reset="rm -rf $tmp/c"
h_reset="rm -rf $tmp/h"

# Warm state for the read commands: added once, chart fetched once.
"$B" repo add bench "$url" -q >/dev/null
"$B" pull "bench/$PULL@^1" -d "$out" -q >/dev/null
if (( have_helm )); then
  "$HELM" repo add bench "$url" >/dev/null
  "$HELM" pull "bench/$PULL" --version '^1' -d "$out" >/dev/null
fi
c_cache_bytes=$(du -sb "$tmp/c/cache/index-v1/bench" | cut -f1)

# label | command | prepare (or empty) | target ms (or -) | target MiB (or -)
cases=(
  "cocktail-pkg \`repo add\` (download, parse, cache)|$B repo add bench $url --force -q|$c_reset|1500|150"
  "helm \`repo add\`|$HELM repo add bench $url --force-update|$h_reset|-|-"
  "cocktail-pkg \`repo update\`, index unchanged (304)|$B repo update -q||-|-"
  "helm \`repo update\` (downloads the index again)|$HELM repo update||-|-"
  "cocktail-pkg \`search $TERM_\` ($hits hits)|$B search $TERM_||30|30"
  "helm \`search repo $TERM_\`|$HELM search repo $TERM_||-|-"
  "cocktail-pkg \`pull bench/$PULL@^1\` (resolve; archive cached)|$B pull bench/$PULL@^1 -d $out -q||-|-"
  "helm \`pull bench/$PULL --version ^1\`|$HELM pull bench/$PULL --version ^1 -d $out||-|-"
  "cocktail-pkg \`repo add\` of the big index ($((big_bytes / 1000000)) MB)|$B repo add big ${url}big/ --force -q|rm -rf $tmp/c/cache/index-v1/big|-|150"
  "helm \`repo add\` of the big index|$HELM repo add big ${url}big/ --force-update||-|-"
  "cocktail-pkg \`--version\` (process start-up floor)|$B --version||-|-"
)

# Puts both tools back in the warm state after a case that reset them.
rewarm() {
  [[ -d $tmp/c/cache/index-v1/bench ]] || { "$B" repo add bench "$url" --force -q >/dev/null; "$B" pull "bench/$PULL@^1" -d "$out" -q >/dev/null; }
  if (( have_helm )); then
    [[ -d $tmp/h/cache ]] || "$HELM" repo add bench "$url" --force-update >/dev/null
  fi
}

results=$tmp/results.tsv
: >"$results"
for c in "${cases[@]}"; do
  IFS='|' read -r label cmd prep tms tmib <<<"$c"
  if [[ $cmd == "$HELM"* ]] && (( ! have_helm )); then continue; fi
  say "timing: $label"
  if (( have_hyperfine )); then
    args=(-N --warmup 2 --runs "$RUNS" --export-json "$tmp/h.json")
    if [[ -n $prep ]]; then args+=(--prepare "$prep"); fi
    hyperfine "${args[@]}" "$cmd" >/dev/null 2>"$tmp/h.err" || { cat "$tmp/h.err" >&2; exit 1; }
    read -r mean sd med <<<"$(python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))["results"][0]
print("%.1f %.1f %.1f" % (r["mean"]*1e3, r["stddev"]*1e3, r["median"]*1e3))' "$tmp/h.json")"
  else
    : >"$tmp/times"
    for _ in $(seq "$RUNS"); do
      if [[ -n $prep ]]; then $prep; fi
      t0=$(date +%s%N); $cmd >/dev/null 2>&1; t1=$(date +%s%N)
      echo $(( t1 - t0 )) >>"$tmp/times"
    done
    read -r mean sd med <<<"$(python3 -c '
import statistics,sys
t=[int(x)/1e6 for x in open(sys.argv[1])]
print("%.1f %.1f %.1f" % (statistics.mean(t), statistics.pstdev(t), statistics.median(t)))' "$tmp/times")"
  fi
  rss=0
  for _ in 1 2 3 4 5; do
    if [[ -n $prep ]]; then $prep; fi
    /usr/bin/time -f '%M' -o "$tmp/rss" $cmd >/dev/null 2>&1
    r=$(tail -1 "$tmp/rss")
    if (( r > rss )); then rss=$r; fi
  done
  rewarm
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$mean" "$sd" "$med" "$rss" "$tms" "$tmib" >>"$results"
done

echo
echo "Synthetic Helm index: $CHARTS charts x $VERSIONS versions, index.yaml $index_bytes bytes; cocktail-pkg's cache of it: $c_cache_bytes bytes. Big index: $BIG_CHARTS charts, $big_bytes bytes."
if (( have_hyperfine )); then
  echo "hyperfine -N --warmup 2 --runs $RUNS; peak RSS = max of 5 runs of /usr/bin/time -f %M."
else
  echo "$RUNS runs each (no hyperfine); peak RSS = max of 5 runs of /usr/bin/time -f %M."
fi
(( have_helm )) && echo "helm: $("$HELM" version --short)"
echo
python3 - "$results" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
print("| Measurement | Wall (mean ± σ) | Median | Peak RSS | Target | Result |")
print("|---|---|---|---|---|---|")
for label, mean, sd, med, rss, tms, tmib in rows:
    mean, sd, med, mib = float(mean), float(sd), float(med), int(rss) / 1024
    if tms == "-" and tmib == "-":
        target, verdict = "—", "(info)"
    elif tms == "-":
        target = f"< {tmib} MiB"
        verdict = "pass" if mib < float(tmib) else "**FAIL**"
    else:
        ok = mean < float(tms) and (tmib == "-" or mib < float(tmib))
        target = f"< {tms} ms" + (f", < {tmib} MiB" if tmib != "-" else "")
        verdict = "pass" if ok else "**FAIL**"
    print(f"| {label} | {mean:.1f} ± {sd:.1f} ms | {med:.1f} ms | {mib:.1f} MiB | {target} | {verdict} |")
means = {l: float(m) for l, m, *_ in rows}
def ratio(ours, theirs):
    a = next((v for k, v in means.items() if k.startswith(ours)), None)
    b = next((v for k, v in means.items() if k.startswith(theirs)), None)
    return f"{b / a:.0f}×" if a and b else "n/a"
print()
print(f"helm ÷ cocktail-pkg wall time: repo add {ratio('cocktail-pkg `repo add', 'helm `repo add')}, "
      f"repo update {ratio('cocktail-pkg `repo update', 'helm `repo update')}, "
      f"search {ratio('cocktail-pkg `search', 'helm `search')}, "
      f"pull {ratio('cocktail-pkg `pull', 'helm `pull')}.")
EOF
