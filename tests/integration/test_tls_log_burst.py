"""TLS handshake failures in the log are rate limited (src/tls/tls_log.h): a
burst of failed handshakes (a scanner) on the HTTPS port and on --tcp-tls
gives at most TLS_LOG_BURST lines one by one per listener and one line
saying the rest are only counted; /metrics counts every one; once the
window has passed, one line reports how many were not logged."""
import re
import socket
import time

import requests

from test_tls import certs, read_all, tls_args  # noqa: F401

BURST = 5    # TLS_LOG_BURST
N = 40       # the scanner's connections per listener
# a TLS record holding a whole ClientHello that is not one (version 0.0,
# nothing after it): refused at once with an alert
GARBAGE = b"\x16\x03\x01\x00\x10" + b"\x01\x00\x00\x0c" + b"\x00" * 12


def hit(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(GARBAGE)
        read_all(s)


def metric(s, certs, name):  # noqa: F811
    r = requests.get(f"https://127.0.0.1:{s.port}/metrics", verify=certs.ca_pem, timeout=10)
    m = re.search("^" + re.escape(name) + r" (\d+)$", r.text, re.M)
    return int(m.group(1))


def wait_for_line(s, pattern, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = [ln for ln in s.log_lines if re.search(pattern, ln)]
        if got:
            return got
        time.sleep(0.1)
    return []


def test_a_burst_of_failed_handshakes_is_a_bounded_number_of_lines(make_server, certs):  # noqa
    s = make_server(*tls_args(certs, inputs=False), "--tcp-tls", "127.0.0.1:0")
    for _ in range(N):
        hit(s.port)
        hit(s.ports["tcp-tls"])
    for kind, name in (("http", "http"), ("tcp", "tcp-tls")):
        assert metric(s, certs,
                      f'logship_tls_handshake_failures_total{{listener="{kind}"}}') == N
        one_by_one = [ln for ln in s.log_lines if f"{name}: 127.0.0.1" in ln]
        assert len(one_by_one) == BURST, (name, one_by_one)
        muted = [ln for ln in s.log_lines
                 if f"{name}: more than {BURST} TLS failures within" in ln]
        assert len(muted) == 1, (name, s.log_text())
    # the stream listener's timer reports the held-back count once the
    # window has passed
    got = wait_for_line(s, rf"tcp-tls: {N - BURST} more TLS failures in \d+ s were not logged")
    assert len(got) == 1, s.log_text()
    # the HTTP side says so at its next failure, which is logged again
    hit(s.port)
    got = wait_for_line(s, rf"http: {N - BURST} more TLS failures in \d+ s were not logged")
    assert len(got) == 1, s.log_text()
    assert len([ln for ln in s.log_lines if "http: 127.0.0.1" in ln]) == BURST + 1
    # and the listeners still serve
    assert requests.get(f"https://127.0.0.1:{s.port}/healthz", verify=certs.ca_pem,
                        timeout=10).status_code == 200
