"""`logship query` and `logship tail` output against the real logshipd: the
default line (time, level, topic, host, app, message), --format templates
with every placeholder, escaping inside templates, and template errors."""
import json
import socket
import time

import pytest

from test_cli_query import logship, query
from test_cli_tail import env_for, ingest, tail  # noqa: F401 (tail is a fixture)

RECORDS = [
    {"ts": "2026-11-21T10:45:56Z", "level": "error", "app": "web", "host": "web-1",
     "topic": "web.errors", "pid": 4242, "msg": "upstream timeout",
     "user": {"id": 42, "name": "ann"}, "retry": True, "tags": ["a", "b"]},
    {"ts": "2026-11-21T10:45:57Z", "level": "info", "app": "db", "msg": "plain"},
]


def test_default_line_shows_topic_and_host(server):
    ingest(server, RECORDS)
    # a syslog record: its topic is <facility>.<level>, its host the HOSTNAME
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"<155>1 2026-11-21T10:45:58Z mail-7 postfix 99 - - queue full",
                 ("127.0.0.1", server.ports["syslog-udp"]))
    deadline = time.monotonic() + 10
    while len(server.logs()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    r = query(server)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == (
        "[2026-11-21 10:45:56] [ERROR] web.errors web-1 web: upstream timeout\n"
        # no host in the record: HTTP ingest gives it the sender's address
        "[2026-11-21 10:45:57] [INFO] db.info 127.0.0.1 db: plain\n"
        "[2026-11-21 10:45:58] [ERROR] local3.error mail-7 postfix: queue full\n")


def test_query_format_every_placeholder(server):
    ingest(server, RECORDS)
    seq = server.logs(limit=1)[0]["seq"] - 1  # the first record's
    r = query(server, "--format",
              "{seq}|{ts}|{level}|{topic}|{app}|{host}|{pid}|{msg}|{fields.user.id}|"
              "{fields.user.name}|{fields.retry}|{fields.tags}|{fields.nope}")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines == [
        f"{seq}|2026-11-21 10:45:56|ERROR|web.errors|web|web-1|4242|upstream timeout|42|ann|"
        'true|["a","b"]|-',
        f"{seq + 1}|2026-11-21 10:45:57|INFO|db.info|db|127.0.0.1|-|plain|-|-|-|-|-",
    ]
    # {fields}: the fields object as JSON; "-" when there are none
    r = query(server, "--format", "{fields}")
    first, second = r.stdout.decode().splitlines()
    assert json.loads(first) == {"user.id": 42, "user.name": "ann", "retry": True,
                                 "tags": ["a", "b"]}
    assert second == "-"
    # braces, literal text, local time
    r = query(server, "-n", "1", "--format", "{{{app}}} at {ts}: {{msg}}",
              env=env_for(TZ="XST-2"))
    assert r.stdout.decode() == "{db} at 2026-11-21 12:45:57: {msg}\n"


def test_format_escapes_every_field(server):
    ingest(server, [{"ts": "2026-11-21T10:45:56Z", "app": "a\x1b[2J", "host": "h\u202e",
                     "topic": "t\x07", "msg": "m\nx", "evil": "e\x1b]0;x\x07\u2066",
                     "level": "warning"}])
    r = query(server, "--format", "{app}|{host}|{topic}|{msg}|{fields.evil}|{fields}")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out == ("a\\x1b[2J|h\\u202e|t\\x07|m\\nx|e\\x1b]0;x\\x07\\u2066|"
                   '{"evil":"e\\u001b]0;x\\u0007\\u2066"}\n')
    assert "\x1b" not in out and "\u202e" not in out
    # {fields} stays JSON
    assert json.loads(out.rstrip("\n").split("|")[-1]) == {"evil": "e\x1b]0;x\x07\u2066"}


@pytest.mark.parametrize("template,needle", [
    ("{nope}", "not {nope}"),
    ("{msg} {Level}", "not {Level}"),
    ("{fields.}", "not {fields.}"),
    ("{msg", "'{' without '}'"),
    ("msg}", "'}' without '{'"),
])
@pytest.mark.parametrize("command", ["query", "tail"])
def test_format_errors(command, template, needle):
    r = logship(command, "--server", "http://127.0.0.1:1", "--format", template)
    assert r.returncode == 2
    err = r.stderr.decode()
    assert needle in err, err
    if "placeholder" in err:
        assert ("{ts} {level} {topic} {app} {host} {pid} {msg} {seq} {fields} {fields.NAME}"
                in err)
    assert r.stdout == b""


def test_format_and_json_exclude_each_other():
    for command in ("query", "tail"):
        r = logship(command, "--server", "http://127.0.0.1:1", "--json", "--format", "{msg}")
        assert r.returncode == 2 and "not both" in r.stderr.decode()
    r = logship("tail", "--server", "http://127.0.0.1:1", "--file", "log/x", "--format", "{msg}")
    assert r.returncode == 2 and "--format is for records" in r.stderr.decode()


def test_tail_format(server, tail):
    ingest(server, RECORDS[:1])
    t = tail("--server", server.url, "-n", "1", "--format", "{level} {topic} {host}: {msg} "
             "({fields.user.name})")
    assert t.text(1) == "ERROR web.errors web-1: upstream timeout (ann)\n"
    ingest(server, RECORDS[1:])
    assert t.text(1) == "INFO db.info 127.0.0.1: plain (-)\n"
    assert t.stop() == 0


def test_tail_default_line_shows_topic_and_host(server, tail):
    ingest(server, RECORDS)
    t = tail("--server", server.url, "-n", "2")
    assert t.text(2) == ("[2026-11-21 10:45:56] [ERROR] web.errors web-1 web: upstream timeout\n"
                         "[2026-11-21 10:45:57] [INFO] db.info 127.0.0.1 db: plain\n")
    assert t.stop() == 0


def test_help_documents_format():
    for command in ("query", "tail"):
        text = logship(command, "--help").stdout.decode()
        assert "--format TEMPLATE" in text
        assert "{ts} {level} {topic} {app} {host} {pid} {msg} {seq} {fields} {fields.NAME}" in text
        assert "[{ts}] [{level}] {topic} {host} {app}: {msg}" in text
