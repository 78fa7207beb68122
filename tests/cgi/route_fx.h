/* route_fx.h - the fixture of the route test files (test_route_*.c): a real
 * SQLite store in a temporary directory, requests fed to route_dispatch() as
 * plain structs, and helpers that check every response and fail the cmocka
 * test on the spot.  Every request carries an editor token made at setup
 * (the real default, LEGACY_AUTH=token), unless a test changes
 * f->authorization.  Built on tests/support and cgi_support.h. */
#ifndef CLIENTES_ROUTE_FX_H
#define CLIENTES_ROUTE_FX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "cgi_support.h"
#include "client.h"
#include "accounts.h"
#include "http.h"
#include "manager.h"
#include "route.h"
#include "store.h"
#include "support.h"

#define JSON_CT "application/json; charset=utf-8"
#define PROBLEM_CT "application/problem+json"
#define FORM_CT "application/x-www-form-urlencoded; charset=utf-8"

/* The example client as /cliente and as /clientes render it. */
#define RT_EXAMPLE_CLIENTE                                                                   \
    "{\"ejemplo@gmail.com\":{\"nombre\":\"Jesus\",\"apellidos\":\"Mesa Gonzalez\","          \
    "\"mail\":\"ejemplo@gmail.com\",\"fecha_nacimiento\":\"29/06/1996\","                    \
    "\"direccion\":\"Calle Paseo Moreras 39\"}}"
#define RT_EXAMPLE_CLIENTES                                                                  \
    "{\"ejemplo@gmail.com\":{\"Nombre\":\"Jesus\",\"Apellidos\":\"Mesa Gonzalez\","          \
    "\"Mail\":\"ejemplo@gmail.com\",\"Fecha de nacimiento\":\"29/06/1996\","                 \
    "\"Direccion\":\"Calle Paseo Moreras 39\"}}"

/* The two 503 messages: transient (with Retry-After), and a store an
 * operator must fix (without). */
#define RT_UNAVAILABLE "Servicio no disponible temporalmente"
#define RT_STORAGE_DOWN "Almacenamiento no disponible: requiere intervencion del administrador"

/* A complete, valid, new client as a query string. */
#define NEW_CLIENT                                                                           \
    "nombre=Ana&apellidos=Lopez+Diaz&mail=ana%40x.es&fecha_nacimiento=8%2F09%2F1978"        \
    "&direccion=Calle+Mayor+1"

/* One test's state: the store (busy_timeout 50 ms, so lock tests are quick),
 * one request struct, and the last response captured and split. */
struct fx {
    char dir[512];
    char db[600];
    struct store *store;
    struct http_request *req;
    struct cgi_out out;
    struct cgi_resp r;
    bool head;
    /* sent with every request while set (NULL: the header is absent) */
    const char *origin, *sec_fetch_site, *host, *scheme;
    const char *authorization, *cookie, *csrf_token;
    char token[80];        /* the editor token made at setup */
    char bearer[96];       /* "Bearer <token>": f->authorization at setup */
};

int rt_setup(void **state);
int rt_teardown(void **state);

/* Runs one request through route_dispatch and checks what every response
 * must satisfy: the status line, a JSON Content-Type (application/json, or
 * problem+json for an error; none for a 204), a Content-Length matching the
 * body, and (unless HEAD or 204) a body that is one complete JSON value.
 * Returns the status. */
int rt_send(struct fx *f, const char *method, const char *path, const char *query,
            const char *ctype, const char *body);

/* rt_send() without a body. */
int rt_req(struct fx *f, const char *method, const char *path, const char *query);

/* The last body is exactly `want`, with a Content-Length saying so. */
void rt_expect_body(const struct fx *f, const char *want);

/* The last response is the error `status` with exactly `mensaje` in the one
 * error shape, an Allow header iff `allow`, Retry-After iff `retry`. */
void rt_expect_error_full(const struct fx *f, int status, const char *mensaje, const char *allow,
                          bool retry);

/* rt_expect_error_full() with Retry-After iff the status is 503 and the
 * message is the transient one (RT_UNAVAILABLE). */
void rt_expect_error_allow(const struct fx *f, int status, const char *mensaje,
                           const char *allow);
void rt_expect_error(const struct fx *f, int status, const char *mensaje);

/* Every client in mail order, with the count first, as one malloc'd string:
 * compared before and after a refusal. */
char *rt_snapshot(struct fx *f);

long long rt_count(struct fx *f);

/* The request must be refused with `status`/`mensaje` (and `allow`) and
 * change nothing in the store. */
void rt_refused_body(struct fx *f, const char *method, const char *path, const char *query,
                     const char *ctype, const char *body, int status, const char *mensaje,
                     const char *allow);
void rt_refused(struct fx *f, const char *method, const char *path, const char *query,
                int status, const char *mensaje);

/* A row of a refusal table: a query and the error it must get. */
struct refusal {
    const char *query;
    int status;
    const char *mensaje;
};

/* rt_refused() for every row of `cases`, each sent as `method` `path`. */
void rt_refused_each(struct fx *f, const char *method, const char *path,
                     const struct refusal *cases, size_t n);

#define RT_REFUSED_EACH(f, method, path, cases)                                              \
    rt_refused_each((f), (method), (path), (cases), sizeof(cases) / sizeof((cases)[0]))

/* The stored client with that mail (failing when absent) / whether there is one. */
void rt_get_client(struct fx *f, const char *mail, struct client *c);
bool rt_has_client(struct fx *f, const char *mail);

/* A new token of that role (clientes-admin's way: the operator's), written
 * into out (TOKEN_TEXT_LEN + 1 bytes). */
void rt_token(struct fx *f, enum role role, char *out);

/* Percent-encodes everything outside [A-Za-z0-9._~-]. */
void rt_enc(char *out, size_t cap, const char *s);

/* The query string of a complete /aniadir, every value percent-encoded. */
void rt_build_add_query(char *q, size_t cap, const char *nombre, const char *apellidos,
                        const char *mail, const char *fecha, const char *direccion);

/* POST /aniadir of that client, which must succeed. */
void rt_add_client(struct fx *f, const char *nombre, const char *apellidos, const char *mail,
                   const char *fecha, const char *direccion);

/* `item` is the record with these values (indexed by enum client_field),
 * wire keys or (legacy) the old list's: ts_check_record(), failing. */
void rt_check_record(const cJSON *item, const char *const vals[CLIENT_NFIELDS], bool legacy);

/* The last body parsed by cJSON (the independent oracle); the caller frees it. */
cJSON *rt_parse_body(const struct fx *f);

/* Sends what the process writes to stderr (the worker's log lines) to a
 * temporary file until rt_captured_stderr(), which returns it (malloc'd,
 * also echoed to the real stderr). */
void rt_capture_stderr(void);
char *rt_captured_stderr(void);

#endif
