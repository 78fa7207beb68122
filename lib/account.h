/* account.h - the credentials of the service: roles, passwords, API tokens and
 * browser-session ids.  Pure functions over libsodium; storage lives behind
 * store.h, HTTP in cgi/. */
#ifndef CLIENTES_ACCOUNT_H
#define CLIENTES_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"

/* What a caller may do, in increasing order: each role can do everything the
 * one before it can.  ROLE_NONE is "nothing declared" and is never granted. */
enum role {
    ROLE_NONE = 0,
    ROLE_READER, /* read clients */
    ROLE_EDITOR, /* read and change clients */
    ROLE_ADMIN   /* also users, tokens and the audit trail */
};

/* "reader", "editor", "admin" ("none" for ROLE_NONE).  Static, never NULL. */
const char *role_name(enum role r);

/* Parses a role name (exact, lower case).  Returns CL_OK with *out set, or
 * CL_INVALID for anything else ("none" included). */
enum cl_err role_parse(const char *name, enum role *out);

/* True when a caller holding `have` may do what needs `need`.  ROLE_NONE on
 * either side is false: an undeclared requirement is refused. */
bool role_allows(enum role have, enum role need);

/* Must be called once before anything else here (it initialises libsodium;
 * safe to call again, and from several threads once it returned).  Returns
 * CL_OK, or CL_STORAGE when the system's random source is unusable. */
enum cl_err account_init(void);

/* ---- passwords ------------------------------------------------------- */

/* NIST SP 800-63B for password-only accounts: 15 to 128 characters (code
 * points of well-formed UTF-8), never truncated, no composition rules. */
#define ACCOUNT_PASSWORD_MIN 15
#define ACCOUNT_PASSWORD_MAX 128
#define ACCOUNT_PASSWORD_MAX_BYTES (ACCOUNT_PASSWORD_MAX * 4)

/* argon2id at OWASP's floor (19 MiB, t=2, p=1): ~20 ms here.  Hashes made
 * with weaker parameters are upgraded at the next login. */
#define ACCOUNT_PWHASH_OPSLIMIT 2ULL
#define ACCOUNT_PWHASH_MEMLIMIT (19ULL * 1024 * 1024)

/* Room for a hash string (libsodium's crypto_pwhash_STRBYTES), NUL included. */
#define ACCOUNT_HASH_CAP 128

/* Checks a new password (`len` bytes) for `username` (may be NULL).  Returns
 * CL_OK, or CL_INVALID with *reason set to a static Spanish phrase: too short,
 * too long, not UTF-8, a control character, one character repeated, the user
 * name itself, or one of the common passwords shipped with the project
 * (compared without regard to ASCII case). */
enum cl_err password_check(const char *pw, size_t len, const char *username,
                           const char **reason);

/* Hashes `len` bytes of `pw` into out (ACCOUNT_HASH_CAP bytes, a
 * NUL-terminated "$argon2id$..." string).  Returns CL_OK, CL_INVALID for a
 * length outside the policy, or CL_NOMEM when the memory cost cannot be met. */
enum cl_err password_hash(const char *pw, size_t len, char out[ACCOUNT_HASH_CAP]);

/* True when `pw` matches `hash` (constant time inside libsodium).  A hash that
 * is not an argon2 string never matches. */
bool password_verify(const char *hash, const char *pw, size_t len);

/* Spends the time of one password_verify() against a fixed hash, so a login
 * for a user that does not exist takes as long as one that does. */
void password_verify_dummy(const char *pw, size_t len);

/* True when `hash` was made with other parameters than today's: rehash at
 * the next successful login. */
bool password_needs_rehash(const char *hash);

/* ---- tokens and session ids ------------------------------------------ */

/* An API token is "clt_" + 64 lower-case hex digits (32 random bytes): the
 * prefix makes a leaked token easy to find and scan for.  A session id is the
 * same without the prefix.  Only their digests are ever stored. */
#define TOKEN_PREFIX "clt_"
#define TOKEN_TEXT_LEN (4 + 64)
#define SESSION_ID_LEN 64
#define SECRET_DIGEST_LEN 64 /* hex of a 32-byte BLAKE2b digest */

/* Writes a new token, NUL-terminated, into out (TOKEN_TEXT_LEN + 1 bytes). */
void token_generate(char out[TOKEN_TEXT_LEN + 1]);

/* Writes a new session id, NUL-terminated, into out (SESSION_ID_LEN + 1). */
void session_id_generate(char out[SESSION_ID_LEN + 1]);

/* True when s[0..len) has the exact shape of a token (prefix, 64 lower-case
 * hex digits), resp. a session id: anything else is refused without a
 * lookup. */
bool token_well_formed(const char *s, size_t len);
bool session_id_well_formed(const char *s, size_t len);

/* The digest that is stored for a token or session id: hex of BLAKE2b-256 of
 * the text, NUL-terminated in out (SECRET_DIGEST_LEN + 1).  A fast unsalted
 * hash is right here: the secrets carry 256 bits of entropy. */
void secret_digest(const char *secret, size_t len, char out[SECRET_DIGEST_LEN + 1]);

/* Constant-time comparison of two NUL-terminated digests of the same length. */
bool secret_digest_equal(const char *a, const char *b);

/* The CSRF token of a session: hex of BLAKE2b-256 keyed with the session id,
 * so it needs no storage, differs per session and cannot be derived from the
 * stored digest.  out: SECRET_DIGEST_LEN + 1 bytes. */
void session_csrf_token(const char *session_id, char out[SECRET_DIGEST_LEN + 1]);

/* True when a session created at `created` and last seen at `last_seen` is
 * over either limit at `now`: idle_s without a request, or absolute_s since
 * it was created.  Pure: the clock is the caller's. */
bool session_expired(time_t created, time_t last_seen, time_t now, long idle_s, long absolute_s);

/* "Last used" is written at most this often per token or session, so reads
 * stay reads. */
#define ACCOUNT_TOUCH_INTERVAL_S 60

/* True when a credential last recorded at `last` should be recorded again at
 * `now` (ACCOUNT_TOUCH_INTERVAL_S or more later, or never recorded). */
bool account_touch_due(time_t last, time_t now);

#endif
