/* pg_support.h - the PostgreSQL side of the test fixtures: which backend a
 * suite runs against, and fresh PostgreSQL stores in the cluster bin/test
 * started (tests/support/pgcluster.py run -- ctest ...).
 *
 * No cmocka here either (support.h): results through return values. */
#ifndef CLIENTES_PG_SUPPORT_H
#define CLIENTES_PG_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

/* The variable that picks the backend of the store suites, and of the
 * integration suites (tests/integration/stack.py reads it too): "pg"
 * for PostgreSQL, unset or "sqlite" for SQLite.  CTest sets it for the
 * *_pg twins of the store suites (tests/unit/CMakeLists.txt). */
#define TS_STORE_ENV "CLIENTES_TEST_STORE"

/* Where pgcluster.py publishes its cluster: a superuser URL.  The
 * application role "clientes" has the same password. */
#define TS_PG_ADMIN_ENV "CLIENTES_PG_ADMIN_URL"

/* True when TS_STORE_ENV says "pg". */
bool ts_store_is_pg(void);

/* Writes into out (cap bytes) the URL of a new, empty PostgreSQL store: a
 * schema of its own, owned by the application role, in a database of this
 * process (made by the first call), reached over TCP as that role with its
 * search_path set to the schema through the URL's `options`.  For the
 * library it is a database nobody has used: every table it makes lands in
 * that schema.  Creating a schema takes a few milliseconds where a database
 * takes a hundred.  Returns 0, or -1 with the reason in err (errlen bytes):
 * no cluster (TS_PG_ADMIN_ENV unset: PostgreSQL tests run under bin/test),
 * the server refusing.  A test that needs PostgreSQL and gets -1 fails. */
int ts_pg_fresh_url(char *out, size_t cap, char *err, size_t errlen);

/* Runs `sql` (one or more statements, no parameters) on the store at `url`
 * as its owner, behind the library's back.  Returns 0, or -1 with the
 * server's message in err. */
int ts_pg_exec(const char *url, const char *sql, char *err, size_t errlen);

/* The first column of the first row of `sql` on the store at `url` as a
 * number; -1 when there is no row, -2 on an error (message in err). */
long long ts_pg_int(const char *url, const char *sql, char *err, size_t errlen);

/* The same as the cluster's superuser, on the database of `url` (its
 * search_path kept): for what the application role may not do
 * (pg_terminate_backend of its sessions, ALTER DATABASE); url NULL: the
 * cluster's "postgres" database. */
int ts_pg_admin_exec(const char *url, const char *sql, char *err, size_t errlen);
long long ts_pg_admin_int(const char *url, const char *sql, char *err, size_t errlen);

#endif
