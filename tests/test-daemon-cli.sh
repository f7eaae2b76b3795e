#!/usr/bin/env bash
# hostdevctl through hostdevd (tools/bus.c): with a daemon that serves the
# same tree and state directory on the system bus ($DBUS_SYSTEM_BUS_ADDRESS,
# a private bus here), the host-changing verbs run in the daemon and print
# what --direct prints: the CLI through hostdevd-fake on tree A and
# hostdevctl-fake --direct on its twin B give the same stdout, stderr and
# exit status, and the trees end the same.  The daemon ran each call (its
# tree was rebuilt: its log at -v -v) and none with --direct.  An
# unprivileged caller gets polkit's refusal in clear words and changes
# nothing; without a daemon the CLI runs directly; the daemon and a direct
# CLI wait for each other on the one lock and share the one journal.
set -u
# definitions and persisted state live in each tree (SYSROOT/etc)
unset HOSTDEV_MDEVCTL_DIR HOSTDEV_CONFIG_DIR
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${HOSTDEVCTL_FAKE:=$SRCDIR/build/tests/hostdevctl-fake}"
: "${HOSTDEVD_FAKE:=$SRCDIR/build/tests/hostdevd-fake}"

for t in dbus-daemon busctl flock; do
        command -v $t >/dev/null || skip_all "no $t (Debian: apt install dbus-daemon dbus-bin systemd util-linux)"
done
[ -x "$HOSTDEVD_FAKE" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"

. "$(dirname "$0")/daemon-bus.sh"

# --- the option, documented
"$HOSTDEVCTL_FAKE" --help | grep -q -- '--direct ' && ok "--help names --direct" || fail "--help names --direct"
grep -q -- '\\-\\-direct' "$SRCDIR/docs/hostdevctl.1" && ok "docs/hostdevctl.1 names --direct" \
        || fail "docs/hostdevctl.1 names --direct"
out=$("$HOSTDEVCTL_FAKE" nodedev-detach 01:00.0 --direct 2>&1); rc=$?
[ $rc = 64 ] && [ "${out#*--direct is a global option}" != "$out" ] && ok "--direct after the verb: a usage error that says where it goes" \
        || fail "--direct after the verb: a usage error" "rc=$rc $out"

build_fixtures full
TA=$TMP/ta TB=$TMP/tb SA=$TMP/sta SB=$TMP/stb
cp -a "$TMP/fx/full" "$TA"
cp -a "$TMP/fx/full" "$TB"
# the root filesystem on 00:17.0's disk: detaching it is refused
for t in "$TA" "$TB"; do
        mkdir -p "$t/proc/self"
        echo "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw" > "$t/proc/self/mountinfo"
done
# an unprivileged caller runs a copy it can reach
cp "$HOSTDEVCTL_FAKE" "$TMP/hostdevctl-fake"
chmod 755 "$TMP/hostdevctl-fake"

if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi
export DBUS_SYSTEM_BUS_ADDRESS=$A
if ! start_daemon "$HOSTDEVD_FAKE" --sysroot "$TA" --state-dir "$SA" -v -v; then
        fail "hostdevd-fake starts on tree A" "$(cat "$TMP/daemon.log")"
        finish
        exit
fi
ok "hostdevd-fake serves tree A on the private system bus"

got=$(busctl --address="$A" get-property "$DEST" "$OBJ" "$IFACE" Sysroot StateDir | tr '\n' ' ')
[ "$got" = "s \"$(realpath "$TA")\" s \"$SA\" " ] && ok "the daemon's Sysroot and StateDir properties" \
        || fail "the daemon's Sysroot and StateDir properties" "$got"

# the daemon's rebuilds so far; a call first lets it finish what it does
# after a reply (the rebuild after a change): it answers in turn
rebuilds() {
        busctl --address="$A" get-property "$DEST" "$OBJ" "$IFACE" Version > /dev/null 2>&1
        grep -c "tree rebuilt" "$TMP/daemon.log"
}
norm() { sed -e "s,$TA,ROOT,g; s,$TB,ROOT,g; s,$SA,STATE,g; s,$SB,STATE,g" "$1"; }
viad() { "$HOSTDEVCTL_FAKE" --sysroot "$TA" --state-dir "$SA" "$@"; }
direct() { "$HOSTDEVCTL_FAKE" --direct --sysroot "$TB" --state-dir "$SB" "$@"; }
driver() { readlink "$1/sys/bus/pci/devices/0000:$2/driver" | sed 's,.*/,,'; }

# twin ARGS...: the verb through the daemon on A (the daemon's tree was
# rebuilt for it: it ran the call; an error the daemon answers before any
# change is not followed by a rebuild: then -v says where it went) and
# with --direct on B: the same stdout, stderr and exit status.  With
# TWIN_STDIN=FILE both read FILE on stdin; with TWIN_NO_REBUILD=1 (a
# method that rebuilds nothing: MdevApply's dry run) -v says where it went.
twin() {
        local n0 n1 rca rcb why= in=${TWIN_STDIN:-/dev/null}
        n0=$(rebuilds)
        viad "$@" < "$in" > "$TMP/a.out" 2> "$TMP/a.err"; rca=$?
        n1=$(rebuilds)
        if [ "$n1" = "$n0" ] && { [ "$rca" != 0 ] || [ -n "${TWIN_NO_REBUILD:-}" ]; } &&
           viad -v "$@" < "$in" 2>&1 >/dev/null | grep -q ": through hostdevd ("; then
                n1=$(rebuilds)
                n0=$((n1 - 1))
        fi
        direct "$@" < "$in" > "$TMP/b.out" 2> "$TMP/b.err"; rcb=$?
        [ "$rca" = "$rcb" ] || why="exit $rca through the daemon, $rcb direct;"
        [ "$(norm "$TMP/a.out")" = "$(norm "$TMP/b.out")" ] || why="$why stdout: $(diff "$TMP/a.out" "$TMP/b.out" | head -4 | tr '\n' ' ');"
        [ "$(norm "$TMP/a.err")" = "$(norm "$TMP/b.err")" ] || why="$why stderr: $(diff "$TMP/a.err" "$TMP/b.err" | head -4 | tr '\n' ' ');"
        [ "$n1" -gt "$n0" ] || why="$why the daemon did not run it;"
        [ "$(rebuilds)" = "$n1" ] || why="$why the daemon ran the --direct one;"
        if [ -z "$why" ]; then ok "$* (exit $rca): the same through hostdevd and --direct"
        else fail "$*: the same through hostdevd and --direct" "$why"; fi
}

# --- detach and reattach, text and JSON, --group, --dry-run
twin nodedev-detach 01:00.0 --dry-run
twin nodedev-detach 01:00.0 --dry-run --json
twin nodedev-detach 01:00.0 --group --dry-run
twin nodedev-reattach 01:00.0 --dry-run --json
twin nodedev-detach 01:00.0
[ "$(driver "$TA" 01:00.0)" = vfio-pci ] && ok "through the daemon 01:00.0 is on vfio-pci" \
        || fail "through the daemon 01:00.0 is on vfio-pci" "$(driver "$TA" 01:00.0)"
twin nodedev-detach 01:00.0 --json
twin nodedev-reattach 01:00.0
twin nodedev-detach 01:00.0 --group --json
twin nodedev-reattach 01:00.0 --group --json
twin nodedev-detach 01:00.0 --driver stub --dry-run --json
# a refusal (exit 2): its reason on stderr, its steps
twin nodedev-detach 00:17.0
twin nodedev-detach 00:17.0 --json
[ "$(driver "$TA" 00:17.0)" = ahci ] && ok "the refused detach changed nothing" || fail "the refused detach changed nothing"
# errors: an unknown device, a device that is no PCI function
twin nodedev-detach nosuch
twin nodedev-reattach 00:1g.0
twin nodedev-detach 00:1c.0 --dry-run
# several devices: one transaction (DetachDevices, ReattachDevices)
twin nodedev-detach 01:00.0 01:00.1 --dry-run --json
twin nodedev-detach 01:00.0 01:00.1
[ "$(driver "$TA" 01:00.0) $(driver "$TA" 01:00.1)" = "vfio-pci vfio-pci" ] && ok "through the daemon both functions are on vfio-pci" \
        || fail "through the daemon both functions are on vfio-pci" "$(driver "$TA" 01:00.0) $(driver "$TA" 01:00.1)"
twin nodedev-reattach 01:00.0 01:00.1 --json
twin nodedev-detach 01:00.0 01:00.1 --driver stub --json
twin nodedev-reattach 01:00.1 01:00.0
twin nodedev-detach 01:00.0 nosuch
twin nodedev-detach 02:00.0 00:17.0
twin nodedev-reattach 00:1g.0 01:00.0

# --- reset: done, refused, failed, no PCI device, unknown
twin nodedev-reset 01:00.0
twin nodedev-reset 00:17.0
twin nodedev-reset 00:17.0 --force
twin nodedev-reset 00:1c.0
twin nodedev-reset enp2s0
twin nodedev-reset nosuch

# --- SR-IOV: the count
twin sriov set 02:00.0 --numvfs 4 --dry-run --force
twin sriov set 02:00.0 --numvfs 0 --dry-run
twin sriov set 02:00.0 --numvfs 8 --dry-run
twin sriov set 02:00.0 --numvfs 4 --force --json
twin sriov set 02:00.0 --numvfs 4 --json
twin sriov set 01:00.0 --numvfs 2
twin sriov set nosuch --numvfs 2

# --- mdevs: create (a fixed UUID), remove, errors
U=11111111-2222-4333-8444-555555555555
twin mdev create 0000:00:02.0 i915-GVTg_V5_8 --uuid "$U"
[ -e "$TA/sys/bus/mdev/devices/$U" ] && ok "mdev create through the daemon created $U" \
        || fail "mdev create through the daemon created $U"
twin mdev create 0000:00:02.0 i915-GVTg_V5_8 --uuid "$U"
twin mdev create 0000:00:02.0 nope --uuid "$U"
twin mdev remove "$U"
twin mdev remove "$U"
# with --attr: MdevCreateWithAttrs (its dry run: the -v check below)
twin mdev create 0000:00:02.0 i915-GVTg_V5_8 --uuid "$U" --attr a=b
twin mdev remove "$U"

# --- SR-IOV: --driver, --autoprobe (SriovSet), --persist (SriovSet, then
# SriovPersist)
twin sriov set 02:00.0 --numvfs 2 --driver vfio --dry-run --json
twin sriov set 02:00.0 --numvfs 2 --driver stub --autoprobe off --force
twin sriov set 02:00.0 --numvfs 3 --driver host --force --json
twin sriov set 02:00.0 --numvfs 2 --autoprobe on --force
twin sriov set 02:00.0 --numvfs 2 --driver vfio --force --persist
[ -f "$TA/etc/hostdev/sriov/0000:02:00.0.json" ] && ok "sriov set --persist through the daemon recorded the PF's state" \
        || fail "sriov set --persist through the daemon recorded the PF's state" "$(cat "$TMP/a.out" "$TMP/a.err")"
twin sriov set 02:00.0 --numvfs 1 --persist --dry-run
twin sriov set 02:00.0 --numvfs 9 --persist --force
twin sriov set 01:00.0 --numvfs 1 --persist
# --- sriov vf: a sysroot plans (dry run); --persist plans, then records
# (SriovSetVf, then SriovPersistVf)
VFARGS="--mac 02:11:22:33:44:55 --vlan 10 --qos 3 --trust on --spoofchk off"
twin sriov vf 02:00.0 1 $VFARGS --dry-run
twin sriov vf 02:00.0 1 $VFARGS --dry-run --json
twin sriov vf 02:00.0 1 --trust on
twin sriov vf 02:00.0 1 $VFARGS --persist
twin sriov vf 02:00.0 0 --spoofchk on --persist --dry-run
twin sriov vf 02:00.0 1 --vlan 7 --persist --json
twin sriov vf 02:00.0 7 --trust on --persist
twin sriov vf 02:00.0 40 --trust on --dry-run
twin sriov vf nosuch 1 --trust on

# --- mdev definitions: define (options, --jsonfile FILE and -), autostart,
# start, stop (MdevRemove, in its own name), modify, undefine
D1=22222222-3333-4444-8555-666666666666 D2=33333333-4444-4555-8666-777777777777
D3=44444444-5555-4666-8777-888888888888
twin mdev define "$D1" --parent mtty --type mtty-2 --attr a=1 --attr b=2 --auto
printf '{"mdev_type": "mtty-1", "start": "manual", "attrs": [{"x": "y"}]}\n' > "$TMP/def.json"
twin mdev define "$D2" --parent mtty --jsonfile "$TMP/def.json"
twin mdev define "$D2" --parent mtty --type mtty-1
printf '{"mdev_type": 5}\n' > "$TMP/bad.json"
twin mdev define "$D3" --parent mtty --jsonfile "$TMP/bad.json"
TWIN_STDIN=$TMP/bad.json twin mdev define "$D3" --parent mtty --jsonfile -
twin mdev define "$D3" --parent mtty --type nope
twin mdev autostart "$D1" --disable
twin mdev autostart "$D1" --parent mtty
twin mdev start "$D2"
twin mdev start "$D2"
twin mdev stop "$D2"
twin mdev stop "$D2"
twin mdev modify "$D2" --type mtty-2 --manual --attr k=v --delattr x
twin mdev modify "$D2" --delattr nosuch
twin mdev modify "$D3" --auto
twin mdev undefine "$D2"
twin mdev undefine "$D2"
# --- the libvirt-style verbs: node-device XML (FILE and -), names
cat > "$TMP/dev.xml" <<ZZXML
<device>
  <parent>mtty_mtty</parent>
  <capability type='mdev'>
    <type id='mtty-2'/>
    <uuid>$D2</uuid>
    <attr name='p' value='q'/>
    <start type='manual'/>
  </capability>
</device>
ZZXML
N2=mdev_${D2//-/_}_mtty
twin nodedev-define "$TMP/dev.xml"
twin nodedev-autostart "$N2"
twin nodedev-start "$N2"
twin nodedev-autostart "$N2" --disable
twin nodedev-destroy "$N2"
twin nodedev-undefine "$N2"
TWIN_STDIN=$TMP/dev.xml twin nodedev-create -
twin nodedev-destroy "$N2"
echo '<device' > "$TMP/broken.xml"
twin nodedev-create "$TMP/broken.xml"
TWIN_STDIN=$TMP/broken.xml twin nodedev-define -
twin nodedev-start "$N2"
twin nodedev-destroy pci_0000_00_1f_0
twin nodedev-undefine nosuch
twin mdev undefine "$D1"

# --- apply and mdev apply (Apply, MdevApply): the persisted SR-IOV state
# (02:00.0's, persisted above) and the auto-start mdevs: dry runs, the
# changes, nothing left to change; a malformed SR-IOV record (the SR-IOV
# stage failed), an auto-start mdev of a type its parent lacks (the mdev
# stage failed: stdout's lines and stderr's sentences of both stages)
twin mdev define "$D3" --parent mtty --type mtty-1 --auto
twin sriov set 02:00.0 --numvfs 0 --force
TWIN_NO_REBUILD=1 twin mdev apply --dry-run
TWIN_NO_REBUILD=1 twin mdev apply --dry-run --json
twin apply --dry-run
twin apply --dry-run --json
twin apply
[ -e "$TA/sys/bus/mdev/devices/$D3" ] && [ -e "$TA/sys/bus/pci/devices/0000:02:10.0" ] && grep -q "started" "$TMP/a.out" \
        && ok "apply through the daemon: the VFs back, the auto-start mdev started" \
        || fail "apply through the daemon: the VFs back, the auto-start mdev started" "$(cat "$TMP/a.out" "$TMP/a.err")"
twin apply
twin apply --json
twin mdev stop "$D3"
twin mdev apply
twin mdev apply --json
twin mdev stop "$D3"
twin mdev apply --json
for t in "$TA" "$TB"; do
        printf '{"mdev_type": "nope", "start": "auto", "attrs": []}\n' > "$t/etc/mdevctl.d/mtty/$D2"
done
twin mdev apply
grep -q "^hostdevctl: apply: " "$TMP/a.err" && ok "mdev apply with a type mtty lacks: the mdev stage's reason on stderr" \
        || fail "mdev apply with a type mtty lacks: the reason on stderr" "$(cat "$TMP/a.err")"
TWIN_NO_REBUILD=1 twin mdev apply --dry-run --json
twin apply
twin apply --dry-run --json
for t in "$TA" "$TB"; do echo '{"address":"0000:05:00.0","numvfs":' > "$t/etc/hostdev/sriov/0000:05:00.0.json"; done
twin apply
[ "$(grep -c "^hostdevctl: apply" "$TMP/a.err")" = 2 ] && grep -q "^hostdevctl: apply failed: " "$TMP/a.err" \
        && ok "apply with both stages failing: both sentences, as --direct" \
        || fail "apply with both stages failing: both sentences" "$(cat "$TMP/a.err")"
twin apply --json
twin apply --dry-run
rm -f "$TA/etc/mdevctl.d/mtty/$D2" "$TB/etc/mdevctl.d/mtty/$D2"
twin apply --json
# a record for another device at 05:00.0 (drift)
for t in "$TA" "$TB"; do
        echo '{"address":"0000:05:00.0","vendor":"0x15b3","device":"0x1234","numvfs":1}' > "$t/etc/hostdev/sriov/0000:05:00.0.json"
done
twin apply
twin apply --dry-run --json
rm -f "$TA/etc/hostdev/sriov/0000:05:00.0.json" "$TB/etc/hostdev/sriov/0000:05:00.0.json"
twin mdev stop "$D3"
twin mdev undefine "$D3"
viad -v apply --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: apply: through hostdevd (org.hostdev.Hostdev1.Manager.Apply)$" "$TMP/err" \
        && ok "-v: apply goes through Apply" || fail "-v: apply goes through Apply" "$(cat "$TMP/err")"
viad -v mdev apply --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: mdev apply: through hostdevd (org.hostdev.Hostdev1.Manager.MdevApply)$" "$TMP/err" \
        && ok "-v: mdev apply goes through MdevApply" || fail "-v: mdev apply goes through MdevApply" "$(cat "$TMP/err")"
# a configuration directory of this run's environment: through the daemon
# only when it is the daemon's own (its ConfigDir, MdevctlDir), else here
HOSTDEV_CONFIG_DIR=$TMP/conf-elsewhere viad -v apply --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: apply: run directly: \$HOSTDEV_CONFIG_DIR ($TMP/conf-elsewhere) is not hostdevd's configuration directory ($(realpath "$TA")/etc/hostdev)$" "$TMP/err" \
        && ok "apply with another \$HOSTDEV_CONFIG_DIR: run directly" || fail "apply with another \$HOSTDEV_CONFIG_DIR: run directly" "$(cat "$TMP/err")"
HOSTDEV_CONFIG_DIR=$TA/etc/hostdev viad -v apply --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: apply: through hostdevd (org.hostdev.Hostdev1.Manager.Apply)$" "$TMP/err" \
        && ok "apply with \$HOSTDEV_CONFIG_DIR the daemon's: through Apply" || fail "apply with \$HOSTDEV_CONFIG_DIR the daemon's: through Apply" "$(cat "$TMP/err")"
HOSTDEV_MDEVCTL_DIR=$TMP/mdevctl-elsewhere viad -v mdev apply --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: mdev apply: run directly: \$HOSTDEV_MDEVCTL_DIR ($TMP/mdevctl-elsewhere) is not hostdevd's mdevctl directory ($(realpath "$TA")/etc/mdevctl.d)$" "$TMP/err" \
        && ok "mdev apply with another \$HOSTDEV_MDEVCTL_DIR: run directly" || fail "mdev apply with another \$HOSTDEV_MDEVCTL_DIR: run directly" "$(cat "$TMP/err")"
HOSTDEV_MDEVCTL_DIR=$TMP/mdevctl-elsewhere viad -v apply --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: apply: run directly: \$HOSTDEV_MDEVCTL_DIR ($TMP/mdevctl-elsewhere) is not hostdevd's mdevctl directory" "$TMP/err" \
        && ok "apply with another \$HOSTDEV_MDEVCTL_DIR: run directly" || fail "apply with another \$HOSTDEV_MDEVCTL_DIR: run directly" "$(cat "$TMP/err")"
HOSTDEV_MDEVCTL_DIR=$TA/etc/mdevctl.d viad -v mdev apply --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: mdev apply: through hostdevd (org.hostdev.Hostdev1.Manager.MdevApply)$" "$TMP/err" \
        && ok "mdev apply with \$HOSTDEV_MDEVCTL_DIR the daemon's: through MdevApply" \
        || fail "mdev apply with \$HOSTDEV_MDEVCTL_DIR the daemon's: through MdevApply" "$(cat "$TMP/err")"

# --- recover: nothing, then a transaction killed halfway on both trees
twin recover
for t in A B; do
        eval "tree=\$T$t state=\$S$t"
        HOSTDEV_FAKE_KILL_AT=5 "$HOSTDEVCTL_FAKE" --direct --sysroot "$tree" --state-dir "$state" \
                nodedev-detach 01:00.0 --group > /dev/null 2>&1
done
[ -e "$SA/transaction.json" ] && [ -e "$SB/transaction.json" ] && ok "a group detach killed halfway on both trees" \
        || fail "a group detach killed halfway on both trees" "$(ls "$SA" "$SB")"
twin recover
[ ! -e "$SA/transaction.json" ] && [ "$(driver "$TA" 01:00.0)" = nouveau ] && ok "recover through the daemon undid it" \
        || fail "recover through the daemon undid it" "$(driver "$TA" 01:00.0) $(ls "$SA")"

# --- -v through the daemon: the library's info lines of the call travel
# with it (flags bit 32, Log signals; Apply's in its reply's log) and are
# printed as --direct prints them: the same stderr but for the line that
# says which way the verb went; without -v none of them
INFO_RE='waiting up to [0-9]+ ms for|libvirt is not asked|^hostdevctl: (created|removed) mdev '
unroute() { norm "$1" | grep -E -v '^hostdevctl: [a-z -]+: (through hostdevd \(org\.hostdev\.Hostdev1\.Manager\.[A-Za-z]+\)|run directly \(--direct\))$'; }
# twin_v WANT ARGS...: -v through the daemon on A and -v --direct on B: the
# same exit status, stdout and stderr (the way line left out); stderr has
# the info line WANT (a regular expression; "" for none expected) and the
# way lines ("through hostdevd", "run directly")
twin_v() {
        local want=$1 rca rcb why=; shift
        viad -v "$@" < /dev/null > "$TMP/a.out" 2> "$TMP/a.err"; rca=$?
        direct -v "$@" < /dev/null > "$TMP/b.out" 2> "$TMP/b.err"; rcb=$?
        [ "$rca" = "$rcb" ] || why="exit $rca through the daemon, $rcb direct;"
        [ "$(norm "$TMP/a.out")" = "$(norm "$TMP/b.out")" ] || why="$why stdout: $(diff "$TMP/a.out" "$TMP/b.out" | head -4 | tr '\n' ' ');"
        [ "$(unroute "$TMP/a.err")" = "$(unroute "$TMP/b.err")" ] \
                || why="$why stderr: $(diff <(unroute "$TMP/a.err") <(unroute "$TMP/b.err") | head -6 | tr '\n' ' ');"
        grep -q ': through hostdevd (' "$TMP/a.err" || why="$why not through the daemon: $(head -2 "$TMP/a.err" | tr '\n' ' ');"
        grep -q ': run directly (--direct)$' "$TMP/b.err" || why="$why the direct run did not say so;"
        if [ -n "$want" ] && ! grep -E -q "$want" "$TMP/a.err"; then why="$why no line /$want/ through the daemon: $(tr '\n' ' ' < "$TMP/a.err");"; fi
        if [ -z "$why" ]; then ok "-v $* (exit $rca): the same info lines through hostdevd as --direct"
        else fail "-v $*: the same info lines through hostdevd as --direct" "$why"; fi
}
# quiet ARGS...: twin without -v, and neither stderr has an info line
quiet() {
        twin "$@"
        if grep -E -q "$INFO_RE" "$TMP/a.err" "$TMP/b.err"; then fail "without -v: no info lines ($*)" "$(cat "$TMP/a.err" "$TMP/b.err" | tr '\n' ' ')"
        else ok "without -v: no info lines ($*)"; fi
}
twin_v "" nodedev-detach 01:00.0 --dry-run
twin_v "" nodedev-detach 01:00.0 --group --dry-run --json
twin_v "^hostdevctl: libvirt is not asked about a sysroot without a URI$" nodedev-reattach 01:00.0 --dry-run
twin_v "^hostdevctl: 0000:01:00.0: waiting up to [0-9]+ ms for vfio-pci to bind to it$" nodedev-detach 01:00.0
quiet nodedev-reattach 01:00.0
quiet nodedev-detach 01:00.0
twin_v "^hostdevctl: 0000:01:00.0: waiting up to [0-9]+ ms for nouveau to bind to it$" nodedev-reattach 01:00.0
twin_v "^hostdevctl: 0000:01:00.1: waiting up to [0-9]+ ms for vfio-pci to bind to it$" nodedev-detach 01:00.0 01:00.1
twin_v "^hostdevctl: 0000:01:00.1: waiting up to [0-9]+ ms for snd_hda_intel to bind to it$" nodedev-reattach 01:00.0 01:00.1 --json
twin_v "" sriov set 02:00.0 --numvfs 2 --dry-run --force
quiet sriov set 02:00.0 --numvfs 0 --force
twin_v "^hostdevctl: 0000:02:10.0: waiting up to [0-9]+ ms for vfio-pci to bind to it$" sriov set 02:00.0 --numvfs 2 --driver vfio --force
quiet sriov set 02:00.0 --numvfs 3 --driver host --force
twin_v "^hostdevctl: libvirt is not asked" sriov set 02:00.0 --numvfs 2 --driver stub --force --persist
quiet sriov set 02:00.0 --numvfs 0 --force
twin_v "" mdev create 0000:00:02.0 i915-GVTg_V5_8 --uuid "$U" --dry-run
twin_v "^hostdevctl: created mdev $U \(i915-GVTg_V5_8 on 0000:00:02.0\)$" mdev create 0000:00:02.0 i915-GVTg_V5_8 --uuid "$U"
twin_v "" mdev create 0000:00:02.0 i915-GVTg_V5_8 --uuid "$U"
twin_v "^hostdevctl: removed mdev $U$" mdev remove "$U"
quiet mdev create 0000:00:02.0 i915-GVTg_V5_8 --uuid "$U" --attr a=b
twin_v "^hostdevctl: removed mdev $U$" mdev remove "$U"
twin_v "^hostdevctl: libvirt is not asked" nodedev-reset 01:00.0
twin_v "" apply --dry-run
# Apply's lines come in its reply's log: the persisted stub VFs back
twin_v "waiting up to [0-9]+ ms for pci-stub to bind" apply
quiet sriov set 02:00.0 --numvfs 0 --force
twin_v "" mdev apply --dry-run
twin_v "" recover
# a transaction killed halfway on both trees: what recover logs as it undoes it
for t in A B; do
        eval "tree=\$T$t state=\$S$t"
        HOSTDEV_FAKE_KILL_AT=5 "$HOSTDEVCTL_FAKE" --direct --sysroot "$tree" --state-dir "$state" \
                nodedev-detach 01:00.0 --group > /dev/null 2>&1
done
twin_v "^hostdevctl: 0000:01:00.0: waiting up to [0-9]+ ms for nouveau to bind to it$" recover

# --- without -v, the library's warnings and errors of a call come back too
# (Log signals) and are printed as --direct prints them: the full stderr
# the same (twin), with the warning WANT in it once (normalized paths)
# warned WANT ARGS...
warned() {
        local want=$1; shift
        twin "$@"
        if [ "$(norm "$TMP/a.err" | grep -E -c "$want")" = 1 ]; then ok "without -v, through hostdevd: the library's line /$want/ once ($*)"
        else fail "without -v, through hostdevd: the library's line /$want/ once ($*)" "$(tr '\n' ' ' < "$TMP/a.err")"; fi
}
# vfio: a transaction killed halfway, recovered first by the next detach;
# a reattach whose journal record is unreadable
kill_group_detach() {
        for t in A B; do
                eval "tree=\$T$t state=\$S$t"
                HOSTDEV_FAKE_KILL_AT=5 "$HOSTDEVCTL_FAKE" --direct --sysroot "$tree" --state-dir "$state" \
                        nodedev-detach 01:00.0 --group > /dev/null 2>&1
        done
}
kill_group_detach
warned "^hostdevctl: warning: STATE/transaction.json holds an interrupted transaction: recovering it first$" nodedev-detach 01:00.0
grep -q "^hostdevctl: warning: recovered 0000:01:00.1: back on snd_hda_intel$" "$TMP/a.err" \
        && ok "without -v, through hostdevd: what the detach recovered first" \
        || fail "without -v, through hostdevd: what the detach recovered first" "$(tr '\n' ' ' < "$TMP/a.err")"
twin nodedev-reattach 01:00.0
twin nodedev-detach 01:00.0
for s in "$SA" "$SB"; do echo '{bad' > "$s/devices/0000:01:00.0.json"; done
warned "^hostdevctl: warning: 0000:01:00.0: unreadable journal record, re-probing instead$" nodedev-reattach 01:00.0
# sriov set: its VFs' detach recovers the interrupted transaction first
kill_group_detach
warned "^hostdevctl: warning: STATE/transaction.json holds an interrupted transaction: recovering it first$" \
        sriov set 02:00.0 --numvfs 2 --driver vfio --force
quiet sriov set 02:00.0 --numvfs 0 --force
# mdev: an unreadable definition beside the one the verb writes
D4=55555555-6666-4777-8888-999999999999 DBAD=66666666-6666-4777-8888-999999999999
for t in "$TA" "$TB"; do mkdir -p "$t/etc/mdevctl.d/mtty"; echo '{bad' > "$t/etc/mdevctl.d/mtty/$DBAD"; done
warned "^hostdevctl: warning: ROOT/etc/mdevctl.d/mtty/$DBAD: invalid mdev definition: " mdev define "$D4" --parent mtty --type mtty-1
warned "^hostdevctl: warning: ROOT/etc/mdevctl.d/mtty/$DBAD: invalid mdev definition: " mdev undefine "$D4"
rm -f "$TA/etc/mdevctl.d/mtty/$DBAD" "$TB/etc/mdevctl.d/mtty/$DBAD"
# an error the library logs for a call the daemon answers with a D-Bus
# error: the library's line and the verb's error, each once
P=0000:00:02.0
for t in "$TA" "$TB"; do echo x > "$t/etc/mdevctl.d/$P"; done
warned "^hostdevctl: error: cannot write ROOT/etc/mdevctl.d/$P/$D4: Not a directory$" mdev define "$D4" --parent $P --type i915-GVTg_V5_8
[ "$(grep -c '^hostdevctl: mdev define: ' "$TMP/a.err")" = 1 ] && ok "without -v, through hostdevd: the verb's error once after the library's" \
        || fail "without -v, through hostdevd: the verb's error once after the library's" "$(tr '\n' ' ' < "$TMP/a.err")"
rm -f "$TA/etc/mdevctl.d/$P" "$TB/etc/mdevctl.d/$P"
# an error the library logs as the operation fails: once, before the
# verb's own failure (a daemon whose fake kernel refuses 01:00.0's bind)
stop_daemon
if HOSTDEV_FAKE_FAIL_PROBE=0000:01:00.0 HOSTDEV_FAKE_BIND_TIMEOUT_MS=200 \
        start_daemon "$HOSTDEVD_FAKE" --sysroot "$TA" --state-dir "$SA" -v -v; then
        export HOSTDEV_FAKE_FAIL_PROBE=0000:01:00.0 HOSTDEV_FAKE_BIND_TIMEOUT_MS=200
        warned "^hostdevctl: error: 0000:01:00.0: vfio-pci did not bind to it within 200 ms " nodedev-detach 01:00.0
        unset HOSTDEV_FAKE_FAIL_PROBE HOSTDEV_FAKE_BIND_TIMEOUT_MS
else
        fail "hostdevd-fake starts with a refused bind" "$(cat "$TMP/daemon.log")"
fi
stop_daemon
start_daemon "$HOSTDEVD_FAKE" --sysroot "$TA" --state-dir "$SA" -v -v || fail "hostdevd-fake starts again" "$(cat "$TMP/daemon.log")"

# --- the trees (and the state directories) end the same
tree_sum() {
        (cd "$1" && find sys etc -printf '%y %P %l\n' | sort && find sys etc -type f -exec md5sum {} + | sort -k2)
}
# a journal record says when it was written ("time", in seconds): the two
# writes may fall in different seconds, so that one field is left out
state_sum() {
        (cd "$1" && find . ! -name lock -printf '%y %P\n' | sort &&
         find . -type f ! -name lock -print | sort | while read -r f; do
                printf '%s ' "$f"; sed -E 's/"time": *[0-9]+/"time": T/' "$f" | md5sum
         done)
}
if [ "$(tree_sum "$TA")" = "$(tree_sum "$TB")" ]; then ok "trees A (through the daemon) and B (direct) end the same"
else fail "trees A and B end the same" "$(diff <(tree_sum "$TA") <(tree_sum "$TB") | head -5 | tr '\n' ' ')"; fi
if [ "$(state_sum "$SA")" = "$(state_sum "$SB")" ]; then ok "their state directories end the same"
else fail "their state directories end the same" "$(diff <(state_sum "$SA") <(state_sum "$SB") | head -5 | tr '\n' ' ')"; fi

# --- the client's $HOSTDEV_MDEVCTL_DIR and $HOSTDEV_CONFIG_DIR: a verb that
# reads or writes them goes through the daemon only when the directory is
# the daemon's own (its MdevctlDir and ConfigDir, resolved), else it runs
# here and writes the client's directory, not the daemon's
got=$(busctl --address="$A" get-property "$DEST" "$OBJ" "$IFACE" ConfigDir MdevctlDir | tr '\n' ' ')
[ "$got" = "s \"$TA/etc/hostdev\" s \"$TA/etc/mdevctl.d\" " ] && ok "the daemon's ConfigDir and MdevctlDir properties" \
        || fail "the daemon's ConfigDir and MdevctlDir properties" "$got"
D5=55555555-6666-4777-8888-999999999999
CM=$TMP/client-mdevctl CC=$TMP/client-conf
mkdir -p "$CM"
n0=$(rebuilds)
HOSTDEV_MDEVCTL_DIR=$CM viad -v mdev define "$D5" --parent mtty --type mtty-1 > "$TMP/out" 2> "$TMP/err"; rc=$?
grep -q "^hostdevctl: mdev define: run directly: \$HOSTDEV_MDEVCTL_DIR ($(realpath "$CM")) is not hostdevd's mdevctl directory ($(realpath "$TA")/etc/mdevctl.d)$" "$TMP/err" \
        && [ $rc = 0 ] && [ -n "$(find "$CM" -name "$D5")" ] && [ -z "$(find "$TA/etc/mdevctl.d" -name "$D5")" ] \
        && [ "$(rebuilds)" = "$n0" ] \
        && ok "mdev define with another \$HOSTDEV_MDEVCTL_DIR: run directly, into the client's directory, not the daemon's" \
        || fail "mdev define with another \$HOSTDEV_MDEVCTL_DIR: run directly" "rc=$rc $(cat "$TMP/err") $(find "$CM" "$TA/etc/mdevctl.d" -name "$D5")"
HOSTDEV_MDEVCTL_DIR=$CM viad -v mdev undefine "$D5" > /dev/null 2> "$TMP/err"; rc=$?
grep -q "^hostdevctl: mdev undefine: run directly: \$HOSTDEV_MDEVCTL_DIR" "$TMP/err" && [ $rc = 0 ] && [ -z "$(find "$CM" -name "$D5")" ] \
        && [ "$(rebuilds)" = "$n0" ] && ok "mdev undefine with another \$HOSTDEV_MDEVCTL_DIR: run directly, from the client's directory" \
        || fail "mdev undefine with another \$HOSTDEV_MDEVCTL_DIR: run directly" "rc=$rc $(cat "$TMP/err")"
# the daemon's own directory, named another way: through the daemon
HOSTDEV_MDEVCTL_DIR=$TA/etc/../etc/mdevctl.d viad -v mdev define "$D5" --parent mtty --type mtty-1 > "$TMP/out" 2> "$TMP/err"; rc=$?
grep -q "^hostdevctl: mdev define: through hostdevd (org.hostdev.Hostdev1.Manager.MdevDefine)$" "$TMP/err" && [ $rc = 0 ] \
        && [ -n "$(find "$TA/etc/mdevctl.d" -name "$D5")" ] && [ "$(rebuilds)" -gt "$n0" ] \
        && ok "mdev define with \$HOSTDEV_MDEVCTL_DIR the daemon's: through MdevDefine" \
        || fail "mdev define with \$HOSTDEV_MDEVCTL_DIR the daemon's: through MdevDefine" "rc=$rc $(cat "$TMP/err")"
viad mdev undefine "$D5" > /dev/null 2>&1
# sriov set --persist (of the VF count it has: nothing else changes):
# SriovSet and SriovPersist both, or neither
N=$(cat "$TA/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs")
n0=$(rebuilds)
sum_conf() { find "$TA/etc/hostdev" -type f -exec md5sum {} + | sort; }
before=$(sum_conf)
HOSTDEV_CONFIG_DIR=$CC viad -v sriov set 02:00.0 --numvfs "$N" --persist > "$TMP/out" 2> "$TMP/err"; rc=$?
grep -q "^hostdevctl: sriov set: run directly: \$HOSTDEV_CONFIG_DIR ($CC) is not hostdevd's configuration directory ($(realpath "$TA")/etc/hostdev)$" "$TMP/err" \
        && ! grep -q "through hostdevd" "$TMP/err" && [ $rc = 0 ] && grep -q "\"numvfs\": *$N" "$CC/sriov/0000:02:00.0.json" \
        && [ "$(sum_conf)" = "$before" ] && [ "$(rebuilds)" = "$n0" ] \
        && ok "sriov set --persist with another \$HOSTDEV_CONFIG_DIR: run directly, recorded in the client's directory, not the daemon's" \
        || fail "sriov set --persist with another \$HOSTDEV_CONFIG_DIR: run directly" "rc=$rc $(cat "$TMP/err") $(ls -R "$CC" 2>&1)"
HOSTDEV_CONFIG_DIR=$TA/etc/hostdev viad -v sriov set 02:00.0 --numvfs "$N" --persist > "$TMP/out" 2> "$TMP/err"; rc=$?
grep -q "^hostdevctl: sriov set: through hostdevd (org.hostdev.Hostdev1.Manager.SriovSet)$" "$TMP/err" \
        && grep -q "^hostdevctl: sriov set: through hostdevd (org.hostdev.Hostdev1.Manager.SriovPersist)$" "$TMP/err" && [ $rc = 0 ] \
        && grep -q "\"numvfs\": *$N" "$TA/etc/hostdev/sriov/0000:02:00.0.json" && [ "$(rebuilds)" -gt "$n0" ] \
        && ok "sriov set --persist with \$HOSTDEV_CONFIG_DIR the daemon's: through SriovSet and SriovPersist" \
        || fail "sriov set --persist with \$HOSTDEV_CONFIG_DIR the daemon's: through SriovSet and SriovPersist" "rc=$rc $(cat "$TMP/err")"
# without --persist the configuration directory does not matter
HOSTDEV_CONFIG_DIR=$CC viad -v sriov set 02:00.0 --numvfs 0 --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: sriov set: through hostdevd (org.hostdev.Hostdev1.Manager.SriovSet)$" "$TMP/err" \
        && ok "sriov set without --persist: through SriovSet whatever \$HOSTDEV_CONFIG_DIR" \
        || fail "sriov set without --persist: through SriovSet whatever \$HOSTDEV_CONFIG_DIR" "$(cat "$TMP/err")"
HOSTDEV_CONFIG_DIR=$CC viad -v sriov vf 02:00.0 0 --trust on --persist > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: sriov vf: run directly: \$HOSTDEV_CONFIG_DIR ($CC) is not hostdevd's configuration directory" "$TMP/err" \
        && ! grep -q "through hostdevd" "$TMP/err" \
        && ok "sriov vf --persist with another \$HOSTDEV_CONFIG_DIR: run directly" \
        || fail "sriov vf --persist with another \$HOSTDEV_CONFIG_DIR: run directly" "$(cat "$TMP/err")"

# --- -v says which way; --direct does not call the daemon, also on its tree
n0=$(rebuilds)
viad -v nodedev-detach 01:00.0 --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: nodedev-detach: through hostdevd (org.hostdev.Hostdev1.Manager.Detach)$" "$TMP/err" \
        && ok "-v: 'through hostdevd'" || fail "-v: 'through hostdevd'" "$(cat "$TMP/err")"
n1=$(rebuilds)
"$HOSTDEVCTL_FAKE" -v --direct --sysroot "$TA" --state-dir "$SA" nodedev-detach 01:00.0 --dry-run > "$TMP/out" 2> "$TMP/err"
[ "$(rebuilds)" = "$n1" ] && [ "$n1" -gt "$n0" ] && grep -q "^hostdevctl: nodedev-detach: run directly (--direct)$" "$TMP/err" \
        && grep -q "would move" "$TMP/out" \
        && ok "--direct on the daemon's own tree: run here, the daemon not called" \
        || fail "--direct on the daemon's own tree: the daemon not called" "$n0 $n1 $(rebuilds) $(cat "$TMP/err")"
"$HOSTDEVCTL_FAKE" -v --sysroot "$TA" --state-dir "$TMP/elsewhere" nodedev-detach 01:00.0 --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: nodedev-detach: run directly: hostdevd keeps its journal in $SA$" "$TMP/err" && [ "$(rebuilds)" = "$n1" ] \
        && ok "another state directory: run directly, and -v says why" || fail "another state directory: run directly" "$(cat "$TMP/err")"
"$HOSTDEVCTL_FAKE" -v --sysroot "$TB" --state-dir "$SA" nodedev-detach 01:00.0 --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: nodedev-detach: run directly: hostdevd serves the tree $(realpath "$TA")$" "$TMP/err" && [ "$(rebuilds)" = "$n1" ] \
        && ok "another tree: run directly, and -v says why" || fail "another tree: run directly" "$(cat "$TMP/err")"
viad -v mdev create 0000:00:02.0 i915-GVTg_V5_8 --attr a=b --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: mdev create: through hostdevd (org.hostdev.Hostdev1.Manager.MdevCreateWithAttrs)$" "$TMP/err" \
        && ok "mdev create --attr: through hostdevd's MdevCreateWithAttrs" || fail "mdev create --attr: through MdevCreateWithAttrs" "$(cat "$TMP/err")"
viad -v mdev define 44444444-5555-4666-8777-888888888888 > /dev/null 2> "$TMP/err"; rc=$?
grep -q "^hostdevctl: mdev define: run directly: hostdevd's MdevDefine does not take a definition without --parent and --type$" "$TMP/err" \
        && grep -q "^hostdevctl: mdev define: give --parent and --type (or the UUID of a running mdev)$" "$TMP/err" && [ $rc = 64 ] \
        && [ "$(rebuilds)" = "$n1" ] && ok "mdev define without --parent and --type (a usage error, exit 64): run directly" \
        || fail "mdev define without --parent and --type: run directly" "rc=$rc $(cat "$TMP/err")"
viad -v sriov set 02:00.0 --numvfs 4 --autoprobe off --dry-run > /dev/null 2> "$TMP/err"
grep -q "^hostdevctl: sriov set: through hostdevd (org.hostdev.Hostdev1.Manager.SriovSet)$" "$TMP/err" \
        && ok "sriov set --autoprobe: through hostdevd's SriovSet" || fail "sriov set --autoprobe: through SriovSet" "$(cat "$TMP/err")"

# --- one lock, one journal
# a detach through the daemon, then a --direct reattach on the same tree:
# it finds the daemon's journal record and gives the device back
viad nodedev-detach 01:00.0 > /dev/null 2>&1
"$HOSTDEVCTL_FAKE" --direct --sysroot "$TA" --state-dir "$SA" nodedev-reattach 01:00.0 > "$TMP/out" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(driver "$TA" 01:00.0)" = nouveau ] && grep -q "vfio-pci -> nouveau  done" "$TMP/out" \
        && ok "one journal: a --direct reattach restores what the daemon's detach journaled" \
        || fail "one journal: a --direct reattach restores the daemon's detach" "rc=$rc $(cat "$TMP/out")"
# the first function of a group detach has moved: the transaction holds
# the lock for 3 s after each bind (HOSTDEV_TEST_DELAY_MS)
first_moved() {
        for _ in $(seq 200); do
                [ "$(driver "$TA" 01:00.0)" = vfio-pci ] && return 0
                sleep 0.05
        done
        return 1
}
# a direct group detach holds the lock; a reattach through the daemon
# meanwhile waits for it, then gives both functions back
HOSTDEV_TEST_DELAY_MS=3000 "$HOSTDEVCTL_FAKE" --direct --sysroot "$TA" --state-dir "$SA" nodedev-detach 01:00.0 --group \
        > "$TMP/d.out" 2>&1 &
dp=$!
first_moved
viad nodedev-reattach 01:00.0 --group > "$TMP/r.out" 2>&1 &
rp=$!
sleep 1
mid="$(driver "$TA" 01:00.0) $(driver "$TA" 01:00.1)"
kill -0 $rp 2>/dev/null && [ "$mid" = "vfio-pci snd_hda_intel" ] && ok "the daemon's reattach waits while a direct detach holds the lock" \
        || fail "the daemon's reattach waits for the lock" "drivers: $mid; reattach: $(cat "$TMP/r.out")"
wait $dp; rcd=$?
wait $rp; rcr=$?
[ $rcd = 0 ] && [ $rcr = 0 ] && grep -q "0000:01:00.0  vfio-pci -> nouveau  done" "$TMP/r.out" \
        && grep -q "0000:01:00.1  vfio-pci -> snd_hda_intel  done" "$TMP/r.out" \
        && [ "$(driver "$TA" 01:00.0) $(driver "$TA" 01:00.1)" = "nouveau snd_hda_intel" ] && [ ! -e "$SA/transaction.json" ] \
        && ok "never interleaved: the reattach ran after the whole detach and gave both back" \
        || fail "never interleaved" "rc $rcd $rcr; $(cat "$TMP/d.out" "$TMP/r.out" | tr '\n' ' ')"
# and the other way: the daemon's detach holds the lock, a direct one waits
stop_daemon
if HOSTDEV_TEST_DELAY_MS=3000 start_daemon "$HOSTDEVD_FAKE" --sysroot "$TA" --state-dir "$SA" -v -v; then
        viad nodedev-detach 01:00.0 --group > "$TMP/d.out" 2>&1 &
        dp=$!
        first_moved
        "$HOSTDEVCTL_FAKE" --direct --sysroot "$TA" --state-dir "$SA" nodedev-reattach 01:00.0 --group > "$TMP/r.out" 2>&1 &
        rp=$!
        sleep 1
        mid="$(driver "$TA" 01:00.0) $(driver "$TA" 01:00.1)"
        kill -0 $rp 2>/dev/null && [ "$mid" = "vfio-pci snd_hda_intel" ] \
                && ok "a direct reattach waits while the daemon's detach holds the lock" \
                || fail "a direct reattach waits for the daemon's lock" "drivers: $mid; reattach: $(cat "$TMP/r.out")"
        wait $dp; rcd=$?
        wait $rp; rcr=$?
        [ $rcd = 0 ] && [ $rcr = 0 ] && grep -q "0000:01:00.1  vfio-pci -> snd_hda_intel  done" "$TMP/r.out" \
                && [ "$(driver "$TA" 01:00.0) $(driver "$TA" 01:00.1)" = "nouveau snd_hda_intel" ] \
                && ok "never interleaved: the direct reattach ran after the daemon's whole detach" \
                || fail "never interleaved (daemon first)" "rc $rcd $rcr; $(cat "$TMP/d.out" "$TMP/r.out" | tr '\n' ' ')"
        stop_daemon
else
        fail "hostdevd-fake with HOSTDEV_TEST_DELAY_MS starts" "$(cat "$TMP/daemon.log")"
fi
# --- the daemon's bounded wait: a direct detach holds the lock longer than
# the daemon's --lock-timeout: the daemon answers Busy (the CLI prints its
# words, exit 1), changes nothing, serves on
stop_daemon
if start_daemon "$HOSTDEVD_FAKE" --sysroot "$TA" --state-dir "$SA" --lock-timeout 1 -v -v; then
        HOSTDEV_TEST_DELAY_MS=3000 "$HOSTDEVCTL_FAKE" --direct --sysroot "$TA" --state-dir "$SA" nodedev-detach 01:00.0 --group \
                > "$TMP/d.out" 2>&1 &
        dp=$!
        first_moved
        t0=$(date +%s%N)
        viad nodedev-reattach 01:00.0 --group > "$TMP/r.out" 2> "$TMP/r.err"; rcr=$?
        viad recover > "$TMP/v.out" 2> "$TMP/v.err"; rcv=$?
        t1=$(date +%s%N)
        mid="$(driver "$TA" 01:00.0) $(driver "$TA" 01:00.1)"
        kill -0 $dp 2>/dev/null; held=$?
        want="hostdevctl: nodedev-reattach: the state directory $SA is locked by another hostdev operation for 1.0 s; nothing changed"
        [ $rcr = 1 ] && [ "$(cat "$TMP/r.err")" = "$want" ] && [ ! -s "$TMP/r.out" ] \
                && ok "a direct detach holds the lock past --lock-timeout 1: the daemon's reattach fails Busy, in clear words, exit 1" \
                || fail "the daemon's reattach fails Busy" "rc=$rcr $(cat "$TMP/r.out" "$TMP/r.err")"
        [ $rcv = 1 ] && [ "$(cat "$TMP/v.err")" = "${want/nodedev-reattach/recover}" ] \
                && ok "and so does its recover" || fail "the daemon's recover fails Busy" "rc=$rcv $(cat "$TMP/v.err")"
        [ $held = 0 ] && [ $(( (t1 - t0) / 1000000 )) -lt 4500 ] && [ "$mid" = "vfio-pci snd_hda_intel" ] \
                && ok "each waited its 1 s only, while the direct detach still ran, and changed nothing" \
                || fail "each waited 1 s only and changed nothing" "held=$held $(( (t1 - t0) / 1000000 )) ms, drivers $mid"
        grep -q "<4>nodedev-reattach: the state directory $SA is locked by another hostdev operation" "$TMP/daemon.log" \
                && ok "the daemon logs the Busy answer as a warning" || fail "the daemon logs Busy" "$(tail -5 "$TMP/daemon.log")"
        busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" GetDevice s 01:00.0 > /dev/null 2>&1 \
                && ok "the daemon serves on after Busy" || fail "the daemon serves on after Busy"
        wait $dp; rcd=$?
        [ $rcd = 0 ] && [ "$(driver "$TA" 01:00.0) $(driver "$TA" 01:00.1)" = "vfio-pci vfio-pci" ] && [ ! -e "$SA/transaction.json" ] \
                && ok "the direct detach finished whole" || fail "the direct detach finished whole" "rc=$rcd $(cat "$TMP/d.out")"
        viad nodedev-reattach 01:00.0 --group > "$TMP/r.out" 2>&1; rcr=$?
        [ $rcr = 0 ] && [ "$(driver "$TA" 01:00.0) $(driver "$TA" 01:00.1)" = "nouveau snd_hda_intel" ] \
                && ok "then the daemon's reattach runs" || fail "then the daemon's reattach runs" "rc=$rcr $(cat "$TMP/r.out")"
        stop_daemon
else
        fail "hostdevd-fake --lock-timeout 1 starts" "$(cat "$TMP/daemon.log")"
fi
out=$("$HOSTDEVD_FAKE" --lock-timeout 30 2>&1); rc=$?
[ $rc = 64 ] && [ "$out" = "hostdevd: --lock-timeout takes seconds 0..25, not '30'" ] \
        && ok "hostdevd --lock-timeout past the watchdog: a usage error" || fail "hostdevd --lock-timeout 30" "rc=$rc $out"
start_daemon "$HOSTDEVD_FAKE" --sysroot "$TA" --state-dir "$SA" -v -v || fail "hostdevd-fake starts again" "$(cat "$TMP/daemon.log")"

# --- an unprivileged caller: polkit (absent here) refuses, in clear words
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        before=$(tree_sum "$TA")
        bad=
        for c in "nodedev-detach 01:00.0|org.hostdev.detach" "nodedev-reattach 01:00.0|org.hostdev.reattach" \
                 "nodedev-reset 01:00.0|org.hostdev.reset" "recover|org.hostdev.recover" \
                 "sriov set 02:00.0 --numvfs 0 --force|org.hostdev.sriov" \
                 "mdev create 0000:00:02.0 i915-GVTg_V5_8 --uuid $U|org.hostdev.mdev" "mdev remove $U|org.hostdev.mdev" \
                 "nodedev-detach 01:00.0 01:00.1|org.hostdev.detach" "nodedev-reattach 01:00.0 01:00.1|org.hostdev.reattach" \
                 "sriov set 02:00.0 --numvfs 0 --driver vfio --autoprobe off --force|org.hostdev.sriov" \
                 "sriov set 02:00.0 --numvfs 0 --force --persist|org.hostdev.sriov" \
                 "sriov vf 02:00.0 1 --trust on --persist|org.hostdev.sriov" \
                 "mdev define $D3 --parent mtty --type mtty-1|org.hostdev.mdev" "mdev undefine $D3|org.hostdev.mdev" \
                 "mdev start $D3|org.hostdev.mdev" "mdev stop $D3|org.hostdev.mdev" "mdev autostart $D3|org.hostdev.mdev" \
                 "mdev modify $D3 --auto|org.hostdev.mdev" "nodedev-create -|org.hostdev.mdev" "nodedev-define -|org.hostdev.mdev" \
                 "nodedev-destroy $N2|org.hostdev.mdev" "nodedev-undefine $N2|org.hostdev.mdev" \
                 "nodedev-start $N2|org.hostdev.mdev" "nodedev-autostart $N2|org.hostdev.mdev" \
                 "apply|org.hostdev.apply" "mdev apply|org.hostdev.apply"; do
                IFS='|' read -r cli action <<< "$c"
                verb=${cli%% *}
                case $cli in sriov*|mdev*) verb=$(echo "$cli" | cut -d' ' -f1-2) ;; esac
                out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/hostdevctl-fake" --sysroot "$TA" --state-dir "$SA" \
                        $cli 2>&1 < "$TMP/dev.xml"); rc=$?
                case $out in
                "hostdevctl: $verb: not authorized: hostdevd asked polkit for the action $action and was refused ($action needs root: polkit is not running to authorize others); run it as root, or have the action granted to you (polkit rules, the hostdev group)")
                        [ $rc = 1 ] || bad="$bad [$cli: exit $rc]" ;;
                *) bad="$bad [$cli: $out]" ;;
                esac
        done
        [ -z "$bad" ] && ok "uid 65534 through the daemon: every verb 'not authorized', naming polkit and the action, exit 1" \
                || fail "uid 65534 through the daemon: not authorized" "$bad"
        [ "$(tree_sum "$TA")" = "$before" ] && ok "uid 65534's calls changed nothing" || fail "uid 65534's calls changed nothing"
else
        skip "uid 65534 through the daemon: not authorized" "not root, or no setpriv"
        skip "uid 65534's calls changed nothing" "not root, or no setpriv"
fi

# --- without a daemon the CLI runs directly
stop_daemon
viad -v nodedev-detach 01:00.0 --dry-run > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc = 0 ] && grep -q "^hostdevctl: nodedev-detach: run directly: hostdevd is not running$" "$TMP/err" && grep -q "would move" "$TMP/out" \
        && ok "no daemon on the bus: run directly, and -v says so" || fail "no daemon: run directly" "rc=$rc $(cat "$TMP/err")"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TMP/nosuchbus viad -v nodedev-detach 01:00.0 --dry-run > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc = 0 ] && grep -q "^hostdevctl: nodedev-detach: run directly: no system bus: " "$TMP/err" && grep -q "would move" "$TMP/out" \
        && ok "no system bus: run directly" || fail "no system bus: run directly" "rc=$rc $(cat "$TMP/err")"

# a daemon started with $HOSTDEV_MDEVCTL_DIR: a run without it (the
# default directory) is not the daemon's either; a run with it is
mkdir -p "$TMP/daemon-mdevctl"
if HOSTDEV_MDEVCTL_DIR=$TMP/daemon-mdevctl start_daemon "$HOSTDEVD_FAKE" --sysroot "$TA" --state-dir "$SA" -v -v; then
        viad -v mdev define "$D5" --parent mtty --type mtty-1 > /dev/null 2> "$TMP/err"
        [ -n "$(find "$TA/etc/mdevctl.d" -name "$D5")" ] && [ -z "$(find "$TMP/daemon-mdevctl" -name "$D5")" ] && grep -q "^hostdevctl: mdev define: run directly: hostdevd's mdevctl directory is $(realpath "$TMP/daemon-mdevctl"), not this run's $(realpath "$TA")/etc/mdevctl.d (without \$HOSTDEV_MDEVCTL_DIR)$" "$TMP/err" \
                && ok "a daemon with its own \$HOSTDEV_MDEVCTL_DIR, a run without: run directly, and -v says why" \
                || fail "a daemon with its own \$HOSTDEV_MDEVCTL_DIR, a run without: run directly" "$(cat "$TMP/err")"
        viad mdev undefine "$D5" > /dev/null 2>&1
        HOSTDEV_MDEVCTL_DIR=$TMP/daemon-mdevctl viad -v mdev define "$D5" --parent mtty --type mtty-1 > /dev/null 2> "$TMP/err"
        [ -n "$(find "$TMP/daemon-mdevctl" -name "$D5")" ] && [ -z "$(find "$TA/etc/mdevctl.d" -name "$D5")" ] && grep -q "^hostdevctl: mdev define: through hostdevd (org.hostdev.Hostdev1.Manager.MdevDefine)$" "$TMP/err" \
                && ok "the same \$HOSTDEV_MDEVCTL_DIR as the daemon's: through MdevDefine" \
                || fail "the same \$HOSTDEV_MDEVCTL_DIR as the daemon's: through MdevDefine" "$(cat "$TMP/err")"
        stop_daemon
else
        fail "hostdevd-fake starts with \$HOSTDEV_MDEVCTL_DIR" "$(cat "$TMP/daemon.log")"
fi

# --- a caller's -v does not change the daemon's own log: a daemon without
# -v logs no info line of the call it sent back
if start_daemon "$HOSTDEVD_FAKE" --sysroot "$TA" --state-dir "$SA"; then
        viad -v nodedev-reattach 01:00.0 --dry-run > /dev/null 2> "$TMP/err"
        viad -v nodedev-detach 01:00.0 01:00.1 > /dev/null 2>> "$TMP/err"
        viad nodedev-reattach 01:00.0 01:00.1 > /dev/null 2> "$TMP/err2"
        grep -q "^hostdevctl: libvirt is not asked about a sysroot without a URI$" "$TMP/err" \
                && grep -q "^hostdevctl: 0000:01:00.1: waiting up to [0-9]* ms for vfio-pci to bind to it$" "$TMP/err" \
                && ! grep -E -q "$INFO_RE" "$TMP/err2" && ! grep -q "^<[5-7]>" "$TMP/daemon.log" \
                && ok "a daemon without -v: the caller's -v gets the info lines, the daemon's log none, the next call none" \
                || fail "a daemon without -v: its own log unchanged by a caller's -v" "$(cat "$TMP/err" "$TMP/err2" "$TMP/daemon.log" | tr '\n' ' ')"
        stop_daemon
else
        fail "hostdevd-fake without -v starts" "$(cat "$TMP/daemon.log")"
fi

finish
