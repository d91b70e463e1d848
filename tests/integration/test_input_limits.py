"""Limits on what a client can make logshipd hold or show, through the real
binary: the acknowledged raw TCP mode caps a batch in bytes as they arrive
(not count x --max-line up front) and ends an over-cap batch with an error
after the acks it owes; query parameters are length-capped and must be
UTF-8; bidirectional controls in a record are escaped by `logship` and by
the web UI's text function."""
import json
import os
import select
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from test_cli_query import run_on_pty
from test_cli_tail import LOGSHIP, Tail, env_for, tail_on_pty

MiB = 1 << 20


# ---- raw TCP, acknowledged mode: batches are capped in bytes --------------

def vmrss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def connect(server):
    s = socket.create_connection(("127.0.0.1", server.ports["tcp"]), timeout=10)
    s.sendall(b'{"logship":"hello","version":1,"producer":"limits"}\n')
    f = s.makefile("rb")
    hello = json.loads(f.readline())
    assert hello["logship"] == "hello", hello
    return s, f


def header(n, count):
    return (json.dumps({"logship": "batch", "batch": n, "count": count}) + "\n").encode()


def batch(n, msgs):
    return header(n, len(msgs)) + b"".join((json.dumps({"msg": m}) + "\n").encode() for m in msgs)


def read_replies(f):
    """Reply lines until the server closes (bounded by the socket timeout)."""
    out = []
    while True:
        line = f.readline()
        if not line:
            return out
        out.append(json.loads(line))


def flood(sock, pid, limit, chunk):
    """Sends chunk after chunk (one batch's record lines) until the server
    answers or `limit` bytes are out; never blocks on a full socket, so an
    answer is seen as soon as it comes. Returns (sent, answer, peak RSS)."""
    sock.setblocking(False)
    sent, answer, peak = 0, b"", vmrss(pid)
    deadline = time.monotonic() + 120
    view = memoryview(chunk)
    off = 0
    try:
        while sent < limit and time.monotonic() < deadline:
            r, w, _ = select.select([sock], [sock], [], 1.0)
            if r:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    break
                answer += data
                if not data or b"\n" in answer:
                    break
            if w:
                try:
                    n = sock.send(view[off:])
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += n
                off = (off + n) % len(chunk)
                if off == 0:
                    view = memoryview(chunk)
                peak = max(peak, vmrss(pid))
    finally:
        sock.setblocking(True)
        sock.settimeout(10)
    peak = max(peak, vmrss(pid))
    return sent, answer, peak


def test_unfinished_huge_batch_does_not_grow_memory(server):
    """A header announcing 100,000 records, then a few lines, then line
    after line of nearly --max-line (64 KiB): logshipd holds a few MB at
    most, answers an error at --max-batch-bytes (default 8 MiB) and closes;
    nothing of the batch is stored."""
    pid = server.proc.pid
    s, f = connect(server)
    with s:
        s.sendall(header(1, 100000))
        line = b"x" * 60000 + b"\n"
        base = vmrss(pid)
        s.sendall(line * 3)
        time.sleep(0.3)
        assert vmrss(pid) - base < 8 * MiB  # a few lines cost what they are
        # before the cap, 96 MiB of lines would all be kept (~250 MB RSS)
        sent, answer, peak = flood(s, pid, 96 * MiB, line * 16)
        assert peak - base < 40 * MiB, f"RSS grew {(peak - base) / MiB:.0f} MiB"
        assert sent < 40 * MiB, "logshipd read on long past its cap"
        first = answer.split(b"\n")[0]
        err = json.loads(first)
        assert err == {"logship": "error",
                       "error": "batch 1 is larger than 8388608 bytes (--max-batch-bytes): "
                                "send smaller batches"}
        # then it closes, gracefully: the rest reads as EOF, not a reset
        rest = answer[len(first) + 1:]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            data = s.recv(65536)
            if not data:
                break
            rest += data
        assert rest == b""
    assert server.logs() == []
    assert vmrss(pid) - base < 40 * MiB


def test_over_cap_batch_answers_earlier_acks_first(make_server):
    """Good batches pipelined before an over-cap one are stored and
    acknowledged, in order, before the error; the producer's next
    connection learns where it stands and goes on."""
    server = make_server("--max-batch-bytes", "64K")
    s, f = connect(server)
    with s:
        good = batch(1, [f"one {i}" for i in range(5)]) + batch(2, [f"two {i}" for i in range(3)])
        big = header(3, 1000) + (b"y" * 999 + b"\n") * 70  # 70,000 bytes of lines
        s.sendall(good + big)
        replies = read_replies(f)
    assert [r["logship"] for r in replies] == ["ack", "ack", "error"], replies
    assert [(r["batch"], r["first_seq"], r["last_seq"]) for r in replies[:2]] == [(1, 1, 5), (2, 6, 8)]
    assert replies[2]["error"] == ("batch 3 is larger than 65536 bytes (--max-batch-bytes): "
                                   "send smaller batches")
    assert [r["msg"] for r in server.logs()] == [f"one {i}" for i in range(5)] + \
        [f"two {i}" for i in range(3)]
    # a batch of exactly the cap is fine; the hello says what is stored
    s, f = connect(server)
    with s:
        lines = [b"z" * 1023 + b"\n"] * 64  # 65,536 bytes
        s.sendall(header(3, 64) + b"".join(lines))
        ack = json.loads(f.readline())
        assert ack == {"logship": "ack", "batch": 3, "first_seq": 9, "last_seq": 72}
    assert len(server.logs()) == 72


def test_record_count_cap(server):
    s, f = connect(server)
    with s:
        s.sendall(header(1, 100001))
        (err,) = read_replies(f)
    assert err["logship"] == "error" and "count 0..100000" in err["error"]


def test_acks_owed_when_the_sender_shuts_down_its_side(make_server):
    """A sender that writes its last batches and half-closes still gets
    their acks (with --fsync always they come after an fsync, later than
    the EOF), then the server closes."""
    server = make_server("--fsync", "always")
    s, f = connect(server)
    with s:
        s.sendall(batch(1, ["a", "b"]) + batch(2, ["c"]))
        s.shutdown(socket.SHUT_WR)
        replies = read_replies(f)
    assert [(r["logship"], r["batch"]) for r in replies] == [("ack", 1), ("ack", 2)], replies


def test_max_batch_bytes_must_be_a_size(tmp_path):
    from conftest import LOGSHIPD
    p = subprocess.run([LOGSHIPD, "--data", str(tmp_path / "d"), "--max-batch-bytes", "0"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "max-batch-bytes" in p.stderr + p.stdout


# ---- query parameters: length caps and UTF-8 ------------------------------

def get(server, path, params, headers=None):
    qs = "&".join(f"{k}={v}" for k, v in params)  # already escaped
    st, body = server.request("GET", f"{path}?{qs}", headers=headers or {}, timeout=10)
    return st, body


BAD_PARAMS = [
    ([("q", "a" * 4097)], "parameter 'q' is longer than 4096 bytes"),
    ([("topic", "a" * 1025)], "parameter 'topic' is longer than 1024 bytes"),
    ([("level", "x" * 1025)], "parameter 'level' is longer than 1024 bytes"),
    ([("q", "%FF")], "parameter 'q' is not valid UTF-8"),
    ([("q", "ok"), ("level", "%C3%28")], "parameter 'level' is not valid UTF-8"),
    ([("topic", "web.%ED%A0%80")], "parameter 'topic' is not valid UTF-8"),
    ([("zz%FF", "1")], "a parameter name is not valid UTF-8"),
]


@pytest.mark.parametrize("params,message", BAD_PARAMS)
def test_logs_refuses_long_or_invalid_parameters(server, params, message):
    st, body = get(server, "/api/logs", params)
    assert st == 400, body
    assert json.loads(body) == {"error": message}


@pytest.mark.parametrize("params,message", BAD_PARAMS)
def test_sse_tail_refuses_long_or_invalid_parameters(server, params, message):
    st, body = get(server, "/api/tail", params, {"Accept": "text/event-stream"})
    assert st == 400, body
    assert json.loads(body) == {"error": message}


def test_parameters_at_the_caps_work(server):
    st, reply = server.post("/api/log", "needle " + "é" * 10 + "\n", "text/plain")
    assert st == 200
    q = urllib.parse.quote("needle " + "é" * 10)
    assert [r["msg"] for r in server.logs(q="needle " + "é" * 10)] == ["needle " + "é" * 10]
    st, body = get(server, "/api/logs", [("q", "a" * 4096)])
    assert st == 200 and json.loads(body) == []
    # the SSE tail starts (200, an event stream) with the longest q and 16
    # long topic patterns, and sees the record (its filter strings were
    # once read after they were freed: the fixture's clean exit checks)
    topics = "".join(f"&topic={chr(97 + i)}{'.x' * 31}" for i in range(15))
    for qv, tp in ((q, "&topic=%23"), ("a" * 4096, ""), ("a" * 4096, topics + "&topic=%23")):
        req = urllib.request.Request(f"{server.url}/api/tail?q={qv}&level=info&n=5{tp}",
                                     headers={"Accept": "text/event-stream"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/event-stream")
            if qv == q:
                assert "needle " + "é" * 10 in r.readline().decode() + r.readline().decode() + \
                    r.readline().decode()
    assert server.metrics()['logship_http_rejected_total{reason="bad_query"}'] == 0


def test_ingest_defaults_are_checked_and_cut(server):
    def post(qs):
        st, body = server.request("POST", "/api/log?" + qs, b"hello\n",
                                  {"Content-Type": "text/plain"})
        return st, json.loads(body)

    assert post("app=%FF") == (400, {"error": "parameter 'app' is not valid UTF-8"})
    assert post("host=h%C3") == (400, {"error": "parameter 'host' is not valid UTF-8"})
    assert post("topic=" + "t" * 1025) == (400, {"error": "parameter 'topic' is longer than "
                                                          "1024 bytes"})
    assert server.logs() == []
    # a default is cut to the name limit (255 bytes), at a character
    st, _ = post("app=" + urllib.parse.quote("é" * 200) + "&host=" + "h" * 300)
    assert st == 200
    (r,) = server.logs()
    assert r["app"] == "é" * 127 and r["host"] == "h" * 255
    assert len(r["topic"].encode()) <= 255
    # on a GET the query string is the record: repaired, not refused
    st, _ = server.request("GET", "/api/log?log=bad%FFbyte")
    assert st == 200
    assert server.logs()[-1]["msg"] == "bad\ufffdbyte"


# ---- bidirectional and other controls in `logship` output -----------------

HOSTILE = "red\x1b[31m rlo\u202eevil lrm\u200e rlm\u200f alm\u061c rli\u2067x\u2069 c1\u009b2J"
ESCAPED = ("red\\x1b[31m rlo\\u202eevil lrm\\u200e rlm\\u200f alm\\u061c rli\\u2067x\\u2069 "
           "c1\\u009b2J")
RAW_BAD = [c.encode() for c in "\x1b\u202e\u200e\u200f\u061c\u2067\u2069\u009b"]


def ingest_hostile(server):
    rec = {"ts": "2026-11-21T10:46:00Z", "level": "info", "app": "ev\u202eil", "msg": HOSTILE}
    st, reply = server.post("/api/log", json.dumps(rec) + "\n", "application/x-ndjson")
    assert st == 200, reply
    # the topic is made of the app: escaped too
    return "[2026-11-21 10:46:00] [INFO] ev\\u202eil.info 127.0.0.1 ev\\u202eil: " + ESCAPED + "\n"


def no_raw_controls(out):
    for b in RAW_BAD:
        assert b not in out, (b, out)


def test_cli_escapes_controls_and_bidi(server):
    line = ingest_hostile(server)
    env = env_for(NO_COLOR="1")
    p = subprocess.run([LOGSHIP, "query", "--server", server.url], capture_output=True,
                       env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == line
    rc, out = run_on_pty(["query", "--server", server.url], env)
    assert rc == 0 and out.decode() == line
    rc, out = tail_on_pty(["--server", server.url], env, 1)
    assert rc == 0 and out.decode() == line
    t = Tail("--server", server.url, env=env)  # piped: the same escapes
    assert t.text(1) == line
    assert t.stop() == 0


def test_cli_json_on_a_terminal_is_escaped_and_still_json(server):
    ingest_hostile(server)
    (want,) = server.logs()
    env = env_for(TERM="xterm")
    # piped, --json is the server's text, byte for byte
    p = subprocess.run([LOGSHIP, "query", "--json", "--server", server.url], capture_output=True,
                       env=env, timeout=60)
    assert p.returncode == 0 and json.loads(p.stdout) == want
    assert "\u202e".encode() in p.stdout
    # on a terminal: nothing raw that could act, the same JSON value
    for out in (run_on_pty(["query", "--json", "--server", server.url], env)[1],
                tail_on_pty(["--server", server.url, "--json"], env, 1)[1]):
        no_raw_controls(out)
        assert b"\\u202e" in out and b"\\u009b" in out
        assert json.loads(out.decode().splitlines()[-1]) == want


# ---- the web UI's text function, as served ---------------------------------

@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_served_ui_escapes_bidi_controls(server, tmp_path):
    """Fetches the UI's ansi.js from logshipd and runs its safeText() in
    node: every bidi control becomes a visible ⟨U+XXXX⟩, controls become
    symbols, other text is untouched; app.js uses it and the stylesheet
    isolates every field."""
    st, js = server.request("GET", "/ui/ansi.js")
    assert st == 200
    (tmp_path / "ansi.mjs").write_bytes(js)
    probe = tmp_path / "probe.mjs"
    probe.write_text(
        "import { safeText, showBidi } from './ansi.mjs';\n"
        "const input = JSON.parse(process.argv[2]);\n"
        "console.log(JSON.stringify(input.map((s) => [safeText(s), showBidi(s)])));\n")
    cases = ["photo\u202egnp.exe", HOSTILE, "\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d",
             "שלום مرحبا plain"]
    p = subprocess.run(["node", str(probe), json.dumps(cases)], capture_output=True, text=True,
                       timeout=60, env={k: v for k, v in os.environ.items()
                                        if k not in ("ASAN_OPTIONS", "UBSAN_OPTIONS")})
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got[0] == ["photo\u27e8U+202E\u27e9gnp.exe"] * 2
    assert got[1][0] == ("red\u241b[31m rlo\u27e8U+202E\u27e9evil lrm\u27e8U+200E\u27e9 "
                         "rlm\u27e8U+200F\u27e9 alm\u27e8U+061C\u27e9 rli\u27e8U+2067\u27e9x"
                         "\u27e8U+2069\u27e9 c1\u27e8U+009B\u27e92J")
    assert got[2][1] == "".join(f"\u27e8U+{c:04X}\u27e9" for c in
                                (0x2066, 0x2067, 0x2068, 0x2069, 0x202a, 0x202b, 0x202c, 0x202d))
    assert got[3] == ["שלום مرحبا plain"] * 2
    st, app = server.request("GET", "/ui/app.js")
    assert st == 200 and b"showBidi(showControls(text))" in app and b"safeText(r.topic" in app
    st, css = server.request("GET", "/ui/app.css")
    assert st == 200 and b"unicode-bidi: isolate" in css
