/* store_pg.c - the PostgreSQL backend: the handle, its connection (lazy,
 * checked before use, backing off after a failed connect), the statement
 * runner with its retry rules and SQLSTATE mapping, the schema migrations,
 * transactions and readiness.  The data operations live in
 * store_pg_clients.c and store_pg_accounts.c. */
#include "store_pg_impl.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* After a failed connect, the next attempt waits 50 ms, then twice as long
 * each time, up to 1 s: a database in maintenance (10 to 60 s on Heroku)
 * sees a few attempts per second per thread, not a storm, and a database
 * back up is noticed within a second. */
#define PG_BACKOFF_MIN_MS 50
#define PG_BACKOFF_MAX_MS 1000
/* Serialization failures and deadlocks are retried this many times. */
#define PG_CONFLICT_RETRIES 3
/* A session idle inside a transaction this long is ended by the server:
 * a handle left in begin() by a stuck caller does not hold locks forever. */
#define PG_IDLE_IN_TXN_MS 30000
/* One constant for "the clientes schema": pg_advisory_xact_lock's key. */
#define PG_MIGRATION_LOCK_KEY "7365221963052461810"

/* ------------------------------------------------------------ helpers */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

enum cl_err pg_fail(struct pg_store *s, enum cl_err e, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(s->base.errmsg, sizeof(s->base.errmsg), "postgresql: ");

    va_start(ap, fmt);
    vsnprintf(s->base.errmsg + n, sizeof(s->base.errmsg) - (size_t)n, fmt, ap);
    va_end(ap);
    return e;
}

/* The first line of a libpq message, without its "ERROR:  "/"FATAL:  "
 * prefix, into out. */
static void first_line(const char *msg, char *out, size_t cap)
{
    size_t n;

    if (!msg)
        msg = "";
    if (strncmp(msg, "ERROR:  ", 8) == 0 || strncmp(msg, "FATAL:  ", 8) == 0)
        msg += 8;
    n = strcspn(msg, "\n");
    snprintf(out, cap, "%.*s", (int)n, msg);
}

/* libpq's messages about a URL it cannot parse may quote the URL, or the
 * piece of it that is wrong (a password with a bad escape): a quoted
 * stretch that is not a plain keyword becomes "...". */
static void scrub_quoted(const char *msg, char *out, size_t cap)
{
    size_t o = 0;

    while (*msg && o + 8 < cap) {
        const char *end;
        if (*msg != '"' || !(end = strchr(msg + 1, '"'))) {
            out[o++] = *msg++;
            continue;
        }
        size_t n = (size_t)(end - msg - 1);
        bool keyword = n > 0 && n <= 32;
        for (size_t i = 1; keyword && i <= n; i++)
            keyword = (msg[i] >= 'a' && msg[i] <= 'z') || msg[i] == '_';
        if (keyword && o + n + 3 < cap) {
            memcpy(out + o, msg, n + 2);
            o += n + 2;
        } else {
            memcpy(out + o, "\"...\"", 5);
            o += 5;
        }
        msg = end + 1;
    }
    out[o] = '\0';
}

void pg_copy(const PGresult *r, int row, int col, char *dst, size_t cap)
{
    size_t n = 0;

    if (!PQgetisnull(r, row, col)) {
        n = (size_t)PQgetlength(r, row, col);
        if (n >= cap) /* only rows written behind the library's back */
            n = cap - 1;
        memcpy(dst, PQgetvalue(r, row, col), n);
    }
    dst[n] = '\0';
}

long long pg_ll(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool pg_bool(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

const char *pg_str(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

const char *pg_num(char buf[24], long long v)
{
    snprintf(buf, 24, "%lld", v);
    return buf;
}

enum cl_err pg_audit_params(struct pg_store *s, const struct audit_entry *a,
                            const char *vals[PG_AUDIT_NPARAMS])
{
    if (!a) {
        for (int i = 0; i < PG_AUDIT_NPARAMS; i++)
            vals[i] = NULL;
        return CL_OK;
    }
    if (!a->at || !a->action)
        return pg_fail(s, CL_INVALID, "an audit row needs a time and an action");
    vals[0] = a->at;
    vals[1] = s->base.actor.actor ? s->base.actor.actor : "cli";
    vals[2] = a->action;
    vals[3] = a->target;
    vals[4] = a->target_key;
    vals[5] = a->changes;
    vals[6] = s->base.actor.request_id;
    vals[7] = s->base.actor.client_addr;
    return CL_OK;
}

/* ------------------------------------------------------------ the connection */

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* a notice is no answer to anything; FATALs show in PQstatus */
}

static bool is_prepared(const struct pg_store *s, int slot)
{
    return s->prepared[slot / 64] >> (slot % 64) & 1;
}

static void set_prepared(struct pg_store *s, int slot, bool on)
{
    if (on)
        s->prepared[slot / 64] |= (uint64_t)1 << (slot % 64);
    else
        s->prepared[slot / 64] &= ~((uint64_t)1 << (slot % 64));
}

/* Forgets the connection (its prepared statements die with it).  Inside a
 * transaction that transaction is gone too. */
static void conn_drop(struct pg_store *s)
{
    PQfinish(s->conn);
    s->conn = NULL;
    memset(s->prepared, 0, sizeof(s->prepared));
    if (s->in_txn)
        s->txn_lost = true;
}

static PGconn *connect_now(struct pg_store *s)
{
    PGconn *conn = PQconnectdbParams(s->kw, s->val, 1);

    if (conn && PQstatus(conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(conn, ignore_notice, NULL);
        return conn;
    }
    char line[200];
    first_line(conn ? PQerrorMessage(conn) : "out of memory", line, sizeof(line));
    pg_fail(s, CL_BUSY, "cannot connect: %s", line);
    PQfinish(conn);
    return NULL;
}

/* One connect attempt, unless a previous one failed less than the backoff
 * ago: then CL_BUSY at once. */
static enum cl_err conn_open(struct pg_store *s)
{
    long long t = now_ms();

    if (t < s->retry_at_ms)
        return pg_fail(s, CL_BUSY, "database unreachable; next connect attempt in %lld ms",
                       s->retry_at_ms - t);
    if (!(s->conn = connect_now(s))) {
        s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : PG_BACKOFF_MIN_MS;
        if (s->backoff_ms > PG_BACKOFF_MAX_MS)
            s->backoff_ms = PG_BACKOFF_MAX_MS;
        s->retry_at_ms = now_ms() + s->backoff_ms;
        return CL_BUSY;
    }
    s->backoff_ms = 0;
    s->retry_at_ms = 0;
    return CL_OK;
}

/* The pre-flight check of an idle connection: it has nothing to say unless
 * it is going away (a FATAL from a terminated backend, then EOF), so read
 * whatever is readable until nothing is; one PQconsumeInput may read the
 * FATAL and still leave the connection "OK". */
static void preflight(struct pg_store *s)
{
    struct pollfd p = {.fd = PQsocket(s->conn), .events = POLLIN};

    for (int i = 0; i < 16 && PQstatus(s->conn) == CONNECTION_OK; i++) {
        if (p.fd < 0 || poll(&p, 1, 0) <= 0)
            break;
        if (!PQconsumeInput(s->conn))
            break;
        PGnotify *n;
        while ((n = PQnotifies(s->conn)))
            PQfreemem(n);
    }
    if (PQstatus(s->conn) != CONNECTION_OK)
        conn_drop(s);
}

/* A connection ready for a statement: the current one if it is alive and
 * idle (outside a transaction of ours, a transaction left open is rolled
 * back), else a new one.  *connects counts the attempts of this call. */
static enum cl_err conn_ready(struct pg_store *s, int *connects)
{
    if (s->txn_lost)
        return pg_fail(s, CL_BUSY,
                       "the connection was lost inside a transaction, which the "
                       "server rolled back; roll back and start again");
    if (s->conn)
        preflight(s);
    if (s->txn_lost)
        return pg_fail(s, CL_BUSY, "the connection was lost inside a transaction");
    if (!s->conn) {
        /* a second connection when the first died under us, never a third */
        if ((*connects)++ >= 2)
            return pg_fail(s, CL_BUSY, "the connection was lost again right after connecting");
        enum cl_err e = conn_open(s);
        if (e)
            return e;
    }
    if (!s->in_txn) {
        PGTransactionStatusType ts = PQtransactionStatus(s->conn);
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            PGresult *r = PQexec(s->conn, "ROLLBACK");
            bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
            if (!ok)
                conn_drop(s);
        } else if (ts != PQTRANS_IDLE) {
            conn_drop(s);
        }
        if (!s->conn)
            return conn_ready(s, connects);
    }
    return CL_OK;
}

/* ------------------------------------------------------------ the runner */

static bool class_is(const char *sqlstate, const char *cls)
{
    return sqlstate && strncmp(sqlstate, cls, 2) == 0;
}

/* What a failed statement means for the caller.  *drop: the connection is
 * not worth keeping (the server is shutting it down). */
static enum cl_err map_sqlstate(const char *st, bool *drop)
{
    *drop = false;
    if (!st)
        return CL_STORAGE;
    if (strcmp(st, "23505") == 0) /* unique_violation */
        return CL_EXISTS;
    if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || /* retried out */
        strcmp(st, "55P03") == 0 ||                             /* lock_timeout */
        strcmp(st, "57014") == 0)                               /* statement_timeout */
        return CL_BUSY;
    if (class_is(st, "57") || class_is(st, "08")) { /* shutdown, connection exceptions */
        *drop = true;
        return CL_BUSY;
    }
    if (class_is(st, "53") && strcmp(st, "53400") != 0) /* disk, memory, connections */
        return CL_BUSY;
    return CL_STORAGE; /* 42501 over plan capacity, 25006 read-only, bugs */
}

static void record_result(struct pg_store *s, const PGresult *r, const char *what)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    /* The primary message only: DETAIL repeats the values of a row (a mail
     * in "Key (mail_key)=(...) already exists"), and logs carry none. */
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char line[200];

    if (!msg)
        first_line(s->conn ? PQerrorMessage(s->conn) : "connection lost", line, sizeof(line));
    else
        first_line(msg, line, sizeof(line));
    pg_fail(s, CL_STORAGE, "%s: %s%s%s%s", what, line, st ? " (SQLSTATE " : "", st ? st : "",
            st ? ")" : "");
}

static bool result_ok(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

enum cl_err pg_run(struct pg_store *s, const struct pg_query *q, PGresult **res)
{
    int connects = 0, conflicts = 0, reprepared = 0;
    bool resent = false;
    char name[16];

    *res = NULL;
    s->base.errmsg[0] = '\0';
    snprintf(name, sizeof(name), "s%d", q->slot);
    for (;;) {
        enum cl_err e = conn_ready(s, &connects);
        PGresult *r;
        bool drop;

        if (e)
            return e;
        if (!is_prepared(s, q->slot)) {
            char sql[4096];
            const char *text = q->sql;
            if (!text) {
                q->build(q->variant, sql, sizeof(sql));
                text = sql;
            }
            r = PQprepare(s->conn, name, text, q->nparams, NULL);
            if (!result_ok(r)) {
                record_result(s, r, "prepare");
                bool lost = PQstatus(s->conn) != CONNECTION_OK;
                e = lost ? CL_BUSY
                         : map_sqlstate(r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL, &drop);
                PQclear(r);
                if (lost) {
                    conn_drop(s);
                    if (!s->in_txn)
                        continue; /* nothing ran: safe to try again (once: connects) */
                }
                return e;
            }
            PQclear(r);
            set_prepared(s, q->slot, true);
        }
        r = PQexecPrepared(s->conn, name, q->nparams, q->values, NULL, NULL, 0);
        if (result_ok(r)) {
            *res = r;
            return CL_OK;
        }
        record_result(s, r, "query");
        const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (!r || PQstatus(s->conn) != CONNECTION_OK || class_is(st, "08") ||
            (st && strncmp(st, "57P0", 4) == 0)) {
            /* Sent, then the connection died (or the server is ending the
             * session: a FATAL in answer): the statement may or may not
             * have committed.  A read is asked again; a write is not. */
            PQclear(r);
            conn_drop(s);
            if (q->retry == PG_READ && !resent && !s->in_txn) {
                resent = true;
                continue;
            }
            return CL_BUSY;
        }
        if (st && strcmp(st, "26000") == 0 && !s->in_txn && reprepared++ == 0) {
            /* the statement vanished (DISCARD ALL, a pooler): prepare again */
            PQclear(r);
            set_prepared(s, q->slot, false);
            continue;
        }
        if (st && (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) && !s->in_txn &&
            conflicts++ < PG_CONFLICT_RETRIES) {
            /* rolled back by the server: nothing was done, so do it again */
            PQclear(r);
            sleep_ms(2 + now_ms() % 8 * conflicts);
            continue;
        }
        e = map_sqlstate(st, &drop);
        PQclear(r);
        if (drop)
            conn_drop(s);
        return e;
    }
}

enum cl_err pg_run_rows(struct pg_store *s, const struct pg_query *q, long long *rows)
{
    PGresult *r;
    enum cl_err e = pg_run(s, q, &r);

    if (!e && rows)
        *rows = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return e;
}

/* ------------------------------------------------------------ schema */

/* migrations[i] brings a database from version i to i + 1, inside the
 * migration's transaction.  The first one creates everything and stores
 * the example client, so a database gets it once, when it is created, and
 * never again (a deleted example stays deleted).
 *
 * Text the library compares is COLLATE "C": bytes, as SQLite's BINARY, so
 * both backends order and find alike.  The mail's key is lower() of the
 * mail under "C", which folds ASCII only, as SQLite's NOCASE does (and
 * mails are ASCII); under another collation lower() would follow its
 * language ("I" -> dotless "ı" in Turkish).  Not citext, which a text
 * parameter turns into a case-sensitive scan, nor a nondeterministic ICU
 * collation, which orders unlike SQLite and refuses LIKE. */
static const char *const migrations[STORE_PG_SCHEMA_VERSION] = {
    "CREATE TABLE clientes_schema (version integer NOT NULL);"
    "CREATE SEQUENCE client_version AS bigint;"
    "CREATE TABLE clients ("
    "  mail text NOT NULL,"
    "  mail_key text COLLATE \"C\" GENERATED ALWAYS AS (lower(mail COLLATE \"C\")) STORED"
    "    PRIMARY KEY,"
    "  nombre text NOT NULL,"
    "  apellidos text NOT NULL,"
    "  fecha_nacimiento text NOT NULL,"
    "  direccion text NOT NULL,"
    "  nombre_key text COLLATE \"C\" NOT NULL,"
    "  apellidos_key text COLLATE \"C\" NOT NULL,"
    "  fecha_iso text COLLATE \"C\" NOT NULL,"
    "  search text COLLATE \"C\" NOT NULL,"
    "  creado text COLLATE \"C\" NOT NULL,"
    "  modificado text COLLATE \"C\" NOT NULL,"
    "  version bigint NOT NULL);"
    "CREATE INDEX clients_nombre ON clients (nombre_key, mail_key);"
    "CREATE INDEX clients_apellidos ON clients (apellidos_key, mail_key);"
    "CREATE INDEX clients_fecha ON clients (fecha_iso, mail_key);"
    "CREATE INDEX clients_creado ON clients (creado, mail_key);"
    "CREATE INDEX clients_modificado ON clients (modificado, mail_key);"
    "CREATE TABLE audit ("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  at text COLLATE \"C\" NOT NULL,"
    "  actor text COLLATE \"C\" NOT NULL,"
    "  action text COLLATE \"C\" NOT NULL,"
    "  target text,"
    "  target_key text COLLATE \"C\","
    "  changes text,"
    "  request_id text,"
    "  client_addr text);"
    "CREATE INDEX audit_target ON audit (target_key, id) WHERE target_key IS NOT NULL;"
    "CREATE INDEX audit_actor ON audit (actor, id);"
    "CREATE INDEX audit_at ON audit (at);"
    /* Append-only, as SQLite's: the one update allowed is an erasure's,
     * which clears the personal values and nothing else; the one delete
     * allowed is pruning, of rows older than a day. */
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_OP = 'UPDATE' THEN"
    "   IF NOT (NEW.target IS NULL AND NEW.target_key IS NULL AND NEW.changes IS NULL"
    "     AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor"
    "     AND NEW.action = OLD.action"
    "     AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id"
    "     AND NEW.client_addr IS NOT DISTINCT FROM OLD.client_addr) THEN"
    "    RAISE EXCEPTION 'audit rows are append-only';"
    "   END IF;"
    "   RETURN NEW;"
    "  END IF;"
    "  IF OLD.at >= to_char((now() - interval '1 day') AT TIME ZONE 'UTC',"
    "    'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') THEN"
    "   RAISE EXCEPTION 'audit rows younger than a day are kept';"
    "  END IF;"
    "  RETURN OLD;"
    " END $$;"
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit"
    "  FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
    "CREATE TABLE users ("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  name text COLLATE \"C\" NOT NULL UNIQUE,"
    "  pwhash text NOT NULL,"
    "  role text NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),"
    "  disabled boolean NOT NULL DEFAULT false,"
    "  fail_count integer NOT NULL DEFAULT 0,"
    "  fail_since bigint NOT NULL DEFAULT 0,"
    "  creado text COLLATE \"C\" NOT NULL);"
    "CREATE TABLE tokens ("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  label text NOT NULL,"
    "  digest text COLLATE \"C\" NOT NULL UNIQUE,"
    "  role text NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),"
    "  user_id bigint REFERENCES users (id),"
    "  creado text COLLATE \"C\" NOT NULL,"
    "  expires bigint NOT NULL DEFAULT 0,"
    "  revoked bigint NOT NULL DEFAULT 0,"
    "  last_used bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE sessions ("
    "  digest text COLLATE \"C\" PRIMARY KEY,"
    "  user_id bigint NOT NULL REFERENCES users (id),"
    "  created bigint NOT NULL,"
    "  last_seen bigint NOT NULL);"
    "CREATE INDEX sessions_user ON sessions (user_id);"
    /* the example client; its keys as client_keys_of() computes them */
    "INSERT INTO clients (mail, nombre, apellidos, fecha_nacimiento, direccion, nombre_key,"
    "  apellidos_key, fecha_iso, search, creado, modificado, version)"
    "  SELECT 'ejemplo@gmail.com', 'Jesus', 'Mesa Gonzalez', '29/06/1996',"
    "    'Calle Paseo Moreras 39', 'jesus', 'mesa gonzalez', '1996-06-29',"
    "    'jesus mesa gonzalez ejemplo@gmail.com', t, t, nextval('client_version')"
    "  FROM (SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC',"
    "    'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS t) now;"
    "INSERT INTO clientes_schema VALUES (0);",

    /* 2: the number of clients, kept in the transaction of each change, so
     * a list's total reads 16 rows rather than counting 100 000 (6.5 ms
     * here).  Not one row updated per insert: a transaction inserting N
     * rows (an import) would chain N versions of it, each update walking
     * the chain (20 000 rows took 2.2 s, 40 000 took 8.5 s).  Instead each
     * row adds its +1/-1 to a setting local to the transaction, and a
     * deferred trigger, at commit, writes the sum once into one of 16
     * slots (by backend, so concurrent writers rarely share one); the
     * later deferred calls find the sum spent.  A rolled-back transaction
     * or savepoint takes its setting back with it.  The table is locked
     * while the first count is taken, so no write slips in between. */
    "LOCK TABLE clients IN SHARE ROW EXCLUSIVE MODE;"
    "CREATE TABLE client_total (slot integer PRIMARY KEY, n bigint NOT NULL);"
    "INSERT INTO client_total SELECT s, 0 FROM generate_series(0, 15) s;"
    "UPDATE client_total SET n = (SELECT count(*) FROM clients) WHERE slot = 0;"
    "CREATE FUNCTION client_total_note() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  PERFORM set_config('clientes.total_delta',"
    "    (coalesce(nullif(current_setting('clientes.total_delta', true), ''), '0')::bigint"
    "     + CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END)::text, true);"
    "  RETURN NULL;"
    " END $$;"
    "CREATE FUNCTION client_total_flush() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE d bigint := coalesce(nullif(current_setting('clientes.total_delta', true), ''),"
    "   '0')::bigint;"
    " BEGIN"
    "  IF d <> 0 THEN"
    "   UPDATE client_total SET n = n + d WHERE slot = pg_backend_pid() % 16;"
    "   PERFORM set_config('clientes.total_delta', '0', true);"
    "  END IF;"
    "  RETURN NULL;"
    " END $$;"
    "CREATE TRIGGER client_total_note AFTER INSERT OR DELETE ON clients"
    "  FOR EACH ROW EXECUTE FUNCTION client_total_note();"
    "CREATE CONSTRAINT TRIGGER client_total_flush AFTER INSERT OR DELETE ON clients"
    "  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION client_total_flush();",
};

/* Runs sql on conn; CL_OK, or the mapped error with the detail recorded. */
static enum cl_err exec_simple(struct pg_store *s, PGconn *conn, const char *sql, PGresult **keep)
{
    PGresult *r = PQexec(conn, sql);
    bool drop;

    if (result_ok(r)) {
        if (keep)
            *keep = r;
        else
            PQclear(r);
        return CL_OK;
    }
    char line[200];
    first_line(PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(conn), line,
               sizeof(line));
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    enum cl_err e = PQstatus(conn) != CONNECTION_OK ? CL_BUSY : map_sqlstate(st, &drop);
    pg_fail(s, e, "schema: %s%s%s%s", line, st ? " (SQLSTATE " : "", st ? st : "", st ? ")" : "");
    PQclear(r);
    if (keep)
        *keep = NULL;
    return e;
}

/* The version of the database on conn: 0 when it has no version table. */
static enum cl_err read_version(struct pg_store *s, PGconn *conn, int *v)
{
    PGresult *r;
    enum cl_err e = exec_simple(s, conn, "SELECT to_regclass('clientes_schema') IS NOT NULL", &r);

    if (e)
        return e;
    bool has = pg_bool(r, 0, 0);
    PQclear(r);
    *v = 0;
    if (!has)
        return CL_OK;
    if ((e = exec_simple(s, conn, "SELECT coalesce(max(version), 0) FROM clientes_schema", &r)))
        return e;
    *v = (int)pg_ll(r, 0, 0);
    PQclear(r);
    return CL_OK;
}

static enum cl_err newer_schema(struct pg_store *s, int v)
{
    return pg_fail(s, CL_STORAGE,
                   "the database's schema is at version %d, newer than this program's (%d): "
                   "a newer clientes migrated it; run that version (or restore a backup "
                   "taken before it)",
                   v, STORE_PG_SCHEMA_VERSION);
}

/* Brings the database up to STORE_PG_SCHEMA_VERSION.  The common case is
 * one read and no lock.  Otherwise under an advisory lock, so processes
 * starting at once wait for each other and the one that comes second sees
 * the work done (CREATE TABLE IF NOT EXISTS is not safe against itself).
 * The lock is the session's, taken before the transaction begins: a
 * transaction starting after the wait reads the catalogs afresh, where one
 * that waited inside itself still believes its first look ("no such
 * table": a cached negative lookup, or a REPEATABLE READ snapshot) and
 * finds the other's tables in its way.  The connection is the open's own
 * and closed after it, so the lock never outlives the migration.  DDL is
 * transactional: a failure leaves nothing. */
static enum cl_err migrate(struct pg_store *s, PGconn *conn)
{
    char sql[160];
    enum cl_err e;
    PGresult *r;
    int v;

    if ((e = read_version(s, conn, &v)))
        return e;
    if (v == STORE_PG_SCHEMA_VERSION)
        return CL_OK;
    if (v > STORE_PG_SCHEMA_VERSION)
        return newer_schema(s, v);
    if ((e = exec_simple(s, conn,
                         "SET lock_timeout = '60s'; SET statement_timeout = '600s';"
                         "SELECT pg_advisory_lock(" PG_MIGRATION_LOCK_KEY ")",
                         NULL)))
        return e;
    if ((e = exec_simple(s, conn, "BEGIN ISOLATION LEVEL READ COMMITTED", NULL)))
        goto fail;
    if ((e = read_version(s, conn, &v)))
        goto fail;
    if (v > STORE_PG_SCHEMA_VERSION) {
        e = newer_schema(s, v);
        goto fail;
    }
    if (v == 0) {
        /* version 0 must mean "new": refuse to write into someone else's tables */
        if ((e = exec_simple(s, conn,
                             "SELECT to_regclass('clients') IS NOT NULL"
                             " OR to_regclass('users') IS NOT NULL"
                             " OR to_regclass('audit') IS NOT NULL",
                             &r)))
            goto fail;
        bool taken = pg_bool(r, 0, 0);
        PQclear(r);
        if (taken) {
            e = pg_fail(s, CL_STORAGE,
                        "the database holds tables named like clientes' (clients, users or "
                        "audit) but no clientes schema version: not a clientes store");
            goto fail;
        }
    }
    for (; v < STORE_PG_SCHEMA_VERSION; v++)
        if ((e = exec_simple(s, conn, migrations[v], NULL)))
            goto fail;
    snprintf(sql, sizeof(sql), "UPDATE clientes_schema SET version = %d; COMMIT",
             STORE_PG_SCHEMA_VERSION);
    if ((e = exec_simple(s, conn, sql, NULL)))
        goto fail;
    r = PQexec(conn, "SELECT pg_advisory_unlock(" PG_MIGRATION_LOCK_KEY ")");
    PQclear(r);
    return CL_OK;
fail:
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
        r = PQexec(conn, "ROLLBACK");
        PQclear(r);
    }
    r = PQexec(conn, "SELECT pg_advisory_unlock(" PG_MIGRATION_LOCK_KEY ")");
    PQclear(r);
    return e;
}

/* ------------------------------------------------------------ handle ops */

static enum cl_err pg_ping(struct store *base)
{
    struct pg_store *s = pg_of(base);
    struct pg_query q = {.slot = ST_PING, .sql = "SELECT 1", .retry = PG_READ};
    PGresult *r;
    enum cl_err e = pg_run(s, &q, &r);

    PQclear(r);
    return e;
}

static enum cl_err pg_ready(struct store *base, const char **reason)
{
    struct pg_store *s = pg_of(base);
    struct pg_query q = {
        .slot = ST_READY,
        /* a read of clients itself, so that a lock on it shows here too */
        .sql = "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on',"
               " NOT has_table_privilege('clients', 'INSERT'),"
               " (SELECT max(version) FROM clientes_schema),"
               " (SELECT count(*) FROM (SELECT 1 FROM clients LIMIT 1) one)",
        .retry = PG_READ};
    const char *why = NULL;
    PGresult *r;
    enum cl_err e = pg_run(s, &q, &r);

    if (e == CL_BUSY && strstr(s->base.errmsg, "55P03")) {
        why = "la base de datos esta bloqueada";
    } else if (e == CL_BUSY) {
        why = "la base de datos no responde";
    } else if (e) {
        why = "la base de datos no responde a una lectura";
    } else {
        int v = (int)pg_ll(r, 0, 2);
        if (pg_bool(r, 0, 0)) {
            e = pg_fail(s, CL_STORAGE, "the database is read-only (a standby or a follower?)");
            why = "la base de datos es de solo lectura";
        } else if (pg_bool(r, 0, 1)) {
            e = pg_fail(s, CL_STORAGE,
                        "the database refuses writes to clients (no INSERT privilege: over "
                        "the plan's capacity?)");
            why = "la base de datos no admite escrituras";
        } else if (v > STORE_PG_SCHEMA_VERSION) {
            e = newer_schema(s, v);
            why = "la base de datos tiene un esquema mas nuevo";
        }
        PQclear(r);
    }
    if (e && reason)
        *reason = why;
    return e;
}

static enum cl_err pg_begin(struct store *base)
{
    struct pg_store *s = pg_of(base);
    struct pg_query q = {.slot = ST_BEGIN, .sql = "BEGIN", .retry = PG_WRITE};
    PGresult *r;
    enum cl_err e;

    if (s->in_txn)
        return pg_fail(s, CL_INVALID, "a transaction is already open on this handle");
    e = pg_run(s, &q, &r);
    PQclear(r);
    if (!e) {
        s->in_txn = true;
        s->txn_lost = false;
    }
    return e;
}

static enum cl_err pg_commit(struct store *base)
{
    struct pg_store *s = pg_of(base);
    struct pg_query q = {.slot = ST_COMMIT, .sql = "COMMIT", .retry = PG_WRITE};
    PGresult *r;
    enum cl_err e;

    if (!s->in_txn)
        return pg_fail(s, CL_INVALID, "no transaction is open on this handle");
    if (s->txn_lost) {
        s->in_txn = s->txn_lost = false;
        return pg_fail(s, CL_BUSY,
                       "the connection was lost inside the transaction, which the "
                       "server rolled back");
    }
    e = pg_run(s, &q, &r);
    /* COMMIT of a transaction that failed answers ROLLBACK, without error */
    if (!e && strcmp(PQcmdStatus(r), "COMMIT") != 0)
        e = pg_fail(s, CL_STORAGE, "a statement of the transaction failed: it was rolled back");
    PQclear(r);
    s->in_txn = s->txn_lost = false;
    return e;
}

static enum cl_err pg_rollback(struct store *base)
{
    struct pg_store *s = pg_of(base);
    struct pg_query q = {.slot = ST_ROLLBACK, .sql = "ROLLBACK", .retry = PG_WRITE};
    PGresult *r;
    enum cl_err e = CL_OK;

    if (!s->in_txn)
        return pg_fail(s, CL_INVALID, "no transaction is open on this handle");
    if (!s->txn_lost && s->conn) {
        e = pg_run(s, &q, &r);
        PQclear(r);
        if (e == CL_BUSY)
            e = CL_OK; /* the connection is gone, and the transaction with it */
    }
    s->in_txn = s->txn_lost = false;
    return e;
}

static void pg_close(struct store *base)
{
    struct pg_store *s = pg_of(base);

    PQfinish(s->conn);
    free(s->url);
    free(s);
}

static const struct store_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .ping = pg_ping,
    .ready = pg_ready,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .get = pg_get,
    .add = pg_add,
    .update = pg_update,
    .del = pg_del,
    .erase = pg_erase,
    .count = pg_count,
    .list = pg_list,
    .audit_add = pg_audit_add,
    .audit_list = pg_audit_list,
    .audit_prune = pg_audit_prune,
    .user_add = pg_user_add,
    .user_get = pg_user_get,
    .user_get_id = pg_user_get_id,
    .user_update = pg_user_update,
    .user_login = pg_user_login,
    .user_list = pg_user_list,
    .user_count = pg_user_count,
    .token_add = pg_token_add,
    .token_find = pg_token_find,
    .token_touch = pg_token_touch,
    .token_revoke = pg_token_revoke,
    .token_list = pg_token_list,
    .session_add = pg_session_add,
    .session_find = pg_session_find,
    .session_touch = pg_session_touch,
    .session_delete = pg_session_delete,
    .session_prune = pg_session_prune,
};

/* ------------------------------------------------------------ open */

bool store_pg_url(const char *url)
{
    return url &&
           (strncasecmp(url, "postgres://", 11) == 0 || strncasecmp(url, "postgresql://", 13) == 0);
}

/* An integer knob from the environment; the default when unset or empty. */
static int knob(const char *name, int def, int min, int max, int *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    char *end;
    long n;

    *out = def;
    if (!v || !*v)
        return 0;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < min || n > max) {
        if (err && errlen)
            snprintf(err, errlen, "%s must be a number from %d to %d", name, min, max);
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* A connect failure that waiting will not cure: the server answered and
 * refused (libpq gives no SQLSTATE for these, only its message). */
static bool refused_for_good(const char *msg)
{
    static const char *const signs[] = {
        "authentication failed", "does not exist", "pg_hba.conf", "SSL",
        "certificate",           "password",       "invalid",     "unsupported"};
    for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++)
        if (strstr(msg, signs[i]))
            return true;
    return false;
}

enum cl_err store_pg_open(const char *url, struct store **out, char *err, size_t errlen)
{
    struct pg_store *s;
    PQconninfoOption *parsed;
    char *msg = NULL, opts_url[512] = "";
    int ct, st_ms, lock_ms, n = 0;
    const char *dyno = getenv("DYNO");
    PGconn *conn = NULL;
    long long deadline;
    enum cl_err e;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    s = calloc(1, sizeof(*s));
    if (!s || !(s->url = strdup(url))) {
        free(s);
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return CL_NOMEM;
    }
    s->base.ops = &pg_ops;
    if (knob(STORE_PG_CONNECT_TIMEOUT_ENV, STORE_PG_CONNECT_TIMEOUT_DEF,
             STORE_PG_CONNECT_TIMEOUT_MIN, STORE_PG_CONNECT_TIMEOUT_MAX, &ct, err, errlen) ||
        knob(STORE_PG_STATEMENT_TIMEOUT_ENV, STORE_PG_STATEMENT_TIMEOUT_DEF,
             STORE_PG_STATEMENT_TIMEOUT_MIN, STORE_PG_STATEMENT_TIMEOUT_MAX, &st_ms, err, errlen) ||
        knob(STORE_PG_LOCK_TIMEOUT_ENV, STORE_PG_LOCK_TIMEOUT_DEF, STORE_PG_LOCK_TIMEOUT_MIN,
             STORE_PG_LOCK_TIMEOUT_MAX, &lock_ms, err, errlen) ||
        knob(STORE_PG_OPEN_WAIT_ENV, STORE_PG_OPEN_WAIT_DEF, STORE_PG_OPEN_WAIT_MIN,
             STORE_PG_OPEN_WAIT_MAX, &s->open_wait_s, err, errlen)) {
        pg_close(&s->base);
        return CL_INVALID;
    }
    /* libpq reads the URL; we only need its `options`, to put ours first */
    if (!(parsed = PQconninfoParse(url, &msg))) {
        char clean[300];
        scrub_quoted(msg ? msg : "out of memory", clean, sizeof(clean));
        if (err && errlen)
            snprintf(err, errlen, "invalid PostgreSQL URL: %.*s", (int)strcspn(clean, "\n"), clean);
        PQfreemem(msg);
        pg_close(&s->base);
        return msg ? CL_INVALID : CL_NOMEM;
    }
    for (PQconninfoOption *o = parsed; o->keyword; o++)
        if (strcmp(o->keyword, "options") == 0 && o->val)
            snprintf(opts_url, sizeof(opts_url), "%s", o->val);
    PQconninfoFree(parsed);
    if (!opts_url[0] && getenv("PGOPTIONS"))
        snprintf(opts_url, sizeof(opts_url), "%s", getenv("PGOPTIONS"));
    snprintf(s->connect_timeout, sizeof(s->connect_timeout), "%d", ct);
    snprintf(s->app_name, sizeof(s->app_name), "clientes%s%.64s", dyno && *dyno ? "/" : "",
             dyno && *dyno ? dyno : "");
    snprintf(s->options, sizeof(s->options),
             "-c statement_timeout=%d -c lock_timeout=%d "
             "-c idle_in_transaction_session_timeout=%d %s",
             st_ms, lock_ms, PG_IDLE_IN_TXN_MS, opts_url);
    /* Before dbname: defaults the URL (and PG* variables) may override. */
#define KW(k, v) (s->kw[n] = (k), s->val[n] = (v), n++)
    if (!getenv("PGSSLMODE"))
        KW("sslmode", "require");
    if (!getenv("PGCONNECT_TIMEOUT"))
        KW("connect_timeout", s->connect_timeout);
    KW("keepalives", "1");
    KW("keepalives_idle", "30");
    KW("keepalives_interval", "10");
    KW("keepalives_count", "3");
    KW("tcp_user_timeout", "30000");
    KW("fallback_application_name", s->app_name);
    KW("dbname", s->url);
    /* After: what we insist on, the URL's own options included. */
    KW("options", s->options);
#undef KW
    s->kw[n] = s->val[n] = NULL;

    /* Check (and migrate) now, so a bad URL or database stops a program at
     * once; wait a bounded time for a server that does not answer yet. */
    deadline = now_ms() + (long long)s->open_wait_s * 1000;
    while (!(conn = connect_now(s))) {
        if (refused_for_good(s->base.errmsg) || now_ms() >= deadline) {
            e = refused_for_good(s->base.errmsg) ? CL_STORAGE : CL_BUSY;
            goto fail;
        }
        sleep_ms(250);
    }
    if ((e = migrate(s, conn)))
        goto fail;
    /* Lazy: the handle connects when first used (idle threads hold no
     * connection of the database's few). */
    PQfinish(conn);
    *out = &s->base;
    return CL_OK;
fail:
    if (err && errlen)
        snprintf(err, errlen, "cannot open PostgreSQL store%s%s%s%s: %s", conn ? " " : "",
                 conn ? PQdb(conn) : "", conn ? " on " : "", conn ? PQhost(conn) : "",
                 s->base.errmsg + strlen("postgresql: "));
    PQfinish(conn);
    pg_close(&s->base);
    return e;
}
