/* test_config.c - the configuration table (every variable's default and a bad
 * value of each), the listen-address rule, the URL redactor, and README's
 * configuration table against the one the table prints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "listen.h"

/* ---------------------------------------------------------------- helpers */

/* Every variable of the table unset: each test starts from the defaults. */
static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < config_var_count(); i++)
        unsetenv(config_var_name(i));
    return 0;
}

static struct config *load_ok(void)
{
    static struct config c;
    char err[512] = "";

    if (config_load(&c, err, sizeof(err)) != 0)
        fail_msg("config_load: %s", err);
    return &c;
}

static const char *load_err(void)
{
    static struct config c;
    static char err[1024];

    err[0] = '\0';
    if (config_load(&c, err, sizeof(err)) == 0)
        fail_msg("config_load accepted a bad value");
    return err;
}

/* ---------------------------------------------------------------- the table */

static void test_defaults(void **state)
{
    struct config *c;

    (void)state;
    c = load_ok();
    assert_int_equal(c->port, 8080);
    assert_string_equal(c->database_url, "sqlite://./data/clientes.db");
    assert_int_equal(c->database_connect_timeout_s, 5);
    assert_int_equal(c->database_statement_timeout_ms, 5000);
    assert_int_equal(c->database_lock_timeout_ms, 2000);
    assert_int_equal(c->database_open_wait_s, 10);
    assert_int_equal(c->worker_threads, 0); /* 2 x cores, decided by the worker */
    assert_int_equal(c->fcgi_listen.kind, LISTEN_NONE);
    assert_string_equal(c->nginx_conf, "conf/nginx.conf.template");
    assert_string_equal(c->worker_bin, "");
    assert_string_equal(c->nginx_bin, "");
    assert_int_equal(c->nginx_worker_processes, 0); /* auto */
    assert_string_equal(c->nginx_error_log_level, "warn");
    assert_int_equal(c->worker_max_requests, 512);
    assert_int_equal(c->client_max_requests, 64);
    assert_int_equal(c->client_rate, 5000);
    assert_false(c->allow_ephemeral_sqlite);
    assert_string_equal(c->dyno, "");
    assert_string_equal(c->tmpdir, "/tmp");
    assert_string_equal(c->tz, "Europe/Madrid");
    assert_int_equal(c->trusted_proxies.n, 0);
    assert_int_equal(c->worker_restart_max, 5);
    assert_int_equal(c->worker_restart_window_s, 60);
    assert_int_equal(c->worker_watchdog_s, 10);
    assert_int_equal(c->log_level, WLOG_INFO);
    assert_string_equal(c->user, "nobody");
    assert_string_equal(c->legacy_auth, "token");
    assert_int_equal(c->session_idle_minutes, 30);
    assert_int_equal(c->session_absolute_hours, 12);
    assert_int_equal(c->login_concurrency, 0); /* auto: half the worker's threads */
    assert_int_equal(c->login_max_failures, 5);
    assert_int_equal(c->login_throttle_s, 900);
    assert_int_equal(c->audit_retention_days, 365);
    assert_false(config_ephemeral_sqlite(c));
}

/* A choice names its own choices when it refuses a value. */
static void test_choice_names_its_choices(void **state)
{
    (void)state;
    setenv("LEGACY_AUTH", "Open", 1);
    assert_non_null(strstr(load_err(), "must be one of token, open"));
    setenv("LEGACY_AUTH", "open", 1);
    assert_string_equal(load_ok()->legacy_auth, "open");
}

static void test_empty_is_unset(void **state)
{
    (void)state;
    setenv("PORT", "", 1);
    setenv("TZ", "", 1);
    assert_int_equal(load_ok()->port, 8080);
    assert_string_equal(load_ok()->tz, "Europe/Madrid");
}

/* A value each variable must refuse.  A variable added to the table without a
 * row here fails test_every_variable_refuses_its_bad_value. */
static const struct {
    const char *name, *bad, *shown; /* shown: how the value appears in the error */
} bad_values[] = {
    {"PORT", "80a", NULL},
    {"DATABASE_URL", "postgres://u:pw1@h/d b", "postgres://u:***@h/d b"},
    {"DATABASE_CONNECT_TIMEOUT_S", "0", NULL},
    {"DATABASE_STATEMENT_TIMEOUT_MS", "50", NULL},
    {"DATABASE_LOCK_TIMEOUT_MS", "2s", NULL},
    {"DATABASE_OPEN_WAIT_S", "301", NULL},
    {"WORKER_THREADS", "0", NULL},
    {"FCGI_LISTEN", "localhost:99999", NULL},
    {"NGINX_CONF", "conf/a\nb", NULL},
    {"CLIENTES_WORKER", "bin/\tworker", NULL},
    {"NGINX", "/usr/sbin/nginx\r", NULL},
    {"NGINX_WORKER_PROCESSES", "many", NULL},
    {"NGINX_ERROR_LOG_LEVEL", "warning", NULL},
    {"WORKER_MAX_REQUESTS", "-1", NULL},
    {"CLIENT_MAX_REQUESTS", "0", NULL},
    {"CLIENT_MAX_REQUESTS", "65536", NULL}, /* nginx would refuse its limit_conn */
    {"WORKER_MAX_REQUESTS", "65536", NULL},
    {"METRICS_ACCESS", "everyone", NULL},
    {"CLIENT_RATE", "fast", NULL},
    {"ALLOW_EPHEMERAL_SQLITE", "yes", NULL},
    {"DYNO", "web 1", NULL},
    {"TMPDIR", "relative/tmp", NULL},
    {"TZ", "Nowhere/Atlantis", NULL},
    {"TRUSTED_PROXIES", "10.0.0.0/8, proxy.example.com", NULL},
    {"WORKER_RESTART_MAX", "1001", NULL},
    {"WORKER_RESTART_WINDOW_S", "0", NULL},
    {"WORKER_WATCHDOG_S", "1.5", NULL},
    {"LOG_LEVEL", "verbose", NULL},
    {"CLIENTES_USER", "Root!", NULL},
    {"LEGACY_AUTH", "none", NULL},
    {"SESSION_IDLE_MINUTES", "0", NULL},
    {"SESSION_ABSOLUTE_HOURS", "721", NULL},
    {"LOGIN_CONCURRENCY", "0", NULL},
    {"LOGIN_MAX_FAILURES", "five", NULL},
    {"LOGIN_THROTTLE_S", "86401", NULL},
    {"AUDIT_RETENTION_DAYS", "0", NULL},
    {"REQUIRE_IF_MATCH", "true", NULL},
    {"CORS_ORIGINS", "https://a.example/path", NULL},
    {"IMPORT_MAX_BYTES", "1024", NULL},
};

static void test_every_variable_refuses_its_bad_value(void **state)
{
    (void)state;
    for (size_t i = 0; i < config_var_count(); i++) {
        const char *name = config_var_name(i);
        size_t j;
        for (j = 0; j < sizeof(bad_values) / sizeof(bad_values[0]); j++)
            if (strcmp(bad_values[j].name, name) == 0)
                break;
        if (j == sizeof(bad_values) / sizeof(bad_values[0]))
            fail_msg("%s has no bad value in this test", name);
    }
    for (size_t j = 0; j < sizeof(bad_values) / sizeof(bad_values[0]); j++) {
        const char *err, *shown = bad_values[j].shown ? bad_values[j].shown : bad_values[j].bad;
        char prefix[64], quoted[128];

        clear_env(NULL);
        setenv(bad_values[j].name, bad_values[j].bad, 1);
        err = load_err();
        /* one line, naming the variable first, with the value it refuses */
        snprintf(prefix, sizeof(prefix), "%s ", bad_values[j].name);
        snprintf(quoted, sizeof(quoted), "'%s'", shown);
        if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, quoted))
            fail_msg("%s=%s: %s", bad_values[j].name, bad_values[j].bad, err);
        /* control characters stay in the message; wlog makes them '?' */
        if (!strpbrk(bad_values[j].bad, "\t\r\n"))
            assert_null(strchr(err, '\n'));
    }
}

static void test_no_secret_in_the_error(void **state)
{
    (void)state;
    setenv("DATABASE_URL", "postgres://clientes:hunter2@db.example.com/clientes x", 1);
    assert_null(strstr(load_err(), "hunter2"));
}

static void test_good_values(void **state)
{
    struct config *c;

    (void)state;
    setenv("PORT", "65535", 1);
    setenv("WORKER_THREADS", "1", 1);
    setenv("NGINX_WORKER_PROCESSES", "4", 1);
    setenv("LOG_LEVEL", "debug", 1);
    setenv("TZ", "UTC", 1);
    setenv("TRUSTED_PROXIES", " 10.0.0.0/8,192.168.1.1 , ::1,2001:db8::/32", 1);
    setenv("ALLOW_EPHEMERAL_SQLITE", "1", 1);
    setenv("WORKER_WATCHDOG_S", "0", 1);
    setenv("DATABASE_URL", "sqlite:///srv/mis datos/clientes.db", 1); /* a path may have spaces */
    c = load_ok();
    assert_int_equal(c->port, 65535);
    assert_int_equal(c->worker_threads, 1);
    assert_int_equal(c->nginx_worker_processes, 4);
    assert_int_equal(c->log_level, WLOG_DEBUG);
    assert_string_equal(c->tz, "UTC");
    assert_int_equal(c->trusted_proxies.n, 4);
    assert_string_equal(c->trusted_proxies.cidr[0], "10.0.0.0/8");
    assert_string_equal(c->trusted_proxies.cidr[1], "192.168.1.1");
    assert_string_equal(c->trusted_proxies.cidr[2], "::1");
    assert_string_equal(c->trusted_proxies.cidr[3], "2001:db8::/32");
    assert_true(c->allow_ephemeral_sqlite);
    assert_int_equal(c->worker_watchdog_s, 0);
    assert_string_equal(c->database_url, "sqlite:///srv/mis datos/clientes.db");

    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1); /* POSIX: no tzdata needed */
    assert_string_equal(load_ok()->tz, "CET-1CEST,M3.5.0,M10.5.0/3");
    setenv("TZ", ":Europe/Madrid", 1);
    assert_string_equal(load_ok()->tz, ":Europe/Madrid");
    setenv("TZ", "Europe", 1); /* a directory of tzdata, not a zone */
    assert_non_null(strstr(load_err(), "TZ "));
}

static void test_ephemeral_sqlite_on_a_dyno(void **state)
{
    (void)state;
    setenv("DYNO", "web.1", 1);
    assert_non_null(strstr(load_err(), "ALLOW_EPHEMERAL_SQLITE=1"));
    setenv("DATABASE_URL", "/a/bare/path.db", 1);
    assert_non_null(strstr(load_err(), "ephemeral"));
    setenv("ALLOW_EPHEMERAL_SQLITE", "1", 1);
    assert_true(config_ephemeral_sqlite(load_ok()));
    unsetenv("ALLOW_EPHEMERAL_SQLITE");
    setenv("DATABASE_URL", "postgres://u@h/d", 1); /* not a file: nothing to lose */
    assert_false(config_ephemeral_sqlite(load_ok()));
    setenv("DATABASE_URL", "postgresql://u:pw@h:5432/d?sslmode=require", 1);
    assert_false(config_ephemeral_sqlite(load_ok()));
    /* the refusal names the way out */
    setenv("DATABASE_URL", "sqlite:///app/data/clientes.db", 1);
    assert_non_null(strstr(load_err(), "heroku-postgresql"));
}

/* ---------------------------------------------------------------- listen */

static void expect_unix(const char *text, const char *path)
{
    struct listen_addr a;
    char err[256];

    if (listen_parse(text, &a, err, sizeof(err)) != 0)
        fail_msg("'%s': %s", text, err);
    assert_int_equal(a.kind, LISTEN_UNIX);
    assert_string_equal(a.path, path);
}

static void expect_tcp(const char *text, const char *host, int port)
{
    struct listen_addr a;
    char err[256];

    if (listen_parse(text, &a, err, sizeof(err)) != 0)
        fail_msg("'%s': %s", text, err);
    assert_int_equal(a.kind, LISTEN_TCP);
    assert_string_equal(a.host, host);
    assert_int_equal(a.port, port);
}

static void test_listen_rule(void **state)
{
    char cwd[256], want[320];
    struct listen_addr a;
    char err[256], longpath[200];

    (void)state;
    /* a path with a ':' is still a path (the TMPDIR bug: it was TCP) */
    expect_unix("/tmp/a:b/clientes-web.x/worker.sock", "/tmp/a:b/clientes-web.x/worker.sock");
    expect_unix("/tmp/run:9000/w.sock", "/tmp/run:9000/w.sock");
    expect_unix("unix:/run/w.sock", "/run/w.sock");
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "%s/w.sock", cwd);
    expect_unix("w.sock", want);
    snprintf(want, sizeof(want), "%s/a:b/w.sock", cwd);
    expect_unix("a:b/w.sock", want);
    /* TCP: loopback unless an address is given */
    expect_tcp(":9000", "127.0.0.1", 9000);
    expect_tcp("127.0.0.1:9000", "127.0.0.1", 9000);
    expect_tcp("0.0.0.0:9000", "0.0.0.0", 9000);
    expect_tcp("*:9000", "0.0.0.0", 9000);
    expect_tcp("[::1]:1", "::1", 1);
    expect_tcp("[::]:65535", "::", 65535);
    expect_tcp("worker.internal:9000", "worker.internal", 9000);

    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    const char *bad[] = {"", "host:0", "host:65536", "host:9x", "host:", "bad host:80",
                         "::1:9000", "[::1:9000", "[]:80", "-host:80", "/path with space",
                         "/a;b", "unix:", longpath};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (listen_parse(bad[i], &a, err, sizeof(err)) == 0)
            fail_msg("accepted '%.40s'", bad[i]);
}

static int free_port(void)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(in);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    port = ntohs(in.sin_port);
    close(fd);
    return port;
}

static void test_listen_open_and_pass(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256], text[300], pass[400], want[400], err[256];
    struct listen_addr a;
    struct stat st;
    FILE *f;
    int fd;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/listen:XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(text, sizeof(text), "%s/w.sock", dir);
    assert_int_equal(listen_parse(text, &a, err, sizeof(err)), 0);

    /* the socket is created with exactly the mode asked for */
    fd = listen_open(&a, 16, 0600, (gid_t)-1, err, sizeof(err));
    if (fd < 0)
        fail_msg("%s", err);
    assert_int_equal(stat(text, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(listen_pass(&a, fd, pass, sizeof(pass)), 0);
    snprintf(want, sizeof(want), "unix:%s", text);
    assert_string_equal(pass, want);
    close(fd);
    /* a stale socket file is replaced; anything else at the path is left */
    fd = listen_open(&a, 16, 0660, (gid_t)-1, err, sizeof(err));
    assert_true(fd >= 0);
    assert_int_equal(stat(text, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660);
    close(fd);
    unlink(text);
    f = fopen(text, "w");
    assert_non_null(f);
    fclose(f);
    assert_true(listen_open(&a, 16, 0600, (gid_t)-1, err, sizeof(err)) < 0);
    assert_int_equal(stat(text, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unlink(text);
    rmdir(dir);

    /* TCP: nginx is told the address bound, loopback for every interface */
    for (int every = 0; every < 2; every++) {
        int port = free_port();
        snprintf(text, sizeof(text), "%s:%d", every ? "0.0.0.0" : "", port);
        assert_int_equal(listen_parse(text, &a, err, sizeof(err)), 0);
        fd = listen_open(&a, 16, 0600, (gid_t)-1, err, sizeof(err));
        if (fd < 0)
            fail_msg("%s: %s", text, err);
        assert_int_equal(listen_pass(&a, fd, pass, sizeof(pass)), 0);
        snprintf(want, sizeof(want), "127.0.0.1:%d", port);
        assert_string_equal(pass, want);
        close(fd);
    }
}

/* ---------------------------------------------------------------- redaction */

static void expect_redacted(const char *in, const char *out)
{
    char buf[512];

    assert_string_equal(config_redact(in, buf, sizeof(buf)), out);
}

static void test_redact(void **state)
{
    char small[20];

    (void)state;
    expect_redacted("postgres://user:secret@h/db", "postgres://user:***@h/db");
    expect_redacted("postgres://u:p@ss/w@rd@db.example.com:5432/c?sslmode=require",
                    "postgres://u:***@db.example.com:5432/c?sslmode=require");
    expect_redacted("redis://:token@cache:6379", "redis://:***@cache:6379");
    expect_redacted("postgres://u:p?w@h/db", "postgres://u:***@h/db");
    expect_redacted("postgres://u:pw@h/db?email=a@b", "postgres://u:***@h/db?email=a@b");
    expect_redacted("postgres://user@h/db", "postgres://user@h/db");
    expect_redacted("postgres://h/db?user=u&password=pw&sslpassword=x;api_key=k&mode=a",
                    "postgres://h/db?user=u&password=***&sslpassword=***;api_key=***&mode=a");
    expect_redacted("sqlite:///data/clientes.db?busy_timeout=100",
                    "sqlite:///data/clientes.db?busy_timeout=100");
    expect_redacted("sqlite:///a@b/c.db", "sqlite:///a@b/c.db");
    expect_redacted("./data/clientes.db", "./data/clientes.db");
    expect_redacted("unsupported scheme: postgres://a:b@h/d (and mysql://c:d@e/f)",
                    "unsupported scheme: postgres://a:***@h/d (and mysql://c:***@e/f)");
    expect_redacted("'postgres://a:b@h/d'", "'postgres://a:***@h/d'");
    expect_redacted("", "");
    /* cut, never a piece of the secret */
    assert_string_equal(config_redact("postgres://user:secret@h/db", small, sizeof(small)),
                        "postgres://user:***");
}

/* ---------------------------------------------------------------- README */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_readme_table_is_the_table(void **state)
{
    static const char begin[] = "<!-- configuration table: `clientes-web --config-doc` -->\n";
    static const char end[] = "<!-- end of the configuration table -->";
    char *readme = slurp(CLIENTES_README), *doc = NULL, *a, *b;
    size_t doclen = 0;
    FILE *out;

    (void)state;
    assert_non_null(readme);
    a = strstr(readme, begin);
    if (!a)
        fail_msg("README.md has no \"%.40s\" marker", begin);
    a += strlen(begin);
    b = strstr(a, end);
    assert_non_null(b);
    *b = '\0';
    out = open_memstream(&doc, &doclen);
    assert_non_null(out);
    config_doc(out);
    fclose(out);
    if (strcmp(a, doc) != 0)
        fail_msg("README.md's configuration table differs from the table in cgi/config.c; "
                 "replace it with the output of `clientes-web --config-doc`:\n%s", doc);
    for (size_t i = 0; i < config_var_count(); i++) {
        char cell[80];
        snprintf(cell, sizeof(cell), "| `%s` |", config_var_name(i));
        assert_non_null(strstr(doc, cell));
    }
    free(doc);
    free(readme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_choice_names_its_choices, clear_env),
        cmocka_unit_test_setup(test_empty_is_unset, clear_env),
        cmocka_unit_test_setup(test_every_variable_refuses_its_bad_value, clear_env),
        cmocka_unit_test_setup(test_no_secret_in_the_error, clear_env),
        cmocka_unit_test_setup(test_good_values, clear_env),
        cmocka_unit_test_setup(test_ephemeral_sqlite_on_a_dyno, clear_env),
        cmocka_unit_test(test_listen_rule),
        cmocka_unit_test(test_listen_open_and_pass),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_readme_table_is_the_table),
    };
    return cmocka_run_group_tests(tests, clear_env, NULL);
}
