#!/usr/bin/env bash
# The failure-injection interposer (tests/inject.c) on the real hostdevctl,
# on a fixture tree: what the QEMU guest's passthrough scenario relies on
# (there on a real kernel).  Nothing here writes outside $TMP.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

INJ=${HOSTDEV_INJECT:-$SRCDIR/build/tests/libhostdev-inject.so}
build_fixtures full
T=$TMP/t
cp -a "$TMP/fx/full" "$T"
DEV=0000:00:1f.6
probe=$T/sys/bus/pci/drivers_probe
: > "$probe"
# An ASan build's hostdevctl wants its runtime first; the interposer only
# replaces write(), which it makes with syscall(2).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

LD_PRELOAD=$INJ HOSTDEV_TEST_FAIL_BIND=$DEV "$HOSTDEVCTL" --sysroot "$T" --state-dir "$TMP/st" \
        nodedev-detach 00:1f.6 > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "$DEV failed to bind to vfio-pci: Input/output error" "$TMP/out" "$TMP/err" \
        && ok "HOSTDEV_TEST_FAIL_BIND: the bind fails with EIO" || fail "HOSTDEV_TEST_FAIL_BIND: the bind fails with EIO" "rc=$rc $(cat "$TMP/out" "$TMP/err" | tr '\n' ' ')"
[ ! -s "$probe" ] && ok "... the failing write does not reach drivers_probe" || fail "... the failing write does not reach drivers_probe" "$(cat "$probe")"
grep -qx "$DEV" "$T/sys/bus/pci/drivers/e1000e/unbind" 2>/dev/null \
        && ok "... other writes pass through (unbind got $DEV)" || fail "... other writes pass through (unbind got $DEV)"
# (a fixture tree keeps its driver links, so the rollback finds e1000e
# bound; its write of "\n" to the plain driver_override file overwrites
# the first byte of "vfio-pci": the first line is empty)
[ "$(cat "$TMP/out")" = "$DEV  e1000e -> vfio-pci  FAILED" ] && [ -z "$(head -n1 "$T/sys/bus/pci/devices/$DEV/driver_override")" ] \
        && ok "... the step FAILED, and the rollback clears driver_override" || fail "... the step FAILED, and the rollback clears driver_override" "$(cat "$TMP/out" "$T/sys/bus/pci/devices/$DEV/driver_override")"
! ls "$TMP"/st/devices/*.json > /dev/null 2>&1 && ok "... no record left" || fail "... no record left"

# without the interposer the variable is inert: the shipped library has no hook
: > "$probe"
HOSTDEV_TEST_FAIL_BIND=$DEV HOSTDEV_TEST_DELAY_MS=1 timeout 60 "$HOSTDEVCTL" --sysroot "$T" --state-dir "$TMP/st2" \
        nodedev-detach 00:1f.6 > "$TMP/out" 2> "$TMP/err"
grep -qx "$DEV" "$probe" && ! grep -q "Input/output error" "$TMP/out" "$TMP/err" \
        && ok "without it, HOSTDEV_TEST_FAIL_BIND changes nothing (the probe is written)" \
        || fail "without it, HOSTDEV_TEST_FAIL_BIND changes nothing (the probe is written)" "$(cat "$probe" "$TMP/err" | tr '\n' ' ')"
finish
