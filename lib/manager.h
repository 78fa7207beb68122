/* manager.h - what can be done to clients: the operations of the old service,
 * validated, over any store. */
#ifndef CLIENTES_MANAGER_H
#define CLIENTES_MANAGER_H

#include "client.h"
#include "error.h"
#include "store.h"

/* Which field was refused and why, filled by calls that validate. */
struct manager_reject {
    enum client_field field;
    const char *reason; /* static Spanish phrase, see client_validate() */
};

/* The mail that names a record in manager_get, manager_delete and
 * manager_update is checked by client_validate_key() (the looser rule that
 * finds records stored before the mail rule was tightened); a new record, and
 * every new value, by the field's own rule (client_validate()). */

/* Adds `c` after validating every field.  Returns CL_OK; CL_INVALID (with
 * *rej filled when rej is not NULL); CL_EXISTS when a client with the same
 * mail, compared case-insensitively, is present (that record is left
 * untouched); CL_BUSY/CL_STORAGE/CL_NOMEM from the store. */
enum cl_err manager_add(struct store *s, const struct client *c, struct manager_reject *rej);

/* Fills *out with the client whose mail equals `mail` case-insensitively.
 * Returns CL_OK, CL_INVALID for a mail that fails client_validate_key (rej
 * filled), CL_NOT_FOUND, or a store error. */
enum cl_err manager_get(struct store *s, const char *mail, struct client *out,
                        struct manager_reject *rej);

/* Deletes the client with that mail.  Returns CL_OK, CL_INVALID, CL_NOT_FOUND
 * or a store error. */
enum cl_err manager_delete(struct store *s, const char *mail, struct manager_reject *rej);

/* Sets `field` (nombre, apellidos, fecha_nacimiento or direccion: the mail is
 * the key and cannot change) of the client with that mail to `value`.
 * Returns CL_OK, CL_INVALID (bad key, bad value, or field CLIENT_MAIL; rej
 * names which), CL_NOT_FOUND or a store error.  The mail is checked first (as
 * a key), then the value (by its field's rule); the record's other fields
 * are not re-checked, so a record stored under older rules can be updated. */
enum cl_err manager_update(struct store *s, const char *mail, enum client_field field,
                           const char *value, struct manager_reject *rej);

/* Stores the number of clients in *n. */
enum cl_err manager_count(struct store *s, long long *n);

/* Calls fn for every client in mail order, one record in memory at a time
 * (see store_walk_fn).  Returns CL_OK or a store error. */
enum cl_err manager_walk(struct store *s, store_walk_fn fn, void *ctx);

/* CL_OK when the store answers a trivial query. */
enum cl_err manager_ping(struct store *s);

#endif
