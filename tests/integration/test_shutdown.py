"""Shutdown while the store is being read on libuv's thread pool: tails far
behind catching up from disk and long queries. The store must outlive every
scan that reads it; under AddressSanitizer a scan reading a freed store makes
logshipd exit non-zero, so each test asserts the exit code."""
import json
import signal
import socket
import time

import requests

RECORDS = 100000
PER_POST = 20000


def fill(server):
    """RECORDS records on disk, most of them older than the memory window."""
    for i in range(0, RECORDS, PER_POST):
        body = "".join(json.dumps({"msg": f"shutdown record {j} " + "p" * 120, "app": "sd"}) + "\n"
                       for j in range(i, i + PER_POST))
        r = requests.post(server.url + "/api/log", data=body,
                          headers={"Content-Type": "application/x-ndjson"}, timeout=60)
        assert r.status_code == 200 and r.json()["accepted"] == PER_POST, r.text


def sse_until_disk(server, qs):
    """An SSE tail that has said it is catching up from disk: its next step is
    a scan on the thread pool. Returns the open socket."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall((f"GET /api/tail?{qs} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Accept: text/event-stream\r\n\r\n").encode())
    got = b""
    while b'"source":"disk"' not in got:
        chunk = sock.recv(65536)
        assert chunk, got
        got += chunk
    assert got.startswith(b"HTTP/1.1 200"), got[:200]
    return sock


def test_sigterm_while_tails_scan_the_disk(make_server):
    """Forty tails from seq 1, each with its own filter that matches nothing
    (so no two share a scan and each reads the whole store), then SIGTERM:
    most scans are still queued or running when the store closes."""
    server = make_server("--memory-records", "1000")
    fill(server)
    socks = [sse_until_disk(server, f"after=0&q=absent-{i}") for i in range(40)]
    rc = server.stop(signal.SIGTERM)
    for s in socks:
        s.close()
    assert rc == 0, server.log_text()
    assert "bye" in server.log_text()


def test_second_sigterm_while_queries_scan(make_server):
    """Eight queries that read the whole store, then two SIGTERMs: the second
    one closes the store at once, with the scans still queued or running."""
    server = make_server("--memory-records", "1000")
    fill(server)
    socks = []
    for i in range(8):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock.sendall((f"GET /api/logs?q=absent-{i}&limit=10 HTTP/1.1\r\n"
                      "Host: 127.0.0.1\r\n\r\n").encode())
        socks.append(sock)
    # answered after the loop has read the queries sent before it
    assert requests.get(server.url + "/healthz", timeout=30).status_code == 200
    server.proc.send_signal(signal.SIGTERM)
    # two signals pending at once are one: the second goes once the first
    # is taken (the queries hold the drain open meanwhile)
    for _ in range(1000):
        if "finishing" in server.log_text() or server.proc.poll() is not None:
            break
        time.sleep(0.005)
    server.proc.send_signal(signal.SIGTERM)
    rc = server.stop()
    for s in socks:
        s.close()
    assert rc == 0, server.log_text()
    assert "second signal" in server.log_text(), server.log_text()
