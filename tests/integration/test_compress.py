"""--compress zstd through a real logshipd: sealed segments become .zlog
files, every record reads back the same after restarts with and without
--compress, word= and re= find what a scan here finds, and their bad
values are refused with a clear 400."""
import json
import os
import random
import re
import time

import requests


def post(server, records):
    body = "".join(json.dumps(r) + "\n" for r in records)
    r = requests.post(server.url + "/api/log", data=body,
                      headers={"Content-Type": "application/x-ndjson"}, timeout=30)
    assert r.status_code == 200, r.text


def logs(server, **params):
    params.setdefault("limit", 1000000)
    r = requests.get(server.url + "/api/logs", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def wait_compressed(server, n):
    deadline = time.time() + 60
    while time.time() < deadline:  # bounded
        if server.metrics().get("logship_store_compressed_segments_total", 0) >= n:
            return
        time.sleep(0.2)
    raise AssertionError("segments not compressed: " + server.log_text()[-2000:])


WORDS = ["alpha", "Timeout", "retry", "blk_-77", "10.0.0.1", "café", "GET", "/index", "done"]


def records(n, seed):
    rng = random.Random(seed)
    return [{"msg": " ".join(rng.choice(WORDS) for _ in range(rng.randrange(2, 7))) + f" n{i}",
             "app": rng.choice(["web", "db"]), "level": rng.choice(["info", "error"])}
            for i in range(n)]


def test_compressed_store_reads_back(make_server, tmp_path):
    data = tmp_path / "data"
    s = make_server("--compress", "zstd", "--segment-size", "64K", data_dir=data)
    recs = records(6000, 1)
    for i in range(0, len(recs), 1000):
        post(s, recs[i:i + 1000])
    wait_compressed(s, 3)
    names = os.listdir(data / "segments")
    assert any(n.endswith(".zlog") for n in names)
    before = logs(s)
    assert [r["msg"] for r in before] == [r["msg"] for r in recs]
    # word=: whole words, any case; re=: PCRE2 on the message
    for params, pick in [
        ({"word": "timeout"}, lambda m: "Timeout" in m.split()),
        ({"word": ["TIMEOUT", "alpha"]}, lambda m: {"Timeout", "alpha"} <= set(m.split())),
        ({"word": "blk_-77"}, lambda m: "blk_-77" in m.split()),  # words blk_ and 77
        ({"word": "nowhere"}, lambda m: False),
        ({"re": r"^GET .*n1\d\d$"}, lambda m: re.search(r"^GET .*n1\d\d$", m)),
        ({"q": "retry done"}, lambda m: "retry done" in m),
    ]:
        got = [r["msg"] for r in logs(s, **params)]
        assert got == [r["msg"] for r in recs if pick(r["msg"])], params
    s.stop()
    # read back without --compress: the .zlog files stay readable
    s2 = make_server("--segment-size", "64K", data_dir=data)
    assert logs(s2) == before
    s2.stop()
    s3 = make_server("--compress", "zstd", "--segment-size", "64K", data_dir=data)
    assert logs(s3) == before


def test_bad_word_and_re(server):
    for params, text in [({"word": "--"}, "bad word"), ({"re": "a("}, "bad re: missing closing"),
                         ({"re": ["a", "b"]}, "re given twice")]:
        r = requests.get(server.url + "/api/logs", params=params, timeout=30)
        assert r.status_code == 400, (params, r.text)
        assert text in r.json()["error"], (params, r.text)
    r = requests.get(server.url + "/api/stats", params={"by": "level", "re": "(x"}, timeout=30)
    assert r.status_code == 400 and "bad re" in r.json()["error"]
