"""`logship query` and `logship tail` given --server more than once: the
answers of several real logshipd merged by time (src/cli/merge.c), the
limit applied to the merged answer, failures named, and a live tail of two
servers in time order."""
import json
import os
import signal
import subprocess
import threading
import time

from conftest import LOGSHIPD
from httpraw import wait_for

LOGSHIP = os.path.join(os.path.dirname(LOGSHIPD), "logship")
BASE = 1767225600  # 2026-01-01T00:00:00Z


def env_for():
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "LOGSHIP_SERVER", "TERM", "LOGSHIP_TOKEN")}
    env["TZ"] = "UTC"
    return env


def logship(*args, timeout=60):
    return subprocess.run([LOGSHIP, *args], capture_output=True, text=True, timeout=timeout,
                          env=env_for())


def ingest(server, records):
    body = "".join(json.dumps(r) + "\n" for r in records)
    st, reply = server.post("/api/log", body, "application/x-ndjson")
    assert st == 200 and reply["accepted"] == len(records), reply


def query(servers, *args):
    flags = [a for s in servers for a in ("--server", s.url)]
    return logship("query", *flags, *args)


def msgs(r):
    assert r.returncode == 0, r.stderr
    return [json.loads(l)["msg"] for l in r.stdout.splitlines()]


def two_servers(make_server):
    """A holds the even seconds, B the odd ones, each stored out of time
    order (seq order is not time order)."""
    a, b = make_server(), make_server()
    order = [4, 0, 8, 2, 6]
    ingest(a, [{"msg": f"t{t}", "ts": BASE + t} for t in order])
    ingest(b, [{"msg": f"t{t + 1}", "ts": BASE + t + 1} for t in order])
    return a, b


def test_query_merges_answers_by_time(make_server):
    a, b = two_servers(make_server)
    assert msgs(query([a, b], "--json")) == [f"t{i}" for i in range(10)]
    # the limit is the merged answer's: the newest three of both, oldest first
    assert msgs(query([a, b], "--json", "-n", "3")) == ["t7", "t8", "t9"]
    # from a time: the oldest three from there
    assert msgs(query([a, b], "--json", "-n", "3", "--since", str(BASE + 3))) == \
        ["t3", "t4", "t5"]
    assert msgs(query([a, b], "--json", "-n", "3", "--order", "desc")) == ["t9", "t8", "t7"]
    # filters go to both
    ingest(b, [{"msg": "odd one", "ts": BASE + 100, "level": "error"}])
    assert msgs(query([a, b], "--json", "--level", "error")) == ["odd one"]
    # human lines, in the same order
    r = query([b, a], "--format", "{msg}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"t{i}" for i in range(10)] + ["odd one"]


def test_query_ties_keep_server_order(make_server):
    a, b = make_server(), make_server()
    ingest(a, [{"msg": "a1", "ts": BASE}, {"msg": "a2", "ts": BASE}])
    ingest(b, [{"msg": "b1", "ts": BASE}])
    assert msgs(query([a, b], "--json")) == ["a1", "a2", "b1"]
    assert msgs(query([b, a], "--json")) == ["b1", "a1", "a2"]


def test_query_one_server_down(make_server):
    """A server that cannot be reached is named and the exit status is 1;
    the other's records are still printed."""
    a, _ = two_servers(make_server)
    r = logship("query", "--server", a.url, "--server", "http://127.0.0.1:1", "--json")
    assert r.returncode == 1
    assert "cannot reach logshipd at http://127.0.0.1:1" in r.stderr
    assert [json.loads(l)["msg"] for l in r.stdout.splitlines()] == \
        ["t0", "t2", "t4", "t6", "t8"]


def test_query_refused_and_usage(make_server):
    a, b = two_servers(make_server)
    r = query([a, b], "--level", "loud")
    assert r.returncode == 2 and "level" in r.stderr
    r = query([a, b], "--after", "3")
    assert r.returncode == 2 and "--after" in r.stderr and "--since" in r.stderr


class Tail:
    """`logship tail` running with stdout collected line by line."""

    def __init__(self, *args):
        self.p = subprocess.Popen([LOGSHIP, "tail", *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env_for())
        self.lines = []
        self.t = threading.Thread(target=self._pump, daemon=True)
        self.t.start()

    def _pump(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))

    def msgs(self):
        return [json.loads(l)["msg"] for l in list(self.lines)]

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        rc = self.p.wait(15)
        self.t.join(5)
        return rc, self.p.stderr.read()


def test_tail_merges_two_servers_by_time(make_server):
    """The newest records of both, then live ones from both, in time
    order; SIGINT ends it with status 0."""
    a, b = two_servers(make_server)
    t = Tail("--server", a.url, "--server", b.url, "--json", "-n", "2")
    try:
        # -n counts per server: the last two each stored (A: t2 and t6,
        # B: t3 and t7), merged by time
        assert wait_for(lambda: len(t.lines) >= 4, 30), t.lines
        assert t.msgs() == ["t2", "t3", "t6", "t7"]
        now = time.time()
        for i in range(5):
            ingest(a, [{"msg": f"live a{i}", "ts": now + 2 * i}])
            ingest(b, [{"msg": f"live b{i}", "ts": now + 2 * i + 1}])
        want = [f"live {s}{i}" for i in range(5) for s in "ab"]
        assert wait_for(lambda: len(t.lines) >= 14, 30), t.lines
        assert t.msgs()[4:] == want
        # a quiet server holds the other up for the hold at most
        ingest(a, [{"msg": "alone", "ts": time.time() + 60}])
        assert wait_for(lambda: "alone" in t.msgs(), 10), t.lines
    finally:
        rc, err = t.stop()
    assert rc == 0, err


def test_tail_one_server_unreachable(make_server):
    """One server cannot be reached: it is named, the other is still
    followed, and the exit status says that one failed."""
    a, _ = two_servers(make_server)
    t = Tail("--server", "http://127.0.0.1:1", "--server", a.url, "--json", "-n", "1")
    try:
        assert wait_for(lambda: t.msgs() == ["t6"], 30), t.lines  # A's last stored
        ingest(a, [{"msg": "still here", "ts": time.time()}])
        assert wait_for(lambda: "still here" in t.msgs(), 10), t.lines
    finally:
        rc, err = t.stop()
    assert rc == 1
    assert "cannot reach logshipd at http://127.0.0.1:1" in err


def test_tail_several_refuses_file(make_server):
    a, b = make_server(), make_server()
    r = logship("tail", "--server", a.url, "--server", b.url, "--file", "logs/x.log")
    assert r.returncode == 2 and "--file" in r.stderr
