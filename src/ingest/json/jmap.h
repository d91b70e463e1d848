/* jmap.h - one record from a JSON object in a jdom, by a table of dotted
 * paths (pure). Shared by the inputs whose documents are JSON objects with
 * names of their own: Elasticsearch documents, GELF messages, Loki labels.
 *
 * Every scalar of the object is reached by its dotted path ({"log":
 * {"level":"warn"}} and {"log.level":"warn"} are both "log.level"). A path
 * in the table sets its record part; of several paths for one part the
 * highest rank wins and the others are kept in fields. Every other value
 * goes into fields under its path (arrays whole, as JSON), with the table's
 * strip prefix removed from the first key (GELF's "_"). A value of the
 * wrong kind for its part (a level no name maps to, a time that does not
 * parse) is kept in fields too; an unknown level as fields.level_raw.
 * Times: RFC 3339 strings, or epoch numbers (or strings of digits) whose
 * unit, seconds to nanoseconds, is told by their magnitude.
 */
#ifndef LOGSHIP_JMAP_H
#define LOGSHIP_JMAP_H

#include "../../common/record.h"
#include "jdom.h"

enum jmap_part {
    JM_FIELD, /* not mapped: into fields */
    JM_MSG,
    JM_LEVEL,
    JM_TS,
    JM_APP,
    JM_HOST,
    JM_PID,
    JM_TOPIC,
    JM_DROP, /* read by the input itself (GELF's "version"): not kept */
    JM_COUNT
};

typedef struct jmap_key {
    const char *path;
    enum jmap_part part;
    int rank; /* among paths of one part, the higher wins; >= 1 */
} jmap_key_t;

typedef struct jmap {
    const jmap_key_t *keys;
    size_t nkeys;
    const char *strip; /* prefix taken off unmapped top-level keys, or NULL */
} jmap_t;

/* What jmap_object found, for inputs that check it (a record must say
 * something). */
typedef struct jmap_result {
    int has[JM_COUNT];
} jmap_result_t;

/* Memory jmap_object reuses: the caller keeps it across calls (zeroed to
 * start, buf_free both at the end). */
typedef struct jmap_scratch {
    buf_t path, value;
    buf_t keys; /* the first pass's leaves (node, lookup, path), for the second */
    /* the previous object's leaves and its table: the documents of one
     * request mostly have the same paths in the same order, so a leaf whose
     * path is the one at the same place there takes its lookup */
    buf_t prev;
    const jmap_t *prev_map;
} jmap_scratch_t;

/* Adds the members of object obj to rb (which the caller reset and will
 * finish); res says which parts were set. */
void jmap_object(const jdom_t *d, size_t obj, const jmap_t *m, recbuild_t *rb, jmap_scratch_t *sc,
                 jmap_result_t *res);

/* Sets the record part p of rb from value i the way jmap_object would;
 * returns 1, or 0 when the value does not fit p (the caller keeps it). */
int jmap_set(const jdom_t *d, size_t i, enum jmap_part p, recbuild_t *rb);

/* Adds value i to rb's fields under key (arrays and objects as JSON). */
void jmap_field(const jdom_t *d, size_t i, const char *key, size_t kn, recbuild_t *rb,
                buf_t *scratch);

#endif
