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

/* The streamed list goes out in pieces of at least this many bytes. */
#define LIST_CHUNK 4096
/* Room for a chunk of the list plus one more record even if every byte of
 * it were escaped as \u00xx: a single response is rendered whole, then sent
 * with its Content-Length. */
#define BODY_MAX (LIST_CHUNK + 6 * sizeof(struct client) + 512)
/* Whole-list responses (ROUTE_WHOLE_LIST) rendered at once by this process
 * until route_set_threads() says how many threads serve. */
#define WHOLE_LIST_MAX_DEFAULT 1

#define UNAVAILABLE "Servicio no disponible temporalmente"
#define STORAGE_DOWN "Almacenamiento no disponible: requiere intervencion del administrador"
#define NOT_FOUND_MAIL "El mail del cliente proporcionado no existe"

struct route;

struct route_ctx {
    struct store *store;
    struct http_request *req;
    struct http_response *res;
    const struct route *rt; /* NULL for an unknown path */
    unsigned methods;       /* what the rows of the path take together (Allow) */
    struct http_error err;
    char detail[256]; /* what to log for a 5xx: a library detail, never a value */
    bool quiet;       /* a refusal by design (the whole-list cap): not logged */
    char allow[64];   /* the Allow value err.allow points to */
    struct auth auth; /* who is asking (auth.h), before any handler runs */
    struct json_buf out;
    char buf[BODY_MAX];
};

typedef int (*route_handler)(struct route_ctx *c);

/* What a route is besides its handler. */
enum route_flag {
    /* Renders every client: never on every thread at once (see
     * route_set_threads()); one more is refused at once with 503 +
     * Retry-After rather than queued. */
    ROUTE_WHOLE_LIST = 1 << 0,
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
    const char *path;        /* the exact path */
    unsigned methods;        /* enum http_method bits; Allow is derived from them */
    enum route_access access;
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
    UI("/ui/importar", HTTP_POST, ACCESS_EDITOR, ui_import_preview),
    UI("/ui/importar/confirmar", HTTP_POST, ACCESS_EDITOR, ui_import_confirm),
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
};
/* clang-format on */
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Whether `path` is the route's.  Exact today; a pattern with a {mail}
 * segment (for /v1) would be matched, and its segment captured, here. */
static bool matches(const struct route *rt, const char *path)
{
    return strcmp(rt->path, path) == 0;
}

/* The row of `path` that takes method m, or else the first row of `path`
 * (NULL when no row has it); *methods: what all the rows of `path` take
 * together (a path may have a row per method: their access differs). */
static const struct route *find(const char *path, enum http_method m, unsigned *methods)
{
    const struct route *first = NULL, *hit = NULL;

    *methods = 0;
    if (!path)
        return NULL;
    for (size_t i = 0; i < NROUTES; i++) {
        if (!matches(&routes[i], path))
            continue;
        *methods |= routes[i].methods;
        if (!first)
            first = &routes[i];
        if (!hit && (routes[i].methods & (unsigned)m))
            hit = &routes[i];
    }
    return hit ? hit : first;
}

size_t route_count(void)
{
    return NROUTES;
}

const char *route_path(size_t i)
{
    return i < NROUTES ? routes[i].path : NULL;
}

int route_allow(size_t i, char *buf, size_t len)
{
    unsigned methods;

    if (i >= NROUTES || !buf || len == 0)
        return -1;
    find(routes[i].path, HTTP_OTHER, &methods);
    return http_allow_format(methods, buf, len);
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

    if (!find(path, HTTP_OTHER, &methods) || http_allow_format(methods, buf, len) != 0)
        return 0;
    return 1;
}

void route_set_threads(int threads)
{
    atomic_store(&whole_list_max, threads > 1 ? threads - 1 : 1);
}

/* Runs the route's handler, under the whole-list cap when it has one. */
static int run_handler(struct route_ctx *c)
{
    int st;

    if (!(c->rt->flags & ROUTE_WHOLE_LIST))
        return c->rt->handler(c);
    if (atomic_fetch_add(&whole_lists, 1) >= atomic_load(&whole_list_max)) {
        atomic_fetch_sub(&whole_lists, 1);
        http_fail(&c->err, 503, UNAVAILABLE);
        c->err.retry_after = 1;
        c->quiet = true; /* a flood of these must not flood the log */
        return 503;
    }
    st = c->rt->handler(c);
    atomic_fetch_sub(&whole_lists, 1);
    return st;
}

/* The error style of a path no route has: its prefix's. */
static enum route_errors path_errors(const char *path)
{
    if (path && strncmp(path, "/ui/", 4) == 0)
        return ROUTE_ERRORS_HTML;
    return path && strncmp(path, "/v1/", 4) == 0 ? ROUTE_ERRORS_PROBLEM : ROUTE_ERRORS_LEGACY;
}

/* The one place an error response is rendered, in the route's style (a
 * path without a route: its prefix's, path_errors()). */
static void send_error(struct route_ctx *c)
{
    enum route_errors style = c->rt ? c->rt->errors : path_errors(c->req->path);

    if (style == ROUTE_ERRORS_HTML) {
        struct ui_request u = ui_request_of(c);
        ui_send_error(&u);
        return;
    }
    c->err.style = style == ROUTE_ERRORS_PROBLEM ? HTTP_ERRORS_PROBLEM : HTTP_ERRORS_LEGACY;
    http_send_error(c->res, &c->err);
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
    struct route_ctx c;
    long long t0 = now_us();
    int st;

    c.store = store;
    c.req = req;
    c.res = res;
    c.rt = find(req->path, req->method, &c.methods);
    c.detail[0] = '\0';
    c.quiet = false;
    c.auth.status = AUTH_ANONYMOUS;
    if (!c.rt) {
        st = http_fail(&c.err, 404, "Ruta no encontrada");
    } else if (c.rt->access == ACCESS_UNDECLARED) {
        /* a route nobody classified: closed (and a bug worth a log line) */
        snprintf(c.detail, sizeof(c.detail), "route %s declares no access", c.rt->path);
        st = http_fail(&c.err, 403, "Acceso no permitido");
        log_failure(&c, st, c.detail);
    } else if (!(c.rt->methods & (unsigned)req->method)) {
        st = http_fail(&c.err, 405, "Metodo no permitido");
        set_allow(&c, c.methods);
    } else if ((st = check_access(&c))) {
        /* refused: 401, 403, or 503 when the store could not say */
    } else if (http_cross_site(req) || (cookie_write(&c) && !auth_same_origin(req))) {
        /* A page of another site cannot change data through a browser. */
        st = http_fail(&c.err, 403, "Peticion de otro sitio no permitida");
    } else if ((st = http_parse_params(req, &c.err)) == 0) {
        if (cookie_write(&c) && !auth_csrf_ok(&c.auth, req))
            st = http_fail(&c.err, 403, "Falta el token CSRF de la sesion o no es valido");
        else
            st = run_allowed(&c);
    }
    if (st >= 400 && !res->started) {
        send_error(&c);
        if (st >= 500 && !c.quiet)
            log_failure(&c, st, c.detail[0] ? c.detail : c.err.mensaje);
    }
    metrics_request(c.rt ? (size_t)(c.rt - routes) : route_count(), res->status, now_us() - t0);
    return res->status;
}
