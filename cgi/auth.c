/* auth.c - a request's credentials: the Bearer token, the session cookie,
 * the CSRF and same-origin checks, the bound on password checks. */
#include "auth.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static struct auth_settings settings = {
    .legacy = AUTH_LEGACY_TOKEN,
    .accounts = {.session_idle_s = 30 * 60,
                 .session_absolute_s = 12 * 3600,
                 .login_max_failures = 5,
                 .login_window_s = 15 * 60},
    .login_concurrency = 1,
};

/* Password checks running now in this process. */
static atomic_int hashing;

void auth_configure(const struct auth_settings *s)
{
    settings = *s;
    if (settings.login_concurrency < 1)
        settings.login_concurrency = 1;
}

const struct auth_settings *auth_settings(void)
{
    return &settings;
}

void auth_settings_from(const struct config *c, int threads, struct auth_settings *out)
{
    accounts_config_default(&out->accounts);
    out->legacy = strcmp(c->legacy_auth, "open") == 0 ? AUTH_LEGACY_OPEN : AUTH_LEGACY_TOKEN;
    out->accounts.session_idle_s = 60L * c->session_idle_minutes;
    out->accounts.session_absolute_s = 3600L * c->session_absolute_hours;
    out->accounts.login_max_failures = c->login_max_failures;
    out->accounts.login_window_s = c->login_throttle_s;
    /* auto: half the threads, so logins never hold every one of them */
    out->login_concurrency = c->login_concurrency ? c->login_concurrency
                                                  : (threads / 2 > 0 ? threads / 2 : 1);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The token of "Bearer <token>" (the scheme in any case, RFC 9110 11.1):
 * *tok and *len, or false when the header is not that. */
static bool bearer_token(const char *h, const char **tok, size_t *len)
{
    size_t n;

    while (is_space(*h))
        h++;
    if (strncasecmp(h, "Bearer", 6) != 0 || !is_space(h[6]))
        return false;
    h += 6;
    while (is_space(*h))
        h++;
    n = strcspn(h, " \t");
    *tok = h;
    *len = n;
    for (h += n; *h; h++) /* only blanks may follow */
        if (!is_space(*h))
            return false;
    return n > 0;
}

/* The value of the session cookie in a Cookie header ("a=1; b=2"): 1 when
 * there is exactly one (*val, *len), 0 when none, -1 when it repeats. */
static int session_cookie(const char *h, const char **val, size_t *len)
{
    static const char name[] = AUTH_COOKIE "=";
    int found = 0;

    while (h && *h) {
        size_t n;
        while (is_space(*h) || *h == ';')
            h++;
        n = strcspn(h, ";");
        if (n >= sizeof(name) - 1 && memcmp(h, name, sizeof(name) - 1) == 0) {
            if (found++)
                return -1;
            *val = h + sizeof(name) - 1;
            *len = n - (sizeof(name) - 1);
            while (*len && is_space((*val)[*len - 1]))
                (*len)--;
        }
        h += n;
    }
    return found;
}

static void result(struct auth *a, enum cl_err e)
{
    if (e == CL_OK)
        a->status = AUTH_OK;
    else if (e == CL_DENIED)
        a->status = AUTH_DENIED;
    else {
        a->status = AUTH_FAILED;
        a->err = e;
    }
}

void auth_request(struct store *s, const struct http_request *req, unsigned from, struct auth *a)
{
    const struct accounts_config *cfg = &settings.accounts;
    const char *v;
    size_t len;

    memset(a, 0, sizeof(*a));
    a->status = AUTH_ANONYMOUS;
    if ((from & AUTH_FROM_BEARER) && req->authorization && *req->authorization) {
        if (!bearer_token(req->authorization, &v, &len))
            a->status = AUTH_MALFORMED;
        else if (!token_well_formed(v, len))
            a->status = AUTH_MALFORMED;
        else
            result(a, accounts_token_check(s, cfg, v, len, &a->who));
    } else if (from & AUTH_FROM_COOKIE) {
        int n = session_cookie(req->cookie, &v, &len);
        a->cookie_sent = n != 0;
        if (n < 0 || (n == 1 && !session_id_well_formed(v, len))) {
            a->status = AUTH_MALFORMED;
        } else if (n == 1) {
            result(a, accounts_session_check(s, cfg, v, len, &a->who));
            if (a->status == AUTH_OK) {
                memcpy(a->session_id, v, SESSION_ID_LEN);
                a->session_id[SESSION_ID_LEN] = '\0';
            }
        }
    }
    if (a->status != AUTH_OK)
        memset(&a->who, 0, sizeof(a->who));
    a->actor.actor = a->status == AUTH_OK ? a->who.actor : "anonymous";
    a->actor.request_id = req->request_id[0] ? req->request_id : NULL;
    a->actor.client_addr = req->client_addr && *req->client_addr ? req->client_addr : NULL;
}

void auth_allowed(struct store *s, const struct auth *a)
{
    if (a->status == AUTH_OK)
        (void)accounts_touch(s, &settings.accounts, &a->who);
}

bool auth_same_origin(const struct http_request *req)
{
    const char *site = req->sec_fetch_site;

    if (site && *site)
        return strcasecmp(site, "same-origin") == 0 || strcasecmp(site, "none") == 0;
    if (req->origin && *req->origin)
        return !http_cross_site(req);
    return false;
}

bool auth_csrf_ok(const struct auth *a, const struct http_request *req)
{
    const char *t = req->csrf_token;

    if (a->status != AUTH_OK || a->who.kind != PRINCIPAL_SESSION)
        return false;
    if (!t || !*t)
        t = http_param(req, AUTH_CSRF_FIELD, NULL);
    return t && strlen(t) == SECRET_DIGEST_LEN && secret_digest_equal(t, a->who.csrf);
}

bool auth_hash_begin(void)
{
    if (atomic_fetch_add(&hashing, 1) >= settings.login_concurrency) {
        atomic_fetch_sub(&hashing, 1);
        return false;
    }
    return true;
}

void auth_hash_end(void)
{
    atomic_fetch_sub(&hashing, 1);
}

#define COOKIE_ATTRS "; Path=/; Secure; HttpOnly; SameSite=Lax"

int auth_cookie_set(char *buf, size_t len, const char *session_id)
{
    int n = snprintf(buf, len, "Set-Cookie: " AUTH_COOKIE "=%s" COOKIE_ATTRS "\r\n", session_id);

    return n > 0 && (size_t)n < len ? 0 : -1;
}

#define COOKIE_CLEAR "Set-Cookie: " AUTH_COOKIE "=" COOKIE_ATTRS "; Max-Age=0\r\n"

int auth_cookie_clear(char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s", COOKIE_CLEAR);

    return n > 0 && (size_t)n < len ? 0 : -1;
}

const char *auth_challenge(const struct auth *a)
{
    switch (a->status) {
    case AUTH_MALFORMED:
        return a->cookie_sent ? AUTH_CHALLENGE ", error=\"invalid_request\"\r\n" COOKIE_CLEAR
                              : AUTH_CHALLENGE ", error=\"invalid_request\"\r\n";
    case AUTH_DENIED:
        return a->cookie_sent ? AUTH_CHALLENGE ", error=\"invalid_token\"\r\n" COOKIE_CLEAR
                              : AUTH_CHALLENGE ", error=\"invalid_token\"\r\n";
    case AUTH_ANONYMOUS:
    case AUTH_OK:
    case AUTH_FAILED:
        break;
    }
    return AUTH_CHALLENGE "\r\n";
}

const char *auth_via(const struct auth *a)
{
    if (a->status != AUTH_OK)
        return "none";
    return a->who.kind == PRINCIPAL_SESSION ? "session" : "bearer";
}
