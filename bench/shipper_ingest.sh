#!/usr/bin/env bash
# bench/shipper_ingest.sh - records/s of the other shippers' HTTP inputs
# next to NDJSON on /api/log, one logshipd, the same run (issue 19):
#   ndjson      POST /api/log, 1,000 NDJSON records per request
#   es-bulk     POST /_bulk, 1,000 index actions with ECS documents
#   otlp-proto  POST /v1/logs, protobuf, 1,000 log records (one resource, one scope)
#   otlp-json   POST /v1/logs, JSON, the same 1,000 log records
#   loki-json   POST /loki/api/v1/push, 1,000 entries in one stream
# The records carry the same ~120-byte line. wrk, keep-alive, 2 threads,
# 50 connections, DURATION seconds each; every reply comes once the records
# are written (as for /api/log). Besides records/s, records per CPU second
# of logshipd (user + system, from /proc): on a machine shared with other
# work the wall-clock rate moves with their load, the CPU cost much less.
# Usage: bench/shipper_ingest.sh [DURATION]   (default 10)
#        LOADS="ndjson es-bulk" (a subset, NDJSON first), BIN=path/to/logshipd
# Prints a markdown table; raw wrk output goes to bench/out/.
set -eu
cd "$(dirname "$0")/.."
DUR=${1:-10}
OUT=bench/out
mkdir -p "$OUT"
scripts/deps.sh bench
make build >/dev/null
BIN=${BIN:-build/logshipd}

WORK=$(mktemp -d /tmp/logship-bench.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; sleep 0.5; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

LINE="2026-11-21T10:45:56Z web-7 GET /api/v1/orders/84731 200 5123b 12.4ms user=8812 ua=curl/7.88 ref=-"
/usr/bin/python3 - "$WORK" "$LINE" <<'PY'
import json, struct, sys
work, line = sys.argv[1], sys.argv[2]
N, T0 = 1000, 1764684000000000000

def lua(name, path, ctype, body):
    open(f"{work}/{name}.body", "wb").write(body)
    open(f"{work}/{name}.lua", "w").write(
        f'wrk.method = "POST"\nwrk.path = "{path}"\n'
        f'wrk.headers["Content-Type"] = "{ctype}"\n'
        f'local f = io.open("{work}/{name}.body", "rb") wrk.body = f:read("*a") f:close()\n')

lua("ndjson", "/api/log", "application/x-ndjson", "".join(
    json.dumps({"msg": f"{line} #{i}", "level": "info", "app": "web"}) + "\n"
    for i in range(N)).encode())
lua("es-bulk", "/_bulk", "application/x-ndjson", "".join(
    '{"index":{"_index":"logs-web-2026.12.03"}}\n' +
    json.dumps({"@timestamp": "2026-12-03T10:00:00.000Z", "message": f"{line} #{i}",
                "log": {"level": "info"}, "service": {"name": "web"}}) + "\n"
    for i in range(N)).encode())

def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([v & 0x7f | 0x80]); v >>= 7
    return out + bytes([v])
def ld(num, payload): return varint(num << 3 | 2) + varint(len(payload)) + payload
def kv(k, v): return ld(1, k.encode()) + ld(2, ld(1, v.encode()))
recs = b"".join(ld(2, varint(1 << 3 | 1) + struct.pack("<Q", T0 + i) + varint(2 << 3) + varint(9) +
                   ld(3, b"INFO") + ld(5, ld(1, f"{line} #{i}".encode())))
                for i in range(N))
lua("otlp-proto", "/v1/logs", "application/x-protobuf",
    ld(1, ld(1, ld(1, kv("service.name", "web"))) + ld(2, ld(1, ld(1, b"app")) + recs)))
lua("otlp-json", "/v1/logs", "application/json", json.dumps({"resourceLogs": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
    "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [
        {"timeUnixNano": str(T0 + i), "severityNumber": 9, "severityText": "INFO",
         "body": {"stringValue": f"{line} #{i}"}} for i in range(N)]}]}]}).encode())
lua("loki-json", "/loki/api/v1/push", "application/json", json.dumps({"streams": [{
    "stream": {"app": "web", "level": "info"},
    "values": [[str(T0 + i), f"{line} #{i}"] for i in range(N)]}]}).encode())
PY

port=$(free_port)
"$BIN" --http 127.0.0.1:"$port" --data "$WORK/data" --syslog-udp off --syslog-tcp off --tcp off \
    --log-level warning &
PID=$!
wait_port "$port"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
echo "| load (1,000 records per request) | requests/s | records/s | of NDJSON | records per CPU s | of NDJSON |"
echo "|---|---:|---:|---:|---:|---:|"
nd=""
ndc=""
for load in ${LOADS:-ndjson es-bulk otlp-proto otlp-json loki-json}; do
    t0=$(cpu_ticks)
    wrk -t2 -c50 -d"${DUR}s" -s "$WORK/$load.lua" "http://127.0.0.1:$port" >"$OUT/shipper-$load.txt" 2>&1
    t1=$(cpu_ticks)
    rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/shipper-$load.txt")
    reqs=$(awk '/requests in/ {print $1}' "$OUT/shipper-$load.txt")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$OUT/shipper-$load.txt")
    [ -n "$non2xx" ] && echo "warning: $load had $non2xx non-2xx replies" >&2
    per_cpu=$(awk -v q="$reqs" -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { printf "%.0f", q * 1000 / ((b - a) / hz) }')
    [ -z "$nd" ] && nd=$rps && ndc=$per_cpu
    awk -v l="$load" -v r="$rps" -v nd="$nd" -v c="$per_cpu" -v ndc="$ndc" 'BEGIN {
        printf "| %s | %.0f | %.0f | %.0f%% | %.0f | %.0f%% |\n", l, r, r * 1000, 100 * r / nd, c, 100 * c / ndc }'
done
