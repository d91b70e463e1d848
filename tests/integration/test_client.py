"""liblogship against the real logshipd (and a deliberately slow stand-in):
slow and absent servers, a server killed under load, the three overflow
policies, the disk spool across an application restart, many threads,
fork, the example program, and `logship send` (message, stdin, a followed
file across rotation and restarts).

The library is driven by tests/integration/clients/client_driver.c, which
logs "<prefix> t<thread> <i>" messages and prints one JSON line of results.
"""
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import LOGSHIPD, Server

BIN = os.path.dirname(LOGSHIPD)
DRIVER = os.path.join(BIN, "client_driver")
LOGSHIP = os.path.join(BIN, "logship")
EXAMPLE = os.path.join(BIN, "example_hello")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url(port):
    return f"tcp://127.0.0.1:{port}"


def run_driver(*args, timeout=120):
    r = subprocess.run([DRIVER, *map(str, args)], capture_output=True, timeout=timeout, text=True)
    outs = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return r, outs


def start_driver(*args):
    return subprocess.Popen([DRIVER, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_logged(p, timeout=60):
    """Waits until the driver's calls have returned (it is then in close)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = p.stderr.readline()
        if line.startswith("logged") or not line:
            return
    pytest.fail("the driver did not finish logging")


def finish_driver(p, timeout=120):
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, f"driver exited {p.returncode}:\n{err}\n{out}"
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def all_logs(server, n, timeout=30):
    """Every stored record once at least n are there (oldest first)."""
    deadline = time.time() + timeout
    while True:
        got = server.logs(limit=1000000)
        if len(got) >= n or time.time() > deadline:
            return got
        time.sleep(0.1)


def split(records):
    """(messages of normal records, total count of the drop notices)"""
    msgs, dropped = [], 0
    for r in records:
        if "logship_dropped" in r.get("fields", {}):
            assert r["level"] == "warning" and "dropped" in r["msg"]
            dropped += int(r["fields"]["logship_dropped"])
        else:
            msgs.append(r["msg"])
    return msgs, dropped


def expect(prefix, n, thread=0, start=0):
    return [f"{prefix} t{thread} {i}" for i in range(start, n)]


class SlowAckServer:
    """logshipd's acknowledged TCP protocol, answering every batch `delay`
    seconds after it arrived, or once `gate` (an Event) is set (the records
    are kept here, in arrival order, and their bytes counted; a batch it
    already has is answered as a duplicate)."""

    def __init__(self, delay, gate=None):
        self.delay = delay
        self.gate = gate
        self.bytes = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.records = []
        self.seen = {}
        self.acked_at = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        f = c.makefile("rb")
        hello = json.loads(f.readline())
        prod = hello["producer"]
        c.sendall(json.dumps({"logship": "hello", "version": 1, "last_seq": 0,
                              "last_batch": 0, "producer": prod}).encode() + b"\n")
        acks = queue.Queue()

        def answer():
            while True:
                item = acks.get()
                if item is None:
                    return
                due, line = item
                time.sleep(max(0, due - time.time()))
                if self.gate is not None:
                    self.gate.wait()
                try:
                    c.sendall(line)
                except OSError:
                    return
                with self.lock:
                    self.acked_at.append(time.time())

        t = threading.Thread(target=answer, daemon=True)
        t.start()
        while True:
            head = f.readline()
            if not head:
                break
            h = json.loads(head)
            raw = [f.readline() for _ in range(h["count"])]
            lines = [json.loads(x) for x in raw]
            with self.lock:
                self.bytes += sum(map(len, raw))
                key = (prod, h["batch"])
                dup = key in self.seen
                if not dup:
                    self.seen[key] = len(lines)
                    self.records += [r["msg"] for r in lines]
            ack = {"logship": "ack", "batch": h["batch"], "first_seq": 1, "last_seq": len(lines)}
            if dup:
                ack["duplicate"] = True
            acks.put((time.time() + self.delay, json.dumps(ack).encode() + b"\n"))
        acks.put(None)
        c.close()

    def close(self):
        self.closed = True
        self.sock.close()


def test_slow_server_does_not_slow_the_caller():
    """Every batch is answered 5 s after it came: the 1,000 log calls still
    return at once, and the records arrive, in order."""
    slow = SlowAckServer(5.0)
    try:
        r, out = run_driver("--url", url(slow.port), "--count", 1000, "--close-timeout", 30000,
                            timeout=60)
        assert r.returncode == 0, r.stderr
        res = out[0]
        assert res["ok"] == 1000
        assert res["log_ns"] < 1e9, res  # 1,000 calls, in total
        assert res["close_rc"] == 0 and res["acked"] == 1000
        assert res["close_ns"] + res["log_ns"] >= 0 and slow.acked_at  # it did wait for acks
        with slow.lock:
            assert slow.records == expect("m", 1000)
    finally:
        slow.close()


def test_the_window_covers_an_ack_lag():
    """The server holds its acks (as a store that is behind for a moment
    does): the sender goes on sending until max_inflight full batches,
    8 MiB of records, are in flight, rather than leaving them in the queue,
    where a lag of a fraction of a second at 200,000 records/s filled the
    default 8 MiB queue and dropped records with the server up (one batch
    was 256 KiB: 2 MiB in flight). Once the acks come, every record arrives
    once and none was dropped."""
    gate = threading.Event()
    held = SlowAckServer(0, gate=gate)
    p = start_driver("--url", url(held.port), "--count", 60000, "--pad", 200,
                     "--queue-bytes", 64 << 20, "--policy", "drop_oldest",
                     "--close-timeout", 120000)
    try:
        wait_logged(p)
        # the sender stops when its window is full: wait until the bytes
        # reach it, or have not grown for 3 s (the window the sender keeps)
        last, still = -1, 0
        for _ in range(600):
            with held.lock:
                now = held.bytes
            if now >= 7 << 20:
                break
            still = still + 1 if now == last and now > 0 else 0
            if still >= 30:
                break
            last = now
            time.sleep(0.1)
        with held.lock:
            in_flight = held.bytes
        assert in_flight >= 7 << 20, in_flight  # 8 batches of 1 MiB (the last may be short)
        gate.set()
        res = finish_driver(p)[0]
        assert res["ok"] == 60000 and res["dropped"] == 0 and res["acked"] == 60000
        with held.lock:
            assert [m.split(" x")[0] for m in held.records] == expect("m", 60000)
    finally:
        gate.set()
        if p.poll() is None:
            p.kill()
        held.close()


def test_server_down_at_start(tmp_path):
    """Nothing listens yet: the records wait in the queue, the client retries,
    and when logshipd comes up they all arrive, in order."""
    port = free_port()
    p = start_driver("--url", url(port), "--count", 3000, "--close-timeout", 60000,
                     "--backoff-max", 200)
    time.sleep(1.5)
    s = Server(tmp_path / "data", ["--tcp", f"127.0.0.1:{port}"]).start()
    try:
        res = finish_driver(p)[0]
        assert res["ok"] == 3000 and res["close_rc"] == 0 and res["acked"] == 3000
        msgs, dropped = split(all_logs(s, 3000))
        assert msgs == expect("m", 3000) and dropped == 0
    finally:
        assert s.stop() == 0


def test_server_killed_under_load(tmp_path):
    """logshipd is SIGKILLed while a client sends and is started again on
    its data: every record is stored once (the batches resent after the
    restart carry their producer id and number, the server drops the ones
    it had), in order."""
    port = free_port()
    args = ["--tcp", f"127.0.0.1:{port}"]
    s = Server(tmp_path / "data", args).start()
    p = start_driver("--url", url(port), "--count", 20000, "--interval-us", 100,
                     "--policy", "block", "--block-timeout", 60000, "--close-timeout", 60000,
                     "--backoff-max", 200, "--batch-records", 200)
    try:
        time.sleep(0.8)
        assert len(s.logs(limit=10)) > 0  # it was under way
        s.kill()
        time.sleep(1.0)
        s = Server(tmp_path / "data", args).start()
        res = finish_driver(p)[0]
        assert res["ok"] == 20000 and res["close_rc"] == 0
        assert res["connects"] >= 2
        got = all_logs(s, 20000)
        msgs, dropped = split(got)
        assert len(msgs) == 20000 and len(set(msgs)) == 20000, "lost or duplicated"
        assert msgs == expect("m", 20000)
        assert dropped == 0
    finally:
        if p.poll() is None:
            p.kill()
        assert s.stop() == 0


def overflow_run(tmp_path, policy, count, *extra, server_after=None):
    """Logs count records into a 64 KiB queue while no server listens, then
    (when the calls returned, or after server_after seconds) starts
    logshipd; returns (driver result, stored messages, notices' sum)."""
    port = free_port()
    p = start_driver("--url", url(port), "--count", count, "--queue-bytes", 65536,
                     "--policy", policy, "--close-timeout", 60000, "--backoff-max", 200, *extra)
    # the calls return at once (or after their block timeout); then close waits
    if server_after is None:
        wait_logged(p)
    else:
        time.sleep(server_after)
    s = Server(tmp_path / "data", ["--tcp", f"127.0.0.1:{port}"]).start()
    try:
        res = finish_driver(p)[0]
        assert res["close_rc"] == 0
        got = all_logs(s, res["acked"])
        assert len(got) == res["acked"]
        msgs, dropped = split(got)
        return res, msgs, dropped
    finally:
        assert s.stop() == 0


def test_overflow_drop_newest(tmp_path):
    res, msgs, dropped = overflow_run(tmp_path, "drop_newest", 3000)
    kept = res["ok"]
    assert 300 < kept < 2000
    assert res["full"] == 3000 - kept == res["dropped_newest"] == res["dropped"]
    assert msgs == expect("m", kept)  # the first ones stay
    assert dropped == 3000 - kept  # and the server is told how many went


def test_overflow_drop_oldest(tmp_path):
    res, msgs, dropped = overflow_run(tmp_path, "drop_oldest", 3000)
    assert res["ok"] == 3000  # every call succeeds
    kept = len(msgs)
    assert 300 < kept < 2000
    assert res["dropped_oldest"] == 3000 - kept == res["dropped"]
    assert msgs == expect("m", 3000, start=3000 - kept)  # the newest stay
    assert dropped == 3000 - kept


def test_overflow_block_timeout(tmp_path):
    """With 1 KiB records about 60 fit: the rest wait 100 ms each, then go."""
    res, msgs, dropped = overflow_run(tmp_path, "block", 70, "--pad", 1000,
                                      "--block-timeout", 100)
    kept = res["ok"]
    assert 40 < kept < 70
    assert res["timeout"] == 70 - kept == res["dropped_timeout"] == res["dropped"]
    assert res["log_ns"] >= (70 - kept) * 100e6 * 0.9
    assert [m.split(" x")[0] for m in msgs] == expect("m", kept)
    assert dropped == 70 - kept


def test_overflow_block_waits_for_the_server(tmp_path):
    """LOGSHIP_BLOCK with a long timeout: the callers wait for the server
    and nothing is dropped."""
    res, msgs, dropped = overflow_run(tmp_path, "block", 2000, "--pad", 1000,
                                      "--block-timeout", 60000, server_after=1.5)
    assert res["ok"] == 2000 and res["dropped"] == 0 and dropped == 0
    assert res["log_ns"] > 1e9  # they did wait
    assert [m.split(" x")[0] for m in msgs] == expect("m", 2000)


def spool_files(d):
    return [f for f in os.listdir(d) if f.startswith("spool-")]


def test_spool_survives_restart(tmp_path):
    """No server: the first run spools everything at close; a second run on
    the same spool directory sends it (under the first run's producer id)
    before its own records."""
    spool = tmp_path / "spool"
    port = free_port()
    r, out = run_driver("--url", url(port), "--spool", spool, "--count", 3000, "--prefix", "a",
                        "--close-timeout", 500, "--queue-bytes", 65536)
    assert r.returncode == 0, r.stderr
    res = out[0]
    assert res["ok"] == 3000 and res["dropped"] == 0  # the spool took the overflow
    assert res["close_rc"] == 0 and res["spooled"] == 3000 and res["acked"] == 0
    assert spool_files(spool)
    s = Server(tmp_path / "data", ["--tcp", f"127.0.0.1:{port}"]).start()
    try:
        r, out = run_driver("--url", url(port), "--spool", spool, "--count", 1000,
                            "--prefix", "b", "--close-timeout", 30000)
        assert r.returncode == 0, r.stderr
        assert out[0]["close_rc"] == 0
        msgs, dropped = split(all_logs(s, 4000))
        assert msgs == expect("a", 3000) + expect("b", 1000)
        assert dropped == 0
        assert spool_files(spool) == []  # all acknowledged: deleted
        producers = {r["pid"] for r in s.logs(limit=100000)}
        assert len(producers) == 2
    finally:
        assert s.stop() == 0


def test_spool_survives_a_crash(tmp_path):
    """The application is SIGKILLed while the server is down: what it logged
    was spooled as it went, and the next run delivers it once."""
    spool = tmp_path / "spool"
    port = free_port()
    p = start_driver("--url", url(port), "--spool", spool, "--count", 2000, "--prefix", "a",
                     "--close-timeout", 60000)
    wait_logged(p)
    time.sleep(1.0)  # spooled as it went; now it waits in close for a server
    assert spool_files(spool)
    p.kill()
    p.wait()
    s = Server(tmp_path / "data", ["--tcp", f"127.0.0.1:{port}"]).start()
    try:
        r, out = run_driver("--url", url(port), "--spool", spool, "--count", 10, "--prefix", "b",
                            "--close-timeout", 30000)
        assert r.returncode == 0, r.stderr
        msgs, _ = split(all_logs(s, 2010))
        assert msgs == expect("a", 2000) + expect("b", 10)
    finally:
        assert s.stop() == 0


def test_spool_in_use(tmp_path):
    spool = tmp_path / "spool"
    port = free_port()
    p = start_driver("--url", url(port), "--spool", spool, "--count", 1, "--close-timeout", 3000)
    time.sleep(0.5)
    r, _ = run_driver("--url", url(port), "--spool", spool, "--count", 1)
    assert r.returncode == 1 and "spool directory in use" in r.stderr
    p.wait(30)


def test_many_threads(server):
    """Eight threads at once: every record arrives once, each thread's in
    order."""
    r, out = run_driver("--url", url(server.ports["tcp"]), "--threads", 8, "--count", 5000,
                        "--close-timeout", 60000)
    assert r.returncode == 0, r.stderr
    assert out[0]["ok"] == 40000 and out[0]["acked"] == 40000
    msgs, _ = split(all_logs(server, 40000))
    assert len(msgs) == 40000
    for t in range(8):
        assert [m for m in msgs if m.startswith(f"m t{t} ")] == expect("m", 5000, thread=t)


def test_fork(server):
    """The logger is in use when the process forks: the parent goes on, the
    child gets a fresh logger of its own, and both deliver everything."""
    r, out = run_driver("--url", url(server.ports["tcp"]), "--fork", "--count", 2000,
                        "--threads", 2, "--close-timeout", 30000)
    assert r.returncode == 0, r.stderr
    res = {o["who"]: o for o in out}
    assert res["parent"]["close_rc"] == 0 and res["child"]["close_rc"] == 0
    assert res["child"]["acked"] == 4000  # the child's counters are its own
    got = all_logs(server, 8001)
    msgs, _ = split(got)
    assert msgs.count("before fork") == 1  # the parent's record, sent once
    for who in ("m", "child"):
        for t in range(2):
            assert [m for m in msgs if m.startswith(f"{who} t{t} ")] == expect(who, 2000, t)
    pids = {r["msg"].split(" ")[0]: r["pid"] for r in got}
    assert pids["m"] != pids["child"]


def test_echo_and_min_level(server):
    r, out = run_driver("--url", url(server.ports["tcp"]), "--count", 3, "--echo",
                        "--pattern", "<%L> %m", "--min-level", "warning")
    assert r.returncode == 0
    assert r.stderr == "logged main\n"  # info is below the minimum: not echoed, not sent
    assert out[0]["queued"] == 0
    r, out = run_driver("--url", url(server.ports["tcp"]), "--count", 3, "--echo",
                        "--pattern", "<%L> %m")
    echoed = [l for l in r.stderr.splitlines() if not l.startswith("logged")]
    assert echoed == ["<INFO> m t0 0", "<INFO> m t0 1", "<INFO> m t0 2"]


def test_example_program(server):
    r = subprocess.run([EXAMPLE, url(server.ports["tcp"])], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert "[INFO] hello from liblogship" in r.stderr
    got = all_logs(server, 3)
    assert [g["msg"] for g in got] == ["hello from liblogship", "4 of 4 workers busy",
                                       "request done"]
    assert got[2]["fields"] == {"example": "hello.c", "user": "42", "path": "/checkout"}
    assert got[1]["level"] == "warning" and got[0]["app"] == "hello"


# -- logship send ---------------------------------------------------------

def send(server, *args, input=None, timeout=60, port=None):
    env = {k: v for k, v in os.environ.items() if k not in ("LOGSHIP_TCP", "LOGSHIP_SERVER")}
    return subprocess.run([LOGSHIP, "send", "--server", url(port or server.ports["tcp"]),
                           *map(str, args)], input=input, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_send_message(server):
    r = send(server, "--app", "backup", "--level", "warning", "-F", "disk=sda", "disk", "almost",
             "full")
    assert r.returncode == 0, r.stderr
    r = send(server, "-p", "user.err", "-t", "ops.alerts", "second")
    assert r.returncode == 0, r.stderr
    got = all_logs(server, 2)
    assert [(g["msg"], g["level"], g["app"], g["topic"]) for g in got] == [
        ("disk almost full", "warning", "backup", "backup.warning"),
        ("second", "error", "logship", "ops.alerts")]
    assert got[0]["fields"] == {"disk": "sda"}


def test_send_stdin(server):
    lines = "".join(f"line {i}\n" for i in range(5000)) + "\n\nlast without newline"
    r = send(server, "--app", "batch", input=lines)
    assert r.returncode == 0, r.stderr
    got = all_logs(server, 5001)
    assert [g["msg"] for g in got] == [f"line {i}" for i in range(5000)] + ["last without newline"]


def test_send_errors(server):
    r = send(server, "--level", "loud", "x")
    assert r.returncode == 2 and "unknown level" in r.stderr
    r = send(server, "--follow", "x")
    assert r.returncode == 2 and "--follow needs --file" in r.stderr
    r = send(server, "--field", "novalue", "x")
    assert r.returncode == 2
    r = subprocess.run([LOGSHIP, "send", "--server", "ftp://127.0.0.1:1", "x"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "expected http://HOST[:PORT] or tcp://HOST:PORT" in r.stderr
    port = free_port()
    r = send(server, "--timeout", "500", "nobody listens", port=port)
    assert r.returncode == 1
    assert f"cannot connect to 127.0.0.1:{port}: Connection refused" in r.stderr
    r = subprocess.run([LOGSHIP, "send", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--follow" in r.stdout


def test_send_file_once(server, tmp_path):
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)) + "partial")
    state = tmp_path / "state"
    r = send(server, "--file", log, "--state", state)
    assert r.returncode == 0, r.stderr
    assert [g["msg"] for g in all_logs(server, 101)] == [f"line {i}" for i in range(100)] + [
        "partial"]
    # again: the server has it all; nothing is sent twice
    r = send(server, "--file", log, "--state", state)
    assert r.returncode == 0, r.stderr
    with open(log, "a") as f:
        f.write(" more\nnext\n")
    r = send(server, "--file", log, "--state", state)
    assert r.returncode == 0, r.stderr
    time.sleep(0.5)
    msgs = [g["msg"] for g in server.logs(limit=1000)]
    assert msgs == [f"line {i}" for i in range(100)] + ["partial", " more", "next"]


def test_send_file_follow_rotation_and_restarts(server, tmp_path):
    """A followed file grows, is rotated (renamed, a new one created) and
    truncated; logship send is killed and started again twice, once while
    the file rotates. Every line arrives exactly once, in order."""
    log = tmp_path / "app.log"
    state = tmp_path / "state"
    sent = []
    n = [0]

    def write(k, path=log):
        with open(path, "a") as f:
            for _ in range(k):
                line = f"entry {n[0]}"
                f.write(line + "\n")
                sent.append(line)
                n[0] += 1

    def follow():
        return subprocess.Popen([LOGSHIP, "send", "--server", url(server.ports["tcp"]),
                                 "--file", str(log), "--follow", "--state", str(state)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def arrived(k, timeout=30):
        got = all_logs(server, k, timeout)
        return [g["msg"] for g in got]

    write(500)
    p = follow()
    assert arrived(500) == sent
    write(300)
    assert arrived(800) == sent
    # killed hard while lines keep coming: on restart it resumes exactly
    write(200)
    p.kill()
    p.wait()
    write(200)
    p = follow()
    assert arrived(1200) == sent
    # rotation: rename and create
    os.rename(log, tmp_path / "app.log.1")
    write(100, tmp_path / "app.log.1")  # the old file still gets a few
    write(300)
    assert arrived(1600) == sent  # the old file is read to its end first
    # killed, and the file rotates while it is away
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    write(50)
    os.rename(log, tmp_path / "app.log.2")
    write(70)
    p = follow()
    assert arrived(len(sent)) == sent
    # truncation (copytruncate)
    with open(log, "w"):
        pass
    write(40)
    assert arrived(len(sent)) == sent
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=30)
    assert p.returncode == 0
    time.sleep(0.5)
    assert len(server.logs(limit=100000)) == len(sent)
