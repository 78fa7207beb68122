#!/usr/bin/env python3
"""test_durability.py - a worker killed with SIGKILL in the middle of a write
load loses no acknowledged write and leaves no half-written record.

Eight writers add clients with per-mail distinct values (every field carries
the mail's round/writer/counter, so a torn or mixed record cannot pass for a
good one).  Every add answered 200 is "acknowledged"; any other answer, or a
connection error, is "unknown".  The worker is SIGKILLed; bin/start-web must
then exit non-zero within 5 s (the platform restarts the process tree, which
the test does by starting a new stack on the same file).  After each restart:
every acknowledged record is there, exactly as sent, in GET /cliente and in
GET /clientes; every unknown one is either exactly there or absent; nothing
else appeared; PRAGMA integrity_check is "ok".  Two kill rounds, the second
on the database the first one left behind.

StoreFile: the database file removed, or replaced by another, under the
running service.  Writes are refused with a JSON 503 (no silent success into
a file nobody will see again), GET /health/ready names the reason, the log
says so loudly; and the next start refuses to create a new, empty store in
place of the removed one (its -wal file is kept as the sign of it)."""
import http.client
import os
import signal
import sqlite3
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE, EXAMPLE_MAIL, FIELDS, StackTestCase, legacy, qs, send  # noqa: E402

WRITERS = 8
ROUNDS = 2
LOAD_BEFORE_KILL = 1.5   # seconds of writes before the SIGKILL
EXIT_WITHIN = 5.0        # bin/start-web exits (non-zero) this soon after the kill
ADDED = {"Resultado": "Cliente a\u00f1adido con exito"}
STORAGE_DOWN = "Almacenamiento no disponible: requiere intervencion del administrador"
NOT_READY_GONE = ("Almacenamiento no disponible: el fichero de la base de datos fue borrado "
                  "o sustituido")


def record(rnd, writer, i):
    """A record whose every field says which one it is."""
    tag = "%d-%d-%d" % (rnd, writer, i)
    n = (rnd * 100003 + writer * 7919 + i)
    return {
        "nombre": "N\u00f1 %s" % tag,
        "apellidos": "Apellido %s Garc\u00eda" % tag,
        "mail": "d%s@durabilidad.example.com" % tag,
        "fecha_nacimiento": "%d/%d/%d" % (1 + n % 28, 1 + (n // 28) % 12, 1900 + n % 120),
        "direccion": "Calle %s, %d\u00baB" % (tag, n % 10),
    }


class Writers:
    """WRITERS threads adding records until stopped; each on its own
    keep-alive connection, reconnecting (with a short pause) after an error.
    A request is never retried: a failed one is recorded as unknown."""

    def __init__(self, st, rnd):
        self.st = st
        self.rnd = rnd
        self.acked = {}      # mail -> record
        self.unknown = {}    # mail -> (record, what happened)
        self.other = []      # answers that break the contract (not 200/5xx JSON)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(w,), daemon=True)
                        for w in range(WRITERS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def run(self, w):
        conn = None
        i = 0
        while not self.stop.is_set():
            i += 1
            rec = record(self.rnd, w, i)
            path = "/aniadir?" + qs(*[(k, rec[k]) for k in FIELDS])
            try:
                if conn is None:
                    conn = self.st.connection(timeout=10)
                r = send(conn, "POST", path)
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.unknown[rec["mail"]] = (rec, repr(e))
                if conn is not None:
                    conn.close()
                conn = None
                self.stop.wait(0.02)
                continue
            ok = False
            if r.status == 200:
                try:
                    ok = r.json == ADDED
                except ValueError:
                    pass
            with self.lock:
                if ok:
                    self.acked[rec["mail"]] = rec
                else:
                    self.unknown[rec["mail"]] = (rec, "HTTP %s" % r.status)
                    if r.status < 500:
                        self.other.append(r)
            if r.header("Connection") == "close":
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def halt(self, timeout=15):
        self.stop.set()
        for t in self.threads:
            t.join(timeout)
        return not any(t.is_alive() for t in self.threads)


class Durability(StackTestCase):
    per_test_stacks = True

    def integrity(self, path):
        if stack.PG:  # the server's, not ours to break: the store answers a read
            return ["ok"] if stack.pgcluster.psql(path, "SELECT count(*) FROM clients").strip() \
                else ["unreadable"]
        conn = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(path), uri=True, timeout=10)
        try:
            return [r[0] for r in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()

    def kill_worker(self, st):
        pids = st.worker_pids()
        self.assertEqual(len(pids), 1, "worker not found: %r" % st.descendants())
        os.kill(pids[0], signal.SIGKILL)
        t0 = time.monotonic()
        rc = st.wait_exit(EXIT_WITHIN)
        took = time.monotonic() - t0
        if rc is None:
            st.fail("bin/start-web still running %.0f s after its worker was killed" % EXIT_WITHIN)
        self.assertNotEqual(rc, 0, "bin/start-web exited 0 after its worker was killed")
        # what the run left (nginx stopped by start-web; the group, to be sure)
        st.kill_group()
        st.proc = None
        return rc, took

    def check_store(self, st, acked, unknown):
        """Every acknowledged record exactly there; unknown ones exactly there
        or absent; nothing else (the example client aside)."""
        everything = self.get_all()
        self.assertEqual(everything.get(EXAMPLE_MAIL), legacy(EXAMPLE))
        lost = sorted(m for m in acked if m not in everything)
        self.assertEqual(lost, [], "%d acknowledged adds lost, e.g. %r" % (len(lost), lost[:5]))
        for mail, rec in acked.items():
            self.assertEqual(everything[mail], legacy(rec), "GET /clientes: %s" % mail)
        for mail, (rec, _) in unknown.items():
            if mail in everything:
                self.assertEqual(everything[mail], legacy(rec),
                                 "unknown add %s is there but not as sent" % mail)
        extra = sorted(set(everything) - set(acked) - set(unknown) - {EXAMPLE_MAIL})
        self.assertEqual(extra, [], "records nobody added: %r" % extra[:5])

        # one by one through /cliente (lower-case keys), acknowledged and unknown
        conn = st.connection(timeout=10)
        try:
            for mail, rec in acked.items():
                r = send(conn, "GET", "/cliente?" + qs(mail=mail))
                self.assertOK(r, {mail: rec})
            for mail, (rec, _) in unknown.items():
                r = send(conn, "GET", "/cliente?" + qs(mail=mail))
                if mail in everything:
                    self.assertOK(r, {mail: rec})
                else:
                    self.assertError(r, 404, "El mail del cliente proporcionado no existe")
        finally:
            conn.close()
        return everything

    def test_killed_worker_loses_no_acknowledged_write(self):
        # WORKER_RESTART_MAX=0: exit at the first death, as the platform's
        # restart of the whole tree is what this test reproduces
        st = self.new_stack(threads=4, env={"WORKER_RESTART_MAX": "0"})
        acked, unknown = {}, {}
        report = []
        for rnd in range(1, ROUNDS + 1):
            with self.subTest(round=rnd):
                st.start()
                if rnd > 1:  # what survived the previous kill is still there
                    self.check_store(st, acked, unknown)
                w = Writers(st, rnd).start()
                time.sleep(LOAD_BEFORE_KILL)
                with w.lock:
                    acked_before_kill = len(w.acked)
                try:
                    rc, took = self.kill_worker(st)
                finally:
                    self.assertTrue(w.halt(), "writers did not stop")
                self.assertGreater(acked_before_kill, 0, "no write acknowledged before the kill")
                self.assertEqual(w.other, [], "non-5xx failures: %r" % w.other[:3])
                # an unknown mail of this round can not also be acknowledged
                self.assertFalse(set(w.acked) & set(w.unknown))
                acked.update(w.acked)
                unknown.update(w.unknown)

                self.assertEqual(self.integrity(st.db_path), ["ok"], "after the kill")
                st.start()
                stored = self.check_store(st, acked, unknown)
                self.assertEqual(self.integrity(st.db_path), ["ok"], "after the restart")
                report.append("round %d: %d acked, %d unknown (%d of them stored), "
                              "start-web exit %s %.2f s after the kill, %d clients in all"
                              % (rnd, len(w.acked), len(w.unknown),
                                 sum(1 for m in w.unknown if m in stored),
                                 rc, took, len(stored)))
                st.stop()
        sys.stderr.write("\n" + "\n".join(report) + "\n")
        self.assertEqual(self.integrity(st.db_path), ["ok"], "after the last stop")


def plain_record(mail, n):
    return {"nombre": "Nombre %d" % n, "apellidos": "Apellido %d" % n, "mail": mail,
            "fecha_nacimiento": "1/1/1990", "direccion": "Calle %d" % n}


@stack.sqlite_only("the database file removed or replaced under the service")
class StoreFile(StackTestCase):
    per_test_stacks = True

    def writes(self, mail):
        return [
            ("POST", "/aniadir?" + qs(*[(k, v) for k, v in plain_record("nuevo." + mail, 9)
                                      .items()])),
            ("PUT", "/setNombre?" + qs(mail=mail, nombre="Cambiado")),
            ("PUT", "/setDireccion?" + qs(mail=mail, direccion="Cambiada")),
            ("DELETE", "/eliminar?" + qs(mail=mail)),
        ]

    def assertStoreLost(self, st, kept):
        """Every write a permanent 503 (no Retry-After); reads, liveness
        still answer; not ready, for that reason; one loud line per refusal."""
        for method, path in self.writes(kept["mail"]):
            with self.subTest(method=method, path=path.split("?")[0]):
                r = st.request(method, path)
                self.assertError(r, 503, STORAGE_DOWN)
                self.assertIsNone(r.header("Retry-After"), r)
        self.assertOK(self.get_one(kept["mail"]), {kept["mail"]: kept})
        self.assertOK(st.request("GET", "/health"), {"status": "ok"})
        r = st.request("GET", "/health/ready")
        self.assertError(r, 503, NOT_READY_GONE)
        self.assertIsNone(r.header("Retry-After"), r)
        log = st.log_text(max_lines=100000, max_line=100000)
        self.assertIn("route=/aniadir status=503: storage error: sqlite: database file ", log)
        self.assertNotIn(kept["nombre"], log)

    def start_must_fail(self, st):
        """Starts st and waits for bin/start-web to give up; returns its code."""
        st.wait_ready = lambda timeout=None: None
        try:
            st.start()
            rc = st.wait_exit(15)
        finally:
            del st.wait_ready
        if rc is None:
            st.fail("bin/start-web still running on a removed store")
        st.kill_group()
        st.proc = None
        return rc

    def test_removed_file_refuses_writes_and_the_next_start(self):
        st = self.new_stack(threads=4).start()
        kept = plain_record("guardado@example.com", 1)
        self.add(kept)
        os.unlink(st.db_path)
        self.assertStoreLost(st, kept)
        self.assertFalse(os.path.exists(st.db_path))
        self.assertTrue(os.path.exists(st.db_path + "-wal"))
        st.stop()
        # the WAL stays: the next start refuses instead of starting over empty
        self.assertTrue(os.path.exists(st.db_path + "-wal"))
        rc = self.start_must_fail(st)
        self.assertNotEqual(rc, 0)
        self.assertFalse(os.path.exists(st.db_path), "a new store was created")
        self.assertIn("the database file is missing but its -wal file is there",
                      st.log_text(max_lines=100000, max_line=100000))

    def test_replaced_file_refuses_writes(self):
        st = self.new_stack(threads=4).start()
        kept = plain_record("guardado@example.com", 1)
        self.add(kept)
        # a copy as it is now (a backup), then one more acknowledged write
        copy = os.path.join(os.path.dirname(st.db_path), "copia.db")
        src = sqlite3.connect(st.db_path)
        dst = sqlite3.connect(copy)
        src.backup(dst)
        dst.close()
        src.close()
        later = plain_record("despues@example.com", 2)
        self.add(later)
        os.replace(copy, st.db_path)  # the copy moved over the live file
        self.assertStoreLost(st, kept)
        st.stop()
        # the old file's WAL was moved aside, so it cannot be replayed into
        # the copy: a restart serves the copy exactly as it was
        data = os.path.dirname(st.db_path)
        aside = sorted(n for n in os.listdir(data) if ".replaced-" in n)
        self.assertEqual([n.split(".replaced-")[0] for n in aside],
                         ["clientes.db-shm", "clientes.db-wal"], os.listdir(data))
        st.start()
        self.assertOK(self.get_one(kept["mail"]), {kept["mail"]: kept})
        self.assertError(self.get_one(later["mail"]), 404)
        self.assertError(self.get_one("nuevo." + kept["mail"]), 404)
        self.assertOK(st.request("GET", "/health/ready"), {"status": "ok"})
        self.add(plain_record("tras.reinicio@example.com", 3))
        st.stop()


if __name__ == "__main__":
    stack.main()
