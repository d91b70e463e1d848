#!/usr/bin/env bash
# bench/syslog_ingest.sh - syslog over TCP (LF framing) into disk: logshipd
# against rsyslog (imtcp -> omfile) and syslog-ng (network() -> file()), in
# the same run, each with a private config, pid and work directory on
# loopback. COUNT RFC 3164 messages of 128 bytes are sent by `logship bench
# syslog-tcp` (64 KiB writes, a tenth of a CPU second per million; it
# replaced the private bench/tcp_blast.c) and the clock stops when the last one is
# stored: logshipd's durable count in /metrics, the peers' output line count.
# Also reported: the receiver's CPU time and peak RSS (VmHWM), and the same
# with syslog-ng's own loggen as the sender (one send() per message).
# Each receiver is freshly started and gets PASSES passes of COUNT (default
# 2: fresh, then warm), each timed on its own; the peak RSS is the
# receiver's over all of them.
# BASELINE=path/to/another/logshipd runs the same passes on that binary too,
# in the same run (before/after a change), each pass next to ours.
# Usage: [BASELINE=BIN] [PASSES=N] bench/syslog_ingest.sh [COUNT]   (default 1000000)
set -eu
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
PASSES=${PASSES:-2}
SIZE=128
OUT=bench/out
mkdir -p "$OUT"
scripts/deps.sh bench
if ! dpkg-query -W -f='${Status}' rsyslog 2>/dev/null | grep -q "install ok installed"; then
    sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_=sudo
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq rsyslog >/dev/null
fi
make build >/dev/null

WORK=$(mktemp -d /tmp/logship-syslog-bench.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

# syslog-ng conflicts with rsyslog as a package: unpack it privately
SNG="$WORK/syslog-ng"
mkdir -p "$SNG"
(cd "$SNG" && apt-get download syslog-ng-core >/dev/null 2>&1 && dpkg -x syslog-ng-core_*.deb root)
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libivykis0 libnet1 libjson-c5 libwrap0 \
    libpcre3 >/dev/null 2>&1 || true
SNG_LIB="$SNG/root/usr/lib/syslog-ng"
SNG_MOD=$(ls -d "$SNG_LIB"/3.* | head -1)

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
now() { date +%s.%N; }

peak_rss_mb() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# measure NAME PID PORT COUNTCMD SENDER...: PASSES times, sends COUNT and
# waits until COUNTCMD says COUNT more; prints "seconds,cpu_seconds" of each
# pass, then the receiver's peak RSS in MB
measure() {
    local name=$1 pid=$2 count_cmd=$3; shift 3
    local c0 t0 t1 c1 pass out=""
    for pass in $(seq "$PASSES"); do
        c0=$(cpu_ticks "$pid"); t0=$(now)
        if ! "$@" 2>>"$OUT/syslog-$name.sender"; then out="$out nan,nan"; continue; fi
        local deadline=$(( $(date +%s) + 300 )) want=$((COUNT * pass))
        while [ "$(eval "$count_cmd")" -lt "$want" ]; do
            [ "$(date +%s)" -gt "$deadline" ] && { t0=nan; break; }
            sleep 0.02
        done
        t1=$(now); c1=$(cpu_ticks "$pid")
        if [ "$t0" = nan ]; then out="$out nan,nan"; continue; fi
        out="$out $(echo "$t0 $t1 $c0 $c1" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f,%.2f", $2-$1, ($4-$3)/hz}')"
    done
    echo "$out $(peak_rss_mb "$pid")"
}

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# run_logshipd LABEL BIN SENDER...
run_logshipd() {
    local port hport bin=$2
    port=$(free_port); hport=$(free_port)
    rm -rf "$WORK/ls-data"
    "$bin" --data "$WORK/ls-data" --http 127.0.0.1:"$hport" --syslog-tcp 127.0.0.1:"$port" \
        --syslog-udp off --tcp off --log-level warning --fsync interval >"$OUT/syslog-logshipd.log" 2>&1 &
    local pid=$!; PIDS="$PIDS $pid"
    wait_port "$port"; wait_port "$hport"
    local q="curl -s http://127.0.0.1:$hport/metrics | awk '/^logship_records_accepted_total.input=\"syslog_tcp\"/ {print int(\$2)}'"
    measure "logshipd-$1" "$pid" "$q" "${@:3}" 127.0.0.1 "$port" "$COUNT" "$SIZE"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

run_rsyslog() {
    local port; port=$(free_port)
    local d="$WORK/rsyslog"; rm -rf "$d"; mkdir -p "$d"
    cat >"$d/rsyslog.conf" <<CONF
global(workDirectory="$d")
module(load="imtcp" MaxSessions="100")
input(type="imtcp" address="127.0.0.1" port="$port")
*.* action(type="omfile" file="$d/out.log" template="RSYSLOG_FileFormat")
CONF
    rsyslogd -n -f "$d/rsyslog.conf" -i "$d/pid" >"$OUT/syslog-rsyslog.log" 2>&1 &
    local pid=$!; PIDS="$PIDS $pid"
    wait_port "$port"
    measure "rsyslog-$1" "$pid" "lines $d/out.log" "${@:2}" 127.0.0.1 "$port" "$COUNT" "$SIZE"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

run_syslogng() {
    local port; port=$(free_port)
    local d="$WORK/sng-run"; rm -rf "$d"; mkdir -p "$d"
    cat >"$d/syslog-ng.conf" <<CONF
@version: 3.38
options { threaded(yes); use_dns(no); use_fqdn(no); keep_hostname(yes); chain_hostnames(no);
          stats_freq(0); flush_lines(1000); log_fifo_size(100000); };
source s { network(ip(127.0.0.1) port($port) transport(tcp) max-connections(100)
                   log-iw-size(100000) log-fetch-limit(1000)); };
destination d { file("$d/out.log" template("\${ISODATE} \${HOST} \${MSGHDR}\${MSG}\n")); };
log { source(s); destination(d); };
CONF
    LD_LIBRARY_PATH="$SNG_LIB" "$SNG/root/usr/sbin/syslog-ng" -F -f "$d/syslog-ng.conf" \
        --module-path "$SNG_MOD" -p "$d/pid" -c "$d/ctl" -R "$d/persist" --no-caps \
        >"$OUT/syslog-syslog-ng.log" 2>&1 &
    local pid=$!; PIDS="$PIDS $pid"
    wait_port "$port"
    measure "syslog-ng-$1" "$pid" "lines $d/out.log" "${@:2}" 127.0.0.1 "$port" "$COUNT" "$SIZE"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

# logship bench: the message of each frame is 128 bytes less the RFC 3164
# header ("<14>Mmm dd hh:mm:ss HOST bench[PID]: ") and the LF
bench_send() { # HOST PORT COUNT SIZE
    local msg=$(($4 - 31 - ${#HOSTNAME} - 7))
    [ "$msg" -lt 54 ] && msg=54
    ./build/logship bench syslog-tcp --target "$1:$2" -n "$3" --size "$msg" -c 1 --threads 1 -q \
        >/dev/null
}
BLAST=bench_send
LOGGEN="env LD_LIBRARY_PATH=$SNG_LIB SYSLOGNG_PREFIX=$SNG/root/usr $SNG/root/usr/bin/loggen"
loggen_send() { # HOST PORT COUNT SIZE
    # loggen stops after --interval seconds (10 by default) whatever --number says
    $LOGGEN --stream --inet --size "$4" --number "$3" --rate 100000000 --interval 3600 --active-connections 1 \
        "$1" "$2" >/dev/null
}

NONE="$(for _ in $(seq "$PASSES"); do printf 'nan,nan '; done)nan"
B=$NONE; BG=$NONE
[ -n "${BASELINE:-}" ] && B=$(run_logshipd blast "$BASELINE" $BLAST)
L=$(run_logshipd blast ./build/logshipd $BLAST)
R=$(run_rsyslog blast $BLAST); S=$(run_syslogng blast $BLAST)
[ -n "${BASELINE:-}" ] && BG=$(run_logshipd loggen "$BASELINE" loggen_send)
LG=$(run_logshipd loggen ./build/logshipd loggen_send); RG=$(run_rsyslog loggen loggen_send)
SG=$(run_syslogng loggen loggen_send)

/usr/bin/python3 - "$COUNT" "$L" "$R" "$S" "$B" "$LG" "$RG" "$SG" "$BG" <<'PY'
import math, sys
count = int(sys.argv[1])
def p(s):
    *passes, rss = s.split()
    return [tuple(float(x) for x in q.split(",")) for q in passes], float(rss)
rows = [("logship bench", sys.argv[2:6]), ("loggen", sys.argv[6:10])]
print("| sender | receiver | pass | seconds | messages/s | receiver CPU s | peak RSS MB | vs rsyslog | vs syslog-ng |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
for sender, (l, r, s, b) in rows:
    (lp, lr), (rp, rr), (sp, sr), (bp, br) = p(l), p(r), p(s), p(b)
    for name, ps, rss in (("logshipd", lp, lr), ("logshipd (baseline)", bp, br),
                          ("rsyslog", rp, rr), ("syslog-ng", sp, sr)):
        for k, (t, c) in enumerate(ps):
            if math.isnan(t):
                continue
            label = "fresh" if k == 0 else "warm" if len(ps) == 2 else f"{k + 1}"
            print(f"| {sender} | {name} | {label} | {t:.2f} | {count/t:,.0f} | {c:.2f} | "
                  f"{rss:.0f} | {rp[k][0]/t:.2f} | {sp[k][0]/t:.2f} |")
PY
