"""Bad HTTP input: each gets a clear JSON error with the right status, is
counted in /metrics, and never costs the good records around it."""
import json
import socket
import time

import pytest
import requests


def reject_count(server, reason):
    return server.metrics()[f'logship_http_rejected_total{{reason="{reason}"}}']


def test_malformed_json_is_400_and_stores_nothing(server):
    st, body = server.post("/api/log", '{"msg": "a", "level": }', "application/json")
    assert st == 400
    assert body["error"].startswith("invalid JSON near byte")
    st, body = server.post("/api/log", '[{"msg":"ok"}, {"msg": "x"', "application/json")
    assert st == 400
    assert server.logs() == []
    assert reject_count(server, "malformed_json") == 2


def test_ndjson_bad_lines_keep_good_ones(server):
    lines = ['{"msg":"good 1"}', '{"msg": broken}', '', '{"msg":"good 2"}', 'plain text',
             '"a string"', '{"msg":"good 3"}{"msg":"glued"}', '{"msg":"good 4"}']
    st, body = server.post("/api/log", "\n".join(lines) + "\n", "application/x-ndjson")
    assert st == 200
    assert body["accepted"] == 3
    assert body["rejected_count"] == 4
    assert [r["line"] for r in body["rejected"]] == [2, 5, 6, 7]
    assert "invalid JSON" in body["rejected"][0]["error"]
    assert "object" in body["rejected"][2]["error"]
    assert "more than one JSON value" in body["rejected"][3]["error"]
    assert [r["msg"] for r in server.logs()] == ["good 1", "good 2", "good 4"]
    assert reject_count(server, "bad_line") == 4


def test_ndjson_all_bad_is_400_with_reasons(server):
    st, body = server.post("/api/log", "nope\n{]\n", "application/x-ndjson")
    assert st == 400
    assert body["accepted"] == 0 and body["rejected_count"] == 2
    assert body["error"] == "no valid records in body"


def test_unsupported_or_missing_content_type_is_415(server):
    st, body = server.post("/api/log", "<log>x</log>", "application/xml")
    assert st == 415 and "unsupported Content-Type" in body["error"]
    st, data = server.request("POST", "/api/log", b"log=x", {"Content-Type": ""})
    assert st == 415 and "Content-Type" in json.loads(data)["error"]
    assert reject_count(server, "unsupported_media_type") == 2
    assert server.logs() == []


def test_body_over_limit_is_413(make_server):
    server = make_server("--max-body", "1K")
    # at the limit: accepted
    st, body = server.post("/api/log", "x" * 1024, "text/plain")
    assert st == 200
    with requests.Session() as s:
        r = s.post(server.url + "/api/log", data=b"y" * 5000,
                   headers={"Content-Type": "text/plain"})
        assert r.status_code == 413
        assert "max-body" in r.json()["error"]
        # the connection is still usable: the refused body was read and dropped
        r = s.post(server.url + "/api/log", data=b"after 413",
                   headers={"Content-Type": "text/plain"})
        assert r.status_code == 200
    # a client waiting for 100-continue is answered at once, body unsent
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"POST /api/log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 100000000\r\nExpect: 100-continue\r\n\r\n")
    sock.settimeout(5)
    reply = sock.recv(4096)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 413")
    assert [r["msg"] for r in server.logs()] == ["x" * 1024, "after 413"]
    assert reject_count(server, "body_too_large") == 2


def test_expect_100_continue_accepted(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(5)
    sock.sendall(b"POST /api/log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue")
    sock.sendall(b"hello")
    reply = sock.recv(4096)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 200")
    assert [r["msg"] for r in server.logs()] == ["hello"]


def test_invalid_utf8_is_repaired_not_dropped(server):
    bad = b"caf\xc3 \xff\xfe end"
    st, data = server.request("POST", "/api/log", b"one\n" + bad + b"\nthree\n",
                              {"Content-Type": "text/plain"})
    assert st == 200
    body = json.loads(data)
    assert body["accepted"] == 3 and body["utf8_repaired"] == 1
    st, data = server.request("POST", "/api/log", b'{"msg":"json \xe2\x82 bad"}',
                              {"Content-Type": "application/json"})
    assert st == 200 and json.loads(data)["utf8_repaired"] == 1
    st, data = server.request("POST", "/api/log", b"log=form%FF%C0%80ok",
                              {"Content-Type": "application/x-www-form-urlencoded"})
    assert st == 200 and json.loads(data)["utf8_repaired"] == 1
    msgs = [r["msg"] for r in server.logs()]
    assert msgs == ["one", "caf\ufffd \ufffd\ufffd end", "three", "json \ufffd bad",
                    "form\ufffd\ufffd\ufffdok"]
    m = server.metrics()
    assert m['logship_records_utf8_repaired_total{input="http"}'] == 3


def test_empty_body_is_400(server):
    for ctype in ["text/plain", "application/json", "application/x-ndjson",
                  "application/x-www-form-urlencoded"]:
        st, body = server.post("/api/log", b"", ctype)
        assert st == 400 and body["error"] == "empty body", ctype
    st, body = server.post("/api/log", b"\n\n\r\n", "text/plain")
    assert st == 400 and body["error"] == "body holds no records"
    st, body = server.post("/api/log", b"[]", "application/json")
    assert st == 400 and body["error"] == "body holds no records"
    assert reject_count(server, "empty_body") == 6


def test_bad_form(server):
    st, body = server.post("/api/log", "log=50%+off", "application/x-www-form-urlencoded")
    assert st == 400 and "percent-escape" in body["error"] and "byte 6" in body["error"]
    st, body = server.post("/api/log", "foo=bar", "application/x-www-form-urlencoded")
    assert st == 400 and "no log, message or msg" in body["error"]
    st, data = server.request("GET", "/api/log?foo=bar")
    assert st == 400
    assert reject_count(server, "bad_form") == 3


@pytest.mark.parametrize("count,size", [(3000, 40), (50, 2000), (1, 40000)])
def test_header_flood_is_431_json(server, count, size):
    flood = "".join(f"X-Flood-{i}: {'v' * size}\r\n" for i in range(count))
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(5)
    sock.sendall(("POST /api/log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                  "Content-Length: 5\r\n" + flood + "\r\nhello").encode())
    reply = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        reply += chunk
    sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert "16 KiB" in json.loads(body)["error"]
    assert server.logs() == []
    st, body = server.post("/api/log", "still alive", "text/plain")
    assert st == 200
    assert reject_count(server, "headers") == 1
    assert server.metrics()['logship_http_responses_total{code="431"}'] == 1


def test_head_sent_in_pieces_is_fine(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(5)
    for part in [b"POST /api/log HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                 b"Content-Type: text/plain\r\nContent-Length: 4\r\n", b"\r\nslow"]:
        sock.sendall(part)
        time.sleep(0.1)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    sock.close()
    assert [r["msg"] for r in server.logs()] == ["slow"]


def test_http_connection_limit_is_503_json(make_server):
    s = make_server("--max-connections", "3")
    held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(3)]
    for h in held:  # make each a real, open HTTP connection
        h.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert h.recv(4096).startswith(b"HTTP/1.1 200")
    extra = socket.create_connection(("127.0.0.1", s.port))
    extra.settimeout(5)
    reply = extra.recv(4096)
    extra.close()
    assert reply.startswith(b"HTTP/1.1 503 ")
    assert "max-connections" in json.loads(reply.partition(b"\r\n\r\n")[2])["error"]
    for h in held:
        h.close()
    time.sleep(0.3)
    st, _ = s.request("GET", "/healthz")
    assert st == 200
    assert s.metrics()['logship_connections_refused_total{input="http"}'] == 1


def test_unknown_endpoint_and_method(server):
    st, data = server.request("GET", "/api/nope")
    assert st == 404 and json.loads(data)["error"] == "no such endpoint"
    st, data = server.request("POST", "/api/logs", b"x", {"Content-Type": "text/plain"})
    assert st == 405
    m = server.metrics()
    assert m['logship_http_responses_total{code="404"}'] == 1
    assert m['logship_http_responses_total{code="405"}'] == 1
