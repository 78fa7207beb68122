/* test_ui.c - the browser pages through the real dispatcher and handlers
 * (cgi/ui.c) over a real SQLite store, without a socket: sessions as a
 * browser sends them, every page answered as HTML, a client made of hostile
 * values shown as text on every page that shows it, keyset pages without
 * duplicate or gap in both directions, the import's preview kept nothing,
 * the export for spreadsheets, and what each page costs the worker. */
#include "route_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "utf8.h"

#define PW "una frase de paso bastante larga"
#define HTML_CT "text/html; charset=utf-8"

/* A signed-in person: the cookie header and the session's CSRF token. */
struct who {
    char cookie[128];
    char csrf[SECRET_DIGEST_LEN + 1];
};

struct ui_fx {
    struct fx *f;
    struct who reader, editor, admin;
};

static void sign_in(struct fx *f, const char *name, enum role role, struct who *w)
{
    struct accounts_config cfg;
    struct accounts_session se;
    const char *reason = NULL;
    long retry = 0;

    accounts_config_default(&cfg);
    if (accounts_user_add(f->store, &cfg, name, role, PW, strlen(PW), &reason))
        fail_msg("user %s: %s", name, reason ? reason : store_errmsg(f->store));
    assert_int_equal(accounts_login(f->store, &cfg, name, PW, strlen(PW), &se, &retry), CL_OK);
    snprintf(w->cookie, sizeof(w->cookie), AUTH_COOKIE "=%s", se.id);
    snprintf(w->csrf, sizeof(w->csrf), "%s", se.who.csrf);
}

static int setup(void **state)
{
    struct ui_fx *u = calloc(1, sizeof(*u));
    void *inner;

    if (!u || rt_setup(&inner))
        return -1;
    u->f = inner;
    sign_in(u->f, "lector", ROLE_READER, &u->reader);
    sign_in(u->f, "editora", ROLE_EDITOR, &u->editor);
    sign_in(u->f, "jefa", ROLE_ADMIN, &u->admin);
    *state = u;
    return 0;
}

static int teardown(void **state)
{
    struct ui_fx *u = *state;
    void *inner = u->f;
    int rc = rt_teardown(&inner);

    free(u);
    return rc;
}

/* One request as a browser on this site sends it, by `w` (NULL: nobody);
 * a body is a form.  Returns the status; f->r holds the response. */
static int ui_send(struct fx *f, const struct who *w, const char *method, const char *path,
                   const char *query, const char *ctype, const char *body)
{
    struct http_request *q = f->req;
    struct http_response res;
    int st;

    memset(q, 0, sizeof(*q));
    q->method_name = method;
    q->method = http_method_parse(method);
    q->path = path;
    q->query = query;
    q->content_type = body ? (ctype ? ctype : FORM_CT) : NULL;
    q->body = body;
    q->body_len = body ? strlen(body) : 0;
    q->sec_fetch_site = "same-origin";
    q->host = "127.0.0.1:8080";
    q->scheme = "http";
    q->cookie = w ? w->cookie : NULL;
    q->accept = "text/html,application/xhtml+xml,*/*;q=0.8";
    q->client_addr = "192.0.2.9";
    http_set_request_id(q, "test-ui");
    cgi_out_reset(&f->out);
    http_response_init(&res, cgi_out_write, &f->out, q->method == HTTP_HEAD);
    st = route_dispatch(f->store, q, &res);
    assert_int_equal(st, res.status);
    cgi_split_response(&f->out, &f->r);
    return st;
}

static int ui_get(struct fx *f, const struct who *w, const char *path, const char *query)
{
    return ui_send(f, w, "GET", path, query, NULL, NULL);
}

/* The last response is a page: HTML, a whole document, valid UTF-8. */
static const char *expect_page(struct fx *f, int status)
{
    char v[128];

    if (f->r.status != status)
        fail_msg("status %d, want %d: %.*s", f->r.status, status, (int)f->r.body_len, f->r.body);
    assert_string_equal(cgi_header(&f->r, "Content-Type", v, sizeof(v)), HTML_CT);
    assert_true(f->r.body_len > 32);
    assert_memory_equal(f->r.body, "<!doctype html>\n<html lang=\"es\">", 32);
    assert_true(f->r.body_len > 9 &&
                memcmp(f->r.body + f->r.body_len - 8, "</html>\n", 8) == 0);
    assert_true(utf8_valid((const unsigned char *)f->r.body, f->r.body_len));
    return f->r.body;
}

static bool has(const struct fx *f, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; n <= f->r.body_len && i + n <= f->r.body_len; i++)
        if (memcmp(f->r.body + i, s, n) == 0)
            return true;
    return false;
}

static void expect_redirect(struct fx *f, int st, const char *location)
{
    char v[512];

    assert_int_equal(st, 303);
    assert_string_equal(cgi_header(&f->r, "Location", v, sizeof(v)), location);
    assert_int_equal(f->r.body_len, 0);
}

/* application/x-www-form-urlencoded of one value (a test's own values). */
static void enc(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '-' || c == '_') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
}

static void client_form(char *out, size_t cap, const char *csrf, const char *nombre,
                        const char *apellidos, const char *mail, const char *fecha,
                        const char *direccion)
{
    char a[1200], b[1200], c[800], d[64], e[1200];

    enc(nombre, a, sizeof(a));
    enc(apellidos, b, sizeof(b));
    enc(mail, c, sizeof(c));
    enc(fecha, d, sizeof(d));
    enc(direccion, e, sizeof(e));
    int n = snprintf(out, cap,
                     "csrf_token=%s&nombre=%s&apellidos=%s&mail=%s&fecha_nacimiento=%s"
                     "&direccion=%s", csrf, a, b, c, d, e);
    assert_true(n > 0 && (size_t)n < cap);
}

/* ---- the pages ------------------------------------------------------------ */

static void test_every_page_is_html(void **state)
{
    struct ui_fx *u = *state;
    struct fx *f = u->f;
    static const struct {
        const char *path, *query, *title;
    } pages[] = {
        {"/ui/clientes", NULL, "<title>Clientes · clientes</title>"},
        {"/ui/clientes", "q=jes%C3%BAs", "<title>Búsqueda de clientes · clientes</title>"},
        {"/ui/cliente", "mail=ejemplo%40gmail.com", "<title>Jesus Mesa Gonzalez · clientes</title>"},
        {"/ui/clientes/nuevo", NULL, "<title>Nuevo cliente · clientes</title>"},
        {"/ui/cliente/editar", "mail=ejemplo%40gmail.com", "<title>Editar cliente · clientes</title>"},
        {"/ui/cliente/borrar", "mail=ejemplo%40gmail.com", "<title>Borrar cliente · clientes</title>"},
        {"/ui/importar", NULL, "<title>Importar clientes · clientes</title>"},
        {"/ui/usuarios", NULL, "<title>Usuarios · clientes</title>"},
        {"/ui/tokens", NULL, "<title>Tokens · clientes</title>"},
        {"/ui/auditoria", NULL, "<title>Auditoría · clientes</title>"},
    };

    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        ui_get(f, &u->admin, pages[i].path, pages[i].query);
        expect_page(f, 200);
        if (!has(f, pages[i].title))
            fail_msg("%s: no %s", pages[i].path, pages[i].title);
        /* the session's forms carry its token in the field the dispatcher reads */
        char field[128];
        snprintf(field, sizeof(field), "name=\"" AUTH_CSRF_FIELD "\" value=\"%s\"", u->admin.csrf);
        assert_true(has(f, field));
    }
    /* the sign-in page is for nobody in particular; HEAD has no body */
    ui_get(f, NULL, "/ui/entrar", NULL);
    expect_page(f, 200);
    assert_true(has(f, "<form method=\"post\" action=\"/ui/entrar\" novalidate>"));
    assert_false(has(f, "Todavía no hay ningún usuario")); /* there are users */
    ui_send(f, &u->reader, "HEAD", "/ui/clientes", NULL, NULL, NULL);
    assert_int_equal(f->r.status, 200);
    assert_int_equal(f->r.body_len, 0);
    /* an unknown page under /ui/ is a page too */
    ui_get(f, &u->reader, "/ui/nada", NULL);
    expect_page(f, 404);
    assert_true(has(f, "<h1>Página no encontrada</h1>"));
}

static void test_nobody_is_sent_to_sign_in(void **state)
{
    struct ui_fx *u = *state;
    struct fx *f = u->f;

    expect_redirect(f, ui_get(f, NULL, "/ui/cliente", "mail=ejemplo%40gmail.com"),
                    "/ui/entrar?volver=%2Fui%2Fcliente%3Fmail%3Dejemplo%2540gmail.com");
    /* a session that is over: its cookie is cleared, and the person told */
    struct who gone = {AUTH_COOKIE "=0123456789012345678901234567890123456789012345678901234567890123",
                       ""};
    expect_redirect(f, ui_get(f, &gone, "/ui/clientes", NULL), "/ui/entrar?volver=%2Fui%2Fclientes");
    assert_true(strstr(f->r.headers, AUTH_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"));
    assert_true(strstr(f->r.headers, "__Host-aviso=sesion-caducada"));
    /* a post is sent to the sign-in page itself, never back to a post */
    expect_redirect(f, ui_send(f, NULL, "POST", "/ui/clientes/nuevo", NULL, NULL, "nombre=x"),
                    "/ui/entrar");
}

static void test_sign_in_and_out(void **state)
{
    struct ui_fx *u = *state;
    struct fx *f = u->f;
    struct who w;
    char v[256];
    const char *p;

    ui_send(f, NULL, "POST", "/ui/entrar", NULL, NULL, "usuario=lector&clave=otra+cosa+larga+mala");
    expect_page(f, 401);
    assert_true(has(f, "Usuario o contraseña incorrectos"));
    assert_true(has(f, "value=\"lector\""));
    assert_null(cgi_header(&f->r, "Set-Cookie", v, sizeof(v)));
    /* back to where the person was going, but only to a page of ours */
    expect_redirect(f, ui_send(f, NULL, "POST", "/ui/entrar", NULL, NULL,
                               "usuario=lector&clave=una+frase+de+paso+bastante+larga"
                               "&volver=%2Fui%2Fcliente%3Fmail%3Dejemplo%2540gmail.com"),
                    "/ui/cliente?mail=ejemplo%40gmail.com");
    expect_redirect(f, ui_send(f, NULL, "POST", "/ui/entrar", NULL, NULL,
                               "usuario=lector&clave=una+frase+de+paso+bastante+larga"
                               "&volver=https%3A%2F%2Fevil.example%2F"),
                    "/ui/clientes");
    expect_redirect(f, ui_send(f, NULL, "POST", "/ui/entrar", NULL, NULL,
                               "usuario=lector&clave=una+frase+de+paso+bastante+larga"
                               "&volver=%2Fui%2F%2Fevil.example"),
                    "/ui/clientes");
    assert_non_null(cgi_header(&f->r, "Set-Cookie", v, sizeof(v)));
    assert_int_equal(strncmp(v, AUTH_COOKIE "=", sizeof(AUTH_COOKIE)), 0);
    p = strchr(v, ';');
    snprintf(w.cookie, sizeof(w.cookie), "%.*s", (int)(p - v), v);
    ui_get(f, &w, "/ui/clientes", NULL);
    expect_page(f, 200);
    p = strstr(f->r.body, "name=\"csrf_token\" value=\"");
    assert_non_null(p);
    snprintf(w.csrf, sizeof(w.csrf), "%.64s", p + 25);
    /* out: a post with the token; then the cookie opens nothing */
    char body[128];
    snprintf(body, sizeof(body), "csrf_token=%s", w.csrf);
    expect_redirect(f, ui_send(f, &w, "POST", "/ui/salir", NULL, NULL, body), "/ui/entrar");
    assert_true(strstr(f->r.headers, "__Host-aviso=sesion-cerrada"));
    assert_int_equal(ui_get(f, &w, "/ui/clientes", NULL), 303);
}

/* Markup of a document without its text and values (as test_page.c). */
static char *skeleton(const char *doc, size_t len)
{
    char *out = malloc(len + 1);
    size_t n = 0;
    const char *p = doc, *end = doc + len;

    assert_non_null(out);
    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        for (p++; p < end && *p != '>';) {
            if (*p == '"') {
                const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
                assert_non_null(q);
                p = q + 1;
                continue;
            }
            out[n++] = *p++;
        }
        out[n++] = '\n';
    }
    out[n] = '\0';
    return out;
}

/* A client made of values that would break out of the markup: every page
 * that shows it has the markup it has for an ordinary client. */
static void test_hostile_client_on_every_page(void **state)
{
    static const char *const nombre[2] = {"Ana", "<script>alert(1)</script>"};
    static const char *const apellidos[2] = {"Ruiz", "\"><svg onload=alert(1)>"};
    static const char *const mail[2] = {"ana@example.es", "o'n&x{}=y@example.es"};
    static const char *const direccion[2] = {"Calle 1", "' onmouseover='alert(1)' x='&amp;"};
    static const char *const mail_q[2] = {"ana%40example.es", "o%27n%26x%7B%7D%3Dy%40example.es"};
    struct ui_fx *u;
    struct fx *f;
    char body[2048], query[256], *shapes[2][6];
    void *second;

    for (int k = 0; k < 2; k++) {
        /* each in a store of its own: the pages list the same number of rows */
        if (k == 0) {
            u = *state;
        } else {
            assert_int_equal(setup(&second), 0);
            u = second;
        }
        f = u->f;
        client_form(body, sizeof(body), u->editor.csrf, nombre[k], apellidos[k], mail[k],
                    "1990-05-17", direccion[k]);
        assert_int_equal(ui_send(f, &u->editor, "POST", "/ui/clientes/nuevo", NULL, NULL, body),
                         303);
        /* an edit leaves a history entry with the values before and after */
        struct client c;
        struct client_meta m;
        struct manager_reject rej;
        assert_int_equal(manager_get_meta(f->store, mail[k], &c, &m, &rej), CL_OK);
        snprintf(query, sizeof(query), "%lld", m.version);
        char form[3000];
        client_form(form, sizeof(form), u->editor.csrf, direccion[k], nombre[k], mail[k],
                    "1990-05-18", apellidos[k]);
        int len = snprintf(body, sizeof(body), "%s&version=%s", form, query);
        assert_true(len > 0 && (size_t)len < sizeof(body));
        assert_int_equal(ui_send(f, &u->editor, "POST", "/ui/cliente/editar", NULL, NULL, body),
                         303);
        const char *pages[6][2] = {{"/ui/cliente", NULL},       {"/ui/cliente/editar", NULL},
                                   {"/ui/cliente/borrar", NULL}, {"/ui/clientes", NULL},
                                   {"/ui/auditoria", NULL},      {"/ui/clientes", NULL}};
        for (int p = 0; p < 6; p++) {
            if (p < 3)
                snprintf(query, sizeof(query), "mail=%s", mail_q[k]);
            else if (p == 3)
                snprintf(query, sizeof(query), "orden=mail&q=%s", mail_q[k]);
            else if (p == 4)
                snprintf(query, sizeof(query), "accion=client.update");
            else /* a search for the values themselves, echoed */
                snprintf(query, sizeof(query), "q=%%3Cscript%%3E%s", k ? "%22%3E%3Csvg%3E" : "ab");
            ui_get(f, &u->admin, pages[p][0], query);
            expect_page(f, 200);
            shapes[k][p] = skeleton(f->r.body, f->r.body_len);
            if (k == 1) {
                assert_false(has(f, "<script>alert"));
                assert_false(has(f, "<svg"));
                assert_false(has(f, "onmouseover='"));
            }
        }
    }
    assert_int_equal(teardown(&second), 0);
    for (int p = 0; p < 6; p++) {
        if (strcmp(shapes[0][p], shapes[1][p]) != 0)
            fail_msg("page %d: the hostile values changed the markup\n%s\n----\n%s", p,
                     shapes[0][p], shapes[1][p]);
        free(shapes[0][p]);
        free(shapes[1][p]);
    }
}

/* Input the rules refuse comes back in the form with its message; a bidi
 * override in it is shown replaced, never as it is. */
static void test_refused_input_kept(void **state)
{
    struct ui_fx *u = *state;
    struct fx *f = u->f;
    char body[2048];
    long long before = rt_count(f);

    client_form(body, sizeof(body), u->editor.csrf, "abc\xe2\x80\xae" "exe", "",
                "no es un correo", "2090-01-01", "Calle 1");
    ui_send(f, &u->editor, "POST", "/ui/clientes/nuevo", NULL, NULL, body);
    expect_page(f, 422);
    assert_true(has(f, "<title>Error: Nuevo cliente · clientes</title>"));
    assert_true(has(f, "id=\"nombre-error\""));
    assert_true(has(f, "value=\"abc\xef\xbf\xbd" "exe\""));
    assert_false(has(f, "\xe2\x80\xae"));
    assert_true(has(f, "Escriba los apellidos"));
    assert_true(has(f, "La fecha de nacimiento no puede ser posterior a hoy"));
    assert_true(has(f, "value=\"2090-01-01\""));
    assert_true(has(f, "aria-describedby=\"mail-ayuda mail-error\" aria-invalid=\"true\""));
    assert_int_equal(rt_count(f), before);
}

/* Pages of 20 over 47 clients, every order, forwards then backwards: each
 * client once, in order, and the way back gives the same pages. */
static void test_keyset_pages(void **state)
{
    static const char *const orders[] = {"nombre", "apellidos", "mail", "fecha", "modificado"};
    struct ui_fx *u = *state;
    struct fx *f = u->f;
    char body[2048], name[64], mail[64], date[16], query[512];

    for (int i = 0; i < 46; i++) { /* and the example client: 47 */
        snprintf(name, sizeof(name), "%s%02d", i % 2 ? "Ñu" : "nu", 46 - i);
        snprintf(mail, sizeof(mail), "p%02d@example.es", i);
        snprintf(date, sizeof(date), "19%02d-01-%02d", 50 + i % 7, 1 + i % 28);
        client_form(body, sizeof(body), u->editor.csrf, name, "Apellido", mail, date, "C");
        assert_int_equal(ui_send(f, &u->editor, "POST", "/ui/clientes/nuevo", NULL, NULL, body),
                         303);
    }
    for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
        for (int desc = 0; desc < 2; desc++) {
            char *pages[3] = {NULL, NULL, NULL};
            char cursor[400] = "";
            int seen = 0;
            for (int p = 0; p < 3; p++) {
                snprintf(query, sizeof(query), "orden=%s%s%s%s", orders[o], desc ? "&desc=1" : "",
                         cursor[0] ? "&despues=" : "", cursor);
                ui_get(f, &u->reader, "/ui/clientes", query);
                expect_page(f, 200);
                assert_true(has(f, "47 clientes"));
                pages[p] = strndup(strstr(f->r.body, "<tbody>"),
                                   (size_t)(strstr(f->r.body, "</tbody>") - strstr(f->r.body, "<tbody>")));
                for (const char *r = pages[p]; (r = strstr(r, "<tr>")); r++)
                    seen++;
                const char *next = strstr(f->r.body, "rel=\"next\" href=\"");
                assert_true((p < 2) == (next != NULL));
                assert_true((p > 0) == has(f, "rel=\"prev\""));
                if (next) {
                    const char *c = strstr(next, "despues=") + 8;
                    snprintf(cursor, sizeof(cursor), "%.*s", (int)strcspn(c, "\"&"), c);
                }
            }
            assert_int_equal(seen, 47);
            /* back from the last page: the middle one, then the first */
            for (int p = 2; p > 0; p--) {
                ui_get(f, &u->reader, "/ui/clientes", query);
                const char *prev = strstr(f->r.body, "rel=\"prev\" href=\"");
                assert_non_null(prev);
                const char *c = strstr(prev, "antes=") + 6;
                snprintf(cursor, sizeof(cursor), "%.*s", (int)strcspn(c, "\"&"), c);
                snprintf(query, sizeof(query), "orden=%s%s&antes=%s", orders[o],
                         desc ? "&desc=1" : "", cursor);
                ui_get(f, &u->reader, "/ui/clientes", query);
                expect_page(f, 200);
                char *got = strndup(strstr(f->r.body, "<tbody>"),
                                    (size_t)(strstr(f->r.body, "</tbody>") - strstr(f->r.body, "<tbody>")));
                assert_string_equal(got, pages[p - 1]);
                free(got);
            }
            for (int p = 0; p < 3; p++)
                free(pages[p]);
        }
    }
    /* a cursor made up, or made for another order, is refused */
    ui_get(f, &u->reader, "/ui/clientes", "despues=%3Cscript%3E");
    expect_page(f, 400);
    ui_get(f, &u->reader, "/ui/clientes", "orden=nombre");
    const char *next = strstr(strstr(f->r.body, "rel=\"next\" href=\""), "despues=") + 8;
    char other[512];
    snprintf(other, sizeof(other), "orden=mail&despues=%.*s", (int)strcspn(next, "\"&"), next);
    ui_get(f, &u->reader, "/ui/clientes", other);
    expect_page(f, 400);
    snprintf(other, sizeof(other), "orden=nombre&desc=1&despues=%.*s", (int)strcspn(next, "\"&"),
             next);
    ui_get(f, &u->reader, "/ui/clientes", other);
    expect_page(f, 400);
    ui_get(f, &u->reader, "/ui/clientes", "orden=direccion");
    expect_page(f, 400);
}

/* The preview runs the import and keeps nothing; the confirmation keeps the
 * valid lines, in one go. */
static void test_import(void **state)
{
    struct ui_fx *u = *state;
    struct fx *f = u->f;
    static const char csv[] = "nombre,apellidos,mail,fecha_nacimiento,direccion\r\n"
                              "Ana,L\xc3\xb3pez,ana.imp@example.es,8/09/1978,Calle 1\r\n"
                              "Bad,Date,bad@example.es,31/02/1990,Calle 2\r\n"
                              "Dup,Ejemplo,EJEMPLO@gmail.com,1990-01-01,Calle 3\r\n"
                              "Eva,Ruiz,eva.imp@example.es,1990-01-01,\"Calle 4, 2\xc2\xba\"\r\n";
    char body[4096], query[128], *carry;
    const char *b = "----xyz";
    long long before = rt_count(f);

    snprintf(query, sizeof(query), "csrf_token=%s", u->editor.csrf);
    snprintf(body, sizeof(body),
             "--%s\r\nContent-Disposition: form-data; name=\"fichero\"; filename=\"c.csv\"\r\n"
             "Content-Type: text/csv\r\n\r\n%s\r\n--%s\r\nContent-Disposition: form-data; "
             "name=\"texto\"\r\n\r\n\r\n--%s--\r\n", b, csv, b, b);
    ui_send(f, &u->editor, "POST", "/ui/importar", query, "multipart/form-data; boundary=----xyz",
            body);
    expect_page(f, 200);
    assert_true(has(f, "Se crearán 2 clientes. 2 líneas tienen errores y no se importarán."));
    assert_true(has(f, "Esa fecha no existe en el calendario"));
    assert_true(has(f, "Ya hay un cliente con ese correo electrónico"));
    assert_int_equal(rt_count(f), before); /* the preview kept nothing */
    /* the confirmation carries the file as sent */
    const char *c = strstr(f->r.body, "name=\"base64\" value=\"");
    assert_non_null(c);
    c += 21;
    carry = strndup(c, strcspn(c, "\""));
    snprintf(body, sizeof(body),
             "--%s\r\nContent-Disposition: form-data; name=\"base64\"\r\n\r\n%s\r\n--%s--\r\n", b,
             carry, b);
    free(carry);
    expect_redirect(f, ui_send(f, &u->editor, "POST", "/ui/importar/confirmar", query,
                               "multipart/form-data; boundary=----xyz", body),
                    "/ui/clientes");
    assert_int_equal(rt_count(f), before + 2);
    /* a file the import cannot read says why */
    snprintf(body, sizeof(body),
             "--%s\r\nContent-Disposition: form-data; name=\"texto\"\r\n\r\nuno,dos\r\n1,2\r\n"
             "--%s--\r\n", b, b);
    ui_send(f, &u->editor, "POST", "/ui/importar", query, "multipart/form-data; boundary=----xyz",
            body);
    expect_page(f, 422);
    assert_true(has(f, "«uno» no es ninguna de"));
    /* a file larger than the worker reads before routing is read by the
     * handler; one larger than a browser's import takes is refused at the
     * preview, saying so */
    for (int large = 0; large < 2; large++) {
        size_t cap = large ? 1100 * 1024 : 300 * 1024, n;
        int rows = 0;
        char *big = malloc(cap + 256);
        assert_non_null(big);
        n = (size_t)snprintf(big, cap, "--%s\r\nContent-Disposition: form-data; name=\"fichero\"; "
                             "filename=\"g.csv\"\r\n\r\nnombre,apellidos,mail,fecha_nacimiento,"
                             "direccion\r\n", b);
        for (; n + 100 < cap; rows++)
            n += (size_t)snprintf(big + n, cap + 256 - n,
                                  "Ana,Ruiz,grande%d@example.es,1990-01-01,Calle Mayor %d\r\n", rows,
                                  rows);
        snprintf(big + n, cap + 256 - n, "\r\n--%s--\r\n", b);
        ui_send(f, &u->editor, "POST", "/ui/importar", query,
                "multipart/form-data; boundary=----xyz", big);
        free(big);
        if (large) {
            expect_page(f, 413);
            assert_true(has(f, "demasiado grande para importarlo desde el navegador"));
        } else {
            char want[64];
            expect_page(f, 200);
            snprintf(want, sizeof(want), "Se crearán %d clientes.", rows);
            assert_true(has(f, want));
            snprintf(want, sizeof(want), "… y %d más.", rows - 50);
            assert_true(has(f, want));
        }
    }
    assert_int_equal(rt_count(f), before + 2);
    /* without the CSRF token in the action: refused before the body is read */
    ui_send(f, &u->editor, "POST", "/ui/importar", NULL, "multipart/form-data; boundary=----xyz",
            body);
    expect_page(f, 403);
}

/* The export: the search, as a spreadsheet reads it (UTF-8 with its mark,
 * ';'), formulas neutralised. */
static void test_export(void **state)
{
    struct ui_fx *u = *state;
    struct fx *f = u->f;
    char body[2048], v[256];

    client_form(body, sizeof(body), u->editor.csrf, "=HYPERLINK(\"x\")", "P\xc3\xa9rez; Ruiz",
                "formula@example.es", "1990-01-01", "Calle 1");
    assert_int_equal(ui_send(f, &u->editor, "POST", "/ui/clientes/nuevo", NULL, NULL, body), 303);
    assert_int_equal(ui_get(f, &u->reader, "/ui/exportar", "q=perez"), 200);
    assert_string_equal(cgi_header(&f->r, "Content-Type", v, sizeof(v)),
                        "text/csv; charset=utf-8; header=present");
    assert_non_null(cgi_header(&f->r, "Content-Disposition", v, sizeof(v)));
    assert_int_equal(strncmp(v, "attachment; filename=\"clientes-", 31), 0);
    static const char want[] = "\xef\xbb\xbfnombre;apellidos;mail;fecha_nacimiento;direccion\r\n"
                               "\"'=HYPERLINK(\"\"x\"\")\";\"P\xc3\xa9rez; Ruiz\";"
                               "formula@example.es;1990-01-01;Calle 1\r\n";
    if (f->r.body_len != sizeof(want) - 1 || memcmp(f->r.body, want, f->r.body_len) != 0)
        fail_msg("export:\n%.*s", (int)f->r.body_len, f->r.body);
}

/* What each page costs the worker (printed; bin/bench measures them under
 * load next to the JSON routes). */
static void test_page_costs(void **state)
{
    struct ui_fx *u = *state;
    struct fx *f = u->f;
    static const char *const pages[][2] = {
        {"/ui/clientes", NULL},
        {"/ui/cliente", "mail=ejemplo%40gmail.com"},
        {"/ui/cliente/editar", "mail=ejemplo%40gmail.com"},
        {"/ui/auditoria", NULL},
    };
    char body[2048], mail[64];

    for (int i = 0; i < 30; i++) {
        snprintf(mail, sizeof(mail), "coste%02d@example.es", i);
        client_form(body, sizeof(body), u->editor.csrf, "Nombre", "Apellidos Largos", mail,
                    "1980-01-01", "Calle Mayor 1, 3\xc2\xba" "B");
        ui_send(f, &u->editor, "POST", "/ui/clientes/nuevo", NULL, NULL, body);
    }
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
        struct timespec t0, t1;
        int n = 200;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < n; i++)
            assert_int_equal(ui_get(f, &u->admin, pages[p][0], pages[p][1]), 200);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("  %-20s %7.1f us a page (%zu bytes)\n", pages[p][0],
               ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n /
                   1e3,
               f->r.body_len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_page_is_html, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nobody_is_sent_to_sign_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_in_and_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_client_on_every_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_input_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyset_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_costs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
