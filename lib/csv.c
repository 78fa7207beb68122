/* csv.c - RFC 4180 writer and parser, with the formula guard and its undoing. */
#include "csv.h"

#include <string.h>

static const char bom[] = "\xEF\xBB\xBF";

/* The characters that make a spreadsheet read a cell as a formula. */
static bool is_trigger(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

/* A cell is guarded when it is apostrophes followed by a trigger: the
 * apostrophes are counted too, so that a value that itself begins with "'="
 * survives a round trip (export adds one, import removes one). */
bool csv_cell_neutralised(const char *cell)
{
    while (*cell == '\'')
        cell++;
    return is_trigger(*cell);
}

static int out(struct csv_writer *w, const char *buf, size_t len)
{
    if (w->failed)
        return -1;
    if (len && w->write(w->ctx, buf, len) != 0) {
        w->failed = true;
        return -1;
    }
    return 0;
}

int csv_writer_init(struct csv_writer *w, csv_write_fn fn, void *ctx, char sep, bool with_bom)
{
    w->write = fn;
    w->ctx = ctx;
    w->sep = sep ? sep : ',';
    w->failed = false;
    return with_bom ? out(w, bom, 3) : 0;
}

static int write_cell(struct csv_writer *w, const char *cell)
{
    bool quote = strchr(cell, w->sep) || strpbrk(cell, "\"\r\n");

    if (quote && out(w, "\"", 1))
        return -1;
    if (csv_cell_neutralised(cell) && out(w, "'", 1))
        return -1;
    if (!quote)
        return out(w, cell, strlen(cell));
    for (const char *p = cell; *p; p++) {
        const char *q = strchr(p, '"');
        size_t n = q ? (size_t)(q - p) + 1 : strlen(p);
        if (out(w, p, n) || (q && out(w, "\"", 1)))
            return -1;
        if (!q)
            break;
        p = q;
    }
    return out(w, "\"", 1);
}

int csv_write_row(struct csv_writer *w, const char *const *cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((i && out(w, &w->sep, 1)) || write_cell(w, cells[i]))
            return -1;
    return out(w, "\r\n", 2);
}

/* ---- parser ---------------------------------------------------------- */

enum { CELL_START, UNQUOTED, QUOTED, QUOTE_SEEN, AFTER_CR };

void csv_parser_init(struct csv_parser *p, csv_row_fn fn, void *ctx, char sep)
{
    memset(p, 0, sizeof(*p));
    p->row = fn;
    p->ctx = ctx;
    p->sep = sep;
    p->line = 1;
    p->start = 1;
    p->state = CELL_START;
}

static enum cl_err fail(struct csv_parser *p, const char *why)
{
    p->error = why;
    p->error_line = p->line;
    p->stopped = true;
    return CL_INVALID;
}

static enum cl_err put(struct csv_parser *p, char c)
{
    if (p->len - p->off[p->ncells] >= CSV_MAX_CELL)
        return fail(p, "celda demasiado larga");
    p->buf[p->len++] = c;
    return CL_OK;
}

static enum cl_err end_cell(struct csv_parser *p)
{
    char *cell = p->buf + p->off[p->ncells];

    if (p->ncells == CSV_MAX_CELLS)
        return fail(p, "demasiadas columnas");
    p->buf[p->len++] = '\0';
    if (cell[0] == '\'' && csv_cell_neutralised(cell)) /* undo the export's guard */
        memmove(cell, cell + 1, strlen(cell));
    p->ncells++;
    p->off[p->ncells] = p->len;
    return CL_OK;
}

static enum cl_err end_record(struct csv_parser *p)
{
    char *cells[CSV_MAX_CELLS];
    enum cl_err e;

    if (p->ncells == 0 && p->len == p->off[0]) { /* an empty line: no record */
        p->start = p->line;
        return CL_OK;
    }
    if ((e = end_cell(p)))
        return e;
    for (size_t i = 0; i < p->ncells; i++)
        cells[i] = p->buf + p->off[i];
    if (p->row(p->ctx, p->start, cells, p->ncells))
        p->stopped = true;
    p->ncells = 0;
    p->len = 0;
    p->off[0] = 0;
    p->start = p->line;
    return CL_OK;
}

static enum cl_err step(struct csv_parser *p, char c)
{
    enum cl_err e = CL_OK;

    switch (p->state) {
    case AFTER_CR: /* CR ends a record; an LF right after it belongs to it */
        p->state = CELL_START;
        if (c == '\n')
            return CL_OK;
        /* fall through */
    case CELL_START:
    case UNQUOTED:
        if (c == p->sep) {
            e = end_cell(p);
            p->state = CELL_START;
        } else if (c == '\n' || c == '\r') {
            p->line++;
            e = end_record(p);
            p->state = c == '\r' ? AFTER_CR : CELL_START;
        } else if (c == '"') {
            if (p->state != CELL_START)
                return fail(p, "comillas dentro de una celda sin comillas");
            p->state = QUOTED;
        } else {
            e = put(p, c);
            p->state = UNQUOTED;
        }
        return e;
    case QUOTED:
        if (c == '"') {
            p->state = QUOTE_SEEN;
            return CL_OK;
        }
        if (c == '\n')
            p->line++;
        return put(p, c);
    case QUOTE_SEEN:
        if (c == '"') { /* a doubled quote */
            p->state = QUOTED;
            return put(p, '"');
        }
        p->state = UNQUOTED;
        if (c == p->sep || c == '\n' || c == '\r') {
            p->state = CELL_START;
            return step(p, c);
        }
        return fail(p, "texto despues de las comillas de cierre");
    }
    return CL_OK;
}

/* Before the separator is known, the first line is looked at whole. */
static void detect_sep(struct csv_parser *p, const char *data, size_t len)
{
    size_t commas = 0, semis = 0;
    bool quoted = false;

    for (size_t i = 0; i < len && (quoted || data[i] != '\n'); i++) {
        if (data[i] == '"')
            quoted = !quoted;
        else if (!quoted && data[i] == ',')
            commas++;
        else if (!quoted && data[i] == ';')
            semis++;
    }
    p->sep = semis > commas ? ';' : ',';
}

static enum cl_err feed_bytes(struct csv_parser *p, const char *data, size_t len)
{
    for (size_t i = 0; i < len && !p->stopped; i++) {
        enum cl_err e = step(p, data[i]);
        if (e)
            return e;
    }
    return CL_OK;
}

/* Decides the separator from the held first line, then parses it. */
static enum cl_err release_stage(struct csv_parser *p)
{
    detect_sep(p, p->stage, p->nstage);
    return feed_bytes(p, p->stage, p->nstage);
}

enum cl_err csv_parse_feed(struct csv_parser *p, const char *data, size_t len)
{
    enum cl_err e;

    if (p->stopped)
        return p->error ? CL_INVALID : CL_OK;
    /* A leading byte order mark (spreadsheets write one) is not data. */
    while (!p->bom_checked && len) {
        if (*data != bom[p->npending]) {
            p->bom_checked = true;
            if (p->npending) { /* a partial BOM was data after all */
                size_t n = p->npending;
                p->npending = 0;
                if ((e = csv_parse_feed(p, bom, n)))
                    return e;
            }
            break;
        }
        p->npending++, data++, len--;
        if (p->npending == 3)
            p->bom_checked = true, p->npending = 0;
    }
    if (!len)
        return CL_OK;
    if (!p->sep) { /* hold the first line back until it is whole */
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) + 1 : len;
        if (take > sizeof(p->stage) - p->nstage)
            take = sizeof(p->stage) - p->nstage;
        memcpy(p->stage + p->nstage, data, take);
        p->nstage += take;
        data += take, len -= take;
        if (!nl && p->nstage < sizeof(p->stage))
            return CL_OK;
        if ((e = release_stage(p)))
            return e;
    }
    if ((e = feed_bytes(p, data, len)))
        return e;
    return p->error ? CL_INVALID : CL_OK;
}

enum cl_err csv_parse_finish(struct csv_parser *p)
{
    enum cl_err e;

    if (p->stopped)
        return p->error ? CL_INVALID : CL_OK;
    if (p->npending) {
        size_t n = p->npending;
        p->npending = 0;
        p->bom_checked = true;
        if ((e = csv_parse_feed(p, bom, n)))
            return e;
    }
    if (!p->sep && (e = release_stage(p)))
        return e;
    if (p->stopped)
        return p->error ? CL_INVALID : CL_OK;
    if (p->state == QUOTED)
        return fail(p, "comillas sin cerrar");
    if (p->state == AFTER_CR)
        return CL_OK;
    return end_record(p);
}
