/* jdom.h - a JSON value as a flat array of nodes (pure: bytes in, nodes
 * out), for the inputs whose documents must be looked at as a whole before
 * they become records: Loki's streams, Elasticsearch's documents, GELF's
 * messages, OTLP's resource and log records.
 *
 * Built by yajl's event parser (strict, escapes decoded) into memory that
 * is kept across documents: once warm, a parse allocates nothing.
 *
 * Layout: node 0 is the root. The value after node i in document order is
 * node i + 1; the children of an object or array follow it, an object's as
 * key, value, key, value...; nodes[i].end is the index just past i and all
 * its descendants, so a sibling is reached by skipping to it. Strings,
 * numbers and keys keep their text (decoded, not NUL-terminated) in the
 * document's text buffer.
 *
 * Invariants, after a successful parse:
 *   D1. i < nodes[i].end <= n, and nodes[i].end == i + 1 unless i is an
 *       object or array.
 *   D2. An object's children alternate key (J_KEY) and value; its count
 *       is the number of pairs. An array's count is its number of items.
 *   D3. Depth is at most JDOM_MAX_DEPTH.
 */
#ifndef LOGSHIP_JDOM_H
#define LOGSHIP_JDOM_H

#include <stdint.h>

#include "../../common/buf.h"

#define JDOM_MAX_DEPTH 64

enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_KEY, J_OBJ, J_ARR };

typedef struct jnode {
    uint8_t type; /* enum jtype */
    uint8_t in;   /* 1: the text is in the parsed input (jdom_t.in), not copied */
    uint32_t off; /* text of J_NUM, J_STR, J_KEY in jdom_t.text (or .in) */
    uint32_t len; /* its length; J_OBJ: pairs; J_ARR: items */
    uint32_t end; /* the node after this one's subtree (D1) */
} jnode_t;

typedef struct jdom {
    struct yajl_handle_t *h;
    jnode_t *nodes;
    size_t n, cap;
    buf_t text;
    const char *in; /* the input of the last parse (its text needs no decoding
                       where yajl left it as it is: those nodes point into it) */
    size_t in_n;
    uint32_t open[JDOM_MAX_DEPTH + 1]; /* the containers being built */
    int depth;
    int values; /* top-level values seen */
    char err[256];
} jdom_t;

/* Sets up d (caller-allocated); jdom_free releases it. One thread. */
void jdom_init(jdom_t *d);
void jdom_free(jdom_t *d);

/* Parses s as exactly one JSON value (surrounding blanks allowed).
 * Returns 0, or -1 with d->err saying why and where. Invalid UTF-8 inside
 * strings is kept as it is: the record builder repairs it. */
int jdom_parse(jdom_t *d, const char *s, size_t n);

static inline const jnode_t *jdom_node(const jdom_t *d, size_t i)
{
    return &d->nodes[i];
}
static inline int jdom_type(const jdom_t *d, size_t i)
{
    return d->nodes[i].type;
}
/* The text of a string, key or number (empty for the others). */
static inline slice_t jdom_text(const jdom_t *d, size_t i)
{
    const jnode_t *j = &d->nodes[i];
    if (j->type != J_STR && j->type != J_KEY && j->type != J_NUM)
        return slice_make("", 0);
    return slice_make((j->in ? d->in : d->text.data) + j->off, j->len);
}
/* The index of the first child of container i (== nodes[i].end when
 * empty); then the next sibling of child c is nodes[c].end (for an
 * object's key, the value is c + 1 and the next key nodes[c + 1].end). */
static inline size_t jdom_first(const jdom_t *d, size_t i)
{
    (void)d;
    return i + 1;
}
static inline size_t jdom_end(const jdom_t *d, size_t i)
{
    return d->nodes[i].end;
}
/* The value of key in object obj (the last when repeated), or 0 when it
 * has none or obj is not an object (0 is the root: never a member). */
size_t jdom_get(const jdom_t *d, size_t obj, const char *key);
/* Appends value i as compact JSON text (strings re-escaped). */
void jdom_write(const jdom_t *d, size_t i, buf_t *out);

#endif
