/* unit_support.h - the former unit-test helpers, now tests/support/support.h
 * (prefix ts_).  Kept only so test_client.c builds unchanged; once it uses
 * support.h and ts_client() itself, this file goes. */
#ifndef CLIENTES_UNIT_SUPPORT_H
#define CLIENTES_UNIT_SUPPORT_H

#include "support.h"

static inline enum cl_err ut_client(struct client *c, const char *nombre, const char *apellidos,
                                    const char *mail, const char *fecha, const char *direccion)
{
    return ts_client(c, nombre, apellidos, mail, fecha, direccion);
}

#endif
