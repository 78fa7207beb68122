/* fuzz_csv.c - libFuzzer harness for the CSV parser of the imports
 * (lib/csv.c): byte 0 seeds how the input is cut into pieces, the rest is
 * the file.  Checked: the records and the error are the same whether the
 * input comes whole or in pieces (one byte at a time included); every cell
 * is NUL-terminated and within CSV_MAX_CELL bytes, at most CSV_MAX_CELLS to
 * a record, line numbers never go back; an error has a reason and a line;
 * and every record parsed, written again by the service's writer (with its
 * formula guard) and parsed, gives back the same cells. */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz.h"

#define MAX_RECORDS 64

struct rec {
    unsigned long line;
    size_t n;
    char *cells[CSV_MAX_CELLS];
};

struct got {
    struct rec r[MAX_RECORDS];
    size_t n;
    unsigned long last_line;
};

static int keep(void *ctx, unsigned long line, char **cells, size_t n)
{
    struct got *g = ctx;

    FUZZ_CHECK(n >= 1 && n <= CSV_MAX_CELLS, "%zu cells", n);
    FUZZ_CHECK(line >= g->last_line && line >= 1, "line %lu after %lu", line, g->last_line);
    g->last_line = line;
    if (g->n == MAX_RECORDS)
        return 1; /* enough: stop, which the parser must honour */
    struct rec *r = &g->r[g->n++];
    r->line = line;
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(cells[i]);
        FUZZ_CHECK(len <= CSV_MAX_CELL, "cell of %zu bytes", len);
        r->cells[i] = malloc(len + 1);
        FUZZ_CHECK(r->cells[i] != NULL, "out of memory");
        memcpy(r->cells[i], cells[i], len + 1);
    }
    return 0;
}

static void release(struct got *g)
{
    for (size_t k = 0; k < g->n; k++)
        for (size_t i = 0; i < g->r[k].n; i++)
            free(g->r[k].cells[i]);
}

/* Parses data in pieces whose sizes come from `seed` (0: whole). */
static enum cl_err parse(const char *data, size_t len, unsigned seed, char sep, struct got *g,
                         struct csv_parser *p, char *sep_out)
{
    enum cl_err e = CL_OK;
    size_t off = 0;

    memset(g, 0, sizeof(*g));
    csv_parser_init(p, keep, g, sep);
    while (off < len && !e) {
        size_t n = seed ? 1 + (seed * (off + 7)) % 13 : len;
        if (seed == 1)
            n = 1;
        if (n > len - off)
            n = len - off;
        e = csv_parse_feed(p, data + off, n);
        off += n;
    }
    if (!e)
        e = csv_parse_finish(p);
    *sep_out = p->sep;
    return e;
}

static int collect_out(void *ctx, const char *buf, size_t len)
{
    struct { char *d; size_t n, cap; } *o = ctx;
    if (o->n + len > o->cap)
        return -1;
    memcpy(o->d + o->n, buf, len);
    o->n += len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct csv_parser p1, p2;
    static struct got a, b;
    static char out[CSV_MAX_CELLS * (2 * CSV_MAX_CELL + 4) + 16];
    const char *text;
    size_t len;
    enum cl_err e1, e2;
    char s1, s2;

    if (size < 1 || size > 65536)
        return 0;
    text = (const char *)data + 1;
    len = size - 1;
    e1 = parse(text, len, 0, 0, &a, &p1, &s1);
    e2 = parse(text, len, 1u + data[0], 0, &b, &p2, &s2);
    FUZZ_CHECK(e1 == e2, "whole %d, in pieces %d", e1, e2);
    FUZZ_CHECK(s1 == s2, "separator '%c' vs '%c'", s1, s2);
    FUZZ_CHECK(a.n == b.n, "%zu records whole, %zu in pieces", a.n, b.n);
    if (e1) {
        FUZZ_CHECK(p1.error && p1.error[0] && p1.error_line >= 1, "an error without reason");
        FUZZ_CHECK(strcmp(p1.error, p2.error) == 0 && p1.error_line == p2.error_line,
                   "errors differ: %s@%lu, %s@%lu", p1.error, p1.error_line, p2.error,
                   p2.error_line);
    }
    for (size_t k = 0; k < a.n; k++) {
        FUZZ_CHECK(a.r[k].n == b.r[k].n && a.r[k].line == b.r[k].line, "record %zu differs", k);
        for (size_t i = 0; i < a.r[k].n; i++)
            FUZZ_CHECK(strcmp(a.r[k].cells[i], b.r[k].cells[i]) == 0, "cell %zu.%zu differs", k, i);
    }
    /* the writer's output of each record parses back to the same cells */
    for (size_t k = 0; k < a.n; k++) {
        struct { char *d; size_t n, cap; } o = {out, 0, sizeof(out)};
        struct csv_writer w;
        struct got back;
        struct csv_parser *p = &p2;
        char sb;
        enum cl_err e;
        bool empty_single = a.r[k].n == 1 && a.r[k].cells[0][0] == '\0';
        if (empty_single)
            continue; /* a blank line: nothing to write back */
        /* after a header row, as in an export: a cell that begins with
         * U+FEFF at the very start of a file is read as a byte order mark */
        static const char *const header[] = {"h"};
        csv_writer_init(&w, collect_out, &o, s1 ? s1 : ',', false);
        if (csv_write_row(&w, header, 1) != 0 ||
            csv_write_row(&w, (const char *const *)a.r[k].cells, a.r[k].n) != 0)
            continue; /* longer than the buffer once quoted: not this check's */
        e = parse(out, o.n, 0, s1 ? s1 : ',', &back, p, &sb);
        FUZZ_CHECK(e == CL_OK, "the writer's output does not parse: %s", p->error);
        FUZZ_CHECK(back.n == 2 && back.r[1].n == a.r[k].n, "record %zu: %zu records back", k,
                   back.n);
        for (size_t i = 0; i < a.r[k].n; i++)
            FUZZ_CHECK(strcmp(back.r[1].cells[i], a.r[k].cells[i]) == 0,
                       "record %zu cell %zu: '%s' came back as '%s'", k, i, a.r[k].cells[i],
                       back.r[1].cells[i]);
        release(&back);
    }
    release(&a);
    release(&b);
    return 0;
}
