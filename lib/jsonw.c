/* jsonw.c - the library's JSON text builder (see jsonw.h). */
#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
    memset(w, 0, sizeof(*w));
}

static bool reserve(struct jsonw *w, size_t more)
{
    size_t need, cap;
    char *p;

    if (w->failed)
        return false;
    need = w->len + more + 1;
    if (need <= w->cap)
        return true;
    cap = w->cap ? w->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(w->buf, cap);
    if (!p) {
        w->failed = true;
        return false;
    }
    w->buf = p;
    w->cap = cap;
    return true;
}

void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void jsonw_str(struct jsonw *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *run;

    if (!s) {
        jsonw_raw(w, "null", 4);
        return;
    }
    jsonw_raw(w, "\"", 1);
    for (run = p; *p; p++) {
        char esc[8];
        size_t n = 2;

        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        jsonw_raw(w, (const char *)run, (size_t)(p - run));
        esc[0] = '\\';
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
        }
        jsonw_raw(w, esc, n);
        run = p + 1;
    }
    jsonw_raw(w, (const char *)run, (size_t)(p - run));
    jsonw_raw(w, "\"", 1);
}

void jsonw_elem(struct jsonw *w)
{
    if (w->comma)
        jsonw_raw(w, ",", 1);
    w->comma = true;
}

void jsonw_open(struct jsonw *w, char c)
{
    jsonw_raw(w, &c, 1);
    w->comma = false;
}

void jsonw_close(struct jsonw *w, char c)
{
    jsonw_raw(w, &c, 1);
    w->comma = true;
}

void jsonw_key(struct jsonw *w, const char *key)
{
    jsonw_elem(w);
    jsonw_str(w, key);
    jsonw_raw(w, ":", 1);
}

void jsonw_member_str(struct jsonw *w, const char *key, const char *val)
{
    jsonw_key(w, key);
    jsonw_str(w, val);
}

void jsonw_member_int(struct jsonw *w, const char *key, long long val)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%lld", val);

    jsonw_key(w, key);
    jsonw_raw(w, num, (size_t)n);
}

void jsonw_member_bool(struct jsonw *w, const char *key, bool val)
{
    jsonw_key(w, key);
    jsonw_raw(w, val ? "true" : "false", val ? 4 : 5);
}

char *jsonw_finish(struct jsonw *w)
{
    char *out = w->failed ? NULL : w->buf;

    if (w->failed)
        free(w->buf);
    jsonw_init(w);
    return out;
}

void jsonw_free(struct jsonw *w)
{
    free(w->buf);
    jsonw_init(w);
}
