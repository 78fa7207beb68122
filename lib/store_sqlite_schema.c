/* store_sqlite_schema.c - the SQLite backend's schema and its migrations. */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <string.h>

#include "manager.h"

/* Version 3's tables beside clients, and the clients table it is copied
 * into (the derived columns need the library's folding: see fill_v3()). */
#define V3_TABLES                                                                            \
    /* The record's own table stays as narrow as the five fields and the     */         \
    /* version: the legacy walk reads it whole, and its cost follows its      */         \
    /* pages.  The version defaults to 0 for rows written behind the          */         \
    /* library's back with the five fields only (tests seed that way); such  */         \
    /* rows have no client_meta row either: they are found by their mail and */         \
    /* walked in mail order, not searched nor listed in the other orders.    */         \
    "CREATE TABLE clients_v3 ("                                                              \
    "  mail TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,"                                       \
    "  nombre TEXT NOT NULL,"                                                                \
    "  apellidos TEXT NOT NULL,"                                                             \
    "  fecha_nacimiento TEXT NOT NULL,"                                                      \
    "  direccion TEXT NOT NULL,"                                                             \
    "  version INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"                                   \
    /* What else the store keeps about a record: its times, and the keys the */         \
    /* /v1 lists search, sort and filter by (struct client_keys).            */         \
    "CREATE TABLE client_meta ("                                                             \
    "  mail TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,"                                       \
    "  creado TEXT NOT NULL,"                                                                \
    "  modificado TEXT NOT NULL,"                                                            \
    "  fecha_iso TEXT NOT NULL,"                                                             \
    "  nombre_key TEXT NOT NULL,"                                                            \
    "  apellidos_key TEXT NOT NULL,"                                                         \
    "  search TEXT NOT NULL) WITHOUT ROWID;"                                                 \
    /* the row versions' source: never goes back, so no version is reused */                \
    "CREATE TABLE version_counter ("                                                         \
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"                                               \
    "  value INTEGER NOT NULL);"                                                             \
    "CREATE TABLE users ("                                                                   \
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"                                                \
    "  name TEXT NOT NULL UNIQUE,"                                                           \
    "  pwhash TEXT NOT NULL,"                                                                \
    "  role TEXT NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),"                    \
    "  disabled INTEGER NOT NULL DEFAULT 0,"                                                 \
    "  fail_count INTEGER NOT NULL DEFAULT 0,"                                               \
    "  fail_since INTEGER NOT NULL DEFAULT 0,"                                               \
    "  creado TEXT NOT NULL);"                                                               \
    /* AUTOINCREMENT: "token:<id>" names a token in the audit for good */                   \
    "CREATE TABLE tokens ("                                                                  \
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"                                                \
    "  label TEXT NOT NULL,"                                                                 \
    "  digest TEXT NOT NULL UNIQUE,"                                                         \
    "  role TEXT NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),"                    \
    "  user_id INTEGER REFERENCES users(id),"                                                \
    "  creado TEXT NOT NULL,"                                                                \
    "  expires INTEGER NOT NULL DEFAULT 0,"                                                  \
    "  revoked INTEGER NOT NULL DEFAULT 0,"                                                  \
    "  last_used INTEGER NOT NULL DEFAULT 0);"                                               \
    "CREATE TABLE sessions ("                                                                \
    "  digest TEXT NOT NULL PRIMARY KEY,"                                                    \
    "  user_id INTEGER NOT NULL REFERENCES users(id),"                                       \
    "  created INTEGER NOT NULL,"                                                            \
    "  last_seen INTEGER NOT NULL) WITHOUT ROWID;"                                           \
    "CREATE INDEX sessions_user ON sessions(user_id);"                                       \
    /* Ids only grow: a new row takes the highest id + 1, and pruning always   */          \
    /* keeps the newest row (AUTOINCREMENT would do the same for one more page */          \
    /* written by every change).                                               */          \
    "CREATE TABLE audit ("                                                                   \
    "  id INTEGER PRIMARY KEY,"                                                              \
    "  at TEXT NOT NULL,"                                                                    \
    "  actor TEXT NOT NULL,"                                                                 \
    "  action TEXT NOT NULL,"                                                                \
    "  target TEXT,"                                                                         \
    "  target_key TEXT,"                                                                     \
    "  changes TEXT,"                                                                        \
    "  request_id TEXT,"                                                                     \
    "  client_addr TEXT);"                                                                   \
    /* by id (the key) and by client; times grow with ids, so pruning and     */           \
    /* `since` need no index of their own                                    */           \
    "CREATE INDEX audit_target ON audit(target_key, id) WHERE target_key IS NOT NULL;"       \
    /* Append-only: the one update allowed is an erasure's, which clears the     */         \
    /* personal values (target, target_key, changes) and nothing else; the one   */         \
    /* delete allowed is pruning, of rows older than a day.                      */         \
    "CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit"                                \
    "  WHEN NOT (NEW.target IS NULL AND NEW.target_key IS NULL AND NEW.changes IS NULL"      \
    "    AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor"                  \
    "    AND NEW.action = OLD.action AND NEW.request_id IS OLD.request_id"                   \
    "    AND NEW.client_addr IS OLD.client_addr)"                                            \
    "  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"                        \
    "CREATE TRIGGER audit_keep_recent BEFORE DELETE ON audit"                                \
    "  WHEN OLD.at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')"                       \
    "  BEGIN SELECT RAISE(ABORT, 'audit rows younger than a day are kept'); END;"

/* After fill_v3(): the copy replaces the old table; the indexes the keyset
 * orders of struct client_query walk (each ends with the mail, the
 * tie-breaker; a WITHOUT ROWID index holds the key anyway; the mail order
 * is the primary key's). */
#define V3_SWAP                                                                              \
    "DROP TABLE clients;"                                                                    \
    "ALTER TABLE clients_v3 RENAME TO clients;"                                              \
    "CREATE INDEX client_meta_nombre ON client_meta(nombre_key, mail);"                      \
    "CREATE INDEX client_meta_apellidos ON client_meta(apellidos_key, mail);"                \
    "CREATE INDEX client_meta_fecha ON client_meta(fecha_iso, mail);"                        \
    "CREATE INDEX client_meta_creado ON client_meta(creado, mail);"                          \
    "CREATE INDEX client_meta_modificado ON client_meta(modificado, mail);"

/* Copies every client of the version-2 table into clients_v3, versions
 * 1..n in mail order, with its client_meta row: created and modified now,
 * the keys from client_keys_of() (the code that computes them for every
 * later write); and starts the counter at n. */
static int fill_v3(sqlite3 *db, char *why, size_t whylen)
{
    sqlite3_stmt *rd = NULL, *wr = NULL, *wm = NULL, *ctr = NULL;
    char now[STORE_TIME_LEN + 1];
    long long version = 0;
    int rc;

    manager_now(now);
    rc = sqlite3_prepare_v2(db,
                            "SELECT mail, nombre, apellidos, fecha_nacimiento, direccion"
                            " FROM clients ORDER BY mail",
                            -1, &rd, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO clients_v3 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                -1, &wr, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO client_meta VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6)",
                                -1, &wm, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(rd)) == SQLITE_ROW) {
        struct client c;
        struct client_keys k;

        sq_copy_col(rd, 0, c.mail, sizeof(c.mail));
        sq_copy_col(rd, 1, c.nombre, sizeof(c.nombre));
        sq_copy_col(rd, 2, c.apellidos, sizeof(c.apellidos));
        sq_copy_col(rd, 3, c.fecha_nacimiento, sizeof(c.fecha_nacimiento));
        sq_copy_col(rd, 4, c.direccion, sizeof(c.direccion));
        client_keys_of(&c, &k);
        for (int i = 0; i < 5; i++)
            sqlite3_bind_value(wr, i + 1, sqlite3_column_value(rd, i));
        sqlite3_bind_int64(wr, 6, ++version);
        rc = sqlite3_step(wr);
        sqlite3_reset(wr);
        if (rc != SQLITE_DONE)
            break;
        sqlite3_bind_value(wm, 1, sqlite3_column_value(rd, 0));
        sqlite3_bind_text(wm, 2, now, -1, SQLITE_STATIC);
        sqlite3_bind_text(wm, 3, k.fecha_iso, -1, SQLITE_STATIC);
        sqlite3_bind_text(wm, 4, k.nombre_key, -1, SQLITE_STATIC);
        sqlite3_bind_text(wm, 5, k.apellidos_key, -1, SQLITE_STATIC);
        sqlite3_bind_text(wm, 6, k.search, -1, SQLITE_STATIC);
        rc = sqlite3_step(wm);
        sqlite3_reset(wm);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc == SQLITE_DONE)
        rc = sqlite3_prepare_v2(db, "INSERT INTO version_counter(id, value) VALUES (1, ?1)", -1,
                                &ctr, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(ctr, 1, version);
        rc = sqlite3_step(ctr);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc != SQLITE_OK)
        snprintf(why, whylen, "migration to version 3: %s", sqlite3_errmsg(db));
    sqlite3_finalize(rd);
    sqlite3_finalize(wr);
    sqlite3_finalize(wm);
    sqlite3_finalize(ctr);
    return rc;
}

/* Schema migrations, applied in order.  migrations[i] brings a file from
 * user_version i to i + 1: its SQL, then its C step (when there is one),
 * then its closing SQL.  A new (empty) file runs them all, which is why the
 * example client is seeded by the first one and never again. */
static const struct migration {
    const char *sql;
    int (*fill)(sqlite3 *db, char *why, size_t whylen);
    const char *after;
} migrations[] = {
    /* 0 -> 1: the clients table, unique on the case-folded mail (NOCASE folds
     * ASCII, and mails are ASCII by validation), and the example client. */
    {"CREATE TABLE clients ("
     "  id INTEGER PRIMARY KEY,"
     "  mail TEXT NOT NULL,"
     "  nombre TEXT NOT NULL,"
     "  apellidos TEXT NOT NULL,"
     "  fecha_nacimiento TEXT NOT NULL,"
     "  direccion TEXT NOT NULL);"
     "CREATE UNIQUE INDEX clients_mail_nocase ON clients(mail COLLATE NOCASE);"
     "INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, direccion) VALUES"
     "  ('ejemplo@gmail.com', 'Jesus', 'Mesa Gonzalez', '29/06/1996',"
     "   'Calle Paseo Moreras 39');",
     NULL, NULL},
    /* 1 -> 2: the table keyed on the case-folded mail itself (WITHOUT
     * ROWID): a lookup is one b-tree search instead of index + table, and
     * the primary key is the database's own uniqueness check. */
    {"CREATE TABLE clients_v2 ("
     "  mail TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,"
     "  nombre TEXT NOT NULL,"
     "  apellidos TEXT NOT NULL,"
     "  fecha_nacimiento TEXT NOT NULL,"
     "  direccion TEXT NOT NULL) WITHOUT ROWID;"
     "INSERT INTO clients_v2(mail, nombre, apellidos, fecha_nacimiento, direccion)"
     "  SELECT mail, nombre, apellidos, fecha_nacimiento, direccion FROM clients;"
     "DROP TABLE clients;"
     "ALTER TABLE clients_v2 RENAME TO clients;",
     NULL, NULL},
    /* 2 -> 3: accounts, the audit trail, row versions and times, and the
     * derived columns that search, sort and filter (issues 11 to 13). */
    {V3_TABLES, fill_v3, V3_SWAP},
    /* 3 -> 4: the number of clients, kept by triggers in the transaction of
     * every insert and delete (also of rows written behind the library's
     * back), so that the total a list page shows costs one row, not a scan
     * of the table. */
    {"CREATE TABLE client_total ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  n INTEGER NOT NULL);"
     "INSERT INTO client_total(id, n) SELECT 1, count(*) FROM clients;"
     "CREATE TRIGGER client_total_add AFTER INSERT ON clients"
     "  BEGIN UPDATE client_total SET n = n + 1 WHERE id = 1; END;"
     "CREATE TRIGGER client_total_del AFTER DELETE ON clients"
     "  BEGIN UPDATE client_total SET n = n - 1 WHERE id = 1; END;",
     NULL, NULL},
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Brings the file up to SCHEMA_VERSION under one write transaction, so two
 * processes opening a new file at once seed it exactly once. */
int sq_migrate(sqlite3 *db, char *why, size_t whylen)
{
    int v = 0, rc;
    char sql[64];

    if ((rc = user_version(db, &v)) != SQLITE_OK)
        return rc;
    if (v == SCHEMA_VERSION)
        return SQLITE_OK; /* the common case needs no write: read-only files open */
    if (v > SCHEMA_VERSION) {
        /* refused before any write, so a newer file is left as it is */
        snprintf(why, whylen, "schema version %d is newer than this program's (%d)", v,
                 SCHEMA_VERSION);
        return SQLITE_ERROR;
    }
    if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
        return rc;
    if ((rc = user_version(db, &v)) != SQLITE_OK)
        goto out;
    if (v == SCHEMA_VERSION) { /* another handle migrated it while we waited */
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        goto out;
    }
    if (v > SCHEMA_VERSION) {
        snprintf(why, whylen, "schema version %d is newer than this program's (%d)", v,
                 SCHEMA_VERSION);
        rc = SQLITE_ERROR;
        goto out;
    }
    if (v == 0) {
        /* version 0 must mean "new": refuse to write into someone else's file */
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
        if (rc != SQLITE_OK)
            goto out;
        rc = sqlite3_step(st);
        int tables = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        sqlite3_finalize(st);
        if (tables != 0) {
            snprintf(why, whylen, "file holds a database that is not a clientes store");
            rc = SQLITE_ERROR;
            goto out;
        }
    }
    for (rc = SQLITE_OK; rc == SQLITE_OK && v < SCHEMA_VERSION; v++) {
        const struct migration *m = &migrations[v];
        rc = sqlite3_exec(db, m->sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK && m->fill)
            rc = m->fill(db, why, whylen);
        if (rc == SQLITE_OK && m->after)
            rc = sqlite3_exec(db, m->after, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK)
        goto out;
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
    if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
        goto out;
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
out:
    if (rc != SQLITE_OK) {
        int ext = sqlite3_extended_errcode(db);
        if (!why[0])
            snprintf(why, whylen, "%s", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return ext ? ext : rc;
    }
    return rc;
}
