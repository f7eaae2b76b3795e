#!/usr/bin/env bash
# Boot-time passthrough on fake roots: the "boot" fixture (devices, proc/)
# merged with a Debian (initramfs-tools + GRUB), Fedora (dracut + BLS/grubby)
# or Arch (mkinitcpio + systemd-boot) configuration tree.  Never this
# machine's /etc or /boot: every run names --sysroot/--root.
# UPDATE_GOLDEN=1 rewrites tests/data/golden/boot/.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"
build_fixtures boot
FX=$TMP/fx/boot
ROOTS=$SRCDIR/tests/data/boot-roots
G=$GOLDEN/boot
mkdir -p "$G"

# mkroot LAYOUT DIR: the fixture plus a distribution's configuration files
mkroot() {
        rm -rf "$2"; cp -a "$FX" "$2"; cp -a "$ROOTS/$1/." "$2/"
}
# snapshot DIR: contents, types and modes of etc/ and boot/ (what apply may change)
snapshot() {
        (cd "$1" && find etc boot -printf '%y %m %p\n' 2>/dev/null | sort &&
         find etc boot -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum)
}
golden() { # NAME FILE
        sed "s|$TMP|TMP|g" "$2" > "$2.n"
        if [ "${UPDATE_GOLDEN:-}" = 1 ]; then cp "$2.n" "$G/$1"; fi
        if diff -u "$G/$1" "$2.n" > "$TMP/golden.diff" 2>&1; then ok "golden $1"
        else fail "golden $1" "$(head -20 "$TMP/golden.diff" | tr '\n' ' ')"; fi
}
hdr() { "$HOSTDEVCTL" --sysroot "$1" "${@:2}"; }
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

for L in debian fedora arch; do
        R=$TMP/$L
        mkroot $L "$R"
        snapshot "$R" > "$TMP/$L.before"

        # the GPU pulls its HDMI audio function in; nothing else has those ids
        hdr "$R" boot plan 01:00.0 > "$TMP/out" 2>&1; rc=$?
        [ $rc = 0 ] && ok "$L: plan GPU" || fail "$L: plan GPU" "rc $rc"
        golden $L-plan-gpu.txt "$TMP/out"
        hdr "$R" boot plan 01:00.0 --json > "$TMP/j"
        check "$L: GPU plan has its audio function, by ids" jq_py '
assert [x["address"] for x in d["devices"]] == ["0000:01:00.0", "0000:01:00.1"], d["devices"]
assert d["binding"] == "ids" and d["ids"] == "10de:1b80,10de:10f0"
assert "vfio-pci.ids=10de:1b80,10de:10f0" in d["kernel_arguments"]' < "$TMP/j"

        # two identical NICs, one stays: per-address binding, no ids=
        hdr "$R" boot plan 02:00.0 --json > "$TMP/j"
        check "$L: identical NIC stays on the host: per-address binding" jq_py '
assert [x["address"] for x in d["devices"]] == ["0000:02:00.0"]
assert d["binding"] == "address" and d["ids"] is None
assert not any(k.startswith("vfio-pci.ids") for k in d["kernel_arguments"])
paths = [f["path"] for f in d["files"]]
assert "/etc/driverctl.d/pci-0000:02:00.0" in paths and "/etc/driverctl.d/pci-0000:03:00.0" not in paths, paths
assert any("softdep e1000e pre: vfio-pci" in f["diff"] for f in d["files"])' < "$TMP/j"
        snapshot "$R" > "$TMP/$L.now"
        check "$L: plan changes nothing" cmp -s "$TMP/$L.before" "$TMP/$L.now"

        hdr "$R" boot apply 02:00.0 --no-regenerate > "$TMP/out" 2>&1; rc=$?
        [ $rc = 0 ] && ok "$L: apply" || fail "$L: apply" "rc $rc $(cat "$TMP/out")"
        golden $L-apply.txt "$TMP/out"
        snapshot "$R" > "$TMP/$L.applied"
        ! cmp -s "$TMP/$L.before" "$TMP/$L.applied" && ok "$L: apply changed the root" || fail "$L: apply changed the root"
        (cd "$R" && for f in $(find etc boot -type f 2>/dev/null | sort); do echo "== $f $(stat -c %a "$f")"; cat "$f"; done) > "$TMP/out"
        golden $L-applied-tree.txt "$TMP/out"

        hdr "$R" boot apply 02:00.0 --no-regenerate > "$TMP/out" 2>&1; rc=$?
        snapshot "$R" > "$TMP/$L.now"
        [ $rc = 0 ] && grep -q "nothing to change" "$TMP/out" && cmp -s "$TMP/$L.applied" "$TMP/$L.now" &&
                ok "$L: second apply changes nothing" || fail "$L: second apply changes nothing" "$(cat "$TMP/out")"

        hdr "$R" boot status --json > "$TMP/j"
        check "$L: status after apply: configured, active after reboot" jq_py '
assert d["state"] == "configured, active after reboot", d
assert d["devices"] == [{"address": "0000:02:00.0", "configured_driver": "vfio-pci", "driver": "e1000e"}], d["devices"]
assert d["softdeps"] == ["softdep e1000e pre: vfio-pci"] and d["drift"] == []' < "$TMP/j"

        # the generated script, run against the fixture's sysfs, as modprobe runs it at boot
        HOSTDEV_SYSFS=$R/sys HOSTDEV_ETC=$R/etc sh "$R/etc/hostdev/hostdev-override.sh" --early 2> "$TMP/log"
        [ "$(cat "$R/sys/bus/pci/devices/0000:02:00.0/driver_override")" = vfio-pci ] &&
        [ "$(cat "$R/sys/bus/pci/devices/0000:03:00.0/driver_override")" = "(null)" ] &&
                ok "$L: boot script sets driver_override of 02:00.0 only" ||
                fail "$L: boot script sets driver_override of 02:00.0 only" "$(cat "$TMP/log")"
        printf '(null)\n' > "$R/sys/bus/pci/devices/0000:02:00.0/driver_override"

        # status: drift when a managed file is edited by hand
        cp "$R/etc/modprobe.d/hostdev-vfio.conf" "$TMP/keep"
        echo "# local edit" >> "$R/etc/modprobe.d/hostdev-vfio.conf"
        hdr "$R" boot status --json | jq_py 'assert d["state"] == "drift" and d["drift"] == ["/etc/modprobe.d/hostdev-vfio.conf"], d' \
                && ok "$L: status reports drift" || fail "$L: status reports drift"
        cp "$TMP/keep" "$R/etc/modprobe.d/hostdev-vfio.conf"

        # live: the kernel arguments in /proc/cmdline and the device on vfio-pci
        cp "$R/proc/cmdline" "$TMP/cmdline"
        echo "BOOT_IMAGE=/vmlinuz root=/dev/sda2 ro intel_iommu=on iommu=pt" > "$R/proc/cmdline"
        hdr "$R" boot status --json | jq_py 'assert d["state"] == "configured, active after reboot" and d["kernel_arguments_live"], d' \
                && ok "$L: kernel arguments live, device not yet moved" || fail "$L: kernel arguments live, device not yet moved"

        hdr "$R" boot undo --no-regenerate > "$TMP/out" 2>&1; rc=$?
        [ $rc = 0 ] && ok "$L: undo" || fail "$L: undo" "$(cat "$TMP/out")"
        golden $L-undo.txt "$TMP/out"
        snapshot "$R" > "$TMP/$L.now"
        if cmp -s "$TMP/$L.before" "$TMP/$L.now"; then ok "$L: undo gives back the exact bytes, modes and file set"
        else fail "$L: undo gives back the exact bytes, modes and file set" "$(diff "$TMP/$L.before" "$TMP/$L.now" | head -5 | tr '\n' ' ')"; fi
        hdr "$R" boot status --json | jq_py 'assert d["state"] == "active, no longer configured", d' \
                && ok "$L: after undo with the arguments still live: active, no longer configured" \
                || fail "$L: after undo with the arguments still live: active, no longer configured"
        cp "$TMP/cmdline" "$R/proc/cmdline"
        hdr "$R" boot status --json | jq_py 'assert d["state"] == "not configured", d' \
                && ok "$L: after undo and reboot: not configured" || fail "$L: after undo and reboot: not configured"
        hdr "$R" boot undo --no-regenerate > "$TMP/out" 2>&1 && grep -q "nothing to undo" "$TMP/out" \
                && ok "$L: second undo does nothing" || fail "$L: second undo does nothing"
done

# ---- bad input: a clear error, nothing changed -------------------------------
R=$TMP/bad
mkroot debian "$R"
snapshot "$R" > "$TMP/bad.before"
expect() { # NAME RC PATTERN CMD...
        local name=$1 want=$2 pat=$3; shift 3
        "$@" > "$TMP/out" 2> "$TMP/err"; local rc=$?
        snapshot "$R" > "$TMP/bad.now"
        if [ $rc = "$want" ] && grep -q -- "$pat" "$TMP/err" && [ "$(wc -l < "$TMP/err")" -le 2 ] &&
           cmp -s "$TMP/bad.before" "$TMP/bad.now" && [ ! -e "$R/var/lib/hostdev/boot/journal.json" ]; then
                ok "$name"
        else
                fail "$name" "rc $rc (want $want): $(head -3 "$TMP/err" | tr '\n' ' ')"
        fi
}
expect "unknown device" 1 "no node device matches '09:00.0'" hdr "$R" boot apply 09:00.0 --no-regenerate
expect "a bridge" 1 "is a PCI bridge" hdr "$R" boot apply 00:02.0 --no-regenerate
expect "refused: default-route NIC" 2 "default route" hdr "$R" boot apply 04:00.0 --no-regenerate
expect "refused: root disk controller" 2 "mounted on /" hdr "$R" boot apply 00:1f.2 --no-regenerate
expect "refused: boot console GPU" 2 "boot console GPU" hdr "$R" boot apply 00:05.0 --no-regenerate
hdr "$R" boot plan 04:00.0 --force > "$TMP/out" 2>&1 && grep -q "0000:04:00.0 \[8086:1521\] requested" "$TMP/out" \
        && ok "plan --force plans a refused device" || fail "plan --force plans a refused device"
expect "empty --root" 64 "offline root" "$HOSTDEVCTL" --sysroot "$FX" boot apply 02:00.0 --root "" --no-regenerate
expect "--root /" 64 "offline root" "$HOSTDEVCTL" --sysroot "$FX" boot apply 02:00.0 --root / --no-regenerate
expect "no device given" 64 "expected at least one device" hdr "$R" boot apply --no-regenerate
expect "bad --driver" 64 "must be vfio or stub" hdr "$R" boot plan 02:00.0 --driver nvidia
cp "$R/etc/default/grub" "$TMP/grub"
printf 'GRUB_CMDLINE_LINUX="quiet \\\n  splash"\n' >> "$R/etc/default/grub"
snapshot "$R" > "$TMP/bad.before"
expect "GRUB continuation line" 1 "continuation" hdr "$R" boot apply 02:00.0 --no-regenerate
cp "$TMP/grub" "$R/etc/default/grub"
printf 'GRUB_CMDLINE_LINUX="quiet splash\n' >> "$R/etc/default/grub"
snapshot "$R" > "$TMP/bad.before"
expect "GRUB unbalanced quotes" 1 "unbalanced double quote" hdr "$R" boot apply 02:00.0 --no-regenerate
cp "$TMP/grub" "$R/etc/default/grub"
snapshot "$R" > "$TMP/bad.before"
rm -f "$R/etc/default/grub"
snapshot "$R" > "$TMP/bad.before"
expect "no boot loader configuration" 1 "no boot loader configuration" hdr "$R" boot apply 02:00.0 --no-regenerate
cp "$TMP/grub" "$R/etc/default/grub"
snapshot "$R" > "$TMP/bad.before"

# read-only root and full disk need mounts: a user namespace of our own
if unshare -Urm true 2>/dev/null; then
        out=$(unshare -Urm bash -c '
                mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
                "$2" --sysroot "$1" boot apply 02:00.0 --no-regenerate; echo "rc=$?"' _ "$R" "$HOSTDEVCTL" 2>&1)
        snapshot "$R" > "$TMP/bad.now"
        if grep -q "rc=1" <<<"$out" && grep -q "Read-only file system" <<<"$out" && cmp -s "$TMP/bad.before" "$TMP/bad.now"; then
                ok "read-only root: clear error, nothing changed"
        else fail "read-only root: clear error, nothing changed" "$(tr '\n' ' ' <<<"$out")"; fi

        # a small tmpfs holding only the configuration (devices from --sysroot);
        # filled so that each write of apply runs out of space in turn
        F=$TMP/full; mkdir -p "$F"
        n_ok=0 n_fail=0 n_rb=0 bad=""
        for free_kb in 0 8 16 24 32 40 48 56 64 72 80 96 128; do
                out=$(unshare -Urm bash -c '
                        F=$1; mount -t tmpfs -o size=512k tmpfs "$F" || exit 9
                        cp -a "$2/." "$F/" && (cd "$F" && find etc boot -printf "%y %m %p\n" 2>/dev/null | sort && find etc boot -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum) > "$F.b"
                        dd if=/dev/zero of="$F/fill" bs=1k 2>/dev/null; sync
                        rm -f "$F/fill"; avail=$(($(stat -f -c "%a*%S/1024" "$F")))
                        dd if=/dev/zero of="$F/fill" bs=1k count=$((avail - $3)) 2>/dev/null
                        "$4" --sysroot "$5" --state-dir /nonexistent boot apply 02:00.0 --root "$F" --no-regenerate >/dev/null 2>"$F.err"; rc=$?
                        (cd "$F" && find etc boot -printf "%y %m %p\n" 2>/dev/null | sort && find etc boot -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum) > "$F.a"
                        if [ $rc != 0 ]; then
                                cmp -s "$F.b" "$F.a" && [ ! -e "$F/var/lib/hostdev/boot/journal.json" ] && grep -q "No space left" "$F.err" && { grep -q "putting back" "$F.err" && echo FAIL_CLEAN_ROLLBACK || echo FAIL_CLEAN; } || { echo FAIL_DIRTY; cat "$F.err"; }
                        else
                                "$4" --sysroot "$5" boot undo --root "$F" --no-regenerate >/dev/null 2>&1
                                (cd "$F" && find etc boot -printf "%y %m %p\n" 2>/dev/null | sort && find etc boot -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum) > "$F.a"
                                cmp -s "$F.b" "$F.a" && echo OK_ROUNDTRIP || echo OK_DIRTY
                        fi' _ "$F" "$ROOTS/debian" "$free_kb" "$HOSTDEVCTL" "$FX" 2>&1)
                case $out in
                FAIL_CLEAN_ROLLBACK*) n_fail=$((n_fail + 1)) n_rb=$((n_rb + 1)) ;;
                FAIL_CLEAN*) n_fail=$((n_fail + 1)) ;;
                OK_ROUNDTRIP*) n_ok=$((n_ok + 1)) ;;
                *) bad="$bad [$free_kb KiB free: $(tr '\n' ' ' <<<"$out")]" ;;
                esac
        done
        if [ -z "$bad" ] && [ $n_fail -gt 0 ] && [ $n_rb -gt 0 ] && [ $n_ok -gt 0 ]; then
                ok "full disk: each failure leaves the root unchanged ($n_fail failed cleanly, $n_rb of them after writing files, $n_ok had room)"
        else fail "full disk: each failure leaves the root unchanged" "fail=$n_fail rollback=$n_rb ok=$n_ok$bad"; fi
else
        skip "read-only root" "no user namespaces"
        skip "full disk" "no user namespaces"
fi

# ---- overrides (driverctl's format, identity-checked) -------------------------
R=$TMP/ovr
mkroot debian "$R"
snapshot "$R" > "$TMP/ovr.before"
hdr "$R" override set 02:00.0 vfio > "$TMP/out" 2>&1 && ok "override set" || fail "override set" "$(cat "$TMP/out")"
[ "$(cat "$R/etc/driverctl.d/pci-0000:02:00.0")" = vfio-pci ] && ok "override stored in driverctl's format" \
        || fail "override stored in driverctl's format"
grep -q '^vendor=8086$' "$R/etc/hostdev/overrides/pci-0000:02:00.0" && grep -q '^subsystem_device=0000$' "$R/etc/hostdev/overrides/pci-0000:02:00.0" \
        && ok "override identity recorded" || fail "override identity recorded"
[ -x "$R/etc/hostdev/hostdev-override.sh" ] && grep -q 'TEST=="/etc/driverctl.d/pci-$kernel"' "$R/etc/udev/rules.d/40-hostdev-override.rules" \
        && ok "udev rule and script installed" || fail "udev rule and script installed"
hdr "$R" override set 02:00.0 vfio 2>&1 | grep -q "already set" && ok "override set is idempotent" || fail "override set is idempotent"
printf 'vfio-pci\n' > "$R/etc/driverctl.d/pci-0000:03:00.0"   # made by driverctl itself
hdr "$R" override list --json > "$TMP/j"
check "override list reads driverctl's own files too" jq_py '
m = {o["address"]: o for o in d}
assert m["0000:02:00.0"]["match"] == "ok" and m["0000:02:00.0"]["identity"]["ids"] == "8086:10d3", m
assert m["0000:03:00.0"]["match"] == "unchecked" and m["0000:03:00.0"]["identity"] is None, m' < "$TMP/j"
HOSTDEV_SYSFS=$R/sys HOSTDEV_ETC=$R/etc sh "$R/etc/hostdev/hostdev-override.sh" 0000:03:00.0 2> "$TMP/log"
[ "$(cat "$R/sys/bus/pci/devices/0000:03:00.0/driver_override")" = vfio-pci ] && ok "driverctl file applied by the udev script" \
        || fail "driverctl file applied by the udev script" "$(cat "$TMP/log")"
# renumbered: the slot 02:00.0 now holds another device
echo 0x1521 > "$R/sys/bus/pci/devices/0000:02:00.0/device"
hdr "$R" override list --json | jq_py '
m = {o["address"]: o for o in d}
assert m["0000:02:00.0"]["match"] == "mismatch" and "1521" in m["0000:02:00.0"]["reason"], m' \
        && ok "override list: renumbered slot is a mismatch" || fail "override list: renumbered slot is a mismatch"
HOSTDEV_SYSFS=$R/sys HOSTDEV_ETC=$R/etc sh "$R/etc/hostdev/hostdev-override.sh" --early 2> "$TMP/log"
[ "$(cat "$R/sys/bus/pci/devices/0000:02:00.0/driver_override")" = "(null)" ] && grep -q "0000:02:00.0: device is 1521, the override is for 10d3 (hardware moved?); skipped" "$TMP/log" \
        && ok "boot script skips and logs a renumbered slot" || fail "boot script skips and logs a renumbered slot" "$(cat "$TMP/log")"
echo 0x10d3 > "$R/sys/bus/pci/devices/0000:02:00.0/device"
hdr "$R" override unset 02:00.0 > /dev/null && [ ! -e "$R/etc/driverctl.d/pci-0000:02:00.0" ] && [ ! -e "$R/etc/hostdev/overrides/pci-0000:02:00.0" ] \
        && ok "override unset" || fail "override unset"
hdr "$R" override unset 02:00.0 2>&1 | grep -q "no override for 0000:02:00.0" && ok "override unset of nothing: clear error" \
        || fail "override unset of nothing: clear error"

# ---- doctor ---------------------------------------------------------------------
hdr "$FX" doctor 02:00.0 --json > "$TMP/j"; rc=$?
check "doctor on an IOMMU host passes iommu and interrupt remapping" jq_py '
m = {(c["check"], c["device"]): c for c in d}
assert m[("iommu", None)]["result"] == "PASS" and m[("interrupt-remapping", None)]["result"] == "PASS", m
assert m[("iommu-group", "0000:02:00.0")]["result"] == "PASS"
assert m[("host-driver", "0000:02:00.0")]["result"] == "WARN" and "boot apply" in m[("host-driver", "0000:02:00.0")]["fix"]' < "$TMP/j"
[ $rc = 0 ] && ok "doctor exit status 0 without FAIL" || fail "doctor exit status 0 without FAIL" "rc $rc"
N=$TMP/noiommu; rm -rf "$N"; cp -a "$FX" "$N"
rm -rf "$N/sys/kernel/iommu_groups" "$N/sys/firmware/acpi/tables/DMAR"
find "$N/sys/devices" -name iommu_group -type l -delete; find "$N/sys/devices" -name iommu -type l -delete
rm -rf "$N/sys/class/iommu"
echo "            CPU0
 24:          0  PCI-MSI 512000-edge      ahci[0000:00:1f.2]" > "$N/proc/interrupts"
hdr "$N" doctor > "$TMP/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "^FAIL  iommu  " "$TMP/out" && grep -q "fix: add 'intel_iommu=on iommu=pt' to the kernel command line" "$TMP/out" &&
        grep -q "^FAIL  interrupt-remapping" "$TMP/out" && ok "doctor without an IOMMU fails and names the kernel argument" \
        || fail "doctor without an IOMMU fails and names the kernel argument" "rc $rc $(head -8 "$TMP/out" | tr '\n' ' ')"

for v in boot override doctor; do
        "$HOSTDEVCTL" $v --help | grep -q "^Usage: hostdevctl .* $v " && ok "$v --help" || fail "$v --help"
done
finish
