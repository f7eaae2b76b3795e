#!/usr/bin/env bash
# hostdevd follows libvirt's domain events (hd_domain_watch, domain/libvirt.c;
# daemon/hostdevd.c): a guest that starts or stops changes the InUse
# property of the devices it holds, announced as PropertiesChanged, without
# a rebuild.  libvirt's test:///default driver is one instance per process,
# so the guest is started inside hostdevd itself, through
# tests/libvirt-driver.c (LD_PRELOAD, commands on a FIFO); on a --sysroot
# tree hostdevd has no uevent monitor and nothing here calls Rescan, so
# only the watch can change InUse.  The real libvirtd and QEMU guest:
# tests/vm/debian-root/scenarios (the vm-debian-libvirt suite).
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${HOSTDEVD:=$SRCDIR/build/daemon/hostdevd}"
: "${HOSTDEV_LIBVIRT_DRIVER:=$BUILDDIR/tests/libhostdev-libvirt-driver.so}"
for t in dbus-daemon busctl dbus-monitor; do
        command -v $t >/dev/null || skip_all "no $t (Debian: apt install dbus-daemon dbus-bin systemd)"
done
[ -x "$HOSTDEVD" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"
[ -e "$HOSTDEV_LIBVIRT_DRIVER" ] || skip_all "no $HOSTDEV_LIBVIRT_DRIVER"
ldconfig -p 2>/dev/null | grep -q 'libvirt\.so\.0 ' || ldd "$HOSTDEVD" | grep -q 'libvirt\.so' \
        || skip_all "libvirt's client library (libvirt.so.0) is not installed"

. "$(dirname "$0")/daemon-bus.sh"

stop_clean() {
        kill -TERM "$DPID"; wait "$DPID"; local rc=$?
        [ $rc = 0 ] && ok "$1: hostdevd exits 0 on SIGTERM" || fail "$1: hostdevd exits 0 on SIGTERM" "exit $rc; $(tail -5 "$TMP/daemon.log" | tr '\n' ' ')"
}
inuse() { # OBJECT-NAME: the InUse property of that device
        busctl --address="$A" --json=short get-property "$DEST" "/org/hostdev/Hostdev1/devices/$1" \
                org.hostdev.Hostdev1.Device InUse | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"])'
}
# wait_inuse OBJECT-NAME PATTERN: until InUse matches the case PATTERN (10 s)
wait_inuse() {
        local got
        for _ in $(seq 100); do
                got=$(inuse "$1")
                # shellcheck disable=SC2254
                case $got in $2) return 0 ;; esac
                sleep 0.1
        done
        return 1
}
# lv COMMAND ARG: through the daemon's libvirt-driver thread; waits for its answer
N=0
lv() {
        N=$((N + 1))
        echo "$1 $2" > "$TMP/lv.fifo"
        for _ in $(seq 100); do
                grep -q "^\(ok\|error\) $N\b" "$TMP/lv.fifo.out" 2>/dev/null && break
                sleep 0.1
        done
        grep -q "^ok $N$" "$TMP/lv.fifo.out" 2>/dev/null
}

if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi
build_fixtures full
F=$TMP/fx/full
GPU=pci_5f0000_5f01_5f00_5f0     # pci_0000_01_00_0, escaped
GPU_PATH=/org/hostdev/Hostdev1/devices/$GPU
cat > "$TMP/watch-vm.xml" <<'XML'
<domain type='test'>
  <name>watch-vm</name>
  <memory>65536</memory>
  <os><type>hvm</type></os>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>
    </hostdev>
  </devices>
</domain>
XML

# ---- no watch where libvirt is not asked: a sysroot without --connect
if start_daemon "$HOSTDEVD" --sysroot "$F" -v; then
        ! grep -q "following libvirt's domain events" "$TMP/daemon.log" \
                && ok "a sysroot without --connect: libvirt's events are not followed" \
                || fail "a sysroot without --connect: libvirt's events are not followed" "$(cat "$TMP/daemon.log")"
        stop_clean "no watch"
else
        fail "hostdevd on the full fixture takes its name" "$(cat "$TMP/daemon.log")"
fi

# ---- --connect test:///default, a guest started and stopped inside the daemon
mkfifo "$TMP/lv.fifo"
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
if start_daemon env LD_PRELOAD="$HOSTDEV_LIBVIRT_DRIVER" HOSTDEV_TEST_LIBVIRT_FIFO="$TMP/lv.fifo" \
                "$HOSTDEVD" --sysroot "$F" --connect test:///default -v; then
        grep -q "following libvirt's domain events (test:///default)" "$TMP/daemon.log" \
                && ok "--connect test:///default: libvirt's domain events followed" \
                || fail "--connect test:///default: libvirt's domain events followed" "$(cat "$TMP/daemon.log")"
        [ "$(inuse $GPU)" = "" ] && ok "InUse of 01:00.0 before the guest: \"\"" \
                || fail "InUse of 01:00.0 before the guest: \"\"" "$(inuse $GPU)"
        dbus-monitor --address "$A" "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'" \
                > "$TMP/monitor" 2>&1 &
        MPID=$!
        PIDS+=("$MPID")
        sleep 0.5
        lv define "$TMP/watch-vm.xml" && ok "watch-vm defined (inside hostdevd)" \
                || fail "watch-vm defined (inside hostdevd)" "$(cat "$TMP/lv.fifo.out" 2>&1)"
        lv start watch-vm && ok "watch-vm started" || fail "watch-vm started" "$(cat "$TMP/lv.fifo.out" 2>&1)"
        if wait_inuse $GPU "*watch-vm*"; then
                ok "started: InUse of 01:00.0 names watch-vm ('$(inuse $GPU)')"
        else
                fail "started: InUse of 01:00.0 names watch-vm" "'$(inuse $GPU)'; $(tail -5 "$TMP/daemon.log" | tr '\n' ' ')"
        fi
        sleep 0.3
        grep -A8 "path=$GPU_PATH;" "$TMP/monitor" | grep -q "string \"InUse\"" \
                && ok "started: PropertiesChanged(InUse) of 01:00.0 announced" \
                || fail "started: PropertiesChanged(InUse) of 01:00.0 announced" "$(grep -c PropertiesChanged "$TMP/monitor") signals"
        [ "$(inuse computer)" = "" ] && ok "InUse of a device the guest does not hold: \"\"" \
                || fail "InUse of a device the guest does not hold: \"\"" "$(inuse computer)"
        lv destroy watch-vm && ok "watch-vm stopped" || fail "watch-vm stopped" "$(cat "$TMP/lv.fifo.out" 2>&1)"
        if wait_inuse $GPU ""; then
                ok "stopped: InUse of 01:00.0 \"\" again"
        else
                fail "stopped: InUse of 01:00.0 \"\" again" "'$(inuse $GPU)'"
        fi
        sleep 0.3
        [ "$(grep -A8 "path=$GPU_PATH;" "$TMP/monitor" | grep -c "string \"InUse\"")" = 2 ] \
                && ok "stopped: PropertiesChanged(InUse) of 01:00.0 announced" \
                || fail "stopped: PropertiesChanged(InUse) of 01:00.0 announced" "$(grep -c PropertiesChanged "$TMP/monitor") signals"
        kill "$MPID" 2>/dev/null
        grep -q "tree rebuilt" "$TMP/daemon.log" && fail "no rebuild behind it" "$(grep "tree rebuilt" "$TMP/daemon.log")" \
                || ok "no rebuild behind it"
        ! grep -q "in the definition of domain" "$TMP/daemon.log" \
                && ok "no warning about a stopped domain's devices at each refresh" \
                || fail "no warning about a stopped domain's devices at each refresh" "$(grep "in the definition" "$TMP/daemon.log")"
        lv undefine watch-vm || true
        stop_clean "domain events"
else
        fail "hostdevd --connect test:///default takes its name" "$(cat "$TMP/daemon.log")"
fi

finish
