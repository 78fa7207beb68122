#!/usr/bin/env bash
# variants.sh - the measurements behind the defaults (docs/PERFORMANCE.md):
# the same read load (GET /cliente on random clients of 10 000) against the
# stack under different concurrency models, each next to the reference nginx
# measured in the same run.  Run after bin/bench has built build/release:
#   tests/bench/variants.sh [seconds] [rounds]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
secs="${1:-5}"
rounds="${2:-3}"
export BENCH_N=10000
worker="$root/build/release/cgi/clientes-worker"
[ -x "$worker" ] || { echo "build/release missing: run bin/bench first" >&2; exit 1; }

. "$root/tests/bench/lib.sh"

# The reference: nginx `return 200` with the example's body, access log off.
ref_dir="$(bench_workdir variants-ref)"; ref_port="$(bench_free_port)"; ref_pid="" stack_pid=""
trap 'bench_stop; rm -rf "$ref_dir"' EXIT
bench_ref_nginx "$ref_dir" "$ref_port" '{"ejemplo@gmail.com":{"nombre":"Jesus","apellidos":"Mesa Gonzalez","mail":"ejemplo@gmail.com","fecha_nacimiento":"29/06/1996","direccion":"Calle Paseo Moreras 39"}}' auto

# variant NAME THREADS NGINX_WORKERS LOG(stdout|buffered) KEEPALIVE(0|N) LISTEN(unix|tcp)
variant() {
  local name=$1 threads=$2 wp=$3 log=$4 ka=$5 listen=$6 d port
  d="$(bench_workdir variant)"
  cp conf/*.conf conf/fastcgi_params "$d/"
  sed "s|\${CONF_DIR}|$d|g" conf/nginx.conf.template >"$d/t.tmpl"
  [ "$log" = buffered ] &&
    sed -i 's|access_log /dev/stdout clientes;|access_log /dev/stdout clientes buffer=64k flush=1s;|' "$d/http.conf"
  if [ "$ka" != 0 ]; then
    sed -i 's|fastcgi_keep_conn off;|fastcgi_keep_conn on;|' "$d/fastcgi.conf"
    sed -i -e "s|fastcgi_pass \${FCGI_PASS};|fastcgi_pass clientes_worker;|" \
      -e "s|^    server {|    upstream clientes_worker { server \${FCGI_PASS}; keepalive $ka; }\n    server {|" "$d/t.tmpl"
  fi
  local fl=""
  [ "$listen" = tcp ] && fl="127.0.0.1:$(bench_free_port)"
  port="$(bench_free_port)"
  PORT=$port WORKER_THREADS=$threads NGINX_WORKER_PROCESSES=$wp FCGI_LISTEN=$fl \
    TMPDIR="$d" DATABASE_URL="sqlite://$d/db.db" NGINX_CONF="$d/t.tmpl" CLIENTES_WORKER="$worker" \
    bench_start_stack "$d/log"
  bench_seed "$d/db.db" 1 10000 bench.es
  for c in 16 256; do
    # rounds next to the reference; the medians are printed, errors summed
    local r rs=() p50s=() p99s=() ratios=() errs=0 ref_rps rps p50 p99 err
    for (( r = 0; r < rounds; r++ )); do
      read -r ref_rps _ _ _ < <(bench_load "$ref_port" "$c" ref.lua "$secs")
      read -r rps p50 p99 err < <(bench_load "$port" "$c" read.lua "$secs")
      rs+=("$rps") p50s+=("$p50") p99s+=("$p99") errs=$(( errs + err ))
      ratios+=("$(awk -v a="$rps" -v b="$ref_rps" 'BEGIN {print a / b}')")
    done
    printf '%-34s c%-4s %8.0f %7.3f %8.3f %5s %6.3f\n' "$name" "$c" \
      "$(bench_median "${rs[@]}")" "$(bench_median "${p50s[@]}")" \
      "$(bench_median "${p99s[@]}")" "$errs" "$(bench_median "${ratios[@]}")"
  done
  kill -TERM "$stack_pid"; wait "$stack_pid" || true
  stack_pid=""
  rm -rf "$d"
}

printf '%-34s %-5s %8s %7s %8s %5s %6s\n' variant conns req/s p50_ms p99_ms err ratio
variant "threads=4 nginx=auto log=stdout"     4 auto stdout   0 unix
variant "threads=4 nginx=auto log=buffered"   4 auto buffered 0 unix
variant "threads=2 nginx=auto log=buffered"   2 auto buffered 0 unix
variant "threads=8 nginx=auto log=buffered"   8 auto buffered 0 unix
variant "threads=4 nginx=1 log=buffered"      4 1    buffered 0 unix
variant "threads=4 nginx=auto buffered tcp"   4 auto buffered 0 tcp
variant "keepalive 8, threads=32"             32 auto buffered 8 unix
variant "keepalive 8, threads=300"            300 auto buffered 8 unix
