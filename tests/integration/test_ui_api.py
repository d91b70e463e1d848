"""The server side of the web UI: GET / for browsers and for API clients,
the embedded assets and their headers, and /api/logs?before= (the history
view's "load older" paging) across several segment files."""
import json

import requests


def ndjson(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def post(server, records):
    st, body = server.post("/api/log", ndjson(records), "application/x-ndjson")
    assert st == 200, body
    return body


def msgs(server, **params):
    return [r["msg"] for r in server.logs(**params)]


def test_before_pages_backward_without_gap_or_overlap(make_server):
    # small segments: the backward scan crosses many files and index blocks
    s = make_server("--segment-size", "64K")
    for i in range(0, 3000, 500):
        post(s, [{"msg": f"r{j}", "topic": ["a.x", "b.y"][j % 2], "pad": "x" * 80}
                 for j in range(i, i + 500)])
    assert int(s.metrics()["logship_store_segments"]) > 3

    # the newest page, then older pages from the oldest seq seen
    page = s.logs(order="desc", limit=400)
    seen = [r["seq"] for r in page]
    while True:
        older = s.logs(order="desc", limit=400, before=seen[-1])
        if not older:
            break
        assert older[0]["seq"] < seen[-1]
        seen += [r["seq"] for r in older]
    assert seen == list(range(3000, 0, -1))

    # with the other filters, and in the default order (newest N below it,
    # oldest first)
    assert msgs(s, topic="a.#", before=11, order="desc") == ["r8", "r6", "r4", "r2", "r0"]
    assert msgs(s, topic="b.#", before=2001, limit=3) == ["r1995", "r1997", "r1999"]
    assert msgs(s, before=4) == ["r0", "r1", "r2"]
    # fewer than limit below it: the answer stops at the bound
    assert msgs(s, before=3, limit=1000) == ["r0", "r1"]
    assert msgs(s, after=5, before=9) == ["r5", "r6", "r7"]
    assert msgs(s, after=5, before=9, order="desc") == ["r7", "r6", "r5"]
    assert s.logs(before=1) == []
    assert s.logs(after=10, before=11) == []


def test_before_with_time_bounds(make_server):
    s = make_server()
    base = 1_700_000_000_000_000_000
    post(s, [{"msg": f"t{i}", "ts": base + i * 1_000_000_000} for i in range(10)])
    got = msgs(s, since=str(base + 2_000_000_000), before=8, order="desc", limit=3)
    assert got == ["t6", "t5", "t4"]
    # t<i> is seq i+1: before=4 leaves t0..t2, since= leaves t2
    got = msgs(s, since=str(base + 2_000_000_000), until=str(base + 4_000_000_000), before=8,
               order="desc")
    assert got == ["t4", "t3", "t2"]
    assert msgs(s, since=str(base + 2_000_000_000), before=4) == ["t2"]


def test_bad_before_is_400(server):
    for v in ("0", "", "x", "-1", "18446744073709551616"):
        r = requests.get(server.url + "/api/logs", params={"before": v}, timeout=10)
        assert r.status_code == 400, v
        assert "before" in r.json()["error"]


def test_tail_refuses_before(server):
    # a live tail starts now or after a seq; before= would silently stop it
    r = requests.get(server.url + "/api/tail?before=5",
                     headers={"Accept": "text/event-stream"}, timeout=10)
    assert r.status_code == 400
    assert "before" in r.json()["error"]


def test_index_for_browsers_and_for_curl(server):
    # curl and API clients: the JSON index
    r = requests.get(server.url + "/", headers={"Accept": "*/*"}, timeout=10)
    assert r.headers["Content-Type"] == "application/json"
    assert "GET /api/logs" in r.json()["endpoints"]
    assert r.headers["Vary"] == "Accept"
    r = requests.get(server.url + "/", headers={"Accept": "application/json"}, timeout=10)
    assert r.json()["service"] == "logshipd"

    # a browser: the page, locked down
    r = requests.get(server.url + "/", timeout=10,
                     headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = r.headers["Content-Security-Policy"]
    # connect-src 'self' covers ws:// and wss:// to this host, and no other
    assert csp == ("default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                   "style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; "
                   "frame-ancestors 'none'")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-cache"
    assert "<title>logship</title>" in r.text
    # revalidation: 304 with no body, and the connection stays usable
    with requests.Session() as sess:
        etag = r.headers["ETag"]
        r2 = sess.get(server.url + "/ui/app.js", timeout=10)
        assert r2.status_code == 200 and "/api/tail" in r2.text
        r3 = sess.get(server.url + "/ui/app.js", headers={"If-None-Match": r2.headers["ETag"]},
                      timeout=10)
        assert r3.status_code == 304 and r3.content == b""
        r4 = sess.get(server.url + "/", headers={"Accept": "text/html", "If-None-Match": etag},
                      timeout=10)
        assert r4.status_code == 304
        assert sess.get(server.url + "/healthz", timeout=10).json()["status"] == "ok"


def test_ui_assets(server):
    types = {"app.js": "text/javascript", "ansi.js": "text/javascript",
             "loglist.js": "text/javascript", "chart.js": "text/javascript", "app.css": "text/css",
             "favicon.svg": "image/svg+xml", "index.html": "text/html"}
    for name, ctype in types.items():
        r = requests.get(f"{server.url}/ui/{name}", timeout=10)
        assert r.status_code == 200, name
        assert r.headers["Content-Type"].startswith(ctype), name
        assert r.headers["ETag"].startswith('"')
    for bad in ("/ui/", "/ui/nope.js", "/ui/app.js/x", "/ui/APP.JS", "/ui/ui_assets.c"):
        r = requests.get(server.url + bad, timeout=10)
        assert r.status_code in (403, 404), bad
    r = requests.post(server.url + "/ui/app.js", data="x", timeout=10)
    assert r.status_code == 405
