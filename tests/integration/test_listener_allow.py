"""The other shippers' stream and datagram listeners (--gelf-udp, --gelf-tcp,
--forward) under the secure default and the allow lists, as syslog's and
raw TCP's: one that is not on loopback needs --allow (or its own
--gelf-allow / --forward-allow) or --insecure; connections and datagrams
from outside the lists are refused before a byte is parsed and counted;
those inside are stored."""
import json
import re
import socket
import subprocess
import time

import pytest

from conftest import LOGSHIPD

msgpack = pytest.importorskip("msgpack")

DENIED = 'logship_connections_denied_total{input="%s"}'


def run_logshipd(tmp_path, *args, timeout=15):
    """Starts logshipd expecting it to refuse: (exit code, output)."""
    cmd = [LOGSHIPD, "--data", str(tmp_path / "d"), "--http", "127.0.0.1:0",
           "--syslog-udp", "off", "--syslog-tcp", "off", "--tcp", "off", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


@pytest.mark.parametrize("flag,own", [("--gelf-udp", "--gelf-allow"),
                                      ("--gelf-tcp", "--gelf-allow"),
                                      ("--forward", "--forward-allow")])
def test_non_loopback_listener_needs_an_allow_list(tmp_path, make_server, flag, own):
    rc, out = run_logshipd(tmp_path, flag, "0.0.0.0:0")
    assert rc == 2, out
    assert f"{flag} 0.0.0.0:0 is not a loopback address" in out, out
    assert "--allow" in out and own in out and "--insecure" in out, out
    # an allow list, its own or --allow, lets it start; so does --insecure
    for extra in ([own, "192.0.2.0/24"], ["--allow", "10.0.0.0/8"], ["--insecure"]):
        s = make_server(flag, "0.0.0.0:0", *extra)
        name = flag[2:]
        assert s.ports.get(name), s.log_text()
        assert s.stop() == 0


def metric(server, name):
    m = re.search("^" + re.escape(name) + r" (\d+)$",
                  server.request("GET", "/metrics")[1].decode(), re.M)
    assert m, f"{name} not in /metrics"
    return int(m.group(1))


def gelf(msg):
    return json.dumps({"version": "1.1", "host": "h", "short_message": msg}).encode()


def forward(msg, tag="fwd.allow"):
    # a Message mode entry: [tag, time, record]
    return msgpack.packb([tag, int(time.time()), {"message": msg}])


def send_all(s, tag):
    """One GELF datagram, one GELF TCP message and one forward message,
    each containing tag."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.sendto(gelf(f"{tag} gelf udp"), ("127.0.0.1", s.ports["gelf-udp"]))
    for port, data in ((s.ports["gelf-tcp"], gelf(f"{tag} gelf tcp") + b"\0"),
                       (s.ports["forward"], forward(f"{tag} forward"))):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            try:
                c.sendall(data)
                c.shutdown(socket.SHUT_WR)
                c.settimeout(5)
                c.recv(100)  # closed at once when refused, after the data when not
            except OSError:  # reset, or not connected any more: refused
                pass


def wait(cond, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline and not cond():
        time.sleep(0.05)
    return cond()


LISTENERS = ["--gelf-udp", "127.0.0.1:0", "--gelf-tcp", "127.0.0.1:0", "--forward", "127.0.0.1:0"]


def test_outside_the_lists_refused_and_counted(make_server):
    # loopback is in none of them
    s = make_server(*LISTENERS, "--gelf-allow", "10.0.0.0/8", "--forward-allow", "192.0.2.0/24")
    send_all(s, "denied")
    names = ("gelf_udp", "gelf_tcp", "forward")
    assert wait(lambda: all(metric(s, DENIED % n) >= 1 for n in names))
    assert [metric(s, DENIED % n) for n in names] == [1, 1, 1]
    assert not s.logs(q="denied")
    # --allow alone covers every listener
    s2 = make_server(*LISTENERS, "--allow", "192.0.2.0/24")
    send_all(s2, "denied2")
    assert wait(lambda: all(metric(s2, DENIED % n) >= 1 for n in names))
    assert not s2.logs(q="denied2")


def test_inside_the_lists_stored(make_server):
    want = ["ok forward", "ok gelf tcp", "ok gelf udp"]
    # each listener's own list, or --allow: either lets loopback in
    for args in (["--gelf-allow", "127.0.0.0/8", "--forward-allow", "127.0.0.1"],
                 ["--allow", "127.0.0.1/32"]):
        s = make_server(*LISTENERS, *args)
        send_all(s, "ok")
        assert wait(lambda: len(s.logs(q="ok")) >= 3)
        assert sorted(r["msg"] for r in s.logs(q="ok")) == want
        assert [metric(s, DENIED % n) for n in ("gelf_udp", "gelf_tcp", "forward")] == [0, 0, 0]


def test_own_lists_are_the_listeners_own(make_server):
    """--gelf-allow lets loopback into GELF only; forward stays refused."""
    s = make_server(*LISTENERS, "--gelf-allow", "127.0.0.0/8", "--forward-allow", "10.0.0.0/8")
    send_all(s, "mixed")
    assert wait(lambda: len(s.logs(q="mixed")) >= 2 and metric(s, DENIED % "forward") >= 1)
    assert sorted(r["msg"] for r in s.logs(q="mixed")) == ["mixed gelf tcp", "mixed gelf udp"]
    assert metric(s, DENIED % "forward") == 1
