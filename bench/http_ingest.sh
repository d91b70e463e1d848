#!/usr/bin/env bash
# bench/http_ingest.sh - HTTP ingest throughput of logshipd, with nginx
# (return 204: the ceiling for HTTP on this machine) and a Python aiohttp
# receiver (the usual Python answer) measured in the same run.
#
# Loads (wrk, keep-alive, 2 threads, 50 connections, DURATION seconds each):
#   single  POST /api/log with one ~120-byte log= record per request
#   ndjson  POST /api/log with 1,000 NDJSON records per request
# Usage: bench/http_ingest.sh [DURATION]   (default 10)
# Prints a markdown table; raw wrk output goes to bench/out/.
set -eu
cd "$(dirname "$0")/.."
DUR=${1:-10}
OUT=bench/out
mkdir -p "$OUT"
scripts/deps.sh bench
make build >/dev/null

WORK=$(mktemp -d /tmp/logship-bench.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# A 120-byte record, form-encoded, and 1,000 NDJSON records.
LINE="2026-11-21T10:45:56Z web-7 GET /api/v1/orders/84731 200 5123b 12.4ms user=8812 ua=curl/7.88 ref=-"
/usr/bin/python3 - "$WORK" "$LINE" <<'PY'
import json, sys, urllib.parse
work, line = sys.argv[1], sys.argv[2]
open(f"{work}/single.lua", "w").write(
    'wrk.method = "POST"\n'
    'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
    f'wrk.body = "{urllib.parse.urlencode({"log": line})}"\n')
body = "".join(json.dumps({"msg": f"{line} #{i}", "level": "info", "app": "web"}) + "\n"
               for i in range(1000))
open(f"{work}/ndjson.body", "w").write(body)
open(f"{work}/ndjson.lua", "w").write(
    'wrk.method = "POST"\n'
    'wrk.headers["Content-Type"] = "application/x-ndjson"\n'
    f'local f = io.open("{work}/ndjson.body") wrk.body = f:read("*a") f:close()\n')
PY

# wrk_rps NAME PORT SCRIPT -> prints requests/s
wrk_rps() {
    wrk -t2 -c50 -d"${DUR}s" -s "$3" "http://127.0.0.1:$2/api/log" >"$OUT/$1.txt" 2>&1
    awk '/Requests\/sec/ {print $2}' "$OUT/$1.txt"
}
cpu_of() { ps -o times= -p "$1" | tr -d ' '; }

# logshipd
LP=$(free_port)
./build/logshipd --http 127.0.0.1:"$LP" --data "$WORK/data" --log-level warning &
LPID=$!; PIDS="$PIDS $LPID"
wait_port "$LP"
L_SINGLE=$(wrk_rps logshipd-single "$LP" "$WORK/single.lua")
L_NDJSON=$(wrk_rps logshipd-ndjson "$LP" "$WORK/ndjson.lua")
L_CPU=$(cpu_of "$LPID")
STORED=$(curl -s "http://127.0.0.1:$LP/metrics" | awk -F' ' '/^logship_records_accepted_total\{input="http"\}/ {print $2}')
kill "$LPID"

# nginx: return 204, one worker (logshipd runs one event loop) and auto
run_nginx() {
    NP=$(free_port)
    mkdir -p "$WORK/nginx-$1"
    cat >"$WORK/nginx-$1/nginx.conf" <<NG
worker_processes $1;
pid $WORK/nginx-$1/nginx.pid;
error_log $WORK/nginx-$1/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx-$1;
    proxy_temp_path $WORK/nginx-$1; fastcgi_temp_path $WORK/nginx-$1;
    uwsgi_temp_path $WORK/nginx-$1; scgi_temp_path $WORK/nginx-$1;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$NP; location / { return 204; } }
}
NG
    nginx -c "$WORK/nginx-$1/nginx.conf" -g 'daemon off;' &
    NPID=$!; PIDS="$PIDS $NPID"
    wait_port "$NP"
    wrk_rps "nginx-$1-single" "$NP" "$WORK/single.lua"
    kill "$NPID"; sleep 0.3
}
N1_SINGLE=$(run_nginx 1)
NA_SINGLE=$(run_nginx auto)

# aiohttp
AP=$(free_port)
/usr/bin/python3 bench/aiohttp_recv.py "$AP" "$WORK/aiohttp.log" &
APID=$!; PIDS="$PIDS $APID"
wait_port "$AP"
A_SINGLE=$(wrk_rps aiohttp-single "$AP" "$WORK/single.lua")
kill "$APID"

/usr/bin/python3 - "$L_SINGLE" "$L_NDJSON" "$N1_SINGLE" "$NA_SINGLE" "$A_SINGLE" "$L_CPU" "$STORED" "$DUR" <<'PY'
import sys
ls, ln, n1, na, a, cpu, stored, dur = sys.argv[1:]
ls, ln, n1, na, a = map(float, (ls, ln, n1, na, a))
print(f"| load | server | requests/s | records/s |")
print(f"|---|---|---:|---:|")
print(f"| single log= | logshipd | {ls:,.0f} | {ls:,.0f} |")
print(f"| single log= | nginx return 204, 1 worker | {n1:,.0f} | — |")
print(f"| single log= | nginx return 204, auto workers | {na:,.0f} | — |")
print(f"| single log= | Python aiohttp, append to file | {a:,.0f} | {a:,.0f} |")
print(f"| NDJSON x1000 | logshipd | {ln:,.0f} | {ln*1000:,.0f} |")
print()
print(f"ratios: logshipd/nginx(1 worker) {ls/n1:.2f}, logshipd/nginx(auto) {ls/na:.2f}, "
      f"logshipd/aiohttp {ls/a:.1f}x; NDJSON {ln*1000/1e6:.2f} M records/s")
print(f"logshipd CPU time over both loads ({2*int(dur)} s): {cpu}; records stored: {stored}")
PY
