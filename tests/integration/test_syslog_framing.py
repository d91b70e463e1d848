"""Syslog over TCP: a frame that starts with a digit but is not RFC 6587
octet counting ("2026-12-02 plain", "5 apples") is an LF-terminated line,
kept whole with fields.parse_error and counted, and the connection and the
frames after it go on. An octet-counted frame longer than --max-line (its
count up to 64 x --max-line) is cut, and the rest of it skipped by its count,
so an LF-less octet-counted stream stays in sync. Sent over raw sockets, whole
and in small pieces, and mixed with real `logger --tcp --octet-count`
traffic."""
import socket
import subprocess
import time

FALLBACK = 'logship_framing_fallbacks_total{input="syslog_tcp"}'
PARSE_ERRORS = 'logship_parse_errors_total{input="syslog_tcp"}'
ACCEPTED = 'logship_records_accepted_total{input="syslog_tcp"}'
TRUNCATED = 'logship_records_truncated_total{input="syslog_tcp"}'


def wait_for(server, n, timeout=10, **q):
    deadline = time.time() + timeout
    while True:
        got = server.logs(**q)
        if len(got) >= n or time.time() > deadline:
            return got
        time.sleep(0.05)


def octet(msg):
    return b"%d %s" % (len(msg), msg)


# (bytes on the wire, the msg stored, is it a framing fallback)
FRAMES = [
    (b"<13>1 2026-12-02T10:00:00Z h app - - - first\n", "first", False),
    (b"2026-12-02 plain\n", "2026-12-02 plain", True),
    (b"5 apples\n", "5 apples", True),
    (octet(b"<13>1 2026-12-02T10:00:01Z h app - - - counted one"), "counted one", False),
    (b"<14>app: lf after counted\n", "lf after counted", False),
    (b"12345678901 ten digits and more\n", "12345678901 ten digits and more", True),
    (b"42\n", "42", True),
    # digits, a space and '<', but over the count ceiling (64 x --max-line,
    # 64K here): not a count
    (b"99999 <13>not really counted\n", "99999 <13>not really counted", True),
    (b"0 <13>zero is no length\n", "0 <13>zero is no length", True),
    (octet(b"<13>1 2026-12-02T10:00:02Z h app - - - counted two"), "counted two", False),
    (b"7 days later\r\n", "7 days later", True),
    (b"<13>1 2026-12-02T10:00:03Z h app - - - last\n", "last", False),
]
WIRE = b"".join(f for f, _, _ in FRAMES)
WANT = [m for _, m, _ in FRAMES]
NFALLBACK = sum(1 for _, _, fb in FRAMES if fb)


def send(port, data, piece=None):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if piece is None:
            s.sendall(data)
        else:
            for i in range(0, len(data), piece):
                s.sendall(data[i:i + piece])
                time.sleep(0.002)  # separate reads on the server side
        # the connection must still be open: nothing was dropped
        s.settimeout(0.3)
        try:
            assert s.recv(1) != b"", "logshipd closed the connection"
        except socket.timeout:
            pass


def check(server, got, rounds):
    assert [g["msg"] for g in got] == WANT * rounds
    for g, (_, _, fallback) in zip(got, FRAMES * rounds):
        pe = g.get("fields", {}).get("parse_error", "")
        if fallback:
            assert "octet" in pe, g
            assert g["level"] == "notice" and g["topic"] == "user.notice"
        else:
            assert not pe, g
    m = server.metrics()
    assert m[FALLBACK] == NFALLBACK * rounds
    assert m[PARSE_ERRORS] == NFALLBACK * rounds
    assert m[ACCEPTED] == len(WANT) * rounds


def test_digit_led_lines_mixed_with_octet_counting(make_server):
    s = make_server("--max-line", "1K")
    send(s.ports["syslog-tcp"], WIRE)
    check(s, wait_for(s, len(WANT)), 1)


def test_digit_led_lines_split_across_reads(make_server):
    s = make_server("--max-line", "1K")
    port = s.ports["syslog-tcp"]
    send(port, WIRE, piece=1)
    check(s, wait_for(s, len(WANT)), 1)
    send(port, WIRE, piece=5)
    check(s, wait_for(s, 2 * len(WANT), limit=100), 2)


def test_stream_goes_on_after_a_digit_led_line_with_logger(make_server):
    """A digit-led line, then real logger traffic on other connections, then
    more frames on the first connection: it was never dropped."""
    s = make_server()
    port = s.ports["syslog-tcp"]
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(b"2026-12-02 plain\n")
        subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(port), "--tcp", "--octet-count",
                        "-t", "oc", "5 apples"], check=True, timeout=10)
        wait_for(s, 2)
        c.sendall(b"5 apples\n" + octet(b"<13>1 - h app - - - still here") + b"\n")
        got = wait_for(s, 4)
    msgs = sorted(g["msg"] for g in got)
    assert msgs == ["2026-12-02 plain", "5 apples", "5 apples", "still here"]
    by_app = [g for g in got if g.get("app") == "oc"]
    assert len(by_app) == 1 and "parse_error" not in by_app[0].get("fields", {})
    m = s.metrics()
    assert m[FALLBACK] == 2
    assert m[ACCEPTED] == 4


def test_long_digit_led_line_is_cut_not_dropped(make_server):
    s = make_server("--max-line", "1K")
    port = s.ports["syslog-tcp"]
    send(port, b"2026 " + b"y" * 5000 + b"\n<14>app: next\n")
    got = wait_for(s, 2)
    assert got[0]["truncated"] is True and got[0]["msg"].startswith("2026 yyy")
    assert "octet" in got[0]["fields"]["parse_error"]
    assert got[1]["msg"] == "next"
    assert s.metrics()[FALLBACK] == 1


def big_frame(tag, size):
    """An RFC 5424 message of about size bytes whose MSG holds LFs, NULs and
    digit-led text: inside a count they are data, not frames."""
    head = b"<13>1 2026-12-02T10:00:00Z h app - - - " + tag + b" "
    filler = b"5 apples\n2026-12-02 plain\x00<14>not a frame\n"
    body = (filler * (size // len(filler) + 1))[: size - len(head)]
    return head + body


def test_octet_count_over_max_line_is_cut_and_stream_stays_in_sync(make_server):
    """An LF-less octet-counted stream (`logger --octet-count` style) with
    frames over --max-line: each is cut to --max-line and marked truncated,
    the rest of its count skipped, and every frame after it is intact."""
    s = make_server("--max-line", "1K")
    port = s.ports["syslog-tcp"]
    wire = (octet(b"<13>1 2026-12-02T10:00:00Z h app - - - before")
            + octet(big_frame(b"big1", 5000))
            + octet(b"<13>1 2026-12-02T10:00:01Z h app - - - between")
            + octet(big_frame(b"big2", 64 * 1024))  # exactly the ceiling
            + octet(b"<13>1 2026-12-02T10:00:02Z h app - - - after"))
    for rounds, piece in ((1, None), (2, 7), (3, 1000)):
        send(port, wire, piece=piece)
        got = wait_for(s, 5 * rounds, limit=100)
        assert len(got) == 5 * rounds, [g["msg"][:40] for g in got]
        last = got[-5:]
        assert [g["msg"] for g in (last[0], last[2], last[4])] == ["before", "between", "after"]
        for g, tag in ((last[1], "big1"), (last[3], "big2")):
            assert g["truncated"] is True, g
            assert g["msg"].startswith(tag + " 5 apples"), g["msg"][:60]
            assert "parse_error" not in g.get("fields", {}), g
        m = s.metrics()
        assert m[TRUNCATED] == 2 * rounds
        assert m[FALLBACK] == 0
        assert m[ACCEPTED] == 5 * rounds


def test_octet_count_over_the_ceiling_is_a_line(make_server):
    """A count above 64 x --max-line is not taken as octet counting: the
    frame is a line (cut to --max-line, flagged), and the stream goes on at
    its LF."""
    s = make_server("--max-line", "1K")
    port = s.ports["syslog-tcp"]
    send(port, b"65537 <13>" + b"q" * 3000 + b"\n"
         + octet(b"<13>1 2026-12-02T10:00:00Z h app - - - next") + b"\n")
    got = wait_for(s, 2)
    assert len(got) == 2
    assert got[0]["msg"].startswith("65537 <13>qqq") and got[0]["truncated"] is True
    assert "octet" in got[0]["fields"]["parse_error"]
    assert got[1]["msg"] == "next"
    m = s.metrics()
    assert m[FALLBACK] == 1
    assert m[TRUNCATED] == 1
