"""Elasticsearch _bulk: python3-elasticsearch 7.17 (Debian), the official
node client (@elastic/elasticsearch 9) and rsyslog's omelasticsearch
(Debian rsyslog-elasticsearch) as real clients, with the clients' product
check and bulk helpers, documents mapped onto
records (ECS and rsyslog's names), bad items answered as Elasticsearch
answers them while the good ones are stored, and the store pushing back
(429) retried by the client without loss."""
import json
import os
import subprocess
import threading
import time

import pytest
import requests

elasticsearch = pytest.importorskip("elasticsearch")
from elasticsearch import helpers  # noqa: E402

from test_store import all_records, post_batch, small_disk  # noqa: E402,F401

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_DIR = os.path.join(ROOT, "tests", "integration", "node")


def es_client(server, prefix=""):
    return elasticsearch.Elasticsearch(server.url + prefix, max_retries=0)


def test_python_client_bulk(server):
    es = es_client(server)
    info = es.info()  # the client checks the product first
    assert info["version"]["number"].startswith("8.")
    docs = [{"_index": "logs-web-2026.12.03",
             "_source": {"@timestamp": f"2026-12-03T10:00:{i:02d}.5Z",
                         "message": f"GET /item/{i}", "log": {"level": ["info", "warn"][i % 2]},
                         "host": {"name": "web-1"}, "http": {"response": {"status_code": 200}},
                         "user": {"id": i}}}
            for i in range(50)]
    ok, errors = helpers.bulk(es, docs)
    assert ok == 50 and errors == []
    got = all_records(server)
    assert [g["msg"] for g in got] == [f"GET /item/{i}" for i in range(50)]
    g = got[1]
    assert (g["level"], g["host"], g["app"], g["topic"]) == (
        "warning", "web-1", "logs-web", "logs-web.warning")
    assert g["ts"] == "2026-12-03T10:00:01.500000000Z"
    assert g["fields"] == {"_index": "logs-web-2026.12.03", "http.response.status_code": 200,
                           "user.id": 1}


def test_python_client_with_a_path_prefix_and_service_name(server):
    es = es_client(server, "/es")
    assert es.ping()
    ok, _ = helpers.bulk(es, [{"_source": {"message": "m", "service": {"name": "api"},
                                           "process": {"pid": 42}}}], index="apps")
    assert ok == 1
    [g] = all_records(server)
    assert (g["app"], g["pid"], g["fields"]["_index"]) == ("api", "42", "apps")


def test_node_client_bulk(server):
    r = subprocess.run(["node", os.path.join(NODE_DIR, "es_node.js"), server.url, "30",
                        "node-logs-2026.12.03"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"info": "8.17.0", "total": 30, "successful": 30,
                                    "failed": 0}
    got = all_records(server)
    assert [g["msg"] for g in got] == [f"node doc {i}" for i in range(30)]
    assert [g["level"] for g in got[:2]] == ["info", "warning"]
    assert all(g["app"] == "nodeapp" for g in got)
    assert got[3]["fields"] == {"_index": "node-logs-2026.12.03", "labels.n": 3}
    assert got[3]["ts"] == "2025-12-02T14:00:00.003000000Z"


def test_rsyslog_omelasticsearch(server, tmp_path):
    """rsyslogd (Debian's rsyslog-elasticsearch) takes messages on a
    loopback UDP port and sends them with omelasticsearch in bulk mode, its
    default template (message, fromhost, facility, priority, timereported)."""
    import shutil
    import socket
    if not shutil.which("rsyslogd") or not os.path.exists(
            "/usr/lib/x86_64-linux-gnu/rsyslog/omelasticsearch.so"):
        pytest.skip("rsyslog-elasticsearch is not installed")
    work = tmp_path / "rsyslog"
    work.mkdir()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    in_port = u.getsockname()[1]
    u.close()
    conf = work / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{work}")
module(load="imudp")
module(load="omelasticsearch")
input(type="imudp" address="127.0.0.1" port="{in_port}")
action(type="omelasticsearch" server="127.0.0.1" serverport="{server.port}"
       searchIndex="rsyslog-2026.12.03" bulkmode="on" errorfile="{work}/errors.json")
""")
    proc = subprocess.Popen(["rsyslogd", "-n", "-f", str(conf), "-i", str(work / "pid")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(1)
        for i in range(3):
            subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(in_port), "--udp",
                            "-t", "viaes", "-p", "auth.warning", f"es relayed {i}"], check=True)
        deadline = time.time() + 15
        got = []
        while time.time() < deadline and len(got) < 3:
            got = all_records(server)
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(10)
    assert [g["msg"] for g in got] == [f"es relayed {i}" for i in range(3)]
    assert all(g["level"] == "warning" and g["app"] == "rsyslog" for g in got)
    assert got[0]["fields"]["facility"] == "auth"
    assert got[0]["fields"]["_index"] == "rsyslog-2026.12.03"
    assert not (work / "errors.json").exists()


def test_bad_items_refused_good_ones_kept(server):
    es = es_client(server)
    actions = [{"_index": "x", "_source": {"message": "good 1"}},
               {"_op_type": "update", "_index": "x", "_id": "1", "doc": {"message": "no"}},
               {"_op_type": "delete", "_index": "x", "_id": "2"},
               {"_op_type": "create", "_index": "x", "_source": {"message": "good 2"}}]
    with pytest.raises(helpers.BulkIndexError) as e:
        helpers.bulk(es, actions)
    assert len(e.value.errors) == 2
    assert "append-only" in json.dumps(e.value.errors)
    # a body no client library writes: the item is refused, not the request
    body = ('{"index":{"_index":"x"}}\n{not json\n'
            '{"index":{"_index":"x"}}\n"a string"\n'
            '{"bogus":{}}\n{"message":"the bogus action\'s document"}\n'
            '{"index":{"_index":"x"}}\n{"message":"good 3"}\n')
    r = requests.post(server.url + "/_bulk", data=body,
                      headers={"Content-Type": "application/x-ndjson"}, timeout=10)
    assert r.status_code == 200 and r.headers["X-Elastic-Product"] == "Elasticsearch"
    reply = r.json()
    assert reply["errors"] is True
    assert [i["index"]["status"] for i in reply["items"]] == [400, 400, 400, 201]
    assert reply["items"][0]["index"]["error"]["type"] == "mapper_parsing_exception"
    assert [g["msg"] for g in all_records(server)] == ["good 1", "good 2", "good 3"]
    assert server.metrics()['logship_records_accepted_total{input="elasticsearch"}'] == 3
    r = requests.post(server.url + "/_bulk", data="", timeout=10,
                      headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 400 and "no requests" in r.json()["error"]["reason"]


def test_probes_answered(server):
    for method, path, body in [("GET", "/_license", None), ("HEAD", "/", None),
                               ("PUT", "/_template/logs", '{"index_patterns":["x"]}'),
                               ("GET", "/_index_template/logs", None),
                               ("PUT", "/_ilm/policy/p", "{}"),
                               ("GET", "/es/_cluster/health", None)]:
        r = requests.request(method, server.url + (path if path.startswith("/es") or
                                                   path == "/" else "/es" + path),
                             data=body, headers={"Content-Type": "application/json",
                                                 "X-Elastic-Client-Meta": "es=7.17"},
                             timeout=10)
        assert r.status_code == 200, (method, path, r.text)
        assert r.headers["X-Elastic-Product"] == "Elasticsearch"
    # a browser still gets the web UI at /
    r = requests.get(server.url + "/", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]


def test_store_pushing_back_is_retried(make_server, small_disk):  # noqa: F811
    s = make_server("--segment-size", "256K", data_dir=small_disk.data)
    small_disk.check(s)
    line = "x" * 200
    for n in range(400):
        if post_batch(s, [{"msg": f"{n}.{i} {line}"} for i in range(50)]).status_code == 503:
            break
    else:
        pytest.fail("the disk never filled")
    before = len(all_records(s))
    es = es_client(s)
    result = {}

    def send():
        docs = [{"_index": "retry", "_source": {"message": f"doc {i}"}} for i in range(20)]
        result["out"] = list(helpers.streaming_bulk(es, docs, max_retries=200,
                                                    initial_backoff=0.05, max_backoff=0.1))

    t = threading.Thread(target=send)
    t.start()
    deadline = time.time() + 20
    while time.time() < deadline:
        if s.metrics().get('logship_http_responses_total{code="429"}', 0) >= 1:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the client was never told to retry")
    small_disk.free()
    t.join(30)
    assert not t.is_alive()
    assert len(result["out"]) == 20 and all(ok for ok, _ in result["out"])
    got = [g["msg"] for g in all_records(s)][before:]
    assert got == [f"doc {i}" for i in range(20)]
