/* unicode.h - the few Unicode character properties the text rules need. */
#ifndef CLIENTES_UNICODE_H
#define CLIENTES_UNICODE_H

#include <stdbool.h>

/* Each function answers for one code point `cp` (any value: past U+10FFFF or
 * a surrogate is simply not in the class).  The classes are the properties of
 * the Unicode Character Database named below, version 15.0.0 (see unicode.c);
 * pure, no locale, safe from any thread. */

/* White_Space (PropList.txt): space, tab..CR, NEL, NBSP, the Zs spaces,
 * LINE and PARAGRAPH SEPARATOR. */
bool unicode_white_space(unsigned long cp);

/* Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters a
 * renderer shows as nothing when it does not support them - zero-width
 * spaces and joiners, bidi controls, BOM, variation selectors, Hangul
 * fillers, tags. */
bool unicode_default_ignorable(unsigned long cp);

/* The default-ignorable characters that are nonspacing marks (General
 * Category Mn: variation selectors, COMBINING GRAPHEME JOINER, the Mongolian
 * free variation selectors, the Khmer inherent vowels).  Unlike the other
 * ignorables they modify the character before them (U+2764 U+FE0F is the
 * red-heart emoji), so after a visible character they are part of it. */
bool unicode_ignorable_mark(unsigned long cp);

/* Bidi_Control (PropList.txt): ALM U+061C, LRM/RLM U+200E..U+200F, the
 * embeddings and overrides U+202A..U+202E, the isolates U+2066..U+2069. */
bool unicode_bidi_control(unsigned long cp);

/* Noncharacter_Code_Point (PropList.txt): U+FDD0..U+FDEF and the last two
 * code points of every plane (U+xFFFE, U+xFFFF). */
bool unicode_noncharacter(unsigned long cp);

/* The Tags block, U+E0000..U+E007F (LANGUAGE TAG, TAG SPACE..CANCEL TAG and
 * the reserved code points between them): invisible text hidden in a value. */
bool unicode_tag(unsigned long cp);

#endif
