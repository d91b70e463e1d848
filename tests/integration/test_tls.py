"""TLS on logshipd's listeners: HTTPS (curl, requests, Python's HTTPHandler),
wss and SSE over TLS, syslog over TLS (RFC 5425, Python and rsyslog's gtls
driver) and raw TCP over TLS with acknowledgements; plaintext to a TLS
port, wrong CAs, an expired certificate, client certificates, a SIGHUP
that swaps the certificate under open connections, and bad input inside
TLS answered as it is without.

The certificates are made once per session with the openssl command: a test
CA, a server certificate for 127.0.0.1 and localhost, a second one (the
renewal), an expired one, a client certificate, and a CA of strangers with
a server and a client certificate of its own."""
import asyncio
import glob
import http.client
import json
import logging
import logging.handlers
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import requests
import websockets

from conftest import LOGSHIPD
from test_syslog import free_udp_port

HOST = socket.gethostname()


# ---- certificates -----------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d, name, cn):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "3", "-subj", f"/CN={cn}",
            cwd=d)


def make_cert(d, name, ca, cn, days=2, san="IP:127.0.0.1,DNS:localhost", client=False):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
    ext = f"{name}.ext"
    with open(os.path.join(d, ext), "w") as f:
        f.write(f"subjectAltName={san}\n")
        f.write("extendedKeyUsage=" + ("clientAuth" if client else "serverAuth") + "\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", str(days), "-extfile", ext, cwd=d)


class Certs:
    def __init__(self, d):
        self.dir = str(d)
        self.ca_pem = os.path.join(self.dir, "ca.pem")

    def path(self, name):
        return os.path.join(self.dir, name)


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    make_ca(d, "ca", "logship test CA")
    make_cert(d, "server", "ca", "logshipd")
    make_cert(d, "renewed", "ca", "logshipd renewed")
    make_cert(d, "expired", "ca", "logshipd expired", days=-1)
    make_cert(d, "client", "ca", "client one", san="DNS:client.example", client=True)
    make_ca(d, "other", "a stranger's CA")
    make_cert(d, "other_server", "other", "impostor")
    make_cert(d, "other_client", "other", "stranger", san="DNS:stranger.example", client=True)
    return Certs(d)


def client_ctx(certs, ca="ca.pem", cert=None):
    ctx = ssl.create_default_context(cafile=os.path.join(certs.dir, ca))
    if cert:
        ctx.load_cert_chain(os.path.join(certs.dir, cert + ".pem"),
                            os.path.join(certs.dir, cert + ".key"))
    return ctx


def tls_args(certs, cert="server", client_ca=False, inputs=True):
    a = ["--tls-cert", os.path.join(certs.dir, cert + ".pem"),
         "--tls-key", os.path.join(certs.dir, cert + ".key")]
    if client_ca:
        a += ["--tls-client-ca", certs.ca_pem]
    if inputs:
        a += ["--syslog-tls", "127.0.0.1:0", "--tcp-tls", "127.0.0.1:0"]
    return a


def url(server, path=""):
    return f"https://127.0.0.1:{server.port}{path}"


def logs(server, certs, **params):
    r = requests.get(url(server, "/api/logs"), params=params, verify=certs.ca_pem, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def wait_logs(server, certs, n, timeout=15, **params):
    deadline = time.time() + timeout
    while True:
        got = logs(server, certs, **params)
        if len(got) >= n or time.time() > deadline:
            return got
        time.sleep(0.05)


def metrics(server, certs):
    r = requests.get(url(server, "/metrics"), verify=certs.ca_pem, timeout=10)
    out = {}
    for line in r.text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def serial_of(der):
    """The serial number of a DER certificate, as openssl prints it."""
    p = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                       capture_output=True, check=True)
    return p.stdout.decode().strip()


def file_serial(path):
    p = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-serial"],
                       capture_output=True, check=True)
    return p.stdout.decode().strip()


def peer_serial(server, certs):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        with client_ctx(certs).wrap_socket(s, server_hostname="127.0.0.1") as t:
            return serial_of(t.getpeercert(binary_form=True))


@pytest.fixture
def tls_server(make_server, certs):
    return make_server(*tls_args(certs))


# ---- HTTPS --------------------------------------------------------------------

def curl(certs, *args):
    p = subprocess.run(["curl", "-sS", "--cacert", certs.ca_pem, *args], capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def test_curl_https_get_and_post(tls_server, certs):
    rc, out, err = curl(certs, url(tls_server, "/healthz"))
    assert rc == 0, err
    assert json.loads(out)["status"] == "ok"
    rc, out, err = curl(certs, "-d", "log=over https", "-d", "app=curl", url(tls_server, "/api/log"))
    assert rc == 0 and json.loads(out)["accepted"] == 1, (out, err)
    body = "".join(json.dumps({"msg": f"nd {i}", "app": "batch"}) + "\n" for i in range(500))
    rc, out, err = curl(certs, "-H", "Content-Type: application/x-ndjson", "--data-binary", body,
                        url(tls_server, "/api/log"))
    assert rc == 0 and json.loads(out)["accepted"] == 500, (out, err)
    # by name too: the certificate is for localhost as well
    rc, out, err = curl(certs, f"https://localhost:{tls_server.port}/api/logs?app=curl")
    assert rc == 0, err
    assert [r["msg"] for r in json.loads(out)] == ["over https"]
    assert [r["msg"] for r in logs(tls_server, certs, app="batch", limit=1000)] == [
        f"nd {i}" for i in range(500)]
    m = metrics(tls_server, certs)
    assert m['logship_tls_handshakes_total{listener="http"}'] >= 4
    assert m['logship_tls_handshake_failures_total{listener="http"}'] == 0


def test_requests_verify_and_keep_alive(tls_server, certs):
    with requests.Session() as s:
        v = certs.ca_pem  # per request: an environment's CA bundle would override s.verify
        for i in range(20):  # one connection, kept alive
            r = s.post(url(tls_server, "/api/log"), json={"msg": f"req {i}", "app": "rq"},
                       timeout=10, verify=v)
            assert r.status_code == 200 and r.json()["accepted"] == 1
        big = [{"msg": "x" * 1000 + str(i), "app": "big"} for i in range(300)]
        r = s.post(url(tls_server, "/api/log"), json=big, timeout=10, verify=v)  # ~300 KB
        assert r.json()["accepted"] == 300
        got = s.get(url(tls_server, "/api/logs"), params={"app": "big", "limit": 1000},
                    timeout=10, verify=v).json()  # a reply of many TLS records
        assert [g["msg"] for g in got] == [b["msg"] for b in big]
    assert [r["msg"] for r in logs(tls_server, certs, app="rq")] == [f"req {i}" for i in range(20)]
    m = metrics(tls_server, certs)
    assert m['logship_tls_connections_total{listener="http"}'] <= 4


def test_python_https_handler(tls_server, certs):
    log = logging.getLogger("tls-handler-test")
    log.propagate = False
    h = logging.handlers.HTTPHandler(f"127.0.0.1:{tls_server.port}", "/api/log", method="POST",
                                     secure=True, context=client_ctx(certs))
    log.addHandler(h)
    try:
        log.warning("stored over %s", "https")
    finally:
        log.removeHandler(h)
        h.close()
    got = wait_logs(tls_server, certs, 1)
    assert [(g["msg"], g["level"], g["app"]) for g in got] == [
        ("stored over https", "warning", "tls-handler-test")]


def test_sse_over_https(tls_server, certs):
    requests.post(url(tls_server, "/api/log"), json={"msg": "before"}, verify=certs.ca_pem)
    r = requests.get(url(tls_server, "/api/tail?n=1"), headers={"Accept": "text/event-stream"},
                     stream=True, timeout=10, verify=certs.ca_pem)
    assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
    seen = []
    posted = False
    for line in r.iter_lines(chunk_size=1, decode_unicode=True):
        if line.startswith("data: "):
            seen += [x["msg"] for x in json.loads(line[6:])]
            if not posted:
                requests.post(url(tls_server, "/api/log"), json={"msg": "live over SSE"},
                              verify=certs.ca_pem, timeout=10)
                posted = True
        if "live over SSE" in seen:
            break
    r.close()
    assert seen == ["before", "live over SSE"]


def test_wss_tail_live(tls_server, certs):
    requests.post(url(tls_server, "/api/log"), json={"msg": "backlog"}, verify=certs.ca_pem)

    async def run():
        wss = f"wss://127.0.0.1:{tls_server.port}/api/tail?n=5"
        async with websockets.connect(wss, ssl=client_ctx(certs)) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert [x["msg"] for x in first] == ["backlog"]
            for i in range(3):
                await asyncio.get_running_loop().run_in_executor(None, lambda i=i: requests.post(
                    url(tls_server, "/api/log"), json={"msg": f"live {i}"}, verify=certs.ca_pem,
                    timeout=10))
            got = []
            while len(got) < 3:
                got += [x["msg"] for x in json.loads(await asyncio.wait_for(ws.recv(), 10))]
            assert got == ["live 0", "live 1", "live 2"]
            # a large burst: the bridge relays it whole, in order
            body = "".join(json.dumps({"msg": f"burst {i:05d} " + "y" * 200}) + "\n"
                           for i in range(5000))
            await asyncio.get_running_loop().run_in_executor(None, lambda: requests.post(
                url(tls_server, "/api/log"), data=body, verify=certs.ca_pem, timeout=30,
                headers={"Content-Type": "application/x-ndjson"}))
            burst = []
            while len(burst) < 5000:
                burst += [x["msg"][:11] for x in json.loads(await asyncio.wait_for(ws.recv(), 10))]
            assert burst == [f"burst {i:05d}" for i in range(5000)]
        return ws.close_code

    t0 = time.monotonic()
    assert asyncio.run(run()) == 1000
    assert time.monotonic() - t0 < 60
    m = metrics(tls_server, certs)
    assert m["logship_http_wss_bridged_total"] == 1
    assert m['logship_tls_errors_total{listener="http"}'] == 0


def test_slow_wss_reader_gets_everything(tls_server, certs):
    """A wss client that stops reading while records pour in: the bridge
    stops relaying (its buffers full), lws and then the tail fall behind,
    and once the client reads again every record arrives, in order."""
    n = 40000
    body = "".join(json.dumps({"msg": f"slow {i:06d} " + "z" * 100}) + "\n" for i in range(n))

    async def run():
        wss = f"wss://127.0.0.1:{tls_server.port}/api/tail"
        async with websockets.connect(wss, ssl=client_ctx(certs), max_queue=1,
                                      read_limit=2 ** 14, max_size=2 ** 24) as ws:
            await asyncio.get_running_loop().run_in_executor(None, lambda: requests.post(
                url(tls_server, "/api/log"), data=body, verify=certs.ca_pem, timeout=60,
                headers={"Content-Type": "application/x-ndjson"}))
            await asyncio.sleep(2)  # not reading: everything backs up
            got = []
            while len(got) < n:
                got += [x["msg"][:11] for x in json.loads(await asyncio.wait_for(ws.recv(), 20))]
            return got
    assert asyncio.run(run()) == [f"slow {i:06d}" for i in range(n)]


def test_wss_file_tail_names_the_client(make_server, certs, tmp_path):
    """lws sees a socketpair over TLS: what it logs of the client is the
    address the HTTP layer saw."""
    root = tmp_path / "logs"
    root.mkdir()
    (root / "app.log").write_text("first line\n")
    server = make_server(*tls_args(certs, inputs=False), "--tail-root", str(root))

    async def run(path):
        async with websockets.connect(f"wss://127.0.0.1:{server.port}/api/files/logs/{path}",
                                      ssl=client_ctx(certs)) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert asyncio.run(run("app.log")) == ["first line"]
    assert asyncio.run(run("nope.log"))["status"] == 403
    wait_log(server, "files: refused 'logs/nope.log' from 127.0.0.1: ")


def test_sigterm_with_open_wss_tails(make_server, certs):
    """Shutting down with several wss tails open: every bridge closes, the
    clients see the end, and logshipd exits 0 (the sanitizers watch it)."""
    server = make_server(*tls_args(certs, inputs=False))

    async def run():
        wss = f"wss://127.0.0.1:{server.port}/api/tail"
        conns = [await websockets.connect(wss, ssl=client_ctx(certs)) for _ in range(3)]
        loop = asyncio.get_running_loop()
        rc = await loop.run_in_executor(None, server.stop)
        for ws in conns:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
        return rc
    assert asyncio.run(run()) == 0


def test_plain_websocket_unchanged_without_tls(server):
    """Without TLS the upgrade is lws's own socket, as before: no bridge."""
    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/api/tail?n=1") as ws:
            server.post("/api/log", '{"msg":"plain ws"}', "application/json")
            return json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert [x["msg"] for x in asyncio.run(run())] == ["plain ws"]
    assert server.metrics()["logship_http_wss_bridged_total"] == 0


# ---- refusals ---------------------------------------------------------------------

def read_all(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_plain_http_to_tls_port_is_a_clean_400(tls_server, certs):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = read_all(s)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), data
    assert b"Connection: close" in head
    assert "speaks TLS" in json.loads(body)["error"]
    # curl with http:// gets the same
    p = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{tls_server.port}/api/logs"],
                       capture_output=True, text=True, timeout=30)
    assert "speaks TLS" in p.stdout
    # plaintext to the TLS inputs is closed without a record
    for port in (tls_server.ports["tcp-tls"], tls_server.ports["syslog-tls"]):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b'{"msg":"plaintext"}\n<13>1 - h app - - - plaintext\n')
            assert read_all(s) == b""
    m = metrics(tls_server, certs)
    assert m["logship_http_tls_plaintext_total"] == 2
    assert m['logship_tls_handshake_failures_total{listener="http"}'] == 2
    assert m['logship_tls_handshake_failures_total{listener="tcp"}'] == 1
    assert m['logship_tls_handshake_failures_total{listener="syslog"}'] == 1
    assert logs(tls_server, certs) == []
    # and the server still serves TLS
    assert requests.get(url(tls_server, "/healthz"), verify=certs.ca_pem).status_code == 200


def test_handshake_falls_under_the_request_deadline(make_server, certs):
    """A client that connects and never finishes its handshake is closed
    at --request-timeout, and the handshake counts as failed."""
    server = make_server(*tls_args(certs, inputs=False), "--request-timeout", "1s")
    hello = ssl.create_default_context().wrap_bio(ssl.MemoryBIO(), out := ssl.MemoryBIO(),
                                                  server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        hello.do_handshake()
    first_half = out.read()[:40]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as quiet, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
        slow.sendall(first_half)
        assert read_all(quiet) == b""  # closed by the server, not by the 10 s timeout here
        assert read_all(slow) == b""
    m = metrics(server, certs)
    assert m['logship_tls_handshake_failures_total{listener="http"}'] == 1  # the one that began
    assert m["logship_http_timeouts_total"] == 2
    assert "TLS handshake not done within --request-timeout" in server.log_text()


def test_connection_limit_over_tls_is_a_503(make_server, certs):
    """Over --max-connections the 503 is queued before the handshake and
    sent once it is done."""
    server = make_server(*tls_args(certs, inputs=False), "--max-connections", "1")
    first = http.client.HTTPSConnection("127.0.0.1", server.port, context=client_ctx(certs),
                                        timeout=10)
    first.request("GET", "/healthz")
    assert first.getresponse().read()
    second = http.client.HTTPSConnection("127.0.0.1", server.port, context=client_ctx(certs),
                                         timeout=10)
    second.request("GET", "/healthz")
    r = second.getresponse()
    assert r.status == 503 and "max-connections" in json.loads(r.read())["error"]
    second.close()
    first.request("GET", "/healthz")  # the first is still served
    assert first.getresponse().status == 200
    first.close()


def test_client_with_the_wrong_ca_refuses(tls_server, certs):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url(tls_server, "/healthz"), verify=certs.path("other.pem"), timeout=10)
    p = subprocess.run(["curl", "-sS", "--cacert", certs.path("other.pem"),
                        url(tls_server, "/healthz")], capture_output=True, text=True, timeout=30)
    assert p.returncode == 60  # curl: peer certificate cannot be authenticated
    # the server saw the client's alert: a failed handshake, counted
    deadline = time.time() + 5
    while time.time() < deadline:
        m = metrics(tls_server, certs)
        if m['logship_tls_handshake_failures_total{listener="http"}'] >= 2:
            break
        time.sleep(0.1)
    assert m['logship_tls_handshake_failures_total{listener="http"}'] == 2
    assert "handshake failed" in tls_server.log_text()


def test_expired_certificate_is_refused_by_clients(make_server, certs):
    server = make_server(*tls_args(certs, cert="expired", inputs=False))
    assert "has expired" in server.log_text()  # logshipd says so at start
    with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            client_ctx(certs).wrap_socket(s, server_hostname="127.0.0.1")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url(server, "/healthz"), verify=certs.ca_pem, timeout=10)


def test_client_certificates(make_server, certs):
    server = make_server(*tls_args(certs, client_ca=True))

    def get(cert):
        kw = {"cert": (certs.path(cert + ".pem"), certs.path(cert + ".key"))} if cert else {}
        return requests.get(url(server, "/healthz"), verify=certs.ca_pem, timeout=10, **kw)

    for cert in (None, "other_client"):  # none, and one the CA did not sign
        with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
            get(cert)
    assert get("client").status_code == 200
    # and on the raw TCP input
    def tcp_send(cert, answer):
        with socket.create_connection(("127.0.0.1", server.ports["tcp-tls"]), timeout=10) as s:
            with client_ctx(certs, cert=cert).wrap_socket(s, server_hostname="127.0.0.1") as t:
                t.sendall(json.dumps({"msg": f"from {cert}"}).encode() + b"\n")
                if not answer:
                    return None
                try:
                    return t.recv(100)  # TLS 1.3: the refusal comes after the handshake
                except (ssl.SSLError, ConnectionResetError) as e:
                    return e
    refused = tcp_send(None, True)
    assert isinstance(refused, ssl.SSLError) and "certificate required" in str(refused)
    tcp_send("client", False)
    mine = (certs.path("client.pem"), certs.path("client.key"))
    deadline = time.time() + 10
    while True:
        got = requests.get(url(server, "/api/logs"), verify=certs.ca_pem, cert=mine,
                           timeout=10).json()
        if got or time.time() > deadline:
            break
        time.sleep(0.05)
    assert [g["msg"] for g in got] == ["from client"]
    m = requests.get(url(server, "/metrics"), verify=certs.ca_pem, cert=mine, timeout=10).text
    assert 'logship_tls_handshake_failures_total{listener="http"} 2' in m
    assert 'logship_tls_handshake_failures_total{listener="tcp"} 1' in m
    assert "client certificate refused" in server.log_text()


# ---- reload ------------------------------------------------------------------------

def wait_log(server, text, timeout=10):
    deadline = time.time() + timeout
    while text not in server.log_text():
        assert time.time() < deadline, f"no '{text}' in:\n{server.log_text()}"
        time.sleep(0.05)


def test_sighup_swaps_the_certificate_for_new_connections(make_server, certs, tmp_path):
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(os.path.join(certs.dir, "server.pem"), cert)
    shutil.copy(os.path.join(certs.dir, "server.key"), key)
    server = make_server("--tls-cert", str(cert), "--tls-key", str(key))
    old, new = file_serial(os.path.join(certs.dir, "server.pem")), \
        file_serial(os.path.join(certs.dir, "renewed.pem"))
    assert old != new and peer_serial(server, certs) == old

    # an open keep-alive connection, and an open wss tail
    keep = http.client.HTTPSConnection("127.0.0.1", server.port, context=client_ctx(certs),
                                       timeout=10)
    keep.request("GET", "/healthz")
    assert keep.getresponse().read() and serial_of(keep.sock.getpeercert(True)) == old

    async def run():
        wss = f"wss://127.0.0.1:{server.port}/api/tail"
        async with websockets.connect(wss, ssl=client_ctx(certs)) as ws:
            # the certificate is renewed at the same paths, then SIGHUP
            shutil.copy(os.path.join(certs.dir, "renewed.pem"), cert)
            shutil.copy(os.path.join(certs.dir, "renewed.key"), key)
            server.proc.send_signal(signal.SIGHUP)
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: wait_log(server, "TLS reloaded"))
            assert await asyncio.get_running_loop().run_in_executor(
                None, lambda: peer_serial(server, certs)) == new
            # the connection open before keeps its session and goes on
            keep.request("POST", "/api/log", body=json.dumps({"msg": "after reload"}),
                         headers={"Content-Type": "application/json"})
            r = keep.getresponse()
            assert r.status == 200 and json.loads(r.read())["accepted"] == 1
            assert serial_of(keep.sock.getpeercert(True)) == old
            got = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert [x["msg"] for x in got] == ["after reload"]
    asyncio.run(run())
    keep.close()
    # a key that does not load: the context stays, the log says why
    with open(key, "w") as f:
        f.write("not a key\n")
    server.proc.send_signal(signal.SIGHUP)
    wait_log(server, "TLS not reloaded")
    assert str(key) in [ln for ln in server.log_lines if "TLS not reloaded" in ln][0]
    assert peer_serial(server, certs) == new
    assert requests.get(url(server, "/healthz"), verify=certs.ca_pem).status_code == 200


# ---- the TLS inputs -------------------------------------------------------------------

def tls_conn(server, certs, name):
    s = socket.create_connection(("127.0.0.1", server.ports[name]), timeout=10)
    return client_ctx(certs).wrap_socket(s, server_hostname="127.0.0.1")


def hello(f, producer):
    f.write((json.dumps({"logship": "hello", "version": 1, "producer": producer}) + "\n").encode())
    f.flush()
    return json.loads(f.readline())


def send_batch(f, n, records):
    f.write((json.dumps({"logship": "batch", "batch": n, "count": len(records)}) + "\n").encode())
    for r in records:
        f.write((json.dumps(r) + "\n").encode())
    f.flush()


def test_tcp_tls_lines_and_acks(tls_server, certs):
    with tls_conn(tls_server, certs, "tcp-tls") as t:
        t.sendall(b'{"msg":"json over tls","app":"tt"}\nplain text over tls\n')
    with tls_conn(tls_server, certs, "tcp-tls") as t:
        f = t.makefile("rwb")
        h = hello(f, "tls-node")
        assert h["logship"] == "hello" and h["producer"] == "tls-node"
        for n in range(1, 4):
            send_batch(f, n, [{"msg": f"b{n}.{i}", "app": "acked"} for i in range(100)])
        acks = [json.loads(f.readline()) for _ in range(3)]
        assert [(a["logship"], a["batch"], a["last_seq"] - a["first_seq"]) for a in acks] == [
            ("ack", n, 99) for n in range(1, 4)]
        # an ack means stored
        got = logs(tls_server, certs, app="acked", limit=1000)
        assert [g["msg"] for g in got] == [f"b{n}.{i}" for n in range(1, 4) for i in range(100)]
    got = wait_logs(tls_server, certs, 2, app="tt")
    assert len(got) == 1 and got[0]["msg"] == "json over tls"
    assert [g["msg"] for g in logs(tls_server, certs, q="plain text over tls")] == [
        "plain text over tls"]
    m = metrics(tls_server, certs)
    assert m['logship_tls_handshakes_total{listener="tcp"}'] == 2
    assert m['logship_connections_total{input="tcp"}'] == 2


def test_syslog_tls_octet_counted(tls_server, certs):
    msgs = [f"<{8 * 4 + 2}>1 2026-11-21T10:45:56Z h1 app{i} 7 - - over TLS {i}" for i in range(3)]
    with tls_conn(tls_server, certs, "syslog-tls") as t:
        t.sendall(b"".join(f"{len(m.encode())} {m}".encode() for m in msgs))
    got = wait_logs(tls_server, certs, 3)
    assert [(g["topic"], g["app"], g["msg"], g["host"]) for g in got] == [
        ("auth.crit", f"app{i}", f"over TLS {i}", "h1") for i in range(3)]


def test_rsyslog_forwards_over_tls(tls_server, certs, tmp_path):
    """rsyslogd (gtls driver, x509/name: it checks our certificate against
    the test CA and the name localhost) forwards what it gets on a loopback
    UDP port to --syslog-tls."""
    if not glob.glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"):
        pytest.fail("rsyslog-gnutls is not installed (scripts/deps.sh test installs it)")
    work = tmp_path / "rsyslog"
    work.mkdir()
    in_port = free_udp_port()
    conf = work / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{work}" DefaultNetstreamDriverCAFile="{certs.ca_pem}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{in_port}")
action(type="omfwd" target="127.0.0.1" port="{tls_server.ports['syslog-tls']}" protocol="tcp"
       StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
       StreamDriverPermittedPeers="localhost"
       template="RSYSLOG_SyslogProtocol23Format" TCP_Framing="octet-counted")
""")
    proc = subprocess.Popen(["rsyslogd", "-n", "-f", str(conf), "-i", str(work / "pid")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(1)
        for i in range(3):
            subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(in_port), "--udp",
                            "-t", "viatls", "-p", "mail.err", f"encrypted {i}"], check=True)
        got = wait_logs(tls_server, certs, 3, timeout=20)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert [(g["topic"], g["app"], g["msg"]) for g in got] == [
        ("mail.error", "viatls", f"encrypted {i}") for i in range(3)], out
    assert all(g["host"] == HOST for g in got)
    m = metrics(tls_server, certs)
    assert m['logship_tls_handshakes_total{listener="syslog"}'] >= 1


# ---- bad input inside TLS ---------------------------------------------------------------

def test_bad_http_input_over_tls_answered_as_plain(make_server, certs):
    plain = make_server()
    tls = make_server(*tls_args(certs, inputs=False))
    lines = ['{"msg":"good 1"}', '{"msg": broken}', '{"msg":"good 2"}', 'plain text',
             '{"msg":"good 3"}']
    cases = [("application/json", '{"msg": "a", "level": }'),
             ("application/x-ndjson", "\n".join(lines) + "\n"),
             ("application/x-ndjson", "nope\n{]\n"),
             ("text/csv", "a,b\n")]
    for ctype, body in cases:
        a = requests.post(plain.url + "/api/log", data=body, headers={"Content-Type": ctype})
        b = requests.post(url(tls, "/api/log"), data=body, headers={"Content-Type": ctype},
                          verify=certs.ca_pem)
        assert (a.status_code, a.json()) == (b.status_code, b.json())
    assert [r["msg"] for r in logs(tls, certs)] == ["good 1", "good 2", "good 3"]
    # a malformed request head: the same 400 over TLS
    for srv, wrap in ((plain, False), (tls, True)):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        if wrap:
            s = client_ctx(certs).wrap_socket(s, server_hostname="127.0.0.1")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n")
        try:
            reply = read_all(s)
        except ssl.SSLError:
            reply = b""
        s.close()
        assert reply.startswith(b"HTTP/1.1 400 ") and b"bad Content-Length" in reply, reply


def test_bad_tcp_input_over_tls_same_errors_and_good_records_kept(make_server, certs):
    plain = make_server()
    tls = make_server(*tls_args(certs))

    def session(f):
        out = [hello(f, "p")]
        send_batch(f, 1, [{"msg": "kept before"}])
        out.append(json.loads(f.readline()))
        f.write(b"this is not a batch header\n")
        f.flush()
        out.append(json.loads(f.readline()))
        out.append(f.readline())  # closed
        return out

    with socket.create_connection(("127.0.0.1", plain.ports["tcp"]), timeout=10) as s:
        a = session(s.makefile("rwb"))
    with tls_conn(tls, certs, "tcp-tls") as t:
        b = session(t.makefile("rwb"))
    assert a == b and a[2]["logship"] == "error" and a[3] == b""
    # garbage that is not TLS after the handshake: the connection ends,
    # what came before it is kept, and the error is counted
    t = tls_conn(tls, certs, "tcp-tls")
    t.sendall(b'{"msg":"before garbage"}\n')
    time.sleep(0.2)
    os.write(t.fileno(), b"\x17\x03\x03\x00\x10" + b"\x00" * 16 + b"not tls at all")
    try:
        assert t.recv(100) == b""
    except (ssl.SSLError, ConnectionResetError):
        pass
    t.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        m = metrics(tls, certs)
        if m['logship_tls_errors_total{listener="tcp"}'] == 1:
            break
        time.sleep(0.05)
    assert m['logship_tls_errors_total{listener="tcp"}'] == 1
    assert [r["msg"] for r in logs(tls, certs)] == ["kept before", "before garbage"]
    # and the listener goes on
    with tls_conn(tls, certs, "tcp-tls") as t:
        t.sendall(b'{"msg":"after"}\n')
    assert wait_logs(tls, certs, 3)[-1]["msg"] == "after"


def test_bad_syslog_over_tls_kept_as_plain_keeps_it(make_server, certs):
    """A syslog line that does not parse is stored raw with its reason over
    TLS as over plain TCP, between the good ones."""
    plain = make_server()
    tls = make_server(*tls_args(certs))
    stream = (b"<34>1 2026-11-21T10:45:56Z h1 good1 - - - first\n"
              b"<999>not syslog at all\n"
              b"<34>1 2026-11-21T10:45:57Z h1 good2 - - - second\n")
    with socket.create_connection(("127.0.0.1", plain.ports["syslog-tcp"]), timeout=10) as s:
        s.sendall(stream)
    with tls_conn(tls, certs, "syslog-tls") as t:
        t.sendall(stream)
    a = wait_for_plain(plain, 3)
    b = wait_logs(tls, certs, 3)

    def strip(rs):
        return [{k: v for k, v in r.items() if k not in ("seq", "ts")} for r in rs]
    assert strip(a) == strip(b) and len(b) == 3
    assert "parse_error" in b[1]["fields"] and b[2]["app"] == "good2"


def wait_for_plain(server, n, timeout=15):
    deadline = time.time() + timeout
    while True:
        got = server.logs()
        if len(got) >= n or time.time() > deadline:
            return got
        time.sleep(0.05)


def test_tls_options_are_checked(certs, tmp_path):
    """Bad TLS options stop logshipd before it starts (the option checks
    themselves are tests/unit/test_config.c's)."""
    bin_ = LOGSHIPD
    p = subprocess.run([bin_, "--tcp-tls", "127.0.0.1:0", "--data", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "--tcp-tls needs both" in p.stderr
    p = subprocess.run([bin_, "--tls-cert", certs.path("server.pem"), "--tls-key",
                        certs.path("other_server.key"), "--data",
                        str(tmp_path / "d"), "--http", "127.0.0.1:0", "--syslog-udp", "off",
                        "--syslog-tcp", "off", "--tcp", "off"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and "cannot load the private key" in p.stderr
    assert "mismatch" in p.stderr
