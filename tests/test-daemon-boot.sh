#!/usr/bin/env bash
# hostdevd's override and boot methods, ListDevices' filters and the
# InUse property (daemon/methods-boot.c) on a private dbus-daemon, against
# hostdevctl: each answer is the CLI's JSON byte for byte, each write
# leaves the daemon's tree as the CLI's twin leaves its own, each error
# is named and carries the CLI's words, and an unprivileged caller changes
# nothing.  Fake roots only: every daemon and CLI run names --sysroot.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${HOSTDEVD:=$SRCDIR/build/daemon/hostdevd}"
for t in dbus-daemon dbus-send busctl dbus-monitor; do
        command -v $t >/dev/null || skip_all "no $t (Debian: apt install dbus-daemon dbus-bin systemd)"
done
[ -x "$HOSTDEVD" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"

. "$(dirname "$0")/daemon-bus.sh"

# callv [--as-nobody] METHOD SIG ARGS...: each value it returns on a line
# of its own (strings as they are, booleans and numbers as JSON)
callv() {
        local pre=()
        [ "$1" = --as-nobody ] && { pre=(setpriv --reuid=65534 --regid=65534 --clear-groups); shift; }
        "${pre[@]}" busctl --address="$A" --json=short call "$DEST" "$OBJ" "$IFACE" "$@" |
                python3 -c '
import json, sys
for v in json.load(sys.stdin)["data"]:
    print(v if isinstance(v, str) else json.dumps(v))'
}
# cli_err FILE: hostdevctl's message without its "hostdevctl: " prefix
cli_err() { sed -n '1s/^hostdevctl: //p' "$1"; }
# snapshot DIR: contents, types and modes of etc/ and boot/ (what the
# boot and override verbs may change), as tests/test-boot.sh takes it
snapshot() {
        (cd "$1" && find etc boot -printf '%y %m %p\n' 2>/dev/null | sort &&
         find etc boot -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum)
}
# twins NAME: the daemon's root and the CLI's hold the same etc/ and boot/
twins() {
        snapshot "$RD" > "$TMP/snap.d"; snapshot "$RC" > "$TMP/snap.c"
        same "$1" "$TMP/snap.d" "$TMP/snap.c"
}
# rootless FILE...: the root's path as ROOT (each twin has its own; the
# plan and status JSON name it)
rootless() { local f; for f in "$@"; do sed -i "s|$RD|ROOT|g; s|$RC|ROOT|g" "$f"; done; }
# stop_clean NAME: SIGTERM, and the daemon exits 0 (under ASan: no leak)
stop_clean() {
        kill -TERM "$DPID"; wait "$DPID"; local rc=$?
        [ $rc = 0 ] && ok "$1: hostdevd exits 0 on SIGTERM" || fail "$1: hostdevd exits 0 on SIGTERM" "exit $rc; $(tail -5 "$TMP/daemon.log" | tr '\n' ' ')"
}
# expect_err NAME WANT-ERROR-NAME WANT-MESSAGE METHOD ARGS...
expect_err() {
        local name=$1 ename=$2 msg=$3; shift 3
        local got; got=$(err "$@")
        [ "$got" = "org.hostdev.Hostdev1.Error.$ename: $msg" ] && ok "$name" || fail "$name" "got '$got', want $ename: '$msg'"
}

if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi

build_fixtures boot full
RD=$TMP/root-daemon
RC=$TMP/root-cli
for r in "$RD" "$RC"; do cp -a "$TMP/fx/boot" "$r"; cp -a "$SRCDIR/tests/data/boot-roots/debian/." "$r/"; done
hdc() { "$HOSTDEVCTL" --sysroot "$RC" "$@"; }

if ! start_daemon "$HOSTDEVD" --sysroot "$RD" --state-dir "$TMP/state"; then
        fail "hostdevd on a boot root takes its name" "$(cat "$TMP/daemon.log")"
        finish
        exit
fi
ok "hostdevd on a Debian boot root takes its name"

# ---- overrides
{ call ListOverrides; echo; } > "$TMP/a"
hdc override list --json > "$TMP/b"
same "ListOverrides is override list --json (none yet)" "$TMP/a" "$TMP/b"

callv SetOverride sst 02:00.0 vfio 2 > "$TMP/a"
hdc override set 02:00.0 vfio --dry-run > "$TMP/cli.out"
{ echo false; hdc override list --json; } > "$TMP/b"
same "SetOverride dry run: unchanged, and the overrides are override list --json" "$TMP/a" "$TMP/b"
twins "SetOverride dry run: the trees are the same (nothing written)"
[ ! -e "$RD/etc/driverctl.d" ] && ok "SetOverride dry run wrote nothing" || fail "SetOverride dry run wrote nothing"

callv SetOverride sst 02:00.0 vfio 0 > "$TMP/a"
hdc override set 02:00.0 vfio > "$TMP/cli.out"
{ echo true; hdc override list --json; } > "$TMP/b"
same "SetOverride: changed, the overrides after it are override list --json" "$TMP/a" "$TMP/b"
grep -q " set at boot and hotplug" "$TMP/cli.out" && ok "(the CLI set it too)" || fail "(the CLI set it too)" "$(cat "$TMP/cli.out")"
twins "SetOverride: the daemon's root is the CLI's twin (driverctl file, identity, udev rule, script)"
[ "$(cat "$RD/etc/driverctl.d/pci-0000:02:00.0")" = vfio-pci ] && ok "SetOverride: driverctl's format" \
        || fail "SetOverride: driverctl's format"

callv SetOverride sst pci_0000_02_00_0 vfio-pci 0 > "$TMP/a"
hdc override set pci_0000_02_00_0 vfio-pci > "$TMP/cli.out"
{ echo false; hdc override list --json; } > "$TMP/b"
same "SetOverride again: unchanged (idempotent)" "$TMP/a" "$TMP/b"
grep -q "already set" "$TMP/cli.out" && ok "(the CLI: already set)" || fail "(the CLI: already set)" "$(cat "$TMP/cli.out")"

# the errors, in the CLI's words
hdc override set 00:1f.2 'no/such' 2> "$TMP/cli.err"; rc=$?
expect_err "SetOverride of a bad driver name: InvalidArgument, the CLI's words (exit $rc)" InvalidArgument \
        "$(cli_err "$TMP/cli.err")" SetOverride string:00:1f.2 string:no/such uint64:0
hdc override set 0a:00.0 vfio 2> "$TMP/cli.err"
expect_err "SetOverride of no device: NotFound, the CLI's words" NotFound "$(cli_err "$TMP/cli.err")" \
        SetOverride string:0a:00.0 string:vfio uint64:0
hdc override set scsi_host0 vfio 2> "$TMP/cli.err"
expect_err "SetOverride of a device that is not PCI: InvalidArgument, the CLI's words" InvalidArgument \
        "$(cli_err "$TMP/cli.err")" SetOverride string:scsi_host0 string:vfio uint64:0
expect_err "SetOverride with unknown flags: InvalidArgument" InvalidArgument "override set: unknown flags 0x10" \
        SetOverride string:02:00.0 string:vfio uint64:16
twins "after the refusals the trees are still the same"

# an unprivileged caller: AccessDenied, nothing changed
snapshot "$RD" > "$TMP/before"
got=$(err --as-nobody SetOverride string:03:00.0 string:vfio uint64:0)
[ "${got%%:*}" = org.freedesktop.DBus.Error.AccessDenied ] && ok "uid 65534: SetOverride AccessDenied" \
        || fail "uid 65534: SetOverride AccessDenied" "$got"
got=$(err --as-nobody RemoveOverride string:02:00.0 uint64:0)
[ "${got%%:*}" = org.freedesktop.DBus.Error.AccessDenied ] && ok "uid 65534: RemoveOverride AccessDenied" \
        || fail "uid 65534: RemoveOverride AccessDenied" "$got"
snapshot "$RD" > "$TMP/after"
same "uid 65534 changed nothing" "$TMP/before" "$TMP/after"
{ call --as-nobody ListOverrides; echo; } > "$TMP/a"
hdc override list --json > "$TMP/b"
same "uid 65534 reads: ListOverrides" "$TMP/a" "$TMP/b"

callv RemoveOverride st 02:00.0 2 > "$TMP/a"
hdc override unset 02:00.0 --dry-run > /dev/null
{ echo false; hdc override list --json; } > "$TMP/b"
same "RemoveOverride dry run: unchanged" "$TMP/a" "$TMP/b"
callv RemoveOverride st 02:00.0 0 > "$TMP/a"
hdc override unset 02:00.0 > /dev/null
{ echo true; hdc override list --json; } > "$TMP/b"
same "RemoveOverride: changed, the overrides after it are override list --json" "$TMP/a" "$TMP/b"
twins "RemoveOverride: the trees are the same"
hdc override unset 02:00.0 2> "$TMP/cli.err"
expect_err "RemoveOverride of no override: NotFound, the CLI's words" NotFound "$(cli_err "$TMP/cli.err")" \
        RemoveOverride string:02:00.0 uint64:0

# ---- boot plan, apply, status, undo
for args in "01:00.0|" "02:00.0|" "01:00.0|stub" "02:00.0 03:00.0|vfio"; do
        devs=${args%|*} drv=${args#*|}
        set -- $devs
        { call BootPlan stas "$drv" 0 $# "$@"; echo; } > "$TMP/a"
        hdc boot plan $devs ${drv:+--driver "$drv"} --json > "$TMP/b"
        rootless "$TMP/a" "$TMP/b"
        same "BootPlan [$devs] driver '$drv' is boot plan --json" "$TMP/a" "$TMP/b"
done
set --
twins "BootPlan wrote nothing"
hdc boot plan 01:00.0 --driver foo 2> "$TMP/cli.err"
expect_err "BootPlan with a bad driver: InvalidArgument, the CLI's words" InvalidArgument "$(cli_err "$TMP/cli.err")" \
        BootPlan string:foo uint64:0 array:string:01:00.0
hdc boot plan 00:01.0 2> "$TMP/cli.err"
expect_err "BootPlan of a bridge: InvalidArgument, the CLI's words" InvalidArgument "$(cli_err "$TMP/cli.err")" \
        BootPlan string: uint64:0 array:string:00:01.0
hdc boot plan 00:1f.2 2> "$TMP/cli.err"; rc=$?
[ $rc = 2 ] && ok "(the CLI refuses the root disk controller: exit 2)" || fail "(the CLI refuses the root disk controller: exit 2)" "rc=$rc"
expect_err "BootPlan of the root disk controller: Refused, the CLI's words" Refused "$(cli_err "$TMP/cli.err")" \
        BootPlan string: uint64:0 array:string:00:1f.2
{ call BootPlan stas "" 4 1 00:1f.2; echo; } > "$TMP/a"
hdc boot plan 00:1f.2 --force --json > "$TMP/b"
rootless "$TMP/a" "$TMP/b"
same "BootPlan of it with force (4) is boot plan --force --json" "$TMP/a" "$TMP/b"
expect_err "BootPlan of no device: InvalidArgument" InvalidArgument "expected at least one device (see 'hostdevctl boot --help')" \
        BootPlan string: uint64:0 array:string:

{ call BootStatus; echo; } > "$TMP/a"
hdc boot status --json > "$TMP/b"
same "BootStatus is boot status --json (not configured)" "$TMP/a" "$TMP/b"

callv BootApply stas "" 2 1 01:00.0 > "$TMP/a"
{ echo 0; hdc boot apply 01:00.0 --dry-run --json; } > "$TMP/b"
rootless "$TMP/a" "$TMP/b"
same "BootApply dry run: 0 files and the plan, as boot apply --dry-run --json" "$TMP/a" "$TMP/b"
twins "BootApply dry run wrote nothing"

snapshot "$RD" > "$TMP/pristine"
got=$(err --as-nobody BootApply string: uint64:8 array:string:01:00.0)
[ "${got%%:*}" = org.freedesktop.DBus.Error.AccessDenied ] && ok "uid 65534: BootApply AccessDenied" \
        || fail "uid 65534: BootApply AccessDenied" "$got"
snapshot "$RD" > "$TMP/after"
same "uid 65534's BootApply changed nothing" "$TMP/pristine" "$TMP/after"

callv BootApply stas "" 8 1 01:00.0 > "$TMP/a"
hdc boot apply 01:00.0 --no-regenerate > "$TMP/cli.out"
n=$(sed -n 's/^changed \([0-9]*\) files\{0,1\};.*/\1/p' "$TMP/cli.out")
[ -n "$n" ] && [ "$(head -1 "$TMP/a")" = "$n" ] && ok "BootApply (no regeneration): $n files changed, as the CLI's" \
        || fail "BootApply (no regeneration): files changed as the CLI's" "daemon $(head -1 "$TMP/a"), CLI '$n'"
twins "BootApply: the daemon's root is the CLI's twin (GRUB, modprobe.d, initramfs, overrides)"
{ call BootStatus; echo; } > "$TMP/a"
hdc boot status --json > "$TMP/b"
same "BootStatus after apply is boot status --json" "$TMP/a" "$TMP/b"
grep -q '"configured":true' "$TMP/a" && ok "BootStatus: configured" || fail "BootStatus: configured" "$(head -c 200 "$TMP/a")"

callv BootApply stas "" 8 1 01:00.0 > "$TMP/a"
hdc boot apply 01:00.0 --no-regenerate > "$TMP/cli.out"
{ echo 0; hdc boot plan 01:00.0 --json; } > "$TMP/b"
rootless "$TMP/a" "$TMP/b"
grep -q "^nothing to change" "$TMP/cli.out" && same "BootApply again: 0 files, an empty plan (the CLI: nothing to change)" "$TMP/a" "$TMP/b" \
        || fail "BootApply again: the CLI says nothing to change" "$(cat "$TMP/cli.out")"

callv BootUndo t 10 > "$TMP/a"
hdc boot undo --dry-run --no-regenerate > "$TMP/cli.out"
n=$(sed -n 's/^would restore \([0-9]*\) file.*/\1/p' "$TMP/cli.out")
[ -n "$n" ] && [ "$(cat "$TMP/a")" = "$n" ] && ok "BootUndo dry run: would restore $n, as the CLI" \
        || fail "BootUndo dry run: as the CLI" "daemon $(cat "$TMP/a"), CLI $(cat "$TMP/cli.out")"
twins "BootUndo dry run wrote nothing"
got=$(err --as-nobody BootUndo uint64:8)
[ "${got%%:*}" = org.freedesktop.DBus.Error.AccessDenied ] && ok "uid 65534: BootUndo AccessDenied" \
        || fail "uid 65534: BootUndo AccessDenied" "$got"
callv BootUndo t 8 > "$TMP/a"
hdc boot undo --no-regenerate > "$TMP/cli.out"
n=$(sed -n 's/^restored \([0-9]*\) file.*/\1/p' "$TMP/cli.out")
[ -n "$n" ] && [ "$(cat "$TMP/a")" = "$n" ] && ok "BootUndo: restored $n files, as the CLI" \
        || fail "BootUndo: as the CLI" "daemon $(cat "$TMP/a"), CLI $(cat "$TMP/cli.out")"
twins "BootUndo: the trees are the same"
snapshot "$RD" > "$TMP/after"
same "BootUndo: the daemon's root is as before apply" "$TMP/pristine" "$TMP/after"
[ "$(callv BootUndo t 8)" = 0 ] && ok "BootUndo again: 0 (nothing to undo)" || fail "BootUndo again: 0"
expect_err "BootUndo with unknown flags: InvalidArgument" InvalidArgument "boot undo: unknown flags 0x4" BootUndo uint64:4
stop_clean "boot and overrides"

# ---- ListDevices' filters, on the 'full' fixture (defined mdevs too)
F=$TMP/fx/full
if start_daemon "$HOSTDEVD" --sysroot "$F"; then
        i=0
        while IFS= read -r filter; do
                i=$((i + 1))
                { call ListDevices -- s "$filter"; echo; } > "$TMP/a"
                # shellcheck disable=SC2086
                hd --sysroot "$F" nodedev-list $filter --json > "$TMP/b" 2>&1
                same "ListDevices '$filter' is nodedev-list $filter --json ($(grep -c '"name"' "$TMP/b") devices)" "$TMP/a" "$TMP/b"
        done <<'EOF'
--cap pci
--cap net,usb_device
--cap=pci --driver=vfio-pci
--driver e1000e
-s 01:00
--slot=00:1f
-d 8086:
--id 10de:1b80
--class 02
--class 0300 --cap pci
--inactive
--all
--all --persistent
--transient
--inactive --cap mdev
--cap mdev --all --transient
EOF
        # a filter that selects something, and one that selects nothing
        [ "$(call ListDevices -- s "--cap pci" | grep -c '"name"')" -gt 0 ] && ok "ListDevices --cap pci selects devices" \
                || fail "ListDevices --cap pci selects devices"
        # refusals: the CLI's words
        while IFS= read -r filter; do
                # shellcheck disable=SC2086
                hd --sysroot "$F" nodedev-list --json $filter 2> "$TMP/cli.err" > /dev/null; rc=$?
                expect_err "ListDevices '$filter': InvalidArgument, the CLI's words (exit $rc)" InvalidArgument \
                        "$(cli_err "$TMP/cli.err")" ListDevices string:"$filter"
        done <<'EOF'
--cap foo
--cap pci,nosuch
--inactive --all
--persistent --transient
-s zz
-d xyz:1
--class 0g
--cap
--inactive --driver
EOF
        expect_err "ListDevices '--tree' (not a filter): InvalidArgument" InvalidArgument \
                "nodedev-list: unrecognized option or missing argument '--tree' (see 'hostdevctl nodedev-list --help')" \
                ListDevices string:--tree
        got=$(err ListDevices string:'{"cap":"pci"}')
        [ "${got%%:*}" = org.hostdev.Hostdev1.Error.InvalidArgument ] && ok "ListDevices with JSON as a filter: InvalidArgument" \
                || fail "ListDevices with JSON as a filter: InvalidArgument" "$got"
        { call ListDevices s ""; echo; } > "$TMP/a"
        hd --sysroot "$F" nodedev-list --json > "$TMP/b"
        same "ListDevices '' is still nodedev-list --json" "$TMP/a" "$TMP/b"
        # no guest is asked about on a sysroot without --connect
        busctl --address="$A" --json=short call "$DEST" /org/hostdev/Hostdev1/devices \
                org.freedesktop.DBus.ObjectManager GetManagedObjects > "$TMP/objects.json"
        python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))["data"][0]
bad = [p for p, i in o.items() if i["org.hostdev.Hostdev1.Device"]["InUse"]["data"] != ""]
sys.exit(" ".join(bad[:3]) if bad else 0)' "$TMP/objects.json" && ok "InUse is \"\" everywhere when libvirt is not asked" \
                || fail "InUse is \"\" everywhere when libvirt is not asked"
        stop_clean "filters"
else
        fail "hostdevd on the full fixture takes its name" "$(cat "$TMP/daemon.log")"
fi

# ---- InUse: libvirt's test:/// driver (tests/data/libvirt/node.xml, as
# tests/test-libvirt.sh) as the daemon's --connect
URI_XML=$TMP/node.xml
cp "$SRCDIR/tests/data/libvirt/node.xml" "$URI_XML"
URI=test://$URI_XML
inuse() { # OBJECT-NAME: the InUse property of that device
        busctl --address="$A" --json=short get-property "$DEST" "/org/hostdev/Hostdev1/devices/$1" \
                org.hostdev.Hostdev1.Device InUse | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"])'
}
if ! "$HOSTDEVCTL" --sysroot "$F" --connect "$URI" show 01:00.0 > "$TMP/show" 2>&1 || ! grep -q gpu-vm "$TMP/show"; then
        skip "InUse from libvirt" "libvirt's test driver does not answer here: $(head -c 200 "$TMP/show")"
elif start_daemon "$HOSTDEVD" --sysroot "$F" --connect "$URI"; then
        GPU=pci_5f0000_5f01_5f00_5f0     # pci_0000_01_00_0, escaped
        got=$(inuse $GPU)
        # the CLI's refusal names the same reason
        "$HOSTDEVCTL_FAKE" --sysroot "$F" --state-dir "$TMP/st" --connect "$URI" nodedev-reset 01:00.0 > /dev/null 2> "$TMP/cli.err"
        case $got in
        *gpu-vm*) grep -qF -- "$got" "$TMP/cli.err" && ok "InUse of 01:00.0: '$got', the words of the CLI's refusal" \
                        || fail "InUse of 01:00.0: the words of the CLI's refusal" "InUse '$got', CLI: $(cat "$TMP/cli.err")" ;;
        *) fail "InUse of 01:00.0 names gpu-vm" "'$got'" ;;
        esac
        [ "$(inuse computer)" = "" ] && ok "InUse of a device no guest uses: \"\"" || fail "InUse of a device no guest uses: \"\""
        # the guest stops using it: a rescan announces the change
        dbus-monitor --address "$A" "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'" \
                > "$TMP/monitor" 2>&1 &
        MPID=$!
        PIDS+=("$MPID")
        sleep 0.5
        python3 - "$URI_XML" <<'EOF'
import re, sys
p = sys.argv[1]
s = open(p).read()
# gpu-vm's <hostdev> of 0000:01:00.0 goes (the domain keeps running)
m = re.search(r"<domain[^>]*>(?:(?!</domain>).)*?<name>gpu-vm</name>.*?</domain>", s, re.S)
dom = m.group(0)
dom2 = re.sub(r"<hostdev[^>]*>(?:(?!</hostdev>).)*?bus=.0x01.(?:(?!</hostdev>).)*?</hostdev>", "", dom, flags=re.S)
assert dom2 != dom, "no hostdev of bus 0x01 in gpu-vm"
open(p, "w").write(s.replace(dom, dom2))
EOF
        call Rescan > /dev/null
        sleep 0.5
        kill "$MPID" 2>/dev/null
        [ "$(inuse $GPU)" = "" ] && ok "after the guest let 01:00.0 go and a rescan: InUse \"\"" \
                || fail "after the guest let 01:00.0 go and a rescan: InUse \"\"" "$(inuse $GPU)"
        grep -A8 "path=/org/hostdev/Hostdev1/devices/$GPU;" "$TMP/monitor" | grep -q "string \"InUse\"" \
                && ok "PropertiesChanged(InUse) of 01:00.0 announced" \
                || fail "PropertiesChanged(InUse) of 01:00.0 announced" "$(grep -c PropertiesChanged "$TMP/monitor") signals"
        stop_clean "InUse"
else
        fail "hostdevd --connect takes its name" "$(cat "$TMP/daemon.log")"
fi

finish
