/* test_transfer_backends.c - whole stores moved between the backends
 * (lib/transfer.h): 10 000 clients with users, tokens and the audit trail
 * SQLite -> PostgreSQL -> SQLite, the same at every step (every line of
 * their exports, lists, histories, owners); merged again, nothing changes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager.h"
#include "store.h"
#include "support.h"
#include "transfer.h"
#include "ts_pg.h"

#define CLIENTS 10000
#define EX_MAIL TS_EXAMPLE_MAIL

struct fx {
    char dir[1024];
    int n; /* stores opened */
    struct store *s[6];
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    if (!fx || ts_mkdtemp(fx->dir, sizeof(fx->dir), NULL) != 0) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    int rc;

    for (int i = 0; i < fx->n; i++)
        store_close(fx->s[i]);
    rc = ts_rmtree(fx->dir);
    free(fx);
    return rc;
}

static struct store *open_url(struct fx *fx, const char *url)
{
    char err[512];
    struct store *s = NULL;

    if (store_open(url, &s, err, sizeof(err)) != CL_OK)
        fail_msg("open: %s", err);
    fx->s[fx->n++] = s;
    return s;
}

static struct store *new_sqlite(struct fx *fx, const char *name)
{
    char path[1200];
    ts_join(path, sizeof(path), fx->dir, name);
    return open_url(fx, path);
}

static struct store *new_pg(struct fx *fx)
{
    char url[1400];
    if (ts_pg_database("transfer", url, sizeof(url)) != 0)
        fail_msg("no PostgreSQL database for the test");
    return open_url(fx, url);
}

/* ---- a store with a bit of everything */

static void fill(struct store *s, int clients)
{
    struct audit_actor web = {"user:ana", "req-1", "192.0.2.7"};
    struct client c;
    char mail[64], nombre[64];

    assert_int_equal(manager_begin(s), CL_OK);
    for (int i = 0; i < clients; i++) {
        snprintf(mail, sizeof(mail), i % 3 ? "Cliente.%05d@Example.COM" : "c%05d@example.es", i);
        snprintf(nombre, sizeof(nombre), i % 2 ? "Ángel %d" : "zoë %d", i);
        if (ts_client(&c, nombre, i % 5 ? "Núñez García" : "O'Brien", mail,
                      i % 4 ? "29/02/2000" : "1990-12-31", "Calle Mayor, 1º") != CL_OK)
            fail_msg("test data refused: %s", mail);
        if (i == 7)
            store_set_actor(s, &web); /* one change with an actor of its own */
        assert_int_equal(manager_add(s, &c, NULL), CL_OK);
        store_set_actor(s, NULL);
    }
    assert_int_equal(manager_commit(s), CL_OK);
    /* some changed later (modificado differs), one deleted, one erased */
    assert_int_equal(manager_update(s, "c00000@example.es", CLIENT_NOMBRE, "Cambiado", NULL),
                     CL_OK);
    assert_int_equal(
        manager_update(s, "CLIENTE.00001@example.com", CLIENT_DIRECCION, "Otra 2", NULL), CL_OK);
    assert_int_equal(manager_delete(s, "c00003@example.es", NULL), CL_OK);
    assert_int_equal(manager_erase(s, "c00006@example.es", NULL), CL_OK);

    struct user u = {.role = ROLE_ADMIN, .fail_count = 2, .fail_since = 1700000000};
    snprintf(u.name, sizeof(u.name), "ana");
    snprintf(u.pwhash, sizeof(u.pwhash), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
    snprintf(u.creado, sizeof(u.creado), "2026-01-02T03:04:05.678Z");
    struct audit_entry ua = {"2026-01-02T03:04:05.678Z", "user.create", "ana", NULL, NULL};
    assert_int_equal(s->ops->user_add(s, &u, &ua), CL_OK);
    struct user v = {.role = ROLE_READER, .disabled = true};
    snprintf(v.name, sizeof(v.name), "luis");
    snprintf(v.pwhash, sizeof(v.pwhash), "$argon2id$v=19$m=19456,t=2,p=1$eA$eQ");
    assert_int_equal(s->ops->user_add(s, &v, NULL), CL_OK);

    struct token t = {
        .role = ROLE_READER, .user_id = u.id, .expires = 1900000000, .last_used = 1800000000};
    snprintf(t.label, sizeof(t.label), "ci de ana");
    memset(t.digest, 'a', SECRET_DIGEST_LEN);
    assert_int_equal(s->ops->token_add(s, &t, NULL), CL_OK);
    struct token op = {.role = ROLE_EDITOR, .revoked = 1750000000};
    snprintf(op.label, sizeof(op.label), "operador");
    memset(op.digest, 'b', SECRET_DIGEST_LEN);
    assert_int_equal(s->ops->token_add(s, &op, NULL), CL_OK);
    struct audit_entry login = {"2026-01-03T00:00:00.000Z", "login.fail", "ana", NULL, NULL};
    store_set_actor(s, &web);
    assert_int_equal(s->ops->audit_add(s, &login), CL_OK);
    store_set_actor(s, NULL);
}

/* ---- what a store holds, as one text per kind (then hashed) */

struct digest {
    uint64_t h;
    long long n;
};

static void mix(struct digest *d, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : "\x01NULL"); *p; p++)
        d->h = (d->h ^ *p) * 1099511628211ULL;
    d->h = (d->h ^ 0xff) * 1099511628211ULL;
}

static int dig_client(const struct client *c, const struct client_meta *m, void *ctx)
{
    struct digest *d = ctx;
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        mix(d, client_get(c, (enum client_field)f));
    mix(d, m->creado);
    mix(d, m->modificado);
    d->n++;
    return 0;
}

static int dig_user(const struct user *u, void *ctx)
{
    struct digest *d = ctx;
    char num[64];
    mix(d, u->name);
    mix(d, u->pwhash);
    mix(d, role_name(u->role));
    snprintf(num, sizeof(num), "%d", u->disabled); /* failed-login counters do not move */
    mix(d, num);
    mix(d, u->creado);
    d->n++;
    return 0;
}

static int dig_token(const struct token *t, void *ctx)
{
    struct digest *d = ctx;
    char num[96];
    mix(d, t->label);
    mix(d, t->digest);
    mix(d, role_name(t->role));
    mix(d, t->owner);
    mix(d, t->creado);
    snprintf(num, sizeof(num), "%lld %lld %lld", t->expires, t->revoked, t->last_used);
    mix(d, num);
    d->n++;
    return 0;
}

struct audit_dig {
    struct digest d;
    long long last;
};

static int dig_audit(const struct audit_view *a, void *ctx)
{
    struct audit_dig *ad = ctx;
    mix(&ad->d, a->at);
    mix(&ad->d, a->actor);
    mix(&ad->d, a->action);
    mix(&ad->d, a->target);
    mix(&ad->d, a->changes);
    mix(&ad->d, a->request_id);
    mix(&ad->d, a->client_addr);
    ad->d.n++;
    ad->last = a->id;
    return 0;
}

struct whole {
    struct digest clients, users, tokens, audit, history;
};

static void whole_of(struct store *s, struct whole *w)
{
    struct client_query all = {.sort = SORT_MAIL};
    struct audit_dig ad = {{14695981039346656037ULL, 0}, 0};

    memset(w, 0, sizeof(*w));
    w->clients.h = w->users.h = w->tokens.h = w->history.h = 14695981039346656037ULL;
    assert_int_equal(manager_list(s, &all, dig_client, &w->clients), CL_OK);
    assert_int_equal(s->ops->user_list(s, dig_user, &w->users), CL_OK);
    assert_int_equal(s->ops->token_list(s, dig_token, &w->tokens), CL_OK);
    for (;;) {
        long long before = ad.d.n;
        struct audit_query q = {.before_id = ad.last, .limit = 1000};
        assert_int_equal(manager_audit(s, &q, dig_audit, &ad), CL_OK);
        if (ad.d.n - before < 1000)
            break;
    }
    w->audit = ad.d;
    /* one client's history: its rows found by its key */
    struct audit_dig hd = {{14695981039346656037ULL, 0}, 0};
    assert_int_equal(manager_history(s, "c00000@EXAMPLE.es", 0, 100, dig_audit, &hd), CL_OK);
    w->history = hd.d;
}

static void assert_same_whole(const struct whole *a, const struct whole *b, const char *what)
{
    const struct digest *x = &a->clients, *y = &b->clients;
    static const char *const kinds[] = {"clients", "users", "tokens", "audit", "history"};
    for (int i = 0; i < 5; i++)
        if (x[i].n != y[i].n || x[i].h != y[i].h)
            fail_msg("%s: %s differ (%lld rows vs %lld)", what, kinds[i], x[i].n, y[i].n);
}

/* ---- tests */

struct text {
    char *data;
    size_t len, cap;
};

static int to_text(void *ctx, const char *line, size_t len)
{
    struct text *t = ctx;
    if (t->len + len + 1 > t->cap) {
        t->cap = (t->len + len + 1) * 2;
        if (!(t->data = realloc(t->data, t->cap)))
            return 1;
    }
    memcpy(t->data + t->len, line, len);
    t->len += len;
    t->data[t->len] = '\0';
    return 0;
}

/* The export of s without its first line (the header). */
static struct text export_of(struct store *s)
{
    struct text t = {0};
    assert_int_equal(transfer_export(s, to_text, &t, NULL), CL_OK);
    assert_non_null(t.data);
    return t;
}

static void test_round_trip_sqlite_pg_sqlite(void **state)
{
    struct fx *fx = *state;
    struct store *a = new_sqlite(fx, "a.db"), *b = new_pg(fx), *c = new_sqlite(fx, "c.db");
    struct transfer_counts n;
    struct whole wa, wb, wc;
    const char *why = NULL;

    fill(a, CLIENTS);
    whole_of(a, &wa);
    assert_int_equal(wa.clients.n, CLIENTS - 2 + 1); /* one deleted, one erased, the example */
    assert_true(wa.history.n >= 2);                  /* created, then changed */

    assert_int_equal(transfer_copy(a, b, TRANSFER_INTO_EMPTY, &n, &why), CL_OK);
    assert_int_equal(n.clients, CLIENTS - 2 + 1);
    assert_int_equal(n.users, 2);
    assert_int_equal(n.tokens, 2);
    assert_int_equal(n.audit, wa.audit.n);
    whole_of(b, &wb);
    assert_same_whole(&wa, &wb, "SQLite -> PostgreSQL");

    assert_int_equal(transfer_copy(b, c, TRANSFER_INTO_EMPTY, &n, &why), CL_OK);
    whole_of(c, &wc);
    assert_same_whole(&wa, &wc, "SQLite -> PostgreSQL -> SQLite");
    /* every line of the three exports the same, byte for byte */
    struct text ta = export_of(a), tb = export_of(b), tc = export_of(c);
    assert_int_equal(ta.len, tb.len);
    assert_true(memcmp(ta.data, tb.data, ta.len) == 0);
    assert_int_equal(ta.len, tc.len);
    assert_true(memcmp(ta.data, tc.data, ta.len) == 0);
    free(ta.data), free(tb.data), free(tc.data);
    /* the moved tokens still find their owners */
    char digest[SECRET_DIGEST_LEN + 1];
    struct token t;
    memset(digest, 'a', SECRET_DIGEST_LEN);
    digest[SECRET_DIGEST_LEN] = '\0';
    assert_int_equal(c->ops->token_find(c, digest, &t), CL_OK);
    assert_string_equal(t.owner, "ana");
}

/* Into PostgreSQL again, merged: a target with data is refused as new, and
 * a merge of what it has already changes nothing. */
static void test_merge_into_postgres_twice(void **state)
{
    struct fx *fx = *state;
    struct store *a = new_sqlite(fx, "a.db"), *b = new_pg(fx);
    struct transfer_counts n;
    struct whole wb, wb2;
    const char *why = NULL;

    fill(a, 200);
    assert_int_equal(transfer_copy(a, b, TRANSFER_INTO_EMPTY, &n, &why), CL_OK);
    whole_of(b, &wb);
    assert_int_equal(transfer_copy(a, b, TRANSFER_INTO_EMPTY, &n, &why), CL_EXISTS);
    assert_int_equal(transfer_copy(a, b, TRANSFER_MERGE, &n, &why), CL_OK);
    assert_int_equal(n.clients + n.users + n.tokens + n.audit, 0);
    assert_true(n.unchanged >= 200);
    whole_of(b, &wb2);
    assert_same_whole(&wb, &wb2, "a second copy, merged");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_round_trip_sqlite_pg_sqlite),
        T(test_merge_into_postgres_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
