"""logshipd as a service: --version, --check-config (flags, the config file,
the packaged example config) and the systemd readiness notifications
(READY=1, RELOADING=1, STOPPING=1 on $NOTIFY_SOCKET), against the real
binary."""
import os
import re
import signal
import socket
import subprocess
import time

from conftest import LOGSHIPD, ROOT, Server

EXAMPLE_CONF = os.path.join(ROOT, "packaging", "logshipd.conf")


def run(*args, **kw):
    return subprocess.run([LOGSHIPD, *args], capture_output=True, text=True, timeout=30, **kw)


def test_version_names_the_libraries():
    r = run("--version")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"logshipd \d+\.\d+\.\d+", lines[0])
    names = [ln.split(" ")[0] for ln in lines[1:]]
    assert names == ["libuv", "libwebsockets", "yajl", "xxhash", "http-parser"]
    for ln in lines[1:]:
        assert re.fullmatch(r"\S+ \d+\.\d+\.\d+\S*", ln), ln


def test_check_config_good(tmp_path):
    conf = tmp_path / "l.conf"
    conf.write_text("# a comment\nhttp = 127.0.0.1:0\nretain-age = 7d\n"
                    f"tail-root = {tmp_path}\n")
    data = tmp_path / "never"
    r = run("--config", str(conf), "--check-config", "--data", str(data), "--fsync", "always")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"logshipd: configuration OK ({conf} and the flags)\n"
    assert not data.exists()  # nothing is created
    r = run("--check-config")
    assert r.returncode == 0 and "no --config file" in r.stdout


def test_check_config_bad(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("http = 127.0.0.1:0\nretain-age = soon\n")
    r = run("--check-config", "--config", str(conf))
    assert r.returncode == 2
    assert str(conf) in r.stderr and ":2" in r.stderr and "retain-age" in r.stderr
    assert "configuration OK" not in r.stdout
    r = run("--check-config", "--no-such-flag", "1")
    assert r.returncode == 2 and "unknown option '--no-such-flag'" in r.stderr
    r = run("--check-config", "--http", "no-such-host.invalid:80")
    assert r.returncode == 2 and "cannot resolve" in r.stderr
    r = run("--check-config", "--tail-root", str(tmp_path / "missing"))
    assert r.returncode == 2 and "missing" in r.stderr
    conf.unlink()
    r = run("--check-config", "--config", str(conf))
    assert r.returncode == 2 and str(conf) in r.stderr


def test_example_config_and_each_commented_setting(tmp_path):
    """The packaged example is valid, and so is every commented-out setting
    in it once its '#' is removed."""
    r = run("--check-config", "--config", EXAMPLE_CONF)
    assert r.returncode == 0, r.stderr
    text = open(EXAMPLE_CONF).read()
    settings = re.findall(r"^#([a-z][a-z0-9-]* = \S+)$", text, re.M)
    assert len(settings) >= 10, settings
    conf = tmp_path / "all.conf"
    # a tail-root that exists here
    body = "\n".join(s.replace("/var/log", str(tmp_path)) for s in settings)
    conf.write_text(text + "\n" + body + "\n")
    r = run("--check-config", "--config", str(conf))
    assert r.returncode == 0, r.stderr + body


def listen_notify(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(20)
    return s


def recv_states(sock):
    return dict(kv.split("=", 1) for kv in sock.recv(4096).decode().split("\n"))


def notify_cycle(tmp_path, monkeypatch, addr, bind):
    sock = listen_notify(bind)
    monkeypatch.setenv("NOTIFY_SOCKET", addr)
    s = Server(tmp_path / "data").start()
    try:
        st = recv_states(sock)
        assert st.get("READY") == "1", st
        s.proc.send_signal(signal.SIGHUP)
        st = recv_states(sock)
        assert st.get("RELOADING") == "1" and int(st["MONOTONIC_USEC"]) > 0, st
        assert recv_states(sock) == {"READY": "1"}
        assert s.stop() == 0
        assert recv_states(sock) == {"STOPPING": "1"}
    finally:
        if s.proc is not None:
            s.stop()
        sock.close()


def test_notify_socket_path(tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    notify_cycle(tmp_path, monkeypatch, path, path)


def test_notify_abstract_socket(tmp_path, monkeypatch):
    name = f"logship-test-{os.getpid()}"
    notify_cycle(tmp_path, monkeypatch, "@" + name, "\0" + name)


def test_no_notify_socket_is_fine(tmp_path, monkeypatch, make_server):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    s = make_server(data_dir=tmp_path / "data")
    assert s.stop() == 0
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    s = make_server(data_dir=tmp_path / "data")  # a failed notification is logged, not fatal
    for _ in range(200):  # it comes just after the "ready" line the start waits for
        if "cannot notify the service manager" in s.log_text():
            break
        time.sleep(0.05)
    assert "cannot notify the service manager" in s.log_text()
    assert s.proc.poll() is None
