/* fuzz_query_params.c - a query string as /api/logs reads it, on arbitrary
 * bytes: form decoding (src/common/form_parse.c), the parameter checks
 * (src/query/params.c) and each parameter applied to a query
 * (src/query/query.c, src/route/filter.c, src/common/timeutil.c).
 *
 * Checks, or the driver aborts: a refused string says why and where (inside
 * the input); a refused parameter has a message that fits PARAM_ERR_MAX; a parameter that passes
 * the checks is within its length limits and valid UTF-8, and is applied, or refused with a
 * message; a limit taken stays within 1..QUERY_LIMIT_MAX; nothing is read outside the input (ASan)
 * and nothing leaks (LSan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/form_parse.h"
#include "common/utf8.h"
#include "query/params.h"
#include "query/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    form_t f = {0};
    const char *err = NULL;
    size_t at = (size_t)-1;
    if (form_parse(&f, s, size, &err, &at)) {
        if (!err || !*err || at > size)
            abort();
        form_free(&f);
        return 0;
    }
    char perr[PARAM_ERR_MAX];
    perr[0] = 0;
    if (params_check(&f, NULL, perr, sizeof perr)) {
        if (!perr[0] || strlen(perr) >= PARAM_ERR_MAX)
            abort();
        form_free(&f);
        return 0;
    }
    query_t q;
    query_init(&q);
    for (size_t i = 0; i < f.n; i++) {
        slice_t k = form_key(&f, i), v = form_val(&f, i);
        if (k.n > PARAM_NAME_MAX || v.n > param_max(k) || utf8_valid_prefix(k.p, k.n) != k.n ||
            utf8_valid_prefix(v.p, v.n) != v.n)
            abort(); /* params_check let through what it must not */
        err = NULL;
        int rc = query_param(&q, k, v, &err);
        if (rc < 0 && (!err || !*err))
            abort();
        if (rc)
            break;
    }
    if (q.limit < 1 || q.limit > QUERY_LIMIT_MAX)
        abort();
    query_free(&q);
    form_free(&f);
    return 0;
}
