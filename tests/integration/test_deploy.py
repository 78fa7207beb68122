#!/usr/bin/env python3
"""test_deploy.py - the way clientes ships: .travis.yml tests then deploys
main to Heroku with an encrypted key and the Aptfile's packages; the buildpack
hooks turn a clean checkout into a slug whose Procfile web line serves and
stops cleanly; foreman (the local Procfile runner) starts and stops it with
nothing left behind."""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import READY_TIMEOUT, ROOT, STOP_TIMEOUT, STOPPED, free_port  # noqa: E402


def ruby_yaml(text):
    """YAML parsed by Ruby's Psych (YAML 1.1, as Travis reads it: the key
    `on` becomes true), returned through JSON (so that key reads "true")."""
    if shutil.which("ruby") is None:
        raise AssertionError("ruby is missing (it comes with ruby-foreman, listed in Aptfile)")
    p = subprocess.run(
        ["ruby", "-ryaml", "-rjson", "-e",
         "print JSON.generate(YAML.safe_load(STDIN.read, aliases: true))"],
        input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        raise AssertionError("ruby cannot parse the YAML: %s" % p.stderr.decode(errors="replace"))
    return json.loads(p.stdout)


def aptfile_packages(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def procfile(path):
    """{process type: command} of a Procfile."""
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_-]+):\s*(.+?)\s*$", line)
            if m:
                out[m.group(1)] = m.group(2)
    return out


def get(port, path="/", timeout=2):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


def wait_http_200(proc, port, log_path, timeout=READY_TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("exited with %s before answering; output:\n%s"
                                 % (proc.returncode, tail(log_path)))
        try:
            status, ctype, body = get(port)
            if status == 200:
                return ctype, body
            last = status
        except OSError as e:
            last = e
        time.sleep(0.05)
    raise AssertionError("no 200 on GET / within %.0f s (last: %r); output:\n%s"
                         % (timeout, last, tail(log_path)))


def tail(path, n=60):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no output)"
    return "\n".join(lines[-n:])


class Run:
    """A process (tree) started by a test, killed whatever happens."""

    def __init__(self, argv, cwd, env, log_path):
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.tree = {}

    def remember(self):
        """Snapshot of every process of the run (clientes-web puts its
        children in sessions of their own: they are found through the tree)."""
        self.tree.update(stack.process_tree(self.proc.pid))
        return self.tree

    def kill(self):
        stack.kill_run(self.proc, stack.still_running(self.tree))

    def stop(self, sig, timeout):
        """Sends sig; returns (exit status or None, seconds taken)."""
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t0

    def leftovers(self, run_dir, marker, grace=3.0):
        """What of the run still runs (after a bounded grace period)."""
        deadline = time.monotonic() + grace
        while True:
            left = {pid: "(from the process tree)" for pid in stack.still_running(self.tree)}
            left.update(stack.processes_of_run(run_dir, marker))
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.05)


class DeployTestCase(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="clientes-it-%s-" % self._testMethodName[:14])
        os.chmod(self.tmp, 0o755)   # nginx's workers run as nobody
        self.run_dir = os.path.join(self.tmp, "run")
        os.mkdir(self.run_dir)
        os.chmod(self.run_dir, 0o755)
        self.marker = "CLIENTES_IT_RUN=%s" % uuid.uuid4().hex
        self.keep = False

    def run(self, result=None):
        """Keeps the temp dir and prints the runs' output when the test failed."""
        if result is None:
            result = self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        tmp = getattr(self, "tmp", None)
        if tmp:
            if len(result.failures) + len(result.errors) > before or self.keep:
                for name in sorted(os.listdir(tmp)):
                    if name.endswith(".log"):
                        sys.stderr.write("\n==== %s ====\n%s\n" % (name, tail(os.path.join(tmp, name))))
                sys.stderr.write("integration: kept %s for inspection\n" % tmp)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
        return out

    def env(self, **extra):
        env = dict(os.environ)
        for k in ("CLIENTES_WORKER", "NGINX_CONF", "DATABASE_URL", "PORT",
                  "WORKER_THREADS") + stack.CONFIG_VARS:
            env.pop(k, None)
        name, value = self.marker.split("=", 1)
        env[name] = value
        env["TMPDIR"] = self.run_dir
        if stack.PG:  # a deploy with Heroku Postgres: a database of its own per test
            if not getattr(self, "pg_url", None):
                self.pg_url = stack.pgcluster.new_database(self._testMethodName)
            env["DATABASE_URL"] = self.pg_url
        else:
            env["DATABASE_URL"] = "sqlite://" + os.path.join(self.tmp, "data", "clientes.db")
        env.update(extra)
        return env

    def start(self, argv, cwd, env, name):
        run = Run(argv, cwd, env, os.path.join(self.tmp, name + ".log"))
        self.addCleanup(run.kill)
        return run

    def assertServesThenStops(self, run, port, sig=signal.SIGTERM, expect_rc=0, worker=None):
        try:
            ctype, body = wait_http_200(run.proc, port, run.log_path)
        except AssertionError as e:
            self.keep = True
            raise AssertionError(str(e))
        self.assertTrue(ctype.startswith("application/json"), ctype)
        self.assertEqual(json.loads(body)["status"], "OK")
        time.sleep(0.2)   # let the supervisor finish its start-up
        tree = run.remember()
        exes = {}
        for pid in tree:
            try:
                exes[pid] = os.readlink("/proc/%d/exe" % pid)
            except OSError:
                pass
        self.assertTrue(any(os.path.basename(e).startswith("nginx") for e in exes.values()), exes)
        workers = [e for e in exes.values() if os.path.basename(e) == "clientes-worker"]
        self.assertEqual(len(workers), 1, exes)
        if worker is not None:
            self.assertEqual(os.path.realpath(workers[0]), os.path.realpath(worker))

        rc, took = run.stop(sig, STOP_TIMEOUT + 5)
        if rc is None:
            self.keep = True
            self.fail("still running %.0f s after SIG%s; output:\n%s"
                      % (STOP_TIMEOUT + 5, signal.Signals(sig).name[3:], tail(run.log_path)))
        if expect_rc is not None:
            self.assertEqual(rc, expect_rc, "exit status after %s; output:\n%s"
                             % (signal.Signals(sig).name, tail(run.log_path)))
        self.assertLess(took, STOP_TIMEOUT + 1, "took %.1f s to stop" % took)
        left = run.leftovers(self.tmp, self.marker)
        self.assertEqual(left, {}, "left running after the stop")
        self.assertTrue(stack.port_refuses(port), "port %d still accepts connections" % port)
        return rc, took


class TravisYml(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ROOT, ".travis.yml")) as f:
            cls.text = f.read()
        cls.yml = ruby_yaml(cls.text)

    def commands(self, *phases):
        return [c for p in phases for c in as_list(self.yml.get(p)) if isinstance(c, str)]

    def test_language_and_script(self):
        self.assertEqual(self.yml.get("language"), "c")
        scripts = self.commands("script")
        self.assertTrue(scripts, "no script")
        self.assertTrue(any(re.search(r"(^|[\s;&|(])(\./)?bin/test(\s|$|;)", c) for c in scripts),
                        "script does not run bin/test: %r" % scripts)

    def heroku(self):
        deploys = [d for d in as_list(self.yml.get("deploy")) if isinstance(d, dict)]
        heroku = [d for d in deploys if d.get("provider") == "heroku"]
        self.assertEqual(len(heroku), 1, "deploy: %r" % self.yml.get("deploy"))
        return heroku[0]

    def test_deploys_to_heroku_from_main_only(self):
        d = self.heroku()
        # YAML 1.1 reads the key `on` as the boolean true (Travis does too)
        on = d.get("true", d.get("on"))
        self.assertIsInstance(on, dict, "deploy has no `on:` condition: %r" % d)
        self.assertFalse(on.get("all_branches"), on)
        self.assertFalse(on.get("tags"), "deploys tags too: %r" % on)
        self.assertIn(on.get("branch"), ("main", ["main"]), on)
        app = d.get("app")
        if isinstance(app, dict):
            app = app.get("main")
        self.assertIsInstance(app, str, "no Heroku app name: %r" % d)
        self.assertTrue(app.strip(), d)

    def test_api_key_is_encrypted(self):
        d = self.heroku()
        key = d.get("api_key")
        self.assertIsInstance(key, dict, "api_key must be `secure: ...`, never a clear key")
        self.assertEqual(sorted(key), ["secure"], key)
        self.assertIsInstance(key["secure"], str)
        self.assertTrue(key["secure"].strip(), key)
        # nor a clear key anywhere else (env, other sections)
        for entry in as_list((self.yml.get("env") or {}).get("global")
                             if isinstance(self.yml.get("env"), dict) else self.yml.get("env")):
            if isinstance(entry, str):
                self.assertNotRegex(entry, r"(?i)HEROKU_API_KEY\s*=", entry)
        self.assertNotRegex(self.text, r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                       r"[0-9a-f]{12}\b", "something like a clear Heroku key")
        self.assertNotRegex(self.text, r"HRKU-[A-Za-z0-9_-]{20,}", "a clear Heroku key")

    def test_installs_the_aptfile_packages(self):
        cmds = self.commands("before_install", "install")
        uses = [c for c in cmds if "Aptfile" in c or "bin/install-deps" in c]
        self.assertTrue(uses, "no install step reads Aptfile: %r" % cmds)
        want = aptfile_packages(os.path.join(ROOT, "Aptfile"))
        self.assertTrue(want)
        # and the tests' own list, through the script that reads it
        self.assertTrue(any("bin/install-deps tests/Aptfile" in c for c in cmds), cmds)
        for c in uses:
            if "Aptfile" in c and "| xargs" in c:
                self.assertRegex(c, r"apt-get\s+install\b", c)
                # the part that lists the packages, run as CI runs it
                lister = c.split("| xargs", 1)[0]
                p = subprocess.run(["bash", "-c", lister], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=30)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stdout.decode().split(), want,
                                 "%r does not list exactly the Aptfile's packages" % lister)

    def test_the_slug_list_has_no_test_only_package(self):
        # Heroku's apt buildpack installs Aptfile into the slug: only what
        # builds and runs, never a database server, a browser or a test tool
        slug = aptfile_packages(os.path.join(ROOT, "Aptfile"))
        for pkg in ("postgresql", "chromium", "valgrind", "wrk", "libcmocka-dev", "nodejs",
                    "npm", "ruby-foreman", "clang"):
            self.assertNotIn(pkg, slug)
        self.assertIn("libpq-dev", slug)  # the client library alone


class Slug(DeployTestCase):
    """What Heroku does with the repository: detect, compile (a clean
    checkout: no build/ tree), release, then run the Procfile's web line."""

    def checkout(self, dest):
        try:
            out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                  "--exclude-standard"], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=30, check=True).stdout
            files = [f for f in out.decode().split("\0") if f]
        except (OSError, subprocess.CalledProcessError):
            files = []
            for d, dirs, names in os.walk(ROOT):
                rel = os.path.relpath(d, ROOT)
                if rel == ".":
                    dirs[:] = [x for x in dirs if x not in (".git", "build", "data")]
                files += [os.path.normpath(os.path.join(rel, n)) for n in names]
        copied = 0
        for rel in files:
            src = os.path.join(ROOT, rel)
            if not os.path.lexists(src) or os.path.isdir(src):
                continue
            dst = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.islink(src):
                os.symlink(os.readlink(src), dst)
            else:
                shutil.copy2(src, dst)
            copied += 1
        return copied

    def test_detect_compile_release_then_procfile_web_serves(self):
        app = os.path.join(self.tmp, "app")
        cache = os.path.join(self.tmp, "cache")
        env_dir = os.path.join(self.tmp, "env")
        for d in (app, env_dir):
            os.mkdir(d)
            os.chmod(d, 0o755)
        self.assertGreater(self.checkout(app), 10)
        self.assertFalse(os.path.exists(os.path.join(app, "build")), "build output in the checkout")

        p = subprocess.run([os.path.join(app, "bin", "detect"), app], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertTrue(p.stdout.strip(), "bin/detect names no buildpack")
        # and a directory that is not this app is not detected
        other = os.path.join(self.tmp, "other")
        os.mkdir(other)
        p = subprocess.run([os.path.join(app, "bin", "detect"), other], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        self.assertNotEqual(p.returncode, 0, p.stdout)

        env = self.env()
        with open(os.path.join(self.tmp, "compile.log"), "wb") as log:
            p = subprocess.run([os.path.join(app, "bin", "compile"), app, cache, env_dir], cwd=app,
                               env=env, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, timeout=240)
        if p.returncode != 0:
            self.keep = True
            self.fail("bin/compile failed (%s):\n%s" % (p.returncode, tail(log.name)))
        worker = os.path.join(app, "build", "default", "cgi", "clientes-worker")
        self.assertTrue(os.access(worker, os.X_OK), "bin/compile left no worker binary")

        p = subprocess.run([os.path.join(app, "bin", "release"), app], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        release = ruby_yaml(p.stdout.decode())
        self.assertEqual(release.get("default_process_types", {}).get("web"), "bin/start-web",
                         release)

        web = procfile(os.path.join(app, "Procfile")).get("web")
        self.assertIsNotNone(web, "the Procfile has no web process")
        port = free_port()
        # the slug's own binary: no CLIENTES_WORKER, started from the slug
        run = self.start(["bash", "-c", web], app, self.env(PORT=str(port)), "web")
        self.assertServesThenStops(run, port, worker=worker)
        self.assertIn(STOPPED, tail(run.log_path))


class Foreman(DeployTestCase):
    """foreman, the Procfile runner in Aptfile (ruby-foreman)."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("foreman") is None:
            raise AssertionError("foreman is missing (ruby-foreman, listed in Aptfile)")

    def test_check_accepts_the_procfile(self):
        p = subprocess.run(["foreman", "check", "-f", os.path.join(ROOT, "Procfile")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn(b"valid procfile detected", p.stdout)
        self.assertIn(b"web", p.stdout)

    def test_start_serves_then_stops_with_nothing_left(self):
        empty_env = os.path.join(self.tmp, "empty.env")
        open(empty_env, "w").close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig.name):
                port = free_port()
                # -p: foreman sets PORT for web.1; -e: no .env of the developer's
                env = self.env(CLIENTES_WORKER=stack.WORKER)
                # "web": the release line runs once per deploy, not with the dynos
                # (and web comes first in the Procfile: foreman gives -p to the first)
                run = self.start(["foreman", "start", "web", "-f",
                                  os.path.join(ROOT, "Procfile"), "-e", empty_env, "-p",
                                  str(port), "-t", str(int(STOP_TIMEOUT))],
                                 self.tmp, env, "foreman-%s" % sig.name)
                self.assertServesThenStops(run, port, sig=sig, expect_rc=None,
                                           worker=stack.WORKER)
                out = tail(run.log_path)
                self.assertIn("web.1", out)
                self.assertIn(STOPPED, out)
                self.assertRegex(out, r"web\.1\s+\|\s+exited with code 0", out)


if __name__ == "__main__":
    stack.main()
