#!/usr/bin/env bash
# hostdevd places a mediated device's uevents one at a time
# (hd_nodedev_list_update): in private namespaces over a copy of the `full`
# fixture (tests/daemon-mdev-events-ns.sh), its GVT-g mdev is removed,
# created and bound, defined, removed while defined (its defined node
# stays), created again (the defined node started); after each step ListDevices (and ListDevices --all) is a fresh
# `hostdevctl nodedev-list --json` (--all), and nothing is enumerated again.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${HOSTDEVD:=$SRCDIR/build/daemon/hostdevd}"
: "${DAEMON_CLIENT:=$SRCDIR/build/tests/daemon-client}"

for t in dbus-daemon busctl ip; do
        command -v $t >/dev/null || skip_all "no $t"
done
[ -x "$HOSTDEVD" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"
unshare -Urmn true 2>/dev/null || skip_all "no user namespaces (unshare -Urmn)"
trap 'rm -rf "$TMP"' EXIT

build_fixtures full
mkdir -p "$TMP/ns"
cp -a "$TMP/fx/full" "$TMP/ns/tree"
SRCDIR=$SRCDIR HOSTDEVD=$HOSTDEVD HOSTDEVCTL=$HOSTDEVCTL DAEMON_CLIENT=$DAEMON_CLIENT \
        unshare -Urmn bash "$SRCDIR/tests/daemon-mdev-events-ns.sh" "$TMP/ns/tree" "$TMP/ns" > "$TMP/ns/out" 2> "$TMP/ns/err"
out() { tr '\n' ' ' < "$TMP/ns/out"; tail -5 "$TMP/ns/err"; }
grep -qx "inject=unsupported" "$TMP/ns/out" && skip_all "this kernel takes no uevents from user space (Linux < 4.18)"

check() {      # KEY=VALUE description
        grep -qx "$1" "$TMP/ns/out" && ok "$2" || fail "$2" "$(out)"
}
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
# 2: the one at start, and the definitions' watch's (a definition written
# by another program sends no uevent)
check "rebuilds_events=2" "every mdev event placed without enumerating again (one rebuild for the definition's file)"
finish
