/* test_store_audit.c - the audit trail on either backend (store_fx.h): a
 * client's history, the filtered trail, pruning, and erasure. */
#include "store_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(struct store *s, const char *mail, const char *nombre)
{
    struct client c;

    fx_make(&c, nombre, "Apellido", mail, "1/1/1990", "Calle Privada 1");
    assert_int_equal(manager_add(s, &c, NULL), CL_OK);
}

struct hist {
    struct fx_audit_row rows[12];
    int n;
};

static int hist_fn(const struct audit_view *v, void *ctx)
{
    struct hist *h = ctx;
    struct fx_audit_row *r;

    assert_true(h->n < 12);
    r = &h->rows[h->n++];
    memset(r, 0, sizeof(*r));
    r->id = v->id;
    snprintf(r->action, sizeof(r->action), "%s", v->action);
    snprintf(r->actor, sizeof(r->actor), "%s", v->actor);
    r->has_target = v->target != NULL;
    snprintf(r->target, sizeof(r->target), "%s", v->target ? v->target : "");
    r->has_changes = v->changes != NULL;
    snprintf(r->changes, sizeof(r->changes), "%s", v->changes ? v->changes : "");
    return 0;
}

static struct hist history(struct store *s, const char *mail, long long before, int limit,
                           enum cl_err want)
{
    struct hist h;

    h.n = 0;
    assert_int_equal(manager_history(s, mail, before, limit, hist_fn, &h), want);
    return h;
}

static void test_history(void **state)
{
    struct fx *fx = *state;
    struct hist h;

    add(fx->s, "Ana@Example.com", "Ana");
    add(fx->s, "luis@example.com", "Luis");
    for (int i = 0; i < 5; i++) {
        char v[32];
        snprintf(v, sizeof(v), "Ana %d", i);
        assert_int_equal(manager_update(fx->s, "ana@example.com", CLIENT_NOMBRE, v, NULL), CL_OK);
        assert_int_equal(manager_update(fx->s, "luis@example.com", CLIENT_NOMBRE, v, NULL),
                         CL_OK);
    }
    /* newest first, hers only, by any case of her mail */
    h = history(fx->s, "ANA@example.COM", 0, 100, CL_OK);
    assert_int_equal(h.n, 6);
    assert_string_equal(h.rows[0].action, "client.update");
    assert_string_equal(h.rows[0].changes, "{\"nombre\":[\"Ana 3\",\"Ana 4\"]}");
    assert_string_equal(h.rows[5].action, "client.create");
    for (int i = 0; i < h.n; i++) {
        assert_string_equal(h.rows[i].target, "Ana@Example.com");
        if (i)
            assert_true(h.rows[i].id < h.rows[i - 1].id);
    }
    /* in pages */
    struct hist p1 = history(fx->s, "ana@example.com", 0, 4, CL_OK);
    assert_int_equal(p1.n, 4);
    struct hist p2 = history(fx->s, "ana@example.com", p1.rows[3].id, 4, CL_OK);
    assert_int_equal(p2.n, 2);
    assert_int_equal(p2.rows[0].id, h.rows[4].id);
    struct hist p3 = history(fx->s, "ana@example.com", p2.rows[1].id, 4, CL_OK);
    assert_int_equal(p3.n, 0); /* the end of a history is no error */
    /* a deleted client keeps its history, the delete on top */
    assert_int_equal(manager_delete(fx->s, "ana@example.com", NULL), CL_OK);
    h = history(fx->s, "ana@example.com", 0, 100, CL_OK);
    assert_int_equal(h.n, 7);
    assert_string_equal(h.rows[0].action, "client.delete");
    /* nobody, and bad arguments */
    history(fx->s, "nadie@example.com", 0, 10, CL_NOT_FOUND);
    history(fx->s, "no es un mail", 0, 10, CL_INVALID);
    history(fx->s, "luis@example.com", 0, 0, CL_INVALID);
    history(fx->s, "luis@example.com", 0, 1001, CL_INVALID);
    /* the example, seeded by the store, has a record but no row */
    h = history(fx->s, EX_MAIL, 0, 10, CL_OK);
    assert_int_equal(h.n, 0);
}

static void audit_row(struct store *s, const char *at, const char *action, const char *target)
{
    const struct audit_entry a = {at, action, target, NULL, NULL};
    assert_int_equal(s->ops->audit_add(s, &a), CL_OK);
}

static void test_trail_filters(void **state)
{
    struct fx *fx = *state;
    struct fx_audit_row rows[32];
    struct audit_query q = {0};
    const struct audit_actor ana = {"user:ana", "r1", "192.0.2.1"};
    const struct audit_actor tok = {"token:7 (ci)", NULL, NULL};
    char now[STORE_TIME_LEN + 1];
    int n;

    manager_now(now);
    store_set_actor(fx->s, &ana);
    audit_row(fx->s, now, "login.ok", "ana");
    add(fx->s, "a@example.com", "A");
    store_set_actor(fx->s, &tok);
    add(fx->s, "b@example.com", "B");
    assert_int_equal(manager_delete(fx->s, "a@example.com", NULL), CL_OK);
    audit_row(fx->s, now, "token.create", "token:8");
    store_set_actor(fx->s, NULL);
    audit_row(fx->s, now, "clientx.fake", NULL); /* a prefix is up to its dot */

    n = fx_audit(fx->s, q, rows, 32);
    assert_int_equal(n, 6);
    assert_string_equal(rows[0].action, "clientx.fake");
    assert_string_equal(rows[0].actor, "cli");
    assert_string_equal(rows[5].action, "login.ok");
    assert_string_equal(rows[5].actor, "user:ana");
    assert_string_equal(rows[5].request_id, "r1");
    assert_string_equal(rows[5].client_addr, "192.0.2.1");
    assert_string_equal(rows[5].target, "ana");

    q.actor = "token:7 (ci)";
    assert_int_equal(fx_audit(fx->s, q, rows, 32), 3);
    q.action = "client.";
    n = fx_audit(fx->s, q, rows, 32);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].action, "client.delete");
    assert_string_equal(rows[1].action, "client.create");
    q.actor = NULL;
    assert_int_equal(fx_audit(fx->s, q, rows, 32), 3);
    q.action = "client.create";
    assert_int_equal(fx_audit(fx->s, q, rows, 32), 2);
    q.action = "client";
    assert_int_equal(fx_audit(fx->s, q, rows, 32), 0); /* exact without the dot */
    q.action = NULL;
    q.target_key = "b@example.com";
    assert_int_equal(fx_audit(fx->s, q, rows, 32), 1);
    q.target_key = NULL;
    q.since = "2000-01-01";
    assert_int_equal(fx_audit(fx->s, q, rows, 32), 6);
    q.since = "9999";
    assert_int_equal(fx_audit(fx->s, q, rows, 32), 0);
    q.since = NULL;
    /* keyset pages of the whole trail */
    struct fx_audit_row all[32];
    n = fx_audit(fx->s, q, all, 32);
    q.before_id = all[1].id;
    assert_int_equal(fx_audit(fx->s, q, rows, 2), 2);
    assert_int_equal(rows[0].id, all[2].id);
    assert_int_equal(rows[1].id, all[3].id);
    /* oldest first, after an id */
    q.before_id = 0;
    q.oldest_first = true;
    assert_int_equal(fx_audit(fx->s, q, rows, 32), 6);
    assert_int_equal(rows[0].id, all[5].id);
    assert_int_equal(rows[5].id, all[0].id);
    q.after_id = all[4].id;
    assert_int_equal(fx_audit(fx->s, q, rows, 2), 2);
    assert_int_equal(rows[0].id, all[3].id);
    assert_int_equal(rows[1].id, all[2].id);
    q.action = "client.";
    assert_int_equal(fx_audit(fx->s, q, rows, 32), 2);
    q.action = NULL;
    struct fx_audit_row none;
    q.before_id = 1; /* one direction at a time */
    q.limit = 10;
    assert_int_equal(manager_audit(fx->s, &q, NULL, &none), CL_INVALID);
    q.oldest_first = false;
    assert_int_equal(manager_audit(fx->s, &q, NULL, &none), CL_INVALID);
    q.after_id = 0;
    /* bad limits */
    struct fx_audit_row one;
    q.before_id = 0;
    q.limit = 0;
    assert_int_equal(manager_audit(fx->s, &q, NULL, &one), CL_INVALID);
    q.limit = 1001;
    assert_int_equal(manager_audit(fx->s, &q, NULL, &one), CL_INVALID);
}

static void test_prune(void **state)
{
    struct fx *fx = *state;
    struct fx_audit_row rows[16];
    const struct audit_query q = {0};
    long long deleted = -1;

    audit_row(fx->s, "2001-01-01T00:00:00.000Z", "login.fail", "viejo");
    audit_row(fx->s, "2002-06-01T00:00:00.000Z", "login.fail", "viejo");
    add(fx->s, "a@example.com", "A");
    assert_int_equal(manager_audit_prune(fx->s, 30, &deleted), CL_OK);
    assert_int_equal(deleted, 2);
    assert_int_equal(fx_audit(fx->s, q, rows, 16), 1);
    assert_string_equal(rows[0].action, "client.create");
    assert_int_equal(manager_audit_prune(fx->s, 30, &deleted), CL_OK);
    assert_int_equal(deleted, 0);
    /* at least a day is kept */
    assert_int_equal(manager_audit_prune(fx->s, 0, &deleted), CL_INVALID);
    assert_int_equal(manager_audit_prune(fx->s, -5, &deleted), CL_INVALID);
    /* what the database itself keeps, were the manager bypassed: the rows
     * of the last day */
    enum cl_err e = fx->s->ops->audit_prune(fx->s, "9999-01-01T00:00:00.000Z", &deleted);
    assert_true(e != CL_OK || deleted == 0);
    assert_int_equal(fx_audit(fx->s, q, rows, 16), 1);
    /* ids keep growing after a prune */
    add(fx->s, "b@example.com", "B");
    struct fx_audit_row r = fx_audit_last(fx->s);
    assert_true(r.id > rows[0].id);
}

/* ---- erasure ---- */

static void test_erase(void **state)
{
    struct fx *fx = *state;
    const struct audit_actor admin = {"user:admin", "req-e", "192.0.2.9"};
    struct fx_audit_row rows[32];
    const struct audit_query all = {0};
    int before, n;

    add(fx->s, "Borrar@Example.com", "Secreto");
    add(fx->s, "queda@example.com", "Queda");
    assert_int_equal(manager_update(fx->s, "borrar@example.com", CLIENT_NOMBRE, "Oculto", NULL),
                     CL_OK);
    assert_int_equal(manager_update(fx->s, "queda@example.com", CLIENT_NOMBRE, "Sigue", NULL),
                     CL_OK);
    before = fx_audit(fx->s, all, rows, 32);

    store_set_actor(fx->s, &admin);
    assert_int_equal(manager_erase(fx->s, "BORRAR@example.com", NULL), CL_OK);
    store_set_actor(fx->s, NULL);
    fx_absent(fx->s, "borrar@example.com");
    /* the trail: one row more, the erasure's, with who and when only */
    n = fx_audit(fx->s, all, rows, 32);
    assert_int_equal(n, before + 1);
    assert_string_equal(rows[0].action, "client.erase");
    assert_string_equal(rows[0].actor, "user:admin");
    assert_string_equal(rows[0].request_id, "req-e");
    assert_false(rows[0].has_target);
    assert_false(rows[0].has_changes);
    /* her rows keep their action, actor and time, without her values */
    int cleared = 0;
    for (int i = 0; i < n; i++) {
        assert_null(strstr(rows[i].changes, "Secreto"));
        assert_null(strstr(rows[i].changes, "Oculto"));
        assert_null(strstr(rows[i].target, "orrar"));
        if (!rows[i].has_target && strcmp(rows[i].action, "client.erase") != 0)
            cleared++;
    }
    assert_int_equal(cleared, 2); /* her create and her update */
    /* the other client's rows are untouched */
    struct hist h = history(fx->s, "queda@example.com", 0, 10, CL_OK);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.rows[0].changes, "{\"nombre\":[\"Queda\",\"Sigue\"]}");
    /* nothing is left to name her: her history is unknown, a second erasure too */
    history(fx->s, "borrar@example.com", 0, 10, CL_NOT_FOUND);
    assert_int_equal(manager_erase(fx->s, "borrar@example.com", NULL), CL_NOT_FOUND);
    assert_int_equal(manager_erase(fx->s, "nadie@example.com", NULL), CL_NOT_FOUND);
    assert_int_equal(manager_erase(fx->s, "no es mail", NULL), CL_INVALID);
    /* a client deleted earlier, with only her rows left, can be erased */
    assert_int_equal(manager_delete(fx->s, "queda@example.com", NULL), CL_OK);
    assert_int_equal(manager_erase(fx->s, "queda@example.com", NULL), CL_OK);
    history(fx->s, "queda@example.com", 0, 10, CL_NOT_FOUND);
    /* a client with a record but no row (the example) too */
    assert_int_equal(manager_erase(fx->s, EX_MAIL, NULL), CL_OK);
    fx_absent(fx->s, EX_MAIL);
    /* and the mail is free again */
    add(fx->s, "borrar@example.com", "Nueva");
    h = history(fx->s, "borrar@example.com", 0, 10, CL_OK);
    assert_int_equal(h.n, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_any, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_history),
        T(test_trail_filters),
        T(test_prune),
        T(test_erase),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
