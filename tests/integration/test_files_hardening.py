"""File tail hardening under --tail-root: a followed file stays inside its
root across "rotation" (a parent directory swapped for a symlink, a hard
link put at the path), hard links to files are refused, symlinks that stay
inside keep working, and GET /api/files is bounded and runs off the event
loop (a tree of symlinked directories does not stall other requests)."""
import asyncio
import json
import os
import socket
import threading
import time

import pytest
import requests
import websockets

SECRET = "top secret"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "logs"
    (root / "app").mkdir(parents=True)
    (root / "app" / "current.log").write_text("one\ntwo\n")
    (root / "nginx").mkdir()
    (root / "nginx" / "access.log").write_text("GET /\n")
    (root / "plain.log").write_text("plain\n")
    os.symlink("nginx", root / "web")                   # relative, stays inside
    os.symlink(root / "plain.log", root / "alias.log")  # absolute, stays inside
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "current.log").write_text(SECRET + " 1\n")
    (outside / "secret").write_text(SECRET + "\n")
    return root, outside


def raw_get(port, path):
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  .encode())
        reply = b""
        while chunk := c.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def recv_all(ws, seconds):
    """Every message within seconds (lists of lines and control objects)
    and whether the server closed the connection."""
    msgs, closed = [], False
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            msgs.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except asyncio.TimeoutError:
            break
        except websockets.ConnectionClosed:
            closed = True
            break
    return msgs, closed


def test_parent_directory_swapped_for_a_symlink_is_not_followed(make_server, tree):
    root, outside = tree
    s = make_server("--tail-root", str(root))

    async def run():
        url = f"ws://127.0.0.1:{s.port}/api/files/logs/app/current.log?n=5"
        async with websockets.connect(url) as ws:
            assert json.loads(await ws.recv()) == ["one", "two"]
            # "rotation": the directory goes, a symlink to outside takes its place
            os.rename(root / "app", root / "app.old")
            os.symlink(outside, root / "app")
            msgs, closed = await recv_all(ws, 2)
            with open(outside / "current.log", "a") as f:
                f.write(SECRET + " 2\n")
            more, closed2 = await recv_all(ws, 1) if not closed else ([], True)
            return msgs + more, closed or closed2
    msgs, closed = asyncio.run(run())
    assert SECRET not in json.dumps(msgs)
    errors = [m for m in msgs if isinstance(m, dict) and m.get("type") == "error"]
    assert errors and "symlink" in errors[0]["error"], msgs
    assert closed
    # logged before the error was sent, but read from logshipd's stderr by
    # the fixture's thread: it may come a moment after the close
    deadline = time.time() + 5
    while not ("files:" in s.log_text() and "symlink" in s.log_text()) and time.time() < deadline:
        time.sleep(0.05)
    assert "files:" in s.log_text() and "symlink" in s.log_text()


def test_file_swapped_for_a_hard_link_is_not_followed(make_server, tree):
    root, outside = tree
    s = make_server("--tail-root", str(root))
    log = root / "plain.log"

    async def run():
        url = f"ws://127.0.0.1:{s.port}/api/files/logs/plain.log?n=5"
        async with websockets.connect(url) as ws:
            assert json.loads(await ws.recv()) == ["plain"]
            os.rename(log, root / "plain.log.1")
            os.link(outside / "secret", log)
            return await recv_all(ws, 2)
    msgs, closed = asyncio.run(run())
    assert SECRET not in json.dumps(msgs)
    errors = [m for m in msgs if isinstance(m, dict) and m.get("type") == "error"]
    assert errors and "hard link" in errors[0]["error"], msgs
    assert closed


def test_hard_link_to_an_outside_file_is_refused(make_server, tree):
    root, outside = tree
    os.link(outside / "secret", root / "hard.log")
    s = make_server("--tail-root", str(root))
    status, body = raw_get(s.port, "/api/files/logs/hard.log")
    assert status == 403
    assert SECRET.encode() not in body
    assert "hard link" in json.loads(body)["error"]
    # not offered in the listing either
    (r,) = requests.get(s.url + "/api/files").json()["roots"]
    assert "hard.log" not in [f["path"] for f in r["files"]]

    async def ws_try():
        async with websockets.connect(f"ws://127.0.0.1:{s.port}/api/files/logs/hard.log") as ws:
            return json.loads(await ws.recv())
    msg = asyncio.run(ws_try())
    assert msg["type"] == "error" and "hard link" in msg["error"]


def test_symlinks_inside_the_root_still_work(make_server, tree):
    root, _ = tree
    s = make_server("--tail-root", str(root))
    assert requests.get(s.url + "/api/files/logs/web/access.log").json() == ["GET /"]
    assert requests.get(s.url + "/api/files/logs/alias.log").json() == ["plain"]
    status, body = raw_get(s.port, "/api/files/logs/app/current.log?n=1")
    assert status == 200 and json.loads(body) == ["two"]


def test_listing_still_works(make_server, tree):
    root, _ = tree
    s = make_server("--tail-root", str(root))
    (r,) = requests.get(s.url + "/api/files").json()["roots"]
    assert r["name"] == "logs"
    assert sorted(f["path"] for f in r["files"]) == [
        "alias.log", "app/current.log", "nginx/access.log", "plain.log", "web/access.log"]
    assert all(f["size"] > 0 and f["mtime"] for f in r["files"])


def test_listing_symlinked_directories_does_not_block_the_loop(make_server, tmp_path):
    """20 symlinks to their own directory: 20^5 paths to visit were the
    listing unbounded. It is capped and runs off the loop: other requests
    are answered meanwhile, and the listing ends soon."""
    root = tmp_path / "loops"
    (root / "d").mkdir(parents=True)
    for i in range(20):
        os.symlink(root / "d", root / "d" / f"l{i:02d}")
    (root / "top.log").write_text("x\n")
    s = make_server("--tail-root", str(root))
    done = {}

    def listing():
        t0 = time.monotonic()
        r = requests.get(s.url + "/api/files", timeout=60)
        done["secs"] = time.monotonic() - t0
        done["body"] = r.json()

    t = threading.Thread(target=listing)
    t.start()
    worst = 0.0
    while t.is_alive() and len(done) == 0:
        t0 = time.monotonic()
        assert requests.get(s.url + "/healthz", timeout=30).status_code == 200
        worst = max(worst, time.monotonic() - t0)
        time.sleep(0.02)
    t.join(60)
    assert not t.is_alive()
    assert worst < 1.0, f"the loop stalled for {worst:.2f}s during a listing"
    assert done["secs"] < 10, done["secs"]
    (r,) = done["body"]["roots"]
    assert "top.log" in [f["path"] for f in r["files"]]
    assert r.get("truncated") is True
