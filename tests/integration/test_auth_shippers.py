"""A writer token limited to some topics on the shippers' HTTP routes (Loki
push, Elasticsearch bulk, GELF HTTP, OTLP/HTTP JSON and protobuf, systemd
journal upload): as on /api/log, records in its topics are stored, and a
request with one record outside them is refused whole with 403 and nothing
of it is stored, not the good records around the refused one; the route
still takes the token's good requests after it; the refusals are counted
in /metrics. The same bodies sent with an unlimited token are stored, so
the 403 is the topic check's and nothing else's."""
import json
import struct

import pytest
import requests

from conftest import Server
from test_otlp import pb_field

TOKENS = {
    "all": ("tok-all-000000000006", "write,read,admin", None),
    "wweb": ("tok-wweb-00000000008", "write", "web.#"),
}


def auth(who):
    return {"Authorization": "Bearer " + TOKENS[who][0]}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("authship")
    path = d / "tokens"
    path.write_text("".join(" ".join(x for x in (n, t, s, p) if x) + "\n"
                            for n, (t, s, p) in TOKENS.items()))
    path.chmod(0o600)
    s = Server(d / "data", ["--auth-file", str(path)]).start()
    yield s
    rc = s.stop()
    assert rc == 0, s.log_text()
    log = s.log_text()
    assert not [t for t, _, _ in TOKENS.values() if t in log]


def stored(s, marker):
    """The msgs of every stored record containing marker, in seq order."""
    r = requests.get(s.url + "/api/logs", params={"q": marker, "limit": 100000, "after": 0},
                     headers={"Accept": "application/x-ndjson", **auth("all")}, timeout=60)
    assert r.status_code == 200, r.text
    return [json.loads(x)["msg"] for x in r.text.splitlines() if x]


def forbidden_count(s):
    r = requests.get(s.url + "/metrics", headers=auth("all"), timeout=30)
    assert r.status_code == 200
    for line in r.text.splitlines():
        if line.startswith('logship_auth_refused_total{reason="403"}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no 403 count in /metrics")


# Each protocol: (path, content type, body of records (msg, app) -> bytes,
# the status of a stored request). The app gives the topic (<app>.<level>,
# or the protocol's own topic field where it has one).

def loki(recs):
    return json.dumps({"streams": [
        {"stream": {"app": app, "level": "info"}, "values": [["1700000000000000000", m]]}
        for m, app in recs]}).encode()


def es(recs):
    return "".join(json.dumps({"index": {"_index": "logs"}}) + "\n" +
                   json.dumps({"message": m, "topic": app + ".info"}) + "\n"
                   for m, app in recs).encode()


def gelf(recs):
    # one GELF message a request: the "records" of a request are one
    assert len(recs) == 1
    m, app = recs[0]
    return json.dumps({"version": "1.1", "host": "h", "short_message": m,
                       "_app": app}).encode()


def otlp_json(recs):
    return json.dumps({"resourceLogs": [
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": app}}]},
         "scopeLogs": [{"logRecords": [{"severityNumber": 9, "body": {"stringValue": m}}]}]}
        for m, app in recs]}).encode()


def otlp_proto(recs):
    out = b""
    for m, app in recs:
        kv = pb_field(1, 2, b"service.name") + pb_field(2, 2, pb_field(1, 2, app.encode()))
        lr = pb_field(2, 0, 9) + pb_field(5, 2, pb_field(1, 2, m.encode()))
        out += pb_field(1, 2, pb_field(1, 2, pb_field(1, 2, kv)) +
                        pb_field(2, 2, pb_field(2, 2, lr)))
    return out


CURSOR = [0]  # each entry its own cursor: the route skips one it has stored


def journal(recs):
    out = b""
    for m, app in recs:
        CURSOR[0] += 1
        i = CURSOR[0]
        out += (f"__CURSOR=s=0;i={i}\n__REALTIME_TIMESTAMP={1764684000000000 + i}\n"
                f"MESSAGE={m}\nPRIORITY=6\nSYSLOG_IDENTIFIER={app}\n\n").encode()
    return out


PROTOS = {
    "loki": ("/loki/api/v1/push", "application/json", loki, 204),
    "es": ("/_bulk", "application/x-ndjson", es, 200),
    "es-index": ("/es/logs/_bulk", "application/x-ndjson", es, 200),
    "otlp-json": ("/v1/logs", "application/json", otlp_json, 200),
    "otlp-proto": ("/v1/logs", "application/x-protobuf", otlp_proto, 200),
    "journal": ("/upload", "application/vnd.fdo.journal", journal, 200),
}


@pytest.mark.parametrize("name", sorted(PROTOS))
def test_limited_writer_on_shipper_route(srv, name):
    path, ctype, make, ok = PROTOS[name]
    mark = "ship" + name.replace("-", "")
    sess = requests.Session()  # one keep-alive connection throughout

    def post(recs, who="wweb"):
        return sess.post(srv.url + path, data=make(recs), timeout=30,
                         headers={"Content-Type": ctype, **auth(who)})

    refused_before = forbidden_count(srv)
    # in its topics: stored
    r = post([(f"{mark} a1", "web"), (f"{mark} a2", "web")])
    assert r.status_code == ok, r.text
    assert stored(srv, mark) == [f"{mark} a1", f"{mark} a2"]
    # one record outside them between two good ones: the request is
    # refused whole, as on /api/log, and says so without naming the topic
    r = post([(f"{mark} b1", "web"), (f"{mark} b2", "db"), (f"{mark} b3", "web")])
    assert r.status_code == 403, r.text
    assert "record 2 of the request" in r.text and "nothing was stored" in r.text
    assert "db" not in r.text
    # in the protocol's own terms where it has them
    if name == "otlp-proto":
        assert r.content[:2] == b"\x08\x07"  # google.rpc.Status code PERMISSION_DENIED
        assert r.headers["Content-Type"] == "application/x-protobuf"
    elif name == "otlp-json":
        assert r.json()["code"] == 7
    elif name.startswith("es"):
        assert r.json()["error"]["type"] == "security_exception" and r.json()["status"] == 403
        assert r.headers["X-Elastic-Product"] == "Elasticsearch"
    elif name == "journal":
        assert r.headers["Content-Type"].startswith("text/plain")  # as its other refusals
    else:
        assert "nothing was stored" in r.json()["error"]
    # only outside: refused too
    r = post([(f"{mark} c1", "db")])
    assert r.status_code == 403, r.text
    assert stored(srv, mark) == [f"{mark} a1", f"{mark} a2"]
    # the connection and the token go on: the next good request is stored
    r = post([(f"{mark} d1", "web")])
    assert r.status_code == ok, r.text
    assert stored(srv, mark) == [f"{mark} a1", f"{mark} a2", f"{mark} d1"]
    assert forbidden_count(srv) == refused_before + 2
    # the same refused body from an unlimited token is stored: the 403 was
    # the topics' and nothing else's
    r = post([(f"{mark} e1", "web"), (f"{mark} e2", "db")], who="all")
    assert r.status_code == ok, r.text
    assert stored(srv, mark)[-2:] == [f"{mark} e1", f"{mark} e2"]


def test_limited_writer_on_gelf_http(srv):
    """POST /gelf takes one message a request."""
    sess = requests.Session()

    def post(m, app, who="wweb"):
        return sess.post(srv.url + "/gelf", data=gelf([(m, app)]), timeout=30,
                         headers={"Content-Type": "application/json", **auth(who)})

    assert post("shipgelf a1", "web").status_code == 202
    r = post("shipgelf b1", "db")
    assert r.status_code == 403 and "nothing was stored" in r.text and "db" not in r.text, r.text
    assert post("shipgelf c1", "web").status_code == 202
    assert stored(srv, "shipgelf") == ["shipgelf a1", "shipgelf c1"]
    assert post("shipgelf d1", "db", who="all").status_code == 202
    assert stored(srv, "shipgelf")[-1] == "shipgelf d1"


def test_limited_writer_compressed_body(srv):
    """The check runs on what the body decodes to."""
    import gzip
    r = requests.post(srv.url + "/loki/api/v1/push", timeout=30,
                      data=gzip.compress(loki([("shipgz a", "web"), ("shipgz b", "db")])),
                      headers={"Content-Type": "application/json", "Content-Encoding": "gzip",
                               **auth("wweb")})
    assert r.status_code == 403, r.text
    assert stored(srv, "shipgz") == []


def test_limited_writer_long_journal_upload(srv):
    """A long upload is appended in batches as it streams in: the batches
    before the one with the refused entry stay stored (a prefix of the
    upload, and the reply says how many), nothing from that batch on is."""
    n, bad = 3000, 2500
    recs = [(f"shiplong {i}", "db" if i == bad else "web") for i in range(n)]
    body = journal(recs)

    def chunks():
        for i in range(0, len(body), 4096):
            yield body[i:i + 4096]

    r = requests.post(srv.url + "/upload", data=chunks(), timeout=60,
                      headers={"Content-Type": "application/vnd.fdo.journal", **auth("wweb")})
    assert r.status_code == 403, r.text
    got = stored(srv, "shiplong")
    assert f"record {bad + 1} of the request" in r.text
    if got:
        assert f"the {len(got)} before record {len(got) + 1} were stored" in r.text
    else:
        assert "nothing was stored" in r.text
    assert got == [f"shiplong {i}" for i in range(len(got))]
    assert len(got) <= bad
