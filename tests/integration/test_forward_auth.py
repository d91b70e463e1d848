"""The forward protocol's shared-key handshake (--forward-auth, Fluentd
forward protocol v1 HELO/PING/PONG): @fluent-org/logger (npm) with
security.sharedKey, and with username/password, as the real client, over
plain TCP and over --forward-tls; a wrong key, a wrong password or no
user refused with the PONG's reason and nothing of the client stored; a
client that skips the handshake gets the HELO and is closed without a
byte of its message parsed; a PING with the first message in the same
write; a bad --forward-auth file refused at start."""
import hashlib
import json
import os
import socket
import subprocess

import pytest

from conftest import LOGSHIPD, ROOT
from test_store import all_records
from test_tls import certs, tls_args  # noqa: F401

msgpack = pytest.importorskip("msgpack")

NODE_DIR = os.path.join(ROOT, "tests", "integration", "node")
KEY = "a-shared-key-for-tests"


def auth_file(tmp_path, text):
    p = tmp_path / "forward-auth"
    p.write_text(text)
    p.chmod(0o600)
    return str(p)


def node(port, count, key, user=None, password=None, ca=None):
    args = ["node", os.path.join(NODE_DIR, "fluent_auth_client.js"), str(port), str(count), key]
    if user:
        args += [user, password]
    if ca:
        args += ["--ca", ca]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=NODE_DIR)
    assert p.stdout.strip(), p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def refused(s):
    r = s.request("GET", "/metrics")[1].decode()
    return int(next(x for x in r.splitlines()
                    if x.startswith("logship_forward_auth_refused_total ")).split()[1])


@pytest.fixture
def keyed(make_server, tmp_path):
    return make_server("--forward", "127.0.0.1:0", "--forward-auth",
                       auth_file(tmp_path, f"# the forward clients' key\nshared_key {KEY}\n"))


def test_node_client_with_the_shared_key(keyed):
    out = node(keyed.ports["forward"], 3, KEY)
    assert out == {"acked": 3, "errors": []}
    got = all_records(keyed)
    assert sorted(g["msg"] for g in got) == ["secure 0", "secure 1", "secure 2"]
    assert all(g["topic"] == "secure.events" for g in got)
    assert refused(keyed) == 0


def test_wrong_key_refused(keyed):
    out = node(keyed.ports["forward"], 2, "not-the-key")
    assert out["acked"] == 0
    assert any("shared_key mismatch" in e for e in out["errors"]), out
    assert all_records(keyed) == []
    assert refused(keyed) == 1
    assert "handshake refused: shared_key mismatch" in keyed.log_text()
    assert KEY not in keyed.log_text()


def test_users(make_server, tmp_path):
    s = make_server("--forward", "127.0.0.1:0", "--forward-auth",
                    auth_file(tmp_path, f"shared_key {KEY}\nuser alice pw-of-alice\n"
                                        "user bob pw-of-bob\n"))
    assert node(s.ports["forward"], 2, KEY, "bob", "pw-of-bob") == {"acked": 2, "errors": []}
    for user, pw in (("bob", "pw-of-alice"), ("carol", "pw-of-bob")):
        out = node(s.ports["forward"], 1, KEY, user, pw)
        assert out["acked"] == 0
        assert any("username/password mismatch" in e for e in out["errors"]), out
    out = node(s.ports["forward"], 1, KEY)  # no user at all
    assert out["acked"] == 0 and any("username/password" in e for e in out["errors"]), out
    assert sorted(g["msg"] for g in all_records(s)) == ["secure 0", "secure 1"]
    assert refused(s) == 3
    assert "pw-of" not in s.log_text()


def read_msgpack(sock, n=1):
    """The first n MessagePack values the server sends."""
    u = msgpack.Unpacker(raw=False)
    out = []
    while len(out) < n:
        data = sock.recv(4096)
        if not data:
            break
        u.feed(data)
        out += list(u)
    return out


def sha(*parts):
    return hashlib.sha512(b"".join(p.encode() if isinstance(p, str) else p
                                   for p in parts)).hexdigest()


def test_raw_handshake(keyed):
    port = keyed.ports["forward"]
    # no PING: the message is not a PING, the client is closed, nothing stored
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        [helo] = read_msgpack(c)
        assert helo[0] == "HELO" and helo[1]["keepalive"] is True
        assert len(helo[1]["nonce"]) == 32 and helo[1]["auth"] == ""
        c.sendall(msgpack.packb(["raw.tag", 1, {"message": "without a handshake"},
                                 {"chunk": "c1"}]))
        c.settimeout(10)
        rest = b""
        while True:
            data = c.recv(4096)
            if not data:
                break
            rest += data
        assert rest == b""  # no ack, no PONG: closed
    # PING and the first message in one write: the message is stored and acked
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        [helo] = read_msgpack(c)
        nonce = helo[1]["nonce"]
        ping = ["PING", "raw.example", "rawsalt", sha("rawsalt", "raw.example", nonce, KEY),
                "", ""]
        c.sendall(msgpack.packb(ping) +
                  msgpack.packb(["raw.tag", 1, {"message": "after the ping"}, {"chunk": "c2"}]))
        pong, ack = read_msgpack(c, 2)
        assert pong[:3] == ["PONG", True, ""]
        assert pong[4] == sha("rawsalt", pong[3], nonce, KEY)  # the server knows the key too
        assert ack == {"ack": "c2"}
    # a digest of another nonce (a replayed PING) is refused
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        read_msgpack(c)
        c.sendall(msgpack.packb(ping))
        [pong] = read_msgpack(c)
        assert pong[:3] == ["PONG", False, "shared_key mismatch"] and pong[4] == ""
    assert [g["msg"] for g in all_records(keyed)] == ["after the ping"]
    assert refused(keyed) == 2


def test_over_tls(make_server, tmp_path, certs):  # noqa: F811
    s = make_server(*tls_args(certs, inputs=False), "--forward-tls", "127.0.0.1:0",
                    "--forward-auth", auth_file(tmp_path, f"shared_key {KEY}\n"))
    assert node(s.ports["forward-tls"], 3, KEY, ca=certs.ca_pem) == {"acked": 3, "errors": []}
    out = node(s.ports["forward-tls"], 1, "wrong-key-here", ca=certs.ca_pem)
    assert out["acked"] == 0 and any("shared_key mismatch" in e for e in out["errors"]), out
    import requests
    r = requests.get(f"https://127.0.0.1:{s.port}/api/logs?q=secure", verify=certs.ca_pem,
                     timeout=10)
    assert sorted(g["msg"] for g in r.json()) == ["secure 0", "secure 1", "secure 2"]


@pytest.mark.parametrize("text,why", [
    ("user a b\n", "no shared_key line"),
    (f"shared_key {KEY}\nshared_key {KEY}x\n", "line 2: a second shared_key"),
    (f"shared_key {KEY}\nuser solo\n", "line 2: use user NAME PASSWORD"),
    (f"sharedkey {KEY}\n", "line 1: unknown setting"),
])
def test_bad_file_refused_at_start(tmp_path, text, why):
    p = subprocess.run([LOGSHIPD, "--data", str(tmp_path / "d"), "--http", "127.0.0.1:0",
                        "--syslog-udp", "off", "--syslog-tcp", "off", "--tcp", "off",
                        "--forward", "127.0.0.1:0", "--forward-auth",
                        auth_file(tmp_path, text)], capture_output=True, text=True, timeout=15)
    out = p.stdout + p.stderr
    assert p.returncode != 0 and why in out, out
    assert KEY not in out
