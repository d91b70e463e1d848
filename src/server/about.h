/* about.h - what `logshipd --version` says: logshipd's version and the
 * versions of the libraries it runs on (as loaded, not as built). */
#ifndef LOGSHIP_ABOUT_H
#define LOGSHIP_ABOUT_H

#include <stdio.h>

/* http_parser_version(), from about_hp.c: http_parser.h and
 * libwebsockets.h both define enum http_status, so no file includes both. */
unsigned long about_http_parser_version(void);

/* "logshipd 0.1.0\nlibuv 1.44.2\n..." to out. */
void about_print_version(FILE *out);

#endif
