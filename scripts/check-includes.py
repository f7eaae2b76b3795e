#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fail on an include cycle between module folders.

Every `#include "..."` line of the .c and .h files in the module folders is
resolved the way the compiler does it (the including file's folder, then
include/ and the source root, the -I directories of meson.build); an
include that crosses folders is an edge from the including file's folder to
the included file's folder.  A cycle in that graph (util -> nodedev ->
util, say) means two folders cannot be understood, built or tested one
without the other; it is printed and the check fails.

A front end (tools/) sees the library only through its public headers
(include/hostdev/): from util/ it may include macro.h alone, which must
stay header-only (system headers, macros and static inline functions; no
declaration of a library function).  Anything else fails the check too.

    scripts/check-includes.py [SRCDIR]
"""
import os
import re
import sys

MODULES = ["util", "nodedev", "iommu", "vfio", "sriov", "mdev", "domain",
           "gpu", "boot", "tools", "daemon"]
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(src, path):
    rel = os.path.relpath(path, src)
    top = rel.split(os.sep)[0]
    return top if top in MODULES else None


def resolve(src, including, name):
    for base in (os.path.dirname(including), os.path.join(src, "include"), src):
        p = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(p):
            return p
    return None  # generated (gpu/quirks.h in the build tree) or a system header


def includes(src, mods):
    """(folder, including file, name as written, resolved path) of every
    #include "..." of the .c and .h files below @mods that resolves."""
    for mod in mods:
        for dirpath, _, files in os.walk(os.path.join(src, mod)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for m in INCLUDE_RE.finditer(text):
                    target = resolve(src, path, m.group(1))
                    if target:
                        yield mod, path, m.group(1), target


def graph(src):
    edges = {}  # (from, to) -> first "file: #include" seen, for the message
    for mod, path, name, target in includes(src, MODULES):
        to = folder_of(src, target)
        if to and to != mod:
            edges.setdefault((mod, to), '%s: #include "%s"' % (os.path.relpath(path, src), name))
    return edges


FRONT_ENDS = ["tools"]
FRONT_END_MAY_INCLUDE = {os.path.join("util", "macro.h")}
PROTOTYPE_RE = re.compile(r'^(?!static\b)[A-Za-z_][\w \t\*]*\bhd_\w+\s*\(', re.M)


def front_end_violations(src):
    bad = []
    for mod, path, name, target in includes(src, FRONT_ENDS):
        rel = os.path.relpath(target, src)
        if folder_of(src, target) not in (None, mod) and rel not in FRONT_END_MAY_INCLUDE:
            bad.append('%s: #include "%s" (a library internal)' % (os.path.relpath(path, src), name))
    for rel in sorted(FRONT_END_MAY_INCLUDE):
        with open(os.path.join(src, rel), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for m in INCLUDE_RE.finditer(text):
            bad.append('%s: #include "%s" (must include system headers only)' % (rel, m.group(1)))
        for m in PROTOTYPE_RE.finditer(text):
            bad.append("%s: declares a library function (%s...)" % (rel, m.group(0).strip()))
    return bad


def find_cycle(edges):
    succ = {}
    for a, b in sorted(edges):
        succ.setdefault(a, []).append(b)
    state = {}  # 1 on the stack, 2 done
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in succ.get(n, []):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in MODULES:
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def main():
    src = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), ".."))
    edges = graph(src)
    bad = front_end_violations(src)
    if bad:
        print("a front end reaches into the library's internals:")
        for b in bad:
            print("  " + b)
        return 1
    cycle = find_cycle(edges)
    if cycle:
        print("include cycle between module folders: " + " -> ".join(cycle))
        for a, b in zip(cycle, cycle[1:]):
            print("  %s -> %s  (%s)" % (a, b, edges[(a, b)]))
        return 1
    for (a, b), why in sorted(edges.items()):
        print("%s -> %s  (%s)" % (a, b, why))
    print("no include cycle between module folders (%d folder edges)" % len(edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
