/* test_route_table.c - the route table: unknown paths, wrong methods, the
 * Allow header, HEAD, and the index. */
#include "route_fx.h"

#include <stdio.h>
#include <string.h>

static void test_index(void **state)
{
    struct fx *f = *state;
    static const char want[] =
        "{\"status\":\"OK\",\"ejemplo\":{\"ruta\":\"/cliente?mail=ejemplo@gmail.com\","
        "\"valor\":{\"ejemplo@gmail.com\":{\"Apellidos\":\"Mesa Gonzalez\","
        "\"Direccion\":\"Calle Paseo Moreras 39\",\"Fecha de nacimiento\":"
        "\"29/06/1996\",\"Mail\":\"ejemplo@gmail.com\",\"Nombre\":\"Jesus\"}}}}";
    char v[32], len[32];

    assert_int_equal(rt_req(f, "GET", "/", NULL), 200);
    rt_expect_body(f, want);
    assert_int_equal(rt_req(f, "HEAD", "/", NULL), 200);
    snprintf(len, sizeof(len), "%zu", strlen(want));
    assert_string_equal(cgi_header(&f->r, "Content-Length", v, sizeof(v)), len);

    assert_int_equal(rt_req(f, "GET", "/health", NULL), 200);
    rt_expect_body(f, "{\"status\":\"ok\"}");
    assert_int_equal(rt_req(f, "GET", "/health/ready", NULL), 200);
    rt_expect_body(f, "{\"status\":\"ok\"}");
    assert_int_equal(rt_req(f, "HEAD", "/health/ready", NULL), 200);
}

static void test_unknown_path(void **state)
{
    struct fx *f = *state;
    static const char *const paths[] = {
        "/nada", "/cliente/", "/clientes/", "/aniadir/", "/CLIENTE", "/Clientes", "",
        "//cliente", "/cliente?mail=ejemplo@gmail.com", "/setnombre", "/v2/clientes", "/health/",
        "cliente",
    };

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        rt_refused(f, "GET", paths[i], "mail=ejemplo%40gmail.com", 404, "Ruta no encontrada");
        rt_refused(f, "DELETE", paths[i], "mail=ejemplo%40gmail.com", 404, "Ruta no encontrada");
    }
    rt_refused(f, "GET", NULL, NULL, 404, "Ruta no encontrada");
    /* the path is looked at before the parameters: no 400 for an unknown path */
    rt_refused(f, "GET", "/nada", "a=%G1&a=2", 404, "Ruta no encontrada");
    /* a complete add on a trailing-slash path stores nothing */
    rt_refused(f, "POST", "/aniadir/", NEW_CLIENT, 404, "Ruta no encontrada");
    rt_refused(f, "PATCH", "/nada", NULL, 404, "Ruta no encontrada");
    /* HEAD: the headers of the error, no body */
    rt_refused(f, "HEAD", "/nada", NULL, 404, "Ruta no encontrada");
}

static void test_wrong_method(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *method, *path, *query, *allow;
    } cases[] = {
        {"PUT", "/cliente", "mail=ejemplo%40gmail.com", "GET, HEAD"},
        {"POST", "/cliente", "mail=ejemplo%40gmail.com", "GET, HEAD"},
        {"DELETE", "/clientes", NULL, "GET, HEAD"},
        {"POST", "/", NULL, "GET, HEAD"},
        {"PUT", "/health", NULL, "GET, HEAD"},
        {"GET", "/aniadir", NEW_CLIENT, "POST"},
        {"PUT", "/aniadir", NEW_CLIENT, "POST"},
        {"HEAD", "/aniadir", NEW_CLIENT, "POST"},
        {"GET", "/eliminar", "mail=ejemplo%40gmail.com", "DELETE"},
        {"POST", "/eliminar", "mail=ejemplo%40gmail.com", "DELETE"},
        {"GET", "/setNombre", "mail=ejemplo%40gmail.com&nombre=X", "PUT"},
        {"POST", "/setApellidos", "mail=ejemplo%40gmail.com&apellidos=X", "PUT"},
        {"DELETE", "/setFechaNacimiento", "mail=ejemplo%40gmail.com&fecha_nacimiento=1%2F1%2F2000",
         "PUT"},
        {"GET", "/setDireccion", "mail=ejemplo%40gmail.com&direccion=X", "PUT"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        rt_refused_body(f, cases[i].method, cases[i].path, cases[i].query, NULL, NULL, 405,
                     "Metodo no permitido", cases[i].allow);
    /* the method is looked at before the parameters */
    rt_refused_body(f, "GET", "/aniadir", "%", NULL, NULL, 405, "Metodo no permitido", "POST");
}

static void test_other_method_never_reaches_handler(void **state)
{
    struct fx *f = *state;
    static const char *const methods[] = {"PATCH", "get", "OPTIONS", "BREW", "", NULL};
    static const struct {
        const char *path, *query;
    } cases[] = {
        {"/", NULL},
        {"/cliente", "mail=ejemplo%40gmail.com"},
        {"/clientes", "x=1"},
        {"/aniadir", NEW_CLIENT},
        {"/eliminar", "mail=ejemplo%40gmail.com"},
        {"/setNombre", "mail=ejemplo%40gmail.com&nombre=Otro"},
        {"/setApellidos", "mail=ejemplo%40gmail.com&apellidos=Otro"},
        {"/setFechaNacimiento", "mail=ejemplo%40gmail.com&fecha_nacimiento=1%2F1%2F2000"},
        {"/setDireccion", "mail=ejemplo%40gmail.com&direccion=Otra"},
        {"/health", "x=1"},
        {"/health/ready", NULL},
    };

    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            char allow[64];
            assert_int_equal(route_allowed(cases[i].path, allow, sizeof(allow)), 1);
            rt_refused_body(f, methods[m], cases[i].path, cases[i].query, NULL, NULL, 405,
                            "Metodo no permitido", allow);
            /* not even the parameters were decoded */
            assert_int_equal(f->req->nparams, 0);
        }
    }
    /* and a malformed query does not turn it into a 400 */
    rt_refused_body(f, "PATCH", "/aniadir", "=%", NULL, NULL, 405, "Metodo no permitido", "POST");
    assert_int_equal(f->req->nparams, 0);
    assert_true(rt_has_client(f, "ejemplo@gmail.com"));
}

/* Secure by default: every route of the table says who may use it. */
static void test_every_route_declares_its_access(void **state)
{
    static const char *const known[] = {"public", "reader",       "editor",  "admin",
                                        "legacy-read", "legacy-write", "metrics"};

    (void)state;
    for (size_t i = 0; i < route_count(); i++) {
        const char *a = route_access(i);
        size_t k = 0;
        if (!a)
            fail_msg("route %s declares no access", route_path(i));
        while (k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], a) != 0)
            k++;
        assert_true(k < sizeof(known) / sizeof(known[0]));
    }
    assert_null(route_access(route_count()));
    /* the old service's routes are the legacy kinds; the health checks are open */
    for (size_t i = 0; i < route_count(); i++) {
        const char *p = route_path(i);
        if (strcmp(p, "/cliente") == 0 || strcmp(p, "/clientes") == 0)
            assert_string_equal(route_access(i), "legacy-read");
        if (strncmp(p, "/set", 4) == 0 || strcmp(p, "/aniadir") == 0 ||
            strcmp(p, "/eliminar") == 0)
            assert_string_equal(route_access(i), "legacy-write");
        if (strncmp(p, "/health", 7) == 0)
            assert_string_equal(route_access(i), "public");
        if (strcmp(p, "/metrics") == 0) /* closed unless METRICS_ACCESS opens it */
            assert_string_equal(route_access(i), "metrics");
        /* the browser pages: only the sign-in and the way there are open;
         * what changes clients needs an editor, the administration an admin */
        if (strcmp(p, "/ui/") == 0 || strcmp(p, "/ui/entrar") == 0)
            assert_string_equal(route_access(i), "public");
        else if (strcmp(p, "/ui/clientes") == 0 || strcmp(p, "/ui/cliente") == 0 ||
                 strcmp(p, "/ui/exportar") == 0 || strcmp(p, "/ui/salir") == 0)
            assert_string_equal(route_access(i), "reader");
        else if (strncmp(p, "/ui/usuarios", 12) == 0 || strncmp(p, "/ui/tokens", 10) == 0 ||
                 strcmp(p, "/ui/auditoria") == 0)
            assert_string_equal(route_access(i), "admin");
        else if (strncmp(p, "/ui/", 4) == 0)
            assert_string_equal(route_access(i), "editor");
    }
}

static void test_route_allowed(void **state)
{
    static const struct {
        const char *path, *allow;
    } cases[] = {
        {"/", "GET, HEAD"},        {"/cliente", "GET, HEAD"},     {"/clientes", "GET, HEAD"},
        {"/aniadir", "POST"},      {"/eliminar", "DELETE"},       {"/setNombre", "PUT"},
        {"/setApellidos", "PUT"},  {"/setFechaNacimiento", "PUT"}, {"/setDireccion", "PUT"},
        {"/health", "GET, HEAD"},  {"/health/ready", "GET, HEAD"}, {"/metrics", "GET, HEAD"},
        {"/_nginx_error_431", "GET, HEAD"},
        /* the browser pages: a row per method (the form and its post) */
        {"/ui/", "GET, HEAD"}, {"/ui/entrar", "GET, HEAD, POST"}, {"/ui/entrar", "GET, HEAD, POST"},
        {"/ui/salir", "POST"}, {"/ui/clientes", "GET, HEAD"}, {"/ui/cliente", "GET, HEAD"},
        {"/ui/clientes/nuevo", "GET, HEAD, POST"}, {"/ui/clientes/nuevo", "GET, HEAD, POST"},
        {"/ui/cliente/editar", "GET, HEAD, POST"}, {"/ui/cliente/editar", "GET, HEAD, POST"},
        {"/ui/cliente/borrar", "GET, HEAD, POST"}, {"/ui/cliente/borrar", "GET, HEAD, POST"},
        {"/ui/importar", "GET, HEAD, POST"}, {"/ui/importar", "GET, HEAD, POST"},
        {"/ui/importar/confirmar", "POST"}, {"/ui/exportar", "GET, HEAD"},
        {"/ui/usuarios", "GET, HEAD, POST"}, {"/ui/usuarios", "GET, HEAD, POST"},
        {"/ui/usuarios/rol", "POST"}, {"/ui/usuarios/estado", "POST"},
        {"/ui/tokens", "GET, HEAD, POST"}, {"/ui/tokens", "GET, HEAD, POST"},
        {"/ui/tokens/revocar", "POST"}, {"/ui/auditoria", "GET, HEAD"},
        /* a row per method where their access differs; Allow is the path's */
        {"/v1/session", "POST, DELETE"}, {"/v1/session", "POST, DELETE"}, {"/v1/me", "GET, HEAD"},
        /* the API: one path may have several rows (one per role), sharing Allow */
        {"/v1/clientes", "GET, HEAD, POST, OPTIONS"},
        {"/v1/clientes", "GET, HEAD, POST, OPTIONS"},
        {"/v1/clientes.csv", "GET, HEAD, OPTIONS"},
        {"/v1/clientes/import", "POST, OPTIONS"},
        {"/v1/clientes/{mail}", "GET, HEAD, PUT, DELETE, PATCH, OPTIONS"},
        {"/v1/clientes/{mail}", "GET, HEAD, PUT, DELETE, PATCH, OPTIONS"},
        {"/v1/clientes/{mail}", "GET, HEAD, PUT, DELETE, PATCH, OPTIONS"},
        {"/v1/clientes/{mail}/history", "GET, HEAD, OPTIONS"},
        {"/v1/clientes/{mail}/export", "GET, HEAD, OPTIONS"},
        {"/v1/audit", "GET, HEAD, OPTIONS"},
        {"/v1/openapi.json", "GET, HEAD, OPTIONS"},
    };
    char allow[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        strcpy(allow, "x");
        assert_int_equal(route_allowed(cases[i].path, allow, sizeof(allow)), 1);
        assert_string_equal(allow, cases[i].allow);
    }
    strcpy(allow, "untouched");
    assert_int_equal(route_allowed("/nada", allow, sizeof(allow)), 0);
    assert_int_equal(route_allowed("/cliente/", allow, sizeof(allow)), 0);
    assert_int_equal(route_allowed(NULL, allow, sizeof(allow)), 0);
    /* a {mail} segment is one segment, percent-encoded, never empty */
    assert_int_equal(route_allowed("/v1/clientes/", allow, sizeof(allow)), 0);
    assert_int_equal(route_allowed("/v1/clientes//history", allow, sizeof(allow)), 0);
    assert_int_equal(route_allowed("/v1/clientes/a/b@x.es", allow, sizeof(allow)), 0);
    assert_int_equal(route_allowed("/v1/clientes/a@x.es/history/", allow, sizeof(allow)), 0);
    assert_string_equal(allow, "untouched");
    /* the iteration API lists the same table, in the same words */
    assert_int_equal(route_count(), sizeof(cases) / sizeof(cases[0]));
    for (size_t i = 0; i < route_count(); i++) {
        char via_path[64];
        const char *path = route_path(i);
        char sample[128];
        const char *brace;
        assert_non_null(path);
        assert_string_equal(path, cases[i].path);
        assert_int_equal(route_allow(i, allow, sizeof(allow)), 0);
        assert_string_equal(allow, cases[i].allow);
        /* a pattern is found by a path it matches: a mail with an encoded '/' */
        if ((brace = strstr(path, "{mail}")) != NULL)
            snprintf(sample, sizeof(sample), "%.*sana%%2Fb%%40x@example.com%s",
                     (int)(brace - path), path, brace + 6);
        else
            snprintf(sample, sizeof(sample), "%s", path);
        assert_int_equal(route_allowed(sample, via_path, sizeof(via_path)), 1);
        assert_string_equal(via_path, allow);
    }
    assert_null(route_path(route_count()));
    assert_int_equal(route_allow(route_count(), allow, sizeof(allow)), -1);
    assert_int_equal(route_allow(0, allow, 4), -1); /* "GET, HEAD" does not fit */
    assert_int_equal(route_allow(0, NULL, 0), -1);
}

/* A GET or HEAD takes no body (nginx refuses one first): refused here too,
 * changing nothing, rather than read as parameters. */
static void test_body_on_get_refused(void **state)
{
    struct fx *f = *state;

    rt_refused_body(f, "GET", "/cliente", NULL, FORM_CT, "mail=ejemplo%40gmail.com", 400,
                    "Una peticion GET no admite cuerpo", NULL);
    rt_refused_body(f, "GET", "/cliente", "mail=ejemplo%40gmail.com", "text/plain", "x", 400,
                    "Una peticion GET no admite cuerpo", NULL);
    rt_refused_body(f, "HEAD", "/clientes", NULL, FORM_CT, "a=1", 400,
                    "Una peticion HEAD no admite cuerpo", NULL);
    /* DELETE takes a form body, like POST and PUT */
    assert_int_equal(rt_send(f, "DELETE", "/eliminar", NULL, FORM_CT, "mail=ejemplo%40gmail.com"),
                     200);
    assert_false(rt_has_client(f, "ejemplo@gmail.com"));
}

static void test_head(void **state)
{
    struct fx *f = *state;
    char v[32], get_len[32];

    /* HEAD /clientes: the headers of the streamed list, no body */
    assert_int_equal(rt_req(f, "HEAD", "/clientes", NULL), 200);
    assert_int_equal(f->r.body_len, 0);
    assert_null(cgi_header(&f->r, "Content-Length", v, sizeof(v)));

    /* HEAD /cliente: the Content-Length GET would send, no body */
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    assert_non_null(cgi_header(&f->r, "Content-Length", get_len, sizeof(get_len)));
    assert_int_equal(rt_req(f, "HEAD", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    assert_int_equal(f->r.body_len, 0);
    assert_string_equal(cgi_header(&f->r, "Content-Length", v, sizeof(v)), get_len);

    /* errors too: headers of the error, no body */
    assert_int_equal(rt_req(f, "HEAD", "/cliente", "mail=nadie%40x.es"), 404);
    rt_expect_error(f, 404, "El mail del cliente proporcionado no existe");
    assert_int_equal(rt_req(f, "HEAD", "/cliente", NULL), 400);
    rt_expect_error(f, 400, "Falta el parametro 'mail'");

    /* HEAD /clientes on an empty store: 404 without a body */
    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=ejemplo%40gmail.com"), 200);
    assert_int_equal(rt_req(f, "HEAD", "/clientes", NULL), 404);
    rt_expect_error(f, 404, "No existen clientes actualmente");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, rt_setup, rt_teardown)
    const struct CMUnitTest tests[] = {
        T(test_index),
        T(test_unknown_path),
        T(test_wrong_method),
        T(test_other_method_never_reaches_handler),
        cmocka_unit_test(test_route_allowed),
        cmocka_unit_test(test_every_route_declares_its_access),
        T(test_head),
        T(test_body_on_get_refused),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
