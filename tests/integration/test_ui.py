#!/usr/bin/env python3
"""test_ui.py - the browser pages over real HTTP: / sends a browser to /ui/
and keeps the JSON for everyone else; the static files (types, caching,
nosniff, only their hashed names); the pages' headers (the CSP, no-store);
the first run; every /ui/ route x {nobody, reader, editor, admin, a session
without its CSRF token, a session from another site} with the store and the
audit trail unchanged by each refusal; POST-redirect-GET; nginx's own errors
as a page for a browser; the sign-in's per-address limit; no personal value
in the logs."""
import http.cookies
import os
import re
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE_MAIL, StackTestCase  # noqa: E402

PW = "una frase de paso bastante larga"
HTML = "text/html; charset=utf-8"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FORM = "application/x-www-form-urlencoded"
COOKIE = "__Host-session"


def form(**fields):
    return urllib.parse.urlencode(fields)


class UICase(StackTestCase):
    """Sessions and page requests over one stack."""

    sources = iter("127.0.0.%d" % i for i in range(10, 250))

    def add_user(self, name, role, st=None):
        (st or self.stack).admin("user", "add", name, "--role", role, input=PW + "\n")

    def page(self, method, path, body=None, cookie=None, headers=None, st=None):
        h = {"Accept": BROWSER}
        if body is not None:
            h.update({"Content-Type": FORM, "Sec-Fetch-Site": "same-origin"})
        if cookie:
            h["Cookie"] = cookie
        h.update(headers or {})
        return (st or self.stack).request(method, path, body=body, headers=h, auth=False)

    def sign_in(self, user, st=None):
        """A session of `user` (signed in from an address of its own, clear of
        the per-address limit): (cookie, CSRF token)."""
        st = st or self.stack
        conn = st.connection(source=next(self.sources), auth=False)
        try:
            r = stack.send(conn, "POST", "/ui/entrar", form(usuario=user, clave=PW),
                           {"Content-Type": FORM, "Sec-Fetch-Site": "same-origin",
                            "Accept": BROWSER})
        finally:
            conn.close()
        self.assertEqual(r.status, 303, r)
        jar = http.cookies.SimpleCookie()
        jar.load(r.header("Set-Cookie"))
        cookie = "%s=%s" % (COOKIE, jar[COOKIE].value)
        body = self.page("GET", "/ui/clientes", cookie=cookie, st=st).body.decode()
        return cookie, re.search(r'name="csrf_token" value="([0-9a-f]+)"', body).group(1)

    def assertPage(self, r, status):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), HTML, r)
        self.assertEqual(r.header("Content-Security-Policy"), CSP, r)
        self.assertEqual(r.header("Cache-Control"), "no-store", r)
        body = r.body.decode("utf-8")
        self.assertTrue(body.startswith('<!doctype html>\n<html lang="es">'), r)
        self.assertNotIn("<script>", body)
        self.assertNotIn("style=", body)
        return body


# ---------------------------------------------------------------- / and files

class Root(UICase):

    def test_a_browser_is_sent_to_the_pages(self):
        for method in ("GET", "HEAD"):
            r = self.stack.request(method, "/", headers={"Accept": BROWSER}, auth=False)
            self.assertEqual(r.status, 303, r)
            self.assertEqual(r.header("Location"), "/ui/", r)
            self.assertEqual(r.header("Vary"), "Accept", r)
        r = self.page("GET", "/ui/")
        self.assertEqual((r.status, r.header("Location")), (303, "/ui/clientes"))

    def test_programs_keep_the_json(self):
        body = ('{"status":"OK","ejemplo":{"ruta":"/cliente?mail=ejemplo@gmail.com",'
                '"valor":{"ejemplo@gmail.com":{"Apellidos":"Mesa Gonzalez","Direccion":'
                '"Calle Paseo Moreras 39","Fecha de nacimiento":"29/06/1996","Mail":'
                '"ejemplo@gmail.com","Nombre":"Jesus"}}}}').encode()
        for accept in (None, "*/*", "application/json", "application/json, text/html"):
            r = self.stack.request("GET", "/", headers={"Accept": accept}, auth=False)
            self.assertEqual((r.status, r.body), (200, body), accept)
            self.assertEqual(r.header("Vary"), "Accept")

    def test_static_files(self):
        body = self.page("GET", "/ui/entrar").body.decode()
        urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', body)
        types = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".ico": "image/x-icon"}
        self.assertEqual(sorted(os.path.splitext(u)[1] for u in urls), [".css", ".ico", ".js"])
        conf_static = os.path.join(stack.ROOT, "conf", "static")
        for url in urls:
            m = re.fullmatch(r"/static/([a-z]+)\.([0-9a-f]{16})(\.[a-z]+)", url)
            self.assertIsNotNone(m, url)
            r = self.stack.request("GET", url, auth=False)
            self.assertEqual(r.status, 200, url)
            self.assertEqual(r.header("Content-Type"), types[m.group(3)], url)
            self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
            self.assertEqual(r.header("Cache-Control"), "public, max-age=31536000, immutable")
            with open(os.path.join(conf_static, m.group(1) + m.group(3)), "rb") as f:
                data = f.read()
            self.assertEqual(r.body, data, url)
            import hashlib
            self.assertEqual(hashlib.sha256(data).hexdigest()[:16], m.group(2), url)
            # another hash, or none, is not a name of it
            for other in (url.replace(m.group(2), "0" * 16), "/static/%s%s" % m.group(1, 3)):
                r = self.stack.request("GET", other, auth=False)
                self.assertEqual(r.status, 404, other)
                self.assertEqual(r.header("Cache-Control"), "no-store")
            r = self.stack.request("POST", url, body="", auth=False)
            self.assertEqual(r.status, 405, r)
        r = self.stack.request("GET", "/favicon.ico", auth=False)
        self.assertEqual((r.status, r.header("Content-Type")), (200, "image/x-icon"))
        self.assertEqual(r.body[:4], b"\x00\x00\x01\x00")  # an icon file

    def test_nginx_errors_are_a_page_for_a_browser(self):
        r = self.page("GET", "/static/nada.css")
        body = self.assertPage(r, 404)
        self.assertIn("<title>Página no encontrada · clientes</title>", body)
        self.assertRegex(body, r'<link rel="stylesheet" href="/static/clientes\.[0-9a-f]{16}\.css">')
        # a body larger than nginx takes: a page for a browser, JSON otherwise
        big = "x=" + "a" * 20000
        r = self.page("POST", "/ui/entrar", body=big)
        self.assertIn("Petición demasiado grande", self.assertPage(r, 413))
        r = self.stack.request("POST", "/ui/entrar", body=big, headers={"Content-Type": FORM},
                               auth=False)
        self.assertEqual(r.status, 413)
        self.assertEqual(r.json, {"mensaje": "Cuerpo de la peticion demasiado grande",
                                  "status": "413"})


# ---------------------------------------------------------------- first run

class FirstRun(UICase):
    """A store without users: the sign-in page says how to make the first."""

    def test_first_run_then_not(self):
        body = self.assertPage(self.page("GET", "/ui/entrar"), 200)
        self.assertIn("Todavía no hay ningún usuario", body)
        self.assertIn("<code>bin/clientes-admin user add NOMBRE --role admin</code>", body)
        self.add_user("ana", "admin")
        body = self.assertPage(self.page("GET", "/ui/entrar"), 200)
        self.assertNotIn("Todavía no hay ningún usuario", body)


# ---------------------------------------------------------------- who may

# Each /ui/ route: (method, path, form fields or None, the role it needs).
def routes(mail, version):
    client = dict(nombre="Ana", apellidos="Ruiz", fecha_nacimiento="1990-01-01",
                  direccion="Calle 1")
    return [
        ("GET", "/ui/clientes", None, "reader"),
        ("GET", "/ui/cliente?mail=" + urllib.parse.quote(mail), None, "reader"),
        ("GET", "/ui/exportar", None, "reader"),
        ("GET", "/ui/clientes/nuevo", None, "editor"),
        ("POST", "/ui/clientes/nuevo", dict(client, mail="nueva@example.es"), "editor"),
        ("GET", "/ui/cliente/editar?mail=" + urllib.parse.quote(mail), None, "editor"),
        ("POST", "/ui/cliente/editar", dict(client, mail=mail, version=version), "editor"),
        ("GET", "/ui/cliente/borrar?mail=" + urllib.parse.quote(mail), None, "editor"),
        ("POST", "/ui/cliente/borrar", dict(mail=mail, version=version), "editor"),
        ("GET", "/ui/importar", None, "editor"),
        ("GET", "/ui/usuarios", None, "admin"),
        ("POST", "/ui/usuarios", dict(usuario="nuevo", rol="reader", clave=PW), "admin"),
        ("POST", "/ui/usuarios/rol", dict(usuario="lector", rol="admin"), "admin"),
        ("POST", "/ui/usuarios/estado", dict(usuario="lector", activo="0"), "admin"),
        ("GET", "/ui/tokens", None, "admin"),
        ("POST", "/ui/tokens", dict(nombre="t", rol="reader"), "admin"),
        ("POST", "/ui/tokens/revocar", dict(id="1"), "admin"),
        ("GET", "/ui/auditoria", None, "admin"),
    ]


RANK = {"reader": 1, "editor": 2, "admin": 3}


class Matrix(UICase):
    """Every route x every kind of caller: the refusals change nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for name, role in (("lector", "reader"), ("editora", "editor"), ("jefa", "admin")):
            cls.stack.admin("user", "add", name, "--role", role, input=PW + "\n")

    def test_refusals(self):
        st = self.stack
        sessions = {role: self.sign_in(user) for user, role in
                    (("lector", "reader"), ("editora", "editor"), ("jefa", "admin"))}
        before = st.db_snapshot()
        for method, path, fields, need in routes(EXAMPLE_MAIL, "1"):
            body = None
            with self.subTest(path=path, method=method, who="nobody"):
                if fields is not None:
                    body = form(**fields)
                r = self.page(method, path, body=body)
                self.assertEqual(r.status, 303, r)  # to sign in, and back for a GET
                where = urllib.parse.quote(path, safe="")
                self.assertEqual(r.header("Location"), "/ui/entrar" + (
                    "?volver=" + where if method == "GET" else ""), r)
            for role, (cookie, csrf) in sessions.items():
                if RANK[role] >= RANK[need]:
                    continue
                with self.subTest(path=path, method=method, who=role):
                    if fields is not None:
                        body = form(csrf_token=csrf, **fields)
                    body_text = self.assertPage(self.page(method, path, body=body, cookie=cookie), 403)
                    self.assertIn("Su rol (%s) no permite esta operacion" % role, body_text)
            if method != "POST":
                continue
            cookie, csrf = sessions["admin"]
            with self.subTest(path=path, who="admin without the CSRF token"):
                r = self.page(method, path, body=form(**fields), cookie=cookie)
                self.assertIn("token CSRF", self.assertPage(r, 403))
            with self.subTest(path=path, who="admin, another CSRF token"):
                r = self.page(method, path, body=form(csrf_token="0" * 64, **fields), cookie=cookie)
                self.assertPage(r, 403)
            with self.subTest(path=path, who="admin, from another site"):
                r = self.page(method, path, body=form(csrf_token=csrf, **fields), cookie=cookie,
                              headers={"Sec-Fetch-Site": "cross-site",
                                       "Origin": "http://localhost:1"})
                self.assertIn("Peticion de otro sitio", self.assertPage(r, 403))
            with self.subTest(path=path, who="admin, no Sec-Fetch-Site, another Origin"):
                r = self.page(method, path, body=form(csrf_token=csrf, **fields), cookie=cookie,
                              headers={"Sec-Fetch-Site": None, "Origin": "http://localhost:1"})
                self.assertPage(r, 403)
        self.assertEqual(st.db_snapshot(), before, "a refusal changed the store")
        # the sign-out too needs the session's token and this site
        cookie, csrf = sessions["reader"]
        self.assertPage(self.page("POST", "/ui/salir", body="", cookie=cookie), 403)
        r = self.page("POST", "/ui/salir", body=form(csrf_token=csrf), cookie=cookie)
        self.assertEqual((r.status, r.header("Location")), (303, "/ui/entrar"))
        r = self.page("GET", "/ui/clientes", cookie=cookie)
        self.assertEqual(r.status, 303)  # the session is over

    def test_post_redirect_get(self):
        cookie, csrf = self.sign_in("editora")
        fields = dict(nombre="Iñaki", apellidos="Zubizarreta Ñ", mail="inaki@example.es",
                      fecha_nacimiento="1970-01-31", direccion="Kale Nagusia 5, 1º")
        r = self.page("POST", "/ui/clientes/nuevo", body=form(csrf_token=csrf, **fields),
                      cookie=cookie)
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"), "/ui/cliente?mail=inaki%40example.es")
        self.assertIn("__Host-aviso=creado; Path=/; Secure; HttpOnly; SameSite=Strict",
                      r.header("Set-Cookie"))
        self.assertEqual(r.body, b"")
        # the page it names shows the record and the confirmation, once
        r = self.page("GET", r.header("Location"), cookie=cookie + "; __Host-aviso=creado")
        body = self.assertPage(r, 200)
        self.assertIn('<p class="aviso" role="status">Cliente creado.</p>', body)
        self.assertIn("Zubizarreta Ñ", body)
        self.assertIn("31/01/1970", body)
        self.assertIn("__Host-aviso=; ", r.header("Set-Cookie"))
        # the same again: the mail exists now, the form comes back with it
        r = self.page("POST", "/ui/clientes/nuevo", body=form(csrf_token=csrf, **fields),
                      cookie=cookie)
        body = self.assertPage(r, 409)
        self.assertIn("Ya hay un cliente con ese correo electrónico", body)
        self.assertIn('value="Kale Nagusia 5, 1º"', body)
        # the stored date keeps its form when an edit does not change the day
        self.stack.request("POST", "/aniadir?" + stack.qs(
            nombre="A", apellidos="B", mail="fecha@example.es", fecha_nacimiento="8/09/1978",
            direccion="C"))
        body = self.page("GET", "/ui/cliente/editar?mail=fecha%40example.es", cookie=cookie).body
        version = re.search(rb'name="version" value="(\d+)"', body).group(1).decode()
        self.assertIn(b'value="1978-09-08"', body)
        r = self.page("POST", "/ui/cliente/editar", cookie=cookie, body=form(
            csrf_token=csrf, mail="fecha@example.es", version=version, nombre="A2",
            apellidos="B", fecha_nacimiento="1978-09-08", direccion="C"))
        self.assertEqual(r.status, 303, r)
        got = self.stack.request("GET", "/cliente?mail=fecha%40example.es").json
        self.assertEqual(got["fecha@example.es"]["fecha_nacimiento"], "8/09/1978")
        self.assertEqual(got["fecha@example.es"]["nombre"], "A2")
        # the same version again is a conflict: nothing written
        r = self.page("POST", "/ui/cliente/editar", cookie=cookie, body=form(
            csrf_token=csrf, mail="fecha@example.es", version=version, nombre="A3",
            apellidos="B", fecha_nacimiento="1978-09-08", direccion="C"))
        self.assertIn("Modificado por otra persona", self.assertPage(r, 409))
        got = self.stack.request("GET", "/cliente?mail=fecha%40example.es").json
        self.assertEqual(got["fecha@example.es"]["nombre"], "A2")
        # the audit trail names the person
        out = self.stack.admin("audit", "--client", "fecha@example.es").stdout
        self.assertIn("user:editora", out)

    def test_large_import(self):
        """A file larger than the worker reads before routing goes through
        nginx's location for the import and the handler's own read: its
        preview, then its confirmation carrying it back; past the location's
        2 MiB, nginx's page."""
        cookie, csrf = self.sign_in("editora")
        rows = ["nombre;apellidos;mail;fecha_nacimiento;direccion"]
        rows += ["Nombre %d;Apellido Ñ;lote%d@example.es;1980-01-01;Calle Larga %d" % (i, i, i)
                 for i in range(6000)]
        csv = ("\r\n".join(rows) + "\r\n").encode()
        self.assertGreater(len(csv), 300 * 1024)
        boundary = "----limite"

        def multipart(name, data, filename=None):
            disp = 'form-data; name="%s"' % name + ('; filename="%s"' % filename if filename else "")
            return (b"--" + boundary.encode() + b"\r\nContent-Disposition: " + disp.encode() +
                    b"\r\n\r\n" + data + b"\r\n--" + boundary.encode() + b"--\r\n")
        ct = {"Content-Type": "multipart/form-data; boundary=" + boundary}
        r = self.page("POST", "/ui/importar?csrf_token=" + csrf, cookie=cookie,
                      body=multipart("fichero", csv, "lote.csv"), headers=ct)
        body = self.assertPage(r, 200)
        self.assertIn("Se crearán 6000 clientes.", body)
        carry = re.search(r'name="base64" value="([^"]+)"', body).group(1)
        r = self.page("POST", "/ui/importar/confirmar?csrf_token=" + csrf, cookie=cookie,
                      body=multipart("base64", carry.encode()), headers=ct)
        self.assertEqual((r.status, r.header("Location")), (303, "/ui/clientes"), r)
        body = self.assertPage(self.page("GET", "/ui/clientes?q=lote", cookie=cookie), 200)
        self.assertIn("6000 clientes coinciden", body)
        # past what the location takes: nginx's own page, nothing stored
        r = self.page("POST", "/ui/importar?csrf_token=" + csrf, cookie=cookie,
                      body=multipart("fichero", csv * 8, "enorme.csv"), headers=ct)
        self.assertIn("Petición demasiado grande", self.assertPage(r, 413))

    def test_no_personal_value_in_the_logs(self):
        cookie, csrf = self.sign_in("editora")
        fields = dict(nombre="Marcadorúnico", apellidos="Rastro", mail="rastro.unico@example.es",
                      fecha_nacimiento="1981-07-07", direccion="Calle Rastro 9")
        self.page("POST", "/ui/clientes/nuevo", body=form(csrf_token=csrf, **fields), cookie=cookie)
        self.page("GET", "/ui/cliente?mail=rastro.unico%40example.es", cookie=cookie)
        self.page("GET", "/ui/clientes?q=Marcador", cookie=cookie)
        self.page("GET", "/ui/exportar?q=rastro", cookie=cookie)
        logs = self.stack.log_text(max_lines=100000, max_line=100000)
        for secret in ("Marcador", "rastro", "Rastro", "1981-07-07", csrf, cookie.split("=")[1],
                       PW):
            self.assertNotIn(secret, logs)


# ---------------------------------------------------------------- limits

class SignInLimit(UICase):
    """POST /ui/entrar shares the per-address limit of the logins (10 a
    minute, bursts of 10): the next is a 429 page with Retry-After, before
    the worker spends a password check on it."""

    def test_limit(self):
        conn = self.stack.connection(source="127.0.0.9", auth=False)
        statuses = []
        try:
            for _ in range(14):
                r = stack.send(conn, "POST", "/ui/entrar", form(usuario="x", clave="y" * 20),
                               {"Content-Type": FORM, "Sec-Fetch-Site": "same-origin",
                                "Accept": BROWSER})
                statuses.append(r.status)
        finally:
            conn.close()
        self.assertEqual(statuses[:11], [401] * 11, statuses)
        self.assertEqual(statuses[-1], 429, statuses)
        body = self.assertPage(r, 429)
        self.assertIn("Demasiadas peticiones", body)
        self.assertTrue(r.header("Retry-After"))
        # another address signs in as ever; the form itself is not limited
        self.assertEqual(self.page("GET", "/ui/entrar").status, 200)


if __name__ == "__main__":
    stack.main()
