"""Filters everywhere, through the real binaries: app=, host=, field.NAME=
and qi= on /api/logs, on /api/tail over SSE and WebSocket (backlog and
live), the hint for a topic pattern without a wildcard, and the CLI's
--app, --host, --field and -i flags."""
import asyncio
import json
import os
import queue
import subprocess
import threading
import time

import requests
import websockets

from conftest import LOGSHIPD

LOGSHIP = os.path.join(os.path.dirname(LOGSHIPD), "logship")

RECORDS = [
    {"msg": "GET /index 200", "app": "web", "host": "web-1", "topic": "web.access",
     "status": 200, "user": {"id": 42, "name": "ann"}},
    {"msg": "Connection TIMEOUT to db", "app": "web", "host": "web-12", "topic": "web.error",
     "status": 504, "user": {"id": 7, "name": "bob"}, "retry": True},
    {"msg": "slow query", "app": "db", "host": "db-1", "topic": "db.slow",
     "status": "500", "tags": ["eu", "prod"], "path": "C:\\data\\db"},
    {"msg": "checkpoint done", "app": "db-backup", "host": "db-2", "topic": "db.info",
     "note": "line one\nline \"two\""},
    {"msg": "timeout in payment", "app": "billing", "host": "pay.eu.lan", "topic": "billing",
     "status": 404, "user.id": 42},
]

# parameters -> the msgs of RECORDS that pass, in order
CASES = [
    ("app=web", ["GET /index 200", "Connection TIMEOUT to db"]),
    ("app=db", ["slow query"]),  # exact: not db-backup
    ("app=db*", ["slow query", "checkpoint done"]),
    ("app=web&app=billing", ["GET /index 200", "Connection TIMEOUT to db",
                             "timeout in payment"]),
    ("app=*bill*", ["timeout in payment"]),
    ("host=web-*", ["GET /index 200", "Connection TIMEOUT to db"]),
    ("host=web-%3F", ["GET /index 200"]),  # '?' is one character
    ("host=*.lan&host=db-2", ["checkpoint done", "timeout in payment"]),
    ("app=web&host=web-1%3F", ["Connection TIMEOUT to db"]),  # both must hold
    ("field.status=500", ["slow query"]),  # a string of that text
    ("field.status=50*", ["Connection TIMEOUT to db", "slow query"]),
    ("field.status=200&field.status=404", ["GET /index 200", "timeout in payment"]),
    ("field.status=5*&field.user.id=7", ["Connection TIMEOUT to db"]),
    ("field.user.id=42", ["GET /index 200", "timeout in payment"]),  # nested or flat
    ("field.user.name=%3F%3F%3F", ["GET /index 200", "Connection TIMEOUT to db"]),
    ("field.retry=true", ["Connection TIMEOUT to db"]),
    ("field.tags=*%22prod%22*", ["slow query"]),  # an array by its JSON text
    ("field.path=C:%5Cdata%5Cdb", ["slow query"]),  # a backslash is itself
    ("field.note=*%22two%22", ["checkpoint done"]),  # escaped in the JSON, matched decoded
    ("field.note=line%20one%0A*", ["checkpoint done"]),
    ("field.missing=*", []),
    ("qi=timeout", ["Connection TIMEOUT to db", "timeout in payment"]),
    ("q=timeout", ["timeout in payment"]),
    ("qi=TIMEOUT&app=web", ["Connection TIMEOUT to db"]),
    ("qi=get%20%2Findex", ["GET /index 200"]),
]


def ndjson(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def post(server, records):
    r = requests.post(server.url + "/api/log", data=ndjson(records),
                      headers={"Content-Type": "application/x-ndjson"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def logs(server, qs):
    r = requests.get(server.url + "/api/logs?" + qs, timeout=30)
    assert r.status_code == 200, r.text
    return r


def msgs(records):
    return [r["msg"] for r in records]


def ws_url(server, qs):
    return f"ws://127.0.0.1:{server.port}/api/tail?{qs}"


async def ws_collect(ws, n, timeout=20):
    """n records from ws; control messages go to the second list."""
    got, control = [], []
    deadline = time.time() + timeout
    while len(got) < n:
        data = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time())))
        if isinstance(data, list):
            got.extend(data)
        else:
            control.append(data)
    return got, control


class SSE:
    """GET /api/tail as Server-Sent Events, read event by event."""

    def __init__(self, server, qs):
        self.r = requests.get(server.url + "/api/tail?" + qs, stream=True, timeout=20,
                              headers={"Accept": "text/event-stream"})
        assert self.r.status_code == 200, self.r.text
        self.lines = self.r.iter_lines(chunk_size=1, decode_unicode=True)

    def event(self):
        ev = {}
        for line in self.lines:
            if not line:
                if ev:
                    return ev
                continue
            if line.startswith(":"):
                continue  # keepalive
            k, _, v = line.partition(": ")
            ev[k] = v
        raise AssertionError("stream ended")

    def records(self, n):
        got, control = [], []
        while len(got) < n:
            ev = self.event()
            data = json.loads(ev["data"])
            (got.extend if ev["event"] == "records" else control.append)(data)
        return got, control

    def close(self):
        self.r.close()


# ---- /api/logs -------------------------------------------------------------------

def test_logs_each_parameter(server):
    post(server, RECORDS)
    for qs, want in CASES:
        assert msgs(logs(server, qs).json()) == want, qs
        # the same through NDJSON and newest first
        r = requests.get(server.url + "/api/logs?order=desc&" + qs, timeout=30,
                         headers={"Accept": "application/x-ndjson"})
        assert [json.loads(x)["msg"] for x in r.text.splitlines()] == want[::-1], qs


def test_logs_bad_parameters_are_clear_400s(server):
    post(server, RECORDS[:1])
    for qs, needle in [
        ("bogus=1", "unknown parameter 'bogus' (use topic, app, host, field.NAME, level, q, qi,"),
        ("fields.status=1", "unknown parameter 'fields.status'"),
        ("field=1", "unknown parameter 'field'"),
        ("field.=1", "field.NAME=VALUE"),
        ("app=" + "x" * 256, "at most 255 bytes"),
        ("host=%FF", "not valid UTF-8"),
        ("field.status=" + "5" * 256, "at most 255 bytes"),
        ("field." + "n" * 256 + "=1", "at most 255 bytes"),
        ("&".join(["app=a"] * 17), "too many app patterns (at most 16)"),
        ("&".join(["host=a"] * 17), "too many host patterns (at most 16)"),
        ("&".join([f"field.k{i}=1" for i in range(17)]), "too many field conditions"),
    ]:
        r = requests.get(server.url + "/api/logs?" + qs, timeout=30)
        assert r.status_code == 400, qs
        assert needle in r.json()["error"], (qs, r.json())


def test_logs_hint_for_a_topic_without_wildcard(server):
    post(server, RECORDS)
    hint = "topic 'web' has no wildcard: did you mean 'web.#'?"
    r = logs(server, "topic=web")
    assert r.json() == [] and r.headers["Logship-Hint"] == hint
    # NDJSON too; and the other conditions are kept: nothing with app=db
    r = requests.get(server.url + "/api/logs?topic=web", timeout=30,
                     headers={"Accept": "application/x-ndjson"})
    assert r.text == "" and r.headers["Logship-Hint"] == hint
    assert "Logship-Hint" not in logs(server, "topic=web&app=db").headers
    assert "Logship-Hint" not in logs(server, "topic=web&level=crit").headers
    # two patterns missing it; one with a wildcard that matched nothing
    r = logs(server, "topic=web&topic=db&topic=kern.*")
    assert r.json() == []
    assert r.headers["Logship-Hint"] == (hint + "; topic 'db' has no wildcard: did you mean "
                                         "'db.#'?")
    # no hint when something matched, when a wildcard was used, or when
    # P.# finds nothing either
    assert "Logship-Hint" not in logs(server, "topic=billing").headers  # exact match exists
    assert "Logship-Hint" not in logs(server, "topic=web&topic=billing").headers
    assert "Logship-Hint" not in logs(server, "topic=web.%23").headers
    assert "Logship-Hint" not in logs(server, "topic=kern").headers
    assert "Logship-Hint" not in logs(server, "topic=web&after=5").headers  # none after 5
    assert "Logship-Hint" not in logs(server, "topic=web&before=1").headers
    # the bounded look covers what the query's bounds allow
    assert logs(server, "topic=web&after=1").headers["Logship-Hint"] == hint
    assert logs(server, "topic=web&before=2&order=desc").headers["Logship-Hint"] == hint


# ---- /api/tail ------------------------------------------------------------------------

def test_tail_ws_each_parameter_backlog_and_live(server):
    post(server, RECORDS)

    async def run():
        for qs, want in CASES:
            if not want or "%0A" in qs:
                continue  # lws drops a WebSocket upgrade whose URL holds %0A
            # n=len(want): every post adds RECORDS again, so the newest
            # matches are the last post's
            async with websockets.connect(ws_url(server, f"n={len(want)}&" + qs)) as ws:
                got, control = await ws_collect(ws, len(want))
                assert msgs(got) == want and not control, (qs, control)
                post(server, RECORDS)  # live: the same records pass the same way
                got, _ = await ws_collect(ws, len(want))
                assert msgs(got) == want, qs
    asyncio.run(run())


def test_tail_sse_each_parameter_backlog_and_live(server):
    post(server, RECORDS)
    for qs, want in CASES:
        if not want:
            continue
        sse = SSE(server, f"n={len(want)}&" + qs)
        got, control = sse.records(len(want))
        assert msgs(got) == want and not control, qs
        post(server, RECORDS)
        got, _ = sse.records(len(want))
        assert msgs(got) == want, qs
        sse.close()


def test_tail_bad_parameters(server):
    r = requests.get(server.url + "/api/tail?bogus=1", headers={"Accept": "text/event-stream"},
                     timeout=10)
    assert r.status_code == 400
    assert r.json()["error"] == ("unknown parameter 'bogus' (use topic, app, host, field.NAME, "
                                 "level, q, qi, word, re, not.topic, not.app, not.host, "
                                 "not.field.NAME, not.level, n, after)")
    r = requests.get(server.url + "/api/tail?field.=1", headers={"Accept": "text/event-stream"},
                     timeout=10)
    assert r.status_code == 400 and "field.NAME=VALUE" in r.json()["error"]

    async def run():
        async with websockets.connect(ws_url(server, "app=" + "x" * 300)) as ws:
            err = json.loads(await ws.recv())
            assert err["type"] == "error" and err["status"] == 400
            assert "at most 255 bytes" in err["error"]
    asyncio.run(run())


def test_tail_subscribers_with_different_filters_do_not_share(server):
    """Equal filters share rendered messages; filters that differ only in
    app, host, a field, qi, q, re or word must not."""
    want = {
        "": ["Timeout a", "timeout b", "c"],
        "&app=web": ["Timeout a"],
        "&app=w*": ["Timeout a", "timeout b"],
        "&host=web-1": ["Timeout a"],
        "&host=web-%3F": ["Timeout a", "timeout b"],
        "&field.status=504": ["Timeout a", "c"],
        "&qi=TIMEOUT": ["Timeout a", "timeout b"],
        "&q=timeout": ["timeout b"],
        "&re=%5BTt%5Dimeout": ["Timeout a", "timeout b"],
        "&re=%5E(t%7Cend)": ["timeout b"],
        "&word=timeout": ["Timeout a", "timeout b"],
    }
    records = [{"msg": "Timeout a", "app": "web", "host": "web-1", "topic": "web.a",
                "status": 504},
               {"msg": "timeout b", "app": "wx", "host": "web-2", "topic": "web.b",
                "status": 200},
               {"msg": "c", "app": "db", "host": "web-12", "topic": "web.c", "status": 504}]
    end = {"msg": "end timeout", "app": "web", "host": "web-1", "topic": "web.end",
           "status": 504}  # passes every one of them

    async def run():
        socks = {v: [await websockets.connect(ws_url(server, "n=0&topic=web.%23" + v))
                     for _ in range(2)] for v in want}
        time.sleep(0.3)
        post(server, records + [end])
        for v, pair in socks.items():
            for ws in pair:
                got = []
                while not got or got[-1] != "end timeout":
                    data = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    got.extend(r["msg"] for r in data)
                assert got[:-1] == want[v], v
                await ws.close()
    asyncio.run(run())


def test_tail_hint_ws_and_sse(server):
    post(server, RECORDS)
    hint = "topic 'web' has no wildcard: did you mean 'web.#'?"

    sse = SSE(server, "topic=web&topic=db")
    ev = sse.event()
    assert ev["event"] == "hint" and "id" not in ev
    assert json.loads(ev["data"]) == {
        "type": "hint",
        "hint": hint + "; topic 'db' has no wildcard: did you mean 'db.#'?"}
    sse.close()

    async def run():
        # no hint: P.# finds nothing either, a wildcard, a match in the
        # backlog, no backlog asked
        for qs, marker in [("topic=kern&n=5", "kern"), ("topic=web.%23&app=nope", "web.m"),
                           ("topic=billing", "billing"), ("topic=web&n=0", "web")]:
            async with websockets.connect(ws_url(server, qs)) as ws:
                post(server, [{"msg": "marker", "topic": marker, "app": "nope"}])
                data = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert isinstance(data, list) and data, (qs, data)
        async with websockets.connect(ws_url(server, "topic=web&app=web")) as ws:
            assert json.loads(await ws.recv()) == {"type": "hint", "hint": hint}
            # then the tail goes on as asked: topic web alone, live
            post(server, [{"msg": "exact", "topic": "web", "app": "web"},
                          {"msg": "not", "topic": "web.x", "app": "web"}])
            got, control = await ws_collect(ws, 1)
            assert msgs(got) == ["exact"] and not control
    asyncio.run(run())


def test_tail_hint_when_the_backlog_is_read_from_disk(make_server):
    """A backlog the memory window cannot answer is a disk scan on the
    thread pool; an empty one still gets its hint."""
    server = make_server("--memory-records", "100")
    post(server, [{"msg": f"r{i}", "topic": "web.api"} for i in range(500)])
    post(server, [{"msg": "q", "topic": "other"}])

    async def run():
        async with websockets.connect(ws_url(server, "topic=web&n=10")) as ws:
            data = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert data == {"type": "hint",
                            "hint": "topic 'web' has no wildcard: did you mean 'web.#'?"}
    asyncio.run(run())


# ---- the CLI -------------------------------------------------------------------------------

def env_for():
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "LOGSHIP_SERVER", "TERM")}
    env["TZ"] = "UTC"
    return env


def cli(*args, timeout=60):
    return subprocess.run([LOGSHIP, *args], capture_output=True, timeout=timeout, env=env_for())


CLI_CASES = [
    (["--app", "web"], ["GET /index 200", "Connection TIMEOUT to db"]),
    (["--app", "db*", "--app", "billing"], ["slow query", "checkpoint done",
                                            "timeout in payment"]),
    (["--host", "web-?"], ["GET /index 200"]),
    (["--host", "*.lan"], ["timeout in payment"]),
    (["--field", "status=50*"], ["Connection TIMEOUT to db", "slow query"]),
    (["--field", "user.id=42", "--field", "status=404"], ["timeout in payment"]),
    (["--field", "note=line one\nline \"two\""], ["checkpoint done"]),
    (["--grep", "TIMEOUT"], ["Connection TIMEOUT to db"]),
    (["--grep", "TIMEOUT", "-i"], ["Connection TIMEOUT to db", "timeout in payment"]),
    (["--ignore-case", "--grep", "Timeout", "--app", "billing"], ["timeout in payment"]),
]


def test_cli_query_flags(server):
    post(server, RECORDS)
    for args, want in CLI_CASES:
        r = cli("query", "--server", server.url, "--json", *args)
        assert r.returncode == 0, (args, r.stderr)
        assert [json.loads(x)["msg"] for x in r.stdout.decode().splitlines()] == want, args
        assert r.stderr == b""


def test_cli_query_hint_and_errors(server):
    post(server, RECORDS)
    r = cli("query", "--server", server.url, "--topic", "web")
    assert r.returncode == 0 and r.stdout == b""
    assert r.stderr.decode() == ("logship: hint: topic 'web' has no wildcard: did you mean "
                                 "'web.#'?\n")
    r = cli("query", "--server", server.url, "--topic", "web.#")
    assert r.returncode == 0 and r.stderr == b"" and len(r.stdout.splitlines()) == 2
    for args, needle in [(["-i"], "-i/--ignore-case applies to --grep"),
                         (["--field", "status"], "--field takes NAME=VALUE"),
                         (["--field", "=1"], "--field takes NAME=VALUE"),
                         (["--app"], "option '--app' needs a value")]:
        r = cli("query", "--server", server.url, *args)
        assert r.returncode == 2 and needle in r.stderr.decode(), (args, r.stderr)
    # the server's refusal is passed on
    r = cli("query", "--server", server.url, "--host", "h" * 300)
    assert r.returncode == 2 and "at most 255 bytes" in r.stderr.decode()
    r = cli("query", "--help")
    for flag in ("--app A", "--host H", "--field NAME=VALUE", "-i, --ignore-case"):
        assert flag in r.stdout.decode()


class CliTail:
    """`logship tail --json ARGS`, its stdout read by a thread."""

    def __init__(self, server, *args):
        self.p = subprocess.Popen([LOGSHIP, "tail", "--server", server.url, "--json", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for())
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._pump, daemon=True)
        self.t.start()

    def _pump(self):
        for line in self.p.stdout:
            self.q.put(line)
        self.q.put(None)

    def records(self, n, timeout=20):
        out = []
        deadline = time.time() + timeout
        while len(out) < n:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                line = None
            assert line, f"got {out}; rc={self.p.poll()}"
            out.append(json.loads(line))
        return out

    def stop(self):
        self.p.terminate()
        err = self.p.stderr.read()
        assert self.p.wait(10) == 0, err
        self.t.join(5)
        return err.decode()


def wait_subscribers(server, n, timeout=20):
    deadline = time.time() + timeout
    while server.metrics().get("logship_tail_subscribers") != n:
        assert time.time() < deadline, "the tail never subscribed"
        time.sleep(0.02)


def test_cli_tail_flags(server):
    post(server, RECORDS)
    for args, want in CLI_CASES:
        if any("\n" in a for a in args):
            continue  # lws drops a WebSocket upgrade whose URL holds %0A
        t = CliTail(server, "-n", str(len(want)), *args)
        assert msgs(t.records(len(want))) == want, args
        post(server, RECORDS)
        assert msgs(t.records(len(want))) == want, args
        err = t.stop()
        assert "hint" not in err


def test_cli_tail_hint_and_errors(server):
    post(server, RECORDS)
    t = CliTail(server, "--topic", "web")
    wait_subscribers(server, 1)
    post(server, [{"msg": "exact", "topic": "web"}])
    assert msgs(t.records(1)) == ["exact"]
    err = t.stop()
    assert err == "logship: hint: topic 'web' has no wildcard: did you mean 'web.#'?\n"
    for args, needle in [(["-i"], "-i/--ignore-case applies to --grep"),
                         (["--field", "x"], "--field takes NAME=VALUE"),
                         (["--file", "r/a.log", "--app", "x"], "not with --file")]:
        r = cli("tail", "--server", server.url, *args)
        assert r.returncode == 2 and needle in r.stderr.decode(), (args, r.stderr)
    r = cli("tail", "--server", server.url, "--field", "a.b.c.d=1", "--app", "x" * 300)
    assert r.returncode == 2 and "at most 255 bytes" in r.stderr.decode()
    assert "--field NAME=VALUE" in cli("tail", "--help").stdout.decode()


def test_tail_re_is_refused_clearly_when_bad(server):
    """A pattern that does not compile is a 400 naming where, on SSE and on
    the WebSocket (an error message, then the close); re twice too."""
    r = requests.get(f"{server.url}/api/tail?re=a(b", headers={"Accept": "text/event-stream"},
                     timeout=10)
    assert r.status_code == 400 and "bad re" in r.json()["error"], r.text
    r = requests.get(f"{server.url}/api/tail?re=a&re=b",
                     headers={"Accept": "text/event-stream"}, timeout=10)
    assert r.status_code == 400 and "re given twice" in r.json()["error"], r.text

    async def run():
        async with websockets.connect(ws_url(server, "re=%5B")) as ws:
            err = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert err["type"] == "error" and err["status"] == 400, err
            assert "bad re" in err["error"], err
    asyncio.run(run())
