/* test_csv.c - the RFC 4180 writer and parser of lib/csv.c, with the
 * formula guard, round trips and malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

struct sink {
    char buf[8192];
    size_t len;
    int fail_after; /* writes before failing; -1 never */
};

static int sink_write(void *ctx, const char *b, size_t n)
{
    struct sink *s = ctx;
    if (s->fail_after == 0)
        return -1;
    if (s->fail_after > 0)
        s->fail_after--;
    assert_true(s->len + n < sizeof(s->buf));
    memcpy(s->buf + s->len, b, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return 0;
}

struct rows {
    char cells[32][CSV_MAX_CELLS][128];
    size_t n[32];
    unsigned long line[32];
    size_t count;
    size_t stop_at; /* stop after this many rows; 0 never */
};

static int collect(void *ctx, unsigned long line, char **cells, size_t n)
{
    struct rows *r = ctx;
    assert_true(r->count < 32);
    for (size_t i = 0; i < n; i++) {
        assert_true(strlen(cells[i]) < 128);
        strcpy(r->cells[r->count][i], cells[i]);
    }
    r->n[r->count] = n;
    r->line[r->count] = line;
    r->count++;
    return r->stop_at && r->count == r->stop_at;
}

static void test_writer_quotes_and_guards(void **state)
{
    struct sink s = {.fail_after = -1};
    struct csv_writer w;
    const char *row1[] = {"Jos\xc3\xa9", "Garc\xc3\xad" "a; \"Pepe\"", "=1+1@example.com", "", "a,b"};
    const char *row2[] = {"-Ana", "@Ruiz", "+34 Calle", "'=ya guardado", "normal"};

    (void)state;
    assert_int_equal(csv_writer_init(&w, sink_write, &s, ',', false), 0);
    assert_int_equal(csv_write_row(&w, row1, 5), 0);
    assert_int_equal(csv_write_row(&w, row2, 5), 0);
    assert_string_equal(s.buf,
                        "Jos\xc3\xa9,\"Garc\xc3\xad" "a; \"\"Pepe\"\"\",'=1+1@example.com,,\"a,b\"\r\n"
                        "'-Ana,'@Ruiz,'+34 Calle,''=ya guardado,normal\r\n");
    assert_true(csv_cell_neutralised("\t x"));
    assert_false(csv_cell_neutralised("x=1"));
}

static void test_excel_flavour_bom_and_semicolon(void **state)
{
    struct sink s = {.fail_after = -1};
    struct csv_writer w;
    const char *row[] = {"a;b", "c,d"};

    (void)state;
    assert_int_equal(csv_writer_init(&w, sink_write, &s, ';', true), 0);
    assert_int_equal(csv_write_row(&w, row, 2), 0);
    assert_string_equal(s.buf, "\xef\xbb\xbf\"a;b\";c,d\r\n");
}

static void test_writer_stops_when_the_reader_leaves(void **state)
{
    struct sink s = {.fail_after = 2};
    struct csv_writer w;
    const char *row[] = {"uno", "dos", "tres"};

    (void)state;
    csv_writer_init(&w, sink_write, &s, ',', false);
    assert_int_equal(csv_write_row(&w, row, 3), -1);
    assert_true(w.failed);
    assert_int_equal(csv_write_row(&w, row, 3), -1);
    assert_string_equal(s.buf, "uno,");
}

static void parse_all(const char *text, size_t chunk, struct rows *r, enum cl_err want)
{
    struct csv_parser *p = malloc(sizeof(*p));
    size_t len = strlen(text);
    enum cl_err e = CL_OK;

    assert_non_null(p);
    memset(r, 0, sizeof(*r));
    csv_parser_init(p, collect, r, 0);
    for (size_t i = 0; i < len && !e; i += chunk)
        e = csv_parse_feed(p, text + i, len - i < chunk ? len - i : chunk);
    if (!e)
        e = csv_parse_finish(p);
    assert_int_equal(e, want);
    free(p);
}

static void test_round_trip_in_every_chunking(void **state)
{
    const char *cells[][5] = {
        {"nombre", "apellidos", "mail", "fecha_nacimiento", "direccion"},
        {"Jos\xc3\xa9", "Garc\xc3\xad" "a; \"Pepe\"", "=1+1@example.com", "29/06/1996", "a,b"},
        {"-Ana", "@Ruiz", "ana@example.com", "1990-01-01", "'=ya guardado"},
        {"", "", "", "", ""},
    };
    for (char sep = ','; sep; sep = sep == ',' ? ';' : 0) {
        struct sink s = {.fail_after = -1};
        struct csv_writer w;
        static struct rows r;
        csv_writer_init(&w, sink_write, &s, sep, sep == ';');
        for (int i = 0; i < 4; i++)
            csv_write_row(&w, cells[i], 5);
        for (size_t chunk = 1; chunk <= s.len; chunk = chunk < 8 ? chunk + 1 : chunk * 3) {
            parse_all(s.buf, chunk, &r, CL_OK);
            assert_int_equal(r.count, 4);
            for (int i = 0; i < 4; i++) {
                assert_int_equal(r.n[i], 5);
                assert_int_equal(r.line[i], (unsigned long)i + 1);
                for (int j = 0; j < 5; j++)
                    assert_string_equal(r.cells[i][j], cells[i][j]);
            }
        }
        (void)state;
    }
}

static void test_multiline_cells_lf_endings_and_last_line(void **state)
{
    static struct rows r;

    (void)state;
    parse_all("a,\"dos\nlineas\",c\nd,e,f", 5, &r, CL_OK);
    assert_int_equal(r.count, 2);
    assert_string_equal(r.cells[0][1], "dos\nlineas");
    assert_int_equal(r.line[1], 3); /* the second record starts on line 3 */
    assert_string_equal(r.cells[1][2], "f");
    /* empty lines are no records; a CR alone ends one too */
    parse_all("a,b\r\n\r\nc,d\re,f\r\n", 3, &r, CL_OK);
    assert_int_equal(r.count, 3);
    assert_string_equal(r.cells[2][0], "e");
}

static void test_malformed_input(void **state)
{
    static struct rows r;
    struct csv_parser *p = malloc(sizeof(*p));
    char *big;

    (void)state;
    assert_non_null(p);
    csv_parser_init(p, collect, &r, ',');
    assert_int_equal(csv_parse_feed(p, "ok,1\nab\"c,d\n", 12), CL_INVALID);
    assert_int_equal(p->error_line, 2);
    assert_non_null(strstr(p->error, "comillas"));
    /* after an error nothing else is taken */
    assert_int_equal(csv_parse_feed(p, "x,y\n", 4), CL_INVALID);

    parse_all("\"abc\"x,1\n", 4, &r, CL_INVALID);
    parse_all("\"sin cerrar,1\n", 4, &r, CL_INVALID);
    parse_all("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n", 7, &r, CL_INVALID);

    big = malloc(CSV_MAX_CELL + 10);
    assert_non_null(big);
    memset(big, 'x', CSV_MAX_CELL + 1);
    big[CSV_MAX_CELL + 1] = '\0';
    csv_parser_init(p, collect, &r, ',');
    assert_int_equal(csv_parse_feed(p, big, strlen(big)), CL_INVALID);
    assert_non_null(strstr(p->error, "larga"));
    free(big);
    free(p);
}

static void test_stop_early_and_partial_bom(void **state)
{
    static struct rows r;
    struct csv_parser *p = malloc(sizeof(*p));

    (void)state;
    assert_non_null(p);
    memset(&r, 0, sizeof(r));
    r.stop_at = 1;
    csv_parser_init(p, collect, &r, 0);
    assert_int_equal(csv_parse_feed(p, "a;b\nc;d\n", 8), CL_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.cells[0][1], "b"); /* ';' detected from the first line */
    /* two bytes that start like a BOM but are data */
    parse_all("\xef\xbb" "x,y\n", 1, &r, CL_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.cells[0][0], "\xef\xbbx");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_quotes_and_guards),
        cmocka_unit_test(test_excel_flavour_bom_and_semicolon),
        cmocka_unit_test(test_writer_stops_when_the_reader_leaves),
        cmocka_unit_test(test_round_trip_in_every_chunking),
        cmocka_unit_test(test_multiline_cells_lf_endings_and_last_line),
        cmocka_unit_test(test_malformed_input),
        cmocka_unit_test(test_stop_early_and_partial_bom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
