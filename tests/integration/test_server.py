"""logshipd as a process: flags, the config file, and shutdown on signals."""
import json
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import LOGSHIPD, Server


def run(*args):
    return subprocess.run([LOGSHIPD, *args], capture_output=True, text=True, timeout=30)


def test_help_lists_every_flag():
    r = run("--help")
    assert r.returncode == 0
    for flag in ["--http", "--data", "--config", "--max-body", "--max-connections",
                 "--memory-records", "--log-level", "--help", "--version"]:
        assert flag in r.stdout, flag
    assert "127.0.0.1:8080" in r.stdout and "./data" in r.stdout


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("logshipd ")


@pytest.mark.parametrize("args,needle", [
    (["--bogus", "1"], "unknown option '--bogus'"),
    (["--max-body", "lots"], "bad value 'lots' for --max-body"),
    (["--http", "localhost"], "bad value 'localhost' for --http"),
    (["--http"], "needs a value"),
    (["stray"], "unexpected argument 'stray'"),
])
def test_bad_flags_are_clear_errors(args, needle):
    r = run(*args)
    assert r.returncode == 2
    assert needle in r.stderr


def test_config_file_errors_name_the_line(tmp_path):
    cfg = tmp_path / "logshipd.conf"
    cfg.write_text("# comment\nhttp = 127.0.0.1:0\n\nmax-bdy = 1K\n")
    r = run("--config", str(cfg))
    assert r.returncode == 2
    assert f"{cfg}:4: unknown key 'max-bdy'" in r.stderr
    cfg.write_text("max-body = 1K\nmemory-records = -5\n")
    r = run("--config", str(cfg))
    assert r.returncode == 2
    assert f"{cfg}:2: bad value '-5' for 'memory-records'" in r.stderr
    cfg.write_text("just words\n")
    r = run("--config", str(cfg))
    assert r.returncode == 2 and f"{cfg}:1: expected 'key = value'" in r.stderr
    r = run("--config", str(tmp_path / "missing.conf"))
    assert r.returncode == 2 and "cannot read config" in r.stderr


def test_config_file_applies_and_flags_override(make_server, tmp_path):
    cfg = tmp_path / "logshipd.conf"
    cfg.write_text("max-body = 100\nlog-level = warning\n")
    s = make_server("--config", str(cfg))
    st, body = s.post("/api/log", "x" * 200, "text/plain")
    assert st == 413
    s2 = make_server("--config", str(cfg), "--max-body", "1K")
    st, body = s2.post("/api/log", "x" * 200, "text/plain")
    assert st == 200


def test_sigterm_answers_in_flight_request(make_server):
    """A request whose body is still arriving when SIGTERM comes is answered."""
    s = make_server()
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.settimeout(5)
    sock.sendall(b"POST /api/log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 11\r\n\r\nhello")
    time.sleep(0.2)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # no new connections once draining
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
    sock.sendall(b" world")
    reply = sock.recv(4096)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"accepted":1' in reply
    assert s.proc.wait(5) == 0
    s.proc = None


def test_sigterm_during_load_exits_cleanly(make_server):
    s = make_server()
    stop = threading.Event()
    results = {"ok": 0, "refused": 0, "bad": []}
    lock = threading.Lock()
    batch = "".join(json.dumps({"msg": f"m{i}", "app": "load"}) + "\n" for i in range(200))

    def client():
        with requests.Session() as sess:
            while not stop.is_set():
                try:
                    r = sess.post(s.url + "/api/log", data=batch,
                                  headers={"Content-Type": "application/x-ndjson"}, timeout=10)
                except requests.RequestException:
                    with lock:
                        results["refused"] += 1
                    time.sleep(0.01)
                    continue
                with lock:
                    if r.status_code == 200 and r.json()["accepted"] == 200:
                        results["ok"] += 1
                    else:
                        results["bad"].append((r.status_code, r.text[:200]))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    t0 = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    rc = s.proc.wait(10)
    elapsed = time.monotonic() - t0
    stop.set()
    for t in threads:
        t.join()
    s.proc = None
    assert rc == 0, s.log_text()
    assert elapsed < 5
    assert results["ok"] > 0
    # every reply was complete and correct; failures are refused connections
    assert results["bad"] == []
