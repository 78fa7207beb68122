/* jsonw.h - a small JSON text builder for the library (the audit's
 * "changes", the NDJSON lines of an export): a growing heap string.
 *
 * Strings are escaped as cJSON (and the worker's cgi/json.c) print them:
 * `"` and `\` backslashed, \b \f \n \r \t, every other byte below 0x20 as
 * \u00xx in lower-case hex, everything else as it is.  A builder whose
 * allocation failed stays failed: later calls add nothing, and
 * jsonw_finish() reports it, so a caller checks once at the end. */
#ifndef CLIENTES_JSONW_H
#define CLIENTES_JSONW_H

#include <stdbool.h>
#include <stddef.h>

struct jsonw {
    char *buf;   /* NUL-terminated when not NULL */
    size_t len, cap;
    bool failed; /* an allocation failed */
    bool comma;  /* the next member or element needs a ',' first */
};

/* An empty builder (no allocation yet). */
void jsonw_init(struct jsonw *w);

/* Appends n bytes as they are (no separator logic). */
void jsonw_raw(struct jsonw *w, const char *s, size_t n);

/* Appends the JSON string for the NUL-terminated UTF-8 text s, or null when
 * s is NULL. */
void jsonw_str(struct jsonw *w, const char *s);

/* Structure: '{' / '[' and '}' / ']'; a member's key followed by ':' (the
 * separating ',' comes by itself); an element's ',' before a value. */
void jsonw_open(struct jsonw *w, char c);
void jsonw_close(struct jsonw *w, char c);
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_elem(struct jsonw *w);

/* A member "key":"value" (value NULL: null), "key":number, "key":true. */
void jsonw_member_str(struct jsonw *w, const char *key, const char *val);
void jsonw_member_int(struct jsonw *w, const char *key, long long val);
void jsonw_member_bool(struct jsonw *w, const char *key, bool val);

/* Hands over the text (the caller frees it) and resets the builder.
 * Returns NULL when an allocation failed (nothing to free then) or when
 * nothing was written. */
char *jsonw_finish(struct jsonw *w);

/* Frees what was built and resets the builder. */
void jsonw_free(struct jsonw *w);

#endif
