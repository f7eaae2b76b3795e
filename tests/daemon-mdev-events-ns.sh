#!/usr/bin/env bash
# Helper of tests/test-daemon-mdev-events.sh: hostdevd on "the live host"
# inside `unshare -Urmn` (TREE's sys and run/udev bound over /sys and
# /run/udev, as tests/daemon-events-ns.sh does), fed the kernel uevents of
# a mediated device (the `full` fixture's GVT-g mdev under 00:02.0):
# removed, created and bound, defined (mdevctl's file, then a change
# event), removed while defined (its defined node stays), created again
# (the defined node started in place).
# The daemon must place each one without enumerating again.  Definitions
# in WORKDIR/mdevctl (HOSTDEV_MDEVCTL_DIR); nothing outside the namespaces
# is touched.
#
#   unshare -Urmn tests/daemon-mdev-events-ns.sh TREE WORKDIR
# Prints KEY=VALUE lines for the caller to check.
set -u
T=$1 W=$2
. "$SRCDIR/tests/daemon-ns-lib.sh"
ns_enter "$T"
ns_inject_probe
export HOSTDEV_MDEVCTL_DIR=$W/mdevctl
mkdir -p "$HOSTDEV_MDEVCTL_DIR"

ns_start_daemon "$W" -v -v
list() {        # FILTER: the daemon's ListDevices
        busctl --address="$A" --json=short call org.hostdev.Hostdev1 /org/hostdev/Hostdev1/Manager \
                org.hostdev.Hostdev1.Manager ListDevices s "$1" |
                python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["data"][0] + "\n")'
}
compare() {     # KEY: ListDevices and ListDevices --all against fresh nodedev-list --json (--all)
        list "" > "$W/ns-a"
        "$HOSTDEVCTL" nodedev-list --json > "$W/ns-b"
        list " --all" > "$W/ns-a2"
        "$HOSTDEVCTL" nodedev-list --all --json > "$W/ns-b2"
        if cmp -s "$W/ns-a" "$W/ns-b" && cmp -s "$W/ns-a2" "$W/ns-b2"; then
                echo "$1=same"
        else
                echo "$1=differs"
                { echo "--- $1"; diff "$W/ns-a" "$W/ns-b"; diff "$W/ns-a2" "$W/ns-b2"; } | head -30 >&2
        fi
}
rebuilds() { grep -c 'tree rebuilt' "$W/ns-daemon.log"; }
rereads() { grep -c 're-read defined mdevs of 0000:00:02.0$' "$W/ns-daemon.log"; }
sent=0
inject() {      # as tests/daemon-events-ns.sh: until the daemon has taken it
        $INJECT "$@" || return
        sent=$((sent + 1))
        for _ in $(seq 200); do
                [ "$(grep -c '^<7>uevent ' "$W/ns-daemon.log")" -ge $sent ] && return
                sleep 0.05
        done
        echo "event $sent ($1 $2) not taken in 10 s" >&2
}
U=4b20d080-1b54-4048-85b3-a6a62d165c01
TYPE=i915-GVTg_V5_4
DP=/devices/pci0000:00/0000:00:02.0
PD=/sys$DP
TY=$PD/mdev_supported_types/$TYPE
cp -a "$PD/$U" "$W/mdev-saved"
mdev_remove() {
        rm -rf "${PD:?}/$U" "/sys/bus/mdev/devices/$U" "/sys/bus/mdev/drivers/vfio_mdev/$U" \
                "/sys/kernel/iommu_groups/20/devices/$U" "$TY/devices/$U"
        echo 2 > "$TY/available_instances"
        inject remove "$DP/$U" SUBSYSTEM=mdev MDEV_TYPE=$TYPE
}
mdev_create() {
        cp -a "$W/mdev-saved" "$PD/$U"
        rm "$PD/$U/driver"
        sed -i '/^DRIVER=/d' "$PD/$U/uevent"
        ln -s "../../../devices/pci0000:00/0000:00:02.0/$U" "/sys/bus/mdev/devices/$U"
        ln -s "../../../../devices/pci0000:00/0000:00:02.0/$U" "/sys/kernel/iommu_groups/20/devices/$U"
        ln -s "../../../$U" "$TY/devices/$U"
        echo 1 > "$TY/available_instances"
        inject add "$DP/$U" SUBSYSTEM=mdev MDEV_TYPE=$TYPE
        ln -s ../../../../bus/mdev/drivers/vfio_mdev "$PD/$U/driver"
        echo DRIVER=vfio_mdev >> "$PD/$U/uevent"
        ln -s "../../../../devices/pci0000:00/0000:00:02.0/$U" "/sys/bus/mdev/drivers/vfio_mdev/$U"
        inject bind "$DP/$U" SUBSYSTEM=mdev DRIVER=vfio_mdev MDEV_TYPE=$TYPE
}
compare start
echo "rebuilds_start=$(rebuilds)"

"$DAEMON_CLIENT" "$A" watch 5 15 > "$W/ns-watch" &
wpid=$!
for _ in $(seq 100); do grep -q ready "$W/ns-watch" && break; sleep 0.05; done

# 1. removed (no definition): gone from the tree
mdev_remove
compare removed
# 2. created, then bound to vfio_mdev
mdev_create
compare created
# 3. defined (mdevctl's file: the definitions' watch, daemon/defs-watch.c,
# re-reads the defined mdevs of that parent only, no enumeration, and the
# definition is read with the device's next event too); the watch's
# re-read waited for, so it cannot fall between the next steps' sysfs
# changes and their events
n_before=$(rereads)
mkdir -p "$HOSTDEV_MDEVCTL_DIR/0000:00:02.0"
printf '{"mdev_type": "%s", "start": "manual", "attrs": []}\n' "$TYPE" > "$HOSTDEV_MDEVCTL_DIR/0000:00:02.0/$U"
for _ in $(seq 100); do [ "$(rereads)" -gt "$n_before" ] && break; sleep 0.05; done
echo "defs_reread=$(($(rereads) - n_before))"
inject change "$DP/$U" SUBSYSTEM=mdev MDEV_TYPE=$TYPE
compare defined
# 4. removed while defined: its defined node stays
mdev_remove
compare stopped
# 5. created again: the defined node started in place
mdev_create
compare started
wait "$wpid"
echo "watch=$(grep '^Signal' "$W/ns-watch" | cut -d' ' -f2,3 | tr '\n' ' ')"
echo "rebuilds_events=$(rebuilds)"
kill "$dpid" 2>/dev/null
wait "$dpid"
kill "$(cat "$W/ns-bus.pid")" 2>/dev/null
exit 0
