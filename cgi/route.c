/* route.c - one table maps (method, path) to thin handlers: decode the
 * parameters, call the library, render the JSON. */
#include "route.h"

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "accounts.h"
#include "auth.h"
#include "client.h"
#include "json.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "ui.h"
#include "utf8.h"
#include "v1.h"

#define LIST_CHUNK ROUTE_CHUNK
/* Whole-list responses (ROUTE_WHOLE_LIST) rendered at once by this process
 * until route_set_threads() says how many threads serve. */
#define WHOLE_LIST_MAX_DEFAULT 1

#define UNAVAILABLE "Servicio no disponible temporalmente"
#define STORAGE_DOWN "Almacenamiento no disponible: requiere intervencion del administrador"
#define NOT_FOUND_MAIL "El mail del cliente proporcionado no existe"

/* What a route is besides its handler. */
enum route_flag {
    /* Renders every client: never on every thread at once (see
     * route_set_threads()); one more is refused at once with 503 +
     * Retry-After rather than queued. */
    ROUTE_WHOLE_LIST = 1 << 0,
    /* Takes a body larger than HTTP_BODY_MAX, streamed (an import); every
     * other route answers such a body 413. */
    ROUTE_LARGE_BODY = 1 << 1,
};

/* How a route's errors are rendered (send_error()).  A path no route
 * matches gets the style of its prefix (path_errors()). */
enum route_errors {
    ROUTE_ERRORS_LEGACY = 0, /* {"mensaje":"...","status":"<code>"} */
    ROUTE_ERRORS_PROBLEM,    /* RFC 9457 application/problem+json: the /v1 API */
    ROUTE_ERRORS_HTML,       /* a page, or 303 to sign in: the browser pages (ui.h) */
};

/* Who may use a route: a column of the table, never an `if` in a handler.
 * 0 is "not declared", which the dispatcher refuses: a route someone forgot
 * to classify is closed, not open. */
enum route_access {
    ACCESS_UNDECLARED = 0,
    ACCESS_PUBLIC,       /* anyone: /, the health checks, the login itself */
    ACCESS_READER,       /* a reader (or more) */
    ACCESS_EDITOR,       /* an editor (or more) */
    ACCESS_ADMIN,        /* an admin */
    ACCESS_LEGACY_READ,  /* the old service's reads: a reader, or anyone with LEGACY_AUTH=open */
    ACCESS_LEGACY_WRITE, /* the old service's writes: an editor, or anyone with LEGACY_AUTH=open */
    ACCESS_METRICS,      /* an admin, or anyone on loopback with METRICS_ACCESS=loopback */
};

/* One row per route, written with designated initializers so that a column
 * added later is 0/NULL in every row that does not name it, which the
 * dispatcher can then refuse (the access column is the example). */
struct route {
    const char *path;        /* the exact path, or a pattern with a {mail} segment */
    unsigned methods;        /* enum http_method bits; Allow is derived from them */
    enum route_access access;
    /* A query parameter that, set to "1", makes the request an admin's
     * (DELETE ...?erase=1): still a column, not an `if` in a handler. */
    const char *admin_if;
    /* The handler reads the body itself (JSON, CSV, NDJSON): only the
     * query string is decoded into parameters. */
    bool own_body;
    route_handler handler;
    unsigned flags;          /* enum route_flag bits */
    enum route_errors errors;
    enum client_field field; /* setters: the field they change */
    const char *done;        /* writes: the "Resultado" text */
    const char *not_found;   /* the mensaje of a CL_NOT_FOUND */
    ui_handler ui;           /* the browser pages: the page's handler (ui.h), run by h_ui */
};

/* Whole-list responses in flight in this process, and how many may be. */
static atomic_int whole_lists;
static atomic_int whole_list_max = WHOLE_LIST_MAX_DEFAULT;

/* Keys sorted as the old service's Flask jsonify sorted them, which is why
 * this one body is a literal and not rendered from client_fields. */
static const char index_body[] =
    "{\"status\":\"OK\",\"ejemplo\":{\"ruta\":\"/cliente?mail=ejemplo@gmail.com\","
    "\"valor\":{\"ejemplo@gmail.com\":{\"Apellidos\":\"Mesa Gonzalez\","
    "\"Direccion\":\"Calle Paseo Moreras 39\",\"Fecha de nacimiento\":\"29/06/1996\","
    "\"Mail\":\"ejemplo@gmail.com\",\"Nombre\":\"Jesus\"}}}}";

static void set_allow(struct route_ctx *c, unsigned methods)
{
    http_allow_format(methods, c->allow, sizeof(c->allow));
    c->err.allow = c->allow;
}

/* Turns a library error into the HTTP error of the contract.  CL_BUSY (and
 * CL_NOMEM) are transient: 503 with Retry-After.  CL_STORAGE needs someone to
 * fix the store (read-only, full, corrupt, removed): 503 without Retry-After
 * and its own message, so clients do not hammer it. */
static int lib_fail(struct route_ctx *c, enum cl_err e, const struct manager_reject *rej)
{
    if (e == CL_BUSY || e == CL_STORAGE || e == CL_NOMEM)
        metrics_store_error(e);
    switch (e) {
    case CL_OK:
        break;
    case CL_INVALID:
        if (!rej)
            break;
        return http_fail(&c->err, 400, "Parametro '%s' invalido: %s",
                         client_fields[rej->field].name, rej->reason);
    case CL_NOT_FOUND:
        return http_fail(&c->err, 404, "%s", c->rt->not_found ? c->rt->not_found : "No existe");
    case CL_EXISTS:
        http_fail(&c->err, 405, "El mail del cliente proporcionado ya existe");
        set_allow(c, c->methods);
        return 405;
    case CL_STORAGE:
        snprintf(c->detail, sizeof(c->detail), "%s: %s", cl_strerror(e), store_errmsg(c->store));
        return http_fail(&c->err, 503, STORAGE_DOWN);
    case CL_CONFLICT:
        return http_fail(&c->err, 409, "El cliente ha cambiado entretanto");
    case CL_DENIED:
        http_fail(&c->err, 401, "Credenciales no validas");
        c->err.headers = AUTH_CHALLENGE "\r\n";
        return 401;
    case CL_THROTTLED:
        http_fail(&c->err, 429, "Demasiados intentos; intentelo mas tarde");
        c->err.retry_after = 60;
        return 429;
    case CL_BUSY:
    case CL_NOMEM:
        break;
    }
    snprintf(c->detail, sizeof(c->detail), "%s: %s", cl_strerror(e), store_errmsg(c->store));
    http_fail(&c->err, 503, UNAVAILABLE);
    c->err.retry_after = 1;
    return 503;
}

/* Fetches a required parameter; 400 naming it when absent. */
static int need(struct route_ctx *c, const char *name, const char **value, size_t *len)
{
    *value = http_param(c->req, name, len);
    if (!*value)
        return http_fail(&c->err, 400, "Falta el parametro '%s'", name);
    return 0;
}

/* The one line a failed request leaves in the log: ids and the library's
 * detail only (the route as in the table, the method by its enum), never a
 * value taken from the request. */
static void log_failure(const struct route_ctx *c, int status, const char *detail)
{
    wlog(WLOG_ERROR, "request_id=%s method=%s route=%s status=%d: %s", c->req->request_id,
         http_method_name(c->req->method), c->rt ? c->rt->path : "-", status, detail);
}

void route_log_failure(const struct route_ctx *c, int status, const char *detail)
{
    log_failure(c, status, detail);
}

/* A writer into c->buf, for a response sent whole. */
static void begin_body(struct route_ctx *c, struct json *j)
{
    json_buf_init(&c->out, c->buf, sizeof(c->buf));
    json_init(j, json_buf_write, &c->out);
}

/* Sends what begin_body() collected: 200 with its Content-Length. */
static int send_body(struct route_ctx *c, struct json *j)
{
    if (j->failed) {
        snprintf(c->detail, sizeof(c->detail), "response larger than %zu bytes", sizeof(c->buf));
        return http_fail(&c->err, 500, "Error interno");
    }
    http_send_json(c->res, 200, NULL, c->out.data, c->out.len);
    return 200;
}

static int send_result(struct route_ctx *c)
{
    struct json j;

    begin_body(c, &j);
    json_obj_open(&j, NULL);
    json_put_str(&j, "Resultado", c->rt->done);
    json_obj_close(&j);
    return send_body(c, &j);
}

/* "<mail>":{...the five fields...} with wire names (legacy false: "nombre")
 * or the old list's capitalised names (legacy true: "Nombre"). */
static void put_record(struct json *j, const struct client *cl, bool legacy)
{
    json_obj_open(j, cl->mail);
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const struct client_field_desc *d = &client_fields[f];
        json_put_str(j, legacy ? d->legacy_name : d->name, client_get(cl, d->field));
    }
    json_obj_close(j);
}

/* A browser asking for / (its Accept starts with text/html) is sent to the
 * browser pages; curl, scripts and the old clients (any other Accept, or
 * none) get the old service JSON, byte for byte. */
static int h_index(struct route_ctx *c)
{
    const char *accept = c->req->accept;

    if (accept && strncasecmp(accept, "text/html", 9) == 0) {
        http_begin_type(c->res, 303, NULL, "Location: /ui/\r\nVary: Accept\r\n", 0);
        return 303;
    }
    http_send_json(c->res, 200, "Vary: Accept\r\n", index_body, sizeof(index_body) - 1);
    return 200;
}

/* The view of a request that the browser pages' handlers get. */
static struct ui_request ui_request_of(struct route_ctx *c)
{
    return (struct ui_request){c->store, c->req,         c->res,           &c->auth,
                               &c->err,  c->detail, sizeof(c->detail), &c->quiet};
}

/* A browser page: its row names the handler. */
static int h_ui(struct route_ctx *c)
{
    struct ui_request u = ui_request_of(c);

    return c->rt->ui(&u);
}

/* Alive: the worker answers.  The store is not asked (that is /health/ready),
 * so a platform restarting on this check never restarts over a store that a
 * restart cannot fix. */
static int h_health(struct route_ctx *c)
{
    struct json j;

    begin_body(c, &j);
    json_obj_open(&j, NULL);
    json_put_str(&j, "status", "ok");
    json_obj_close(&j);
    return send_body(c, &j);
}

/* Ready: the store answers a read and can take a write. */
/* Where /metrics finds nginx's status page, and whether a scraper on this
 * machine needs no credentials (route_set_metrics()). */
static atomic_int metrics_port;
static atomic_bool metrics_loopback;

/* GET /metrics: the counters in Prometheus's text format. */
static int h_metrics(struct route_ctx *c)
{
    enum { METRICS_MAX = 256 * 1024 };
    char nginx[2048], *buf;
    const char *reason = NULL;
    int port = atomic_load(&metrics_port);
    bool nginx_ok = port > 0 && metrics_nginx_status(port, nginx, sizeof(nginx)) == 0;
    long n;

    if (!(buf = malloc(METRICS_MAX)))
        return lib_fail(c, CL_NOMEM, NULL);
    n = metrics_render(buf, METRICS_MAX, store_ready(c->store, &reason) == CL_OK,
                       nginx_ok ? nginx : NULL);
    if (n < 0) {
        free(buf);
        snprintf(c->detail, sizeof(c->detail), "metrics larger than %d bytes", METRICS_MAX);
        return http_fail(&c->err, 500, "Error interno");
    }
    if (http_begin_type(c->res, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, n) == 0)
        http_write(c->res, buf, (size_t)n);
    free(buf);
    return 200;
}

void route_set_metrics(int nginx_port, bool from_loopback)
{
    atomic_store(&metrics_port, nginx_port);
    atomic_store(&metrics_loopback, from_loopback);
}

static bool loopback_peer(const char *addr)
{
    return addr && (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
                    strncmp(addr, "::ffff:127.", 11) == 0);
}

static int h_ready(struct route_ctx *c)
{
    const char *reason = NULL;
    enum cl_err e = store_ready(c->store, &reason);
    struct json j;

    if (e) {
        lib_fail(c, e, NULL);
        snprintf(c->err.mensaje, sizeof(c->err.mensaje), "Almacenamiento no disponible: %s",
                 reason ? reason : cl_strerror(e));
        return 503;
    }
    if (auth_settings()->legacy != AUTH_LEGACY_OPEN)
        return h_health(c);
    /* said wherever an operator looks: the old routes are open to anyone */
    begin_body(c, &j);
    json_obj_open(&j, NULL);
    json_put_str(&j, "status", "ok");
    json_put_str(&j, "legacy_auth", "open");
    json_obj_close(&j);
    return send_body(c, &j);
}

/* nginx's own 431 (a header too large), sent here by its error_page so that
 * the status line has its reason phrase: nginx 1.22 knows none for 431 and
 * takes the line from the upstream.  The location is internal: no client
 * reaches this route directly. */
static int h_header_too_large(struct route_ctx *c)
{
    return http_fail(&c->err, 431, "Cabeceras de la peticion demasiado grandes");
}

static int h_cliente(struct route_ctx *c)
{
    struct manager_reject rej;
    struct client cl;
    const char *mail;
    struct json j;
    enum cl_err e;
    int st;

    if ((st = need(c, "mail", &mail, NULL)))
        return st;
    if ((e = manager_get(c->store, mail, &cl, &rej)))
        return lib_fail(c, e, &rej);
    begin_body(c, &j);
    json_obj_open(&j, NULL);
    put_record(&j, &cl, false);
    json_obj_close(&j);
    return send_body(c, &j);
}

/* The list is rendered into c->buf and handed to the response a chunk at a
 * time: the first chunk opens it (status line, no Content-Length), so an
 * error before then still gets its own status. */
static int flush_list(struct route_ctx *c)
{
    if (!c->res->started && http_begin(c->res, 200, NULL, -1))
        return -1;
    if (http_write(c->res, c->out.data, c->out.len))
        return -1;
    c->out.len = 0;
    return 0;
}

struct list_walk {
    struct route_ctx *c;
    struct json j;
    long n;
};

static int list_record(const struct client *cl, void *ctx)
{
    struct list_walk *w = ctx;

    if (w->n++ == 0)
        json_obj_open(&w->j, NULL);
    put_record(&w->j, cl, true);
    if (w->j.failed)
        return 1;
    return w->c->out.len >= LIST_CHUNK && flush_list(w->c) ? 1 : 0;
}

static int h_clientes(struct route_ctx *c)
{
    struct list_walk w = {c, {0}, 0};
    enum cl_err e;

    begin_body(c, &w.j);
    e = manager_walk(c->store, list_record, &w);
    if (!c->res->started && !w.j.failed && !c->res->failed) {
        /* nothing sent yet: an error or an empty store still has its status */
        if (e)
            return lib_fail(c, e, NULL);
        if (w.n == 0)
            return lib_fail(c, CL_NOT_FOUND, NULL);
    }
    if (!e && !w.j.failed && json_obj_close(&w.j) == 0 && flush_list(c) == 0)
        return 200;
    if (c->res->failed)
        return 200; /* the peer went away: nothing to tell anyone */
    /* Headers are gone: the truncated body tells the client; log it. */
    snprintf(c->detail, sizeof(c->detail), "list cut short: %s: %s",
             e ? cl_strerror(e) : "rendering failed", e ? store_errmsg(c->store) : "");
    log_failure(c, 200, c->detail);
    return 200;
}

static int h_aniadir(struct route_ctx *c)
{
    struct manager_reject rej;
    struct client cl;
    enum cl_err e;

    client_init(&cl);
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const char *v;
        size_t len;
        int st;
        if ((st = need(c, client_fields[f].name, &v, &len)))
            return st;
        rej.field = (enum client_field)f;
        if ((e = client_set(&cl, rej.field, v, len, &rej.reason)))
            return lib_fail(c, e, &rej);
    }
    if ((e = manager_add(c->store, &cl, &rej)))
        return lib_fail(c, e, &rej);
    return send_result(c);
}

static int h_eliminar(struct route_ctx *c)
{
    struct manager_reject rej;
    const char *mail;
    enum cl_err e;
    int st;

    if ((st = need(c, "mail", &mail, NULL)))
        return st;
    if ((e = manager_delete(c->store, mail, &rej)))
        return lib_fail(c, e, &rej);
    return send_result(c);
}

static int h_set(struct route_ctx *c)
{
    enum client_field field = c->rt->field;
    struct manager_reject rej;
    const char *mail, *value;
    enum cl_err e;
    int st;

    if ((st = need(c, "mail", &mail, NULL)) ||
        (st = need(c, client_fields[field].name, &value, NULL)))
        return st;
    if ((e = manager_update(c->store, mail, field, value, &rej)))
        return lib_fail(c, e, &rej);
    return send_result(c);
}

/* ---- sessions and the caller (/v1/session, /v1/me) ------------------- */

static bool json_body(const struct http_request *r)
{
    static const char json[] = "application/json";
    const char *t = r->content_type;
    size_t n = sizeof(json) - 1;

    return t && strncasecmp(t, json, n) == 0 && (t[n] == '\0' || t[n] == ';' || t[n] == ' ');
}

/* The two strings of a login body {"username": ..., "password": ...},
 * nothing else in it; *doc owns them (cJSON_Delete after). */
static int login_body(struct route_ctx *c, cJSON **doc, const cJSON **user, const cJSON **pw)
{
    const char *end = NULL;
    cJSON *d, *m;
    int n = 0;

    *doc = NULL;
    if (!json_body(c->req))
        return http_fail(&c->err, 415, "El cuerpo debe ser application/json");
    d = cJSON_ParseWithLengthOpts(c->req->body, c->req->body_len, &end, 0);
    while (d && end && end < c->req->body + c->req->body_len &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (!d || end != c->req->body + c->req->body_len) {
        cJSON_Delete(d);
        return http_fail(&c->err, 400, "El cuerpo no es JSON valido");
    }
    *doc = d;
    *user = cJSON_GetObjectItemCaseSensitive(d, "username");
    *pw = cJSON_GetObjectItemCaseSensitive(d, "password");
    cJSON_ArrayForEach(m, d) n++;
    if (!cJSON_IsObject(d) || n != 2 || !cJSON_IsString(*user) || !cJSON_IsString(*pw) ||
        *user == *pw)
        return http_fail(&c->err, 422, "Se esperaba {\"username\": texto, \"password\": texto}");
    return 0;
}

/* POST /v1/session: a password login; the session's id goes out as the
 * cookie, its CSRF token in the body. */
static int h_session_create(struct route_ctx *c)
{
    const struct auth_settings *as = auth_settings();
    const cJSON *user = NULL, *pw = NULL;
    struct accounts_session se;
    char cookie[160];
    long retry = 0;
    struct json j;
    cJSON *doc;
    enum cl_err e;
    int st;

    if ((st = login_body(c, &doc, &user, &pw))) {
        cJSON_Delete(doc);
        return st;
    }
    if (!auth_hash_begin()) { /* every password check slot is taken */
        explicit_bzero(pw->valuestring, strlen(pw->valuestring));
        cJSON_Delete(doc);
        http_fail(&c->err, 503, "Demasiados inicios de sesion a la vez; intentelo de nuevo");
        c->err.retry_after = 1;
        c->quiet = true;
        return 503;
    }
    e = accounts_login(c->store, &as->accounts, user->valuestring, pw->valuestring,
                       strlen(pw->valuestring), &se, &retry);
    auth_hash_end();
    explicit_bzero(pw->valuestring, strlen(pw->valuestring));
    cJSON_Delete(doc);
    if (e == CL_DENIED || e == CL_THROTTLED)
        metrics_login_failure();
    if (e == CL_DENIED) { /* one message whatever was wrong */
        http_fail(&c->err, 401, "Usuario o contrasena incorrectos");
        c->err.headers = AUTH_CHALLENGE "\r\n";
        return 401;
    }
    if (e == CL_THROTTLED) {
        http_fail(&c->err, 429, "Demasiados intentos fallidos para esta cuenta; intentelo mas tarde");
        c->err.retry_after = retry > 0 ? (int)retry : 1;
        return 429;
    }
    if (e)
        return lib_fail(c, e, NULL);
    if (auth_cookie_set(cookie, sizeof(cookie), se.id)) {
        snprintf(c->detail, sizeof(c->detail), "session cookie does not fit");
        explicit_bzero(&se, sizeof(se));
        return http_fail(&c->err, 500, "Error interno");
    }
    begin_body(c, &j);
    json_obj_open(&j, NULL);
    json_put_str(&j, "username", se.who.user);
    json_put_str(&j, "role", role_name(se.who.role));
    json_put_str(&j, "csrf_token", se.who.csrf);
    json_obj_close(&j);
    explicit_bzero(&se, sizeof(se));
    if (j.failed)
        return send_body(c, &j);
    http_send_json(c->res, 200, cookie, c->out.data, c->out.len);
    explicit_bzero(cookie, sizeof(cookie));
    return 200;
}

/* DELETE /v1/session: logs out; the session is deleted server-side and the
 * cookie cleared. */
static int h_session_delete(struct route_ctx *c)
{
    const struct auth_settings *as = auth_settings();
    char clear[160];
    enum cl_err e;

    if (c->auth.who.kind != PRINCIPAL_SESSION)
        return http_fail(&c->err, 400, "Esta peticion no usa una sesion");
    e = accounts_logout(c->store, &as->accounts, c->auth.session_id, SESSION_ID_LEN);
    if (e && e != CL_NOT_FOUND) /* not found: ended meanwhile, as asked */
        return lib_fail(c, e, NULL);
    auth_cookie_clear(clear, sizeof(clear));
    http_begin_type(c->res, 204, NULL, clear, -1);
    return 204;
}

/* GET /v1/me: who the caller is and how they authenticated. */
static int h_me(struct route_ctx *c)
{
    const struct principal *p = &c->auth.who;
    struct json j;

    begin_body(c, &j);
    json_obj_open(&j, NULL);
    if (p->user[0])
        json_put_str(&j, "username", p->user);
    json_put_str(&j, "role", role_name(p->role));
    json_put_str(&j, "via", auth_via(&c->auth));
    if (p->kind == PRINCIPAL_TOKEN) {
        json_obj_open(&j, "token");
        json_put_int(&j, "id", p->token_id);
        json_put_str(&j, "label", p->token_label);
        json_obj_close(&j);
    }
    if (p->kind == PRINCIPAL_SESSION)
        json_put_str(&j, "csrf_token", p->csrf);
    json_obj_close(&j);
    return send_body(c, &j);
}

#define GET_ROUTE (HTTP_GET | HTTP_HEAD)
/* A /v1 resource's first row also answers OPTIONS (route_dispatch()). */
#define V1_GET (HTTP_GET | HTTP_HEAD | HTTP_OPTIONS)
#define V1 .errors = ROUTE_ERRORS_PROBLEM, .own_body = true
/* clang-format off: one route per row reads as a table */
static const struct route routes[] = {
    {.path = "/", .methods = GET_ROUTE, .access = ACCESS_PUBLIC, .handler = h_index},
    {.path = "/cliente", .methods = GET_ROUTE, .access = ACCESS_LEGACY_READ,
     .handler = h_cliente, .not_found = NOT_FOUND_MAIL},
    {.path = "/clientes", .methods = GET_ROUTE, .access = ACCESS_LEGACY_READ,
     .handler = h_clientes, .flags = ROUTE_WHOLE_LIST,
     .not_found = "No existen clientes actualmente"},
    {.path = "/aniadir", .methods = HTTP_POST, .access = ACCESS_LEGACY_WRITE,
     .handler = h_aniadir, .done = "Cliente a\xc3\xb1" "adido con exito"},
    {.path = "/eliminar", .methods = HTTP_DELETE, .access = ACCESS_LEGACY_WRITE,
     .handler = h_eliminar, .done = "Cliente eliminado con exito",
     .not_found = "El mail del cliente a borrar no existe"},
    {.path = "/setNombre", .methods = HTTP_PUT, .access = ACCESS_LEGACY_WRITE,
     .handler = h_set, .field = CLIENT_NOMBRE, .done = "Nombre cambiado con exito",
     .not_found = NOT_FOUND_MAIL},
    {.path = "/setApellidos", .methods = HTTP_PUT, .access = ACCESS_LEGACY_WRITE,
     .handler = h_set, .field = CLIENT_APELLIDOS, .done = "Apellidos cambiados con exito",
     .not_found = NOT_FOUND_MAIL},
    {.path = "/setFechaNacimiento", .methods = HTTP_PUT, .access = ACCESS_LEGACY_WRITE,
     .handler = h_set, .field = CLIENT_FECHA_NACIMIENTO,
     .done = "Fecha de nacimiento cambiada con exito", .not_found = NOT_FOUND_MAIL},
    {.path = "/setDireccion", .methods = HTTP_PUT, .access = ACCESS_LEGACY_WRITE,
     .handler = h_set, .field = CLIENT_DIRECCION, .done = "Direccion cambiada con exito",
     .not_found = NOT_FOUND_MAIL},
    {.path = "/health", .methods = GET_ROUTE, .access = ACCESS_PUBLIC, .handler = h_health},
    {.path = "/health/ready", .methods = GET_ROUTE, .access = ACCESS_PUBLIC, .handler = h_ready},
    {.path = "/metrics", .methods = GET_ROUTE, .access = ACCESS_METRICS, .handler = h_metrics},
    {.path = "/_nginx_error_431", .methods = GET_ROUTE, .access = ACCESS_PUBLIC,
     .handler = h_header_too_large},
    /* sessions: the login itself is public (nginx limits it per client);
     * logging out needs the session it ends */
    /* the browser pages (ui.h): the sign-in is public (nginx limits its
     * posts per client), the rest by role */
#define UI(p, m, a, fn) \
    {.path = (p), .methods = (m), .access = (a), .handler = h_ui, .ui = (fn), \
     .errors = ROUTE_ERRORS_HTML}
    UI("/ui/", GET_ROUTE, ACCESS_PUBLIC, ui_home),
    UI("/ui/entrar", GET_ROUTE, ACCESS_PUBLIC, ui_login_form),
    UI("/ui/entrar", HTTP_POST, ACCESS_PUBLIC, ui_login),
    UI("/ui/salir", HTTP_POST, ACCESS_READER, ui_logout),
    UI("/ui/clientes", GET_ROUTE, ACCESS_READER, ui_list),
    UI("/ui/cliente", GET_ROUTE, ACCESS_READER, ui_ficha),
    UI("/ui/clientes/nuevo", GET_ROUTE, ACCESS_EDITOR, ui_new_form),
    UI("/ui/clientes/nuevo", HTTP_POST, ACCESS_EDITOR, ui_create),
    UI("/ui/cliente/editar", GET_ROUTE, ACCESS_EDITOR, ui_edit_form),
    UI("/ui/cliente/editar", HTTP_POST, ACCESS_EDITOR, ui_update),
    UI("/ui/cliente/borrar", GET_ROUTE, ACCESS_EDITOR, ui_delete_form),
    UI("/ui/cliente/borrar", HTTP_POST, ACCESS_EDITOR, ui_delete),
    UI("/ui/importar", GET_ROUTE, ACCESS_EDITOR, ui_import_form),
    /* the import's posts carry a file: a body larger than the worker reads
     * before routing, which the handler reads itself (their CSRF token
     * travels in the query) */
    {.path = "/ui/importar", .methods = HTTP_POST, .access = ACCESS_EDITOR, .handler = h_ui,
     .ui = ui_import_preview, .errors = ROUTE_ERRORS_HTML, .flags = ROUTE_LARGE_BODY,
     .own_body = true},
    {.path = "/ui/importar/confirmar", .methods = HTTP_POST, .access = ACCESS_EDITOR,
     .handler = h_ui, .ui = ui_import_confirm, .errors = ROUTE_ERRORS_HTML,
     .flags = ROUTE_LARGE_BODY, .own_body = true},
    {.path = "/ui/exportar", .methods = GET_ROUTE, .access = ACCESS_READER, .handler = h_ui,
     .ui = ui_export, .errors = ROUTE_ERRORS_HTML, .flags = ROUTE_WHOLE_LIST},
    UI("/ui/usuarios", GET_ROUTE, ACCESS_ADMIN, ui_users),
    UI("/ui/usuarios", HTTP_POST, ACCESS_ADMIN, ui_user_create),
    UI("/ui/usuarios/rol", HTTP_POST, ACCESS_ADMIN, ui_user_role),
    UI("/ui/usuarios/estado", HTTP_POST, ACCESS_ADMIN, ui_user_state),
    UI("/ui/tokens", GET_ROUTE, ACCESS_ADMIN, ui_tokens),
    UI("/ui/tokens", HTTP_POST, ACCESS_ADMIN, ui_token_create),
    UI("/ui/tokens/revocar", HTTP_POST, ACCESS_ADMIN, ui_token_revoke),
    UI("/ui/auditoria", GET_ROUTE, ACCESS_ADMIN, ui_audit),
#undef UI
    {.path = "/v1/session", .methods = HTTP_POST, .access = ACCESS_PUBLIC,
     .handler = h_session_create, .errors = ROUTE_ERRORS_PROBLEM},
    {.path = "/v1/session", .methods = HTTP_DELETE, .access = ACCESS_READER,
     .handler = h_session_delete, .errors = ROUTE_ERRORS_PROBLEM},
    {.path = "/v1/me", .methods = GET_ROUTE, .access = ACCESS_READER, .handler = h_me,
     .errors = ROUTE_ERRORS_PROBLEM},
    /* the resource API (v1.c); a path's rows go together, the first with OPTIONS */
    {.path = "/v1/clientes", .methods = V1_GET, .access = ACCESS_READER, .handler = v1_list, V1},
    {.path = "/v1/clientes", .methods = HTTP_POST, .access = ACCESS_EDITOR,
     .handler = v1_create, V1},
    {.path = "/v1/clientes.csv", .methods = V1_GET, .access = ACCESS_READER,
     .handler = v1_csv, .flags = ROUTE_WHOLE_LIST, V1},
    {.path = "/v1/clientes/import", .methods = HTTP_POST | HTTP_OPTIONS,
     .access = ACCESS_EDITOR, .handler = v1_import, .flags = ROUTE_LARGE_BODY, V1},
    {.path = "/v1/clientes/{mail}", .methods = V1_GET, .access = ACCESS_READER,
     .handler = v1_get, V1},
    {.path = "/v1/clientes/{mail}", .methods = HTTP_PUT | HTTP_PATCH, .access = ACCESS_EDITOR,
     .handler = v1_change, V1},
    {.path = "/v1/clientes/{mail}", .methods = HTTP_DELETE, .access = ACCESS_EDITOR,
     .admin_if = "erase", .handler = v1_delete, V1},
    {.path = "/v1/clientes/{mail}/history", .methods = V1_GET, .access = ACCESS_READER,
     .handler = v1_history, V1},
    {.path = "/v1/clientes/{mail}/export", .methods = V1_GET, .access = ACCESS_EDITOR,
     .handler = v1_export, V1},
    {.path = "/v1/audit", .methods = V1_GET, .access = ACCESS_ADMIN, .handler = v1_audit, V1},
    {.path = "/v1/openapi.json", .methods = V1_GET, .access = ACCESS_PUBLIC,
     .handler = v1_openapi, V1},
};
/* clang-format on */
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* The API's routes, matched on the request target as sent (REQUEST_URI):
 * nginx decodes "%2F" in the path it normalises, and a mail may hold a '/'. */
static bool is_v1(const char *path)
{
    return strncmp(path, "/v1/", 4) == 0;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* How the path of a request compares with a row's. */
enum match {
    MATCH_NO = 0,
    MATCH_YES,
    MATCH_BAD, /* a {mail} segment that does not decode: 400 */
};

/* Percent-decodes the segment s[0..n) into c->mail, once and strictly: %XX
 * with two hex digits, no NUL, valid UTF-8 ('+' is a plus: this is a path).
 * Sets c->segment. */
struct capture {
    enum route_segment segment;
    char mail[CLIENT_MAIL_CAP];
};

static enum match decode_segment(struct capture *c, const char *s, size_t n)
{
    char tmp[CLIENT_MAIL_CAP];
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return MATCH_BAD;
            ch = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (ch == '\0')
            return MATCH_BAD;
        if (o + 1 >= sizeof(tmp)) {
            /* longer than any mail; still checked to the end for encoding */
            o = sizeof(tmp);
            continue;
        }
        tmp[o++] = (char)ch;
    }
    if (o == sizeof(tmp)) {
        c->segment = SEGMENT_LONG;
        c->mail[0] = '\0';
        return MATCH_YES;
    }
    tmp[o] = '\0';
    if (o == 0)
        return MATCH_NO; /* "/v1/clientes//history" names nothing */
    if (!utf8_valid((const unsigned char *)tmp, o))
        return MATCH_BAD;
    memcpy(c->mail, tmp, o + 1);
    c->segment = SEGMENT_OK;
    return MATCH_YES;
}

/* Whether `path` (n bytes) is the row's: an exact path, or one with a
 * {mail} segment (anything but '/' between its two literal parts), which is
 * captured into c. */
static enum match matches(const struct route *rt, const char *path, size_t n,
                          struct capture *c)
{
    const char *brace = strstr(rt->path, "{mail}");
    size_t pre, post;
    const char *seg, *seg_end, *rest;

    if (!brace)
        return strlen(rt->path) == n && memcmp(rt->path, path, n) == 0 ? MATCH_YES : MATCH_NO;
    pre = (size_t)(brace - rt->path);
    rest = brace + 6;
    post = strlen(rest);
    if (n < pre + post || memcmp(path, rt->path, pre) != 0)
        return MATCH_NO;
    seg = path + pre;
    seg_end = memchr(seg, '/', n - pre);
    if (!seg_end)
        seg_end = path + n;
    if ((size_t)(path + n - seg_end) != post || memcmp(seg_end, rest, post) != 0)
        return MATCH_NO;
    return decode_segment(c, seg, (size_t)(seg_end - seg));
}

/* The path to match a request on: for the API the target as sent, without
 * its query; the legacy routes as nginx normalised it. */
static const char *request_path(const struct http_request *req, size_t *n)
{
    const char *p = req->path;

    if (req->raw_uri && req->raw_uri[0] == '/' && is_v1(req->raw_uri)) {
        *n = strcspn(req->raw_uri, "?#");
        return req->raw_uri;
    }
    if (p)
        *n = strlen(p);
    return p;
}

/* The row for the request's path and method; *methods: every method of
 * every row with that path (0: unknown path).  A row of the path that does
 * not take the method is the answer too, when no other does (the 405).
 * An exact path goes before a pattern ("/v1/clientes/import" is no mail). */
static const struct route *find_for(struct capture *c, const struct http_request *req,
                                    unsigned *methods, enum match *how)
{
    const struct route *hit = NULL;
    const char *path;
    size_t n = 0;

    *methods = 0;
    *how = MATCH_NO;
    c->segment = SEGMENT_NONE;
    c->mail[0] = '\0';
    if (!(path = request_path(req, &n)))
        return NULL;
    for (size_t pass = 0; pass < 2 && !hit; pass++) {
        for (size_t i = 0; i < NROUTES; i++) {
            if ((strchr(routes[i].path, '{') != NULL) != (pass == 1))
                continue;
            enum match m = matches(&routes[i], path, n, c);
            if (m == MATCH_NO)
                continue;
            if (m == MATCH_BAD) {
                *how = MATCH_BAD;
                return &routes[i];
            }
            *how = MATCH_YES;
            *methods |= routes[i].methods;
            if (!hit || (!(hit->methods & (unsigned)req->method) &&
                         (routes[i].methods & (unsigned)req->method)))
                hit = &routes[i];
        }
    }
    return hit;
}

static const struct route *find(const char *path, unsigned *methods)
{
    struct http_request req = {.path = path, .raw_uri = path, .method = HTTP_OTHER};
    struct capture scratch;
    enum match how;
    const struct route *rt;

    if (!path)
        return NULL;
    rt = find_for(&scratch, &req, methods, &how);
    return how == MATCH_YES ? rt : NULL;
}

/* Every method of the rows sharing route i's path. */
static unsigned path_methods(size_t i)
{
    unsigned m = 0;

    for (size_t k = 0; k < NROUTES; k++)
        if (strcmp(routes[k].path, routes[i].path) == 0)
            m |= routes[k].methods;
    return m;
}

size_t route_count(void)
{
    return NROUTES;
}

const char *route_path(size_t i)
{
    return i < NROUTES ? routes[i].path : NULL;
}

unsigned route_methods(size_t i)
{
    return i < NROUTES ? routes[i].methods : 0;
}

int route_allow(size_t i, char *buf, size_t len)
{
    if (i >= NROUTES || !buf || len == 0)
        return -1;
    return http_allow_format(path_methods(i), buf, len);
}

const char *route_access(size_t i)
{
    static const char *const names[] = {
        [ACCESS_UNDECLARED] = NULL,         [ACCESS_PUBLIC] = "public",
        [ACCESS_READER] = "reader",         [ACCESS_EDITOR] = "editor",
        [ACCESS_ADMIN] = "admin",           [ACCESS_LEGACY_READ] = "legacy-read",
        [ACCESS_LEGACY_WRITE] = "legacy-write", [ACCESS_METRICS] = "metrics",
    };

    if (i >= NROUTES || (unsigned)routes[i].access >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[routes[i].access];
}

int route_allowed(const char *path, char *buf, size_t len)
{
    unsigned methods;

    if (!find(path, &methods) || http_allow_format(methods, buf, len) != 0)
        return 0;
    return 1;
}

const char *route_ctx_allow(struct route_ctx *c)
{
    c->err.allow = c->allow;
    return c->allow;
}

void route_set_threads(int threads)
{
    atomic_store(&whole_list_max, threads > 1 ? threads - 1 : 1);
}

int route_whole_list(struct route_ctx *c, route_handler fn)
{
    int st;

    if (atomic_fetch_add(&whole_lists, 1) >= atomic_load(&whole_list_max)) {
        atomic_fetch_sub(&whole_lists, 1);
        http_fail(&c->err, 503, UNAVAILABLE);
        c->err.retry_after = 1;
        c->quiet = true; /* a flood of these must not flood the log */
        return 503;
    }
    st = fn(c);
    atomic_fetch_sub(&whole_lists, 1);
    return st;
}

/* Runs the route's handler, under the whole-list cap when it has one. */
static int run_handler(struct route_ctx *c)
{
    if (!(c->rt->flags & ROUTE_WHOLE_LIST))
        return c->rt->handler(c);
    return route_whole_list(c, c->rt->handler);
}

/* The error style of a path no route has: its prefix's. */
static enum route_errors path_errors(const char *path)
{
    if (path && strncmp(path, "/ui/", 4) == 0)
        return ROUTE_ERRORS_HTML;
    return path && is_v1(path) ? ROUTE_ERRORS_PROBLEM : ROUTE_ERRORS_LEGACY;
}

/* The one place an error response is rendered, in the route's style (a
 * path without a route: its prefix's, path_errors()), with the CORS lines
 * of an API request. */
static void send_error(struct route_ctx *c)
{
    enum route_errors style = c->rt ? c->rt->errors : path_errors(c->req->path);
    char headers[1024];

    if (style == ROUTE_ERRORS_HTML) {
        struct ui_request u = ui_request_of(c);
        ui_send_error(&u);
        return;
    }
    c->err.style = style == ROUTE_ERRORS_PROBLEM ? HTTP_ERRORS_PROBLEM : HTTP_ERRORS_LEGACY;
    if (c->cors[0]) {
        snprintf(headers, sizeof(headers), "%s%s", c->err.headers ? c->err.headers : "", c->cors);
        c->err.headers = headers;
    }
    http_send_error(c->res, &c->err);
}

/* Who the request must be made by: the row's access, raised to admin by
 * its admin_if parameter (read once the parameters are decoded). */
static enum route_access required_access(const struct route_ctx *c)
{
    const char *v;

    if (c->rt->admin_if && (v = http_param(c->req, c->rt->admin_if, NULL)) && strcmp(v, "1") == 0)
        return ACCESS_ADMIN;
    return c->rt->access;
}

/* OPTIONS on an API resource: 204 with Allow, which needs no credentials;
 * for an origin of CORS_ORIGINS asking before a cross-origin call (a
 * preflight), the CORS headers that let the browser make it. */
static int options(struct route_ctx *c, unsigned methods)
{
    char extra[1024];
    int n;

    http_allow_format(methods, c->allow, sizeof(c->allow));
    n = snprintf(extra, sizeof(extra), "Allow: %s\r\n%s", c->allow, c->cors);
    if (c->cors[0] && c->req->acr_method)
        snprintf(extra + n, sizeof(extra) - (size_t)n,
                 "Access-Control-Allow-Methods: %s\r\n"
                 "Access-Control-Allow-Headers: Authorization, Content-Type, If-Match, "
                 "If-None-Match, Prefer, X-Request-Id\r\n"
                 "Access-Control-Max-Age: 600\r\n",
                 c->allow);
    http_begin_type(c->res, 204, NULL, extra, -1);
    return 204;
}

/* The role route rt needs of a request and where its credentials may come
 * from (enum auth_from); ROLE_NONE: anyone, no credentials looked at. */
static enum role needed_role(const struct route *rt, const struct http_request *req,
                             unsigned *from)
{
    *from = AUTH_FROM_BEARER | AUTH_FROM_COOKIE;
    switch (rt->access) {
    case ACCESS_METRICS:
        if (atomic_load(&metrics_loopback) && loopback_peer(req->client_addr))
            return ROLE_NONE; /* a scraper on this machine */
        return ROLE_ADMIN;
    case ACCESS_READER:
        return ROLE_READER;
    case ACCESS_EDITOR:
        return ROLE_EDITOR;
    case ACCESS_ADMIN:
        return ROLE_ADMIN;
    case ACCESS_LEGACY_READ:
    case ACCESS_LEGACY_WRITE:
        if (auth_settings()->legacy == AUTH_LEGACY_OPEN)
            return ROLE_NONE; /* exactly the old service */
        /* the old clients are programs: a token, never a browser's cookie,
         * so these routes cannot be driven from another site at all */
        *from = AUTH_FROM_BEARER;
        return rt->access == ACCESS_LEGACY_READ ? ROLE_READER : ROLE_EDITOR;
    case ACCESS_PUBLIC:
    case ACCESS_UNDECLARED:
        break;
    }
    return ROLE_NONE;
}

/* Authenticates the request for its route and checks the role: 0 when it
 * may go on, else the status of the refusal (401, 403, 503) with c->err
 * set.  Nothing is written either way. */
static int check_access(struct route_ctx *c)
{
    unsigned from;
    enum role need = needed_role(c->rt, c->req, &from);

    auth_request(c->store, c->req, need == ROLE_NONE ? 0 : from, &c->auth);
    if (need == ROLE_NONE)
        return 0;
    switch (c->auth.status) {
    case AUTH_OK:
        break;
    case AUTH_FAILED:
        return lib_fail(c, c->auth.err, NULL);
    case AUTH_ANONYMOUS:
    case AUTH_MALFORMED:
    case AUTH_DENIED:
        http_fail(&c->err, 401, c->auth.status == AUTH_ANONYMOUS
                                    ? "Faltan las credenciales (Authorization: Bearer <token>)"
                                    : "Credenciales no validas");
        c->err.headers = auth_challenge(&c->auth);
        return 401;
    }
    if (!role_allows(c->auth.who.role, need))
        return http_fail(&c->err, 403, "Su rol (%s) no permite esta operacion",
                         role_name(c->auth.who.role));
    return 0;
}

/* A state change authorised by a browser's cookie: it needs the CSRF token
 * and a same-origin request on top of the role. */
static bool cookie_write(const struct route_ctx *c)
{
    return c->auth.status == AUTH_OK && c->auth.who.kind == PRINCIPAL_SESSION &&
           !(c->req->method & HTTP_SAFE_METHODS);
}

/* A write from a page of one of CORS_ORIGINS authorised by a token: the
 * browser sent no cookie for it, so no other site rides on a session. */
static bool cors_token_write(const struct route_ctx *c)
{
    return strstr(c->cors, "Access-Control-Allow-Origin") && c->auth.status == AUTH_OK &&
           c->auth.who.kind != PRINCIPAL_SESSION;
}

/* Runs the handler of an allowed request with its actor on the store, so
 * the audit rows it writes say who and from where. */
static int run_allowed(struct route_ctx *c)
{
    int st;

    auth_allowed(c->store, &c->auth);
    store_set_actor(c->store, &c->auth.actor);
    st = run_handler(c);
    store_set_actor(c->store, NULL); /* the actor's strings end with the request */
    return st;
}

static long long now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int route_dispatch(struct store *store, struct http_request *req, struct http_response *res)
{
    struct route_ctx ctx, *c = &ctx; /* not zeroed: every field used is set */
    struct capture cap;
    enum match how;
    bool problem;
    long long t0 = now_us();
    int st;

    c->store = store;
    c->req = req;
    c->res = res;
    c->rt = find_for(&cap, req, &c->methods, &how);
    c->segment = cap.segment;
    memcpy(c->mail, cap.mail, sizeof(c->mail));
    c->detail[0] = '\0';
    c->cors[0] = '\0';
    c->quiet = false;
    c->auth.status = AUTH_ANONYMOUS;
    c->access = c->rt ? (int)c->rt->access : ACCESS_UNDECLARED;
    problem = (c->rt ? c->rt->errors : path_errors(req->path)) == ROUTE_ERRORS_PROBLEM;
    if (problem)
        v1_cors(req, c->cors, sizeof(c->cors));
    if (!c->rt) {
        st = http_fail(&c->err, 404, "Ruta no encontrada");
    } else if (how == MATCH_BAD) {
        st = http_fail(&c->err, 400, "Ruta con codificacion porcentual invalida");
    } else if (c->rt->access == ACCESS_UNDECLARED) {
        /* a route nobody classified: closed (and a bug worth a log line) */
        snprintf(c->detail, sizeof(c->detail), "route %s declares no access", c->rt->path);
        st = http_fail(&c->err, 403, "Acceso no permitido");
        log_failure(c, st, c->detail);
    } else if (!(c->rt->methods & (unsigned)req->method)) {
        st = http_fail(&c->err, 405, "Metodo no permitido");
        set_allow(c, c->methods);
    } else if (req->method == HTTP_OPTIONS) {
        st = options(c, c->methods); /* before credentials: a preflight carries none */
    } else if ((st = check_access(c))) {
        /* refused: 401, 403, or 503 when the store could not say */
    } else if ((http_cross_site(req) && !cors_token_write(c)) ||
               (cookie_write(c) && !auth_same_origin(req))) {
        /* A page of another site cannot change data through a browser (one
         * of CORS_ORIGINS may, with a token: a cookie never counts). */
        st = http_fail(&c->err, 403, "Peticion de otro sitio no permitida");
    } else if (req->body_pending && !(c->rt->flags & ROUTE_LARGE_BODY)) {
        st = http_fail(&c->err, 413, "Cuerpo de la peticion demasiado grande");
    } else if ((st = c->rt->own_body ? http_parse_query(req, &c->err)
                                     : http_parse_params(req, &c->err)) == 0) {
        c->access = (int)required_access(c);
        if (cookie_write(c) && !auth_csrf_ok(&c->auth, req))
            st = http_fail(&c->err, 403, "Falta el token CSRF de la sesion o no es valido");
        else if (c->access == ACCESS_ADMIN && c->rt->access != ACCESS_ADMIN &&
                 !role_allows(c->auth.who.role, ROLE_ADMIN))
            st = http_fail(&c->err, 403, "Su rol (%s) no permite esta operacion",
                           role_name(c->auth.who.role));
        else
            st = run_allowed(c);
    }
    if (st >= 400 && !res->started) {
        send_error(c);
        if (st >= 500 && !c->quiet)
            log_failure(c, st, c->detail[0] ? c->detail : c->err.mensaje);
    }
    metrics_request(c->rt ? (size_t)(c->rt - routes) : route_count(), res->status, now_us() - t0);
    return res->status;
}
