/* test_store_identity.c - the SQLite store and the file it opened: writes
 * are refused once that file is removed or replaced under it, readiness says
 * so, and a removed store is never silently re-created empty at the next
 * open while a sign of it (its -wal file, kept on purpose) is left. */
#include "store_fx.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GONE "el fichero de la base de datos fue borrado o sustituido"

static void add_ana(struct fx *fx, const char *mail)
{
    struct client a;

    fx_make(&a, "Ana", "Lopez", mail, "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
}

/* Every kind of write refused as CL_STORAGE with the detail, nothing
 * changed through the handle; reads still answer; not ready. */
static void expect_writes_refused(struct fx *fx, const char *detail)
{
    struct client c, out;
    const char *reason = NULL;

    fx_make(&c, "Luis", "Diaz", "luis@example.com", "3/4/1970", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_STORAGE);
    assert_non_null(strstr(store_errmsg(fx->s), detail));
    assert_non_null(strstr(store_errmsg(fx->s), fx->path));
    assert_int_equal(manager_update(fx->s, EX_MAIL, CLIENT_NOMBRE, "Otro", NULL), CL_STORAGE);
    assert_int_equal(manager_delete(fx->s, EX_MAIL, NULL), CL_STORAGE);
    assert_int_equal(manager_get(fx->s, EX_MAIL, &out, NULL), CL_OK);
    assert_string_equal(out.nombre, "Jesus");
    fx_absent(fx->s, "luis@example.com");
    assert_int_equal(store_ready(fx->s, &reason), CL_STORAGE);
    assert_string_equal(reason, GONE);
    assert_non_null(strstr(store_errmsg(fx->s), detail));
    /* reason is optional */
    assert_int_equal(store_ready(fx->s, NULL), CL_STORAGE);
}

static void test_ready_when_well(void **state)
{
    struct fx *fx = *state;
    const char *reason = "untouched";

    assert_int_equal(store_ready(fx->s, &reason), CL_OK);
    assert_string_equal(reason, "untouched");
    assert_string_equal(store_errmsg(fx->s), "");
}

/* rm of the database file: before, the handle went on writing into the
 * unnamed inode, answering success, and the next start created a new store
 * holding only the example. */
static void test_removed_file(void **state)
{
    struct fx *fx = *state;
    char wal[1300], err[512] = "";
    struct store *again = NULL;

    add_ana(fx, "ana@example.com");
    assert_int_equal(unlink(fx->path), 0);
    expect_writes_refused(fx, "gone since opened");
    store_close(fx->s);
    fx->s = NULL;
    /* what is left is the sign: the -wal file */
    ts_suffix(wal, sizeof(wal), fx->path, "-wal");
    assert_true(ts_exists(wal));
    assert_int_equal(store_open(fx->path, &again, err, sizeof(err)), CL_STORAGE);
    assert_null(again);
    assert_non_null(strstr(err, "missing but its -wal file is there"));
    assert_non_null(strstr(err, fx->path));
    /* and nothing was created in its place */
    assert_false(ts_exists(fx->path));
}

/* Another database moved over the path (say, yesterday's copy): refused
 * the same way; putting the original back makes the handle whole again. */
static void test_replaced_file(void **state)
{
    struct fx *fx = *state;
    char other[1300], moved[1300];
    struct store *s2;

    ts_join(other, sizeof(other), fx->dir, "copia.db");
    ts_join(moved, sizeof(moved), fx->dir, "original.db");
    assert_int_equal(store_open(other, &s2, NULL, 0), CL_OK);
    store_close(s2);
    assert_int_equal(rename(fx->path, moved), 0);
    assert_int_equal(rename(other, fx->path), 0);
    expect_writes_refused(fx, "replaced by another since opened");

    /* moved away without a replacement: gone */
    assert_int_equal(rename(fx->path, other), 0);
    expect_writes_refused(fx, "gone since opened");

    /* the original back in place: the same file, so writes go on */
    assert_int_equal(rename(moved, fx->path), 0);
    assert_int_equal(store_ready(fx->s, NULL), CL_OK);
    add_ana(fx, "ana@example.com");
    fx_reopen(fx);
    assert_int_equal(fx_count(fx->s), 2);
}

/* Closing a handle whose file was replaced moves its -wal and -shm aside:
 * otherwise the next open would replay the old file's pages into the new
 * one.  The new file then opens as it is. */
static void test_replaced_file_wal_set_aside(void **state)
{
    struct fx *fx = *state;
    char other[1300], side[1400], moved[1500];
    struct store *s2;
    struct client a;
    struct stat st;
    ino_t old_ino;

    /* the copy: a store of its own, with one client more than new */
    ts_join(other, sizeof(other), fx->dir, "copia.db");
    assert_int_equal(store_open(other, &s2, NULL, 0), CL_OK);
    fx_make(&a, "Copia", "Uno", "copia@example.com", "1/2/1980", "Calle Copia 1");
    assert_int_equal(manager_add(s2, &a, NULL), CL_OK);
    store_close(s2);
    /* the live store: writes that sit in its WAL */
    for (int i = 0; i < 5; i++) {
        char mail[64];
        snprintf(mail, sizeof(mail), "vivo%d@example.com", i);
        add_ana(fx, mail);
    }
    assert_int_equal(stat(fx->path, &st), 0);
    old_ino = st.st_ino;
    ts_suffix(side, sizeof(side), fx->path, "-wal");
    assert_int_equal(stat(side, &st), 0);
    assert_true(st.st_size > 0);

    assert_int_equal(rename(other, fx->path), 0);
    expect_writes_refused(fx, "replaced by another since opened");
    store_close(fx->s);
    fx->s = NULL;
    for (int i = 0; i < 2; i++) {
        ts_suffix(side, sizeof(side), fx->path, i ? "-shm" : "-wal");
        snprintf(moved, sizeof(moved), "%s.replaced-%llu", side, (unsigned long long)old_ino);
        assert_true(ts_exists(moved));
        assert_false(ts_exists(side));
    }
    /* the copy, exactly: its example and its one client, none of the others */
    fx_reopen(fx);
    assert_int_equal(fx_count(fx->s), 2);
    fx_stored(fx->s, &a);
    fx_absent(fx->s, "vivo0@example.com");
    assert_int_equal(store_ready(fx->s, NULL), CL_OK);
}

/* A relative path is judged against the directory of the open, so it keeps
 * naming the same file whatever the process does later. */
static void test_relative_path(void **state)
{
    struct fx *fx = *state;
    struct store *s;
    const char *reason = NULL;
    struct client a;

    fx_chdir(fx);
    assert_int_equal(store_open("sqlite://rel.db", &s, NULL, 0), CL_OK);
    assert_int_equal(store_ready(s, NULL), CL_OK);
    assert_int_equal(chdir("/"), 0);
    assert_int_equal(store_ready(s, NULL), CL_OK);
    fx_make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(s, &a, NULL), CL_OK);
    ts_join(fx->path, sizeof(fx->path), fx->dir, "rel.db");
    assert_int_equal(unlink(fx->path), 0);
    assert_int_equal(store_ready(s, &reason), CL_STORAGE);
    assert_string_equal(reason, GONE);
    store_close(s);
}

/* After a clean close the WAL stays, empty, and the store opens again with
 * everything; removing the file alone is then refused at the next open. */
static void test_wal_kept_as_sign(void **state)
{
    struct fx *fx = *state;
    char wal[1300], err[512] = "";
    struct store *s = NULL;
    struct stat st;

    add_ana(fx, "ana@example.com");
    store_close(fx->s);
    fx->s = NULL;
    ts_suffix(wal, sizeof(wal), fx->path, "-wal");
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_size, 0); /* everything is in the file itself */
    fx_reopen(fx);
    assert_int_equal(fx_count(fx->s), 2);
    store_close(fx->s);
    fx->s = NULL;

    assert_int_equal(unlink(fx->path), 0);
    assert_int_equal(store_open(fx->path, &s, err, sizeof(err)), CL_STORAGE);
    assert_null(s);
    assert_non_null(strstr(err, "-wal"));
    assert_false(ts_exists(fx->path));
    /* the way out the message gives: remove the leftovers, start empty */
    assert_int_equal(ts_db_unlink(fx->path), 0);
    assert_int_equal(store_open(fx->path, &s, err, sizeof(err)), CL_OK);
    assert_int_equal(fx_count(s), 1);
    store_close(s);
}

/* A process killed (SIGKILL) after its writes leaves a WAL full of them
 * (and the -shm); the file removed after that is refused too, whichever
 * sign stays. */
static void test_hot_wal_as_sign(void **state)
{
    struct fx *fx = *state;
    static const char *const signs[] = {"-wal", "-shm"};
    char side[1300], err[512];
    struct store *s;
    int status;

    store_close(fx->s);
    fx->s = NULL;
    for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++) {
        pid_t pid;

        int ready[2];
        char ok = 0;

        ts_db_unlink(fx->path);
        assert_int_equal(pipe(ready), 0);
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct client a;
            close(ready[0]);
            if (store_open(fx->path, &s, NULL, 0) != CL_OK ||
                ts_client(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "C 1") != CL_OK ||
                manager_add(s, &a, NULL) != CL_OK)
                _exit(1);
            /* written: now wait for the SIGKILL, which no close follows */
            if (write(ready[1], "k", 1) != 1)
                _exit(2);
            for (;;)
                pause();
        }
        close(ready[1]);
        assert_int_equal(read(ready[0], &ok, 1), 1);
        close(ready[0]);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        ts_suffix(side, sizeof(side), fx->path, "-wal");
        assert_true(ts_exists(side));
        assert_int_equal(unlink(fx->path), 0);
        /* keep only this sign */
        for (size_t k = 0; k < sizeof(signs) / sizeof(signs[0]); k++) {
            if (k == i)
                continue;
            ts_suffix(side, sizeof(side), fx->path, signs[k]);
            unlink(side);
        }
        err[0] = '\0';
        s = NULL;
        assert_int_equal(store_open(fx->path, &s, err, sizeof(err)), CL_STORAGE);
        assert_null(s);
        assert_non_null(strstr(err, signs[i]));
        assert_false(ts_exists(fx->path));
    }
}

/* A new directory, or a file that was never opened: created as before. */
static void test_new_store_still_created(void **state)
{
    struct fx *fx = *state;
    char wal[1300];
    struct store *s;

    assert_false(ts_exists(fx->path));
    assert_int_equal(store_open(fx->path, &s, NULL, 0), CL_OK);
    assert_int_equal(fx_count(s), 1);
    assert_int_equal(store_ready(s, NULL), CL_OK);
    store_close(s);
    ts_suffix(wal, sizeof(wal), fx->path, "-wal");
    assert_true(ts_exists(wal));
}

int main(void)
{
#define T(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_ready_when_well, fx_setup_store),
        T(test_removed_file, fx_setup_store),
        T(test_replaced_file, fx_setup_store),
        T(test_replaced_file_wal_set_aside, fx_setup_store),
        T(test_relative_path, fx_setup_dir),
        T(test_wal_kept_as_sign, fx_setup_store),
        T(test_hot_wal_as_sign, fx_setup_store),
        T(test_new_store_still_created, fx_setup_dir),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
