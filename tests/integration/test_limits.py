"""Per-client limits of the HTTP layer: --rate-limit (429 with Retry-After,
nothing of a refused request stored) and --max-client-connections."""
import json
import os
import socket
import subprocess
import time

from httpraw import Conn, request

FORM = "application/x-www-form-urlencoded"


def test_over_the_rate_is_429_with_retry_after_and_nothing_half_stored(make_server):
    server = make_server("--rate-limit", "5/s", "--rate-burst", "5")
    c = Conn(server.port)
    # 12 posts pipelined in one write, each a different marker
    c.send(b"".join(request("POST", "/api/log", f"log=m{i}".encode(), {"Content-Type": FORM})
                    for i in range(12)))
    replies = [c.reply() for _ in range(12)]
    statuses = [r.status for r in replies]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses[5:]
    for r in replies:
        if r.status == 429:
            assert int(r.headers["retry-after"]) >= 1
            assert "--rate-limit" in json.loads(r.body)["error"]
    accepted = {f"m{i}" for i, st in enumerate(statuses) if st == 200}
    time.sleep(1.3)  # the bucket refills; the queries below are requests too
    assert {x["msg"] for x in server.logs(limit=100)} == accepted
    assert server.metrics()['logship_http_rejected_total{reason="rate_limited"}'] == \
        statuses.count(429)
    # a client that waits as told is served again
    time.sleep(1.1)
    c.send(request("POST", "/api/log", b"log=later", {"Content-Type": FORM}))
    assert c.reply().status == 200


def test_rate_is_per_client_address(make_server):
    """Another address (127.0.0.2 is loopback too) has its own bucket."""
    server = make_server("--rate-limit", "2/s", "--rate-burst", "2")
    a = Conn(server.port)
    a.send(request("GET", "/healthz") * 4)
    assert [a.reply().status for _ in range(4)] == [200, 200, 429, 429]
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", server.port))
    s.sendall(request("GET", "/healthz"))
    assert s.recv(64).startswith(b"HTTP/1.1 200")
    s.close()


def test_a_rate_in_minutes_and_bad_rates(make_server, tmp_path):
    server = make_server("--rate-limit", "60/m", "--rate-burst", "1")
    c = Conn(server.port)
    c.send(request("GET", "/healthz") * 2)
    r1, r2 = c.reply(), c.reply()
    assert (r1.status, r2.status) == (200, 429)
    assert int(r2.headers["retry-after"]) == 1
    for bad in ("fast", "-1/s", "5/h", "1/s/s"):
        p = subprocess.run([os.environ["LOGSHIPD"], "--data", str(tmp_path / "x"),
                            "--rate-limit", bad], capture_output=True, text=True, timeout=10)
        assert p.returncode != 0, bad
        assert "rate-limit" in p.stderr and "100/s" in p.stderr, p.stderr


def test_connections_per_client_address(make_server):
    server = make_server("--max-client-connections", "3")
    held = [Conn(server.port) for _ in range(3)]
    for c in held:
        c.send(request("GET", "/healthz"))
        assert c.reply().status == 200
    extra = Conn(server.port)
    r = extra.reply()
    assert r.status == 503
    assert "--max-client-connections" in json.loads(r.body)["error"]
    assert extra.closed()
    held.pop().close()
    time.sleep(0.2)
    again = Conn(server.port)
    again.send(request("GET", "/healthz"))
    assert again.reply().status == 200
    for c in held:
        c.close()
    again.close()
    time.sleep(0.2)
    assert server.metrics()['logship_http_rejected_total{reason="client_connections"}'] == 1


def test_with_tokens_the_rate_is_per_token_wherever_it_comes_from(make_server, tmp_path):
    """--auth-file: a token's requests share one bucket across addresses;
    another token, and requests without one, have their own."""
    auth = tmp_path / "tokens"
    auth.write_text("a tok-aaaaaaaaaaaaaaaa1 write,read\nb tok-bbbbbbbbbbbbbbbb2 write,read\n")
    auth.chmod(0o600)
    server = make_server("--auth-file", str(auth), "--rate-limit", "3/s", "--rate-burst", "3")

    def get(src, token=None):
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", server.port))
        h = {"Authorization": f"Bearer {token}"} if token else {}
        s.sendall(request("GET", "/api/logs?limit=1", headers=h))
        head = s.recv(4096)
        s.close()
        return int(head.split()[1])

    # token a from three addresses: three pass, the fourth is over a's rate
    got = [get(src, "tok-aaaaaaaaaaaaaaaa1")
           for src in ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")]
    assert got == [200, 200, 200, 429]
    # token b, and the addresses without a token, are untouched by a's use
    assert get("127.0.0.1", "tok-bbbbbbbbbbbbbbbb2") == 200
    assert get("127.0.0.2") == 401
    # a refused credential counts against its address: guessing tokens
    # goes no faster than the rate
    guesses = [get("127.0.0.9", f"tok-guess-{i:011d}") for i in range(5)]
    assert guesses == [401, 401, 401, 429, 429]
    assert get("127.0.0.9", "tok-aaaaaaaaaaaaaaaa1") == 429  # a's bucket is empty too
    assert get("127.0.0.9", "tok-bbbbbbbbbbbbbbbb2") == 200  # a valid token: its own bucket


def test_live_tails_per_client(make_server):
    """--max-client-tails 2: a third tail from the same address is refused
    with 429 (SSE) or an error message with status 429 (WebSocket); when one
    ends, another may open."""
    import asyncio
    import websockets
    server = make_server("--max-client-tails", "2")

    def sse(head_only=True):
        c = Conn(server.port)
        c.send(request("GET", "/api/tail?n=0", headers={"Accept": "text/event-stream"}))
        return c, c.reply(head_only=head_only)

    a, ra = sse()
    b, rb = sse()
    assert (ra.status, rb.status) == (200, 200)
    c, rc = sse(head_only=False)  # refused: a whole reply
    assert rc.status == 429
    assert "--max-client-tails" in json.loads(rc.body)["error"]

    async def ws_third():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/api/tail?n=0") as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 5))

    msg = asyncio.run(ws_third())
    assert msg["type"] == "error" and msg["status"] == 429, msg
    a.close()
    time.sleep(0.3)  # the server sees the close
    d, rd = sse()
    assert rd.status == 200
    for x in (b, c, d):
        x.close()
