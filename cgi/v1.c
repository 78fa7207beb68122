/* v1.c - the handlers of the resource API /v1: decode (query, headers, JSON
 * or CSV body), call the manager, render JSON, CSV or a problem. */
#include "v1.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "manager.h"
#include "utf8.h"

#define LIMIT_DEFAULT 20
#define LIMIT_MAX 100
#define Q_MAX 200          /* bytes of a search text */
#define IMPORT_MAX_DEFAULT (10L * 1024 * 1024)
#define IMPORT_ERRORS_MAX 100 /* errors an import report lists (the rest counted) */
#define HISTORY_PAGE 500   /* audit rows read at once by a streamed export */
#define EXTRA_MAX 6144     /* header lines of one response */

#define UNAVAILABLE "Servicio no disponible temporalmente"
#define STORAGE_DOWN "Almacenamiento no disponible: requiere intervencion del administrador"
#define NOT_FOUND "No existe ningun cliente con ese mail"

/* The columns of the CSV export, in order: the five fields and the two times. */
static const char *const csv_columns[] = {"mail",      "nombre",    "apellidos", "fecha_nacimiento",
                                          "direccion", "creado",    "modificado"};
#define CSV_NCOLUMNS (sizeof(csv_columns) / sizeof(csv_columns[0]))

/* ------------------------------------------------------------ settings */

static struct {
    bool require_if_match;
    char cors[2048];
    long import_max;
} settings = {false, "", IMPORT_MAX_DEFAULT};

void v1_configure(const struct v1_settings *s)
{
    settings.require_if_match = s->require_if_match;
    snprintf(settings.cors, sizeof(settings.cors), "%s", s->cors_origins ? s->cors_origins : "");
    settings.import_max = s->import_max > 0 ? s->import_max : IMPORT_MAX_DEFAULT;
}

/* True when `origin` is one of CORS_ORIGINS (exact, case-insensitive). */
static bool cors_listed(const char *origin)
{
    size_t olen = strlen(origin);

    for (const char *p = settings.cors; *p;) {
        size_t n;
        p += strspn(p, ", ");
        n = strcspn(p, ", ");
        if (n && n == olen && strncasecmp(p, origin, n) == 0)
            return true;
        p += n;
    }
    return false;
}

void v1_cors(const struct http_request *req, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!settings.cors[0])
        return;
    if (req->origin && *req->origin && cors_listed(req->origin) && !strpbrk(req->origin, "\r\n"))
        snprintf(buf, len,
                 "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
                 "Access-Control-Expose-Headers: ETag, Link, Location, Retry-After, "
                 "X-Request-Id\r\n",
                 req->origin);
    else
        snprintf(buf, len, "Vary: Origin\r\n");
}

/* ------------------------------------------------------------ errors */

/* A library result as the API's status: the problem is rendered by
 * route.c's send_error(). */
static int fail(struct route_ctx *c, enum cl_err e, const struct manager_reject *rej)
{
    switch (e) {
    case CL_OK:
        break;
    case CL_INVALID:
        if (rej) {
            const char *name = client_fields[rej->field].name;
            http_fail(&c->err, 422, "Campo '%s' invalido: %s", name, rej->reason);
            http_field_error(&c->err, name, strlen(name), rej->reason);
            return 422;
        }
        return http_fail(&c->err, 400, "Parametros invalidos");
    case CL_NOT_FOUND:
        return http_fail(&c->err, 404, NOT_FOUND);
    case CL_EXISTS:
        return http_fail(&c->err, 409, "Ya existe un cliente con ese mail");
    case CL_CONFLICT:
        return http_fail(&c->err, 412, "El cliente ha cambiado desde la version indicada");
    case CL_DENIED:
        return http_fail(&c->err, 401, "Credenciales no validas");
    case CL_THROTTLED:
        http_fail(&c->err, 429, "Demasiados intentos; intentelo mas tarde");
        c->err.retry_after = 60;
        return 429;
    case CL_STORAGE:
        snprintf(c->detail, sizeof(c->detail), "%s: %s", cl_strerror(e), store_errmsg(c->store));
        return http_fail(&c->err, 503, STORAGE_DOWN);
    case CL_BUSY:
    case CL_NOMEM:
        break;
    }
    snprintf(c->detail, sizeof(c->detail), "%s: %s", cl_strerror(e), store_errmsg(c->store));
    http_fail(&c->err, 503, UNAVAILABLE);
    c->err.retry_after = 1;
    return 503;
}

static int bad_param(struct route_ctx *c, const char *name, const char *reason)
{
    http_fail(&c->err, 400, "Parametro '%s' invalido: %s", name, reason);
    http_field_error(&c->err, name, strlen(name), reason);
    return 400;
}

/* 400 for a query parameter the route does not take (a typo would
 * otherwise be silently ignored: "sort=nombre&limt=5"). */
static int only_params(struct route_ctx *c, const char *const *known)
{
    for (int i = 0; i < c->req->nparams; i++) {
        const char *name = c->req->params[i].name;
        const char *const *k = known;
        while (*k && strcmp(*k, name) != 0)
            k++;
        if (!*k) {
            size_t n = strlen(name);
            http_fail(&c->err, 400, "Parametro '%.64s' desconocido", name);
            http_field_error(&c->err, name, n, "parametro desconocido");
            return 400;
        }
    }
    return 0;
}

/* The {mail} of the path as a key: 404 when no record can have it. */
static int need_mail(struct route_ctx *c)
{
    if (c->segment != SEGMENT_OK ||
        client_validate_key(c->mail, strlen(c->mail), NULL) != CL_OK)
        return http_fail(&c->err, 404, NOT_FOUND);
    return 0;
}

/* ------------------------------------------------------------ headers */

/* Appends a header line to buf (EXTRA_MAX), silently cut when full. */
static void add_header(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_header(char *buf, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;

    if (n >= EXTRA_MAX - 1)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + n, EXTRA_MAX - n, fmt, ap);
    va_end(ap);
}

/* The media type of a Content-Type or Accept element, without parameters
 * and surrounding spaces: whether it is `type` (case-insensitive). */
static bool media_is(const char *v, size_t n, const char *type)
{
    size_t t = strlen(type);

    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    size_t m = 0;
    while (m < n && v[m] != ';' && v[m] != ' ' && v[m] != '\t')
        m++;
    return m == t && strncasecmp(v, type, t) == 0;
}

/* The first case-insensitive occurrence of `needle` in s, or NULL. */
static const char *find_ci(const char *s, const char *needle)
{
    size_t n = strlen(needle);

    for (; *s; s++)
        if (strncasecmp(s, needle, n) == 0)
            return s;
    return NULL;
}

/* The body's Content-Type is one of `types` (NULL-terminated) with no
 * charset but UTF-8: 0, else 415. */
static int need_type(struct route_ctx *c, const char *const *types)
{
    const char *ct = c->req->content_type, *cs;

    for (const char *const *t = types; ct && *t; t++) {
        if (!media_is(ct, strlen(ct), *t))
            continue;
        if ((cs = find_ci(ct, "charset=")) != NULL) {
            cs += 8;
            if (*cs == '"')
                cs++;
            if (strncasecmp(cs, "utf-8", 5) != 0 ||
                (cs[5] && cs[5] != '"' && cs[5] != ';' && cs[5] != ' '))
                return http_fail(&c->err, 415, "Solo se admite el juego de caracteres UTF-8");
        }
        return 0;
    }
    return http_fail(&c->err, 415, "Tipo de contenido no admitido: se espera %s%s%s", types[0],
                     types[1] ? " o " : "", types[1] ? types[1] : "");
}

/* q of a media range in an Accept list for `type` (or its type/ * or * / *),
 * in thousandths; -1 when absent. */
static int accept_q(const char *accept, const char *type)
{
    int best = -1, best_spec = -1;
    const char *slash = strchr(type, '/');

    for (const char *p = accept; *p;) {
        size_t n = strcspn(p, ","), m;
        const char *e = p, *q;
        int spec = -1, qv = 1000;
        while (e < p + n && (*e == ' ' || *e == '\t'))
            e++;
        m = strcspn(e, ";, \t");
        if (m > (size_t)(p + n - e))
            m = (size_t)(p + n - e);
        if (m == strlen(type) && strncasecmp(e, type, m) == 0)
            spec = 2;
        else if (m == (size_t)(slash - type) + 2 && strncasecmp(e, type, m - 1) == 0 &&
                 e[m - 1] == '*')
            spec = 1;
        else if (m == 3 && strncmp(e, "*/*", 3) == 0)
            spec = 0;
        if (spec >= 0 && (q = strstr(e, ";q=")) != NULL && q < p + n) {
            qv = (int)(strtod(q + 3, NULL) * 1000 + 0.5);
            if (qv < 0 || qv > 1000)
                qv = 0;
        } else if (spec >= 0 && (q = strstr(e, "; q=")) != NULL && q < p + n) {
            qv = (int)(strtod(q + 4, NULL) * 1000 + 0.5);
        }
        if (spec > best_spec) {
            best_spec = spec;
            best = qv;
        }
        p += n;
        if (*p)
            p++;
    }
    return best;
}

/* Whether the list should be CSV: Accept prefers text/csv to JSON.  406 in
 * *st when it accepts neither. */
static bool wants_csv(struct route_ctx *c, int *st)
{
    const char *a = c->req->accept;
    int json, csv;

    *st = 0;
    if (!a || !*a)
        return false;
    json = accept_q(a, "application/json");
    csv = accept_q(a, "text/csv");
    if (json <= 0 && csv <= 0) {
        *st = http_fail(&c->err, 406, "Solo hay application/json y text/csv");
        return false;
    }
    return csv > json;
}

void v1_etag(long long version, char *buf, size_t len)
{
    snprintf(buf, len, "\"%lld\"", version);
}

bool v1_etag_matches(const char *h, long long version, bool weak)
{
    char want[32];
    size_t wn;

    if (!h)
        return false;
    snprintf(want, sizeof(want), "%lld", version);
    wn = strlen(want);
    for (const char *p = h;;) {
        bool is_weak = false;
        const char *end;
        p += strspn(p, " \t,");
        if (!*p)
            return false;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/') {
            is_weak = true;
            p += 2;
        }
        if (*p != '"' || !(end = strchr(p + 1, '"')))
            return false; /* not a list of entity tags: nothing matches */
        if ((!is_weak || weak) && (size_t)(end - p - 1) == wn && memcmp(p + 1, want, wn) == 0)
            return true;
        p = end + 1;
    }
}

/* ------------------------------------------------------------ output */

/* A growing buffer (http_write_fn) for a bounded response rendered whole: a
 * page of at most LIMIT_MAX records. */
struct gbuf {
    char *data;
    size_t len, cap;
};

static int gbuf_write(void *ctx, const char *buf, size_t len)
{
    struct gbuf *b = ctx;

    if (len > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 8192;
        char *d;
        while (cap - b->len < len)
            cap *= 2;
        if (!(d = realloc(b->data, cap)))
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    return 0;
}

/* Sends a whole body (NULL type: none) with its Content-Length, the CORS
 * lines and `extra`. */
static int send_whole(struct route_ctx *c, int status, const char *type, const char *extra,
                      const char *body, size_t len)
{
    char head[EXTRA_MAX];

    snprintf(head, sizeof(head), "%s%s", c->cors, extra ? extra : "");
    if (http_begin_type(c->res, status, type, head, type ? (long)len : -1) == 0 && type)
        http_write(c->res, body, len);
    return status;
}

/* A JSON writer into c->buf (one record, a report). */
static void begin_small(struct route_ctx *c, struct json *j)
{
    json_buf_init(&c->out, c->buf, sizeof(c->buf));
    json_init(j, json_buf_write, &c->out);
}

static int send_small(struct route_ctx *c, struct json *j, int status, const char *extra)
{
    if (j->failed) {
        snprintf(c->detail, sizeof(c->detail), "response larger than %zu bytes", sizeof(c->buf));
        return http_fail(&c->err, 500, "Error interno");
    }
    return send_whole(c, status, HTTP_JSON_TYPE, extra, c->out.data, c->out.len);
}

/* Streamed responses: c->buf collects, and goes out a chunk at a time; the
 * first chunk sends the headers (no Content-Length). */
struct stream {
    struct route_ctx *c;
    const char *type;
    char extra[EXTRA_MAX];
};

static int stream_flush(struct stream *s)
{
    struct route_ctx *c = s->c;

    if (!c->res->started) {
        char head[EXTRA_MAX * 2];
        snprintf(head, sizeof(head), "%s%s", c->cors, s->extra);
        if (http_begin_type(c->res, 200, s->type, head, -1))
            return -1;
    }
    if (http_write(c->res, c->out.data, c->out.len))
        return -1;
    c->out.len = 0;
    return 0;
}

/* An http_write_fn into c->buf that flushes past ROUTE_CHUNK. */
static int stream_write(void *ctx, const char *buf, size_t len)
{
    struct stream *s = ctx;
    struct route_ctx *c = s->c;

    if (len > c->out.cap - c->out.len && stream_flush(s))
        return -1;
    if (len > c->out.cap - c->out.len)
        return c->res->started || stream_flush(s) == 0 ? http_write(c->res, buf, len) : -1;
    memcpy(c->out.data + c->out.len, buf, len);
    c->out.len += len;
    return c->out.len >= ROUTE_CHUNK ? stream_flush(s) : 0;
}

static void stream_init(struct stream *s, struct route_ctx *c, const char *type)
{
    s->c = c;
    s->type = type;
    s->extra[0] = '\0';
    json_buf_init(&c->out, c->buf, sizeof(c->buf));
}

/* Ends a stream: what is left goes out.  A failure after the headers can
 * only be logged (the body is cut short, which the client sees). */
static int stream_end(struct stream *s, enum cl_err e, bool failed)
{
    struct route_ctx *c = s->c;

    if (!e && !failed && stream_flush(s) == 0)
        return 200;
    if (!c->res->started)
        return e ? fail(c, e, NULL) : http_fail(&c->err, 500, "Error interno");
    if (!c->res->failed) {
        snprintf(c->detail, sizeof(c->detail), "stream cut short: %s: %s",
                 e ? cl_strerror(e) : "rendering failed", e ? store_errmsg(c->store) : "");
        route_log_failure(c, 200, c->detail);
    }
    return 200;
}

/* ------------------------------------------------------------ records */

int v1_put_record(struct json *j, const char *key, const struct client *c,
                  const struct client_meta *m)
{
    struct client_keys k;

    client_keys_of(c, &k);
    json_obj_open(j, key);
    json_put_str(j, "mail", c->mail);
    json_put_str(j, "nombre", c->nombre);
    json_put_str(j, "apellidos", c->apellidos);
    json_put_str(j, "fecha_nacimiento", k.fecha_iso[0] ? k.fecha_iso : c->fecha_nacimiento);
    json_put_str(j, "direccion", c->direccion);
    json_put_str(j, "creado", m->creado);
    json_put_str(j, "modificado", m->modificado);
    return json_obj_close(j);
}

/* 200 (or 201) with the record and its ETag; `extra` more headers. */
static int send_record(struct route_ctx *c, int status, const struct client *cl,
                       const struct client_meta *m, const char *extra)
{
    char head[EXTRA_MAX] = "", etag[32];
    struct json j;

    v1_etag(m->version, etag, sizeof(etag));
    add_header(head, "ETag: %s\r\n%s", etag, extra ? extra : "");
    begin_small(c, &j);
    v1_put_record(&j, NULL, cl, m);
    return send_small(c, &j, status, head);
}

/* ------------------------------------------------------------ the body */

/* True when a JSON text holds a \u0000 escape (cJSON would end the string
 * there: "ana\u0000x" would be stored as "ana"). */
static bool has_nul_escape(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < len && s[i + 2] == '0' && s[i + 3] == '0' &&
            s[i + 4] == '0' && s[i + 5] == '0')
            return true;
        i++; /* the escaped character, a backslash included */
    }
    return false;
}

static const char *json_type_name(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "debe ser texto, no un objeto";
    if (cJSON_IsArray(v))
        return "debe ser texto, no una lista";
    if (cJSON_IsNumber(v))
        return "debe ser texto, no un numero";
    if (cJSON_IsBool(v))
        return "debe ser texto, no un booleano";
    return "debe ser texto";
}

int v1_decode_record(const char *body, size_t len, enum v1_body mode, struct client *out,
                     unsigned *mask, struct http_error *err)
{
    bool seen[CLIENT_NFIELDS] = {false}, seen_ro[2] = {false, false};
    const char *end = NULL;
    cJSON *root, *item;

    client_init(out);
    *mask = 0;
    err->nfields = 0;
    err->fields_omitted = 0;
    if (len == 0)
        return http_fail(err, 400, "Falta el cuerpo JSON");
    if (memchr(body, '\0', len) || !utf8_valid((const unsigned char *)body, len))
        return http_fail(err, 400, "El cuerpo no es UTF-8 valido");
    if (has_nul_escape(body, len))
        return http_fail(err, 400, "El cuerpo contiene un caracter nulo (\\u0000)");
    root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) {
        long at = end && end >= body && end <= body + len ? (long)(end - body) : 0;
        return http_fail(err, 400, "JSON mal formado (cerca del byte %ld)", at);
    }
    while (end < body + len && strchr(" \t\r\n", *end))
        end++;
    if (end != body + len) {
        cJSON_Delete(root);
        return http_fail(err, 400, "Texto tras el objeto JSON (byte %ld)", (long)(end - body));
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return http_fail(err, 400, "El cuerpo debe ser un objeto JSON");
    }
    for (item = root->child; item; item = item->next) {
        const char *key = item->string ? item->string : "";
        size_t klen = strlen(key);
        const struct client_field_desc *d = client_field_by_name(key, klen);
        const char *why = NULL;

        if (!d) {
            int ro = strcmp(key, "creado") == 0 ? 0 : strcmp(key, "modificado") == 0 ? 1 : -1;
            if (ro < 0) {
                http_field_error(err, key, klen, "campo desconocido");
            } else if (seen_ro[ro]) {
                http_field_error(err, key, klen, "campo repetido");
            } else if (mode != V1_BODY_IMPORT) {
                http_field_error(err, key, klen, "campo de solo lectura");
            } else if (!cJSON_IsString(item)) {
                http_field_error(err, key, klen, json_type_name(item));
            }
            if (ro >= 0)
                seen_ro[ro] = true;
            continue;
        }
        if (seen[d->field]) {
            http_field_error(err, key, klen, "campo repetido");
            continue;
        }
        seen[d->field] = true;
        if (cJSON_IsNull(item)) {
            http_field_error(err, key, klen, "no puede ser nulo (es obligatorio)");
            continue;
        }
        if (!cJSON_IsString(item)) {
            http_field_error(err, key, klen, json_type_name(item));
            continue;
        }
        size_t vlen = strlen(item->valuestring);
        if (d->field == CLIENT_MAIL && (mode == V1_BODY_REPLACE || mode == V1_BODY_PATCH)) {
            /* it names the record: the caller compares it with the path's */
            if (client_validate_key(item->valuestring, vlen, &why) == CL_OK &&
                vlen < sizeof(out->mail))
                memcpy(out->mail, item->valuestring, vlen + 1);
            else
                http_field_error(err, key, klen, why ? why : "demasiado largo");
        } else if (client_set(out, d->field, item->valuestring, vlen, &why) != CL_OK) {
            http_field_error(err, key, klen, why);
            continue;
        }
        *mask |= MANAGER_FIELD(d->field);
    }
    cJSON_Delete(root);
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        bool required = mode == V1_BODY_CREATE || mode == V1_BODY_IMPORT ||
                        (mode == V1_BODY_REPLACE && f != CLIENT_MAIL);
        if (required && !seen[f])
            http_field_error(err, client_fields[f].name, strlen(client_fields[f].name),
                             "obligatorio");
    }
    if (err->nfields) {
        int kept = err->nfields, omitted = err->fields_omitted, n = kept + omitted;
        http_fail(err, 422, "%d campo%s invalido%s", n, n == 1 ? "" : "s", n == 1 ? "" : "s");
        err->nfields = kept; /* http_fail() starts a new error: keep the fields */
        err->fields_omitted = omitted;
        return 422;
    }
    return 0;
}

/* Reads the body of a record request: 0, or the status with c->err. */
static int read_record(struct route_ctx *c, enum v1_body mode, const char *const *types,
                       struct client *out, unsigned *mask)
{
    struct http_error e;
    int st;

    if ((st = need_type(c, types)))
        return st;
    if ((st = v1_decode_record(c->req->body, c->req->body_len, mode, out, mask, &e))) {
        c->err = e;
        return st;
    }
    return 0;
}

/* ------------------------------------------------------------ cursors */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64url(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
    return o;
}

/* Strict base64url without padding; -1 for anything else. */
static long unb64url(const char *in, unsigned char *out, size_t cap)
{
    size_t n = strlen(in), o = 0;
    unsigned v = 0;
    int bits = 0;

    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(b64, in[i]);
        if (!in[i] || !p)
            return -1;
        v = (v << 6) | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    if (bits && (v & ((1u << bits) - 1)))
        return -1; /* non-zero leftover bits: not the canonical form */
    return (long)o;
}

void v1_cursor_of(const struct client *c, const struct client_meta *m, enum client_sort sort,
                  bool desc, struct v1_cursor *out)
{
    struct client_keys k;
    const char *v = "";

    client_keys_of(c, &k);
    switch (sort) {
    case SORT_MAIL: v = ""; break;
    case SORT_NOMBRE: v = k.nombre_key; break;
    case SORT_APELLIDOS: v = k.apellidos_key; break;
    case SORT_FECHA: v = k.fecha_iso; break;
    case SORT_CREADO: v = m->creado; break;
    case SORT_MODIFICADO: v = m->modificado; break;
    }
    out->sort = sort;
    out->desc = desc;
    snprintf(out->value, sizeof(out->value), "%s", v);
    snprintf(out->key, sizeof(out->key), "%s", k.mail_key);
}

/* The bytes of a cursor: "c1", the sort ('0' + sort), the direction ('+'
 * or '-'), the value, a NUL, the key. */
void v1_cursor_encode(const struct v1_cursor *cur, char *out)
{
    unsigned char raw[4 + V1_CURSOR_VALUE_CAP + CLIENT_MAIL_CAP];
    size_t vn = strlen(cur->value), kn = strlen(cur->key);

    raw[0] = 'c';
    raw[1] = '1';
    raw[2] = (unsigned char)('0' + cur->sort);
    raw[3] = cur->desc ? '-' : '+';
    memcpy(raw + 4, cur->value, vn);
    raw[4 + vn] = '\0';
    memcpy(raw + 5 + vn, cur->key, kn);
    b64url(raw, 5 + vn + kn, out);
}

int v1_cursor_decode(const char *text, struct v1_cursor *out)
{
    unsigned char raw[4 + V1_CURSOR_VALUE_CAP + CLIENT_MAIL_CAP];
    long n;
    const unsigned char *nul;
    size_t vn, kn;

    if (!text || strlen(text) >= V1_CURSOR_TEXT_CAP)
        return -1;
    n = unb64url(text, raw, sizeof(raw));
    if (n < 6 || raw[0] != 'c' || raw[1] != '1' || raw[2] < '0' || raw[2] > '0' + SORT_MODIFICADO ||
        (raw[3] != '+' && raw[3] != '-'))
        return -1;
    nul = memchr(raw + 4, '\0', (size_t)n - 4);
    if (!nul)
        return -1;
    vn = (size_t)(nul - raw) - 4;
    kn = (size_t)n - 5 - vn;
    if (vn >= sizeof(out->value) || kn == 0 || kn >= sizeof(out->key) ||
        memchr(nul + 1, '\0', kn) || !utf8_valid(raw + 4, vn) ||
        client_validate_key((const char *)nul + 1, kn, NULL) != CL_OK)
        return -1;
    out->sort = (enum client_sort)(raw[2] - '0');
    out->desc = raw[3] == '-';
    memcpy(out->value, raw + 4, vn);
    out->value[vn] = '\0';
    memcpy(out->key, nul + 1, kn);
    out->key[kn] = '\0';
    return 0;
}

/* An audit cursor: "a1" and the id of the last row seen, base64url. */
static void audit_cursor(long long id, char *out)
{
    char raw[32];
    int n = snprintf(raw, sizeof(raw), "a1%lld", id);

    b64url((const unsigned char *)raw, (size_t)n, out);
}

static long long audit_cursor_decode(const char *text)
{
    unsigned char raw[32];
    long n = strlen(text) < 40 ? unb64url(text, raw, sizeof(raw) - 1) : -1;
    long long id = 0;

    if (n < 3 || raw[0] != 'a' || raw[1] != '1' || raw[2] == '0')
        return -1;
    for (long i = 2; i < n; i++) {
        if (raw[i] < '0' || raw[i] > '9' || id > 100000000000000000LL)
            return -1;
        id = id * 10 + (raw[i] - '0');
    }
    return id;
}

/* ------------------------------------------------------------ queries */

static const struct {
    const char *name;
    enum client_sort sort;
} sorts[] = {
    {"mail", SORT_MAIL},       {"nombre", SORT_NOMBRE},   {"apellidos", SORT_APELLIDOS},
    {"fecha_nacimiento", SORT_FECHA}, {"creado", SORT_CREADO}, {"modificado", SORT_MODIFICADO},
};

/* YYYY-MM-DD, digits only (the calendar is the manager's to check). */
static bool iso_date_shape(const char *v)
{
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? v[i] != '-' : (v[i] < '0' || v[i] > '9'))
            return false;
    return v[10] == '\0';
}

/* What a list request asks for. */
struct list_req {
    struct client_query q;
    struct v1_cursor cur;
    bool have_cursor, backward;
    int limit;
    const char *sort_name;
};

/* Decodes q, sort, fecha_desde, fecha_hasta (and, when paged, limit, after
 * and before) into *l.  0 or 400. */
static int decode_list(struct route_ctx *c, struct list_req *l, bool paged)
{
    const char *v;
    size_t n;

    memset(l, 0, sizeof(*l));
    l->limit = LIMIT_DEFAULT;
    l->sort_name = "mail";
    if ((v = http_param(c->req, "q", &n)) && *v) {
        if (n > Q_MAX)
            return bad_param(c, "q", "demasiado largo (maximo 200 bytes)");
        l->q.search = v;
    }
    if ((v = http_param(c->req, "sort", NULL))) {
        bool desc = *v == '-';
        size_t i = 0;
        while (i < sizeof(sorts) / sizeof(sorts[0]) && strcmp(sorts[i].name, v + desc) != 0)
            i++;
        if (i == sizeof(sorts) / sizeof(sorts[0]))
            return bad_param(c, "sort", "debe ser mail, nombre, apellidos, fecha_nacimiento, "
                                        "creado o modificado, con '-' delante para descendente");
        l->q.sort = sorts[i].sort;
        l->q.desc = desc;
        l->sort_name = v;
    }
    static const char *const dates[] = {"fecha_desde", "fecha_hasta"};
    for (int i = 0; i < 2; i++) {
        if (!(v = http_param(c->req, dates[i], NULL)))
            continue;
        if (!iso_date_shape(v))
            return bad_param(c, dates[i], "debe ser una fecha AAAA-MM-DD");
        if (i == 0)
            l->q.fecha_desde = v;
        else
            l->q.fecha_hasta = v;
    }
    if (!paged)
        return 0;
    if ((v = http_param(c->req, "limit", NULL))) {
        char *end;
        long lim = strtol(v, &end, 10);
        if (!*v || *end || lim < 1 || lim > LIMIT_MAX || *v == '+' || *v == ' ')
            return bad_param(c, "limit", "debe ser un entero de 1 a 100");
        l->limit = (int)lim;
    }
    const char *after = http_param(c->req, "after", NULL),
               *before = http_param(c->req, "before", NULL);
    if (after && before)
        return bad_param(c, "before", "no se puede usar junto con after");
    if (after || before) {
        const char *name = after ? "after" : "before";
        if (v1_cursor_decode(after ? after : before, &l->cur) != 0)
            return bad_param(c, name, "cursor no valido");
        if (l->cur.sort != l->q.sort || l->cur.desc != l->q.desc)
            return bad_param(c, name, "el cursor es de otra ordenacion");
        l->have_cursor = true;
        l->backward = before != NULL;
        l->q.backward = l->backward;
        l->q.after_value = l->cur.sort == SORT_MAIL ? NULL : l->cur.value;
        l->q.after_key = l->cur.key;
    }
    l->q.limit = l->limit + 1; /* one more: is there a next page? */
    return 0;
}

/* Appends "name=value" (value percent-encoded) to a query being built. */
static void query_add(char *buf, size_t cap, const char *name, const char *value)
{
    char enc[V1_CURSOR_TEXT_CAP * 3];
    size_t n = strlen(buf);

    if (!value || http_pct_encode(value, "@", enc, sizeof(enc)))
        return;
    snprintf(buf + n, cap - n, "%s%s=%s", n ? "&" : "", name, enc);
}

/* The link to another page of the same list: the request's parameters with
 * a new cursor. */
static void page_link(struct route_ctx *c, const struct list_req *l, const char *dir,
                      const char *cursor, char *out, size_t cap)
{
    char num[16];

    out[0] = '\0';
    if (l->q.search)
        query_add(out, cap, "q", l->q.search);
    if (http_param(c->req, "sort", NULL))
        query_add(out, cap, "sort", l->sort_name);
    query_add(out, cap, "fecha_desde", l->q.fecha_desde);
    query_add(out, cap, "fecha_hasta", l->q.fecha_hasta);
    if (http_param(c->req, "limit", NULL)) {
        snprintf(num, sizeof(num), "%d", l->limit);
        query_add(out, cap, "limit", num);
    }
    query_add(out, cap, dir, cursor);
}

/* ------------------------------------------------------------ the list */

struct row {
    struct client c;
    struct client_meta m;
};

struct page {
    struct row *rows;
    int n, cap;
};

static int page_row(const struct client *cl, const struct client_meta *m, void *ctx)
{
    struct page *p = ctx;

    if (p->n == p->cap)
        return 1;
    p->rows[p->n].c = *cl;
    p->rows[p->n].m = *m;
    p->n++;
    return 0;
}

static int csv_export(struct route_ctx *c);

int v1_list(struct route_ctx *c)
{
    static const char *const known[] = {"q", "sort", "fecha_desde", "fecha_hasta", "limit",
                                        "after", "before", "excel", NULL};
    struct list_req l;
    struct page p = {0};
    struct gbuf body = {0};
    struct json j;
    char next[V1_CURSOR_TEXT_CAP] = "", prev[V1_CURSOR_TEXT_CAP] = "";
    char head[EXTRA_MAX] = "", link[V1_CURSOR_TEXT_CAP * 3 + 1200];
    enum cl_err e;
    bool more;
    int st;

    if (wants_csv(c, &st))
        return route_whole_list(c, csv_export);
    if (st || (st = only_params(c, known)) || (st = decode_list(c, &l, true)))
        return st;
    if (http_param(c->req, "excel", NULL))
        return bad_param(c, "excel", "solo para CSV (Accept: text/csv o /v1/clientes.csv)");
    p.cap = l.limit + 1;
    if (!(p.rows = malloc(sizeof(*p.rows) * (size_t)p.cap)))
        return fail(c, CL_NOMEM, NULL);
    if ((e = manager_list(c->store, &l.q, page_row, &p))) {
        free(p.rows);
        return fail(c, e, NULL);
    }
    more = p.n > l.limit;
    if (more)
        p.n = l.limit;
    if (l.backward) { /* nearest first: the page reads in the list's order */
        for (int a = 0, b = p.n - 1; a < b; a++, b--) {
            struct row t = p.rows[a];
            p.rows[a] = p.rows[b];
            p.rows[b] = t;
        }
    }
    /* next: after the last row, unless this is the end going forward;
     * previous: before the first row, unless this is the start */
    if (p.n > 0) {
        struct v1_cursor cur;
        if (l.backward || more) {
            v1_cursor_of(&p.rows[p.n - 1].c, &p.rows[p.n - 1].m, l.q.sort, l.q.desc, &cur);
            v1_cursor_encode(&cur, next);
        }
        if (l.backward ? more : l.have_cursor) {
            v1_cursor_of(&p.rows[0].c, &p.rows[0].m, l.q.sort, l.q.desc, &cur);
            v1_cursor_encode(&cur, prev);
        }
    } else if (l.backward) {
        /* nothing before the cursor: the rows from the start follow */
        v1_cursor_encode(&l.cur, next);
    }
    json_init(&j, gbuf_write, &body);
    json_obj_open(&j, NULL);
    json_arr_open(&j, "items");
    for (int i = 0; i < p.n; i++)
        v1_put_record(&j, NULL, &p.rows[i].c, &p.rows[i].m);
    json_arr_close(&j);
    json_put_str_or_null(&j, "next", next[0] ? next : NULL);
    json_put_str_or_null(&j, "previous", prev[0] ? prev : NULL);
    json_obj_close(&j);
    free(p.rows);
    if (j.failed) {
        free(body.data);
        return fail(c, CL_NOMEM, NULL);
    }
    add_header(head, "Vary: Accept\r\n");
    if (next[0] || prev[0]) {
        char nl[sizeof(link)] = "", pl[sizeof(link)] = "";
        if (next[0])
            page_link(c, &l, "after", next, nl, sizeof(nl));
        if (prev[0])
            page_link(c, &l, "before", prev, pl, sizeof(pl));
        add_header(head, "Link: %s%s%s%s%s%s%s\r\n", next[0] ? "</v1/clientes?" : "", nl,
                   next[0] ? ">; rel=\"next\"" : "", next[0] && prev[0] ? ", " : "",
                   prev[0] ? "</v1/clientes?" : "", pl, prev[0] ? ">; rel=\"prev\"" : "");
    }
    send_whole(c, 200, HTTP_JSON_TYPE, head, body.data, body.len);
    free(body.data);
    return 200;
}

/* ------------------------------------------------------------ CSV export */

struct csv_walk {
    struct stream s;
    struct csv_writer w;
    long rows;
};

static int csv_sink(void *ctx, const char *buf, size_t len)
{
    return stream_write(ctx, buf, len);
}

static int csv_row(const struct client *cl, const struct client_meta *m, void *ctx)
{
    struct csv_walk *w = ctx;
    struct client_keys k;
    const char *cells[CSV_NCOLUMNS];

    client_keys_of(cl, &k);
    cells[0] = cl->mail;
    cells[1] = cl->nombre;
    cells[2] = cl->apellidos;
    cells[3] = k.fecha_iso[0] ? k.fecha_iso : cl->fecha_nacimiento;
    cells[4] = cl->direccion;
    cells[5] = m->creado;
    cells[6] = m->modificado;
    w->rows++;
    return csv_write_row(&w->w, cells, CSV_NCOLUMNS) ? 1 : 0;
}

/* The whole (searched, sorted) list as CSV, streamed: one record in memory
 * at a time whatever the size of the store. */
static int csv_export(struct route_ctx *c)
{
    static const char *const known[] = {"q", "sort", "fecha_desde", "fecha_hasta", "excel", NULL};
    struct csv_walk *w = &(struct csv_walk){.rows = 0};
    struct list_req l;
    const char *excel = http_param(c->req, "excel", NULL);
    enum cl_err e = CL_OK;
    int st;

    if ((st = only_params(c, known)) || (st = decode_list(c, &l, false)))
        return st;
    if (excel && strcmp(excel, "1") != 0 && strcmp(excel, "0") != 0)
        return bad_param(c, "excel", "debe ser 0 o 1");
    bool xl = excel && excel[0] == '1';
    stream_init(&w->s, c, "text/csv; charset=utf-8; header=present");
    add_header(w->s.extra,
               "Content-Disposition: attachment; filename=\"clientes.csv\"\r\n"
               "Vary: Accept\r\n"
               "X-CSV-Formula-Guard: cells starting with = + - @ TAB or CR are prefixed with '\r\n");
    if (c->req->method == HTTP_HEAD) /* the headers alone: the table is not walked */
        return stream_end(&w->s, CL_OK, false);
    csv_writer_init(&w->w, csv_sink, &w->s, xl ? ';' : ',', xl);
    csv_write_row(&w->w, csv_columns, CSV_NCOLUMNS);
    l.q.limit = 0;
    if (!w->w.failed)
        e = manager_list(c->store, &l.q, csv_row, w);
    return stream_end(&w->s, e, w->w.failed);
}

int v1_csv(struct route_ctx *c)
{
    return csv_export(c);
}

/* ------------------------------------------------------------ one record */

int v1_get(struct route_ctx *c)
{
    static const char *const known[] = {NULL};
    struct manager_reject rej;
    struct client cl;
    struct client_meta m;
    enum cl_err e;
    int st;

    if ((st = only_params(c, known)) || (st = need_mail(c)))
        return st;
    if ((e = manager_get_meta(c->store, c->mail, &cl, &m, &rej)))
        return e == CL_INVALID ? http_fail(&c->err, 404, NOT_FOUND) : fail(c, e, &rej);
    if (c->req->if_none_match && v1_etag_matches(c->req->if_none_match, m.version, true)) {
        char head[128], etag[32];
        v1_etag(m.version, etag, sizeof(etag));
        snprintf(head, sizeof(head), "ETag: %s\r\n", etag);
        return send_whole(c, 304, NULL, head, NULL, 0);
    }
    return send_record(c, 200, &cl, &m, NULL);
}

int v1_create(struct route_ctx *c)
{
    static const char *const known[] = {NULL};
    static const char *const types[] = {"application/json", NULL};
    struct manager_reject rej;
    struct client cl;
    struct client_meta m;
    char head[EXTRA_MAX] = "", where[CLIENT_MAIL_CAP * 3];
    unsigned mask;
    enum cl_err e;
    int st;

    if ((st = only_params(c, known)) || (st = read_record(c, V1_BODY_CREATE, types, &cl, &mask)))
        return st;
    if ((e = manager_create(c->store, &cl, &m, &rej)))
        return fail(c, e, &rej);
    http_pct_encode(cl.mail, "@", where, sizeof(where));
    add_header(head, "Location: /v1/clientes/%s\r\n", where);
    if (c->req->prefer && strstr(c->req->prefer, "return=minimal")) {
        char etag[32];
        v1_etag(m.version, etag, sizeof(etag));
        add_header(head, "ETag: %s\r\nPreference-Applied: return=minimal\r\n", etag);
        return send_whole(c, 201, HTTP_JSON_TYPE, head, "", 0);
    }
    return send_record(c, 201, &cl, &m, head);
}

/* The version a write must find (If-Match), in *version: 0 for any.  428
 * when one is required and none was sent; 412 when the record is not at a
 * version the header names; 404 when there is no record (which goes first:
 * RFC 9110 13.2.1). */
static int precondition(struct route_ctx *c, long long *version)
{
    const char *h = c->req->if_match;
    struct manager_reject rej;
    struct client cl;
    struct client_meta m;
    enum cl_err e;

    *version = 0;
    if (!h || !*h) {
        if (settings.require_if_match)
            return http_fail(&c->err, 428,
                             "Falta la cabecera If-Match con el ETag del cliente (REQUIRE_IF_MATCH)");
        return 0;
    }
    if ((e = manager_get_meta(c->store, c->mail, &cl, &m, &rej)))
        return e == CL_INVALID ? http_fail(&c->err, 404, NOT_FOUND) : fail(c, e, &rej);
    h += strspn(h, " \t");
    if (h[0] == '*' && h[1 + strspn(h + 1, " \t")] == '\0')
        return 0; /* any version: the record exists */
    if (!v1_etag_matches(h, m.version, false))
        return fail(c, CL_CONFLICT, NULL);
    *version = m.version;
    return 0;
}

int v1_change(struct route_ctx *c)
{
    static const char *const known[] = {NULL};
    static const char *const json_only[] = {"application/json", NULL};
    static const char *const patch_types[] = {"application/merge-patch+json", "application/json",
                                              NULL};
    bool patch = c->req->method == HTTP_PATCH;
    struct manager_reject rej;
    struct client cl, out;
    struct client_meta m;
    long long version;
    unsigned mask;
    enum cl_err e;
    int st;

    if ((st = only_params(c, known)) || (st = need_mail(c)))
        return st;
    if ((st = read_record(c, patch ? V1_BODY_PATCH : V1_BODY_REPLACE,
                          patch ? patch_types : json_only, &cl, &mask)))
        return st;
    if ((mask & MANAGER_FIELD(CLIENT_MAIL)) && strcasecmp(cl.mail, c->mail) != 0) {
        http_fail(&c->err, 422, "El mail es la clave del cliente y no puede cambiar");
        http_field_error(&c->err, "mail", 4, "no puede cambiar");
        return 422;
    }
    mask &= ~MANAGER_FIELD(CLIENT_MAIL);
    if ((st = precondition(c, &version)))
        return st;
    if (mask == 0) { /* {}: nothing to change; the record as it is */
        if ((e = manager_get_meta(c->store, c->mail, &out, &m, &rej)))
            return e == CL_INVALID ? http_fail(&c->err, 404, NOT_FOUND) : fail(c, e, &rej);
        if (version && m.version != version)
            return fail(c, CL_CONFLICT, NULL);
        return send_record(c, 200, &out, &m, NULL);
    }
    snprintf(cl.mail, sizeof(cl.mail), "%s", c->mail);
    if ((e = manager_change(c->store, c->mail, &cl, mask, version, &out, &m, &rej)))
        return e == CL_INVALID && rej.field == CLIENT_MAIL ? http_fail(&c->err, 404, NOT_FOUND)
                                                           : fail(c, e, &rej);
    return send_record(c, 200, &out, &m, NULL);
}

int v1_delete(struct route_ctx *c)
{
    static const char *const known[] = {"erase", NULL};
    const char *erase = http_param(c->req, "erase", NULL);
    struct manager_reject rej;
    long long version;
    enum cl_err e;
    int st;

    if ((st = only_params(c, known)) || (st = need_mail(c)))
        return st;
    if (erase && strcmp(erase, "1") != 0 && strcmp(erase, "0") != 0)
        return bad_param(c, "erase", "debe ser 0 o 1");
    if (erase && erase[0] == '1') {
        /* the right to erasure: no precondition stands in its way */
        if ((e = manager_erase(c->store, c->mail, &rej)))
            return e == CL_INVALID ? http_fail(&c->err, 404, NOT_FOUND) : fail(c, e, &rej);
        return send_whole(c, 204, NULL, NULL, NULL, 0);
    }
    if ((st = precondition(c, &version)))
        return st;
    if ((e = manager_remove(c->store, c->mail, version, &rej)))
        return e == CL_INVALID ? http_fail(&c->err, 404, NOT_FOUND) : fail(c, e, &rej);
    return send_whole(c, 204, NULL, NULL, NULL, 0);
}

/* ------------------------------------------------------------ the audit */

/* One audit row; `full`: the trail's view (target, address), not a
 * client's history. */
static void put_audit(struct json *j, const struct audit_view *a, bool full)
{
    json_obj_open(j, NULL);
    json_put_int(j, "id", a->id);
    json_put_str_or_null(j, "at", a->at);
    json_put_str_or_null(j, "actor", a->actor);
    json_put_str_or_null(j, "action", a->action);
    if (full)
        json_put_str_or_null(j, "target", a->target);
    json_put_raw(j, "changes", a->changes);
    json_put_str_or_null(j, "request_id", a->request_id);
    if (full)
        json_put_str_or_null(j, "client_addr", a->client_addr);
    json_obj_close(j);
}

struct audit_page {
    struct json *j;
    bool full;
    int n, limit;
    long long last_id;
    bool more;
};

static int audit_row(const struct audit_view *a, void *ctx)
{
    struct audit_page *p = ctx;

    if (p->n == p->limit) {
        p->more = true;
        return 1;
    }
    put_audit(p->j, a, p->full);
    p->n++;
    p->last_id = a->id;
    return p->j->failed ? 1 : 0;
}

/* limit and after of an audit page: 0 or 400. */
static int decode_audit_page(struct route_ctx *c, int *limit, long long *before)
{
    const char *v;

    *limit = LIMIT_DEFAULT;
    *before = 0;
    if ((v = http_param(c->req, "limit", NULL))) {
        char *end;
        long lim = strtol(v, &end, 10);
        if (!*v || *end || lim < 1 || lim > LIMIT_MAX || *v == '+' || *v == ' ')
            return bad_param(c, "limit", "debe ser un entero de 1 a 100");
        *limit = (int)lim;
    }
    if ((v = http_param(c->req, "after", NULL)) && (*before = audit_cursor_decode(v)) <= 0)
        return bad_param(c, "after", "cursor no valido");
    return 0;
}

/* Sends a page rendered into body with its next cursor and Link. */
static int send_audit_page(struct route_ctx *c, struct gbuf *body, struct json *j,
                           const struct audit_page *p, const char *base, const char *query)
{
    char next[64] = "", head[EXTRA_MAX] = "";

    json_arr_close(j);
    if (p->more)
        audit_cursor(p->last_id, next);
    json_put_str_or_null(j, "next", next[0] ? next : NULL);
    json_obj_close(j);
    if (j->failed) {
        free(body->data);
        return fail(c, CL_NOMEM, NULL);
    }
    if (next[0])
        add_header(head, "Link: <%s?%s%safter=%s>; rel=\"next\"\r\n", base, query,
                   query[0] ? "&" : "", next);
    send_whole(c, 200, HTTP_JSON_TYPE, head, body->data, body->len);
    free(body->data);
    return 200;
}

int v1_history(struct route_ctx *c)
{
    static const char *const known[] = {"limit", "after", NULL};
    struct gbuf body = {0};
    struct json j;
    struct audit_page p = {&j, false, 0, 0, 0, false};
    char base[CLIENT_MAIL_CAP * 3 + 40], enc[CLIENT_MAIL_CAP * 3], query[32] = "";
    long long before;
    enum cl_err e;
    int st;

    if ((st = only_params(c, known)) || (st = need_mail(c)) ||
        (st = decode_audit_page(c, &p.limit, &before)))
        return st;
    json_init(&j, gbuf_write, &body);
    json_obj_open(&j, NULL);
    json_arr_open(&j, "items");
    if ((e = manager_history(c->store, c->mail, before, p.limit + 1, audit_row, &p))) {
        free(body.data);
        return e == CL_INVALID ? http_fail(&c->err, 404, NOT_FOUND) : fail(c, e, NULL);
    }
    http_pct_encode(c->mail, "@", enc, sizeof(enc));
    snprintf(base, sizeof(base), "/v1/clientes/%s/history", enc);
    if (http_param(c->req, "limit", NULL))
        snprintf(query, sizeof(query), "limit=%d", p.limit);
    return send_audit_page(c, &body, &j, &p, base, query);
}

/* since: a date, or a date and time (a prefix of an RFC 3339 UTC time). */
static bool since_shape(const char *v)
{
    static const char full[] = "0000-00-00T00:00:00.000Z";
    size_t n = strlen(v);

    if (n < 10 || n > sizeof(full) - 1 || !iso_date_shape((char[11]){v[0], v[1], v[2], v[3],
                                                                        v[4], v[5], v[6], v[7],
                                                                        v[8], v[9], 0}))
        return false;
    for (size_t i = 10; i < n; i++) {
        if (full[i] == '0' ? (v[i] < '0' || v[i] > '9') : v[i] != full[i])
            return v[i] == 'Z' && i == n - 1 && (i == 19 || i == 23);
    }
    return n == 10 || n == 13 || n == 16 || n == 19 || n == 21 || n == 22 || n == 23 || n == 24;
}

int v1_audit(struct route_ctx *c)
{
    static const char *const known[] = {"since", "actor", "action", "limit", "after", NULL};
    struct gbuf body = {0};
    struct json j;
    struct audit_page p = {&j, true, 0, 0, 0, false};
    struct audit_query q = {0};
    char query[1024] = "";
    enum cl_err e;
    const char *v;
    size_t n;
    int st;

    if ((st = only_params(c, known)) || (st = decode_audit_page(c, &p.limit, &q.before_id)))
        return st;
    if ((v = http_param(c->req, "since", NULL))) {
        if (!since_shape(v))
            return bad_param(c, "since", "debe ser AAAA-MM-DD o AAAA-MM-DDTHH:MM:SSZ");
        q.since = v;
        query_add(query, sizeof(query), "since", v);
    }
    if ((v = http_param(c->req, "actor", &n))) {
        if (n == 0 || n > 128)
            return bad_param(c, "actor", "de 1 a 128 bytes");
        q.actor = v;
        query_add(query, sizeof(query), "actor", v);
    }
    if ((v = http_param(c->req, "action", &n))) {
        if (n == 0 || n > 64 || strspn(v, "abcdefghijklmnopqrstuvwxyz._") != n)
            return bad_param(c, "action", "una accion (client.update) o un prefijo (client.)");
        q.action = v;
        query_add(query, sizeof(query), "action", v);
    }
    if (http_param(c->req, "limit", NULL)) {
        char num[16];
        snprintf(num, sizeof(num), "%d", p.limit);
        query_add(query, sizeof(query), "limit", num);
    }
    q.limit = p.limit + 1;
    json_init(&j, gbuf_write, &body);
    json_obj_open(&j, NULL);
    json_arr_open(&j, "items");
    if ((e = manager_audit(c->store, &q, audit_row, &p))) {
        free(body.data);
        return fail(c, e, NULL);
    }
    return send_audit_page(c, &body, &j, &p, "/v1/audit", query);
}

/* ------------------------------------------------------------ GDPR export */

struct export_walk {
    struct stream s;
    struct json j;
    long long last_id;
    int n;
};

static int export_row(const struct audit_view *a, void *ctx)
{
    struct export_walk *w = ctx;

    put_audit(&w->j, a, false);
    w->last_id = a->id;
    w->n++;
    return w->j.failed ? 1 : 0;
}

/* Everything held on one person: the record (null once deleted) and every
 * row of its history, streamed a page of the trail at a time. */
int v1_export(struct route_ctx *c)
{
    static const char *const known[] = {NULL};
    struct export_walk *w = &(struct export_walk){.n = 0};
    struct manager_reject rej;
    struct client cl;
    struct client_meta m;
    enum cl_err e, got;
    int st, before_n;

    if ((st = only_params(c, known)) || (st = need_mail(c)))
        return st;
    got = manager_get_meta(c->store, c->mail, &cl, &m, &rej);
    if (got == CL_INVALID)
        return http_fail(&c->err, 404, NOT_FOUND);
    if (got && got != CL_NOT_FOUND)
        return fail(c, got, &rej);
    stream_init(&w->s, c, HTTP_JSON_TYPE);
    add_header(w->s.extra, "Content-Disposition: attachment; filename=\"cliente.json\"\r\n");
    json_init(&w->j, stream_write, &w->s);
    json_obj_open(&w->j, NULL);
    if (got == CL_OK)
        v1_put_record(&w->j, "cliente", &cl, &m);
    else
        json_put_null(&w->j, "cliente");
    json_arr_open(&w->j, "historial");
    w->last_id = 0;
    do {
        before_n = w->n;
        e = manager_history(c->store, c->mail, w->last_id, HISTORY_PAGE, export_row, w);
        if (e == CL_NOT_FOUND && w->n == 0 && got == CL_NOT_FOUND && !c->res->started)
            return http_fail(&c->err, 404, NOT_FOUND);
        if (e == CL_NOT_FOUND)
            e = CL_OK;
    } while (!e && !w->j.failed && w->n - before_n == HISTORY_PAGE);
    json_arr_close(&w->j);
    json_obj_close(&w->j);
    return stream_end(&w->s, e, w->j.failed);
}

/* ------------------------------------------------------------ import */

struct import_error {
    unsigned long line;
    char field[HTTP_FIELD_NAME_MAX + 1]; /* "" for the whole line */
    const char *reason;
};

struct import {
    struct route_ctx *c;
    bool partial;
    long created, unchanged, nerrors;
    struct import_error errors[IMPORT_ERRORS_MAX];
    enum cl_err fatal; /* a store failure: everything stops */
    /* CSV: which field each column holds (-1: creado/modificado, ignored) */
    int col[CSV_MAX_CELLS];
    size_t ncols;
    bool header_done;
    int header_status; /* a refused header: 422 with c->err */
};

static void import_error(struct import *im, unsigned long line, const char *field,
                         const char *reason)
{
    if (im->nerrors < IMPORT_ERRORS_MAX) {
        struct import_error *e = &im->errors[im->nerrors];
        e->line = line;
        snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
        e->reason = reason;
    }
    im->nerrors++;
}

/* Two records hold the same five values (the date compared as a date). */
static bool same_record(const struct client *a, const struct client *b)
{
    struct client_keys ka, kb;

    client_keys_of(a, &ka);
    client_keys_of(b, &kb);
    return strcmp(a->nombre, b->nombre) == 0 && strcmp(a->apellidos, b->apellidos) == 0 &&
           strcasecmp(a->mail, b->mail) == 0 && strcmp(ka.fecha_iso, kb.fecha_iso) == 0 &&
           strcmp(a->direccion, b->direccion) == 0;
}

/* Stores one valid record of line `line`: created, unchanged (the same
 * record is there already: an import run twice), or an error. */
static void import_store(struct import *im, unsigned long line, const struct client *cl)
{
    struct manager_reject rej;
    struct client old;
    struct client_meta m;
    enum cl_err e = manager_create(im->c->store, cl, &m, &rej);

    if (e == CL_OK) {
        im->created++;
    } else if (e == CL_EXISTS) {
        e = manager_get_meta(im->c->store, cl->mail, &old, &m, &rej);
        if (e == CL_OK && same_record(cl, &old))
            im->unchanged++;
        else if (e == CL_OK || e == CL_NOT_FOUND)
            import_error(im, line, "mail", "ya existe un cliente con ese mail y otros datos");
        else
            im->fatal = e;
    } else if (e == CL_INVALID) {
        import_error(im, line, client_fields[rej.field].name, rej.reason);
    } else {
        im->fatal = e;
    }
}

static int import_csv_row(void *ctx, unsigned long line, char **cells, size_t n)
{
    struct import *im = ctx;
    struct route_ctx *c = im->c;
    struct client cl;
    bool bad = false;

    if (!im->header_done) {
        bool seen[CLIENT_NFIELDS] = {false}, seen_ro[2] = {false, false};
        im->header_done = true;
        im->ncols = n;
        http_fail(&c->err, 422, "Cabecera del CSV invalida");
        for (size_t i = 0; i < n; i++) {
            const struct client_field_desc *d = client_field_by_name(cells[i], strlen(cells[i]));
            int ro = strcmp(cells[i], "creado") == 0 ? 0 : strcmp(cells[i], "modificado") == 0 ? 1
                                                                                              : -1;
            im->col[i] = d ? (int)d->field : -1;
            if (d ? seen[d->field] : ro >= 0 && seen_ro[ro])
                http_field_error(&c->err, cells[i], strlen(cells[i]), "columna repetida");
            else if (!d && ro < 0)
                http_field_error(&c->err, cells[i], strlen(cells[i]), "columna desconocida");
            if (d)
                seen[d->field] = true;
            else if (ro >= 0)
                seen_ro[ro] = true;
        }
        for (int f = 0; f < CLIENT_NFIELDS; f++)
            if (!seen[f])
                http_field_error(&c->err, client_fields[f].name, strlen(client_fields[f].name),
                                 "falta la columna");
        if (c->err.nfields) {
            im->header_status = 422;
            return 1;
        }
        return 0;
    }
    if (n == 1 && cells[0][0] == '\0')
        return 0; /* a blank line */
    if (n != im->ncols) {
        import_error(im, line, NULL, "numero de columnas distinto del de la cabecera");
        return 0;
    }
    client_init(&cl);
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        if (im->col[i] < 0)
            continue;
        if (client_set(&cl, (enum client_field)im->col[i], cells[i], strlen(cells[i]), &why)) {
            import_error(im, line, client_fields[im->col[i]].name, why);
            bad = true;
        }
    }
    if (!bad)
        import_store(im, line, &cl);
    return im->fatal ? 1 : 0;
}

static void import_ndjson_line(struct import *im, unsigned long line, const char *s, size_t n)
{
    struct http_error e;
    struct client cl;
    unsigned mask;

    while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return;
    if (v1_decode_record(s, n, V1_BODY_IMPORT, &cl, &mask, &e) == 0) {
        import_store(im, line, &cl);
    } else if (e.nfields == 0) {
        import_error(im, line, NULL, "no es un objeto JSON valido");
    } else {
        for (int i = 0; i < e.nfields; i++)
            import_error(im, line, e.fields[i].field, e.fields[i].reason);
        for (int i = 0; i < e.fields_omitted; i++)
            import_error(im, line, NULL, "mas campos invalidos");
    }
}

/* The report: 200 {"created","unchanged","errors":[...],"applied"}. */
static int import_report(struct route_ctx *c, struct import *im, bool applied)
{
    struct gbuf body = {0};
    struct json j;

    json_init(&j, gbuf_write, &body);
    json_obj_open(&j, NULL);
    json_put_int(&j, "created", applied ? im->created : 0);
    json_put_int(&j, "unchanged", im->unchanged);
    json_arr_open(&j, "errors");
    for (long i = 0; i < im->nerrors && i < IMPORT_ERRORS_MAX; i++) {
        json_obj_open(&j, NULL);
        json_put_int(&j, "line", (long long)im->errors[i].line);
        json_put_str_or_null(&j, "field", im->errors[i].field[0] ? im->errors[i].field : NULL);
        json_put_str(&j, "reason", im->errors[i].reason);
        json_obj_close(&j);
    }
    json_arr_close(&j);
    if (im->nerrors > IMPORT_ERRORS_MAX)
        json_put_int(&j, "errors_omitted", im->nerrors - IMPORT_ERRORS_MAX);
    json_put_bool(&j, "applied", applied);
    json_obj_close(&j);
    if (j.failed) {
        free(body.data);
        return fail(c, CL_NOMEM, NULL);
    }
    send_whole(c, 200, HTTP_JSON_TYPE, NULL, body.data, body.len);
    free(body.data);
    return 200;
}

int v1_import(struct route_ctx *c)
{
    static const char *const known[] = {"mode", NULL};
    static const char *const types[] = {"text/csv", "application/x-ndjson", NULL};
    struct http_request *r = c->req;
    struct import *im;
    struct csv_parser *csv = NULL;
    char *chunk = NULL, *line = NULL;
    size_t off = 0, nline = 0;
    unsigned long lineno = 1;
    bool ndjson, too_long = false, applied;
    const char *mode = http_param(r, "mode", NULL);
    enum cl_err e;
    long n;
    int st;

    if ((st = only_params(c, known)) || (st = need_type(c, types)))
        return st;
    if (mode && strcmp(mode, "partial") != 0 && strcmp(mode, "all") != 0)
        return bad_param(c, "mode", "debe ser all (todo o nada, por omision) o partial");
    if ((long)(r->body_len + r->body_pending) > settings.import_max)
        return http_fail(&c->err, 413, "Importacion mayor que IMPORT_MAX_BYTES (%ld bytes)",
                         settings.import_max);
    if (r->body_len + r->body_pending == 0)
        return http_fail(&c->err, 400, "Falta el contenido a importar");
    ndjson = media_is(r->content_type, strlen(r->content_type), "application/x-ndjson");
    im = calloc(1, sizeof(*im));
    chunk = malloc(HTTP_BODY_MAX);
    if (ndjson)
        line = malloc(HTTP_BODY_MAX + 1);
    else
        csv = malloc(sizeof(*csv));
    if (!im || !chunk || (ndjson ? !line : !csv)) {
        st = fail(c, CL_NOMEM, NULL);
        goto out;
    }
    im->c = c;
    im->partial = mode && strcmp(mode, "partial") == 0;
    if (csv)
        csv_parser_init(csv, import_csv_row, im, 0);
    if ((e = manager_begin(c->store))) {
        st = fail(c, e, NULL);
        goto out;
    }
    while (!im->fatal && !im->header_status && (n = http_body_read(r, &off, chunk, HTTP_BODY_MAX)) > 0) {
        if (csv) {
            if (csv_parse_feed(csv, chunk, (size_t)n) != CL_OK)
                break;
            continue;
        }
        for (long i = 0; i < n && !im->fatal; i++) {
            if (chunk[i] != '\n') {
                if (nline < HTTP_BODY_MAX)
                    line[nline++] = chunk[i];
                else
                    too_long = true;
                continue;
            }
            if (too_long)
                import_error(im, lineno, NULL, "linea demasiado larga");
            else
                import_ndjson_line(im, lineno, line, nline);
            lineno++;
            nline = 0;
            too_long = false;
        }
    }
    if (n < 0 && !im->fatal && !im->header_status) {
        manager_rollback(c->store);
        st = http_fail(&c->err, 400, "Cuerpo de la peticion incompleto");
        goto out;
    }
    if (csv && !im->fatal && !im->header_status) {
        if (csv->error || csv_parse_finish(csv) != CL_OK)
            import_error(im, csv->error_line, NULL, csv->error ? csv->error : "CSV invalido");
        else if (!im->header_done)
            import_error(im, 1, NULL, "el CSV no tiene cabecera");
    } else if (ndjson && !im->fatal && (nline || too_long)) {
        if (too_long)
            import_error(im, lineno, NULL, "linea demasiado larga");
        else
            import_ndjson_line(im, lineno, line, nline);
    }
    if (im->fatal || im->header_status) {
        manager_rollback(c->store);
        st = im->fatal ? fail(c, im->fatal, NULL) : im->header_status;
        goto out;
    }
    applied = im->partial || im->nerrors == 0;
    e = applied ? manager_commit(c->store) : manager_rollback(c->store);
    if (e) {
        if (applied)
            manager_rollback(c->store);
        st = fail(c, e, NULL);
        goto out;
    }
    st = import_report(c, im, applied);
out:
    free(im);
    free(chunk);
    free(line);
    free(csv);
    return st;
}

/* ------------------------------------------------------------ OpenAPI */

/* docs/openapi.json, compiled in (cgi/CMakeLists.txt). */
extern const char v1_openapi_json[];
extern const size_t v1_openapi_json_len;

int v1_openapi(struct route_ctx *c)
{
    static const char *const known[] = {NULL};
    int st;

    if ((st = only_params(c, known)))
        return st;
    return send_whole(c, 200, HTTP_JSON_TYPE, NULL, v1_openapi_json, v1_openapi_json_len);
}
