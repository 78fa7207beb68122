/* transfer.c - a whole store copied into another, or through NDJSON: one
 * reader per origin (a store, a file) feeding one writer per destination
 * (a store, a file), record by record, so nothing holds the whole store. */
#include "transfer.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "manager.h"

#define FORMAT 1
#define DEFAULT_BATCH 1000
#define AUDIT_PAGE 1000
#define EXAMPLE_MAIL "ejemplo@gmail.com"

/* ------------------------------------------------------------ errors */

struct ctx {
    char *err;
    size_t errlen;
};

static enum cl_err fail(const struct ctx *x, enum cl_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum cl_err fail(const struct ctx *x, enum cl_err e, const char *fmt, ...)
{
    va_list ap;

    if (x->err && x->errlen && !x->err[0]) { /* the first failure says why */
        va_start(ap, fmt);
        vsnprintf(x->err, x->errlen, fmt, ap);
        va_end(ap);
    }
    return e;
}

static enum cl_err store_fail(const struct ctx *x, struct store *s, enum cl_err e, const char *what)
{
    const char *detail = store_errmsg(s);
    return fail(x, e, "%s: %s%s%s", what, cl_strerror(e), *detail ? ": " : "", detail);
}

/* ------------------------------------------------------------ the writers */

/* Where the records go.  Each call returns CL_OK or the error that stops
 * the transfer (its detail written through ctx). */
struct sink {
    enum cl_err (*user)(struct sink *k, const struct user *u);
    enum cl_err (*token)(struct sink *k, const struct token *t);
    enum cl_err (*client)(struct sink *k, const struct client *c, const struct client_meta *m);
    enum cl_err (*audit)(struct sink *k, const struct audit_view *a);
    struct ctx x;
    struct transfer_counts *n;
};

/* ---- into a store */

struct idmap {
    long long from, to;
};

/* An audit row kept past its callback (the target's newest). */
struct kept_audit {
    char *at, *actor, *action, *target, *changes, *request_id, *client_addr;
};

struct store_sink {
    struct sink base;
    struct store *to;
    const struct transfer_options *o;
    int batch, in_batch;
    bool in_txn;
    struct idmap *users;
    size_t nusers, capusers;
    /* The target's audit trail is not empty: the rows of the origin up to
     * (and with) the target's newest are there already. */
    bool audit_seek;
    struct kept_audit newest;
};

static struct store_sink *ss_of(struct sink *k)
{
    return (struct store_sink *)k;
}

/* Before a write: a transaction open on the target. */
static enum cl_err ss_begin(struct store_sink *s)
{
    enum cl_err e;

    if (s->in_txn)
        return CL_OK;
    if ((e = s->to->ops->begin(s->to)))
        return store_fail(&s->base.x, s->to, e, "target: begin");
    s->in_txn = true;
    s->in_batch = 0;
    return CL_OK;
}

static enum cl_err ss_commit(struct store_sink *s)
{
    enum cl_err e;

    if (!s->in_txn)
        return CL_OK;
    s->in_txn = false;
    if ((e = s->to->ops->commit(s->to)))
        return store_fail(&s->base.x, s->to, e, "target: commit");
    if (s->o && s->o->progress)
        s->o->progress(s->base.n, s->o->ctx);
    return CL_OK;
}

/* After a write: the batch committed when full. */
static enum cl_err ss_wrote(struct store_sink *s)
{
    if (++s->in_batch >= s->batch)
        return ss_commit(s);
    return CL_OK;
}

static void ss_rollback(struct store_sink *s)
{
    if (s->in_txn)
        s->to->ops->rollback(s->to);
    s->in_txn = false;
}

static long long map_user(const struct store_sink *s, long long from)
{
    for (size_t i = 0; i < s->nusers; i++)
        if (s->users[i].from == from)
            return s->users[i].to;
    return -1;
}

static enum cl_err ss_user(struct sink *k, const struct user *u)
{
    struct store_sink *s = ss_of(k);
    struct user copy = *u;
    enum cl_err e;

    if ((e = ss_begin(s)))
        return e;
    e = s->to->ops->user_add(s->to, &copy, NULL);
    if (e == CL_EXISTS) { /* there already: its id, for its tokens */
        if ((e = s->to->ops->user_get(s->to, u->name, &copy)))
            return store_fail(&k->x, s->to, e, "target: user");
        k->n->skipped++;
    } else if (e) {
        return store_fail(&k->x, s->to, e, "target: user");
    } else {
        k->n->users++;
    }
    if (s->nusers == s->capusers) {
        size_t cap = s->capusers ? s->capusers * 2 : 16;
        struct idmap *m = realloc(s->users, cap * sizeof(*m));
        if (!m)
            return fail(&k->x, CL_NOMEM, "out of memory");
        s->users = m;
        s->capusers = cap;
    }
    s->users[s->nusers++] = (struct idmap){u->id, copy.id};
    return ss_wrote(s);
}

static enum cl_err ss_token(struct sink *k, const struct token *t)
{
    struct store_sink *s = ss_of(k);
    struct token copy = *t;
    enum cl_err e;

    if (t->user_id && (copy.user_id = map_user(s, t->user_id)) < 0)
        return fail(&k->x, CL_INVALID, "token %lld belongs to user %lld, who is not in the origin",
                    t->id, t->user_id);
    if ((e = ss_begin(s)))
        return e;
    e = s->to->ops->token_add(s->to, &copy, NULL);
    if (e == CL_EXISTS)
        k->n->skipped++;
    else if (e)
        return store_fail(&k->x, s->to, e, "target: token");
    else
        k->n->tokens++;
    return ss_wrote(s);
}

static enum cl_err ss_client(struct sink *k, const struct client *c, const struct client_meta *m)
{
    struct store_sink *s = ss_of(k);
    struct client_keys keys;
    struct client_meta got;
    enum cl_err e;

    client_keys_of(c, &keys);
    if ((e = ss_begin(s)))
        return e;
    /* added as created, then changed at its modification time: both times
     * as the origin has them (a new version each: the target's own) */
    e = s->to->ops->add(s->to, c, &keys, m->creado, NULL, &got);
    if (e == CL_EXISTS) {
        k->n->skipped++;
        return ss_wrote(s);
    }
    if (!e && strcmp(m->modificado, m->creado) != 0)
        e = s->to->ops->update(s->to, c, &keys, got.version, m->modificado, NULL, NULL);
    if (e)
        return store_fail(&k->x, s->to, e, "target: client");
    k->n->clients++;
    return ss_wrote(s);
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_audit(const struct kept_audit *k, const struct audit_view *a)
{
    return same(k->at, a->at) && same(k->actor, a->actor) && same(k->action, a->action) &&
           same(k->target, a->target) && same(k->changes, a->changes) &&
           same(k->request_id, a->request_id) && same(k->client_addr, a->client_addr);
}

static enum cl_err ss_audit(struct sink *k, const struct audit_view *a)
{
    struct store_sink *s = ss_of(k);
    char key[CLIENT_MAIL_CAP] = "";
    enum cl_err e;

    if (s->audit_seek) {
        if (same_audit(&s->newest, a))
            s->audit_seek = false; /* the rows after this one are new to the target */
        k->n->skipped++;
        return CL_OK;
    }
    /* A client's rows name it by its key too (its history): the mail's
     * ASCII lower case, as the manager writes it; none once erased. */
    if (a->target && strncmp(a->action, "client.", 7) == 0 &&
        strcmp(a->action, "client.erase") != 0) {
        size_t i;
        for (i = 0; a->target[i] && i + 1 < sizeof(key); i++)
            key[i] = (char)(a->target[i] >= 'A' && a->target[i] <= 'Z' ? a->target[i] + 32
                                                                       : a->target[i]);
        key[i] = '\0';
    }
    struct audit_entry entry = {a->at, a->action, a->target, key[0] ? key : NULL, a->changes};
    struct audit_actor who = {a->actor, a->request_id, a->client_addr};
    if ((e = ss_begin(s)))
        return e;
    store_set_actor(s->to, &who);
    e = s->to->ops->audit_add(s->to, &entry);
    store_set_actor(s->to, NULL);
    if (e)
        return store_fail(&k->x, s->to, e, "target: audit row");
    k->n->audit++;
    return ss_wrote(s);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void kept_free(struct kept_audit *k)
{
    free(k->at), free(k->actor), free(k->action), free(k->target), free(k->changes);
    free(k->request_id), free(k->client_addr);
    memset(k, 0, sizeof(*k));
}

static int keep_newest(const struct audit_view *a, void *ctx)
{
    struct kept_audit *k = ctx;
    k->at = dup_or_null(a->at);
    k->actor = dup_or_null(a->actor);
    k->action = dup_or_null(a->action);
    k->target = dup_or_null(a->target);
    k->changes = dup_or_null(a->changes);
    k->request_id = dup_or_null(a->request_id);
    k->client_addr = dup_or_null(a->client_addr);
    return 1;
}

static int count_token(const struct token *t, void *ctx)
{
    (void)t;
    ++*(long long *)ctx;
    return 0;
}

/* What the target holds: refused when it has data and force is not set;
 * a new store's untouched example is removed (the origin's clients
 * replace it, the example among them when the origin kept it). */
static enum cl_err ss_prepare(struct store_sink *s)
{
    struct store *to = s->to;
    const struct ctx *x = &s->base.x;
    struct audit_query newest = {.limit = 1};
    struct client_query every = {.sort = SORT_MAIL};
    long long clients = 0, users = 0, tokens = 0;
    struct client ex;
    struct client_meta m;
    enum cl_err e;

    if ((e = to->ops->count(to, &every, &clients)) || (e = to->ops->user_count(to, &users)) ||
        (e = to->ops->token_list(to, count_token, &tokens)) ||
        (e = to->ops->audit_list(to, &newest, keep_newest, &s->newest)))
        return store_fail(x, to, e, "target");
    bool seed = clients == 1 && to->ops->get(to, EXAMPLE_MAIL, &ex, &m) == CL_OK &&
                strcmp(m.creado, m.modificado) == 0;
    bool fresh = users == 0 && tokens == 0 && !s->newest.action && (clients == 0 || seed);
    if (!fresh && !(s->o && s->o->force))
        return fail(x, CL_EXISTS,
                    "the target store holds data (%lld clients, %lld users, %lld tokens%s): "
                    "refusing to write into it without --force, which adds what it lacks",
                    clients, users, tokens, s->newest.action ? ", an audit trail" : "");
    if (fresh && seed) {
        if ((e = ss_begin(s)) || (e = to->ops->del(to, EXAMPLE_MAIL, m.version, NULL)))
            return e == CL_OK ? CL_OK : store_fail(x, to, e, "target: the new store's example");
    }
    return CL_OK;
}

static enum cl_err ss_finish(struct store_sink *s, enum cl_err e)
{
    if (!e)
        e = ss_commit(s);
    if (e)
        ss_rollback(s);
    kept_free(&s->newest);
    free(s->users);
    return e;
}

static void ss_init(struct store_sink *s, struct store *to, const struct transfer_options *o,
                    int batch, struct transfer_counts *n, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->base = (struct sink){ss_user, ss_token, ss_client, ss_audit, {err, errlen}, n};
    s->to = to;
    s->o = o;
    s->batch = batch;
}

/* ---- into a file */

struct file_sink {
    struct sink base;
    FILE *out;
};

static enum cl_err put_line(struct sink *k, struct jsonw *w)
{
    FILE *out = ((struct file_sink *)k)->out;
    char *line = jsonw_finish(w);
    enum cl_err e = CL_OK;

    if (!line)
        return fail(&k->x, CL_NOMEM, "out of memory");
    if (fputs(line, out) == EOF || fputc('\n', out) == EOF)
        e = fail(&k->x, CL_STORAGE, "cannot write the export");
    free(line);
    return e;
}

static enum cl_err fs_user(struct sink *k, const struct user *u)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_open(&w, '{');
    jsonw_member_str(&w, "type", "user");
    jsonw_member_int(&w, "id", u->id);
    jsonw_member_str(&w, "name", u->name);
    jsonw_member_str(&w, "pwhash", u->pwhash);
    jsonw_member_str(&w, "role", role_name(u->role));
    jsonw_member_bool(&w, "disabled", u->disabled);
    jsonw_member_int(&w, "fail_count", u->fail_count);
    jsonw_member_int(&w, "fail_since", u->fail_since);
    jsonw_member_str(&w, "creado", u->creado);
    jsonw_close(&w, '}');
    k->n->users++;
    return put_line(k, &w);
}

static enum cl_err fs_token(struct sink *k, const struct token *t)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_open(&w, '{');
    jsonw_member_str(&w, "type", "token");
    jsonw_member_int(&w, "id", t->id);
    jsonw_member_str(&w, "label", t->label);
    jsonw_member_str(&w, "digest", t->digest);
    jsonw_member_str(&w, "role", role_name(t->role));
    jsonw_member_int(&w, "user_id", t->user_id);
    jsonw_member_str(&w, "creado", t->creado);
    jsonw_member_int(&w, "expires", t->expires);
    jsonw_member_int(&w, "revoked", t->revoked);
    jsonw_member_int(&w, "last_used", t->last_used);
    jsonw_close(&w, '}');
    k->n->tokens++;
    return put_line(k, &w);
}

static enum cl_err fs_client(struct sink *k, const struct client *c, const struct client_meta *m)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_open(&w, '{');
    jsonw_member_str(&w, "type", "client");
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        jsonw_member_str(&w, client_fields[f].name, client_get(c, (enum client_field)f));
    jsonw_member_str(&w, "creado", m->creado);
    jsonw_member_str(&w, "modificado", m->modificado);
    jsonw_close(&w, '}');
    k->n->clients++;
    return put_line(k, &w);
}

/* An audit row as a line (the export's, and the spill file's). */
static void audit_line(struct jsonw *w, const struct audit_view *a)
{
    jsonw_init(w);
    jsonw_open(w, '{');
    jsonw_member_str(w, "type", "audit");
    jsonw_member_int(w, "id", a->id);
    jsonw_member_str(w, "at", a->at);
    jsonw_member_str(w, "actor", a->actor);
    jsonw_member_str(w, "action", a->action);
    jsonw_member_str(w, "target", a->target);
    jsonw_member_str(w, "changes", a->changes);
    jsonw_member_str(w, "request_id", a->request_id);
    jsonw_member_str(w, "client_addr", a->client_addr);
    jsonw_close(w, '}');
}

static enum cl_err fs_audit(struct sink *k, const struct audit_view *a)
{
    struct jsonw w;
    audit_line(&w, a);
    k->n->audit++;
    return put_line(k, &w);
}

/* ------------------------------------------------------------ the readers */

/* ---- from a line (import, and the audit spill file) */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jhas_str_or_null(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) || cJSON_IsNull(v);
}

static bool jint(const cJSON *o, const char *key, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble)
        return false;
    *out = (long long)v->valuedouble;
    return true;
}

static bool jbool(const cJSON *o, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

/* Copies a string member into dst (cap bytes); false when missing or too
 * long. */
static bool jcopy(const cJSON *o, const char *key, char *dst, size_t cap)
{
    const char *s = jstr(o, key);
    size_t n = s ? strlen(s) : 0;
    if (!s || n >= cap)
        return false;
    memcpy(dst, s, n + 1);
    return true;
}

static bool parse_audit(const cJSON *o, struct audit_view *a)
{
    memset(a, 0, sizeof(*a));
    a->at = jstr(o, "at");
    a->actor = jstr(o, "actor");
    a->action = jstr(o, "action");
    a->target = jstr(o, "target");
    a->changes = jstr(o, "changes");
    a->request_id = jstr(o, "request_id");
    a->client_addr = jstr(o, "client_addr");
    return jint(o, "id", &a->id) && a->at && a->actor && a->action &&
           jhas_str_or_null(o, "target") && jhas_str_or_null(o, "changes") &&
           jhas_str_or_null(o, "request_id") && jhas_str_or_null(o, "client_addr");
}

/* One line of an export into the sink.  *type gets its "type". */
static enum cl_err feed_line(struct sink *k, const char *line, long lineno, char *type,
                             size_t typecap, cJSON **keep)
{
    cJSON *o = cJSON_Parse(line);
    const char *t = o ? jstr(o, "type") : NULL;
    enum cl_err e = CL_OK;
    bool ok = true;

    *keep = o;
    if (!t)
        return fail(&k->x, CL_INVALID, "line %ld: not an object with a \"type\"", lineno);
    snprintf(type, typecap, "%s", t);
    if (strcmp(t, "user") == 0) {
        struct user u;
        const char *role = jstr(o, "role");
        memset(&u, 0, sizeof(u));
        long long fails = 0;
        ok = jint(o, "id", &u.id) && jcopy(o, "name", u.name, sizeof(u.name)) &&
             jcopy(o, "pwhash", u.pwhash, sizeof(u.pwhash)) && role &&
             role_parse(role, &u.role) == CL_OK && jbool(o, "disabled", &u.disabled) &&
             jint(o, "fail_count", &fails) && jint(o, "fail_since", &u.fail_since) &&
             jcopy(o, "creado", u.creado, sizeof(u.creado)) && fails >= 0 && fails < INT_MAX;
        u.fail_count = (int)fails;
        if (ok)
            e = k->user(k, &u);
    } else if (strcmp(t, "token") == 0) {
        struct token tk;
        const char *role = jstr(o, "role");
        memset(&tk, 0, sizeof(tk));
        ok = jint(o, "id", &tk.id) && jcopy(o, "label", tk.label, sizeof(tk.label)) &&
             jcopy(o, "digest", tk.digest, sizeof(tk.digest)) && role &&
             role_parse(role, &tk.role) == CL_OK && jint(o, "user_id", &tk.user_id) &&
             jcopy(o, "creado", tk.creado, sizeof(tk.creado)) && jint(o, "expires", &tk.expires) &&
             jint(o, "revoked", &tk.revoked) && jint(o, "last_used", &tk.last_used);
        if (ok)
            e = k->token(k, &tk);
    } else if (strcmp(t, "client") == 0) {
        struct client c;
        struct client_meta m;
        client_init(&c);
        memset(&m, 0, sizeof(m));
        for (int f = 0; ok && f < CLIENT_NFIELDS; f++)
            ok = jcopy(o, client_fields[f].name, (char *)&c + client_fields[f].offset,
                       client_fields[f].cap);
        ok = ok && jcopy(o, "creado", m.creado, sizeof(m.creado)) &&
             jcopy(o, "modificado", m.modificado, sizeof(m.modificado));
        if (ok)
            e = k->client(k, &c, &m);
    } else if (strcmp(t, "audit") == 0) {
        struct audit_view a;
        if ((ok = parse_audit(o, &a)))
            e = k->audit(k, &a);
    } else if (strcmp(t, "clientes") != 0 && strcmp(t, "end") != 0) {
        return fail(&k->x, CL_INVALID, "line %ld: unknown type \"%.32s\"", lineno, t);
    }
    if (!ok)
        return fail(&k->x, CL_INVALID, "line %ld: a %s with a missing or invalid member", lineno,
                    t);
    return e;
}

/* ---- the target's audit trail, in the origin? */

/* Whether the origin store holds the row k (the target's newest): then the
 * target's trail is a part of the origin's (an earlier copy), and only the
 * rows after it are new; otherwise every row is. */
struct finding {
    const struct kept_audit *k;
    bool found;
    long long last;
    int rows;
};

static int find_row(const struct audit_view *a, void *ctx)
{
    struct finding *f = ctx;
    f->last = a->id;
    f->rows++;
    if (same_audit(f->k, a))
        f->found = true;
    return f->found;
}

static enum cl_err store_has(struct store *from, const struct kept_audit *k, bool *found,
                             const struct ctx *x)
{
    struct finding f = {k, false, 0, 0};
    enum cl_err e;

    do {
        struct audit_query q = {.actor = k->actor,
                                .action = k->action,
                                .since = k->at,
                                .before_id = f.last,
                                .limit = AUDIT_PAGE};
        f.rows = 0;
        if ((e = from->ops->audit_list(from, &q, find_row, &f)))
            return store_fail(x, from, e, "origin: audit trail");
    } while (!f.found && f.rows == AUDIT_PAGE);
    *found = f.found;
    return CL_OK;
}

/* The same in an export (from where `in` is, which it goes back to). */
static bool file_has(FILE *in, const struct kept_audit *k, bool *found)
{
    long pos = ftell(in);
    char *line = NULL;
    size_t cap = 0;

    *found = false;
    if (pos < 0)
        return false; /* a pipe: cannot look ahead */
    while (!*found && getline(&line, &cap, in) >= 0) {
        cJSON *o = strstr(line, "\"audit\"") ? cJSON_Parse(line) : NULL;
        struct audit_view a;
        const char *t = o ? jstr(o, "type") : NULL;
        if (t && strcmp(t, "audit") == 0 && parse_audit(o, &a) && same_audit(k, &a))
            *found = true;
        cJSON_Delete(o);
    }
    free(line);
    clearerr(in);
    return fseek(in, pos, SEEK_SET) == 0;
}

/* ---- from a store */

struct walk {
    struct sink *k;
    enum cl_err e;
};

static int walk_user(const struct user *u, void *ctx)
{
    struct walk *w = ctx;
    return (w->e = w->k->user(w->k, u)) != CL_OK;
}

static int walk_token(const struct token *t, void *ctx)
{
    struct walk *w = ctx;
    return (w->e = w->k->token(w->k, t)) != CL_OK;
}

static int walk_client(const struct client *c, const struct client_meta *m, void *ctx)
{
    struct walk *w = ctx;
    return (w->e = w->k->client(w->k, c, m)) != CL_OK;
}

/* The audit trail is read newest first (the store's order); it is fed
 * oldest first, so that the target numbers it in the same order: the rows
 * are spilled to a temporary file, then read back from its end. */
struct spill {
    FILE *f;
    long *offsets;
    size_t n, cap;
    long long last_id;
    bool failed;
};

static int spill_row(const struct audit_view *a, void *ctx)
{
    struct spill *sp = ctx;
    struct jsonw w;
    char *line;

    sp->last_id = a->id;
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 1024;
        long *o = realloc(sp->offsets, cap * sizeof(*o));
        if (!o)
            return sp->failed = true;
        sp->offsets = o;
        sp->cap = cap;
    }
    sp->offsets[sp->n] = ftell(sp->f);
    audit_line(&w, a);
    if (!(line = jsonw_finish(&w)) || fputs(line, sp->f) == EOF || fputc('\n', sp->f) == EOF)
        sp->failed = true;
    free(line);
    sp->n++;
    return sp->failed;
}

static enum cl_err feed_audit(struct store *from, struct sink *k)
{
    struct spill sp = {0};
    enum cl_err e = CL_OK;
    char *line = NULL;
    size_t cap = 0;

    if (!(sp.f = tmpfile()))
        return fail(&k->x, CL_STORAGE, "cannot make a temporary file for the audit trail");
    for (;;) {
        size_t before = sp.n;
        struct audit_query q = {.before_id = sp.last_id, .limit = AUDIT_PAGE};
        if ((e = from->ops->audit_list(from, &q, spill_row, &sp))) {
            e = store_fail(&k->x, from, e, "origin: audit trail");
            break;
        }
        if (sp.failed) {
            e = fail(&k->x, CL_STORAGE, "cannot spill the audit trail to a temporary file");
            break;
        }
        if (sp.n - before < AUDIT_PAGE)
            break;
    }
    for (size_t i = sp.n; !e && i-- > 0;) {
        cJSON *o;
        struct audit_view a;
        if (fseek(sp.f, sp.offsets[i], SEEK_SET) != 0 || getline(&line, &cap, sp.f) < 0) {
            e = fail(&k->x, CL_STORAGE, "cannot read the audit trail back");
            break;
        }
        if (!(o = cJSON_Parse(line)) || !parse_audit(o, &a))
            e = fail(&k->x, CL_STORAGE, "the audit trail's temporary file is damaged");
        else
            e = k->audit(k, &a);
        cJSON_Delete(o);
    }
    free(line);
    free(sp.offsets);
    fclose(sp.f);
    return e;
}

static enum cl_err feed_store(struct store *from, struct sink *k)
{
    struct walk w = {k, CL_OK};
    struct client_query all = {.sort = SORT_MAIL};
    enum cl_err e;

    if ((e = from->ops->user_list(from, walk_user, &w)) || w.e)
        return w.e ? w.e : store_fail(&k->x, from, e, "origin: users");
    if ((e = from->ops->token_list(from, walk_token, &w)) || w.e)
        return w.e ? w.e : store_fail(&k->x, from, e, "origin: tokens");
    if ((e = from->ops->list(from, &all, walk_client, &w)) || w.e)
        return w.e ? w.e : store_fail(&k->x, from, e, "origin: clients");
    return feed_audit(from, k);
}

/* ------------------------------------------------------------ the three */

static void start(char *err, size_t errlen, struct transfer_counts *done, struct transfer_counts *n)
{
    if (err && errlen)
        err[0] = '\0';
    memset(n, 0, sizeof(*n));
    if (done)
        memset(done, 0, sizeof(*done));
}

enum cl_err transfer_copy(struct store *from, struct store *to, const struct transfer_options *o,
                          struct transfer_counts *done, char *err, size_t errlen)
{
    struct transfer_counts n;
    struct store_sink s;
    enum cl_err e;

    start(err, errlen, done, &n);
    if (from == to)
        return fail(&(struct ctx){err, errlen}, CL_INVALID, "a store cannot be copied into itself");
    ss_init(&s, to, o, o && o->batch > 0 ? o->batch : DEFAULT_BATCH, &n, err, errlen);
    e = ss_prepare(&s);
    if (!e && s.newest.action)
        e = store_has(from, &s.newest, &s.audit_seek, &s.base.x);
    if (!e)
        e = feed_store(from, &s.base);
    e = ss_finish(&s, e);
    if (done)
        *done = n;
    return e;
}

enum cl_err transfer_export(struct store *from, FILE *out, struct transfer_counts *done, char *err,
                            size_t errlen)
{
    struct transfer_counts n;
    struct file_sink f = {{fs_user, fs_token, fs_client, fs_audit, {err, errlen}, &n}, out};
    char now[STORE_TIME_LEN + 1];
    struct jsonw w;
    enum cl_err e;

    start(err, errlen, done, &n);
    manager_now(now);
    jsonw_init(&w);
    jsonw_open(&w, '{');
    jsonw_member_str(&w, "type", "clientes");
    jsonw_member_int(&w, "format", FORMAT);
    jsonw_member_str(&w, "exported", now);
    jsonw_close(&w, '}');
    e = put_line(&f.base, &w);
    if (!e)
        e = feed_store(from, &f.base);
    if (!e) {
        jsonw_init(&w);
        jsonw_open(&w, '{');
        jsonw_member_str(&w, "type", "end");
        jsonw_member_int(&w, "users", n.users);
        jsonw_member_int(&w, "tokens", n.tokens);
        jsonw_member_int(&w, "clients", n.clients);
        jsonw_member_int(&w, "audit", n.audit);
        jsonw_close(&w, '}');
        e = put_line(&f.base, &w);
    }
    if (!e && fflush(out) != 0)
        e = fail(&f.base.x, CL_STORAGE, "cannot write the export");
    if (done)
        *done = n;
    return e;
}

enum cl_err transfer_import(struct store *to, FILE *in, const struct transfer_options *o,
                            struct transfer_counts *done, char *err, size_t errlen)
{
    struct transfer_counts n, lines = {0};
    struct store_sink s;
    char *line = NULL, type[16];
    size_t cap = 0;
    long lineno = 0;
    bool ended = false;
    enum cl_err e;

    start(err, errlen, done, &n);
    ss_init(&s, to, o, INT_MAX, &n, err, errlen); /* one transaction: all or nothing */
    e = ss_prepare(&s);
    if (!e && s.newest.action && !file_has(in, &s.newest, &s.audit_seek))
        e = fail(&s.base.x, CL_INVALID,
                 "the target has an audit trail and the export comes "
                 "through a pipe: give it as a file");
    while (!e && getline(&line, &cap, in) >= 0) {
        cJSON *obj = NULL;
        lineno++;
        if (ended) {
            e = fail(&s.base.x, CL_INVALID, "line %ld: after the \"end\" line", lineno);
            break;
        }
        e = feed_line(&s.base, line, lineno, type, sizeof(type), &obj);
        if (!e && lineno == 1 && strcmp(type, "clientes") != 0)
            e = fail(&s.base.x, CL_INVALID, "line 1: not a clientes export");
        if (!e && lineno == 1) {
            long long format = 0;
            if (!jint(obj, "format", &format) || format != FORMAT)
                e = fail(&s.base.x, CL_INVALID, "line 1: export format %lld, not %d", format,
                         FORMAT);
        }
        if (!e && strcmp(type, "user") == 0)
            lines.users++;
        else if (!e && strcmp(type, "token") == 0)
            lines.tokens++;
        else if (!e && strcmp(type, "client") == 0)
            lines.clients++;
        else if (!e && strcmp(type, "audit") == 0)
            lines.audit++;
        else if (!e && strcmp(type, "end") == 0) {
            long long u, t, c, a;
            ended = true;
            if (!jint(obj, "users", &u) || !jint(obj, "tokens", &t) || !jint(obj, "clients", &c) ||
                !jint(obj, "audit", &a) || u != lines.users || t != lines.tokens ||
                c != lines.clients || a != lines.audit)
                e = fail(&s.base.x, CL_INVALID,
                         "line %ld: the counts of the \"end\" line are "
                         "not those of the file",
                         lineno);
        }
        cJSON_Delete(obj);
    }
    free(line);
    if (!e && ferror(in))
        e = fail(&s.base.x, CL_STORAGE, "cannot read the export");
    if (!e && !ended)
        e = fail(&s.base.x, CL_INVALID,
                 "the export ends at line %ld without its \"end\" line: "
                 "cut short? nothing imported",
                 lineno);
    e = ss_finish(&s, e);
    if (done)
        *done = n;
    return e;
}
