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

# names and parents of a sysroot ("-" for none), sorted
names_parents() {
        hd --sysroot "$1" nodedev-list --json | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    print(d["name"], d["parent"] or "-")' | sort
}
