#!/usr/bin/env python3
"""test_admin_data.py - clientes-admin over whole stores, as an operator (and
Heroku's release phase) runs it: migrate, copy, export, import.

  Release   the Procfile's release line on an empty PostgreSQL database:
            the schema and the example once; run again (and twice at once)
            it changes nothing, and a deleted example is not brought back
  Copy      PostgreSQL -> SQLite -> PostgreSQL with the stores named by
            variables (no password on a command line), the result served;
            a target with data refused, then --merge adds nothing twice
  Backup    export to a file, import into a new database: the same clients;
            a file cut short imports nothing"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading

os.environ.setdefault("CLIENTES_TEST_STORE", "pg")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import EXAMPLE_MAIL, ROOT, StackTestCase, pgcluster, qs  # noqa: E402

ADMIN = os.path.join(os.path.dirname(stack.WORKER), "clientes-admin")


def procfile_line(kind):
    with open(os.path.join(ROOT, "Procfile")) as f:
        for line in f:
            name, _, cmd = line.partition(":")
            if name.strip() == kind:
                return cmd.strip()
    raise AssertionError("the Procfile has no %s line" % kind)


def clients_of(url):
    """Every client as the store keeps it (fields and times), in mail order."""
    return pgcluster.psql(url, "SELECT mail, nombre, apellidos, fecha_nacimiento, direccion,"
                               " creado, modificado FROM clients ORDER BY mail_key").splitlines()


class AdminTestCase(StackTestCase):
    per_test_stacks = True

    def setUp(self):
        self.assertTrue(stack.PG, "test_admin_data.py runs against PostgreSQL")
        self.assertTrue(os.access(ADMIN, os.X_OK), "%s is missing" % ADMIN)
        self.tmp = tempfile.mkdtemp(prefix="clientes-admin-data-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def env(self, **extra):
        env = dict(os.environ)
        for k in stack.CONFIG_VARS + ("DATABASE_URL",):
            env.pop(k, None)
        env["CLIENTES_WORKER"] = stack.WORKER
        env.update(extra)
        return env

    def admin(self, args, expect=0, **env):
        p = subprocess.run([ADMIN] + args, env=self.env(**env), capture_output=True, text=True,
                           timeout=300)
        out = p.stdout + p.stderr
        if expect is not None:
            self.assertEqual(p.returncode, expect, "clientes-admin %s: %s" % (args[0], out))
        self.assertNotIn(pgcluster.PASSWORD, out, "a password in the output")
        return p

    def seeded_database(self, n=40):
        """A PostgreSQL store with clients added and changed over HTTP."""
        url = pgcluster.new_database("origen")
        st = self.new_stack(db_path=url).start()
        for i in range(n):
            rec = {"nombre": "Ñandú %d" % i, "apellidos": "Pérez", "mail": "Cli%03d@Ejemplo.es" % i,
                   "fecha_nacimiento": "%d/3/1980" % (1 + i % 28), "direccion": "Calle %d" % i}
            self.add(rec)
        self.assertEqual(st.request("PUT", "/setNombre?" + qs(mail="cli001@ejemplo.es",
                                                              nombre="Cambiado")).status, 200)
        self.assertEqual(st.request("DELETE", "/eliminar?" + qs(mail=EXAMPLE_MAIL)).status, 200)
        st.stop()
        return url


class Release(AdminTestCase):

    def test_release_line_migrates_once(self):
        url = pgcluster.new_database("release")
        release = procfile_line("release")
        self.assertIn("clientes-admin migrate", release)

        def run():
            return subprocess.run(["bash", "-c", release], cwd=ROOT, env=self.env(DATABASE_URL=url),
                                  capture_output=True, text=True, timeout=120)

        # two deploys' release phases at once on an empty database
        results = []
        ts = [threading.Thread(target=lambda: results.append(run())) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        for p in results:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("schema current", p.stdout)
            self.assertNotIn(pgcluster.PASSWORD, p.stdout + p.stderr)
        self.assertEqual(pgcluster.psql(url, "SELECT version FROM clientes_schema").split(),
                         [str(stack.PG_SCHEMA_VERSION)])
        self.assertEqual(len(clients_of(url)), 1)
        # the example deleted, the next release does not bring it back
        pgcluster.psql(url, "DELETE FROM clients")
        self.assertEqual(run().returncode, 0)
        self.assertEqual(clients_of(url), [])
        # and the dynos that follow serve that database
        st = self.new_stack(db_path=url).start()
        self.assertEqual(st.request("GET", "/clientes").status, 404)
        st.stop()

    def test_help_lists_the_commands(self):
        out = self.admin(["--help"]).stdout
        for cmd in ("migrate", "copy FROM TO", "export", "import"):
            self.assertIn(cmd, out)


class Copy(AdminTestCase):

    def test_postgres_sqlite_postgres(self):
        origin = self.seeded_database()
        sqlite_url = "sqlite://" + os.path.join(self.tmp, "copia.db")
        target = pgcluster.new_database("destino")
        # stores named by the variables that hold them
        p = self.admin(["copy", "DATABASE_URL", "COPY_TO"], DATABASE_URL=origin,
                       COPY_TO=sqlite_url)
        self.assertIn("copied 40 clients", p.stdout)
        # a target with data: refused, nothing written
        p = self.admin(["copy", "DATABASE_URL", "COPY_TO"], expect=1, DATABASE_URL=origin,
                       COPY_TO=sqlite_url)
        self.assertIn("--merge", p.stderr)
        p = self.admin(["copy", "DATABASE_URL", "COPY_TO", "--merge"], DATABASE_URL=origin,
                       COPY_TO=sqlite_url)
        self.assertIn("copied 0 clients, 0 users, 0 tokens, 0 audit rows", p.stdout)
        self.assertNotIn("(0 already there)", p.stdout)
        # and back into PostgreSQL
        p = self.admin(["copy", sqlite_url, "DATABASE_URL"], DATABASE_URL=target)
        self.assertIn("copied 40 clients", p.stdout)
        self.assertEqual(clients_of(target), clients_of(origin))
        self.assertEqual(pgcluster.psql(target, "SELECT count(*) FROM audit").strip(),
                         pgcluster.psql(origin, "SELECT count(*) FROM audit").strip())
        # served, with its history
        st = self.new_stack(db_path=target).start()
        r = st.request("GET", "/cliente?" + qs(mail="CLI001@ejemplo.es"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["Cli001@Ejemplo.es"]["nombre"], "Cambiado")
        self.assertEqual(st.request("GET", "/cliente?" + qs(mail=EXAMPLE_MAIL)).status, 404)
        st.stop()

    def test_a_refused_url_is_shown_without_its_password(self):
        bad = "postgres://clientes:%s@127.0.0.1:1/nada?sslmode=disable" % pgcluster.PASSWORD
        p = self.admin(["copy", bad, "sqlite://" + os.path.join(self.tmp, "x.db")], expect=1,
                       DATABASE_OPEN_WAIT_S="0")
        self.assertIn("postgres://clientes:***@127.0.0.1:1/nada", p.stderr)


class Backup(AdminTestCase):

    def test_export_then_import(self):
        origin = self.seeded_database(25)
        path = os.path.join(self.tmp, "copia.ndjson")
        self.admin(["export", path], DATABASE_URL=origin)
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertIn('"type":"header"', lines[0])
        self.assertEqual(sum('"type":"client"' in ln for ln in lines), 25)
        target = pgcluster.new_database("restaurada")
        p = self.admin(["import", path], DATABASE_URL=target)
        self.assertIn("imported 25 clients", p.stdout)
        self.assertEqual(clients_of(target), clients_of(origin))
        # a file with a broken line: nothing imported
        cut = os.path.join(self.tmp, "rota.ndjson")
        with open(cut, "w") as f:
            f.write("\n".join(lines[:-3] + ['{"type":"client","mail":'] + lines[-2:]) + "\n")
        other = pgcluster.new_database("cortada")
        p = self.admin(["import", cut], expect=1, DATABASE_URL=other)
        self.assertIn("nothing imported", p.stderr)
        self.assertIn("line %d" % (len(lines) - 2), p.stderr)
        self.assertEqual(len(clients_of(other)), 1)  # its own example, untouched
        # the same file again into the restored one: refused, unless merged
        self.admin(["import", path], expect=1, DATABASE_URL=target)
        p = self.admin(["import", path, "--merge"], DATABASE_URL=target)
        self.assertIn("imported 0 clients", p.stdout)


if __name__ == "__main__":
    stack.main()
