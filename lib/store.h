/* store.h - the storage interface: a table of operations any backend fills in.
 *
 * Threading: a store handle belongs to one thread at a time.  Open one
 * handle per thread (the worker does); the library keeps no global state, so
 * handles in different threads or processes never share anything but the
 * underlying database, which serialises writers itself.
 *
 * One door: the data operations are called by the library's managers alone
 * (manager.c for clients and the audit trail, accounts.c for users, tokens
 * and sessions), after they have validated their input and computed what
 * must be the same on every backend: times, the folded search and sort keys
 * (fold.h), the ISO birth date, the audit's "changes".  Backends store and
 * compare bytes (SQLite: BINARY, NOCASE for the ASCII mail key; PostgreSQL:
 * COLLATE "C"), so every backend finds and orders alike.  The handle's life
 * and health go through the store_* functions below.  Nothing else calls
 * s->ops.
 *
 * Every change is one transaction that writes its audit row too: it is
 * either entirely done, audit included, or not at all.  Between begin() and
 * commit() the changes of one handle share one transaction (an import is
 * all-or-nothing); outside, each is its own. */
#ifndef CLIENTES_STORE_H
#define CLIENTES_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"
#include "client.h"
#include "error.h"

/* ---- what travels between the managers and a backend ---------------- */

/* Times are text, RFC 3339 in UTC with milliseconds, made by the library:
 * "2026-12-01T11:35:09.123Z".  They sort as they read. */
#define STORE_TIME_LEN 24

/* What the store keeps about a record besides its five fields. */
struct client_meta {
    char creado[STORE_TIME_LEN + 1];
    char modificado[STORE_TIME_LEN + 1];
    /* The row version: set at every change from a counter of the whole
     * store (SQLite: a row of its own; PostgreSQL: a sequence), so it is
     * never reused, not even by a record deleted and added again.  The
     * strong ETag of the /v1 API is "\"<version>\"". */
    long long version;
};

/* The columns a backend keeps to search, sort and filter, computed by the
 * manager from the record (manager.h, client_keys_of()). */
struct client_keys {
    char mail_key[CLIENT_MAIL_CAP];           /* the mail, ASCII lower case */
    char fecha_iso[11];                       /* the birth date as YYYY-MM-DD */
    char nombre_key[CLIENT_NOMBRE_CAP];       /* fold_text(nombre) */
    char apellidos_key[CLIENT_APELLIDOS_CAP]; /* fold_text(apellidos) */
    /* nombre_key " " apellidos_key " " mail_key: what `q` searches in */
    char search[CLIENT_NOMBRE_CAP + CLIENT_APELLIDOS_CAP + CLIENT_MAIL_CAP + 2];
};

/* Who makes the changes of a handle (store_set_actor()); strings borrowed. */
struct audit_actor {
    const char *actor;       /* "user:ana", "token:12 (ci)", "cli", "anonymous" */
    const char *request_id;  /* may be NULL */
    const char *client_addr; /* may be NULL */
};

/* One audit row to write, with the change it records.  The store adds the
 * id, and the actor, request id and address of the handle's actor.  Where
 * an operation takes one, a NULL entry writes no row (the managers always
 * give one, but for the plain writes the operations name). */
struct audit_entry {
    const char *at;         /* STORE_TIME_LEN, made by the manager */
    const char *action;     /* "client.create" "client.update" "client.delete"
                               "client.erase" "login.ok" "login.fail" "logout"
                               "user.create" "user.password" "user.role"
                               "user.disable" "user.enable" "token.create"
                               "token.revoke" */
    const char *target;     /* the client's mail as given, a user name,
                               "token:<id>"; NULL for none */
    const char *target_key; /* the client's mail_key, for its history; else NULL */
    /* A JSON object of what changed, field -> [old, new] (null for "none":
     * [null,"Ana"] on create, ["Ana",null] on delete); NULL when nothing. */
    const char *changes;
};

/* An audit row as read back.  Strings are valid during the callback only;
 * NULL for none (an erased client's rows have no target and no changes). */
struct audit_view {
    long long id; /* increasing with time */
    const char *at, *actor, *action, *target, *changes, *request_id, *client_addr;
};
typedef int (*audit_walk_fn)(const struct audit_view *row, void *ctx);

/* Which audit rows, newest first (but see oldest_first).  Every filter is
 * optional (NULL / 0). */
struct audit_query {
    const char *target_key; /* one client's rows (its history) */
    const char *actor;      /* exact */
    const char *action;     /* exact, or a prefix when it ends with '.' ("client.") */
    const char *since;      /* at >= since (a prefix of an RFC 3339 time works: "2026-12-01") */
    long long before_id;    /* keyset: rows with id < before_id; 0 = from the newest */
    int limit;              /* 1..1000 rows */
    /* Oldest first instead (an export reads the trail in the order it was
     * written): rows with id > after_id; before_id must be 0. */
    bool oldest_first;
    long long after_id;
};

enum client_sort {
    SORT_MAIL = 0,   /* mail_key */
    SORT_NOMBRE,     /* nombre_key, then mail_key */
    SORT_APELLIDOS,  /* apellidos_key, then mail_key */
    SORT_FECHA,      /* fecha_iso, then mail_key */
    SORT_CREADO,     /* creado, then mail_key */
    SORT_MODIFICADO  /* modificado, then mail_key */
};

/* A page (or a whole walk) of clients.  Keyset, never offset: the cost of a
 * page does not depend on its position. */
struct client_query {
    const char *search;      /* folded needle (fold_text of the user's q): rows
                                whose keys.search contains it; NULL = all.  The
                                backend escapes LIKE's wildcards itself */
    const char *fecha_desde; /* fecha_iso >= this (YYYY-MM-DD), or NULL */
    const char *fecha_hasta; /* fecha_iso <= this, or NULL; a record whose
                                fecha_iso is "" (a date of no known shape,
                                stored under an older rule) is in no range */
    enum client_sort sort;
    bool desc;               /* descending, ties by mail_key descending too */
    bool backward;           /* the page *before* the cursor: rows come in the
                                opposite order, nearest first (the caller
                                flips them for "anteriores") */
    const char *after_value; /* cursor: the sort column's value of the last row
                                seen (NULL with SORT_MAIL); */
    const char *after_key;   /* and its mail_key; NULL = from the start */
    int limit;               /* rows; 0 = all of them (a walk: the backend reads
                                them in short pages, so no statement runs long
                                while a slow reader is fed) */
    bool fields_only;        /* the five fields are all the caller needs (the
                                legacy walk): the backend may leave the meta
                                of the rows it hands over zeroed */
};

/* Called per row of a list, in the query's order; c and m valid during the
 * call.  Return 0 to go on, non-zero to stop (the list then returns CL_OK).
 * The callback must not use the store being walked. */
typedef int (*client_list_fn)(const struct client *c, const struct client_meta *m, void *ctx);

/* The legacy walk: every client in mail order (see client_list_fn). */
typedef int (*store_walk_fn)(const struct client *c, void *ctx);

#define USER_NAME_MAX 64
#define TOKEN_LABEL_MAX 64

struct user {
    long long id;
    char name[USER_NAME_MAX + 1];      /* [a-z0-9._@-], 1..64 (accounts.c checks) */
    char pwhash[ACCOUNT_HASH_CAP];
    enum role role;
    bool disabled;
    int fail_count;                    /* failed logins in the current window */
    long long fail_since;              /* unix time the window opened; 0 none */
    char creado[STORE_TIME_LEN + 1];
};

struct token {
    long long id;
    char label[TOKEN_LABEL_MAX + 1];
    char digest[SECRET_DIGEST_LEN + 1]; /* secret_digest() of the token: all that is kept */
    enum role role;                     /* never above its owner's */
    long long user_id;                  /* owner; 0 = made by the operator (clientes-admin) */
    char owner[USER_NAME_MAX + 1];      /* read back: the owner's name, "" for the operator */
    bool owner_disabled;                /* read back: a disabled owner's tokens stop working */
    enum role owner_role;               /* read back: the owner's role today (ROLE_NONE: none) */
    char creado[STORE_TIME_LEN + 1];
    long long expires;                  /* unix time; 0 never */
    long long revoked;                  /* unix time; 0 not revoked */
    long long last_used;                /* unix time; 0 never */
};

struct session {
    char digest[SECRET_DIGEST_LEN + 1]; /* secret_digest() of the cookie's id */
    long long user_id;
    long long created, last_seen;       /* unix times */
};

struct store;

/* What a backend implements.  Mails passed in are already valid keys;
 * lookups by mail are case-insensitive (ASCII).  Unless said otherwise an
 * operation returns CL_OK, CL_BUSY (a lock or the server unavailable: try
 * again), CL_STORAGE (an operator must act) or CL_NOMEM. */
struct store_ops {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(struct store *s);
    enum cl_err (*ping)(struct store *s);
    /* See store_ready(). */
    enum cl_err (*ready)(struct store *s, const char **reason);

    /* A transaction spanning the changes that follow on this handle, until
     * commit or rollback (no nesting: CL_INVALID). */
    enum cl_err (*begin)(struct store *s);
    enum cl_err (*commit)(struct store *s);
    enum cl_err (*rollback)(struct store *s);

    /* ---- clients ---- */
    /* meta may be NULL.  CL_NOT_FOUND when no client has that mail. */
    enum cl_err (*get)(struct store *s, const char *mail, struct client *out,
                       struct client_meta *meta);
    /* Stores c with creado = modificado = now and a new version (in *out);
     * CL_EXISTS when the mail is taken (nothing written).  a: its audit row. */
    enum cl_err (*add)(struct store *s, const struct client *c, const struct client_keys *k,
                       const char *now, const struct audit_entry *a, struct client_meta *out);
    /* Replaces every field but the mail (and its keys) of the client with
     * c->mail, only if its version is still expect_version; modificado =
     * now, a new version in *out.  CL_NOT_FOUND, CL_CONFLICT. */
    enum cl_err (*update)(struct store *s, const struct client *c, const struct client_keys *k,
                          long long expect_version, const char *now,
                          const struct audit_entry *a, struct client_meta *out);
    /* Deletes the client with that mail if its version is expect_version.
     * CL_NOT_FOUND, CL_CONFLICT.  With expect_version -1 and a NULL `a` it
     * deletes nothing and writes nothing: the manager's probe, for a change
     * asked of a record it did not find, that the store would take a write
     * (CL_NOT_FOUND, CL_CONFLICT when the record appeared meanwhile, or what
     * refuses writes: CL_STORAGE for a removed or read-only file). */
    enum cl_err (*del)(struct store *s, const char *mail, long long expect_version,
                       const struct audit_entry *a);
    /* Deletes the client with that mail_key if there is one, and clears the
     * target, target_key and changes of every audit row of that mail_key
     * (the only change an audit row ever undergoes), then writes `a`, which
     * holds no personal data.  CL_OK even when there was no such client. */
    enum cl_err (*erase)(struct store *s, const char *mail_key, const struct audit_entry *a);
    enum cl_err (*count)(struct store *s, const struct client_query *q, long long *n);
    enum cl_err (*list)(struct store *s, const struct client_query *q, client_list_fn fn,
                        void *ctx);

    /* ---- the audit trail ---- */
    /* An audit row on its own (logins, logouts): one transaction. */
    enum cl_err (*audit_add)(struct store *s, const struct audit_entry *a);
    enum cl_err (*audit_list)(struct store *s, const struct audit_query *q, audit_walk_fn fn,
                              void *ctx);
    /* Deletes the rows older than `before` (a time); *deleted how many.
     * Rows of the last day are kept whatever `before` says (the trail is
     * append-only: the database refuses younger deletions), and a backend
     * may keep the newest row (SQLite does: its ids continue from it). */
    enum cl_err (*audit_prune)(struct store *s, const char *before, long long *deleted);

    /* ---- users ---- */
    /* Stores u (its id is set; an empty creado is set to now); CL_EXISTS
     * when the name is taken; CL_INVALID for ROLE_NONE. */
    enum cl_err (*user_add)(struct store *s, struct user *u, const struct audit_entry *a);
    /* By name (exact), or by id: CL_NOT_FOUND. */
    enum cl_err (*user_get)(struct store *s, const char *name, struct user *out);
    enum cl_err (*user_get_id)(struct store *s, long long id, struct user *out);
    /* Writes pwhash, role and disabled of the user with u->id; CL_NOT_FOUND. */
    enum cl_err (*user_update)(struct store *s, const struct user *u, const struct audit_entry *a);
    /* Records a login's outcome: fail_count and fail_since as given, and `a`
     * (login.ok or login.fail) in the same transaction. */
    enum cl_err (*user_login)(struct store *s, long long id, int fail_count, long long fail_since,
                              const struct audit_entry *a);
    /* Every user, by name. */
    enum cl_err (*user_list)(struct store *s, int (*fn)(const struct user *u, void *ctx),
                             void *ctx);
    enum cl_err (*user_count)(struct store *s, long long *n);

    /* ---- API tokens ---- */
    /* Stores t (its id is set; an empty creado is set to now); the digest
     * is unique (CL_EXISTS); CL_INVALID for ROLE_NONE. */
    enum cl_err (*token_add)(struct store *s, struct token *t, const struct audit_entry *a);
    /* By digest, with its owner's name and state; CL_NOT_FOUND. */
    enum cl_err (*token_find)(struct store *s, const char *digest, struct token *out);
    /* last_used = now (a plain write, no audit row); CL_NOT_FOUND. */
    enum cl_err (*token_touch)(struct store *s, long long id, long long now);
    /* revoked = now; CL_NOT_FOUND (also when already revoked). */
    enum cl_err (*token_revoke)(struct store *s, long long id, long long now,
                                const struct audit_entry *a);
    /* Every token, by id (their digests included; never shown). */
    enum cl_err (*token_list)(struct store *s, int (*fn)(const struct token *t, void *ctx),
                              void *ctx);

    /* ---- browser sessions ---- */
    enum cl_err (*session_add)(struct store *s, const struct session *se,
                               const struct audit_entry *a);
    /* By digest, with its user (who may be disabled: the caller decides). */
    enum cl_err (*session_find)(struct store *s, const char *digest, struct session *out,
                                struct user *user);
    /* last_seen = now (a plain write); CL_NOT_FOUND. */
    enum cl_err (*session_touch)(struct store *s, const char *digest, long long now);
    /* CL_NOT_FOUND when there is none; a may be NULL (an expired session). */
    enum cl_err (*session_delete)(struct store *s, const char *digest,
                                  const struct audit_entry *a);
    /* Deletes the sessions idle since before idle_before or created before
     * created_before, and those of disabled users. */
    enum cl_err (*session_prune)(struct store *s, long long idle_before, long long created_before,
                                 long long *deleted);
};

/* The part every backend's handle starts with. */
struct store {
    const struct store_ops *ops;
    char errmsg[256]; /* detail of the last failure, for logs */
    /* Who the changes made through this handle are made by, until the next
     * store_set_actor(); NULL fields are "cli", no request, no address. */
    struct audit_actor actor;
};

/* Opens the store named by `url`:
 *   sqlite:///abs/path.db   sqlite://relative/path.db   /a/bare/path.db   relative.db
 *   postgres://user:password@host:port/db?sslmode=require   (or postgresql://)
 * An optional `?busy_timeout=MS` sets how long a SQLite writer waits for the
 * lock.  A SQLite file that does not exist is created with the current
 * schema and the one example client, unless a sign of a previous store is
 * left next to it (its -wal, -shm or -journal file): then the store was
 * removed, and the open is refused rather than start over empty.  An
 * existing store is migrated if older (never re-seeded), and refused if
 * newer than this program.
 * On success returns CL_OK and *out owns a handle the caller frees with
 * store_close().  On failure returns CL_STORAGE (or CL_NOMEM, CL_INVALID for a
 * URL it cannot use, CL_BUSY for a server that cannot be reached just now),
 * sets *out to NULL and writes a message into err (at most errlen bytes,
 * NUL-terminated) when err is not NULL.  The message may name the database
 * file or host but never repeats the URL: a server's URL carries its
 * password. */
enum cl_err store_open(const char *url, struct store **out, char *err, size_t errlen);

/* The file of a SQLite `url` (sqlite://PATH or a bare PATH, without its
 * ?options) into out (len bytes): 0, or -1 for a URL of another backend, no
 * path, or too long a one. */
int store_sqlite_path(const char *url, char *out, size_t len);

/* Closes a handle; accepts NULL. */
void store_close(struct store *s);

/* The detail of the last failure on `s` ("" when none), in English, for
 * logs; valid until the next call on the same handle. */
const char *store_errmsg(const struct store *s);

/* Whether the store can serve: it answers a read, and a write would not be
 * refused for a reason that waiting cannot cure (its file removed or
 * replaced since the open, read-only, the disk full; the server refusing
 * us).  Returns CL_OK; CL_BUSY when the read waited out its lock or the
 * server is unreachable just now (transient); CL_STORAGE when an operator
 * must act; CL_NOMEM.  On failure *reason (when reason is not NULL) is a
 * static Spanish phrase for the client ("disco lleno") and store_errmsg()
 * has the detail. */
enum cl_err store_ready(struct store *s, const char **reason);

/* Sets who the following changes through `s` are made by (copied by
 * reference: the strings must outlive their use, e.g. one request).  NULL
 * resets to the operator ("cli"). */
void store_set_actor(struct store *s, const struct audit_actor *who);

#endif
