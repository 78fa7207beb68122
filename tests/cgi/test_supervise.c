/* test_supervise.c - the text work of clientes-web: template rendering (the
 * ${NAME} rule, ALLOW_MAP from the route table, REAL_IP_CONF) and nginx's
 * error-log lines (refusals recognised, personal data stripped). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errlog.h"
#include "render.h"
#include "route.h"

/* ---------------------------------------------------------------- render */

static const struct render_var vars[] = {
    {"PORT", "8080"},
    {"EMPTY", ""},
    {"LINES", "one;\ntwo;\nthree;"},
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static void expect_render(const char *tmpl, const char *const *drop, const char *want)
{
    char err[256] = "", *out = render_text(tmpl, vars, NVARS, drop, err, sizeof(err));

    if (!out)
        fail_msg("render_text: %s", err);
    assert_string_equal(out, want);
    free(out);
}

static void test_render_substitutes(void **state)
{
    static const char *const drop[] = {"uwsgi_temp_path", NULL};

    (void)state;
    expect_render("listen ${PORT};\n", NULL, "listen 8080;\n");
    expect_render("a${EMPTY}b ${PORT}${PORT}", NULL, "ab 80808080");
    /* nginx's own variables and anything not an upper-case name stay */
    expect_render("$request_id ${request_id} ${} ${PORT ${1X} $", NULL,
                  "$request_id ${request_id} ${} ${PORT ${1X} $");
    /* several lines, alone on an indented line: each line indented */
    expect_render("map {\n    ${LINES}\n}\n", NULL, "map {\n    one;\n    two;\n    three;\n}\n");
    /* not alone on its line: as is */
    expect_render("x ${LINES}\n", NULL, "x one;\ntwo;\nthree;\n");
    /* directives of modules nginx lacks are left out, whole lines */
    expect_render("a;\n  uwsgi_temp_path /x;\nuwsgi_temp_paths b;\n", drop,
                  "a;\nuwsgi_temp_paths b;\n");
    expect_render("", NULL, "");
}

static void test_render_refuses_unknown_names(void **state)
{
    char err[256], *out;

    (void)state;
    out = render_text("ok ${PORT}\n# ${NOPE} in a comment\n", vars, NVARS, NULL, err,
                      sizeof(err));
    assert_null(out);
    assert_non_null(strstr(err, "line 2"));
    assert_non_null(strstr(err, "${NOPE}"));
    assert_non_null(strstr(err, "PORT EMPTY LINES"));
}

static void test_allow_map_follows_the_route_table(void **state)
{
    char *map = render_allow_map(), line[512], allow[128], re[128];
    const char *methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

    (void)state;
    assert_non_null(map);
    assert_true(route_count() > 0);
    for (size_t i = 0; i < route_count(); i++) {
        const char *p = route_path(i);
        size_t o = 0;
        assert_int_equal(route_allow(i, allow, sizeof(allow)), 0);
        /* the path as nginx's regex: '.' escaped, {mail} one segment */
        for (; *p && o + 8 < sizeof(re); p++) {
            if (strncmp(p, "{mail}", 6) == 0) {
                memcpy(re + o, "[^/?]+", 6);
                o += 6;
                p += 5;
            } else {
                if (*p == '.')
                    re[o++] = '\\';
                re[o++] = *p;
            }
        }
        re[o] = '\0';
        snprintf(line, sizeof(line), "\"~^%s(\\?|$)\" \"%s\";\n", re, allow);
        if (!strstr(map, line))
            fail_msg("no line %s in:\n%s", line, map);
        /* one line per path, though several rows share it */
        assert_null(strstr(strstr(map, line) + 1, line));
    }
    /* elsewhere: every method some route takes, in Allow's order */
    assert_non_null(strstr(map, "\ndefault \"GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS\";"));
    for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
        assert_non_null(strstr(map, methods[k]));
    assert_null(route_path(route_count()));
    assert_int_equal(route_allow(route_count(), allow, sizeof(allow)), -1);
    assert_int_equal(route_allow(0, allow, 2), -1);
    free(map);
}

static void test_real_ip(void **state)
{
    struct config_proxies p = {0};
    char *out;

    (void)state;
    out = render_real_ip(&p);
    assert_string_equal(out, "");
    free(out);
    p.n = 2;
    strcpy(p.cidr[0], "10.0.0.0/8");
    strcpy(p.cidr[1], "::1");
    out = render_real_ip(&p);
    assert_string_equal(out, "set_real_ip_from 10.0.0.0/8;\nset_real_ip_from ::1;\n"
                             "real_ip_header X-Forwarded-For;\nreal_ip_recursive on;");
    free(out);
}

/* ---------------------------------------------------------------- errlog */

#define PREFIX "2026/12/01 12:00:00 [warn] 12#12: *34 "

static void test_refusals_recognised(void **state)
{
    (void)state;
    assert_int_equal(errlog_refusal(PREFIX "limiting requests, excess: 20.360 by zone "
                                    "\"writes\", client: 127.0.0.1, server: _, request: "
                                    "\"PUT /setNombre?mail=a%40b.es HTTP/1.1\", host: \"h\""),
                     ERRLOG_LIMIT_REQ);
    assert_int_equal(errlog_refusal(PREFIX "limiting connections by zone \"worker_requests\", "
                                    "client: 127.0.0.1, server: _, request: \"GET / HTTP/1.1\""),
                     ERRLOG_LIMIT_CONN);
    assert_int_equal(errlog_refusal("2026/12/01 12:00:00 [alert] 12#12: 1024 worker_connections "
                                    "are not enough"),
                     ERRLOG_WORKER_CONNECTIONS);
    assert_int_equal(errlog_refusal(PREFIX "upstream timed out"), -1);
    assert_string_equal(errlog_refusal_name(ERRLOG_LIMIT_CONN), "limiting connections");
}

static void expect_clean(const char *in, const char *out)
{
    char buf[1024];

    snprintf(buf, sizeof(buf), "%s", in);
    errlog_clean(buf);
    assert_string_equal(buf, out);
}

static void test_personal_data_stripped(void **state)
{
    (void)state;
    /* the query goes, the referrer goes, the rest stays */
    expect_clean(PREFIX "client intended to send too large body: 100000 bytes, client: 127.0.0.1, "
                        "server: _, request: \"POST /aniadir?mail=ana%40b.es&nombre=Ana "
                        "HTTP/1.1\", host: \"localhost\", referrer: "
                        "\"http://x.example/?mail=ana%40b.es\"",
                 PREFIX "client intended to send too large body: 100000 bytes, client: 127.0.0.1, "
                        "server: _, request: \"POST /aniadir HTTP/1.1\", host: \"localhost\"");
    /* a client's quote in the query does not end the field early */
    expect_clean(PREFIX "x, client: 1.2.3.4, server: _, request: \"GET /c?a=\"b\", c HTTP/1.1\", "
                        "upstream: \"fastcgi://unix:/tmp/a:b/w.sock:\", host: \"h\"",
                 PREFIX "x, client: 1.2.3.4, server: _, request: \"GET /c HTTP/1.1\", "
                        "upstream: \"fastcgi://unix:/tmp/a:b/w.sock:\", host: \"h\"");
    /* a request line cut short (no protocol), at the end of the line */
    expect_clean(PREFIX "x, client: 1.2.3.4, server: _, request: \"GET /cliente?mail=ana@b.es\"",
                 PREFIX "x, client: 1.2.3.4, server: _, request: \"GET /cliente\"");
    /* what a client sent, quoted back by nginx */
    expect_clean("2026/12/01 12:00:00 [info] 1#1: *1 client sent invalid header line: \"X-Mail: "
                 "ana@b.es\" while reading client request headers, client: 1.2.3.4, server: _",
                 "2026/12/01 12:00:00 [info] 1#1: *1 client sent invalid header line: (cut), "
                 "client: 1.2.3.4, server: _");
    /* nothing personal: untouched */
    expect_clean(PREFIX "upstream prematurely closed FastCGI stdout while reading response header "
                        "from upstream, client: 127.0.0.1, server: _, request: \"GET /health "
                        "HTTP/1.1\", upstream: \"fastcgi://unix:/r/w.sock:\", host: \"h\"",
                 PREFIX "upstream prematurely closed FastCGI stdout while reading response header "
                        "from upstream, client: 127.0.0.1, server: _, request: \"GET /health "
                        "HTTP/1.1\", upstream: \"fastcgi://unix:/r/w.sock:\", host: \"h\"");
    expect_clean("2026/12/01 12:00:00 [notice] 1#1: signal process started",
                 "2026/12/01 12:00:00 [notice] 1#1: signal process started");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_substitutes),
        cmocka_unit_test(test_render_refuses_unknown_names),
        cmocka_unit_test(test_allow_map_follows_the_route_table),
        cmocka_unit_test(test_real_ip),
        cmocka_unit_test(test_refusals_recognised),
        cmocka_unit_test(test_personal_data_stripped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
