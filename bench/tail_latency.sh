#!/usr/bin/env bash
# bench/tail_latency.sh - live tail benchmark: end-to-end latency (POST sent
# -> record received over the WebSocket) and the records/s each subscriber
# gets, with 1, 100 and 1,000 subscribers on /api/tail while `logship bench
# tail` POSTs NDJSON (BATCH records per POST) at RATE records/s, open loop,
# on one keep-alive connection. Then, per subscriber count, the highest
# ingest rate at which every subscriber still receives every record (a
# doubling/bisection search of shorter runs).
#
# CLIENT=tail_bench runs bench/tail_bench.c instead, the client of the
# earlier rows in BENCHMARKS.md (it adapts its POSTs' size to a slow reply,
# up to 5,000 records, and reads every subscriber's records but takes
# latencies on two of them). Both clients' JSON is turned into the same
# keys, so the tables are the same.
#
# Each run gets a fresh logshipd (release build, its own data dir in /tmp,
# --fsync interval unless FSYNC says otherwise, only the HTTP listener).
# Besides the client's numbers the tables show logshipd's CPU and the CPU
# everything else on the machine used meanwhile ("others"): it is shared.
#
# Usage: bench/tail_latency.sh [DURATION]        (seconds per run; default 10)
# Env:   RATE=50000  SUBS="1 100 1000"  REPEAT=3 (runs per subscriber count)
#        BATCH=50 (records per POST)  CLIENT=logship|tail_bench
#        FSYNC=interval (logshipd's --fsync)
#        SEARCH=1 (0: skip the search)  SEARCH_DURATION=5
#        BUILD=build-bench  NO_BUILD=1 (use what is built)
#        LOGSHIPD=path (another server binary, e.g. a patched one)
#        PERF=1 (perf record logshipd in the first run with the most subscribers)
# Prints markdown tables; raw results go to bench/out/tail-*.
set -eu
cd "$(dirname "$0")/.."
DUR=${1:-10}
RATE=${RATE:-50000}
SUBS=${SUBS:-"1 100 1000"}
REPEAT=${REPEAT:-3}
FSYNC=${FSYNC:-interval}
SEARCH=${SEARCH:-1}
SDUR=${SEARCH_DURATION:-5}
BUILD=${BUILD:-build-bench}
PERF=${PERF:-0}
BATCH=${BATCH:-50}
CLIENT=${CLIENT:-logship}
OUT=bench/out
mkdir -p "$OUT"

# a thousand subscribers need a thousand descriptors on each side
ulimit -n "$(ulimit -Hn)"

if [ "${NO_BUILD:-0}" != 1 ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j2 --target logshipd logship tail_bench >/dev/null
fi
LOGSHIPD=${LOGSHIPD:-$BUILD/logshipd}
LOGSHIP=${LOGSHIP:-$BUILD/logship}
TAIL_BENCH=$BUILD/tail_bench

WORK=$(mktemp -d /tmp/logship-tail.XXXXXX)
LPID=""
cleanup() {
    if [ -n "$LPID" ]; then kill "$LPID" 2>/dev/null || true; wait "$LPID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# CPU seconds of a process so far (utime + stime)
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
# CPU seconds of this shell's waited-for children (logship bench) into
# $CHILD_CPU: `times` runs in this shell, not in a subshell
child_cpu() {
    times >"$WORK/times.txt"
    CHILD_CPU=$(awk 'NR == 2 {gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4}' "$WORK/times.txt")
}
# CPU seconds used by the whole machine so far (all cores, not idle)
cpu_all() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {print ($2+$3+$4+$7+$8+$9) / hz}' /proc/stat; }

# a counter from the last /metrics scrape, 0 when absent
metric() { awk -v k="$1" '$1 == k {v = $2} END {print v + 0}' "$WORK/metrics.txt"; }

start_server() {
    PORT=$(free_port)
    rm -rf "$WORK/data"
    "$LOGSHIPD" --http 127.0.0.1:"$PORT" --data "$WORK/data" --fsync "$FSYNC" \
        --syslog-udp off --syslog-tcp off --tcp off --log-level warning 2>>"$OUT/tail-logshipd.log" &
    LPID=$!
    wait_port "$PORT"
}
stop_server() {
    kill "$LPID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$LPID" 2>/dev/null || true # it should have stopped within 5 s
    wait "$LPID" 2>/dev/null || true
    LPID=""
}

# run NAME SUBS RATE DURATION: one run on a fresh server; the client's JSON
# plus server_cpu, others_cpu (cores) and the tail counters from /metrics
# land in $OUT/tail-NAME.json
run() {
    local name=$1 subs=$2 rate=$3 dur=$4
    start_server
    local s0 a0 t0 s1 a1 t1
    s0=$(cpu_of "$LPID"); a0=$(cpu_all); t0=$(date +%s.%N)
    local perf_pid=""
    if [ "$PERF" = 1 ] && [ "$name" = "main-$LARGEST-1" ]; then
        (sleep 4; perf record -F 499 -g -o "$OUT/tail-perf.data" -p "$LPID" -- sleep 5 \
             >/dev/null 2>&1) &
        perf_pid=$!
    fi
    local c0
    child_cpu; c0=$CHILD_CPU
    if [ "$CLIENT" = tail_bench ]; then
        # its keys as logship bench's (its "avg" stands for the median)
        timeout $((dur * 3 + 60)) "$TAIL_BENCH" --port "$PORT" --subs "$subs" --rate "$rate" \
            --duration "$dur" --warmup 1 2>"$OUT/tail-$name.err" |
            jq -c '{mode: "tail", sent, errors: .post_errors, records_per_s: .sent_rate,
                    subscribers: .subs, subscribers_connected: (.subs - .dropped),
                    delivered_per_s_min: .recv_rate_min, delivered_per_s_median: .recv_rate_avg,
                    latency_us: {p50: .lat_p50_us, p99: .lat_p99_us, p999: .lat_p999_us,
                                 max: .lat_max_us},
                    ingest_latency_us: {p50: .ack_p50_us, p99: .ack_p99_us},
                    client_ok: .ok}' >"$WORK/client.json" || true
    else
        timeout $((dur * 3 + 60)) "$LOGSHIP" bench tail --server "http://127.0.0.1:$PORT" \
            --subscribers "$subs" --rate "$rate" --batch "$BATCH" -c 1 \
            -d "$dur" --warmup 1 --json -q >"$WORK/client.json" 2>"$OUT/tail-$name.err" || true
    fi
    local client_cpu
    child_cpu; client_cpu=$(sub "$CHILD_CPU" "$c0")
    s1=$(cpu_of "$LPID"); a1=$(cpu_all); t1=$(date +%s.%N)
    [ -n "$perf_pid" ] && wait "$perf_pid"
    curl -s "http://127.0.0.1:$PORT/metrics" >"$WORK/metrics.txt" || true
    stop_server
    jq -c --argjson scpu "$(sub "$s1" "$s0")" \
        --argjson wall "$(sub "$t1" "$t0")" \
        --argjson all "$(sub "$a1" "$a0")" \
        --argjson ccpu "$client_cpu" \
        --argjson msgs "$(metric logship_tail_messages_sent_total)" \
        --argjson shared "$(metric logship_tail_shared_messages_total)" \
        --argjson scans "$(metric logship_tail_disk_scans_total)" \
        --argjson rate "$rate" \
        '. + {server_cpu_s: $scpu, wall_s: $wall, client_cpu_s: $ccpu,
              dropped: (.subscribers - .subscribers_connected),
              window_recs_s: (.delivered_per_s_median * .subscribers),
              ok: (.errors == 0 and .subscribers_connected == .subscribers and
                   .records_per_s >= 0.97 * $rate and .delivered_per_s_min >= 0.97 * $rate),
              server_cores: ($scpu / $wall), client_cores: ($ccpu / $wall),
              others_cores: ([($all - $scpu - $ccpu) / $wall, 0] | max),
              tail_messages: $msgs, tail_shared: $shared, tail_disk_scans: $scans}' \
        "$WORK/client.json" >"$OUT/tail-$name.json" 2>/dev/null ||
        echo '{"ok":false}' >"$OUT/tail-$name.json"
}

sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
fmt_ms() { awk -v u="$1" 'BEGIN { if (u < 0) print "-"; else if (u < 10000) printf "%.2f", u/1000; else printf "%.0f", u/1000 }'; }

LARGEST=$(echo "$SUBS" | tr ' ' '\n' | sort -n | tail -1)

echo "### Latency and delivery at $RATE records/s ($DUR s per run, --fsync $FSYNC)"
echo
echo "| subscribers | sent rec/s | per-subscriber rec/s min / median | latency p50 / p99 / p99.9 / max ms (every subscriber) | POST ack p50 / p99 ms | delivered rec/s (all subscribers) | logshipd CPU | bench CPU | others' CPU | dropped |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in $SUBS; do
  for k in $(seq "$REPEAT"); do
    run "main-$n-$k" "$n" "$RATE" "$DUR"
    f=$OUT/tail-main-$n-$k.json
    j() { jq -r "$1" "$f"; }
    if [ "$(j '.subscribers // 0')" = 0 ]; then
        echo "| $n | run failed, see $OUT/tail-main-$n-$k.err | | | | | | | | |"
        continue
    fi
    printf '| %s | %.0f | %.0f / %.0f | %s / %s / %s / %s | %s / %s | %.0f | %.2f cores | %.2f cores | %.2f cores | %s |\n' \
        "$n" "$(j .records_per_s)" "$(j .delivered_per_s_min)" "$(j .delivered_per_s_median)" \
        "$(fmt_ms "$(j .latency_us.p50)")" "$(fmt_ms "$(j .latency_us.p99)")" \
        "$(fmt_ms "$(j .latency_us.p999)")" "$(fmt_ms "$(j .latency_us.max)")" \
        "$(fmt_ms "$(j .ingest_latency_us.p50)")" "$(fmt_ms "$(j .ingest_latency_us.p99)")" \
        "$(j .window_recs_s)" "$(j .server_cores)" "$(j .client_cores)" "$(j .others_cores)" \
        "$(j .dropped)"
  done
done
echo

if [ "$PERF" = 1 ] && [ -f "$OUT/tail-perf.data" ]; then
    perf report -i "$OUT/tail-perf.data" --no-children --sort dso,sym --percent-limit 1 \
        --stdio -g none 2>/dev/null >"$OUT/tail-perf-flat.txt" || true
    perf report -i "$OUT/tail-perf.data" --children --sort sym --percent-limit 3 \
        --stdio -g none 2>/dev/null >"$OUT/tail-perf-children.txt" || true
    echo "(perf profile of logshipd with $LARGEST subscribers: $OUT/tail-perf-*.txt)"
    echo
fi

[ "$SEARCH" = 1 ] || exit 0

# sustains N RATE: 0 when every subscriber got every record at that rate
sustains() {
    local n=$1 r=$2
    run "search-$n-$r" "$n" "$r" "$SDUR"
    [ "$(jq -r .ok "$OUT/tail-search-$n-$r.json")" = true ]
}

echo "### Highest ingest rate with every subscriber receiving everything (${SDUR} s runs)"
echo
echo "| subscribers | sustained rec/s (per subscriber) | first failing rec/s | total delivered rec/s | logshipd CPU | bench CPU | others' CPU |"
echo "|---|---|---|---|---|---|---|"
for n in $SUBS; do
    lo=0 hi=0 r=$RATE
    # double up from RATE, or halve down, to bracket the limit
    if sustains "$n" "$r"; then
        lo=$r
        while [ "$r" -lt 1600000 ]; do
            r=$((r * 2))
            if sustains "$n" "$r"; then lo=$r; else hi=$r; break; fi
        done
    else
        hi=$r
        while [ "$r" -gt 400 ]; do
            r=$((r / 2))
            if sustains "$n" "$r"; then lo=$r; break; else hi=$r; fi
        done
    fi
    # bisect to about 10 %
    while [ "$lo" -gt 0 ] && [ "$hi" -gt 0 ] && [ $((hi * 10)) -gt $((lo * 11)) ]; do
        mid=$(((lo + hi) / 2))
        if sustains "$n" "$mid"; then lo=$mid; else hi=$mid; fi
    done
    if [ "$lo" -gt 0 ]; then
        f=$OUT/tail-search-$n-$lo.json
        printf '| %s | %s | %s | %.0f | %.2f cores | %.2f cores | %.2f cores |\n' "$n" "$lo" \
            "$([ "$hi" -gt 0 ] && echo "$hi" || echo "-")" \
            "$(jq -r .window_recs_s "$f")" "$(jq -r .server_cores "$f")" \
            "$(jq -r .client_cores "$f")" "$(jq -r .others_cores "$f")"
    else
        echo "| $n | below $r | $hi | | | | |"
    fi
done
echo
