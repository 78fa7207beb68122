/* store_fx.h - the fixture of the store test files (test_manager.c,
 * test_store_*.c): one fresh temp dir per test, optionally a store open in
 * it, and helpers that fail the cmocka test on the spot.  Built on
 * tests/support/support.h.
 *
 * The backend: tests that hold for every store open theirs with
 * fx_setup_any(), which picks it from CLIENTES_TEST_STORE: "sqlite" (the
 * default when unset) or "pg" (a fresh database per test from
 * ts_pg_database(), tests/support/ts_pg.h).  Tests of one backend's own
 * behaviour (a SQLite file's bytes, its migrations) use fx_setup_store(). */
#ifndef CLIENTES_STORE_FX_H
#define CLIENTES_STORE_FX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "client.h"
#include "error.h"
#include "manager.h"
#include "store.h"
#include "support.h"

#define EX_MAIL TS_EXAMPLE_MAIL

/* One test's state: a temp dir, the database path in it, and `s` open on
 * that path when the setup asks for it. */
struct fx {
    char dir[1024];
    char path[1200]; /* <dir>/clientes.db */
    char url[1400];  /* the store's URL: the path, or a PostgreSQL database's */
    struct store *s;
    int cwd_fd; /* where to come back to after a test that chdir()s, or -1 */
};

enum fx_backend { FX_SQLITE, FX_PG };

/* The backend CLIENTES_TEST_STORE names; anything but "sqlite", "pg" or
 * nothing fails the test. */
enum fx_backend fx_backend(void);

/* cmocka setup: a new store of the chosen backend open in fx->s (its URL in
 * fx->url), and the temp dir. */
int fx_setup_any(void **state);

/* Another handle on fx's store; the caller closes it. */
struct store *fx_open(const struct fx *fx);

/* A second new store of the same backend (a file `name` in fx->dir, or a
 * database of its own), its URL in url; the caller closes it. */
struct store *fx_open_other(struct fx *fx, const char *name, char *url, size_t cap);

/* cmocka setups: a store open on a new file; only the directory; only the
 * directory, under /tmp (which any user can traverse, for tests that drop
 * root).  fx_teardown closes the store and removes the directory. */
int fx_setup_store(void **state);
int fx_setup_dir(void **state);
int fx_setup_dir_tmp(void **state);
int fx_teardown(void **state);

/* Closes fx->s and opens the same store again (failing the test if it cannot). */
void fx_reopen(struct fx *fx);

/* chdir() into fx->dir until the teardown. */
void fx_chdir(struct fx *fx);

/* ts_client(), failing the test when the library refuses the data. */
void fx_make(struct client *c, const char *nombre, const char *apellidos, const char *mail,
             const char *fecha, const char *direccion);

/* The example client of a new store. */
void fx_example(struct client *c);

/* manager_count(), which must succeed. */
long long fx_count(struct store *s);

/* `mail` is not in the store / `want` is, exactly. */
void fx_absent(struct store *s, const char *mail);
void fx_stored(struct store *s, const struct client *want);

/* Every field of got equals want's. */
void fx_client_eq(const struct client *got, const struct client *want);

/* One audit row as read back, copied (NULL strings as "" with the has_
 * flags false). */
struct fx_audit_row {
    long long id;
    char at[32], actor[80], action[40], target[300], request_id[80], client_addr[80];
    char changes[2048];
    bool has_target, has_changes, has_request_id, has_client_addr;
};

/* Up to cap rows of manager_audit(q) into rows (q->limit is set to cap);
 * returns how many. */
int fx_audit(struct store *s, struct audit_query q, struct fx_audit_row *rows, int cap);

/* The newest audit row (the test fails when there is none). */
struct fx_audit_row fx_audit_last(struct store *s);

/* How many audit rows the store holds. */
long long fx_audit_count(struct store *s);

/* A valid RFC 3339 UTC time with milliseconds, as the store keeps them. */
void fx_assert_time(const char *t);

/* SQL run on the file directly through SQLite, behind the library's back:
 * fx_sql_exec must succeed; fx_sql_int opens read-only and returns the first
 * column of the first row (-1 when there is none). */
void fx_sql_exec(const char *path, const char *sql);
long long fx_sql_int(const char *path, const char *sql);

#endif
