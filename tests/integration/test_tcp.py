"""Raw TCP input (plain lines and the acknowledged mode), connection limits,
idle timeouts, and backpressure when the store cannot take records."""
import json
import socket
import subprocess
import threading
import time

import pytest

from test_store import mount_tmpfs
from test_syslog import wait_for


@pytest.fixture
def fs64(tmp_path):
    """A 64 MiB filesystem: room for more than the socket buffers hold."""
    mnt = mount_tmpfs(tmp_path / "mnt", "64m")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def tcp(server):
    return socket.create_connection(("127.0.0.1", server.ports["tcp"]), timeout=10)


def test_plain_lines(server):
    with tcp(server) as s:
        s.sendall(b'{"msg":"json line","level":"warn","app":"svc","user":7}\n'
                  b"a text line\r\n"
                  b"{not json\n"
                  b"\n"
                  b"last line without newline")
    got = wait_for(server, 4)
    assert [(g["msg"], g["level"], g["app"]) for g in got] == [
        ("json line", "warning", "svc"), ("a text line", "info", "default"),
        ("{not json", "info", "default"), ("last line without newline", "info", "default")]
    assert got[0]["fields"] == {"user": 7}
    assert "invalid JSON" in got[2]["fields"]["parse_error"]
    assert got[1]["host"] == "127.0.0.1"
    assert server.metrics()['logship_parse_errors_total{input="tcp"}'] == 1


def test_unknown_levels_are_counted_in_both_modes(server):
    """A level no name or number maps to is stored at info with the
    original in fields.level_raw, and counted for the input, in plain lines
    and in acknowledged batches alike."""
    with tcp(server) as s:
        s.sendall(b'{"msg":"odd one","level":"loud"}\n{"msg":"fine","level":"error"}\n')
    got = wait_for(server, 2)
    assert [(g["msg"], g["level"]) for g in got] == [("odd one", "info"), ("fine", "error")]
    assert got[0]["fields"]["level_raw"] == "loud"
    key = 'logship_records_unknown_level_total{input="tcp"}'
    assert server.metrics()[key] == 1
    with tcp(server) as s:
        f = s.makefile("rwb")
        hello(f, "node-odd")
        send_batch(f, 1, [{"msg": "odd two", "level": "shouty"}, {"msg": "ok", "level": "info"}])
        assert json.loads(f.readline())["logship"] == "ack"
    assert server.metrics()[key] == 2


def hello(f, producer):
    f.write((json.dumps({"logship": "hello", "version": 1, "producer": producer}) + "\n").encode())
    f.flush()
    return json.loads(f.readline())


def send_batch(f, n, records):
    f.write((json.dumps({"logship": "batch", "batch": n, "count": len(records)}) + "\n").encode())
    for r in records:
        f.write((json.dumps(r) + "\n").encode())
    f.flush()


def test_acknowledged_mode(server):
    with tcp(server) as s:
        f = s.makefile("rwb")
        h = hello(f, "node-1")
        assert h == {"logship": "hello", "version": 1, "last_seq": 0, "last_batch": 0,
                     "producer": "node-1"}
        # pipelined batches are answered in order
        for n in range(1, 6):
            send_batch(f, n, [{"msg": f"b{n}.{i}"} for i in range(10)])
        acks = [json.loads(f.readline()) for _ in range(5)]
        assert [a["batch"] for a in acks] == [1, 2, 3, 4, 5]
        assert [a["first_seq"] for a in acks] == [1, 11, 21, 31, 41]
        assert all(a["logship"] == "ack" and a["last_seq"] == a["first_seq"] + 9 for a in acks)
    # a reconnecting sender learns what was stored and resends the rest
    with tcp(server) as s:
        f = s.makefile("rwb")
        h = hello(f, "node-1")
        assert h["last_batch"] == 5 and h["last_seq"] == 50
        send_batch(f, 5, [{"msg": f"b5.{i}"} for i in range(10)])  # its ack was lost
        a = json.loads(f.readline())
        assert a == {"logship": "ack", "batch": 5, "first_seq": 41, "last_seq": 50,
                     "duplicate": True}
        send_batch(f, 6, [{"msg": "b6.0"}])
        assert json.loads(f.readline())["first_seq"] == 51
    assert len(server.logs(limit=100)) == 51


def test_acknowledged_mode_protocol_error_closes(server):
    with tcp(server) as s:
        f = s.makefile("rwb")
        hello(f, "node-2")
        f.write(b"this is not a batch header\n")
        f.flush()
        err = json.loads(f.readline())
        assert err["logship"] == "error" and "batch header" in err["error"]
        assert f.readline() == b""  # closed
    with tcp(server) as s:
        f = s.makefile("rwb")
        f.write(b'{"logship":"hello","version":1,"producer":"has space"}\n')
        f.flush()
        assert "producer" in json.loads(f.readline())["error"]


def test_connection_limit(make_server):
    s = make_server("--max-connections", "2")
    keep = [tcp(s), tcp(s)]
    time.sleep(0.2)
    third = tcp(s)
    third.settimeout(5)
    assert third.recv(10) == b""  # closed at once
    third.close()
    m = s.metrics()
    assert m['logship_connections_refused_total{input="tcp"}'] == 1
    assert m['logship_connections_open{input="tcp"}'] == 2
    keep[0].sendall(b"still served\n")
    assert wait_for(s, 1)[0]["msg"] == "still served"
    for k in keep:
        k.close()


def test_idle_timeout(make_server):
    s = make_server("--idle-timeout", "1s")
    c = socket.create_connection(("127.0.0.1", s.ports["syslog-tcp"]), timeout=10)
    c.sendall(b"<14>app: before idle\n")
    t0 = time.time()
    assert c.recv(10) == b""  # the server closes the quiet connection
    assert 0.5 < time.time() - t0 < 5
    c.close()
    assert s.metrics()['logship_connections_idle_closed_total{input="syslog_tcp"}'] == 1
    assert wait_for(s, 1)[0]["msg"] == "before idle"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_backpressure_when_store_fails(make_server, fs64):
    """While the store cannot write, TCP senders are pushed back by the
    kernel (logshipd stops reading) and nothing they sent is lost; UDP
    datagrams are dropped and counted."""
    filler = fs64 / "filler"
    filler.write_bytes(b"\0" * (60 << 20))  # 4 MiB left
    s = make_server("--segment-size", "1M", data_dir=fs64 / "data")
    line = "z" * 150
    sent = []
    blocked = threading.Event()
    done = threading.Event()

    def sender():
        with socket.create_connection(("127.0.0.1", s.ports["tcp"])) as c:
            c.settimeout(None)
            # 30 MB: more than the free space and the socket buffers together,
            # and it all fits once the filler is gone
            for i in range(190000):
                msg = f"{i} {line}"
                c.sendall((msg + "\n").encode())
                sent.append(msg)
            done.set()

    t = threading.Thread(target=sender)
    t.start()
    # the disk fills; the sender must then stall rather than the server buffer
    deadline = time.time() + 30
    while time.time() < deadline:
        m = s.metrics()
        if m["logship_store_failed"] == 1:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the store never failed")
    # the socket buffers fill, then the sender stalls for good
    deadline = time.time() + 15
    stalled_at = None
    while time.time() < deadline and not done.is_set():
        n = len(sent)
        time.sleep(0.5)
        if len(sent) == n:
            stalled_at = n
            break
    assert stalled_at is not None, "the sender was not pushed back"
    time.sleep(1)
    assert len(sent) == stalled_at and not done.is_set()
    assert rss_kb(s.proc.pid) < 300 * 1024
    # UDP cannot be pushed back: drops are counted
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(50):
        u.sendto(b"<14>app: udp while full", ("127.0.0.1", s.ports["syslog-udp"]))
    time.sleep(0.5)
    assert s.metrics()['logship_records_dropped_total{input="syslog_udp"}'] == 50
    # space comes back: everything the sender wrote arrives, in order
    filler.unlink()
    t.join(60)
    assert done.is_set()
    got = wait_for(s, len(sent), timeout=60, limit=200000)
    assert [g["msg"] for g in got] == sent, s.log_text()[-3000:] + str(s.metrics())
