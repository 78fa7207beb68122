/* cgi_capture.c - capturing and splitting responses, without assertions (see
 * cgi_capture.h). */
#include "cgi_capture.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cgi_out_init(struct cgi_out *o)
{
    memset(o, 0, sizeof(*o));
    o->fail_from = -1;
}

void cgi_out_reset(struct cgi_out *o)
{
    o->len = 0;
    if (o->data)
        o->data[0] = '\0';
    o->calls = 0;
    o->failed = false;
}

void cgi_out_free(struct cgi_out *o)
{
    free(o->data);
    cgi_out_init(o);
}

int cgi_out_write(void *ctx, const char *buf, size_t len)
{
    struct cgi_out *o = ctx;
    int call = o->calls++;

    if (o->fail_from >= 0 && call >= o->fail_from) {
        o->failed = true;
        return -1;
    }
    if (o->len + len + 1 > o->cap) {
        size_t cap = (o->len + len + 1) * 2;
        char *p = realloc(o->data, cap);
        if (!p)
            abort();
        o->data = p;
        o->cap = cap;
    }
    memcpy(o->data + o->len, buf, len);
    o->len += len;
    o->data[o->len] = '\0';
    return 0;
}

enum cgi_parse_err cgi_parse_response(const struct cgi_out *o, struct cgi_resp *r)
{
    const char *end, *eol;
    size_t hlen;

    memset(r, 0, sizeof(*r));
    if (!o->data || o->len <= 8)
        return CGI_PARSE_EMPTY;
    if (memcmp(o->data, "Status: ", 8) != 0)
        return CGI_PARSE_NO_STATUS;
    end = strstr(o->data, "\r\n\r\n");
    if (!end)
        return CGI_PARSE_NO_END;
    eol = strstr(o->data, "\r\n"); /* found: at end at the latest */
    if ((size_t)(eol - o->data) >= sizeof(r->status_line))
        return CGI_PARSE_LONG_STATUS;
    memcpy(r->status_line, o->data, (size_t)(eol - o->data));
    r->status = atoi(o->data + 8);
    /* from after the status line's CRLF to the CRLF ending the last header */
    hlen = (size_t)(end - eol);
    if (hlen >= sizeof(r->headers))
        return CGI_PARSE_LONG_HEADERS;
    memcpy(r->headers, eol + 2, hlen);
    /* no bare LF anywhere in the head: every line ends in CRLF */
    for (const char *p = o->data; p < end + 4; p++)
        if (*p == '\n' && (p == o->data || p[-1] != '\r'))
            return CGI_PARSE_BARE_LF;
    r->body = end + 4;
    r->body_len = o->len - (size_t)(r->body - o->data);
    return CGI_PARSE_OK;
}

const char *cgi_parse_strerror(enum cgi_parse_err e)
{
    switch (e) {
    case CGI_PARSE_OK:
        return "ok";
    case CGI_PARSE_EMPTY:
        return "nothing written";
    case CGI_PARSE_NO_STATUS:
        return "no \"Status: \" line first";
    case CGI_PARSE_NO_END:
        return "no blank line ending the headers";
    case CGI_PARSE_LONG_STATUS:
        return "status line too long";
    case CGI_PARSE_LONG_HEADERS:
        return "header lines too long";
    case CGI_PARSE_BARE_LF:
        return "a header line ends in a bare LF";
    }
    return "unknown error";
}

int cgi_find_header(const char *head, size_t hlen, const char *name, const char **value,
                    size_t *value_len)
{
    const char *end = head + hlen;
    size_t n = strlen(name);
    int found = 0;

    for (const char *line = head; line < end;) {
        const char *eol = memchr(line, '\r', (size_t)(end - line));

        if (!eol || eol + 1 >= end || eol[1] != '\n')
            return -1;
        if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ') /* stops at the '\r' at the latest */
                v++;
            if (value)
                *value = v;
            if (value_len)
                *value_len = (size_t)(eol - v);
            found++;
        }
        line = eol + 2;
    }
    return found;
}
