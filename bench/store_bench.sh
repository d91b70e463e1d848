#!/bin/sh
# Disk and query speed of compressed segments against zstd -1 and ripgrep
# (issue 17). Usage: bench/store_bench.sh [WORKDIR]   (needs a release
# build in build/, zstd, rg, socat, curl; WORKDIR default /tmp/logship-store-bench)
#
# 1. bench/store_corpus.py builds corpus.log (>= 400 MB, see there) and
#    bench/store_ndjson.py its NDJSON form (app and level per line).
# 2. For --compress none and zstd (level 3), a fresh logshipd
#    (--segment-size 16M) takes corpus.ndjson over raw TCP (socat); the
#    ingest rate is lines / seconds until /healthz shows the last seq;
#    then, with zstd, until every sealed segment is compressed. CPU
#    seconds and peak RSS of logshipd from /proc.
# 3. Each query is the best of three, through curl to /api/logs
#    (limit=1000000, NDJSON), next to rg over corpus.log (in the page
#    cache) and zstdcat | rg over corpus.log.zst (zstd -1, 64 KiB blocks
#    are what the issue measured; zstd -1 whole-file here).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${1:-/tmp/logship-store-bench}
D=$ROOT/build/logshipd
mkdir -p "$W"
cd "$W"
[ -s corpus.log ] || /usr/bin/python3 "$ROOT/bench/store_corpus.py" --out corpus.log
[ -s corpus.ndjson ] || /usr/bin/python3 "$ROOT/bench/store_ndjson.py" corpus.log corpus.ndjson
LINES=$(wc -l < corpus.log)
RAW=$(stat -c %s corpus.log)
[ -s corpus.log.zst ] || zstd -q -1 -f corpus.log -o corpus.log.zst
ZST=$(stat -c %s corpus.log.zst)
echo "corpus: $LINES lines, $RAW bytes; zstd -1: $ZST bytes (1/$(echo "scale=2; $RAW/$ZST" | bc))"

best3() { # best of three wall seconds of "$@"
    b=
    for i in 1 2 3; do
        s=$(date +%s.%N)
        "$@" > /dev/null || true # rg -c exits 1 when nothing matches
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}

cpu_of() { # utime+stime seconds of pid
    awk '{print ($14 + $15) / 100}' /proc/$1/stat
}

for mode in none zstd; do
    rm -rf "data-$mode"
    "$D" --data "data-$mode" --http 127.0.0.1:0 --tcp 127.0.0.1:0 --syslog-udp off --syslog-tcp off \
        --segment-size 16M --compress $mode --memory-records 10000 --log-level info \
        > "log-$mode.txt" 2>&1 &
    PID=$!
    for i in $(seq 1 100); do
        grep -q "logshipd ready" "log-$mode.txt" && break
        sleep 0.1
    done
    HTTP=$(sed -n 's/.*http listening on [0-9.]*:\([0-9]*\).*/\1/p' "log-$mode.txt" | head -1)
    TCP=$(sed -n 's/.*tcp listening on [0-9.]*:\([0-9]*\).*/\1/p' "log-$mode.txt" | head -1)
    s=$(date +%s.%N)
    socat -u FILE:corpus.ndjson TCP:127.0.0.1:$TCP
    for i in $(seq 1 6000); do
        seq=$(curl -s http://127.0.0.1:$HTTP/healthz | sed 's/.*"last_seq":\([0-9]*\).*/\1/')
        [ "$seq" -ge "$LINES" ] && break
        sleep 0.05
    done
    e=$(date +%s.%N)
    ING=$(echo "$e - $s" | bc)
    CPU_ING=$(cpu_of $PID)
    if [ $mode = zstd ]; then
        for i in $(seq 1 6000); do
            n=$(ls "data-$mode/segments" | grep -c '[0-9]\.log$' || true)
            [ "$n" -le 1 ] && break
            sleep 0.1
        done
        e2=$(date +%s.%N)
        echo "zstd: every sealed segment compressed $(echo "$e2 - $s" | bc) s after the first byte"
    fi
    DISK=$(du -sb "data-$mode/segments" | cut -f1)
    echo "mode $mode: ingest $ING s ($(echo "$LINES / $ING" | bc) lines/s), logshipd CPU $CPU_ING s at ingest end," \
        "$(cpu_of $PID) s now; disk $DISK bytes = $(echo "scale=3; $DISK/$RAW" | bc) of raw, 1/$(echo "scale=2; $RAW/$DISK" | bc)"
    q() { curl -s -H 'Accept: application/x-ndjson' "http://127.0.0.1:$HTTP/api/logs?limit=1000000&$1" | wc -l; }
    for qs in "q=blk_-4242424242424242424" "word=blk_-4242424242424242424" "q=zzqxj_no_such_token" \
        "word=zzqxj_no_such_token" "level=error&topic=sshd.%23" \
        "re=Failed%20password%20for%20invalid%20user%20%5Cw%2B%20from%2010%5C.1%5C."; do
        n=$(q "$qs")
        echo "  $qs: $n records, best of 3 $(best3 q "$qs") s"
    done
    echo "  logshipd peak RSS $(grep VmHWM /proc/$PID/status | awk '{print $2}') kB, CPU $(cpu_of $PID) s"
    kill $PID
    wait $PID || true
done
cat corpus.log > /dev/null # into the page cache
for pat in "blk_-4242424242424242424" "zzqxj_no_such_token"; do
    echo "rg -c -F $pat: $(rg -c -F -- "$pat" corpus.log || true), best of 3 $(best3 rg -c -F -- "$pat" corpus.log) s"
    echo "zstdcat | rg -c -F $pat: best of 3 $(best3 sh -c "zstdcat corpus.log.zst | rg -c -F -- '$pat'") s"
done
echo "rg -c -e 'Failed password for invalid user \\w+ from 10\\.1\\.': $(rg -c -e 'Failed password for invalid user \w+ from 10\.1\.' corpus.log), best of 3 $(best3 rg -c -e 'Failed password for invalid user \w+ from 10\.1\.' corpus.log) s"
echo "rg -c -e 'sshd.*(error|fail)' -i: best of 3 $(best3 rg -c -i -e 'sshd.*(error|fail)' corpus.log) s"
