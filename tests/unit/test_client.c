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
#include "unit_support.h"

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

/* For string literals (embedded NULs count: the length is sizeof - 1). */
#define OK(f, lit) expect_valid((f), (lit), sizeof(lit) - 1, TODAY, __FILE__, __LINE__)
#define BAD(f, lit, why) expect_invalid((f), (lit), sizeof(lit) - 1, TODAY, (why), __FILE__, __LINE__)
/* For computed buffers. */
#define OKN(f, buf, n) expect_valid((f), (buf), (n), TODAY, __FILE__, __LINE__)
#define BADN(f, buf, n, why) expect_invalid((f), (buf), (n), TODAY, (why), __FILE__, __LINE__)

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
    struct client c;
    (void)state;

    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const struct client_field_desc *d = &client_fields[f];
        assert_int_equal(d->field, f);
        assert_string_equal(d->name, names[f]);
        assert_string_equal(d->legacy_name, legacy[f]);
        assert_int_equal(d->max_chars, max[f]);
        assert_non_null(d->validate);
        assert_true(d->offset + d->cap <= sizeof(struct client));
        /* the capacity holds the longest valid value, 4-byte code points included */
        if (f == CLIENT_MAIL || f == CLIENT_FECHA_NACIMIENTO) /* ASCII only */
            assert_true(d->cap >= d->max_chars + 1);
        else
            assert_true(d->cap >= d->max_chars * 4 + 1);
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

static long today_utc(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm))
        fail_msg("gmtime_r failed");
    return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static void test_today(void **state)
{
    (void)state;
    long before = today_utc();
    long t = client_today();
    long after = today_utc();

    /* UTC, as YYYYMMDD (either side of a midnight between the calls) */
    assert_true(t == before || t == after);
    assert_in_range(t / 10000, 2024, 9999);
    assert_in_range(t / 100 % 100, 1, 12);
    assert_in_range(t % 100, 1, 31);
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
        OK(f, "\xf4\x8f\xbf\xbf");          /* U+10FFFF, the last code point */
        OK(f, "\xef\xbf\xbd");              /* U+FFFD */
        OK(f, "a b");
        OK(f, " x ");
        OK(f, "~!#$%&()*+,-./:;<=>?@[]^_`{|}");
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
    }
    /* direccion: 200 */
    LIMIT(CLIENT_DIRECCION, "\xc3\xb1", 200);
    LIMIT(CLIENT_DIRECCION, "x", 200);
    /* a bad byte after the limit is still refused, for one reason or the other */
    n = repeat(buf, sizeof(buf), "a", 150);
    buf[n - 1] = '\n';
    BADN(CLIENT_NOMBRE, buf, n, NULL);
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
    OK(CLIENT_MAIL, "u@1-2.3");
}

static void test_mail_bad(void **state)
{
    (void)state;
    BAD(CLIENT_MAIL, "", "vacio");
    BAD(CLIENT_MAIL, "a@b", "dominio invalido"); /* the domain needs a dot */
    BAD(CLIENT_MAIL, "noat", "falta la '@'");
    BAD(CLIENT_MAIL, "a b@c.es", "contiene caracteres no permitidos");
    BAD(CLIENT_MAIL, "a@@b.es", "contiene mas de una '@'");
    BAD(CLIENT_MAIL, "a@b@c.es", "contiene mas de una '@'");
    BAD(CLIENT_MAIL, "@b.es", "falta la parte local");
    BAD(CLIENT_MAIL, "a@", "dominio invalido");
    BAD(CLIENT_MAIL, "a@.es", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b..es", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b.es.", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b_c.es", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b.es:80", "dominio invalido");
    BAD(CLIENT_MAIL, "a@b.es/x", "dominio invalido");
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

    /* 254 bytes in all is fine, 255 is not: 64 + '@' + 185 + ".com" */
    n = mail_of(buf, sizeof(buf), "l", 64, "d", 185, ".com");
    assert_int_equal(n, 254);
    OKN(CLIENT_MAIL, buf, n);
    /* the same with a short local part and long domain labels */
    n = mail_of(buf, sizeof(buf), "l", 1, "dddddddd.", 27, "eeeeeeeee");
    assert_int_equal(n, 254);
    OKN(CLIENT_MAIL, buf, n);

    n = mail_of(buf, sizeof(buf), "l", 64, "d", 186, ".com");
    assert_int_equal(n, 255);
    BADN(CLIENT_MAIL, buf, n, "demasiado largo");
    n = mail_of(buf, sizeof(buf), "l", 1, "d", 250, ".es");
    assert_int_equal(n, 255);
    BADN(CLIENT_MAIL, buf, n, "demasiado largo");
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
    assert_non_null(gmtime_r(&later, &tm));
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
    assert_non_null(gmtime_r(&before, &tm));
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
    n = mail_of(buf, sizeof(buf), "m", 64, "d", 185, ".com");
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

    assert_int_equal(ut_client(&good, "Jesus", "Mesa Gonzalez", "ejemplo@gmail.com",
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_table),
        cmocka_unit_test(test_field_by_name),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_today),
        cmocka_unit_test(test_text_good),
        cmocka_unit_test(test_text_bad),
        cmocka_unit_test(test_text_lengths),
        cmocka_unit_test(test_mail_good),
        cmocka_unit_test(test_mail_bad),
        cmocka_unit_test(test_mail_lengths),
        cmocka_unit_test(test_fecha_good),
        cmocka_unit_test(test_fecha_bad),
        cmocka_unit_test(test_fecha_real_today),
        cmocka_unit_test(test_validate_arguments),
        cmocka_unit_test(test_client_set_get),
        cmocka_unit_test(test_client_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
