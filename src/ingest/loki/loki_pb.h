/* loki_pb.h - Loki's protobuf push (snappy-compressed PushRequest, as
 * Promtail, Alloy and winston-loki send it by default) into the JSON push
 * (pure: bytes in, JSON text out), so that loki_parse.c maps both.
 *
 *   PushRequest  { repeated Stream streams = 1; }
 *   Stream       { string labels = 1;  // {app="web", level="warn"}
 *                  repeated Entry entries = 2; }
 *   Entry        { Timestamp timestamp = 1; string line = 2;
 *                  repeated LabelPair structuredMetadata = 3; }
 *   Timestamp    { int64 seconds = 1; int32 nanos = 2; }
 *   LabelPair    { string name = 1; string value = 2; }
 *
 * The labels are Prometheus's selector text: name="value" pairs, values
 * with \\ \" and \n escapes. Snappy is Debian's libsnappy (the block
 * format, as Loki reads it).
 */
#ifndef LOGSHIP_LOKI_PB_H
#define LOGSHIP_LOKI_PB_H

#include <stddef.h>

#include "../../common/buf.h"

/* Appends the JSON push of the snappy-compressed request p to out,
 * decompressing into scratch (at most max bytes). Returns 0, or -1 with
 * *err (static text). */
int loki_pb_to_json(const char *p, size_t n, size_t max, buf_t *scratch, buf_t *out,
                    const char **err);

#endif
