/* utf8.h - strict UTF-8 decoding, shared by the validators and the HTTP decoder. */
#ifndef CLIENTES_UTF8_H
#define CLIENTES_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes the sequence at s[0..len) (len >= 1).  Returns its length in bytes
 * (1 to 4) and stores the code point in *cp, or returns 0 for anything not
 * well-formed: overlong forms, surrogates, values past U+10FFFF, truncated
 * sequences, stray continuation bytes. */
size_t utf8_decode(const unsigned char *s, size_t len, unsigned long *cp);

/* True when s[0..len) is entirely well-formed UTF-8 (see utf8_decode). */
bool utf8_valid(const unsigned char *s, size_t len);

#endif
