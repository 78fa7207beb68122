#!/usr/bin/env python3
"""test_contract.py - the HTTP contract of docs/API.md, over the
real stack: the old service's own test scenario in its order, every route,
every row of the error table, the headers.  Run twice (CMake): with the
stack's editor token under the default LEGACY_AUTH=token, and without any
credentials under LEGACY_AUTH=open (IT_LEGACY_AUTH=open), the old service
exactly.  Paths under /v1/ are the new API's (problem+json), not this
contract's."""
import datetime
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE, EXAMPLE_MAIL, FIELDS, StackTestCase, legacy, qs  # noqa: E402

INDEX_BODY = {
    "status": "OK",
    "ejemplo": {
        "ruta": "/cliente?mail=ejemplo@gmail.com",
        "valor": {
            "ejemplo@gmail.com": {
                "Apellidos": "Mesa Gonzalez",
                "Direccion": "Calle Paseo Moreras 39",
                "Fecha de nacimiento": "29/06/1996",
                "Mail": "ejemplo@gmail.com",
                "Nombre": "Jesus",
            }
        },
    },
}

ADDED = {"Resultado": "Cliente a\u00f1adido con exito"}
DELETED = {"Resultado": "Cliente eliminado con exito"}
NO_MAIL = "El mail del cliente proporcionado no existe"
NO_MAIL_DELETE = "El mail del cliente a borrar no existe"
NO_CLIENTS = "No existen clientes actualmente"
EXISTS = "El mail del cliente proporcionado ya existe"
NO_ROUTE = "Ruta no encontrada"
NO_METHOD = "Metodo no permitido"
UNAVAILABLE = "Servicio no disponible temporalmente"

# route -> (the parameter it changes, its field, the "Resultado" text)
SETTERS = {
    "/setNombre": ("nombre", "Nombre cambiado con exito"),
    "/setApellidos": ("apellidos", "Apellidos cambiados con exito"),
    "/setFechaNacimiento": ("fecha_nacimiento", "Fecha de nacimiento cambiada con exito"),
    "/setDireccion": ("direccion", "Direccion cambiada con exito"),
}
NEW_VALUES = {
    "nombre": "Jose Antonio",
    "apellidos": "Garcia Lorca",
    "fecha_nacimiento": "1978-09-08",
    "direccion": "Avenida de la Constitucion 1",
}

PEPE = {
    "nombre": "Pepe",
    "apellidos": "Perez Lopez",
    "mail": "pepe@gmail.com",
    "fecha_nacimiento": "8/09/1978",
    "direccion": "Calle Mayor 1",
}


def record(mail, **over):
    r = {"nombre": "Ana", "apellidos": "Ruiz Gil", "mail": mail,
         "fecha_nacimiento": "1/2/1990", "direccion": "Plaza Nueva 2"}
    r.update(over)
    return r


def query(rec, order=FIELDS):
    return qs(*[(k, rec[k]) for k in order if k in rec])


class LegacyScenario(StackTestCase):
    """The old Flask service's HTTP test, step by step and in its order, on a
    new database."""

    def test_scenario_in_order(self):
        s = self.stack
        # 1. the example client is there on a new database, and goes.
        r = s.request("DELETE", "/eliminar?mail=ejemplo@gmail.com")
        self.assertOK(r, DELETED)
        # 2. it is gone
        r = s.request("GET", "/cliente?mail=ejemplo@gmail.com")
        self.assertError(r, 404, NO_MAIL)
        # 3. the list is empty: 404
        r = s.request("GET", "/clientes")
        self.assertError(r, 404, NO_CLIENTS)
        # 4. add Pepe
        r = s.request("POST", "/aniadir?" + query(PEPE))
        self.assertOK(r, ADDED)
        # 5. all five fields, lower-case keys, under the mail
        r = s.request("GET", "/cliente?" + qs(mail=PEPE["mail"]))
        self.assertOK(r, {PEPE["mail"]: PEPE})
        # 6. the index
        r = s.request("GET", "/")
        self.assertOK(r, INDEX_BODY)
        # 7. every setter answers 200 and its change is visible
        expected = dict(PEPE)
        for path, (param, done) in SETTERS.items():
            with self.subTest(setter=path):
                r = s.request("PUT", path + "?" + qs(mail=PEPE["mail"], **{param: NEW_VALUES[param]}))
                self.assertOK(r, {"Resultado": done})
                expected[param] = NEW_VALUES[param]
                r = s.request("GET", "/cliente?" + qs(mail=PEPE["mail"]))
                self.assertOK(r, {PEPE["mail"]: expected})
        self.assertEqual(self.get_all(), {PEPE["mail"]: legacy(expected)})
        # 8. every setter on an unknown mail: 404, nothing changes
        for path, (param, _) in SETTERS.items():
            with self.subTest(setter=path, mail="unknown"):
                with self.unchanged(path):
                    r = s.request("PUT", path + "?" + qs(mail="nadie@gmail.com",
                                                         **{param: NEW_VALUES[param]}))
                    self.assertError(r, 404, NO_MAIL)


class Contract(StackTestCase):
    """Routes and the error table on one stack; each test uses its own mails."""

    # -- routes --------------------------------------------------------------

    def test_index_exact_body(self):
        r = self.stack.request("GET", "/")
        self.assertOK(r, INDEX_BODY)

    def test_example_client_on_new_database(self):
        r = self.get_one(EXAMPLE_MAIL)
        self.assertOK(r, {EXAMPLE_MAIL: EXAMPLE})
        all_ = self.get_all()
        self.assertEqual(all_.get(EXAMPLE_MAIL), legacy(EXAMPLE))

    def test_list_uses_capitalised_keys(self):
        rec = record("lista@example.com")
        self.add(rec)
        data = self.get_all()
        self.assertIn("lista@example.com", data)
        self.assertEqual(data["lista@example.com"], legacy(rec))
        self.assertEqual(sorted(data["lista@example.com"]),
                         sorted(["Nombre", "Apellidos", "Mail", "Fecha de nacimiento", "Direccion"]))
        for mail, value in data.items():
            self.assertEqual(value["Mail"], mail)

    def test_add_then_get_then_delete(self):
        rec = record("ciclo@example.org", nombre="Luis", fecha_nacimiento="2000-02-29")
        self.add(rec)
        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        r = self.stack.request("DELETE", "/eliminar?" + qs(mail=rec["mail"]))
        self.assertOK(r, DELETED)
        self.assertError(self.get_one(rec["mail"]), 404, NO_MAIL)
        self.assertNotIn(rec["mail"], self.get_all())

    def test_setters_change_only_their_field(self):
        rec = record("setters@example.com")
        self.add(rec)
        other = record("vecino@example.com")
        self.add(other)
        for path, (param, done) in SETTERS.items():
            with self.subTest(setter=path):
                r = self.stack.request("PUT", path + "?" + qs(mail=rec["mail"], **{param: NEW_VALUES[param]}))
                self.assertOK(r, {"Resultado": done})
                rec[param] = NEW_VALUES[param]
                self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        self.assertOK(self.get_one(other["mail"]), {other["mail"]: other})

    def test_mail_case_insensitive_and_returned_as_first_stored(self):
        rec = record("Mixed.Case@Example.COM")
        self.add(rec)
        r = self.get_one("mixed.case@example.com")
        self.assertOK(r, {"Mixed.Case@Example.COM": rec})
        r = self.stack.request("PUT", "/setNombre?" + qs(mail="MIXED.CASE@EXAMPLE.COM", nombre="Otro"))
        self.assertOK(r, {"Resultado": "Nombre cambiado con exito"})
        rec["nombre"] = "Otro"
        self.assertOK(self.get_one("Mixed.Case@Example.COM"), {"Mixed.Case@Example.COM": rec})
        self.assertEqual(self.get_all()["Mixed.Case@Example.COM"], legacy(rec))

    def test_valid_boundaries_accepted(self):
        long_local = "l" * 64
        domain = ".".join(["d" * 60] * 3) + "." + "e" * 6
        mail254 = long_local + "@" + domain
        self.assertEqual(len(mail254), 254)
        cases = [
            record("b1@example.com", nombre="a" * 100),
            record("b2@example.com", nombre="\u00f1" * 100, apellidos="\u00e9" * 100),
            record("b3@example.com", direccion="d" * 200),
            record("b4@example.com", direccion="\u00ba" * 200),
            record(mail254),
            record("b5@example.com", fecha_nacimiento="29/02/2000"),
            record("b6@example.com", fecha_nacimiento="1900-01-01"),
            record("b7@example.com", fecha_nacimiento="1/1/1900"),
            record("b8@example.com", fecha_nacimiento="8/09/1978"),
            record("b9@example.com", fecha_nacimiento="29/06/1996"),
            record("b10@example.com", fecha_nacimiento="2024-02-29"),
            record("b11+tag.x_y-z!#$%&'*/=?^`{|}~@sub-1.example.co.uk"),
        ]
        for rec in cases:
            with self.subTest(rec=rec):
                r = self.add(rec, expect=None)
                self.assertOK(r, ADDED)
                self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})

    def test_non_ascii_round_trip(self):
        rec = record("jose@example.es", nombre="Jos\u00e9 \u00d1\u00fa\u00f1ez",
                     apellidos="Mu\u00f1oz Pe\u00f1a", direccion="Calle \u00d1and\u00fa 3, 2\u00baB")
        self.add(rec)
        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})
        self.assertEqual(self.get_all()[rec["mail"]], legacy(rec))
        # stored as UTF-8 text, byte for byte
        rows = self.stack.db_snapshot()["clients"]
        stored = [row for row in rows if rec["mail"] in row]
        self.assertEqual(len(stored), 1, rows)
        for value in (rec["nombre"], rec["apellidos"], rec["direccion"]):
            self.assertIn(value, stored[0])
        r = self.stack.request("PUT", "/setDireccion?" + qs(mail=rec["mail"], direccion="Ca\u00f1ada \u00c1ngel 7, 3\u00aa"))
        self.assertOK(r, {"Resultado": "Direccion cambiada con exito"})
        rec["direccion"] = "Ca\u00f1ada \u00c1ngel 7, 3\u00aa"
        self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})

    # -- the error table -------------------------------------------------

    def test_unknown_mail_cliente_404(self):
        with self.unchanged():
            self.assertError(self.get_one("nadie@example.com"), 404, NO_MAIL)

    def test_unknown_mail_setters_404(self):
        for path, (param, _) in SETTERS.items():
            with self.subTest(setter=path), self.unchanged(path):
                r = self.stack.request("PUT", path + "?" + qs(mail="nadie@example.com",
                                                              **{param: NEW_VALUES[param]}))
                self.assertError(r, 404, NO_MAIL)

    def test_unknown_mail_eliminar_404(self):
        with self.unchanged():
            r = self.stack.request("DELETE", "/eliminar?" + qs(mail="nadie@example.com"))
            self.assertError(r, 404, NO_MAIL_DELETE)

    def test_duplicate_add_405(self):
        rec = record("duplicado@example.com")
        self.add(rec)
        variants = [
            rec,
            dict(rec, nombre="Otro Nombre"),
            dict(rec, mail="DUPLICADO@EXAMPLE.COM", nombre="Mayusculas"),
            dict(rec, mail="Duplicado@Example.Com"),
            dict(EXAMPLE, mail="EJEMPLO@gmail.com"),
        ]
        for v in variants:
            with self.subTest(mail=v["mail"]), self.unchanged(v["mail"]):
                r = self.add(v, expect=None)
                self.assertError(r, 405, EXISTS)
        self.assertOK(self.get_one("duplicado@example.com"), {rec["mail"]: rec})

    def test_missing_parameters_400(self):
        full = record("falta@example.com")
        cases = [("GET", "/cliente", "", "mail"),
                 ("DELETE", "/eliminar", "", "mail")]
        for name in FIELDS:
            cases.append(("POST", "/aniadir", query({k: v for k, v in full.items() if k != name}), name))
        for path, (param, _) in SETTERS.items():
            cases.append(("PUT", path, qs(**{param: NEW_VALUES[param]}), "mail"))
            cases.append(("PUT", path, qs(mail=EXAMPLE_MAIL), param))
        for method, path, q, missing in cases:
            with self.subTest(method=method, path=path, missing=missing), self.unchanged():
                r = self.stack.request(method, path + ("?" + q if q else ""))
                self.assertError(r, 400, contains=[missing])

    def test_invalid_parameters_400(self):
        future = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
        bad = {
            "nombre": ["", "a" * 101, "\u00f1" * 101, "a\x01b", "a\nb", "tab\there", "del\x7f",
                       "c1\u0085ctl"],
            "apellidos": ["", "b" * 101, "x\x1fy", "line\r\nbreak"],
            "mail": ["", "sinarroba.com", "a@@gmail.com", "a@b@gmail.com", "@gmail.com",
                     "a@gmail", "a@.com", "a@gmail..com", "a@gmail.com.", "a b@gmail.com",
                     "l" * 65 + "@gmail.com", "l" * 64 + "@" + "d" * 186 + ".com",
                     "\u00f1@gmail.com", "a@gm\u00e4il.com", "a@gmail_x.com", "a@gm ail.com"],
            "fecha_nacimiento": ["", "31/02/2001", "29/02/2001", "29/02/1900", "1899-12-31",
                                 "31/12/1899", future, "2001-13-01", "2001-00-10", "0/1/2000",
                                 "1/0/2000", "32/1/2000", "1/13/2000", "1/1/99", "2000/01/01",
                                 "1-1-2000", "01/01/2000x", "2000-1-1", "123/01/2000",
                                 " 1/1/2000", "1/1/20000", "ayer", "2000-02-30"],
            "direccion": ["", "d" * 201, "Calle\tMayor", "Calle\x00Mayor"],
        }
        for field, values in bad.items():
            for value in values:
                rec = record("invalido@example.com")
                rec[field] = value
                with self.subTest(route="/aniadir", field=field, value=value), self.unchanged():
                    r = self.add(rec, expect=None)
                    self.assertError(r, 400, contains=[field])
        # the setters validate their value the same way, on an existing client
        for path, (param, _) in SETTERS.items():
            for value in bad[param]:
                with self.subTest(route=path, value=value), self.unchanged():
                    r = self.stack.request("PUT", path + "?" + qs(mail=EXAMPLE_MAIL, **{param: value}))
                    self.assertError(r, 400, contains=[param])
        # an invalid mail is a 400 (not a 404) wherever it is taken
        for value in bad["mail"]:
            with self.subTest(route="/cliente", mail=value), self.unchanged():
                self.assertError(self.get_one(value), 400, contains=["mail"])
            with self.subTest(route="/eliminar", mail=value), self.unchanged():
                r = self.stack.request("DELETE", "/eliminar?" + qs(mail=value))
                self.assertError(r, 400, contains=["mail"])
            with self.subTest(route="/setNombre", mail=value), self.unchanged():
                r = self.stack.request("PUT", "/setNombre?" + qs(mail=value, nombre="X"))
                self.assertError(r, 400, contains=["mail"])

    def test_malformed_encoding_400(self):
        # API.md: invalid UTF-8, NUL bytes or malformed percent-encoding in
        # any parameter is a 400, never stored.
        rec = record("codificacion@example.com")
        for raw in ["%", "%G1", "%4", "abc%", "%%", "%FF", "%C3", "%C3%28", "%ED%A0%80", "%C0%AF",
                    "%F4%90%80%80", "%00", "a%00b"]:
            for field in ("nombre", "direccion", "mail"):
                # the raw text is the whole value, inserted as is
                q = "&".join("%s=%s" % (k, raw if k == field else qs(x=rec[k])[2:]) for k in FIELDS)
                with self.subTest(field=field, raw=raw), self.unchanged():
                    r = self.stack.request("POST", "/aniadir?" + q)
                    self.assertError(r, 400, contains=[field])
            with self.subTest(route="/cliente", raw=raw), self.unchanged():
                self.assertError(self.stack.request("GET", "/cliente?mail=" + raw), 400,
                                 contains=["mail"])
            with self.subTest(route="/setNombre", raw=raw), self.unchanged():
                r = self.stack.request("PUT", "/setNombre?mail=ejemplo%40gmail.com&nombre=" + raw)
                self.assertError(r, 400, contains=["nombre"])

    def test_unknown_path_404(self):
        paths = ["/nope", "/clientes/x", "/Cliente", "/CLIENTES", "/setnombre", "/aniadir/",
                 "/index.html", "/cliente.json", "/eliminar/ejemplo@gmail.com", "/v2/clientes",
                 "/%C3%B1", "/a%20b"]
        for path in paths:
            for method in ("GET", "POST", "PUT", "DELETE"):
                with self.subTest(method=method, path=path), self.unchanged():
                    r = self.stack.request(method, path + "?" + query(record("ruta@example.com")))
                    self.assertError(r, 404, NO_ROUTE)

    def test_wrong_method_405_with_allow(self):
        routes = {
            "/": ("GET", ""),
            "/cliente": ("GET", qs(mail=EXAMPLE_MAIL)),
            "/clientes": ("GET", ""),
            "/aniadir": ("POST", query(record("metodo@example.com"))),
            "/eliminar": ("DELETE", qs(mail=EXAMPLE_MAIL)),
        }
        for path, (param, _) in SETTERS.items():
            routes[path] = ("PUT", qs(mail=EXAMPLE_MAIL, **{param: NEW_VALUES[param]}))
        for path, (allowed, q) in routes.items():
            for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO"):
                if method == allowed:
                    continue
                with self.subTest(method=method, path=path), self.unchanged():
                    r = self.stack.request(method, path + ("?" + q if q else ""))
                    self.assertError(r, 405, NO_METHOD)
                    allow = r.header("Allow")
                    self.assertIsNotNone(allow, "405 without Allow: %r" % r)
                    methods = [m.strip().upper() for m in allow.split(",")]
                    self.assertIn(allowed, methods, r)
                    self.assertNotIn(method, methods, r)

    def test_trace_405_with_allow(self):
        # TRACE on a known path is a wrong method like any other (nginx
        # answers it itself, before the worker sees it)
        for path in ("/", "/clientes", "/aniadir"):
            with self.subTest(path=path), self.unchanged():
                r = self.stack.raw(("TRACE %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                    % path).encode())
                self.assertIsNotNone(r.response, r)
                self.assertError(r.response, 405, NO_METHOD, exact_type=False)
                self.assertIsNotNone(r.response.header("Allow"), "405 without Allow: %r" % r.response)

    def test_413_body_too_large_json(self):
        rec = record("grande@example.com")
        size = 2 * 1024 * 1024
        head = ("POST /aniadir?%s HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                "application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (query(rec), size)).encode()
        chunk = b"x" * 65536
        with self.unchanged():
            res = self.stack.raw(head, timeout=10, chunks=[chunk] * (size // len(chunk)))
            self.assertIsNotNone(res.response, "no answer to a 2 MB body: %r" % res)
            self.assertError(res.response, 413, exact_type=False)
        self.assertHealthy()

    def test_413_announced_only(self):
        # nginx refuses on the header alone, before reading the body
        head = ("PUT /setNombre?mail=ejemplo%%40gmail.com&nombre=X HTTP/1.1\r\nHost: localhost\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % (1 << 30)).encode()
        with self.unchanged():
            res = self.stack.raw(head, timeout=10)
            self.assertIsNotNone(res.response, res)
            self.assertError(res.response, 413, exact_type=False)

    def test_414_uri_too_long_json(self):
        with self.unchanged():
            r = self.stack.request("GET", "/cliente?mail=" + "a" * 20000 + "%40gmail.com")
            self.assertError(r, 414, exact_type=False)
            r = self.stack.request("POST", "/aniadir?" + query(record("larga@example.com"))
                                   + "&relleno=" + "x" * 20000)
            self.assertError(r, 414, exact_type=False)
        self.assertHealthy()

    def test_every_worker_response_has_json_content_type(self):
        # the assertions above check it per response; this covers HEAD-less
        # GETs of each route once more, including a list of several records
        for path in ("/", "/clientes", "/cliente?mail=ejemplo%40gmail.com", "/cliente?mail=x",
                     "/cliente", "/nope"):
            with self.subTest(path=path):
                r = self.stack.request("GET", path)
                self.assertJSONType(r, exact=True)
                r.json  # parses


class WireBytes(StackTestCase):
    """The bytes of every kind of legacy response, exactly as the old service
    (and this one before its JSON writer changed) sent them: key order,
    escapes, no whitespace, Content-Length."""

    def assertBytes(self, r, status, body):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.body, body.encode("utf-8"), r)
        self.assertEqual(r.header("Content-Length"), str(len(body.encode("utf-8"))), r)
        self.assertJSONType(r, exact=True)

    def test_legacy_bytes(self):
        s = self.stack
        ex = ('{"ejemplo@gmail.com":{"%s":"Jesus","%s":"Mesa Gonzalez","%s":"ejemplo@gmail.com",'
              '"%s":"29/06/1996","%s":"Calle Paseo Moreras 39"}}')
        r = s.request("GET", "/")
        self.assertBytes(r, 200, '{"status":"OK","ejemplo":{"ruta":"/cliente?mail=ejemplo@gmail.com",'
                         '"valor":{"ejemplo@gmail.com":{"Apellidos":"Mesa Gonzalez","Direccion":'
                         '"Calle Paseo Moreras 39","Fecha de nacimiento":"29/06/1996","Mail":'
                         '"ejemplo@gmail.com","Nombre":"Jesus"}}}}')
        r = s.request("GET", "/cliente?mail=ejemplo%40gmail.com")
        self.assertBytes(r, 200, ex % ("nombre", "apellidos", "mail", "fecha_nacimiento",
                                       "direccion"))
        r = s.request("GET", "/clientes")  # streamed: no Content-Length
        self.assertEqual(r.body, (ex % ("Nombre", "Apellidos", "Mail", "Fecha de nacimiento",
                                        "Direccion")).encode(), r)
        # quotes and backslashes escaped, non-ASCII raw, "/" as is
        rec = {"nombre": 'Ana "la" \\ Jos\u00e9', "apellidos": "Pe\u00f1a/Ruiz",
               "mail": "bytes@example.com", "fecha_nacimiento": "1/2/1990",
               "direccion": "C/ Mayor 1, 3\u00ba"}
        r = s.request("POST", "/aniadir?" + query(rec))
        self.assertBytes(r, 200, '{"Resultado":"Cliente a\u00f1adido con exito"}')
        r = s.request("GET", "/cliente?" + qs(mail=rec["mail"]))
        self.assertBytes(r, 200, '{"bytes@example.com":{"nombre":"Ana \\"la\\" \\\\ Jos\u00e9",'
                         '"apellidos":"Pe\u00f1a/Ruiz","mail":"bytes@example.com",'
                         '"fecha_nacimiento":"1/2/1990","direccion":"C/ Mayor 1, 3\u00ba"}}')
        for path, (param, done) in SETTERS.items():
            r = s.request("PUT", path + "?" + qs(mail=rec["mail"], **{param: NEW_VALUES[param]}))
            self.assertBytes(r, 200, '{"Resultado":"%s"}' % done)
        # the errors
        r = s.request("GET", "/cliente?mail=nadie%40example.com")
        self.assertBytes(r, 404, '{"mensaje":"%s","status":"404"}' % NO_MAIL)
        r = s.request("GET", "/nada")
        self.assertBytes(r, 404, '{"mensaje":"%s","status":"404"}' % NO_ROUTE)
        r = s.request("GET", "/cliente")
        self.assertBytes(r, 400, '{"mensaje":"Falta el parametro \'mail\'","status":"400"}')
        r = s.request("PUT", "/cliente?mail=ejemplo%40gmail.com")
        self.assertBytes(r, 405, '{"mensaje":"%s","status":"405"}' % NO_METHOD)
        self.assertEqual(r.header("Allow"), "GET, HEAD")
        r = s.request("POST", "/aniadir?" + query(rec))
        self.assertBytes(r, 405, '{"mensaje":"%s","status":"405"}' % EXISTS)
        self.assertEqual(r.header("Allow"), "POST")
        r = s.request("DELETE", "/eliminar?" + qs(mail=rec["mail"]))
        self.assertBytes(r, 200, '{"Resultado":"Cliente eliminado con exito"}')
        r = s.request("DELETE", "/eliminar?" + qs(mail=rec["mail"]))
        self.assertBytes(r, 404, '{"mensaje":"%s","status":"404"}' % NO_MAIL_DELETE)

    def test_health_bytes(self):
        self.assertBytes(self.stack.request("GET", "/health"), 200, '{"status":"ok"}')
        # with LEGACY_AUTH=open readiness also says that the old routes are open
        ready = '{"status":"ok","legacy_auth":"open"}' if stack.LEGACY_OPEN else '{"status":"ok"}'
        self.assertBytes(self.stack.request("GET", "/health/ready"), 200, ready)


if __name__ == "__main__":
    stack.main()
