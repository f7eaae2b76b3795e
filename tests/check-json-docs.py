#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/json.md against the program.

usage: check-json-docs.py JSON_MD HOSTDEVCTL FIXTURES_DIR TMPDIR

1. Every command that prints JSON (a verb or sub-verb whose --help offers
   --json) has a section in docs/json.md: a heading that names it in
   backticks.
2. Every example in docs/json.md -- a ```console block "$ hostdevctl ARGS
   [| jq FILTER]" followed by its output, or a ```json block after a
   paragraph naming `hostdevctl ... --json` -- is run on a fresh copy of
   the fixture tree it names (default: full) and the real output must have
   the example's shape: the same JSON types, the same keys in every
   object, the same array lengths, recursively.
3. Every command of 1 has at least one example checked in 2.
Prints TAP lines; the messages say which command or example fails where.
"""
import json, os, re, shlex, shutil, subprocess, sys

md_path, hd, fx, tmp = sys.argv[1:5]
md = open(md_path).read().split("\n")
n = 0
failed = 0


def tap(good, name, why=""):
    global n, failed
    n += 1
    if not good:
        failed += 1
    print(("ok" if good else "not ok") + " %d - %s" % (n, name))
    if not good and why:
        for line in str(why).split("\n")[:8]:
            print("# " + line)


def run(*args):
    return subprocess.run([hd, *args], capture_output=True, text=True).stdout


# --- 1. the commands that print JSON, from the program's help
verbs = re.findall(r"^  ([a-z][a-z-]*) ", run("--help").split("Verbs:")[1].split("\n\n")[0], re.M)
JSON = re.compile(r"--json(?![a-z])")
json_cmds = []
for v in verbs:
    h = run(v, "--help")
    usage = h.split("\n")[0]
    # sub-verbs: "  mdev list [--json]" lines, and the usage line's "list [--json] | set ..."
    subs = {}
    for sub, rest in re.findall(r"^\s*%s ([a-z][a-z-]*)\b(.*)$" % re.escape(v), h, re.M):
        subs[sub] = subs.get(sub, "") + rest
    parts = usage.split(" %s " % v, 1)[1].split(" | ") if " %s " % v in usage else []
    if len(parts) > 1:
        for part in parts:
            m = re.match(r"\s*([a-z][a-z-]*)\b(.*)", part)
            if m:
                subs[m.group(1)] = subs.get(m.group(1), "") + m.group(2)
    if subs:
        json_cmds += [v + " " + sub for sub, rest in subs.items() if JSON.search(rest)]
    elif JSON.search(h):
        json_cmds.append(v)
json_cmds = sorted(set(json_cmds))
headings = [l for l in md if l.startswith("#")]
for c in json_cmds:
    has = any(re.search(r"`(hostdevctl )?%s( [^`]*)?`" % re.escape(c), h) for h in headings)
    tap(has, "docs/json.md has a section for '%s --json'" % c,
        "no heading of docs/json.md names `%s ...` in backticks" % c)


# --- 2. the examples
def shape_diff(doc, real, path="$"):
    """None when real has doc's shape, else where it differs"""
    if doc is None or real is None:
        return None if doc is real else "%s: %s in the doc, %s in the output" % (
            path, json.dumps(doc)[:40], json.dumps(real)[:40])
    if type(doc) != type(real) and not (isinstance(doc, (int, float)) and isinstance(real, (int, float))
                                        and not isinstance(doc, bool) and not isinstance(real, bool)):
        return "%s: %s in the doc, %s in the output" % (path, type(doc).__name__, type(real).__name__)
    if isinstance(doc, dict):
        if set(doc) != set(real):
            return "%s: keys only in the doc: %s; only in the output: %s" % (
                path, sorted(set(doc) - set(real)), sorted(set(real) - set(doc)))
        for k in doc:
            d = shape_diff(doc[k], real[k], "%s.%s" % (path, k))
            if d:
                return d
    if isinstance(doc, list):
        if len(doc) != len(real):
            return "%s: %d elements in the doc, %d in the output" % (path, len(doc), len(real))
        for i, (a, b) in enumerate(zip(doc, real)):
            d = shape_diff(a, b, "%s[%d]" % (path, i))
            if d:
                return d
    return None


examples = []  # (line, command line, json text, setup commands)


def setups_before(i):
    """<!-- setup: hostdevctl ... --> lines just before line i: run first"""
    out = []
    for k in range(i - 1, max(i - 12, -1), -1):
        m = re.match(r"<!-- setup: (hostdevctl .*) -->$", md[k].strip())
        if m:
            out.insert(0, m.group(1))
        elif md[k].startswith("#"):
            break
    return out


i = 0
while i < len(md):
    line = md[i]
    if line.strip() in ("```console", "```json"):
        kind = line.strip()
        j = i + 1
        while j < len(md) and md[j].strip() != "```":
            j += 1
        body = md[i + 1:j]
        if kind == "```console" and body and body[0].startswith("$ hostdevctl ") and not body[0].endswith("|"):
            examples.append((i + 2, body[0][2:], "\n".join(body[1:]), setups_before(i)))
        elif kind == "```json":
            for k in range(i - 1, max(i - 8, 0), -1):
                m = re.search(r"`(hostdevctl [^`]*--json[^`]*)`", md[k])
                if m:
                    examples.append((i + 2, m.group(1), "\n".join(body), setups_before(i)))
                    break
        i = j
    i += 1

checked = set()
def shell(cmd, root):
    words = cmd.split("|", 1)
    argv = shlex.split(words[0])[1:]
    argv = [a for a in argv if not a.startswith("/tmp/fxdoc/")]
    if "--sysroot" in argv:
        argv.remove("--sysroot")
    sh = " ".join(shlex.quote(x) for x in [hd, "--sysroot", root, "--state-dir", root + "/state"] + argv)
    if len(words) > 1:
        sh += " |" + words[1]
    env = dict(os.environ, HOSTDEV_MDEVCTL_DIR=root + "/etc/mdevctl.d", HOSTDEV_CONFIG_DIR=root + "/etc/hostdev")
    # relative FILE arguments (gpu rom DEV FILE) land in the example's tree
    return subprocess.run(["bash", "-c", sh], capture_output=True, text=True, env=env, cwd=root)


for lineno, cmd, text, setups in examples:
    try:
        doc = json.loads(text)
    except ValueError:
        continue  # an excerpt (| head, | jq -r): not a whole document
    # a fresh fixture for every example: some change the tree
    case = "full"
    m = re.search(r"--sysroot /tmp/fxdoc/(\w+)", cmd)
    if m:
        case = m.group(1)
    # examples that only read share one copy; the others get a fresh one
    reads = not setups and (" --dry-run" in cmd or re.search(
        r"hostdevctl (--sysroot \S+ )?(nodedev-list|show|iommu|sriov list|mdev types|mdev list)\b", cmd))
    root = os.path.join(tmp, "shared-" + case if reads else "ex%d" % lineno)
    if not os.path.exists(root):
        shutil.copytree(os.path.join(fx, case), root, symlinks=True)
    for st in setups:
        q = shell(st, root)
        if q.returncode != 0:
            tap(False, "docs/json.md:%d: setup '%s'" % (lineno, st), q.stderr.strip())
    p = shell(cmd, root)
    name = "docs/json.md:%d: '%s' has the documented shape" % (lineno, cmd)
    try:
        real = json.loads(p.stdout)
    except ValueError:
        tap(False, name, "the command printed no JSON (exit %d): %s" % (p.returncode, p.stderr.strip()))
        continue
    d = shape_diff(doc, real)
    tap(d is None, name, d)
    if d is None:
        for c in json_cmds:
            if re.search(r"hostdevctl (--sysroot \S+ )?%s\b" % re.escape(c), cmd):
                checked.add(c)

# --- 3. every JSON command has a checked example (or a section that says
# which test checks it: "<!-- checked by tests/NAME -->", for output that
# needs a running daemon)
for k, line in enumerate(md):
    m = re.match(r"<!-- checked by (tests/[\w.-]+) -->$", line.strip())
    if not m or not os.path.exists(os.path.join(os.path.dirname(md_path), "..", m.group(1))):
        continue
    head = next((md[h] for h in range(k, -1, -1) if md[h].startswith("#")), "")
    for c in json_cmds:
        if re.search(r"`(hostdevctl )?%s( [^`]*)?`" % re.escape(c), head):
            checked.add(c)
for c in json_cmds:
    tap(c in checked, "docs/json.md has a checked example of '%s --json'" % c,
        "no ```console block '$ hostdevctl %s ... --json' with whole JSON output" % c)
print("1..%d" % n)
sys.exit(1 if failed else 0)
