/* test_client.c - the field table and the validators of lib/client.c, in isolation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "error.h"
#include "manager.h"
#include "store.h"
#include "unicode.h"
#include "support.h"

/* A fixed "today" so that date tests do not depend on the calendar. */
#define TODAY 20240615L

/* Every validator call goes through a heap copy of exactly `len` bytes with
 * no NUL after it, so ASan/valgrind catch any read past value[len - 1]. */
static enum cl_err validate_exact(enum client_field f, const char *value, size_t len, long today,
                                  const char **reason)
{
    char *copy = malloc(len ? len : 1);
    enum cl_err err;
    const char *why2 = "sentinel";

    if (!copy)
        fail_msg("out of memory");
    memcpy(copy, value, len);
    *reason = "sentinel"; /* must be overwritten either way */
    err = client_validate_at(f, copy, len, today, reason);
    /* the same answer when the caller does not want the reason */
    if (client_validate_at(f, copy, len, today, NULL) != err)
        fail_msg("client_validate_at gave another result with reason == NULL");
    (void)client_validate_at(f, copy, len, today, &why2);
    if ((why2 == NULL) != (*reason == NULL) || (why2 && strcmp(why2, *reason) != 0))
        fail_msg("client_validate_at is not deterministic");
    free(copy);
    return err;
}

/* Printable rendering of a value for failure messages. */
static void show(const char *value, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c >= 0x20 && c < 0x7F)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

static void expect_valid(enum client_field f, const char *value, size_t len, long today,
                         const char *file, int line)
{
    const char *why;
    char shown[160];
    enum cl_err err = validate_exact(f, value, len, today, &why);

    if (err != CL_OK || why != NULL) {
        show(value, len, shown, sizeof(shown));
        fail_msg("%s:%d: %s '%s' (%zu bytes) refused (%d): %s", file, line,
                 client_fields[f].name, shown, len, (int)err, why ? why : "(null reason)");
    }
}

/* want: the exact reason expected, or NULL for "any reason". */
static void expect_invalid(enum client_field f, const char *value, size_t len, long today,
                           const char *want, const char *file, int line)
{
    const char *why;
    char shown[160];
    enum cl_err err = validate_exact(f, value, len, today, &why);

    show(value, len, shown, sizeof(shown));
    if (err != CL_INVALID)
        fail_msg("%s:%d: %s '%s' (%zu bytes) accepted (%d)", file, line, client_fields[f].name,
                 shown, len, (int)err);
    if (why == NULL || why[0] == '\0')
        fail_msg("%s:%d: %s '%s' refused without a reason", file, line, client_fields[f].name,
                 shown);
    if (want && strcmp(want, why) != 0)
        fail_msg("%s:%d: %s '%s': reason '%s', expected '%s'", file, line,
                 client_fields[f].name, shown, why, want);
}

/* The key rule (client_validate_key) through the same exact-length copy. */
static void expect_key(const char *value, size_t len, const char *want, const char *file,
                       int line)
{
    char *copy = malloc(len ? len : 1);
    const char *why = "sentinel";
    char shown[160];
    enum cl_err err;

    if (!copy)
        fail_msg("out of memory");
    memcpy(copy, value, len);
    err = client_validate_key(copy, len, &why);
    if (client_validate_key(copy, len, NULL) != err)
        fail_msg("client_validate_key gave another result with reason == NULL");
    free(copy);
    show(value, len, shown, sizeof(shown));
    if (want == NULL && (err != CL_OK || why != NULL))
        fail_msg("%s:%d: key '%s' refused: %s", file, line, shown, why ? why : "(null)");
    if (want != NULL && (err != CL_INVALID || why == NULL || strcmp(why, want) != 0))
        fail_msg("%s:%d: key '%s': %s, expected '%s'", file, line, shown,
                 err == CL_OK ? "accepted" : why ? why : "(null)", want);
}

/* For string literals (embedded NULs count: the length is sizeof - 1). */
#define OK(f, lit) expect_valid((f), (lit), sizeof(lit) - 1, TODAY, __FILE__, __LINE__)
#define BAD(f, lit, why) expect_invalid((f), (lit), sizeof(lit) - 1, TODAY, (why), __FILE__, __LINE__)
/* For computed buffers. */
#define OKN(f, buf, n) expect_valid((f), (buf), (n), TODAY, __FILE__, __LINE__)
#define BADN(f, buf, n, why) expect_invalid((f), (buf), (n), TODAY, (why), __FILE__, __LINE__)
/* The key rule: KEY_OK accepts, KEY_BAD refuses with exactly that reason. */
#define KEY_OK(lit) expect_key((lit), sizeof(lit) - 1, NULL, __FILE__, __LINE__)
#define KEY_BAD(lit, why) expect_key((lit), sizeof(lit) - 1, (why), __FILE__, __LINE__)

/* Writes `piece` n times into out (NUL-terminated); returns the byte length. */
static size_t repeat(char *out, size_t cap, const char *piece, size_t n)
{
    size_t pl = strlen(piece), len = 0;
    for (size_t i = 0; i < n; i++) {
        if (len + pl + 1 > cap)
            fail_msg("repeat: buffer too small");
        memcpy(out + len, piece, pl);
        len += pl;
    }
    out[len] = '\0';
    return len;
}

/* Writes a mail into out (NUL-terminated): `local` nlocal times, '@',
 * `domain` ndomain times, then `tail`; returns the byte length. */
static size_t mail_of(char *out, size_t cap, const char *local, size_t nlocal, const char *domain,
                      size_t ndomain, const char *tail)
{
    size_t n = repeat(out, cap, local, nlocal);

    if (n + 2 > cap)
        fail_msg("mail_of: buffer too small");
    out[n++] = '@';
    n += repeat(out + n, cap - n, domain, ndomain);
    if (n + strlen(tail) + 1 > cap)
        fail_msg("mail_of: buffer too small");
    memcpy(out + n, tail, strlen(tail) + 1);
    return n + strlen(tail);
}

/* Writes a mail of exactly `total` bytes valid under the mail rule: `local`
 * times 'l', '@', labels of at most 63 'd', then ".es"; returns total. */
static size_t long_mail(char *out, size_t cap, size_t local, size_t total)
{
    size_t n = repeat(out, cap, "l", local), rest;

    if (total < n + 5 || total + 1 > cap)
        fail_msg("long_mail: bad sizes");
    out[n++] = '@';
    rest = total - n - 3;
    while (rest > 0) {
        size_t lab = rest > 63 ? 63 : rest;
        if (rest == 64)
            lab = 62; /* never leave a lone dot for the last label */
        memset(out + n, 'd', lab);
        n += lab;
        rest -= lab;
        if (rest > 0) {
            out[n++] = '.';
            rest--;
        }
    }
    memcpy(out + n, ".es", 4);
    return n + 3;
}

/* `piece` max times is valid in field f, once more is "demasiado largo". */
static void expect_limit(enum client_field f, const char *piece, size_t max, const char *file,
                         int line)
{
    char buf[1024];
    size_t n = repeat(buf, sizeof(buf), piece, max);

    expect_valid(f, buf, n, TODAY, file, line);
    n = repeat(buf, sizeof(buf), piece, max + 1);
    expect_invalid(f, buf, n, TODAY, "demasiado largo", file, line);
}

#define LIMIT(f, piece, max) expect_limit((f), (piece), (max), __FILE__, __LINE__)

static const enum client_field text_fields[] = {CLIENT_NOMBRE, CLIENT_APELLIDOS,
                                                CLIENT_DIRECCION};

/* ---- the field table ------------------------------------------------------ */

static void test_field_table(void **state)
{
    static const char *names[CLIENT_NFIELDS] = {"nombre", "apellidos", "mail",
                                                "fecha_nacimiento", "direccion"};
    static const char *legacy[CLIENT_NFIELDS] = {"Nombre", "Apellidos", "Mail",
                                                 "Fecha de nacimiento", "Direccion"};
    static const size_t max[CLIENT_NFIELDS] = {100, 100, 254, 10, 200};
    static const size_t named_max[CLIENT_NFIELDS] = {
        CLIENT_NOMBRE_MAX, CLIENT_APELLIDOS_MAX, CLIENT_MAIL_MAX, CLIENT_FECHA_MAX,
        CLIENT_DIRECCION_MAX};
    struct client c;
    (void)state;

    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const struct client_field_desc *d = &client_fields[f];
        assert_int_equal(d->field, f);
        assert_string_equal(d->name, names[f]);
        assert_string_equal(d->legacy_name, legacy[f]);
        assert_int_equal(d->max_chars, max[f]);
        assert_int_equal(d->max_chars, named_max[f]); /* one source per limit */
        assert_non_null(d->validate);
        assert_true(d->offset + d->cap <= sizeof(struct client));
        /* the capacity holds the longest valid value, 4-byte code points included */
        if (f == CLIENT_MAIL || f == CLIENT_FECHA_NACIMIENTO) /* ASCII only */
            assert_int_equal(d->cap, d->max_chars + 1);
        else
            assert_int_equal(d->cap, d->max_chars * 4 + 1);
        assert_ptr_equal(client_get(&c, (enum client_field)f), (char *)&c + d->offset);
        assert_ptr_equal(client_field_by_name(names[f], strlen(names[f])), d);
    }
    /* members do not overlap */
    for (int a = 0; a < CLIENT_NFIELDS; a++)
        for (int b = 0; b < CLIENT_NFIELDS; b++)
            if (a != b)
                assert_true(client_fields[a].offset + client_fields[a].cap <=
                                client_fields[b].offset ||
                            client_fields[b].offset + client_fields[b].cap <=
                                client_fields[a].offset);
}

static void test_field_by_name(void **state)
{
    (void)state;
    /* exactly len bytes are compared: a name inside a query string works */
    const char *qs = "fecha_nacimiento=8/09/1978";
    assert_ptr_equal(client_field_by_name(qs, 16), &client_fields[CLIENT_FECHA_NACIMIENTO]);
    assert_null(client_field_by_name(qs, 15));
    assert_null(client_field_by_name(qs, 17));
    assert_null(client_field_by_name("Nombre", 6)); /* case-sensitive */
    assert_null(client_field_by_name("nombr", 5));
    assert_null(client_field_by_name("nombrex", 7));
    assert_null(client_field_by_name("", 0));
    assert_null(client_field_by_name("password", 8));
    assert_null(client_field_by_name("mail\0x", 6));
}

static void test_strerror(void **state)
{
    static const enum cl_err all[] = {CL_OK,      CL_NOT_FOUND, CL_EXISTS, CL_INVALID,
                                      CL_BUSY,    CL_STORAGE,   CL_NOMEM};
    const size_t n = sizeof(all) / sizeof(all[0]);
    (void)state;

    assert_int_equal(CL_OK, 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = cl_strerror(all[i]);
        assert_non_null(s);
        assert_true(s[0] != '\0');
        assert_string_not_equal(s, "unknown error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, cl_strerror(all[j]));
    }
    assert_string_equal(cl_strerror((enum cl_err)1000), "unknown error");
    assert_string_equal(cl_strerror((enum cl_err)-1), "unknown error");
}

/* ---- today, in the service's time zone ------------------------------------- */

static long today_local(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        fail_msg("localtime_r failed");
    return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* The instant y-m-d h:mi:00 UTC. */
static time_t utc(int y, int m, int d, int h, int mi)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return timegm(&tm);
}

/* Sets TZ for this process (as the worker does before its threads start). */
static void set_tz(const char *tz)
{
    if (tz)
        assert_int_equal(setenv("TZ", tz, 1), 0);
    else
        assert_int_equal(unsetenv("TZ"), 0);
    tzset();
}

static void test_today(void **state)
{
    (void)state;
    long before = today_local();
    long t = client_today();
    long after = today_local();

    /* local time, as YYYYMMDD (either side of a midnight between the calls) */
    assert_true(t == before || t == after);
    assert_in_range(t / 10000, 2024, 9999);
    assert_in_range(t / 100 % 100, 1, 12);
    assert_in_range(t % 100, 1, 31);
    assert_true(client_today_at(time(NULL)) == t || client_today_at(time(NULL)) == after);
}

/* "Today" is the date in Madrid (TZ=Europe/Madrid, the service's default),
 * not in UTC: at 23:30 UTC on 31 December it is already the new year there. */
static void test_today_time_zone(void **state)
{
    const char *old = getenv("TZ");
    char saved[128] = "";
    struct tm tm;
    const char *why;
    time_t winter = utc(2026, 12, 31, 23, 30), summer = utc(2026, 6, 30, 22, 0);
    (void)state;

    if (old)
        snprintf(saved, sizeof(saved), "%s", old);
    set_tz("Europe/Madrid");
    /* without the zone data glibc silently uses UTC: say so, do not skip */
    assert_non_null(localtime_r(&winter, &tm));
    if (tm.tm_gmtoff != 3600 || strcmp(tm.tm_zone, "CET") != 0)
        fail_msg("TZ=Europe/Madrid gives UTC%+ld (%s) in winter: the time zone data is "
                 "missing (install tzdata: /usr/share/zoneinfo/Europe/Madrid)",
                 (long)tm.tm_gmtoff, tm.tm_zone);

    /* winter, UTC+1: local midnight is 23:00 UTC */
    assert_int_equal(client_today_at(winter), 20270101L);
    assert_int_equal(client_today_at(utc(2026, 12, 31, 23, 0)), 20270101L);
    assert_int_equal(client_today_at(utc(2026, 12, 31, 22, 59)), 20261231L);
    assert_int_equal(client_today_at(winter - 3600), 20261231L);
    /* summer, UTC+2: local midnight is 22:00 UTC */
    assert_int_equal(client_today_at(summer), 20260701L);
    assert_int_equal(client_today_at(summer - 60), 20260630L);
    /* a leap day, in the zone */
    assert_int_equal(client_today_at(utc(2028, 2, 28, 23, 0)), 20280229L);

    /* a birth date of 1 January 2027 is valid at 23:30 UTC, not an hour before */
    assert_int_equal(client_validate_at(CLIENT_FECHA_NACIMIENTO, "2027-01-01", 10,
                                        client_today_at(winter), &why),
                     CL_OK);
    assert_int_equal(client_validate_at(CLIENT_FECHA_NACIMIENTO, "1/1/2027", 8,
                                        client_today_at(winter), &why),
                     CL_OK);
    assert_int_equal(client_validate_at(CLIENT_FECHA_NACIMIENTO, "2027-01-01", 10,
                                        client_today_at(winter - 3600), &why),
                     CL_INVALID);
    assert_string_equal(why, "fecha futura");
    assert_int_equal(client_validate_at(CLIENT_FECHA_NACIMIENTO, "2/1/2027", 8,
                                        client_today_at(winter), &why),
                     CL_INVALID);
    assert_string_equal(why, "fecha futura");

    /* the zone is what makes the difference: in UTC it is still 2026 */
    set_tz("UTC");
    assert_int_equal(client_today_at(winter), 20261231L);
    assert_int_equal(client_today_at(summer), 20260630L);

    set_tz(old ? saved : NULL);
}

/* ---- the Unicode classes ---------------------------------------------------- */

struct cp_range {
    unsigned long lo, hi;
};

/* The ranges as the Unicode 15.0.0 files list them, one line each (not
 * merged, unlike lib/unicode.c): PropList.txt and DerivedCoreProperties.txt. */
static const struct cp_range ucd_white_space[] = {
    {0x0009, 0x000D}, {0x0020, 0x0020}, {0x0085, 0x0085}, {0x00A0, 0x00A0},
    {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2028}, {0x2029, 0x2029},
    {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000},
};
static const struct cp_range ucd_default_ignorable[] = {
    {0x00AD, 0x00AD},   {0x034F, 0x034F},   {0x061C, 0x061C},   {0x115F, 0x1160},
    {0x17B4, 0x17B5},   {0x180B, 0x180D},   {0x180E, 0x180E},   {0x180F, 0x180F},
    {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},   {0x2065, 0x2065},
    {0x2066, 0x206F},   {0x3164, 0x3164},   {0xFE00, 0xFE0F},   {0xFEFF, 0xFEFF},
    {0xFFA0, 0xFFA0},   {0xFFF0, 0xFFF8},   {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
    {0xE0000, 0xE0000}, {0xE0001, 0xE0001}, {0xE0002, 0xE001F}, {0xE0020, 0xE007F},
    {0xE0080, 0xE00FF}, {0xE0100, 0xE01EF}, {0xE01F0, 0xE0FFF},
};
/* the Mn among them (UnicodeData.txt) */
static const struct cp_range ucd_ignorable_mark[] = {
    {0x034F, 0x034F}, {0x17B4, 0x17B5}, {0x180B, 0x180D},
    {0x180F, 0x180F}, {0xFE00, 0xFE0F}, {0xE0100, 0xE01EF},
};
static const struct cp_range ucd_bidi_control[] = {
    {0x061C, 0x061C}, {0x200E, 0x200F}, {0x202A, 0x202E}, {0x2066, 0x2069},
};
static const struct cp_range ucd_noncharacter[] = {
    {0xFDD0, 0xFDEF},     {0xFFFE, 0xFFFF},     {0x1FFFE, 0x1FFFF},   {0x2FFFE, 0x2FFFF},
    {0x3FFFE, 0x3FFFF},   {0x4FFFE, 0x4FFFF},   {0x5FFFE, 0x5FFFF},   {0x6FFFE, 0x6FFFF},
    {0x7FFFE, 0x7FFFF},   {0x8FFFE, 0x8FFFF},   {0x9FFFE, 0x9FFFF},   {0xAFFFE, 0xAFFFF},
    {0xBFFFE, 0xBFFFF},   {0xCFFFE, 0xCFFFF},   {0xDFFFE, 0xDFFFF},   {0xEFFFE, 0xEFFFF},
    {0xFFFFE, 0xFFFFF},   {0x10FFFE, 0x10FFFF},
};
static const struct cp_range ucd_tags[] = {{0xE0000, 0xE007F}};

static bool in_ranges(const struct cp_range *r, size_t n, unsigned long cp)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i].lo && cp <= r[i].hi)
            return true;
    return false;
}

/* For every range: both ends and the middle are in the class, the code
 * points just outside are not (unless the next line of the file has them). */
static void check_class(const char *name, bool (*is)(unsigned long), const struct cp_range *r,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned long in[3] = {r[i].lo, r[i].hi, r[i].lo + (r[i].hi - r[i].lo) / 2};
        unsigned long out[2] = {r[i].lo - 1, r[i].hi + 1};
        for (int k = 0; k < 3; k++)
            if (!is(in[k]))
                fail_msg("%s: U+%04lX should be in the class", name, in[k]);
        for (int k = 0; k < 2; k++)
            if (!in_ranges(r, n, out[k]) && is(out[k]))
                fail_msg("%s: U+%04lX should not be in the class", name, out[k]);
    }
    /* and a sweep of the whole code space agrees with the list */
    for (unsigned long cp = 0; cp <= 0x110000; cp++)
        if (is(cp) != in_ranges(r, n, cp))
            fail_msg("%s: U+%04lX is %s", name, cp, is(cp) ? "in, not listed" : "listed, not in");
}

#define CLASS(is, table) check_class(#is, is, table, sizeof(table) / sizeof(table[0]))

static void test_unicode_classes(void **state)
{
    (void)state;
    CLASS(unicode_white_space, ucd_white_space);
    CLASS(unicode_default_ignorable, ucd_default_ignorable);
    CLASS(unicode_ignorable_mark, ucd_ignorable_mark);
    CLASS(unicode_bidi_control, ucd_bidi_control);
    CLASS(unicode_noncharacter, ucd_noncharacter);
    CLASS(unicode_tag, ucd_tags);
    /* far outside the code space */
    assert_false(unicode_white_space(0xFFFFFFFFUL));
    assert_false(unicode_noncharacter(0x11FFFE));
    assert_false(unicode_default_ignorable(0x7FFFFFFFUL));
}

/* ---- free text: nombre, apellidos, direccion ------------------------------ */

static void test_text_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++) {
        enum client_field f = text_fields[i];
        OK(f, "Jesus");
        OK(f, "J");
        OK(f, "Mesa Gonzalez");
        OK(f, "Calle Paseo Moreras 39");
        OK(f, "Íñigo");
        OK(f, "Pérez-Ñúñez d'Alba");
        OK(f, "日本語");
        OK(f, "\xf0\x9f\x98\x80 emoji");    /* 4-byte sequence U+1F600 */
        OK(f, "\xf4\x8f\xbf\xbd");          /* U+10FFFD, the last code point that is a character */
        OK(f, "\xef\xbf\xbd");              /* U+FFFD */
        OK(f, "\xef\xbf\xbc");              /* U+FFFC, next to the noncharacters */
        OK(f, "\xef\xb7\x8f");              /* U+FDCF, just before U+FDD0 */
        OK(f, "\xef\xb7\xb0");              /* U+FDF0, just after U+FDEF */
        OK(f, "a b");
        OK(f, "a     b");
        OK(f, "~!#$%&()*+,-./:;<=>?@[]^_`{|}");
        /* invisible characters between visible ones are text, not padding */
        OK(f, "Calle\xc2\xa0Mayor");                 /* NBSP inside */
        OK(f, "Mar\xc3\xad" "a\xe3\x80\x80Luisa");      /* IDEOGRAPHIC SPACE inside */
        OK(f, "Ana\xe2\x80\x8bMar\xc3\xad" "a");        /* ZWSP inside */
        OK(f, "super\xc2\xad" "calle");              /* SOFT HYPHEN inside */
        OK(f, "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7"); /* Devanagari with ZWJ */
        OK(f, "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb"); /* woman technologist (ZWJ) */
        OK(f, "\xd8\xb9\xd9\x84\xd9\x8a");           /* Arabic letters: right-to-left, no controls */
        OK(f, "Jose\xcc\x81");                       /* e + COMBINING ACUTE, kept as given */
        OK(f, "a\xef\xbb\xbf" "b");                  /* a BOM inside is a ZWNBSP */
        /* a default-ignorable mark right after a visible character is part of it */
        OK(f, "Ana \xe2\x9d\xa4\xef\xb8\x8f");       /* ends with U+2764 U+FE0F (red heart) */
        OK(f, "\xe2\x9d\xa4\xef\xb8\x8f");
        OK(f, "\xe8\xbe\xbb\xf3\xa0\x84\x80");       /* ends with VARIATION SELECTOR-17 */
        OK(f, "x\xcd\x8f");                          /* ends with COMBINING GRAPHEME JOINER */
        OK(f, "\xe1\x9e\x80\xe1\x9e\xb4");           /* Khmer KA + INHERENT AQ */
        OK(f, "\xe1\xa0\xa0\xe1\xa0\x8b");           /* Mongolian + FVS1 */
    }
}

static void test_text_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++) {
        enum client_field f = text_fields[i];
        /* empty and blank-only */
        BAD(f, "", "vacio");
        BAD(f, " ", "vacio");
        BAD(f, "     ", "vacio");
        /* invalid UTF-8 */
        BAD(f, "\xff", "UTF-8 invalido");
        BAD(f, "ab\xfe", "UTF-8 invalido");
        BAD(f, "\xc0\xaf", "UTF-8 invalido");         /* overlong '/' */
        BAD(f, "\xc1\xbf", "UTF-8 invalido");         /* overlong */
        BAD(f, "\xe0\x80\xaf", "UTF-8 invalido");     /* overlong, 3 bytes */
        BAD(f, "\xf0\x80\x80\xaf", "UTF-8 invalido"); /* overlong, 4 bytes */
        BAD(f, "Jes\xc3", "UTF-8 invalido");          /* truncated 2-byte */
        BAD(f, "\xc3 x", "UTF-8 invalido");           /* lead without continuation */
        BAD(f, "\xe2\x82", "UTF-8 invalido");         /* truncated 3-byte */
        BAD(f, "\xf0\x9f\x98", "UTF-8 invalido");     /* truncated 4-byte */
        BAD(f, "\x80", "UTF-8 invalido");             /* stray continuation */
        BAD(f, "a\xbf" "b", "UTF-8 invalido");
        BAD(f, "\xed\xa0\x80", "UTF-8 invalido");     /* U+D800, high surrogate */
        BAD(f, "\xed\xbf\xbf", "UTF-8 invalido");     /* U+DFFF, low surrogate */
        BAD(f, "\xed\xa0\xbd\xed\xb8\x80", "UTF-8 invalido"); /* CESU-8 pair */
        BAD(f, "\xf4\x90\x80\x80", "UTF-8 invalido");  /* past U+10FFFF */
        BAD(f, "\xf5\x80\x80\x80", "UTF-8 invalido");
        BAD(f, "\xf8\x88\x80\x80\x80", "UTF-8 invalido"); /* 5-byte form */
        /* NUL and control characters, wherever they are */
        BAD(f, "\0", "contiene caracteres de control");
        BAD(f, "Ju\0an", "contiene caracteres de control");
        BAD(f, "Juan\0", "contiene caracteres de control");
        BAD(f, "Juan\n", "contiene caracteres de control");
        BAD(f, "Ju\ran", "contiene caracteres de control");
        BAD(f, "\tJuan", "contiene caracteres de control");
        BAD(f, "Juan\x1b[31m", "contiene caracteres de control");
        BAD(f, "Juan\x7f", "contiene caracteres de control");
        BAD(f, "Juan\xc2\x85", "contiene caracteres de control");     /* U+0085 NEL */
        BAD(f, "Juan\xc2\x9f", "contiene caracteres de control");     /* U+009F */
        BAD(f, "Juan\xe2\x80\xa8", "contiene caracteres de control"); /* U+2028 */
        BAD(f, "Juan\xe2\x80\xa9", "contiene caracteres de control"); /* U+2029 */
        BAD(f, " \t ", "contiene caracteres de control");
    }
}

/* Writes cp as UTF-8 at out (room for 4 bytes); returns the byte count. */
static size_t put_utf8(char *out, unsigned long cp)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Builds before + cp x times + after into out; returns the byte length. */
static size_t around(char *out, const char *before, unsigned long cp, int times, const char *after)
{
    size_t n = strlen(before);
    memcpy(out, before, n);
    for (int i = 0; i < times; i++)
        n += put_utf8(out + n, cp);
    memcpy(out + n, after, strlen(after) + 1);
    return n + strlen(after);
}

/* White_Space and Default_Ignorable code points not refused for another
 * reason (control, bidi control, tag): every range's ends and middle.  Alone
 * they are "vacio", at the start or the end of a value they are refused,
 * between letters they are accepted. */
static void test_text_invisible(void **state)
{
    static const unsigned long invisible[] = {
        0x0020,  0x00A0,  0x00AD,  0x034F,  0x115F,  0x1160,  0x1680,  0x17B4,  0x17B5,
        0x180B,  0x180C,  0x180D,  0x180E,  0x180F,  0x2000,  0x2005,  0x200A,  0x200B,
        0x200C,  0x200D,  0x202F,  0x205F,  0x2060,  0x2062,  0x2064,  0x2065,  0x206A,
        0x206C,  0x206F,  0x3000,  0x3164,  0xFE00,  0xFE07,  0xFE0F,  0xFEFF,  0xFFA0,
        0xFFF0,  0xFFF4,  0xFFF8,  0x1BCA0, 0x1BCA1, 0x1BCA3, 0x1D173, 0x1D176, 0x1D17A,
        0xE0080, 0xE00FF, 0xE0100, 0xE0150, 0xE01EF, 0xE01F0, 0xE0800, 0xE0FFF,
    };
    char buf[64];
    size_t n;
    (void)state;

    for (size_t k = 0; k < sizeof(text_fields) / sizeof(text_fields[0]); k++) {
        enum client_field f = text_fields[k];
        for (size_t i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++) {
            unsigned long cp = invisible[i];
            bool mark = in_ranges(ucd_ignorable_mark, sizeof(ucd_ignorable_mark) /
                                                          sizeof(ucd_ignorable_mark[0]), cp);
            n = around(buf, "", cp, 1, "");
            BADN(f, buf, n, "vacio");
            n = around(buf, "", cp, 3, "");
            BADN(f, buf, n, "vacio");
            n = around(buf, " ", cp, 1, "\xc2\xa0");
            BADN(f, buf, n, "vacio");
            n = around(buf, "", cp, 1, "Ana");
            BADN(f, buf, n,
                 cp == 0xFEFF ? "empieza con una marca de orden de bytes (BOM)"
                              : "empieza con espacios o caracteres invisibles");
            n = around(buf, "Ana", cp, 1, "");
            if (mark) /* a mark after the 'a' is part of it */
                OKN(f, buf, n);
            else
                BADN(f, buf, n, "termina con espacios o caracteres invisibles");
            n = around(buf, "Ana", cp, 1, " ");
            BADN(f, buf, n, "termina con espacios o caracteres invisibles");
            n = around(buf, "A", cp, 2, "na");
            OKN(f, buf, n);
        }
        /* the examples of the issue: zero-width only, NBSP, ideographic space, a BOM */
        BAD(f, "\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d\xe2\x81\xa0", "vacio");
        BAD(f, "\xc2\xa0\xc2\xa0", "vacio");
        BAD(f, "\xe3\x80\x80", "vacio");
        BAD(f, "\xef\xbb\xbf", "vacio");
        BAD(f, "\xef\xbb\xbfJuan", "empieza con una marca de orden de bytes (BOM)");
        BAD(f, "\xe3\x85\xa4", "vacio");                       /* HANGUL FILLER as a name */
        BAD(f, "\xef\xb8\x8f", "vacio");                       /* a lone VS16 */
        BAD(f, " Juan", "empieza con espacios o caracteres invisibles");
        BAD(f, "Juan ", "termina con espacios o caracteres invisibles");
        BAD(f, " x ", "empieza con espacios o caracteres invisibles");
        BAD(f, "Juan\xc2\xa0", "termina con espacios o caracteres invisibles");
        BAD(f, "Juan\xe2\x80\x8b", "termina con espacios o caracteres invisibles");
        BAD(f, "Juan\xe2\x80\x8d", "termina con espacios o caracteres invisibles"); /* lone ZWJ */
        /* a mark after an invisible character modifies nothing visible */
        BAD(f, "Juan \xef\xb8\x8f", "termina con espacios o caracteres invisibles");
        BAD(f, "Juan\xe2\x80\x8b\xef\xb8\x8f", "termina con espacios o caracteres invisibles");
        BAD(f, "\xef\xb8\x8fJuan", "empieza con espacios o caracteres invisibles");
        /* several marks after a visible character: all part of it */
        OK(f, "Juan\xef\xb8\x8f\xcd\x8f\xef\xb8\x80");
    }
}

/* Refused anywhere in the value: bidi controls, noncharacters, tags. */
static void test_text_spoofing(void **state)
{
    static const struct {
        const char *cp, *why;
    } bad[] = {
        {"\xd8\x9c", "contiene controles de direccion del texto"},     /* U+061C ALM */
        {"\xe2\x80\x8e", "contiene controles de direccion del texto"}, /* U+200E LRM */
        {"\xe2\x80\x8f", "contiene controles de direccion del texto"}, /* U+200F RLM */
        {"\xe2\x80\xaa", "contiene controles de direccion del texto"}, /* U+202A LRE */
        {"\xe2\x80\xab", "contiene controles de direccion del texto"}, /* U+202B RLE */
        {"\xe2\x80\xac", "contiene controles de direccion del texto"}, /* U+202C PDF */
        {"\xe2\x80\xad", "contiene controles de direccion del texto"}, /* U+202D LRO */
        {"\xe2\x80\xae", "contiene controles de direccion del texto"}, /* U+202E RLO */
        {"\xe2\x81\xa6", "contiene controles de direccion del texto"}, /* U+2066 LRI */
        {"\xe2\x81\xa7", "contiene controles de direccion del texto"}, /* U+2067 RLI */
        {"\xe2\x81\xa8", "contiene controles de direccion del texto"}, /* U+2068 FSI */
        {"\xe2\x81\xa9", "contiene controles de direccion del texto"}, /* U+2069 PDI */
        {"\xef\xb7\x90", "contiene no-caracteres de Unicode"},         /* U+FDD0 */
        {"\xef\xb7\xa0", "contiene no-caracteres de Unicode"},         /* U+FDE0 */
        {"\xef\xb7\xaf", "contiene no-caracteres de Unicode"},         /* U+FDEF */
        {"\xef\xbf\xbe", "contiene no-caracteres de Unicode"},         /* U+FFFE */
        {"\xef\xbf\xbf", "contiene no-caracteres de Unicode"},         /* U+FFFF */
        {"\xf0\x9f\xbf\xbe", "contiene no-caracteres de Unicode"},     /* U+1FFFE */
        {"\xf0\x9f\xbf\xbf", "contiene no-caracteres de Unicode"},     /* U+1FFFF */
        {"\xf0\xaf\xbf\xbe", "contiene no-caracteres de Unicode"},     /* U+2FFFE */
        {"\xf3\xbf\xbf\xbf", "contiene no-caracteres de Unicode"},     /* U+FFFFF */
        {"\xf4\x8f\xbf\xbe", "contiene no-caracteres de Unicode"},     /* U+10FFFE */
        {"\xf4\x8f\xbf\xbf", "contiene no-caracteres de Unicode"},     /* U+10FFFF */
        {"\xf3\xa0\x80\x80", "contiene caracteres de etiqueta de Unicode"}, /* U+E0000 */
        {"\xf3\xa0\x80\x81", "contiene caracteres de etiqueta de Unicode"}, /* LANGUAGE TAG */
        {"\xf3\xa0\x80\xa0", "contiene caracteres de etiqueta de Unicode"}, /* TAG SPACE */
        {"\xf3\xa0\x81\xa1", "contiene caracteres de etiqueta de Unicode"}, /* TAG 'a' */
        {"\xf3\xa0\x81\xbf", "contiene caracteres de etiqueta de Unicode"}, /* CANCEL TAG */
    };
    char buf[64];
    (void)state;

    for (size_t k = 0; k < sizeof(text_fields) / sizeof(text_fields[0]); k++) {
        enum client_field f = text_fields[k];
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            const char *z = bad[i].cp;
            int n;
            BADN(f, z, strlen(z), bad[i].why);
            n = snprintf(buf, sizeof(buf), "%sAna", z);
            BADN(f, buf, (size_t)n, bad[i].why);
            n = snprintf(buf, sizeof(buf), "An%sa", z);
            BADN(f, buf, (size_t)n, bad[i].why);
            n = snprintf(buf, sizeof(buf), "Ana%s", z);
            BADN(f, buf, (size_t)n, bad[i].why);
        }
        /* the classic: an override that shows "Ana txt.exe" as "Ana exe.txt" */
        BAD(f, "Ana \xe2\x80\xaetxt.exe", "contiene controles de direccion del texto");
        /* text hidden in tags after a visible name */
        BAD(f, "Ana\xf3\xa0\x81\xa8\xf3\xa0\x81\xa9", "contiene caracteres de etiqueta de Unicode");
        /* the first refusal met is the one reported */
        BAD(f, "\xe2\x80\xae\n", "contiene controles de direccion del texto");
        BAD(f, "\n\xe2\x80\xae", "contiene caracteres de control");
        /* just outside the tag block: a default-ignorable, fine inside a name */
        OK(f, "A\xf3\xa0\x82\x80" "na"); /* U+E0080 */
    }
}

static void test_text_lengths(void **state)
{
    char buf[1024];
    size_t n;
    (void)state;

    /* nombre and apellidos: 100 code points, whatever their byte length */
    for (int i = 0; i < 2; i++) {
        enum client_field f = i ? CLIENT_APELLIDOS : CLIENT_NOMBRE;
        LIMIT(f, "\xc3\xb1", 100);         /* 100 x ñ = 200 bytes */
        LIMIT(f, "a", 100);
        LIMIT(f, "\xf0\x9f\x98\x80", 100); /* 400 bytes */
        LIMIT(f, "\xe2\x9d\xa4\xef\xb8\x8f", 50); /* marks count as code points */
    }
    /* direccion: 200 */
    LIMIT(CLIENT_DIRECCION, "\xc3\xb1", 200);
    LIMIT(CLIENT_DIRECCION, "x", 200);
    /* a bad byte after the limit is still refused, for one reason or the other */
    n = repeat(buf, sizeof(buf), "a", 150);
    buf[n - 1] = '\n';
    BADN(CLIENT_NOMBRE, buf, n, NULL);
    /* invisible characters count too: 99 letters and 2 ZWSP inside is 101 */
    n = repeat(buf, sizeof(buf), "a", 50);
    n += repeat(buf + n, sizeof(buf) - n, "\xe2\x80\x8b", 2);
    n += repeat(buf + n, sizeof(buf) - n, "a", 49);
    BADN(CLIENT_NOMBRE, buf, n, "demasiado largo");
}

/* ---- mail ------------------------------------------------------------------ */

static void test_mail_good(void **state)
{
    (void)state;
    OK(CLIENT_MAIL, "ejemplo@gmail.com");
    OK(CLIENT_MAIL, "a@b.es");
    OK(CLIENT_MAIL, "A@B.ES");
    OK(CLIENT_MAIL, "first.last+tag@sub.example.co.uk");
    OK(CLIENT_MAIL, "x_y-z!#$%&'*/=?^`{|}~@dominio-1.es");
    OK(CLIENT_MAIL, "!#$%&'*+-/=?^_`{|}~@x.es");     /* every atext symbol */
    OK(CLIENT_MAIL, "a.b.c.d@x.es");
    OK(CLIENT_MAIL, "0@0.es");
    OK(CLIENT_MAIL, "u@1-2.3a");                     /* a TLD with a letter */
    OK(CLIENT_MAIL, "u@123.456.e5");
    OK(CLIENT_MAIL, "u@a-b--c.es");                  /* inner hyphens */
    OK(CLIENT_MAIL, "pepe@xn--espaa-rta.es");        /* IDN as an A-label: espana with n-tilde */
    OK(CLIENT_MAIL, "pepe@xn--80ak6aa92e.xn--p1ai");
    OK(CLIENT_MAIL, "'OR'1'='1'--@x.com");           /* SQL-looking, yet atext */
}

/* Each example of issue 10, item 1, refused with a Spanish reason. */
static void test_mail_issue_examples(void **state)
{
    const char *chars = "parte local con caracteres no permitidos";
    const char *dot = "punto mal colocado en la parte local";
    const char *hyphen = "etiqueta del dominio que empieza o termina en '-'";
    char buf[400];
    size_t n;
    (void)state;

    BAD(CLIENT_MAIL, "<script>@x.es", chars);
    BAD(CLIENT_MAIL, "a\"b@x.es", chars);
    BAD(CLIENT_MAIL, "a\\b@x.es", chars);
    BAD(CLIENT_MAIL, "a(b)@x.es", chars);
    BAD(CLIENT_MAIL, "a(comentario)b@x.es", chars);
    BAD(CLIENT_MAIL, "a,b@x.es", chars);
    BAD(CLIENT_MAIL, "a;b@x.es", chars);
    BAD(CLIENT_MAIL, "a<b>@x.es", chars);
    BAD(CLIENT_MAIL, "a:b@x.es", chars);
    BAD(CLIENT_MAIL, "a[b]@x.es", chars);
    /* quoted local parts, with and without what only quotes allow */
    BAD(CLIENT_MAIL, "\"ab\"@x.es", chars);
    BAD(CLIENT_MAIL, "\"a@b\"@x.es", "contiene mas de una '@'");
    BAD(CLIENT_MAIL, "\"a b\"@x.es", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "\"a..b\"@x.es", chars);
    BAD(CLIENT_MAIL, "\"\"@x.es", chars);
    /* dots only between atoms */
    BAD(CLIENT_MAIL, "a..b@x.es", dot);
    BAD(CLIENT_MAIL, ".a@x.es", dot);
    BAD(CLIENT_MAIL, "a.@x.es", dot);
    BAD(CLIENT_MAIL, ".@x.es", dot);
    BAD(CLIENT_MAIL, "...@x.es", dot);
    /* labels with a hyphen at an edge */
    BAD(CLIENT_MAIL, "a@-x.es", hyphen);
    BAD(CLIENT_MAIL, "a@x-.es", hyphen);
    BAD(CLIENT_MAIL, "a@x.-es", hyphen);
    BAD(CLIENT_MAIL, "a@x.es-", hyphen);
    BAD(CLIENT_MAIL, "a@-.es", hyphen);
    BAD(CLIENT_MAIL, "a@xn--.es", hyphen);
    /* labels longer than 63 */
    n = mail_of(buf, sizeof(buf), "a", 1, "d", 64, ".es");
    BADN(CLIENT_MAIL, buf, n, "etiqueta del dominio de mas de 63 caracteres");
    n = mail_of(buf, sizeof(buf), "a", 1, "x.", 1, "");
    n += repeat(buf + n, sizeof(buf) - n, "t", 64);
    BADN(CLIENT_MAIL, buf, n, "etiqueta del dominio de mas de 63 caracteres");
    /* the last label all digits: an address, not a domain */
    BAD(CLIENT_MAIL, "u@1-2.3", "dominio de primer nivel numerico");
    BAD(CLIENT_MAIL, "u@127.0.0.1", "dominio de primer nivel numerico");
    BAD(CLIENT_MAIL, "u@x.123", "dominio de primer nivel numerico");
    BAD(CLIENT_MAIL, "u@[127.0.0.1]", "dominio invalido");
    /* IDN only as A-labels */
    BAD(CLIENT_MAIL, "pepe@espa\xc3\xb1" "a.es", "contiene caracteres no permitidos");
}

static void test_mail_bad(void **state)
{
    (void)state;
    BAD(CLIENT_MAIL, "", "vacio");
    BAD(CLIENT_MAIL, "a@b", "dominio invalido"); /* the domain needs two labels */
    BAD(CLIENT_MAIL, "a@localhost", "dominio invalido");
    BAD(CLIENT_MAIL, "noat", "falta la '@'");
    BAD(CLIENT_MAIL, "a b@c.es", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a@@b.es", "contiene mas de una '@'");
    BAD(CLIENT_MAIL, "a@b@c.es", "contiene mas de una '@'");
    BAD(CLIENT_MAIL, "@b.es", "falta la parte local");
    BAD(CLIENT_MAIL, "a@", "dominio invalido");
    BAD(CLIENT_MAIL, "a@.es", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b..es", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b.es.", "dominio invalido");
    BAD(CLIENT_MAIL, "a@.", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b_c.es", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b.es:80", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b.es/x", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b+c.es", "dominio invalido");
    BAD(CLIENT_MAIL, " a@b.es", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a@b.es ", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, " ", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a@b.es\0", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a\0@b.es", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a@b.es\n", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a\t@b.es", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a\x7f@b.es", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "\xc3\xb1@b.es", "contiene caracteres no permitidos"); /* ñ: ASCII only */
    BAD(CLIENT_MAIL, "a@\xc3\xb1.es", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "\xff@b.es", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a@b.es\xc0\xaf", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a\xe2\x80\x8b@b.es", "contiene caracteres no permitidos"); /* ZWSP */
}

static void test_mail_lengths(void **state)
{
    char buf[400];
    size_t n;
    (void)state;

    /* 64-byte local part is fine, 65 is not */
    n = mail_of(buf, sizeof(buf), "l", 64, "b.es", 1, "");
    OKN(CLIENT_MAIL, buf, n);
    n = mail_of(buf, sizeof(buf), "l", 65, "b.es", 1, "");
    BADN(CLIENT_MAIL, buf, n, "parte local demasiado larga");
    n = mail_of(buf, sizeof(buf), "a.", 32, "b.es", 1, ""); /* 64 bytes ending in a dot */
    BADN(CLIENT_MAIL, buf, n, "punto mal colocado en la parte local");
    n = repeat(buf, sizeof(buf), "a.", 31); /* "a.a. ... a.z": 63 bytes, dots between atoms */
    buf[n++] = 'z';
    memcpy(buf + n, "@b.es", 6);
    n += 5;
    OKN(CLIENT_MAIL, buf, n);

    /* a 63-byte label is fine, 64 is not (see the issue's examples) */
    n = mail_of(buf, sizeof(buf), "l", 1, "d", 63, ".es");
    OKN(CLIENT_MAIL, buf, n);
    n = mail_of(buf, sizeof(buf), "l", 1, "x.", 1, "");
    n += repeat(buf + n, sizeof(buf) - n, "t", 63);
    OKN(CLIENT_MAIL, buf, n);

    /* 254 bytes in all is fine, 255 is not, whatever the split */
    for (size_t local = 1; local <= 64; local++) {
        n = long_mail(buf, sizeof(buf), local, 254);
        assert_int_equal(n, 254);
        OKN(CLIENT_MAIL, buf, n);
        n = long_mail(buf, sizeof(buf), local, 255);
        assert_int_equal(n, 255);
        BADN(CLIENT_MAIL, buf, n, "demasiado largo");
    }
    /* the same with a short local part and short domain labels */
    n = mail_of(buf, sizeof(buf), "l", 1, "dddddddd.", 27, "eeeeeeeee");
    assert_int_equal(n, 254);
    OKN(CLIENT_MAIL, buf, n);
    n = mail_of(buf, sizeof(buf), "l", 1, "dddddddd.", 27, "eeeeeeeeee");
    assert_int_equal(n, 255);
    BADN(CLIENT_MAIL, buf, n, "demasiado largo");
}

/* The key rule: what a lookup, update or delete accepts to name a record.
 * It is the mail rule before issue 10, so every mail it stored is found. */
static void test_mail_key(void **state)
{
    static const char *const strict_ok[] = {
        "ejemplo@gmail.com", "a@b.es", "first.last+tag@sub.example.co.uk",
        "!#$%&'*+-/=?^_`{|}~@x.es", "pepe@xn--espaa-rta.es", "'OR'1'='1'--@x.com",
    };
    char buf[400];
    size_t n;
    (void)state;

    /* every mail the new rule accepts is a key */
    for (size_t i = 0; i < sizeof(strict_ok) / sizeof(strict_ok[0]); i++) {
        expect_valid(CLIENT_MAIL, strict_ok[i], strlen(strict_ok[i]), TODAY, __FILE__, __LINE__);
        expect_key(strict_ok[i], strlen(strict_ok[i]), NULL, __FILE__, __LINE__);
    }
    /* the old rule's mails the new one refuses: still keys */
    KEY_OK("<script>@x.es");
    KEY_OK("a\"b@x.es");
    KEY_OK("a\\b@x.es");
    KEY_OK("a(b)@x.es");
    KEY_OK("a,b@x.es");
    KEY_OK("a;b@x.es");
    KEY_OK("a<b>@x.es");
    KEY_OK("\"ab\"@x.es");
    KEY_OK("a..b@x.es");
    KEY_OK(".a@x.es");
    KEY_OK("a.@x.es");
    KEY_OK("a@-x.es");
    KEY_OK("a@x-.es");
    KEY_OK("u@1-2.3");
    KEY_OK("u@127.0.0.1");
    n = mail_of(buf, sizeof(buf), "a", 1, "d", 64, ".es");
    expect_key(buf, n, NULL, __FILE__, __LINE__);
    /* and what the old rule refused, it still refuses, with its reasons */
    KEY_BAD("", "vacio");
    KEY_BAD("a@b", "dominio invalido");
    KEY_BAD("noat", "falta la '@'");
    KEY_BAD("a b@c.es", "contiene caracteres no permitidos");
    KEY_BAD("a@@b.es", "contiene mas de una '@'");
    KEY_BAD("\"a@b\"@x.es", "contiene mas de una '@'");
    KEY_BAD("@b.es", "falta la parte local");
    KEY_BAD("a@", "dominio invalido");
    KEY_BAD("a@.es", "dominio invalido");
    KEY_BAD("a@b..es", "dominio invalido");
    KEY_BAD("a@b.es.", "dominio invalido");
    KEY_BAD("a@b_c.es", "dominio invalido");
    KEY_BAD("a@[127.0.0.1]", "dominio invalido");
    KEY_BAD("\xc3\xb1@b.es", "contiene caracteres no permitidos");
    KEY_BAD("a@b.es\0", "contiene caracteres no permitidos");
    KEY_BAD("x' OR '1'='1@a.es", "contiene caracteres no permitidos");
    n = mail_of(buf, sizeof(buf), "l", 65, "b.es", 1, "");
    expect_key(buf, n, "parte local demasiado larga", __FILE__, __LINE__);
    n = mail_of(buf, sizeof(buf), "l", 64, "d", 186, ".com"); /* a 186-byte label */
    expect_key(buf, n, "demasiado largo", __FILE__, __LINE__);
    n = mail_of(buf, sizeof(buf), "l", 64, "d", 185, ".com");
    expect_key(buf, n, NULL, __FILE__, __LINE__);
    n = long_mail(buf, sizeof(buf), 64, 255);
    expect_key(buf, n, "demasiado largo", __FILE__, __LINE__);
    /* exactly len bytes, and NULL */
    assert_int_equal(client_validate_key("a@b.es&x=1", 6, NULL), CL_OK);
    assert_int_equal(client_validate_key("a@b.es", 3, NULL), CL_INVALID);
    {
        const char *why = NULL;
        assert_int_equal(client_validate_key(NULL, 0, &why), CL_INVALID);
        assert_non_null(why);
    }
}

/* ---- fecha_nacimiento -------------------------------------------------------- */

static void test_fecha_good(void **state)
{
    (void)state;
    OK(CLIENT_FECHA_NACIMIENTO, "29/02/2000"); /* 2000 is a leap year (div. by 400) */
    OK(CLIENT_FECHA_NACIMIENTO, "8/09/1978");
    OK(CLIENT_FECHA_NACIMIENTO, "29/06/1996");
    OK(CLIENT_FECHA_NACIMIENTO, "1/1/1900");
    OK(CLIENT_FECHA_NACIMIENTO, "01/01/1900");
    OK(CLIENT_FECHA_NACIMIENTO, "31/12/1999");
    OK(CLIENT_FECHA_NACIMIENTO, "29/2/2004");
    OK(CLIENT_FECHA_NACIMIENTO, "31/1/2020");
    OK(CLIENT_FECHA_NACIMIENTO, "30/04/2020");
    OK(CLIENT_FECHA_NACIMIENTO, "2000-02-29");
    OK(CLIENT_FECHA_NACIMIENTO, "1996-06-29");
    OK(CLIENT_FECHA_NACIMIENTO, "1900-01-01");
    /* today itself is not in the future */
    OK(CLIENT_FECHA_NACIMIENTO, "15/06/2024");
    OK(CLIENT_FECHA_NACIMIENTO, "15/6/2024");
    OK(CLIENT_FECHA_NACIMIENTO, "2024-06-15");
    OK(CLIENT_FECHA_NACIMIENTO, "14/06/2024");
}

static void test_fecha_bad(void **state)
{
    const char *fmt = "formato invalido (D/M/AAAA o AAAA-MM-DD)";
    (void)state;

    /* not a real calendar date */
    BAD(CLIENT_FECHA_NACIMIENTO, "29/02/2001", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "29/02/1900", "fecha inexistente"); /* div. by 100 */
    BAD(CLIENT_FECHA_NACIMIENTO, "30/02/2000", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "31/04/2020", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "31/06/2020", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "32/01/2020", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "0/1/1990", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "1/13/1990", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "1/0/1990", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "00/00/1990", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "99/99/1990", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "2001-02-29", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "2020-04-31", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "1990-13-01", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "1990-00-10", "fecha inexistente");
    BAD(CLIENT_FECHA_NACIMIENTO, "1990-01-00", "fecha inexistente");
    /* out of range */
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/1899", "fecha anterior a 1900");
    BAD(CLIENT_FECHA_NACIMIENTO, "31/12/1899", "fecha anterior a 1900");
    BAD(CLIENT_FECHA_NACIMIENTO, "1899-12-31", "fecha anterior a 1900");
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/0001", "fecha anterior a 1900");
    BAD(CLIENT_FECHA_NACIMIENTO, "16/06/2024", "fecha futura");
    BAD(CLIENT_FECHA_NACIMIENTO, "1/7/2024", "fecha futura");
    BAD(CLIENT_FECHA_NACIMIENTO, "2024-06-16", "fecha futura");
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/2025", "fecha futura");
    BAD(CLIENT_FECHA_NACIMIENTO, "31/12/9999", "fecha futura");
    /* wrong shape */
    BAD(CLIENT_FECHA_NACIMIENTO, "", "vacio");
    BAD(CLIENT_FECHA_NACIMIENTO, " ", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "          ", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/90", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/19900", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "001/1/1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/001/1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1//1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "/1/1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "//", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "a/b/cdef", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1-1-1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "01-01-1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1990/01/01", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1990-1-01", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1990-01-1", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1990-1-1", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1990-001-1", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1990-01-011", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "19900-01-01", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1990_01_01", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "+1/1/1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/-1/1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, " 1/1/1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/1990 ", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/1990x", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/1990\0", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1\0/1/1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/1990\n", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "\xff/1/1990", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "1/1/1990\xc0\xaf", fmt);
    BAD(CLIENT_FECHA_NACIMIENTO, "\xd9\xa1/1/1990", fmt); /* Arabic-Indic digit one */
    BAD(CLIENT_FECHA_NACIMIENTO, "1990-01-01T00:00", fmt);
}

/* "a future date" against the real calendar, through client_validate(). */
static void test_fecha_real_today(void **state)
{
    char buf[32];
    const char *why;
    time_t now = time(NULL);
    struct tm tm;
    (void)state;

    /* two days ahead, so that midnight between the calls cannot matter */
    time_t later = now + 2 * 86400;
    assert_non_null(localtime_r(&later, &tm));
    snprintf(buf, sizeof(buf), "%d/%d/%d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
    why = NULL;
    assert_int_equal(client_validate(CLIENT_FECHA_NACIMIENTO, buf, strlen(buf), &why), CL_INVALID);
    assert_non_null(why);
    assert_string_equal(why, "fecha futura");
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    assert_int_equal(client_validate(CLIENT_FECHA_NACIMIENTO, buf, strlen(buf), &why), CL_INVALID);
    assert_string_equal(why, "fecha futura");
    snprintf(buf, sizeof(buf), "1/1/%d", tm.tm_year + 1900 + 1);
    assert_int_equal(client_validate(CLIENT_FECHA_NACIMIENTO, buf, strlen(buf), &why), CL_INVALID);
    assert_string_equal(why, "fecha futura");

    /* two days ago is fine */
    time_t before = now - 2 * 86400;
    assert_non_null(localtime_r(&before, &tm));
    snprintf(buf, sizeof(buf), "%d/%02d/%d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
    why = "sentinel";
    assert_int_equal(client_validate(CLIENT_FECHA_NACIMIENTO, buf, strlen(buf), &why), CL_OK);
    assert_null(why);
    /* and client_validate agrees with client_validate_at(client_today()) */
    assert_int_equal(client_validate(CLIENT_FECHA_NACIMIENTO, "29/02/2000", 10, NULL), CL_OK);
    assert_int_equal(client_validate(CLIENT_FECHA_NACIMIENTO, "29/02/2001", 10, &why), CL_INVALID);
    assert_string_equal(why, "fecha inexistente");
}

/* ---- client_validate_at edge arguments --------------------------------------- */

static void test_validate_arguments(void **state)
{
    const char *why = "sentinel";
    (void)state;

    assert_int_equal(client_validate_at(CLIENT_NFIELDS, "x", 1, TODAY, &why), CL_INVALID);
    assert_non_null(why);
    assert_int_equal(client_validate_at((enum client_field)-1, "x", 1, TODAY, &why), CL_INVALID);
    assert_non_null(why);
    why = "sentinel";
    assert_int_equal(client_validate_at(CLIENT_NOMBRE, NULL, 0, TODAY, &why), CL_INVALID);
    assert_non_null(why);
    assert_int_equal(client_validate_at(CLIENT_NOMBRE, NULL, 5, TODAY, NULL), CL_INVALID);
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        assert_int_equal(client_validate_at((enum client_field)f, NULL, 0, TODAY, &why),
                         CL_INVALID);
        assert_int_equal(client_validate_at((enum client_field)f, "", 0, TODAY, &why),
                         CL_INVALID);
        assert_non_null(why);
    }
    /* only len bytes count: a valid prefix of a longer buffer is valid */
    assert_int_equal(client_validate_at(CLIENT_FECHA_NACIMIENTO, "8/09/1978XYZ", 9, TODAY, &why),
                     CL_OK);
    assert_null(why);
    assert_int_equal(client_validate_at(CLIENT_MAIL, "a@b.es&x=1", 6, TODAY, &why), CL_OK);
    assert_int_equal(client_validate_at(CLIENT_NOMBRE, "Juan\xff", 4, TODAY, &why), CL_OK);
    assert_null(why);
}

/* ---- records: client_set / client_get / client_check ------------------------ */

static void test_client_set_get(void **state)
{
    struct client c, before;
    const char *why;
    char buf[1024];
    size_t n;
    (void)state;

    client_init(&c);
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        assert_string_equal(client_get(&c, (enum client_field)f), "");

    /* only len bytes are copied, and NUL-terminated */
    why = "sentinel";
    assert_int_equal(client_set(&c, CLIENT_NOMBRE, "JuanXYZ", 4, &why), CL_OK);
    assert_null(why);
    assert_string_equal(c.nombre, "Juan");
    assert_int_equal(client_set(&c, CLIENT_APELLIDOS, "Mesa Gonzalez", 13, NULL), CL_OK);
    assert_int_equal(client_set(&c, CLIENT_MAIL, "ejemplo@gmail.com", 17, NULL), CL_OK);
    assert_int_equal(client_set(&c, CLIENT_FECHA_NACIMIENTO, "8/09/1978", 9, NULL), CL_OK);
    assert_int_equal(client_set(&c, CLIENT_DIRECCION, "Calle Paseo Moreras 39", 22, NULL), CL_OK);
    assert_string_equal(client_get(&c, CLIENT_APELLIDOS), "Mesa Gonzalez");
    assert_string_equal(client_get(&c, CLIENT_MAIL), "ejemplo@gmail.com");
    assert_string_equal(client_get(&c, CLIENT_FECHA_NACIMIENTO), "8/09/1978"); /* as given */
    assert_string_equal(client_get(&c, CLIENT_DIRECCION), "Calle Paseo Moreras 39");
    assert_int_equal(client_check(&c, NULL, NULL), CL_OK);

    /* a refused value leaves the record exactly as it was */
    memcpy(&before, &c, sizeof(c));
    assert_int_equal(client_set(&c, CLIENT_FECHA_NACIMIENTO, "29/02/2001", 10, &why), CL_INVALID);
    assert_string_equal(why, "fecha inexistente");
    assert_int_equal(client_set(&c, CLIENT_NOMBRE, "Ju\0an", 5, &why), CL_INVALID);
    assert_int_equal(client_set(&c, CLIENT_MAIL, "a@b", 3, &why), CL_INVALID);
    assert_int_equal(client_set(&c, CLIENT_DIRECCION, "   ", 3, &why), CL_INVALID);
    assert_int_equal(client_set(&c, CLIENT_NOMBRE, NULL, 0, &why), CL_INVALID);
    assert_int_equal(client_set(&c, CLIENT_NFIELDS, "x", 1, &why), CL_INVALID);
    assert_memory_equal(&c, &before, sizeof(c));

    /* the longest valid values fit their members */
    n = repeat(buf, sizeof(buf), "\xf0\x9f\x98\x80", 100);
    assert_int_equal(client_set(&c, CLIENT_NOMBRE, buf, n, NULL), CL_OK);
    assert_int_equal(strlen(c.nombre), 400);
    assert_int_equal(client_set(&c, CLIENT_APELLIDOS, buf, n, NULL), CL_OK);
    n = repeat(buf, sizeof(buf), "\xf0\x9f\x98\x80", 200);
    assert_int_equal(client_set(&c, CLIENT_DIRECCION, buf, n, NULL), CL_OK);
    assert_string_equal(c.direccion, buf);
    n = long_mail(buf, sizeof(buf), 64, 254);
    assert_int_equal(client_set(&c, CLIENT_MAIL, buf, n, NULL), CL_OK);
    assert_string_equal(c.mail, buf);
    assert_int_equal(client_set(&c, CLIENT_FECHA_NACIMIENTO, "2000-02-29", 10, NULL), CL_OK);
    assert_int_equal(client_check(&c, NULL, NULL), CL_OK);
}

static void test_client_check(void **state)
{
    struct client good, c;
    enum client_field bad;
    const char *why;
    (void)state;

    assert_int_equal(ts_client(&good, "Jesus", "Mesa Gonzalez", "ejemplo@gmail.com",
                               "29/06/1996", "Calle Paseo Moreras 39"),
                     CL_OK);

    /* an empty record fails on its first field */
    client_init(&c);
    why = NULL;
    bad = CLIENT_NFIELDS;
    assert_int_equal(client_check(&c, &bad, &why), CL_INVALID);
    assert_int_equal(bad, CLIENT_NOMBRE);
    assert_string_equal(why, "vacio");
    assert_int_equal(client_check(&c, NULL, NULL), CL_INVALID);

    /* each field, broken alone, is the one reported */
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        memcpy(&c, &good, sizeof(c));
        char *dst = (char *)&c + client_fields[f].offset;
        strcpy(dst, f == CLIENT_FECHA_NACIMIENTO ? "31/04/2020" : "a\tb");
        why = NULL;
        bad = CLIENT_NFIELDS;
        assert_int_equal(client_check(&c, &bad, &why), CL_INVALID);
        assert_int_equal(bad, f);
        assert_non_null(why);
    }

    /* a member filled to its capacity without a NUL is refused, not overrun */
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        memcpy(&c, &good, sizeof(c));
        memset((char *)&c + client_fields[f].offset, 'a', client_fields[f].cap);
        assert_int_equal(client_check(&c, &bad, &why), CL_INVALID);
        assert_int_equal(bad, f);
        assert_string_equal(why, "demasiado largo");
    }
    /* too many characters that still fit the member */
    memcpy(&c, &good, sizeof(c));
    memset(c.nombre, 'a', 101);
    c.nombre[101] = '\0';
    assert_int_equal(client_check(&c, &bad, &why), CL_INVALID);
    assert_int_equal(bad, CLIENT_NOMBRE);
    assert_string_equal(why, "demasiado largo");

    /* client_check uses the real today */
    memcpy(&c, &good, sizeof(c));
    strcpy(c.fecha_nacimiento, "1/1/9999");
    assert_int_equal(client_check(&c, &bad, &why), CL_INVALID);
    assert_int_equal(bad, CLIENT_FECHA_NACIMIENTO);
    assert_string_equal(why, "fecha futura");
}

/* ---- the manager: records stored under the older, laxer rules -------------- */

/* A record written straight through the store, as a database of before the
 * rules were tightened may hold it: nothing here passes today's mail rule. */
static void store_raw(struct store *s, const char *mail, const char *nombre)
{
    struct client c;

    client_init(&c);
    snprintf(c.nombre, sizeof(c.nombre), "%s", nombre);
    snprintf(c.apellidos, sizeof(c.apellidos), "%s", "Antiguo");
    snprintf(c.mail, sizeof(c.mail), "%s", mail);
    snprintf(c.fecha_nacimiento, sizeof(c.fecha_nacimiento), "%s", "1/1/1980");
    snprintf(c.direccion, sizeof(c.direccion), "%s", "Calle Vieja 1");
    struct client_keys k;
    char now[STORE_TIME_LEN + 1];
    client_keys_of(&c, &k);
    manager_now(now);
    assert_int_equal(s->ops->add(s, &c, &k, now, NULL, NULL), CL_OK);
}

static void test_manager_legacy_rows(void **state)
{
    static const char *const old_mails[] = {"a\"b@x.es", "<script>@x.es", "a..b@x.es",
                                            "a@-x.es", "u@1-2.3"};
    char dir[512], db[600], err[256];
    struct store *s = NULL;
    struct client out, c;
    struct manager_reject rej;
    (void)state;

    assert_int_equal(ts_mkdtemp(dir, sizeof(dir), NULL), 0);
    ts_join(db, sizeof(db), dir, "legacy.db");
    assert_int_equal(store_open(db, &s, err, sizeof(err)), CL_OK);

    for (size_t i = 0; i < sizeof(old_mails) / sizeof(old_mails[0]); i++) {
        const char *mail = old_mails[i];
        char upper[64];
        size_t k;

        /* a name with a trailing space: fine under the old text rule */
        store_raw(s, mail, "Viejo ");
        for (k = 0; mail[k] && k + 1 < sizeof(upper); k++)
            upper[k] = (char)(mail[k] >= 'a' && mail[k] <= 'z' ? mail[k] - 32 : mail[k]);
        upper[k] = '\0';

        /* readable, by the mail as stored and case-insensitively */
        assert_int_equal(manager_get(s, mail, &out, &rej), CL_OK);
        assert_string_equal(out.mail, mail);
        assert_string_equal(out.nombre, "Viejo ");
        assert_int_equal(manager_get(s, upper, &out, &rej), CL_OK);
        assert_string_equal(out.mail, mail);

        /* a new record with that mail (in any case) is refused by the mail
         * rule, before the store is asked: 400, not the duplicate's 405 */
        assert_int_equal(ts_client(&c, "Nuevo", "Cliente", "ok@x.es", "1/1/1990", "Calle 2"),
                         CL_OK);
        snprintf(c.mail, sizeof(c.mail), "%s", upper);
        rej.reason = NULL;
        assert_int_equal(manager_add(s, &c, &rej), CL_INVALID);
        assert_int_equal(rej.field, CLIENT_MAIL);
        assert_non_null(rej.reason);

        /* the setters change their field; the mail and the others stay */
        assert_int_equal(manager_update(s, upper, CLIENT_NOMBRE, "Renovado", &rej), CL_OK);
        assert_int_equal(manager_update(s, mail, CLIENT_DIRECCION, "Calle Nueva 3", &rej), CL_OK);
        assert_int_equal(manager_get(s, mail, &out, &rej), CL_OK);
        assert_string_equal(out.mail, mail);
        assert_string_equal(out.nombre, "Renovado");
        assert_string_equal(out.apellidos, "Antiguo");
        assert_string_equal(out.direccion, "Calle Nueva 3");
        /* a new value must pass today's rule, even on an old record */
        rej.reason = NULL;
        assert_int_equal(manager_update(s, mail, CLIENT_NOMBRE, "Otro ", &rej), CL_INVALID);
        assert_int_equal(rej.field, CLIENT_NOMBRE);
        assert_string_equal(rej.reason, "termina con espacios o caracteres invisibles");
        assert_int_equal(manager_update(s, mail, CLIENT_NOMBRE, "\xe2\x80\xae" "x", &rej),
                         CL_INVALID);
        assert_string_equal(rej.reason, "contiene controles de direccion del texto");
        /* the mail itself cannot change, old or new */
        assert_int_equal(manager_update(s, mail, CLIENT_MAIL, "nuevo@x.es", &rej), CL_INVALID);
        assert_int_equal(rej.field, CLIENT_MAIL);
        assert_int_equal(manager_get(s, mail, &out, &rej), CL_OK);
        assert_string_equal(out.nombre, "Renovado");

        /* deletable */
        assert_int_equal(manager_delete(s, upper, &rej), CL_OK);
        assert_int_equal(manager_get(s, mail, &out, &rej), CL_NOT_FOUND);
        assert_int_equal(manager_delete(s, mail, &rej), CL_NOT_FOUND);
    }
    /* a key the old rule refused is refused as before */
    rej.reason = NULL;
    assert_int_equal(manager_get(s, "a@b", &out, &rej), CL_INVALID);
    assert_int_equal(rej.field, CLIENT_MAIL);
    assert_string_equal(rej.reason, "dominio invalido");
    assert_int_equal(manager_delete(s, "a b@x.es", &rej), CL_INVALID);
    assert_string_equal(rej.reason, "contiene caracteres no permitidos");
    assert_int_equal(manager_update(s, "noat", CLIENT_NOMBRE, "Ana", &rej), CL_INVALID);
    assert_string_equal(rej.reason, "falta la '@'");
    /* a lax key that names nothing is simply not found */
    assert_int_equal(manager_get(s, "<x>@y.es", &out, &rej), CL_NOT_FOUND);

    store_close(s);
    assert_int_equal(ts_rmtree(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_table),
        cmocka_unit_test(test_field_by_name),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_today),
        cmocka_unit_test(test_today_time_zone),
        cmocka_unit_test(test_unicode_classes),
        cmocka_unit_test(test_text_good),
        cmocka_unit_test(test_text_bad),
        cmocka_unit_test(test_text_invisible),
        cmocka_unit_test(test_text_spoofing),
        cmocka_unit_test(test_text_lengths),
        cmocka_unit_test(test_mail_good),
        cmocka_unit_test(test_mail_issue_examples),
        cmocka_unit_test(test_mail_bad),
        cmocka_unit_test(test_mail_lengths),
        cmocka_unit_test(test_mail_key),
        cmocka_unit_test(test_fecha_good),
        cmocka_unit_test(test_fecha_bad),
        cmocka_unit_test(test_fecha_real_today),
        cmocka_unit_test(test_validate_arguments),
        cmocka_unit_test(test_client_set_get),
        cmocka_unit_test(test_client_check),
        cmocka_unit_test(test_manager_legacy_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
