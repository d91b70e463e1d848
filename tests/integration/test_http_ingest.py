"""HTTP ingest from real clients: Python's logging.handlers.HTTPHandler,
requests posting log= like the classic custom handler, and curl with JSON,
NDJSON and text/plain."""
import json
import logging
import logging.handlers
import os
import subprocess
import time

import pytest
import requests


def iso_to_ns(ts):
    """'2026-11-21T10:45:56.123456789Z' -> ns since the epoch."""
    import calendar
    date, frac = ts[:-1].split(".")
    secs = calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%S"))
    return secs * 10**9 + int(frac.ljust(9, "0"))


def python_logger(server, name, method, formatted):
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    if formatted:
        # a formatting handler first: it sets record.message (and asctime),
        # which HTTPHandler then sends along with msg and args
        fmt = logging.StreamHandler(open(os.devnull, "w"))
        fmt.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(fmt)
    logger.addHandler(logging.handlers.HTTPHandler(f"127.0.0.1:{server.port}", "/api/log",
                                                   method=method))
    return logger


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("formatted", [False, True])
def test_python_http_handler(server, method, formatted):
    name = f"py.{method.lower()}.{'fmt' if formatted else 'raw'}"
    logger = python_logger(server, name, method, formatted)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger.addHandler(Keep())
    logger.warning("disk %s at %d%% on %s", "/var", 93, "h1")
    logger.error("plain message with 100% no args")
    logger.debug("unicode \u00e9\u4e16 and quotes '\" %r", "x'y")
    logger.critical("dict %(user)s/%(n)d", {"user": "bob", "n": 7})

    got = server.logs(topic=f"{name}.#")
    # exactly the text Python itself makes of each record
    assert [r["msg"] for r in got] == [rec.getMessage() for rec in records]
    assert [r["msg"] for r in got][0] == "disk /var at 93% on h1"
    assert [r["level"] for r in got] == ["warning", "error", "debug", "crit"]
    for r, rec in zip(got, records):
        assert r["app"] == name
        assert r["topic"] == f"{name}.{r['level']}"
        assert r["pid"] == str(os.getpid())
        # the sender's timestamp, not the receive time
        assert abs(iso_to_ns(r["ts"]) - int(rec.created * 1e9)) < 2000
        assert r["fields"]["funcName"] == "test_python_http_handler"
        assert r["fields"]["lineno"] == rec.lineno
        assert r["fields"]["threadName"] == "MainThread"


def test_python_handler_unformattable_args_keeps_template(server):
    """Args Python cannot round-trip through repr stay visible in fields."""
    logger = python_logger(server, "py.obj", "POST", False)
    logger.info("object %s", object())
    (r,) = server.logs(topic="py.obj.#")
    assert r["msg"] == "object %s"
    assert r["fields"]["args"].startswith("(<object object at 0x")


def test_requests_classic_log_field(server):
    url = server.url + "/api/log"
    r = requests.post(url, data={"log": "classic line one"})
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 1 and body["first_seq"] == body["last_seq"]
    r = requests.post(url, data={"log": "second & line = with % signs", "level": "error",
                                 "app": "billing", "host": "db1"})
    assert r.status_code == 200
    r = requests.get(url, params={"log": "via GET ? & =", "level": "debug"})
    assert r.status_code == 200
    got = server.logs()
    assert [(x["msg"], x["level"], x["app"], x["topic"]) for x in got] == [
        ("classic line one", "info", "default", "default.info"),
        ("second & line = with % signs", "error", "billing", "billing.error"),
        ("via GET ? & =", "debug", "default", "default.debug"),
    ]
    assert got[1]["host"] == "db1"
    assert got[0]["seq"] < got[1]["seq"] < got[2]["seq"]


def curl(server, *args, data=None):
    out = subprocess.run(["curl", "-sS", "-H", "Expect:", *args, server.url + "/api/log"],
                         input=data, capture_output=True, check=True)
    return json.loads(out.stdout)


def test_curl_json_object_and_array(server):
    one = curl(server, "-H", "Content-Type: application/json", "--data-binary", "@-",
               data=json.dumps({"msg": "from curl", "level": "warn", "app": "api", "host": "h9",
                                "pid": 77, "ts": "2026-11-21T10:45:56.5Z",
                                "user": {"id": 5, "tags": ["a", "b"]}}).encode())
    assert one["accepted"] == 1
    arr = curl(server, "-H", "Content-Type: application/json; charset=utf-8", "--data-binary",
               "@-", data=json.dumps([{"message": "a"}, {"msg": "b", "topic": "x.y"}]).encode())
    assert arr["accepted"] == 2 and arr["last_seq"] == arr["first_seq"] + 1
    got = server.logs()
    assert got[0] == {"seq": one["first_seq"], "ts": "2026-11-21T10:45:56.500000000Z",
                      "level": "warning", "topic": "api.warning", "host": "h9", "app": "api",
                      "pid": "77", "msg": "from curl",
                      "fields": {"user.id": 5, "user.tags": ["a", "b"]}}
    assert [g["msg"] for g in got[1:]] == ["a", "b"]
    assert got[2]["topic"] == "x.y"


def test_curl_ndjson_10000_lines(server):
    lines = "".join(json.dumps({"msg": f"line {i}", "level": ["info", "error"][i % 2],
                                "app": "batch", "i": i}) + "\n" for i in range(10000))
    r = curl(server, "-H", "Content-Type: application/x-ndjson", "--data-binary", "@-",
             data=lines.encode())
    assert r == {"accepted": 10000, "first_seq": r["first_seq"],
                 "last_seq": r["first_seq"] + 9999}
    got = server.logs(limit=10000)
    assert len(got) == 10000
    assert [g["msg"] for g in got] == [f"line {i}" for i in range(10000)]
    assert [g["fields"]["i"] for g in got] == list(range(10000))
    errors = server.logs(limit=10000, level="error")
    assert len(errors) == 5000 and all(g["level"] == "error" for g in errors)
    m = server.metrics()
    assert m['logship_records_accepted_total{input="http"}'] == 10000


def test_curl_text_plain(server):
    r = curl(server, "-H", "Content-Type: text/plain", "--data-binary", "@-",
             data=b"first line\r\nsecond line\n\nthird line")
    assert r["accepted"] == 3
    got = server.logs()
    assert [g["msg"] for g in got] == ["first line", "second line", "third line"]
    assert {g["topic"] for g in got} == {"default.info"}


def test_query_defaults_apply_to_body(server):
    st, r = server.post("/api/log?app=cron&level=notice&host=h2", "nightly job done\n",
                        "text/plain")
    assert st == 200
    st, r = server.post("/api/log?app=cron", json.dumps({"msg": "own level", "level": "error"}),
                        "application/json")
    assert st == 200
    got = server.logs()
    assert (got[0]["app"], got[0]["level"], got[0]["host"], got[0]["topic"]) == \
        ("cron", "notice", "h2", "cron.notice")
    assert (got[1]["app"], got[1]["level"]) == ("cron", "error")


def test_topic_and_level_query(server):
    recs = [{"msg": "k1", "topic": "kern.crit", "level": "crit"},
            {"msg": "k2", "topic": "kern.info", "level": "info"},
            {"msg": "a1", "topic": "auth.crit", "level": "crit"},
            {"msg": "w1", "topic": "web.api.error", "level": "error"},
            {"msg": "w2", "topic": "web", "level": "debug"}]
    st, _ = server.post("/api/log", json.dumps(recs), "application/json")
    assert st == 200

    def msgs(**q):
        return [r["msg"] for r in server.logs(**q)]

    assert msgs(topic="kern.*") == ["k1", "k2"]
    assert msgs(topic="*.crit") == ["k1", "a1"]
    assert msgs(topic="web.#") == ["w1", "w2"]
    assert msgs(topic="#") == ["k1", "k2", "a1", "w1", "w2"]
    assert msgs(topic=["kern.info", "web"]) == ["k2", "w2"]
    assert msgs(level="error") == ["k1", "a1", "w1"]
    assert msgs(level="crit", topic="kern.*") == ["k1"]
    assert msgs(limit=2) == ["w1", "w2"]
    assert msgs(limit=2, order="desc") == ["w2", "w1"]
    assert msgs(q="1") == ["k1", "a1", "w1"]
    st, body = server.request("GET", "/api/logs?topic=a..b")
    assert st == 400 and "empty word" in json.loads(body)["error"]
    st, body = server.request("GET", "/api/logs?level=loud")
    assert st == 400 and "level" in json.loads(body)["error"]


@pytest.mark.parametrize("request_bytes", [
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"POST /api/log HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
])
def test_connection_close_is_honoured(server, request_bytes):
    """A client that asks to close gets its answer and then the close
    (clients like wrk wait for it)."""
    import socket
    s = socket.create_connection(("127.0.0.1", server.port))
    s.settimeout(5)
    s.sendall(request_bytes)
    data = b""
    while chunk := s.recv(4096):  # a timeout here fails the test
        data += chunk
    s.close()
    head = data.split(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 200") and b"connection: close" in head


def test_records_without_a_message_are_refused_like_forms(server):
    st, body = server.post("/api/log", "{}", "application/json")
    assert st == 400 and body["error"] == "record has no message: use message, msg or log"
    st, body = server.post("/api/log", '{"level":"error","app":"x"}', "application/json")
    assert st == 400 and "use message, msg or log" in body["error"]
    lines = '{"msg":"one"}\n{"app":"no message"}\n{"msg":"three"}\n'
    st, body = server.post("/api/log", lines, "application/x-ndjson")
    assert st == 200 and body["accepted"] == 2 and body["rejected_count"] == 1
    assert body["rejected"][0]["line"] == 2 and "no message" in body["rejected"][0]["error"]
    st, body = server.post("/api/log", '[{"msg":"four"},{"level":"info"}]', "application/json")
    assert st == 200 and body["accepted"] == 1 and body["rejected"][0]["element"] == 2
    assert [r["msg"] for r in server.logs()] == ["one", "three", "four"]


def test_an_unknown_level_is_kept_raw_and_counted(server):
    st, _ = server.post("/api/log", '{"msg":"odd","level":"bogus"}', "application/json")
    assert st == 200
    st, _ = server.post("/api/log", "log=form&level=loud", "application/x-www-form-urlencoded")
    assert st == 200
    recs = server.logs()
    assert [(r["msg"], r["level"], r["fields"]["level_raw"]) for r in recs] == \
        [("odd", "info", "bogus"), ("form", "info", "loud")]
    assert server.metrics()['logship_records_unknown_level_total{input="http"}'] == 2


def test_http_records_carry_the_senders_address_as_host(server):
    assert server.post("/api/log", '{"msg":"a"}', "application/json")[0] == 200
    assert server.post("/api/log", '{"msg":"b","host":"web-7"}', "application/json")[0] == 200
    assert server.post("/api/log", "log=c", "application/x-www-form-urlencoded")[0] == 200
    assert server.post("/api/log?host=box", "d\n", "text/plain")[0] == 200
    assert [(r["msg"], r["host"]) for r in server.logs()] == \
        [("a", "127.0.0.1"), ("b", "web-7"), ("c", "127.0.0.1"), ("d", "box")]
