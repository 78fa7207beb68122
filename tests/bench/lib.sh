# lib.sh - what bin/bench, bin/soak and tests/bench/variants.sh share; sourced,
# not run.  Expects $root (the source tree) and `set -euo pipefail`.
#
#   bench_build_release TOOL...   install-deps, check tools, build build/release
#   bench_workdir NAME            a fresh dir under TMPDIR, others may enter it
#   bench_free_port               a TCP port nobody listens on
#   bench_median [N...]           the median of its arguments (or stdin lines)
#   bench_load PORT CONNS SCRIPT SECS
#                                 one wrk run of tests/bench/SCRIPT; prints
#                                 "rps p50 p99 errors", then "ACKED n" if any
#   bench_seed DB FROM TO DOMAIN  clients cFROM..cTO@DOMAIN into a SQLite store
#   bench_ref_nginx DIR PORT BODY WORKERS
#                                 the reference: nginx `return 200 BODY`;
#                                 sets ref_pid once it answers
#   bench_start_stack LOG         bin/start-web with the caller's environment
#                                 (PORT, DATABASE_URL, ...); sets stack_pid once
#                                 /health answers, exits with LOG if it dies
#   bench_find_worker PID BIN     the worker: the process running BIN among
#                                 PID's descendants (not any process running it:
#                                 another stack may be up on this machine)
#   bench_stop                    TERM to the stack, QUIT to the reference nginx
# shellcheck shell=bash disable=SC2154  # $root: set by the script that sources this

bench_build_release() {
  local tool
  "$root/bin/install-deps"
  "$root/bin/install-deps" "$root/tests/Aptfile"
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$(basename "$0"): $tool missing (see tests/Aptfile)" >&2; exit 1; }
  done
  echo "== building build/release"
  cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$root/build/release" -j "$(nproc)" >/dev/null
}

bench_workdir() {
  local d
  d="$(mktemp -d "${TMPDIR:-/tmp}/clientes-$1.XXXXXX")"
  chmod 0755 "$d"   # nginx's workers and the worker run as nobody under root
  echo "$d"
}

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bench_median() {
  if (( $# )); then printf '%s\n' "$@"; else cat; fi |
    sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

bench_load() {
  BENCH_LUA_DIR="$root/tests/bench" \
    wrk -t1 -c"$2" -d"${4}s" --timeout 5s -s "$root/tests/bench/$3" "http://127.0.0.1:$1/" |
    sed -nE 's/^RESULT rps=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+) errors=([0-9]+).*/\1 \2 \3 \4/p; s/^ACKED ([0-9]+)/ACKED \1/p'
}

bench_seed() {
  sqlite3 "$1" "PRAGMA busy_timeout=5000;
    WITH RECURSIVE n(i) AS (SELECT $2 UNION ALL SELECT i + 1 FROM n WHERE i < $3)
    INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, direccion)
    SELECT 'c' || i || '@$4', 'Nombre' || i, 'Apellido Apellido', '1/1/1990',
           'Calle Mayor ' || i FROM n;" >/dev/null
}

bench_ref_nginx() {
  local dir=$1 port=$2 body=$3 workers=${4:-auto}
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes $workers;
pid $dir/nginx.pid;
error_log stderr;
$( [ "$(id -u)" -eq 0 ] && echo "user nobody nogroup;" )
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/cb; proxy_temp_path $dir/px; fastcgi_temp_path $dir/fc;
  uwsgi_temp_path $dir/uw; scgi_temp_path $dir/sc;
  server {
    listen 127.0.0.1:$port;
    default_type application/json;
    location / { return 200 '$body'; }
  }
}
CONF
  nginx -e stderr -p "$dir" -c "$dir/nginx.conf" 2>"$dir/error.log" &
  ref_pid=$!
  bench_wait_http "http://127.0.0.1:$port/" "$ref_pid" "$dir/error.log"
}

bench_start_stack() {
  "$root/bin/start-web" >"$1" 2>&1 &
  stack_pid=$!
  bench_wait_http "http://127.0.0.1:$PORT/health" "$stack_pid" "$1"
}

# bench_wait_http URL PID LOG: until URL answers 2xx; exits with LOG if PID dies.
bench_wait_http() {
  until curl -fs -o /dev/null "$1"; do
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.005
  done
}

bench_find_worker() {
  local todo=("$1") p c want
  want="$(readlink -f "$2")"
  while ((${#todo[@]})); do
    p=${todo[0]}; todo=("${todo[@]:1}")
    for c in $(ps -o pid= --ppid "$p"); do
      if [ "$(readlink "/proc/$c/exe" 2>/dev/null)" = "$want" ]; then echo "$c"; return 0; fi
      todo+=("$c")
    done
  done
  return 1
}

bench_stop() {
  if [ -n "${stack_pid:-}" ]; then kill -TERM "$stack_pid" 2>/dev/null && wait "$stack_pid" 2>/dev/null || true; fi
  if [ -n "${ref_pid:-}" ]; then kill -QUIT "$ref_pid" 2>/dev/null && wait "$ref_pid" 2>/dev/null || true; fi
  stack_pid="" ref_pid=""
}
