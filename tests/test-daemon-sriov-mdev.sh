#!/usr/bin/env bash
# hostdevd's SR-IOV, mediated-device and GPU methods (daemon/methods-sriov-mdev.c)
# on a private bus (tests/daemon-bus.sh), hostdevd-fake on a fake tree and
# hostdevctl-fake on its twin: every read answers byte for byte what
# `hostdevctl ... --json` prints; every write leaves the daemon's tree as
# the CLI's verb leaves the twin; errors are named and carry the CLI's
# words; an unprivileged caller is refused and changes nothing; malformed
# calls leave the daemon serving.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"
unset HOSTDEV_MDEVCTL_DIR HOSTDEV_CONFIG_DIR

: "${HOSTDEVCTL_FAKE:=$SRCDIR/build/tests/hostdevctl-fake}"
: "${HOSTDEVD_FAKE:=$SRCDIR/build/tests/hostdevd-fake}"

for t in dbus-daemon dbus-send busctl; do
        command -v $t >/dev/null || skip_all "no $t (Debian: apt install dbus-daemon dbus-bin systemd)"
done
[ -x "$HOSTDEVD_FAKE" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"

. "$(dirname "$0")/daemon-bus.sh"

build_fixtures full
F=$TMP/fx/full          # the daemon's tree
C=$TMP/cli              # the CLI's twin
cp -a "$F" "$C"
S=$TMP/state
hc() { "$HOSTDEVCTL_FAKE" --sysroot "$C" --state-dir "$TMP/cli-st" "$@"; }
# the CLI's error line without "hostdevctl: "
cli_err() { hc "$@" 2>&1 >/dev/null | sed 's/^hostdevctl: //'; }

# trees NAME: the daemon's tree is the CLI's twin
trees() {
        snap "$F" > "$TMP/snap.d"
        snap "$C" > "$TMP/snap.c"
        cmp -s "$TMP/snap.d" "$TMP/snap.c" && ok "$1: the trees are alike" \
                || fail "$1: the trees are alike" "$(diff "$TMP/snap.d" "$TMP/snap.c" | head -6 | tr '\n' ' ')"
}
# named NAME ERROR-NAME GOT WANT: GOT is ERROR-NAME with WANT's text
named() {
        [ "$3" = "org.hostdev.Hostdev1.Error.$2: $4" ] && ok "$1: $2 with the CLI's text" \
                || fail "$1: $2 with the CLI's text" "got '$3', CLI '$4'"
}
# result_ok NAME FILE [SUBJECT]: a result document with status ok (and SUBJECT in its step)
result_ok() {
        python3 - "$2" "${3:-}" <<'EOF' && ok "$1: a result, status ok" || fail "$1: a result, status ok" "$(head -c 300 "$2")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ok", d
assert not sys.argv[2] or sys.argv[2] in json.dumps(d), d
EOF
}

if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi
if ! start_daemon "$HOSTDEVD_FAKE" --sysroot "$F" --state-dir "$S"; then
        fail "hostdevd-fake takes its name on the bus" "$(cat "$TMP/daemon.log")"
        finish
        exit
fi
ok "hostdevd-fake takes its name on the bus"
trees "at the start"

# --- reads: the CLI's --json, byte for byte
{ call SriovList; echo; } > "$TMP/a"
hc sriov list --json > "$TMP/b"
same "SriovList is sriov list --json ($(grep -c '"numvfs"' "$TMP/b") PFs)" "$TMP/a" "$TMP/b"
for fl in "0:" "1:--defined" "2:--all" "3:--defined --all"; do
        { call MdevList t "${fl%%:*}"; echo; } > "$TMP/a"
        hc mdev list ${fl#*:} --json > "$TMP/b"
        same "MdevList flags ${fl%%:*} is mdev list ${fl#*:} --json ($(grep -c '"uuid"' "$TMP/b") mdevs)" "$TMP/a" "$TMP/b"
done
for p in "" mtty_mtty 0000:00:02.0 00:02.0; do
        { call MdevTypes s "$p"; echo; } > "$TMP/a"
        hc mdev types $p --json > "$TMP/b"
        same "MdevTypes '$p' is mdev types $p --json ($(grep -c '"type"' "$TMP/b") types)" "$TMP/a" "$TMP/b"
done
named "MdevTypes of a device that is no mdev parent" NotFound "$(err MdevTypes string:pci_0000_00_1f_0)" \
        "$(cli_err mdev types pci_0000_00_1f_0)"
for g in "" 00:02.0; do
        { call GpuList s "$g"; echo; } > "$TMP/a"
        hc gpu $g --json > "$TMP/b"
        same "GpuList '$g' is gpu $g --json ($(grep -c '"passthrough_ready"' "$TMP/b") GPUs)" "$TMP/a" "$TMP/b"
done
named "GpuList of a device that is no GPU" InvalidArgument "$(err GpuList string:00:1f.0)" "$(cli_err gpu 00:1f.0)"
named "GpuList of an unknown name" NotFound "$(err GpuList string:nosuch)" "$(cli_err gpu nosuch)"
got=$(err MdevList uint64:4)
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: mdev list: unknown flags 0x4" ] \
        && ok "MdevList with an unknown flag: InvalidArgument" || fail "MdevList with an unknown flag: InvalidArgument" "$got"

# --- SR-IOV: sriov set with --driver/--autoprobe, dry runs and a real one
for c in "4 vfio -1 6:--numvfs 4 --driver vfio --dry-run --force" "2 host 1 2:--numvfs 2 --driver host --autoprobe on --dry-run" \
         "2 '' 0 2:--numvfs 2 --autoprobe off --dry-run"; do
        eval "set -- ${c%%:*}"
        { call -- SriovSet susit 02:00.0 "$1" "$2" "$3" "$4"; echo; } > "$TMP/a"
        hc sriov set 02:00.0 ${c#*:} --json > "$TMP/b" 2>/dev/null
        same "SriovSet 02:00.0 $* is sriov set ${c#*:} --json" "$TMP/a" "$TMP/b"
done
set --
trees "after the SriovSet dry runs"
{ call -- SriovSet susit 02:00.0 3 stub 0 4; echo; } > "$TMP/a"
hc sriov set 02:00.0 --numvfs 3 --driver stub --autoprobe off --force --json > "$TMP/b" 2>/dev/null
same "SriovSet 02:00.0 3 stub (a change) is sriov set --json" "$TMP/a" "$TMP/b"
[ "$(cat "$F/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs")" = 3 ] && ok "SriovSet: 3 VFs now" \
        || fail "SriovSet: 3 VFs now" "$(cat "$F/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs")"
trees "after SriovSet 02:00.0 3 stub"
{ call SriovList; echo; } > "$TMP/a"
hc sriov list --json > "$TMP/b"
same "SriovList after the change is sriov list --json" "$TMP/a" "$TMP/b"
for c in "02:00.0 3 nosuch -1 2|--numvfs 3 --driver nosuch --dry-run|InvalidArgument" \
         "02:00.0 3 '' 2 2|--numvfs 3 --autoprobe 2 --dry-run|InvalidArgument" \
         "02:00.0 70000 '' -1 2|--numvfs 70000 --dry-run|InvalidArgument" \
         "02:00.0 99 '' -1 2|--numvfs 99 --dry-run|InvalidArgument" \
         "nosuch 2 '' -1 2|--numvfs 2 --dry-run|NotFound"; do
        IFS='|' read -r args cli name <<< "$c"
        eval "set -- $args"
        got=$(err SriovSet string:"$1" uint32:"$2" string:"$3" int32:"$4" uint64:"$5")
        named "SriovSet $args" "$name" "$got" "$(cli_err sriov set "$1" $cli)"
done
set --

# sriov vf: a sysroot has no netlink: a dry run plans, a change is refused
VFARGS="--mac 02:11:22:33:44:55 --vlan 10 --qos 3 --trust on --spoofchk off"
{ call -- SriovSetVf susiiiit 02:00.0 1 02:11:22:33:44:55 10 3 1 0 2; echo; } > "$TMP/a"
hc sriov vf 02:00.0 1 $VFARGS --dry-run --json > "$TMP/b" 2>/dev/null
same "SriovSetVf dry run is sriov vf $VFARGS --dry-run --json" "$TMP/a" "$TMP/b"
for c in "02:00.0 1 02:11:22:33:44:55 -1 -1 -1 -1 0|1 --mac 02:11:22:33:44:55" \
         "02:00.0 1 xx -1 -1 -1 -1 2|1 --mac xx --dry-run" \
         "02:00.0 1 ff:ff:ff:ff:ff:ff -1 -1 -1 -1 2|1 --mac ff:ff:ff:ff:ff:ff --dry-run" \
         "02:00.0 1 '' 5000 -1 -1 -1 2|1 --vlan 5000 --dry-run" \
         "02:00.0 1 '' -1 3 -1 -1 2|1 --qos 3 --dry-run" \
         "02:00.0 1 '' 5 9 -1 -1 2|1 --vlan 5 --qos 9 --dry-run" \
         "02:00.0 1 '' -1 -1 -1 -1 2|1 --dry-run" \
         "02:00.0 70000 '' -1 -1 1 -1 2|70000 --trust on --dry-run" \
         "02:00.0 40 '' -1 -1 1 -1 2|40 --trust on --dry-run" \
         "01:00.0 0 '' -1 -1 1 -1 2|0 --trust on --dry-run" \
         "nosuch 0 '' -1 -1 1 -1 2|0 --trust on --dry-run"; do
        IFS='|' read -r args cli <<< "$c"
        eval "set -- $args"
        got=$(err SriovSetVf string:"$1" uint32:"$2" string:"$3" int32:"$4" int32:"$5" int32:"$6" int32:"$7" uint64:"$8")
        want=$(cli_err sriov vf "$1" $cli)
        case $got in
        "org.hostdev.Hostdev1.Error."*": $want") [ -n "$want" ] && ok "SriovSetVf $args: a named error with the CLI's text (${got%%:*})" \
                || fail "SriovSetVf $args: the CLI failed too" "CLI said nothing" ;;
        *) fail "SriovSetVf $args: a named error with the CLI's text" "got '$got', CLI '$want'" ;;
        esac
done
set --
trees "after the SriovSetVf calls"

# --persist: SriovSet + SriovPersist is sriov set --persist; SriovPersistVf
# is sriov vf --persist on a sysroot (a plan, then the record)
call -- SriovSet susit 02:00.0 2 vfio -1 4 > /dev/null
call -- SriovPersist susit 02:00.0 2 vfio -1 0 > "$TMP/a"
hc sriov set 02:00.0 --numvfs 2 --driver vfio --force --persist > "$TMP/b" 2>&1
result_ok "SriovPersist 02:00.0 2 vfio" "$TMP/a" "persisted"
[ -f "$F/etc/hostdev/sriov/0000:02:00.0.json" ] && cmp -s "$F/etc/hostdev/sriov/0000:02:00.0.json" "$C/etc/hostdev/sriov/0000:02:00.0.json" \
        && ok "SriovPersist: the record is sriov set --persist's" || fail "SriovPersist: the record is sriov set --persist's" "$(cat "$TMP/b")"
call -- SriovPersistVf susiiiit 02:00.0 1 02:11:22:33:44:55 10 3 1 0 0 > "$TMP/a"
hc sriov vf 02:00.0 1 $VFARGS --persist > "$TMP/b" 2>&1
result_ok "SriovPersistVf 02:00.0 1" "$TMP/a" "persisted"
cmp -s "$F/etc/hostdev/sriov/0000:02:00.0.json" "$C/etc/hostdev/sriov/0000:02:00.0.json" \
        && ok "SriovPersistVf: the record is sriov vf --persist's" \
        || fail "SriovPersistVf: the record is sriov vf --persist's" "$(diff "$F/etc/hostdev/sriov/0000:02:00.0.json" "$C/etc/hostdev/sriov/0000:02:00.0.json" | head -5 | tr '\n' ' ')"
trees "after sriov set/vf --persist"
got=$(err SriovPersistVf string:02:00.0 uint32:5 string: int32:-1 int32:-1 int32:1 int32:-1 uint64:0)
named "SriovPersistVf of VF 5 of 2" InvalidArgument "$got" "$(cli_err sriov vf 02:00.0 5 --trust on --persist)"
got=$(err SriovPersist string:02:00.0 uint32:2 string: int32:-1 uint64:2)
[ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: sriov set: unknown flags 0x2" ] \
        && ok "SriovPersist has no dry run: InvalidArgument" || fail "SriovPersist has no dry run: InvalidArgument" "$got"

# --- mediated devices: mdev define/start/autostart/modify/undefine
U1=11111111-2222-4333-8444-555555555555
U2=9c4954d2-fa39-4973-9d66-d61c6c4d0100
U3=0b3a7c34-53f8-4f35-9a5d-8b41fd3d7a01
call MdevDefine 'ssssa(ss)t' "$U1" mtty mtty-2 "" 2 a 1 b 2 1 > "$TMP/a"
hc mdev define "$U1" --parent mtty --type mtty-2 --attr a=1 --attr b=2 --auto > "$TMP/b"
result_ok "MdevDefine $U1 mtty mtty-2 auto" "$TMP/a" "$U1"
trees "after MdevDefine (mdev define --auto --attr)"
printf '{"mdev_type": "mtty-1", "start": "manual", "attrs": [{"x": "y"}]}\n' > "$TMP/def.json"
call MdevDefine 'ssssa(ss)t' "$U2" mtty "" "$(cat "$TMP/def.json")" 0 0 > "$TMP/a"
hc mdev define "$U2" --parent mtty --jsonfile - < "$TMP/def.json" > "$TMP/b"
result_ok "MdevDefine $U2 with mdevctl's JSON" "$TMP/a" "$U2"
trees "after MdevDefine (mdev define --jsonfile)"
{ call MdevList t 2; echo; } > "$TMP/a"
hc mdev list --all --json > "$TMP/b"
same "MdevList 2 after the definitions is mdev list --all --json" "$TMP/a" "$TMP/b"
call MdevStart sst "$U1" "" 0 > "$TMP/a"
hc mdev start "$U1" > /dev/null
result_ok "MdevStart $U1" "$TMP/a" "$U1"
trees "after MdevStart (mdev start)"
call MdevSetAutostart ssbt "$U1" mtty false 0 > "$TMP/a"
hc mdev autostart "$U1" --parent mtty --disable > /dev/null
result_ok "MdevSetAutostart $U1 false" "$TMP/a"
trees "after MdevSetAutostart (mdev autostart --disable)"
call -- MdevModify 'sssia(ss)ast' "$U2" "" mtty-2 1 1 k v 1 x 0 > "$TMP/a"
hc mdev modify "$U2" --type mtty-2 --auto --attr k=v --delattr x > /dev/null
result_ok "MdevModify $U2" "$TMP/a"
trees "after MdevModify (mdev modify --type --auto --attr --delattr)"
call -- MdevModify 'sssia(ss)ast' "$U2" "" "" -1 0 0 1 > "$TMP/a"
hc mdev modify "$U2" --clear-attrs > /dev/null
result_ok "MdevModify $U2 clear-attrs" "$TMP/a"
trees "after MdevModify (mdev modify --clear-attrs)"
{ call MdevList t 2; echo; } > "$TMP/a"
hc mdev list --all --json > "$TMP/b"
same "MdevList 2 after start/autostart/modify is mdev list --all --json" "$TMP/a" "$TMP/b"
call MdevRemove st "$U1" 0 > /dev/null
hc mdev stop "$U1"
call MdevUndefine sst "$U1" "" 0 > "$TMP/a"
hc mdev undefine "$U1"
result_ok "MdevUndefine $U1" "$TMP/a"
trees "after MdevRemove + MdevUndefine (mdev stop, mdev undefine)"

# mdev errors: named, with the CLI's words
for c in "MdevStart|string:$U3 string: uint64:0|mdev start $U3|NotFound" \
         "MdevStart|string:xyz string: uint64:0|mdev start xyz|InvalidArgument" \
         "MdevUndefine|string:$U3 string: uint64:0|mdev undefine $U3|NotFound" \
         "MdevSetAutostart|string:$U3 string: boolean:true uint64:0|mdev autostart $U3|NotFound"; do
        IFS='|' read -r meth args cli name <<< "$c"
        named "$meth ($cli)" "$name" "$(err "$meth" $args)" "$(cli_err $cli)"
done
# a(ss) and as arguments: gdbus sends them (dbus-send cannot)
if command -v gdbus > /dev/null; then
        # gerr METHOD GVARIANT-ARGS...: "NAME: MESSAGE" of the error
        gerr() {
                local m=$1; shift
                gdbus call -a "$A" -d "$DEST" -o "$OBJ" -m "$IFACE.$m" -- "$@" 2>&1 |
                        sed -n 's/^Error: GDBus.Error:\([^:]*\): \(.*\)$/\1: \2/p'
        }
        for c in "xyz|mtty|mtty-1|mdev define xyz --parent mtty --type mtty-1|InvalidArgument" \
                 "$U3|mtty|nope|mdev define $U3 --parent mtty --type nope|Failed" \
                 "$U3|||mdev define $U3|InvalidArgument" \
                 "$U2|mtty|mtty-1|mdev define $U2 --parent mtty --type mtty-1|Failed"; do
                IFS='|' read -r u p t cli name <<< "$c"
                named "MdevDefine ($cli)" "$name" "$(gerr MdevDefine "'$u'" "'$p'" "'$t'" "''" "@a(ss) []" 0)" "$(cli_err $cli)"
        done
        named "MdevModify with nothing to change" InvalidArgument \
                "$(gerr MdevModify "'$U2'" "''" "''" -1 "@a(ss) []" "@as []" 0)" "$(cli_err mdev modify "$U2")"
        named "MdevModify of an undefined mdev" NotFound \
                "$(gerr MdevModify "'$U3'" "''" "''" 1 "@a(ss) []" "@as []" 0)" "$(cli_err mdev modify "$U3" --auto)"
        named "MdevModify deleting an attribute it does not have" Failed \
                "$(gerr MdevModify "'$U2'" "''" "''" 1 "@a(ss) []" "['nope']" 0)" "$(cli_err mdev modify "$U2" --auto --delattr nope)"
        echo '{"mdev_type": 5' > "$TMP/bad.json"
        named "MdevDefine with malformed JSON" InvalidArgument \
                "$(gerr MdevDefine "'$U3'" "'mtty'" "''" "'$(cat "$TMP/bad.json")'" "@a(ss) []" 0)" \
                "$(cli_err mdev define $U3 --parent mtty --jsonfile - < "$TMP/bad.json")"
        named "MdevDefine with JSON and a type" InvalidArgument \
                "$(gerr MdevDefine "'$U3'" "'mtty'" "'mtty-1'" "'$(cat "$TMP/def.json")'" "@a(ss) []" 0)" \
                "$(cli_err mdev define $U3 --parent mtty --type mtty-1 --jsonfile - < "$TMP/def.json")"
else
        skip "MdevDefine and MdevModify errors" "no gdbus (Debian: apt install libglib2.0-bin)"
fi
trees "after the refused mdev calls"

# --- the libvirt-style verbs: node-device XML and names
N3=mdev_${U3//-/_}_mtty
cat > "$TMP/dev.xml" <<EOF
<device>
  <parent>mtty_mtty</parent>
  <capability type='mdev'>
    <type id='mtty-2'/>
    <uuid>$U3</uuid>
    <attr name='p' value='q'/>
    <start type='manual'/>
  </capability>
</device>
EOF
call NodedevDefineXML st "$(cat "$TMP/dev.xml")" 0 > "$TMP/a"
hc nodedev-define "$TMP/dev.xml" > /dev/null
result_ok "NodedevDefineXML" "$TMP/a" "$U3"
trees "after NodedevDefineXML (nodedev-define)"
for v in "NodedevSetAutostart sbt $N3 true 0|nodedev-autostart $N3" "NodedevStart st $N3 0|nodedev-start $N3" \
         "NodedevSetAutostart sbt $N3 false 0|nodedev-autostart $N3 --disable" "NodedevDestroy st $N3 0|nodedev-destroy $N3" \
         "NodedevUndefine st $N3 0|nodedev-undefine $N3"; do
        call ${v%%|*} > "$TMP/a"
        hc ${v#*|} > /dev/null
        result_ok "${v%%|*}" "$TMP/a" "$U3"
        trees "after ${v%%|*} (${v#*|})"
done
call NodedevCreateXML st "$(cat "$TMP/dev.xml")" 0 > "$TMP/a"
hc nodedev-create "$TMP/dev.xml" > /dev/null
result_ok "NodedevCreateXML" "$TMP/a" "$U3"
trees "after NodedevCreateXML (nodedev-create)"
{ call MdevList t 2; echo; } > "$TMP/a"
hc mdev list --all --json > "$TMP/b"
same "MdevList 2 after the nodedev verbs is mdev list --all --json" "$TMP/a" "$TMP/b"
for c in "NodedevCreateXML|string:<device/> uint64:0|nodedev-create -|<device/>" \
         "NodedevDefineXML|string:<device uint64:0|nodedev-define -|<device" \
         "NodedevCreateXML|string:$(cat "$TMP/dev.xml" | tr -d '\n') uint64:0|nodedev-create -|$(cat "$TMP/dev.xml" | tr -d '\n')" \
         "NodedevDestroy|string:pci_0000_00_1f_0 uint64:0|nodedev-destroy pci_0000_00_1f_0|" \
         "NodedevStart|string:$N3 uint64:0|nodedev-start $N3|" \
         "NodedevUndefine|string:$N3 uint64:0|nodedev-undefine $N3|" \
         "NodedevDestroy|string:nosuch uint64:0|nodedev-destroy nosuch|"; do
        IFS='|' read -r meth args cli stdin <<< "$c"
        got=$(err "$meth" "${args% uint64:0}" uint64:0)
        want=$(printf '%s' "$stdin" | cli_err $cli)
        case $got in
        "org.hostdev.Hostdev1.Error."*": $want") [ -n "$want" ] && ok "$meth ($cli): a named error with the CLI's text (${got%%:*})" \
                || fail "$meth ($cli): the CLI failed too" "CLI said nothing" ;;
        *) fail "$meth ($cli): a named error with the CLI's text" "got '$got', CLI '$want'" ;;
        esac
done
trees "after the refused nodedev calls"

# --- an unprivileged caller: refused, nothing changed; reads are open
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        snap "$F" > "$TMP/before"
        for c in "SriovSet string:02:00.0 uint32:0 string: int32:-1 uint64:4" \
                 "SriovSetVf string:02:00.0 uint32:0 string: int32:5 int32:-1 int32:-1 int32:-1 uint64:2" \
                 "SriovPersist string:02:00.0 uint32:0 string: int32:-1 uint64:0" \
                 "SriovPersistVf string:02:00.0 uint32:0 string: int32:5 int32:-1 int32:-1 int32:-1 uint64:0" \
                 "MdevUndefine string:$U2 string: uint64:0" "MdevStart string:$U2 string: uint64:0" \
                 "MdevSetAutostart string:$U2 string: boolean:false uint64:0" \
                 "NodedevDestroy string:$N3 uint64:0" "NodedevUndefine string:$N3 uint64:0" \
                 "NodedevStart string:$N3 uint64:0" "NodedevSetAutostart string:$N3 boolean:true uint64:0"; do
                got=$(err --as-nobody $c)
                case $got in
                "org.freedesktop.DBus.Error.AccessDenied: org.hostdev."*" needs root: polkit is not running to authorize others")
                        ok "${c%% *} as uid 65534: AccessDenied" ;;
                *) fail "${c%% *} as uid 65534: AccessDenied" "$got" ;;
                esac
        done
        for meth in NodedevCreateXML NodedevDefineXML; do
                got=$(err --as-nobody $meth string:"$(cat "$TMP/dev.xml")" uint64:0)
                [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: org.hostdev.mdev needs root: polkit is not running to authorize others" ] \
                        && ok "$meth as uid 65534: AccessDenied" || fail "$meth as uid 65534: AccessDenied" "$got"
        done
        if command -v gdbus > /dev/null; then
                gnobody() { # METHOD ARGS...: the error of gdbus as uid 65534
                        local m=$1; shift
                        setpriv --reuid=65534 --regid=65534 --clear-groups gdbus call -a "$A" -d "$DEST" -o "$OBJ" \
                                -m "$IFACE.$m" -- "$@" 2>&1 | sed -n 's/^Error: GDBus.Error:\([^:]*\): \(.*\)$/\1: \2/p'
                }
                for m in MdevDefine MdevModify; do
                        if [ $m = MdevDefine ]; then
                                got=$(gnobody $m "'$U1'" "'mtty'" "'mtty-1'" "''" "@a(ss) []" 0)
                        else
                                got=$(gnobody $m "'$U2'" "''" "''" 1 "@a(ss) []" "@as []" 0)
                        fi
                        [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: org.hostdev.mdev needs root: polkit is not running to authorize others" ] \
                                && ok "$m as uid 65534: AccessDenied" || fail "$m as uid 65534: AccessDenied" "$got"
                done
        fi
        snap "$F" > "$TMP/after"
        cmp -s "$TMP/before" "$TMP/after" && ok "the refused calls changed nothing" \
                || fail "the refused calls changed nothing" "$(diff "$TMP/before" "$TMP/after" | head -5 | tr '\n' ' ')"
        { call --as-nobody SriovList; echo; } > "$TMP/a"
        hc sriov list --json > "$TMP/b"
        same "uid 65534 reads: SriovList" "$TMP/a" "$TMP/b"
        { call --as-nobody MdevList t 2; echo; } > "$TMP/a"
        hc mdev list --all --json > "$TMP/b"
        same "uid 65534 reads: MdevList" "$TMP/a" "$TMP/b"
        { call --as-nobody GpuList s ""; echo; } > "$TMP/a"
        hc gpu --json > "$TMP/b"
        same "uid 65534 reads: GpuList" "$TMP/a" "$TMP/b"
        { call --as-nobody MdevTypes s mtty; echo; } > "$TMP/a"
        hc mdev types mtty --json > "$TMP/b"
        same "uid 65534 reads: MdevTypes" "$TMP/a" "$TMP/b"
else
        skip "unprivileged callers: AccessDenied" "not root, or no setpriv"
fi

# --- malformed calls: named errors, and the daemon keeps serving
got=$(err SriovSetVf string:02:00.0 uint32:0)
case $got in org.freedesktop.DBus.Error.InvalidArgs:*) ok "SriovSetVf with too few arguments: InvalidArgs" ;;
*) fail "SriovSetVf with too few arguments: InvalidArgs" "$got" ;; esac
got=$(err MdevDefine string:a string:b)
case $got in org.freedesktop.DBus.Error.InvalidArgs:*) ok "MdevDefine with too few arguments: InvalidArgs" ;;
*) fail "MdevDefine with too few arguments: InvalidArgs" "$got" ;; esac
got=$(busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" -- MdevDefine 'ssssa(ss)t' "$U3" mtty mtty-1 "" 1 "" v 0 2>&1)
[ "$got" = "Call failed: mdev define: attribute '=v' is not NAME=VALUE" ] && ok "MdevDefine with a nameless attribute: refused" \
        || fail "MdevDefine with a nameless attribute: refused" "$got"
got=$(err MdevModify string:$U2 string: string: int32:7 array:string: array:string: uint64:0 2>&1)
case $got in org.freedesktop.DBus.Error.InvalidArgs:*|org.hostdev.Hostdev1.Error.InvalidArgument:*) ok "MdevModify malformed: refused (${got%%:*})" ;;
*) fail "MdevModify malformed: refused" "$got" ;; esac
got=$(busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" -- MdevModify 'sssia(ss)ast' "$U2" "" "" 7 0 0 0 2>&1)
[ "$got" = "Call failed: mdev modify: autostart is 1 (--auto), 0 (--manual) or -1 (unchanged), not 7" ] \
        && ok "MdevModify autostart 7: refused" || fail "MdevModify autostart 7: refused" "$got"
trees "after the malformed calls"
alive && ok "the daemon keeps serving after malformed calls" || fail "the daemon keeps serving after malformed calls" "$(tail -3 "$TMP/daemon.log")"
{ call MdevList t 2; echo; } > "$TMP/a"
hc mdev list --all --json > "$TMP/b"
same "MdevList at the end is mdev list --all --json" "$TMP/a" "$TMP/b"
stop_daemon
finish
