/* ts_pg.c - the stand-in for ts_pg_database() until the PostgreSQL backend's
 * test support provides the real one (over CLIENTES_PG_ADMIN_URL, see
 * pgcluster.py): it fails, saying so. */
#include "ts_pg.h"

#include <stdio.h>

int ts_pg_database(const char *name, char *url, size_t len)
{
    (void)name;
    if (len)
        url[0] = '\0';
    fprintf(stderr, "ts_pg_database: no PostgreSQL test support in this build "
                    "(tests/support/ts_pg.c is the stand-in): CLIENTES_TEST_STORE=pg cannot run\n");
    return -1;
}
