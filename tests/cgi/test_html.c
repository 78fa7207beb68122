/* test_html.c - the HTML writer (cgi/html.h): the five characters escaped in
 * text and attributes, non-ASCII kept, controls, bidirectional overrides and
 * malformed UTF-8 replaced, URL components percent-encoded, and no input at
 * all that gets markup out of it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi_capture.h"
#include "html.h"
#include "utf8.h"

#define FFFD "\xef\xbf\xbd"

/* What one call of `fn` writes for `in`. */
static char *render(int (*fn)(struct html *, const char *), const char *in, struct cgi_out *o)
{
    struct html h;

    cgi_out_reset(o);
    html_init(&h, cgi_out_write, o);
    assert_int_equal(fn(&h, in), 0);
    assert_false(h.failed);
    return o->data ? o->data : "";
}

static void expect(int (*fn)(struct html *, const char *), const char *in, const char *want)
{
    struct cgi_out o;

    cgi_out_init(&o);
    const char *got = render(fn, in, &o);
    if (strcmp(got, want) != 0)
        fail_msg("in %s\n got %s\nwant %s", in, got, want);
    cgi_out_free(&o);
}

static void test_five_characters(void **state)
{
    (void)state;
    expect(html_text, "Calle <b>\"Mayor\"</b> & O'Donnell",
           "Calle &lt;b&gt;&quot;Mayor&quot;&lt;/b&gt; &amp; O&#39;Donnell");
    expect(html_attr, "\"><svg onload=alert(1)>", "&quot;&gt;&lt;svg onload=alert(1)&gt;");
    expect(html_attr, "' autofocus onfocus='x", "&#39; autofocus onfocus=&#39;x");
    expect(html_text, "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html_text, "&amp;", "&amp;amp;");
    expect(html_text, "", "");
}

static void test_non_ascii_kept(void **state)
{
    (void)state;
    expect(html_text, "Jos\xc3\xa9 \xc3\x91\xc3\xba\xc3\xb1" "ez", "Jos\xc3\xa9 \xc3\x91\xc3\xba\xc3\xb1" "ez");
    expect(html_attr, "Calle \xc3\x91" "and\xc3\xba 3, 2\xc2\xba" "B",
           "Calle \xc3\x91" "and\xc3\xba 3, 2\xc2\xba" "B");
    /* Arabic and Hebrew letters (right to left by themselves) are letters,
     * not overrides: kept */
    expect(html_text, "\xd8\xb9\xd9\x84\xd9\x8a \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",
           "\xd8\xb9\xd9\x84\xd9\x8a \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
    /* four-byte characters, the last code point, a noncharacter's neighbour */
    expect(html_text, "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
    /* neighbours of the replaced ranges stay */
    expect(html_text, "\xe2\x80\x8d\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa",
           "\xe2\x80\x8d\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");
    expect(html_text, "a\tb\nc", "a\tb\nc");
}

static void test_bidi_overrides_replaced(void **state)
{
    static const char *const bidi[] = {
        "\xd8\x9c",     /* U+061C ARABIC LETTER MARK */
        "\xe2\x80\x8e", /* U+200E LRM */
        "\xe2\x80\x8f", /* U+200F RLM */
        "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad",
        "\xe2\x80\xae", /* U+202A..U+202E: embeddings, pop, overrides */
        "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8",
        "\xe2\x81\xa9", /* U+2066..U+2069: isolates */
    };
    char in[64], want[64];

    (void)state;
    for (size_t i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++) {
        snprintf(in, sizeof(in), "abc%sgpj.exe", bidi[i]);
        snprintf(want, sizeof(want), "abc" FFFD "gpj.exe");
        expect(html_text, in, want);
        expect(html_attr, in, want);
    }
}

static void test_controls_replaced(void **state)
{
    char in[8], want[16];

    (void)state;
    for (int c = 1; c < 0x20; c++) {
        if (c == '\t' || c == '\n')
            continue;
        snprintf(in, sizeof(in), "a%cb", c);
        expect(html_text, in, "a" FFFD "b");
    }
    expect(html_text, "a\x7f" "b", "a" FFFD "b");
    for (int c = 0x80; c <= 0x9f; c++) { /* C1, as two-byte sequences */
        snprintf(in, sizeof(in), "a\xc2%cb", c);
        snprintf(want, sizeof(want), "a" FFFD "b");
        expect(html_attr, in, want);
    }
}

static void test_malformed_utf8_replaced(void **state)
{
    (void)state;
    expect(html_text, "a\x80z", "a" FFFD "z");                 /* stray continuation */
    expect(html_text, "a\xc0\xafz", "a" FFFD FFFD "z");        /* overlong '/' */
    expect(html_text, "a\xe2\x80z", "a" FFFD FFFD "z");        /* truncated */
    expect(html_text, "a\xed\xa0\x80z", "a" FFFD FFFD FFFD "z"); /* surrogate */
    expect(html_text, "a\xf5\x80\x80\x80z", "a" FFFD FFFD FFFD FFFD "z");
    /* an escape hidden in a malformed sequence stays an escape */
    expect(html_attr, "\xc3\"", FFFD "&quot;");
    expect(html_text, "\xe2<", FFFD "&lt;");
}

static void test_url_components(void **state)
{
    (void)state;
    expect(html_url, "ana.perez-1_x~@example.com", "ana.perez-1_x~%40example.com");
    expect(html_url, "Jos\xc3\xa9 &\"<>'+=/?#%", "Jos%C3%A9%20%26%22%3C%3E%27%2B%3D%2F%3F%23%25");
    expect(html_url, "", "");
}

static void test_long_url_component(void **state)
{
    char in[2000], want[6001];

    (void)state;
    memset(in, '@', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';
    for (size_t i = 0; i < sizeof(in) - 1; i++)
        memcpy(want + 3 * i, "%40", 3);
    want[3 * (sizeof(in) - 1)] = '\0';
    expect(html_url, in, want);
}

static int put_int(struct html *h, const char *s)
{
    return html_int(h, strtoll(s, NULL, 10));
}

static void test_ints(void **state)
{
    (void)state;
    expect(put_int, "0", "0");
    expect(put_int, "-42", "-42");
    expect(put_int, "9223372036854775807", "9223372036854775807");
}

static void test_literals_and_null(void **state)
{
    struct cgi_out o;
    struct html h;

    (void)state;
    cgi_out_init(&o);
    html_init(&h, cgi_out_write, &o);
    assert_int_equal(html_lit(&h, "<p class=\"x\">"), 0);
    assert_int_equal(html_text(&h, NULL), 0);
    assert_int_equal(html_attr(&h, NULL), 0);
    assert_int_equal(html_url(&h, NULL), 0);
    assert_int_equal(html_text_n(&h, "a<b", 2), 0); /* exactly len bytes */
    assert_int_equal(html_lit(&h, "</p>"), 0);
    assert_string_equal(o.data, "<p class=\"x\">a&lt;</p>");
    cgi_out_free(&o);
}

/* A write that fails once leaves the writer failed: nothing more goes out. */
static void test_failed_write_sticks(void **state)
{
    struct cgi_out o;
    struct html h;

    (void)state;
    cgi_out_init(&o);
    o.fail_from = 1;
    html_init(&h, cgi_out_write, &o);
    assert_int_equal(html_lit(&h, "<p>"), 0);
    assert_int_equal(html_text(&h, "a<b"), -1);
    assert_true(h.failed);
    int calls = o.calls;
    assert_int_equal(html_lit(&h, "</p>"), -1);
    assert_int_equal(html_text(&h, "x"), -1);
    assert_int_equal(html_text(&h, NULL), -1);
    assert_int_equal(html_url(&h, "x"), -1);
    assert_int_equal(html_int(&h, 1), -1);
    assert_int_equal(o.calls, calls);
    assert_string_equal(o.data, "<p>");
    cgi_out_free(&o);
}

/* What the escaper must never let out: a byte that ends an attribute or
 * opens markup, an '&' that does not start one of its five references, text
 * that is not UTF-8, a control or an override. */
static void check_inert(const char *out, size_t len)
{
    static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    const unsigned char *p = (const unsigned char *)out, *end = p + len;

    assert_true(utf8_valid(p, len));
    while (p < end) {
        unsigned long cp;
        size_t n = utf8_decode(p, (size_t)(end - p), &cp);
        assert_true(n > 0);
        assert_false(cp == '<' || cp == '>' || cp == '"' || cp == '\'');
        assert_false(cp < 0x20 && cp != '\t' && cp != '\n');
        assert_false(cp >= 0x7f && cp <= 0x9f);
        assert_false(cp == 0x061c || cp == 0x200e || cp == 0x200f ||
                     (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
        if (cp == '&') {
            bool ok = false;
            for (size_t i = 0; i < 5; i++)
                ok = ok || ((size_t)(end - p) >= strlen(refs[i]) &&
                            memcmp(p, refs[i], strlen(refs[i])) == 0);
            assert_true(ok);
        }
        p += n;
    }
}

/* Random byte strings (every value, biased towards the interesting ones)
 * and every two-byte string: the output is inert, and ordinary text passes
 * through unchanged. */
static void test_no_input_makes_markup(void **state)
{
    static const unsigned char interesting[] = {'<', '>', '"', '\'', '&', 0x1b, 0x7f, 0xc2,
                                                0xe2, 0x80, 0xae, 0xd8, 0x9c, 0xed, 0xf4};
    unsigned long seed = 12345;
    unsigned char in[64];
    struct cgi_out o;

    (void)state;
    cgi_out_init(&o);
    for (int a = 1; a < 256; a++) {
        for (int b = 1; b < 256; b++) {
            in[0] = (unsigned char)a;
            in[1] = (unsigned char)b;
            in[2] = 0;
            const char *got = render(html_attr, (const char *)in, &o);
            check_inert(got, o.len);
        }
    }
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 60) + 1;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245 + 12345;
            unsigned r = (unsigned)(seed >> 16);
            in[i] = r & 1 ? interesting[(r >> 1) % sizeof(interesting)] : (unsigned char)(r >> 8);
            if (!in[i])
                in[i] = 'x';
        }
        in[n] = 0;
        const char *got = render(html_text, (const char *)in, &o);
        check_inert(got, o.len);
        if (utf8_valid(in, n) && !strpbrk((const char *)in, "<>\"'&")) {
            bool plain = true;
            for (size_t i = 0; i < n; i++)
                plain = plain && in[i] >= 0x20 && in[i] < 0x7f;
            if (plain)
                assert_string_equal(got, (const char *)in);
        }
    }
    cgi_out_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_five_characters),
        cmocka_unit_test(test_non_ascii_kept),
        cmocka_unit_test(test_bidi_overrides_replaced),
        cmocka_unit_test(test_controls_replaced),
        cmocka_unit_test(test_malformed_utf8_replaced),
        cmocka_unit_test(test_url_components),
        cmocka_unit_test(test_long_url_component),
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_literals_and_null),
        cmocka_unit_test(test_failed_write_sticks),
        cmocka_unit_test(test_no_input_makes_markup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
