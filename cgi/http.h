/* http.h - request decoding and response writing for the worker, with no
 * socket in sight: the FastCGI glue (worker.c) fills a struct http_request
 * and gives a write callback, tests do the same with plain buffers. */
#ifndef CLIENTES_HTTP_H
#define CLIENTES_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Methods the service knows, as bits so a route can allow several.  Their
 * names are spelled once, in http.c's method table, which both parsing and
 * the Allow header read. */
enum http_method {
    HTTP_OTHER = 0, /* anything else: never reaches a handler */
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_DELETE = 1 << 4,
    HTTP_PATCH = 1 << 5,  /* /v1: a JSON merge patch (RFC 7396) */
    HTTP_OPTIONS = 1 << 6 /* /v1: 204 + Allow, and CORS preflights */
};

/* The methods that change nothing (RFC 9110 "safe"): the only ones that may
 * come from another site and the only ones without a body. */
#define HTTP_SAFE_METHODS (HTTP_GET | HTTP_HEAD | HTTP_OPTIONS)

#define HTTP_MAX_PARAMS 16     /* more parameters than this is a 400 */
#define HTTP_BODY_MAX 16384    /* hard cap on a request body (nginx caps first) */
#define HTTP_QUERY_MAX 16384   /* longest query string decoded (nginx caps first) */
#define HTTP_MESSAGE_MAX 320   /* longest error message */
#define HTTP_REQUEST_ID_MAX 200 /* longest request id kept (as nginx's map in conf/http.conf) */

/* One decoded parameter: name and value are NUL-terminated, valid UTF-8,
 * free of NUL bytes; value_len excludes the terminator. */
struct http_param {
    const char *name;
    const char *value;
    size_t value_len;
};

#define HTTP_FIELD_ERRORS_MAX 16 /* invalid fields named in one error */
#define HTTP_FIELD_NAME_MAX 64    /* longest field name quoted back */

/* One invalid field of a request (the /v1 problem's "errors" member): its
 * name (copied: an unknown key comes from the request) and a static Spanish
 * reason. */
struct http_field_error {
    char field[HTTP_FIELD_NAME_MAX + 1];
    const char *reason;
};

struct json;

/* How an error is written: the legacy contract's shape, or RFC 9457's. */
enum http_error_style {
    HTTP_ERRORS_LEGACY = 0, /* {"mensaje":"...","status":"<code>"}, application/json */
    HTTP_ERRORS_PROBLEM     /* {"type","title","status","detail"}, application/problem+json */
};

/* An error to send: the status, the Spanish `mensaje`, and the extra headers
 * some statuses need (Allow for 405, Retry-After for 503 and 429,
 * WWW-Authenticate for 401); for a validation
 * error of the /v1 API, every field refused (rendered as "errors").  http_fail() resets every other field; the
 * renderer of the route (send_error() in route.c) sets the style. */
struct http_error {
    int status;
    char mensaje[HTTP_MESSAGE_MAX]; /* the problem's `detail` */
    const char *allow;  /* e.g. "GET, HEAD"; NULL for none */
    int retry_after;    /* seconds; 0 for none */
    /* More complete header lines ("Name: value\r\n"), e.g. WWW-Authenticate
     * or a Set-Cookie that clears a dead session; NULL for none. */
    const char *headers;
    enum http_error_style style;
    /* HTTP_ERRORS_PROBLEM: the problem's `type` (NULL: "about:blank", whose
     * `title` is the status's reason phrase) and `title` (NULL: the reason
     * phrase), and a writer of further members (RFC 9457 extensions, e.g. a
     * list of invalid fields) called inside the object; NULL for none. */
    const char *type;
    const char *title;
    void (*members)(struct json *j, const void *ctx);
    const void *members_ctx;
    int nfields;        /* entries of fields[] in use */
    int fields_omitted; /* invalid fields beyond HTTP_FIELD_ERRORS_MAX */
    struct http_field_error fields[HTTP_FIELD_ERRORS_MAX];
};

/* Reads up to `len` more body bytes into buf: returns how many (0 at the
 * end), or -1 when the body cannot be read (the peer went away). */
typedef long (*http_read_fn)(void *ctx, char *buf, size_t len);

/* A request as the worker sees it.  The strings are borrowed from whoever
 * filled the struct (the FastCGI environment, or a test) and must outlive it;
 * params point into `scratch`, owned by the struct itself. */
struct http_request {
    enum http_method method;
    const char *method_name;  /* as received (NULL when none) */
    const char *path;         /* already decoded and normalised by nginx */
    /* The request target as the client sent it (REQUEST_URI: still
     * percent-encoded, slashes not merged), for routes with a {mail}
     * segment, which must see an encoded '/' as part of the mail; NULL when
     * not passed (then `path` is matched). */
    const char *raw_uri;
    const char *query;        /* raw QUERY_STRING, may be NULL */
    const char *content_type; /* may be NULL */
    const char *body;         /* `body_len` bytes read by CONTENT_LENGTH */
    size_t body_len;
    /* A body larger than HTTP_BODY_MAX is not read before routing: its
     * `body_pending` bytes come through body_read(body_ctx, ...) for the
     * routes that stream one (an import), and every other route answers
     * 413.  0 / NULL for a body read whole. */
    size_t body_pending;
    http_read_fn body_read;
    void *body_ctx;
    /* Headers of the /v1 API (Accept also sends a browser asking for / to
     * the browser pages); each NULL when not sent. */
    const char *accept;        /* Accept */
    const char *if_match;      /* If-Match */
    const char *if_none_match; /* If-None-Match */
    const char *prefer;        /* Prefer */
    const char *acr_method;    /* Access-Control-Request-Method (a preflight) */
    const char *acr_headers;   /* Access-Control-Request-Headers */
    /* Where the request comes from, for http_cross_site(); each may be NULL. */
    const char *origin;         /* the Origin header */
    const char *sec_fetch_site; /* the Sec-Fetch-Site header */
    const char *host;           /* the Host header: the request's own authority */
    const char *scheme;         /* "http" or "https" as the client used it */
    /* Credentials (cgi/auth.h); each may be NULL.  Never logged. */
    const char *authorization;  /* the Authorization header */
    const char *cookie;         /* the Cookie header */
    const char *csrf_token;     /* the X-CSRF-Token header */
    const char *client_addr;    /* the client's address (nginx's, after TRUSTED_PROXIES) */
    char request_id[HTTP_REQUEST_ID_MAX + 1]; /* sanitised X-Request-Id, for logs */

    struct http_param params[HTTP_MAX_PARAMS];
    int nparams;
    char scratch[HTTP_QUERY_MAX + HTTP_BODY_MAX + 2 * HTTP_MAX_PARAMS];
};

/* Maps a method name to its enum value; unknown names give HTTP_OTHER. */
enum http_method http_method_parse(const char *name);

/* The name of one method ("GET"), or "-" for HTTP_OTHER and combinations. */
const char *http_method_name(enum http_method m);

/* Writes the Allow value of a set of method bits into buf, in the table's
 * order and comma-separated ("GET, HEAD").  Returns 0, or -1 when it does not
 * fit len bytes or no known method is set (buf then holds ""). */
int http_allow_format(unsigned methods, char *buf, size_t len);

/* True when a state-changing request (any method but GET and HEAD) was sent
 * by a page of another site, as browsers say: Sec-Fetch-Site "cross-site" or
 * "same-site", or, without that header, an Origin that is not the request's
 * own (scheme + Host, default ports ignored, "null" included).  Requests
 * without either header (curl, scripts) are never cross-site. */
bool http_cross_site(const struct http_request *r);

/* Copies `id` into r->request_id keeping only [A-Za-z0-9._:@+=/-] (at most
 * HTTP_REQUEST_ID_MAX kept), the alphabet nginx passes through, so ids from
 * Heroku's router survive whole and a hostile header cannot forge log
 * lines.  An empty result stays empty. */
void http_set_request_id(struct http_request *r, const char *id);

/* Percent-encodes s (NULL: "") for a URI path segment or query value into
 * out (cap bytes, always NUL-terminated): the unreserved characters and
 * those of `keep` (NULL: none) as they are, every other byte as %XX.
 * Returns 0, or -1 when it did not fit (out then holds what did, whole
 * escapes only). */
int http_pct_encode(const char *s, const char *keep, char *out, size_t cap);

/* Decodes the application/x-www-form-urlencoded string src[0..len) and
 * appends its parameters to r->params: '+' is a space, %XX a byte.  Empty
 * segments ("a=1&&b=2", a trailing '&') are skipped; a segment without '='
 * has an empty value.  Returns 0, or 400 with *err filled when an escape is
 * malformed, a name or value decodes to a NUL or invalid UTF-8, a name
 * repeats, or there are more than HTTP_MAX_PARAMS; 414 when the decoded text
 * does not fit.  On failure r->params may hold some parameters already. */
int http_parse_form(struct http_request *r, const char *src, size_t len, struct http_error *err);

/* Decodes r->query and, for a form-encoded body (Content-Type
 * application/x-www-form-urlencoded), the body too, into r->params.  A name
 * present in both is a repeat (400); any body on GET or HEAD is a 400, as
 * they take none; other bodies are ignored.  Returns 0 or the status with
 * *err set. */
int http_parse_params(struct http_request *r, struct http_error *err);

/* Decodes r->query alone into r->params (a body, whatever its type, is the
 * handler's), refusing a body on GET and HEAD as http_parse_params() does.
 * Returns 0 or the status with *err set. */
int http_parse_query(struct http_request *r, struct http_error *err);

/* Reads the next body bytes into buf (at most len): first what was read
 * whole (r->body), then what is pending (r->body_read).  *off is the
 * caller's position, 0 at the start.  Returns the bytes read, 0 at the end,
 * -1 when the rest of the body cannot be read. */
long http_body_read(struct http_request *r, size_t *off, char *buf, size_t len);

/* The value of parameter `name`, or NULL when absent (len in *len). */
const char *http_param(const struct http_request *r, const char *name, size_t *len);

/* Writes `len` bytes of response; returns 0, or -1 when the peer is gone. */
typedef int (*http_write_fn)(void *ctx, const char *buf, size_t len);

/* A response under construction.  The status line and headers go out with
 * http_begin(); after that only body bytes can follow. */
struct http_response {
    http_write_fn write;
    void *ctx;
    bool head_only; /* HEAD: headers only, body suppressed */
    bool started;   /* http_begin() was called */
    bool failed;    /* a write failed: the peer is gone, stop writing */
    int status;     /* what was sent, for logs */
};

/* Initialises `res` to write through `fn(ctx, ...)`. */
void http_response_init(struct http_response *res, http_write_fn fn, void *ctx, bool head_only);

/* Sends the status line and headers of a JSON response: Content-Type
 * application/json; charset=utf-8, Content-Length when content_length >= 0
 * (a streamed body passes -1), and `extra` (complete "Name: value\r\n"
 * lines, or NULL).  Returns 0 or -1 when the write failed. */
int http_begin(struct http_response *res, int status, const char *extra, long content_length);

/* http_begin() with another Content-Type (NULL: none, for a 204 or 304). */
int http_begin_type(struct http_response *res, int status, const char *content_type,
                    const char *extra, long content_length);


#define HTTP_JSON_TYPE "application/json; charset=utf-8"
#define HTTP_PROBLEM_TYPE "application/problem+json" /* UTF-8 by definition (RFC 8259) */

/* Appends body bytes (dropped for HEAD).  Returns 0 or -1. */
int http_write(struct http_response *res, const char *buf, size_t len);

/* Sends a complete JSON response. */
int http_send_json(struct http_response *res, int status, const char *extra, const char *body,
                   size_t len);

/* The one place that renders an error, in err->style: the legacy
 * {"mensaje":"...","status":"<code>"} (application/json), or RFC 9457's
 * {"type":"about:blank","title":"Unauthorized","status":401,"detail":"..."}
 * (application/problem+json; detail is the mensaje) with, when fields were
 * refused, "errors":[{"field","reason"}...] (and "errors_omitted" past the
 * cap), both written by json.h, with the Allow / Retry-After / further
 * header lines.  Does nothing if the
 * response was already started (the status line is gone; the caller logs
 * instead).  Returns 0 or -1. */
int http_send_error(struct http_response *res, const struct http_error *err);

/* Adds a refused field to *err (its name cut to HTTP_FIELD_NAME_MAX bytes on
 * a character boundary); past HTTP_FIELD_ERRORS_MAX it is only counted. */
void http_field_error(struct http_error *err, const char *field, size_t len, const char *reason);

/* Fills *err (no fields, no headers); returns err->status so handlers can
 * `return http_fail(...)`. */
int http_fail(struct http_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The reason phrase for a status ("Not Found"); "Unknown" for others. */
const char *http_reason(int status);

#endif
