/* store_fx.c - the fixture of the store test files (see store_fx.h). */
#include "store_fx.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int fx_new(void **state, const char *base, int open_store)
{
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
    if (open_store && store_open(fx->path, &fx->s, err, sizeof(err)) != CL_OK) {
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
    if (store_open(fx->path, &fx->s, err, sizeof(err)) != CL_OK)
        fail_msg("reopen %s: %s", fx->path, err);
    assert_non_null(fx->s);
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
