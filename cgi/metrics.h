/* metrics.h - what GET /metrics reports, in Prometheus's text format: the
 * worker's requests by route and status, their latency, requests in flight,
 * store errors by kind, refused logins, worker restarts, nginx's refusals and
 * its stub_status figures.  The counters live in the page clientes-web shares
 * (shm.h), so they survive a worker restart. */
#ifndef CLIENTES_METRICS_H
#define CLIENTES_METRICS_H

#include <stddef.h>

#include "error.h"
#include "http.h"
#include "shm.h"

/* Where the counters go: the shared page (or a private one when the worker
 * runs alone).  Called once, before the threads start; until then nothing is
 * counted. */
void metrics_attach(struct shm_page *page);

/* One answered request: route index (route_count() for "no route"), its
 * status and how long the worker spent on it. */
void metrics_request(size_t route, int status, long long micros);

/* A store error the route layer saw (CL_BUSY, CL_STORAGE, ...). */
void metrics_store_error(enum cl_err e);

/* A login refused (wrong password, unknown user, throttled). */
void metrics_login_failure(void);

/* Writes the whole exposition through `res` (a 200 text/plain response with
 * its Content-Length is the caller's), into buf (len bytes).  store_up: 1
 * when the store answered the readiness check, 0 otherwise; nginx_status:
 * the text of nginx's stub_status page, or NULL when it could not be read.
 * Returns the length, or -1 when buf is too small. */
long metrics_render(char *buf, size_t len, int store_up, const char *nginx_status);

/* Fetches nginx's stub_status page from 127.0.0.1:port (path /_nginx_status,
 * a loopback-only location of the template) into buf; 0, or -1 when it
 * could not be read within a second. */
int metrics_nginx_status(int port, char *buf, size_t len);

#endif
