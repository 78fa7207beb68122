/* fuzz_validate.c - libFuzzer harness for the record validators: the first
 * byte picks the field (0..4), an unknown one (5, 6) or the key rule of
 * lookups (7); the rest is the value.  The real client_validate_at() and
 * client_validate_key() are compared with reference rules written here from
 * docs/API.md (text with its Unicode classes, the dot-atom mail, the older
 * key rule, and the calendar for D/M/YYYY and YYYY-MM-DD), and a valid
 * value must round-trip through client_set()/client_get(). */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "fuzz.h"

/* A fixed "today" so runs are reproducible.  It must not be later than the
 * real date: client_set() validates as of the real today, and a date valid on
 * FUZZ_TODAY has to stay valid after it. */
#define FUZZ_TODAY 20250115L

/* The selector byte's value for the key rule. */
#define SEL_KEY (CLIENT_NFIELDS + 2)

/* ------------------------------------------------------- reference rules */

/* The code points of a value, collected by fuzz_utf8_count's callback. */
struct cps {
    unsigned long cp[256];
    size_t n;
};

static void collect(unsigned long cp, void *ctx)
{
    struct cps *c = ctx;
    if (c->n < sizeof(c->cp) / sizeof(c->cp[0]))
        c->cp[c->n] = cp;
    c->n++;
}

/* Written from the Unicode 15.0 data files, not from lib/unicode.c: the
 * White_Space lines of PropList.txt ... */
static int ref_white_space(unsigned long c)
{
    switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return 1;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

/* ... the Default_Ignorable_Code_Point lines of DerivedCoreProperties.txt ... */
static int ref_default_ignorable(unsigned long c)
{
    static const unsigned long single[] = {0xAD, 0x34F, 0x61C, 0x3164, 0xFEFF, 0xFFA0};
    static const unsigned long span[][2] = {
        {0x115F, 0x1160}, {0x17B4, 0x17B5},   {0x180B, 0x180F},   {0x200B, 0x200F},
        {0x202A, 0x202E}, {0x2060, 0x206F},   {0xFE00, 0xFE0F},   {0xFFF0, 0xFFF8},
        {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF},
    };
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
        if (c == single[i])
            return 1;
    for (size_t i = 0; i < sizeof(span) / sizeof(span[0]); i++)
        if (c >= span[i][0] && c <= span[i][1])
            return 1;
    return 0;
}

/* ... and those of them whose General_Category is Mn (UnicodeData.txt). */
static int ref_ignorable_mark(unsigned long c)
{
    return c == 0x34F || c == 0x17B4 || c == 0x17B5 || (c >= 0x180B && c <= 0x180D) ||
           c == 0x180F || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF);
}

/* Refused anywhere: C0, DEL, C1, U+2028/9; Bidi_Control; noncharacters;
 * the Tags block. */
static int ref_refused(unsigned long c)
{
    if (c <= 0x1F || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029)
        return 1;
    if (c == 0x61C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
        (c >= 0x2066 && c <= 0x2069))
        return 1;
    if ((c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFF) == 0xFFFE || (c & 0xFFFF) == 0xFFFF)
        return 1;
    return c >= 0xE0000 && c <= 0xE007F;
}

static int ref_visible(unsigned long c)
{
    return !ref_white_space(c) && !ref_default_ignorable(c);
}

/* 1..max code points of UTF-8, none refused; the first code point visible,
 * and after the last visible one nothing but ignorable marks. */
static int ref_text(const char *v, size_t len, long max)
{
    struct cps c = {.n = 0};
    long n = fuzz_utf8_count((const unsigned char *)v, len, collect, &c);
    size_t last;

    if (n < 1 || n > max || (size_t)n > sizeof(c.cp) / sizeof(c.cp[0]))
        return 0;
    for (size_t i = 0; i < c.n; i++)
        if (ref_refused(c.cp[i]))
            return 0;
    if (!ref_visible(c.cp[0]))
        return 0;
    last = c.n - 1;
    while (!ref_visible(c.cp[last]))
        last--; /* stops at 0 at worst: cp[0] is visible */
    for (size_t i = last + 1; i < c.n; i++)
        if (!ref_ignorable_mark(c.cp[i]))
            return 0;
    return 1;
}

/* Splits s[0..len) at `sep` and calls ok() on each piece; 1 when every piece
 * passes, with *pieces set to their number and the last piece in *lastp, *lastn. */
static int each_piece(const char *s, size_t len, char sep, int (*ok)(const char *, size_t),
                      size_t *pieces, const char **lastp, size_t *lastn)
{
    size_t start = 0;

    *pieces = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != sep)
            continue;
        if (!ok(s + start, i - start))
            return 0;
        *lastp = s + start;
        *lastn = i - start;
        (*pieces)++;
        start = i + 1;
    }
    return 1;
}

static int all_in(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || !strchr(set, s[i]))
            return 0;
    return 1;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* RFC 5322 atom: one or more atext. */
static int ref_atom(const char *s, size_t n)
{
    return n >= 1 && all_in(s, n, ALNUM "!#$%&'*+-/=?^_`{|}~");
}

/* LDH label of 1..63, no hyphen at either end. */
static int ref_label(const char *s, size_t n)
{
    return n >= 1 && n <= 63 && all_in(s, n, ALNUM "-") && s[0] != '-' && s[n - 1] != '-';
}

/* The mail rule: dot-atom@domain, <= 254 bytes. */
static int ref_mail(const char *v, size_t len)
{
    const char *at = len ? memchr(v, '@', len) : NULL;
    const char *last = NULL;
    size_t local, pieces, lastn = 0;

    if (!at || len > 254)
        return 0;
    local = (size_t)(at - v);
    if (local < 1 || local > 64 || !each_piece(v, local, '.', ref_atom, &pieces, &last, &lastn))
        return 0;
    if (!each_piece(at + 1, len - local - 1, '.', ref_label, &pieces, &last, &lastn) ||
        pieces < 2)
        return 0;
    return !all_in(last, lastn, "0123456789");
}

static int ref_key_label_char(char c)
{
    return strchr(ALNUM "-", c) && c != '\0';
}

/* The key rule (the mail rule before issue 10): printable ASCII, one '@',
 * local 1..64, a domain of >= 2 non-empty LDH labels, <= 254 bytes. */
static int ref_key(const char *v, size_t len)
{
    const char *at = len ? memchr(v, '@', len) : NULL;
    size_t local, labels = 0, dlen;
    const char *d, *end = v + len;

    if (!at || len > 254 || memchr(at + 1, '@', (size_t)(end - at - 1)))
        return 0;
    local = (size_t)(at - v);
    if (local < 1 || local > 64)
        return 0;
    for (size_t i = 0; i < local; i++)
        if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7E)
            return 0;
    /* domain: labels separated by single dots, at least two labels */
    d = at + 1;
    dlen = (size_t)(end - d);
    if (dlen == 0)
        return 0;
    for (size_t i = 0, lab = 0; i <= dlen; i++) {
        if (i == dlen || d[i] == '.') {
            if (lab == 0)
                return 0;
            labels++;
            lab = 0;
        } else if (ref_key_label_char(d[i])) {
            lab++;
        } else {
            return 0;
        }
    }
    return labels >= 2;
}

static int ref_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n decimal digits at s; -1 when any is not a digit. */
static long digits(const char *s, size_t n)
{
    long v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* D/M/YYYY with 1-2 digit day and month, or YYYY-MM-DD; a calendar date
 * from 1900-01-01 to today.  Tries every split instead of scanning. */
static int ref_date(const char *v, size_t len, long today)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long d = -1, m = -1, y = -1;

    if (len == 10 && v[4] == '-' && v[7] == '-') {
        y = digits(v, 4), m = digits(v + 5, 2), d = digits(v + 8, 2);
    } else {
        for (size_t dl = 1; dl <= 2 && d < 0; dl++)
            for (size_t ml = 1; ml <= 2 && d < 0; ml++)
                if (len == dl + 1 + ml + 1 + 4 && v[dl] == '/' && v[dl + 1 + ml] == '/' &&
                    digits(v, dl) >= 0 && digits(v + dl + 1, ml) >= 0 &&
                    digits(v + dl + 1 + ml + 1, 4) >= 0) {
                    d = digits(v, dl);
                    m = digits(v + dl + 1, ml);
                    y = digits(v + dl + 1 + ml + 1, 4);
                }
    }
    if (d < 0 || m < 0 || y < 0)
        return 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && ref_leap(y)))
        return 0;
    return y >= 1900 && y * 10000 + m * 100 + d <= today;
}

static int reference(int f, const char *v, size_t len, long today)
{
    switch (f) {
    case CLIENT_NOMBRE:
    case CLIENT_APELLIDOS: return ref_text(v, len, 100);
    case CLIENT_DIRECCION: return ref_text(v, len, 200);
    case CLIENT_MAIL: return ref_mail(v, len);
    case CLIENT_FECHA_NACIMIENTO: return ref_date(v, len, today);
    case SEL_KEY: return ref_key(v, len);
    default: return 0;
    }
}

/* -------------------------------------------------------------- the checks */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum client_field f;
    const char *v, *why = "unset", *why2 = "unset";
    size_t len;
    enum cl_err e;
    struct client c, before;
    int sel, ref, set_ok;

    if (size == 0)
        return 0;
    /* 0..4: the fields; 5 and 6: unknown fields, which must be refused;
     * 7: the key rule of lookups */
    sel = data[0] % (SEL_KEY + 1);
    f = (enum client_field)sel;
    v = (const char *)data + 1; /* libFuzzer's buffer ends exactly at v[len] */
    len = size - 1;

    if (sel == SEL_KEY) {
        e = client_validate_key(v, len, &why);
        FUZZ_CHECK(client_validate_key(v, len, NULL) == e, "key rule not pure");
    } else {
        e = client_validate_at(f, v, len, FUZZ_TODAY, &why);
        FUZZ_CHECK(client_validate_at(f, v, len, FUZZ_TODAY, NULL) == e, "not pure");
    }
    FUZZ_CHECK(e == CL_OK || e == CL_INVALID, "validation returned %d", (int)e);
    FUZZ_CHECK((e == CL_OK) == (why == NULL), "reason %s for result %d", why ? why : "NULL",
               (int)e);
    if (why)
        FUZZ_CHECK(*why && fuzz_utf8_valid(why, strlen(why)), "bad reason text");

    ref = reference(sel, v, len, FUZZ_TODAY);
    FUZZ_CHECK(ref == (e == CL_OK), "selector %d len %zu: library says %s, reference says %s",
               sel, len, why ? why : "valid", ref ? "valid" : "invalid");

    /* the key rule finds every mail the mail rule lets in */
    if (f == CLIENT_MAIL || sel == SEL_KEY)
        FUZZ_CHECK(!ref_mail(v, len) || client_validate_key(v, len, NULL) == CL_OK,
                   "a valid mail is not a valid key");
    if ((unsigned)sel >= CLIENT_NFIELDS)
        return 0;

    /* A date's validity depends on today only through "not in the future". */
    if (f == CLIENT_FECHA_NACIMIENTO)
        FUZZ_CHECK((client_validate_at(f, v, len, 99991231L, &why2) == CL_OK) ==
                       (ref_date(v, len, 99991231L) != 0),
                   "date with a far today: %s", why2 ? why2 : "valid");

    /* client_set() validates as of the real today: a date after FUZZ_TODAY
     * may be valid for it. */
    set_ok = f == CLIENT_FECHA_NACIMIENTO ? ref_date(v, len, client_today()) : ref;
    memset(&c, 0x7E, sizeof(c));
    client_init(&c);
    memcpy(&before, &c, sizeof(c));
    if (e == CL_OK) {
        const char *got;
        FUZZ_CHECK(memchr(v, '\0', len) == NULL, "valid value with a NUL");
        FUZZ_CHECK(len < client_fields[f].cap, "valid value of %zu bytes, cap %zu", len,
                   client_fields[f].cap);
        if (f == CLIENT_MAIL) {
            const char *at = memchr(v, '@', len);
            FUZZ_CHECK(at && !memchr(at + 1, '@', len - (size_t)(at - v) - 1),
                       "mail without exactly one '@'");
        } else if (f != CLIENT_FECHA_NACIMIENTO) {
            FUZZ_CHECK(fuzz_utf8_valid(v, len), "valid text is not UTF-8");
        }
        FUZZ_CHECK(client_set(&c, f, v, len, &why2) == CL_OK, "client_set refused: %s", why2);
        got = client_get(&c, f);
        FUZZ_CHECK(strlen(got) == len && memcmp(got, v, len) == 0, "client_get differs");
        for (int g = 0; g < CLIENT_NFIELDS; g++)
            if (g != (int)f)
                FUZZ_CHECK(client_get(&c, (enum client_field)g)[0] == '\0',
                           "client_set touched field %d", g);
    } else if (!set_ok) {
        FUZZ_CHECK(client_set(&c, f, v, len, &why2) == CL_INVALID, "client_set accepted");
        FUZZ_CHECK(memcmp(&c, &before, sizeof(c)) == 0, "refused client_set changed the record");
    }
    return 0;
}
