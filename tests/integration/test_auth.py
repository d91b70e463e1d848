"""Tokens with scopes and topics (--auth-file, server/access.h): the scope
matrix over routes.c's own route table, a reader and a writer limited to
web.# (query, WebSocket with python3-websockets and node's ws, SSE, hints,
errors), Basic auth from Python's stock HTTPHandler, tickets, SIGHUP
reloads, refusals in /metrics, tokens never in the log, and the secure
defaults (non-loopback listeners, --allow on syslog and raw TCP)."""
import asyncio
import base64
import http.client
import json
import logging
import logging.handlers
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import websockets

from conftest import LOGSHIPD, ROOT, Server

NODE_DIR = os.path.join(ROOT, "tests", "integration", "node")

# one token per scope, one with every scope, one reader and one writer
# limited to web.#; every token is at least 16 characters
TOKENS = {
    "w": ("tok-write-0000000001", "write", None),
    "r": ("tok-read-00000000002", "read", None),
    "t": ("tok-tail-00000000003", "tail", None),
    "f": ("tok-files-0000000004", "files", None),
    "a": ("tok-admin-0000000005", "admin", None),
    "all": ("tok-all-000000000006", "write,read,tail,files,admin", None),
    "rweb": ("tok-rweb-00000000007", "read,tail", "web.#"),
    "wweb": ("tok-wweb-00000000008", "write", "web.#"),
    "lim": ("tok-lim-000000000009", "write,read,tail", "web.#"),
}
WRONG = "tok-wrong-000000000X"


def auth_file(path, tokens):
    lines = ["# test tokens"]
    for name, (tok, scopes, topics) in tokens.items():
        lines.append(" ".join(x for x in (name, tok, scopes, topics) if x))
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return str(path)


def bearer(name):
    return {"Authorization": "Bearer " + TOKENS[name][0]}


def request(server, method, target, headers=None, body=None, timeout=30):
    """(status, headers, body) on a fresh connection."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        c.close()


def post_ndjson(server, records, who="all"):
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    st, _, data = request(server, "POST", "/api/log",
                          {"Content-Type": "application/x-ndjson", **bearer(who)}, body)
    return st, json.loads(data)


def query(server, who, **params):
    qs = urllib.parse.urlencode(params, doseq=True)
    st, hdrs, data = request(server, "GET", "/api/logs?" + qs, bearer(who))
    assert st == 200, data
    return json.loads(data), dict((k.lower(), v) for k, v in hdrs)


def ticket(server, who, scope=None):
    target = "/api/session" + (f"?scope={scope}" if scope else "")
    st, _, data = request(server, "POST", target, bearer(who))
    assert st == 200, data
    return json.loads(data)


# ---- one server for most of the module, its log checked at the end -------------

SEEN_SECRETS = set()  # every token and ticket used: none may be in the log


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("auth")
    root = d / "files"
    root.mkdir()
    (root / "a.log").write_text("line one\nline two\n")
    path = auth_file(d / "tokens", TOKENS)
    s = Server(d / "data", ["--auth-file", path, "--tail-root", str(root),
                            "--log-level", "debug"]).start()
    seed = [{"msg": f"seed {t}", "topic": t} for t in
            ("web.a", "db.x", "web.b", "auth.y", "web.c.d", "db.z")]
    st, rep = post_ndjson(s, seed)
    assert st == 200 and rep["accepted"] == 6, rep
    for tok, _, _ in TOKENS.values():
        SEEN_SECRETS.add(tok)
    yield {"server": s, "dir": d, "root": root, "auth": path}
    rc = s.stop()
    assert rc == 0, s.log_text()
    log = s.log_text()
    leaked = [x for x in SEEN_SECRETS if x in log]
    assert not leaked, f"secrets in the log: {leaked}"


# ---- the scope matrix, over routes.c's table -----------------------------------

def route_table():
    """(methods, path, scope, tickets) of each entry of routes.c's routes[]."""
    src = open(os.path.join(ROOT, "src", "server", "routes.c")).read()
    body = src.split("static const http_route_t routes[] = {", 1)[1].split("\n};", 1)[0]
    out = []
    for e in re.findall(r"\{([^{}]*)\}", body):
        path = re.search(r'\.path = "([^"]*)"', e).group(1)
        scope = re.search(r"\.scope = (AUTH_\w+)", e)
        assert scope, f"route {path} declares no scope"
        out.append((path, scope.group(1), ".tickets = 1" in e))
    return out


# how to call each route, and what it answers once it lets the request in
CALLS = {
    "/api/log": ("POST", "/api/log?app=web", {"Content-Type": "application/x-www-form-urlencoded"},
                 b"log=matrix", 200),
    "/api/logs": ("GET", "/api/logs?limit=1", {}, None, 200),
    "/api/stats": ("GET", "/api/stats?by=level", {}, None, 200),
    # the tail handler itself refuses a plain GET: it got past the check
    "/api/tail": ("GET", "/api/tail", {}, None, 400),
    "/api/files": ("GET", "/api/files", {}, None, 200),
    "/api/files/": ("GET", "/api/files/files/a.log?n=1", {}, None, 200),
    "/api/session": ("POST", "/api/session", {}, None, 200),
    "/healthz": ("GET", "/healthz", {}, None, 200),
    "/metrics": ("GET", "/metrics", {}, None, 200),
    "/": ("GET", "/", {}, None, 200),
    "/ui/": ("GET", "/ui/app.js", {}, None, 200),
    # the other shippers' protocols: the write scope, like /api/log (each
    # record in web.#, which the topic-limited token may write)
    "/loki/api/v1/push": ("POST", "/loki/api/v1/push", {"Content-Type": "application/json"},
                          b'{"streams":[{"stream":{"app":"web"},'
                          b'"values":[["1700000000000000000","matrix"]]}]}', 204),
    "/_bulk": ("POST", "/_bulk", {"Content-Type": "application/x-ndjson"},
               b'{"index":{}}\n{"message":"matrix","app":"web"}\n', 200),
    "/v1/logs": ("POST", "/v1/logs", {"Content-Type": "application/json"},
                 b'{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name",'
                 b'"value":{"stringValue":"web"}}]},"scopeLogs":[{"logRecords":'
                 b'[{"body":{"stringValue":"matrix"}}]}]}]}', 200),
    "/upload": ("POST", "/upload", {"Content-Type": "application/vnd.fdo.journal"},
                b"MESSAGE=matrix\nSYSLOG_IDENTIFIER=web\n\n", 200),
    "/gelf": ("POST", "/gelf", {"Content-Type": "application/json"},
              b'{"version":"1.1","host":"h","short_message":"matrix","_app":"web"}', 202),
    "/es/": ("GET", "/es/", {}, None, 200),
}

SCOPE_OF = {"AUTH_WRITE": "write", "AUTH_READ": "read", "AUTH_TAIL": "tail",
            "AUTH_FILES": "files", "AUTH_ADMIN": "admin"}


def expected(scope, who):
    """The status a credential gets on a route of scope: None when it is let
    in."""
    if scope == "AUTH_PUBLIC":
        return None
    if who in (None, "wrong"):
        return 401
    if scope == "AUTH_ANY":
        return None
    return None if SCOPE_OF[scope] in TOKENS[who][1].split(",") else 403


def test_scope_matrix(env):
    s = env["server"]
    table = route_table()
    assert sorted(p for p, _, _ in table) == sorted(CALLS), "a route without a test call"
    who_all = [None, "wrong", "w", "r", "t", "f", "a", "all", "lim"]
    for path, scope, _ in table:
        method, target, headers, body, ok = CALLS[path]
        for who in who_all:
            h = dict(headers)
            if who == "wrong":
                h["Authorization"] = "Bearer " + WRONG
            elif who:
                h.update(bearer(who))
            st, hdrs, data = request(s, method, target, h, body)
            want = expected(scope, who)
            assert st == (want or ok), (path, who, st, data[:200])
            if st == 401:
                challenges = [v for k, v in hdrs if k.lower() == "www-authenticate"]
                assert 'Bearer realm="logship"' in challenges
                assert any(c.startswith("Basic ") for c in challenges)
                assert json.loads(data)["error"]
            if st == 403:
                assert "scope" in json.loads(data)["error"]


def test_credentials_forms(env):
    s = env["server"]
    tok = TOKENS["r"][0]
    # Basic: the token as the password, any user name
    for user in ("r", "someone", ""):
        basic = base64.b64encode(f"{user}:{tok}".encode()).decode()
        st, _, _ = request(s, "GET", "/api/logs?limit=1", {"Authorization": "Basic " + basic})
        assert st == 200, user
    basic = base64.b64encode(f"r:{WRONG}".encode()).decode()
    assert request(s, "GET", "/api/logs", {"Authorization": "Basic " + basic})[0] == 401
    # scheme names are case-insensitive; anything else is a bad header
    assert request(s, "GET", "/api/logs?limit=1", {"Authorization": "bearer " + tok})[0] == 200
    for bad in ("Token " + tok, "Bearer", "Basic !!!", "Bearer a b"):
        st, _, data = request(s, "GET", "/api/logs", {"Authorization": bad})
        assert st == 401, bad
    # a page's fetch gets no Basic challenge (the browser would pop a login box)
    st, hdrs, _ = request(s, "GET", "/api/logs", {"Sec-Fetch-Mode": "cors"})
    challenges = [v for k, v in hdrs if k.lower() == "www-authenticate"]
    assert st == 401 and challenges == ['Bearer realm="logship"']
    # the token in a query string is not a credential
    assert request(s, "GET", "/api/logs?token=" + tok)[0] == 401


# ---- topic limits: a reader and a writer limited to web.# ------------------------

WEB = ["web.a", "web.b", "web.c.d"]


def test_limited_reader_queries(env):
    s = env["server"]
    got, _ = query(s, "rweb", limit=1000)
    topics = [r["topic"] for r in got]
    assert topics and set(topics) <= {t for t in topics if t.startswith("web.")}
    assert [r["topic"] for r in got if r["msg"].startswith("seed ")] == WEB
    # asking for another topic finds nothing, and says nothing about it
    for t in ("db.#", "#", "*.x", "db"):
        got, hdrs = query(s, "rweb", topic=t, limit=1000)
        assert all(r["topic"].startswith("web.") for r in got), t
        assert "db" not in hdrs.get("logship-hint", ""), t
    got, hdrs = query(s, "rweb", topic="db")
    assert got == [] and "logship-hint" not in hdrs
    # a hint inside its topics still comes
    got, hdrs = query(s, "rweb", topic="web")
    assert got == [] and "web.#" in hdrs.get("logship-hint", "")
    # newest first, paged: still only web records, and as many as asked
    got, _ = query(s, "rweb", order="desc", limit=2)
    assert len(got) == 2 and all(r["topic"].startswith("web.") for r in got)
    older, _ = query(s, "rweb", order="desc", before=got[-1]["seq"], limit=1000)
    assert all(r["topic"].startswith("web.") for r in older)
    # the unlimited reader sees everything
    got, _ = query(s, "r", topic="db.#")
    assert {r["topic"] for r in got} >= {"db.x", "db.z"}
    # errors name no other topic
    st, _, data = request(s, "GET", "/api/logs?topic=a..b", bearer("rweb"))
    assert st == 400 and b"db" not in data
    # /metrics counts every topic: not for this token
    assert request(s, "GET", "/metrics", bearer("rweb"))[0] == 403
    # /api/stats counts within the token's topics, whatever it asks
    for t in (None, "#", "db.#"):
        qs = "by=topic&top=1000" + (f"&topic={urllib.parse.quote(t)}" if t else "")
        st, _, data = request(s, "GET", "/api/stats?" + qs, bearer("rweb"))
        assert st == 200, data
        counts = json.loads(data)
        assert all(k.startswith("web.") for k in counts["totals"]), (t, counts)
        mine, _ = query(s, "rweb", limit=100000, **({"topic": t} if t else {}))
        assert counts["total"] == len(mine), (t, counts)
    st, _, data = request(s, "GET", "/api/stats?by=topic&top=1000", bearer("r"))
    assert st == 200 and "db.x" in json.loads(data)["totals"]


async def ws_collect(url, headers, until, timeout=20):
    """Messages from a WebSocket until until(records, control) holds."""
    recs, control = [], []
    async with websockets.connect(url, extra_headers=headers) as ws:
        deadline = time.time() + timeout
        while not until(recs, control):
            msg = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time()))
            data = json.loads(msg)
            (recs.extend if isinstance(data, list) else control.append)(data)
    return recs, control


def test_limited_reader_tails_websocket(env):
    s = env["server"]
    url = f"ws://127.0.0.1:{s.port}/api/tail?n=100"

    async def run():
        # the backlog: web records only
        recs, _ = await ws_collect(url, bearer("rweb"),
                                   lambda r, c: len([x for x in r if x["msg"].startswith("seed")])
                                   >= 3)
        assert [r["topic"] for r in recs if r["msg"].startswith("seed")] == WEB
        # live: a db record between two web ones is not sent
        async with websockets.connect(url.replace("n=100", "n=0"),
                                      extra_headers=bearer("rweb")) as ws:
            await asyncio.sleep(0.2)
            st, _ = post_ndjson(s, [{"msg": "live 1", "topic": "web.live"},
                                    {"msg": "live db", "topic": "db.live"},
                                    {"msg": "live 2", "topic": "web.live"}])
            assert st == 200
            got = []
            while len(got) < 2:
                data = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if isinstance(data, list):
                    got.extend(data)
            assert [r["msg"] for r in got] == ["live 1", "live 2"]
        # a hint about a topic outside web.# never comes; one inside does
        async with websockets.connect(url + "&topic=db", extra_headers=bearer("rweb")) as ws:
            st, _ = post_ndjson(s, [{"msg": "after db hint", "topic": "web.hint"}])
            seen = []
            try:
                while True:
                    seen.append(json.loads(await asyncio.wait_for(ws.recv(), 1.5)))
            except asyncio.TimeoutError:
                pass
            assert not [m for m in seen if isinstance(m, dict) and m.get("type") == "hint"]
            assert not [m for m in seen if isinstance(m, list) and m]
        _, control = await ws_collect(url + "&topic=web", bearer("rweb"),
                                      lambda r, c: any(m.get("type") == "hint" for m in c))
        assert "web.#" in [m for m in control if m.get("type") == "hint"][0]["hint"]
    asyncio.run(run())


def node_client(server, query, expect, timeout_ms=30000):
    p = subprocess.run(["node", os.path.join(NODE_DIR, "tail_client.js"),
                        f"ws://127.0.0.1:{server.port}/api/tail{query}", "1", str(expect),
                        str(timeout_ms)], capture_output=True, text=True, timeout=60)
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_limited_reader_tails_node_ws_with_a_ticket(env):
    s = env["server"]
    t = ticket(s, "rweb")
    SEEN_SECRETS.add(t["ticket"])
    assert t["scopes"] == ["read", "tail"] and t["topics"] == ["web.#"]
    seeds, _ = query(s, "rweb", limit=1000)
    out = node_client(s, f"?n=1000&ticket={t['ticket']}", len(seeds))
    assert out["ok"], out
    assert out["topics"] and all(x.startswith("web.") for x in out["topics"]), out
    assert out["counts"] == [len(seeds)]


def sse_events(server, target, headers, until, timeout=20):
    """SSE events (event, data) until until(events) holds."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    events = []
    try:
        c.request("GET", target, headers={"Accept": "text/event-stream", **headers})
        r = c.getresponse()
        assert r.status == 200, r.read()
        ev, data = None, None
        deadline = time.time() + timeout
        while not until(events) and time.time() < deadline:
            line = r.fp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and ev:
                events.append((ev, data))
                ev = data = None
    finally:
        c.close()
    return events


def test_limited_reader_tails_sse(env):
    s = env["server"]

    def records(events):
        return [r for ev, d in events if isinstance(d, list) for r in d]
    events = sse_events(s, "/api/tail?n=1000", bearer("rweb"),
                        lambda e: len([r for r in records(e) if r["msg"].startswith("seed")]) >= 3)
    got = records(events)
    assert [r["topic"] for r in got if r["msg"].startswith("seed")] == WEB
    assert all(r["topic"].startswith("web.") for r in got)
    # with a ticket (EventSource cannot send headers): it is taken out of
    # the query before the handler sees it, or it would be refused as unknown
    t = ticket(s, "rweb")
    SEEN_SECRETS.add(t["ticket"])
    events = sse_events(s, f"/api/tail?ticket={t['ticket']}&n=1000", {},
                        lambda e: len([r for r in records(e) if r["msg"].startswith("seed")]) >= 3)
    assert all(r["topic"].startswith("web.") for r in records(events))


def test_limited_writer(env):
    s = env["server"]
    before, _ = query(s, "all", limit=100000)
    st, rep = post_ndjson(s, [{"msg": "w1", "topic": "web.ok"}, {"msg": "w2", "topic": "db.x"},
                              {"msg": "w3", "topic": "web.ok"}], who="wweb")
    assert st == 403 and "nothing was stored" in rep["error"] and "db" not in rep["error"], rep
    after, _ = query(s, "all", limit=100000)
    assert len(after) == len(before)
    assert not [r for r in after if r["msg"] in ("w1", "w2", "w3")]
    # a record whose default topic (app.level) is outside: refused as well
    st, _, _ = request(s, "POST", "/api/log?app=db",
                       {"Content-Type": "text/plain", **bearer("wweb")}, b"plain\n")
    assert st == 403
    # inside its topics: stored
    st, rep = post_ndjson(s, [{"msg": "w4", "topic": "web.ok"}, {"msg": "w5", "app": "web"}],
                          who="wweb")
    assert st == 200 and rep["accepted"] == 2, rep
    got, _ = query(s, "all", q="w", topic="web.#")
    assert [r["msg"] for r in got if r["msg"] in ("w4", "w5")] == ["w4", "w5"]


def test_python_http_handler_basic_auth(env):
    """Python's stock HTTPHandler with credentials=(name, token) over plain
    HTTP (secure=False): HTTP Basic with the token as the password."""
    s = env["server"]
    for method in ("POST", "GET"):
        logger = logging.getLogger(f"web.py.{method.lower()}")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        h = logging.handlers.HTTPHandler(f"127.0.0.1:{s.port}", "/api/log", method=method,
                                         secure=False, credentials=("wweb", TOKENS["wweb"][0]))
        logger.addHandler(h)
        logger.warning("from python %s", method)
        logger.removeHandler(h)
        got, _ = query(s, "all", topic=f"web.py.{method.lower()}.#")
        assert [r["msg"] for r in got] == [f"from python {method}"]
    # outside its topics: refused (HTTPHandler does not look at the reply)
    logger = logging.getLogger("db.py")
    logger.propagate = False
    h = logging.handlers.HTTPHandler(f"127.0.0.1:{s.port}", "/api/log", method="POST",
                                     secure=False, credentials=("wweb", TOKENS["wweb"][0]))
    logger.addHandler(h)
    logger.warning("from python db")
    logger.removeHandler(h)
    assert not query(s, "all", topic="db.py.#")[0]


# ---- tickets ---------------------------------------------------------------------------

async def ws_status(url, headers=None):
    """The HTTP status of a WebSocket handshake: 101, or the refusal's."""
    try:
        async with websockets.connect(url, extra_headers=headers or {}, open_timeout=10):
            return 101
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code


def test_tickets(env):
    s = env["server"]
    base = f"ws://127.0.0.1:{s.port}"
    t = ticket(s, "t")["ticket"]
    f = ticket(s, "f")["ticket"]
    r = ticket(s, "r")["ticket"]
    narrow = ticket(s, "all", scope="read")
    SEEN_SECRETS.update([t, f, r, narrow["ticket"]])
    assert narrow["scopes"] == ["read"]

    async def run():
        assert await ws_status(f"{base}/api/tail?n=0&ticket={t}") == 101
        assert await ws_status(f"{base}/api/tail?ticket={t}&n=0") == 101  # reusable while it lasts
        assert await ws_status(f"{base}/api/files/files/a.log?ticket={f}") == 101
        # the ticket of a token without tail, and one asked with read only
        assert await ws_status(f"{base}/api/tail?ticket={r}") == 403
        assert await ws_status(f"{base}/api/tail?ticket={narrow['ticket']}") == 403
        # not a ticket, and no ticket at all
        assert await ws_status(f"{base}/api/tail?ticket={'0' * 64}") == 401
        assert await ws_status(f"{base}/api/tail") == 401
        assert await ws_status(f"{base}/api/tail", bearer("t")) == 101
    asyncio.run(run())
    # tickets only count on the tail routes
    assert request(s, "GET", f"/api/logs?ticket={t}")[0] == 401
    assert request(s, "GET", f"/api/logs?ticket={narrow['ticket']}")[0] == 401
    assert request(s, "POST", f"/api/session?ticket={t}")[0] == 401
    # asking for a scope the token lacks, or none that exists
    assert request(s, "POST", "/api/session?scope=write", bearer("t"))[0] == 403
    assert request(s, "POST", "/api/session?scope=bogus", bearer("all"))[0] == 400


def test_ticket_expires(make_server, tmp_path):
    path = auth_file(tmp_path / "tokens", TOKENS)
    s = make_server("--auth-file", path, "--ticket-lifetime", "1s")
    t = ticket(s, "t")
    assert t["expires_in"] == 1
    url = f"ws://127.0.0.1:{s.port}/api/tail?n=0&ticket={t['ticket']}"
    assert asyncio.run(ws_status(url)) == 101
    time.sleep(2.2)
    assert asyncio.run(ws_status(url)) == 401
    st, _, data = request(s, "GET", f"/api/tail?ticket={t['ticket']}",
                          {"Accept": "text/event-stream"})
    assert st == 401 and b"expired" in data


# ---- reload, metrics, the log ------------------------------------------------------

def wait_for_log(server, text, since, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(text in ln for ln in server.log_lines[since:]):
            return True
        time.sleep(0.05)
    return False


def test_sighup_reload_adds_and_removes_tokens(make_server, tmp_path):
    keep = {k: TOKENS[k] for k in ("r", "t")}
    path = tmp_path / "tokens"
    auth_file(path, keep)
    s = make_server("--auth-file", str(path))
    assert request(s, "GET", "/api/logs", bearer("r"))[0] == 200
    assert request(s, "GET", "/api/logs", bearer("all"))[0] == 401
    old = ticket(s, "t")["ticket"]
    # add "all", remove "r"
    auth_file(path, {"t": TOKENS["t"], "all": TOKENS["all"]})
    n = len(s.log_lines)
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for_log(s, "auth: 2 tokens from", n), s.log_text()
    assert request(s, "GET", "/api/logs", bearer("all"))[0] == 200
    assert request(s, "GET", "/api/logs", bearer("r"))[0] == 401
    # a new table drops the tickets of the old one
    st, _, _ = request(s, "GET", f"/api/tail?ticket={old}", {"Accept": "text/event-stream"})
    assert st == 401
    # a bad file keeps the tokens in force, and says why without a token
    path.write_text(f"all {TOKENS['all'][0]} read\nt {TOKENS['all'][0]} tail\n")
    n = len(s.log_lines)
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for_log(s, "tokens not reloaded", n), s.log_text()
    line = [ln for ln in s.log_lines[n:] if "tokens not reloaded" in ln][0]
    assert "line 2: duplicate token" in line and TOKENS["all"][0] not in line
    assert request(s, "GET", "/api/logs", bearer("all"))[0] == 200
    assert request(s, "GET", "/api/logs", bearer("t"))[0] == 403  # t stays tail only
    log = s.log_text()
    for tok, _, _ in TOKENS.values():
        assert tok not in log
    assert old not in log


def test_metrics_count_refusals_and_show_no_secret(env):
    s = env["server"]

    def refused():
        st, _, data = request(s, "GET", "/metrics", bearer("a"))
        assert st == 200
        text = data.decode()
        vals = dict(re.findall(r'^logship_auth_refused_total\{reason="(\d+)"\} (\d+)$', text, re.M))
        return {k: int(v) for k, v in vals.items()}, text
    before, _ = refused()
    request(s, "GET", "/api/logs")
    request(s, "GET", "/api/logs", {"Authorization": "Bearer " + WRONG})
    request(s, "GET", "/api/logs", bearer("w"))
    post_ndjson(s, [{"msg": "x", "topic": "db.q"}], who="wweb")
    after, text = refused()
    assert after["401"] == before["401"] + 2
    assert after["403"] == before["403"] + 2
    for tok, _, _ in TOKENS.values():
        assert tok not in text
    assert WRONG not in text
    for topic in ("db.x", "web.a", "db.q", "web.#"):
        assert topic not in text


def test_tokens_never_in_the_log(env):
    """Everything above ran against this server at --log-level debug: none
    of the tokens or tickets used may be in its log (the fixture checks
    again once it has stopped)."""
    s = env["server"]
    assert request(s, "GET", "/metrics", bearer("rweb"))[0] == 403
    assert wait_for_log(s, "refused /metrics to token 'rweb'", 0)
    log = s.log_text()
    assert "auth: 9 tokens from" in log
    assert len(SEEN_SECRETS) > len(TOKENS)
    for secret in SEEN_SECRETS | {WRONG}:
        assert secret not in log


# ---- secure defaults -------------------------------------------------------------

def run_logshipd(tmp_path, *args, timeout=15):
    """Starts logshipd expecting it to refuse: (exit code, output)."""
    cmd = [LOGSHIPD, "--data", str(tmp_path / "d"), "--http", "127.0.0.1:0",
           "--syslog-udp", "127.0.0.1:0", "--syslog-tcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0",
           *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


@pytest.mark.parametrize("flag,fix", [("--http", "--auth-file"), ("--syslog-udp", "--allow"),
                                      ("--syslog-tcp", "--allow"), ("--tcp", "--allow")])
def test_non_loopback_listener_refused(tmp_path, flag, fix):
    rc, out = run_logshipd(tmp_path, flag, "0.0.0.0:0")
    assert rc == 2, out
    assert "not a loopback address" in out and fix in out and "--insecure" in out, out


def test_non_loopback_http_with_tokens_needs_tls(tmp_path):
    """Tokens over plain HTTP would cross the network in clear."""
    path = auth_file(tmp_path / "tokens", {"r": TOKENS["r"]})
    rc, out = run_logshipd(tmp_path, "--http", "0.0.0.0:0", "--auth-file", path)
    assert rc == 2, out
    assert "does not speak TLS" in out and "--tls-cert" in out and "--insecure" in out, out


def test_a_tls_listener_off_loopback_needs_allow_or_client_certificates(tmp_path, tls_certs):
    tls = ["--tls-cert", tls_certs["server"], "--tls-key", tls_certs["server_key"]]
    rc, out = run_logshipd(tmp_path, *tls, "--tcp-tls", "0.0.0.0:0")
    assert rc == 2, out
    assert "--tcp-tls" in out and "--allow" in out and "--tls-client-ca" in out, out


def https(server, target, headers, certs):
    ctx = ssl.create_default_context(cafile=certs["ca"])
    ctx.load_cert_chain(certs["client"], certs["client_key"])  # --tls-client-ca asks for one
    req = urllib.request.Request(f"https://127.0.0.1:{server.port}{target}", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_insecure_and_guards_let_it_start(make_server, tmp_path, tls_certs):
    s = make_server("--http", "0.0.0.0:0", "--tcp", "0.0.0.0:0", "--insecure")
    assert "--insecure" in s.log_text()
    assert request(s, "GET", "/healthz")[0] == 200
    path = auth_file(tmp_path / "tokens", {"r": TOKENS["r"]})
    s2 = make_server("--http", "0.0.0.0:0", "--auth-file", path, "--syslog-udp", "0.0.0.0:0",
                     "--syslog-allow", "127.0.0.0/8", "--tcp", "[::]:0", "--allow", "::1",
                     "--tls-cert", tls_certs["server"], "--tls-key", tls_certs["server_key"],
                     "--tcp-tls", "0.0.0.0:0", "--tls-client-ca", tls_certs["ca"])
    assert https(s2, "/api/logs", bearer("r"), tls_certs) == 200
    assert https(s2, "/api/logs", {}, tls_certs) == 401
    # a bad CIDR is a bad option; so is a bad auth file
    rc, out = run_logshipd(tmp_path, "--allow", "10.1.2.3/8")
    assert rc == 2 and "beyond the prefix" in out, out
    bad = tmp_path / "bad"
    bad.write_text("x short read\n")
    rc, out = run_logshipd(tmp_path, "--auth-file", str(bad))
    assert rc == 2 and "line 1: token too short" in out, out


def metric(server, name, token=None):
    st, _, data = request(server, "GET", "/metrics", {"Authorization": "Bearer " + token}
                          if token else {})
    assert st == 200
    m = re.search("^" + re.escape(name) + r" (\d+)$", data.decode(), re.M)
    return int(m.group(1)) if m else None


def test_allow_on_tcp_and_syslog(make_server):
    # loopback is not in 10.0.0.0/8: refused and counted
    s = make_server("--tcp-allow", "10.0.0.0/8", "--syslog-allow", "192.0.2.0/24")
    denied = 'logship_connections_denied_total{input="%s"}'
    with socket.create_connection(("127.0.0.1", s.ports["tcp"]), timeout=5) as c:
        c.sendall(b'{"msg":"from outside"}\n')
        c.settimeout(5)
        try:
            assert c.recv(100) == b""  # closed at once
        except ConnectionResetError:
            pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.sendto(b"<13>denied datagram", ("127.0.0.1", s.ports["syslog-udp"]))
    with socket.create_connection(("127.0.0.1", s.ports["syslog-tcp"]), timeout=5) as c:
        c.sendall(b"<13>denied over tcp\n")
    deadline = time.time() + 10
    while time.time() < deadline and (metric(s, denied % "tcp") < 1 or
                                      metric(s, denied % "syslog_udp") < 1 or
                                      metric(s, denied % "syslog_tcp") < 1):
        time.sleep(0.05)
    assert metric(s, denied % "tcp") == 1
    assert metric(s, denied % "syslog_udp") == 1
    assert metric(s, denied % "syslog_tcp") == 1
    assert not s.logs(q="denied") and not s.logs(q="from outside")
    # allowed: 127.0.0.0/8 for every listener, ::1 over IPv6
    s2 = make_server("--allow", "127.0.0.0/8", "--tcp-allow", "::1", "--tcp", "[::1]:0")
    with socket.create_connection(("::1", s2.ports["tcp"]), timeout=5) as c:
        c.sendall(b'{"msg":"allowed v6"}\n')
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.sendto(b"<13>allowed datagram", ("127.0.0.1", s2.ports["syslog-udp"]))
    deadline = time.time() + 10
    while time.time() < deadline and len(s2.logs(q="allowed")) < 2:
        time.sleep(0.05)
    assert sorted(r["msg"] for r in s2.logs(q="allowed")) == ["allowed datagram", "allowed v6"]
    assert metric(s2, denied % "tcp") == 0


# ---- the logship command: LOGSHIP_TOKEN -----------------------------------------

LOGSHIP = os.path.join(os.path.dirname(LOGSHIPD), "logship")


def cli(*args, token=None, timeout=60):
    env = {k: v for k, v in os.environ.items()
           if k not in ("LOGSHIP_SERVER", "LOGSHIP_TOKEN", "NO_COLOR", "TERM")}
    env["TZ"] = "UTC"
    if token:
        env["LOGSHIP_TOKEN"] = TOKENS[token][0]
    return subprocess.run([LOGSHIP, *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_cli_sends_queries_and_tails_with_logship_token(env):
    s = env["server"]
    # send over HTTP: the token is sent, and its topics hold
    r = cli("send", "--server", s.url, "-t", "web.cli", "from the cli", token="wweb")
    assert r.returncode == 0, r.stderr
    r = cli("send", "--server", s.url, "-t", "db.cli", "outside", token="wweb")
    assert r.returncode != 0 and "403" in r.stderr + r.stdout
    r = cli("send", "--server", s.url, "-t", "web.cli", "no token")
    assert r.returncode != 0
    got, _ = query(s, "all", topic="*.cli")
    assert [x["msg"] for x in got] == ["from the cli"]
    # query: web records only; without a token, a clear error
    r = cli("query", "--server", s.url, "--format", "{topic}", "-n", "1000", token="rweb")
    assert r.returncode == 0, r.stderr
    topics = r.stdout.split()
    assert topics and all(t.startswith("web.") for t in topics), topics
    r = cli("query", "--server", s.url)
    assert r.returncode == 1 and "401" in r.stderr and "LOGSHIP_TOKEN" in r.stderr, r.stderr
    # tail over the WebSocket, with the token as a header
    env_ = {k: v for k, v in os.environ.items() if k not in ("LOGSHIP_SERVER", "NO_COLOR")}
    env_["LOGSHIP_TOKEN"] = TOKENS["rweb"][0]
    p = subprocess.Popen([LOGSHIP, "tail", "--server", s.url, "-n", "3", "--format",
                          "{topic} {msg}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env_)
    try:
        lines = [p.stdout.readline().strip() for _ in range(3)]
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(10)
    assert all(ln.startswith("web.") for ln in lines), lines
    r = cli("tail", "--server", s.url, "-n", "1", timeout=30)
    assert r.returncode == 1 and "LOGSHIP_TOKEN" in r.stderr, r.stderr
    SEEN_SECRETS.add(TOKENS["rweb"][0])
