"""The HTTP connection path against hostile and unlucky clients: pipelining,
bodies that trickle or never end, stray bytes, idle connections, chunked
bodies, cross-site requests, and the shutdown that must not wait on them."""
import itertools
import json
import os
import resource
import signal
import socket
import threading
import time

import pytest

from httpraw import Conn, chunked, request, wait_for

FORM = "application/x-www-form-urlencoded"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


# ---- pipelining -------------------------------------------------------------

# (name, bytes of the request with {m} for a unique marker, expected status,
#  whether it stores the marker). "late" shapes send their body in a second
# write, after the rest has been sent.
SHAPES = [
    ("health", lambda m: request("GET", "/healthz"), 200, False),
    ("form", lambda m: request("POST", "/api/log", f"log={m}".encode(), {"Content-Type": FORM}),
     200, True),
    ("json", lambda m: request("POST", "/api/log", json.dumps({"msg": m}).encode(),
                               {"Content-Type": "application/json"}), 200, True),
    ("ndjson", lambda m: request("POST", "/api/log",
                                 (json.dumps({"msg": m}) + "\n").encode(),
                                 {"Content-Type": "application/x-ndjson"}), 200, True),
    ("chunked", lambda m: request("POST", "/api/log", chunked(f"{m}\n".encode(), 3),
                                  {"Content-Type": "text/plain",
                                   "Transfer-Encoding": "chunked"}), 200, True),
    ("get-ingest", lambda m: request("GET", f"/api/log?log={m}"), 200, True),
    ("bad-type", lambda m: request("POST", "/api/log", f"log={m}".encode(),
                                   {"Content-Type": "text/xml"}), 415, False),
    ("bad-json", lambda m: request("POST", "/api/log", b"{nope",
                                   {"Content-Type": "application/json"}), 400, False),
    ("empty", lambda m: request("POST", "/api/log", b"", {"Content-Type": FORM,
                                                           "Content-Length": "0"}), 400, False),
    ("query", lambda m: request("GET", "/api/logs?limit=1"), 200, False),
    ("404", lambda m: request("GET", "/nope"), 404, False),
]


def run_sequence(port, shapes, late, tag):
    """Sends the requests in one write (the last one's body later when
    late), reads the replies in order and returns (statuses, markers)."""
    blobs, markers = [], []
    for i, (name, make, _, stores) in enumerate(shapes):
        m = f"{tag}-{i}-{name}"
        blobs.append(make(m))
        if stores:
            markers.append(m)
    data = b"".join(blobs)
    c = Conn(port)
    try:
        if late:
            head_end = data.rfind(b"\r\n\r\n") + 4
            c.send(data[:head_end])
            time.sleep(0.02)
            c.send(data[head_end:])
        else:
            c.send(data)
        return [c.reply().status for _ in shapes], markers
    finally:
        c.close()


@pytest.mark.parametrize("length", [2, 3])
def test_pipelined_pairs_and_triples_answered_in_order(make_server, length):
    """Every pair and triple of request shapes in one send on one
    connection is answered in order; every good record is stored once;
    another client is served throughout."""
    server = make_server()
    stop = threading.Event()
    other = {"ok": 0, "bad": 0}

    def bystander():
        while not stop.is_set():
            c = Conn(server.port, timeout=5)
            try:
                c.send(request("GET", "/healthz"))
                other["ok" if c.reply().status == 200 else "bad"] += 1
            except Exception:
                other["bad"] += 1
            finally:
                c.close()
            time.sleep(0.01)

    t = threading.Thread(target=bystander)
    t.start()
    expected = []
    try:
        combos = list(itertools.product(SHAPES, repeat=length))
        if length == 3:
            # every triple of a representative subset, and every shape in
            # every position against it
            core = [s for s in SHAPES if s[0] in ("health", "form", "chunked", "bad-type",
                                                  "empty", "get-ingest", "404")]
            combos = list(itertools.product(core, repeat=3))
        for n, combo in enumerate(combos):
            late = n % 2 == 1 and combo[-1][0] in ("form", "json", "ndjson", "chunked",
                                                   "bad-type", "bad-json")
            statuses, markers = run_sequence(server.port, combo, late, f"p{length}x{n}")
            assert statuses == [s[2] for s in combo], [s[0] for s in combo]
            expected += markers
    finally:
        stop.set()
        t.join()
    got = [r["msg"] for r in server.logs(limit=100000)]
    assert sorted(got) == sorted(expected)  # each once: nothing lost, nothing twice
    assert other["bad"] == 0 and other["ok"] > 0
    assert server.metrics()["logship_http_second_replies_total"] == 0


def test_pipelined_post_behind_get_does_not_wedge(make_server):
    """GET /healthz + POST /api/log in one write: both answered, the right
    bytes stored, other inputs still served, and SIGTERM ends it."""
    server = make_server()
    c = Conn(server.port)
    c.send(request("GET", "/healthz") +
           request("POST", "/api/log", b"log=behind", {"Content-Type": FORM}))
    assert c.reply().status == 200
    r = c.reply()
    assert r.status == 200 and json.loads(r.body)["accepted"] == 1
    assert [x["msg"] for x in server.logs()] == ["behind"]
    s = socket.create_connection(("127.0.0.1", server.ports["tcp"]))
    s.sendall(b"over tcp\n")
    s.close()
    assert wait_for(lambda: len(server.logs()) == 2)
    c.close()
    t0 = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - t0 < 5


def test_crlf_after_body_is_one_reply_one_record(make_server):
    """A POST followed by CRLF: one 200, one record; the connection goes on."""
    server = make_server()
    c = Conn(server.port)
    c.send(request("POST", "/api/log", b"log=crlf", {"Content-Type": FORM}) + b"\r\n")
    r = c.reply()
    assert r.status == 200
    c.send(request("GET", "/healthz"))
    assert c.reply().status == 200
    assert not c.buf  # nothing more was sent: no second answer
    c.close()
    assert [x["msg"] for x in server.logs()] == ["crlf"]
    m = server.metrics()
    assert m["logship_http_second_replies_total"] == 0
    assert m.get('logship_http_responses_total{code="400"}', 0) == 0


def test_stray_bytes_after_a_close_request_are_ignored(make_server):
    server = make_server()
    c = Conn(server.port)
    c.send(request("POST", "/api/log", b"log=last", {"Content-Type": FORM,
                                                      "Connection": "close"}) + b"GARBAGE\r\n")
    r = c.reply()
    assert r.status == 200 and r.headers.get("connection") == "close"
    assert c.closed()
    assert [x["msg"] for x in server.logs()] == ["last"]


def test_garbage_between_requests_gets_400_and_keeps_the_good_ones(make_server):
    server = make_server()
    c = Conn(server.port)
    c.send(request("POST", "/api/log", b"log=good", {"Content-Type": FORM}) + b"\x00\x01BAD\r\n\r\n")
    assert c.reply().status == 200
    r = c.reply()
    assert r.status == 400 and "bad request" in json.loads(r.body)["error"]
    assert c.closed()
    assert [x["msg"] for x in server.logs()] == ["good"]


# ---- deadlines ----------------------------------------------------------------

def test_idle_connections_closed_at_their_deadline(make_server):
    """1,000 connections that send nothing are closed after
    --request-timeout, a kept-alive one after --keepalive-timeout; new
    clients are served meanwhile."""
    raise_nofile(4096)
    server = make_server("--request-timeout", "1s", "--keepalive-timeout", "2s",
                         "--max-connections", "1100")
    socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(1000)]
    st, _ = server.request("GET", "/healthz")
    assert st == 200
    kept = Conn(server.port)
    kept.send(request("GET", "/healthz"))
    assert kept.reply().status == 200
    t0 = time.monotonic()
    for s in socks:
        s.settimeout(max(0.1, 6 - (time.monotonic() - t0)))
        assert s.recv(1) == b""  # closed by the server, not by our timeout
        s.close()
    assert time.monotonic() - t0 < 6
    assert kept.closed(timeout=4)
    assert server.metrics()["logship_http_timeouts_total"] >= 1001


def test_a_head_that_never_ends_gets_408(make_server):
    server = make_server("--request-timeout", "1s")
    c = Conn(server.port)
    c.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    r = c.reply()
    assert r.status == 408
    assert c.closed()


def test_a_body_that_stops_gets_408_and_is_not_stored(make_server):
    server = make_server("--request-timeout", "1s")
    c = Conn(server.port)
    c.send(request("POST", "/api/log", b"log=x", {"Content-Type": FORM,
                                                   "Content-Length": "100"}))
    r = c.reply()
    assert r.status == 408
    assert server.logs() == []


def test_sigterm_with_idle_connections_open_exits_within_5s(make_server):
    raise_nofile(4096)
    server = make_server()  # default timeouts: 10 s head, 60 s keep-alive
    socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(1000)]
    kept = Conn(server.port)
    kept.send(request("GET", "/healthz"))
    assert kept.reply().status == 200
    sse = Conn(server.port)
    sse.send(request("GET", "/api/tail", headers={"Accept": "text/event-stream"}))
    assert sse.reply(head_only=True).status == 200
    time.sleep(0.2)
    t0 = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - t0 < 5
    for s in socks:
        s.close()


def test_slowloris_heads_cost_no_cpu(make_server):
    """Partial heads wait in the socket without being looked at again: 500
    of them keep the server idle."""
    raise_nofile(4096)
    server = make_server("--request-timeout", "30s")
    socks = []
    for _ in range(500):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ")
        socks.append(s)
    time.sleep(0.5)
    before = cpu_s(server.proc.pid)
    time.sleep(2)
    used = cpu_s(server.proc.pid) - before
    assert used < 0.5, f"{used:.2f} s of CPU in 2 s with 500 partial heads"
    st, _ = server.request("GET", "/healthz")
    assert st == 200
    for s in socks:
        s.close()


# ---- memory --------------------------------------------------------------------

def test_trickled_large_bodies_do_not_reserve_memory(make_server):
    """200 clients announce 8 MB bodies and send a byte a second: memory
    grows with what arrived, not with what was announced."""
    raise_nofile(4096)
    server = make_server()
    pid = server.proc.pid
    base = rss_kb(pid)
    socks = []
    for _ in range(200):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(request("POST", "/api/log", b"", {"Content-Type": "text/plain",
                                                     "Content-Length": str(8 << 20)}))
        socks.append(s)
    peak = 0
    for _ in range(4):
        for s in socks:
            s.sendall(b"x")
        time.sleep(1)
        peak = max(peak, rss_kb(pid))
    assert peak - base < 64 * 1024, f"RSS grew {(peak - base) // 1024} MB"
    for s in socks:
        s.close()
    st, _ = server.request("GET", "/healthz")
    assert st == 200


# ---- chunked bodies --------------------------------------------------------------

def test_chunked_bodies_are_decoded(make_server):
    server = make_server()
    lines = "".join(json.dumps({"msg": f"c{i}"}) + "\n" for i in range(50)).encode()
    c = Conn(server.port)
    c.send(request("POST", "/api/log", chunked(lines, 13),
                   {"Content-Type": "application/x-ndjson", "Transfer-Encoding": "chunked"}))
    r = c.reply()
    assert r.status == 200 and json.loads(r.body)["accepted"] == 50
    # chunk extensions and a trailer
    c.send(request("POST", "/api/log", b"4;ext=1\r\nlog=\r\n2\r\nok\r\n0\r\nX-Trailer: 1\r\n\r\n",
                   {"Content-Type": FORM, "Transfer-Encoding": "chunked"}))
    assert c.reply().status == 200
    # a chunk size that is not hex: 400 and close; the records before stay
    c.send(request("POST", "/api/log", b"zz\r\nlog=bad\r\n0\r\n\r\n",
                   {"Content-Type": FORM, "Transfer-Encoding": "chunked"}))
    r = c.reply()
    assert r.status == 400
    assert c.closed()
    msgs = [x["msg"] for x in server.logs(limit=1000)]
    assert msgs == [f"c{i}" for i in range(50)] + ["ok"]


def test_chunked_body_over_max_body_is_413(make_server):
    server = make_server("--max-body", "1K")
    c = Conn(server.port)
    c.send(request("POST", "/api/log", chunked(b"x" * 4000, 500),
                   {"Content-Type": "text/plain", "Transfer-Encoding": "chunked"}))
    assert c.reply().status == 413
    c.send(request("GET", "/healthz"))
    assert c.reply().status == 200
    assert server.logs() == []


def test_bad_content_length_is_400(make_server):
    server = make_server()
    for cl in ("-1", "abc", "1 2"):
        c = Conn(server.port)
        c.send(b"POST /api/log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
               b"Content-Length: " + cl.encode() + b"\r\n\r\nhello")
        r = c.reply()
        assert r.status == 400, cl
        assert "Content-Length" in json.loads(r.body)["error"]
        c.close()
    assert server.logs() == []


def test_nul_in_path_is_400(make_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a").write_text("x\n")
    server = make_server("--tail-root", str(root))
    c = Conn(server.port)
    c.send(request("GET", "/api/files/root/a%00b"))
    r = c.reply()
    assert r.status == 400 and "NUL" in json.loads(r.body)["error"]


# ---- cross-site --------------------------------------------------------------------

def test_cross_origin_writes_and_upgrades_are_refused(make_server):
    server = make_server()
    same = f"http://127.0.0.1:{server.port}"
    c = Conn(server.port)
    c.send(request("POST", "/api/log", b"log=forged", {"Content-Type": FORM,
                                                        "Origin": "http://evil.example"}))
    r = c.reply()
    assert r.status == 403 and "--allowed-origin" in json.loads(r.body)["error"]
    c.send(request("POST", "/api/log", b"same", {"Content-Type": "text/plain",
                                                      "Origin": same},
                   host=f"127.0.0.1:{server.port}"))
    assert c.reply().status == 200
    # an <img src> or a plain link sends no Origin, but says where it came from
    c.send(request("GET", "/api/log?log=forged2", headers={"Sec-Fetch-Site": "cross-site"}))
    assert c.reply().status == 403
    c.close()
    ws = Conn(server.port)
    ws.send(request("GET", "/api/tail", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://evil.example"}))
    assert ws.reply().status == 403
    assert [x["msg"] for x in server.logs()] == ["same"]
    # reading is not state-changing: a GET of /healthz from anywhere is fine
    st, _ = server.request("GET", "/healthz", headers={"Origin": "http://evil.example"})
    assert st == 200
    assert server.metrics()["logship_http_cross_origin_refused_total"] == 3


def test_origin_must_match_host_and_port(make_server):
    """Same origin means the same host and port as the Host the request
    carries: a Host without a port is port 80 (or 443), so a page on another
    port of the same host is another origin, as browsers define it."""
    server = make_server()
    c = Conn(server.port)

    def post(host, origin):
        c.send(request("POST", "/api/log", b"x", {"Content-Type": "text/plain",
                                                   "Origin": origin}, host=host))
        return c.reply().status

    assert post("127.0.0.1", "http://127.0.0.1") == 200
    assert post("127.0.0.1", "http://127.0.0.1:80") == 200
    assert post("localhost", "https://localhost") == 200
    assert post("[::1]:9000", "http://[::1]:9000") == 200
    assert post("127.0.0.1", "http://127.0.0.1:8088") == 403
    assert post("127.0.0.1:8080", "http://127.0.0.1:8088") == 403
    assert post("127.0.0.1", "http://127.0.0.2") == 403
    assert post("localhost", "http://localhost.evil.example:80") == 403
    assert post("127.0.0.1", "http://evil.example") == 403
    assert server.metrics()["logship_http_cross_origin_refused_total"] == 5


def test_allowed_origin_and_host(make_server):
    server = make_server("--allowed-origin", "https://app.example", "--allowed-host",
                         "logs.example")
    c = Conn(server.port)
    c.send(request("POST", "/api/log", b"log=ok", {"Content-Type": FORM,
                                                    "Origin": "https://app.example"}))
    assert c.reply().status == 200
    c.send(request("GET", "/healthz", host="logs.example:8080"))
    assert c.reply().status == 200
    c.send(request("GET", "/healthz", host="rebound.example"))
    r = c.reply()
    assert r.status == 403 and "--allowed-host" in json.loads(r.body)["error"]
    c.send(request("GET", "/healthz", host="localhost:1234"))
    assert c.reply().status == 200


def test_websocket_upgrade_on_a_long_uri(make_server, tmp_path):
    """A WebSocket URI of 64 bytes or more (a deeply nested file) works."""
    import asyncio
    import websockets
    root = tmp_path / "root"
    deep = root / ("d" * 40) / ("e" * 40)
    deep.mkdir(parents=True)
    (deep / "f.log").write_text("one\ntwo\n")
    server = make_server("--tail-root", str(root))
    uri = f"ws://127.0.0.1:{server.port}/api/files/root/{'d' * 40}/{'e' * 40}/f.log?n=2"

    async def run():
        async with websockets.connect(uri, open_timeout=5) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 5))
    text = json.dumps(asyncio.run(run()))
    assert "one" in text and "two" in text


def test_bodies_in_memory_have_a_total_bound(make_server):
    """--max-body-memory bounds the bodies held at once, across
    connections: past it a body is refused with 503 and Retry-After, the
    others finish, and the memory is given back."""
    server = make_server("--max-body-memory", "1M", "--max-body", "8M")
    first = Conn(server.port)
    first.send(request("POST", "/api/log", b"", {"Content-Type": "text/plain",
                                                  "Content-Length": str(700 * 1024)}))
    first.send(b"a" * (600 * 1024))
    time.sleep(0.2)
    second = Conn(server.port)
    second.send(request("POST", "/api/log", b"", {"Content-Type": "text/plain",
                                                   "Content-Length": str(700 * 1024)}))
    second.send(b"b" * (600 * 1024))
    r = second.reply()
    assert r.status == 503 and r.headers.get("retry-after") == "1"
    assert "--max-body-memory" in json.loads(r.body)["error"]
    first.send(b"a" * (100 * 1024 - 1) + b"\n")
    r = first.reply()
    assert r.status == 200 and json.loads(r.body)["accepted"] == 1
    # given back: the same body fits now
    third = Conn(server.port)
    third.send(request("POST", "/api/log", b"c" * (400 * 1024), {"Content-Type": "text/plain"}))
    assert third.reply().status == 200
    m = server.metrics()
    assert m['logship_http_rejected_total{reason="bodies_in_memory"}'] == 1


def test_sse_requests_log_no_errors(make_server):
    server = make_server()
    for _ in range(3):
        c = Conn(server.port)
        c.send(request("GET", "/api/tail", headers={"Accept": "text/event-stream"}))
        assert c.reply(head_only=True).status == 200
        c.close()
    st, _ = server.request("GET", "/healthz")
    assert st == 200
    assert not [l for l in server.log_lines if " error: " in l or " warning: " in l]


def test_requests_pipelined_behind_a_store_append_are_answered_at_a_half_close(make_server):
    """POST /api/log (answered once stored), then two GETs, in one write,
    then a half-close: all three answered, in order, then the close. The
    two behind the POST used to be dropped when the half-close arrived
    while the POST waited for the store (answered when it did not)."""
    server = make_server()
    for i in range(3):
        c = Conn(server.port)
        post = request("POST", "/api/log", f"log=half-close+{i}".encode(), {"Content-Type": FORM})
        gets = request("GET", "/healthz") + request("GET", "/api/logs?limit=1")
        c.send(post + gets)
        c.sock.shutdown(socket.SHUT_WR)
        replies = [c.reply() for _ in range(3)]
        assert [r.status for r in replies] == [200, 200, 200], replies
        assert json.loads(replies[0].body)["accepted"] == 1
        assert json.loads(replies[1].body)["status"] == "ok"
        assert [r["msg"] for r in json.loads(replies[2].body)] == [f"half-close {i}"]
        assert c.closed()
        c.close()


def ws_handshake(port, path="/api/tail?n=0"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(request("GET", path, headers={
        "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def masked(op, payload):
    mask = b"\x01\x02\x03\x04"
    return bytes([0x80 | op, 0x80 | len(payload)]) + mask + \
        bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def until_eof(s):
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    return out


@pytest.mark.parametrize("payload,answer", [
    (b"", b"\x88\x00"),                                  # no status: echoed empty
    ((1000).to_bytes(2, "big") + b"bye", b"\x88\x05\x03\xe8bye"),  # echoed
    ((999).to_bytes(2, "big"), b"\x88\x02\x03\xea"),    # a reserved code: 1002
    ((5000).to_bytes(2, "big"), b"\x88\x02\x03\xea"),   # past 4999: 1002
    ((63976).to_bytes(2, "big") + b"x", b"\x88\x03\x03\xeax"),  # (found by fuzz_routes)
    (b"\x03", None),                                     # one byte: no close frame
    ((1000).to_bytes(2, "big") + b"\xff\xfe", None),     # reason not UTF-8: none
])
def test_websocket_client_close_frames(make_server, payload, answer):
    """A client's close frame is answered with a valid one (echoed, or 1002
    for a reserved or undefined code); one RFC 6455 forbids (a 1-byte payload, a reason
    that is not UTF-8) fails the connection: closed with no close frame
    (lws used to echo it back as it came)."""
    server = make_server()
    s = ws_handshake(server.port)
    s.sendall(masked(8, payload))
    got = until_eof(s)
    s.close()
    if answer is None:
        assert got == b"", got
    else:
        assert got == answer, got


# ---- issue 13: head and body deadlines, framing ------------------------------

def test_slowloris_500_trickling_heads_do_not_delay_others_and_are_cut(make_server):
    """500 clients send a header byte a second: a normal client is served
    within 1 s the whole time, and the trickling heads are answered 408
    and closed at --header-timeout, however steadily they trickle."""
    raise_nofile(4096)
    server = make_server("--header-timeout", "3s", "--keepalive-timeout", "60s",
                         "--max-connections", "1000")
    socks = []
    for _ in range(500):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        socks.append(s)
    t0 = time.monotonic()
    cut = set()
    for second in range(6):
        for i, s in enumerate(socks):
            if i in cut:
                continue
            try:
                s.sendall(b"x")
            except OSError:
                cut.add(i)  # the server closed it
        c = Conn(server.port, timeout=1)  # served within 1 s, or this raises
        c.send(request("GET", "/healthz"))
        assert c.reply().status == 200
        c.close()
        time.sleep(max(0, second + 1 - (time.monotonic() - t0)))
    for s in socks:
        s.settimeout(5)
        data = b""
        try:
            while True:
                got = s.recv(4096)
                if not got:
                    break
                data += got
        except ConnectionResetError:
            pass  # bytes the server had not read when it closed: a reset
        if data:
            assert data.startswith(b"HTTP/1.1 408"), data[:80]
        s.close()
    assert server.metrics()["logship_http_timeouts_total"] >= 500


def test_a_body_that_keeps_moving_is_kept_one_that_stalls_is_cut(make_server):
    """--body-timeout is progress, not a total: a body trickled a byte every
    0.4 s for 2.4 s with --body-timeout 1s is stored; one that then stops
    for longer than 1 s gets 408 and nothing of it is stored."""
    server = make_server("--body-timeout", "1s", "--header-timeout", "10s")
    c = Conn(server.port)
    body = b"log=moving"
    c.send(request("POST", "/api/log", b"", {"Content-Type": FORM,
                                               "Content-Length": str(len(body))}))
    for i in range(0, len(body), 2):
        time.sleep(0.4)
        c.send(body[i:i + 2])
    assert c.reply().status == 200
    c.send(request("POST", "/api/log", b"", {"Content-Type": FORM, "Content-Length": "20"}))
    c.send(b"log=stal")
    r = c.reply()
    assert r.status == 408
    assert "--body-timeout" in json.loads(r.body)["error"]
    assert [x["msg"] for x in server.logs()] == ["moving"]


def test_a_head_trickled_on_a_keepalive_connection_is_cut_like_the_first(make_server):
    server = make_server("--header-timeout", "1s", "--keepalive-timeout", "30s")
    c = Conn(server.port)
    c.send(request("GET", "/healthz"))
    assert c.reply().status == 200
    t0 = time.monotonic()
    c.send(b"GET /healthz HTTP/1.1\r\n")
    for _ in range(40):  # a header byte every 0.1 s for up to 4 s
        try:
            c.send(b"X")
        except OSError:
            break  # closed after the 408
        if c.read_some(0.1):
            break
    r = c.reply()
    assert r.status == 408, r
    assert "--header-timeout" in json.loads(r.body)["error"]
    assert time.monotonic() - t0 < 4


def test_every_head_on_a_keepalive_connection_has_the_size_limit(make_server):
    """The third request's head is over 16 KiB: 431 and close, after the
    first two are answered; the same head as the first request too."""
    server = make_server()
    big = {"X-Big": "a" * (17 * 1024)}
    c = Conn(server.port)
    c.send(request("GET", "/healthz") + request("POST", "/api/log", b"log=one",
                                                 {"Content-Type": FORM}) +
           request("GET", "/healthz", headers=big))
    assert [c.reply().status for _ in range(3)] == [200, 200, 431]
    assert c.closed()
    c = Conn(server.port)
    c.send(request("GET", "/healthz", headers=big))
    assert c.reply().status == 431
    assert [x["msg"] for x in server.logs()] == ["one"]


SMUGGLE = request("GET", "/api/log?log=smuggled")
FRAMINGS = [
    ("two equal content-lengths", b"Content-Length: 5\r\nContent-Length: 5\r\n", b"log=x"),
    ("two different content-lengths", b"Content-Length: 5\r\nContent-Length: 50\r\n",
     b"log=x" + SMUGGLE),
    ("content-length and chunked", b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
     b"0\r\n\r\n" + SMUGGLE),
    ("chunked and content-length", b"Transfer-Encoding: chunked\r\nContent-Length: 60\r\n",
     b"0\r\n\r\n" + SMUGGLE),
    ("two transfer-encodings", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
     b"5\r\nlog=x\r\n0\r\n\r\n" + SMUGGLE),
]


@pytest.mark.parametrize("name,headers,body", FRAMINGS, ids=[f[0] for f in FRAMINGS])
def test_ambiguous_framing_is_400_and_nothing_behind_it_is_served(make_server, name, headers,
                                                                   body):
    server = make_server()
    c = Conn(server.port)
    c.send(request("POST", "/api/log", b"log=before", {"Content-Type": FORM}))
    assert c.reply().status == 200
    c.send(b"POST /api/log HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\n" + headers + b"\r\n" + body)
    r = c.reply()
    assert r.status == 400, r
    assert c.closed()
    assert [x["msg"] for x in server.logs()] == ["before"]
