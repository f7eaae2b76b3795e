#!/usr/bin/env bash
# The whole test suite: install dependencies, build (plain and with
# ASan+UBSan), run every test, print "N passed, N failed, N skipped".
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

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87

suites=()
[ -n "${HOSTDEV_SKIP_VM:-}" ] && suites+=(--no-suite vm)
meson test -C build --print-errorlogs "${suites[@]}" ; rc1=$?
# Under the sanitizers: the unit and CLI-level tests (valgrind and the guest
# need the plain build).
meson test -C build-asan --print-errorlogs --suite unit --suite nodedev --suite vfio --suite sriov --suite mdev ; rc2=$?

python3 - "$SRC/build/meson-logs/testlog.json" "$SRC/build-asan/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for path, tag in zip(sys.argv[1:], ["", "asan:"]):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        print(f"missing test log {path}")
        continue
    for line in lines:
        t = json.loads(line)
        r = t["result"]
        name = tag + t["name"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
            print(f"SKIP {name}")
        else:
            failed += 1
            print(f"FAIL {name} ({r})")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
rc=$?
[ $rc = 0 ] && [ $rc1 = 0 ] && [ $rc2 = 0 ]
