/* errlog.c - refusal recognition and personal-data stripping for nginx's
 * error-log lines (format: ngx_http_log_error_handler's
 * "..., client: A, server: S, request: "R", upstream: "U", host: "H",
 * referrer: "F""; the referrer always comes last). */
#include "errlog.h"

#include <string.h>

static const char *const refusals[ERRLOG_REFUSAL_KINDS] = {
    [ERRLOG_LIMIT_REQ] = "limiting requests",
    [ERRLOG_LIMIT_CONN] = "limiting connections",
    [ERRLOG_WORKER_CONNECTIONS] = "worker_connections are not enough",
};

int errlog_refusal(const char *line)
{
    for (int k = 0; k < ERRLOG_REFUSAL_KINDS; k++)
        if (strstr(line, refusals[k]))
            return k;
    return -1;
}

const char *errlog_refusal_name(int kind)
{
    return kind >= 0 && kind < ERRLOG_REFUSAL_KINDS ? refusals[kind] : "refusal";
}

/* Removes [from, to) from the string holding them. */
static void cut(char *from, char *to)
{
    memmove(from, to, strlen(to) + 1);
}

/* The end of the request field's value: the quote before the next field nginx
 * writes after it, or the line's last quote.  The value itself is raw (a
 * client's quotes are not escaped), so its own quotes cannot be trusted. */
static char *request_end(char *v)
{
    static const char *const next[] = {"\", subrequest: \"", "\", upstream: \"", "\", host: \"",
                                       "\", referrer: \""};
    char *end = NULL;

    for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
        char *p = strstr(v, next[i]);
        if (p && (!end || p < end))
            end = p;
    }
    if (!end) {
        end = strrchr(v, '"');
        if (!end)
            end = v + strlen(v);
    }
    return end;
}

void errlog_clean(char *line)
{
    char *p, *end, *q, *proto;

    /* The referrer: last on the line, and wholly the client's. */
    if ((p = strstr(line, ", referrer: \"")) != NULL)
        *p = '\0';

    /* The request line: keep method, path and protocol, drop the query. */
    if ((p = strstr(line, ", request: \"")) != NULL) {
        p += strlen(", request: \"");
        end = request_end(p);
        q = memchr(p, '?', (size_t)(end - p));
        if (q) {
            proto = NULL;
            for (char *h = q; h + 6 <= end; h++)
                if (memcmp(h, " HTTP/", 6) == 0)
                    proto = h;
            cut(q, proto ? proto : end);
        }
    }

    /* "client sent invalid header line: "<what the client sent>" ...": keep
     * nginx's words up to the quote, cut the rest of the message. */
    if ((p = strstr(line, "client sent ")) != NULL &&
        (q = strstr(p, ": \"")) != NULL &&
        (end = strstr(p, ", client: ")) != NULL && q < end) {
        q += 2; /* the quote */
        if (end - q >= 5) {
            memcpy(q, "(cut)", 5);
            cut(q + 5, end);
        } else {
            cut(q, end);
        }
    }
}
