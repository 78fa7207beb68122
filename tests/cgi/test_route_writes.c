/* test_route_writes.c - the writing routes of the legacy contract: /aniadir,
 * /eliminar, the setters, and what each refuses. */
#include "route_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_aniadir(void **state)
{
    struct fx *f = *state;
    struct client c;
    char q[600];

    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    rt_expect_body(f, "{\"Resultado\":\"Cliente a\xc3\xb1" "adido con exito\"}");
    rt_get_client(f, "ana@x.es", &c);
    assert_string_equal(c.nombre, "Ana");
    assert_string_equal(c.apellidos, "Lopez Diaz");
    assert_string_equal(c.mail, "ana@x.es");
    assert_string_equal(c.fecha_nacimiento, "8/09/1978"); /* exactly as given */
    assert_string_equal(c.direccion, "Calle Mayor 1");
    assert_int_equal(rt_count(f), 2);

    /* ISO dates, non-ASCII text, parameters in any order, mail kept as given */
    assert_int_equal(rt_req(f, "POST", "/aniadir",
                         "direccion=Avda.+Espa%C3%B1a+5&mail=Pepe.Ruiz%40Correo.ES"
                         "&fecha_nacimiento=1978-09-08&apellidos=Ru%C3%ADz&nombre=Jos%C3%A9"),
                     200);
    rt_get_client(f, "pepe.ruiz@correo.es", &c);
    assert_string_equal(c.nombre, "Jos\xc3\xa9");
    assert_string_equal(c.apellidos, "Ru\xc3\xadz");
    assert_string_equal(c.mail, "Pepe.Ruiz@Correo.ES");
    assert_string_equal(c.fecha_nacimiento, "1978-09-08");
    assert_string_equal(c.direccion, "Avda. Espa\xc3\xb1" "a 5");
    assert_int_equal(rt_count(f), 3);

    /* the longest valid values */
    {
        char nombre[101], dir[201];
        memset(nombre, 'n', 100);
        nombre[100] = '\0';
        memset(dir, 'd', 200);
        dir[200] = '\0';
        rt_build_add_query(q, sizeof(q), nombre, nombre, "largo@x.es", "29/02/2000", dir);
        assert_int_equal(rt_req(f, "POST", "/aniadir", q), 200);
        rt_get_client(f, "largo@x.es", &c);
        assert_string_equal(c.direccion, dir);
    }
}

static void test_aniadir_form_body(void **state)
{
    struct fx *f = *state;
    struct client c;

    assert_int_equal(rt_send(f, "POST", "/aniadir", NULL, FORM_CT, NEW_CLIENT), 200);
    rt_expect_body(f, "{\"Resultado\":\"Cliente a\xc3\xb1" "adido con exito\"}");
    rt_get_client(f, "ana@x.es", &c);
    assert_string_equal(c.apellidos, "Lopez Diaz");

    /* split between the query and the body */
    assert_int_equal(rt_send(f, "POST", "/aniadir", "mail=bea%40x.es&nombre=Bea",
                              "application/x-www-form-urlencoded",
                              "apellidos=Dos&fecha_nacimiento=2000-01-01&direccion=C"),
                     200);
    rt_get_client(f, "bea@x.es", &c);
    assert_string_equal(c.nombre, "Bea");
    assert_string_equal(c.direccion, "C");
    assert_int_equal(rt_count(f), 3);

    /* a JSON body is not read: the parameters are missing */
    rt_refused_body(f, "POST", "/aniadir", NULL, "application/json",
                 "{\"nombre\":\"Cid\",\"apellidos\":\"X\",\"mail\":\"cid@x.es\","
                 "\"fecha_nacimiento\":\"1/1/2000\",\"direccion\":\"Y\"}",
                 400, "Falta el parametro 'nombre'", NULL);
    /* ... nor a form-looking body under another type */
    rt_refused_body(f, "POST", "/aniadir", NULL, "text/plain", NEW_CLIENT, 400,
                 "Falta el parametro 'nombre'", NULL);
    /* once in the query, once in the body */
    rt_refused_body(f, "POST", "/aniadir", "mail=cid%40x.es", FORM_CT,
                 "nombre=Cid&apellidos=X&mail=cid%40x.es&fecha_nacimiento=1%2F1%2F2000&"
                 "direccion=Y",
                 400, "Parametro 'mail' repetido", NULL);
    rt_refused_body(f, "POST", "/aniadir", NULL, FORM_CT,
                 "nombre=Cid&apellidos=X&mail=cid%40x.es&fecha_nacimiento=1%2F1%2F2000&"
                 "direccion=%FF",
                 400, "Parametro 'direccion' invalido: UTF-8 invalido", NULL);
    assert_false(rt_has_client(f, "cid@x.es"));
}

static void test_aniadir_missing(void **state)
{
    struct fx *f = *state;
    static const char *const fields[5] = {"nombre", "apellidos", "mail", "fecha_nacimiento",
                                          "direccion"};
    static const char *const vals[5] = {"Ana", "Lopez", "ana%40x.es", "1%2F1%2F2000", "Calle"};
    char q[300], msg[80];

    for (int skip = 0; skip < 5; skip++) {
        size_t o = 0;
        q[0] = '\0';
        for (int i = 0; i < 5; i++)
            if (i != skip)
                o += (size_t)snprintf(q + o, sizeof(q) - o, "%s%s=%s", o ? "&" : "", fields[i],
                                      vals[i]);
        snprintf(msg, sizeof(msg), "Falta el parametro '%s'", fields[skip]);
        rt_refused(f, "POST", "/aniadir", q, 400, msg);
    }
    /* nothing at all: the first field is named */
    rt_refused(f, "POST", "/aniadir", NULL, 400, "Falta el parametro 'nombre'");
    rt_refused(f, "POST", "/aniadir", "", 400, "Falta el parametro 'nombre'");
    assert_false(rt_has_client(f, "ana@x.es"));
    assert_int_equal(rt_count(f), 1);
}

static void test_aniadir_invalid(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *nombre, *apellidos, *mail, *fecha, *direccion, *mensaje;
    } cases[] = {
        {"Ana", "L", "ana@x.es", "31/02/2000", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha inexistente"},
        {"Ana", "L", "ana@x.es", "29/02/2001", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha inexistente"},
        {"Ana", "L", "ana@x.es", "0/1/2000", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha inexistente"},
        {"Ana", "L", "ana@x.es", "2000-13-01", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha inexistente"},
        {"Ana", "L", "ana@x.es", "1/1/2999", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha futura"},
        {"Ana", "L", "ana@x.es", "31/12/1899", "C",
         "Parametro 'fecha_nacimiento' invalido: fecha anterior a 1900"},
        {"Ana", "L", "ana@x.es", "2000/01/01", "C",
         "Parametro 'fecha_nacimiento' invalido: formato invalido (D/M/AAAA o AAAA-MM-DD)"},
        {"Ana", "L", "ana@x.es", "", "C", "Parametro 'fecha_nacimiento' invalido: vacio"},
        {"Ana", "L", "ana", "1/1/2000", "C", "Parametro 'mail' invalido: falta la '@'"},
        {"Ana", "L", "a@b@x.es", "1/1/2000", "C",
         "Parametro 'mail' invalido: contiene mas de una '@'"},
        {"Ana", "L", "a b@x.es", "1/1/2000", "C",
         "Parametro 'mail' invalido: contiene caracteres no permitidos"},
        {"Ana", "L", "ana@x", "1/1/2000", "C", "Parametro 'mail' invalido: dominio invalido"},
        {"", "L", "ana@x.es", "1/1/2000", "C", "Parametro 'nombre' invalido: vacio"},
        {"   ", "L", "ana@x.es", "1/1/2000", "C", "Parametro 'nombre' invalido: vacio"},
        {"A\x01", "L", "ana@x.es", "1/1/2000", "C",
         "Parametro 'nombre' invalido: contiene caracteres de control"},
        {"Ana", "L\n", "ana@x.es", "1/1/2000", "C",
         "Parametro 'apellidos' invalido: contiene caracteres de control"},
        {"Ana", "L", "ana@x.es", "1/1/2000", "\xc2\x85",
         "Parametro 'direccion' invalido: contiene caracteres de control"},
    };
    static const struct refusal decoding[] = {
        {"nombre=%&apellidos=L&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=C", 400,
         "Parametro 'nombre' invalido: codificacion porcentual invalida"},
        {"nombre=A%00&apellidos=L&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=C", 400,
         "Parametro 'nombre' invalido: contiene un byte nulo"},
        {"nombre=A&apellidos=%C0%AF&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=C",
         400, "Parametro 'apellidos' invalido: UTF-8 invalido"},
        {"nombre=A&apellidos=L&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=%ED%A0%80",
         400, "Parametro 'direccion' invalido: UTF-8 invalido"},
        {"nombre=A&apellidos=L&mail=ana%40x.es&fecha_nacimiento=1%2F1%2F2000&direccion=%C3", 400,
         "Parametro 'direccion' invalido: UTF-8 invalido"},
        {NEW_CLIENT "&nombre=Otra", 400, "Parametro 'nombre' repetido"},
        {NEW_CLIENT "&=x", 400, "Parametro sin nombre"},
    };
    char q[1200];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rt_build_add_query(q, sizeof(q), cases[i].nombre, cases[i].apellidos, cases[i].mail,
                        cases[i].fecha, cases[i].direccion);
        rt_refused(f, "POST", "/aniadir", q, 400, cases[i].mensaje);
    }
    /* too long (counted in characters: 101 x "ñ") */
    {
        char nombre[300], dir[202];
        for (int i = 0; i < 101; i++)
            memcpy(nombre + 2 * i, "\xc3\xb1", 2);
        nombre[202] = '\0';
        rt_build_add_query(q, sizeof(q), nombre, "L", "ana@x.es", "1/1/2000", "C");
        rt_refused(f, "POST", "/aniadir", q, 400, "Parametro 'nombre' invalido: demasiado largo");
        memset(dir, 'd', 201);
        dir[201] = '\0';
        rt_build_add_query(q, sizeof(q), "Ana", "L", "ana@x.es", "1/1/2000", dir);
        rt_refused(f, "POST", "/aniadir", q, 400,
                   "Parametro 'direccion' invalido: demasiado largo");
    }
    /* decoding errors */
    RT_REFUSED_EACH(f, "POST", "/aniadir", decoding);
    assert_false(rt_has_client(f, "ana@x.es"));
    assert_int_equal(rt_count(f), 1);
}

static void test_aniadir_duplicate(void **state)
{
    struct fx *f = *state;
    struct client c;

    rt_refused_body(f, "POST", "/aniadir",
                 "nombre=Otro&apellidos=X&mail=ejemplo%40gmail.com&fecha_nacimiento=1%2F1%2F2000"
                 "&direccion=Y",
                 NULL, NULL, 405, "El mail del cliente proporcionado ya existe", "POST");
    /* case-insensitively */
    rt_refused_body(f, "POST", "/aniadir",
                 "nombre=Otro&apellidos=X&mail=EJEMPLO%40GMAIL.com&fecha_nacimiento=1%2F1%2F2000"
                 "&direccion=Y",
                 NULL, NULL, 405, "El mail del cliente proporcionado ya existe", "POST");
    rt_get_client(f, "ejemplo@gmail.com", &c);
    assert_string_equal(c.nombre, "Jesus");
    assert_string_equal(c.mail, "ejemplo@gmail.com");

    /* a client added over HTTP is a duplicate too */
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    rt_refused_body(f, "POST", "/aniadir", NEW_CLIENT, NULL, NULL, 405,
                 "El mail del cliente proporcionado ya existe", "POST");
    assert_int_equal(rt_count(f), 2);
}

static void test_refusals_before_handler(void **state)
{
    struct fx *f = *state;
    char *q = malloc(HTTP_QUERY_MAX + 64);
    char many[600];
    size_t o;

    assert_non_null(q);
    /* a query longer than HTTP_QUERY_MAX: 414, nothing stored */
    o = (size_t)snprintf(q, HTTP_QUERY_MAX + 64, "%s&pad=", NEW_CLIENT);
    memset(q + o, 'x', HTTP_QUERY_MAX + 1 - o);
    q[HTTP_QUERY_MAX + 1] = '\0';
    assert_int_equal(strlen(q), HTTP_QUERY_MAX + 1);
    rt_refused(f, "POST", "/aniadir", q, 414, "Consulta demasiado larga");
    rt_refused(f, "GET", "/cliente", q, 414, "Consulta demasiado larga");
    /* exactly HTTP_QUERY_MAX is decoded (and the padding ignored) */
    q[HTTP_QUERY_MAX] = '\0';
    assert_int_equal(rt_req(f, "POST", "/aniadir", q), 200);
    assert_true(rt_has_client(f, "ana@x.es"));
    free(q);

    /* more than HTTP_MAX_PARAMS */
    o = (size_t)snprintf(many, sizeof(many), "%s", "mail=ejemplo%40gmail.com");
    for (int i = 1; i <= HTTP_MAX_PARAMS; i++)
        o += (size_t)snprintf(many + o, sizeof(many) - o, "&p%d=1", i);
    rt_refused(f, "DELETE", "/eliminar", many, 400, "Demasiados parametros (maximo 16)");
    assert_true(rt_has_client(f, "ejemplo@gmail.com"));
}

static void test_eliminar(void **state)
{
    struct fx *f = *state;
    static const struct refusal cases[] = {
        {NULL, 400, "Falta el parametro 'mail'"},
        {"mail=", 400, "Parametro 'mail' invalido: vacio"},
        {"mail=ana", 400, "Parametro 'mail' invalido: falta la '@'"},
        {"mail=nadie%40x.es", 404, "El mail del cliente a borrar no existe"},
        {"mail=ana%40x.e", 404, "El mail del cliente a borrar no existe"},
        {"mail=ana%40x.es&mail=ana%40x.es", 400, "Parametro 'mail' repetido"},
        {"mail=ana%40x.es%", 400, "Parametro 'mail' invalido: codificacion porcentual invalida"},
    };

    rt_add_client(f, "Ana", "Uno", "ana@x.es", "1/1/2000", "Calle A");
    RT_REFUSED_EACH(f, "DELETE", "/eliminar", cases);

    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=ANA%40X.es"), 200);
    rt_expect_body(f, "{\"Resultado\":\"Cliente eliminado con exito\"}");
    assert_false(rt_has_client(f, "ana@x.es"));
    assert_true(rt_has_client(f, "ejemplo@gmail.com"));
    assert_int_equal(rt_count(f), 1);
    /* a second time: gone */
    rt_refused(f, "DELETE", "/eliminar", "mail=ana%40x.es", 404,
            "El mail del cliente a borrar no existe");
    rt_refused(f, "GET", "/cliente", "mail=ana%40x.es", 404,
            "El mail del cliente proporcionado no existe");
}

static void test_setters(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *path;
        enum client_field field;
        const char *param, *good_enc, *good, *done, *bad_enc, *bad_reason;
    } cases[] = {
        {"/setNombre", CLIENT_NOMBRE, "nombre", "Jes%C3%BAs+Mar%C3%ADa",
         "Jes\xc3\xbas Mar\xc3\xad" "a",
         "Nombre cambiado con exito", "%01", "contiene caracteres de control"},
        {"/setApellidos", CLIENT_APELLIDOS, "apellidos", "Mesa+G.", "Mesa G.",
         "Apellidos cambiados con exito", "+", "vacio"},
        {"/setFechaNacimiento", CLIENT_FECHA_NACIMIENTO, "fecha_nacimiento", "1996-06-29",
         "1996-06-29", "Fecha de nacimiento cambiada con exito", "31%2F02%2F2000",
         "fecha inexistente"},
        {"/setDireccion", CLIENT_DIRECCION, "direccion", "Calle+Nueva+2", "Calle Nueva 2",
         "Direccion cambiada con exito", "", "vacio"},
    };
    char q[300], msg[200], body[200];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct client before, after;
        const char *p = cases[i].param;

        rt_get_client(f, "ejemplo@gmail.com", &before);
        /* refusals, each leaving the store as it was */
        snprintf(q, sizeof(q), "%s=%s", p, cases[i].good_enc);
        rt_refused(f, "PUT", cases[i].path, q, 400, "Falta el parametro 'mail'");
        snprintf(msg, sizeof(msg), "Falta el parametro '%s'", p);
        rt_refused(f, "PUT", cases[i].path, "mail=ejemplo%40gmail.com", 400, msg);
        snprintf(q, sizeof(q), "mail=nadie%%40x.es&%s=%s", p, cases[i].good_enc);
        rt_refused(f, "PUT", cases[i].path, q, 404, "El mail del cliente proporcionado no existe");
        snprintf(q, sizeof(q), "mail=nadie&%s=%s", p, cases[i].good_enc);
        rt_refused(f, "PUT", cases[i].path, q, 400, "Parametro 'mail' invalido: falta la '@'");
        snprintf(q, sizeof(q), "mail=ejemplo%%40gmail.com&%s=%s", p, cases[i].bad_enc);
        snprintf(msg, sizeof(msg), "Parametro '%s' invalido: %s", p, cases[i].bad_reason);
        rt_refused(f, "PUT", cases[i].path, q, 400, msg);
        /* an unknown mail with a bad value: the value is judged first */
        snprintf(q, sizeof(q), "mail=nadie%%40x.es&%s=%s", p, cases[i].bad_enc);
        rt_refused(f, "PUT", cases[i].path, q, 400, msg);
        snprintf(q, sizeof(q), "mail=ejemplo%%40gmail.com&%s=%s&%s=%s", p, cases[i].good_enc, p,
                 cases[i].good_enc);
        snprintf(msg, sizeof(msg), "Parametro '%s' repetido", p);
        rt_refused(f, "PUT", cases[i].path, q, 400, msg);
        /* a malformed value */
        snprintf(q, sizeof(q), "mail=ejemplo%%40gmail.com&%s=%%ZZ", p);
        snprintf(msg, sizeof(msg), "Parametro '%s' invalido: codificacion porcentual invalida", p);
        rt_refused(f, "PUT", cases[i].path, q, 400, msg);

        /* success, by a differently-cased mail; only that field changes, and
         * other record parameters in the request are ignored */
        snprintf(q, sizeof(q), "mail=Ejemplo%%40GMAIL.com&%s=%s&mail2=x&%s=Ignorado", p,
                 cases[i].good_enc, cases[i].field == CLIENT_NOMBRE ? "apellidos" : "nombre");
        assert_int_equal(rt_req(f, "PUT", cases[i].path, q), 200);
        snprintf(body, sizeof(body), "{\"Resultado\":\"%s\"}", cases[i].done);
        rt_expect_body(f, body);
        rt_get_client(f, "ejemplo@gmail.com", &after);
        for (int k = 0; k < CLIENT_NFIELDS; k++) {
            const char *want = k == (int)cases[i].field
                                   ? cases[i].good
                                   : client_get(&before, (enum client_field)k);
            assert_string_equal(client_get(&after, (enum client_field)k), want);
        }
        assert_int_equal(rt_count(f), 1);
    }
    /* and /cliente shows the result */
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    rt_expect_body(f, "{\"ejemplo@gmail.com\":{\"nombre\":\"Jes\xc3\xbas Mar\xc3\xad" "a\","
                   "\"apellidos\":\"Mesa G.\",\"mail\":\"ejemplo@gmail.com\","
                   "\"fecha_nacimiento\":\"1996-06-29\",\"direccion\":\"Calle Nueva 2\"}}");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, rt_setup, rt_teardown)
    const struct CMUnitTest tests[] = {
        T(test_aniadir),
        T(test_aniadir_form_body),
        T(test_aniadir_missing),
        T(test_aniadir_invalid),
        T(test_aniadir_duplicate),
        T(test_refusals_before_handler),
        T(test_eliminar),
        T(test_setters),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
