/* manager.c - validation in front of the store, and what must be computed
 * the same way whatever the backend: the derived keys, the times, the
 * audit rows and their "changes". */
#include "manager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fold.h"
#include "jsonw.h"

/* A change without if_version that keeps losing to concurrent changes is
 * retried on the fresh record this many times, then answered CL_BUSY. */
#define MANAGER_RETRIES 16

static enum cl_err reject(enum cl_err err, enum client_field f, const char *why,
                          struct manager_reject *rej)
{
    if (err && rej) {
        rej->field = f;
        rej->reason = why;
    }
    return err;
}

/* A new value for `f`: the field's own (current) rule. */
static enum cl_err check(enum client_field f, const char *v, struct manager_reject *rej)
{
    const char *why = NULL;
    enum cl_err err = client_validate(f, v, v ? strlen(v) : 0, &why);

    return reject(err, f, why, rej);
}

/* The mail that names a stored record: the looser key rule, so that a record
 * stored under an older, laxer mail rule can still be read, changed and
 * deleted (see client_validate_key). */
static enum cl_err check_key(const char *mail, struct manager_reject *rej)
{
    const char *why = NULL;
    enum cl_err err = client_validate_key(mail, mail ? strlen(mail) : 0, &why);

    return reject(err, CLIENT_MAIL, why, rej);
}

/* ---- keys, times ------------------------------------------------------- */

static void mail_key_of(const char *mail, char out[CLIENT_MAIL_CAP])
{
    size_t i;

    for (i = 0; mail[i] && i + 1 < CLIENT_MAIL_CAP; i++)
        out[i] = (char)(mail[i] >= 'A' && mail[i] <= 'Z' ? mail[i] - 'A' + 'a' : mail[i]);
    out[i] = '\0';
}

/* Reads 1..maxd digits of s at *i. */
static int digits(const char *s, size_t *i, int mind, int maxd, int *out)
{
    int n = 0, v = 0;

    while (s[*i] >= '0' && s[*i] <= '9' && n < maxd) {
        v = v * 10 + (s[(*i)++] - '0');
        n++;
    }
    *out = v;
    return n >= mind && !(s[*i] >= '0' && s[*i] <= '9');
}

/* The date of a record as YYYY-MM-DD, from either form the validator
 * accepts (D/M/YYYY, YYYY-MM-DD); "" for a value of neither shape, which
 * only a record stored under an older rule can hold. */
static void fecha_iso_of(const char *v, char out[11])
{
    size_t i = 0;
    int d = 0, m = 0, y = 0;
    bool ok;

    if (strlen(v) == 10 && v[4] == '-')
        ok = digits(v, &i, 4, 4, &y) && v[i++] == '-' && digits(v, &i, 2, 2, &m) &&
             v[i++] == '-' && digits(v, &i, 2, 2, &d) && v[i] == '\0';
    else
        ok = digits(v, &i, 1, 2, &d) && v[i++] == '/' && digits(v, &i, 1, 2, &m) &&
             v[i++] == '/' && digits(v, &i, 4, 4, &y) && v[i] == '\0';
    out[0] = '\0';
    if (ok && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
        char buf[32]; /* the digits() bounds make it 10 bytes; the compiler cannot tell */
        snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
        memcpy(out, buf, 11);
    }
}

void client_keys_of(const struct client *c, struct client_keys *k)
{
    mail_key_of(c->mail, k->mail_key);
    fecha_iso_of(c->fecha_nacimiento, k->fecha_iso);
    /* a stored value always fits its member, and folding never lengthens */
    fold_text(c->nombre, strnlen(c->nombre, sizeof(c->nombre) - 1), k->nombre_key);
    fold_text(c->apellidos, strnlen(c->apellidos, sizeof(c->apellidos) - 1), k->apellidos_key);
    snprintf(k->search, sizeof(k->search), "%s %s %s", k->nombre_key, k->apellidos_key,
             k->mail_key);
}

/* RFC 3339 UTC with milliseconds, at unix time t plus ms. */
static void format_time(time_t t, long ms, char out[STORE_TIME_LEN + 1])
{
    struct tm tm;
    char buf[64];

    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, ms % 1000);
    memcpy(out, buf, STORE_TIME_LEN);
    out[STORE_TIME_LEN] = '\0';
}

void manager_now(char out[STORE_TIME_LEN + 1])
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    format_time(ts.tv_sec, ts.tv_nsec / 1000000, out);
}

/* ---- the audit's changes ---------------------------------------------- */

/* The JSON object of the fields that differ between old and new (either
 * may be NULL: a create, a delete), field -> [old, new], in the field
 * table's order.  *out is NULL when nothing differs.  Returns CL_OK or
 * CL_NOMEM. */
static enum cl_err changes_of(const struct client *old, const struct client *new, char **out)
{
    struct jsonw w;
    bool any = false;

    *out = NULL;
    jsonw_init(&w);
    jsonw_open(&w, '{');
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const char *o = old ? client_get(old, (enum client_field)f) : NULL;
        const char *n = new ? client_get(new, (enum client_field)f) : NULL;
        if (o && n && strcmp(o, n) == 0)
            continue;
        any = true;
        jsonw_key(&w, client_fields[f].name);
        jsonw_open(&w, '[');
        jsonw_elem(&w);
        jsonw_str(&w, o);
        jsonw_elem(&w);
        jsonw_str(&w, n);
        jsonw_close(&w, ']');
    }
    jsonw_close(&w, '}');
    if (w.failed) {
        jsonw_free(&w);
        return CL_NOMEM;
    }
    if (any)
        *out = jsonw_finish(&w);
    else
        jsonw_free(&w);
    return CL_OK;
}

static enum cl_err absent(struct store *s, const char *mail);

/* ---- the legacy operations -------------------------------------------- */

enum cl_err manager_add(struct store *s, const struct client *c, struct manager_reject *rej)
{
    return manager_create(s, c, NULL, rej);
}

enum cl_err manager_get(struct store *s, const char *mail, struct client *out,
                        struct manager_reject *rej)
{
    return manager_get_meta(s, mail, out, NULL, rej);
}

enum cl_err manager_delete(struct store *s, const char *mail, struct manager_reject *rej)
{
    return manager_remove(s, mail, 0, rej);
}

enum cl_err manager_update(struct store *s, const char *mail, enum client_field field,
                           const char *value, struct manager_reject *rej)
{
    struct client c;
    enum cl_err err = check_key(mail, rej);

    if (err)
        return err;
    if (field == CLIENT_MAIL || (unsigned)field >= CLIENT_NFIELDS) {
        if (rej) {
            rej->field = field;
            rej->reason = "no se puede cambiar";
        }
        return CL_INVALID;
    }
    if ((err = check(field, value, rej)))
        return err;
    client_init(&c);
    /* a valid value fits its member (the caps are sized for the limits) */
    memcpy((char *)&c + client_fields[field].offset, value, strlen(value) + 1);
    return manager_change(s, mail, &c, MANAGER_FIELD(field), 0, NULL, NULL, rej);
}

enum cl_err manager_count(struct store *s, long long *n)
{
    const struct client_query all = {.sort = SORT_MAIL};

    return s->ops->count(s, &all, n);
}

struct walk_ctx {
    store_walk_fn fn;
    void *ctx;
};

static int walk_one(const struct client *c, const struct client_meta *m, void *ctx)
{
    struct walk_ctx *w = ctx;
    (void)m;
    return w->fn(c, w->ctx);
}

enum cl_err manager_walk(struct store *s, store_walk_fn fn, void *ctx)
{
    const struct client_query all = {.sort = SORT_MAIL, .fields_only = true};
    struct walk_ctx w = {fn, ctx};

    return s->ops->list(s, &all, walk_one, &w);
}

enum cl_err manager_ping(struct store *s)
{
    return s->ops->ping(s);
}

/* ---- records with their metadata ---------------------------------------- */

enum cl_err manager_get_meta(struct store *s, const char *mail, struct client *out,
                             struct client_meta *meta, struct manager_reject *rej)
{
    enum cl_err err = check_key(mail, rej);
    return err ? err : s->ops->get(s, mail, out, meta);
}

enum cl_err manager_create(struct store *s, const struct client *c, struct client_meta *meta,
                           struct manager_reject *rej)
{
    enum client_field bad = CLIENT_NFIELDS;
    const char *why = NULL;
    char now[STORE_TIME_LEN + 1], *changes;
    struct client_keys k;
    enum cl_err err = client_check(c, &bad, &why);

    if (err)
        return reject(err, bad, why, rej);
    client_keys_of(c, &k);
    manager_now(now);
    if ((err = changes_of(NULL, c, &changes)))
        return err;
    struct audit_entry a = {now, "client.create", c->mail, k.mail_key, changes};
    err = s->ops->add(s, c, &k, now, &a, meta);
    free(changes);
    return err;
}

/* Whether a change's mask is one: only the five fields, and the mail only
 * when it names the same record (it is the key and cannot change). */
static enum cl_err check_mask(const char *mail, const struct client *c, unsigned mask,
                              struct manager_reject *rej)
{
    if (mask >> CLIENT_NFIELDS) {
        if (rej) {
            rej->field = CLIENT_NFIELDS;
            rej->reason = "campo desconocido";
        }
        return CL_INVALID;
    }
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const char *v = client_get(c, (enum client_field)f);
        if (!(mask & MANAGER_FIELD(f)))
            continue;
        if (strnlen(v, client_fields[f].cap) == client_fields[f].cap)
            return reject(CL_INVALID, (enum client_field)f, "demasiado largo", rej);
        if (f == CLIENT_MAIL) {
            char a[CLIENT_MAIL_CAP], b[CLIENT_MAIL_CAP];
            mail_key_of(mail, a);
            mail_key_of(v, b);
            if (strcmp(a, b) != 0)
                return reject(CL_INVALID, CLIENT_MAIL, "no se puede cambiar", rej);
            continue;
        }
        enum cl_err err = check((enum client_field)f, v, rej);
        if (err)
            return err;
    }
    return CL_OK;
}

enum cl_err manager_change(struct store *s, const char *mail, const struct client *c,
                           unsigned mask, long long if_version, struct client *out,
                           struct client_meta *meta, struct manager_reject *rej)
{
    enum cl_err err = check_key(mail, rej);

    if (err || (err = check_mask(mail, c, mask, rej)))
        return err;
    for (int attempt = 0; attempt < MANAGER_RETRIES; attempt++) {
        struct client cur, next;
        struct client_meta m;
        struct client_keys k;
        char now[STORE_TIME_LEN + 1], *changes;

        if ((err = s->ops->get(s, mail, &cur, &m)) == CL_NOT_FOUND)
            err = absent(s, mail);
        if (err == CL_CONFLICT)
            continue;
        if (err)
            return err;
        if (if_version > 0 && m.version != if_version)
            return CL_CONFLICT;
        next = cur;
        for (int f = 0; f < CLIENT_NFIELDS; f++) {
            if (f != CLIENT_MAIL && (mask & MANAGER_FIELD(f)))
                memcpy((char *)&next + client_fields[f].offset,
                       client_get(c, (enum client_field)f), client_fields[f].cap);
        }
        client_keys_of(&next, &k);
        manager_now(now);
        if ((err = changes_of(&cur, &next, &changes)))
            return err;
        struct audit_entry a = {now, "client.update", cur.mail, k.mail_key, changes};
        err = s->ops->update(s, &next, &k, m.version, now, &a, meta);
        free(changes);
        if (err == CL_CONFLICT && if_version == 0)
            continue; /* changed since we read it: again, on the fresh record */
        if (!err && out)
            *out = next;
        return err;
    }
    snprintf(s->errmsg, sizeof(s->errmsg), "the record kept changing during %d attempts",
             MANAGER_RETRIES);
    return CL_BUSY;
}

enum cl_err manager_remove(struct store *s, const char *mail, long long if_version,
                           struct manager_reject *rej)
{
    enum cl_err err = check_key(mail, rej);

    if (err)
        return err;
    for (int attempt = 0; attempt < MANAGER_RETRIES; attempt++) {
        struct client cur;
        struct client_meta m;
        char now[STORE_TIME_LEN + 1], key[CLIENT_MAIL_CAP], *changes;

        if ((err = s->ops->get(s, mail, &cur, &m)) == CL_NOT_FOUND)
            err = absent(s, mail);
        if (err == CL_CONFLICT)
            continue;
        if (err)
            return err;
        if (if_version > 0 && m.version != if_version)
            return CL_CONFLICT;
        mail_key_of(cur.mail, key);
        manager_now(now);
        if ((err = changes_of(&cur, NULL, &changes)))
            return err;
        struct audit_entry a = {now, "client.delete", cur.mail, key, changes};
        err = s->ops->del(s, mail, m.version, &a);
        free(changes);
        if (err == CL_CONFLICT && if_version == 0)
            continue;
        return err;
    }
    snprintf(s->errmsg, sizeof(s->errmsg), "the record kept changing during %d attempts",
             MANAGER_RETRIES);
    return CL_BUSY;
}

/* A change asked of a record that is not there: still a write, so a store
 * that refuses writes (its file removed, read-only, full) says so, as it did
 * when the write came first.  A delete at version -1 matches no record and
 * writes nothing: CL_NOT_FOUND; CL_CONFLICT when the record appeared since
 * (the caller tries again); or the store's refusal. */
static enum cl_err absent(struct store *s, const char *mail)
{
    enum cl_err err = s->ops->del(s, mail, -1, NULL);
    return err == CL_OK ? CL_NOT_FOUND : err;
}

static int any_row(const struct audit_view *row, void *ctx)
{
    (void)row;
    *(bool *)ctx = true;
    return 1;
}

/* Whether the client `key` (a mail_key) has a record or an audit row. */
static enum cl_err known_client(struct store *s, const char *mail, const char *key, bool *known)
{
    struct client c;
    const struct audit_query q = {.target_key = key, .limit = 1};
    enum cl_err err = s->ops->get(s, mail, &c, NULL);

    *known = err == CL_OK;
    if (err == CL_NOT_FOUND)
        err = s->ops->audit_list(s, &q, any_row, known);
    return err;
}

enum cl_err manager_erase(struct store *s, const char *mail, struct manager_reject *rej)
{
    char key[CLIENT_MAIL_CAP], now[STORE_TIME_LEN + 1];
    bool known = false;
    enum cl_err err = check_key(mail, rej);

    if (err)
        return err;
    mail_key_of(mail, key);
    if ((err = known_client(s, mail, key, &known)))
        return err;
    if (!known)
        return CL_NOT_FOUND;
    manager_now(now);
    /* who and when only: the target would be personal data again */
    struct audit_entry a = {now, "client.erase", NULL, NULL, NULL};
    return s->ops->erase(s, key, &a);
}

/* ---- lists -------------------------------------------------------------- */

/* YYYY-MM-DD with a month and a day that can be. */
static bool iso_date(const char *v)
{
    size_t i = 0;
    int y, m, d;

    return v && strlen(v) == 10 && digits(v, &i, 4, 4, &y) && v[i++] == '-' &&
           digits(v, &i, 2, 2, &m) && v[i++] == '-' && digits(v, &i, 2, 2, &d) && m >= 1 &&
           m <= 12 && d >= 1 && d <= 31;
}

/* Checks q and makes the backend's copy of it, the search folded (*needle,
 * malloc'd, for the caller to free).  *nothing: no record can match (a
 * needle longer than any record's search text). */
static enum cl_err prepare_query(const struct client_query *q, struct client_query *out,
                                 char **needle, bool *nothing)
{
    *out = *q;
    *needle = NULL;
    *nothing = false;
    if ((unsigned)q->sort > SORT_MODIFICADO || q->limit < 0 || q->limit > 1000 ||
        (q->fecha_desde && !iso_date(q->fecha_desde)) ||
        (q->fecha_hasta && !iso_date(q->fecha_hasta)) ||
        (q->after_key && q->sort != SORT_MAIL && !q->after_value))
        return CL_INVALID;
    if (q->sort == SORT_MAIL)
        out->after_value = NULL;
    out->search = NULL;
    if (q->search && *q->search) {
        size_t len = strlen(q->search), n;
        if (!(*needle = malloc(FOLD_CAP(len))))
            return CL_NOMEM;
        n = fold_text(q->search, len, *needle);
        if (n >= sizeof(((struct client_keys *)0)->search))
            *nothing = true;
        else if (n > 0)
            out->search = *needle;
    }
    return CL_OK;
}

enum cl_err manager_list(struct store *s, const struct client_query *q, client_list_fn fn,
                         void *ctx)
{
    struct client_query bq;
    char *needle;
    bool nothing;
    enum cl_err err = prepare_query(q, &bq, &needle, &nothing);

    if (!err && !nothing)
        err = s->ops->list(s, &bq, fn, ctx);
    free(needle);
    return err;
}

enum cl_err manager_count_query(struct store *s, const struct client_query *q, long long *n)
{
    struct client_query bq;
    char *needle;
    bool nothing;
    enum cl_err err = prepare_query(q, &bq, &needle, &nothing);

    bq.after_key = bq.after_value = NULL;
    bq.limit = 0;
    if (!err && nothing)
        *n = 0;
    else if (!err)
        err = s->ops->count(s, &bq, n);
    free(needle);
    return err;
}

/* ---- the audit trail ---------------------------------------------------- */

struct history_ctx {
    audit_walk_fn fn;
    void *ctx;
    long long rows;
};

static int history_row(const struct audit_view *row, void *ctx)
{
    struct history_ctx *h = ctx;
    h->rows++;
    return h->fn(row, h->ctx);
}

enum cl_err manager_history(struct store *s, const char *mail, long long before_id, int limit,
                            audit_walk_fn fn, void *ctx)
{
    char key[CLIENT_MAIL_CAP];
    struct history_ctx h = {fn, ctx, 0};
    bool known = false;
    enum cl_err err = check_key(mail, NULL);

    if (err)
        return err;
    if (limit < 1 || limit > 1000 || before_id < 0)
        return CL_INVALID;
    mail_key_of(mail, key);
    struct audit_query q = {.target_key = key, .before_id = before_id, .limit = limit};
    if ((err = s->ops->audit_list(s, &q, history_row, &h)) || h.rows > 0)
        return err;
    /* an empty page: the end of a history, or no such client */
    if ((err = known_client(s, mail, key, &known)))
        return err;
    return known ? CL_OK : CL_NOT_FOUND;
}

enum cl_err manager_audit(struct store *s, const struct audit_query *q, audit_walk_fn fn,
                          void *ctx)
{
    if (q->limit < 1 || q->limit > 1000 || q->before_id < 0 || q->after_id < 0 ||
        (q->oldest_first && q->before_id) || (!q->oldest_first && q->after_id))
        return CL_INVALID;
    return s->ops->audit_list(s, q, fn, ctx);
}

enum cl_err manager_audit_prune(struct store *s, int days, long long *deleted)
{
    char before[STORE_TIME_LEN + 1];
    struct timespec ts;

    /* the store keeps the rows of the last day whatever is asked (its
     * append-only rule), so a day is the shortest retention */
    if (days < 1 || days > 365 * 1000)
        return CL_INVALID;
    clock_gettime(CLOCK_REALTIME, &ts);
    format_time(ts.tv_sec - (time_t)days * 86400, ts.tv_nsec / 1000000, before);
    return s->ops->audit_prune(s, before, deleted);
}

enum cl_err manager_begin(struct store *s)
{
    return s->ops->begin(s);
}

enum cl_err manager_commit(struct store *s)
{
    return s->ops->commit(s);
}

enum cl_err manager_rollback(struct store *s)
{
    return s->ops->rollback(s);
}
