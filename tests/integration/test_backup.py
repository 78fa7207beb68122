#!/usr/bin/env python3
"""test_backup.py - clientes-admin backup and restore of a SQLite store:
a backup taken while writers keep writing through the service is one
consistent snapshot (PRAGMA integrity_check ok) holding every write
acknowledged before it began; restored into a new store, the service serves
it; backups never overwrite, restores need --force to replace a store, and a
file that is not a clientes store is never restored."""
import os
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import StackTestCase, qs  # noqa: E402


def record(mail):
    return {"nombre": "Copia", "apellidos": "De Seguridad", "mail": mail,
            "fecha_nacimiento": "2/3/1980", "direccion": "Calle del Respaldo 1"}


class Backup(StackTestCase):
    per_test_stacks = True

    def test_backup_under_write_load_then_restore(self):
        st = self.new_stack(threads=4).start()
        acked = []  # (mail, monotonic time of the 200)
        lock = threading.Lock()
        stop = threading.Event()

        def writer(w):
            i = 0
            while not stop.is_set():
                rec = record("copia.%d.%d@example.com" % (w, i))
                r = st.request("POST", "/aniadir?" + qs(**rec), fresh=False)
                if r.status == 200:
                    with lock:
                        acked.append((rec["mail"], time.monotonic()))
                i += 1
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)  # writes under way
            path = os.path.join(st.dir, "copia.db")
            t_begin = time.monotonic()
            out = st.admin("backup", path).stdout
            time.sleep(0.5)  # and after it
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertIn(path, out)
        before = [m for m, t in acked if t < t_begin]
        self.assertGreater(len(before), 50, "too few writes before the backup to say anything")
        self.assertGreater(len(acked), len(before), "no write went on during the backup")
        # the copy: one consistent file, alone (no -wal), with every write
        # acknowledged before the backup began
        self.assertFalse(os.path.exists(path + "-wal"))
        db = sqlite3.connect(path)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            stored = {r[0] for r in db.execute("SELECT mail FROM clients")}
        finally:
            db.close()
        missing = [m for m in before if m not in stored]
        self.assertEqual(missing, [], "acknowledged before the backup, missing from it")
        # the service was never interrupted: the store is whole too
        self.assertEqual(st.request("GET", "/health/ready").status, 200)

        # restored into a new store, served by a new stack
        st2 = self.new_stack()
        st2.token = st.token  # the copy holds the first stack's tokens
        st2.credentials = None
        r = st2.admin("restore", path)
        self.assertIn("restored", r.stdout)
        st2.start()
        for m in before[:: max(1, len(before) // 40)] + before[-3:]:
            self.assertEqual(st2.request("GET", "/cliente?" + qs(mail=m)).status, 200, m)
        self.assertEqual(st2.request("GET", "/health/ready").status, 200)
        r = st2.request("GET", "/clientes")
        self.assertEqual(r.status, 200)
        self.assertTrue(set(before) <= set(r.json))
        st2.stop()
        st.stop()

    def test_refusals(self):
        st = self.new_stack().start()
        path = os.path.join(st.dir, "copia.db")
        st.admin("backup", path)
        # a backup never overwrites
        r = st.admin("backup", path, check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("exists", r.stderr)
        st.stop()
        # a restore does not replace a store unless told
        r = st.admin("restore", path, check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("--force", r.stderr)
        # a file that is not a clientes store is refused, the target untouched
        bad = os.path.join(st.dir, "no.db")
        with open(bad, "wb") as f:
            f.write(b"not a database at all" * 100)
        size = os.path.getsize(st.db_path)
        r = st.admin("restore", bad, "--force", check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(os.path.getsize(st.db_path), size)
        other = os.path.join(st.dir, "otra.db")
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
        r = st.admin("restore", other, "--force", check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("no clientes store", r.stderr)
        # --force replaces it, leaving nothing of the old store to replay: a
        # row written after the backup (and its -wal) is gone
        db = sqlite3.connect(st.db_path)
        db.execute("INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, direccion) "
                   "VALUES ('tras.la.copia@example.com', 'A', 'B', '1/1/1990', 'C')")
        db.commit()
        db.close()
        r = st.admin("restore", path, "--force")
        self.assertEqual(r.returncode, 0, r)
        st.start()
        self.assertEqual(st.request("GET", "/health/ready").status, 200)
        self.assertEqual(st.request("GET", "/cliente?" + qs(mail="tras.la.copia@example.com"))
                         .status, 404)
        st.stop()
        # and a backup of another backend's store is refused with a pointer
        st3 = self.new_stack(credentials=None,
                             env={"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db"})
        r = st3.admin("backup", os.path.join(st.dir, "x.db"), check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertNotIn(":p@", r.stderr)


if __name__ == "__main__":
    stack.main()
