/* fuzz_validate.c - libFuzzer harness for the record validators: the first
 * byte picks the field (or an unknown one), the rest is the value.  The real
 * client_validate_at() is compared with reference rules written here from
 * docs/API.md (text, mail, and the calendar for D/M/YYYY and YYYY-MM-DD),
 * and a valid value must round-trip through client_set()/client_get(). */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "fuzz.h"

/* A fixed "today" so runs are reproducible.  It must not be later than the
 * real date: client_set() validates as of the real today, and a date valid on
 * FUZZ_TODAY has to stay valid after it. */
#define FUZZ_TODAY 20250115L

/* ------------------------------------------------------- reference rules */

struct text_scan {
    int control, nonblank;
};

static void scan_cp(unsigned long cp, void *ctx)
{
    struct text_scan *t = ctx;

    /* C0, DEL, C1, LINE/PARAGRAPH SEPARATOR */
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029)
        t->control = 1;
    if (cp != ' ')
        t->nonblank = 1;
}

/* 1..max code points of UTF-8, no control characters, not only spaces. */
static int ref_text(const char *v, size_t len, long max)
{
    struct text_scan t = {0, 0};
    long n = fuzz_utf8_count((const unsigned char *)v, len, scan_cp, &t);

    return n >= 1 && n <= max && !t.control && t.nonblank;
}

static int ref_label_char(char c)
{
    return strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", c) &&
           c != '\0';
}

static int ref_mail(const char *v, size_t len)
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
        } else if (ref_label_char(d[i])) {
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

static int reference(enum client_field f, const char *v, size_t len, long today)
{
    switch (f) {
    case CLIENT_NOMBRE:
    case CLIENT_APELLIDOS: return ref_text(v, len, 100);
    case CLIENT_DIRECCION: return ref_text(v, len, 200);
    case CLIENT_MAIL: return ref_mail(v, len);
    case CLIENT_FECHA_NACIMIENTO: return ref_date(v, len, today);
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
    int ref, set_ok;

    if (size == 0)
        return 0;
    /* 0..4: the fields; 5 and 6: unknown fields, which must be refused */
    f = (enum client_field)(data[0] % (CLIENT_NFIELDS + 2));
    v = (const char *)data + 1; /* libFuzzer's buffer ends exactly at v[len] */
    len = size - 1;

    e = client_validate_at(f, v, len, FUZZ_TODAY, &why);
    FUZZ_CHECK(e == CL_OK || e == CL_INVALID, "client_validate_at returned %d", (int)e);
    FUZZ_CHECK((e == CL_OK) == (why == NULL), "reason %s for result %d", why ? why : "NULL",
               (int)e);
    FUZZ_CHECK(client_validate_at(f, v, len, FUZZ_TODAY, NULL) == e, "not pure");
    if (why)
        FUZZ_CHECK(*why && fuzz_utf8_valid(why, strlen(why)), "bad reason text");

    ref = reference(f, v, len, FUZZ_TODAY);
    FUZZ_CHECK(ref == (e == CL_OK), "field %d len %zu: library says %s, reference says %s",
               (int)f, len, why ? why : "valid", ref ? "valid" : "invalid");

    if ((unsigned)f >= CLIENT_NFIELDS)
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
