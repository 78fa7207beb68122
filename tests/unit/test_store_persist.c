/* test_store_persist.c - what the SQLite store keeps across handles: records,
 * the example seeded once, and the forms of a database URL. */
#include "store_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_reopen_keeps_everything(void **state)
{
    struct fx *fx = *state;
    struct client a, b, c, ex;

    fx_make(&a, "Ana", "Lopez", "Ana@example.com", "1/2/1980", "Calle Uno 1");
    fx_make(&b, "Luis", "Díaz", "luis@example.com", "1990-03-04", "Calle Dos 2");
    fx_make(&c, "Eva", "Ruiz", "eva@example.com", "8/09/1978", "Calle Tres 3");
    fx_example(&ex);
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    assert_int_equal(manager_add(fx->s, &b, NULL), CL_OK);
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    assert_int_equal(manager_update(fx->s, "luis@example.com", CLIENT_DIRECCION, "Nueva 9", NULL),
                     CL_OK);
    assert_int_equal(client_set(&b, CLIENT_DIRECCION, "Nueva 9", 7, NULL), CL_OK);
    assert_int_equal(manager_delete(fx->s, "eva@example.com", NULL), CL_OK);

    for (int round = 0; round < 2; round++) {
        fx_reopen(fx);
        assert_int_equal(fx_count(fx->s), 3);
        fx_stored(fx->s, &a);
        fx_stored(fx->s, &b);
        fx_stored(fx->s, &ex);
        fx_absent(fx->s, "eva@example.com");
    }
    /* and the uniqueness survives too */
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_EXISTS);
}

static void test_example_only_on_creation(void **state)
{
    struct fx *fx = *state;
    struct client a;

    assert_int_equal(manager_delete(fx->s, EX_MAIL, NULL), CL_OK);
    fx_reopen(fx);
    fx_absent(fx->s, EX_MAIL);
    assert_int_equal(fx_count(fx->s), 0);

    fx_make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    fx_reopen(fx);
    fx_absent(fx->s, EX_MAIL);
    assert_int_equal(fx_count(fx->s), 1);
    fx_stored(fx->s, &a);
}

static void test_empty_file_is_new(void **state)
{
    struct fx *fx = *state;
    struct client ex;
    char err[256];

    /* a zero-byte file is a new database (e.g. made by `touch`) */
    assert_int_equal(ts_write_file(fx->path, "", 0), 0);
    assert_int_equal(store_open(fx->path, &fx->s, err, sizeof(err)), CL_OK);
    fx_example(&ex);
    assert_int_equal(fx_count(fx->s), 1);
    fx_stored(fx->s, &ex);
}

static void open_ok(const char *url, struct store **s)
{
    char err[512] = "";
    *s = NULL;
    if (store_open(url, s, err, sizeof(err)) != CL_OK)
        fail_msg("store_open(\"%s\") failed: %s", url, err);
    assert_non_null(*s);
}

static void test_url_forms(void **state)
{
    struct fx *fx = *state;
    struct store *s;
    struct client a;
    char url[1500], p[1300];

    fx_chdir(fx);
    fx_make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");

    /* sqlite://relative/path, relative to the working directory */
    open_ok("sqlite://rel.db", &s);
    assert_int_equal(manager_add(s, &a, NULL), CL_OK);
    store_close(s);
    ts_join(p, sizeof(p), fx->dir, "rel.db");
    assert_true(ts_exists(p));

    /* the same file by sqlite:///abs/path and by bare path */
    snprintf(url, sizeof(url), "sqlite://%s", p);
    assert_int_equal(url[9], '/');
    open_ok(url, &s);
    assert_int_equal(fx_count(s), 2);
    fx_stored(s, &a);
    store_close(s);
    open_ok(p, &s);
    assert_int_equal(fx_count(s), 2);
    store_close(s);
    open_ok("rel.db", &s);
    fx_stored(s, &a);
    store_close(s);

    /* a relative path with a directory part */
    assert_int_equal(mkdir("sub", 0700), 0);
    open_ok("sqlite://sub/nested.db", &s);
    assert_int_equal(fx_count(s), 1);
    store_close(s);
    ts_join(p, sizeof(p), fx->dir, "sub/nested.db");
    assert_true(ts_exists(p));
    open_ok("sub/nested.db", &s);
    assert_int_equal(fx_count(s), 1);
    store_close(s);

    /* sqlite:///abs of a new file, and a bare absolute path of another */
    ts_join(p, sizeof(p), fx->dir, "abs.db");
    snprintf(url, sizeof(url), "sqlite://%s", p);
    open_ok(url, &s);
    store_close(s);
    assert_true(ts_exists(p));
    ts_join(p, sizeof(p), fx->dir, "bare.db");
    open_ok(p, &s);
    store_close(s);
    assert_true(ts_exists(p));

    /* ?busy_timeout=N is an option, not part of the file name */
    open_ok("sqlite://bt.db?busy_timeout=250", &s);
    assert_int_equal(fx_count(s), 1);
    store_close(s);
    assert_true(ts_exists("bt.db"));
    assert_false(ts_exists("bt.db?busy_timeout=250"));
    open_ok("bt2.db?busy_timeout=0", &s);
    store_close(s);
    assert_true(ts_exists("bt2.db"));
    ts_join(p, sizeof(p), fx->dir, "rel.db");
    snprintf(url, sizeof(url), "sqlite://%s?busy_timeout=5000", p);
    open_ok(url, &s);
    fx_stored(s, &a);
    store_close(s);
}

static void test_bad_urls(void **state)
{
    struct fx *fx = *state;
    static const char *bad[] = {
        "mysql://user:secret@localhost/clientes",
        /* PostgreSQL URLs libpq refuses: SQLite's options are not its own */
        "postgres://user:secret@localhost:5432/clientes?busy_timeout=10",
        "postgresql://localhost/clientes?cache=shared",
        "http://example.com/x.db",
        "",
        "sqlite://",
        "sqlite://?busy_timeout=10",
        "?busy_timeout=10",
        "x.db?busy_timeout=",
        "x.db?busy_timeout=abc",
        "x.db?busy_timeout=-1",
        "x.db?busy_timeout=10ms",
        "x.db?busy_timeout=99999999999999999999999",
        "x.db?mode=ro",
        "sqlite://x.db?cache=shared",
    };
    struct store dummy;
    char err[512];

    fx_chdir(fx);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store *s = &dummy;
        err[0] = '\0';
        enum cl_err e = store_open(bad[i], &s, err, sizeof(err));
        if (e != CL_INVALID)
            fail_msg("store_open(\"%s\") = %d (%s), expected CL_INVALID", bad[i], (int)e, err);
        assert_null(s);
        assert_true(err[0] != '\0');
        /* the message names what is wrong, never the URL: a server's URL
         * carries its password, and these messages reach the logs */
        if (strlen(bad[i]) > 4 && strstr(err, bad[i]))
            fail_msg("message quotes the URL: %s", err);
        assert_null(strstr(err, "secret"));
        assert_null(strstr(err, "user"));
        assert_null(strstr(err, "localhost"));
        assert_null(strstr(err, "example.com"));
        assert_null(strstr(err, "x.db"));
        /* without a message buffer, and with a tiny one */
        s = &dummy;
        assert_int_equal(store_open(bad[i], &s, NULL, 0), CL_INVALID);
        assert_null(s);
        memset(err, 'z', sizeof(err));
        assert_int_equal(store_open(bad[i], &s, err, 8), CL_INVALID);
        assert_true(memchr(err, '\0', 8) != NULL);
        assert_int_equal(err[8], 'z');
    }
    /* the scheme is named, so the operator sees what to change */
    {
        struct store *s = &dummy;
        assert_int_equal(store_open(bad[0], &s, err, sizeof(err)), CL_INVALID);
        assert_string_equal(err, "unsupported database URL scheme 'mysql' (sqlite://, postgres:// "
                                 "or postgresql://)");
        assert_int_equal(store_open("x.db?mode=ro", &s, err, sizeof(err)), CL_INVALID);
        assert_string_equal(err, "unsupported database URL option 'mode' (only busy_timeout)");
    }
    struct store *s = &dummy;
    assert_int_equal(store_open(NULL, &s, err, sizeof(err)), CL_INVALID);
    assert_null(s);
    /* a refused URL created nothing */
    assert_false(ts_exists("x.db"));
    char p[1300];
    ts_join(p, sizeof(p), fx->dir, "x.db");
    assert_false(ts_exists(p));
}

int main(void)
{
#define T(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_reopen_keeps_everything, fx_setup_store),
        T(test_example_only_on_creation, fx_setup_store),
        T(test_empty_file_is_new, fx_setup_dir),
        T(test_url_forms, fx_setup_dir),
        T(test_bad_urls, fx_setup_dir),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
