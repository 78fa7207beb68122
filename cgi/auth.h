/* auth.h - who is asking: one request's credentials (an API token in
 * `Authorization: Bearer`, or the `__Host-session` cookie) checked against
 * the accounts, and the checks a cookie's state change needs (its CSRF token,
 * a same-origin request).  The dispatcher (route.c) calls these before any
 * handler runs, from the route's access column; handlers only read the
 * result (struct auth). */
#ifndef CLIENTES_AUTH_H
#define CLIENTES_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "accounts.h"
#include "config.h"
#include "http.h"
#include "store.h"

#define AUTH_COOKIE "__Host-session"
/* The form field that may carry the CSRF token (else the X-CSRF-Token header). */
#define AUTH_CSRF_FIELD "csrf_token"
#define AUTH_CHALLENGE "WWW-Authenticate: Bearer realm=\"clientes\""

/* LEGACY_AUTH. */
enum auth_legacy {
    AUTH_LEGACY_TOKEN = 0, /* the legacy routes need a Bearer token: reads a reader, writes an editor */
    AUTH_LEGACY_OPEN       /* exactly the old service: anyone, no credentials looked at */
};

/* The process's settings, from the configuration (config.h). */
struct auth_settings {
    enum auth_legacy legacy;
    struct accounts_config accounts;
    int login_concurrency; /* password checks at once; one more is answered 503 */
};

/* Sets the settings every request uses.  Call once, before the threads
 * start; until then they are accounts_config_default()'s, LEGACY_AUTH=token
 * and one password check at a time. */
void auth_configure(const struct auth_settings *s);
const struct auth_settings *auth_settings(void);

/* The settings the configuration says (LEGACY_AUTH, SESSION_*, LOGIN_*),
 * for a process serving with `threads` threads (LOGIN_CONCURRENCY=auto is
 * half of them, at least one). */
void auth_settings_from(const struct config *c, int threads, struct auth_settings *out);

/* What came of a request's credentials. */
enum auth_status {
    AUTH_ANONYMOUS = 0, /* none were sent (or none looked at) */
    AUTH_OK,            /* `who` says who */
    AUTH_MALFORMED,     /* sent but not readable: another scheme, a bad token shape, two cookies */
    AUTH_DENIED,        /* unknown, expired, revoked, or its user disabled */
    AUTH_FAILED         /* the store could not say: `err` (a 503) */
};

/* Where a route takes credentials from. */
enum auth_from {
    AUTH_FROM_BEARER = 1 << 0, /* Authorization: Bearer <token> */
    AUTH_FROM_COOKIE = 1 << 1, /* the session cookie */
};

/* One request's authentication.  Filled by auth_request(); lives as long as
 * the request (`actor` points into it and into the request). */
struct auth {
    enum auth_status status;
    enum cl_err err;            /* AUTH_FAILED: the store's error */
    struct principal who;       /* AUTH_OK: kind TOKEN or SESSION; else kind NONE */
    bool cookie_sent;           /* a session cookie came (a refused one is cleared) */
    char session_id[SESSION_ID_LEN + 1]; /* AUTH_OK by session: its id (logout) */
    /* For store_set_actor(): who.actor ("anonymous" when nobody), the
     * request id and the client's address. */
    struct audit_actor actor;
};

/* Authenticates `req` from the sources in `from` (enum auth_from bits): a
 * Bearer token wins over the cookie when both are sent.  A token is never
 * taken from the URL.  Writes nothing (see auth_allowed()).  Always fills
 * *a; a->status says what came of it. */
void auth_request(struct store *s, const struct http_request *req, unsigned from, struct auth *a);

/* Marks an authenticated request as allowed: records the credential's use
 * (accounts_touch(), at most once a minute; a failure there refuses
 * nothing).  Call it only once every check passed, so that a refused
 * request writes nothing. */
void auth_allowed(struct store *s, const struct auth *a);

/* A state-changing request authenticated by its cookie must come from a page
 * of this service itself: Sec-Fetch-Site same-origin (or none: typed by the
 * user), or without it an Origin equal to the request's own; with neither
 * header it is refused (a browser sends at least one on such requests). */
bool auth_same_origin(const struct http_request *req);

/* Whether the request carries the session's CSRF token: the X-CSRF-Token
 * header, or the form field AUTH_CSRF_FIELD (once the parameters are
 * parsed), compared in constant time.  False for anything but a session. */
bool auth_csrf_ok(const struct auth *a, const struct http_request *req);

/* Bounds the password checks running at once (login_concurrency): true when
 * the caller may run one now (then auth_hash_end() afterwards), false when
 * the bound is reached (answer 503 with Retry-After). */
bool auth_hash_begin(void);
void auth_hash_end(void);

/* The Set-Cookie line (with its CRLF) that starts a session / clears the
 * cookie: __Host-session=<id>; Path=/; Secure; HttpOnly; SameSite=Lax.
 * Returns 0, or -1 when it does not fit len bytes. */
int auth_cookie_set(char *buf, size_t len, const char *session_id);
int auth_cookie_clear(char *buf, size_t len);

/* The header lines of a 401: the challenge, with error="invalid_token" for
 * credentials that were refused, and a cleared cookie when one was sent.
 * Static strings. */
const char *auth_challenge(const struct auth *a);

/* "bearer", "session" or "none": how the caller authenticated (GET /v1/me). */
const char *auth_via(const struct auth *a);

#endif
