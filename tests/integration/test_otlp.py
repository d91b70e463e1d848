"""OpenTelemetry OTLP/HTTP logs (POST /v1/logs, JSON and protobuf): the
OpenTelemetry logs SDK for node with its OTLP/HTTP exporters (JSON, and
protobuf) as the real client, resource
and log attributes mapped onto records, refused log records reported in
partialSuccess while the others are stored, and the store pushing back
(503 with Retry-After) retried by the exporter without loss."""
import json
import os
import subprocess
import threading
import time

import pytest
import requests

from test_store import all_records, post_batch, small_disk  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_DIR = os.path.join(ROOT, "tests", "integration", "node")


def export(server, count, encoding="json", timeout=60):
    r = subprocess.run(["node", os.path.join(NODE_DIR, "otlp_logs.js"), server.url, str(count),
                        encoding], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])["results"]


def wait_for(server, n, timeout=20):
    deadline = time.time() + timeout
    got = []
    while time.time() < deadline:
        got = all_records(server)
        if len(got) >= n:
            return got
        time.sleep(0.1)
    return got


@pytest.mark.parametrize("encoding", ["json", "proto"])
def test_node_sdk(server, encoding):
    assert export(server, 40, encoding) == [0]  # ExportResultCode.SUCCESS
    got = wait_for(server, 40)
    assert [g["msg"] for g in got] == [f"order {i} placed" for i in range(40)]
    assert [g["level"] for g in got[:4]] == ["info", "warning", "error", "debug"]
    g = got[1]
    assert (g["app"], g["host"], g["topic"]) == ("shop", "otel-host", "shop.warning")
    assert g["fields"] == {"resource.deployment.environment": "test", "scope.name": "checkout",
                           "n": 1, "user.id": "u1", "ok": False}
    assert g["ts"].startswith(time.strftime("%Y-", time.gmtime()))


def post(server, body, ctype="application/json"):
    return requests.post(server.url + "/v1/logs", data=body, timeout=10,
                         headers={"Content-Type": ctype})


def test_values_trace_ids_and_severity(server):
    req = {"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}},
                                    {"key": "process.pid", "value": {"intValue": "4242"}}]},
        "scopeLogs": [{"scope": {"name": "lib"}, "logRecords": [
            {"timeUnixNano": "1764684000123456789", "severityNumber": 21,
             "severityText": "FATAL", "body": {"stringValue": "boom"},
             "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
             "attributes": [{"key": "tags", "value": {"arrayValue": {"values": [
                 {"stringValue": "a"}, {"intValue": "2"}]}}},
                 {"key": "ctx", "value": {"kvlistValue": {"values": [
                     {"key": "k", "value": {"boolValue": True}}]}}}]},
            {"observedTimeUnixNano": "1764684001000000000", "severityText": "Warning",
             "severityNumber": 14,
             "body": {"kvlistValue": {"values": [{"key": "event", "value":
                                                  {"stringValue": "login"}}]}}},
        ]}]}]}
    r = post(server, json.dumps(req))
    assert r.status_code == 200 and r.json() == {"partialSuccess": {}}
    a, b = all_records(server)
    assert (a["msg"], a["level"], a["app"], a["pid"]) == ("boom", "crit", "api", "4242")
    assert a["ts"] == "2025-12-02T14:00:00.123456789Z"
    assert a["fields"]["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert a["fields"]["span_id"] == "eee19b7ec3c1b174"
    assert "severity_text" not in a["fields"]  # FATAL says no more than crit
    assert a["fields"]["tags"] == ["a", 2] and a["fields"]["ctx"] == {"k": True}
    assert json.loads(b["msg"]) == {"event": "login"}
    assert b["level"] == "warning" and b["ts"] == "2025-12-02T14:00:01.000000000Z"
    assert "severity_text" not in b["fields"]


def test_bad_records_refused_good_ones_kept(server):
    lr = {"body": {"stringValue": "good"}}
    req = {"resourceLogs": [{"scopeLogs": [{"logRecords": [lr, 7, "x", dict(lr)]}]}]}
    r = post(server, json.dumps(req))
    assert r.status_code == 200
    ps = r.json()["partialSuccess"]
    assert ps["rejectedLogRecords"] == "2" and "log record 2" in ps["errorMessage"]
    assert [g["msg"] for g in all_records(server)] == ["good", "good"]
    r = post(server, b'{"resourceLogs": [')
    assert r.status_code == 400 and r.json()["code"] == 3
    r = post(server, b'{"resourceLogs": {}}')
    assert r.status_code == 400 and "resourceLogs" in r.json()["message"]
    r = post(server, b"x", ctype="text/plain")
    assert r.status_code == 415
    assert len(all_records(server)) == 2


def pb_field(num, wire, payload):
    """One protobuf field: a varint key, then a varint or length-delimited bytes."""
    def varint(v):
        out = b""
        while v >= 0x80:
            out += bytes([v & 0x7f | 0x80])
            v >>= 7
        return out + bytes([v])
    if wire == 0:
        return varint(num << 3) + varint(payload)
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def test_protobuf_values_and_bad_bodies(server):
    any_str = lambda s: pb_field(1, 2, s.encode())  # noqa: E731
    kv = lambda k, v: pb_field(1, 2, k.encode()) + pb_field(2, 2, v)  # noqa: E731
    lr = (pb_field(2, 0, 17) + pb_field(5, 2, any_str("pb body")) +
          pb_field(6, 2, kv("count", pb_field(3, 0, 7))) +
          pb_field(6, 2, kv("neg", pb_field(3, 0, (1 << 64) - 5))) +
          pb_field(9, 2, bytes(range(16))) + pb_field(10, 2, bytes(range(8))) +
          pb_field(99, 2, b"an unknown field is skipped"))
    res = pb_field(1, 2, kv("service.name", any_str("pbsvc")))
    req = pb_field(1, 2, pb_field(1, 2, res) + pb_field(2, 2, pb_field(2, 2, lr)))
    r = post(server, req, ctype="application/x-protobuf")
    assert r.status_code == 200 and r.content == b""  # an empty ExportLogsServiceResponse
    assert r.headers["Content-Type"] == "application/x-protobuf"
    [g] = all_records(server)
    assert (g["msg"], g["level"], g["app"]) == ("pb body", "error", "pbsvc")
    assert g["fields"]["count"] == 7 and g["fields"]["neg"] == -5
    assert g["fields"]["trace_id"] == bytes(range(16)).hex()
    assert g["fields"]["span_id"] == bytes(range(8)).hex()
    # a field that runs past its message: refused whole, as a protobuf Status
    r = post(server, req[:-3], ctype="application/x-protobuf")
    assert r.status_code == 400 and b"malformed protobuf" in r.content
    assert r.content[:2] == b"\x08\x03"  # code: INVALID_ARGUMENT
    assert len(all_records(server)) == 1


def test_store_pushing_back_is_retried(make_server, small_disk):  # noqa: F811
    s = make_server("--segment-size", "256K", data_dir=small_disk.data)
    small_disk.check(s)
    for n in range(400):
        if post_batch(s, [{"msg": f"{n}.{i} {'x' * 200}"} for i in range(50)]).status_code == 503:
            break
    else:
        pytest.fail("the disk never filled")
    before = len(all_records(s))
    out = {}
    t = threading.Thread(target=lambda: out.update(results=export(s, 10)))
    t.start()
    deadline = time.time() + 20
    while time.time() < deadline:
        if s.metrics().get('logship_http_responses_total{code="503"}', 0) >= 2:
            break  # the fill's 503, then the exporter's
        time.sleep(0.05)
    else:
        pytest.fail("the exporter was never told to retry")
    small_disk.free()
    t.join(60)
    assert out["results"] == [0]
    got = [g["msg"] for g in all_records(s)][before:]
    assert got == [f"order {i} placed" for i in range(10)]
