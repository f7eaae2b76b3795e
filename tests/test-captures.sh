#!/usr/bin/env bash
# Replay captures of real kernels (tests/data/captures/*.tgz): libvirt's
# driver over the same tree must agree, every XML must validate, and the
# IOMMU report must match the captured groups.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

for tgz in "$SRCDIR"/tests/data/captures/*.tgz; do
        c=$(basename "$tgz" .tgz)
        mkdir -p "$TMP/$c"
        tar xzf "$tgz" -C "$TMP/$c"
        root=$TMP/$c/sysroot
        hd --sysroot "$root" nodedev-list > "$TMP/$c.names" && ok "$c: nodedev-list" || { fail "$c: nodedev-list"; continue; }
        bad=0
        mkdir -p "$TMP/$c.xml"
        while read -r n; do
                hd --sysroot "$root" nodedev-dumpxml "$n" > "$TMP/$c.xml/$n.xml" || bad=1
        done < "$TMP/$c.names"
        [ $bad = 0 ] && ok "$c: dumpxml of every device" || fail "$c: dumpxml of every device"
        if [ -f "$LIBVIRT_RNG" ]; then
                out=$(xmllint --noout --relaxng "$LIBVIRT_RNG" "$TMP/$c.xml"/*.xml 2>&1) \
                        && ok "$c: valid against libvirt's nodedev.rng" \
                        || fail "$c: valid against libvirt's nodedev.rng" "$(echo "$out" | grep -v validates | head -3 | tr '\n' ' ')"
        else
                skip "$c: libvirt's nodedev.rng" "not installed"
        fi
        out=$(xmllint --noout --relaxng "$OUR_RNG" "$TMP/$c.xml"/*.xml 2>&1) \
                && ok "$c: valid against schemas/nodedev.rng" \
                || fail "$c: valid against schemas/nodedev.rng" "$(echo "$out" | grep -v validates | head -3 | tr '\n' ' ')"
        hd --sysroot "$root" iommu --json | python3 -c '
import json, os, sys
d = json.load(sys.stdin)
root = sys.argv[1] + "/sys/kernel/iommu_groups"
real = {int(g): sorted(os.listdir(f"{root}/{g}/devices")) for g in os.listdir(root)}
got = {g["number"]: sorted(x["address"] for x in g["devices"]) for g in d["groups"]}
assert d["iommu"]["enabled"] and d["iommu"]["vendor"] == "intel", d["iommu"]
assert got == real, (got, real)' "$root" && ok "$c: iommu --json matches the captured groups" || fail "$c: iommu --json matches the captured groups"

        run_libvirt "$c" "$root" "$TMP/lv-$c" || continue
        names_parents "$root" > "$TMP/$c.parents"
        diff -u "$TMP/lv-$c/parents.txt" "$TMP/$c.parents" > "$TMP/d" \
                && ok "$c: same names and parents as libvirt ($(wc -l < "$TMP/$c.parents") devices)" \
                || fail "$c: same names and parents as libvirt" "$(grep '^[-+][a-z]' "$TMP/d" | head | tr '\n' ' ')"
        bad=0
        for f in "$TMP/lv-$c"/xml/*.xml; do
                n=$(basename "$f" .xml)
                # the runner pins a host UUID when the tree has none (hostdev: zeros);
                # ethtool features come from the runner's namespace
                if ! diff <(sed 's/^ *//' "$f" | grep -v -e '^<feature ' -e '^<uuid>' | sort) \
                          <(sed 's/^ *//' "$TMP/$c.xml/$n.xml" | grep -v '^<uuid>' | sort) > "$TMP/d"; then
                        bad=1; diag "$n:"; sed 's/^/#   /' "$TMP/d" >&2
                fi
        done
        [ $bad = 0 ] && ok "$c: same XML as libvirt for every device" || fail "$c: same XML as libvirt for every device"
done
finish
