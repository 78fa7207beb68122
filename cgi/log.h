/* log.h - the one logging function of the programs in cgi/: one line per
 * event on stderr (12-factor: the platform collects it), with a level. */
#ifndef CLIENTES_LOG_H
#define CLIENTES_LOG_H

enum wlog_level {
    WLOG_ERROR = 0, /* something failed: a request, a child, the store */
    WLOG_WARN,      /* degraded but serving: a restart, a refusal summary */
    WLOG_INFO,      /* lifecycle: listening, stopped, reloaded */
    WLOG_DEBUG      /* only with LOG_LEVEL=debug */
};

/* Sets the program name that prefixes every line ("clientes-worker") and the
 * most verbose level written (lines above it are dropped).  Call once, before
 * threads start; until then the prefix is "clientes" and the level WLOG_INFO. */
void wlog_init(const char *prog, enum wlog_level max_level);

/* Writes "<prog>: <level>: <message>\n" to stderr as one write(), so lines
 * from different threads never interleave.  The message is cut at 1 KiB;
 * control characters in it (a newline from a hostile value) are replaced by
 * '?', so a line can never forge another.  Never logs secrets or field
 * values: callers pass identifiers (request id, route, status), not data. */
void wlog(enum wlog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "error", "warning", "info", "debug". */
const char *wlog_level_name(enum wlog_level level);

#endif
