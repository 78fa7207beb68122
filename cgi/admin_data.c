/* admin_data.c - clientes-admin's commands over whole stores: migrate (the
 * Heroku release phase), copy from one store to another, export and import
 * (NDJSON backups).  The work is lib/transfer.h's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "config.h"
#include "store.h"
#include "transfer.h"

/* A store argument: a URL or a path, or the name of an environment variable
 * holding one (DATABASE_URL): a URL on the command line, password included,
 * is visible to every user of the machine (ps); in a variable it is not. */
static const char *store_arg(const char *arg)
{
    const char *p = arg;
    const char *v;

    for (; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return arg;
    v = getenv(arg);
    return v && *v ? v : arg;
}

/* A store opened for a command (the operator its actor), or NULL after an
 * error line naming it with its password hidden. */
static struct store *open_arg(const char *arg, const char *role)
{
    static const struct audit_actor cli = {"cli", NULL, NULL};
    const char *url = store_arg(arg);
    char err[512], clean[512], shown[CONFIG_URL_MAX];
    struct store *s = NULL;

    if (store_open(url, &s, err, sizeof(err)) != CL_OK) {
        config_redact(url, shown, sizeof(shown));
        admin_fail("%s store %s: %s", role, shown, config_redact(err, clean, sizeof(clean)));
        return NULL;
    }
    store_set_actor(s, &cli);
    return s;
}

static void print_counts(FILE *out, const char *what, const struct transfer_counts *n)
{
    fprintf(out, "%s %lld users, %lld tokens, %lld clients, %lld audit rows (%lld already there)\n",
            what, n->users, n->tokens, n->clients, n->audit, n->skipped);
}

static void progress(const struct transfer_counts *n, void *ctx)
{
    (void)ctx;
    print_counts(stderr, "clientes-admin: so far", n);
}

static int bad_number(const struct admin_command *cmd, const char *s, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(s, &end, 10);
    if (errno || *end || end == s || *out < 1 || *out > 1000000) {
        fprintf(stderr, "clientes-admin: --batch takes 1 to 1000000, not '%s'\n", s);
        return admin_usage(cmd);
    }
    return 0;
}

/* The release phase (Procfile): opening the store migrates it, under the
 * backend's lock, so that the web dynos that follow find it current. */
static int cmd_migrate(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[1];
    struct store *s;
    char shown[CONFIG_URL_MAX];
    const char *reason = NULL;
    enum cl_err e;
    int rc;

    if ((rc = admin_args(cmd, argc, argv, pos, 0, 0, NULL)))
        return rc;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    if ((e = store_ready(s, &reason)))
        return admin_store_fail(a, e, reason ? reason : "the store is not ready");
    config_redact(admin_config(a)->database_url, shown, sizeof(shown));
    printf("%s (%s): schema current\n", shown, s->ops->name);
    return fflush(stdout) == 0 ? ADMIN_OK : ADMIN_FAILED;
}

static int cmd_copy(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[2], *force = NULL, *batch = NULL;
    struct admin_option opts[] = {{"--force", &force}, {"--batch", &batch}, {NULL, NULL}};
    struct transfer_options o = {.progress = progress};
    struct transfer_counts n;
    struct store *from, *to;
    char err[700], clean[700];
    long b = 0;
    int rc;
    enum cl_err e;

    (void)a;
    /* --force takes no value: "--force=yes" or a lone "--force" */
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--force") == 0)
            argv[i] = "--force=yes";
    if ((rc = admin_args(cmd, argc, argv, pos, 2, 2, opts)))
        return rc;
    if (batch && (rc = bad_number(cmd, batch, &b)))
        return rc;
    o.force = force != NULL;
    o.batch = (int)b;
    if (strcmp(store_arg(pos[0]), store_arg(pos[1])) == 0)
        return admin_fail("FROM and TO are the same store");
    if (!(from = open_arg(pos[0], "FROM")))
        return ADMIN_FAILED;
    if (!(to = open_arg(pos[1], "TO"))) {
        store_close(from);
        return ADMIN_FAILED;
    }
    e = transfer_copy(from, to, &o, &n, err, sizeof(err));
    store_close(from);
    store_close(to);
    if (e) {
        print_counts(stderr, "clientes-admin: copied before the failure:", &n);
        return admin_fail("copy: %s", config_redact(err, clean, sizeof(clean)));
    }
    print_counts(stdout, "copied", &n);
    return fflush(stdout) == 0 ? ADMIN_OK : ADMIN_FAILED;
}

static int cmd_export(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[1] = {NULL};
    struct transfer_counts n;
    struct store *s;
    char err[700];
    FILE *out = stdout;
    enum cl_err e;
    int rc;

    if ((rc = admin_args(cmd, argc, argv, pos, 0, 1, NULL)))
        return rc;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    if (pos[0] && strcmp(pos[0], "-") != 0 && !(out = fopen(pos[0], "wx")))
        return admin_fail("export: cannot create %s: %s", pos[0], strerror(errno));
    e = transfer_export(s, out, &n, err, sizeof(err));
    if (out != stdout && fclose(out) != 0 && !e) {
        snprintf(err, sizeof(err), "cannot write %s", pos[0]);
        e = CL_STORAGE;
    }
    if (e)
        return admin_fail("export: %s", err);
    print_counts(stderr, "clientes-admin: exported", &n);
    return ADMIN_OK;
}

static int cmd_import(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[1] = {NULL}, *force = NULL;
    struct admin_option opts[] = {{"--force", &force}, {NULL, NULL}};
    struct transfer_options o = {0};
    struct transfer_counts n;
    struct store *s;
    char err[700];
    FILE *in = stdin;
    enum cl_err e;
    int rc;

    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--force") == 0)
            argv[i] = "--force=yes";
    if ((rc = admin_args(cmd, argc, argv, pos, 0, 1, opts)))
        return rc;
    o.force = force != NULL;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    if (pos[0] && strcmp(pos[0], "-") != 0 && !(in = fopen(pos[0], "r")))
        return admin_fail("import: cannot open %s: %s", pos[0], strerror(errno));
    e = transfer_import(s, in, &o, &n, err, sizeof(err));
    if (in != stdin)
        fclose(in);
    if (e)
        return admin_fail("import: %s (nothing imported)", err);
    print_counts(stdout, "imported", &n);
    return fflush(stdout) == 0 ? ADMIN_OK : ADMIN_FAILED;
}

static const struct admin_command data_commands[] = {
    {"migrate", "", "bring the store of DATABASE_URL to this version's schema (release phase)",
     cmd_migrate},
    {"copy", "FROM TO [--force] [--batch N]",
     "copy every client, user, token and audit row from one store to another (URLs, paths, "
     "or names of variables holding them: copy sqlite:///app/clientes.db DATABASE_URL)",
     cmd_copy},
    {"export", "[FILE]", "write the whole store of DATABASE_URL as NDJSON (stdout by default)",
     cmd_export},
    {"import", "[FILE] [--force]",
     "read an export into the store of DATABASE_URL: all of it or nothing", cmd_import},
};
ADMIN_COMMANDS(data_commands, 30)
