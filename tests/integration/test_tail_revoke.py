"""Live tails at a SIGHUP reload of --auth-file: a WebSocket or SSE tail (and
a followed file) whose token the new file removes, takes the tail or files
scope from, or gives other topics, is closed at the reload with a clear
error ({"type":"error","status":401|403,"error":...}, then close code 1008
on a WebSocket; an "event: error" and the end of the stream over SSE); a
tail whose token is unchanged goes on and gets the next records."""
import asyncio
import json
import signal
import time

import websockets

from test_auth import TOKENS as BASE, auth_file, post_ndjson


def tok(name):
    return "tok-" + name.ljust(16, "0")


TOKENS = {
    "all": BASE["all"],
    "keep": (tok("keep"), "tail", "web.#"),
    "gone": (tok("gone"), "tail", None),
    "demote": (tok("demote"), "read,tail", None),
    "retopic": (tok("retopic"), "tail", "web.#"),
    "ssegone": (tok("ssegone"), "tail", None),
    "fgone": (tok("fgone"), "files", None),
}
AFTER = {
    "all": TOKENS["all"],
    "keep": TOKENS["keep"],
    "demote": (tok("demote"), "read", None),
    "retopic": (tok("retopic"), "tail", "web.#,db.#"),
}


def hdr(name):
    return {"Authorization": "Bearer " + TOKENS[name][0]}


def wait_for_log(s, text, start, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(text in ln for ln in s.log_lines[start:]):
            return True
        time.sleep(0.05)
    return False


async def until_closed(ws, timeout=15):
    """The control messages a WebSocket gets until it is closed, and the
    close code."""
    msgs = []
    try:
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if isinstance(m, dict):
                msgs.append(m)
    except websockets.ConnectionClosed as e:
        return msgs, e.code


async def sse_open(port, target, token):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write((f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
             f"Authorization: Bearer {token}\r\n\r\n").encode())
    await w.drain()
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
    assert b" 200 " in head.split(b"\r\n")[0], head
    return r, w


async def sse_until_end(r, timeout=15):
    """The (event, data) pairs until the chunked stream's last chunk."""
    body = b""
    while not body.endswith(b"\r\n0\r\n\r\n"):
        data = await asyncio.wait_for(r.read(4096), timeout)
        if not data:
            break
        body += data
    events, ev = [], None
    for line in body.decode().split("\n"):
        if line.startswith("event: "):
            ev = line[7:].strip()
        elif line.startswith("data: ") and ev:
            events.append((ev, json.loads(line[6:])))
            ev = None
    return events


def test_reload_closes_the_tails_of_removed_or_changed_tokens(make_server, tmp_path):
    path = tmp_path / "tokens"
    auth_file(path, TOKENS)
    root = tmp_path / "files"
    root.mkdir()
    (root / "a.log").write_text("line one\n")
    s = make_server("--auth-file", str(path), "--tail-root", str(root))
    base = f"ws://127.0.0.1:{s.port}"

    async def run():
        ws = {name: await websockets.connect(f"{base}/api/tail?n=0", extra_headers=hdr(name))
              for name in ("keep", "gone", "demote", "retopic")}
        fws = await websockets.connect(f"{base}/api/files/files/a.log?n=1",
                                       extra_headers=hdr("fgone"))
        assert "line one" in await asyncio.wait_for(fws.recv(), 10)
        r, w = await sse_open(s.port, "/api/tail?n=0", TOKENS["ssegone"][0])
        await asyncio.sleep(0.3)  # every tail subscribed
        auth_file(path, AFTER)
        n = len(s.log_lines)
        s.proc.send_signal(signal.SIGHUP)
        assert wait_for_log(s, "5 live tails closed", n), s.log_text()

        want = {"gone": (401, "removed"), "demote": (403, "no tail scope"),
                "retopic": (403, "topics of this tail's token changed")}
        for name, (status, text) in want.items():
            msgs, code = await until_closed(ws[name])
            assert code == 1008, (name, code)
            assert [m["status"] for m in msgs] == [status], (name, msgs)
            assert text in msgs[0]["error"], (name, msgs)
        msgs, code = await until_closed(fws)
        assert code == 1008 and msgs[0]["status"] == 401 and "removed" in msgs[0]["error"], msgs
        events = await sse_until_end(r)
        assert events and events[-1][0] == "error", events
        assert events[-1][1]["status"] == 401 and "removed" in events[-1][1]["error"]
        w.close()
        # the unchanged token's tail goes on
        st, _ = post_ndjson(s, [{"msg": "after the reload", "topic": "web.x"}])
        assert st == 200
        got = []
        while not got:
            m = json.loads(await asyncio.wait_for(ws["keep"].recv(), 15))
            if isinstance(m, list):
                got += m
        assert [g["msg"] for g in got] == ["after the reload"]
        await ws["keep"].close()
        # the refused tokens are refused on a new tail too
        try:
            await websockets.connect(f"{base}/api/tail", extra_headers=hdr("gone"))
            raise AssertionError("a removed token opened a tail")
        except websockets.InvalidStatusCode as e:
            assert e.status_code == 401

    asyncio.run(run())
    log = s.log_text()
    assert not [t for t, _, _ in TOKENS.values() if t in log]


def test_reload_without_changes_keeps_every_tail(make_server, tmp_path):
    path = tmp_path / "tokens"
    auth_file(path, TOKENS)
    s = make_server("--auth-file", str(path))

    async def run():
        ws = await websockets.connect(f"ws://127.0.0.1:{s.port}/api/tail?n=0",
                                      extra_headers=hdr("retopic"))
        await asyncio.sleep(0.2)
        auth_file(path, TOKENS)  # the same tokens, a new table
        n = len(s.log_lines)
        s.proc.send_signal(signal.SIGHUP)
        assert wait_for_log(s, "tokens from", n), s.log_text()
        st, _ = post_ndjson(s, [{"msg": "still here", "topic": "web.y"}])
        assert st == 200
        got = []
        while not got:
            m = json.loads(await asyncio.wait_for(ws.recv(), 15))
            if isinstance(m, list):
                got += m
            else:
                assert m.get("type") != "error", m
        assert [g["msg"] for g in got] == ["still here"]
        await ws.close()

    asyncio.run(run())
    assert "live tails closed" not in s.log_text()
