#!/usr/bin/env bash
# The live path (libudev enumeration) on a fake tree: in a private mount
# namespace, bind the fixture over /sys, its udev database over /run/udev
# and its /dev over /dev, then run hostdevctl WITHOUT --sysroot and compare
# with the --sysroot result.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

if ! unshare -Urm true 2>/dev/null; then
        skip_all "user namespaces are not available (unshare -Urm failed)"
fi
build_fixtures full minimal
for c in full minimal; do
        root=$TMP/fx/$c
        mkdir -p "$root/run/udev" "$root/dev"
        cat > "$TMP/inner.sh" <<EOS
set -e
mount --bind "$root/sys" /sys
mount -t tmpfs tmpfs /run
mkdir -p /run/udev
mount --bind "$root/run/udev" /run/udev
mount --bind "$root/dev" /dev
export SYSTEMD_DEVICE_VERIFY_SYSFS=0
"$HOSTDEVCTL" nodedev-list --json > "$TMP/live.json"
for n in \$(python3 -c 'import json,sys; [print(d["name"]) for d in json.load(open(sys.argv[1]))]' "$TMP/live.json"); do
        "$HOSTDEVCTL" nodedev-dumpxml "\$n" > "$TMP/live-\$n.xml"
done
EOS
        if ! unshare -Urm bash "$TMP/inner.sh" > "$TMP/inner.log" 2>&1; then
                fail "$c: hostdevctl through libudev in a namespace" "$(tail -3 "$TMP/inner.log" | tr '\n' ' ')"
                continue
        fi
        ok "$c: hostdevctl through libudev in a namespace"
        python3 -c 'import json,sys; [print(d["name"], d["parent"] or "-") for d in json.load(open(sys.argv[1]))]' "$TMP/live.json" | sort > "$TMP/live.txt"
        names_parents "$root" > "$TMP/sysroot.txt"
        if diff -u "$TMP/sysroot.txt" "$TMP/live.txt" > "$TMP/d"; then
                ok "$c: libudev and --sysroot give the same devices and parents ($(wc -l < "$TMP/live.txt"))"
        else
                fail "$c: libudev and --sysroot give the same devices and parents" "$(grep '^[-+][a-z]' "$TMP/d" | head | tr '\n' ' ')"
        fi
        bad=0
        while read -r n _; do
                hd --sysroot "$root" nodedev-dumpxml "$n" > "$TMP/s.xml"
                # the only difference allowed: live mode asks ethtool for
                # offload features of interfaces that exist in this namespace
                if ! diff <(grep -v '<feature name=' "$TMP/live-$n.xml") "$TMP/s.xml" > "$TMP/d"; then
                        bad=1; diag "$n:"; sed 's/^/#   /' "$TMP/d" >&2
                fi
        done < "$TMP/live.txt"
        [ $bad = 0 ] && ok "$c: libudev and --sysroot give the same XML" || fail "$c: libudev and --sysroot give the same XML"
done
finish
