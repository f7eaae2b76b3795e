#!/usr/bin/env bash
# hostdevd's write methods on the live host enumerate nothing
# (tree_for_write(), daemon/hostdevd.c): in private namespaces over a copy
# of the `full` fixture (tests/daemon-writes-ns.sh), the tree is changed
# with and without a uevent before dry-run DetachDevices calls; each plans
# on the tree as it is now (the queued events taken, the device and its
# IOMMU group read again), the daemon's ListDevices is then a fresh
# `hostdevctl nodedev-list --json`, and only a name the tree does not have
# makes a full enumeration.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

. "$(dirname "$0")/daemon-ns-run.sh"

ns_run daemon-writes-ns.sh
check "start=same" "at start: ListDevices is nodedev-list --json"
check "rebuilds_start=1" "at start: one enumeration"
check "silent_plan=current" "a driver unbound without a uevent: the dry-run Detach plans on the device as it is now"
check "silent=same" "then ListDevices is a fresh nodedev-list --json"
check "rebuilds_silent=1" "the write enumerated nothing"
check "logged=yes" "the daemon logs the write's update"
check "member=same" "a group member changed without a uevent: read again with the device"
check "rebuilds_member=1" "and nothing enumerated"
check "queued=same" "a uevent queued before the write: taken before the plan"
check "rebuilds_queued=1" "and nothing enumerated"
check "unknown=notfound" "a name the tree does not have: NotFound"
check "rebuilds_unknown=2" "after one full enumeration"
finish
