#!/usr/bin/env bash
# Run libvirt's own node-device driver (libvirtd 9.x, nodedev driver only,
# in a user namespace) over the fixture trees and compare: the same names,
# the same parent for each, and the same XML up to documented deviations.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

build_fixtures full minimal

# Normalize XML for comparison: sibling order of iommuGroup addresses and
# mdev types is readdir order in libvirt (sorted in hostdev); compare lines
# as a sorted multiset.
norm() { sed 's/^ *//' "$1" | sort; }
# Stricter, for this host: the documents must be identical except for the
# order of the IOMMU group's members and of the mdev types (readdir order
# in libvirt), which are sorted here.
norm_strict() {
        python3 - "$1" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
out, i = [], 0
while i < len(lines):
    l = lines[i]
    s = l.strip()
    if s.startswith("<iommuGroup") and not s.endswith("/>"):
        j = i + 1
        while lines[j].strip() != "</iommuGroup>":
            j += 1
        out += [l] + sorted(lines[i + 1:j]) + [lines[j]]
        i = j + 1
        continue
    if s == "<capability type='mdev_types'>":
        j, types, cur = i + 1, [], []
        while lines[j].strip() != "</capability>":
            cur.append(lines[j])
            if lines[j].strip().startswith("</type>") or lines[j].strip().endswith("/>") and lines[j].strip().startswith("<type"):
                types.append(cur)
                cur = []
            j += 1
        out += [l] + [x for t in sorted(types) for x in t] + cur + [lines[j]]
        i = j + 1
        continue
    out.append(l)
    i += 1
print("\n".join(out))
PY
}

for c in full minimal; do
        out=$TMP/lv-$c
        run_libvirt "$c" "$TMP/fx/$c" "$out" || continue
        ok "$c: libvirt's node-device driver ran"
        names_parents "$TMP/fx/$c" > "$TMP/ours-$c.txt"
        if diff -u "$out/parents.txt" "$TMP/ours-$c.txt" > "$TMP/d"; then
                ok "$c: same names and parents as libvirt ($(wc -l < "$TMP/ours-$c.txt") devices)"
        else
                fail "$c: same names and parents as libvirt" "$(grep '^[-+][a-z]' "$TMP/d" | head -10 | tr '\n' ' ')"
        fi
        bad=0
        for f in "$out"/xml/*.xml; do
                n=$(basename "$f" .xml)
                case "$n" in
                # libvirt 9.0 nests <capability type='mdev_types'> twice for
                # generic parents (and fails its own schema): we emit it once.
                mtty_mtty) continue ;;
                esac
                hd --sysroot "$TMP/fx/$c" nodedev-dumpxml "$n" > "$TMP/ours.xml" 2>/dev/null || { bad=1; diag "$n: no such device in hostdev"; continue; }
                # Deviations (docs/libvirt-compat.md): libvirt asks ethtool of
                # the namespace for features of fake interfaces (hostdev does
                # not in --sysroot mode); libvirt multiplies 512-byte sectors
                # by the logical block size for removable media.
                if ! diff <(norm "$f" | grep -v "^<feature name=" | grep -v -e '^<media_size>' -e '^<num_blocks>') \
                          <(norm "$TMP/ours.xml" | grep -v -e '^<media_size>' -e '^<num_blocks>') > "$TMP/d"; then
                        bad=1
                        diag "$n differs from libvirt:"; sed 's/^/#   /' "$TMP/d" >&2
                fi
        done
        [ $bad = 0 ] && ok "$c: same XML as libvirt for every device" || fail "$c: same XML as libvirt for every device"
done
# This host: libvirt over the real /sys (mounted read-only in its namespace,
# in this network namespace so that its ethtool queries reach the host's
# interfaces) against plain hostdevctl: the same names, parents and XML.
out=$TMP/lv-host
if LIBVIRT_NODEDEV_HOSTNET=1 run_libvirt "this host" / "$out"; then
        names_parents > "$TMP/ours-host.txt"
        if diff -u "$out/parents.txt" "$TMP/ours-host.txt" > "$TMP/d"; then
                ok "this host: same names and parents as libvirt ($(wc -l < "$TMP/ours-host.txt") devices)"
        else
                fail "this host: same names and parents as libvirt" "$(grep '^[-+][a-z]' "$TMP/d" | head -10 | tr '\n' ' ')"
        fi
        bad=0 n=0
        for f in "$out"/xml/*.xml; do
                name=$(basename "$f" .xml)
                n=$((n + 1))
                hd nodedev-dumpxml "$name" > "$TMP/ours.xml" 2>/dev/null || { bad=1; diag "$name: no such device in hostdev"; continue; }
                if ! diff <(norm_strict "$f") <(norm_strict "$TMP/ours.xml") > "$TMP/d"; then
                        bad=1
                        diag "this host: $name differs from libvirt:"; sed 's/^/#   /' "$TMP/d" >&2
                fi
        done
        [ $bad = 0 ] && [ $n -gt 0 ] && ok "this host: identical XML to libvirt's for all $n devices" \
                || fail "this host: identical XML to libvirt's for every device"
fi
finish
