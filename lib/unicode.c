/* unicode.c - character classes from the Unicode Character Database, as tables. */
#include "unicode.h"

#include <stddef.h>

/* An inclusive range of code points; each table is sorted and its ranges
 * neither overlap nor touch (adjacent ranges of the source are merged). */
struct range {
    unsigned long lo, hi;
};

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

static bool in_table(const struct range *t, size_t n, unsigned long cp)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < t[mid].lo)
            hi = mid;
        else if (cp > t[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/* The tables below are Unicode 15.0.0, copied from the Unicode Character
 * Database files PropList.txt (PropList-15.0.0.txt, 2022-08-05) and
 * DerivedCoreProperties.txt (DerivedCoreProperties-15.0.0.txt, 2022-08-05),
 * as shipped by Debian's unicode-data 15.0.0-1, and checked against ICU 72
 * (also Unicode 15.0).  The names are the files' comments.  Both properties
 * are stable: a later version may add ignorables in unassigned space, but
 * none of these code points leaves its class.  tests/unit/test_client.c
 * checks each range's ends and the code points just outside them. */

/* White_Space, PropList.txt. */
static const struct range white_space[] = {
    {0x0009, 0x000D},   /* <control-0009>..<control-000D> (TAB, LF, VT, FF, CR) */
    {0x0020, 0x0020},   /* SPACE */
    {0x0085, 0x0085},   /* <control-0085> (NEL) */
    {0x00A0, 0x00A0},   /* NO-BREAK SPACE */
    {0x1680, 0x1680},   /* OGHAM SPACE MARK */
    {0x2000, 0x200A},   /* EN QUAD..HAIR SPACE */
    {0x2028, 0x2029},   /* LINE SEPARATOR, PARAGRAPH SEPARATOR */
    {0x202F, 0x202F},   /* NARROW NO-BREAK SPACE */
    {0x205F, 0x205F},   /* MEDIUM MATHEMATICAL SPACE */
    {0x3000, 0x3000},   /* IDEOGRAPHIC SPACE */
};

/* Default_Ignorable_Code_Point, DerivedCoreProperties.txt. */
static const struct range default_ignorable[] = {
    {0x00AD, 0x00AD},   /* SOFT HYPHEN */
    {0x034F, 0x034F},   /* COMBINING GRAPHEME JOINER */
    {0x061C, 0x061C},   /* ARABIC LETTER MARK */
    {0x115F, 0x1160},   /* HANGUL CHOSEONG FILLER..HANGUL JUNGSEONG FILLER */
    {0x17B4, 0x17B5},   /* KHMER VOWEL INHERENT AQ..KHMER VOWEL INHERENT AA */
    {0x180B, 0x180F},   /* MONGOLIAN FREE VARIATION SELECTOR ONE..FOUR, VOWEL SEPARATOR */
    {0x200B, 0x200F},   /* ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK */
    {0x202A, 0x202E},   /* LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE */
    {0x2060, 0x206F},   /* WORD JOINER..NOMINAL DIGIT SHAPES (isolates included) */
    {0x3164, 0x3164},   /* HANGUL FILLER */
    {0xFE00, 0xFE0F},   /* VARIATION SELECTOR-1..VARIATION SELECTOR-16 */
    {0xFEFF, 0xFEFF},   /* ZERO WIDTH NO-BREAK SPACE (BOM) */
    {0xFFA0, 0xFFA0},   /* HALFWIDTH HANGUL FILLER */
    {0xFFF0, 0xFFF8},   /* <reserved-FFF0>..<reserved-FFF8> */
    {0x1BCA0, 0x1BCA3}, /* SHORTHAND FORMAT LETTER OVERLAP..SHORTHAND FORMAT UP STEP */
    {0x1D173, 0x1D17A}, /* MUSICAL SYMBOL BEGIN BEAM..MUSICAL SYMBOL END PHRASE */
    {0xE0000, 0xE0FFF}, /* tags, VARIATION SELECTOR-17..256, reserved */
};

/* Default_Ignorable_Code_Point with General_Category Mn (UnicodeData.txt). */
static const struct range ignorable_mark[] = {
    {0x034F, 0x034F},   /* COMBINING GRAPHEME JOINER */
    {0x17B4, 0x17B5},   /* KHMER VOWEL INHERENT AQ..KHMER VOWEL INHERENT AA */
    {0x180B, 0x180D},   /* MONGOLIAN FREE VARIATION SELECTOR ONE..THREE */
    {0x180F, 0x180F},   /* MONGOLIAN FREE VARIATION SELECTOR FOUR */
    {0xFE00, 0xFE0F},   /* VARIATION SELECTOR-1..VARIATION SELECTOR-16 */
    {0xE0100, 0xE01EF}, /* VARIATION SELECTOR-17..VARIATION SELECTOR-256 */
};

/* Bidi_Control, PropList.txt. */
static const struct range bidi_control[] = {
    {0x061C, 0x061C},   /* ARABIC LETTER MARK */
    {0x200E, 0x200F},   /* LEFT-TO-RIGHT MARK..RIGHT-TO-LEFT MARK */
    {0x202A, 0x202E},   /* LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE */
    {0x2066, 0x2069},   /* LEFT-TO-RIGHT ISOLATE..POP DIRECTIONAL ISOLATE */
};

bool unicode_white_space(unsigned long cp)
{
    return in_table(white_space, COUNT(white_space), cp);
}

bool unicode_default_ignorable(unsigned long cp)
{
    return in_table(default_ignorable, COUNT(default_ignorable), cp);
}

bool unicode_ignorable_mark(unsigned long cp)
{
    return in_table(ignorable_mark, COUNT(ignorable_mark), cp);
}

bool unicode_bidi_control(unsigned long cp)
{
    return in_table(bidi_control, COUNT(bidi_control), cp);
}

/* Noncharacter_Code_Point has a rule rather than a list (Unicode 15.0,
 * section 23.7): 32 in Arabic Presentation Forms-A, two at the end of each
 * of the 17 planes. */
bool unicode_noncharacter(unsigned long cp)
{
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp <= 0x10FFFF && (cp & 0xFFFE) == 0xFFFE);
}

bool unicode_tag(unsigned long cp)
{
    return cp >= 0xE0000 && cp <= 0xE007F;
}
