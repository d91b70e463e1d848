"""Grafana Loki push (POST /loki/api/v1/push), JSON and snappy protobuf:
pino with its pino-loki transport (JSON) and winston with winston-loki
(protobuf, its default) as real clients, the labels and structured metadata mapped
onto records, and bad pushes refused with Loki's 400 while the good entries
around them are kept."""
import gzip
import json
import os
import subprocess
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_DIR = os.path.join(ROOT, "tests", "integration", "node")
PUSH = "/loki/api/v1/push"


def wait_for(server, n, timeout=20, **params):
    deadline = time.time() + timeout
    got = []
    while time.time() < deadline:
        got = server.logs(limit=10000, **params)
        if len(got) >= n:
            return got
        time.sleep(0.1)
    return got


def push(server, body, **kw):
    return requests.post(server.url + PUSH, data=body, timeout=10, **kw)


def test_pino_loki(server):
    r = subprocess.run(["node", os.path.join(NODE_DIR, "loki_pino.js"), server.url, "40"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = wait_for(server, 40, topic="shop.#")
    assert len(got) == 40
    # each record once, in order: pino-loki's line is the pino JSON object
    lines = [json.loads(g["msg"]) for g in got]
    assert [ln["n"] for ln in lines] == list(range(40))
    assert [ln["msg"] for ln in lines][:2] == ["order 0 placed", "order 1 placed"]
    assert [g["level"] for g in got[:4]] == ["info", "warning", "error", "debug"]
    assert all(g["app"] == "shop" for g in got)
    assert [g["topic"] for g in got[:2]] == ["shop.info", "shop.warning"]
    # labels that are not record parts, and the structured metadata
    assert got[0]["fields"]["env"] == "test"
    assert got[5]["fields"]["trace_id"] == "t5"
    # pino's own time is the entry's timestamp
    assert got[0]["ts"].startswith(time.strftime("%Y-", time.gmtime()))
    assert server.metrics()['logship_records_accepted_total{input="loki"}'] == 40


def test_winston_loki_protobuf(server):
    r = subprocess.run(["node", os.path.join(NODE_DIR, "loki_winston.js"), server.url, "40"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    got = wait_for(server, 40, topic="winapp.#")
    assert len(got) == 40
    # winston-loki's line is the message and its metadata; entries come
    # grouped by stream (level and the n label)
    assert sorted(g["msg"].split(" {")[0] for g in got) == sorted(
        f"winston {i}" for i in range(40))
    levels = {"info": "info", "warn": "warning", "error": "error", "debug": "debug"}
    for g in got:
        i = int(g["msg"].split()[1])
        assert g["level"] == levels[["info", "warn", "error", "debug"][i % 4]]
        assert g["fields"] == {"env": "test", "n": str(i % 2)}
        assert g["app"] == "winapp"
    m = server.metrics()
    assert m['logship_records_accepted_total{input="loki"}'] == 40
    assert m['logship_bytes_received_total{input="loki"}'] < 40 * 20  # snappy protobuf


def snappy_push(streams):
    """A protobuf push as Loki takes it, compressed by node's snappy (the
    one winston-loki uses): streams are (labels, [(sec, nsec, line)])."""
    def varint(v):
        out = b""
        while v >= 0x80:
            out += bytes([v & 0x7f | 0x80])
            v >>= 7
        return out + bytes([v])

    def ld(num, payload):
        return varint(num << 3 | 2) + varint(len(payload)) + payload

    def vi(num, v):
        return varint(num << 3) + varint(v)

    body = b""
    for labels, entries in streams:
        st = ld(1, labels.encode())
        for e in entries:
            st += ld(2, e if isinstance(e, bytes) else
                     ld(1, vi(1, e[0]) + vi(2, e[1])) + ld(2, e[2].encode()))
        body += ld(1, st)
    r = subprocess.run(["node", "-e", "process.stdout.write(require('snappy').compressSync("
                        "require('fs').readFileSync(0)))"], input=body, capture_output=True,
                       cwd=NODE_DIR, timeout=30, check=True)
    return r.stdout


def test_protobuf_bad_parts_refused_good_ones_kept(server):
    body = snappy_push([
        ('{app="pb", level="error"}', [(1764684000, 5, "pb 1"), b"\x0a\x05\x08",
                                       (1764684001, 0, "pb 2")]),
        ("app=no braces", [(1764684002, 0, "lost with its labels")]),
        ('{app="pb", note="say \\"hi\\""}', [(1764684003, 0, "pb 3")]),
    ])
    r = push(server, body, headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code == 400 and r.json()["accepted"] == 3
    assert [x["entry"] for x in r.json()["rejected"]] == [2, 4]
    got = server.logs()
    assert [g["msg"] for g in got] == ["pb 1", "pb 2", "pb 3"]
    assert got[0]["ts"] == "2025-12-02T14:00:00.000000005Z" and got[0]["level"] == "error"
    assert got[2]["fields"]["note"] == 'say "hi"'
    r = push(server, b"not snappy at all", headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code == 400 and "snappy" in r.json()["error"]


def test_labels_mapped_and_kept(server):
    body = {"streams": [
        {"stream": {"service_name": "api", "host": "web-1", "detected_level": "error",
                    "job": "varlogs", "region": "eu"},
         "values": [["1764684000123456789", "first"],
                    ["1764684001000000000", "second", {"trace_id": "abc", "level": "warn"}]]},
        {"stream": {"app": "db", "level": "bogus"}, "values": [["1764684002000000000", "third"]]},
    ]}
    r = push(server, json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 204 and r.content == b""
    got = server.logs()
    assert [g["msg"] for g in got] == ["first", "second", "third"]
    a, b, c = got
    assert (a["app"], a["host"], a["level"], a["topic"]) == ("api", "web-1", "error", "api.error")
    assert a["ts"] == "2025-12-02T14:00:00.123456789Z"
    assert a["fields"] == {"job": "varlogs", "region": "eu"}
    # the entry's metadata is applied over the stream's labels
    assert b["level"] == "warning" and b["fields"]["trace_id"] == "abc"
    # a level no name maps to: stored at info, kept as it was sent
    assert c["level"] == "info" and c["fields"]["level_raw"] == "bogus"
    assert c["app"] == "db"


def test_bad_entries_refused_good_ones_kept(server):
    body = {"streams": [
        {"stream": {"app": "mix"}, "values": [
            ["1764684000000000000", "good 1"],
            ["not a time", "bad time"],
            ["1764684000000000001", 42],
            "not an entry",
            ["1764684000000000002", "good 2"],
        ]},
        {"stream": {"app": "mix"}},
        {"stream": {"app": "mix"}, "values": [["1764684000000000003", "good 3"]]},
    ]}
    r = push(server, json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    reply = r.json()
    assert reply["accepted"] == 3 and reply["rejected_count"] == 4
    assert [x["entry"] for x in reply["rejected"]] == [2, 3, 4, 6]
    assert "bad timestamp" in reply["rejected"][0]["error"]
    assert "stream 2" in reply["rejected"][3]["error"]
    assert [g["msg"] for g in server.logs()] == ["good 1", "good 2", "good 3"]
    m = server.metrics()
    assert m['logship_records_accepted_total{input="loki"}'] == 3
    assert m['logship_parse_errors_total{input="loki"}'] == 4


def test_not_a_push_refused_whole(server):
    for body, why in [(b'{"streams": [', "invalid JSON"),
                      (b'{"stream": {}}', "not a Loki push request"),
                      (b'[1, 2]', "not a Loki push request")]:
        r = push(server, body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and why in r.json()["error"], (body, r.text)
    r = push(server, b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "application/x-protobuf" in r.json()["error"]
    r = requests.get(server.url + PUSH, timeout=10)
    assert r.status_code == 405
    assert server.logs() == []


def test_gzip_body(server):
    body = json.dumps({"streams": [{"stream": {"app": "gz"},
                                    "values": [["1764684000000000000", "compressed"]]}]})
    r = push(server, gzip.compress(body.encode()),
             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 204
    r = push(server, gzip.compress(body.encode())[:-8],
             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 400 and "Content-Encoding" in r.json()["error"]
    r = push(server, body, headers={"Content-Type": "application/json",
                                    "Content-Encoding": "br"})
    assert r.status_code == 415
    assert [g["msg"] for g in server.logs()] == ["compressed"]


def test_zstd_body(server):
    import shutil
    if not shutil.which("zstd"):
        pytest.skip("the zstd command is not installed")
    body = json.dumps({"streams": [{"stream": {"app": "zs"}, "values": [
        [str(1764684000000000000 + i), f"zstd {i}"] for i in range(500)]}]}).encode()
    z = subprocess.run(["zstd", "-q", "-c"], input=body, capture_output=True, check=True).stdout
    hdr = {"Content-Type": "application/json", "Content-Encoding": "zstd"}
    assert push(server, z, headers=hdr).status_code == 204
    r = push(server, z[:-10], headers=hdr)
    assert r.status_code == 400 and "Content-Encoding" in r.json()["error"]
    assert [g["msg"] for g in server.logs(limit=1000)] == [f"zstd {i}" for i in range(500)]
