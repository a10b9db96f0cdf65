#!/usr/bin/env python3
"""Reports import cycles between the source files of each crate.

A file `a` depends on file `b` when `a` names an item path (`use crate::x::y`, `crate::x::y::Z`,
`super::x`, `self::x`) that resolves to the module file `b`. Cycles are the strongly connected
components of that graph with more than one file. Usage: module_cycles.py <crate-src-dir>...
Exit status 1 when any crate has a cycle.
"""
import os, re, sys

PATH = re.compile(r'\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)')
USE_BLOCK = re.compile(r'\buse\s+(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};', re.S)

def modules(src):
    files = {}
    for root, _, names in os.walk(src):
        for n in names:
            if not n.endswith('.rs'):
                continue
            p = os.path.join(root, n)
            rel = os.path.relpath(p, src)[:-3].split(os.sep)
            if rel[-1] in ('mod', 'lib', 'main'):
                rel = rel[:-1]
            files[tuple(rel)] = p
    return files

def strip(text):
    text = re.sub(r'//[^\n]*', '', text)
    # unit tests next to the code may use anything of their parent
    return re.sub(r'#\[cfg\(test\)\]\s*mod\s+\w+\s*\{.*', '', text, flags=re.S)

def resolve(files, base, segs):
    for k in range(len(segs), -1, -1):
        m = tuple(base + segs[:k])
        if m in files:
            return m
    return None

def graph(src):
    files = modules(src)
    edges = {m: set() for m in files}
    for m, p in files.items():
        is_dir = os.path.basename(p) in ('mod.rs', 'lib.rs', 'main.rs')
        here = list(m) if is_dir else list(m[:-1]) + [m[-1]]
        text = strip(open(p, encoding='utf-8').read())
        paths = []
        for root, rest in PATH.findall(text):
            paths.append((root, [s for s in rest.split('::') if s]))
        for root, prefix, inner in USE_BLOCK.findall(text):
            pre = [s for s in prefix.split('::') if s]
            for item in re.split(r'[,{}]', inner):
                item = item.strip().split(' as ')[0]
                if item:
                    paths.append((root, pre + [s for s in item.split('::') if s and s != '*']))
        # a child module named by its bare name: `devices::list`
        for k in files:
            if len(k) == len(here) + 1 and list(k[:-1]) == here and is_dir:
                for rest in re.findall(r'(?<![:\w])' + k[-1] + r'((?:::[A-Za-z_][A-Za-z0-9_]*)+)', text):
                    paths.append(('self', [k[-1]] + [s for s in rest.split('::') if s]))
        for root, segs in paths:
            if root == 'crate':
                base = []
            elif root == 'self':
                base = here
            else:
                base = here[:-1]
                while segs and segs[0] == 'super':
                    base, segs = base[:-1], segs[1:]
            t = resolve(files, base, segs)
            if t is not None and t != m:
                edges[m].add(t)
    return files, edges

def sccs(edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            out.append(comp)
    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]

bad = 0
for src in sys.argv[1:]:
    files, edges = graph(src)
    cycles = sccs(edges)
    for c in cycles:
        bad += 1
        print(f"{src}: cycle: " + " <-> ".join(sorted(files[m] for m in c)))
    print(f"{src}: {len(files)} files, {sum(len(e) for e in edges.values())} imports, {len(cycles)} cycles")
sys.exit(1 if bad else 0)
