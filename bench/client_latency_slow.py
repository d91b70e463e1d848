"""Slow stand-ins for bench/client_latency.sh: logshipd's acknowledged TCP
protocol answering every batch 5 s after it came, and an HTTP server
answering every request 5 s after it came. Prints "tcp PORT" and
"http PORT", then serves until killed. Records are read and thrown away.

Usage: /usr/bin/python3 bench/client_latency_slow.py [DELAY_S]"""
import http.server
import json
import queue
import socket
import sys
import threading
import time

DELAY = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0


def tcp_conn(c):
    f = c.makefile("rb")
    hello = json.loads(f.readline())
    c.sendall(json.dumps({"logship": "hello", "version": 1, "last_seq": 0, "last_batch": 0,
                          "producer": hello.get("producer", "")}).encode() + b"\n")
    acks = queue.Queue()

    def answer():
        while True:
            item = acks.get()
            if item is None:
                return
            due, line = item
            time.sleep(max(0.0, due - time.time()))
            try:
                c.sendall(line)
            except OSError:
                return

    threading.Thread(target=answer, daemon=True).start()
    while True:
        head = f.readline()
        if not head:
            break
        h = json.loads(head)
        for _ in range(h["count"]):
            f.readline()
        acks.put((time.time() + DELAY, json.dumps(
            {"logship": "ack", "batch": h["batch"], "first_seq": 1,
             "last_seq": h["count"]}).encode() + b"\n"))
    acks.put(None)


def tcp_serve(sock):
    while True:
        c, _ = sock.accept()
        threading.Thread(target=tcp_conn, args=(c,), daemon=True).start()


class Slow(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(DELAY)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST

    def log_message(self, *args):
        pass


def main():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    threading.Thread(target=tcp_serve, args=(s,), daemon=True).start()
    h = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    print(f"tcp {s.getsockname()[1]}", flush=True)
    print(f"http {h.server_address[1]}", flush=True)
    h.serve_forever()


if __name__ == "__main__":
    main()
