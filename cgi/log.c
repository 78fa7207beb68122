/* log.c - one line per event on stderr, written atomically. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES 1024

static const char *log_prog = "clientes";
static enum wlog_level log_max = WLOG_INFO;

void wlog_init(const char *prog, enum wlog_level max_level)
{
    if (prog && *prog)
        log_prog = prog;
    log_max = max_level;
}

const char *wlog_level_name(enum wlog_level level)
{
    switch (level) {
    case WLOG_ERROR: return "error";
    case WLOG_WARN: return "warning";
    case WLOG_INFO: return "info";
    case WLOG_DEBUG: return "debug";
    }
    return "info";
}

void wlog(enum wlog_level level, const char *fmt, ...)
{
    char line[LINE_MAX_BYTES + 2];
    va_list ap;
    int head, n;
    size_t len;

    if (level > log_max)
        return;
    head = snprintf(line, sizeof(line), "%s: %s: ", log_prog, wlog_level_name(level));
    if (head < 0 || (size_t)head >= LINE_MAX_BYTES)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line + head, LINE_MAX_BYTES - (size_t)head, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    len = strlen(line);
    for (size_t i = (size_t)head; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[len++] = '\n';
    /* One write(2): stderr is unbuffered and shared by every thread. */
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, line, len);
        if (w <= 0)
            return;
        len -= (size_t)w;
        memmove(line, line + w, len);
    }
}
