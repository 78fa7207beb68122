/* test_store_sqlite.c - what is the SQLite backend's own: the migration of a
 * real schema-2 file, the database's append-only audit rule, the bytes an
 * erasure leaves in the file, and the plans of the keyset pages. */
#include "accounts.h"
#include "store_fx.h"
#include "store_sqlite.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CLIENTES_TEST_DATA
#error "CLIENTES_TEST_DATA: the directory of tests/unit/data"
#endif

/* tests/unit/data/schema2.db was written by the library of schema 2 (the
 * commit before the schema-3 interface): a new store (the example), four
 * clients added and one updated through the manager, and two records the
 * old rules let in, written straight through the old store (a mail with a
 * quote, a name with a trailing space, a date in no known shape). */
static const char *const v2_rows[][5] = { /* nombre, apellidos, mail, fecha, direccion */
    {"Viejo ", "Antiguo", "a\"b@x.es", "1/1/1980", "Calle Vieja 1"},
    {"Ana", "lópez", "ana@example.com", "1990-03-04", "Plaza \"Nueva\" 2"},
    {"Jesus", "Mesa Gonzalez", "ejemplo@gmail.com", "29/06/1996", "Calle Paseo Moreras 39"},
    {"Íñigo", "Ibáñez", "INIGO@EXAMPLE.COM", "1/1/2000", "Avenida 7"},
    {"José", "Núñez Pérez", "Jose.Nunez@Example.ES", "8/09/1978", "Calle Mayor 1, 3º B"},
    {"Fecha", "Rara", "old@x.es", "01.02.1980", "Calle Vieja 2"},
    {"Zoë", "Ødegaard", "zoe@example.no", "29/02/1996", "Storgata 5"},
};
#define V2_N ((int)(sizeof(v2_rows) / sizeof(v2_rows[0])))

static void copy_fixture(struct fx *fx)
{
    unsigned char *buf;
    size_t len;
    char src[1024];

    snprintf(src, sizeof(src), "%s/schema2.db", CLIENTES_TEST_DATA);
    assert_int_equal(ts_read_file(src, &buf, &len), 0);
    assert_int_equal(ts_write_file(fx->path, buf, len), 0);
    free(buf);
    assert_int_equal(fx_sql_int(fx->path, "PRAGMA user_version"), 2);
}

/* Whether client_meta holds exactly k for mail (read behind the library). */
static bool meta_matches(const char *path, const char *mail, const struct client_keys *k)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    bool ok;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM client_meta WHERE mail = ?1"
                                        " AND nombre_key = ?2 AND apellidos_key = ?3"
                                        " AND fecha_iso = ?4 AND search = ?5",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, mail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->nombre_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->apellidos_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, k->fecha_iso, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, k->search, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

static int collect_mail(const struct client *c, const struct client_meta *m, void *ctx)
{
    char (*mails)[CLIENT_MAIL_CAP] = ctx;
    int i = 0;
    (void)m;
    while (mails[i][0])
        i++;
    snprintf(mails[i], CLIENT_MAIL_CAP, "%s", c->mail);
    return 0;
}

static void test_migrates_schema_2_file(void **state)
{
    struct fx *fx = *state;
    struct client got, c;
    struct client_meta m;
    char err[512] = "";

    copy_fixture(fx);
    assert_int_equal(store_open(fx->path, &fx->s, err, sizeof(err)), CL_OK);
    assert_int_equal(fx_sql_int(fx->path, "PRAGMA user_version"), 4);
    assert_int_equal(fx_count(fx->s), V2_N); /* the example is not seeded again */
    /* the total the triggers keep starts as the table's count */
    assert_int_equal(fx_sql_int(fx->path, "SELECT n FROM client_total"), V2_N);
    for (int i = 0; i < V2_N; i++) {
        struct client_keys k;
        /* every record as it was, byte for byte */
        enum cl_err e = manager_get_meta(fx->s, v2_rows[i][2], &got, &m, NULL);
        if (e != CL_OK)
            fail_msg("%s: %s", v2_rows[i][2], cl_strerror(e));
        assert_string_equal(got.nombre, v2_rows[i][0]);
        assert_string_equal(got.apellidos, v2_rows[i][1]);
        assert_string_equal(got.mail, v2_rows[i][2]);
        assert_string_equal(got.fecha_nacimiento, v2_rows[i][3]);
        assert_string_equal(got.direccion, v2_rows[i][4]);
        /* with times, and versions 1..n in mail order */
        fx_assert_time(m.creado);
        assert_string_equal(m.creado, m.modificado);
        assert_int_equal(m.version, i + 1);
        /* and its derived columns, as the library computes them */
        client_keys_of(&got, &k);
        assert_true(meta_matches(fx->path, got.mail, &k));
    }
    assert_int_equal(fx_sql_int(fx->path, "SELECT value FROM version_counter"), V2_N);
    assert_int_equal(fx_sql_int(fx->path, "SELECT count(*) FROM audit"), 0);
    assert_int_equal(fx_sql_int(fx->path, "SELECT count(*) FROM users"), 0);
    assert_int_equal(fx_sql_int(fx->path, "SELECT count(*) FROM client_meta WHERE fecha_iso = ''"
                                          " AND mail = 'old@x.es'"),
                     1);
    /* the new operations work on the old records */
    struct client_query q = {.sort = SORT_NOMBRE, .search = "nunez"};
    char mails[8][CLIENT_MAIL_CAP] = {{0}};
    assert_int_equal(manager_list(fx->s, &q, collect_mail, mails), CL_OK);
    assert_string_equal(mails[0], "Jose.Nunez@Example.ES");
    assert_string_equal(mails[1], "");
    q.search = NULL;
    q.fecha_desde = "1970-01-01";
    memset(mails, 0, sizeof(mails));
    assert_int_equal(manager_list(fx->s, &q, collect_mail, mails), CL_OK);
    /* by nombre_key, since 1970: old@x.es ("fecha") has no date of a known
     * shape and is left out */
    assert_string_equal(mails[0], "ana@example.com");
    assert_string_equal(mails[1], "INIGO@EXAMPLE.COM");
    assert_string_equal(mails[2], "ejemplo@gmail.com");
    assert_string_equal(mails[3], "Jose.Nunez@Example.ES");
    assert_string_equal(mails[4], "a\"b@x.es");
    assert_string_equal(mails[5], "zoe@example.no");
    assert_string_equal(mails[6], "");
    fx_make(&c, "Nueva", "Cliente", "nueva@example.com", "1/1/1990", "Calle");
    assert_int_equal(manager_create(fx->s, &c, &m, NULL), CL_OK);
    assert_int_equal(m.version, V2_N + 1);
    assert_int_equal(manager_update(fx->s, "A\"B@x.es", CLIENT_NOMBRE, "Viejo", NULL), CL_OK);
    assert_int_equal(manager_get_meta(fx->s, "a\"b@x.es", &got, &m, NULL), CL_OK);
    assert_int_equal(m.version, V2_N + 2);
    assert_int_equal(fx_audit_count(fx->s), 2);
    /* reopening migrates nothing again */
    fx_reopen(fx);
    assert_int_equal(fx_count(fx->s), V2_N + 1);
    assert_int_equal(manager_get_meta(fx->s, "ana@example.com", &got, &m, NULL), CL_OK);
    assert_int_equal(m.version, 2);
}

/* A file migrated by a newer program is refused, and left as it is. */
static void test_newer_schema_untouched(void **state)
{
    struct fx *fx = *state;
    unsigned char *before, *after;
    size_t blen, alen;
    char err[512] = "";
    struct store *s;

    copy_fixture(fx);
    fx_sql_exec(fx->path, "PRAGMA user_version = 5");
    assert_int_equal(ts_read_file(fx->path, &before, &blen), 0);
    assert_int_equal(store_open(fx->path, &s, err, sizeof(err)), CL_STORAGE);
    assert_null(s);
    assert_non_null(strstr(err, "schema version 5 is newer than this program's (4)"));
    assert_int_equal(ts_read_file(fx->path, &after, &alen), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(after, before, blen);
    free(before);
    free(after);
}

/* The total of a list costs one row, and follows every insert and delete,
 * also of rows written behind the library's back. */
static void test_total_kept_by_the_file(void **state)
{
    struct fx *fx = *state;
    struct client_query q = {0};
    struct client c;
    long long n = -1;
    char err[512] = "";

    assert_int_equal(store_open(fx->path, &fx->s, err, sizeof(err)), CL_OK);
    assert_int_equal(manager_count_query(fx->s, &q, &n), CL_OK);
    assert_int_equal(n, 1); /* the example */
    assert_int_equal(ts_client(&c, "Ana", "Ruiz", "ana@example.com", "1/2/1990", "Calle 1"),
                     CL_OK);
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    fx_sql_exec(fx->path, "INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, "
                          "direccion) VALUES ('detras@example.com', 'A', 'B', '1/1/1990', 'C')");
    assert_int_equal(manager_count_query(fx->s, &q, &n), CL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(manager_delete(fx->s, "ejemplo@gmail.com", NULL), CL_OK);
    fx_sql_exec(fx->path, "DELETE FROM clients WHERE mail = 'detras@example.com'");
    assert_int_equal(manager_count_query(fx->s, &q, &n), CL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(fx_sql_int(fx->path, "SELECT count(*) FROM clients"), 1);
    /* a failed add leaves it alone */
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_EXISTS);
    assert_int_equal(manager_count_query(fx->s, &q, &n), CL_OK);
    assert_int_equal(n, 1);
}

/* The audit trail is append-only in the database itself, whoever writes. */
static void test_audit_append_only(void **state)
{
    struct fx *fx = *state;
    struct client c;
    sqlite3 *db;

    fx_make(&c, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    const struct audit_entry old = {"2001-01-01T00:00:00.000Z", "login.fail", "viejo", NULL, NULL};
    assert_int_equal(fx->s->ops->audit_add(fx->s, &old), CL_OK);
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    static const char *const refused[] = {
        "UPDATE audit SET actor = 'otro'",
        "UPDATE audit SET at = '2000-01-01T00:00:00.000Z'",
        "UPDATE audit SET action = 'client.delete'",
        "UPDATE audit SET changes = '{}'",
        "UPDATE audit SET target = NULL", /* clearing is all three or nothing */
        "UPDATE audit SET request_id = 'x'",
        "DELETE FROM audit WHERE action = 'client.create'", /* too young */
        "DELETE FROM audit",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char *msg = NULL;
        if (sqlite3_exec(db, refused[i], NULL, NULL, &msg) == SQLITE_OK)
            fail_msg("the database let through: %s", refused[i]);
        sqlite3_free(msg);
    }
    assert_int_equal(fx_sql_int(fx->path, "SELECT count(*) FROM audit"), 2);
    /* what an erasure does, and pruning of an old row, are allowed */
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE audit SET target = NULL, target_key = NULL,"
                                  " changes = NULL WHERE action = 'client.create'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM audit WHERE action = 'login.fail'", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(fx_sql_int(fx->path, "SELECT count(*) FROM audit"), 1);
}

/* How many times `marker` occurs in the file (0 when it does not exist). */
static int occurrences(const char *path, const char *marker)
{
    unsigned char *buf;
    size_t len, m = strlen(marker);
    int n = 0;

    if (!ts_exists(path))
        return 0;
    assert_int_equal(ts_read_file(path, &buf, &len), 0);
    for (size_t i = 0; i + m <= len; i++) {
        size_t k = 0;
        while (k < m && (buf[i + k] | 0x20) == marker[k])
            k++;
        n += k == m;
    }
    free(buf);
    return n;
}

static void mark(struct client *c, const char *nombre)
{
    fx_make(c, nombre, "Zqxapellido", "zqxmark@example.com", "1/1/1990", "Calle Zqxcalle 1");
}

/* After an erasure nothing of the person is left in the file or its WAL:
 * not the record, not its older values, not its audit rows' copies, not
 * its keys in the indexes; with another handle open meanwhile. */
static void test_erasure_leaves_no_bytes(void **state)
{
    struct fx *fx = *state;
    struct store *other = fx_open(fx);
    char wal[1300];
    struct client c;

    ts_suffix(wal, sizeof(wal), fx->path, "-wal");
    for (int i = 0; i < 300; i++) { /* neighbours on the same pages and beyond */
        char mail[64];
        snprintf(mail, sizeof(mail), "vecino%03d@example.com", i);
        fx_make(&c, "Vecino", "Normal", mail, "1/1/1990", "Calle Normal 1");
        assert_int_equal(manager_add(other, &c, NULL), CL_OK);
    }
    mark(&c, "Zqxnombre");
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    assert_int_equal(manager_update(fx->s, "zqxmark@example.com", CLIENT_NOMBRE, "Zqxotro", NULL),
                     CL_OK);
    assert_int_equal(manager_delete(fx->s, "zqxmark@example.com", NULL), CL_OK);
    mark(&c, "Zqxotravez");
    assert_int_equal(manager_add(other, &c, NULL), CL_OK);
    assert_true(occurrences(fx->path, "zqx") + occurrences(wal, "zqx") > 0);

    assert_int_equal(manager_erase(fx->s, "ZQXMARK@example.com", NULL), CL_OK);
    assert_int_equal(occurrences(fx->path, "zqx"), 0);
    assert_int_equal(occurrences(wal, "zqx"), 0);
    /* and the rest of the store is whole */
    assert_int_equal(fx_count(other), 301);
    assert_int_equal(fx_sql_int(fx->path, "SELECT count(*) FROM audit WHERE action = 'client.erase'"
                                          " AND target IS NULL AND changes IS NULL"),
                     1);
    char ok[16] = "";
    {
        sqlite3 *db;
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        snprintf(ok, sizeof(ok), "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    assert_string_equal(ok, "ok");

    /* inside a batch, at its commit */
    mark(&c, "Zqxlote");
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    assert_int_equal(manager_begin(fx->s), CL_OK);
    assert_int_equal(manager_erase(fx->s, "zqxmark@example.com", NULL), CL_OK);
    assert_int_equal(manager_commit(fx->s), CL_OK);
    assert_int_equal(occurrences(fx->path, "zqx"), 0);
    assert_int_equal(occurrences(wal, "zqx"), 0);
    store_close(other);
}

/* The first line of the plan is the loop that gives the order: a scan or
 * seek of `uses` (the mail order: of either table's primary key), and no
 * sort of the rows afterwards. */
/* A reader that holds an old snapshot while the erasure runs keeps the old
 * pages (in the file, and their copies in the WAL) for as long as it reads
 * them: the checkpoint cannot write past its snapshot.  The store retries
 * at its close (the next erasure would too). */
static void test_erasure_with_a_reader(void **state)
{
    struct fx *fx = *state;
    char wal[1300], url[1400];
    struct store *s;
    struct client c;
    sqlite3 *reader;
    sqlite3_stmt *st;

    ts_suffix(wal, sizeof(wal), fx->path, "-wal");
    mark(&c, "Zqxnombre");
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    store_close(fx->s);
    fx->s = NULL;
    snprintf(url, sizeof(url), "%s?busy_timeout=50", fx->path);
    assert_int_equal(store_open(url, &s, NULL, 0), CL_OK);
    assert_int_equal(sqlite3_open(fx->path, &reader), SQLITE_OK);
    assert_int_equal(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(reader, "SELECT count(*) FROM clients", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW); /* the snapshot is taken */
    assert_int_equal(manager_erase(s, "zqxmark@example.com", NULL), CL_OK);
    fx_absent(s, "zqxmark@example.com");
    /* what the reader still reads */
    assert_true(occurrences(fx->path, "zqx") + occurrences(wal, "zqx") > 0);
    sqlite3_finalize(st);
    sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL);
    store_close(s); /* the reader's connection remains: the store's own retry */
    assert_int_equal(occurrences(fx->path, "zqx"), 0);
    assert_int_equal(occurrences(wal, "zqx"), 0);
    sqlite3_close(reader);
}

/* Writers of one file in one process queue on the store's own gate, not
 * on SQLite's busy handler: while one handle holds a write transaction,
 * another's write waits (bounded by busy_timeout, then CL_BUSY saying so),
 * and a waiting one goes on once the first commits. */
struct waiting_add {
    struct store *s;
    enum cl_err rc;
};

static void *add_waiting(void *arg)
{
    struct waiting_add *w = arg;
    struct client c;

    fx_make(&c, "Espera", "Cola", "espera@example.com", "1/1/1990", "Calle 2");
    w->rc = manager_add(w->s, &c, NULL);
    return NULL;
}

static void test_writers_queue_in_process(void **state)
{
    struct fx *fx = *state;
    char url[1400];
    struct store *a, *b;
    struct client c;
    pthread_t t;

    snprintf(url, sizeof(url), "%s?busy_timeout=100", fx->path);
    assert_int_equal(store_open(url, &a, NULL, 0), CL_OK);
    assert_int_equal(store_open(url, &b, NULL, 0), CL_OK);
    assert_int_equal(manager_begin(a), CL_OK);
    fx_make(&c, "Primera", "Cola", "primera@example.com", "1/1/1990", "Calle 1");
    assert_int_equal(manager_add(a, &c, NULL), CL_OK);
    fx_make(&c, "Segunda", "Cola", "segunda@example.com", "1/1/1990", "Calle 1");
    assert_int_equal(manager_add(b, &c, NULL), CL_BUSY);
    assert_non_null(strstr(store_errmsg(b), "another writer of this process"));
    assert_int_equal(manager_commit(a), CL_OK);
    assert_int_equal(manager_add(b, &c, NULL), CL_OK);
    store_close(b);

    /* a writer waiting at the gate goes on when the holder commits */
    snprintf(url, sizeof(url), "%s?busy_timeout=30000", fx->path);
    assert_int_equal(store_open(url, &b, NULL, 0), CL_OK);
    struct waiting_add w = {.s = b, .rc = CL_INVALID};
    assert_int_equal(manager_begin(a), CL_OK);
    assert_int_equal(pthread_create(&t, NULL, add_waiting, &w), 0);
    usleep(50 * 1000); /* (not an assertion: the add may start late, and still succeeds) */
    fx_make(&c, "Tercera", "Cola", "tercera@example.com", "1/1/1990", "Calle 1");
    assert_int_equal(manager_add(a, &c, NULL), CL_OK);
    assert_int_equal(manager_commit(a), CL_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.rc, CL_OK);
    fx_stored(a, &c);
    store_close(b);
    store_close(a);
}

/* A handle keeps the last token it found only while nothing is committed
 * to the file: a revocation through another handle, through the same one,
 * or by another program's connection, and a change of the owner's role,
 * each take effect on the next check. */
static void test_token_kept_until_a_commit(void **state)
{
    struct fx *fx = *state;
    struct accounts_config c;
    struct principal op, who;
    char tok[TOKEN_TEXT_LEN + 1], tok2[TOKEN_TEXT_LEN + 1];
    long long id, id2;
    const char *why = NULL;
    struct store *b;
    sqlite3 *db;

    accounts_config_default(&c);
    principal_operator(&op);
    assert_int_equal(store_open(fx->path, &fx->s, NULL, 0), CL_OK);
    assert_int_equal(store_open(fx->path, &b, NULL, 0), CL_OK);
    assert_int_equal(accounts_token_create(fx->s, &c, &op, "uno", ROLE_EDITOR, NULL, 0, tok, &id,
                                           &why), CL_OK);
    assert_int_equal(accounts_token_create(fx->s, &c, &op, "dos", ROLE_EDITOR, NULL, 0, tok2,
                                           &id2, &why), CL_OK);
    for (int i = 0; i < 3; i++) /* kept, and the same each time */
        assert_int_equal(accounts_token_check(fx->s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(who.role, ROLE_EDITOR);
    /* another handle (another thread's) revokes it */
    assert_int_equal(accounts_token_revoke(b, &c, &op, id), CL_OK);
    assert_int_equal(accounts_token_check(fx->s, &c, tok, strlen(tok), &who), CL_DENIED);
    /* the same handle revokes the one it keeps */
    assert_int_equal(accounts_token_check(fx->s, &c, tok2, strlen(tok2), &who), CL_OK);
    assert_int_equal(accounts_token_revoke(fx->s, &c, &op, id2), CL_OK);
    assert_int_equal(accounts_token_check(fx->s, &c, tok2, strlen(tok2), &who), CL_DENIED);
    /* another program's connection changes a kept token's role */
    assert_int_equal(accounts_token_create(fx->s, &c, &op, "tres", ROLE_EDITOR, NULL, 0, tok, &id,
                                           &why), CL_OK);
    assert_int_equal(accounts_token_check(fx->s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(who.role, ROLE_EDITOR);
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE tokens SET role = 'reader' WHERE label = 'tres'",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(accounts_token_check(fx->s, &c, tok, strlen(tok), &who), CL_OK);
    assert_int_equal(who.role, ROLE_READER);
    store_close(b);
}

static void expect_plan(struct store *s, struct client_query q, const char *uses)
{
    char plan[2048], first[256];
    bool ok;

    assert_int_equal(store_sqlite_plan(s, &q, plan, sizeof(plan)), CL_OK);
    snprintf(first, sizeof(first), "%.*s", (int)strcspn(plan, "\n"), plan);
    if (uses)
        ok = strstr(first, uses) != NULL;
    else
        ok = !strstr(first, "USING INDEX") &&
             (!strcmp(first, "SCAN c") || !strcmp(first, "SCAN m") ||
              !strncmp(first, "SEARCH c USING PRIMARY KEY (mail", 32) ||
              !strncmp(first, "SEARCH m USING PRIMARY KEY (mail", 32));
    if (!ok || strstr(plan, "TEMP B-TREE"))
        fail_msg("sort %d desc %d backward %d cursor %s: plan\n%s\nexpected %s and no sort", q.sort,
                 q.desc, q.backward, q.after_key ? "yes" : "no", plan,
                 uses ? uses : "the primary key");
}

/* Every page is a range of one index, read in its order: its cost does not
 * depend on its position. */
static void test_pages_use_indexes(void **state)
{
    struct fx *fx = *state;
    static const char *const index_of[] = {
        [SORT_MAIL] = NULL,
        [SORT_NOMBRE] = "client_meta_nombre",
        [SORT_APELLIDOS] = "client_meta_apellidos",
        [SORT_FECHA] = "client_meta_fecha",
        [SORT_CREADO] = "client_meta_creado",
        [SORT_MODIFICADO] = "client_meta_modificado",
    };

    for (int sort = SORT_MAIL; sort <= SORT_MODIFICADO; sort++) {
        for (int flags = 0; flags < 8; flags++) {
            struct client_query q = {.sort = (enum client_sort)sort, .desc = flags & 1,
                                     .backward = (flags & 2) != 0, .limit = 20};
            if (flags & 4) {
                q.after_value = "m";
                q.after_key = "m@example.com";
            }
            expect_plan(fx->s, q, index_of[sort]);
            q.search = "jose";
            expect_plan(fx->s, q, index_of[sort]);
            q.search = NULL;
            q.fields_only = true;
            expect_plan(fx->s, q, index_of[sort]);
        }
    }
    /* a cursor is a seek into the index, not a scan from its start */
    struct client_query q = {.sort = SORT_NOMBRE, .after_value = "m", .after_key = "m@x.es",
                             .limit = 20};
    char plan[2048];
    assert_int_equal(store_sqlite_plan(fx->s, &q, plan, sizeof(plan)), CL_OK);
    assert_non_null(
        strstr(plan, "SEARCH m USING INDEX client_meta_nombre ((nombre_key,mail)>(?,?))"));
    q.sort = SORT_MAIL;
    q.fields_only = true;
    assert_int_equal(store_sqlite_plan(fx->s, &q, plan, sizeof(plan)), CL_OK);
    assert_non_null(strstr(plan, "SEARCH c USING PRIMARY KEY (mail>?)"));
}

int main(void)
{
#define T(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_migrates_schema_2_file, fx_setup_dir),
        T(test_newer_schema_untouched, fx_setup_dir),
        T(test_total_kept_by_the_file, fx_setup_dir),
        T(test_audit_append_only, fx_setup_store),
        T(test_erasure_leaves_no_bytes, fx_setup_store),
        T(test_erasure_with_a_reader, fx_setup_store),
        T(test_pages_use_indexes, fx_setup_store),
        T(test_writers_queue_in_process, fx_setup_dir),
        T(test_token_kept_until_a_commit, fx_setup_dir),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
