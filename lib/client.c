/* client.c - the field table and the pure validators behind every route. */
#include "client.h"

#include "utf8.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

static bool is_control(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

/* Free text: 1..max code points of well-formed UTF-8, no control characters,
 * not only blanks. */
static const char *check_text(const char *value, size_t len, size_t max)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t i = 0, chars = 0;
    bool blank = true;

    if (len == 0)
        return "vacio";
    while (i < len) {
        unsigned long cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return "UTF-8 invalido";
        if (is_control(cp))
            return "contiene caracteres de control";
        if (cp != ' ')
            blank = false;
        i += n;
        if (++chars > max)
            return "demasiado largo";
    }
    if (blank)
        return "vacio";
    return NULL;
}

static const char *validate_nombre(const char *v, size_t len, long today)
{
    (void)today;
    return check_text(v, len, 100);
}

static const char *validate_apellidos(const char *v, size_t len, long today)
{
    (void)today;
    return check_text(v, len, 100);
}

static const char *validate_direccion(const char *v, size_t len, long today)
{
    (void)today;
    return check_text(v, len, 200);
}

static bool is_label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-';
}

/* local@domain: local 1..64 printable ASCII without spaces or '@'; domain of
 * non-empty dot-separated [A-Za-z0-9-] labels with at least one dot. */
static const char *validate_mail(const char *v, size_t len, long today)
{
    const unsigned char *s = (const unsigned char *)v;
    const unsigned char *at = NULL;
    size_t local, dots = 0, label = 0;

    (void)today;
    if (len == 0)
        return "vacio";
    if (len > 254)
        return "demasiado largo";
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '@') {
            if (at)
                return "contiene mas de una '@'";
            at = s + i;
        } else if (s[i] <= 0x20 || s[i] >= 0x7F) {
            return "contiene caracteres no permitidos";
        }
    }
    if (!at)
        return "falta la '@'";
    local = (size_t)(at - s);
    if (local == 0)
        return "falta la parte local";
    if (local > 64)
        return "parte local demasiado larga";
    for (const unsigned char *p = at + 1; p < s + len; p++) {
        if (*p == '.') {
            if (label == 0)
                return "dominio invalido";
            dots++;
            label = 0;
        } else if (is_label_char(*p)) {
            label++;
        } else {
            return "dominio invalido";
        }
    }
    if (label == 0 || dots == 0)
        return "dominio invalido";
    return NULL;
}

/* Reads 1..maxd digits at s[*i..len), stopping at the first non-digit.
 * Returns the number of digits read (0 when none). */
static size_t read_digits(const char *s, size_t len, size_t *i, size_t maxd, int *out)
{
    size_t n = 0;
    int v = 0;

    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if (++n > maxd)
            return 0;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return n;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return days[m - 1];
}

/* D/M/YYYY (1-2 digit day and month) or YYYY-MM-DD; a real date between
 * 1900-01-01 and today. */
static const char *validate_fecha(const char *v, size_t len, long today)
{
    size_t i = 0, n;
    int d, m, y;

    if (len == 0)
        return "vacio";
    if (len == 10 && v[4] == '-') {
        if (read_digits(v, len, &i, 4, &y) != 4 || v[i++] != '-' ||
            read_digits(v, len, &i, 2, &m) != 2 || i >= len || v[i++] != '-' ||
            read_digits(v, len, &i, 2, &d) != 2 || i != len)
            return "formato invalido (D/M/AAAA o AAAA-MM-DD)";
    } else {
        if ((n = read_digits(v, len, &i, 2, &d)) == 0 || i >= len || v[i++] != '/' ||
            (n = read_digits(v, len, &i, 2, &m)) == 0 || i >= len || v[i++] != '/' ||
            read_digits(v, len, &i, 4, &y) != 4 || i != len)
            return "formato invalido (D/M/AAAA o AAAA-MM-DD)";
    }
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return "fecha inexistente";
    if (y < 1900)
        return "fecha anterior a 1900";
    if ((long)y * 10000 + m * 100 + d > today)
        return "fecha futura";
    return NULL;
}

#define FIELD(f, name, legacy, max, member, fn)                                          \
    [f] = {f, name, legacy, max, offsetof(struct client, member),                        \
           sizeof(((struct client *)0)->member), fn}

const struct client_field_desc client_fields[CLIENT_NFIELDS] = {
    FIELD(CLIENT_NOMBRE, "nombre", "Nombre", 100, nombre, validate_nombre),
    FIELD(CLIENT_APELLIDOS, "apellidos", "Apellidos", 100, apellidos, validate_apellidos),
    FIELD(CLIENT_MAIL, "mail", "Mail", 254, mail, validate_mail),
    FIELD(CLIENT_FECHA_NACIMIENTO, "fecha_nacimiento", "Fecha de nacimiento", 10,
          fecha_nacimiento, validate_fecha),
    FIELD(CLIENT_DIRECCION, "direccion", "Direccion", 200, direccion, validate_direccion),
};

const struct client_field_desc *client_field_by_name(const char *name, size_t len)
{
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const char *n = client_fields[f].name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return &client_fields[f];
    }
    return NULL;
}

long client_today(void)
{
    time_t now = time(NULL);
    struct tm tm;

    if (!gmtime_r(&now, &tm))
        return 99991231L;
    return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

enum cl_err client_validate_at(enum client_field field, const char *value, size_t len,
                               long today, const char **reason)
{
    const char *why;

    if ((unsigned)field >= CLIENT_NFIELDS)
        why = "campo desconocido";
    else if (!value)
        why = "falta";
    else
        why = client_fields[field].validate(value, len, today);
    if (reason)
        *reason = why;
    return why ? CL_INVALID : CL_OK;
}

enum cl_err client_validate(enum client_field field, const char *value, size_t len,
                            const char **reason)
{
    /* Only dates need the clock (a lookup by mail should not pay for it). */
    long today = field == CLIENT_FECHA_NACIMIENTO ? client_today() : 0;
    return client_validate_at(field, value, len, today, reason);
}

void client_init(struct client *c)
{
    memset(c, 0, sizeof(*c));
}

enum cl_err client_set(struct client *c, enum client_field field, const char *value,
                       size_t len, const char **reason)
{
    enum cl_err err = client_validate(field, value, len, reason);
    if (err)
        return err;
    /* A valid value always fits: the caps are sized for the limits. */
    char *dst = (char *)c + client_fields[field].offset;
    memcpy(dst, value, len);
    dst[len] = '\0';
    return CL_OK;
}

const char *client_get(const struct client *c, enum client_field field)
{
    return (const char *)c + client_fields[field].offset;
}

enum cl_err client_check(const struct client *c, enum client_field *bad, const char **reason)
{
    long today = client_today();

    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const char *v = client_get(c, (enum client_field)f);
        size_t cap = client_fields[f].cap;
        size_t len = strnlen(v, cap);
        const char *why = len == cap ? "demasiado largo"
                                     : client_fields[f].validate(v, len, today);
        if (why) {
            if (bad)
                *bad = (enum client_field)f;
            if (reason)
                *reason = why;
            return CL_INVALID;
        }
    }
    return CL_OK;
}
