#!/usr/bin/env bash
# Regenerate tests/data/golden/ from the fixture cases.  Review the diff:
# test-libvirt-compare.sh checks the same trees against libvirt itself.
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
HOSTDEVCTL=${HOSTDEVCTL:-$SRCDIR/build/tools/hostdevctl}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C
python3 "$SRCDIR/tests/data/sysroots/build.py" "$TMP" full minimal >/dev/null
for c in full minimal; do
        g=$SRCDIR/tests/data/golden/$c
        rm -rf "$g"; mkdir -p "$g/xml"
        "$HOSTDEVCTL" --sysroot "$TMP/$c" nodedev-list > "$g/names.txt"
        "$HOSTDEVCTL" --sysroot "$TMP/$c" nodedev-list --tree > "$g/tree.txt"
        "$HOSTDEVCTL" --sysroot "$TMP/$c" nodedev-list --json | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    print(d["name"], d["parent"] or "-")' | sort > "$g/parents.txt"
        while read -r n; do
                "$HOSTDEVCTL" --sysroot "$TMP/$c" nodedev-dumpxml "$n" > "$g/xml/$n.xml"
        done < "$g/names.txt"
done
echo "golden files written to tests/data/golden/"
