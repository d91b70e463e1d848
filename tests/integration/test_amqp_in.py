"""The RabbitMQ input (--amqp-in) against a real, private rabbitmq-server
(rabbit.py; one per session), with python3-pika as the publisher: every
message stored and acked, competing consumers, kill -9 of a consumer,
poison bodies, redeliveries, a store that refuses, and the whole path edge
nodes -> broker -> storage nodes queried with `logship query --server A
--server B`."""
import json
import os
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter

import pika
import pytest

from conftest import LOGSHIPD, Server
from httpraw import wait_for

LOGSHIP = os.environ.get("LOGSHIP", os.path.join(os.path.dirname(LOGSHIPD), "logship"))
NODE = "0123456789abcdef0123456789abcdef"


def names():
    tag = uuid.uuid4().hex[:8]
    return f"logship-test-{tag}", f"q-{tag}"


def in_metrics(server):
    return {k[len("logship_amqp_in_"):]: v for k, v in server.metrics().items()
            if k.startswith("logship_amqp_in_")}


def consumer(make_server, broker, exchange, queue, *args, data_dir=None):
    """A logshipd consuming queue (bound to exchange with #), once it is up."""
    s = make_server("--amqp-in", broker.url, "--amqp-queue", queue,
                    "--amqp-bind", f"{exchange}:#", *args, data_dir=data_dir)
    assert wait_for(lambda: in_metrics(s)["up"] == 1, 30), s.log_text()
    return s


def consumers(broker, queue):
    with broker.connect() as c:
        return c.channel().queue_declare(queue, passive=True).method.consumer_count


def publish(broker, exchange, messages, key="app.info"):
    """messages: (body, properties) pairs, published persistent."""
    with broker.connect() as c:
        ch = c.channel()
        for body, props in messages:
            props = props or pika.BasicProperties()
            props.delivery_mode = 2
            ch.basic_publish(exchange, key, body, props)


def json_msg(i, **extra):
    body = json.dumps({"msg": f"m{i}", "n": i, **extra})
    return body, pika.BasicProperties(content_type="application/json", message_id=f"id-{i}")


def wait_stored(server, n, timeout=120):
    ok = wait_for(lambda: in_metrics(server)["stored_records_total"] >= n, timeout, 0.1)
    assert ok, f"{in_metrics(server)} < {n}:\n" + server.log_text()[-3000:]


def wait_drained(broker, queue, servers, timeout=120):
    """The queue is empty and no consumer holds an unacked message."""
    def done():
        return (broker.queue_count(queue) == 0 and
                all(in_metrics(s)["unacked_messages"] == 0 for s in servers))
    assert wait_for(done, timeout, 0.1), [in_metrics(s) for s in servers]


def all_records(server, **q):
    """Every stored record, in seq order (pages of 100,000)."""
    out, after = [], 0
    while True:
        page = server.logs(after=after, limit=100000, **q)
        if not page:
            return out
        out += page
        after = page[-1]["seq"]


def read_data(make_server, data_dir):
    """The records of a data directory a consumer left (it was killed)."""
    s = make_server(data_dir=data_dir)
    try:
        return all_records(s)
    finally:
        assert s.stop() == 0


def test_100k_published_all_stored_queue_empty(make_server, broker):
    """100,000 persistent messages published with pika (JSON, NDJSON and
    text bodies) are all stored once, the queue ends empty with nothing
    unacked, and /metrics counts them."""
    exchange, q = names()
    s = consumer(make_server, broker, exchange, q, "--amqp-prefetch", "500")
    total = 100000
    msgs = []
    for i in range(total):
        if i % 3 == 0:
            msgs.append(json_msg(i, topic="web.api", level="warning"))
        elif i % 3 == 1:
            msgs.append((f"text m{i}".encode(), pika.BasicProperties(content_type="text/plain")))
        else:
            msgs.append((json.dumps({"msg": f"m{i}"}) + "\n",
                         pika.BasicProperties(content_type="application/x-ndjson")))
    publish(broker, exchange, msgs, key="pika.info")
    wait_stored(s, total, timeout=300)
    wait_drained(broker, q, [s])
    got = all_records(s)
    assert len(got) == total
    texts = Counter(r["msg"] for r in got)
    want = Counter([f"m{i}" if i % 3 != 1 else f"text m{i}" for i in range(total)])
    assert texts == want
    web = [r for r in got if r["msg"] == "m0"][0]
    assert web["topic"] == "web.api" and web["level"] == "warning"
    assert web["fields"]["amqp_message_id"] == "id-0" and web["fields"]["n"] == 0
    text = [r for r in got if r["msg"] == "text m1"][0]
    assert text["topic"] == "pika.info"  # the routing key
    m = in_metrics(s)
    assert m["delivered_messages_total"] == total
    assert m["acked_messages_total"] == total
    assert m["duplicate_records_total"] == 0
    assert m["parse_errors_total"] == 0
    assert m["requeued_messages_total"] == 0
    assert m["ack_seconds_count"] >= 1
    broker.delete(exchange, [q])


def test_another_logshipds_records_keep_their_parts(make_server, broker):
    """A record another logshipd published (its /api/logs JSON, app_id
    logshipd, message_id NODE:SEQ) keeps topic, ts, level, host, app and
    fields; its seq and node go into fields.origin_seq and origin_node."""
    exchange, q = names()
    s = consumer(make_server, broker, exchange, q)
    rec = {"seq": 41, "ts": "2026-11-21T10:45:56.123456789Z", "level": "error",
           "topic": "billing.api", "host": "h1", "app": "billing", "pid": "7",
           "msg": "card declined", "fields": {"user": "ann", "n": 3}}
    props = pika.BasicProperties(content_type="application/json", app_id="logshipd",
                                 message_id=f"{NODE}:41", headers={"seq": 41})
    publish(broker, exchange, [(json.dumps(rec), props)], key="billing.api")
    wait_stored(s, 1)
    (got,) = all_records(s)
    for k in ("ts", "level", "topic", "host", "app", "pid", "msg"):
        assert got[k] == rec[k], k
    assert got["seq"] == 1  # its own seq here
    assert got["fields"] == {"origin_node": NODE, "origin_seq": 41, "user": "ann", "n": 3}
    broker.delete(exchange, [q])


def test_poison_body_stored_with_parse_error_and_acked(make_server, broker):
    """A body that cannot be parsed is stored as text with
    fields.parse_error and acked (never requeued); the good messages around
    it are stored too."""
    exchange, q = names()
    s = consumer(make_server, broker, exchange, q)
    msgs = [json_msg(1),
            (b'{"msg": "cut', pika.BasicProperties(content_type="application/json",
                                                   message_id="poison")),
            (b'{"msg":"a"}\n{nope\n{"msg":"b"}\n',
             pika.BasicProperties(content_type="application/x-ndjson")),
            (b"\xff\xfebinary\x00junk", pika.BasicProperties()),
            (b"", pika.BasicProperties(content_type="application/json")),
            json_msg(2)]
    publish(broker, exchange, msgs)
    wait_stored(s, 8)
    wait_drained(broker, q, [s])
    got = all_records(s)
    by_msg = {r["msg"]: r for r in got}
    assert set(by_msg) >= {"m1", "m2", "a", "b", '{"msg": "cut', "{nope"}
    assert "invalid JSON" in by_msg['{"msg": "cut']["fields"]["parse_error"]
    assert by_msg['{"msg": "cut']["fields"]["amqp_message_id"] == "poison"
    assert by_msg["{nope"]["fields"]["parse_error"].startswith("line 2:")
    binary = [r for r in got if "binary" in r["msg"]][0]
    assert "\ufffd" in binary["msg"]  # repaired, kept
    empty = [r for r in got if r["msg"] == ""][0]
    assert "empty" in empty["fields"]["parse_error"]
    m = in_metrics(s)
    assert m["parse_errors_total"] == 3
    assert m["acked_messages_total"] == len(msgs)
    assert m["requeued_messages_total"] == 0
    assert broker.queue_count(q) == 0
    broker.delete(exchange, [q])


def test_redelivery_not_stored_twice(make_server, broker, tmp_path):
    """A message that comes again (the same message_id; another logshipd's
    record again, even packed into another message) is acked and not
    stored twice, also after a restart: the window of keys is rebuilt from
    the store."""
    exchange, q = names()
    data = tmp_path / "data"
    s = consumer(make_server, broker, exchange, q, data_dir=data)

    def origin(seqs):
        body = "".join(json.dumps({"seq": n, "ts": "2026-01-01T00:00:00Z", "level": "info",
                                   "topic": "e.x", "app": "e", "msg": f"o{n}"}) + "\n"
                       for n in seqs)
        mid = f"{NODE}:{seqs[0]}" if len(seqs) == 1 else f"{NODE}:{seqs[0]}-{seqs[-1]}"
        return body, pika.BasicProperties(content_type="application/x-ndjson",
                                          app_id="logshipd", message_id=mid)

    publish(broker, exchange, [json_msg(1), json_msg(1), origin([1, 2, 3]), origin([2, 3, 4])])
    wait_drained(broker, q, [s])
    got = Counter(r["msg"] for r in all_records(s))
    assert got == Counter(["m1", "o1", "o2", "o3", "o4"])
    m = in_metrics(s)
    assert m["duplicate_records_total"] == 3  # one message, two records
    assert m["acked_messages_total"] == 4
    assert s.stop() == 0

    s = consumer(make_server, broker, exchange, q, data_dir=data)
    assert in_metrics(s)["dedup_keys"] == 5
    assert any("5 message key(s) read back" in l for l in s.log_lines), s.log_text()
    publish(broker, exchange, [json_msg(1), origin([4, 5]), json_msg(2)])
    wait_drained(broker, q, [s])
    got = Counter(r["msg"] for r in all_records(s))
    assert got == Counter(["m1", "o1", "o2", "o3", "o4", "o5", "m2"])
    assert in_metrics(s)["duplicate_records_total"] == 2
    broker.delete(exchange, [q])


def test_kill9_and_restart_stores_each_message_once(make_server, broker, tmp_path):
    """kill -9 of the only consumer mid-stream: what it had stored but not
    acked comes again after the restart and is recognised (the window is
    rebuilt from the store), so each message is stored exactly once."""
    exchange, q = names()
    data = tmp_path / "data"
    args = ["--amqp-in", broker.url, "--amqp-queue", q, "--amqp-bind", f"{exchange}:#",
            "--amqp-prefetch", "1000"]
    s = Server(data, args).start()
    total = 30000
    try:
        assert wait_for(lambda: in_metrics(s)["up"] == 1, 30)
        t = threading.Thread(target=publish,
                             args=(broker, exchange, [json_msg(i) for i in range(total)]))
        t.start()
        assert wait_for(lambda: in_metrics(s)["stored_records_total"] >= 3000, 120, 0.01)
    finally:
        s.kill()
    t.join(120)
    s = consumer(make_server, broker, exchange, q, *args[6:], data_dir=data)
    wait_drained(broker, q, [s], timeout=300)
    counts = Counter(r["msg"] for r in all_records(s))
    assert set(counts) == {f"m{i}" for i in range(total)}
    assert all(n == 1 for n in counts.values()), [k for k, n in counts.items() if n > 1][:5]
    m = in_metrics(s)
    print(f"consumer kill -9: {m['redelivered_messages_total']:.0f} message(s) came again, "
          f"{m['duplicate_records_total']:.0f} of them already stored")
    broker.delete(exchange, [q])


def test_two_consumers_share_the_queue(make_server, broker):
    """Two logshipd on one queue are competing consumers: every message is
    stored by exactly one of them, each takes between 35% and 65%."""
    exchange, q = names()
    a = consumer(make_server, broker, exchange, q)
    b = consumer(make_server, broker, exchange, q)
    assert wait_for(lambda: consumers(broker, q) == 2, 30)
    total = 20000
    publish(broker, exchange, [json_msg(i) for i in range(total)])
    wait_drained(broker, q, [a, b], timeout=300)
    ra, rb = all_records(a), all_records(b)
    assert Counter(r["msg"] for r in ra + rb) == Counter(f"m{i}" for i in range(total))
    share = len(ra) / total
    print(f"two consumers: {len(ra)} and {len(rb)} of {total}")
    assert 0.35 <= share <= 0.65, (len(ra), len(rb))
    broker.delete(exchange, [q])


def test_kill9_of_one_consumer_the_other_takes_its_messages(make_server, broker, tmp_path):
    """kill -9 of one of two consumers mid-stream: the messages it held
    unacked go to the other (redelivered), and nothing is lost: every
    message is in one store or the other (one that was stored but not acked
    by the dead one may be in both: at-least-once across nodes). The queue
    has a backlog, so each consumer holds a full prefetch most of the time."""
    exchange, q = names()
    broker.declare(exchange, q, ["#"])
    total = 40000
    publish(broker, exchange, [json_msg(i) for i in range(total)])
    data_a = tmp_path / "a"
    args = ["--amqp-in", broker.url, "--amqp-queue", q, "--amqp-bind", f"{exchange}:#",
            "--amqp-prefetch", "500"]
    a = Server(data_a, args).start()
    try:
        assert wait_for(lambda: in_metrics(a)["stored_records_total"] >= 2000, 120, 0.01)
        b = consumer(make_server, broker, exchange, q, *args[6:])
        assert wait_for(lambda: in_metrics(b)["stored_records_total"] >= 2000, 120, 0.01)
        held = in_metrics(a)["unacked_messages"]
    finally:
        a.kill()
    wait_drained(broker, q, [b], timeout=300)
    rb = all_records(b)
    ra = read_data(make_server, data_a)
    seen = Counter(r["msg"] for r in ra + rb)
    missing = {f"m{i}" for i in range(total)} - set(seen)
    assert not missing, f"{len(missing)} lost, e.g. {sorted(missing)[:5]}"
    dups = sum(n - 1 for n in seen.values())
    m = in_metrics(b)
    print(f"kill -9 of a consumer holding about {held:.0f} unacked: the other got "
          f"{m['redelivered_messages_total']:.0f} again; {dups} stored on both")
    assert m["redelivered_messages_total"] > 0
    assert dups <= m["redelivered_messages_total"]
    broker.delete(exchange, [q])


def test_store_that_refuses_nacks_and_slows_down(make_server, broker, tmp_path, monkeypatch):
    """A full disk (the store's test quota, src/store/io.h): the input
    nacks with requeue, backs off and says so; once space is freed every
    message is stored exactly once and the queue ends empty."""
    quota = tmp_path / "quota"
    quota.write_text(str(1 << 20))
    monkeypatch.setenv("LOGSHIP_TEST_DISK_QUOTA", str(quota))
    exchange, q = names()
    s = consumer(make_server, broker, exchange, q, "--segment-size", "256K")
    if "LOGSHIP_TEST_DISK_QUOTA" not in s.log_text():
        pytest.skip("logshipd is not a test build: it has no disk quota hook")
    total = 8000
    pad = "x" * 300
    publish(broker, exchange, [json_msg(i, pad=pad) for i in range(total)])
    assert wait_for(lambda: in_metrics(s)["requeued_messages_total"] > 0, 60), s.log_text()
    assert "the store refused" in s.log_text()
    refused_at = in_metrics(s)
    time.sleep(1)
    # slowed down: a refusal, then a pause, not a spin through the broker
    assert in_metrics(s)["store_refusals_total"] - refused_at["store_refusals_total"] < 30
    quota.unlink()
    wait_drained(broker, q, [s], timeout=120)
    counts = Counter(r["msg"] for r in all_records(s))
    assert set(counts) == {f"m{i}" for i in range(total)}
    assert all(n == 1 for n in counts.values())
    assert "the store takes records again" in s.log_text()
    broker.delete(exchange, [q])


@pytest.mark.parametrize("args,why", [
    (["--amqp-in", "http://h"], "expected amqp://"),
    (["--amqp-in", "amqp://h", "--amqp-queue", "amq.x"], "--amqp-queue"),
    (["--amqp-in", "amqp://h", "--amqp-bind", "logship"], "--amqp-bind"),
    (["--amqp-in", "amqp://h", "--amqp-bind", "logship:web*"], "--amqp-bind"),
    (["--amqp-in", "amqp://h", "--amqp-prefetch", "70000"], "--amqp-prefetch"),
    (["--amqp-in", "amqp://h", "--amqp-ca", "/etc/hostname"], "amqps://"),
])
def test_bad_options_exit_2(tmp_path, args, why):
    r = subprocess.run([LOGSHIPD, "--data", str(tmp_path / "d"), "--http", "127.0.0.1:0",
                        "--syslog-udp", "off", "--syslog-tcp", "off", "--tcp", "off"] + args,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert why in r.stderr, r.stderr


def test_sigterm_acks_what_was_delivered(make_server, broker):
    """SIGTERM while messages flow: the consumer is cancelled, what was
    delivered is stored and acked before the connection closes, so nothing
    is left unacked to come again."""
    exchange, q = names()
    s = consumer(make_server, broker, exchange, q, "--amqp-prefetch", "2000")
    total = 20000
    t = threading.Thread(target=publish,
                         args=(broker, exchange, [json_msg(i) for i in range(total)]))
    t.start()
    assert wait_for(lambda: in_metrics(s)["stored_records_total"] >= 1000, 60, 0.01)
    assert s.stop() == 0
    t.join(120)
    assert "consumer cancelled" in s.log_text()
    line = [l for l in s.log_lines if "input stopped" in l][-1]
    assert " 0 left to the queue" in line, line
    stored = int(line.split(" record(s) stored")[0].split()[-1])
    assert broker.queue_count(q) == total - stored
    broker.delete(exchange, [q])


def syslog_lines(start, n):
    return "".join(f"<14>Nov 21 10:45:56 edge syslogapp: s{i}\n" for i in range(start, start + n))


def test_end_to_end_edges_broker_storage_query(make_server, broker):
    """2 edge nodes (--amqp-out) -> RabbitMQ -> 2 storage nodes (--amqp-in
    on one queue): 100,000 records sent over HTTP and syslog, then `logship
    query --server A --server B` returns every record exactly once, ordered
    by time."""
    exchange, q = names()
    storage = [consumer(make_server, broker, exchange, q) for _ in range(2)]
    assert wait_for(lambda: consumers(broker, q) == 2, 30)
    edges = [make_server("--amqp-out", broker.url, "--amqp-exchange", exchange)
             for _ in range(2)]
    total, half = 100000, 50000
    base = 1767225600  # 2026-01-01T00:00:00Z: distinct times, spread over both edges
    http_sent = set()
    for chunk in range(0, half, 10000):
        recs = [{"msg": f"h{i}", "ts": (base + i) * 10**9 + 1, "topic": "web.info"}
                for i in range(chunk, chunk + 10000)]
        body = "".join(json.dumps(r) + "\n" for r in recs)
        st, _ = edges[(chunk // 10000) % 2].post("/api/log", body, "application/x-ndjson")
        assert st == 200
        http_sent |= {r["msg"] for r in recs}
    for e, start in ((edges[0], 0), (edges[1], half // 2)):
        with socket.create_connection(("127.0.0.1", e.ports["syslog-tcp"])) as c:
            c.sendall(syslog_lines(start, half // 2).encode())
    def last_seq(e):
        newest = e.logs(limit=1, order="desc")
        return newest[0]["seq"] if newest else 0

    assert wait_for(lambda: sum(last_seq(e) for e in edges) == total, 120, 0.2)
    for e in edges:
        last = last_seq(e)
        assert wait_for(lambda: e.metrics()["logship_amqp_out_confirmed_seq"] >= last, 300, 0.2)
    wait_drained(broker, q, storage, timeout=300)
    assert sum(in_metrics(s)["stored_records_total"] for s in storage) == total
    r = subprocess.run([LOGSHIP, "query", "--server", storage[0].url, "--server",
                        storage[1].url, "-n", "1000000", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = [json.loads(l) for l in r.stdout.splitlines()]
    assert len(got) == total
    ids = Counter((g["fields"]["origin_node"], g["fields"]["origin_seq"]) for g in got)
    assert len(ids) == total and max(ids.values()) == 1
    msgs = Counter(g["msg"] for g in got)
    assert max(msgs.values()) == 1
    assert {m for m in msgs if m.startswith("h")} == http_sent
    assert {m for m in msgs if not m.startswith("h")} == {f"s{i}" for i in range(half)}
    ts = [g["ts"] for g in got]
    assert ts == sorted(ts), "not ordered by time"
    assert len({g["fields"]["origin_node"] for g in got}) == 2
    broker.delete(exchange, [q])


def test_relay_keeps_the_first_origin(make_server, broker, tmp_path):
    """edge -> broker -> relay (--amqp-in and --amqp-out) -> broker ->
    storage: each record arrives once with the edge's node and seq as its
    origin (one pair, first), the relay's seq kept as fields.seq."""
    x1, q1 = names()
    x2, q2 = names()
    storage = consumer(make_server, broker, x2, q2)
    relay = make_server("--amqp-in", broker.url, "--amqp-queue", q1, "--amqp-bind", f"{x1}:#",
                        "--amqp-out", broker.url, "--amqp-exchange", x2)
    assert wait_for(lambda: in_metrics(relay)["up"] == 1, 30)
    edge_data = tmp_path / "edge"
    edge = make_server("--amqp-out", broker.url, "--amqp-exchange", x1, "--amqp-batch", "10",
                       data_dir=edge_data)
    body = "".join(json.dumps({"msg": f"r{i}", "topic": "web.info", "fields": {"i": i}}) + "\n"
                   for i in range(100))
    st, _ = edge.post("/api/log", body, "application/x-ndjson")
    assert st == 200
    wait_stored(storage, 100)
    node = (edge_data / "node-id").read_text().strip()
    got = all_records(storage)
    assert len(got) == 100
    edge_seq = {r["msg"]: r["seq"] for r in edge.logs(limit=100)}
    relay_seq = {r["msg"]: r["seq"] for r in relay.logs(limit=100)}
    for r in got:
        f = r["fields"]
        assert list(f)[:2] == ["origin_node", "origin_seq"]
        assert f["origin_node"] == node and f["origin_seq"] == edge_seq[r["msg"]]
        assert f["seq"] == relay_seq[r["msg"]] and f["i"] == int(r["msg"][1:])
    broker.delete(x1, [q1])
    broker.delete(x2, [q2])


@pytest.mark.parametrize("batch", [1, 10])
def test_relayed_record_keeps_its_origin_as_stored(make_server, broker, tmp_path, batch):
    """A (--amqp-out) -> broker -> B (--amqp-in): every record B stores has
    the ts, level, topic, host, app, msg and fields A stored (records over
    HTTP with and without their own ts, host and app, and over syslog),
    plus A's node and seq as fields.origin_node and origin_seq."""
    exchange, q = names()
    b = consumer(make_server, broker, exchange, q)
    a_data = tmp_path / "a"
    a = make_server("--amqp-out", broker.url, "--amqp-exchange", exchange, "--amqp-batch",
                    str(batch), data_dir=a_data)
    recs = [
        {"msg": "with everything", "ts": "2026-01-02T03:04:05.123456789Z", "level": "error",
         "topic": "billing.api", "host": "h1", "app": "billing",
         "fields": {"user": "ann", "n": 3, "ok": True, "ratio": 0.5, "tags": ["a", "b"],
                    "nested": {"k": "v"}}},
        {"msg": "no ts, host or app", "topic": "web.info"},
        {"msg": "unicode \u00e9\u4e2d and \"quotes\"\n", "topic": "web.error", "level": "warning",
         "host": "h2", "fields": {"empty": "", "zero": 0}},
    ]
    body = "".join(json.dumps(r) + "\n" for r in recs)
    st, _ = a.post("/api/log", body, "application/x-ndjson")
    assert st == 200
    with socket.create_connection(("127.0.0.1", a.ports["syslog-tcp"])) as c:
        c.sendall(b"<11>Nov 21 10:45:56 dbhost postgres[42]: checkpoint slow\n")
    assert wait_for(lambda: len(a.logs(limit=10)) == 4, 30)
    wait_stored(b, 4, 60)
    node = (a_data / "node-id").read_text().strip()
    on_a = {r["seq"]: r for r in a.logs(limit=10)}
    on_b = all_records(b)
    assert len(on_b) == 4
    for r in on_b:
        f = dict(r["fields"])
        assert f.pop("origin_node") == node
        src = on_a[f.pop("origin_seq")]
        for k in ("ts", "level", "topic", "host", "app", "msg"):
            assert r.get(k) == src.get(k), (k, r, src)
        assert f == src.get("fields", {}), (r, src)
    assert {r["msg"] for r in on_b} == {r["msg"] for r in on_a.values()}
    broker.delete(exchange, [q])


class FreezingProxy:
    """A TCP proxy to the broker whose connections can be frozen: their
    sockets stay open and nothing more goes either way, as when a broker
    hangs or a network path dies without a reset. Later connections are
    forwarded again."""

    def __init__(self, port):
        self.target = port
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.conns = []  # [frozen flag list, client, upstream]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target))
            state = [False, c, u]
            self.conns.append(state)
            for src, dst in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(state, src, dst), daemon=True).start()

    def _pump(self, state, src, dst):
        while not self.closed:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            while state[0] and not self.closed:
                time.sleep(0.1)  # frozen: hold it, read no more
            if self.closed:
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    def freeze(self):
        for st in self.conns:
            st[0] = True

    def close(self):
        self.closed = True
        self.lsock.close()
        for _, c, u in self.conns:
            for s in (c, u):
                try:
                    s.close()
                except OSError:
                    pass


def test_idle_connection_kept_dead_one_noticed(make_server, broker):
    """Through a proxy: an idle connection is kept past the liveness limit
    (3 heartbeat intervals, 30 s: the broker's heartbeats count); once the
    proxy freezes it (no reset, nothing passes) the input notices, connects
    again and stores what is published then."""
    exchange, q = names()
    proxy = FreezingProxy(broker.port)
    try:
        url = f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2f"
        s = make_server("--amqp-in", url, "--amqp-queue", q, "--amqp-bind", f"{exchange}:#")
        assert wait_for(lambda: in_metrics(s)["up"] == 1, 30), s.log_text()
        time.sleep(36)
        m = in_metrics(s)
        assert m["connects_total"] == 1 and m["disconnects_total"] == 0, (m, s.log_text())
        publish(broker, exchange, [json_msg(1)])
        wait_stored(s, 1, 30)
        proxy.freeze()
        publish(broker, exchange, [json_msg(2)])  # held by the frozen connection
        assert wait_for(lambda: in_metrics(s)["connects_total"] == 2 and
                        in_metrics(s)["up"] == 1, 90, 0.5), (in_metrics(s), s.log_text())
        m = in_metrics(s)
        assert m["disconnects_total"] == 1
        assert "heartbeat" in s.log_text(), s.log_text()
        # the broker takes m2 back from the dead connection once it misses
        # its heartbeats too; the new connection gets it, and m3
        publish(broker, exchange, [json_msg(3)])
        wait_stored(s, 3, 90)
        assert sorted(r["msg"] for r in all_records(s)) == ["m1", "m2", "m3"]
    finally:
        proxy.close()
    broker.delete(exchange, [q])
