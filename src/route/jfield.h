/* jfield.h - finding one field in a record's fields, reading the JSON text
 * where it lies.
 *
 * A record's fields are one JSON object text (record.h), written by
 * logship: nested objects of JSON input are flattened into dotted keys
 * ({"user":{"id":42}} is stored as {"user.id":42}), arrays are kept whole,
 * strings are json_str() output. A field filter runs for every record and
 * every subscriber, so a full parse per record is out of the question:
 * jfield_each() walks the text once, left to right, without building
 * anything, skipping the values it does not want by their brackets and
 * quotes, and reports each value whose key is NAME:
 *   - a member whose key is NAME itself ("user.id":42), and
 *   - stepping into objects by NAME's dotted parts ("user":{"id":42}), for
 *     texts that were not flattened;
 * every occurrence, in order (a key may appear more than once). Keys are
 * compared decoded (escapes in a key are read as what they stand for).
 *
 * Text that is not a JSON object ends the walk where the damage is: values
 * before it were reported, nothing is read outside [json, json + n). The
 * walk recurses only to step into an object by a part of NAME, so at most
 * once per dot in NAME.
 */
#ifndef LOGSHIP_JFIELD_H
#define LOGSHIP_JFIELD_H

#include <stddef.h>

typedef struct jfield_val {
    const char *p; /* a string: its body between the quotes, still escaped;
                    * anything else: its JSON text (42, true, [1,2], {...}) */
    size_t n;
    int is_str;
} jfield_val_t;

/* Called for each value found; nonzero stops the walk and is returned. */
typedef int (*jfield_fn)(void *arg, const jfield_val_t *v);

/* Walks the object json[0..n) for the values of key name[0..nn). Returns
 * what fn returned when it stopped the walk, else 0. */
int jfield_each(const char *json, size_t n, const char *name, size_t nn, jfield_fn fn, void *arg);

#endif
