/* store_sqlite.h - the SQLite backend's constructor (the default store). */
#ifndef CLIENTES_STORE_SQLITE_H
#define CLIENTES_STORE_SQLITE_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* Opens the SQLite file at `path` (see store_open() for what happens to a new
 * or an older file), waiting up to busy_timeout_ms for a lock.  Used by
 * store_open(), which parses the URL. */
enum cl_err store_sqlite_open(const char *path, int busy_timeout_ms, struct store **out,
                              char *err, size_t errlen);

/* Copies the SQLite store of `s` into a new file at `dest`, consistently
 * while other handles keep writing: one snapshot (SQLite's online backup
 * API, in one step of one read transaction), the copy standing alone (no
 * -wal).  Returns CL_OK; CL_INVALID when s is another backend's; CL_EXISTS
 * when dest exists (never overwritten); CL_BUSY, CL_STORAGE with a reason in
 * err. */
enum cl_err store_sqlite_backup(struct store *s, const char *dest, char *err, size_t errlen);

/* CL_OK when `path` is a SQLite file that passes PRAGMA integrity_check and
 * holds a clientes store; else CL_STORAGE with the reason in err. */
enum cl_err store_sqlite_check(const char *path, char *err, size_t errlen);

/* Restores a backup (checked as store_sqlite_check() does) into `target`:
 * a new file, or with `force` in place of an existing store - whose -wal,
 * -shm and -journal go too, so nothing of it is replayed into the copy.  No
 * service may have the target open meanwhile.  Returns CL_OK, CL_EXISTS
 * (target exists, no force), CL_STORAGE, CL_BUSY. */
enum cl_err store_sqlite_restore(const char *backup, const char *target, bool force, char *err,
                                 size_t errlen);

/* For tests: the query plan (EXPLAIN QUERY PLAN's lines, joined by '\n')
 * of the statement that list() runs for q's first page, or for a page after
 * a cursor when q has one.  Returns CL_OK, CL_INVALID for a handle of
 * another backend, or the error of the preparation. */
enum cl_err store_sqlite_plan(struct store *s, const struct client_query *q, char *out,
                              size_t len);

#endif
