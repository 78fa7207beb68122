/* client.h - the client record, its field table and its validators. */
#ifndef CLIENTES_CLIENT_H
#define CLIENTES_CLIENT_H

#include <stddef.h>

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

/* Byte capacities (including the NUL) large enough for the longest valid
 * value: a code point takes at most 4 bytes of UTF-8. */
#define CLIENT_NOMBRE_CAP (100 * 4 + 1)
#define CLIENT_APELLIDOS_CAP (100 * 4 + 1)
#define CLIENT_MAIL_CAP (254 + 1)
#define CLIENT_FECHA_CAP (10 + 1)
#define CLIENT_DIRECCION_CAP (200 * 4 + 1)

/* A record, held in caller-owned storage: no heap, so a record costs the
 * same whether it is on the stack or in an array.  Every member is a
 * NUL-terminated UTF-8 string; a record built through client_set() only ever
 * holds values that passed validation. */
struct client {
    char nombre[CLIENT_NOMBRE_CAP];
    char apellidos[CLIENT_APELLIDOS_CAP];
    char mail[CLIENT_MAIL_CAP];
    char fecha_nacimiento[CLIENT_FECHA_CAP];
    char direccion[CLIENT_DIRECCION_CAP];
};

/* A validator looks at exactly `len` bytes of `value` (which need not be
 * NUL-terminated) and returns NULL when it is acceptable, or a short reason
 * in Spanish (the language of the wire messages) such as "fecha inexistente".
 * `today` is the current date as YYYYMMDD, passed in so validators stay pure. */
typedef const char *(*client_validator)(const char *value, size_t len, long today);

/* One row of the field table that drives validation everywhere (legacy
 * query-string routes now, JSON routes later). */
struct client_field_desc {
    enum client_field field;
    const char *name;        /* wire name: "nombre", "fecha_nacimiento", ... */
    const char *legacy_name; /* key used by GET / and GET /clientes: "Nombre", ... */
    size_t max_chars;        /* limit in code points (bytes for the mail) */
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

/* Today's date (UTC) as YYYYMMDD, the `today` the validators expect. */
long client_today(void);

/* Validates `len` bytes of `value` for `field` as of `today` (YYYYMMDD).
 * Returns CL_OK, or CL_INVALID with *reason (when reason is not NULL) set to
 * a static Spanish phrase saying why.  Never reads past value[len - 1]. */
enum cl_err client_validate_at(enum client_field field, const char *value, size_t len,
                               long today, const char **reason);

/* client_validate_at() as of client_today(). */
enum cl_err client_validate(enum client_field field, const char *value, size_t len,
                            const char **reason);

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
