#!/usr/bin/env python3
"""check_includes.py - the include graph of src/ keeps its layers one-way.

Reads every .c and .h under src/ and resolves each #include the way the
build does ("x.h" next to the including file first, then from src/, the
build's include directory; <x.h> from src/ only, anything else is a system
header). A folder is src/<name>/ with everything below it (src/ingest/http/
is part of ingest). Two rules:

  L1. Only src/server/ includes src/server/. The modules below it (inputs,
      query, tail, the HTTP layer, the store...) get what they need through
      their own context, option and stats structs; logshipd's server wires
      them together and is the one folder that knows them all.
  L2. No include cycle between folders: when a file of folder A includes
      one of folder B, nothing in B reaches back into A, directly or
      through other folders.

Prints each violation with the #include lines that make it and exits 1, or
exits 0 (printing the folder graph with -v). ctest runs it on the tree
(layers_includes) and runs --self-test (layers_selftest), which checks the
checker on small trees it writes: one that keeps both rules, one that
breaks each.

Usage: tests/layers/check_includes.py [-v] [ROOT] | --self-test
"""
import os
import re
import sys
import tempfile
from collections import deque

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^">]+)[">]', re.M)
TOP = "server"  # L1: the one folder nothing else may include


def folder(rel):
    """src/ingest/http/x.c -> ingest; None outside src/<folder>/."""
    parts = rel.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "src" else None


def edges_of(root):
    """(from_folder, to_folder, file, line_no, text) for every include that
    resolves to a file of another folder of src/."""
    src = os.path.join(root, "src")
    out = []
    for dirpath, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                bases = (dirpath, src) if m.group(1) == '"' else (src,)
                target = None
                for base in bases:
                    cand = os.path.normpath(os.path.join(base, m.group(2)))
                    if os.path.isfile(cand):
                        target = os.path.relpath(cand, root).replace(os.sep, "/")
                        break
                if target is None:
                    continue  # a system or generated header
                a, b = folder(rel), folder(target)
                if a and b and a != b:
                    line = text.count("\n", 0, m.start()) + 1
                    out.append((a, b, rel, line, m.group(0).strip()))
    return out


def components(graph):
    """Strongly connected components of more than one folder (Tarjan)."""
    index, low, stack, on, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def shortest_cycle(graph, start, allowed):
    """The shortest path start -> ... -> start inside allowed, or None."""
    prev = {start: None}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph[v]):
            if w not in allowed:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return path[::-1] + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return None


def check(root, out=print, verbose=False):
    """Number of violations in the tree at root; reports them through out."""
    edges = edges_of(root)
    bad = 0

    for a, b, rel, line, inc in edges:
        if b == TOP:
            out(f"L1: {rel}:{line}: {inc}: only src/{TOP}/ includes src/{TOP}/")
            bad += 1

    graph = {}
    for a, b, *_ in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    for comp in components(graph):
        # every folder of the component is on a cycle: show the shortest
        # one through each, once
        seen = set()
        for v in comp:
            cyc = shortest_cycle(graph, v, set(comp))
            key = frozenset(zip(cyc, cyc[1:]))
            if key in seen:
                continue
            seen.add(key)
            bad += 1
            out(f"L2: include cycle between folders: {' -> '.join(cyc)}")
            for a, b in zip(cyc, cyc[1:]):
                lines = [e for e in edges if e[0] == a and e[1] == b]
                for _, _, rel, line, inc in lines[:3]:
                    out(f"    {rel}:{line}: {inc}  ({a} -> {b})")
                if len(lines) > 3:
                    out(f"    ... and {len(lines) - 3} more {a} -> {b}")

    if verbose or bad:
        for a in sorted(graph):
            out(f"  {a} -> {', '.join(sorted(graph[a])) or '(nothing)'}")
    if not bad:
        out(f"check_includes: {len(edges)} includes across folders, layers one-way")
    return bad


def self_test():
    """The checker passes a tree that keeps the rules and fails each break."""
    def run(files, out):
        with tempfile.TemporaryDirectory(prefix="check_includes.") as d:
            for rel, text in files.items():
                p = os.path.join(d, rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w") as f:
                    f.write(text)
            return check(d, out=out)

    good = {
        "src/common/buf.h": "#include <stdint.h>\n",
        "src/http/http.h": '#include "../common/buf.h"\n',
        "src/ingest/http/conn.c": '#include "../../http/http.h"\n#include "missing.h"\n',
        "src/server/main.c": '#include "../ingest/http/conn.c"\n#include "srv.h"\n',
        "src/server/srv.h": "#include <common/buf.h>\n",
    }
    cases = [
        ("clean", good, 0, None),
        # (src/route/ is on no path from src/server/: no cycle as well)
        ("L1 quoted", {**good, "src/route/x.c": '#include "../server/srv.h"\n'}, 1, "L1"),
        ("L1 from src/", {**good, "src/route/x.c": '#  include <server/srv.h>\n'}, 1, "L1"),
        ("L2 two folders", {**good, "src/common/y.c": '#include "http/http.h"\n'}, 1, "L2"),
        ("L2 three folders", {**good, "src/common/z.h": '#include "../ingest/http/w.h"\n',
                              "src/ingest/http/w.h": ""}, 1, "L2"),
    ]
    failed = 0
    for name, files, want, rule in cases:
        lines = []
        got = run(files, lines.append)
        ok = got == want and (rule is None or any(l.startswith(rule + ":") for l in lines))
        print(f"self-test {name}: {'ok' if ok else 'FAILED'} ({got} violation(s))")
        if not ok:
            print("\n".join("    " + l for l in lines))
            failed += 1
    return 1 if failed else 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(args[0] if args else os.path.join(here, "..", ".."))
    if not os.path.isdir(os.path.join(root, "src")):
        print(f"check_includes: no src/ under {root}", file=sys.stderr)
        return 2
    bad = check(root, verbose=verbose)
    if bad:
        print(f"check_includes: {bad} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
