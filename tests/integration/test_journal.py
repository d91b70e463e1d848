"""systemd journal upload (POST /upload, application/vnd.fdo.journal):
systemd-journal-upload (Debian's systemd-journal-remote) as the real
client, sending a journal file that systemd-journal-remote wrote from
export-format entries; the journal fields mapped onto records; an upload
resumed from its saved cursor sends nothing twice; bytes that are not the
export format refused with 400 while the entries before them are kept."""
import os
import struct
import subprocess

import pytest
import requests

from test_store import all_records

UPLOAD = "/lib/systemd/systemd-journal-upload"
REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT = "0123456789abcdef0123456789abcdef"
BASE_US = 1764684000000000  # 2025-12-02T14:00:00Z


def entry(i, fields):
    out = (f"__CURSOR=s=0;i={i}\n__REALTIME_TIMESTAMP={BASE_US + i * 1000}\n"
           f"__MONOTONIC_TIMESTAMP={i + 1}\n_BOOT_ID={BOOT}\n").encode()
    for k, v in fields.items():
        if isinstance(v, bytes):
            out += k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
        else:
            out += f"{k}={v}\n".encode()
    return out + b"\n"


@pytest.fixture
def journal_file(tmp_path):
    if not (os.access(UPLOAD, os.X_OK) and os.access(REMOTE, os.X_OK)):
        pytest.skip("systemd-journal-remote is not installed")
    export = tmp_path / "entries.export"
    body = b""
    for i in range(20):
        body += entry(i, {"MESSAGE": f"entry {i}", "PRIORITY": str(i % 8),
                          "SYSLOG_IDENTIFIER": "sshd" if i % 2 else "cron",
                          "_HOSTNAME": "jhost", "_PID": str(100 + i), "UNIT": "ssh.service"})
    body += entry(20, {"MESSAGE": b"two\nlines", "_COMM": "bash", "PRIORITY": "3"})
    export.write_bytes(body)
    out = tmp_path / "upload.journal"
    subprocess.run([REMOTE, f"--output={out}", str(export)], check=True, capture_output=True,
                   timeout=60)
    return out


def upload(server, journal, state):
    return subprocess.run([UPLOAD, f"--file={journal}", f"--url={server.url}", "--follow=no",
                           f"--save-state={state}"], capture_output=True, text=True, timeout=60)


def test_systemd_journal_upload(server, journal_file, tmp_path):
    r = upload(server, journal_file, tmp_path / "state")
    assert r.returncode == 0, r.stderr
    got = all_records(server)  # the upload ends once everything is durable
    assert [g["msg"] for g in got] == [f"entry {i}" for i in range(20)] + ["two\nlines"]
    g = got[5]
    assert (g["level"], g["app"], g["host"], g["pid"]) == ("notice", "sshd", "jhost", "105")
    assert g["topic"] == "sshd.notice"
    assert g["ts"] == "2025-12-02T14:00:00.005000000Z"
    assert g["fields"]["UNIT"] == "ssh.service" and g["fields"]["_BOOT_ID"] == BOOT
    assert "__CURSOR" in g["fields"]
    assert (got[20]["app"], got[20]["level"]) == ("bash", "error")
    # resumed from its saved cursor: the uploader sends that last entry
    # again, and it is not stored twice
    r = upload(server, journal_file, tmp_path / "state")
    assert r.returncode == 0, r.stderr
    assert len(all_records(server)) == 21


def post(server, body, ctype="application/vnd.fdo.journal"):
    return requests.post(server.url + "/upload", data=body, timeout=10,
                         headers={"Content-Type": ctype})


def test_bad_bytes_refused_entries_before_kept(server):
    body = (entry(0, {"MESSAGE": "kept 1"}) + entry(1, {"MESSAGE": b"kept\n2"}) +
            b"this is not a field\n" + entry(2, {"MESSAGE": "after the bad line"}))
    r = post(server, body)
    assert r.status_code == 400 and "not the journal export format" in r.text
    assert [g["msg"] for g in all_records(server)] == ["kept 1", "kept\n2"]
    r = post(server, b"MESSAGE\n" + struct.pack("<Q", 100) + b"short")
    assert r.status_code == 400 and "binary field" in r.text
    r = post(server, entry(3, {"MESSAGE": "x"}), ctype="text/plain")
    assert r.status_code == 415
    # a last entry without its blank line still counts
    r = post(server, entry(4, {"MESSAGE": "last"})[:-1])
    assert r.status_code == 200 and r.text == "OK.\n"
    assert [g["msg"] for g in all_records(server)][-1] == "last"


def test_streamed_in_many_batches(server):
    body = b"".join(entry(i, {"MESSAGE": f"m{i}", "PRIORITY": "6"}) for i in range(5000))

    def chunks():
        for i in range(0, len(body), 777):
            yield body[i:i + 777]

    r = requests.post(server.url + "/upload", data=chunks(), timeout=60,
                      headers={"Content-Type": "application/vnd.fdo.journal"})
    assert r.status_code == 200
    got = all_records(server)
    assert [g["msg"] for g in got] == [f"m{i}" for i in range(5000)]
