"""`logship tail` against the real logshipd: backlog then follow, human and
JSON output, filters, colour and escaping, reconnecting across a server
restart without losing or repeating a record, a retention gap, following a
served file through append, rotation and truncation, errors and usage."""
import json
import os
import pty
import queue
import select
import signal
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


class Tail:
    """`logship tail ARGS` running, its stdout lines gathered by a thread."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen([LOGSHIP, "tail", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env or env_for())
        self.lines = queue.Queue()
        self.err = []
        self.threads = [threading.Thread(target=self._pump_out, daemon=True),
                        threading.Thread(target=self._pump_err, daemon=True)]
        for t in self.threads:
            t.start()

    def _pump_out(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _pump_err(self):
        for line in self.proc.stderr:
            self.err.append(line.decode(errors="replace"))

    def stderr(self):
        return "".join(self.err)

    def take(self, n, timeout=30):
        """The next n lines (bytes, newline included)."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"got {len(out)} of {n} lines: {out[-3:]}\n"
                                     f"rc={self.proc.poll()} stderr:\n{self.stderr()}")
            out.append(line)
        return out

    def text(self, n, timeout=30):
        return "".join(x.decode() for x in self.take(n, timeout))

    def records(self, n, timeout=30):
        return [json.loads(x) for x in self.take(n, timeout)]

    def take_until(self, pred, timeout=60):
        """Lines up to and including the first for which pred(line) holds."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            (line,) = self.take(1, max(0.01, deadline - time.monotonic()))
            out.append(line)
            if pred(line):
                return out

    def wait_stderr(self, needle, timeout=30):
        deadline = time.monotonic() + timeout
        while needle not in self.stderr():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} on stderr:\n{self.stderr()}")
            time.sleep(0.02)

    def stop(self, sig=signal.SIGINT, timeout=10):
        """Signals the tail; returns its exit code. Lines still unread stay
        in self.lines."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        for t in self.threads:
            t.join(5)
        return rc

    def rest(self):
        """What else it printed (after stop())."""
        out = []
        while True:
            line = self.lines.get(timeout=5)
            if line is None:
                return out
            out.append(line)

    def wait(self, timeout=30):
        rc = self.proc.wait(timeout)
        for t in self.threads:
            t.join(5)
        return rc


@pytest.fixture
def tail():
    """Factory: tail(*args) starts `logship tail`; any still running at the
    end are killed."""
    started = []

    def make(*args, **kw):
        t = Tail(*args, **kw)
        started.append(t)
        return t

    yield make
    for t in started:
        if t.proc.poll() is None:
            t.proc.kill()
            t.proc.wait()


SAMPLE = [
    {"ts": "2026-11-21T10:45:56.123456789Z", "level": "info", "app": "web",
     "msg": "user login", "user": 42},
    {"ts": "2026-11-21T10:45:57Z", "level": "error", "app": "db", "msg": "disk full"},
    {"ts": "2026-11-21T10:45:58.5Z", "level": "debug", "app": "web", "msg": "cache miss"},
    {"ts": "2026-11-21T10:45:59Z", "level": "warning", "app": "billing",
     "msg": "invoice INV-7 overdue"},
]
# time, level, topic, host (HTTP records get the sender's address), app
SAMPLE_LINES = [
    "[2026-11-21 10:45:56] [INFO] web.info 127.0.0.1 web: user login\n",
    "[2026-11-21 10:45:57] [ERROR] db.error 127.0.0.1 db: disk full\n",
    "[2026-11-21 10:45:58] [DEBUG] web.debug 127.0.0.1 web: cache miss\n",
    "[2026-11-21 10:45:59] [WARNING] billing.warning 127.0.0.1 billing: invoice INV-7 overdue\n",
]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_backlog_then_follow(server, tail, sig):
    ingest(server, SAMPLE[:2])
    t = tail("--server", server.url, "-n", "1")
    assert t.text(1) == SAMPLE_LINES[1]
    ingest(server, SAMPLE[2:3])
    assert t.text(1) == SAMPLE_LINES[2]
    ingest(server, SAMPLE[3:])
    assert t.text(1) == SAMPLE_LINES[3]
    assert t.stop(sig) == 0
    assert t.rest() == []
    assert t.stderr() == ""


def test_default_backlog_and_n(server, tail):
    ingest(server, [{"msg": f"m{i}", "ts": 1763722000 + i} for i in range(25)])
    t = tail("--server", server.url)
    assert [x.decode().split(": ", 1)[1] for x in t.take(10)] == \
        [f"m{i}\n" for i in range(15, 25)]
    t100k = tail("--server", server.url, "-n", "100000", "--json")
    assert [r["msg"] for r in t100k.records(25)] == [f"m{i}" for i in range(25)]
    # -n 0: nothing old; the first line is a record posted after the start
    t0 = tail("--server", server.url, "--lines", "0", "--json")
    first = None
    for k in range(300):
        ingest(server, [{"msg": f"probe{k}"}])
        try:
            first = t0.lines.get(timeout=0.1)
            break
        except queue.Empty:
            pass
    assert first is not None and json.loads(first)["msg"].startswith("probe")
    for x in (t, t100k, t0):
        assert x.stop() == 0
        assert x.stderr() == ""


def test_json_is_the_servers_record_text(server, tail):
    ingest(server, SAMPLE)
    t = tail("--server", server.url, "--json", "-n", "100")
    backlog = t.take(4)
    assert b"".join(backlog) == ndjson_from_api(server, "")
    assert [json.loads(x) for x in backlog] == server.logs()
    ingest(server, [{"msg": "caf\u00e9 \u20ac", "k": {"n": [1, 2]}}])
    (line,) = t.take(1)
    assert line == ndjson_from_api(server, "limit=1")
    assert json.loads(line)["msg"] == "caf\u00e9 \u20ac"
    assert t.stop() == 0


TOPICS = [
    ("web.api.error", "error", "needle one"), ("web.info", "info", "hay"),
    ("kern.crit", "crit", "needle two"), ("auth.crit", "crit", "hay"),
    ("db.info", "info", "needle three"), ("db.slow.warning", "warning", "needle four"),
]


@pytest.mark.parametrize("args,expect,end", [
    (["--topic", "web.#"], ["web.api.error", "web.info"], "web.end.crit"),
    (["--topic", "*.crit", "--topic", "db.*"], ["kern.crit", "auth.crit", "db.info"], "db.crit"),
    (["--level", "warning"], ["web.api.error", "kern.crit", "auth.crit", "db.slow.warning"],
     "web.end.crit"),
    (["--grep", "needle"], ["web.api.error", "kern.crit", "db.info", "db.slow.warning"],
     "web.end.crit"),
    (["--level", "warn", "--grep", "needle", "--topic", "#.crit", "--topic", "web.#"],
     ["web.api.error", "kern.crit"], "web.end.crit"),
])
def test_filters_backlog_and_live(server, tail, args, expect, end):
    recs = [{"msg": m, "topic": tp, "level": lv} for tp, lv, m in TOPICS]
    ingest(server, recs)
    t = tail("--server", server.url, "--json", "-n", "100", *args)
    got = [r["topic"] for r in t.records(len(expect))]
    assert got == expect
    # live: the same records again, then one that passes the filter
    ingest(server, recs)
    ingest(server, [{"msg": "needle end", "topic": end, "level": "crit"}])
    live = [json.loads(x)["topic"] for x in
            t.take_until(lambda line: b"needle end" in line)]
    assert live == expect + [end]
    assert t.stop() == 0


def test_grep_values_are_url_encoded(server, tail):
    tricky = ["a&b=c", "50% off", "x+y", "#hash", "n=5&after=0", "caf\u00e9"]
    ingest(server, [{"msg": f"<{x}>"} for x in tricky])
    for x in tricky:
        t = tail("--server", server.url, "--json", "--grep", x)
        assert [r["msg"] for r in t.records(1)] == [f"<{x}>"]
        assert t.stop() == 0
        assert t.rest() == []


def test_level_colour_on_a_terminal_and_escapes(server):
    hostile = "clear\x1b[2J bell\x07 lf\nc1\u009b31m bidi\u202eevil"
    ingest(server, SAMPLE + [{"ts": "2026-11-21T10:46:00Z", "level": "error", "app": "ev\x1bil",
                              "msg": hostile}])
    expect = "".join(SAMPLE_LINES) + (
        "[2026-11-21 10:46:00] [ERROR] ev\\x1bil.error 127.0.0.1 ev\\x1bil: clear\\x1b[2J "
        "bell\\x07 lf\\nc1\\u009b31m bidi\\u202eevil\n")
    coloured = expect.replace("[INFO]", "[\x1b[36mINFO\x1b[0m]") \
                     .replace("[ERROR]", "[\x1b[31mERROR\x1b[0m]") \
                     .replace("[DEBUG]", "[\x1b[2mDEBUG\x1b[0m]") \
                     .replace("[WARNING]", "[\x1b[33mWARNING\x1b[0m]")
    rc, out = tail_on_pty(["--server", server.url], env_for(TERM="xterm"), 5)
    assert rc == 0 and out.decode() == coloured
    for extra in ({"NO_COLOR": "1"}, {"NO_COLOR": ""}, {"TERM": "dumb"}):
        rc, out = tail_on_pty(["--server", server.url], env_for(**extra), 5)
        assert rc == 0 and out.decode() == expect, extra
    # piped: no colour either, the same escapes
    t = Tail("--server", server.url, env=env_for(TERM="xterm"))
    assert t.text(5) == expect
    assert t.stop() == 0
    # --json is never coloured and keeps the JSON escapes
    rc, out = tail_on_pty(["--server", server.url, "--json"], env_for(TERM="xterm"), 5)
    assert rc == 0 and b"\x1b" not in out
    assert json.loads(out.splitlines()[-1])["msg"] == hostile


def tail_on_pty(args, env, nlines, timeout=30):
    """Runs logship tail with stdout on a pseudo-terminal until it printed
    nlines lines, then interrupts it; returns (rc, bytes)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([LOGSHIP, "tail", *args], stdout=slave, stderr=subprocess.PIPE,
                         env=env)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while out.count(b"\n") < nlines and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                out += os.read(master, 65536)
            except OSError:
                break
    p.send_signal(signal.SIGINT)
    rc = p.wait(10)
    os.close(master)
    p.stderr.close()
    return rc, out.replace(b"\r\n", b"\n")


def test_large_messages(server, tail):
    """A backlog of about 3 MB arrives as one WebSocket message, a live
    burst as several of ~256 KiB: all of it, in order."""
    n = 3000
    pad = "x" * 1000
    for start in range(0, n, 1000):
        ingest(server, [{"msg": f"r{i} {pad}", "app": "bulk"} for i in range(start, start + 1000)])
    t = tail("--server", server.url, "--json", "-n", str(n))
    got = t.records(n, timeout=60)
    assert [r["msg"] for r in got] == [f"r{i} {pad}" for i in range(n)]
    seqs = [r["seq"] for r in got]
    assert seqs == list(range(seqs[0], seqs[0] + n))
    ingest(server, [{"msg": f"s{i} {pad}", "app": "bulk"} for i in range(n)])
    got = t.records(n, timeout=60)
    assert [r["msg"] for r in got] == [f"s{i} {pad}" for i in range(n)]
    assert got[0]["seq"] == seqs[-1] + 1
    assert t.stop() == 0
    assert t.rest() == []


# -- reconnecting ------------------------------------------------------------------

def wait_subscribers(server, n, timeout=30):
    deadline = time.monotonic() + timeout
    while server.metrics().get("logship_tail_subscribers") != n:
        assert time.monotonic() < deadline, "the tail never subscribed"
        time.sleep(0.02)


def post_batches(server, prefix, count, per=10):
    for start in range(0, count, per):
        ingest(server, [{"msg": f"{prefix}{i}", "app": "restart"}
                        for i in range(start, min(count, start + per))])


def test_restart_loses_and_repeats_nothing(make_server, tail):
    s = make_server()
    port, data = s.port, s.data_dir
    post_batches(s, "old", 5)
    t = tail("--server", s.url, "--json", "-n", "3")
    assert [r["msg"] for r in t.records(3)] == ["old2", "old3", "old4"]
    # records the tail may or may not have received before the server goes
    post_batches(s, "a", 200)
    assert s.stop() == 0
    t.wait_stderr("lost")
    s2 = make_server("--http", f"127.0.0.1:{port}", data_dir=data)
    post_batches(s2, "b", 200)
    got = t.records(400, timeout=60)
    assert [r["msg"] for r in got] == [f"a{i}" for i in range(200)] + \
        [f"b{i}" for i in range(200)]
    seqs = [r["seq"] for r in got]
    assert seqs == list(range(6, 406))
    assert t.stop() == 0
    assert t.rest() == []
    err = t.stderr()
    assert "reconnected" in err and "removed by retention" not in err


def test_restart_before_anything_was_printed(make_server, tail):
    """Nothing matched yet when the server went away: the tail resumes from
    where the store was when it started, not from 'now'."""
    s = make_server()
    port, data = s.port, s.data_dir
    post_batches(s, "before", 20)
    t = tail("--server", s.url, "--json", "-n", "5", "--grep", "keep")
    wait_subscribers(s, 1)
    post_batches(s, "skip", 20)
    assert s.stop() == 0
    t.wait_stderr("lost")
    s2 = make_server("--http", f"127.0.0.1:{port}", data_dir=data)
    # posted right away: most likely before the tail is back
    ingest(s2, [{"msg": f"keep{i}"} for i in range(5)] + [{"msg": "drop"}] +
           [{"msg": "keep end"}])
    got = t.take_until(lambda line: b"keep end" in line)
    assert [json.loads(x)["msg"] for x in got] == [f"keep{i}" for i in range(5)] + ["keep end"]
    assert t.stop() == 0
    assert t.rest() == []


def test_gap_when_retention_removed_unread_records(make_server, tail):
    args = ("--segment-size", "16K", "--retain-bytes", "48K")
    s = make_server(*args)
    port, data = s.port, s.data_dir
    ingest(s, [{"msg": f"first{i}"} for i in range(10)])
    t = tail("--server", s.url, "--json", "-n", "10")
    assert [r["seq"] for r in t.records(10)] == list(range(1, 11))
    assert s.stop() == 0
    t.wait_stderr("lost")
    # meanwhile, elsewhere: enough records that retention drops the oldest
    other = make_server(*args, data_dir=data)
    for start in range(0, 2000, 200):
        ingest(other, [{"msg": f"more{i} " + "y" * 100} for i in range(start, start + 200)])
    assert other.stop() == 0
    s3 = make_server(*args, "--http", f"127.0.0.1:{port}", data_dir=data)
    first = s3.logs(order="asc", limit=1, after=0)[0]["seq"]
    assert first > 11
    got = t.records(2010 - first + 1, timeout=60)
    assert [r["seq"] for r in got] == list(range(first, 2011))
    t.wait_stderr("removed by retention")
    assert f"records 11..{first - 1} were removed by retention" in t.stderr()
    assert t.stop() == 0


def behind_the_memory_window(make_server, tail):
    """A tail that comes back after the server took more records than its
    memory window holds; returns (tail, server) once it printed them all."""
    args = ("--memory-records", "50")
    s = make_server(*args)
    port, data = s.port, s.data_dir
    ingest(s, [{"msg": f"first{i}"} for i in range(10)])
    t = tail("--server", s.url, "--json", "-n", "10")
    assert [r["seq"] for r in t.records(10)] == list(range(1, 11))
    assert s.stop() == 0
    t.wait_stderr("lost")
    other = make_server(*args, data_dir=data)  # elsewhere: the tail can not see it
    ingest(other, [{"msg": f"more{i}"} for i in range(500)])
    assert other.stop() == 0
    s3 = make_server(*args, "--http", f"127.0.0.1:{port}", data_dir=data)
    assert [r["seq"] for r in t.records(500, timeout=60)] == list(range(11, 511))
    return t, s3


def test_catching_up_from_disk_is_noted(make_server, tail):
    """The tail reads what it missed from disk, says so briefly, and misses
    none of it."""
    t, _ = behind_the_memory_window(make_server, tail)
    err = t.stderr()
    assert "logship: 500 records behind, catching up from disk\n" in err
    assert "removed by retention" not in err
    assert t.stop() == 0
    assert t.rest() == []


def test_live_again_right_after_catching_up(make_server, tail):
    t, s = behind_the_memory_window(make_server, tail)
    ingest(s, [{"msg": "live"}])
    assert [r["msg"] for r in t.records(1, timeout=5)] == ["live"]
    t.wait_stderr("logship: caught up\n", timeout=1)


def test_reader_going_away_is_not_an_error(server):
    ingest(server, [{"msg": "one"}])
    p = subprocess.Popen([LOGSHIP, "tail", "--server", server.url, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for())
    assert json.loads(p.stdout.readline())["msg"] == "one"
    p.stdout.close()  # like `| head -1`
    for i in range(300):  # until a write fails
        ingest(server, [{"msg": f"more{i}"}])
        try:
            rc = p.wait(0.1)
            break
        except subprocess.TimeoutExpired:
            pass
    else:
        p.kill()
        raise AssertionError("the tail kept running with nobody reading")
    err = p.stderr.read()
    p.stderr.close()
    assert rc == 0 and err == b""


# -- files --------------------------------------------------------------------------

@pytest.fixture
def root(tmp_path):
    r = tmp_path / "logs"
    r.mkdir()
    (r / "app.log").write_text("one\ntwo\nthree\n")
    return r


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def test_file_follow_append_rotate_truncate(make_server, tail, root):
    s = make_server("--tail-root", str(root))
    log = root / "app.log"
    t = tail("--server", s.url, "--file", "logs/app.log", "-n", "2")
    assert t.text(2) == "two\nthree\n"
    append(log, "four\tcol\n")
    assert t.text(1) == "four\tcol\n"
    os.rename(log, root / "app.log.1")
    log.write_text("fresh\n")
    assert t.text(1) == "fresh\n"
    t.wait_stderr("logs/app.log was rotated")
    log.write_text("x\n")  # shorter than before: truncated
    assert t.text(1) == "x\n"
    t.wait_stderr("logs/app.log was truncated")
    assert t.stop() == 0
    assert t.rest() == []


def test_file_json_and_terminal_escapes(make_server, tail, root):
    (root / "odd.log").write_bytes(b"tab\there\nesc\x1b[31mred\n")
    s = make_server("--tail-root", str(root))
    t = tail("--server", s.url, "--file", "logs/odd.log", "--json")
    assert [json.loads(x) for x in t.take(2)] == ["tab\there", "esc\x1b[31mred"]
    assert t.stop() == 0
    rc, out = tail_on_pty(["--server", s.url, "--file", "logs/odd.log"], env_for(TERM="xterm"),
                          2)
    assert rc == 0 and out == b"tab\there\nesc\\x1b[31mred\n"


def test_file_follow_across_a_restart(make_server, tail, root):
    s = make_server("--tail-root", str(root))
    port, data = s.port, s.data_dir
    t = tail("--server", s.url, "--file", "logs/app.log", "-n", "1")
    assert t.text(1) == "three\n"
    assert s.stop() == 0
    t.wait_stderr("lost")
    make_server("--tail-root", str(root), "--http", f"127.0.0.1:{port}", data_dir=data)
    t.wait_stderr("reconnected")
    time.sleep(0.5)  # the follower takes the file's size when it starts
    append(root / "app.log", "after restart\n")
    assert t.text(1) == "after restart\n"
    assert t.stop() == 0
    assert t.rest() == []


def test_file_refused(make_server, tail, root):
    s = make_server("--tail-root", str(root))
    t = tail("--server", s.url, "--file", "logs/missing.log")
    assert t.wait() == 2
    assert t.stderr().startswith("logship: ") and t.rest() == []
    t = tail("--server", s.url, "--file", "logs/../outside")
    assert t.wait() == 2


# -- errors and usage -------------------------------------------------------------

def run(*args, timeout=30):
    return subprocess.run([LOGSHIP, "tail", *args], capture_output=True, timeout=timeout,
                          env=env_for())


@pytest.mark.parametrize("args,message", [
    (["--level", "bogus"], "unknown level (use emerg"),
    (["--topic", "a..b"], "topic pattern has an empty word"),
])
def test_server_refusal_is_passed_on(server, args, message):
    r = run("--server", server.url, *args)
    assert r.returncode == 2, r
    err = r.stderr.decode()
    assert err.startswith("logship: ") and message in err, err
    assert r.stdout == b""


def test_no_file_tail_without_roots(server):
    r = run("--server", server.url, "--file", "logs/app.log")
    assert r.returncode == 2
    assert "file tail is off" in r.stderr.decode()


def test_unreachable_server():
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    r = run("--server", f"http://127.0.0.1:{port}")
    assert r.returncode == 1
    assert f"cannot reach logshipd at http://127.0.0.1:{port}" in r.stderr.decode()
    assert r.stdout == b""
    r = run("--server", "http://no-such-host.invalid:8080")
    assert r.returncode == 1
    assert "cannot resolve 'no-such-host.invalid'" in r.stderr.decode()


def test_not_a_tail_endpoint(server):
    # logshipd drops a WebSocket upgrade anywhere else without an answer
    r = run("--server", server.url + "/nowhere")
    assert r.returncode == 1
    assert "cannot open the tail at " + server.url + "/nowhere" in r.stderr.decode()


def test_upgrade_refused_with_a_status():
    """A peer that answers the upgrade with an HTTP error: its status is named."""
    sk = socket.socket()
    sk.bind(("127.0.0.1", 0))
    sk.listen(1)
    request = []

    def serve():
        # the tail asks /api/logs for the newest seq first, then upgrades
        while True:
            try:
                conn, _ = sk.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                request.append(data)
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n"
                             b"Connection: close\r\n\r\nno")

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    port = sk.getsockname()[1]
    r = run("--server", f"http://127.0.0.1:{port}", "--topic", "a.#", "--level", "error")
    sk.shutdown(socket.SHUT_RDWR)  # wakes the accept()
    sk.close()
    th.join(10)
    assert r.returncode == 1
    assert "refused the WebSocket (HTTP 404)" in r.stderr.decode()
    (head,) = [x.decode() for x in request if b"/api/tail" in x]
    assert head.startswith("GET /api/tail?topic=a.%23&level=error&n=10 HTTP/1.1\r\n")
    assert "\r\nupgrade: websocket\r\n" in head.lower()
    assert "\r\nuser-agent: logship/" in head.lower()


@pytest.mark.parametrize("args,needle", [
    (["--bogus"], "unknown option '--bogus'"),
    (["-x"], "unknown option '-x'"),
    (["stray"], "unexpected argument 'stray'"),
    (["--topic"], "option '--topic' needs a value"),
    (["-n", "x"], "bad -n 'x'"),
    (["-n", "100001"], "bad -n '100001'"),
    (["-n", "-1"], "bad -n '-1'"),
    (["--file", "app.log"], "--file takes ROOT/PATH"),
    (["--file", "/var/log/syslog"], "--file takes ROOT/PATH"),
    (["--file", "logs/a", "--level", "error"], "not with --file"),
    (["--server", "ftp://x"], "expected http://HOST[:PORT]"),
    (["--server", "tls://x:1"], "tls:// is for 'logship send' only"),
    (["--server", "ws://x", "--cert", "c.pem"], "--ca, --cert and --key are for https://"),
    (["--server", "wss://x", "--cert", "/nonexistent.pem"],
     "certificate file '/nonexistent.pem': No such file or directory"),
    (["--server", "http://h:99999"], "bad port"),
    (["--server", "http://127.0.0.1:1", "--grep", "z" * 3000], "request URL too long"),
])
def test_usage_errors(args, needle):
    r = run(*args)
    assert r.returncode == 2
    assert needle in r.stderr.decode()
    assert r.stdout == b""


def test_help():
    r = run("--help")
    assert r.returncode == 0
    text = r.stdout.decode()
    for flag in ["--server", "--topic", "--level", "--grep", "-n, --lines", "--file",
                 "--json", "--help", "LOGSHIP_SERVER", "NO_COLOR", "reconnect"]:
        assert flag in text, flag
    h = subprocess.run([LOGSHIP, "help", "tail"], capture_output=True, env=env_for())
    assert h.stdout.decode() == text
    r = subprocess.run([LOGSHIP, "--help"], capture_output=True, env=env_for())
    assert "tail" in r.stdout.decode()
