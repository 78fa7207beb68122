/* store_sqlite_accounts.c - the SQLite backend's users, API tokens and
 * browser sessions (the rules on top of them are lib/accounts.c's). */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "manager.h"

/* The columns of USER_COLS from `col` on. */
static void row_to_user(sqlite3_stmt *st, int col, struct user *u)
{
    enum role r = ROLE_NONE;

    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(st, col);
    sq_copy_col(st, col + 1, u->name, sizeof(u->name));
    sq_copy_col(st, col + 2, u->pwhash, sizeof(u->pwhash));
    if (role_parse((const char *)sqlite3_column_text(st, col + 3), &r) != CL_OK)
        r = ROLE_NONE; /* only a file edited by hand: a role that allows nothing */
    u->role = r;
    u->disabled = sqlite3_column_int(st, col + 4) != 0;
    u->fail_count = sqlite3_column_int(st, col + 5);
    u->fail_since = sqlite3_column_int64(st, col + 6);
    sq_copy_col(st, col + 7, u->creado, sizeof(u->creado));
}

static void row_to_token(sqlite3_stmt *st, struct token *t)
{
    enum role r = ROLE_NONE;

    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(st, 0);
    sq_copy_col(st, 1, t->label, sizeof(t->label));
    sq_copy_col(st, 2, t->digest, sizeof(t->digest));
    if (role_parse((const char *)sqlite3_column_text(st, 3), &r) != CL_OK)
        r = ROLE_NONE;
    t->role = r;
    t->user_id = sqlite3_column_int64(st, 4);
    sq_copy_col(st, 5, t->owner, sizeof(t->owner));
    t->owner_disabled = sqlite3_column_int(st, 6) != 0;
    sq_copy_col(st, 7, t->creado, sizeof(t->creado));
    t->expires = sqlite3_column_int64(st, 8);
    t->revoked = sqlite3_column_int64(st, 9);
    t->last_used = sqlite3_column_int64(st, 10);
    r = ROLE_NONE;
    if (t->user_id && role_parse((const char *)sqlite3_column_text(st, 11), &r) != CL_OK)
        r = ROLE_NONE;
    t->owner_role = r;
}

/* A role that can be stored: reader, editor or admin. */
static const char *stored_role(struct sqlite_store *s, enum role r)
{
    if (r == ROLE_READER || r == ROLE_EDITOR || r == ROLE_ADMIN)
        return role_name(r);
    snprintf(s->base.errmsg, sizeof(s->base.errmsg), "no such role to store");
    return NULL;
}

/* One write statement `st` (bound) and its audit row, as one change.
 * *changed: the rows the statement changed (may be NULL); none is
 * CL_NOT_FOUND when not_found_if_none. */
static enum cl_err write_one(struct sqlite_store *s, sqlite3_stmt *st,
                             const struct audit_entry *a, bool not_found_if_none,
                             long long *changed, long long *rowid)
{
    enum cl_err e = sq_map(sq_run(s, st));
    long long n = sqlite3_changes64(s->db);

    if (!e && rowid)
        *rowid = sqlite3_last_insert_rowid(s->db);
    if (!e && not_found_if_none && n == 0)
        e = CL_NOT_FOUND;
    if (!e)
        e = sq_audit_insert(s, a);
    if (!(e = sq_write_end(s, e)) && changed)
        *changed = n;
    return e;
}

/* Starts a change and returns its prepared statement, or NULL with *e set
 * (the change then never began, or was undone). */
static sqlite3_stmt *begin_with(struct sqlite_store *s, enum sq_stmt id, enum cl_err *e)
{
    sqlite3_stmt *st;

    if ((*e = sq_write_begin(s)))
        return NULL;
    if (!(st = sq_stmt(s, id)))
        *e = sq_write_end(s, CL_STORAGE);
    return st;
}

/* Runs the bound lookup `st`; fills via `fill` on a row.  CL_NOT_FOUND for
 * none. */
static enum cl_err lookup(struct sqlite_store *s, sqlite3_stmt *st,
                          void (*fill)(sqlite3_stmt *st, void *out), void *out)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        fill(st, out);
    else if (rc != SQLITE_DONE)
        sq_record(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? CL_OK : rc == SQLITE_DONE ? CL_NOT_FOUND : sq_map(rc);
}

static void fill_user(sqlite3_stmt *st, void *out)
{
    row_to_user(st, 0, out);
}

static void fill_token(sqlite3_stmt *st, void *out)
{
    row_to_token(st, out);
}

/* ---- users ---- */

enum cl_err sq_user_add(struct store *base, struct user *u, const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    const char *role = stored_role(s, u->role);
    sqlite3_stmt *st;
    long long id = 0;
    enum cl_err e;

    if (!role)
        return CL_INVALID;
    if (!u->creado[0])
        manager_now(u->creado);
    if (!(st = begin_with(s, SQ_USER_ADD, &e)))
        return e;
    sqlite3_bind_text(st, 1, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->pwhash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, u->disabled);
    sqlite3_bind_int(st, 5, u->fail_count);
    sqlite3_bind_int64(st, 6, u->fail_since);
    sqlite3_bind_text(st, 7, u->creado, -1, SQLITE_STATIC);
    if (!(e = write_one(s, st, a, false, NULL, &id)))
        u->id = id;
    return e;
}

enum cl_err sq_user_get(struct store *base, const char *name, struct user *out)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;

    s->base.errmsg[0] = '\0';
    if (!(st = sq_stmt(s, SQ_USER_GET)))
        return CL_STORAGE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return lookup(s, st, fill_user, out);
}

enum cl_err sq_user_get_id(struct store *base, long long id, struct user *out)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;

    s->base.errmsg[0] = '\0';
    if (!(st = sq_stmt(s, SQ_USER_GET_ID)))
        return CL_STORAGE;
    sqlite3_bind_int64(st, 1, id);
    return lookup(s, st, fill_user, out);
}

enum cl_err sq_user_update(struct store *base, const struct user *u,
                           const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    const char *role = stored_role(s, u->role);
    sqlite3_stmt *st;
    enum cl_err e;

    if (!role)
        return CL_INVALID;
    if (!(st = begin_with(s, SQ_USER_UPDATE, &e)))
        return e;
    sqlite3_bind_int64(st, 1, u->id);
    sqlite3_bind_text(st, 2, u->pwhash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, u->disabled);
    return write_one(s, st, a, true, NULL, NULL);
}

enum cl_err sq_user_login(struct store *base, long long id, int fail_count, long long fail_since,
                          const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    enum cl_err e;

    if (!(st = begin_with(s, SQ_USER_LOGIN, &e)))
        return e;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, fail_count);
    sqlite3_bind_int64(st, 3, fail_since);
    return write_one(s, st, a, true, NULL, NULL);
}

enum cl_err sq_user_list(struct store *base, int (*fn)(const struct user *u, void *ctx),
                         void *ctx)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    struct user u;
    int rc;

    s->base.errmsg[0] = '\0';
    if (!(st = sq_stmt(s, SQ_USER_LIST)))
        return CL_STORAGE;
    /* the users are few (people, not records): fed while the statement runs */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_to_user(st, 0, &u);
        if (fn(&u, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        sq_record(s, rc);
    sqlite3_reset(st);
    return sq_map(rc);
}

enum cl_err sq_user_count(struct store *base, long long *n)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    int rc;

    s->base.errmsg[0] = '\0';
    if (!(st = sq_stmt(s, SQ_USER_COUNT)))
        return CL_STORAGE;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        sq_record(s, rc);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CL_OK : sq_map(rc);
}

/* ---- API tokens ---- */

enum cl_err sq_token_add(struct store *base, struct token *t, const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    const char *role = stored_role(s, t->role);
    sqlite3_stmt *st;
    long long id = 0;
    enum cl_err e;

    if (!role)
        return CL_INVALID;
    if (!t->creado[0])
        manager_now(t->creado);
    if (!(st = begin_with(s, SQ_TOKEN_ADD, &e)))
        return e;
    sqlite3_bind_text(st, 1, t->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    if (t->user_id > 0) /* 0: the operator's, no owner row */
        sqlite3_bind_int64(st, 4, t->user_id);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_text(st, 5, t->creado, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, t->expires);
    sqlite3_bind_int64(st, 7, t->revoked);
    sqlite3_bind_int64(st, 8, t->last_used);
    if (!(e = write_one(s, st, a, false, NULL, &id)))
        t->id = id;
    return e;
}

/* The file's data_version (see struct sqlite_store's tok), or -1. */
static long long data_version(struct sqlite_store *s)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_DATA_VERSION);
    long long v = -1;

    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    if (st)
        sqlite3_reset(st);
    return v;
}

enum cl_err sq_token_find(struct store *base, const char *digest, struct token *out)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    long long version = s->in_txn ? -1 : data_version(s);
    enum cl_err e;

    s->base.errmsg[0] = '\0';
    if (version >= 0 && s->tok_kept && s->tok_version == version &&
        s->tok_commits == s->commits && secret_digest_equal(s->tok.digest, digest)) {
        *out = s->tok;
        return CL_OK;
    }
    if (!(st = sq_stmt(s, SQ_TOKEN_FIND)))
        return CL_STORAGE;
    sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
    e = lookup(s, st, fill_token, out);
    s->tok_kept = e == CL_OK && version >= 0;
    if (s->tok_kept) {
        s->tok = *out;
        s->tok_version = version;
        s->tok_commits = s->commits;
    }
    return e;
}

enum cl_err sq_token_touch(struct store *base, long long id, long long now)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    enum cl_err e;

    if (!(st = begin_with(s, SQ_TOKEN_TOUCH, &e)))
        return e;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    return write_one(s, st, NULL, true, NULL, NULL);
}

enum cl_err sq_token_revoke(struct store *base, long long id, long long now,
                            const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    enum cl_err e;

    if (!(st = begin_with(s, SQ_TOKEN_REVOKE, &e)))
        return e;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    return write_one(s, st, a, true, NULL, NULL);
}

enum cl_err sq_token_list(struct store *base, int (*fn)(const struct token *t, void *ctx),
                          void *ctx)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    struct token t;
    int rc;

    s->base.errmsg[0] = '\0';
    if (!(st = sq_stmt(s, SQ_TOKEN_LIST)))
        return CL_STORAGE;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_to_token(st, &t);
        if (fn(&t, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        sq_record(s, rc);
    sqlite3_reset(st);
    return sq_map(rc);
}

/* ---- browser sessions ---- */

enum cl_err sq_session_add(struct store *base, const struct session *se,
                           const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    enum cl_err e;

    if (!(st = begin_with(s, SQ_SESSION_ADD, &e)))
        return e;
    sqlite3_bind_text(st, 1, se->digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, se->user_id);
    sqlite3_bind_int64(st, 3, se->created);
    sqlite3_bind_int64(st, 4, se->last_seen);
    return write_one(s, st, a, false, NULL, NULL);
}

struct session_row {
    struct session *se;
    struct user *u;
};

static void fill_session(sqlite3_stmt *st, void *out)
{
    struct session_row *r = out;

    memset(r->se, 0, sizeof(*r->se));
    sq_copy_col(st, 0, r->se->digest, sizeof(r->se->digest));
    r->se->user_id = sqlite3_column_int64(st, 1);
    r->se->created = sqlite3_column_int64(st, 2);
    r->se->last_seen = sqlite3_column_int64(st, 3);
    if (r->u)
        row_to_user(st, 4, r->u);
}

enum cl_err sq_session_find(struct store *base, const char *digest, struct session *out,
                            struct user *user)
{
    struct sqlite_store *s = sq_of(base);
    struct session_row r = {out, user};
    sqlite3_stmt *st;

    s->base.errmsg[0] = '\0';
    if (!(st = sq_stmt(s, SQ_SESSION_FIND)))
        return CL_STORAGE;
    sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
    return lookup(s, st, fill_session, &r);
}

enum cl_err sq_session_touch(struct store *base, const char *digest, long long now)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    enum cl_err e;

    if (!(st = begin_with(s, SQ_SESSION_TOUCH, &e)))
        return e;
    sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    return write_one(s, st, NULL, true, NULL, NULL);
}

enum cl_err sq_session_delete(struct store *base, const char *digest,
                              const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    enum cl_err e;

    if (!(st = begin_with(s, SQ_SESSION_DELETE, &e)))
        return e;
    sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
    return write_one(s, st, a, true, NULL, NULL);
}

enum cl_err sq_session_prune(struct store *base, long long idle_before, long long created_before,
                             long long *deleted)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    enum cl_err e;

    if (!(st = begin_with(s, SQ_SESSION_PRUNE, &e)))
        return e;
    sqlite3_bind_int64(st, 1, idle_before);
    sqlite3_bind_int64(st, 2, created_before);
    return write_one(s, st, NULL, false, deleted, NULL);
}
