#!/usr/bin/env python3
"""Time several commands in round-robin order (helper of bench/run.sh).

    measure.py --reps R [--warmup W] NAME=COMMAND [NAME=COMMAND ...]

COMMAND is split with shlex; stdout and stderr go to /dev/null.  W warm-up
rounds (default 1, untimed), then R timed rounds; in each round every command
runs once, in the given order, so slow drifts in machine load hit all commands
alike.  For each command prints one tab-separated line:

    NAME  wall_median_ms  wall_min_ms  wall_max_ms  cpu_median_ms

wall = perf_counter around fork/exec/wait; cpu = user+sys of the child from
wait4().  (No RSS here: a child's ru_maxrss includes the forking Python's
pre-exec RSS, ~14 MB; run.sh uses GNU time's %M instead.)  A non-zero exit
status aborts with status 1.
"""

import os
import shlex
import statistics
import subprocess
import sys
import time


def run_once(argv):
    with open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=null, stderr=null)
        _, status, ru = os.wait4(p.pid, 0)
        t1 = time.perf_counter()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("measure.py: command failed (rc %d): %s" % (p.returncode, " ".join(argv)))
    return (t1 - t0) * 1000.0, (ru.ru_utime + ru.ru_stime) * 1000.0


def main():
    args = sys.argv[1:]
    reps, warmup, cmds = 5, 1, []
    while args:
        a = args.pop(0)
        if a == "--reps":
            reps = int(args.pop(0))
        elif a == "--warmup":
            warmup = int(args.pop(0))
        elif "=" in a:
            name, cmd = a.split("=", 1)
            cmds.append((name, shlex.split(cmd)))
        else:
            sys.exit(__doc__)
    if not cmds or reps < 1:
        sys.exit(__doc__)
    for _ in range(warmup):
        for _, argv in cmds:
            run_once(argv)
    res = {name: [] for name, _ in cmds}
    for _ in range(reps):
        for name, argv in cmds:
            res[name].append(run_once(argv))
    for name, _ in cmds:
        r = res[name]
        wall = [x[0] for x in r]
        cpu = [x[1] for x in r]
        print("%s\t%.2f\t%.2f\t%.2f\t%.2f" % (
            name, statistics.median(wall), min(wall), max(wall),
            statistics.median(cpu)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
