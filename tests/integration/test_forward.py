"""Fluentd's forward protocol (--forward): @fluent-org/logger (npm) in each
of its four modes with acknowledgements, and python3-fluent-logger (Debian)
as real clients; the tag as topic, records mapped as JSON records; bad
entries skipped while the good ones are stored and acked; bytes that are
not MessagePack end the connection after the acks owed; and the store
pushing back (no ack) makes the client send again, losing nothing."""
import gzip
import json
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

msgpack = pytest.importorskip("msgpack")

from test_store import all_records, post_batch, small_disk  # noqa: E402,F401

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_DIR = os.path.join(ROOT, "tests", "integration", "node")
BASE = 1764684000  # 2025-12-02T14:00:00Z


def wait_for(server, n, timeout=20):
    deadline = time.time() + timeout
    got = []
    while time.time() < deadline:
        got = all_records(server)
        if len(got) >= n:
            return got
        time.sleep(0.1)
    return got


@pytest.fixture
def fwd(make_server):
    return make_server("--forward", "127.0.0.1:0")


def node_client(server, count, mode, retry=False):
    args = ["node", os.path.join(NODE_DIR, "fluent_client.js"), str(server.ports["forward"]),
            str(count), mode] + (["retry"] if retry else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["Message", "Forward", "PackedForward",
                                  "CompressedPackedForward"])
def test_node_fluent_logger_acked(fwd, mode):
    out = node_client(fwd, 30, mode)
    assert out == {"acked": 30, "errors": []}  # every emit acked once stored
    got = all_records(fwd)  # acked means stored: no waiting needed
    assert [g["msg"] for g in got] == [f"order {i} placed" for i in range(30)]
    assert [g["level"] for g in got[:4]] == ["info", "warning", "error", "debug"]
    assert all(g["topic"] == "shop.orders" and g["app"] == "shop" for g in got)
    assert got[7]["ts"] == "2025-12-02T14:00:00.007000000Z"
    assert got[7]["fields"] == {"n": 7}


def test_python_fluent_logger(fwd):
    from fluent import sender
    s = sender.FluentSender("py", host="127.0.0.1", port=fwd.ports["forward"],
                            nanosecond_precision=True)
    assert s.emit("web", {"message": "GET /", "status": 200, "host": "web-1"})
    assert s.emit_with_time("web", BASE, {"from": "userA", "to": "userB"})
    s.close()
    s = sender.FluentSender("py2", host="127.0.0.1", port=fwd.ports["forward"])
    assert s.emit("job", {"log": "integer seconds", "level": "error"})
    s.close()
    got = wait_for(fwd, 3)
    assert [g["msg"] for g in got] == ["GET /", "", "integer seconds"]
    a, b, c = got
    assert (a["topic"], a["app"], a["host"], a["fields"]) == ("py.web", "py", "web-1",
                                                              {"status": 200})
    assert b["ts"] == "2025-12-02T14:00:00.000000000Z"
    assert b["fields"] == {"from": "userA", "to": "userB"}
    assert (c["topic"], c["level"]) == ("py2.job", "error")


def read_acks(sock, n, timeout=10):
    sock.settimeout(timeout)
    unp = msgpack.Unpacker()
    acks = []
    while len(acks) < n:
        data = sock.recv(65536)
        if not data:
            break
        unp.feed(data)
        acks.extend(unp)
    return acks


def et(s, ns=0):
    return msgpack.ExtType(0, struct.pack(">II", s, ns))


def test_bad_entries_skipped_good_ones_acked(fwd):
    entries = b"".join(msgpack.packb([et(BASE + i), {"message": f"p{i}"}]) for i in range(3))
    with socket.create_connection(("127.0.0.1", fwd.ports["forward"])) as s:
        s.sendall(msgpack.packb(["mix", [[BASE, {"message": "good 1"}], ["not a time", {"a": 1}],
                                         [BASE, "not a map"], 5, [BASE, {"msg": "good 2"}]],
                                 {"chunk": "c1"}]) +
                  msgpack.packb({"not": "a forward message"}) +
                  msgpack.packb(["gz", gzip.compress(entries), {"compressed": "gzip",
                                                                "chunk": "c2"}]) +
                  msgpack.packb(["gz", b"\x01\x02 not gzip", {"compressed": "gzip",
                                                              "chunk": "c3"}]))
        assert read_acks(s, 3) == [{"ack": "c1"}, {"ack": "c2"}, {"ack": "c3"}]
    got = wait_for(fwd, 5)
    assert [g["msg"] for g in got] == ["good 1", "good 2", "p0", "p1", "p2"]
    # three bad entries, the map that is no message, the gzip that is not
    assert fwd.metrics()['logship_parse_errors_total{input="forward"}'] == 5


def test_not_msgpack_ends_the_stream_after_its_acks(fwd):
    with socket.create_connection(("127.0.0.1", fwd.ports["forward"])) as s:
        s.sendall(msgpack.packb(["t", BASE, {"message": "before"}, {"chunk": "k1"}]) +
                  b"\xc1\xc1\xc1" + msgpack.packb(["t", BASE, {"message": "after"}]))
        assert read_acks(s, 1) == [{"ack": "k1"}]
        s.settimeout(5)
        assert s.recv(100) == b""  # closed by the server
    assert [g["msg"] for g in all_records(fwd)] == ["before"]
    assert "not MessagePack" in fwd.log_text()


def test_message_split_across_reads(fwd):
    big = "x" * 200000
    msg = msgpack.packb(["split", [[BASE, {"message": big}], [BASE, {"message": "small"}]],
                         {"chunk": "big"}])
    with socket.create_connection(("127.0.0.1", fwd.ports["forward"])) as s:
        for i in range(0, len(msg), 1000):
            s.sendall(msg[i:i + 1000])
        assert read_acks(s, 1) == [{"ack": "big"}]
    got = all_records(fwd)
    assert [len(g["msg"]) for g in got] == [65536, 5]  # cut to --max-line, marked
    assert got[0]["truncated"] is True and "truncated" not in got[1]


def test_store_pushing_back_is_resent(make_server, small_disk):  # noqa: F811
    s = make_server("--segment-size", "256K", "--forward", "127.0.0.1:0",
                    data_dir=small_disk.data)
    small_disk.check(s)
    for n in range(400):
        if post_batch(s, [{"msg": f"{n}.{i} {'x' * 200}"} for i in range(50)]).status_code == 503:
            break
    else:
        pytest.fail("the disk never filled")
    before = len(all_records(s))
    out = {}
    t = threading.Thread(target=lambda: out.update(node_client(s, 10, "PackedForward",
                                                               retry=True)))
    t.start()
    time.sleep(1.5)  # the client sends and gets no ack while the store is failing
    assert t.is_alive()
    small_disk.free()
    t.join(60)
    assert out == {"acked": 10, "errors": []}
    got = [g["msg"] for g in all_records(s)][before:]
    assert sorted(set(got)) == sorted(f"order {i} placed" for i in range(10))
    assert len(got) == 10
