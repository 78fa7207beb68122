/* store.c - picks a backend from a DATABASE_URL-style string; the handle's
 * own operations (close, errmsg, ready). */
#include "store.h"

#include "store_pg.h"
#include "store_sqlite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BUSY_TIMEOUT_MS 2000

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Messages name what is wrong (the scheme, the option) but never quote the
 * URL: a server's URL carries its password, and these lines reach logs. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Length of the scheme of `url` ("postgres" in "postgres://..."), 0 when it
 * does not look like one (only letters, digits, '+', '-', '.'). */
static size_t scheme_len(const char *url)
{
    size_t n = 0;

    while (url[n] && url[n] != ':' && n < 32) {
        char c = url[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
        n++;
    }
    return url[n] == ':' ? n : 0;
}

enum cl_err store_open(const char *url, struct store **out, char *err, size_t errlen)
{
    const char *path = url, *query;
    int busy_ms = DEFAULT_BUSY_TIMEOUT_MS;
    char *copy;
    enum cl_err rc;

    *out = NULL;
    if (!url || !*url) {
        set_err(err, errlen, "empty database URL");
        return CL_INVALID;
    }
    if (store_pg_url(url))
        return store_pg_open(url, out, err, errlen);
    if (strncmp(url, "sqlite://", 9) == 0) {
        path = url + 9;
    } else if (strstr(url, "://")) {
        size_t n = scheme_len(url);
        set_err(err, errlen,
                "unsupported database URL scheme '%.*s' (sqlite://, postgres:// or postgresql://)",
                (int)n, n ? url : "?");
        return CL_INVALID;
    }
    query = strchr(path, '?');
    if (query) {
        char *end;
        long v;
        if (strncmp(query, "?busy_timeout=", 14) != 0) {
            size_t n = strcspn(query + 1, "=&");
            set_err(err, errlen, "unsupported database URL option '%.*s' (only busy_timeout)",
                    (int)(n > 32 ? 32 : n), query + 1);
            return CL_INVALID;
        }
        v = strtol(query + 14, &end, 10);
        if (*end || end == query + 14 || v < 0 || v > 600000) {
            set_err(err, errlen, "invalid busy_timeout in the database URL (0 to 600000 ms)");
            return CL_INVALID;
        }
        busy_ms = (int)v;
    }
    if (path[0] == '\0' || path == query) {
        set_err(err, errlen, "the sqlite database URL names no file");
        return CL_INVALID;
    }
    copy = query ? strndup(path, (size_t)(query - path)) : strdup(path);
    if (!copy) {
        set_err(err, errlen, "out of memory");
        return CL_NOMEM;
    }
    rc = store_sqlite_open(copy, busy_ms, out, err, errlen);
    free(copy);
    return rc;
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

const char *store_errmsg(const struct store *s)
{
    return s ? s->errmsg : "";
}

enum cl_err store_ready(struct store *s, const char **reason)
{
    return s->ops->ready(s, reason);
}

void store_set_actor(struct store *s, const struct audit_actor *who)
{
    if (who)
        s->actor = *who;
    else
        memset(&s->actor, 0, sizeof(s->actor));
}

int store_sqlite_path(const char *url, char *out, size_t len)
{
    size_t n;

    if (!url)
        return -1;
    if (strncmp(url, "sqlite://", 9) == 0)
        url += 9;
    else if (strstr(url, "://"))
        return -1;
    n = strcspn(url, "?");
    if (n == 0 || n >= len)
        return -1;
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}
