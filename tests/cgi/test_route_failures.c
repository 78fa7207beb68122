/* test_route_failures.c - the routes when the store fails: locked past its wait. */
#include "route_fx.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The store locked by another connection past busy_timeout: 503 with
 * Retry-After for every write, and nothing changes. */
static void test_busy_503(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *method, *path, *query, *ctype, *body;
    } writes[] = {
        {"POST", "/aniadir", NEW_CLIENT, NULL, NULL},
        {"POST", "/aniadir", NULL, FORM_CT, NEW_CLIENT},
        {"PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Otro", NULL, NULL},
        {"DELETE", "/eliminar", "mail=ejemplo%40gmail.com", NULL, NULL},
    };
    sqlite3 *other = NULL;
    char *before, *after, v[32];

    before = rt_snapshot(f);
    assert_int_equal(sqlite3_open(f->db, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        assert_int_equal(rt_send(f, writes[i].method, writes[i].path, writes[i].query,
                                  writes[i].ctype, writes[i].body),
                         503);
        rt_expect_error(f, 503, "Servicio no disponible temporalmente");
        assert_string_equal(cgi_header(&f->r, "Retry-After", v, sizeof(v)), "1");
    }
    /* validation still comes first: a bad request is a 400, not a 503 */
    assert_int_equal(rt_req(f, "POST", "/aniadir", "nombre=A"), 400);
    /* WAL: readers are not blocked by the writer */
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    rt_expect_body(f, RT_EXAMPLE_CLIENTE);

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(other), SQLITE_OK);
    after = rt_snapshot(f);
    assert_string_equal(before, after);
    assert_false(rt_has_client(f, "ana@x.es"));

    /* the store recovers: no transaction was left open */
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    assert_true(rt_has_client(f, "ana@x.es"));
    free(before);
    free(after);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, rt_setup, rt_teardown)
    const struct CMUnitTest tests[] = {
        T(test_busy_503),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
