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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "route.h"
#include "shm.h"
#include "store.h"
#include "store_pg.h"
#include "v1.h"

#define LISTEN_BACKLOG 1024
/* How often the main thread deletes expired sessions and old audit rows. */
#define UPKEEP_INTERVAL_S 3600

struct pool;

struct worker {
    pthread_t thread;
    int index;
    struct pool *pool;       /* the connections, shared by every thread */
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
    r->authorization = param(fr, "HTTP_AUTHORIZATION");
    r->cookie = param(fr, "HTTP_COOKIE");
    r->csrf_token = param(fr, "HTTP_X_CSRF_TOKEN");
    r->client_addr = param(fr, "REMOTE_ADDR");
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

/* Connections: every thread waits in one epoll set holding the listening
 * socket, every open connection and the stop eventfd, and takes whichever is
 * ready (a leader/follower pool).  Each is registered EPOLLONESHOT, so one
 * thread at a time owns it: a thread reads one request from a connection,
 * answers it, and hands the connection back to the set.  A connection nginx
 * keeps open (fastcgi_keep_conn on, upstream keepalive) therefore costs no
 * thread while it is idle - libfcgi's own loop would pin one to it - and no
 * connect/accept/close per request. */
struct pool {
    int ep;          /* the epoll set */
    int listen_fd;   /* non-blocking; its connections are blocking */
    int stop_fd;     /* level-triggered: once readable, every thread leaves */
    int max_fd;      /* conns[] has a slot per descriptor below this */
    struct conn **conns; /* by descriptor: only its owner thread touches a slot */
    struct shm_page *shm;
};

/* One connection from nginx and libfcgi's state for it. */
struct conn {
    FCGX_Request fr;
};

/* epoll data of the two descriptors that are not connections. */
static char listen_tag, stop_tag;

static int arm(struct pool *p, int op, int fd, void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = tag};

    return epoll_ctl(p->ep, op, fd, &ev);
}

static void conn_free(struct pool *p, struct conn *c, int fd)
{
    /* libfcgi closes the descriptor itself once it saw the connection end */
    FCGX_Free(&c->fr, c->fr.ipcFd >= 0);
    if (fd >= 0 && fd < p->max_fd)
        p->conns[fd] = NULL;
    free(c);
}

/* The listening socket is ready: take what waits (a bounded batch, then the
 * others get their turn), register each connection, re-arm the socket. */
static void take_connections(struct pool *p, int index)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        struct conn *c;

        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                wlog(WLOG_ERROR, "thread %d: accept: %s", index, strerror(errno));
            break;
        }
        /* a connection proves the worker alive to the supervisor's watchdog */
        atomic_fetch_add_explicit(&p->shm->progress, 1, memory_order_relaxed);
        if (fd >= p->max_fd || !(c = calloc(1, sizeof(*c)))) {
            wlog(WLOG_ERROR, "thread %d: no room for connection %d", index, fd);
            close(fd);
            continue;
        }
        /* No listening socket for libfcgi: it must never accept by itself
         * (once a connection ends, FCGX_Accept_r would try to). */
        FCGX_InitRequest(&c->fr, -1, 0);
        c->fr.ipcFd = fd;
        /* FCGX_Accept_r first finishes "the previous request", closing the
         * connection unless it is marked kept: it is, until its first
         * request says what nginx wants. */
        c->fr.keepConnection = 1;
        p->conns[fd] = c;
        if (arm(p, EPOLL_CTL_ADD, fd, c) != 0) {
            wlog(WLOG_ERROR, "thread %d: epoll add: %s", index, strerror(errno));
            conn_free(p, c, fd);
        }
    }
    if (arm(p, EPOLL_CTL_MOD, p->listen_fd, &listen_tag) != 0)
        wlog(WLOG_ERROR, "thread %d: epoll re-arm: %s", index, strerror(errno));
}

/* One request from a ready connection; the connection goes back to the set
 * when nginx keeps it, else it is closed. */
static void serve_connection(struct worker *w, struct pool *p, struct conn *c)
{
    int fd = c->fr.ipcFd;

    if (FCGX_Accept_r(&c->fr) < 0) { /* nginx closed it (or it broke) */
        conn_free(p, c, fd);
        return;
    }
    atomic_fetch_add_explicit(&p->shm->busy, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->shm->progress, 1, memory_order_relaxed);
    serve(w, &c->fr);
    /* Whatever of stdin the route did not read, so the connection can carry
     * the next request. */
    while (FCGX_GetStr(w->body, (int)sizeof(w->body), c->fr.in) > 0)
        ;
    /* libfcgi closes a connection with shutdown() and then waits in poll()
     * for nginx to close its end, a round trip per request; nothing is left
     * to read, so close at once: detached requests skip that wait. */
    if (!c->fr.keepConnection)
        FCGX_Detach(&c->fr);
    FCGX_Finish_r(&c->fr);
    atomic_fetch_sub_explicit(&p->shm->busy, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->shm->progress, 1, memory_order_relaxed);
    if (c->fr.ipcFd < 0 || arm(p, EPOLL_CTL_MOD, fd, c) != 0)
        conn_free(p, c, fd);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->pool;

    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(p->ep, &ev, 1, -1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            wlog(WLOG_ERROR, "thread %d: epoll_wait: %s", w->index, strerror(errno));
            break;
        }
        if (ev.data.ptr == &stop_tag)
            break;
        if (ev.data.ptr == &listen_tag)
            take_connections(p, w->index);
        else
            serve_connection(w, p, ev.data.ptr);
    }
    return NULL;
}

/* The epoll set over the listening socket and the stop eventfd, and the
 * table of connections (one slot per descriptor the process may open). */
static int pool_open(struct pool *p, int listen_fd, int stop_fd, struct shm_page *shm)
{
    struct rlimit rl;
    struct epoll_event on_stop = {.events = EPOLLIN, .data.ptr = &stop_tag};

    p->listen_fd = listen_fd;
    p->stop_fd = stop_fd;
    p->shm = shm;
    /* as many connections as nginx may keep: the soft limit up to the hard */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    p->max_fd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur
                                                                            : 65536;
    p->conns = calloc((size_t)p->max_fd, sizeof(*p->conns));
    p->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!p->conns || p->ep < 0 || epoll_ctl(p->ep, EPOLL_CTL_ADD, stop_fd, &on_stop) != 0 ||
        arm(p, EPOLL_CTL_ADD, listen_fd, &listen_tag) != 0) {
        wlog(WLOG_ERROR, "cannot set up the connection pool: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* After the threads: the connections nginx still kept open, then the set. */
static void pool_close(struct pool *p)
{
    for (int fd = 0; p->conns && fd < p->max_fd; fd++)
        if (p->conns[fd])
            conn_free(p, p->conns[fd], fd);
    free(p->conns);
    if (p->ep >= 0)
        close(p->ep);
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
    /* HOME follows the user, as after login: libpq looks there for its
     * files (~/.postgresql/postgresql.crt, root.crt), and root's home is
     * closed to it (a PostgreSQL connection is made lazily, after this).
     * Before any thread starts: setenv is not thread-safe. */
    if (setenv("HOME", pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/", 1) != 0) {
        wlog(WLOG_ERROR, "cannot set HOME for %s: %s", c->user, strerror(errno));
        return -1;
    }
    if (supervisor > 1) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != supervisor)
            return -1; /* it died meanwhile */
    }
    return 0;
}

/* What an operator must hear at start: who may use the service. */
static void say_access(struct store *s)
{
    bool unused = false;
    enum cl_err e = accounts_unused(s, &unused);

    if (auth_settings()->legacy == AUTH_LEGACY_OPEN)
        wlog(WLOG_WARN, "LEGACY_AUTH=open: the old routes (/cliente, /clientes, /aniadir, "
                        "/eliminar, /set*) let anyone read, change and delete every client, "
                        "without credentials");
    if (e)
        wlog(WLOG_WARN, "cannot tell whether the store has users (%s): %s", cl_strerror(e),
             store_errmsg(s));
    else if (unused)
        wlog(WLOG_WARN, "the store has no user and no token yet: only the health checks can be "
                        "used; create an admin with `bin/clientes-admin user add NAME --role "
                        "admin` and a token with `bin/clientes-admin token create LABEL --role "
                        "editor` (README, \"First run\")");
}

/* Deletes the sessions over their limits and the audit rows older than
 * AUDIT_RETENTION_DAYS, through the main thread's own handle. */
static void upkeep(struct store *s, const struct config *c)
{
    long long sessions = 0, rows = 0;
    enum cl_err e;

    if ((e = accounts_prune(s, &auth_settings()->accounts, &sessions)))
        wlog(WLOG_WARN, "deleting expired sessions failed (%s): %s", cl_strerror(e),
             store_errmsg(s));
    if ((e = manager_audit_prune(s, c->audit_retention_days, &rows)))
        wlog(WLOG_WARN, "deleting old audit rows failed (%s): %s", cl_strerror(e),
             store_errmsg(s));
    if (sessions || rows)
        wlog(WLOG_INFO, "upkeep: deleted %lld expired sessions and %lld audit rows older than %d "
                        "days", sessions, rows, c->audit_retention_days);
}

/* Waits for TERM or INT (HUP changes nothing: the configuration is the
 * environment), running upkeep() every UPKEEP_INTERVAL_S meanwhile. */
static void serve_until_stopped(const sigset_t *stop, struct store *s, const struct config *c)
{
    struct timespec wait = {.tv_sec = UPKEEP_INTERVAL_S, .tv_nsec = 0};
    time_t next = time(NULL) + UPKEEP_INTERVAL_S;

    for (;;) {
        time_t now = time(NULL);
        int sig;
        if (now >= next) {
            upkeep(s, c);
            next = now + UPKEEP_INTERVAL_S;
        }
        wait.tv_sec = next - now > 0 && next - now <= UPKEEP_INTERVAL_S ? next - now
                                                                          : UPKEEP_INTERVAL_S;
        sig = sigtimedwait(stop, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT)
            return;
        if (sig < 0 && errno != EAGAIN && errno != EINTR) {
            wlog(WLOG_ERROR, "sigtimedwait: %s", strerror(errno));
            return;
        }
    }
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
    static struct pool pool = {.ep = -1};
    struct shm_page *shm = &alone;
    struct worker *workers = NULL;
    struct store *upkeep_store = NULL;
    struct auth_settings as;
    char err[512], shown[CONFIG_URL_MAX], where[LISTEN_PATH_MAX + 16];
    int nthreads = 0, started = 0, fd = -1, shm_fd = -1, stop_fd = -1, ready_fd = -1, rc = 1;
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
    route_set_metrics(cfg.port, strcmp(cfg.metrics_access, "loopback") == 0);
    metrics_attach(shm);
    auth_settings_from(&cfg, nthreads, &as);
    auth_configure(&as);
    if (account_init() != CL_OK) {
        wlog(WLOG_ERROR, "libsodium cannot start (no usable random source)");
        return 1;
    }
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
        /* a PostgreSQL handle connects when first used: idle threads hold
         * none of the database's few connections */
        if (!store_pg_url(cfg.database_url))
            warm_up(workers[i].store);
    }
    /* and one for the main thread's upkeep, opened while it still may */
    if (store_open(cfg.database_url, &upkeep_store, err, sizeof(err)) != CL_OK) {
        char clean[sizeof(err)];
        wlog(WLOG_ERROR, "DATABASE_URL %s: %s", shown, config_redact(err, clean, sizeof(clean)));
        goto out;
    }
    say_access(upkeep_store);
    dropped = geteuid() == 0;
    if (pool_open(&pool, fd, stop_fd, shm) != 0 || drop_privileges(&cfg, supervisor) != 0 ||
        FCGX_Init() != 0)
        goto out;
    for (; started < nthreads; started++) {
        struct worker *w = &workers[started];
        w->index = started;
        w->pool = &pool;
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
    upkeep(upkeep_store, &cfg);
    serve_until_stopped(&stop, upkeep_store, &cfg);
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
    pool_close(&pool);
    if (owned && cfg.fcgi_listen.kind == LISTEN_UNIX)
        unlink(cfg.fcgi_listen.path);
    if (fd > STDIN_FILENO)
        close(fd);
    if (stop_fd >= 0)
        close(stop_fd);
    for (int i = 0; workers && i < nthreads; i++)
        store_close(workers[i].store);
    store_close(upkeep_store);
    free(workers);
    return rc;
}
