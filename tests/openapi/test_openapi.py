#!/usr/bin/env python3
"""test_openapi.py ROUTE_DUMP SOURCE_DIR - docs/openapi.json says exactly
what the route table serves: every route of the table (but nginx's
internal ones, /_..., and the browser's HTML pages, /ui/...) is in the document with each of its methods, every
operation of the document is a route of the table, public routes need no
credentials there and the others do; and Redocly CLI lints it clean."""
import json
import os
import subprocess
import sys
import unittest

DUMP, ROOT = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
DOC = json.load(open(os.path.join(ROOT, "docs", "openapi.json"), encoding="utf-8"))
REDOCLY = os.path.join(ROOT, "tests", "node", "node_modules", ".bin", "redocly")


def table():
    """{path: {method: access}} from the route table."""
    out = subprocess.run([DUMP], check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        path, allow, access = line.split("\t")
        for m in allow.split(", "):
            rows.setdefault(path, {})[m] = access
    return rows


def not_api(path):
    """nginx's internal error locations (no client reaches them) and the
    browser interface's HTML pages: not part of the API the document describes."""
    return path.startswith("/_") or path == "/ui" or path.startswith("/ui/")


class Document(unittest.TestCase):
    def test_every_route_is_documented(self):
        for path, methods in table().items():
            if not_api(path):
                continue
            self.assertIn(path, DOC["paths"], "route %s is not in docs/openapi.json" % path)
            ops = DOC["paths"][path]
            for m in methods:
                if m == "HEAD":
                    self.assertIn("get", ops, path)  # HEAD is GET's headers
                    continue
                self.assertIn(m.lower(), ops, "%s %s is not in docs/openapi.json" % (m, path))

    def test_every_documented_operation_is_a_route(self):
        rows = table()
        for path, ops in DOC["paths"].items():
            self.assertIn(path, rows, "docs/openapi.json documents %s, which no route serves" % path)
            for m in ops:
                if m in ("parameters", "summary", "description"):
                    continue
                self.assertIn(m.upper(), rows[path], "%s %s is documented but not routed" % (m, path))

    def test_security_follows_the_access_column(self):
        top = DOC.get("security")
        for path, methods in table().items():
            if path not in DOC["paths"]:
                continue
            for m, access in methods.items():
                if m in ("HEAD",):
                    continue
                op = DOC["paths"][path][m.lower()]
                sec = op.get("security", top)
                if access == "public" or m == "OPTIONS":
                    self.assertEqual(sec, [], "%s %s is public: security must be []" % (m, path))
                else:
                    self.assertTrue(sec, "%s %s needs credentials (%s)" % (m, path, access))

    def test_every_operation_has_its_errors_and_request_id(self):
        for path, ops in DOC["paths"].items():
            for m, op in ops.items():
                if m == "parameters":
                    continue
                self.assertIn("operationId", op)
                for status, resp in op["responses"].items():
                    if "$ref" in resp:
                        name = resp["$ref"].rsplit("/", 1)[1]
                        resp = DOC["components"]["responses"][name]
                    self.assertIn("X-Request-Id", resp.get("headers", {}), "%s %s %s" % (m, path, status))
                    if path.startswith("/v1/") and int(status) >= 400:
                        self.assertIn("application/problem+json", resp["content"], "%s %s %s" % (m, path, status))

    def test_redocly_lint(self):
        self.assertTrue(os.access(REDOCLY, os.X_OK),
                        "%s is missing: bin/test installs tests/node (npm ci)" % REDOCLY)
        env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
                   NO_COLOR="1")
        p = subprocess.run([REDOCLY, "lint", "--format=stylish",
                            os.path.join(ROOT, "docs", "openapi.json")],
                           capture_output=True, text=True, env=env, timeout=150, cwd=ROOT)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("warning", (p.stdout + p.stderr).lower().replace("0 warnings", ""),
                         p.stdout + p.stderr)


if __name__ == "__main__":
    prog = unittest.main(verbosity=2, exit=False)
    r = prog.result
    print("\n%d passed, %d failed" % (r.testsRun - len(r.failures) - len(r.errors),
                                       len(r.failures) + len(r.errors)))
    sys.exit(0 if r.wasSuccessful() else 1)
