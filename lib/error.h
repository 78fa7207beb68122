/* error.h - the one error enum of the client library and its messages. */
#ifndef CLIENTES_ERROR_H
#define CLIENTES_ERROR_H

/* Every public function of lib/ that can fail returns one of these; results
 * travel through out-parameters.  CL_OK is 0 so `if (err)` reads naturally. */
enum cl_err {
    CL_OK = 0,
    CL_NOT_FOUND, /* no client with that mail */
    CL_EXISTS,    /* a client with that mail (compared case-insensitively) exists */
    CL_INVALID,   /* a value failed validation; nothing was changed */
    CL_BUSY,      /* the store stayed locked past its wait; retrying later may work */
    CL_STORAGE,   /* the store cannot be opened, read or written (missing
                     directory, read-only file, disk full, not a database) */
    CL_NOMEM,     /* an allocation failed */
    CL_CONFLICT,  /* the record changed since the version the caller names */
    CL_DENIED,    /* credentials refused: unknown, wrong, expired, revoked, disabled */
    CL_THROTTLED  /* too many failed logins for that account just now; later works */
};

/* A short English description of `err` for logs.  Returns a static string,
 * never NULL (unknown values give "unknown error"). */
const char *cl_strerror(enum cl_err err);

#endif
