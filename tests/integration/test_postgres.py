#!/usr/bin/env python3
"""test_postgres.py - what only PostgreSQL does: one durable state for many
dynos.  Every other suite also runs against PostgreSQL (the *_pg twins);
these need two stacks on one database, or a cluster of their own to
restart, crash or serve TLS.

  TwoDynos      two stacks (bin/start-web twice) on one database: a write
                through one is read through the other; 16 clients on each
                adding 5 000 distinct records leave exactly 5 000; the same
                mail added through both at once is stored once (one 200);
                both starting at once on an empty database make one schema
                and one example client
  Restart       the database restarted under a mixed load: in-flight requests
                get a JSON 503 with Retry-After, /health/ready says the
                database does not answer, nothing is 5xx once it is back,
                and the worker was never restarted
  Crash         a worker SIGKILLed during writes, then the server crashed,
                on a durable cluster (fsync=on): every acknowledged write is
                there
  Tls           a cluster with ssl=on and a self-signed certificate, TCP
                without TLS refused (as Heroku): a Heroku-shaped URL (no
                sslmode: require by default) serves over TLS
  Dyno          DYNO set with a postgres:// URL: served (SQLite is refused
                there), the password in no log line, the session named
                clientes/web.1
  SlowReader    GET /clientes of 5 000 clients read slowly, with a 200 ms
                statement_timeout: the whole list arrives"""
import json
import os
import signal
import socket
import sys
import threading
import time

os.environ.setdefault("CLIENTES_TEST_STORE", "pg")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import (EXAMPLE, EXAMPLE_MAIL, FIELDS, Stack, StackTestCase,  # noqa: E402
                   pgcluster, qs)

ADDED = {"Resultado": "Cliente a\u00f1adido con exito"}
EXISTS = "El mail del cliente proporcionado ya existe"
UNAVAILABLE = "Servicio no disponible temporalmente"
NOT_ANSWERING = "Almacenamiento no disponible: la base de datos no responde"


def record(tag, n=0):
    return {"nombre": "Nombre %s" % tag, "apellidos": "Apellido %s" % tag,
            "mail": "%s@postgres.example.com" % tag,
            "fecha_nacimiento": "%d/%d/%d" % (1 + n % 28, 1 + n % 12, 1950 + n % 60),
            "direccion": "Calle %s" % tag}


def add_path(rec):
    return "/aniadir?" + qs(*[(k, rec[k]) for k in FIELDS])


def close_thread_connection(st):
    """The keep-alive connection st.request() kept for this thread."""
    conn = getattr(st._local, "conn", None)
    if conn is not None:
        conn.close()
        st._local.conn = None


def count(url, sql):
    return int(pgcluster.psql(url, sql).strip() or -1)


class NoWaitStack(Stack):
    """A stack expected not to start: start() does not wait for a 200."""

    def wait_ready(self, timeout=None):
        return


class PgTestCase(StackTestCase):
    per_test_stacks = True

    def setUp(self):
        self.assertTrue(stack.PG, "test_postgres.py runs against PostgreSQL only")

    def stack_on(self, url, **kw):
        return self.new_stack(db_path=url, **kw)

    def assertTemporary(self, r):
        """The 503 of a store that will be back: JSON, with Retry-After."""
        self.assertError(r, 503, UNAVAILABLE)
        retry = r.header("Retry-After")
        self.assertTrue(retry is not None and retry.strip().isdigit(), r)


class TwoDynos(PgTestCase):

    def two(self, threads=4):
        url = pgcluster.new_database("dynos")
        a = self.stack_on(url, threads=threads).start()
        b = self.stack_on(url, threads=threads).start()
        return url, a, b

    def test_a_write_through_one_is_read_through_the_other(self):
        url, a, b = self.two()
        rec = record("cruzado")
        self.assertOK(a.request("POST", add_path(rec)), ADDED)
        self.assertOK(b.request("GET", "/cliente?" + qs(mail=rec["mail"].upper())),
                      {rec["mail"]: rec})
        self.assertOK(b.request("PUT", "/setNombre?" + qs(mail=rec["mail"], nombre="Otro")))
        self.assertOK(a.request("GET", "/cliente?" + qs(mail=rec["mail"])),
                      {rec["mail"]: dict(rec, nombre="Otro")})
        self.assertOK(a.request("DELETE", "/eliminar?" + qs(mail=rec["mail"])))
        r = b.request("GET", "/cliente?" + qs(mail=rec["mail"]))
        self.assertError(r, 404)
        a.stop()
        b.stop()

    def test_16_clients_on_each_add_5000_distinct_records(self):
        url, a, b = self.two()
        total, per_stack_clients = 5000, 16
        clients = [(st, i) for st in (a, b) for i in range(per_stack_clients)]
        bad, lock = [], threading.Lock()

        def run(st, i, k):
            for n in range(k, total, len(clients)):
                r = st.request("POST", add_path(record("lote%05d" % n, n)), timeout=30)
                if r.status != 200:
                    with lock:
                        bad.append((n, r.status, r.body[:200]))
            close_thread_connection(st)

        threads = [threading.Thread(target=run, args=(st, i, k))
                   for k, (st, i) in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        self.assertEqual(bad, [])
        self.assertEqual(count(url, "SELECT count(*) FROM clients WHERE mail LIKE 'lote%'"), total)
        self.assertEqual(count(url, "SELECT count(*) FROM clients"), total + 1)
        self.assertEqual(count(url, "SELECT count(*) FROM audit WHERE action = 'client.create'"),
                         total)
        # and both lists say so
        for st in (a, b):
            self.assertEqual(len(st.request("GET", "/clientes", timeout=60).json), total + 1)
        a.stop()
        b.stop()

    def test_the_same_mail_through_both_at_once_is_stored_once(self):
        url, a, b = self.two()
        for n in range(25):
            rec = record("carrera%02d" % n, n)
            go = threading.Barrier(2)
            got = {}

            def post(st, key):
                # each its own connection, opened before the race
                conn = st.connection(timeout=30)
                conn.connect()
                go.wait()
                try:
                    got[key] = stack.send(conn, "POST", add_path(rec))
                finally:
                    conn.close()

            ts = [threading.Thread(target=post, args=(st, k)) for k, st in (("a", a), ("b", b))]
            for t in ts:
                t.start()
            for t in ts:
                t.join(30)
            statuses = sorted(r.status for r in got.values())
            self.assertEqual(statuses, [200, 405], got)
            loser = [r for r in got.values() if r.status == 405][0]
            self.assertError(loser, 405, EXISTS)
            self.assertEqual(count(url, "SELECT count(*) FROM clients WHERE mail_key = '%s'"
                                   % rec["mail"]), 1)
            self.assertEqual(count(url, "SELECT count(*) FROM audit WHERE target_key = '%s'"
                                   % rec["mail"]), 1)
        a.stop()
        b.stop()

    def test_both_starting_at_once_on_an_empty_database(self):
        for rnd in range(3):
            url = pgcluster.new_database("arranque")
            stacks = [self.stack_on(url) for _ in range(2)]
            errors = []

            def start(st):
                try:
                    st.start()
                except AssertionError as e:
                    errors.append(e)

            ts = [threading.Thread(target=start, args=(st,)) for st in stacks]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            self.assertEqual(errors, [])
            self.assertEqual(count(url, "SELECT count(*) FROM clientes_schema"), 1)
            self.assertEqual(count(url, "SELECT version FROM clientes_schema"),
                             stack.PG_SCHEMA_VERSION)
            self.assertEqual(count(url, "SELECT count(*) FROM clients"), 1)
            for st in stacks:
                self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)),
                              {EXAMPLE_MAIL: EXAMPLE})
                st.stop()


class Load:
    """Threads making a mixed load (reads, adds, changes) until stopped,
    recording (time, status, body) of every answer; a connection error is
    recorded with status None."""

    def __init__(self, st, threads=6):
        self.st = st
        self.stop = threading.Event()
        self.answers = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, i):
        n = 0
        while not self.stop.is_set():
            n += 1
            kind = n % 3
            if kind == 0:
                method, path = "GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)
            elif kind == 1:
                method, path = "POST", add_path(record("carga%d-%d" % (i, n), n))
            else:
                method, path = "PUT", "/setDireccion?" + qs(mail=EXAMPLE_MAIL,
                                                            direccion="Calle %d" % n)
            t = time.monotonic()
            try:
                r = self.st.request(method, path, timeout=30)
                ans = (t, r.status, r)
            except OSError as e:
                ans = (t, None, e)
            with self.lock:
                self.answers.append(ans)
            time.sleep(0.005)
        close_thread_connection(self.st)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)


class Restart(PgTestCase):

    def test_database_restarted_under_load(self):
        with pgcluster.Cluster() as pg:
            url = pg.create_database("reinicio")
            st = self.stack_on(url, threads=4).start()
            self.assertTrue(st.wait_supervising())
            workers = st.worker_pids()
            self.assertEqual(len(workers), 1)
            ready_while_down = []
            with Load(st) as load:
                time.sleep(1.0)
                t_down = time.monotonic()
                pg._stop_proc()  # fast shutdown: every session terminated
                time.sleep(0.3)
                ready_while_down.append(st.request("GET", "/health/ready", fresh=True))
                alive = st.request("GET", "/health", fresh=True)
                time.sleep(1.0)
                pg.restart(down_seconds=0)  # (already down) start it again, same port
                t_back = time.monotonic()
                time.sleep(4.0)
            # The worker noticed, answered every request, and was not restarted.
            self.assertEqual(st.worker_pids(), workers, "the worker was restarted")
            self.assertTrue(st.alive())
            self.assertOK(alive, {"status": "ok"})
            r = ready_while_down[0]
            self.assertError(r, 503, NOT_ANSWERING)
            self.assertIsNotNone(r.header("Retry-After"), r)
            # grace after the restart: the worker's backoff (at most 1 s) per thread
            grace = t_back + 1.5
            during = [a for a in load.answers if t_down <= a[0] < grace]
            after = [a for a in load.answers if a[0] >= grace]
            self.assertTrue(after, "no load after the restart")
            busy = [a for a in during if a[1] == 503]
            self.assertTrue(busy, "no 503 while the database was down: %r"
                            % sorted({a[1] for a in during}))
            for t, status, r in load.answers:
                self.assertIsNotNone(status, "a connection error: %r" % (r,))
                if status >= 500:
                    self.assertEqual(status, 503, r)
                    self.assertTemporary(r)
                else:
                    self.assertIn(status, (200,), r)
            late = [(round(a[0] - t_back, 2), a[1]) for a in after if a[1] >= 500]
            self.assertEqual(late, [], "5xx once the database was back")
            self.assertOK(st.request("GET", "/health/ready"), {"status": "ok"})
            # every acknowledged add is there
            acked = [r for (_, s, r) in load.answers if s == 200]
            self.assertTrue(acked)
            st.stop()


class Crash(PgTestCase):

    def test_killed_worker_and_crashed_server_lose_no_acknowledged_write(self):
        with pgcluster.Cluster(durable=True) as pg:
            url = pg.create_database("duradero")
            st = self.stack_on(url, threads=4).start()
            self.assertTrue(st.wait_supervising())
            acked, lock, stop = [], threading.Lock(), threading.Event()

            def writer(i):
                n = 0
                while not stop.is_set():
                    n += 1
                    rec = record("dur%d-%d" % (i, n), n)
                    try:
                        r = st.request("POST", add_path(rec), timeout=30)
                    except OSError:
                        time.sleep(0.05)
                        continue
                    if r.status == 200:
                        with lock:
                            acked.append(rec["mail"])
                close_thread_connection(st)

            ts = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
            for t in ts:
                t.start()
            try:
                time.sleep(1.5)
                (worker,) = st.worker_pids()
                os.kill(worker, signal.SIGKILL)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    pids = st.worker_pids()
                    if pids and pids != [worker]:
                        break
                    time.sleep(0.05)
                self.assertNotEqual(st.worker_pids(), [worker], "no new worker")
                time.sleep(1.5)
                with lock:
                    before_crash = len(acked)
                # and the server itself crashes: immediate shutdown, recovery at start
                pg.restart(sig=signal.SIGQUIT)
                time.sleep(2.0)
            finally:
                stop.set()
                for t in ts:
                    t.join(60)
            self.assertGreater(before_crash, 0)
            self.assertGreater(len(acked), before_crash, "no write acknowledged after the crash")
            stored = set(pgcluster.psql(url, "SELECT mail FROM clients").split())
            missing = [m for m in acked if m not in stored]
            self.assertEqual(missing, [], "acknowledged writes lost")
            sys.stderr.write("\n%d acknowledged writes, all stored\n" % len(acked))
            st.stop()


class Tls(PgTestCase):

    def test_heroku_shaped_url_over_tls(self):
        with pgcluster.Cluster(ssl=True) as pg:
            admin = pg.admin_url()
            pg.psql('CREATE DATABASE "tls" OWNER %s' % pgcluster.APP_USER)
            # as Heroku gives it: no sslmode (the store's default: require)
            url = "postgres://%s:%s@127.0.0.1:%d/tls" % (pgcluster.APP_USER, pgcluster.PASSWORD,
                                                          pg.port)
            st = self.stack_on(url).start()
            self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)),
                          {EXAMPLE_MAIL: EXAMPLE})
            ssl_sessions = count(pgcluster.with_database(admin, "tls"),
                                 "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a"
                                 " USING (pid) WHERE s.ssl AND a.datname = 'tls'"
                                 " AND a.application_name LIKE 'clientes%'")
            self.assertGreaterEqual(ssl_sessions, 1)
            st.stop()
            # without TLS the server refuses, and the worker says so at start
            plain = url + "?sslmode=disable"
            st2 = NoWaitStack(db_path=plain, name="sin_tls", env={"DATABASE_OPEN_WAIT_S": "0"},
                              credentials=None)
            self._own_stacks.append(st2)
            self.addCleanup(st2.kill_group)
            st2.start()
            rc = st2.wait_exit(15)
            self.assertIsNotNone(rc, "still running with a URL the server refuses")
            self.assertNotEqual(rc, 0)
            st2.proc = None
            log = st2.log_text(max_line=2000)
            self.assertIn("no encryption", log)
            self.assertNotIn(pgcluster.PASSWORD, log)


class Dyno(PgTestCase):

    def test_postgres_on_a_dyno_serves(self):
        url = pgcluster.new_database("dyno")
        st = self.stack_on(url, env={"DYNO": "web.1"}).start()
        self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)))
        # the worker's sessions (one per thread that served) say which dyno
        self.assertGreaterEqual(count(url, "SELECT count(*) FROM pg_stat_activity"
                                           " WHERE application_name = 'clientes/web.1'"
                                           " AND datname = current_database()"), 1)
        st.stop()
        log = st.log_text(max_lines=100000)
        self.assertNotIn(pgcluster.PASSWORD, log)
        self.assertIn("postgres://clientes:***@127.0.0.1", log)
        self.assertNotIn("ephemeral", log.lower())


class SlowReader(PgTestCase):

    def test_whole_list_read_slowly_outlasts_statement_timeout(self):
        url = pgcluster.new_database("lento")
        st = self.stack_on(url, env={"DATABASE_STATEMENT_TIMEOUT_MS": "200"}).start()
        n = 5000
        self.assertEqual(st.insert_rows(("Nombre %d" % i, "Apellido", "lento%05d@example.com" % i,
                                         "1/1/1990", "Calle %d" % i) for i in range(n)), n + 1)
        s = socket.create_connection(("127.0.0.1", st.port), timeout=30)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        auth = "".join("%s: %s\r\n" % kv for kv in st.auth_headers().items())
        s.sendall(("GET /clientes HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
                   % auth).encode())
        data, t0 = bytearray(), time.monotonic()
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data.extend(chunk)
            time.sleep(0.005)
        took = time.monotonic() - t0
        s.close()
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        self.assertIn(b" 200 ", head.split(b"\r\n")[0])
        if b"chunked" in head.lower():
            out, rest = bytearray(), body
            while rest:
                size, _, rest = rest.partition(b"\r\n")
                k = int(size, 16)
                if k == 0:
                    break
                out.extend(rest[:k])
                rest = rest[k + 2:]
            body = bytes(out)
        got = json.loads(body.decode("utf-8"))
        self.assertEqual(len(got), n + 1)
        self.assertEqual(got["lento04999@example.com"]["Nombre"], "Nombre 4999")
        self.assertGreater(took, 0.4, "read too fast to mean anything (%.2f s)" % took)
        st.stop()


if __name__ == "__main__":
    stack.main()
