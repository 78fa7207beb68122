/* fuzz.h - what every harness shares: the libFuzzer entry points and the
 * harness-side oracles (written here independently of the code under test,
 * so a bug there cannot hide itself). */
#ifndef CLIENTES_FUZZ_H
#define CLIENTES_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The libFuzzer interface.  Each harness defines LLVMFuzzerTestOneInput and
 * may define LLVMFuzzerInitialize (called once before the first input, by
 * libFuzzer or by replay_main.c).  Both return 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Reports a broken invariant on stderr and aborts, which libFuzzer records
 * as a crash (with the input saved) and the replay test as a failure. */
#define FUZZ_CHECK(cond, ...)                                                            \
    do {                                                                                 \
        if (!(cond))                                                                     \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                           \
    } while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Strict UTF-8: no overlong forms, surrogates, values past U+10FFFF or
 * truncated sequences.  Calls fn(cp, ctx) for each code point when fn is not
 * NULL.  Returns the number of code points, or -1 when s is not valid. */
long fuzz_utf8_count(const unsigned char *s, size_t len, void (*fn)(unsigned long cp, void *ctx),
                     void *ctx);

static inline bool fuzz_utf8_valid(const char *s, size_t len)
{
    return fuzz_utf8_count((const unsigned char *)s, len, NULL, NULL) >= 0;
}

#endif
