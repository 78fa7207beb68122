/* store_sqlite_audit.c - the SQLite backend's audit trail: rows on their
 * own, filtered listings newest first, pruning. */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <string.h>

enum cl_err sq_audit_add(struct store *base, const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    enum cl_err e;

    if ((e = sq_write_begin(s)))
        return e;
    return sq_write_end(s, sq_audit_insert(s, a));
}

/* The filters of a query, as bits (the shapes of the statements). */
enum {
    A_TARGET = 1,
    A_ACTOR = 2,
    A_ACTION = 4,
    A_PREFIX = 8, /* with A_ACTION: the action is a prefix ("client.") */
    A_SINCE = 16,
    A_BEFORE = 32, /* newest first: before_id; oldest first: after_id */
    A_OLDEST = 64
};

enum cl_err sq_audit_list(struct store *base, const struct audit_query *q, audit_walk_fn fn,
                          void *ctx)
{
    struct sqlite_store *s = sq_of(base);
    unsigned f = 0;
    char sql[640], upper[128];
    sqlite3_stmt *st;
    size_t alen = q->action ? strlen(q->action) : 0;
    int rc;

    s->base.errmsg[0] = '\0';
    if (q->limit < 1 || q->limit > 1000 || alen >= sizeof(upper) ||
        (q->oldest_first && q->before_id)) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg), "malformed audit query");
        return CL_INVALID;
    }
    f |= q->target_key ? A_TARGET : 0;
    f |= q->actor ? A_ACTOR : 0;
    f |= q->action ? A_ACTION : 0;
    f |= alen && q->action[alen - 1] == '.' ? A_PREFIX : 0;
    f |= q->since ? A_SINCE : 0;
    f |= (q->oldest_first ? q->after_id : q->before_id) > 0 ? A_BEFORE : 0;
    f |= q->oldest_first ? A_OLDEST : 0;
    /* A prefix is the range [prefix, prefix with its last byte + 1): "client."
     * up to "client/", which an index on the action could use as well. */
    snprintf(sql, sizeof(sql),
             "SELECT id, at, actor, action, target, changes, request_id, client_addr"
             " FROM audit WHERE 1%s%s%s%s%s ORDER BY id%s LIMIT ?7",
             f & A_TARGET ? " AND target_key = ?1" : "", f & A_ACTOR ? " AND actor = ?2" : "",
             f & A_PREFIX   ? " AND action >= ?3 AND action < ?4"
             : f & A_ACTION ? " AND action = ?3"
                            : "",
             f & A_SINCE ? " AND at >= ?5" : "",
             !(f & A_BEFORE) ? "" : f & A_OLDEST ? " AND id > ?6" : " AND id < ?6",
             f & A_OLDEST ? "" : " DESC");
    if (!(st = sq_cached(s, &s->audit_st[f], sql)))
        return CL_STORAGE;
    if (f & A_TARGET)
        sqlite3_bind_text(st, 1, q->target_key, -1, SQLITE_STATIC);
    if (f & A_ACTOR)
        sqlite3_bind_text(st, 2, q->actor, -1, SQLITE_STATIC);
    if (f & A_ACTION)
        sqlite3_bind_text(st, 3, q->action, -1, SQLITE_STATIC);
    if (f & A_PREFIX) {
        memcpy(upper, q->action, alen + 1);
        upper[alen - 1]++;
        sqlite3_bind_text(st, 4, upper, -1, SQLITE_STATIC);
    }
    if (f & A_SINCE)
        sqlite3_bind_text(st, 5, q->since, -1, SQLITE_STATIC);
    if (f & A_BEFORE)
        sqlite3_bind_int64(st, 6, q->oldest_first ? q->after_id : q->before_id);
    sqlite3_bind_int(st, 7, q->limit);
    /* At most 1000 rows: the statement may stay open while they are fed. */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct audit_view v = {
            .id = sqlite3_column_int64(st, 0),
            .at = (const char *)sqlite3_column_text(st, 1),
            .actor = (const char *)sqlite3_column_text(st, 2),
            .action = (const char *)sqlite3_column_text(st, 3),
            .target = (const char *)sqlite3_column_text(st, 4),
            .changes = (const char *)sqlite3_column_text(st, 5),
            .request_id = (const char *)sqlite3_column_text(st, 6),
            .client_addr = (const char *)sqlite3_column_text(st, 7),
        };
        if (fn(&v, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        sq_record(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return sq_map(rc);
}

enum cl_err sq_audit_prune(struct store *base, const char *before, long long *deleted)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    long long n = 0;
    enum cl_err e;

    if ((e = sq_write_begin(s)))
        return e;
    if (!(st = sq_stmt(s, SQ_AUDIT_PRUNE))) {
        e = CL_STORAGE;
    } else {
        sqlite3_bind_text(st, 1, before, -1, SQLITE_STATIC);
        if (!(e = sq_map(sq_run(s, st))))
            n = sqlite3_changes64(s->db);
    }
    if (!(e = sq_write_end(s, e)) && deleted)
        *deleted = n;
    return e;
}
