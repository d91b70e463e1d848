"""Live tail hardening: the backlog of a tail that starts behind the memory
window comes from a newest-first disk scan and must still be exactly the n
newest matching records, oldest first and intact; and a subscriber's topic
patterns are bounded (16 patterns, 32 words and 255 bytes each), a request
over the bounds getting a clear 400 over SSE, the same error with status 400
over a WebSocket, and a 400 from /api/logs, which shares the filter.

One server per test; the tests loop over n rather than start servers."""
import asyncio
import json
import time
import urllib.parse

import pytest
import requests
import websockets

MEMORY = 20          # --memory-records
STORED = 10 * MEMORY + 50  # the store holds over ten windows


def ndjson(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def post(server, records):
    r = requests.post(server.url + "/api/log", data=ndjson(records),
                      headers={"Content-Type": "application/x-ndjson"}, timeout=30)
    assert r.status_code == 200, r.text


def wait_visible(server, last_seq, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(requests.get(server.url + "/healthz", timeout=5).json()["last_seq"]) >= last_seq:
            return
        time.sleep(0.02)
    raise AssertionError(f"seq {last_seq} never became visible")


class SSE:
    """A minimal SSE reader over one GET /api/tail."""

    def __init__(self, server, query):
        self.r = requests.get(server.url + "/api/tail?" + query, stream=True, timeout=10,
                              headers={"Accept": "text/event-stream"})
        self.chunks = self.r.iter_content(chunk_size=None)
        self.buf = b""

    def event(self):
        while b"\n\n" not in self.buf:
            self.buf += next(self.chunks)
        raw, self.buf = self.buf.split(b"\n\n", 1)
        ev = {}
        for line in raw.decode().split("\n"):
            if line.startswith(":"):
                continue  # keepalive comment
            k, _, v = line.partition(": ")
            ev[k] = v
        return ev

    def close(self):
        self.r.close()


def sse_backlog(server, query, n):
    """The records of an SSE tail's backlog: events until n records came."""
    s = SSE(server, query)
    try:
        assert s.r.status_code == 200, s.r.text
        got = []
        while len(got) < n:
            ev = s.event()
            if ev.get("event") == "records":
                got.extend(json.loads(ev["data"]))
        return got
    finally:
        s.close()


async def ws_backlog(server, query, n):
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/api/tail?{query}",
                                  max_size=None) as ws:
        got = []
        while len(got) < n:
            data = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert isinstance(data, list) or data.get("type") != "error", data
            if isinstance(data, list):
                got.extend(data)
        return got


def all_records(server):
    st, data = server.request("GET", "/api/logs?limit=100000")
    assert st == 200
    return json.loads(data)


@pytest.fixture
def behind(make_server):
    """A server whose store holds STORED records, ten times its window: 40
    crit records first (topic kern.crit), then info records (topics
    alternating web.api / db.slow), each message distinct."""
    server = make_server("--memory-records", str(MEMORY))
    crit = [{"msg": f"crit {i:03d} " + "c" * (i % 7), "topic": "kern.crit", "level": "crit",
             "app": "kern"} for i in range(40)]
    info = [{"msg": f"info {i:04d} " + "x" * (i % 13), "topic": ["web.api", "db.slow"][i % 2],
             "level": "info", "app": "svc"} for i in range(STORED)]
    post(server, crit)
    post(server, info)
    wait_visible(server, len(crit) + len(info))
    stored = all_records(server)
    assert [r["msg"] for r in stored] == [r["msg"] for r in crit + info]
    return server, stored


def check(got, want, n, how):
    assert [r["seq"] for r in got] == [r["seq"] for r in want], f"{how} n={n}"
    assert got == want, f"{how} n={n}: contents differ"


def test_disk_backlog_every_n_sse_and_ws(behind):
    server, stored = behind

    async def ws_all():
        for n in range(1, 201):
            check(await ws_backlog(server, f"n={n}", n), stored[-n:], n, "ws")
    scans = server.metrics()["logship_tail_disk_scans_total"]
    for n in range(1, 201):
        check(sse_backlog(server, f"n={n}", n), stored[-n:], n, "sse")
    asyncio.run(ws_all())
    # every n above the window was a backlog read from disk, per transport
    assert server.metrics()["logship_tail_disk_scans_total"] - scans >= 2 * (200 - MEMORY)


def test_disk_backlog_filtered_behind_newer_records(behind):
    """The crit records are all older than the window, behind 250 newer info
    records: the backlog is the newest n of them, or all 40 when n is more."""
    server, stored = behind
    crit = [r for r in stored if r["level"] == "crit"]
    db = [r for r in stored if r["topic"] == "db.slow"]
    assert len(crit) == 40

    async def ws_all():
        for n in range(1, 61):
            k = min(n, len(crit))
            check(await ws_backlog(server, f"n={n}&level=crit", k), crit[-k:], n, "ws crit")
        for n in (1, 9, 10, 11, 50, 124, 125, 126, 200):
            k = min(n, len(db))
            q = "n=%d&%s" % (n, urllib.parse.urlencode({"topic": "db.#"}))
            check(await ws_backlog(server, q, k), db[-k:], n, "ws db.#")
    for n in range(1, 61):
        k = min(n, len(crit))
        check(sse_backlog(server, f"n={n}&level=crit", k), crit[-k:], n, "sse crit")
    asyncio.run(ws_all())
    # the server is still there and still tails live
    post(server, [{"msg": "live one", "level": "crit", "topic": "kern.crit"}])
    wait_visible(server, stored[-1]["seq"] + 1)
    got = sse_backlog(server, "n=1&level=crit", 1)
    assert got[0]["msg"] == "live one"


# ---- topic pattern limits ------------------------------------------------------

LONG_TOPIC = ".".join(["a"] * 125 + ["hit"])  # 253 bytes: records keep 255


def worst(k):
    """A legal worst case: 32 words, "#" then literals that all match a
    topic of "a"s, failing only at the last word."""
    return ".".join(["#"] + ["a"] * 30 + [f"z{k}"])


def tail_qs(patterns, n=0):
    return urllib.parse.urlencode([("n", str(n))] + [("topic", p) for p in patterns])


def sse_status(server, qs):
    r = requests.get(server.url + "/api/tail?" + qs, headers={"Accept": "text/event-stream"},
                     stream=True, timeout=10)
    try:
        if r.status_code != 200:
            return r.status_code, r.json()
        return 200, None
    finally:
        r.close()


async def ws_refusal(server, qs):
    """The error message a refused WebSocket gets; the server then closes."""
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/api/tail?{qs}") as ws:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 1008  # a close frame, not a dropped connection
        return msg


OVER_LIMITS = [
    ([worst(k) for k in range(17)], "too many topic patterns (at most 16)"),
    ([".".join(["a"] * 33)], "topic pattern has more than 32 words"),
    (["#." * 32 + "a"], "topic pattern has more than 32 words"),
    (["x" * 256], "topic pattern longer than 255 bytes"),
]


def test_topic_pattern_limits_are_400_over_sse_ws_and_logs(server):
    for patterns, why in OVER_LIMITS:
        st, body = sse_status(server, tail_qs(patterns))
        assert st == 400 and body["error"] == why, (st, body)
        st, data = server.request("GET", "/api/logs?" + urllib.parse.urlencode(
            [("topic", p) for p in patterns]))
        assert st == 400 and json.loads(data)["error"] == why

    async def ws_all():
        for patterns, why in OVER_LIMITS:
            msg = await ws_refusal(server, tail_qs(patterns))
            assert msg == {"type": "error", "status": 400, "error": why}
    asyncio.run(ws_all())
    # nobody was subscribed by a refused request
    assert server.metrics()["logship_tail_subscribers"] == 0


def test_sixteen_worst_case_patterns_are_accepted_and_match(server):
    """At the limits, 16 patterns of 32 words each: accepted over SSE and
    WebSocket, and they match what they should."""
    patterns = [worst(k) for k in range(15)] + [".".join(["#"] + ["a"] * 30 + ["hit"])]
    assert all(len(p.split(".")) == 32 for p in patterns)
    qs = tail_qs(patterns)
    assert sse_status(server, qs)[0] == 200

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/api/tail?{qs}") as ws:
            post(server, [{"msg": "miss", "topic": ".".join(["a"] * 128)},
                          {"msg": "short", "topic": "a.hit"},
                          {"msg": "hit", "topic": LONG_TOPIC},
                          {"msg": "z3", "topic": ".".join(["b"] + ["a"] * 40 + ["z3"])}])
            got = []
            while len(got) < 2:
                data = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert isinstance(data, list), data
                got.extend(data)
            assert [r["msg"] for r in got] == ["hit", "z3"]
    asyncio.run(run())


def test_a_large_backlog_comes_in_bounded_messages(make_server):
    """n=3000 records of 2 KB (6 MB): the backlog is sent as a catch-up, in
    messages of about 256 KiB, not as one message of everything."""
    server = make_server("--memory-records", "1000")
    pad = "x" * 2000
    for k in range(3):
        post(server, [{"msg": f"big {k * 1000 + i:05d} {pad}"} for i in range(1000)])
    post(server, [{"msg": "newest"}])
    wait_visible(server, 3001)
    s = SSE(server, "n=3001")
    try:
        got, sizes = [], []
        while len(got) < 3001:
            ev = s.event()
            if ev.get("event") == "records":
                sizes.append(len(ev["data"]))
                got.extend(json.loads(ev["data"]))
    finally:
        s.close()
    assert [r["msg"][:9] for r in got[:-1]] == [f"big {i:05d}" for i in range(3000)]
    assert got[-1]["msg"] == "newest"
    assert len(sizes) >= 20 and max(sizes) < 400 * 1024, sizes
