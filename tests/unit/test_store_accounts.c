/* test_store_accounts.c - what the store keeps of users, API tokens and
 * browser sessions, on either backend (store_fx.h); the rules on top of
 * them (passwords, throttling, verification) are tested with the accounts
 * module. */
#include "store_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct audit_entry *entry(const char *action, const char *target)
{
    static char now[STORE_TIME_LEN + 1];
    static struct audit_entry a;

    manager_now(now);
    a = (struct audit_entry){now, action, target, NULL, NULL};
    return &a;
}

static struct user new_user(const char *name, enum role role)
{
    struct user u;

    memset(&u, 0, sizeof(u));
    snprintf(u.name, sizeof(u.name), "%s", name);
    snprintf(u.pwhash, sizeof(u.pwhash), "$argon2id$v=19$m=19456,t=2,p=1$%s", name);
    u.role = role;
    return u;
}

static void digest_of(const char *secret, char out[SECRET_DIGEST_LEN + 1])
{
    secret_digest(secret, strlen(secret), out);
}

struct names {
    char v[8][USER_NAME_MAX + 1];
    long long id[8];
    int n;
};

static int user_fn(const struct user *u, void *ctx)
{
    struct names *n = ctx;
    snprintf(n->v[n->n], sizeof(n->v[0]), "%s", u->name);
    n->id[n->n++] = u->id;
    return n->n == 8;
}

static void test_users(void **state)
{
    struct fx *fx = *state;
    struct user ana = new_user("ana", ROLE_ADMIN), luis = new_user("luis", ROLE_READER), got;
    struct names names = {0};
    long long n = -1;

    assert_int_equal(fx->s->ops->user_count(fx->s, &n), CL_OK);
    assert_int_equal(n, 0); /* a new store has no user */
    assert_int_equal(fx->s->ops->user_add(fx->s, &luis, entry("user.create", "luis")), CL_OK);
    assert_int_equal(fx->s->ops->user_add(fx->s, &ana, entry("user.create", "ana")), CL_OK);
    assert_true(ana.id > 0 && luis.id > 0 && ana.id != luis.id);
    fx_assert_time(ana.creado); /* filled in when not given */
    struct fx_audit_row r = fx_audit_last(fx->s);
    assert_string_equal(r.action, "user.create");
    assert_string_equal(r.target, "ana");

    /* by name (exact) and by id */
    memset(&got, 'x', sizeof(got));
    assert_int_equal(fx->s->ops->user_get(fx->s, "ana", &got), CL_OK);
    assert_int_equal(got.id, ana.id);
    assert_string_equal(got.name, "ana");
    assert_string_equal(got.pwhash, ana.pwhash);
    assert_int_equal(got.role, ROLE_ADMIN);
    assert_false(got.disabled);
    assert_int_equal(got.fail_count, 0);
    assert_int_equal(got.fail_since, 0);
    assert_string_equal(got.creado, ana.creado);
    assert_int_equal(fx->s->ops->user_get(fx->s, "ANA", &got), CL_NOT_FOUND);
    assert_int_equal(fx->s->ops->user_get_id(fx->s, luis.id, &got), CL_OK);
    assert_string_equal(got.name, "luis");
    assert_int_equal(got.role, ROLE_READER);
    assert_int_equal(fx->s->ops->user_get_id(fx->s, 999999, &got), CL_NOT_FOUND);

    /* a name is one user's */
    struct user dup = new_user("ana", ROLE_READER);
    long long rows = fx_audit_count(fx->s);
    assert_int_equal(fx->s->ops->user_add(fx->s, &dup, entry("user.create", "ana")), CL_EXISTS);
    struct user none = new_user("nadie", ROLE_NONE);
    assert_int_equal(fx->s->ops->user_add(fx->s, &none, entry("user.create", "nadie")),
                     CL_INVALID);
    assert_int_equal(fx_audit_count(fx->s), rows);

    /* changes: hash, role, disabled */
    got = ana;
    snprintf(got.pwhash, sizeof(got.pwhash), "%s", "$argon2id$new");
    got.role = ROLE_EDITOR;
    got.disabled = true;
    assert_int_equal(fx->s->ops->user_update(fx->s, &got, entry("user.disable", "ana")), CL_OK);
    assert_int_equal(fx->s->ops->user_get(fx->s, "ana", &got), CL_OK);
    assert_string_equal(got.pwhash, "$argon2id$new");
    assert_int_equal(got.role, ROLE_EDITOR);
    assert_true(got.disabled);
    assert_string_equal(fx_audit_last(fx->s).action, "user.disable");
    got.id = 999999;
    assert_int_equal(fx->s->ops->user_update(fx->s, &got, entry("user.role", "x")), CL_NOT_FOUND);
    assert_int_equal(fx_audit_count(fx->s), rows + 1);

    /* a login's outcome and its row, together */
    assert_int_equal(fx->s->ops->user_login(fx->s, luis.id, 3, 1700000000,
                                            entry("login.fail", "luis")),
                     CL_OK);
    assert_int_equal(fx->s->ops->user_get(fx->s, "luis", &got), CL_OK);
    assert_int_equal(got.fail_count, 3);
    assert_int_equal(got.fail_since, 1700000000);
    assert_string_equal(fx_audit_last(fx->s).action, "login.fail");
    assert_int_equal(fx->s->ops->user_login(fx->s, luis.id, 0, 0, entry("login.ok", "luis")),
                     CL_OK);
    assert_int_equal(fx->s->ops->user_get(fx->s, "luis", &got), CL_OK);
    assert_int_equal(got.fail_count, 0);
    assert_int_equal(fx->s->ops->user_login(fx->s, 999999, 1, 1, entry("login.fail", "x")),
                     CL_NOT_FOUND);

    /* every user, by name */
    struct user zoe = new_user("zoe", ROLE_EDITOR), bea = new_user("bea", ROLE_READER);
    assert_int_equal(fx->s->ops->user_add(fx->s, &zoe, entry("user.create", "zoe")), CL_OK);
    assert_int_equal(fx->s->ops->user_add(fx->s, &bea, entry("user.create", "bea")), CL_OK);
    assert_int_equal(fx->s->ops->user_list(fx->s, user_fn, &names), CL_OK);
    assert_int_equal(names.n, 4);
    assert_string_equal(names.v[0], "ana");
    assert_string_equal(names.v[1], "bea");
    assert_string_equal(names.v[2], "luis");
    assert_string_equal(names.v[3], "zoe");
    assert_int_equal(fx->s->ops->user_count(fx->s, &n), CL_OK);
    assert_int_equal(n, 4);
    /* it survives a reopen */
    fx_reopen(fx);
    assert_int_equal(fx->s->ops->user_get(fx->s, "zoe", &got), CL_OK);
    assert_int_equal(got.id, zoe.id);
}

struct ids {
    long long id[8];
    char owner[8][USER_NAME_MAX + 1];
    int n;
};

static int token_fn(const struct token *t, void *ctx)
{
    struct ids *i = ctx;
    snprintf(i->owner[i->n], sizeof(i->owner[0]), "%s", t->owner);
    i->id[i->n++] = t->id;
    return 0;
}

static void test_tokens(void **state)
{
    struct fx *fx = *state;
    struct user ana = new_user("ana", ROLE_EDITOR);
    struct token t, op, got;
    struct ids ids = {0};

    assert_int_equal(fx->s->ops->user_add(fx->s, &ana, entry("user.create", "ana")), CL_OK);
    memset(&t, 0, sizeof(t));
    snprintf(t.label, sizeof(t.label), "%s", "ci");
    digest_of("clt_secret-one", t.digest);
    t.role = ROLE_READER;
    t.user_id = ana.id;
    t.expires = 2000000000;
    assert_int_equal(fx->s->ops->token_add(fx->s, &t, entry("token.create", "token:?")), CL_OK);
    assert_true(t.id > 0);
    fx_assert_time(t.creado);
    memset(&op, 0, sizeof(op));
    snprintf(op.label, sizeof(op.label), "%s", "operador");
    digest_of("clt_secret-two", op.digest);
    op.role = ROLE_ADMIN;
    assert_int_equal(fx->s->ops->token_add(fx->s, &op, entry("token.create", "token:?")), CL_OK);
    assert_true(op.id > t.id);

    /* by digest, with the owner */
    memset(&got, 'x', sizeof(got));
    assert_int_equal(fx->s->ops->token_find(fx->s, t.digest, &got), CL_OK);
    assert_int_equal(got.id, t.id);
    assert_string_equal(got.label, "ci");
    assert_string_equal(got.digest, t.digest);
    assert_int_equal(got.role, ROLE_READER);
    assert_int_equal(got.user_id, ana.id);
    assert_string_equal(got.owner, "ana");
    assert_false(got.owner_disabled);
    assert_int_equal(got.owner_role, ana.role);
    assert_int_equal(got.expires, 2000000000);
    assert_int_equal(got.revoked, 0);
    assert_int_equal(got.last_used, 0);
    assert_string_equal(got.creado, t.creado);
    assert_int_equal(fx->s->ops->token_find(fx->s, op.digest, &got), CL_OK);
    assert_int_equal(got.user_id, 0); /* the operator's */
    assert_string_equal(got.owner, "");
    assert_int_equal(got.owner_role, ROLE_NONE);
    char other[SECRET_DIGEST_LEN + 1];
    digest_of("clt_unknown", other);
    assert_int_equal(fx->s->ops->token_find(fx->s, other, &got), CL_NOT_FOUND);

    /* a digest is one token's */
    struct token dup = t;
    long long rows = fx_audit_count(fx->s);
    assert_int_equal(fx->s->ops->token_add(fx->s, &dup, entry("token.create", "x")), CL_EXISTS);
    assert_int_equal(fx_audit_count(fx->s), rows);

    /* touch: no audit row */
    assert_int_equal(fx->s->ops->token_touch(fx->s, t.id, 1750000000), CL_OK);
    assert_int_equal(fx_audit_count(fx->s), rows);
    assert_int_equal(fx->s->ops->token_find(fx->s, t.digest, &got), CL_OK);
    assert_int_equal(got.last_used, 1750000000);
    assert_int_equal(fx->s->ops->token_touch(fx->s, 999999, 1), CL_NOT_FOUND);

    /* the owner's role as it is now; a disabled owner shows */
    struct user u = ana;
    u.role = ROLE_READER;
    assert_int_equal(fx->s->ops->user_update(fx->s, &u, entry("user.role", "ana")), CL_OK);
    assert_int_equal(fx->s->ops->token_find(fx->s, t.digest, &got), CL_OK);
    assert_int_equal(got.owner_role, ROLE_READER);
    u.disabled = true;
    assert_int_equal(fx->s->ops->user_update(fx->s, &u, entry("user.disable", "ana")), CL_OK);
    assert_int_equal(fx->s->ops->token_find(fx->s, t.digest, &got), CL_OK);
    assert_true(got.owner_disabled);

    /* revocation, once */
    assert_int_equal(fx->s->ops->token_revoke(fx->s, t.id, 1760000000,
                                              entry("token.revoke", "token:1")),
                     CL_OK);
    assert_int_equal(fx->s->ops->token_find(fx->s, t.digest, &got), CL_OK);
    assert_int_equal(got.revoked, 1760000000);
    assert_string_equal(fx_audit_last(fx->s).action, "token.revoke");
    rows = fx_audit_count(fx->s);
    assert_int_equal(fx->s->ops->token_revoke(fx->s, t.id, 1770000000, entry("token.revoke", "x")),
                     CL_NOT_FOUND);
    assert_int_equal(fx->s->ops->token_revoke(fx->s, 999999, 1, entry("token.revoke", "x")),
                     CL_NOT_FOUND);
    assert_int_equal(fx_audit_count(fx->s), rows);
    assert_int_equal(fx->s->ops->token_find(fx->s, t.digest, &got), CL_OK);
    assert_int_equal(got.revoked, 1760000000);

    /* every token, by id */
    assert_int_equal(fx->s->ops->token_list(fx->s, token_fn, &ids), CL_OK);
    assert_int_equal(ids.n, 2);
    assert_int_equal(ids.id[0], t.id);
    assert_string_equal(ids.owner[0], "ana");
    assert_int_equal(ids.id[1], op.id);
    assert_string_equal(ids.owner[1], "");
}

static void test_sessions(void **state)
{
    struct fx *fx = *state;
    struct user ana = new_user("ana", ROLE_EDITOR), luis = new_user("luis", ROLE_READER);
    struct session se, got;
    struct user who;
    long long deleted = -1;

    assert_int_equal(fx->s->ops->user_add(fx->s, &ana, entry("user.create", "ana")), CL_OK);
    assert_int_equal(fx->s->ops->user_add(fx->s, &luis, entry("user.create", "luis")), CL_OK);
    const struct {
        const char *id;
        struct user *u;
        long long created, seen;
    } all[] = {
        {"s-fresh", &ana, 1000, 1900},
        {"s-idle", &ana, 1000, 1100},   /* idle since before 1500 */
        {"s-old", &ana, 100, 1950},     /* created before 500 */
        {"s-luis", &luis, 1000, 1950},  /* luis gets disabled */
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        memset(&se, 0, sizeof(se));
        digest_of(all[i].id, se.digest);
        se.user_id = all[i].u->id;
        se.created = all[i].created;
        se.last_seen = all[i].seen;
        assert_int_equal(fx->s->ops->session_add(fx->s, &se, entry("login.ok", all[i].u->name)),
                         CL_OK);
    }
    digest_of("s-fresh", se.digest);
    memset(&got, 'x', sizeof(got));
    memset(&who, 'x', sizeof(who));
    assert_int_equal(fx->s->ops->session_find(fx->s, se.digest, &got, &who), CL_OK);
    assert_string_equal(got.digest, se.digest);
    assert_int_equal(got.user_id, ana.id);
    assert_int_equal(got.created, 1000);
    assert_int_equal(got.last_seen, 1900);
    assert_int_equal(who.id, ana.id);
    assert_string_equal(who.name, "ana");
    assert_int_equal(who.role, ROLE_EDITOR);
    assert_int_equal(fx->s->ops->session_find(fx->s, se.digest, &got, NULL), CL_OK);
    char other[SECRET_DIGEST_LEN + 1];
    digest_of("s-none", other);
    assert_int_equal(fx->s->ops->session_find(fx->s, other, &got, &who), CL_NOT_FOUND);

    long long rows = fx_audit_count(fx->s);
    assert_int_equal(fx->s->ops->session_touch(fx->s, se.digest, 1990), CL_OK);
    assert_int_equal(fx->s->ops->session_find(fx->s, se.digest, &got, NULL), CL_OK);
    assert_int_equal(got.last_seen, 1990);
    assert_int_equal(fx->s->ops->session_touch(fx->s, other, 1990), CL_NOT_FOUND);
    assert_int_equal(fx_audit_count(fx->s), rows);

    /* prune: idle, too old, a disabled user's */
    struct user u = luis;
    u.disabled = true;
    assert_int_equal(fx->s->ops->user_update(fx->s, &u, entry("user.disable", "luis")), CL_OK);
    assert_int_equal(fx->s->ops->session_prune(fx->s, 1500, 500, &deleted), CL_OK);
    assert_int_equal(deleted, 3);
    assert_int_equal(fx->s->ops->session_find(fx->s, se.digest, &got, NULL), CL_OK);
    for (int i = 1; i < 4; i++) {
        digest_of(all[i].id, other);
        assert_int_equal(fx->s->ops->session_find(fx->s, other, &got, NULL), CL_NOT_FOUND);
    }

    /* logout, once; an expired session's delete has no audit row */
    rows = fx_audit_count(fx->s);
    assert_int_equal(fx->s->ops->session_delete(fx->s, se.digest, entry("logout", "ana")), CL_OK);
    assert_int_equal(fx_audit_count(fx->s), rows + 1);
    assert_string_equal(fx_audit_last(fx->s).action, "logout");
    assert_int_equal(fx->s->ops->session_delete(fx->s, se.digest, entry("logout", "ana")),
                     CL_NOT_FOUND);
    assert_int_equal(fx_audit_count(fx->s), rows + 1);
    memset(&se, 0, sizeof(se));
    digest_of("s-expired", se.digest);
    se.user_id = ana.id;
    assert_int_equal(fx->s->ops->session_add(fx->s, &se, NULL), CL_OK);
    assert_int_equal(fx->s->ops->session_delete(fx->s, se.digest, NULL), CL_OK);
    assert_int_equal(fx_audit_count(fx->s), rows + 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_any, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_users),
        T(test_tokens),
        T(test_sessions),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
