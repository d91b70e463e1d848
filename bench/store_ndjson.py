#!/usr/bin/python3
"""corpus.log -> corpus.ndjson for bench/store_bench.sh: each line becomes
{"msg": line, "app": A, "level": L}, A by the line's shape (hdfs, sshd,
apache, kernel, sys), L from its words (error, warning, info), so the
topic is A.L and a level + topic query has something to select."""
import json, sys

def app(l):
    if " dfs." in l:
        return "hdfs"
    if "sshd" in l:
        return "sshd"
    if l.startswith("[") and "] [" in l[:40]:
        return "apache"
    if " kernel" in l[:60]:
        return "kernel"
    return "sys"

def level(l):
    s = l.lower()
    if "error" in s or "exception" in s or "fail" in s:
        return "error"
    if "warn" in s or "alert" in s:
        return "warning"
    return "info"

with open(sys.argv[1], encoding="utf-8", errors="replace") as f, open(sys.argv[2], "w") as o:
    for l in f:
        l = l.rstrip("\n")
        o.write(json.dumps({"msg": l, "app": app(l), "level": level(l)}) + "\n")
