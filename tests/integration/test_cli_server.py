"""Which server the logship commands talk to, and `logship send` over each
transport, against the real logshipd: --server http:// and tcp://,
$LOGSHIP_SERVER for query, tail and send (and $LOGSHIP_TCP, deprecated),
bad server URLs and TLS options refused clearly (TLS itself:
test_cli_tls.py), a closed port failing at once with its address
and reason, retries of a lost or refused batch under the same batch number,
and -p FACILITY.LEVEL stored as the syslog input stores that priority."""
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import LOGSHIPD

LOGSHIP = os.path.join(os.path.dirname(LOGSHIPD), "logship")


def env_for(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "LOGSHIP_SERVER", "LOGSHIP_TCP", "TERM")}
    env["TZ"] = "UTC"
    env.update(extra)
    return env


def logship(*args, env=None, input=None, timeout=60):
    return subprocess.run([LOGSHIP, *args], capture_output=True, text=True, input=input,
                          timeout=timeout, env=env or env_for())


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp_url(server):
    return f"tcp://127.0.0.1:{server.ports['tcp']}"


def stored(server, n, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        got = server.logs(limit=100000)
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


# -- send over each transport ----------------------------------------------

@pytest.mark.parametrize("transport", ["http", "tcp"])
def test_send_message_over_each_transport(server, transport):
    url = server.url if transport == "http" else tcp_url(server)
    r = logship("send", "--server", url, "--app", "backup", "--level", "warning", "-H", "box-1",
                "-F", "disk=sda", "-F", "n=3", "disk", "almost", "full")
    assert r.returncode == 0, r.stderr
    (rec,) = stored(server, 1)
    assert (rec["msg"], rec["level"], rec["app"], rec["topic"], rec["host"]) == \
        ("disk almost full", "warning", "backup", "backup.warning", "box-1")
    assert rec["fields"] == {"disk": "sda", "n": "3"}
    assert int(rec["pid"]) > 0


def test_send_stdin_over_http_in_batches(server):
    lines = "".join(f"line {i}\n" for i in range(5000)) + "\r\n\nlast without newline\r"
    before = server.metrics().get('logship_http_responses_total{code="200"}', 0)
    r = logship("send", "--server", server.url, "--app", "batch", "-t", "bulk.in", input=lines)
    assert r.returncode == 0, r.stderr
    # more than one batch (2000 records at most), each a request of its own
    after = server.metrics().get('logship_http_responses_total{code="200"}', 0)
    assert after - before >= 3
    got = stored(server, 5001)
    assert [g["msg"] for g in got] == [f"line {i}" for i in range(5000)] + ["last without newline"]
    assert {g["topic"] for g in got} == {"bulk.in"}


def test_send_stdin_over_http_does_not_wait_for_the_end(server):
    """A line is stored while stdin stays open: batches linger 100 ms, not
    until EOF."""
    p = subprocess.Popen([LOGSHIP, "send", "--server", server.url], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env_for())
    try:
        p.stdin.write("early\n")
        p.stdin.flush()
        assert [g["msg"] for g in stored(server, 1)] == ["early"]
        p.stdin.write("late\n")
    finally:
        p.stdin.close()
    assert p.wait(30) == 0, p.stderr.read()
    p.stderr.close()
    assert [g["msg"] for g in stored(server, 2)] == ["early", "late"]


# -- fail fast -------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["tcp", "http"])
@pytest.mark.parametrize("mode", ["message", "stdin"])
def test_send_to_a_closed_port_fails_at_once(scheme, mode):
    port = closed_port()
    args = ["send", "--server", f"{scheme}://127.0.0.1:{port}"]
    if mode == "message":
        args.append("hello")
    t0 = time.monotonic()
    # stdin stays open: the check comes before any input is read
    p = subprocess.Popen([LOGSHIP, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env_for())
    try:
        rc = p.wait(10)
    finally:
        p.stdin.close()
    elapsed = time.monotonic() - t0
    err = p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    assert rc == 1
    assert elapsed < 1.0, elapsed
    assert f"cannot connect to 127.0.0.1:{port}: Connection refused" in err, err
    assert "timed out" not in err


def test_send_file_to_a_closed_port_fails_at_once(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("a line\n")
    port = closed_port()
    t0 = time.monotonic()
    r = logship("send", "--server", f"tcp://127.0.0.1:{port}", "--file", str(log), "--state",
                str(tmp_path / "state"))
    assert time.monotonic() - t0 < 1.0
    assert r.returncode == 1
    assert f"cannot connect to 127.0.0.1:{port}: Connection refused" in r.stderr


def test_send_to_a_port_that_is_not_logshipds_tcp_input(server):
    """Connected, but the hello is not answered in the protocol: said so."""
    r = logship("send", "--server", f"tcp://127.0.0.1:{server.port}", "--timeout", "3000", "x")
    assert r.returncode == 1
    assert f"127.0.0.1:{server.port}" in r.stderr
    assert "raw TCP" in r.stderr or "--tcp port" in r.stderr, r.stderr


# -- the server: flag, environment, default -----------------------------------

def test_logship_server_for_every_command(server, tmp_path):
    env = env_for(LOGSHIP_SERVER=server.url)
    r = logship("send", "-a", "envapp", "from the environment", env=env)
    assert r.returncode == 0, r.stderr
    r = logship("query", "--format", "{app}: {msg}", env=env)
    assert r.returncode == 0 and r.stdout == "envapp: from the environment\n", r.stderr
    p = subprocess.Popen([LOGSHIP, "tail", "-n", "1", "--format", "{msg}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout.readline() == "from the environment\n"
    finally:
        p.terminate()
        p.wait(10)
        p.stdout.close()
        p.stderr.close()
    # a tcp:// LOGSHIP_SERVER serves send (query and tail say they need http://)
    env = env_for(LOGSHIP_SERVER=tcp_url(server))
    r = logship("send", "-a", "tcpenv", "over tcp from the environment", env=env)
    assert r.returncode == 0, r.stderr
    assert stored(server, 2)[-1]["app"] == "tcpenv"
    r = logship("query", env=env)
    assert r.returncode == 2 and "tcp:// is for 'logship send' only" in r.stderr


def test_flag_wins_over_the_environment(server):
    dead = f"http://127.0.0.1:{closed_port()}"
    env = env_for(LOGSHIP_SERVER=dead, LOGSHIP_TCP=f"127.0.0.1:{closed_port()}")
    r = logship("send", "--server", server.url, "flag wins", env=env)
    assert r.returncode == 0, r.stderr
    r = logship("query", "--server", server.url, "--format", "{msg}", env=env)
    assert r.stdout == "flag wins\n"
    # without the flag, LOGSHIP_SERVER wins over LOGSHIP_TCP
    r = logship("send", "nope", env=env)
    assert r.returncode == 1 and dead[len("http://"):] in r.stderr


def test_logship_tcp_still_works_but_after_logship_server(server):
    port = server.ports["tcp"]
    for value in (f"127.0.0.1:{port}", f"tcp://127.0.0.1:{port}"):
        r = logship("send", "-a", "legacy", value, env=env_for(LOGSHIP_TCP=value))
        assert r.returncode == 0, r.stderr
    assert [g["msg"] for g in stored(server, 2)] == [f"127.0.0.1:{port}", f"tcp://127.0.0.1:{port}"]
    env = env_for(LOGSHIP_TCP=f"127.0.0.1:{closed_port()}", LOGSHIP_SERVER=server.url)
    r = logship("send", "-a", "legacy", "LOGSHIP_SERVER first", env=env)
    assert r.returncode == 0, r.stderr


def test_default_server_is_http_8080():
    """With neither flag nor environment, query asks http://127.0.0.1:8080
    (whatever is there: only a failure is looked at; nothing is sent)."""
    r = logship("query", "-n", "1")
    if r.returncode != 0:
        assert "http://127.0.0.1:8080" in r.stderr, r.stderr


@pytest.mark.parametrize("args,needle", [
    (["send", "--server", "wss://127.0.0.1:1", "x"], "expected http://HOST[:PORT] or tcp://"),
    (["query", "--server", "tls://127.0.0.1:1"], "tls:// is for 'logship send' only"),
    (["send", "--server", "tls://127.0.0.1:1", "--key", "k.pem", "x"], "--key needs --cert"),
    (["send", "--server", "tcp://127.0.0.1:1", "--ca", "ca.pem", "x"],
     "--ca, --cert and --key are for https://, wss:// and tls://"),
    (["send", "--server", "https://127.0.0.1:1", "--cert", "/nonexistent.pem", "x"],
     "certificate file '/nonexistent.pem': No such file or directory"),
    (["send", "--server", "127.0.0.1:5170", "x"], "expected http://HOST[:PORT] or tcp://"),
    (["send", "--server", "tcp://127.0.0.1", "x"], "tcp://HOST:PORT"),
    (["send", "--server", "http://127.0.0.1:99999", "x"], "bad port"),
    (["send", "--file", "/nonexistent", "--server", "http://127.0.0.1:1"],
     "--file needs a tcp://HOST:PORT server"),
])
def test_server_url_errors(args, needle):
    r = logship(*args)
    assert r.returncode == 2, r
    assert needle in r.stderr, r.stderr


def test_help_documents_the_server():
    text = logship("--help").stdout
    assert "LOGSHIP_SERVER" in text and "http://127.0.0.1:8080" in text
    text = logship("send", "--help").stdout
    for needle in ("http://HOST[:PORT]", "tcp://HOST:PORT", "LOGSHIP_SERVER", "LOGSHIP_TCP",
                   "deprecated", "https://", "local3.err"):
        assert needle in text, needle


# -- -p FACILITY.LEVEL -------------------------------------------------------

@pytest.mark.parametrize("transport", ["http", "tcp"])
def test_priority_keeps_the_facility_like_the_syslog_input(server, transport):
    url = server.url if transport == "http" else tcp_url(server)
    r = logship("send", "--server", url, "-p", "local3.err", "-a", "myapp", "via send")
    assert r.returncode == 0, r.stderr
    # the same priority through the syslog input: <155> is local3.err
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"<155>1 - - myapp - - - via syslog", ("127.0.0.1", server.ports["syslog-udp"]))
    sent, syslogged = stored(server, 2)
    assert sent["msg"] == "via send" and syslogged["msg"] == "via syslog"
    for key in ("level", "topic", "app"):
        assert sent[key] == syslogged[key], key
    assert (sent["topic"], sent["level"]) == ("local3.error", "error")
    assert "facility" not in sent.get("fields", {})


def test_priority_forms(server):
    cases = [
        (["-p", "auth.crit"], ("auth.crit", "crit")),
        (["-p", "LOCAL7.Warn"], ("local7.warning", "warning")),
        (["-p", "err"], ("logship.error", "error")),          # a bare level: -l
        (["-p", "user.err", "-t", "ops.alerts"], ("ops.alerts", "error")),  # -t wins
        (["-t", "ops.alerts", "-p", "user.err"], ("ops.alerts", "error")),
        (["-p", "daemon.info", "-l", "notice"], ("logship.notice", "notice")),  # the last wins
    ]
    for args, _ in cases:
        r = logship("send", "--server", server.url, *args, "m")
        assert r.returncode == 0, (args, r.stderr)
    got = stored(server, len(cases))
    assert [(g["topic"], g["level"]) for g in got] == [want for _, want in cases]
    r = logship("send", "--server", server.url, "-p", "nosuch.err", "m")
    assert r.returncode == 2 and "unknown facility" in r.stderr and "local0..local7" in r.stderr
    r = logship("send", "--server", server.url, "-p", "local3.loud", "m")
    assert r.returncode == 2 and "unknown level" in r.stderr


# -- HTTP retries, against a scripted peer ------------------------------------

class ScriptedHTTP:
    """Answers POSTs by a script: "drop" reads the request and closes with no
    reply, a number answers that status, "ok" answers 200 as logshipd does.
    Records every request (head and body)."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def read_request(self, conn, buf):
        while b"\r\n\r\n" not in buf:
            data = conn.recv(65536)
            if not data:
                return None, b""
            buf += data
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {h.split(":", 1)[0].lower(): h.split(":", 1)[1].strip() for h in lines[1:]}
        n = int(headers.get("content-length", "0"))
        while len(rest) < n:
            data = conn.recv(65536)
            if not data:
                return None, b""
            rest += data
        return (lines[0], headers, rest[:n]), rest[n:]

    def serve(self):
        self.sock.settimeout(30)
        while self.script:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(30)
                buf = b""
                while self.script:
                    req, buf = self.read_request(conn, buf)
                    if req is None:
                        break
                    self.requests.append(req)
                    step = self.script.pop(0)
                    if step == "drop":
                        break
                    if step == "ok":
                        n = req[2].count(b"\n")
                        body = json.dumps({"accepted": n, "first_seq": 1, "last_seq": n})
                        status = "200 OK"
                    else:
                        body = json.dumps({"error": "store is behind; retry shortly"})
                        status = f"{step} Oops"
                    conn.sendall(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                                 f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
        self.sock.close()


def test_http_batch_resent_with_the_same_number_after_a_drop_and_a_503():
    peer = ScriptedHTTP(["drop", 503, "ok"])
    r = logship("send", "--server", peer.url + "/prefix/", "-a", "retry", "once")
    peer.thread.join(10)
    assert r.returncode == 0, r.stderr
    assert len(peer.requests) == 3
    firsts = {(line, h["logship-producer"], h["logship-batch"], body)
              for line, h, body in peer.requests}
    assert len(firsts) == 1  # the same request every time
    line, headers, body = peer.requests[0]
    assert line == "POST /prefix/api/log HTTP/1.1"
    assert headers["content-type"] == "application/x-ndjson"
    assert headers["logship-batch"] == "1"
    rec = json.loads(body)
    assert (rec["msg"], rec["app"], rec["level"]) == ("once", "retry", "info")


def test_http_gives_up_after_the_timeout():
    peer = ScriptedHTTP([503] * 100)
    t0 = time.monotonic()
    r = logship("send", "--server", peer.url, "--timeout", "700", "x")
    elapsed = time.monotonic() - t0
    assert r.returncode == 1
    assert "not stored by the server in 700 ms: HTTP 503: store is behind" in r.stderr, r.stderr
    assert elapsed < 5, elapsed


def test_http_refusal_is_not_retried():
    peer = ScriptedHTTP([413, "ok"])
    r = logship("send", "--server", peer.url, "x")
    assert r.returncode == 1
    assert "answered HTTP 413" in r.stderr, r.stderr
    assert len(peer.requests) == 1


def test_http_send_survives_a_server_restart(make_server, tmp_path):
    """The server goes away between two batches and comes back on the same
    port: the second batch waits for it and is stored once."""
    port = closed_port()
    s = make_server("--http", f"127.0.0.1:{port}", data_dir=tmp_path / "d")
    p = subprocess.Popen([LOGSHIP, "send", "--server", s.url, "--timeout", "20000"],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for())
    try:
        p.stdin.write("before\n")
        p.stdin.flush()
        assert [g["msg"] for g in stored(s, 1)] == ["before"]
        assert s.stop() == 0
        p.stdin.write("during\n")
        p.stdin.flush()
        time.sleep(0.5)  # the batch is due and finds nobody: it is retried
        s.start()
        p.stdin.write("after\n")
    finally:
        p.stdin.close()
    assert p.wait(30) == 0, p.stderr.read()
    p.stderr.close()
    assert [g["msg"] for g in stored(s, 3)] == ["before", "during", "after"]
