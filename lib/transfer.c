/* transfer.c - a whole store as NDJSON lines, and back (see transfer.h). */
#include "transfer.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "manager.h"

/* ---- export ------------------------------------------------------------- */

struct exporter {
    struct store *s;
    transfer_write_fn fn;
    void *ctx;
    struct transfer_counts n;
    bool failed;   /* fn refused a line */
    bool oom;
    struct jsonw w;
};

/* Sends the line built in x->w (a "\n" added); returns non-zero to stop. */
static int emit(struct exporter *x)
{
    char *line;

    jsonw_raw(&x->w, "\n", 1);
    if (x->w.failed) {
        jsonw_free(&x->w);
        x->oom = true;
        return 1;
    }
    line = x->w.buf;
    if (x->fn(x->ctx, line, x->w.len) != 0)
        x->failed = true;
    x->w.len = 0; /* the buffer is kept for the next line */
    x->w.comma = false;
    return x->failed;
}

static int export_client(const struct client *c, const struct client_meta *m, void *ctx)
{
    struct exporter *x = ctx;

    jsonw_open(&x->w, '{');
    jsonw_member_str(&x->w, "type", "client");
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        jsonw_member_str(&x->w, client_fields[f].name, client_get(c, (enum client_field)f));
    jsonw_member_str(&x->w, "creado", m->creado);
    jsonw_member_str(&x->w, "modificado", m->modificado);
    jsonw_close(&x->w, '}');
    x->n.clients++;
    return emit(x);
}

static int export_user(const struct user *u, void *ctx)
{
    struct exporter *x = ctx;

    jsonw_open(&x->w, '{');
    jsonw_member_str(&x->w, "type", "user");
    jsonw_member_str(&x->w, "name", u->name);
    jsonw_member_str(&x->w, "pwhash", u->pwhash);
    jsonw_member_str(&x->w, "role", role_name(u->role));
    jsonw_member_bool(&x->w, "disabled", u->disabled);
    jsonw_member_str(&x->w, "creado", u->creado);
    jsonw_close(&x->w, '}');
    x->n.users++;
    return emit(x);
}

static int export_token(const struct token *t, void *ctx)
{
    struct exporter *x = ctx;

    jsonw_open(&x->w, '{');
    jsonw_member_str(&x->w, "type", "token");
    jsonw_member_str(&x->w, "label", t->label);
    jsonw_member_str(&x->w, "digest", t->digest);
    jsonw_member_str(&x->w, "role", role_name(t->role));
    jsonw_member_str(&x->w, "owner", t->user_id ? t->owner : NULL);
    jsonw_member_str(&x->w, "creado", t->creado);
    jsonw_member_int(&x->w, "expires", t->expires);
    jsonw_member_int(&x->w, "revoked", t->revoked);
    jsonw_member_int(&x->w, "last_used", t->last_used);
    jsonw_close(&x->w, '}');
    x->n.tokens++;
    return emit(x);
}

struct audit_page {
    struct exporter *x;
    long long last_id;
    int rows;
};

static int export_audit(const struct audit_view *v, void *ctx)
{
    struct audit_page *p = ctx;
    struct exporter *x = p->x;

    p->rows++;
    p->last_id = v->id;
    jsonw_open(&x->w, '{');
    jsonw_member_str(&x->w, "type", "audit");
    jsonw_member_str(&x->w, "at", v->at);
    jsonw_member_str(&x->w, "actor", v->actor);
    jsonw_member_str(&x->w, "action", v->action);
    jsonw_member_str(&x->w, "target", v->target);
    jsonw_key(&x->w, "changes");
    if (v->changes) /* a JSON object already, made by the manager */
        jsonw_raw(&x->w, v->changes, strlen(v->changes));
    else
        jsonw_raw(&x->w, "null", 4);
    jsonw_member_str(&x->w, "request_id", v->request_id);
    jsonw_member_str(&x->w, "client_addr", v->client_addr);
    jsonw_close(&x->w, '}');
    x->n.audit++;
    return emit(x);
}

/* The result of a step of the export: the store's, or the stop's. */
static enum cl_err stopped(struct exporter *x, enum cl_err e)
{
    if (x->oom)
        return CL_NOMEM;
    if (x->failed) {
        snprintf(x->s->errmsg, sizeof(x->s->errmsg), "export: the output refused a line");
        return CL_STORAGE;
    }
    return e;
}

enum cl_err transfer_export(struct store *s, transfer_write_fn fn, void *ctx,
                            struct transfer_counts *n)
{
    struct exporter x = {.s = s, .fn = fn, .ctx = ctx};
    const struct client_query all = {.sort = SORT_MAIL};
    struct audit_query aq = {.oldest_first = true, .limit = 1000};
    enum cl_err e;

    jsonw_init(&x.w);
    jsonw_open(&x.w, '{');
    jsonw_member_str(&x.w, "type", "header");
    jsonw_member_str(&x.w, "format", TRANSFER_FORMAT);
    jsonw_member_int(&x.w, "version", TRANSFER_VERSION);
    jsonw_close(&x.w, '}');
    emit(&x);
    if (!(e = stopped(&x, CL_OK)))
        e = stopped(&x, manager_list(s, &all, export_client, &x));
    if (!e)
        e = stopped(&x, s->ops->user_list(s, export_user, &x));
    if (!e)
        e = stopped(&x, s->ops->token_list(s, export_token, &x));
    while (!e) {
        struct audit_page p = {&x, 0, 0};
        e = stopped(&x, manager_audit(s, &aq, export_audit, &p));
        if (e || p.rows < aq.limit)
            break;
        aq.after_id = p.last_id;
    }
    jsonw_free(&x.w);
    if (n)
        *n = x.n;
    return e;
}

/* ---- import ------------------------------------------------------------- */

struct transfer_import {
    struct store *s;
    enum transfer_mode mode;
    bool header;     /* the header line came */
    bool skip_audit; /* MERGE into a store with a trail of its own */
    struct audit_actor saved;
    struct transfer_counts n;
};

static int any_audit(const struct audit_view *v, void *ctx)
{
    (void)v;
    *(bool *)ctx = true;
    return 1;
}

static int any_token(const struct token *t, void *ctx)
{
    (void)t;
    *(bool *)ctx = true;
    return 1;
}

/* Whether s holds nothing but what a new store is seeded with; *example
 * is then the example's version when it is there, untouched (0 if not). */
static enum cl_err new_store(struct store *s, bool *fresh, long long *example)
{
    const struct audit_query q = {.limit = 1};
    struct client c;
    struct client_meta m;
    long long clients = 0, users = 0;
    bool trail = false, tokens = false;
    enum cl_err e;

    *fresh = false;
    *example = 0;
    if ((e = s->ops->user_count(s, &users)) || (e = s->ops->audit_list(s, &q, any_audit, &trail)) ||
        (e = s->ops->token_list(s, any_token, &tokens)) || (e = manager_count(s, &clients)))
        return e;
    if (users || trail || tokens || clients > 1)
        return CL_OK;
    if (clients == 1) {
        static const char *const seed[CLIENT_NFIELDS] = {
            [CLIENT_NOMBRE] = "Jesus", [CLIENT_APELLIDOS] = "Mesa Gonzalez",
            [CLIENT_MAIL] = "ejemplo@gmail.com", [CLIENT_FECHA_NACIMIENTO] = "29/06/1996",
            [CLIENT_DIRECCION] = "Calle Paseo Moreras 39"};
        if ((e = s->ops->get(s, seed[CLIENT_MAIL], &c, &m)) == CL_NOT_FOUND)
            return CL_OK;
        if (e)
            return e;
        for (int f = 0; f < CLIENT_NFIELDS; f++)
            if (strcmp(client_get(&c, (enum client_field)f), seed[f]) != 0)
                return CL_OK;
        *example = m.version;
    }
    *fresh = true;
    return CL_OK;
}

enum cl_err transfer_import_begin(struct store *s, enum transfer_mode mode,
                                  struct transfer_import **out)
{
    struct transfer_import *im;
    long long example = 0;
    bool fresh = false, trail = false;
    const struct audit_query q = {.limit = 1};
    enum cl_err e;

    *out = NULL;
    if (!(im = calloc(1, sizeof(*im))))
        return CL_NOMEM;
    im->s = s;
    im->mode = mode;
    im->saved = s->actor;
    if ((e = manager_begin(s))) {
        free(im);
        return e;
    }
    /* inside the transaction: nobody fills the store between check and import */
    if (mode == TRANSFER_INTO_EMPTY) {
        e = new_store(s, &fresh, &example);
        if (!e && !fresh) {
            snprintf(s->errmsg, sizeof(s->errmsg),
                     "import: the target store is not new (it has users, tokens, an audit "
                     "trail or clients)");
            e = CL_EXISTS;
        }
        if (!e && example) /* the seed gives way: no audit row, it was never data */
            e = s->ops->del(s, "ejemplo@gmail.com", example, NULL);
    } else {
        e = s->ops->audit_list(s, &q, any_audit, &trail);
        im->skip_audit = trail;
    }
    if (e) {
        manager_rollback(s);
        free(im);
        return e;
    }
    *out = im;
    return CL_OK;
}

/* The string member `name` of o, or NULL when absent or null; *bad set when
 * present with another type or longer than cap - 1 bytes. */
static const char *str(const cJSON *o, const char *name, size_t cap, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap) {
        *bad = true;
        return NULL;
    }
    return v->valuestring;
}

/* The integer member `name` (0 when absent); *bad for another type. */
static long long num(const cJSON *o, const char *name, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9.0e15) {
        *bad = true;
        return 0;
    }
    return (long long)v->valuedouble;
}

static bool is_time(const char *t)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

    if (!t || strlen(t) != STORE_TIME_LEN)
        return false;
    for (int i = 0; i < STORE_TIME_LEN; i++)
        if (shape[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != shape[i])
            return false;
    return true;
}

static enum cl_err import_header(struct transfer_import *im, const cJSON *o, const char **why)
{
    bool bad = false;
    const char *format = str(o, "format", 64, &bad);
    long long version = num(o, "version", &bad);

    if (bad || !format || strcmp(format, TRANSFER_FORMAT) != 0) {
        *why = "the header names another format";
        return CL_INVALID;
    }
    if (version != TRANSFER_VERSION) {
        *why = version > TRANSFER_VERSION ? "the lines are of a newer format version"
                                          : "unknown format version";
        return CL_INVALID;
    }
    im->header = true;
    return CL_OK;
}

static enum cl_err import_client(struct transfer_import *im, const cJSON *o, const char **why)
{
    struct store *s = im->s;
    struct client c, cur;
    struct client_keys k;
    struct client_meta m;
    char now[STORE_TIME_LEN + 1];
    const char *creado, *modificado;
    bool bad = false, same = true;
    enum cl_err e;

    client_init(&c);
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const char *v = str(o, client_fields[f].name, client_fields[f].cap, &bad);
        if (!v && !bad) {
            *why = "a client line lacks a field";
            return CL_INVALID;
        }
        if (v)
            memcpy((char *)&c + client_fields[f].offset, v, strlen(v) + 1);
    }
    creado = str(o, "creado", STORE_TIME_LEN + 1, &bad);
    modificado = str(o, "modificado", STORE_TIME_LEN + 1, &bad);
    if (bad || (creado && !is_time(creado)) || (modificado && !is_time(modificado))) {
        *why = "a client line has a value of the wrong type, length or shape";
        return CL_INVALID;
    }
    /* the looser key rule: a record stored before today's mail rule moves too */
    if (client_validate_key(c.mail, strlen(c.mail), NULL) != CL_OK) {
        *why = "a client line's mail cannot be a key";
        return CL_INVALID;
    }
    manager_now(now);
    if (!creado)
        creado = now;
    if (!modificado)
        modificado = creado;
    client_keys_of(&c, &k);
    e = s->ops->add(s, &c, &k, creado, NULL, &m);
    if (e == CL_EXISTS && im->mode == TRANSFER_INTO_EMPTY) {
        *why = "two client lines have the same mail";
        return CL_INVALID;
    }
    if (e == CL_EXISTS) { /* MERGE: the line's values win */
        if ((e = s->ops->get(s, c.mail, &cur, &m)))
            return e;
        for (int f = 0; f < CLIENT_NFIELDS; f++)
            if (f != CLIENT_MAIL &&
                strcmp(client_get(&cur, (enum client_field)f), client_get(&c, (enum client_field)f)))
                same = false;
        if (same && strcmp(m.modificado, modificado) == 0) {
            im->n.unchanged++;
            return CL_OK;
        }
        snprintf(c.mail, sizeof(c.mail), "%s", cur.mail); /* the key as stored */
        if ((e = s->ops->update(s, &c, &k, m.version, modificado, NULL, &m)))
            return e;
        im->n.clients++;
        return CL_OK;
    }
    if (e)
        return e;
    /* the modification time too: one more (unaudited) write */
    if (strcmp(modificado, creado) != 0 &&
        (e = s->ops->update(s, &c, &k, m.version, modificado, NULL, &m)))
        return e;
    im->n.clients++;
    return CL_OK;
}

static enum cl_err import_user(struct transfer_import *im, const cJSON *o, const char **why)
{
    struct user u;
    bool bad = false;
    const char *name = str(o, "name", sizeof(u.name), &bad);
    const char *pwhash = str(o, "pwhash", sizeof(u.pwhash), &bad);
    const char *role = str(o, "role", 16, &bad);
    const char *creado = str(o, "creado", sizeof(u.creado), &bad);
    const cJSON *disabled = cJSON_GetObjectItemCaseSensitive(o, "disabled");
    enum cl_err e;

    memset(&u, 0, sizeof(u));
    if (bad || !name || !*name || !pwhash || !role || role_parse(role, &u.role) != CL_OK ||
        (creado && !is_time(creado)) || (disabled && !cJSON_IsBool(disabled))) {
        *why = "a user line lacks a value, or has one of the wrong type or shape";
        return CL_INVALID;
    }
    snprintf(u.name, sizeof(u.name), "%s", name);
    snprintf(u.pwhash, sizeof(u.pwhash), "%s", pwhash);
    snprintf(u.creado, sizeof(u.creado), "%s", creado ? creado : "");
    u.disabled = cJSON_IsTrue(disabled);
    e = im->s->ops->user_add(im->s, &u, NULL);
    if (e == CL_EXISTS && im->mode == TRANSFER_MERGE) {
        im->n.unchanged++;
        return CL_OK;
    }
    if (e == CL_EXISTS) {
        *why = "two user lines have the same name";
        return CL_INVALID;
    }
    if (!e)
        im->n.users++;
    return e;
}

static enum cl_err import_token(struct transfer_import *im, const cJSON *o, const char **why)
{
    struct token t;
    struct user owner;
    bool bad = false;
    const char *label = str(o, "label", sizeof(t.label), &bad);
    const char *digest = str(o, "digest", sizeof(t.digest), &bad);
    const char *role = str(o, "role", 16, &bad);
    const char *name = str(o, "owner", sizeof(owner.name), &bad);
    const char *creado = str(o, "creado", sizeof(t.creado), &bad);
    enum cl_err e;

    memset(&t, 0, sizeof(t));
    t.expires = num(o, "expires", &bad);
    t.revoked = num(o, "revoked", &bad);
    t.last_used = num(o, "last_used", &bad);
    if (bad || !label || !digest || strlen(digest) != SECRET_DIGEST_LEN || !role ||
        role_parse(role, &t.role) != CL_OK || (creado && !is_time(creado))) {
        *why = "a token line lacks a value, or has one of the wrong type or shape";
        return CL_INVALID;
    }
    if (name) { /* owners by name: user ids are the target's own */
        if ((e = im->s->ops->user_get(im->s, name, &owner)) == CL_NOT_FOUND) {
            *why = "a token line names an owner no user line came for";
            return CL_INVALID;
        }
        if (e)
            return e;
        t.user_id = owner.id;
    }
    snprintf(t.label, sizeof(t.label), "%s", label);
    snprintf(t.digest, sizeof(t.digest), "%s", digest);
    snprintf(t.creado, sizeof(t.creado), "%s", creado ? creado : "");
    e = im->s->ops->token_add(im->s, &t, NULL);
    if (e == CL_EXISTS && im->mode == TRANSFER_MERGE) {
        im->n.unchanged++;
        return CL_OK;
    }
    if (e == CL_EXISTS) {
        *why = "two token lines have the same digest";
        return CL_INVALID;
    }
    if (!e)
        im->n.tokens++;
    return e;
}

static enum cl_err import_audit(struct transfer_import *im, const cJSON *o, const char **why)
{
    struct store *s = im->s;
    bool bad = false;
    const char *at = str(o, "at", STORE_TIME_LEN + 1, &bad);
    const char *actor = str(o, "actor", 256, &bad);
    const char *action = str(o, "action", 64, &bad);
    const char *target = str(o, "target", 1024, &bad);
    const char *request_id = str(o, "request_id", 256, &bad);
    const char *client_addr = str(o, "client_addr", 256, &bad);
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(o, "changes");
    char key[CLIENT_MAIL_CAP], *text = NULL;
    const char *target_key = NULL;
    enum cl_err e;

    if (bad || !is_time(at) || !actor || !action || (changes && !cJSON_IsNull(changes) &&
                                                      !cJSON_IsObject(changes))) {
        *why = "an audit line lacks a value, or has one of the wrong type or shape";
        return CL_INVALID;
    }
    if (im->skip_audit) {
        im->n.unchanged++;
        return CL_OK;
    }
    /* a client's rows carry its key, for its history (see manager.c) */
    if (target && strncmp(action, "client.", 7) == 0) {
        size_t i;
        for (i = 0; target[i] && i + 1 < sizeof(key); i++)
            key[i] = (char)(target[i] >= 'A' && target[i] <= 'Z' ? target[i] + 32 : target[i]);
        key[i] = '\0';
        target_key = key;
    }
    if (cJSON_IsObject(changes) && !(text = cJSON_PrintUnformatted(changes)))
        return CL_NOMEM;
    const struct audit_actor who = {actor, request_id, client_addr};
    const struct audit_entry a = {at, action, target, target_key, text};
    store_set_actor(s, &who);
    e = s->ops->audit_add(s, &a);
    s->actor = im->saved;
    cJSON_free(text);
    if (!e)
        im->n.audit++;
    return e;
}

enum cl_err transfer_import_line(struct transfer_import *im, const char *line, size_t len,
                                 const char **why)
{
    const char *end = NULL, *type;
    cJSON *o;
    enum cl_err e;
    bool bad = false;
    static const char *ignore;

    if (!why)
        why = &ignore;
    *why = NULL;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len == 0)
        return CL_OK;
    o = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (!o || !cJSON_IsObject(o) || end != line + len) {
        cJSON_Delete(o);
        *why = "a line is not one JSON object";
        return CL_INVALID;
    }
    type = str(o, "type", 16, &bad);
    if (!type) {
        e = CL_INVALID;
        *why = "a line has no type";
    } else if (!im->header) {
        e = strcmp(type, "header") == 0 ? import_header(im, o, why) : CL_INVALID;
        if (!*why && e)
            *why = "the first line is not the header";
    } else if (strcmp(type, "client") == 0) {
        e = import_client(im, o, why);
    } else if (strcmp(type, "user") == 0) {
        e = import_user(im, o, why);
    } else if (strcmp(type, "token") == 0) {
        e = import_token(im, o, why);
    } else if (strcmp(type, "audit") == 0) {
        e = import_audit(im, o, why);
    } else {
        e = CL_INVALID;
        *why = strcmp(type, "header") == 0 ? "a second header" : "a line of an unknown type";
    }
    cJSON_Delete(o);
    return e;
}

enum cl_err transfer_import_end(struct transfer_import *im, bool commit,
                                struct transfer_counts *n)
{
    struct store *s = im->s;
    enum cl_err e;

    s->actor = im->saved;
    if (commit && !im->header) {
        snprintf(s->errmsg, sizeof(s->errmsg), "import: no header line: nothing stored");
        manager_rollback(s);
        e = CL_INVALID;
    } else if (commit) {
        e = manager_commit(s);
    } else {
        e = manager_rollback(s);
    }
    if (n) {
        *n = im->n;
        if (!commit || e)
            memset(n, 0, sizeof(*n));
    }
    free(im);
    return e;
}

/* ---- copy --------------------------------------------------------------- */

struct copier {
    struct transfer_import *im;
    enum cl_err err;
    const char *why;
};

static int copy_line(void *ctx, const char *line, size_t len)
{
    struct copier *c = ctx;

    c->err = transfer_import_line(c->im, line, len, &c->why);
    return c->err != CL_OK;
}

enum cl_err transfer_copy(struct store *from, struct store *to, enum transfer_mode mode,
                          struct transfer_counts *n, const char **why)
{
    struct copier c = {NULL, CL_OK, NULL};
    enum cl_err e;

    if (why)
        *why = NULL;
    if ((e = transfer_import_begin(to, mode, &c.im)))
        return e;
    e = transfer_export(from, copy_line, &c, NULL);
    if (c.err) /* the import refused: its error, not the export's "output failed" */
        e = c.err;
    if (why)
        *why = c.why;
    if (e) {
        transfer_import_end(c.im, false, n);
        return e;
    }
    return transfer_import_end(c.im, true, n);
}
