/* test_store_failures.c - stores that cannot be used as they are: a missing
 * directory, a read-only file, garbage, someone else's database, a newer
 * schema; and the upgrade of an old one. */
#include "store_fx.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_missing_directory(void **state)
{
    struct fx *fx = *state;
    struct store *s = NULL;
    char p[1300], url[1400], err[512] = "";
    struct store dummy;

    ts_join(p, sizeof(p), fx->dir, "no/such/dir/clientes.db");
    s = &dummy;
    assert_int_equal(store_open(p, &s, err, sizeof(err)), CL_STORAGE);
    assert_null(s);
    assert_true(err[0] != '\0');
    assert_non_null(strstr(err, p)); /* the message says which file */
    snprintf(url, sizeof(url), "sqlite://%s", p);
    err[0] = '\0';
    assert_int_equal(store_open(url, &s, err, sizeof(err)), CL_STORAGE);
    assert_true(err[0] != '\0');
    assert_int_equal(store_open(url, &s, NULL, 0), CL_STORAGE);
    ts_join(p, sizeof(p), fx->dir, "no");
    assert_false(ts_exists(p));

    /* a directory where the file should be */
    err[0] = '\0';
    assert_int_equal(store_open(fx->dir, &s, err, sizeof(err)), CL_STORAGE);
    assert_null(s);
    assert_true(err[0] != '\0');
}

/* What the unprivileged child checks; returns a step number on failure.
 * open_may_fail: the directory is not writable either, so SQLite cannot
 * create the WAL index (-shm) it needs even to read a WAL file; the open may
 * then be refused, but only as CL_STORAGE with a message. */
static int read_only_child(const char *path, int open_may_fail)
{
    struct store *s;
    struct client out, c;
    char err[512] = "";
    enum cl_err e;
    long long n = -1;

    if (getuid() == 0 || geteuid() == 0) {
        /* root writes through 0444; become nobody so the file is really read-only */
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
            perror("dropping privileges");
            return 2;
        }
    }
    if (geteuid() == 0)
        return 3;
    if (access(path, R_OK) != 0) {
        perror("child cannot read the file (is the temp dir reachable?)");
        return 4;
    }
    if (access(path, W_OK) == 0)
        return 5;

    s = NULL;
    e = store_open(path, &s, err, sizeof(err));
    if (e != CL_OK && open_may_fail && e == CL_STORAGE && !s && strstr(err, path)) {
        fprintf(stderr, "note: read-only file in a read-only directory refused: %s\n", err);
        return 0;
    }
    if (e != CL_OK) {
        fprintf(stderr, "read-only open: %s (%s)\n", cl_strerror(e), err);
        return 10;
    }
    if (manager_get(s, EX_MAIL, &out, NULL) != CL_OK || strcmp(out.nombre, "Jesus") != 0)
        return 11;
    if (manager_get(s, "ana@example.com", &out, NULL) != CL_OK || strcmp(out.nombre, "Ana") != 0)
        return 12;
    if (manager_count(s, &n) != CL_OK || n != 2)
        return 13;
    if (ts_client(&c, "Luis", "Diaz", "luis@example.com", "3/4/1970", "Calle Dos 2") != CL_OK)
        return 14;
    e = manager_add(s, &c, NULL);
    if (e != CL_STORAGE) {
        fprintf(stderr, "read-only add: %s (%s)\n", cl_strerror(e), store_errmsg(s));
        return 15;
    }
    if (store_errmsg(s)[0] == '\0')
        return 16;
    e = manager_update(s, "ana@example.com", CLIENT_NOMBRE, "Anabel", NULL);
    if (e != CL_STORAGE) {
        fprintf(stderr, "read-only update: %s (%s)\n", cl_strerror(e), store_errmsg(s));
        return 17;
    }
    e = manager_delete(s, EX_MAIL, NULL);
    if (e != CL_STORAGE) {
        fprintf(stderr, "read-only delete: %s (%s)\n", cl_strerror(e), store_errmsg(s));
        return 18;
    }
    /* reads still work after the refused writes */
    if (manager_get(s, "ana@example.com", &out, NULL) != CL_OK || strcmp(out.nombre, "Ana") != 0)
        return 19;
    if (manager_count(s, &n) != CL_OK || n != 2 || manager_ping(s) != CL_OK)
        return 20;
    /* and the store says it is not ready, for a reason no wait will cure */
    {
        const char *reason = NULL;
        e = store_ready(s, &reason);
        if (e != CL_STORAGE || !reason || strcmp(reason, "la base de datos es de solo lectura")) {
            fprintf(stderr, "read-only ready: %s (%s)\n", cl_strerror(e), reason ? reason : "-");
            return 21;
        }
    }
    store_close(s);
    return 0;
}

static void run_read_only(struct fx *fx, mode_t dir_mode)
{
    struct client a;
    unsigned char *before, *after;
    size_t blen, alen;
    char p[1300];
    int status;

    assert_int_equal(store_open(fx->path, &fx->s, NULL, 0), CL_OK);
    fx_make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    store_close(fx->s);
    fx->s = NULL;
    /* the last close checkpoints everything into the file; the WAL stays,
     * empty, as the sign that a store lives here */
    snprintf(p, sizeof(p), "%s-wal", fx->path);
    assert_true(ts_exists(p));
    {
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_size, 0);
    }
    assert_int_equal(chmod(fx->path, 0444), 0);
    assert_int_equal(chmod(fx->dir, dir_mode), 0); /* others may enter */
    assert_int_equal(ts_read_file(fx->path, &before, &blen), 0);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(read_only_child(fx->path, !(dir_mode & 0002)));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("read-only child failed: %s %d", WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));

    assert_int_equal(ts_read_file(fx->path, &after, &alen), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(after, before, blen);
    free(before);
    free(after);
}

/* A 0444 file in a directory where others may create files (like /tmp):
 * reads work, every write is CL_STORAGE. */
static void test_read_only_file(void **state)
{
    run_read_only(*state, 01777);
}

/* A 0444 file in a 0755 directory: no crash, and a refusal is CL_STORAGE. */
static void test_read_only_file_and_dir(void **state)
{
    run_read_only(*state, 0755);
}

static void expect_refused_untouched(const char *path, const char *msg_part)
{
    unsigned char *before, *after;
    size_t blen, alen;
    struct store *s;
    struct store dummy;
    char err[512] = "", side[1300];

    assert_int_equal(ts_read_file(path, &before, &blen), 0);
    s = &dummy;
    enum cl_err e = store_open(path, &s, err, sizeof(err));
    if (e != CL_STORAGE)
        fail_msg("store_open(%s) = %s (%s), expected CL_STORAGE", path, cl_strerror(e), err);
    assert_null(s);
    if (!strstr(err, msg_part))
        fail_msg("message '%s' does not mention '%s'", err, msg_part);
    assert_int_equal(ts_read_file(path, &after, &alen), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(after, before, blen);
    free(before);
    free(after);
    snprintf(side, sizeof(side), "%s-wal", path);
    assert_false(ts_exists(side));
    snprintf(side, sizeof(side), "%s-journal", path);
    assert_false(ts_exists(side));
}

static void test_garbage_file(void **state)
{
    struct fx *fx = *state;
    unsigned char junk[8192];
    uint32_t x = 12345;
    char text[2048] = "";

    for (size_t i = 0; i < sizeof(junk); i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    assert_true(memcmp(junk, "SQLite format 3", 15) != 0);
    assert_int_equal(ts_write_file(fx->path, junk, sizeof(junk)), 0);
    expect_refused_untouched(fx->path, "not a database");

    /* short text */
    const char *line = "nombre,apellidos,mail\nJesus,Mesa Gonzalez,ejemplo@gmail.com\n";
    assert_int_equal(ts_write_file(fx->path, line, strlen(line)), 0);
    expect_refused_untouched(fx->path, "not a database");

    /* longer text, more than one page */
    while (strlen(text) + 40 < sizeof(text))
        strcat(text, "esto no es una base de datos SQLite.\n");
    assert_int_equal(ts_write_file(fx->path, text, strlen(text)), 0);
    expect_refused_untouched(fx->path, "not a database");

    /* a SQLite header followed by junk */
    memcpy(junk, "SQLite format 3", 16);
    assert_int_equal(ts_write_file(fx->path, junk, sizeof(junk)), 0);
    struct store *s;
    char err[512] = "";
    enum cl_err e = store_open(fx->path, &s, err, sizeof(err));
    assert_int_not_equal(e, CL_OK);
    assert_null(s);
    assert_true(err[0] != '\0');
}

static void test_foreign_sqlite_file(void **state)
{
    struct fx *fx = *state;

    /* someone else's database: user_version 0 but not empty */
    fx_sql_exec(fx->path, "CREATE TABLE facturas(id INTEGER PRIMARY KEY, total REAL);"
                       "INSERT INTO facturas(total) VALUES (10.5), (20.25);");
    assert_int_equal(fx_sql_int(fx->path, "PRAGMA user_version"), 0);
    expect_refused_untouched(fx->path, "not a clientes store");

    assert_int_equal(fx_sql_int(fx->path, "SELECT count(*) FROM facturas"), 2);
    assert_int_equal(fx_sql_int(fx->path,
                                "SELECT count(*) FROM sqlite_schema WHERE name = 'clients'"),
                     0);
    assert_int_equal(fx_sql_int(fx->path, "PRAGMA user_version"), 0);

    /* an empty table is still someone else's */
    fx_sql_exec(fx->path, "DELETE FROM facturas");
    expect_refused_untouched(fx->path, "not a clientes store");
}

static void test_newer_schema_refused(void **state)
{
    struct fx *fx = *state;
    struct client a;

    fx_make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    store_close(fx->s);
    fx->s = NULL;
    long long v = fx_sql_int(fx->path, "PRAGMA user_version");
    assert_true(v >= 1);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", v + 1);
    fx_sql_exec(fx->path, sql);

    expect_refused_untouched(fx->path, "newer");
    assert_int_equal(fx_sql_int(fx->path, "PRAGMA user_version"), v + 1);
    assert_int_equal(fx_sql_int(fx->path, "SELECT count(*) FROM clients"), 2);

    /* put back at the current version, it opens again with its data */
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", v);
    fx_sql_exec(fx->path, sql);
    fx_reopen(fx);
    fx_stored(fx->s, &a);
}

/* A file written by the first schema (rowid table + unique NOCASE index,
 * user_version 1) is upgraded in place on open: same clients, no example
 * brought back, uniqueness still case-insensitive, at the current version. */
static void test_migrates_version_1_file(void **state)
{
    struct fx *fx = *state;
    struct client a, b, dup;
    char err[512] = "";

    fx_sql_exec(fx->path,
             "CREATE TABLE clients (id INTEGER PRIMARY KEY, mail TEXT NOT NULL,"
             " nombre TEXT NOT NULL, apellidos TEXT NOT NULL,"
             " fecha_nacimiento TEXT NOT NULL, direccion TEXT NOT NULL);"
             "CREATE UNIQUE INDEX clients_mail_nocase ON clients(mail COLLATE NOCASE);"
             "INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, direccion) VALUES"
             " ('Zoe@Example.com', 'Zoe', 'Ruiz', '2000-02-29', 'Calle Dos 2'),"
             " ('ana@example.com', 'Ana', 'Lopez', '1/2/1980', 'Calle Uno 1');"
             "PRAGMA user_version = 1;");
    assert_int_equal(store_open(fx->path, &fx->s, err, sizeof(err)), CL_OK);
    assert_true(fx_sql_int(fx->path, "PRAGMA user_version") > 1);
    assert_int_equal(
        fx_sql_int(fx->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'clients_v2'"), 0);

    fx_make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    fx_make(&b, "Zoe", "Ruiz", "Zoe@Example.com", "2000-02-29", "Calle Dos 2");
    assert_int_equal(fx_count(fx->s), 2); /* the example is not seeded into an old file */
    fx_stored(fx->s, &a);
    fx_stored(fx->s, &b);
    fx_absent(fx->s, "ejemplo@gmail.com");
    fx_make(&dup, "Otra", "Zoe", "ZOE@example.COM", "1/1/1990", "Calle Tres 3");
    assert_int_equal(manager_add(fx->s, &dup, NULL), CL_EXISTS);
    fx_stored(fx->s, &b);

    /* and it stays migrated: reopening changes nothing */
    fx_reopen(fx);
    assert_int_equal(fx_count(fx->s), 2);
}

int main(void)
{
#define T(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_missing_directory, fx_setup_dir),
        T(test_read_only_file, fx_setup_dir_tmp),
        T(test_read_only_file_and_dir, fx_setup_dir_tmp),
        T(test_garbage_file, fx_setup_dir),
        T(test_foreign_sqlite_file, fx_setup_dir),
        T(test_newer_schema_refused, fx_setup_store),
        T(test_migrates_version_1_file, fx_setup_dir),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
