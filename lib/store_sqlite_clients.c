/* store_sqlite_clients.c - the SQLite backend's clients: lookups, versioned
 * changes with their audit rows, erasure, and keyset lists. */
#include "store_sqlite.h"
#include "store_sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void row_to_client(sqlite3_stmt *st, struct client *c)
{
    sq_copy_col(st, 0, c->mail, sizeof(c->mail));
    sq_copy_col(st, 1, c->nombre, sizeof(c->nombre));
    sq_copy_col(st, 2, c->apellidos, sizeof(c->apellidos));
    sq_copy_col(st, 3, c->fecha_nacimiento, sizeof(c->fecha_nacimiento));
    sq_copy_col(st, 4, c->direccion, sizeof(c->direccion));
}

/* Columns 5..7 of the client selects: creado, modificado, version. */
static void row_to_meta(sqlite3_stmt *st, struct client_meta *m)
{
    sq_copy_col(st, 5, m->creado, sizeof(m->creado));
    sq_copy_col(st, 6, m->modificado, sizeof(m->modificado));
    m->version = sqlite3_column_int64(st, 7);
}

enum cl_err sq_get(struct store *base, const char *mail, struct client *out,
                   struct client_meta *meta)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    int rc;

    s->base.errmsg[0] = '\0';
    /* without meta, one lookup in the narrow table (the legacy GET) */
    if (!(st = sq_stmt(s, meta ? SQ_GET : SQ_GET_FIELDS)))
        return CL_STORAGE;
    sqlite3_bind_text(st, 1, mail, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_to_client(st, out);
        if (meta)
            row_to_meta(st, meta);
    } else if (rc != SQLITE_DONE) {
        sq_record(s, rc);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_ROW)
        return CL_OK;
    if (rc == SQLITE_DONE)
        return CL_NOT_FOUND;
    return sq_map(rc);
}

/* SQ_ADD, SQ_UPDATE: ?1 the mail, ?2..?5 the other fields, ?6 the version. */
static void bind_fields(sqlite3_stmt *st, const struct client *c, long long version)
{
    sqlite3_bind_text(st, 1, c->mail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->nombre, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->apellidos, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->fecha_nacimiento, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->direccion, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, version);
}

/* SQ_ADD_META, SQ_UPDATE_META: ?1 the mail, ?2 the time, ?3..?6 the keys. */
static void bind_meta(sqlite3_stmt *st, const char *mail, const struct client_keys *k,
                      const char *now)
{
    sqlite3_bind_text(st, 1, mail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->fecha_iso, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, k->nombre_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, k->apellidos_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, k->search, -1, SQLITE_STATIC);
}

static void set_meta(struct client_meta *m, const char *creado, const char *now, long long v)
{
    if (!m)
        return;
    snprintf(m->creado, sizeof(m->creado), "%s", creado);
    snprintf(m->modificado, sizeof(m->modificado), "%s", now);
    m->version = v;
}

/* Runs a bound statement that returns no rows; a NULL st is the failure of
 * its preparation (recorded). */
static enum cl_err run_stmt(struct sqlite_store *s, sqlite3_stmt *st)
{
    return st ? sq_map(sq_run(s, st)) : CL_STORAGE;
}

enum cl_err sq_add(struct store *base, const struct client *c, const struct client_keys *k,
                   const char *now, const struct audit_entry *a, struct client_meta *out)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    long long v = 0;
    enum cl_err e;

    if ((e = sq_write_begin(s)))
        return e;
    if (!(e = sq_next_version(s, &v))) {
        if ((st = sq_stmt(s, SQ_ADD)))
            bind_fields(st, c, v);
        e = run_stmt(s, st);
    }
    if (!e) {
        if ((st = sq_stmt(s, SQ_ADD_META)))
            bind_meta(st, c->mail, k, now);
        e = run_stmt(s, st);
    }
    if (!e)
        e = sq_audit_insert(s, a);
    if (!(e = sq_write_end(s, e)))
        set_meta(out, now, now, v);
    return e;
}

/* After a conditional change matched no row: which of the two it is. */
static enum cl_err missing_or_moved(struct sqlite_store *s, const char *mail)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_VERSION_OF);
    int rc;

    if (!st)
        return CL_STORAGE;
    sqlite3_bind_text(st, 1, mail, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        sq_record(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_ROW)
        return CL_CONFLICT;
    return rc == SQLITE_DONE ? CL_NOT_FOUND : sq_map(rc);
}

enum cl_err sq_update(struct store *base, const struct client *c, const struct client_keys *k,
                      long long expect_version, const char *now, const struct audit_entry *a,
                      struct client_meta *out)
{
    struct sqlite_store *s = sq_of(base);
    char creado[STORE_TIME_LEN + 1] = "";
    sqlite3_stmt *st;
    long long v = 0;
    enum cl_err e;
    int rc;

    if ((e = sq_write_begin(s)))
        return e;
    if (!(e = sq_next_version(s, &v))) {
        if ((st = sq_stmt(s, SQ_UPDATE))) {
            bind_fields(st, c, v);
            sqlite3_bind_int64(st, 7, expect_version);
        }
        if (!(e = run_stmt(s, st)) && sqlite3_changes(s->db) == 0)
            e = missing_or_moved(s, c->mail); /* not there, or at another version */
    }
    if (!e && !(st = sq_stmt(s, SQ_UPDATE_META)))
        e = CL_STORAGE;
    if (!e) {
        bind_meta(st, c->mail, k, now);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            sq_copy_col(st, 0, creado, sizeof(creado));
            rc = sqlite3_step(st);
        }
        if (rc != SQLITE_DONE)
            sq_record(s, rc);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        e = sq_map(rc);
    }
    if (!e)
        e = sq_audit_insert(s, a);
    if (!(e = sq_write_end(s, e)))
        set_meta(out, creado, now, v);
    return e;
}

/* Deletes the meta of `mail` (inside a write). */
static enum cl_err del_meta(struct sqlite_store *s, const char *mail)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_DEL_META);

    if (st)
        sqlite3_bind_text(st, 1, mail, -1, SQLITE_STATIC);
    return run_stmt(s, st);
}

enum cl_err sq_del(struct store *base, const char *mail, long long expect_version,
                   const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    enum cl_err e;

    if ((e = sq_write_begin(s)))
        return e;
    if ((st = sq_stmt(s, SQ_DEL))) {
        sqlite3_bind_text(st, 1, mail, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, expect_version);
    }
    if (!(e = run_stmt(s, st)) && sqlite3_changes(s->db) == 0)
        e = missing_or_moved(s, mail);
    if (!e)
        e = del_meta(s, mail);
    if (!e)
        e = sq_audit_insert(s, a);
    return sq_write_end(s, e);
}

enum cl_err sq_erase(struct store *base, const char *mail_key, const struct audit_entry *a)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st;
    enum cl_err e;

    if ((e = sq_write_begin(s)))
        return e;
    if ((st = sq_stmt(s, SQ_ERASE_CLIENT)))
        sqlite3_bind_text(st, 1, mail_key, -1, SQLITE_STATIC);
    e = run_stmt(s, st);
    if (!e)
        e = del_meta(s, mail_key);
    if (!e) {
        if ((st = sq_stmt(s, SQ_ERASE_AUDIT)))
            sqlite3_bind_text(st, 1, mail_key, -1, SQLITE_STATIC);
        e = run_stmt(s, st);
    }
    if (!e)
        e = sq_audit_insert(s, a);
    if ((e = sq_write_end(s, e)))
        return e;
    s->erased = true;
    if (!s->in_txn) /* else at commit */
        sq_scrub(s);
    return CL_OK;
}

/* ---- lists ------------------------------------------------------------- */

/* The column of client_meta each sort orders by before the mail (the
 * tie-breaker). */
static const char *const sort_col[] = {
    [SORT_MAIL] = "mail",
    [SORT_NOMBRE] = "nombre_key",
    [SORT_APELLIDOS] = "apellidos_key",
    [SORT_FECHA] = "fecha_iso",
    [SORT_CREADO] = "creado",
    [SORT_MODIFICADO] = "modificado",
};
#define NSORTS ((int)(sizeof(sort_col) / sizeof(sort_col[0])))

/* The filters of a query, as bits (the shapes of the statements). */
enum { F_SEARCH = 1, F_DESDE = 2, F_HASTA = 4 };

static unsigned filters_of(const struct client_query *q)
{
    return (q->search && *q->search ? F_SEARCH : 0u) | (q->fecha_desde ? F_DESDE : 0u) |
           (q->fecha_hasta ? F_HASTA : 0u);
}

/* Appends the WHERE terms of the filters, on client_meta m.  Parameters:
 * ?3 the LIKE pattern, ?4 and ?5 the dates.  A record whose date could not
 * be read (fecha_iso '': only rows stored under an older rule) is outside
 * every date range. */
static void where_filters(char *sql, size_t cap, unsigned f)
{
    size_t n = strlen(sql);

    snprintf(sql + n, cap - n, " WHERE 1%s%s%s",
             f & F_SEARCH ? " AND m.search LIKE ?3 ESCAPE '\\'" : "",
             f & F_DESDE ? " AND m.fecha_iso >= ?4" : "",
             f & F_HASTA ? " AND m.fecha_iso <= ?5 AND m.fecha_iso <> ''" : "");
}

/* '%' needle '%' with LIKE's wildcards and the escape itself escaped, so
 * every byte of the needle is literal.  Returns a malloc'd pattern or NULL. */
static char *like_pattern(const char *needle)
{
    size_t n = strlen(needle), o = 0;
    char *p = malloc(2 * n + 3);

    if (!p)
        return NULL;
    p[o++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (needle[i] == '%' || needle[i] == '_' || needle[i] == '\\')
            p[o++] = '\\';
        p[o++] = needle[i];
    }
    p[o++] = '%';
    p[o] = '\0';
    return p;
}

/* Binds the filters (pattern owned by the caller, valid during the step). */
static void bind_filters(sqlite3_stmt *st, const struct client_query *q, unsigned f,
                         const char *pattern)
{
    if (f & F_SEARCH)
        sqlite3_bind_text(st, 3, pattern, -1, SQLITE_STATIC);
    if (f & F_DESDE)
        sqlite3_bind_text(st, 4, q->fecha_desde, -1, SQLITE_STATIC);
    if (f & F_HASTA)
        sqlite3_bind_text(st, 5, q->fecha_hasta, -1, SQLITE_STATIC);
}

enum cl_err sq_count(struct store *base, const struct client_query *q, long long *n)
{
    struct sqlite_store *s = sq_of(base);
    unsigned f = filters_of(q);
    char sql[512], *pattern = NULL;
    sqlite3_stmt *st;
    int rc;

    s->base.errmsg[0] = '\0';
    /* every record has its meta (but those written behind the library's
     * back): the filters need only that table; without a filter the total
     * the triggers keep is one row */
    if (f)
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM client_meta m");
    else
        snprintf(sql, sizeof(sql), "SELECT n FROM client_total WHERE id = 1");
    if (f)
        where_filters(sql, sizeof(sql), f);
    if (!(st = sq_cached(s, &s->count_st[f], sql)))
        return CL_STORAGE;
    if ((f & F_SEARCH) && !(pattern = like_pattern(q->search)))
        return CL_NOMEM;
    bind_filters(st, q, f, pattern);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        sq_record(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    free(pattern);
    return rc == SQLITE_ROW ? CL_OK : sq_map(rc);
}

/* How a list reads its rows. */
enum list_kind {
    /* the legacy walk: the five fields in mail order, from the narrow
     * table alone, as fast as a walk was before there was any meta */
    LIST_FIELDS,
    /* the mail order without filters: every record, its meta joined */
    LIST_BY_MAIL,
    /* another order or a filter: client_meta's index drives, the record
     * joined by its key */
    LIST_BY_META
};

static enum list_kind kind_of(const struct client_query *q, unsigned f)
{
    if (q->sort == SORT_MAIL && !f)
        return q->fields_only ? LIST_FIELDS : LIST_BY_MAIL;
    return LIST_BY_META;
}

/* The statement of a page: the query's filters, its order (descending when
 * desc and backward differ: a page before the cursor walks back), from the
 * cursor (?1 the sort value, ?2 the mail) when there is one, ?6 rows.  The
 * row value comparison keeps the scan on the sort's index, and CROSS JOIN
 * keeps that index's table the outer loop. */
static sqlite3_stmt *list_stmt(struct sqlite_store *s, const struct client_query *q,
                               unsigned f, enum list_kind kind, bool cursor)
{
    bool down = q->desc != q->backward;
    const char *col = sort_col[q->sort], *dir = down ? " DESC" : "", *cmp = down ? "<" : ">";
    unsigned shape;
    char sql[1024];
    size_t n;

    /* the shapes (SQ_LIST_SHAPES): 160 of LIST_BY_META by another column
     * (sort, direction, cursor, filters), 32 of LIST_BY_META by the mail
     * (filters never none), then 4 of LIST_BY_MAIL and 4 of LIST_FIELDS */
    if (kind == LIST_BY_META && q->sort != SORT_MAIL)
        shape = (((unsigned)(q->sort - 1) * 2 + down) * 2 + cursor) * 8 + f;
    else if (kind == LIST_BY_META)
        shape = 160 + ((unsigned)down * 2 + cursor) * 8 + f;
    else
        shape = (kind == LIST_BY_MAIL ? 192 : 196) + (unsigned)down * 2 + cursor;
    if (kind == LIST_FIELDS)
        n = (size_t)snprintf(sql, sizeof(sql),
                             "SELECT mail, nombre, apellidos, fecha_nacimiento, direccion"
                             " FROM clients c WHERE 1");
    else if (kind == LIST_BY_MAIL)
        n = (size_t)snprintf(sql, sizeof(sql),
                             "SELECT c.mail, c.nombre, c.apellidos, c.fecha_nacimiento,"
                             " c.direccion, coalesce(m.creado, ''), coalesce(m.modificado, ''),"
                             " c.version FROM clients c LEFT JOIN client_meta m"
                             " ON m.mail = c.mail WHERE 1");
    if (kind != LIST_BY_META) {
        if (cursor)
            n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND c.mail %s ?2", cmp);
        snprintf(sql + n, sizeof(sql) - n, " ORDER BY c.mail%s LIMIT ?6", dir);
        return sq_cached(s, &s->list_st[shape], sql);
    }
    snprintf(sql, sizeof(sql),
             "SELECT c.mail, c.nombre, c.apellidos, c.fecha_nacimiento, c.direccion, m.creado,"
             " m.modificado, c.version, m.%s FROM client_meta m CROSS JOIN clients c"
             " ON c.mail = m.mail",
             col);
    where_filters(sql, sizeof(sql), f);
    n = strlen(sql);
    if (cursor && q->sort == SORT_MAIL)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND m.mail %s ?2", cmp);
    else if (cursor)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND (m.%s, m.mail) %s (?1, ?2)", col,
                              cmp);
    if (q->sort == SORT_MAIL)
        snprintf(sql + n, sizeof(sql) - n, " ORDER BY m.mail%s LIMIT ?6", dir);
    else
        snprintf(sql + n, sizeof(sql) - n, " ORDER BY m.%s%s, m.mail%s LIMIT ?6", col, dir, dir);
    return sq_cached(s, &s->list_st[shape], sql);
}

/* Reads up to `want` rows of the next page into s->page; *got how many.
 * When the page is full the cursor moves to its last row (value, key).
 * The meta is read unless kind is LIST_FIELDS. */
static int read_page(struct sqlite_store *s, sqlite3_stmt *st, const struct client_query *q,
                     enum list_kind kind, int want, int *got, char *value, size_t value_cap,
                     char *key, size_t key_cap)
{
    int rc = SQLITE_DONE;

    *got = 0;
    sqlite3_bind_int(st, 6, want);
    while (*got < want && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sq_row *r = &s->page[(*got)++];
        row_to_client(st, &r->c);
        if (kind != LIST_FIELDS)
            row_to_meta(st, &r->m);
        if (*got == want) {
            /* still on the last row: it is the next page's cursor */
            if (q->sort != SORT_MAIL)
                sq_copy_col(st, 8, value, value_cap);
            snprintf(key, key_cap, "%s", r->c.mail);
            rc = SQLITE_DONE;
        }
    }
    if (rc != SQLITE_DONE)
        sq_record(s, rc);
    sqlite3_reset(st);
    return rc;
}

enum cl_err sq_list(struct store *base, const struct client_query *q, client_list_fn fn,
                    void *ctx)
{
    static const struct client_meta no_meta;
    struct sqlite_store *s = sq_of(base);
    unsigned f = filters_of(q);
    char value[CLIENT_NOMBRE_CAP > CLIENT_APELLIDOS_CAP ? CLIENT_NOMBRE_CAP : CLIENT_APELLIDOS_CAP];
    char key[CLIENT_MAIL_CAP];
    bool cursor = q->after_key != NULL;
    long long left = q->limit > 0 ? q->limit : -1; /* -1: all */
    char *pattern = NULL;
    enum cl_err e = CL_OK;
    enum list_kind kind;

    s->base.errmsg[0] = '\0';
    if ((unsigned)q->sort >= (unsigned)NSORTS ||
        (cursor && q->sort != SORT_MAIL && !q->after_value)) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg), "malformed client query");
        return CL_INVALID;
    }
    kind = kind_of(q, f);
    if (!s->page && !(s->page = malloc(SQ_PAGE_ROWS * sizeof(*s->page))))
        return CL_NOMEM;
    if ((f & F_SEARCH) && !(pattern = like_pattern(q->search)))
        return CL_NOMEM;
    if (cursor) {
        snprintf(value, sizeof(value), "%s", q->after_value ? q->after_value : "");
        snprintf(key, sizeof(key), "%s", q->after_key);
    }
    while (left != 0) {
        int want = left < 0 || left > SQ_PAGE_ROWS ? SQ_PAGE_ROWS : (int)left, got = 0, rc;
        sqlite3_stmt *st = list_stmt(s, q, f, kind, cursor);

        if (!st) {
            e = CL_STORAGE;
            break;
        }
        bind_filters(st, q, f, pattern);
        if (cursor) {
            if (q->sort != SORT_MAIL) /* the mail order's cursor is the key alone */
                sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
        }
        rc = read_page(s, st, q, kind, want, &got, value, sizeof(value), key, sizeof(key));
        sqlite3_clear_bindings(st);
        if ((e = sq_map(rc)))
            break;
        /* the statement is reset: the caller may take its time */
        for (int i = 0; i < got; i++) {
            if (fn(&s->page[i].c, kind == LIST_FIELDS ? &no_meta : &s->page[i].m, ctx)) {
                left = 0;
                break;
            }
        }
        if (got < want)
            break;
        if (left > 0)
            left -= got;
        cursor = true;
    }
    free(pattern);
    return e;
}

enum cl_err store_sqlite_plan(struct store *base, const struct client_query *q, char *out,
                              size_t len)
{
    struct sqlite_store *s = sq_of(base);
    sqlite3_stmt *st, *plan = NULL;
    char *sql;
    size_t n = 0;
    int rc;

    if (strcmp(base->ops->name, "sqlite") != 0 || (unsigned)q->sort >= (unsigned)NSORTS)
        return CL_INVALID;
    if (!(st = list_stmt(s, q, filters_of(q), kind_of(q, filters_of(q)), q->after_key != NULL)))
        return CL_STORAGE;
    if (!(sql = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sqlite3_sql(st))))
        return CL_NOMEM;
    rc = sqlite3_prepare_v2(s->db, sql, -1, &plan, NULL);
    sqlite3_free(sql);
    out[0] = '\0';
    while (rc == SQLITE_OK && sqlite3_step(plan) == SQLITE_ROW && n < len)
        n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "\n" : "",
                              (const char *)sqlite3_column_text(plan, 3));
    sqlite3_finalize(plan);
    return sq_map(rc);
}
