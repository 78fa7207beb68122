/* store_pg_clients.c - the PostgreSQL backend's clients and audit trail:
 * each change one statement (one round trip, one transaction) that writes
 * its audit row too, lists as keyset pages. */
#include "store_pg_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_COLS \
    "mail, nombre, apellidos, fecha_nacimiento, direccion, creado, modificado, version"
/* ------------------------------------------------------------ rows */

static void row_client(const PGresult *r, int i, struct client *c, struct client_meta *m)
{
    pg_copy(r, i, 0, c->mail, sizeof(c->mail));
    pg_copy(r, i, 1, c->nombre, sizeof(c->nombre));
    pg_copy(r, i, 2, c->apellidos, sizeof(c->apellidos));
    pg_copy(r, i, 3, c->fecha_nacimiento, sizeof(c->fecha_nacimiento));
    pg_copy(r, i, 4, c->direccion, sizeof(c->direccion));
    if (m) {
        pg_copy(r, i, 5, m->creado, sizeof(m->creado));
        pg_copy(r, i, 6, m->modificado, sizeof(m->modificado));
        m->version = pg_ll(r, i, 7);
    }
}

/* The bound values of a record and its keys, $1..$9 of add and update. */
static void client_params(const struct client *c, const struct client_keys *k, const char *v[9])
{
    v[0] = c->mail;
    v[1] = c->nombre;
    v[2] = c->apellidos;
    v[3] = c->fecha_nacimiento;
    v[4] = c->direccion;
    v[5] = k->nombre_key;
    v[6] = k->apellidos_key;
    v[7] = k->fecha_iso;
    v[8] = k->search;
}

/* ------------------------------------------------------------ one client */

enum cl_err pg_get(struct store *base, const char *mail, struct client *out,
                   struct client_meta *meta)
{
    struct pg_store *s = pg_of(base);
    const char *v[1] = {mail};
    struct pg_query q = {.slot = ST_GET,
                         .sql = "SELECT " CLIENT_COLS " FROM clients"
                                " WHERE mail_key = lower($1 COLLATE \"C\")",
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
        row_client(r, 0, out, meta);
    PQclear(r);
    return e;
}

enum cl_err pg_add(struct store *base, const struct client *c, const struct client_keys *k,
                   const char *now, const struct audit_entry *a, struct client_meta *out)
{
    struct pg_store *s = pg_of(base);
    const char *v[10 + PG_AUDIT_NPARAMS];
    /* ON CONFLICT: a mail taken (by a concurrent add too: the second waits
     * for the first to commit) inserts nothing, so no audit row either. */
    struct pg_query q = {
        .slot = ST_ADD,
        .sql = "WITH ins AS ("
               " INSERT INTO clients (mail, nombre, apellidos, fecha_nacimiento, direccion,"
               "  nombre_key, apellidos_key, fecha_iso, search, creado, modificado, version)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, nextval('client_version'))"
               " ON CONFLICT (mail_key) DO NOTHING"
               " RETURNING creado, modificado, version),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $11, $12, $13, $14, $15, $16, $17, $18 FROM ins"
               " WHERE $13::text IS NOT NULL)"
               " SELECT creado, modificado, version FROM ins",
        .nparams = 10 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};
    PGresult *r;
    enum cl_err e;

    client_params(c, k, v);
    v[9] = now;
    if (pg_audit_params(s, a, v + 10) != CL_OK)
        return CL_INVALID;
    if ((e = pg_run(s, &q, &r)))
        return e;
    if (PQntuples(r) == 0) {
        e = pg_fail(s, CL_EXISTS, "add: a client with that mail exists");
    } else if (out) {
        pg_copy(r, 0, 0, out->creado, sizeof(out->creado));
        pg_copy(r, 0, 1, out->modificado, sizeof(out->modificado));
        out->version = pg_ll(r, 0, 2);
    }
    PQclear(r);
    return e;
}

enum cl_err pg_update(struct store *base, const struct client *c, const struct client_keys *k,
                      long long expect_version, const char *now, const struct audit_entry *a,
                      struct client_meta *out)
{
    struct pg_store *s = pg_of(base);
    const char *v[11 + PG_AUDIT_NPARAMS];
    char ver[24];
    /* One statement: the conditional update, its audit row, and (from the
     * statement's snapshot, before the update) the version the row had,
     * which tells "no such client" from "changed since". */
    struct pg_query q = {
        .slot = ST_UPDATE,
        .sql = "WITH upd AS ("
               " UPDATE clients SET nombre = $2, apellidos = $3, fecha_nacimiento = $4,"
               "  direccion = $5, nombre_key = $6, apellidos_key = $7, fecha_iso = $8,"
               "  search = $9, modificado = $10, version = nextval('client_version')"
               " WHERE mail_key = lower($1 COLLATE \"C\") AND version = $11::bigint"
               " RETURNING creado, modificado, version),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $12, $13, $14, $15, $16, $17, $18, $19 FROM upd"
               " WHERE $14::text IS NOT NULL)"
               " SELECT u.creado, u.modificado, u.version,"
               "  (SELECT c.version FROM clients c WHERE c.mail_key = lower($1 COLLATE \"C\"))"
               " FROM (SELECT 1) one LEFT JOIN upd u ON true",
        .nparams = 11 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};
    PGresult *r;
    enum cl_err e;

    client_params(c, k, v);
    v[9] = now;
    v[10] = pg_num(ver, expect_version);
    if (pg_audit_params(s, a, v + 11) != CL_OK)
        return CL_INVALID;
    if ((e = pg_run(s, &q, &r)))
        return e;
    if (PQgetisnull(r, 0, 2)) {
        e = PQgetisnull(r, 0, 3) ? CL_NOT_FOUND : CL_CONFLICT;
    } else if (out) {
        pg_copy(r, 0, 0, out->creado, sizeof(out->creado));
        pg_copy(r, 0, 1, out->modificado, sizeof(out->modificado));
        out->version = pg_ll(r, 0, 2);
    }
    PQclear(r);
    return e;
}

enum cl_err pg_del(struct store *base, const char *mail, long long expect_version,
                   const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[2 + PG_AUDIT_NPARAMS];
    char ver[24];
    struct pg_query q = {
        .slot = ST_DEL,
        .sql = "WITH d AS ("
               " DELETE FROM clients WHERE mail_key = lower($1 COLLATE \"C\")"
               " AND version = $2::bigint RETURNING version),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $3, $4, $5, $6, $7, $8, $9, $10 FROM d WHERE $5::text IS NOT NULL)"
               " SELECT (SELECT count(*) FROM d),"
               "  (SELECT c.version FROM clients c WHERE c.mail_key = lower($1 COLLATE \"C\"))",
        .nparams = 2 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};
    PGresult *r;
    enum cl_err e;

    v[0] = mail;
    v[1] = pg_num(ver, expect_version);
    if (pg_audit_params(s, a, v + 2) != CL_OK)
        return CL_INVALID;
    if ((e = pg_run(s, &q, &r)))
        return e;
    if (pg_ll(r, 0, 0) == 0)
        e = PQgetisnull(r, 0, 1) ? CL_NOT_FOUND : CL_CONFLICT;
    PQclear(r);
    return e;
}

enum cl_err pg_erase(struct store *base, const char *mail_key, const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[1 + PG_AUDIT_NPARAMS];
    /* Every part of a WITH runs, read or not, on one snapshot: the scrub
     * does not see the erase's own audit row. */
    struct pg_query q = {
        .slot = ST_ERASE,
        .sql = "WITH d AS (DELETE FROM clients WHERE mail_key = lower($1 COLLATE \"C\")),"
               " scrub AS (UPDATE audit SET target = NULL, target_key = NULL, changes = NULL"
               "  WHERE target_key = lower($1 COLLATE \"C\")),"
               " aud AS (INSERT INTO audit (" PG_AUDIT_COLS ")"
               " SELECT $2, $3, $4, $5, $6, $7, $8, $9 WHERE $4::text IS NOT NULL)"
               " SELECT 1",
        .nparams = 1 + PG_AUDIT_NPARAMS,
        .values = v,
        .retry = PG_WRITE};
    PGresult *r;
    enum cl_err e;

    v[0] = mail_key;
    if (pg_audit_params(s, a, v + 1) != CL_OK)
        return CL_INVALID;
    e = pg_run(s, &q, &r);
    PQclear(r);
    return e;
}

/* ------------------------------------------------------------ lists */

/* A query's filters as bits: which of search, fecha_desde, fecha_hasta. */
static unsigned filter_bits(const struct client_query *q)
{
    return (q && q->search ? 1u : 0) | (q && q->fecha_desde ? 2u : 0) |
           (q && q->fecha_hasta ? 4u : 0);
}

static const char *const sort_cols[] = {"mail_key",  "nombre_key", "apellidos_key",
                                        "fecha_iso", "creado",     "modificado"};
#define NSORTS ((int)(sizeof(sort_cols) / sizeof(sort_cols[0])))

/* Appends the WHERE conditions of filter bits f, numbering parameters from
 * *p; returns the length written. */
static size_t where_filters(unsigned f, char *buf, size_t cap, int *p)
{
    size_t n = 0;

    n += (size_t)snprintf(buf + n, cap - n, " WHERE true");
    if (f & 1)
        n += (size_t)snprintf(buf + n, cap - n, " AND search LIKE $%d ESCAPE '\\'", (*p)++);
    if (f & 2)
        n += (size_t)snprintf(buf + n, cap - n, " AND fecha_iso >= $%d", (*p)++);
    if (f & 4)
        n += (size_t)snprintf(buf + n, cap - n, " AND fecha_iso <= $%d", (*p)++);
    if (f & 6) /* a date of no known shape ("") is in no range */
        n += (size_t)snprintf(buf + n, cap - n, " AND fecha_iso <> ''");
    return n;
}

/* Without a filter the total kept by the schema's triggers (migration 2):
 * 16 rows, not a scan, plus what this transaction has added or deleted and
 * not yet written there (it does at commit). */
static void build_count(unsigned variant, char *buf, size_t cap)
{
    int p = 1;
    size_t n;

    if (variant == 0) {
        snprintf(buf, cap, "SELECT coalesce(sum(n), 0)::bigint + coalesce(nullif("
                           "current_setting('clientes.total_delta', true), ''), '0')::bigint"
                           " FROM client_total");
        return;
    }
    n = (size_t)snprintf(buf, cap, "SELECT count(*) FROM clients");
    where_filters(variant, buf + n, cap - n, &p);
}

/* variant: ((filters * 6 + sort) * 2 + descending) * 2 + has_cursor. */
static void build_list(unsigned variant, char *buf, size_t cap)
{
    bool cursor = variant & 1, desc = variant >> 1 & 1;
    int sort = (int)(variant >> 2) % NSORTS, p = 1;
    unsigned f = (variant >> 2) / NSORTS;
    const char *col = sort_cols[sort], *dir = desc ? "DESC" : "ASC";
    size_t n = (size_t)snprintf(buf, cap, "SELECT " CLIENT_COLS ", %s, mail_key FROM clients", col);

    n += where_filters(f, buf + n, cap - n, &p);
    if (cursor && sort == 0) {
        n += (size_t)snprintf(buf + n, cap - n, " AND mail_key %s $%d", desc ? "<" : ">", p);
        p++;
    } else if (cursor) {
        /* a row comparison: the (col, mail_key) index serves it as a range */
        n += (size_t)snprintf(buf + n, cap - n, " AND (%s, mail_key) %s ($%d, $%d)", col,
                              desc ? "<" : ">", p, p + 1);
        p += 2;
    }
    if (sort == 0)
        n += (size_t)snprintf(buf + n, cap - n, " ORDER BY mail_key %s", dir);
    else
        n += (size_t)snprintf(buf + n, cap - n, " ORDER BY %s %s, mail_key %s", col, dir, dir);
    snprintf(buf + n, cap - n, " LIMIT $%d", p);
}

/* '%' + needle with LIKE's wildcards escaped + '%', malloc'd. */
static char *like_pattern(const char *needle)
{
    size_t len = strlen(needle), n = 0;
    char *p = malloc(len * 2 + 3);

    if (!p)
        return NULL;
    p[n++] = '%';
    for (; *needle; needle++) {
        if (*needle == '%' || *needle == '_' || *needle == '\\')
            p[n++] = '\\';
        p[n++] = *needle;
    }
    p[n++] = '%';
    p[n] = '\0';
    return p;
}

/* The filter values of q in where_filters()'s order; *pattern is malloc'd
 * (NULL when there is no search).  Returns how many, or -1 (no memory). */
static int filter_values(const struct client_query *q, const char **v, char **pattern)
{
    int n = 0;

    *pattern = NULL;
    if (q && q->search) {
        if (!(*pattern = like_pattern(q->search)))
            return -1;
        v[n++] = *pattern;
    }
    if (q && q->fecha_desde)
        v[n++] = q->fecha_desde;
    if (q && q->fecha_hasta)
        v[n++] = q->fecha_hasta;
    return n;
}

enum cl_err pg_count(struct store *base, const struct client_query *cq, long long *count)
{
    struct pg_store *s = pg_of(base);
    const char *v[3];
    char *pattern;
    int n = filter_values(cq, v, &pattern);
    unsigned f = filter_bits(cq);
    struct pg_query q = {.slot = PG_COUNT_BASE + (int)f,
                         .build = build_count,
                         .variant = f,
                         .nparams = n,
                         .values = v,
                         .retry = PG_READ};
    PGresult *r;
    enum cl_err e;

    if (n < 0)
        return pg_fail(s, CL_NOMEM, "out of memory");
    e = pg_run(s, &q, &r);
    free(pattern);
    if (!e)
        *count = pg_ll(r, 0, 0);
    PQclear(r);
    return e;
}

/* Room for a cursor's sort value: the longest sort key. */
#define CURSOR_CAP CLIENT_APELLIDOS_CAP

enum cl_err pg_list(struct store *base, const struct client_query *cq, client_list_fn fn, void *ctx)
{
    struct pg_store *s = pg_of(base);
    const char *v[7];
    char *pattern = NULL, limit[24], cur_v[CURSOR_CAP], cur_k[CLIENT_MAIL_CAP];
    int nf, page;
    bool desc, cursor, stop = false;
    unsigned f;
    enum cl_err e = CL_OK;

    if (!cq || cq->sort < SORT_MAIL || (int)cq->sort >= NSORTS || cq->limit < 0 || cq->limit > 1000)
        return pg_fail(s, CL_INVALID, "invalid list query");
    if (cq->sort != SORT_MAIL && cq->after_key && !cq->after_value)
        return pg_fail(s, CL_INVALID, "a cursor on a sort other than the mail needs its value");
    desc = cq->desc != cq->backward; /* a page backwards reads the other way */
    cursor = cq->after_key != NULL;
    f = filter_bits(cq);
    page = cq->limit ? cq->limit : STORE_PG_WALK_PAGE;
    if ((nf = filter_values(cq, v, &pattern)) < 0)
        return pg_fail(s, CL_NOMEM, "out of memory");
    if (cursor) {
        snprintf(cur_v, sizeof(cur_v), "%s", cq->after_value ? cq->after_value : "");
        snprintf(cur_k, sizeof(cur_k), "%s", cq->after_key);
    }
    pg_num(limit, page);
    /* A walk (limit 0) is a loop of short pages, each after the last row of
     * the one before: no statement stays open while fn feeds a slow reader,
     * and stopping early costs nothing. */
    while (!stop) {
        unsigned variant = ((f * NSORTS + (unsigned)cq->sort) * 2 + desc) * 2 + cursor;
        int n = nf;
        PGresult *r;
        if (cursor && cq->sort != SORT_MAIL)
            v[n++] = cur_v;
        if (cursor)
            v[n++] = cur_k;
        v[n++] = limit;
        struct pg_query q = {.slot = PG_LIST_BASE + (int)variant,
                             .build = build_list,
                             .variant = variant,
                             .nparams = n,
                             .values = v,
                             .retry = PG_READ};
        if ((e = pg_run(s, &q, &r)))
            break;
        int rows = PQntuples(r);
        for (int i = 0; i < rows && !stop; i++) {
            struct client c;
            struct client_meta m;
            row_client(r, i, &c, &m);
            stop = fn(&c, &m, ctx) != 0;
        }
        if (!stop && cq->limit == 0 && rows == page) {
            pg_copy(r, rows - 1, 8, cur_v, sizeof(cur_v));
            pg_copy(r, rows - 1, 9, cur_k, sizeof(cur_k));
            cursor = true;
        } else {
            stop = true;
        }
        PQclear(r);
    }
    free(pattern);
    return e;
}

/* ------------------------------------------------------------ audit */

enum cl_err pg_audit_add(struct store *base, const struct audit_entry *a)
{
    struct pg_store *s = pg_of(base);
    const char *v[PG_AUDIT_NPARAMS];
    struct pg_query q = {.slot = ST_AUDIT_ADD,
                         .sql = "INSERT INTO audit (" PG_AUDIT_COLS ")"
                                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                         .nparams = PG_AUDIT_NPARAMS,
                         .values = v,
                         .retry = PG_WRITE};
    PGresult *r;
    enum cl_err e;

    if (!a || !a->action || !a->at)
        return pg_fail(s, CL_INVALID, "an audit row needs a time and an action");
    if (pg_audit_params(s, a, v) != CL_OK)
        return CL_INVALID;
    e = pg_run(s, &q, &r);
    PQclear(r);
    return e;
}

/* variant bits: 1 target_key, 2 actor, 4 action (exact), 8 action (prefix),
 * 16 since, 32 before_id, 64 oldest first, 128 after_id. */
static void build_audit(unsigned f, char *buf, size_t cap)
{
    int p = 1;
    size_t n = (size_t)snprintf(buf, cap,
                                "SELECT id, at, actor, action, target, changes, request_id,"
                                " client_addr FROM audit WHERE true");
    if (f & 1)
        n += (size_t)snprintf(buf + n, cap - n, " AND target_key = $%d", p++);
    if (f & 2)
        n += (size_t)snprintf(buf + n, cap - n, " AND actor = $%d", p++);
    if (f & 4)
        n += (size_t)snprintf(buf + n, cap - n, " AND action = $%d", p++);
    if (f & 8)
        n += (size_t)snprintf(buf + n, cap - n, " AND action LIKE $%d ESCAPE '\\'", p++);
    if (f & 16)
        n += (size_t)snprintf(buf + n, cap - n, " AND at >= $%d", p++);
    if (f & 32)
        n += (size_t)snprintf(buf + n, cap - n, " AND id < $%d::bigint", p++);
    if (f & 128)
        n += (size_t)snprintf(buf + n, cap - n, " AND id > $%d::bigint", p++);
    snprintf(buf + n, cap - n, " ORDER BY id %s LIMIT $%d", f & 64 ? "ASC" : "DESC", p);
}

enum cl_err pg_audit_list(struct store *base, const struct audit_query *aq, audit_walk_fn fn,
                          void *ctx)
{
    struct pg_store *s = pg_of(base);
    const char *v[8];
    char before[24], after[24], limit[24], *prefix = NULL;
    unsigned f = 0;
    int n = 0;
    PGresult *r;
    enum cl_err e;

    if (!aq || aq->limit < 1 || aq->limit > 1000)
        return pg_fail(s, CL_INVALID, "an audit list takes 1 to 1000 rows");
    if (aq->oldest_first && aq->before_id)
        return pg_fail(s, CL_INVALID, "an audit list oldest first takes no before_id");
    if (aq->target_key)
        f |= 1, v[n++] = aq->target_key;
    if (aq->actor)
        f |= 2, v[n++] = aq->actor;
    if (aq->action) {
        size_t len = strlen(aq->action);
        if (len && aq->action[len - 1] == '.') {
            /* "client." is every client action: a prefix (LIKE, escaped) */
            char *p = like_pattern(aq->action);
            if (!p)
                return pg_fail(s, CL_NOMEM, "out of memory");
            p[0] = '\0';
            memmove(p, p + 1, strlen(p + 1) + 1); /* drop the leading '%' */
            prefix = p;
            f |= 8, v[n++] = prefix;
        } else {
            f |= 4, v[n++] = aq->action;
        }
    }
    if (aq->since)
        f |= 16, v[n++] = aq->since;
    if (aq->before_id > 0)
        f |= 32, v[n++] = pg_num(before, aq->before_id);
    if (aq->oldest_first)
        f |= 64;
    if (aq->oldest_first && aq->after_id > 0)
        f |= 128, v[n++] = pg_num(after, aq->after_id);
    v[n++] = pg_num(limit, aq->limit);
    struct pg_query q = {.slot = PG_AUDIT_BASE + (int)f,
                         .build = build_audit,
                         .variant = f,
                         .nparams = n,
                         .values = v,
                         .retry = PG_READ};
    e = pg_run(s, &q, &r);
    free(prefix);
    if (e)
        return e;
    for (int i = 0; i < PQntuples(r); i++) {
        struct audit_view row = {
            .id = pg_ll(r, i, 0),
            .at = pg_str(r, i, 1),
            .actor = pg_str(r, i, 2),
            .action = pg_str(r, i, 3),
            .target = pg_str(r, i, 4),
            .changes = pg_str(r, i, 5),
            .request_id = pg_str(r, i, 6),
            .client_addr = pg_str(r, i, 7),
        };
        if (fn(&row, ctx))
            break;
    }
    PQclear(r);
    return CL_OK;
}

enum cl_err pg_audit_prune(struct store *base, const char *before, long long *deleted)
{
    struct pg_store *s = pg_of(base);
    const char *v[1] = {before};
    struct pg_query q = {.slot = ST_AUDIT_PRUNE,
                         /* never a row of the last day (the trigger would
                          * refuse it): those are kept, whatever `before` says */
                         .sql = "DELETE FROM audit WHERE at < $1 AND at < to_char("
                                "(now() - interval '1 day') AT TIME ZONE 'UTC',"
                                " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                         .nparams = 1,
                         .values = v,
                         .retry = PG_WRITE};

    return pg_run_rows(s, &q, deleted);
}
