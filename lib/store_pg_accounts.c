/* store_pg_accounts.c - the PostgreSQL backend's users, API tokens and
 * browser sessions; a change and its audit row are one statement. */
#include "store_pg_impl.h"

#include "manager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_COLS "id, name, pwhash, role, disabled, fail_count, fail_since, creado"
#define TOKEN_SELECT                                                                        \
    "SELECT t.id, t.label, t.digest, t.role, coalesce(t.user_id, 0), coalesce(u.name, '')," \
    " coalesce(u.disabled, false), t.creado, t.expires, t.revoked, t.last_used,"            \
    " coalesce(u.role, '')"                                                                   \
    " FROM tokens t LEFT JOIN users u ON u.id = t.user_id"

static enum role role_of(const char *name)
{
    enum role r;
    return name && role_parse(name, &r) == CL_OK ? r : ROLE_NONE;
}

/* A user from columns col.. of row i (USER_COLS order). */
static void row_user(const PGresult *r, int i, int col, struct user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = pg_ll(r, i, col);
    pg_copy(r, i, col + 1, u->name, sizeof(u->name));
    pg_copy(r, i, col + 2, u->pwhash, sizeof(u->pwhash));
    u->role = role_of(pg_str(r, i, col + 3));
    u->disabled = pg_bool(r, i, col + 4);
    u->fail_count = (int)pg_ll(r, i, col + 5);
    u->fail_since = pg_ll(r, i, col + 6);
    pg_copy(r, i, col + 7, u->creado, sizeof(u->creado));
}

static void row_token(const PGresult *r, int i, struct token *t)
{
    memset(t, 0, sizeof(*t));
    t->id = pg_ll(r, i, 0);
    pg_copy(r, i, 1, t->label, sizeof(t->label));
    pg_copy(r, i, 2, t->digest, sizeof(t->digest));
    t->role = role_of(pg_str(r, i, 3));
    t->user_id = pg_ll(r, i, 4);
    pg_copy(r, i, 5, t->owner, sizeof(t->owner));
    t->owner_disabled = pg_bool(r, i, 6);
    pg_copy(r, i, 7, t->creado, sizeof(t->creado));
    t->expires = pg_ll(r, i, 8);
    t->revoked = pg_ll(r, i, 9);
    t->last_used = pg_ll(r, i, 10);
    t->owner_role = t->user_id ? role_of(pg_str(r, i, 11)) : ROLE_NONE;
}

/* Runs a statement whose answer is "how many rows it changed" (or its
 * RETURNING rows) and gives CL_NOT_FOUND for none. */
static enum cl_err run_changed(struct pg_store *s, const struct pg_query *q, long long *id)
{
    PGresult *r;
    enum cl_err e = pg_run(s, q, &r);

    if (e)
        return e;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        if (PQntuples(r) == 0)
            e = CL_NOT_FOUND;
        else if (id)
            *id = pg_ll(r, 0, 0);
    } else if (strtoll(PQcmdTuples(r), NULL, 10) == 0) {
        e = CL_NOT_FOUND;
    }
    PQclear(r);
    return e;
}

/* ------------------------------------------------------------ users */

enum cl_err pg_user_add(struct store *base, struct user *u, const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[7 + PG_AUDIT_NPARAMS];
    char fails[24], since[24];
    struct pg_query q = {
        .slot = ST_USER_ADD,
        .sql = "WITH ins AS (INSERT INTO users (name, pwhash, role, disabled, fail_count,"
               "  fail_since, creado)"
               " VALUES ($1, $2, $3, $4::boolean, $5::integer, $6::bigint, $7)"
               " ON CONFLICT (name) DO NOTHING RETURNING id),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $8, $9, $10, $11, $12, $13, $14, $15 FROM ins"
               " WHERE $10::text IS NOT NULL)"
               " SELECT id FROM ins",
        .nparams = 7 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};
    enum cl_err e;

    if (u->role == ROLE_NONE || !role_name(u->role))
        return pg_fail(s, CL_INVALID, "a user needs a role");
    if (!u->creado[0])
        manager_now(u->creado);
    v[0] = u->name;
    v[1] = u->pwhash;
    v[2] = role_name(u->role);
    v[3] = u->disabled ? "true" : "false";
    v[4] = pg_num(fails, u->fail_count);
    v[5] = pg_num(since, u->fail_since);
    v[6] = u->creado;
    if (pg_audit_params(s, a, v + 7) != CL_OK)
        return CL_INVALID;
    e = run_changed(s, &q, &u->id);
    return e == CL_NOT_FOUND ? pg_fail(s, CL_EXISTS, "user add: the name is taken") : e;
}

static enum cl_err user_one(struct pg_store *s, const struct pg_query *q, struct user *out)
{
    PGresult *r;
    enum cl_err e = pg_run(s, q, &r);

    if (e)
        return e;
    if (PQntuples(r) == 0)
        e = CL_NOT_FOUND;
    else
        row_user(r, 0, 0, out);
    PQclear(r);
    return e;
}

enum cl_err pg_user_get(struct store *base, const char *name, struct user *out)
{
    const char *v[1] = {name};
    struct pg_query q = {.slot = ST_USER_GET,
                         .sql = "SELECT " USER_COLS " FROM users WHERE name = $1",
                         .nparams = 1,
                         .values = v,
                         .retry = PG_READ};
    return user_one(pg_of(base), &q, out);
}

enum cl_err pg_user_get_id(struct store *base, long long id, struct user *out)
{
    char n[24];
    const char *v[1] = {pg_num(n, id)};
    struct pg_query q = {.slot = ST_USER_GET_ID,
                         .sql = "SELECT " USER_COLS " FROM users WHERE id = $1::bigint",
                         .nparams = 1,
                         .values = v,
                         .retry = PG_READ};
    return user_one(pg_of(base), &q, out);
}

enum cl_err pg_user_update(struct store *base, const struct user *u, const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[4 + PG_AUDIT_NPARAMS];
    char id[24];
    struct pg_query q = {
        .slot = ST_USER_UPDATE,
        .sql = "WITH upd AS (UPDATE users SET pwhash = $2, role = $3, disabled = $4::boolean"
               " WHERE id = $1::bigint RETURNING id),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $5, $6, $7, $8, $9, $10, $11, $12 FROM upd WHERE $7::text IS NOT NULL)"
               " SELECT id FROM upd",
        .nparams = 4 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};

    v[0] = pg_num(id, u->id);
    v[1] = u->pwhash;
    v[2] = role_name(u->role);
    v[3] = u->disabled ? "true" : "false";
    if (pg_audit_params(s, a, v + 4) != CL_OK)
        return CL_INVALID;
    return run_changed(s, &q, NULL);
}

enum cl_err pg_user_login(struct store *base, long long uid, int fail_count, long long fail_since,
                          const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[3 + PG_AUDIT_NPARAMS];
    char id[24], fails[24], since[24];
    struct pg_query q = {
        .slot = ST_USER_LOGIN,
        .sql = "WITH upd AS (UPDATE users SET fail_count = $2::integer, fail_since = $3::bigint"
               " WHERE id = $1::bigint RETURNING id),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $4, $5, $6, $7, $8, $9, $10, $11 FROM upd WHERE $6::text IS NOT NULL)"
               " SELECT id FROM upd",
        .nparams = 3 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};

    v[0] = pg_num(id, uid);
    v[1] = pg_num(fails, fail_count);
    v[2] = pg_num(since, fail_since);
    if (pg_audit_params(s, a, v + 3) != CL_OK)
        return CL_INVALID;
    return run_changed(s, &q, NULL);
}

enum cl_err pg_user_list(struct store *base, int (*fn)(const struct user *u, void *ctx), void *ctx)
{
    struct pg_store *s = pg_of(base);
    struct pg_query q = {.slot = ST_USER_LIST,
                         .sql = "SELECT " USER_COLS " FROM users ORDER BY name",
                         .retry = PG_READ};
    PGresult *r;
    enum cl_err e = pg_run(s, &q, &r);

    if (e)
        return e;
    for (int i = 0; i < PQntuples(r); i++) {
        struct user u;
        row_user(r, i, 0, &u);
        if (fn(&u, ctx))
            break;
    }
    PQclear(r);
    return CL_OK;
}

enum cl_err pg_user_count(struct store *base, long long *n)
{
    struct pg_store *s = pg_of(base);
    struct pg_query q = {
        .slot = ST_USER_COUNT, .sql = "SELECT count(*) FROM users", .retry = PG_READ};
    PGresult *r;
    enum cl_err e = pg_run(s, &q, &r);

    if (!e)
        *n = pg_ll(r, 0, 0);
    PQclear(r);
    return e;
}

/* ------------------------------------------------------------ tokens */

enum cl_err pg_token_add(struct store *base, struct token *t, const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[8 + PG_AUDIT_NPARAMS];
    char uid[24], exp[24], rev[24], used[24];
    /* user_id 0 is the operator's: no owner row (NULL) */
    struct pg_query q = {
        .slot = ST_TOKEN_ADD,
        .sql = "WITH ins AS (INSERT INTO tokens (label, digest, role, user_id, creado, expires,"
               "  revoked, last_used)"
               " VALUES ($1, $2, $3, nullif($4::bigint, 0), $5, $6::bigint, $7::bigint,"
               "  $8::bigint)"
               " ON CONFLICT (digest) DO NOTHING RETURNING id),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $9, $10, $11, $12, $13, $14, $15, $16 FROM ins"
               " WHERE $11::text IS NOT NULL)"
               " SELECT id FROM ins",
        .nparams = 8 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};
    enum cl_err e;

    if (t->role == ROLE_NONE)
        return pg_fail(s, CL_INVALID, "a token needs a role");
    if (!t->creado[0])
        manager_now(t->creado);
    v[0] = t->label;
    v[1] = t->digest;
    v[2] = role_name(t->role);
    v[3] = pg_num(uid, t->user_id);
    v[4] = t->creado;
    v[5] = pg_num(exp, t->expires);
    v[6] = pg_num(rev, t->revoked);
    v[7] = pg_num(used, t->last_used);
    if (pg_audit_params(s, a, v + 8) != CL_OK)
        return CL_INVALID;
    e = run_changed(s, &q, &t->id);
    return e == CL_NOT_FOUND ? pg_fail(s, CL_EXISTS, "token add: the digest is taken") : e;
}

enum cl_err pg_token_find(struct store *base, const char *digest, struct token *out)
{
    struct pg_store *s = pg_of(base);
    const char *v[1] = {digest};
    struct pg_query q = {.slot = ST_TOKEN_FIND,
                         .sql = TOKEN_SELECT " WHERE t.digest = $1",
                         .nparams = 1,
                         .values = v,
                         .retry = PG_READ};
    PGresult *r;
    enum cl_err e = pg_run(s, &q, &r);

    if (e)
        return e;
    if (PQntuples(r) == 0)
        e = CL_NOT_FOUND;
    else
        row_token(r, 0, out);
    PQclear(r);
    return e;
}

enum cl_err pg_token_touch(struct store *base, long long id, long long now)
{
    char a[24], b[24];
    const char *v[2] = {pg_num(a, id), pg_num(b, now)};
    struct pg_query q = {.slot = ST_TOKEN_TOUCH,
                         .sql = "UPDATE tokens SET last_used = $2::bigint WHERE id = $1::bigint",
                         .nparams = 2,
                         .values = v,
                         .retry = PG_READ /* sets a value: doing it twice is doing it once */};
    return run_changed(pg_of(base), &q, NULL);
}

enum cl_err pg_token_revoke(struct store *base, long long id, long long now,
                            const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[2 + PG_AUDIT_NPARAMS];
    char tid[24], t[24];
    struct pg_query q = {
        .slot = ST_TOKEN_REVOKE,
        .sql = "WITH upd AS (UPDATE tokens SET revoked = $2::bigint"
               " WHERE id = $1::bigint AND revoked = 0 RETURNING id),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $3, $4, $5, $6, $7, $8, $9, $10 FROM upd WHERE $5::text IS NOT NULL)"
               " SELECT id FROM upd",
        .nparams = 2 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};

    v[0] = pg_num(tid, id);
    v[1] = pg_num(t, now);
    if (pg_audit_params(s, a, v + 2) != CL_OK)
        return CL_INVALID;
    return run_changed(s, &q, NULL);
}

enum cl_err pg_token_list(struct store *base, int (*fn)(const struct token *t, void *ctx),
                          void *ctx)
{
    struct pg_store *s = pg_of(base);
    struct pg_query q = {
        .slot = ST_TOKEN_LIST, .sql = TOKEN_SELECT " ORDER BY t.id", .retry = PG_READ};
    PGresult *r;
    enum cl_err e = pg_run(s, &q, &r);

    if (e)
        return e;
    for (int i = 0; i < PQntuples(r); i++) {
        struct token t;
        row_token(r, i, &t);
        if (fn(&t, ctx))
            break;
    }
    PQclear(r);
    return CL_OK;
}

/* ------------------------------------------------------------ sessions */

enum cl_err pg_session_add(struct store *base, const struct session *se,
                           const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[4 + PG_AUDIT_NPARAMS];
    char uid[24], c[24], l[24];
    struct pg_query q = {
        .slot = ST_SESSION_ADD,
        .sql = "WITH ins AS (INSERT INTO sessions (digest, user_id, created, last_seen)"
               " VALUES ($1, $2::bigint, $3::bigint, $4::bigint)"
               " ON CONFLICT (digest) DO NOTHING RETURNING digest),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $5, $6, $7, $8, $9, $10, $11, $12 FROM ins WHERE $7::text IS NOT NULL)"
               " SELECT 1 FROM ins",
        .nparams = 4 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};
    enum cl_err e;

    v[0] = se->digest;
    v[1] = pg_num(uid, se->user_id);
    v[2] = pg_num(c, se->created);
    v[3] = pg_num(l, se->last_seen);
    if (pg_audit_params(s, a, v + 4) != CL_OK)
        return CL_INVALID;
    e = run_changed(s, &q, NULL);
    return e == CL_NOT_FOUND ? pg_fail(s, CL_EXISTS, "session add: the digest is taken") : e;
}

enum cl_err pg_session_find(struct store *base, const char *digest, struct session *out,
                            struct user *user)
{
    struct pg_store *s = pg_of(base);
    const char *v[1] = {digest};
    struct pg_query q = {.slot = ST_SESSION_FIND,
                         .sql = "SELECT s.digest, s.user_id, s.created, s.last_seen,"
                                " u.id, u.name, u.pwhash, u.role, u.disabled, u.fail_count,"
                                " u.fail_since, u.creado"
                                " FROM sessions s JOIN users u ON u.id = s.user_id"
                                " WHERE s.digest = $1",
                         .nparams = 1,
                         .values = v,
                         .retry = PG_READ};
    PGresult *r;
    enum cl_err e = pg_run(s, &q, &r);

    if (e)
        return e;
    if (PQntuples(r) == 0) {
        e = CL_NOT_FOUND;
    } else {
        memset(out, 0, sizeof(*out));
        pg_copy(r, 0, 0, out->digest, sizeof(out->digest));
        out->user_id = pg_ll(r, 0, 1);
        out->created = pg_ll(r, 0, 2);
        out->last_seen = pg_ll(r, 0, 3);
        if (user)
            row_user(r, 0, 4, user);
    }
    PQclear(r);
    return e;
}

enum cl_err pg_session_touch(struct store *base, const char *digest, long long now)
{
    char t[24];
    const char *v[2] = {digest, pg_num(t, now)};
    struct pg_query q = {.slot = ST_SESSION_TOUCH,
                         .sql = "UPDATE sessions SET last_seen = $2::bigint WHERE digest = $1",
                         .nparams = 2,
                         .values = v,
                         .retry = PG_READ /* sets a value: idempotent */};
    return run_changed(pg_of(base), &q, NULL);
}

enum cl_err pg_session_delete(struct store *base, const char *digest, const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[1 + PG_AUDIT_NPARAMS];
    struct pg_query q = {
        .slot = ST_SESSION_DELETE,
        .sql = "WITH d AS (DELETE FROM sessions WHERE digest = $1 RETURNING digest),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $2, $3, $4, $5, $6, $7, $8, $9 FROM d WHERE $4::text IS NOT NULL)"
               " SELECT 1 FROM d",
        .nparams = 1 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};

    v[0] = digest;
    if (pg_audit_params(s, a, v + 1) != CL_OK)
        return CL_INVALID;
    return run_changed(s, &q, NULL);
}

enum cl_err pg_session_prune(struct store *base, long long idle_before, long long created_before,
                             long long *deleted)
{
    struct pg_store *s = pg_of(base);
    char a[24], b[24];
    const char *v[2] = {pg_num(a, idle_before), pg_num(b, created_before)};
    struct pg_query q = {.slot = ST_SESSION_PRUNE,
                         .sql = "DELETE FROM sessions WHERE last_seen < $1::bigint"
                                " OR created < $2::bigint"
                                " OR user_id IN (SELECT id FROM users WHERE disabled)",
                         .nparams = 2,
                         .values = v,
                         .retry = PG_WRITE};

    return pg_run_rows(s, &q, deleted);
}
