/* fuzz_request.c - libFuzzer harness for a whole request: the FastCGI
 * environment is faked from the input, route_dispatch() serves it over a real
 * SQLite store in a temporary directory, and the response (captured through
 * an http_write_fn) and the store are checked.
 *
 * Input layout:
 *   byte 0   bits 0-2: REQUEST_METHOD (GET HEAD POST PUT DELETE get PATCH none)
 *            bit 3: store (0 = the seeded one, 1 = an empty one)
 *            bits 4-5: n > 0: the peer goes away after n writes (the first
 *            is the status line and headers), so later writes fail
 *   then     DOCUMENT_URI \n QUERY_STRING \n CONTENT_TYPE \n X-Request-Id \n body
 *            (fields missing at the end are absent, i.e. NULL; the body is
 *            everything after the fourth newline, NULs included)
 *
 * FUZZ_TRACE=1 in the environment prints one line per request.
 *
 * Every change a request makes is checked and then undone, so each input
 * starts from the same store: runs are reproducible and the store stays tiny. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgi_capture.h"
#include "client.h"
#include "fuzz.h"
#include "http.h"
#include "manager.h"
#include "route.h"
#include "store.h"

#define MAX_SNAPSHOT 16

static const char *const methods[8] = {"GET", "HEAD", "POST", "PUT", "DELETE", "get", "PATCH",
                                       NULL};

/* The seeded store holds the example client plus these. */
static const char *const seed_clients[][CLIENT_NFIELDS] = {
    {"Ana", "L\xc3\xb3" "pez D\xc3\xad" "az", "ana@x.es", "8/09/1978", "Calle Mayor 1"},
    {"O'Brien", "\"Quoted\" \\ Name", "Mixed.Case@Example.COM", "2000-02-29",
     "Pza. Espa\xc3\xb1" "a 5, 3\xc2\xba izq."},
};

struct fstore {
    struct store *s;
    struct client snap[MAX_SNAPSHOT];
    int nsnap;
};

static char dir[512];
static char db_path[2][600];
static struct fstore stores[2];

static struct http_request req, pre; /* ~33 KB each: static, reset per run */
static int trace; /* FUZZ_TRACE=1: one line per request on stderr */

/* ------------------------------------------------------------ the store */

struct walk_ctx {
    struct client *c;
    int n;
};

static int collect(const struct client *c, void *ctx)
{
    struct walk_ctx *w = ctx;

    FUZZ_CHECK(w->n < MAX_SNAPSHOT, "store grew past %d clients", MAX_SNAPSHOT);
    memcpy(&w->c[w->n++], c, sizeof(*c));
    return 0;
}

static int list(struct store *s, struct client *c)
{
    struct walk_ctx w = {c, 0};

    FUZZ_CHECK(manager_walk(s, collect, &w) == CL_OK, "walk: %s", store_errmsg(s));
    return w.n;
}

static void cleanup(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[700];

    for (int i = 0; i < 2; i++) {
        store_close(stores[i].s);
        stores[i].s = NULL;
        for (size_t k = 0; k < sizeof(suffix) / sizeof(suffix[0]); k++) {
            if (snprintf(p, sizeof(p), "%.600s%s", db_path[i], suffix[k]) < (int)sizeof(p))
                unlink(p);
        }
    }
    if (dir[0])
        rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    char url[800], err[512] = "";

    (void)argc;
    (void)argv;
    trace = getenv("FUZZ_TRACE") != NULL;
    if (snprintf(dir, sizeof(dir), "%s/clientes-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
            (int)sizeof(dir) ||
        !mkdtemp(dir)) {
        perror(dir);
        exit(1);
    }
    atexit(cleanup);
    for (int i = 0; i < 2; i++) {
        snprintf(db_path[i], sizeof(db_path[i]), "%s/%s.db", dir, i ? "empty" : "seeded");
        snprintf(url, sizeof(url), "sqlite://%.600s?busy_timeout=100", db_path[i]);
        if (store_open(url, &stores[i].s, err, sizeof(err)) != CL_OK) {
            fprintf(stderr, "fuzz_request: store_open(%s): %s\n", url, err);
            exit(1);
        }
    }
    for (size_t k = 0; k < sizeof(seed_clients) / sizeof(seed_clients[0]); k++) {
        struct client c;
        client_init(&c);
        for (int f = 0; f < CLIENT_NFIELDS; f++)
            FUZZ_CHECK(client_set(&c, (enum client_field)f, seed_clients[k][f],
                                  strlen(seed_clients[k][f]), NULL) == CL_OK,
                       "seed %zu field %d", k, f);
        FUZZ_CHECK(manager_add(stores[0].s, &c, NULL) == CL_OK, "seed %zu", k);
    }
    FUZZ_CHECK(manager_delete(stores[1].s, "ejemplo@gmail.com", NULL) == CL_OK, "empty store");
    for (int i = 0; i < 2; i++)
        stores[i].nsnap = list(stores[i].s, stores[i].snap);
    return 0;
}

/* -------------------------------------------------------- input -> request */

/* A NUL-terminated copy of p[0..n) in a buffer of exactly n + 1 bytes. */
static char *dup_field(const char *p, size_t n)
{
    char *s = malloc(n + 1);

    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void fill(struct http_request *r, const char *method, char *const fields[4],
                 const char *body, size_t body_len)
{
    memset(r, 0, sizeof(*r));
    r->method_name = method;
    r->method = http_method_parse(method);
    r->path = fields[0];
    r->query = fields[1];
    r->content_type = fields[2];
    r->body = body;
    r->body_len = body_len;
    http_set_request_id(r, fields[3]);
    if (!r->request_id[0])
        snprintf(r->request_id, sizeof(r->request_id), "fuzz");
}

/* ------------------------------------------------------------- the checks */

/* The value of header `name` (case-insensitive) in head[0..hlen) into val
 * (when it fits cap); returns how many times it occurs. */
static int header(const char *head, size_t hlen, const char *name, char *val, size_t cap)
{
    const char *v = NULL;
    size_t vlen = 0;
    int found = cgi_find_header(head, hlen, name, &v, &vlen);

    FUZZ_CHECK(found >= 0, "header line without CRLF");
    if (found && val && vlen < cap) {
        memcpy(val, v, vlen);
        val[vlen] = '\0';
    }
    return found;
}

static int method_allowed(const char *allow, const char *method)
{
    size_t n = method ? strlen(method) : 0;

    for (const char *p = allow; n && p && *p; p = strchr(p, ','), p = p ? p + 1 : NULL) {
        while (*p == ' ')
            p++;
        if (strncmp(p, method, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    FUZZ_CHECK(cJSON_IsString(v) && v->valuestring, "key '%s' missing or not a string", key);
    return v->valuestring;
}

/* `o` is {"<mail>":{...}} for record `c` with wire (legacy=0) or
 * capitalised (legacy=1) keys. */
static void check_record(const cJSON *item, const struct client *c, int legacy)
{
    FUZZ_CHECK(cJSON_IsObject(item) && item->string && strcmp(item->string, c->mail) == 0,
               "record key is not the mail '%s'", c->mail);
    FUZZ_CHECK(cJSON_GetArraySize(item) == CLIENT_NFIELDS, "record with %d keys",
               cJSON_GetArraySize(item));
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const struct client_field_desc *d = &client_fields[f];
        const char *v = json_str(item, legacy ? d->legacy_name : d->name);
        FUZZ_CHECK(strcmp(v, client_get(c, d->field)) == 0, "field %s differs", d->name);
    }
}

static int same_client(const struct client *a, const struct client *b)
{
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        if (strcmp(client_get(a, (enum client_field)f), client_get(b, (enum client_field)f)))
            return 0;
    return 1;
}

static const struct client_field_desc *setter_field(const char *path)
{
    static const char *const setters[][2] = {{"/setNombre", "nombre"},
                                             {"/setApellidos", "apellidos"},
                                             {"/setFechaNacimiento", "fecha_nacimiento"},
                                             {"/setDireccion", "direccion"}};
    for (size_t i = 0; path && i < sizeof(setters) / sizeof(setters[0]); i++)
        if (strcmp(path, setters[i][0]) == 0)
            return client_field_by_name(setters[i][1], strlen(setters[i][1]));
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *fields[4] = {NULL, NULL, NULL, NULL}, *body;
    const char *p, *end, *method, *path, *allow = NULL, *mail = NULL;
    struct fstore *fs;
    struct http_response res;
    struct http_error perr;
    struct cgi_out o;
    struct client before, after, now[MAX_SNAPSHOT];
    enum cl_err found;
    size_t body_len = 0, hlen = 0, blen = 0;
    const char *rbody = NULL;
    int st, pst, nnow, head, known, allowed;
    char val[256];

    if (size == 0)
        return 0;
    method = methods[data[0] & 7];
    fs = &stores[(data[0] >> 3) & 1];
    cgi_out_init(&o);
    if (data[0] & 0x30)
        o.fail_from = (data[0] >> 4) & 3;
    p = (const char *)data + 1;
    end = (const char *)data + size;
    for (int i = 0; i < 4 && p; i++) { /* p == NULL: no more fields */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        fields[i] = dup_field(p, (size_t)((nl ? nl : end) - p));
        p = nl ? nl + 1 : NULL;
    }
    if (p)
        body_len = (size_t)(end - p);
    body = malloc(body_len ? body_len : 1); /* exact size: overreads are caught */
    if (!body)
        abort();
    if (body_len)
        memcpy(body, p, body_len);

    /* What the request should do, decided with the same decoder beforehand. */
    fill(&pre, method, fields, body, body_len);
    path = pre.path;
    known = route_allowed(path, &allow);
    allowed = known && pre.method != HTTP_OTHER && method_allowed(allow, method);
    pst = http_parse_params(&pre, &perr);
    if (pst == 0)
        mail = http_param(&pre, "mail", NULL);
    client_init(&before);
    found = mail ? manager_get(fs->s, mail, &before, NULL) : CL_INVALID;
    FUZZ_CHECK(found == CL_OK || found == CL_NOT_FOUND || found == CL_INVALID, "get: %d",
               (int)found);

    /* The request itself. */
    fill(&req, method, fields, body, body_len);
    head = req.method == HTTP_HEAD;
    http_response_init(&res, cgi_out_write, &o, head);
    st = route_dispatch(fs->s, &req, &res);

    if (trace)
        fprintf(stderr, "fuzz_request: %s %s ? %s -> %d\n", method ? method : "-",
                path ? path : "-", pre.query ? pre.query : "-", st);

    /* ---- the response */
    FUZZ_CHECK(res.started && st == res.status, "returned %d, sent %d", st, res.status);
    FUZZ_CHECK(st >= 200 && st <= 599 && (st < 500 || st == 503), "status %d", st);
    FUZZ_CHECK(o.len > 12 && memcmp(o.data, "Status: ", 8) == 0 && o.data[8] >= '1' &&
                   o.data[8] <= '5' && o.data[9] >= '0' && o.data[9] <= '9' &&
                   o.data[10] >= '0' && o.data[10] <= '9' && o.data[11] == ' ' &&
                   atoi(o.data + 8) == st,
               "bad status line");
    {
        const char *sep = strstr(o.data, "\r\n\r\n");
        FUZZ_CHECK(sep, "no end of headers");
        hlen = (size_t)(sep - o.data) + 2;
        rbody = sep + 4;
        blen = o.len - (size_t)(rbody - o.data);
    }
    FUZZ_CHECK(header(o.data, hlen, "Status", NULL, 0) == 1, "Status line count");
    FUZZ_CHECK(header(o.data, hlen, "Content-Type", val, sizeof(val)) == 1 &&
                   strcmp(val, "application/json; charset=utf-8") == 0,
               "Content-Type");
    if (header(o.data, hlen, "Content-Length", val, sizeof(val))) {
        char *e;
        long cl = strtol(val, &e, 10);
        FUZZ_CHECK(*val && !*e && cl >= 0, "Content-Length '%s'", val);
        if (!head && !o.failed)
            FUZZ_CHECK((size_t)cl == blen, "Content-Length %ld, body %zu", cl, blen);
    } else {
        FUZZ_CHECK(st == 200 && path && strcmp(path, "/clientes") == 0,
                   "no Content-Length on %d %s", st, path ? path : "-");
    }
    FUZZ_CHECK((header(o.data, hlen, "Allow", val, sizeof(val)) == 1) == (st == 405),
               "Allow header and status %d", st);
    if (st == 405 && known)
        FUZZ_CHECK(strcmp(val, allow) == 0, "Allow '%s', route allows '%s'", val, allow);
    FUZZ_CHECK((header(o.data, hlen, "Retry-After", NULL, 0) == 1) == (st == 503),
               "Retry-After header and status %d", st);
    if (head) {
        FUZZ_CHECK(blen == 0, "%zu body bytes after HEAD", blen);
    } else if (o.failed) {
        /* the peer is gone: only that nothing was written after the refusal */
        FUZZ_CHECK(o.calls == o.fail_from + 1, "%d writes after the peer went away",
                   o.calls - o.fail_from - 1);
    } else {
        const char *jend = NULL;
        cJSON *j = cJSON_ParseWithLengthOpts(rbody, blen, &jend, 0);
        FUZZ_CHECK(j && jend == rbody + blen, "body is not one JSON value: %.200s", rbody);
        FUZZ_CHECK(cJSON_IsObject(j), "body is not an object");
        FUZZ_CHECK(fuzz_utf8_valid(rbody, blen), "body is not UTF-8");
        if (st >= 400) {
            const char *m = json_str(j, "mensaje");
            char code[8];
            snprintf(code, sizeof(code), "%d", st);
            FUZZ_CHECK(*m, "empty mensaje");
            FUZZ_CHECK(strcmp(json_str(j, "status"), code) == 0, "status member");
            FUZZ_CHECK(cJSON_GetArraySize(j) == 2, "error with %d members",
                       cJSON_GetArraySize(j));
        } else if (strcmp(path, "/cliente") == 0) {
            FUZZ_CHECK(cJSON_GetArraySize(j) == 1, "/cliente with %d members",
                       cJSON_GetArraySize(j));
            check_record(j->child, &before, 0);
        } else if (strcmp(path, "/clientes") == 0) {
            const cJSON *item = j->child;
            FUZZ_CHECK(cJSON_GetArraySize(j) == fs->nsnap, "/clientes lists %d of %d",
                       cJSON_GetArraySize(j), fs->nsnap);
            for (int i = 0; i < fs->nsnap; i++, item = item->next)
                check_record(item, &fs->snap[i], 1);
        }
        cJSON_Delete(j);
    }

    /* ---- the status against what the request should have done */
    if (!known)
        FUZZ_CHECK(st == 404, "unknown path %s gave %d", path ? path : "(null)", st);
    else if (!allowed)
        FUZZ_CHECK(st == 405, "%s %s gave %d", method ? method : "(null)", path, st);
    else if (pst)
        FUZZ_CHECK(st == pst, "parameters refused with %d, request gave %d", pst, st);
    else if (st != 503) {
        const struct client_field_desc *sf = setter_field(path);
        int ok;
        if (strcmp(path, "/cliente") == 0 || strcmp(path, "/eliminar") == 0 || sf)
            ok = found == CL_OK;
        else if (strcmp(path, "/clientes") == 0)
            ok = fs->nsnap > 0;
        else if (strcmp(path, "/aniadir") == 0)
            ok = found == CL_NOT_FOUND; /* validity is checked below */
        else
            ok = 1; /* "/" and /health */
        if (sf && ok) {
            const char *v = http_param(&pre, sf->name, NULL);
            ok = v && client_validate(sf->field, v, strlen(v), NULL) == CL_OK;
        }
        if (strcmp(path, "/aniadir") == 0 && ok) {
            struct client tmp;
            client_init(&tmp);
            for (int f = 0; f < CLIENT_NFIELDS && ok; f++) {
                size_t n;
                const char *v = http_param(&pre, client_fields[f].name, &n);
                ok = v && client_set(&tmp, (enum client_field)f, v, n, NULL) == CL_OK;
            }
        }
        FUZZ_CHECK(ok == (st == 200), "%s %s gave %d", method, path, st);
    }

    /* ---- the store: changed exactly as the response says, then restored */
    if (st == 200 && strcmp(path, "/aniadir") == 0) {
        FUZZ_CHECK(manager_get(fs->s, mail, &after, NULL) == CL_OK, "added client not found");
        for (int f = 0; f < CLIENT_NFIELDS; f++)
            FUZZ_CHECK(strcmp(client_get(&after, (enum client_field)f),
                              http_param(&pre, client_fields[f].name, NULL)) == 0,
                       "added client: field %d differs", f);
        FUZZ_CHECK(manager_delete(fs->s, mail, NULL) == CL_OK, "undo add");
    } else if (st == 200 && strcmp(path, "/eliminar") == 0) {
        FUZZ_CHECK(manager_get(fs->s, mail, &after, NULL) == CL_NOT_FOUND, "deleted, yet found");
        FUZZ_CHECK(manager_add(fs->s, &before, NULL) == CL_OK, "undo delete");
    } else if (st == 200 && setter_field(path)) {
        const struct client_field_desc *sf = setter_field(path);
        struct client want = before;
        FUZZ_CHECK(client_set(&want, sf->field, http_param(&pre, sf->name, NULL),
                              strlen(http_param(&pre, sf->name, NULL)), NULL) == CL_OK,
                   "setter value");
        FUZZ_CHECK(manager_get(fs->s, mail, &after, NULL) == CL_OK && same_client(&after, &want),
                   "%s did not change exactly %s", path, sf->name);
        FUZZ_CHECK(manager_update(fs->s, mail, sf->field, client_get(&before, sf->field),
                                  NULL) == CL_OK,
                   "undo set");
    }
    nnow = list(fs->s, now);
    FUZZ_CHECK(nnow == fs->nsnap, "store holds %d clients, expected %d", nnow, fs->nsnap);
    for (int i = 0; i < nnow; i++)
        FUZZ_CHECK(same_client(&now[i], &fs->snap[i]), "client %d changed (%s)", i,
                   now[i].mail);

    cgi_out_free(&o);
    free(body);
    for (int i = 0; i < 4; i++)
        free(fields[i]);
    return 0;
}
