#!/usr/bin/env bash
# One harness in the test suite (TAP): replay its seed corpus and its
# regression inputs, then fuzz for SECONDS with one worker.
#
#   fuzz/run-one.sh HARNESS-BINARY SEED-DIR REGRESSION-DIR SECONDS
#
# A crash, sanitizer report, leak or timeout fails the test; the input is
# kept under $HOSTDEV_FUZZ_ARTIFACTS (default ./fuzz-artifacts/<harness>/)
# so that it can become a regression case (fuzz/README.md).
set -u
bin=$1 seeds=$2 regress=$3 secs=$4
name=$(basename "$bin")
art=${HOSTDEV_FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}/$name
mkdir -p "$art"
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX") || exit 1
# the tree harnesses' copies of the fake host: on tmpfs, and removed here
# too, since a harness that crashes cannot clean up after itself
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
trees=$(mktemp -d "$shm/$name.XXXXXX") || exit 1
export HOSTDEV_FUZZ_TMPDIR=$trees
trap 'rm -rf "$work" "$trees"' EXIT
# timeouts and memory: a single input running 10 s is a bug (hang or
# blow-up), so is 2 GiB of memory
opts=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art/" -print_final_stats=1)

echo "1..2"
dirs=("$seeds")
nreg=0
if [ -d "$regress" ]; then
        dirs+=("$regress")
        nreg=$(find "$regress" -type f | wc -l)
fi
nseed=$(find "$seeds" -type f 2>/dev/null | wc -l)
if [ "$nseed" -eq 0 ]; then
        echo "not ok 1 - $name: no seed inputs in $seeds"
else
        "$bin" "${opts[@]}" -runs=0 "${dirs[@]}" > "$work/replay.log" 2>&1
        rc=$?
        if [ $rc = 0 ]; then
                echo "ok 1 - $name: $nseed seeds and $nreg regression inputs run clean"
        else
                echo "not ok 1 - $name: replaying the corpus failed (exit $rc), input kept in $art"
                sed 's/^/# /' "$work/replay.log" | grep -v '^# #[0-9]' | tail -60
        fi
fi

if [ "$secs" -le 0 ]; then
        echo "ok 2 - $name: fuzzing # SKIP fuzz_seconds=0"
        exit 0
fi
mkdir "$work/corpus"
# -max_len: a large regression input (fuzz/regressions/sriov-config) must
# not make every mutation that large and slow
"$bin" "${opts[@]}" -max_len=16384 -max_total_time="$secs" "$work/corpus" "${dirs[@]}" > "$work/fuzz.log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)
cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/fuzz.log" | tail -1)
if [ $rc = 0 ]; then
        echo "ok 2 - $name: fuzzed ${secs} s, ${execs:-?} executions (${rate:-?}/s), ${cov:-no coverage line}, no crash"
else
        echo "not ok 2 - $name: fuzzing failed (exit $rc) after ${execs:-?} executions; input kept in $art"
        sed 's/^/# /' "$work/fuzz.log" | grep -v '^# #[0-9]' | tail -80
fi
