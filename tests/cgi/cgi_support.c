/* cgi_support.c - cgi_capture.h with cmocka failures, for the CGI tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cgi_support.h"

void cgi_split_response(const struct cgi_out *o, struct cgi_resp *r)
{
    enum cgi_parse_err e = cgi_parse_response(o, r);

    if (e != CGI_PARSE_OK)
        fail_msg("malformed response: %s: %.300s", cgi_parse_strerror(e),
                 o->data ? o->data : "(nothing)");
}

const char *cgi_header(const struct cgi_resp *r, const char *name, char *val, size_t cap)
{
    const char *v = NULL;
    size_t vlen = 0;
    int found = cgi_find_header(r->headers, strlen(r->headers), name, &v, &vlen);

    if (found < 0)
        fail_msg("a header line does not end in CRLF: %s", r->headers);
    if (found > 1)
        fail_msg("header '%s' sent %d times", name, found);
    if (found == 0)
        return NULL;
    if (vlen >= cap)
        fail_msg("header '%s': %zu bytes of value, room for %zu", name, vlen, cap - 1);
    memcpy(val, v, vlen);
    val[vlen] = '\0';
    return val;
}
