/* html_lit_check.c - compiled, not run (tests/cgi/CMakeLists.txt): html_lit()
 * accepts a string literal (HTML_LIT_LITERAL) and must not compile with a
 * variable, so markup can only come from the program's own text. */
#include "html.h"

int html_lit_check(struct html *h, const char *value);

int html_lit_check(struct html *h, const char *value)
{
#ifdef HTML_LIT_LITERAL
    (void)value;
    return html_lit(h, "<p>");
#else
    return html_lit(h, value);
#endif
}
