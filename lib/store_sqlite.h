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

#endif
