"""Live tail over WebSocket (python3-websockets and node's ws) and SSE:
backlog then follow, filters, resume without gap or duplicate, slow readers
falling back to disk, heartbeats, and many subscribers."""
import asyncio
import base64
import json
import os
import socket
import subprocess
import threading
import time

import pytest
import requests
import websockets

from conftest import ROOT, Server

NODE_DIR = os.path.join(ROOT, "tests", "integration", "node")


def ndjson(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def post(server, records):
    r = requests.post(server.url + "/api/log", data=ndjson(records),
                      headers={"Content-Type": "application/x-ndjson"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def ws_url(server, query=""):
    return f"ws://127.0.0.1:{server.port}/api/tail{query}"


async def collect(ws, n, timeout=30):
    """Records from ws until n arrived; control messages go to .control."""
    got, control = [], []
    deadline = time.time() + timeout
    while len(got) < n:
        msg = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time()))
        data = json.loads(msg)
        if isinstance(data, list):
            got.extend(data)
        else:
            control.append(data)
    return got, control


def test_backlog_then_follow_with_filters(server):
    post(server, [{"msg": f"old {i}", "topic": ["web.api", "db.slow"][i % 2],
                   "level": ["info", "error"][i % 3 == 0]} for i in range(20)])

    async def run():
        async with websockets.connect(ws_url(server, "?n=3&topic=web.%23")) as ws:
            backlog, _ = await collect(ws, 3)
            assert [r["msg"] for r in backlog] == ["old 14", "old 16", "old 18"]
            post(server, [{"msg": "new web", "topic": "web.x"}, {"msg": "new db", "topic": "db"},
                          {"msg": "new web 2", "topic": "web.y.z"}])
            live, _ = await collect(ws, 2)
            assert [r["msg"] for r in live] == ["new web", "new web 2"]
        async with websockets.connect(ws_url(server, "?n=100&level=error&q=old")) as ws:
            got, _ = await collect(ws, 7)
            assert [r["msg"] for r in got] == [f"old {i}" for i in range(0, 20, 3)]
        async with websockets.connect(ws_url(server, "?n=0&topic=db.%23&topic=web.y.*")) as ws:
            post(server, [{"msg": "a", "topic": "db.q"}, {"msg": "b", "topic": "web.y"},
                          {"msg": "c", "topic": "web.y.q"}])
            got, _ = await collect(ws, 2)
            assert [r["msg"] for r in got] == ["a", "c"]
        async with websockets.connect(ws_url(server, "?topic=a..b")) as ws:
            err = json.loads(await ws.recv())
            assert err["type"] == "error" and "empty word" in err["error"]
    asyncio.run(run())


def raw_ws(port, path):
    """A WebSocket handshake on a plain socket; returns the socket with the
    101 read."""
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    c.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = c.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return c


def read_frame(c):
    """One unmasked server frame: (opcode, payload), or None at the end."""
    def exactly(n):
        b = b""
        while len(b) < n:
            chunk = c.recv(n - len(b))
            if not chunk:
                return None
            b += chunk
        return b
    h = exactly(2)
    if h is None:
        return None
    n = h[1] & 0x7f
    if n == 126:
        n = int.from_bytes(exactly(2), "big")
    elif n == 127:
        n = int.from_bytes(exactly(8), "big")
    return h[0] & 0x0f, exactly(n)


@pytest.mark.parametrize("qs", ["?topic=a..b", "?n=x", "?bogus=1"])
def test_websocket_refusal_ends_with_a_close_frame(server, qs):
    """A refused subscription gets its error message, then a close frame
    with 1008 (policy violation), not a dropped connection (1006)."""
    async def run():
        async with websockets.connect(ws_url(server, qs)) as ws:
            err = json.loads(await asyncio.wait_for(ws.recv(), 10))
            with pytest.raises(websockets.ConnectionClosed) as e:
                await asyncio.wait_for(ws.recv(), 10)
            return err, e.value.rcvd, ws.close_code
    err, rcvd, code = asyncio.run(run())
    assert err["type"] == "error" and err["status"] == 400
    assert rcvd is not None and rcvd.code == 1008, rcvd
    assert code == 1008

    # the same on the wire: a text frame, a close frame with 1008, and once
    # the client answers with its close, the end of the connection. The
    # client pings first: lws keeps a ping's payload where it also kept a
    # close status (the close frame once carried "pi" as its code)
    def masked(op, body):
        mask = os.urandom(4)
        return bytes([0x80 | op, 0x80 | len(body)]) + mask + \
            bytes(b ^ mask[i % 4] for i, b in enumerate(body))
    with raw_ws(server.port, "/api/tail" + qs) as c:
        c.sendall(masked(9, b"ping"))
        frames = []
        while not frames or frames[-1][0] != 8:
            frames.append(read_frame(c))
        data = [f for f in frames if f[0] != 10]  # a pong may come first
        assert [op for op, _ in data] == [1, 8], frames
        assert json.loads(data[0][1])["type"] == "error"
        assert int.from_bytes(data[1][1][:2], "big") == 1008, frames
        c.sendall(masked(8, (1008).to_bytes(2, "big")))
        t0 = time.monotonic()
        assert read_frame(c) is None  # nothing after the close frame
        assert time.monotonic() - t0 < 3  # closed on the answer, not at a timeout


def test_nothing_follows_a_close_frame_of_lws(server):
    """A subscriber whose client breaks the protocol (a frame with RSV bits)
    gets lws's close frame (1002); records stored while lws waits for the
    client's close are not sent after it."""
    with raw_ws(server.port, "/api/tail?n=0") as c:
        mask = b"\x01\x02\x03\x04"
        c.sendall(bytes([0xc1, 0x82]) + mask + bytes(b ^ mask[i] for i, b in enumerate(b"hi")))
        op, payload = read_frame(c)
        assert op == 8 and int.from_bytes(payload[:2], "big") == 1002, payload
        post(server, [{"msg": f"after close {i}"} for i in range(20)])
        c.settimeout(1.5)
        frames = []
        try:
            while (f := read_frame(c)) is not None:
                frames.append(f)
        except socket.timeout:
            pass
        assert frames == [], frames


def test_records_are_batched_into_messages(server):
    async def run():
        async with websockets.connect(ws_url(server, "?n=0")) as ws:
            post(server, [{"msg": f"b{i}"} for i in range(500)])
            msgs = 0
            got = []
            while len(got) < 500:
                got.extend(json.loads(await ws.recv()))
                msgs += 1
            assert [r["msg"] for r in got] == [f"b{i}" for i in range(500)]
            assert msgs < 10  # one batch in, a handful of messages out
    asyncio.run(run())


def test_resume_after_disconnect_and_restart_no_gap_no_duplicate(make_server, tmp_path):
    """100,000 records arrive while the subscriber disconnects, reconnects
    with after=, and the server restarts in between."""
    data = tmp_path / "data"
    server = make_server("--memory-records", "20000", data_dir=data)
    total = 100000
    seen = []

    async def read_some(srv, after, until):
        q = f"?after={after}" if after is not None else "?n=0"
        async with websockets.connect(ws_url(srv, q), max_size=None) as ws:
            while True:
                got, _ = await collect(ws, 1)
                seen.extend(r["seq"] for r in got)
                if seen[-1] >= until:
                    return

    def send(srv, start, count):
        for i in range(start, start + count, 10000):
            post(srv, [{"msg": f"r{j}"} for j in range(i, min(i + 10000, start + count))])

    # first third arrives while connected
    t = threading.Thread(target=send, args=(server, 0, 30000))
    async def first():
        async with websockets.connect(ws_url(server, "?n=0"), max_size=None) as ws:
            t.start()
            while len(seen) < 10000:
                got, _ = await collect(ws, 1)
                seen.extend(r["seq"] for r in got)
    asyncio.run(first())  # disconnects in the middle of the stream
    t.join()
    send(server, 30000, 20000)  # more arrives while away (beyond the window)
    asyncio.run(read_some(server, seen[-1], 50000))
    assert server.stop() == 0
    server = make_server("--memory-records", "20000", data_dir=data)
    send(server, 50000, 50000)
    asyncio.run(read_some(server, seen[-1], total))
    assert seen == list(range(1, total + 1))


def test_sse_stream_and_last_event_id(server):
    post(server, [{"msg": f"s{i}"} for i in range(5)])
    r = requests.get(server.url + "/api/tail?n=2", headers={"Accept": "text/event-stream"},
                     stream=True, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
    lines = r.iter_lines(chunk_size=1, decode_unicode=True)
    event = {}
    for line in lines:
        if not line:
            break
        k, _, v = line.partition(": ")
        event[k] = v
    assert event["event"] == "records"
    assert [x["msg"] for x in json.loads(event["data"])] == ["s3", "s4"]
    assert event["id"] == "5"
    r.close()
    # an EventSource reconnecting sends Last-Event-ID and gets what came after
    post(server, [{"msg": "after reconnect"}])
    r = requests.get(server.url + "/api/tail", headers={"Accept": "text/event-stream",
                                                        "Last-Event-ID": "5"},
                     stream=True, timeout=10)
    for line in r.iter_lines(chunk_size=1, decode_unicode=True):
        if line.startswith("data: "):
            assert [x["msg"] for x in json.loads(line[6:])] == ["after reconnect"]
            break
    r.close()
    st, data = server.request("GET", "/api/tail")
    assert st == 400 and "event-stream" in json.loads(data)["error"]


def test_slow_reader_falls_back_to_disk_and_gets_everything(make_server):
    """A reader that stops for 10 s while 500,000 records arrive receives
    every one in order afterwards and holds no queue of its own meanwhile
    (ingest's pace beside a stalled subscriber is a benchmark's question,
    not a test's: timings on a shared machine are noise)."""
    server = make_server("--memory-records", "50000")
    body = ndjson({"msg": f"payload {i:07d}", "app": "slow"} for i in range(50000)).encode()

    def ingest(rounds):
        for _ in range(rounds):
            r = requests.post(server.url + "/api/log", data=body,
                              headers={"Content-Type": "application/x-ndjson"}, timeout=60)
            assert r.status_code == 200

    ingest(4)
    after = int(requests.get(server.url + "/healthz").json()["last_seq"])

    sock = socket.create_connection(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /api/tail?after={after} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    hs = b""
    while b"\r\n\r\n" not in hs:
        hs += sock.recv(4096)
    assert b" 101 " in hs.split(b"\r\n")[0]
    rest = hs.split(b"\r\n\r\n", 1)[1]
    # stalled: read nothing while 500,000 records arrive
    t0 = time.monotonic()
    ingest(10)
    time.sleep(max(0, 10 - (time.monotonic() - t0)))
    rss = int(open(f"/proc/{server.proc.pid}/status").read().split("VmRSS:")[1].split()[0])
    assert rss < 600 * 1024  # the stalled subscriber holds no queue of its own

    # now read everything: a raw WebSocket frame reader
    buf = bytearray(rest)
    seqs, control = [], []
    sock.settimeout(30)

    def frames():
        while True:
            while len(buf) < 2:
                buf.extend(sock.recv(1 << 20))
            n = buf[1] & 0x7F
            hl = 2
            if n == 126:
                while len(buf) < 4:
                    buf.extend(sock.recv(1 << 20))
                n, hl = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                while len(buf) < 10:
                    buf.extend(sock.recv(1 << 20))
                n, hl = int.from_bytes(buf[2:10], "big"), 10
            while len(buf) < hl + n:
                buf.extend(sock.recv(1 << 20))
            op, payload = buf[0] & 0x0F, bytes(buf[hl:hl + n])
            del buf[:hl + n]
            yield op, payload

    for op, payload in frames():
        if op != 1:
            continue
        data = json.loads(payload)
        if isinstance(data, list):
            seqs.extend(r["seq"] for r in data)
        else:
            control.append(data)
        if len(seqs) >= 500000:
            break
    sock.close()
    assert seqs == list(range(after + 1, after + 500001))
    assert any(c.get("source") == "disk" for c in control)
    assert any(c.get("source") == "live" for c in control)


def test_peer_that_never_answers_pings_is_closed(make_server):
    server = make_server("--ws-ping", "1s", "--ws-timeout", "1s")
    sock = socket.create_connection(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /api/tail?n=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    sock.settimeout(15)
    t0 = time.monotonic()
    pings = 0
    data = b""
    while True:  # read (pings included) but never answer
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        pings += chunk.count(b"\x89\x00")
    elapsed = time.monotonic() - t0
    sock.close()
    assert b" 101 " in data.split(b"\r\n")[0]
    assert pings >= 1
    assert 1.5 < elapsed < 10


def test_answering_peer_stays_connected(make_server):
    server = make_server("--ws-ping", "1s", "--ws-timeout", "1s")

    async def run():
        async with websockets.connect(ws_url(server, "?n=0")) as ws:  # answers pings
            await asyncio.sleep(4)
            post(server, [{"msg": "still here"}])
            got, _ = await collect(ws, 1)
            assert got[0]["msg"] == "still here"
    asyncio.run(run())


def raise_fd_limit():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def node_client(server, conns, expect, query="?n=0", timeout_ms=120000):
    return subprocess.Popen(["node", os.path.join(NODE_DIR, "tail_client.js"),
                             ws_url(server, query), str(conns), str(expect), str(timeout_ms)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=raise_fd_limit)


def wait_ready(proc, timeout=60):
    line = proc.stdout.readline()
    assert line.strip() == "ready", line + proc.stderr.read()


def test_node_ws_client(server):
    post(server, [{"msg": f"n{i}"} for i in range(10)])
    p = node_client(server, 1, 15, query="?n=5")
    wait_ready(p)
    post(server, [{"msg": f"m{i}"} for i in range(10)])
    out, err = p.communicate(timeout=60)
    res = json.loads(out.strip().splitlines()[-1])
    assert res["ok"], res
    assert res["first"] == 6 and res["last"] == 20


def test_1000_subscribers_get_every_record_of_a_burst(make_server):
    server = make_server("--max-connections", "5000")
    p = node_client(server, 1000, 10000)
    wait_ready(p, timeout=120)
    for i in range(0, 10000, 2000):
        post(server, [{"msg": f"burst {j}"} for j in range(i, i + 2000)])
    out, err = p.communicate(timeout=300)
    res = json.loads(out.strip().splitlines()[-1])
    assert res["ok"], res
    assert res["counts"] == [10000] * 1000
    m = server.metrics()
    assert m["logship_tail_subscribers"] == 0 or m["logship_tail_subscribers"] <= 1000


def test_subscribers_behind_share_their_disk_reads(make_server):
    """Twenty subscribers resuming from the same old seq catch up from disk
    together: one segment scan serves all of them at each step."""
    server = make_server("--memory-records", "1000")
    for i in range(0, 50000, 10000):
        post(server, [{"msg": f"old record {j} " + "p" * 100} for j in range(i, i + 10000)])

    async def reader():
        got = 0
        last = 0
        async with websockets.connect(ws_url(server, "?after=0"), max_size=None) as ws:
            while got < 50000:
                data = json.loads(await ws.recv())
                if isinstance(data, list):
                    assert data[0]["seq"] == last + 1
                    last = data[-1]["seq"]
                    got += len(data)
        return got

    async def run():
        return await asyncio.gather(*(reader() for _ in range(20)))

    assert asyncio.run(run()) == [50000] * 20
    m = server.metrics()
    # ~50,000 records of ~230 bytes in 256 KiB messages: ~45 scans each if
    # every subscriber read on its own, 900 in all
    assert m["logship_tail_disk_scans_total"] < 450, m["logship_tail_disk_scans_total"]
