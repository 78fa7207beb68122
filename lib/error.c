/* error.c - descriptions of the library's error codes. */
#include "error.h"

const char *cl_strerror(enum cl_err err)
{
    switch (err) {
    case CL_OK: return "ok";
    case CL_NOT_FOUND: return "not found";
    case CL_EXISTS: return "already exists";
    case CL_INVALID: return "invalid value";
    case CL_BUSY: return "store busy";
    case CL_STORAGE: return "storage error";
    case CL_NOMEM: return "out of memory";
    case CL_CONFLICT: return "changed meanwhile";
    case CL_DENIED: return "credentials refused";
    case CL_THROTTLED: return "too many failed logins";
    }
    return "unknown error";
}
