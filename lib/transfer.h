/* transfer.h - a whole store moved: copied into another store (SQLite to
 * PostgreSQL for a move to Heroku, and back), or written to and read from
 * NDJSON (backups).  What moves: users, API tokens, clients (their five
 * fields, creado and modificado) and the audit trail, in its order.  What
 * does not: browser sessions (everyone signs in again) and row versions and
 * ids, which the target numbers itself (an ETag read before the move does
 * not match after it; tokens keep working: only their digests are kept,
 * and they move). */
#ifndef CLIENTES_TRANSFER_H
#define CLIENTES_TRANSFER_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "store.h"

/* What a transfer did, by kind; skipped: rows the target already had (a
 * client by its mail, a user by name, a token by digest, audit rows up to
 * the target's newest), left as they were. */
struct transfer_counts {
    long long users, tokens, clients, audit;
    long long skipped;
};

struct transfer_options {
    /* Write into a target that holds data already, adding what it lacks
     * (an interrupted copy run again goes on where it stopped).  Without
     * it such a target is refused (CL_EXISTS).  A new store's untouched
     * example client does not count as data: it is replaced by the
     * source's clients. */
    bool force;
    /* Rows written per transaction of the target by transfer_copy() (0:
     * 1000): committed batches stay if a later one fails. */
    int batch;
    /* Called after each committed batch with the counts so far; may be
     * NULL. */
    void (*progress)(const struct transfer_counts *so_far, void *ctx);
    void *ctx;
};

/* Copies every user, token, client and audit row of `from` into `to`
 * (another store: never the same one).  Returns CL_OK; CL_EXISTS when `to`
 * holds data and o->force is not set (nothing written); or the first
 * error of either store (earlier batches stay committed).  *done (when not
 * NULL) says what was written; err (errlen bytes) the detail of a failure. */
enum cl_err transfer_copy(struct store *from, struct store *to, const struct transfer_options *o,
                          struct transfer_counts *done, char *err, size_t errlen);

/* Writes the whole store to out as NDJSON: one object per line, a header
 * line first ({"type":"clientes","format":1,...}), then users, tokens,
 * clients and audit rows (oldest first), and an "end" line with the
 * counts, by which a cut file is told from a whole one.  The file holds
 * password hashes and token digests: keep it as safe as the database. */
enum cl_err transfer_export(struct store *from, FILE *out, struct transfer_counts *done, char *err,
                            size_t errlen);

/* Reads a file transfer_export() wrote into `to`, in one transaction: all
 * of it or nothing (a malformed line, a cut file without its "end" line,
 * counts that disagree: CL_INVALID, naming the line).  o->batch is
 * ignored; the rest as transfer_copy(). */
enum cl_err transfer_import(struct store *to, FILE *in, const struct transfer_options *o,
                            struct transfer_counts *done, char *err, size_t errlen);

#endif
