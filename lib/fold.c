/* fold.c - case and accent folding for search and sort keys. */
#include "fold.h"

#include <string.h>

#include "utf8.h"

/* U+00C0..U+017F: the ASCII letters each folds to, NULL for "keep as is"
 * (U+00D7 and U+00F7, the multiplication and division signs).  Derived from
 * the Unicode canonical decompositions (base letter, lower case), with the
 * letters that have none spelled out (ae, oe, ss, th, d, l, ...). */
static const char *const latin[0x180 - 0xC0] = {
    /* U+00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
    /* U+00C8 */ "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00D0 */ "d", "n", "o", "o", "o", "o", "o", NULL,
    /* U+00D8 */ "o", "u", "u", "u", "u", "y", "th", "ss",
    /* U+00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
    /* U+00E8 */ "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00F0 */ "d", "n", "o", "o", "o", "o", "o", NULL,
    /* U+00F8 */ "o", "u", "u", "u", "u", "y", "th", "y",
    /* U+0100 */ "a", "a", "a", "a", "a", "a", "c", "c",
    /* U+0108 */ "c", "c", "c", "c", "c", "c", "d", "d",
    /* U+0110 */ "d", "d", "e", "e", "e", "e", "e", "e",
    /* U+0118 */ "e", "e", "e", "e", "g", "g", "g", "g",
    /* U+0120 */ "g", "g", "g", "g", "h", "h", "h", "h",
    /* U+0128 */ "i", "i", "i", "i", "i", "i", "i", "i",
    /* U+0130 */ "i", "i", "ij", "ij", "j", "j", "k", "k",
    /* U+0138 */ "k", "l", "l", "l", "l", "l", "l", "l",
    /* U+0140 */ "l", "l", "l", "n", "n", "n", "n", "n",
    /* U+0148 */ "n", "n", "n", "n", "o", "o", "o", "o",
    /* U+0150 */ "o", "o", "oe", "oe", "r", "r", "r", "r",
    /* U+0158 */ "r", "r", "s", "s", "s", "s", "s", "s",
    /* U+0160 */ "s", "s", "t", "t", "t", "t", "t", "t",
    /* U+0168 */ "u", "u", "u", "u", "u", "u", "u", "u",
    /* U+0170 */ "u", "u", "u", "u", "w", "w", "y", "y",
    /* U+0178 */ "y", "z", "z", "z", "z", "z", "z", "s",
};

size_t fold_text(const char *in, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;

    while (i < len) {
        unsigned long cp;
        size_t n = utf8_decode(s + i, len - i, &cp);

        if (n == 0) { /* not UTF-8: keep the byte */
            out[o++] = (char)s[i++];
            continue;
        }
        if (cp < 0x80) {
            out[o++] = (char)(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp);
        } else if (cp >= 0x300 && cp <= 0x36F) {
            /* a combining mark: dropped */
        } else if (cp >= 0xC0 && cp < 0x180 && latin[cp - 0xC0]) {
            const char *f = latin[cp - 0xC0];
            size_t fl = strlen(f); /* <= n: every folded letter is at most as long */
            memcpy(out + o, f, fl);
            o += fl;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = '\0';
    return o;
}
