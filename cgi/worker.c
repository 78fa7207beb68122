/* worker.c - the FastCGI worker: a fixed pool of threads, each blocking in
 * FCGX_Accept_r with its own store handle, behind nginx. */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "route.h"
#include "store.h"

#define LISTEN_BACKLOG 1024
#define DEFAULT_DATABASE_URL "sqlite://./data/clientes.db"

struct worker {
    pthread_t thread;
    int index;
    int listen_fd;
    struct store *store;
    unsigned long served;
    struct http_request req; /* reused for every request: no per-request allocation */
    char body[HTTP_BODY_MAX];
};

static int fcgx_write(void *ctx, const char *buf, size_t len)
{
    return FCGX_PutStr(buf, (int)len, (FCGX_Stream *)ctx) == (int)len ? 0 : -1;
}

static const char *param(FCGX_Request *fr, const char *name)
{
    return FCGX_GetParam(name, fr->envp);
}

/* Reads the body announced by CONTENT_LENGTH into w->body.  Returns 0, or an
 * HTTP status with *err filled: the body is refused, never truncated. */
static int read_body(struct worker *w, FCGX_Request *fr, struct http_error *err)
{
    const char *cl = param(fr, "CONTENT_LENGTH");
    unsigned long n = 0;

    w->req.body = w->body;
    w->req.body_len = 0;
    if (!cl || !*cl)
        return 0;
    for (const char *p = cl; *p; p++) {
        if (*p < '0' || *p > '9')
            return http_fail(err, 400, "Cabecera Content-Length invalida");
        n = n * 10 + (unsigned long)(*p - '0');
        if (n > HTTP_BODY_MAX)
            return http_fail(err, 413, "Cuerpo de la peticion demasiado grande");
    }
    if (n && FCGX_GetStr(w->body, (int)n, fr->in) != (int)n)
        return http_fail(err, 400, "Cuerpo de la peticion incompleto");
    w->req.body_len = n;
    return 0;
}

static void serve(struct worker *w, FCGX_Request *fr)
{
    struct http_request *r = &w->req;
    struct http_response res;
    struct http_error err;
    const char *id;

    r->method_name = param(fr, "REQUEST_METHOD");
    r->method = http_method_parse(r->method_name);
    r->path = param(fr, "DOCUMENT_URI");
    if (!r->path)
        r->path = param(fr, "SCRIPT_NAME");
    r->query = param(fr, "QUERY_STRING");
    r->content_type = param(fr, "CONTENT_TYPE");
    r->origin = param(fr, "HTTP_ORIGIN");
    r->sec_fetch_site = param(fr, "HTTP_SEC_FETCH_SITE");
    r->host = param(fr, "HTTP_HOST");
    /* the scheme the client used: the proxy's word for it when there is one
     * (Heroku's router terminates TLS), else nginx's own */
    r->scheme = param(fr, "HTTP_X_FORWARDED_PROTO");
    if (!r->scheme)
        r->scheme = param(fr, "REQUEST_SCHEME");
    r->nparams = 0;
    id = param(fr, "REQUEST_ID");
    http_set_request_id(r, id ? id : param(fr, "HTTP_X_REQUEST_ID"));
    if (!r->request_id[0])
        snprintf(r->request_id, sizeof(r->request_id), "w%d-%lu", w->index, w->served);
    w->served++;

    http_response_init(&res, fcgx_write, fr->out, r->method == HTTP_HEAD);
    if (read_body(w, fr, &err))
        http_send_error(&res, &err);
    else
        route_dispatch(w->store, r, &res);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    FCGX_Request fr;

    if (FCGX_InitRequest(&fr, w->listen_fd, 0) != 0) {
        fprintf(stderr, "clientes-worker: thread %d: FCGX_InitRequest failed\n", w->index);
        return NULL;
    }
    /* FCGX_Accept_r fails once main() shuts the listening socket down. */
    while (FCGX_Accept_r(&fr) >= 0) {
        serve(w, &fr);
        /* libfcgi closes a connection with shutdown() and then waits in
         * poll() for nginx to close its end, holding this thread for a round
         * trip per request.  Nothing is left to read once stdin is consumed
         * (no reset can reach nginx), so close at once: detached requests
         * skip that wait. */
        while (FCGX_GetStr(w->body, (int)sizeof(w->body), fr.in) > 0)
            ;
        if (!fr.keepConnection)
            FCGX_Detach(&fr);
        FCGX_Finish_r(&fr);
    }
    FCGX_Free(&fr, 1);
    return NULL;
}

static int env_threads(void)
{
    const char *v = getenv("WORKER_THREADS");
    long n;
    char *end;

    if (!v || !*v) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        return n > 0 ? (int)(2 * n) : 4;
    }
    n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 1024) {
        fprintf(stderr, "clientes-worker: WORKER_THREADS must be 1..1024, not '%s'\n", v);
        return -1;
    }
    return (int)n;
}

/* On Heroku (DYNO set) the filesystem is thrown away on every restart and
 * deploy: a SQLite file there silently loses every client. */
static int refuse_ephemeral(const char *url)
{
    const char *allow = getenv("ALLOW_EPHEMERAL_SQLITE");

    if (!getenv("DYNO") || (strstr(url, "://") && strncmp(url, "sqlite://", 9) != 0))
        return 0;
    if (allow && strcmp(allow, "1") == 0) {
        fprintf(stderr, "clientes-worker: WARNING: SQLite on an ephemeral dyno filesystem: "
                        "every restart and deploy loses all data (ALLOW_EPHEMERAL_SQLITE=1)\n");
        return 0;
    }
    fprintf(stderr,
            "clientes-worker: refusing to start: DATABASE_URL is a SQLite file but this is a "
            "Heroku dyno (DYNO=%s), whose filesystem is ephemeral - every restart and deploy "
            "would lose all data. Use a PostgreSQL DATABASE_URL, or set "
            "ALLOW_EPHEMERAL_SQLITE=1 to accept the loss (demos only).\n",
            getenv("DYNO"));
    return 1;
}

static int open_listener(const char *addr)
{
    int fd;
    bool unix_path = strchr(addr, ':') == NULL;
    struct stat st;

    if (unix_path && stat(addr, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(addr); /* a stale socket from a killed worker */
    fd = FCGX_OpenSocket(addr, LISTEN_BACKLOG);
    if (fd < 0) {
        fprintf(stderr, "clientes-worker: cannot listen on '%s': %s\n", addr, strerror(errno));
        return -1;
    }
    /* nginx's workers run unprivileged: let them connect. */
    if (unix_path && chmod(addr, 0666) != 0) {
        fprintf(stderr, "clientes-worker: chmod '%s': %s\n", addr, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int main(void)
{
    const char *url = getenv("DATABASE_URL");
    const char *listen_addr = getenv("FCGI_LISTEN");
    char default_listen[512];
    struct worker *workers;
    sigset_t stop;
    int nthreads, fd, sig, rc = 0;

    wlog_init("clientes-worker", WLOG_INFO);
    if (!url || !*url)
        url = DEFAULT_DATABASE_URL;
    if (!listen_addr || !*listen_addr) {
        const char *tmp = getenv("TMPDIR");
        snprintf(default_listen, sizeof(default_listen), "%s/clientes-worker.sock",
                 tmp && *tmp ? tmp : "/tmp");
        listen_addr = default_listen;
    }
    if ((nthreads = env_threads()) < 0 || refuse_ephemeral(url))
        return 1;
    route_set_threads(nthreads);

    /* Signals are taken by main() alone, through sigwait(); the threads
     * inherit the mask.  A peer that went away is an EPIPE, not a death. */
    signal(SIGPIPE, SIG_IGN);
    /* Past a file-size limit a write fails (EFBIG, a 503) instead of
     * killing the process. */
    signal(SIGXFSZ, SIG_IGN);
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    workers = calloc((size_t)nthreads, sizeof(*workers));
    if (!workers) {
        fprintf(stderr, "clientes-worker: out of memory\n");
        return 1;
    }
    /* Every thread owns its store handle, opened before serving anything so a
     * bad DATABASE_URL stops the worker at once with a clear message. */
    for (int i = 0; i < nthreads; i++) {
        char err[512];
        if (store_open(url, &workers[i].store, err, sizeof(err)) != CL_OK) {
            fprintf(stderr, "clientes-worker: %s\n", err);
            rc = 1;
            goto out;
        }
    }
    if (FCGX_Init() != 0 || (fd = open_listener(listen_addr)) < 0) {
        rc = 1;
        goto out;
    }
    for (int i = 0; i < nthreads; i++) {
        workers[i].index = i;
        workers[i].listen_fd = fd;
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
            fprintf(stderr, "clientes-worker: cannot start thread %d\n", i);
            nthreads = i;
            rc = 1;
            break;
        }
    }
    if (rc == 0) {
        fprintf(stderr, "clientes-worker: listening on %s, %d threads, store %s\n", listen_addr,
                nthreads, url);
        do {
            if (sigwait(&stop, &sig) != 0)
                sig = SIGTERM;
        } while (sig == SIGHUP); /* nothing to reload: configuration is the environment */
    }
    /* Stop accepting; requests in flight finish, then each thread's next
     * accept fails and it returns. */
    FCGX_ShutdownPending();
    shutdown(fd, SHUT_RDWR);
    for (int i = 0; i < nthreads; i++)
        pthread_join(workers[i].thread, NULL);
    close(fd);
    if (strchr(listen_addr, ':') == NULL)
        unlink(listen_addr);
    if (rc == 0)
        fprintf(stderr, "clientes-worker: stopped\n");
out:
    for (int i = 0; i < nthreads; i++)
        store_close(workers[i].store);
    free(workers);
    return rc;
}
