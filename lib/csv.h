/* csv.h - RFC 4180 CSV: a streaming writer that neutralises spreadsheet
 * formulas, and a streaming parser that undoes exactly that. */
#ifndef CLIENTES_CSV_H
#define CLIENTES_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Where the writer's bytes go; returns 0, or -1 to stop (the reader left). */
typedef int (*csv_write_fn)(void *ctx, const char *buf, size_t len);

struct csv_writer {
    csv_write_fn write;
    void *ctx;
    char sep;    /* ',' (default) or ';' (spreadsheets in locales with a decimal comma) */
    bool failed; /* a write returned -1: everything after is dropped */
};

/* Prepares `w`; with `bom` the UTF-8 byte order mark goes out first (what
 * spreadsheet programs need to read UTF-8).  Returns 0 or -1. */
int csv_writer_init(struct csv_writer *w, csv_write_fn fn, void *ctx, char sep, bool bom);

/* Writes one record of `n` NUL-terminated cells and its CRLF.  A cell is
 * quoted when it holds the separator, a quote, CR or LF (quotes doubled);
 * a cell whose first character is '=', '+', '-', '@', TAB or CR gets a
 * leading apostrophe first, so that no spreadsheet evaluates it as a
 * formula (OWASP "CSV injection").  Returns 0 or -1. */
int csv_write_row(struct csv_writer *w, const char *const *cells, size_t n);

/* True when csv_write_row() would prefix `cell` with an apostrophe. */
bool csv_cell_neutralised(const char *cell);

/* The parser: bytes in, records out, one record in memory at a time. */
#define CSV_MAX_CELLS 16   /* more cells in a record is an error */
#define CSV_MAX_CELL 4096  /* more bytes in a cell is an error */

/* Called once per record with its cells (NUL-terminated, apostrophe guards
 * removed) and the line on which it started (1 for the first).  Return 0 to
 * go on, non-zero to stop the parse (csv_parse_* then return CL_OK). */
typedef int (*csv_row_fn)(void *ctx, unsigned long line, char **cells, size_t n);

struct csv_parser {
    csv_row_fn row;
    void *ctx;
    char sep;            /* 0 until the first line decides: ';' if it has more
                            semicolons than commas outside quotes, else ','
                            (a first line longer than CSV_MAX_CELL bytes is
                            judged by its start) */
    unsigned long line;  /* current physical line */
    unsigned long start; /* line the current record started on */
    int state;
    bool bom_checked, stopped;
    size_t ncells, len;
    size_t off[CSV_MAX_CELLS + 1];
    char buf[CSV_MAX_CELLS * (CSV_MAX_CELL + 1)];
    char pending[3];     /* bytes of a possible BOM at the very start */
    size_t npending;
    char stage[CSV_MAX_CELL]; /* the first line, while the separator is unknown */
    size_t nstage;
    const char *error;   /* Spanish reason when CL_INVALID was returned */
    unsigned long error_line;
};

/* Prepares `p`; sep 0 detects it from the first record (see above). */
void csv_parser_init(struct csv_parser *p, csv_row_fn fn, void *ctx, char sep);

/* Feeds `len` bytes.  Returns CL_OK, or CL_INVALID with p->error and
 * p->error_line set (a quote inside an unquoted cell, text after a closing
 * quote, too many cells, a cell too long); after an error, or after the
 * callback stopped the parse, further input is ignored. */
enum cl_err csv_parse_feed(struct csv_parser *p, const char *data, size_t len);

/* Ends the input: a last record without a line break is delivered; an open
 * quote is CL_INVALID. */
enum cl_err csv_parse_finish(struct csv_parser *p);

#endif
