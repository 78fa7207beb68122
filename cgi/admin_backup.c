/* admin_backup.c - clientes-admin backup and restore: a consistent copy of a
 * SQLite store taken while the service keeps serving, and its restoring. */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "store_sqlite.h"

static int cmd_backup(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[1];
    char err[512];
    struct store *s;
    enum cl_err e;
    int rc = admin_args(cmd, argc, argv, pos, 1, 1, NULL);

    if (rc)
        return rc;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    if ((e = store_sqlite_backup(s, pos[0], err, sizeof(err))))
        return admin_fail("%s", err);
    printf("backup of the store written to %s\n", pos[0]);
    return ADMIN_OK;
}

static int cmd_restore(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[1], *force = NULL;
    const struct admin_option opts[] = {{"--force", &force, true}, {NULL, NULL, false}};
    char target[CONFIG_URL_MAX], err[512];
    int rc = admin_args(cmd, argc, argv, pos, 1, 1, opts);

    if (rc)
        return rc;
    if (store_sqlite_path(admin_config(a)->database_url, target, sizeof(target)) != 0)
        return admin_fail("restore writes a SQLite store; DATABASE_URL names another (for "
                          "PostgreSQL: pg_restore, or clientes-admin import)");
    if (store_sqlite_restore(pos[0], target, force != NULL, err, sizeof(err)))
        return admin_fail("%s", err);
    printf("%s restored from %s\n", target, pos[0]);
    return ADMIN_OK;
}

static const struct admin_command backup_commands[] = {
    {"backup", "FILE",
     "copies the SQLite store into FILE (new), consistently, while the service serves",
     cmd_backup},
    {"restore", "FILE [--force]",
     "restores a backup into DATABASE_URL's SQLite file (a new one; --force replaces a store: "
     "stop the service first)",
     cmd_restore},
};
ADMIN_COMMANDS(backup_commands, 40)
