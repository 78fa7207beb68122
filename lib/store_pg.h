/* store_pg.h - the PostgreSQL backend (libpq): one connection per handle,
 * for several processes or dynos sharing one durable state.  store_open()
 * picks it for postgres:// and postgresql:// URLs. */
#ifndef CLIENTES_STORE_PG_H
#define CLIENTES_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* The knobs of the backend, read from the environment at store_open() (the
 * programs' configuration table, cgi/config.c, declares and checks the same
 * variables, with these bounds and defaults).  They bound every wait on the
 * database, so that no request can hang on it. */
#define STORE_PG_CONNECT_TIMEOUT_ENV "DATABASE_CONNECT_TIMEOUT_S"
#define STORE_PG_CONNECT_TIMEOUT_DEF 5
#define STORE_PG_CONNECT_TIMEOUT_MIN 1
#define STORE_PG_CONNECT_TIMEOUT_MAX 60
#define STORE_PG_STATEMENT_TIMEOUT_ENV "DATABASE_STATEMENT_TIMEOUT_MS"
#define STORE_PG_STATEMENT_TIMEOUT_DEF 5000
#define STORE_PG_STATEMENT_TIMEOUT_MIN 100
#define STORE_PG_STATEMENT_TIMEOUT_MAX 600000
#define STORE_PG_LOCK_TIMEOUT_ENV "DATABASE_LOCK_TIMEOUT_MS"
#define STORE_PG_LOCK_TIMEOUT_DEF 2000
#define STORE_PG_LOCK_TIMEOUT_MIN 10
#define STORE_PG_LOCK_TIMEOUT_MAX 600000
/* How long store_open() keeps trying to reach a server that does not answer
 * (a database still starting, a dyno booting during maintenance) before it
 * gives up; a server that answers and refuses (bad password, no such
 * database) fails at once. */
#define STORE_PG_OPEN_WAIT_ENV "DATABASE_OPEN_WAIT_S"
#define STORE_PG_OPEN_WAIT_DEF 10
#define STORE_PG_OPEN_WAIT_MIN 0
#define STORE_PG_OPEN_WAIT_MAX 300

/* Rows of a walk (a list with limit 0) read per statement: each page is one
 * short statement, so a slow reader never holds one open past
 * statement_timeout. */
#define STORE_PG_WALK_PAGE 1000

/* The schema version this program writes.  A database at a higher version
 * (a newer program migrated it) is refused. */
#define STORE_PG_SCHEMA_VERSION 2

/* True when url names a PostgreSQL store (postgres:// or postgresql://,
 * either case). */
bool store_pg_url(const char *url);

/* Opens a handle on the PostgreSQL database of `url`, which libpq reads as
 * it is (user, password, host, port, database, sslmode, options...; the
 * defaults below apply where the URL says nothing).  The database is
 * checked, and migrated when behind (under an advisory lock, so concurrent
 * starts are safe; the first migration stores the example client), on a
 * connection that is then closed: the handle connects again when first
 * used, and holds one connection from then on.
 *
 * Defaults: sslmode=require (unless PGSSLMODE is set; Heroku needs it),
 * connect_timeout, TCP keepalives (30 s idle, 10 s interval, 3 probes),
 * tcp_user_timeout 30 s, application_name "clientes" or "clientes/$DYNO";
 * the session's statement_timeout, lock_timeout and
 * idle_in_transaction_session_timeout come before the URL's own `options`,
 * which therefore win.
 *
 * Returns as store_open() does: CL_INVALID for a URL libpq refuses or a
 * knob out of bounds, CL_BUSY for a server that did not answer within
 * DATABASE_OPEN_WAIT_S, CL_STORAGE for one that refuses us or holds a newer
 * schema or someone else's tables.  err never quotes the URL. */
enum cl_err store_pg_open(const char *url, struct store **out, char *err, size_t errlen);

#endif
