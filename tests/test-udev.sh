#!/usr/bin/env bash
# The live path on a fake tree: in a private mount namespace, bind the
# fixture over /sys, its udev database over /run/udev and its /dev over
# /dev, then run hostdevctl WITHOUT --sysroot.  The live host is read by the
# sysfs walker with udev's database; libudev's enumerator
# (HOSTDEV_ENUMERATE=libudev) must give the same devices, parents and XML,
# and so must --sysroot.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

if ! unshare -Urm true 2>/dev/null; then
        skip_all "user namespaces are not available (unshare -Urm failed)"
fi
build_fixtures full minimal
lister='import json,sys; [print(d["name"], d["parent"] or "-") for d in json.load(open(sys.argv[1]))]'
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
"$HOSTDEVCTL" nodedev-dumpxml --all > "$TMP/live-all.xml"
HOSTDEV_ENUMERATE=libudev "$HOSTDEVCTL" nodedev-list --json > "$TMP/libudev.json"
HOSTDEV_ENUMERATE=libudev "$HOSTDEVCTL" nodedev-dumpxml --all > "$TMP/libudev-all.xml"
for n in \$(python3 -c 'import json,sys; [print(d["name"]) for d in json.load(open(sys.argv[1]))]' "$TMP/live.json"); do
        "$HOSTDEVCTL" nodedev-dumpxml "\$n" > "$TMP/live-\$n.xml"
done
EOS
        if ! unshare -Urm bash "$TMP/inner.sh" > "$TMP/inner.log" 2>&1; then
                fail "$c: hostdevctl on the live path in a namespace" "$(tail -3 "$TMP/inner.log" | tr '\n' ' ')"
                continue
        fi
        ok "$c: hostdevctl on the live path in a namespace"
        python3 -c "$lister" "$TMP/live.json" | sort > "$TMP/live.txt"
        python3 -c "$lister" "$TMP/libudev.json" | sort > "$TMP/libudev.txt"
        names_parents "$root" > "$TMP/sysroot.txt"
        if diff -u "$TMP/sysroot.txt" "$TMP/live.txt" > "$TMP/d"; then
                ok "$c: live and --sysroot give the same devices and parents ($(wc -l < "$TMP/live.txt"))"
        else
                fail "$c: live and --sysroot give the same devices and parents" "$(grep '^[-+][a-z]' "$TMP/d" | head | tr '\n' ' ')"
        fi
        if diff -u "$TMP/libudev.txt" "$TMP/live.txt" > "$TMP/d"; then
                ok "$c: libudev's enumerator and the live walker give the same devices and parents"
        else
                fail "$c: libudev's enumerator and the live walker give the same devices and parents" "$(grep '^[-+][a-z]' "$TMP/d" | head | tr '\n' ' ')"
        fi
        if cmp -s "$TMP/libudev-all.xml" "$TMP/live-all.xml" && [ -s "$TMP/live-all.xml" ]; then
                ok "$c: libudev's enumerator and the live walker give the same XML ($(grep -c '^  <device>' "$TMP/live-all.xml") devices)"
        else
                fail "$c: libudev's enumerator and the live walker give the same XML" "$(diff "$TMP/libudev-all.xml" "$TMP/live-all.xml" | head -5 | tr '\n' ' ')"
        fi
        # the only difference allowed from --sysroot: live mode asks ethtool
        # for offload features of interfaces that exist in this namespace
        hd --sysroot "$root" nodedev-dumpxml --all > "$TMP/s-all.xml" 2>/dev/null
        if diff <(grep -v '<feature name=' "$TMP/live-all.xml") "$TMP/s-all.xml" > "$TMP/d"; then
                ok "$c: live and --sysroot give the same XML (--all)"
        else
                fail "$c: live and --sysroot give the same XML (--all)" "$(head -5 "$TMP/d" | tr '\n' ' ')"
        fi
        bad=0
        while read -r n _; do
                hd --sysroot "$root" nodedev-dumpxml "$n" > "$TMP/s.xml"
                if ! diff <(grep -v '<feature name=' "$TMP/live-$n.xml") "$TMP/s.xml" > "$TMP/d"; then
                        bad=1; diag "$n:"; sed 's/^/#   /' "$TMP/d" >&2
                fi
        done < "$TMP/live.txt"
        [ $bad = 0 ] && ok "$c: live and --sysroot give the same XML for each device looked up by name" \
                || fail "$c: live and --sysroot give the same XML for each device looked up by name"
done
finish
