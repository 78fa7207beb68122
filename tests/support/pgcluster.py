"""pgcluster.py - throwaway PostgreSQL clusters for the tests, standard library only.

A cluster lives in one temporary directory (data, unix socket, log) and its
postmaster is a child of this process: its exact pid is known, it is reaped
by wait(), and it gets SIGINT should this process die (parent-death signal).
As root the server runs as the `postgres` user (initdb and postgres refuse
root); otherwise as the current user. Nothing outside the directory is
touched, and port 5432 is never used.

As a library:
    with Cluster(durable=False) as pg:
        url = pg.create_database("t1")      # postgres://clientes:...@127.0.0.1:PORT/t1
        pg.restart()                         # fast restart, same port
As a command (bin/test wraps ctest with it):
    python3 tests/support/pgcluster.py run -- COMMAND...
runs COMMAND with CLIENTES_PG_ADMIN_URL (a superuser URL of the running
cluster, from which tests create their own databases) and stops the cluster
afterwards, whatever happened.
"""
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ports import free_port  # noqa: E402

PASSWORD = "clientes-test-secret"
APP_USER = "clientes"


def _bindir():
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                   key=lambda p: [int(x) for x in p.split("/")[-2].split(".") if x.isdigit()])
    for d in reversed(cands):
        if os.access(os.path.join(d, "postgres"), os.X_OK):
            return d
    raise RuntimeError("PostgreSQL server not installed (Debian package 'postgresql', "
                       "listed in tests/Aptfile): the PostgreSQL tests cannot run")


def _pdeathsig():
    """In the child before exec: SIGINT (fast shutdown) when this process dies."""
    import ctypes
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG


def _others_can_enter(path):
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


class Cluster:
    def __init__(self, durable=False, ssl=False, max_connections=200, base=None):
        self.durable = durable
        self.ssl = ssl
        self.max_connections = max_connections
        self.bindir = _bindir()
        self.base = base
        self.dir = None
        self.proc = None
        self.port = None
        self.runas = None
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            self.runas = (pw.pw_uid, pw.pw_gid)

    # -- process helpers -------------------------------------------------
    def _as_server(self, argv):
        """argv run as the server's user (setpriv execs: no extra process)."""
        if self.runas is None:
            return argv
        uid, gid = self.runas
        return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--init-groups",
                "--pdeathsig", "INT", "--"] + argv

    def _chown(self, path):
        if self.runas is not None:
            os.chown(path, *self.runas)

    def psql(self, sql, db="postgres", check=True):
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        r = subprocess.run(
            [os.path.join(self.bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
             "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
             "-At", "-c", sql], env=env, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("psql failed: %s" % r.stderr.strip())
        return r.stdout

    # -- lifecycle -------------------------------------------------------
    def start(self):
        base = self.base or os.environ.get("TMPDIR") or "/tmp"
        if len(base) > 60 or (self.runas and not _others_can_enter(base)):
            base = "/tmp"  # the socket path must fit, and the server user must get in
        self.dir = tempfile.mkdtemp(prefix="clientes-pg-", dir=base)
        os.chmod(self.dir, 0o755)
        self._chown(self.dir)
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        self._chown(pwfile)
        data = os.path.join(self.dir, "data")
        r = subprocess.run(self._as_server([
            os.path.join(self.bindir, "initdb"), "-D", data, "-U", "postgres",
            "--pwfile=" + pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
            cwd=self.dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("initdb failed: %s" % (r.stderr or r.stdout))
        conf = [
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = '%s'" % self.dir,
            "max_connections = %d" % self.max_connections,
            "fsync = %s" % ("on" if self.durable else "off"),
            "synchronous_commit = %s" % ("on" if self.durable else "off"),
            "full_page_writes = %s" % ("on" if self.durable else "off"),
            "shared_buffers = 32MB",
            "log_min_messages = warning",
        ]
        if self.ssl:
            key, crt = os.path.join(self.dir, "server.key"), os.path.join(self.dir, "server.crt")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                            "-subj", "/CN=localhost", "-keyout", key, "-out", crt],
                           check=True, capture_output=True)
            os.chmod(key, 0o600)
            self._chown(key)
            self._chown(crt)
            conf += ["ssl = on", "ssl_cert_file = '%s'" % crt, "ssl_key_file = '%s'" % key]
            hba = os.path.join(data, "pg_hba.conf")
            with open(hba) as f:
                rules = f.read()
            with open(hba, "w") as f:  # as Heroku: TCP without TLS is refused
                f.write("hostnossl all all 0.0.0.0/0 reject\n" + rules)
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write("\n".join(conf) + "\n")
        for attempt in range(5):
            self.port = free_port("127.0.0.1")
            if self._spawn():
                break
        else:
            raise RuntimeError("PostgreSQL did not start: %s" % self.log_tail())
        self.psql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (APP_USER, PASSWORD))
        return self

    def _spawn(self):
        log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            self._as_server([os.path.join(self.bindir, "postgres"), "-D",
                             os.path.join(self.dir, "data"), "-p", str(self.port)]),
            cwd=self.dir, stdout=log, stderr=log, start_new_session=True,
            preexec_fn=None if self.runas else _pdeathsig)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # port taken, or a real failure (see the log)
            r = subprocess.run([os.path.join(self.bindir, "pg_isready"), "-q", "-h",
                                "127.0.0.1", "-p", str(self.port)])
            if r.returncode == 0:
                return True
            time.sleep(0.02)
        self._stop_proc()
        return False

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def _stop_proc(self, sig=signal.SIGINT):
        """Fast shutdown by default; escalate INT -> QUIT, never KILL the postmaster."""
        if not self.proc or self.proc.poll() is not None:
            return
        for s, wait in ((sig, 15), (signal.SIGQUIT, 10)):
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(s)
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):  # a last resort: the whole group
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def restart(self, down_seconds=0.0, sig=signal.SIGINT):
        """Stops the server (fast shutdown: sessions are terminated) and starts
        it again on the same port after down_seconds."""
        self._stop_proc(sig)
        time.sleep(down_seconds)
        deadline = time.monotonic() + 20
        while not self._spawn():
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not restart: %s" % self.log_tail())
            time.sleep(0.2)

    def stop(self):
        self._stop_proc()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- databases -------------------------------------------------------
    def admin_url(self, db="postgres"):
        return "postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=%s" % (
            PASSWORD, self.port, db, "require" if self.ssl else "disable")

    def url(self, db, user=APP_USER):
        return "postgres://%s:%s@127.0.0.1:%d/%s?sslmode=%s" % (
            user, PASSWORD, self.port, db, "require" if self.ssl else "disable")

    def create_database(self, name):
        """A new empty database owned by the application role; its URL."""
        self.psql('CREATE DATABASE "%s" OWNER %s' % (name, APP_USER))
        return self.url(name)


# -- the cluster of a run, from its admin URL (CLIENTES_PG_ADMIN_URL) ------

ADMIN_ENV = "CLIENTES_PG_ADMIN_URL"


def admin_url_from_env():
    """The superuser URL bin/test's cluster publishes; a test that needs
    PostgreSQL and finds none fails (it is never skipped)."""
    url = os.environ.get(ADMIN_ENV)
    if not url:
        raise AssertionError(
            "%s is not set: the PostgreSQL tests need the cluster bin/test starts "
            "(or: python3 tests/support/pgcluster.py run -- COMMAND)" % ADMIN_ENV)
    return url


def psql(url, sql, check=True, timeout=60):
    """Runs sql through psql on the database of url; its unaligned output."""
    r = subprocess.run([os.path.join(_bindir(), "psql"), "-X", "-q", "-At", "-v",
                        "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("psql failed: %s" % r.stderr.strip())
    return r.stdout


def with_database(url, db, user=None, password=None):
    """url with another database (and user): the app's URL from the admin's."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = "%s:%s@%s" % (urllib.parse.quote(user, safe=""),
                               urllib.parse.quote(password or PASSWORD, safe=""), host)
    return urllib.parse.urlunsplit((parts.scheme, netloc, "/" + db, parts.query, ""))


_db_seq = [0]


def new_database(hint="t", admin_url=None):
    """A new empty database owned by the application role, ordered by a
    language's rules as Heroku's are (ICU en-US): its URL, as that role."""
    admin = admin_url or admin_url_from_env()
    _db_seq[0] += 1
    clean = "".join(c for c in hint.lower() if c.isalnum() or c == "_")[:24] or "t"
    name = "%s_%d_%d_%04x" % (clean, os.getpid(), _db_seq[0], int.from_bytes(os.urandom(2), "big"))
    if int(psql(admin, "SHOW server_version_num").strip()) >= 150000:
        psql(admin, 'CREATE DATABASE "%s" OWNER %s TEMPLATE template0 LOCALE_PROVIDER icu '
                    "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'" % (name, APP_USER))
    else:  # no ICU per database before PostgreSQL 15: the cluster's collation
        psql(admin, 'CREATE DATABASE "%s" OWNER %s' % (name, APP_USER))
    return with_database(admin, name, APP_USER, PASSWORD)


def database_of(url):
    return urllib.parse.urlsplit(url).path.lstrip("/")


def _run(argv):
    """argv with CLIENTES_PG_ADMIN_URL set, inside a cluster stopped (and
    removed) afterwards, also when this process is told to stop."""
    child = None

    def stop(signum, frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)
        raise SystemExit(128 + signum)

    with Cluster() as pg:
        env = dict(os.environ, CLIENTES_PG_ADMIN_URL=pg.admin_url())
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)
        try:
            child = subprocess.Popen(argv, env=env)
            return child.wait()
        except KeyboardInterrupt:
            return 130
        finally:
            if child is not None and child.poll() is None:
                child.wait()


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "run" and sys.argv[2] == "--":
        sys.exit(_run(sys.argv[3:]))
    sys.stderr.write("usage: pgcluster.py run -- COMMAND...\n")
    sys.exit(2)
