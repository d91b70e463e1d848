"""A TLS-terminating proxy for the client TLS tests, and the certificates
they use.

TlsProxy accepts TLS on an ephemeral loopback port with a server
certificate (optionally requiring a client certificate from a given CA)
and forwards the bytes both ways to a plain port of logshipd, so the
logship command and liblogship can be tested over https://, wss:// and
tls:// before logshipd speaks TLS itself. It runs an asyncio loop in a
thread of the test process; close() stops it.

make_certs(dir) writes, with the openssl command: a test CA, a server
certificate for 127.0.0.1 and localhost (IP and DNS SANs), one for
127.0.0.1 only and one for localhost only (name checks), an expired one,
a CA nobody trusts and a server certificate of it, and a client
certificate of the test CA.

    python3 tlsproxy.py CERT KEY TARGET_PORT [CLIENT_CA]   runs one by hand
"""
import asyncio
import os
import ssl
import subprocess
import sys
import threading


class TlsProxy:
    def __init__(self, target_port, cert, key, client_ca=None, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(cert, key)
        if client_ca:
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(client_ca)
        self.accepted = 0  # TLS sessions established
        self.client_subjects = []  # commonName of each client certificate seen
        self.errors = []  # failed handshakes, and what else the loop reported
        self.port = None
        self._tasks = set()
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(lambda loop, c: self.errors.append(
            str(c.get("exception") or c.get("message"))))
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()
        if not started.wait(10) or self.port is None:
            raise RuntimeError("the TLS proxy did not start: %s" % self.errors)

    def _run(self, started):
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
        except Exception as e:  # reported by the constructor
            self.errors.append(repr(e))
            started.set()
            return
        started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._shutdown())
        self._loop.close()

    async def _shutdown(self):
        self._server.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    # TLS is run here on memory BIOs rather than by asyncio's SSL transport:
    # that one drops the connection on a failed handshake without sending
    # the alert a real server sends (certificate required, unknown CA),
    # and what the client says then is what the tests look at.
    async def _handle(self, reader, writer):
        self._tasks.add(asyncio.current_task())
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.ctx.wrap_bio(incoming, outgoing, server_side=True)

        async def flush():
            data = outgoing.read()
            if data:
                writer.write(data)
                await writer.drain()

        async def feed():
            data = await reader.read(65536)
            if data:
                incoming.write(data)
            else:
                incoming.write_eof()
            return bool(data)

        async def handshake():
            while True:
                try:
                    tls.do_handshake()
                    return
                except ssl.SSLWantReadError:
                    await flush()
                    if not await feed():
                        raise ConnectionError("the client left during the handshake")

        try:
            try:
                await asyncio.wait_for(handshake(), 10)
                await flush()
            except (ssl.SSLError, OSError, asyncio.TimeoutError) as e:
                self.errors.append("handshake: %s" % e)
                try:
                    await flush()  # the alert
                except OSError:
                    pass
                return
            self.accepted += 1
            for rdn in (tls.getpeercert() or {}).get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        self.client_subjects.append(v)
            try:
                up_r, up_w = await asyncio.open_connection(*self.target)
            except OSError as e:
                self.errors.append("upstream: %s" % e)
                return
            try:
                await asyncio.gather(self._to_server(tls, feed, flush, up_w),
                                     self._to_client(tls, flush, up_r))
            finally:
                up_w.close()
        finally:
            writer.close()
            self._tasks.discard(asyncio.current_task())

    @staticmethod
    async def _to_server(tls, feed, flush, up_w):
        """Client bytes, decrypted, upstream; at the client's end a
        half-close (the answer still comes back)."""
        try:
            while True:
                while True:
                    try:
                        data = tls.read(65536)
                    except ssl.SSLWantReadError:
                        break
                    if not data:
                        raise EOFError
                    up_w.write(data)
                    await up_w.drain()
                await flush()  # what a read may have to answer
                if not await feed():
                    raise EOFError
        except (EOFError, OSError, ssl.SSLError):
            pass
        try:
            up_w.write_eof()
        except OSError:
            pass

    @staticmethod
    async def _to_client(tls, flush, up_r):
        """Upstream bytes, encrypted, to the client; at logshipd's end a
        close_notify (TLS has no half-close), and the connection goes."""
        try:
            while True:
                data = await up_r.read(65536)
                if not data:
                    break
                tls.write(data)
                await flush()
            try:
                tls.unwrap()
            except ssl.SSLError:
                pass
            await flush()
        except (OSError, ssl.SSLError):
            pass

    def close(self):
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


# -- certificates ------------------------------------------------------------

def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args), r.stderr))


def _key_and_csr(d, name, cn):
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn,
             cwd=d)


def _ca(d, name, cn):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-subj", "/CN=" + cn,
             "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _sign(d, name, ca, ext, start=None, end=None):
    """Signs name.csr with ca into name.pem; start/end (YYYYMMDDHHMMSSZ) set
    the validity, through `openssl ca` (x509 -req only counts days from now)."""
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("[v3]\n" + ext + "\n")
    if start is None:
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                 "-CAcreateserial", "-days", "30", "-sha256", "-extfile", name + ".ext",
                 "-extensions", "v3", "-out", name + ".pem", cwd=d)
        return
    db = os.path.join(d, "cadb-" + name)
    os.makedirs(db, exist_ok=True)
    open(os.path.join(db, "index.txt"), "w").close()
    with open(os.path.join(db, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(db, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndir = %s\ndatabase = $dir/index.txt\n"
                "new_certs_dir = $dir\nserial = $dir/serial\ndefault_md = sha256\n"
                "policy = any\nunique_subject = no\n[any]\ncommonName = supplied\n" % db)
    _openssl("ca", "-batch", "-config", os.path.join(db, "ca.cnf"), "-cert", ca + ".pem",
             "-keyfile", ca + ".key", "-in", name + ".csr", "-out", name + ".pem", "-notext",
             "-startdate", start, "-enddate", end, "-extfile", name + ".ext", "-extensions", "v3",
             cwd=d)


SERVER_EXT = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"


def make_certs(d):
    """Writes the test certificates into directory d; returns their paths by
    name: ca, other_ca, and (each with _key) server (127.0.0.1 + localhost),
    server_ip (127.0.0.1 only), server_dns (localhost only), expired,
    foreign (of other_ca), client."""
    d = str(d)
    _ca(d, "ca", "logship test CA")
    _ca(d, "other_ca", "some other CA")
    both = "subjectAltName=IP:127.0.0.1,DNS:localhost"
    for name, ca, ext, dates in (
            ("server", "ca", SERVER_EXT + both, None),
            ("server_ip", "ca", SERVER_EXT + "subjectAltName=IP:127.0.0.1", None),
            ("server_dns", "ca", SERVER_EXT + "subjectAltName=DNS:localhost", None),
            ("expired", "ca", SERVER_EXT + both, ("20200101000000Z", "20200102000000Z")),
            ("foreign", "other_ca", SERVER_EXT + both, None),
            ("client", "ca", "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                             "extendedKeyUsage=clientAuth", None)):
        _key_and_csr(d, name, "logship test " + name)
        if dates:
            _sign(d, name, ca, ext, *dates)
        else:
            _sign(d, name, ca, ext)
    paths = {}
    for name in ("ca", "other_ca", "server", "server_ip", "server_dns", "expired", "foreign",
                 "client"):
        paths[name] = os.path.join(d, name + ".pem")
        paths[name + "_key"] = os.path.join(d, name + ".key")
    return paths


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.strip().splitlines()[-1])
    p = TlsProxy(int(sys.argv[3]), sys.argv[1], sys.argv[2],
                 sys.argv[4] if len(sys.argv) == 5 else None)
    print("listening on 127.0.0.1:%d" % p.port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        p.close()
