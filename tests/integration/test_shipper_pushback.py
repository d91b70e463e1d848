"""The server pushing back on the shippers' routes that the other tests'
pushback cases (test_elasticsearch, test_otlp, test_forward, test_tcp,
test_store) do not reach: Loki push, GELF over HTTP and over TCP, and the
systemd journal upload.

- The store failing (a full disk: small_disk, a real tmpfs or the store's
  quota hook): the HTTP routes answer 503 with Retry-After and store nothing
  of the refused request; a client that retries as told has every record
  stored once, in order, when space comes back.
- The bodies in memory full (--max-body-memory): the same 503 with
  Retry-After and that reason, nothing of that request stored, and the
  retry stored.
- GELF over TCP cannot be answered: logshipd stops reading while the store
  cannot write, the kernel pushes the sender back, and nothing it wrote is
  lost once space comes back (as test_tcp's raw TCP input).
- A journal upload cut by the full disk is sent again whole (as
  systemd-journal-upload does from its saved cursor): the entries stored
  before the failure are not stored twice."""
import json
import socket
import struct
import threading
import time

import pytest
import requests

from test_store import all_records, mount_tmpfs, post_batch, small_disk  # noqa: F401
from httpraw import Conn, request

PUSH = "/loki/api/v1/push"
JOURNAL_CT = {"Content-Type": "application/vnd.fdo.journal"}
SEQID = "5eed0123456789abcdef0123456789ab"


def fill(s):
    """NDJSON batches until the store refuses one; the records it took."""
    for n in range(400):
        if post_batch(s, [{"msg": f"{n}.{i} {'x' * 200}"} for i in range(50)]).status_code == 503:
            return len(all_records(s))
    pytest.fail("the disk never filled")


def refused(r):
    assert r.status_code == 503, (r.status_code, r.text)
    assert r.headers.get("Retry-After") == "1"


def retrying(send, deadline_s=30):
    """Sends as a client that honours 503 + Retry-After (shortened here)
    does, until ok(response); returns (the final response, how many 503s)."""
    deadline = time.time() + deadline_s
    n503 = 0
    while True:
        r = send()
        if r.status_code != 503 or time.time() > deadline:
            return r, n503
        refused(r)
        n503 += 1
        time.sleep(0.05)


def loki_body(first, n):
    return json.dumps({"streams": [{
        "stream": {"app": "lokisvc", "host": "lhost", "level": "warn"},
        "values": [[str(1764684000000000000 + i * 1000), f"loki line {i}"]
                   for i in range(first, first + n)]}]})


def gelf(i):
    return json.dumps({"version": "1.1", "host": "ghost", "short_message": f"gelf {i}",
                       "level": 4, "_app": "gelfsvc", "_n": i})


def journal_entry(i, msg):
    return (f"__CURSOR=s={SEQID};i={i + 1:x}\n__REALTIME_TIMESTAMP={1764684000000000 + i}\n"
            f"_BOOT_ID=0123456789abcdef0123456789abcdef\nSYSLOG_IDENTIFIER=jsvc\n"
            f"PRIORITY=6\nMESSAGE={msg}\n\n").encode()


# ---- the store failing ------------------------------------------------------

def test_loki_push_while_the_disk_is_full(make_server, small_disk):  # noqa: F811
    s = make_server("--segment-size", "256K", data_dir=small_disk.data)
    small_disk.check(s)
    before = fill(s)
    send = lambda: requests.post(s.url + PUSH, data=loki_body(0, 200),  # noqa: E731
                                 headers={"Content-Type": "application/json"}, timeout=10)
    r = send()
    refused(r)
    assert "store" in r.text
    assert len(all_records(s)) == before  # nothing of the refused push
    out = {}
    t = threading.Thread(target=lambda: out.update(r=retrying(send)))
    t.start()
    time.sleep(0.3)  # the client is being refused meanwhile
    small_disk.free()
    t.join(60)
    r, n503 = out["r"]
    assert r.status_code == 204 and n503 >= 1
    got = all_records(s)[before:]
    assert [g["msg"] for g in got] == [f"loki line {i}" for i in range(200)]
    assert {(g["app"], g["host"], g["level"]) for g in got} == {("lokisvc", "lhost", "warning")}


def test_gelf_http_while_the_disk_is_full(make_server, small_disk):  # noqa: F811
    s = make_server("--segment-size", "256K", data_dir=small_disk.data)
    small_disk.check(s)
    before = fill(s)
    r = requests.post(s.url + "/gelf", data=gelf(-1), timeout=10)
    refused(r)
    assert len(all_records(s)) == before
    results = []

    def client():
        for i in range(30):
            results.append(retrying(lambda: requests.post(s.url + "/gelf", data=gelf(i),
                                                          timeout=10)))

    t = threading.Thread(target=client)
    t.start()
    time.sleep(0.3)
    small_disk.free()
    t.join(60)
    assert [r.status_code for r, _ in results] == [202] * 30
    assert results[0][1] >= 1  # the first message was refused before space came back
    got = all_records(s)[before:]
    assert [g["msg"] for g in got] == [f"gelf {i}" for i in range(30)]
    assert [g["fields"]["n"] for g in got] == list(range(30))


def test_journal_upload_cut_by_the_full_disk_is_resent_once(make_server, small_disk):  # noqa: F811
    """2.8 MB of entries into about 2 MiB of free space: the upload is
    answered 503 once the store fails, the entries before that are kept;
    sent again whole once there is space, each entry is stored once."""
    s = make_server("--segment-size", "256K", data_dir=small_disk.data)
    small_disk.check(s)
    n = 4200  # ~3,200 fit in the 2 MiB; the rest fit in what is freed
    body = b"".join(journal_entry(i, f"j{i} {'y' * 300}") for i in range(n))
    r = requests.post(s.url + "/upload", data=body, headers=JOURNAL_CT, timeout=60)
    refused(r)
    kept = [g["msg"].split()[0] for g in all_records(s)]
    assert 0 < len(kept) < n and kept == [f"j{i}" for i in range(len(kept))]
    small_disk.free()
    r, _ = retrying(lambda: requests.post(s.url + "/upload", data=body, headers=JOURNAL_CT,
                                          timeout=60))
    assert r.status_code == 200 and r.text == "OK.\n"
    got = all_records(s)
    assert [g["msg"].split()[0] for g in got] == [f"j{i}" for i in range(n)]
    assert {(g["app"], g["level"]) for g in got} == {("jsvc", "info")}


# ---- the bodies in memory full -----------------------------------------------

@pytest.mark.parametrize("path,ctype,body,ok", [
    (PUSH, "application/json", loki_body(0, 5), 204),
    ("/gelf", "application/json", gelf(0), 202),
])
def test_bodies_in_memory_full(make_server, path, ctype, body, ok):
    """Another push, still arriving, holds most of --max-body-memory: the
    push is refused with 503 and Retry-After, nothing of it stored; retried
    once that one is done (refused itself: it is not a push), it is
    stored."""
    s = make_server("--max-body-memory", "1M", "--max-body", "8M")
    hog = Conn(s.port)
    hog.send(request("POST", path, b"", {"Content-Type": ctype,
                                          "Content-Length": str(700 * 1024)}))
    hog.send(b"a" * (600 * 1024))  # its buffer: 1 MiB
    hog.sock.settimeout(0.5)
    with pytest.raises(socket.timeout):  # no answer yet: its body is held
        hog.sock.recv(1)
    hog.sock.settimeout(10)
    # the push's body is small: it is refused once the hog's is held
    deadline = time.time() + 20
    while True:
        r = requests.post(s.url + path, data=body.encode() + b" " * (64 * 1024),
                          headers={"Content-Type": ctype}, timeout=10)
        if r.status_code == 503 or time.time() > deadline:
            break
        time.sleep(0.05)
    refused(r)
    assert "--max-body-memory" in r.text  # the reason, not the store's
    # counted as /api/log's refusals are
    assert s.metrics()['logship_http_rejected_total{reason="bodies_in_memory"}'] >= 1
    assert all_records(s) == []
    hog.send(b"a" * (100 * 1024))
    assert hog.reply().status == 400  # not JSON: refused, and its memory given back
    r, _ = retrying(lambda: requests.post(s.url + path, data=body.encode(),
                                          headers={"Content-Type": ctype}, timeout=10))
    assert r.status_code == ok, r.text
    got = [g["msg"] for g in all_records(s)]
    assert got == ([f"loki line {i}" for i in range(5)] if path == PUSH else ["gelf 0"])


# ---- GELF over TCP: the kernel pushes back -------------------------------------

@pytest.fixture
def fs64(tmp_path):
    mnt = mount_tmpfs(tmp_path / "mnt", "64m")
    yield mnt
    import subprocess
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_gelf_tcp_sender_pushed_back_while_the_store_fails(make_server, fs64):
    filler = fs64 / "filler"
    filler.write_bytes(b"\0" * (60 << 20))  # 4 MiB left
    s = make_server("--segment-size", "1M", "--gelf-tcp", "127.0.0.1:0", data_dir=fs64 / "data")
    pad = "z" * 150
    sent = []
    done = threading.Event()

    def sender():
        with socket.create_connection(("127.0.0.1", s.ports["gelf-tcp"])) as c:
            c.settimeout(None)
            # ~45 MB: more than the free space and the socket buffers together,
            # and it fits once the filler is gone
            for i in range(150000):
                c.sendall(json.dumps({"version": "1.1", "host": "h", "short_message":
                                      f"{i} {pad}", "_app": "gtcp"}).encode() + b"\0")
                sent.append(i)
            done.set()

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    deadline = time.time() + 60
    while time.time() < deadline and s.metrics()["logship_store_failed"] != 1:
        time.sleep(0.1)
    assert s.metrics()["logship_store_failed"] == 1, "the store never failed"
    # the socket buffers fill, then the sender stalls for good
    stalled_at = None
    deadline = time.time() + 30
    while time.time() < deadline and not done.is_set():
        n = len(sent)
        time.sleep(0.5)
        if len(sent) == n:
            stalled_at = n
            break
    assert stalled_at is not None, "the sender was not pushed back"
    time.sleep(1)
    assert len(sent) == stalled_at and not done.is_set()
    filler.unlink()
    t.join(120)
    assert done.is_set()
    deadline = time.time() + 60
    got = []
    while time.time() < deadline:
        got = all_records(s)
        if len(got) >= len(sent):
            break
        time.sleep(0.5)
    assert [int(g["msg"].split()[0]) for g in got] == sent
    assert {g["app"] for g in got} == {"gtcp"}
