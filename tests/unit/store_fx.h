/* store_fx.h - the fixture of the store test files (test_manager.c,
 * test_store_*.c): one fresh temp dir per test, optionally a store open in
 * it, and helpers that fail the cmocka test on the spot.  Built on
 * tests/support/support.h. */
#ifndef CLIENTES_STORE_FX_H
#define CLIENTES_STORE_FX_H

#include <stdarg.h>
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
    struct store *s;
    int cwd_fd; /* where to come back to after a test that chdir()s, or -1 */
};

/* cmocka setups: a store open on a new file; only the directory; only the
 * directory, under /tmp (which any user can traverse, for tests that drop
 * root).  fx_teardown closes the store and removes the directory. */
int fx_setup_store(void **state);
int fx_setup_dir(void **state);
int fx_setup_dir_tmp(void **state);
int fx_teardown(void **state);

/* Closes fx->s and opens the same file again (failing the test if it cannot). */
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

/* SQL run on the file directly through SQLite, behind the library's back:
 * fx_sql_exec must succeed; fx_sql_int opens read-only and returns the first
 * column of the first row (-1 when there is none). */
void fx_sql_exec(const char *path, const char *sql);
long long fx_sql_int(const char *path, const char *sql);

#endif
