"""The durable store through the real server: restarts, SIGKILL crashes with
--fsync always, producer retries, a full disk (a real small filesystem, or
the store's test hook), and queries."""
import json
import os
import random
import signal
import subprocess
import threading
import time
import traceback

import pytest
import requests

from conftest import Server


def ndjson(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def all_records(server, **params):
    """Every stored record, streamed as NDJSON."""
    params.setdefault("limit", 1000000)
    params.setdefault("after", 0)
    r = requests.get(server.url + "/api/logs", params=params,
                     headers={"Accept": "application/x-ndjson"}, timeout=120)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines() if line]


def test_records_survive_restart(make_server, tmp_path):
    data = tmp_path / "data"
    s = make_server(data_dir=data)
    st, body = s.post("/api/log", ndjson({"msg": f"r{i}"} for i in range(100)),
                      "application/x-ndjson")
    assert st == 200 and body["last_seq"] == 100
    assert s.stop() == 0
    s = make_server(data_dir=data)
    got = all_records(s)
    assert [g["msg"] for g in got] == [f"r{i}" for i in range(100)]
    st, body = s.post("/api/log", "one more", "text/plain")
    assert body["first_seq"] == 101  # a clean stop leaves no gap
    assert os.path.exists(data / "segments" / "00000000000000000001.log")


def test_crash_with_fsync_always_keeps_every_acked_record(tmp_path):
    """Several clients send acknowledged batches; the server is SIGKILLed at
    random moments, 10 times. After each restart every acknowledged record
    is there exactly once, in order, and seq never goes back."""
    data = tmp_path / "data"
    rng = random.Random(1234)
    acked = {}  # record id -> seq
    high_seq = 0
    for round_no in range(10):
        server = Server(data, ["--fsync", "always"]).start()
        try:
            stored = all_records(server)
            seqs = [r["seq"] for r in stored]
            assert seqs == sorted(set(seqs)), "seqs out of order or repeated"
            ids = [r["msg"] for r in stored]
            assert len(ids) == len(set(ids)), "a record is stored twice"
            by_id = {r["msg"]: r["seq"] for r in stored}
            for rid, seq in acked.items():
                assert by_id.get(rid) == seq, f"round {round_no}: acked {rid} lost or moved"
            if stored:
                assert stored[-1]["seq"] >= high_seq
                high_seq = stored[-1]["seq"]

            stop = threading.Event()
            lock = threading.Lock()
            errors = []  # what went wrong in a client thread, asserted below

            def client(cid):
                n = 0
                try:
                    with requests.Session() as sess:
                        while not stop.is_set():
                            recs = [{"msg": f"c{round_no}.{cid}.{n}.{i}", "app": "crash"}
                                    for i in range(rng.randint(1, 40))]
                            n += 1
                            try:
                                r = sess.post(server.url + "/api/log", data=ndjson(recs),
                                              headers={"Content-Type": "application/x-ndjson"},
                                              timeout=10)
                            except requests.RequestException:
                                return
                            if r.status_code != 200:
                                return
                            body = r.json()
                            if body["accepted"] != len(recs):
                                with lock:
                                    errors.append(f"client {cid}: {body['accepted']} of "
                                                  f"{len(recs)} records accepted")
                                return
                            with lock:
                                for i, rec in enumerate(recs):
                                    acked[rec["msg"]] = body["first_seq"] + i
                except Exception:  # noqa: BLE001 - reported in the test thread
                    with lock:
                        errors.append(f"client {cid}:\n{traceback.format_exc()}")

            threads = [threading.Thread(target=client, args=(c,)) for c in range(4)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 1.5))
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait()
            stop.set()
            for t in threads:
                t.join()
            server.thread.join(5)
            server.proc = None
            assert not errors, f"round {round_no}: " + "\n".join(errors)
        finally:
            if server.proc is not None:
                server.kill()
    assert len(acked) > 100
    server = Server(data, []).start()
    try:
        stored = all_records(server)
        by_id = {r["msg"]: r["seq"] for r in stored}
        assert all(by_id.get(k) == v for k, v in acked.items())
        st, body = server.post("/api/log", "after all crashes", "text/plain")
        assert body["first_seq"] > stored[-1]["seq"]
    finally:
        assert server.stop() == 0


def post_batch(server, records, producer=None, batch=None):
    headers = {"Content-Type": "application/x-ndjson"}
    if producer:
        headers["Logship-Producer"] = producer
        headers["Logship-Batch"] = str(batch)
    return requests.post(server.url + "/api/log", data=ndjson(records), headers=headers,
                         timeout=10)


def test_producer_retry_after_lost_reply_is_stored_once(make_server, tmp_path):
    data = tmp_path / "data"
    s = make_server(data_dir=data)
    recs = [{"msg": f"p{i}"} for i in range(5)]
    r1 = post_batch(s, recs, "host-7.pid-42", 1)
    assert r1.status_code == 200
    # the reply was lost: the producer sends the same batch again
    r2 = post_batch(s, recs, "host-7.pid-42", 1)
    assert r2.status_code == 200
    assert r2.json()["duplicate"] is True
    assert (r2.json()["first_seq"], r2.json()["last_seq"]) == \
        (r1.json()["first_seq"], r1.json()["last_seq"])
    r3 = post_batch(s, [{"msg": "next"}], "host-7.pid-42", 2)
    assert r3.json()["first_seq"] == r1.json()["last_seq"] + 1
    assert s.stop() == 0
    s = make_server(data_dir=data)
    r4 = post_batch(s, recs, "host-7.pid-42", 1)  # also after a restart
    assert r4.json()["duplicate"] is True and r4.json()["first_seq"] == r1.json()["first_seq"]
    assert [g["msg"] for g in all_records(s)] == ["p0", "p1", "p2", "p3", "p4", "next"]
    bad = post_batch(s, recs, "has space", 1)
    assert bad.status_code == 400 and "Logship-Producer" in bad.json()["error"]
    r = requests.post(s.url + "/api/log", data="x\n", headers={
        "Content-Type": "text/plain", "Logship-Producer": "p"})
    assert r.status_code == 400 and "go together" in r.json()["error"]


def mount_tmpfs(path, size):
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): " + r.stderr.strip())
    return path


class SmallDisk:
    """A disk with about 2 MiB free for the data directory, and a way to free
    space on it."""

    def __init__(self, data, free, check=None):
        self.data = data
        self.free = free
        self.check = check or (lambda server: None)


@pytest.fixture(params=["tmpfs", "hook"])
def small_disk(request, tmp_path, monkeypatch):
    """tmpfs: a 3 MiB filesystem of the test's own with 1 MiB taken, filled
    for real (needs root). hook: the store's test hook (src/store/io.h), a
    2 MiB quota on what the store writes, for any user; it needs a test
    build of logshipd (Debug or LOGSHIP_TESTS), which says so at start."""
    if request.param == "tmpfs":
        mnt = mount_tmpfs(tmp_path / "mnt", "3m")
        filler = mnt / "filler"
        filler.write_bytes(b"\0" * (1 << 20))
        yield SmallDisk(mnt / "data", filler.unlink)
        subprocess.run(["umount", "-l", str(mnt)], check=False)
        return
    quota = tmp_path / "quota"
    quota.write_text(str(2 << 20))
    monkeypatch.setenv("LOGSHIP_TEST_DISK_QUOTA", str(quota))

    def check(server):
        if "LOGSHIP_TEST_DISK_QUOTA" not in server.log_text():
            pytest.skip("logshipd is not a test build: it has no disk quota hook")

    yield SmallDisk(tmp_path / "data", quota.unlink, check)


def test_disk_full_is_503_then_recovers(make_server, small_disk):
    s = make_server("--segment-size", "256K", data_dir=small_disk.data)
    small_disk.check(s)
    acked = []
    full_seen = False
    line = "x" * 200
    for n in range(400):
        recs = [{"msg": f"{n}.{i} {line}"} for i in range(50)]
        r = post_batch(s, recs)
        if r.status_code == 503:
            full_seen = True
            assert "No space left" in r.json()["error"]
            break
        assert r.status_code == 200
        acked.extend(rec["msg"] for rec in recs)
    assert full_seen, "the disk never filled"
    st, body = s.request("GET", "/healthz")
    assert st == 503 and json.loads(body)["status"] == "failing"
    # still refusing while full, and nothing stored is damaged
    assert post_batch(s, [{"msg": "while full"}]).status_code == 503
    got = [g["msg"] for g in all_records(s)]
    assert got == acked
    m = s.metrics()
    assert m["logship_store_write_errors_total"] >= 1
    assert m["logship_store_failed"] == 1
    assert m["logship_store_damaged_records_total"] == 0
    # free space: the store probes and takes appends again
    small_disk.free()
    deadline = time.time() + 10
    while time.time() < deadline:
        if post_batch(s, [{"msg": "after space freed"}]).status_code == 200:
            break
        time.sleep(0.2)
    else:
        pytest.fail("store did not recover after space was freed")
    st, body = s.request("GET", "/healthz")
    assert st == 200
    got = [g["msg"] for g in all_records(s)]
    assert got == acked + ["after space freed"]
    assert s.stop() == 0
    # and it restarts cleanly on the same small disk
    s2 = make_server(data_dir=small_disk.data)
    assert [g["msg"] for g in all_records(s2)] == acked + ["after space freed"]


def test_query_filters_time_ranges_limits(make_server):
    s = make_server("--segment-size", "64K")
    base = 1767225600  # 2026-01-01T00:00:00Z
    recs = [{"msg": f"m{i}", "ts": base + i, "topic": ["web.api", "db.slow", "kern.crit"][i % 3],
             "level": ["info", "warning", "crit"][i % 3]} for i in range(3000)]
    st, body = s.post("/api/log", ndjson(recs), "application/x-ndjson")
    assert st == 200 and body["accepted"] == 3000

    def msgs(**q):
        return [r["msg"] for r in s.logs(**q)]

    assert msgs(limit=3) == ["m2997", "m2998", "m2999"]
    assert msgs(limit=3, order="desc") == ["m2999", "m2998", "m2997"]
    assert msgs(after=10, limit=3) == ["m10", "m11", "m12"]
    assert msgs(after=10, limit=2, order="desc") == ["m2999", "m2998"]
    assert msgs(since="2026-01-01T00:00:10Z", until="2026-01-01T00:00:12Z") == \
        ["m10", "m11", "m12"]
    assert msgs(since=str((base + 2990) * 10**9), limit=100) == [f"m{i}" for i in range(2990, 3000)]
    assert msgs(since="2026-01-01T00:00:10Z", until="2026-01-01T00:00:20Z",
                topic="kern.*") == ["m11", "m14", "m17", "m20"]
    assert msgs(level="crit", limit=2) == ["m2996", "m2999"]
    assert msgs(q="m299", limit=20) == ["m299"] + [f"m{i}" for i in range(2990, 3000)]
    assert msgs(topic="db.#", limit=1, order="desc") == ["m2998"]
    assert msgs(until="2026-01-01T00:00:02Z") == ["m0", "m1", "m2"]
    assert msgs(since="2030-01-01T00:00:00Z") == []
    st, data = s.request("GET", "/api/logs?since=yesterday")
    assert st == 400 and "RFC 3339" in json.loads(data)["error"]
    st, data = s.request("GET", "/api/logs?limit=0")
    assert st == 400


def test_query_streams_large_results(make_server):
    s = make_server("--segment-size", "1M")
    total = 60000
    for chunk in range(0, total, 10000):
        st, body = s.post("/api/log", ndjson({"msg": f"big {i}", "pad": "p" * 100}
                                             for i in range(chunk, chunk + 10000)),
                          "application/x-ndjson")
        assert st == 200
    got = all_records(s)
    assert len(got) == total
    assert [g["seq"] for g in got] == list(range(1, total + 1))
    # the JSON array form streams too
    r = requests.get(s.url + "/api/logs", params={"limit": total, "after": 0}, timeout=60)
    arr = r.json()
    assert len(arr) == total and arr[-1]["msg"] == f"big {total - 1}"
    # and a small answer on a kept-alive connection
    with requests.Session() as sess:
        for _ in range(3):
            r = sess.get(s.url + "/api/logs", params={"limit": 2})
            assert [x["msg"] for x in r.json()] == [f"big {total - 2}", f"big {total - 1}"]
