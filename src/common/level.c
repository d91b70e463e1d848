/* level.c - level names and numbers: see level.h. */
#include "level.h"

#include <string.h>

static const char *const names[8] = {"emerg",   "alert",  "crit", "error",
                                     "warning", "notice", "info", "debug"};
static const char *const upper[8] = {"EMERG",   "ALERT",  "CRIT", "ERROR",
                                     "WARNING", "NOTICE", "INFO", "DEBUG"};

static const struct {
    const char *name;
    int level;
} aliases[] = {
    {"emerg", 0}, {"emergency", 0},     {"panic", 0}, {"alert", 1},   {"crit", 2}, {"critical", 2},
    {"fatal", 2}, {"error", 3},         {"err", 3},   {"warning", 4}, {"warn", 4}, {"notice", 5},
    {"info", 6},  {"informational", 6}, {"debug", 7}, {"trace", 7},
};

int level_from_number(long v)
{
    if (v < 0)
        return -1;
    if (v <= 7)
        return (int)v;
    if (v < 20)
        return LEVEL_DEBUG;
    if (v < 30)
        return LEVEL_INFO;
    if (v < 40)
        return LEVEL_WARNING;
    if (v < 50)
        return LEVEL_ERROR;
    return LEVEL_CRIT;
}

int level_parse(const char *s, size_t n)
{
    char low[16];

    if (n == 0 || n >= sizeof low)
        return -1;
    if (s[0] >= '0' && s[0] <= '9') {
        long v = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            v = v * 10 + (s[i] - '0');
        }
        return level_from_number(v);
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        low[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    /* compare n bytes, not up to a NUL: "info\0x" is not "info" */
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (aliases[i].name[0] == low[0] && strlen(aliases[i].name) == n &&
            memcmp(low, aliases[i].name, n) == 0)
            return aliases[i].level;
    return -1;
}

const char *level_name(int level)
{
    return level >= 0 && level <= 7 ? names[level] : "unknown";
}

const char *level_name_upper(int level)
{
    return level >= 0 && level <= 7 ? upper[level] : "UNKNOWN";
}
