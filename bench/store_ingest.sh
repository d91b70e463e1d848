#!/usr/bin/env bash
# bench/store_ingest.sh - NDJSON ingest to disk under each --fsync policy,
# ack latency with --fsync always, and query scan speed. The in-memory
# server of commit 26cf463 (before the store existed) runs the same load in
# the same run, as the baseline the store is compared with.
#
# Loads (wrk, keep-alive, 2 threads, DURATION seconds each):
#   ndjson  50 connections, 1,000 NDJSON records (~150 B) per request
#   acks    50 connections, 100 records per request, --fsync always, latency
# Usage: bench/store_ingest.sh [DURATION]   (default 10)
set -eu
cd "$(dirname "$0")/.."
DUR=${1:-10}
OUT=bench/out
mkdir -p "$OUT"
scripts/deps.sh bench
make build >/dev/null

WORK=$(mktemp -d /tmp/logship-store-bench.XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    git worktree remove --force "$WORK/base" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# the in-memory baseline: the foundation commit, built apart
git worktree add -q --detach "$WORK/base" 26cf463
cmake -S "$WORK/base" -B "$WORK/base/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$WORK/base/build" -j"$(nproc)" --target logshipd >/dev/null

/usr/bin/python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
line = "2026-11-21T10:45:56Z web-7 GET /api/v1/orders/84731 200 5123b 12.4ms user=8812"
for n in (1000, 100):
    body = "".join(json.dumps({"msg": f"{line} #{i}", "level": "info", "app": "web"}) + "\n"
                   for i in range(n))
    open(f"{work}/b{n}.body", "w").write(body)
    open(f"{work}/b{n}.lua", "w").write(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/x-ndjson"\n'
        f'local f = io.open("{work}/b{n}.body") wrk.body = f:read("*a") f:close()\n')
PY
BODY_BYTES=$(stat -c %s "$WORK/b1000.body")

# run NAME BINARY RECS_PER_REQ -- server args...: starts a server on a fresh
# store, loads it, leaves "req/s p50 p99 max" in $OUT/store-NAME.sum and the
# server's pid and port in SPID/SPORT (the caller stops it).
run() {
    local name=$1 bin=$2 recs=$3; shift 3
    SPORT=$(free_port)
    rm -rf "$WORK/data"
    "$bin" --http 127.0.0.1:"$SPORT" --data "$WORK/data" --log-level warning "$@" \
        >"$OUT/store-$name.log" 2>&1 &
    SPID=$!; PIDS="$PIDS $SPID"
    wait_port "$SPORT"
    wrk -t2 -c50 -d"${DUR}s" --latency -s "$WORK/b$recs.lua" "http://127.0.0.1:$SPORT/api/log" \
        >"$OUT/store-$name.txt" 2>&1
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Latency +[0-9]/ {max=$4}
         END {print rps, p50, p99, max}' "$OUT/store-$name.txt" >"$OUT/store-$name.sum"
}
stop() { kill "$SPID"; wait "$SPID" 2>/dev/null || true; }

run memory "$WORK/base/build/logshipd" 1000; stop
run never ./build/logshipd 1000 --fsync never; stop
run always ./build/logshipd 1000 --fsync always; stop
run acks ./build/logshipd 100 --fsync always; stop
run interval ./build/logshipd 1000 --fsync interval   # kept for the scan
MEM=$(cat "$OUT/store-memory.sum"); NEVER=$(cat "$OUT/store-never.sum")
ALWAYS=$(cat "$OUT/store-always.sum"); ACKS=$(cat "$OUT/store-acks.sum")
INTERVAL=$(cat "$OUT/store-interval.sum")

# scan: a query that reads every segment and matches nothing
STORE_BYTES=$(du -sb "$WORK/data/segments" | cut -f1)
sync; sleep 1
SCAN_S=$(curl -s -o /dev/null -w '%{time_total}' \
    "http://127.0.0.1:$SPORT/api/logs?q=no-such-text&after=0&limit=10")
SCAN_S2=$(curl -s -o /dev/null -w '%{time_total}' \
    "http://127.0.0.1:$SPORT/api/logs?q=no-such-text&after=0&limit=10")
stop

/usr/bin/python3 - "$BODY_BYTES" "$STORE_BYTES" "$SCAN_S" "$SCAN_S2" "$MEM" "$INTERVAL" "$NEVER" "$ALWAYS" "$ACKS" <<'PY'
import sys
body, store, scan1, scan2 = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rows = [("in-memory (26cf463)", sys.argv[5]), ("--fsync interval", sys.argv[6]),
        ("--fsync never", sys.argv[7]), ("--fsync always", sys.argv[8])]
def parse(s):
    rps, p50, p99, mx = s.split()
    return float(rps), p50, p99, mx
mem = parse(sys.argv[5])[0]
print("| server | requests/s | records/s | MB/s in | vs in-memory | p50 | p99 |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, s in rows:
    rps, p50, p99, mx = parse(s)
    print(f"| {name} | {rps:,.0f} | {rps*1000:,.0f} | {rps*body/1e6:,.1f} | {rps/mem:.2f} | {p50} | {p99} |")
rps, p50, p99, mx = parse(sys.argv[9])
print()
print(f"--fsync always, 50 writers x 100 records/request: {rps*100:,.0f} records/s, "
      f"ack latency p50 {p50}, p99 {p99}, max {mx}")
print(f"query scan of {store/1e6:,.0f} MB of segments (no match): {scan1:.2f} s = "
      f"{store/scan1/1e6:,.0f} MB/s cold-ish, {scan2:.2f} s = {store/scan2/1e6:,.0f} MB/s warm")
PY
