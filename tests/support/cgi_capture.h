/* cgi_capture.h - what the HTTP layer writes, captured and taken apart: shared
 * by the CGI tests (tests/cgi) and the fuzz harnesses (tests/fuzz).
 *
 * No cmocka here, and no assertions: everything reports through return
 * values, so the libFuzzer binaries can link it.  The cmocka side (failing a
 * test on a malformed response) is cgi_support.h. */
#ifndef CLIENTES_CGI_CAPTURE_H
#define CLIENTES_CGI_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

/* Everything written through cgi_out_write, plus a way to make the "peer" go
 * away after some number of calls. */
struct cgi_out {
    char *data; /* NUL-terminated; NULL before the first accepted write */
    size_t len, cap;
    int calls;     /* cgi_out_write calls so far, refused ones included */
    int fail_from; /* the call index (0-based) from which writes fail; -1: never */
    bool failed;   /* a write was refused */
};

/* An empty capture that never refuses a write. */
void cgi_out_init(struct cgi_out *o);

/* Forgets what was written (and the call count), keeping the buffer and
 * fail_from: for the next response into the same capture. */
void cgi_out_reset(struct cgi_out *o);

void cgi_out_free(struct cgi_out *o);

/* An http_write_fn (ctx is a struct cgi_out *): appends buf[0..len) and
 * returns 0, or returns -1 once the call index reaches fail_from.  Aborts
 * when out of memory (a test cannot go on without the bytes). */
int cgi_out_write(void *ctx, const char *buf, size_t len);

/* A response "Status: NNN reason\r\nheaders\r\n\r\nbody" split into its parts. */
struct cgi_resp {
    int status;
    char status_line[128]; /* without its CRLF */
    char headers[1024];    /* the header lines after the status line, CRLF-terminated */
    const char *body;      /* points into the cgi_out buffer */
    size_t body_len;
};

enum cgi_parse_err {
    CGI_PARSE_OK = 0,
    CGI_PARSE_EMPTY,         /* nothing (or at most 8 bytes) was written */
    CGI_PARSE_NO_STATUS,     /* does not start with "Status: " */
    CGI_PARSE_NO_END,        /* no CRLF CRLF ending the head */
    CGI_PARSE_LONG_STATUS,   /* the status line does not fit status_line */
    CGI_PARSE_LONG_HEADERS,  /* the header lines do not fit headers */
    CGI_PARSE_BARE_LF,       /* a line of the head ends in LF without CR */
};

/* Splits what o captured into r.  Returns CGI_PARSE_OK or the first problem
 * found (r is then incomplete). */
enum cgi_parse_err cgi_parse_response(const struct cgi_out *o, struct cgi_resp *r);

/* A short English description of e. */
const char *cgi_parse_strerror(enum cgi_parse_err e);

/* Looks for the header `name` (case-insensitive, followed by ':') among the
 * CRLF-terminated lines head[0..hlen).  Returns how many lines carry it, or
 * -1 when a line does not end in CRLF.  When found, *value and *value_len
 * (either may be NULL) give the value of the last one, leading spaces
 * skipped; it is not NUL-terminated. */
int cgi_find_header(const char *head, size_t hlen, const char *name, const char **value,
                    size_t *value_len);

#endif
