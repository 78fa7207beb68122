/* fuzz_util.c - the invariant checker and a reference UTF-8 decoder for the
 * harnesses. */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* Written from the Unicode table (D92, "well-formed UTF-8 byte sequences")
 * rather than by decoding and range-checking, so it does not share the
 * library's approach. */
long fuzz_utf8_count(const unsigned char *s, size_t len, void (*fn)(unsigned long cp, void *ctx),
                     void *ctx)
{
    static const struct {
        unsigned char lo, hi;   /* first byte range */
        unsigned char lo2, hi2; /* second byte range */
        int n;
    } rows[] = {
        {0x00, 0x7F, 0, 0, 1},       {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3},
        {0xE1, 0xEC, 0x80, 0xBF, 3}, {0xED, 0xED, 0x80, 0x9F, 3}, {0xEE, 0xEF, 0x80, 0xBF, 3},
        {0xF0, 0xF0, 0x90, 0xBF, 4}, {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
    };
    size_t i = 0;
    long count = 0;

    while (i < len) {
        size_t r, nrows = sizeof(rows) / sizeof(rows[0]);
        unsigned long cp;
        int n;

        for (r = 0; r < nrows; r++)
            if (s[i] >= rows[r].lo && s[i] <= rows[r].hi)
                break;
        if (r == nrows)
            return -1;
        n = rows[r].n;
        if (len - i < (size_t)n)
            return -1;
        if (n > 1 && (s[i + 1] < rows[r].lo2 || s[i + 1] > rows[r].hi2))
            return -1;
        for (int k = 2; k < n; k++)
            if (s[i + (size_t)k] < 0x80 || s[i + (size_t)k] > 0xBF)
                return -1;
        cp = n == 1 ? s[i] : (unsigned long)(s[i] & (0xFF >> (n + 1)));
        for (int k = 1; k < n; k++)
            cp = (cp << 6) | (s[i + (size_t)k] & 0x3Fu);
        if (fn)
            fn(cp, ctx);
        i += (size_t)n;
        count++;
    }
    return count;
}
