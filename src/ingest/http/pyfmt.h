/* pyfmt.h - Python %-formatting of a logging template with its args (pure).
 *
 * Python's HTTPHandler sends a record's raw template ("user %s from %s") and
 * the repr of its args ("('bob', '10.0.0.1')") unless another handler already
 * formatted it. This module rebuilds the message the way Python's
 * LogRecord.getMessage() would, for args that are a tuple or dict of simple
 * literals (str, int, float, None, True, False, bytes).
 */
#ifndef LOGSHIP_PYFMT_H
#define LOGSHIP_PYFMT_H

#include "../../common/buf.h"

/* Appends tmpl % args to out. Returns 0, or -1 (out unchanged) when args is
 * not a tuple or dict of simple literals, or the template does not fit them,
 * which is when Python itself would have raised. */
int pyfmt_format(buf_t *out, const char *tmpl, size_t tn, const char *args, size_t an);

#endif
