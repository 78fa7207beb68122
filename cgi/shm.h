/* shm.h - the page the supervisor shares with its worker (a memfd the worker
 * gets as a descriptor): the worker's progress, which the watchdog reads, and
 * the counters GET /metrics reports, which therefore outlive a worker that
 * dies and is restarted. */
#ifndef CLIENTES_SHM_H
#define CLIENTES_SHM_H

#include <stdatomic.h>

#include "errlog.h"

/* The shape of the request counters (cgi/metrics.c fills and reads them). */
#define SHM_ROUTES 64        /* routes of the table, plus one for "no route" */
#define SHM_STATUSES 24      /* the statuses metrics.c knows, plus "other" */
#define SHM_BUCKETS 12       /* latency histogram buckets, +Inf included */
#define SHM_STORE_ERRORS 16  /* enum cl_err values */

struct shm_page {
    /* Written by the worker: +1 on every accepted and every finished request. */
    atomic_ulong progress;
    /* Written by the worker: requests accepted and not yet finished. */
    atomic_long busy;
    /* Written by the supervisor: nginx's refusal warnings since it started,
     * by kind (enum errlog_refusal). */
    atomic_ulong refused[ERRLOG_REFUSAL_KINDS];
    /* Written by the supervisor: workers started again after one died. */
    atomic_ulong worker_restarts;
    /* Written by the worker (metrics.c): requests by route and status, the
     * latency histogram (microseconds), store errors by kind, refused logins. */
    atomic_ulong requests[SHM_ROUTES][SHM_STATUSES];
    atomic_ulong latency_buckets[SHM_BUCKETS];
    atomic_ullong latency_sum_us;
    atomic_ulong store_errors[SHM_STORE_ERRORS];
    atomic_ulong login_failures;
};

/* Supervisor: a new zeroed page; *fd is its descriptor (close-on-exec), to be
 * handed to each worker.  NULL on failure, errno set. */
struct shm_page *shm_create(int *fd);

/* Worker: maps the page behind fd (shm_create's, as inherited).  NULL on
 * failure, errno set.  The mapping lives until the process exits. */
struct shm_page *shm_attach(int fd);

#endif
