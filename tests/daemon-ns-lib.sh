# Sourced by the helpers that run hostdevd on "the live host" inside
# `unshare -Urmn` (tests/daemon-live-ns.sh, daemon-events-ns.sh,
# daemon-mdev-events-ns.sh, daemon-writes-ns.sh; bench/daemon.sh's ns.sh):
#
#   ns_enter TREE            TREE's sys and run/udev bound over /sys and
#                            /run/udev (as tests/test-udev.sh does), lo up;
#                            exit 77 when a mount is refused
#   ns_inject_probe          "inject=unsupported" and exit 0 when this kernel
#                            takes no uevents from user space (Linux < 4.18)
#   ns_start_daemon W ARG... a private dbus-daemon at $A (W/ns-bus), then
#                            $HOSTDEVD --bus-address $A ARG... (log
#                            W/ns-daemon.log, pid $dpid), waited for until it
#                            owns its name (asked of the bus), 30 s at most
#                            ($NS_WAIT_S seconds when set: bench/daemon.sh)
#
# Nothing outside the namespaces is touched.
INJECT="python3 $SRCDIR/tests/uevent-inject.py"

ns_enter() {
        mount --bind "$1/sys" /sys || exit 77
        mount -t tmpfs tmpfs /run || exit 77
        mkdir -p /run/udev
        mount --bind "$1/run/udev" /run/udev || exit 77
        ip link set lo up
}

ns_inject_probe() {
        $INJECT change /devices/none SUBSYSTEM=none || { echo "inject=unsupported"; exit 0; }
}

ns_start_daemon() {
        local w=$1
        shift
        A=unix:path=$w/ns-bus
        cat > "$w/ns-bus.conf" <<EOC
<busconfig><type>custom</type><listen>$A</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>
EOC
        dbus-daemon --config-file="$w/ns-bus.conf" --fork --print-pid=3 3> "$w/ns-bus.pid" || exit 1
        "$HOSTDEVD" --bus-address "$A" "$@" > "$w/ns-daemon.log" 2>&1 &
        dpid=$!
        for _ in $(seq $((${NS_WAIT_S:-30} * 10))); do
                [ "$(busctl --address="$A" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                        NameHasOwner s org.hostdev.Hostdev1 2>/dev/null)" = "b true" ] && break
                sleep 0.1
        done
}
