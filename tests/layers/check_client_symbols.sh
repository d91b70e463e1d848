#!/bin/sh
# check_client_symbols.sh - liblogship never aborts its host process (STYLE.md,
# "Errors and ownership"): no object of the library may reference or define
# a function that ends the process - abort(), exit() and kin, assert()'s
# __assert_fail, err(3), error(3), raise() - nor the server's allocation
# helpers of src/common/buf.c, whose oom() aborts (oom, xmalloc, xcalloc,
# xrealloc, xstrdup, buf_*). The library's buffers report a failed
# allocation instead (src/client/cbuf.h).
#
# Usage: check_client_symbols.sh [--sanitized] LIB...   (.so or .a files)
#        check_client_symbols.sh --self-test BAD_LIB GOOD_LIB
# Exit 0 when clean; 1 naming each offending symbol and the object it is in.
#
# --sanitized allows the sanitizer runtime's own entry points (__asan_*,
# __ubsan_*, __lsan_*, __sanitizer_*) in a -DLOGSHIP_SANITIZE build: the
# compiler inserts them, they exist in test builds only, and they fire on
# memory errors and undefined behaviour - bugs, not conditions the library
# could return as an error. CMake also builds the library's objects without
# sanitizers (logship_client_plain) and checks those with nothing allowed.
set -eu

forbidden='^(abort|exit|_exit|_Exit|quick_exit|__assert_fail|__assert_perror_fail|__assert|err|errx|verr|verrx|error|error_at_line|raise|kill|pthread_kill|oom|xmalloc|xcalloc|xrealloc|xstrdup|buf_[A-Za-z0-9_]*)$'
sanitizer='^__(asan|ubsan|lsan|sanitizer)_'

check() {
    allow_san=$1
    shift
    status=0
    for lib in "$@"; do
        if [ ! -f "$lib" ]; then
            echo "check_client_symbols: $lib: no such file"
            status=1
            continue
        fi
        # every symbol, defined or not, with the object it is in
        # (nm -A: "file[:member]: [value] type name"); .so names lose
        # their @VERSION
        out=$(nm -A "$lib" 2>/dev/null | awk -v bad="$forbidden" -v san="$sanitizer" \
                  -v allow="$allow_san" '
            NF >= 3 {
                name = $NF; sub(/@.*/, "", name)
                where = $1; sub(/:$/, "", where)
                sub(/:[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]+$/, "", where)
                if (name ~ bad || (allow == 0 && name ~ san))
                    printf "  %s: %s (%s)\n", where, name, $(NF - 1) == "U" ? "referenced" : "defined"
            }' | sort -u)
        if [ -z "$(nm -A "$lib" 2>/dev/null | head -1)" ]; then
            echo "check_client_symbols: $lib: nm found no symbols"
            status=1
        elif [ -n "$out" ]; then
            echo "check_client_symbols: $lib can end its host process:"
            echo "$out"
            status=1
        fi
    done
    return $status
}

if [ "${1:-}" = --self-test ]; then
    bad=${2:?usage: check_client_symbols.sh --self-test BAD_LIB GOOD_LIB}
    good=${3:?usage: check_client_symbols.sh --self-test BAD_LIB GOOD_LIB}
    if ! check 0 "$good" >/dev/null; then
        echo "self-test: $good refused"
        check 0 "$good" || true
        exit 1
    fi
    out=$(check 0 "$bad" || true)
    for sym in abort exit oom xmalloc buf_grow __assert_fail; do
        if ! printf '%s\n' "$out" | grep -q ": $sym ("; then
            echo "self-test: $bad passed without naming $sym"
            printf '%s\n' "$out"
            exit 1
        fi
    done
    exit 0
fi

allow=0
if [ "${1:-}" = --sanitized ]; then
    allow=1
    shift
fi
[ $# -gt 0 ] || { echo "usage: check_client_symbols.sh [--sanitized] LIB..."; exit 2; }
check $allow "$@"
