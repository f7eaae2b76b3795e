#!/usr/bin/env bash
# Longer fuzzing runs than the test suite's, with a corpus that persists
# between runs (outside the repository).
#
#   fuzz/run.sh HARNESS|all [SECONDS]     default 600 s per harness
#
# HARNESS is a name from fuzz/meson.build (udev-db, uevent, pci-config, vpd,
# sysfs-attrs, mdev-json, sriov-config, nodedev-xml, netlink).
# Environment:
#   HOSTDEV_FUZZ_BUILD   build directory (build-fuzz; configured with clang
#                        and built here when needed)
#   HOSTDEV_FUZZ_DIR     corpora, crash inputs and logs
#                        (${XDG_CACHE_HOME:-~/.cache}/hostdev-fuzz)
#   HOSTDEV_FUZZ_JOBS    parallel libFuzzer jobs per harness (nproc)
# Prints one summary line per harness; exits 1 when an input crashed.
set -u
cd "$(dirname "$0")/.."
SRC=$PWD
[ $# -ge 1 ] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
what=$1
secs=${2:-600}
build=${HOSTDEV_FUZZ_BUILD:-build-fuzz}
dir=${HOSTDEV_FUZZ_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hostdev-fuzz}
jobs=${HOSTDEV_FUZZ_JOBS:-$(nproc)}

all=$(sed -n "/^fuzz_harnesses = \[/,/\]/p" fuzz/meson.build | grep -o "'[a-z-]*'" | tr -d "'")
if [ "$what" = all ]; then
        list=$all
elif grep -qx -- "$what" <<< "$all"; then
        list=$what
else
        echo "run.sh: unknown harness '$what' (one of: $(echo $all))" >&2
        exit 2
fi

if [ ! -f "$build/build.ninja" ]; then
        CC=clang meson setup "$build" -Dfuzz=true > "$build.setup.log" 2>&1 ||
                { cat "$build.setup.log" >&2; exit 1; }
fi
ninja -C "$build" fuzz > "$build.ninja.log" 2>&1 || { cat "$build.ninja.log" >&2; exit 1; }
build=$(cd "$build" && pwd)

# the tree harnesses' copies of the fake host (tmpfs; a crashed harness
# leaves its copy behind)
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
trees=$(mktemp -d "$shm/hostdev-fuzz-run.XXXXXX") || exit 1
export HOSTDEV_FUZZ_TMPDIR=$trees
trap 'rm -rf "$trees"' EXIT

crashed=0
for h in $list; do
        corpus=$dir/corpus/$h art=$dir/artifacts/$h logs=$dir/logs/$h
        mkdir -p "$corpus" "$art" "$logs"
        rm -f "$logs"/fuzz-*.log
        dirs=("$corpus" "$build/fuzz/data/seeds/$h")
        [ -d "$SRC/fuzz/regressions/$h" ] && dirs+=("$SRC/fuzz/regressions/$h")
        nart=$(find "$art" -type f | wc -l)
        # -jobs: independent workers sharing the corpus directory, each
        # logging to fuzz-N.log in the current directory
        (cd "$logs" && "$build/fuzz/fuzz-$h" -jobs="$jobs" -workers="$jobs" -max_total_time="$secs" \
                -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 -artifact_prefix="$art/" \
                "${dirs[@]}" > "$logs/driver.log" 2>&1)
        execs=$(cat "$logs"/fuzz-*.log 2>/dev/null | sed -n 's/^stat::number_of_executed_units: *//p' |
                awk '{s += $1} END {print s + 0}')
        cov=$(cat "$logs"/fuzz-*.log 2>/dev/null | grep -o 'cov: [0-9]* ft: [0-9]*' | sort -t' ' -k2 -n | tail -1)
        new=$(( $(find "$art" -type f | wc -l) - nart ))
        echo "$h: $secs s x $jobs jobs, $execs executions ($(( execs / (secs > 0 ? secs : 1) ))/s), ${cov:-no coverage line}," \
             "corpus $(find "$corpus" -type f | wc -l) inputs, $new new crash inputs$([ "$new" -gt 0 ] && echo " in $art")"
        [ "$new" -gt 0 ] && crashed=1
done
exit $crashed
