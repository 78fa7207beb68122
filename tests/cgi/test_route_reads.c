/* test_route_reads.c - the reading routes of the legacy contract, /cliente and
 * /clientes, byte for byte. */
#include "route_fx.h"

#include <stdio.h>
#include <string.h>

static void test_get_cliente(void **state)
{
    struct fx *f = *state;
    static const char *const vals[5] = {"Jesus", "Mesa Gonzalez", "ejemplo@gmail.com",
                                        "29/06/1996", "Calle Paseo Moreras 39"};
    cJSON *j;

    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    rt_expect_body(f, RT_EXAMPLE_CLIENTE);
    j = rt_parse_body(f);
    assert_non_null(j->child);
    assert_null(j->child->next);
    assert_string_equal(j->child->string, "ejemplo@gmail.com");
    rt_check_record(j->child, vals, false);
    cJSON_Delete(j);

    /* '@' unescaped, and the lookup ignores case: the mail comes back as stored */
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=EJEMPLO@Gmail.COM"), 200);
    rt_expect_body(f, RT_EXAMPLE_CLIENTE);
    /* other parameters are ignored */
    assert_int_equal(rt_req(f, "GET", "/cliente", "x=1&mail=ejemplo%40gmail.com&"), 200);
    rt_expect_body(f, RT_EXAMPLE_CLIENTE);
}

static void test_get_cliente_errors(void **state)
{
    struct fx *f = *state;
    static const struct refusal cases[] = {
        {NULL, 400, "Falta el parametro 'mail'"},
        {"", 400, "Falta el parametro 'mail'"},
        {"Mail=ejemplo%40gmail.com", 400, "Falta el parametro 'mail'"},
        {"mail", 400, "Parametro 'mail' invalido: vacio"},
        {"mail=", 400, "Parametro 'mail' invalido: vacio"},
        {"mail=nadie", 400, "Parametro 'mail' invalido: falta la '@'"},
        {"mail=nadie%40x.es", 404, "El mail del cliente proporcionado no existe"},
        {"mail=ejemplo%40gmail.co", 404, "El mail del cliente proporcionado no existe"},
        {"mail=%G1", 400, "Parametro 'mail' invalido: codificacion porcentual invalida"},
        {"mail=a%00%40x.es", 400, "Parametro 'mail' invalido: contiene un byte nulo"},
        {"mail=%FF%40x.es", 400, "Parametro 'mail' invalido: UTF-8 invalido"},
        {"mail=ejemplo%40gmail.com&mail=ejemplo%40gmail.com", 400, "Parametro 'mail' repetido"},
        {"=ejemplo%40gmail.com", 400, "Parametro sin nombre"},
    };

    RT_REFUSED_EACH(f, "GET", "/cliente", cases);
}

static void test_get_clientes_one(void **state)
{
    struct fx *f = *state;
    static const char *const vals[5] = {"Jesus", "Mesa Gonzalez", "ejemplo@gmail.com",
                                        "29/06/1996", "Calle Paseo Moreras 39"};
    cJSON *j;

    assert_int_equal(rt_req(f, "GET", "/clientes", NULL), 200);
    /* streamed: whatever Content-Length says, the bytes are exactly these */
    assert_int_equal(f->r.body_len, strlen(RT_EXAMPLE_CLIENTES));
    assert_memory_equal(f->r.body, RT_EXAMPLE_CLIENTES, f->r.body_len);
    j = rt_parse_body(f);
    assert_string_equal(j->child->string, "ejemplo@gmail.com");
    assert_null(j->child->next);
    rt_check_record(j->child, vals, true);
    cJSON_Delete(j);
    /* parameters are ignored */
    assert_int_equal(rt_req(f, "GET", "/clientes", "mail=otro%40x.es"), 200);
    assert_memory_equal(f->r.body, RT_EXAMPLE_CLIENTES, f->r.body_len);
}

static void test_get_clientes_many(void **state)
{
    struct fx *f = *state;
    static const char *const want[][5] = {
        {"Ana", "Uno", "A@x.es", "1/1/2000", "Calle A"},
        {"Bea", "Dos", "b@x.es", "2000-02-29", "Calle B"},
        {"Ca\"r\\la", "Tr\xc3\xa9s", "c'q@x.es", "31/12/1999", "Plaza \xc3\x91u 3"},
        {"Jesus", "Mesa Gonzalez", "ejemplo@gmail.com", "29/06/1996", "Calle Paseo Moreras 39"},
        {"Zoe", "Cinco", "Z@x.es", "10/10/2010", "Calle Z"},
    };
    cJSON *j;
    const cJSON *it;
    size_t i = 0;

    /* added out of order; the list comes back in (case-insensitive) mail order */
    rt_add_client(f, "Zoe", "Cinco", "Z@x.es", "10/10/2010", "Calle Z");
    rt_add_client(f, "Bea", "Dos", "b@x.es", "2000-02-29", "Calle B");
    rt_add_client(f, "Ca\"r\\la", "Tr\xc3\xa9s", "c'q@x.es", "31/12/1999", "Plaza \xc3\x91u 3");
    rt_add_client(f, "Ana", "Uno", "A@x.es", "1/1/2000", "Calle A");
    assert_int_equal(rt_count(f), 5);

    assert_int_equal(rt_req(f, "GET", "/clientes", NULL), 200);
    j = rt_parse_body(f);
    for (it = j->child; it; it = it->next, i++) {
        assert_true(i < 5);
        assert_string_equal(it->string, want[i][2]);
        rt_check_record(it, want[i], true);
    }
    assert_int_equal(i, 5);
    cJSON_Delete(j);
}

static void test_get_clientes_empty(void **state)
{
    struct fx *f = *state;

    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=ejemplo%40gmail.com"), 200);
    assert_int_equal(rt_count(f), 0);
    rt_refused(f, "GET", "/clientes", NULL, 404, "No existen clientes actualmente");
    /* and back to one */
    rt_add_client(f, "Ana", "Uno", "ana@x.es", "1/1/2000", "Calle A");
    assert_int_equal(rt_req(f, "GET", "/clientes", NULL), 200);
    {
        static const char want[] = "{\"ana@x.es\":{\"Nombre\":\"Ana\",\"Apellidos\":\"Uno\","
                                   "\"Mail\":\"ana@x.es\",\"Fecha de nacimiento\":\"1/1/2000\","
                                   "\"Direccion\":\"Calle A\"}}";
        assert_int_equal(f->r.body_len, strlen(want));
        assert_memory_equal(f->r.body, want, f->r.body_len);
    }
}

/* Values with the characters JSON must escape, byte for byte as the old
 * service (cJSON) wrote them: quotes and backslashes escaped, '/' and
 * non-ASCII as they are; and a mail with the punctuation mails may hold. */
static void test_escaped_values(void **state)
{
    struct fx *f = *state;
    static const char want[] =
        "{\"o'brien+x@x.es\":{\"nombre\":\"Ana \\\"la\\\" \\\\ B\",\"apellidos\":"
        "\"Pe\xc3\xb1" "a/Ruiz\",\"mail\":\"o'brien+x@x.es\",\"fecha_nacimiento\":\"1/1/2000\","
        "\"direccion\":\"C/ Sol \\\"4\\\", 3\xc2\xba\"}}";
    static const char *const vals[5] = {"Ana \"la\" \\ B", "Pe\xc3\xb1" "a/Ruiz",
                                        "o'brien+x@x.es", "1/1/2000",
                                        "C/ Sol \"4\", 3\xc2\xba"};
    cJSON *j;
    const cJSON *it;
    int seen = 0;

    rt_add_client(f, vals[0], vals[1], vals[2], vals[3], vals[4]);
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=o%27brien%2Bx%40x.es"), 200);
    rt_expect_body(f, want);
    j = rt_parse_body(f);
    rt_check_record(cJSON_GetObjectItemCaseSensitive(j, "o'brien+x@x.es"), vals, false);
    cJSON_Delete(j);
    /* a raw "'" in the query, another case: the same record */
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=O'Brien%2BX@x.ES"), 200);
    rt_expect_body(f, want);

    assert_int_equal(rt_req(f, "GET", "/clientes", NULL), 200);
    j = rt_parse_body(f);
    for (it = j->child; it; it = it->next)
        if (strcmp(it->string, "o'brien+x@x.es") == 0) {
            seen++;
            rt_check_record(it, vals, true);
        }
    assert_int_equal(seen, 1);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    cJSON_Delete(j);

    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=o%27brien%2Bx%40x.es"), 200);
    assert_false(rt_has_client(f, "o'brien+x@x.es"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, rt_setup, rt_teardown)
    const struct CMUnitTest tests[] = {
        T(test_get_cliente),
        T(test_get_cliente_errors),
        T(test_get_clientes_one),
        T(test_get_clientes_many),
        T(test_get_clientes_empty),
        T(test_escaped_values),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
