#!/usr/bin/python3
"""amqp_e2e.py - records/s end to end through RabbitMQ: logshipd A
(--amqp-out) -> a private rabbitmq-server -> logshipd B (--amqp-in), from
the first POST to A until the last record is stored and queryable on B, next to
python3-pika publishing and consuming the same bodies in the same run.

Usage: bench/amqp_e2e.py [RECORDS_1] [RECORDS_BATCHED] [BATCH...]
  RECORDS_1        records of the one-record-per-message runs (default 200000)
  RECORDS_BATCHED  records of the batched runs (default 1000000)
  BATCH            --amqp-batch values (default 1 1000; 1 uses RECORDS_1)
Env:
  LOGSHIPD         the binary (default build/logshipd: make build)
  LOGSHIPD_BEFORE  a second binary (say, an older commit's) run the same
                   way right after each LOGSHIPD run: before/after in one run
  INFLIGHT         --amqp-inflight of A (default 1000)
  PREFETCH         --amqp-prefetch of B (default 1000)
  PIKA=0           skip the pika runs
  PERF=DIR         perf record -g both logshipd (the fresh run of each
                   batch) into DIR/perf-{a,b}-BATCH.data
  STRACE=DIR       strace -c -f them instead: DIR/strace-{a,b}-BATCH.txt

For each batch size and binary: a fresh pair (new data directories, A and B
started, B consuming a durable queue bound '#' to A's durable topic
exchange), then two runs on it: "fresh" (the pair's first records) and
"warm" (the same number again). A run POSTs the records to A's /api/log as
NDJSON, 5,000 per POST on one keep-alive connection (the bodies are made
before the clock starts), and ends when B has stored all of them
(logship_amqp_in_stored_records_total, polled every 10 ms: B acks a
message only once its records are durable, and they are queryable then);
a query for the last record posted then checks it is on B. Each row
has the CPU seconds each logshipd and the broker (its Erlang VM) used in
that run, and the peak RSS (VmHWM) of each so far.

pika: the same bodies (a record's JSON, or the NDJSON of BATCH records)
published persistent by pika's asynchronous publisher (SelectConnection,
INFLIGHT messages unconfirmed) to the same exchange, and consumed by a
BlockingConnection with manual acks (basic_ack per message, prefetch
PREFETCH, as in the RabbitMQ work-queue tutorial) on another queue bound
'#': from the first publish to the last message acked.
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
LOGSHIPD = os.environ.get("LOGSHIPD", os.path.join(ROOT, "build", "logshipd"))
os.environ["LOGSHIPD"] = LOGSHIPD

import pika  # noqa: E402

import conftest  # noqa: E402
from rabbit import Broker  # noqa: E402

INFLIGHT = int(os.environ.get("INFLIGHT", "1000"))
PREFETCH = int(os.environ.get("PREFETCH", "1000"))
PERF = os.environ.get("PERF", "")
TOPICS = ["web.info", "web.error", "kern.crit", "auth.warning", "db.info"]
HZ = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / HZ


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def metric(url, name):
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def bodies_for(run, n):
    """NDJSON POST bodies of 5,000 records; the last record's msg."""
    out, last = [], None
    for i in range(0, n, 5000):
        lines = []
        for j in range(i, min(n, i + 5000)):
            last = f"{run} request {j} served in {j % 997} ms"
            lines.append(json.dumps({"msg": last, "topic": TOPICS[j % len(TOPICS)],
                                     "app": "bench", "host": "edge-1", "fields": {"j": j}}))
        out.append(("\n".join(lines) + "\n").encode())
    return out, last


def stored(conn):
    """B's logship_amqp_in_stored_records_total: records durable and
    queryable (they are acked only then)."""
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    for line in r.read().decode().splitlines():
        if line.startswith("logship_amqp_in_stored_records_total "):
            return float(line.split()[1])
    return 0


class Pair:
    def __init__(self, binary, broker, batch, tag):
        self.dir = tempfile.mkdtemp(prefix="logship-e2e-")
        self.exchange, self.queue = f"e2e-{tag}", f"e2e-{tag}-q"
        self.stored = 0
        conftest.LOGSHIPD = binary
        common = ["--fsync", "interval", "--syslog-udp", "off", "--syslog-tcp", "off",
                  "--tcp", "off"]
        self.b = conftest.Server(os.path.join(self.dir, "b"), common + [
            "--amqp-in", broker.url, "--amqp-queue", self.queue,
            "--amqp-bind", f"{self.exchange}:#", "--amqp-prefetch", str(PREFETCH)]).start()
        self.a = conftest.Server(os.path.join(self.dir, "a"), common + [
            "--amqp-out", broker.url, "--amqp-exchange", self.exchange,
            "--amqp-batch", str(batch), "--amqp-inflight", str(INFLIGHT)]).start()
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if metric(self.a.url, "logship_amqp_out_up") == 1 and \
                    metric(self.b.url, "logship_amqp_in_up") == 1:
                return
            time.sleep(0.05)
        raise RuntimeError("the pair did not connect:\n" + "\n".join(self.a.log_lines[-20:] +
                                                                      self.b.log_lines[-20:]))

    def close(self):
        for s in (self.a, self.b):
            s.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_pair(pair, broker_pid, name, n, perf_tag=None):
    bodies, last = bodies_for(name, n)
    ca = http.client.HTTPConnection("127.0.0.1", pair.a.port, timeout=60)
    cb = http.client.HTTPConnection("127.0.0.1", pair.b.port, timeout=60)
    pa, pb = pair.a.proc.pid, pair.b.proc.pid
    perfs = []
    if perf_tag and PERF:
        for who, pid in (("a", pa), ("b", pb)):
            perfs.append(subprocess.Popen(
                ["perf", "record", "-g", "-F", "999", "-o",
                 os.path.join(PERF, f"perf-{who}-{perf_tag}.data"), "-p", str(pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1)
    if os.environ.get("STRACE") and perf_tag is not None:
        for who, pid in (("a", pa), ("b", pb)):
            perfs.append(subprocess.Popen(
                ["strace", "-c", "-f", "-o", os.path.join(os.environ["STRACE"],
                                                          f"strace-{who}-{perf_tag}.txt"),
                 "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1)
    c0 = (cpu_s(pa), cpu_s(pb), cpu_s(broker_pid))
    t0 = time.monotonic()
    for body in bodies:
        ca.request("POST", "/api/log", body, {"Content-Type": "application/x-ndjson"})
        r = ca.getresponse()
        r.read()
        assert r.status == 200, r.status
    t_post = time.monotonic()
    end = t0 + 600
    want = pair.stored + n
    while stored(cb) < want:
        if time.monotonic() > end:
            raise RuntimeError(f"{name}: B stored {stored(cb)} of {want}")
        time.sleep(0.01)
    t1 = time.monotonic()
    pair.stored = want
    # the last record is there to a query
    cb.request("GET", "/api/logs?" + urllib.parse.urlencode({"q": last, "limit": 1}))
    r = cb.getresponse()
    found = json.loads(r.read())
    assert r.status == 200 and found and found[0]["msg"] == last, (r.status, found)
    c1 = (cpu_s(pa), cpu_s(pb), cpu_s(broker_pid))
    for p in perfs:
        p.send_signal(2)
        p.wait(60)
    ca.close()
    cb.close()
    return {"seconds": t1 - t0, "post_s": t_post - t0, "rps": n / (t1 - t0),
            "cpu": [b - a for a, b in zip(c0, c1)],
            "rss": [peak_rss_mb(pa), peak_rss_mb(pb), peak_rss_mb(broker_pid)],
            "messages": metric(pair.a.url, "logship_amqp_out_published_messages_total")}


def pika_bodies(n, batch):
    recs = [{"msg": f"pika request {j} served in {j % 997} ms", "topic": TOPICS[j % len(TOPICS)],
             "app": "bench", "host": "edge-1", "fields": {"j": j}} for j in range(n)]
    if batch == 1:
        return [(r["topic"], json.dumps(r).encode(), 1) for r in recs]
    out, by = [], {}
    for r in recs:
        by.setdefault(r["topic"], []).append(r)
        if len(by[r["topic"]]) == batch:
            rs = by.pop(r["topic"])
            out.append((r["topic"], "".join(json.dumps(x) + "\n" for x in rs).encode(), len(rs)))
    for t, rs in by.items():
        out.append((t, "".join(json.dumps(x) + "\n" for x in rs).encode(), len(rs)))
    return out


def run_pika(broker, n, batch):
    """pika publisher (async, INFLIGHT unconfirmed) -> broker -> pika
    consumer (manual acks, one per message)."""
    ex, q = "e2e-pika", "e2e-pika-q"
    broker.declare(ex, q, ["#"])
    bodies = pika_bodies(n, batch)
    ctype = "application/json" if batch == 1 else "application/x-ndjson"
    props = [pika.BasicProperties(delivery_mode=2, content_type=ctype, message_id=f"pika:{i}")
             for i in range(len(bodies))]
    got = {"records": 0, "t1": None}
    ready = threading.Event()

    def consume():
        with broker.connect() as c:
            ch = c.channel()
            ch.basic_qos(prefetch_count=PREFETCH)

            def on_msg(ch, method, p, body):
                got["records"] += body.count(b"\n") if batch > 1 else 1
                ch.basic_ack(method.delivery_tag)
                if got["records"] >= n:
                    got["t1"] = time.monotonic()
                    ch.stop_consuming()

            ch.basic_consume(q, on_msg)
            ready.set()
            ch.start_consuming()

    cons = threading.Thread(target=consume, daemon=True)
    cons.start()
    ready.wait(30)
    st = {"next": 0, "acked": 0, "tags": 0, "ch": None}

    def pump():
        ch = st["ch"]
        while st["next"] < len(bodies) and st["tags"] - st["acked"] < INFLIGHT:
            topic, body, _ = bodies[st["next"]]
            ch.basic_publish(ex, topic, body, props[st["next"]])
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

    def on_channel(ch):
        st["ch"] = ch
        ch.confirm_delivery(on_confirm)
        pump()

    t0 = time.monotonic()
    conn = pika.SelectConnection(broker.params(), on_open_callback=lambda c: c.channel(
        on_open_callback=on_channel))
    conn.ioloop.call_later(600, conn.close)
    conn.add_on_close_callback(lambda c, reason: c.ioloop.stop())
    conn.ioloop.start()
    cons.join(600)
    broker.delete(ex, [q])
    assert got["t1"], "pika's consumer did not get every record"
    return got["t1"] - t0, len(bodies)


def row(label, batch, n, r):
    ca, cb, cr = r["cpu"]
    ra, rb, rr = r["rss"]
    print(f"| {label} | {batch} | {n:,} | {r['messages']:,.0f} | {r['seconds']:.2f} | "
          f"{r['post_s']:.2f} | {r['rps']:,.0f} | {ca:.2f} / {cb:.2f} / {cr:.2f} | "
          f"{ra:.0f} / {rb:.0f} / {rr:.0f} |", flush=True)


def main():
    n1 = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    nb = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    batches = [int(b) for b in sys.argv[3:]] or [1, 1000]
    binaries = [("", LOGSHIPD)]
    if os.environ.get("LOGSHIPD_BEFORE"):
        binaries = [(" (after)", LOGSHIPD), (" (before)", os.environ["LOGSHIPD_BEFORE"])]
    broker = Broker()
    try:
        broker.start()
        bpid = broker.beam_pid()
        print(f"logshipd {', '.join(b for _, b in binaries)}; broker pid {bpid}; "
              f"--amqp-inflight {INFLIGHT}, --amqp-prefetch {PREFETCH}")
        print()
        print("| run | records/message | records | messages | seconds | of which POSTs | "
              "records/s | CPU s A / B / broker | peak RSS MB A / B / broker |")
        print("|---|---:|---:|---:|---:|---:|---:|---|---|")
        k = 0
        for batch in batches:
            n = n1 if batch == 1 else nb
            for label, binary in binaries:
                k += 1
                pair = Pair(binary, broker, batch, f"{os.getpid()}-{k}")
                try:
                    perf_tag = (f"{batch}{label.strip(' ()')}"
                                if PERF or os.environ.get("STRACE") else None)
                    row(f"logshipd{label}, fresh pair", batch, n,
                        run_pair(pair, bpid, f"f{k}", n, perf_tag))
                    row(f"logshipd{label}, warm", batch, n, run_pair(pair, bpid, f"w{k}", n))
                finally:
                    pair.close()
                    broker.delete(pair.exchange, [pair.queue])
            if os.environ.get("PIKA", "1") != "0":
                c0 = cpu_s(bpid)
                dt, msgs = run_pika(broker, n, batch)
                print(f"| pika publisher -> pika consumer | {batch} | {n:,} | {msgs:,} | "
                      f"{dt:.2f} | | {n / dt:,.0f} | broker {cpu_s(bpid) - c0:.2f} | |",
                      flush=True)
    finally:
        broker.close()


if __name__ == "__main__":
    main()
