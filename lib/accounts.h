/* accounts.h - users, API tokens and browser sessions over any store: the
 * rules (names, the password policy, role caps, login throttling, expiry)
 * and the audit row of every change.  The clock is the caller's (struct
 * accounts_config), so tests move time instead of waiting for it.
 *
 * Every change is written with the handle's actor (store_set_actor()).
 * Unless said otherwise, calls return CL_OK or a store error (CL_BUSY,
 * CL_STORAGE, CL_NOMEM); a call that fails changed nothing. */
#ifndef CLIENTES_ACCOUNTS_H
#define CLIENTES_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"
#include "error.h"
#include "store.h"

/* What the rules are; filled by accounts_config_default(), then by the
 * caller's configuration. */
struct accounts_config {
    long session_idle_s;     /* a session unused this long is over (30 min) */
    long session_absolute_s; /* a session this old is over, used or not (12 h) */
    int login_max_failures;  /* failed logins of one account within ... (5) */
    long login_window_s;     /* ... this window throttle the account until it ends (15 min) */
    /* The current time in milliseconds since the epoch; NULL: the system's
     * clock.  Tests pass their own. */
    long long (*now_ms)(void *ctx);
    void *clock_ctx;
};

void accounts_config_default(struct accounts_config *c);

/* Who is asking, as the library knows them. */
enum principal_kind {
    PRINCIPAL_NONE = 0, /* nobody authenticated */
    PRINCIPAL_TOKEN,    /* an API token */
    PRINCIPAL_SESSION,  /* a browser session */
    PRINCIPAL_OPERATOR  /* clientes-admin on the host: every right */
};

/* "token:<id> (<label>)" at most */
#define PRINCIPAL_ACTOR_MAX (TOKEN_LABEL_MAX + 32)

struct principal {
    enum principal_kind kind;
    enum role role;                 /* what it may do (a token: capped by its owner's) */
    long long user_id;              /* the user, or a token's owner; 0: none */
    char user[USER_NAME_MAX + 1];   /* their name; "" when none */
    long long token_id;             /* PRINCIPAL_TOKEN: the token */
    char token_label[TOKEN_LABEL_MAX + 1];
    /* What the audit trail calls it: "user:ana", "token:12 (ci)", "cli". */
    char actor[PRINCIPAL_ACTOR_MAX];
    /* PRINCIPAL_SESSION: the CSRF token its state changes must carry. */
    char csrf[SECRET_DIGEST_LEN + 1];
    /* For accounts_touch(): the credential's digest and when it was last
     * recorded as used. */
    char digest[SECRET_DIGEST_LEN + 1];
    long long last_used;
};

/* Fills *p as the operator (clientes-admin): ROLE_ADMIN, actor "cli". */
void principal_operator(struct principal *p);

/* ---- users ------------------------------------------------------------ */

/* A user name is 1..USER_NAME_MAX of [a-z0-9._@-].  Returns CL_OK, or
 * CL_INVALID with *reason (a static Spanish phrase) set. */
enum cl_err accounts_name_check(const char *name, const char **reason);

/* Creates a user with that role and password (password_check(): the policy;
 * the name itself is refused as a password).  CL_INVALID with *reason for a
 * bad name, role or password; CL_EXISTS when the name is taken. */
enum cl_err accounts_user_add(struct store *s, const struct accounts_config *cfg,
                              const char *name, enum role role, const char *pw, size_t len,
                              const char **reason);

/* Sets a user's password (the policy as above).  CL_NOT_FOUND, CL_INVALID. */
enum cl_err accounts_user_passwd(struct store *s, const struct accounts_config *cfg,
                                 const char *name, const char *pw, size_t len,
                                 const char **reason);

/* Sets a user's role.  CL_NOT_FOUND, CL_INVALID (ROLE_NONE or unknown).
 * Tokens owned by the user are capped by the new role from their next use. */
enum cl_err accounts_user_role(struct store *s, const struct accounts_config *cfg,
                               const char *name, enum role role);

/* Disables (or enables again) a user: a disabled user cannot log in, their
 * sessions and tokens stop working at the next request.  CL_NOT_FOUND. */
enum cl_err accounts_user_disable(struct store *s, const struct accounts_config *cfg,
                                  const char *name, bool disabled);

/* The user with that name; CL_NOT_FOUND. */
enum cl_err accounts_user_get(struct store *s, const char *name, struct user *out);

/* Calls fn for every user, by name; a non-zero return stops the walk. */
enum cl_err accounts_user_list(struct store *s, int (*fn)(const struct user *u, void *ctx),
                               void *ctx);

/* How many users there are. */
enum cl_err accounts_user_count(struct store *s, long long *n);

/* True in *empty when the store has neither a user nor a token (revoked
 * ones count): nobody can use it yet, the first run of a new store. */
enum cl_err accounts_unused(struct store *s, bool *empty);

/* ---- logins and sessions ---------------------------------------------- */

/* A new browser session, as accounts_login() makes it. */
struct accounts_session {
    char id[SESSION_ID_LEN + 1];      /* the cookie's value: only its digest is stored */
    struct principal who;             /* PRINCIPAL_SESSION, its csrf filled */
};

/* Checks a user name and password and, when they match an enabled user,
 * starts a session with a new id (a fresh one at every login) and records
 * "login.ok"; a hash made with older parameters is upgraded on the way.
 * Every refusal is the same CL_DENIED, whether the user exists or not, and
 * takes the time of one password verification either way ("login.fail" is
 * recorded for a known user, with the count of failures).
 * After cfg->login_max_failures failures of one account within
 * cfg->login_window_s seconds, further attempts return CL_THROTTLED without
 * checking the password, with the seconds left in the window in
 * *retry_after; when the window ends the account can log in again (there is
 * no permanent lock-out that an attacker could use against its owner). */
enum cl_err accounts_login(struct store *s, const struct accounts_config *cfg, const char *name,
                           const char *pw, size_t len, struct accounts_session *out,
                           long *retry_after);

/* The session with that id (the cookie's value, len bytes).  CL_DENIED when
 * the id is malformed or unknown, the session over its idle or absolute
 * limit (it stays until accounts_prune()), or its user disabled.  On CL_OK
 * *who is PRINCIPAL_SESSION with the user's current role and the CSRF token.
 * Writes nothing: see accounts_touch(). */
enum cl_err accounts_session_check(struct store *s, const struct accounts_config *cfg,
                                   const char *id, size_t len, struct principal *who);

/* Ends the session with that id and records "logout".  CL_NOT_FOUND when
 * there is none (already ended, or never was). */
enum cl_err accounts_logout(struct store *s, const struct accounts_config *cfg, const char *id,
                            size_t len);

/* ---- API tokens ------------------------------------------------------- */

/* The token `tok` (len bytes, "clt_" + 64 hex digits).  CL_DENIED when it is
 * malformed or unknown, revoked, expired, or its owner disabled.  On CL_OK
 * *who is PRINCIPAL_TOKEN; its role is the token's, capped by its owner's
 * current role.  Writes nothing: see accounts_touch(). */
enum cl_err accounts_token_check(struct store *s, const struct accounts_config *cfg,
                                 const char *tok, size_t len, struct principal *who);

/* Records that an accepted token or session was used, at most once every
 * ACCOUNT_TOUCH_INTERVAL_S per credential (a read stays a read otherwise).
 * Call it once the request is allowed, so a refused one writes nothing. */
enum cl_err accounts_touch(struct store *s, const struct accounts_config *cfg,
                           const struct principal *who);

/* Creates a token named `label` (1..TOKEN_LABEL_MAX bytes of UTF-8 without
 * control characters) with `role`, owned by the user `owner` (NULL: `by`'s
 * own user; for the operator, no user: an operator-made token), expiring
 * after expires_in_s seconds (0: never), and records "token.create".  The
 * token is written into `token` (shown once: only its digest is kept) and
 * its id into *id (may be NULL).
 * The role is never above the owner's, nor above `by`'s; only an admin (or
 * the operator) makes tokens for someone else.  CL_INVALID with *reason for
 * a bad label or role, a role above a cap, a disabled owner, or someone
 * else's token asked by a non-admin; CL_NOT_FOUND for an unknown owner. */
enum cl_err accounts_token_create(struct store *s, const struct accounts_config *cfg,
                                  const struct principal *by, const char *label, enum role role,
                                  const char *owner, long long expires_in_s,
                                  char token[TOKEN_TEXT_LEN + 1], long long *id,
                                  const char **reason);

/* Revokes the token with that id (from its next request on) and records
 * "token.revoke".  `by` must be the operator, an admin, or the token's
 * owner (else CL_NOT_FOUND, as for an unknown or already revoked token). */
enum cl_err accounts_token_revoke(struct store *s, const struct accounts_config *cfg,
                                  const struct principal *by, long long id);

/* Calls fn for every token, by id (their digests are never to be shown). */
enum cl_err accounts_token_list(struct store *s, int (*fn)(const struct token *t, void *ctx),
                                void *ctx);

/* ---- upkeep ----------------------------------------------------------- */

/* Deletes the sessions over their limits, and those of disabled users;
 * *deleted (may be NULL) how many. */
enum cl_err accounts_prune(struct store *s, const struct accounts_config *cfg,
                           long long *deleted);

/* The current time of cfg's clock, in seconds / as the store writes times
 * (STORE_TIME_LEN + 1 bytes). */
long long accounts_now(const struct accounts_config *cfg);
void accounts_now_text(const struct accounts_config *cfg, char out[STORE_TIME_LEN + 1]);

#endif
