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

/* For a known path, writes the methods it accepts ("GET, HEAD") into buf
 * (len bytes) and returns 1; returns 0 for an unknown path (buf untouched).
 * A seam for the tests and the fuzz harness. */
int route_allowed(const char *path, char *buf, size_t len);

#endif
