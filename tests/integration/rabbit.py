"""rabbit.py - a private RabbitMQ broker for the integration tests.

The tests never use or touch a system RabbitMQ service. A Broker runs
Debian's rabbitmq-server straight from /usr/lib/rabbitmq/bin (not the
/usr/sbin wrapper, which switches to the rabbitmq user and its home) with
everything of its own, under one temporary directory:

  node name      logship-test-<pid>-<n>@localhost
  ports          AMQP, Erlang distribution and epmd: free loopback ports
  listening      127.0.0.1 only (AMQP, distribution and epmd)
  data, logs     RABBITMQ_MNESIA_BASE, RABBITMQ_LOG_BASE in the directory
  config         RABBITMQ_CONFIG_FILE (rabbitmq.conf), no plugins
  cookie         HOME points into the directory, with its own .erlang.cookie
  TLS            a second AMQP listener (amqps) on 127.0.0.1 with a
                 certificate for localhost and 127.0.0.1 from a CA made here
                 (tls_ca is its PEM file), when the openssl tool is there

Start-up takes seconds, so conftest.py starts one per test session. A test
may kill -9 the broker (kill9) and start it again on the same node name and
data directory (start), or stop it cleanly (stop); close() stops it and its
epmd at the end of the session and removes the directory.

Every wait here is bounded: a broker that does not come up fails the test
with the end of its log.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pika

RABBIT_BIN = "/usr/lib/rabbitmq/bin"
EPMD = shutil.which("epmd") or "/usr/bin/epmd"


def available():
    return os.path.exists(os.path.join(RABBIT_BIN, "rabbitmq-server"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def make_ca(d, name):
    """A self-signed CA in d: name.pem, name.key. True when openssl made it."""
    openssl = shutil.which("openssl")
    if not openssl:
        return False
    r = subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", f"/CN=logship test {name}", "-keyout",
                        os.path.join(d, name + ".key"), "-out", os.path.join(d, name + ".pem")],
                       capture_output=True, timeout=60)
    return r.returncode == 0


def make_certs(d):
    """ca.pem and, signed by it, server.pem/server.key for localhost and
    127.0.0.1. True when it worked."""
    if not make_ca(d, "ca"):
        return False
    openssl = shutil.which("openssl")
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName = DNS:localhost, IP:127.0.0.1\n")
    steps = [
        [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-keyout", os.path.join(d, "server.key"), "-out", os.path.join(d, "server.csr")],
        [openssl, "x509", "-req", "-in", os.path.join(d, "server.csr"), "-days", "2",
         "-CA", os.path.join(d, "ca.pem"), "-CAkey", os.path.join(d, "ca.key"),
         "-CAcreateserial", "-extfile", ext, "-out", os.path.join(d, "server.pem")],
    ]
    for cmd in steps:
        if subprocess.run(cmd, capture_output=True, timeout=60).returncode != 0:
            return False
    os.chmod(os.path.join(d, "server.key"), 0o644)
    return True


class Broker:
    _count = 0

    def __init__(self, base=None):
        Broker._count += 1
        self.dir = base or tempfile.mkdtemp(prefix="logship-rabbit-")
        self.node = f"logship-test-{os.getpid()}-{Broker._count}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.proc = None
        home = os.path.join(self.dir, "home")
        os.makedirs(home, exist_ok=True)
        cookie = os.path.join(home, ".erlang.cookie")
        with open(cookie, "w") as f:
            f.write(secrets.token_hex(16))
        os.chmod(cookie, 0o400)
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        self.tls_port, self.tls_ca = None, None
        tls = ""
        if make_certs(self.dir):
            self.tls_port = free_port()
            self.tls_ca = os.path.join(self.dir, "ca.pem")
            tls = (f"listeners.ssl.default = 127.0.0.1:{self.tls_port}\n"
                   f"ssl_options.cacertfile = {self.tls_ca}\n"
                   f"ssl_options.certfile = {os.path.join(self.dir, 'server.pem')}\n"
                   f"ssl_options.keyfile = {os.path.join(self.dir, 'server.key')}\n"
                   "ssl_options.verify = verify_none\n"
                   "ssl_options.fail_if_no_peer_cert = false\n")
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as f:
            f.write(f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
                    "loopback_users.guest = true\n"
                    # a shared CI disk may be fuller than the default 50MB
                    # alarm likes; the tests store little
                    "disk_free_limit.absolute = 10MB\n"
                    "log.console = false\n"
                    "log.file.level = info\n" + tls)

    def env(self):
        e = dict(os.environ)
        d = self.dir
        e.update({
            "HOME": os.path.join(d, "home"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": os.path.join(d, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(d, "log"),
            "RABBITMQ_CONFIG_FILE": os.path.join(d, "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(d, "enabled_plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": os.path.join(d, "plugins-expand"),
            "RABBITMQ_PID_FILE": os.path.join(d, "beam.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS":
                "-kernel inet_dist_use_interface {127,0,0,1}",
        })
        # the sanitizers' options are logshipd's, not Erlang's
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LD_PRELOAD"):
            e.pop(k, None)
        return e

    @property
    def url(self):
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2f"

    @property
    def tls_url(self):
        return f"amqps://guest:guest@localhost:{self.tls_port}/%2f"

    def params(self):
        return pika.ConnectionParameters(host="127.0.0.1", port=self.port,
                                         credentials=pika.PlainCredentials("guest", "guest"),
                                         connection_attempts=1, socket_timeout=5,
                                         blocked_connection_timeout=30, heartbeat=60)

    def connect(self):
        return pika.BlockingConnection(self.params())

    def log_tail(self, n=40):
        out = []
        for name in ("out.log",):
            p = os.path.join(self.dir, name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += f.read().splitlines()[-n:]
        logs = os.path.join(self.dir, "log")
        if os.path.isdir(logs):
            for name in sorted(os.listdir(logs)):
                if name.endswith(".log"):
                    with open(os.path.join(logs, name), errors="replace") as f:
                        out += [f"{name}: {l}" for l in f.read().splitlines()[-n:]]
        return "\n".join(out)

    def start(self, timeout=120):
        """Starts the node and waits until it takes an AMQP connection."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        pidfile = os.path.join(self.dir, "beam.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        out = open(os.path.join(self.dir, "out.log"), "a")
        self.proc = subprocess.Popen([os.path.join(RABBIT_BIN, "rabbitmq-server")],
                                     env=self.env(), cwd=self.dir, stdout=out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        out.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited {self.proc.returncode}:\n"
                                   + self.log_tail())
            if port_open(self.port):
                try:
                    self.connect().close()
                    return self
                except Exception:
                    pass
            time.sleep(0.2)
        raise RuntimeError("rabbitmq-server did not come up:\n" + self.log_tail())

    def beam_pid(self):
        """The Erlang VM's pid (the shell script's child), from its pid file."""
        path = os.path.join(self.dir, "beam.pid")
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                with open(path) as f:
                    return int(f.read().strip())
            except (OSError, ValueError):
                time.sleep(0.05)
        raise RuntimeError("no pid file from rabbitmq-server")

    def _wait_gone(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        end = time.monotonic() + timeout
        while port_open(self.port) and time.monotonic() < end:
            time.sleep(0.05)

    def kill9(self):
        """kill -9 of the broker: no chance to sync or say goodbye."""
        os.kill(self.beam_pid(), signal.SIGKILL)
        self._wait_gone(30)

    def stop(self, timeout=60):
        """A clean stop (what rabbitmqctl stop does: the VM's SIGTERM)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.beam_pid(), signal.SIGTERM)
        except (ProcessLookupError, RuntimeError):
            pass
        self._wait_gone(timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self):
        try:
            self.stop()
        finally:
            # its own epmd (on its own port), and nothing else
            subprocess.run([EPMD, "-port", str(self.epmd_port), "-kill"],
                           env=self.env(), capture_output=True, timeout=10)
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers for the tests -------------------------------------------
    def declare(self, exchange, queue, patterns):
        """A durable topic exchange and a durable queue bound to it."""
        with self.connect() as c:
            ch = c.channel()
            ch.exchange_declare(exchange, exchange_type="topic", durable=True)
            ch.queue_declare(queue, durable=True)
            for p in patterns:
                ch.queue_bind(queue, exchange, routing_key=p)

    def queue_count(self, queue):
        with self.connect() as c:
            return c.channel().queue_declare(queue, passive=True).method.message_count

    def drain(self, queue, want=None, timeout=60, idle=1.0):
        """Takes every message of the queue: [(properties, body)]. Stops when
        the queue has been empty for `idle` seconds once `want` messages
        (when given) have come, or at the timeout."""
        got = []
        end = time.monotonic() + timeout
        with self.connect() as c:
            ch = c.channel()
            ch.basic_qos(prefetch_count=2000)
            for method, props, body in ch.consume(queue, auto_ack=True,
                                                  inactivity_timeout=idle):
                if method is not None:
                    got.append((props, body))
                elif want is None or len(got) >= want:
                    break
                if time.monotonic() > end:
                    break
            ch.cancel()
        return got

    def delete(self, exchange=None, queues=()):
        with self.connect() as c:
            ch = c.channel()
            for q in queues:
                ch.queue_delete(q)
            if exchange:
                ch.exchange_delete(exchange)
