#!/usr/bin/env bash
# hostdevd keeps its tree current one uevent at a time (hd_nodedev_list_update):
# in private namespaces over a copy of the `full` fixture (tests/daemon-events-ns.sh),
# the tree is changed and the matching kernel uevent sent for unbind, bind,
# remove, move (a netdev rename), add, change, a VF added and removed, a
# group made viable; the
# daemon announces each device, enumerates nothing again, and its
# ListDevices is then a fresh `hostdevctl nodedev-list --json`; an event it
# cannot place makes one full enumeration.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

. "$(dirname "$0")/daemon-ns-run.sh"

ns_run daemon-events-ns.sh
check "start=same" "at start: ListDevices is nodedev-list --json"
check "rebuilds_start=1" "at start: one enumeration"
check "vf_added=same" "a VF added: ListDevices is a fresh nodedev-list --json"
check "audio_unbound=same" "an unbind: ListDevices is a fresh nodedev-list --json"
check "viable=True True" "the fixture's group 2 is made viable (every member on vfio-pci or none)"
check "group_viable=same" "a group made viable by its GPU's bind: ListDevices is a fresh nodedev-list --json"
want="DeviceChanged pci_0000_00_1f_6 DeviceChanged pci_0000_00_1f_6 DeviceChanged pci_0000_01_00_1"
want="$want DeviceChanged pci_0000_01_00_0 DeviceChanged pci_0000_01_00_0 DeviceRemoved net_eno1_98_fa_9b_11_22_33"
want="$want DeviceRemoved net_enp2s0_00_1b_21_4a_9c_10 DeviceAdded net_enp2s9_00_1b_21_4a_9c_10"
want="$want DeviceAdded pci_0000_00_1f_7 DeviceAdded pci_0000_02_10_4 DeviceRemoved pci_0000_02_10_4 "
check "watch=$want" "unbind, bind, remove, move, add, change, VF add and remove: the signals, in order"
check "events=same" "after the events: ListDevices is a fresh nodedev-list --json"
check "rebuilds_events=1" "the events were placed without enumerating again"
grep -q "tree updated by events" "$TMP/ns/ns-daemon.log" && ok "the daemon logs the updates" \
        || fail "the daemon logs the updates" "$(tail -5 "$TMP/ns/ns-daemon.log")"
check "unplaced=same" "an event it cannot place: ListDevices is a fresh nodedev-list --json"
check "rebuilds_unplaced=2" "an event it cannot place: one full enumeration"
finish
