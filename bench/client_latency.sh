#!/bin/sh
# bench/client_latency.sh - how long a log call takes with liblogship and
# with Python's QueueHandler + HTTPHandler, while the server is up, slow
# (every batch or request answered after 5 s) and down.
#
# Builds a Release tree in build-bench-client (or $BUILD), starts logshipd
# on a private data directory and the slow stand-ins
# (bench/client_latency_slow.py), then for 1 and 4 threads:
#   - liblogship, every call timed with the TSC, paced to RATE calls/s per
#     thread (default 50000);
#   - liblogship, the same calls in a tight untimed loop: calls/s;
#   - Python (/usr/bin/python3), every logger.info() timed, same pacing,
#     and again unpaced for its calls/s.
# Results: one JSON line per run in bench/out/client-latency.txt, and a
# table on stdout.
#
# Usage: bench/client_latency.sh [COUNT_C [COUNT_PY [RATE]]]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build-bench-client}
COUNT=${1:-200000}
COUNT_PY=${2:-100000}
RATE=${3:-50000}
OUT=$ROOT/bench/out/client-latency.txt
PY=/usr/bin/python3

cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"$(nproc)" --target logshipd client_latency >/dev/null

TMP=$(mktemp -d)
cleanup() {
    [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
    [ -n "${SLOW:-}" ] && kill "$SLOW" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"$B/logshipd" --data "$TMP/data" --http 127.0.0.1:0 --tcp 127.0.0.1:0 \
    --syslog-udp off --syslog-tcp off >"$TMP/srv.log" 2>&1 &
SRV=$!
$PY "$ROOT/bench/client_latency_slow.py" 5 >"$TMP/slow.txt" 2>&1 &
SLOW=$!
for _ in $(seq 100); do
    grep -q "logshipd ready" "$TMP/srv.log" && grep -q http "$TMP/slow.txt" && break
    sleep 0.1
done
port() { grep -o "$1 listening on [0-9.]*:[0-9]*" "$TMP/srv.log" | sed 's/.*://'; }
TCP_UP=$(port tcp)
HTTP_UP=$(port http)
TCP_SLOW=$(awk '$1 == "tcp" {print $2}' "$TMP/slow.txt")
HTTP_SLOW=$(awk '$1 == "http" {print $2}' "$TMP/slow.txt")
# a port nobody listens on
DOWN=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

: >"$OUT"
for scenario in up slow down; do
    case $scenario in
    up) tcp=$TCP_UP http=$HTTP_UP ;;
    slow) tcp=$TCP_SLOW http=$HTTP_SLOW ;;
    down) tcp=$DOWN http=$DOWN ;;
    esac
    for t in 1 4; do
        "$B/client_latency" --url "tcp://127.0.0.1:$tcp" --threads $t --count "$COUNT" \
            --rate "$RATE" --label "$scenario" | tee -a "$OUT"
        "$B/client_latency" --url "tcp://127.0.0.1:$tcp" --threads $t --count 2000000 \
            --untimed --label "$scenario-tightloop" | tee -a "$OUT"
        $PY "$ROOT/bench/client_latency_py.py" "127.0.0.1:$http" $t "$COUNT_PY" "$RATE" \
            "$scenario" | tee -a "$OUT"
        $PY "$ROOT/bench/client_latency_py.py" "127.0.0.1:$http" $t "$COUNT_PY" 0 \
            "$scenario-tightloop" | tee -a "$OUT"
    done
done
# what gets through: LOGSHIP_BLOCK, so nothing is dropped and the callers
# run at the pace of delivery (acknowledged, fsync interval)
for t in 1 4; do
    "$B/client_latency" --url "tcp://127.0.0.1:$TCP_UP" --threads $t --count 1000000 \
        --untimed --flush --policy block --label "delivery" | tee -a "$OUT"
done

echo
$PY - "$OUT" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
loop = {(r["label"].split("-")[0], r["threads"], r["impl"]): r
        for r in rows if r["label"].endswith("tightloop")}
print("| server | threads | implementation | p50 | p99 | p99.9 | max | calls/s, tight loop |")
print("|---|---|---|---|---|---|---|---|")
def us(ns):
    return f"{ns:.0f} ns" if ns < 10000 else f"{ns / 1000:.0f} µs" if ns < 1e7 else f"{ns / 1e6:.0f} ms"
for r in rows:
    if r["label"].endswith("tightloop") or r["label"] == "delivery":
        continue
    l = loop[(r["label"], r["threads"], r["impl"])]
    cps = f"{l['calls_per_s'] / 1e6:.2f} M"
    if "dropped" in l:
        cps += f" ({100 * l['dropped'] / l['calls']:.0f}% dropped)"
    print(f"| {r['label']} | {r['threads']} | {r['impl']} | {us(r['p50_ns'])} | {us(r['p99_ns'])} "
          f"| {us(r['p999_ns'])} | {us(r['max_ns'])} | {cps} |")
print()
print("| delivery, LOGSHIP_BLOCK, server up | threads | records/s acknowledged | dropped |")
print("|---|---|---|---|")
for r in rows:
    if r["label"] == "delivery":
        print(f"| liblogship | {r['threads']} | {r['calls_per_s']:,.0f} | {r['dropped']} |")
EOF
