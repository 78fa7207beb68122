/* store_sqlite.c - the default backend: one SQLite file in WAL mode. */
#include "store_sqlite.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Schema migrations, applied in order.  migrations[i] brings a file from
 * user_version i to i + 1; a new (empty) file runs them all, which is why the
 * example client is seeded by the first one and never again. */
static const char *const migrations[] = {
    /* 0 -> 1: the clients table, unique on the case-folded mail (NOCASE folds
     * ASCII, and mails are ASCII by validation), and the example client. */
    "CREATE TABLE clients ("
    "  id INTEGER PRIMARY KEY,"
    "  mail TEXT NOT NULL,"
    "  nombre TEXT NOT NULL,"
    "  apellidos TEXT NOT NULL,"
    "  fecha_nacimiento TEXT NOT NULL,"
    "  direccion TEXT NOT NULL);"
    "CREATE UNIQUE INDEX clients_mail_nocase ON clients(mail COLLATE NOCASE);"
    "INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, direccion) VALUES"
    "  ('ejemplo@gmail.com', 'Jesus', 'Mesa Gonzalez', '29/06/1996',"
    "   'Calle Paseo Moreras 39');",
    /* 1 -> 2: the table keyed on the case-folded mail itself (WITHOUT
     * ROWID): a lookup is one b-tree search instead of index + table, and
     * the primary key is the database's own uniqueness check. */
    "CREATE TABLE clients_v2 ("
    "  mail TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,"
    "  nombre TEXT NOT NULL,"
    "  apellidos TEXT NOT NULL,"
    "  fecha_nacimiento TEXT NOT NULL,"
    "  direccion TEXT NOT NULL) WITHOUT ROWID;"
    "INSERT INTO clients_v2(mail, nombre, apellidos, fecha_nacimiento, direccion)"
    "  SELECT mail, nombre, apellidos, fecha_nacimiento, direccion FROM clients;"
    "DROP TABLE clients;"
    "ALTER TABLE clients_v2 RENAME TO clients;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define COLS "mail, nombre, apellidos, fecha_nacimiento, direccion"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_GET,
    ST_ADD,
    ST_DEL,
    ST_SET_NOMBRE,
    ST_SET_APELLIDOS,
    ST_SET_FECHA,
    ST_SET_DIRECCION,
    ST_COUNT,
    ST_WALK,
    ST_PING,
    ST_COUNT_IDS
};

static const char *const stmt_sql[ST_COUNT_IDS] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_GET] = "SELECT " COLS " FROM clients WHERE mail = ?1 COLLATE NOCASE",
    [ST_ADD] = "INSERT INTO clients(" COLS ") VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_DEL] = "DELETE FROM clients WHERE mail = ?1 COLLATE NOCASE",
    [ST_SET_NOMBRE] = "UPDATE clients SET nombre = ?2 WHERE mail = ?1 COLLATE NOCASE",
    [ST_SET_APELLIDOS] = "UPDATE clients SET apellidos = ?2 WHERE mail = ?1 COLLATE NOCASE",
    [ST_SET_FECHA] = "UPDATE clients SET fecha_nacimiento = ?2 WHERE mail = ?1 COLLATE NOCASE",
    [ST_SET_DIRECCION] = "UPDATE clients SET direccion = ?2 WHERE mail = ?1 COLLATE NOCASE",
    [ST_COUNT] = "SELECT count(*) FROM clients",
    [ST_WALK] = "SELECT " COLS " FROM clients ORDER BY mail COLLATE NOCASE",
    [ST_PING] = "SELECT 1 FROM clients LIMIT 1",
};

/* Below this much free space for unprivileged users on the file's disk the
 * store is not ready: a write is about to fail with "disk full". */
#define MIN_FREE_BYTES (64 * 1024)
/* The WAL is cut back to this size after a checkpoint, and to nothing when
 * the last handle closes (it stays, empty: see keep_wal()). */
#define WAL_SIZE_LIMIT (64 * 1024 * 1024)

struct sqlite_store {
    struct store base; /* first, so a struct store * converts back */
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT_IDS];
    /* The file this handle opened, by absolute path and identity, to notice
     * when it is removed or replaced under the running service. */
    char path[PATH_MAX];
    dev_t dev;
    ino_t ino;
    /* ... and its -wal and -shm, which SQLite finds by name next to it. */
    struct stat side[2];
    bool have_side[2];
    /* Who opened it: a worker started as root opens its store, then becomes
     * an unprivileged user whose access() says nothing about the descriptors
     * it kept. */
    uid_t open_euid;
};

/* The companions of the database file, in struct sqlite_store's side[]. */
static const char *const side_names[2] = {"-wal", "-shm"};

static struct sqlite_store *sqlite_of(struct store *s)
{
    return (struct sqlite_store *)s;
}

/* Records the detail of a failed call for store_errmsg(). */
static void record_error(struct sqlite_store *s, int rc)
{
    snprintf(s->base.errmsg, sizeof(s->base.errmsg), "sqlite: %s (%d)", sqlite3_errmsg(s->db),
             rc);
}

/* Maps a SQLite result code (extended codes are on) to the library's enum:
 * a lock is transient (CL_BUSY); read-only, full, corrupt, I/O errors are
 * not (CL_STORAGE). */
static enum cl_err map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return CL_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CL_BUSY;
    case SQLITE_NOMEM:
        return CL_NOMEM;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return CL_EXISTS;
        return CL_STORAGE;
    default:
        return CL_STORAGE;
    }
}

/* Steps a statement whose rows (if any) are not needed, then resets it.
 * Returns SQLITE_DONE or the failing code, recorded for store_errmsg(). */
static int step_reset(struct sqlite_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        rc = SQLITE_DONE;
    if (rc != SQLITE_DONE)
        record_error(s, rc);
    sqlite3_reset(st);
    return rc;
}

/* Whether s->path is still the file this handle opened.  A file removed (or
 * replaced by another, e.g. a restored copy moved over it) while the
 * service runs would otherwise take writes that no later start sees: the
 * handle keeps writing into the old, unnamed inode.  Returns CL_OK, or
 * CL_STORAGE with the detail recorded (and *reason, when not NULL). */
static enum cl_err check_identity(struct sqlite_store *s, const char **reason)
{
    struct stat st;

    if (stat(s->path, &st) != 0) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg),
                 "sqlite: database file %.120s gone since opened (%.40s): writes refused",
                 s->path, strerror(errno));
    } else if (st.st_dev != s->dev || st.st_ino != s->ino) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg),
                 "sqlite: database file %.120s replaced by another since opened: writes refused",
                 s->path);
    } else {
        return CL_OK;
    }
    if (reason)
        *reason = "el fichero de la base de datos fue borrado o sustituido";
    return CL_STORAGE;
}

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    /* _blob, not _text: the bytes as stored, without SQLite first copying
     * each value to add a NUL (a malloc per column); we add our own. */
    const void *v = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);

    if (!v)
        n = 0;
    if (n >= cap) /* only a file edited by hand could hold this */
        n = cap - 1;
    if (n)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

static void row_to_client(sqlite3_stmt *st, struct client *c)
{
    copy_col(st, 0, c->mail, sizeof(c->mail));
    copy_col(st, 1, c->nombre, sizeof(c->nombre));
    copy_col(st, 2, c->apellidos, sizeof(c->apellidos));
    copy_col(st, 3, c->fecha_nacimiento, sizeof(c->fecha_nacimiento));
    copy_col(st, 4, c->direccion, sizeof(c->direccion));
}

/* Runs `st` (already bound) inside BEGIN IMMEDIATE ... COMMIT, so the change
 * is one transaction that waits its turn behind other writers (busy_timeout)
 * instead of failing on a lock upgrade.  Returns SQLITE_DONE or the first
 * failing code (the transaction then rolled back); *changes gets the number
 * of rows changed. */
static int write_txn(struct sqlite_store *s, sqlite3_stmt *st, int *changes)
{
    int rc = step_reset(s, s->st[ST_BEGIN]);

    if (rc == SQLITE_DONE) {
        rc = step_reset(s, st);
        if (rc == SQLITE_DONE) {
            *changes = sqlite3_changes(s->db);
            rc = step_reset(s, s->st[ST_COMMIT]);
        }
        if (rc != SQLITE_DONE && !sqlite3_get_autocommit(s->db)) {
            sqlite3_step(s->st[ST_ROLLBACK]);
            sqlite3_reset(s->st[ST_ROLLBACK]);
        }
    }
    sqlite3_clear_bindings(st);
    return rc;
}

static enum cl_err sq_get(struct store *base, const char *mail, struct client *out)
{
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = s->st[ST_GET];
    int rc;

    s->base.errmsg[0] = '\0';
    sqlite3_bind_text(st, 1, mail, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        row_to_client(st, out);
    else if (rc != SQLITE_DONE)
        record_error(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_ROW)
        return CL_OK;
    if (rc == SQLITE_DONE)
        return CL_NOT_FOUND;
    return map_rc(rc);
}

static enum cl_err sq_add(struct store *base, const struct client *c)
{
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = s->st[ST_ADD];
    int changes = 0;

    s->base.errmsg[0] = '\0';
    if (check_identity(s, NULL))
        return CL_STORAGE;
    sqlite3_bind_text(st, 1, c->mail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->nombre, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->apellidos, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->fecha_nacimiento, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->direccion, -1, SQLITE_STATIC);
    return map_rc(write_txn(s, st, &changes));
}

static enum cl_err changed_one(int rc, int changes)
{
    enum cl_err e = map_rc(rc);
    if (e == CL_OK && changes == 0)
        return CL_NOT_FOUND;
    return e;
}

static enum cl_err sq_del(struct store *base, const char *mail)
{
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = s->st[ST_DEL];
    int changes = 0, rc;

    s->base.errmsg[0] = '\0';
    if (check_identity(s, NULL))
        return CL_STORAGE;
    sqlite3_bind_text(st, 1, mail, -1, SQLITE_STATIC);
    rc = write_txn(s, st, &changes);
    return changed_one(rc, changes);
}

static enum cl_err sq_update(struct store *base, const char *mail, enum client_field field,
                             const char *value)
{
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st;
    int changes = 0, rc;

    s->base.errmsg[0] = '\0';
    switch (field) {
    case CLIENT_NOMBRE: st = s->st[ST_SET_NOMBRE]; break;
    case CLIENT_APELLIDOS: st = s->st[ST_SET_APELLIDOS]; break;
    case CLIENT_FECHA_NACIMIENTO: st = s->st[ST_SET_FECHA]; break;
    case CLIENT_DIRECCION: st = s->st[ST_SET_DIRECCION]; break;
    default:
        snprintf(s->base.errmsg, sizeof(s->base.errmsg), "field cannot be changed");
        return CL_INVALID;
    }
    if (check_identity(s, NULL))
        return CL_STORAGE;
    sqlite3_bind_text(st, 1, mail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = write_txn(s, st, &changes);
    return changed_one(rc, changes);
}

static enum cl_err sq_count(struct store *base, long long *n)
{
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = s->st[ST_COUNT];
    int rc;

    s->base.errmsg[0] = '\0';
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        record_error(s, rc);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CL_OK : map_rc(rc);
}

static enum cl_err sq_walk(struct store *base, store_walk_fn fn, void *ctx)
{
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = s->st[ST_WALK];
    struct client c;
    int rc;

    s->base.errmsg[0] = '\0';
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_to_client(st, &c);
        if (fn(&c, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        record_error(s, rc);
    sqlite3_reset(st);
    return map_rc(rc);
}

static enum cl_err sq_ping(struct store *base)
{
    struct sqlite_store *s = sqlite_of(base);
    int rc;

    s->base.errmsg[0] = '\0';
    rc = step_reset(s, s->st[ST_PING]);
    return map_rc(rc);
}

/* Whether a write could succeed on the file: not read-only for this
 * process, with MIN_FREE_BYTES left on its disk.  Returns CL_OK or
 * CL_STORAGE with the detail recorded and *why set. */
static enum cl_err check_writable(struct sqlite_store *s, const char **why)
{
    struct statvfs vfs;
    char dir[PATH_MAX];
    char *slash;
    unsigned long long avail;

    if (sqlite3_db_readonly(s->db, "main") == 1 ||
        (geteuid() == s->open_euid && access(s->path, W_OK) != 0)) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg),
                 "sqlite: database file %.120s is read-only for this process", s->path);
        *why = "la base de datos es de solo lectura";
        return CL_STORAGE;
    }
    snprintf(dir, sizeof(dir), "%s", s->path); /* absolute: it has a '/' */
    slash = strrchr(dir, '/');
    *(slash == dir ? slash + 1 : slash) = '\0';
    if (statvfs(dir, &vfs) != 0)
        return CL_OK; /* no answer is not a full disk; the write will tell */
    avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
    if (avail >= MIN_FREE_BYTES)
        return CL_OK;
    snprintf(s->base.errmsg, sizeof(s->base.errmsg),
             "sqlite: %llu bytes free on the disk of %.120s (under %d)", avail, s->path,
             MIN_FREE_BYTES);
    *why = "disco lleno";
    return CL_STORAGE;
}

/* A read, then what a write needs: the same file, writable, with space. */
static enum cl_err sq_ready(struct store *base, const char **reason)
{
    struct sqlite_store *s = sqlite_of(base);
    const char *why = NULL;
    enum cl_err e;
    int rc;

    s->base.errmsg[0] = '\0';
    rc = step_reset(s, s->st[ST_PING]);
    if ((e = map_rc(rc))) {
        if (e == CL_BUSY)
            why = "la base de datos esta bloqueada";
        else if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
            why = "la base de datos esta danada";
        else
            why = "la base de datos no responde a una lectura";
    } else if (!(e = check_identity(s, &why))) {
        e = check_writable(s, &why);
    }
    if (e && reason)
        *reason = why;
    return e;
}

/* When another file now sits at the path, the -wal and -shm there are still
 * this handle's, full of pages of the file it opened: the next open would
 * replay them into the newcomer (SQLite keys a WAL by name only) and mix two
 * databases.  Moves them aside, as <name>-wal.replaced-<inode>, so the new
 * file starts clean and the old pages stay for whoever wants them.  Only
 * files that are still exactly this handle's are moved, and nothing when
 * the path is empty (then the -wal is the sign of a removed store). */
static void set_aside_replaced(struct sqlite_store *s)
{
    char from[PATH_MAX + 8], to[PATH_MAX + 48];
    struct stat st;

    if (stat(s->path, &st) != 0 || (st.st_dev == s->dev && st.st_ino == s->ino))
        return;
    for (int i = 0; i < 2; i++) {
        if (!s->have_side[i])
            continue;
        snprintf(from, sizeof(from), "%s%s", s->path, side_names[i]);
        if (stat(from, &st) != 0 || st.st_dev != s->side[i].st_dev ||
            st.st_ino != s->side[i].st_ino)
            continue;
        snprintf(to, sizeof(to), "%s.replaced-%llu", from, (unsigned long long)s->ino);
        rename(from, to);
    }
}

static void sq_close(struct store *base)
{
    struct sqlite_store *s = sqlite_of(base);

    for (int i = 0; i < ST_COUNT_IDS; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    if (s->have_side[0])
        set_aside_replaced(s);
    free(s);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .get = sq_get,
    .add = sq_add,
    .del = sq_del,
    .update = sq_update,
    .count = sq_count,
    .walk = sq_walk,
    .ping = sq_ping,
    .ready = sq_ready,
};

static int user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Brings the file up to SCHEMA_VERSION under one write transaction, so two
 * processes opening a new file at once seed it exactly once. */
static int migrate(sqlite3 *db, char *why, size_t whylen)
{
    int v = 0, rc;
    char sql[64];

    if ((rc = user_version(db, &v)) != SQLITE_OK)
        return rc;
    if (v == SCHEMA_VERSION)
        return SQLITE_OK; /* the common case needs no write: read-only files open */
    if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
        return rc;
    if ((rc = user_version(db, &v)) != SQLITE_OK)
        goto out;
    if (v == SCHEMA_VERSION) { /* another handle migrated it while we waited */
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        goto out;
    }
    if (v > SCHEMA_VERSION) {
        snprintf(why, whylen, "schema version %d is newer than this program's (%d)", v,
                 SCHEMA_VERSION);
        rc = SQLITE_ERROR;
        goto out;
    }
    if (v == 0) {
        /* version 0 must mean "new": refuse to write into someone else's file */
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
        if (rc != SQLITE_OK)
            goto out;
        rc = sqlite3_step(st);
        int tables = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        sqlite3_finalize(st);
        if (tables != 0) {
            snprintf(why, whylen, "file holds a database that is not a clientes store");
            rc = SQLITE_ERROR;
            goto out;
        }
    }
    for (; v < SCHEMA_VERSION; v++) {
        if ((rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL)) != SQLITE_OK)
            goto out;
    }
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
    if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
        goto out;
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
out:
    if (rc != SQLITE_OK) {
        int ext = sqlite3_extended_errcode(db);
        if (!why[0])
            snprintf(why, whylen, "%s", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return ext ? ext : rc;
    }
    return rc;
}

/* Puts the file in WAL mode.  Switching needs the file to itself for a
 * moment, and SQLite answers SQLITE_BUSY at once, without the busy handler,
 * while another connection writes (several handles creating the same new
 * file), so wait here, up to the busy timeout, as a write would. */
static int set_wal(sqlite3 *db, int busy_timeout_ms)
{
    int rc, waited = 0;

    while ((rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL)) != SQLITE_OK &&
           (rc & 0xff) == SQLITE_BUSY && waited < busy_timeout_ms) {
        sqlite3_sleep(5);
        waited += 5;
    }
    return rc;
}

/* The absolute form of `path` (relative to the working directory of the
 * open, symlinks kept: a symlink re-pointed elsewhere is a replaced file).
 * Returns 0, or -1 when it does not fit. */
static int absolute_path(const char *path, char *out, size_t cap)
{
    char cwd[PATH_MAX];
    int n;

    if (path[0] == '/')
        n = snprintf(out, cap, "%s", path);
    else if (getcwd(cwd, sizeof(cwd)))
        n = snprintf(out, cap, "%s/%s", cwd, path);
    else
        return -1;
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* When the database file is missing, a leftover -wal, -shm or -journal next
 * to it means a store lived there and was removed: creating a new one would
 * silently start over with only the example, every record gone (the WAL is
 * kept on purpose, see keep_wal()).  Writes into why and returns 1 then. */
static int previous_store_left(const char *path, char *why, size_t whylen)
{
    static const char *const signs[] = {"-wal", "-shm", "-journal"};
    char side[PATH_MAX + 16];
    struct stat st;

    for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", path, signs[i]);
        /* The sign first, then the file: SQLite creates the file before its
         * companions, so a sign seen and then no file is a removed file, not
         * another process creating it right now. */
        if (lstat(side, &st) == 0 && stat(path, &st) != 0 && errno == ENOENT) {
            snprintf(why, whylen,
                     "the database file is missing but its %s file is there: the store was "
                     "removed; restore the file (or delete %.100s%s to start an empty store)",
                     signs[i], path, signs[i]);
            return 1;
        }
    }
    return 0;
}

/* Keeps the -wal file when the last handle closes (SQLite would delete it),
 * emptied (journal_size_limit), so that a database file removed later can be
 * told from one that never existed: see previous_store_left(). */
static int keep_wal(sqlite3 *db)
{
    int on = 1;
    char sql[64];
    int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);

    if (rc != SQLITE_OK)
        return rc;
    snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit=%d", WAL_SIZE_LIMIT);
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

enum cl_err store_sqlite_open(const char *path, int busy_timeout_ms, struct store **out,
                              char *err, size_t errlen)
{
    struct sqlite_store *s;
    struct stat st;
    char why[400] = "";
    int rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return CL_NOMEM;
    }
    s->base.ops = &sqlite_ops;
    s->open_euid = geteuid();
    if (absolute_path(path, s->path, sizeof(s->path)) != 0) {
        snprintf(why, sizeof(why), "path too long");
        rc = SQLITE_CANTOPEN;
    } else if (previous_store_left(s->path, why, sizeof(why))) {
        rc = SQLITE_CANTOPEN;
    } else {
        rc = sqlite3_open_v2(s->path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_extended_result_codes(s->db, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(s->db, busy_timeout_ms);
    /* migrate() first: it refuses a file that is not ours before anything
     * (such as the journal mode kept in the header) is written to it. */
    if (rc == SQLITE_OK)
        rc = migrate(s->db, why, sizeof(why));
    /* WAL + synchronous=NORMAL: a committed write survives a killed process
     * (not a power loss), readers never block the writer. */
    if (rc == SQLITE_OK)
        rc = set_wal(s->db, busy_timeout_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = keep_wal(s->db);
    for (int i = 0; rc == SQLITE_OK && i < ST_COUNT_IDS; i++)
        rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                                NULL);
    /* One read now opens this handle's WAL (and -shm), which SQLite cannot
     * do once the database file is gone: every handle then reads the same
     * way if it is removed later, while writes are refused. */
    if (rc == SQLITE_OK && (rc = step_reset(s, s->st[ST_PING])) == SQLITE_DONE)
        rc = SQLITE_OK;
    /* The identity writes are checked against: the file as it is now open. */
    if (rc == SQLITE_OK && stat(s->path, &st) != 0) {
        snprintf(why, sizeof(why), "the file vanished while it was opened");
        rc = SQLITE_CANTOPEN;
    }
    if (rc != SQLITE_OK) {
        enum cl_err e = (rc & 0xff) == SQLITE_NOMEM ? CL_NOMEM : CL_STORAGE;
        if (err && errlen)
            snprintf(err, errlen, "cannot open SQLite store '%s': %s", path,
                     why[0] ? why : (s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc)));
        sq_close(&s->base);
        return e;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    for (int i = 0; i < 2; i++) {
        char side[PATH_MAX + 8];
        snprintf(side, sizeof(side), "%s%s", s->path, side_names[i]);
        s->have_side[i] = stat(side, &s->side[i]) == 0;
    }
    *out = &s->base;
    return CL_OK;
}
