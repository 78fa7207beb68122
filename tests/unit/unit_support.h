/* unit_support.h - temp directories and file helpers shared by the unit tests. */
#ifndef CLIENTES_UNIT_SUPPORT_H
#define CLIENTES_UNIT_SUPPORT_H

#include <stddef.h>

#include "client.h"

/* Creates a fresh 0700 directory "<base>/clientes-unit-XXXXXX" and writes its
 * path into out (cap bytes).  base NULL means $TMPDIR, or /tmp when unset.
 * Returns 0, or -1 with errno set. */
int ut_mkdtemp(char *out, size_t cap, const char *base);

/* Removes path and everything below it (no symlinks followed).  Returns 0 or
 * -1 when something could not be removed. */
int ut_rmtree(const char *path);

/* snprintf(out, cap, "%s/%s", dir, name); aborts the process when it does
 * not fit, since a truncated path would make a test lie. */
void ut_join(char *out, size_t cap, const char *dir, const char *name);

/* Reads a whole file into a malloc'd buffer the caller frees.  Returns 0 or -1. */
int ut_read_file(const char *path, unsigned char **buf, size_t *len);

/* Creates or truncates path with exactly len bytes of data.  Returns 0 or -1. */
int ut_write_file(const char *path, const void *data, size_t len);

/* 1 when path exists (lstat succeeds), else 0. */
int ut_exists(const char *path);

/* Fills c from five NUL-terminated strings through client_set(), so the record
 * holds exactly what a caller of the library would build.  Returns CL_OK or
 * the first error. */
enum cl_err ut_client(struct client *c, const char *nombre, const char *apellidos,
                      const char *mail, const char *fecha, const char *direccion);

/* Returns 1 when every field of a and b is the same string. */
int ut_client_equal(const struct client *a, const struct client *b);

#endif
