#!/usr/bin/env bash
# Index, client and server benchmark on a synthetic index of 5,000 packages x 20 versions
# (bench/gen_index.py) served on 127.0.0.1 by `cocktail-pkg serve`:
#   - whole-process wall time (hyperfine) and peak RSS (/usr/bin/time -f %M) of `search`, `pull`
#     and `repo update` against that server, with warm and cold caches;
#   - `serve` throughput for index.json (identity and gzip) and a small versions file, with wrk,
#     next to nginx serving the same files with the same wrk settings.
# Usage: bench/index.sh   (from anywhere; needs python3, hyperfine, /usr/bin/time, curl; the
# server comparison also needs wrk and nginx: apt-get install -y wrk nginx hyperfine time)
# Knobs: RUNS (hyperfine runs, default 30), WRK_ARGS (default "-t2 -c32 -d10s").
# Prints Markdown tables on stdout; progress goes to stderr. Everything lives in a temp dir that is
# removed on exit, and the servers started here are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
WRK_ARGS=${WRK_ARGS:--t2 -c32 -d10s}
PACKAGES=5000
VERSIONS=20
PULL=bench-pull
say() { echo "# $*" >&2; }

for tool in python3 hyperfine curl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y hyperfine time curl)" >&2; exit 1; }
done
have_wrk=1
command -v wrk >/dev/null && command -v nginx >/dev/null || have_wrk=0

cargo build --release --quiet
B=$PWD/target/release/cocktail-pkg

tmp=$(mktemp -d)
server_pid=
nginx_pid=
cleanup() {
  for p in $server_pid $nginx_pid; do
    kill "$p" 2>/dev/null || true
  done
  for p in $server_pid $nginx_pid; do
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$tmp" # nginx workers may run as another user

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most 60 s) until URL answers.
wait_up() {
  local i
  for i in $(seq 600); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

# --- the index ---------------------------------------------------------------------------------
idx=$tmp/index
say "generating $PACKAGES packages x $VERSIONS versions"
python3 bench/gen_index.py --out "$idx" --packages "$PACKAGES" --versions "$VERSIONS" \
  --bin "$B" --pull "$PULL" --report "redis operator" postgres kubernetes >"$tmp/gen.json"
hits() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hits"][sys.argv[2]])' "$tmp/gen.json" "$1"; }
root_bytes=$(stat -c %s "$idx/index.json")
small_file=packages/$PULL.json
small_bytes=$(stat -c %s "$idx/$small_file")

# --- the server --------------------------------------------------------------------------------
"$B" index keygen --out "$tmp/signing.key" -q >/dev/null
port=$(free_port)
url=http://127.0.0.1:$port/
say "starting cocktail-pkg serve on $url"
t0=$(date +%s%N)
"$B" serve --index "$idx" --addr "127.0.0.1:$port" --key "$tmp/signing.key" 2>"$tmp/serve.log" &
server_pid=$!
wait_up "${url}healthz"
t1=$(date +%s%N)
serve_start_ms=$(( (t1 - t0) / 1000000 ))

export COCKTAIL_PKG_CONFIG_HOME=$tmp/config COCKTAIL_PKG_CACHE_HOME=$tmp/cache
export COCKTAIL_PKG_COLOR=never
cache=$COCKTAIL_PKG_CACHE_HOME
out=$tmp/pulled
mkdir -p "$out"
"$B" repo add bench "$url" -q >/dev/null
# Warm everything once: root, versions file, archive.
"$B" search postgres -q >/dev/null
"$B" pull "bench/$PULL" --version '^2' -d "$out" -q >/dev/null

# --- client commands ---------------------------------------------------------------------------
# label | command | hyperfine --prepare (or empty) | target ms (or -) | target MiB (or -)
n_narrow=$(hits "redis operator")
n_pg=$(hits postgres)
n_all=$(hits kubernetes)
cold_archive="rm -rf $cache/packages-v1"
cold_versions="rm -rf $cache/packages-v1 $cache/index-v1/bench/packages"
no_etags="rm -f $cache/index-v1/bench/etags.json"
cases=(
  "\`search 'redis operator'\` ($n_narrow hits), warm|$B search 'redis operator'||50|50"
  "\`search postgres -o json\` ($n_pg hits), warm|$B search postgres -o json||50|50"
  "\`search kubernetes\` (all $n_all packages hit), warm|$B search kubernetes||50|50"
  "\`pull bench/$PULL --version '^2'\`, index and archive cached|$B pull bench/$PULL --version ^2 -d $out||50|50"
  "same pull, archive downloaded (index cached)|$B pull bench/$PULL --version ^2 -d $out|$cold_archive|-|-"
  "same pull, versions file and archive downloaded (root cached)|$B pull bench/$PULL --version ^2 -d $out|$cold_versions|-|-"
  "\`repo update\`, index unchanged (304s)|$B repo update||50|-"
  "\`repo update\`, no ETag cached (root downloaded again)|$B repo update|$no_etags|-|-"
  "\`cocktail-pkg --version\` (process start-up floor)|$B --version||-|-"
)

results=$tmp/results.tsv
: >"$results"
for c in "${cases[@]}"; do
  IFS='|' read -r label cmd prep tms tmib <<<"$c"
  say "timing: $label"
  args=(-N --warmup 3 --runs "$RUNS" --export-json "$tmp/h.json")
  if [[ -n $prep ]]; then args+=(--prepare "$prep"); fi
  hyperfine "${args[@]}" "$cmd" >/dev/null 2>"$tmp/h.err" || { cat "$tmp/h.err" >&2; exit 1; }
  read -r mean sd med <<<"$(python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))["results"][0]
print("%.1f %.1f %.1f" % (r["mean"]*1e3, r["stddev"]*1e3, r["median"]*1e3))' "$tmp/h.json")"
  # Peak RSS: the largest of 5 runs (same cache state as the timing).
  rss=0
  for _ in 1 2 3 4 5; do
    if [[ -n $prep ]]; then $prep; fi
    eval "/usr/bin/time -f '%M' -o \"\$tmp/rss\" $cmd" >/dev/null 2>&1
    r=$(tail -1 "$tmp/rss")
    if (( r > rss )); then rss=$r; fi
  done
  # Put the cache back in the warm state for the next case.
  "$B" repo update -q >/dev/null
  "$B" pull "bench/$PULL" --version '^2' -d "$out" -q >/dev/null
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$mean" "$sd" "$med" "$rss" "$tms" "$tmib" >>"$results"
done

echo
echo "Synthetic index: $PACKAGES packages x $VERSIONS versions; index.json $root_bytes bytes; $small_file $small_bytes bytes."
echo "hyperfine -N --warmup 3 --runs $RUNS; peak RSS = max of 5 runs of /usr/bin/time -f %M."
echo
python3 - "$results" <<'EOF'
import sys
print("| Measurement | Wall (mean ± σ) | Median | Peak RSS | Target | Result |")
print("|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    label, mean, sd, med, rss, tms, tmib = line.rstrip("\n").split("\t")
    mean, sd, med, mib = float(mean), float(sd), float(med), int(rss) / 1024
    if tms == "-":
        target, verdict = "—", "(info)"
    else:
        ok = mean < float(tms) and (tmib == "-" or mib < float(tmib))
        target = f"< {tms} ms" + (f", < {tmib} MiB" if tmib != "-" else "")
        verdict = "pass" if ok else "**FAIL**"
    print(f"| {label} | {mean:.1f} ± {sd:.1f} ms | {med:.1f} ms | {mib:.1f} MiB | {target} | {verdict} |")
EOF

# --- server throughput -------------------------------------------------------------------------
if (( ! have_wrk )); then
  echo
  echo "(wrk or nginx not installed: server comparison skipped)"
  exit 0
fi

# nginx serving the same folder: gzip_static with pre-compressed copies (cocktail-pkg serve keeps
# a gzip copy of each index file in memory, computed at start), access log on like serve's.
gzip -6 -k -n "$idx/index.json"
gzip -6 -k -n "$idx/$small_file"
nport=$(free_port)
ng=$tmp/nginx
mkdir -p "$ng"
cat >"$ng/nginx.conf" <<EOF
worker_processes 2;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
daemon off;
$( [[ $(id -u) == 0 ]] && echo "user root;" )
events { worker_connections 1024; }
http {
  types { application/json json; }
  default_type application/octet-stream;
  access_log $ng/access.log;
  client_body_temp_path $ng/body;
  proxy_temp_path $ng/proxy;
  fastcgi_temp_path $ng/fastcgi;
  uwsgi_temp_path $ng/uwsgi;
  scgi_temp_path $ng/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nport;
    root $idx;
    gzip_static on;
    gzip_vary on;
    add_header Cache-Control no-cache;
    # The same files without sendfile (read into 1 MiB buffers, then written): on loopback this
    # is faster than sendfile for large files.
    location /copy/ {
      alias $idx/;
      sendfile off;
      output_buffers 2 1m;
    }
    # Compressing on every request instead of gzip_static (gzip_comp_level 1, the default).
    location /dynamic/ {
      alias $idx/;
      gzip_static off;
      gzip on;
      gzip_types application/json;
      gzip_min_length 0;
    }
  }
}
EOF
say "starting nginx on 127.0.0.1:$nport"
nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/error.log" &
nginx_pid=$!
nurl=http://127.0.0.1:$nport/
wait_up "${nurl}index.json"

# Sanity: same bytes, gzip honoured.
size_of() { curl -s -o /dev/null -w '%{size_download}' "$@"; }
cz=$(size_of -H 'Accept-Encoding: gzip' "${url}index.json")
nz=$(size_of -H 'Accept-Encoding: gzip' "${nurl}index.json")
ci=$(size_of "${url}index.json")
ni=$(size_of "${nurl}index.json")
[[ $(size_of -H 'Accept-Encoding: gzip' "${nurl}copy/index.json") == "$nz" ]] ||
  { echo "nginx /copy/ does not serve the gzip_static copy" >&2; exit 1; }
cmp <(curl -s "${url}index.json") <(curl -s "${nurl}index.json") >/dev/null ||
  { echo "servers return different index.json bytes" >&2; exit 1; }

wrk_run() { # label server url [header]
  local label=$1 server=$2 target=$3 hdr=${4:-}
  say "wrk $WRK_ARGS $server $label"
  if [[ -n $hdr ]]; then
    wrk $WRK_ARGS --latency -H "$hdr" "$target" >"$tmp/wrk.txt"
  else
    wrk $WRK_ARGS --latency "$target" >"$tmp/wrk.txt"
  fi
  python3 - "$tmp/wrk.txt" "$label" "$server" >>"$tmp/wrk.tsv" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(s):
    v, u = re.match(r"([\d.]+)(us|ms|s|m)", s).groups()
    return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
tr = re.search(r"Transfer/sec:\s+(\S+)", text).group(1)
avg = ms(re.search(r"^\s+Latency\s+(\S+)", text, re.M).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errs = re.search(r"Socket errors: (.*)", text)
note = []
if bad: note.append(f"{bad.group(1)} non-2xx")
if errs: note.append("socket errors: " + errs.group(1))
print("\t".join([sys.argv[2], sys.argv[3], f"{rps:.0f}", tr, f"{avg:.2f}", f"{p50:.2f}", f"{p99:.2f}", "; ".join(note)]))
EOF
}
: >"$tmp/wrk.tsv"
wrk_run "index.json, identity ($ci B)" "cocktail-pkg serve" "${url}index.json"
wrk_run "index.json, identity ($ni B)" "nginx" "${nurl}index.json"
wrk_run "index.json, gzip ($cz B)" "cocktail-pkg serve" "${url}index.json" "Accept-Encoding: gzip"
wrk_run "index.json, gzip ($nz B)" "nginx (gzip_static)" "${nurl}index.json" "Accept-Encoding: gzip"
wrk_run "index.json, identity" "nginx (sendfile off)" "${nurl}copy/index.json"
wrk_run "index.json, gzip" "nginx (gzip_static, sendfile off)" "${nurl}copy/index.json" "Accept-Encoding: gzip"
wrk_run "index.json, gzip" "nginx (gzip on, per request)" "${nurl}dynamic/index.json" "Accept-Encoding: gzip"
wrk_run "$small_file, gzip" "cocktail-pkg serve" "${url}$small_file" "Accept-Encoding: gzip"
wrk_run "$small_file, gzip" "nginx (gzip_static)" "${nurl}$small_file" "Accept-Encoding: gzip"

serve_hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
echo
echo "wrk $WRK_ARGS --latency on 127.0.0.1 (2 vCPU shared by wrk and the server); nginx $(nginx -v 2>&1 | sed 's/.*\///'),"
echo "2 workers, sendfile unless noted, gzip_static with gzip -6 copies; both servers write an access log."
echo
echo "| File | Server | Requests/s | Transfer/s | Latency avg | p50 | p99 | Notes |"
echo "|---|---|---|---|---|---|---|---|"
while IFS=$'\t' read -r label server rps tr avg p50 p99 note; do
  echo "| $label | $server | $rps | $tr | $avg ms | $p50 ms | $p99 ms | $note |"
done <"$tmp/wrk.tsv"
echo
echo "cocktail-pkg serve: ready $serve_start_ms ms after start (loads, gzips and signs $PACKAGES versions files + root); peak RSS after the runs $(( serve_hwm / 1024 )) MiB."
