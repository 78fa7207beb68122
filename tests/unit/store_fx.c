/* store_fx.c - the fixture of the store test files (see store_fx.h). */
#include "store_fx.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_pg.h"

enum fx_backend fx_backend(void)
{
    const char *b = getenv("CLIENTES_TEST_STORE");

    if (!b || !*b || strcmp(b, "sqlite") == 0)
        return FX_SQLITE;
    if (strcmp(b, "pg") == 0)
        return FX_PG;
    fail_msg("CLIENTES_TEST_STORE=%s: expected sqlite or pg", b);
    return FX_SQLITE;
}

/* open_store: 0 none, 1 a SQLite file, 2 the chosen backend's store. */
static int fx_new(void **state, const char *base, int open_store)
{
    static int serial;
    struct fx *fx = calloc(1, sizeof(*fx));
    char err[512];

    if (!fx)
        return -1;
    fx->cwd_fd = -1;
    if (ts_mkdtemp(fx->dir, sizeof(fx->dir), base) != 0) {
        perror("mkdtemp");
        free(fx);
        return -1;
    }
    ts_join(fx->path, sizeof(fx->path), fx->dir, "clientes.db");
    snprintf(fx->url, sizeof(fx->url), "%s", fx->path);
    if (open_store == 2 && fx_backend() == FX_PG) {
        char name[64];
        snprintf(name, sizeof(name), "store_%ld_%d", (long)getpid(), ++serial);
        if (ts_pg_database(name, fx->url, sizeof(fx->url)) != 0) {
            fprintf(stderr, "setup: no PostgreSQL database for the test\n");
            ts_rmtree(fx->dir);
            free(fx);
            return -1;
        }
    }
    if (open_store && store_open(fx->url, &fx->s, err, sizeof(err)) != CL_OK) {
        fprintf(stderr, "setup: %s\n", err);
        ts_rmtree(fx->dir);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

int fx_setup_store(void **state)
{
    return fx_new(state, NULL, 1);
}

int fx_setup_any(void **state)
{
    return fx_new(state, NULL, 2);
}

int fx_setup_dir(void **state)
{
    return fx_new(state, NULL, 0);
}

int fx_setup_dir_tmp(void **state)
{
    return fx_new(state, "/tmp", 0);
}

int fx_teardown(void **state)
{
    struct fx *fx = *state;
    int rc = 0;

    store_close(fx->s);
    if (fx->cwd_fd >= 0) {
        if (fchdir(fx->cwd_fd) != 0)
            rc = -1;
        close(fx->cwd_fd);
    }
    if (ts_rmtree(fx->dir) != 0) {
        fprintf(stderr, "teardown: cannot remove %s\n", fx->dir);
        rc = -1;
    }
    free(fx);
    return rc;
}

void fx_reopen(struct fx *fx)
{
    char err[512] = "";

    store_close(fx->s);
    fx->s = NULL;
    if (store_open(fx->url, &fx->s, err, sizeof(err)) != CL_OK)
        fail_msg("reopen: %s", err);
    assert_non_null(fx->s);
}

struct store *fx_open(const struct fx *fx)
{
    struct store *s = NULL;
    char err[512] = "";

    if (store_open(fx->url, &s, err, sizeof(err)) != CL_OK)
        fail_msg("another handle: %s", err);
    return s;
}

struct store *fx_open_other(struct fx *fx, const char *name, char *url, size_t cap)
{
    static int serial;
    struct store *s = NULL;
    char err[512] = "";

    if (fx_backend() == FX_PG) {
        char db[64];
        snprintf(db, sizeof(db), "other_%ld_%d", (long)getpid(), ++serial);
        if (ts_pg_database(db, url, cap) != 0)
            fail_msg("no second PostgreSQL database");
    } else {
        ts_join(url, cap, fx->dir, name);
    }
    if (store_open(url, &s, err, sizeof(err)) != CL_OK)
        fail_msg("second store: %s", err);
    return s;
}

void fx_chdir(struct fx *fx)
{
    fx->cwd_fd = open(".", O_RDONLY | O_DIRECTORY);
    assert_true(fx->cwd_fd >= 0);
    assert_int_equal(chdir(fx->dir), 0);
}

void fx_make(struct client *c, const char *nombre, const char *apellidos, const char *mail,
             const char *fecha, const char *direccion)
{
    if (ts_client(c, nombre, apellidos, mail, fecha, direccion) != CL_OK)
        fail_msg("test data refused: %s / %s / %s / %s / %s", nombre, apellidos, mail, fecha,
                 direccion);
}

void fx_example(struct client *c)
{
    if (ts_client_from(c, ts_example) != CL_OK)
        fail_msg("the example client is refused");
}

long long fx_count(struct store *s)
{
    long long n = -1;

    assert_int_equal(manager_count(s, &n), CL_OK);
    return n;
}

void fx_absent(struct store *s, const char *mail)
{
    struct client out;

    assert_int_equal(manager_get(s, mail, &out, NULL), CL_NOT_FOUND);
}

void fx_client_eq(const struct client *got, const struct client *want)
{
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        assert_string_equal(client_get(got, (enum client_field)f),
                            client_get(want, (enum client_field)f));
}

void fx_stored(struct store *s, const struct client *want)
{
    struct client out;

    client_init(&out);
    assert_int_equal(manager_get(s, want->mail, &out, NULL), CL_OK);
    fx_client_eq(&out, want);
}

void fx_sql_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

long long fx_sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void copy_opt(char *dst, size_t cap, const char *v, bool *has)
{
    if (has)
        *has = v != NULL;
    snprintf(dst, cap, "%s", v ? v : "");
}

struct audit_collect {
    struct fx_audit_row *rows;
    int n, cap;
};

static int audit_collect_fn(const struct audit_view *v, void *ctx)
{
    struct audit_collect *a = ctx;
    struct fx_audit_row *r;

    if (a->n >= a->cap)
        return 1;
    r = &a->rows[a->n++];
    r->id = v->id;
    copy_opt(r->at, sizeof(r->at), v->at, NULL);
    copy_opt(r->actor, sizeof(r->actor), v->actor, NULL);
    copy_opt(r->action, sizeof(r->action), v->action, NULL);
    copy_opt(r->target, sizeof(r->target), v->target, &r->has_target);
    copy_opt(r->changes, sizeof(r->changes), v->changes, &r->has_changes);
    copy_opt(r->request_id, sizeof(r->request_id), v->request_id, &r->has_request_id);
    copy_opt(r->client_addr, sizeof(r->client_addr), v->client_addr, &r->has_client_addr);
    return 0;
}

int fx_audit(struct store *s, struct audit_query q, struct fx_audit_row *rows, int cap)
{
    struct audit_collect a = {rows, 0, cap};

    q.limit = cap;
    assert_int_equal(manager_audit(s, &q, audit_collect_fn, &a), CL_OK);
    return a.n;
}

struct fx_audit_row fx_audit_last(struct store *s)
{
    struct fx_audit_row r;
    struct audit_query q = {0};

    memset(&r, 0, sizeof(r));
    if (fx_audit(s, q, &r, 1) != 1)
        fail_msg("the audit trail is empty");
    return r;
}

struct last_id {
    long long n, last;
};

static int page_fn(const struct audit_view *v, void *ctx)
{
    struct last_id *l = ctx;
    l->n++;
    l->last = v->id;
    return 0;
}

long long fx_audit_count(struct store *s)
{
    struct audit_query q = {.limit = 1000};
    long long total = 0;

    for (;;) {
        struct last_id l = {0, 0};
        assert_int_equal(manager_audit(s, &q, page_fn, &l), CL_OK);
        total += l.n;
        if (l.n < q.limit)
            return total;
        q.before_id = l.last;
    }
}

void fx_assert_time(const char *t)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

    if (strlen(t) != STORE_TIME_LEN)
        fail_msg("time '%s' is not %d characters", t, STORE_TIME_LEN);
    for (int i = 0; i < STORE_TIME_LEN; i++) {
        if (shape[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != shape[i])
            fail_msg("time '%s' is not RFC 3339 UTC with milliseconds", t);
    }
}
