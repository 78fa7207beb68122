/* fold.h - the folded form of text used to search and sort clients: the same
 * bytes on every backend, so SQLite and PostgreSQL find and order alike. */
#ifndef CLIENTES_FOLD_H
#define CLIENTES_FOLD_H

#include <stddef.h>

/* Room for the folded form of `len` bytes of text, NUL included: a character
 * folds to at most as many bytes as it takes (U+00DF "ss" is 2 for 2). */
#define FOLD_CAP(len) ((len) + 1)

/* Writes into out (at least FOLD_CAP(len) bytes) the folded form of the
 * well-formed UTF-8 text in[0..len): ASCII and the letters of Latin-1 and
 * Latin Extended-A in lower case without diacritics ("José Ñúñez" ->
 * "jose nunez", "Æ" -> "ae"), combining marks U+0300-U+036F dropped (so a
 * decomposed "e\u0301" folds like "é"), everything else copied as it is.
 * Returns the folded length.  Malformed bytes are copied unchanged. */
size_t fold_text(const char *in, size_t len, char *out);

#endif
