/* ts_pg.c - ts_pg_database(): a fresh PostgreSQL store per test, in the
 * cluster bin/test starts (see pg_support.h, which does the work). */
#include "ts_pg.h"

#include <stdio.h>

#include "pg_support.h"

int ts_pg_database(const char *name, char *url, size_t len)
{
    char err[512];

    /* A schema of its own in this process's database rather than a whole
     * database: for the store it is the same (an empty place nobody used),
     * and it is made in milliseconds instead of a tenth of a second.  The
     * name only helps a reader of the cluster's log. */
    (void)name;
    if (ts_pg_fresh_url(url, len, err, sizeof(err)) != 0) {
        if (len)
            url[0] = '\0';
        fprintf(stderr, "ts_pg_database: %s\n", err);
        return -1;
    }
    return 0;
}
