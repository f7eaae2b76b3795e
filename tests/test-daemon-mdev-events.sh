#!/usr/bin/env bash
# hostdevd places a mediated device's uevents one at a time
# (hd_nodedev_list_update): in private namespaces over a copy of the `full`
# fixture (tests/daemon-mdev-events-ns.sh), its GVT-g mdev is removed,
# created and bound, defined, removed while defined (its defined node
# stays), created again (the defined node started); after each step ListDevices (and ListDevices --all) is a fresh
# `hostdevctl nodedev-list --json` (--all), and nothing is enumerated again
# (the definition: its parent's defined mdevs re-read by the watch).
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

. "$(dirname "$0")/daemon-ns-run.sh"

ns_run daemon-mdev-events-ns.sh
check "start=same" "at start: ListDevices (--all) is nodedev-list --json (--all)"
check "rebuilds_start=1" "at start: one enumeration"
check "removed=same" "an mdev removed: ListDevices (--all) is a fresh nodedev-list --json (--all)"
check "created=same" "an mdev created and bound: the same"
check "defined=same" "its definition written, then a change event: the same (persistent)"
check "stopped=same" "removed while defined: its defined node stays, as a fresh enumeration shows it"
check "started=same" "created again: the defined node is the active mdev again"
N=mdev_4b20d080_1b54_4048_85b3_a6a62d165c01_0000_00_02_0
# bound; stopped (no driver now); started (the same snapshot: no signal), bound
want="DeviceRemoved $N DeviceAdded $N DeviceChanged $N DeviceChanged $N DeviceChanged $N "
grep -qx "watch=$want" "$TMP/ns/out" && ok "the signals: removed, added, bound; stopped and started in place" \
        || fail "the signals: removed, added, bound; stopped and started in place" "$(grep '^watch=' "$TMP/ns/out")"
# a definition written by another program sends no uevent: the
# definitions' watch re-reads its parent's defined mdevs, no enumeration
check "defs_reread=1" "the definition's file: its parent's defined mdevs re-read once"
check "rebuilds_events=1" "every mdev event and the definition's file placed without enumerating again"
finish
