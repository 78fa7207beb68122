/* store.h - the storage interface: a table of operations any backend fills in.
 *
 * Threading: a store handle belongs to one thread at a time.  Open one
 * handle per thread (the worker does); the library keeps no global state, so
 * handles in different threads or processes never share anything but the
 * underlying database, which serialises writers itself.
 *
 * One door: the data operations (get, add, del, update, count, walk, ping)
 * are called by manager.c alone, after it has validated their input; the
 * handle's life and health (open, close, errmsg, ready) go through the
 * store_* functions below.  Nothing else calls s->ops. */
#ifndef CLIENTES_STORE_H
#define CLIENTES_STORE_H

#include <stddef.h>

#include "client.h"
#include "error.h"

/* Called once per client by walk(), in mail order.  `c` is valid only during
 * the call.  Return 0 to go on, non-zero to stop the walk early (walk() then
 * returns CL_OK).  The callback must not use the store being walked. */
typedef int (*store_walk_fn)(const struct client *c, void *ctx);

struct store;

/* What a backend implements.  Mails passed in are already valid; lookups by
 * mail are case-insensitive.  Every change is one transaction: it is either
 * entirely done or not at all. */
struct store_ops {
    const char *name; /* "sqlite", ... */
    void (*close)(struct store *s);
    enum cl_err (*get)(struct store *s, const char *mail, struct client *out);
    enum cl_err (*add)(struct store *s, const struct client *c);
    enum cl_err (*del)(struct store *s, const char *mail);
    enum cl_err (*update)(struct store *s, const char *mail, enum client_field field,
                          const char *value);
    enum cl_err (*count)(struct store *s, long long *n);
    enum cl_err (*walk)(struct store *s, store_walk_fn fn, void *ctx);
    enum cl_err (*ping)(struct store *s);
    /* See store_ready(). */
    enum cl_err (*ready)(struct store *s, const char **reason);
};

/* The part every backend's handle starts with. */
struct store {
    const struct store_ops *ops;
    char errmsg[256]; /* detail of the last failure, for logs */
};

/* Opens the store named by `url`:
 *   sqlite:///abs/path.db   sqlite://relative/path.db   /a/bare/path.db   relative.db
 * An optional `?busy_timeout=MS` sets how long a writer waits for the lock.
 * A SQLite file that does not exist is created with the current schema and
 * the one example client, unless a sign of a previous store is left next to
 * it (its -wal, -shm or -journal file): then the store was removed, and the
 * open is refused rather than start over empty.  An existing file is
 * migrated if older, never re-seeded.
 * On success returns CL_OK and *out owns a handle the caller frees with
 * store_close().  On failure returns CL_STORAGE (or CL_NOMEM, CL_INVALID for a
 * URL it cannot use), sets *out to NULL and writes a message into err (at
 * most errlen bytes, NUL-terminated) when err is not NULL.  The message may
 * name the database file but never repeats the URL: a server's URL carries
 * its password. */
enum cl_err store_open(const char *url, struct store **out, char *err, size_t errlen);

/* Closes a handle; accepts NULL. */
void store_close(struct store *s);

/* The detail of the last failure on `s` ("" when none), in English, for
 * logs; valid until the next call on the same handle. */
const char *store_errmsg(const struct store *s);

/* Whether the store can serve: it answers a read, and a write would not be
 * refused for a reason that waiting cannot cure (its file removed or
 * replaced since the open, read-only, the disk full).  Returns CL_OK; CL_BUSY
 * when the read waited out its lock (transient); CL_STORAGE when an operator
 * must act; CL_NOMEM.  On failure *reason (when reason is not NULL) is a
 * static Spanish phrase for the client ("disco lleno") and store_errmsg()
 * has the detail. */
enum cl_err store_ready(struct store *s, const char **reason);

#endif
