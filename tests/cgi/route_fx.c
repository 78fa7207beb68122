/* route_fx.c - the fixture of the route test files (see route_fx.h). */
#include "route_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rt_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char url[700], err[512] = "";

    if (!f)
        return -1;
    if (ts_mkdtemp(f->dir, sizeof(f->dir), NULL) != 0) {
        free(f);
        return -1;
    }
    ts_join(f->db, sizeof(f->db), f->dir, "x.db");
    snprintf(url, sizeof(url), "sqlite://%s?busy_timeout=50", f->db);
    if (store_open(url, &f->store, err, sizeof(err)) != CL_OK) {
        fprintf(stderr, "store_open(%s): %s\n", url, err);
        ts_rmtree(f->dir);
        free(f);
        return -1;
    }
    cgi_out_init(&f->out);
    f->req = calloc(1, sizeof(*f->req));
    if (!f->req || account_init() != CL_OK)
        return -1;
    rt_token(f, ROLE_EDITOR, f->token);
    snprintf(f->bearer, sizeof(f->bearer), "Bearer %s", f->token);
    f->authorization = f->bearer;
    *state = f;
    return 0;
}

void rt_token(struct fx *f, enum role role, char *out)
{
    struct accounts_config c;
    struct principal op;
    const char *why = NULL;

    accounts_config_default(&c);
    principal_operator(&op);
    if (accounts_token_create(f->store, &c, &op, "pruebas", role, NULL, 0, out, NULL, &why))
        fail_msg("token: %s", why ? why : store_errmsg(f->store));
}

int rt_teardown(void **state)
{
    struct fx *f = *state;
    int rc;

    store_close(f->store);
    rc = ts_rmtree(f->dir);
    cgi_out_free(&f->out);
    free(f->req);
    free(f);
    return rc;
}

int rt_send(struct fx *f, const char *method, const char *path, const char *query,
            const char *ctype, const char *body)
{
    struct http_request *q = f->req;
    struct http_response res;
    char v[128], line[128];
    int st;

    q->method_name = method;
    q->method = http_method_parse(method);
    q->path = path;
    q->query = query;
    q->content_type = ctype;
    q->body = body;
    q->body_len = body ? strlen(body) : 0;
    q->origin = f->origin;
    q->sec_fetch_site = f->sec_fetch_site;
    q->host = f->host;
    q->scheme = f->scheme;
    q->authorization = f->authorization;
    q->cookie = f->cookie;
    q->csrf_token = f->csrf_token;
    q->client_addr = "192.0.2.7";
    q->nparams = 0;
    http_set_request_id(q, "test-route");
    f->head = q->method == HTTP_HEAD;
    cgi_out_reset(&f->out);
    http_response_init(&res, cgi_out_write, &f->out, f->head);
    st = route_dispatch(f->store, q, &res);
    assert_int_equal(st, res.status);
    assert_false(res.failed);
    cgi_split_response(&f->out, &f->r);
    assert_int_equal(f->r.status, st);
    snprintf(line, sizeof(line), "Status: %d %s", st, http_reason(st));
    assert_string_equal(f->r.status_line, line);
    if (st == 204) {
        assert_null(cgi_header(&f->r, "Content-Type", v, sizeof(v)));
        assert_int_equal(f->r.body_len, 0);
        return st;
    }
    if (st >= 400 && cgi_header(&f->r, "Content-Type", v, sizeof(v)) &&
        strcmp(v, PROBLEM_CT) == 0)
        ;
    else
        assert_string_equal(cgi_header(&f->r, "Content-Type", v, sizeof(v)), JSON_CT);
    if (f->head) {
        assert_int_equal(f->r.body_len, 0);
    } else {
        const char *end = NULL;
        cJSON *j = cJSON_ParseWithLengthOpts(f->r.body, f->r.body_len, &end, 0);
        if (!j)
            fail_msg("%s %s?%s: body is not JSON: %.*s", method ? method : "(null)",
                     path ? path : "(null)", query ? query : "", (int)f->r.body_len, f->r.body);
        assert_ptr_equal(end, f->r.body + f->r.body_len);
        cJSON_Delete(j);
        if (cgi_header(&f->r, "Content-Length", v, sizeof(v)))
            assert_int_equal(strtoul(v, NULL, 10), f->r.body_len);
    }
    return st;
}

int rt_req(struct fx *f, const char *method, const char *path, const char *query)
{
    return rt_send(f, method, path, query, NULL, NULL);
}

void rt_expect_body(const struct fx *f, const char *want)
{
    char v[64];

    if (f->r.body_len != strlen(want) || memcmp(f->r.body, want, f->r.body_len) != 0)
        fail_msg("body\n  got:  %.*s\n  want: %s", (int)f->r.body_len, f->r.body, want);
    /* a complete (non-streamed) response says its length */
    assert_non_null(cgi_header(&f->r, "Content-Length", v, sizeof(v)));
    assert_int_equal(strtoul(v, NULL, 10), strlen(want));
}

void rt_expect_error_full(const struct fx *f, int status, const char *mensaje, const char *allow,
                          bool retry)
{
    char body[512], v[128];

    if (f->r.status != status)
        fail_msg("status %d, want %d; body %.*s", f->r.status, status, (int)f->r.body_len,
                 f->r.body);
    snprintf(body, sizeof(body), "{\"mensaje\":\"%s\",\"status\":\"%d\"}", mensaje, status);
    assert_non_null(cgi_header(&f->r, "Content-Length", v, sizeof(v)));
    assert_int_equal(strtoul(v, NULL, 10), strlen(body));
    if (!f->head)
        rt_expect_body(f, body);
    if (allow)
        assert_string_equal(cgi_header(&f->r, "Allow", v, sizeof(v)), allow);
    else
        assert_null(cgi_header(&f->r, "Allow", v, sizeof(v)));
    if (retry)
        assert_non_null(cgi_header(&f->r, "Retry-After", v, sizeof(v)));
    else
        assert_null(cgi_header(&f->r, "Retry-After", v, sizeof(v)));
}

void rt_expect_error_allow(const struct fx *f, int status, const char *mensaje,
                           const char *allow)
{
    rt_expect_error_full(f, status, mensaje, allow,
                         status == 503 && strcmp(mensaje, RT_UNAVAILABLE) == 0);
}

void rt_expect_error(const struct fx *f, int status, const char *mensaje)
{
    rt_expect_error_allow(f, status, mensaje, NULL);
}

struct snap {
    char *text;
    size_t len, cap;
};

static int snap_one(const struct client *c, void *ctx)
{
    struct snap *s = ctx;
    char line[2200];
    int n = snprintf(line, sizeof(line), "%s|%s|%s|%s|%s\n", c->mail, c->nombre, c->apellidos,
                     c->fecha_nacimiento, c->direccion);

    assert_true(n > 0 && (size_t)n < sizeof(line));
    if (s->len + (size_t)n + 1 > s->cap) {
        size_t cap = (s->len + (size_t)n + 1) * 2;
        char *p = realloc(s->text, cap);
        assert_non_null(p);
        s->text = p;
        s->cap = cap;
    }
    memcpy(s->text + s->len, line, (size_t)n + 1);
    s->len += (size_t)n;
    return 0;
}

char *rt_snapshot(struct fx *f)
{
    struct snap s = {NULL, 0, 0};
    long long n = -1;
    char head[32];

    assert_int_equal(manager_count(f->store, &n), CL_OK);
    snprintf(head, sizeof(head), "%lld\n", n);
    s.cap = 64;
    s.text = malloc(s.cap);
    assert_non_null(s.text);
    s.len = strlen(head);
    memcpy(s.text, head, s.len + 1);
    assert_int_equal(manager_walk(f->store, snap_one, &s), CL_OK);
    return s.text;
}

long long rt_count(struct fx *f)
{
    long long n = -1;

    assert_int_equal(manager_count(f->store, &n), CL_OK);
    return n;
}

void rt_refused_body(struct fx *f, const char *method, const char *path, const char *query,
                     const char *ctype, const char *body, int status, const char *mensaje,
                     const char *allow)
{
    char *before = rt_snapshot(f), *after;

    rt_send(f, method, path, query, ctype, body);
    rt_expect_error_allow(f, status, mensaje, allow);
    after = rt_snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

void rt_refused(struct fx *f, const char *method, const char *path, const char *query,
                int status, const char *mensaje)
{
    rt_refused_body(f, method, path, query, NULL, NULL, status, mensaje, NULL);
}

void rt_refused_each(struct fx *f, const char *method, const char *path,
                     const struct refusal *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rt_refused(f, method, path, cases[i].query, cases[i].status, cases[i].mensaje);
}

void rt_get_client(struct fx *f, const char *mail, struct client *c)
{
    struct manager_reject rej;
    enum cl_err e = manager_get(f->store, mail, c, &rej);

    if (e != CL_OK)
        fail_msg("client '%s' not in the store: %s", mail, cl_strerror(e));
}

bool rt_has_client(struct fx *f, const char *mail)
{
    struct client c;

    return manager_get(f->store, mail, &c, NULL) == CL_OK;
}

void rt_enc(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        assert_true(o + 4 < cap);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '_' || c == '~' || c == '-') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

void rt_build_add_query(char *q, size_t cap, const char *nombre, const char *apellidos,
                        const char *mail, const char *fecha, const char *direccion)
{
    char e[5][1200];

    rt_enc(e[0], sizeof(e[0]), nombre);
    rt_enc(e[1], sizeof(e[1]), apellidos);
    rt_enc(e[2], sizeof(e[2]), mail);
    rt_enc(e[3], sizeof(e[3]), fecha);
    rt_enc(e[4], sizeof(e[4]), direccion);
    assert_true((size_t)snprintf(q, cap,
                                 "nombre=%s&apellidos=%s&mail=%s&fecha_nacimiento=%s&direccion=%s",
                                 e[0], e[1], e[2], e[3], e[4]) < cap);
}

void rt_add_client(struct fx *f, const char *nombre, const char *apellidos, const char *mail,
                   const char *fecha, const char *direccion)
{
    char q[6000];

    rt_build_add_query(q, sizeof(q), nombre, apellidos, mail, fecha, direccion);
    if (rt_req(f, "POST", "/aniadir", q) != 200)
        fail_msg("adding %s: %.*s", mail, (int)f->r.body_len, f->r.body);
    rt_expect_body(f, "{\"Resultado\":\"Cliente a\xc3\xb1" "adido con exito\"}");
}

void rt_check_record(const cJSON *item, const char *const vals[CLIENT_NFIELDS], bool legacy)
{
    struct client c;
    const char *why;

    assert_non_null(item);
    if (ts_client_from(&c, vals) != CL_OK)
        fail_msg("test values refused by the library");
    why = ts_check_record(item, &c, legacy);
    if (why)
        fail_msg("record %s: %s", vals[CLIENT_MAIL], why);
}

cJSON *rt_parse_body(const struct fx *f)
{
    cJSON *j = cJSON_ParseWithLength(f->r.body, f->r.body_len);

    assert_non_null(j);
    return j;
}

static int saved_stderr = -1;
static FILE *captured;

void rt_capture_stderr(void)
{
    assert_int_equal(saved_stderr, -1);
    captured = tmpfile();
    assert_non_null(captured);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fileno(captured), STDERR_FILENO) >= 0);
}

char *rt_captured_stderr(void)
{
    long n;
    char *text;

    assert_true(saved_stderr >= 0);
    fflush(stderr);
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    saved_stderr = -1;
    n = ftell(captured);
    assert_true(n >= 0);
    text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    rewind(captured);
    assert_int_equal(fread(text, 1, (size_t)n, captured), (size_t)n);
    fclose(captured);
    /* shown, so a failing test still has its log */
    fputs(text, stderr);
    return text;
}
