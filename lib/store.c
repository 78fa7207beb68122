/* store.c - picks a backend from a DATABASE_URL-style string. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BUSY_TIMEOUT_MS 2000

static void set_err(char *err, size_t errlen, const char *msg, const char *arg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s%s", msg, arg ? arg : "");
}

enum cl_err store_open(const char *url, struct store **out, char *err, size_t errlen)
{
    const char *path = url, *query;
    int busy_ms = DEFAULT_BUSY_TIMEOUT_MS;
    char *copy;
    enum cl_err rc;

    *out = NULL;
    if (!url || !*url) {
        set_err(err, errlen, "empty database URL", NULL);
        return CL_INVALID;
    }
    if (strncmp(url, "sqlite://", 9) == 0) {
        path = url + 9;
    } else if (strstr(url, "://")) {
        set_err(err, errlen, "unsupported database URL scheme: ", url);
        return CL_INVALID;
    }
    query = strchr(path, '?');
    if (query) {
        char *end;
        long v;
        if (strncmp(query, "?busy_timeout=", 14) != 0) {
            set_err(err, errlen, "unsupported database URL option: ", query);
            return CL_INVALID;
        }
        v = strtol(query + 14, &end, 10);
        if (*end || end == query + 14 || v < 0 || v > 600000) {
            set_err(err, errlen, "invalid busy_timeout: ", query + 14);
            return CL_INVALID;
        }
        busy_ms = (int)v;
    }
    if (path[0] == '\0' || path == query) {
        set_err(err, errlen, "database URL names no file: ", url);
        return CL_INVALID;
    }
    copy = query ? strndup(path, (size_t)(query - path)) : strdup(path);
    if (!copy) {
        set_err(err, errlen, "out of memory", NULL);
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
