# lib.sh - what bin/bench, bin/soak and tests/bench/variants.sh share; sourced,
# not run.  Expects $root (the source tree) and `set -euo pipefail`.
#
# Building and tools
#   bench_build_release TOOL...   install-deps, check tools, build build/release
#                                 (-O2: the programs and bench_hello, no tests)
#   bench_node_tools              tests/node/node_modules as its lock pins them
#                                 (json-server), installed as bin/test does
# Processes: every one started here is remembered and stopped by bench_stop_all
# (newest first), which the caller's EXIT trap runs.
#   bench_track PID SIGNAL        remember PID, to be stopped with SIGNAL
#   bench_stop_all                stop them all and wait for them
#   bench_stop_one PID            stop one of them now
# Stores
#   bench_pg_start DIR NAME...    a throwaway PostgreSQL cluster (durable when
#                                 BENCH_PG_DURABLE=1) with one database per
#                                 NAME; sets pg_urls (their URLs, in order)
#   bench_seed URL FROM TO [--merge]
#                                 clients FROM..TO (tests/bench/clients.py)
#                                 into the store of URL through clientes-admin
#                                 import: the library writes them, so derived
#                                 columns, versions and the total are right
#   bench_admin URL ARGS...       bin/clientes-admin ARGS on the store of URL
# Stacks and load
#   bench_start_stack LOG         bin/start-web with the caller's environment
#                                 (PORT, DATABASE_URL, ...); sets stack_pid once
#                                 /health/ready answers 200, exits with LOG if
#                                 it dies
#   bench_find_worker PID BIN     the worker: the process running BIN among
#                                 PID's descendants (not any process running
#                                 it: another stack may be up on this machine)
#   bench_status PID FIELD        a field of /proc/PID/status in kB (VmRSS, VmHWM)
#   bench_drain PORT              until the stack at PORT has no request left
#                                 (METRICS_ACCESS=loopback): wrk stops with
#                                 requests in flight, which the worker still
#                                 serves; prints the milliseconds it took
#   bench_session PORT USER PASSWORD
#                                 a browser session's cookie (POST /v1/session)
#   bench_refs DIR WORKERS PROCS BODYFILE
#                                 the references, behind one nginx: sets
#                                 ref_port[nginx|hello_close|hello_keep|json]
#   bench_load PORT CONNS SCRIPT SECS
#                                 one wrk run of tests/bench/SCRIPT; prints
#                                 "rps p50 p99 errors", then "ACKED n" if any
# Small things
#   bench_workdir NAME            a fresh dir under TMPDIR, others may enter it
#   bench_free_port               a TCP port nobody listens on
#   bench_median [N...]           the median of its arguments (or stdin lines)
#   bench_now_ms                  milliseconds since the epoch
# shellcheck shell=bash disable=SC2154,SC2034  # $root: the caller's; pg_urls, stack_pid, ...: for it

bench_build_release() {
  local tool
  "$root/bin/install-deps"
  "$root/bin/install-deps" "$root/tests/Aptfile"
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$(basename "$0"): $tool missing (see tests/Aptfile)" >&2; exit 1; }
  done
  echo "== building build/release"
  # BUILD_TESTING for tests/bench's bench_hello; only the programs are built
  cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON \
    -DCLIENTES_VALGRIND=OFF >/dev/null
  cmake --build "$root/build/release" -j "$(nproc)" \
    --target clientes-worker clientes-web clientes-admin bench_hello >/dev/null
}

bench_node_tools() {
  local d="$root/tests/node"
  if [ ! -f "$d/node_modules/.package-lock.json" ] ||
     [ "$d/package-lock.json" -nt "$d/node_modules/.package-lock.json" ]; then
    echo "== tests/node: npm ci"
    (cd "$d" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
  fi
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

bench_now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- processes

bench_tracked=()
bench_track() { bench_tracked+=("$1:$2"); }

bench_stop_all() {
  local i pid sig
  for (( i = ${#bench_tracked[@]} - 1; i >= 0; i-- )); do
    pid=${bench_tracked[i]%%:*} sig=${bench_tracked[i]#*:}
    if kill "-$sig" "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
  done
  bench_tracked=()
}

bench_stop_one() {
  local i rest=() pid sig
  for i in "${bench_tracked[@]}"; do
    pid=${i%%:*} sig=${i#*:}
    if [ "$pid" = "$1" ]; then
      if kill "-$sig" "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
    else
      rest+=("$i")
    fi
  done
  bench_tracked=("${rest[@]}")
}

# bench_wait_http URL PID LOG: until URL answers 2xx; exits with LOG if PID dies.
bench_wait_http() {
  until curl -fs -o /dev/null "$1"; do
    kill -0 "$2" 2>/dev/null || { echo "$(basename "$0"): $1: the process died:" >&2; cat "$3" >&2; exit 1; }
    sleep 0.005
  done
}

# ---------------------------------------------------------------- stores

pg_urls=()
bench_pg_start() {
  local dir=$1 pid; shift
  local durable=()
  [ "${BENCH_PG_DURABLE:-1}" = 1 ] && durable=(--durable)
  python3 "$root/tests/bench/pgserve.py" "${durable[@]}" "$dir/pg-urls" "$@" \
    >"$dir/pg.log" 2>&1 &
  pid=$!
  bench_track "$pid" TERM
  until [ -s "$dir/pg-urls" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "$(basename "$0"): PostgreSQL did not start:" >&2; cat "$dir/pg.log" >&2; exit 1; }
    sleep 0.1
  done
  mapfile -t pg_urls <"$dir/pg-urls"
}

bench_admin() {
  local url=$1; shift
  DATABASE_URL="$url" CLIENTES_WORKER="$root/build/release/cgi/clientes-worker" \
    "$root/bin/clientes-admin" "$@"
}

bench_seed() {
  local url=$1 from=$2 to=$3 file
  shift 3
  file="$(mktemp "${TMPDIR:-/tmp}/clientes-seed.XXXXXX")"
  python3 "$root/tests/bench/clients.py" "$from" "$to" >"$file"
  bench_admin "$url" import "$file" "$@" >/dev/null
  rm -f "$file"
}

# ---------------------------------------------------------------- stacks

bench_start_stack() {
  # the access log (stdout) is not kept: a line per request for minutes
  "$root/bin/start-web" >/dev/null 2>"$1" &
  stack_pid=$!
  bench_track "$stack_pid" TERM
  bench_wait_http "http://127.0.0.1:$PORT/health/ready" "$stack_pid" "$1"
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

bench_drain() {
  local t0 n
  t0="$(bench_now_ms)"
  while :; do
    n="$(curl -fsS --max-time 300 "http://127.0.0.1:$1/metrics" | awk '$1 == "clientes_requests_in_flight" {print $2}')"
    (( ${n:-0} <= 1 )) && break  # the request asking
    sleep 0.05
  done
  echo $(( $(bench_now_ms) - t0 ))
}

bench_status() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

bench_session() {
  curl -fs -o /dev/null -D - -H 'Content-Type: application/json' \
    --data "{\"username\":\"$2\",\"password\":\"$3\"}" "http://127.0.0.1:$1/v1/session" |
    sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-session=[^;]*\).*/\1/p'
}

# ---------------------------------------------------------------- references

# One nginx with the connection settings of conf/http.conf and the stack's
# worker_processes, access log off, four servers:
#   nginx        `return 200` of BODYFILE's bytes
#   hello_close  tests/bench/hello.c over its unix socket, a connection per
#                request (fastcgi_keep_conn off, no upstream keepalive)
#   hello_keep   the same application over kept-alive connections, as the
#                stack talks to its worker (conf/fastcgi.conf: keep_conn on;
#                upstream keepalive 128); PROCS processes, so none is pinned
#   json         json-server (tests/node, pinned by its lock) serving the
#                record at /clientes/1, proxied over kept-alive connections
# The FastCGI servers include the project's conf/fastcgi_params and
# conf/fastcgi.conf: the parameters nginx builds and sends are the stack's.
declare -A ref_port=()
bench_refs() {
  local dir=$1 workers=$2 procs=$3 bodyfile=$4 name pid body json_port
  mkdir -p "$dir"
  for name in nginx hello_close hello_keep json; do ref_port[$name]="$(bench_free_port)"; done
  json_port="$(bench_free_port)"
  body="$(cat "$bodyfile")"
  case "$body" in *\'*|*\$*|*\\*) echo "bench_refs: the body needs quoting" >&2; exit 1 ;; esac

  "$root/build/release/tests/bench/bench_hello" "$dir/hello.sock" "$procs" "$bodyfile" \
    2>"$dir/hello.log" &
  pid=$!
  bench_track "$pid" TERM
  until [ -S "$dir/hello.sock" ]; do kill -0 "$pid" || { cat "$dir/hello.log" >&2; exit 1; }; sleep 0.01; done

  python3 - "$bodyfile" "$dir/db.json" <<'PY'
import json, sys
record = json.load(open(sys.argv[1], encoding="utf-8"))
record = dict(record, id=1) if "mail" in record else dict(next(iter(record.values())), id=1)
json.dump({"clientes": [record]}, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
  (cd "$dir" && exec node "$root/tests/node/node_modules/json-server/lib/cli/bin.js" \
    --host 127.0.0.1 --port "$json_port" --quiet db.json >"$dir/json.log" 2>&1) &
  pid=$!
  bench_track "$pid" TERM

  sed 's/^fastcgi_keep_conn on;/fastcgi_keep_conn off;/' "$root/conf/fastcgi.conf" >"$dir/fastcgi-close.conf"
  cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes $workers;
pid $dir/nginx.pid;
error_log stderr;
$( [ "$(id -u)" -eq 0 ] && echo "user nobody nogroup;" )
worker_rlimit_nofile 8192;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $dir/cb; proxy_temp_path $dir/px; fastcgi_temp_path $dir/fc;
  uwsgi_temp_path $dir/uw; scgi_temp_path $dir/sc;
  sendfile off; tcp_nodelay on; keepalive_timeout 60s; keepalive_requests 1000;
  # conf/fastcgi_params sends \$req_id (conf/http.conf's map)
  map \$http_x_request_id \$req_id {
    "~^[A-Za-z0-9._:@+=/-]{1,200}\$" \$http_x_request_id;
    default \$request_id;
  }
  upstream hello_keep { server unix:$dir/hello.sock; keepalive 128; }
  # json-server (node) closes an idle connection after 5 s: nginx first
  upstream json { server 127.0.0.1:$json_port; keepalive 128; keepalive_timeout 4s; }
  server {
    listen 127.0.0.1:${ref_port[nginx]};
    location / { return 200 '$body'; }
  }
  server {
    listen 127.0.0.1:${ref_port[hello_close]};
    location / {
      fastcgi_pass unix:$dir/hello.sock;
      include "$root/conf/fastcgi_params";
      include "$dir/fastcgi-close.conf";
    }
  }
  server {
    listen 127.0.0.1:${ref_port[hello_keep]};
    location / {
      fastcgi_pass hello_keep;
      include "$root/conf/fastcgi_params";
      include "$root/conf/fastcgi.conf";
    }
  }
  server {
    listen 127.0.0.1:${ref_port[json]};
    location / {
      proxy_pass http://json;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
  nginx -e stderr -p "$dir" -c "$dir/nginx.conf" 2>"$dir/error.log" &
  pid=$!
  bench_track "$pid" QUIT
  bench_wait_http "http://127.0.0.1:${ref_port[nginx]}/" "$pid" "$dir/error.log"
  bench_wait_http "http://127.0.0.1:${ref_port[hello_keep]}/" "$pid" "$dir/error.log"
  bench_wait_http "http://127.0.0.1:${ref_port[hello_close]}/" "$pid" "$dir/error.log"
  bench_wait_http "http://127.0.0.1:$json_port/clientes/1" "$pid" "$dir/json.log"
}

# ---------------------------------------------------------------- load

bench_load() {
  local out
  out="$(BENCH_LUA_DIR="$root/tests/bench" \
    wrk -t1 -c"$2" -d"${4}s" --timeout 5s -s "$root/tests/bench/$3" "http://127.0.0.1:$1/" 2>&1)" || true
  if ! grep -q '^RESULT ' <<<"$out"; then
    echo "$(basename "$0"): wrk $3 at :$1 failed:" >&2
    echo "$out" >&2
    return 1
  fi
  sed -nE 's/^RESULT rps=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+) errors=([0-9]+).*/\1 \2 \3 \4/p; s/^ACKED ([0-9]+)/ACKED \1/p' <<<"$out"
}
