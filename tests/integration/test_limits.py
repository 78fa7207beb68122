#!/usr/bin/env python3
"""test_limits.py - resource limits fail closed: past each one the service
answers a JSON 503, changes nothing, keeps serving what it still can, and
recovers once the resource is back.  A transient limit (a lock, too many
requests) says so with Retry-After; a store that needs an operator (full
disk, read-only file) says that instead, without Retry-After, and
GET /health/ready names the reason while GET /health (alive) stays 200.

  MaxRequests   WORKER_MAX_REQUESTS=2: two requests held in the worker (the
                store locked), the rest refused by nginx at once
  BusyWait      a write waits at most busy_timeout for the SQLite lock, reads
                are not blocked meanwhile (WAL)
  DiskFull      the database on a full tmpfs (root only; mounts one)
  ReadOnly      the database file read-only to the service (root only; runs
                bin/start-web as nobody)"""
import http.client
import os
import pwd
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE, EXAMPLE_MAIL, FIELDS, StackTestCase, legacy, qs, send  # noqa: E402

UNAVAILABLE = "Servicio no disponible temporalmente"
STORAGE_DOWN = "Almacenamiento no disponible: requiere intervencion del administrador"
NOT_FOUND = "El mail del cliente proporcionado no existe"
READY_OK = {"status": "ok"}


def record(mail, n=0):
    return {"nombre": "Nombre %d" % n, "apellidos": "Apellido %d" % n, "mail": mail,
            "fecha_nacimiento": "%d/%d/19%02d" % (1 + n % 28, 1 + n % 12, n % 100),
            "direccion": "Calle %d" % n}


def add_path(rec):
    return "/aniadir?" + qs(*[(k, rec[k]) for k in FIELDS])


def integrity(path):
    conn = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(path), uri=True, timeout=10)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


class LimitTestCase(StackTestCase):
    per_test_stacks = True

    def assertUnavailable(self, r, retry_after=None):
        """The contract's 503: JSON error shape and a Retry-After in seconds."""
        self.assertError(r, 503, UNAVAILABLE)
        retry = r.header("Retry-After")
        self.assertIsNotNone(retry, "503 without Retry-After: %r" % r)
        self.assertTrue(retry.strip().isdigit() and int(retry) >= 1, r)
        if retry_after is not None:
            self.assertEqual(retry.strip(), str(retry_after), r)

    def assertStorageDown(self, r):
        """The 503 of a store an operator must fix: no Retry-After."""
        self.assertError(r, 503, STORAGE_DOWN)
        self.assertIsNone(r.header("Retry-After"), "a permanent 503 with Retry-After: %r" % r)

    def assertNotReady(self, st, reason):
        """Alive, not ready, for that reason (and no Retry-After)."""
        self.assertOK(st.request("GET", "/health"), {"status": "ok"})
        r = st.request("GET", "/health/ready")
        self.assertError(r, 503, "Almacenamiento no disponible: " + reason)
        self.assertIsNone(r.header("Retry-After"), r)

    def writes(self, mail):
        """One request of every writing route, on mail (which exists)."""
        return [
            ("POST", add_path(record("nuevo.%s" % mail))),
            ("PUT", "/setNombre?" + qs(mail=mail, nombre="Cambiado")),
            ("PUT", "/setApellidos?" + qs(mail=mail, apellidos="Cambiado")),
            ("PUT", "/setFechaNacimiento?" + qs(mail=mail, fecha_nacimiento="2/2/2002")),
            ("PUT", "/setDireccion?" + qs(mail=mail, direccion="Cambiada")),
            ("DELETE", "/eliminar?" + qs(mail=mail)),
        ]


class MaxRequests(LimitTestCase):

    def test_past_max_requests_nginx_refuses_at_once(self):
        busy_ms, limit, fired = 1500, 2, 8
        st = self.new_stack(busy_timeout=busy_ms, threads=2,
                            env={"WORKER_MAX_REQUESTS": str(limit)}).start()
        snap, api = st.db_snapshot(), self.get_all()
        results = [None] * fired
        conns = [st.connection(timeout=15) for _ in range(fired)]
        for c in conns:
            c.connect()  # connected before the start: only the requests race
        go = threading.Barrier(fired)

        def fire(n):
            rec = record("limite%d@example.com" % n, n)
            go.wait()
            t0 = time.monotonic()
            try:
                r = send(conns[n], "POST", add_path(rec))
            except (OSError, http.client.HTTPException) as e:
                r = e
            results[n] = (time.monotonic() - t0, r)

        with st.lock_writes():
            threads = [threading.Thread(target=fire, args=(n,)) for n in range(fired)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(20)
            # every held request has been answered: the places are free again
            self.assertOK(self.get_one(EXAMPLE_MAIL), {EXAMPLE_MAIL: EXAMPLE})
        for c in conns:
            c.close()

        errors = [x for x in results if x is None or not isinstance(x[1], stack.Response)]
        self.assertEqual(errors, [], "requests without an answer")
        results.sort(key=lambda x: x[0])
        held = [(took, r) for took, r in results if r.header("Retry-After") == "1"]
        refused = [(took, r) for took, r in results if r.header("Retry-After") != "1"]
        sys.stderr.write("\n%d held in the worker (%s s), %d refused by nginx (%s s)\n"
                         % (len(held), ", ".join("%.2f" % t for t, _ in held),
                            len(refused), ", ".join("%.3f" % t for t, _ in refused)))
        # the worker's own 503 after its busy wait, for exactly `limit` of them
        self.assertEqual(len(held), limit, results)
        for took, r in held:
            self.assertUnavailable(r, retry_after=1)
            self.assertGreaterEqual(took, busy_ms / 1000 * 0.9, r)
            self.assertLess(took, busy_ms / 1000 + 1.0, r)
        # nginx's, at once, for the others
        for took, r in refused:
            self.assertUnavailable(r, retry_after=5)
            self.assertLess(took, 0.5, "nginx's 503 took %.2f s" % took)

        self.assertEqual(st.db_snapshot(), snap)
        self.assertEqual(self.get_all(), api)
        # released: everything works again
        for n in range(3):
            rec = record("libre%d@example.com" % n, n)
            self.add(rec)
            self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        self.assertOK(st.request("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Libre")))
        st.stop()


class BusyWait(LimitTestCase):

    def test_write_waits_at_most_busy_timeout_reads_go_on(self):
        busy_ms = 1000
        st = self.new_stack(busy_timeout=busy_ms, threads=4).start()
        kept = record("guardado@example.com", 7)
        self.add(kept)
        waits = []
        with self.unchanged("writes while the store was locked"):
            with st.lock_writes():
                for method, path in self.writes(kept["mail"]):
                    with self.subTest(method=method, path=path.split("?")[0]):
                        t0 = time.monotonic()
                        r = st.request(method, path, timeout=15)
                        took = time.monotonic() - t0
                        waits.append(took)
                        self.assertUnavailable(r, retry_after=1)
                        self.assertGreaterEqual(took, busy_ms / 1000 * 0.9, "no busy wait")
                        self.assertLess(took, busy_ms / 1000 + 1.0, "busy wait unbounded")

                # reads while a write is waiting for the lock (WAL: readers
                # never wait for the writer)
                waiting = {}

                def write():
                    waiting["r"] = st.request("PUT", "/setNombre?" + qs(
                        mail=kept["mail"], nombre="Esperando"), timeout=15, fresh=True)

                t = threading.Thread(target=write)
                t.start()
                time.sleep(0.2)
                reads = [("/cliente?" + qs(mail=kept["mail"]), {kept["mail"]: kept}),
                         ("/cliente?" + qs(mail=EXAMPLE_MAIL), {EXAMPLE_MAIL: EXAMPLE}),
                         ("/clientes", {EXAMPLE_MAIL: legacy(EXAMPLE),
                                        kept["mail"]: legacy(kept)}),
                         ("/health", {"status": "ok"}),
                         ("/health/ready", READY_OK)]
                slowest = 0.0
                for path, body in reads:
                    t0 = time.monotonic()
                    self.assertOK(st.request("GET", path, fresh=True), body)
                    slowest = max(slowest, time.monotonic() - t0)
                self.assertLess(slowest, 0.5, "a read waited for the lock")
                t.join(15)
                self.assertUnavailable(waiting["r"], retry_after=1)
        sys.stderr.write("\nbusy_timeout %d ms: writes answered 503 after %s s; "
                         "reads meanwhile within %.3f s\n"
                         % (busy_ms, ", ".join("%.2f" % w for w in waits), slowest))
        # free again
        self.assertOK(st.request("PUT", "/setNombre?" + qs(mail=kept["mail"], nombre="Libre")),
                      {"Resultado": "Nombre cambiado con exito"})
        st.stop()


def mount_tmpfs(size):
    """A fresh tmpfs of size bytes on a new temp dir, or a skip reason."""
    if os.geteuid() != 0:
        return None, "needs root to mount a tmpfs (runs as uid %d)" % os.geteuid()
    d = tempfile.mkdtemp(prefix="clientes-full-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0755" % size, "tmpfs", d],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        os.rmdir(d)
        return None, "cannot mount a tmpfs here: %s" % p.stdout.decode(errors="replace").strip()
    return d, None


def umount(d):
    for _ in range(50):
        if subprocess.run(["umount", d], stderr=subprocess.DEVNULL).returncode == 0:
            break
        time.sleep(0.1)  # busy: something of the stack still closing
    else:
        subprocess.run(["umount", "-l", d])
    os.rmdir(d)


@stack.sqlite_only("a full disk under the database file")
class DiskFull(LimitTestCase):

    def setUp(self):
        # room for the WAL of the 22 adds after the space comes back: each
        # writes ~9 pages (the record, its 5 sort indexes, its version, its
        # audit row and the row's index) until a checkpoint
        self.mnt, why = mount_tmpfs(2 * 1024 * 1024)
        if self.mnt is None:
            self.skipTest(why)
        # registered first, so it runs after the stack's own cleanup
        self.addCleanup(umount, self.mnt)

    def stop_stack(self):
        if self.stack is not None and self.stack.proc is not None:
            self.stack.stop()

    def test_full_disk_503_then_recovers(self):
        db = os.path.join(self.mnt, "clientes.db")
        st = self.new_stack(db_path=db, threads=2).start()
        self.addCleanup(self.stop_stack)
        worker = st.worker_pids()
        kept = [record("antes%d@example.com" % n, n) for n in range(5)]
        for rec in kept:
            self.add(rec)

        # most of the space goes to a filler, so the WAL fills the rest fast
        vfs = os.statvfs(self.mnt)
        free = vfs.f_bavail * vfs.f_frsize
        filler = os.path.join(self.mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, free - 100 * 1024))

        acked, failed, n = [], None, 0
        while failed is None and n < 2000:
            n += 1
            rec = record("lleno%04d@example.com" % n, n)
            r = st.request("POST", add_path(rec))
            if r.status == 200:
                acked.append(rec)
            else:
                failed = (rec, r)
        self.assertIsNotNone(failed, "%d writes on a full disk all succeeded" % n)
        rec, r = failed
        self.assertStorageDown(r)
        # an add writes two pages (table and index); an update of one field
        # may still fit in what is left: fill that too, each answer 200 or 503
        small = kept[1]
        for m in range(200):
            r = st.request("PUT", "/setDireccion?" + qs(mail=small["mail"], direccion="Casi %d" % m))
            if r.status != 200:
                self.assertStorageDown(r)
                break
            small["direccion"] = "Casi %d" % m
        else:
            self.fail("200 updates on a full disk all succeeded")
        sys.stderr.write("\ndisk full after %d adds (%d acknowledged) and %d updates\n"
                         % (n, len(acked), m))

        # every write now fails closed, and changes nothing
        victim = kept[0]["mail"]
        with self.unchanged("writes on a full disk"):
            for method, path in [("POST", add_path(rec))] + self.writes(victim):
                with self.subTest(method=method, path=path.split("?")[0]):
                    self.assertStorageDown(st.request(method, path))
        # ... while the rest keeps working, in the same worker; not ready
        self.assertEqual(st.worker_pids(), worker, "the worker was replaced")
        self.assertTrue(st.alive())
        self.assertNotReady(st, "disco lleno")
        for k in kept + acked:
            self.assertOK(self.get_one(k["mail"]), {k["mail"]: k})
        self.assertError(self.get_one(rec["mail"]), 404, NOT_FOUND)
        everything = self.get_all()
        self.assertEqual(len(everything), 1 + len(kept) + len(acked))

        # space back: ready, and writes succeed again, the failed one included
        os.unlink(filler)
        self.assertOK(st.request("GET", "/health/ready"), READY_OK)
        self.add(rec)
        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        for m in range(20):
            self.add(record("despues%d@example.com" % m, m))
        self.assertOK(st.request("PUT", "/setNombre?" + qs(mail=victim, nombre="Otra vez")),
                      {"Resultado": "Nombre cambiado con exito"})
        self.assertEqual(st.worker_pids(), worker)
        self.assertEqual(len(self.get_all()), 1 + len(kept) + len(acked) + 1 + 20)
        self.assertEqual(integrity(db), ["ok"])
        st.stop()
        # and the 503s were for the reason this test set up
        self.assertIn("database or disk is full", st.log_text(max_lines=100000))


@stack.sqlite_only("a database file the service may not write")
class ReadOnly(LimitTestCase):

    def test_read_only_file_reads_work_writes_503(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run bin/start-web as another user")
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user 'nobody' on this machine")
        for path in (stack.WORKER, stack.START_WEB, stack.NGINX_CONF):
            mode = os.stat(path).st_mode
            if not (stack._others_can_enter(os.path.dirname(path)) and mode & stat.S_IROTH):
                self.skipTest("%s is not reachable by other users (nobody)" % path)

        # created by the service itself (as root), then stopped
        first = self.new_stack()
        first.start()
        rec = record("solo.lectura@example.com", 3)
        self.add(rec)
        first.stop()
        data = os.path.dirname(first.db_path)
        os.chmod(data, 0o1777)
        for name in os.listdir(data):
            p = os.path.join(data, name)
            os.chown(p, 0, 0)
            os.chmod(p, 0o644)
        files = sorted(os.listdir(data))

        st = self.new_stack(db_path=first.db_path, run_as=(nobody.pw_uid, nobody.pw_gid),
                            token=first.token)
        st.start()
        for pid in st.worker_pids():
            with open("/proc/%d/status" % pid) as f:
                uid = [ln.split()[1] for ln in f if ln.startswith("Uid:")][0]
            self.assertEqual(int(uid), nobody.pw_uid, "the worker does not run as nobody")

        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        self.assertOK(self.get_one(EXAMPLE_MAIL), {EXAMPLE_MAIL: EXAMPLE})
        self.assertNotReady(st, "la base de datos es de solo lectura")
        with self.unchanged("writes to a read-only file"):
            for mail in (rec["mail"], EXAMPLE_MAIL):
                for method, path in self.writes(mail):
                    with self.subTest(method=method, path=path.split("?")[0], mail=mail):
                        self.assertStorageDown(st.request(method, path))
        self.assertEqual(self.get_all(), {rec["mail"]: legacy(rec),
                                          EXAMPLE_MAIL: legacy(EXAMPLE)})
        st.stop()
        # and the 503s were for the reason this test set up
        self.assertIn("readonly database", st.log_text(max_lines=100000))
        for name in files:
            s = os.stat(os.path.join(data, name))
            self.assertEqual((s.st_uid, stat.S_IMODE(s.st_mode)), (0, 0o644), name)
        self.assertEqual(integrity(first.db_path), ["ok"])


if __name__ == "__main__":
    stack.main()
