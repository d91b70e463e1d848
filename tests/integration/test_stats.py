"""GET /api/stats: counts per time bucket and per level, topic, app or host,
through a real logshipd, checked against a count made here from the
records /api/logs returns with the same filters."""
import json
import random
import time
import urllib.parse
from collections import Counter, defaultdict
from datetime import datetime

import requests

LEVELS = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"]


def post(server, records):
    body = "".join(json.dumps(r) + "\n" for r in records)
    r = requests.post(server.url + "/api/log", data=body,
                      headers={"Content-Type": "application/x-ndjson"}, timeout=30)
    assert r.status_code == 200, r.text


def get(server, path, params):
    return requests.get(server.url + path + "?" + urllib.parse.urlencode(params, doseq=True),
                        timeout=60)


def stats(server, **params):
    r = get(server, "/api/stats", params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def ts_ms(text):
    # "2026-11-21T10:45:56.123456789Z": whole ms, floored
    head, frac = text[:-1].split(".")
    sec = datetime.fromisoformat(head + "+00:00").timestamp()
    return int(sec) * 1000 + int(frac[:3])


def expected(server, by, interval_ms, top, params):
    """The answer computed here from /api/logs' records."""
    q = {k: v for k, v in params.items()}
    q["limit"] = 1000000
    r = get(server, "/api/logs", q)
    assert r.status_code == 200, r.text
    recs = r.json()
    totals = Counter()
    buckets = defaultdict(Counter)
    for rec in recs:
        v = rec.get(by, "")
        totals[v] += 1
        buckets[ts_ms(rec["ts"]) // interval_ms * interval_ms][v] += 1
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0].encode()))
    named = {k for k, _ in ranked[:top]}

    def fold(c):
        out = {k: n for k, n in c.items() if k in named}
        rest = sum(n for k, n in c.items() if k not in named)
        if rest:
            out["_other"] = rest
        return out

    return len(recs), fold(totals), [
        {"t": t, "total": sum(c.values()), "counts": fold(c)} for t, c in sorted(buckets.items())
    ]


def make_records(rng, base_ms, n):
    recs = []
    for i in range(n):
        app = rng.choice(["web", "db", "billing", "auth", "cron"])
        rec = {"msg": f"request {i} " + rng.choice(["ok", "timeout", "retry", "done"]),
               "app": app,
               "topic": app + "." + rng.choice(["access", "error", "slow"]),
               "level": rng.choice(LEVELS),
               # ms since the epoch, over about three hours
               "ts": base_ms + rng.randrange(0, 3 * 3600 * 1000)}
        if rng.random() < 0.8:  # else the sender's address
            rec["host"] = rng.choice(["h1", "h2", "h3", "db-1"])
        recs.append(rec)
    return recs


BASE_MS = 1764770400000  # 2025-12-03T14:00:00Z


def rfc(ms):
    return datetime.utcfromtimestamp(ms / 1000).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{ms % 1000:03d}Z"


def test_stats_match_the_records(server):
    rng = random.Random(17)
    post(server, make_records(rng, BASE_MS, 1500))
    since, until = rfc(BASE_MS), rfc(BASE_MS + 3 * 3600 * 1000)
    cases = [
        ("level", "10m", 20, {}),
        ("app", "1m", 20, {}),
        ("host", "15m", 20, {}),
        ("topic", "1h", 3, {}),  # the rest under _other
        ("app", "30m", 2, {"level": "warning"}),
        ("level", "5m", 20, {"q": "timeout", "app": "web"}),
        ("host", "1h", 1, {"topic": "db.#"}),
        ("topic", "10s", 1000, {"qi": "RETRY", "host": "h*"}),
    ]
    for by, interval, top, filt in cases:
        params = dict(filt, since=since, until=until)
        got = stats(server, by=by, interval=interval, top=top, **params)
        iv = {"10s": 10000, "1m": 60000, "5m": 300000, "10m": 600000, "15m": 900000,
              "30m": 1800000, "1h": 3600000}[interval]
        total, totals, buckets = expected(server, by, iv, top, params)
        assert total > 0, (by, filt)
        assert got["by"] == by
        assert got["interval_ms"] == iv
        assert got["since_ms"] == BASE_MS and got["until_ms"] == BASE_MS + 3 * 3600 * 1000
        assert got["total"] == total, (by, filt)
        assert got["totals"] == totals, (by, filt)
        assert got["buckets"] == buckets, (by, filt)
        if by == "level":
            assert set(got["totals"]) <= set(LEVELS)


def test_stats_defaults(server):
    """No interval: at most ~120 buckets, and the answer says which
    interval; no since: from the oldest matching record; no until: now."""
    now_ms = int(time.time() * 1000)
    recs = [{"msg": "old", "app": "a", "ts": now_ms - 2 * 3600 * 1000 - 1234},
            {"msg": "mid", "app": "b", "ts": now_ms - 3600 * 1000},
            {"msg": "new", "app": "a", "ts": now_ms - 60 * 1000},
            {"msg": "future", "app": "a", "ts": now_ms + 3600 * 1000}]
    post(server, recs)
    got = stats(server, by="app")
    assert got["since_ms"] == now_ms - 2 * 3600 * 1000 - 1234
    assert got["until_ms"] >= now_ms
    assert got["total"] == 3  # the future one is after until (now)
    assert got["totals"] == {"a": 2, "b": 1}
    iv = got["interval_ms"]
    assert iv in (60000, 120000)  # the smallest of the steps giving <= 120 buckets
    assert (got["until_ms"] // iv) - (got["since_ms"] // iv) + 1 <= 120
    assert [b["t"] % iv for b in got["buckets"]] == [0, 0, 0]
    assert sum(b["total"] for b in got["buckets"]) == 3
    # a filter moves the start: since is its own oldest record
    got = stats(server, by="app", app="b")
    assert got["since_ms"] == now_ms - 3600 * 1000
    assert got["total"] == 1
    # nothing matching: empty buckets, a zero total
    got = stats(server, by="level", q="no such text")
    assert got["total"] == 0 and got["buckets"] == [] and got["totals"] == {}


def test_stats_refusals(server):
    post(server, [{"msg": "x", "ts": BASE_MS}])
    day = {"since": rfc(BASE_MS), "until": rfc(BASE_MS + 86400 * 1000)}
    bad = [
        ({}, "missing by"),
        ({"by": "pid"}, "bad by"),
        ({"by": "level", "interval": "soon"}, "bad interval"),
        ({"by": "level", "interval": "1s", **day}, "too many buckets"),  # 86,401 buckets
        ({"by": "level", "top": "0"}, "bad top"),
        ({"by": "level", "top": "1001"}, "bad top"),
        ({"by": "level", "limit": "5"}, "unknown parameter 'limit'"),
        ({"by": "level", "since": "yesterday"}, "bad since"),
        ({"by": "level", "level": "loud"}, "level"),
        ({"by": "level", "since": rfc(BASE_MS + 1000), "until": rfc(BASE_MS)}, "since is after"),
    ]
    for params, text in bad:
        r = get(server, "/api/stats", params)
        assert r.status_code == 400, (params, r.text)
        assert text in r.json()["error"], (params, r.text)
    # 10,000 buckets exactly is allowed
    ok = stats(server, by="level", interval="10s", since=rfc(BASE_MS),
               until=rfc(BASE_MS + 9999 * 10000))
    assert ok["total"] == 1 and ok["buckets"] == [{"t": BASE_MS, "total": 1,
                                                    "counts": {"info": 1}}]


def test_stats_after_restart_and_big_store(make_server):
    """Counts over sealed segments (a small --segment-size) read back after
    a restart equal those before it."""
    s = make_server("--segment-size", "65536")
    rng = random.Random(5)
    recs = make_records(rng, BASE_MS, 6000)
    for i in range(0, len(recs), 1000):
        post(s, recs[i:i + 1000])
    params = {"by": "topic", "interval": "5m", "top": 5, "since": rfc(BASE_MS),
              "until": rfc(BASE_MS + 3 * 3600 * 1000)}
    before = stats(s, **params)
    assert before["total"] == 6000
    assert sum(before["totals"].values()) == 6000
    s.stop()
    s.start()
    assert stats(s, **params) == before


def test_stats_from_compressed_blocks(make_server):
    """With --compress zstd the counts of blocks that need no scan come
    from their filters (from_blocks): the answers still equal a count of
    /api/logs' records, filtered or not."""
    s = make_server("--compress", "zstd", "--segment-size", "300K")
    rng = random.Random(8)
    recs = make_records(rng, BASE_MS, 12000)
    recs.sort(key=lambda r: r["ts"])  # in time order, as most logs come
    for i in range(0, len(recs), 2000):
        post(s, recs[i:i + 2000])
    deadline = time.time() + 60
    while time.time() < deadline:  # bounded: until the sealed segments are compressed
        m = s.metrics()
        if m.get("logship_store_compressed_segments_total", 0) >= 2:
            break
        time.sleep(0.2)
    since, until = rfc(BASE_MS), rfc(BASE_MS + 3 * 3600 * 1000)
    used = 0
    for by, interval, top, filt in [("level", "1h", 20, {}), ("app", "1h", 20, {}),
                                    ("topic", "30m", 3, {}), ("host", "1h", 20, {}),
                                    ("level", "1h", 20, {"level": "warning"}),
                                    ("app", "10m", 20, {"q": "timeout"})]:
        params = dict(filt, since=since, until=until)
        got = stats(s, by=by, interval=interval, top=top, **params)
        iv = {"10m": 600000, "30m": 1800000, "1h": 3600000}[interval]
        total, totals, buckets = expected(s, by, iv, top, params)
        assert (got["total"], got["totals"], got["buckets"]) == (total, totals, buckets), (by, filt)
        used += got["from_blocks"]
        if "q" in filt:
            assert got["from_blocks"] == 0  # a text filter needs the records
    assert used > 0
