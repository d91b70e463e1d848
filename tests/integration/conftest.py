"""Fixtures for integration tests: start the real logshipd on an ephemeral
loopback port with a private data directory, and talk to it over HTTP."""
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOGSHIPD = os.path.abspath(os.environ.get("LOGSHIPD", os.path.join(ROOT, "build", "logshipd")))

# The sanitizers must make a bad run fail loudly.
os.environ.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1:exitcode=86")
os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=87")


class Server:
    """A running logshipd; stderr is collected in self.log_lines."""

    def __init__(self, data_dir, args=()):
        self.data_dir = str(data_dir)
        self.args = list(args)
        self.proc = None
        self.log_lines = []
        self.port = None

    def start(self, timeout=15):
        cmd = [LOGSHIPD, "--data", self.data_dir]
        # every listener on a free port unless the test says otherwise
        for flag in ("--http", "--syslog-udp", "--syslog-tcp", "--tcp"):
            if not any(a == flag or a.startswith(flag + "=") for a in self.args):
                cmd += [flag, "127.0.0.1:0"]
        cmd += self.args
        if "--log-level" not in self.args:
            cmd += ["--log-level", "info"]  # the fixture waits for info lines
        self.log_lines = []
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, errors="replace")
        ready = threading.Event()
        ports = {}

        def pump():
            for line in self.proc.stdout:
                self.log_lines.append(line.rstrip("\n"))
                m = re.search(r"([\w-]+) listening on (\S+):(\d+)", line)
                if m:
                    ports[m.group(1)] = int(m.group(3))
                if "logshipd ready" in line:
                    ready.set()
            ready.set()

        self.thread = threading.Thread(target=pump, daemon=True)
        self.thread.start()
        if not ready.wait(timeout) or self.proc.poll() is not None:
            raise RuntimeError("logshipd did not start:\n" + "\n".join(self.log_lines))
        self.ports = ports
        self.port = ports.get("http")
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops the server and returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.thread.join(5)
        self.proc = None
        return rc

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.thread.join(5)
        self.proc = None

    def log_text(self):
        return "\n".join(self.log_lines)

    # -- HTTP helpers -----------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=30):
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def post(self, path, body, ctype):
        if isinstance(body, str):
            body = body.encode()
        st, data = self.request("POST", path, body, {"Content-Type": ctype})
        return st, json.loads(data)

    def logs(self, **params):
        qs = urllib.parse.urlencode(params, doseq=True)
        st, data = self.request("GET", "/api/logs?" + qs)
        assert st == 200, data
        return json.loads(data)

    def metrics(self):
        st, data = self.request("GET", "/metrics")
        assert st == 200
        out = {}
        for line in data.decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out


@pytest.fixture
def make_server(tmp_path):
    """Factory: make_server(*args) starts a server; all are stopped at the
    end and must have exited 0 (sanitizer reports make them exit non-zero)."""
    servers = []

    def make(*args, data_dir=None):
        s = Server(data_dir or tmp_path / f"data{len(servers)}", args).start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        if s.proc is not None:
            rc = s.stop()
            assert rc == 0, f"logshipd exited {rc}:\n{s.log_text()}"


@pytest.fixture
def server(make_server):
    return make_server()


# -- TLS (tlsproxy.py) --------------------------------------------------------

@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    """The test certificates (tlsproxy.make_certs): paths by name."""
    import tlsproxy
    return tlsproxy.make_certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_proxy(tls_certs):
    """Factory: tls_proxy(port, cert="server", client_ca=None) puts a TLS
    proxy with that certificate (a name of tls_certs) in front of a plain
    port; client_ca set: it requires a client certificate of that CA. All
    are closed at the end."""
    import tlsproxy
    proxies = []

    def make(port, cert="server", client_ca=None):
        p = tlsproxy.TlsProxy(port, tls_certs[cert], tls_certs[cert + "_key"],
                              client_ca=tls_certs[client_ca] if client_ca else None)
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        p.close()


@pytest.fixture(scope="session")
def rabbit():
    """One private RabbitMQ broker for the whole session (rabbit.py): its
    own node name, ports, data directory and cookie, on loopback only."""
    import rabbit as rabbitmq
    if not rabbitmq.available():
        pytest.skip("rabbitmq-server is not installed (scripts/deps.sh test installs it)")
    b = rabbitmq.Broker()
    try:
        b.start()
        yield b
    finally:
        b.close()


@pytest.fixture
def broker(rabbit):
    """The session's broker, running (a test before may have stopped it)."""
    if not rabbit.running():
        rabbit.start()
    return rabbit


def make_env():
    """The environment for a `make` of its own: not the variables of a make
    that runs these tests (`make test`), nor the sanitizers' options."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DESTDIR", "PREFIX",
                        "BUILD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    return env


class Installed:
    """`make install` of this tree (a release build in PKG_BUILD), twice:
    staged with DESTDIR under PREFIX=/usr, as a package build does, and
    straight into a private PREFIX, where the paths written into the unit
    and liblogship.pc are the real ones."""

    def __init__(self, base):
        self.build = os.environ.get("LOGSHIP_PKG_BUILD", os.path.join(ROOT, "build-pkgtest"))
        self.destdir = os.path.join(base, "root")
        self.prefix = os.path.join(base, "prefix")
        for args in ([f"DESTDIR={self.destdir}", "PREFIX=/usr"], [f"PREFIX={self.prefix}"]):
            r = subprocess.run(["make", "-C", ROOT, "install", f"BUILD={self.build}", "JOBS=2",
                                *args], capture_output=True, text=True, timeout=1200,
                               env=make_env())
            assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
        libs = [d for d in ("lib", "lib64") if os.path.isdir(os.path.join(self.prefix, d))]
        multi = subprocess.run(["gcc", "-print-multiarch"], capture_output=True,
                               text=True).stdout.strip()
        # GNUInstallDirs: lib/<multiarch> under /usr on Debian, lib elsewhere
        self.staged_libdir = os.path.join(self.destdir, "usr", "lib", multi) if multi and \
            os.path.isdir(os.path.join(self.destdir, "usr", "lib", multi)) else \
            os.path.join(self.destdir, "usr", "lib")
        self.libdir = os.path.join(self.prefix, libs[0] if libs else "lib")

    def staged_env(self):
        """pkg-config and the loader pointed at the DESTDIR tree."""
        env = dict(os.environ)
        env["PKG_CONFIG_PATH"] = os.path.join(self.staged_libdir, "pkgconfig")
        env["PKG_CONFIG_SYSROOT_DIR"] = self.destdir
        env["LD_LIBRARY_PATH"] = self.staged_libdir
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            env.pop(k, None)
        return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    return Installed(str(tmp_path_factory.mktemp("install")))
