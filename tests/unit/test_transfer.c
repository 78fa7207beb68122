/* test_transfer.c - whole stores as NDJSON lines and back (lib/transfer.h),
 * between two stores of the backend the fixture picks (store_fx.h). */
#include "store_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transfer.h"

struct buf {
    char *data;
    size_t len, cap;
    int lines;
    int fail_at; /* refuse this line (1-based); 0 never */
};

static int to_buf(void *ctx, const char *line, size_t len)
{
    struct buf *b = ctx;

    if (b->fail_at && b->lines + 1 == b->fail_at)
        return 1;
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1)); /* one line each */
    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    memcpy(b->data + b->len, line, len);
    b->len += len;
    b->data[b->len] = '\0';
    b->lines++;
    return 0;
}

static struct buf export_of(struct store *s, struct transfer_counts *n)
{
    struct buf b = {0};

    assert_int_equal(transfer_export(s, to_buf, &b, n), CL_OK);
    return b;
}

/* Imports every line of b; the first refusal's error (and *why). */
static enum cl_err import_all(struct store *s, enum transfer_mode mode, const char *text,
                              bool commit, struct transfer_counts *n, const char **why)
{
    struct transfer_import *im;
    enum cl_err e, first = CL_OK;

    if ((e = transfer_import_begin(s, mode, &im)))
        return e;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        const char *w = NULL;
        e = transfer_import_line(im, p, len, &w);
        if (e && !first) {
            first = e;
            if (why)
                *why = w;
        }
        p += len;
    }
    e = transfer_import_end(im, commit, n);
    return first ? first : e;
}

static void add(struct store *s, const char *nombre, const char *mail)
{
    struct client c;

    fx_make(&c, nombre, "Núñez \"el\" \\ Raro", mail, "8/09/1978", "Calle Mayor 1, 3º");
    assert_int_equal(manager_add(s, &c, NULL), CL_OK);
}

/* A store with a bit of everything: clients (one stored under the old mail
 * rule, some modified, one erased, one deleted), users, tokens, a trail. */
static void fill(struct store *s)
{
    const struct audit_actor ana = {"user:ana", "req-1", "192.0.2.1"};
    struct user u;
    struct token t;
    struct client old;
    struct client_keys k;
    char now[STORE_TIME_LEN + 1];

    store_set_actor(s, &ana);
    add(s, "José", "Jose@Example.ES");
    add(s, "Zoë", "zoe@example.no");
    add(s, "Borrar", "borrar@example.com");
    add(s, "Quitar", "quitar@example.com");
    assert_int_equal(manager_update(s, "jose@example.es", CLIENT_DIRECCION, "Plaza 2", NULL),
                     CL_OK);
    assert_int_equal(manager_erase(s, "borrar@example.com", NULL), CL_OK);
    assert_int_equal(manager_delete(s, "quitar@example.com", NULL), CL_OK);
    store_set_actor(s, NULL);
    client_init(&old); /* a record of before the mail rule was tightened */
    strcpy(old.mail, "a\"b@x.es");
    strcpy(old.nombre, "Viejo ");
    strcpy(old.apellidos, "Antiguo");
    strcpy(old.fecha_nacimiento, "01.02.1980");
    strcpy(old.direccion, "Calle Vieja");
    client_keys_of(&old, &k);
    manager_now(now);
    assert_int_equal(s->ops->add(s, &old, &k, now, NULL, NULL), CL_OK);

    memset(&u, 0, sizeof(u));
    strcpy(u.name, "ana");
    strcpy(u.pwhash, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
    u.role = ROLE_ADMIN;
    assert_int_equal(s->ops->user_add(s, &u, NULL), CL_OK);
    long long ana_id = u.id;
    memset(&u, 0, sizeof(u));
    strcpy(u.name, "luis");
    strcpy(u.pwhash, "$argon2id$x");
    u.role = ROLE_READER;
    u.disabled = true;
    assert_int_equal(s->ops->user_add(s, &u, NULL), CL_OK);
    memset(&t, 0, sizeof(t));
    strcpy(t.label, "ci \"nightly\"");
    secret_digest("clt_one", 7, t.digest);
    t.role = ROLE_EDITOR;
    t.user_id = ana_id;
    t.expires = 1900000000;
    t.last_used = 1800000000;
    assert_int_equal(s->ops->token_add(s, &t, NULL), CL_OK);
    memset(&t, 0, sizeof(t));
    strcpy(t.label, "operador");
    secret_digest("clt_two", 7, t.digest);
    t.role = ROLE_ADMIN;
    t.revoked = 1800000001;
    assert_int_equal(s->ops->token_add(s, &t, NULL), CL_OK);
    const struct audit_entry login = {"2026-01-02T03:04:05.678Z", "login.ok", "ana", NULL, NULL};
    assert_int_equal(s->ops->audit_add(s, &login), CL_OK);
}

static void test_round_trip(void **state)
{
    struct fx *fx = *state;
    char url[1400];
    struct store *to = fx_open_other(fx, "copia.db", url, sizeof(url));
    struct transfer_counts n, in;
    struct buf a, b;
    const char *why = NULL;

    fill(fx->s);
    a = export_of(fx->s, &n);
    assert_int_equal(n.clients, 4); /* the example, jose, zoe, the old one */
    assert_int_equal(n.users, 2);
    assert_int_equal(n.tokens, 2);
    assert_true(n.audit >= 8);
    assert_int_equal(a.lines, 1 + n.clients + n.users + n.tokens + n.audit);
    assert_true(strncmp(a.data, "{\"type\":\"header\",\"format\":\"clientes-ndjson\",\"version\":1}\n",
                        56) == 0);
    /* nothing of the erased client */
    assert_null(strstr(a.data, "orrar"));

    assert_int_equal(import_all(to, TRANSFER_INTO_EMPTY, a.data, true, &in, &why), CL_OK);
    assert_int_equal(in.clients, n.clients);
    assert_int_equal(in.users, n.users);
    assert_int_equal(in.tokens, n.tokens);
    assert_int_equal(in.audit, n.audit);
    assert_int_equal(in.unchanged, 0);
    /* the same lines out of the copy, byte for byte */
    b = export_of(to, NULL);
    if (strcmp(a.data, b.data) != 0)
        fail_msg("the copy exports otherwise:\n%s\n----\n%s", a.data, b.data);

    /* what the copy holds works as the original did */
    struct client c, o;
    struct client_meta m, mo;
    assert_int_equal(manager_get_meta(to, "JOSE@example.es", &c, &m, NULL), CL_OK);
    assert_int_equal(manager_get_meta(fx->s, "jose@example.es", &o, &mo, NULL), CL_OK);
    fx_client_eq(&c, &o);
    assert_string_equal(m.creado, mo.creado);
    assert_string_equal(m.modificado, mo.modificado);
    assert_true(strcmp(m.creado, m.modificado) < 0 || strcmp(m.creado, m.modificado) == 0);
    long long rows = 0;
    struct audit_query hq = {.target_key = "jose@example.es", .limit = 10};
    struct fx_audit_row hr[10];
    rows = fx_audit(to, hq, hr, 10);
    assert_int_equal(rows, 2); /* his history came along, by his key */
    assert_string_equal(hr[0].actor, "user:ana");
    assert_string_equal(hr[0].request_id, "req-1");
    struct token t;
    char d[SECRET_DIGEST_LEN + 1];
    secret_digest("clt_one", 7, d);
    assert_int_equal(to->ops->token_find(to, d, &t), CL_OK);
    assert_string_equal(t.owner, "ana"); /* the owner found by name */
    struct client_query q = {.sort = SORT_NOMBRE, .search = "jose"};
    long long found = 0;
    assert_int_equal(manager_count_query(to, &q, &found), CL_OK);
    assert_int_equal(found, 1);
    assert_int_equal(manager_get(to, "a\"b@x.es", &c, NULL), CL_OK);
    assert_string_equal(c.nombre, "Viejo ");
    free(a.data);
    free(b.data);
    store_close(to);
}

static void test_into_empty_and_merge(void **state)
{
    struct fx *fx = *state;
    char url[1400];
    struct store *to = fx_open_other(fx, "copia.db", url, sizeof(url));
    struct transfer_counts n;
    const char *why = NULL;
    struct buf a, b;

    fill(fx->s);
    /* a new store's example gives way: the source deleted its own */
    assert_int_equal(manager_delete(fx->s, EX_MAIL, NULL), CL_OK);
    assert_int_equal(transfer_copy(fx->s, to, TRANSFER_INTO_EMPTY, &n, &why), CL_OK);
    fx_absent(to, EX_MAIL);
    assert_int_equal(fx_count(to), 3);
    a = export_of(to, NULL);

    /* a store in use is refused, and left as it was */
    assert_int_equal(transfer_copy(fx->s, to, TRANSFER_INTO_EMPTY, &n, &why), CL_EXISTS);
    b = export_of(to, NULL);
    assert_string_equal(a.data, b.data);
    free(b.data);

    /* merge: the same again changes nothing */
    assert_int_equal(transfer_copy(fx->s, to, TRANSFER_MERGE, &n, &why), CL_OK);
    assert_int_equal(n.clients + n.users + n.tokens + n.audit, 0);
    assert_true(n.unchanged > 8);
    b = export_of(to, NULL);
    assert_string_equal(a.data, b.data);
    free(b.data);
    /* ... and brings what changed or came since */
    assert_int_equal(manager_update(fx->s, "zoe@example.no", CLIENT_NOMBRE, "Zoe", NULL), CL_OK);
    add(fx->s, "Nuevo", "nuevo@example.com");
    long long trail = fx_audit_count(to);
    assert_int_equal(transfer_copy(fx->s, to, TRANSFER_MERGE, &n, &why), CL_OK);
    assert_int_equal(n.clients, 2);
    struct client c;
    assert_int_equal(manager_get(to, "zoe@example.no", &c, NULL), CL_OK);
    assert_string_equal(c.nombre, "Zoe");
    fx_stored(to, &c);
    assert_int_equal(manager_get(to, "nuevo@example.com", &c, NULL), CL_OK);
    assert_int_equal(fx_audit_count(to), trail); /* its own trail: kept as it is */
    free(a.data);
    store_close(to);
}

static void test_bad_lines(void **state)
{
    struct fx *fx = *state;
    static const struct {
        const char *lines, *why;
    } bad[] = {
        {"{\"type\":\"client\"}\n", "the first line is not the header"},
        {"not json\n", "a line is not one JSON object"},
        {"{\"type\":\"header\",\"format\":\"clientes-ndjson\",\"version\":2}\n",
         "the lines are of a newer format version"},
        {"{\"type\":\"header\",\"format\":\"csv\",\"version\":1}\n",
         "the header names another format"},
        {"H{\"type\":\"cliente\"}\n", "a line of an unknown type"},
        {"H{\"type\":\"client\",\"mail\":\"x@y.es\"}\n", "a client line lacks a field"},
        {"H{\"type\":\"client\",\"mail\":\"x@y.es\",\"nombre\":1,\"apellidos\":\"a\","
         "\"fecha_nacimiento\":\"1/1/1990\",\"direccion\":\"d\"}\n",
         "a client line has a value of the wrong type, length or shape"},
        {"H{\"type\":\"client\",\"mail\":\"no es mail\",\"nombre\":\"n\",\"apellidos\":\"a\","
         "\"fecha_nacimiento\":\"1/1/1990\",\"direccion\":\"d\"}\n",
         "a client line's mail cannot be a key"},
        {"H{\"type\":\"client\",\"mail\":\"x@y.es\",\"nombre\":\"n\",\"apellidos\":\"a\","
         "\"fecha_nacimiento\":\"1/1/1990\",\"direccion\":\"d\",\"creado\":\"ayer\"}\n",
         "a client line has a value of the wrong type, length or shape"},
        {"H{\"type\":\"client\",\"mail\":\"x@y.es\",\"nombre\":\"n\",\"apellidos\":\"a\","
         "\"fecha_nacimiento\":\"1/1/1990\",\"direccion\":\"d\"}\n"
         "{\"type\":\"client\",\"mail\":\"X@Y.ES\",\"nombre\":\"n\",\"apellidos\":\"a\","
         "\"fecha_nacimiento\":\"1/1/1990\",\"direccion\":\"d\"}\n",
         "two client lines have the same mail"},
        {"H{\"type\":\"user\",\"name\":\"ana\",\"pwhash\":\"h\",\"role\":\"root\"}\n",
         "a user line lacks a value, or has one of the wrong type or shape"},
        {"H{\"type\":\"token\",\"label\":\"t\",\"digest\":\"0000000000000000000000000000000000000000"
         "000000000000000000000000\",\"role\":\"reader\",\"owner\":\"nadie\"}\n",
         "a token line names an owner no user line came for"},
        {"H{\"type\":\"audit\",\"at\":\"2026-01-01T00:00:00.000Z\",\"actor\":\"cli\","
         "\"action\":\"x\",\"changes\":[1]}\n",
         "an audit line lacks a value, or has one of the wrong type or shape"},
        {"H{\"type\":\"client\"} trailing\n", "a line is not one JSON object"},
        {"H{\"type\":\"header\",\"format\":\"clientes-ndjson\",\"version\":1}\n",
         "a second header"},
    };
    const char *header = "{\"type\":\"header\",\"format\":\"clientes-ndjson\",\"version\":1}\n";
    struct buf before = export_of(fx->s, NULL);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[2048];
        const char *why = NULL;
        struct transfer_counts n;
        snprintf(text, sizeof(text), "%s%s", bad[i].lines[0] == 'H' ? header : "",
                 bad[i].lines + (bad[i].lines[0] == 'H'));
        /* into the new store: the example gives way, then comes back */
        enum cl_err e = import_all(fx->s, TRANSFER_INTO_EMPTY, text, false, &n, &why);
        if (e != CL_INVALID)
            fail_msg("line set %zu: %s, expected CL_INVALID", i, cl_strerror(e));
        if (!why || strcmp(why, bad[i].why) != 0)
            fail_msg("line set %zu: why '%s', expected '%s'", i, why ? why : "(none)",
                     bad[i].why);
        /* all or nothing: nothing */
        struct buf after = export_of(fx->s, NULL);
        assert_string_equal(after.data, before.data);
        free(after.data);
    }
    /* committed, the good lines of a partial import stay */
    char text[1024];
    const char *why = NULL;
    struct transfer_counts n;
    snprintf(text, sizeof(text),
             "%s{\"type\":\"client\",\"mail\":\"bien@y.es\",\"nombre\":\"n\",\"apellidos\":\"a\","
             "\"fecha_nacimiento\":\"1/1/1990\",\"direccion\":\"d\"}\n\r\nnot json\n",
             header);
    assert_int_equal(import_all(fx->s, TRANSFER_MERGE, text, true, &n, &why), CL_INVALID);
    assert_int_equal(n.clients, 1);
    struct client c;
    assert_int_equal(manager_get(fx->s, "bien@y.es", &c, NULL), CL_OK);
    /* no header, nothing to commit */
    assert_int_equal(import_all(fx->s, TRANSFER_MERGE, "", true, &n, &why), CL_INVALID);
    free(before.data);
}

/* An output that fails stops the export, which says so. */
static void test_export_output_fails(void **state)
{
    struct fx *fx = *state;
    struct buf b = {.fail_at = 3};

    fill(fx->s);
    assert_int_equal(transfer_export(fx->s, to_buf, &b, NULL), CL_STORAGE);
    assert_int_equal(b.lines, 2);
    assert_non_null(strstr(store_errmsg(fx->s), "output"));
    free(b.data);
}

#define MANY 10000

static void test_copy_many(void **state)
{
    struct fx *fx = *state;
    char url[1400];
    struct store *to = fx_open_other(fx, "copia.db", url, sizeof(url));
    struct transfer_counts n;
    const char *why = NULL;

    assert_int_equal(manager_begin(fx->s), CL_OK);
    for (int i = 0; i < MANY; i++) {
        struct client c;
        char mail[64], nombre[64];
        snprintf(mail, sizeof(mail), i % 2 ? "M%05d@Many.ES" : "m%05d@many.es", (i * 7919) % MANY);
        snprintf(nombre, sizeof(nombre), "%s %d", i % 3 ? "José" : "Zoë", i);
        fx_make(&c, nombre, "Apellido", mail, "1/1/1990", "Calle");
        assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    }
    assert_int_equal(manager_commit(fx->s), CL_OK);
    assert_int_equal(transfer_copy(fx->s, to, TRANSFER_INTO_EMPTY, &n, &why), CL_OK);
    assert_int_equal(n.clients, MANY + 1);
    assert_int_equal(n.audit, MANY);
    assert_int_equal(fx_count(to), MANY + 1);
    struct buf a = export_of(fx->s, NULL), b = export_of(to, NULL);
    assert_int_equal(a.len, b.len);
    assert_true(memcmp(a.data, b.data, a.len) == 0);
    free(a.data);
    free(b.data);
    store_close(to);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_any, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_round_trip),
        T(test_into_empty_and_merge),
        T(test_bad_lines),
        T(test_export_output_fails),
        T(test_copy_many),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
