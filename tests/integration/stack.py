"""stack.py - starts the real stack (bin/start-web, which runs clientes-web:
nginx + the worker) for the integration tests and talks HTTP to it, standard
library only.

Environment (set by tests/integration/CMakeLists.txt, defaults for a manual
run from the source tree):
  CLIENTES_ROOT    the source tree (bin/start-web, conf/)
  CLIENTES_WORKER  the worker binary under test (a sanitizer build tests its own)
  CLIENTES_TEST_STORE  "pg": every stack gets a new PostgreSQL database in
                   the cluster bin/test starts (CLIENTES_PG_ADMIN_URL) instead
                   of a SQLite file; the *_pg twins of the suites set it
  CLIENTES_ADMIN   clientes-admin (default: next to the worker)
  IT_LEGACY_AUTH   "open": stacks run with LEGACY_AUTH=open and send no
                   credentials (the old service's contract, exactly); by
                   default a stack runs the real default (LEGACY_AUTH=token)
                   with an editor token it made with clientes-admin before
                   starting, sent on every request
"""
import contextlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from ports import free_port  # noqa: E402  (re-exported: the suites use stack.free_port)
import pgcluster  # noqa: E402

# The backend of every stack (and of the helpers that read the store
# directly): "sqlite" (the default) or "pg".
STORE = os.environ.get("CLIENTES_TEST_STORE") or "sqlite"
if STORE not in ("sqlite", "pg"):
    raise AssertionError("CLIENTES_TEST_STORE must be sqlite or pg, not %r" % STORE)
PG = STORE == "pg"
# The PostgreSQL databases of this process's stacks (waiting_for_lock()).
_PG_DATABASES = set()


def sqlite_only(why):
    """For a test about SQLite's file itself (removed, replaced, its locks,
    its disk): not run against PostgreSQL, which has no such file; the
    reason is printed with the run's summary."""
    return unittest.skipIf(PG, "SQLite's file only: " + why)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.environ.get("CLIENTES_ROOT") or os.path.join(HERE, "..", ".."))
WORKER = os.path.abspath(
    os.environ.get("CLIENTES_WORKER")
    or os.path.join(ROOT, "build", "default", "cgi", "clientes-worker"))
ADMIN = os.path.abspath(
    os.environ.get("CLIENTES_ADMIN") or os.path.join(os.path.dirname(WORKER), "clientes-admin"))
START_WEB = os.path.join(ROOT, "bin", "start-web")
# "open": every stack of the run serves the legacy routes without credentials.
LEGACY_OPEN = os.environ.get("IT_LEGACY_AUTH") == "open"
NGINX_CONF = os.path.join(ROOT, "conf", "nginx.conf.template")

READY_TIMEOUT = 30.0   # first 200 on GET / (a sanitizer build starts slower)
STOP_TIMEOUT = 10.0    # docs/OPERATIONS.md: SIGTERM -> both exit 0 within 10 s
JSON_TYPE = "application/json; charset=utf-8"
# What clientes-web writes once both children serve, and when it has stopped.
LISTENING = b"clientes-web: info: listening on "
STOPPED = "clientes-web: info: stopped"
# Variables of the configuration table a developer's shell might have set:
# every run starts from the defaults plus what its test asks for.
CONFIG_VARS = ("FCGI_LISTEN", "DYNO", "ALLOW_EPHEMERAL_SQLITE", "NGINX", "NGINX_WORKER_PROCESSES",
               "NGINX_ERROR_LOG_LEVEL", "WORKER_MAX_REQUESTS", "TZ", "TRUSTED_PROXIES",
               "WORKER_RESTART_MAX", "WORKER_RESTART_WINDOW_S", "WORKER_WATCHDOG_S", "LOG_LEVEL",
               "CLIENTES_USER", "CLIENTES_API_TOKEN", "LEGACY_AUTH", "SESSION_IDLE_MINUTES",
               "SESSION_ABSOLUTE_HOURS", "LOGIN_CONCURRENCY", "LOGIN_MAX_FAILURES",
               "LOGIN_THROTTLE_S", "AUDIT_RETENTION_DAYS", "DATABASE_CONNECT_TIMEOUT_S",
               "DATABASE_STATEMENT_TIMEOUT_MS", "DATABASE_LOCK_TIMEOUT_MS", "DATABASE_OPEN_WAIT_S")
# Columns that record a credential's use (at most once a minute): a read may
# change them, so the before/after comparisons of unchanged() leave them out.
USE_COLUMNS = {("tokens", "last_used"), ("sessions", "last_seen")}

EXAMPLE_MAIL = "ejemplo@gmail.com"


def _pg_schema_version():
    """The PostgreSQL schema version this source tree writes (lib/store_pg.h)."""
    with open(os.path.join(ROOT, "lib", "store_pg.h"), encoding="utf-8") as f:
        return int(re.search(r"#define STORE_PG_SCHEMA_VERSION (\d+)", f.read()).group(1))


PG_SCHEMA_VERSION = _pg_schema_version()

EXAMPLE = {
    "nombre": "Jesus",
    "apellidos": "Mesa Gonzalez",
    "mail": EXAMPLE_MAIL,
    "fecha_nacimiento": "29/06/1996",
    "direccion": "Calle Paseo Moreras 39",
}
# /clientes uses the old service's capitalised keys, /cliente the lower-case ones.
LEGACY_KEYS = {
    "nombre": "Nombre",
    "apellidos": "Apellidos",
    "mail": "Mail",
    "fecha_nacimiento": "Fecha de nacimiento",
    "direccion": "Direccion",
}
FIELDS = ("nombre", "apellidos", "mail", "fecha_nacimiento", "direccion")


def qs(*pairs, **params):
    """Query string, UTF-8 percent-encoded (spaces as %20).  Positional
    (name, value) pairs keep their order and may repeat; values given as
    bytes or already-encoded str via raw_qs are not touched here."""
    items = list(pairs) + list(params.items())
    return urllib.parse.urlencode(items, quote_via=urllib.parse.quote, safe="")


def kill_run(proc, pids):
    """SIGKILL to what is left of a run: the process group the test started
    it in, and `pids` (its children, which live in sessions of their own),
    then reaps proc.  The one kill path of the integration tests."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def legacy(record):
    """A record as /clientes shows it."""
    return {LEGACY_KEYS[k]: v for k, v in record.items()}


def _others_can_enter(path):
    """Every directory from / down to path is searchable by others."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


class Connection(http.client.HTTPConnection):
    """An HTTP connection that sends `default_headers` (the stack's
    credentials) with every request, unless the request names the header
    itself; a header given as None is not sent at all."""

    def __init__(self, *args, default_headers=None, **kw):
        super().__init__(*args, **kw)
        self.default_headers = dict(default_headers or {})

    def request(self, method, url, body=None, headers=None, **kw):
        given = dict(headers or {})
        named = {k.lower() for k in given}
        merged = {k: v for k, v in self.default_headers.items() if k.lower() not in named}
        merged.update({k: v for k, v in given.items() if v is not None})
        return super().request(method, url, body=body, headers=merged, **kw)


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body        # bytes

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        body = self.body if len(self.body) <= 600 else self.body[:600] + b"..."
        return "<HTTP %s %s headers=%r body=%r>" % (self.status, self.reason, self.headers, body)


class RawResult:
    """What a raw socket exchange produced: a parsed response, or none
    (connection closed/reset without an answer)."""

    def __init__(self, data, error=None):
        self.data = data
        self.error = error
        self.response = parse_raw_response(data) if data else None

    def __repr__(self):
        return "<raw error=%r response=%r data=%r>" % (self.error, self.response, self.data[:300])


def parse_raw_response(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return Response(None, "unparsable", [], data)
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return Response(None, "unparsable", [], data)
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers.append((k.strip().decode("latin-1"), v.strip().decode("latin-1")))
    reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
    return Response(status, reason, headers, body)


class Stack:
    """One run of bin/start-web on a free port with a database in a temp dir.

    db_path: reuse an existing database file (restart tests); default a new
    file in this stack's own temp dir.  Against PostgreSQL (PG) it is the
    database's URL instead, a new database by default (backend: "sqlite" or
    "pg" for this stack, whatever the run's).  busy_timeout:
    appended to DATABASE_URL as ?busy_timeout=N (PostgreSQL:
    DATABASE_LOCK_TIMEOUT_MS=N).  run_as: (uid, gid) to run bin/start-web
    as, through setpriv (the test runs as root); the run dir and the log file
    are given to that user.  run_dir_name: the name of the directory given as
    TMPDIR, where clientes-web makes its runtime dir.  credentials: the role
    of the token made (clientes-admin, before the first start) and sent with
    every request; None for none (a client without credentials).  By
    default "editor", or None when IT_LEGACY_AUTH=open, which also sets
    LEGACY_AUTH=open (unless env says otherwise).  token: send this token
    instead (one made for the same store by another stack)."""

    def __init__(self, db_path=None, busy_timeout=None, threads=4, env=None, name="stack",
                 run_as=None, run_dir_name="run", credentials="default", token=None,
                 backend=None):
        # short: clientes-web makes its runtime dir (with the worker's unix
        # socket, at most 108 bytes of path) under this one, via TMPDIR
        self.dir = tempfile.mkdtemp(prefix="clientes-it-%s-" % name[:16])
        os.chmod(self.dir, 0o755)  # nginx's workers run as nobody
        self.run_dir = os.path.join(self.dir, run_dir_name)
        os.mkdir(self.run_dir)
        os.chmod(self.run_dir, 0o755)
        # backend: "sqlite" or "pg" for this stack whatever the run's (STORE)
        self.pg = PG if backend is None else backend == "pg"
        if db_path is None and self.pg:
            db_path = pgcluster.new_database(name)
        if self.pg:
            _PG_DATABASES.add(pgcluster.database_of(db_path))
        if db_path is None:
            data = os.path.join(self.dir, "data")
            os.mkdir(data)
            os.chmod(data, 0o755)
            db_path = os.path.join(data, "clientes.db")
        self.db_path = db_path
        self.busy_timeout = busy_timeout
        self.threads = threads
        self.extra_env = dict(env or {})
        if LEGACY_OPEN:
            self.extra_env.setdefault("LEGACY_AUTH", "open")
        if credentials == "default":
            credentials = None if LEGACY_OPEN else "editor"
        self.credentials = credentials
        self.token = token  # else made at the first start when credentials is a role
        self.proc = None
        self.port = None
        self.log_path = None
        self.logs = []
        self.runs = 0
        self.failed = False
        self.children = {}
        self._local = threading.local()
        self.run_as = run_as

    # -- lifecycle ---------------------------------------------------------

    def database_url(self):
        if self.pg:
            return self.db_path
        url = "sqlite://" + self.db_path
        if self.busy_timeout is not None:
            url += "?busy_timeout=%d" % self.busy_timeout
        return url

    def env(self, test_env=True):
        """The environment of this stack's programs: the defaults, plus what
        the test asked for (test_env=False: the defaults alone)."""
        env = dict(os.environ)
        env.update({
            "PORT": str(self.port or 8080),
            "DATABASE_URL": self.database_url(),
            "WORKER_THREADS": str(self.threads),
            "CLIENTES_WORKER": WORKER,
            "NGINX_CONF": NGINX_CONF,
            "TMPDIR": self.run_dir,
        })
        for k in CONFIG_VARS:
            env.pop(k, None)
        if self.pg and self.busy_timeout is not None:
            # a statement waiting for a lock counts towards statement_timeout
            env["DATABASE_LOCK_TIMEOUT_MS"] = str(max(self.busy_timeout, 10))
            env["DATABASE_STATEMENT_TIMEOUT_MS"] = str(min(max(5000, self.busy_timeout + 5000),
                                                           600000))
        if test_env:
            env.update(self.extra_env)
        if self.pg:
            # A sanitizer build's leak check at exit, with libpq loaded, now
            # and then never ends: measured, 2 exits in 60 stuck for good with
            # the main thread spinning while LeakSanitizer's tracer holds it
            # (0 in 30 without the check).  The PostgreSQL backend's own leaks
            # are valgrind's (memcheck_test_store_pg and the *_pg store
            # twins); the worker's, LeakSanitizer's on the SQLite stacks.
            # Other builds ignore the variable.
            opts = env.get("ASAN_OPTIONS", "")
            env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "detect_leaks=0"
        return env

    def admin(self, *args, input=None, check=True, timeout=60, test_env=True):
        """Runs clientes-admin over this stack's store (as run_as when set);
        returns the CompletedProcess (text).  check: fail the test on a
        non-zero exit.  test_env: with the test's own variables (env=)."""
        if not os.access(ADMIN, os.X_OK):
            raise AssertionError("clientes-admin %s is missing (build it first)" % ADMIN)
        cmd = [ADMIN] + list(args)
        if self.run_as is not None:
            uid, gid = self.run_as
            cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", "--"] + cmd
        r = subprocess.run(cmd, cwd=self.dir, env=self.env(test_env), input=input,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            self.fail("clientes-admin %s exited %d: %s" % (" ".join(args[:2]), r.returncode,
                                                            r.stderr.strip()))
        return r

    def make_token(self, role, label="stack", *more, test_env=True):
        """A new token (clientes-admin token create)."""
        return self.admin("token", "create", label, "--role", role, *more,
                          test_env=test_env).stdout.strip()

    def auth_headers(self):
        """The headers of this stack's credentials ({} without)."""
        return {"Authorization": "Bearer " + self.token} if self.token else {}

    def start(self):
        if not os.access(START_WEB, os.X_OK):
            raise AssertionError("%s is missing or not executable" % START_WEB)
        if not os.access(WORKER, os.X_OK):
            raise AssertionError("worker binary %s is missing (build it first)" % WORKER)
        assert self.proc is None, "stack already running"
        if self.credentials and self.token is None:
            # before the start: clientes-admin makes the store as the worker
            # would; with the defaults only, so that a setting the test made
            # wrong on purpose is the worker's to refuse
            self.token = self.make_token(self.credentials, test_env=False)
        self.runs += 1
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "start-web.%d.log" % self.runs)
        self.logs.append(self.log_path)
        env = self.env()
        cmd = [START_WEB]
        if self.run_as is not None:
            cmd = self._as_user(cmd, env)
        # Append mode: nginx reopens /dev/stdout with O_APPEND, and writers
        # sharing one offset with it would overwrite each other's lines.
        with open(self.log_path, "ab") as log:
            # Own session: the test can signal exactly this process, and clean
            # up whatever is left of its process group if something hangs.
            self.proc = subprocess.Popen(cmd, cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()
        self.remember_children()
        return self

    def remember_children(self):
        """clientes-web puts each child in its own session: remember them (a
        restarted worker too) so that nothing of this run can outlive the
        test."""
        self.children.update({pid: exe for pid, (_, exe) in self.descendants().items()
                              if exe == os.path.realpath(WORKER)
                              or os.path.basename(exe).startswith("nginx")})

    def _as_user(self, cmd, env):
        """cmd wrapped to run as self.run_as, with what it needs handed over:
        its runtime dir goes under run_dir, and nginx reopens /dev/stdout (the
        log file) as that user; PATH without directories it cannot enter."""
        uid, gid = self.run_as
        os.chown(self.run_dir, uid, gid)
        with open(self.log_path, "ab"):
            pass
        os.chown(self.log_path, uid, gid)
        env["PATH"] = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep)
                                      if d and _others_can_enter(d))
        return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", "--"] + cmd

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.fail("bin/start-web exited with %s before answering" % rc)
            try:
                r = self.request("GET", "/", timeout=2)
                if r.status == 200:
                    return
                last = r
            except OSError as e:
                last = e
            time.sleep(0.05)
        self.fail("no 200 on GET / within %.0f s (last: %r)" % (timeout, last))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, expect_rc=0):
        """SIGTERM bin/start-web; asserts it exits with expect_rc (None: any
        non-zero) within STOP_TIMEOUT seconds."""
        proc = self.proc
        assert proc is not None, "stack not running"
        if proc.poll() is None:
            self.remember_children()
        t0 = time.monotonic()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill_group()
            self.proc = None
            self.fail("bin/start-web did not exit within %.0f s of SIGTERM" % STOP_TIMEOUT)
        took = time.monotonic() - t0
        left = []
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            left = self.survivors()
            if not left:
                break
            time.sleep(0.05)
        self.kill_group()  # cleans up whatever was left
        self.proc = None
        if left:
            self.fail("processes of bin/start-web outlived it: %r"
                      % {p: self.children[p] for p in left})
        if expect_rc is None:
            if rc == 0:
                self.fail("bin/start-web exited 0; a non-zero exit was expected")
        elif rc != expect_rc:
            self.fail("bin/start-web exited %s after SIGTERM (expected %s, %.1f s)"
                      % (rc, expect_rc, took))
        return rc, took

    def wait_exit(self, timeout):
        """Waits for bin/start-web to exit by itself; returns its code or None."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def leftover_pids(self):
        """Processes still in start-web's process group (session)."""
        if self.proc is None:
            return []
        pgid = self.proc.pid
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if os.getpgid(int(d)) == pgid:
                    out.append(int(d))
            except OSError:
                pass
        return out

    def survivors(self):
        """Remembered children of bin/start-web that still run (not zombies)."""
        out = []
        for pid, exe in self.children.items():
            try:
                if os.readlink("/proc/%d/exe" % pid) != exe:
                    continue
                with open("/proc/%d/stat" % pid, "rb") as f:
                    stat = f.read()
                if stat[stat.rindex(b")") + 2:].split()[0] == b"Z":
                    continue
            except (OSError, ValueError):
                continue
            out.append(pid)
        return out

    def kill_group(self):
        """SIGKILL to what is left of this run: bin/start-web's own process
        group and the children it started (each by its pid)."""
        if self.proc is None:
            return
        kill_run(self.proc, self.survivors())

    def cleanup(self):
        """Kills anything left, removes the temp dir unless something failed."""
        if getattr(self, "_pg_session", None) is not None:
            self._pg_session.__exit__()
            self._pg_session = None
        if self.proc is not None:
            self.kill_group()
            self.proc = None
        if not self.failed:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            sys.stderr.write("integration: kept %s for inspection\n" % self.dir)

    def fail(self, msg):
        """Fails the test; the stack's output is printed by StackTestCase."""
        self.failed = True
        raise AssertionError(msg + " (bin/start-web output follows the test's result)")

    def log_text(self, max_lines=150, max_line=300):
        """The tail of bin/start-web's output (all runs), long lines cut."""
        parts = []
        for path in self.logs:
            try:
                with open(path, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
            except OSError:
                continue
            if len(lines) > max_lines:
                lines = ["...(%d lines cut)..." % (len(lines) - max_lines)] + lines[-max_lines:]
            lines = [ln if len(ln) <= max_line else ln[:max_line] + "...(%d chars)" % len(ln)
                     for ln in lines]
            parts.append("---- %s ----\n%s" % (path, "\n".join(lines)))
        return "\n".join(parts)

    def dump_log(self, why=""):
        self.failed = True
        sys.stderr.write("\n==== bin/start-web output%s ====\n%s\n==== end ====\n"
                         % (" (" + why + ")" if why else "", self.log_text()))

    # -- processes ---------------------------------------------------------

    def descendants(self):
        """pid -> (ppid, exe) of every process below bin/start-web."""
        table = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d, "rb") as f:
                    stat = f.read()
                ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
                try:
                    exe = os.readlink("/proc/%s/exe" % d)
                except OSError:
                    exe = ""
                table[int(d)] = (ppid, exe)
            except (OSError, ValueError):
                pass
        out, todo = {}, [self.proc.pid]
        while todo:
            p = todo.pop()
            for pid, (ppid, exe) in table.items():
                if ppid == p and pid not in out:
                    out[pid] = (ppid, exe)
                    todo.append(pid)
        return out

    def worker_pids(self):
        want = os.path.realpath(WORKER)
        return [pid for pid, (_, exe) in self.descendants().items()
                if exe.replace(" (deleted)", "") == want]

    def worker_socket_inodes(self):
        """Inodes (as strings) of every socket the worker's processes hold."""
        inodes = set()
        for pid in self.worker_pids():
            try:
                for fd in os.listdir("/proc/%d/fd" % pid):
                    try:
                        link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                    except OSError:
                        continue
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
            except OSError:
                pass
        return inodes

    def assert_nothing_left(self, what, seconds):
        """Fails unless every child of this run is gone within `seconds`."""
        deadline = time.monotonic() + seconds
        while self.survivors() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self.survivors()
        if left:
            self.fail("left running %s: %r" % (what, {p: self.children[p] for p in left}))

    def worker_socket_path(self):
        """The unix socket the worker listens on (from /proc), or None."""
        inodes = self.worker_socket_inodes()
        try:
            with open("/proc/net/unix") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if len(parts) >= 8 and parts[6] in inodes and parts[7].startswith("/"):
                        return parts[7]
        except OSError:
            pass
        return None

    def wait_supervising(self, timeout=10.0):
        """Waits (bounded) until clientes-web says it is listening, i.e. has
        finished its start-up and supervises its children.  Returns whether
        it said so."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.log_path, "rb") as f:
                    if LISTENING in f.read():
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def nginx_worker_pids(self):
        """nginx processes whose parent is nginx (its workers)."""
        desc = self.descendants()
        nginx = {pid for pid, (_, exe) in desc.items() if os.path.basename(exe).startswith("nginx")}
        return {pid for pid in nginx if desc[pid][0] in nginx}

    def reload_nginx(self, timeout=10.0):
        """SIGHUP to clientes-web, which reloads nginx; returns once only new
        nginx workers run (they start without the old ones' kept connections
        to the worker)."""
        old = self.nginx_worker_pids()
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.nginx_worker_pids()
            if now and not now & old:
                return
            time.sleep(0.02)
        self.fail("nginx did not reload within %.0f s" % timeout)

    def nginx_master_pids(self):
        """nginx processes whose parent is not nginx (the master)."""
        desc = self.descendants()
        nginx = {pid for pid, (_, exe) in desc.items() if os.path.basename(exe).startswith("nginx")}
        return [pid for pid in nginx if desc[pid][0] not in nginx]

    # -- HTTP --------------------------------------------------------------

    def connection(self, timeout=10, source=None, auth=True):
        """A new HTTP connection sending this stack's credentials with every
        request (auth=False: none); source: another loopback address to come
        from (127.0.0.2: "another client" for the per-client limits)."""
        return Connection("127.0.0.1", self.port, timeout=timeout,
                          source_address=(source, 0) if source else None,
                          default_headers=self.auth_headers() if auth else None)

    def request(self, method, path, body=None, headers=None, timeout=10, fresh=False, auth=True):
        """One HTTP request, with this stack's credentials (auth=False:
        without; a header of `headers` replaces them, None drops one).  By
        default over a keep-alive connection kept per thread (thousands of
        closed connections would leave as many TIME_WAIT sockets on the
        machine); fresh=True uses a new one.  A reused connection that the
        server had closed is replaced once: the request never reached the
        server then."""
        if not auth:
            headers = dict(headers or {})
            headers.setdefault("Authorization", None)
        if fresh:
            conn = self.connection(timeout)
            try:
                return send(conn, method, path, body, headers)
            finally:
                conn.close()
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and getattr(local, "port", None) != self.port:
            conn.close()
            conn = None
        reused = conn is not None and conn.sock is not None
        if conn is None:
            conn = local.conn = self.connection(timeout)
            local.port = self.port
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        try:
            return send(conn, method, path, body, headers)
        except (OSError, http.client.HTTPException):
            conn.close()
            local.conn = None
            if not reused:
                raise
        conn = local.conn = self.connection(timeout)
        try:
            return send(conn, method, path, body, headers)
        except (OSError, http.client.HTTPException):
            conn.close()
            local.conn = None
            raise

    def raw(self, data, timeout=5.0, chunks=None):
        """Sends bytes on a fresh TCP connection and reads what comes back
        until the server closes, a whole response (by Content-Length) has
        arrived, or timeout.  chunks: further bytes to send after data; a
        reader thread runs meanwhile, so an early answer (413 before the body)
        is caught even if the server then resets the connection."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        got = bytearray()
        state = {"error": None}
        done = threading.Event()

        def reader():
            deadline = time.monotonic() + timeout
            try:
                while time.monotonic() < deadline:
                    try:
                        b = s.recv(65536)
                    except socket.timeout as e:
                        state["error"] = e
                        return
                    except OSError as e:
                        state["error"] = e
                        return
                    if not b:
                        return
                    got.extend(b)
                    r = parse_raw_response(bytes(got))
                    if r.status is not None:
                        cl = r.header("Content-Length")
                        if cl is not None and cl.isdigit() and len(r.body) >= int(cl):
                            return
            finally:
                done.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        send_error = None
        try:
            s.sendall(data)
            for c in chunks or ():
                if done.is_set():
                    break
                s.sendall(c)
        except OSError as e:
            send_error = e
        t.join(timeout + 1)
        s.close()
        return RawResult(bytes(got), state["error"] or send_error)

    # -- the store, read directly ------------------------------------------

    def pg_query(self, sql):
        """The rows (lines) of sql on this stack's PostgreSQL database,
        through one psql session kept for the stack (a psql per query would
        cost more than the requests checked)."""
        for attempt in (1, 2):
            if getattr(self, "_pg_session", None) is None:
                self._pg_session = PgSession(self.db_path)
            try:
                return self._pg_session.query(sql)
            except AssertionError:
                self._pg_session.__exit__()
                self._pg_session = None  # the server restarted under it: once more
                if attempt == 2:
                    raise

    def db_snapshot(self, strict=False):
        """Every row of every table, for before/after comparisons; the
        columns that record a credential's use (USE_COLUMNS) read as None
        unless strict (a refused request must not change even those)."""
        if self.pg:
            snap = {}
            for t in self.db_tables():
                rows = []
                for line in self.pg_query('SELECT row_to_json(t)::text FROM "%s" t' % t):
                    row = json.loads(line)
                    for (table, col) in USE_COLUMNS:
                        if table == t and col in row and not strict:
                            row[col] = None
                    rows.append(json.dumps(row, sort_keys=True, ensure_ascii=False))
                snap[t] = sorted(rows)
            return snap
        conn = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(self.db_path), uri=True,
                               timeout=5)
        try:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            snap = {}
            for t in tables:
                cur = conn.execute('SELECT * FROM "%s"' % t.replace('"', '""'))
                names = [d[0] for d in cur.description]
                skip = [i for i, n in enumerate(names) if not strict and (t, n) in USE_COLUMNS]
                rows = [tuple(None if i in skip else v for i, v in enumerate(row))
                        for row in cur.fetchall()]
                snap[t] = sorted(rows, key=repr)
            return snap
        finally:
            conn.close()

    def db_tables(self):
        if self.pg:
            return sorted(self.pg_query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        conn = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(self.db_path), uri=True,
                               timeout=5)
        try:
            return sorted(r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'"))
        finally:
            conn.close()

    def insert_rows(self, rows):
        """Writes clients (dicts of the five fields, or tuples in FIELDS
        order) straight into the running store, behind the worker's back, in
        one transaction, as a store of before the rules were tightened may
        hold them (SQLite: the five fields only; PostgreSQL: its derived
        columns made in SQL, roughly).  Returns how many clients there are."""
        rows = [tuple(r[k] for k in FIELDS) if isinstance(r, dict) else tuple(r) for r in rows]
        if not self.pg:
            conn = sqlite3.connect(self.db_path, timeout=30)
            try:
                with conn:
                    conn.executemany("INSERT INTO clients(nombre, apellidos, mail, "
                                     "fecha_nacimiento, direccion) VALUES (?, ?, ?, ?, ?)", rows)
                return conn.execute("SELECT count(*) FROM clients").fetchone()[0]
            finally:
                conn.close()
        with tempfile.NamedTemporaryFile("w", suffix=".csv", encoding="utf-8") as f:
            import csv
            csv.writer(f).writerows(rows)
            f.flush()
            out = subprocess.run(
                [os.path.join(pgcluster._bindir(), "psql"), "-X", "-q", "-At", "-v",
                 "ON_ERROR_STOP=1", "-d", self.db_path,
                 "-c", "CREATE TEMP TABLE seed (nombre text, apellidos text, mail text,"
                       " fecha_nacimiento text, direccion text)",
                 "-c", "\\copy seed FROM '%s' WITH (FORMAT csv)" % f.name,
                 "-c", "INSERT INTO clients (mail, nombre, apellidos, fecha_nacimiento, direccion,"
                       " nombre_key, apellidos_key, fecha_iso, search, creado, modificado, version)"
                       " SELECT mail, nombre, apellidos, fecha_nacimiento, direccion,"
                       " lower(nombre), lower(apellidos), '', lower(nombre || ' ' || apellidos"
                       " || ' ' || mail), t, t, nextval('client_version') FROM seed,"
                       " (SELECT to_char(now() AT TIME ZONE 'UTC',"
                       " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS t) now",
                 "-c", "SELECT count(*) FROM clients"],
                capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise AssertionError("seeding failed: %s" % out.stderr.strip())
        return int(out.stdout.split()[-1])

    def db_dump(self):
        """The PostgreSQL store's every row as pg_dump writes them (bytes):
        what a test of an erasure searches.  (Deleted rows stay in the
        table's pages until VACUUM reuses them, as in any PostgreSQL
        database; this is what the database answers.)"""
        assert self.pg, "db_dump() is PostgreSQL's; SQLite's file is read as it is"
        return subprocess.run([os.path.join(pgcluster._bindir(), "pg_dump"), "--data-only",
                               "-d", self.db_path], capture_output=True, check=True,
                              timeout=60).stdout

    @contextlib.contextmanager
    def lock_writes(self, everything=False):
        """Holds the store's write lock until the block ends, as another
        process would: writes wait (for busy_timeout) while reads go on.
        everything: reads wait too (PostgreSQL only)."""
        if not self.pg:
            assert not everything, "SQLite's readers cannot be locked out this way"
            conn = sqlite3.connect(self.db_path, isolation_level=None, timeout=10)
            try:
                conn.execute("BEGIN EXCLUSIVE")
                yield
                conn.execute("ROLLBACK")
            finally:
                conn.close()
            return
        with PgSession(self.db_path) as sess:
            sess.run("BEGIN; LOCK TABLE clients IN %s MODE"
                     % ("ACCESS EXCLUSIVE" if everything else "EXCLUSIVE"))
            yield
            sess.run("ROLLBACK")


class PgSession:
    """One psql session kept open (a lock held across a test's requests)."""

    def __init__(self, url):
        self.proc = subprocess.Popen(
            [os.path.join(pgcluster._bindir(), "psql"), "-X", "-q", "-At", "-v",
             "ON_ERROR_STOP=1", "-d", url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

    def query(self, sql):
        """Runs sql and waits until it is done; the lines it printed."""
        try:
            self.proc.stdin.write(sql.rstrip(";") + ";\n\\echo done-7f3a\n")
            self.proc.stdin.flush()
        except OSError:
            raise AssertionError("psql ended: %s" % self.proc.stderr.read())
        out = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("psql ended: %s" % self.proc.stderr.read())
            if line.rstrip("\n") == "done-7f3a":
                return out
            out.append(line.rstrip("\n"))

    run = query

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def send(conn, method, path, body=None, headers=None):
    hdrs = dict(headers or {})
    if body is not None and isinstance(body, str):
        body = body.encode("utf-8")
    conn.request(method, path, body=body, headers=hdrs)
    r = conn.getresponse()
    data = r.read()
    return Response(r.status, r.reason, r.getheaders(), data)


class StackTestCase(unittest.TestCase):
    """unittest base.  By default one stack per class (started in
    setUpClass); a class that sets per_test_stacks = True starts its own in
    each test with new_stack().  When a test fails, the output of the
    stacks it used is printed and their temp dirs are kept."""

    stack_kwargs = {}
    per_test_stacks = False
    stack = None

    @classmethod
    def setUpClass(cls):
        if cls.per_test_stacks:
            return
        cls.stack = Stack(name=cls.__name__, **cls.stack_kwargs)
        try:
            cls.stack.start()
        except BaseException:
            cls.stack.dump_log("start failed")
            cls.stack.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        st = cls.stack
        if st is None or cls.per_test_stacks:
            return
        try:
            if st.proc is not None:
                st.stop()
        except AssertionError:
            st.dump_log("stop failed")
            raise
        finally:
            st.cleanup()

    def new_stack(self, **kw):
        """A stack owned by this test (per_test_stacks classes)."""
        st = Stack(name=self._testMethodName, **kw)
        self._own_stacks.append(st)
        self.addCleanup(st.kill_group)
        self.stack = st  # for the assertion helpers
        return st

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        self._own_stacks = []
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        failed = len(result.failures) + len(result.errors) > before
        stacks = self._own_stacks or ([type(self).stack] if type(self).stack else [])
        for st in stacks:
            if failed:
                st.dump_log("after %s" % self.id())
        for st in self._own_stacks:
            st.cleanup()
        return out

    # -- assertions on the contract ---------------------------------------

    def assertJSONType(self, r, exact=True):
        ctype = r.header("Content-Type")
        self.assertIsNotNone(ctype, "no Content-Type: %r" % r)
        if exact:
            self.assertEqual(ctype.lower().replace(" ", ""), JSON_TYPE.replace(" ", ""),
                             "Content-Type: %r" % r)
        else:
            self.assertTrue(ctype.lower().startswith("application/json"), "Content-Type: %r" % r)

    def assertOK(self, r, body=None):
        self.assertEqual(r.status, 200, r)
        self.assertJSONType(r)
        data = r.json
        if body is not None:
            self.assertEqual(data, body, r)
        return data

    def assertError(self, r, status, mensaje=None, contains=(), exact_type=True):
        """The error shape: {"mensaje": str, "status": "<code>"} as JSON."""
        self.assertEqual(r.status, status, r)
        self.assertJSONType(r, exact=exact_type)
        try:
            data = r.json
        except ValueError:
            self.fail("error body is not JSON: %r" % r)
        self.assertIsInstance(data, dict, r)
        self.assertEqual(sorted(data), ["mensaje", "status"], r)
        self.assertIsInstance(data["mensaje"], str, r)
        self.assertTrue(data["mensaje"], r)
        self.assertEqual(data["status"], str(status), r)
        if mensaje is not None:
            self.assertEqual(data["mensaje"], mensaje, r)
        for piece in contains:
            self.assertIn(piece, data["mensaje"], r)
        return data

    def assertHealthy(self):
        """The worker and nginx are still up: GET / answers 200."""
        self.assertTrue(self.stack.alive(), "bin/start-web exited")
        r = self.stack.request("GET", "/")
        self.assertEqual(r.status, 200, r)

    def get_all(self):
        """GET /clientes as a dict ({} on the contract's 404)."""
        r = self.stack.request("GET", "/clientes")
        if r.status == 404:
            self.assertError(r, 404, "No existen clientes actualmente")
            return {}
        return self.assertOK(r)

    def add(self, rec, expect=200):
        r = self.stack.request("POST", "/aniadir?" + qs(*[(k, rec[k]) for k in FIELDS]))
        if expect == 200:
            self.assertOK(r, {"Resultado": "Cliente a\u00f1adido con exito"})
        return r

    @contextlib.contextmanager
    def unchanged(self, what=""):
        """Asserts that the block changes nothing in the store: every row of
        the SQLite file (read-only) and GET /clientes, before and after."""
        db_before = self.stack.db_snapshot()
        api_before = self.get_all()
        yield
        self.assertEqual(self.stack.db_snapshot(), db_before,
                         "the store changed%s" % (": " + what if what else ""))
        self.assertEqual(self.get_all(), api_before,
                         "GET /clientes changed%s" % (": " + what if what else ""))

    def get_one(self, mail):
        return self.stack.request("GET", "/cliente?" + qs(mail=mail))



# -- processes of a run, found through /proc (foreman and slug runs, which do
#    not go through Stack) ---------------------------------------------------

def _proc_stat(pid):
    """(ppid, state, starttime) of a process, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2:].split()
    return int(fields[1]), fields[0].decode(), int(fields[19])


def process_tree(root_pid):
    """{pid: starttime} of root_pid and every process below it, running now."""
    table = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _proc_stat(int(d))
            if st is not None:
                table[int(d)] = st
    out, todo = {}, [root_pid]
    if root_pid in table:
        out[root_pid] = table[root_pid][2]
    while todo:
        p = todo.pop()
        for pid, (ppid, _, start) in table.items():
            if ppid == p and pid not in out:
                out[pid] = start
                todo.append(pid)
    return out


def still_running(tree):
    """The processes of a process_tree() snapshot that still run: same pid
    and start time (not a reused pid), not a zombie."""
    out = []
    for pid, start in tree.items():
        st = _proc_stat(pid)
        if st is not None and st[2] == start and st[1] != "Z":
            out.append(pid)
    return out


def processes_of_run(path, marker=None):
    """{pid: cmdline} of running (non-zombie) processes that belong to a run:
    their working directory is path or below it, their command line mentions
    path (nginx's master: -p RUNTIME_DIR), or their environment holds marker
    ("NAME=value"; nginx overwrites its own, hence the other two)."""
    path = os.path.realpath(path)
    me = os.getpid()
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        pid = int(d)
        st = _proc_stat(pid)
        if st is None or st[1] == "Z":
            continue
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
        hit = path in cmd
        if not hit:
            try:
                cwd = os.readlink("/proc/%d/cwd" % pid)
                hit = cwd == path or cwd.startswith(path + "/")
            except OSError:
                pass
        if not hit and marker:
            try:
                with open("/proc/%d/environ" % pid, "rb") as f:
                    hit = marker.encode() in f.read().split(b"\0")
            except OSError:
                pass
        if hit:
            out[pid] = cmd
    return out


# The sleeps of SQLite's busy handler (usleep -> nanosleep or clock_nanosleep),
# by architecture: how a test sees a write waiting for a lock it holds.
_SLEEP_SYSCALLS = {"x86_64": {35, 230}, "aarch64": {101, 115}}


def waiting_for_lock(pid):
    """Whether a thread of process pid sleeps in SQLite's busy handler: a
    request is inside the worker, waiting for the lock the test holds.  (With
    the connections nginx keeps open, a new socket no longer says that a
    request arrived.)  Against PostgreSQL: whether a session of this
    process's stacks' databases waits for a lock."""
    if PG:
        names = ",".join("'%s'" % d for d in sorted(_PG_DATABASES)) or "''"
        out = pgcluster.psql(pgcluster.admin_url_from_env(),
                             "SELECT count(*) FROM pg_stat_activity WHERE datname IN (%s)"
                             " AND wait_event_type = 'Lock'" % names)
        return int(out.strip() or 0) > 0
    sleeps = _SLEEP_SYSCALLS.get(os.uname().machine)
    if sleeps is None:
        raise AssertionError("no sleep syscall numbers for %s" % os.uname().machine)
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/syscall" % (pid, tid)) as f:
                first = f.read().split()[:1]
        except OSError:
            continue
        if first and first[0].isdigit() and int(first[0]) in sleeps:
            return True
    return False


def wait_waiting_for_lock(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if waiting_for_lock(pid):
            return True
        time.sleep(0.005)
    return False


def hold_places(st, count, path="/aniadir", timeout=10.0):
    """Opens `count` requests to st whose bodies never finish, so each holds
    one of nginx's places (limit_conn) until its socket is closed, and asks
    GET /health until nginx refuses it.  Returns (sockets, the last /health
    response): a 503 once the places are seen taken, else what it was at
    the deadline.  nginx frees a finished request's place a moment after its
    last byte is sent, so a request sent right after another may find the
    place still taken and be refused: such a request (its socket readable:
    an answer or a close) is sent again.  The caller closes the sockets."""
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
            "application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nx" % path).encode()
    socks = []
    deadline = time.monotonic() + timeout
    while True:
        answered = select.select(socks, [], [], 0)[0] if socks else []
        for s in answered:
            s.close()
            socks.remove(s)
        while len(socks) < count:
            s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
            s.sendall(head)
            socks.append(s)
        r = st.request("GET", "/health", fresh=True)
        if r.status == 503 or time.monotonic() > deadline:
            return socks, r
        time.sleep(0.05)


def release_places(st, socks, timeout=10.0):
    """Closes the sockets of hold_places() and waits until nginx has let
    their places go (it notices a closed client asynchronously): GET /health
    answered again.  Returns that last response."""
    for s in socks:
        s.close()
    deadline = time.monotonic() + timeout
    while True:
        r = st.request("GET", "/health", fresh=True)
        if r.status != 503 or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def port_refuses(port, timeout=1.0):
    """True when nothing accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def main():
    """Runs the calling module's tests and prints the unittest summary."""
    prog = unittest.main(module="__main__", verbosity=2, exit=False)
    res = prog.result
    print("\nsummary: ran %d, failures %d, errors %d, skipped %d -> %s"
          % (res.testsRun, len(res.failures), len(res.errors), len(res.skipped),
             "OK" if res.wasSuccessful() else "FAILED"))
    sys.stdout.flush()
    sys.exit(0 if res.wasSuccessful() else 1)
