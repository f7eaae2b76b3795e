#!/usr/bin/env bash
# The whole test suite: install dependencies, build (plain, with
# ASan+UBSan, and the libFuzzer harnesses with clang), run every test,
# print "N passed, N failed, N skipped".
#
#   scripts/run-tests.sh            everything (the real-kernel guest included)
#   HOSTDEV_SKIP_VM=1 scripts/run-tests.sh     without the QEMU guest
set -u
cd "$(dirname "$0")/.."
SRC=$PWD

scripts/install-deps.sh || { echo "run-tests: dependency installation failed" >&2; exit 1; }

build() { # DIR [meson options]
        local dir=$1; shift
        if [ ! -f "$dir/build.ninja" ]; then
                meson setup "$dir" -Dwerror=true "$@" > "$dir.setup.log" 2>&1 ||
                        { cat "$dir.setup.log" >&2; return 1; }
        fi
        ninja -C "$dir" > "$dir.ninja.log" 2>&1 || { cat "$dir.ninja.log" >&2; return 1; }
}

build build || { echo "0 passed, 1 failed"; exit 1; }
build build-asan -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug ||
        { echo "0 passed, 1 failed"; exit 1; }
# libFuzzer harnesses (fuzz/README.md): clang, and only the fuzz targets
# (the gcc builds above build and check the rest)
build_fuzz() {
        if [ ! -f build-fuzz/build.ninja ]; then
                CC=clang meson setup build-fuzz -Dwerror=true -Dfuzz=true > build-fuzz.setup.log 2>&1 ||
                        { cat build-fuzz.setup.log >&2; return 1; }
        fi
        ninja -C build-fuzz fuzz > build-fuzz.ninja.log 2>&1 || { cat build-fuzz.ninja.log >&2; return 1; }
}

# two guests at a time (the machine has 2 cores; the suite then takes ~3 min)
export HOSTDEV_VM_JOBS=${HOSTDEV_VM_JOBS:-2}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87

suites=()
[ -n "${HOSTDEV_SKIP_VM:-}" ] && suites+=(--no-suite vm)
meson test -C build --print-errorlogs "${suites[@]}" ; rc1=$?
# Under the sanitizers: the unit and CLI-level tests (valgrind and the guest
# need the plain build); ASan runs them 2-3 times slower, so each test's
# timeout is doubled.
meson test -C build-asan --print-errorlogs --timeout-multiplier 2 --suite unit --suite nodedev --suite vfio --suite sriov --suite mdev --suite gpu --suite libvirt --suite boot --suite daemon ; rc2=$?
# each harness: its seeds and regression inputs, then 20 s of fuzzing
rm -f build-fuzz/meson-logs/testlog.json
if build_fuzz; then
        meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzz ; rc3=$?
else
        rc3=1
fi

python3 - "$SRC/build/meson-logs/testlog.json" "$SRC/build-asan/meson-logs/testlog.json" \
        "$SRC/build-fuzz/meson-logs/testlog.json" <<'PY'
# Count the individual checks: TAP lines of TAP tests, the "vm: N passed,
# N failed, N skipped" line of the guest suite, "PASS/FAIL/SKIP" lines of
# the schema test; a test with none of these counts as one result.  A test
# that failed as a whole (crash, timeout) always counts as a failure.
import json, re, sys
passed = failed = skipped = 0
for path, tag in zip(sys.argv[1:], ["", "asan:", "fuzz:"]):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        print(f"FAIL missing test log {path}")
        continue
    for line in lines:
        t = json.loads(line)
        r, name, out = t["result"], tag + t["name"], t.get("stdout") or ""
        p = f = k = 0
        m = re.search(r"^vm: (\d+) passed, (\d+) failed, (\d+) skipped", out, re.M)
        if m:
            p, f, k = map(int, m.groups())
        else:
            for l in out.splitlines():
                if re.match(r"(not )?ok \d+", l):
                    if l.startswith("not ok"):
                        f += 1
                    elif "# SKIP" in l:
                        k += 1
                    else:
                        p += 1
                elif re.match(r"(PASS|FAIL|SKIP) ", l):
                    p, f, k = p + l.startswith("PASS"), f + l.startswith("FAIL"), k + l.startswith("SKIP")
        if p + f + k == 0:
            p, f, k = r in ("OK", "EXPECTEDFAIL"), r not in ("OK", "EXPECTEDFAIL", "SKIP"), r == "SKIP"
        if r not in ("OK", "EXPECTEDFAIL", "SKIP") and f == 0:
            f = 1
        if f:
            print(f"FAIL {name} ({r}, {f} failed)")
            # the failed checks themselves, so a CI log's tail says what broke
            bad = [l for l in out.splitlines() if l.startswith("not ok")
                   or re.match(r"(FAIL |vm: FAIL|FAIL:)", l)]
            for l in bad[:8]:
                print(f"  {l[:300]}")
            if not bad:
                for l in (t.get("stderr") or out).splitlines()[-5:]:
                    print(f"  | {l[:300]}")
        if r == "SKIP" or (k and not p and not f):
            print(f"SKIP {name}")
        passed, failed, skipped = passed + p, failed + f, skipped + k
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
rc=$?
[ $rc = 0 ] && [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ]
