"""The logship command over TLS: send over https:// and tls://, query over
https://, tail over wss://, against a plain logshipd behind the TLS proxy
of tlsproxy.py (logshipd does not speak TLS itself yet).

What is checked: records sent over TLS are stored (read back from the
plain port's /api/logs), query and tail see them (a tail also across a
server restart); the server is verified
against the system's trust store by default and --ca (or $LOGSHIP_CA)
when given; a wrong CA, a certificate of another CA, an expired one and
a name or address the certificate is not for are refused, each command
saying so on one line that names the server, with exit 1, and nothing is
stored; a proxy that requires a client certificate refuses a client
without --cert and takes one with it ($LOGSHIP_CERT/$LOGSHIP_KEY too);
TLS files that can not be used are usage errors (exit 2)."""
import json
import os
import queue
import subprocess
import threading
import time

import pytest

from conftest import LOGSHIPD

LOGSHIP = os.path.join(os.path.dirname(LOGSHIPD), "logship")


def env_for(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOGSHIP_") or k == "LOGSHIPD"}
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def logship(*args, env=None, input=None, timeout=60):
    return subprocess.run([LOGSHIP, *args], capture_output=True, text=True, input=input,
                          timeout=timeout, env=env or env_for())


def stored(server, n, timeout=15):
    """The stored records (oldest first) once there are n; fails if fewer
    come in time."""
    deadline = time.monotonic() + timeout
    while True:
        got = server.logs(limit=100000)
        if len(got) >= n or time.monotonic() > deadline:
            assert len(got) == n, got
            return got
        time.sleep(0.05)


def one_line(stderr):
    """The message, which must be one line."""
    text = stderr.strip()
    assert text and "\n" not in text, repr(stderr)
    return text


class Tail:
    """`logship tail ARGS` running, its stdout lines gathered by a thread."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen([LOGSHIP, "tail", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env or env_for())
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def take(self, n, timeout=30):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                break
            out.append(line)
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, err


def wait_for(cond, timeout=15):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# -- it works ------------------------------------------------------------------

def test_send_over_https_stores_records(server, tls_proxy, tls_certs):
    p = tls_proxy(server.port)
    url = f"https://127.0.0.1:{p.port}"
    r = logship("send", "--server", url, "--ca", tls_certs["ca"], "-a", "tlsapp", "over", "https")
    assert r.returncode == 0, r.stderr
    r = logship("send", "--server", url, "--ca", tls_certs["ca"], "-l", "warning",
                input="".join(f"line {i}\n" for i in range(500)))
    assert r.returncode == 0, r.stderr
    got = stored(server, 501)
    assert got[0]["msg"] == "over https" and got[0]["app"] == "tlsapp"
    assert [g["msg"] for g in got[1:]] == [f"line {i}" for i in range(500)]
    assert {g["level"] for g in got[1:]} == {"warning"}
    assert p.accepted >= 2  # really through the proxy


def test_send_over_tls_stores_records(server, tls_proxy, tls_certs):
    """tls:// is the acknowledged TCP input through liblogship, over TLS."""
    p = tls_proxy(server.ports["tcp"])
    url = f"tls://localhost:{p.port}"
    r = logship("send", "--server", url, "--ca", tls_certs["ca"], "-a", "tlsapp", "over tls")
    assert r.returncode == 0, r.stderr
    r = logship("send", "--server", url, "--ca", tls_certs["ca"],
                input="".join(f"tcp line {i}\n" for i in range(2000)))
    assert r.returncode == 0, r.stderr
    got = stored(server, 2001)
    assert got[0]["msg"] == "over tls" and got[0]["app"] == "tlsapp"
    assert [g["msg"] for g in got[1:]] == [f"tcp line {i}" for i in range(2000)]
    assert p.accepted >= 2


def test_send_file_resumes_over_tls(server, tls_proxy, tls_certs, tmp_path):
    """--file over tls://: a second run sends only the lines added since."""
    p = tls_proxy(server.ports["tcp"])
    log = tmp_path / "app.log"
    log.write_text("".join(f"first {i}\n" for i in range(100)))
    args = ["send", "--server", f"tls://127.0.0.1:{p.port}", "--ca", tls_certs["ca"],
            "--file", str(log), "--state", str(tmp_path / "state")]
    r = logship(*args)
    assert r.returncode == 0, r.stderr
    with open(log, "a") as f:
        f.write("".join(f"second {i}\n" for i in range(50)))
    r = logship(*args)
    assert r.returncode == 0, r.stderr
    got = stored(server, 150)
    assert [g["msg"] for g in got] == ([f"first {i}" for i in range(100)] +
                                       [f"second {i}" for i in range(50)])


def test_query_over_https(server, tls_proxy, tls_certs):
    st, _ = server.post("/api/log", "".join(json.dumps({"msg": f"q{i}", "app": "qa"}) + "\n"
                                            for i in range(20)), "application/x-ndjson")
    assert st == 200
    p = tls_proxy(server.port)
    for host in ("127.0.0.1", "localhost"):
        r = logship("query", "--server", f"https://{host}:{p.port}", "--ca", tls_certs["ca"],
                    "--json", "-n", "100")
        assert r.returncode == 0, r.stderr
        assert [json.loads(line)["msg"] for line in r.stdout.splitlines()] == \
            [f"q{i}" for i in range(20)]


@pytest.mark.parametrize("scheme", ["wss", "https"])
def test_tail_over_wss_receives_live_records(server, tls_proxy, tls_certs, scheme):
    server.post("/api/log", json.dumps({"msg": "before"}), "application/json")
    p = tls_proxy(server.port)
    t = Tail("--server", f"{scheme}://127.0.0.1:{p.port}", "--ca", tls_certs["ca"], "-n", "1",
             "--format", "{msg}")
    try:
        assert t.take(1) == ["before\n"]
        for i in range(5):
            st, _ = server.post("/api/log", json.dumps({"msg": f"live {i}"}), "application/json")
            assert st == 200
        assert t.take(5) == [f"live {i}\n" for i in range(5)]
    finally:
        rc, err = t.stop()
    assert rc == 0, err
    assert p.accepted >= 2  # the newest-seq query and the WebSocket, both over TLS


def test_tail_over_wss_across_a_server_restart(make_server, tls_proxy, tls_certs):
    """The tail reconnects through TLS again (a new session on the same
    context) and resumes: nothing lost."""
    s = make_server()
    port, data = s.port, s.data_dir
    p = tls_proxy(port)
    t = Tail("--server", f"wss://127.0.0.1:{p.port}", "--ca", tls_certs["ca"], "-n", "0",
             "--format", "{msg}")
    try:
        assert wait_for(lambda: p.accepted >= 2)  # the newest seq taken, the WebSocket up
        st, _ = s.post("/api/log", json.dumps({"msg": "one"}), "application/json")
        assert st == 200
        assert t.take(1) == ["one\n"]
        assert s.stop() == 0
        s2 = make_server("--http", f"127.0.0.1:{port}", data_dir=data)
        st, _ = s2.post("/api/log", json.dumps({"msg": "two"}), "application/json")
        assert st == 200
        assert t.take(1, timeout=60) == ["two\n"]
    finally:
        rc, err = t.stop()
    assert rc == 0, err
    assert "reconnected" in err, err
    assert p.accepted >= 3


def test_environment_stands_in_for_the_flags(server, tls_proxy, tls_certs):
    p = tls_proxy(server.port, client_ca="ca")
    env = env_for(LOGSHIP_SERVER=f"https://127.0.0.1:{p.port}", LOGSHIP_CA=tls_certs["ca"],
                  LOGSHIP_CERT=tls_certs["client"], LOGSHIP_KEY=tls_certs["client_key"])
    r = logship("send", "from the environment", env=env)
    assert r.returncode == 0, r.stderr
    r = logship("query", "--format", "{msg}", env=env)
    assert r.returncode == 0 and r.stdout == "from the environment\n", r.stderr
    assert p.client_subjects == ["logship test client"] * 2
    # the variables do not make a plain server an error
    r = logship("query", "--server", server.url, "--format", "{msg}", env=env)
    assert r.returncode == 0 and r.stdout == "from the environment\n", r.stderr


# -- refused ---------------------------------------------------------------------

def run_each(kind, host, port, tls_certs, *extra):
    """Runs the command of kind against host:port; returns the result."""
    if kind == "send-https":
        return logship("send", "--server", f"https://{host}:{port}", *extra, "refused?",
                       timeout=30)
    if kind == "send-tls":
        return logship("send", "--server", f"tls://{host}:{port}", *extra, "refused?",
                       timeout=30)
    if kind == "query":
        return logship("query", "--server", f"https://{host}:{port}", *extra, timeout=30)
    return logship("tail", "--server", f"wss://{host}:{port}", *extra, timeout=30)


KINDS = ["send-https", "send-tls", "query", "tail"]


@pytest.mark.parametrize("case,cert,host,ca,reason", [
    ("default trust store", "server", "127.0.0.1", None,
     "certificate verify failed: unable to get local issuer certificate"),
    ("--ca of another CA", "server", "127.0.0.1", "other_ca",
     "certificate verify failed: unable to get local issuer certificate"),
    ("certificate of another CA", "foreign", "127.0.0.1", "ca",
     "certificate verify failed: unable to get local issuer certificate"),
    ("expired", "expired", "127.0.0.1", "ca", "certificate verify failed: certificate has expired"),
    ("name not in the certificate", "server_ip", "localhost", "ca",
     "certificate verify failed: hostname mismatch"),
    ("address not in the certificate", "server_dns", "127.0.0.1", "ca",
     "certificate verify failed: IP address mismatch"),
])
@pytest.mark.parametrize("kind", KINDS)
def test_unverified_server_is_refused(server, tls_proxy, tls_certs, kind, case, cert, host, ca,
                                      reason):
    p = tls_proxy(server.ports["tcp"] if kind == "send-tls" else server.port, cert=cert)
    extra = ["--ca", tls_certs[ca]] if ca else []
    r = run_each(kind, host, p.port, tls_certs, *extra)
    assert r.returncode == 1, (r.returncode, r.stderr)
    msg = one_line(r.stderr)
    assert reason in msg and f":{p.port}" in msg, msg
    assert p.accepted == 0
    assert server.logs() == []


@pytest.mark.parametrize("kind", KINDS)
def test_client_certificate_required(server, tls_proxy, tls_certs, kind):
    p = tls_proxy(server.ports["tcp"] if kind == "send-tls" else server.port, client_ca="ca")
    r = run_each(kind, "127.0.0.1", p.port, tls_certs, "--ca", tls_certs["ca"])
    assert r.returncode == 1, (r.returncode, r.stderr)
    msg = one_line(r.stderr)
    assert "the server refused the TLS session (alert: certificate required)" in msg, msg
    assert f":{p.port}" in msg, msg
    assert p.client_subjects == []
    if kind.startswith("send"):
        assert server.logs() == []
    # with the certificate (and its key in the same file when --key is not given)
    both = os.path.join(os.path.dirname(tls_certs["client"]), "client-both.pem")
    with open(both, "w") as f:
        f.write(open(tls_certs["client"]).read() + open(tls_certs["client_key"]).read())
    for cert in (["--cert", tls_certs["client"], "--key", tls_certs["client_key"]],
                 ["--cert", both]):
        args = ["--ca", tls_certs["ca"], *cert]
        if kind == "tail":
            t = Tail("--server", f"wss://127.0.0.1:{p.port}", *args, "--format", "{msg}")
            try:
                assert wait_for(lambda: len(p.client_subjects) >= 2 + (cert[-1] == both) * 2)
                server.post("/api/log", json.dumps({"msg": "to the tail"}), "application/json")
                assert t.take(1) == ["to the tail\n"]
            finally:
                rc, err = t.stop()
            assert rc == 0, err
        else:
            r = run_each(kind, "127.0.0.1", p.port, tls_certs, *args)
            assert r.returncode == 0, r.stderr
    assert set(p.client_subjects) == {"logship test client"}
    if kind.startswith("send"):
        assert [g["msg"] for g in stored(server, 2)] == ["refused?", "refused?"]


def test_plain_server_is_not_taken_for_tls(server, tls_certs):
    """https:// to logshipd's plain HTTP port: a TLS failure, said at once."""
    for args in (["send", "--server", f"https://127.0.0.1:{server.port}", "x"],
                 ["query", "--server", f"https://127.0.0.1:{server.port}"],
                 ["tail", "--server", f"wss://127.0.0.1:{server.port}"]):
        r = logship(*args, "--ca", tls_certs["ca"], timeout=30)
        assert r.returncode == 1, (args, r.stderr)
        msg = one_line(r.stderr)
        assert "TLS handshake" in msg and str(server.port) in msg, msg
    assert server.logs() == []


@pytest.mark.parametrize("opts,needle", [
    (["--ca", "/nonexistent/ca.pem"], "CA file '/nonexistent/ca.pem': No such file or directory"),
    (["--ca", "{client_key}"], "no PEM certificates in it"),
    (["--ca", "{ca}", "--cert", "{client}", "--key", "{server_key}"],
     "key file '{server_key}' does not match certificate file '{client}'"),
    (["--ca", "{ca}", "--cert", "{client}"], "key file '{client}': no PEM private key in it"),
    (["--ca", "{ca}", "--key", "{client_key}"], "--key needs --cert"),
])
@pytest.mark.parametrize("cmd", [["send", "x"], ["query"], ["tail"]])
def test_unusable_tls_files_are_usage_errors(tls_certs, opts, needle, cmd):
    opts = [o.format(**tls_certs) for o in opts]
    scheme = "tls" if cmd[0] == "send" else "https"
    r = logship(cmd[0], "--server", f"{scheme}://127.0.0.1:1", *opts, *cmd[1:])
    assert r.returncode == 2, r.stderr
    assert needle.format(**tls_certs) in r.stderr, r.stderr
