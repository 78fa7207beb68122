/* pg_support.c - fresh PostgreSQL stores for the tests (see pg_support.h). */
#include "pg_support.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define APP_ROLE "clientes"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char process_db[64]; /* this process's database, once made */
static unsigned schema_seq;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

bool ts_store_is_pg(void)
{
    const char *v = getenv(TS_STORE_ENV);
    return v && strcmp(v, "pg") == 0;
}

/* The parts of the admin URL a store URL is made of. */
struct cluster {
    char host[128], port[16], password[128], sslmode[32];
};

static int cluster_of(struct cluster *c, char *err, size_t errlen)
{
    const char *url = getenv(TS_PG_ADMIN_ENV);
    PQconninfoOption *opts;
    char *msg = NULL;

    if (!url || !*url) {
        set_err(err, errlen,
                "%s is not set: the PostgreSQL tests need the cluster bin/test starts "
                "(or run: python3 tests/support/pgcluster.py run -- ctest ...)",
                TS_PG_ADMIN_ENV);
        return -1;
    }
    if (!(opts = PQconninfoParse(url, &msg))) {
        set_err(err, errlen, "%s cannot be parsed: %s", TS_PG_ADMIN_ENV, msg ? msg : "?");
        PQfreemem(msg);
        return -1;
    }
    memset(c, 0, sizeof(*c));
    snprintf(c->sslmode, sizeof(c->sslmode), "disable");
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0)
            snprintf(c->host, sizeof(c->host), "%s", o->val);
        else if (strcmp(o->keyword, "port") == 0)
            snprintf(c->port, sizeof(c->port), "%s", o->val);
        else if (strcmp(o->keyword, "password") == 0)
            snprintf(c->password, sizeof(c->password), "%s", o->val);
        else if (strcmp(o->keyword, "sslmode") == 0)
            snprintf(c->sslmode, sizeof(c->sslmode), "%s", o->val);
    }
    PQconninfoFree(opts);
    return 0;
}

/* A connection as the cluster's superuser to database db. */
static PGconn *admin_connect(const struct cluster *c, const char *db, char *err, size_t errlen)
{
    const char *kw[] = {"host", "port", "user", "password", "dbname", "sslmode", "connect_timeout",
                        NULL};
    const char *val[] = {c->host, c->port, "postgres", c->password, db, c->sslmode, "10", NULL};
    PGconn *conn = PQconnectdbParams(kw, val, 0);

    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        set_err(err, errlen, "cannot connect to the test cluster: %s",
                conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static int run(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;

    if (rc)
        set_err(err, errlen, "%s: %s", sql, PQerrorMessage(conn));
    PQclear(r);
    return rc;
}

/* Percent-encodes s for the userinfo of a URL. */
static void url_encode(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s && n + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
}

int ts_pg_fresh_url(char *out, size_t cap, char *err, size_t errlen)
{
    struct cluster c;
    PGconn *conn;
    char sql[256], schema[32], pw[400];
    int rc = -1, n;

    if (cluster_of(&c, err, errlen) != 0)
        return -1;
    pthread_mutex_lock(&lock);
    if (!process_db[0]) {
        char name[64];
        snprintf(name, sizeof(name), "t_%ld_%lx", (long)getpid(),
                 (unsigned long)time(NULL) ^ ((unsigned long)clock() << 16));
        if (!(conn = admin_connect(&c, "postgres", err, errlen)))
            goto out;
        /* ordered by a language's rules by default, as Heroku's databases
         * are (en_US.UTF-8): what the store compares must say COLLATE "C" */
        snprintf(sql, sizeof(sql),
                 "CREATE DATABASE \"%s\" OWNER " APP_ROLE " TEMPLATE template0"
                 " LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
                 name);
        rc = run(conn, sql, err, errlen);
        if (rc != 0 && PQserverVersion(conn) < 150000) {
            /* before PostgreSQL 15 a database cannot choose ICU: the
             * cluster's own collation then */
            snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\" OWNER " APP_ROLE, name);
            rc = run(conn, sql, err, errlen);
        }
        PQfinish(conn);
        if (rc != 0)
            goto out;
        memcpy(process_db, name, sizeof(name));
    }
    snprintf(schema, sizeof(schema), "s%u", ++schema_seq);
    if (!(conn = admin_connect(&c, process_db, err, errlen))) {
        rc = -1;
        goto out;
    }
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s AUTHORIZATION " APP_ROLE, schema);
    rc = run(conn, sql, err, errlen);
    PQfinish(conn);
    if (rc != 0)
        goto out;
    url_encode(c.password, pw, sizeof(pw));
    n = snprintf(out, cap,
                 "postgresql://" APP_ROLE ":%s@%s:%s/%s?sslmode=%s&options=-c%%20search_path%%3D%s",
                 pw, c.host, c.port, process_db, c.sslmode, schema);
    if (n < 0 || (size_t)n >= cap) {
        set_err(err, errlen, "the store URL does not fit in %zu bytes", cap);
        rc = -1;
    }
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

/* A connection to the store at url, as its owner or (admin) as the
 * cluster's superuser with the URL's other settings. */
static PGconn *store_connect(const char *url, bool admin, char *err, size_t errlen)
{
    PGconn *conn;

    if (admin) {
        struct cluster c;
        const char *kw[] = {"dbname", "user", "password", NULL};
        const char *val[] = {url, "postgres", NULL, NULL};
        if (cluster_of(&c, err, errlen) != 0)
            return NULL;
        if (!url)
            return admin_connect(&c, "postgres", err, errlen);
        val[2] = c.password;
        conn = PQconnectdbParams(kw, val, 1);
    } else {
        conn = PQconnectdb(url);
    }
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        set_err(err, errlen, "cannot connect to the store: %s",
                conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

int ts_pg_exec(const char *url, const char *sql, char *err, size_t errlen)
{
    PGconn *conn = store_connect(url, false, err, errlen);
    int rc;

    if (!conn)
        return -1;
    rc = run(conn, sql, err, errlen);
    PQfinish(conn);
    return rc;
}

int ts_pg_admin_exec(const char *url, const char *sql, char *err, size_t errlen)
{
    PGconn *conn = store_connect(url, true, err, errlen);
    int rc;

    if (!conn)
        return -1;
    rc = run(conn, sql, err, errlen);
    PQfinish(conn);
    return rc;
}

static long long query_int(const char *url, bool admin, const char *sql, char *err, size_t errlen)
{
    PGconn *conn = store_connect(url, admin, err, errlen);
    PGresult *r;
    long long v = -2;

    if (!conn)
        return -2;
    r = PQexec(conn, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    else
        set_err(err, errlen, "%s: %s", sql, PQerrorMessage(conn));
    PQclear(r);
    PQfinish(conn);
    return v;
}

long long ts_pg_int(const char *url, const char *sql, char *err, size_t errlen)
{
    return query_int(url, false, sql, err, errlen);
}

long long ts_pg_admin_int(const char *url, const char *sql, char *err, size_t errlen)
{
    return query_int(url, true, sql, err, errlen);
}
