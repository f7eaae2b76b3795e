#!/bin/bash
# Time libvirt's node-device driver (udev backend) over a fake sysroot:
# libvirtd start -> first `virsh nodedev-list` done.  Nothing else.
#
#   bench/libvirt-first-list.sh SYSROOT
#
# Prints on stdout:
#   first_nodedev_list S.mmm    spawn of libvirtd -> first nodedev-list returned
#   second_nodedev_list S.mmm   one more nodedev-list (a whole virsh process)
#   devices N                   number of names in the first list
#
# This is a trimmed copy of tests/libvirt/libvirt-nodedev.sh (same namespace
# setup, same libvirtd configuration, same timing points) that stops after the
# second list: the per-device `nodedev-dumpxml` pass of that script takes
# ~27 s at 5000 PCI functions and is not needed for timing.  Read
# tests/libvirt/README.md for why each mount / variable is there.
#
# Exit: 0 ok, 77 skip (libvirtd/virsh/driver/user namespaces missing), 1 failure.
# Environment: LIBVIRT_NODEDEV_TIMEOUT (default 120), LIBVIRT_NODEDEV_DRIVER,
# LIBVIRT_NODEDEV_LOG, LIBVIRTD, VIRSH -- as in tests/libvirt.
set -u

skip() { echo "SKIP: $*" >&2; exit 77; }
die() { echo "libvirt-first-list: error: $*" >&2; exit 1; }

TIMEOUT=${LIBVIRT_NODEDEV_TIMEOUT:-120}

if [ "${1:-}" != "--inner" ]; then
    [ $# -eq 1 ] || { echo "usage: $0 SYSROOT" >&2; exit 1; }
    SYSROOT=$1
    [ -d "$SYSROOT/sys" ] || die "$SYSROOT/sys is not a directory"
    SYSROOT=$(cd "$SYSROOT" && pwd -P) || die "cannot resolve $SYSROOT"
    [ "$SYSROOT" != / ] || die "refusing SYSROOT=/ (benchmark trees only)"

    PATH=$PATH:/usr/sbin:/sbin
    LIBVIRTD=${LIBVIRTD:-$(command -v libvirtd)} || true
    VIRSH=${VIRSH:-$(command -v virsh)} || true
    [ -n "$LIBVIRTD" ] && [ -x "$LIBVIRTD" ] || skip "libvirtd not found"
    [ -n "$VIRSH" ] && [ -x "$VIRSH" ] || skip "virsh not found"
    command -v unshare >/dev/null || skip "unshare not found"
    command -v timeout >/dev/null || skip "timeout (coreutils) not found"
    DRV=${LIBVIRT_NODEDEV_DRIVER:-}
    if [ -z "$DRV" ]; then
        for d in /usr/lib/*/libvirt/connection-driver /usr/lib64/libvirt/connection-driver \
                 /usr/lib/libvirt/connection-driver; do
            [ -f "$d/libvirt_driver_nodedev.so" ] && { DRV=$d/libvirt_driver_nodedev.so; break; }
        done
    fi
    [ -n "$DRV" ] && [ -f "$DRV" ] || skip "libvirt_driver_nodedev.so not found"
    unshare -Urmnpf --mount-proc true 2>/dev/null || skip "unshare -Urmnpf (user namespaces) not permitted"

    base=${TMPDIR:-/tmp}
    case $base in /run*|/sys*|/var/run*|/var/lib/libvirt*|/var/log/libvirt*|/var/cache/libvirt*) base=/tmp ;; esac
    WORK=$(mktemp -d "$base/libvirt-first-list.XXXXXX") || die "mktemp failed"
    chmod 755 "$WORK"
    trap 'rm -rf "$WORK"' EXIT
    export SYSROOT WORK DRV LIBVIRTD VIRSH TIMEOUT
    timeout -k 5 $((TIMEOUT * 2 + 30)) unshare -Urmnpf --mount-proc --propagation private "$BASH" "$0" --inner
    rc=$?
    [ $rc -eq 124 ] && echo "libvirt-first-list: error: timed out" >&2
    exit $rc
fi

# ---------------------------------------------------------------- inner part
LOG=$WORK/libvirtd.log
SOCKDIR=$WORK/sock
DPID=

cleanup() {
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        kill -TERM "$DPID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

failed() {
    echo "libvirt-first-list: error: $*" >&2
    [ -s "$LOG" ] && tail -n 20 "$LOG" >&2
    exit 1
}

mkdir -p "$WORK/drivers" "$WORK/home" "$WORK/config" "$WORK/cache" "$WORK/runtime" \
         "$WORK/udev-stage" "$SOCKDIR" || failed "mkdir in $WORK"
chmod 700 "$WORK/runtime"
ln -s "$DRV" "$WORK/drivers/libvirt_driver_nodedev.so"

if [ -d "$SYSROOT/run/udev" ]; then
    mount --bind "$SYSROOT/run/udev" "$WORK/udev-stage" || failed "bind $SYSROOT/run/udev"
fi
mount --rbind "$SYSROOT/sys" /sys || failed "bind-mount $SYSROOT/sys over /sys"
mount -o remount,bind,ro /sys || failed "remount /sys read-only"
mount -t tmpfs -o mode=755 tmpfs /run || failed "tmpfs on /run"
mkdir -p /run/udev /run/lock
mount --bind "$WORK/udev-stage" /run/udev || failed "bind udev db over /run/udev"
for d in /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /var/run; do
    [ -L "$d" ] && continue
    if [ -d "$d" ]; then
        mount -t tmpfs -o mode=755 tmpfs "$d" || failed "tmpfs on $d"
    fi
done

HOST_UUID_LINE=
uuid=$(cat /sys/devices/virtual/dmi/id/product_uuid /sys/class/dmi/id/product_uuid 2>/dev/null | head -n 1)
case $uuid in
''|00000000-0000-0000-0000-000000000000|[Ff][Ff][Ff][Ff][Ff][Ff][Ff][Ff]-*)
    HOST_UUID_LINE='host_uuid = "5c5b7f3a-9e1d-4a4f-8c55-6b1f4a2e0d01"' ;;
esac

cat > "$WORK/libvirtd.conf" <<EOF
listen_tls = 0
listen_tcp = 0
unix_sock_dir = "$SOCKDIR"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
$HOST_UUID_LINE
log_level = 3
log_filters = "${LIBVIRT_NODEDEV_LOG:-3:*}"
log_outputs = "1:file:$LOG"
max_clients = 64
admin_max_clients = 2
EOF

export SYSTEMD_DEVICE_VERIFY_SYSFS=0
export LIBVIRT_DRIVER_DIR=$WORK/drivers
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_CACHE_HOME=$WORK/cache \
       XDG_RUNTIME_DIR=$WORK/runtime XDG_DATA_HOME=$WORK/home/.local/share
unset LIBVIRT_DEFAULT_URI VIRSH_DEFAULT_CONNECT_URI DBUS_SESSION_BUS_ADDRESS \
      DBUS_SYSTEM_BUS_ADDRESS LIBVIRT_LOG_OUTPUTS LIBVIRT_LOG_FILTERS
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$WORK/no-such-dbus
export LC_ALL=C

now() { date +%s.%N; }
URI="nodedev:///system?socket=$SOCKDIR/libvirt-sock"
vsh() { timeout -k 2 "$TIMEOUT" "$VIRSH" -q -c "$URI" "$@"; }

T0=$(now)
"$LIBVIRTD" -f "$WORK/libvirtd.conf" -p "$WORK/libvirtd.pid" --timeout $((TIMEOUT * 2 + 30)) \
    >>"$LOG" 2>&1 </dev/null &
DPID=$!

deadline=$(( $(date +%s) + TIMEOUT ))
while [ ! -S "$SOCKDIR/libvirt-sock" ]; do
    kill -0 "$DPID" 2>/dev/null || failed "libvirtd exited before creating its socket"
    [ "$(date +%s)" -lt "$deadline" ] || failed "libvirtd socket did not appear within ${TIMEOUT}s"
    sleep 0.005
done
while :; do
    if LIST=$(vsh nodedev-list 2>"$WORK/virsh.err"); then break; fi
    kill -0 "$DPID" 2>/dev/null || failed "libvirtd died: $(cat "$WORK/virsh.err")"
    [ "$(date +%s)" -lt "$deadline" ] || failed "virsh nodedev-list failed: $(cat "$WORK/virsh.err")"
    sleep 0.05
done
T1=$(now)
vsh nodedev-list >/dev/null 2>"$WORK/virsh.err" || failed "second nodedev-list: $(cat "$WORK/virsh.err")"
T2=$(now)

n=$(printf '%s\n' "$LIST" | sed '/^$/d' | wc -l)
awk -v t0="$T0" -v t1="$T1" -v t2="$T2" -v n="$n" 'BEGIN {
    printf "first_nodedev_list %.3f\n", t1 - t0
    printf "second_nodedev_list %.3f\n", t2 - t1
    printf "devices %d\n", n
}'
exit 0
