#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/hostdevctl.1 against the program's --help, both ways.

usage: check-man.py MAN_PAGE HOSTDEVCTL

Every verb of 'hostdevctl --help' has an entry in COMMANDS and a line in
SYNOPSIS, and every COMMANDS entry is a verb of --help; every long option
of 'hostdevctl VERB --help' is in that verb's entry, and every option of
the entry is in that --help; the global options of 'hostdevctl --help' and
OPTIONS match.  Prints TAP lines; each failure names the verb or option
and where it is missing.
"""
import re, subprocess, sys

man_path, hd = sys.argv[1:3]
src = open(man_path).read().split("\n")
n = failed = 0


def tap(good, name):
    global n, failed
    n += 1
    failed += not good
    print(("ok" if good else "not ok") + " %d - %s" % (n, name))


def run(*args):
    return subprocess.run([hd, *args], capture_output=True, text=True).stdout


def plain(line):
    line = re.sub(r"^\.(B|BR|BI|IR|RB|I|RI|IB|BI)\s+", "", line)
    line = re.sub(r"\\f[BIRP]", "", line).replace("\\-", "-").replace('"', "")
    return line


OPT = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
GLOBAL = {"--sysroot", "--state-dir", "--verbose", "--quiet", "--help", "--version"}

# sections
sections = {}
cur = None
for i, l in enumerate(src):
    if l.startswith(".SH "):
        cur = l[4:].strip().strip('"')
        sections[cur] = []
    elif cur:
        sections[cur].append((i + 1, l))

# COMMANDS entries: ".TP" then a tag line that starts with a verb
entries = []  # (line, [verbs], [(line, text)])
cmds = sections.get("COMMANDS", [])
for k, (ln, l) in enumerate(cmds):
    if l.strip() == ".TP" and k + 1 < len(cmds):
        tag = re.sub(r"\s+,", ",", plain(cmds[k + 1][1]).strip())
        if re.match(r"[a-z]", tag):
            verbs = []
            for tok in tag.split():
                m = re.match(r"([a-z][a-z-]*)(,?)$", tok)
                if not m:
                    break
                verbs.append(m.group(1))
                if not m.group(2):
                    break
            entries.append((cmds[k + 1][0], verbs, []))
    if entries and ln > entries[-1][0] - 1:
        entries[-1][2].append((ln, plain(l)))

help_verbs = re.findall(r"^  ([a-z][a-z-]*) ", run("--help").split("Verbs:")[1].split("\n\n")[0], re.M)
man_verbs = {v: [] for _, vs, _ in entries for v in vs}
for e in entries:
    for v in e[1]:
        man_verbs[v].append(e)
synopsis = " ".join(plain(l) for _, l in sections.get("SYNOPSIS", []))

for v in help_verbs:
    tap(v in man_verbs, "verb '%s' of 'hostdevctl --help' has an entry in COMMANDS of %s" % (v, man_path))
    tap(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(v), synopsis) is not None,
        "verb '%s' of 'hostdevctl --help' is in the SYNOPSIS of %s" % (v, man_path))
for v, es in man_verbs.items():
    # 'help' is main()'s own verb ('hostdevctl help VERB'), not in the verb tables
    known = v in help_verbs or (v == "help" and run("help", help_verbs[0]).startswith("Usage:"))
    tap(known, "%s:%d documents verb '%s', which 'hostdevctl --help' lists" % (man_path, es[0][0], v))

for v in help_verbs:
    if v not in man_verbs:
        continue
    hopts = set(OPT.findall(run(v, "--help"))) - GLOBAL
    mopts = {}
    for _, _, body in man_verbs[v]:
        for ln, text in body:
            for o in OPT.findall(text):
                mopts.setdefault(o, ln)
    for o in sorted(hopts):
        tap(o in mopts, "option '%s' of 'hostdevctl %s --help' is in the %s entry of %s (COMMANDS)" % (o, v, v, man_path))
    for o, ln in sorted(mopts.items()):
        if o in GLOBAL:
            continue
        tap(o in hopts, "%s:%d documents option '%s' for %s, which 'hostdevctl %s --help' has" % (man_path, ln, o, v, v))

hglobal = set(OPT.findall(run("--help").split("Verbs:")[0]))
mglobal = {}
for ln, l in sections.get("OPTIONS", []):
    for o in OPT.findall(plain(l)):
        mglobal.setdefault(o, ln)
for o in sorted(hglobal):
    tap(o in mglobal, "global option '%s' of 'hostdevctl --help' is in OPTIONS of %s" % (o, man_path))
for o, ln in sorted(mglobal.items()):
    tap(o in hglobal, "%s:%d documents global option '%s', which 'hostdevctl --help' has" % (man_path, ln, o))
print("1..%d" % n)
sys.exit(1 if failed else 0)
