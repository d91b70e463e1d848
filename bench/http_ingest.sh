#!/usr/bin/env bash
# bench/http_ingest.sh - HTTP ingest throughput of logshipd, with nginx
# (return 204: the ceiling for HTTP on this machine) and a Python aiohttp
# receiver (the usual Python answer) measured in the same run.
#
# Loads (wrk, keep-alive, 2 threads, 50 connections, DURATION seconds each):
#   single  POST /api/log with one ~120-byte log= record per request
#   ndjson  POST /api/log with 1,000 NDJSON records per request
# Each logshipd is freshly started; "single" runs twice on it (fresh, then
# warm) before the NDJSON load. BASELINE=path/to/another/logshipd runs the
# same loads on that binary too, in the same run (before/after a change);
# ROUNDS=N (with BASELINE) alternates the two N times, which goes first
# swapping each round, so a noisy moment hits both: the ratios are per round
# and their median is reported.
# TLS=1 runs them once more on a logshipd serving https (--tls-cert, a
# P-256 certificate made here with openssl; wrk keeps its 50 connections,
# so the handshakes are 50 and the load is the records), right after the
# plain ones, and prints TLS/plain.
# AUTH=1 runs them once more on a logshipd with --auth-file (one token,
# write and admin for /metrics), every request carrying it as
# Authorization: Bearer, right after the plain ones, and prints auth/plain.
# Usage: [BASELINE=BIN [ROUNDS=N]] [TLS=1] [AUTH=1] bench/http_ingest.sh [DURATION]   (default 10)
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
if [ -n "${AUTH:-}" ]; then
    TOKEN=bench-token-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf 'bench %s write,admin\n' "$TOKEN" >"$WORK/tokens"
    chmod 600 "$WORK/tokens"
    for s in single ndjson; do
        { cat "$WORK/$s.lua"; printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN"; } \
            >"$WORK/$s-auth.lua"
    done
fi

if [ -n "${TLS:-}" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$WORK/tls.key" -out "$WORK/tls.pem" -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 2>/dev/null
fi

# wrk_rps NAME PORT SCRIPT [SCHEME] -> prints requests/s
wrk_rps() {
    wrk -t2 -c50 -d"${DUR}s" -s "$3" "${4:-http}://127.0.0.1:$2/api/log" >"$OUT/$1.txt" 2>&1
    awk '/Requests\/sec/ {print $2}' "$OUT/$1.txt"
}
cpu_of() { ps -o times= -p "$1" | tr -d ' '; }

peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
cpu_s() { awk '{printf "%.2f", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }

# run_logshipd LABEL BIN [tls|auth]: fresh single, warm single, NDJSON
run_logshipd() {
    local label=$1 bin=$2 port pid fresh warm nd cpu rss stored scheme=http tls=() sfx=""
    local bearer=()
    if [ "${3:-}" = tls ]; then
        scheme=https
        tls=(--tls-cert "$WORK/tls.pem" --tls-key "$WORK/tls.key")
    elif [ "${3:-}" = auth ]; then
        tls=(--auth-file "$WORK/tokens")
        sfx=-auth
        bearer=(-H "Authorization: Bearer $TOKEN")
    fi
    port=$(free_port)
    rm -rf "$WORK/data-$label"
    "$bin" --http 127.0.0.1:"$port" --data "$WORK/data-$label" --syslog-udp off --syslog-tcp off \
        --tcp off --log-level warning "${tls[@]}" &
    pid=$!; PIDS="$PIDS $pid"
    wait_port "$port"
    c0=$(cpu_s "$pid")
    fresh=$(wrk_rps "logshipd-$label-single-fresh" "$port" "$WORK/single$sfx.lua" $scheme)
    c1=$(cpu_s "$pid")
    warm=$(wrk_rps "logshipd-$label-single-warm" "$port" "$WORK/single$sfx.lua" $scheme)
    c2=$(cpu_s "$pid")
    nd=$(wrk_rps "logshipd-$label-ndjson" "$port" "$WORK/ndjson$sfx.lua" $scheme)
    cpu=$(cpu_s "$pid")
    # logshipd's CPU per request of each load: steadier than rates on a
    # shared machine
    us=$(/usr/bin/python3 -c "import sys; c0,c1,c2,c3,f,w,n,d=map(float,sys.argv[1:]); print(f'{(c1-c0)*1e6/(f*d):.2f},{(c2-c1)*1e6/(w*d):.2f},{(c3-c2)*1e6/(n*d):.1f}')" "$c0" "$c1" "$c2" "$cpu" "$fresh" "$warm" "$nd" "$DUR")
    rss=$(peak_rss_kb "$pid")
    stored=$(curl -sk "${bearer[@]}" "$scheme://127.0.0.1:$port/metrics" | awk '/^logship_records_accepted_total\{input="http"\}/ {print $2}')
    kill "$pid"; sleep 0.5
    echo "$label $fresh $warm $nd $cpu $rss $stored $us"
}
ROWS=()
if [ -n "${BASELINE:-}" ]; then
    for r in $(seq "${ROUNDS:-1}"); do
        if [ $((r % 2)) = 1 ]; then
            ROWS+=("$(run_logshipd current ./build/logshipd)" "$(run_logshipd baseline "$BASELINE")")
        else
            b=$(run_logshipd baseline "$BASELINE")
            ROWS+=("$(run_logshipd current ./build/logshipd)" "$b")
        fi
    done
else
    ROWS+=("$(run_logshipd current ./build/logshipd)")
fi
[ -n "${TLS:-}" ] && ROWS+=("$(run_logshipd tls ./build/logshipd tls)")
[ -n "${AUTH:-}" ] && ROWS+=("$(run_logshipd auth ./build/logshipd auth)")

# nginx: return 204, one worker (logshipd runs one event loop) and auto;
# run_nginx 1 tls: the same over TLS, with logshipd's certificate
run_nginx() {
    local ssl="" scheme=http
    if [ "${2:-}" = tls ]; then
        ssl="ssl; ssl_certificate $WORK/tls.pem; ssl_certificate_key $WORK/tls.key"
        scheme=https
    fi
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
    server { listen 127.0.0.1:$NP $ssl; location / { return 204; } }
}
NG
    nginx -c "$WORK/nginx-$1/nginx.conf" -g 'daemon off;' &
    NPID=$!; PIDS="$PIDS $NPID"
    wait_port "$NP"
    wrk_rps "nginx-$1${2:+-$2}-single" "$NP" "$WORK/single.lua" $scheme
    kill "$NPID"; sleep 0.3
}
N1_SINGLE=$(run_nginx 1)
N1T_SINGLE=""
[ -n "${TLS:-}" ] && N1T_SINGLE=$(run_nginx 1 tls)
export N1T_SINGLE
NA_SINGLE=$(run_nginx auto)

# aiohttp
AP=$(free_port)
/usr/bin/python3 bench/aiohttp_recv.py "$AP" "$WORK/aiohttp.log" &
APID=$!; PIDS="$PIDS $APID"
wait_port "$AP"
A_SINGLE=$(wrk_rps aiohttp-single "$AP" "$WORK/single.lua")
kill "$APID"

/usr/bin/python3 - "$N1_SINGLE" "$NA_SINGLE" "$A_SINGLE" "$DUR" "${ROWS[@]}" <<'PY'
import os, statistics, sys
n1, na, a, dur = map(float, sys.argv[1:5])
rows = [r.split() for r in sys.argv[5:] if r.strip()]
print("| load | server | requests/s | records/s |")
print("|---|---|---:|---:|")
for label, fresh, warm, nd, cpu, rss, stored, us in rows:
    fresh, warm, nd = float(fresh), float(warm), float(nd)
    print(f"| single log=, fresh server | logshipd ({label}) | {fresh:,.0f} | {fresh:,.0f} |")
    print(f"| single log=, warm | logshipd ({label}) | {warm:,.0f} | {warm:,.0f} |")
    print(f"| NDJSON x1000 | logshipd ({label}) | {nd:,.0f} | {nd*1000:,.0f} |")
print(f"| single log= | nginx return 204, 1 worker | {n1:,.0f} | — |")
print(f"| single log= | nginx return 204, auto workers | {na:,.0f} | — |")
print(f"| single log= | Python aiohttp, append to file | {a:,.0f} | {a:,.0f} |")
print()
for label, fresh, warm, nd, cpu, rss, stored, us in rows:
    fresh, warm, nd = float(fresh), float(warm), float(nd)
    print(f"logshipd ({label}): fresh/nginx(1) {fresh/n1:.2f}, warm/nginx(1) {warm/n1:.2f}, "
          f"warm/nginx(auto) {warm/na:.2f}, warm/aiohttp {warm/a:.1f}x; "
          f"NDJSON {nd*1000/1e6:.2f} M records/s; CPU {cpu} s over {3*int(dur)} s of load; "
          f"peak RSS {int(rss)//1024} MB; records stored {stored}; "
          f"CPU per request (fresh, warm, NDJSON) {us.replace(',', ', ')} us")
pairs = [(rows[i], rows[i + 1]) for i in range(0, len(rows) - 1, 2)
         if rows[i][0] == "current" and rows[i + 1][0] == "baseline"]
if pairs:
    ratios = [[float(c[k]) / float(b[k]) for c, b in pairs] for k in (1, 2, 3)]
    for n, (c, b) in enumerate(pairs, 1):
        print(f"round {n} current/baseline: single fresh {float(c[1])/float(b[1]):.2f}, "
              f"warm {float(c[2])/float(b[2]):.2f}, NDJSON {float(c[3])/float(b[3]):.2f}")
    print("current/baseline, median of %d round(s): single fresh %.2f, warm %.2f, NDJSON %.2f"
          % (len(pairs), *(statistics.median(r) for r in ratios)))
by = {r[0]: r for r in rows}
if "tls" in by:
    c, t = by["current"], by["tls"]
    print(f"TLS/plain: single fresh {float(t[1])/float(c[1]):.2f}, "
          f"warm {float(t[2])/float(c[2]):.2f}, NDJSON {float(t[3])/float(c[3]):.2f} "
          f"(aims: single with keep-alive 0.8, NDJSON 0.9)")
    cu, tu = [list(map(float, r[7].split(","))) for r in (c, t)]
    print("logshipd CPU per request, plain/TLS (the inverse of the rate ratio a "
          "server-bound load would show): " +
          ", ".join(f"{n} {p/q:.2f}" for n, p, q in zip(("fresh", "warm", "NDJSON"), cu, tu)))
if "auth" in by:
    c, t = by["current"], by["auth"]
    print(f"auth/plain (Bearer token on every request): single fresh "
          f"{float(t[1])/float(c[1]):.2f}, warm {float(t[2])/float(c[2]):.2f}, "
          f"NDJSON {float(t[3])/float(c[3]):.2f}; records stored {t[6]} (auth), {c[6]} (plain)")
    cu, tu = [list(map(float, r[7].split(","))) for r in (c, t)]
    print("logshipd CPU per request, plain/auth: " +
          ", ".join(f"{n} {p/q:.2f}" for n, p, q in zip(("fresh", "warm", "NDJSON"), cu, tu)))
n1t = float(os.environ.get("N1T_SINGLE") or 0)
if n1t:
    print(f"nginx return 204, 1 worker, over TLS: {n1t:,.0f} requests/s; TLS/plain "
          f"{n1t/n1:.2f} (the same client doing TLS on the same two cores)")
PY
