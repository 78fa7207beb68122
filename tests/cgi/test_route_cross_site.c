/* test_route_cross_site.c - state-changing requests sent by pages of other
 * sites are refused (403) before anything runs; reads, same-origin pages
 * and clients that send no such headers (curl, scripts) are served. */
#include "route_fx.h"

#include <stdio.h>
#include <string.h>

#define REFUSED "Peticion de otro sitio no permitida"

/* A write of each kind, each of which would succeed from curl. */
static const struct {
    const char *method, *path, *query;
} writes[] = {
    {"POST", "/aniadir", NEW_CLIENT},
    {"PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Pirata"},
    {"DELETE", "/eliminar", "mail=ejemplo%40gmail.com"},
};
#define NWRITES (sizeof(writes) / sizeof(writes[0]))

static void set_from(struct fx *f, const char *sec_fetch_site, const char *origin)
{
    f->sec_fetch_site = sec_fetch_site;
    f->origin = origin;
    f->host = "clientes.example.com";
    f->scheme = "https";
}

static void expect_all_refused(struct fx *f)
{
    for (size_t i = 0; i < NWRITES; i++)
        rt_refused(f, writes[i].method, writes[i].path, writes[i].query, 403, REFUSED);
}

/* Sec-Fetch-Site (every current browser sends it): cross-site and
 * same-site pages are refused, whatever the Origin says. */
static void test_fetch_metadata_refused(void **state)
{
    struct fx *f = *state;
    static const char *const sites[] = {"cross-site", "same-site", "Cross-Site"};

    for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
        set_from(f, sites[i], NULL);
        expect_all_refused(f);
        set_from(f, sites[i], "https://clientes.example.com");
        expect_all_refused(f);
    }
    assert_false(rt_has_client(f, "ana@x.es"));
    assert_true(rt_has_client(f, "ejemplo@gmail.com"));
}

/* Without Sec-Fetch-Site (older browsers), a foreign Origin is refused:
 * another host, port or scheme, and "null" (sandboxed frames, file: pages). */
static void test_foreign_origin_refused(void **state)
{
    struct fx *f = *state;
    static const char *const origins[] = {
        "https://evil.example",
        "https://clientes.example.com.evil.example",
        "https://evil.example/https://clientes.example.com",
        "http://clientes.example.com",       /* another scheme */
        "https://clientes.example.com:8443", /* another port */
        "https://example.com",
        "null",
        "clientes.example.com",
        "https://",
    };

    for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
        set_from(f, NULL, origins[i]);
        expect_all_refused(f);
    }
    /* no Host to compare with: any Origin is foreign */
    set_from(f, NULL, "https://clientes.example.com");
    f->host = NULL;
    expect_all_refused(f);
    assert_int_equal(rt_count(f), 1);
}

/* The page's own origin, in the spellings a browser and a proxy may use. */
static void test_same_origin_served(void **state)
{
    struct fx *f = *state;

    set_from(f, "same-origin", "https://clientes.example.com");
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=ana%40x.es"), 200);
    /* Sec-Fetch-Site decides: "same-origin" even with an odd Origin */
    set_from(f, "same-origin", "https://elsewhere.example");
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=ana%40x.es"), 200);
    /* "none": typed by the user, a bookmark */
    set_from(f, "none", NULL);
    assert_int_equal(rt_req(f, "PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Uno"), 200);
    /* Origin only: case, and the default port on either side */
    set_from(f, NULL, "HTTPS://Clientes.Example.COM");
    assert_int_equal(rt_req(f, "PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Dos"), 200);
    set_from(f, NULL, "https://clientes.example.com:443");
    assert_int_equal(rt_req(f, "PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Tres"), 200);
    set_from(f, NULL, "https://clientes.example.com");
    f->host = "clientes.example.com:443";
    assert_int_equal(rt_req(f, "PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Cuatro"),
                     200);
    /* plain http on a port, without a proxy's scheme: nginx's own */
    set_from(f, NULL, "http://127.0.0.1:8080");
    f->host = "127.0.0.1:8080";
    f->scheme = NULL;
    assert_int_equal(rt_req(f, "PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Cinco"),
                     200);
    set_from(f, NULL, "http://localhost");
    f->host = "localhost:80";
    f->scheme = "http";
    assert_int_equal(rt_req(f, "PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Seis"),
                     200);
    /* an unknown Sec-Fetch-Site value falls back to the Origin */
    set_from(f, "nonsense", "https://evil.example");
    expect_all_refused(f);
    set_from(f, "nonsense", "https://clientes.example.com");
    assert_int_equal(rt_req(f, "PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Siete"),
                     200);
}

/* curl and scripts send neither header: served as before. */
static void test_no_headers_served(void **state)
{
    struct fx *f = *state;

    set_from(f, NULL, NULL);
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    assert_int_equal(rt_req(f, "PUT", "/setNombre", "mail=ana%40x.es&nombre=Ana2"), 200);
    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=ana%40x.es"), 200);
    f->host = NULL;
    f->scheme = NULL;
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    /* empty headers count as absent */
    set_from(f, "", "");
    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=ana%40x.es"), 200);
}

/* Reads change nothing: another site may link to them. */
static void test_reads_from_anywhere(void **state)
{
    struct fx *f = *state;

    set_from(f, "cross-site", "https://evil.example");
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    rt_expect_body(f, RT_EXAMPLE_CLIENTE);
    assert_int_equal(rt_req(f, "GET", "/clientes", NULL), 200);
    assert_int_equal(rt_req(f, "HEAD", "/", NULL), 200);
    assert_int_equal(rt_req(f, "GET", "/health", NULL), 200);
}

/* The order of the checks: an unknown path is a 404 and a wrong method a
 * 405 as before; a cross-site write is refused before its parameters are
 * even decoded. */
static void test_refused_before_anything_runs(void **state)
{
    struct fx *f = *state;

    set_from(f, "cross-site", NULL);
    rt_refused(f, "POST", "/nada", NEW_CLIENT, 404, "Ruta no encontrada");
    rt_refused_body(f, "POST", "/cliente", NULL, NULL, NULL, 405, "Metodo no permitido",
                    "GET, HEAD");
    rt_refused(f, "POST", "/aniadir", "%ZZ&nombre=1&nombre=2", 403, REFUSED);
    assert_int_equal(f->req->nparams, 0);
    rt_refused_body(f, "POST", "/aniadir", NULL, FORM_CT, NEW_CLIENT, 403, REFUSED, NULL);
    assert_int_equal(f->req->nparams, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, rt_setup, rt_teardown)
    const struct CMUnitTest tests[] = {
        T(test_fetch_metadata_refused),      T(test_foreign_origin_refused),
        T(test_same_origin_served),          T(test_no_headers_served),
        T(test_reads_from_anywhere),         T(test_refused_before_anything_runs),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
