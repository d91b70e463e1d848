"""File tail under --tail-root: listing, last n lines, following appends,
rotation and truncation, and every escape attempt refused with 403."""
import asyncio
import json
import os
import socket
import time

import pytest
import requests
import websockets


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "logs"
    (r / "nginx").mkdir(parents=True)
    (r / "app.log").write_text("one\ntwo\nthree\n")
    (r / "nginx" / "access.log").write_text("GET /\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("top secret\n")
    os.symlink(outside / "secret", r / "escape")
    os.symlink(outside, r / "escape-dir")
    os.symlink(r / "app.log", r / "alias.log")  # a symlink that stays inside
    os.mkfifo(r / "pipe")
    return r


def test_listing_and_last_lines(make_server, root):
    s = make_server("--tail-root", str(root))
    listing = requests.get(s.url + "/api/files").json()
    (r,) = listing["roots"]
    assert r["name"] == "logs" and r["path"] == str(root)
    assert sorted(f["path"] for f in r["files"]) == ["alias.log", "app.log", "nginx/access.log"]
    assert requests.get(s.url + "/api/files/logs/app.log?n=2").json() == ["two", "three"]
    assert requests.get(s.url + "/api/files/logs/nginx/access.log").json() == ["GET /"]
    assert requests.get(s.url + "/api/files/logs/alias.log?n=1").json() == ["three"]


@pytest.mark.parametrize("path", [
    "logs/escape",                  # symlink out of the root
    "logs/escape-dir/secret",       # through a symlinked directory
    "logs/nginx",                   # a directory
    "logs/pipe",                    # a fifo
    "logs/%2e%2e/outside/secret",   # encoded ..
    "logs/nginx/%2e%2e/%2e%2e/outside/secret",
    "nope/app.log",                 # no such root
    "logs/missing.log",
    "logs//etc/passwd",             # absolute inside
])
def test_escape_attempts_are_refused(make_server, root, path):
    s = make_server("--tail-root", str(root))
    # raw request: no client-side normalisation of the path
    with socket.create_connection(("127.0.0.1", s.port)) as c:
        c.sendall(f"GET /api/files/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  .encode())
        reply = b""
        while chunk := c.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    assert status in (403, 404), reply
    assert b"top secret" not in reply
    assert "error" in json.loads(body)
    if status == 403:
        # the server's log reaches us through a pipe: give it a moment
        deadline = time.time() + 5
        while "files: refused" not in s.log_text() and time.time() < deadline:
            time.sleep(0.05)
        assert "files: refused" in s.log_text()
    m = s.metrics()
    assert m['logship_http_rejected_total{reason="forbidden"}'] + \
        m['logship_http_rejected_total{reason="not_found"}'] >= 1


def test_no_root_means_off(server):
    assert requests.get(server.url + "/api/files").json() == {"roots": []}
    r = requests.get(server.url + "/api/files/x/y")
    assert r.status_code == 404 and "off" in r.json()["error"]


def test_follow_append_rotation_truncation(make_server, root):
    s = make_server("--tail-root", str(root))
    log = root / "app.log"

    async def run():
        url = f"ws://127.0.0.1:{s.port}/api/files/logs/app.log?n=1"
        async with websockets.connect(url) as ws:
            assert json.loads(await ws.recv()) == ["three"]
            with open(log, "a") as f:
                f.write("four\nfi")
                f.flush()
                await asyncio.sleep(0.5)
                f.write("ve\n")
            got = []
            while len(got) < 2:
                got += json.loads(await ws.recv())
            assert got == ["four", "five"]
            # rotation: rename away, then a new file at the path
            with open(log, "a") as f:
                f.write("last of old\n")
            os.rename(log, root / "app.log.1")
            log.write_text("first of new\n")
            msgs = []
            while ["first of new"] not in msgs:
                msgs.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            flat = [m for m in msgs if isinstance(m, list)]
            assert sum(flat, []) == ["last of old", "first of new"]
            assert {"type": "rotated"} in msgs
            # truncation in place (copytruncate)
            with open(log, "r+") as f:
                f.truncate(0)
            await asyncio.sleep(0.5)  # the writer goes on a little later
            with open(log, "a") as f:
                f.write("after truncate\n")
            msgs = []
            while ["after truncate"] not in msgs:
                msgs.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            assert {"type": "truncated"} in msgs
    asyncio.run(run())


def test_websocket_escape_is_refused(make_server, root):
    s = make_server("--tail-root", str(root))

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{s.port}/api/files/logs/escape") as ws:
            msg = json.loads(await ws.recv())
            assert msg["type"] == "error" and "leaves its root" in msg["error"]
    asyncio.run(run())


def test_websocket_close_codes(make_server, root):
    """A one-shot read (follow=0) ends with a close frame with 1000 once
    every line was sent, also when the last messages are large; a refusal
    with 1008."""
    big = root / "big.log"
    with open(big, "w") as f:
        for i in range(40000):
            f.write(f"line {i:06d} " + "x" * 100 + "\n")
    s = make_server("--tail-root", str(root))

    async def read_all(path):
        async with websockets.connect(f"ws://127.0.0.1:{s.port}/api/files/{path}",
                                      max_size=None) as ws:
            msgs = []
            with pytest.raises(websockets.ConnectionClosed) as e:
                while True:
                    msgs.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            return msgs, e.value.rcvd, ws.close_code

    msgs, rcvd, code = asyncio.run(read_all("logs/app.log?n=2&follow=0"))
    assert msgs == [["two", "three"]]
    assert rcvd is not None and rcvd.code == 1000 and code == 1000

    msgs, rcvd, code = asyncio.run(read_all("logs/big.log?n=40000&follow=0"))
    lines = sum((m for m in msgs if isinstance(m, list)), [])
    # 4.5 MB: the last lines in the 4 MiB searched back, every one whole
    assert 30000 < len(lines) < 40000
    first = 40000 - len(lines)
    assert lines == [f"line {i:06d} " + "x" * 100 for i in range(first, 40000)]
    assert rcvd is not None and rcvd.code == 1000 and code == 1000

    for path in ("logs/escape", "nope/app.log", "logs/nginx"):
        msgs, rcvd, code = asyncio.run(read_all(path))
        assert msgs and msgs[0]["type"] == "error", msgs
        assert rcvd is not None and rcvd.code == 1008 and code == 1008, (path, rcvd)


def test_one_shot_read_through_a_line_longer_than_a_read(make_server, root):
    """A line longer than one read (1 MiB) in a one-shot read: it is sent
    cut at 64 KiB, once, and the lines after it follow (the read used to
    stop there: the plain GET answered without them and the WebSocket
    waited for ever)."""
    (root / "long.log").write_text("start\n" + "y" * 3_000_000 + "\nend\n")
    s = make_server("--tail-root", str(root))
    want = ["start", "y" * 65536, "end"]
    assert requests.get(s.url + "/api/files/logs/long.log?n=3", timeout=10).json() == want

    async def run():
        url = f"ws://127.0.0.1:{s.port}/api/files/logs/long.log?n=3&follow=0"
        async with websockets.connect(url, max_size=None) as ws:
            lines = []
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    lines += json.loads(await asyncio.wait_for(ws.recv(), 10))
            return lines, ws.close_code
    lines, code = asyncio.run(run())
    assert lines == want and code == 1000


def test_sse_follow(make_server, root):
    s = make_server("--tail-root", str(root))
    r = requests.get(s.url + "/api/files/logs/app.log?n=2",
                     headers={"Accept": "text/event-stream"}, stream=True, timeout=10)
    lines = r.iter_lines(chunk_size=1, decode_unicode=True)
    for line in lines:
        if line.startswith("data: "):
            assert json.loads(line[6:]) == ["two", "three"]
            break
    with open(root / "app.log", "a") as f:
        f.write("sse more\n")
    for line in lines:
        if line.startswith("data: "):
            assert json.loads(line[6:]) == ["sse more"]
            break
    r.close()
