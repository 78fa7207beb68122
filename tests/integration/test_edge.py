#!/usr/bin/env python3
"""test_edge.py - what nginx (conf/) does before the worker sees a request,
over the real stack:

  SlowClients    hundreds of slow bodies and half-sent headers from one
                 address leave another address served in < 1 s (both
                 templates); the worker never waits on a slow body
  ClientAddress  the per-client limits key on the peer, not on a forgeable
                 X-Forwarded-For; with TRUSTED_PROXIES on the address the
                 proxy appended; reads are limited too (rate-limit template)
  Headers        the safety headers on every route and every error nginx
                 produces itself (503 and 429 included)
  Refusals       HTTP/0.9 closed without an answer, bodies on GET/HEAD
                 refused before they are read, TRACE's Allow equal to the
                 worker's 405 Allow on every legacy route
  AccessLog      nothing a client sent as data (query, cookies,
                 credentials, a mail in a path) reaches stdout/stderr"""
import http.client
import os
import random
import re
import resource
import selectors
import socket
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE_MAIL, FIELDS, ROOT, StackTestCase, qs, send  # noqa: E402

RATELIMIT = os.path.join(ROOT, "conf", "nginx-ratelimit.conf.template")
CONF = os.path.join(ROOT, "conf")

LEGACY_PATHS = ("/", "/cliente", "/clientes", "/aniadir", "/eliminar", "/setNombre",
                "/setApellidos", "/setFechaNacimiento", "/setDireccion", "/health")

JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
SAFETY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": JSON_CSP,
}

PER_CLIENT_AT_ONCE = 64   # limit_conn client_requests of conf/nginx.conf.template


def record(mail):
    return {"nombre": "Ana", "apellidos": "Ruiz Gil", "mail": mail,
            "fecha_nacimiento": "1/2/1990", "direccion": "Plaza Nueva 2"}


def add_path(rec):
    return "/aniadir?" + qs(*[(k, rec[k]) for k in FIELDS])


def read_conf(name):
    with open(os.path.join(CONF, name), encoding="utf-8") as f:
        return f.read()


def raise_fd_limit(need):
    """The test's own descriptors: one per slow connection."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise AssertionError("RLIMIT_NOFILE hard limit %d < %d: cannot open the slow "
                                 "connections this test needs" % (hard, need))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def victim_request(st, method, path, timeout=5):
    """One request of stack st, with its credentials, on a new connection
    from 127.0.0.2 (another client address than the attacker's 127.0.0.1);
    (seconds, Response or error)."""
    t0 = time.monotonic()
    conn = st.connection(timeout=timeout, source="127.0.0.2")
    try:
        r = send(conn, method, path)
    except (OSError, http.client.HTTPException) as e:
        r = e
    finally:
        conn.close()
    return time.monotonic() - t0, r


def _source_ports():
    """Source ports for the attacker's thousands of connections: below the
    kernel's ephemeral range, from which the other suites running meanwhile
    pick their free ports (stack.free_port) - an outgoing connection on one
    of those would make that stack's nginx fail to bind it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(max(1024, low - 22000), low)


SOURCE_PORTS = _source_ports()


def attacker_socket():
    """A TCP socket bound to 127.0.0.1 and a port of SOURCE_PORTS."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    for _ in range(200):
        try:
            s.bind(("127.0.0.1", random.choice(SOURCE_PORTS)))
            return s
        except OSError:  # in use, or in TIME_WAIT
            continue
    s.close()
    raise AssertionError("no free source port below the ephemeral range")


class SlowAttack:
    """Slow clients from 127.0.0.1, kept up until stop(): `bodies`
    connections that announce a body and send it one byte every `every`
    seconds, `heads` connections that send a header one byte every `every`
    seconds. A connection the server closes is opened again. What the server
    answers is counted by status; `unanswered_bodies()` is how many body
    senders it is still reading from without having answered."""

    def __init__(self, port, bodies, heads, body_heads, every=2.0):
        self.port = port
        self.want = {"body": bodies, "head": heads}
        self.body_heads = body_heads   # the body senders' requests, in turn
        self.opened = 0
        self.every = every
        self.sel = selectors.DefaultSelector()
        self.conns = {}           # socket -> state dict
        self.statuses = {}        # status -> count
        self.closed_by_server = {"body": 0, "head": 0}
        self.max_open = {"body": 0, "head": 0}
        self.errors = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, kind):
        s = attacker_socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", self.port))
        if kind == "body":
            first = self.body_heads[self.opened % len(self.body_heads)]
            self.opened += 1
        else:
            first = b"GET / HTTP/1.1\r\nHost: x\r\nX-Lento: "
        st = {"kind": kind, "pending": first, "next": time.monotonic() + self.every,
              "got": b"", "answered": False}
        self.conns[s] = st
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, st)

    def _close(self, s, by_server):
        st = self.conns.pop(s)
        if by_server:
            self.closed_by_server[st["kind"]] += 1
        try:
            self.sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()

    def _count(self):
        out = {"body": 0, "head": 0}
        for st in self.conns.values():
            out[st["kind"]] += 1
        return out

    def _run(self):
        try:
            while not self.stopping.is_set():
                now = time.monotonic()
                # keep the numbers up, a few dozen new connections per turn
                counts = self._count()
                for kind in ("body", "head"):
                    for _ in range(min(50, self.want[kind] - counts[kind])):
                        self._open(kind)
                counts = self._count()
                for kind in counts:
                    self.max_open[kind] = max(self.max_open[kind], counts[kind])
                for key, ev in self.sel.select(timeout=0.05):
                    s, st = key.fileobj, key.data
                    if ev & selectors.EVENT_READ:
                        try:
                            data = s.recv(65536)
                        except (BlockingIOError, InterruptedError):
                            data = None
                        except OSError:
                            data = b""
                        if data:
                            st["got"] += data
                            m = re.match(rb"HTTP/1\.[01] (\d{3})", st["got"])
                            if m and not st["answered"]:
                                st["answered"] = True
                                code = int(m.group(1))
                                with self.lock:
                                    self.statuses[code] = self.statuses.get(code, 0) + 1
                        elif data == b"":
                            self._close(s, by_server=True)
                            continue
                    if ev & selectors.EVENT_WRITE and st["pending"]:
                        try:
                            n = s.send(st["pending"])
                            st["pending"] = st["pending"][n:]
                        except (BlockingIOError, InterruptedError):
                            pass
                        except OSError:
                            self._close(s, by_server=True)
                            continue
                        if not st["pending"]:
                            self.sel.modify(s, selectors.EVENT_READ, st)
                # one more byte for every connection whose turn it is
                for s, st in list(self.conns.items()):
                    if not st["pending"] and st["next"] <= now:
                        st["next"] = now + self.every
                        try:
                            s.send(b"a")
                        except (BlockingIOError, InterruptedError):
                            pass
                        except OSError:
                            self._close(s, by_server=True)
        except Exception as e:  # reported by stop()
            self.errors.append(repr(e))

    def start(self):
        self.thread.start()
        return self

    def wait_open(self, timeout=10.0):
        """Waits until every connection is open and has sent its start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                ready = [st for st in list(self.conns.values()) if not st["pending"]]
            if len(ready) >= sum(self.want.values()):
                return True
            time.sleep(0.05)
        return False

    def unanswered_bodies(self):
        return sum(1 for st in list(self.conns.values())
                   if st["kind"] == "body" and not st["answered"] and not st["pending"])

    def stop(self):
        self.stopping.set()
        self.thread.join(10)
        for s in list(self.conns):
            self._close(s, by_server=False)
        self.sel.close()
        if self.errors:
            raise AssertionError("the attack itself failed: %r" % self.errors)


def slow_body_head(path, length=12000, headers=None):
    extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
    return ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "%sContent-Length: %d\r\n\r\n" % (path, extra, length)).encode()


class EdgeTestCase(StackTestCase):

    def assertSafetyHeaders(self, r, what=""):
        """The headers of conf/headers.conf, each exactly once, on a JSON
        response (the worker's or nginx's own)."""
        for name, value in SAFETY.items():
            self.assertEqual(r.header_all(name), [value], "%s %s: %r" % (what, name, r))
        self.assertEqual(len(r.header_all("X-Request-Id")), 1, "%s: %r" % (what, r))


# ---------------------------------------------------------------- slow clients

class SlowClients(EdgeTestCase):
    per_test_stacks = True

    def victim_served_during(self, st, attack, seconds):
        """From 127.0.0.2, a read and a write every 0.4 s while the attack
        goes on: each must be a 200 within 1 s."""
        slow, bad, n = [], [], 0
        self.worst = 0.0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            n += 1
            for method, path in (("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)),
                                 ("PUT", "/setDireccion?" + qs(mail=EXAMPLE_MAIL,
                                                               direccion="Calle %d" % n))):
                took, r = victim_request(st, method, path)
                self.worst = max(self.worst, took)
                if not isinstance(r, stack.Response) or r.status != 200:
                    bad.append((method, round(took, 2), r))
                elif took >= 1.0:
                    slow.append((method, round(took, 2)))
            time.sleep(0.4)
        return n, slow, bad

    def run_attack(self, st, refused_status):
        # 600 slow bodies on writes, 600 on reads, 600 half-sent headers
        raise_fd_limit(2000)
        heads = [slow_body_head(add_path(record("lento@example.com"))),
                 slow_body_head("/cliente?" + qs(mail=EXAMPLE_MAIL)).replace(b"POST", b"GET", 1)]
        attack = SlowAttack(st.port, bodies=1200, heads=600, body_heads=heads).start()
        try:
            self.assertTrue(attack.wait_open(), "the 1 800 slow connections did not open")
            time.sleep(1.0)  # nginx has read every header it will read
            held = attack.unanswered_bodies()
            rounds, slow, bad = self.victim_served_during(st, attack, 3.0)
            statuses = dict(attack.statuses)
            max_open = dict(attack.max_open)
        finally:
            attack.stop()
        sys.stderr.write("\nslow bodies held by nginx: %d; answers to the attacker: %r; "
                         "most open at once: %r; victim rounds: %d, slowest %.3f s\n"
                         % (held, statuses, max_open, rounds, self.worst))
        self.assertEqual(bad, [], "the other client was refused")
        self.assertEqual(slow, [], "the other client waited 1 s or more")
        self.assertGreaterEqual(rounds, 5)
        # the attack was real: the connections were there at once, and nginx
        # read no more slow bodies from one address than the per-client cap
        self.assertGreaterEqual(max_open["head"], 550, max_open)
        self.assertGreaterEqual(max_open["body"], 1100, max_open)
        self.assertLessEqual(held, PER_CLIENT_AT_ONCE, statuses)
        # the GETs refused on their header, the writes past the limits
        self.assertGreaterEqual(statuses.get(400, 0), 600, statuses)
        self.assertGreaterEqual(statuses.get(refused_status, 0), 600 - PER_CLIENT_AT_ONCE - 10,
                                statuses)
        self.assertEqual(set(statuses) - {400, refused_status, 503, 429}, set(), statuses)
        # and the service is fine afterwards, for the attacker's address too
        self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)))

    def test_default_template(self):
        st = self.new_stack().start()
        self.run_attack(st, refused_status=503)
        st.stop()

    def test_ratelimit_template(self):
        st = self.new_stack(env={"NGINX_CONF": RATELIMIT}).start()
        self.run_attack(st, refused_status=429)
        st.stop()

    def test_thousands_of_half_sent_headers(self):
        # more than nginx's old 1024 connections per worker could hold
        st = self.new_stack().start()
        raise_fd_limit(3000)
        attack = SlowAttack(st.port, bodies=0, heads=2400, body_heads=[]).start()
        try:
            opened = attack.wait_open()
            rounds, slow, bad = self.victim_served_during(st, attack, 3.0)
            max_open = dict(attack.max_open)
        finally:
            attack.stop()
        sys.stderr.write("\nhalf-sent headers open at once: %d; victim rounds: %d, slowest %.3f s\n"
                         % (max_open["head"], rounds, self.worst))
        self.assertEqual(bad, [], "the other client was refused")
        self.assertEqual(slow, [], "the other client waited 1 s or more")
        self.assertTrue(opened, "the 2 400 slow connections did not all open")
        self.assertGreaterEqual(max_open["head"], 2300, max_open)
        self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)))
        st.stop()

    def test_slow_get_bodies_refused_at_once(self):
        # the same attack with GETs: refused on their header, never read
        st = self.new_stack().start()
        raise_fd_limit(700)
        head = ("GET /cliente?%s HTTP/1.1\r\nHost: x\r\nContent-Length: 12000\r\n\r\n"
                % qs(mail=EXAMPLE_MAIL)).encode()
        attack = SlowAttack(st.port, bodies=300, heads=0, body_heads=[head]).start()
        try:
            self.assertTrue(attack.wait_open())
            time.sleep(1.0)
            held = attack.unanswered_bodies()
            statuses = dict(attack.statuses)
        finally:
            attack.stop()
        self.assertEqual(held, 0, statuses)
        self.assertEqual(set(statuses), {400}, statuses)
        self.assertGreaterEqual(statuses[400], 300, statuses)
        st.stop()

    def test_worker_never_waits_on_a_slow_body(self):
        # one worker thread: if nginx passed a body on as it arrives, that
        # thread would wait on the slow client and nobody else be served
        st = self.new_stack(threads=1).start()
        s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
        try:
            rec = record("cuerpo.lento@example.com")
            body = qs(*[(k, rec[k]) for k in FIELDS]).encode()
            s.sendall(slow_body_head("/aniadir", len(body), st.auth_headers()) + body[:5])
            time.sleep(0.5)
            for i in range(5):
                took, r = victim_request(st, "GET", "/cliente?" + qs(mail=EXAMPLE_MAIL))
                self.assertIsInstance(r, stack.Response, r)
                self.assertEqual(r.status, 200, r)
                self.assertLess(took, 1.0)
                s.sendall(body[5 + i:6 + i])
                time.sleep(0.3)
            # the rest of the body: then, and only then, the worker adds it
            self.assertError(st.request("GET", "/cliente?" + qs(mail=rec["mail"])), 404)
            s.sendall(body[10:])
            got = s.recv(4096)
            self.assertTrue(got.startswith(b"HTTP/1.1 200 "), got)
        finally:
            s.close()
        self.assertOK(st.request("GET", "/cliente?" + qs(mail=rec["mail"])), {rec["mail"]: rec})
        st.stop()


# ---------------------------------------------------------------- client address

class ClientAddress(EdgeTestCase):
    per_test_stacks = True

    def burst(self, st, n, headers_for, method="PUT"):
        out = []
        for i in range(n):
            path = "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Rafaga%d" % i)
            r = st.request(method, path, headers=headers_for(i))
            out.append(r.status)
        return out

    def logged_client(self, st, xff):
        """The client address of the access line of a request that sent
        X-Forwarded-For: xff."""
        rid = "edge-" + uuid.uuid4().hex
        st.request("GET", "/health", headers={"X-Forwarded-For": xff, "X-Request-Id": rid})
        lines = access_lines(st, rid)
        self.assertEqual(len(lines), 1, lines)
        return lines[0].split(" ", 1)[0]

    def test_forwarded_for_is_not_trusted_by_default(self):
        st = self.new_stack(env={"NGINX_CONF": RATELIMIT}).start()
        # a new made-up client address in every request
        statuses = self.burst(st, 60, lambda i: {"X-Forwarded-For": "203.0.113.%d" % (i + 1)})
        self.assertEqual(set(statuses), {200, 429}, statuses)
        self.assertLessEqual(statuses.count(200), 40, statuses)
        # and the access log names the peer, not the header's address
        self.assertEqual(self.logged_client(st, "198.51.100.7"), "127.0.0.1")
        st.stop()

    def test_trusted_proxy_names_the_client(self):
        st = self.new_stack(env={"NGINX_CONF": RATELIMIT, "TRUSTED_PROXIES": "10.1.2.0/24, 127.0.0.1"}).start()
        # one client behind the proxy exhausts its writes...
        statuses = self.burst(st, 40, lambda i: {"X-Forwarded-For": "203.0.113.5"})
        self.assertIn(429, statuses)
        self.assertEqual(statuses[:20], [200] * 20, statuses)
        # ...another one behind the same proxy is not affected, nor is one
        # whose address the proxy appended after a forged one
        for xff in ("203.0.113.6", "203.0.113.5, 203.0.113.7", "203.0.113.8, 10.1.2.3"):
            with self.subTest(xff=xff):
                r = st.request("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Otro"),
                               headers={"X-Forwarded-For": xff})
                self.assertOK(r)
        # the first is still limited when it forges an address before its own
        r = st.request("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Falso"),
                       headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.5"})
        self.assertError(r, 429)
        # the log names the client the proxy saw
        self.assertEqual(self.logged_client(st, "198.51.100.9"), "198.51.100.9")
        st.stop()

    def test_reads_are_limited_too_at_a_higher_rate(self):
        st = self.new_stack(env={"NGINX_CONF": RATELIMIT}).start()
        t0 = time.monotonic()
        answers = [st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)) for _ in range(400)]
        took = time.monotonic() - t0
        statuses = [r.status for r in answers]
        self.assertEqual(statuses[:200], [200] * 200, statuses)
        self.assertIn(429, statuses)
        self.assertLessEqual(statuses.count(200), 201 + 100 * took, "%.2f s" % took)
        refused = answers[statuses.index(429)]
        self.assertError(refused, 429)
        self.assertEqual(refused.header("Retry-After"), "1", refused)
        self.assertSafetyHeaders(refused, "429")
        # writes have their own budget
        self.assertOK(st.request("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Lectura")))
        st.stop()

    def test_bad_trusted_proxies_refused_at_start(self):
        st = self.new_stack(env={"TRUSTED_PROXIES": "10.0.0.0/8,example.com"})
        with self.assertRaises(AssertionError):
            st.start()
        self.assertIn("TRUSTED_PROXIES", st.log_text())
        st.failed = False


def log_lines(st):
    with open(st.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace").splitlines()


def access_lines(st, request_id, timeout=3.0):
    """The access lines of one request, waiting (bounded) for nginx to
    write its line once the response is out."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [ln for ln in log_lines(st) if ln.endswith(" request_id=" + request_id)]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def answer_head(port, data, timeout=5.0):
    """Sends data on a new connection; (seconds until the whole status line
    and headers of the answer arrived, those bytes) - without waiting for a
    body that a HEAD answer never has."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    try:
        s.sendall(data)
        while b"\r\n\r\n" not in got:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    finally:
        s.close()
    return time.monotonic() - t0, got


# ---------------------------------------------------------------- headers

class Headers(EdgeTestCase):

    def test_every_route_carries_them(self):
        st = self.stack
        mail = "cabeceras@example.com"
        cases = [
            ("GET", "/"), ("HEAD", "/"), ("GET", "/health"), ("HEAD", "/health"),
            ("GET", "/clientes"), ("HEAD", "/clientes"),
            ("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)), ("HEAD", "/cliente?" + qs(mail=EXAMPLE_MAIL)),
            ("POST", add_path(record(mail))),
            ("PUT", "/setNombre?" + qs(mail=mail, nombre="Otra")),
            ("PUT", "/setApellidos?" + qs(mail=mail, apellidos="Otros")),
            ("PUT", "/setFechaNacimiento?" + qs(mail=mail, fecha_nacimiento="2/3/1991")),
            ("PUT", "/setDireccion?" + qs(mail=mail, direccion="Otra 3")),
            ("DELETE", "/eliminar?" + qs(mail=mail)),
            # the worker's errors
            ("GET", "/cliente"), ("GET", "/cliente?" + qs(mail="nadie@example.com")),
            ("GET", "/no-existe"), ("DELETE", "/clientes"), ("PATCH", "/aniadir"),
            ("POST", add_path(record(EXAMPLE_MAIL))),
        ]
        for method, path in cases:
            with self.subTest(method=method, path=path):
                r = st.request(method, path)
                self.assertLess(r.status, 500, r)
                self.assertSafetyHeaders(r, "%s %s" % (method, path))

    def test_every_nginx_error_carries_them(self):
        st = self.stack
        big = "a" * 9000
        cases = {
            400: b"GET / HTTP/1.1\r\n\r\n",                                  # no Host
            405: b"TRACE /clientes HTTP/1.1\r\nHost: x\r\n\r\n",
            413: b"PUT /setNombre HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n",
            414: ("GET /cliente?mail=%s HTTP/1.1\r\nHost: x\r\n\r\n" % ("a" * 20000)).encode(),
            431: ("GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" % big).encode(),
            501: b"POST /aniadir HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            505: b"GET / HTTP/2.5\r\nHost: x\r\n\r\n",
        }
        for status, data in cases.items():
            with self.subTest(status=status):
                res = st.raw(data.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1),
                             timeout=5)
                self.assertIsNotNone(res.response, res)
                self.assertError(res.response, status)
                self.assertSafetyHeaders(res.response, str(status))
        # a body on a GET: refused by nginx
        r = st.request("GET", "/clientes", body="x=1")
        self.assertError(r, 400)
        self.assertSafetyHeaders(r, "GET with a body")

    def test_nginx_503_carries_them(self):
        st = stack.Stack(name="edge503", env={"WORKER_MAX_REQUESTS": "1"})
        self.addCleanup(st.cleanup)
        st.start()
        # a request whose body is still coming holds the one place; nginx
        # takes it once it has read that header (under load that can take a
        # while), so ask until the place is seen taken
        held, r = stack.hold_places(st, 1)
        stack.release_places(st, held)
        try:
            self.assertError(r, 503)
            self.assertEqual(r.header("Retry-After"), "5", r)
            self.assertSafetyHeaders(r, "503")
        except AssertionError:
            st.dump_log("503")
            raise
        st.stop()

    def test_csp_follows_the_content_type(self):
        # the map the HTML UI will use: checked on nginx's own config, since
        # nothing answers text/html yet
        text = read_conf("http.conf")
        m = re.search(r"map \$sent_http_content_type \$content_security_policy \{(.*?)\n\}", text, re.S)
        self.assertIsNotNone(m, "no CSP map on the content type in conf/http.conf")
        rows = dict(re.findall(r'^\s*"?([^"\s]+)"?\s+"([^"]+)";', m.group(1), re.M))
        self.assertEqual(rows.get("~^text/html"),
                         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                         "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        self.assertEqual(rows.get("default"), JSON_CSP)


# ---------------------------------------------------------------- refusals

class Refusals(EdgeTestCase):

    def test_http09_closed_without_an_answer(self):
        for line in (b"GET /\r\n", b"GET /cliente?mail=ejemplo%40gmail.com\r\n",
                     b"GET /clientes\r\n", b"GET /../etc/passwd\r\n", b"GET /%00\r\n"):
            with self.subTest(line=line):
                res = self.stack.raw(line, timeout=5)
                self.assertEqual(res.data, b"", res)
                self.assertNotIsInstance(res.error, TimeoutError, res)
        self.assertHealthy()

    def test_get_and_head_bodies_refused_before_they_are_read(self):
        st = self.stack
        for method in ("GET", "HEAD"):
            for extra in ("Content-Length: 5\r\n", "Content-Length: 0005\r\n",
                          "Transfer-Encoding: chunked\r\n"):
                with self.subTest(method=method, extra=extra), self.unchanged():
                    # the body is announced but never sent: the answer
                    # comes at once, without waiting for it
                    took, got = answer_head(st.port, ("%s /cliente?%s HTTP/1.1\r\nHost: x\r\n%s\r\n"
                                                      % (method, qs(mail=EXAMPLE_MAIL), extra)).encode())
                    self.assertTrue(got.startswith(b"HTTP/1.1 400 "), got)
                    self.assertLess(took, 1.0)
                    if method == "GET":
                        res = st.raw(("GET /clientes HTTP/1.1\r\nHost: x\r\n%s\r\n" % extra).encode())
                        self.assertError(res.response, 400, "Peticion incorrecta")
                        self.assertSafetyHeaders(res.response)
        # an empty body is no body
        r = st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL), headers={"Content-Length": "0"})
        self.assertOK(r)
        # POST, PUT and DELETE keep their form bodies
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        rec = record("cuerpo@example.com")
        self.assertOK(st.request("POST", "/aniadir", body=qs(*[(k, rec[k]) for k in FIELDS]),
                                 headers=form))
        self.assertOK(st.request("PUT", "/setNombre", body=qs(mail=rec["mail"], nombre="Eva"),
                                 headers=form))
        self.assertOK(st.request("DELETE", "/eliminar", body=qs(mail=rec["mail"]), headers=form))
        self.assertError(self.get_one(rec["mail"]), 404)

    def test_trace_allow_equals_the_worker_allow(self):
        # nginx answers TRACE itself, with the Allow of its own map; the
        # worker answers any other wrong method from its route table
        for path in LEGACY_PATHS:
            with self.subTest(path=path):
                worker = self.stack.request("PATCH", path)
                self.assertError(worker, 405)
                res = self.stack.raw(("TRACE %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                      % path).encode())
                self.assertIsNotNone(res.response, res)
                self.assertError(res.response, 405)
                self.assertIsNotNone(worker.header("Allow"), worker)
                self.assertEqual(res.response.header_all("Allow"), [worker.header("Allow")],
                                 "TRACE %s: %r, the worker: %r" % (path, res.response, worker))

    def test_431_status_line(self):
        # nginx has no reason phrase for 431 (ngx_http_status_lines stops at
        # 429): the worker answers it, and nginx passes its status line on
        for method in ("GET", "POST", "DELETE"):
            data = ("%s / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n"
                    % (method, "b" * 9000)).encode()
            res = self.stack.raw(data, timeout=5)
            self.assertTrue(res.data.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"),
                            res)
            self.assertError(res.response, 431, "Cabeceras de la peticion demasiado grandes")
        # the location is internal: no client reaches the route itself
        self.assertError(self.stack.request("GET", "/_nginx_error_431"), 404)

    def test_every_error_page_status_has_a_message(self):
        # one list of statuses nginx answers itself, one message each
        text = read_conf("http.conf")
        pages = set()
        # (their location: JSON, problem+json under /v1/, or for a browser a
        # page: $error_location)
        for line in re.findall(r"^error_page ([^/$]*)\$error_location;", text, re.M):
            pages.update(int(c) for c in re.findall(r"(?<![=\d])(\d{3})\b", line))
            pages.update(int(c) for c in re.findall(r"=(\d{3})", line))
        pages.discard(494)  # answered by the worker as 431 (test_431_status_line)
        m = re.search(r"map \$status \$error_mensaje \{(.*?)\n\}", text, re.S)
        self.assertIsNotNone(m)
        messages = {int(c) for c in re.findall(r"^\s*(\d{3})\s", m.group(1), re.M)}
        self.assertEqual(pages, messages)
        # and a title each, for the problem+json of /v1 (problem_errors.conf)
        m = re.search(r"map \$status \$error_title \{(.*?)\n\}", text, re.S)
        self.assertIsNotNone(m)
        self.assertEqual(pages, {int(c) for c in re.findall(r"^\s*(\d{3})\s", m.group(1), re.M)})
        # and one title each on the page a browser gets
        m = re.search(r"map \$status \$error_titulo \{(.*?)\n\}", read_conf("ui.conf"), re.S)
        self.assertIsNotNone(m)
        titles = {int(c) for c in re.findall(r"^\s*(\d{3})\s", m.group(1), re.M)}
        self.assertLessEqual(pages, titles)


# ---------------------------------------------------------------- access log

class AccessLog(EdgeTestCase):

    def test_no_personal_data_in_the_output(self):
        st = self.stack
        tag = uuid.uuid4().hex[:12]
        rec = {"nombre": "Nombresecreto%s" % tag, "apellidos": "Apellidoprivado%s" % tag,
               "mail": "persona.%s@ejemplo-privado.es" % tag, "fecha_nacimiento": "17/11/1931",
               "direccion": "Calle Escondida %s" % tag}
        # the stack's real token, and a session cookie that is no session
        secrets = ["sesion%s" % tag, st.token]
        headers = {"Cookie": "__Host-session=" + secrets[0], "Authorization": "Bearer " + secrets[1],
                   "Referer": "https://otro.example/?mail=" + rec["mail"]}
        ids = []

        def go(method, path, expect, logged, extra=None, **kw):
            rid = "edge-log-" + uuid.uuid4().hex
            ids.append((rid, method, logged, expect))
            hdrs = dict(headers, **(extra or {}))
            hdrs["X-Request-Id"] = rid
            r = st.request(method, path, headers=hdrs, **kw)
            self.assertEqual(r.status, expect, r)

        form = {"Content-Type": "application/x-www-form-urlencoded"}
        go("POST", add_path(rec), 200, "/aniadir")
        go("GET", "/cliente?" + qs(mail=rec["mail"]), 200, "/cliente")
        go("PUT", "/setNombre?" + qs(mail=rec["mail"], nombre=rec["nombre"] + "x"), 200, "/setNombre")
        go("PUT", "/setDireccion", 200, "/setDireccion", extra=form,
           body=qs(mail=rec["mail"], direccion=rec["direccion"] + "y"))
        go("GET", "/cliente?" + qs(mail=rec["mail"], extra=rec["apellidos"]), 200, "/cliente")
        go("GET", "/v1/clientes/" + rec["mail"], 200, "/v1/clientes/-")
        go("GET", "/v1/clientes/%s/x?%s" % (rec["mail"].replace("@", "%40"), qs(mail=rec["mail"])),
           404, "/v1/clientes/-/x")
        go("DELETE", "/eliminar?" + qs(mail=rec["mail"]), 200, "/eliminar")
        go("GET", "/cliente?" + qs(mail=rec["mail"]), 404, "/cliente")
        # every request has its access line: method, path, status, sizes,
        # times and the request id
        for rid, method, path, expect in ids:
            lines = access_lines(st, rid)
            self.assertEqual(len(lines), 1, (rid, lines))
            self.assertRegex(lines[0], r'^127\.0\.0\.1 \[[^\]]+\] "%s %s HTTP/1\.1" %d \d+ \d+ '
                             r'\d+\.\d+ upstream=\S+ ' % (method, re.escape(path), expect))
        out = "\n".join(log_lines(st))
        values = list(rec.values()) + secrets + [rec["mail"].replace("@", "%40"), tag]
        values += [qs(x=v)[2:] for v in rec.values()]
        for v in values:
            self.assertNotIn(v, out, "%r is in the output of the stack" % v)
            self.assertNotIn(v.lower(), out.lower(), "%r is in the output of the stack" % v)


if __name__ == "__main__":
    stack.main()
