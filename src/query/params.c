/* params.c - request parameter limits: see params.h. */
#include "params.h"

#include <stdio.h>

#include "../common/utf8.h"

size_t param_max(slice_t key)
{
    return slice_eq(key, "q") ? PARAM_Q_MAX : PARAM_VALUE_MAX;
}

int param_check(slice_t key, slice_t v, char *err, size_t cap)
{
    /* the name first: a message must never quote a bad one */
    if (key.n > PARAM_NAME_MAX) {
        snprintf(err, cap, "a parameter name is longer than %d bytes", PARAM_NAME_MAX);
        return -1;
    }
    if (utf8_valid_prefix(key.p, key.n) != key.n) {
        snprintf(err, cap, "a parameter name is not valid UTF-8");
        return -1;
    }
    size_t max = param_max(key);
    if (v.n > max) {
        snprintf(err, cap, "parameter '%.*s' is longer than %zu bytes", (int)key.n, key.p, max);
        return -1;
    }
    if (utf8_valid_prefix(v.p, v.n) != v.n) {
        snprintf(err, cap, "parameter '%.*s' is not valid UTF-8", (int)key.n, key.p);
        return -1;
    }
    return 0;
}

static int listed(slice_t key, const char *const *only)
{
    for (; *only; only++)
        if (slice_eq(key, *only))
            return 1;
    return 0;
}

int params_check(const form_t *f, const char *const *only, char *err, size_t cap)
{
    for (size_t i = 0; i < f->n; i++) {
        slice_t k = form_key(f, i);
        if (only && !listed(k, only))
            continue;
        if (param_check(k, form_val(f, i), err, cap))
            return -1;
    }
    return 0;
}
