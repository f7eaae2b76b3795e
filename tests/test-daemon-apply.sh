#!/usr/bin/env bash
# hostdevd's Apply (hostdevctl apply) and the hotplug apply of SR-IOV
# state and auto-start mdevs, on a private dbus-daemon with hostdevd-fake
# (the daemon with the fake kernel) on fake trees: Apply answers exactly
# what `hostdevctl apply --json` prints, on a twin copy of the tree, and
# leaves the same tree; a PF that appears gets its persisted VFs, a parent
# that appears its auto-start mdevs, each announced as
# PersistedConfigApplied; a record of another identity is refused (drift
# in the signal and the log), nothing changed; an unprivileged caller
# changes nothing.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${HOSTDEVCTL_FAKE:=$SRCDIR/build/tests/hostdevctl-fake}"
: "${HOSTDEVD_FAKE:=$SRCDIR/build/tests/hostdevd-fake}"
: "${DAEMON_CLIENT:=$SRCDIR/build/tests/daemon-client}"

for t in dbus-daemon dbus-send busctl; do
        command -v $t >/dev/null || skip_all "no $t (Debian: apt install dbus-daemon dbus-bin systemd)"
done
[ -x "$HOSTDEVD_FAKE" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"

. "$(dirname "$0")/daemon-bus.sh"

U=22222222-3333-4444-8555-666666666666
build_fixtures full
cp -a "$TMP/fx/full" "$TMP/pristine"
F=$TMP/fx/full C=$TMP/cli S=$TMP/st CS=$TMP/cli-st
fake() { "$HOSTDEVCTL_FAKE" --sysroot "$1" --state-dir "$2" "${@:3}"; }
driver() { readlink "$1/sys/bus/pci/devices/0000:$2/driver" | sed 's,.*/,,'; }
# what hostdevctl sees of a tree: devices, SR-IOV, mdevs
snap() { hd --sysroot "$1" nodedev-list --json; hd --sysroot "$1" sriov list --json; hd --sysroot "$1" mdev list --json; }
# the state to apply: the PF 02:00.0 without its VFs ("after a reboot"),
# 2 VFs on vfio-pci persisted for it, an auto-start mdev on mtty
persisted() {
        fake "$1" "$2" sriov set 02:00.0 --numvfs 0 --force > /dev/null 2>&1
        mkdir -p "$1/etc/hostdev/sriov"
        echo '{"address":"0000:02:00.0","vendor":"0x8086","device":"0x10c9","numvfs":2,"driver":"vfio-pci","autoprobe":false}' \
                > "$1/etc/hostdev/sriov/0000:02:00.0.json"
        fake "$1" "$2" mdev define -p mtty -t mtty-1 -u $U -a > /dev/null
}
persisted "$F" "$S"
cp -a "$F" "$C"
[ -d "$F/etc/mdevctl.d/mtty" ] && [ ! -e "$F/sys/bus/pci/devices/0000:02:10.0" ] \
        && ok "fixture: 02:00.0 without VFs, SR-IOV state persisted, an auto-start mdev defined" \
        || fail "fixture: the state to apply" "$(ls "$F/etc" "$F/sys/bus/pci/devices")"

if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi

# --- Apply is hostdevctl apply --json, byte for byte, on twin trees
if start_daemon "$HOSTDEVD_FAKE" --sysroot "$F" --state-dir "$S"; then
        snap "$F" > "$TMP/before"
        { call Apply t 2; echo; } > "$TMP/a"
        fake "$C" "$CS" apply --dry-run --json > "$TMP/b" 2>/dev/null
        same "Apply flags 2 is apply --dry-run --json" "$TMP/a" "$TMP/b"
        grep -q '"would start"' "$TMP/a" && grep -q '"sriov_numvfs 0 -> 2"' "$TMP/a" \
                && ok "Apply --dry-run plans the VFs and the mdev" || fail "Apply --dry-run plans the VFs and the mdev" "$(cat "$TMP/a")"
        snap "$F" > "$TMP/after"
        same "Apply --dry-run changes nothing" "$TMP/before" "$TMP/after"

        got=$(err Apply uint64:1)
        [ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: apply: unknown flags 0x1" ] \
                && ok "Apply with an unknown flag: InvalidArgument" || fail "Apply with an unknown flag: InvalidArgument" "$got"
        if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
                got=$(err --as-nobody Apply uint64:0)
                snap "$F" > "$TMP/after"
                [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: org.hostdev.apply needs root: polkit is not running to authorize others" ] \
                        && cmp -s "$TMP/before" "$TMP/after" && ok "Apply as uid 65534: AccessDenied, nothing changed" \
                        || fail "Apply as uid 65534: AccessDenied, nothing changed" "$got"
        else
                skip "Apply as uid 65534: AccessDenied" "not root, or no setpriv"
        fi

        # MdevApply: mdev apply --json; text: the lines of mdev apply
        { call MdevApply t 2; echo; } > "$TMP/a"
        fake "$C" "$CS" mdev apply --dry-run --json > "$TMP/b" 2>/dev/null
        same "MdevApply flags 2 is mdev apply --dry-run --json" "$TMP/a" "$TMP/b"
        busctl --address="$A" --json=short call "$DEST" "$OBJ" "$IFACE" MdevApply t 2 |
                python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; sys.stdout.write(d[1])' > "$TMP/a"
        fake "$C" "$CS" mdev apply --dry-run > "$TMP/b" 2>/dev/null
        same "MdevApply's text is mdev apply --dry-run's lines" "$TMP/a" "$TMP/b"
        got=$(err MdevApply uint64:4)
        [ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: mdev apply: unknown flags 0x4" ] \
                && ok "MdevApply with an unknown flag: InvalidArgument" || fail "MdevApply with an unknown flag: InvalidArgument" "$got"
        snap "$F" > "$TMP/after"
        same "MdevApply --dry-run changes nothing" "$TMP/before" "$TMP/after"
        # Apply's text, messages and log: apply's stdout, and nothing on stderr here
        busctl --address="$A" --json=short call "$DEST" "$OBJ" "$IFACE" Apply t 2 |
                python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; sys.stdout.write(d[1]); assert d[2] == [] and d[3] == [], d' \
                > "$TMP/a"
        fake "$C" "$CS" apply --dry-run > "$TMP/b" 2>/dev/null
        same "Apply's text is apply --dry-run's lines, no messages, no log" "$TMP/a" "$TMP/b"

        { call Apply t 0; echo; } > "$TMP/a"
        fake "$C" "$CS" apply --json > "$TMP/b" 2>/dev/null
        same "Apply is apply --json" "$TMP/a" "$TMP/b"
        snap "$F" > "$TMP/fa"; snap "$C" > "$TMP/fb"
        same "Apply leaves the tree apply leaves" "$TMP/fa" "$TMP/fb"
        [ "$(driver "$F" 02:10.0)" = vfio-pci ] && [ "$(driver "$F" 02:10.2)" = vfio-pci ] \
                && [ -e "$F/sys/bus/mdev/devices/$U" ] && ok "Apply: 2 VFs on vfio-pci, the auto-start mdev started" \
                || fail "Apply: 2 VFs on vfio-pci, the auto-start mdev started" "$(driver "$F" 02:10.0) $(cat "$TMP/a")"
        { call Apply t 0; echo; } > "$TMP/a"
        fake "$C" "$CS" apply --json > "$TMP/b" 2>/dev/null
        same "Apply again is apply --json again (nothing changed)" "$TMP/a" "$TMP/b"
        grep -q '"done"\|"started"' "$TMP/a" && fail "Apply again: nothing changed" "$(cat "$TMP/a")" \
                || ok "Apply again: nothing changed"
        # a failure: the CLI's words (its paths are the twin's)
        for t in "$F" "$C"; do echo '{"address":"0000:05:00.0","numvfs":' > "$t/etc/hostdev/sriov/0000:05:00.0.json"; done
        got=$(err Apply uint64:2)
        want=$(fake "$C" "$CS" apply --dry-run --json 2>&1 >/dev/null | sed -n 's/^hostdevctl: \(apply failed: \)/\1/p')
        [ -n "$want" ] && [ "$got" = "org.hostdev.Hostdev1.Error.Failed: ${want//$C/$F}" ] \
                && ok "Apply with a malformed file: Failed with the CLI's words" \
                || fail "Apply with a malformed file: Failed with the CLI's words" "got '$got', CLI '$want'"
        rm -f "$F/etc/hostdev/sriov/0000:05:00.0.json" "$C/etc/hostdev/sriov/0000:05:00.0.json"
        # the tree the daemon holds is the new one
        { call ListDevices s ""; echo; } > "$TMP/a"
        hd --sysroot "$F" nodedev-list --json > "$TMP/b"
        same "after Apply, ListDevices is the new tree" "$TMP/a" "$TMP/b"
else
        fail "hostdevd-fake starts" "$(cat "$TMP/daemon.log")"
fi
stop_daemon

# --- hotplug: devices appear (their directories put back, then Rescan)
H=$TMP/hot HS=$TMP/hot-st
cp -a "$TMP/pristine" "$H"
persisted "$H" "$HS"
# a drift record: another device (15b3:1234) at the ConnectX's address
echo '{"address":"0000:05:00.0","vendor":"0x15b3","device":"0x1234","numvfs":1}' > "$H/etc/hostdev/sriov/0000:05:00.0.json"
# hide KEY DIR PATTERN: move DIR and every link into it away
hide() {
        local key=$1 dir=$2 pat=$3 i=0 l
        mkdir -p "$TMP/hold/$key"
        : > "$TMP/hold/$key.list"
        while read -r l; do
                i=$((i + 1))
                mv "$l" "$TMP/hold/$key/l$i" && echo "$TMP/hold/$key/l$i $l" >> "$TMP/hold/$key.list"
        done < <(find "$H/sys" -lname "*$pat*" ! -path "$dir/*")
        mv "$dir" "$TMP/hold/$key/dir" && echo "$TMP/hold/$key/dir $dir" >> "$TMP/hold/$key.list"
}
unhide() { local a b; while read -r a b; do mv "$a" "$b"; done < "$TMP/hold/$1.list"; }
# the result JSON of PersistedConfigApplied(NAME) in daemon-client's lines
signal_json() {
        echo "$2" | awk -v n="$1" '$1 == "Signal" && $2 == "PersistedConfigApplied" && $3 == n { on = 1; sub(/^Signal [^ ]* [^ ]* /, ""); print; next }
                on && (/^Signal / || /^ok$/) { on = 0 } on'
}
# an auto-start mdev on the GPU 00:02.0, whose driver binds after it appears
U4=44444444-5555-4666-8777-888888888888
fake "$H" "$HS" mdev define -p 0000:00:02.0 -t i915-GVTg_V5_8 -u $U4 -a > /dev/null
GPU=$H/sys/devices/pci0000:00/0000:00:02.0
hide gpu "$GPU" 0000:00:02.0
hide pf "$H/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0" 0000:02:00.0
hide mtty "$H/sys/devices/virtual/mtty/mtty" virtual/mtty/mtty
hide cx "$H/sys/devices/pci0000:00/0000:00:1d.0/0000:05:00.0" 0000:05:00.0
if start_daemon "$HOSTDEVD_FAKE" --sysroot "$H" --state-dir "$HS"; then
        unhide pf
        got=$("$DAEMON_CLIENT" "$A" rescan)
        applied=$(signal_json pci_0000_02_00_0 "$got")
        echo "$got" | grep -q "^Signal DeviceAdded pci_0000_02_00_0$" && echo "$got" | grep -q "^Signal DeviceAdded pci_0000_02_10_0$" \
                && [ "$(driver "$H" 02:10.0)" = vfio-pci ] && [ "$(driver "$H" 02:10.2)" = vfio-pci ] \
                && echo "$applied" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "ok", d
acts = [(x["pf"], x["action"], x["result"]) for x in d["actions"]]
assert ("0000:02:00.0", "sriov_numvfs 0 -> 2", "done") in acts, acts
assert ("0000:02:00.0", "VF 0 0000:02:10.0: (none) -> vfio-pci", "done") in acts, acts
assert ("0000:02:00.0", "VF 1 0000:02:10.2: (none) -> vfio-pci", "done") in acts, acts
' && ok "hotplug: a PF that appears gets its persisted VFs on vfio-pci (PersistedConfigApplied, DeviceAdded of the VFs)" \
                || fail "hotplug: a PF that appears gets its persisted VFs" "$(driver "$H" 02:10.0) $(echo "$got" | tr '\n' '|')"
        got=$("$DAEMON_CLIENT" "$A" rescan)
        [ "$got" = ok ] && ok "hotplug: a second Rescan applies nothing again" || fail "hotplug: a second Rescan" "$got"

        unhide mtty
        got=$("$DAEMON_CLIENT" "$A" rescan)
        applied=$(signal_json mtty_mtty "$got")
        # the defined mdev was a node device already: now active (DeviceChanged)
        [ -e "$H/sys/bus/mdev/devices/$U" ] && echo "$got" | grep -q "^Signal DeviceAdded mtty_mtty$" \
                && echo "$got" | grep -q "^Signal DeviceChanged mdev_${U//-/_}_mtty$" \
                && echo "$applied" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [(x["uuid"], x["parent"], x["result"]) for x in d] == [("'$U'", "mtty", "started")], d
' && ok "hotplug: a parent that appears gets its auto-start mdev started (PersistedConfigApplied, DeviceChanged)" \
                || fail "hotplug: a parent that appears gets its auto-start mdev" "$(echo "$got" | tr '\n' '|')"

        unhide cx
        got=$("$DAEMON_CLIENT" "$A" rescan)
        applied=$(signal_json pci_0000_05_00_0 "$got")
        [ ! -e "$H/sys/bus/pci/devices/0000:05:00.0/virtfn0" ] && echo "$applied" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "refused", d
assert "15b3:1234" in d["reason"] and "15b3:a2d6" in d["reason"], d
assert [(x["pf"], x["result"]) for x in d["actions"]] == [("0000:05:00.0", "skipped")], d
' && ! echo "$got" | grep -q "^Signal DeviceChanged pci_0000_05_00_0$" \
                && ok "hotplug: SR-IOV state recorded for another identity is refused, nothing changed, drift in the signal" \
                || fail "hotplug: SR-IOV drift refused" "$(echo "$got" | tr '\n' '|')"
        grep -q '^<4>pci_0000_05_00_0: persisted configuration refused: 0000:05:00.0: the persisted SR-IOV state was made for 15b3:1234, the device there now is 15b3:a2d6' "$TMP/daemon.log" \
                && ok "hotplug: the SR-IOV drift is logged (warning, both identities)" \
                || fail "hotplug: the SR-IOV drift is logged" "$(cat "$TMP/daemon.log")"

        # the GPU appears without a driver (no mdev parent yet): nothing to
        # start; its driver binds (DeviceChanged): its auto-start mdev starts
        unhide gpu
        mkdir -p "$TMP/hold/bind"
        mv "$GPU/driver" "$TMP/hold/bind/a"; mv "$H/sys/bus/pci/drivers/i915/0000:00:02.0" "$TMP/hold/bind/b"
        mv "$H/sys/class/mdev_bus/0000:00:02.0" "$TMP/hold/bind/c"
        got=$("$DAEMON_CLIENT" "$A" rescan)
        echo "$got" | grep -q "^Signal DeviceAdded pci_0000_00_02_0$" && [ -z "$(signal_json pci_0000_00_02_0 "$got")" ] \
                && [ ! -e "$H/sys/bus/mdev/devices/$U4" ] \
                && ok "hotplug: a GPU that appears without its driver: no mdev started yet" \
                || fail "hotplug: a GPU that appears without its driver" "$(echo "$got" | tr '\n' '|')"
        mv "$TMP/hold/bind/a" "$GPU/driver"; mv "$TMP/hold/bind/b" "$H/sys/bus/pci/drivers/i915/0000:00:02.0"
        mv "$TMP/hold/bind/c" "$H/sys/class/mdev_bus/0000:00:02.0"
        got=$("$DAEMON_CLIENT" "$A" rescan)
        applied=$(signal_json pci_0000_00_02_0 "$got")
        [ -e "$H/sys/bus/mdev/devices/$U4" ] && echo "$got" | grep -q "^Signal DeviceChanged pci_0000_00_02_0$" \
                && echo "$applied" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [(x["uuid"], x["parent"], x["result"]) for x in d] == [("'$U4'", "0000:00:02.0", "started")], d
' && ok "hotplug: when its driver binds, the GPU's auto-start mdev is started (PersistedConfigApplied)" \
                || fail "hotplug: when its driver binds, the GPU's auto-start mdev is started" "$(echo "$got" | tr '\n' '|')"
else
        fail "hostdevd-fake starts without 02:00.0, mtty, 05:00.0, 00:02.0" "$(cat "$TMP/daemon.log")"
fi
stop_daemon
finish
