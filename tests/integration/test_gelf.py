"""GELF (Graylog Extended Log Format): python3-graypy as the real client
over UDP (zlib-compressed, chunked when large), TCP (NUL-ended) and HTTP
(POST /gelf, compressed), and npm's gelf-pro over UDP and TCP; the GELF fields mapped onto records, and bad
messages kept (UDP, TCP) or refused with 400 (HTTP) without losing the
good ones around them."""
import gzip
import json
import logging
import os
import socket
import subprocess
import struct
import time
import zlib

import pytest
import requests

graypy = pytest.importorskip("graypy")

from test_store import all_records  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_DIR = os.path.join(ROOT, "tests", "integration", "node")


def wait_for(server, n, timeout=20):
    deadline = time.time() + timeout
    got = []
    while time.time() < deadline:
        got = all_records(server)
        if len(got) >= n:
            return got
        time.sleep(0.1)
    return got


@pytest.fixture
def gelf_server(make_server):
    return make_server("--gelf-udp", "127.0.0.1:0", "--gelf-tcp", "127.0.0.1:0")


def graypy_logger(name, handler):
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger


def check_mapped(got, name):
    assert [g["msg"] for g in got] == ["disk /var at 93%", "debug detail", "with extra"]
    assert [g["level"] for g in got] == ["warning", "debug", "error"]
    assert all(g["app"] == name and g["host"] == "gelf-host" for g in got)
    assert got[0]["topic"] == name + ".warning"
    assert got[2]["fields"]["user_id"] == 42 and got[2]["fields"]["request"] == "r-1"


def log_three(logger):
    logger.warning("disk %s at %d%%", "/var", 93)
    logger.debug("debug detail")
    logger.error("with extra", extra={"user_id": 42, "request": "r-1"})


def test_graypy_udp(gelf_server):
    h = graypy.GELFUDPHandler("127.0.0.1", gelf_server.ports["gelf-udp"], localname="gelf-host",
                              debugging_fields=True)
    log_three(graypy_logger("app.udp", h))
    got = wait_for(gelf_server, 3)
    check_mapped(got, "app.udp")
    # graypy's debugging fields: _pid is the record's pid, the rest fields
    import os
    assert got[0]["pid"] == str(os.getpid()) and got[0]["fields"]["function"] == "log_three"


def test_graypy_udp_chunked(gelf_server):
    # a big message that does not compress well: several chunks
    import random
    rnd = random.Random(7)
    big = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(30000))
    h = graypy.GELFUDPHandler("127.0.0.1", gelf_server.ports["gelf-udp"], localname="gelf-host",
                              gelf_chunker=graypy.handler.GELFWarningChunker(chunk_size=1420))
    logger = graypy_logger("app.chunks", h)
    logger.info("big %s", big)
    logger.info("small after")
    got = wait_for(gelf_server, 2)
    assert [g["msg"] for g in got] == ["big " + big, "small after"]


def test_graypy_tcp(gelf_server):
    h = graypy.GELFTCPHandler("127.0.0.1", gelf_server.ports["gelf-tcp"], localname="gelf-host")
    log_three(graypy_logger("app.tcp", h))
    h.close()
    check_mapped(wait_for(gelf_server, 3), "app.tcp")


def test_graypy_http(gelf_server):
    h = graypy.GELFHTTPHandler("127.0.0.1", gelf_server.port, localname="gelf-host")
    log_three(graypy_logger("app.http", h))
    check_mapped(wait_for(gelf_server, 3), "app.http")


@pytest.mark.parametrize("adapter", ["udp", "tcp"])
def test_node_gelf_pro(gelf_server, adapter):
    r = subprocess.run(["node", os.path.join(NODE_DIR, "gelf_pro.js"), adapter,
                        str(gelf_server.ports["gelf-" + adapter]), "20"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = wait_for(gelf_server, 20)
    assert sorted(g["msg"] for g in got) == sorted(f"gelf-pro message {i}" for i in range(20))
    assert all(g["level"] == "warning" and g["app"] == "nodesvc" for g in got)
    assert all(g["fields"]["owner"] == "team-a" for g in got)
    assert sorted(g["fields"]["n"] for g in got) == list(range(20))


def test_bad_messages_kept_or_refused(gelf_server):
    s = gelf_server
    good = {"version": "1.1", "host": "h", "short_message": "good", "timestamp": 1764684000.25,
            "level": 3, "_app": "svc", "_topic": "svc.custom"}
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for dg in [zlib.compress(json.dumps(good).encode()), b"not gelf at all",
               zlib.compress(b'{"short_message":"trunc')[:-4], gzip.compress(json.dumps(
                   dict(good, short_message="gzipped")).encode())]:
        udp.sendto(dg, ("127.0.0.1", s.ports["gelf-udp"]))
    got = wait_for(s, 4)
    assert [g["msg"] for g in got][0] == "good" and got[-1]["msg"] == "gzipped"
    assert (got[0]["level"], got[0]["app"], got[0]["topic"]) == ("error", "svc", "svc.custom")
    assert got[0]["ts"] == "2025-12-02T14:00:00.250000000Z"
    assert got[1]["msg"] == "not gelf at all" and "not a GELF message" in \
        got[1]["fields"]["parse_error"]
    assert "truncated or corrupt" in got[2]["fields"]["parse_error"]
    assert s.metrics()['logship_parse_errors_total{input="gelf_udp"}'] == 2
    # TCP: the bad message between two good ones is kept raw
    with socket.create_connection(("127.0.0.1", s.ports["gelf-tcp"])) as t:
        t.sendall(json.dumps(dict(good, short_message="tcp 1")).encode() + b"\0{broken\0" +
                  json.dumps(dict(good, short_message="tcp 2")).encode() + b"\0")
    got = wait_for(s, 7)
    assert [g["msg"] for g in got[4:]] == ["tcp 1", "{broken", "tcp 2"]
    # HTTP: refused with the reason, nothing stored
    r = requests.post(s.url + "/gelf", data=b'{"host":"h"}', timeout=10)
    assert r.status_code == 400 and "short_message" in r.json()["error"]
    r = requests.post(s.url + "/gelf", data=json.dumps(good), timeout=10)
    assert r.status_code == 202
    assert len(wait_for(s, 8)) == 8


def test_chunks_out_of_order_and_incomplete(gelf_server):
    s = gelf_server
    msg = zlib.compress(json.dumps({"version": "1.1", "host": "h",
                                    "short_message": "reassembled"}).encode())
    parts = [msg[i:i + 10] for i in range(0, len(msg), 10)]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port = s.ports["gelf-udp"]
    # an incomplete message first (never finished), then one out of order
    udp.sendto(b"\x1e\x0f" + b"INCOMPLT" + bytes([0, 3]) + b"abc", ("127.0.0.1", port))
    for i in reversed(range(len(parts))):
        udp.sendto(b"\x1e\x0f" + b"MSGID001" + bytes([i, len(parts)]) + parts[i],
                   ("127.0.0.1", port))
    udp.sendto(b"\x1e\x0f" + b"MSGID001" + bytes([0, len(parts)]) + parts[0], ("127.0.0.1", port))
    udp.sendto(json.dumps({"version": "1.1", "host": "h", "short_message": "last"}).encode(),
               ("127.0.0.1", port))
    got = wait_for(s, 2)
    time.sleep(0.3)  # nothing else may come: the incomplete message is never delivered
    assert [g["msg"] for g in all_records(s)] == ["reassembled", "last"]
