"""One time grammar for since= and until=: RFC 3339, epoch by magnitude,
now, and ages, through /api/logs and the CLI alike."""
import json
import os
import subprocess
import time

from conftest import ROOT

LOGSHIP = os.path.join(os.path.dirname(os.environ.get("LOGSHIPD", os.path.join(ROOT, "build", "logshipd"))), "logship")


def seed(server):
    now = time.time()
    recs = [{"msg": "3h ago", "ts": now - 3 * 3600}, {"msg": "1h ago", "ts": now - 3600},
            {"msg": "just now", "ts": now}]
    body = "".join(json.dumps(r) + "\n" for r in recs)
    assert server.post("/api/log", body, "application/x-ndjson")[0] == 200
    return now


def msgs(server, **params):
    return [r["msg"] for r in server.logs(**params)]


def test_every_form_selects_the_same_records(server):
    now = seed(server)
    two_h = now - 2 * 3600
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(two_h))
    want = ["1h ago", "just now"]
    assert msgs(server, since="2h") == want
    assert msgs(server, since="120m") == want
    assert msgs(server, since="1.9h") == want
    assert msgs(server, since=iso) == want
    assert msgs(server, since=str(int(two_h))) == want                 # epoch s
    assert msgs(server, since=str(int(two_h * 1000))) == want          # ms
    assert msgs(server, since=str(int(two_h * 1_000_000))) == want     # us
    assert msgs(server, since=str(int(two_h * 1_000_000_000))) == want  # ns
    assert msgs(server, until="90m") == ["3h ago"]
    assert msgs(server, until="30m") == ["3h ago", "1h ago"]
    assert msgs(server, since="2h", until="30m") == ["1h ago"]
    assert msgs(server, since="now") == []


def test_a_bad_time_lists_what_is_accepted(server):
    for bad in ("yesterday", "2h ago", "-1h", "13:00"):
        st, data = server.request("GET", "/api/logs?since=" + bad.replace(" ", "%20"))
        assert st == 400, bad
        err = json.loads(data)["error"]
        assert err.startswith("bad since: use RFC 3339") and "age before now (90s, 15m, 2h" in err
    st, data = server.request("GET", "/api/logs?until=soon")
    assert st == 400 and json.loads(data)["error"].startswith("bad until:")


def test_the_cli_takes_the_same_forms(server):
    seed(server)
    for since in ("2h", "120m"):
        out = subprocess.run([LOGSHIP, "query", "--server", server.url, "--since", since, "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert [json.loads(x)["msg"] for x in out.stdout.splitlines()] == ["1h ago", "just now"]
