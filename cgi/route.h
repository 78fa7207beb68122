/* route.h - the route table and the handlers of the legacy HTTP contract. */
#ifndef CLIENTES_ROUTE_H
#define CLIENTES_ROUTE_H

#include <stddef.h>

#include <stdbool.h>

#include "http.h"
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

/* The exact path of route i, or NULL when i is out of range. */
const char *route_path(size_t i);

/* Writes route i's Allow value ("GET, HEAD") into buf (len bytes).  Returns
 * 0, or -1 when i is out of range or the value does not fit. */
int route_allow(size_t i, char *buf, size_t len);

/* Who may use route i: "public", "reader", "editor", "admin", "legacy-read"
 * (a reader, or anyone with LEGACY_AUTH=open) or "legacy-write"; NULL when
 * i is out of range or the route declares nothing (it is then refused). */
const char *route_access(size_t i);

/* For a known path, writes the methods it accepts ("GET, HEAD") into buf
 * (len bytes) and returns 1; returns 0 for an unknown path (buf untouched).
 * A seam for the tests and the fuzz harness. */
int route_allowed(const char *path, char *buf, size_t len);

#endif
