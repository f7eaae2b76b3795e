#!/usr/bin/env bash
# hostdevd on a private dbus-daemon that loads the bus policy file hostdevd
# installs (daemon/data/org.hostdev.Hostdev1.conf), serving fake trees:
# every method answers as hostdevctl does, errors are named and carry the
# CLI's words, an unprivileged caller changes nothing, bad arguments leave
# the daemon serving, and a rescan announces what changed.  Host-changing
# calls go to hostdevd-fake (the daemon with the fake kernel) on fake
# trees only.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${HOSTDEVCTL_FAKE:=$SRCDIR/build/tests/hostdevctl-fake}"
: "${HOSTDEVD:=$SRCDIR/build/daemon/hostdevd}"
: "${HOSTDEVD_FAKE:=$SRCDIR/build/tests/hostdevd-fake}"
: "${DAEMON_CLIENT:=$SRCDIR/build/tests/daemon-client}"
: "${HOSTDEVD_XML:=$SRCDIR/daemon/org.hostdev.Hostdev1.xml}"

for t in dbus-daemon dbus-send busctl; do
        command -v $t >/dev/null || skip_all "no $t (Debian: apt install dbus-daemon dbus-bin systemd)"
done
[ -x "$HOSTDEVD_FAKE" ] && [ -x "$HOSTDEVD" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"

. "$(dirname "$0")/daemon-bus.sh"

build_fixtures full
F=$TMP/fx/full
cp -a "$F" "$TMP/cli"   # the CLI's twin of the tree the daemon changes

# --- options
"$HOSTDEVD" --help | grep -q -- '--bus-address ADDR' && ok "hostdevd --help" || fail "hostdevd --help"
[ "$("$HOSTDEVD" --version)" = "hostdevd $("$HOSTDEVCTL" --version | sed 's/^hostdevctl //')" ] \
        && ok "hostdevd --version" || fail "hostdevd --version" "$("$HOSTDEVD" --version)"
# the man page: every option of --help, and well-formed
missing=
for o in $("$HOSTDEVD" --help | grep -oE -- '--[a-z-]+' | sort -u); do
        grep -qF -- "$(echo "$o" | sed 's/-/\\-/g')" "$SRCDIR/docs/hostdevd.8" || missing="$missing $o"
done
[ -z "$missing" ] && ok "docs/hostdevd.8 names every option" || fail "docs/hostdevd.8 names every option" "missing:$missing"
if command -v groff >/dev/null; then
        out=$(groff -man -ww -z "$SRCDIR/docs/hostdevd.8" 2>&1)
        [ -z "$out" ] && ok "docs/hostdevd.8: groff -man -ww, no warnings" || fail "docs/hostdevd.8: groff -man -ww" "$out"
else
        skip "docs/hostdevd.8: groff -man -ww" "no groff"
fi
out=$("$HOSTDEVD" --sysroot "" 2>&1); rc=$?
[ $rc = 64 ] && [ "$out" = "hostdevd: --sysroot '': empty sysroot (an unset variable?); leave --sysroot out to work on this host" ] \
        && ok "--sysroot '' refused" || fail "--sysroot '' refused" "rc=$rc $out"
out=$("$HOSTDEVD" --sysroot /tmp/.. 2>&1); rc=$?
[ $rc = 64 ] && [ "$out" = "hostdevd: --sysroot '/tmp/..' is this host's root directory; leave --sysroot out to work on this host" ] \
        && ok "--sysroot resolving to / refused" || fail "--sysroot resolving to / refused" "rc=$rc $out"

if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi
ok "a private dbus-daemon with hostdevd's bus policy"

# --- the real daemon, read-only, on the fake tree
if start_daemon "$HOSTDEVD" --sysroot "$F"; then
        ok "hostdevd takes its name on the bus"
        { call ListDevices s ""; echo; } > "$TMP/a"
        hd --sysroot "$F" nodedev-list --json > "$TMP/b"
        same "hostdevd: ListDevices is nodedev-list --json, byte for byte" "$TMP/a" "$TMP/b"
else
        fail "hostdevd takes its name on the bus" "$(cat "$TMP/daemon.log")"
fi
stop_daemon

# --- this host, read-only (hostdevd listens to udev here): the same list
# as hostdevctl's; a host-changing method only as a dry run of no device
if [ -d /sys/bus/pci ] && start_daemon "$HOSTDEVD"; then
        { call ListDevices s ""; echo; } > "$TMP/a"
        hd nodedev-list --json > "$TMP/b"
        if grep -q '"used_by"' "$TMP/b"; then
                skip "live: ListDevices is nodedev-list --json" "libvirt answers here: the CLI adds used_by, the daemon does not ask libvirt yet"
        else
                same "live: ListDevices is nodedev-list --json ($(grep -c '"name"' "$TMP/b") devices)" "$TMP/a" "$TMP/b"
        fi
        # a dry run of a name no device has: nothing on this host is touched
        got=$(err Detach string:nosuch-hostdev-test string: uint64:2)
        case $got in
        org.hostdev.Hostdev1.Error.NotFound:*nosuch-hostdev-test*) ok "live: Detach of an unknown name: NotFound" ;;
        *) fail "live: Detach of an unknown name: NotFound" "$got" ;;
        esac
        stop_daemon
else
        skip "live: ListDevices is nodedev-list --json" "no /sys/bus/pci, or hostdevd did not start: $(tail -1 "$TMP/daemon.log" 2>/dev/null)"
fi

# --- "the live host" with real kernel uevents, in private namespaces
# over a copy of the fixture (tests/daemon-live-ns.sh)
mkdir -p "$TMP/ns"
cp -a "$F" "$TMP/ns/tree"
if unshare -Urmn true 2>/dev/null && command -v ip >/dev/null; then
        HOSTDEVD=$HOSTDEVD HOSTDEVCTL=$HOSTDEVCTL DAEMON_CLIENT=$DAEMON_CLIENT \
                unshare -Urmn bash "$SRCDIR/tests/daemon-live-ns.sh" "$TMP/ns/tree" "$TMP/ns" > "$TMP/ns/out" 2>&1
        grep -qx "list=same" "$TMP/ns/out" && ok "namespace: the live ListDevices is nodedev-list --json" \
                || fail "namespace: the live ListDevices is nodedev-list --json" "$(tr '\n' ' ' < "$TMP/ns/out")"
        grep -qx "watch=DeviceAdded net_dummy0_02_00_00_00_00_77 " "$TMP/ns/out" \
                && ok "namespace: a kernel uevent makes the daemon announce the new device" \
                || fail "namespace: a kernel uevent makes the daemon announce the new device" "$(tr '\n' ' ' < "$TMP/ns/out"; tail -3 "$TMP/ns/ns-daemon.log")"
        grep -qx "burst=same" "$TMP/ns/out" && ok "namespace: after a burst of 160 uevents the tree is a fresh enumeration's" \
                || fail "namespace: after a burst of uevents the tree is a fresh enumeration's" "$(tr '\n' ' ' < "$TMP/ns/out")"
        diag "uevent (ip link add) to DeviceAdded: $(sed -n 's/^latency_us=//p' "$TMP/ns/out") us"
else
        skip "namespace: the live ListDevices" "no user namespaces (unshare -Urmn) or no ip"
        skip "namespace: a kernel uevent makes the daemon announce the new device" "no user namespaces (unshare -Urmn) or no ip"
        skip "namespace: after a burst of uevents the tree is a fresh enumeration's" "no user namespaces (unshare -Urmn) or no ip"
fi

got=$(DBUS_SYSTEM_BUS_ADDRESS=$A "$HOSTDEVCTL" nodedev-event --timeout 1 2>&1); rc=$?
[ $rc = 1 ] && [ "$got" = "hostdevctl: nodedev-event: hostdevd is not running (no org.hostdev.Hostdev1 on the system bus)" ] \
        && ok "nodedev-event without hostdevd: says so" || fail "nodedev-event without hostdevd: says so" "rc=$rc $got"

# --- hostdevd-fake from here on
S=$TMP/state
if ! start_daemon "$HOSTDEVD_FAKE" --sysroot "$F" --state-dir "$S"; then
        fail "hostdevd-fake takes its name on the bus" "$(cat "$TMP/daemon.log")"
        finish
        exit
fi
ok "hostdevd-fake takes its name on the bus"

# the introspection the daemon gives equals the file in the repository:
# the manager's, and a device object's
DEVOBJ=$(busctl --address="$A" --json=short call "$DEST" "$OBJ" "$IFACE" GetDeviceObject s 01:00.0 |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0])')
[ "$DEVOBJ" = /org/hostdev/Hostdev1/devices/pci_5f0000_5f01_5f00_5f0 ] && ok "GetDeviceObject 01:00.0" \
        || fail "GetDeviceObject 01:00.0" "$DEVOBJ"
for po in "$OBJ $IFACE" "$DEVOBJ org.hostdev.Hostdev1.Device"; do
        set -- $po
        busctl --address="$A" --json=short call "$DEST" "$1" org.freedesktop.DBus.Introspectable Introspect |
                python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["data"][0])' > "$TMP/introspect.xml"
        python3 - "$TMP/introspect.xml" "$HOSTDEVD_XML" "$2" > "$TMP/introspect.diff" <<'EOF'
import sys
import xml.etree.ElementTree as ET

def iface(path, name):
    root = ET.parse(path).getroot()
    for i in root.iter("interface"):
        if i.get("name") == name:
            return i
    sys.exit("no interface %s in %s" % (name, path))

def norm(e):
    # element, attributes and children; whitespace and comments ignored
    return (e.tag, sorted(e.attrib.items()), [norm(c) for c in e])

a, b = iface(sys.argv[1], sys.argv[3]), iface(sys.argv[2], sys.argv[3])
if norm(a) != norm(b):
    print(ET.tostring(a).decode())
    sys.exit(1)
EOF
        [ $? = 0 ] && ok "Introspect of $1 answers $2 as daemon/org.hostdev.Hostdev1.xml" \
                || fail "Introspect of $1 answers $2 as daemon/org.hostdev.Hostdev1.xml" "$(head -c 300 "$TMP/introspect.diff")"
done
set --

# every device's object has the properties of its nodedev-list columns
objects_match() {
        busctl --address="$A" --json=short call "$DEST" /org/hostdev/Hostdev1/devices \
                org.freedesktop.DBus.ObjectManager GetManagedObjects > "$TMP/objects.json"
        hd --sysroot "$F" nodedev-list -o NAME,PATH,PARENT,CAP,DRIVER,IOMMU,VIABLE --json > "$TMP/cols.json"
        python3 - "$TMP/objects.json" "$TMP/cols.json" <<'EOF'
import json, sys
objs = json.load(open(sys.argv[1]))["data"][0]
props = {}
for path, ifaces in objs.items():
    p = {k: v["data"] for k, v in ifaces["org.hostdev.Hostdev1.Device"].items()}
    props[p["Name"]] = p
cols = json.load(open(sys.argv[2]))
bad = []
for d in cols:
    p = props.get(d["name"])
    want = {"Name": d["name"], "Path": d["path"] or "", "Parent": d["parent"] or "", "Capability": d["capability"],
            "Driver": d["driver"] or "", "IommuGroup": -1 if d["iommu_group"] is None else d["iommu_group"],
            "IommuGroupViable": bool(d["iommu_group_viable"]), "InUse": ""}
    if p != want:
        bad.append("%s: %s != %s" % (d["name"], p, want))
if bad:
    sys.exit("; ".join(bad[:3]))
print(len(cols))
EOF
}
if n=$(objects_match 2>&1); then ok "GetManagedObjects: the $n devices' properties are their nodedev-list columns"
else fail "GetManagedObjects: the devices' properties are their nodedev-list columns" "$n"; fi

# --- reads, against the CLI
{ call ListDevices s ""; echo; } > "$TMP/a"
hd --sysroot "$F" nodedev-list --json > "$TMP/b"
same "ListDevices is nodedev-list --json, byte for byte" "$TMP/a" "$TMP/b"
{ call ListDevices s "{}"; echo; } > "$TMP/a"
same "ListDevices {} is the same" "$TMP/a" "$TMP/b"
{ call ListIommuGroups; echo; } > "$TMP/a"
hd --sysroot "$F" iommu --json > "$TMP/b"
same "ListIommuGroups is iommu --json, byte for byte" "$TMP/a" "$TMP/b"

names=$(hd --sysroot "$F" nodedev-list)
n=0 bad=
for name in $names 01:00.0 enp2s0 /dev/nvme0n1; do
        n=$((n + 1))
        call GetDeviceXML s "$name" > "$TMP/a"
        hd --sysroot "$F" nodedev-dumpxml "$name" > "$TMP/b"
        cmp -s "$TMP/a" "$TMP/b" || bad="$bad $name"
done
[ -z "$bad" ] && ok "GetDeviceXML is nodedev-dumpxml for all $n names" || fail "GetDeviceXML is nodedev-dumpxml" "differs for:$bad"
bad=
for name in pci_0000_01_00_0 pci_0000_00_02_0 net_enp2s0_00_1b_21_4a_9c_10 computer 4b20d080-1b54-4048-85b3-a6a62d165c01; do
        { call GetDevice s "$name"; echo; } > "$TMP/a"
        hd --sysroot "$F" show "$name" --json > "$TMP/b"
        cmp -s "$TMP/a" "$TMP/b" || bad="$bad $name"
done
[ -z "$bad" ] && ok "GetDevice is show --json for 5 devices" || fail "GetDevice is show --json" "differs for:$bad"

# --- errors carry the CLI's words
for name in nosuch 00:1g.0 "/sys/../etc"; do
        got=$(err GetDevice string:"$name")
        want=$(hd --sysroot "$F" show "$name" 2>&1 >/dev/null | sed 's/^hostdevctl: //')
        case $name in nosuch) ename=NotFound ;; *) ename=InvalidArgument ;; esac
        [ "$got" = "org.hostdev.Hostdev1.Error.$ename: $want" ] && ok "GetDevice '$name': $ename with the CLI's text" \
                || fail "GetDevice '$name': $ename with the CLI's text" "got '$got', CLI '$want'"
done
got=$(err ListDevices string:'{"cap":"pci"}')
[ "${got%%:*}" = org.hostdev.Hostdev1.Error.InvalidArgument ] && ok "ListDevices with an unknown filter: InvalidArgument" \
        || fail "ListDevices with an unknown filter: InvalidArgument" "$got"
got=$(err Detach string:01:00.0 string:nosuchdrv uint64:2)
want=$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-detach 01:00.0 --driver nosuchdrv --dry-run 2>&1 | sed 's/^hostdevctl: //')
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: $want" ] && ok "Detach with an unknown driver: the CLI's text" \
        || fail "Detach with an unknown driver: the CLI's text" "got '$got', CLI '$want'"
got=$(err Detach string:00:1c.0 string: uint64:2)
want=$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-detach 00:1c.0 --dry-run 2>&1 | sed 's/^hostdevctl: //')
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: $want" ] && ok "Detach of a bridge: the CLI's text" \
        || fail "Detach of a bridge: the CLI's text" "got '$got', CLI '$want'"
got=$(err Detach string:01:00.0 string: uint64:64)
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: nodedev-detach: unknown flags 0x40" ] \
        && ok "Detach with an unknown flag: InvalidArgument" || fail "Detach with an unknown flag: InvalidArgument" "$got"
got=$(err GetDevice string:a string:b)
[ "${got%%:*}" = org.freedesktop.DBus.Error.InvalidArgs ] && ok "a wrong signature: InvalidArgs" \
        || fail "a wrong signature: InvalidArgs" "$got"

# 10 MB: more than any name; the daemon says so and keeps serving
got=$("$DAEMON_CLIENT" "$A" big $((10 * 1024 * 1024)))
[ "$got" = "error org.hostdev.Hostdev1.Error.InvalidArgument: device name too long (10485760 bytes; at most 4096)" ] \
        && ok "a 10 MB name: InvalidArgument" || fail "a 10 MB name: InvalidArgument" "${got:0:200}"
alive && ok "the daemon serves after the bad calls" || fail "the daemon serves after the bad calls" "$(tail -3 "$TMP/daemon.log")"

# --- host-changing methods: the same result document as the CLI's
for fl in "2:--dry-run" "3:--group --dry-run"; do
        { call Detach sst 01:00.0 "" "${fl%%:*}"; echo; } > "$TMP/a"
        "$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-detach 01:00.0 ${fl#*:} --json > "$TMP/b" 2>/dev/null
        same "Detach flags ${fl%%:*} is nodedev-detach ${fl#*:} --json" "$TMP/a" "$TMP/b"
done
{ call Reattach st 01:00.0 2; echo; } > "$TMP/a"
"$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-reattach 01:00.0 --dry-run --json > "$TMP/b" 2>/dev/null
same "Reattach dry-run is nodedev-reattach --dry-run --json" "$TMP/a" "$TMP/b"

# GetHostdevXML is hostdev-xml: every device, with each flag; a device the
# CLI refuses, the CLI's words
n=0 bad=
for name in $names 01:00.0 enp2s0; do
        for fl in 0: 1:--managed 2:--unmanaged 4:--by-address; do
                n=$((n + 1))
                if want=$(hd --sysroot "$F" hostdev-xml "$name" ${fl#*:} 2>&1); then
                        got=$(call GetHostdevXML st "$name" "${fl%%:*}"; echo x)
                        [ "$got" = "${want}
x" ] || bad="$bad $name/${fl%%:*}"
                else
                        got=$(err GetHostdevXML string:"$name" uint64:"${fl%%:*}")
                        case $got in
                        "org.hostdev.Hostdev1.Error."*": ${want#hostdevctl: }") ;;
                        *) bad="$bad $name/${fl%%:*}(error)" ;;
                        esac
                fi
        done
done
[ -z "$bad" ] && ok "GetHostdevXML is hostdev-xml for all $n names and flags" || fail "GetHostdevXML is hostdev-xml" "differs for:$bad"
got=$(err GetHostdevXML string:00:1c.0 uint64:0)
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: $(hd --sysroot "$F" hostdev-xml 00:1c.0 2>&1 | sed 's/^hostdevctl: //')" ] \
        && ok "GetHostdevXML of a bridge: InvalidArgument with the CLI's text" || fail "GetHostdevXML of a bridge: InvalidArgument" "$got"
got=$(err GetHostdevXML string:01:00.0 uint64:3)
want=$(hd --sysroot "$F" hostdev-xml 01:00.0 --managed --unmanaged 2>&1 | sed 's/^hostdevctl: //')
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: $want" ] && ok "GetHostdevXML managed|unmanaged: InvalidArgument with the CLI's text" \
        || fail "GetHostdevXML managed|unmanaged: InvalidArgument with the CLI's text" "got '$got', CLI '$want'"
got=$(err GetHostdevXML string:01:00.0 uint64:8)
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: hostdev-xml: unknown flags 0x8" ] \
        && ok "GetHostdevXML with an unknown flag: InvalidArgument" || fail "GetHostdevXML with an unknown flag: InvalidArgument" "$got"

driver() { readlink "$F/sys/bus/pci/devices/0000:$1/driver" | sed 's,.*/,,'; }
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        got=$(err --as-nobody Detach string:01:00.0 string: uint64:0)
        [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: org.hostdev.detach needs root: polkit is not running to authorize others" ] \
                && ok "Detach as uid 65534: AccessDenied" || fail "Detach as uid 65534: AccessDenied" "$got"
        got=$(err --as-nobody Reattach string:01:00.0 uint64:0)
        [ "${got%%:*}" = org.freedesktop.DBus.Error.AccessDenied ] && ok "Reattach as uid 65534: AccessDenied" \
                || fail "Reattach as uid 65534: AccessDenied" "$got"
        got=$(err --as-nobody Reset string:01:00.0 uint64:4)
        [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: org.hostdev.reset needs root: polkit is not running to authorize others" ] \
                && ok "Reset as uid 65534: AccessDenied" || fail "Reset as uid 65534: AccessDenied" "$got"
        call --as-nobody GetHostdevXML st 01:00.0 0 > "$TMP/a"
        hd --sysroot "$F" hostdev-xml 01:00.0 > "$TMP/b"
        same "uid 65534 reads: GetHostdevXML" "$TMP/a" "$TMP/b"
        got=$(err --as-nobody SriovSetNumVfs string:02:00.0 uint32:0 uint64:4)
        [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: org.hostdev.sriov needs root: polkit is not running to authorize others" ] \
                && ok "SriovSetNumVfs as uid 65534: AccessDenied" || fail "SriovSetNumVfs as uid 65534: AccessDenied" "$got"
        got=$(err --as-nobody MdevCreate string:0000:00:02.0 string:i915-GVTg_V5_8 string: uint64:0)
        [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: org.hostdev.mdev needs root: polkit is not running to authorize others" ] \
                && ok "MdevCreate as uid 65534: AccessDenied" || fail "MdevCreate as uid 65534: AccessDenied" "$got"
        got=$(err --as-nobody MdevRemove string:4b20d080-1b54-4048-85b3-a6a62d165c01 uint64:0)
        [ "${got%%:*}" = org.freedesktop.DBus.Error.AccessDenied ] && ok "MdevRemove as uid 65534: AccessDenied" \
                || fail "MdevRemove as uid 65534: AccessDenied" "$got"
        got=$(err --as-nobody Rescan)
        [ "${got%%:*}" = org.freedesktop.DBus.Error.AccessDenied ] && ok "Rescan as uid 65534: AccessDenied" \
                || fail "Rescan as uid 65534: AccessDenied" "$got"
        [ "$(driver 01:00.0)" = nouveau ] && [ ! -e "$S" ] && ok "the refused calls changed nothing (driver, no journal)" \
                || fail "the refused calls changed nothing" "driver $(driver 01:00.0); $(ls "$S" 2>&1)"
        { call --as-nobody ListDevices s ""; echo; } > "$TMP/a"
        hd --sysroot "$F" nodedev-list --json > "$TMP/b"
        same "uid 65534 reads: ListDevices" "$TMP/a" "$TMP/b"
        got=$(setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --bus="$A" --print-reply --dest="$DEST" "$OBJ" \
                org.freedesktop.DBus.Properties.Set string:"$IFACE" string:Version variant:string:x 2>&1 | sed -n 's/^Error \([^:]*\):.*/\1/p')
        [ "$got" = org.freedesktop.DBus.Error.AccessDenied ] && ok "the bus policy denies uid 65534 Properties.Set" \
                || fail "the bus policy denies uid 65534 Properties.Set" "$got"
        got=$(setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --bus="$A" --print-reply --dest=org.freedesktop.DBus \
                /org/freedesktop/DBus org.freedesktop.DBus.RequestName string:org.hostdev.Hostdev1x uint32:0 2>&1 | sed -n 's/^Error \([^:]*\):.*/\1/p')
        [ "$got" = org.freedesktop.DBus.Error.AccessDenied ] && ok "the bus policy lets uid 65534 own no name" \
                || fail "the bus policy lets uid 65534 own no name" "$got"
else
        for t in "Detach as an unprivileged uid: AccessDenied" "the refused calls changed nothing" \
                 "uid 65534 reads" "the bus policy denies an unprivileged Properties.Set" "the bus policy lets no one else own names"; do
                skip "$t" "needs root: the caller must be another uid than the daemon's, and the policy file gives the name to root"
        done
fi

# a real detach as root (the daemon's own uid) on the fake kernel: the
# CLI's document, the tree rebuilt, the change announced
{ call Detach sst 01:00.0 vfio 0; echo; } > "$TMP/a"
"$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-detach 01:00.0 --driver vfio --json > "$TMP/b" 2>/dev/null
same "Detach is nodedev-detach --json" "$TMP/a" "$TMP/b"
[ "$(driver 01:00.0)" = vfio-pci ] && ok "Detach moved 01:00.0 to vfio-pci" || fail "Detach moved 01:00.0 to vfio-pci" "$(driver 01:00.0)"
got=$(busctl --address="$A" get-property "$DEST" "$DEVOBJ" org.hostdev.Hostdev1.Device Driver)
[ "$got" = 's "vfio-pci"' ] && ok "after Detach, the device object's Driver is vfio-pci" \
        || fail "after Detach, the device object's Driver is vfio-pci" "$got"
if n=$(objects_match 2>&1); then ok "after Detach, every device object is its nodedev-list columns"
else fail "after Detach, every device object is its nodedev-list columns" "$n"; fi
{ call ListDevices s ""; echo; } > "$TMP/a"
hd --sysroot "$F" nodedev-list --json > "$TMP/b"
same "after Detach, ListDevices is the new tree" "$TMP/a" "$TMP/b"
{ call Reattach st 01:00.0 0; echo; } > "$TMP/a"
"$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-reattach 01:00.0 --json > "$TMP/b" 2>/dev/null
same "Reattach is nodedev-reattach --json" "$TMP/a" "$TMP/b"
[ "$(driver 01:00.0)" = nouveau ] && ok "Reattach gave 01:00.0 back to nouveau" || fail "Reattach gave 01:00.0 back to nouveau" "$(driver 01:00.0)"

# refused: the CLI's reason as a named error, the document as its second argument
mkdir -p "$F/proc/self" "$TMP/cli/proc/self"
echo "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw" | tee "$F/proc/self/mountinfo" > "$TMP/cli/proc/self/mountinfo"
got=$(err Detach string:00:17.0 string: uint64:0)
want=$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-detach 00:17.0 2>&1 >/dev/null | sed 's/^hostdevctl: //')
[ "$got" = "org.hostdev.Hostdev1.Error.Refused: $want" ] && ok "a refused Detach: Refused with the CLI's reason" \
        || fail "a refused Detach: Refused with the CLI's reason" "got '$got', CLI '$want'"
[ "$(driver 00:17.0)" = ahci ] && ok "the refused Detach changed nothing" || fail "the refused Detach changed nothing" "$(driver 00:17.0)"
# Reset is nodedev-reset: the result document whose text the CLI prints;
# its refusals and errors in the CLI's words
reset_matches() {       # JSON-FILE CLI-TEXT-FILE
        python3 - "$1" "$2" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
st = d["devices"]
assert d["status"] == "ok" and len(st) == 1 and st[0]["result"] == "done", d
assert text == "%s: reset (kernel method: %s)\n" % (st[0]["device"], st[0]["method"]), (text, d)
EOF2
}
for dev in 01:00.0 02:10.0; do
        call Reset st "$dev" 0 > "$TMP/a"
        "$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-reset "$dev" > "$TMP/b" 2>&1
        reset_matches "$TMP/a" "$TMP/b" && ok "Reset $dev is nodedev-reset's result ($(cat "$TMP/b"))" \
                || fail "Reset $dev is nodedev-reset's result" "$(cat "$TMP/a" "$TMP/b")"
done
for dev in 00:1c.0/Failed enp2s0/InvalidArgument nosuch/NotFound; do
        got=$(err Reset string:"${dev%%/*}" uint64:0)
        want=$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-reset "${dev%%/*}" 2>&1 >/dev/null | sed 's/^hostdevctl: //')
        [ "$got" = "org.hostdev.Hostdev1.Error.${dev#*/}: $want" ] && ok "Reset ${dev%%/*}: ${dev#*/} with the CLI's text" \
                || fail "Reset ${dev%%/*}: ${dev#*/} with the CLI's text" "got '$got', CLI '$want'"
done
got=$(err Reset string:01:00.0 uint64:2)
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: nodedev-reset: unknown flags 0x2" ] \
        && ok "Reset with the dry-run bit (it has none): InvalidArgument" || fail "Reset with the dry-run bit: InvalidArgument" "$got"

# SriovSetNumVfs is sriov set --numvfs (dry runs: the fake tree's PF
# keeps its VFs)
for fl in "4 6:--dry-run --force" "0 6:--dry-run --force" "2 2:--dry-run"; do
        set -- ${fl%%:*}
        { call SriovSetNumVfs sut 02:00.0 "$1" "$2"; echo; } > "$TMP/a"
        "$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" sriov set 02:00.0 --numvfs "$1" ${fl#*:} --json > "$TMP/b" 2>/dev/null
        same "SriovSetNumVfs 02:00.0 $1 flags $2 is sriov set --numvfs $1 ${fl#*:} --json" "$TMP/a" "$TMP/b"
done
set --
for c in "02:00.0 0 2 Refused" "02:00.0 8 2 InvalidArgument" "01:00.0 2 2 InvalidArgument" "nosuch 2 2 NotFound"; do
        set -- $c
        got=$(err SriovSetNumVfs string:"$1" uint32:"$2" uint64:"$3")
        want=$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" sriov set "$1" --numvfs "$2" --dry-run 2>&1 >/dev/null | sed 's/^hostdevctl: //')
        [ "$got" = "org.hostdev.Hostdev1.Error.$4: $want" ] && ok "SriovSetNumVfs $1 $2: $4 with the CLI's text" \
                || fail "SriovSetNumVfs $1 $2: $4 with the CLI's text" "got '$got', CLI '$want'"
done
set --
got=$(err SriovSetNumVfs string:02:00.0 uint32:2 uint64:1)
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: sriov set: unknown flags 0x1" ] \
        && ok "SriovSetNumVfs with an unknown flag: InvalidArgument" || fail "SriovSetNumVfs with an unknown flag: InvalidArgument" "$got"
[ "$(cat "$F/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs")" = 2 ] && ok "the SR-IOV dry runs changed nothing" \
        || fail "the SR-IOV dry runs changed nothing" "$(cat "$F/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs")"

# MdevCreate and MdevRemove are mdev create and mdev remove (a dry run:
# the fake tree keeps its mdevs)
U=11111111-2222-4333-8444-555555555555
call MdevCreate ssst 0000:00:02.0 i915-GVTg_V5_8 "$U" 2 > "$TMP/a"
"$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" mdev create 0000:00:02.0 i915-GVTg_V5_8 --uuid "$U" --dry-run > "$TMP/b" 2>&1
python3 - "$TMP/a" "$TMP/b" "$U" <<'EOF2' && ok "MdevCreate flags 2 is mdev create --dry-run ($(cat "$TMP/b"))" || fail "MdevCreate flags 2 is mdev create --dry-run" "$(cat "$TMP/a" "$TMP/b")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ok" and sys.argv[3] in json.dumps(d), d
assert open(sys.argv[2]).read() == "would create %s (i915-GVTg_V5_8 on 0000:00:02.0)\n" % sys.argv[3]
EOF2
[ -z "$(ls "$F/sys/bus/mdev/devices" 2>/dev/null | grep "$U")" ] && ok "MdevCreate's dry run created nothing" || fail "MdevCreate's dry run created nothing"
for c in "MdevCreate|mdev create 0000:00:02.0 nope --dry-run|string:0000:00:02.0 string:nope string: uint64:2" \
         "MdevCreate|mdev create 0000:00:02.0 nope --uuid xyz --dry-run|string:0000:00:02.0 string:nope string:xyz uint64:2" \
         "MdevRemove|mdev remove $U|string:$U uint64:0" "MdevRemove|mdev remove xyz|string:xyz uint64:0"; do
        IFS='|' read -r meth cli args <<< "$c"
        got=$(err "$meth" $args)
        want=$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" $cli 2>&1 >/dev/null | sed 's/^hostdevctl: //')
        case $got in
        "org.hostdev.Hostdev1.Error."*": $want") ok "$meth ($cli): a named error with the CLI's text" ;;
        *) fail "$meth ($cli): a named error with the CLI's text" "got '$got', CLI '$want'" ;;
        esac
done
got=$(err MdevCreate string:0000:00:02.0 string:i915-GVTg_V5_8 string: uint64:1)
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: mdev create: unknown flags 0x1" ] \
        && ok "MdevCreate with an unknown flag: InvalidArgument" || fail "MdevCreate with an unknown flag: InvalidArgument" "$got"

got=$(err Reset string:00:17.0 uint64:0)
want=$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-reset 00:17.0 2>&1 >/dev/null | sed 's/^hostdevctl: //')
[ "$got" = "org.hostdev.Hostdev1.Error.Refused: $want" ] && ok "a refused Reset: Refused with the CLI's reason" \
        || fail "a refused Reset: Refused with the CLI's reason" "got '$got', CLI '$want'"
call Reset st 00:17.0 4 > "$TMP/a"
"$HOSTDEVCTL_FAKE" --sysroot "$TMP/cli" --state-dir "$TMP/cli-st" nodedev-reset 00:17.0 --force > "$TMP/b" 2>&1
reset_matches "$TMP/a" "$TMP/b" && ok "Reset flags 4 is nodedev-reset --force" || fail "Reset flags 4 is nodedev-reset --force" "$(cat "$TMP/a" "$TMP/b")"

# --- kill -9 in the middle of a group detach, then a new daemon: it
# finishes the journal's transaction itself as it starts (recover
# semantics), and serves the tree of after
stop_daemon
if HOSTDEV_FAKE_KILL_AT=5 start_daemon "$HOSTDEVD_FAKE" --sysroot "$F" --state-dir "$S"; then
        call Detach sst 01:00.0 "" 1 > /dev/null 2>&1
        wait "$DPID"; rc=$?
        [ $rc = 137 ] && [ "$(driver 01:00.0)" = vfio-pci ] && [ "$(driver 01:00.1)" = snd_hda_intel ] && [ -e "$S/transaction.json" ] \
                && ok "kill -9 between the two functions of a group detach: one moved, the journal kept" \
                || fail "kill -9 between the two functions of a group detach" "rc=$rc $(driver 01:00.0) $(driver 01:00.1) $(ls "$S")"
else
        fail "hostdevd-fake with HOSTDEV_FAKE_KILL_AT starts" "$(cat "$TMP/daemon.log")"
fi
if start_daemon "$HOSTDEVD_FAKE" --sysroot "$F" --state-dir "$S"; then
        # it recovered before it took its name, without a Recover call
        [ "$(driver 01:00.0)" = nouveau ] && [ "$(driver 01:00.1)" = snd_hda_intel ] && [ ! -e "$S/transaction.json" ] \
                && grep -q "^<4>recovered an interrupted transaction:" "$TMP/daemon.log" \
                && grep -Eq "0000:01:00.0|pci_0000_01_00_0" "$TMP/daemon.log" \
                && ok "the restarted daemon recovers by itself: the group back on its drivers, the journal empty, logged" \
                || fail "the restarted daemon recovers by itself" "$(driver 01:00.0) $(driver 01:00.1) $(ls "$S"); $(tr '\n' '|' < "$TMP/daemon.log")"
        call Recover | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "ok" and not d.get("devices") and not d.get("steps"), d
' && ok "Recover after that: nothing left to recover" || fail "Recover after that: nothing left to recover"
        { call ListDevices s ""; echo; } > "$TMP/a"
        hd --sysroot "$F" nodedev-list --json > "$TMP/b"
        same "after the recovery, ListDevices is the new tree" "$TMP/a" "$TMP/b"
else
        fail "hostdevd-fake starts again after kill -9" "$(cat "$TMP/daemon.log")"
fi

# --- Rescan: a device added, one removed, one whose driver went away
mkdir -p "$F/sys/devices/virtual/net/dummy0"
cp -a "$F/sys/devices/virtual/net/lo/." "$F/sys/devices/virtual/net/dummy0/"
printf 'INTERFACE=dummy0\nIFINDEX=77\n' > "$F/sys/devices/virtual/net/dummy0/uevent"
echo 02:00:00:00:00:77 > "$F/sys/devices/virtual/net/dummy0/address"
ln -s ../../devices/virtual/net/dummy0 "$F/sys/class/net/dummy0"
wl=$(readlink -f "$F/sys/class/net/wlp4s0")
rm -rf "$F/sys/class/net/wlp4s0" "$wl"
rm "$F/sys/bus/pci/devices/0000:00:17.0/driver"
# hostdevctl nodedev-event listens too (its system bus is this one)
ev() { DBUS_SYSTEM_BUS_ADDRESS=$A "$HOSTDEVCTL" -v nodedev-event "$@"; }
ev --loop --timeout 8 --json > "$TMP/ev1" 2> "$TMP/ev1.err" & EV1=$!
ev --device wlp4s0 --event deleted > "$TMP/ev2" 2> "$TMP/ev2.err" & EV2=$!
ev --event created > "$TMP/ev3" 2> "$TMP/ev3.err" & EV3=$!
for _ in $(seq 100); do
        [ "$(cat "$TMP/ev1.err" "$TMP/ev2.err" "$TMP/ev3.err" | grep -c "listening to hostdevd's events")" = 3 ] && break
        sleep 0.1
done
got=$("$DAEMON_CLIENT" "$A" rescan)
wait $EV2; rc2=$?
wait $EV3; rc3=$?
[ $rc2 = 0 ] && [ "$(cat "$TMP/ev2")" = "event 'lifecycle' for node device net_wlp4s0_a0_a4_c5_12_34_56: Deleted" ] \
        && ok "nodedev-event --device IFACE --event deleted: the removal, by any name" \
        || fail "nodedev-event --device IFACE --event deleted" "rc=$rc2 $(cat "$TMP/ev2" "$TMP/ev2.err")"
[ $rc3 = 0 ] && [ "$(cat "$TMP/ev3")" = "event 'lifecycle' for node device net_dummy0_02_00_00_00_00_77: Created" ] \
        && ok "nodedev-event --event created: the first creation, then exit" \
        || fail "nodedev-event --event created" "rc=$rc3 $(cat "$TMP/ev3" "$TMP/ev3.err")"
wait $EV1; rc1=$?
[ $rc1 = 0 ] && [ "$(cat "$TMP/ev1")" = '{"event":"created","device":"net_dummy0_02_00_00_00_00_77"}
{"event":"deleted","device":"net_wlp4s0_a0_a4_c5_12_34_56"}
{"event":"updated","device":"pci_0000_00_17_0"}' ] && grep -qx "events received: 3" "$TMP/ev1.err" \
        && ok "nodedev-event --loop --timeout --json: every event, one JSON object a line" \
        || fail "nodedev-event --loop --timeout --json" "rc=$rc1 $(cat "$TMP/ev1" "$TMP/ev1.err" | tr '\n' '|')"
# docs/json.md's example (its checker cannot run a daemon): the same keys
# and types as every event printed
python3 - "$SRCDIR/docs/json.md" "$TMP/ev1" <<'EOF' && ok "docs/json.md's nodedev-event --json example has the events' shape" \
        || fail "docs/json.md's nodedev-event --json example has the events' shape"
import json, sys
md = open(sys.argv[1]).read().split("\n")
k = md.index("<!-- checked by tests/test-daemon.sh -->")
assert md[k + 1] == "```json", md[k + 1]
doc = json.loads(md[k + 2])
events = [json.loads(l) for l in open(sys.argv[2])]
assert events and all({a: type(b) for a, b in e.items()} == {a: type(b) for a, b in doc.items()} for e in events), (doc, events)
assert all(e["event"] in ("created", "deleted", "updated") for e in events + [doc])
EOF
echo "$got" | grep -q "^Signal DeviceAdded net_dummy0_02_00_00_00_00_77$" && ok "Rescan: DeviceAdded for a new device" \
        || fail "Rescan: DeviceAdded for a new device" "$(echo "$got" | tr '\n' '|')"
echo "$got" | grep -q "^Signal DeviceRemoved net_wlp4s0_a0_a4_c5_12_34_56$" && ok "Rescan: DeviceRemoved for a removed one" \
        || fail "Rescan: DeviceRemoved for a removed one" "$(echo "$got" | tr '\n' '|')"
echo "$got" | grep -q "^Signal DeviceChanged pci_0000_00_17_0$" && ok "Rescan: DeviceChanged for an unbound one" \
        || fail "Rescan: DeviceChanged for an unbound one" "$(echo "$got" | tr '\n' '|')"
echo "$got" | grep -q "^Signal InterfacesAdded /org/hostdev/Hostdev1/devices/net_5fdummy0_5f02_5f00_5f00_5f00_5f00_5f77$" \
        && echo "$got" | grep -q "^Signal InterfacesRemoved /org/hostdev/Hostdev1/devices/net_5fwlp4s0_5fa0_5fa4_5fc5_5f12_5f34_5f56$" \
        && echo "$got" | grep -q "^Signal PropertiesChanged /org/hostdev/Hostdev1/devices/pci_5f0000_5f00_5f17_5f0$" \
        && ok "Rescan: InterfacesAdded, InterfacesRemoved, PropertiesChanged of the device objects" \
        || fail "Rescan: InterfacesAdded, InterfacesRemoved, PropertiesChanged of the device objects" "$(echo "$got" | tr '\n' '|')"
[ "$(echo "$got" | grep -c '^Signal')" = 6 ] && [ "$(echo "$got" | tail -1)" = ok ] \
        && ok "Rescan: no other signal, then its reply" || fail "Rescan: no other signal, then its reply" "$(echo "$got" | tr '\n' '|')"
got=$("$DAEMON_CLIENT" "$A" rescan)
[ "$got" = ok ] && ok "a second Rescan announces nothing" || fail "a second Rescan announces nothing" "$(echo "$got" | tr '\n' '|')"
{ call ListDevices s ""; echo; } > "$TMP/a"
hd --sysroot "$F" nodedev-list --json > "$TMP/b"
same "after Rescan, ListDevices is the new tree" "$TMP/a" "$TMP/b"
if n=$(objects_match 2>&1); then ok "after Rescan, every device object is its nodedev-list columns"
else fail "after Rescan, every device object is its nodedev-list columns" "$n"; fi

# SIGHUP rescans too
rm -rf "$F/sys/class/net/dummy0" "$F/sys/devices/virtual/net/dummy0"
kill -HUP "$DPID"
for _ in $(seq 50); do
        call ListDevices s "" | grep -q net_dummy0 || break
        sleep 0.1
done
{ call ListDevices s ""; echo; } > "$TMP/a"
hd --sysroot "$F" nodedev-list --json > "$TMP/b"
same "SIGHUP: the tree is re-read" "$TMP/a" "$TMP/b"

# 100 clients with a call in flight at once: every one answered, alike
got=$("$DAEMON_CLIENT" "$A" clients 100)
case $got in "100 clients at once: 100 answered alike"*) ok "100 concurrent clients served" ;;
*) fail "100 concurrent clients served" "$got" ;; esac
# numbers (diagnostics, not assertions: docs/performance.md has the 5,000-function ones)
diag "$("$DAEMON_CLIENT" "$A" bench 200 | head -1) ($(hd --sysroot "$F" nodedev-list | wc -l) devices)"
diag "daemon RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$DPID/status)"

kill -TERM "$DPID"
wait "$DPID"; rc=$?
[ $rc = 0 ] && ok "SIGTERM: hostdevd exits 0" || fail "SIGTERM: hostdevd exits 0" "exit $rc; $(tail -3 "$TMP/daemon.log")"

# --- hotplug apply: a PCI function with a persisted override appears
# (its directory is put back, then Rescan): the daemon binds it to the
# override's driver when the recorded identity is its own, and refuses,
# changing nothing, when the record is another device's (drift); both are
# announced (PersistedConfigApplied) and logged
DEV=$F/sys/devices/pci0000:00/0000:00:1b.0/0000:08:00.0
hide() { mkdir -p "$TMP/hold"; mv "$DEV" "$TMP/hold/dev"; mv "$F/sys/bus/pci/devices/0000:08:00.0" "$TMP/hold/link"; }
unhide() { mv "$TMP/hold/dev" "$DEV"; mv "$TMP/hold/link" "$F/sys/bus/pci/devices/0000:08:00.0"; }
# the result JSON of PersistedConfigApplied(pci_0000_08_00_0) in
# daemon-client's lines (it spans several)
signal_json() {
        echo "$1" | awk '/^Signal PersistedConfigApplied pci_0000_08_00_0 / { on = 1; sub(/^Signal [^ ]* [^ ]* /, ""); print; next }
                on && (/^Signal / || /^ok$/) { on = 0 } on'
}
hd --sysroot "$F" override set 08:00.0 vfio > /dev/null || fail "override set 08:00.0 vfio on the fixture"
hide
if start_daemon "$HOSTDEVD_FAKE" --sysroot "$F" --state-dir "$S"; then
        unhide
        got=$("$DAEMON_CLIENT" "$A" rescan)
        applied=$(signal_json "$got")
        echo "$got" | grep -q "^Signal DeviceAdded pci_0000_08_00_0$" && [ "$(driver 08:00.0)" = vfio-pci ] \
                && echo "$applied" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "ok", d
assert [(x["address"], x["from"], x["to"]) for x in d["devices"]] == [("0000:08:00.0", "qla2xxx", "vfio-pci")], d
' && echo "$got" | grep -q "^Signal DeviceChanged pci_0000_08_00_0$" \
                && ok "hotplug apply: the override of a device that appears is applied (DeviceAdded, PersistedConfigApplied, DeviceChanged)" \
                || fail "hotplug apply: the override of a device that appears is applied" "$(driver 08:00.0) $(echo "$got" | tr '\n' '|')"
        got=$("$DAEMON_CLIENT" "$A" rescan)
        [ "$got" = ok ] && ok "hotplug apply: a second Rescan applies nothing again" || fail "hotplug apply: a second Rescan" "$got"
else
        fail "hostdevd-fake starts without 08:00.0" "$(cat "$TMP/daemon.log")"
fi
stop_daemon
# drift: the record says another device (1077:2031) sits at 08:00.0
# the apply was nodedev-detach's journaled transaction: reattach restores
# the driver it recorded
"$HOSTDEVCTL_FAKE" --sysroot "$F" --state-dir "$S" nodedev-reattach 08:00.0 > /dev/null 2>&1
[ "$(driver 08:00.0)" = qla2xxx ] && ok "hotplug apply was journaled: nodedev-reattach gives 08:00.0 back to qla2xxx" \
        || fail "hotplug apply was journaled: nodedev-reattach gives 08:00.0 back to qla2xxx" "$(driver 08:00.0)"
sed -i 's/^device=2532$/device=2031/' "$F/etc/hostdev/overrides/pci-0000:08:00.0"
hide
if start_daemon "$HOSTDEVD_FAKE" --sysroot "$F" --state-dir "$S"; then
        unhide
        got=$("$DAEMON_CLIENT" "$A" rescan)
        applied=$(signal_json "$got")
        [ "$(driver 08:00.0)" = qla2xxx ] && echo "$applied" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "refused", d
assert "1077:2031" in d["reason"] and "1077:2532" in d["reason"], d
assert [(x["address"], x["result"]) for x in d["devices"]] == [("0000:08:00.0", "skipped")], d
' && ! echo "$got" | grep -q "^Signal DeviceChanged pci_0000_08_00_0$" \
                && ok "hotplug apply: an override recorded for another identity is refused, nothing changed, drift in the signal" \
                || fail "hotplug apply: drift refused" "$(driver 08:00.0) $(echo "$got" | tr '\n' '|')"
        grep -q '^<4>pci_0000_08_00_0: persisted configuration refused: 0000:08:00.0: the persisted override to vfio-pci was made for 1077:2031 .*, the device there now is 1077:2532 ' "$TMP/daemon.log" \
                && ok "hotplug apply: the drift is logged (warning, both identities)" \
                || fail "hotplug apply: the drift is logged" "$(cat "$TMP/daemon.log")"
else
        fail "hostdevd-fake starts without 08:00.0 (drift)" "$(cat "$TMP/daemon.log")"
fi
stop_daemon
finish
