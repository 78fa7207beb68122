/* fuzz_query.c - libFuzzer harness for the query-string / form decoder:
 * bytes -> parameters or a 400/413/414 reason, through the real
 * http_parse_params(), checked against a reference decoder written here.
 *
 * Each input runs up to three times: (A) the bytes before the first NUL as
 * the query string of a GET; (B) when the input holds a NUL, the bytes
 * before it as the query and the bytes after it as the body of a POST, under
 * a Content-Type picked by the input length (form-encoded in several
 * spellings, or not form at all, in which case the body must be ignored);
 * (C) the same as a GET, which takes no body: refused when there is one. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "http.h"

static const char *const content_types[] = {
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "APPLICATION/X-WWW-FORM-URLENCODED",
    "application/x-www-form-urlencoded charset=utf-8",
    "application/x-www-form-urlencodedx", /* not form: body ignored */
    "application/json",
    NULL,
};
#define NCT (sizeof(content_types) / sizeof(content_types[0]))

/* ------------------------------------------------------- reference decoder */

struct ref_param {
    char *name, *value;
    size_t value_len;
};

struct ref {
    struct ref_param p[HTTP_MAX_PARAMS];
    int n;
};

static void ref_free(struct ref *r)
{
    for (int i = 0; i < r->n; i++) {
        free(r->p[i].name);
        free(r->p[i].value);
    }
    r->n = 0;
}

static int hexdigit(char c)
{
    static const char digits[] = "0123456789abcdef";
    const char *p = c ? strchr(digits, c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c) : NULL;
    return p ? (int)(p - digits) : -1;
}

/* Decodes s[0..len) into a new string; NULL when malformed, NUL or not UTF-8. */
static char *ref_decode(const char *s, size_t len, size_t *out_len)
{
    char *d = malloc(len + 1);
    size_t o = 0;

    if (!d)
        abort();
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (len - i < 3 || hexdigit(s[i + 1]) < 0 || hexdigit(s[i + 2]) < 0)
                goto bad;
            d[o++] = (char)(hexdigit(s[i + 1]) * 16 + hexdigit(s[i + 2]));
            i += 2;
        } else {
            d[o++] = s[i] == '+' ? ' ' : s[i];
        }
        if (d[o - 1] == '\0')
            goto bad;
    }
    d[o] = '\0';
    if (!fuzz_utf8_valid(d, o))
        goto bad;
    *out_len = o;
    return d;
bad:
    free(d);
    return NULL;
}

/* Appends the parameters of s[0..len); returns 0 or -1 when refused. */
static int ref_parse(struct ref *r, const char *s, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        const char *seg = s + start, *eq;
        size_t seglen, nlen, vlen;
        char *name, *value;

        if (i < len && s[i] != '&')
            continue;
        seglen = i - start;
        start = i + 1;
        if (seglen == 0)
            continue;
        if (r->n == HTTP_MAX_PARAMS)
            return -1;
        eq = memchr(seg, '=', seglen);
        name = ref_decode(seg, eq ? (size_t)(eq - seg) : seglen, &nlen);
        if (!name)
            return -1;
        value = eq ? ref_decode(eq + 1, seglen - (size_t)(eq - seg) - 1, &vlen) : strdup("");
        if (!value || nlen == 0) {
            free(name);
            free(value);
            return -1;
        }
        if (!eq)
            vlen = 0;
        for (int k = 0; k < r->n; k++) {
            if (strcmp(r->p[k].name, name) == 0) {
                free(name);
                free(value);
                return -1;
            }
        }
        r->p[r->n].name = name;
        r->p[r->n].value = value;
        r->p[r->n].value_len = vlen;
        r->n++;
    }
    return 0;
}

static int ref_is_form(const char *ct)
{
    static const char form[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(form) - 1;

    if (!ct || strlen(ct) < n || strncasecmp(ct, form, n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* -------------------------------------------------------------- the checks */

static struct http_request req; /* ~33 KB: static, reset for every run */

static void check(enum http_method method, const char *query, const char *ct, const char *body,
                  size_t body_len)
{
    struct http_error err;
    struct ref ref = {.n = 0};
    int rc, ref_rc = 0;
    size_t qlen = strlen(query);

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.method_name = method == HTTP_GET ? "GET" : "POST";
    req.path = method == HTTP_GET ? "/cliente" : "/aniadir";
    req.query = query;
    req.content_type = ct;
    req.body = body;
    req.body_len = body_len;
    memset(&err, 0x5A, sizeof(err)); /* garbage: a success must not need it */

    rc = http_parse_params(&req, &err);

    if (qlen > HTTP_QUERY_MAX || ref_parse(&ref, query, qlen) != 0)
        ref_rc = -1;
    else if (body_len && method == HTTP_GET) /* GET and HEAD take no body */
        ref_rc = -1;
    else if (body_len && ref_is_form(ct) &&
             (body_len > HTTP_BODY_MAX || ref_parse(&ref, body, body_len) != 0))
        ref_rc = -1;

    if (rc == 0) {
        FUZZ_CHECK(ref_rc == 0, "decoder accepted what the reference refuses (query '%.80s')",
                   query);
        FUZZ_CHECK(req.nparams >= 0 && req.nparams <= HTTP_MAX_PARAMS, "nparams %d",
                   req.nparams);
        FUZZ_CHECK(req.nparams == ref.n, "%d params, reference %d", req.nparams, ref.n);
        for (int i = 0; i < req.nparams; i++) {
            const struct http_param *p = &req.params[i];
            const char *v;
            size_t vlen = (size_t)-1, nlen = strlen(p->name);
            FUZZ_CHECK(nlen > 0 && fuzz_utf8_valid(p->name, nlen), "param %d name", i);
            FUZZ_CHECK(strlen(p->value) == p->value_len, "param %d value has a NUL", i);
            FUZZ_CHECK(fuzz_utf8_valid(p->value, p->value_len), "param %d value not UTF-8", i);
            for (int k = 0; k < i; k++)
                FUZZ_CHECK(strcmp(req.params[k].name, p->name) != 0, "name '%s' twice",
                           p->name);
            FUZZ_CHECK(strcmp(p->name, ref.p[i].name) == 0, "param %d name '%s', ref '%s'", i,
                       p->name, ref.p[i].name);
            FUZZ_CHECK(p->value_len == ref.p[i].value_len &&
                           memcmp(p->value, ref.p[i].value, p->value_len) == 0,
                       "param %d value differs from the reference", i);
            FUZZ_CHECK((p->name >= req.scratch && p->name < req.scratch + sizeof(req.scratch)) &&
                           (p->value >= req.scratch &&
                            p->value + p->value_len < req.scratch + sizeof(req.scratch)),
                       "param %d points outside scratch", i);
            v = http_param(&req, p->name, &vlen);
            FUZZ_CHECK(v == p->value && vlen == p->value_len, "http_param('%s')", p->name);
        }
    } else {
        size_t mlen = strnlen(err.mensaje, sizeof(err.mensaje));
        FUZZ_CHECK(ref_rc != 0, "decoder refused (%d: %.*s) what the reference accepts", rc,
                   (int)mlen, err.mensaje);
        FUZZ_CHECK(rc == 400 || rc == 413 || rc == 414, "status %d", rc);
        FUZZ_CHECK(err.status == rc, "err.status %d != %d", err.status, rc);
        FUZZ_CHECK(mlen > 0 && mlen < sizeof(err.mensaje), "mensaje length %zu", mlen);
        FUZZ_CHECK(fuzz_utf8_valid(err.mensaje, mlen), "mensaje not UTF-8: %s", err.mensaje);
        FUZZ_CHECK(err.allow == NULL && err.retry_after == 0, "extra headers on %d", rc);
    }
    ref_free(&ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, '\0', size);
    size_t qlen = nul ? (size_t)(nul - (const char *)data) : size;
    char *query = malloc(qlen + 1);

    if (!query)
        abort();
    memcpy(query, data, qlen);
    query[qlen] = '\0';
    check(HTTP_GET, query, NULL, NULL, 0);
    if (nul) {
        size_t blen = size - qlen - 1;
        char *body = malloc(blen ? blen : 1); /* exact size: overreads are caught */
        if (!body)
            abort();
        memcpy(body, nul + 1, blen);
        check(HTTP_POST, query, content_types[size % NCT], body, blen);
        check(HTTP_GET, query, content_types[size % NCT], body, blen);
        free(body);
    }
    free(query);
    return 0;
}
