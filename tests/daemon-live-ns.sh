#!/usr/bin/env bash
# Helper of tests/test-daemon.sh: hostdevd on "the live host" with real
# kernel uevents, inside `unshare -Urmn` (a private user, mount and network
# namespace): TREE's sys and run/udev are bound over /sys and /run/udev, as
# tests/test-udev.sh does, so the daemon without --sysroot reads the fixture;
# a veth pair created in the private network namespace makes the kernel
# send uevents there, and the daemon, listening to them, re-reads the tree.
# No udevd runs in here (no /run/udev/control): the daemon listens to the
# kernel's events.  Nothing outside the namespaces is touched.
#
#   unshare -Urmn tests/daemon-live-ns.sh TREE WORKDIR
# Prints KEY=VALUE lines for the caller to check.
set -u
T=$1 W=$2
. "$SRCDIR/tests/daemon-ns-lib.sh"
ns_enter "$T"

ns_start_daemon "$W"
busctl --address="$A" --json=short call org.hostdev.Hostdev1 /org/hostdev/Hostdev1/Manager \
        org.hostdev.Hostdev1.Manager ListDevices s "" |
        python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["data"][0] + "\n")' > "$W/ns-a"
"$HOSTDEVCTL" nodedev-list --json > "$W/ns-b"
cmp -s "$W/ns-a" "$W/ns-b" && echo "list=same" || echo "list=differs"

# a new device in the tree, then uevents: the daemon announces it
"$DAEMON_CLIENT" "$A" watch 1 10 > "$W/ns-watch" &
wpid=$!
for _ in $(seq 100); do grep -q ready "$W/ns-watch" && break; sleep 0.05; done
mkdir -p "$T/sys/devices/virtual/net/dummy0"
cp -a "$T/sys/devices/virtual/net/lo/." "$T/sys/devices/virtual/net/dummy0/"
printf 'INTERFACE=dummy0\nIFINDEX=77\n' > "$T/sys/devices/virtual/net/dummy0/uevent"
echo 02:00:00:00:00:77 > "$T/sys/devices/virtual/net/dummy0/address"
ln -s ../../devices/virtual/net/dummy0 "$T/sys/class/net/dummy0"
t0=$(date +%s%N)
ip link add hdv0 type veth peer name hdv1 || echo "veth=failed"
wait "$wpid"
echo "watch=$(grep '^Signal' "$W/ns-watch" | cut -d' ' -f2,3 | tr '\n' ' ')"
t1=$(grep -m1 '^Signal' "$W/ns-watch" | cut -d' ' -f4)
[ -n "$t1" ] && echo "latency_us=$(( (t1 - t0) / 1000 ))"
# a burst: 40 veth pairs created and removed while the tree changes; the
# daemon's tree must then be a fresh enumeration's
rm -f "$T/sys/class/net/dummy0"
rm -rf "$T/sys/devices/virtual/net/dummy0"
for i in $(seq 40); do ip link add "hb$i" type veth peer name "hc$i"; done
for i in $(seq 40); do ip link del "hb$i"; done
sleep 1
busctl --address="$A" --json=short call org.hostdev.Hostdev1 /org/hostdev/Hostdev1/Manager \
        org.hostdev.Hostdev1.Manager ListDevices s "" |
        python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["data"][0] + "\n")' > "$W/ns-a"
"$HOSTDEVCTL" nodedev-list --json > "$W/ns-b"
cmp -s "$W/ns-a" "$W/ns-b" && echo "burst=same" || echo "burst=differs"
kill "$dpid" 2>/dev/null
wait "$dpid"
kill "$(cat "$W/ns-bus.pid")" 2>/dev/null
exit 0
