/* test_route_v1.c - the /v1 rows of the route table through route_dispatch()
 * over a real SQLite store, without nginx: the {mail} segment matched on the
 * target as sent and decoded once, problem+json for every refusal (the
 * fields of a 422 listed), a large body refused but on the import, OPTIONS
 * and CORS, REQUIRE_IF_MATCH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cgi_support.h"
#include "accounts.h"
#include "manager.h"
#include "route.h"
#include "support.h"
#include "v1.h"

struct vfx {
    char dir[512];
    char bearer[96]; /* "Bearer <an admin token>", sent with every request */
    struct store *store;
    struct http_request req;
    struct cgi_out out;
    struct cgi_resp r;
};

static int setup(void **state)
{
    static struct vfx f;
    char db[600], url[700], err[256];
    struct client c;

    memset(&f, 0, sizeof(f));
    if (ts_mkdtemp(f.dir, sizeof(f.dir), NULL) != 0)
        return -1;
    ts_join(db, sizeof(db), f.dir, "v1.db");
    snprintf(url, sizeof(url), "sqlite://%s", db);
    if (store_open(url, &f.store, err, sizeof(err)) != CL_OK)
        return -1;
    ts_client(&c, "Ana", "Ruiz", "a/b@x.es", "1990-01-02", "Calle 1");
    if (manager_create(f.store, &c, NULL, NULL) != CL_OK)
        return -1;
    {
        struct accounts_config ac;
        struct principal op;
        char token[TOKEN_TEXT_LEN + 1];
        accounts_config_default(&ac);
        principal_operator(&op);
        if (accounts_token_create(f.store, &ac, &op, "pruebas", ROLE_ADMIN, NULL, 0, token, NULL,
                                  NULL) != CL_OK)
            return -1;
        snprintf(f.bearer, sizeof(f.bearer), "Bearer %s", token);
    }
    cgi_out_init(&f.out);
    v1_configure(&(struct v1_settings){0});
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct vfx *f = *state;

    cgi_out_free(&f->out);
    store_close(f->store);
    ts_rmtree(f->dir);
    v1_configure(&(struct v1_settings){0});
    return 0;
}

/* One request: path as nginx normalises it, raw as the client sent it. */
static int send_v1(struct vfx *f, const char *method, const char *path, const char *raw,
                   const char *query, const char *ctype, const char *body)
{
    struct http_response res;

    memset(&f->req, 0, sizeof(f->req));
    f->req.method_name = method;
    f->req.method = http_method_parse(method);
    f->req.path = path;
    f->req.raw_uri = raw;
    f->req.query = query;
    f->req.content_type = ctype;
    f->req.body = body ? body : "";
    f->req.body_len = body ? strlen(body) : 0;
    f->req.host = "api.example";
    f->req.scheme = "https";
    f->req.authorization = f->bearer;
    snprintf(f->req.request_id, sizeof(f->req.request_id), "t");
    cgi_out_reset(&f->out);
    http_response_init(&res, cgi_out_write, &f->out, f->req.method == HTTP_HEAD);
    route_dispatch(f->store, &f->req, &res);
    cgi_split_response(&f->out, &f->r);
    return f->r.status;
}

/* The last response is a problem of `status` (and, when given, names `field`). */
static void expect_problem(struct vfx *f, int status, const char *field)
{
    char ct[128];
    cJSON *j;

    assert_int_equal(f->r.status, status);
    assert_non_null(cgi_header(&f->r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/problem+json");
    j = cJSON_ParseWithLength(f->r.body, f->r.body_len);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "about:blank");
    assert_int_equal(cJSON_GetObjectItem(j, "status")->valueint, status);
    assert_string_equal(cJSON_GetObjectItem(j, "title")->valuestring, http_reason(status));
    assert_true(strlen(cJSON_GetObjectItem(j, "detail")->valuestring) > 0);
    if (field) {
        const cJSON *e, *errs = cJSON_GetObjectItem(j, "errors");
        bool found = false;
        assert_non_null(errs);
        cJSON_ArrayForEach(e, errs)
            found |= strcmp(cJSON_GetObjectItem(e, "field")->valuestring, field) == 0;
        assert_true(found);
    }
    cJSON_Delete(j);
}

static void test_mail_segment_on_the_raw_target(void **state)
{
    struct vfx *f = *state;
    char etag[32];

    /* nginx would hand over "/v1/clientes/a/b@x.es": the raw target decides */
    assert_int_equal(send_v1(f, "GET", "/v1/clientes/a/b@x.es", "/v1/clientes/a%2Fb@x.es", NULL,
                             NULL, NULL),
                     200);
    assert_non_null(strstr(f->r.body, "\"mail\":\"a/b@x.es\""));
    assert_non_null(cgi_header(&f->r, "ETag", etag, sizeof(etag)));
    /* a query does not take part in the match */
    assert_int_equal(send_v1(f, "GET", "/v1/clientes/a/b@x.es", "/v1/clientes/a%2fb@x.es?",
                             "", NULL, NULL),
                     200);
    /* decoded once: %252F is "%2F" */
    send_v1(f, "GET", "/v1/clientes/a%2Fb@x.es", "/v1/clientes/a%252Fb@x.es", NULL, NULL, NULL);
    expect_problem(f, 404, NULL);
    /* bad escapes, NUL, invalid UTF-8: 400 */
    static const char *const bad[] = {"/v1/clientes/a%G1@x.es", "/v1/clientes/a%00@x.es",
                                      "/v1/clientes/a%FF@x.es", "/v1/clientes/a%2@x.es",
                                      "/v1/clientes/a%2Fb@x.es%/history"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        send_v1(f, "GET", "/v1/clientes/x", bad[i], NULL, NULL, NULL);
        expect_problem(f, 400, NULL);
    }
    /* no segment, an empty one, one past the mail's length */
    send_v1(f, "GET", "/v1/clientes//history", "/v1/clientes//history", NULL, NULL, NULL);
    expect_problem(f, 404, NULL);
    char longer[1200] = "/v1/clientes/";
    memset(longer + strlen(longer), 'a', 600);
    strcat(longer, "@x.es");
    send_v1(f, "GET", longer, longer, NULL, NULL, NULL);
    expect_problem(f, 404, NULL);
    /* without REQUEST_URI (a test, a worker run alone) the path is matched */
    assert_int_equal(send_v1(f, "GET", "/v1/clientes/a%2Fb@x.es/history", NULL, NULL, NULL, NULL),
                     200);
}

static void test_problems(void **state)
{
    struct vfx *f = *state;
    char allow[96];

    send_v1(f, "GET", "/v1/nada", "/v1/nada", NULL, NULL, NULL);
    expect_problem(f, 404, NULL);
    send_v1(f, "POST", "/v1/clientes/a/b@x.es", "/v1/clientes/a%2Fb@x.es", NULL, NULL, NULL);
    expect_problem(f, 405, NULL);
    assert_non_null(cgi_header(&f->r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "GET, HEAD, PUT, DELETE, PATCH, OPTIONS");
    send_v1(f, "GET", "/v1/clientes", "/v1/clientes?limite=3", "limite=3", NULL, NULL);
    expect_problem(f, 400, "limite");
    send_v1(f, "POST", "/v1/clientes", "/v1/clientes", NULL, "application/json",
            "{\"mail\":\"x\",\"nombre\":1,\"otro\":true}");
    expect_problem(f, 422, "otro");
    expect_problem(f, 422, "mail");
    expect_problem(f, 422, "direccion");
    send_v1(f, "POST", "/v1/clientes", "/v1/clientes", NULL, "text/plain", "{}");
    expect_problem(f, 415, NULL);
    /* the legacy routes keep their own shape */
    assert_int_equal(send_v1(f, "GET", "/nada", "/nada", NULL, NULL, NULL), 404);
    assert_non_null(strstr(f->r.body, "\"mensaje\""));
}

static long never(void *ctx, char *buf, size_t len)
{
    (void)ctx, (void)buf, (void)len;
    return -1;
}

static void test_large_body_only_for_the_import(void **state)
{
    struct vfx *f = *state;
    struct http_response res;

    /* a body beyond HTTP_BODY_MAX left pending: 413 on any route but the import */
    static const char *const paths[] = {"/v1/clientes", "/aniadir"};
    for (int i = 0; i < 2; i++) {
        memset(&f->req, 0, sizeof(f->req));
        f->req.method_name = "POST";
        f->req.method = HTTP_POST;
        f->req.path = f->req.raw_uri = paths[i];
        f->req.content_type = "application/json";
        f->req.body = "";
        f->req.body_pending = HTTP_BODY_MAX + 1;
        f->req.body_read = never;
        f->req.authorization = f->bearer;
        cgi_out_reset(&f->out);
        http_response_init(&res, cgi_out_write, &f->out, false);
        route_dispatch(f->store, &f->req, &res);
        cgi_split_response(&f->out, &f->r);
        assert_int_equal(f->r.status, 413);
        if (i == 0)
            expect_problem(f, 413, NULL);
    }
    /* the import takes it, and a body that then cannot be read is a 400 */
    f->req.path = f->req.raw_uri = "/v1/clientes/import";
    f->req.content_type = "text/csv";
    cgi_out_reset(&f->out);
    http_response_init(&res, cgi_out_write, &f->out, false);
    route_dispatch(f->store, &f->req, &res);
    cgi_split_response(&f->out, &f->r);
    expect_problem(f, 400, NULL);
    /* and nothing was stored */
    long long n = -1;
    assert_int_equal(manager_count(f->store, &n), CL_OK);
    assert_int_equal(n, 2); /* the example client and a/b@x.es */
}

static void test_options_and_cors(void **state)
{
    struct vfx *f = *state;
    char v[256];

    assert_int_equal(send_v1(f, "OPTIONS", "/v1/audit", "/v1/audit", NULL, NULL, NULL), 204);
    assert_string_equal(cgi_header(&f->r, "Allow", v, sizeof(v)), "GET, HEAD, OPTIONS");
    assert_null(cgi_header(&f->r, "Access-Control-Allow-Origin", v, sizeof(v)));
    assert_int_equal(f->r.body_len, 0);
    v1_configure(&(struct v1_settings){.cors_origins = "https://app.example"});
    memset(&f->req, 0, sizeof(f->req));
    struct http_response res;
    f->req.method_name = "OPTIONS";
    f->req.method = HTTP_OPTIONS;
    f->req.path = f->req.raw_uri = "/v1/clientes";
    f->req.origin = "https://app.example";
    f->req.acr_method = "POST"; /* a preflight: no credentials */
    cgi_out_reset(&f->out);
    http_response_init(&res, cgi_out_write, &f->out, false);
    route_dispatch(f->store, &f->req, &res);
    cgi_split_response(&f->out, &f->r);
    assert_int_equal(f->r.status, 204);
    assert_string_equal(cgi_header(&f->r, "Access-Control-Allow-Origin", v, sizeof(v)),
                        "https://app.example");
    assert_string_equal(cgi_header(&f->r, "Access-Control-Allow-Methods", v, sizeof(v)),
                        "GET, HEAD, POST, OPTIONS");
    assert_non_null(cgi_header(&f->r, "Access-Control-Max-Age", v, sizeof(v)));
    /* another origin gets no CORS header, only Vary */
    f->req.origin = "https://app.example.evil";
    cgi_out_reset(&f->out);
    http_response_init(&res, cgi_out_write, &f->out, false);
    route_dispatch(f->store, &f->req, &res);
    cgi_split_response(&f->out, &f->r);
    assert_null(cgi_header(&f->r, "Access-Control-Allow-Origin", v, sizeof(v)));
    assert_string_equal(cgi_header(&f->r, "Vary", v, sizeof(v)), "Origin");
}

static void test_require_if_match(void **state)
{
    struct vfx *f = *state;

    v1_configure(&(struct v1_settings){.require_if_match = true});
    send_v1(f, "PATCH", "/v1/clientes/a/b@x.es", "/v1/clientes/a%2Fb@x.es", NULL,
            "application/merge-patch+json", "{\"nombre\":\"Eva\"}");
    expect_problem(f, 428, NULL);
    send_v1(f, "DELETE", "/v1/clientes/a/b@x.es", "/v1/clientes/a%2Fb@x.es", NULL, NULL, NULL);
    expect_problem(f, 428, NULL);
    /* an erasure is not a change a precondition can stop */
    assert_int_equal(send_v1(f, "DELETE", "/v1/clientes/a/b@x.es", "/v1/clientes/a%2Fb@x.es?erase=1",
                             "erase=1", NULL, NULL),
                     204);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mail_segment_on_the_raw_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_body_only_for_the_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options_and_cors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_require_if_match, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
