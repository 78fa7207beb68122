/* test_json.c - the JSON writer (cgi/json.h): its strings are byte for byte
 * what cJSON prints (the writer the legacy responses were made with), its
 * scopes place commas and keys, and misuse or a failed write stops it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi_capture.h"
#include "json.h"

/* What cJSON prints for {"<key>":"<val>"}: the reference bytes. */
static char *cjson_object(const char *key, const char *val)
{
    cJSON *o = cJSON_CreateObject();
    char *out;

    assert_non_null(o);
    assert_non_null(cJSON_AddStringToObject(o, key, val));
    out = cJSON_PrintUnformatted(o);
    assert_non_null(out);
    cJSON_Delete(o);
    return out;
}

/* The same object through the writer, into a fixed buffer. */
static size_t ours_object(const char *key, const char *val, char *buf, size_t cap)
{
    struct json_buf b;
    struct json j;

    json_buf_init(&b, buf, cap);
    json_init(&j, json_buf_write, &b);
    assert_int_equal(json_obj_open(&j, NULL), 0);
    assert_int_equal(json_put_str(&j, key, val), 0);
    assert_int_equal(json_obj_close(&j), 0);
    assert_false(j.failed);
    return b.len;
}

static void expect_same_as_cjson(const char *key, const char *val)
{
    char buf[4096];
    char *want = cjson_object(key, val);
    size_t n = ours_object(key, val, buf, sizeof(buf));

    if (n != strlen(want) || memcmp(buf, want, n) != 0)
        fail_msg("writer: %.*s\ncJSON:  %s", (int)n, buf, want);
    cJSON_free(want);
}

/* Every byte value from 0x01 to 0xff, alone and inside text, in a value and
 * in a key: the escaper agrees with cJSON on each. */
static void test_every_byte_as_cjson(void **state)
{
    char one[2], mid[8];

    (void)state;
    for (int c = 1; c < 256; c++) {
        one[0] = (char)c;
        one[1] = '\0';
        snprintf(mid, sizeof(mid), "a%cb", c);
        expect_same_as_cjson("k", one);
        expect_same_as_cjson("k", mid);
        expect_same_as_cjson(one, "v");
        expect_same_as_cjson(mid, mid);
    }
}

static void test_strings_as_cjson(void **state)
{
    static const char *const vals[] = {
        "",
        "Jesus",
        "Cliente a\xc3\xb1" "adido con exito",
        "a\"b@x.es",
        "back\\slash and \"quotes\" \\\"",
        "\b\f\n\r\t",
        "\x01\x1f\x7f",
        "/cliente?mail=ejemplo@gmail.com", /* no \/ */
        "\xe2\x80\xa8 \xe2\x80\xa9 \xf0\x9f\x98\x80 \xef\xbb\xbf",
        "<script>alert(1)</script>",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        expect_same_as_cjson("mensaje", vals[i]);
        expect_same_as_cjson(vals[i], "x");
    }
}

static void test_lower_case_u_escapes(void **state)
{
    char buf[64];
    size_t n = ours_object("k", "\x1a\x0b", buf, sizeof(buf));

    (void)state;
    assert_int_equal(n, strlen("{\"k\":\"\\u001a\\u000b\"}"));
    assert_memory_equal(buf, "{\"k\":\"\\u001a\\u000b\"}", n);
}

/* Nested objects, arrays and numbers: commas and keys where they belong. */
static void test_scopes(void **state)
{
    static const char want[] =
        "{\"a\":{\"x\":\"1\",\"y\":\"2\"},\"b\":[\"p\",{\"q\":3},[],-42],\"c\":{}}";
    char buf[256];
    struct json_buf b;
    struct json j;

    (void)state;
    json_buf_init(&b, buf, sizeof(buf));
    json_init(&j, json_buf_write, &b);
    json_obj_open(&j, NULL);
    json_obj_open(&j, "a");
    json_put_str(&j, "x", "1");
    json_put_str(&j, "y", "2");
    json_obj_close(&j);
    json_arr_open(&j, "b");
    json_put_str(&j, NULL, "p");
    json_obj_open(&j, NULL);
    json_put_int(&j, "q", 3);
    json_obj_close(&j);
    json_arr_open(&j, NULL);
    json_arr_close(&j);
    json_put_int(&j, NULL, -42);
    json_arr_close(&j);
    json_obj_open(&j, "c");
    json_obj_close(&j);
    assert_int_equal(json_obj_close(&j), 0);
    assert_false(j.failed);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(buf, want, b.len);
    /* and cJSON reads it back */
    cJSON *o = cJSON_ParseWithLength(buf, b.len);
    assert_non_null(o);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "b")), 4);
    cJSON_Delete(o);
}

/* Each misuse fails the writer, and a failed writer writes nothing more. */
static void test_misuse_fails(void **state)
{
    char buf[256];
    struct json_buf b;
    struct json j;

    (void)state;
    /* a key at the top level */
    json_buf_init(&b, buf, sizeof(buf));
    json_init(&j, json_buf_write, &b);
    assert_int_equal(json_obj_open(&j, "k"), -1);
    assert_true(j.failed);
    assert_int_equal(b.len, 0);
    /* a member without a key in an object, and nothing after it */
    json_buf_init(&b, buf, sizeof(buf));
    json_init(&j, json_buf_write, &b);
    json_obj_open(&j, NULL);
    assert_int_equal(json_put_str(&j, NULL, "v"), -1);
    assert_int_equal(json_obj_close(&j), -1);
    assert_int_equal(b.len, 1);
    /* a key in an array; a NULL value; a value at the top level */
    json_buf_init(&b, buf, sizeof(buf));
    json_init(&j, json_buf_write, &b);
    json_arr_open(&j, NULL);
    assert_int_equal(json_put_str(&j, "k", "v"), -1);
    json_init(&j, json_buf_write, &b);
    json_obj_open(&j, NULL);
    assert_int_equal(json_put_str(&j, "k", NULL), -1);
    json_init(&j, json_buf_write, &b);
    assert_int_equal(json_put_str(&j, NULL, "v"), -1);
    /* closing what is not open, or the wrong kind */
    json_init(&j, json_buf_write, &b);
    assert_int_equal(json_obj_close(&j), -1);
    json_init(&j, json_buf_write, &b);
    json_obj_open(&j, NULL);
    assert_int_equal(json_arr_close(&j), -1);
    /* deeper than JSON_MAX_DEPTH */
    json_buf_init(&b, buf, sizeof(buf));
    json_init(&j, json_buf_write, &b);
    json_obj_open(&j, NULL);
    for (int d = 1; d < JSON_MAX_DEPTH; d++)
        assert_int_equal(json_obj_open(&j, "d"), 0);
    assert_int_equal(json_obj_open(&j, "d"), -1);
}

/* A target that refuses: the writer stops at once and stays stopped. */
static void test_write_failure_sticks(void **state)
{
    struct cgi_out o;
    struct json j;

    (void)state;
    for (int from = 0; from < 6; from++) {
        cgi_out_init(&o);
        o.fail_from = from;
        json_init(&j, cgi_out_write, &o);
        json_obj_open(&j, NULL);
        json_put_str(&j, "mensaje", "a\"b");
        json_put_str(&j, "status", "400");
        assert_int_equal(json_obj_close(&j), -1);
        assert_true(j.failed);
        assert_int_equal(o.calls, from + 1); /* nothing after the refusal */
        cgi_out_free(&o);
    }
    /* a buffer too small: refused, not cut */
    {
        char small[8];
        struct json_buf b;
        json_buf_init(&b, small, sizeof(small));
        json_init(&j, json_buf_write, &b);
        json_obj_open(&j, NULL);
        assert_int_equal(json_put_str(&j, "mensaje", "demasiado largo"), -1);
        assert_true(b.overflow);
        assert_true(b.len <= sizeof(small));
    }
    /* through a callback target (not the buffer's fast path) the bytes are
     * the same */
    cgi_out_init(&o);
    json_init(&j, cgi_out_write, &o);
    json_obj_open(&j, NULL);
    json_put_str(&j, "a\tb", "\x01\"");
    assert_int_equal(json_obj_close(&j), 0);
    assert_string_equal(o.data, "{\"a\\tb\":\"\\u0001\\\"\"}");
    cgi_out_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_as_cjson),
        cmocka_unit_test(test_strings_as_cjson),
        cmocka_unit_test(test_lower_case_u_escapes),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_misuse_fails),
        cmocka_unit_test(test_write_failure_sticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
