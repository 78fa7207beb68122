/* route.h - the route table and the handlers of the legacy HTTP contract. */
#ifndef CLIENTES_ROUTE_H
#define CLIENTES_ROUTE_H

#include "http.h"
#include "store.h"

/* Serves one request: finds the route for req->path (404 when none, 405 with
 * Allow when the method is not the route's), decodes the parameters (400 on
 * malformed input), runs the handler over `store` and sends the response
 * through `res`.  Every error goes out through http_send_error(); 5xx are
 * logged to stderr with the request id.  Returns the status sent. */
int route_dispatch(struct store *store, struct http_request *req, struct http_response *res);

/* For a known path, stores in *allow the methods it accepts ("GET, HEAD")
 * and returns 1; returns 0 for an unknown path. */
int route_allowed(const char *path, const char **allow);

/* The route table, for those that derive something from it (nginx's Allow
 * map): the number of routes, the exact path of route i (NULL past the end),
 * and its Allow value ("GET, HEAD") written into buf; 0, or -1 when i is out
 * of range or buf is too small. */
size_t route_count(void);
const char *route_path(size_t i);
int route_allow(size_t i, char *buf, size_t len);

#endif
