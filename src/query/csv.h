/* csv.h - a record as one CSV row (RFC 4180), for /api/logs?format=csv.
 *
 * Columns: seq,ts,level,topic,host,app,pid,msg,fields (fields as its JSON
 * text). Every text cell is quoted, a quote doubled; line breaks inside a
 * message stay inside its quotes; rows end with CRLF. A cell that starts
 * with = + - @ or a tab gets a leading ' so a spreadsheet shows it as text
 * instead of running it as a formula. Pure: any thread.
 */
#ifndef LOGSHIP_QUERY_CSV_H
#define LOGSHIP_QUERY_CSV_H

#include "../common/buf.h"
#include "../common/record.h"

/* Appends the header row. */
void csv_header(buf_t *out);
/* Appends r as one row. */
void csv_record(buf_t *out, const record_t *r);

#endif
