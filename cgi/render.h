/* render.h - nginx templates: plain substitution of ${NAME} placeholders
 * (upper-case names in braces; nginx's own $variables are lower-case and
 * never touched), nothing else. */
#ifndef CLIENTES_RENDER_H
#define CLIENTES_RENDER_H

#include <stddef.h>

#include "config.h"

struct render_var {
    const char *name;  /* "PORT" */
    const char *value; /* may hold several lines */
};

/* Returns the template `text` with every ${NAME} replaced by its value, as a
 * malloc'd string the caller frees.  A value of several lines placed alone on
 * its line keeps that line's indentation on each of them.  Lines whose first
 * word is one of the `drop` directives (NULL-terminated, may be NULL) are left
 * out.  Returns NULL with a one-line reason in err for a placeholder not in
 * vars (naming it, its line and the known names), or when out of memory. */
char *render_text(const char *text, const struct render_var *vars, size_t nvars,
                  const char *const *drop, char *err, size_t errlen);

/* A template may be another one with some names set otherwise: a line
 *   #!extends BASE NAME=VALUE ...
 * (BASE a file name next to the template; one level only).  Looks for that
 * line in `text`: returns 0 when there is none, 1 when there is one, with
 * BASE in base (baselen bytes) and up to max NAME=VALUE pairs in over[] (the
 * strings point into names_buf, which must outlive them), or -1 with a reason
 * in err for a malformed line. */
#define RENDER_EXTENDS_MAX 8
int render_extends(const char *text, char *base, size_t baselen, struct render_var *over,
                   size_t *nover, char *names_buf, size_t names_len, char *err, size_t errlen);

/* ALLOW_MAP: the body of nginx's `map $request_uri $allow_methods`, one line
 * per route of the route table (its exact path, with or without a query,
 * gives its Allow value), then `default` with every method of the table:
 * what nginx's own 405 (TRACE, refused before any location) says in Allow.
 * Malloc'd; NULL when out of memory. */
char *render_allow_map(void);

/* REAL_IP_CONF: for each TRUSTED_PROXIES entry a `set_real_ip_from` line, then
 * `real_ip_header X-Forwarded-For;` and `real_ip_recursive on;`; "" when there
 * is none (the header is then never trusted).  Malloc'd; NULL when out of
 * memory. */
char *render_real_ip(const struct config_proxies *p);

/* STATIC_MAP: the body of nginx's `map $uri $static_file`, one line per
 * static file (asset.h): its hashed URL, then its name in conf/static/.
 * Malloc'd; NULL when out of memory. */
char *render_static_map(void);

#endif
