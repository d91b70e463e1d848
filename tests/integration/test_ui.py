"""The web UI end to end: headless Chromium (Debian's chromium, driven by
playwright-core from tests/ui) against the real logshipd.

tests/ui/ui.test.mjs holds the browser tests (node's test runner); this file
starts the server for them and fails when they fail. The restart test is
orchestrated from here: tests/ui/restart.mjs says STOP/START on stdout and
this side restarts logshipd on the same port and data directory.
Screenshots land in tests/artifacts/."""
import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import ROOT

UI_DIR = os.path.join(ROOT, "tests", "ui")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def browser_tools():
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append(f"{CHROMIUM} (apt-get install chromium chromium-driver)")
    if not shutil.which("node"):
        missing.append("node")
    if not os.path.isdir(os.path.join(UI_DIR, "node_modules", "playwright-core")):
        missing.append("tests/ui/node_modules (cd tests/ui && npm ci)")
    if missing:
        pytest.fail("the UI tests need: " + ", ".join(missing) + "; `make test` installs them")


def node_env(server, **extra):
    env = dict(os.environ, LOGSHIP_URL=server.url, LOGSHIP_ARTIFACTS=ARTIFACTS, **extra)
    # the sanitizer settings are for logshipd, not for node or chromium
    env.pop("ASAN_OPTIONS", None)
    env.pop("UBSAN_OPTIONS", None)
    return env


def test_ui_in_chromium(make_server, tmp_path):
    root = tmp_path / "logs"
    (root / "nested").mkdir(parents=True)
    (root / "app.log").write_text("first line\nsecond <b>line</b>\n\x1b[32mgreen\x1b[0m\n")
    (root / "nested" / "deep.log").write_text("deep line\n")
    server = make_server("--tail-root", str(root))
    p = subprocess.run(
        ["node", "--test", "--test-concurrency=1", "--test-reporter=spec", "ansi.test.mjs",
         "ui.test.mjs", "explore.test.mjs"],
        cwd=UI_DIR, env=node_env(server, LOGSHIP_TAIL_ROOT=str(root)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    print(p.stdout)
    assert p.returncode == 0, p.stdout[-6000:]
    # the run leaves its screenshots behind as artifacts
    for name in ("ui-live-dark.png", "ui-live-light.png", "ui-phone.png", "ui-phone-history.png",
                 "ui-history-dark.png", "ui-history-phone.png"):
        assert os.path.getsize(os.path.join(ARTIFACTS, name)) > 10000, name


def post_batch(server, msgs):
    body = "".join(json.dumps({"msg": m, "app": "restart"}) + "\n" for m in msgs)
    st, reply = server.post("/api/log", body, "application/x-ndjson")
    assert st == 200, reply
    return reply


def test_ui_reconnects_after_restart_without_gap_or_duplicate(make_server, tmp_path):
    data = tmp_path / "data"
    server = make_server(data_dir=data)
    port = server.port
    tag = f"rs{int(time.time() * 1000)}"
    node = subprocess.Popen(["node", "restart.mjs"], cwd=UI_DIR, env=node_env(server, RESTART_TAG=tag),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)
    out = []
    try:
        for line in node.stdout:
            out.append(line)
            word = line.strip()
            if word == "STOP":
                assert server.stop() == 0, server.log_text()
                node.stdin.write("STOPPED\n")
                node.stdin.flush()
            elif word == "START":
                server = make_server("--http", f"127.0.0.1:{port}", data_dir=data)
                # records stored while the page is still away: it must fetch
                # them with after=, once each
                post_batch(server, [f"{tag} B{i}" for i in range(20)])
                node.stdin.write("STARTED\n")
                node.stdin.flush()
        rc = node.wait(timeout=120)
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()
    print("".join(out))
    assert rc == 0, "".join(out)[-6000:]
    assert "OK" in "".join(out)


def test_pages_on_other_sites_cannot_write_or_read(make_server):
    """A page on another site, in Chromium, posts forms, no-cors fetches, a
    beacon and an image GET, and opens a WebSocket, an EventSource and a
    fetch of the logs: nothing is stored and nothing read
    (tests/ui/cross_site.mjs)."""
    server = make_server()
    p = subprocess.run(["node", "cross_site.mjs"], cwd=UI_DIR, env=node_env(server),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    print(p.stdout)
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout[-6000:]
    assert [r["msg"] for r in server.logs()] == ["secret record"]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("allowed", [True, False])
def test_cors_page_on_another_origin(make_server, allowed):
    """A page on http://localhost:<port>, in Chromium, POSTs JSON with fetch
    (preflighted), reads /api/logs and /healthz and opens an EventSource on
    /api/tail: all of it works with --cors-origin naming that origin, none
    of it without (tests/ui/cors.mjs)."""
    port = free_port()
    args = ("--cors-origin", f"http://localhost:{port}") if allowed else ()
    server = make_server(*args)
    p = subprocess.run(["node", "cors.mjs"], cwd=UI_DIR,
                       env=node_env(server, OTHER_PORT=str(port),
                                    CORS_EXPECT="allowed" if allowed else "refused"),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    print(p.stdout)
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout[-6000:]
    m = server.metrics()
    if allowed:
        assert m["logship_http_cors_preflights_total"] >= 1
    else:
        assert m["logship_http_cross_origin_refused_total"] >= 1


NGINX = "/usr/sbin/nginx"


def start_nginx(tmp_path, upstream_port):
    """A private nginx on its own port and directory that serves
    logshipd's / under /logs/ (the config a README reader would write)."""
    if not os.path.exists(NGINX):
        pytest.fail(f"{NGINX} is missing (scripts/deps.sh test installs nginx-light)")
    port = free_port()
    d = tmp_path / "nginx"
    d.mkdir()
    (d / "nginx.conf").write_text(f"""
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
daemon off;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
    uwsgi_temp_path {d}; scgi_temp_path {d};
    server {{
        listen 127.0.0.1:{port};
        location /logs/ {{
            proxy_pass http://127.0.0.1:{upstream_port}/;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $http_host;
            proxy_buffering off;
        }}
    }}
}}
""")
    proc = subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/logs/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc, port, d
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    out = proc.communicate()[0]
    err = (d / "error.log").read_text() if (d / "error.log").exists() else ""
    pytest.fail(f"nginx did not start: {out}\n{err}")


def test_ui_behind_a_reverse_proxy_under_a_prefix(make_server, tmp_path):
    """nginx serves the UI at /logs/: it loads, goes live over the proxied
    WebSocket, shows a record posted through the proxy, finds it in
    history, follows a file, and asks for nothing outside /logs/
    (tests/ui/proxy.mjs)."""
    root = tmp_path / "logs"
    root.mkdir()
    (root / "app.log").write_text("first line\nsecond line\n")
    server = make_server("--tail-root", str(root))
    proc, port, d = start_nginx(tmp_path, server.port)
    try:
        p = subprocess.run(["node", "proxy.mjs"], cwd=UI_DIR,
                           env=node_env(server, PROXY_URL=f"http://127.0.0.1:{port}/logs/",
                                        LOGSHIP_TAIL_ROOT=str(root)),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=180)
        print(p.stdout)
        assert p.returncode == 0 and "OK" in p.stdout, (
            p.stdout[-6000:] + "\n" + (d / "error.log").read_text()[-3000:])
    finally:
        proc.terminate()
        proc.wait(10)
    # nothing was refused on the way (Host 127.0.0.1 without the proxy's
    # port, Origin http://127.0.0.1:<port>)
    assert server.metrics()["logship_http_cross_origin_refused_total"] == 0
    msgs = [r["msg"] for r in server.logs()]
    assert any(m.endswith(" live") for m in msgs), msgs


def test_ui_asks_for_a_token(make_server, tmp_path):
    """With --auth-file the page asks for a token, refuses a wrong one,
    keeps the right one in this tab only, sends it as Bearer and tails with
    a ticket; the token (limited to web.#) shows web records only
    (tests/ui/auth.mjs)."""
    reader, writer = "ui-reader-token-0001", "ui-writer-token-0002"
    tokens = tmp_path / "tokens"
    tokens.write_text(f"reader {reader} read,tail web.#\nwriter {writer} write\n")
    tokens.chmod(0o600)
    server = make_server("--auth-file", str(tokens))
    p = subprocess.run(["node", "auth.mjs"], cwd=UI_DIR,
                       env=node_env(server, READER_TOKEN=reader, WRITER_TOKEN=writer),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    print(p.stdout)
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout[-6000:]
    assert reader not in server.log_text() and writer not in server.log_text()
