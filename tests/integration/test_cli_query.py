"""`logship query` against the real logshipd: output format, filters, colour,
escaping, errors and a large streamed answer."""
import json
import os
import pty
import select
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import LOGSHIPD

LOGSHIP = os.path.join(os.path.dirname(LOGSHIPD), "logship")


def env_for(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "LOGSHIP_SERVER", "TERM")}
    env["TZ"] = "UTC"
    env.update(extra)
    return env


def logship(*args, env=None, timeout=60):
    return subprocess.run([LOGSHIP, *args], capture_output=True, timeout=timeout,
                          env=env or env_for())


def query(server, *args, **kw):
    return logship("query", "--server", server.url, *args, **kw)


def query_json(server, *args):
    r = query(server, "--json", *args)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def ingest(server, records):
    body = "".join(json.dumps(r) + "\n" for r in records)
    st, reply = server.post("/api/log", body, "application/x-ndjson")
    assert st == 200 and reply["accepted"] == len(records), reply
    return reply


def ndjson_from_api(server, qs):
    req = urllib.request.Request(server.url + "/api/logs?" + qs,
                                 headers={"Accept": "application/x-ndjson"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def run_on_pty(args, env):
    """Runs logship with stdout on a pseudo-terminal; returns (rc, bytes)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([LOGSHIP, *args], stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    rc = p.wait(30)
    p.stderr.close()
    return rc, out.replace(b"\r\n", b"\n")


SAMPLE = [
    {"ts": "2026-11-21T10:45:56.123456789Z", "level": "info", "app": "web",
     "msg": "user login", "user": 42},
    {"ts": "2026-11-21T10:45:57Z", "level": "error", "app": "db", "msg": "disk full"},
    {"ts": "2026-11-21T10:45:58.5Z", "level": "debug", "app": "web", "msg": "cache miss"},
    {"ts": "2026-11-21T10:45:59Z", "level": "warning", "app": "billing",
     "msg": "invoice INV-7 overdue"},
]


def test_human_output_format(server):
    ingest(server, SAMPLE)
    r = query(server)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    # time, level, topic, host (HTTP records get the sender's address), app
    assert r.stdout.decode() == (
        "[2026-11-21 10:45:56] [INFO] web.info 127.0.0.1 web: user login\n"
        "[2026-11-21 10:45:57] [ERROR] db.error 127.0.0.1 db: disk full\n"
        "[2026-11-21 10:45:58] [DEBUG] web.debug 127.0.0.1 web: cache miss\n"
        "[2026-11-21 10:45:59] [WARNING] billing.warning 127.0.0.1 billing: "
        "invoice INV-7 overdue\n")


def test_human_output_uses_local_time(server):
    ingest(server, SAMPLE[:1])
    r = query(server, env=env_for(TZ="XST-2"))  # two hours east of UTC
    assert r.stdout.decode() == "[2026-11-21 12:45:56] [INFO] web.info 127.0.0.1 web: user login\n"


def test_json_output_is_the_servers_ndjson(server):
    ingest(server, SAMPLE)
    r = query(server, "--json")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ndjson_from_api(server, "")
    records = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert records == server.logs()
    assert [x["msg"] for x in records] == [x["msg"] for x in SAMPLE]
    assert records[0]["fields"] == {"user": 42}
    assert records[0]["ts"] == "2026-11-21T10:45:56.123456789Z"


def test_empty_answer(server):
    r = query(server)
    assert r.returncode == 0 and r.stdout == b"" and r.stderr == b""


TOPICS = [
    ("web.api.error", "error"), ("web.info", "info"), ("kern.crit", "crit"),
    ("auth.crit", "crit"), ("db.info", "info"), ("db.slow.warning", "warning"),
]


@pytest.mark.parametrize("patterns,expect", [
    (["web.#"], ["web.api.error", "web.info"]),
    (["*.crit"], ["kern.crit", "auth.crit"]),
    (["*.crit", "db.*"], ["kern.crit", "auth.crit", "db.info"]),
    (["#.warning"], ["db.slow.warning"]),
    (["nothing.here"], []),
])
def test_topic_patterns(server, patterns, expect):
    ingest(server, [{"msg": t, "topic": t, "level": lv} for t, lv in TOPICS])
    args = [a for p in patterns for a in ("--topic", p)]
    assert [x["topic"] for x in query_json(server, *args)] == expect


def test_level_grep_limit_order_after(server):
    recs = [{"msg": f"m{i} " + ("needle" if i % 3 == 0 else "hay"),
             "level": ["debug", "info", "warning", "error"][i % 4]} for i in range(40)]
    first = ingest(server, recs)["first_seq"]

    got = query_json(server, "--level", "warning")
    assert [x["msg"] for x in got] == [r["msg"] for r in recs
                                       if r["level"] in ("warning", "error")]
    got = query_json(server, "--level", "warn", "--grep", "needle")
    assert all(x["level"] in ("warning", "error") and "needle" in x["msg"] for x in got)
    assert len(got) == len([r for r in recs if r["level"] in ("warning", "error")
                            and "needle" in r["msg"]])

    # without --after: the newest N, oldest first; with --order desc newest first
    assert [x["msg"] for x in query_json(server, "-n", "3")] == [r["msg"] for r in recs[-3:]]
    assert [x["msg"] for x in query_json(server, "--limit", "3", "--order", "desc")] == \
        [r["msg"] for r in reversed(recs[-3:])]
    assert [x["msg"] for x in query_json(server, "--limit=2", "--order=asc")] == \
        [r["msg"] for r in recs[-2:]]

    # --after resumes after a seq, oldest first
    got = query_json(server, "--after", str(first + 9), "-n", "5")
    assert [x["seq"] for x in got] == list(range(first + 10, first + 15))
    assert [x["msg"] for x in got] == [r["msg"] for r in recs[10:15]]


def test_grep_values_are_url_encoded(server):
    tricky = ["a&b=c", "50% off", "x+y", "#hash", "q=1&level=error", "sp ace/slash?",
              "caf\u00e9 \u20ac"]
    ingest(server, [{"msg": f"<{t}>", "level": "debug"} for t in tricky] +
           [{"msg": "plain", "level": "debug"}])
    for t in tricky:
        got = query_json(server, "--grep", t)
        assert [x["msg"] for x in got] == [f"<{t}>"], t
    # a pattern with '#' must reach the server whole, not as a URL fragment
    ingest(server, [{"msg": "w", "topic": "web.x.y"}])
    assert [x["msg"] for x in query_json(server, "--topic", "web.#")] == ["w"]


def test_since_and_until(server):
    ingest(server, [{"ts": f"2026-01-01T00:00:0{i}Z", "msg": f"t{i}"} for i in range(1, 6)])
    got = query_json(server, "--since", "2026-01-01T00:00:02Z", "--until", "2026-01-01T00:00:04Z")
    assert [x["msg"] for x in got] == ["t2", "t3", "t4"]
    got = query_json(server, "--since", "2026-01-01T01:00:03+01:00")
    assert [x["msg"] for x in got] == ["t3", "t4", "t5"]
    # epoch seconds
    got = query_json(server, "--until", "1767225602")
    assert [x["msg"] for x in got] == ["t1", "t2"]


def test_since_as_an_age(server):
    ingest(server, [{"ts": "2020-01-01T00:00:00Z", "msg": "old"}, {"msg": "new"}])
    assert [x["msg"] for x in query_json(server, "--since", "1h")] == ["new"]
    assert [x["msg"] for x in query_json(server, "--until", "1d")] == ["old"]
    assert [x["msg"] for x in query_json(server, "--since", "10000d")] == ["old", "new"]


def test_server_from_environment(server):
    ingest(server, SAMPLE[:1])
    r = logship("query", env=env_for(LOGSHIP_SERVER=server.url + "/"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "[2026-11-21 10:45:56] [INFO] web.info 127.0.0.1 web: user login\n"
    # --server wins over the environment
    r = logship("query", "--server", server.url, env=env_for(LOGSHIP_SERVER="http://127.0.0.1:1"))
    assert r.returncode == 0 and b"user login" in r.stdout


def test_no_color_when_piped(server):
    ingest(server, SAMPLE)
    r = query(server, env=env_for(TERM="xterm-256color"))
    assert r.returncode == 0
    assert b"\x1b" not in r.stdout and b"\x1b" not in r.stderr


def test_color_on_a_terminal(server):
    ingest(server, SAMPLE)
    rc, out = run_on_pty(["query", "--server", server.url], env_for(TERM="xterm"))
    assert rc == 0
    assert out.decode() == (
        "[2026-11-21 10:45:56] [\x1b[36mINFO\x1b[0m] web.info 127.0.0.1 web: user login\n"
        "[2026-11-21 10:45:57] [\x1b[31mERROR\x1b[0m] db.error 127.0.0.1 db: disk full\n"
        "[2026-11-21 10:45:58] [\x1b[2mDEBUG\x1b[0m] web.debug 127.0.0.1 web: cache miss\n"
        "[2026-11-21 10:45:59] [\x1b[33mWARNING\x1b[0m] billing.warning 127.0.0.1 billing: "
        "invoice INV-7 overdue\n")


@pytest.mark.parametrize("extra", [{"NO_COLOR": "1"}, {"NO_COLOR": ""}, {"TERM": "dumb"}])
def test_no_color_on_a_terminal_when_asked(server, extra):
    ingest(server, SAMPLE)
    rc, out = run_on_pty(["query", "--server", server.url], env_for(**extra))
    assert rc == 0
    assert b"\x1b" not in out
    assert out.decode().startswith(
        "[2026-11-21 10:45:56] [INFO] web.info 127.0.0.1 web: user login\n")


def test_json_output_is_never_colored(server):
    ingest(server, SAMPLE)
    rc, out = run_on_pty(["query", "--json", "--server", server.url], env_for(TERM="xterm"))
    assert rc == 0 and b"\x1b" not in out
    assert [json.loads(line)["msg"] for line in out.decode().splitlines()] == \
        [x["msg"] for x in SAMPLE]


HOSTILE = "clear\x1b[2J\x1b]0;pwned\x07 bell\x07 cr\rlf\nnul-less \x7f c1\u009b31m bidi\u202eevil"


def test_control_characters_are_escaped(server):
    ingest(server, [{"ts": "2026-11-21T10:45:56Z", "app": "ev\x1b[1mil", "msg": HOSTILE,
                     "level": "error", "topic": "evil.\u202eerror", "host": "h\x1b]0;x\x07"}])
    expect = ("[2026-11-21 10:45:56] [ERROR] evil.\\u202eerror h\\x1b]0;x\\x07 ev\\x1b[1mil: "
              "clear\\x1b[2J\\x1b]0;pwned\\x07 "
              "bell\\x07 cr\\rlf\\nnul-less \\x7f c1\\u009b31m bidi\\u202eevil\n")
    r = query(server)
    assert r.returncode == 0
    assert r.stdout.decode() == expect
    # on a terminal too: the only escape sequences are our colour codes
    rc, out = run_on_pty(["query", "--server", server.url], env_for(TERM="xterm"))
    assert rc == 0
    assert out.decode() == expect.replace("[ERROR]", "[\x1b[31mERROR\x1b[0m]")
    # --json passes the server's JSON escapes through unchanged
    r = query(server, "--json")
    assert b"\x1b" not in r.stdout and json.loads(r.stdout)["msg"] == HOSTILE


def test_unreachable_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = logship("query", "--server", f"http://127.0.0.1:{port}")
    assert r.returncode == 1
    err = r.stderr.decode()
    assert f"cannot reach logshipd at http://127.0.0.1:{port}" in err
    assert r.stdout == b""
    r = logship("query", "--server", "http://no-such-host.invalid:8080")
    assert r.returncode == 1
    assert "cannot resolve 'no-such-host.invalid'" in r.stderr.decode()


@pytest.mark.parametrize("args,message", [
    (["--level", "bogus"], "unknown level (use emerg"),
    (["--limit", "0"], "bad limit: expected 1..1000000"),
    (["--order", "sideways"], "bad order: expected asc or desc"),
    (["--since", "yesterday"], "bad since: use RFC 3339"),
    (["--after", "x"], "bad after"),
    (["--topic", "a..b"], "topic pattern has an empty word"),
])
def test_server_refusal_is_passed_on(server, args, message):
    r = query(server, *args)
    assert r.returncode == 2, r
    err = r.stderr.decode()
    assert err.startswith("logship: ") and message in err
    assert "HTTP" not in err  # the server's own message, not a status dump
    assert r.stdout == b""


def test_other_http_errors(server):
    r = logship("query", "--server", server.url + "/nowhere")
    assert r.returncode == 1
    assert "answered HTTP 404: no such endpoint" in r.stderr.decode()


def test_large_result_streams_completely(server):
    n = 20000
    for start in range(0, n, 5000):
        ingest(server, [{"msg": f"record {i} " + "x" * 80, "app": "bulk",
                         "ts": 1763722000 + i} for i in range(start, start + 5000)])
    r = query(server, "-n", str(n))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert len(lines) == n
    assert lines[0].endswith("] [INFO] bulk.info 127.0.0.1 bulk: record 0 " + "x" * 80)
    assert lines[-1].endswith(f"] [INFO] bulk.info 127.0.0.1 bulk: record {n - 1} " + "x" * 80)
    assert all(f"record {i} " in line for i, line in enumerate(lines))

    r = query(server, "--json", "-n", str(n), "--order", "desc")
    assert r.returncode == 0, r.stderr
    seqs = [json.loads(line)["seq"] for line in r.stdout.splitlines()]
    assert len(seqs) == n and seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == n


def test_reader_going_away_is_not_an_error(server):
    ingest(server, [{"msg": f"r{i}" + "y" * 200} for i in range(5000)])
    p1 = subprocess.Popen([LOGSHIP, "query", "--server", server.url, "-n", "5000"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for())
    first = p1.stdout.readline()
    p1.stdout.close()
    rc = p1.wait(30)
    err = p1.stderr.read()
    p1.stderr.close()
    assert first.startswith(b"[") and b"r0" in first
    assert rc == 0, err
    assert err == b""


@pytest.mark.parametrize("args,needle", [
    (["query", "--bogus"], "unknown option '--bogus'"),
    (["query", "-x"], "unknown option '-x'"),
    (["query", "stray"], "unexpected argument 'stray'"),
    (["query", "--topic"], "option '--topic' needs a value"),
    (["query", "-n"], "option '-n' needs a value"),
    (["query", "--server", "ftp://x"], "expected http://HOST[:PORT]"),
    (["query", "--server", "tls://x:1"], "tls:// is for 'logship send' only"),
    (["query", "--server", "http://x", "--ca", "ca.pem"], "--ca, --cert and --key are for https://"),
    (["query", "--server", "https://x", "--ca", "/nonexistent.pem"],
     "CA file '/nonexistent.pem': No such file or directory"),
    (["query", "--server", "http://h:99999"], "bad port"),
    (["frobnicate"], "unknown command 'frobnicate'"),
    ([], "usage: logship"),
])
def test_usage_errors(args, needle):
    r = logship(*args)
    assert r.returncode == 2
    assert needle in r.stderr.decode()
    assert r.stdout == b""


def test_overlong_query_is_refused_before_sending():
    r = logship("query", "--server", "http://127.0.0.1:1", "--grep", "z" * 3000)
    assert r.returncode == 2
    assert "request URL too long" in r.stderr.decode()


def test_help_and_version():
    r = logship("query", "--help")
    assert r.returncode == 0
    text = r.stdout.decode()
    for flag in ["--server", "--topic", "--level", "--grep", "--since", "--until", "--after",
                 "-n, --limit", "--order", "--json", "--help", "LOGSHIP_SERVER", "NO_COLOR"]:
        assert flag in text, flag
    assert logship("help", "query").stdout.decode() == text
    r = logship("--help")
    assert r.returncode == 0 and "query" in r.stdout.decode()
    r = logship("--version")
    assert r.returncode == 0 and r.stdout.decode().startswith("logship 0.")


# -- against a scripted HTTP peer: what logshipd does not do ------------------

class FakeServer:
    """Accepts one connection, records the request head, sends `reply`
    verbatim and closes."""

    def __init__(self, reply):
        self.reply = reply
        self.request = b""
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(10)
            while b"\r\n\r\n" not in self.request:
                data = conn.recv(4096)
                if not data:
                    break
                self.request += data
            for part in self.reply if isinstance(self.reply, list) else [self.reply]:
                conn.sendall(part)
                time.sleep(0.05)
        self.sock.close()

    def run(self, *args):
        r = logship("query", "--server", self.url, *args)
        self.thread.join(10)
        return r


REC = (b'{"seq":1,"ts":"2026-11-21T10:45:56Z","level":"info","topic":"a.info","host":"h1",'
       b'"app":"a","msg":"one"}\n')
REC2 = (b'{"seq":2,"ts":"2026-11-21T10:45:57Z","level":"error","topic":"b.error","host":"h2",'
        b'"app":"b","msg":"two"}\n')


def test_request_line_and_headers():
    f = FakeServer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    r = f.run("--topic", "a.#", "--topic", "*.b", "--grep", "x y&z", "--level", "warn",
              "--after", "7", "-n", "5", "--order", "desc")
    assert r.returncode == 0, r.stderr
    head = f.request.decode().split("\r\n")
    assert head[0] == ("GET /api/logs?topic=a.%23&topic=%2A.b&level=warn&q=x%20y%26z"
                       "&after=7&limit=5&order=desc HTTP/1.1")
    headers = {h.split(":", 1)[0].lower(): h.split(":", 1)[1].strip() for h in head[1:] if h}
    assert headers["accept"] == "application/x-ndjson"
    assert headers["host"] == f.url[len("http://"):]
    assert headers["user-agent"].startswith("logship/")


def test_chunked_answer_split_inside_records():
    body = REC + REC2
    chunks = [body[:10], body[10:50], body[50:len(REC) + 3], body[len(REC) + 3:]]
    wire = [b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"]
    wire += [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks] + [b"0\r\n\r\n"]
    r = FakeServer(wire).run()
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == ("[2026-11-21 10:45:56] [INFO] a.info h1 a: one\n"
                                 "[2026-11-21 10:45:57] [ERROR] b.error h2 b: two\n")


def test_answer_cut_inside_a_record_is_an_error():
    # no length: the close ends the body, but it ends mid-record
    r = FakeServer([b"HTTP/1.1 200 OK\r\n\r\n", REC, REC2[:20]]).run()
    assert r.returncode == 1
    assert r.stdout.decode() == "[2026-11-21 10:45:56] [INFO] a.info h1 a: one\n"
    assert "cut short" in r.stderr.decode()
    r = FakeServer([b"HTTP/1.1 200 OK\r\n\r\n", REC, REC2[:20]]).run("--json")
    assert r.returncode == 1 and "cut short" in r.stderr.decode()
    # a length that is never reached
    r = FakeServer([b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", REC]).run()
    assert r.returncode == 1 and "cut short" in r.stderr.decode()


def test_server_errors_without_json():
    r = FakeServer(b"HTTP/1.1 500 Oops\r\nContent-Length: 6\r\n\r\nboom\r\n").run()
    assert r.returncode == 1
    assert "answered HTTP 500: boom" in r.stderr.decode()
    r = FakeServer(b"HTTP/1.1 400 Bad\r\nContent-Length: 5\r\n\r\n\x1b[2Jx").run()
    assert r.returncode == 2
    assert r.stderr.decode() == "logship: \\x1b[2Jx\n"


@pytest.mark.parametrize("reply", [b"", b"SSH-2.0-OpenSSH_9.2\r\n\r\n"])
def test_no_http_answer(reply):
    f = FakeServer(reply)
    r = f.run()
    assert r.returncode == 1
    assert r.stderr.decode().startswith(f"logship: bad answer from {f.url}: no valid HTTP response")


def test_lines_that_are_not_records():
    r = FakeServer([b"HTTP/1.1 200 OK\r\n\r\n", REC, b"<html>\x1b[31m\n", REC2]).run()
    assert r.returncode == 1
    assert r.stdout.decode().count("\n") == 2
    err = r.stderr.decode()
    assert "not a JSON record: <html>\\x1b[31m" in err and "1 line of the answer was not a JSON record" in err
