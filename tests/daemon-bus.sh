#!/usr/bin/env bash
# A private dbus-daemon for the hostdevd tests (sourced after tap.sh and
# common.sh, which give $TMP): start_bus, then start_daemon CMD..., call,
# err, has_owner, same, alive.  $A is the bus address.

DEST=org.hostdev.Hostdev1
OBJ=/org/hostdev/Hostdev1/Manager
IFACE=org.hostdev.Hostdev1.Manager
PIDS=()
stop_all() {
        local p
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        [ -s "$TMP/bus.pid" ] && kill "$(cat "$TMP/bus.pid")" 2>/dev/null
        rm -rf "$TMP"
}
trap stop_all EXIT
# an unprivileged caller must reach the bus socket in here
chmod 755 "$TMP"

# start_bus: a private bus in $TMP; 1 (and the reason in $TMP/bus.err) if
# dbus-daemon did not start.  The bus: a system bus's defaults (nothing owned, no method calls but to
# the bus) plus hostdevd's policy file.  Not as root, the daemon cannot own
# a name the file gives root only: a permissive bus then.
start_bus() {
        if [ "$(id -u)" = 0 ]; then
                POLICY="<include>$SRCDIR/daemon/data/org.hostdev.Hostdev1.conf</include>"
                DEFAULTS='<deny own="*"/><deny send_type="method_call"/>'
        else
                POLICY=
                DEFAULTS='<allow own="*"/><allow send_type="method_call"/>'
        fi
        cat > "$TMP/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$TMP/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    $DEFAULTS
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  $POLICY
</busconfig>
EOF
        A=unix:path=$TMP/bus
        dbus-daemon --config-file="$TMP/bus.conf" --fork --print-pid=3 3> "$TMP/bus.pid" 2> "$TMP/bus.err"
}

# start_daemon BINARY ARGS...: serve on $A; waits for the name
# has_owner NAME: whether NAME is owned on the bus (asks the bus itself:
# no credentials of the owner are read, unlike busctl status)
has_owner() {
        [ "$(busctl --address="$A" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                NameHasOwner s "$1" 2>>"$TMP/daemon.log")" = "b true" ]
}
# start_daemon CMD...: start it on the bus and wait (30 s at most, a loaded
# CI machine) until it owns its name; on failure it is stopped again, and
# $TMP/daemon.log says why
start_daemon() {
        "$@" --bus-address "$A" > "$TMP/daemon.log" 2>&1 &
        DPID=$!
        PIDS+=("$DPID")
        for _ in $(seq 300); do
                has_owner "$DEST" && return 0
                kill -0 "$DPID" 2>/dev/null || break
                sleep 0.1
        done
        kill -0 "$DPID" 2>/dev/null && echo "(still without its name after 30 s)" >> "$TMP/daemon.log"
        stop_daemon
        return 1
}
stop_daemon() { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }

# call [--as-nobody] METHOD SIG ARGS...: the string it returns, exactly,
# on stdout
call() {
        local pre=()
        [ "$1" = --as-nobody ] && { pre=(setpriv --reuid=65534 --regid=65534 --clear-groups); shift; }
        "${pre[@]}" busctl --address="$A" --json=short call "$DEST" "$OBJ" "$IFACE" "$@" |
                python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["data"][0])'
}
# err [--as-nobody] METHOD DBUS-SEND-ARGS...: "NAME: MESSAGE" of the error
err() {
        local pre=()
        [ "$1" = --as-nobody ] && { pre=(setpriv --reuid=65534 --regid=65534 --clear-groups); shift; }
        local m=$1; shift
        "${pre[@]}" dbus-send --bus="$A" --print-reply --dest="$DEST" "$OBJ" "$IFACE.$m" "$@" 2>&1 >/dev/null |
                sed -n 's/^Error \(.*\)$/\1/p'
}
# same NAME FILE-A FILE-B
same() { cmp -s "$2" "$3" && ok "$1" || fail "$1" "$(diff "$2" "$3" | head -5 | tr '\n' ' ')"; }
alive() { kill -0 "$DPID" 2>/dev/null && [ -n "$(call ListIommuGroups)" ]; }

# snap TREE: everything a write method could change in a fixture tree:
# names, link targets, and the contents of the small files (sysfs
# attributes, definitions, SR-IOV records); compare two with `same`
snap() {
        python3 - "$1" <<'EOF'
import hashlib, os, sys
root = sys.argv[1]
for d, dirs, files in os.walk(root):
    dirs.sort()
    for n in sorted(dirs + files):
        if n.startswith(".fake-kernel"):
            continue
        p = os.path.join(d, n)
        rel = os.path.relpath(p, root)
        if os.path.islink(p):
            print(rel, "->", os.readlink(p))
        elif os.path.isdir(p):
            print(rel, "d")
        else:
            h = ""
            try:
                if os.path.getsize(p) < 8192:
                    h = hashlib.md5(open(p, "rb").read()).hexdigest()
            except OSError:
                h = "unreadable"
            print(rel, "f", h)
EOF
}
