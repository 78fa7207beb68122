/* test_http.c - the HTTP layer of the worker without a socket: query-string and
 * form decoding, request ids, and the bytes of responses and errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi_support.h"
#include "http.h"

/* ---------------------------------------------------------------- helpers */

static struct http_request *req_new(void)
{
    struct http_request *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    return r;
}

/* Decodes `query` (and an optional body) as route_dispatch would. */
static int parse(struct http_request *r, const char *query, const char *ctype, const char *body,
                 size_t body_len, struct http_error *err)
{
    r->query = query;
    r->content_type = ctype;
    r->body = body;
    r->body_len = body_len;
    memset(err, 0, sizeof(*err));
    return http_parse_params(r, err);
}

static void expect_param(const struct http_request *r, const char *name, const char *value,
                         size_t value_len)
{
    size_t len = (size_t)-1;
    const char *v = http_param(r, name, &len);

    if (!v)
        fail_msg("parameter '%s' missing", name);
    assert_int_equal(len, value_len);
    assert_memory_equal(v, value, value_len);
    assert_int_equal(v[value_len], '\0');
}

/* Decodes as parse() does: the request must be accepted with exactly n
 * parameters. */
static void expect_accepted(struct http_request *r, const char *query, const char *ctype,
                            const char *body, size_t body_len, int n)
{
    struct http_error err;
    int rc = parse(r, query, ctype, body, body_len, &err);

    if (rc != 0)
        fail_msg("query '%s', Content-Type '%s': refused with %d (%s)", query ? query : "(null)",
                 ctype ? ctype : "(null)", rc, err.mensaje);
    if (r->nparams != n)
        fail_msg("query '%s', Content-Type '%s': %d parameters, want %d",
                 query ? query : "(null)", ctype ? ctype : "(null)", r->nparams, n);
}

/* The query must be refused with `status` and exactly `mensaje`; ctype/body
 * optional. */
static void expect_refused(const char *query, const char *ctype, const char *body,
                           size_t body_len, int status, const char *mensaje)
{
    struct http_request *r = req_new();
    struct http_error err;
    int rc = parse(r, query, ctype, body, body_len, &err);

    if (rc != status)
        fail_msg("query '%s': got %d (%s), want %d", query ? query : "(null)", rc, err.mensaje,
                 status);
    assert_int_equal(err.status, status);
    assert_string_equal(err.mensaje, mensaje);
    assert_null(err.allow);
    assert_int_equal(err.retry_after, 0);
    free(r);
}

static void expect_bad_query(const char *query, const char *mensaje)
{
    expect_refused(query, NULL, NULL, 0, 400, mensaje);
}

/* ------------------------------------------------------------- methods/ids */

static void test_method_parse(void **state)
{
    (void)state;
    assert_int_equal(http_method_parse("GET"), HTTP_GET);
    assert_int_equal(http_method_parse("HEAD"), HTTP_HEAD);
    assert_int_equal(http_method_parse("POST"), HTTP_POST);
    assert_int_equal(http_method_parse("PUT"), HTTP_PUT);
    assert_int_equal(http_method_parse("DELETE"), HTTP_DELETE);
    /* methods are case-sensitive; anything else is HTTP_OTHER */
    assert_int_equal(http_method_parse("get"), HTTP_OTHER);
    assert_int_equal(http_method_parse("PATCH"), HTTP_PATCH);
    assert_int_equal(http_method_parse("OPTIONS"), HTTP_OPTIONS);
    assert_int_equal(http_method_parse("patch"), HTTP_OTHER);
    assert_int_equal(http_method_parse("TRACE"), HTTP_OTHER);
    assert_int_equal(http_method_parse("GET "), HTTP_OTHER);
    assert_int_equal(http_method_parse("GETX"), HTTP_OTHER);
    assert_int_equal(http_method_parse(""), HTTP_OTHER);
    assert_int_equal(http_method_parse(NULL), HTTP_OTHER);
}

/* The one method table: names, and the Allow value of a set of bits. */
static void test_method_names_and_allow(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(http_method_name(HTTP_GET), "GET");
    assert_string_equal(http_method_name(HTTP_HEAD), "HEAD");
    assert_string_equal(http_method_name(HTTP_POST), "POST");
    assert_string_equal(http_method_name(HTTP_PUT), "PUT");
    assert_string_equal(http_method_name(HTTP_DELETE), "DELETE");
    assert_string_equal(http_method_name(HTTP_OTHER), "-");
    assert_string_equal(http_method_name(HTTP_GET | HTTP_HEAD), "-");
    for (unsigned m = HTTP_GET; m <= HTTP_DELETE; m <<= 1)
        assert_int_equal(http_method_parse(http_method_name((enum http_method)m)), m);

    assert_int_equal(http_allow_format(HTTP_GET | HTTP_HEAD, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "GET, HEAD");
    assert_int_equal(http_allow_format(HTTP_DELETE | HTTP_GET, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "GET, DELETE");
    assert_int_equal(http_allow_format(HTTP_PUT, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "PUT");
    assert_int_equal(
        http_allow_format(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_DELETE, buf, 29),
        0);
    assert_string_equal(buf, "GET, HEAD, POST, PUT, DELETE");
    /* does not fit, or nothing to say: refused, and buf left empty */
    assert_int_equal(http_allow_format(HTTP_GET | HTTP_HEAD, buf, 9), -1);
    assert_string_equal(buf, "");
    assert_int_equal(http_allow_format(0, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "");
    assert_int_equal(http_allow_format(HTTP_GET, buf, 0), -1);
}

static void test_request_id(void **state)
{
    struct http_request *r = req_new();
    char long_id[400], want[HTTP_REQUEST_ID_MAX + 1];

    (void)state;
    http_set_request_id(r, "abc-DEF_123.xyz");
    assert_string_equal(r->request_id, "abc-DEF_123.xyz");
    /* the alphabet nginx passes through (Heroku's router ids) is kept whole */
    http_set_request_id(r, "ops+d2/x==:a@b");
    assert_string_equal(r->request_id, "ops+d2/x==:a@b");

    /* control characters (a forged log line) and other bytes are dropped */
    http_set_request_id(r, "abc\r\nstatus=200 forged\tline\x01\x7f\xc3\xa9!\"%");
    assert_string_equal(r->request_id, "abcstatus=200forgedline");

    /* nothing acceptable: stays empty, so the worker generates one */
    http_set_request_id(r, "\r\n\t {}");
    assert_string_equal(r->request_id, "");
    memcpy(r->request_id, "stale", 6);
    http_set_request_id(r, NULL);
    assert_string_equal(r->request_id, "");
    http_set_request_id(r, "");
    assert_string_equal(r->request_id, "");

    /* at most HTTP_REQUEST_ID_MAX kept characters */
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    long_id[HTTP_REQUEST_ID_MAX - 1] = 'Z';
    long_id[HTTP_REQUEST_ID_MAX] = 'Y';
    http_set_request_id(r, long_id);
    assert_int_equal(strlen(r->request_id), HTTP_REQUEST_ID_MAX);
    assert_int_equal(r->request_id[HTTP_REQUEST_ID_MAX - 1], 'Z');

    /* exactly the maximum is kept whole */
    memset(want, 'b', HTTP_REQUEST_ID_MAX);
    want[HTTP_REQUEST_ID_MAX] = '\0';
    http_set_request_id(r, want);
    assert_string_equal(r->request_id, want);

    /* the limit counts kept characters: dropped bytes do not use the budget */
    {
        char mixed[2 * (HTTP_REQUEST_ID_MAX + 10) + 1];
        size_t o = 0;
        for (int i = 0; i < HTTP_REQUEST_ID_MAX + 10; i++) {
            mixed[o++] = '\n';
            mixed[o++] = (char)('a' + i % 26);
        }
        mixed[o] = '\0';
        http_set_request_id(r, mixed);
        assert_int_equal(strlen(r->request_id), HTTP_REQUEST_ID_MAX);
        for (int i = 0; i < HTTP_REQUEST_ID_MAX; i++)
            assert_int_equal(r->request_id[i], 'a' + i % 26);
    }
    free(r);
}

/* --------------------------------------------------------------- decoding */

static void test_decode_basic(void **state)
{
    struct http_request *r = req_new();
    struct http_error err;

    (void)state;
    expect_accepted(r, "mail=a%40b.es&nombre=Jos%C3%A9+Luis&x=%2B%20%2b", NULL, NULL, 0, 3);
    expect_param(r, "mail", "a@b.es", 6);
    expect_param(r, "nombre", "Jos\xc3\xa9 Luis", 10);
    expect_param(r, "x", "+ +", 3);
    /* parameters are kept in order */
    assert_string_equal(r->params[0].name, "mail");
    assert_string_equal(r->params[1].name, "nombre");
    assert_string_equal(r->params[2].name, "x");
    assert_null(http_param(r, "Mail", NULL)); /* names are case-sensitive */
    assert_null(http_param(r, "absent", NULL));

    /* lower- and upper-case hex; '+' in a name too; '=' inside a value */
    expect_accepted(r, "a+b%3d=%c3%A9&c=d=e&%61=1", NULL, NULL, 0, 3);
    expect_param(r, "a b=", "\xc3\xa9", 2);
    expect_param(r, "c", "d=e", 3);
    expect_param(r, "a", "1", 1);

    /* raw (unescaped) UTF-8 is accepted as it is */
    assert_int_equal(parse(r, "n=\xc3\xb1u", NULL, NULL, 0, &err), 0);
    expect_param(r, "n", "\xc3\xb1u", 3);

    /* no query at all */
    expect_accepted(r, NULL, NULL, NULL, 0, 0);
    free(r);
}

static void test_decode_empty_segments(void **state)
{
    struct http_request *r = req_new();

    (void)state;
    expect_accepted(r, "", NULL, NULL, 0, 0);
    expect_accepted(r, "&", NULL, NULL, 0, 0);
    expect_accepted(r, "&&&", NULL, NULL, 0, 0);
    expect_accepted(r, "&&a=1&&b=2&", NULL, NULL, 0, 2);
    expect_param(r, "a", "1", 1);
    expect_param(r, "b", "2", 1);

    /* a name without '=' has an empty value, as has "name=" */
    expect_accepted(r, "flag&mail=&c", NULL, NULL, 0, 3);
    expect_param(r, "flag", "", 0);
    expect_param(r, "mail", "", 0);
    expect_param(r, "c", "", 0);
    free(r);
}

static void test_decode_malformed_escapes(void **state)
{
    static const char bad_escape[] = "Parametro 'a' invalido: codificacion porcentual invalida";

    (void)state;
    expect_bad_query("a=%", bad_escape);        /* '%' at the end */
    expect_bad_query("a=%&b=1", bad_escape);    /* '%' at the end of a segment */
    expect_bad_query("a=%G1", bad_escape);      /* not hex */
    expect_bad_query("a=%1G", bad_escape);
    expect_bad_query("a=%4", bad_escape);       /* truncated */
    expect_bad_query("a=%4&b=1", bad_escape);   /* truncated by the '&' */
    expect_bad_query("a=x%-1", bad_escape);
    expect_bad_query("a=% 1", bad_escape);
    expect_bad_query("a=%%41", bad_escape);
    expect_bad_query("b=1&a=%", bad_escape);    /* after a good parameter */
    expect_bad_query("a=%0", bad_escape);
    /* in the name */
    expect_bad_query("%=1", "Nombre de parametro invalido: codificacion porcentual invalida");
    expect_bad_query("a%G1=1", "Nombre de parametro invalido: codificacion porcentual invalida");
    expect_bad_query("a%4=1", "Nombre de parametro invalido: codificacion porcentual invalida");
    expect_bad_query("a%", "Nombre de parametro invalido: codificacion porcentual invalida");
}

static void test_decode_nul(void **state)
{
    (void)state;
    expect_bad_query("a=%00", "Parametro 'a' invalido: contiene un byte nulo");
    expect_bad_query("a=x%00y", "Parametro 'a' invalido: contiene un byte nulo");
    expect_bad_query("%00=1", "Nombre de parametro invalido: contiene un byte nulo");
    expect_bad_query("a%00b=1", "Nombre de parametro invalido: contiene un byte nulo");
}

static void test_decode_invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "a=%FF",             /* never valid */
        "a=%fe",
        "a=%C0%AF",          /* overlong '/' */
        "a=%C1%BF",          /* overlong */
        "a=%E0%80%AF",       /* overlong, 3 bytes */
        "a=%F0%80%80%AF",    /* overlong, 4 bytes */
        "a=%C3",             /* truncated */
        "a=%C3x",            /* lead byte followed by ASCII */
        "a=%E2%82",          /* truncated 3-byte */
        "a=%ED%A0%80",       /* UTF-16 surrogate U+D800 */
        "a=%ED%BF%BF",       /* surrogate U+DFFF */
        "a=%80",             /* stray continuation */
        "a=x%BFy",
        "a=%F4%90%80%80",    /* past U+10FFFF */
        "a=%F5%80%80%80",
        "a=\xff",            /* raw, not escaped */
        "a=\xc3",
        "a=\xed\xa0\x80",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_bad_query(bad[i], "Parametro 'a' invalido: UTF-8 invalido");
    expect_bad_query("%FF=1", "Nombre de parametro invalido: UTF-8 invalido");
    expect_bad_query("%C0%AF=1", "Nombre de parametro invalido: UTF-8 invalido");
    expect_bad_query("%ED%A0%80", "Nombre de parametro invalido: UTF-8 invalido");
}

static void test_decode_valid_utf8_edges(void **state)
{
    struct http_request *r = req_new();
    struct http_error err;

    (void)state;
    assert_int_equal(parse(r,
                           "a=%C2%80&b=%ED%9F%BF&c=%EE%80%80&d=%F0%9F%98%80&e=%F4%8F%BF%BF"
                           "&f=%DF%BF&g=%7F",
                           NULL, NULL, 0, &err),
                     0);
    expect_param(r, "a", "\xc2\x80", 2);         /* U+0080 */
    expect_param(r, "b", "\xed\x9f\xbf", 3);     /* U+D7FF, just below the surrogates */
    expect_param(r, "c", "\xee\x80\x80", 3);     /* U+E000, just above */
    expect_param(r, "d", "\xf0\x9f\x98\x80", 4); /* U+1F600 */
    expect_param(r, "e", "\xf4\x8f\xbf\xbf", 4); /* U+10FFFF */
    expect_param(r, "f", "\xdf\xbf", 2);
    expect_param(r, "g", "\x7f", 1); /* control chars are the validators' business */
    free(r);
}

static void test_decode_repeats(void **state)
{
    struct http_request *r = req_new();
    struct http_error err;
    static const char form[] = "application/x-www-form-urlencoded";

    (void)state;
    expect_bad_query("a=1&a=2", "Parametro 'a' repetido");
    expect_bad_query("a=1&a=1", "Parametro 'a' repetido");
    expect_bad_query("a&a", "Parametro 'a' repetido");
    expect_bad_query("mail=x&nombre=y&mail=z", "Parametro 'mail' repetido");
    expect_bad_query("a=1&%61=2", "Parametro 'a' repetido"); /* compared decoded */
    /* once in the query and once in a form body */
    expect_refused("mail=a@b.es", form, "mail=c@d.es", 11, 400, "Parametro 'mail' repetido");
    /* and twice in the body */
    expect_refused(NULL, form, "n=1&n=2", 7, 400, "Parametro 'n' repetido");

    /* names differing by case are different names */
    assert_int_equal(parse(r, "a=1&A=2", NULL, NULL, 0, &err), 0);
    expect_param(r, "a", "1", 1);
    expect_param(r, "A", "2", 1);
    free(r);
}

static void test_decode_repeat_message_is_cut_on_utf8_boundary(void **state)
{
    char query[600], name[200];
    size_t o = 0;
    struct http_request *r = req_new();
    struct http_error err;

    (void)state;
    /* "a" then 60 x "é": the 64-byte cut falls inside an "é" */
    name[o++] = 'a';
    for (int i = 0; i < 60; i++) {
        name[o++] = '\xc3';
        name[o++] = '\xa9';
    }
    name[o] = '\0';
    snprintf(query, sizeof(query), "%s=1&%s=2", name, name);
    assert_int_equal(parse(r, query, NULL, NULL, 0, &err), 400);
    /* 'a' + 31 x "é" = 63 bytes: the partial sequence is dropped */
    assert_int_equal(strlen(err.mensaje), strlen("Parametro '' repetido") + 63);
    assert_memory_equal(err.mensaje + strlen("Parametro '"), name, 63);
    assert_string_equal(err.mensaje + strlen("Parametro '") + 63, "' repetido");

    /* the same cut when the value is what is wrong */
    snprintf(query, sizeof(query), "%s=%%FF", name);
    assert_int_equal(parse(r, query, NULL, NULL, 0, &err), 400);
    assert_memory_equal(err.mensaje + strlen("Parametro '"), name, 63);
    assert_string_equal(err.mensaje + strlen("Parametro '") + 63, "' invalido: UTF-8 invalido");

    /* an ASCII name is cut at exactly 64 bytes */
    memset(name, 'n', 100);
    name[100] = '\0';
    snprintf(query, sizeof(query), "%s=%%", name);
    assert_int_equal(parse(r, query, NULL, NULL, 0, &err), 400);
    name[64] = '\0';
    snprintf(query, sizeof(query), "Parametro '%s' invalido: codificacion porcentual invalida",
             name);
    assert_string_equal(err.mensaje, query);
    free(r);
}

/* A name of control characters, repeated: the message quotes 64 of them, each
 * escaped to six bytes by the renderer, and must still come out whole rather
 * than as the out-of-room fallback. */
static void test_decode_control_name_renders(void **state)
{
    char query[1200];
    size_t o = 0;
    struct http_request *r = req_new();
    struct http_error err;
    struct cgi_out out;
    struct http_response res;
    struct cgi_resp rp;
    cJSON *j;

    (void)state;
    for (int k = 0; k < 2; k++) {
        if (k)
            query[o++] = '&';
        for (int i = 0; i < 80; i++)
            o += (size_t)snprintf(query + o, sizeof(query) - o, "%%01");
        o += (size_t)snprintf(query + o, sizeof(query) - o, "=%d", k);
    }
    assert_int_equal(parse(r, query, NULL, NULL, 0, &err), 400);
    assert_int_equal(strlen(err.mensaje), strlen("Parametro '' repetido") + 64);
    cgi_out_init(&out);
    http_response_init(&res, cgi_out_write, &out, false);
    assert_int_equal(http_send_error(&res, &err), 0);
    cgi_split_response(&out, &rp);
    j = cJSON_ParseWithLength(rp.body, rp.body_len);
    assert_non_null(j);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "mensaje")),
                        err.mensaje);
    cJSON_Delete(j);
    cgi_out_free(&out);
    free(r);
}

static void test_decode_too_many_params(void **state)
{
    struct http_request *r = req_new();
    char query[512], body[64];
    size_t o = 0;

    (void)state;
    for (int i = 0; i < HTTP_MAX_PARAMS; i++)
        o += (size_t)snprintf(query + o, sizeof(query) - o, "%sp%d=%d", i ? "&" : "", i, i);
    /* exactly HTTP_MAX_PARAMS is fine */
    expect_accepted(r, query, NULL, NULL, 0, HTTP_MAX_PARAMS);
    expect_param(r, "p15", "15", 2);
    /* empty segments do not count */
    {
        char q2[600];
        snprintf(q2, sizeof(q2), "&&%s&&&", query);
        expect_accepted(r, q2, NULL, NULL, 0, HTTP_MAX_PARAMS);
    }
    /* one more is refused */
    snprintf(query + o, sizeof(query) - o, "&extra=1");
    expect_bad_query(query, "Demasiados parametros (maximo 16)");
    /* ... also when the extra one comes from a form body */
    query[o] = '\0';
    snprintf(body, sizeof(body), "extra=1");
    expect_refused(query, "application/x-www-form-urlencoded", body, strlen(body), 400,
                   "Demasiados parametros (maximo 16)");
    free(r);
}

static void test_decode_empty_name(void **state)
{
    (void)state;
    expect_bad_query("=x", "Parametro sin nombre");
    expect_bad_query("=", "Parametro sin nombre");
    expect_bad_query("a=1&=x", "Parametro sin nombre");
    expect_bad_query("=x&a=1", "Parametro sin nombre");
}

static void test_decode_query_too_long(void **state)
{
    struct http_request *r = req_new();
    struct http_error err;
    char *q = malloc(HTTP_QUERY_MAX + 2);

    (void)state;
    assert_non_null(q);
    /* exactly HTTP_QUERY_MAX bytes decodes */
    q[0] = 'a';
    q[1] = '=';
    memset(q + 2, 'x', HTTP_QUERY_MAX - 2);
    q[HTTP_QUERY_MAX] = '\0';
    assert_int_equal(parse(r, q, NULL, NULL, 0, &err), 0);
    assert_int_equal(r->params[0].value_len, HTTP_QUERY_MAX - 2);
    /* one byte more is a 414 */
    q[HTTP_QUERY_MAX] = 'x';
    q[HTTP_QUERY_MAX + 1] = '\0';
    expect_refused(q, NULL, NULL, 0, 414, "Consulta demasiado larga");
    free(q);
    free(r);
}

static void test_decode_form_body(void **state)
{
    struct http_request *r = req_new();
    struct http_error err;
    static const char body[] = "nombre=Ana+Mar%C3%ADa&mail=ana%40x.es&flag";
    /* not NUL-terminated at body_len: the bytes after must not be read */
    static const char longer[] = "a=1&b=2GARBAGE=%";
    static const char *const form_types[] = {
        "application/x-www-form-urlencoded",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "application/x-www-form-urlencoded ;charset=UTF-8",
    };
    static const struct {
        const char *query, *ctype, *body;
        int nparams; /* those of the query only */
    } not_forms[] = {
        {"x=1", "application/json", "{\"a\":1}", 1},
        {NULL, "application/json; charset=utf-8", "a=1&b=2", 0},
        {NULL, NULL, "a=1", 0},
        {NULL, "text/plain", "a=1", 0},
        {NULL, "application/x-www-form-urlencodedX", "a=1", 0},
        {NULL, "multipart/form-data; boundary=x", "a=1", 0},
    };

    (void)state;
    expect_accepted(r, "x=1", "application/x-www-form-urlencoded; charset=utf-8", body,
                    strlen(body), 4);
    expect_param(r, "x", "1", 1);
    expect_param(r, "nombre", "Ana Mar\xc3\xad" "a", 10);
    expect_param(r, "mail", "ana@x.es", 8);
    expect_param(r, "flag", "", 0);

    /* plain, upper-case, and with a space before the parameter */
    for (size_t i = 0; i < sizeof(form_types) / sizeof(form_types[0]); i++) {
        assert_int_equal(parse(r, NULL, form_types[i], "a=1", 3, &err), 0);
        expect_param(r, "a", "1", 1);
    }

    expect_accepted(r, NULL, "application/x-www-form-urlencoded", longer, 7, 2);
    expect_param(r, "b", "2", 1);

    /* a JSON body (or no / another Content-Type) is not decoded as a form */
    for (size_t i = 0; i < sizeof(not_forms) / sizeof(not_forms[0]); i++)
        expect_accepted(r, not_forms[i].query, not_forms[i].ctype, not_forms[i].body,
                        strlen(not_forms[i].body), not_forms[i].nparams);
    /* an empty form body is nothing */
    expect_accepted(r, NULL, "application/x-www-form-urlencoded", "", 0, 0);
    free(r);
}

static void test_decode_form_body_refusals(void **state)
{
    static const char form[] = "application/x-www-form-urlencoded";
    static const char raw_nul[] = {'a', '=', 'x', '\0', 'y'};
    char *big;

    (void)state;
    /* a raw NUL in the body (bodies have a length, not a terminator) */
    expect_refused(NULL, form, raw_nul, sizeof(raw_nul), 400,
                   "Parametro 'a' invalido: contiene un byte nulo");
    expect_refused(NULL, form, "a=%FF", 5, 400, "Parametro 'a' invalido: UTF-8 invalido");
    expect_refused(NULL, form, "a=%", 3, 400,
                   "Parametro 'a' invalido: codificacion porcentual invalida");
    expect_refused(NULL, form, "=1", 2, 400, "Parametro sin nombre");
    /* the escape may not run past body_len even if the buffer goes on */
    expect_refused(NULL, form, "a=%41", 4, 400,
                   "Parametro 'a' invalido: codificacion porcentual invalida");

    big = malloc(HTTP_BODY_MAX + 1);
    assert_non_null(big);
    memset(big, 'x', HTTP_BODY_MAX + 1);
    big[0] = 'a';
    big[1] = '=';
    expect_refused(NULL, form, big, HTTP_BODY_MAX + 1, 413,
                   "Cuerpo de la peticion demasiado grande");
    {
        /* exactly HTTP_BODY_MAX together with a full query still fits */
        struct http_request *r = req_new();
        char *q = malloc(HTTP_QUERY_MAX + 1);
        assert_non_null(q);
        memset(q, 'y', HTTP_QUERY_MAX);
        q[0] = 'q';
        q[1] = '=';
        q[HTTP_QUERY_MAX] = '\0';
        expect_accepted(r, q, form, big, HTTP_BODY_MAX, 2);
        assert_int_equal(r->params[0].value_len, HTTP_QUERY_MAX - 2);
        assert_int_equal(r->params[1].value_len, HTTP_BODY_MAX - 2);
        free(q);
        free(r);
    }
    free(big);
}

/* GET and HEAD take no body: one is refused whatever its type, rather than
 * silently read (a form) or ignored (anything else). */
static void test_body_on_safe_methods(void **state)
{
    static const char *const types[] = {"application/x-www-form-urlencoded", "text/plain",
                                        NULL};
    struct http_request *r = req_new();
    struct http_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        r->method = HTTP_GET;
        assert_int_equal(parse(r, "mail=a%40b.es", types[i], "mail=x%40y.es", 13, &err), 400);
        assert_string_equal(err.mensaje, "Una peticion GET no admite cuerpo");
        r->method = HTTP_HEAD;
        assert_int_equal(parse(r, NULL, types[i], "x", 1, &err), 400);
        assert_string_equal(err.mensaje, "Una peticion HEAD no admite cuerpo");
    }
    /* an empty body is no body */
    r->method = HTTP_GET;
    expect_accepted(r, "mail=a%40b.es", "application/x-www-form-urlencoded", "", 0, 1);
    /* the writing methods take theirs */
    r->method = HTTP_POST;
    expect_accepted(r, NULL, "application/x-www-form-urlencoded", "a=1&b=2", 7, 2);
    r->method = HTTP_PUT;
    expect_accepted(r, "a=1", "application/x-www-form-urlencoded", "b=2", 3, 2);
    r->method = HTTP_DELETE;
    expect_accepted(r, NULL, "application/x-www-form-urlencoded", "mail=a%40b.es", 13, 1);
    free(r);
}

static void test_parse_params_resets(void **state)
{
    struct http_request *r = req_new();
    struct http_error err;

    (void)state;
    expect_accepted(r, "a=1&b=2", NULL, NULL, 0, 2);
    /* a second request on the same struct (the worker reuses it) */
    expect_accepted(r, "a=3", NULL, NULL, 0, 1);
    expect_param(r, "a", "3", 1);
    assert_null(http_param(r, "b", NULL));

    /* http_parse_form appends: after the query, more from another source */
    assert_int_equal(http_parse_form(r, "c=4&d", 5, &err), 0);
    assert_int_equal(r->nparams, 3);
    expect_param(r, "a", "3", 1);
    expect_param(r, "c", "4", 1);
    expect_param(r, "d", "", 0);
    assert_int_equal(http_parse_form(r, "c=5", 3, &err), 400);
    assert_string_equal(err.mensaje, "Parametro 'c' repetido");
    free(r);
}

/* -------------------------------------------------------------- responses */

static void test_send_json_bytes(void **state)
{
    struct cgi_out o;
    struct http_response res;
    static const char want[] = "Status: 200 OK\r\n"
                               "Content-Type: application/json; charset=utf-8\r\n"
                               "Content-Length: 13\r\n"
                               "\r\n"
                               "{\"status\":42}";

    (void)state;
    cgi_out_init(&o);
    http_response_init(&res, cgi_out_write, &o, false);
    assert_int_equal(http_send_json(&res, 200, NULL, "{\"status\":42}", 13), 0);
    assert_int_equal(o.len, sizeof(want) - 1);
    assert_memory_equal(o.data, want, sizeof(want) - 1);
    assert_true(res.started);
    assert_false(res.failed);
    assert_int_equal(res.status, 200);
    /* nothing more can start: the status line is gone */
    assert_int_equal(http_begin(&res, 404, NULL, 0), -1);
    assert_int_equal(o.len, sizeof(want) - 1);
    assert_int_equal(res.status, 200);
    cgi_out_free(&o);
}

static void test_head_only_and_streamed(void **state)
{
    struct cgi_out o;
    struct http_response res;
    struct cgi_resp r;
    char v[64];

    (void)state;
    /* HEAD: same headers (Content-Length of the body it would send), no body */
    cgi_out_init(&o);
    http_response_init(&res, cgi_out_write, &o, true);
    assert_int_equal(http_send_json(&res, 200, NULL, "{\"a\":\"b\"}", 9), 0);
    cgi_split_response(&o, &r);
    assert_string_equal(r.status_line, "Status: 200 OK");
    assert_string_equal(cgi_header(&r, "Content-Length", v, sizeof(v)), "9");
    assert_int_equal(r.body_len, 0);
    assert_int_equal(http_write(&res, "more", 4), 0);
    assert_int_equal(o.len, (size_t)(r.body - o.data));
    cgi_out_free(&o);

    /* streamed: no Content-Length, extra header lines kept, body appended */
    cgi_out_init(&o);
    http_response_init(&res, cgi_out_write, &o, false);
    assert_int_equal(http_begin(&res, 200, "X-One: 1\r\nX-Two: 2\r\n", -1), 0);
    assert_int_equal(http_write(&res, "{", 1), 0);
    assert_int_equal(http_write(&res, "}", 1), 0);
    assert_int_equal(http_write(&res, "", 0), 0);
    cgi_split_response(&o, &r);
    assert_null(cgi_header(&r, "Content-Length", v, sizeof(v)));
    assert_string_equal(cgi_header(&r, "Content-Type", v, sizeof(v)),
                        "application/json; charset=utf-8");
    assert_string_equal(cgi_header(&r, "X-One", v, sizeof(v)), "1");
    assert_string_equal(cgi_header(&r, "X-Two", v, sizeof(v)), "2");
    assert_int_equal(r.body_len, 2);
    assert_memory_equal(r.body, "{}", 2);
    cgi_out_free(&o);
}

static void test_write_failure_stops(void **state)
{
    struct cgi_out o;
    struct http_response res;

    (void)state;
    /* the peer is gone from the first write */
    cgi_out_init(&o);
    o.fail_from = 0;
    http_response_init(&res, cgi_out_write, &o, false);
    assert_int_equal(http_send_json(&res, 200, NULL, "{}", 2), -1);
    assert_true(res.failed);
    assert_int_equal(o.calls, 1); /* the body was not even tried */
    assert_int_equal(http_write(&res, "x", 1), -1);
    assert_int_equal(o.calls, 1);
    cgi_out_free(&o);

    /* gone after the headers */
    cgi_out_init(&o);
    o.fail_from = 1;
    http_response_init(&res, cgi_out_write, &o, false);
    assert_int_equal(http_begin(&res, 200, NULL, -1), 0);
    assert_int_equal(http_write(&res, "{", 1), -1);
    assert_true(res.failed);
    assert_int_equal(http_write(&res, "}", 1), -1);
    assert_int_equal(o.calls, 2);
    cgi_out_free(&o);

    /* HEAD reports the failure too, without writing */
    cgi_out_init(&o);
    o.fail_from = 0;
    http_response_init(&res, cgi_out_write, &o, true);
    assert_int_equal(http_begin(&res, 200, NULL, 2), -1);
    assert_int_equal(http_write(&res, "{}", 2), -1);
    assert_int_equal(o.calls, 1);
    cgi_out_free(&o);
}

/* Sends err and checks the response has the one error shape. */
static void check_error(const struct http_error *err, bool head_only, const char *want_body,
                        const char *allow, const char *retry)
{
    struct cgi_out o;
    struct http_response res;
    struct cgi_resp r;
    char v[128], line[128];

    cgi_out_init(&o);
    http_response_init(&res, cgi_out_write, &o, head_only);
    assert_int_equal(http_send_error(&res, err), 0);
    assert_int_equal(res.status, err->status);
    cgi_split_response(&o, &r);
    snprintf(line, sizeof(line), "Status: %d %s", err->status, http_reason(err->status));
    assert_string_equal(r.status_line, line);
    assert_string_equal(cgi_header(&r, "Content-Type", v, sizeof(v)),
                        "application/json; charset=utf-8");
    assert_non_null(cgi_header(&r, "Content-Length", v, sizeof(v)));
    assert_int_equal(strtoul(v, NULL, 10), strlen(want_body));
    if (head_only) {
        assert_int_equal(r.body_len, 0);
    } else {
        assert_int_equal(r.body_len, strlen(want_body));
        assert_memory_equal(r.body, want_body, r.body_len);
    }
    if (allow)
        assert_string_equal(cgi_header(&r, "Allow", v, sizeof(v)), allow);
    else
        assert_null(cgi_header(&r, "Allow", v, sizeof(v)));
    if (retry)
        assert_string_equal(cgi_header(&r, "Retry-After", v, sizeof(v)), retry);
    else
        assert_null(cgi_header(&r, "Retry-After", v, sizeof(v)));
    cgi_out_free(&o);
}

static void test_send_error_shapes(void **state)
{
    struct http_error err;

    (void)state;
    assert_int_equal(http_fail(&err, 404, "Ruta no encontrada"), 404);
    check_error(&err, false, "{\"mensaje\":\"Ruta no encontrada\",\"status\":\"404\"}", NULL,
                NULL);
    check_error(&err, true, "{\"mensaje\":\"Ruta no encontrada\",\"status\":\"404\"}", NULL, NULL);

    assert_int_equal(http_fail(&err, 400, "Falta el parametro '%s'", "mail"), 400);
    check_error(&err, false, "{\"mensaje\":\"Falta el parametro 'mail'\",\"status\":\"400\"}",
                NULL, NULL);

    http_fail(&err, 405, "Metodo no permitido");
    err.allow = "GET, HEAD";
    check_error(&err, false, "{\"mensaje\":\"Metodo no permitido\",\"status\":\"405\"}",
                "GET, HEAD", NULL);

    http_fail(&err, 503, "Servicio no disponible temporalmente");
    err.retry_after = 7;
    check_error(&err, false,
                "{\"mensaje\":\"Servicio no disponible temporalmente\",\"status\":\"503\"}", NULL,
                "7");
    err.allow = "POST";
    check_error(&err, true,
                "{\"mensaje\":\"Servicio no disponible temporalmente\",\"status\":\"503\"}", "POST",
                "7");

    /* quotes, backslashes and control characters are escaped; non-ASCII is
     * sent raw and Content-Length counts bytes */
    http_fail(&err, 400, "Parametro 'a\"b\\c\x01' a\xc3\xb1o");
    check_error(&err, false,
                "{\"mensaje\":\"Parametro 'a\\\"b\\\\c\\u0001' a\xc3\xb1o\",\"status\":\"400\"}",
                NULL, NULL);

    http_fail(&err, 414, "Consulta demasiado larga");
    check_error(&err, false, "{\"mensaje\":\"Consulta demasiado larga\",\"status\":\"414\"}",
                NULL, NULL);
}

static void test_send_error_longest_message(void **state)
{
    struct http_error err;
    char msg[HTTP_MESSAGE_MAX * 2];
    struct cgi_out o;
    struct http_response res;
    struct cgi_resp r;
    cJSON *j;

    (void)state;
    /* the longest message, every byte a quote (doubled when escaped) */
    memset(msg, '"', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    http_fail(&err, 400, "%s", msg);
    assert_int_equal(strlen(err.mensaje), HTTP_MESSAGE_MAX - 1);
    cgi_out_init(&o);
    http_response_init(&res, cgi_out_write, &o, false);
    assert_int_equal(http_send_error(&res, &err), 0);
    cgi_split_response(&o, &r);
    j = cJSON_ParseWithLength(r.body, r.body_len);
    assert_non_null(j);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "mensaje")),
                        err.mensaje);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status")),
                        "400");
    cJSON_Delete(j);
    cgi_out_free(&o);

    /* and every byte a control character (six bytes each when escaped) */
    memset(msg, '\x01', sizeof(msg) - 1);
    http_fail(&err, 400, "%s", msg);
    cgi_out_init(&o);
    http_response_init(&res, cgi_out_write, &o, false);
    assert_int_equal(http_send_error(&res, &err), 0);
    cgi_split_response(&o, &r);
    assert_int_equal(r.body_len, strlen("{\"mensaje\":\"\",\"status\":\"400\"}") +
                                     6 * (HTTP_MESSAGE_MAX - 1));
    j = cJSON_ParseWithLength(r.body, r.body_len);
    assert_non_null(j);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "mensaje")),
                        err.mensaje);
    cJSON_Delete(j);
    cgi_out_free(&o);
}

static void test_send_error_after_start(void **state)
{
    struct cgi_out o;
    struct http_response res;
    struct http_error err;
    size_t len;

    (void)state;
    cgi_out_init(&o);
    http_response_init(&res, cgi_out_write, &o, false);
    assert_int_equal(http_begin(&res, 200, NULL, -1), 0);
    assert_int_equal(http_write(&res, "{", 1), 0);
    len = o.len;
    http_fail(&err, 503, "Servicio no disponible temporalmente");
    assert_int_equal(http_send_error(&res, &err), -1);
    assert_int_equal(o.len, len);
    assert_int_equal(res.status, 200);
    cgi_out_free(&o);
}

static void test_fail_and_reason(void **state)
{
    struct http_error err;
    char big[HTTP_MESSAGE_MAX + 50];

    (void)state;
    err.allow = "GET";
    err.retry_after = 3;
    assert_int_equal(http_fail(&err, 400, "x %d y %s", 12, "z"), 400);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.mensaje, "x 12 y z");
    assert_null(err.allow);
    assert_int_equal(err.retry_after, 0);

    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    http_fail(&err, 400, "%s", big);
    assert_int_equal(strlen(err.mensaje), HTTP_MESSAGE_MAX - 1);

    assert_string_equal(http_reason(200), "OK");
    assert_string_equal(http_reason(400), "Bad Request");
    assert_string_equal(http_reason(403), "Forbidden");
    assert_string_equal(http_reason(404), "Not Found");
    assert_string_equal(http_reason(405), "Method Not Allowed");
    assert_string_equal(http_reason(411), "Length Required");
    assert_string_equal(http_reason(413), "Payload Too Large");
    assert_string_equal(http_reason(414), "URI Too Long");
    assert_string_equal(http_reason(500), "Internal Server Error");
    assert_string_equal(http_reason(503), "Service Unavailable");
    assert_string_equal(http_reason(418), "Unknown");
    assert_string_equal(http_reason(0), "Unknown");
}

/* One percent-encoder for URIs: unreserved characters kept, `keep` kept,
 * every other byte (UTF-8 included) as %XX; a value that does not fit is
 * -1 with whole escapes only. */
static void test_pct_encode(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(http_pct_encode("ana.lopez-1_~@example.com", NULL, out, sizeof(out)), 0);
    assert_string_equal(out, "ana.lopez-1_~%40example.com");
    assert_int_equal(http_pct_encode("ana@example.com", "@", out, sizeof(out)), 0);
    assert_string_equal(out, "ana@example.com");
    assert_int_equal(http_pct_encode("/ui/x?a=b&c=d e%\xc3\xb1", NULL, out, sizeof(out)), 0);
    assert_string_equal(out, "%2Fui%2Fx%3Fa%3Db%26c%3Dd%20e%25%C3%B1");
    assert_int_equal(http_pct_encode(NULL, NULL, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(http_pct_encode("abc", NULL, out, 4), 0);
    assert_string_equal(out, "abc");
    assert_int_equal(http_pct_encode("abcd", NULL, out, 4), -1);
    assert_string_equal(out, "abc");
    assert_int_equal(http_pct_encode("a b", NULL, out, 4), -1); /* "%20" does not fit after a */
    assert_string_equal(out, "a");
    assert_int_equal(http_pct_encode("a", NULL, out, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_parse),
        cmocka_unit_test(test_method_names_and_allow),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_decode_basic),
        cmocka_unit_test(test_decode_empty_segments),
        cmocka_unit_test(test_decode_malformed_escapes),
        cmocka_unit_test(test_decode_nul),
        cmocka_unit_test(test_decode_invalid_utf8),
        cmocka_unit_test(test_decode_valid_utf8_edges),
        cmocka_unit_test(test_decode_repeats),
        cmocka_unit_test(test_decode_repeat_message_is_cut_on_utf8_boundary),
        cmocka_unit_test(test_decode_control_name_renders),
        cmocka_unit_test(test_decode_too_many_params),
        cmocka_unit_test(test_decode_empty_name),
        cmocka_unit_test(test_decode_query_too_long),
        cmocka_unit_test(test_decode_form_body),
        cmocka_unit_test(test_decode_form_body_refusals),
        cmocka_unit_test(test_body_on_safe_methods),
        cmocka_unit_test(test_parse_params_resets),
        cmocka_unit_test(test_send_json_bytes),
        cmocka_unit_test(test_head_only_and_streamed),
        cmocka_unit_test(test_write_failure_stops),
        cmocka_unit_test(test_send_error_shapes),
        cmocka_unit_test(test_send_error_longest_message),
        cmocka_unit_test(test_send_error_after_start),
        cmocka_unit_test(test_fail_and_reason),
        cmocka_unit_test(test_pct_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
