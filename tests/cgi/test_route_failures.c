/* test_route_failures.c - the routes when the store fails: locked past its
 * wait (transient: 503 + Retry-After), its file removed or replaced (an
 * operator must act: 503 without), the readiness check, the one log line a
 * failure leaves, and the cap on whole-list responses. */
#include "route_fx.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READY_GONE "Almacenamiento no disponible: el fichero de la base de datos fue borrado o " \
                   "sustituido"

/* A write of each kind on the example client (or a new one). */
static const struct {
    const char *method, *path, *query, *ctype, *body;
} writes[] = {
    {"POST", "/aniadir", NEW_CLIENT, NULL, NULL},
    {"POST", "/aniadir", NULL, FORM_CT, NEW_CLIENT},
    {"PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=Otro", NULL, NULL},
    {"DELETE", "/eliminar", "mail=ejemplo%40gmail.com", NULL, NULL},
};
#define NWRITES (sizeof(writes) / sizeof(writes[0]))

/* The store locked by another connection past busy_timeout: 503 with
 * Retry-After for every write, and nothing changes. */
static void test_busy_503(void **state)
{
    struct fx *f = *state;
    sqlite3 *other = NULL;
    char *before, *after, v[32];

    before = rt_snapshot(f);
    assert_int_equal(sqlite3_open(f->db, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

    for (size_t i = 0; i < NWRITES; i++) {
        assert_int_equal(rt_send(f, writes[i].method, writes[i].path, writes[i].query,
                                 writes[i].ctype, writes[i].body),
                         503);
        rt_expect_error(f, 503, RT_UNAVAILABLE);
        assert_string_equal(cgi_header(&f->r, "Retry-After", v, sizeof(v)), "1");
    }
    /* validation still comes first: a bad request is a 400, not a 503 */
    assert_int_equal(rt_req(f, "POST", "/aniadir", "nombre=A"), 400);
    /* WAL: readers are not blocked by the writer */
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    rt_expect_body(f, RT_EXAMPLE_CLIENTE);
    /* a lock is not a reason to take the service out: still ready */
    assert_int_equal(rt_req(f, "GET", "/health/ready", NULL), 200);
    rt_expect_body(f, "{\"status\":\"ok\"}");

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

/* Every write refused as permanent (503 without Retry-After), nothing
 * changed; reads and liveness still answer; readiness names the reason. */
static void expect_store_lost(struct fx *f, const char *before)
{
    char *after;

    for (size_t i = 0; i < NWRITES; i++) {
        assert_int_equal(rt_send(f, writes[i].method, writes[i].path, writes[i].query,
                                 writes[i].ctype, writes[i].body),
                         503);
        rt_expect_error(f, 503, RT_STORAGE_DOWN);
    }
    after = rt_snapshot(f);
    assert_string_equal(before, after);
    free(after);
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    rt_expect_body(f, RT_EXAMPLE_CLIENTE);
    assert_int_equal(rt_req(f, "GET", "/health", NULL), 200);
    rt_expect_body(f, "{\"status\":\"ok\"}");
    assert_int_equal(rt_req(f, "GET", "/health/ready", NULL), 503);
    rt_expect_error(f, 503, READY_GONE);
    assert_int_equal(rt_req(f, "HEAD", "/health/ready", NULL), 503);
    rt_expect_error(f, 503, READY_GONE);
}

/* The database file removed under the running service: before, writes went
 * on answering 200 into an unnamed file that the next start would not see. */
static void test_removed_file_refuses_writes(void **state)
{
    struct fx *f = *state;
    char *before = rt_snapshot(f);

    assert_int_equal(rt_req(f, "GET", "/health/ready", NULL), 200);
    assert_int_equal(unlink(f->db), 0);
    expect_store_lost(f, before);
    free(before);
}

/* Another file moved over it (a restored copy, say); then the original put
 * back at its path, which the store accepts again. */
static void test_replaced_file_refuses_writes(void **state)
{
    struct fx *f = *state;
    char other[700], moved[700], url[800];
    struct store *s2;
    char *before = rt_snapshot(f);

    ts_join(other, sizeof(other), f->dir, "other.db");
    ts_join(moved, sizeof(moved), f->dir, "moved.db");
    snprintf(url, sizeof(url), "sqlite://%s", other);
    assert_int_equal(store_open(url, &s2, NULL, 0), CL_OK);
    store_close(s2);
    assert_int_equal(rename(f->db, moved), 0);
    assert_int_equal(rename(other, f->db), 0);
    expect_store_lost(f, before);
    /* the original back where it was: the same file again */
    assert_int_equal(rename(moved, f->db), 0);
    assert_int_equal(rt_req(f, "GET", "/health/ready", NULL), 200);
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    assert_true(rt_has_client(f, "ana@x.es"));
    free(before);
}

/* One line per failed request, at the error level: request id, method,
 * route, status and the library's detail, and never a value the request
 * carried (names, mails). */
static void test_failure_log_line(void **state)
{
    struct fx *f = *state;
    char *log;

    rt_capture_stderr();
    rt_req(f, "GET", "/cliente", "mail=oculto%40x.es"); /* a 404: not logged */
    assert_int_equal(unlink(f->db), 0);
    rt_req(f, "POST", "/aniadir",
           "nombre=Secreto&apellidos=Escondido&mail=oculto%40x.es&fecha_nacimiento=1%2F1%2F2000"
           "&direccion=Calle+Privada");
    rt_req(f, "PUT", "/setDireccion", "mail=oculto%40x.es&direccion=Calle+Privada");
    log = rt_captured_stderr();
    assert_non_null(strstr(log, "error: request_id=test-route method=POST route=/aniadir "
                                "status=503: storage error: sqlite: database file "));
    assert_non_null(strstr(log, "error: request_id=test-route method=PUT route=/setDireccion "
                                "status=503: storage error: "));
    assert_non_null(strstr(log, "gone since opened"));
    for (const char *p = log, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        assert_non_null(nl); /* whole lines */
    }
    assert_null(strstr(log, "Secreto"));
    assert_null(strstr(log, "Escondido"));
    assert_null(strstr(log, "oculto"));
    assert_null(strstr(log, "Privada"));
    assert_null(strstr(log, "route=/cliente "));
    free(log);
}

/* The whole-list cap: while one GET /clientes is being streamed, another
 * is refused at once (503 + Retry-After) and a lookup on another handle is
 * served; once it is done, the list is served again.  The second requests
 * are dispatched from inside the first one's write callback, i.e. while it
 * is in flight. */
struct nested {
    struct fx *f;
    struct store *other; /* a second handle, as another worker thread has */
    int calls, list_status, lookup_status;
    char list_retry[16];
    bool nested_on_other; /* the nested list on the other handle (it may run) */
    struct cgi_out out;
};

static int dispatch_into(struct store *s, struct http_request *q, const char *path,
                         const char *query, const char *authorization, struct cgi_out *o,
                         struct cgi_resp *r)
{
    struct http_response res;

    memset(q, 0, offsetof(struct http_request, params));
    q->authorization = authorization;
    q->method = HTTP_GET;
    q->method_name = "GET";
    q->path = path;
    q->query = query;
    http_set_request_id(q, "nested");
    cgi_out_reset(o);
    http_response_init(&res, cgi_out_write, o, false);
    route_dispatch(s, q, &res);
    cgi_split_response(o, r);
    return r->status;
}

static int write_and_interleave(void *ctx, const char *buf, size_t len)
{
    struct nested *n = ctx;

    if (n->calls++ == 1) { /* the first chunk of the body: the list is in flight */
        struct http_request *q = calloc(1, sizeof(*q));
        struct cgi_out o;
        struct cgi_resp r;
        assert_non_null(q);
        cgi_out_init(&o);
        n->list_status = dispatch_into(n->nested_on_other ? n->other : n->f->store, q,
                                       "/clientes", NULL, n->f->authorization, &o, &r);
        if (!cgi_header(&r, "Retry-After", n->list_retry, sizeof(n->list_retry)))
            n->list_retry[0] = '\0';
        if (n->list_status == 503)
            assert_int_equal(r.body_len, strlen("{\"mensaje\":\"" RT_UNAVAILABLE
                                                "\",\"status\":\"503\"}"));
        n->lookup_status =
            dispatch_into(n->other, q, "/cliente", "mail=ejemplo%40gmail.com",
                          n->f->authorization, &o, &r);
        cgi_out_free(&o);
        free(q);
    }
    return cgi_out_write(&n->out, buf, len);
}

static void test_whole_list_cap(void **state)
{
    struct fx *f = *state;
    struct nested n = {.f = f};
    struct http_response res;
    struct cgi_resp r;
    char url[800], *log;
    cJSON *j;

    /* enough clients for the list to go out in several chunks, written in
     * one transaction behind the worker's back */
    {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
        assert_int_equal(
            sqlite3_exec(db,
                         "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n"
                         " WHERE i < 59) INSERT INTO clients(mail, nombre, apellidos,"
                         " fecha_nacimiento, direccion) SELECT printf('lista%02d@x.es', i),"
                         " 'Nombre de prueba', 'Apellidos de prueba', '1/1/2000',"
                         " 'Una direccion de una cierta longitud, 12' FROM n",
                         NULL, NULL, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
    }
    snprintf(url, sizeof(url), "sqlite://%s", f->db);
    assert_int_equal(store_open(url, &n.other, NULL, 0), CL_OK);
    cgi_out_init(&n.out);

    memset(f->req, 0, offsetof(struct http_request, params));
    f->req->method = HTTP_GET;
    f->req->method_name = "GET";
    f->req->path = "/clientes";
    f->req->authorization = f->authorization;
    http_set_request_id(f->req, "outer");
    http_response_init(&res, write_and_interleave, &n, false);
    rt_capture_stderr();
    assert_int_equal(route_dispatch(f->store, f->req, &res), 200);
    log = rt_captured_stderr();
    assert_true(n.calls > 2);
    /* inside: the second list refused at once, the lookup served */
    assert_int_equal(n.list_status, 503);
    assert_string_equal(n.list_retry, "1");
    assert_int_equal(n.lookup_status, 200);
    /* the first list is whole */
    cgi_split_response(&n.out, &r);
    j = cJSON_ParseWithLength(r.body, r.body_len);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 61);
    cJSON_Delete(j);
    /* a refusal by the cap is not a failure: no log line */
    assert_null(strstr(log, "route=/clientes"));
    free(log);
    /* and the place is free again */
    assert_int_equal(rt_req(f, "GET", "/clientes", NULL), 200);
    assert_int_equal(rt_req(f, "GET", "/clientes", NULL), 200);

    /* three threads: two lists may run while the third serves the rest, so
     * the nested list (on the other handle, as another thread's) is served */
    route_set_threads(3);
    n.calls = 0;
    n.nested_on_other = true;
    cgi_out_reset(&n.out);
    http_response_init(&res, write_and_interleave, &n, false);
    assert_int_equal(route_dispatch(f->store, f->req, &res), 200);
    assert_int_equal(n.list_status, 200);
    assert_int_equal(n.lookup_status, 200);
    route_set_threads(1); /* back to one at a time */
    cgi_out_free(&n.out);
    store_close(n.other);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, rt_setup, rt_teardown)
    const struct CMUnitTest tests[] = {
        T(test_busy_503),
        T(test_removed_file_refuses_writes),
        T(test_replaced_file_refuses_writes),
        T(test_failure_log_line),
        T(test_whole_list_cap),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
