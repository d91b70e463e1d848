/* about_hp.c - http-parser's version for --version (see about.h: its
 * header and libwebsockets' can not share a file). */
#include <http_parser.h>

#include "about.h"

unsigned long about_http_parser_version(void)
{
    return http_parser_version();
}
