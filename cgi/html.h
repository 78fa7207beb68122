/* html.h - the one way the worker writes HTML: markup from string literals
 * only, every value through one escaper (after kcgi's khtml_*).
 *
 * The rule a reader can check by eye: no value ever reaches the output except
 * through html_text(), html_attr(), html_url() or html_int().  html_lit()
 * takes markup, and only as a string literal: the macro concatenates its
 * argument with "", which does not compile for a variable.
 *
 * Escaping, for element content and double-quoted attribute values alike:
 * & < > " ' become &amp; &lt; &gt; &quot; &#39;, which is enough for both
 * contexts (OWASP XSS Prevention, rules 1 and 2, with the attribute always
 * quoted).  Values are UTF-8; whatever could still change how the page reads
 * is replaced by U+FFFD, visible and inert: control characters but TAB and
 * LF, DEL and the C1 controls, the bidirectional formatting characters
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069: a stored or typed
 * "right-to-left override" would reverse the text around it) and any byte
 * that is not well-formed UTF-8.  Values never go into <script>, <style>, an
 * event-handler attribute or an unquoted attribute: the pages have none of
 * those (the CSP forbids inline script and style anyway).
 *
 * A writer that saw a write fail stays failed: every later call returns -1
 * and writes nothing, so a caller may check once, at the end. */
#ifndef CLIENTES_HTML_H
#define CLIENTES_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct html {
    http_write_fn write;
    void *ctx;
    bool failed;
};

/* Starts a writer that sends its bytes through fn(ctx, ...). */
void html_init(struct html *h, http_write_fn fn, void *ctx);

/* Markup, which must be a string literal: html_lit(h, "<p class=\"x\">"). */
#define html_lit(h, lit) html_markup_((h), "" lit "", sizeof(lit) - 1)

/* What html_lit() expands to; never called with anything but a literal. */
int html_markup_(struct html *h, const char *lit, size_t len);

/* The NUL-terminated UTF-8 value `s` as element content.  NULL writes
 * nothing.  Returns 0 or -1. */
int html_text(struct html *h, const char *s);

/* The first `len` bytes of `s` (no NUL needed) as element content. */
int html_text_n(struct html *h, const char *s, size_t len);

/* `s` inside a double-quoted attribute value: the caller writes the quotes
 * as markup (html_lit(h, "<input value=\""); html_attr(h, v); html_lit(h,
 * "\">")).  Same escaping as html_text(). */
int html_attr(struct html *h, const char *s);

/* `s` as one component of a URL's query string inside a double-quoted
 * attribute: every byte but A-Z a-z 0-9 - . _ ~ percent-encoded (UTF-8 as
 * its bytes, %XX upper-case), which leaves nothing to attribute-escape:
 * html_lit(h, "<a href=\"/ui/cliente?mail="); html_url(h, mail). */
int html_url(struct html *h, const char *s);

/* A decimal integer (text or attribute alike). */
int html_int(struct html *h, long long v);

#endif
