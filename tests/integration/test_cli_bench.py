"""`logship bench`: every mode against the real logshipd (with --verify), the
latency it reports against test servers whose delay is known (a fixed 20 ms;
a stall of 1 s in an open-loop run), --verify against servers that lose or
double a record, nginx, the progress line, Ctrl-C and bad arguments."""
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import LOGSHIPD

LOGSHIP = os.path.join(os.path.dirname(LOGSHIPD), "logship")
TAG = re.compile(r"lsb_([0-9a-f]{16})_(\d{12})_(\d{20})")


def env_for():
    env = {k: v for k, v in os.environ.items() if k not in ("LOGSHIP_SERVER", "TERM")}
    env["TZ"] = "UTC"
    return env


def bench(*args, timeout=120):
    return subprocess.run([LOGSHIP, "bench", *args], capture_output=True, text=True,
                          timeout=timeout, env=env_for())


def bench_json(*args, rc=0, timeout=120):
    r = bench("--json", "-q", *args, timeout=timeout)
    assert r.returncode == rc, (r.returncode, r.stdout, r.stderr)
    out = json.loads(r.stdout)
    for key in ("mode", "sent", "acked", "errors", "duration_s", "records_per_s", "mb_per_s"):
        assert key in out, out
    assert set(out["latency_us"]) >= {"p50", "p90", "p99", "p999", "max"}
    return out


# ---- test servers -----------------------------------------------------------

class Store:
    """What a fake log server keeps: records with seqs, as logshipd would
    answer /api/logs with them."""

    def __init__(self, drop_every=0, double_at=0):
        self.lock = threading.Lock()
        self.msgs = []
        self.drop_every = drop_every
        self.double_at = double_at
        self.received = 0

    def add(self, msg):
        with self.lock:
            self.received += 1
            if self.drop_every and self.received % self.drop_every == 0:
                return  # lost, though acknowledged
            self.msgs.append(msg)
            if self.double_at and self.received == self.double_at:
                self.msgs.append(msg)

    def query(self, q, after, limit):
        with self.lock:
            out = []
            for i, m in enumerate(self.msgs, 1):
                if i > after and q in m:
                    out.append(json.dumps({"seq": i, "msg": m}) + "\n")
                    if len(out) >= limit:
                        break
            return "".join(out)


def make_handler(store=None, delay=0.0, stall=None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # the head and the body are two writes: without this Nagle holds
        # the body for the client's delayed ACK (40 ms) and the delay of
        # the server is no longer the one the test sets
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def reply(self, status, body=b"", ctype="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(n).decode()
            if delay:
                time.sleep(delay)
            if stall is not None:
                stall.hold()
            count = 0
            if store is not None:
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("application/x-www-form-urlencoded"):
                    msgs = [urllib.parse.parse_qs(body)["log"][0]]
                elif ctype.startswith("application/x-ndjson"):
                    msgs = [json.loads(line)["msg"] for line in body.splitlines() if line]
                else:
                    msgs = [json.loads(body)["msg"]]
                for m in msgs:
                    store.add(m)
                count = len(msgs)
            self.reply(200, json.dumps({"accepted": count}).encode())

        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            qs = urllib.parse.parse_qs(u.query)
            if u.path != "/api/logs" or store is None:
                self.reply(404, b'{"error":"not found"}')
                return
            body = store.query(qs.get("q", [""])[0], int(qs.get("after", ["0"])[0]),
                               int(qs.get("limit", ["1000"])[0]))
            self.reply(200, body.encode(), "application/x-ndjson")

    return Handler


class Stall:
    """Holds every answer due in one window of `length` seconds, starting
    `after` seconds past the first request, until the window ends."""

    def __init__(self, after, length):
        self.after, self.length = after, length
        self.first = None
        self.lock = threading.Lock()

    def hold(self):
        now = time.monotonic()
        with self.lock:
            if self.first is None:
                self.first = now
        start = self.first + self.after
        if start <= now < start + self.length:
            time.sleep(start + self.length - now)


@pytest.fixture
def fake():
    servers = []

    def make(**kw):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(**kw))
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield make
    for s in servers:
        s.shutdown()
        s.server_close()


# ---- honest latency ---------------------------------------------------------

class DelayServer:
    """Answers every request 20 ms after it arrived: one asyncio loop, the
    answer in one write, so its own delay varies as little as it can."""

    def __init__(self, delay):
        self.delay = delay
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        async def handle(reader, writer):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    arrived = self.loop.time()
                    m = re.search(rb"(?i)content-length: *(\d+)", head)
                    await reader.readexactly(int(m.group(1)) if m else 0)
                    await asyncio.sleep(max(0.0, arrived + self.delay - self.loop.time()))
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"accepted\":1}")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        async def main():
            self.srv = await asyncio.start_server(handle, "127.0.0.1", 0)
            self.port = self.srv.sockets[0].getsockname()[1]
            started.set()

        self.thread = threading.Thread(target=lambda: (self.loop.run_until_complete(main()),
                                                       self.loop.run_forever()), daemon=True)
        self.thread.start()
        assert started.wait(10)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_a_fixed_20ms_server_reads_20_to_26ms():
    """A server that answers after 20 ms: nothing can be faster than it, so
    every run's p50 and p99 are at least 20 ms (a tool that undercuts the
    server is wrong), and p50 is within 26 ms in one of up to five runs.
    The top 1% depends on the machine as well (on a loaded shared one any
    client, wrk too, and this Python server see answers late by tens of
    ms): it is not asserted here, bench/bench_tool.sh measures it."""
    srv = DelayServer(0.020)
    p50s, p99s = [], []
    try:
        for _ in range(5):
            out = bench_json("http", "--server", f"http://127.0.0.1:{srv.port}", "-c", "4",
                             "-d", "2")
            assert out["errors"] == 0 and out["acked"] > 100, out
            lat = out["latency_us"]
            assert lat["p50"] >= 20000 and lat["p99"] >= 20000, lat
            p50s.append(lat["p50"])
            p99s.append(lat["p99"])
            if min(p50s) <= 26000:
                break
    finally:
        srv.close()
    assert min(p50s) <= 26000, (p50s, p99s)


def test_open_loop_shows_a_stall_in_p99(fake):
    """500 records/s for 5 s; the server holds its answers for 1 s once. Every
    request due meanwhile is late by up to 1 s, measured from when it was
    meant to go: about a tenth of them, so p99 is far above 500 ms."""
    url = fake(stall=Stall(after=2.0, length=1.0))
    out = bench_json("http", "--server", url, "--rate", "500", "-d", "5", "-c", "10")
    assert out["errors"] == 0, out
    assert 2000 <= out["acked"] <= 2600, out
    assert out["latency_us"]["p99"] >= 500000, out["latency_us"]
    assert out["latency_us"]["max"] >= 900000, out["latency_us"]
    assert out["latency_us"]["p50"] < 500000, out["latency_us"]


# ---- --verify ---------------------------------------------------------------

def test_verify_catches_a_lost_record(fake):
    store = Store(drop_every=10000)
    url = fake(store=store)
    r = bench("ndjson", "--server", url, "-n", "20000", "--batch", "200", "-c", "2", "-q",
              "--verify")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "NOT every record stored exactly once" in r.stdout
    m = re.search(r"missing\s+(\d+) record\(s\), ids (\d+) (\d+)\n", r.stdout)
    assert m and m.group(1) == "2", r.stdout
    # the ids named are the ones the server dropped (the 10,000th and 20,000th it got)
    lost = {int(m.group(2)), int(m.group(3))}
    stored = {int(TAG.search(x).group(2)) for x in store.msgs}
    assert not lost & stored and len(stored) == 19998


def test_verify_catches_a_doubled_record(fake):
    url = fake(store=Store(double_at=777))
    out = bench_json("json", "--server", url, "-n", "3000", "-c", "3", "--verify", rc=1)
    v = out["verify"]
    assert v["ok"] is False and v["doubled"] == 1 and v["missing"] == 0, v
    assert v["acked"] == 3000 and v["found"] == 3000


def test_verify_passes_against_a_faithful_server(fake):
    out = bench_json("http", "--server", fake(store=Store()), "-n", "2000", "-c", "4",
                     "--verify")
    assert out["verify"] == {"ok": True, "acked": 2000, "found": 2000, "missing": 0,
                             "doubled": 0, "found_unacked": 0}


def test_verify_says_why_when_there_is_nothing_to_ask(fake):
    out = bench_json("http", "--server", fake(), "-n", "10", "--verify", rc=1)
    assert out["verify"]["ok"] is False
    assert "404" in out["verify"]["error"]


# ---- every mode against logshipd ----------------------------------------------

MODES = [
    ("http", []),
    ("json", []),
    ("ndjson", ["--batch", "50"]),
    ("syslog-udp", ["--rate", "2000"]),
    ("syslog-tcp", []),
    ("syslog-tcp", ["--octet-count", "--rfc5424"]),
    ("tcp", []),
    ("tcp-ack", ["--batch", "20", "--inflight", "4"]),
    ("tail", ["--subscribers", "3", "--rate", "2000"]),
]
PORT = {"syslog-udp": "syslog-udp", "syslog-tcp": "syslog-tcp", "tcp": "tcp", "tcp-ack": "tcp"}


@pytest.mark.parametrize("mode,extra", MODES, ids=[" ".join([m] + e) for m, e in MODES])
def test_every_mode_against_logshipd(make_server, mode, extra):
    server = make_server()
    args = [mode, "--server", server.url, "-d", "1", "-c", "2", "--verify", *extra]
    if mode in PORT:
        args += ["--target", f"127.0.0.1:{server.ports[PORT[mode]]}"]
    out = bench_json(*args)
    assert out["mode"] == mode
    assert out["errors"] == 0, out
    assert out["acked"] > 0 and out["sent"] >= out["acked"], out
    assert out["verify"]["ok"] is True, out["verify"]
    assert out["verify"]["missing"] == 0 and out["verify"]["doubled"] == 0
    # the server read the records as the mode means them
    rec = server.logs(q="lsb_" + out["run"], limit=1)[0]
    m = TAG.match(rec["msg"])
    assert m and m.group(1) == out["run"], rec
    assert rec["app"] == "bench", rec
    assert rec["level"] == "info", rec
    if mode == "tail":
        assert out["subscribers"] == 3 and out["subscribers_connected"] == 3
        # every subscriber got every record it was sent while it listened
        assert out["delivered_per_s_min"] > 0, out
        assert out["latency_us"]["count"] >= 3 * out["acked"], out


def test_tail_with_100_subscribers_keeps_up_with_its_schedule(make_server):
    # 100,000 records/s, one record per POST, one POST in flight: each POST
    # is fanned out to 100 subscribers, so one POST per round trip can not
    # keep the schedule (it sent ~540 of the 20,000 in the 2 s); POSTs that
    # catch up with every record due do, and every subscriber gets each.
    server = make_server()
    out = bench_json("tail", "--server", server.url, "--subscribers", "100",
                     "--rate", "100000", "--batch", "1", "-c", "1", "-n", "20000",
                     "-d", "2", "--warmup", "0", "--timeout", "60", timeout=180)
    assert out["errors"] == 0, out
    assert out["subscribers_connected"] == 100, out
    assert out["sent"] == 20000 and out["acked"] == 20000, out
    assert out["latency_us"]["count"] == 100 * 20000, out


def test_count_is_exact_when_the_run_is_behind_its_schedule(make_server):
    """An open-loop rate far above what the server answers: the records due
    during the warm-up are sent after it, and must not take from -n's
    budget, or fewer than -n records are measured."""
    server = make_server()
    out = bench_json("http", "--server", server.url, "-n", "3000", "--rate", "100000",
                     "--warmup", "100ms", "-c", "2", "--verify")
    assert out["sent"] == 3000 and out["acked"] == 3000, out
    assert out["latency_us"]["count"] == 3000
    assert out["verify"]["ok"] is True, out["verify"]


def test_count_and_warmup_are_exact(make_server):
    server = make_server()
    out = bench_json("ndjson", "--server", server.url, "-n", "5000", "--batch", "100",
                     "--warmup", "200ms", "-c", "3", "--verify")
    assert out["sent"] == 5000 and out["acked"] == 5000, out
    assert out["latency_us"]["count"] == 5000
    # the warmup's records are stored too, and verified
    assert out["verify"]["acked"] > 5000 and out["verify"]["ok"] is True


def test_corpus_lines_are_replayed(make_server, tmp_path):
    server = make_server()
    corpus = tmp_path / "corpus.log"
    corpus.write_text('first line "quoted"\nsecond\tline a=b&c\n\nthird \\ line\n')
    out = bench_json("http", "--server", server.url, "-n", "30", "-c", "1",
                     "--corpus", str(corpus), "--verify")
    assert out["verify"]["ok"] is True
    msgs = {TAG.sub("", r["msg"]) for r in server.logs(q="lsb_" + out["run"], limit=100)}
    assert msgs == {' first line "quoted"', " second\tline a=b&c", " third \\ line"}


# ---- nginx ------------------------------------------------------------------

def test_http_against_nginx(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if not nginx:
        pytest.skip("nginx is not installed (scripts/deps.sh test)")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    (tmp_path / "logs").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
daemon off; master_process off; worker_processes 1;
pid {tmp_path}/nginx.pid; error_log {tmp_path}/logs/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path};
  fastcgi_temp_path {tmp_path}; uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};
  server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}
}}
""")
    p = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(conf)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        out = bench_json("http", "--server", f"http://127.0.0.1:{port}", "-d", "1", "-c", "4")
        assert out["errors"] == 0 and out["acked"] > 100, out  # 204 counts as acknowledged
        assert out["sent"] >= out["acked"]
    finally:
        p.terminate()
        p.wait(10)


# ---- the terminal -------------------------------------------------------------

def test_progress_line_on_a_terminal_only(make_server):
    server = make_server()
    cmd = f"{LOGSHIP} bench http --server {server.url} -d 1.2 -c 2"
    r = subprocess.run(["script", "-q", "-c", cmd, "/dev/null"], capture_output=True,
                       timeout=60, env=env_for())
    assert r.returncode == 0, r
    assert b"\r\x1b[K" in r.stdout and b" acked " in r.stdout and b"p99 " in r.stdout, r.stdout
    assert b"logship bench http:" in r.stdout
    piped = bench("http", "--server", server.url, "-d", "1", "-c", "2")
    assert piped.returncode == 0
    assert "\x1b" not in piped.stdout + piped.stderr and "\r" not in piped.stderr
    assert "latency " in piped.stdout
    # --json on a pipe: one object and nothing else
    js = bench("http", "--server", server.url, "-n", "100", "--json")
    assert js.returncode == 0 and js.stderr == ""
    assert json.loads(js.stdout)["acked"] == 100


def test_ctrl_c_prints_the_summary_so_far(make_server):
    server = make_server()
    p = subprocess.Popen([LOGSHIP, "bench", "http", "--server", server.url, "-d", "60", "-c",
                          "2", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env_for())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until it has stored something
        if server.logs(q="lsb_", limit=1):
            break
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, (out, err)
    s = json.loads(out)
    assert s["interrupted"] is True and s["acked"] > 0 and s["duration_s"] < 60, s


# ---- bad arguments ------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("args,needle", [
    (["htttp"], "unknown mode 'htttp'"),
    ([], "which mode"),
    (["http", "--rate", "0"], "bad --rate '0'"),
    (["http", "--batch", "5"], "--batch is for ndjson"),
    (["http", "--server", "http://127.0.0.1:{port}"], "cannot connect to 127.0.0.1:{port}"),
    (["tcp", "--target", "127.0.0.1:{port}"], "cannot connect to 127.0.0.1:{port}"),
    (["http", "--server", "http://no-such-host.invalid"], "cannot resolve 'no-such-host.invalid'"),
    (["http", "--corpus", "/nonexistent/corpus"], "cannot read --corpus"),
])
def test_bad_arguments_exit_2_with_one_line(args, needle):
    port = str(free_port())
    r = bench(*[a.replace("{port}", port) for a in args], timeout=30)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and needle.replace("{port}", port) in lines[0], r.stderr
    assert lines[0].startswith("logship bench: ")
    assert r.stdout == ""


def test_help():
    r = subprocess.run([LOGSHIP, "bench", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for word in ("http", "ndjson", "syslog-udp", "tcp-ack", "tail", "--rate", "--verify",
                 "--corpus", "--warmup", "Exit status"):
        assert word in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    r = subprocess.run([LOGSHIP, "--help"], capture_output=True, text=True)
    assert "bench" in r.stdout


def test_a_server_that_goes_away_ends_the_run():
    """-n alone has no end but the count: when nothing is acknowledged for
    --timeout while errors grow, the run stops (exit 1) rather than
    reconnecting for ever."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    port = lst.getsockname()[1]

    def accept_then_leave():
        for _ in range(2):  # the reachability check, then the run's one
            c, _ = lst.accept()
            c.close()
        lst.close()

    threading.Thread(target=accept_then_leave, daemon=True).start()
    r = bench("tcp", "--target", f"127.0.0.1:{port}", "-n", "100000000", "-c", "1",
              "--timeout", "1", "--json", "-q", timeout=60)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "stopped: nothing acknowledged" in r.stderr
    out = json.loads(r.stdout)
    assert out["stalled"] is True and out["errors"] > 0, out
