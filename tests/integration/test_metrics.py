#!/usr/bin/env python3
"""test_metrics.py - GET /metrics over the real stack: the Prometheus text
format, closed to all but an admin (or a scraper on this machine with
METRICS_ACCESS=loopback), and counters that move with what happens: requests
by route and status, latency, store errors, refused logins, nginx's refusals,
a worker restart (the counters outlive it), nginx's own figures."""
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE_MAIL, StackTestCase, qs  # noqa: E402

SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (-?[0-9.e+]+|\+Inf)$')


def parse(text):
    """{(name, labels): value} of an exposition, checking every line is a
    comment or a well-formed sample of a family announced by # TYPE."""
    types, values = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line.startswith("# HELP ") or not line:
            continue
        else:
            m = SAMPLE.match(line)
            if not m:
                raise AssertionError("not a sample line: %r" % line)
            name = m.group(1)
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            if name not in types and family not in types:
                raise AssertionError("%s has no # TYPE" % name)
            values[(name, m.group(2) or "")] = float(m.group(3))
    return values


class Metrics(StackTestCase):
    per_test_stacks = True

    def scrape(self, st, token):
        r = st.request("GET", "/metrics", headers={"Authorization": "Bearer " + token})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/plain; version=0.0.4"), r)
        self.assertEqual(r.header("Cache-Control"), "no-store", r)
        return parse(r.body.decode("utf-8"))

    def test_closed_but_to_an_admin(self):
        st = self.new_stack().start()
        # the stack's editor token, none, another role: refused
        self.assertEqual(st.request("GET", "/metrics").status, 403)
        r = st.request("GET", "/metrics", auth=False)
        self.assertEqual(r.status, 401, r)
        self.assertIn("Bearer", r.header("WWW-Authenticate") or "")
        reader = st.make_token("reader", "lector")
        self.assertEqual(st.request("GET", "/metrics",
                                    headers={"Authorization": "Bearer " + reader}).status, 403)
        admin = st.make_token("admin", "prometheus")
        self.scrape(st, admin)
        st.stop()

    def test_loopback_scraper_when_configured(self):
        st = self.new_stack(env={"METRICS_ACCESS": "loopback",
                                 "TRUSTED_PROXIES": "127.0.0.1"}).start()
        r = st.request("GET", "/metrics", auth=False)  # the test runs on this machine
        self.assertEqual(r.status, 200, r)
        parse(r.body.decode("utf-8"))
        # a client behind a trusted proxy is not on this machine
        r = st.request("GET", "/metrics", auth=False,
                       headers={"X-Forwarded-For": "203.0.113.5"})
        self.assertEqual(r.status, 401, r)
        # nginx's own status page answers this machine only
        r = st.request("GET", "/_nginx_status", auth=False,
                       headers={"X-Forwarded-For": "203.0.113.5"})
        self.assertEqual(r.status, 403, r)
        st.stop()

    def test_counters_move(self):
        st = self.new_stack(busy_timeout=200, env={"CLIENT_MAX_REQUESTS": "2"}).start()
        admin = st.make_token("admin", "prometheus")
        before = self.scrape(st, admin)
        key = ("clientes_requests_total", '{route="/cliente",status="200"}')
        for _ in range(5):
            self.assertEqual(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)).status, 200)
        self.assertEqual(st.request("GET", "/cliente?" + qs(mail="nadie@example.com")).status,
                         404)
        self.assertEqual(st.request("GET", "/no/existe").status, 404)
        # a store error: the store locked past the busy timeout
        with st.lock_writes():
            r = st.request("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Bloqueado"))
            self.assertEqual(r.status, 503, r)
        # a refused login
        r = st.request("POST", "/v1/session", body=b'{"username":"nadie","password":"una clave '
                       b'que no vale"}', headers={"Content-Type": "application/json"}, auth=False)
        self.assertEqual(r.status, 401, r)
        # nginx's refusals: two bodies still arriving hold this address's two
        # places (CLIENT_MAX_REQUESTS), so a third request at once is refused
        held, r = stack.hold_places(st, 2)
        freed = stack.release_places(st, held)
        self.assertEqual(r.status, 503, "no place was ever held: %r" % r)
        self.assertEqual(freed.status, 200, "the places were never let go: %r" % freed)
        after = self.scrape(st, admin)
        self.assertEqual(after.get(key, 0) - before.get(key, 0), 5)
        self.assertGreaterEqual(after.get(("clientes_requests_total",
                                           '{route="/cliente",status="404"}'), 0), 1)
        self.assertGreaterEqual(after.get(("clientes_requests_total",
                                           '{route="none",status="404"}'), 0), 1)
        self.assertGreater(after[("clientes_request_duration_seconds_count", "")],
                           before[("clientes_request_duration_seconds_count", "")])
        self.assertGreater(after[("clientes_store_errors_total", '{kind="busy"}')],
                           before[("clientes_store_errors_total", '{kind="busy"}')])
        self.assertEqual(after[("clientes_login_failures_total", "")]
                         - before[("clientes_login_failures_total", "")], 1)
        self.assertEqual(after[("clientes_store_up", "")], 1)
        self.assertEqual(after[("clientes_nginx_up", "")], 1)
        self.assertGreater(after[("clientes_nginx_requests_total", "")],
                           before[("clientes_nginx_requests_total", "")])
        deadline = time.monotonic() + 8  # the supervisor counts them as it reads nginx's log
        while time.monotonic() < deadline:
            after = self.scrape(st, admin)
            if after[("clientes_nginx_refusals_total", '{kind="limiting connections"}')] > 0:
                break
            time.sleep(0.2)
        self.assertGreater(
            after[("clientes_nginx_refusals_total", '{kind="limiting connections"}')], 0)
        # a worker restart is counted, and the counters outlive it
        (worker,) = st.worker_pids()
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pids = st.worker_pids()
            if pids and pids != [worker] and st.request("GET", "/health").status == 200:
                break
            time.sleep(0.05)
        st.remember_children()
        later = self.scrape(st, admin)
        self.assertEqual(later[("clientes_worker_restarts_total", "")], 1)
        self.assertGreaterEqual(later[key], after[key])
        st.stop()


if __name__ == "__main__":
    stack.main()
