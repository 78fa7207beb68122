/* test_v1.c - the pieces of the /v1 API that need no request: ETag lists,
 * cursors (round trip for every sort, refusal of anything this service did
 * not make) and the body decoder's modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "manager.h"
#include "v1.h"

static void test_etag_lists(void **state)
{
    char e[32];

    (void)state;
    v1_etag(42, e, sizeof(e));
    assert_string_equal(e, "\"42\"");
    assert_true(v1_etag_matches("\"42\"", 42, false));
    assert_true(v1_etag_matches(" \"1\", \"42\" ", 42, false));
    assert_true(v1_etag_matches("*", 42, false));
    assert_false(v1_etag_matches("\"4\"", 42, false));
    assert_false(v1_etag_matches("\"420\"", 42, false));
    assert_false(v1_etag_matches("W/\"42\"", 42, false)); /* If-Match: strong */
    assert_true(v1_etag_matches("W/\"42\"", 42, true));   /* If-None-Match: weak */
    assert_false(v1_etag_matches("42", 42, false));       /* not an entity tag */
    assert_false(v1_etag_matches("\"42", 42, false));
    assert_false(v1_etag_matches("", 42, false));
    assert_false(v1_etag_matches(NULL, 42, false));
}

static void test_cursor_round_trip(void **state)
{
    static const char *const values[] = {"", "jose nunez", "1990-01-02", "2026-12-01T11:35:09.123Z",
                                         "\xc3\xb1"};
    (void)state;
    for (int s = SORT_MAIL; s <= SORT_MODIFICADO; s++) {
        for (int d = 0; d < 2; d++) {
            struct v1_cursor c = {.sort = (enum client_sort)s, .desc = d}, back;
            char text[V1_CURSOR_TEXT_CAP];
            strcpy(c.value, values[s % 5]);
            strcpy(c.key, "ana+x/y@example.com");
            v1_cursor_encode(&c, text);
            assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789-_"),
                             strlen(text));
            assert_int_equal(v1_cursor_decode(text, &back), 0);
            assert_int_equal(back.sort, c.sort);
            assert_int_equal(back.desc, c.desc);
            assert_string_equal(back.value, c.value);
            assert_string_equal(back.key, c.key);
        }
    }
}

static void test_cursor_refusals(void **state)
{
    struct v1_cursor c = {.sort = SORT_NOMBRE}, back;
    char text[V1_CURSOR_TEXT_CAP], bad[V1_CURSOR_TEXT_CAP + 8];

    (void)state;
    strcpy(c.value, "ana");
    strcpy(c.key, "ana@example.com");
    v1_cursor_encode(&c, text);
    assert_int_equal(v1_cursor_decode("", &back), -1);
    assert_int_equal(v1_cursor_decode(NULL, &back), -1);
    assert_int_equal(v1_cursor_decode("YzEw", &back), -1);       /* too short */
    assert_int_equal(v1_cursor_decode("not base64!", &back), -1);
    snprintf(bad, sizeof(bad), "%s=", text);                     /* padding */
    assert_int_equal(v1_cursor_decode(bad, &back), -1);
    snprintf(bad, sizeof(bad), "x%s", text);                     /* shifted */
    assert_int_equal(v1_cursor_decode(bad, &back), -1);
    /* "a1" (an audit cursor) is no list cursor; a key that is no mail */
    assert_int_equal(v1_cursor_decode("YTExMg", &back), -1);
    assert_int_equal(v1_cursor_decode("YzEwKwBub21haWw", &back), -1); /* "c10+\0nomail" */
    memset(bad, 'A', V1_CURSOR_TEXT_CAP + 4);
    bad[V1_CURSOR_TEXT_CAP + 4] = '\0';
    assert_int_equal(v1_cursor_decode(bad, &back), -1);
    assert_int_equal(v1_cursor_decode(text, &back), 0);
}

static void test_decode_modes(void **state)
{
    static const char full[] = "{\"mail\":\"a@b.es\",\"nombre\":\"A\",\"apellidos\":\"B\","
                               "\"fecha_nacimiento\":\"1/2/1990\",\"direccion\":\"C\"}";
    struct http_error e;
    struct client c;
    unsigned mask;

    (void)state;
    assert_int_equal(v1_decode_record(full, strlen(full), V1_BODY_CREATE, &c, &mask, &e), 0);
    assert_int_equal(mask, (1u << CLIENT_NFIELDS) - 1);
    assert_string_equal(c.fecha_nacimiento, "1/2/1990"); /* stored as given */
    assert_int_equal(v1_decode_record("{\"nombre\":\"Eva\"}", 16, V1_BODY_PATCH, &c, &mask, &e), 0);
    assert_int_equal(mask, MANAGER_FIELD(CLIENT_NOMBRE));
    assert_int_equal(v1_decode_record("{\"nombre\":\"Eva\"}", 16, V1_BODY_REPLACE, &c, &mask, &e),
                     422);
    assert_int_equal(e.nfields, 3); /* apellidos, fecha_nacimiento, direccion */
    /* the mail of a replace is a key: the older, looser rule */
    static const char put[] = "{\"mail\":\"a..b@c.es\",\"nombre\":\"A\",\"apellidos\":\"B\","
                              "\"fecha_nacimiento\":\"1990-02-01\",\"direccion\":\"C\"}";
    assert_int_equal(v1_decode_record(put, strlen(put), V1_BODY_REPLACE, &c, &mask, &e), 0);
    assert_int_equal(v1_decode_record(put, strlen(put), V1_BODY_CREATE, &c, &mask, &e), 422);
    assert_string_equal(e.fields[0].field, "mail");
    /* more invalid fields than are listed: counted */
    char many[4096] = "{";
    for (int i = 0; i < 20; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"x%d\":1",
                 i ? "," : "", i);
    strcat(many, "}");
    assert_int_equal(v1_decode_record(many, strlen(many), V1_BODY_PATCH, &c, &mask, &e), 422);
    assert_int_equal(e.nfields, HTTP_FIELD_ERRORS_MAX);
    assert_int_equal(e.fields_omitted, 20 - HTTP_FIELD_ERRORS_MAX);
    assert_string_equal(e.mensaje, "20 campos invalidos");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag_lists),
        cmocka_unit_test(test_cursor_round_trip),
        cmocka_unit_test(test_cursor_refusals),
        cmocka_unit_test(test_decode_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
