#!/usr/bin/python3
"""bench/topic_patterns.py - ingest rate while many live tail subscribers
hold worst-case topic patterns.

SUBS WebSocket subscribers (n=0) each ask for PATS patterns of WORDS words
in the "#.a.a.a...z" family, all distinct so no two share a filter, while
records whose topic is 128 words of "a" are POSTed in batches on one
connection. No pattern matches, so every record is matched against every
pattern and nothing is sent: the rate measures the matcher and nothing
else. The last POST is followed by a /healthz round trip, which the loop
answers only after the subscribers' wake-ups it queued.

Usage: bench/topic_patterns.py [RECORDS]     (default 2000)
Env:   LOGSHIPD=build-rel/logshipd  SUBS=100  PATS=16  WORDS=32  BATCH=100
       SHAPE=lead|many (one leading "#", or "#" every other word)
Prints one line: subscribers, patterns, words, records/s (and the baseline
rate with no subscriber, measured first on the same server).
"""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import websockets

LOGSHIPD = os.environ.get("LOGSHIPD", "build-rel/logshipd")
SUBS = int(os.environ.get("SUBS", "100"))
PATS = int(os.environ.get("PATS", "16"))
WORDS = int(os.environ.get("WORDS", "32"))
BATCH = int(os.environ.get("BATCH", "100"))
SHAPE = os.environ.get("SHAPE", "lead")
RECORDS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
TOPIC = ".".join(["a"] * 128)  # 255 bytes, the longest topic stored


def pattern(sub, k):
    """A WORDS-word pattern that fails only at its last word."""
    last = f"z{sub}x{k}"
    if SHAPE == "many":
        words = ["#" if i % 2 == 0 else "a" for i in range(WORDS - 1)]
    else:
        words = ["#"] + ["a"] * (WORDS - 2)
    p = ".".join(words + [last])
    assert len(p) <= 255, len(p)
    return p


def start(data):
    proc = subprocess.Popen([LOGSHIPD, "--data", data, "--http", "127.0.0.1:0",
                             "--syslog-udp", "off", "--syslog-tcp", "off", "--tcp", "off",
                             "--log-level", "info", "--fsync", "never"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "http listening on" in line:
            port = int(line.rsplit(":", 1)[1])
        if "logshipd ready" in line:
            return proc, port
    raise SystemExit("logshipd did not start")


def post_all(port, n):
    body = "".join(json.dumps({"msg": f"r{i}", "topic": TOPIC}) + "\n"
                   for i in range(BATCH)).encode()
    t0 = time.monotonic()
    for _ in range(n // BATCH):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/log", data=body,
                                     headers={"Content-Type": "application/x-ndjson"})
        urllib.request.urlopen(req, timeout=600).read()
    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=600).read()
    return (n // BATCH) * BATCH / (time.monotonic() - t0)


async def run(port):
    base = post_all(port, RECORDS)
    conns = []
    for s in range(SUBS):
        q = urllib.parse.urlencode([("n", "0")] + [("topic", pattern(s, k)) for k in range(PATS)])
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/api/tail?{q}")
        conns.append(ws)
    await asyncio.sleep(0.5)
    for ws in conns:  # refused subscribers say so at once
        try:
            msg = await asyncio.wait_for(ws.recv(), 0.01)
            raise SystemExit(f"subscriber refused: {msg}")
        except asyncio.TimeoutError:
            pass
    rate = await asyncio.get_running_loop().run_in_executor(None, post_all, port, RECORDS)
    for ws in conns:
        await ws.close()
    return base, rate


def main():
    data = tempfile.mkdtemp(prefix="logship-topic-bench-")
    proc, port = start(data)
    try:
        base, rate = asyncio.run(run(port))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)
    print(f"subs={SUBS} patterns={PATS} words={WORDS} shape={SHAPE}: "
          f"{rate:,.0f} records/s (no subscribers: {base:,.0f} records/s)")


if __name__ == "__main__":
    main()
