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
export BENCH_LUA_DIR="$root/tests/bench" BENCH_N=10000
worker="$root/build/release/cgi/clientes-worker"
[ -x "$worker" ] || { echo "build/release missing: run bin/bench first" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
load() { # load PORT CONNS SCRIPT -> "rps p50 p99 errors"
  wrk -t1 -c"$2" -d"${secs}s" --timeout 5s -s "tests/bench/$3" "http://127.0.0.1:$1/" |
    sed -nE 's/^RESULT rps=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+) errors=([0-9]+).*/\1 \2 \3 \4/p'
}

# The reference: nginx `return 200` with the example's body, access log off.
ref_dir="$(mktemp -d)"; chmod 755 "$ref_dir"; ref_port="$(free_port)"
cat >"$ref_dir/nginx.conf" <<CONF
daemon off; worker_processes auto; pid $ref_dir/nginx.pid; error_log stderr;
$( [ "$(id -u)" -eq 0 ] && echo "user nobody nogroup;" )
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $ref_dir/cb; fastcgi_temp_path $ref_dir/fc;
  proxy_temp_path $ref_dir/px; uwsgi_temp_path $ref_dir/uw; scgi_temp_path $ref_dir/sc;
  server { listen 127.0.0.1:$ref_port; default_type application/json;
    location / { return 200 '{"ejemplo@gmail.com":{"nombre":"Jesus","apellidos":"Mesa Gonzalez","mail":"ejemplo@gmail.com","fecha_nacimiento":"29/06/1996","direccion":"Calle Paseo Moreras 39"}}'; } } }
CONF
nginx -e stderr -p "$ref_dir" -c "$ref_dir/nginx.conf" 2>/dev/null & ref_pid=$!
trap 'kill -QUIT $ref_pid 2>/dev/null; rm -rf "$ref_dir"' EXIT
until curl -fs -o /dev/null "http://127.0.0.1:$ref_port/"; do sleep 0.05; done

# variant NAME THREADS NGINX_WORKERS LOG(stdout|buffered) KEEPALIVE(0|N) LISTEN(unix|tcp)
variant() {
  local name=$1 threads=$2 wp=$3 log=$4 ka=$5 listen=$6 d port pid
  d="$(mktemp -d)"; chmod 755 "$d"
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
  [ "$listen" = tcp ] && fl="127.0.0.1:$(free_port)"
  port="$(free_port)"
  PORT=$port WORKER_THREADS=$threads NGINX_WORKER_PROCESSES=$wp FCGI_LISTEN=$fl TMPDIR="$d" \
    DATABASE_URL="sqlite://$d/db.db" NGINX_CONF="$d/t.tmpl" CLIENTES_WORKER="$worker" \
    bin/start-web >"$d/log" 2>&1 & pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$port/health"; do sleep 0.05; done
  sqlite3 "$d/db.db" "PRAGMA busy_timeout=5000;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
    INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, direccion)
    SELECT 'c' || i || '@bench.es', 'Nombre' || i, 'Apellido', '1/1/1990', 'Calle ' || i FROM n;" >/dev/null
  for c in 16 256; do
    # rounds next to the reference; the medians are printed, errors summed
    local r rs=() p50s=() p99s=() ratios=() errs=0 ref_rps rps p50 p99 err
    for (( r = 0; r < rounds; r++ )); do
      read -r ref_rps _ _ _ < <(load "$ref_port" "$c" ref.lua)
      read -r rps p50 p99 err < <(load "$port" "$c" read.lua)
      rs+=("$rps") p50s+=("$p50") p99s+=("$p99") errs=$(( errs + err ))
      ratios+=("$(awk -v a="$rps" -v b="$ref_rps" 'BEGIN {print a / b}')")
    done
    printf '%-34s c%-4s %8.0f %7.3f %8.3f %5s %6.3f\n' "$name" "$c" \
      "$(median "${rs[@]}")" "$(median "${p50s[@]}")" "$(median "${p99s[@]}")" "$errs" \
      "$(median "${ratios[@]}")"
  done
  kill -TERM "$pid"; wait "$pid" || true
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
