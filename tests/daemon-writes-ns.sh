#!/usr/bin/env bash
# Helper of tests/test-daemon-live-writes.sh: hostdevd on "the live host"
# inside `unshare -Urmn` (TREE's sys and run/udev bound over /sys and
# /run/udev, as tests/daemon-events-ns.sh does).  A write method there
# enumerates nothing: it takes the queued uevents, then reads again the
# devices it plans on (the device, its IOMMU group's members, a PF's VFs).
# Dry runs only: nothing is written, in the tree or on this host.
#
#   unshare -Urmn tests/daemon-writes-ns.sh TREE WORKDIR
# Prints KEY=VALUE lines for the caller to check.
set -u
T=$1 W=$2
. "$SRCDIR/tests/daemon-ns-lib.sh"
ns_enter "$T"
ns_inject_probe

ns_start_daemon "$W" -v -v --state-dir "$W/state"
compare() {     # KEY: the daemon's ListDevices against a fresh nodedev-list --json
        busctl --address="$A" --json=short call org.hostdev.Hostdev1 /org/hostdev/Hostdev1/Manager \
                org.hostdev.Hostdev1.Manager ListDevices s "" |
                python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["data"][0] + "\n")' > "$W/ns-a"
        "$HOSTDEVCTL" nodedev-list --json > "$W/ns-b"
        cmp -s "$W/ns-a" "$W/ns-b" && echo "$1=same" || { echo "$1=differs"; diff "$W/ns-a" "$W/ns-b" | head -20 >&2; }
}
rebuilds() { grep -c 'tree rebuilt' "$W/ns-daemon.log"; }
detach() {      # NAME...: a dry-run DetachDevices, its result document (or error) in $W/detach
        busctl --address="$A" --json=short call org.hostdev.Hostdev1 /org/hostdev/Hostdev1/Manager \
                org.hostdev.Hostdev1.Manager DetachDevices asst $# "$@" "" 2 > "$W/detach" 2>&1
}
compare start
echo "rebuilds_start=$(rebuilds)"

P=/devices/pci0000:00
S=/sys$P
# 1. the tree changed with no uevent at all (what a lost or late event
# leaves): 00:1f.6 unbound; a dry-run Detach plans on it as it is now
rm "$S/0000:00:1f.6/driver"
sed -i '/^DRIVER=/d' "$S/0000:00:1f.6/uevent"
detach pci_0000_00_1f_6
python3 -c 'import json, sys; d = json.loads(json.load(open(sys.argv[1]))["data"][0])
sys.exit(0 if d["devices"][0]["from"] == "" else 1)' "$W/detach" 2>/dev/null && echo "silent_plan=current" \
        || { echo "silent_plan=stale"; head -c 2000 "$W/detach" >&2; }
compare silent
echo "rebuilds_silent=$(rebuilds)"
grep -q 'tree updated by a write' "$W/ns-daemon.log" && echo "logged=yes" || echo "logged=no"
# 2. a group member changed with no event: the group's members are read
# again too (00:1f.4, in 00:1f.6's group 19, unbound)
if [ -L "$S/0000:00:1f.4/driver" ]; then
        rm "$S/0000:00:1f.4/driver"
        sed -i '/^DRIVER=/d' "$S/0000:00:1f.4/uevent"
fi
detach pci_0000_00_1f_6
compare member
echo "rebuilds_member=$(rebuilds)"
# 3. a uevent queued just before the write: taken before the plan (no
# waiting for it: the write drains the queue)
ln -s ../../../bus/pci/drivers/vfio-pci "$S/0000:00:1f.6/driver"
echo DRIVER=vfio-pci >> "$S/0000:00:1f.6/uevent"
$INJECT bind "$P/0000:00:1f.6" SUBSYSTEM=pci DRIVER=vfio-pci PCI_SLOT_NAME=0000:00:1f.6
detach pci_0000_00_1f_6 pci_0000_01_00_0
compare queued
echo "rebuilds_queued=$(rebuilds)"
# 4. a name the tree does not have: one full enumeration, then NotFound
detach pci_0000_77_00_0
grep -q "no node device matches 'pci_0000_77_00_0'" "$W/detach" && echo "unknown=notfound" || { echo "unknown=other"; cat "$W/detach" >&2; }
echo "rebuilds_unknown=$(rebuilds)"
kill "$dpid" 2>/dev/null
wait "$dpid"
kill "$(cat "$W/ns-bus.pid")" 2>/dev/null
exit 0
