/* admin.h - the subcommands of clientes-admin, the operator's command over
 * the same library and DATABASE_URL as the service: one table of commands,
 * to which each source file adds its own rows (ADMIN_COMMANDS()), and what
 * every command shares: arguments, the store, passwords from stdin or a
 * prompt, one-line errors and Unix exit statuses. */
#ifndef CLIENTES_ADMIN_H
#define CLIENTES_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "accounts.h"
#include "config.h"
#include "error.h"
#include "store.h"

/* Exit statuses. */
#define ADMIN_OK 0
#define ADMIN_FAILED 1 /* refused (unknown name, taken, invalid) or failed (the store) */
#define ADMIN_USAGE 2  /* the command line itself is wrong */

struct admin;

/* One subcommand.  `name` is its words ("user add"); `run` gets the
 * arguments after them (argv[0] is the first), and returns an exit status. */
struct admin_command {
    const char *name;
    const char *args;    /* for usage lines: "NAME --role ROLE" */
    const char *summary; /* one line for --help */
    int (*run)(struct admin *a, const struct admin_command *cmd, int argc, char **argv);
};

/* A file's rows, linked into the table at start (ADMIN_COMMANDS()). */
struct admin_commands {
    const struct admin_command *rows;
    size_t n;
    int order; /* --help lists files by this, then rows as written */
    struct admin_commands *next;
};

void admin_register(struct admin_commands *c);

/* In a file of commands, after its array of rows:
 *   ADMIN_COMMANDS(store_commands, 20)
 * adds them to the table before main() runs (the file is a source of the
 * clientes-admin executable, so it is always linked). */
#define ADMIN_COMMANDS(rows, ord)                                                            \
    static struct admin_commands admin_commands_##rows = {                                  \
        rows, sizeof(rows) / sizeof((rows)[0]), (ord), NULL};                               \
    __attribute__((constructor)) static void admin_register_##rows(void)                    \
    {                                                                                        \
        admin_register(&admin_commands_##rows);                                              \
    }

/* ---- what commands share --------------------------------------------- */

/* The configuration (config_load() at start). */
const struct config *admin_config(const struct admin *a);

/* The accounts' rules, from the configuration (sessions, throttling). */
const struct accounts_config *admin_accounts(const struct admin *a);

/* The operator as a principal (accounts_token_create() etc.). */
const struct principal *admin_operator(const struct admin *a);

/* The store of DATABASE_URL, opened on first use with the operator as its
 * actor; NULL after an error line was printed (then return ADMIN_FAILED).
 * Closed at exit. */
struct store *admin_store(struct admin *a);

/* An option a command takes: "--name VALUE" or "--name=VALUE"; a flag
 * ("--force", no value) when `flag` is set: its value is then "yes". */
struct admin_option {
    const char *name;   /* "--role" */
    const char **value; /* where its value goes (left alone when absent) */
    bool flag;
};

/* Splits argv into positionals (at least min, at most max, into pos[]) and
 * the options of opts[] (NULL-named end).  Returns 0, or prints the
 * command's usage line and returns ADMIN_USAGE. */
int admin_args(const struct admin_command *cmd, int argc, char **argv, const char **pos, int min,
               int max, const struct admin_option *opts);

/* Prints "clientes-admin: error: <message>" on stderr and returns
 * ADMIN_FAILED.  A store error adds the store's detail. */
int admin_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int admin_store_fail(struct admin *a, enum cl_err e, const char *what);

/* Prints the command's usage line on stderr and returns ADMIN_USAGE. */
int admin_usage(const struct admin_command *cmd);

/* Reads a new password: from a terminal, asked twice without echo; else one
 * line of stdin (its newline dropped).  Returns its length, or -1 after an
 * error line (nothing read, the two differ, too long).  buf holds
 * ACCOUNT_PASSWORD_MAX_BYTES + 2 bytes; wipe it after use. */
long admin_read_password(const char *prompt, char *buf, size_t cap);

#endif
