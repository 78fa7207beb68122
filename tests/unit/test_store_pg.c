/* test_store_pg.c - what only the PostgreSQL backend does: its schema and
 * concurrent migrations, its connection (lazy, checked before use,
 * reconnected, backing off), its retry rules and SQLSTATE mapping, walks in
 * short pages, readiness, and URLs whose secrets never reach a message.
 * The semantics shared with SQLite are the store suites' *_pg twins. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "error.h"
#include "fold.h"
#include "manager.h"
#include "pg_support.h"
#include "store.h"
#include "store_pg.h"
#include "support.h"

#define EX_MAIL TS_EXAMPLE_MAIL
#define NOW "2026-12-01T11:35:09.123Z"

struct fx {
    char url[1200]; /* the fresh store's URL, with application_name = app */
    char app[48];
    struct store *s;
};

static unsigned app_seq;

static int setup_url(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    char base[1024], err[512];

    if (!fx)
        return -1;
    if (ts_pg_fresh_url(base, sizeof(base), err, sizeof(err)) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        free(fx);
        return -1;
    }
    /* a name of its own, to find this test's sessions in pg_stat_activity */
    snprintf(fx->app, sizeof(fx->app), "tpg_%ld_%u", (long)getpid(), ++app_seq);
    snprintf(fx->url, sizeof(fx->url), "%s&application_name=%s", base, fx->app);
    *state = fx;
    return 0;
}

static int setup_store(void **state)
{
    char err[512];

    if (setup_url(state) != 0)
        return -1;
    struct fx *fx = *state;
    if (store_open(fx->url, &fx->s, err, sizeof(err)) != CL_OK) {
        fprintf(stderr, "setup: %s\n", err);
        free(fx);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    store_close(fx->s);
    free(fx);
    unsetenv(STORE_PG_STATEMENT_TIMEOUT_ENV);
    unsetenv(STORE_PG_LOCK_TIMEOUT_ENV);
    unsetenv(STORE_PG_OPEN_WAIT_ENV);
    unsetenv("DYNO");
    return 0;
}

/* ---- helpers that fail the test on the spot */

static void sql(const struct fx *fx, const char *q)
{
    char err[512];
    if (ts_pg_exec(fx->url, q, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static void admin_sql(const char *url, const char *q)
{
    char err[512];
    if (ts_pg_admin_exec(url, q, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static long long sql_int(const struct fx *fx, const char *q)
{
    char err[512];
    long long v = ts_pg_int(fx->url, q, err, sizeof(err));
    if (v == -2)
        fail_msg("%s", err);
    return v;
}

/* A number from the cluster's "postgres" database, as its superuser: the
 * helpers' own sessions carry no application name of the test's. */
static long long admin_int(const char *q)
{
    char err[512];
    long long v = ts_pg_admin_int(NULL, q, err, sizeof(err));
    if (v == -2)
        fail_msg("%s", err);
    return v;
}

/* How many sessions this test's handles hold (pg_stat_activity). */
static long long sessions(const struct fx *fx)
{
    char q[256];
    snprintf(q, sizeof(q), "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'",
             fx->app);
    return admin_int(q);
}

/* Terminates this test's sessions (as a failover or pg:killall would) and
 * waits until they are gone; a handle may connect again meanwhile. */
static void kill_sessions(const struct fx *fx)
{
    char q[400];
    long long t = admin_int("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint");

    snprintf(q, sizeof(q),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '%s'",
             fx->app);
    admin_sql(NULL, q);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'"
             " AND backend_start <= to_timestamp(%lld / 1000000.0)",
             fx->app, t);
    for (int i = 0; i < 500 && admin_int(q) > 0; i++)
        usleep(10000);
    assert_int_equal(admin_int(q), 0);
}

/* Waits until one of this test's sessions waits on a lock. */
static void wait_blocked(const struct fx *fx)
{
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'"
             " AND wait_event_type = 'Lock'",
             fx->app);
    for (int i = 0; i < 1000; i++) {
        if (admin_int(q) > 0)
            return;
        usleep(10000);
    }
    fail_msg("no session of the test waits on the lock");
}

/* Another session on the same store, outside the library. */
static PGconn *other(const struct fx *fx)
{
    PGconn *c = PQconnectdb(fx->url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    /* not this test's application name: kill_sessions() spares it */
    PGresult *r = PQexec(c, "SET application_name = 'other'");
    PQclear(r);
    return c;
}

static void other_sql(PGconn *c, const char *q)
{
    PGresult *r = PQexec(c, q);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", q, PQerrorMessage(c));
    PQclear(r);
}

/* ---- records, without the manager: the keys as client_keys_of() makes them */

static void keys_of(const struct client *c, struct client_keys *k)
{
    size_t i;
    memset(k, 0, sizeof(*k));
    for (i = 0; c->mail[i]; i++)
        k->mail_key[i] =
            (char)(c->mail[i] >= 'A' && c->mail[i] <= 'Z' ? c->mail[i] + 32 : c->mail[i]);
    fold_text(c->nombre, strlen(c->nombre), k->nombre_key);
    fold_text(c->apellidos, strlen(c->apellidos), k->apellidos_key);
    unsigned d = 0, m = 0, y = 0;
    if (sscanf(c->fecha_nacimiento, "%u/%u/%u", &d, &m, &y) == 3)
        snprintf(k->fecha_iso, sizeof(k->fecha_iso), "%04u-%02u-%02u", y % 10000, m % 100, d % 100);
    else
        snprintf(k->fecha_iso, sizeof(k->fecha_iso), "%s", c->fecha_nacimiento);
    snprintf(k->search, sizeof(k->search), "%s %s %s", k->nombre_key, k->apellidos_key,
             k->mail_key);
}

static void make(struct client *c, const char *nombre, const char *mail)
{
    if (ts_client(c, nombre, "Apellido Prueba", mail, "01/02/1990", "Calle Mayor 1") != CL_OK)
        fail_msg("test data refused: %s", mail);
}

static const struct audit_entry create_row = {.at = NOW, .action = "client.create"};

static enum cl_err add(struct store *s, const char *nombre, const char *mail)
{
    struct client c;
    struct client_keys k;
    struct client_meta m;
    struct audit_entry a = create_row;
    make(&c, nombre, mail);
    keys_of(&c, &k);
    a.target = c.mail;
    a.target_key = k.mail_key;
    return s->ops->add(s, &c, &k, NOW, &a, &m);
}

static enum cl_err get(struct store *s, const char *mail, struct client *out, struct client_meta *m)
{
    return s->ops->get(s, mail, out, m);
}

/* ---- schema and migrations */

/* A new database gets the schema, the example client once, and no audit
 * row; a deleted example stays deleted when the store is opened again. */
static void test_new_database_seeded_once(void **state)
{
    struct fx *fx = *state;
    struct client c;
    struct client_meta m;
    char err[512];

    assert_int_equal(sql_int(fx, "SELECT version FROM clientes_schema"), STORE_PG_SCHEMA_VERSION);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clientes_schema"), 1);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients"), 1);
    assert_int_equal(get(fx->s, "EJEMPLO@gmail.com", &c, &m), CL_OK);
    assert_string_equal(c.mail, EX_MAIL);
    assert_string_equal(c.nombre, "Jesus");
    assert_int_equal(strlen(m.creado), STORE_TIME_LEN);
    assert_string_equal(m.creado, m.modificado);
    assert_true(m.version > 0);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM audit"), 0);
    /* the keys the library would have computed for the example */
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients WHERE nombre_key = 'jesus' AND"
                                 " apellidos_key = 'mesa gonzalez' AND fecha_iso = '1996-06-29'"
                                 " AND search = 'jesus mesa gonzalez ejemplo@gmail.com'"),
                     1);

    assert_int_equal(fx->s->ops->del(fx->s, EX_MAIL, m.version, NULL), CL_OK);
    store_close(fx->s);
    fx->s = NULL;
    assert_int_equal(store_open(fx->url, &fx->s, err, sizeof(err)), CL_OK);
    assert_int_equal(get(fx->s, EX_MAIL, &c, NULL), CL_NOT_FOUND);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients"), 0);
}

/* The total of a list reads the count kept by the schema's triggers; it
 * follows every insert and delete, the library's and those behind its back,
 * in one statement or many, and a rolled-back transaction leaves it alone.
 * A database at version 1 gets it, counted, when opened. */
static long long total(struct store *s)
{
    struct client_query q = {0};
    long long n = -1;
    assert_int_equal(s->ops->count(s, &q, &n), CL_OK);
    return n;
}

#define BEHIND "INSERT INTO clients (mail, nombre, apellidos, fecha_nacimiento, direccion," \
               " nombre_key, apellidos_key, fecha_iso, search, creado, modificado, version)" \
               " SELECT 'b' || i || '@example.com', 'B', 'C', '1/1/1990', 'D', 'b', 'c'," \
               " '1990-01-01', 'b c', 'x', 'x', nextval('client_version')"

static void test_total_kept_by_the_database(void **state)
{
    struct fx *fx = *state;
    char err[512];

    assert_int_equal(total(fx->s), 1); /* the example */
    assert_int_equal(add(fx->s, "Ana", "ana@example.com"), CL_OK);
    assert_int_equal(add(fx->s, "Ana", "ANA@example.com"), CL_EXISTS);
    assert_int_equal(total(fx->s), 2);
    sql(fx, BEHIND " FROM generate_series(1, 3) i");
    assert_int_equal(total(fx->s), 5);
    sql(fx, "BEGIN; " BEHIND " FROM generate_series(4, 5) i;"
            " DELETE FROM clients WHERE mail = 'b1@example.com'; COMMIT");
    assert_int_equal(total(fx->s), 6);
    /* many writes in one transaction of the library; then one rolled back */
    assert_int_equal(fx->s->ops->begin(fx->s), CL_OK);
    for (int i = 0; i < 50; i++) {
        char mail[40];
        snprintf(mail, sizeof(mail), "t%d@example.com", i);
        assert_int_equal(add(fx->s, "Tx", mail), CL_OK);
    }
    assert_int_equal(fx->s->ops->commit(fx->s), CL_OK);
    assert_int_equal(total(fx->s), 56);
    assert_int_equal(fx->s->ops->begin(fx->s), CL_OK);
    assert_int_equal(add(fx->s, "Tx", "rolled@example.com"), CL_OK);
    assert_int_equal(fx->s->ops->rollback(fx->s), CL_OK);
    sql(fx, "BEGIN; " BEHIND " FROM generate_series(6, 9) i;"
            " SAVEPOINT a; DELETE FROM clients; ROLLBACK TO a; COMMIT");
    assert_int_equal(total(fx->s), 60);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients"), 60);
    sql(fx, "DELETE FROM clients WHERE mail LIKE 't%'");
    assert_int_equal(total(fx->s), 10);

    /* back to version 1, rows written meanwhile, opened again: counted */
    store_close(fx->s);
    fx->s = NULL;
    sql(fx, "DROP TRIGGER client_total_note ON clients;"
            " DROP TRIGGER client_total_flush ON clients;"
            " DROP FUNCTION client_total_note(); DROP FUNCTION client_total_flush();"
            " DROP TABLE client_total; UPDATE clientes_schema SET version = 1");
    sql(fx, BEHIND " FROM generate_series(10, 14) i");
    assert_int_equal(store_open(fx->url, &fx->s, err, sizeof(err)), CL_OK);
    assert_int_equal(sql_int(fx, "SELECT version FROM clientes_schema"), STORE_PG_SCHEMA_VERSION);
    assert_int_equal(total(fx->s), 15);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients"), 15);
}

struct opener {
    const char *url;
    enum cl_err rc;
    char err[512];
    pthread_barrier_t *go;
};

static void *open_one(void *arg)
{
    struct opener *o = arg;
    struct store *s = NULL;
    pthread_barrier_wait(o->go);
    o->rc = store_open(o->url, &s, o->err, sizeof(o->err));
    store_close(s);
    return NULL;
}

/* Eight processes' worth of handles starting at the same moment on an
 * empty database: every open succeeds, one schema, one example. */
static void test_concurrent_first_opens(void **state)
{
    struct fx *fx = *state;
    enum { N = 8 };
    pthread_t t[N];
    struct opener o[N];
    pthread_barrier_t go;

    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++) {
        o[i] = (struct opener){.url = fx->url, .go = &go};
        assert_int_equal(pthread_create(&t[i], NULL, open_one, &o[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < N; i++)
        if (o[i].rc != CL_OK)
            fail_msg("open %d: %s: %s", i, cl_strerror(o[i].rc), o[i].err);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clientes_schema"), 1);
    assert_int_equal(sql_int(fx, "SELECT version FROM clientes_schema"), STORE_PG_SCHEMA_VERSION);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients"), 1);
}

/* A database a newer program migrated is refused, saying so. */
static void test_newer_schema_refused(void **state)
{
    struct fx *fx = *state;
    struct store *s = NULL;
    const char *reason = NULL;
    char err[512];

    sql(fx, "UPDATE clientes_schema SET version = 99");
    /* a running handle stops being ready */
    assert_int_equal(store_ready(fx->s, &reason), CL_STORAGE);
    assert_string_equal(reason, "la base de datos tiene un esquema mas nuevo");
    /* and a new one does not open */
    assert_int_equal(store_open(fx->url, &s, err, sizeof(err)), CL_STORAGE);
    assert_null(s);
    char want[80];
    snprintf(want, sizeof(want), "version 99, newer than this program's (%d)",
             STORE_PG_SCHEMA_VERSION);
    assert_non_null(strstr(err, want));
}

/* Tables of someone else's under the same names, without a version:
 * refused, and nothing written. */
static void test_foreign_tables_refused(void **state)
{
    struct fx *fx = *state;
    struct store *s = NULL;
    char err[512];

    sql(fx, "CREATE TABLE clients (id integer)");
    assert_int_equal(store_open(fx->url, &s, err, sizeof(err)), CL_STORAGE);
    assert_non_null(strstr(err, "not a clientes store"));
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM pg_tables WHERE tablename = "
                                 "'clientes_schema' AND schemaname = current_schema()"),
                     0);
}

/* ---- the connection */

/* Opening holds no connection; the first use opens one, which stays, with
 * the application name set (here by the URL; by default "clientes"). */
static void test_lazy_connection(void **state)
{
    struct fx *fx = *state;
    struct client c;

    /* the open's own connection is closed (its backend exits a moment later) */
    for (int i = 0; i < 200 && sessions(fx); i++)
        usleep(10000);
    assert_int_equal(sessions(fx), 0);
    usleep(100000);
    assert_int_equal(sessions(fx), 0);
    assert_int_equal(get(fx->s, EX_MAIL, &c, NULL), CL_OK);
    assert_int_equal(sessions(fx), 1);
    assert_int_equal(get(fx->s, EX_MAIL, &c, NULL), CL_OK);
    assert_int_equal(sessions(fx), 1);
    store_close(fx->s);
    fx->s = NULL;
    for (int i = 0; i < 200 && sessions(fx); i++)
        usleep(10000);
    assert_int_equal(sessions(fx), 0);
}

/* Without application_name in the URL it is clientes/$DYNO. */
static void test_application_name(void **state)
{
    struct fx *fx = *state;
    char url[1200], err[512];
    struct store *s = NULL;

    snprintf(url, sizeof(url), "%.*s", (int)(strstr(fx->url, "&application_name") - fx->url),
             fx->url);
    setenv("DYNO", "web.7", 1);
    assert_int_equal(store_open(url, &s, err, sizeof(err)), CL_OK);
    assert_int_equal(s->ops->ping(s), CL_OK);
    assert_int_equal(admin_int("SELECT count(*) FROM pg_stat_activity"
                               " WHERE application_name = 'clientes/web.7'"),
                     1);
    store_close(s);
}

/* A session the server ended while idle (failover, restart, pg:killall) is
 * noticed before anything is sent: the next request reconnects and
 * succeeds, a write included, without error. */
static void test_reconnect_after_idle_kill(void **state)
{
    struct fx *fx = *state;
    struct client c;

    assert_int_equal(get(fx->s, EX_MAIL, &c, NULL), CL_OK);
    kill_sessions(fx);
    assert_int_equal(add(fx->s, "Ana", "ana@example.com"), CL_OK);
    assert_int_equal(sessions(fx), 1);
    kill_sessions(fx);
    assert_int_equal(get(fx->s, "ana@example.com", &c, NULL), CL_OK);
    assert_string_equal(c.nombre, "Ana");
}

struct blocked {
    struct store *s;
    int op; /* 0: add, 1: get */
    enum cl_err rc;
    struct client c;
};

static void *run_blocked(void *arg)
{
    struct blocked *b = arg;
    if (b->op == 0) {
        struct client c;
        struct client_keys k;
        struct audit_entry a = create_row;
        make(&c, "Bea", "bea@example.com");
        keys_of(&c, &k);
        a.target = c.mail;
        a.target_key = k.mail_key;
        b->rc = b->s->ops->add(b->s, &c, &k, NOW, &a, NULL);
    } else {
        b->rc = b->s->ops->get(b->s, EX_MAIL, &b->c, NULL);
    }
    return NULL;
}

/* Kills this test's sessions while `b` waits behind a table lock, then
 * lets it go; returns what it answered.  again: wait until it waits again
 * on a new connection before letting go. */
static enum cl_err kill_while_blocked(struct fx *fx, struct blocked *b, bool again)
{
    pthread_t t;
    PGconn *o = other(fx);

    other_sql(o, "BEGIN; LOCK TABLE clients IN ACCESS EXCLUSIVE MODE");
    assert_int_equal(pthread_create(&t, NULL, run_blocked, b), 0);
    wait_blocked(fx);
    kill_sessions(fx);
    if (again)
        wait_blocked(fx);
    else
        usleep(100000); /* a blind retry would now be queued behind the lock */
    other_sql(o, "COMMIT");
    pthread_join(t, NULL);
    PQfinish(o);
    return b->rc;
}

/* The connection dies after a write was sent: its outcome is unknown, so it
 * is answered CL_BUSY and never sent again (here it had not run: a retry
 * would have stored it). */
static void test_write_lost_not_retried(void **state)
{
    struct fx *fx = *state;
    struct blocked b = {.s = fx->s, .op = 0};

    assert_int_equal(add(fx->s, "Pre", "pre@example.com"), CL_OK); /* prepared: sent at once */
    assert_int_equal(kill_while_blocked(fx, &b, false), CL_BUSY);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients WHERE mail = 'bea@example.com'"), 0);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM audit"), 1);
    /* and the next request works */
    assert_int_equal(add(fx->s, "Bea", "bea@example.com"), CL_OK);
}

/* A write whose connection died before it was sent (here while its
 * statement was being prepared, behind the lock) is known not to have run:
 * it is sent again on a new connection, and stored once. */
static void test_write_lost_before_sent_retried(void **state)
{
    struct fx *fx = *state;
    struct blocked b = {.s = fx->s, .op = 0};

    assert_int_equal(kill_while_blocked(fx, &b, true), CL_OK);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients WHERE mail = 'bea@example.com'"), 1);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM audit"), 1);
}

/* A read whose connection died after it was sent is asked again, once, on
 * a new connection. */
static void test_read_lost_retried_once(void **state)
{
    struct fx *fx = *state;
    struct blocked b = {.s = fx->s, .op = 1};
    struct client c;

    assert_int_equal(get(fx->s, EX_MAIL, &c, NULL), CL_OK); /* prepared: sent at once */
    assert_int_equal(kill_while_blocked(fx, &b, true), CL_OK);
    assert_string_equal(b.c.mail, EX_MAIL);
}

/* lock_timeout and statement_timeout bound a request: CL_BUSY (503). */
static void test_timeouts_busy(void **state)
{
    struct fx *fx = *state;
    struct store *s = NULL;
    struct client c;
    char err[512];
    PGconn *o = other(fx);
    struct timespec t0, t1;

    setenv(STORE_PG_LOCK_TIMEOUT_ENV, "150", 1);
    assert_int_equal(store_open(fx->url, &s, err, sizeof(err)), CL_OK);
    other_sql(o, "BEGIN; LOCK TABLE clients IN ACCESS EXCLUSIVE MODE");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(add(s, "Eva", "eva@example.com"), CL_BUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_non_null(strstr(store_errmsg(s), "55P03"));
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    store_close(s);
    s = NULL;

    /* a statement_timeout shorter than the lock's wait: 57014 */
    setenv(STORE_PG_LOCK_TIMEOUT_ENV, "60000", 1);
    setenv(STORE_PG_STATEMENT_TIMEOUT_ENV, "200", 1);
    assert_int_equal(store_open(fx->url, &s, err, sizeof(err)), CL_OK);
    assert_int_equal(get(s, EX_MAIL, &c, NULL), CL_BUSY);
    assert_non_null(strstr(store_errmsg(s), "57014"));
    other_sql(o, "COMMIT");
    PQfinish(o);
    assert_int_equal(get(s, EX_MAIL, &c, NULL), CL_OK);
    store_close(s);
}

struct updater {
    struct store *s;
    long long version;
    enum cl_err rc;
};

static void *run_update(void *arg)
{
    struct updater *u = arg;
    struct client c;
    struct client_keys k;
    struct audit_entry a = {
        .at = NOW, .action = "client.update", .target = EX_MAIL, .target_key = EX_MAIL};
    if (ts_client(&c, "Jesus Maria", "Mesa Gonzalez", EX_MAIL, "29/06/1996",
                  "Calle Paseo Moreras 39") != CL_OK)
        return NULL;
    keys_of(&c, &k);
    u->rc = u->s->ops->update(u->s, &c, &k, u->version, NOW, &a, NULL);
    return NULL;
}

/* A serialization failure (40001: here a SERIALIZABLE session whose row
 * another transaction changed meanwhile) was rolled back by the server, so
 * the library runs the statement again, and it succeeds. */
static void test_serialization_failure_retried(void **state)
{
    struct fx *fx = *state;
    struct store *s = NULL;
    struct client c;
    struct client_meta m;
    char url[1300], err[512];
    PGconn *o = other(fx);
    pthread_t t;

    snprintf(url, sizeof(url), "%s&options=%s", fx->url, "");
    /* the URL's options replace the fixture's search_path: keep both */
    snprintf(url, sizeof(url), "%s", fx->url);
    char *opt = strstr(url, "options=");
    assert_non_null(opt);
    char *end = strchr(opt, '&');
    char rest[200] = "";
    if (end) {
        snprintf(rest, sizeof(rest), "%s", end);
        *end = '\0';
    }
    strcat(url, "%20-c%20default_transaction_isolation%3Dserializable");
    strcat(url, rest);
    assert_int_equal(store_open(url, &s, err, sizeof(err)), CL_OK);
    assert_int_equal(get(s, EX_MAIL, &c, &m), CL_OK);

    /* the row locked by a change that keeps its version */
    other_sql(o, "BEGIN; UPDATE clients SET direccion = direccion");
    struct updater u = {.s = s, .version = m.version, .rc = CL_STORAGE};
    assert_int_equal(pthread_create(&t, NULL, run_update, &u), 0);
    wait_blocked(fx);
    other_sql(o, "COMMIT");
    pthread_join(t, NULL);
    PQfinish(o);
    assert_int_equal(u.rc, CL_OK);
    assert_int_equal(get(s, EX_MAIL, &c, NULL), CL_OK);
    assert_string_equal(c.nombre, "Jesus Maria");
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM audit WHERE action = 'client.update'"), 1);
    store_close(s);
}

/* After a failed connect the handle answers CL_BUSY at once for a moment
 * (no storm of connects against a database in maintenance), then tries
 * again and recovers by itself. */
static void test_backoff_after_failed_connect(void **state)
{
    struct fx *fx = *state;
    struct client c;
    char q[256];
    long long db_oid =
        sql_int(fx, "SELECT oid FROM pg_database WHERE datname = current_database()");

    assert_true(db_oid > 0);
    assert_int_equal(get(fx->s, EX_MAIL, &c, NULL), CL_OK);
    snprintf(q, sizeof(q), "UPDATE pg_database SET datallowconn = false WHERE oid = %lld", db_oid);
    admin_sql(NULL, q);
    kill_sessions(fx);
    assert_int_equal(get(fx->s, EX_MAIL, &c, NULL), CL_BUSY);
    assert_non_null(strstr(store_errmsg(fx->s), "cannot connect"));
    /* within the backoff: no attempt at all */
    assert_int_equal(get(fx->s, EX_MAIL, &c, NULL), CL_BUSY);
    assert_non_null(strstr(store_errmsg(fx->s), "next connect attempt in"));
    snprintf(q, sizeof(q), "UPDATE pg_database SET datallowconn = true WHERE oid = %lld", db_oid);
    admin_sql(NULL, q);
    usleep(1200 * 1000); /* past the longest backoff */
    assert_int_equal(get(fx->s, EX_MAIL, &c, NULL), CL_OK);
}

/* A transaction of begin() is never silently continued on a new
 * connection: once its connection is gone, everything fails until the
 * caller rolls back, and nothing of it is stored. */
static void test_transaction_lost(void **state)
{
    struct fx *fx = *state;
    struct store *s = fx->s;

    assert_int_equal(s->ops->begin(s), CL_OK);
    assert_int_equal(s->ops->begin(s), CL_INVALID);
    assert_int_equal(add(s, "Uno", "uno@example.com"), CL_OK);
    kill_sessions(fx);
    assert_int_equal(add(s, "Dos", "dos@example.com"), CL_BUSY);
    assert_int_equal(s->ops->commit(s), CL_BUSY);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients"), 1);
    /* a new transaction on a new connection works */
    assert_int_equal(s->ops->begin(s), CL_OK);
    assert_int_equal(add(s, "Tres", "tres@example.com"), CL_OK);
    assert_int_equal(add(s, "Cuatro", "cuatro@example.com"), CL_OK);
    assert_int_equal(s->ops->commit(s), CL_OK);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients"), 3);
    /* and a rolled back one leaves nothing */
    assert_int_equal(s->ops->begin(s), CL_OK);
    assert_int_equal(add(s, "Cinco", "cinco@example.com"), CL_OK);
    assert_int_equal(s->ops->rollback(s), CL_OK);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM clients"), 3);
    assert_int_equal(s->ops->rollback(s), CL_INVALID);
}

/* ---- walks */

struct slow {
    int rows;
    char last[CLIENT_MAIL_CAP];
    int out_of_order;
    const char *app;
    long long idle_after_page; /* the session, seen from the second page on */
};

static int slow_reader(const struct client *c, const struct client_meta *m, void *ctx)
{
    struct slow *sl = ctx;
    (void)m;
    if (sl->rows == STORE_PG_WALK_PAGE + 10) {
        /* while the reader reads, no statement runs: the last was a page
         * after a cursor, and it is over */
        char q[300], err[256];
        snprintf(q, sizeof(q),
                 "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'"
                 " AND state = 'idle' AND query LIKE '%%mail_key >%%LIMIT%%'",
                 sl->app);
        sl->idle_after_page = ts_pg_admin_int(NULL, q, err, sizeof(err));
    }
    if (sl->rows && strcmp(sl->last, c->mail) >= 0)
        sl->out_of_order++;
    snprintf(sl->last, sizeof(sl->last), "%s", c->mail);
    sl->rows++;
    usleep(300); /* an HTTP client reading slowly */
    return 0;
}

/* A walk fed to a slow reader takes far longer than statement_timeout,
 * and still delivers every row, in order: it reads short pages. */
static void test_walk_outlasts_statement_timeout(void **state)
{
    struct fx *fx = *state;
    struct store *s = NULL;
    struct client_query q = {.sort = SORT_MAIL};
    struct slow sl = {.app = fx->app};
    char err[512];
    struct timespec t0, t1;
    enum { ROWS = 2 * STORE_PG_WALK_PAGE + 500 };

    sql(fx, "INSERT INTO clients (mail, nombre, apellidos, fecha_nacimiento, direccion,"
            " nombre_key, apellidos_key, fecha_iso, search, creado, modificado, version)"
            " SELECT 'w' || lpad(i::text, 5, '0') || '@walk.es', 'N', 'A', '01/01/1990', 'D',"
            " 'n', 'a', '1990-01-01', 'n a', '" NOW "', '" NOW "', nextval('client_version')"
            " FROM generate_series(1, 2500) i");
    setenv(STORE_PG_STATEMENT_TIMEOUT_ENV, "200", 1);
    assert_int_equal(store_open(fx->url, &s, err, sizeof(err)), CL_OK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(s->ops->list(s, &q, slow_reader, &sl), CL_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    store_close(s);
    assert_int_equal(sl.rows, ROWS + 1); /* and the example */
    assert_int_equal(sl.out_of_order, 0);
    assert_int_equal(sl.idle_after_page, 1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took > 0.4); /* twice the statement timeout at least */
}

/* Room for a cursor's sort value: the longest sort key. */
#define CURSOR_CAP CLIENT_APELLIDOS_CAP

struct collect {
    char mails[64][CLIENT_MAIL_CAP];
    int n;
    int stop_at;
};

static int collect(const struct client *c, const struct client_meta *m, void *ctx)
{
    struct collect *k = ctx;
    (void)m;
    if (k->n < 64)
        snprintf(k->mails[k->n++], CLIENT_MAIL_CAP, "%s", c->mail);
    return k->stop_at && k->n >= k->stop_at;
}

/* Keyset pages in every direction, with filters and a wildcard in the
 * needle that must match only itself. */
static void test_pages_and_filters(void **state)
{
    struct fx *fx = *state;
    struct store *s = fx->s;
    struct collect k = {0};
    long long n = -1;

    assert_int_equal(add(s, "Zoe", "b@x.es"), CL_OK);
    assert_int_equal(add(s, "Ana", "C@x.es"), CL_OK);
    assert_int_equal(add(s, "Ana", "a@x.es"), CL_OK);
    assert_int_equal(add(s, "50%_off", "d@x.es"), CL_OK);

    struct client_query q = {.sort = SORT_NOMBRE, .limit = 2};
    assert_int_equal(s->ops->list(s, &q, collect, &k), CL_OK);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.mails[0], "d@x.es"); /* "50%_off" sorts before letters */
    assert_string_equal(k.mails[1], "a@x.es");
    /* the next page: after ("ana", "a@x.es") */
    q.after_value = "ana";
    q.after_key = "a@x.es";
    k.n = 0;
    assert_int_equal(s->ops->list(s, &q, collect, &k), CL_OK);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.mails[0], "C@x.es");
    assert_string_equal(k.mails[1], "ejemplo@gmail.com");
    /* the page before it, nearest first */
    q.backward = true;
    q.after_value = "ana";
    q.after_key = "c@x.es";
    k.n = 0;
    assert_int_equal(s->ops->list(s, &q, collect, &k), CL_OK);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.mails[0], "a@x.es");
    assert_string_equal(k.mails[1], "d@x.es");
    /* descending mail order, whole walk, stopping early */
    struct client_query d = {.sort = SORT_MAIL, .desc = true};
    k = (struct collect){.stop_at = 3};
    assert_int_equal(s->ops->list(s, &d, collect, &k), CL_OK);
    assert_int_equal(k.n, 3);
    assert_string_equal(k.mails[0], "ejemplo@gmail.com");
    assert_string_equal(k.mails[1], "d@x.es");
    assert_string_equal(k.mails[2], "C@x.es");
    /* a needle with LIKE's wildcards matches them literally */
    struct client_query w = {.search = "%_"};
    assert_int_equal(s->ops->count(s, &w, &n), CL_OK);
    assert_int_equal(n, 1);
    w.search = "ana";
    assert_int_equal(s->ops->count(s, &w, &n), CL_OK);
    assert_int_equal(n, 2);
    struct client_query f = {.fecha_desde = "1990-02-01", .fecha_hasta = "1990-02-01"};
    assert_int_equal(s->ops->count(s, &f, &n), CL_OK);
    assert_int_equal(n, 4);
    assert_int_equal(s->ops->count(s, NULL, &n), CL_OK);
    assert_int_equal(n, 5);
}

/* ---- readiness */

static void test_ready(void **state)
{
    struct fx *fx = *state;
    struct store *s = NULL;
    const char *reason = NULL;
    char url[1300], err[512];

    assert_int_equal(store_ready(fx->s, &reason), CL_OK);
    /* a read-only session (a standby, a follower) */
    snprintf(url, sizeof(url), "%s", fx->url);
    char *amp = strstr(url, "&application_name");
    snprintf(amp, sizeof(url) - (size_t)(amp - url),
             "%%20-c%%20default_transaction_read_only%%3Don&application_name=%s", fx->app);
    assert_int_equal(store_open(url, &s, err, sizeof(err)), CL_OK);
    assert_int_equal(store_ready(s, &reason), CL_STORAGE);
    assert_string_equal(reason, "la base de datos es de solo lectura");
    store_close(s);
    /* the server unreachable: transient */
    long long db_oid =
        sql_int(fx, "SELECT oid FROM pg_database WHERE datname = current_database()");
    char q[128];
    snprintf(q, sizeof(q), "UPDATE pg_database SET datallowconn = false WHERE oid = %lld", db_oid);
    admin_sql(NULL, q);
    kill_sessions(fx);
    enum cl_err e = store_ready(fx->s, &reason);
    snprintf(q, sizeof(q), "UPDATE pg_database SET datallowconn = true WHERE oid = %lld", db_oid);
    admin_sql(NULL, q);
    assert_int_equal(e, CL_BUSY);
    assert_string_equal(reason, "la base de datos no responde");
}

/* ---- URLs and their secrets */

static void test_url_secrets_never_in_messages(void **state)
{
    struct fx *fx = *state;
    struct store *s = NULL;
    char url[1300], err[512];
    struct timespec t0, t1;

    /* a wrong password: refused at once (no waiting), the password unsaid */
    snprintf(url, sizeof(url), "%s", fx->url);
    char *colon = strchr(url + strlen("postgresql://"), ':');
    char *at = strchr(url, '@');
    char rest[1200];
    snprintf(rest, sizeof(rest), "%s", at);
    snprintf(colon, sizeof(url) - (size_t)(colon - url), ":Wr0ngSecretXyz%s", rest);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_open(url, &s, err, sizeof(err)), CL_STORAGE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_null(s);
    assert_non_null(strstr(err, "password authentication failed"));
    assert_null(strstr(err, "Wr0ngSecretXyz"));
    assert_true(t1.tv_sec - t0.tv_sec < 5);

    /* a URL libpq cannot parse, the secret in the broken part */
    assert_int_equal(store_open("postgresql://u:Secr%zzetXyz@[::1/db", &s, err, sizeof(err)),
                     CL_INVALID);
    assert_non_null(strstr(err, "invalid PostgreSQL URL"));
    assert_null(strstr(err, "etXyz"));
    /* an option libpq does not know (SQLite's busy_timeout) */
    snprintf(url, sizeof(url), "%s&busy_timeout=10", fx->url);
    assert_int_equal(store_open(url, &s, err, sizeof(err)), CL_INVALID);
    assert_non_null(strstr(err, "busy_timeout"));
    assert_null(strstr(err, "clientes-test-secret"));
    /* a knob out of bounds */
    setenv(STORE_PG_STATEMENT_TIMEOUT_ENV, "5", 1);
    assert_int_equal(store_open(fx->url, &s, err, sizeof(err)), CL_INVALID);
    assert_non_null(strstr(err, STORE_PG_STATEMENT_TIMEOUT_ENV));
}

/* A server that does not answer: CL_BUSY once the open's wait is over. */
static void test_unreachable_server_at_open(void **state)
{
    (void)state;
    struct store *s = NULL;
    char err[512];
    struct timespec t0, t1;

    setenv(STORE_PG_OPEN_WAIT_ENV, "1", 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* port 1 on loopback: refused at once, every attempt */
    assert_int_equal(
        store_open("postgres://u:Pw@127.0.0.1:1/db?sslmode=disable", &s, err, sizeof(err)),
        CL_BUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_null(s);
    assert_non_null(strstr(err, "cannot connect"));
    assert_true(t1.tv_sec - t0.tv_sec >= 1 - 1 && t1.tv_sec - t0.tv_sec < 10);
}

/* ---- accounts, briefly: what is PostgreSQL's own (the operator's token
 * has no owner row; a disabled owner shows on its tokens) */

static void test_tokens_and_owner(void **state)
{
    struct fx *fx = *state;
    struct store *s = fx->s;
    struct user u = {.role = ROLE_EDITOR};
    struct token t = {.role = ROLE_READER}, got;

    snprintf(u.name, sizeof(u.name), "ana");
    snprintf(u.pwhash, sizeof(u.pwhash), "$argon2id$x");
    snprintf(u.creado, sizeof(u.creado), NOW);
    assert_int_equal(s->ops->user_add(s, &u, NULL), CL_OK);
    assert_true(u.id > 0);
    assert_int_equal(s->ops->user_add(s, &u, NULL), CL_EXISTS);

    snprintf(t.label, sizeof(t.label), "ci");
    memset(t.digest, 'a', SECRET_DIGEST_LEN);
    snprintf(t.creado, sizeof(t.creado), NOW);
    assert_int_equal(s->ops->token_add(s, &t, NULL), CL_OK); /* the operator's */
    assert_int_equal(s->ops->token_find(s, t.digest, &got), CL_OK);
    assert_int_equal(got.user_id, 0);
    assert_string_equal(got.owner, "");
    assert_int_equal(s->ops->token_add(s, &t, NULL), CL_EXISTS);

    struct token t2 = t;
    memset(t2.digest, 'b', SECRET_DIGEST_LEN);
    t2.user_id = u.id;
    assert_int_equal(s->ops->token_add(s, &t2, NULL), CL_OK);
    u.disabled = true;
    assert_int_equal(s->ops->user_update(s, &u, NULL), CL_OK);
    assert_int_equal(s->ops->token_find(s, t2.digest, &got), CL_OK);
    assert_string_equal(got.owner, "ana");
    assert_true(got.owner_disabled);
    struct audit_entry a = {.at = NOW, .action = "token.revoke", .target = "token:2"};
    assert_int_equal(s->ops->token_revoke(s, t2.id, 1000, &a), CL_OK);
    assert_int_equal(s->ops->token_revoke(s, t2.id, 1001, &a), CL_NOT_FOUND);
    assert_int_equal(sql_int(fx, "SELECT count(*) FROM audit WHERE action = 'token.revoke'"), 1);
}

/* ---- the same answers as SQLite */

struct seq {
    char rows[64][CLIENT_MAIL_CAP + CLIENT_NOMBRE_CAP + CLIENT_APELLIDOS_CAP + 3];
    int n;
    char last_value[CLIENT_APELLIDOS_CAP], last_key[CLIENT_MAIL_CAP];
    enum client_sort sort;
};

static int record_row(const struct client *c, const struct client_meta *m, void *ctx)
{
    struct seq *q = ctx;
    struct client_keys k;
    (void)m;
    client_keys_of(c, &k);
    const char *v = q->sort == SORT_NOMBRE      ? k.nombre_key
                    : q->sort == SORT_APELLIDOS ? k.apellidos_key
                    : q->sort == SORT_FECHA     ? k.fecha_iso
                                                : k.mail_key;
    if (q->n < 64)
        snprintf(q->rows[q->n++], sizeof(q->rows[0]), "%s|%s|%s", c->mail, c->nombre, c->apellidos);
    snprintf(q->last_value, sizeof(q->last_value), "%s", v);
    snprintf(q->last_key, sizeof(q->last_key), "%s", k.mail_key);
    return 0;
}

/* A whole list, then the same in pages of 3 following the cursors. */
static void list_both_ways(struct store *s, struct client_query q, struct seq *whole,
                           struct seq *paged)
{
    memset(whole, 0, sizeof(*whole));
    memset(paged, 0, sizeof(*paged));
    whole->sort = paged->sort = q.sort;
    q.limit = 0;
    assert_int_equal(manager_list(s, &q, record_row, whole), CL_OK);
    q.limit = 3;
    for (int guard = 0; guard < 40; guard++) {
        int before = paged->n;
        assert_int_equal(manager_list(s, &q, record_row, paged), CL_OK);
        if (paged->n - before < 3)
            break;
        q.after_key = paged->last_key;
        q.after_value = q.sort == SORT_MAIL ? NULL : paged->last_value;
    }
}

static void assert_same(const struct seq *a, const struct seq *b, const char *what)
{
    if (a->n != b->n)
        fail_msg("%s: %d rows on SQLite, %d on PostgreSQL", what, a->n, b->n);
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->rows[i], b->rows[i]) != 0)
            fail_msg("%s: row %d is %s on SQLite, %s on PostgreSQL", what, i, a->rows[i],
                     b->rows[i]);
}

/* The same records through the manager into a SQLite file and into
 * PostgreSQL: every order, both directions, whole or in pages, every
 * search, give the same rows in the same order (mixed case, accents,
 * combining marks, scripts beyond Latin, punctuation, equal keys). */
static void test_same_order_as_sqlite(void **state)
{
    struct fx *fx = *state;
    static const char *const data[][4] = {
        {"Ángel", "Núñez", "Angel@Example.com", "01/02/1990"},
        {"angel", "nunez", "angel2@example.com", "1990-02-01"},
        {"Zoë", "Ωmega", "zoe@example.com", "3/4/1985"},
        {"ñoño", "Ñu", "_x@example.com", "03/04/1985"},
        {"Eclair",
         "e\xcc\x81"
         "clair",
         "a+b@example.com", "1/1/2000"}, /* combining acute */
        {"éclair", "Éclair", "a-b@example.com", "01/01/2000"},
        {"日本", "東京", "A.b@example.com", "12/12/1970"},
        {"Ana", "Mesa", "a_b@example.com", "12/12/1970"},
        {"ANA", "mesa", "ANA@example.com", "2/2/1962"},
        {"Æsir", "Øster", "zz@Example.COM", "28/02/1999"},
        {"Ärger", "Ürige", "b@example.com", "29/02/2000"},
        {"ßtraße", "Straße", "c%d@example.com", "31/12/1999"},
        /* punctuation, which a language's collation ignores at first */
        {"a-b", "_x", "p1@example.com", "1/1/1980"},
        {"a_b", "a+b", "p2@example.com", "1/1/1980"},
        {"A.b", "a-b", "p3@example.com", "1/1/1980"},
        {"_x", "A.b", "p4@example.com", "1/1/1980"},
        {"a+b", "a_b", "p5@example.com", "1/1/1980"},
    };
    char dir[1024], path[1200], err[512];
    struct store *sq = NULL, *pg = fx->s;

    assert_int_equal(ts_mkdtemp(dir, sizeof(dir), NULL), 0);
    ts_join(path, sizeof(path), dir, "parity.db");
    assert_int_equal(store_open(path, &sq, err, sizeof(err)), CL_OK);
    for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
        struct client c;
        if (ts_client(&c, data[i][0], data[i][1], data[i][2], data[i][3], "Calle 1") != CL_OK)
            fail_msg("test data refused: %s", data[i][2]);
        assert_int_equal(manager_add(sq, &c, NULL), CL_OK);
        assert_int_equal(manager_add(pg, &c, NULL), CL_OK);
    }
    static const enum client_sort sorts[] = {SORT_MAIL, SORT_NOMBRE, SORT_APELLIDOS, SORT_FECHA};
    static const char *const needles[] = {NULL, "angel", "ANA",  "clair", "%",
                                          "_",  "ster",  "日本", "ß",     "example.com"};
    for (size_t si = 0; si < sizeof(sorts) / sizeof(sorts[0]); si++) {
        for (int desc = 0; desc < 2; desc++) {
            for (size_t ni = 0; ni < sizeof(needles) / sizeof(needles[0]); ni++) {
                struct client_query q = {.sort = sorts[si], .desc = desc, .search = needles[ni]};
                struct seq a, ap, b, bp;
                char what[128];
                snprintf(what, sizeof(what), "sort %d desc %d search %s", (int)sorts[si], desc,
                         needles[ni] ? needles[ni] : "-");
                list_both_ways(sq, q, &a, &ap);
                list_both_ways(pg, q, &b, &bp);
                assert_same(&a, &b, what);
                assert_same(&ap, &bp, what);
                assert_same(&a, &ap, what);
                long long na = -1, nb = -2;
                assert_int_equal(manager_count_query(sq, &q, &na), CL_OK);
                assert_int_equal(manager_count_query(pg, &q, &nb), CL_OK);
                assert_int_equal(na, nb);
                assert_int_equal(na, a.n);
            }
        }
    }
    /* a date range */
    struct client_query r = {
        .sort = SORT_FECHA, .fecha_desde = "1970-12-12", .fecha_hasta = "1999-12-31"};
    struct seq a, ap, b, bp;
    list_both_ways(sq, r, &a, &ap);
    list_both_ways(pg, r, &b, &bp);
    assert_same(&a, &b, "date range");
    assert_true(a.n >= 4);
    /* lookups in any case, on both */
    struct client x, y;
    assert_int_equal(manager_get(sq, "angel@EXAMPLE.com", &x, NULL), CL_OK);
    assert_int_equal(manager_get(pg, "angel@EXAMPLE.com", &y, NULL), CL_OK);
    assert_string_equal(x.mail, "Angel@Example.com");
    assert_string_equal(y.mail, "Angel@Example.com");
    store_close(sq);
    assert_int_equal(ts_rmtree(dir), 0);
}

#define T(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_database_seeded_once, setup_store),
        T(test_total_kept_by_the_database, setup_store),
        T(test_concurrent_first_opens, setup_url),
        T(test_newer_schema_refused, setup_store),
        T(test_foreign_tables_refused, setup_url),
        T(test_lazy_connection, setup_store),
        T(test_application_name, setup_store),
        T(test_reconnect_after_idle_kill, setup_store),
        T(test_write_lost_not_retried, setup_store),
        T(test_write_lost_before_sent_retried, setup_store),
        T(test_read_lost_retried_once, setup_store),
        T(test_timeouts_busy, setup_store),
        T(test_serialization_failure_retried, setup_store),
        T(test_backoff_after_failed_connect, setup_store),
        T(test_transaction_lost, setup_store),
        T(test_walk_outlasts_statement_timeout, setup_store),
        T(test_pages_and_filters, setup_store),
        T(test_ready, setup_store),
        T(test_url_secrets_never_in_messages, setup_url),
        T(test_unreachable_server_at_open, setup_url),
        T(test_tokens_and_owner, setup_store),
        T(test_same_order_as_sqlite, setup_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
