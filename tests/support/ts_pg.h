/* ts_pg.h - the hook through which the C suites get a PostgreSQL database
 * of their own (the store tests' backend choice: tests/unit/store_fx.h). */
#ifndef CLIENTES_TS_PG_H
#define CLIENTES_TS_PG_H

#include <stddef.h>

/* Creates a fresh, empty database for one test, named after `name` (letters,
 * digits and '_'; made unique by the implementation), owned by the
 * application's role, and writes a store URL for it (postgres://...) into
 * url (len bytes).  Returns 0, or -1 with a message on stderr saying why:
 * then the test fails (a missing PostgreSQL is a failure, never a skip). */
int ts_pg_database(const char *name, char *url, size_t len);

#endif
