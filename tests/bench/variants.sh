#!/usr/bin/env bash
# variants.sh - the measurements behind the defaults (docs/PERFORMANCE.md):
# the same authenticated read load (GET /cliente with a token, random
# clients of 10 000, SQLite) against the stack configured each way, each
# round right after the kept-alive hello reference of the same run.  Run
# after bin/bench has built build/release:
#   tests/bench/variants.sh [seconds] [rounds]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
secs="${1:-3}"
rounds="${2:-3}"
export BENCH_N=10000
worker="$root/build/release/cgi/clientes-worker"
[ -x "$worker" ] || { echo "build/release missing: run bin/bench first" >&2; exit 1; }

. "$root/tests/bench/lib.sh"
work="$(bench_workdir variants)"
trap 'bench_stop_all; rm -rf "$work"' EXIT
export CLIENTES_WORKER="$worker" TMPDIR="$work" CLIENT_RATE=1000000 CLIENT_MAX_REQUESTS=512

bench_seed "sqlite://$work/db.db" 1 "$BENCH_N"
BENCH_TOKEN="$(bench_admin "sqlite://$work/db.db" token create variants --role reader)"
export BENCH_TOKEN
curl_body() { curl -fsS -H "Authorization: Bearer $BENCH_TOKEN" "http://127.0.0.1:$1/cliente?mail=c000001%40bench.es"; }

# variant NAME THREADS NGINX_WORKERS KEEP_CONN(on|off) KEEPALIVE LISTEN(unix|tcp)
variant() {
  local name=$1 threads=$2 wp=$3 keep=$4 ka=$5 listen=$6 d port fl="" c r
  d="$(bench_workdir variant)"
  cp -r conf/. "$d/"
  sed "s|\${CONF_DIR}|$d|g; s|keepalive 128;|keepalive $ka;|" conf/nginx.conf.template >"$d/t.tmpl"
  [ "$keep" = on ] || sed -i 's|^fastcgi_keep_conn on;|fastcgi_keep_conn off;|' "$d/fastcgi.conf"
  [ "$listen" = tcp ] && fl="127.0.0.1:$(bench_free_port)"
  port="$(bench_free_port)"
  PORT=$port WORKER_THREADS=$threads NGINX_WORKER_PROCESSES=$wp FCGI_LISTEN=$fl \
    DATABASE_URL="sqlite://$work/db.db" NGINX_CONF="$d/t.tmpl" bench_start_stack "$d/log"
  [ -s "$work/body.json" ] || curl_body "$port" >"$work/body.json"
  [ -n "${ref_port[hello_keep]:-}" ] ||
    bench_refs "$work/ref" auto 320 "$work/body.json"
  for c in 16 256; do
    local rs=() p50s=() p99s=() ratios=() errs=0 ref_rps rps p50 p99 err
    for (( r = 0; r < rounds; r++ )); do
      read -r ref_rps _ _ _ < <(bench_load "${ref_port[hello_keep]}" "$c" ref.lua "$secs")
      read -r rps p50 p99 err < <(bench_load "$port" "$c" read.lua "$secs")
      rs+=("$rps") p50s+=("$p50") p99s+=("$p99") errs=$(( errs + err ))
      ratios+=("$(awk -v a="$rps" -v b="$ref_rps" 'BEGIN {print a / b}')")
    done
    printf '%-40s c%-4s %8.0f %7.3f %8.3f %5s %6.3f\n' "$name" "$c" \
      "$(bench_median "${rs[@]}")" "$(bench_median "${p50s[@]}")" \
      "$(bench_median "${p99s[@]}")" "$errs" "$(bench_median "${ratios[@]}")"
  done
  bench_stop_one "$stack_pid"
  rm -rf "$d"
}

printf '%-40s %-5s %8s %7s %8s %5s %6s\n' variant conns req/s p50_ms p99_ms err "x hello-keep"
variant "default: keep-alive 128, 4 threads"      4 auto on  128 unix
variant "a connection per request"                4 auto off 128 unix
variant "keep-alive, 2 threads"                   2 auto on  128 unix
variant "keep-alive, 8 threads"                   8 auto on  128 unix
variant "keep-alive, nginx worker_processes 1"    4 1    on  128 unix
variant "keep-alive 16"                           4 auto on  16  unix
variant "keep-alive, TCP loopback"                4 auto on  128 tcp
