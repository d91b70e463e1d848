#!/usr/bin/env bash
# bench/fuzz.sh - runs libFuzzer drivers from tests/fuzz for a while each
# (the corpus replay in `make test` runs every seed once; this looks for
# new inputs). Builds a clang fuzzing build in build-fuzz, runs each named
# driver (default: all) for MINUTES with the seed corpus and dictionary
# where there is one, on a scratch copy of the corpus, and prints one line
# per driver: runs, executions, coverage, and crashes found (kept in
# bench/out/fuzz/<driver>/ with the log).
# Usage: bench/fuzz.sh [MINUTES] [DRIVER...]     (default 5, all)
set -eu
cd "$(dirname "$0")/.."
MINUTES=${1:-5}
shift || true
scripts/deps.sh test >/dev/null
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOGSHIP_SANITIZE=ON \
    -DLOGSHIP_TESTS=OFF -DLOGSHIP_FUZZ=ON >/dev/null
DRIVERS=${*:-$(sed -n 's/^set(FUZZERS \(.*\))$/\1/p' CMakeLists.txt)}
for d in $DRIVERS; do cmake --build build-fuzz --target "fuzz_$d" -j2 >/dev/null; done
OUT=bench/out/fuzz
mkdir -p "$OUT"
printf '%-14s %8s %12s %8s %8s %s\n' driver minutes execs cov ft crashes
for d in $DRIVERS; do
    dir="$OUT/$d"
    rm -rf "$dir" && mkdir -p "$dir/corpus"
    cp tests/fuzz/corpus/"$d"/* "$dir/corpus/" 2>/dev/null || true
    dict=""
    [ -f "tests/fuzz/$d.dict" ] && dict="-dict=tests/fuzz/$d.dict"
    env -u FUZZ_HTTP_DEBUG \
        "build-fuzz/fuzz_$d" -max_total_time=$((MINUTES * 60)) -max_len=8192 -timeout=10 \
        -print_final_stats=1 $dict -artifact_prefix="$dir/" "$dir/corpus" \
        >"$dir/log" 2>&1 || true
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
    cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    crashes=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'timeout-*' \
        -o -maxdepth 1 -name 'leak-*' | wc -l)
    printf '%-14s %8s %12s %8s %8s %s\n' "$d" "$MINUTES" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
done
