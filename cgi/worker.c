/* worker.c - the FastCGI worker: a fixed pool of threads, each with its own
 * store handle, taking connections from the socket clientes-web bound and
 * handed over as fd 0, behind nginx. */
#define _GNU_SOURCE /* setgroups */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "manager.h"
#include "route.h"
#include "shm.h"
#include "store.h"
#include "v1.h"

#define LISTEN_BACKLOG 1024

struct worker {
    pthread_t thread;
    int index;
    int listen_fd;
    int stop_fd;             /* readable once main() says stop */
    struct shm_page *shm;    /* progress, for the supervisor's watchdog */
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

/* The rest of a large body, for the route that streams one (http.h). */
static long fcgx_read(void *ctx, char *buf, size_t len)
{
    int n = FCGX_GetStr(buf, len > (1u << 30) ? 1 << 30 : (int)len, (FCGX_Stream *)ctx);

    return n > 0 ? n : -1;
}

/* Reads the body announced by CONTENT_LENGTH into w->body; a larger one
 * than fits is left pending (route_dispatch() refuses it, but on the route
 * that streams it).  Returns 0, or an HTTP status with *err filled: a body
 * is refused, never truncated. */
static int read_body(struct worker *w, FCGX_Request *fr, struct http_error *err)
{
    const char *cl = param(fr, "CONTENT_LENGTH");
    unsigned long long n = 0;

    w->req.body = w->body;
    w->req.body_len = 0;
    w->req.body_pending = 0;
    w->req.body_read = fcgx_read;
    w->req.body_ctx = fr->in;
    if (!cl || !*cl)
        return 0;
    for (const char *p = cl; *p; p++) {
        if (*p < '0' || *p > '9')
            return http_fail(err, 400, "Cabecera Content-Length invalida");
        n = n * 10 + (unsigned long long)(*p - '0');
        if (n > (1ULL << 40))
            return http_fail(err, 413, "Cuerpo de la peticion demasiado grande");
    }
    if (n > HTTP_BODY_MAX) {
        w->req.body_pending = (size_t)n;
        return 0;
    }
    if (n && FCGX_GetStr(w->body, (int)n, fr->in) != (int)n)
        return http_fail(err, 400, "Cuerpo de la peticion incompleto");
    w->req.body_len = (size_t)n;
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
    r->raw_uri = param(fr, "REQUEST_URI");
    r->query = param(fr, "QUERY_STRING");
    r->content_type = param(fr, "CONTENT_TYPE");
    r->accept = param(fr, "HTTP_ACCEPT");
    r->if_match = param(fr, "HTTP_IF_MATCH");
    r->if_none_match = param(fr, "HTTP_IF_NONE_MATCH");
    r->prefer = param(fr, "HTTP_PREFER");
    r->authorization = param(fr, "HTTP_AUTHORIZATION");
    r->acr_method = param(fr, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
    r->acr_headers = param(fr, "HTTP_ACCESS_CONTROL_REQUEST_HEADERS");
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

/* Blocks until the listening socket has a connection waiting (1) or main()
 * says stop (0).  The socket is shared with the supervisor, so it is never
 * shut down to wake a thread: each thread waits on it and on stop_fd, and
 * EPOLLEXCLUSIVE wakes one idle thread per connection instead of all. */
static int wait_connection(int ep)
{
    struct epoll_event ev[2];

    for (;;) {
        int n = epoll_wait(ep, ev, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        for (int i = 0; i < n; i++)
            if (ev[i].data.u32 == 1)
                return 0;
        return 1;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event on_listen = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = 0};
    struct epoll_event on_stop = {.events = EPOLLIN, .data.u32 = 1};
    FCGX_Request fr;
    int ep = epoll_create1(EPOLL_CLOEXEC);

    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, w->listen_fd, &on_listen) != 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, w->stop_fd, &on_stop) != 0) {
        wlog(WLOG_ERROR, "thread %d: epoll: %s", w->index, strerror(errno));
        if (ep >= 0)
            close(ep);
        return NULL;
    }
    if (FCGX_InitRequest(&fr, w->listen_fd, 0) != 0) {
        wlog(WLOG_ERROR, "thread %d: FCGX_InitRequest failed", w->index);
        close(ep);
        return NULL;
    }
    for (;;) {
        int rc;
        /* A connection nginx keeps open (fastcgi_keep_conn on) brings its
         * next request itself; otherwise wait for a new one.  The socket is
         * non-blocking: another thread may have taken the connection first
         * (EAGAIN), or the client gone (ECONNABORTED). */
        if (fr.ipcFd < 0 && !wait_connection(ep))
            break;
        rc = FCGX_Accept_r(&fr);
        if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR || rc == -ECONNABORTED)
            continue;
        if (rc < 0) {
            wlog(WLOG_ERROR, "thread %d: accept: %s", w->index, strerror(-rc));
            break;
        }
        atomic_fetch_add_explicit(&w->shm->busy, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&w->shm->progress, 1, memory_order_relaxed);
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
        atomic_fetch_sub_explicit(&w->shm->busy, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&w->shm->progress, 1, memory_order_relaxed);
    }
    FCGX_Free(&fr, 1);
    close(ep);
    return NULL;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 && n <= 512 ? (int)(2 * n) : 4;
}

/* The user the worker runs as when started as root (CLIENTES_USER). */
static struct passwd *run_user(const struct config *c)
{
    struct passwd *pw = getpwnam(c->user);

    if (!pw)
        wlog(WLOG_ERROR, "CLIENTES_USER: no user '%s' on this system", c->user);
    else if (pw->pw_uid == 0)
        wlog(WLOG_ERROR, "CLIENTES_USER '%s' is root, not an unprivileged user", c->user);
    else
        return pw;
    return NULL;
}

/* The listening socket: fd 0 when it is one (FCGI_LISTENSOCK_FILENO, as
 * clientes-web hands it over), else FCGI_LISTEN opened here (a worker run on
 * its own).  *owned: opened here, so its socket file is ours to remove. */
static int listener(const struct config *c, bool *owned)
{
    int accepting = 0, fd;
    socklen_t len = sizeof(accepting);
    mode_t mode = 0600;
    gid_t gid = (gid_t)-1;
    char err[256];

    *owned = false;
    if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting)
        return STDIN_FILENO;
    if (c->fcgi_listen.kind == LISTEN_NONE) {
        wlog(WLOG_ERROR, "no listening socket on fd 0 (clientes-web hands one over) and "
                         "FCGI_LISTEN is unset");
        return -1;
    }
    if (geteuid() == 0) { /* nginx's workers run as CLIENTES_USER: its group may connect */
        struct passwd *pw = run_user(c);
        if (!pw)
            return -1;
        mode = 0660;
        gid = pw->pw_gid;
    }
    fd = listen_open(&c->fcgi_listen, LISTEN_BACKLOG, mode, gid, err, sizeof(err));
    if (fd < 0) {
        wlog(WLOG_ERROR, "FCGI_LISTEN: %s", err);
        return -1;
    }
    *owned = true;
    return fd;
}

/* One read on a fresh handle.  SQLite opens a connection's WAL file at its
 * first transaction, not at open: done now, while the worker may still open
 * the store's files, it keeps them open once it has dropped its privileges. */
static void warm_up(struct store *s)
{
    struct client c;
    struct manager_reject rej;
    enum cl_err e = manager_get(s, "arranque@clientes.invalid", &c, &rej);

    if (e != CL_OK && e != CL_NOT_FOUND)
        wlog(WLOG_WARN, "first read of the store failed (%s): %s", cl_strerror(e),
             store_errmsg(s));
}

/* Started as root: become CLIENTES_USER (its group, no supplementary groups)
 * for good, once the stores and the socket are open (their descriptors stay
 * usable).  The parent-death signal does not survive the change: set again. */
static int drop_privileges(const struct config *c, pid_t supervisor)
{
    struct passwd *pw;

    if (geteuid() != 0)
        return 0;
    if (!(pw = run_user(c)))
        return -1;
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        wlog(WLOG_ERROR, "cannot become %s: %s", c->user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        wlog(WLOG_ERROR, "could become root again after dropping to %s", c->user);
        return -1;
    }
    if (supervisor > 1) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != supervisor)
            return -1; /* it died meanwhile */
    }
    return 0;
}

static int fd_arg(const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);

    return *v && !*end && n >= 0 && n < 1024 ? (int)n : -1;
}

int main(int argc, char **argv)
{
    static struct config cfg;
    static struct shm_page alone; /* progress nobody reads, without a supervisor */
    struct shm_page *shm = &alone;
    struct worker *workers = NULL;
    char err[512], shown[CONFIG_URL_MAX], where[LISTEN_PATH_MAX + 16];
    int nthreads = 0, started = 0, fd = -1, shm_fd = -1, stop_fd = -1, ready_fd = -1, sig, rc = 1;
    bool owned = false, dropped = false;
    pid_t supervisor = 0;
    sigset_t stop;

    wlog_init("clientes-worker", WLOG_INFO);
    for (int i = 1; i < argc; i++) {
        int *target = strcmp(argv[i], "--shm-fd") == 0     ? &shm_fd
                      : strcmp(argv[i], "--ready-fd") == 0 ? &ready_fd
                                                           : NULL;
        if (!target || i + 1 == argc || (*target = fd_arg(argv[++i])) < 0) {
            wlog(WLOG_ERROR, "usage: clientes-worker [--shm-fd N --ready-fd N] "
                             "(run by clientes-web)");
            return 2;
        }
    }
    if (shm_fd >= 0) { /* supervised: the shared page */
        if (!(shm = shm_attach(shm_fd))) {
            wlog(WLOG_ERROR, "cannot map the shared page (fd %d): %s", shm_fd, strerror(errno));
            return 1;
        }
        close(shm_fd);
        supervisor = getppid();
    }
    if (config_load(&cfg, err, sizeof(err)) != 0) {
        wlog(WLOG_ERROR, "%s", err);
        return 1;
    }
    wlog_init("clientes-worker", cfg.log_level);
    /* "Today" is the service's, not the machine's: before any thread. */
    setenv("TZ", cfg.tz, 1);
    tzset();
    if (config_ephemeral_sqlite(&cfg))
        wlog(WLOG_WARN, "SQLite on an ephemeral dyno filesystem: every restart and deploy loses "
                        "all data (ALLOW_EPHEMERAL_SQLITE=1)");
    nthreads = cfg.worker_threads ? cfg.worker_threads : default_threads();
    route_set_threads(nthreads);
    v1_configure(&(struct v1_settings){.require_if_match = cfg.require_if_match,
                                       .cors_origins = cfg.cors_origins,
                                       .import_max = cfg.import_max_bytes});
    config_redact(cfg.database_url, shown, sizeof(shown));

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

    if ((fd = listener(&cfg, &owned)) < 0)
        return 1;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
        (stop_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
        wlog(WLOG_ERROR, "cannot set up the listening socket: %s", strerror(errno));
        goto out;
    }
    workers = calloc((size_t)nthreads, sizeof(*workers));
    if (!workers) {
        wlog(WLOG_ERROR, "out of memory");
        goto out;
    }
    /* Every thread owns its store handle, opened before serving anything so a
     * bad DATABASE_URL stops the worker at once with a clear message. */
    for (int i = 0; i < nthreads; i++) {
        if (store_open(cfg.database_url, &workers[i].store, err, sizeof(err)) != CL_OK) {
            char clean[sizeof(err)];
            wlog(WLOG_ERROR, "DATABASE_URL %s: %s", shown,
                 config_redact(err, clean, sizeof(clean)));
            goto out;
        }
        warm_up(workers[i].store);
    }
    dropped = geteuid() == 0;
    if (drop_privileges(&cfg, supervisor) != 0 || FCGX_Init() != 0)
        goto out;
    for (; started < nthreads; started++) {
        struct worker *w = &workers[started];
        w->index = started;
        w->listen_fd = fd;
        w->stop_fd = stop_fd;
        w->shm = shm;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            wlog(WLOG_ERROR, "cannot start thread %d", started);
            goto stop;
        }
    }
    rc = 0;
    if (ready_fd >= 0) { /* tell clientes-web: serving */
        if (write(ready_fd, "R", 1) != 1)
            wlog(WLOG_WARN, "cannot tell the supervisor it is ready: %s", strerror(errno));
        close(ready_fd);
    }
    if (cfg.fcgi_listen.kind == LISTEN_NONE)
        snprintf(where, sizeof(where), "fd 0");
    else
        listen_describe(&cfg.fcgi_listen, where, sizeof(where));
    wlog(WLOG_INFO, "listening on %s, %d threads, store %s, TZ %s%s%s", where, nthreads, shown,
         cfg.tz, dropped ? ", as " : "", dropped ? cfg.user : "");
    do {
        if (sigwait(&stop, &sig) != 0)
            sig = SIGTERM;
    } while (sig == SIGHUP); /* nothing to reload: configuration is the environment */
stop:
    /* Stop accepting: idle threads wake on stop_fd and return, busy ones
     * finish their request first. */
    if (eventfd_write(stop_fd, 1) != 0)
        wlog(WLOG_ERROR, "cannot wake the threads: %s", strerror(errno));
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    if (rc == 0)
        wlog(WLOG_INFO, "stopped");
out:
    if (owned && cfg.fcgi_listen.kind == LISTEN_UNIX)
        unlink(cfg.fcgi_listen.path);
    if (fd > STDIN_FILENO)
        close(fd);
    if (stop_fd >= 0)
        close(stop_fd);
    for (int i = 0; workers && i < nthreads; i++)
        store_close(workers[i].store);
    free(workers);
    return rc;
}
