#!/usr/bin/env python3
"""test_operations.py - what operations rely on, against the real stack:
GET /health says the worker is alive and GET /health/ready follows the
store, X-Request-Id ties a response to its access-log
and worker lines, SIGTERM lets a long response finish, SIGHUP drops nothing
and keeps a config nginx rejects out, a killed worker takes clientes-web down
within 5 s when restarts are off, the proxy config can be swapped
(rate-limited template, FastCGI over TCP, loopback unless asked), a SQLite
store on a Heroku dyno is refused unless explicitly allowed, a bad setting is
one line naming it, the worker drops root and its socket is nginx's alone, no
store password and no query string reach the logs, and nginx's refusals are
summarised instead of logged one by one."""
import contextlib
import fcntl
import json
import mmap
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE_MAIL, FIELDS, ROOT, Stack, StackTestCase, free_port, qs  # noqa: E402

UNAVAILABLE = "Servicio no disponible temporalmente"
HEX32 = re.compile(r"^[0-9a-f]{32}$")

# The wal-index (DB-shm) of a WAL database, as documented in SQLite's
# walformat.html: two copies of a 48-byte header at offset 0 and 48, then the
# lock bytes at 120 + n: WAL_WRITE_LOCK n=0, WAL_CKPT_LOCK 1, WAL_RECOVER_LOCK 2.
WAL_HDR_COPY2 = 48
WAL_WRITE_LOCK = 120
WAL_RECOVER_LOCK = 122


def lock_byte(fd, offset, deadline):
    """An exclusive POSIX lock on one byte of fd, retried until deadline
    (the worker may hold it for a moment while it writes)."""
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextlib.contextmanager
def store_unavailable(st):
    """Makes the store of st answer no query at all, reads included, until
    the block ends.  PostgreSQL: a table lock that every statement waits
    for (lock_timeout, st's busy_timeout).  SQLite: the state of a WAL
    database whose wal-index another process is rebuilding after a crash.

    Why not the obvious `PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE`:
    every connection to a WAL database keeps a SHARED lock on the file for as
    long as it is open, so while the worker runs that exclusive lock can never
    be taken ("database is locked"); and a normal BEGIN EXCLUSIVE (even with a
    write in it) only blocks writers - WAL readers go on reading.

    So: hold WAL_WRITE_LOCK and WAL_RECOVER_LOCK and make the two copies of
    the wal-index header differ.  A reader then needs a recovery it cannot
    run (write lock taken) while one is in progress (recover lock taken):
    SQLITE_BUSY_RECOVERY, retried for busy_timeout, then SQLITE_BUSY.  On the
    way out the header is restored and the locks released.  Nothing else in
    this process may open the database meanwhile (closing any descriptor of
    the -shm file would drop these POSIX locks)."""
    if stack.PG:
        with st.lock_writes(everything=True):
            yield
        return
    fd = os.open(st.db_path + "-shm", os.O_RDWR)
    try:
        deadline = time.monotonic() + 5
        lock_byte(fd, WAL_WRITE_LOCK, deadline)
        lock_byte(fd, WAL_RECOVER_LOCK, deadline)
        size = os.fstat(fd).st_size
        assert size >= 136, "unexpected wal-index size %d" % size
        m = mmap.mmap(fd, 4096 if size >= 4096 else size)
        try:
            saved = m[0:96]
            m[WAL_HDR_COPY2] = m[WAL_HDR_COPY2] ^ 0xFF
            try:
                yield
            finally:
                m[0:96] = saved
        finally:
            m.close()
    finally:
        try:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, WAL_RECOVER_LOCK)
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, WAL_WRITE_LOCK)
        finally:
            os.close(fd)


def log_lines(st):
    """Every line bin/start-web wrote so far (this run)."""
    with open(st.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace").splitlines()


def log_bytes(st):
    with open(st.log_path, "rb") as f:
        return f.read()


def wait_log(st, pred, timeout=3.0):
    """The log lines matching pred, waiting (bounded) until there is one:
    nginx writes its access line once the response is out."""
    deadline = time.monotonic() + timeout
    while True:
        found = [ln for ln in log_lines(st) if pred(ln)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def access_lines(st, request_id, timeout=3.0):
    return wait_log(st, lambda ln: ln.endswith(" request_id=" + request_id)
                    and '"' in ln and not ln.startswith("clientes-worker:"), timeout)


def worker_lines(st, request_id, timeout=3.0):
    return wait_log(st, lambda ln: ln.startswith("clientes-worker:")
                    and ("request_id=%s " % request_id) in ln, timeout)


class NoWaitStack(Stack):
    """A Stack whose start() returns at once, for a start-up that must fail."""

    def wait_ready(self, timeout=None):
        return


class PerTestStack(StackTestCase):
    per_test_stacks = True

    def new_stack_nowait(self, **kw):
        st = NoWaitStack(name=self._testMethodName, **kw)
        self._own_stacks.append(st)
        self.addCleanup(st.kill_group)
        self.stack = st
        return st

    def assertRetryAfter(self, r):
        retry = r.header("Retry-After")
        self.assertIsNotNone(retry, "no Retry-After: %r" % r)
        self.assertTrue(retry.strip().isdigit() and int(retry) >= 1, r)


# ---------------------------------------------------------------- /health

class Health(PerTestStack):

    def test_health_alive_and_ready_follows_the_store(self):
        st = self.new_stack(busy_timeout=100).start()
        for path in ("/health", "/health/ready"):
            r = st.request("GET", path)
            self.assertOK(r, {"status": "ok"})
            self.assertEqual(r.body, b'{"status":"ok"}', r)
            r = st.request("HEAD", path)
            self.assertEqual((r.status, r.body), (200, b""), r)
        before = st.db_snapshot()

        with store_unavailable(st):
            for _ in range(2):
                t0 = time.monotonic()
                r = st.request("GET", "/health/ready")
                took = time.monotonic() - t0
                # a lock is transient: 503 with Retry-After, naming it
                self.assertError(r, 503, "Almacenamiento no disponible: "
                                 "la base de datos esta bloqueada")
                self.assertRetryAfter(r)
                # busy_timeout=100 ms: a prompt answer, not a hang
                self.assertLess(took, 3.0, "503 took %.1f s" % took)
                # alive all the same: the worker answers without the store
                self.assertOK(st.request("GET", "/health"), {"status": "ok"})
            self.assertTrue(st.alive())

        # released: ready again at once, and the store is intact
        r = st.request("GET", "/health/ready")
        self.assertOK(r, {"status": "ok"})
        self.assertEqual(st.db_snapshot(), before)
        r = st.request("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Sano"))
        self.assertOK(r, {"Resultado": "Nombre cambiado con exito"})
        st.stop()


# ---------------------------------------------------------------- X-Request-Id

class RequestId(StackTestCase):
    stack_kwargs = {"busy_timeout": 100}

    def assertPassedThrough(self, rid, path="/health"):
        st = self.stack
        r = st.request("GET", path, headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header_all("X-Request-Id"), [rid], r)
        lines = access_lines(st, rid)
        self.assertEqual(len(lines), 1, "access line with request_id=%s: %r" % (rid, lines))
        self.assertIn('"GET %s HTTP/1.1" 200 ' % path, lines[0])

    def test_client_id_passed_through_to_response_and_log(self):
        self.assertPassedThrough("ops-" + uuid.uuid4().hex)
        # Heroku's router sends a UUID
        self.assertPassedThrough(str(uuid.uuid4()), "/")

    def test_generated_when_missing(self):
        st = self.stack
        ids = []
        for _ in range(3):
            r = st.request("GET", "/health")
            self.assertEqual(r.status, 200, r)
            rid = r.header("X-Request-Id")
            self.assertIsNotNone(rid, r)
            self.assertRegex(rid, HEX32)
            self.assertEqual(len(r.header_all("X-Request-Id")), 1, r)
            lines = access_lines(st, rid)
            self.assertEqual(len(lines), 1, "access line with request_id=%s: %r" % (rid, lines))
            ids.append(rid)
        self.assertEqual(len(set(ids)), 3, ids)

    def test_error_responses_carry_it_too(self):
        # the worker's errors and nginx's own (413 and 405 here: nginx has read
        # the headers; a 414 or 400 comes before them and gets a new id)
        st = self.stack
        rid = "ops-err-" + uuid.uuid4().hex
        r = st.request("GET", "/no-existe", headers={"X-Request-Id": rid})
        self.assertError(r, 404)
        self.assertEqual(r.header_all("X-Request-Id"), [rid], r)
        for n, head in enumerate((b"POST /aniadir HTTP/1.1\r\nContent-Length: 100000\r\n",
                                  b"TRACE / HTTP/1.1\r\n")):
            rid_n = "%s-%d" % (rid, n)
            res = st.raw(head + b"Host: localhost\r\nX-Request-Id: " + rid_n.encode()
                         + b"\r\nConnection: close\r\n\r\n")
            r = res.response
            self.assertIsNotNone(r, res)
            self.assertIn(r.status, (405, 413), r)
            self.assertError(r, r.status)
            self.assertEqual(r.header_all("X-Request-Id"), [rid_n], r)
            self.assertEqual(len(access_lines(st, rid_n)), 1)

    def test_worker_error_line_names_the_request(self):
        st = self.stack
        rid = "ops-503-" + uuid.uuid4().hex
        with store_unavailable(st):
            r = st.request("GET", "/health/ready", headers={"X-Request-Id": rid})
        self.assertError(r, 503)
        self.assertEqual(r.header_all("X-Request-Id"), [rid], r)
        wl = worker_lines(st, rid)
        self.assertEqual(len(wl), 1, "worker line with request_id=%s: %r" % (rid, wl))
        self.assertIn("status=503", wl[0])
        self.assertIn("/health/ready", wl[0])
        al = access_lines(st, rid)
        self.assertEqual(len(al), 1, al)
        self.assertIn('"GET /health/ready HTTP/1.1" 503 ', al[0])

    def test_heroku_style_id_is_the_same_everywhere(self):
        # Heroku keeps a client's X-Request-Id of 20-200 characters from
        # [A-Za-z0-9+/=-] and logs it in the router line: the response, the
        # access line and the worker's error line must carry that same id.
        st = self.stack
        for rid in ("ops+" + uuid.uuid4().hex + "/x==",
                    "ops-long-" + "a" * 90 + uuid.uuid4().hex):
            with self.subTest(rid=rid):
                with store_unavailable(st):
                    r = st.request("GET", "/health/ready", headers={"X-Request-Id": rid})
                self.assertError(r, 503)
                self.assertEqual(r.header_all("X-Request-Id"), [rid], r)
                self.assertEqual(len(access_lines(st, rid)), 1)
                wl = worker_lines(st, rid)
                self.assertEqual(len(wl), 1, "worker line with request_id=%s: %r\nworker lines: %r"
                                 % (rid, wl, [ln for ln in log_lines(st)
                                              if ln.startswith("clientes-worker: request_id=ops")]))

    def test_hostile_ids_are_replaced(self):
        st = self.stack
        tag = uuid.uuid4().hex[:10].encode()
        hostile = [
            b"two words " + tag,
            b'x" forged="1 ' + tag,
            b"a%0Aclientes-worker: request_id=forged status=200 " + tag,
            b"a\\nforged" + tag,
            b"tab\there" + tag,
            b"ctl\x01\x7f" + tag,
            b"<script>" + tag + b"</script>",
            b"caf\xc3\xa9" + tag,
            b"'; DROP TABLE clients; --" + tag,
            tag + b"x" * 191,   # 201 characters: longer than any id kept
            b"",
        ]
        for value in hostile:
            with self.subTest(value=value[:60]):
                req = (b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: " + value
                       + b"\r\nConnection: close\r\n\r\n")
                res = st.raw(req, timeout=5)
                r = res.response
                self.assertIsNotNone(r, res)
                self.assertIn(r.status, (200, 400), r)
                ids = r.header_all("X-Request-Id")
                self.assertEqual(len(ids), 1, r)
                self.assertRegex(ids[0], HEX32)
                self.assertNotEqual(ids[0].encode(), value)
                lines = access_lines(st, ids[0])
                self.assertEqual(len(lines), 1, lines)
                if value:
                    self.assertNotIn(tag, log_bytes(st), "hostile id written to the log")
        self.assertTrue(st.alive())


# ---------------------------------------------------------------- SIGTERM

def seed_clients(st, n):
    """n more clients, written straight into the running store (WAL lets a
    second process write next to the worker); how many there are then."""
    return st.insert_rows(("Nombre%d" % i, "Apellido%d Siembra" % i,
                           "cliente%05d@siembra.example.com" % i,
                           "%d/%d/%d" % (1 + i % 28, 1 + i % 12, 1930 + i % 70),
                           "Calle de la Siembra %d" % i) for i in range(n))


def dechunk(data):
    """The body of a chunked HTTP/1.1 message; raises ValueError when it is
    cut short (no terminating zero-length chunk)."""
    out, pos = bytearray(), 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            return bytes(out)
        if pos + size + 2 > len(data):
            raise ValueError("chunk cut short")
        out += data[pos:pos + size]
        pos += size + 2


class Sigterm(PerTestStack):
    SEED = 20000

    def test_sigterm_lets_a_slow_long_response_finish(self):
        # nginx 1.22 now and then ends a graceful stop early, logging "open
        # socket ... left in connection" and "aborting" (a worker that sees no
        # timers left exits with connections open; docs/OPERATIONS.md).  That
        # is nginx's own decision, seen once in about twenty runs here: it
        # gets one more try, reported, and fails the test if it happens again.
        try:
            self._sigterm_attempt()
        except AssertionError as first:
            if not any("aborting" in open(p, errors="replace").read()
                       for st in self._own_stacks for p in st.logs if os.path.exists(p)):
                raise
            sys.stderr.write("\nnginx aborted its graceful stop early (%s); trying once more\n"
                             % first)
            self._sigterm_attempt()

    def _sigterm_attempt(self):
        st = self.new_stack(threads=4).start()
        st.wait_supervising()
        self.assertEqual(seed_clients(st, self.SEED), self.SEED + 1)

        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(10)
        s.connect(("127.0.0.1", st.port))
        auth = "".join("%s: %s\r\n" % kv for kv in st.auth_headers().items())
        s.sendall(("GET /clientes HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n"
                   % auth).encode())
        s.setblocking(False)

        got = bytearray()
        t_sig = None
        refused_at = None
        eof = False
        t0 = time.monotonic()
        try:
            while not eof and time.monotonic() - t0 < 9:
                tick = 0
                while tick < 65536:    # at most 64 KB ...
                    try:
                        b = s.recv(65536 - tick)
                    except BlockingIOError:
                        break
                    if not b:
                        eof = True
                        break
                    got += b
                    tick += len(b)
                if t_sig is None and len(got) >= 256 * 1024:
                    st.proc.send_signal(signal.SIGTERM)
                    t_sig = time.monotonic()
                elif t_sig is not None and refused_at is None and not eof:
                    # graceful: no new connections while this one is served
                    if stack.port_refuses(st.port, timeout=0.2):
                        refused_at = (time.monotonic(), len(got))
                time.sleep(0.05)   # ... every 50 ms
        finally:
            s.close()

        sys.stderr.write("\n%d bytes in %.1f s, SIGTERM after %.1f s, refused %.2f s after it\n"
                         % (len(got), time.monotonic() - t0, (t_sig or t0) - t0,
                            refused_at[0] - t_sig if refused_at and t_sig else -1))
        self.assertIsNotNone(t_sig, "the response ended before 256 KB (%d bytes)" % len(got))
        self.assertTrue(eof, "the response did not end within 9 s (%d bytes)" % len(got))
        head, _, body = bytes(got).partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head[:300])
        self.assertIn(b"transfer-encoding: chunked", head.lower(), head)
        try:
            data = json.loads(dechunk(body))
        except ValueError as e:
            st.fail("the response was cut short after SIGTERM (%d bytes): %s" % (len(body), e))
        self.assertEqual(len(data), self.SEED + 1)
        self.assertIn("cliente19999@siembra.example.com", data)
        self.assertIn(EXAMPLE_MAIL, data)
        self.assertGreater(len(body), 1024 * 1024, "too small to be in flight at the signal")
        self.assertIsNotNone(refused_at, "nginx still accepted connections after SIGTERM")
        self.assertLess(refused_at[1], len(got), "refusals only seen after the response ended")

        rc = st.wait_exit(max(0.1, 10 - (time.monotonic() - t_sig)))
        if rc is None:
            st.fail("bin/start-web still running 10 s after SIGTERM")
        took = time.monotonic() - t_sig
        self.assertEqual(rc, 0, "bin/start-web exited %s after SIGTERM" % rc)
        self.assertLess(took, 10.0)
        st.assert_nothing_left("after SIGTERM", 2)
        self.assertTrue(stack.port_refuses(st.port))
        st.kill_group()
        st.proc = None


# ---------------------------------------------------------------- SIGHUP

class Sighup(PerTestStack):

    def test_sighup_three_times_under_load_drops_nothing(self):
        # 8 threads: the whole-list cap (threads - 1) stays above the 6 clients,
        # so a refusal here could only come from the reload
        st = self.new_stack(threads=8).start()
        st.wait_supervising()
        masters = st.nginx_master_pids()
        self.assertEqual(len(masters), 1, st.descendants())
        stop = threading.Event()
        results, lock = [], threading.Lock()

        def client(n):
            i = 0
            while not stop.is_set():
                i += 1
                kind = i % 4
                if kind == 0:
                    method, path = "PUT", "/setDireccion?" + qs(mail=EXAMPLE_MAIL,
                                                                 direccion="Calle %d-%d" % (n, i))
                elif kind == 1:
                    method, path = "GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)
                elif kind == 2:
                    method, path = "GET", "/clientes"
                else:
                    method, path = "GET", "/health"
                try:
                    # a new connection each time: no keep-alive race, so a
                    # failure here is a dropped request, nothing else
                    r = st.request(method, path, timeout=10, fresh=True)
                    out = (method, path, r.status, r.body[:200])
                except OSError as e:
                    out = (method, path, None, repr(e))
                with lock:
                    results.append(out)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        try:
            t0 = time.monotonic()
            for at in (0.5, 1.3, 2.1):
                time.sleep(max(0.0, t0 + at - time.monotonic()))
                st.proc.send_signal(signal.SIGHUP)
            time.sleep(0.9)
        finally:
            stop.set()
            for t in threads:
                t.join(15)
        failed = [x for x in results if x[2] != 200]
        sys.stderr.write("\n%d requests around 3 SIGHUPs, %d failed\n" % (len(results), len(failed)))
        self.assertGreater(len(results), 100, "too little load to mean anything")
        self.assertEqual(failed, [], "%d of %d requests failed around SIGHUP"
                         % (len(failed), len(results)))
        # still serving, by the same nginx master, reloaded three times
        self.assertTrue(st.alive())
        self.assertEqual(st.nginx_master_pids(), masters)
        reloads = wait_log(st, lambda ln: "SIGHUP: reloading nginx" in ln)
        self.assertEqual(len(reloads), 3, log_lines(st)[-20:])
        self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)))
        self.assertOK(st.request("GET", "/health"), {"status": "ok"})
        st.stop()


    def test_sighup_with_a_config_nginx_rejects_keeps_the_running_one(self):
        st = self.new_stack()
        tmpl = os.path.join(st.dir, "nginx.conf.template")
        shutil.copy(stack.NGINX_CONF, tmpl)
        st.extra_env["NGINX_CONF"] = tmpl
        st.start()
        self.assertTrue(st.wait_supervising())
        masters = st.nginx_master_pids()
        with open(tmpl, "a") as f:
            f.write("\nthis_is_not_nginx on;\n")
        st.proc.send_signal(signal.SIGHUP)
        kept = wait_log(st, lambda ln: "SIGHUP: keeping the running nginx config" in ln)
        self.assertEqual(len(kept), 1, log_lines(st)[-20:])
        text = "\n".join(log_lines(st))
        self.assertIn("nginx rejects the config rendered from %s" % tmpl, text)
        self.assertIn("as rendered: this_is_not_nginx on;", text)
        self.assertOK(st.request("GET", "/health", fresh=True), {"status": "ok"})
        self.assertEqual(st.nginx_master_pids(), masters)
        # fixed: the next HUP reloads
        shutil.copy(stack.NGINX_CONF, tmpl)
        st.proc.send_signal(signal.SIGHUP)
        self.assertEqual(len(wait_log(st, lambda ln: "SIGHUP: reloading nginx" in ln)), 1)
        self.assertOK(st.request("GET", "/health", fresh=True), {"status": "ok"})
        st.stop()


# ---------------------------------------------------------------- dead worker

class DeadWorker(PerTestStack):

    def test_sigkilled_worker_without_restarts_takes_it_down_within_5s(self):
        # WORKER_RESTART_MAX=0: no restart in place, the platform's restart
        # of the whole process is the only one
        for settle in (True, False):
            with self.subTest(settled=settle):
                st = self.new_stack(env={"WORKER_RESTART_MAX": "0"}).start()
                if settle:
                    self.assertTrue(st.wait_supervising())
                pids = st.worker_pids()
                self.assertEqual(len(pids), 1, st.descendants())
                t0 = time.monotonic()
                os.kill(pids[0], signal.SIGKILL)
                rc = st.wait_exit(5.0)
                took = time.monotonic() - t0
                if rc is None:
                    st.fail("clientes-web still running 5 s after its worker was killed")
                self.assertNotEqual(rc, 0, "clientes-web exited 0 after its worker died")
                self.assertLess(took, 5.0)
                # nginx went with it: the port refuses, nothing survives
                self.assertTrue(stack.port_refuses(st.port), "the port still accepts connections")
                deadline = time.monotonic() + 2
                while st.survivors() and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertEqual(st.survivors(), [], st.children)
                st.kill_group()
                st.proc = None


# ---------------------------------------------------------------- proxy config

class ProxyConfig(PerTestStack):
    RATELIMIT = os.path.join(ROOT, "conf", "nginx-ratelimit.conf.template")

    def test_ratelimit_template_limits_writes_only(self):
        st = self.new_stack(env={"NGINX_CONF": self.RATELIMIT}).start()  # GET / 200
        self.assertOK(st.request("GET", "/health"), {"status": "ok"})

        statuses, last_ok = [], None
        t0 = time.monotonic()
        for i in range(60):
            r = st.request("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Rafaga%d" % i))
            statuses.append(r.status)
            if r.status == 200:
                last_ok = i
                self.assertOK(r, {"Resultado": "Nombre cambiado con exito"})
            else:
                self.assertError(r, 429)
                self.assertRetryAfter(r)
                self.assertIsNotNone(r.header("X-Request-Id"), r)
        took = time.monotonic() - t0
        ok, limited = statuses.count(200), statuses.count(429)
        self.assertEqual(ok + limited, len(statuses), statuses)
        # burst=20 nodelay: the first 21 pass at once, then 10 a second
        self.assertEqual(statuses[:21], [200] * 21, statuses)
        self.assertLessEqual(ok, 22 + 10 * took, "%.2f s: %r" % (took, statuses))
        self.assertGreaterEqual(limited, 5, "%.2f s: %r" % (took, statuses))

        # reads are never limited, even with the write bucket empty
        reads = [("GET", "/"), ("GET", "/health"), ("GET", "/clientes"),
                 ("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)), ("HEAD", "/cliente?" + qs(mail=EXAMPLE_MAIL))]
        bad = []
        for i in range(120):
            method, path = reads[i % len(reads)]
            r = st.request(method, path)
            if r.status != 200:
                bad.append((method, path, r))
        self.assertEqual(bad, [])
        # a refused write never reached the worker: the name is the last accepted one
        r = st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL))
        self.assertEqual(self.assertOK(r)[EXAMPLE_MAIL]["nombre"], "Rafaga%d" % last_ok)
        # other write routes share the limit
        statuses = [st.request("DELETE", "/eliminar?" + qs(mail="nadie%d@example.com" % i)).status
                    for i in range(40)]
        self.assertIn(429, statuses)
        self.assertEqual(set(statuses) - {404, 429}, set(), statuses)
        st.stop()

    def test_fastcgi_over_tcp(self):
        fport = free_port()
        st = self.new_stack(env={"FCGI_LISTEN": "127.0.0.1:%d" % fport}).start()
        self.assertIsNone(st.worker_socket_path(), "the worker still listens on a unix socket")
        # the worker holds a TCP listener on that port
        inodes = st.worker_socket_inodes()
        with open("/proc/net/tcp") as f:
            listening = [ln.split() for ln in f.readlines()[1:]]
        mine = [p for p in listening if p[3] == "0A" and p[1].endswith(":%04X" % fport)
                and p[9] in inodes]
        self.assertTrue(mine, "the worker does not listen on 127.0.0.1:%d" % fport)

        self.assertOK(st.request("GET", "/health"), {"status": "ok"})
        rec = {"nombre": "Tcp", "apellidos": "Por Puerto", "mail": "tcp@example.com",
               "fecha_nacimiento": "2000-01-31", "direccion": "Calle del Socket 1"}
        self.add(rec)
        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        st.stop()


    def test_fastcgi_over_tcp_binds_loopback_unless_asked(self):
        # ":PORT" names no address: the worker must not be reachable from
        # other hosts, so it is loopback (issue: it was every interface)
        fport = free_port()
        st = self.new_stack(env={"FCGI_LISTEN": ":%d" % fport}).start()
        with open("/proc/net/tcp") as f:
            rows = [ln.split() for ln in f.readlines()[1:]]
        listening = [r[1] for r in rows if r[3] == "0A" and r[1].endswith(":%04X" % fport)]
        self.assertEqual(listening, ["0100007F:%04X" % fport], "bound to %r" % listening)
        self.assertOK(st.request("GET", "/health"), {"status": "ok"})
        st.stop()


# ---------------------------------------------------------------- Heroku

class EphemeralSqlite(PerTestStack):

    # SQLite's stacks, against PostgreSQL too
    def test_sqlite_on_a_dyno_is_refused(self):
        st = self.new_stack_nowait(env={"DYNO": "web.1"}, backend="sqlite")
        t0 = time.monotonic()
        st.start()
        rc = st.wait_exit(10)
        took = time.monotonic() - t0
        if rc is None:
            st.fail("bin/start-web still running 10 s after start with DYNO and SQLite")
        self.assertNotEqual(rc, 0)
        self.assertLess(took, 5.0, "took %.1f s to give up" % took)
        out = "\n".join(log_lines(st))
        self.assertIn("ALLOW_EPHEMERAL_SQLITE", out)
        self.assertRegex(out, r"(?i)ephemeral")
        self.assertTrue(stack.port_refuses(st.port))
        self.assertEqual(stack.processes_of_run(st.dir), {})
        st.proc = None

    def test_sqlite_on_a_dyno_allowed_explicitly(self):
        st = self.new_stack(env={"DYNO": "web.1", "ALLOW_EPHEMERAL_SQLITE": "1"},
                            backend="sqlite").start()
        self.assertOK(st.request("GET", "/health"), {"status": "ok"})
        self.assertOK(self.get_one(EXAMPLE_MAIL))
        out = "\n".join(log_lines(st))
        self.assertIn("ALLOW_EPHEMERAL_SQLITE", out)  # it still warns
        st.stop()


# ---------------------------------------------------------------- bad settings

class BadSetting(PerTestStack):

    def test_a_bad_value_is_one_line_naming_the_variable(self):
        # every variable's bad value is tested in tests/cgi/test_config.c;
        # here: clientes-web refuses before starting anything
        for name, value in (("PORT", "80a"), ("FCGI_LISTEN", "localhost:99999"),
                            ("TZ", "Nowhere/Atlantis"), ("WORKER_WATCHDOG_S", "-1"),
                            ("ALLOW_EPHEMERAL_SQLITE", "yes")):
            with self.subTest(name=name):
                st = self.new_stack_nowait(env={name: value})
                t0 = time.monotonic()
                st.start()
                rc = st.wait_exit(10)
                if rc is None:
                    st.fail("still running 10 s after start with %s=%s" % (name, value))
                self.assertNotEqual(rc, 0)
                self.assertLess(time.monotonic() - t0, 5.0)
                errors = [ln for ln in log_lines(st) if ": error: " in ln]
                self.assertEqual(len(errors), 1, log_lines(st))
                self.assertTrue(errors[0].startswith("clientes-web: error: %s " % name), errors)
                self.assertIn("'%s'" % value, errors[0])
                self.assertTrue(stack.port_refuses(st.port))
                self.assertEqual(stack.processes_of_run(st.dir), {})
                st.proc = None


# ---------------------------------------------------------------- privileges

def proc_ids(pid):
    """(uids, gids, groups) of a process, from /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            k, _, v = ln.partition(":")
            out[k] = v.split()
    return ([int(x) for x in out["Uid"]], [int(x) for x in out["Gid"]],
            [int(x) for x in out.get("Groups", [])])


def connect_as(uid, gid, path):
    """Whether a process running as uid:gid (no other group) may connect to
    the unix socket at path."""
    code = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
            "try:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    sys.exit(3)\n")
    p = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", "--",
                        sys.executable, "-c", code, path], capture_output=True, timeout=30)
    if p.returncode not in (0, 3):
        raise AssertionError("connect_as failed: %r" % (p,))
    return p.returncode == 0


class Privileges(PerTestStack):

    def test_worker_drops_root_after_opening_its_store(self):
        st = self.new_stack().start()
        (worker,) = st.worker_pids()
        uids, gids, groups = proc_ids(worker)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.assertEqual(uids, [nobody.pw_uid] * 4, "the worker still runs as root")
            self.assertEqual(gids, [nobody.pw_gid] * 4)
            self.assertEqual(groups, [])
            self.assertIn("as nobody", "\n".join(log_lines(st)))
        else:
            self.assertEqual(uids, [os.geteuid()] * 4)
        # and its store still takes writes (descriptors opened before the drop)
        rec = {"nombre": "Sin", "apellidos": "Privilegios", "mail": "sin.root@example.com",
               "fecha_nacimiento": "1/1/2000", "direccion": "Calle Nobody 1"}
        self.add(rec)
        self.assertOK(st.request("PUT", "/setNombre?" + qs(mail=rec["mail"], nombre="Otro")))
        self.assertOK(st.request("DELETE", "/eliminar?" + qs(mail=rec["mail"])))
        st.stop()

    def test_worker_socket_only_for_nginx_user(self):
        st = self.new_stack().start()
        sock = st.worker_socket_path()
        self.assertIsNotNone(sock)
        info = os.stat(sock)
        if os.geteuid() != 0:
            self.assertEqual(stat.S_IMODE(info.st_mode), 0o600, oct(info.st_mode))
            st.stop()
            return
        nobody = pwd.getpwnam("nobody")
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o660, oct(info.st_mode))
        self.assertEqual(info.st_gid, nobody.pw_gid, "group %d" % info.st_gid)
        # nginx's workers (nobody, its group) connect; another local user cannot
        self.assertTrue(connect_as(nobody.pw_uid, nobody.pw_gid, sock))
        self.assertFalse(connect_as(54321, 54321, sock),
                         "any local user can talk FastCGI to the worker")
        self.assertOK(st.request("GET", "/health"), {"status": "ok"})
        st.stop()


# ---------------------------------------------------------------- logs

NGINX_ERROR_LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[")


def not_access_lines(st):
    """The lines that are not nginx's access log: nginx's error log and the
    programs' own lines."""
    return [ln for ln in log_lines(st) if NGINX_ERROR_LINE.match(ln) or ln.startswith("clientes-")]


class SecretsInLogs(PerTestStack):

    def test_a_store_password_never_reaches_the_output(self):
        secret = "S3cr3t" + uuid.uuid4().hex[:10]
        cases = [
            # refused by the worker (no such host): its error names the URL
            "postgres://clientes:%s@db.example.com:5432/clientes" % secret,
            # and a password in the query too
            "postgres://clientes:%s@db.example.com/clientes?password=%s&sslmode=require"
            % (secret, secret),
            # refused by the configuration table (a space): its line names the value
            "postgres://clientes:%s@db.example.com/cli entes" % secret,
        ]
        for url in cases:
            with self.subTest(url=url.replace(secret, "***")):
                # no waiting for a host that will never answer
                st = self.new_stack_nowait(env={"DATABASE_URL": url, "DATABASE_OPEN_WAIT_S": "0"})
                st.start()
                rc = st.wait_exit(10)
                if rc is None:
                    st.fail("still running 10 s after start with a PostgreSQL URL")
                self.assertNotEqual(rc, 0)
                out = log_bytes(st)
                self.assertNotIn(secret.encode(), out, "the password is in the output")
                self.assertIn(b"postgres://clientes:***@db.example.com", out)
                st.proc = None


class NginxErrorLog(PerTestStack):

    def test_error_lines_carry_no_query_string_or_referrer(self):
        st = self.new_stack().start()
        tag = uuid.uuid4().hex[:12]
        req = ("POST /aniadir?mail=persona.%s%%40example.com&nombre=Nombre%s HTTP/1.1\r\n"
               "Host: localhost\r\nReferer: http://otra.example/?mail=referente.%s\r\n"
               "Content-Length: 100000\r\nConnection: close\r\n\r\n" % (tag, tag, tag))
        r = st.raw(req.encode()).response
        self.assertIsNotNone(r)
        self.assertError(r, 413)
        lines = wait_log(st, lambda ln: "client intended to send too large body" in ln)
        self.assertEqual(len(lines), 1, log_lines(st)[-10:])
        self.assertIn('request: "POST /aniadir HTTP/1.1"', lines[0])
        self.assertNotIn("referrer", lines[0])
        st.stop()
        leaks = [ln for ln in not_access_lines(st) if tag in ln]
        self.assertEqual(leaks, [], "request data in the error log")

    def test_refusals_are_counted_and_summarised(self):
        # One request fits in the worker (WORKER_MAX_REQUESTS=1) and it waits
        # (for the SQLite lock this test holds): every other one is refused by
        # nginx's limit_conn, which logs a warning per refusal.
        st = self.new_stack(threads=1, busy_timeout=20000,
                            env={"WORKER_MAX_REQUESTS": "1"}).start()
        self.assertTrue(st.wait_supervising())
        (worker,) = st.worker_pids()
        statuses, lock = [], threading.Lock()
        held = {}
        with st.lock_writes():
            t = threading.Thread(target=lambda: held.update(r=st.request(
                "PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Retenido"), timeout=30,
                fresh=True)))
            t.start()
            self.assertTrue(stack.wait_waiting_for_lock(worker), "the held write never arrived")

            def flood():
                for _ in range(40):
                    r = st.request("GET", "/health", timeout=5, fresh=True)
                    with lock:
                        statuses.append(r.status)
            threads = [threading.Thread(target=flood) for _ in range(8)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(30)
        t.join(30)
        self.assertOK(held["r"], {"Resultado": "Nombre cambiado con exito"})
        refused = statuses.count(503)
        self.assertEqual(refused, 320, statuses)
        st.stop()   # the last summary is written at the stop
        lines = log_lines(st)
        one_by_one = [ln for ln in lines if "limiting connections" in ln
                      and "nginx refused" not in ln]
        self.assertEqual(one_by_one, [], "a line per refusal")
        summaries = [ln for ln in lines if "nginx refused" in ln]
        self.assertTrue(1 <= len(summaries) <= 3, summaries)
        counted = sum(int(re.search(r"limiting connections (\d+)", ln).group(1))
                      for ln in summaries)
        self.assertEqual(counted, refused, summaries)
        self.assertIn("%d since start" % refused, summaries[-1])


if __name__ == "__main__":
    stack.main()
