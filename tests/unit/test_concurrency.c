/* test_concurrency.c - several handles (threads, processes) on one SQLite store. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "error.h"
#include "manager.h"
#include "store.h"
#include "support.h"

#define PER_WORKER 2000
#define EX_MAIL TS_EXAMPLE_MAIL

/* A generous wait for the write lock, so that a slow run (valgrind, ASan) is
 * not mistaken for a failure; a writer that deadlocks (SQLITE_BUSY without
 * waiting) fails at once whatever the timeout. */
#define URL_OPTS "?busy_timeout=30000"

struct fx {
    char dir[1024];
    char path[1200];
    char url[1300];
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    if (ts_mkdtemp(fx->dir, sizeof(fx->dir), NULL) != 0) {
        perror("mkdtemp");
        free(fx);
        return -1;
    }
    ts_join(fx->path, sizeof(fx->path), fx->dir, "clientes.db");
    snprintf(fx->url, sizeof(fx->url), "sqlite://%s" URL_OPTS, fx->path);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    int rc = ts_rmtree(fx->dir);
    free(fx);
    return rc;
}

static void worker_mail(char *out, size_t cap, int worker, int i)
{
    /* alternate the case, so the unique index folds case under load too */
    snprintf(out, cap, i % 2 ? "W%d-%05d@Conc.ES" : "w%d-%05d@conc.es", worker, i);
}

struct worker {
    const char *url;
    int id;
    int n;
    int failures;
    enum cl_err first_err;
    char msg[512];
};

/* Opens its own handle and adds w->n distinct clients; never touches cmocka
 * (not thread-safe), only records what went wrong. */
static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct store *s = NULL;
    struct client c;
    char mail[64], nombre[32];
    enum cl_err e;

    e = store_open(w->url, &s, w->msg, sizeof(w->msg));
    if (e) {
        w->failures = w->n;
        w->first_err = e;
        return NULL;
    }
    for (int i = 0; i < w->n; i++) {
        worker_mail(mail, sizeof(mail), w->id, i);
        snprintf(nombre, sizeof(nombre), "Hilo %d", w->id);
        e = ts_client(&c, nombre, "Concurrente", mail, "1/1/1990", "Calle Paralela 1");
        if (!e)
            e = manager_add(s, &c, NULL);
        if (e) {
            if (!w->failures++) {
                w->first_err = e;
                snprintf(w->msg, sizeof(w->msg), "%s: %s (%s)", mail, cl_strerror(e),
                         store_errmsg(s));
            }
        }
    }
    store_close(s);
    return NULL;
}

static void check_all_present(const char *url, int workers, long long extra)
{
    struct store *s;
    struct client out;
    char mail[64], err[512] = "";
    long long n = -1;

    if (store_open(url, &s, err, sizeof(err)) != CL_OK)
        fail_msg("open %s: %s", url, err);
    assert_int_equal(manager_count(s, &n), CL_OK);
    assert_int_equal(n, (long long)workers * PER_WORKER + extra);
    for (int w = 0; w < workers; w++) {
        for (int i = 0; i < PER_WORKER; i++) {
            worker_mail(mail, sizeof(mail), w, i);
            enum cl_err e = manager_get(s, mail, &out, NULL);
            if (e != CL_OK)
                fail_msg("%s missing: %s", mail, cl_strerror(e));
            assert_string_equal(out.mail, mail);
        }
    }
    store_close(s);
}

/* Makes the file (and its example client) before the workers start. */
static void create_store(const char *url)
{
    struct store *s;
    char err[512] = "";
    if (store_open(url, &s, err, sizeof(err)) != CL_OK)
        fail_msg("open %s: %s", url, err);
    store_close(s);
}

/* Reaps every child before judging any, so that a failure does not leave
 * children writing into a directory the teardown is removing. */
static void wait_all(const pid_t *pid, int n)
{
    int bad = 0, first = 0, status;

    for (int i = 0; i < n; i++) {
        if (waitpid(pid[i], &status, 0) != pid[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            if (!bad++)
                first = i;
        }
    }
    if (bad)
        fail_msg("%d of %d children failed, the first being #%d", bad, n, first);
}

static void test_two_threads(void **state)
{
    struct fx *fx = *state;
    struct worker w[2];
    pthread_t t[2];

    create_store(fx->url);
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].url = fx->url;
        w[i].id = i;
        w[i].n = PER_WORKER;
        assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        if (w[i].failures)
            fail_msg("thread %d: %d failures, first %s: %s", i, w[i].failures,
                     cl_strerror(w[i].first_err), w[i].msg);
    }
    check_all_present(fx->url, 2, 1);
}

static void test_two_processes(void **state)
{
    struct fx *fx = *state;
    pid_t pid[2];

    create_store(fx->url);
    fflush(NULL);
    for (int i = 0; i < 2; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            struct worker w;
            memset(&w, 0, sizeof(w));
            w.url = fx->url;
            w.id = i;
            w.n = PER_WORKER;
            worker_run(&w);
            if (w.failures)
                fprintf(stderr, "process %d: %d failures, first %s: %s\n", i, w.failures,
                        cl_strerror(w.first_err), w.msg);
            _exit(w.failures ? 1 : 0);
        }
    }
    wait_all(pid, 2);
    check_all_present(fx->url, 2, 1);
}

/* Several processes open a file that does not exist yet, all at once: each
 * open succeeds (the busy timeout covers creation too) and the example
 * client is seeded exactly once.  The race is timing-dependent, so it is run
 * for a few rounds, each on a new file. */
#define OPENERS 6
#define ROUNDS 24

static void creation_round(const char *path, const char *url)
{
    pid_t pid[OPENERS];
    int gate[2];

    assert_int_equal(pipe(gate), 0);
    fflush(NULL);
    for (int i = 0; i < OPENERS; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            char b, err[512] = "";
            struct store *s;
            struct client c;
            char mail[64];
            close(gate[1]);
            /* wait until the parent opens the gate (closes its end) */
            while (read(gate[0], &b, 1) > 0)
                ;
            enum cl_err e = store_open(url, &s, err, sizeof(err));
            if (e) {
                fprintf(stderr, "opener %d: %s (%s)\n", i, cl_strerror(e), err);
                _exit(1);
            }
            snprintf(mail, sizeof(mail), "opener%d@conc.es", i);
            e = ts_client(&c, "Abre", "Primero", mail, "1/1/1990", "Calle 1");
            if (!e)
                e = manager_add(s, &c, NULL);
            if (e) {
                fprintf(stderr, "opener %d add: %s (%s)\n", i, cl_strerror(e), store_errmsg(s));
                _exit(2);
            }
            store_close(s);
            _exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);
    wait_all(pid, OPENERS);

    struct store *s;
    struct client out;
    long long n = -1;
    assert_int_equal(store_open(url, &s, NULL, 0), CL_OK);
    assert_int_equal(manager_count(s, &n), CL_OK);
    assert_int_equal(n, OPENERS + 1);
    assert_int_equal(manager_get(s, EX_MAIL, &out, NULL), CL_OK);
    assert_string_equal(out.nombre, "Jesus");
    store_close(s);
    /* and whoever won, the file ended up in WAL mode */
    assert_int_equal(ts_db_is_wal(path), 1);
}

static void test_concurrent_creation(void **state)
{
    struct fx *fx = *state;
    char name[32], path[1300], url[1400];

    for (int r = 0; r < ROUNDS; r++) {
        snprintf(name, sizeof(name), "new-%d.db", r);
        ts_join(path, sizeof(path), fx->dir, name);
        snprintf(url, sizeof(url), "sqlite://%s" URL_OPTS, path);
        creation_round(path, url);
    }
}

/* A reader walking while another handle writes sees a consistent snapshot
 * and neither side fails. */
struct writer_arg {
    const char *url;
    int failures;
    char msg[512];
};

static void *writer_run(void *arg)
{
    struct writer_arg *w = arg;
    struct store *s;
    struct client c;
    char mail[64];

    if (store_open(w->url, &s, w->msg, sizeof(w->msg)) != CL_OK) {
        w->failures = 1;
        return NULL;
    }
    for (int i = 0; i < 300; i++) {
        snprintf(mail, sizeof(mail), "late%04d@conc.es", i);
        if (ts_client(&c, "N", "A", mail, "1/1/1990", "D") != CL_OK ||
            manager_add(s, &c, NULL) != CL_OK) {
            if (!w->failures++)
                snprintf(w->msg, sizeof(w->msg), "%s: %s", mail, store_errmsg(s));
        }
    }
    store_close(s);
    return NULL;
}

struct slow_walk {
    long long n;
};

static int slow_walk_fn(const struct client *c, void *ctx)
{
    struct slow_walk *sw = ctx;
    (void)c;
    sw->n++;
    if (sw->n == 1)
        usleep(20000); /* let the writer run while the read is open */
    return 0;
}

static void test_walk_while_writing(void **state)
{
    struct fx *fx = *state;
    struct worker filler;
    struct writer_arg wa;
    struct slow_walk sw;
    struct store *s;
    pthread_t t;
    long long before = -1, after = -1;

    /* 2000 clients to walk over */
    create_store(fx->url);
    memset(&filler, 0, sizeof(filler));
    filler.url = fx->url;
    filler.n = PER_WORKER;
    worker_run(&filler);
    assert_int_equal(filler.failures, 0);

    assert_int_equal(store_open(fx->url, &s, NULL, 0), CL_OK);
    assert_int_equal(manager_count(s, &before), CL_OK);
    memset(&wa, 0, sizeof(wa));
    wa.url = fx->url;
    memset(&sw, 0, sizeof(sw));
    assert_int_equal(pthread_create(&t, NULL, writer_run, &wa), 0);
    assert_int_equal(manager_walk(s, slow_walk_fn, &sw), CL_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    if (wa.failures)
        fail_msg("writer: %d failures: %s", wa.failures, wa.msg);
    /* the walk saw one snapshot: at least what was there, at most all of it */
    assert_true(sw.n >= before && sw.n <= before + 300);
    assert_int_equal(manager_count(s, &after), CL_OK);
    assert_int_equal(after, before + 300);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_creation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_while_writing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
