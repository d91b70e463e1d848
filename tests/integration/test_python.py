"""The logship Python package (clients/python): LogshipHandler on
liblogship, pip-installed into a venv against `make install`'s tree (the
fixture `installed`), run by that venv's Python against the real logshipd.

What arrives (message, level, time, app, host, pid, thread, exc_info,
stack_info, extra=); a server down at the start and up later; a stopped
(SIGSTOP) server that the log calls do not wait for; 4 threads x 100,000
records stored exactly once; fork; asyncio; dictConfig; the exit flush;
errors that go to handleError and never to the caller; TLS to a logshipd
with --tcp-tls (its CA, a client certificate, a CA that does not verify);
and the install through CFLAGS/LDFLAGS instead of pkg-config.
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import ROOT, Server

PKG = os.path.join(ROOT, "clients", "python")


def make_venv(path, env):
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", path], check=True,
                   timeout=120)
    py = os.path.join(path, "bin", "python")
    # from a copy: setuptools builds in the source directory
    src = os.path.join(path, "src")
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    r = subprocess.run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--no-cache-dir", src], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return py


class Py:
    def __init__(self, python, env, tmp):
        self.python, self.env, self.tmp = python, env, tmp
        self.n = 0

    def script(self, code):
        self.n += 1
        path = os.path.join(self.tmp, f"script{self.n}.py")
        with open(path, "w") as f:
            f.write(PRELUDE + textwrap.dedent(code))
        return path

    def run(self, code, *args, timeout=300):
        r = subprocess.run([self.python, self.script(code), *map(str, args)],
                           capture_output=True, text=True, env=self.env, timeout=timeout)
        return r

    def start(self, code, *args):
        return subprocess.Popen([self.python, self.script(code), *map(str, args)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env)


@pytest.fixture(scope="module")
def py(installed, tmp_path_factory):
    """A venv with logship installed from the DESTDIR tree through
    pkg-config (PKG_CONFIG_PATH and PKG_CONFIG_SYSROOT_DIR), and
    LD_LIBRARY_PATH to load liblogship from there."""
    tmp = str(tmp_path_factory.mktemp("py"))
    env = installed.staged_env()
    python = make_venv(os.path.join(tmp, "venv"), env)
    return Py(python, env, tmp)


def tcp_url(server):
    return f"tcp://127.0.0.1:{server.ports['tcp']}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def records(server, n=1, timeout=60, **params):
    """Every stored record (paged by seq), once at least n are there."""
    deadline = time.time() + timeout
    while True:
        out, after = [], 0
        while True:
            page = server.logs(after=after, limit=100000, **params)
            out += page
            if len(page) < 100000:
                break
            after = page[-1]["seq"]
        if len(out) >= n or time.time() > deadline:
            return out
        time.sleep(0.2)


def plain(recs):
    """Without liblogship's drop notices."""
    return [r for r in recs if "logship_dropped" not in r.get("fields", {})]


PRELUDE = """
import json, logging, os, sys, threading, time
import logship
"""


def test_version_is_the_tree_s(py):
    """One version: the package's is the C tree's (src/common/version.h)."""
    import re
    want = re.search(r'#define LOGSHIP_VERSION "(.*)"',
                     open(os.path.join(ROOT, "src/common/version.h")).read()).group(1)
    r = subprocess.run([py.python, "-c", "import logship; print(logship.__version__)"],
                       capture_output=True, text=True, env=py.env)
    assert r.stdout.strip() == want, r.stderr
    meta = subprocess.run([py.python, "-m", "pip", "show", "logship"], capture_output=True,
                          text=True, env=py.env).stdout
    assert f"Version: {want}" in meta


def test_fields_of_a_record(py, server):
    r = py.run("""
    created = []
    class Keep(logging.Filter):
        def filter(self, rec):
            created.append(rec.created)
            return True
    log = logging.getLogger("billing.api")
    log.setLevel(logging.DEBUG)
    h = logship.LogshipHandler(sys.argv[1])
    h.addFilter(Keep())
    log.addHandler(h)
    log.info("invoice %s overdue by %d days", "INV-7", 12, extra={"user": 42, "req": "r-1"})
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("charge failed")
    log.warning("stack here", stack_info=True)
    log.debug("dbg")
    log.critical("crit")
    log.log(25, "between info and warning")
    logging.getLogger("other").addHandler(h)
    logging.getLogger("other").error("caf\\u00e9 \\udcff")  # a lone surrogate
    t = threading.Thread(target=lambda: log.error("from a thread"), name="worker-7")
    t.start(); t.join()
    own = logship.LogshipHandler(sys.argv[1], app="fixed-app", topic="pay.events")
    logging.getLogger("x.y").addHandler(own)
    logging.getLogger("x.y").warning("own app and topic")
    print(json.dumps({"ok": h.flush(30) and own.flush(30), "created": created,
                      "pid": os.getpid(), "stats": h.stats()}))
    """, tcp_url(server))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] and out["stats"]["sent"] == 8 and out["stats"]["dropped"] == 0
    recs = records(server, 9)
    assert len(recs) == 9, recs
    by = {x["msg"]: x for x in recs}
    first = by["invoice INV-7 overdue by 12 days"]
    assert first["level"] == "info" and first["app"] == "billing.api"
    assert first["topic"] == "billing.api.info"
    assert first["host"] == socket.gethostname() and str(first["pid"]) == str(out["pid"])
    assert first["fields"] == {"thread": "MainThread", "user": "42", "req": "r-1"}
    # the time is record.created's (to the microsecond a float holds)
    ts = server.logs(limit=1, after=first["seq"] - 1, order="asc")[0]["ts"]
    sec, frac = ts.rstrip("Z").split(".")
    t = time.mktime(time.strptime(sec, "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0." + frac)
    assert abs(t - out["created"][0]) < 2e-6
    exc = by["charge failed"]
    assert exc["level"] == "error"
    assert exc["fields"]["exc_info"].startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in exc["fields"]["exc_info"]
    st = by["stack here"]
    assert st["level"] == "warning" and st["fields"]["stack_info"].startswith("Stack (most recent")
    assert by["dbg"]["level"] == "debug" and by["crit"]["level"] == "crit"
    assert by["between info and warning"]["level"] == "info"
    # a lone surrogate (no UTF-8 for it) is replaced, the rest kept
    odd = [x for x in recs if x["app"] == "other"]
    assert len(odd) == 1 and odd[0]["msg"].startswith("caf\u00e9 ") and len(odd[0]["msg"]) == 6
    assert by["from a thread"]["fields"]["thread"] == "worker-7"
    o = by["own app and topic"]
    assert o["app"] == "fixed-app" and o["topic"] == "pay.events"


def test_server_down_at_start_then_up(py, tmp_path):
    """Nothing listens when the records are logged: they wait in the queue
    and all arrive, once, when logshipd comes up on that port."""
    port = free_port()
    p = py.start("""
    log = logging.getLogger("late")
    h = logship.LogshipHandler(sys.argv[1], flush_timeout=120)
    log.addHandler(h)
    for i in range(5000):
        log.warning("queued %d", i)
    print("logged", flush=True)
    ok = h.flush()
    print(json.dumps({"ok": ok, "stats": h.stats()}), flush=True)
    """, f"tcp://127.0.0.1:{port}")
    s = None
    try:
        assert p.stdout.readline().strip() == "logged"
        assert p.poll() is None  # still waiting for a server
        s = Server(tmp_path / "data", ["--tcp", f"127.0.0.1:{port}"]).start()
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        res = json.loads(out)
        assert res["ok"] and res["stats"]["sent"] == 5000 and res["stats"]["dropped"] == 0
        msgs = [x["msg"] for x in records(s, 5000)]
        assert msgs == [f"queued {i}" for i in range(5000)]
        assert s.stop() == 0
    finally:
        if p.poll() is None:
            p.kill()
        if s is not None and s.proc is not None:
            s.stop()


def test_stopped_server_does_not_stop_the_caller(py, make_server):
    """logshipd is SIGSTOPped (connected, never answering): 200,000 log
    calls with a 1 MiB queue all return while it is stopped (what does not
    fit is dropped, oldest first, and counted); once it runs again, every
    record that was not dropped arrives."""
    s = make_server()
    p = subprocess.Popen([py.python, py.script("""
    log = logging.getLogger("stopped")
    h = logship.LogshipHandler(sys.argv[1], queue_bytes=1 << 20, flush_timeout=120)
    log.addHandler(h)
    log.warning("first")
    assert h.flush(60)
    print("connected", flush=True)
    sys.stdin.readline()  # the server is stopped now
    for i in range(200000):
        log.warning("m %d", i)
    print("logged", flush=True)
    sys.stdin.readline()  # the server runs again
    h.flush()
    print(json.dumps(h.stats()), flush=True)
    """), tcp_url(s)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=py.env)
    try:
        assert p.stdout.readline().strip() == "connected"
        s.proc.send_signal(signal.SIGSTOP)
        try:
            p.stdin.write("go\n")
            p.stdin.flush()
            # every call returned while the server could take nothing
            assert p.stdout.readline().strip() == "logged"
            assert s.proc.poll() is None
        finally:
            s.proc.send_signal(signal.SIGCONT)
        p.stdin.write("go\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        st = json.loads(out)
        assert st["dropped"] > 0 and st["queued"] == 200001
        every = records(s, st["sent"])
        assert len(every) == st["sent"]
        recs = plain(every)
        notices = len(every) - len(recs)  # liblogship's "N records dropped" records
        assert notices >= 1
        assert len(recs) + st["dropped"] == 200001 and st["pending"] == 0
        msgs = [x["msg"] for x in recs]
        assert msgs[0] == "first"
        # drop_oldest: what arrived is the newest, in order, each once
        nums = [int(m.split()[1]) for m in msgs[1:]]
        assert nums == sorted(set(nums)) and nums[-1] == 199999
    finally:
        if p.poll() is None:
            p.kill()


def test_four_threads_each_record_once(py, server):
    r = py.run("""
    log = logging.getLogger("threads")
    log.setLevel(logging.INFO)
    h = logship.LogshipHandler(sys.argv[1], queue_bytes=128 << 20, flush_timeout=300)
    log.addHandler(h)
    def work(t):
        for i in range(100000):
            log.info("t%d %d", t, i)
    ts = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in ts: t.start()
    for t in ts: t.join()
    print(json.dumps({"ok": h.flush(), "stats": h.stats()}))
    """, tcp_url(server), timeout=600)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["ok"] and res["stats"]["sent"] == 400000 and res["stats"]["dropped"] == 0
    recs = records(server, 400000, timeout=120)
    assert len(recs) == 400000
    seen = {}
    for x in recs:
        t, i = x["msg"].split()
        seen.setdefault(t, []).append(int(i))
    assert sorted(seen) == ["t0", "t1", "t2", "t3"]
    for t, nums in seen.items():
        assert nums == list(range(100000)), t  # each once, in each thread's order


def test_fork(py, server):
    """Parent and child both log after the fork; the child's records carry
    its pid, and nothing is lost or sent twice."""
    r = py.run("""
    log = logging.getLogger("forked")
    h = logship.LogshipHandler(sys.argv[1], flush_timeout=60)
    log.addHandler(h)
    log.warning("before fork")
    h.flush()
    pid = os.fork()
    if pid == 0:
        for i in range(1000):
            log.warning("child %d", i)
        ok = h.flush()
        st = h.stats()
        os._exit(0 if ok and st["sent"] == 1000 else 3)
    for i in range(1000):
        log.warning("parent %d", i)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"child": pid, "status": status, "ok": h.flush(), "stats": h.stats()}))
    """, tcp_url(server))
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["status"] == 0 and res["ok"]
    recs = records(server, 2001)
    assert len(recs) == 2001
    child = [x for x in recs if x["msg"].startswith("child ")]
    parent = [x for x in recs if x["msg"].startswith("parent ")]
    assert [x["msg"] for x in child] == [f"child {i}" for i in range(1000)]
    assert [x["msg"] for x in parent] == [f"parent {i}" for i in range(1000)]
    assert {str(x["pid"]) for x in child} == {str(res["child"])}
    assert str(res["child"]) not in {str(x["pid"]) for x in parent}


def test_asyncio_loop_is_not_held(py, make_server):
    """Coroutines log 20,000 records while logshipd is stopped; another
    task that yields to the loop after each step finishes its 20,000 steps
    too, before the server runs again: the loop was never held."""
    s = make_server()
    p = subprocess.Popen([py.python, py.script("""
    import asyncio
    log = logging.getLogger("aio")
    log.setLevel(logging.INFO)
    h = logship.LogshipHandler(sys.argv[1], flush_timeout=120)
    log.addHandler(h)
    log.info("up"); assert h.flush(60)
    print("connected", flush=True)
    sys.stdin.readline()
    async def logger(k):
        for i in range(5000):
            log.info("c%d %d", k, i)
            await asyncio.sleep(0)
    steps = 0
    async def ticker():
        global steps
        for _ in range(20000):
            steps += 1
            await asyncio.sleep(0)
    async def main():
        await asyncio.gather(ticker(), *(logger(k) for k in range(4)))
    asyncio.run(main())
    print("done", steps, flush=True)
    sys.stdin.readline()
    print(json.dumps({"ok": h.flush(), "stats": h.stats()}), flush=True)
    """), tcp_url(s)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=py.env)
    try:
        assert p.stdout.readline().strip() == "connected"
        s.proc.send_signal(signal.SIGSTOP)
        try:
            p.stdin.write("go\n")
            p.stdin.flush()
            assert p.stdout.readline().split() == ["done", "20000"]
        finally:
            s.proc.send_signal(signal.SIGCONT)
        p.stdin.write("go\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        res = json.loads(out)
        assert res["ok"] and res["stats"]["sent"] == 20001 and res["stats"]["dropped"] == 0
        assert len(records(s, 20001)) == 20001
    finally:
        if p.poll() is None:
            p.kill()


def test_dictconfig(py, server):
    r = py.run("""
    import logging.config
    logging.config.dictConfig({
        "version": 1,
        "formatters": {"short": {"format": "%(levelname)s %(name)s: %(message)s"}},
        "handlers": {"ship": {"class": "logship.LogshipHandler", "url": sys.argv[1],
                              "level": "INFO", "formatter": "short", "topic": "cfg.test",
                              "flush_timeout": 30}},
        "loggers": {"svc": {"handlers": ["ship"], "level": "DEBUG"}},
    })
    log = logging.getLogger("svc")
    log.debug("not this one")
    log.info("configured %d", 1)
    logging.shutdown()
    """, tcp_url(server))
    assert r.returncode == 0, r.stderr
    recs = records(server, 1)
    assert [(x["msg"], x["topic"], x["app"]) for x in recs] == [
        ("INFO svc: configured 1", "cfg.test", "svc")]


def test_exit_flushes(py, server):
    """No flush, no close: the exit flush delivers everything."""
    r = py.run("""
    log = logging.getLogger("bye")
    log.addHandler(logship.LogshipHandler(sys.argv[1], flush_timeout=60))
    for i in range(3000):
        log.error("last words %d", i)
    """, tcp_url(server))
    assert r.returncode == 0, r.stderr
    assert [x["msg"] for x in records(server, 3000)] == [f"last words {i}" for i in range(3000)]


def test_exit_with_no_server_is_bounded(py):
    """Nothing listens: the program still ends, after flush_timeout."""
    r = py.run("""
    log = logging.getLogger("nobody")
    h = logship.LogshipHandler(sys.argv[1], flush_timeout=0.5)
    h2 = logship.LogshipHandler(sys.argv[1], flush_timeout=0.5)
    log.addHandler(h); log.addHandler(h2)
    log.error("lost")
    print(json.dumps(h.stats()))
    """, f"tcp://127.0.0.1:{free_port()}", timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["sent"] == 0


def test_errors_go_to_handle_error_never_to_the_caller(py, server):
    r = py.run("""
    log = logging.getLogger("bad")
    log.setLevel(logging.INFO)
    h = logship.LogshipHandler(sys.argv[1])
    log.addHandler(h)
    log.info("two %s %s", "args?")          # a bad format: handleError prints it
    class Boom:
        def __str__(self): raise RuntimeError("no str")
    log.info("extra that can not be shown", extra={"b": Boom()})
    log.info("after the bad ones")
    ok = h.flush(30)
    h.close()
    log.info("after close: dropped")        # no error either
    try:
        logship.LogshipHandler("http://x:1")
    except ValueError as e:
        print("ValueError", e, file=sys.stderr)
    try:
        logship.LogshipHandler(sys.argv[1].replace("tcp:", "tls:"), tls=False)
    except ValueError as e:
        print("ValueError", e, file=sys.stderr)
    print(json.dumps({"ok": ok}))
    """, tcp_url(server))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ok"]
    assert r.stderr.count("--- Logging error ---") == 2, r.stderr
    assert "not all arguments converted" in r.stderr or "not enough arguments" in r.stderr
    assert "RuntimeError: no str" in r.stderr
    assert r.stderr.count("ValueError logship:") == 2
    assert [x["msg"] for x in records(server, 1)] == ["after the bad ones"]


def test_install_with_cflags_and_ldflags(installed, tmp_path, server):
    """Without pkg-config's file: CFLAGS and LDFLAGS find the library."""
    env = installed.staged_env()
    env.pop("PKG_CONFIG_PATH")
    env.pop("PKG_CONFIG_SYSROOT_DIR")
    env["PKG_CONFIG_LIBDIR"] = str(tmp_path / "none")  # so pkg-config finds nothing
    env["CFLAGS"] = f"-I{installed.destdir}/usr/include"
    env["LDFLAGS"] = f"-L{installed.staged_libdir}"
    python = make_venv(str(tmp_path / "venv"), env)
    code = "import logging, sys, logship\n" \
           "h = logship.LogshipHandler(sys.argv[1]); l = logging.getLogger('cf')\n" \
           "l.addHandler(h); l.warning('via CFLAGS'); assert h.flush(30)\n"
    r = subprocess.run([python, "-c", code, tcp_url(server)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert [x["msg"] for x in records(server, 1)] == ["via CFLAGS"]
    shutil.rmtree(tmp_path / "venv")


def test_block_lets_the_gil_go(py, make_server):
    """overflow="block" with logshipd stopped and the queue full: the call
    waits for room up to block_timeout, then drops the record; while it
    waits, another Python thread runs (the GIL was let go)."""
    s = make_server()
    p = subprocess.Popen([py.python, py.script("""
    log = logging.getLogger("blk")
    h = logship.LogshipHandler(sys.argv[1], overflow="block", block_timeout=0.5,
                               queue_bytes=64 << 10, flush_timeout=120)
    log.addHandler(h)
    log.warning("up"); assert h.flush(60)
    print("connected", flush=True)
    sys.stdin.readline()
    ticks = 0
    stop = False
    def ticker():
        global ticks
        while not stop:
            ticks += 1
            time.sleep(0.001)
    threading.Thread(target=ticker, daemon=True).start()
    i = 0
    while h.stats()["dropped"] == 0 and i < 100000:  # until a call had to wait in vain
        before = ticks
        log.warning("b %d %s", i, "x" * 200)
        i += 1
    during = ticks - before
    stop = True
    print(json.dumps({"calls": i, "ticks_during_last_call": during, "stats": h.stats()}),
          flush=True)
    sys.stdin.readline()
    print(json.dumps({"ok": h.flush(), "stats": h.stats()}), flush=True)
    """), tcp_url(s)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=py.env)
    try:
        assert p.stdout.readline().strip() == "connected"
        s.proc.send_signal(signal.SIGSTOP)
        try:
            p.stdin.write("go\n")
            p.stdin.flush()
            res = json.loads(p.stdout.readline())
        finally:
            s.proc.send_signal(signal.SIGCONT)
        assert res["stats"]["dropped"] >= 1 and res["calls"] < 100000
        assert res["ticks_during_last_call"] > 10, res  # the other thread ran meanwhile
        p.stdin.write("go\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        fin = json.loads(out)
        assert fin["ok"]
        stored = plain(records(s, fin["stats"]["sent"]))
        assert len(stored) + fin["stats"]["dropped"] == res["calls"] + 1
    finally:
        if p.poll() is None:
            p.kill()


def test_spool_outlives_the_process(py, tmp_path):
    """No server: the records go to spool_dir at exit; the next process on
    the same spool directory, with logshipd up, delivers them."""
    port = free_port()
    spool = tmp_path / "spool"
    r = py.run("""
    log = logging.getLogger("spooled")
    h = logship.LogshipHandler(sys.argv[1], spool_dir=sys.argv[2], flush_timeout=0.2)
    log.addHandler(h)
    for i in range(500):
        log.warning("kept %d", i)
    h.close()
    print(json.dumps(h.stats()))
    """, f"tcp://127.0.0.1:{port}", spool)
    assert r.returncode == 0, r.stderr
    assert os.listdir(spool)
    s = Server(tmp_path / "data", ["--tcp", f"127.0.0.1:{port}"]).start()
    try:
        r = py.run("""
        h = logship.LogshipHandler(sys.argv[1], spool_dir=sys.argv[2], flush_timeout=60)
        logging.getLogger("second").addHandler(h)
        logging.getLogger("second").warning("second process")
        print(json.dumps({"ok": h.flush(), "stats": h.stats()}))
        """, f"tcp://127.0.0.1:{port}", spool)
        assert r.returncode == 0, r.stderr
        msgs = [x["msg"] for x in records(s, 501)]
        assert msgs == [f"kept {i}" for i in range(500)] + ["second process"]
    finally:
        assert s.stop() == 0


def test_extension_under_sanitizers(installed, tmp_path, server):
    """The extension built with -Werror, AddressSanitizer and
    UndefinedBehaviorSanitizer (gcc's runtimes preloaded into Python), run
    through records with fields, exceptions, stacks and extras, handlers
    dropped without close, and a close while three threads log with
    overflow="block": no sanitizer report, and the records arrive."""
    env = installed.staged_env()
    env["CC"] = "gcc"
    env["CFLAGS"] = "-Werror -fsanitize=address,undefined -fno-sanitize-recover=undefined " \
                    "-fno-omit-frame-pointer -g"
    env["LDFLAGS"] = "-fsanitize=address,undefined"
    python = make_venv(str(tmp_path / "venv"), env)
    ext = glob.glob(str(tmp_path / "venv/lib/python3*/site-packages/logship/_logship*.so"))
    assert len(ext) == 1, ext
    needed = subprocess.run(["readelf", "-d", ext[0]], capture_output=True, text=True).stdout
    assert "libasan" in needed and "libubsan" in needed  # the flags were used
    rt = [subprocess.run(["gcc", f"-print-file-name={lib}"], capture_output=True, text=True,
                         check=True).stdout.strip() for lib in ("libasan.so", "libubsan.so")]
    env["LD_PRELOAD"] = " ".join(rt)
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:exitcode=86"  # Python's own
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=87"
    code = textwrap.dedent("""
    import gc, logging, sys, threading, logship
    url = sys.argv[1]
    h = logship.LogshipHandler(url, flush_timeout=30)
    log = logging.getLogger("asan"); log.setLevel(logging.DEBUG); log.addHandler(h)
    for i in range(2000):
        log.info("m %s %d \\u00e9", "x", i, extra={"user": i, "obj": [1, 2], "s": "\\udcff"})
        if i % 100 == 0:
            try:
                1 / 0
            except ZeroDivisionError:
                log.exception("e %d", i)
            log.warning("s", stack_info=True)
    log.info("%s %s", "one")  # handleError
    assert h.flush(60)
    for i in range(20):  # dropped without close: deallocation closes
        d = logship.LogshipHandler("tcp://127.0.0.1:1", flush_timeout=0.01, queue_bytes=65536)
        d.handle(logging.makeLogRecord({"msg": "x", "levelno": 30}))
        del d
    gc.collect()
    b = logship.LogshipHandler("tcp://127.0.0.1:1", overflow="block", block_timeout=0.02,
                               queue_bytes=65536, flush_timeout=0.05)
    r = logging.getLogger("race"); r.propagate = False; r.addHandler(b)
    ts = [threading.Thread(target=lambda: [r.warning("r %d", i) for i in range(3000)])
          for _ in range(3)]
    for t in ts: t.start()
    b.close()
    for t in ts: t.join()
    print(h.stats()["sent"])
    """)
    r = subprocess.run([python, "-c", code, tcp_url(server)], capture_output=True, text=True,
                       env=env, timeout=600)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-4000:]
    assert r.returncode == 0, r.stderr[-4000:]
    assert int(r.stdout) == 2000 + 20 * 2  # info, exception and stack records
    assert len(records(server, 2040)) == 2040
    assert r.stderr.count("--- Logging error ---") == 1


def https_records(server, ca, n, cert=None, timeout=60):
    """Every stored record of a logshipd whose --http speaks TLS."""
    import requests
    deadline = time.time() + timeout
    while True:
        r = requests.get(f"https://127.0.0.1:{server.port}/api/logs",
                         params={"limit": 100000, "after": 0}, verify=ca, cert=cert, timeout=30)
        assert r.status_code == 200, r.text
        if len(r.json()) >= n or time.time() > deadline:
            return r.json()
        time.sleep(0.2)


def test_tls_to_logshipd(py, make_server, tls_certs):
    """tls:// (or tls=True) to logshipd's --tcp-tls: the records arrive,
    verified against tls_ca_file, with a client certificate when the server
    asks for one. A CA that does not verify the server, or plain TCP to the
    TLS port, stores nothing and never raises into the caller; the records
    wait in the queue. Bad TLS options raise at construction."""
    c = tls_certs
    s = make_server("--tls-cert", c["server"], "--tls-key", c["server_key"],
                    "--tls-client-ca", c["ca"], "--tcp-tls", "127.0.0.1:0")
    port = s.ports["tcp-tls"]
    r = py.run("""
    url, ca, cert, key, other = sys.argv[1:6]
    log = logging.getLogger("tls")
    log.setLevel(logging.INFO)
    # a CA that did not sign the server's certificate: nothing is sent
    bad = logship.LogshipHandler(url, tls_ca_file=other, tls_cert_file=cert, tls_key_file=key,
                                 flush_timeout=1)
    log.addHandler(bad)
    log.info("never verified")
    bad_ok = bad.flush(1)
    bad_st = bad.stats()
    log.removeHandler(bad)
    bad.close()
    # plain TCP to the TLS port: not TLS, nothing stored
    plain_h = logship.LogshipHandler(url.replace("tls:", "tcp:"), flush_timeout=1)
    log.addHandler(plain_h)
    log.info("plaintext to a TLS port")
    plain_ok = plain_h.flush(1)
    log.removeHandler(plain_h)
    plain_h.close()
    # the server's CA and a client certificate (it has --tls-client-ca)
    h = logship.LogshipHandler(url, tls_ca_file=ca, tls_cert_file=cert, tls_key_file=key,
                               flush_timeout=60)
    log.addHandler(h)
    for i in range(2000):
        log.info("over tls %d", i, extra={"n": i})
    ok = h.flush()
    st = h.stats()
    log.removeHandler(h)
    h.close()
    # tls=True on a tcp:// URL, the key in the certificate's file
    both = os.path.join(os.path.dirname(sys.argv[0]), "client-both.pem")
    with open(both, "w") as f:
        f.write(open(cert).read() + open(key).read())
    h2 = logship.LogshipHandler(url.replace("tls:", "tcp:"), tls=True, tls_ca_file=ca,
                                tls_cert_file=both, flush_timeout=60)
    log.addHandler(h2)
    log.warning("tls=True")
    ok2 = h2.flush()
    errors = []
    for kw in ({"tls_ca_file": "/nonexistent/ca.pem"}, {"tls_ca_file": sys.argv[0]}):
        try:
            logship.LogshipHandler(url, **kw)
        except OSError as e:
            errors.append(("OSError", str(e)))
    for u, kw in ((url, {"tls": False}), (url.replace("tls:", "tcp:"), {"tls_ca_file": ca}),
                  (url, {"tls_key_file": key}), ("https://127.0.0.1:1", {}),
                  (url, {"tls": "yes"})):
        try:
            logship.LogshipHandler(u, **kw)
        except ValueError as e:
            errors.append(("ValueError", str(e)))
    print(json.dumps({"bad_ok": bad_ok, "bad": bad_st, "plain_ok": plain_ok, "ok": ok,
                      "stats": st, "ok2": ok2, "errors": errors}))
    """, f"tls://127.0.0.1:{port}", c["ca"], c["client"], c["client_key"], c["other_ca"])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["bad_ok"] is False and out["bad"]["sent"] == 0 and out["bad"]["connects"] == 0
    assert out["plain_ok"] is False
    assert out["ok"] and out["stats"]["sent"] == 2000 and out["stats"]["dropped"] == 0
    assert out["ok2"]
    kinds = [k for k, _ in out["errors"]]
    assert kinds == ["OSError"] * 2 + ["ValueError"] * 5, out["errors"]
    assert all(m.startswith("logship") for _, m in out["errors"]), out["errors"]
    recs = https_records(s, c["ca"], 2001, cert=(c["client"], c["client_key"]))
    msgs = [x["msg"] for x in recs]
    assert msgs == [f"over tls {i}" for i in range(2000)] + ["tls=True"]
    assert recs[0]["fields"]["n"] == "0" and recs[0]["app"] == "tls"
