"""logshipd as a process: flags, the config file, and shutdown on signals."""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import LOGSHIPD, ROOT, Server


def run(*args):
    return subprocess.run([LOGSHIPD, *args], capture_output=True, text=True, timeout=30)


def test_help_lists_every_flag():
    r = run("--help")
    assert r.returncode == 0
    for flag in ["--http", "--data", "--config", "--max-body", "--max-connections",
                 "--memory-records", "--log-level", "--help", "--version"]:
        assert flag in r.stdout, flag
    assert "127.0.0.1:8080" in r.stdout and "./data" in r.stdout


def readme_flags():
    """The `--flag PLACEHOLDER` cells of README's logshipd flags table."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    table = text.split("## logshipd flags", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| `(--[a-z-]+ [A-Z:]+)` \|", table, re.M)


def test_help_fits_80_columns_with_groups_signals_exit_codes_examples():
    r = run("--help")
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    too_long = [ln for ln in lines if len(ln) > 80]
    assert not too_long, too_long
    assert "HTTP, syslog (UDP and TCP) and raw TCP" in r.stdout
    heads = [ln for ln in lines if ln and not ln.startswith(" ") and ln.endswith(":")]
    assert [h.split(":")[0] for h in heads] == [
        "Inputs", "Store", "Read side", "HTTP limits and browsers", "TLS", "Security",
        "Output", "Input from RabbitMQ",
        "Logging and configuration", "Signals", "Exit codes", "Examples"]
    # every flag of the README's table, with the same placeholder
    flags = readme_flags()
    assert len(flags) >= 28, flags
    for flag in flags:
        assert any(ln.startswith("  " + flag + " ") or ln == "  " + flag for ln in lines), flag
    sig = r.stdout.split("\nSignals:\n")[1].split("\nExit codes:\n")[0]
    for word in ("TERM, INT", "exit 0 within 5 s", "HUP", "reload", "--log-file", "USR1",
                 "status", "USR2", "ignored"):
        assert word in " ".join(sig.split()), word
    codes = r.stdout.split("\nExit codes:\n")[1].split("\nExamples:\n")[0]
    assert [ln.split()[0] for ln in codes.splitlines() if ln[:3].strip()] == ["0", "1", "2"]
    examples = r.stdout.split("\nExamples:\n")[1]
    assert len([ln for ln in examples.splitlines() if ln.startswith("  logshipd ")]) == 2
    # the examples use real options
    names = {f.split()[0] for f in flags}
    for ln in examples.splitlines():
        for a in ln.split()[1:]:
            assert not a.startswith("-") or a in names, a


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
