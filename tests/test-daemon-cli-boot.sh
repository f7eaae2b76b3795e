#!/usr/bin/env bash
# hostdevctl's override verbs through hostdevd (tools/bus.c's reply
# routes: SetOverride, RemoveOverride): with a daemon that serves boot
# root A and its state directory, `override set|unset` runs in the
# daemon and prints what --direct prints on twin root B (stdout, stderr,
# exit status; a failed initramfs regeneration's "ran:" lines too, of
# boot apply and of boot undo); the
# daemon ran each call and none with --direct; the roots' etc/ and boot/
# end the same.  A --root other than the daemon's
# tree runs directly; an unprivileged caller gets polkit's refusal and
# changes nothing.  Fake roots only.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${HOSTDEVCTL_FAKE:=$SRCDIR/build/tests/hostdevctl-fake}"
: "${HOSTDEVD_FAKE:=$SRCDIR/build/tests/hostdevd-fake}"

for t in dbus-daemon busctl; do
        command -v $t >/dev/null || skip_all "no $t (Debian: apt install dbus-daemon dbus-bin systemd)"
done
[ -x "$HOSTDEVD_FAKE" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"

. "$(dirname "$0")/daemon-bus.sh"

build_fixtures boot
TA=$TMP/ta TB=$TMP/tb SA=$TMP/sta SB=$TMP/stb
for r in "$TA" "$TB"; do cp -a "$TMP/fx/boot" "$r"; cp -a "$SRCDIR/tests/data/boot-roots/debian/." "$r/"; done
cp "$HOSTDEVCTL_FAKE" "$TMP/hostdevctl-fake"
chmod 755 "$TMP/hostdevctl-fake"

if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi
export DBUS_SYSTEM_BUS_ADDRESS=$A
if ! start_daemon "$HOSTDEVD_FAKE" --sysroot "$TA" --state-dir "$SA" -v -v; then
        fail "hostdevd-fake starts on boot root A" "$(cat "$TMP/daemon.log")"
        finish
        exit
fi
ok "hostdevd-fake serves boot root A on the private system bus"

rebuilds() {
        busctl --address="$A" get-property "$DEST" "$OBJ" "$IFACE" Version > /dev/null 2>&1
        grep -c "tree rebuilt" "$TMP/daemon.log"
}
norm() { sed -e "s,$TA,ROOT,g; s,$TB,ROOT,g; s,$SA,STATE,g; s,$SB,STATE,g" "$1"; }
viad() { "$HOSTDEVCTL_FAKE" --sysroot "$TA" --state-dir "$SA" "$@"; }
direct() { "$HOSTDEVCTL_FAKE" --direct --sysroot "$TB" --state-dir "$SB" "$@"; }
snapshot() {
        (cd "$1" && find etc boot -printf '%y %m %p\n' 2>/dev/null | sort &&
         find etc boot -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum)
}
twins() {
        snapshot "$TA" > "$TMP/snap.a"; snapshot "$TB" > "$TMP/snap.b"
        same "$1" "$TMP/snap.a" "$TMP/snap.b"
}

# twin ARGS...: through the daemon on A (-v says it went there; the
# daemon logged a rebuild or answered) and --direct on B: the same
# stdout, stderr and exit status
twin() {
        local n0 n1 rca rcb why=
        n0=$(rebuilds)
        viad "$@" > "$TMP/a.out" 2> "$TMP/a.err"; rca=$?
        n1=$(rebuilds)
        if [ "$n1" = "$n0" ] && [ "$rca" != 0 ] && viad -v "$@" 2>&1 >/dev/null | grep -q ": through hostdevd ("; then
                n1=$(rebuilds)
                n0=$((n1 - 1))
        fi
        direct "$@" > "$TMP/b.out" 2> "$TMP/b.err"; rcb=$?
        [ "$rca" = "$rcb" ] || why="exit $rca through the daemon, $rcb direct;"
        [ "$(norm "$TMP/a.out")" = "$(norm "$TMP/b.out")" ] || why="$why stdout: $(diff "$TMP/a.out" "$TMP/b.out" | head -4 | tr '\n' ' ');"
        [ "$(norm "$TMP/a.err")" = "$(norm "$TMP/b.err")" ] || why="$why stderr: $(diff "$TMP/a.err" "$TMP/b.err" | head -4 | tr '\n' ' ');"
        [ "$n1" -gt "$n0" ] || why="$why the daemon did not run it;"
        [ "$(rebuilds)" = "$n1" ] || why="$why the daemon ran the --direct one;"
        if [ -z "$why" ]; then ok "$* (exit $rca): the same through hostdevd and --direct"
        else fail "$*: the same through hostdevd and --direct" "$why"; fi
}

# twinv ARGS...: twin for a method that does not rebuild the daemon's
# tree (BootUndo): -v says it went through hostdevd (that line is left
# out of the comparison; -v adds nothing else here)
twinv() {
        local rca rcb why=
        viad -v "$@" > "$TMP/a.out" 2> "$TMP/a.verr"; rca=$?
        grep -v ": through hostdevd (" "$TMP/a.verr" > "$TMP/a.err"
        direct "$@" > "$TMP/b.out" 2> "$TMP/b.err"; rcb=$?
        [ "$rca" = "$rcb" ] || why="exit $rca through the daemon, $rcb direct;"
        [ "$(norm "$TMP/a.out")" = "$(norm "$TMP/b.out")" ] || why="$why stdout: $(diff "$TMP/a.out" "$TMP/b.out" | head -4 | tr '\n' ' ');"
        [ "$(norm "$TMP/a.err")" = "$(norm "$TMP/b.err")" ] || why="$why stderr: $(diff "$TMP/a.err" "$TMP/b.err" | head -4 | tr '\n' ' ');"
        grep -q "^hostdevctl: ${1} ${2}: through hostdevd (" "$TMP/a.verr" || why="$why the daemon did not run it: $(head -2 "$TMP/a.verr" | tr '\n' ' ');"
        if [ -z "$why" ]; then ok "$* (exit $rca): the same through hostdevd and --direct"
        else fail "$*: the same through hostdevd and --direct" "$why"; fi
}

# both ARGS...: a read, or an error found before any call (the device
# lookup, here as --direct does it): the same output both ways
both() {
        local rca rcb why=
        viad "$@" > "$TMP/a.out" 2> "$TMP/a.err"; rca=$?
        direct "$@" > "$TMP/b.out" 2> "$TMP/b.err"; rcb=$?
        [ "$rca" = "$rcb" ] || why="exit $rca through the daemon, $rcb direct;"
        [ "$(norm "$TMP/a.out")" = "$(norm "$TMP/b.out")" ] || why="$why stdout: $(diff "$TMP/a.out" "$TMP/b.out" | head -4 | tr '\n' ' ');"
        [ "$(norm "$TMP/a.err")" = "$(norm "$TMP/b.err")" ] || why="$why stderr: $(diff "$TMP/a.err" "$TMP/b.err" | head -4 | tr '\n' ' ');"
        if [ -z "$why" ]; then ok "$* (exit $rca): the same on both roots"
        else fail "$*: the same on both roots" "$why"; fi
}

# -v: which way it went
viad -v override set 02:00.0 vfio --dry-run 2>&1 >/dev/null | grep -q "override set: through hostdevd (org.hostdev.Hostdev1.Manager.SetOverride)" \
        && ok "-v: override set goes through SetOverride" || fail "-v: override set goes through SetOverride"
viad -v override unset 02:00.0 --dry-run 2>&1 >/dev/null | grep -q "override unset: through hostdevd (org.hostdev.Hostdev1.Manager.RemoveOverride)" \
        && ok "-v: override unset goes through RemoveOverride" || fail "-v: override unset goes through RemoveOverride"

# --- override set: would be set, set, already set; by node-device name; errors
twin override set 02:00.0 vfio --dry-run
twins "a dry run changes neither root"
twin override set 02:00.0 vfio
[ -e "$TA/etc/driverctl.d/pci-0000:02:00.0" ] && ok "through the daemon: root A has the driverctl file" \
        || fail "through the daemon: root A has the driverctl file"
twin override set 02:00.0 vfio
grep -q "^pci_0000_02_00_0: vfio-pci already set at boot and hotplug" "$TMP/a.out" \
        && ok "the second override set says 'already set' (SetOverride's changed false)" \
        || fail "the second override set says 'already set'" "$(cat "$TMP/a.out")"
twin override set pci_0000_02_00_0 vfio-pci
twin override set 00:1f.2 stub
both override list
both override list --json
twins "after override set: the roots are the same"
both override set 0a:00.0 vfio
both override set 00:1g.0 vfio
twin override set scsi_host0 vfio
twin override set 00:1f.2 'no/such'
# --- override unset: would be removed, removed, none left (an error)
twin override unset 02:00.0 --dry-run
twin override unset 02:00.0
twin override unset 02:00.0
twin override unset pci_0000_00_1f_2
twins "after override unset: the roots are the same"

# --- boot apply: the plan (dry run), the files and the commands to run
# (--no-regenerate: a fake root has no initramfs tools), nothing to change
viad -v boot apply 01:00.0 --dry-run 2>&1 >/dev/null | grep -q "boot apply: through hostdevd (org.hostdev.Hostdev1.Manager.BootApply)" \
        && ok "-v: boot apply goes through BootApply" || fail "-v: boot apply goes through BootApply"
twin boot apply 01:00.0 --dry-run
twin boot apply 01:00.0 --dry-run --json
twin boot apply 01:00.0 --dry-run --driver stub
twins "boot apply --dry-run changes neither root"
both boot apply nosuch --no-regenerate
twin boot apply 01:00.0 --no-regenerate
grep -q "^changed [0-9]* files; the journal is in ROOT/var/lib/hostdev/boot" "$TMP/a.out" && grep -q "^run: chroot " "$TMP/a.out" \
        && ok "through the daemon: boot apply names the files changed and the commands to run" \
        || fail "through the daemon: boot apply names the files and commands" "$(cat "$TMP/a.out")"
twins "after boot apply: the roots are the same"
twin boot apply 01:00.0 --no-regenerate
both boot status
# --- boot undo: the journal's commands, the files restored, nothing left
viad -v boot undo --dry-run 2>&1 >/dev/null | grep -q "boot undo: through hostdevd (org.hostdev.Hostdev1.Manager.BootUndo)" \
        && ok "-v: boot undo goes through BootUndo" || fail "-v: boot undo goes through BootUndo"
twinv boot undo --dry-run
twinv boot undo --dry-run --no-regenerate
twins "boot undo --dry-run changes neither root"
twinv boot undo --no-regenerate
grep -q "^restored [0-9]* files to $TA pre-apply state" "$TMP/a.out" && grep -q "^run: chroot " "$TMP/a.out" \
        && ok "through the daemon: boot undo names the files restored and the journal's commands" \
        || fail "through the daemon: boot undo names the files restored and the commands" "$(cat "$TMP/a.out")"
twins "after boot undo: the roots are the same"
twinv boot undo --no-regenerate

# --- a regeneration command that fails (a fake root has no shell to run
# it in): the files are written; the "ran:" lines, the files changed and
# the failure, as --direct prints them (BootApply's error carries them)
twin boot apply 01:00.0
grep -q "^ran: .* (exit status [1-9][0-9]*)$" "$TMP/a.out" && grep -q "^changed [0-9]* files; the journal is in ROOT/var/lib/hostdev/boot" "$TMP/a.out" \
        && grep -q "^hostdevctl: '.*' failed with exit status [1-9][0-9]*; the files are written, 'hostdevctl boot undo' puts them back$" "$TMP/a.err" \
        && ok "through the daemon: a failed regeneration prints the ran: lines, the files and the failure" \
        || fail "through the daemon: a failed regeneration prints the ran: lines" "$(cat "$TMP/a.out" "$TMP/a.err")"
twins "after a failed regeneration: the roots are the same"
twinv boot undo --no-regenerate
twins "after its undo: the roots are the same"

# --- boot undo whose regeneration command fails (the journal's commands,
# no shell to run them in a fake root): the files are restored; the
# "ran:" lines, the files restored and the failure, as --direct prints
# them (BootUndo's error carries them)
twin boot apply 01:00.0 --no-regenerate
twinv boot undo
grep -q "^ran: .* (exit status [1-9][0-9]*)$" "$TMP/a.out" && grep -q "^restored [0-9]* files\? to .* pre-apply state$" "$TMP/a.out" \
        && grep -q "^hostdevctl: '.*' failed with exit status [1-9][0-9]*; the files are restored$" "$TMP/a.err" \
        && ok "through the daemon: a failed undo regeneration prints the ran: lines, the files restored and the failure" \
        || fail "through the daemon: a failed undo regeneration prints the ran: lines" "$(cat "$TMP/a.out" "$TMP/a.err")"
twins "after an undo whose regeneration failed: the roots are the same"
twinv boot undo --no-regenerate

# --- a --root the daemon does not serve runs here
cp -a "$TB" "$TMP/tc"
out=$(viad -v override set 02:00.0 vfio --root "$TMP/tc" 2>&1 >/dev/null)
[ "${out#*run directly: hostdevd\'s SetOverride does not take --root}" != "$out" ] && [ -e "$TMP/tc/etc/driverctl.d/pci-0000:02:00.0" ] \
        && [ ! -e "$TA/etc/driverctl.d/pci-0000:02:00.0" ] && ok "override set --root OTHER runs directly, on OTHER" \
        || fail "override set --root OTHER runs directly, on OTHER" "$out"
out=$(viad -v override set 02:00.0 vfio --dry-run --root "$TA" 2>&1 >/dev/null)
[ "${out#*through hostdevd}" != "$out" ] && ok "override set --root of the daemon's own tree goes through it" \
        || fail "override set --root of the daemon's own tree goes through it" "$out"

# --- an unprivileged caller: polkit's refusal, nothing changed
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
        chmod 755 "$TMP" 2>/dev/null
        snapshot "$TA" > "$TMP/before"
        out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/hostdevctl-fake" --sysroot "$TA" --state-dir "$SA" \
              override set 02:00.0 vfio 2>&1); rc=$?
        snapshot "$TA" > "$TMP/after"
        [ $rc = 1 ] && [ "${out#*not authorized: hostdevd asked polkit for the action org.hostdev.override}" != "$out" ] \
                && cmp -s "$TMP/before" "$TMP/after" && ok "uid 65534: override set refused by polkit, nothing changed" \
                || fail "uid 65534: override set refused by polkit, nothing changed" "rc=$rc $out"
        out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/hostdevctl-fake" --sysroot "$TA" --state-dir "$SA" \
              boot apply 01:00.0 --no-regenerate 2>&1); rc=$?
        snapshot "$TA" > "$TMP/after"
        [ $rc = 1 ] && [ "${out#*not authorized: hostdevd asked polkit for the action org.hostdev.boot}" != "$out" ] \
                && cmp -s "$TMP/before" "$TMP/after" && ok "uid 65534: boot apply refused by polkit, nothing changed" \
                || fail "uid 65534: boot apply refused by polkit, nothing changed" "rc=$rc $out"
else
        skip "uid 65534 through the daemon" "needs root and setpriv"
fi

finish
