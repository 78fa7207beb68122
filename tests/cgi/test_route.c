/* test_route.c - the route table and the handlers of the legacy contract, fed
 * plain request structs, over a real SQLite store in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgi_support.h"
#include "client.h"
#include "http.h"
#include "manager.h"
#include "route.h"
#include "store.h"

#define JSON_CT "application/json; charset=utf-8"
#define FORM_CT "application/x-www-form-urlencoded; charset=utf-8"

static const char example_cliente[] =
    "{\"ejemplo@gmail.com\":{\"nombre\":\"Jesus\",\"apellidos\":\"Mesa Gonzalez\","
    "\"mail\":\"ejemplo@gmail.com\",\"fecha_nacimiento\":\"29/06/1996\","
    "\"direccion\":\"Calle Paseo Moreras 39\"}}";

static const char example_clientes[] =
    "{\"ejemplo@gmail.com\":{\"Nombre\":\"Jesus\",\"Apellidos\":\"Mesa Gonzalez\","
    "\"Mail\":\"ejemplo@gmail.com\",\"Fecha de nacimiento\":\"29/06/1996\","
    "\"Direccion\":\"Calle Paseo Moreras 39\"}}";

/* A complete, valid, new client as a query string. */
#define NEW_CLIENT                                                                               \
    "nombre=Ana&apellidos=Lopez+Diaz&mail=ana%40x.es&fecha_nacimiento=8%2F09%2F1978"            \
    "&direccion=Calle+Mayor+1"

/* ---------------------------------------------------------------- helpers */

struct fx {
    char dir[512];
    char db[600];
    struct store *store;
    struct http_request *req;
    struct cgi_out out;
    struct cgi_resp r;
    bool head;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    char url[700], err[512] = "";

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/clientes-cgi-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof(f->db), "%s/x.db", f->dir);
    /* a short busy_timeout so the lock test is quick */
    snprintf(url, sizeof(url), "sqlite://%s?busy_timeout=50", f->db);
    if (store_open(url, &f->store, err, sizeof(err)) != CL_OK) {
        fprintf(stderr, "store_open(%s): %s\n", url, err);
        rmdir(f->dir);
        free(f);
        return -1;
    }
    cgi_out_init(&f->out);
    f->req = calloc(1, sizeof(*f->req));
    if (!f->req)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char p[700];
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};

    store_close(f->store);
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", f->db, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    cgi_out_free(&f->out);
    free(f->req);
    free(f);
    return 0;
}

/* Runs one request through route_dispatch and checks what every response
 * must satisfy: the status line, the JSON Content-Type, a Content-Length
 * matching the body, and (unless HEAD) a body that is one complete JSON
 * value.  Returns the status. */
static int send_req(struct fx *f, const char *method, const char *path, const char *query,
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

static int req(struct fx *f, const char *method, const char *path, const char *query)
{
    return send_req(f, method, path, query, NULL, NULL);
}

static void expect_body(const struct fx *f, const char *want)
{
    char v[64];

    if (f->r.body_len != strlen(want) || memcmp(f->r.body, want, f->r.body_len) != 0)
        fail_msg("body\n  got:  %.*s\n  want: %s", (int)f->r.body_len, f->r.body, want);
    /* a complete (non-streamed) response says its length */
    assert_non_null(cgi_header(&f->r, "Content-Length", v, sizeof(v)));
    assert_int_equal(strtoul(v, NULL, 10), strlen(want));
}

/* The last response is the error `status` with exactly `mensaje` in the one
 * error shape, an Allow header iff `allow`, Retry-After iff status 503. */
static void expect_error_allow(const struct fx *f, int status, const char *mensaje,
                               const char *allow)
{
    char body[512], v[128];

    if (f->r.status != status)
        fail_msg("status %d, want %d; body %.*s", f->r.status, status, (int)f->r.body_len,
                 f->r.body);
    snprintf(body, sizeof(body), "{\"mensaje\":\"%s\",\"status\":\"%d\"}", mensaje, status);
    assert_non_null(cgi_header(&f->r, "Content-Length", v, sizeof(v)));
    assert_int_equal(strtoul(v, NULL, 10), strlen(body));
    if (!f->head)
        expect_body(f, body);
    if (allow)
        assert_string_equal(cgi_header(&f->r, "Allow", v, sizeof(v)), allow);
    else
        assert_null(cgi_header(&f->r, "Allow", v, sizeof(v)));
    if (status == 503)
        assert_non_null(cgi_header(&f->r, "Retry-After", v, sizeof(v)));
    else
        assert_null(cgi_header(&f->r, "Retry-After", v, sizeof(v)));
}

static void expect_error(const struct fx *f, int status, const char *mensaje)
{
    expect_error_allow(f, status, mensaje, NULL);
}

/* Every client, in mail order, as text: compared before/after a refusal. */
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

static char *snapshot(struct fx *f)
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

static long long count(struct fx *f)
{
    long long n = -1;
    assert_int_equal(manager_count(f->store, &n), CL_OK);
    return n;
}

/* The request must be refused with `status`/`mensaje` and change nothing. */
static void refused_body(struct fx *f, const char *method, const char *path, const char *query,
                         const char *ctype, const char *body, int status, const char *mensaje,
                         const char *allow)
{
    char *before = snapshot(f), *after;

    send_req(f, method, path, query, ctype, body);
    expect_error_allow(f, status, mensaje, allow);
    after = snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void refused(struct fx *f, const char *method, const char *path, const char *query,
                    int status, const char *mensaje)
{
    refused_body(f, method, path, query, NULL, NULL, status, mensaje, NULL);
}

/* A row of a refusal table: a query and the error it must get. */
struct refusal {
    const char *query;
    int status;
    const char *mensaje;
};

/* refused() for every row of `cases`, each sent as `method` `path`. */
static void refused_each(struct fx *f, const char *method, const char *path,
                         const struct refusal *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        refused(f, method, path, cases[i].query, cases[i].status, cases[i].mensaje);
}

#define REFUSED_EACH(f, method, path, cases)                                                     \
    refused_each((f), (method), (path), (cases), sizeof(cases) / sizeof((cases)[0]))

static void get_client(struct fx *f, const char *mail, struct client *c)
{
    struct manager_reject rej;
    enum cl_err e = manager_get(f->store, mail, c, &rej);

    if (e != CL_OK)
        fail_msg("client '%s' not in the store: %s", mail, cl_strerror(e));
}

static bool has_client(struct fx *f, const char *mail)
{
    struct client c;
    return manager_get(f->store, mail, &c, NULL) == CL_OK;
}

/* Percent-encodes everything outside [A-Za-z0-9._~-]. */
static void enc(char *out, size_t cap, const char *s)
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

static void build_add_query(char *q, size_t cap, const char *nombre, const char *apellidos,
                            const char *mail, const char *fecha, const char *direccion)
{
    char e[5][1200];

    enc(e[0], sizeof(e[0]), nombre);
    enc(e[1], sizeof(e[1]), apellidos);
    enc(e[2], sizeof(e[2]), mail);
    enc(e[3], sizeof(e[3]), fecha);
    enc(e[4], sizeof(e[4]), direccion);
    assert_true((size_t)snprintf(q, cap,
                                 "nombre=%s&apellidos=%s&mail=%s&fecha_nacimiento=%s&direccion=%s",
                                 e[0], e[1], e[2], e[3], e[4]) < cap);
}

/* Stores a record straight through the store, without validation: a row
 * written under an older, laxer mail rule (as a database of before issue 10
 * may hold), which the service must still read, update and delete. */
static void add_stored(struct fx *f, const char *nombre, const char *apellidos, const char *mail,
                       const char *fecha, const char *direccion)
{
    struct client c;

    client_init(&c);
    snprintf(c.nombre, sizeof(c.nombre), "%s", nombre);
    snprintf(c.apellidos, sizeof(c.apellidos), "%s", apellidos);
    snprintf(c.mail, sizeof(c.mail), "%s", mail);
    snprintf(c.fecha_nacimiento, sizeof(c.fecha_nacimiento), "%s", fecha);
    snprintf(c.direccion, sizeof(c.direccion), "%s", direccion);
    assert_int_equal(f->store->ops->add(f->store, &c), CL_OK);
}

static void add_client(struct fx *f, const char *nombre, const char *apellidos, const char *mail,
                       const char *fecha, const char *direccion)
{
    char q[6000];

    build_add_query(q, sizeof(q), nombre, apellidos, mail, fecha, direccion);
    if (req(f, "POST", "/aniadir", q) != 200)
        fail_msg("adding %s: %.*s", mail, (int)f->r.body_len, f->r.body);
    expect_body(f, "{\"Resultado\":\"Cliente a\xc3\xb1" "adido con exito\"}");
}

/* Checks one record object: the five keys in order with these values. */
static void check_record(const cJSON *o, const char *const keys[5], const char *const vals[5])
{
    const cJSON *it = o->child;

    assert_true(cJSON_IsObject(o));
    for (int i = 0; i < 5; i++) {
        assert_non_null(it);
        assert_true(cJSON_IsString(it));
        assert_string_equal(it->string, keys[i]);
        assert_string_equal(it->valuestring, vals[i]);
        it = it->next;
    }
    assert_null(it);
}

static const char *const wire_keys[5] = {"nombre", "apellidos", "mail", "fecha_nacimiento",
                                         "direccion"};
static const char *const legacy_keys[5] = {"Nombre", "Apellidos", "Mail", "Fecha de nacimiento",
                                           "Direccion"};

static cJSON *parse_body(const struct fx *f)
{
    cJSON *j = cJSON_ParseWithLength(f->r.body, f->r.body_len);
    assert_non_null(j);
    return j;
}

/* ------------------------------------------------------------ the routes */

static void test_index(void **state)
{
    struct fx *f = *state;
    static const char want[] =
        "{\"status\":\"OK\",\"ejemplo\":{\"ruta\":\"/cliente?mail=ejemplo@gmail.com\","
        "\"valor\":{\"ejemplo@gmail.com\":{\"Apellidos\":\"Mesa Gonzalez\","
        "\"Direccion\":\"Calle Paseo Moreras 39\",\"Fecha de nacimiento\":"
        "\"29/06/1996\",\"Mail\":\"ejemplo@gmail.com\",\"Nombre\":\"Jesus\"}}}}";
    char v[32], len[32];

    assert_int_equal(req(f, "GET", "/", NULL), 200);
    expect_body(f, want);
    assert_int_equal(req(f, "HEAD", "/", NULL), 200);
    snprintf(len, sizeof(len), "%zu", strlen(want));
    assert_string_equal(cgi_header(&f->r, "Content-Length", v, sizeof(v)), len);

    assert_int_equal(req(f, "GET", "/health", NULL), 200);
    expect_body(f, "{\"status\":\"ok\"}");
}

static void test_unknown_path(void **state)
{
    struct fx *f = *state;
    static const char *const paths[] = {
        "/nada", "/cliente/", "/clientes/", "/aniadir/", "/CLIENTE", "/Clientes", "",
        "//cliente", "/cliente?mail=ejemplo@gmail.com", "/setnombre", "/v1/clientes", "/health/",
        "cliente",
    };

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        refused(f, "GET", paths[i], "mail=ejemplo%40gmail.com", 404, "Ruta no encontrada");
        refused(f, "DELETE", paths[i], "mail=ejemplo%40gmail.com", 404, "Ruta no encontrada");
    }
    refused(f, "GET", NULL, NULL, 404, "Ruta no encontrada");
    /* the path is looked at before the parameters: no 400 for an unknown path */
    refused(f, "GET", "/nada", "a=%G1&a=2", 404, "Ruta no encontrada");
    /* a complete add on a trailing-slash path stores nothing */
    refused(f, "POST", "/aniadir/", NEW_CLIENT, 404, "Ruta no encontrada");
    refused(f, "PATCH", "/nada", NULL, 404, "Ruta no encontrada");
    /* HEAD: the headers of the error, no body */
    refused(f, "HEAD", "/nada", NULL, 404, "Ruta no encontrada");
}

static void test_wrong_method(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *method, *path, *query, *allow;
    } cases[] = {
        {"PUT", "/cliente", "mail=ejemplo%40gmail.com", "GET, HEAD"},
        {"POST", "/cliente", "mail=ejemplo%40gmail.com", "GET, HEAD"},
        {"DELETE", "/clientes", NULL, "GET, HEAD"},
        {"POST", "/", NULL, "GET, HEAD"},
        {"PUT", "/health", NULL, "GET, HEAD"},
        {"GET", "/aniadir", NEW_CLIENT, "POST"},
        {"PUT", "/aniadir", NEW_CLIENT, "POST"},
        {"HEAD", "/aniadir", NEW_CLIENT, "POST"},
        {"GET", "/eliminar", "mail=ejemplo%40gmail.com", "DELETE"},
        {"POST", "/eliminar", "mail=ejemplo%40gmail.com", "DELETE"},
        {"GET", "/setNombre", "mail=ejemplo%40gmail.com&nombre=X", "PUT"},
        {"POST", "/setApellidos", "mail=ejemplo%40gmail.com&apellidos=X", "PUT"},
        {"DELETE", "/setFechaNacimiento", "mail=ejemplo%40gmail.com&fecha_nacimiento=1%2F1%2F2000",
         "PUT"},
        {"GET", "/setDireccion", "mail=ejemplo%40gmail.com&direccion=X", "PUT"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        refused_body(f, cases[i].method, cases[i].path, cases[i].query, NULL, NULL, 405,
                     "Metodo no permitido", cases[i].allow);
    /* the method is looked at before the parameters */
    refused_body(f, "GET", "/aniadir", "%", NULL, NULL, 405, "Metodo no permitido", "POST");
}

static void test_other_method_never_reaches_handler(void **state)
{
    struct fx *f = *state;
    static const char *const methods[] = {"PATCH", "get", "OPTIONS", "BREW", "", NULL};
    static const struct {
        const char *path, *query;
    } cases[] = {
        {"/", NULL},
        {"/cliente", "mail=ejemplo%40gmail.com"},
        {"/clientes", "x=1"},
        {"/aniadir", NEW_CLIENT},
        {"/eliminar", "mail=ejemplo%40gmail.com"},
        {"/setNombre", "mail=ejemplo%40gmail.com&nombre=Otro"},
        {"/setApellidos", "mail=ejemplo%40gmail.com&apellidos=Otro"},
        {"/setFechaNacimiento", "mail=ejemplo%40gmail.com&fecha_nacimiento=1%2F1%2F2000"},
        {"/setDireccion", "mail=ejemplo%40gmail.com&direccion=Otra"},
        {"/health", "x=1"},
    };

    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            const char *allow = NULL;
            assert_int_equal(route_allowed(cases[i].path, &allow), 1);
            refused_body(f, methods[m], cases[i].path, cases[i].query, NULL, NULL, 405,
                         "Metodo no permitido", allow);
            /* not even the parameters were decoded */
            assert_int_equal(f->req->nparams, 0);
        }
    }
    /* and a malformed query does not turn it into a 400 */
    refused_body(f, "PATCH", "/aniadir", "=%", NULL, NULL, 405, "Metodo no permitido", "POST");
    assert_int_equal(f->req->nparams, 0);
    assert_true(has_client(f, "ejemplo@gmail.com"));
}

static void test_route_allowed(void **state)
{
    static const struct {
        const char *path, *allow;
    } cases[] = {
        {"/", "GET, HEAD"},        {"/cliente", "GET, HEAD"},     {"/clientes", "GET, HEAD"},
        {"/aniadir", "POST"},      {"/eliminar", "DELETE"},       {"/setNombre", "PUT"},
        {"/setApellidos", "PUT"},  {"/setFechaNacimiento", "PUT"}, {"/setDireccion", "PUT"},
        {"/health", "GET, HEAD"},
    };
    const char *allow = "untouched";

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        allow = NULL;
        assert_int_equal(route_allowed(cases[i].path, &allow), 1);
        assert_string_equal(allow, cases[i].allow);
    }
    allow = "untouched";
    assert_int_equal(route_allowed("/nada", &allow), 0);
    assert_int_equal(route_allowed("/cliente/", &allow), 0);
    assert_int_equal(route_allowed(NULL, &allow), 0);
    assert_string_equal(allow, "untouched");
}

static void test_head(void **state)
{
    struct fx *f = *state;
    char v[32], get_len[32];

    /* HEAD /clientes: the headers of the streamed list, no body */
    assert_int_equal(req(f, "HEAD", "/clientes", NULL), 200);
    assert_int_equal(f->r.body_len, 0);
    assert_null(cgi_header(&f->r, "Content-Length", v, sizeof(v)));

    /* HEAD /cliente: the Content-Length GET would send, no body */
    assert_int_equal(req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    assert_non_null(cgi_header(&f->r, "Content-Length", get_len, sizeof(get_len)));
    assert_int_equal(req(f, "HEAD", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    assert_int_equal(f->r.body_len, 0);
    assert_string_equal(cgi_header(&f->r, "Content-Length", v, sizeof(v)), get_len);

    /* errors too: headers of the error, no body */
    assert_int_equal(req(f, "HEAD", "/cliente", "mail=nadie%40x.es"), 404);
    expect_error(f, 404, "El mail del cliente proporcionado no existe");
    assert_int_equal(req(f, "HEAD", "/cliente", NULL), 400);
    expect_error(f, 400, "Falta el parametro 'mail'");

    /* HEAD /clientes on an empty store: 404 without a body */
    assert_int_equal(req(f, "DELETE", "/eliminar", "mail=ejemplo%40gmail.com"), 200);
    assert_int_equal(req(f, "HEAD", "/clientes", NULL), 404);
    expect_error(f, 404, "No existen clientes actualmente");
}

static void test_get_cliente(void **state)
{
    struct fx *f = *state;
    static const char *const vals[5] = {"Jesus", "Mesa Gonzalez", "ejemplo@gmail.com",
                                        "29/06/1996", "Calle Paseo Moreras 39"};
    cJSON *j;

    assert_int_equal(req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    expect_body(f, example_cliente);
    j = parse_body(f);
    assert_non_null(j->child);
    assert_null(j->child->next);
    assert_string_equal(j->child->string, "ejemplo@gmail.com");
    check_record(j->child, wire_keys, vals);
    cJSON_Delete(j);

    /* '@' unescaped, and the lookup ignores case: the mail comes back as stored */
    assert_int_equal(req(f, "GET", "/cliente", "mail=EJEMPLO@Gmail.COM"), 200);
    expect_body(f, example_cliente);
    /* other parameters are ignored */
    assert_int_equal(req(f, "GET", "/cliente", "x=1&mail=ejemplo%40gmail.com&"), 200);
    expect_body(f, example_cliente);
}

static void test_get_cliente_errors(void **state)
{
    struct fx *f = *state;
    static const struct refusal cases[] = {
        {NULL, 400, "Falta el parametro 'mail'"},
        {"", 400, "Falta el parametro 'mail'"},
        {"Mail=ejemplo%40gmail.com", 400, "Falta el parametro 'mail'"},
        {"mail", 400, "Parametro 'mail' invalido: vacio"},
        {"mail=", 400, "Parametro 'mail' invalido: vacio"},
        {"mail=nadie", 400, "Parametro 'mail' invalido: falta la '@'"},
        {"mail=nadie%40x.es", 404, "El mail del cliente proporcionado no existe"},
        {"mail=ejemplo%40gmail.co", 404, "El mail del cliente proporcionado no existe"},
        {"mail=%G1", 400, "Parametro 'mail' invalido: codificacion porcentual invalida"},
        {"mail=a%00%40x.es", 400, "Parametro 'mail' invalido: contiene un byte nulo"},
        {"mail=%FF%40x.es", 400, "Parametro 'mail' invalido: UTF-8 invalido"},
        {"mail=ejemplo%40gmail.com&mail=ejemplo%40gmail.com", 400, "Parametro 'mail' repetido"},
        {"=ejemplo%40gmail.com", 400, "Parametro sin nombre"},
    };

    REFUSED_EACH(f, "GET", "/cliente", cases);
}

static void test_get_clientes_one(void **state)
{
    struct fx *f = *state;
    static const char *const vals[5] = {"Jesus", "Mesa Gonzalez", "ejemplo@gmail.com",
                                        "29/06/1996", "Calle Paseo Moreras 39"};
    cJSON *j;

    assert_int_equal(req(f, "GET", "/clientes", NULL), 200);
    /* streamed: whatever Content-Length says, the bytes are exactly these */
    assert_int_equal(f->r.body_len, strlen(example_clientes));
    assert_memory_equal(f->r.body, example_clientes, f->r.body_len);
    j = parse_body(f);
    assert_string_equal(j->child->string, "ejemplo@gmail.com");
    assert_null(j->child->next);
    check_record(j->child, legacy_keys, vals);
    cJSON_Delete(j);
    /* parameters are ignored */
    assert_int_equal(req(f, "GET", "/clientes", "mail=otro%40x.es"), 200);
    assert_memory_equal(f->r.body, example_clientes, f->r.body_len);
}

static void test_get_clientes_many(void **state)
{
    struct fx *f = *state;
    static const char *const want[][5] = {
        {"Ana", "Uno", "A@x.es", "1/1/2000", "Calle A"},
        {"Bea", "Dos", "b@x.es", "2000-02-29", "Calle B"},
        {"Ca\"r\\la", "Tr\xc3\xa9s", "c\"q@x.es", "31/12/1999", "Plaza \xc3\x91u 3"},
        {"Jesus", "Mesa Gonzalez", "ejemplo@gmail.com", "29/06/1996", "Calle Paseo Moreras 39"},
        {"Zoe", "Cinco", "Z@x.es", "10/10/2010", "Calle Z"},
    };
    cJSON *j;
    const cJSON *it;
    size_t i = 0;

    /* added out of order; the list comes back in (case-insensitive) mail order */
    add_client(f, "Zoe", "Cinco", "Z@x.es", "10/10/2010", "Calle Z");
    add_client(f, "Bea", "Dos", "b@x.es", "2000-02-29", "Calle B");
    /* a '"' in the mail: only a row stored under the older mail rule has one */
    add_stored(f, "Ca\"r\\la", "Tr\xc3\xa9s", "c\"q@x.es", "31/12/1999", "Plaza \xc3\x91u 3");
    add_client(f, "Ana", "Uno", "A@x.es", "1/1/2000", "Calle A");
    assert_int_equal(count(f), 5);

    assert_int_equal(req(f, "GET", "/clientes", NULL), 200);
    j = parse_body(f);
    for (it = j->child; it; it = it->next, i++) {
        assert_true(i < 5);
        assert_string_equal(it->string, want[i][2]);
        check_record(it, legacy_keys, want[i]);
    }
    assert_int_equal(i, 5);
    cJSON_Delete(j);
}

static void test_get_clientes_empty(void **state)
{
    struct fx *f = *state;

    assert_int_equal(req(f, "DELETE", "/eliminar", "mail=ejemplo%40gmail.com"), 200);
    assert_int_equal(count(f), 0);
    refused(f, "GET", "/clientes", NULL, 404, "No existen clientes actualmente");
    /* and back to one */
    add_client(f, "Ana", "Uno", "ana@x.es", "1/1/2000", "Calle A");
    assert_int_equal(req(f, "GET", "/clientes", NULL), 200);
    {
        static const char want[] = "{\"ana@x.es\":{\"Nombre\":\"Ana\",\"Apellidos\":\"Uno\","
                                   "\"Mail\":\"ana@x.es\",\"Fecha de nacimiento\":\"1/1/2000\","
                                   "\"Direccion\":\"Calle A\"}}";
        assert_int_equal(f->r.body_len, strlen(want));
        assert_memory_equal(f->r.body, want, f->r.body_len);
    }
}

static void test_mail_with_quote(void **state)
{
    struct fx *f = *state;
    static const char want[] =
        "{\"a\\\"b@x.es\":{\"nombre\":\"Ana\",\"apellidos\":\"Uno\",\"mail\":\"a\\\"b@x.es\","
        "\"fecha_nacimiento\":\"1/1/2000\",\"direccion\":\"Calle A\"}}";
    static const char *const vals[5] = {"Ana", "Uno", "a\"b@x.es", "1/1/2000", "Calle A"};
    cJSON *j;
    const cJSON *it;
    int seen = 0;

    /* a '"' in the local part: refused as a new mail since issue 10, still a
     * valid key, so a row stored before stays reachable */
    assert_int_equal(client_validate(CLIENT_MAIL, "a\"b@x.es", 8, NULL), CL_INVALID);
    assert_int_equal(client_validate_key("a\"b@x.es", 8, NULL), CL_OK);
    add_stored(f, "Ana", "Uno", "a\"b@x.es", "1/1/2000", "Calle A");
    assert_int_equal(req(f, "GET", "/cliente", "mail=a%22b%40x.es"), 200);
    expect_body(f, want);
    j = parse_body(f);
    check_record(cJSON_GetObjectItemCaseSensitive(j, "a\"b@x.es"), wire_keys, vals);
    cJSON_Delete(j);
    /* a raw '"' in the query works the same */
    assert_int_equal(req(f, "GET", "/cliente", "mail=a\"b@x.es"), 200);
    expect_body(f, want);

    assert_int_equal(req(f, "GET", "/clientes", NULL), 200);
    j = parse_body(f);
    for (it = j->child; it; it = it->next)
        if (strcmp(it->string, "a\"b@x.es") == 0) {
            seen++;
            check_record(it, legacy_keys, vals);
        }
    assert_int_equal(seen, 1);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    cJSON_Delete(j);

    /* as a new mail it is refused by the mail rule, before the store is asked */
    refused(f, "POST", "/aniadir",
            "nombre=B&apellidos=C&mail=A%22B%40X.ES&fecha_nacimiento=1%2F1%2F2000&direccion=D",
            400, "Parametro 'mail' invalido: parte local con caracteres no permitidos");
    /* a setter changes its field, and the mail stays as stored */
    assert_int_equal(req(f, "PUT", "/setNombre", "mail=A%22B%40x.es&nombre=Bea"), 200);
    expect_body(f, "{\"Resultado\":\"Nombre cambiado con exito\"}");
    assert_int_equal(req(f, "GET", "/cliente", "mail=a%22b%40x.es"), 200);
    expect_body(f, "{\"a\\\"b@x.es\":{\"nombre\":\"Bea\",\"apellidos\":\"Uno\","
                   "\"mail\":\"a\\\"b@x.es\",\"fecha_nacimiento\":\"1/1/2000\","
                   "\"direccion\":\"Calle A\"}}");
    assert_int_equal(req(f, "DELETE", "/eliminar", "mail=a%22b%40x.es"), 200);
    assert_false(has_client(f, "a\"b@x.es"));
}

static void test_aniadir(void **state)
{
    struct fx *f = *state;
    struct client c;
    char q[600];

    assert_int_equal(req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    expect_body(f, "{\"Resultado\":\"Cliente a\xc3\xb1" "adido con exito\"}");
    get_client(f, "ana@x.es", &c);
    assert_string_equal(c.nombre, "Ana");
    assert_string_equal(c.apellidos, "Lopez Diaz");
    assert_string_equal(c.mail, "ana@x.es");
    assert_string_equal(c.fecha_nacimiento, "8/09/1978"); /* exactly as given */
    assert_string_equal(c.direccion, "Calle Mayor 1");
    assert_int_equal(count(f), 2);

    /* ISO dates, non-ASCII text, parameters in any order, mail kept as given */
    assert_int_equal(req(f, "POST", "/aniadir",
                         "direccion=Avda.+Espa%C3%B1a+5&mail=Pepe.Ruiz%40Correo.ES"
                         "&fecha_nacimiento=1978-09-08&apellidos=Ru%C3%ADz&nombre=Jos%C3%A9"),
                     200);
    get_client(f, "pepe.ruiz@correo.es", &c);
    assert_string_equal(c.nombre, "Jos\xc3\xa9");
    assert_string_equal(c.apellidos, "Ru\xc3\xadz");
    assert_string_equal(c.mail, "Pepe.Ruiz@Correo.ES");
    assert_string_equal(c.fecha_nacimiento, "1978-09-08");
    assert_string_equal(c.direccion, "Avda. Espa\xc3\xb1" "a 5");
    assert_int_equal(count(f), 3);

    /* the longest valid values */
    {
        char nombre[101], dir[201];
        memset(nombre, 'n', 100);
        nombre[100] = '\0';
        memset(dir, 'd', 200);
        dir[200] = '\0';
        build_add_query(q, sizeof(q), nombre, nombre, "largo@x.es", "29/02/2000", dir);
        assert_int_equal(req(f, "POST", "/aniadir", q), 200);
        get_client(f, "largo@x.es", &c);
        assert_string_equal(c.direccion, dir);
    }
}

static void test_aniadir_form_body(void **state)
{
    struct fx *f = *state;
    struct client c;

    assert_int_equal(send_req(f, "POST", "/aniadir", NULL, FORM_CT, NEW_CLIENT), 200);
    expect_body(f, "{\"Resultado\":\"Cliente a\xc3\xb1" "adido con exito\"}");
    get_client(f, "ana@x.es", &c);
    assert_string_equal(c.apellidos, "Lopez Diaz");

    /* split between the query and the body */
    assert_int_equal(send_req(f, "POST", "/aniadir", "mail=bea%40x.es&nombre=Bea",
                              "application/x-www-form-urlencoded",
                              "apellidos=Dos&fecha_nacimiento=2000-01-01&direccion=C"),
                     200);
    get_client(f, "bea@x.es", &c);
    assert_string_equal(c.nombre, "Bea");
    assert_string_equal(c.direccion, "C");
    assert_int_equal(count(f), 3);

    /* a JSON body is not read: the parameters are missing */
    refused_body(f, "POST", "/aniadir", NULL, "application/json",
                 "{\"nombre\":\"Cid\",\"apellidos\":\"X\",\"mail\":\"cid@x.es\","
                 "\"fecha_nacimiento\":\"1/1/2000\",\"direccion\":\"Y\"}",
                 400, "Falta el parametro 'nombre'", NULL);
    /* ... nor a form-looking body under another type */
    refused_body(f, "POST", "/aniadir", NULL, "text/plain", NEW_CLIENT, 400,
                 "Falta el parametro 'nombre'", NULL);
    /* once in the query, once in the body */
    refused_body(f, "POST", "/aniadir", "mail=cid%40x.es", FORM_CT,
                 "nombre=Cid&apellidos=X&mail=cid%40x.es&fecha_nacimiento=1%2F1%2F2000&"
                 "direccion=Y",
                 400, "Parametro 'mail' repetido", NULL);
    refused_body(f, "POST", "/aniadir", NULL, FORM_CT,
                 "nombre=Cid&apellidos=X&mail=cid%40x.es&fecha_nacimiento=1%2F1%2F2000&"
                 "direccion=%FF",
                 400, "Parametro 'direccion' invalido: UTF-8 invalido", NULL);
    assert_false(has_client(f, "cid@x.es"));
}

static void test_aniadir_missing(void **state)
{
    struct fx *f = *state;
    static const char *const fields[5] = {"nombre", "apellidos", "mail", "fecha_nacimiento",
                                          "direccion"};
    static const char *const vals[5] = {"Ana", "Lopez", "ana%40x.es", "1%2F1%2F2000", "Calle"};
    char q[300], msg[80];

    for (int skip = 0; skip < 5; skip++) {
        size_t o = 0;
        q[0] = '\0';
        for (int i = 0; i < 5; i++)
            if (i != skip)
                o += (size_t)snprintf(q + o, sizeof(q) - o, "%s%s=%s", o ? "&" : "", fields[i],
                                      vals[i]);
        snprintf(msg, sizeof(msg), "Falta el parametro '%s'", fields[skip]);
        refused(f, "POST", "/aniadir", q, 400, msg);
    }
    /* nothing at all: the first field is named */
    refused(f, "POST", "/aniadir", NULL, 400, "Falta el parametro 'nombre'");
    refused(f, "POST", "/aniadir", "", 400, "Falta el parametro 'nombre'");
    assert_false(has_client(f, "ana@x.es"));
    assert_int_equal(count(f), 1);
}

static void test_aniadir_invalid(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *nombre, *apellidos, *mail, *fecha, *direccion, *mensaje;
    } cases[] = {
        {"Ana", "L", "ana@x.es", "31/02/2000", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha inexistente"},
        {"Ana", "L", "ana@x.es", "29/02/2001", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha inexistente"},
        {"Ana", "L", "ana@x.es", "0/1/2000", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha inexistente"},
        {"Ana", "L", "ana@x.es", "2000-13-01", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha inexistente"},
        {"Ana", "L", "ana@x.es", "1/1/2999", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha futura"},
        {"Ana", "L", "ana@x.es", "31/12/1899", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha anterior a 1900"},
        {"Ana", "L", "ana@x.es", "2000/01/01", "C",
         "Parametro 'fecha_nacimiento' invalido: formato invalido (D/M/AAAA o AAAA-MM-DD)"},
        {"Ana", "L", "ana@x.es", "", "C", "Parametro 'fecha_nacimiento' invalido: vacio"},
        {"Ana", "L", "ana", "1/1/2000", "C", "Parametro 'mail' invalido: falta la '@'"},
        {"Ana", "L", "a@b@x.es", "1/1/2000", "C", "Parametro 'mail' invalido: contiene mas de una '@'"},
        {"Ana", "L", "a b@x.es", "1/1/2000", "C",
         "Parametro 'mail' invalido: contiene caracteres no permitidos"},
        {"Ana", "L", "ana@x", "1/1/2000", "C", "Parametro 'mail' invalido: dominio invalido"},
        {"", "L", "ana@x.es", "1/1/2000", "C", "Parametro 'nombre' invalido: vacio"},
        {"   ", "L", "ana@x.es", "1/1/2000", "C", "Parametro 'nombre' invalido: vacio"},
        {"A\x01", "L", "ana@x.es", "1/1/2000", "C",
         "Parametro 'nombre' invalido: contiene caracteres de control"},
        {"Ana", "L\n", "ana@x.es", "1/1/2000", "C",
         "Parametro 'apellidos' invalido: contiene caracteres de control"},
        {"Ana", "L", "ana@x.es", "1/1/2000", "\xc2\x85",
         "Parametro 'direccion' invalido: contiene caracteres de control"},
    };
    static const struct refusal decoding[] = {
        {"nombre=%&apellidos=L&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=C", 400,
         "Parametro 'nombre' invalido: codificacion porcentual invalida"},
        {"nombre=A%00&apellidos=L&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=C", 400,
         "Parametro 'nombre' invalido: contiene un byte nulo"},
        {"nombre=A&apellidos=%C0%AF&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=C",
         400, "Parametro 'apellidos' invalido: UTF-8 invalido"},
        {"nombre=A&apellidos=L&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=%ED%A0%80",
         400, "Parametro 'direccion' invalido: UTF-8 invalido"},
        {"nombre=A&apellidos=L&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=%C3", 400,
         "Parametro 'direccion' invalido: UTF-8 invalido"},
        {NEW_CLIENT "&nombre=Otra", 400, "Parametro 'nombre' repetido"},
        {NEW_CLIENT "&=x", 400, "Parametro sin nombre"},
    };
    char q[1200];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        build_add_query(q, sizeof(q), cases[i].nombre, cases[i].apellidos, cases[i].mail,
                        cases[i].fecha, cases[i].direccion);
        refused(f, "POST", "/aniadir", q, 400, cases[i].mensaje);
    }
    /* too long (counted in characters: 101 x "ñ") */
    {
        char nombre[300], dir[202];
        for (int i = 0; i < 101; i++)
            memcpy(nombre + 2 * i, "\xc3\xb1", 2);
        nombre[202] = '\0';
        build_add_query(q, sizeof(q), nombre, "L", "ana@x.es", "1/1/2000", "C");
        refused(f, "POST", "/aniadir", q, 400, "Parametro 'nombre' invalido: demasiado largo");
        memset(dir, 'd', 201);
        dir[201] = '\0';
        build_add_query(q, sizeof(q), "Ana", "L", "ana@x.es", "1/1/2000", dir);
        refused(f, "POST", "/aniadir", q, 400, "Parametro 'direccion' invalido: demasiado largo");
    }
    /* decoding errors */
    REFUSED_EACH(f, "POST", "/aniadir", decoding);
    assert_false(has_client(f, "ana@x.es"));
    assert_int_equal(count(f), 1);
}

static void test_aniadir_duplicate(void **state)
{
    struct fx *f = *state;
    struct client c;

    refused_body(f, "POST", "/aniadir",
                 "nombre=Otro&apellidos=X&mail=ejemplo%40gmail.com&fecha_nacimiento=1%2F1%2F2000"
                 "&direccion=Y",
                 NULL, NULL, 405, "El mail del cliente proporcionado ya existe", "POST");
    /* case-insensitively */
    refused_body(f, "POST", "/aniadir",
                 "nombre=Otro&apellidos=X&mail=EJEMPLO%40GMAIL.com&fecha_nacimiento=1%2F1%2F2000"
                 "&direccion=Y",
                 NULL, NULL, 405, "El mail del cliente proporcionado ya existe", "POST");
    get_client(f, "ejemplo@gmail.com", &c);
    assert_string_equal(c.nombre, "Jesus");
    assert_string_equal(c.mail, "ejemplo@gmail.com");

    /* a client added over HTTP is a duplicate too */
    assert_int_equal(req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    refused_body(f, "POST", "/aniadir", NEW_CLIENT, NULL, NULL, 405,
                 "El mail del cliente proporcionado ya existe", "POST");
    assert_int_equal(count(f), 2);
}

static void test_refusals_before_handler(void **state)
{
    struct fx *f = *state;
    char *q = malloc(HTTP_QUERY_MAX + 64);
    char many[600];
    size_t o;

    assert_non_null(q);
    /* a query longer than HTTP_QUERY_MAX: 414, nothing stored */
    o = (size_t)snprintf(q, HTTP_QUERY_MAX + 64, "%s&pad=", NEW_CLIENT);
    memset(q + o, 'x', HTTP_QUERY_MAX + 1 - o);
    q[HTTP_QUERY_MAX + 1] = '\0';
    assert_int_equal(strlen(q), HTTP_QUERY_MAX + 1);
    refused(f, "POST", "/aniadir", q, 414, "Consulta demasiado larga");
    refused(f, "GET", "/cliente", q, 414, "Consulta demasiado larga");
    /* exactly HTTP_QUERY_MAX is decoded (and the padding ignored) */
    q[HTTP_QUERY_MAX] = '\0';
    assert_int_equal(req(f, "POST", "/aniadir", q), 200);
    assert_true(has_client(f, "ana@x.es"));
    free(q);

    /* more than HTTP_MAX_PARAMS */
    o = (size_t)snprintf(many, sizeof(many), "%s", "mail=ejemplo%40gmail.com");
    for (int i = 1; i <= HTTP_MAX_PARAMS; i++)
        o += (size_t)snprintf(many + o, sizeof(many) - o, "&p%d=1", i);
    refused(f, "DELETE", "/eliminar", many, 400, "Demasiados parametros (maximo 16)");
    assert_true(has_client(f, "ejemplo@gmail.com"));
}

static void test_eliminar(void **state)
{
    struct fx *f = *state;
    static const struct refusal cases[] = {
        {NULL, 400, "Falta el parametro 'mail'"},
        {"mail=", 400, "Parametro 'mail' invalido: vacio"},
        {"mail=ana", 400, "Parametro 'mail' invalido: falta la '@'"},
        {"mail=nadie%40x.es", 404, "El mail del cliente a borrar no existe"},
        {"mail=ana%40x.e", 404, "El mail del cliente a borrar no existe"},
        {"mail=ana%40x.es&mail=ana%40x.es", 400, "Parametro 'mail' repetido"},
        {"mail=ana%40x.es%", 400, "Parametro 'mail' invalido: codificacion porcentual invalida"},
    };

    add_client(f, "Ana", "Uno", "ana@x.es", "1/1/2000", "Calle A");
    REFUSED_EACH(f, "DELETE", "/eliminar", cases);

    assert_int_equal(req(f, "DELETE", "/eliminar", "mail=ANA%40X.es"), 200);
    expect_body(f, "{\"Resultado\":\"Cliente eliminado con exito\"}");
    assert_false(has_client(f, "ana@x.es"));
    assert_true(has_client(f, "ejemplo@gmail.com"));
    assert_int_equal(count(f), 1);
    /* a second time: gone */
    refused(f, "DELETE", "/eliminar", "mail=ana%40x.es", 404,
            "El mail del cliente a borrar no existe");
    refused(f, "GET", "/cliente", "mail=ana%40x.es", 404,
            "El mail del cliente proporcionado no existe");
}

static void test_setters(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *path;
        enum client_field field;
        const char *param, *good_enc, *good, *done, *bad_enc, *bad_reason;
    } cases[] = {
        {"/setNombre", CLIENT_NOMBRE, "nombre", "Jes%C3%BAs+Mar%C3%ADa", "Jes\xc3\xbas Mar\xc3\xad" "a",
         "Nombre cambiado con exito", "%01", "contiene caracteres de control"},
        {"/setApellidos", CLIENT_APELLIDOS, "apellidos", "Mesa+G.", "Mesa G.",
         "Apellidos cambiados con exito", "+", "vacio"},
        {"/setFechaNacimiento", CLIENT_FECHA_NACIMIENTO, "fecha_nacimiento", "1996-06-29",
         "1996-06-29", "Fecha de nacimiento cambiada con exito", "31%2F02%2F2000",
         "fecha inexistente"},
        {"/setDireccion", CLIENT_DIRECCION, "direccion", "Calle+Nueva+2", "Calle Nueva 2",
         "Direccion cambiada con exito", "", "vacio"},
    };
    char q[300], msg[200], body[200];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct client before, after;
        const char *p = cases[i].param;

        get_client(f, "ejemplo@gmail.com", &before);
        /* refusals, each leaving the store as it was */
        snprintf(q, sizeof(q), "%s=%s", p, cases[i].good_enc);
        refused(f, "PUT", cases[i].path, q, 400, "Falta el parametro 'mail'");
        snprintf(msg, sizeof(msg), "Falta el parametro '%s'", p);
        refused(f, "PUT", cases[i].path, "mail=ejemplo%40gmail.com", 400, msg);
        snprintf(q, sizeof(q), "mail=nadie%%40x.es&%s=%s", p, cases[i].good_enc);
        refused(f, "PUT", cases[i].path, q, 404, "El mail del cliente proporcionado no existe");
        snprintf(q, sizeof(q), "mail=nadie&%s=%s", p, cases[i].good_enc);
        refused(f, "PUT", cases[i].path, q, 400, "Parametro 'mail' invalido: falta la '@'");
        snprintf(q, sizeof(q), "mail=ejemplo%%40gmail.com&%s=%s", p, cases[i].bad_enc);
        snprintf(msg, sizeof(msg), "Parametro '%s' invalido: %s", p, cases[i].bad_reason);
        refused(f, "PUT", cases[i].path, q, 400, msg);
        /* an unknown mail with a bad value: the value is judged first */
        snprintf(q, sizeof(q), "mail=nadie%%40x.es&%s=%s", p, cases[i].bad_enc);
        refused(f, "PUT", cases[i].path, q, 400, msg);
        snprintf(q, sizeof(q), "mail=ejemplo%%40gmail.com&%s=%s&%s=%s", p, cases[i].good_enc, p,
                 cases[i].good_enc);
        snprintf(msg, sizeof(msg), "Parametro '%s' repetido", p);
        refused(f, "PUT", cases[i].path, q, 400, msg);
        /* a malformed value */
        snprintf(q, sizeof(q), "mail=ejemplo%%40gmail.com&%s=%%ZZ", p);
        snprintf(msg, sizeof(msg), "Parametro '%s' invalido: codificacion porcentual invalida", p);
        refused(f, "PUT", cases[i].path, q, 400, msg);

        /* success, by a differently-cased mail; only that field changes, and
         * other record parameters in the request are ignored */
        snprintf(q, sizeof(q), "mail=Ejemplo%%40GMAIL.com&%s=%s&mail2=x&%s=Ignorado", p,
                 cases[i].good_enc, cases[i].field == CLIENT_NOMBRE ? "apellidos" : "nombre");
        assert_int_equal(req(f, "PUT", cases[i].path, q), 200);
        snprintf(body, sizeof(body), "{\"Resultado\":\"%s\"}", cases[i].done);
        expect_body(f, body);
        get_client(f, "ejemplo@gmail.com", &after);
        for (int k = 0; k < CLIENT_NFIELDS; k++) {
            const char *want = k == (int)cases[i].field
                                   ? cases[i].good
                                   : client_get(&before, (enum client_field)k);
            assert_string_equal(client_get(&after, (enum client_field)k), want);
        }
        assert_int_equal(count(f), 1);
    }
    /* and /cliente shows the result */
    assert_int_equal(req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    expect_body(f, "{\"ejemplo@gmail.com\":{\"nombre\":\"Jes\xc3\xbas Mar\xc3\xad" "a\","
                   "\"apellidos\":\"Mesa G.\",\"mail\":\"ejemplo@gmail.com\","
                   "\"fecha_nacimiento\":\"1996-06-29\",\"direccion\":\"Calle Nueva 2\"}}");
}

/* The store locked by another connection past busy_timeout: 503 with
 * Retry-After for every write, and nothing changes. */
static void test_busy_503(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *method, *path, *query, *ctype, *body;
    } writes[] = {
        {"POST", "/aniadir", NEW_CLIENT, NULL, NULL},
        {"POST", "/aniadir", NULL, FORM_CT, NEW_CLIENT},
        {"PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Otro", NULL, NULL},
        {"DELETE", "/eliminar", "mail=ejemplo%40gmail.com", NULL, NULL},
    };
    sqlite3 *other = NULL;
    char *before, *after, v[32];

    before = snapshot(f);
    assert_int_equal(sqlite3_open(f->db, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        assert_int_equal(send_req(f, writes[i].method, writes[i].path, writes[i].query,
                                  writes[i].ctype, writes[i].body),
                         503);
        expect_error(f, 503, "Servicio no disponible temporalmente");
        assert_string_equal(cgi_header(&f->r, "Retry-After", v, sizeof(v)), "1");
    }
    /* validation still comes first: a bad request is a 400, not a 503 */
    assert_int_equal(req(f, "POST", "/aniadir", "nombre=A"), 400);
    /* WAL: readers are not blocked by the writer */
    assert_int_equal(req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    expect_body(f, example_cliente);

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(other), SQLITE_OK);
    after = snapshot(f);
    assert_string_equal(before, after);
    assert_false(has_client(f, "ana@x.es"));

    /* the store recovers: no transaction was left open */
    assert_int_equal(req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    assert_true(has_client(f, "ana@x.es"));
    free(before);
    free(after);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_index),
        T(test_unknown_path),
        T(test_wrong_method),
        T(test_other_method_never_reaches_handler),
        cmocka_unit_test(test_route_allowed),
        T(test_head),
        T(test_get_cliente),
        T(test_get_cliente_errors),
        T(test_get_clientes_one),
        T(test_get_clientes_many),
        T(test_get_clientes_empty),
        T(test_mail_with_quote),
        T(test_aniadir),
        T(test_aniadir_form_body),
        T(test_aniadir_missing),
        T(test_aniadir_invalid),
        T(test_aniadir_duplicate),
        T(test_refusals_before_handler),
        T(test_eliminar),
        T(test_setters),
        T(test_busy_503),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
