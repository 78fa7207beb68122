/* client.c - the field table and the pure validators behind every route. */
#include "client.h"

#include "unicode.h"
#include "utf8.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

/* C0, DEL, C1, LINE and PARAGRAPH SEPARATOR: nothing a name or an address
 * contains, and each breaks a log line, a CSV row or a terminal. */
static bool is_control(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

/* What a reader cannot see: Unicode's White_Space and Default_Ignorable. */
static bool is_invisible(unsigned long cp)
{
    return unicode_white_space(cp) || unicode_default_ignorable(cp);
}

/* Free text (nombre, apellidos, direccion): 1..d->max_chars code points of
 * well-formed UTF-8, refused anywhere in it: control characters, bidi
 * controls (they reorder what is displayed around them), noncharacters and
 * tag characters (invisible text).  Something must be visible, and the value
 * must begin and end with something visible: invisible characters at either
 * end are refused, never trimmed, so what is stored is exactly what was sent
 * and a name cannot hide padding.  A default-ignorable mark right after a
 * visible character (the U+FE0F of an emoji) belongs to that character. */
static const char *validate_text(const struct client_field_desc *d, const struct client_value *in)
{
    const unsigned char *s = (const unsigned char *)in->value;
    size_t len = in->len, i = 0, chars = 0;
    size_t first = 0, end = 0; /* the visible span [first, end) */
    bool seen = false, attached = false;

    if (len == 0)
        return "vacio";
    while (i < len) {
        unsigned long cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return "UTF-8 invalido";
        if (is_control(cp))
            return "contiene caracteres de control";
        if (unicode_bidi_control(cp))
            return "contiene controles de direccion del texto";
        if (unicode_noncharacter(cp))
            return "contiene no-caracteres de Unicode";
        if (unicode_tag(cp))
            return "contiene caracteres de etiqueta de Unicode";
        if (++chars > d->max_chars)
            return "demasiado largo";
        if (!is_invisible(cp)) {
            if (!seen)
                first = i;
            seen = attached = true;
            end = i + n;
        } else if (attached && unicode_ignorable_mark(cp)) {
            end = i + n;
        } else {
            attached = false;
        }
        i += n;
    }
    if (!seen)
        return "vacio";
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return "empieza con una marca de orden de bytes (BOM)";
    if (first != 0)
        return "empieza con espacios o caracteres invisibles";
    if (end != len)
        return "termina con espacios o caracteres invisibles";
    return NULL;
}

static bool is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-';
}

/* RFC 5322 3.2.3 atext: ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~". */
static bool is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Finds the one '@' of s[0..len): NULL with *why set when a byte is not
 * printable ASCII (or is a space), there is no '@' or more than one. */
static const unsigned char *find_at(const unsigned char *s, size_t len, const char **why)
{
    const unsigned char *at = NULL;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '@') {
            if (at) {
                *why = "contiene mas de una '@'";
                return NULL;
            }
            at = s + i;
        } else if (s[i] <= 0x20 || s[i] >= 0x7F) {
            *why = "contiene caracteres no permitidos";
            return NULL;
        }
    }
    if (!at)
        *why = "falta la '@'";
    return at;
}

/* The domain: at least two dot-separated LDH labels (RFC 1035 2.3.1, RFC
 * 5890's A-labels "xn--..." included) of 1..63 bytes, none beginning or
 * ending with '-', the last not all digits (it would read as an address). */
static const char *check_domain(const unsigned char *p, const unsigned char *end)
{
    size_t labels = 0;
    bool digits = true; /* the label just read is all digits */

    for (;;) {
        const unsigned char *q = p;
        digits = true;
        while (q < end && *q != '.') {
            if (!is_ldh(*q))
                return "dominio invalido";
            digits = digits && *q >= '0' && *q <= '9';
            q++;
        }
        if (q == p)
            return "dominio invalido";
        if ((size_t)(q - p) > CLIENT_MAIL_LABEL_MAX)
            return "etiqueta del dominio de mas de 63 caracteres";
        if (*p == '-' || q[-1] == '-')
            return "etiqueta del dominio que empieza o termina en '-'";
        labels++;
        if (q == end)
            break;
        p = q + 1;
    }
    if (labels < 2)
        return "dominio invalido";
    if (digits)
        return "dominio de primer nivel numerico";
    return NULL;
}


/* What both mail rules check first: 1..max bytes, exactly one '@', a local
 * part of 1..64 bytes.  Returns NULL with *at on the '@', or the reason. */
static const char *split_mail(const unsigned char *s, size_t len, size_t max,
                              const unsigned char **at)
{
    const char *why = NULL;

    if (len == 0)
        return "vacio";
    if (len > max)
        return "demasiado largo";
    if (!(*at = find_at(s, len, &why)))
        return why;
    if (*at == s)
        return "falta la parte local";
    if ((size_t)(*at - s) > CLIENT_MAIL_LOCAL_MAX)
        return "parte local demasiado larga";
    return NULL;
}

/* A new mail: local@domain, the local part an RFC 5322 dot-atom of at most
 * 64 bytes (atext, dots only between atoms; no quoted strings, comments or
 * obsolete forms), the domain as check_domain(); <= d->max_chars bytes. */
static const char *validate_mail(const struct client_field_desc *d, const struct client_value *in)
{
    const unsigned char *s = (const unsigned char *)in->value;
    const unsigned char *at;
    size_t local, len = in->len;
    const char *why = split_mail(s, len, d->max_chars, &at);

    if (why)
        return why;
    local = (size_t)(at - s);
    for (size_t i = 0; i < local; i++) {
        if (s[i] == '.') {
            if (i == 0 || i == local - 1 || s[i - 1] == '.')
                return "punto mal colocado en la parte local";
        } else if (!is_atext(s[i])) {
            return "parte local con caracteres no permitidos";
        }
    }
    return check_domain(at + 1, s + len);
}

/* The key rule, the mail rule as it was before: local 1..64 printable ASCII
 * without spaces or '@'; domain of non-empty dot-separated [A-Za-z0-9-]
 * labels with at least one dot.  Kept only for finding stored records. */
static const char *check_key(const char *v, size_t len)
{
    const unsigned char *s = (const unsigned char *)v;
    const unsigned char *at;
    size_t dots = 0, label = 0;
    const char *why = split_mail(s, len, CLIENT_MAIL_MAX, &at);

    if (why)
        return why;
    for (const unsigned char *p = at + 1; p < s + len; p++) {
        if (*p == '.') {
            if (label == 0)
                return "dominio invalido";
            dots++;
            label = 0;
        } else if (is_ldh(*p)) {
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
 * 1900-01-01 and in->today. */
static const char *validate_fecha(const struct client_field_desc *desc,
                                  const struct client_value *in)
{
    const char *v = in->value;
    size_t len = in->len, i = 0, n;
    int d, m, y;

    if (len == 0)
        return "vacio";
    if (len > desc->max_chars)
        return "formato invalido (D/M/AAAA o AAAA-MM-DD)";
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
    if ((long)y * 10000 + m * 100 + d > in->today)
        return "fecha futura";
    return NULL;
}

#define FIELD(f, name, legacy, max, member, fn)                                          \
    [f] = {f, name, legacy, max, offsetof(struct client, member),                        \
           sizeof(((struct client *)0)->member), fn}

const struct client_field_desc client_fields[CLIENT_NFIELDS] = {
    FIELD(CLIENT_NOMBRE, "nombre", "Nombre", CLIENT_NOMBRE_MAX, nombre, validate_text),
    FIELD(CLIENT_APELLIDOS, "apellidos", "Apellidos", CLIENT_APELLIDOS_MAX, apellidos,
          validate_text),
    FIELD(CLIENT_MAIL, "mail", "Mail", CLIENT_MAIL_MAX, mail, validate_mail),
    FIELD(CLIENT_FECHA_NACIMIENTO, "fecha_nacimiento", "Fecha de nacimiento", CLIENT_FECHA_MAX,
          fecha_nacimiento, validate_fecha),
    FIELD(CLIENT_DIRECCION, "direccion", "Direccion", CLIENT_DIRECCION_MAX, direccion,
          validate_text),
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

long client_today_at(time_t t)
{
    struct tm tm;

    /* localtime_r, not gmtime_r: a birth date is a date where the users
     * live, and at 00:30 in Madrid it is still yesterday in UTC. */
    if (!localtime_r(&t, &tm))
        return 99991231L;
    return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

long client_today(void)
{
    return client_today_at(time(NULL));
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
        why = client_fields[field].validate(&client_fields[field],
                                            &(struct client_value){value, len, today});
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

enum cl_err client_validate_key(const char *value, size_t len, const char **reason)
{
    const char *why = value ? check_key(value, len) : "falta";

    if (reason)
        *reason = why;
    return why ? CL_INVALID : CL_OK;
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
                                     : client_fields[f].validate(
                                           &client_fields[f],
                                           &(struct client_value){v, len, today});
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
