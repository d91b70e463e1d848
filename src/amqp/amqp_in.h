/* amqp_in.h - the RabbitMQ input (--amqp-in): a durable queue consumed
 * with manual acknowledgements, each message acked only once its records
 * are durable in the store.
 *
 * DESIGN
 *
 * The input owns one thread and one AMQP connection (librabbitmq); the
 * event loop never waits for the broker. The thread connects, declares
 * each --amqp-bind exchange (a durable topic exchange, as the output
 * declares it) and --amqp-queue (durable), binds them, sets basic.qos
 * --amqp-prefetch and consumes with manual acks. Several logshipd on one
 * queue are competing consumers: the broker hands each message to one of
 * them, at most prefetch unacked at a time each (fair dispatch).
 *
 * Frames are read as they come (no allocation per message: the body goes
 * into one reused buffer, cut at --max-body) and inbody.h turns each
 * message into records, on the thread, into the slot being filled. A slot
 * is a batch plus the delivery tags it covers. When the socket has nothing
 * more to read (or the slot holds AMQP_IN_SLOT_RECORDS records or
 * AMQP_IN_SLOT_BYTES bytes) and the next slot is free, the slot goes to
 * the loop (a uv_async): one store_append() per slot, whatever the number
 * of messages, with a waiter. When the store answers, the loop marks the
 * slot done and wakes the thread (an eventfd); the thread answers slots in
 * the order they were filled: basic.ack with multiple up to the slot's
 * last tag when its records are durable (with --fsync always, after the
 * fdatasync), basic.nack with requeue when the store refused them (-EAGAIN:
 * the writer is behind; the sticky error of a full or failing disk). After
 * a refusal the thread reads nothing for a backoff (100 ms doubling to
 * 2 s, reset by a slot stored), so the broker keeps the messages, or gives
 * them to another consumer, instead of spinning.
 *
 * Duplicates: dedup.h keeps the keys of the newest --amqp-dedup records
 * (inbody.h: "NODE:SEQ" for another logshipd's, the message_id for the
 * rest). A key is added when its record goes into a slot; a record whose
 * key is there is dropped (counted), and its message acked with the rest
 * of the slot. A slot the store refused gives its keys back. The window is
 * not persisted: it is rebuilt at start by reading the newest records
 * back from the store (at most AMQP_IN_REBUILD_FACTOR x --amqp-dedup of
 * them), whose fields carry the keys. The store is the one truth of what
 * is durable: a separate file would be written either before the records
 * are durable (and then swallow redeliveries of records a crash lost) or
 * after (and miss records that were stored just before a kill -9).
 *
 * States (stats.state): DOWN (waiting out the backoff: 200 ms doubling to
 * 30 s), CONNECTING, UP (consuming). Any error (socket, protocol, a
 * channel or connection closed by the broker, the broker cancelling the
 * consumer, no traffic for three heartbeat intervals) ends the session:
 * the broker requeues every message not acked. Before it connects again
 * the thread waits until the store has answered every slot of the old
 * session, so that the window knows what was stored when the
 * redeliveries come.
 *
 * Stopping: amqp_in_quiesce() (the first SIGTERM) cancels the consumer
 * while the loop still runs, so what was delivered is stored and acked;
 * amqp_in_busy() says when that is done. amqp_in_stop() then closes the
 * connection: anything not acked yet goes back to the queue.
 *
 * Invariants:
 *   1. A message is acked only after the store answered, without an error,
 *      the slot that holds its records (or every slot before it, for a
 *      message that added none): never before its records are durable.
 *   2. Slots are answered in the order they were filled, and every
 *      delivery of a session is in exactly one slot, so an ack or nack
 *      with multiple covers exactly the slots answered.
 *   3. A key in the window belongs to a record that is stored or in a slot
 *      the store has not answered; keys of a slot that was refused or of
 *      deliveries never handed to the store are taken back.
 *   4. Only the input's thread touches the connection, the window and a
 *      slot being filled; a slot handed over belongs to the loop until it
 *      is marked done (under the mutex).
 */
#ifndef LOGSHIP_AMQP_IN_H
#define LOGSHIP_AMQP_IN_H

#include <stddef.h>
#include <stdint.h>

#include "../common/hist.h"
#include "../store/store.h"

#define AMQP_IN_BINDS_MAX      16
#define AMQP_IN_HEARTBEAT_S    10
#define AMQP_IN_SLOTS          8
#define AMQP_IN_SLOT_RECORDS   8192
#define AMQP_IN_SLOT_BYTES     (4u << 20)
#define AMQP_IN_REBUILD_FACTOR 4

typedef struct amqp_in_opts {
    const char *url;     /* --amqp-in */
    const char *queue;   /* --amqp-queue */
    const char *ca_file; /* --amqp-ca; NULL or "": the system's CA bundle */
    const char *const *binds;
    size_t nbinds;   /* --amqp-bind EXCHANGE:PATTERN */
    size_t prefetch; /* --amqp-prefetch: unacked messages, at most */
    size_t dedup;    /* --amqp-dedup: keys remembered; 0: off */
    size_t max_body; /* --max-body: a longer body is cut (and kept as text) */
} amqp_in_opts_t;

enum amqp_in_state { AMQP_IN_DOWN, AMQP_IN_CONNECTING, AMQP_IN_UP };

typedef struct amqp_in_stats {
    int state; /* enum amqp_in_state */
    uint64_t connects, connect_failures, disconnects;
    uint64_t messages, redelivered; /* delivered; of which flagged redelivered */
    uint64_t bytes;                 /* body bytes delivered */
    uint64_t records;               /* stored (durable) */
    uint64_t duplicates;            /* records (or messages) dropped: taken before */
    uint64_t parse_errors;          /* records kept as text with fields.parse_error */
    uint64_t acked, requeued;       /* messages acked; nacked with requeue */
    uint64_t refusals;              /* slots the store refused */
    uint64_t unacked;               /* messages delivered and not answered yet */
    uint64_t dedup_keys;            /* keys in the window */
    const hist_t *ack_seconds;      /* a slot's first delivery to its ack */
} amqp_in_stats_t;

typedef struct amqp_in amqp_in_t;

/* Checks the options (URL, queue, binds, numbers, CA file). Returns 0, or
 * -1 with err filled. Any thread. */
int amqp_in_check(const amqp_in_opts_t *o, char *err, size_t errcap);
/* Checks o and starts the thread (which rebuilds the window from the store
 * before it connects). Returns NULL with err filled on failure. Loop
 * thread; the store must outlive the input. */
amqp_in_t *amqp_in_start(uv_loop_t *loop, store_t *s, const amqp_in_opts_t *o, char *err,
                         size_t errcap);
/* Stops taking messages (basic.cancel); what was delivered is still
 * stored and acked while the loop runs. Loop thread. */
void amqp_in_quiesce(amqp_in_t *in);
/* 1 while delivered messages are not answered yet, or the consumer is
 * not cancelled yet, after amqp_in_quiesce(). NULL: 0. Any thread. */
int amqp_in_busy(amqp_in_t *in);
/* Closes the connection (unacked messages go back to the queue), joins
 * the thread and forgets the store's waiters; the memory goes once the
 * loop has closed the async handle. NULL is fine. Loop thread, before the
 * store closes. */
void amqp_in_stop(amqp_in_t *in);
/* The counters, read atomically. Any thread. */
void amqp_in_get_stats(amqp_in_t *in, amqp_in_stats_t *st);

#endif
