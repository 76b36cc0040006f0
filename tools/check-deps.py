#!/usr/bin/env python3
"""check-deps.py BUILD_DIR: no two source files call each other, directly or
in a loop.

The linker's view: for every object file meson built for a program or
library of ours, `nm` tells the symbols it defines and those it needs. A
file that needs a symbol another file defines depends on it; the graph of
those edges between source files must have no cycle. Tests and fuzz
targets are left out (a test may call what calls it back).

Exit 0 and one summary line when the graph is acyclic; otherwise each
cycle, as the files in it, and exit 1. `--allow FILE` names cycles known
and not yet untied (one a line, its files sorted and joined by " "):
they are reported but do not fail the check; one that is gone is reported
too, so the list only shrinks."""
import argparse
import collections
import os
import subprocess
import sys


def objects(build):
    for root, _, files in os.walk(build):
        if "/tests" in root or "meson-private" in root or "/bench" in root:
            continue
        for f in files:
            if f.endswith(".c.o"):
                yield os.path.join(root, f)


def source_of(obj):
    # daemon/sandboxd.p/sandbox.c.o -> daemon/sandbox.c (by directory and name)
    rel = os.path.relpath(obj, ARGS.build)
    parts = rel.split(os.sep)
    name = parts[-1][: -len(".o")]
    if name.startswith("meson-generated_"):
        return None
    top = [p for p in parts[:-2]]
    return "/".join(top + [name.split("_.._")[-1]])


def symbols(obj):
    out = subprocess.run(["nm", "-g", obj], capture_output=True, text=True, check=True).stdout
    defined, needed = set(), set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "U":
            needed.add(fields[1])
        elif len(fields) == 3 and fields[1] in "TDBRCVW":
            defined.add(fields[2])
    return defined, needed


def cycles(graph):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, found, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return found


ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("build")
ap.add_argument("--allow", help="known cycles, one a line")
ARGS = ap.parse_args()

defined_by = {}
needs = {}
for obj in objects(ARGS.build):
    src = source_of(obj)
    if src is None:
        continue
    d, u = symbols(obj)
    for s in d:
        defined_by.setdefault(s, set()).add(src)
    needs.setdefault(src, set()).update(u)

graph = collections.defaultdict(set)
for src, syms in needs.items():
    graph[src]
    for s in syms:
        for dst in defined_by.get(s, ()):
            if dst != src:
                graph[src].add(dst)

allowed = set()
if ARGS.allow:
    with open(ARGS.allow) as f:
        allowed = {l.strip() for l in f if l.strip() and not l.startswith("#")}
found = [" ".join(c) for c in cycles(graph)]
bad = [c for c in found if c not in allowed]
for c in found:
    print("%s: %s" % ("known cycle" if c in allowed else "CYCLE", c))
for c in sorted(allowed - set(found)):
    print("gone (remove it from the allow-list): %s" % c)
print("check-deps: %d files, %d edges, %d cycles (%d not allowed)"
      % (len(graph), sum(len(v) for v in graph.values()), len(found), len(bad)))
sys.exit(1 if bad or (allowed - set(found)) else 0)
