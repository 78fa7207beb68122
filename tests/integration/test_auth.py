#!/usr/bin/env python3
"""test_auth.py - access control over the real stack: the authorisation
matrix (every route x every kind of credential: status, body shape,
WWW-Authenticate, and a store and audit trail unchanged by each refusal),
login throttling per account and per address, the session cookie's
attributes and life, revocation at the next request, LEGACY_AUTH=open, no
secret in any log line, the audit trail's actors, the service's pruning, and
clientes-admin end to end (a no-echo prompt on a terminal included)."""
import http.cookies
import json
import os
import re
import select
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE_MAIL, FIELDS, StackTestCase, qs  # noqa: E402

PW = "una frase de paso bastante larga"
PROBLEM_TYPE = "application/problem+json"
CHALLENGE = 'Bearer realm="clientes"'
COOKIE = "__Host-session"
NO_CREDENTIALS = "Faltan las credenciales (Authorization: Bearer <token>)"
BAD_CREDENTIALS = "Credenciales no validas"
LOGIN_FAILED = "Usuario o contrasena incorrectos"
TOKEN_RE = re.compile(r"^clt_[0-9a-f]{64}$")


def record(mail):
    return {"nombre": "Matriz", "apellidos": "De Pruebas", "mail": mail,
            "fecha_nacimiento": "3/4/1985", "direccion": "Calle Acceso 1"}


def query(rec):
    return qs(*[(k, rec[k]) for k in FIELDS])


def login_body(user, password):
    return json.dumps({"username": user, "password": password})


JSON_HDR = {"Content-Type": "application/json"}


class AuthCase(StackTestCase):
    """Helpers over one stack (self.stack)."""

    def add_user(self, name, role, password=PW, st=None):
        (st or self.stack).admin("user", "add", name, "--role", role, input=password + "\n")

    def token_id(self, label, st=None):
        out = (st or self.stack).admin("token", "list").stdout
        ids = [ln.split("\t")[0] for ln in out.splitlines()[1:] if ln.split("\t")[1] == label]
        self.assertEqual(len(ids), 1, out)
        return ids[0]

    def login(self, user, password=PW, source="127.0.0.3", expect=200, st=None):
        """POST /v1/session from `source`; (session id, csrf token) on 200."""
        st = st or self.stack
        conn = st.connection(source=source, auth=False)
        try:
            r = stack.send(conn, "POST", "/v1/session", login_body(user, password), JSON_HDR)
        finally:
            conn.close()
        self.assertEqual(r.status, expect, r)
        if expect != 200:
            return r
        jar = http.cookies.SimpleCookie()
        jar.load(r.header("Set-Cookie"))
        return jar[COOKIE].value, r.json["csrf_token"]

    def assertProblem(self, r, status, detail=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), PROBLEM_TYPE, r)
        body = r.json
        self.assertEqual(sorted(body), ["detail", "status", "title", "type"], r)
        self.assertEqual(body["status"], status, r)
        self.assertEqual(body["type"], "about:blank", r)
        self.assertIsInstance(body["title"], str)
        if detail is not None:
            self.assertEqual(body["detail"], detail, r)
        return body


# ---------------------------------------------------------------- the matrix

# The legacy routes: (method, path, parameters for a mail, the role needed).
LEGACY = [
    ("GET", "/cliente", lambda m: qs(mail=m), "reader"),
    ("GET", "/clientes", lambda m: "", "reader"),
    ("POST", "/aniadir", lambda m: query(record(m)), "editor"),
    ("DELETE", "/eliminar", lambda m: qs(mail=m), "editor"),
    ("PUT", "/setNombre", lambda m: qs(mail=m, nombre="Otro"), "editor"),
    ("PUT", "/setApellidos", lambda m: qs(mail=m, apellidos="Otros"), "editor"),
    ("PUT", "/setFechaNacimiento", lambda m: qs(mail=m, fecha_nacimiento="1/1/2000"), "editor"),
    ("PUT", "/setDireccion", lambda m: qs(mail=m, direccion="Otra 2"), "editor"),
]
PUBLIC = [("GET", "/"), ("GET", "/health"), ("GET", "/health/ready")]
CREDENTIALS = ["none", "malformed", "unknown", "expired", "revoked", "reader", "editor", "admin",
               "session", "session+csrf", "session cross-site"]


class Matrix(AuthCase):
    """Every route x every kind of credential."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        st = cls.stack
        cls.tokens = {"editor": st.token, "reader": st.make_token("reader", "lector"),
                      "admin": st.make_token("admin", "jefa"),
                      "expired": st.make_token("reader", "caduca", "--expires-in", "1s"),
                      "revoked": st.make_token("editor", "revocado")}
        ids = [ln.split("\t") for ln in st.admin("token", "list").stdout.splitlines()[1:]]
        st.admin("token", "revoke", [i for i, label, *_ in ids if label == "revocado"][0])
        st.admin("user", "add", "sesion", "--role", "editor", input=PW + "\n")
        cls.session_ = None
        cls.n = 0
        time.sleep(1.1)  # the expired token's second is over

    def session(self):
        if self.session_ is None:
            type(self).session_ = self.login("sesion")
        return self.session_

    def headers(self, cred):
        st = self.stack
        origin = "http://127.0.0.1:%d" % st.port
        if cred == "none":
            return {"Authorization": None}
        if cred == "malformed":
            return {"Authorization": "Bearer " + "x" * 20}
        if cred == "unknown":
            return {"Authorization": "Bearer clt_" + "0" * 64}
        if cred in self.tokens:
            return {"Authorization": "Bearer " + self.tokens[cred]}
        sid, csrf = self.session()
        h = {"Authorization": None, "Cookie": "tema=claro; %s=%s" % (COOKIE, sid)}
        if cred == "session":
            h.update({"Sec-Fetch-Site": "same-origin", "Origin": origin})
        elif cred == "session+csrf":
            h.update({"Sec-Fetch-Site": "same-origin", "Origin": origin, "X-CSRF-Token": csrf})
        else:
            h.update({"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example",
                      "X-CSRF-Token": csrf})
        return h

    def mail(self):
        type(self).n += 1
        return "matriz%03d@example.com" % self.n

    def refused(self, method, path, body, headers, source=None):
        """The request (from `source`, another client address), which must
        be refused and change nothing at all."""
        before = self.stack.db_snapshot(strict=True)
        if source:
            conn = self.stack.connection(source=source)
            try:
                r = stack.send(conn, method, path, body, headers)
            finally:
                conn.close()
        else:
            r = self.stack.request(method, path, body=body, headers=headers)
        self.assertGreaterEqual(r.status, 400, r)
        self.assertEqual(self.stack.db_snapshot(strict=True), before,
                         "%s %s changed the store or the audit trail: %r" % (method, path, r))
        return r

    def test_legacy_routes(self):
        st = self.stack
        for method, path, params, need in LEGACY:
            for cred in CREDENTIALS:
                with self.subTest(route="%s %s" % (method, path), credentials=cred):
                    mail = self.mail()
                    if method != "POST":
                        self.add(record(mail))
                    target = path + "?" + params(mail)
                    h = self.headers(cred)
                    if cred in ("none", "session", "session+csrf", "session cross-site"):
                        # a cookie is not a credential of the old routes
                        r = self.refused(method, target, None, h)
                        self.assertError(r, 401, NO_CREDENTIALS)
                        self.assertEqual(r.header_all("WWW-Authenticate"), [CHALLENGE], r)
                        self.assertIsNone(r.header("Set-Cookie"), r)
                    elif cred in ("malformed", "unknown", "expired", "revoked"):
                        r = self.refused(method, target, None, h)
                        self.assertError(r, 401, BAD_CREDENTIALS)
                        err = "invalid_request" if cred == "malformed" else "invalid_token"
                        self.assertEqual(r.header_all("WWW-Authenticate"),
                                         ['%s, error="%s"' % (CHALLENGE, err)], r)
                    elif cred == "reader" and need == "editor":
                        r = self.refused(method, target, None, h)
                        self.assertError(r, 403, "Su rol (reader) no permite esta operacion")
                        self.assertIsNone(r.header("WWW-Authenticate"), r)
                    else:
                        r = st.request(method, target, headers=h)
                        self.assertOK(r)

    def test_v1_me(self):
        for cred in CREDENTIALS:
            with self.subTest(credentials=cred):
                h = self.headers(cred)
                if cred in ("none", "malformed", "unknown", "expired", "revoked"):
                    r = self.refused("GET", "/v1/me", None, h)
                    self.assertProblem(r, 401, NO_CREDENTIALS if cred == "none"
                                       else BAD_CREDENTIALS)
                    self.assertTrue(r.header("WWW-Authenticate").startswith(CHALLENGE), r)
                    continue
                r = self.stack.request("GET", "/v1/me", headers=h)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("Content-Type"), stack.JSON_TYPE, r)
                me = r.json
                if cred.startswith("session"):
                    # a read: a cross-site page may cause it, and reads nothing
                    # it can see (no CORS); the CSRF token is for writes
                    self.assertEqual(me["via"], "session", r)
                    self.assertEqual(me["username"], "sesion")
                    self.assertEqual(me["role"], "editor")
                    self.assertEqual(me["csrf_token"], self.session()[1])
                else:
                    self.assertEqual(me["via"], "bearer", r)
                    self.assertEqual(me["role"], cred)
                    self.assertNotIn("csrf_token", me)
                    self.assertEqual(set(me["token"]), {"id", "label"})

    def test_v1_session(self):
        st = self.stack
        for cred in CREDENTIALS:
            with self.subTest(route="DELETE /v1/session", credentials=cred):
                h = self.headers(cred)
                if cred == "session+csrf":
                    r = st.request("DELETE", "/v1/session", headers=h)
                    self.assertEqual(r.status, 204, r)
                    self.assertEqual(r.body, b"")
                    self.assertIn("Max-Age=0", r.header("Set-Cookie"))
                    type(self).session_ = None  # logged out
                    continue
                r = self.refused("DELETE", "/v1/session", None, h)
                if cred in ("none", "malformed", "unknown", "expired", "revoked"):
                    self.assertProblem(r, 401)
                    self.assertTrue(r.header("WWW-Authenticate").startswith(CHALLENGE), r)
                elif cred == "session":
                    self.assertProblem(r, 403, "Falta el token CSRF de la sesion o no es valido")
                elif cred == "session cross-site":
                    self.assertProblem(r, 403, "Peticion de otro sitio no permitida")
                else:
                    self.assertProblem(r, 400, "Esta peticion no usa una sesion")
            with self.subTest(route="POST /v1/session", credentials=cred):
                # a login for nobody: refused alike, whatever credentials come
                # with it, and nothing written (no account to count against)
                # (from an address of its own: nginx limits logins per address)
                h = dict(self.headers(cred), **JSON_HDR)
                r = self.refused("POST", "/v1/session", login_body("nadie", PW), h,
                                 source="127.0.0.12")
                if cred == "session cross-site":
                    self.assertProblem(r, 403, "Peticion de otro sitio no permitida")
                else:
                    self.assertProblem(r, 401, LOGIN_FAILED)
                    self.assertIsNone(r.header("Set-Cookie"), r)

    def test_public_routes(self):
        for method, path in PUBLIC:
            for cred in CREDENTIALS:
                with self.subTest(route=path, credentials=cred):
                    self.assertOK(self.stack.request(method, path, headers=self.headers(cred)))
        # an unknown path under /v1 is the new API's: problem+json
        self.assertProblem(self.stack.request("GET", "/v1/nada"), 404, "Ruta no encontrada")


# ---------------------------------------------------------------- logins

class Logins(AuthCase):
    stack_kwargs = {"env": {"LOGIN_THROTTLE_S": "3"}}

    def test_account_throttle(self):
        self.add_user("ana", "reader")
        for i in range(5):
            r = self.login("ana", "no es la clave de ana", source="127.0.0.5", expect=401)
            self.assertProblem(r, 401, LOGIN_FAILED)
        # the sixth is refused whatever the password, until the window ends
        t0 = time.monotonic()
        for password in ("no es la clave de ana", PW):
            r = self.login("ana", password, source="127.0.0.5", expect=429)
            self.assertProblem(r, 429)
            self.assertTrue(1 <= int(r.header("Retry-After")) <= 3, r)
            self.assertIsNone(r.header("Set-Cookie"), r)
        # another account is not affected
        self.add_user("eva", "reader")
        self.login("eva", source="127.0.0.5")
        time.sleep(max(0.0, 3.2 - (time.monotonic() - t0)))
        sid, csrf = self.login("ana", source="127.0.0.5")
        self.assertTrue(re.fullmatch(r"[0-9a-f]{64}", sid), sid)
        # the failures and the lock-out are in the audit trail, with the address
        out = self.stack.admin("audit").stdout
        fails = [ln for ln in out.splitlines() if "\tlogin.fail\tana\t" in ln]
        self.assertEqual(len(fails), 5, out)
        self.assertIn('{"fail_count":[4,5]}', fails[0])
        self.assertTrue(fails[0].endswith("\t127.0.0.5"), fails[0])

    def test_nginx_limits_logins_per_address(self):
        answers = []
        conn = self.stack.connection(source="127.0.0.6", auth=False)
        try:
            for i in range(13):
                answers.append(stack.send(conn, "POST", "/v1/session",
                                          login_body("nadie%d" % i, PW), JSON_HDR))
        finally:
            conn.close()
        statuses = [r.status for r in answers]
        # a burst of 10 past the first, then one every 6 s
        self.assertEqual(statuses[:11], [401] * 11, statuses)
        self.assertEqual(statuses[11:], [429, 429], statuses)
        # nginx's own refusal, under /v1/ in the API's shape (conf/problem_errors.conf)
        self.assertProblem(answers[11], 429)
        self.assertEqual(answers[11].header("Retry-After"), "6", answers[11])
        # another address is not limited by it
        self.login("nadie", source="127.0.0.7", expect=401)

    def test_cookie_attributes_and_logout(self):
        self.add_user("rosa", "editor")
        conn = self.stack.connection(source="127.0.0.8", auth=False)
        try:
            r = stack.send(conn, "POST", "/v1/session", login_body("rosa", PW), JSON_HDR)
        finally:
            conn.close()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header_all("Cache-Control"), ["no-store"], r)
        body = r.json
        self.assertEqual(sorted(body), ["csrf_token", "role", "username"])
        self.assertEqual((body["username"], body["role"]), ("rosa", "editor"))
        cookies = r.header_all("Set-Cookie")
        self.assertEqual(len(cookies), 1, r)
        name, _, rest = cookies[0].partition("=")
        value, *attrs = [p.strip() for p in rest.split(";")]
        self.assertEqual(name, COOKIE)
        self.assertRegex(value, r"^[0-9a-f]{64}$")
        self.assertEqual(sorted(attrs), ["HttpOnly", "Path=/", "SameSite=Lax", "Secure"])
        # a fresh id at every login
        self.assertNotEqual(self.login("rosa", source="127.0.0.8")[0], value)
        # logout, then the next request with the cookie is refused
        h = {"Cookie": "%s=%s" % (COOKIE, value), "Authorization": None}
        self.assertEqual(self.stack.request("GET", "/v1/me", headers=h).status, 200)
        r = self.stack.request("DELETE", "/v1/session", headers=dict(
            h, **{"X-CSRF-Token": body["csrf_token"], "Sec-Fetch-Site": "same-origin"}))
        self.assertEqual(r.status, 204, r)
        r = self.stack.request("GET", "/v1/me", headers=h)
        self.assertProblem(r, 401, BAD_CREDENTIALS)
        self.assertIn("Max-Age=0", r.header("Set-Cookie"))
        # only digests are stored
        if stack.PG:
            dump = repr(self.stack.db_snapshot(strict=True))
        else:
            conn = sqlite3.connect("file:%s?mode=ro" % self.stack.db_path, uri=True)
            try:
                dump = "\n".join(conn.iterdump())
            finally:
                conn.close()
        self.assertNotIn(value, dump)
        self.assertNotIn(self.stack.token, dump)


# ---------------------------------------------------------------- tokens

class Tokens(AuthCase):

    def test_revocation_takes_effect_at_the_next_request(self):
        st = self.stack
        tok = st.make_token("editor", "pronto-revocado")
        h = {"Authorization": "Bearer " + tok}
        conn = st.connection(auth=False)  # one keep-alive connection throughout
        try:
            self.assertOK(stack.send(conn, "GET", "/cliente?" + qs(mail=EXAMPLE_MAIL), None, h))
            st.admin("token", "revoke", self.token_id("pronto-revocado"))
            r = stack.send(conn, "GET", "/cliente?" + qs(mail=EXAMPLE_MAIL), None, h)
        finally:
            conn.close()
        self.assertError(r, 401, BAD_CREDENTIALS)
        # the others still work
        self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)))

    def test_disabled_owner_and_role_cap(self):
        st = self.stack
        self.add_user("pablo", "editor")
        tok = st.make_token("editor", "de-pablo", "--user", "pablo")
        h = {"Authorization": "Bearer " + tok}
        path = "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="Jesus")
        self.assertOK(st.request("PUT", path, headers=h))
        st.admin("user", "role", "pablo", "reader")  # the token can no longer write
        self.assertError(st.request("PUT", path, headers=h), 403)
        self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL), headers=h))
        st.admin("user", "disable", "pablo")
        self.assertError(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL), headers=h), 401)
        st.admin("user", "enable", "pablo")
        self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL), headers=h))

    def test_last_used_is_recorded_not_on_every_read(self):
        st = self.stack
        tok = st.make_token("reader", "uso")
        h = {"Authorization": "Bearer " + tok}
        conn = None if stack.PG else sqlite3.connect("file:%s?mode=ro" % st.db_path, uri=True)

        def last_used():
            if stack.PG:
                return int(st.pg_query("SELECT last_used FROM tokens WHERE label = 'uso'")[0])
            return conn.execute("SELECT last_used FROM tokens WHERE label = 'uso'").fetchone()[0]

        try:
            self.assertEqual(last_used(), 0)
            self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL), headers=h))
            first = last_used()
            self.assertGreater(first, 0)
            for _ in range(20):
                time.sleep(0.05)
                self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL), headers=h))
            self.assertEqual(last_used(), first)  # within the minute: no write
        finally:
            if conn is not None:
                conn.close()


# ---------------------------------------------------------------- LEGACY_AUTH=open

class LegacyOpen(AuthCase):
    stack_kwargs = {"env": {"LEGACY_AUTH": "open"}, "credentials": None}

    def test_the_old_service_exactly_and_said_so(self):
        st = self.stack
        self.assertOK(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)))
        rec = record("abierto@example.com")
        self.assertOK(st.request("POST", "/aniadir?" + query(rec)))
        self.assertOK(st.request("DELETE", "/eliminar?" + qs(mail=rec["mail"]),
                                 headers={"Authorization": "Bearer roto"}))
        self.assertOK(st.request("GET", "/health/ready"), {"status": "ok", "legacy_auth": "open"})
        self.assertIn("LEGACY_AUTH=open", st.log_text())
        # the new API still needs credentials
        self.assertProblem(st.request("GET", "/v1/me"), 401)
        # and the audit trail says that nobody in particular did it
        out = st.admin("audit", "--client", rec["mail"]).stdout.splitlines()
        self.assertEqual([ln.split("\t")[2:4] for ln in out[1:]],
                         [["anonymous", "client.delete"], ["anonymous", "client.create"]], out)


# ---------------------------------------------------------------- secrets

class Secrets(AuthCase):
    stack_kwargs = {"env": {"LOG_LEVEL": "debug"}}

    def test_no_token_or_password_in_any_log_line(self):
        st = self.stack
        secrets = [st.token, PW, "clave equivocada de mentira"]
        self.add_user("lola", "admin")
        sid, csrf = self.login("lola")
        secrets += [sid, csrf]
        self.login("lola", secrets[2], expect=401)
        reader = st.make_token("reader", "secreto")
        secrets.append(reader)
        # a token in the URL is not a credential, and its query is not logged
        r = st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL, access_token=reader), auth=False)
        self.assertError(r, 401, NO_CREDENTIALS)
        self.assertOK(st.request("GET", "/clientes", headers={"Authorization": "Bearer " + reader}))
        self.assertError(st.request("PUT", "/setNombre?" + qs(mail=EXAMPLE_MAIL, nombre="x"),
                                    headers={"Authorization": "Bearer " + reader}), 403)
        self.assertEqual(st.request("GET", "/v1/me", headers={
            "Cookie": "%s=%s" % (COOKIE, sid), "Authorization": None}).status, 200)
        # nginx's own refusals log the request line: a burst of logins
        conn = st.connection(source="127.0.0.9", auth=False)
        try:
            for _ in range(13):
                stack.send(conn, "POST", "/v1/session?token=" + reader,
                           login_body("lola", secrets[2]), JSON_HDR)
        finally:
            conn.close()
        st.stop()
        text = st.log_text(max_lines=100000, max_line=100000)
        self.assertIn("/v1/session", text)  # the log is there
        for s in secrets:
            self.assertNotIn(s, text)
            self.assertNotIn(urllib.parse.quote(s), text)
        self.assertNotIn("clt_", text)


# ---------------------------------------------------------------- the audit trail

class Audit(AuthCase):

    def test_every_change_with_its_actor(self):
        st = self.stack
        tok_id = self.token_id("stack")
        self.add_user("nora", "editor")
        rec = record("auditado@example.com")
        rid = "auditoria-1"
        self.assertOK(st.request("POST", "/aniadir?" + query(rec), headers={"X-Request-Id": rid}))
        self.assertOK(st.request("PUT", "/setNombre?" + qs(mail=rec["mail"], nombre="Nuevo")))
        self.assertOK(st.request("DELETE", "/eliminar?" + qs(mail=rec["mail"])))
        sid, csrf = self.login("nora")
        self.assertEqual(st.request("DELETE", "/v1/session", headers={
            "Cookie": "%s=%s" % (COOKIE, sid), "X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-origin",
            "Authorization": None}).status, 204)
        other = st.make_token("reader", "otro")
        st.admin("token", "revoke", self.token_id("otro"))
        self.assertTrue(TOKEN_RE.match(other))
        rows = [ln.split("\t") for ln in st.admin("audit").stdout.splitlines()[1:]]
        seen = [(r[2], r[3], r[4]) for r in rows]  # actor, action, target; newest first
        actor = "token:%s (stack)" % tok_id
        want = [("cli", "user.create", "nora"),
                (actor, "client.create", rec["mail"]),
                (actor, "client.update", rec["mail"]),
                (actor, "client.delete", rec["mail"]),
                ("anonymous", "login.ok", "nora"),
                ("user:nora", "logout", "nora"),
                ("cli", "token.create", None),
                ("cli", "token.revoke", None)]
        got = list(reversed(seen))
        idx = 0
        for w in want:  # in this order, each with its actor
            while idx < len(got) and not (got[idx][0] == w[0] and got[idx][1] == w[1] and
                                         (w[2] is None or got[idx][2] == w[2])):
                idx += 1
            self.assertLess(idx, len(got), "%r not found in order in %r" % (w, got))
            idx += 1
        create = [r for r in rows if r[3] == "client.create" and r[4] == rec["mail"]][0]
        self.assertEqual(create[6], rid)
        self.assertEqual(create[7], "127.0.0.1")
        self.assertIn("Matriz", create[5])  # the values, for its history
        # one client's history, and a date filter
        hist = st.admin("audit", "--client", rec["mail"]).stdout.splitlines()[1:]
        self.assertEqual([h.split("\t")[3] for h in hist],
                         ["client.delete", "client.update", "client.create"], hist)
        self.assertIn('"nombre":["Matriz","Nuevo"]', hist[1])
        self.assertEqual(st.admin("audit", "--since", "2999-01-01").stdout.splitlines()[1:], [])
        self.assertEqual(len(st.admin("audit", "--limit", "2").stdout.splitlines()), 3)


class Upkeep(AuthCase):
    per_test_stacks = True

    def test_old_audit_rows_pruned_by_the_service(self):
        st = self.new_stack(env={"AUDIT_RETENTION_DAYS": "1"})
        st.admin("user", "list")  # makes the store
        # a row from years ago (rows come in the order of their time), then today's
        old = ("INSERT INTO audit(at, actor, action, target) VALUES"
               " ('2020-01-01T00:00:00.000Z', 'cli', 'user.create', 'antigua')")
        if stack.PG:
            st.pg_query(old)
        else:
            conn = sqlite3.connect(st.db_path)
            try:
                with conn:
                    conn.execute(old)
            finally:
                conn.close()
        self.add_user("vieja", "reader", st=st)
        st.start()
        # the worker's main thread prunes once it serves, then every hour
        deadline = time.monotonic() + 10
        while "audit rows older than 1 days" not in st.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn("deleted 0 expired sessions and 1 audit rows older than 1 days",
                      st.log_text())
        out = st.admin("audit").stdout
        self.assertNotIn("antigua", out)
        self.assertIn("\tvieja\t", out)


# ---------------------------------------------------------------- clientes-admin

class Admin(AuthCase):

    def run_admin(self, *args, input=None):
        return self.stack.admin(*args, input=input, check=False)

    def test_end_to_end(self):
        st = self.stack
        r = self.run_admin("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in ("user add", "user passwd", "user role", "user disable", "user list",
                    "token create", "token list", "token revoke", "audit"):
            self.assertIn("  " + cmd, r.stdout)
        # usage errors: 2 and one line
        for args in (["nada"], ["user", "add"], ["user", "add", "x"], ["token", "create", "x"],
                     ["user", "add", "x", "--role"], ["user", "list", "--raro"], []):
            r = self.run_admin(*args)
            self.assertEqual(r.returncode, 2, (args, r))
        # refusals: 1 and one line on stderr, nothing on stdout
        cases = [(["user", "add", "Mal Nombre", "--role", "reader"], PW + "\n"),
                 (["user", "add", "maria", "--role", "jefe"], PW + "\n"),
                 (["user", "add", "maria", "--role", "reader"], "corta\n"),
                 (["user", "add", "maria", "--role", "reader"], "contrasena12345\n"),
                 (["user", "add", "maria", "--role", "reader"], ""),
                 (["user", "role", "nadie", "admin"], None),
                 (["token", "revoke", "9999"], None),
                 (["token", "revoke", "uno"], None),
                 (["token", "create", "x", "--role", "reader", "--user", "nadie"], None),
                 (["token", "create", "x", "--role", "reader", "--expires-in", "10y"], None)]
        for args, stdin in cases:
            r = self.run_admin(*args, input=stdin)
            self.assertEqual(r.returncode, 1, (args, r))
            self.assertEqual(r.stdout, "", (args, r))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, (args, r.stderr))
            self.assertTrue(r.stderr.startswith("clientes-admin: error: "), r.stderr)
        r = self.run_admin("user", "add", "maria", "--role", "editor", input=PW + "\n")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        r = self.run_admin("user", "add", "maria", "--role", "editor", input=PW + "\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists", r.stderr)
        self.assertIn("maria\teditor\tactive\t", self.run_admin("user", "list").stdout)
        # a token: only it on stdout; never above its owner's role
        r = self.run_admin("token", "create", "script de maria", "--role", "editor",
                           "--user", "maria", "--expires-days", "30")
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(TOKEN_RE.match(r.stdout.rstrip("\n")), r.stdout)
        self.assertEqual(r.stdout.count("\n"), 1)
        tok = r.stdout.strip()
        r = self.run_admin("token", "create", "demasiado", "--role", "admin", "--user", "maria")
        self.assertEqual(r.returncode, 1, r)
        listing = self.run_admin("token", "list").stdout
        self.assertNotIn(tok, listing)
        self.assertNotIn(tok[4:], listing)
        row = [ln for ln in listing.splitlines() if "\tscript de maria\t" in ln][0].split("\t")
        self.assertEqual((row[2], row[3], row[7]), ("editor", "maria", "active"))
        self.assertOK(st.request("GET", "/clientes", headers={"Authorization": "Bearer " + tok}))
        # passwd: the new one logs in, the old one no longer
        new = "la nueva frase de paso de maria"
        r = self.run_admin("user", "passwd", "maria", input=new + "\n")
        self.assertEqual(r.returncode, 0, r)
        self.login("maria", new, source="127.0.0.10")
        self.login("maria", PW, source="127.0.0.10", expect=401)
        # disable: no login, the token refused
        self.assertEqual(self.run_admin("user", "disable", "maria").returncode, 0)
        self.login("maria", new, source="127.0.0.10", expect=401)
        self.assertError(st.request("GET", "/clientes", headers={"Authorization": "Bearer " + tok}),
                         401)
        self.assertIn("maria\teditor\tdisabled\t", self.run_admin("user", "list").stdout)
        # revoke by id
        self.assertEqual(self.run_admin("token", "revoke", row[0]).returncode, 0)
        self.assertIn("\trevoked", self.run_admin("token", "list").stdout)
        # the first run's token only on a store nobody can use yet
        self.assertEqual(self.run_admin("first-run").stdout, "")

    def test_password_prompt_without_echo(self):
        master, slave = os.openpty()
        p = subprocess.Popen([stack.ADMIN, "user", "add", "teclado", "--role", "reader"],
                             stdin=slave, stdout=subprocess.PIPE, stderr=slave,
                             env=self.stack.env(), cwd=self.stack.dir)
        os.close(slave)
        seen = b""

        def read_until(marker, timeout=20):
            nonlocal seen
            deadline = time.monotonic() + timeout
            while marker not in seen and time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.2)
                if ready:
                    try:
                        seen += os.read(master, 1024)
                    except OSError:
                        break
            return marker in seen

        try:
            self.assertTrue(read_until(b"Password for teclado: "), seen)
            os.write(master, (PW + "\n").encode())
            self.assertTrue(read_until(b"Again: "), seen)
            os.write(master, (PW + "\n").encode())
            self.assertEqual(p.wait(timeout=30), 0, seen)
            read_until(b"\n", timeout=1)
        finally:
            if p.poll() is None:
                p.kill()
            p.stdout.close()
            os.close(master)
        self.assertNotIn(PW.encode(), seen)  # typed without echo
        self.login("teclado", source="127.0.0.11")


if __name__ == "__main__":
    stack.main()
