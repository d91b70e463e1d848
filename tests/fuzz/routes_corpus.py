#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_routes (tests/fuzz/corpus/routes/): one
client connection per file, byte 0 the driver's mode (bits 0-1: how the
input is cut into writes; bit 2: the client vanishes instead of
half-closing; bit 3: the server has the driver's token), then what the client sends. Every route is there: ingest
(form, JSON, NDJSON, chunked, GET, CORS), queries, SSE and WebSocket tail
(with masked client frames and a close frame), files over HTTP, SSE and
WebSocket, health, metrics, the UI, preflights, and bad requests; and,
with the driver's token (bit 3), ingest inside and outside its topics,
queries, tails, tickets and refusals.

Run it again after changing it: python3 tests/fuzz/routes_corpus.py
Seeds named regress_* are regressions: those written here, and inputs kept
from fuzzing runs (which this leaves as they are)."""
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "routes")
HOST = "Host: 127.0.0.1\r\n"
KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
WS = "Upgrade: websocket\r\nConnection: Upgrade\r\n" + KEY + "Sec-WebSocket-Version: 13\r\n"
SSE = "Accept: text/event-stream\r\n"


def req(method, target, headers="", body=b""):
    if isinstance(body, str):
        body = body.encode()
    h = f"{method} {target} HTTP/1.1\r\n{HOST}{headers}"
    if body and "Transfer-Encoding" not in headers:
        h += f"Content-Length: {len(body)}\r\n"
    return h.encode() + b"\r\n" + body


def post(target, ctype, body, headers=""):
    return req("POST", target, f"Content-Type: {ctype}\r\n{headers}", body)


def chunked(body, size=7):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def frame(op, payload=b"", fin=True, mask=b"\x11\x22\x33\x44"):
    """A masked client frame."""
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    if n < 126:
        head = bytes([b0, 0x80 | n])
    elif n < 65536:
        head = bytes([b0, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, 0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def close(code=1000, why=b""):
    return frame(8, struct.pack(">H", code) + why)


def ndjson(n, topic="web.api", level="info"):
    return "".join(json.dumps({"msg": f"record {i} \u00e9", "topic": topic, "level": level,
                               "fields": {"i": i}}) + "\n" for i in range(n))


SEEDS = {
    # ingest
    "log_form": post("/api/log", "application/x-www-form-urlencoded",
                     "msg=hello+world&level=error&topic=web.api&host=h1"),
    "log_form_pyfmt": post("/api/log", "application/x-www-form-urlencoded",
                           "msg=%25s+took+%25d+ms&args=%5B%22q%22%2C5%5D&levelname=WARNING"),
    "log_json": post("/api/log", "application/json",
                     json.dumps({"msg": "json one", "level": "warn", "topic": "db.slow",
                                 "ts": "2024-05-01T10:00:00Z", "fields": {"k": [1, 2]}})),
    "log_json_array": post("/api/log", "application/json",
                           json.dumps([{"msg": f"arr {i}", "topic": "a.b"} for i in range(5)])),
    "log_ndjson": post("/api/log", "application/x-ndjson", ndjson(20)),
    "log_ndjson_many": post("/api/log", "application/x-ndjson", ndjson(300, "bulk.x")),
    "log_text": post("/api/log", "text/plain", "plain line one\nplain line two\n"),
    "log_chunked": post("/api/log", "application/x-ndjson", chunked(ndjson(6).encode()),
                        "Transfer-Encoding: chunked\r\n"),
    "log_expect": post("/api/log", "application/json", '{"msg":"expect"}',
                       "Expect: 100-continue\r\n"),
    "log_producer": post("/api/log", "application/x-ndjson", ndjson(3),
                         "Logship-Producer: fuzz-1\r\nLogship-Batch: 7\r\n")
    + post("/api/log", "application/x-ndjson", ndjson(3),
           "Logship-Producer: fuzz-1\r\nLogship-Batch: 7\r\n"),
    "log_get": req("GET", "/api/log?msg=from+get&level=debug&topic=g.h"),
    "log_cors": post("/api/log", "application/json", '{"msg":"cors"}',
                     "Origin: http://ok.example\r\n"),
    "log_allowed_origin": post("/api/log", "application/json", '{"msg":"ok"}',
                               "Origin: http://app.example\r\n"),
    "log_cross_site": post("/api/log", "application/json", '{"msg":"no"}',
                           "Origin: http://evil.example\r\n"),
    "log_bad_json": post("/api/log", "application/json", '{"msg": "unterminated'),
    "log_bad_ctype": post("/api/log", "application/xml", "<msg/>"),
    "log_too_large": req("POST", "/api/log",
                         "Content-Type: application/json\r\nContent-Length: 999999999\r\n"),
    # queries
    "logs_default": req("GET", "/api/logs"),
    "logs_params": req("GET", "/api/logs?limit=50&topic=web.%23&level=info&q=record"),
    "logs_order": req("GET", "/api/logs?order=asc&after=1&before=400&limit=5"),
    "logs_times": req("GET", "/api/logs?since=2024-01-01T00:00:00Z&until=now&topic=*.slow"),
    "logs_bad": req("GET", "/api/logs?limit=-1&level=loud&topic=a..b"),
    "logs_head": req("HEAD", "/api/logs?limit=3"),
    "logs_cors": req("GET", "/api/logs?limit=2", "Origin: http://ok.example\r\n"),
    # live tail, SSE
    "tail_sse": req("GET", "/api/tail?n=5", SSE),
    "tail_sse_filters": req("GET", "/api/tail?n=20&topic=web.%23&topic=bulk.*&level=warn&q=1",
                            SSE),
    "tail_sse_last_id": req("GET", "/api/tail", SSE + "Last-Event-ID: 3\r\n"),
    "tail_sse_after": req("GET", "/api/tail?after=1&n=100", SSE),
    "tail_sse_bad": req("GET", "/api/tail?topic=a..b", SSE),
    "tail_no_accept": req("GET", "/api/tail?n=1"),
    # live tail, WebSocket: frames after the handshake, then a close
    "tail_ws": req("GET", "/api/tail?n=3", WS)
    + frame(1, "hello") + frame(9, "ping") + frame(10) + close(),
    "tail_ws_filters": req("GET", "/api/tail?n=10&topic=web.%23&level=error", WS)
    + frame(1, "part ", fin=False) + frame(0, "two") + close(1001, b"bye"),
    "tail_ws_bad": req("GET", "/api/tail?topic=a..b", WS) + close(),
    "tail_ws_unknown": req("GET", "/api/tail?bogus=1", WS),
    "tail_ws_cross_site": req("GET", "/api/tail", WS + "Origin: http://evil.example\r\n"),
    "tail_ws_cors_origin": req("GET", "/api/tail?n=1", WS + "Origin: http://ok.example\r\n")
    + close(),
    "tail_ws_binary_big": req("GET", "/api/tail?n=0", WS) + frame(2, b"\x00" * 300) + close(),
    "tail_ws_unmasked": req("GET", "/api/tail", WS) + b"\x81\x05hello",
    "tail_ws_bad_close": req("GET", "/api/tail", WS) + frame(8, b"\x03"),
    "tail_ws_live": req("GET", "/api/tail?n=0", WS) + close(),
    # files over HTTP
    "files_list": req("GET", "/api/files"),
    "files_list_head": req("HEAD", "/api/files"),
    "files_app": req("GET", "/api/files/logs/app.log?n=5"),
    "files_long": req("GET", "/api/files/logs/long.log?n=3"),
    "files_nonl": req("GET", "/api/files/logs/nonl.log?n=10"),
    "files_bad_utf8": req("GET", "/api/files/logs/bad.log"),
    "files_empty": req("GET", "/api/files/logs/empty.log"),
    "files_nested": req("GET", "/api/files/logs/sub/nested.log?n=1"),
    "files_alias": req("GET", "/api/files/logs/alias.log?n=2"),
    "files_escape": req("GET", "/api/files/logs/escape"),
    "files_dotdot": req("GET", "/api/files/logs/%2e%2e/outside/secret"),
    "files_pipe": req("GET", "/api/files/logs/pipe"),
    "files_dir": req("GET", "/api/files/logs/sub"),
    "files_no_root": req("GET", "/api/files/nope/app.log"),
    "files_sse_once": req("GET", "/api/files/logs/app.log?n=3&follow=0", SSE),
    "files_sse_follow": req("GET", "/api/files/logs/app.log?n=1", SSE),
    "files_sse_long": req("GET", "/api/files/logs/long.log?n=3&follow=0", SSE),
    # files over WebSocket
    "files_ws_once": req("GET", "/api/files/logs/app.log?n=2&follow=0", WS) + close(),
    "files_ws_follow": req("GET", "/api/files/logs/nonl.log?n=5", WS) + frame(9) + close(),
    "files_ws_long": req("GET", "/api/files/logs/long.log?n=3&follow=0", WS),
    "files_ws_escape": req("GET", "/api/files/logs/escape", WS) + close(),
    "files_ws_dotdot": req("GET", "/api/files/logs/../../outside/secret", WS),
    "files_ws_bad_param": req("GET", "/api/files/logs/app.log?n=%ff", WS),
    # about logshipd
    "healthz": req("GET", "/healthz"),
    "healthz_head": req("HEAD", "/healthz"),
    "metrics": req("GET", "/metrics"),
    "index": req("GET", "/", "Accept: text/html\r\n"),
    "index_json": req("GET", "/", "Accept: application/json\r\n"),
    "ui_app": req("GET", "/ui/app.js"),
    "ui_head": req("HEAD", "/ui/app.css"),
    "ui_missing": req("GET", "/ui/missing.js"),
    "ui_dotdot": req("GET", "/ui/../index.html"),
    "ui_cached": req("GET", "/ui/app.js", 'If-None-Match: "x"\r\n'),
    # preflights
    "options_log": req("OPTIONS", "/api/log", "Origin: http://ok.example\r\n"
                       "Access-Control-Request-Method: POST\r\n"
                       "Access-Control-Request-Headers: content-type\r\n"),
    "options_other_origin": req("OPTIONS", "/api/logs", "Origin: http://evil.example\r\n"
                                "Access-Control-Request-Method: GET\r\n"),
    "options_no_origin": req("OPTIONS", "/api/tail"),
    "options_not_cors": req("OPTIONS", "/metrics", "Origin: http://ok.example\r\n"),
    # bad requests
    "bad_garbage": b"\x01\x02 not http at all\r\n\r\n",
    "bad_method": req("DELETE", "/api/logs"),
    "bad_path": req("GET", "/nowhere"),
    "bad_version": b"GET /healthz HTTP/9.9\r\n" + HOST.encode() + b"\r\n",
    "bad_host": b"GET /healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    "bad_cl_te": b"POST /api/log HTTP/1.1\r\n" + HOST.encode()
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad_te": b"POST /api/log HTTP/1.1\r\n" + HOST.encode()
    + b"Transfer-Encoding: gzip\r\n\r\n",
    "bad_chunk": b"POST /api/log HTTP/1.1\r\n" + HOST.encode()
    + b"Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "bad_header": b"GET /healthz HTTP/1.1\r\n" + HOST.encode() + b"X: " + b"a" * 17000 + b"\r\n\r\n",
    "http10": b"GET /healthz HTTP/1.0\r\n\r\n",
    "cut_head": b"GET /api/logs?limit=1 HTTP/1.1\r\nHo",
    "cut_body": req("POST", "/api/log", "Content-Type: text/plain\r\nContent-Length: 100\r\n",
                    b"only part"),
    # pipelined
    "pipeline": req("GET", "/healthz") + req("HEAD", "/api/logs") + post(
        "/api/log", "text/plain", "piped\n") + req("GET", "/api/logs?limit=1")
    + req("GET", "/api/files/logs/app.log?n=1") + req("GET", "/metrics"),
    "pipeline_close": req("GET", "/healthz", "Connection: close\r\n") + req("GET", "/healthz"),
    # replies before a hand-off to lws must reach the client whole
    "pipeline_big_then_ws": post("/api/log", "application/x-ndjson", ndjson(200, "big.r"))
    + req("GET", "/api/logs?limit=1000") + req("GET", "/api/tail?n=1", WS) + close(),
    "pipeline_ui_then_ws": req("GET", "/ui/app.js") + req("GET", "/ui/loglist.js")
    + req("GET", "/api/files/logs/app.log?n=1&follow=0", WS) + close(),
    "pipeline_sse_then_more": req("GET", "/api/files/logs/app.log?n=2&follow=0", SSE)
    + req("GET", "/healthz"),
    # regressions: each a bug the driver found, kept as a seed
    # requests pipelined behind a store append, then a half-close: all answered
    "regress_pipelined_behind_append_half_close": post("/api/log", "text/plain", "first\n")
    + req("GET", "/healthz") + req("GET", "/api/logs?limit=1"),
    # a client close frame with a 1-byte payload: no invalid close frame back
    "regress_ws_close_one_byte": req("GET", "/api/tail?n=0", WS) + frame(8, b"\x03"),
    # a client close reason that is not UTF-8: no invalid close frame back
    "regress_ws_close_bad_utf8": req("GET", "/api/tail?n=0", WS)
    + frame(8, b"\x03\xe8\xff\xfe"),
    # a refused WebSocket ends with a close frame (1008), a finished read with 1000
    "regress_ws_refusal_close_frame": req("GET", "/api/tail?topic=a..b", WS),
    "regress_ws_one_shot_close_frame": req("GET", "/api/files/logs/nonl.log?follow=0", WS),
    # a one-shot read through a line longer than one read, over SSE and WebSocket
    "regress_files_long_line_sse": req("GET", "/api/files/logs/long.log?n=3&follow=0", SSE),
    "regress_files_long_line_ws": req("GET", "/api/files/logs/long.log?n=3&follow=0", WS),
}

# the same requests cut differently, or with a vanishing client
# with the driver's token (mode bit 3): one token with every scope, limited
# to web.# and kern.*
BEARER = "Authorization: Bearer fuzz-token-0123456789\r\n"
BASIC = "Authorization: Basic eDpmdXp6LXRva2VuLTAxMjM0NTY3ODk=\r\n"  # x:fuzz-token-...
AUTH_SEEDS = {
    "auth_log_outside": post("/api/log", "application/x-ndjson",
                             ndjson(2) + ndjson(1, "db.x") + ndjson(1, "kern.crit"), BEARER)
    + post("/api/log", "application/x-ndjson", ndjson(3) + ndjson(2, "kern.warn"), BEARER)
    + post("/api/log?app=db", "text/plain", "outside by default\n", BASIC),
    "auth_logs": req("GET", "/api/logs?limit=100", BEARER)
    + req("GET", "/api/logs?topic=db&topic=web", BEARER)
    + req("GET", "/api/logs?topic=%23&order=desc&limit=5", BASIC),
    "auth_tail_sse": req("GET", "/api/tail?n=100&topic=%23", SSE + BEARER),
    "auth_tail_ws": req("GET", "/api/tail?n=100", WS + BEARER)
    + frame(1, b"hello") + close(),
    "auth_session": req("POST", "/api/session", BEARER)
    + req("POST", "/api/session?scope=tail,read", BEARER)
    + req("POST", "/api/session?scope=nope", BEARER)
    + req("GET", "/api/tail?ticket=" + "0" * 64 + "&n=1", SSE),
    "auth_refused": req("GET", "/api/logs") + req("GET", "/healthz")
    + req("GET", "/api/logs", "Authorization: Bearer wrong-token-000000000\r\n")
    + req("GET", "/api/logs", "Authorization: Negotiate abc\r\n")
    + req("GET", "/metrics", BEARER) + req("GET", "/ui/app.js"),
    "auth_files": req("GET", "/api/files", BEARER)
    + req("GET", "/api/files/logs/app.log?n=3", BEARER),
}

MODES = {"": 0, "_bytes": 1, "_p16": 2, "_p512": 3, "_vanish": 4}
VARIANTS = {
    "log_chunked": ["_bytes", "_vanish"],
    "log_ndjson_many": ["_p512", "_vanish"],
    "tail_ws": ["_bytes", "_p16", "_vanish"],
    "tail_ws_bad": ["_p16", "_vanish"],
    "tail_sse": ["_vanish"],
    "files_ws_once": ["_p16", "_vanish"],
    "files_ws_long": ["_vanish"],
    "files_sse_follow": ["_vanish"],
    "files_list": ["_vanish"],
    "logs_params": ["_vanish"],
    "pipeline": ["_bytes", "_p16", "_p512", "_vanish"],
    "pipeline_big_then_ws": ["_p512"],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if not name.startswith("regress_"):
            os.remove(os.path.join(OUT, name))  # a seed renamed or dropped here
    for name, data in SEEDS.items():
        for suffix in [""] + VARIANTS.get(name, []):
            with open(os.path.join(OUT, name + suffix), "wb") as f:
                f.write(bytes([MODES[suffix]]) + data)
    for name, data in AUTH_SEEDS.items():
        for suffix in ("", "_p16"):
            with open(os.path.join(OUT, name + suffix), "wb") as f:
                f.write(bytes([MODES[suffix] | 8]) + data)
    print(f"{len(os.listdir(OUT))} seeds in {OUT}")


if __name__ == "__main__":
    main()
