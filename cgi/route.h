/* route.h - the route table and the handlers of the legacy HTTP contract. */
#ifndef CLIENTES_ROUTE_H
#define CLIENTES_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include <stdbool.h>

#include "auth.h"
#include "client.h"
#include "http.h"
#include "json.h"
#include "store.h"

/* Serves one request: finds the route for req->path (404 when none, 405 with
 * Allow when the method is not the route's), refuses a state-changing
 * request from another site (403, see http_cross_site()), decodes the
 * parameters (400 on malformed input), runs the handler over `store` and
 * sends the response through `res`.  Every error goes out through one
 * renderer; each 5xx leaves one log line (request id, method, route, status,
 * the library's detail).  Returns the status sent. */
int route_dispatch(struct store *store, struct http_request *req, struct http_response *res);

/* Tells the router how many threads serve requests (call before they
 * start).  A whole-list route (GET /clientes) walks the entire store; one
 * client fetching it over many connections could otherwise hold every
 * thread while a lookup waits.  At most threads - 1 of them (at least one)
 * run at once; one more is answered 503 with Retry-After at once.  Until
 * this is called the limit is 1. */
void route_set_threads(int threads);

/* GET /metrics reads nginx's status page on 127.0.0.1:nginx_port (0: not at
 * all) and, with from_loopback, answers a request from 127.0.0.1 or ::1 with
 * no credentials (METRICS_ACCESS=loopback); otherwise an admin's only. */
void route_set_metrics(int nginx_port, bool from_loopback);

/* The table, for whoever must agree with it (nginx's Allow map for the
 * methods it answers itself, generated at start).  Routes are numbered
 * 0 .. route_count() - 1. */
size_t route_count(void);

/* The path of route i, or NULL when i is out of range: exact, or a pattern
 * whose "{mail}" stands for one percent-encoded path segment.  Several rows
 * may share a path (one per access: GET for readers, PATCH for editors). */
const char *route_path(size_t i);

/* Writes route i's Allow value ("GET, HEAD") into buf (len bytes): the
 * methods of every row with route i's path.  Returns 0, or -1 when i is out
 * of range or the value does not fit. */
int route_allow(size_t i, char *buf, size_t len);

/* Who may use route i: "public", "reader", "editor", "admin", "legacy-read"
 * (a reader, or anyone with LEGACY_AUTH=open) or "legacy-write"; NULL when
 * i is out of range or the route declares nothing (it is then refused). */
const char *route_access(size_t i);

/* The methods of route i's own row (enum http_method bits); 0 out of range. */
unsigned route_methods(size_t i);

/* For a known path (as sent: a /v1 one still percent-encoded), writes the
 * methods it accepts ("GET, HEAD") into buf (len bytes) and returns 1;
 * returns 0 for an unknown path (buf untouched).  A seam for the tests and
 * the fuzz harness. */
int route_allowed(const char *path, char *buf, size_t len);

/* ---- for the handlers that live in other files (v1.c) ------------------ */

/* The streamed responses go out in pieces of at least this many bytes. */
#define ROUTE_CHUNK 4096
/* Room for a chunk plus one more record even if every byte of it were
 * escaped as \u00xx: a single response is rendered whole, then sent with
 * its Content-Length. */
#define ROUTE_BODY_MAX (ROUTE_CHUNK + 6 * sizeof(struct client) + 2048)

struct route;

/* What a {mail} segment of the path decoded to (see route_dispatch()). */
enum route_segment {
    SEGMENT_NONE = 0, /* the route has none */
    SEGMENT_OK,       /* c->mail holds it, decoded once, valid UTF-8 */
    SEGMENT_LONG,     /* longer than any mail: no record can have it */
};

/* One request on its way through a handler. */
struct route_ctx {
    struct store *store;
    struct http_request *req;
    struct http_response *res;
    const struct route *rt; /* NULL for an unknown path */
    unsigned methods;       /* what the rows of the path take together (Allow) */
    struct http_error err;
    char detail[256]; /* what to log for a 5xx: a library detail, never a value */
    bool quiet;       /* a refusal by design (the whole-list cap): not logged */
    char allow[96];   /* the Allow value err.allow points to */
    struct auth auth; /* who is asking (auth.h), before any handler runs */
    /* the {mail} segment of the path, percent-decoded exactly once */
    enum route_segment segment;
    char mail[CLIENT_MAIL_CAP];
    /* who the request must be made by (route.c's enum route_access), set
     * once its parameters are decoded */
    int access;
    /* header lines every response of this request carries (CORS), or "" */
    char cors[512];
    struct json_buf out;
    char buf[ROUTE_BODY_MAX];
};

typedef int (*route_handler)(struct route_ctx *c);

/* The Allow value of the request's path (every row of the table with that
 * path), also pointed to by c->err.allow. */
const char *route_ctx_allow(struct route_ctx *c);

/* Runs fn(c) under the whole-list cap (see route_set_threads()): a handler
 * that walks every client (a CSV export) calls it; one too many is answered
 * 503 with Retry-After at once. */
int route_whole_list(struct route_ctx *c, route_handler fn);

/* The one line a failed request leaves in the log (ids and the detail). */
void route_log_failure(const struct route_ctx *c, int status, const char *detail);

#endif
