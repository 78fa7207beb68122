/* store_sqlite.h - the SQLite backend's constructor (the default store). */
#ifndef CLIENTES_STORE_SQLITE_H
#define CLIENTES_STORE_SQLITE_H

#include <stddef.h>

#include "store.h"

/* Opens the SQLite file at `path` (see store_open() for what happens to a new
 * or an older file), waiting up to busy_timeout_ms for a lock.  Used by
 * store_open(), which parses the URL. */
enum cl_err store_sqlite_open(const char *path, int busy_timeout_ms, struct store **out,
                              char *err, size_t errlen);

/* For tests: the query plan (EXPLAIN QUERY PLAN's lines, joined by '\n')
 * of the statement that list() runs for q's first page, or for a page after
 * a cursor when q has one.  Returns CL_OK, CL_INVALID for a handle of
 * another backend, or the error of the preparation. */
enum cl_err store_sqlite_plan(struct store *s, const struct client_query *q, char *out,
                              size_t len);

#endif
