/* v1.h - the resource API /v1: JSON records with their metadata, conditional
 * requests, keyset pages, CSV in and out, the GDPR export and erasure, the
 * audit trail and the OpenAPI document.  The handlers are rows of the route
 * table (route.c); what the browser interface reuses (the record renderer,
 * the cursors, the body decoder) is declared here too. */
#ifndef CLIENTES_V1_H
#define CLIENTES_V1_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "http.h"
#include "json.h"
#include "route.h"
#include "store.h"

/* ---- settings (from the configuration table, set once before serving) - */

struct v1_settings {
    bool require_if_match;    /* REQUIRE_IF_MATCH: writes without If-Match get 428 */
    const char *cors_origins; /* CORS_ORIGINS: comma-separated origins; "" none */
    long import_max;          /* IMPORT_MAX_BYTES: the largest import body */
};

/* Copies the settings (the strings too).  Until it is called: no If-Match
 * required, no CORS origin, imports up to 10 MiB. */
void v1_configure(const struct v1_settings *s);

/* The header lines a /v1 response to `req` carries for CORS: for an Origin
 * listed in CORS_ORIGINS, Access-Control-Allow-Origin (that origin),
 * Access-Control-Expose-Headers and Vary: Origin; for another Origin while
 * some are configured, Vary alone; otherwise "".  Writes into buf (len
 * bytes, NUL-terminated). */
void v1_cors(const struct http_request *req, char *buf, size_t len);

/* ---- the handlers (route.c's table) ------------------------------------- */

int v1_list(struct route_ctx *c);    /* GET, HEAD /v1/clientes (JSON page, or CSV by Accept) */
int v1_create(struct route_ctx *c);  /* POST /v1/clientes */
int v1_csv(struct route_ctx *c);     /* GET, HEAD /v1/clientes.csv */
int v1_import(struct route_ctx *c);  /* POST /v1/clientes/import */
int v1_get(struct route_ctx *c);     /* GET, HEAD /v1/clientes/{mail} */
int v1_change(struct route_ctx *c);  /* PUT, PATCH /v1/clientes/{mail} */
int v1_delete(struct route_ctx *c);  /* DELETE /v1/clientes/{mail}[?erase=1] */
int v1_history(struct route_ctx *c); /* GET, HEAD /v1/clientes/{mail}/history */
int v1_export(struct route_ctx *c);  /* GET, HEAD /v1/clientes/{mail}/export */
int v1_audit(struct route_ctx *c);   /* GET, HEAD /v1/audit */
int v1_openapi(struct route_ctx *c); /* GET, HEAD /v1/openapi.json */

/* ---- the record --------------------------------------------------------- */

/* Writes the record as /v1 shows it: an object (named `key` inside an
 * object, NULL elsewhere) with mail, nombre, apellidos, fecha_nacimiento as
 * YYYY-MM-DD whatever form it was stored in, direccion, creado and
 * modificado.  Returns 0 or -1 (the writer failed). */
int v1_put_record(struct json *j, const char *key, const struct client *c,
                  const struct client_meta *m);

/* The strong ETag of a version: "\"<version>\"" into buf (at least 24 bytes). */
void v1_etag(long long version, char *buf, size_t len);

/* True when the If-Match / If-None-Match value `h` names `version`: "*", or a
 * comma-separated list of entity tags; weak tags ("W/...") count only when
 * weak is true (If-None-Match compares weakly, If-Match strongly). */
bool v1_etag_matches(const char *h, long long version, bool weak);

/* ---- the JSON body ------------------------------------------------------ */

/* What a body is for: which fields it must, may and may not have. */
enum v1_body {
    V1_BODY_CREATE,  /* POST: all five fields, each by its rule */
    V1_BODY_REPLACE, /* PUT: all but the mail (which may be given, unchanged) */
    V1_BODY_PATCH,   /* PATCH, a merge patch: any of them, none null */
    V1_BODY_IMPORT,  /* a line of an NDJSON import: as CREATE; creado and
                        modificado (an export's) are accepted and ignored */
};

/* Decodes `len` bytes of JSON into *out and sets in *mask the
 * MANAGER_FIELD() bits of the fields given.  The mail of REPLACE and PATCH
 * is checked as a key only (the caller compares it with the record's).
 * Returns 0; 400 with *err filled when the body is not one UTF-8 JSON object
 * (malformed, trailing text, a \u0000 escape or NUL byte, another type); 422
 * with every refused field in err->fields (unknown, repeated, read-only,
 * missing, null, not a string, or invalid by its rule).  *out is then
 * partial and must not be stored. */
int v1_decode_record(const char *body, size_t len, enum v1_body mode, struct client *out,
                     unsigned *mask, struct http_error *err);

/* ---- cursors ------------------------------------------------------------ */

#define V1_CURSOR_VALUE_CAP CLIENT_APELLIDOS_CAP
#define V1_CURSOR_TEXT_CAP 1024 /* base64url of the longest cursor, NUL included */

/* A position in a sorted list: the sort, and the sort column's value and
 * mail_key of a row (struct client_query's after_value and after_key). */
struct v1_cursor {
    enum client_sort sort;
    bool desc;
    char value[V1_CURSOR_VALUE_CAP];
    char key[CLIENT_MAIL_CAP];
};

/* The cursor of the row (c, m) in `sort` / `desc`. */
void v1_cursor_of(const struct client *c, const struct client_meta *m, enum client_sort sort,
                  bool desc, struct v1_cursor *out);

/* Writes the opaque text of a cursor (base64url, no padding) into out
 * (V1_CURSOR_TEXT_CAP bytes). */
void v1_cursor_encode(const struct v1_cursor *cur, char *out);

/* Decodes a cursor's text.  Returns 0, or -1 when it is not one this
 * service made (bad base64url, version, sort, lengths, UTF-8). */
int v1_cursor_decode(const char *text, struct v1_cursor *out);

#endif
