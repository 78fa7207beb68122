#!/usr/bin/env python3
"""test_concurrency.py - 16 concurrent clients add 5 000 distinct records in
total through nginx and the worker: every add answers 200 and every record is
there afterwards, exactly as sent."""
import http.client
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE, EXAMPLE_MAIL, FIELDS, StackTestCase, legacy, qs, send  # noqa: E402

CLIENTS = 16
TOTAL = 5000


def record(i):
    return {
        "nombre": "Nombre%d \u00d1" % i,
        "apellidos": "Apellido%d Garc\u00eda" % i,
        "mail": "cliente%05d@concurrencia.example.com" % i,
        "fecha_nacimiento": "%d/%d/%d" % (1 + i % 28, 1 + i % 12, 1900 + i % 120),
        "direccion": "Calle %d, %d\u00baB" % (i, i % 10),
    }


class Concurrency(StackTestCase):
    stack_kwargs = {"threads": 4}

    def test_sixteen_clients_five_thousand_adds(self):
        st = self.stack
        results = {}
        errors = []
        lock = threading.Lock()

        def client(n):
            mine = range(n, TOTAL, CLIENTS)
            conn = st.connection(timeout=30)  # keep-alive to nginx
            out = {}
            try:
                for i in mine:
                    rec = record(i)
                    path = "/aniadir?" + qs(*[(k, rec[k]) for k in FIELDS])
                    for attempt in (1, 2):
                        try:
                            r = send(conn, "POST", path)
                            break
                        except (http.client.HTTPException, OSError) as e:
                            # a keep-alive connection closed under us: the
                            # request was not processed, send it once more
                            conn.close()
                            conn = st.connection(timeout=30)
                            if attempt == 2:
                                raise
                            with lock:
                                errors.append("retry %d: %r" % (i, e))
                    out[i] = (r.status, r.header("Content-Type"), r.body)
            except Exception as e:  # reported below
                with lock:
                    errors.append("client %d died: %r" % (n, e))
            finally:
                conn.close()
                with lock:
                    results.update(out)

        t0 = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(240)
        took = time.monotonic() - t0
        sys.stderr.write("\n%d adds by %d clients in %.1f s (%.0f/s)\n"
                         % (len(results), CLIENTS, took, len(results) / max(took, 1e-6)))
        if errors:
            sys.stderr.write("%d retried/failed requests: %r\n" % (len(errors), errors[:5]))
        self.assertFalse(any(t.is_alive() for t in threads), "clients still running")
        self.assertEqual([e for e in errors if "died" in e], [])
        self.assertEqual(len(results), TOTAL)
        added = {"Resultado": "Cliente a\u00f1adido con exito"}
        not_ok = {i: v for i, v in results.items()
                  if v[0] != 200 or v[1] != stack.JSON_TYPE or json.loads(v[2]) != added}
        self.assertEqual(len(not_ok), 0, "not 200: %r" % dict(list(not_ok.items())[:5]))

        # all of them there, exactly, plus the example client of a new database
        everything = self.get_all()
        self.assertEqual(len(everything), TOTAL + 1)
        self.assertEqual(everything[EXAMPLE_MAIL], legacy(EXAMPLE))
        for i in range(TOTAL):
            rec = record(i)
            self.assertEqual(everything.get(rec["mail"]), legacy(rec), rec["mail"])
        rows = st.db_snapshot()["clients"]
        self.assertEqual(len(rows), TOTAL + 1)
        # and one by one (a sample, through /cliente)
        for i in range(0, TOTAL, 397):
            rec = record(i)
            self.assertOK(self.get_one(rec["mail"]), {rec["mail"]: rec})


if __name__ == "__main__":
    stack.main()
