/* account.c - roles, password policy and hashing, tokens and session ids. */
#include "account.h"

#include <sodium.h>
#include <string.h>

#include "utf8.h"

/* Generated from common-passwords.txt (lib/common_passwords.cmake). */
extern const char *const account_common_passwords[];
extern const size_t account_common_passwords_count;

static const char *const role_names[] = {
    [ROLE_NONE] = "none", [ROLE_READER] = "reader", [ROLE_EDITOR] = "editor",
    [ROLE_ADMIN] = "admin"};

const char *role_name(enum role r)
{
    if ((unsigned)r < sizeof(role_names) / sizeof(role_names[0]))
        return role_names[r];
    return "none";
}

enum cl_err role_parse(const char *name, enum role *out)
{
    for (int r = ROLE_READER; r <= ROLE_ADMIN; r++) {
        if (name && strcmp(name, role_names[r]) == 0) {
            *out = (enum role)r;
            return CL_OK;
        }
    }
    return CL_INVALID;
}

bool role_allows(enum role have, enum role need)
{
    return need != ROLE_NONE && have != ROLE_NONE && have <= ROLE_ADMIN && have >= need;
}

enum cl_err account_init(void)
{
    return sodium_init() < 0 ? CL_STORAGE : CL_OK;
}

/* ---- passwords ------------------------------------------------------- */

static bool ascii_case_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

enum cl_err password_check(const char *pw, size_t len, const char *username,
                           const char **reason)
{
    const unsigned char *s = (const unsigned char *)pw;
    size_t i = 0, chars = 0;
    unsigned long first = 0, cp;
    bool repeated = true;
    const char *why = NULL;

    if (!pw)
        len = 0;
    if (len > ACCOUNT_PASSWORD_MAX_BYTES) {
        why = "demasiado larga (maximo 128 caracteres)";
        goto out;
    }
    while (i < len) {
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            why = "UTF-8 invalido";
            goto out;
        }
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
            why = "contiene caracteres de control";
            goto out;
        }
        if (chars == 0)
            first = cp;
        else if (cp != first)
            repeated = false;
        chars++;
        i += n;
    }
    if (chars < ACCOUNT_PASSWORD_MIN)
        why = "demasiado corta (minimo 15 caracteres)";
    else if (chars > ACCOUNT_PASSWORD_MAX)
        why = "demasiado larga (maximo 128 caracteres)";
    else if (repeated)
        why = "un solo caracter repetido";
    else if (username && ascii_case_equal(pw, len, username))
        why = "igual al nombre de usuario";
    else
        for (size_t k = 0; k < account_common_passwords_count; k++)
            if (ascii_case_equal(pw, len, account_common_passwords[k])) {
                why = "es una contrasena demasiado comun";
                break;
            }
out:
    if (reason)
        *reason = why;
    return why ? CL_INVALID : CL_OK;
}

enum cl_err password_hash(const char *pw, size_t len, char out[ACCOUNT_HASH_CAP])
{
    _Static_assert(ACCOUNT_HASH_CAP == crypto_pwhash_STRBYTES, "hash capacity");
    if (len > ACCOUNT_PASSWORD_MAX_BYTES)
        return CL_INVALID;
    if (crypto_pwhash_str_alg(out, pw, len, ACCOUNT_PWHASH_OPSLIMIT,
                              (size_t)ACCOUNT_PWHASH_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return CL_NOMEM;
    return CL_OK;
}

/* Only argon2 strings of a sane length reach libsodium. */
static bool hash_shaped(const char *hash)
{
    return hash && strncmp(hash, "$argon2", 7) == 0 &&
           strnlen(hash, ACCOUNT_HASH_CAP) < ACCOUNT_HASH_CAP;
}

bool password_verify(const char *hash, const char *pw, size_t len)
{
    char copy[ACCOUNT_HASH_CAP] = {0}; /* libsodium reads a full-size buffer */

    if (!hash_shaped(hash) || len > ACCOUNT_PASSWORD_MAX_BYTES)
        return false;
    memcpy(copy, hash, strlen(hash));
    return crypto_pwhash_str_verify(copy, pw, len) == 0;
}

void password_verify_dummy(const char *pw, size_t len)
{
    /* A hash of a fixed string with today's parameters: verifying against it
     * costs what a real verification costs, and never succeeds in practice. */
    static const char dummy[ACCOUNT_HASH_CAP] =
        "$argon2id$v=19$m=19456,t=2,p=1$V5/PpJBqVx3SHCGgzyNWng$"
        "w6m03fp/XtJdaBvFBhutdgB69B4aUNvkyi+aTTvwQdc";
    if (len > ACCOUNT_PASSWORD_MAX_BYTES)
        len = ACCOUNT_PASSWORD_MAX_BYTES;
    if (crypto_pwhash_str_verify(dummy, pw, len) == 0)
        return; /* cannot happen in practice; the time is what matters */
}

bool password_needs_rehash(const char *hash)
{
    char copy[ACCOUNT_HASH_CAP] = {0};

    if (!hash_shaped(hash))
        return true;
    memcpy(copy, hash, strlen(hash));
    return crypto_pwhash_str_needs_rehash(copy, ACCOUNT_PWHASH_OPSLIMIT,
                                          (size_t)ACCOUNT_PWHASH_MEMLIMIT) != 0;
}

/* ---- tokens and session ids ------------------------------------------ */

static void random_hex(char *out, size_t hexlen)
{
    unsigned char raw[32];

    randombytes_buf(raw, hexlen / 2);
    sodium_bin2hex(out, hexlen + 1, raw, hexlen / 2);
    sodium_memzero(raw, sizeof(raw));
}

void token_generate(char out[TOKEN_TEXT_LEN + 1])
{
    memcpy(out, TOKEN_PREFIX, 4);
    random_hex(out + 4, 64);
}

void session_id_generate(char out[SESSION_ID_LEN + 1])
{
    random_hex(out, SESSION_ID_LEN);
}

static bool lower_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool token_well_formed(const char *s, size_t len)
{
    return s && len == TOKEN_TEXT_LEN && memcmp(s, TOKEN_PREFIX, 4) == 0 &&
           lower_hex(s + 4, 64);
}

bool session_id_well_formed(const char *s, size_t len)
{
    return s && len == SESSION_ID_LEN && lower_hex(s, len);
}

void secret_digest(const char *secret, size_t len, char out[SECRET_DIGEST_LEN + 1])
{
    unsigned char d[32];

    crypto_generichash(d, sizeof(d), (const unsigned char *)secret, len, NULL, 0);
    sodium_bin2hex(out, SECRET_DIGEST_LEN + 1, d, sizeof(d));
}

bool secret_digest_equal(const char *a, const char *b)
{
    size_t n = strlen(a);

    if (n != strlen(b))
        return false;
    return sodium_memcmp(a, b, n) == 0;
}

void session_csrf_token(const char *session_id, char out[SECRET_DIGEST_LEN + 1])
{
    static const char purpose[] = "clientes csrf v1";
    unsigned char d[32];
    size_t keylen = strnlen(session_id, crypto_generichash_KEYBYTES_MAX);

    crypto_generichash(d, sizeof(d), (const unsigned char *)purpose, sizeof(purpose) - 1,
                       (const unsigned char *)session_id, keylen);
    sodium_bin2hex(out, SECRET_DIGEST_LEN + 1, d, sizeof(d));
}

bool session_expired(time_t created, time_t last_seen, time_t now, long idle_s, long absolute_s)
{
    if (now < created || now < last_seen) /* a clock stepped back: judge by what is known */
        return false;
    return now - last_seen >= idle_s || now - created >= absolute_s;
}

bool account_touch_due(time_t last, time_t now)
{
    return last <= 0 || now < last || now - last >= ACCOUNT_TOUCH_INTERVAL_S;
}
