"""liblogship over tls://, driven by clients/client_driver.c, against a
plain logshipd behind the TLS proxy of tlsproxy.py: records logged from
several threads are stored, once and in order; a client certificate is
presented when asked for; a server that does not verify is reported by
logship_connect_status() with the reason and retried with backoff (and
nothing is stored); unusable TLS files fail logship_open()."""
import json
import os
import subprocess
import time

import pytest

from conftest import LOGSHIPD

DRIVER = os.path.join(os.path.dirname(LOGSHIPD), "client_driver")


def run_driver(*args, timeout=120):
    r = subprocess.run([DRIVER, *map(str, args)], capture_output=True, timeout=timeout,
                       text=True)
    outs = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return r, outs


def all_logs(server, n, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        got = server.logs(limit=1000000)
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def test_records_are_stored_over_tls(server, tls_proxy, tls_certs):
    p = tls_proxy(server.ports["tcp"])
    r, outs = run_driver("--url", f"tls://127.0.0.1:{p.port}", "--ca", tls_certs["ca"],
                         "--count", 3000, "--threads", 3, "--batch-records", 500,
                         "--connect-status", 10000, "--close-timeout", 30000)
    assert r.returncode == 0, r.stderr
    status, res = outs
    assert status == {"connect_rc": 0, "why": ""}
    assert res["ok"] == 9000 and res["acked"] == 9000 and res["close_rc"] == 0, res
    assert res["connect_failures"] == 0 and res["connects"] >= 1, res
    got = [g["msg"] for g in all_logs(server, 9000)]
    assert len(got) == 9000
    for t in range(3):
        assert [m for m in got if m.startswith(f"m t{t} ")] == [f"m t{t} {i}" for i in range(3000)]
    assert p.accepted >= 1


def test_client_certificate(server, tls_proxy, tls_certs):
    p = tls_proxy(server.ports["tcp"], client_ca="ca")
    r, outs = run_driver("--url", f"tls://localhost:{p.port}", "--ca", tls_certs["ca"],
                         "--cert", tls_certs["client"], "--key", tls_certs["client_key"],
                         "--count", 100, "--connect-status", 10000)
    assert r.returncode == 0, r.stderr
    assert outs[0]["connect_rc"] == 0 and outs[1]["acked"] == 100, outs
    assert len(all_logs(server, 100)) == 100
    assert p.client_subjects == ["logship test client"]

    # without one the server refuses the session, after the handshake (TLS 1.3)
    r, outs = run_driver("--url", f"tls://localhost:{p.port}", "--ca", tls_certs["ca"],
                         "--count", 1, "--connect-status", 10000, "--close-timeout", 300)
    assert outs[0]["connect_rc"] == -9, outs  # LOGSHIP_ECONNECT
    assert "the server refused the TLS session (alert: certificate required)" in outs[0]["why"]
    assert f"127.0.0.1:{p.port}" in outs[0]["why"]
    assert r.returncode == 3 and outs[1]["acked"] == 0, outs


@pytest.mark.parametrize("cert,ca,host,reason", [
    ("server", "other_ca", "127.0.0.1",
     "TLS handshake failed: certificate verify failed: unable to get local issuer certificate"),
    ("expired", "ca", "127.0.0.1", "TLS handshake failed: certificate verify failed: "
                                   "certificate has expired"),
    ("server_ip", "ca", "localhost", "TLS handshake failed: certificate verify failed: "
                                     "hostname mismatch"),
    ("server_dns", "ca", "127.0.0.1", "TLS handshake failed: certificate verify failed: "
                                      "IP address mismatch"),
])
def test_verify_failure_is_reported_and_retried(server, tls_proxy, tls_certs, cert, ca, host,
                                                reason):
    p = tls_proxy(server.ports["tcp"], cert=cert)
    r, outs = run_driver("--url", f"tls://{host}:{p.port}", "--ca", tls_certs[ca],
                         "--count", 10, "--connect-status", 10000, "--backoff-max", 50,
                         "--close-timeout", 1500)
    status, res = outs
    assert status["connect_rc"] == -9, status  # LOGSHIP_ECONNECT
    assert status["why"] == f"127.0.0.1:{p.port}: {reason}", status
    # it went on trying (with backoff) until the close gave up; nothing stored
    assert res["connect_failures"] >= 2 and res["connects"] == 0, res
    assert res["acked"] == 0 and r.returncode == 3, res
    assert p.accepted == 0
    assert server.logs() == []


def test_unusable_tls_files_fail_open(tls_certs):
    for args in (["--ca", "/nonexistent/ca.pem"],
                 ["--ca", tls_certs["client_key"]],
                 ["--cert", tls_certs["client"], "--key", tls_certs["server_key"]]):
        r, outs = run_driver("--url", "tls://127.0.0.1:1", *args, "--count", 1)
        assert r.returncode == 1 and outs == [], r.stderr
        assert "logship_open: TLS file unusable (CA, certificate or key)" in r.stderr, r.stderr
    # TLS files with a tcp:// URL: a mistake, not a reason to send in clear
    r, outs = run_driver("--url", "tcp://127.0.0.1:1", "--ca", tls_certs["ca"], "--count", 1)
    assert r.returncode == 1 and "logship_open: invalid argument" in r.stderr, r.stderr
