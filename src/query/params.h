/* params.h - limits on request parameters, checked before a query string
 * becomes filters (/api/logs, /api/tail, /api/files) or record defaults
 * (POST /api/log?app=...).
 *
 * Every checked value is at most PARAM_VALUE_MAX bytes (q, a substring of
 * the message, PARAM_Q_MAX) and valid UTF-8; every name at most
 * PARAM_NAME_MAX bytes and valid UTF-8. Values are checked after
 * percent-decoding, so %FF is the byte 0xFF. The message of a refusal names
 * the parameter, so a 400 says which one to fix. Pure: no I/O, any thread.
 */
#ifndef LOGSHIP_QUERY_PARAMS_H
#define LOGSHIP_QUERY_PARAMS_H

#include "../common/buf.h"
#include "../common/form_parse.h"

#define PARAM_VALUE_MAX 1024
#define PARAM_Q_MAX     4096
#define PARAM_NAME_MAX  320 /* "field." and a field name of up to 255 bytes fit */
#define PARAM_ERR_MAX   160 /* room for any message below, NUL included */

/* The length limit of the parameter named key. */
size_t param_max(slice_t key);

/* Checks one parameter. Returns 0, or -1 with a NUL-terminated message in
 * err[0..cap), e.g. "parameter 'q' is longer than 4096 bytes" or
 * "parameter 'topic' is not valid UTF-8". */
int param_check(slice_t key, slice_t value, char *err, size_t cap);

/* Checks the pairs of f, in order: all of them when only is NULL, else
 * those whose name is in the NULL-terminated list only. Returns 0, or -1
 * with the message of the first bad one (see param_check). */
int params_check(const form_t *f, const char *const *only, char *err, size_t cap);

#endif
