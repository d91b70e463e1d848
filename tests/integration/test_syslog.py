"""Syslog over UDP and TCP from real senders nobody here wrote: util-linux
logger, Python's SysLogHandler, and rsyslogd forwarding with omfwd."""
import calendar
import logging
import logging.handlers
import os
import socket
import subprocess
import time

import pytest


def wait_for(server, n, timeout=10, **q):
    deadline = time.time() + timeout
    while True:
        got = server.logs(**q)
        if len(got) >= n or time.time() > deadline:
            return got
        time.sleep(0.05)


def logger(server, *args, tcp=False):
    port = server.ports["syslog-tcp" if tcp else "syslog-udp"]
    cmd = ["logger", "-n", "127.0.0.1", "-P", str(port)] + (["--tcp"] if tcp else ["--udp"])
    subprocess.run(cmd + list(args), check=True, timeout=10)


HOST = socket.gethostname()


@pytest.mark.parametrize("tcp", [False, True])
@pytest.mark.parametrize("rfc3164", [False, True])
def test_logger(server, tcp, rfc3164):
    extra = ["--rfc3164"] if rfc3164 else []
    logger(server, *extra, "-t", "myapp", "-p", "auth.crit", "disk on fire", tcp=tcp)
    logger(server, *extra, "-t", "cron", "-i", "-p", "cron.info", "job done", tcp=tcp)
    logger(server, *extra, "-t", "kern", "-p", "local3.warning", "temp high \u00e9", tcp=tcp)
    got = wait_for(server, 3)
    assert [(g["topic"], g["level"], g["app"], g["msg"]) for g in got] == [
        ("auth.crit", "crit", "myapp", "disk on fire"),
        ("cron.info", "info", "cron", "job done"),
        ("local3.warning", "warning", "kern", "temp high \u00e9"),
    ]
    assert all(g["host"] == HOST for g in got)
    # -i puts logger's pid in PROCID / TAG[pid]
    assert got[1]["pid"].isdigit()
    # the sender's clock, not the receive time, within a few seconds
    now = time.time()
    for g in got:
        ts = time.mktime(time.strptime(g["ts"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        assert abs(ts - now) < 5
    if not rfc3164:
        assert got[0]["fields"]["timeQuality.tzKnown"] == "1"


def test_logger_octet_count(server):
    logger(server, "--octet-count", "-t", "oc", "-p", "daemon.notice", "first", tcp=True)
    logger(server, "--octet-count", "--rfc3164", "-t", "oc", "second", tcp=True)
    got = wait_for(server, 2)
    assert [(g["topic"], g["app"], g["msg"]) for g in got] == [
        ("daemon.notice", "oc", "first"), ("user.notice", "oc", "second")]


def test_logger_many_lines_over_one_tcp_connection(server, tmp_path):
    lines = tmp_path / "lines"
    lines.write_text("".join(f"line {i}\n" for i in range(2000)))
    port = server.ports["syslog-tcp"]
    subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(port), "--tcp", "-t", "bulk",
                    "-f", str(lines)], check=True, timeout=30)
    got = wait_for(server, 2000, limit=5000)
    assert [g["msg"] for g in got] == [f"line {i}" for i in range(2000)]


@pytest.mark.parametrize("socktype", [socket.SOCK_DGRAM, socket.SOCK_STREAM])
def test_python_sysloghandler(server, socktype):
    port = server.ports["syslog-udp" if socktype == socket.SOCK_DGRAM else "syslog-tcp"]
    log = logging.getLogger(f"pysys{socktype}")
    log.handlers.clear()
    log.propagate = False
    log.setLevel(logging.DEBUG)
    h = logging.handlers.SysLogHandler(address=("127.0.0.1", port), socktype=socktype,
                                       facility=logging.handlers.SysLogHandler.LOG_LOCAL1)
    h.setFormatter(logging.Formatter("webapp[%(process)d]: %(message)s"))
    log.addHandler(h)
    log.error("payment failed for %s", "order-7")
    log.info("plain info")
    log.debug("dbg")
    h.close()
    got = wait_for(server, 3)
    assert [(g["topic"], g["level"], g["app"], g["pid"], g["msg"]) for g in got] == [
        ("local1.error", "error", "webapp", str(os.getpid()), "payment failed for order-7"),
        ("local1.info", "info", "webapp", str(os.getpid()), "plain info"),
        ("local1.debug", "debug", "webapp", str(os.getpid()), "dbg"),
    ]
    # the bare <PRI>text form has no hostname: the sender's address stands in
    assert all(g["host"] == "127.0.0.1" for g in got)


def test_unparseable_line_is_kept(server):
    port = server.ports["syslog-tcp"]
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"<13>1 2026-11-21T10:00:00Z h a - - - good one\n"
                  b"no priority at all\n"
                  b"<999>bad pri\n"
                  b"<13>1 2026-11-21T10:00:01Z h a - - - good two\n")
    got = wait_for(server, 4)
    assert [g["msg"] for g in got] == ["good one", "no priority at all", "<999>bad pri",
                                       "good two"]
    assert got[1]["level"] == "notice" and "parse_error" in got[1]["fields"]
    assert "parse_error" in got[2]["fields"]
    m = server.metrics()
    assert m['logship_parse_errors_total{input="syslog_tcp"}'] == 2
    assert m['logship_records_accepted_total{input="syslog_tcp"}'] == 4


def test_long_message_truncated_and_marked(make_server):
    s = make_server("--max-line", "1K")
    port = s.ports["syslog-tcp"]
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(b"<14>app: " + b"x" * 5000 + b"\n<14>app: after\n")
    got = wait_for(s, 2)
    assert got[0]["truncated"] is True and len(got[0]["msg"]) < 1024
    assert got[1]["msg"] == "after"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(b"<14>app: " + b"y" * 3000, ("127.0.0.1", s.ports["syslog-udp"]))
    got = wait_for(s, 3)
    assert got[2]["truncated"] is True
    assert s.metrics()['logship_records_truncated_total{input="syslog_tcp"}'] == 1


def test_rsyslog_forwards_with_omfwd(server, tmp_path):
    """rsyslogd, started with a private config and work directory, takes
    messages on a loopback UDP port and forwards them with omfwd over TCP
    (octet-counted RFC 5424) to logshipd."""
    work = tmp_path / "rsyslog"
    work.mkdir()
    in_port = free_udp_port()
    conf = work / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{work}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{in_port}")
action(type="omfwd" target="127.0.0.1" port="{server.ports['syslog-tcp']}" protocol="tcp"
       template="RSYSLOG_SyslogProtocol23Format" TCP_Framing="octet-counted")
""")
    proc = subprocess.Popen(["rsyslogd", "-n", "-f", str(conf), "-i", str(work / "pid")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(1)
        for i in range(3):
            subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(in_port), "--udp",
                            "-t", "viarsyslog", "-p", "mail.err", f"relayed {i}"], check=True)
        got = wait_for(server, 3, timeout=15)
    finally:
        proc.terminate()
        proc.wait(10)
    assert [(g["topic"], g["app"], g["msg"]) for g in got] == [
        ("mail.error", "viarsyslog", f"relayed {i}") for i in range(3)]
    assert all(g["host"] == HOST for g in got)


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_loggen_header_is_parsed(server):
    """syslog-ng's loggen: '<38>2026-01-01T00:00:00 localhost prg00000[1234]: ...', an
    RFC 3339 time without a zone, taken in local time (the server's, which is the
    test's); a line whose time does not parse around it is kept as bare text."""
    port = server.ports["syslog-tcp"]
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"<38>2026-07-04T12:30:15 localhost prg00000[1234]: seq: 0000000000, "
                  b"thread: 0000, runid: 1796315256, stamp: 2026-07-04T12:30:15 \n"
                  b"<38>2026-02-30T12:30:15 localhost prg00000[1234]: no such day\n"
                  b"<38>2026-01-01T00:00:00.5 loadgen-2 prg00001[99]: seq: 0000000001\n")
    got = wait_for(server, 3)
    assert [(g["topic"], g["host"], g["app"], g.get("pid")) for g in got] == [
        ("auth.info", "localhost", "prg00000", "1234"),
        ("auth.info", "127.0.0.1", "default", None),
        ("auth.info", "loadgen-2", "prg00001", "99"),
    ]
    assert got[0]["msg"] == ("seq: 0000000000, thread: 0000, runid: 1796315256, "
                             "stamp: 2026-07-04T12:30:15 ")
    assert got[1]["msg"] == "2026-02-30T12:30:15 localhost prg00000[1234]: no such day"
    assert got[2]["msg"] == "seq: 0000000001"

    def utc(rec):
        return calendar.timegm(time.strptime(rec["ts"][:19], "%Y-%m-%dT%H:%M:%S"))

    assert utc(got[0]) == time.mktime((2026, 7, 4, 12, 30, 15, 0, 0, -1))
    assert utc(got[2]) == time.mktime((2026, 1, 1, 0, 0, 0, 0, 0, -1))
    assert got[2]["ts"][19:22] == ".50"
    assert abs(utc(got[1]) - time.time()) < 30  # the receive time
