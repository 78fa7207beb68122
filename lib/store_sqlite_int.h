/* store_sqlite_int.h - what the files of the SQLite backend share (the
 * handle, its statements, the write-transaction helpers); not installed. */
#ifndef CLIENTES_STORE_SQLITE_INT_H
#define CLIENTES_STORE_SQLITE_INT_H

#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "store.h"

/* The fixed statements, prepared on first use and kept for the handle. */
enum sq_stmt {
    SQ_BEGIN,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_SAVEPOINT,
    SQ_RELEASE,
    SQ_ROLLBACK_TO,
    SQ_PING,
    SQ_NEXT_VERSION,
    SQ_GET,
    SQ_GET_FIELDS,
    SQ_VERSION_OF,
    SQ_ADD,
    SQ_ADD_META,
    SQ_UPDATE,
    SQ_UPDATE_META,
    SQ_DEL,
    SQ_DEL_META,
    SQ_ERASE_CLIENT,
    SQ_ERASE_AUDIT,
    SQ_AUDIT_ADD,
    SQ_AUDIT_PRUNE,
    SQ_USER_ADD,
    SQ_USER_GET,
    SQ_USER_GET_ID,
    SQ_USER_UPDATE,
    SQ_USER_LOGIN,
    SQ_USER_LIST,
    SQ_USER_COUNT,
    SQ_TOKEN_ADD,
    SQ_TOKEN_FIND,
    SQ_DATA_VERSION,
    SQ_TOKEN_TOUCH,
    SQ_TOKEN_REVOKE,
    SQ_TOKEN_LIST,
    SQ_SESSION_ADD,
    SQ_SESSION_FIND,
    SQ_SESSION_TOUCH,
    SQ_SESSION_DELETE,
    SQ_SESSION_PRUNE,
    SQ_NSTMT
};

/* The statements built from a query's shape (store_sqlite_clients.c,
 * store_sqlite_audit.c), one slot per shape, also prepared on first use. */
#define SQ_LIST_SHAPES 200 /* see list_stmt() */
#define SQ_COUNT_SHAPES 8                  /* filters */
#define SQ_AUDIT_SHAPES 128                /* filters, direction */

/* Rows of a list are read this many at a time into the handle's page, and
 * handed to the caller once the statement is reset: no statement (no WAL
 * snapshot, which would keep every later write from being checkpointed)
 * stays open while a slow reader is fed.  256 rows of ~1.9 KB: ~500 KB per
 * handle, and the cost of starting a page (a read transaction and a seek)
 * is spread over enough rows that the legacy walk costs what one statement
 * did. */
#define SQ_PAGE_ROWS 256

struct sq_row {
    struct client c;
    struct client_meta m;
};

struct sq_gate;

struct sqlite_store {
    struct store base; /* first, so a struct store * converts back */
    sqlite3 *db;
    sqlite3_stmt *st[SQ_NSTMT];
    sqlite3_stmt *list_st[SQ_LIST_SHAPES];
    sqlite3_stmt *count_st[SQ_COUNT_SHAPES];
    sqlite3_stmt *audit_st[SQ_AUDIT_SHAPES];
    struct sq_row *page; /* SQ_PAGE_ROWS rows, allocated by the first list */
    /* Inside begin() ... commit(): each change is a savepoint of it. */
    bool in_txn;
    /* An erasure was committed (or is, at commit): its bytes must leave the
     * WAL too (see sq_scrub()). */
    bool erased;
    /* The file this handle opened, by absolute path and identity, to notice
     * when it is removed or replaced under the running service. */
    char path[PATH_MAX];
    dev_t dev;
    ino_t ino;
    /* ... and its -wal and -shm, which SQLite finds by name next to it. */
    struct stat side[2];
    bool have_side[2];
    /* The writers' queue of this file in this process (NULL: none could be
     * had), held from BEGIN IMMEDIATE to COMMIT or ROLLBACK; and whether
     * this handle holds it now. */
    struct sq_gate *gate;
    bool gated;
    int busy_ms;
    /* The last token this handle found, kept while nothing has been
     * committed to the file since: no commit of another connection
     * (PRAGMA data_version, a read of the WAL index, not of a table) and
     * none of this handle's own (`commits`).  Every change to users or
     * tokens is such a commit, so a revocation, a disabled owner or a new
     * role takes effect on the next request as before; a read-mostly load
     * is spared the token's lookup. */
    struct token tok;
    bool tok_kept;
    long long tok_version;
    unsigned long long tok_commits, commits;
    /* Who opened it: a worker started as root opens its store, then becomes
     * an unprivileged user whose access() says nothing about the descriptors
     * it kept. */
    uid_t open_euid;
};

static inline struct sqlite_store *sq_of(struct store *s)
{
    return (struct sqlite_store *)s;
}

/* Records the detail of a failed call for store_errmsg(). */
void sq_record(struct sqlite_store *s, int rc);

/* A SQLite result code (extended codes are on) as the library's enum: a
 * lock is transient (CL_BUSY); a unique key taken is CL_EXISTS; read-only,
 * full, corrupt, I/O errors, a refusing trigger are CL_STORAGE. */
enum cl_err sq_map(int rc);

/* The fixed statement `id`, prepared if it is not yet; NULL with the error
 * recorded when it cannot be. */
sqlite3_stmt *sq_stmt(struct sqlite_store *s, enum sq_stmt id);

/* *slot, prepared from sql if it is still NULL; NULL on failure. */
sqlite3_stmt *sq_cached(struct sqlite_store *s, sqlite3_stmt **slot, const char *sql);

/* Steps st whose rows (if any) are not needed, then resets it and clears its
 * bindings.  Returns SQLITE_DONE or the failing code (recorded). */
int sq_run(struct sqlite_store *s, sqlite3_stmt *st);

/* Binds text (NULL: SQL NULL), borrowed for the statement's step. */
void sq_bind_text(sqlite3_stmt *st, int i, const char *v);

/* Copies text column col into dst (cap bytes, NUL-terminated, cut to fit). */
void sq_copy_col(sqlite3_stmt *st, int col, char *dst, size_t cap);

/* Whether s->path is still the file this handle opened; CL_OK, or
 * CL_STORAGE with the detail recorded (and *reason when not NULL). */
enum cl_err sq_check_identity(struct sqlite_store *s, const char **reason);

/* A change's transaction.  sq_write_begin() starts it: BEGIN IMMEDIATE (so
 * it waits its turn behind other writers, busy_timeout, instead of failing
 * on a lock upgrade), or a savepoint inside begin() ... commit().  It checks
 * the file's identity first.  Returns CL_OK or the error (recorded).
 * sq_write_end() commits it when err is CL_OK (and returns what the commit
 * gives), else undoes it and returns err. */
enum cl_err sq_write_begin(struct sqlite_store *s);
enum cl_err sq_write_end(struct sqlite_store *s, enum cl_err err);

/* Writes the audit row `a` with the handle's actor; a NULL a writes
 * nothing.  Inside a write transaction.  Returns CL_OK or the error. */
enum cl_err sq_audit_insert(struct sqlite_store *s, const struct audit_entry *a);

/* The next row version from the store's counter (inside a write). */
enum cl_err sq_next_version(struct sqlite_store *s, long long *v);

/* After an erasure: the pages that held the erased values are zeroed in the
 * file (secure_delete is on), and the WAL, which still holds old copies of
 * them, is checkpointed and truncated.  Best effort: a reader that keeps an
 * old snapshot open makes the truncation wait for a later erase or close. */
void sq_scrub(struct sqlite_store *s);

/* The operations, by file. */
enum cl_err sq_get(struct store *base, const char *mail, struct client *out,
                   struct client_meta *meta);
enum cl_err sq_add(struct store *base, const struct client *c, const struct client_keys *k,
                   const char *now, const struct audit_entry *a, struct client_meta *out);
enum cl_err sq_update(struct store *base, const struct client *c, const struct client_keys *k,
                      long long expect_version, const char *now, const struct audit_entry *a,
                      struct client_meta *out);
enum cl_err sq_del(struct store *base, const char *mail, long long expect_version,
                   const struct audit_entry *a);
enum cl_err sq_erase(struct store *base, const char *mail_key, const struct audit_entry *a);
enum cl_err sq_count(struct store *base, const struct client_query *q, long long *n);
enum cl_err sq_list(struct store *base, const struct client_query *q, client_list_fn fn,
                    void *ctx);

enum cl_err sq_audit_add(struct store *base, const struct audit_entry *a);
enum cl_err sq_audit_list(struct store *base, const struct audit_query *q, audit_walk_fn fn,
                          void *ctx);
enum cl_err sq_audit_prune(struct store *base, const char *before, long long *deleted);

enum cl_err sq_user_add(struct store *base, struct user *u, const struct audit_entry *a);
enum cl_err sq_user_get(struct store *base, const char *name, struct user *out);
enum cl_err sq_user_get_id(struct store *base, long long id, struct user *out);
enum cl_err sq_user_update(struct store *base, const struct user *u,
                           const struct audit_entry *a);
enum cl_err sq_user_login(struct store *base, long long id, int fail_count, long long fail_since,
                          const struct audit_entry *a);
enum cl_err sq_user_list(struct store *base, int (*fn)(const struct user *u, void *ctx),
                         void *ctx);
enum cl_err sq_user_count(struct store *base, long long *n);
enum cl_err sq_token_add(struct store *base, struct token *t, const struct audit_entry *a);
enum cl_err sq_token_find(struct store *base, const char *digest, struct token *out);
enum cl_err sq_token_touch(struct store *base, long long id, long long now);
enum cl_err sq_token_revoke(struct store *base, long long id, long long now,
                            const struct audit_entry *a);
enum cl_err sq_token_list(struct store *base, int (*fn)(const struct token *t, void *ctx),
                          void *ctx);
enum cl_err sq_session_add(struct store *base, const struct session *se,
                           const struct audit_entry *a);
enum cl_err sq_session_find(struct store *base, const char *digest, struct session *out,
                            struct user *user);
enum cl_err sq_session_touch(struct store *base, const char *digest, long long now);
enum cl_err sq_session_delete(struct store *base, const char *digest,
                              const struct audit_entry *a);
enum cl_err sq_session_prune(struct store *base, long long idle_before, long long created_before,
                             long long *deleted);

/* The schema (store_sqlite_schema.c): brings the open file up to the
 * current version under one write transaction, or refuses it (someone
 * else's database, a newer schema) with why filled.  Returns a SQLite code. */
int sq_migrate(sqlite3 *db, char *why, size_t whylen);

#endif
