/* cgi_support.h - the cmocka side of cgi_capture.h for test_http and
 * test_route: the same split and header lookup, failing the test where the
 * response is malformed.  Not for the fuzz harnesses (they do not link
 * cmocka): they use cgi_capture.h directly. */
#ifndef CLIENTES_CGI_SUPPORT_H
#define CLIENTES_CGI_SUPPORT_H

#include <stddef.h>

#include "cgi_capture.h"

/* cgi_parse_response, failing the test unless o holds a well-formed head:
 * "Status: " first, every line ending in CRLF, a blank line after the
 * headers. */
void cgi_split_response(const struct cgi_out *o, struct cgi_resp *r);

/* The value of header `name` (case-insensitive) copied into val, or NULL when
 * absent.  A header present twice, or a value that does not fit cap, fails
 * the test. */
const char *cgi_header(const struct cgi_resp *r, const char *name, char *val, size_t cap);

#endif
