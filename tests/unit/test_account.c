/* test_account.c - roles, password policy and hashing, tokens, session ids
 * and expiry (lib/account.c), in isolation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "account.h"

static int setup(void **state)
{
    (void)state;
    return account_init() == CL_OK ? 0 : -1;
}

static void test_roles_order_and_names(void **state)
{
    enum role r;

    (void)state;
    assert_true(role_allows(ROLE_ADMIN, ROLE_READER));
    assert_true(role_allows(ROLE_EDITOR, ROLE_EDITOR));
    assert_false(role_allows(ROLE_READER, ROLE_EDITOR));
    assert_false(role_allows(ROLE_EDITOR, ROLE_ADMIN));
    /* nothing declared is refused, whoever asks */
    assert_false(role_allows(ROLE_ADMIN, ROLE_NONE));
    assert_false(role_allows(ROLE_NONE, ROLE_READER));
    assert_false(role_allows((enum role)42, ROLE_READER));
    assert_int_equal(role_parse("editor", &r), CL_OK);
    assert_int_equal(r, ROLE_EDITOR);
    assert_string_equal(role_name(ROLE_ADMIN), "admin");
    assert_string_equal(role_name((enum role)9), "none");
    assert_int_equal(role_parse("none", &r), CL_INVALID);
    assert_int_equal(role_parse("Admin", &r), CL_INVALID);
    assert_int_equal(role_parse(NULL, &r), CL_INVALID);
}

static void expect_refused(const char *pw, const char *user, const char *why_part)
{
    const char *why = NULL;

    if (password_check(pw, strlen(pw), user, &why) != CL_INVALID)
        fail_msg("accepted: '%s'", pw);
    assert_non_null(why);
    if (!strstr(why, why_part))
        fail_msg("'%s': reason '%s' lacks '%s'", pw, why, why_part);
}

static void test_password_policy(void **state)
{
    char buf[600];
    const char *why = "x";

    (void)state;
    /* 15 characters is the minimum, counted in code points */
    assert_int_equal(password_check("tres tristes ti", 15, NULL, &why), CL_OK);
    assert_null(why);
    expect_refused("tres tristes t", NULL, "corta");
    /* 14 two-byte characters are 28 bytes but still too short */
    expect_refused("\xc3\xb1\xc3\xa1\xc3\xa9\xc3\xad\xc3\xb3\xc3\xba\xc3\xbc"
                   "\xc3\xb1\xc3\xa1\xc3\xa9\xc3\xad\xc3\xb3\xc3\xba\xc3\xbc", NULL, "corta");
    /* 128 characters fit, 129 do not; never truncated */
    memset(buf, 'a', 128);
    buf[0] = 'b';
    buf[128] = '\0';
    assert_int_equal(password_check(buf, 128, NULL, NULL), CL_OK);
    buf[128] = 'c';
    buf[129] = '\0';
    expect_refused(buf, NULL, "larga");
    /* 128 four-byte characters (512 bytes) are fine */
    for (int i = 0; i < 128; i++)
        memcpy(buf + 4 * i, i % 2 ? "\xf0\x9f\x98\x80" : "\xf0\x9f\x90\xb1", 4);
    assert_int_equal(password_check(buf, 512, NULL, NULL), CL_OK);
    /* no composition rules: spaces, all lower case, all digits are fine */
    assert_int_equal(password_check("una frase larga sin numeros", 27, NULL, NULL), CL_OK);
    assert_int_equal(password_check("839201746529183", 15, NULL, NULL), CL_OK);
    expect_refused("aaaaaaaaaaaaaaaaaaaa", NULL, "repetido");
    expect_refused("administradora1", "Administradora1", "usuario");
    expect_refused("passwordpassword", NULL, "comun");
    expect_refused("PasswordPassword", NULL, "comun");   /* ASCII case ignored */
    expect_refused("Contrase\xc3\xb1" "a1234567", NULL, "comun"); /* Spanish ones too */
    expect_refused("123456789012345", NULL, "comun");
    expect_refused("una clave\ncon salto", NULL, "control");
    expect_refused("clave con \xc2\x85 NEL dentro", NULL, "control");
    expect_refused("clave con \xff byte invalido", NULL, "UTF-8");
    assert_int_equal(password_check(NULL, 0, NULL, &why), CL_INVALID);
}

static void test_hash_and_verify(void **state)
{
    char hash[ACCOUNT_HASH_CAP];
    const char *pw = "correcta caballo bateria grapa";

    (void)state;
    assert_int_equal(password_hash(pw, strlen(pw), hash), CL_OK);
    assert_true(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    assert_true(password_verify(hash, pw, strlen(pw)));
    /* one byte more, one byte less, another case: refused */
    assert_false(password_verify(hash, pw, strlen(pw) - 1));
    assert_false(password_verify(hash, "correcta caballo bateria grapaX", strlen(pw) + 1));
    assert_false(password_verify(hash, "Correcta caballo bateria grapa", strlen(pw)));
    assert_false(password_needs_rehash(hash));
    /* two hashes of the same password differ (salted) and both verify */
    char again[ACCOUNT_HASH_CAP];
    assert_int_equal(password_hash(pw, strlen(pw), again), CL_OK);
    assert_string_not_equal(hash, again);
    assert_true(password_verify(again, pw, strlen(pw)));
    /* garbage never verifies and always needs a rehash */
    assert_false(password_verify("", pw, strlen(pw)));
    assert_false(password_verify("$1$md5crypt$", pw, strlen(pw)));
    assert_false(password_verify(NULL, pw, strlen(pw)));
    assert_true(password_needs_rehash("plaintext"));
    password_verify_dummy(pw, strlen(pw));
}

static void test_weaker_hash_needs_rehash(void **state)
{
    char weak[ACCOUNT_HASH_CAP];
    const char *pw = "una clave de antes de la mejora";

    (void)state;
    assert_int_equal(crypto_pwhash_str_alg(weak, pw, strlen(pw), 1, 8192 * 1024,
                                           crypto_pwhash_ALG_ARGON2ID13), 0);
    assert_true(password_verify(weak, pw, strlen(pw))); /* old hashes still log in */
    assert_true(password_needs_rehash(weak));           /* and get upgraded */
}

static void test_tokens(void **state)
{
    char a[TOKEN_TEXT_LEN + 1], b[TOKEN_TEXT_LEN + 1];
    char da[SECRET_DIGEST_LEN + 1], db[SECRET_DIGEST_LEN + 1], da2[SECRET_DIGEST_LEN + 1];

    (void)state;
    token_generate(a);
    token_generate(b);
    assert_int_equal(strlen(a), TOKEN_TEXT_LEN);
    assert_true(strncmp(a, "clt_", 4) == 0);
    assert_true(token_well_formed(a, strlen(a)));
    assert_string_not_equal(a, b);
    secret_digest(a, strlen(a), da);
    secret_digest(b, strlen(b), db);
    secret_digest(a, strlen(a), da2);
    assert_int_equal(strlen(da), SECRET_DIGEST_LEN);
    assert_string_equal(da, da2);          /* deterministic: looked up by digest */
    assert_string_not_equal(da, db);
    assert_true(strstr(da, a + 4) == NULL); /* the digest does not contain the secret */
    assert_true(secret_digest_equal(da, da2));
    assert_false(secret_digest_equal(da, db));
    assert_false(secret_digest_equal(da, "abc"));
    /* the known BLAKE2b-256 of "abc" pins the algorithm */
    secret_digest("abc", 3, da);
    assert_string_equal(da, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");

    /* shapes that are refused before any lookup */
    char bad[TOKEN_TEXT_LEN + 2];
    memcpy(bad, a, sizeof(a));
    bad[10] = 'A';
    assert_false(token_well_formed(bad, strlen(bad)));
    assert_false(token_well_formed(a, TOKEN_TEXT_LEN - 1));
    memcpy(bad, a, sizeof(a));
    bad[0] = 'x';
    assert_false(token_well_formed(bad, strlen(bad)));
    assert_false(token_well_formed(NULL, 0));
}

static void test_session_ids_and_csrf(void **state)
{
    char s1[SESSION_ID_LEN + 1], s2[SESSION_ID_LEN + 1];
    char c1[SECRET_DIGEST_LEN + 1], c1b[SECRET_DIGEST_LEN + 1], c2[SECRET_DIGEST_LEN + 1];
    char d1[SECRET_DIGEST_LEN + 1];

    (void)state;
    session_id_generate(s1);
    session_id_generate(s2);
    assert_true(session_id_well_formed(s1, strlen(s1)));
    assert_false(session_id_well_formed(s1, 10));
    assert_string_not_equal(s1, s2);
    session_csrf_token(s1, c1);
    session_csrf_token(s1, c1b);
    session_csrf_token(s2, c2);
    secret_digest(s1, strlen(s1), d1);
    assert_string_equal(c1, c1b);     /* stable for the session */
    assert_string_not_equal(c1, c2);  /* and different for another */
    assert_string_not_equal(c1, d1);  /* not the stored digest */
}

static void test_session_expiry_with_injected_clock(void **state)
{
    const long idle = 30 * 60, absolute = 12 * 3600;
    const time_t t0 = 1700000000;

    (void)state;
    assert_false(session_expired(t0, t0, t0, idle, absolute));
    assert_false(session_expired(t0, t0, t0 + idle - 1, idle, absolute));
    assert_true(session_expired(t0, t0, t0 + idle, idle, absolute));
    /* activity keeps it alive, up to the absolute limit */
    assert_false(session_expired(t0, t0 + absolute - 60, t0 + absolute - 1, idle, absolute));
    assert_true(session_expired(t0, t0 + absolute - 60, t0 + absolute, idle, absolute));
    /* a clock that stepped back does not expire anything */
    assert_false(session_expired(t0, t0, t0 - 100, idle, absolute));
    /* last used is recorded at most once a minute */
    assert_true(account_touch_due(0, t0));
    assert_false(account_touch_due(t0, t0 + 59));
    assert_true(account_touch_due(t0, t0 + 60));
    assert_true(account_touch_due(t0, t0 - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_order_and_names),
        cmocka_unit_test(test_password_policy),
        cmocka_unit_test(test_hash_and_verify),
        cmocka_unit_test(test_weaker_hash_needs_rehash),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_session_ids_and_csrf),
        cmocka_unit_test(test_session_expiry_with_injected_clock),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
