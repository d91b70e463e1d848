"""The RabbitMQ output (--amqp-out) against a real, private rabbitmq-server
(rabbit.py; one per session), with python3-pika as the consumer: routing by
topic, message properties, batches, and what happens when the broker or
logshipd is killed -9 or the broker is down at start."""
import json
import socket
import threading
import uuid
from collections import Counter
from functools import lru_cache

import pytest

from conftest import Server
from httpraw import wait_for

NDJSON = "application/x-ndjson"


def amqp_match(pattern, topic):
    """AMQP topic-exchange matching, the plain way: '*' one word, '#' any."""
    p = pattern.split(".")
    t = topic.split(".") if topic else []

    @lru_cache(None)
    def m(i, j):
        if i == len(p):
            return j == len(t)
        if p[i] == "#":
            return m(i + 1, j) or (j < len(t) and m(i, j + 1))
        return j < len(t) and p[i] in ("*", t[j]) and m(i + 1, j + 1)

    return m(0, 0)


def names():
    tag = uuid.uuid4().hex[:8]
    return f"logship-test-{tag}", f"q-{tag}"


def ndjson(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def post(server, records):
    st, body = server.post("/api/log", ndjson(records), NDJSON)
    assert st == 200, body
    return body


def amqp_metrics(server):
    return {k[len("logship_amqp_out_"):]: v for k, v in server.metrics().items()
            if k.startswith("logship_amqp_out_")}


def wait_confirmed(server, seq, timeout=120):
    """Until every record up to seq is confirmed by the broker."""
    ok = wait_for(lambda: amqp_metrics(server)["confirmed_seq"] >= seq, timeout, 0.1)
    assert ok, f"confirmed {amqp_metrics(server)} < {seq}:\n" + server.log_text()[-3000:]


def bodies(msgs):
    """The records of the messages, in the order they came."""
    out = []
    for props, body in msgs:
        if props.content_type == NDJSON:
            out += [json.loads(l) for l in body.decode().splitlines()]
        else:
            out.append(json.loads(body))
    return out


def start(make_server, broker, exchange, *args, data_dir=None):
    return make_server("--amqp-out", broker.url, "--amqp-exchange", exchange, *args,
                       data_dir=data_dir)


def test_routing_by_topic_to_bound_queues(make_server, broker):
    """Queues bound with kern.*, *.crit, web.# and # each get exactly the
    records whose topic matches, whether they came over HTTP or syslog."""
    exchange, base = names()
    patterns = ["kern.*", "*.crit", "web.#", "#"]
    queues = {p: f"{base}-{i}" for i, p in enumerate(patterns)}
    for p, q in queues.items():
        broker.declare(exchange, q, [p])
    s = start(make_server, broker, exchange)
    topics = ["kern.crit", "kern.info", "kern", "kern.a.b", "web", "web.info",
              "web.api.error", "auth.crit", "crit", "a.b.crit", "x.y", "webx.info"]
    post(s, [{"msg": f"m{i}", "topic": t} for i, t in enumerate(topics)])
    # syslog: <2> is kern.crit, <36> auth.warning
    with socket.create_connection(("127.0.0.1", s.ports["syslog-tcp"])) as c:
        c.sendall(b"<2>Nov 21 10:45:56 h1 kernel: disk on fire\n"
                  b"<36>Nov 21 10:45:57 h1 sshd[7]: bad password\n")
    assert wait_for(lambda: len(s.logs(limit=100)) == len(topics) + 2)
    stored = s.logs(limit=100)
    last = max(r["seq"] for r in stored)
    wait_confirmed(s, last)
    for p, q in queues.items():
        want = sorted((r["seq"], r["topic"]) for r in stored if amqp_match(p, r["topic"]))
        got = broker.drain(q, want=len(want), timeout=30)
        recs = bodies(got)
        assert sorted((r["seq"], r["topic"]) for r in recs) == want, p
        for props, body in got:
            assert json.loads(body)["topic"] in [t for _, t in want]
    # the syslog records are routed by their facility.severity topic
    assert any(r["topic"] == "kern.crit" and "fire" in r["msg"] for r in stored)
    assert any(r["topic"] == "auth.warning" for r in stored)
    m = amqp_metrics(s)
    assert m["returned_messages_total"] == 0  # '#' takes everything
    assert m["lag_records"] == 0
    broker.delete(exchange, queues.values())


def test_message_properties(make_server, broker, tmp_path):
    """Persistent, application/json, message_id NODE:SEQ, a seq header, and
    the body the record's JSON as /api/logs returns it; the node id is the
    data directory's and stays across restarts."""
    exchange, q = names()
    broker.declare(exchange, q, ["#"])
    data = tmp_path / "data"
    s = start(make_server, broker, exchange, data_dir=data)
    post(s, [{"msg": "hello", "topic": "app.info", "host": "h1", "app": "billing",
              "fields": {"user": "ann", "n": 3}},
             {"msg": "second \u00e9", "level": "error"}])
    wait_confirmed(s, 2)
    node = (data / "node-id").read_text().strip()
    assert len(node) == 32 and all(c in "0123456789abcdef" for c in node)
    api = {r["seq"]: r for r in s.logs(after=0)}
    got = broker.drain(q, want=2, timeout=30)
    assert len(got) == 2
    for props, body in got:
        rec = json.loads(body)
        assert rec == api[rec["seq"]]
        assert props.delivery_mode == 2
        assert props.content_type == "application/json"
        assert props.message_id == f"{node}:{rec['seq']}"
        assert props.headers["seq"] == rec["seq"]
        assert props.app_id == "logshipd"
        assert props.timestamp > 0
    assert s.stop() == 0
    assert (data / "amqp-out.confirmed").read_text() == "confirmed 2\n"
    s = start(make_server, broker, exchange, data_dir=data)
    post(s, [{"msg": "after restart"}])
    wait_confirmed(s, 3)
    (props, body), = broker.drain(q, want=1, timeout=30)
    assert props.message_id == f"{node}:3"  # same node, nothing sent twice
    assert json.loads(body)["msg"] == "after restart"
    broker.delete(exchange, [q])


def test_out_topic_patterns_and_returned(make_server, broker):
    """--amqp-out-topic publishes only the matching records (the rest are
    counted as skipped); a published record no queue is bound for comes back
    (basic.return) and is counted as returned."""
    exchange, q = names()
    broker.declare(exchange, q, ["kern.*"])
    s = start(make_server, broker, exchange, "--amqp-out-topic", "kern.*",
              "--amqp-out-topic", "web.#")
    recs = [{"msg": f"k{i}", "topic": "kern.warning"} for i in range(5)]
    recs += [{"msg": f"w{i}", "topic": "web.api"} for i in range(3)]
    recs += [{"msg": f"o{i}", "topic": "other.info"} for i in range(4)]
    post(s, recs)
    wait_confirmed(s, 12)
    got = bodies(broker.drain(q, want=5, timeout=30))
    assert sorted(r["msg"] for r in got) == [f"k{i}" for i in range(5)]
    m = amqp_metrics(s)
    assert m["skipped_records_total"] == 4
    assert m["published_records_total"] == 8
    assert wait_for(lambda: amqp_metrics(s)["returned_messages_total"] == 3)
    assert m["nacked_messages_total"] == 0
    broker.delete(exchange, [q])


def test_batches_are_ndjson_of_one_topic(make_server, broker):
    """--amqp-batch 10: messages of up to 10 records of one topic (the
    routing key), NDJSON, with seq, last_seq and records headers; every
    record once, each message's records in seq order."""
    exchange, q = names()
    broker.declare(exchange, q, ["#"])
    s = start(make_server, broker, exchange, "--amqp-batch", "10")
    node = None
    recs = [{"msg": f"m{i}", "topic": "a.x" if i % 3 else "b.y"} for i in range(95)]
    post(s, recs[:50])
    post(s, recs[50:])
    wait_confirmed(s, 95)
    got = broker.drain(q, want=1, timeout=30)
    seen = []
    for props, body in got:
        assert props.content_type == NDJSON
        assert props.delivery_mode == 2
        lines = [json.loads(l) for l in body.decode().splitlines()]
        assert body.endswith(b"\n")
        assert 1 <= len(lines) <= 10
        assert len({r["topic"] for r in lines}) == 1
        seqs = [r["seq"] for r in lines]
        assert seqs == sorted(seqs)
        assert props.headers["seq"] == seqs[0]
        assert props.headers["last_seq"] == seqs[-1]
        assert props.headers["records"] == len(seqs)
        node = node or props.message_id.split(":")[0]
        want_id = f"{node}:{seqs[0]}" if len(seqs) == 1 else f"{node}:{seqs[0]}-{seqs[-1]}"
        assert props.message_id == want_id
        seen += seqs
    assert sorted(seen) == list(range(1, 96))
    assert len(got) < 95 // 5  # packed, not one per record
    m = amqp_metrics(s)
    assert m["published_messages_total"] == len(got)
    assert m["published_records_total"] == 95
    broker.delete(exchange, [q])


def test_broker_kill9_mid_stream(make_server, broker):
    """kill -9 of the broker while 100,000 records are being published, and
    a restart: ingest goes on meanwhile, and afterwards every record is in
    the queue at least once; the duplicates (counted) are at most the
    in-flight window."""
    exchange, q = names()
    broker.declare(exchange, q, ["#"])
    inflight = 500
    s = start(make_server, broker, exchange, "--amqp-inflight", str(inflight))
    total, before = 100000, 90000
    errors = []

    def ingest():
        try:
            for i in range(0, before, 5000):
                post(s, [{"msg": f"r{j}", "topic": f"t{j % 7}.info"}
                         for j in range(i, i + 5000)])
        except Exception as e:  # reported below, in the test's thread
            errors.append(e)

    # the kill lands while records are still coming in and going out
    t = threading.Thread(target=ingest)
    t.start()
    try:
        assert wait_for(lambda: amqp_metrics(s)["confirmed_seq"] >= 20000, 120, 0.02)
        broker.kill9()
    finally:
        t.join(120)
    assert not errors, errors
    at_kill = amqp_metrics(s)
    assert at_kill["confirmed_seq"] < before, "the kill came after the stream ended"
    assert wait_for(lambda: amqp_metrics(s)["up"] == 0, 30)
    # the broker is gone: ingest and queries go on
    for i in range(before, total, 5000):
        post(s, [{"msg": f"r{j}", "topic": f"t{j % 7}.info"} for j in range(i, i + 5000)])
    assert s.logs(after=total - 1)[0]["msg"] == f"r{total - 1}"
    assert amqp_metrics(s)["lag_records"] > 0
    broker.start()
    wait_confirmed(s, total, timeout=300)
    got = bodies(broker.drain(q, want=total, timeout=300))
    counts = Counter(r["seq"] for r in got)
    missing = set(range(1, total + 1)) - set(counts)
    assert not missing, f"{len(missing)} records lost, e.g. {sorted(missing)[:5]}"
    dups = len(got) - total
    print(f"broker kill -9 at confirmed seq {at_kill['confirmed_seq']:.0f}: "
          f"{dups} duplicate(s) of {total}")
    assert dups <= inflight
    # duplicates can only be records that were in flight at the kill
    assert all(n == 1 for seq, n in counts.items() if seq <= at_kill["confirmed_seq"])
    m = amqp_metrics(s)
    assert m["connects_total"] >= 2 and m["disconnects_total"] >= 1
    broker.delete(exchange, [q])


def saved_seq(data):
    try:
        return int((data / "amqp-out.confirmed").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def test_logshipd_kill9_resumes_from_confirmed(make_server, broker, tmp_path):
    """kill -9 of logshipd mid-stream: after a restart it resumes after the
    confirmed seq it had saved (nothing at or below it is sent again) and
    nothing is lost. The first run publishes one message at a time
    (--amqp-inflight 1) so the kill surely lands mid-stream."""
    exchange, q = names()
    broker.declare(exchange, q, ["#"])
    data = tmp_path / "data"
    args = ["--amqp-out", broker.url, "--amqp-exchange", exchange]
    s = Server(data, args + ["--amqp-inflight", "1"]).start()
    total = 20000
    try:
        for i in range(0, total, 5000):
            post(s, [{"msg": f"r{j}"} for j in range(i, i + 5000)])
        assert wait_for(lambda: saved_seq(data) >= 500, 120, 0.02)
    finally:
        s.kill()
    saved = saved_seq(data)
    assert 0 < saved < total, saved
    s = make_server(*args, data_dir=data)
    assert any(f"confirmed up to seq {saved}" in l for l in s.log_lines), s.log_text()
    wait_confirmed(s, total)
    got = bodies(broker.drain(q, want=total, timeout=300))
    counts = Counter(r["seq"] for r in got)
    assert set(counts) == set(range(1, total + 1))
    assert all(counts[seq] == 1 for seq in range(1, saved + 1))
    print(f"logshipd kill -9: resumed after seq {saved}; "
          f"{len(got) - total} record(s) published twice")
    broker.delete(exchange, [q])


def test_broker_down_at_start(make_server, broker):
    """logshipd starts while the broker is down: ingest, queries and
    /healthz work, /metrics shows it down with the lag growing, and once the
    broker is up every record is published."""
    exchange, q = names()
    broker.declare(exchange, q, ["#"])
    broker.stop()
    try:
        s = start(make_server, broker, exchange)
        post(s, [{"msg": f"r{i}", "topic": "edge.info"} for i in range(500)])
        assert len(s.logs(limit=1000)) == 500
        st, body = s.request("GET", "/healthz")
        assert st == 200, body
        assert wait_for(lambda: amqp_metrics(s)["connect_failures_total"] >= 1, 30)
        m = amqp_metrics(s)
        assert m["up"] == 0 and m["state{state=\"up\"}"] == 0
        assert m["lag_records"] == 500
        assert m["published_messages_total"] == 0
        assert "cannot connect" in s.log_text()
    finally:
        broker.start()
    wait_confirmed(s, 500, timeout=120)
    got = bodies(broker.drain(q, want=500, timeout=60))
    assert sorted(r["seq"] for r in got) == list(range(1, 501))
    assert amqp_metrics(s)["up"] == 1
    broker.delete(exchange, [q])


@pytest.mark.parametrize("args,why", [
    (["--amqp-out", "http://h"], "expected amqp://"),
    (["--amqp-out", "amqp://h:99999"], "port"),
    (["--amqp-out", "amqp://h", "--amqp-exchange", "amq.topic"], "--amqp-exchange"),
    (["--amqp-out", "amqp://h", "--amqp-out-topic", "web*"], "--amqp-out-topic"),
    (["--amqp-out", "amqp://h", "--amqp-ca", "/etc/hostname"], "amqps://"),
    (["--amqp-out", "amqp://h", "--amqp-batch", "0"], "--amqp-batch"),
])
def test_bad_options_exit_2(tmp_path, args, why):
    import subprocess
    from conftest import LOGSHIPD
    r = subprocess.run([LOGSHIPD, "--data", str(tmp_path / "d"), "--http", "127.0.0.1:0",
                        "--syslog-udp", "off", "--syslog-tcp", "off", "--tcp", "off"] + args,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert why in r.stderr, r.stderr


def test_amqps_verifies_the_broker(make_server, broker, tmp_path):
    """amqps:// with --amqp-ca: published over TLS when the broker's
    certificate chains to the CA; with another CA nothing is published and
    the failure is logged and counted."""
    import rabbit
    if not broker.tls_port:
        pytest.skip("no openssl tool to make certificates")
    exchange, q = names()
    broker.declare(exchange, q, ["#"])
    s = make_server("--amqp-out", broker.tls_url, "--amqp-ca", broker.tls_ca,
                    "--amqp-exchange", exchange)
    post(s, [{"msg": f"tls{i}"} for i in range(10)])
    wait_confirmed(s, 10)
    got = bodies(broker.drain(q, want=10, timeout=30))
    assert sorted(r["msg"] for r in got) == sorted(f"tls{i}" for i in range(10))
    assert s.stop() == 0

    assert rabbit.make_ca(str(tmp_path), "other")
    s = make_server("--amqp-out", broker.tls_url, "--amqp-ca", str(tmp_path / "other.pem"),
                    "--amqp-exchange", exchange)
    post(s, [{"msg": "not over an unverified connection"}])
    assert wait_for(lambda: amqp_metrics(s)["connect_failures_total"] >= 1, 30)
    m = amqp_metrics(s)
    assert m["up"] == 0 and m["published_messages_total"] == 0
    assert "cannot connect" in s.log_text()
    assert broker.queue_count(q) == 0
    broker.delete(exchange, [q])


def test_stop_while_the_broker_hangs(make_server):
    """A broker that takes the TCP connection and never answers: logshipd
    is stuck in the AMQP handshake, and SIGTERM still stops it cleanly."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    accepted = []
    done = threading.Event()

    def accept():
        lsock.settimeout(0.2)
        while not done.is_set():
            try:
                accepted.append(lsock.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        port = lsock.getsockname()[1]
        s = make_server("--amqp-out", f"amqp://127.0.0.1:{port}")
        post(s, [{"msg": "waits in the store"}])
        assert wait_for(lambda: accepted, 10)
        assert amqp_metrics(s)["state{state=\"connecting\"}"] == 1
        assert s.stop() == 0, s.log_text()
        assert "the broker does not answer" in s.log_text()
    finally:
        done.set()
        t.join(5)
        for c in accepted:
            c.close()
        lsock.close()


def test_stop_while_the_broker_is_unreachable(make_server):
    """Nobody listens on the port: logshipd retries with backoff, and stops
    at once on SIGTERM."""
    with socket.socket() as tmp:
        tmp.bind(("127.0.0.1", 0))
        port = tmp.getsockname()[1]
    s = make_server("--amqp-out", f"amqp://127.0.0.1:{port}")
    assert wait_for(lambda: amqp_metrics(s)["connect_failures_total"] >= 2, 30)
    assert s.stop() == 0, s.log_text()
    assert "cannot connect" in s.log_text()
