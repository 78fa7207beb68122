/* multipart.h - multipart/form-data bodies (RFC 7578), what a browser sends
 * for a form with a file: split into parts without copying, each with its
 * field name and, for a file, that it is one. */
#ifndef CLIENTES_MULTIPART_H
#define CLIENTES_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#define MULTIPART_BOUNDARY_MAX 70 /* RFC 2046 5.1.1 */
#define MULTIPART_NAME_MAX 64     /* longest field name taken */
#define MULTIPART_PARTS_MAX 16    /* more parts than this is an error */

/* Writes the boundary of a Content-Type "multipart/form-data; boundary=..."
 * (quoted or not, parameters in any order, the type's case ignored) into out
 * (MULTIPART_BOUNDARY_MAX + 1 bytes).  Returns true, or false when the type
 * is another one or the boundary is missing, empty or too long. */
bool multipart_boundary(const char *content_type, char out[MULTIPART_BOUNDARY_MAX + 1]);

/* One part: its field name (NUL-terminated, copied), whether it came as a
 * file (a filename parameter, even empty: a file input left empty), and its
 * bytes, pointing into the body. */
struct multipart_part {
    char name[MULTIPART_NAME_MAX + 1];
    bool file;
    const char *data;
    size_t len;
};

/* Calls fn(ctx, part) for each part of body[0..len) in order; a non-zero
 * return stops the walk (multipart_parse then returns true).  Returns true,
 * or false with *reason set (a static Spanish phrase) when the body is not
 * well-formed: no opening boundary, a part without its headers' end, without
 * a Content-Disposition of form-data with a name (or a name too long), no
 * closing boundary, more than MULTIPART_PARTS_MAX parts.  Parts before the
 * failure may have been delivered. */
bool multipart_parse(const char *body, size_t len, const char *boundary,
                     int (*fn)(void *ctx, const struct multipart_part *p), void *ctx,
                     const char **reason);

#endif
