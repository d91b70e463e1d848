"""/metrics as an operator alerts on it: every family parses with the
Prometheus client's own text parser, histograms are whole, and the series
move with traffic."""
import json
import os
import socket
import time

from prometheus_client.parser import text_string_to_metric_families

from httpraw import wait_for

FORM = "application/x-www-form-urlencoded"


def scrape(server):
    st, data = server.request("GET", "/metrics")
    assert st == 200
    return {f.name: f for f in text_string_to_metric_families(data.decode())}


def value(fam, **labels):
    for s in fam.samples:
        if all(s.labels.get(k) == v for k, v in labels.items()) and \
                s.name in (fam.name, fam.name + "_total"):
            return s.value
    raise KeyError((fam.name, labels))


def hist(fams, name, **labels):
    """(count, sum, buckets) of one histogram, checked for shape."""
    fam = fams[name]
    assert fam.type == "histogram", name
    buckets, count, total = [], None, None
    for s in fam.samples:
        if any(s.labels.get(k) != v for k, v in labels.items()):
            continue
        if s.name == name + "_bucket":
            buckets.append((float(s.labels["le"]), s.value))
        elif s.name == name + "_count":
            count = s.value
        elif s.name == name + "_sum":
            total = s.value
    assert buckets and buckets[-1][0] == float("inf"), name
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), f"{name} not cumulative"
    assert buckets[-1][1] == count, name
    return count, total, buckets


def test_every_family_parses_and_moves_with_traffic(make_server):
    server = make_server("--fsync", "always")
    before = scrape(server)
    assert value(before["logship_build_info"], version=before["logship_build_info"].samples[0].labels["version"]) == 1
    assert hist(before, "logship_ack_seconds", input="http")[0] == 0

    body = "".join(json.dumps({"msg": f"m{i}", "level": lv}) + "\n"
                   for i, lv in enumerate(["info", "err", "err", "debug"]))
    assert server.post("/api/log", body, "application/x-ndjson")[0] == 200
    s = socket.create_connection(("127.0.0.1", server.ports["tcp"]))
    s.sendall(b'{"logship":"hello","version":1}\n{"logship":"batch","batch":1,"count":1}\n'
              b'{"msg":"acked"}\n')
    f = s.makefile("rb")
    assert json.loads(f.readline())["logship"] == "hello"
    assert json.loads(f.readline())["logship"] == "ack"
    s.close()
    assert server.request("GET", "/api/logs?limit=10")[0] == 200

    fams = scrape(server)
    assert hist(fams, "logship_ack_seconds", input="http")[0] == 1
    assert hist(fams, "logship_ack_seconds", input="tcp")[0] == 1
    assert hist(fams, "logship_query_seconds")[0] == 1
    count, total, _ = hist(fams, "logship_http_request_seconds")
    assert count >= 3 and total > 0  # the scrape, the post, the query
    assert hist(fams, "logship_store_fsync_seconds")[0] >= 2  # --fsync always: each group
    groups, records, _ = hist(fams, "logship_store_group_records")
    assert groups >= 2 and records == 5

    lv = fams["logship_records_stored_by_level"]
    assert value(lv, level="error") == 2 and value(lv, level="info") == 2
    assert value(lv, level="debug") == 1

    now = time.time()
    assert abs(value(fams["logship_store_newest_record_timestamp_seconds"]) - now) < 60
    assert value(fams["logship_store_oldest_record_timestamp_seconds"]) <= \
        value(fams["logship_store_newest_record_timestamp_seconds"])
    assert value(fams["process_resident_memory_bytes"]) > 1 << 20
    assert 5 < value(fams["process_open_fds"]) < value(fams["process_max_fds"])
    assert abs(value(fams["process_start_time_seconds"]) - now) < 120
    assert value(fams["process_cpu_seconds"]) > 0
    assert 0 < value(fams["logship_data_free_bytes"]) <= value(fams["logship_data_size_bytes"])
    assert value(fams["logship_store_retention_removed_segments"]) == 0
    assert value(fams["logship_config_reloads"]) == 0


def test_series_that_cannot_move_are_not_exported(make_server):
    server = make_server()
    fams = scrape(server)
    inputs = {s.labels["input"] for s in fams["logship_connections_open"].samples}
    # no connection on UDP; the shippers' HTTP routes count in "http"
    assert inputs == {"http", "syslog_tcp", "tcp", "gelf_tcp", "forward"}
    assert {s.labels["input"] for s in fams["logship_records_dropped"].samples} == {
        "syslog_udp", "gelf_udp", "gelf_tcp", "forward", "journal"}
    acked = {s.labels["input"] for s in fams["logship_ack_seconds"].samples}
    # syslog and GELF are never acknowledged
    assert acked == {"http", "tcp", "forward", "loki", "elasticsearch", "otlp", "gelf_http",
                     "journal"}


def test_retention_is_counted(make_server):
    server = make_server("--segment-size", "64K", "--retain-bytes", "200K")
    line = "x" * 900
    for _ in range(6):
        body = "".join(json.dumps({"msg": f"{i} {line}"}) + "\n" for i in range(100))
        assert server.post("/api/log", body, "application/x-ndjson")[0] == 200
    assert wait_for(lambda: value(scrape(server)["logship_store_retention_removed_segments"]) > 0)
    fams = scrape(server)
    assert value(fams["logship_store_retention_removed_bytes"]) > 64 * 1024
