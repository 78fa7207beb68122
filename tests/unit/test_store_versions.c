/* test_store_versions.c - versions, times and the audit row of every change,
 * on either backend (store_fx.h): merge changes, optimistic concurrency,
 * retries, atomicity, all-or-nothing batches. */
#include "store_fx.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void make_ana(struct client *c)
{
    fx_make(c, "Ana", "López", "Ana@Example.com", "1/2/1980", "Calle Uno 1");
}

static struct client_meta meta_of(struct store *s, const char *mail)
{
    struct client c;
    struct client_meta m;

    memset(&m, 0, sizeof(m));
    assert_int_equal(manager_get_meta(s, mail, &c, &m, NULL), CL_OK);
    return m;
}

static void test_create_returns_meta(void **state)
{
    struct fx *fx = *state;
    struct client a;
    struct client_meta m, got;

    make_ana(&a);
    memset(&m, 'x', sizeof(m));
    assert_int_equal(manager_create(fx->s, &a, &m, NULL), CL_OK);
    fx_assert_time(m.creado);
    assert_string_equal(m.creado, m.modificado);
    assert_true(m.version > 0);
    got = meta_of(fx->s, "ana@example.com");
    assert_string_equal(got.creado, m.creado);
    assert_string_equal(got.modificado, m.modificado);
    assert_int_equal(got.version, m.version);
    /* the example, seeded by the store, has its meta too */
    got = meta_of(fx->s, EX_MAIL);
    fx_assert_time(got.creado);
    assert_true(got.version > 0 && got.version != m.version);
    /* a second create of the same key is refused and leaves the first */
    assert_int_equal(manager_create(fx->s, &a, &got, NULL), CL_EXISTS);
    assert_int_equal(meta_of(fx->s, "ANA@example.com").version, m.version);
}

/* Versions come from one counter of the whole store: every change gets a
 * new one, never one seen before, not even for a record deleted and added
 * again. */
static void test_versions_never_reused(void **state)
{
    struct fx *fx = *state;
    struct client a, b, c;
    struct client_meta m;
    long long seen[16];
    int n = 0;

    make_ana(&a);
    fx_make(&b, "Luis", "Díaz", "luis@example.com", "1990-03-04", "Calle Dos 2");
    seen[n++] = meta_of(fx->s, EX_MAIL).version;
    assert_int_equal(manager_create(fx->s, &a, &m, NULL), CL_OK);
    seen[n++] = m.version;
    assert_int_equal(manager_create(fx->s, &b, &m, NULL), CL_OK);
    seen[n++] = m.version;
    assert_int_equal(manager_update(fx->s, "luis@example.com", CLIENT_NOMBRE, "Luisa", NULL),
                     CL_OK);
    seen[n++] = meta_of(fx->s, "luis@example.com").version;
    assert_int_equal(manager_delete(fx->s, "ana@example.com", NULL), CL_OK);
    assert_int_equal(manager_create(fx->s, &a, &m, NULL), CL_OK);
    seen[n++] = m.version;
    /* a change through another handle draws from the same counter */
    struct store *other = fx_open(fx);
    fx_make(&c, "Eva", "Ruiz", "eva@example.com", "8/09/1978", "Calle Tres 3");
    assert_int_equal(manager_create(other, &c, &m, NULL), CL_OK);
    store_close(other);
    seen[n++] = m.version;
    assert_int_equal(manager_update(fx->s, "ana@example.com", CLIENT_DIRECCION, "Otra 2", NULL),
                     CL_OK);
    seen[n++] = meta_of(fx->s, "ana@example.com").version;
    for (int i = 1; i < n; i++)
        if (seen[i] <= seen[i - 1])
            fail_msg("version %d is %lld after %lld", i, seen[i], seen[i - 1]);
    /* and they survive a reopen: the counter is stored */
    fx_reopen(fx);
    assert_int_equal(manager_create(fx->s, &b, &m, NULL), CL_EXISTS);
    fx_make(&c, "Otro", "Más", "otro@example.com", "1/1/2000", "Calle 4");
    assert_int_equal(manager_create(fx->s, &c, &m, NULL), CL_OK);
    assert_true(m.version > seen[n - 1]);
}

static void test_change_merges_fields(void **state)
{
    struct fx *fx = *state;
    struct client a, patch, out, want;
    struct client_meta before, m;
    struct manager_reject rej;
    long long rows;

    make_ana(&a);
    assert_int_equal(manager_create(fx->s, &a, &before, NULL), CL_OK);
    client_init(&patch);
    strcpy(patch.nombre, "Anabel");
    strcpy(patch.direccion, "Plaza Mayor 7");
    strcpy(patch.apellidos, "ignored: not in the mask");
    rows = fx_audit_count(fx->s);
    assert_int_equal(manager_change(fx->s, "ANA@example.com", &patch,
                                    MANAGER_FIELD(CLIENT_NOMBRE) | MANAGER_FIELD(CLIENT_DIRECCION),
                                    0, &out, &m, &rej),
                     CL_OK);
    want = a;
    strcpy(want.nombre, "Anabel");
    strcpy(want.direccion, "Plaza Mayor 7");
    fx_client_eq(&out, &want);
    fx_stored(fx->s, &want);
    assert_string_equal(m.creado, before.creado);
    fx_assert_time(m.modificado);
    assert_true(strcmp(m.modificado, before.modificado) >= 0);
    assert_true(m.version > before.version);
    assert_int_equal(meta_of(fx->s, "ana@example.com").version, m.version);
    assert_int_equal(fx_audit_count(fx->s), rows + 1);
    struct fx_audit_row r = fx_audit_last(fx->s);
    assert_string_equal(r.action, "client.update");
    assert_string_equal(r.target, "Ana@Example.com"); /* as stored */
    assert_string_equal(r.changes, "{\"nombre\":[\"Ana\",\"Anabel\"],"
                                   "\"direccion\":[\"Calle Uno 1\",\"Plaza Mayor 7\"]}");

    /* the mail may be named if it is the same key, in any case */
    strcpy(patch.mail, "ANA@EXAMPLE.COM");
    assert_int_equal(manager_change(fx->s, "ana@example.com", &patch, MANAGER_FIELD(CLIENT_MAIL),
                                    0, &out, NULL, NULL),
                     CL_OK);
    assert_string_equal(out.mail, "Ana@Example.com");
    /* ... but not changed */
    strcpy(patch.mail, "otra@example.com");
    assert_int_equal(manager_change(fx->s, "ana@example.com", &patch, MANAGER_FIELD(CLIENT_MAIL),
                                    0, NULL, NULL, &rej),
                     CL_INVALID);
    assert_int_equal(rej.field, CLIENT_MAIL);
    assert_string_equal(rej.reason, "no se puede cambiar");
    /* a bad value in the mask is refused by its rule; outside, ignored */
    strcpy(patch.fecha_nacimiento, "31/02/1990");
    assert_int_equal(manager_change(fx->s, "ana@example.com", &patch,
                                    MANAGER_FIELD(CLIENT_FECHA_NACIMIENTO), 0, NULL, NULL, &rej),
                     CL_INVALID);
    assert_int_equal(rej.field, CLIENT_FECHA_NACIMIENTO);
    assert_string_equal(rej.reason, "fecha inexistente");
    assert_int_equal(manager_change(fx->s, "ana@example.com", &patch, 1u << CLIENT_NFIELDS, 0,
                                    NULL, NULL, &rej),
                     CL_INVALID);
    fx_stored(fx->s, &want);
    /* unknown record */
    assert_int_equal(manager_change(fx->s, "nadie@example.com", &patch,
                                    MANAGER_FIELD(CLIENT_NOMBRE), 0, NULL, NULL, NULL),
                     CL_NOT_FOUND);
}

/* A change that changes nothing still counts: a new version, an audit row
 * without changes. */
static void test_empty_change_counts(void **state)
{
    struct fx *fx = *state;
    struct client a;
    struct client_meta before, m;
    long long rows;

    make_ana(&a);
    assert_int_equal(manager_create(fx->s, &a, &before, NULL), CL_OK);
    rows = fx_audit_count(fx->s);
    assert_int_equal(manager_change(fx->s, "ana@example.com", &a, MANAGER_FIELD(CLIENT_NOMBRE), 0,
                                    NULL, &m, NULL),
                     CL_OK);
    assert_true(m.version > before.version);
    assert_int_equal(fx_audit_count(fx->s), rows + 1);
    struct fx_audit_row r = fx_audit_last(fx->s);
    assert_string_equal(r.action, "client.update");
    assert_false(r.has_changes);
    assert_int_equal(manager_change(fx->s, "ana@example.com", &a, 0, 0, NULL, NULL, NULL), CL_OK);
    assert_int_equal(fx_audit_count(fx->s), rows + 2);
}

static void test_if_version(void **state)
{
    struct fx *fx = *state;
    struct client a, patch, ex;
    struct client_meta m, now;
    long long rows;

    make_ana(&a);
    assert_int_equal(manager_create(fx->s, &a, &m, NULL), CL_OK);
    client_init(&patch);
    strcpy(patch.nombre, "Anabel");
    rows = fx_audit_count(fx->s);
    /* stale: nothing happens, not even an audit row */
    assert_int_equal(manager_change(fx->s, "ana@example.com", &patch,
                                    MANAGER_FIELD(CLIENT_NOMBRE), m.version + 1000, NULL, NULL,
                                    NULL),
                     CL_CONFLICT);
    assert_int_equal(manager_remove(fx->s, "ana@example.com", m.version + 1000, NULL),
                     CL_CONFLICT);
    fx_stored(fx->s, &a);
    assert_int_equal(fx_audit_count(fx->s), rows);
    /* current: done, and the old version is stale from then on */
    assert_int_equal(manager_change(fx->s, "ana@example.com", &patch,
                                    MANAGER_FIELD(CLIENT_NOMBRE), m.version, NULL, &now, NULL),
                     CL_OK);
    assert_int_equal(manager_change(fx->s, "ana@example.com", &patch,
                                    MANAGER_FIELD(CLIENT_NOMBRE), m.version, NULL, NULL, NULL),
                     CL_CONFLICT);
    assert_int_equal(manager_remove(fx->s, "ana@example.com", m.version, NULL), CL_CONFLICT);
    assert_int_equal(manager_remove(fx->s, "ana@example.com", now.version, NULL), CL_OK);
    fx_absent(fx->s, "ana@example.com");
    assert_int_equal(manager_remove(fx->s, "ana@example.com", now.version, NULL), CL_NOT_FOUND);
    /* the delete's row holds the old values */
    struct fx_audit_row r = fx_audit_last(fx->s);
    assert_string_equal(r.action, "client.delete");
    assert_string_equal(r.changes,
                        "{\"nombre\":[\"Anabel\",null],\"apellidos\":[\"López\",null],"
                        "\"mail\":[\"Ana@Example.com\",null],"
                        "\"fecha_nacimiento\":[\"1/2/1980\",null],"
                        "\"direccion\":[\"Calle Uno 1\",null]}");
    fx_example(&ex);
    fx_stored(fx->s, &ex);
}

/* Two changes from the same version through two handles: exactly one wins. */
static void test_same_version_one_wins(void **state)
{
    struct fx *fx = *state;
    struct store *other = fx_open(fx);
    struct client a, p1, p2, out;
    struct client_meta m;

    make_ana(&a);
    assert_int_equal(manager_create(fx->s, &a, &m, NULL), CL_OK);
    client_init(&p1);
    client_init(&p2);
    strcpy(p1.nombre, "Primera");
    strcpy(p2.nombre, "Segunda");
    assert_int_equal(manager_change(other, "ana@example.com", &p2, MANAGER_FIELD(CLIENT_NOMBRE),
                                    m.version, NULL, NULL, NULL),
                     CL_OK);
    assert_int_equal(manager_change(fx->s, "ana@example.com", &p1, MANAGER_FIELD(CLIENT_NOMBRE),
                                    m.version, NULL, NULL, NULL),
                     CL_CONFLICT);
    assert_int_equal(manager_get(fx->s, "ana@example.com", &out, NULL), CL_OK);
    assert_string_equal(out.nombre, "Segunda");
    store_close(other);
}

#define RACERS 6

struct racer {
    const char *url;
    long long version;
    int id;
    enum cl_err result;
    char msg[300];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct store *s = NULL;
    struct client p;
    char err[256];

    if (store_open(r->url, &s, err, sizeof(err)) != CL_OK) {
        snprintf(r->msg, sizeof(r->msg), "open: %s", err);
        r->result = CL_STORAGE;
        return NULL;
    }
    client_init(&p);
    snprintf(p.nombre, sizeof(p.nombre), "Corredor %d", r->id);
    r->result = manager_change(s, "ana@example.com", &p, MANAGER_FIELD(CLIENT_NOMBRE), r->version,
                               NULL, NULL, NULL);
    snprintf(r->msg, sizeof(r->msg), "%s", store_errmsg(s));
    store_close(s);
    return NULL;
}

/* The same at once, from threads with handles of their own. */
static void test_same_version_race(void **state)
{
    struct fx *fx = *state;
    struct racer r[RACERS];
    pthread_t t[RACERS];
    struct client a, out;
    struct client_meta m;
    char url[1500];
    int won = -1, wins = 0;

    make_ana(&a);
    assert_int_equal(manager_create(fx->s, &a, &m, NULL), CL_OK);
    /* SQLite: writers wait for the lock, generously (valgrind, a loaded machine) */
    snprintf(url, sizeof(url), "%s%s", fx->url, fx_backend() == FX_SQLITE ? "?busy_timeout=30000" : "");
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct racer){url, m.version, i, CL_OK, ""};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < RACERS; i++) {
        if (r[i].result == CL_OK) {
            wins++;
            won = i;
        } else if (r[i].result != CL_CONFLICT) {
            fail_msg("racer %d: %s (%s)", i, cl_strerror(r[i].result), r[i].msg);
        }
    }
    assert_int_equal(wins, 1);
    assert_int_equal(manager_get(fx->s, "ana@example.com", &out, NULL), CL_OK);
    char want[32];
    snprintf(want, sizeof(want), "Corredor %d", won);
    assert_string_equal(out.nombre, want);
}

/* A store that lets another handle change the record right after the
 * manager read it, once: the manager's update then meets a new version. */
struct meddler {
    struct store base;
    struct store *real, *other;
    int meddle; /* gets to pass before the next one meddles; -1 never */
    int gets;
};

static enum cl_err m_get(struct store *s, const char *mail, struct client *out,
                         struct client_meta *meta)
{
    struct meddler *w = (struct meddler *)s;
    enum cl_err e = w->real->ops->get(w->real, mail, out, meta);

    if (w->gets++ == w->meddle)
        assert_int_equal(manager_update(w->other, mail, CLIENT_APELLIDOS, "Cambiado Antes", NULL),
                         CL_OK);
    return e;
}

static enum cl_err m_update(struct store *s, const struct client *c, const struct client_keys *k,
                            long long v, const char *now, const struct audit_entry *a,
                            struct client_meta *out)
{
    struct meddler *w = (struct meddler *)s;
    return w->real->ops->update(w->real, c, k, v, now, a, out);
}

static enum cl_err m_del(struct store *s, const char *mail, long long v,
                         const struct audit_entry *a)
{
    struct meddler *w = (struct meddler *)s;
    return w->real->ops->del(w->real, mail, v, a);
}

static void test_change_retries_on_fresh_record(void **state)
{
    struct fx *fx = *state;
    struct store_ops ops = {.name = "meddler", .get = m_get, .update = m_update, .del = m_del};
    struct meddler w = {.base = {.ops = &ops}, .real = fx->s, .other = fx_open(fx), .meddle = 0};
    struct client a, patch, out;
    struct client_meta m;

    make_ana(&a);
    assert_int_equal(manager_create(fx->s, &a, &m, NULL), CL_OK);
    client_init(&patch);
    strcpy(patch.nombre, "Nuevo");
    /* with if_version: the change another handle made wins, ours is a 412 */
    assert_int_equal(manager_change(&w.base, "ana@example.com", &patch,
                                    MANAGER_FIELD(CLIENT_NOMBRE), m.version, NULL, NULL, NULL),
                     CL_CONFLICT);
    /* without: read again, and both changes are kept */
    w.gets = 0;
    assert_int_equal(manager_change(&w.base, "ana@example.com", &patch,
                                    MANAGER_FIELD(CLIENT_NOMBRE), 0, &out, NULL, NULL),
                     CL_OK);
    assert_true(w.gets >= 2);
    assert_string_equal(out.nombre, "Nuevo");
    assert_string_equal(out.apellidos, "Cambiado Antes");
    fx_stored(fx->s, &out);
    /* the audit row's old values are those the change replaced */
    struct fx_audit_row r = fx_audit_last(fx->s);
    assert_string_equal(r.changes, "{\"nombre\":[\"Ana\",\"Nuevo\"]}");
    /* and a removal the same way */
    w.gets = 0;
    assert_int_equal(manager_remove(&w.base, "ana@example.com", 0, NULL), CL_OK);
    assert_true(w.gets >= 2);
    fx_absent(fx->s, "ana@example.com");
    r = fx_audit_last(fx->s);
    assert_string_equal(r.action, "client.delete");
    assert_non_null(strstr(r.changes, "\"apellidos\":[\"Cambiado Antes\",null]"));
    store_close(w.other);
}

/* What the audit row of each change says, with the handle's actor. */
static void test_audit_rows_of_changes(void **state)
{
    struct fx *fx = *state;
    struct client a;
    struct fx_audit_row r;
    const struct audit_actor who = {"user:ana", "req-123", "192.0.2.7"};

    fx_make(&a, "Ana \"la\" \\ Grande", "López", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    r = fx_audit_last(fx->s);
    fx_assert_time(r.at);
    assert_string_equal(r.actor, "cli"); /* no actor set: the operator */
    assert_false(r.has_request_id);
    assert_false(r.has_client_addr);
    assert_string_equal(r.action, "client.create");
    assert_string_equal(r.target, "ana@example.com");
    assert_string_equal(r.changes,
                        "{\"nombre\":[null,\"Ana \\\"la\\\" \\\\ Grande\"],"
                        "\"apellidos\":[null,\"López\"],\"mail\":[null,\"ana@example.com\"],"
                        "\"fecha_nacimiento\":[null,\"1/2/1980\"],"
                        "\"direccion\":[null,\"Calle Uno 1\"]}");

    store_set_actor(fx->s, &who);
    assert_int_equal(manager_update(fx->s, "ANA@example.com", CLIENT_FECHA_NACIMIENTO,
                                    "1980-02-01", NULL),
                     CL_OK);
    r = fx_audit_last(fx->s);
    assert_string_equal(r.actor, "user:ana");
    assert_string_equal(r.request_id, "req-123");
    assert_string_equal(r.client_addr, "192.0.2.7");
    assert_string_equal(r.changes, "{\"fecha_nacimiento\":[\"1/2/1980\",\"1980-02-01\"]}");
    store_set_actor(fx->s, NULL);
    assert_int_equal(manager_delete(fx->s, "ana@example.com", NULL), CL_OK);
    r = fx_audit_last(fx->s);
    assert_string_equal(r.actor, "cli");
    assert_false(r.has_request_id);
    assert_string_equal(r.action, "client.delete");
}

/* A change that fails leaves no audit row, and a change whose audit row
 * cannot be written is not made. */
static void test_audit_atomic(void **state)
{
    struct fx *fx = *state;
    struct client a, dup;
    struct client_keys k;
    char now[STORE_TIME_LEN + 1];
    long long rows;

    make_ana(&a);
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    rows = fx_audit_count(fx->s);
    fx_make(&dup, "Otra", "Persona", "ANA@example.com", "2/3/1990", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &dup, NULL), CL_EXISTS);
    assert_int_equal(manager_update(fx->s, "nadie@example.com", CLIENT_NOMBRE, "X", NULL),
                     CL_NOT_FOUND);
    assert_int_equal(manager_delete(fx->s, "nadie@example.com", NULL), CL_NOT_FOUND);
    assert_int_equal(manager_update(fx->s, "ana@example.com", CLIENT_NOMBRE, "", NULL),
                     CL_INVALID);
    assert_int_equal(fx_audit_count(fx->s), rows);

    /* an audit row the store refuses (no action): the record is not stored */
    fx_make(&dup, "Eva", "Ruiz", "eva@example.com", "8/09/1978", "Calle Tres 3");
    client_keys_of(&dup, &k);
    manager_now(now);
    struct audit_entry bad = {now, NULL, dup.mail, k.mail_key, NULL};
    assert_int_not_equal(fx->s->ops->add(fx->s, &dup, &k, now, &bad, NULL), CL_OK);
    fx_absent(fx->s, "eva@example.com");
    assert_int_equal(fx_audit_count(fx->s), rows);
    /* ... nor changed, nor deleted */
    struct client_meta m;
    struct client cur;
    assert_int_equal(manager_get_meta(fx->s, "ana@example.com", &cur, &m, NULL), CL_OK);
    strcpy(cur.nombre, "Cambiada");
    client_keys_of(&cur, &k);
    assert_int_not_equal(fx->s->ops->update(fx->s, &cur, &k, m.version, now, &bad, NULL), CL_OK);
    assert_int_not_equal(fx->s->ops->del(fx->s, "ana@example.com", m.version, &bad), CL_OK);
    fx_stored(fx->s, &a);
    assert_int_equal(meta_of(fx->s, "ana@example.com").version, m.version);
    assert_int_equal(fx_audit_count(fx->s), rows);
    /* and the handle works on */
    assert_int_equal(manager_add(fx->s, &dup, NULL), CL_OK);
    assert_int_equal(fx_audit_count(fx->s), rows + 1);
}

static void add_n(struct store *s, const char *prefix, int n, int dup_at)
{
    for (int i = 0; i < n; i++) {
        struct client c;
        char mail[64];
        snprintf(mail, sizeof(mail), "%s%d@example.com", prefix, i == dup_at ? 0 : i);
        fx_make(&c, "Lote", "Import", mail, "1/1/1990", "Calle");
        assert_int_equal(manager_add(s, &c, NULL), i == dup_at ? CL_EXISTS : CL_OK);
    }
}

static void test_batch_all_or_nothing(void **state)
{
    struct fx *fx = *state;
    struct store *other = fx_open(fx);
    long long rows = fx_audit_count(fx->s);

    /* rolled back: nothing of it stays, audit rows included */
    assert_int_equal(manager_begin(fx->s), CL_OK);
    assert_int_equal(manager_begin(fx->s), CL_INVALID); /* no nesting */
    add_n(fx->s, "roll", 10, 5);
    assert_int_equal(fx_count(fx->s), 1 + 9); /* the batch sees its own rows */
    assert_int_equal(manager_update(fx->s, EX_MAIL, CLIENT_NOMBRE, "Cambiado", NULL), CL_OK);
    assert_int_equal(fx_count(other), 1); /* and nobody else does yet */
    assert_int_equal(manager_rollback(fx->s), CL_OK);
    assert_int_equal(fx_count(fx->s), 1);
    assert_int_equal(fx_count(other), 1);
    assert_int_equal(fx_audit_count(fx->s), rows);
    struct client ex;
    fx_example(&ex);
    fx_stored(fx->s, &ex);

    /* committed: all of it, the failed add excepted (it undid only itself) */
    assert_int_equal(manager_begin(fx->s), CL_OK);
    add_n(fx->s, "lote", 10, 5);
    assert_int_equal(manager_erase(fx->s, "lote3@example.com", NULL), CL_OK);
    assert_int_equal(manager_commit(fx->s), CL_OK);
    assert_int_equal(fx_count(other), 1 + 8);
    fx_absent(other, "lote3@example.com");
    assert_int_equal(fx_audit_count(other), rows + 9 + 1);

    assert_int_equal(manager_commit(fx->s), CL_INVALID);
    assert_int_equal(manager_rollback(fx->s), CL_INVALID);
    /* outside a batch, each change is its own again */
    add_n(fx->s, "suelto", 2, -1);
    assert_int_equal(fx_count(other), 1 + 8 + 2);
    store_close(other);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_any, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_returns_meta),
        T(test_versions_never_reused),
        T(test_change_merges_fields),
        T(test_empty_change_counts),
        T(test_if_version),
        T(test_same_version_one_wins),
        T(test_same_version_race),
        T(test_change_retries_on_fresh_record),
        T(test_audit_rows_of_changes),
        T(test_audit_atomic),
        T(test_batch_all_or_nothing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
