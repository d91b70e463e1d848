#!/usr/bin/python3
"""amqp_out.py - records/s from logshipd's store to RabbitMQ with publisher
confirms (--amqp-out), next to python3-pika publishing the same records
with confirms, in the same run against the same broker.

Usage: bench/amqp_out.py [RECORDS] [BATCH...]
  RECORDS  records per run (default 200000)
  BATCH    --amqp-batch values to run (default 1 100 1000)
  LOGSHIPD the binary (default build/logshipd: make build)
  INFLIGHT --amqp-inflight (default 1000)
  PIKA_MAX records pika publishes one per message (default 20000: it is slow)
  ROUNDS   rounds of the one-record-per-message runs, alternating (default 1)

The broker is a private rabbitmq-server (tests/integration/rabbit.py: own
node, ports and data on loopback), with one durable queue bound '#' to the
durable topic exchange, so every message is persisted by the broker; the
queue is purged between runs.

logshipd: the records are stored first (HTTP NDJSON, without --amqp-out),
then logshipd starts again on that data directory with --amqp-out: the
time is from its start until /metrics says every record is confirmed (the
output reads them back from disk, renders each as its /api/logs JSON,
publishes and waits for confirms with --amqp-inflight, 1000 by default).

pika: the same records' JSON (from /api/logs), published on a
BlockingConnection channel in confirm mode (channel.confirm_delivery(), as
the RabbitMQ tutorials do it): each basic_publish returns once the broker
confirmed it. "pika, N per message" publishes the same NDJSON bodies of N
records that logshipd would send. "pika async" is pika's asynchronous
publisher (SelectConnection) keeping as many messages unconfirmed as
logshipd does: what the broker can take, one record per message.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
LOGSHIPD = os.environ.get("LOGSHIPD", os.path.join(ROOT, "build", "logshipd"))
os.environ["LOGSHIPD"] = LOGSHIPD  # conftest's Server starts this one

import pika  # noqa: E402

from rabbit import Broker  # noqa: E402
from conftest import Server  # noqa: E402
INFLIGHT = os.environ.get("INFLIGHT", "1000")
EXCHANGE, QUEUE = "logship-bench", "logship-bench-q"


def metric(server, name):
    with urllib.request.urlopen(server.url + "/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def store_records(data, n):
    s = Server(data, []).start()
    topics = ["web.info", "web.error", "kern.crit", "auth.warning", "db.info"]
    for i in range(0, n, 5000):
        body = "".join(json.dumps({"msg": f"request {j} served in {j % 997} ms",
                                   "topic": topics[j % len(topics)], "app": "bench",
                                   "host": "edge-1"}) + "\n"
                       for j in range(i, min(n, i + 5000)))
        req = urllib.request.Request(s.url + "/api/log", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/x-ndjson"})
        urllib.request.urlopen(req, timeout=60).read()
    req = urllib.request.Request(s.url + f"/api/logs?after=0&limit={n}",
                                 headers={"Accept": "application/x-ndjson"})
    with urllib.request.urlopen(req, timeout=300) as r:
        lines = r.read().decode().splitlines()
    assert s.stop() == 0
    return [json.loads(l) for l in lines]


def run_logshipd(broker, data, n, batch):
    for name in ("amqp-out.confirmed",):
        p = os.path.join(data, name)
        if os.path.exists(p):
            os.unlink(p)
    t0 = time.monotonic()
    s = Server(data, ["--amqp-out", broker.url, "--amqp-exchange", EXCHANGE,
                      "--amqp-batch", str(batch), "--amqp-inflight", INFLIGHT,
                      "--log-level", "info"]).start()
    while (metric(s, "logship_amqp_out_confirmed_seq") or 0) < n:
        time.sleep(0.02)
    dt = time.monotonic() - t0
    msgs = metric(s, "logship_amqp_out_published_messages_total")
    cpu = metric(s, "process_cpu_seconds_total")
    assert s.stop() == 0
    return dt, msgs, cpu


def run_pika(broker, records, batch):
    bodies = []
    if batch == 1:
        bodies = [(r["topic"], json.dumps(r, separators=(",", ":")).encode()) for r in records]
    else:
        by_topic = {}
        for r in records:
            by_topic.setdefault(r["topic"], []).append(r)
            if len(by_topic[r["topic"]]) == batch:
                rs = by_topic.pop(r["topic"])
                bodies.append((r["topic"], "".join(json.dumps(x) + "\n" for x in rs).encode()))
        for topic, rs in by_topic.items():
            bodies.append((topic, "".join(json.dumps(x) + "\n" for x in rs).encode()))
    ctype = "application/json" if batch == 1 else "application/x-ndjson"
    t0 = time.monotonic()
    with broker.connect() as c:
        ch = c.channel()
        ch.confirm_delivery()
        for i, (topic, body) in enumerate(bodies):
            ch.basic_publish(EXCHANGE, topic, body, pika.BasicProperties(
                delivery_mode=2, content_type=ctype, message_id=f"bench:{i}"))
    return time.monotonic() - t0, len(bodies)


def run_pika_async(broker, records, window=1000):
    """pika's asynchronous publisher (SelectConnection, as in pika's
    asynchronous_publisher_example): up to `window` messages unconfirmed,
    acks (multiple) counted as they come."""
    bodies = [(r["topic"], json.dumps(r, separators=(",", ":")).encode()) for r in records]
    st = {"next": 0, "acked": 0, "tags": 0, "t0": None, "ch": None}
    props = [pika.BasicProperties(delivery_mode=2, content_type="application/json",
                                  message_id=f"bench:{i}") for i in range(len(bodies))]

    def pump():
        ch = st["ch"]
        while st["next"] < len(bodies) and st["tags"] - st["acked"] < window:
            topic, body = bodies[st["next"]]
            ch.basic_publish(EXCHANGE, topic, body, props[st["next"]])
            st["next"] += 1
            st["tags"] += 1

    def on_confirm(frame):
        m = frame.method
        if isinstance(m, pika.spec.Basic.Ack):
            st["acked"] = max(st["acked"], m.delivery_tag) if m.multiple else st["acked"] + 1
        if st["acked"] >= len(bodies):
            conn.close()
        else:
            pump()

    def on_open_channel(ch):
        st["ch"] = ch
        ch.confirm_delivery(on_confirm)
        st["t0"] = time.monotonic()
        pump()

    conn = pika.SelectConnection(broker.params(),
                                 on_open_callback=lambda c: c.channel(
                                     on_open_callback=on_open_channel))
    conn.ioloop.call_later(600, conn.close)
    conn.add_on_close_callback(lambda c, reason: c.ioloop.stop())
    conn.ioloop.start()
    assert st["acked"] >= len(bodies), st
    return time.monotonic() - st["t0"], len(bodies)


def purge(broker):
    with broker.connect() as c:
        c.channel().queue_purge(QUEUE)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    batches = [int(b) for b in sys.argv[2:]] or [1, 100, 1000]
    broker = Broker()
    data = tempfile.mkdtemp(prefix="logship-bench-")
    try:
        broker.start()
        broker.declare(EXCHANGE, QUEUE, ["#"])
        records = store_records(data, n)
        assert len(records) == n
        print(f"{n} records, {sum(len(json.dumps(r)) for r in records) // n} bytes of JSON "
              f"each on average; logshipd {LOGSHIPD}")
        print("| publisher | records/message | messages | seconds | records/s |")
        print("|---|---:|---:|---:|---:|")
        rounds = int(os.environ.get("ROUNDS", 1))
        for b in batches:
            for _ in range(rounds if b == 1 else 1):
                purge(broker)
                dt, msgs, cpu = run_logshipd(broker, data, n, b)
                print(f"| logshipd --amqp-batch {b} | {b} | {msgs:.0f} | {dt:.2f} | "
                      f"{n / dt:,.0f} |  (logshipd CPU {cpu:.1f} s)", flush=True)
                if b == 1:
                    purge(broker)
                    dt, msgs = run_pika_async(broker, records, int(INFLIGHT))
                    print(f"| pika async, {INFLIGHT} unconfirmed | 1 | {msgs} | {dt:.2f} | "
                          f"{n / dt:,.0f} |", flush=True)
            purge(broker)
            # pika one message at a time: cap the run, it is slow
            sub = records if b > 1 else records[:min(n, int(os.environ.get("PIKA_MAX", 20000)))]
            dt, msgs = run_pika(broker, sub, b)
            print(f"| pika, confirm per message | {b} | {msgs} | {dt:.2f} | "
                  f"{len(sub) / dt:,.0f} |", flush=True)
        purge(broker)
    finally:
        broker.close()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
