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

: "${HOSTDEVD:=$SRCDIR/build/daemon/hostdevd}"

for t in dbus-daemon busctl ip; do
        command -v $t >/dev/null || skip_all "no $t"
done
[ -x "$HOSTDEVD" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"
unshare -Urmn true 2>/dev/null || skip_all "no user namespaces (unshare -Urmn)"
trap 'rm -rf "$TMP"' EXIT

build_fixtures full
mkdir -p "$TMP/ns"
cp -a "$TMP/fx/full" "$TMP/ns/tree"
SRCDIR=$SRCDIR HOSTDEVD=$HOSTDEVD HOSTDEVCTL=$HOSTDEVCTL \
        unshare -Urmn bash "$SRCDIR/tests/daemon-writes-ns.sh" "$TMP/ns/tree" "$TMP/ns" > "$TMP/ns/out" 2> "$TMP/ns/err"
out() { tr '\n' ' ' < "$TMP/ns/out"; tail -3 "$TMP/ns/err"; }
grep -qx "inject=unsupported" "$TMP/ns/out" && skip_all "this kernel takes no uevents from user space (Linux < 4.18)"

check() {      # KEY=VALUE description
        grep -qx "$1" "$TMP/ns/out" && ok "$2" || fail "$2" "$(out)"
}
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
