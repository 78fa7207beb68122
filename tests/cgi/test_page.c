/* test_page.c - the pages of the browser interface (cgi/page.h) rendered
 * from plain structs: every page with hostile values in every field has
 * exactly the markup it has with ordinary values (same elements, same
 * attributes: the values stayed text), no bidirectional override reaches
 * the output, and the formats people read (dates, times, actors) are right. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi_capture.h"
#include "html.h"
#include "page.h"
#include "utf8.h"

/* Everything at once: a script, an attribute break-out with both quotes, a
 * tag that closes a textarea, a bidi override and an isolate, an entity, a
 * URL scheme, a template literal. */
#define HOSTILE "Jos\xc3\xa9 <script>alert(1)</script>\"><svg onload=alert(1)>' x='y' " \
                "</textarea><img src=x onerror=alert(2)> \xe2\x80\xae" "cod.exe\xe2\x81\xa6 " \
                "&amp; javascript:alert(3) ${x} \xd8\x9c"
#define HOSTILE_MAIL "\"><svg/onload=alert(1)>'@x.com"

/* One page's rendering, with ordinary or with hostile values. */
struct values {
    const char *text, *mail, *date, *token, *cursor;
};

static const struct values ordinary = {"Ana Mar\xc3\xad" "a", "ana@example.com", "8/09/1978",
                                       "clt_0123", "abc"};
static const struct values hostile = {HOSTILE, HOSTILE_MAIL, HOSTILE, HOSTILE, HOSTILE};

#define TIME "2026-12-01T11:35:09.123Z"

static void fill_client(struct client *c, const struct values *v)
{
    client_init(c);
    snprintf(c->nombre, sizeof(c->nombre), "%s", v->text);
    snprintf(c->apellidos, sizeof(c->apellidos), "%s", v->text);
    snprintf(c->mail, sizeof(c->mail), "%s", v->mail);
    snprintf(c->fecha_nacimiento, sizeof(c->fecha_nacimiento), "%s", v->date);
    snprintf(c->direccion, sizeof(c->direccion), "%s", v->text);
}

enum which {
    P_LOGIN, P_LIST, P_LIST_EMPTY, P_LIST_NONE, P_FICHA, P_NEW, P_EDIT_CONFLICT, P_BORRAR,
    P_IMPORT, P_PREVIEW, P_USERS, P_TOKENS, P_AUDIT, P_ERROR, P_COUNT
};

static const char *const names[P_COUNT] = {
    "login", "list", "list-empty", "list-no-match", "ficha", "new", "edit-conflict", "borrar",
    "import", "preview", "users", "tokens", "audit", "error",
};

/* Renders page `w` with values v into o. */
static void render(enum which w, const struct values *v, struct cgi_out *o)
{
    struct client c[3];
    struct page_client pc[3];
    struct page_frame f = {.user = v->text, .role = ROLE_ADMIN, .csrf = v->token,
                           .nav = NAV_CLIENTES, .aviso = v->text};
    struct html h;
    const char *vals[CLIENT_NFIELDS];

    for (int i = 0; i < 3; i++) {
        fill_client(&c[i], v);
        pc[i] = (struct page_client){&c[i], TIME, TIME, 42};
    }
    for (int i = 0; i < CLIENT_NFIELDS; i++)
        vals[i] = i == CLIENT_MAIL ? v->mail : v->text;
    cgi_out_reset(o);
    html_init(&h, cgi_out_write, o);
    switch (w) {
    case P_LOGIN: {
        struct page_login l = {v->text, v->text, v->text, true};
        struct page_frame anon = {.csrf = ""};
        page_login(&h, &anon, &l);
        break;
    }
    case P_LIST:
    case P_LIST_EMPTY:
    case P_LIST_NONE: {
        struct page_list l = {.q = v->text, .sort = PSORT_NOMBRE, .desc = true, .rows = pc,
                              .nrows = 3, .total = 30, .all = 40, .next = v->cursor,
                              .prev = v->cursor};
        if (w == P_LIST_EMPTY)
            l.all = l.total = l.nrows = 0;
        if (w == P_LIST_NONE)
            l.total = l.nrows = 0;
        page_list(&h, &f, &l);
        break;
    }
    case P_FICHA: {
        struct page_event ev[2] = {
            {TIME, v->text, "client.update", {{"nombre", v->text, v->text},
                                             {"fecha_nacimiento", v->date, v->date},
                                             {"direccion", v->text, v->text}}, 3},
            {TIME, v->text, "client.create", {{"nombre", NULL, v->text}}, 1},
        };
        struct page_ficha fi = {pc[0], ev, 2, 7};
        page_ficha(&h, &f, &fi);
        break;
    }
    case P_NEW:
    case P_EDIT_CONFLICT: {
        struct page_form fo = {.edit = w == P_EDIT_CONFLICT, .error = v->text, .version = 3};
        for (int i = 0; i < CLIENT_NFIELDS; i++) {
            fo.values[i] = vals[i];
            fo.errors[i] = v->text;
            fo.mine[i] = vals[i];
        }
        if (w == P_EDIT_CONFLICT)
            fo.current = &pc[1];
        page_form(&h, &f, &fo);
        break;
    }
    case P_BORRAR:
        page_borrar(&h, &f, &pc[0]);
        break;
    case P_IMPORT: {
        struct page_import im = {.error = v->text};
        page_import(&h, &f, &im);
        break;
    }
    case P_PREVIEW: {
        struct page_import_error e[2] = {{3, "mail", v->text}, {9, NULL, v->text}};
        struct page_import im = {.carry = v->text, .rows = pc, .nrows = 3, .creates = 5,
                                 .errors = e, .nerrors = 2, .bad_lines = 4};
        page_import(&h, &f, &im);
        break;
    }
    case P_USERS: {
        struct page_user u[2] = {{v->text, ROLE_EDITOR, false, TIME},
                                 {v->mail, ROLE_READER, true, TIME}};
        struct page_users us = {u, 2, v->text, ROLE_EDITOR, v->text, v->text, v->text};
        page_users(&h, &f, &us);
        break;
    }
    case P_TOKENS: {
        const char *owners[2] = {v->text, v->mail};
        struct page_token t[2] = {{1, v->text, ROLE_READER, v->text, TIME, 1900000000, 0,
                                   1800000000, false},
                                  {2, v->text, ROLE_EDITOR, v->mail, TIME, 0, 0, 0, true}};
        struct page_tokens ts = {.tokens = t, .ntokens = 2, .now = 1700000000,
                                 .new_token = v->token, .new_label = v->text, .label = v->text,
                                 .role = ROLE_EDITOR, .owner = v->text, .expires_days = v->text,
                                 .error = v->text, .owners = owners, .nowners = 2};
        page_tokens(&h, &f, &ts);
        break;
    }
    case P_AUDIT: {
        struct page_audit_row r[2] = {
            {5, TIME, v->text, "client.update", v->mail, v->text, v->text, v->text},
            {4, TIME, v->text, "user.role", v->text, v->text, v->text, v->text},
        };
        struct page_audit a = {r, 2, v->text, "client.update", v->text, 4};
        page_audit(&h, &f, &a);
        break;
    }
    case P_ERROR:
        page_error(&h, &f, 403, v->text);
        break;
    case P_COUNT:
        break;
    }
    assert_false(h.failed);
}

/* The markup of a document, without its text and attribute values: each
 * tag's name and its attributes' names, in order.  A value that escaped
 * its context would add an element or an attribute (or swallow one). */
static char *skeleton(const char *doc)
{
    size_t cap = strlen(doc) + 1, n = 0;
    char *out = malloc(cap);
    const char *p = doc;

    assert_non_null(out);
    while ((p = strchr(p, '<')) != NULL) {
        p++;
        while (*p && *p != '>') {
            if (*p == '"' || *p == '\'') { /* a quoted value: skipped whole */
                const char *end = strchr(p + 1, *p);
                assert_non_null(end);
                p = end + 1;
                continue;
            }
            if (*p == '=') { /* an unquoted value would be skipped too: we write none */
                p++;
                if (*p != '"')
                    fail_msg("unquoted attribute value at: %.40s", p);
                continue;
            }
            out[n++] = *p++;
        }
        out[n++] = '\n';
    }
    out[n] = '\0';
    return out;
}

/* No code point that reorders text, no malformed UTF-8, no control but TAB
 * and LF. */
static void check_plain_text(const char *doc, size_t len)
{
    const unsigned char *p = (const unsigned char *)doc, *end = p + len;

    assert_true(utf8_valid(p, len));
    while (p < end) {
        unsigned long cp;
        size_t n = utf8_decode(p, (size_t)(end - p), &cp);
        assert_true(n > 0);
        if (cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069) || (cp < 0x20 && cp != '\t' && cp != '\n') ||
            (cp >= 0x7f && cp <= 0x9f))
            fail_msg("U+%04lX in the output", cp);
        p += n;
    }
}

static void test_hostile_values_stay_text(void **state)
{
    struct cgi_out a, b;

    (void)state;
    cgi_out_init(&a);
    cgi_out_init(&b);
    for (int w = 0; w < P_COUNT; w++) {
        render((enum which)w, &ordinary, &a);
        render((enum which)w, &hostile, &b);
        char *sa = skeleton(a.data), *sb = skeleton(b.data);
        if (strcmp(sa, sb) != 0)
            fail_msg("page %s: the hostile values changed the markup\n--- ordinary\n%s\n--- "
                     "hostile\n%s",
                     names[w], sa, sb);
        check_plain_text(b.data, b.len);
        /* the values are there, as text */
        if (w != P_LIST_EMPTY)
            assert_non_null(strstr(b.data, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;"
                                           "&lt;svg onload=alert(1)&gt;&#39; x=&#39;y&#39;"));
        assert_null(strstr(b.data, "<svg"));
        assert_null(strstr(b.data, "<img"));
        assert_null(strstr(b.data, "</textarea><"));
        free(sa);
        free(sb);
    }
    cgi_out_free(&a);
    cgi_out_free(&b);
}

/* The parts every page must have: a language, a title, the stylesheet, the
 * landmarks, and no inline script or style anywhere. */
static void test_every_page_is_a_document(void **state)
{
    struct cgi_out o;

    (void)state;
    cgi_out_init(&o);
    for (int w = 0; w < P_COUNT; w++) {
        render((enum which)w, &ordinary, &o);
        const char *d = o.data;
        assert_true(strncmp(d, "<!doctype html>\n<html lang=\"es\">", 32) == 0);
        assert_non_null(strstr(d, "<title>"));
        assert_non_null(strstr(d, " · clientes</title>"));
        assert_non_null(strstr(d, "<link rel=\"stylesheet\" href=\"/static/clientes."));
        assert_non_null(strstr(d, "<main id=\"contenido\""));
        assert_non_null(strstr(d, "<header class=\"barra\">"));
        assert_non_null(strstr(d, "<h1>"));
        assert_non_null(strstr(d, "</html>\n"));
        assert_null(strstr(d, "style="));
        assert_null(strstr(d, "<style"));
        char *sk = skeleton(d);
        assert_null(strstr(sk, " on")); /* no event handler attribute */
        free(sk);
        assert_null(strstr(d, "javascript:"));
        /* one script, the static one */
        const char *s = strstr(d, "<script");
        assert_non_null(s);
        assert_true(strncmp(s, "<script src=\"/static/clientes.", 30) == 0);
        assert_null(strstr(s + 1, "<script"));
        /* every form that posts carries the CSRF token (a field, or for a
         * file upload the action's query), a login's excepted */
        for (const char *p = strstr(d, "method=\"post\""); p; p = strstr(p + 1, "method=\"post\"")) {
            const char *end = strstr(p, "</form>");
            const char *tok = strstr(p, "name=\"csrf_token\" value=\"clt_0123\"");
            const char *q = strstr(p, "?csrf_token=clt_0123\"");
            const char *tag_end = strchr(p, '>');
            assert_non_null(end);
            if (w != P_LOGIN)
                assert_true((tok && tok < end) || (q && q < tag_end));
        }
    }
    cgi_out_free(&o);
}

/* What a reader is shown: no control to change anything. */
static void test_reader_sees_no_changes(void **state)
{
    struct client c;
    struct page_client pc;
    struct page_frame f = {.user = "lee", .role = ROLE_READER, .csrf = "t", .nav = NAV_CLIENTES};
    struct page_list l = {.q = "", .rows = &pc, .nrows = 1, .total = 1, .all = 1};
    struct page_ficha fi = {.client = {&c, TIME, TIME, 1}};
    struct cgi_out o;
    struct html h;

    (void)state;
    fill_client(&c, &ordinary);
    pc = fi.client;
    cgi_out_init(&o);
    html_init(&h, cgi_out_write, &o);
    page_list(&h, &f, &l);
    page_ficha(&h, &f, &fi);
    assert_null(strstr(o.data, "/ui/clientes/nuevo"));
    assert_null(strstr(o.data, "/ui/cliente/editar"));
    assert_null(strstr(o.data, "/ui/cliente/borrar"));
    assert_null(strstr(o.data, "/ui/importar"));
    assert_null(strstr(o.data, "/ui/usuarios"));
    /* the only forms that post are the logouts (one per page) */
    int forms = 0;
    for (const char *p = strstr(o.data, "method=\"post\""); p;
         p = strstr(p + 1, "method=\"post\"")) {
        assert_true(strncmp(p, "method=\"post\" action=\"/ui/salir\"", 32) == 0);
        forms++;
    }
    assert_int_equal(forms, 2);
    cgi_out_free(&o);
}

static void test_dates(void **state)
{
    char out[11];

    (void)state;
    page_date("8/09/1978", out);
    assert_string_equal(out, "08/09/1978");
    page_date("29/6/1996", out);
    assert_string_equal(out, "29/06/1996");
    page_date("1996-06-29", out);
    assert_string_equal(out, "29/06/1996");
    page_date("29/06/1996", out);
    assert_string_equal(out, "29/06/1996");
    page_date("nonsense-long-value", out);
    assert_string_equal(out, "nonsense-l");
    page_date(NULL, out);
    assert_string_equal(out, "");
}

static void test_times(void **state)
{
    char out[17];

    (void)state;
    setenv("TZ", "Europe/Madrid", 1);
    tzset();
    page_time("2026-12-01T11:35:09.123Z", out); /* winter: UTC+1 */
    assert_string_equal(out, "01/12/2026 12:35");
    page_time("2026-07-01T23:30:00.000Z", out); /* summer: UTC+2, the next day */
    assert_string_equal(out, "02/07/2026 01:30");
    page_time("<script>", out);
    assert_string_equal(out, "");
    page_time(NULL, out);
    assert_string_equal(out, "");
    setenv("TZ", "UTC", 1);
    tzset();
    page_time("2026-12-01T11:35:09.123Z", out);
    assert_string_equal(out, "01/12/2026 11:35");
}

static void test_actors(void **state)
{
    char out[PAGE_ACTOR_MAX];

    (void)state;
    page_actor("user:ana", out, sizeof(out));
    assert_string_equal(out, "ana");
    page_actor("token:12 (ci)", out, sizeof(out));
    assert_string_equal(out, "token 12 (ci)");
    page_actor("cli", out, sizeof(out));
    assert_string_equal(out, "operador (clientes-admin)");
    page_actor("anonymous", out, sizeof(out));
    assert_string_equal(out, "an\xc3\xb3nimo");
}

static void test_sort_names(void **state)
{
    (void)state;
    for (int s = 0; s < PSORT_COUNT; s++)
        assert_int_equal(page_sort_parse(page_sort_name((enum page_sort)s)), s);
    assert_int_equal(page_sort_parse("direccion"), -1);
    assert_int_equal(page_sort_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_values_stay_text),
        cmocka_unit_test(test_every_page_is_a_document),
        cmocka_unit_test(test_reader_sees_no_changes),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_actors),
        cmocka_unit_test(test_sort_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
