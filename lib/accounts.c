/* accounts.c - users, tokens and sessions: the rules over the store's rows. */
#include "accounts.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

#define MS_PER_S 1000LL

void accounts_config_default(struct accounts_config *c)
{
    memset(c, 0, sizeof(*c));
    c->session_idle_s = 30 * 60;
    c->session_absolute_s = 12 * 3600;
    c->login_max_failures = 5;
    c->login_window_s = 15 * 60;
}

static long long now_ms(const struct accounts_config *cfg)
{
    struct timespec ts;

    if (cfg && cfg->now_ms)
        return cfg->now_ms(cfg->clock_ctx);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * MS_PER_S + ts.tv_nsec / 1000000;
}

long long accounts_now(const struct accounts_config *cfg)
{
    return now_ms(cfg) / MS_PER_S;
}

/* RFC 3339 in UTC with milliseconds, as every time the store keeps. */
static void format_ms(long long ms, char out[STORE_TIME_LEN + 1])
{
    time_t t = (time_t)(ms / MS_PER_S);
    char text[64];
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % MS_PER_S));
    memcpy(out, text, STORE_TIME_LEN);
    out[STORE_TIME_LEN] = '\0';
}

void accounts_now_text(const struct accounts_config *cfg, char out[STORE_TIME_LEN + 1])
{
    format_ms(now_ms(cfg), out);
}

void principal_operator(struct principal *p)
{
    memset(p, 0, sizeof(*p));
    p->kind = PRINCIPAL_OPERATOR;
    p->role = ROLE_ADMIN;
    snprintf(p->actor, sizeof(p->actor), "cli");
}

/* An audit row stamped now; target and changes may be NULL. */
static void audit_init(struct audit_entry *a, char at[STORE_TIME_LEN + 1],
                       const struct accounts_config *cfg, const char *action, const char *target,
                       const char *changes)
{
    accounts_now_text(cfg, at);
    a->at = at;
    a->action = action;
    a->target = target;
    a->target_key = NULL;
    a->changes = changes;
}

/* Appends s to out (cap bytes) as a JSON string: the values written here
 * have no control characters (labels refuse them), so quotes and
 * backslashes are all there is to escape. */
static void json_str(char *out, size_t cap, const char *s)
{
    size_t o = strlen(out);

    if (!s) {
        snprintf(out + o, cap - o, "null");
        return;
    }
    if (o + 1 < cap)
        out[o++] = '"';
    for (; *s && o + 3 < cap; s++) {
        if (*s == '"' || *s == '\\')
            out[o++] = '\\';
        out[o++] = *s;
    }
    if (o + 1 < cap)
        out[o++] = '"';
    out[o] = '\0';
}

/* ---- users ------------------------------------------------------------ */

enum cl_err accounts_name_check(const char *name, const char **reason)
{
    size_t n = name ? strlen(name) : 0;
    const char *why = NULL;

    if (n == 0)
        why = "el nombre de usuario esta vacio";
    else if (n > USER_NAME_MAX)
        why = "el nombre de usuario tiene mas de 64 caracteres";
    for (size_t i = 0; !why && i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '@' || c == '-'))
            why = "el nombre de usuario solo admite a-z, 0-9, '.', '_', '@' y '-'";
    }
    if (why && reason)
        *reason = why;
    return why ? CL_INVALID : CL_OK;
}

static enum cl_err role_check(enum role role, const char **reason)
{
    if (role == ROLE_READER || role == ROLE_EDITOR || role == ROLE_ADMIN)
        return CL_OK;
    if (reason)
        *reason = "rol desconocido (reader, editor o admin)";
    return CL_INVALID;
}

/* The policy, then the hash. */
static enum cl_err new_hash(const char *name, const char *pw, size_t len,
                            char out[ACCOUNT_HASH_CAP], const char **reason)
{
    enum cl_err e = password_check(pw, len, name, reason);

    if (e)
        return e;
    if ((e = password_hash(pw, len, out)) == CL_INVALID && reason)
        *reason = "contrasena no valida";
    return e;
}

enum cl_err accounts_user_add(struct store *s, const struct accounts_config *cfg,
                              const char *name, enum role role, const char *pw, size_t len,
                              const char **reason)
{
    char at[STORE_TIME_LEN + 1], changes[64];
    struct audit_entry a;
    struct user u;
    enum cl_err e;

    if ((e = accounts_name_check(name, reason)) || (e = role_check(role, reason)))
        return e;
    memset(&u, 0, sizeof(u));
    snprintf(u.name, sizeof(u.name), "%s", name);
    u.role = role;
    if ((e = new_hash(name, pw, len, u.pwhash, reason)))
        return e;
    snprintf(changes, sizeof(changes), "{\"role\":[null,\"%s\"]}", role_name(role));
    audit_init(&a, at, cfg, "user.create", u.name, changes);
    memcpy(u.creado, at, sizeof(u.creado));
    return s->ops->user_add(s, &u, &a);
}

/* The user named `name`; CL_NOT_FOUND also for a name that cannot be one. */
static enum cl_err find_user(struct store *s, const char *name, struct user *u)
{
    if (accounts_name_check(name, NULL))
        return CL_NOT_FOUND;
    return s->ops->user_get(s, name, u);
}

enum cl_err accounts_user_get(struct store *s, const char *name, struct user *out)
{
    return find_user(s, name, out);
}

enum cl_err accounts_user_passwd(struct store *s, const struct accounts_config *cfg,
                                 const char *name, const char *pw, size_t len,
                                 const char **reason)
{
    char at[STORE_TIME_LEN + 1];
    struct audit_entry a;
    struct user u;
    enum cl_err e;

    if ((e = find_user(s, name, &u)) || (e = new_hash(u.name, pw, len, u.pwhash, reason)))
        return e;
    audit_init(&a, at, cfg, "user.password", u.name, NULL);
    return s->ops->user_update(s, &u, &a);
}

enum cl_err accounts_user_role(struct store *s, const struct accounts_config *cfg,
                               const char *name, enum role role)
{
    char at[STORE_TIME_LEN + 1], changes[64];
    struct audit_entry a;
    struct user u;
    enum cl_err e;

    if ((e = role_check(role, NULL)) || (e = find_user(s, name, &u)))
        return e;
    snprintf(changes, sizeof(changes), "{\"role\":[\"%s\",\"%s\"]}", role_name(u.role),
             role_name(role));
    u.role = role;
    audit_init(&a, at, cfg, "user.role", u.name, changes);
    return s->ops->user_update(s, &u, &a);
}

enum cl_err accounts_user_disable(struct store *s, const struct accounts_config *cfg,
                                  const char *name, bool disabled)
{
    char at[STORE_TIME_LEN + 1], changes[64];
    struct audit_entry a;
    struct user u;
    enum cl_err e;

    if ((e = find_user(s, name, &u)))
        return e;
    snprintf(changes, sizeof(changes), "{\"disabled\":[%s,%s]}", u.disabled ? "true" : "false",
             disabled ? "true" : "false");
    u.disabled = disabled;
    audit_init(&a, at, cfg, disabled ? "user.disable" : "user.enable", u.name, changes);
    return s->ops->user_update(s, &u, &a);
}

enum cl_err accounts_user_list(struct store *s, int (*fn)(const struct user *u, void *ctx),
                               void *ctx)
{
    return s->ops->user_list(s, fn, ctx);
}

enum cl_err accounts_user_count(struct store *s, long long *n)
{
    return s->ops->user_count(s, n);
}

static int any_token(const struct token *t, void *ctx)
{
    (void)t;
    *(bool *)ctx = true;
    return 1;
}

enum cl_err accounts_unused(struct store *s, bool *empty)
{
    long long users = 0;
    bool tokens = false;
    enum cl_err e;

    if ((e = s->ops->user_count(s, &users)))
        return e;
    if (users == 0 && (e = s->ops->token_list(s, any_token, &tokens)))
        return e;
    *empty = users == 0 && !tokens;
    return CL_OK;
}

/* ---- logins and sessions ---------------------------------------------- */

static void principal_user(struct principal *p, enum principal_kind kind, const struct user *u)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->role = u->role;
    p->user_id = u->id;
    snprintf(p->user, sizeof(p->user), "%s", u->name);
    snprintf(p->actor, sizeof(p->actor), "user:%s", u->name);
}

/* The session principal of id (NUL-terminated, well formed). */
static void principal_session(struct principal *p, const struct user *u, const char *id,
                              const char *digest, long long last_seen)
{
    principal_user(p, PRINCIPAL_SESSION, u);
    session_csrf_token(id, p->csrf);
    memcpy(p->digest, digest, sizeof(p->digest));
    p->last_used = last_seen;
}

/* The argon2 parameters of a hash ("m=19456,t=2,p=1"), for the audit row of
 * an upgrade: "$argon2id$v=19$<params>$salt$hash". */
static void hash_params(const char *hash, char *out, size_t cap)
{
    const char *p = hash;

    for (int i = 0; i < 2 && p; i++) /* past "$argon2id", then past "$v=19" */
        p = strchr(p + 1, '$');
    if (p) {
        size_t n = strcspn(p + 1, "$");
        snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p + 1);
    } else {
        snprintf(out, cap, "?");
    }
}

/* Upgrades the hash of a user who just proved their password.  A failure
 * leaves the old hash, which is upgraded at a later login. */
static void rehash(struct store *s, const struct accounts_config *cfg, struct user *u,
                   const char *pw, size_t len)
{
    char at[STORE_TIME_LEN + 1], fresh[ACCOUNT_HASH_CAP], before[48], after[48], changes[160];
    struct audit_entry a;

    if (password_hash(pw, len, fresh) != CL_OK)
        return;
    hash_params(u->pwhash, before, sizeof(before));
    hash_params(fresh, after, sizeof(after));
    snprintf(changes, sizeof(changes), "{\"pwhash\":[\"%s\",\"%s\"]}", before, after);
    memcpy(u->pwhash, fresh, sizeof(u->pwhash));
    audit_init(&a, at, cfg, "user.password", u->name, changes);
    (void)s->ops->user_update(s, u, &a);
}

/* Records a new session for u and, when the account has failures on record,
 * clears them: one transaction with one "login.ok" row. */
static enum cl_err start_session(struct store *s, const struct accounts_config *cfg,
                                 const struct user *u, long long now,
                                 struct accounts_session *out)
{
    char at[STORE_TIME_LEN + 1];
    struct audit_entry a;
    struct session se;
    enum cl_err e;

    memset(&se, 0, sizeof(se));
    session_id_generate(out->id);
    secret_digest(out->id, SESSION_ID_LEN, se.digest);
    se.user_id = u->id;
    se.created = se.last_seen = now;
    audit_init(&a, at, cfg, "login.ok", u->name, NULL);
    if (u->fail_count == 0 && u->fail_since == 0) {
        e = s->ops->session_add(s, &se, &a);
    } else {
        if ((e = s->ops->begin(s)))
            return e;
        if ((e = s->ops->user_login(s, u->id, 0, 0, &a)) ||
            (e = s->ops->session_add(s, &se, NULL)) || (e = s->ops->commit(s)))
            (void)s->ops->rollback(s);
    }
    if (e)
        return e;
    principal_session(&out->who, u, out->id, se.digest, now);
    return CL_OK;
}

enum cl_err accounts_login(struct store *s, const struct accounts_config *cfg, const char *name,
                           const char *pw, size_t len, struct accounts_session *out,
                           long *retry_after)
{
    char at[STORE_TIME_LEN + 1], changes[64];
    long long now = accounts_now(cfg), since;
    struct audit_entry a;
    struct user u;
    bool open;
    int fails;
    enum cl_err e;

    memset(out, 0, sizeof(*out));
    if (retry_after)
        *retry_after = 0;
    e = find_user(s, name, &u);
    if (e == CL_NOT_FOUND) {
        password_verify_dummy(pw, len); /* the time a known user's check takes */
        return CL_DENIED;
    }
    if (e)
        return e;
    /* The failures that count: those of a window still open. */
    since = u.fail_since;
    open = since > 0 && now - since < cfg->login_window_s;
    fails = open ? u.fail_count : 0;
    if (!open)
        since = 0;
    if (fails >= cfg->login_max_failures) {
        if (retry_after)
            *retry_after = (long)(since + cfg->login_window_s - now);
        if (retry_after && *retry_after < 1)
            *retry_after = 1;
        return CL_THROTTLED;
    }
    /* a password too long to be one is refused in the time of a check too */
    if (len > ACCOUNT_PASSWORD_MAX_BYTES)
        password_verify_dummy(pw, len);
    if (len > ACCOUNT_PASSWORD_MAX_BYTES || !password_verify(u.pwhash, pw, len)) {
        snprintf(changes, sizeof(changes), "{\"fail_count\":[%d,%d]}", fails, fails + 1);
        audit_init(&a, at, cfg, "login.fail", u.name, changes);
        e = s->ops->user_login(s, u.id, fails + 1, since ? since : now, &a);
        return e ? e : CL_DENIED;
    }
    if (u.disabled) { /* the right password for a closed account: refused alike */
        audit_init(&a, at, cfg, "login.fail", u.name, NULL);
        e = s->ops->audit_add(s, &a);
        return e ? e : CL_DENIED;
    }
    if (password_needs_rehash(u.pwhash))
        rehash(s, cfg, &u, pw, len);
    return start_session(s, cfg, &u, now, out);
}

/* The digest of a well-formed session id; false for anything else. */
static bool session_digest(const char *id, size_t len, char copy[SESSION_ID_LEN + 1],
                           char digest[SECRET_DIGEST_LEN + 1])
{
    if (!session_id_well_formed(id, len))
        return false;
    memcpy(copy, id, SESSION_ID_LEN);
    copy[SESSION_ID_LEN] = '\0';
    secret_digest(copy, SESSION_ID_LEN, digest);
    return true;
}

enum cl_err accounts_session_check(struct store *s, const struct accounts_config *cfg,
                                   const char *id, size_t len, struct principal *who)
{
    char copy[SESSION_ID_LEN + 1], digest[SECRET_DIGEST_LEN + 1];
    long long now = accounts_now(cfg);
    struct session se;
    struct user u;
    enum cl_err e;

    memset(who, 0, sizeof(*who));
    if (!session_digest(id, len, copy, digest))
        return CL_DENIED;
    e = s->ops->session_find(s, digest, &se, &u);
    if (e == CL_NOT_FOUND)
        return CL_DENIED;
    if (e)
        return e;
    if (session_expired((time_t)se.created, (time_t)se.last_seen, (time_t)now,
                        cfg->session_idle_s, cfg->session_absolute_s) ||
        u.disabled)
        return CL_DENIED;
    principal_session(who, &u, copy, digest, se.last_seen);
    return CL_OK;
}

enum cl_err accounts_logout(struct store *s, const struct accounts_config *cfg, const char *id,
                            size_t len)
{
    char copy[SESSION_ID_LEN + 1], digest[SECRET_DIGEST_LEN + 1], at[STORE_TIME_LEN + 1];
    struct audit_entry a;
    struct session se;
    struct user u;
    enum cl_err e;

    if (!session_digest(id, len, copy, digest))
        return CL_NOT_FOUND;
    if ((e = s->ops->session_find(s, digest, &se, &u)))
        return e;
    audit_init(&a, at, cfg, "logout", u.name, NULL);
    return s->ops->session_delete(s, digest, &a);
}

/* ---- API tokens ------------------------------------------------------- */

static void principal_token(struct principal *p, const struct token *t, enum role role)
{
    memset(p, 0, sizeof(*p));
    p->kind = PRINCIPAL_TOKEN;
    p->role = role;
    p->user_id = t->user_id;
    snprintf(p->user, sizeof(p->user), "%s", t->owner);
    p->token_id = t->id;
    snprintf(p->token_label, sizeof(p->token_label), "%s", t->label);
    snprintf(p->actor, sizeof(p->actor), "token:%lld (%s)", t->id, t->label);
    memcpy(p->digest, t->digest, sizeof(p->digest));
    p->last_used = t->last_used;
}

enum cl_err accounts_token_check(struct store *s, const struct accounts_config *cfg,
                                 const char *tok, size_t len, struct principal *who)
{
    char digest[SECRET_DIGEST_LEN + 1];
    long long now = accounts_now(cfg);
    struct token t;
    enum role role;
    enum cl_err e;

    memset(who, 0, sizeof(*who));
    if (!token_well_formed(tok, len))
        return CL_DENIED;
    secret_digest(tok, len, digest);
    e = s->ops->token_find(s, digest, &t);
    if (e == CL_NOT_FOUND)
        return CL_DENIED;
    if (e)
        return e;
    /* the store found it by its digest; compare anyway, in constant time */
    if (!secret_digest_equal(t.digest, digest) || t.revoked || (t.expires && now >= t.expires) ||
        t.owner_disabled)
        return CL_DENIED;
    role = t.role;
    if (t.user_id) { /* never above what its owner may do today (read with it) */
        if (t.owner_role == ROLE_NONE)
            return CL_DENIED;
        if (t.owner_role < role)
            role = t.owner_role;
    }
    principal_token(who, &t, role);
    return CL_OK;
}

enum cl_err accounts_touch(struct store *s, const struct accounts_config *cfg,
                           const struct principal *who)
{
    long long now = accounts_now(cfg);

    if (!account_touch_due((time_t)who->last_used, (time_t)now))
        return CL_OK;
    if (who->kind == PRINCIPAL_TOKEN)
        return s->ops->token_touch(s, who->token_id, now);
    if (who->kind == PRINCIPAL_SESSION)
        return s->ops->session_touch(s, who->digest, now);
    return CL_OK;
}

static enum cl_err label_check(const char *label, const char **reason)
{
    size_t n = label ? strlen(label) : 0;
    const char *why = NULL;

    if (n == 0)
        why = "el nombre del token esta vacio";
    else if (n > TOKEN_LABEL_MAX)
        why = "el nombre del token tiene mas de 64 bytes";
    else if (!utf8_valid((const unsigned char *)label, n))
        why = "el nombre del token no es UTF-8 valido";
    for (size_t i = 0; !why && i < n; i++)
        if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
            why = "el nombre del token tiene caracteres de control";
    if (why && reason)
        *reason = why;
    return why ? CL_INVALID : CL_OK;
}

static enum cl_err refuse(const char **reason, const char *why)
{
    if (reason)
        *reason = why;
    return CL_INVALID;
}

enum cl_err accounts_token_create(struct store *s, const struct accounts_config *cfg,
                                  const struct principal *by, const char *label, enum role role,
                                  const char *owner, long long expires_in_s,
                                  char token[TOKEN_TEXT_LEN + 1], long long *id,
                                  const char **reason)
{
    bool by_operator = by->kind == PRINCIPAL_OPERATOR;
    char at[STORE_TIME_LEN + 1], exp[STORE_TIME_LEN + 1], target[32], changes[400];
    long long now = accounts_now(cfg);
    struct audit_entry a;
    struct user u;
    struct token t;
    enum cl_err e;

    memset(&t, 0, sizeof(t));
    if ((e = label_check(label, reason)) || (e = role_check(role, reason)))
        return e;
    if (expires_in_s < 0 || expires_in_s > 100LL * 366 * 86400)
        return refuse(reason, "caducidad fuera de rango");
    if (!by_operator && by->kind == PRINCIPAL_NONE)
        return refuse(reason, "sin credenciales");
    memset(&u, 0, sizeof(u));
    if (owner) {
        if ((e = find_user(s, owner, &u)))
            return e;
        if (!by_operator && by->role != ROLE_ADMIN && u.id != by->user_id)
            return refuse(reason, "solo un admin crea tokens para otros usuarios");
    } else if (!by_operator && by->user_id) {
        e = s->ops->user_get_id(s, by->user_id, &u);
        if (e == CL_NOT_FOUND)
            return refuse(reason, "el usuario ya no existe");
        if (e)
            return e;
    }
    if (u.id && u.disabled)
        return refuse(reason, "el usuario esta desactivado");
    if (u.id && role > u.role)
        return refuse(reason, "el rol supera el del usuario");
    if (!by_operator && role > by->role)
        return refuse(reason, "el rol supera el de quien crea el token");

    token_generate(token);
    secret_digest(token, TOKEN_TEXT_LEN, t.digest);
    snprintf(t.label, sizeof(t.label), "%s", label);
    t.role = role;
    t.user_id = u.id;
    t.expires = expires_in_s ? now + expires_in_s : 0;
    accounts_now_text(cfg, t.creado);
    if ((e = s->ops->begin(s)))
        return e;
    /* the audit row names the new id, known once the token is stored */
    if ((e = s->ops->token_add(s, &t, NULL)))
        goto fail;
    snprintf(target, sizeof(target), "token:%lld", t.id);
    snprintf(changes, sizeof(changes), "{\"label\":[null,");
    json_str(changes, sizeof(changes), t.label);
    snprintf(changes + strlen(changes), sizeof(changes) - strlen(changes),
             "],\"role\":[null,\"%s\"],\"owner\":[null,", role_name(role));
    json_str(changes, sizeof(changes), u.id ? u.name : NULL);
    if (t.expires)
        format_ms(t.expires * MS_PER_S, exp);
    snprintf(changes + strlen(changes), sizeof(changes) - strlen(changes), "],\"expires\":[null,");
    json_str(changes, sizeof(changes), t.expires ? exp : NULL);
    snprintf(changes + strlen(changes), sizeof(changes) - strlen(changes), "]}");
    audit_init(&a, at, cfg, "token.create", target, changes);
    if ((e = s->ops->audit_add(s, &a)) || (e = s->ops->commit(s)))
        goto fail;
    if (id)
        *id = t.id;
    return CL_OK;
fail:
    (void)s->ops->rollback(s);
    memset(token, 0, TOKEN_TEXT_LEN + 1);
    return e;
}

struct token_find {
    long long id;
    struct token t;
    bool found;
};

static int find_token(const struct token *t, void *ctx)
{
    struct token_find *f = ctx;

    if (t->id != f->id)
        return 0;
    f->t = *t;
    f->found = true;
    return 1;
}

enum cl_err accounts_token_revoke(struct store *s, const struct accounts_config *cfg,
                                  const struct principal *by, long long id)
{
    char at[STORE_TIME_LEN + 1], target[32];
    struct token_find f = {.id = id};
    struct audit_entry a;
    enum cl_err e;

    if ((e = s->ops->token_list(s, find_token, &f)))
        return e;
    if (!f.found || f.t.revoked)
        return CL_NOT_FOUND;
    if (by->kind != PRINCIPAL_OPERATOR &&
        (by->kind == PRINCIPAL_NONE ||
         (by->role != ROLE_ADMIN && (f.t.user_id == 0 || f.t.user_id != by->user_id))))
        return CL_NOT_FOUND;
    snprintf(target, sizeof(target), "token:%lld", id);
    audit_init(&a, at, cfg, "token.revoke", target, NULL);
    return s->ops->token_revoke(s, id, accounts_now(cfg), &a);
}

enum cl_err accounts_token_list(struct store *s, int (*fn)(const struct token *t, void *ctx),
                                void *ctx)
{
    return s->ops->token_list(s, fn, ctx);
}

/* ---- upkeep ----------------------------------------------------------- */

enum cl_err accounts_prune(struct store *s, const struct accounts_config *cfg,
                           long long *deleted)
{
    long long now = accounts_now(cfg), n = 0;
    /* the store deletes what is strictly before; over a limit is at it
     * already (session_expired()) */
    enum cl_err e = s->ops->session_prune(s, now - cfg->session_idle_s + 1,
                                          now - cfg->session_absolute_s + 1, &n);

    if (deleted)
        *deleted = e ? 0 : n;
    return e;
}
