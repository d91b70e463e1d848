"""What one logger.info("... %s", x) costs the caller with four handlers:
NullHandler (the floor: the record is made and thrown away),
logship.LogshipHandler, QueueHandler + QueueListener + HTTPHandler (POST to
logshipd's /api/log), and a thread-pool handler as a tutorial writes it
(emit() formats and submits an HTTP POST to a ThreadPoolExecutor). Every
call is timed with perf_counter_ns (included: ~40 ns); prints one JSON line.

Usage: python bench/python_handler.py IMPL TCP_PORT HTTP_PORT THREADS COUNT LABEL
IMPL: null | logship | queue-http | threadpool. COUNT calls per thread
after 2,000 of warm-up, back to back. LogshipHandler is then flushed (up
to 60 s) and its stats reported; the others' backlogs are not waited for
(the process ends with os._exit)."""
import concurrent.futures
import json
import logging
import logging.handlers
import os
import queue
import sys
import threading
import time
import urllib.parse
import urllib.request


class ThreadPoolHandler(logging.Handler):
    """The tutorial's non-blocking handler: format on the caller's thread,
    send from a pool (whose queue has no bound)."""

    def __init__(self, url):
        super().__init__()
        self.url = url
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)

    def emit(self, record):
        try:
            body = urllib.parse.urlencode({"log": self.format(record),
                                           "level": record.levelname,
                                           "app": record.name}).encode()
            self.pool.submit(self.send, body)
        except Exception:
            self.handleError(record)

    def send(self, body):
        try:
            urllib.request.urlopen(self.url, data=body, timeout=10).read()
        except Exception:
            pass


def handler(impl, tcp, http):
    if impl == "null":
        return logging.NullHandler(), None
    if impl == "logship":
        import logship
        return logship.LogshipHandler(f"tcp://127.0.0.1:{tcp}", flush_timeout=60), None
    if impl == "queue-http":
        q = queue.Queue(-1)
        listener = logging.handlers.QueueListener(
            q, logging.handlers.HTTPHandler(f"127.0.0.1:{http}", "/api/log", method="POST"))
        listener.start()
        return logging.handlers.QueueHandler(q), listener
    if impl == "threadpool":
        return ThreadPoolHandler(f"http://127.0.0.1:{http}/api/log"), None
    raise SystemExit(f"unknown IMPL {impl}")


def pct(sorted_ns, p):
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * p))]


def main():
    impl, tcp, http = sys.argv[1], sys.argv[2], sys.argv[3]
    threads, count, label = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    logging.raiseExceptions = False  # a down server: no traceback per record
    h, _listener = handler(impl, tcp, http)
    log = logging.getLogger("bench")
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(h)
    for i in range(2000):
        log.info("warm-up %s", i)
    gate = threading.Barrier(threads)
    lat = [None] * threads
    spans = [None] * threads

    def work(t):
        ns = [0] * count
        clock = time.perf_counter_ns
        info = log.info
        x = f"t{t}"
        gate.wait()
        t0 = clock()
        for i in range(count):
            a = clock()
            info("request done for %s", x)
            ns[i] = clock() - a
        spans[t] = (t0, clock())
        lat[t] = ns

    ths = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    all_ns = sorted(n for ns in lat for n in ns)
    wall = max(s[1] for s in spans) - min(s[0] for s in spans)
    out = {"impl": impl, "label": label, "threads": threads, "calls": len(all_ns),
           "p50_ns": pct(all_ns, 0.5), "p99_ns": pct(all_ns, 0.99),
           "p999_ns": pct(all_ns, 0.999), "max_ns": all_ns[-1],
           "calls_per_s": len(all_ns) / (wall / 1e9)}
    if impl == "logship":
        if label == "up":
            out["flushed"] = h.flush(60)
        out.update({k: v for k, v in h.stats().items() if k in ("sent", "dropped", "queued", "nacks",
                                                          "resent", "connect_failures")})
    print(json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
