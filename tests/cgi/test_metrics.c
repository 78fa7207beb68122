/* test_metrics.c - the worker's counters and their Prometheus exposition. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "route.h"

static struct shm_page page;

static char *render(int store_up, const char *nginx)
{
    static char buf[256 * 1024];
    long n = metrics_render(buf, sizeof(buf), store_up, nginx);

    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    return buf;
}

static void expect_line(const char *text, const char *line)
{
    char want[512];

    snprintf(want, sizeof(want), "\n%s\n", line);
    if (!strstr(text, want))
        fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void test_counters_move(void **state)
{
    size_t cliente = 0;

    (void)state;
    assert_true(route_count() < SHM_ROUTES); /* every route has its slot, and "none" one */
    memset(&page, 0, sizeof(page));
    metrics_attach(&page);
    for (size_t i = 0; i < route_count(); i++)
        if (strcmp(route_path(i), "/cliente") == 0)
            cliente = i;
    metrics_request(cliente, 200, 300);    /* 0.3 ms */
    metrics_request(cliente, 200, 700);    /* 0.7 ms */
    metrics_request(cliente, 404, 2000000); /* 2 s: past every bound */
    metrics_request(route_count(), 404, 10); /* no route */
    metrics_request(cliente, 599, 10);     /* a status not listed */
    metrics_store_error(CL_BUSY);
    metrics_store_error(CL_BUSY);
    metrics_login_failure();
    atomic_store(&page.refused[0], 7);
    atomic_store(&page.busy, 2);
    atomic_store(&page.worker_restarts, 1);
    char *t = render(1, "Active connections: 3 \nserver accepts handled requests\n 10 10 42 \n"
                        "Reading: 0 Writing: 1 Waiting: 2 \n");
    expect_line(t, "clientes_requests_total{route=\"/cliente\",status=\"200\"} 2");
    expect_line(t, "clientes_requests_total{route=\"/cliente\",status=\"404\"} 1");
    expect_line(t, "clientes_requests_total{route=\"/cliente\",status=\"other\"} 1");
    expect_line(t, "clientes_requests_total{route=\"none\",status=\"404\"} 1");
    /* cumulative buckets: 0.0005 holds 0.3 ms and the two 10 us ones */
    expect_line(t, "clientes_request_duration_seconds_bucket{le=\"0.0005\"} 3");
    expect_line(t, "clientes_request_duration_seconds_bucket{le=\"0.001\"} 4");
    expect_line(t, "clientes_request_duration_seconds_bucket{le=\"1\"} 4");
    expect_line(t, "clientes_request_duration_seconds_bucket{le=\"+Inf\"} 5");
    expect_line(t, "clientes_request_duration_seconds_count 5");
    expect_line(t, "clientes_request_duration_seconds_sum 2.001020");
    expect_line(t, "clientes_requests_in_flight 2");
    expect_line(t, "clientes_store_errors_total{kind=\"busy\"} 2");
    expect_line(t, "clientes_store_up 1");
    expect_line(t, "clientes_login_failures_total 1");
    expect_line(t, "clientes_worker_restarts_total 1");
    expect_line(t, "clientes_nginx_refusals_total{kind=\"limiting requests\"} 7");
    expect_line(t, "clientes_nginx_up 1");
    expect_line(t, "clientes_nginx_connections{state=\"waiting\"} 2");
    expect_line(t, "clientes_nginx_requests_total 42");
    /* every sample line belongs to a family announced by a TYPE line */
    for (char *l = strchr(t, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        char name[128], type[160];
        if (l[1] == '#')
            continue;
        sscanf(l + 1, "%127[a-z_]", name);
        snprintf(type, sizeof(type), "# TYPE %s ", name);
        char *suffix = strstr(name, "_bucket");
        if (!suffix)
            suffix = strstr(name, "_sum");
        if (!suffix)
            suffix = strstr(name, "_count");
        if (suffix && strstr(name, "duration")) {
            *suffix = '\0';
            snprintf(type, sizeof(type), "# TYPE %s histogram", name);
        }
        if (!strstr(t, type))
            fail_msg("no TYPE for %s", name);
    }
}

static void test_nginx_unreadable_and_store_down(void **state)
{
    (void)state;
    memset(&page, 0, sizeof(page));
    metrics_attach(&page);
    char *t = render(0, NULL);
    expect_line(t, "clientes_store_up 0");
    expect_line(t, "clientes_nginx_up 0");
    t = render(1, "garbage");
    expect_line(t, "clientes_nginx_up 0");
    /* too small a buffer is refused, not cut */
    char small[64];
    assert_int_equal(metrics_render(small, sizeof(small), 1, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_move),
        cmocka_unit_test(test_nginx_unreadable_and_store_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
