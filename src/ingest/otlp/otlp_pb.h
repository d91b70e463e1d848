/* otlp_pb.h - OTLP's protobuf encoding of ExportLogsServiceRequest into
 * its JSON encoding (pure: bytes in, JSON text out), so that one mapping
 * (otlp_parse.c) serves both Content-Types of POST /v1/logs.
 *
 * A protobuf decoder of our own for these few messages (the wire format
 * is varints, fixed 32/64-bit values and length-delimited bytes, read in
 * place): Debian's libprotobuf-c would need protoc-c and the OTLP .proto
 * files at build time, and its unpacker allocates every message.
 *
 * The JSON is what OTLP/HTTP JSON would carry: field names in lowerCamel,
 * repeated fields as arrays, int64 and fixed64 values as strings of
 * digits, trace and span ids as hex, bytesValue as base64. Unknown fields
 * are skipped, as protobuf readers do.
 */
#ifndef LOGSHIP_OTLP_PB_H
#define LOGSHIP_OTLP_PB_H

#include <stddef.h>

#include "../../common/buf.h"

#define OTLP_PB_MAX_DEPTH 32

/* Appends the JSON of the request in p to out. Returns 0, or -1 with *err
 * (static text) when p is not a well-formed protobuf message. */
int otlp_pb_to_json(const char *p, size_t n, buf_t *out, const char **err);

#endif
