/* filter.h - which records a query or a live tail wants.
 *
 * A record passes when every condition given holds:
 *   topic=P...     it matches one of the topic patterns (topic.h);
 *   app=G...       its app matches one of the globs (glob.h: "*", "?");
 *   host=G...      its host matches one of the globs;
 *   field.NAME=G   its fields hold NAME (dots may step into objects,
 *                  jfield.h) with a value that matches G: a string by its
 *                  decoded text, anything else by its JSON text (42, true,
 *                  null, [1,2]). Conditions on the same NAME are
 *                  alternatives, different NAMEs must all hold; a record
 *                  without NAME fails (field.NAME=* asks that it exists);
 *   level=L        it is at least as severe as L (syslog order);
 *   q=S            its message contains S (bytes, case-sensitive);
 *   qi=S           its message contains S ignoring ASCII case (A-Z = a-z;
 *                  other characters, é and É among them, compare exactly);
 *   word=W...      every word of W (common/token.h: runs of letters,
 *                  digits, '_' and non-ASCII bytes, ASCII case folded) is a
 *                  word of its message or of its fields' JSON text; several
 *                  word= must all hold;
 *   re             (set by the caller, filter_set_re: the query owns the
 *                  compiled form) its message matches the regex (regex.h);
 *   since, until, after, before: its ts and seq lie inside the bounds;
 *   not.topic=P... it matches none of these topic patterns;
 *   not.app=G...   its app matches none of these globs;
 *   not.host=G...  its host matches none of these globs;
 *   not.field.NAME=G  its field NAME holds no value that matches G (a
 *                  record without NAME passes);
 *   not.level=L,.. its level is none of these (exact names, comma-separated
 *                  or repeated): the way a level facet is excluded, or all
 *                  levels but one are;
 * and, when the filter is limited (filter_limit: a token's topics, set by
 * the server, never by a request's parameters), its topic is in the limit
 * too, whatever the request asked. The limit is part of the filter's key,
 * its hint candidates keep it, and filter_own copies its texts: a limited
 * filter never matches, shares or hints at a record outside the limit.
 * Strings are borrowed from the request that built the filter, until
 * filter_own() copies them.
 *
 * Cost per record: the cheap fixed tests first (seq, level, time), then
 * topics and the limit, app, host, the message searches and the fields last. Everything
 * is compiled when set: topic patterns (topic.h), globs (glob.h), and qi's
 * skip table (Horspool over ASCII-folded bytes); matching allocates
 * nothing. Compiled forms only refer to their text by offset: copying a
 * filter and pointing its slices at a copy of the same texts keeps it
 * valid (filter_own does exactly that).
 */
#ifndef LOGSHIP_FILTER_H
#define LOGSHIP_FILTER_H

#include <stdint.h>

#include "../common/record.h"
#include "glob.h"
#include "topic.h"

/* Per filter, so per subscriber and per query: matching costs every
 * subscriber's patterns for every record. */
#define FILTER_MAX_TOPICS     16
#define FILTER_MAX_GLOBS      16 /* app= patterns, and host= patterns */
#define FILTER_MAX_FIELDS     16 /* field.NAME= conditions */
#define FILTER_FIELD_NAME_MAX 255
#define FILTER_MAX_WORDS      16 /* word= conditions */

struct regex;

typedef struct filter_field {
    slice_t name;  /* NAME of field.NAME */
    slice_t value; /* the glob's text */
    glob_t g;
    uint8_t lead; /* index of the first condition with this name */
} filter_field_t;

typedef struct filter {
    slice_t topics[FILTER_MAX_TOPICS];
    topic_pat_t pats[FILTER_MAX_TOPICS]; /* topics[i] compiled; travels with it */
    size_t ntopics;
    slice_t apps[FILTER_MAX_GLOBS], hosts[FILTER_MAX_GLOBS];
    glob_t app_g[FILTER_MAX_GLOBS], host_g[FILTER_MAX_GLOBS];
    size_t napps, nhosts;
    /* not.topic=, not.app=, not.host=: none may match */
    slice_t not_topics[FILTER_MAX_TOPICS];
    topic_pat_t not_pats[FILTER_MAX_TOPICS];
    size_t nnot_topics;
    slice_t not_apps[FILTER_MAX_GLOBS], not_hosts[FILTER_MAX_GLOBS];
    glob_t not_app_g[FILTER_MAX_GLOBS], not_host_g[FILTER_MAX_GLOBS];
    size_t nnot_apps, nnot_hosts;
    uint8_t not_levels;                           /* bit L: level L fails (not.level=) */
    filter_field_t not_fields[FILTER_MAX_FIELDS]; /* not.field.NAME=; lead unused */
    size_t nnot_fields;
    filter_field_t fields[FILTER_MAX_FIELDS];
    size_t nfields;
    int min_level;        /* 7 (debug) passes everything */
    slice_t q;            /* substring of msg; empty passes everything */
    slice_t qi;           /* substring of msg, ASCII case folded; empty passes everything */
    uint8_t qi_skip[256]; /* Horspool shifts by folded byte (at most 255) */
    slice_t words[FILTER_MAX_WORDS]; /* word= texts */
    size_t nwords;
    const struct regex *re; /* borrowed from its owner; NULL: none */
    slice_t re_text;        /* its pattern, for filter_key */
    int64_t since, until;   /* ts bounds, inclusive; INT64_MIN/MAX when open */
    uint64_t after;         /* seq > after */
    uint64_t before;        /* seq < before; 0: no bound */
    int limited;            /* the topic must be in limit as well */
    topic_set_t limit;      /* filter_limit's; texts borrowed until filter_own */
} filter_t;

void filter_init(filter_t *f);
/* Applies one query parameter: topic, app, host, field.NAME, word
 * (repeatable), level, q, qi, since, until, after, before (seq < before;
 * at least 1), not.topic, not.app, not.host, not.field.NAME, not.level
 * (repeatable). re= is not one: its owner compiles it (filter_set_re).
 * Returns 0, 1 when key is not a filter key, or -1 with *err set to a
 * static message for a bad value. key and v must outlive f (or until
 * filter_own). */
int filter_set(filter_t *f, slice_t key, slice_t v, const char **err);
/* Limits f to the topics of s (copied; its texts are borrowed, as the
 * parameters' are, until filter_own): a record must then match s as well
 * as everything else. An empty s lets nothing through. A second call
 * replaces the first. */
void filter_limit(filter_t *f, const topic_set_t *s);
/* Makes f match only messages that re (regex.h; text its pattern) finds
 * something in. re and text stay the caller's: they must outlive f and
 * every copy of it (filter_own copies the text, not re). */
void filter_set_re(filter_t *f, const struct regex *re, slice_t text);
/* 1 when r passes f. */
int filter_match(const filter_t *f, const record_t *r);

/* Bytes filter_own() needs for f's strings. */
size_t filter_strings_size(const filter_t *f);
/* Copies every string f borrows into b and points f at the copies. b gets
 * room for all of them first (filter_strings_size), then never moves: keep
 * b for as long as f, and append nothing else to it. */
void filter_own(filter_t *f, buf_t *b);
/* Appends a key naming what f selects (not its seq and time bounds): equal
 * keys, equal filters. Topic patterns are taken in sorted order, so the
 * same patterns in another order give the same key. */
void filter_key(const filter_t *f, buf_t *out);

/* ---- hints -----------------------------------------------------------------
 * A topic pattern without "*" or "#" ("web") matches that one topic only;
 * often "web.#" was meant. When a query or a tail found nothing, the caller
 * feeds it a bounded number of other records (filter_hint_feed) and learns
 * which of those patterns P would have found something as "P.#", every other
 * condition kept.
 */
typedef struct filter_hint {
    filter_t alt; /* f with its topics replaced by the candidates' "P.#" */
    char text[FILTER_MAX_TOPICS][TOPIC_PATTERN_MAX_BYTES + 1];
    uint8_t from[FILTER_MAX_TOPICS]; /* alt's topic i is f's topic from[i] */
    uint32_t hit;                    /* bit i: a record passed through alt's topic i */
} filter_hint_t;

/* Sets h up for f. Returns the number of candidates; 0: no hint possible. */
size_t filter_hint_init(filter_hint_t *h, const filter_t *f);
/* Tests r; returns 1 once every candidate has been hit (feed no more). */
int filter_hint_feed(filter_hint_t *h, const record_t *r);
/* Appends "topic 'P' has no wildcard: did you mean 'P.#'?" for each
 * candidate hit, separated by "; ", in printable ASCII (other bytes as
 * \xHH): fit for an HTTP header. Returns how many. */
size_t filter_hint_text(const filter_hint_t *h, const filter_t *f, buf_t *out);

#endif
