#!/bin/sh
# bench/python_handler.sh - per-call cost of logger.info("... %s", x) with
# NullHandler (the floor), logship.LogshipHandler, QueueHandler +
# QueueListener + HTTPHandler and a thread-pool handler, with logshipd up,
# slow (bench/client_latency_slow.py answers every batch and request 5 s
# late) and down (nothing listens), from 1 and 4 threads.
#
# `make install` of a release build (in build-bench-py, or $BUILD) into a
# private prefix, a venv with the logship package pip-installed against
# it, logshipd from that prefix; then bench/python_handler.py once per
# handler, server state and thread count, REPEAT times over (interleaved,
# so a burst of other work on the machine hits all handlers alike).
# Results: one JSON line per run in bench/out/python-handler.txt, and a
# table on stdout of the median of the repeats.
#
# Usage: bench/python_handler.sh [COUNT [REPEAT]]   (calls per thread, default
#        100000; repeats, default 3)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build-bench-py}
COUNT=${1:-100000}
REPEAT=${2:-3}
OUT=$ROOT/bench/out/python-handler.txt
mkdir -p "$ROOT/bench/out"
TMP=$(mktemp -d)
cleanup() {
    [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
    [ -n "${SLOW:-}" ] && kill "$SLOW" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

make -C "$ROOT" install BUILD="$B" PREFIX="$TMP/prefix" >/dev/null
/usr/bin/python3 -m venv --system-site-packages "$TMP/venv"
cp -r "$ROOT/clients/python" "$TMP/pysrc"   # setuptools builds in the source directory
PKG_CONFIG_PATH="$TMP/prefix/lib/pkgconfig" "$TMP/venv/bin/pip" install -q \
    --no-build-isolation --no-index "$TMP/pysrc"
export LD_LIBRARY_PATH="$TMP/prefix/lib"
PY="$TMP/venv/bin/python"

"$TMP/prefix/sbin/logshipd" --data "$TMP/data" --http 127.0.0.1:0 --tcp 127.0.0.1:0 \
    --syslog-udp off --syslog-tcp off >"$TMP/srv.log" 2>&1 &
SRV=$!
/usr/bin/python3 "$ROOT/bench/client_latency_slow.py" 5 >"$TMP/slow.txt" 2>&1 &
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
DOWN=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

: >"$OUT"
for scenario in up slow down; do
    case $scenario in
    up) tcp=$TCP_UP http=$HTTP_UP ;;
    slow) tcp=$TCP_SLOW http=$HTTP_SLOW ;;
    down) tcp=$DOWN http=$DOWN ;;
    esac
    for t in 1 4; do
        for _ in $(seq "$REPEAT"); do
            for impl in null logship queue-http threadpool; do
                $PY "$ROOT/bench/python_handler.py" $impl "$tcp" "$http" $t "$COUNT" \
                    "$scenario" | tee -a "$OUT"
            done
        done
    done
done

echo
/usr/bin/python3 - "$OUT" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
groups = {}
for r in rows:
    groups.setdefault((r["label"], r["threads"], r["impl"]), []).append(r)
def med(rs, k):
    v = sorted(r[k] for r in rs)
    return v[len(v) // 2]
floor = {(l, t): g for (l, t, i), g in groups.items() if i == "null"}
def us(ns):
    return f"{ns / 1000:.2f} µs" if ns < 100000 else f"{ns / 1000:.0f} µs" if ns < 1e7 else f"{ns / 1e6:.0f} ms"
print("| server | threads | handler | p50 | p99 | p99.9 | calls/s | p50, p99.9 / floor | delivered |")
print("|---|---|---|---:|---:|---:|---:|---|---|")
for (label, t, impl), g in groups.items():
    f = floor[(label, t)]
    p50, p99, p999 = med(g, "p50_ns"), med(g, "p99_ns"), med(g, "p999_ns")
    ratio = f"{p50 / med(f, 'p50_ns'):.2f}x, {p999 / med(f, 'p999_ns'):.2f}x"
    got = ""
    if impl == "logship":
        got = "; ".join(f"sent {r['sent']:,} dropped {r['dropped']:,}" for r in g)
    print(f"| {label} | {t} | {impl} | {us(p50)} | {us(p99)} | {us(p999)} "
          f"| {med(g, 'calls_per_s'):,.0f} | {ratio} | {got} |")
PYEOF
