"""The usual Python answer to "do not block on the log server": a
logging.handlers.QueueHandler in the application threads and a
QueueListener thread that sends each record with HTTPHandler. Times every
logger.info() call, like bench/client_latency.c does for liblogship, and
prints one JSON line.

Usage: /usr/bin/python3 bench/client_latency_py.py HOST:PORT THREADS COUNT RATE LABEL
COUNT calls per thread, each thread paced to RATE calls/s (0: as fast as it
goes), after 1,000 calls of warm-up. The queue is unbounded (the default);
records still queued at the end are not waited for."""
import json
import logging
import logging.handlers
import os
import queue
import sys
import threading
import time


def main():
    hostport, threads, count, rate, label = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5]
    logging.raiseExceptions = False  # a down server: no traceback per record
    q = queue.Queue(-1)
    http = logging.handlers.HTTPHandler(hostport, "/api/log", method="POST")
    listener = logging.handlers.QueueListener(q, http)
    listener.start()
    log = logging.getLogger("bench")
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(logging.handlers.QueueHandler(q))
    pad = "x" * 90
    for i in range(1000):
        log.info(pad)
    start_line = threading.Barrier(threads)
    lat = [None] * threads
    spans = [None] * threads

    def work(t):
        ns = [0] * count
        clock = time.perf_counter_ns
        period = 1_000_000_000 // rate if rate else 0
        start_line.wait()
        t0 = clock()
        for i in range(count):
            if period and (i & 15) == 0:
                ahead = t0 + i * period - clock()
                if ahead > 1_000_000:
                    time.sleep(ahead / 1e9)
            msg = f"t{t} {i} {pad}"
            a = clock()
            log.info(msg)
            ns[i] = clock() - a
        spans[t] = (t0, clock())
        lat[t] = ns

    ths = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    # the timer's own cost
    clock = time.perf_counter_ns
    empty = sorted(-(clock() - clock()) for _ in range(1001))  # a - b < 0
    all_ns = sorted(x for ns in lat for x in ns)
    n = len(all_ns)
    secs = (max(s[1] for s in spans) - min(s[0] for s in spans)) / 1e9

    def pct(p):
        return all_ns[int((n - 1) * p)]

    print(json.dumps({"label": label, "impl": "python QueueHandler+HTTPHandler",
                      "threads": threads, "calls": n, "rate": rate, "p50_ns": pct(0.5),
                      "p99_ns": pct(0.99), "p999_ns": pct(0.999), "max_ns": all_ns[-1],
                      "calls_per_s": round(n / secs), "still_queued": q.qsize(),
                      "timer_ns": empty[500]}), flush=True)
    os._exit(0)  # do not wait for the listener to send what is queued


if __name__ == "__main__":
    main()
