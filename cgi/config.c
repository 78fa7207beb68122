/* config.c - the one table of environment variables, its parsers, the
 * Markdown it documents itself with, and the URL redactor for logs. */
#include "config.h"

#include "store_pg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ZONEINFO "/usr/share/zoneinfo"

enum config_kind {
    CK_INT,       /* decimal digits in [min, max]; "auto" too, as 0, when min_auto */
    CK_BOOL,      /* "0" or "1" */
    CK_CHOICE,    /* one of choices[], kept as text */
    CK_LOG_LEVEL, /* a wlog level name */
    CK_LISTEN,    /* listen_parse() */
    CK_URL,       /* a store URL: "scheme://..." or a bare path */
    CK_PATH,      /* a file name */
    CK_ABSPATH,   /* a file name starting with '/' */
    CK_WORD,      /* letters, digits, '.', '_', '-' */
    CK_USER,      /* a user name, as useradd takes it */
    CK_TZ,        /* a tzdata zone or a POSIX TZ string */
    CK_PROXIES,   /* addresses or CIDRs, comma-separated */
    CK_ORIGINS    /* web origins (scheme://host[:port]), comma-separated */
};

struct config_var {
    const char *name;
    enum config_kind kind;
    size_t offset, size;        /* the field in struct config */
    long min, max;              /* CK_INT */
    bool min_auto;              /* CK_INT: "auto" is accepted, stored as 0 */
    const char *const *choices; /* CK_CHOICE, NULL-terminated */
    const char *def;            /* the default, as written in the environment; NULL: none */
    const char *shown;          /* README's default column when def does not say it */
    const char *meaning;        /* one line, for README */
};

#define XSTR(x) #x
#define STR(x) XSTR(x)

#define F(field) \
    .offset = offsetof(struct config, field), .size = sizeof(((struct config *)0)->field)

static const char *const nginx_levels[] = {"debug", "info", "notice", "warn", "error",
                                           "crit",  "alert", "emerg", NULL};
static const char *const legacy_modes[] = {"token", "open", NULL};
static const char *const metrics_modes[] = {"admin", "loopback", NULL};

/* The table.  Order: as README lists them. */
static const struct config_var vars[] = {
    {.name = "PORT", .kind = CK_INT, F(port), .min = 1, .max = 65535, .def = "8080",
     .meaning = "where nginx listens, on every interface"},
    {.name = "DATABASE_URL", .kind = CK_URL, F(database_url), .def = "sqlite://./data/clientes.db",
     .meaning = "the store: `sqlite:///absolute/path`, `sqlite://relative/path` (to the current "
                "directory) or a bare path; `?busy_timeout=MS` (default 2000) bounds how long a "
                "write waits for the lock before answering 503; the file's directory is created. "
                "Or PostgreSQL, as Heroku Postgres gives it: "
                "`postgres://user:password@host:port/database` (or `postgresql://`), read by libpq "
                "(`?sslmode=` and the rest; `sslmode=require` unless it says otherwise)"},
    {.name = STORE_PG_CONNECT_TIMEOUT_ENV, .kind = CK_INT, F(database_connect_timeout_s),
     .min = STORE_PG_CONNECT_TIMEOUT_MIN, .max = STORE_PG_CONNECT_TIMEOUT_MAX,
     .def = STR(STORE_PG_CONNECT_TIMEOUT_DEF),
     .meaning = "PostgreSQL: seconds a connection attempt may take (libpq's `connect_timeout`)"},
    {.name = STORE_PG_STATEMENT_TIMEOUT_ENV, .kind = CK_INT, F(database_statement_timeout_ms),
     .min = STORE_PG_STATEMENT_TIMEOUT_MIN, .max = STORE_PG_STATEMENT_TIMEOUT_MAX,
     .def = STR(STORE_PG_STATEMENT_TIMEOUT_DEF),
     .meaning = "PostgreSQL: the longest a statement may run (`statement_timeout`) before the "
                "request is answered 503 + `Retry-After`; lists read short pages, so a slow "
                "client never reaches it"},
    {.name = STORE_PG_LOCK_TIMEOUT_ENV, .kind = CK_INT, F(database_lock_timeout_ms),
     .min = STORE_PG_LOCK_TIMEOUT_MIN, .max = STORE_PG_LOCK_TIMEOUT_MAX,
     .def = STR(STORE_PG_LOCK_TIMEOUT_DEF),
     .meaning = "PostgreSQL: the longest a statement waits for a lock (`lock_timeout`: SQLite's "
                "`busy_timeout`) before 503 + `Retry-After`"},
    {.name = STORE_PG_OPEN_WAIT_ENV, .kind = CK_INT, F(database_open_wait_s),
     .min = STORE_PG_OPEN_WAIT_MIN, .max = STORE_PG_OPEN_WAIT_MAX,
     .def = STR(STORE_PG_OPEN_WAIT_DEF),
     .meaning = "PostgreSQL: how long the worker and `clientes-admin` keep trying to reach a "
                "database that does not answer at start before giving up; one that refuses (bad "
                "password, no such database) fails at once"},
    {.name = "WORKER_THREADS", .kind = CK_INT, F(worker_threads), .min = 1, .max = 1024,
     .shown = "2 × cores", .meaning = "requests the worker serves at once"},
    {.name = "FCGI_LISTEN", .kind = CK_LISTEN, F(fcgi_listen),
     .shown = "a unix socket in the runtime directory",
     .meaning = "where the worker listens: a socket path (anything with a `/` or without a `:`), "
                "or `HOST:PORT` for TCP, loopback when HOST is empty (`:9000`)"},
    {.name = "NGINX_CONF", .kind = CK_PATH, F(nginx_conf), .def = "conf/nginx.conf.template",
     .meaning = "the nginx template (relative: to the current directory, else to the app); "
                "`conf/nginx-ratelimit.conf.template` limits writes per client (429)"},
    {.name = "CLIENTES_WORKER", .kind = CK_PATH, F(worker_bin),
     .shown = "`clientes-worker` next to `clientes-web`",
     .meaning = "the worker binary; `bin/start-web` runs the `clientes-web` beside it"},
    {.name = "NGINX", .kind = CK_PATH, F(nginx_bin),
     .shown = "`nginx` on `PATH`, else `/usr/sbin/nginx`",
     .meaning = "the nginx binary"},
    {.name = "NGINX_WORKER_PROCESSES", .kind = CK_INT, F(nginx_worker_processes), .min = 1,
     .max = 1024, .min_auto = true, .def = "auto", .meaning = "nginx's `worker_processes`"},
    {.name = "NGINX_ERROR_LOG_LEVEL", .kind = CK_CHOICE, F(nginx_error_log_level),
     .choices = nginx_levels, .def = "warn", .meaning = "nginx's `error_log` level"},
    {.name = "WORKER_MAX_REQUESTS", .kind = CK_INT, F(worker_max_requests), .min = 1,
     .max = 65535, /* nginx's limit_conn takes no more */ .def = "512",
     .meaning = "requests inside the worker at once; past that nginx answers 503 + `Retry-After` "
                "at once instead of queueing"},
    {.name = "CLIENT_MAX_REQUESTS", .kind = CK_INT, F(client_max_requests), .min = 1,
     .max = 65535, .def = "64",
     .meaning = "requests one client address may have in nginx at once (a body still arriving "
                "counts); past that 503 at once. Keep it well under `WORKER_MAX_REQUESTS`"},
    {.name = "CLIENT_RATE", .kind = CK_INT, F(client_rate), .min = 1, .max = 10000000,
     .def = "5000",
     .meaning = "requests a second one client address may make (bursts of 200 pass at once, "
                "1 000 more are delayed); past that 429"},
    {.name = "ALLOW_EPHEMERAL_SQLITE", .kind = CK_BOOL, F(allow_ephemeral_sqlite), .def = "0",
     .meaning = "on Heroku (`DYNO` set) a SQLite `DATABASE_URL` is refused unless this is `1` "
                "(a `postgres://` one is the store for dynos): see Deploying"},
    {.name = "DYNO", .kind = CK_WORD, F(dyno), .shown = "unset",
     .meaning = "set by Heroku (`web.1`): the filesystem is ephemeral"},
    {.name = "TMPDIR", .kind = CK_ABSPATH, F(tmpdir), .def = "/tmp",
     .meaning = "where the runtime directory (rendered config, nginx's temp files, the worker's "
                "socket) is made, falling back to `/tmp`"},
    {.name = "TZ", .kind = CK_TZ, F(tz), .def = "Europe/Madrid",
     .meaning = "the service's time zone: what \"today\" is for birth dates"},
    {.name = "TRUSTED_PROXIES", .kind = CK_PROXIES, F(trusted_proxies), .shown = "none",
     .meaning = "proxies whose `X-Forwarded-For` names the client (nginx's `set_real_ip_from`); "
                "from anyone else the header is ignored"},
    {.name = "WORKER_RESTART_MAX", .kind = CK_INT, F(worker_restart_max), .min = 0, .max = 1000,
     .def = "5",
     .meaning = "restarts of a dead or hung worker allowed within `WORKER_RESTART_WINDOW_S`; one "
                "more and `clientes-web` exits non-zero (0: never restart)"},
    {.name = "WORKER_RESTART_WINDOW_S", .kind = CK_INT, F(worker_restart_window_s), .min = 1,
     .max = 86400, .def = "60", .meaning = "the window, in seconds, of `WORKER_RESTART_MAX`"},
    {.name = "WORKER_WATCHDOG_S", .kind = CK_INT, F(worker_watchdog_s), .min = 0, .max = 3600,
     .def = "10",
     .meaning = "a worker that makes no progress for this many seconds while requests wait is "
                "killed and restarted (0: off)"},
    {.name = "LOG_LEVEL", .kind = CK_LOG_LEVEL, F(log_level), .def = "info",
     .meaning = "the most verbose lines the programs (`clientes-web`, `clientes-worker`) write"},
    {.name = "CLIENTES_USER", .kind = CK_USER, F(user), .def = "nobody",
     .meaning = "started as root, the worker drops to this user (and its group) once its store "
                "is open, and nginx's workers run as it; only its group may use the worker's "
                "socket"},
    {.name = "LEGACY_AUTH", .kind = CK_CHOICE, F(legacy_auth), .choices = legacy_modes,
     .def = "token",
     .meaning = "`token`: the old service's routes need `Authorization: Bearer` (reads a reader, "
                "writes an editor); `open`: exactly the old service, anyone may read and change "
                "every client (said at start and in `/health/ready`)"},
    {.name = "METRICS_ACCESS", .kind = CK_CHOICE, F(metrics_access), .choices = metrics_modes,
     .def = "admin",
     .meaning = "who may read `GET /metrics`: `admin`, an admin's token or session; "
                "`loopback`, also anyone connecting from 127.0.0.1 or ::1 (a scraper on the "
                "same machine)"},
    {.name = "SESSION_IDLE_MINUTES", .kind = CK_INT, F(session_idle_minutes), .min = 1,
     .max = 1440, .def = "30", .meaning = "a browser session unused this long is over"},
    {.name = "SESSION_ABSOLUTE_HOURS", .kind = CK_INT, F(session_absolute_hours), .min = 1,
     .max = 720, .def = "12", .meaning = "a browser session this old is over, used or not"},
    {.name = "LOGIN_CONCURRENCY", .kind = CK_INT, F(login_concurrency), .min = 1, .max = 1024,
     .min_auto = true, .def = "auto", .shown = "`auto`: half of `WORKER_THREADS`",
     .meaning = "password checks (about 20 ms and 19 MiB each) run at once; one more login is "
                "answered 503 + `Retry-After`, so logins never hold every thread"},
    {.name = "LOGIN_MAX_FAILURES", .kind = CK_INT, F(login_max_failures), .min = 1, .max = 100,
     .def = "5",
     .meaning = "failed logins of one account within `LOGIN_THROTTLE_S` after which its logins "
                "get 429 + `Retry-After` until that window ends (no permanent lock-out)"},
    {.name = "LOGIN_THROTTLE_S", .kind = CK_INT, F(login_throttle_s), .min = 1, .max = 86400,
     .def = "900", .meaning = "the window, in seconds, of `LOGIN_MAX_FAILURES`"},
    {.name = "AUDIT_RETENTION_DAYS", .kind = CK_INT, F(audit_retention_days), .min = 1,
     .max = 36500, .def = "365",
     .meaning = "the worker deletes audit rows older than this, at start and every hour"},
    {.name = "REQUIRE_IF_MATCH", .kind = CK_BOOL, F(require_if_match), .def = "0",
     .meaning = "`1`: a `/v1` write (PUT, PATCH, DELETE) without `If-Match` is refused with 428, "
                "so no client can overwrite a change it has not seen"},
    {.name = "CORS_ORIGINS", .kind = CK_ORIGINS, F(cors_origins), .shown = "none",
     .meaning = "web origins (`https://app.example`) whose pages may call `/v1` from a browser "
                "with a token (CORS); none by default"},
    {.name = "IMPORT_MAX_BYTES", .kind = CK_INT, F(import_max_bytes), .min = 16384,
     .max = 999999999, .def = "10485760",
     .meaning = "the largest body `POST /v1/clientes/import` takes (nginx's "
                "`client_max_body_size` there); larger is 413"},
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

size_t config_var_count(void)
{
    return NVARS;
}

const char *config_var_name(size_t i)
{
    return i < NVARS ? vars[i].name : NULL;
}

/* ------------------------------------------------------------ parsers */

/* Each writes *why (no variable name) and returns -1 on a bad value. */
#define BAD(...) (snprintf(why, whylen, __VA_ARGS__), -1)

static int copy_text(const struct config_var *v, const char *s, void *field, char *why,
                     size_t whylen)
{
    if (strlen(s) >= v->size)
        return BAD("is longer than %zu bytes", v->size - 1);
    memcpy(field, s, strlen(s) + 1);
    return 0;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static int parse_int(const struct config_var *v, const char *s, int *out, char *why, size_t whylen)
{
    long n = 0;

    if (v->min_auto && strcmp(s, "auto") == 0) {
        *out = 0;
        return 0;
    }
    if (strlen(s) > 9)
        goto bad;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            goto bad;
        n = n * 10 + (*c - '0');
    }
    if (n >= v->min && n <= v->max) {
        *out = (int)n;
        return 0;
    }
bad:
    return BAD("must be %s%ld..%ld", v->min_auto ? "auto or " : "an integer ", v->min, v->max);
}

static int parse_url(const struct config_var *v, const char *s, void *field, char *why,
                     size_t whylen)
{
    const char *sep = strstr(s, "://");

    if (has_control(s))
        return BAD("has control characters");
    /* A file path may have spaces; a network URL cannot (percent-encode). */
    if (sep && strncmp(s, "sqlite://", 9) != 0 && strchr(s, ' '))
        return BAD("has a space (percent-encode it as %%20)");
    if (sep) {
        if (sep == s || !isalpha((unsigned char)s[0]))
            return BAD("must be SCHEME://... or a file path");
        for (const char *c = s; c < sep; c++)
            if (!isalnum((unsigned char)*c) && *c != '+' && *c != '.' && *c != '-')
                return BAD("must be SCHEME://... or a file path");
        if (sep[3] == '\0' || sep[3] == '?')
            return BAD("names nothing after %.*s://", (int)(sep - s), s);
    }
    return copy_text(v, s, field, why, whylen);
}

static int parse_tz(const struct config_var *v, const char *s, void *field, char *why,
                    size_t whylen)
{
    const char *name = s[0] == ':' ? s + 1 : s;
    char path[CONFIG_PATH_MAX + sizeof(ZONEINFO) + 2];
    char magic[4];
    FILE *f;
    size_t i = 0;

    /* A POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3", "<+01>-1"): glibc
     * reads it without tzdata. */
    if (s[0] == '<')
        return copy_text(v, s, field, why, whylen);
    while (isalpha((unsigned char)s[i]))
        i++;
    if (i >= 3 && (s[i] == '+' || s[i] == '-' || isdigit((unsigned char)s[i])))
        return copy_text(v, s, field, why, whylen);
    /* Otherwise a zone file: an unknown name would silently be UTC. */
    if (!*name || strstr(name, "..") || has_control(name))
        return BAD("is not a time zone name");
    snprintf(path, sizeof(path), "%s%s%s", name[0] == '/' ? "" : ZONEINFO,
             name[0] == '/' ? "" : "/", name);
    f = fopen(path, "rb");
    if (!f)
        return BAD("is not a known time zone (no %.200s; is tzdata installed?)", path);
    i = fread(magic, 1, sizeof(magic), f);
    fclose(f);
    if (i != sizeof(magic) || memcmp(magic, "TZif", 4) != 0)
        return BAD("is not a time zone (%.200s is no tzdata file)", path);
    return copy_text(v, s, field, why, whylen);
}

static int parse_cidr(char *tok, char *why, size_t whylen)
{
    unsigned char buf[sizeof(struct in6_addr)];
    char *slash = strchr(tok, '/');
    int v6 = strchr(tok, ':') != NULL, max = v6 ? 128 : 32;
    long bits = max;

    if (slash) {
        char *end;
        *slash = '\0';
        bits = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || bits < 0 || bits > max) {
            *slash = '/';
            return BAD("has a bad prefix length in '%s' (0..%d)", tok, max);
        }
    }
    if (inet_pton(v6 ? AF_INET6 : AF_INET, tok, buf) != 1) {
        if (slash)
            *slash = '/';
        return BAD("must be IP addresses or CIDRs, comma-separated ('%s' is not)", tok);
    }
    if (slash)
        *slash = '/';
    return 0;
}

static int parse_proxies(const char *s, struct config_proxies *p, char *why, size_t whylen)
{
    char tok[CONFIG_CIDR_MAX];

    memset(p, 0, sizeof(*p));
    while (*s) {
        size_t n;
        while (*s == ' ' || *s == ',')
            s++;
        n = strcspn(s, ", ");
        if (n == 0)
            break;
        if (n >= sizeof(tok))
            return BAD("has an entry longer than %zu bytes", sizeof(tok) - 1);
        if (p->n == CONFIG_PROXIES_MAX)
            return BAD("has more than %d entries", CONFIG_PROXIES_MAX);
        memcpy(tok, s, n);
        tok[n] = '\0';
        if (parse_cidr(tok, why, whylen))
            return -1;
        memcpy(p->cidr[p->n++], tok, n + 1);
        s += n;
    }
    return 0;
}

/* "https://a.example, http://localhost:3000": each an origin as browsers
 * send it (RFC 6454: scheme, host, optional port; no path, no slash). */
static int parse_origins(const struct config_var *v, const char *s, void *field, char *why,
                         size_t whylen)
{
    for (const char *p = s; *p;) {
        size_t n;
        p += strspn(p, ", ");
        n = strcspn(p, ", ");
        if (n == 0)
            break;
        bool http = n > 7 && strncmp(p, "http://", 7) == 0;
        bool https = n > 8 && strncmp(p, "https://", 8) == 0;
        const char *host = p + (https ? 8 : 7);
        if (!http && !https)
            return BAD("must be origins such as https://app.example, comma-separated");
        for (const char *c = host; c < p + n; c++)
            if (!isalnum((unsigned char)*c) && !strchr(".-:[]", *c))
                return BAD("must be origins such as https://app.example (no path), "
                           "comma-separated");
        p += n;
    }
    return copy_text(v, s, field, why, whylen);
}

static int parse_word(const struct config_var *v, const char *s, void *field, char *why,
                      size_t whylen)
{
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
            return BAD("may only have letters, digits, '.', '_' and '-'");
    return copy_text(v, s, field, why, whylen);
}

static int parse_user(const struct config_var *v, const char *s, void *field, char *why,
                      size_t whylen)
{
    bool ok = strlen(s) <= 32 && (islower((unsigned char)s[0]) || s[0] == '_');

    for (const char *c = s; ok && *c; c++)
        ok = islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_' || *c == '-';
    if (!ok)
        return BAD("must be a user name (lower-case letters, digits, '_', '-'; at most 32)");
    return copy_text(v, s, field, why, whylen);
}

static int parse_one(const struct config_var *v, const char *s, struct config *c, char *why,
                     size_t whylen)
{
    void *field = (char *)c + v->offset;
    char err[256];

    switch (v->kind) {
    case CK_INT:
        return parse_int(v, s, field, why, whylen);
    case CK_BOOL:
        if (strcmp(s, "0") && strcmp(s, "1"))
            return BAD("must be 0 or 1");
        *(bool *)field = s[0] == '1';
        return 0;
    case CK_CHOICE:
        for (const char *const *ch = v->choices; *ch; ch++)
            if (strcmp(s, *ch) == 0)
                return copy_text(v, s, field, why, whylen);
        {
            size_t n = (size_t)snprintf(why, whylen, "must be one of ");
            for (const char *const *ch = v->choices; *ch && n < whylen; ch++)
                n += (size_t)snprintf(why + n, whylen - n, "%s%s", ch == v->choices ? "" : ", ",
                                      *ch);
            return -1;
        }
    case CK_LOG_LEVEL:
        for (int l = WLOG_ERROR; l <= WLOG_DEBUG; l++)
            if (strcmp(s, wlog_level_name((enum wlog_level)l)) == 0) {
                *(enum wlog_level *)field = (enum wlog_level)l;
                return 0;
            }
        return BAD("must be error, warning, info or debug");
    case CK_LISTEN:
        if (listen_parse(s, field, err, sizeof(err)))
            return BAD("%s", err);
        return 0;
    case CK_URL:
        return parse_url(v, s, field, why, whylen);
    case CK_ABSPATH:
        if (s[0] != '/')
            return BAD("must be an absolute path");
        /* fall through */
    case CK_PATH:
        if (has_control(s))
            return BAD("has control characters");
        return copy_text(v, s, field, why, whylen);
    case CK_WORD:
        return parse_word(v, s, field, why, whylen);
    case CK_USER:
        return parse_user(v, s, field, why, whylen);
    case CK_TZ:
        return parse_tz(v, s, field, why, whylen);
    case CK_PROXIES:
        return parse_proxies(s, field, why, whylen);
    case CK_ORIGINS:
        return parse_origins(v, s, field, why, whylen);
    }
    return BAD("has an unknown type");
}

/* What a value looks like in an error line: a URL's secrets hidden, long
 * values cut (wlog replaces control characters). */
static const char *shown_value(const struct config_var *v, const char *s, char *buf, size_t len)
{
    char tmp[CONFIG_URL_MAX];

    if (v->kind == CK_URL) {
        config_redact(s, tmp, sizeof(tmp));
        s = tmp;
    }
    if (strlen(s) > 80)
        snprintf(buf, len, "%.77s...", s);
    else
        snprintf(buf, len, "%s", s);
    return buf;
}

static bool is_sqlite(const char *url)
{
    return strncmp(url, "sqlite://", 9) == 0 || !strstr(url, "://");
}

bool config_ephemeral_sqlite(const struct config *c)
{
    return c->dyno[0] && is_sqlite(c->database_url);
}

int config_load(struct config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NVARS; i++) {
        const struct config_var *v = &vars[i];
        const char *s = getenv(v->name);
        char why[512], shown[128];
        bool given = s && *s;

        if (!given)
            s = v->def;
        if (!s)
            continue; /* unset, no default: the field stays zero */
        if (parse_one(v, s, c, why, sizeof(why)) == 0)
            continue;
        if (given)
            snprintf(err, errlen, "%s %s, not '%s'", v->name, why,
                     shown_value(v, s, shown, sizeof(shown)));
        else /* a broken default is a bug here, not the operator's */
            snprintf(err, errlen, "%s: the default '%s' %s", v->name, s, why);
        return -1;
    }
    if (config_ephemeral_sqlite(c) && !c->allow_ephemeral_sqlite) {
        snprintf(err, errlen,
                 "refusing to start: DATABASE_URL is a SQLite file but this is a Heroku dyno "
                 "(DYNO=%s), whose filesystem is ephemeral - every restart and deploy would lose "
                 "all data. Use Heroku Postgres (heroku addons:create heroku-postgresql sets "
                 "DATABASE_URL to a postgres:// URL), or set ALLOW_EPHEMERAL_SQLITE=1 to accept "
                 "the loss (demos only).",
                 c->dyno);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ README */

/* README's "values" column for the kinds that read the same for every variable. */
static const char *const kind_values[] = {
    [CK_BOOL] = "`0` or `1`",
    [CK_LISTEN] = "path or `HOST:PORT`",
    [CK_URL] = "URL or path",
    [CK_PATH] = "path",
    [CK_ABSPATH] = "absolute path",
    [CK_WORD] = "name",
    [CK_USER] = "user name",
    [CK_TZ] = "tzdata zone or POSIX `TZ`",
    [CK_PROXIES] = "addresses/CIDRs, comma-separated",
    [CK_ORIGINS] = "origins, comma-separated",
};

static void doc_values(const struct config_var *v, FILE *out)
{
    if (v->kind == CK_INT) {
        fprintf(out, v->min_auto ? "`auto` or %ld–%ld" : "%ld–%ld", v->min, v->max);
    } else if (v->kind == CK_CHOICE) {
        for (const char *const *ch = v->choices; *ch; ch++)
            fprintf(out, "%s`%s`", ch == v->choices ? "" : ", ", *ch);
    } else if (v->kind == CK_LOG_LEVEL) {
        for (int l = WLOG_ERROR; l <= WLOG_DEBUG; l++)
            fprintf(out, "%s`%s`", l == WLOG_ERROR ? "" : ", ",
                    wlog_level_name((enum wlog_level)l));
    } else {
        fputs(kind_values[v->kind], out);
    }
}

void config_doc(FILE *out)
{
    fputs("| variable | values | default | meaning |\n|---|---|---|---|\n", out);
    for (size_t i = 0; i < NVARS; i++) {
        const struct config_var *v = &vars[i];
        fprintf(out, "| `%s` | ", v->name);
        doc_values(v, out);
        if (v->shown)
            fprintf(out, " | %s | %s |\n", v->shown, v->meaning);
        else
            fprintf(out, " | `%s` | %s |\n", v->def, v->meaning);
    }
}

/* ------------------------------------------------------------ redaction */

static bool secret_key(const char *k, size_t n)
{
    static const char *const words[] = {"pass", "secret", "token", "key", "auth", "pwd"};
    char low[64];

    if (n >= sizeof(low))
        n = sizeof(low) - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)k[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strstr(low, words[i]))
            return true;
    return false;
}

struct out {
    char *buf;
    size_t len, pos;
};

static void emit(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->pos + 1 < o->len; i++)
        o->buf[o->pos++] = s[i];
    o->buf[o->pos] = '\0';
}

/* One URL's text after "://" (n bytes): user info password and secret query
 * values become "***".  The user info ends at the last '@' before the query
 * (at the last '@' of all when a '?' comes first: one in the password), so
 * a password with '@', '/' or '?' in it is hidden whole; doubt hides more. */
static void redact_rest(struct out *o, const char *r, size_t n)
{
    const char *end = r + n, *qs = r + strcspn(r, "?#"), *at = NULL, *p;

    if (qs > end)
        qs = end;
    for (p = r; p < qs; p++)
        if (*p == '@')
            at = p;
    if (!at)
        for (p = qs; p < end; p++)
            if (*p == '@')
                at = p;
    p = r;
    if (at) {
        const char *colon = memchr(r, ':', (size_t)(at - r));
        if (colon) {
            emit(o, r, (size_t)(colon + 1 - r));
            emit(o, "***", 3);
            p = at;
        }
    }
    /* the query: name=value pairs separated by '&' or ';' */
    while (p < end) {
        const char *q = memchr(p, '?', (size_t)(end - p));
        if (!q) {
            emit(o, p, (size_t)(end - p));
            return;
        }
        emit(o, p, (size_t)(q + 1 - p));
        p = q + 1;
        while (p < end) {
            size_t pair = strcspn(p, "&;");
            const char *eq, *stop;
            if (p + pair > end)
                pair = (size_t)(end - p);
            stop = p + pair;
            eq = memchr(p, '=', pair);
            if (eq && secret_key(p, (size_t)(eq - p))) {
                emit(o, p, (size_t)(eq + 1 - p));
                emit(o, "***", 3);
            } else {
                emit(o, p, pair);
            }
            p = stop;
            if (p < end)
                emit(o, p++, 1);
        }
    }
}

const char *config_redact(const char *text, char *buf, size_t len)
{
    struct out o = {buf, len, 0};
    const char *p = text ? text : "";

    if (!buf || len == 0)
        return buf;
    buf[0] = '\0';
    while (*p) {
        const char *sep = strstr(p, "://");
        size_t n;
        if (!sep) {
            emit(&o, p, strlen(p));
            break;
        }
        emit(&o, p, (size_t)(sep + 3 - p));
        p = sep + 3;
        n = strcspn(p, " \t\r\n\"'<>");
        redact_rest(&o, p, n);
        p += n;
    }
    return buf;
}
