/* render.c - ${NAME} substitution for the nginx templates. */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asset.h"
#include "route.h"

struct buf {
    char *s;
    size_t len, cap;
};

static int grow(struct buf *b, size_t more)
{
    char *n;
    size_t cap = b->cap ? b->cap : 4096;

    if (b->len + more + 1 <= b->cap)
        return 0;
    while (cap < b->len + more + 1)
        cap *= 2;
    if (!(n = realloc(b->s, cap)))
        return -1;
    b->s = n;
    b->cap = cap;
    return 0;
}

static int add(struct buf *b, const char *s, size_t n)
{
    if (grow(b, n))
        return -1;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

/* A value, each of its lines after the first indented by `indent`. */
static int add_value(struct buf *b, const char *v, const char *indent, size_t ilen)
{
    for (const char *nl; (nl = strchr(v, '\n')) != NULL; v = nl + 1) {
        if (add(b, v, (size_t)(nl + 1 - v)))
            return -1;
        if (nl[1] && nl[1] != '\n' && add(b, indent, ilen))
            return -1;
    }
    return add(b, v, strlen(v));
}

static int dropped(const char *line, size_t len, const char *const *drop)
{
    size_t n;

    while (len && (*line == ' ' || *line == '\t'))
        line++, len--;
    for (; drop && *drop; drop++) {
        n = strlen(*drop);
        if (len > n && memcmp(line, *drop, n) == 0 && (line[n] == ' ' || line[n] == '\t'))
            return 1;
    }
    return 0;
}

static void known_names(const struct render_var *vars, size_t nvars, char *out, size_t len)
{
    size_t pos = 0;

    out[0] = '\0';
    for (size_t i = 0; i < nvars && pos < len; i++) {
        int n = snprintf(out + pos, len - pos, "%s%s", i ? " " : "", vars[i].name);
        if (n < 0)
            break;
        pos += (size_t)n;
    }
}

char *render_text(const char *text, const struct render_var *vars, size_t nvars,
                  const char *const *drop, char *err, size_t errlen)
{
    struct buf b = {0};
    int lineno = 0;

    if (add(&b, "", 0))
        goto nomem;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) + 1 : strlen(line);
        const char *p = line, *end = line + len;
        size_t ilen = strspn(line, " \t");

        lineno++;
        if (dropped(line, len, drop)) {
            line = end;
            continue;
        }
        while (p < end) {
            const char *d = strstr(p, "${"), *close, *name;
            size_t i;
            if (!d || d >= end) {
                if (add(&b, p, (size_t)(end - p)))
                    goto nomem;
                break;
            }
            if (add(&b, p, (size_t)(d - p)))
                goto nomem;
            name = d + 2;
            close = name;
            while (close < end && ((*close >= 'A' && *close <= 'Z') || *close == '_' ||
                                   (close > name && *close >= '0' && *close <= '9')))
                close++;
            if (close == name || close >= end || *close != '}') {
                /* not a placeholder ("${" followed by something else) */
                if (add(&b, d, 2))
                    goto nomem;
                p = d + 2;
                continue;
            }
            for (i = 0; i < nvars; i++)
                if (strlen(vars[i].name) == (size_t)(close - name) &&
                    memcmp(vars[i].name, name, (size_t)(close - name)) == 0)
                    break;
            if (i == nvars) {
                char known[512];
                known_names(vars, nvars, known, sizeof(known));
                snprintf(err, errlen, "line %d: unknown ${%.*s} (known: %s)", lineno,
                         (int)(close - name), name, known);
                free(b.s);
                return NULL;
            }
            if (add_value(&b, vars[i].value ? vars[i].value : "", line,
                          d == line + ilen ? ilen : 0))
                goto nomem;
            p = close + 1;
        }
        line = end;
    }
    return b.s;
nomem:
    free(b.s);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

int render_extends(const char *text, char *base, size_t baselen, struct render_var *over,
                   size_t *nover, char *names_buf, size_t names_len, char *err, size_t errlen)
{
    static const char tag[] = "#!extends ";
    const char *line = text, *end;
    char *w, *save = NULL, *tok;
    size_t n = 0;

    *nover = 0;
    while (line && strncmp(line, tag, sizeof(tag) - 1) != 0) {
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    if (!line)
        return 0;
    line += sizeof(tag) - 1;
    end = strchr(line, '\n');
    if (!end)
        end = line + strlen(line);
    if ((size_t)(end - line) >= names_len) {
        snprintf(err, errlen, "#!extends line too long");
        return -1;
    }
    memcpy(names_buf, line, (size_t)(end - line));
    names_buf[end - line] = '\0';
    for (w = names_buf; (tok = strtok_r(w, " \t\r", &save)) != NULL; w = NULL) {
        char *eq = strchr(tok, '=');
        if (n == 0 && !eq) {
            if (strchr(tok, '/') || strlen(tok) >= baselen) {
                snprintf(err, errlen, "#!extends: '%s' is not a template next to this one", tok);
                return -1;
            }
            snprintf(base, baselen, "%s", tok);
        } else if (n == 0 || !eq || eq == tok || *nover == RENDER_EXTENDS_MAX) {
            snprintf(err, errlen, "#!extends: '%s' is not NAME=VALUE after the base template", tok);
            return -1;
        } else {
            *eq = '\0';
            over[*nover].name = tok;
            over[*nover].value = eq + 1;
            (*nover)++;
        }
        n++;
    }
    if (n == 0) {
        snprintf(err, errlen, "#!extends names no base template");
        return -1;
    }
    return 1;
}

/* Methods in the order Allow lists them. */
static const char *const method_order[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                           "OPTIONS"};
#define NMETHODS (sizeof(method_order) / sizeof(method_order[0]))

/* Sets seen[k] for each method of an Allow value ("GET, HEAD"). */
static void mark_methods(const char *allow, int *seen)
{
    while (*allow) {
        size_t n = strcspn(allow, ", ");
        for (size_t k = 0; k < NMETHODS; k++)
            if (strlen(method_order[k]) == n && memcmp(method_order[k], allow, n) == 0)
                seen[k] = 1;
        allow += n;
        allow += strspn(allow, ", ");
    }
}

char *render_allow_map(void)
{
    struct buf b = {0};
    int seen[NMETHODS] = {0};
    char allow[128], line[512];

    if (add(&b, "", 0))
        return NULL;
    for (size_t i = 0; i < route_count(); i++) {
        const char *path = route_path(i);
        size_t pos = 0;
        bool repeated = false;
        if (!path || route_allow(i, allow, sizeof(allow)) != 0)
            continue;
        for (size_t k = 0; k < i && !repeated; k++)
            repeated = strcmp(route_path(k), path) == 0; /* one line per path */
        if (repeated)
            continue;
        mark_methods(allow, seen);
        /* the path as a regex: letters, digits, '/', '_' and '-' as they
         * are, a {mail} segment as one segment of anything */
        pos += (size_t)snprintf(line, sizeof(line), "\"~^");
        for (const char *c = path; *c && pos + 8 < sizeof(line); c++) {
            if (strncmp(c, "{mail}", 6) == 0) {
                memcpy(line + pos, "[^/?]+", 6);
                pos += 6;
                c += 5;
                continue;
            }
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '/' || *c == '_' || *c == '-'))
                line[pos++] = '\\';
            line[pos++] = *c;
        }
        snprintf(line + pos, sizeof(line) - pos, "(\\?|$)\" \"%s\";\n", allow);
        if (add(&b, line, strlen(line)))
            goto nomem;
    }
    snprintf(line, sizeof(line), "default \"");
    for (size_t k = 0, first = 1; k < NMETHODS; k++)
        if (seen[k]) {
            size_t len = strlen(line);
            snprintf(line + len, sizeof(line) - len, "%s%s", first ? "" : ", ", method_order[k]);
            first = 0;
        }
    if (add(&b, line, strlen(line)) || add(&b, "\";", 2))
        goto nomem;
    return b.s;
nomem:
    free(b.s);
    return NULL;
}

char *render_real_ip(const struct config_proxies *p)
{
    struct buf b = {0};
    char line[CONFIG_CIDR_MAX + 32];

    if (add(&b, "", 0))
        return NULL;
    for (int i = 0; i < p->n; i++) {
        snprintf(line, sizeof(line), "set_real_ip_from %s;\n", p->cidr[i]);
        if (add(&b, line, strlen(line)))
            goto nomem;
    }
    if (p->n > 0 && add(&b, "real_ip_header X-Forwarded-For;\nreal_ip_recursive on;",
                        strlen("real_ip_header X-Forwarded-For;\nreal_ip_recursive on;")))
        goto nomem;
    return b.s;
nomem:
    free(b.s);
    return NULL;
}

char *render_static_map(void)
{
    struct buf b = {0};
    char line[512];

    if (add(&b, "", 0))
        return NULL;
    for (int i = 0; i < ASSET_COUNT; i++) {
        snprintf(line, sizeof(line), "%s%s %s;", i ? "\n" : "", asset_table[i].url,
                 asset_table[i].file);
        if (add(&b, line, strlen(line))) {
            free(b.s);
            return NULL;
        }
    }
    return b.s;
}
