/* shm.h - the page the supervisor shares with its worker (a memfd the worker
 * gets as a descriptor): the worker's progress, which the watchdog reads, and
 * the refusals nginx logged, counted for a later /metrics. */
#ifndef CLIENTES_SHM_H
#define CLIENTES_SHM_H

#include <stdatomic.h>

#include "errlog.h"

struct shm_page {
    /* Written by the worker: +1 on every accepted and every finished request. */
    atomic_ulong progress;
    /* Written by the worker: requests accepted and not yet finished. */
    atomic_long busy;
    /* Written by the supervisor: nginx's refusal warnings since it started,
     * by kind (enum errlog_refusal). */
    atomic_ulong refused[ERRLOG_REFUSAL_KINDS];
};

/* Supervisor: a new zeroed page; *fd is its descriptor (close-on-exec), to be
 * handed to each worker.  NULL on failure, errno set. */
struct shm_page *shm_create(int *fd);

/* Worker: maps the page behind fd (shm_create's, as inherited).  NULL on
 * failure, errno set.  The mapping lives until the process exits. */
struct shm_page *shm_attach(int fd);

#endif
