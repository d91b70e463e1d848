#!/usr/bin/python3
"""/api/logs in time order (sort=ts) against arrival order, on one freshly
started release logshipd: N records whose ts are shuffled against their
seq, then the same queries both ways. Prints, per query, the wall time of
the answer (median of 5, after one warm-up), logshipd's CPU seconds over
those 5 runs, and its peak RSS (VmHWM) after them; VmHWM only grows, so
the queries run from the smallest memory need to the largest.

usage: bench/query_order.py [N]   (build/logshipd: `make build` first)"""
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300000


def main():
    data = tempfile.mkdtemp(prefix="logship-bench-order-")
    proc = subprocess.Popen([os.path.join(ROOT, "build", "logshipd"), "--data", data,
                             "--http", "127.0.0.1:0", "--syslog-udp", "127.0.0.1:0",
                             "--syslog-tcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0",
                             "--log-level", "info"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    for line in proc.stdout:
        m = re.search(r"http listening on \S+:(\d+)", line)
        if m:
            port = int(m.group(1))
        if "logshipd ready" in line:
            break
    base = f"http://127.0.0.1:{port}"
    try:
        rnd = random.Random(1)
        t0 = 1764684000
        for i in range(0, N, 5000):
            body = "".join(json.dumps({"msg": f"record {j} " + "x" * 60, "app": f"a{j % 7}",
                                       "ts": t0 + rnd.randrange(86400 * 1000) / 1000}) + "\n"
                           for j in range(i, min(N, i + 5000)))
            req = urllib.request.Request(base + "/api/log", data=body.encode(),
                                         headers={"Content-Type": "application/x-ndjson"})
            urllib.request.urlopen(req).read()

        def cpu():
            with open(f"/proc/{proc.pid}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

        def hwm():
            with open(f"/proc/{proc.pid}/status") as f:
                return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) // 1024

        print(f"{N} records, ts shuffled against seq; logshipd at start: {hwm()} MiB peak RSS")
        print(f"{'query':44} {'records':>8} {'median s':>9} {'CPU s/5':>8} {'peak MiB':>9}")
        for qs in ["limit=1000", "sort=ts&limit=1000",
                   "order=desc&limit=1000", "sort=ts&order=desc&limit=1000",
                   "limit=100000", "sort=ts&limit=100000",
                   "app=a3&limit=all", "sort=ts&app=a3&limit=1000000"]:
            urllib.request.urlopen(base + "/api/logs?" + qs).read()  # warm
            walls, c0 = [], cpu()
            for _ in range(5):
                s = time.perf_counter()
                n = urllib.request.urlopen(base + "/api/logs?" + qs).read().count(b'"seq":')
                walls.append(time.perf_counter() - s)
            print(f"{qs:44} {n:>8} {statistics.median(walls):>9.3f} {cpu() - c0:>8.2f} {hwm():>9}")
    finally:
        proc.terminate()
        proc.wait()
        subprocess.run(["rm", "-rf", data])


if __name__ == "__main__":
    main()
