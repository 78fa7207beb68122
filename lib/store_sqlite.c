/* store_sqlite.c - the default backend: one SQLite file in WAL mode.  This
 * file: opening, health, transactions and the helpers the backend's other
 * files share (store_sqlite_int.h). */
#include "store_sqlite.h"
#include "store_sqlite_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/statvfs.h>
#include <unistd.h>

static const char *const stmt_sql[SQ_NSTMT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT change",
    [SQ_RELEASE] = "RELEASE change",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO change",
    [SQ_PING] = "SELECT 1 FROM clients LIMIT 1",
    [SQ_DATA_VERSION] = "PRAGMA data_version",
    [SQ_NEXT_VERSION] = "UPDATE version_counter SET value = value + 1 WHERE id = 1"
                        " RETURNING value",
    /* LEFT JOIN: a row written behind the library's back has no meta */
    [SQ_GET] = "SELECT c.mail, c.nombre, c.apellidos, c.fecha_nacimiento, c.direccion,"
               " coalesce(m.creado, ''), coalesce(m.modificado, ''), c.version"
               " FROM clients c LEFT JOIN client_meta m ON m.mail = c.mail WHERE c.mail = ?1",
    [SQ_GET_FIELDS] = "SELECT mail, nombre, apellidos, fecha_nacimiento, direccion FROM clients"
                      " WHERE mail = ?1",
    [SQ_VERSION_OF] = "SELECT version FROM clients WHERE mail = ?1",
    [SQ_ADD] = "INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, direccion, version)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_ADD_META] = "INSERT INTO client_meta(mail, creado, modificado, fecha_iso, nombre_key,"
                    " apellidos_key, search) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6)",
    [SQ_UPDATE] = "UPDATE clients SET nombre = ?2, apellidos = ?3, fecha_nacimiento = ?4,"
                  " direccion = ?5, version = ?6 WHERE mail = ?1 AND version = ?7",
    /* an upsert: a row without meta (see SQ_GET) gets it at its first change */
    [SQ_UPDATE_META] = "INSERT INTO client_meta(mail, creado, modificado, fecha_iso, nombre_key,"
                       " apellidos_key, search) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6)"
                       " ON CONFLICT(mail) DO UPDATE SET modificado = excluded.modificado,"
                       " fecha_iso = excluded.fecha_iso, nombre_key = excluded.nombre_key,"
                       " apellidos_key = excluded.apellidos_key, search = excluded.search"
                       " RETURNING creado",
    [SQ_DEL] = "DELETE FROM clients WHERE mail = ?1 AND version = ?2",
    [SQ_DEL_META] = "DELETE FROM client_meta WHERE mail = ?1",
    [SQ_ERASE_CLIENT] = "DELETE FROM clients WHERE mail = ?1",
    [SQ_ERASE_AUDIT] = "UPDATE audit SET target = NULL, target_key = NULL, changes = NULL"
                       " WHERE target_key = ?1",
    [SQ_AUDIT_ADD] = "INSERT INTO audit(at, actor, action, target, target_key, changes,"
                     " request_id, client_addr) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    /* The rows before the first that is recent enough (times grow with ids:
     * a scan of the old rows only), never the newest (see the schema). */
    [SQ_AUDIT_PRUNE] = "DELETE FROM audit WHERE id < coalesce("
                       "(SELECT id FROM audit WHERE at >= ?1 ORDER BY id LIMIT 1),"
                       " (SELECT max(id) FROM audit))",
#define USER_COLS "id, name, pwhash, role, disabled, fail_count, fail_since, creado"
    [SQ_USER_ADD] = "INSERT INTO users(name, pwhash, role, disabled, fail_count, fail_since,"
                    " creado) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQ_USER_GET] = "SELECT " USER_COLS " FROM users WHERE name = ?1",
    [SQ_USER_GET_ID] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [SQ_USER_UPDATE] = "UPDATE users SET pwhash = ?2, role = ?3, disabled = ?4 WHERE id = ?1",
    [SQ_USER_LOGIN] = "UPDATE users SET fail_count = ?2, fail_since = ?3 WHERE id = ?1",
    [SQ_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY name",
    [SQ_USER_COUNT] = "SELECT count(*) FROM users",
#define TOKEN_COLS                                                                           \
    "t.id, t.label, t.digest, t.role, coalesce(t.user_id, 0), coalesce(u.name, ''),"         \
    " coalesce(u.disabled, 0), t.creado, t.expires, t.revoked, t.last_used,"                 \
    " coalesce(u.role, '')"                                                                   \
    " FROM tokens t LEFT JOIN users u ON u.id = t.user_id"
    [SQ_TOKEN_ADD] = "INSERT INTO tokens(label, digest, role, user_id, creado, expires, revoked,"
                     " last_used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [SQ_TOKEN_FIND] = "SELECT " TOKEN_COLS " WHERE t.digest = ?1",
    [SQ_TOKEN_TOUCH] = "UPDATE tokens SET last_used = ?2 WHERE id = ?1",
    [SQ_TOKEN_REVOKE] = "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked = 0",
    [SQ_TOKEN_LIST] = "SELECT " TOKEN_COLS " ORDER BY t.id",
    [SQ_SESSION_ADD] = "INSERT INTO sessions(digest, user_id, created, last_seen)"
                       " VALUES (?1, ?2, ?3, ?4)",
    [SQ_SESSION_FIND] = "SELECT s.digest, s.user_id, s.created, s.last_seen, u.id, u.name,"
                        " u.pwhash, u.role, u.disabled, u.fail_count, u.fail_since, u.creado"
                        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = ?1",
    [SQ_SESSION_TOUCH] = "UPDATE sessions SET last_seen = ?2 WHERE digest = ?1",
    [SQ_SESSION_DELETE] = "DELETE FROM sessions WHERE digest = ?1",
    [SQ_SESSION_PRUNE] = "DELETE FROM sessions WHERE last_seen < ?1 OR created < ?2"
                         " OR user_id IN (SELECT id FROM users WHERE disabled <> 0)",
};

/* Below this much free space for unprivileged users on the file's disk the
 * store is not ready: a write is about to fail with "disk full". */
#define MIN_FREE_BYTES (64 * 1024)
/* The WAL is cut back to this size after a checkpoint, and to nothing when
 * the last handle closes (it stays, empty: see keep_wal()). */
#define WAL_SIZE_LIMIT (64 * 1024 * 1024)

/* The companions of the database file, in struct sqlite_store's side[]. */
static const char *const side_names[2] = {"-wal", "-shm"};

void sq_record(struct sqlite_store *s, int rc)
{
    snprintf(s->base.errmsg, sizeof(s->base.errmsg), "sqlite: %s (%d)", sqlite3_errmsg(s->db),
             rc);
}

enum cl_err sq_map(int rc)
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

sqlite3_stmt *sq_cached(struct sqlite_store *s, sqlite3_stmt **slot, const char *sql)
{
    int rc;

    if (*slot)
        return *slot;
    rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
    if (rc != SQLITE_OK) {
        sq_record(s, rc);
        *slot = NULL;
    }
    return *slot;
}

sqlite3_stmt *sq_stmt(struct sqlite_store *s, enum sq_stmt id)
{
    return sq_cached(s, &s->st[id], stmt_sql[id]);
}

int sq_run(struct sqlite_store *s, sqlite3_stmt *st)
{
    int rc;

    if (!st)
        return sqlite3_errcode(s->db) ? sqlite3_extended_errcode(s->db) : SQLITE_ERROR;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = SQLITE_DONE;
    if (rc != SQLITE_DONE)
        sq_record(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

void sq_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void sq_copy_col(sqlite3_stmt *st, int col, char *dst, size_t cap)
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

/* The writer gate.  SQLite lets one writer at a time have a file; the
 * others learn it from SQLITE_BUSY and its busy handler puts them to sleep
 * (1, 2, 5 ... 100 ms), long after the lock is free again: under concurrent
 * writes from the worker's threads that made the writes' p99 tens of
 * milliseconds for commits of well under one.  So the handles of one file
 * in one process (found by its device and inode) queue on one mutex before
 * BEGIN IMMEDIATE, and the next writer wakes the moment the last one
 * commits.  The wait is bounded by the handle's busy_timeout, as SQLite's
 * own is (CL_BUSY: a 503).  Other processes (clientes-admin) still meet the
 * busy handler. */
struct sq_gate {
    dev_t dev;
    ino_t ino;
    int refs;
    pthread_mutex_t mu;
};

#define SQ_GATES 64
static pthread_mutex_t gates_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sq_gate *gates[SQ_GATES];

/* The gate of the file (dev, ino), made on its first handle; NULL when the
 * table is full or memory is short (the handle then relies on SQLite's
 * busy handler alone). */
static struct sq_gate *gate_get(dev_t dev, ino_t ino)
{
    struct sq_gate *g = NULL;
    int free_slot = -1;

    pthread_mutex_lock(&gates_mu);
    for (int i = 0; i < SQ_GATES && !g; i++) {
        if (gates[i] && gates[i]->dev == dev && gates[i]->ino == ino)
            g = gates[i];
        else if (!gates[i] && free_slot < 0)
            free_slot = i;
    }
    if (!g && free_slot >= 0 && (g = calloc(1, sizeof(*g)))) {
        g->dev = dev;
        g->ino = ino;
        pthread_mutex_init(&g->mu, NULL);
        gates[free_slot] = g;
    }
    if (g)
        g->refs++;
    pthread_mutex_unlock(&gates_mu);
    return g;
}

static void gate_put(struct sq_gate *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&gates_mu);
    if (--g->refs == 0) {
        for (int i = 0; i < SQ_GATES; i++)
            if (gates[i] == g)
                gates[i] = NULL;
        pthread_mutex_destroy(&g->mu);
        free(g);
    }
    pthread_mutex_unlock(&gates_mu);
}

/* Before BEGIN IMMEDIATE: CL_OK with the gate held (or there is none), or
 * CL_BUSY after busy_timeout. */
static enum cl_err gate_enter(struct sqlite_store *s)
{
    struct timespec until;

    if (!s->gate)
        return CL_OK;
    if (pthread_mutex_trylock(&s->gate->mu) != 0) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->busy_ms / 1000;
        until.tv_nsec += (long)(s->busy_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_mutex_timedlock(&s->gate->mu, &until) != 0) {
            snprintf(s->base.errmsg, sizeof(s->base.errmsg),
                     "sqlite: another writer of this process kept the file for %d ms",
                     s->busy_ms);
            return CL_BUSY;
        }
    }
    s->gated = true;
    return CL_OK;
}

/* After COMMIT or ROLLBACK: the transaction is over either way. */
static void gate_leave(struct sqlite_store *s)
{
    if (s->gated) {
        s->gated = false;
        pthread_mutex_unlock(&s->gate->mu);
    }
}

/* BEGIN IMMEDIATE behind the gate. */
static enum cl_err sq_begin_immediate(struct sqlite_store *s)
{
    enum cl_err e = gate_enter(s);

    if (e)
        return e;
    if ((e = sq_map(sq_run(s, sq_stmt(s, SQ_BEGIN)))))
        gate_leave(s);
    return e;
}

enum cl_err sq_write_begin(struct sqlite_store *s)
{
    s->base.errmsg[0] = '\0';
    if (sq_check_identity(s, NULL))
        return CL_STORAGE;
    if (!s->in_txn)
        return sq_begin_immediate(s);
    return sq_map(sq_run(s, sq_stmt(s, SQ_SAVEPOINT)));
}

/* Undoes the change in progress: the savepoint, or the whole transaction.
 * SQLite may have rolled the transaction back itself (disk full, I/O): then
 * there is nothing left to undo. */
static void undo(struct sqlite_store *s)
{
    if (sqlite3_get_autocommit(s->db))
        return;
    if (s->in_txn) {
        sqlite3_step(sq_stmt(s, SQ_ROLLBACK_TO));
        sqlite3_reset(s->st[SQ_ROLLBACK_TO]);
        sqlite3_step(sq_stmt(s, SQ_RELEASE));
        sqlite3_reset(s->st[SQ_RELEASE]);
    } else {
        sqlite3_step(sq_stmt(s, SQ_ROLLBACK));
        sqlite3_reset(s->st[SQ_ROLLBACK]);
    }
}

enum cl_err sq_write_end(struct sqlite_store *s, enum cl_err err)
{
    s->commits++; /* committed or not: what this handle kept may be stale */
    if (err == CL_OK) {
        int rc = sq_run(s, sq_stmt(s, s->in_txn ? SQ_RELEASE : SQ_COMMIT));
        if ((err = sq_map(rc)) == CL_OK) {
            if (!s->in_txn)
                gate_leave(s);
            return CL_OK;
        }
    }
    /* keep the first failure's detail: the undo's statements may overwrite it */
    char keep[sizeof(s->base.errmsg)];
    memcpy(keep, s->base.errmsg, sizeof(keep));
    undo(s);
    memcpy(s->base.errmsg, keep, sizeof(keep));
    if (!s->in_txn)
        gate_leave(s);
    return err;
}

enum cl_err sq_next_version(struct sqlite_store *s, long long *v)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_NEXT_VERSION);
    int rc;

    if (!st)
        return CL_STORAGE;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    else
        sq_record(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CL_OK : rc == SQLITE_DONE ? CL_STORAGE : sq_map(rc);
}

enum cl_err sq_audit_insert(struct sqlite_store *s, const struct audit_entry *a)
{
    sqlite3_stmt *st;
    const struct audit_actor *who = &s->base.actor;

    if (!a)
        return CL_OK;
    if (!(st = sq_stmt(s, SQ_AUDIT_ADD)))
        return CL_STORAGE;
    sq_bind_text(st, 1, a->at);
    sq_bind_text(st, 2, who->actor ? who->actor : "cli");
    sq_bind_text(st, 3, a->action);
    sq_bind_text(st, 4, a->target);
    sq_bind_text(st, 5, a->target_key);
    sq_bind_text(st, 6, a->changes);
    sq_bind_text(st, 7, who->request_id);
    sq_bind_text(st, 8, who->client_addr);
    return sq_map(sq_run(s, st));
}

void sq_scrub(struct sqlite_store *s)
{
    int rc = sqlite3_wal_checkpoint_v2(s->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

    /* a reader's snapshot keeps the WAL: the next erase or close finishes */
    s->erased = rc != SQLITE_OK;
}

static enum cl_err sq_ping(struct store *base)
{
    struct sqlite_store *s = sq_of(base);

    s->base.errmsg[0] = '\0';
    return sq_map(sq_run(s, sq_stmt(s, SQ_PING)));
}

static enum cl_err sq_begin(struct store *base)
{
    struct sqlite_store *s = sq_of(base);
    enum cl_err e;

    s->base.errmsg[0] = '\0';
    if (s->in_txn) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg), "a transaction is already open");
        return CL_INVALID;
    }
    if (sq_check_identity(s, NULL))
        return CL_STORAGE;
    if ((e = sq_begin_immediate(s)) == CL_OK)
        s->in_txn = true;
    return e;
}

static enum cl_err sq_end_txn(struct store *base, bool commit)
{
    struct sqlite_store *s = sq_of(base);
    enum cl_err e = CL_OK;

    s->base.errmsg[0] = '\0';
    if (!s->in_txn) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg), "no transaction is open");
        return CL_INVALID;
    }
    s->in_txn = false;
    s->commits++;
    if (sqlite3_get_autocommit(s->db)) {
        /* SQLite rolled it back on its own (disk full, I/O error) */
        snprintf(s->base.errmsg, sizeof(s->base.errmsg),
                 "sqlite: the transaction was rolled back by a failure inside it");
        s->erased = false;
        gate_leave(s);
        return commit ? CL_STORAGE : CL_OK;
    }
    if (commit)
        e = sq_map(sq_run(s, sq_stmt(s, SQ_COMMIT)));
    if (!commit || e) {
        char keep[sizeof(s->base.errmsg)];
        memcpy(keep, s->base.errmsg, sizeof(keep));
        sqlite3_step(sq_stmt(s, SQ_ROLLBACK));
        sqlite3_reset(s->st[SQ_ROLLBACK]);
        memcpy(s->base.errmsg, keep, sizeof(keep));
        s->erased = false;
    }
    gate_leave(s);
    if (s->erased)
        sq_scrub(s);
    return e;
}

static enum cl_err sq_commit(struct store *base)
{
    return sq_end_txn(base, true);
}

static enum cl_err sq_rollback(struct store *base)
{
    return sq_end_txn(base, false);
}

/* Whether s->path is still the file this handle opened.  A file removed (or
 * replaced by another, e.g. a restored copy moved over it) while the
 * service runs would otherwise take writes that no later start sees: the
 * handle keeps writing into the old, unnamed inode.  Returns CL_OK, or
 * CL_STORAGE with the detail recorded (and *reason, when not NULL). */
enum cl_err sq_check_identity(struct sqlite_store *s, const char **reason)
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
    struct sqlite_store *s = sq_of(base);
    const char *why = NULL;
    enum cl_err e;
    int rc;

    s->base.errmsg[0] = '\0';
    rc = sq_run(s, sq_stmt(s, SQ_PING));
    if ((e = sq_map(rc))) {
        if (e == CL_BUSY)
            why = "la base de datos esta bloqueada";
        else if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
            why = "la base de datos esta danada";
        else
            why = "la base de datos no responde a una lectura";
    } else if (!(e = sq_check_identity(s, &why))) {
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
    struct sqlite_store *s = sq_of(base);

    if (s->in_txn && s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    gate_leave(s);
    gate_put(s->gate);
    if (s->erased) /* an erasure's WAL copies that a reader kept: now, if it let go */
        sqlite3_wal_checkpoint_v2(s->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    for (int i = 0; i < SQ_NSTMT; i++)
        sqlite3_finalize(s->st[i]);
    for (int i = 0; i < SQ_LIST_SHAPES; i++)
        sqlite3_finalize(s->list_st[i]);
    for (int i = 0; i < SQ_COUNT_SHAPES; i++)
        sqlite3_finalize(s->count_st[i]);
    for (int i = 0; i < SQ_AUDIT_SHAPES; i++)
        sqlite3_finalize(s->audit_st[i]);
    sqlite3_close(s->db);
    if (s->have_side[0])
        set_aside_replaced(s);
    free(s->page);
    free(s);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .ping = sq_ping,
    .ready = sq_ready,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .get = sq_get,
    .add = sq_add,
    .update = sq_update,
    .del = sq_del,
    .erase = sq_erase,
    .count = sq_count,
    .list = sq_list,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
    .audit_prune = sq_audit_prune,
    .user_add = sq_user_add,
    .user_get = sq_user_get,
    .user_get_id = sq_user_get_id,
    .user_update = sq_user_update,
    .user_login = sq_user_login,
    .user_list = sq_user_list,
    .user_count = sq_user_count,
    .token_add = sq_token_add,
    .token_find = sq_token_find,
    .token_touch = sq_token_touch,
    .token_revoke = sq_token_revoke,
    .token_list = sq_token_list,
    .session_add = sq_session_add,
    .session_find = sq_session_find,
    .session_touch = sq_session_touch,
    .session_delete = sq_session_delete,
    .session_prune = sq_session_prune,
};

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
    /* sq_migrate() first: it refuses a file that is not ours before anything
     * (such as the journal mode kept in the header) is written to it. */
    if (rc == SQLITE_OK)
        rc = sq_migrate(s->db, why, sizeof(why));
    /* WAL + synchronous=NORMAL: a committed write survives a killed process
     * (not a power loss), readers never block the writer. */
    if (rc == SQLITE_OK)
        rc = set_wal(s->db, busy_timeout_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = keep_wal(s->db);
    /* Deleted and overwritten values are zeroed in the file, not left in
     * its free space: an erased client's data must not stay readable. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
    /* One read now opens this handle's WAL (and -shm), which SQLite cannot
     * do once the database file is gone: every handle then reads the same
     * way if it is removed later, while writes are refused. */
    if (rc == SQLITE_OK && (rc = sq_run(s, sq_stmt(s, SQ_PING))) == SQLITE_DONE)
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
    s->busy_ms = busy_timeout_ms;
    s->gate = gate_get(s->dev, s->ino);
    for (int i = 0; i < 2; i++) {
        char side[PATH_MAX + 8];
        snprintf(side, sizeof(side), "%s%s", s->path, side_names[i]);
        s->have_side[i] = stat(side, &s->side[i]) == 0;
    }
    *out = &s->base;
    return CL_OK;
}
