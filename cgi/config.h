/* config.h - every environment variable the programs read, in one table
 * (name, type, bounds, default, meaning), parsed once at start into a
 * struct config.  Adding a variable: a field below and one row in config.c's
 * vars[] (and its bad value in tests/cgi/test_config.c). */
#ifndef CLIENTES_CONFIG_H
#define CLIENTES_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "listen.h"
#include "log.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_URL_MAX 2048
#define CONFIG_WORD_MAX 128
#define CONFIG_PROXIES_MAX 32
#define CONFIG_CIDR_MAX 64

struct config_proxies {
    int n;
    char cidr[CONFIG_PROXIES_MAX][CONFIG_CIDR_MAX]; /* "10.0.0.0/8", "::1" */
};

/* The parsed environment.  Strings are copies (NUL-terminated, "" when the
 * variable is unset and has no default); numbers are in their bounds. */
struct config {
    int port;                           /* PORT */
    char database_url[CONFIG_URL_MAX];  /* DATABASE_URL */
    /* PostgreSQL's waits: checked here, read by lib/store_pg.c itself */
    int database_connect_timeout_s;     /* DATABASE_CONNECT_TIMEOUT_S */
    int database_statement_timeout_ms;  /* DATABASE_STATEMENT_TIMEOUT_MS */
    int database_lock_timeout_ms;       /* DATABASE_LOCK_TIMEOUT_MS */
    int database_open_wait_s;           /* DATABASE_OPEN_WAIT_S */
    int worker_threads;                 /* WORKER_THREADS; 0: 2 x cores */
    struct listen_addr fcgi_listen;     /* FCGI_LISTEN; LISTEN_NONE: the runtime dir's */
    char nginx_conf[CONFIG_PATH_MAX];   /* NGINX_CONF */
    char worker_bin[CONFIG_PATH_MAX];   /* CLIENTES_WORKER; "": next to clientes-web */
    char nginx_bin[CONFIG_PATH_MAX];    /* NGINX; "": nginx on PATH, else /usr/sbin/nginx */
    int nginx_worker_processes;         /* NGINX_WORKER_PROCESSES; 0: auto */
    char nginx_error_log_level[CONFIG_WORD_MAX]; /* NGINX_ERROR_LOG_LEVEL */
    int worker_max_requests;            /* WORKER_MAX_REQUESTS */
    int client_max_requests;            /* CLIENT_MAX_REQUESTS */
    int client_rate;                    /* CLIENT_RATE */
    bool allow_ephemeral_sqlite;        /* ALLOW_EPHEMERAL_SQLITE */
    char dyno[CONFIG_WORD_MAX];         /* DYNO; "" off Heroku */
    char tmpdir[CONFIG_PATH_MAX];       /* TMPDIR */
    char tz[CONFIG_WORD_MAX];           /* TZ */
    struct config_proxies trusted_proxies; /* TRUSTED_PROXIES */
    int worker_restart_max;             /* WORKER_RESTART_MAX */
    int worker_restart_window_s;        /* WORKER_RESTART_WINDOW_S */
    int worker_watchdog_s;              /* WORKER_WATCHDOG_S; 0: off */
    enum wlog_level log_level;          /* LOG_LEVEL */
    char user[CONFIG_WORD_MAX];         /* CLIENTES_USER */
    char legacy_auth[CONFIG_WORD_MAX];  /* LEGACY_AUTH: "token" or "open" */
    char metrics_access[CONFIG_WORD_MAX]; /* METRICS_ACCESS: "admin" or "loopback" */
    int session_idle_minutes;           /* SESSION_IDLE_MINUTES */
    int session_absolute_hours;         /* SESSION_ABSOLUTE_HOURS */
    int login_concurrency;              /* LOGIN_CONCURRENCY; 0: auto */
    int login_max_failures;             /* LOGIN_MAX_FAILURES */
    int login_throttle_s;               /* LOGIN_THROTTLE_S */
    int audit_retention_days;           /* AUDIT_RETENTION_DAYS */
    bool require_if_match;              /* REQUIRE_IF_MATCH */
    char cors_origins[CONFIG_URL_MAX];  /* CORS_ORIGINS; "" none */
    int import_max_bytes;               /* IMPORT_MAX_BYTES */
};

/* Reads every variable of the table from the environment into *c (an unset or
 * empty variable takes its default).  Returns 0, or -1 with one line in err
 * naming the first variable that is wrong, its value (a URL's password
 * hidden) and what it must be.  Never falls back to a default for a value it
 * cannot use. */
int config_load(struct config *c, char *err, size_t errlen);

/* True when the store is a SQLite file on a Heroku dyno (DYNO set): allowed
 * only with ALLOW_EPHEMERAL_SQLITE=1 (config_load refuses it otherwise), and
 * worth a warning even then. */
bool config_ephemeral_sqlite(const struct config *c);

/* Writes the table as Markdown (README's "Configuration" table) to out. */
void config_doc(FILE *out);

/* Copies `text` into buf (of len > 0, always NUL-terminated, cut if needed)
 * with the secrets of every URL in it hidden: a password in the user info
 * ("postgres://user:***@host/db") and the values of query parameters whose
 * name says pass, secret, token, key or auth.  Returns buf.  Every line that
 * may name a store URL goes through this. */
const char *config_redact(const char *text, char *buf, size_t len);

/* The rows of the table, for tests: how many, and the name of row i (NULL
 * past the end). */
size_t config_var_count(void);
const char *config_var_name(size_t i);

#endif
