#!/usr/bin/env bash
# bench/bench_tool.sh - `logship bench` next to the peers' load tools, in one
# run on one machine, so the tool is known never to be the bottleneck:
#
#   http        logship bench http against nginx `return 204` (one worker),
#               next to wrk with the same connections and threads and a POST
#               of the same size (aim: at least 0.9 of wrk's requests/s)
#   syslog-tcp  logship bench syslog-tcp next to syslog-ng's loggen, COUNT
#               RFC 3164 messages of 128 bytes on one connection, into a
#               discard sink (socat to /dev/null: the senders' own ceiling)
#               and into logshipd (aim: at least 2x loggen's rate with less
#               CPU)
#
# Each pair runs ROUNDS times, which goes first alternating; the table has
# every round and the median ratio. CPU is the sender's user + system time.
# Usage: [ROUNDS=3] [CONNS=50] [THREADS=2] bench/bench_tool.sh [DURATION] [COUNT]
#        (defaults 10 s per HTTP run, 2,000,000 syslog messages)
# Prints markdown; raw output goes to bench/out/tool-*.
set -eu
cd "$(dirname "$0")/.."
DUR=${1:-10}
COUNT=${2:-2000000}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
OUT=bench/out
mkdir -p "$OUT"
scripts/deps.sh bench
make build >/dev/null
LOGSHIP=./build/logship

WORK=$(mktemp -d /tmp/logship-tool.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# timed OUTFILE CMD...: runs CMD, appends "cpu_s" (user + sys) as the last line of OUTFILE
timed() { local f=$1; shift; /usr/bin/time -f "%U %S" -o "$f.time" "$@" >"$f" 2>&1; awk '{printf "%.2f\n", $1 + $2}' "$f.time"; }

# syslog-ng's loggen: syslog-ng-core conflicts with rsyslog, so it is
# unpacked privately (as bench/syslog_ingest.sh does)
SNG="$WORK/syslog-ng"
mkdir -p "$SNG"
(cd "$SNG" && apt-get download syslog-ng-core >/dev/null 2>&1 && dpkg -x syslog-ng-core_*.deb root)
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libivykis0 libnet1 libjson-c5 libwrap0 \
    libpcre3 >/dev/null 2>&1 || true
LOGGEN="env LD_LIBRARY_PATH=$SNG/root/usr/lib/syslog-ng SYSLOGNG_PREFIX=$SNG/root/usr $SNG/root/usr/bin/loggen"

# ---- HTTP: nginx return 204 ---------------------------------------------------
NP=$(free_port)
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<NG
daemon off; master_process off; worker_processes 1;
pid $WORK/nginx/nginx.pid; error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off; keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
    server { listen 127.0.0.1:$NP; location / { return 204; } }
}
NG
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS="$PIDS $!"
wait_port "$NP"
# wrk posts what logship bench http posts: a 128-byte message (the tag and
# the filler), form-encoded
BODY=$(/usr/bin/python3 -c 'import urllib.parse as u
f = "GET /api/v1/orders/84731 200 5123b 12.4ms user=8812 ua=curl/7.88 ref=- region=eu-west-1 cache=miss "
print("log=" + u.quote_plus("lsb_0123456789abcdef_000000000001_00000012345678901234 " + f[:73], safe="/:") + "&app=bench")')
cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "$BODY"
LUA

http_wrk() { # ROUND -> "rps cpu"
    local f="$OUT/tool-wrk-$1.txt" cpu
    cpu=$(timed "$f" wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" -s "$WORK/post.lua" "http://127.0.0.1:$NP/api/log")
    echo "$(awk '/Requests\/sec/ {print $2}' "$f") $cpu"
}
http_ours() { # ROUND -> "rps cpu"
    local f="$OUT/tool-logship-http-$1.json" cpu
    cpu=$(timed "$f" "$LOGSHIP" bench http --server "http://127.0.0.1:$NP" -c "$CONNS" \
        --threads "$THREADS" -d "$DUR" -q --json)
    echo "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records_per_s"])' "$f") $cpu"
}

HTTP_ROWS=()
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then w=$(http_wrk "$r"); o=$(http_ours "$r"); else o=$(http_ours "$r"); w=$(http_wrk "$r"); fi
    HTTP_ROWS+=("$r $w $o")
done

# ---- syslog over TCP -----------------------------------------------------------
# the message of a frame is 128 bytes less "<14>Mmm dd hh:mm:ss HOST bench[PID]: " and LF
SIZE=$((128 - 31 - ${#HOSTNAME} - 7))
[ "$SIZE" -lt 54 ] && SIZE=54

sink_start() { SINKP=$(free_port); socat -u TCP-LISTEN:"$SINKP",reuseaddr,fork /dev/null & SINKPID=$!; PIDS="$PIDS $SINKPID"; wait_port "$SINKP"; }
logshipd_start() {
    SINKP=$(free_port); rm -rf "$WORK/data"
    ./build/logshipd --data "$WORK/data" --http 127.0.0.1:0 --syslog-udp off --syslog-tcp 127.0.0.1:"$SINKP" \
        --tcp off --fsync interval --log-level warning & SINKPID=$!; PIDS="$PIDS $SINKPID"; wait_port "$SINKP"
}
sink_stop() { kill "$SINKPID" 2>/dev/null || true; wait "$SINKPID" 2>/dev/null || true; }

syslog_loggen() { # LABEL -> "rate cpu"
    local f="$OUT/tool-loggen-$1.txt" cpu
    cpu=$(timed "$f" $LOGGEN --stream --inet --size 128 --number "$COUNT" --rate 1000000000 \
        --active-connections 1 127.0.0.1 "$SINKP")
    echo "$(awk -F'average rate = ' '/average rate/ {split($2, a, " "); print a[1]}' "$f") $cpu"
}
syslog_ours() { # LABEL -> "rate cpu"
    local f="$OUT/tool-logship-syslog-$1.json" cpu
    cpu=$(timed "$f" "$LOGSHIP" bench syslog-tcp --target 127.0.0.1:"$SINKP" -n "$COUNT" -c 1 \
        --threads 1 --size "$SIZE" -q --json)
    echo "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records_per_s"])' "$f") $cpu"
}

SYS_ROWS=()
for recv in sink logshipd; do
    for r in $(seq "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then
            "${recv}_start"; a=$(syslog_loggen "$recv-$r"); sink_stop
            "${recv}_start"; b=$(syslog_ours "$recv-$r"); sink_stop
        else
            "${recv}_start"; b=$(syslog_ours "$recv-$r"); sink_stop
            "${recv}_start"; a=$(syslog_loggen "$recv-$r"); sink_stop
        fi
        SYS_ROWS+=("$recv $r $a $b")
    done
done

/usr/bin/python3 - "$CONNS" "$THREADS" "$DUR" "$COUNT" "${HTTP_ROWS[@]}" -- "${SYS_ROWS[@]}" <<'PY'
import statistics, sys
conns, threads, dur, count = sys.argv[1:5]
rest = sys.argv[5:]
cut = rest.index("--")
http, sysl = rest[:cut], rest[cut + 1:]
print(f"### HTTP: nginx `return 204`, {conns} connections, {threads} threads, {dur} s per run\n")
print("| round | wrk requests/s | wrk CPU s | logship bench requests/s | logship bench CPU s | ratio |")
print("|---:|---:|---:|---:|---:|---:|")
ratios = []
for row in http:
    r, w, wc, o, oc = row.split()
    ratio = float(o) / float(w)
    ratios.append(ratio)
    print(f"| {r} | {float(w):,.0f} | {wc} | {float(o):,.0f} | {oc} | {ratio:.2f} |")
print(f"\nMedian ratio (logship bench / wrk): **{statistics.median(ratios):.2f}**\n")
print(f"### syslog over TCP: {int(count):,} messages of 128 bytes, one connection\n")
print("| receiver | round | loggen msg/s | loggen CPU s | logship bench msg/s | logship bench CPU s | rate ratio | CPU ratio |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
by = {}
for row in sysl:
    recv, r, a, ac, b, bc = row.split()
    rr, cr = float(b) / float(a), float(bc) / max(float(ac), 0.01)
    by.setdefault(recv, []).append((rr, cr))
    print(f"| {recv} | {r} | {float(a):,.0f} | {ac} | {float(b):,.0f} | {bc} | {rr:.2f} | {cr:.2f} |")
print()
for recv, v in by.items():
    print(f"Median into {recv}: rate **{statistics.median(x for x, _ in v):.2f}x** loggen's, "
          f"CPU **{statistics.median(y for _, y in v):.2f}x**")
PY
