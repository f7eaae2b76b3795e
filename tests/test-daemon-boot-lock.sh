#!/usr/bin/env bash
# The override and boot writes take the state lock the other writes take
# (hd_boot_lock(): ROOT/var/lib/hostdev/lock for a root, else the state
# directory's lock, as vfio/ takes it), in the library: hostdevd's
# SetOverride, RemoveOverride, BootApply and BootUndo answer Busy after
# the daemon's --lock-timeout while another run holds it, in the library's
# words, and change nothing; `hostdevctl --direct` waits for it; dry runs
# and reads take no lock.  The CLI's boot and override writes on the same
# tree take the same lock and journal whatever its --state-dir (and through
# the daemon the daemon's Busy is the CLI's error).  Fake roots only
# (--sysroot).
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${HOSTDEVD:=$SRCDIR/build/daemon/hostdevd}"
for t in dbus-daemon dbus-send busctl flock; do
        command -v $t >/dev/null || skip_all "no $t"
done
[ -x "$HOSTDEVD" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"

. "$(dirname "$0")/daemon-bus.sh"

if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi
build_fixtures boot
R=$TMP/root
cp -a "$TMP/fx/boot" "$R"
cp -a "$SRCDIR/tests/data/boot-roots/debian/." "$R/"
L=$R/var/lib/hostdev/lock
snapshot() {
        (cd "$1" && find etc boot -printf '%y %m %p\n' 2>/dev/null | sort &&
         find etc boot -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum)
}
HOLDER=
hold() {        # SECONDS: another run holds the lock
        mkdir -p "${L%/*}"
        # one process holds it (flock CMD's child would keep it past a kill)
        ( exec 9> "$L" && flock 9 && exec sleep "$1" ) &
        HOLDER=$!
        PIDS+=("$HOLDER")
        for _ in $(seq 50); do flock -n "$L" true || return 0; sleep 0.05; done
}
release() { kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; }
# busy NAME VERB METHOD ARGS...: Busy, the library's words, nothing changed
busy() {
        local name=$1 verb=$2; shift 2
        snapshot "$R" > "$TMP/before"
        local got; got=$(err "$@")
        snapshot "$R" > "$TMP/after"
        local want="org.hostdev.Hostdev1.Error.Busy: $verb: the state directory $R/var/lib/hostdev is locked by another hostdev operation"
        [ "${got#"$want"}" != "$got" ] && [ "${got%"for 1.0 s; nothing changed"}" != "$got" ] && cmp -s "$TMP/before" "$TMP/after" \
                && ok "$name" || fail "$name" "got '$got'"
}

if ! start_daemon "$HOSTDEVD" --sysroot "$R" --state-dir "$TMP/state" --lock-timeout 1; then
        fail "hostdevd on a boot root takes its name" "$(cat "$TMP/daemon.log")"
        finish
        exit
fi

hold 30
busy "SetOverride while the lock is held: Busy after --lock-timeout 1, nothing written" "override set" \
        SetOverride string:02:00.0 string:vfio uint64:0
out=$(busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" SetOverride sst 02:00.0 vfio 2 2>&1) \
        && ok "SetOverride dry run: no lock taken" || fail "SetOverride dry run: no lock taken" "$out"
busy "BootApply while the lock is held: Busy, nothing written" "boot apply" \
        BootApply string: uint64:8 array:string:01:00.0
release
busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" SetOverride sst 02:00.0 vfio 0 > /dev/null 2>&1 \
        && [ -e "$R/etc/driverctl.d/pci-0000:02:00.0" ] && ok "SetOverride once the lock is free: written" \
        || fail "SetOverride once the lock is free: written"
hold 30
busy "RemoveOverride while the lock is held: Busy, nothing removed" "override unset" \
        RemoveOverride string:02:00.0 uint64:0
release
busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" BootApply stas "" 8 1 01:00.0 > /dev/null 2>&1 \
        && ok "BootApply once the lock is free" || fail "BootApply once the lock is free"
hold 30
busy "BootUndo while the lock is held: Busy, nothing restored" "boot undo" BootUndo uint64:8
out=$(busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" BootUndo t 10 2>&1) \
        && ok "BootUndo dry run: no lock taken" || fail "BootUndo dry run: no lock taken" "$out"
release

# hostdevctl --direct: the same lock, waited for (no timeout of its own)
hold 2
t0=$(date +%s%N)
"$HOSTDEVCTL" --direct --sysroot "$R" boot undo --no-regenerate > "$TMP/cli.out" 2>&1; rc=$?
t1=$(date +%s%N)
[ $rc = 0 ] && [ $(( (t1 - t0) / 1000000 )) -ge 1000 ] && call BootStatus | grep -q '"configured":false' \
        && ok "hostdevctl --direct boot undo waits for the lock, then restores" \
        || fail "hostdevctl --direct boot undo waits for the lock" "rc=$rc $(( (t1 - t0) / 1000000 )) ms $(cat "$TMP/cli.out")"
release
hold 2
t0=$(date +%s%N)
"$HOSTDEVCTL" --direct --sysroot "$R" override unset 02:00.0 > "$TMP/cli.out" 2>&1; rc=$?
t1=$(date +%s%N)
[ $rc = 0 ] && [ $(( (t1 - t0) / 1000000 )) -ge 1000 ] && [ ! -e "$R/etc/driverctl.d/pci-0000:02:00.0" ] \
        && ok "hostdevctl --direct override unset waits for the lock" \
        || fail "hostdevctl --direct override unset waits for the lock" "rc=$rc $(( (t1 - t0) / 1000000 )) ms $(cat "$TMP/cli.out")"
release
# one lock and one journal for a tree whatever the --state-dir: the CLI's
# boot and override writes on --sysroot R take R/var/lib/hostdev/lock and
# journal in R/var/lib/hostdev/boot as the daemon's (started with
# --state-dir $TMP/state) do, with the daemon's state directory or another
for st in "$TMP/state" "$TMP/other"; do
        hold 2
        t0=$(date +%s%N)
        "$HOSTDEVCTL" --direct --sysroot "$R" --state-dir "$st" override set 02:00.0 vfio > "$TMP/cli.out" 2>&1; rc=$?
        t1=$(date +%s%N)
        [ $rc = 0 ] && [ $(( (t1 - t0) / 1000000 )) -ge 1000 ] && [ -e "$R/etc/driverctl.d/pci-0000:02:00.0" ] \
                && ok "hostdevctl --direct --state-dir ${st##*/} override set waits for the daemon's lock" \
                || fail "hostdevctl --direct --state-dir ${st##*/} override set waits for the daemon's lock" \
                        "rc=$rc $(( (t1 - t0) / 1000000 )) ms $(cat "$TMP/cli.out")"
        release
        hold 2
        t0=$(date +%s%N)
        "$HOSTDEVCTL" --direct --sysroot "$R" --state-dir "$st" override unset 02:00.0 > "$TMP/cli.out" 2>&1; rc=$?
        t1=$(date +%s%N)
        [ $rc = 0 ] && [ $(( (t1 - t0) / 1000000 )) -ge 1000 ] && [ ! -e "$R/etc/driverctl.d/pci-0000:02:00.0" ] \
                && ok "hostdevctl --direct --state-dir ${st##*/} override unset waits for the daemon's lock" \
                || fail "hostdevctl --direct --state-dir ${st##*/} override unset waits for the daemon's lock" \
                        "rc=$rc $(( (t1 - t0) / 1000000 )) ms $(cat "$TMP/cli.out")"
        release
done
# the CLI with the daemon's tree and state directory goes through it: the
# daemon's Busy in the CLI's words, exit status 1, nothing written
hold 30
DBUS_SYSTEM_BUS_ADDRESS=$A "$HOSTDEVCTL" -v --sysroot "$R" --state-dir "$TMP/state" override set 02:00.0 vfio > "$TMP/cli.out" 2>&1; rc=$?
out=$(cat "$TMP/cli.out")
[ $rc = 1 ] && [ "${out#*override set: through hostdevd (org.hostdev.Hostdev1.Manager.SetOverride)}" != "$out" ] \
        && [ "${out#*override set: the state directory $R/var/lib/hostdev is locked by another hostdev operation}" != "$out" ] \
        && [ ! -e "$R/etc/driverctl.d/pci-0000:02:00.0" ] \
        && ok "hostdevctl through the daemon while the lock is held: Busy, exit 1, nothing written" \
        || fail "hostdevctl through the daemon while the lock is held: Busy, exit 1" "rc=$rc $out"
release
# one journal: a --direct boot apply with another state directory is what
# the daemon's BootStatus reads and its BootUndo restores
"$HOSTDEVCTL" --direct --sysroot "$R" --state-dir "$TMP/other" boot apply 01:00.0 --no-regenerate > "$TMP/cli.out" 2>&1; rc=$?
[ $rc = 0 ] && [ -e "$R/var/lib/hostdev/boot/journal.json" ] && [ ! -e "$TMP/other/boot" ] && call BootStatus | grep -q '"configured":true' \
        && ok "hostdevctl --direct --state-dir another boot apply: the journal in the tree, the daemon's BootStatus reads it" \
        || fail "hostdevctl --direct --state-dir another boot apply: the journal in the tree" "rc=$rc $(cat "$TMP/cli.out")"
DBUS_SYSTEM_BUS_ADDRESS=$A "$HOSTDEVCTL" -v --sysroot "$R" --state-dir "$TMP/state" boot undo --no-regenerate > "$TMP/cli.out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "boot undo: through hostdevd (org.hostdev.Hostdev1.Manager.BootUndo)" "$TMP/cli.out" \
        && call BootStatus | grep -q '"configured":false' && [ ! -e "$R/var/lib/hostdev/boot/journal.json" ] \
        && ok "its boot undo through the daemon restores from that journal" \
        || fail "its boot undo through the daemon restores from that journal" "rc=$rc $(cat "$TMP/cli.out")"
alive && ok "the daemon serves on" || fail "the daemon serves on"
stop_daemon
finish
