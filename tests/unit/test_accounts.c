/* test_accounts.c - lib/accounts over a real store (either backend, see
 * store_fx.h): the user rules, logins and their throttling (with an
 * injected clock), sessions and their expiry, the token role cap,
 * revocation and expiry, last-used throttling, hash upgrades, and the audit
 * row of every change. */
#include "store_fx.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"

#define PW "una frase de paso bastante larga"
#define PW2 "otra frase de paso igual de larga"
#define T0 1796000000LL /* a fixed "now", in seconds */

/* The injected clock: tests move it. */
static long long clock_ms;

static long long test_clock(void *ctx)
{
    (void)ctx;
    return clock_ms;
}

static void at(long long s)
{
    clock_ms = s * 1000 + 123;
}

static struct accounts_config cfg(void)
{
    struct accounts_config c;

    accounts_config_default(&c);
    c.now_ms = test_clock;
    return c;
}

static struct store *S(void **state)
{
    return ((struct fx *)*state)->s;
}

static void add_user(struct store *s, const char *name, enum role role)
{
    struct accounts_config c = cfg();
    const char *why = NULL;
    enum cl_err e = accounts_user_add(s, &c, name, role, PW, strlen(PW), &why);

    if (e)
        fail_msg("accounts_user_add(%s): %s (%s)", name, cl_strerror(e), why ? why : "");
}

static enum cl_err login(struct store *s, const char *name, const char *pw,
                         struct accounts_session *out, long *retry)
{
    struct accounts_config c = cfg();

    return accounts_login(s, &c, name, pw, strlen(pw), out, retry);
}

/* The newest n audit rows, newest first, as "actor action target changes". */
struct rows {
    int n, cap;
    char line[32][512];
};

static int collect(const struct audit_view *r, void *ctx)
{
    struct rows *rows = ctx;

    if (rows->n == rows->cap)
        return 1;
    snprintf(rows->line[rows->n++], sizeof(rows->line[0]), "%s %s %s %s", r->actor, r->action,
             r->target ? r->target : "-", r->changes ? r->changes : "-");
    return 0;
}

static void newest(struct store *s, int n, struct rows *rows)
{
    struct audit_query q;

    memset(rows, 0, sizeof(*rows));
    rows->cap = n;
    memset(&q, 0, sizeof(q));
    q.limit = n;
    assert_int_equal(manager_audit(s, &q, collect, rows), CL_OK);
}

static long long audit_count(struct store *s)
{
    struct rows rows;

    newest(s, 32, &rows);
    return rows.n;
}

static void expect_row(struct store *s, const char *want)
{
    struct rows rows;

    newest(s, 1, &rows);
    assert_int_equal(rows.n, 1);
    assert_string_equal(rows.line[0], want);
}

/* The one token labelled `label`, as the store has it. */
struct by_label {
    const char *label;
    struct token t;
    int n;
};

static int by_label(const struct token *t, void *ctx)
{
    struct by_label *b = ctx;

    if (strcmp(t->label, b->label) == 0) {
        b->t = *t;
        b->n++;
    }
    return 0;
}

static struct token stored_token(struct store *s, const char *label)
{
    struct by_label b = {.label = label};

    assert_int_equal(accounts_token_list(s, by_label, &b), CL_OK);
    assert_int_equal(b.n, 1);
    return b.t;
}

/* Whether the store has a session under the digest of `id`, and none under
 * the id itself: only digests are kept. */
static bool session_stored(struct store *s, const char *id)
{
    char digest[SECRET_DIGEST_LEN + 1];
    struct session se;
    struct user u;
    enum cl_err e;

    assert_int_equal(s->ops->session_find(s, id, &se, &u), CL_NOT_FOUND);
    secret_digest(id, strlen(id), digest);
    e = s->ops->session_find(s, digest, &se, &u);
    assert_true(e == CL_OK || e == CL_NOT_FOUND);
    return e == CL_OK;
}

/* ---- users ------------------------------------------------------------ */

static void test_user_rules(void **state)
{
    struct accounts_config c = cfg();
    struct store *s = S(state);
    const char *why;
    struct user u;
    char long_name[70];

    at(T0);
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    const char *bad_names[] = {"", "Ana", "ana lopez", "ana/x", "añа", long_name};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        why = NULL;
        assert_int_equal(accounts_user_add(s, &c, bad_names[i], ROLE_READER, PW, strlen(PW), &why),
                         CL_INVALID);
        assert_non_null(why);
    }
    why = NULL;
    assert_int_equal(accounts_user_add(s, &c, "ana", ROLE_NONE, PW, strlen(PW), &why), CL_INVALID);
    assert_non_null(why);
    /* the password policy: too short, a common one, the name itself */
    const char *bad_pw[] = {"corta", "contrasena12345", "ana.lopez@x.es"};
    for (size_t i = 0; i < sizeof(bad_pw) / sizeof(bad_pw[0]); i++) {
        why = NULL;
        assert_int_equal(
            accounts_user_add(s, &c, "ana.lopez@x.es", ROLE_READER, bad_pw[i], strlen(bad_pw[i]),
                              &why),
            CL_INVALID);
        assert_non_null(why);
    }
    assert_int_equal(audit_count(s), 0); /* nothing refused was written */

    store_set_actor(s, &(struct audit_actor){"user:root", "req-1", "10.0.0.1"});
    assert_int_equal(accounts_user_add(s, &c, "ana.lopez@x.es", ROLE_EDITOR, PW, strlen(PW), &why),
                     CL_OK);
    expect_row(s, "user:root user.create ana.lopez@x.es {\"role\":[null,\"editor\"]}");
    store_set_actor(s, NULL);
    assert_int_equal(accounts_user_add(s, &c, "ana.lopez@x.es", ROLE_ADMIN, PW, strlen(PW), &why),
                     CL_EXISTS);
    assert_int_equal(accounts_user_get(s, "ana.lopez@x.es", &u), CL_OK);
    assert_int_equal(u.role, ROLE_EDITOR);
    assert_false(u.disabled);
    assert_non_null(strstr(u.pwhash, "$argon2id$"));
    assert_null(strstr(u.pwhash, PW));

    assert_int_equal(accounts_user_role(s, &c, "ana.lopez@x.es", ROLE_READER), CL_OK);
    expect_row(s, "cli user.role ana.lopez@x.es {\"role\":[\"editor\",\"reader\"]}");
    assert_int_equal(accounts_user_role(s, &c, "nadie", ROLE_READER), CL_NOT_FOUND);
    assert_int_equal(accounts_user_disable(s, &c, "ana.lopez@x.es", true), CL_OK);
    expect_row(s, "cli user.disable ana.lopez@x.es {\"disabled\":[false,true]}");
    assert_int_equal(accounts_user_passwd(s, &c, "ana.lopez@x.es", "corta", 5, &why), CL_INVALID);
    assert_int_equal(accounts_user_passwd(s, &c, "ana.lopez@x.es", PW2, strlen(PW2), &why), CL_OK);
    expect_row(s, "cli user.password ana.lopez@x.es -");
    assert_int_equal(accounts_user_passwd(s, &c, "nadie", PW2, strlen(PW2), &why), CL_NOT_FOUND);
}

static void test_unused_store(void **state)
{
    struct accounts_config c = cfg();
    struct principal op;
    char tok[TOKEN_TEXT_LEN + 1];
    bool unused = false;
    long long n = -1;

    at(T0);
    assert_int_equal(accounts_unused(S(state), &unused), CL_OK);
    assert_true(unused);
    principal_operator(&op);
    assert_int_equal(accounts_token_create(S(state), &c, &op, "ci", ROLE_EDITOR, NULL, 0, tok,
                                           NULL, NULL),
                     CL_OK);
    assert_int_equal(accounts_unused(S(state), &unused), CL_OK);
    assert_false(unused); /* a token alone makes it used */
    assert_int_equal(accounts_user_count(S(state), &n), CL_OK);
    assert_int_equal(n, 0);
    add_user(S(state), "ana", ROLE_ADMIN);
    assert_int_equal(accounts_user_count(S(state), &n), CL_OK);
    assert_int_equal(n, 1);
}

/* ---- logins and sessions ---------------------------------------------- */

static void test_login_and_logout(void **state)
{
    struct accounts_config c = cfg();
    struct store *s = S(state);
    struct accounts_session a, b;
    struct principal who;
    char csrf[SECRET_DIGEST_LEN + 1];
    long retry = -1;

    at(T0);
    add_user(s, "ana", ROLE_EDITOR);
    assert_int_equal(login(s, "ana", PW, &a, &retry), CL_OK);
    assert_true(session_id_well_formed(a.id, strlen(a.id)));
    assert_int_equal(a.who.kind, PRINCIPAL_SESSION);
    assert_int_equal(a.who.role, ROLE_EDITOR);
    assert_string_equal(a.who.user, "ana");
    assert_string_equal(a.who.actor, "user:ana");
    session_csrf_token(a.id, csrf);
    assert_string_equal(a.who.csrf, csrf);
    expect_row(s, "cli login.ok ana -");
    /* a fresh id at every login; both sessions live */
    assert_int_equal(login(s, "ana", PW, &b, NULL), CL_OK);
    assert_string_not_equal(a.id, b.id);
    assert_string_not_equal(a.who.csrf, b.who.csrf);
    assert_int_equal(accounts_session_check(s, &c, a.id, strlen(a.id), &who), CL_OK);
    assert_string_equal(who.user, "ana");
    assert_string_equal(who.csrf, a.who.csrf);
    assert_int_equal(accounts_session_check(s, &c, b.id, strlen(b.id), &who), CL_OK);
    /* only digests are stored */
    assert_true(session_stored(s, a.id));
    assert_true(session_stored(s, b.id));

    /* one refusal for everything wrong */
    assert_int_equal(login(s, "ana", PW2, &b, NULL), CL_DENIED);
    assert_int_equal(login(s, "nadie", PW, &b, NULL), CL_DENIED);
    assert_int_equal(login(s, "Ana", PW, &b, NULL), CL_DENIED);
    assert_int_equal(accounts_login(s, &c, "ana", PW, strlen(PW) - 1, &b, NULL), CL_DENIED);

    assert_int_equal(accounts_logout(s, &c, a.id, strlen(a.id)), CL_OK);
    expect_row(s, "cli logout ana -");
    assert_int_equal(accounts_session_check(s, &c, a.id, strlen(a.id), &who), CL_DENIED);
    assert_int_equal(who.kind, PRINCIPAL_NONE);
    assert_int_equal(accounts_logout(s, &c, a.id, strlen(a.id)), CL_NOT_FOUND);
    /* malformed ids are refused without a lookup */
    assert_int_equal(accounts_session_check(s, &c, "x", 1, &who), CL_DENIED);
    assert_int_equal(accounts_session_check(s, &c, a.id, strlen(a.id) - 1, &who), CL_DENIED);
}

static void test_login_throttling(void **state)
{
    struct store *s = S(state);
    struct accounts_session se;
    struct user u;
    long retry = 0;

    add_user(s, "ana", ROLE_READER);
    at(T0);
    for (int i = 0; i < 5; i++) {
        at(T0 + i * 10);
        assert_int_equal(login(s, "ana", PW2, &se, &retry), CL_DENIED);
    }
    expect_row(s, "cli login.fail ana {\"fail_count\":[4,5]}");
    /* the sixth attempt, right password or not, waits out the window opened
     * by the first failure: no password is checked, nothing is written */
    long long rows = audit_count(s);
    at(T0 + 100);
    assert_int_equal(login(s, "ana", PW, &se, &retry), CL_THROTTLED);
    assert_int_equal(retry, 900 - 100);
    at(T0 + 899);
    assert_int_equal(login(s, "ana", PW2, &se, &retry), CL_THROTTLED);
    assert_int_equal(retry, 1);
    assert_int_equal(audit_count(s), rows);
    /* the window over: the owner logs in, which clears the failures */
    at(T0 + 900);
    assert_int_equal(login(s, "ana", PW, &se, &retry), CL_OK);
    assert_int_equal(accounts_user_get(s, "ana", &u), CL_OK);
    assert_int_equal(u.fail_count, 0);
    assert_int_equal(u.fail_since, 0);
    expect_row(s, "cli login.ok ana -");
    /* four failures, a success, four more: never five in a row */
    for (int i = 0; i < 4; i++)
        assert_int_equal(login(s, "ana", PW2, &se, NULL), CL_DENIED);
    assert_int_equal(login(s, "ana", PW, &se, NULL), CL_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(login(s, "ana", PW2, &se, NULL), CL_DENIED);
    assert_int_equal(login(s, "ana", PW, &se, NULL), CL_OK);
    /* failures of a closed window do not count in the next one */
    at(T0 + 2000);
    for (int i = 0; i < 4; i++)
        assert_int_equal(login(s, "ana", PW2, &se, NULL), CL_DENIED);
    at(T0 + 2000 + 900);
    assert_int_equal(login(s, "ana", PW2, &se, NULL), CL_DENIED);
    expect_row(s, "cli login.fail ana {\"fail_count\":[0,1]}");
    assert_int_equal(login(s, "ana", PW, &se, NULL), CL_OK);
}

static double seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void test_unknown_user_takes_as_long(void **state)
{
    struct store *s = S(state);
    struct accounts_session se;
    double known[5], unknown[5], huge[5];
    char big[ACCOUNT_PASSWORD_MAX_BYTES + 100];
    struct accounts_config c = cfg();

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';

    add_user(s, "ana", ROLE_READER);
    at(T0);
    for (int i = 0; i < 5; i++) {
        double t = seconds();
        assert_int_equal(login(s, "nadie", PW2, &se, NULL), CL_DENIED);
        unknown[i] = seconds() - t;
        t = seconds();
        at(T0 + 1000 * (i + 1)); /* a new window each time: never throttled */
        assert_int_equal(login(s, "ana", PW2, &se, NULL), CL_DENIED);
        known[i] = seconds() - t;
        t = seconds(); /* longer than any password: no hash to check, the same time */
        assert_int_equal(accounts_login(s, &c, "ana", big, strlen(big), &se, NULL), CL_DENIED);
        huge[i] = seconds() - t;
    }
    qsort(known, 5, sizeof(double), by_value);
    qsort(unknown, 5, sizeof(double), by_value);
    qsort(huge, 5, sizeof(double), by_value);
    if (huge[2] < known[2] / 3)
        fail_msg("a too long password took %.3f ms, a wrong one %.3f ms", huge[2] * 1e3,
                 known[2] * 1e3);
    /* a password check is ~20 ms; a lookup alone is ~1000 times less */
    if (unknown[2] < known[2] / 3)
        fail_msg("an unknown user took %.3f ms, a known one %.3f ms", unknown[2] * 1e3,
                 known[2] * 1e3);
}

static void test_rehash_on_login(void **state)
{
    struct store *s = S(state);
    struct accounts_session se;
    struct user u;
    struct audit_entry a = {0};
    char weak[ACCOUNT_HASH_CAP];

    at(T0);
    add_user(s, "ana", ROLE_READER);
    assert_int_equal(accounts_user_get(s, "ana", &u), CL_OK);
    /* a hash from weaker days, as an older release would have stored it */
    assert_int_equal(crypto_pwhash_str_alg(weak, PW, strlen(PW), 1, 8192 * 1024,
                                           crypto_pwhash_ALG_ARGON2ID13),
                     0);
    memcpy(u.pwhash, weak, sizeof(u.pwhash));
    a.at = "2026-12-01T00:00:00.000Z";
    a.action = "user.password";
    a.target = "ana";
    assert_int_equal(s->ops->user_update(s, &u, &a), CL_OK);
    assert_true(password_needs_rehash(u.pwhash));

    assert_int_equal(login(s, "ana", PW, &se, NULL), CL_OK);
    assert_int_equal(accounts_user_get(s, "ana", &u), CL_OK);
    assert_false(password_needs_rehash(u.pwhash));
    assert_true(password_verify(u.pwhash, PW, strlen(PW)));
    struct rows rows;
    newest(s, 2, &rows);
    assert_string_equal(rows.line[0], "cli login.ok ana -");
    assert_string_equal(rows.line[1], "cli user.password ana "
                                      "{\"pwhash\":[\"m=8192,t=1,p=1\",\"m=19456,t=2,p=1\"]}");
    /* upgraded once: the next login writes no second upgrade */
    assert_int_equal(login(s, "ana", PW, &se, NULL), CL_OK);
    newest(s, 2, &rows);
    assert_string_equal(rows.line[1], "cli login.ok ana -");
}

static void test_session_expiry(void **state)
{
    struct accounts_config c = cfg();
    struct store *s = S(state);
    struct accounts_session se;
    struct principal who;
    long long pruned = -1;

    add_user(s, "ana", ROLE_READER);
    /* idle: 30 minutes without a request */
    at(T0);
    assert_int_equal(login(s, "ana", PW, &se, NULL), CL_OK);
    at(T0 + 30 * 60 - 1);
    assert_int_equal(accounts_session_check(s, &c, se.id, SESSION_ID_LEN, &who), CL_OK);
    at(T0 + 30 * 60);
    assert_int_equal(accounts_session_check(s, &c, se.id, SESSION_ID_LEN, &who), CL_DENIED);
    /* it stays until pruned; then it is gone */
    assert_true(session_stored(s, se.id));
    assert_int_equal(accounts_prune(s, &c, &pruned), CL_OK);
    assert_int_equal(pruned, 1);
    assert_false(session_stored(s, se.id));

    /* used every 20 minutes, a session lives until its absolute limit */
    at(T0);
    assert_int_equal(login(s, "ana", PW, &se, NULL), CL_OK);
    for (long long t = 20 * 60; t < 12 * 3600; t += 20 * 60) {
        at(T0 + t);
        assert_int_equal(accounts_session_check(s, &c, se.id, SESSION_ID_LEN, &who), CL_OK);
        assert_int_equal(accounts_touch(s, &c, &who), CL_OK);
    }
    at(T0 + 12 * 3600);
    assert_int_equal(accounts_session_check(s, &c, se.id, SESSION_ID_LEN, &who), CL_DENIED);
    assert_int_equal(accounts_prune(s, &c, &pruned), CL_OK);
    assert_int_equal(pruned, 1);
}

static void test_disabled_user(void **state)
{
    struct accounts_config c = cfg();
    struct store *s = S(state);
    struct accounts_session se, again;
    struct principal who, op;
    char tok[TOKEN_TEXT_LEN + 1];

    at(T0);
    add_user(s, "ana", ROLE_EDITOR);
    principal_operator(&op);
    assert_int_equal(login(s, "ana", PW, &se, NULL), CL_OK);
    assert_int_equal(accounts_token_create(s, &c, &op, "de ana", ROLE_EDITOR, "ana", 0, tok, NULL,
                                           NULL),
                     CL_OK);
    assert_int_equal(accounts_user_disable(s, &c, "ana", true), CL_OK);
    assert_int_equal(accounts_session_check(s, &c, se.id, SESSION_ID_LEN, &who), CL_DENIED);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_DENIED);
    assert_int_equal(login(s, "ana", PW, &again, NULL), CL_DENIED); /* the right password */
    expect_row(s, "cli login.fail ana -");
    assert_int_equal(accounts_user_disable(s, &c, "ana", false), CL_OK);
    expect_row(s, "cli user.enable ana {\"disabled\":[true,false]}");
    assert_int_equal(accounts_session_check(s, &c, se.id, SESSION_ID_LEN, &who), CL_OK);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(login(s, "ana", PW, &again, NULL), CL_OK);
}

/* ---- tokens ----------------------------------------------------------- */

static enum cl_err make(struct store *s, const struct principal *by, const char *label,
                        enum role role, const char *owner, long long expires,
                        char tok[TOKEN_TEXT_LEN + 1], long long *id)
{
    struct accounts_config c = cfg();
    const char *why = NULL;

    return accounts_token_create(s, &c, by, label, role, owner, expires, tok, id, &why);
}

static void test_token_roles_and_owners(void **state)
{
    struct accounts_config c = cfg();
    struct store *s = S(state);
    struct principal op, reader, admin, who;
    struct accounts_session se;
    char tok[TOKEN_TEXT_LEN + 1], mine[TOKEN_TEXT_LEN + 1];
    long long id = 0, mine_id = 0;

    at(T0);
    principal_operator(&op);
    add_user(s, "rosa", ROLE_READER);
    add_user(s, "adela", ROLE_ADMIN);
    assert_int_equal(login(s, "rosa", PW, &se, NULL), CL_OK);
    reader = se.who;
    assert_int_equal(login(s, "adela", PW, &se, NULL), CL_OK);
    admin = se.who;

    /* the operator: any role, with or without an owner */
    assert_int_equal(make(s, &op, "ci", ROLE_ADMIN, NULL, 0, tok, &id), CL_OK);
    assert_true(token_well_formed(tok, strlen(tok)));
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(who.kind, PRINCIPAL_TOKEN);
    assert_int_equal(who.role, ROLE_ADMIN);
    assert_int_equal(who.token_id, id);
    assert_string_equal(who.user, "");
    char actor[64];
    snprintf(actor, sizeof(actor), "token:%lld (ci)", id);
    assert_string_equal(who.actor, actor);
    char row[300];
    snprintf(row, sizeof(row),
             "cli token.create token:%lld {\"label\":[null,\"ci\"],\"role\":[null,\"admin\"],"
             "\"owner\":[null,null],\"expires\":[null,null]}",
             id);
    expect_row(s, row);
    /* only the token's digest is stored */
    struct token st = stored_token(s, "ci");
    char digest[SECRET_DIGEST_LEN + 1];
    secret_digest(tok, strlen(tok), digest);
    assert_string_equal(st.digest, digest);
    assert_null(strstr(st.digest, tok + 4));

    /* never above the owner's role, nor above the creator's */
    long long rows = audit_count(s);
    assert_int_equal(make(s, &op, "x", ROLE_EDITOR, "rosa", 0, tok, NULL), CL_INVALID);
    assert_int_equal(make(s, &reader, "x", ROLE_EDITOR, NULL, 0, tok, NULL), CL_INVALID);
    assert_int_equal(make(s, &reader, "x", ROLE_READER, "adela", 0, tok, NULL), CL_INVALID);
    assert_int_equal(make(s, &op, "x", ROLE_READER, "nadie", 0, tok, NULL), CL_NOT_FOUND);
    assert_int_equal(make(s, &op, "", ROLE_READER, NULL, 0, tok, NULL), CL_INVALID);
    assert_int_equal(make(s, &op, "a\nb", ROLE_READER, NULL, 0, tok, NULL), CL_INVALID);
    assert_int_equal(make(s, &op, "x", ROLE_NONE, NULL, 0, tok, NULL), CL_INVALID);
    assert_int_equal(make(s, &op, "x", ROLE_READER, NULL, -1, tok, NULL), CL_INVALID);
    assert_int_equal(audit_count(s), rows);
    /* a reader makes its own reader token; an admin one for someone else */
    assert_int_equal(make(s, &reader, "mio", ROLE_READER, NULL, 0, mine, &mine_id), CL_OK);
    assert_int_equal(accounts_token_check(s, &c, mine, strlen(mine), &who), CL_OK);
    assert_string_equal(who.user, "rosa");
    assert_int_equal(make(s, &admin, "para rosa", ROLE_READER, "rosa", 0, tok, &id), CL_OK);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    assert_string_equal(who.user, "rosa");

    /* the owner's role today caps the token: adela's admin token, adela demoted */
    assert_int_equal(make(s, &admin, "de adela", ROLE_ADMIN, NULL, 0, tok, &id), CL_OK);
    assert_int_equal(accounts_user_role(s, &c, "adela", ROLE_READER), CL_OK);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(who.role, ROLE_READER);
    assert_int_equal(accounts_user_role(s, &c, "adela", ROLE_ADMIN), CL_OK);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(who.role, ROLE_ADMIN);

    /* revocation: only its owner, an admin or the operator; effective at once */
    assert_int_equal(accounts_token_revoke(s, &c, &reader, id), CL_NOT_FOUND);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    store_set_actor(s, &(struct audit_actor){reader.actor, NULL, NULL});
    assert_int_equal(accounts_token_revoke(s, &c, &reader, mine_id), CL_OK);
    store_set_actor(s, NULL);
    snprintf(row, sizeof(row), "user:rosa token.revoke token:%lld -", mine_id);
    expect_row(s, row);
    assert_int_equal(accounts_token_check(s, &c, mine, strlen(mine), &who), CL_DENIED);
    assert_int_equal(accounts_token_revoke(s, &c, &reader, mine_id), CL_NOT_FOUND);
    assert_int_equal(accounts_token_revoke(s, &c, &admin, id), CL_OK);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_DENIED);
    assert_int_equal(accounts_token_revoke(s, &c, &op, 999), CL_NOT_FOUND);

    /* shapes that are not a token, and a well-formed stranger */
    assert_int_equal(accounts_token_check(s, &c, "clt_", 4, &who), CL_DENIED);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok) - 1, &who), CL_DENIED);
    char upper[TOKEN_TEXT_LEN + 1];
    memcpy(upper, mine, sizeof(upper));
    upper[10] = upper[10] >= 'a' ? 'A' : 'B';
    assert_int_equal(accounts_token_check(s, &c, upper, strlen(upper), &who), CL_DENIED);
    token_generate(upper);
    assert_int_equal(accounts_token_check(s, &c, upper, strlen(upper), &who), CL_DENIED);
    assert_int_equal(who.kind, PRINCIPAL_NONE);
}

static void test_token_expiry_and_last_used(void **state)
{
    struct accounts_config c = cfg();
    struct store *s = S(state);
    struct principal op, who;
    char tok[TOKEN_TEXT_LEN + 1];
    long long id;

    at(T0);
    principal_operator(&op);
    assert_int_equal(make(s, &op, "corto", ROLE_READER, NULL, 3600, tok, &id), CL_OK);
    assert_int_equal(stored_token(s, "corto").last_used, 0);
    /* a check writes nothing; a touch records the use, at most once a minute */
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(stored_token(s, "corto").last_used, 0);
    assert_int_equal(accounts_touch(s, &c, &who), CL_OK);
    assert_int_equal(stored_token(s, "corto").last_used, T0);
    at(T0 + 59);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(accounts_touch(s, &c, &who), CL_OK);
    assert_int_equal(stored_token(s, "corto").last_used, T0);
    at(T0 + 60);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(accounts_touch(s, &c, &who), CL_OK);
    assert_int_equal(stored_token(s, "corto").last_used, T0 + 60);
    /* expiry */
    at(T0 + 3599);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_OK);
    at(T0 + 3600);
    assert_int_equal(accounts_token_check(s, &c, tok, strlen(tok), &who), CL_DENIED);
    assert_int_equal(stored_token(s, "corto").expires, T0 + 3600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_user_rules, fx_setup_any, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unused_store, fx_setup_any, fx_teardown),
        cmocka_unit_test_setup_teardown(test_login_and_logout, fx_setup_any, fx_teardown),
        cmocka_unit_test_setup_teardown(test_login_throttling, fx_setup_any, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_user_takes_as_long, fx_setup_any,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rehash_on_login, fx_setup_any, fx_teardown),
        cmocka_unit_test_setup_teardown(test_session_expiry, fx_setup_any, fx_teardown),
        cmocka_unit_test_setup_teardown(test_disabled_user, fx_setup_any, fx_teardown),
        cmocka_unit_test_setup_teardown(test_token_roles_and_owners, fx_setup_any, fx_teardown),
        cmocka_unit_test_setup_teardown(test_token_expiry_and_last_used, fx_setup_any,
                                        fx_teardown),
    };

    if (account_init() != CL_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
