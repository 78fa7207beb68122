"""run.py - runs one browser test script (tests/browser/NAME.js) against the
real stack: starts it (tests/integration/stack.py) on free ports, creates a
user of each role with clientes-admin, serves a page of another site for the
cross-site checks, runs the script with Node (puppeteer-core from
tests/node), and stops everything.  The script's exit status is the test's.

  python3 tests/browser/run.py NAME [OUT_DIR]

OUT_DIR (default: the build tree's tests/browser/screenshots) receives the
screenshots of every page the script photographs."""
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import stack  # noqa: E402

NODE_MODULES = os.path.join(stack.ROOT, "tests", "node", "node_modules")
SCRIPT_TIMEOUT = 240

# The users the scripts sign in as (password: 15+ characters, not common).
USERS = {
    "admin": ("admin", "una clave larga de administracion"),
    "editor": ("editora", "una clave larga de la editora"),
    "reader": ("lector", "una clave larga del lector"),
}


class Attacker(http.server.BaseHTTPRequestHandler):
    """A page of another site (localhost, while the service is 127.0.0.1):
    /form?target=URL&fields=JSON is a form that posts those fields there
    as soon as it is submitted."""

    def do_GET(self):
        import html
        import urllib.parse
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        target = q.get("target", [""])[0]
        fields = json.loads(q.get("fields", ["{}"])[0])
        inputs = "".join('<input type="hidden" name="%s" value="%s">'
                         % (html.escape(k), html.escape(v)) for k, v in fields.items())
        body = ('<!doctype html><html lang="en"><title>another site</title><form id="f" '
                'method="post" action="%s">%s<button>go</button></form></html>'
                % (html.escape(target), inputs)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    name = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.getcwd(), "screenshots")
    script = os.path.join(HERE, name + ".js")
    node = shutil.which("node")
    if not node:
        raise SystemExit("run.py: node is missing (tests/Aptfile)")
    if not os.path.isdir(os.path.join(NODE_MODULES, "puppeteer-core")):
        raise SystemExit("run.py: %s lacks puppeteer-core: run bin/test (npm ci in tests/node)"
                         % NODE_MODULES)
    if not os.access("/usr/bin/chromium", os.X_OK):
        raise SystemExit("run.py: /usr/bin/chromium is missing (tests/Aptfile)")
    s = stack.Stack(name="browser-" + name)
    backend = os.environ.get("CLIENTES_TEST_STORE") or "sqlite"
    if backend == "pg" and not s.database_url().startswith(("postgres://", "postgresql://")):
        raise SystemExit("run.py: CLIENTES_TEST_STORE=pg, but the stack's store is %s"
                         % s.database_url().split(":")[0])
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    rc = 1
    try:
        s.start()
        for role, (user, password) in USERS.items():
            if hasattr(s, "admin"):
                s.admin("user", "add", user, "--role", role, input=password + "\n")
        env = dict(os.environ)
        env.update({
            "BASE_URL": "http://127.0.0.1:%d" % s.port,
            "ATTACKER_URL": "http://localhost:%d" % attacker.server_address[1],
            "USERS": json.dumps(USERS),
            "OUT_DIR": os.path.join(out, name),
            "NODE_MODULES": NODE_MODULES,
            "DATABASE_URL": s.database_url(),
        })
        try:
            rc = subprocess.run([node, script], env=env, timeout=SCRIPT_TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            print("run.py: %s did not finish within %d s" % (name, SCRIPT_TIMEOUT))
            rc = 1
        s.stop()
    except AssertionError as e:
        print("run.py: %s" % e)
        rc = 1
    finally:
        attacker.shutdown()
        if rc:
            s.failed = True
            s.dump_log() if hasattr(s, "dump_log") else print(s.log_text())
        s.cleanup()
    sys.exit(rc)


if __name__ == "__main__":
    main()
