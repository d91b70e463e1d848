/* topic_bench.c - the topic matcher alone (src/route/topic.c) on legal
 * worst cases: a filter of 16 patterns of 32 words ("#.a.a...a.zK", or
 * "#" every other word) against a topic of 128 words of "a", the longest a
 * record keeps. Prints ns per filter match and per pattern x topic word.
 *
 * Usage: topic_bench [ROUNDS]   (default 20000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "route/topic.h"

#define NPATS 16

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(const char *name, int many, long rounds)
{
    char texts[NPATS][256], topic[256];
    topic_pat_t pats[NPATS];
    slice_t sl[NPATS];
    const char *why;
    strcpy(topic, "a");
    for (int i = 1; i < 128; i++)
        strcat(topic, ".a");
    for (int k = 0; k < NPATS; k++) {
        strcpy(texts[k], "#");
        for (int i = 1; i < 31; i++)
            strcat(texts[k], many && i % 2 == 0 ? ".#" : ".a");
        snprintf(texts[k] + strlen(texts[k]), 16, ".z%d", k);
        if (topic_compile(&pats[k], texts[k], strlen(texts[k]), &why)) {
            fprintf(stderr, "%s: %s\n", texts[k], why);
            exit(1);
        }
        sl[k] = slice_make(texts[k], strlen(texts[k]));
    }
    size_t tn = strlen(topic);
    long hits = 0;
    double t0 = now();
    for (long r = 0; r < rounds; r++)
        hits += topic_match_any(pats, sl, NPATS, topic, tn);
    double dt = now() - t0;
    printf("%-6s %8.0f ns per 16-pattern match, %5.2f ns per pattern x word (%ld hits)\n", name,
           dt / (double)rounds * 1e9, dt / (double)rounds / NPATS / 128 * 1e9, hits);
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 20000;
    run("lead", 0, rounds);
    run("many", 1, rounds);
    return 0;
}
