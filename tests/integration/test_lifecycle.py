#!/usr/bin/env python3
"""test_lifecycle.py - the stack over time: restarts keep the data, a locked
store answers 503 + Retry-After, a dead worker or nginx never leaves HTML or a
half-alive service behind, SIGTERM is graceful."""
import os
import signal
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE, EXAMPLE_MAIL, FIELDS, Stack, StackTestCase, legacy, qs  # noqa: E402

UNAVAILABLE = "Servicio no disponible temporalmente"


def record(mail, **over):
    r = {"nombre": "Ana", "apellidos": "Ruiz Gil", "mail": mail,
         "fecha_nacimiento": "1/2/1990", "direccion": "Plaza Nueva 2"}
    r.update(over)
    return r


def query(rec):
    return qs(*[(k, rec[k]) for k in FIELDS])


class PerTestStack(StackTestCase):
    """Each test starts (and owns) its stacks."""
    per_test_stacks = True

    def assertGone(self, st, timeout=10):
        """bin/start-web exits non-zero by itself within timeout, nothing of
        it survives, and the port no longer answers."""
        rc = st.wait_exit(timeout)
        if rc is None:
            st.fail("bin/start-web still running %.0f s after a child died" % timeout)
        self.assertNotEqual(rc, 0, "bin/start-web exited 0 after a child died")
        st.assert_nothing_left("after bin/start-web exited", 3)
        with self.assertRaises(OSError, msg="the port still answers after bin/start-web exited"):
            st.request("GET", "/", timeout=2, fresh=True)
        st.kill_group()
        st.proc = None
        return rc


class Restart(PerTestStack):

    def test_restart_keeps_data_and_deleted_example(self):
        st = self.new_stack().start()
        self.assertOK(self.get_one(EXAMPLE_MAIL), {EXAMPLE_MAIL: EXAMPLE})
        self.assertOK(st.request("DELETE", "/eliminar?" + qs(mail=EXAMPLE_MAIL)))
        a = record("Persistente@Example.com", nombre="Jos\u00e9 \u00d1\u00fa\u00f1ez",
                   direccion="Calle \u00d1and\u00fa 3, 2\u00baB")
        b = record("borrado@example.com")
        self.add(a)
        self.add(b)
        self.assertOK(st.request("PUT", "/setApellidos?" + qs(mail=a["mail"], apellidos="Pe\u00f1a")))
        a["apellidos"] = "Pe\u00f1a"
        self.assertOK(st.request("DELETE", "/eliminar?" + qs(mail=b["mail"])))
        before = st.db_snapshot()
        st.stop()

        for run in (2, 3):
            with self.subTest(run=run):
                st.start()
                self.assertEqual(st.db_snapshot(), before)
                self.assertOK(self.get_one(a["mail"]), {a["mail"]: a})
                self.assertError(self.get_one(EXAMPLE_MAIL), 404,
                                 "El mail del cliente proporcionado no existe")
                self.assertError(self.get_one(b["mail"]), 404,
                                 "El mail del cliente proporcionado no existe")
                self.assertEqual(self.get_all(), {a["mail"]: legacy(a)})
                # the index still shows the example as documentation only
                self.assertEqual(st.request("GET", "/").status, 200)
                st.stop()

    def test_restart_of_emptied_database_stays_empty(self):
        st = self.new_stack().start()
        self.assertOK(st.request("DELETE", "/eliminar?" + qs(mail=EXAMPLE_MAIL)))
        self.assertEqual(self.get_all(), {})
        st.stop()
        st.start()
        self.assertEqual(self.get_all(), {})
        self.assertError(st.request("GET", "/clientes"), 404, "No existen clientes actualmente")
        st.stop()


class LockedStore(PerTestStack):

    def test_locked_store_503_retry_after_then_recovers(self):
        st = self.new_stack(busy_timeout=100).start()
        rec = record("bloqueo@example.com")
        snap = st.db_snapshot()
        api = self.get_all()

        lock = sqlite3.connect(st.db_path, isolation_level=None, timeout=5)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            writes = [
                ("POST", "/aniadir?" + query(rec)),
                ("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Bloqueado")),
                ("PUT", "/setApellidos?" + qs(mail=EXAMPLE_MAIL, apellidos="Bloqueado")),
                ("PUT", "/setFechaNacimiento?" + qs(mail=EXAMPLE_MAIL, fecha_nacimiento="1/1/2000")),
                ("PUT", "/setDireccion?" + qs(mail=EXAMPLE_MAIL, direccion="Bloqueada")),
                ("DELETE", "/eliminar?" + qs(mail=EXAMPLE_MAIL)),
            ]
            for method, path in writes:
                with self.subTest(method=method, path=path.split("?")[0]):
                    t0 = time.monotonic()
                    r = st.request(method, path)
                    took = time.monotonic() - t0
                    self.assertError(r, 503, UNAVAILABLE)
                    retry = r.header("Retry-After")
                    self.assertIsNotNone(retry, "503 without Retry-After: %r" % r)
                    self.assertTrue(retry.strip().isdigit() and int(retry) >= 1, r)
                    # busy_timeout=100 ms: answered promptly, not after seconds
                    self.assertLess(took, 3.0, "503 took %.1f s" % took)
            self.assertTrue(st.alive())
        finally:
            lock.execute("ROLLBACK")
            lock.close()

        # released: nothing was written meanwhile, and writes work again
        self.assertEqual(st.db_snapshot(), snap)
        self.assertEqual(self.get_all(), api)
        self.add(rec)
        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        self.assertOK(st.request("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Libre")),
                      {"Resultado": "Nombre cambiado con exito"})
        self.assertOK(st.request("DELETE", "/eliminar?" + qs(mail=rec["mail"])),
                      {"Resultado": "Cliente eliminado con exito"})
        st.stop()


class ChildDeath(PerTestStack):

    def assertUnreachableAnswer(self, r):
        """While the worker is gone: a JSON 502/503/504 from nginx."""
        self.assertIn(r.status, (502, 503, 504), r)
        self.assertFalse(r.body.lstrip().startswith(b"<"), "HTML error page: %r" % r)
        self.assertError(r, r.status, exact_type=False)

    def kill_worker_and_watch(self, st, rec):
        pids = st.worker_pids()
        self.assertEqual(len(pids), 1, st.descendants())
        os.kill(pids[0], signal.SIGKILL)
        answers, refused = [], 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                r = st.request("GET", "/cliente?" + qs(mail=rec["mail"]), timeout=3)
            except OSError:
                refused += 1
                break
            if r.status == 200 and not answers:  # the kill has not landed yet
                time.sleep(0.01)
                continue
            answers.append(r)
            self.assertUnreachableAnswer(r)
            time.sleep(0.05)
        self.assertTrue(answers or refused, "the service kept answering 200 without its worker")
        self.assertGone(st)

    def test_dead_worker_json_502_or_refused_then_exit(self):
        st = self.new_stack().start()
        st.wait_supervising()
        rec = record("antes.de.morir@example.com")
        self.add(rec)  # committed before the kill: must survive it
        self.kill_worker_and_watch(st, rec)
        # a killed worker loses no committed write
        st.start()
        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        st.stop()

    def test_dead_worker_right_after_first_200(self):
        # the same, without giving bin/start-web time to settle after the
        # first 200: the service is up from the clients' point of view
        st = self.new_stack().start()
        self.kill_worker_and_watch(st, EXAMPLE)

    def test_dead_nginx_stops_worker_and_exits(self):
        st = self.new_stack().start()
        st.wait_supervising()
        masters = st.nginx_master_pids()
        self.assertEqual(len(masters), 1, st.descendants())
        os.kill(masters[0], signal.SIGKILL)
        self.assertGone(st)

    def test_dead_nginx_right_after_first_200(self):
        st = self.new_stack().start()
        masters = st.nginx_master_pids()
        self.assertEqual(len(masters), 1, st.descendants())
        os.kill(masters[0], signal.SIGKILL)
        self.assertGone(st)

    def test_unreachable_worker_json_from_nginx(self):
        # nginx cannot reach the worker (its socket taken away, which nginx
        # sees at once): nginx's own 502 must be the JSON shape, not HTML.
        st = self.new_stack().start()
        sock = st.worker_socket_path()
        if sock is None or not os.path.exists(sock):
            st.fail("cannot find the worker's unix socket (FCGI_LISTEN over TCP?)")
        os.rename(sock, sock + ".moved")
        try:
            r = st.request("GET", "/")
            self.assertUnreachableAnswer(r)
            self.assertIsNotNone(r.header("Retry-After"), r)
            r = st.request("POST", "/aniadir?" + query(record("sin.worker@example.com")))
            self.assertUnreachableAnswer(r)
        finally:
            os.rename(sock + ".moved", sock)
        self.assertEqual(st.request("GET", "/").status, 200)
        self.assertError(self.get_one("sin.worker@example.com"), 404)
        st.stop()


class GracefulStop(PerTestStack):

    def test_sigterm_under_load_answers_or_refuses_never_5xx(self):
        st = self.new_stack(threads=4).start()
        stop = threading.Event()
        results, lock = [], threading.Lock()

        def client(n):
            i = 0
            while not stop.is_set():
                rec = record("carga%d.%d@example.com" % (n, i))
                i += 1
                try:
                    r = st.request("POST", "/aniadir?" + query(rec), timeout=10)
                    out = (rec["mail"], r.status, r.header("Content-Type"), r.body)
                except OSError as e:
                    out = (rec["mail"], None, None, repr(e))
                with lock:
                    results.append(out)
                if out[1] is None:
                    return

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        try:
            rc, took = st.stop()
        finally:
            stop.set()
            for t in threads:
                t.join(15)
        self.assertLess(took, 10.0)
        ok = [m for m, status, _, _ in results if status == 200]
        bad = [x for x in results if x[1] is not None and x[1] != 200]
        self.assertTrue(ok, "no request succeeded before the stop")
        self.assertEqual(bad, [], "answers other than 200 while stopping")
        # every 200 is durable
        st.start()
        stored = self.get_all()
        missing = [m for m in ok if m not in stored]
        self.assertEqual(missing, [], "acknowledged writes lost across a SIGTERM")
        st.stop()


if __name__ == "__main__":
    stack.main()
