"""GELF TCP and Fluentd forward over TLS (--gelf-tls, --forward-tls), on the
stream layer's TLS as --tcp-tls: graypy's GELFTLSHandler (Debian's
python3-graypy) verifying the server against the test CA; forward
messages with an ack requested, over Python's ssl, acked once stored;
plaintext to either port closed without a record and counted as a failed
handshake of its listener kind; client certificates asked with
--tls-client-ca; and the secure default (off loopback: an allow list or
client certificates)."""
import json
import logging
import os
import socket
import ssl
import subprocess
import time
import uuid

import pytest

from conftest import LOGSHIPD
from test_tls import certs, client_ctx, read_all, tls_args  # noqa: F401

graypy = pytest.importorskip("graypy")
msgpack = pytest.importorskip("msgpack")


def url(s, path):
    return f"https://127.0.0.1:{s.port}{path}"


def get(s, certs, path, cert=None):  # noqa: F811
    import requests
    mine = (certs.path(cert + ".pem"), certs.path(cert + ".key")) if cert else None
    return requests.get(url(s, path), verify=certs.ca_pem, cert=mine, timeout=10)


def wait_msgs(s, certs, q, n, cert=None, timeout=15):  # noqa: F811
    deadline = time.time() + timeout
    while True:
        got = [g["msg"] for g in get(s, certs, f"/api/logs?q={q}&limit=1000", cert).json()]
        if len(got) >= n or time.time() > deadline:
            return sorted(got)
        time.sleep(0.05)


def metric(s, certs, name, cert=None):  # noqa: F811
    for line in get(s, certs, "/metrics", cert).text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


@pytest.fixture
def tls_shippers(make_server, certs):  # noqa: F811
    return make_server(*tls_args(certs, inputs=False), "--gelf-tls", "127.0.0.1:0",
                       "--forward-tls", "127.0.0.1:0")


def forward_acked(port, ctx, msgs, tag="tls.fwd"):
    """Sends each msg as a Message-mode entry asking for an ack; returns
    the acks' chunk ids, in order, as the server answered them."""
    acks = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as t:
            unpacker = msgpack.Unpacker(raw=False)
            chunks = []
            for m in msgs:
                chunk = uuid.uuid4().hex
                chunks.append(chunk)
                t.sendall(msgpack.packb([tag, int(time.time()), {"message": m},
                                         {"chunk": chunk}]))
            while len(acks) < len(chunks):
                data = t.recv(4096)
                if not data:
                    break
                unpacker.feed(data)
                for o in unpacker:
                    acks.append(o.get("ack"))
            return chunks, acks


def test_graypy_tls_and_forward_tls(tls_shippers, certs):  # noqa: F811
    s = tls_shippers
    logger = logging.getLogger("app.gelftls")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    h = graypy.GELFTLSHandler("127.0.0.1", s.ports["gelf-tls"], validate=True,
                              ca_certs=certs.ca_pem)
    logger.addHandler(h)
    for i in range(3):
        logger.warning("gelftls %d", i)
    # (closing at once loses nothing either: see the test below)
    assert wait_msgs(s, certs, "gelftls", 3) == [f"gelftls {i}" for i in range(3)]
    logger.removeHandler(h)
    h.close()
    got = get(s, certs, "/api/logs?q=gelftls&limit=1").json()[0]
    assert got["level"] == "warning" and got["app"] == "app.gelftls"
    # forward: every entry acked, once stored (the ack comes after the append)
    chunks, acks = forward_acked(s.ports["forward-tls"], client_ctx(certs),
                                 [f"fwdtls {i}" for i in range(5)])
    assert acks == chunks
    got = get(s, certs, "/api/logs?q=fwdtls&limit=100").json()
    assert sorted(g["msg"] for g in got) == [f"fwdtls {i}" for i in range(5)]
    assert all(g["topic"] == "tls.fwd" for g in got)
    m = {k: metric(s, certs, f'logship_tls_handshakes_total{{listener="{k}"}}')
         for k in ("gelf", "forward")}
    assert m == {"gelf": 1, "forward": 1}


def test_plaintext_to_the_tls_ports_is_closed(tls_shippers, certs):  # noqa: F811
    s = tls_shippers
    plain = {"gelf-tls": json.dumps({"version": "1.1", "host": "h",
                                     "short_message": "plaintext"}).encode() + b"\0",
             "forward-tls": msgpack.packb(["x.y", 1, {"message": "plaintext"}])}
    for name, data in plain.items():
        with socket.create_connection(("127.0.0.1", s.ports[name]), timeout=10) as c:
            c.sendall(data)
            assert read_all(c) == b""
    for kind in ("gelf", "forward"):
        assert metric(s, certs, f'logship_tls_handshake_failures_total{{listener="{kind}"}}') == 1
    assert get(s, certs, "/api/logs?q=plaintext").json() == []
    # the listeners go on
    chunks, acks = forward_acked(s.ports["forward-tls"], client_ctx(certs), ["after plain"])
    assert acks == chunks


def test_client_certificates_on_the_shippers_tls(make_server, certs):  # noqa: F811
    s = make_server(*tls_args(certs, client_ca=True, inputs=False), "--gelf-tls", "127.0.0.1:0",
                    "--forward-tls", "127.0.0.1:0")
    chunks, acks = forward_acked(s.ports["forward-tls"], client_ctx(certs, cert="client"),
                                 ["with a cert"])
    assert acks == chunks
    # without one: refused (TLS 1.3 says so after the handshake), nothing stored
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        forward_acked(s.ports["forward-tls"], client_ctx(certs), ["no cert"])
    with socket.create_connection(("127.0.0.1", s.ports["gelf-tls"]), timeout=10) as raw:
        with client_ctx(certs, cert="client").wrap_socket(raw, server_hostname="127.0.0.1") as t:
            t.sendall(json.dumps({"version": "1.1", "host": "h",
                                  "short_message": "gelf with a cert"}).encode() + b"\0")
    got = wait_msgs(s, certs, "cert", 2, cert="client")
    assert got == ["gelf with a cert", "with a cert"]


def run_logshipd(tmp_path, *args, timeout=15):
    cmd = [LOGSHIPD, "--data", str(tmp_path / "d"), "--http", "127.0.0.1:0",
           "--syslog-udp", "off", "--syslog-tcp", "off", "--tcp", "off", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


@pytest.mark.parametrize("flag,own", [("--gelf-tls", "--gelf-allow"),
                                      ("--forward-tls", "--forward-allow")])
def test_tls_listener_secure_default(tmp_path, make_server, certs, flag, own):  # noqa: F811
    rc, out = run_logshipd(tmp_path, flag, "127.0.0.1:0")
    assert rc == 2 and f"{flag} needs both --tls-cert FILE and --tls-key FILE" in out, out
    tls = tls_args(certs, inputs=False)
    rc, out = run_logshipd(tmp_path, *tls, flag, "0.0.0.0:0")
    assert rc == 2, out
    assert flag in out and own in out and "--tls-client-ca" in out and "--insecure" in out, out
    # client certificates guard it; so does an allow list
    for extra in (["--tls-client-ca", certs.ca_pem], [own, "10.0.0.0/8"]):
        s = make_server(*tls, flag, "0.0.0.0:0", *extra)
        assert s.ports.get(flag[2:]), s.log_text()
        assert s.stop() == 0


def test_sender_closing_without_reading_loses_nothing(tls_shippers, certs):  # noqa: F811
    """graypy writes and closes without ever reading the socket. Had the
    server sent TLS 1.3 session tickets, they would sit unread in the
    sender's kernel, which then answers the close with a reset instead of a
    FIN; the stream listeners send none, so every record sent before the
    close is stored, whatever the timing."""
    s = tls_shippers
    for round_ in range(5):
        logger = logging.getLogger(f"app.gelfclose{round_}")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        h = graypy.GELFTLSHandler("127.0.0.1", s.ports["gelf-tls"], validate=True,
                                  ca_certs=certs.ca_pem)
        logger.addHandler(h)
        for i in range(200):
            logger.warning("gelfclose%d %d", round_, i)
        logger.removeHandler(h)
        h.close()  # at once: nothing read, nothing waited for
    for round_ in range(5):
        got = wait_msgs(s, certs, f"gelfclose{round_}", 200)
        assert got == sorted(f"gelfclose{round_} {i}" for i in range(200)), (round_, len(got))
