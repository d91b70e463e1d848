"""CORS on the ingest and read routes (--cors-origin; src/http/cors.c), over
raw HTTP/1.1: preflights from listed and unlisted origins, the headers on
actual replies (errors and SSE streams included), the routes that stay
same-origin, how a --cors-origin passes the Origin check, '*', bad values,
and a SIGHUP that changes the list. The browser side is in test_ui.py
(tests/ui/cors.mjs)."""
import json
import signal
import subprocess
import time

from conftest import LOGSHIPD
from httpraw import Conn, request

APP = "http://app.example"
DEV = "http://localhost:3000"
EVIL = "http://evil.example"
CORS_ROUTES = {"/api/log": {"GET", "POST"}, "/api/logs": {"GET", "HEAD"},
               "/api/tail": {"GET"}, "/healthz": {"GET", "HEAD"}}
ALLOW_HEADERS = {"content-type", "logship-producer", "logship-batch", "authorization"}
WS_HEADERS = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def preflight(c, path, origin, method="POST", headers="content-type"):
    h = {"Access-Control-Request-Method": method}
    if origin:
        h["Origin"] = origin
    if headers:
        h["Access-Control-Request-Headers"] = headers
    c.send(request("OPTIONS", path, headers=h))
    return c.reply()


def no_cors_headers(r):
    return not any(k.startswith("access-control-") for k in r.headers)


def test_off_by_default(make_server):
    server = make_server()
    c = Conn(server.port)
    for path in CORS_ROUTES:
        r = preflight(c, path, APP)
        assert r.status == 403 and no_cors_headers(r), (path, r.headers)
        assert "--cors-origin" in json.loads(r.body)["error"]
    c.send(request("GET", "/api/logs", headers={"Origin": APP}))
    r = c.reply()
    assert r.status == 200 and no_cors_headers(r) and "vary" not in r.headers
    c.send(request("POST", "/api/log", b'{"msg":"x"}',
                   {"Origin": APP, "Content-Type": "application/json"}))
    r = c.reply()
    assert r.status == 403 and no_cors_headers(r)
    assert server.logs() == []


def test_preflights(make_server):
    server = make_server("--cors-origin", APP, "--cors-origin", DEV)
    c = Conn(server.port)
    for origin in (APP, DEV):
        for path, methods in CORS_ROUTES.items():
            r = preflight(c, path, origin)
            assert r.status == 204, (path, r)
            assert r.headers["access-control-allow-origin"] == origin
            assert set(r.headers["access-control-allow-methods"].split(", ")) == methods
            assert {h.strip().lower() for h in
                    r.headers["access-control-allow-headers"].split(",")} == ALLOW_HEADERS
            assert int(r.headers["access-control-max-age"]) > 0
            assert r.headers["vary"] == "Origin"
            assert "content-length" not in r.headers and r.body == b""
            assert "access-control-allow-credentials" not in r.headers
    # the connection goes on after them
    c.send(request("GET", "/healthz"))
    assert c.reply().status == 200
    # the producer headers a batch client sends are allowed
    r = preflight(c, "/api/log", APP, headers="content-type,logship-producer,logship-batch")
    assert r.status == 204
    # unlisted: 403 and nothing that would let the browser go on
    r = preflight(c, "/api/log", EVIL)
    assert r.status == 403 and no_cors_headers(r)
    # an origin is compared whole
    for near in (APP + ":80", APP + "/", "http://app.example.evil", "https://app.example"):
        assert preflight(c, "/api/log", near).status == 403, near
    # case-insensitive, echoed as sent
    r = preflight(c, "/api/logs", "HTTP://App.Example", method="GET")
    assert r.status == 204 and r.headers["access-control-allow-origin"] == "HTTP://App.Example"
    # a plain OPTIONS (no Origin): 204 with Allow, no CORS headers
    r = preflight(c, "/api/log", None)
    assert r.status == 204 and no_cors_headers(r)
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    # Private Network Access: said only when asked
    c.send(request("OPTIONS", "/api/log", headers={
        "Origin": APP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Private-Network": "true"}))
    r = c.reply()
    assert r.status == 204 and r.headers["access-control-allow-private-network"] == "true"
    assert "access-control-allow-private-network" not in preflight(c, "/api/log", APP).headers
    # the other routes have no CORS: OPTIONS is not a method there
    for path in ("/metrics", "/api/files", "/", "/ui/app.js"):
        r = preflight(c, path, APP, method="GET")
        assert r.status == 405 and no_cors_headers(r), path
    m = server.metrics()
    assert m["logship_http_cors_preflights_total"] == 2 * 4 + 4
    assert m["logship_http_cross_origin_refused_total"] == 5


def test_actual_requests_get_the_headers(make_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.log").write_text("x\n")
    server = make_server("--cors-origin", APP, "--tail-root", str(root))
    c = Conn(server.port)

    def cors_reply(method, path, body=b"", headers=None, origin=APP):
        h = {"Origin": origin} if origin else {}
        h.update(headers or {})
        c.send(request(method, path, body, h))
        return c.reply(head_only=method == "HEAD")

    # a JSON POST (what a preflighted fetch sends next): stored, readable
    r = cors_reply("POST", "/api/log", b'{"msg":"from the app","app":"web"}',
                   {"Content-Type": "application/json"})
    assert r.status == 200, r
    assert r.headers["access-control-allow-origin"] == APP
    assert r.headers["vary"] == "Origin"
    assert "Retry-After" in r.headers["access-control-expose-headers"]
    # the same batch with the producer headers
    r = cors_reply("POST", "/api/log", b'{"msg":"batched"}\n',
                   {"Content-Type": "application/x-ndjson", "Logship-Producer": "p1",
                    "Logship-Batch": "1"})
    assert r.status == 200 and r.headers["access-control-allow-origin"] == APP
    r = cors_reply("GET", "/api/logs?limit=10")
    assert r.status == 200 and r.headers["access-control-allow-origin"] == APP
    assert [x["msg"] for x in json.loads(r.body)] == ["from the app", "batched"]
    r = cors_reply("HEAD", "/api/logs")
    assert r.status == 200 and r.headers["access-control-allow-origin"] == APP
    r = cors_reply("GET", "/healthz")
    assert r.status == 200 and r.headers["access-control-allow-origin"] == APP
    # errors too, so the page can read why
    r = cors_reply("GET", "/api/logs?level=nonsense")
    assert r.status == 400 and r.headers["access-control-allow-origin"] == APP
    r = cors_reply("POST", "/api/log", b"", {"Content-Type": "application/json"})
    assert r.status >= 400 and r.headers["access-control-allow-origin"] == APP
    # no Origin (curl), another origin: no CORS headers
    r = cors_reply("GET", "/api/logs", origin=None)
    assert r.status == 200 and no_cors_headers(r)
    r = cors_reply("GET", "/api/logs", origin=EVIL)
    assert r.status == 200 and no_cors_headers(r)
    r = cors_reply("POST", "/api/log", b'{"msg":"forged"}', {"Content-Type": "application/json"},
                   origin=EVIL)
    assert r.status == 403 and no_cors_headers(r)
    # the routes without CORS: no headers, and the Origin check as before
    for path in ("/metrics", "/api/files", "/"):
        r = cors_reply("GET", path)
        assert r.status == 200 and no_cors_headers(r), path
    c.close()

    # the SSE stream: its head says it
    s = Conn(server.port)
    s.send(request("GET", "/api/tail?n=5", headers={"Origin": APP, "Accept": "text/event-stream"}))
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.read_some(1.0)
        s.buf = b""
    lines = head.split(b"\r\n\r\n")[0].decode().lower().split("\r\n")
    assert lines[0].startswith("http/1.1 200")
    assert f"access-control-allow-origin: {APP}" in lines
    assert "vary: origin" in lines
    s.close()

    # WebSockets: a --cors-origin passes the Origin check on /api/tail only
    ws = Conn(server.port)
    ws.send(request("GET", "/api/tail?n=1", headers=dict(WS_HEADERS, Origin=APP)))
    assert ws.reply(head_only=True).status == 101
    ws.close()
    ws = Conn(server.port)
    ws.send(request("GET", "/api/files/root/a.log", headers=dict(WS_HEADERS, Origin=APP)))
    assert ws.reply().status == 403
    ws.close()
    assert [x["msg"] for x in server.logs()] == ["from the app", "batched"]


def test_chunked_body_with_trailers_keeps_the_headers(make_server):
    """Trailers after a chunked body are ignored: the request head (and the
    Origin echoed from it) stays intact."""
    server = make_server("--cors-origin", APP)
    c = Conn(server.port)
    body = b'{"msg":"chunked"}\n'
    trailer = b"".join(b"X-T%d: %s\r\n" % (i, b"t" * 900) for i in range(8))
    c.send(request("POST", "/api/log", b"", {"Origin": APP, "Content-Type": "application/x-ndjson",
                                             "Transfer-Encoding": "chunked"})
           + b"%x\r\n%s\r\n0\r\n%s\r\n" % (len(body), body, trailer))
    r = c.reply()
    assert r.status == 200, r
    assert r.headers["access-control-allow-origin"] == APP
    assert [x["msg"] for x in server.logs()] == ["chunked"]


def test_star_allows_any_origin_and_allowed_origin_alone_gets_no_cors(make_server):
    server = make_server("--cors-origin", "*", "--allowed-origin", "https://writer.example")
    c = Conn(server.port)
    for origin in (APP, EVIL, "null"):
        r = preflight(c, "/api/log", origin)
        assert r.status == 204 and r.headers["access-control-allow-origin"] == origin
    c.close()
    other = make_server("--allowed-origin", "https://writer.example")
    c = Conn(other.port)
    c.send(request("POST", "/api/log", b'{"msg":"written"}',
                   {"Origin": "https://writer.example", "Content-Type": "application/json"}))
    r = c.reply()
    assert r.status == 200 and no_cors_headers(r)
    assert preflight(c, "/api/log", "https://writer.example").status == 403


def test_bad_cors_origin_values_stop_the_server():
    for bad in ("app.example", "http://app.example/", "http://app.example/path",
                "ftp://app.example", "http://", "http://app.example:port"):
        r = subprocess.run([LOGSHIPD, "--cors-origin", bad], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 2, bad
        assert f"bad value '{bad}' for --cors-origin" in r.stderr


def test_sighup_changes_the_list(make_server, tmp_path):
    cfg = tmp_path / "logshipd.conf"
    cfg.write_text(f"cors-origin = {APP}\n")
    server = make_server("--config", str(cfg))
    c = Conn(server.port)
    assert preflight(c, "/api/log", APP).status == 204
    assert preflight(c, "/api/log", DEV).status == 403
    cfg.write_text(f"cors-origin = {DEV}\n")
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "changed: --cors-origin" not in server.log_text() and time.time() < deadline:
        time.sleep(0.05)
    assert "changed: --cors-origin" in server.log_text()
    assert preflight(c, "/api/log", DEV).status == 204
    assert preflight(c, "/api/log", APP).status == 403
