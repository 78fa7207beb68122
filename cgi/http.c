/* http.c - strict request decoding, the method table, the cross-site rule
 * and the one error renderer. */
#include "http.h"

#include "json.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The one spelling of each method, in the order Allow lists them. */
static const struct {
    const char *name;
    enum http_method m;
} methods[] = {
    {"GET", HTTP_GET}, {"HEAD", HTTP_HEAD}, {"POST", HTTP_POST},
    {"PUT", HTTP_PUT}, {"DELETE", HTTP_DELETE}, {"PATCH", HTTP_PATCH},
    {"OPTIONS", HTTP_OPTIONS},
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

enum http_method http_method_parse(const char *name)
{
    if (!name)
        return HTTP_OTHER;
    for (size_t i = 0; i < NMETHODS; i++)
        if (strcmp(name, methods[i].name) == 0)
            return methods[i].m;
    return HTTP_OTHER;
}

const char *http_method_name(enum http_method m)
{
    for (size_t i = 0; i < NMETHODS; i++)
        if (methods[i].m == m)
            return methods[i].name;
    return "-";
}

int http_allow_format(unsigned bits, char *buf, size_t len)
{
    size_t o = 0;

    if (len == 0)
        return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < NMETHODS; i++) {
        if (!(bits & (unsigned)methods[i].m))
            continue;
        int n = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", methods[i].name);
        if (n < 0 || (size_t)n >= len - o) {
            buf[0] = '\0';
            return -1;
        }
        o += (size_t)n;
    }
    return o ? 0 : -1;
}

/* Length of the authority a[0..n) without the default port of `scheme`
 * (":80" for http, ":443" for https), which an Origin never carries. */
static size_t authority_len(const char *a, size_t n, const char *scheme)
{
    if (strcasecmp(scheme, "http") == 0 && n > 3 && memcmp(a + n - 3, ":80", 3) == 0)
        return n - 3;
    if (strcasecmp(scheme, "https") == 0 && n > 4 && memcmp(a + n - 4, ":443", 4) == 0)
        return n - 4;
    return n;
}

/* True when `origin` ("https://host[:port]", RFC 6454) is scheme://host. */
static bool same_origin(const char *origin, const char *scheme, const char *host)
{
    const char *sep = strstr(origin, "://"), *oa;
    size_t slen, olen, hlen;

    if (!sep || !host)
        return false;
    slen = (size_t)(sep - origin);
    if (strlen(scheme) != slen || strncasecmp(origin, scheme, slen) != 0)
        return false;
    oa = sep + 3;
    olen = authority_len(oa, strlen(oa), scheme);
    hlen = authority_len(host, strlen(host), scheme);
    return olen == hlen && olen > 0 && strncasecmp(oa, host, olen) == 0;
}

bool http_cross_site(const struct http_request *r)
{
    const char *site = r->sec_fetch_site;

    if (r->method & HTTP_SAFE_METHODS)
        return false;
    /* Fetch Metadata: the browser says where the request comes from. */
    if (site && *site) {
        if (strcasecmp(site, "cross-site") == 0 || strcasecmp(site, "same-site") == 0)
            return true;
        if (strcasecmp(site, "same-origin") == 0 || strcasecmp(site, "none") == 0)
            return false;
    }
    /* Older browsers: an Origin on a form post or fetch names its page. */
    if (r->origin && *r->origin)
        return !same_origin(r->origin, r->scheme && *r->scheme ? r->scheme : "http", r->host);
    return false;
}

int http_pct_encode(const char *s, const char *keep, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    if (!cap)
        return -1;
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
                     ch == '~' || (keep && strchr(keep, ch));
        if (n + (plain ? 1 : 3) >= cap) {
            out[n] = '\0';
            return -1;
        }
        if (plain) {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
    return 0;
}

void http_set_request_id(struct http_request *r, const char *id)
{
    size_t n = 0;

    for (; id && *id && n < HTTP_REQUEST_ID_MAX; id++) {
        char c = *id;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.:@+=/", c))
            r->request_id[n++] = c;
    }
    r->request_id[n] = '\0';
}

int http_fail(struct http_error *err, int status, const char *fmt, ...)
{
    va_list ap;

    err->status = status;
    err->allow = NULL;
    err->retry_after = 0;
    err->nfields = 0;
    err->fields_omitted = 0;
    err->headers = NULL;
    err->style = HTTP_ERRORS_LEGACY;
    err->type = NULL;
    err->title = NULL;
    err->members = NULL;
    err->members_ctx = NULL;
    va_start(ap, fmt);
    vsnprintf(err->mensaje, sizeof(err->mensaje), fmt, ap);
    va_end(ap);
    return status;
}

void http_field_error(struct http_error *err, const char *field, size_t len, const char *reason)
{
    struct http_field_error *f;

    if (err->nfields == HTTP_FIELD_ERRORS_MAX) {
        err->fields_omitted++;
        return;
    }
    f = &err->fields[err->nfields++];
    if (len > HTTP_FIELD_NAME_MAX) {
        len = HTTP_FIELD_NAME_MAX;
        while (len > 0 && ((unsigned char)field[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(f->field, field, len);
    f->field[len] = '\0';
    f->reason = reason;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Why decode_component() refused a component (its negative results). */
enum decode_err {
    DECODE_BAD_ESCAPE = -1, /* '%' not followed by two hex digits */
    DECODE_NUL = -2,        /* the decoded text holds a NUL byte */
    DECODE_BAD_UTF8 = -3,   /* the decoded text is not valid UTF-8 */
};

/* Percent-decodes src[0..len) into dst (room for len + 1 bytes), NUL
 * terminated.  Returns the decoded length, or a (negative) enum decode_err. */
static long decode_component(const char *src, size_t len, char *dst)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return DECODE_BAD_ESCAPE;
            hi = hexval((unsigned char)src[i + 1]);
            lo = hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return DECODE_BAD_ESCAPE;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return DECODE_NUL;
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    if (!utf8_valid((const unsigned char *)dst, o))
        return DECODE_BAD_UTF8;
    return (long)o;
}

/* Length of the longest prefix of the UTF-8 string s that is at most max
 * bytes and does not split a sequence, so quoted names stay valid UTF-8. */
static int utf8_prefix(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

static const char *decode_reason(long rc)
{
    switch ((enum decode_err)rc) {
    case DECODE_BAD_ESCAPE: return "codificacion porcentual invalida";
    case DECODE_NUL: return "contiene un byte nulo";
    case DECODE_BAD_UTF8: break;
    }
    return "UTF-8 invalido";
}

/* Bytes of scratch already used by decoded parameters. */
static size_t scratch_used(const struct http_request *r)
{
    if (r->nparams == 0)
        return 0;
    const struct http_param *p = &r->params[r->nparams - 1];
    return (size_t)(p->value - r->scratch) + p->value_len + 1;
}

int http_parse_form(struct http_request *r, const char *src, size_t len, struct http_error *err)
{
    size_t used = scratch_used(r);
    const char *end = src + len;

    while (src < end) {
        const char *amp = memchr(src, '&', (size_t)(end - src));
        const char *seg_end = amp ? amp : end;
        const char *eq = memchr(src, '=', (size_t)(seg_end - src));
        const char *name_end = eq ? eq : seg_end;
        const char *val = eq ? eq + 1 : seg_end;
        size_t seg = (size_t)(seg_end - src);
        long nlen, vlen;
        char *name, *value;

        if (seg == 0) { /* empty segment */
            src = seg_end + (amp ? 1 : 0);
            continue;
        }
        if (used + seg + 2 > sizeof(r->scratch))
            return http_fail(err, 414, "Consulta demasiado larga");
        if (r->nparams == HTTP_MAX_PARAMS)
            return http_fail(err, 400, "Demasiados parametros (maximo %d)", HTTP_MAX_PARAMS);
        name = r->scratch + used;
        nlen = decode_component(src, (size_t)(name_end - src), name);
        if (nlen < 0)
            return http_fail(err, 400, "Nombre de parametro invalido: %s", decode_reason(nlen));
        if (nlen == 0)
            return http_fail(err, 400, "Parametro sin nombre");
        value = name + nlen + 1;
        vlen = decode_component(val, (size_t)(seg_end - val), value);
        if (vlen < 0)
            return http_fail(err, 400, "Parametro '%.*s' invalido: %s",
                             utf8_prefix(name, 64), name, decode_reason(vlen));
        for (int i = 0; i < r->nparams; i++)
            if (strcmp(r->params[i].name, name) == 0)
                return http_fail(err, 400, "Parametro '%.*s' repetido", utf8_prefix(name, 64),
                                 name);
        r->params[r->nparams].name = name;
        r->params[r->nparams].value = value;
        r->params[r->nparams].value_len = (size_t)vlen;
        r->nparams++;
        used += (size_t)nlen + 1 + (size_t)vlen + 1;
        src = seg_end + (amp ? 1 : 0);
    }
    return 0;
}

static bool is_form(const char *content_type)
{
    static const char form[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(form) - 1;

    return content_type && strncasecmp(content_type, form, n) == 0 &&
           (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

int http_parse_params(struct http_request *r, struct http_error *err)
{
    int rc;

    r->nparams = 0;
    if (r->query) {
        size_t qlen = strlen(r->query);
        if (qlen > HTTP_QUERY_MAX)
            return http_fail(err, 414, "Consulta demasiado larga");
        if ((rc = http_parse_form(r, r->query, qlen, err)))
            return rc;
    }
    if (r->body_len && (r->method & HTTP_SAFE_METHODS))
        return http_fail(err, 400, "Una peticion %s no admite cuerpo", http_method_name(r->method));
    if (r->body_len && is_form(r->content_type)) {
        if (r->body_len > HTTP_BODY_MAX)
            return http_fail(err, 413, "Cuerpo de la peticion demasiado grande");
        if ((rc = http_parse_form(r, r->body, r->body_len, err)))
            return rc;
    }
    return 0;
}

int http_parse_query(struct http_request *r, struct http_error *err)
{
    r->nparams = 0;
    if (r->query) {
        size_t qlen = strlen(r->query);
        if (qlen > HTTP_QUERY_MAX)
            return http_fail(err, 414, "Consulta demasiado larga");
        int rc = http_parse_form(r, r->query, qlen, err);
        if (rc)
            return rc;
    }
    if ((r->body_len || r->body_pending) && (r->method & HTTP_SAFE_METHODS))
        return http_fail(err, 400, "Una peticion %s no admite cuerpo", http_method_name(r->method));
    return 0;
}

long http_body_read(struct http_request *r, size_t *off, char *buf, size_t len)
{
    if (*off < r->body_len) {
        size_t n = r->body_len - *off < len ? r->body_len - *off : len;
        memcpy(buf, r->body + *off, n);
        *off += n;
        return (long)n;
    }
    if (*off - r->body_len >= r->body_pending || len == 0)
        return 0;
    if (!r->body_read)
        return -1;
    size_t want = r->body_pending - (*off - r->body_len);
    long n = r->body_read(r->body_ctx, buf, want < len ? want : len);
    if (n <= 0)
        return -1; /* announced bytes that never came */
    *off += (size_t)n;
    return n;
}

const char *http_param(const struct http_request *r, const char *name, size_t *len)
{
    for (int i = 0; i < r->nparams; i++) {
        if (strcmp(r->params[i].name, name) == 0) {
            if (len)
                *len = r->params[i].value_len;
            return r->params[i].value;
        }
    }
    return NULL;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

void http_response_init(struct http_response *res, http_write_fn fn, void *ctx, bool head_only)
{
    res->write = fn;
    res->ctx = ctx;
    res->head_only = head_only;
    res->started = false;
    res->failed = false;
    res->status = 0;
}

static int put(struct http_response *res, const char *buf, size_t len)
{
    if (res->failed)
        return -1;
    if (len && res->write(res->ctx, buf, len) != 0) {
        res->failed = true;
        return -1;
    }
    return 0;
}

#define JSON_TYPE HTTP_JSON_TYPE
#define PROBLEM_TYPE HTTP_PROBLEM_TYPE

int http_begin_type(struct http_response *res, int status, const char *content_type,
                    const char *extra, long content_length)
{
    /* room for the /v1 API's headers: a Link with two cursors and a query */
    char head[8192], length[40] = ""; /* no Content-Length for a streamed body */
    int n;

    if (res->started)
        return -1;
    res->started = true;
    res->status = status;
    if (content_length >= 0)
        snprintf(length, sizeof(length), "Content-Length: %ld\r\n", content_length);
    n = snprintf(head, sizeof(head), "Status: %d %s\r\n%s%s%s%s%s\r\n", status,
                 http_reason(status), content_type ? "Content-Type: " : "",
                 content_type ? content_type : "", content_type ? "\r\n" : "", length,
                 extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(head)) {
        res->failed = true;
        return -1;
    }
    return put(res, head, (size_t)n);
}

int http_begin(struct http_response *res, int status, const char *extra, long content_length)
{
    return http_begin_type(res, status, HTTP_JSON_TYPE, extra, content_length);
}

int http_write(struct http_response *res, const char *buf, size_t len)
{
    if (res->head_only)
        return res->failed ? -1 : 0;
    return put(res, buf, len);
}

int http_send_json(struct http_response *res, int status, const char *extra, const char *body,
                   size_t len)
{
    if (http_begin(res, status, extra, (long)len))
        return -1;
    return http_write(res, body, len);
}

/* Room for a problem's members beyond the four: the list of invalid fields
 * (each name escaped as \u00xx at worst, and its reason), and more. */
#define PROBLEM_EXTRA (HTTP_FIELD_ERRORS_MAX * (HTTP_FIELD_NAME_MAX * 6 + 200) + 4096)

int http_send_error(struct http_response *res, const struct http_error *err)
{
    /* every byte of mensaje escaped (\u00xx) still fits, and the members */
    char extra[768] = "", body[HTTP_MESSAGE_MAX * 6 + 512 + PROBLEM_EXTRA], status[8];
    bool problem = err->style == HTTP_ERRORS_PROBLEM;
    struct json_buf b;
    struct json j;
    size_t n = 0;
    int w;

    if (res->started)
        return -1;
    if (err->allow && (w = snprintf(extra + n, sizeof(extra) - n, "Allow: %s\r\n", err->allow)) > 0)
        n += (size_t)w;
    if (err->retry_after > 0 && n < sizeof(extra) &&
        (w = snprintf(extra + n, sizeof(extra) - n, "Retry-After: %d\r\n", err->retry_after)) > 0)
        n += (size_t)w;
    if (err->headers && n < sizeof(extra))
        n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s", err->headers);
    if (n >= sizeof(extra))
        return -1; /* cannot happen: the lines are the service's own, and short */
    snprintf(status, sizeof(status), "%d", err->status);
    for (int with_members = 1; with_members >= 0; with_members--) {
        json_buf_init(&b, body, sizeof(body));
        json_init(&j, json_buf_write, &b);
        json_obj_open(&j, NULL);
        if (problem) {
            json_put_str(&j, "type", err->type ? err->type : "about:blank");
            json_put_str(&j, "title", err->title ? err->title : http_reason(err->status));
            json_put_int(&j, "status", err->status);
            json_put_str(&j, "detail", err->mensaje);
            if (err->nfields > 0 && with_members) {
                json_arr_open(&j, "errors");
                for (int i = 0; i < err->nfields; i++) {
                    json_obj_open(&j, NULL);
                    json_put_str(&j, "field", err->fields[i].field);
                    json_put_str(&j, "reason", err->fields[i].reason);
                    json_obj_close(&j);
                }
                json_arr_close(&j);
                if (err->fields_omitted)
                    json_put_int(&j, "errors_omitted", err->fields_omitted);
            }
            if (err->members && with_members)
                err->members(&j, err->members_ctx);
        } else {
            json_put_str(&j, "mensaje", err->mensaje);
            json_put_str(&j, "status", status);
        }
        if (json_obj_close(&j) == 0)
            break;
        /* members too long for the buffer: the four members alone always fit */
        if (!with_members)
            return -1;
    }
    if (http_begin_type(res, err->status, problem ? PROBLEM_TYPE : JSON_TYPE, extra, (long)b.len))
        return -1;
    return http_write(res, b.data, b.len);
}
