"""/api/logs in time order (sort=ts, ts_before/ts_after paging), exclusion
filters (not.topic, not.app, not.host, not.level) on /api/logs and
/api/tail alike, and downloads (format=ndjson|csv with a
Content-Disposition, limit=all past the page limit), through the real
logshipd."""
import csv
import io
import json
import time

import requests
import websockets
import asyncio

T0 = 1764684000  # 2025-12-02T14:00:00Z


def post(server, records):
    body = "".join(json.dumps(r) + "\n" for r in records)
    r = requests.post(server.url + "/api/log", data=body,
                      headers={"Content-Type": "application/x-ndjson"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def get(server, qs, **kw):
    return requests.get(server.url + "/api/logs?" + qs, timeout=60, **kw)


def ns_of(ts):
    """RFC 3339 with 9 digits -> ns since the epoch."""
    whole, frac = ts[:-1].split(".")
    sec = int(time.mktime(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))) - time.timezone
    return sec * 10**9 + int(frac)


def test_sort_ts_orders_late_records_by_time(server):
    # sent in this order: a backfill of old records arrives last
    late = [{"msg": f"late {i}", "ts": T0 + i, "app": "back"} for i in range(5)]
    fresh = [{"msg": f"fresh {i}", "ts": T0 + 100 + i, "app": "front"} for i in range(5)]
    same = [{"msg": f"same {i}", "ts": T0 + 50, "app": "tie"} for i in range(3)]
    post(server, fresh)
    post(server, same)
    post(server, late)
    arrival = [r["msg"] for r in get(server, "limit=100").json()]
    assert arrival[0] == "fresh 0" and arrival[-1] == "late 4"
    by_time = get(server, "sort=ts&limit=100").json()
    assert [r["msg"] for r in by_time] == ([f"late {i}" for i in range(5)] +
                                           [f"same {i}" for i in range(3)] +
                                           [f"fresh {i}" for i in range(5)])
    keys = [(ns_of(r["ts"]), r["seq"]) for r in by_time]
    assert keys == sorted(keys)
    # newest first, a limit keeps the newest by time
    desc = get(server, "sort=ts&order=desc&limit=4").json()
    assert [r["msg"] for r in desc] == ["fresh 4", "fresh 3", "fresh 2", "fresh 1"]
    # since= reads forward from there, in time order
    assert [r["msg"] for r in get(server, f"sort=ts&since={T0 + 3}&limit=3").json()] == \
        ["late 3", "late 4", "same 0"]
    # paging back by position: the ties are split without gap or repeat
    pages, qs = [], "sort=ts&order=desc&limit=2"
    for _ in range(20):
        page = get(server, qs).json()
        pages += page
        if len(page) < 2:
            break
        last = page[-1]
        qs = f"sort=ts&order=desc&limit=2&ts_before={ns_of(last['ts'])},{last['seq']}"
    assert [r["msg"] for r in pages] == [r["msg"] for r in reversed(by_time)]
    # with a filter, and as NDJSON
    r = get(server, "sort=ts&app=back&app=tie", headers={"Accept": "application/x-ndjson"})
    assert [json.loads(x)["msg"] for x in r.text.splitlines()] == \
        [f"late {i}" for i in range(5)] + [f"same {i}" for i in range(3)]


def test_sort_ts_refusals(server):
    for qs, needle in [("sort=time", "bad sort"),
                       ("sort=ts&limit=all", "limit=all is for sort=seq"),
                       ("ts_before=1,2", "add sort=ts"),
                       ("sort=ts&ts_after=x", "bad ts_after"),
                       ("format=xml", "bad format")]:
        r = get(server, qs)
        assert r.status_code == 400, qs
        assert needle in r.json()["error"], (qs, r.text)


RECS = [
    {"msg": "a", "app": "web", "host": "h1", "topic": "web.access", "level": "info", "n": 0},
    {"msg": "b", "app": "web", "host": "h2", "topic": "web.error", "level": "error", "n": 1},
    {"msg": "c", "app": "db", "host": "h1", "topic": "db.slow", "level": "warning", "n": 2},
    {"msg": "d", "app": "api", "topic": "api.debug", "level": "debug"},
]


def test_exclusions_on_logs(server):
    post(server, RECS)
    for qs, want in [("not.app=web", ["c", "d"]),
                     ("not.app=web&not.app=db", ["d"]),
                     ("not.host=h1", ["b", "d"]),
                     ("not.host=127.0.0.1", ["a", "b", "c"]),  # no host given: the sender's address
                     ("not.topic=web.%23", ["c", "d"]),
                     ("not.level=info,debug", ["b", "c"]),
                     ("not.level=error&not.level=warning", ["a", "d"]),
                     ("app=web&not.host=h2", ["a"]),
                     ("not.level=emerg,alert,crit,error,warning,notice,info", ["d"]),
                     ("not.field.n=1", ["a", "c", "d"]),  # b has n=1; a record without n passes
                     ("not.field.n=*", ["d"])]:
        r = get(server, qs)
        assert r.status_code == 200, (qs, r.text)
        assert [x["msg"] for x in r.json()] == want, qs
    r = get(server, "not.level=loud")
    assert r.status_code == 400 and "bad not.level" in r.json()["error"]
    r = get(server, "not.topic=a..b")
    assert r.status_code == 400


def test_exclusions_on_tail(server):
    post(server, RECS)

    async def go():
        url = f"ws://127.0.0.1:{server.port}/api/tail?n=10&not.app=web&not.level=debug"
        async with websockets.connect(url) as ws:
            got = []
            while len(got) < 1:
                data = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if isinstance(data, list):
                    got += data
            assert [r["msg"] for r in got] == ["c"]
            post(server, [{"msg": "e", "app": "web"}, {"msg": "f", "app": "db", "level": "debug"},
                          {"msg": "g", "app": "db"}])
            while len(got) < 2:
                data = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if isinstance(data, list):
                    got += data
            assert [r["msg"] for r in got] == ["c", "g"]
    asyncio.run(go())


def test_download_csv_and_ndjson_every_record(server):
    n = 2500  # past the default limit of 1000
    for i in range(0, n, 500):
        post(server, [{"msg": f'row {j}, "quoted"\nsecond line', "app": "exp", "k": j}
                      for j in range(i, i + 500)])
    post(server, [{"msg": "=1+1", "app": "exp"}])
    all_ = get(server, "app=exp&limit=all").json()
    assert len(all_) == n + 1
    assert len(get(server, "app=exp").json()) == 1000

    r = get(server, "app=exp&limit=all&format=ndjson")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/x-ndjson"
    assert r.headers["Content-Disposition"] == 'attachment; filename="logship.ndjson"'
    assert [json.loads(x) for x in r.text.splitlines()] == all_

    r = get(server, "app=exp&limit=all&format=csv")
    assert r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Content-Disposition"] == 'attachment; filename="logship.csv"'
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == ["seq", "ts", "level", "topic", "host", "app", "pid", "msg", "fields"]
    assert len(rows) == n + 2
    for row, rec in zip(rows[1:], all_):
        assert int(row[0]) == rec["seq"]
        assert row[1] == rec["ts"] and row[2] == rec["level"] and row[3] == rec["topic"]
        assert row[5] == "exp"
        if rec["msg"].startswith("="):
            assert row[7] == "'" + rec["msg"]  # not a formula in a spreadsheet
        else:
            assert row[7] == rec["msg"]
            assert json.loads(row[8]) == rec["fields"]
    # the same filters, time order, a download of JSON
    r = get(server, "app=exp&sort=ts&limit=3&format=json")
    assert r.headers["Content-Disposition"] == 'attachment; filename="logship.json"'
    assert len(r.json()) == 3
    # without format=, no download header
    assert "Content-Disposition" not in get(server, "app=exp&limit=1").headers
