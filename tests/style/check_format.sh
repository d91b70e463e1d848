#!/bin/sh
# check_format.sh - every C source of the tree is as .clang-format lays it
# out. Usage: check_format.sh SOURCE_DIR          (the tree)
#             check_format.sh --self-test SOURCE_DIR  (a misformatted file fails)
# Exit 0 when clean; 1 with clang-format's complaints (file:line) when not.
set -eu

if [ "${1:-}" = --self-test ]; then
    src=$2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp "$src/.clang-format" "$tmp/"
    printf 'int f(int x)\n{\n    if (x) return 1;\n    return 0;\n}\n' >"$tmp/bad.c"
    printf 'int f(int x)\n{\n    if (x)\n        return 1;\n    return 0;\n}\n' >"$tmp/good.c"
    clang-format --dry-run -Werror "$tmp/good.c" || { echo "self-test: good.c refused"; exit 1; }
    if clang-format --dry-run -Werror "$tmp/bad.c" 2>/dev/null; then
        echo "self-test: bad.c passed"
        exit 1
    fi
    exit 0
fi

src=${1:?usage: check_format.sh SOURCE_DIR}
cd "$src"
files=$(find src include tests bench examples clients -name node_modules -prune -o \
             \( -name '*.c' -o -name '*.h' \) -print | sort)
clang-format --dry-run -Werror $files
