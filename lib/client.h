/* client.h - the client record, its field table and its validators. */
#ifndef CLIENTES_CLIENT_H
#define CLIENTES_CLIENT_H

#include <stddef.h>
#include <time.h>

#include "error.h"

/* The five fields of a record, in the order the old service listed them. */
enum client_field {
    CLIENT_NOMBRE = 0,
    CLIENT_APELLIDOS,
    CLIENT_MAIL,
    CLIENT_FECHA_NACIMIENTO,
    CLIENT_DIRECCION,
    CLIENT_NFIELDS
};

/* The limits, each written once: the field table's max_chars column and the
 * member capacities below derive from them.  Text limits count code points;
 * the mail and the date are ASCII, so for them a character is a byte. */
#define CLIENT_NOMBRE_MAX 100
#define CLIENT_APELLIDOS_MAX 100
#define CLIENT_MAIL_MAX 254       /* RFC 5321's path limit, less the brackets */
#define CLIENT_MAIL_LOCAL_MAX 64  /* the part before the '@' (RFC 5321 4.5.3.1.1) */
#define CLIENT_MAIL_LABEL_MAX 63  /* one label of the domain (RFC 1035 2.3.4) */
#define CLIENT_FECHA_MAX 10       /* "DD/MM/YYYY", "YYYY-MM-DD" */
#define CLIENT_DIRECCION_MAX 200

/* Byte capacities (including the NUL) large enough for the longest valid
 * value: a code point takes at most 4 bytes of UTF-8. */
#define CLIENT_TEXT_CAP(max) ((max) * 4 + 1)
#define CLIENT_NOMBRE_CAP CLIENT_TEXT_CAP(CLIENT_NOMBRE_MAX)
#define CLIENT_APELLIDOS_CAP CLIENT_TEXT_CAP(CLIENT_APELLIDOS_MAX)
#define CLIENT_MAIL_CAP (CLIENT_MAIL_MAX + 1)
#define CLIENT_FECHA_CAP (CLIENT_FECHA_MAX + 1)
#define CLIENT_DIRECCION_CAP CLIENT_TEXT_CAP(CLIENT_DIRECCION_MAX)

/* A record, held in caller-owned storage: no heap, so a record costs the
 * same whether it is on the stack or in an array.  Every member is a
 * NUL-terminated UTF-8 string; a record built through client_set() only ever
 * holds values that passed validation (one read from the store holds what
 * was stored, which an older, laxer rule may have let in). */
struct client {
    char nombre[CLIENT_NOMBRE_CAP];
    char apellidos[CLIENT_APELLIDOS_CAP];
    char mail[CLIENT_MAIL_CAP];
    char fecha_nacimiento[CLIENT_FECHA_CAP];
    char direccion[CLIENT_DIRECCION_CAP];
};

struct client_field_desc;

/* What a validator looks at: exactly `len` bytes of `value` (which need not
 * be NUL-terminated), and `today` as YYYYMMDD - passed in so validators stay
 * pure; only the date's validator reads it. */
struct client_value {
    const char *value;
    size_t len;
    long today;
};

/* A validator checks `v` against the rules of its row `d` (which carries the
 * limit, d->max_chars) and returns NULL when it is acceptable, or a short
 * reason in Spanish (the language of the wire messages) such as "fecha
 * inexistente".  It never reads past v->value[v->len - 1]. */
typedef const char *(*client_validator)(const struct client_field_desc *d,
                                        const struct client_value *v);

/* One row of the field table that drives validation everywhere (legacy
 * query-string routes now, JSON routes later). */
struct client_field_desc {
    enum client_field field;
    const char *name;        /* wire name: "nombre", "fecha_nacimiento", ... */
    const char *legacy_name; /* key used by GET / and GET /clientes: "Nombre", ... */
    size_t max_chars;        /* limit: CLIENT_*_MAX (code points; bytes for mail, date) */
    size_t offset;           /* where the value lives inside struct client */
    size_t cap;              /* capacity of that member, NUL included */
    client_validator validate;
};

/* The field table, CLIENT_NFIELDS rows indexed by enum client_field.  Static,
 * read-only, shared by every thread. */
extern const struct client_field_desc client_fields[CLIENT_NFIELDS];

/* Returns the row for `name` (exact, case-sensitive match of `len` bytes),
 * or NULL when no field has that name. */
const struct client_field_desc *client_field_by_name(const char *name, size_t len);

/* The date of the instant `t` in the process's local time zone (TZ; the
 * service sets it once, before any thread starts) as YYYYMMDD, the `today`
 * the validators expect.  Pure but for the zone, so tests pass any instant.
 * Returns 99991231 when the date cannot be computed (no date is then "in the
 * future": a broken clock refuses nobody). */
long client_today_at(time_t t);

/* client_today_at(time(NULL)): today where the service's users are. */
long client_today(void);

/* Validates `len` bytes of `value` for `field` as of `today` (YYYYMMDD).
 * Returns CL_OK, or CL_INVALID with *reason (when reason is not NULL) set to
 * a static Spanish phrase saying why.  Never reads past value[len - 1]. */
enum cl_err client_validate_at(enum client_field field, const char *value, size_t len,
                               long today, const char **reason);

/* client_validate_at() as of client_today(). */
enum cl_err client_validate(enum client_field field, const char *value, size_t len,
                            const char **reason);

/* Validates `len` bytes of `value` as the key of a lookup, update or delete:
 * a mail as the rule before issue 10 had it (printable ASCII without spaces,
 * exactly one '@', a local part of 1..64 bytes, a domain of dot-separated
 * non-empty [A-Za-z0-9-] labels with at least one dot, <= 254 bytes).  That
 * rule accepts every mail client_validate() accepts and every mail stored
 * before the rules were tightened, so no stored record becomes unreachable.
 * Returns CL_OK or CL_INVALID with *reason (when not NULL) as above. */
enum cl_err client_validate_key(const char *value, size_t len, const char **reason);

/* Zeroes a record (every field the empty string). */
void client_init(struct client *c);

/* Validates `value` (`len` bytes) for `field` and, only when it is valid,
 * copies it into `c`.  Returns CL_OK or CL_INVALID (with *reason as above);
 * on failure `c` is unchanged. */
enum cl_err client_set(struct client *c, enum client_field field, const char *value,
                       size_t len, const char **reason);

/* The NUL-terminated value of `field` inside `c` (read-only view). */
const char *client_get(const struct client *c, enum client_field field);

/* Validates every field of `c`.  Returns CL_OK, or CL_INVALID with *bad
 * (when not NULL) set to the first failing field and *reason to why. */
enum cl_err client_check(const struct client *c, enum client_field *bad, const char **reason);

#endif
