#!/usr/bin/env bash
# Memory errors and leaks of the whole read path under valgrind memcheck.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"
command -v valgrind >/dev/null || skip_all "valgrind not installed"
build_fixtures full broken
vg() { valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect "$HOSTDEVCTL" "$@"; }
for c in full broken; do
        for cmd in "nodedev-list --tree" "nodedev-dumpxml --all" "nodedev-list --json --cap pci,net"; do
                vg --sysroot "$TMP/fx/$c" $cmd > /dev/null 2> "$TMP/vg.err"
                rc=$?
                [ $rc != 99 ] && ! grep -q '==[0-9]*==' "$TMP/vg.err" && ok "valgrind clean: $c $cmd" \
                        || fail "valgrind clean: $c $cmd" "$(grep '==' "$TMP/vg.err" | head -3 | tr '\n' ' ')"
        done
done
vg --sysroot "$TMP/fx/full" show pci_0000_02_00_0 --json > /dev/null 2> "$TMP/vg.err" && ok "valgrind clean: show --json" || fail "valgrind clean: show --json" "$(head -3 "$TMP/vg.err")"
vg --sysroot "$TMP/fx/full" capture "$TMP/cap" > /dev/null 2> "$TMP/vg.err"; rc=$?
[ $rc = 0 ] && ok "valgrind clean: capture" || fail "valgrind clean: capture" "$(grep '==' "$TMP/vg.err" | head -3 | tr '\n' ' ')"
vg nodedev-list > /dev/null 2> "$TMP/vg.err" && ok "valgrind clean: live host through libudev" || fail "valgrind clean: live host" "$(grep '==' "$TMP/vg.err" | head -3 | tr '\n' ' ')"
finish
