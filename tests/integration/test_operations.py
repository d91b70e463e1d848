"""Running logshipd as an operator does: one instance per data directory,
signals (HUP reloads, USR1 reports, USR2 is ignored), a log file that
logrotate can move, and listen addresses given by name."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import LOGSHIPD, Server
from httpraw import Conn, request, wait_for

FORM = "application/x-www-form-urlencoded"


def wait_log(server, text, timeout=10):
    assert wait_for(lambda: text in server.log_text(), timeout), server.log_text()[-3000:]


def test_a_second_instance_on_one_data_dir_is_refused(make_server, tmp_path):
    data = tmp_path / "data"
    first = make_server(data_dir=data)
    assert first.post("/api/log", "log=one", FORM)[0] == 200
    p = subprocess.run([LOGSHIPD, "--data", str(data), "--http", "127.0.0.1:0", "--syslog-udp",
                        "off", "--syslog-tcp", "off", "--tcp", "off"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
    assert p.returncode == 1
    assert f"in use by another logshipd (pid {first.proc.pid})" in p.stdout
    # the first one is untouched and goes on acknowledging and serving
    assert first.post("/api/log", "log=two", FORM)[0] == 200
    assert [r["msg"] for r in first.logs()] == ["one", "two"]


def test_the_lock_goes_with_the_process(make_server, tmp_path):
    data = tmp_path / "data"
    first = make_server(data_dir=data)
    assert first.post("/api/log", "log=before kill", FORM)[0] == 200
    first.kill()  # SIGKILL: no clean-up ran
    second = make_server(data_dir=data)
    assert [r["msg"] for r in second.logs()] == ["before kill"]
    assert open(data / "lock").read().strip() == str(second.proc.pid)


def test_hup_reloads_live_settings_and_keeps_connections(make_server, tmp_path):
    conf = tmp_path / "logshipd.conf"
    conf.write_text("max-body = 8M\nlog-level = info\n")
    server = make_server("--config", str(conf))
    kept = Conn(server.port)
    kept.send(request("POST", "/api/log", b"log=" + b"x" * 2000, {"Content-Type": FORM}))
    assert kept.reply().status == 200
    sse = Conn(server.port)
    sse.send(request("GET", "/api/tail", headers={"Accept": "text/event-stream"}))
    assert sse.reply(head_only=True).status == 200

    conf.write_text("max-body = 1K\nlog-level = info\nsegment-size = 1M\n")
    server.proc.send_signal(signal.SIGHUP)
    wait_log(server, "SIGHUP: configuration reloaded; changed: --max-body")
    assert "need a restart and were not applied: --segment-size" in server.log_text()

    # the kept-alive connection is still served, under the new limit
    kept.send(request("POST", "/api/log", b"log=" + b"y" * 2000, {"Content-Type": FORM}))
    r = kept.reply()
    assert r.status == 413
    kept.send(request("POST", "/api/log", b"log=small", {"Content-Type": FORM}))
    assert kept.reply().status == 200
    # and the live tail still streams
    assert wait_for(lambda: b"small" in sse.read_some(), 5)
    assert server.proc.poll() is None
    assert server.metrics()["logship_config_reloads_total"] == 1


def test_hup_with_a_broken_file_changes_nothing(make_server, tmp_path):
    conf = tmp_path / "logshipd.conf"
    conf.write_text("max-body = 1K\n")
    server = make_server("--config", str(conf))
    conf.write_text("max-body = lots\n")
    server.proc.send_signal(signal.SIGHUP)
    wait_log(server, "SIGHUP: configuration not reloaded")
    assert "logshipd.conf:1: bad value 'lots' for 'max-body'" in server.log_text()
    st, _ = server.request("POST", "/api/log", b"log=" + b"z" * 2000, {"Content-Type": FORM})
    assert st == 413  # the old limit holds
    assert server.proc.poll() is None


def test_usr1_logs_a_status_and_usr2_is_ignored(make_server):
    server = make_server()
    assert server.post("/api/log", "log=one", FORM)[0] == 200
    server.proc.send_signal(signal.SIGUSR1)
    wait_log(server, "status: up ")
    line = [x for x in server.log_lines if "status: up" in x][0]
    assert "records 1..1" in line and "live tail subscribers" in line
    server.proc.send_signal(signal.SIGUSR2)
    wait_log(server, "signal 12 ignored")
    st, _ = server.request("GET", "/healthz")
    assert st == 200


def test_log_file_is_reopened_on_hup(tmp_path):
    log = tmp_path / "logshipd.log"
    p = subprocess.Popen([LOGSHIPD, "--data", str(tmp_path / "data"), "--http", "127.0.0.1:0",
                          "--syslog-udp", "off", "--syslog-tcp", "off", "--tcp", "off",
                          "--log-file", str(log)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: log.exists() and "logshipd ready" in log.read_text(), 15)
        os.rename(log, tmp_path / "logshipd.log.1")  # what logrotate does
        p.send_signal(signal.SIGHUP)
        assert wait_for(lambda: log.exists() and "configuration reloaded" in log.read_text(), 10)
        assert "logshipd ready" in (tmp_path / "logshipd.log.1").read_text()
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
        assert "bye" in log.read_text()
        assert p.stdout.read() == ""  # nothing went to the terminal
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_listen_addresses_by_name(make_server, tmp_path):
    server = make_server("--http", "localhost:0")
    assert "http listening on 127.0.0.1:" in server.log_text()
    st, _ = server.request("GET", "/healthz")
    assert st == 200
    data = tmp_path / "never"
    p = subprocess.run([LOGSHIPD, "--data", str(data), "--http", "no-such-host.invalid:8080"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
    assert p.returncode == 2
    assert "--http no-such-host.invalid:8080: cannot resolve 'no-such-host.invalid'" in p.stdout
    assert not data.exists()  # refused before anything was created
