#!/usr/bin/env bash
# Helper of tests/test-daemon-events.sh: hostdevd on "the live host" inside
# `unshare -Urmn` (TREE's sys and run/udev bound over /sys and /run/udev, as
# tests/daemon-live-ns.sh does), fed kernel uevents that tests/uevent-inject.py
# sends into the private network namespace after each change of the tree:
# unbind, bind (one making an IOMMU group viable), remove, move (a netdev
# rename), add (a PCI function), a
# change that changes nothing, a VF added and removed.  The daemon must
# place each one without enumerating again.  Nothing outside the
# namespaces is touched.
#
#   unshare -Urmn tests/daemon-events-ns.sh TREE WORKDIR
# Prints KEY=VALUE lines for the caller to check.
set -u
T=$1 W=$2
. "$SRCDIR/tests/daemon-ns-lib.sh"
ns_enter "$T"
ns_inject_probe

ns_start_daemon "$W" -v -v
compare() {     # KEY: the daemon's ListDevices against a fresh nodedev-list --json
        busctl --address="$A" --json=short call org.hostdev.Hostdev1 /org/hostdev/Hostdev1/Manager \
                org.hostdev.Hostdev1.Manager ListDevices s "" |
                python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["data"][0] + "\n")' > "$W/ns-a"
        "$HOSTDEVCTL" nodedev-list --json > "$W/ns-b"
        cmp -s "$W/ns-a" "$W/ns-b" && echo "$1=same" || { echo "$1=differs"; diff "$W/ns-a" "$W/ns-b" | head -20 >&2; }
}
rebuilds() { grep -c 'tree rebuilt' "$W/ns-daemon.log"; }
# inject ACTION DEVPATH KEY=VALUE...: the uevent, then until the daemon has
# taken it (its debug log has a line per uevent), so the next change of
# the tree is not what a slow daemon reads for this event
sent=0
inject() {
        $INJECT "$@" || return
        sent=$((sent + 1))
        for _ in $(seq 200); do
                [ "$(grep -c '^<7>uevent ' "$W/ns-daemon.log")" -ge $sent ] && return
                sleep 0.05
        done
        echo "event $sent ($1 $2) not taken in 10 s" >&2
}
compare start
echo "rebuilds_start=$(rebuilds)"

"$DAEMON_CLIENT" "$A" watch 11 15 > "$W/ns-watch" &
wpid=$!
for _ in $(seq 100); do grep -q ready "$W/ns-watch" && break; sleep 0.05; done

P=/devices/pci0000:00
S=/sys$P
# unbind, then bind to vfio-pci: a member of a group of four (group 19)
rm "$S/0000:00:1f.6/driver"
sed -i '/^DRIVER=/d' "$S/0000:00:1f.6/uevent"
inject unbind "$P/0000:00:1f.6" SUBSYSTEM=pci PCI_SLOT_NAME=0000:00:1f.6
ln -s ../../../bus/pci/drivers/vfio-pci "$S/0000:00:1f.6/driver"
echo DRIVER=vfio-pci >> "$S/0000:00:1f.6/uevent"
inject bind "$P/0000:00:1f.6" SUBSYSTEM=pci DRIVER=vfio-pci PCI_SLOT_NAME=0000:00:1f.6
# group 2 made viable: its audio function unbound, then its GPU bound to
# vfio-pci (the audio function's object changes with no event of its own)
G=$S/0000:00:01.0
for f in 0000:01:00.1 0000:01:00.0; do
        rm "$G/$f/driver"
        sed -i '/^DRIVER=/d' "$G/$f/uevent"
        inject unbind "$P/0000:00:01.0/$f" SUBSYSTEM=pci PCI_SLOT_NAME=$f
        # the audio function's object rendered while its GPU holds nouveau
        [ $f = 0000:01:00.1 ] && sleep 0.3 && compare audio_unbound
done
ln -s ../../../../bus/pci/drivers/vfio-pci "$G/0000:01:00.0/driver"
echo DRIVER=vfio-pci >> "$G/0000:01:00.0/uevent"
inject bind "$P/0000:00:01.0/0000:01:00.0" SUBSYSTEM=pci DRIVER=vfio-pci PCI_SLOT_NAME=0000:01:00.0
sleep 0.3
compare group_viable
"$HOSTDEVCTL" nodedev-list --json | python3 -c '
import json, sys
print("viable=" + " ".join(str(d["iommu_group_viable"]) for d in json.load(sys.stdin) if d["iommu_group"] == 2))'
# remove: the netdev below it
rm -rf "$S/0000:00:1f.6/net/eno1" /sys/class/net/eno1
inject remove "$P/0000:00:1f.6/net/eno1" SUBSYSTEM=net INTERFACE=eno1
# move: a netdev renamed
N=$S/0000:00:1c.0/0000:02:00.0/net
mv "$N/enp2s0" "$N/enp2s9"
sed -i 's/^INTERFACE=enp2s0$/INTERFACE=enp2s9/' "$N/enp2s9/uevent"
rm /sys/class/net/enp2s0
ln -s "../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0/net/enp2s9" /sys/class/net/enp2s9
inject move "$P/0000:00:1c.0/0000:02:00.0/net/enp2s9" SUBSYSTEM=net INTERFACE=enp2s9 \
        DEVPATH_OLD="$P/0000:00:1c.0/0000:02:00.0/net/enp2s0"
# add: a new PCI function in group 19
cp -a "$S/0000:00:1f.4" "$S/0000:00:1f.7"
sed -i 's/^PCI_SLOT_NAME=.*/PCI_SLOT_NAME=0000:00:1f.7/' "$S/0000:00:1f.7/uevent"
ln -s "../../../devices/pci0000:00/0000:00:1f.7" /sys/bus/pci/devices/0000:00:1f.7
ln -s "../../../../devices/pci0000:00/0000:00:1f.7" /sys/kernel/iommu_groups/19/devices/0000:00:1f.7
inject add "$P/0000:00:1f.7" SUBSYSTEM=pci PCI_SLOT_NAME=0000:00:1f.7
# change: nothing the tree shows
inject change "$P/0000:00:02.0" SUBSYSTEM=pci PCI_SLOT_NAME=0000:00:02.0
# a VF of the PF 02:00.0 created, then removed
V=$S/0000:00:1c.0/0000:02:10.4
cp -a "$S/0000:00:1c.0/0000:02:10.0" "$V"
rm -rf "$V/net"
sed -i 's/^PCI_SLOT_NAME=.*/PCI_SLOT_NAME=0000:02:10.4/' "$V/uevent"
ln -s "../../../devices/pci0000:00/0000:00:1c.0/0000:02:10.4" /sys/bus/pci/devices/0000:02:10.4
inject add "$P/0000:00:1c.0/0000:02:10.4" SUBSYSTEM=pci PCI_SLOT_NAME=0000:02:10.4
sleep 0.3
compare vf_added
rm -rf "$V" /sys/bus/pci/devices/0000:02:10.4
inject remove "$P/0000:00:1c.0/0000:02:10.4" SUBSYSTEM=pci PCI_SLOT_NAME=0000:02:10.4
wait "$wpid"
echo "watch=$(grep '^Signal' "$W/ns-watch" | cut -d' ' -f2,3 | tr '\n' ' ')"
compare events
echo "rebuilds_events=$(rebuilds)"

# an event it cannot place (an add of a device that is not there): one
# full enumeration, which also finds what changed without an event
rm -rf "$S/0000:00:1f.7" /sys/bus/pci/devices/0000:00:1f.7 /sys/kernel/iommu_groups/19/devices/0000:00:1f.7
inject add "$P/0000:00:1f.5" SUBSYSTEM=pci PCI_SLOT_NAME=0000:00:1f.5
sleep 0.5
compare unplaced
echo "rebuilds_unplaced=$(rebuilds)"
kill "$dpid" 2>/dev/null
wait "$dpid"
kill "$(cat "$W/ns-bus.pid")" 2>/dev/null
exit 0
