/* manager.h - what can be done to clients and their audit trail: the
 * operations of the old service and of the /v1 API, validated, over any
 * store.  Every change writes its audit row, with the handle's actor
 * (store_set_actor()), in the same transaction. */
#ifndef CLIENTES_MANAGER_H
#define CLIENTES_MANAGER_H

#include <stdbool.h>

#include "client.h"
#include "error.h"
#include "store.h"

/* Which field was refused and why, filled by calls that validate. */
struct manager_reject {
    enum client_field field;
    const char *reason; /* static Spanish phrase, see client_validate() */
};

/* The mail that names a record in the calls below is checked by
 * client_validate_key() (the looser rule that finds records stored before the
 * mail rule was tightened); a new record, and every new value, by the field's
 * own rule (client_validate()).
 *
 * Unless said otherwise, calls return CL_OK, CL_INVALID (rej filled when not
 * NULL), CL_NOT_FOUND for an unknown mail, or a store error (CL_BUSY,
 * CL_STORAGE, CL_NOMEM). */

/* ---- the legacy operations --------------------------------------------- */

/* Adds `c` after validating every field; CL_EXISTS when a client with the
 * same mail, compared case-insensitively, is present (left untouched). */
enum cl_err manager_add(struct store *s, const struct client *c, struct manager_reject *rej);

/* Fills *out with the client whose mail equals `mail` case-insensitively. */
enum cl_err manager_get(struct store *s, const char *mail, struct client *out,
                        struct manager_reject *rej);

/* Deletes the client with that mail. */
enum cl_err manager_delete(struct store *s, const char *mail, struct manager_reject *rej);

/* Sets `field` (nombre, apellidos, fecha_nacimiento or direccion: the mail is
 * the key and cannot change) of the client with that mail to `value`.  The
 * mail is checked first (as a key), then the value (by its field's rule);
 * the record's other fields are not re-checked, so a record stored under
 * older rules can be updated. */
enum cl_err manager_update(struct store *s, const char *mail, enum client_field field,
                           const char *value, struct manager_reject *rej);

/* Stores the number of clients in *n. */
enum cl_err manager_count(struct store *s, long long *n);

/* Calls fn for every client in mail order, one record in memory at a time. */
enum cl_err manager_walk(struct store *s, store_walk_fn fn, void *ctx);

/* CL_OK when the store answers a trivial query. */
enum cl_err manager_ping(struct store *s);

/* ---- records with their metadata (the /v1 API, the UI) ------------------- */

/* The derived columns of a record (store.h, struct client_keys). */
void client_keys_of(const struct client *c, struct client_keys *k);

/* The current time as the store keeps it (STORE_TIME_LEN + 1 bytes). */
void manager_now(char out[STORE_TIME_LEN + 1]);

/* manager_get() with the record's metadata. */
enum cl_err manager_get_meta(struct store *s, const char *mail, struct client *out,
                             struct client_meta *meta, struct manager_reject *rej);

/* manager_add() that also returns the new record's metadata. */
enum cl_err manager_create(struct store *s, const struct client *c, struct client_meta *meta,
                           struct manager_reject *rej);

/* The fields of a change: which of c's fields replace the stored ones. */
#define MANAGER_FIELD(f) (1u << (f))

/* Replaces the fields of the record `mail` named in `mask` by those of `c`
 * (a merge patch; the mail itself cannot change: CLIENT_MAIL in mask with a
 * different mail is CL_INVALID).  Each given field is validated by its rule;
 * the others stay as stored.  With if_version > 0 the change is made only if
 * the record is still at that version (CL_CONFLICT otherwise: the caller's
 * 412); with 0, a concurrent change is retried on the fresh record.  On
 * success *out and *meta (either may be NULL) hold the record as stored.
 * A change that changes nothing still counts (new version, audit row). */
enum cl_err manager_change(struct store *s, const char *mail, const struct client *c,
                           unsigned mask, long long if_version, struct client *out,
                           struct client_meta *meta, struct manager_reject *rej);

/* Deletes the record, if_version as above. */
enum cl_err manager_remove(struct store *s, const char *mail, long long if_version,
                           struct manager_reject *rej);

/* The right to erasure: deletes the record and the personal values of its
 * audit rows; the trail keeps an "client.erase" row (who, when) with no
 * personal data.  CL_NOT_FOUND when there is neither a record nor a row. */
enum cl_err manager_erase(struct store *s, const char *mail, struct manager_reject *rej);

/* A page of clients (see struct client_query; q->search here is the user's
 * text: the manager folds it).  CL_INVALID for a malformed query (a date
 * that is not YYYY-MM-DD, a limit outside 0..1000). */
enum cl_err manager_list(struct store *s, const struct client_query *q, client_list_fn fn,
                         void *ctx);

/* How many clients match q (its cursor and limit ignored). */
enum cl_err manager_count_query(struct store *s, const struct client_query *q, long long *n);

/* The audit rows of one client, newest first (before_id/limit: a page);
 * CL_NOT_FOUND when it has neither a record nor a row. */
enum cl_err manager_history(struct store *s, const char *mail, long long before_id, int limit,
                            audit_walk_fn fn, void *ctx);

/* The audit trail, filtered (struct audit_query). */
enum cl_err manager_audit(struct store *s, const struct audit_query *q, audit_walk_fn fn,
                          void *ctx);

/* Deletes the audit rows older than `days` days; *deleted how many. */
enum cl_err manager_audit_prune(struct store *s, int days, long long *deleted);

/* Everything after begin() and before commit() is one transaction: an import
 * that is all-or-nothing.  rollback() undoes it. */
enum cl_err manager_begin(struct store *s);
enum cl_err manager_commit(struct store *s);
enum cl_err manager_rollback(struct store *s);

#endif
