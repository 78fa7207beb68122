/* support.h - the fixtures every C test suite shares (tests/unit, tests/cgi,
 * tests/fuzz): temporary directories, database files, records.
 *
 * No cmocka and no assertions here: everything reports through return
 * values, so the libFuzzer harnesses link it too.  Each suite wraps what it
 * needs in its own failing helpers. */
#ifndef CLIENTES_TEST_SUPPORT_H
#define CLIENTES_TEST_SUPPORT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "client.h"

/* ---- files */

/* Creates a fresh 0700 directory "<base>/clientes-test-XXXXXX" and writes its
 * path into out (cap bytes).  base NULL means $TMPDIR, or /tmp when unset
 * (CTest sets TMPDIR to the suite's build directory).  Returns 0, or -1 with
 * errno set. */
int ts_mkdtemp(char *out, size_t cap, const char *base);

/* Removes path and everything below it (no symlinks followed), making
 * directories writable first whatever a test left them as.  Returns 0 or -1
 * when something could not be removed. */
int ts_rmtree(const char *path);

/* snprintf(out, cap, "%s/%s", dir, name); aborts the process when it does
 * not fit, since a truncated path would make a test lie. */
void ts_join(char *out, size_t cap, const char *dir, const char *name);

/* snprintf(out, cap, "%s%s", path, suffix), aborting the same way. */
void ts_suffix(char *out, size_t cap, const char *path, const char *suffix);

/* Reads a whole file into a malloc'd buffer the caller frees.  Returns 0 or -1. */
int ts_read_file(const char *path, unsigned char **buf, size_t *len);

/* Creates or truncates path with exactly len bytes of data.  Returns 0 or -1. */
int ts_write_file(const char *path, const void *data, size_t len);

/* 1 when path exists (lstat succeeds), else 0. */
int ts_exists(const char *path);

/* The companions SQLite keeps next to a database file, NULL-terminated:
 * "-wal", "-shm", "-journal". */
extern const char *const ts_db_suffixes[];

/* 1 when path is a SQLite database in WAL mode (header bytes 18 and 19 are
 * 2), 0 when it is another file, -1 when it cannot be read. */
int ts_db_is_wal(const char *path);

/* Removes a SQLite database file and its companions.  Returns 0, or -1 when
 * one of them exists and could not be removed. */
int ts_db_unlink(const char *path);

/* ---- records */

/* The example client every new store holds, indexed by enum client_field. */
#define TS_EXAMPLE_MAIL "ejemplo@gmail.com"
extern const char *const ts_example[CLIENT_NFIELDS];

/* Fills c from five NUL-terminated strings through client_set(), so the record
 * holds exactly what a caller of the library would build.  Returns CL_OK or
 * the first error. */
enum cl_err ts_client(struct client *c, const char *nombre, const char *apellidos,
                      const char *mail, const char *fecha, const char *direccion);

/* The same from an array indexed by enum client_field. */
enum cl_err ts_client_from(struct client *c, const char *const v[CLIENT_NFIELDS]);

/* 1 when every field of a and b is the same string, else 0. */
int ts_client_equal(const struct client *a, const struct client *b);

/* Checks that `item` is the JSON rendering of c: an object whose own key is
 * c's mail, holding exactly the five fields in table order, with the wire
 * names (legacy false: "nombre") or the old list's (legacy true: "Nombre"),
 * each a string equal to c's value.  Returns NULL when it is, or what
 * differs (a static buffer, overwritten by the next call). */
const char *ts_check_record(const cJSON *item, const struct client *c, bool legacy);

#endif
