/* store_sqlite_backup.c - consistent copies of a SQLite store while the
 * service writes (SQLite's online backup), and their restoring. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_sqlite.h"
#include "store_sqlite_int.h"

static bool is_sqlite(const struct store *s)
{
    return s && s->ops && strcmp(s->ops->name, "sqlite") == 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Copies every page of src into a new file at dest in one step: one read
 * transaction of src, i.e. one snapshot, while its writers go on (WAL). */
static enum cl_err copy_db(sqlite3 *src, const char *dest, char *err, size_t errlen)
{
    sqlite3 *out = NULL;
    sqlite3_backup *b;
    int rc = sqlite3_open_v2(dest, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);

    if (rc == SQLITE_OK && (b = sqlite3_backup_init(out, "main", src, "main")) != NULL) {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
        int fin = sqlite3_backup_finish(b);
        if (rc == SQLITE_OK)
            rc = fin;
    } else if (rc == SQLITE_OK) {
        rc = sqlite3_errcode(out);
    }
    /* the copy stands alone: its WAL folded in, no -wal beside it */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "cannot copy into %s: %s", dest,
                 out ? sqlite3_errmsg(out) : sqlite3_errstr(rc));
    sqlite3_close(out);
    if (rc != SQLITE_OK) {
        unlink(dest);
        return (rc & 0xff) == SQLITE_BUSY ? CL_BUSY : CL_STORAGE;
    }
    return CL_OK;
}

enum cl_err store_sqlite_backup(struct store *s, const char *dest, char *err, size_t errlen)
{
    if (!is_sqlite(s)) {
        snprintf(err, errlen, "a backup copies a SQLite store (for PostgreSQL: pg_dump, or "
                              "clientes-admin export)");
        return CL_INVALID;
    }
    if (exists(dest)) {
        snprintf(err, errlen, "%s exists: a backup never overwrites", dest);
        return CL_EXISTS;
    }
    return copy_db(((struct sqlite_store *)s)->db, dest, err, errlen);
}

enum cl_err store_sqlite_check(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    enum cl_err e = CL_STORAGE;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (r && strcmp(r, "ok") == 0)
            e = CL_OK;
        else
            snprintf(err, errlen, "%s fails SQLite's integrity check: %.120s", path,
                     r ? r : "?");
    } else {
        snprintf(err, errlen, "%s is not a readable SQLite database: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    }
    sqlite3_finalize(st);
    if (e == CL_OK) { /* and it is a clientes store */
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM clients", -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW) {
            snprintf(err, errlen, "%s holds no clientes store", path);
            e = CL_STORAGE;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return e;
}

enum cl_err store_sqlite_restore(const char *backup, const char *target, bool force, char *err,
                                 size_t errlen)
{
    static const char *const sides[] = {"-wal", "-shm", "-journal"};
    char side[PATH_MAX];
    sqlite3 *src = NULL;
    enum cl_err e;

    if ((e = store_sqlite_check(backup, err, errlen)))
        return e;
    if (exists(target) && !force) {
        snprintf(err, errlen, "%s exists: restore over it only with --force, the service "
                              "stopped", target);
        return CL_EXISTS;
    }
    /* what a previous store left beside the target would be replayed into
     * the restored file (or keep it from opening): it goes with the target */
    for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", target, sides[i]);
        if (unlink(side) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "cannot remove %s: %s", side, strerror(errno));
            return CL_STORAGE;
        }
    }
    if (exists(target) && unlink(target) != 0) {
        snprintf(err, errlen, "cannot remove %s: %s", target, strerror(errno));
        return CL_STORAGE;
    }
    if (sqlite3_open_v2(backup, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", backup, sqlite3_errmsg(src));
        sqlite3_close(src);
        return CL_STORAGE;
    }
    e = copy_db(src, target, err, errlen);
    sqlite3_close(src);
    return e;
}
