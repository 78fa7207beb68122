/* test_multipart.c - multipart/form-data bodies (cgi/multipart.h) as
 * browsers send them: fields and files split exactly, the boundary found in
 * its Content-Type, and malformed bodies refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "multipart.h"

struct seen {
    int n, stop_at;
    struct multipart_part parts[MULTIPART_PARTS_MAX];
};

static int collect(void *ctx, const struct multipart_part *p)
{
    struct seen *s = ctx;

    s->parts[s->n++] = *p;
    return s->stop_at && s->n == s->stop_at;
}

#define B "----WebKitFormBoundaryAbC123"
#define CRLF "\r\n"

static void test_boundary(void **state)
{
    char b[MULTIPART_BOUNDARY_MAX + 1];

    (void)state;
    assert_true(multipart_boundary("multipart/form-data; boundary=" B, b));
    assert_string_equal(b, B);
    assert_true(multipart_boundary("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b;c\"", b));
    assert_string_equal(b, "a b;c");
    assert_true(multipart_boundary("multipart/form-data;boundary=x;y=z", b));
    assert_string_equal(b, "x");
    assert_false(multipart_boundary("multipart/form-data", b));
    assert_false(multipart_boundary("multipart/form-data; boundary=", b));
    assert_false(multipart_boundary("multipart/form-data; boundary=\"unterminated", b));
    assert_false(multipart_boundary("application/x-www-form-urlencoded; boundary=x", b));
    assert_false(multipart_boundary(NULL, b));
    char longb[200];
    snprintf(longb, sizeof(longb), "multipart/form-data; boundary=%071d", 0);
    assert_false(multipart_boundary(longb, b));
    snprintf(longb, sizeof(longb), "multipart/form-data; boundary=%070d", 0);
    assert_true(multipart_boundary(longb, b));
}

static void test_browser_body(void **state)
{
    static const char body[] =
        "--" B CRLF
        "Content-Disposition: form-data; name=\"csrf_token\"" CRLF CRLF
        "abc123" CRLF
        "--" B CRLF
        "Content-Disposition: form-data; name=\"fichero\"; filename=\"clientes.csv\"" CRLF
        "Content-Type: text/csv" CRLF CRLF
        "nombre,mail\r\nJos\xc3\xa9,a@b.es\r\nx--" B " not a delimiter\r\n" CRLF
        "--" B CRLF
        "Content-Disposition: form-data; name=\"vacio\"; filename=\"\"" CRLF
        "Content-Type: application/octet-stream" CRLF CRLF
        CRLF
        "--" B "--" CRLF;
    struct seen s = {0};
    const char *reason = NULL;

    (void)state;
    assert_true(multipart_parse(body, sizeof(body) - 1, B, collect, &s, &reason));
    assert_int_equal(s.n, 3);
    assert_string_equal(s.parts[0].name, "csrf_token");
    assert_false(s.parts[0].file);
    assert_int_equal(s.parts[0].len, 6);
    assert_memory_equal(s.parts[0].data, "abc123", 6);
    assert_string_equal(s.parts[1].name, "fichero");
    assert_true(s.parts[1].file);
    const char want[] = "nombre,mail\r\nJos\xc3\xa9,a@b.es\r\nx--" B " not a delimiter\r\n";
    assert_int_equal(s.parts[1].len, sizeof(want) - 1);
    assert_memory_equal(s.parts[1].data, want, sizeof(want) - 1);
    assert_string_equal(s.parts[2].name, "vacio");
    assert_true(s.parts[2].file);
    assert_int_equal(s.parts[2].len, 0);
}

static void test_binary_and_preamble(void **state)
{
    static const char body[] = "preamble to ignore" CRLF "--b" CRLF
                               "content-disposition: form-data; name=\"f\"; filename=\"x\"" CRLF
                               CRLF "a\0b\r\nc" CRLF "--b--";
    struct seen s = {0};
    const char *reason;

    (void)state;
    assert_true(multipart_parse(body, sizeof(body) - 1, "b", collect, &s, &reason));
    assert_int_equal(s.n, 1);
    assert_int_equal(s.parts[0].len, 6);
    assert_memory_equal(s.parts[0].data, "a\0b\r\nc", 6);
}

static void test_stop(void **state)
{
    static const char body[] = "--b" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
                               "1" CRLF "--b" CRLF "Content-Disposition: form-data; name=\"b\""
                               CRLF CRLF "2" CRLF "--b--";
    struct seen s = {.stop_at = 1};
    const char *reason;

    (void)state;
    assert_true(multipart_parse(body, sizeof(body) - 1, "b", collect, &s, &reason));
    assert_int_equal(s.n, 1);
}

static void expect_refused(const char *body, const char *boundary)
{
    struct seen s = {0};
    const char *reason = NULL;

    if (multipart_parse(body, strlen(body), boundary, collect, &s, &reason))
        fail_msg("accepted: %s", body);
    assert_non_null(reason);
}

static void test_malformed(void **state)
{
    char many[4096];
    size_t n = 0;

    (void)state;
    expect_refused("no boundary at all", "b");
    expect_refused("--b" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF "1", "b");
    expect_refused("--b" CRLF "Content-Disposition: form-data; name=\"a\"", "b");
    expect_refused("--b" CRLF "Content-Type: text/plain" CRLF CRLF "1" CRLF "--b--", "b");
    expect_refused("--b" CRLF "Content-Disposition: attachment; name=\"a\"" CRLF CRLF "1" CRLF
                   "--b--", "b");
    expect_refused("--b" CRLF "Content-Disposition: form-data; name=\"\"" CRLF CRLF "1" CRLF
                   "--b--", "b");
    expect_refused("--b" CRLF "Content-Disposition: form-data; filename=\"x\"" CRLF CRLF "1" CRLF
                   "--b--", "b");
    expect_refused("--bX" CRLF, "b");
    for (int i = 0; i <= MULTIPART_PARTS_MAX; i++)
        n += (size_t)snprintf(many + n, sizeof(many) - n,
                              "--b" CRLF "Content-Disposition: form-data; name=\"p%d\"" CRLF CRLF
                              "v" CRLF, i);
    snprintf(many + n, sizeof(many) - n, "--b--");
    expect_refused(many, "b");
    char longname[300];
    snprintf(longname, sizeof(longname),
             "--b" CRLF "Content-Disposition: form-data; name=\"%065d\"" CRLF CRLF "1" CRLF "--b--",
             0);
    expect_refused(longname, "b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary),          cmocka_unit_test(test_browser_body),
        cmocka_unit_test(test_binary_and_preamble), cmocka_unit_test(test_stop),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
