/* amqp_out.h - the RabbitMQ output (--amqp-out): stored records published
 * to a topic exchange with publisher confirms, from a cursor over the store.
 *
 * DESIGN
 *
 * The output owns one thread and one AMQP connection (librabbitmq); the
 * event loop never waits for the broker. The thread is a reader of the
 * store like a query: it scans the records after its cursor (store_scan, in
 * chunks), packs the ones whose topic matches an --amqp-out-topic pattern
 * into messages (pack.h) and publishes each to --amqp-exchange, a durable
 * topic exchange, with routing key = topic, persistent (delivery mode 2),
 * content_type application/json (or application/x-ndjson with
 * --amqp-batch > 1), message_id NODE:SEQ (NODE:FIRST-LAST for several
 * records), app_id logshipd, timestamp, and headers seq (the first
 * record's), plus last_seq and records for several; mandatory, so the broker
 * returns a message no queue takes (counted, then acked). Over plain TCP
 * the publishes of a chunk are encoded by wire.h into one buffer and sent
 * with one send() per 256 KiB (librabbitmq makes three per message); over
 * TLS they go through amqp_basic_publish(). The channel is
 * in confirm mode; confirm.h turns the broker's acks into `confirmed`, the
 * seq up to which every record is safe at the broker, which outstate.h
 * persists (atomically, at most every AMQP_OUT_PERSIST_MS and when the
 * session ends) so a restart, even after kill -9, resumes after it.
 *
 * New records: the store calls a commit listener (store_on_commit) on the
 * loop; it only writes an eventfd, once per wake-up (a flag says a wake is
 * pending), so the thread sleeps in poll() on the eventfd and the socket
 * and the store knows nothing of AMQP. Polling store_last_seq() on a timer
 * would cost either latency or idle wake-ups; the hook costs one write per
 * group commit while the output is idle, none while it is busy.
 *
 * States (stats.state):
 *   DOWN        not connected: waiting out the backoff (200 ms doubling to
 *               30 s, reset by a session that got a confirm). Ingest goes
 *               on; nothing is held in memory: the cursor just stops and
 *               the lag grows.
 *   CONNECTING  TCP (or TLS), login, channel, exchange.declare,
 *               confirm.select.
 *   UP          publishing while the window (--amqp-inflight messages not
 *               yet confirmed) has room and the store has records past the
 *               cursor; else waiting for acks, the eventfd or the
 *               heartbeat.
 * Any error (socket, protocol, channel or connection closed by the broker,
 * a nack, no traffic for three heartbeat intervals) ends the session: the
 * unconfirmed messages are forgotten and the next session publishes again
 * from `confirmed`. Only those in flight can reach the broker twice.
 *
 * Invariants:
 *   1. The persisted seq never passes `confirmed` (confirm.h invariant 2):
 *      a record is never counted delivered before the broker confirmed it.
 *   2. Records are read from the store, never queued in memory: at most
 *      the open messages of pack.h and the window's bookkeeping are held.
 *   3. Only the output's thread touches the connection; the loop thread
 *      only writes the eventfd and, at stop, may shutdown() the socket.
 */
#ifndef LOGSHIP_AMQP_OUT_H
#define LOGSHIP_AMQP_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

#define AMQP_OUT_TOPICS_MAX  16
#define AMQP_OUT_PERSIST_MS  250
#define AMQP_OUT_HEARTBEAT_S 10

typedef struct amqp_out_opts {
    const char *url;      /* --amqp-out */
    const char *exchange; /* --amqp-exchange */
    const char *ca_file;  /* --amqp-ca; NULL or "": the system's CA bundle */
    const char *const *topics;
    size_t ntopics;  /* --amqp-out-topic; none: "#" */
    size_t batch;    /* --amqp-batch: records per message */
    size_t inflight; /* --amqp-inflight: messages not yet confirmed, at most */
    const char *data_dir;
} amqp_out_opts_t;

enum amqp_out_state { AMQP_OUT_DOWN, AMQP_OUT_CONNECTING, AMQP_OUT_UP };

typedef struct amqp_out_stats {
    int state; /* enum amqp_out_state */
    uint64_t connects, connect_failures, disconnects;
    uint64_t messages, records; /* published (again, after a reconnect, too) */
    uint64_t acked;             /* messages the broker confirmed */
    uint64_t nacked, returned;  /* messages refused, or routed to no queue */
    uint64_t skipped;           /* records no --amqp-out-topic matched */
    uint64_t confirmed_seq;     /* every record up to it is at the broker */
    uint64_t lag;               /* store_last_seq() - confirmed_seq: records, about */
} amqp_out_stats_t;

typedef struct amqp_out amqp_out_t;

/* Checks the options (URL, exchange name, patterns, numbers, CA file).
 * Returns 0, or -1 with err filled. Any thread. */
int amqp_out_check(const amqp_out_opts_t *o, char *err, size_t errcap);
/* Checks o, reads (or makes) the node id and the confirmed seq in
 * o->data_dir, listens to the store's commits and starts the thread.
 * Returns NULL with err filled on failure. Loop thread; the store must
 * outlive the output. */
amqp_out_t *amqp_out_start(store_t *s, const amqp_out_opts_t *o, char *err, size_t errcap);
/* Stops publishing: waits up to a second for the confirms of what is in
 * flight, persists the confirmed seq, closes the connection, joins the
 * thread, frees. Within about 2 s even when the broker hangs. NULL is
 * fine. Loop thread, before the store closes. */
void amqp_out_stop(amqp_out_t *o);
/* The counters, read atomically. Any thread. */
void amqp_out_get_stats(amqp_out_t *o, amqp_out_stats_t *st);
/* The node id message ids start with (NODE_ID_LEN hex digits). */
const char *amqp_out_node_id(const amqp_out_t *o);

#endif
