#!/bin/bash
# Run libvirt's real node-device driver over a fake sysfs tree and dump what
# libvirt sees.  See README.md in this directory.
#
#   libvirt-nodedev.sh SYSROOT OUTDIR [--time]
#
# SYSROOT/sys           fake sysfs (bind-mounted over /sys in a private
#                       user+mount namespace)
# SYSROOT/run/udev      optional udev db (bind-mounted over /run/udev)
#
# OUTDIR/names.txt      sorted `virsh nodedev-list`
# OUTDIR/parents.txt    sorted "NAME PARENT" ("-" when there is no <parent>)
# OUTDIR/xml/NAME.xml   `virsh nodedev-dumpxml NAME`
# OUTDIR/libvirtd.log   libvirtd's log (warnings and errors)
# --list-only           stop after names.txt (and time.txt): no XML, no parents
# OUTDIR/time.txt       with --time: seconds from libvirtd start to the first
#                       nodedev-list completing, and a second nodedev-list
#
# Exit: 0 ok, 77 skip (tools/user namespaces missing), 1 failure.
#
# Environment knobs:
#   LIBVIRT_NODEDEV_TIMEOUT  seconds to wait for libvirtd/virsh (default 60)
#   LIBVIRT_NODEDEV_DRIVER   path of libvirt_driver_nodedev.so
#   LIBVIRT_NODEDEV_LOG      libvirtd log_filters (default "3:*" = warnings)
#   LIBVIRTD, VIRSH          binaries (default: from PATH / /usr/sbin)
#   LIBVIRT_NODEDEV_HOSTNET=1  keep this network namespace (no unshare -n):
#                            for SYSROOT=/, so that libvirt's ethtool queries
#                            see the host's interfaces
set -u

skip() { echo "SKIP: $*" >&2; exit 77; }
die() { echo "libvirt-nodedev: error: $*" >&2; exit 1; }

TIMEOUT=${LIBVIRT_NODEDEV_TIMEOUT:-60}

if [ "${1:-}" != "--inner" ]; then
    # ------------------------------------------------------------------
    # Outer part: checks, then re-exec inside unshare -Urmnpf.
    # ------------------------------------------------------------------
    TIME=0 LIST_ONLY=0
    ARGS=()
    for a in "$@"; do
        case $a in
        --time) TIME=1 ;;
        --list-only) LIST_ONLY=1 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        -*) die "unknown option $a" ;;
        *) ARGS+=("$a") ;;
        esac
    done
    [ ${#ARGS[@]} -eq 2 ] || { echo "usage: $0 SYSROOT OUTDIR [--time] [--list-only]" >&2; exit 1; }
    SYSROOT=${ARGS[0]} OUTDIR=${ARGS[1]}
    [ -d "$SYSROOT/sys" ] || die "$SYSROOT/sys is not a directory"
    SYSROOT=$(cd "$SYSROOT" && pwd -P) || die "cannot resolve $SYSROOT"

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

    mkdir -p "$OUTDIR" || die "cannot create $OUTDIR"
    OUTDIR=$(cd "$OUTDIR" && pwd -P)
    rm -rf "$OUTDIR/names.txt" "$OUTDIR/parents.txt" "$OUTDIR/time.txt" \
           "$OUTDIR/libvirtd.log" "$OUTDIR/xml"
    # The work dir must not live under /run, /sys or /var/lib/libvirt: those
    # get covered inside the namespace.
    base=${TMPDIR:-/tmp}
    case $base in /run*|/sys*|/var/run*|/var/lib/libvirt*|/var/log/libvirt*|/var/cache/libvirt*) base=/tmp ;; esac
    WORK=$(mktemp -d "$base/libvirt-nodedev.XXXXXX") || die "mktemp failed"
    chmod 755 "$WORK"
    trap 'rm -rf "$WORK"' EXIT
    export SYSROOT OUTDIR WORK TIME LIST_ONLY DRV LIBVIRTD VIRSH TIMEOUT
    # The whole inner part is bounded too (nothing must hang CI).
    ns=-Urmnpf
    [ "${LIBVIRT_NODEDEV_HOSTNET:-0}" = 1 ] && ns=-Urmpf
    timeout -k 5 $((TIMEOUT * 4 + 60)) unshare $ns --mount-proc --propagation private "$BASH" "$0" --inner
    rc=$?
    [ $rc -eq 124 ] && echo "libvirt-nodedev: error: timed out" >&2
    exit $rc
fi

# ----------------------------------------------------------------------
# Inner part: uid 0 in a private user + mount namespace.
# ----------------------------------------------------------------------
set -u
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
    [ -f "$LOG" ] && cp "$LOG" "$OUTDIR/libvirtd.log" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

failed() {
    echo "libvirt-nodedev: error: $*" >&2
    if [ -s "$LOG" ]; then
        echo "---- libvirtd log (last 40 lines) ----" >&2
        tail -n 40 "$LOG" >&2
        echo "--------------------------------------" >&2
    fi
    exit 1
}

mkdir -p "$WORK/drivers" "$WORK/home" "$WORK/config" "$WORK/cache" "$WORK/runtime" \
         "$WORK/udev-stage" "$SOCKDIR" || failed "mkdir in $WORK"
chmod 700 "$WORK/runtime"
ln -s "$DRV" "$WORK/drivers/libvirt_driver_nodedev.so"

# Stage the udev db before /run gets covered (SYSROOT could live there).
if [ -d "$SYSROOT/run/udev" ]; then
    mount --bind "$SYSROOT/run/udev" "$WORK/udev-stage" || failed "bind $SYSROOT/run/udev"
fi
mount --rbind "$SYSROOT/sys" /sys || failed "bind-mount $SYSROOT/sys over /sys"
# Read-only: libvirt's nodedev driver only reads, and SYSROOT may be "/"
# (the real /sys) -- nothing in here may ever write to it.  (--rbind: a
# userns may not bind /sys without its locked submounts.)
mount -o remount,bind,ro /sys || failed "remount /sys read-only"
# Fresh /run (libvirt "privileged" state: /run/libvirt, pidfiles, the host's
# udev db must not leak in).
mount -t tmpfs -o mode=755 tmpfs /run || failed "tmpfs on /run"
mkdir -p /run/udev /run/lock
mount --bind "$WORK/udev-stage" /run/udev || failed "bind udev db over /run/udev"
# Device nodes of the fake tree (libvirt checks that e.g. /dev/vhost-vdpa-N
# exists): a tmpfs /dev holding the host's basic nodes plus SYSROOT/dev's
# entries as placeholders.
if [ "$SYSROOT" != / ] && [ -d "$SYSROOT/dev" ] && [ -n "$(ls -A "$SYSROOT/dev" 2>/dev/null)" ]; then
    mkdir -p "$WORK/dev-stage"
    mount --rbind /dev "$WORK/dev-stage" || failed "stage /dev"
    mount -t tmpfs -o mode=755 tmpfs /dev || failed "tmpfs on /dev"
    for n in null zero full random urandom tty; do
        touch "/dev/$n" && mount --bind "$WORK/dev-stage/$n" "/dev/$n" || failed "bind /dev/$n"
    done
    ln -s /proc/self/fd /dev/fd
    (cd "$SYSROOT/dev" && find . -mindepth 1 | while read -r p; do
        if [ -d "$p" ]; then mkdir -p "/dev/$p"; else mkdir -p "/dev/$(dirname "$p")"; : > "/dev/$p"; fi
    done)
fi
# Other places a privileged libvirtd may write to.
for d in /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /var/run; do
    [ -L "$d" ] && continue            # /var/run -> /run
    if [ -d "$d" ]; then
        mount -t tmpfs -o mode=755 tmpfs "$d" || failed "tmpfs on $d"
    fi
done
# (Where /var/lib/libvirt does not exist no mount point can be made; the
# nodedev driver never writes there -- checked with strace.)

# libvirtd's host UUID (host_uuid_source=smbios, the default) comes from
# /sys/.../dmi/id/product_uuid, i.e. the fake tree; without a usable one
# libvirtd would make up a random UUID, so pin one for reproducible output.
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
"$LIBVIRTD" -f "$WORK/libvirtd.conf" -p "$WORK/libvirtd.pid" --timeout $((TIMEOUT * 4 + 60)) \
    >>"$LOG" 2>&1 </dev/null &
DPID=$!

# Wait for the socket (bounded), then the first nodedev-list.
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
LIST2=$(vsh nodedev-list 2>"$WORK/virsh.err") || failed "second nodedev-list: $(cat "$WORK/virsh.err")"
T2=$(now)
[ "$LIST" = "$LIST2" ] || echo "libvirt-nodedev: warning: two nodedev-list runs differ" >&2

printf '%s\n' "$LIST" | sed '/^$/d' | LC_ALL=C sort > "$OUTDIR/names.txt"
[ -s "$OUTDIR/names.txt" ] || failed "libvirt listed no devices"

write_time() {
    [ "$TIME" = 1 ] || return 0
    awk -v t0="$T0" -v t1="$T1" -v t2="$T2" 'BEGIN {
        printf "first_nodedev_list %.3f\n", t1 - t0
        printf "second_nodedev_list %.3f\n", t2 - t1
    }' > "$OUTDIR/time.txt"
}
# --list-only (the benchmark): names and times, no XML dump
if [ "$LIST_ONLY" = 1 ]; then
    write_time
    exit 0
fi

rm -rf "$OUTDIR/xml"
mkdir -p "$OUTDIR/xml"
# Dump XMLs in batches of one virsh process each ("cmd1; cmd2; ...").
mapfile -t NAMES < "$OUTDIR/names.txt"
i=0
while [ $i -lt ${#NAMES[@]} ]; do
    cmds=
    for n in "${NAMES[@]:i:100}"; do cmds+="nodedev-dumpxml $n; "; done
    vsh "$cmds" > "$WORK/batch.xml" 2>"$WORK/virsh.err" || failed "nodedev-dumpxml: $(cat "$WORK/virsh.err")"
    awk -v dir="$OUTDIR/xml" '
        /^<device>/ { f = ""; buf = "" }
        { buf = buf $0 "\n" }
        /^  <name>/ && f == "" { n = $0; sub(/.*<name>/, "", n); sub(/<\/name>.*/, "", n); f = dir "/" n ".xml" }
        /^<\/device>/ { printf "%s", buf > f; close(f); buf = "" }
    ' "$WORK/batch.xml"
    i=$((i + 100))
done
for n in "${NAMES[@]}"; do
    [ -s "$OUTDIR/xml/$n.xml" ] || failed "no XML for $n"
done

for n in "${NAMES[@]}"; do
    p=$(sed -n 's:^  <parent>\(.*\)</parent>$:\1:p' "$OUTDIR/xml/$n.xml")
    echo "$n ${p:--}"
done | LC_ALL=C sort > "$OUTDIR/parents.txt"

write_time
exit 0
