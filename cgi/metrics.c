/* metrics.c - the worker's counters and their Prometheus text exposition. */
#include "metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "route.h"

static struct shm_page *page;

/* The statuses counted one by one; the last slot is every other one. */
static const int statuses[SHM_STATUSES - 1] = {200, 201, 204, 303, 304, 400, 401, 403,
                                               404, 405, 406, 409, 412, 413, 414, 415,
                                               422, 428, 429, 431, 500, 503, 504};

/* Upper bounds of the latency buckets, in microseconds; the last is +Inf. */
static const long long bucket_us[SHM_BUCKETS - 1] = {500,   1000,   2500,   5000,
                                                     10000, 25000,  50000,  100000,
                                                     250000, 500000, 1000000};

static const char *const store_error_names[SHM_STORE_ERRORS] = {
    [CL_BUSY] = "busy",         [CL_STORAGE] = "storage", [CL_NOMEM] = "nomem",
    [CL_CONFLICT] = "conflict", [CL_INVALID] = "invalid",
};

void metrics_attach(struct shm_page *p)
{
    page = p;
}

static int status_slot(int status)
{
    for (int i = 0; i < SHM_STATUSES - 1; i++)
        if (statuses[i] == status)
            return i;
    return SHM_STATUSES - 1;
}

void metrics_request(size_t route, int status, long long micros)
{
    int b = 0;

    if (!page)
        return;
    if (route >= route_count() || route >= SHM_ROUTES - 1)
        route = SHM_ROUTES - 1; /* "none": no route, or more routes than slots */
    atomic_fetch_add_explicit(&page->requests[route][status_slot(status)], 1,
                              memory_order_relaxed);
    while (b < SHM_BUCKETS - 1 && micros > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&page->latency_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&page->latency_sum_us, (unsigned long long)(micros > 0 ? micros : 0),
                              memory_order_relaxed);
}

void metrics_store_error(enum cl_err e)
{
    if (page && (unsigned)e < SHM_STORE_ERRORS)
        atomic_fetch_add_explicit(&page->store_errors[e], 1, memory_order_relaxed);
}

void metrics_login_failure(void)
{
    if (page)
        atomic_fetch_add_explicit(&page->login_failures, 1, memory_order_relaxed);
}

struct out {
    char *buf;
    size_t len, used;
    int failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->failed)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->len - o->used)
        o->failed = 1;
    else
        o->used += (size_t)n;
}

static unsigned long load(atomic_ulong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

/* nginx's stub_status page, as Prometheus metrics. */
static void put_nginx(struct out *o, const char *text)
{
    unsigned long active, accepts, handled, requests, reading, writing, waiting;
    const char *p;

    put(o, "# HELP clientes_nginx_up Whether nginx's status page could be read.\n"
           "# TYPE clientes_nginx_up gauge\n");
    if (!text || sscanf(text, "Active connections: %lu", &active) != 1 ||
        !(p = strstr(text, "requests")) ||
        sscanf(p + 8, " %lu %lu %lu", &accepts, &handled, &requests) != 3 ||
        !(p = strstr(text, "Reading:")) ||
        sscanf(p, "Reading: %lu Writing: %lu Waiting: %lu", &reading, &writing, &waiting) != 3) {
        put(o, "clientes_nginx_up 0\n");
        return;
    }
    put(o, "clientes_nginx_up 1\n"
           "# HELP clientes_nginx_connections Client connections nginx holds, by state.\n"
           "# TYPE clientes_nginx_connections gauge\n"
           "clientes_nginx_connections{state=\"active\"} %lu\n"
           "clientes_nginx_connections{state=\"reading\"} %lu\n"
           "clientes_nginx_connections{state=\"writing\"} %lu\n"
           "clientes_nginx_connections{state=\"waiting\"} %lu\n"
           "# HELP clientes_nginx_connections_accepted_total Client connections nginx accepted.\n"
           "# TYPE clientes_nginx_connections_accepted_total counter\n"
           "clientes_nginx_connections_accepted_total %lu\n"
           "# HELP clientes_nginx_connections_handled_total Client connections nginx handled.\n"
           "# TYPE clientes_nginx_connections_handled_total counter\n"
           "clientes_nginx_connections_handled_total %lu\n"
           "# HELP clientes_nginx_requests_total Requests nginx received (all routes).\n"
           "# TYPE clientes_nginx_requests_total counter\n"
           "clientes_nginx_requests_total %lu\n",
        active, reading, writing, waiting, accepts, handled, requests);
}

long metrics_render(char *buf, size_t len, int store_up, const char *nginx_status)
{
    struct out o = {buf, len, 0, 0};
    size_t nroutes = route_count();
    unsigned long cumulative = 0, n;

    if (!page)
        return -1;
    put(&o, "# HELP clientes_requests_total Requests the worker answered, by route and status.\n"
            "# TYPE clientes_requests_total counter\n");
    for (size_t r = 0; r < SHM_ROUTES; r++) {
        const char *path = r < nroutes ? route_path(r) : r == SHM_ROUTES - 1 ? "none" : NULL;
        if (!path)
            continue;
        for (int s = 0; s < SHM_STATUSES; s++)
            if ((n = load(&page->requests[r][s])) > 0) {
                if (s < SHM_STATUSES - 1)
                    put(&o, "clientes_requests_total{route=\"%s\",status=\"%d\"} %lu\n", path,
                        statuses[s], n);
                else
                    put(&o, "clientes_requests_total{route=\"%s\",status=\"other\"} %lu\n", path,
                        n);
            }
    }
    put(&o, "# HELP clientes_request_duration_seconds Time the worker spent on a request.\n"
            "# TYPE clientes_request_duration_seconds histogram\n");
    for (int b = 0; b < SHM_BUCKETS; b++) {
        cumulative += load(&page->latency_buckets[b]);
        if (b < SHM_BUCKETS - 1)
            put(&o, "clientes_request_duration_seconds_bucket{le=\"%g\"} %lu\n",
                (double)bucket_us[b] / 1e6, cumulative);
        else
            put(&o, "clientes_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cumulative);
    }
    put(&o, "clientes_request_duration_seconds_sum %.6f\n"
            "clientes_request_duration_seconds_count %lu\n",
        (double)atomic_load_explicit(&page->latency_sum_us, memory_order_relaxed) / 1e6,
        cumulative);
    put(&o, "# HELP clientes_requests_in_flight Requests inside the worker now.\n"
            "# TYPE clientes_requests_in_flight gauge\n"
            "clientes_requests_in_flight %ld\n",
        atomic_load_explicit(&page->busy, memory_order_relaxed));
    put(&o, "# HELP clientes_store_errors_total Store errors the requests met, by kind.\n"
            "# TYPE clientes_store_errors_total counter\n");
    for (int e = 0; e < SHM_STORE_ERRORS; e++)
        if (store_error_names[e])
            put(&o, "clientes_store_errors_total{kind=\"%s\"} %lu\n", store_error_names[e],
                load(&page->store_errors[e]));
    put(&o, "# HELP clientes_store_up Whether the store answers and can take a write "
            "(GET /health/ready).\n"
            "# TYPE clientes_store_up gauge\n"
            "clientes_store_up %d\n",
        store_up ? 1 : 0);
    put(&o, "# HELP clientes_login_failures_total Logins refused.\n"
            "# TYPE clientes_login_failures_total counter\n"
            "clientes_login_failures_total %lu\n",
        load(&page->login_failures));
    put(&o, "# HELP clientes_worker_restarts_total Workers clientes-web started again after one "
            "died or hung.\n"
            "# TYPE clientes_worker_restarts_total counter\n"
            "clientes_worker_restarts_total %lu\n",
        load(&page->worker_restarts));
    put(&o, "# HELP clientes_nginx_refusals_total Requests nginx refused by a limit, by kind.\n"
            "# TYPE clientes_nginx_refusals_total counter\n");
    for (int k = 0; k < ERRLOG_REFUSAL_KINDS; k++)
        put(&o, "clientes_nginx_refusals_total{kind=\"%s\"} %lu\n", errlog_refusal_name(k),
            load(&page->refused[k]));
    put_nginx(&o, nginx_status);
    return o.failed ? -1 : (long)o.used;
}

int metrics_nginx_status(int port, char *buf, size_t len)
{
    static const char req[] = "GET /_nginx_status HTTP/1.0\r\nHost: localhost\r\n\r\n";
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 1};
    size_t used = 0;
    char *body;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || len == 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t n = read(fd, buf + used, len - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == len - 1)
            break;
    }
    close(fd);
    buf[used] = '\0';
    if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || !(body = strstr(buf, "\r\n\r\n")))
        return -1;
    memmove(buf, body + 4, strlen(body + 4) + 1);
    return 0;
}
