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
    fprintf(out, "%s %lld clients, %lld users, %lld tokens, %lld audit rows (%lld already there)\n",
            what, n->clients, n->users, n->tokens, n->audit, n->unchanged);
}

static int refused_target(void)
{
    return admin_fail("the target store holds data: refusing to write into it; --merge adds what "
                      "it lacks (a client there already takes the copy's values)");
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
    const char *pos[2], *merge = NULL, *why = NULL;
    struct admin_option opts[] = {{"--merge", &merge, true}, {NULL, NULL, false}};
    struct transfer_counts n = {0};
    struct store *from, *to;
    enum cl_err e;
    int rc;

    (void)a;
    if ((rc = admin_args(cmd, argc, argv, pos, 2, 2, opts)))
        return rc;
    if (strcmp(store_arg(pos[0]), store_arg(pos[1])) == 0)
        return admin_fail("FROM and TO are the same store");
    if (!(from = open_arg(pos[0], "FROM")))
        return ADMIN_FAILED;
    if (!(to = open_arg(pos[1], "TO"))) {
        store_close(from);
        return ADMIN_FAILED;
    }
    e = transfer_copy(from, to, merge ? TRANSFER_MERGE : TRANSFER_INTO_EMPTY, &n, &why);
    if (e == CL_EXISTS)
        rc = refused_target();
    else if (e)
        rc = admin_fail("copy: %s: %s%s%s (nothing copied)", cl_strerror(e), why ? why : "",
                        why ? "; " : "",
                        store_errmsg(to)[0] ? store_errmsg(to) : store_errmsg(from));
    else
        print_counts(stdout, "copied", &n);
    store_close(from);
    store_close(to);
    if (rc)
        return rc;
    return fflush(stdout) == 0 ? ADMIN_OK : ADMIN_FAILED;
}

static int write_line(void *ctx, const char *line, size_t len)
{
    return fwrite(line, 1, len, ctx) != len;
}

static int cmd_export(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[1] = {NULL};
    struct transfer_counts n;
    struct store *s;
    FILE *out = stdout;
    enum cl_err e;
    int rc;

    if ((rc = admin_args(cmd, argc, argv, pos, 0, 1, NULL)))
        return rc;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    /* a new file only: a backup is never written over another */
    if (pos[0] && strcmp(pos[0], "-") != 0 && !(out = fopen(pos[0], "wx")))
        return admin_fail("export: cannot create %s: %s", pos[0], strerror(errno));
    e = transfer_export(s, write_line, out, &n);
    if (fflush(out) != 0 && !e)
        e = CL_STORAGE;
    if (out != stdout && fclose(out) != 0 && !e)
        e = CL_STORAGE;
    if (e)
        return admin_store_fail(a, e, "export");
    print_counts(stderr, "clientes-admin: exported", &n);
    return ADMIN_OK;
}

static int cmd_import(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[1] = {NULL}, *merge = NULL;
    struct admin_option opts[] = {{"--merge", &merge, true}, {NULL, NULL, false}};
    struct transfer_import *im;
    struct transfer_counts n;
    struct store *s;
    FILE *in = stdin;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    enum cl_err e;
    int rc;

    if ((rc = admin_args(cmd, argc, argv, pos, 0, 1, opts)))
        return rc;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    if (pos[0] && strcmp(pos[0], "-") != 0 && !(in = fopen(pos[0], "r")))
        return admin_fail("import: cannot open %s: %s", pos[0], strerror(errno));
    e = transfer_import_begin(s, merge ? TRANSFER_MERGE : TRANSFER_INTO_EMPTY, &im);
    if (e) {
        if (in != stdin)
            fclose(in);
        return e == CL_EXISTS ? refused_target() : admin_store_fail(a, e, "import");
    }
    while ((len = getline(&line, &cap, in)) >= 0) {
        const char *why = NULL;
        lineno++;
        if ((e = transfer_import_line(im, line, (size_t)len, &why))) {
            transfer_import_end(im, false, NULL);
            free(line);
            if (in != stdin)
                fclose(in);
            if (why)
                return admin_fail("import: line %ld: %s (nothing imported)", lineno, why);
            return admin_store_fail(a, e, "import (nothing imported)");
        }
    }
    free(line);
    rc = ferror(in);
    if (in != stdin)
        fclose(in);
    if (rc) {
        transfer_import_end(im, false, NULL);
        return admin_fail("import: cannot read the file (nothing imported)");
    }
    if ((e = transfer_import_end(im, true, &n)))
        return admin_store_fail(a, e, "import (nothing imported)");
    print_counts(stdout, "imported", &n);
    return fflush(stdout) == 0 ? ADMIN_OK : ADMIN_FAILED;
}

static const struct admin_command data_commands[] = {
    {"migrate", "", "bring the store of DATABASE_URL to this version's schema (release phase)",
     cmd_migrate},
    {"copy", "FROM TO [--merge]",
     "copy every client, user, token and audit row from one store to another, in one "
     "transaction (URLs, paths, or names of variables holding them: "
     "copy sqlite:///app/clientes.db DATABASE_URL)",
     cmd_copy},
    {"export", "[FILE]", "write the whole store of DATABASE_URL as NDJSON (stdout by default)",
     cmd_export},
    {"import", "[FILE] [--merge]",
     "read an export into the store of DATABASE_URL: all of it or nothing", cmd_import},
};
ADMIN_COMMANDS(data_commands, 30)
