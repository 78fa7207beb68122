/* test_fold.c - the folded search and sort keys of lib/fold.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "fold.h"

static void expect_fold(const char *in, const char *want)
{
    char out[256];
    size_t n = fold_text(in, strlen(in), out);

    assert_true(n < sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_true(n <= strlen(in)); /* FOLD_CAP holds */
    assert_string_equal(out, want);
}

static void test_spanish_names(void **state)
{
    (void)state;
    expect_fold("Jos\xc3\xa9 \xc3\x91\xc3\xba\xc3\xb1" "ez", "jose nunez");
    expect_fold("Calle \xc3\x91" "and\xc3\xba 3, 2\xc2\xba" "B", "calle nandu 3, 2\xc2\xba" "b");
    expect_fold("M\xc3\x9cLLER Stra\xc3\x9f" "e", "muller strasse");
    expect_fold("\xc3\x86sir \xc5\x92uvre \xc3\x98re \xc3\x9e" "or", "aesir oeuvre ore thor");
    expect_fold("\xc4\x8c\xc4\x9b\xc5\xa1ka \xc5\x81\xc3\xb3" "d\xc5\xba", "ceska lodz");
    expect_fold("ABCxyz019@-_.", "abcxyz019@-_.");
}

static void test_decomposed_and_other_scripts(void **state)
{
    (void)state;
    /* e + COMBINING ACUTE folds like the precomposed letter */
    expect_fold("Jose\xcc\x81", "jose");
    /* multiplication sign, Greek, CJK and emoji are kept as they are */
    expect_fold("2\xc3\x97" "3", "2\xc3\x97" "3");
    expect_fold("\xce\x91\xce\xb8\xce\xae\xce\xbd\xce\xb1", "\xce\x91\xce\xb8\xce\xae\xce\xbd\xce\xb1");
    expect_fold("\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80", "\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80");
    /* malformed bytes pass through unchanged (validation refused them earlier) */
    expect_fold("a\xff" "B", "a\xff" "b");
    expect_fold("", "");
}

static void test_every_latin_letter_folds_to_ascii(void **state)
{
    (void)state;
    for (unsigned cp = 0xC0; cp < 0x180; cp++) {
        char in[3] = {(char)(0xC0 | (cp >> 6)), (char)(0x80 | (cp & 0x3F)), 0}, out[4];
        size_t n = fold_text(in, 2, out);
        if (cp == 0xD7 || cp == 0xF7) {
            assert_memory_equal(out, in, 2);
            continue;
        }
        assert_true(n >= 1 && n <= 2);
        for (size_t i = 0; i < n; i++)
            if (out[i] < 'a' || out[i] > 'z')
                fail_msg("U+%04X folds to a non-letter", cp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spanish_names),
        cmocka_unit_test(test_decomposed_and_other_scripts),
        cmocka_unit_test(test_every_latin_letter_folds_to_ascii),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
