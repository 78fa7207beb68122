/* multipart.c - splitting multipart/form-data bodies (multipart.h). */
#define _GNU_SOURCE /* memmem */
#include "multipart.h"

#include <string.h>
#include <strings.h>

bool multipart_boundary(const char *ct, char out[MULTIPART_BOUNDARY_MAX + 1])
{
    static const char type[] = "multipart/form-data";
    const char *p;
    size_t n = 0;

    if (!ct || strncasecmp(ct, type, sizeof(type) - 1) != 0)
        return false;
    p = ct + sizeof(type) - 1;
    while (*p) {
        while (*p == ';' || *p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "boundary=", 9) == 0) {
            p += 9;
            if (*p == '"') {
                for (p++; *p && *p != '"'; p++) {
                    if (n == MULTIPART_BOUNDARY_MAX)
                        return false;
                    out[n++] = *p;
                }
                if (*p != '"')
                    return false;
            } else {
                for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++) {
                    if (n == MULTIPART_BOUNDARY_MAX)
                        return false;
                    out[n++] = *p;
                }
            }
            out[n] = '\0';
            return n > 0;
        }
        while (*p && *p != ';') /* another parameter: skipped */
            p++;
    }
    return false;
}

/* The value of parameter `param` (name="...", quoted as browsers send it)
 * in a Content-Disposition header line [h, end); NULL when absent.  *len is
 * its length. */
static const char *disposition_param(const char *h, const char *end, const char *param,
                                     size_t *len)
{
    size_t plen = strlen(param);

    for (const char *p = h; p + plen + 2 <= end; p++) {
        if ((p == h || p[-1] == ';' || p[-1] == ' ') && strncasecmp(p, param, plen) == 0 &&
            p[plen] == '=' && p[plen + 1] == '"') {
            const char *v = p + plen + 2, *q = memchr(v, '"', (size_t)(end - v));
            if (!q)
                return NULL;
            *len = (size_t)(q - v);
            return v;
        }
    }
    return NULL;
}

/* Reads the headers of a part [p, end): its name and whether it is a file.
 * Returns false when there is no form-data disposition with a usable name. */
static bool part_headers(const char *p, const char *end, struct multipart_part *part)
{
    bool named = false;

    part->file = false;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        const char *line_end = eol ? eol : end;
        static const char cd[] = "content-disposition:";
        if ((size_t)(line_end - p) > sizeof(cd) - 1 && strncasecmp(p, cd, sizeof(cd) - 1) == 0) {
            const char *v = p + sizeof(cd) - 1, *name;
            size_t nlen, flen;
            while (v < line_end && (*v == ' ' || *v == '\t'))
                v++;
            if ((size_t)(line_end - v) < 9 || strncasecmp(v, "form-data", 9) != 0)
                return false;
            name = disposition_param(v, line_end, "name", &nlen);
            if (!name || nlen == 0 || nlen > MULTIPART_NAME_MAX || memchr(name, '\0', nlen))
                return false;
            memcpy(part->name, name, nlen);
            part->name[nlen] = '\0';
            part->file = disposition_param(v, line_end, "filename", &flen) != NULL;
            named = true;
        }
        p = line_end + 2;
    }
    return named;
}

bool multipart_parse(const char *body, size_t len, const char *boundary,
                     int (*fn)(void *ctx, const struct multipart_part *p), void *ctx,
                     const char **reason)
{
    char delim[MULTIPART_BOUNDARY_MAX + 5]; /* CRLF "--" boundary */
    size_t blen = strlen(boundary), dlen = blen + 4;
    const char *end = body + len, *p;
    int parts = 0;

    if (blen == 0 || blen > MULTIPART_BOUNDARY_MAX) {
        *reason = "frontera del cuerpo multipart no valida";
        return false;
    }
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    /* the first delimiter may open the body without its CRLF */
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;
    } else {
        const char *d = memmem(body, len, delim, dlen);
        if (!d) {
            *reason = "el cuerpo multipart no empieza por su frontera";
            return false;
        }
        p = d + dlen;
    }
    for (;;) {
        struct multipart_part part;
        const char *hend, *next;

        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return true; /* the closing delimiter; an epilogue is ignored */
        /* transport padding, then the CRLF ending the delimiter line */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            break;
        p += 2;
        if (++parts > MULTIPART_PARTS_MAX) {
            *reason = "demasiadas partes en el cuerpo multipart";
            return false;
        }
        hend = (end - p >= 2 && p[0] == '\r' && p[1] == '\n') ? p
                                                               : memmem(p, (size_t)(end - p),
                                                                        "\r\n\r\n", 4);
        if (!hend) {
            *reason = "una parte del cuerpo multipart no termina sus cabeceras";
            return false;
        }
        if (!part_headers(p, hend, &part)) {
            *reason = "una parte del cuerpo multipart no tiene nombre de campo";
            return false;
        }
        p = hend + (hend == p ? 2 : 4);
        next = memmem(p, (size_t)(end - p), delim, dlen);
        if (!next)
            break;
        part.data = p;
        part.len = (size_t)(next - p);
        if (fn(ctx, &part))
            return true;
        p = next + dlen;
    }
    *reason = "el cuerpo multipart no termina con su frontera";
    return false;
}
