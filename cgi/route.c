/* route.c - one table maps (method, path) to thin handlers: decode the
 * parameters, call the library, render the JSON. */
#include "route.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "manager.h"

#define RENDER_MAX 8192 /* a rendered record always fits (fields are bounded) */

struct route_ctx {
    struct store *store;
    struct http_request *req;
    struct http_response *res;
    struct http_error err;
    char detail[256]; /* what to log for a 5xx */
    char buf[RENDER_MAX];
};

struct route;
typedef int (*route_handler)(struct route_ctx *c, const struct route *rt);

struct route {
    const char *path;
    unsigned methods;    /* enum http_method bits */
    const char *allow;   /* the same, for the Allow header */
    route_handler handler;
    enum client_field field; /* setters: the field they change */
    const char *done;    /* setters and writes: the "Resultado" text */
};

static const char index_body[] =
    "{\"status\":\"OK\",\"ejemplo\":{\"ruta\":\"/cliente?mail=ejemplo@gmail.com\","
    "\"valor\":{\"ejemplo@gmail.com\":{\"Apellidos\":\"Mesa Gonzalez\","
    "\"Direccion\":\"Calle Paseo Moreras 39\",\"Fecha de nacimiento\":\"29/06/1996\","
    "\"Mail\":\"ejemplo@gmail.com\",\"Nombre\":\"Jesus\"}}}}";

static const char not_found_mail[] = "El mail del cliente proporcionado no existe";

/* Turns a library error into the HTTP error of the contract. */
static int lib_fail(struct route_ctx *c, enum cl_err e, const struct manager_reject *rej,
                    const char *not_found)
{
    switch (e) {
    case CL_OK:
        break;
    case CL_INVALID:
        if (!rej)
            break;
        return http_fail(&c->err, 400, "Parametro '%s' invalido: %s",
                         client_fields[rej->field].name, rej->reason);
    case CL_NOT_FOUND:
        return http_fail(&c->err, 404, "%s", not_found);
    case CL_EXISTS:
        http_fail(&c->err, 405, "El mail del cliente proporcionado ya existe");
        c->err.allow = "POST";
        return 405;
    case CL_BUSY:
    case CL_STORAGE:
    case CL_NOMEM:
        break;
    }
    snprintf(c->detail, sizeof(c->detail), "%s: %s", cl_strerror(e), store_errmsg(c->store));
    http_fail(&c->err, 503, "Servicio no disponible temporalmente");
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

/* The one error line a failed request leaves on stderr, with its id. */
static void log_failure(const struct http_request *req, int status, const char *detail)
{
    fprintf(stderr, "clientes-worker: request_id=%s status=%d %s %s: %s\n", req->request_id,
            status, req->method_name ? req->method_name : "-", req->path ? req->path : "-",
            detail);
}

static int send_result(struct route_ctx *c, const char *text)
{
    int n = snprintf(c->buf, sizeof(c->buf), "{\"Resultado\":\"%s\"}", text);
    http_send_json(c->res, 200, NULL, c->buf, (size_t)n);
    return 200;
}

/* {"<mail>":{...the five fields...}} with wire names (legacy=0: "nombre") or
 * the old list's capitalised names (legacy=1: "Nombre"), printed into c->buf.
 * Returns the length, or -1 when out of memory. */
static long render_record(struct route_ctx *c, const struct client *cl, int legacy)
{
    /* Keys are static and the values outlive the tree: reference both rather
     * than copy them, one allocation per node. */
    cJSON *outer = cJSON_CreateObject(), *inner = cJSON_CreateObject();
    long n = -1;

    if (!outer || !inner || !cJSON_AddItemToObject(outer, cl->mail, inner)) {
        cJSON_Delete(inner);
        cJSON_Delete(outer);
        return -1;
    }
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const struct client_field_desc *d = &client_fields[f];
        cJSON *v = cJSON_CreateStringReference(client_get(cl, d->field));
        if (!v || !cJSON_AddItemToObjectCS(inner, legacy ? d->legacy_name : d->name, v)) {
            cJSON_Delete(v);
            goto out;
        }
    }
    if (cJSON_PrintPreallocated(outer, c->buf, (int)sizeof(c->buf), 0))
        n = (long)strlen(c->buf);
out:
    cJSON_Delete(outer);
    return n;
}

static int h_index(struct route_ctx *c, const struct route *rt)
{
    (void)rt;
    http_send_json(c->res, 200, NULL, index_body, sizeof(index_body) - 1);
    return 200;
}

static int h_health(struct route_ctx *c, const struct route *rt)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    enum cl_err e = manager_ping(c->store);

    (void)rt;
    if (e)
        return lib_fail(c, e, NULL, "");
    http_send_json(c->res, 200, NULL, ok, sizeof(ok) - 1);
    return 200;
}

static int h_cliente(struct route_ctx *c, const struct route *rt)
{
    struct manager_reject rej;
    struct client cl;
    const char *mail;
    enum cl_err e;
    long n;
    int st;

    (void)rt;
    if ((st = need(c, "mail", &mail, NULL)))
        return st;
    if ((e = manager_get(c->store, mail, &cl, &rej)))
        return lib_fail(c, e, &rej, not_found_mail);
    if ((n = render_record(c, &cl, 0)) < 0)
        return lib_fail(c, CL_NOMEM, NULL, "");
    http_send_json(c->res, 200, NULL, c->buf, (size_t)n);
    return 200;
}

/* Streams one record of the list: the first opens the response and the
 * object; each after that is preceded by a comma. */
static int list_one(const struct client *cl, void *ctx)
{
    struct route_ctx *c = ctx;
    long n = render_record(c, cl, 1);

    if (n < 2) {
        snprintf(c->detail, sizeof(c->detail), "out of memory rendering the list");
        return 1;
    }
    if (!c->res->started) {
        if (http_begin(c->res, 200, NULL, -1) || http_write(c->res, "{", 1))
            return 1;
    } else if (http_write(c->res, ",", 1)) {
        return 1;
    }
    /* Drop the record's own braces: `"mail":{...}` goes inside the list's. */
    return http_write(c->res, c->buf + 1, (size_t)n - 2) ? 1 : 0;
}

static int h_clientes(struct route_ctx *c, const struct route *rt)
{
    enum cl_err e;

    (void)rt;
    e = manager_walk(c->store, list_one, c);
    if (!c->res->started) {
        if (e || c->detail[0])
            return lib_fail(c, e ? e : CL_NOMEM, NULL, "");
        return http_fail(&c->err, 404, "No existen clientes actualmente");
    }
    if (e && !c->detail[0])
        snprintf(c->detail, sizeof(c->detail), "list cut short: %s: %s", cl_strerror(e),
                 store_errmsg(c->store));
    if (c->detail[0]) {
        /* Headers are gone: the truncated body tells the client; log it. */
        log_failure(c->req, 200, c->detail);
        return 200;
    }
    http_write(c->res, "}", 1);
    return 200;
}

static int h_aniadir(struct route_ctx *c, const struct route *rt)
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
            return lib_fail(c, e, &rej, not_found_mail);
    }
    if ((e = manager_add(c->store, &cl, &rej)))
        return lib_fail(c, e, &rej, not_found_mail);
    return send_result(c, rt->done);
}

static int h_eliminar(struct route_ctx *c, const struct route *rt)
{
    struct manager_reject rej;
    const char *mail;
    enum cl_err e;
    int st;

    if ((st = need(c, "mail", &mail, NULL)))
        return st;
    if ((e = manager_delete(c->store, mail, &rej)))
        return lib_fail(c, e, &rej, "El mail del cliente a borrar no existe");
    return send_result(c, rt->done);
}

static int h_set(struct route_ctx *c, const struct route *rt)
{
    struct manager_reject rej;
    const char *mail, *value;
    enum cl_err e;
    int st;

    if ((st = need(c, "mail", &mail, NULL)) || (st = need(c, client_fields[rt->field].name, &value, NULL)))
        return st;
    if ((e = manager_update(c->store, mail, rt->field, value, &rej)))
        return lib_fail(c, e, &rej, not_found_mail);
    return send_result(c, rt->done);
}

#define GET_ROUTE (HTTP_GET | HTTP_HEAD)
static const struct route routes[] = {
    {"/", GET_ROUTE, "GET, HEAD", h_index, 0, NULL},
    {"/cliente", GET_ROUTE, "GET, HEAD", h_cliente, 0, NULL},
    {"/clientes", GET_ROUTE, "GET, HEAD", h_clientes, 0, NULL},
    {"/aniadir", HTTP_POST, "POST", h_aniadir, 0, "Cliente a\xc3\xb1" "adido con exito"},
    {"/eliminar", HTTP_DELETE, "DELETE", h_eliminar, 0, "Cliente eliminado con exito"},
    {"/setNombre", HTTP_PUT, "PUT", h_set, CLIENT_NOMBRE, "Nombre cambiado con exito"},
    {"/setApellidos", HTTP_PUT, "PUT", h_set, CLIENT_APELLIDOS,
     "Apellidos cambiados con exito"},
    {"/setFechaNacimiento", HTTP_PUT, "PUT", h_set, CLIENT_FECHA_NACIMIENTO,
     "Fecha de nacimiento cambiada con exito"},
    {"/setDireccion", HTTP_PUT, "PUT", h_set, CLIENT_DIRECCION, "Direccion cambiada con exito"},
    {"/health", GET_ROUTE, "GET, HEAD", h_health, 0, NULL},
};

static const struct route *find(const char *path)
{
    if (!path)
        return NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(routes[i].path, path) == 0)
            return &routes[i];
    return NULL;
}

int route_allowed(const char *path, const char **allow)
{
    const struct route *rt = find(path);

    if (rt)
        *allow = rt->allow;
    return rt != NULL;
}

int route_dispatch(struct store *store, struct http_request *req, struct http_response *res)
{
    struct route_ctx c;
    const struct route *rt = find(req->path);
    int st;

    c.store = store;
    c.req = req;
    c.res = res;
    c.detail[0] = '\0';
    if (!rt) {
        st = http_fail(&c.err, 404, "Ruta no encontrada");
    } else if (!(rt->methods & (unsigned)req->method)) {
        st = http_fail(&c.err, 405, "Metodo no permitido");
        c.err.allow = rt->allow;
    } else if ((st = http_parse_params(req, &c.err)) == 0) {
        st = rt->handler(&c, rt);
    }
    if (st >= 400 && !res->started) {
        http_send_error(res, &c.err);
        if (st >= 500)
            log_failure(req, st, c.detail[0] ? c.detail : c.err.mensaje);
    }
    return res->status;
}

/* The table, read from outside: the supervisor renders nginx's $allow_methods
 * map from it, so the Allow of nginx's own 405 (TRACE) follows the routes. */
size_t route_count(void)
{
    return sizeof(routes) / sizeof(routes[0]);
}

const char *route_path(size_t i)
{
    return i < route_count() ? routes[i].path : NULL;
}

int route_allow(size_t i, char *buf, size_t len)
{
    int n;

    if (i >= route_count() || !buf || len == 0)
        return -1;
    n = snprintf(buf, len, "%s", routes[i].allow);
    return n >= 0 && (size_t)n < len ? 0 : -1;
}
