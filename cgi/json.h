/* json.h - the one way the worker writes JSON: a streaming writer over an
 * http_write_fn (after kcgi's kcgijson), for single objects and streamed
 * lists alike.
 *
 * Strings are escaped exactly as cJSON prints them, so the bytes on the wire
 * stay those of the legacy responses: `"` and `\` backslashed, \b \f \n \r \t,
 * every other byte below 0x20 as \u00xx in lower-case hex, and nothing else
 * (no "\/", bytes from 0x7f up as they are).  cJSON itself stays in the tests
 * as the independent parser that checks these bytes.
 *
 * A writer that saw a write fail stays failed: every later call returns -1
 * and writes nothing, so a caller may check once, at the end. */
#ifndef CLIENTES_JSON_H
#define CLIENTES_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

#define JSON_MAX_DEPTH 8 /* objects and arrays open at once */

struct json {
    http_write_fn write;
    void *ctx;
    int depth;                        /* scopes open */
    bool in_array[JSON_MAX_DEPTH];    /* scope i is an array (else an object) */
    bool has_member[JSON_MAX_DEPTH];  /* scope i has a member: the next needs a comma */
    bool failed;
};

/* Starts a writer that sends its bytes through fn(ctx, ...). */
void json_init(struct json *j, http_write_fn fn, void *ctx);

/* Opens an object / an array.  `key` names it inside an object and must be
 * NULL at the top level or inside an array.  Returns 0, or -1 (the writer is
 * then failed) on a write error, a key where none belongs or a missing one,
 * or more than JSON_MAX_DEPTH scopes. */
int json_obj_open(struct json *j, const char *key);
int json_arr_open(struct json *j, const char *key);

/* Closes the innermost scope, which must be an object / an array. */
int json_obj_close(struct json *j);
int json_arr_close(struct json *j);

/* A string member (or array element: key NULL) whose value is the
 * NUL-terminated UTF-8 string `val`. */
int json_put_str(struct json *j, const char *key, const char *val);

/* An integer member (or array element). */
int json_put_int(struct json *j, const char *key, long long val);

/* A null, or a boolean, member (or array element). */
int json_put_null(struct json *j, const char *key);
int json_put_bool(struct json *j, const char *key, bool val);

/* A string member whose value may be NULL (then null). */
int json_put_str_or_null(struct json *j, const char *key, const char *val);

/* A member whose value is `val`, JSON text already (an audit row's
 * "changes", made by the library), written as it is; NULL writes null.
 * The caller vouches that it is one well-formed JSON value. */
int json_put_raw(struct json *j, const char *key, const char *val);

/* A fixed, caller-owned buffer as the writer's target: json_buf_write is an
 * http_write_fn (ctx a struct json_buf *) that appends, and refuses (-1,
 * overflow set) what does not fit, so a body is either whole or refused. */
struct json_buf {
    char *data;
    size_t len, cap;
    bool overflow;
};

void json_buf_init(struct json_buf *b, char *data, size_t cap);
int json_buf_write(void *ctx, const char *buf, size_t len);

#endif
