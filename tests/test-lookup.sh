#!/usr/bin/env bash
# Single-device verbs (nodedev-dumpxml NAME, nodedev-info, show, hostdev-xml,
# iommu explain) read the device they name straight from sysfs, with its
# parent chain, instead of enumerating the host (hd_nodedev_list_new_lazy);
# so does iommu, for the members of each group.
# For every device of every fixture tree, under every name it answers to,
# the output must be byte-identical to what the full enumeration gives:
# `nodedev-dumpxml --all`, and the same verb with HOSTDEVCTL_ENUMERATE_ALL=1.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

cases=(full minimal broken hostile)
build_fixtures "${cases[@]}"
mkdir -p "$TMP/cap"
tar xzf "$SRCDIR/tests/data/captures/qemu-q35-linux-6.1-nvme-vfs.tgz" -C "$TMP/cap"
capture=$(find "$TMP/cap" -mindepth 1 -maxdepth 1 -type d | head -1)

# run VERB ARGS in both modes: the same stdout and exit status, and every
# line on stderr also in the full run's (which adds the warnings of the
# enumeration of devices that were never asked for)
both() {
        local root=$1; shift
        { hd --sysroot "$root" "$@" 2> "$TMP/lazy.err"; echo "rc=$?"; } > "$TMP/lazy.out"
        { HOSTDEVCTL_ENUMERATE_ALL=1 hd --sysroot "$root" "$@" 2> "$TMP/full.err"; echo "rc=$?"; } > "$TMP/full.out"
        cmp -s "$TMP/lazy.out" "$TMP/full.out" && [ -z "$(grep -vxF -f "$TMP/full.err" "$TMP/lazy.err")" ]
}

check_tree() {
        local label=$1 root=$2 n=0 bad=0 badv=0 nv=0
        hd --sysroot "$root" nodedev-dumpxml --all > "$TMP/all.xml" 2>/dev/null
        rm -rf "$TMP/split"; mkdir -p "$TMP/split"
        # one file per device: the --all document without its two-space indent
        python3 - "$TMP/all.xml" "$TMP/split" <<'PY'
import re, sys
text = open(sys.argv[1]).read().splitlines()
cur = None
for line in text[1:-1]:
    line = line[2:]
    if line == "<device>":
        cur = [line]
    else:
        cur.append(line)
    if line == "</device>":
        name = re.search(r"<name>(.*)</name>", "\n".join(cur)).group(1)
        open("%s/%s.xml" % (sys.argv[2], name), "w").write("\n".join(cur) + "\n")
PY
        for f in "$TMP"/split/*.xml; do
                name=$(basename "$f" .xml)
                n=$((n + 1))
                if ! hd --sysroot "$root" nodedev-dumpxml "$name" 2>/dev/null | cmp -s - "$f"; then
                        bad=$((bad + 1)); diag "$label: nodedev-dumpxml $name differs from --all"
                fi
        done
        [ "$n" -gt 0 ] && [ $bad = 0 ] && ok "$label: nodedev-dumpxml NAME = --all for all $n devices" \
                || fail "$label: nodedev-dumpxml NAME = --all" "$bad of $n differ"

        # every name a device answers to, every single-device verb
        hd --sysroot "$root" nodedev-list --json > "$TMP/list.json" 2>/dev/null
        python3 - "$TMP/list.json" > "$TMP/queries" <<'PY'
import json, re, sys
for d in json.load(open(sys.argv[1])):
    name, path = d["name"], d["path"]
    qs = [name]
    if path:
        qs.append(path)
        base = path.rsplit("/", 1)[1]
        if d["capability"] == "pci":
            qs.append(base)
            if base.startswith("0000:"):
                qs.append(base[5:])
            qs.append("/sys/bus/pci/devices/" + base)
        if d["capability"] == "net":
            qs.append(base)
            qs.append("/sys/class/net/" + base)
        if d["capability"] == "mdev":
            qs.append(base)
            qs.append(base.upper())
    # every verb under the name, nodedev-info under the other spellings
    for i, q in enumerate(qs):
        print("all" if i == 0 else "info", d["capability"], q)
PY
        # no such devices
        printf 'all pci pci_ffff_ff_1f_7\nall net net_nosuchif_00_00\nall usb usb_9_9_9\ninfo - ff:1f.7\n' >> "$TMP/queries"
        while read -r what cap q; do
                verbs=("nodedev-info")
                [ "$what" = all ] && verbs=("nodedev-info" "show" "show --json" "hostdev-xml")
                for verb in "${verbs[@]}"; do
                        nv=$((nv + 1))
                        # shellcheck disable=SC2086
                        if ! both "$root" $verb "$q"; then
                                badv=$((badv + 1)); diag "$label: $verb $q differs from the full enumeration"
                                diff "$TMP/full.out" "$TMP/lazy.out" | head -5 | sed 's/^/#   /' >&2
                        fi
                done
                if [ "$cap" = pci ] && [ "$what" = all ]; then
                        nv=$((nv + 1))
                        if ! both "$root" iommu explain "$q"; then
                                badv=$((badv + 1)); diag "$label: iommu explain $q differs from the full enumeration"
                        fi
                fi
        done < "$TMP/queries"
        # iommu reads the groups' members the same way
        for v in "iommu" "iommu --json"; do
                nv=$((nv + 1))
                # shellcheck disable=SC2086
                if ! both "$root" $v; then
                        badv=$((badv + 1)); diag "$label: $v differs from the full enumeration"
                fi
        done
        [ $badv = 0 ] && ok "$label: single-device verbs = full enumeration ($nv runs, $(wc -l < "$TMP/queries") names)" \
                || fail "$label: single-device verbs = full enumeration" "$badv of $nv differ"
}

for c in "${cases[@]}"; do
        check_tree "$c" "$TMP/fx/$c"
done
if [ -n "$capture" ]; then
        check_tree "capture $(basename "$capture")" "$capture"
else
        skip "capture: single-device verbs" "no capture unpacked"
fi
finish
