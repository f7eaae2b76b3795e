# Shared setup for the shell tests (sourced after tap.sh).
: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${HOSTDEVCTL:=$SRCDIR/build/tools/hostdevctl}"
: "${LIBVIRT_RNG:=/usr/share/libvirt/schemas/nodedev.rng}"
OUR_RNG=$SRCDIR/schemas/nodedev.rng
OUR_LIST_RNG=$SRCDIR/schemas/nodedev-list.rng
GOLDEN=$SRCDIR/tests/data/golden
export LC_ALL=C

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hostdev-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# build_fixtures CASE... → $TMP/fx/<case>
build_fixtures() {
        python3 "$SRCDIR/tests/data/sysroots/build.py" "$TMP/fx" "$@" >/dev/null
}

hd() { "$HOSTDEVCTL" "$@"; }

# names and parents of a sysroot, or of this host without an argument
# ("-" for none), sorted
names_parents() {
        hd ${1:+--sysroot "$1"} nodedev-list --json | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    print(d["name"], d["parent"] or "-")' | sort
}

# run_libvirt LABEL SYSROOT OUTDIR: libvirt's own node-device driver over
# SYSROOT (tests/libvirt/libvirt-nodedev.sh); reports SKIP (no libvirt or
# user namespaces) or FAIL itself and returns non-zero then.
run_libvirt() {
        "$SRCDIR/tests/libvirt/libvirt-nodedev.sh" "$2" "$3" > "$TMP/lv.log" 2>&1
        case $? in
        0) return 0 ;;
        77) skip "$1: libvirt comparison" "$(grep -m1 SKIP "$TMP/lv.log")" ;;
        *) fail "$1: libvirt's node-device driver ran" "$(tail -5 "$TMP/lv.log" | tr '\n' ' ')" ;;
        esac
        return 1
}
