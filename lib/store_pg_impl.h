/* store_pg_impl.h - what the files of the PostgreSQL backend share: the
 * handle, the statement runner and the result helpers (store_pg.c), the
 * operations of clients and the audit trail (store_pg_clients.c) and of
 * accounts (store_pg_accounts.c).  Private to lib/store_pg*.c. */
#ifndef CLIENTES_STORE_PG_IMPL_H
#define CLIENTES_STORE_PG_IMPL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "store_pg.h"

/* Statement slots: one bit each in a connection's "prepared" set.  The fixed
 * statements first, then the families whose SQL depends on which filters a
 * query has (built once per variant and connection, see pg_query.build). */
enum pg_stmt {
    ST_PING,
    ST_READY,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_GET,
    ST_ADD,
    ST_UPDATE,
    ST_DEL,
    ST_ERASE,
    ST_AUDIT_ADD,
    ST_AUDIT_PRUNE,
    ST_USER_ADD,
    ST_USER_GET,
    ST_USER_GET_ID,
    ST_USER_UPDATE,
    ST_USER_LOGIN,
    ST_USER_LIST,
    ST_USER_COUNT,
    ST_TOKEN_ADD,
    ST_TOKEN_FIND,
    ST_TOKEN_TOUCH,
    ST_TOKEN_REVOKE,
    ST_TOKEN_LIST,
    ST_SESSION_ADD,
    ST_SESSION_FIND,
    ST_SESSION_TOUCH,
    ST_SESSION_DELETE,
    ST_SESSION_PRUNE,
    ST_FIXED_COUNT
};
/* The families: client lists (3 filters x 6 sorts x 2 directions x with or
 * without a cursor), client counts (3 filters), audit lists (6 filters, 2
 * directions, a cursor from the oldest). */
#define PG_LIST_VARIANTS (8 * 6 * 2 * 2)
#define PG_COUNT_VARIANTS 8
#define PG_AUDIT_VARIANTS 256
#define PG_LIST_BASE ST_FIXED_COUNT
#define PG_COUNT_BASE (PG_LIST_BASE + PG_LIST_VARIANTS)
#define PG_AUDIT_BASE (PG_COUNT_BASE + PG_COUNT_VARIANTS)
#define PG_SLOTS (PG_AUDIT_BASE + PG_AUDIT_VARIANTS)

struct pg_store {
    struct store base; /* first, so a struct store * converts back */
    PGconn *conn;      /* NULL until first used, and after it was lost */
    /* What PQconnectdbParams gets, built once at open; the values point
     * into url and the buffers below. */
    const char *kw[16];
    const char *val[16];
    char *url;
    char connect_timeout[16], app_name[96], options[1024];
    int open_wait_s;
    /* Statements prepared on the current connection. */
    uint64_t prepared[(PG_SLOTS + 63) / 64];
    /* begin() .. commit()/rollback(); txn_lost: the connection died inside
     * one, so every operation fails until the caller rolls back. */
    bool in_txn, txn_lost;
    /* After a failed connect, operations answer CL_BUSY at once until this
     * time (ms, CLOCK_MONOTONIC); the wait doubles up to PG_BACKOFF_MAX_MS. */
    long long retry_at_ms;
    int backoff_ms;
};

/* How a statement may be repeated after the connection died between
 * sending it and reading its answer (outcome unknown): a read once, a
 * write never.  Statements that were known not to have run (the
 * connection was found dead before sending; serialization failures and
 * deadlocks, which the server rolled back) are repeated in both cases. */
enum pg_retry { PG_READ, PG_WRITE };

struct pg_query {
    int slot;        /* enum pg_stmt, or a family's base + variant */
    const char *sql; /* the SQL; NULL: build it */
    void (*build)(unsigned variant, char *buf, size_t cap);
    unsigned variant;
    int nparams;
    const char *const *values; /* text, NULL for SQL NULL */
    enum pg_retry retry;
};

/* Runs q on the handle's connection (connecting, checking an idle
 * connection, preparing as needed: see store_pg.c).  On CL_OK *res holds the
 * result, which the caller PQclear()s; on failure *res is NULL, the detail
 * is in s->base.errmsg, and the error is CL_EXISTS (unique violation),
 * CL_BUSY (unreachable, a timeout, too many connections, a lost connection,
 * backing off) or CL_STORAGE. */
enum cl_err pg_run(struct pg_store *s, const struct pg_query *q, PGresult **res);

/* pg_run() of a statement whose result is the rows it changed: their
 * number into *rows (may be NULL). */
enum cl_err pg_run_rows(struct pg_store *s, const struct pg_query *q, long long *rows);

/* Text of a row's column copied into dst (cap bytes, cut to fit); "" for
 * NULL. */
void pg_copy(const PGresult *r, int row, int col, char *dst, size_t cap);
/* The column as a number (0 for NULL or garbage), as a boolean ('t'). */
long long pg_ll(const PGresult *r, int row, int col);
bool pg_bool(const PGresult *r, int row, int col);
/* The column's text, or NULL for SQL NULL (valid until PQclear). */
const char *pg_str(const PGresult *r, int row, int col);

/* Formats a number into buf (24 bytes) for a parameter; returns buf. */
const char *pg_num(char buf[24], long long v);

/* The parameters an audit row takes (PG_AUDIT_NPARAMS of them, in the
 * order of PG_AUDIT_COLS), from `a` and the handle's actor; all NULL when a
 * is NULL, which the statements read as "no audit row".  CL_INVALID (the
 * detail recorded) for a row without a time or an action: the change it
 * comes with is then not made. */
#define PG_AUDIT_NPARAMS 8
#define PG_AUDIT_COLS "at, actor, action, target, target_key, changes, request_id, client_addr"
enum cl_err pg_audit_params(struct pg_store *s, const struct audit_entry *a,
                            const char *vals[PG_AUDIT_NPARAMS]);

/* Records a failure of the backend's own (no server involved) for
 * store_errmsg() and returns e. */
enum cl_err pg_fail(struct pg_store *s, enum cl_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline struct pg_store *pg_of(struct store *s)
{
    return (struct pg_store *)s;
}

/* The operations, filled into the ops table by store_pg.c. */
enum cl_err pg_get(struct store *s, const char *mail, struct client *out, struct client_meta *meta);
enum cl_err pg_add(struct store *s, const struct client *c, const struct client_keys *k,
                   const char *now, const struct audit_entry *a, struct client_meta *out);
enum cl_err pg_update(struct store *s, const struct client *c, const struct client_keys *k,
                      long long expect_version, const char *now, const struct audit_entry *a,
                      struct client_meta *out);
enum cl_err pg_del(struct store *s, const char *mail, long long expect_version,
                   const struct audit_entry *a);
enum cl_err pg_erase(struct store *s, const char *mail_key, const struct audit_entry *a);
enum cl_err pg_count(struct store *s, const struct client_query *q, long long *n);
enum cl_err pg_list(struct store *s, const struct client_query *q, client_list_fn fn, void *ctx);
enum cl_err pg_audit_add(struct store *s, const struct audit_entry *a);
enum cl_err pg_audit_list(struct store *s, const struct audit_query *q, audit_walk_fn fn,
                          void *ctx);
enum cl_err pg_audit_prune(struct store *s, const char *before, long long *deleted);

enum cl_err pg_user_add(struct store *s, struct user *u, const struct audit_entry *a);
enum cl_err pg_user_get(struct store *s, const char *name, struct user *out);
enum cl_err pg_user_get_id(struct store *s, long long id, struct user *out);
enum cl_err pg_user_update(struct store *s, const struct user *u, const struct audit_entry *a);
enum cl_err pg_user_login(struct store *s, long long id, int fail_count, long long fail_since,
                          const struct audit_entry *a);
enum cl_err pg_user_list(struct store *s, int (*fn)(const struct user *u, void *ctx), void *ctx);
enum cl_err pg_user_count(struct store *s, long long *n);
enum cl_err pg_token_add(struct store *s, struct token *t, const struct audit_entry *a);
enum cl_err pg_token_find(struct store *s, const char *digest, struct token *out);
enum cl_err pg_token_touch(struct store *s, long long id, long long now);
enum cl_err pg_token_revoke(struct store *s, long long id, long long now,
                            const struct audit_entry *a);
enum cl_err pg_token_list(struct store *s, int (*fn)(const struct token *t, void *ctx), void *ctx);
enum cl_err pg_session_add(struct store *s, const struct session *se, const struct audit_entry *a);
enum cl_err pg_session_find(struct store *s, const char *digest, struct session *out,
                            struct user *user);
enum cl_err pg_session_touch(struct store *s, const char *digest, long long now);
enum cl_err pg_session_delete(struct store *s, const char *digest, const struct audit_entry *a);
enum cl_err pg_session_prune(struct store *s, long long idle_before, long long created_before,
                             long long *deleted);

#endif
