#!/usr/bin/env python3
"""test_lifecycle.py - the stack over time: restarts keep the data, a locked
store answers 503 + Retry-After, a killed or hung worker is replaced while
nginx answers JSON 503s (never a 502), repeated crashes or a dead nginx end
the process and leave nothing behind, SIGTERM is graceful, a TMPDIR with a
':' works."""
import os
import signal
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

        with st.lock_writes():
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


# The policy of a single supervisor (the platform's): exit at the first death.
NO_RESTART = {"WORKER_RESTART_MAX": "0"}


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

    def test_dead_worker_without_restarts_json_or_refused_then_exit(self):
        st = self.new_stack(env=NO_RESTART).start()
        st.wait_supervising()
        rec = record("antes.de.morir@example.com")
        self.add(rec)  # committed before the kill: must survive it
        self.kill_worker_and_watch(st, rec)
        # a killed worker loses no committed write
        st.start()
        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        st.stop()

    def test_dead_worker_without_restarts_right_after_first_200(self):
        # the same, without giving clientes-web time to settle after the
        # first 200: the service is up from the clients' point of view
        st = self.new_stack(env=NO_RESTART).start()
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
        # sees at once): nginx's own error must be the JSON shape, not HTML.
        st = self.new_stack().start()
        sock = st.worker_socket_path()
        if sock is None or not os.path.exists(sock):
            st.fail("cannot find the worker's unix socket (FCGI_LISTEN over TCP?)")
        os.rename(sock, sock + ".moved")
        try:
            # nginx keeps its connections to the worker open: only new nginx
            # workers (a reload), on new client connections, connect afresh
            st.reload_nginx()
            r = st.request("GET", "/", fresh=True)
            self.assertUnreachableAnswer(r)
            self.assertIsNotNone(r.header("Retry-After"), r)
            r = st.request("POST", "/aniadir?" + query(record("sin.worker@example.com")),
                           fresh=True)
            self.assertUnreachableAnswer(r)
        finally:
            os.rename(sock + ".moved", sock)
        self.assertEqual(st.request("GET", "/").status, 200)
        self.assertError(self.get_one("sin.worker@example.com"), 404)
        st.stop()


class WorkerRestart(PerTestStack):
    """The default policy: a dead or hung worker is replaced in place."""

    def assertTemporary(self, r):
        """An answer while the worker is replaced: the JSON 503 with
        Retry-After, never nginx's 502."""
        self.assertNotEqual(r.status, 502, r)
        self.assertError(r, 503, UNAVAILABLE)
        self.assertIsNotNone(r.header("Retry-After"), r)

    def new_worker(self, st, old, timeout=10.0):
        """The pid of the worker that replaced `old`, once it runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [p for p in st.worker_pids() if p != old]
            if pids:
                st.remember_children()
                return pids[0]
            time.sleep(0.02)
        st.fail("no new worker %.0f s after pid %d died" % (timeout, old))

    def test_killed_worker_is_replaced_within_3s_json_503_meanwhile(self):
        st = self.new_stack(busy_timeout=5000, threads=2).start()
        self.assertTrue(st.wait_supervising())
        kept = record("antes.del.reinicio@example.com")
        self.add(kept)
        old = st.worker_pids()
        self.assertEqual(len(old), 1, st.descendants())
        old = old[0]
        in_flight = record("en.vuelo@example.com")
        got = {}

        # A write the worker holds when it dies: it waits for the store's
        # lock this test takes.
        with st.lock_writes():
            def post():
                got["r"] = st.request("POST", "/aniadir?" + query(in_flight), timeout=15,
                                      fresh=True)
            t = threading.Thread(target=post)
            t.start()
            self.assertTrue(stack.wait_waiting_for_lock(old), "the write never reached the worker")
            t_kill = time.monotonic()
            os.kill(old, signal.SIGKILL)
            t.join(15)
        self.assertTemporary(got["r"])

        # Then: every answer a JSON 503 until the new worker serves, soon.
        answers, served_at = [], None
        while time.monotonic() - t_kill < 10:
            r = st.request("GET", "/cliente?" + qs(mail=kept["mail"]), timeout=10, fresh=True)
            answers.append(r.status)
            if r.status == 200:
                self.assertOK(r, {kept["mail"]: kept})
                served_at = time.monotonic()
                break
            self.assertTemporary(r)
            time.sleep(0.02)
        self.assertIsNotNone(served_at, "not served again within 10 s: %r" % answers)
        self.assertLess(served_at - t_kill, 3.0, "served again %.2f s after the kill"
                        % (served_at - t_kill))
        self.assertNotIn(502, answers)

        # The same clientes-web, a new worker; the lost write was never stored
        # (SQLite: it died with the worker).  PostgreSQL's server had the
        # statement and runs it once the lock is free: stored whole, or not.
        self.assertTrue(st.alive(), "clientes-web exited after its worker died")
        new = self.new_worker(st, old)
        self.assertNotEqual(new, old)
        r = self.get_one(in_flight["mail"])
        if stack.PG and r.status == 200:
            self.assertOK(r, {in_flight["mail"]: in_flight})
            self.stack.request("DELETE", "/eliminar?" + qs(mail=in_flight["mail"]))
        else:
            self.assertError(r, 404)
        self.add(in_flight)
        self.assertOK(self.get_one(in_flight["mail"]), {in_flight["mail"]: in_flight})
        self.assertIn("restarting it", st.log_text())
        st.stop()

    def test_repeated_crashes_end_the_process_non_zero(self):
        st = self.new_stack(env={"WORKER_RESTART_MAX": "2", "WORKER_RESTART_WINDOW_S": "60"})
        st.start()
        self.assertTrue(st.wait_supervising())
        pid = st.worker_pids()[0]
        for crash in (1, 2):
            os.kill(pid, signal.SIGKILL)
            pid = self.new_worker(st, pid)
            r = st.request("GET", "/health", timeout=10, fresh=True)
            self.assertOK(r, {"status": "ok"})
            self.assertTrue(st.alive(), "exited after crash %d of the 2 allowed" % crash)
        os.kill(pid, signal.SIGKILL)  # the third within the window: too many
        self.assertGone(st)
        self.assertIn("WORKER_RESTART_MAX", st.log_text())

    def test_stopped_worker_restarted_by_the_watchdog(self):
        # nginx keeps its connections to the worker open, so requests for a
        # hung worker wait where the supervisor cannot see them: with no
        # progress, the watchdog connects to the worker itself, and a worker
        # that leaves that connection waiting for WORKER_WATCHDOG_S is hung
        st = self.new_stack(env={"WORKER_WATCHDOG_S": "1"}).start()
        self.assertTrue(st.wait_supervising())
        old = st.worker_pids()[0]
        os.kill(old, signal.SIGSTOP)
        try:
            # a request meanwhile (over a kept connection, into the stopped
            # worker): served by the new worker once the stopped one is gone
            t0 = time.monotonic()
            r = st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL), timeout=20, fresh=True)
            took = time.monotonic() - t0
        finally:
            try:
                os.kill(old, signal.SIGCONT)
            except OSError:
                pass
        self.assertOK(r, {EXAMPLE_MAIL: EXAMPLE})
        self.assertGreater(took, 0.9, "answered before the watchdog could act")
        self.assertLess(took, 6.0, "the watchdog took %.1f s" % took)
        new = self.new_worker(st, old)
        self.assertNotEqual(new, old)
        self.assertIn("watchdog", st.log_text())
        self.assertTrue(st.alive())
        # a stopped worker nobody calls is found too, by the watchdog's own
        # connection, and replaced within its seconds and a few ticks
        os.kill(new, signal.SIGSTOP)
        try:
            newer = self.new_worker(st, new, timeout=8)
        finally:
            try:
                os.kill(new, signal.SIGCONT)
            except OSError:
                pass
        self.assertNotEqual(newer, new)
        self.assertOK(self.get_one(EXAMPLE_MAIL), {EXAMPLE_MAIL: EXAMPLE})
        st.stop()


class TmpdirWithColon(PerTestStack):

    def test_tmpdir_with_a_colon_serves(self):
        # The worker's default socket lives under TMPDIR: a ':' in the path
        # must not turn it into a TCP address anywhere.
        st = self.new_stack(run_dir_name="run:9000").start()
        sock = st.worker_socket_path()
        self.assertIsNotNone(sock, "the worker holds no unix socket")
        self.assertIn("run:9000/", sock)
        rec = record("dos.puntos@example.com")
        self.add(rec)
        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        self.assertOK(st.request("GET", "/health"), {"status": "ok"})
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
