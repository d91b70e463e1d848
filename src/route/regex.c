/* regex.c - PCRE2 matching for re=: see regex.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.h"

#include <pcre2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct regex {
    pcre2_code *code;
    pcre2_match_context *mctx;
};

static _Thread_local pcre2_match_data *md;
static _Atomic uint64_t limited;

struct regex *regex_create(const char *p, size_t n, char *err, size_t cap)
{
    int code;
    PCRE2_SIZE at;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)p, n, PCRE2_UTF, &code, &at, NULL);
    if (!c) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, cap, "bad re: %s at %zu", (const char *)msg, (size_t)at);
        return NULL;
    }
    pcre2_jit_compile(c, PCRE2_JIT_COMPLETE); /* without JIT: interpreted */
    struct regex *re = calloc(1, sizeof *re);
    pcre2_match_context *m = pcre2_match_context_create(NULL);
    if (!re || !m) {
        free(re);
        pcre2_match_context_free(m);
        pcre2_code_free(c);
        snprintf(err, cap, "bad re: out of memory");
        return NULL;
    }
    pcre2_set_match_limit(m, REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(m, REGEX_DEPTH_LIMIT);
    re->code = c;
    re->mctx = m;
    return re;
}

void regex_destroy(struct regex *re)
{
    if (!re)
        return;
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    free(re);
}

int regex_match(const struct regex *re, const char *s, size_t n)
{
    if (!md && !(md = pcre2_match_data_create(1, NULL)))
        return 0;
    /* messages are valid UTF-8 (the store repairs them); NO_UTF_CHECK
     * would save the check but a repaired message is still checked here */
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, 0, 0, md, re->mctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
        atomic_fetch_add(&limited, 1);
    return 0;
}

uint64_t regex_limited(void)
{
    return atomic_load(&limited);
}
