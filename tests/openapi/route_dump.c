/* route_dump.c - prints the route table, one row a line: "PATH<TAB>METHODS
 * <TAB>ACCESS" (methods as Allow spells them), for the OpenAPI check. */
#include <stdio.h>

#include "http.h"
#include "route.h"

int main(void)
{
    for (size_t i = 0; i < route_count(); i++) {
        char allow[128];
        const char *access = route_access(i);
        if (http_allow_format(route_methods(i), allow, sizeof(allow)) != 0)
            return 1;
        printf("%s\t%s\t%s\n", route_path(i), allow, access ? access : "-");
    }
    return 0;
}
