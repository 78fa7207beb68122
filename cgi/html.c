/* html.c - the HTML writer: literal markup, escaped values. */
#include "html.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* U+FFFD, what stands in for a character that must not reach the page. */
#define REPLACEMENT "\xef\xbf\xbd"

void html_init(struct html *h, http_write_fn fn, void *ctx)
{
    h->write = fn;
    h->ctx = ctx;
    h->failed = false;
}

static int emit(struct html *h, const char *buf, size_t len)
{
    if (h->failed)
        return -1;
    if (len && h->write(h->ctx, buf, len) != 0) {
        h->failed = true;
        return -1;
    }
    return 0;
}

int html_markup_(struct html *h, const char *lit, size_t len)
{
    return emit(h, lit, len);
}

/* Bytes that end a run of plain text: the five escaped characters, the
 * controls (TAB and LF excepted) and DEL, and every byte from 0x80 on (the
 * start of a sequence, checked by the decoder). */
static const unsigned char stop[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1,
    [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1,
    [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
    [0x1e] = 1, [0x1f] = 1, ['&'] = 1,  ['<'] = 1,  ['>'] = 1,  ['"'] = 1,  ['\''] = 1,
    [0x7f] = 1,
#define R16(b) [b] = 1, [b + 1] = 1, [b + 2] = 1, [b + 3] = 1, [b + 4] = 1, [b + 5] = 1, \
               [b + 6] = 1, [b + 7] = 1, [b + 8] = 1, [b + 9] = 1, [b + 10] = 1,        \
               [b + 11] = 1, [b + 12] = 1, [b + 13] = 1, [b + 14] = 1, [b + 15] = 1
    R16(0x80), R16(0x90), R16(0xa0), R16(0xb0), R16(0xc0), R16(0xd0), R16(0xe0), R16(0xf0),
#undef R16
};

/* A code point that could change how the text around it reads. */
static bool hidden_control(unsigned long cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The one escaper, for text and quoted attribute values alike (html.h). */
static int escape(struct html *h, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;

    while (p < end) {
        const char *rep;
        size_t n = 1, rlen;
        unsigned long cp;

        if (!stop[*p]) {
            p++;
            continue;
        }
        if (*p >= 0x80) {
            n = utf8_decode(p, (size_t)(end - p), &cp);
            if (n && !hidden_control(cp)) { /* an ordinary character: part of the run */
                p += n;
                continue;
            }
            if (!n)
                n = 1; /* one malformed byte at a time */
        }
        if (emit(h, (const char *)run, (size_t)(p - run)))
            return -1;
        switch (*p) {
        case '&': rep = "&amp;"; rlen = 5; break;
        case '<': rep = "&lt;"; rlen = 4; break;
        case '>': rep = "&gt;"; rlen = 4; break;
        case '"': rep = "&quot;"; rlen = 6; break;
        case '\'': rep = "&#39;"; rlen = 5; break;
        default: rep = REPLACEMENT; rlen = sizeof(REPLACEMENT) - 1; break;
        }
        if (emit(h, rep, rlen))
            return -1;
        p += n;
        run = p;
    }
    return emit(h, (const char *)run, (size_t)(p - run));
}

int html_text_n(struct html *h, const char *s, size_t len)
{
    return s ? escape(h, s, len) : (h->failed ? -1 : 0);
}

int html_text(struct html *h, const char *s)
{
    return html_text_n(h, s, s ? strlen(s) : 0);
}

int html_attr(struct html *h, const char *s)
{
    return html_text_n(h, s, s ? strlen(s) : 0);
}

int html_url(struct html *h, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char buf[256];
    size_t n = 0;

    if (!s)
        return h->failed ? -1 : 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (n + 3 > sizeof(buf)) {
            if (emit(h, buf, n))
                return -1;
            n = 0;
        }
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf[n++] = (char)c;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 15];
        }
    }
    return emit(h, buf, n);
}

int html_int(struct html *h, long long v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", v);

    return emit(h, buf, (size_t)n);
}
