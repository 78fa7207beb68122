/* transfer.h - a whole store as NDJSON lines, and back: the backups and
 * moves of clientes-admin (export, import, copy), between any two stores
 * (SQLite to PostgreSQL for a move to Heroku, and back).
 *
 * The lines, one JSON object each, in this order:
 *   {"type":"header","format":"clientes-ndjson","version":1}
 *   {"type":"client","mail":..,"nombre":..,"apellidos":..,"fecha_nacimiento":..,
 *    "direccion":..,"creado":..,"modificado":..}                  mail order
 *   {"type":"user","name":..,"pwhash":..,"role":..,"disabled":..,"creado":..}
 *                                                                  name order
 *   {"type":"token","label":..,"digest":..,"role":..,"owner":<name or null>,
 *    "creado":..,"expires":..,"revoked":..,"last_used":..}         id order
 *   {"type":"audit","at":..,"actor":..,"action":..,"target":..,"changes":{..},
 *    "request_id":..,"client_addr":..}          oldest first (null for none)
 * Every string is the stored value, whatever rule it was stored under (a
 * record of before today's mail rule copies as it is).  Not copied: row
 * versions and ids (the target's own counters number what it receives:
 * ETags change with a move), failed-login counters, sessions (everyone logs
 * in again).
 *
 * An export reads in pages, so its memory does not grow with the store;
 * it is not a snapshot: what changes while it runs may or may not be in it
 * (stop the service for an exact copy).  An import is one transaction of
 * the target: all of it, or (transfer_import_end(im, false, ...), or any
 * failure to commit) none. */
#ifndef CLIENTES_TRANSFER_H
#define CLIENTES_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "store.h"

#define TRANSFER_FORMAT "clientes-ndjson"
#define TRANSFER_VERSION 1

struct transfer_counts {
    long long clients, users, tokens, audit; /* lines written, or stored */
    long long unchanged;                     /* TRANSFER_MERGE: lines already there */
};

/* Receives one line, "\n" included.  Returns 0, or non-zero to stop the
 * export (which then returns CL_STORAGE: the output failed). */
typedef int (*transfer_write_fn)(void *ctx, const char *line, size_t len);

/* Writes every line of s through fn; *n (may be NULL) counts them.
 * Returns CL_OK, CL_STORAGE when fn stopped it (store_errmsg() says so), or
 * a store error. */
enum cl_err transfer_export(struct store *s, transfer_write_fn fn, void *ctx,
                            struct transfer_counts *n);

enum transfer_mode {
    /* The target must be new: no user, token or audit row, and no client
     * but the example a new store is seeded with, which gives way to what
     * comes.  Anything else: CL_EXISTS from transfer_import_begin(). */
    TRANSFER_INTO_EMPTY,
    /* What the target lacks is added; a client there already is updated to
     * the line's values (unchanged when equal); a user (by name) or a token
     * (by digest) there already is kept; the audit lines are added only
     * when the target's trail was empty.  Importing the same lines twice
     * changes nothing the second time. */
    TRANSFER_MERGE
};

struct transfer_import;

/* Starts an import into s (a transaction of s until transfer_import_end()).
 * Returns CL_OK with *out set; CL_EXISTS (INTO_EMPTY, a store in use); a
 * store error; CL_NOMEM. */
enum cl_err transfer_import_begin(struct store *s, enum transfer_mode mode,
                                  struct transfer_import **out);

/* Imports one line (len bytes, a trailing "\n" or "\r\n" allowed; an empty
 * line is skipped).  Returns CL_OK; CL_INVALID with *why (a static English
 * phrase) for a line that is not one of the format's (the first must be its
 * header), a value that cannot be stored, a duplicate of an earlier line
 * (INTO_EMPTY); or a store error.  After a failure the import may go on,
 * but an import of all or nothing ends it with commit false. */
enum cl_err transfer_import_line(struct transfer_import *im, const char *line, size_t len,
                                 const char **why);

/* Commits (commit true: CL_INVALID when no header line came) or rolls back
 * the import, and frees im.  *n (may be NULL) gets the counts of what was
 * stored.  Returns CL_OK or the error of the commit (nothing stored then). */
enum cl_err transfer_import_end(struct transfer_import *im, bool commit,
                                struct transfer_counts *n);

/* Everything of `from` into `to` (an export fed to an import: every line
 * is in memory once, alone).  Returns CL_OK, or the first failure (with
 * *why, when the import refused a line, and nothing stored in `to`). */
enum cl_err transfer_copy(struct store *from, struct store *to, enum transfer_mode mode,
                          struct transfer_counts *n, const char **why);

#endif
