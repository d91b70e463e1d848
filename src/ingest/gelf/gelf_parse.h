/* gelf_parse.h - GELF messages (Graylog Extended Log Format) into records
 * (pure: bytes in, records out). One message is a JSON object, sent
 * as it is or compressed with zlib or gzip (told apart by their first
 * bytes, as Graylog does):
 *
 *   {"version":"1.1","host":"web-1","short_message":"GET /","timestamp":
 *    1764684000.5,"level":6,"full_message":"...","_user_id":42}
 *
 * Mapping (docs/PROTOCOL.md):
 *   msg    "short_message" > "message"
 *   ts     "timestamp" (seconds since the epoch, a fraction allowed)
 *   level  "level" (syslog severity 0..7; names are taken too)
 *   host   "host"
 *   app    "_app" > "_application_name" > "_service" > "facility" > "_facility"
 *   pid    "_pid" > "_process_id"
 *   topic  "_topic"
 * "version" is dropped; every other key goes into fields, additional
 * fields without their "_" ("_user_id" is fields.user_id), and
 * "full_message" as fields.full_message.
 */
#ifndef LOGSHIP_GELF_PARSE_H
#define LOGSHIP_GELF_PARSE_H

#include "../../common/record.h"
#include "../json/jdom.h"
#include "../json/jmap.h"

typedef struct gelf_parser {
    jdom_t dom;
    recbuild_t rb;
    jmap_scratch_t sc;
    buf_t inflated;
    size_t max_inflated;
    char err[300];
} gelf_parser_t;

/* max_msg bounds a record's msg; max_inflated a decompressed message. */
void gelf_parser_init(gelf_parser_t *gp, size_t max_msg, size_t max_inflated);
void gelf_parser_free(gelf_parser_t *gp);

/* Adds the record of one message (compressed or not) to b. Returns 0, or
 * -1 with *err (valid until the next call) when it is not a GELF message;
 * then nothing is added. */
int gelf_parse(gelf_parser_t *gp, const char *p, size_t n, batch_t *b, const rec_defaults_t *d,
               const char **err);

/* For the inputs that cannot answer (UDP, TCP): a message that failed is
 * kept as it came, as msg (compressed bytes as far as they decode), with
 * why in fields.parse_error. */
void gelf_raw(gelf_parser_t *gp, const char *p, size_t n, const char *why, batch_t *b,
              const rec_defaults_t *d);

#endif
