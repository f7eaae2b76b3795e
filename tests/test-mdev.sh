#!/usr/bin/env bash
# Mediated devices: the library on a fake tree with the fake kernel
# (test-mdev.c), then every hostdevctl mdev verb and the libvirt-style
# nodedev verbs through hostdevctl-fake (the CLI with the fake kernel).
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"
unset HOSTDEV_MDEVCTL_DIR

build_fixtures full
cp -a "$TMP/fx/full" "$TMP/lib"
# library tests: TAP lines re-numbered into this stream
"$TEST_MDEV" "$TMP/lib" > "$TMP/lib.tap" 2>&1
while IFS= read -r l; do
        case "$l" in
        "ok "*) ok "lib: ${l#ok * - }";;
        "not ok "*) fail "lib: ${l#not ok * - }";;
        esac
done < "$TMP/lib.tap"

F=$TMP/fx/full
C=$F/etc/mdevctl.d
hf() { "$HOSTDEVCTL_FAKE" --sysroot "$F" "$@"; }
U1=11111111-2222-4333-8444-555555555555
U2=9c4954d2-fa39-4973-9d66-d61c6c4d0100

# expect_exit CODE NAME CMD... ; one error line on failure
expect_exit() {
        local code=$1 name=$2; shift 2
        "$@" > "$TMP/out" 2> "$TMP/err"
        local rc=$?
        if [ $rc != "$code" ]; then
                fail "$name" "exit $rc, expected $code: $(head -3 "$TMP/err" | tr '\n' ' ')"
        elif [ "$code" != 0 ] && [ "$(wc -l < "$TMP/err")" != 1 ]; then
                fail "$name" "expected one error line, got: $(tr '\n' '|' < "$TMP/err")"
        else
                ok "$name"
        fi
}
# snapshot of everything a verb could change
snap() { (cd "$F" && find sys/bus/mdev sys/devices/virtual/mtty sys/devices/pci0000:00/0000:00:02.0 etc dev/vfio \
                -printf '%p %l %s\n' 2>/dev/null | sort; cat sys/class/mdev_bus/*/mdev_supported_types/*/available_instances) ; }
unchanged() { # NAME CODE CMD...: fails with CODE and changes nothing
        local name=$1 code=$2; shift 2
        snap > "$TMP/before"
        expect_exit "$code" "$name" "$@"
        snap > "$TMP/after"
        cmp -s "$TMP/before" "$TMP/after" && ok "$name: nothing changed" || fail "$name: nothing changed" "$(diff "$TMP/before" "$TMP/after" | head -5 | tr '\n' ' ')"
        ! find "$F/etc" -name '*.hostdev-tmp' 2>/dev/null | grep -q . && ok "$name: no partial file" || fail "$name: no partial file"
}

# --- types / list
hf mdev types > "$TMP/types"
grep -q '^mtty$' "$TMP/types" && grep -q '^  mtty-2$' "$TMP/types" && grep -q '^  i915-GVTg_V5_8$' "$TMP/types" \
        && ok "mdev types" || fail "mdev types"
[ "$(hf mdev types mtty_mtty --json | python3 -c 'import json,sys; print(",".join(t["type"] for t in json.load(sys.stdin)))')" = mtty-1,mtty-2 ] \
        && ok "mdev types PARENT --json" || fail "mdev types PARENT --json"
expect_exit 1 "mdev types of a non-parent" hf mdev types pci_0000_00_1f_0
cp -a "$TMP/fx/full" "$TMP/noparents" && rm -rf "$TMP/noparents/sys/class/mdev_bus"
[ "$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/noparents" mdev types)" = "no mediated-device parents" ] \
        && ok "mdev types without parents says so" || fail "mdev types without parents says so"
[ "$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/noparents" mdev types --json)" = "[
]" ] && ok "mdev types --json without parents: []" || fail "mdev types --json without parents: []" "$("$HOSTDEVCTL_FAKE" --sysroot "$TMP/noparents" mdev types --json)"
unchanged "mdev create --dry-run" 0 hf mdev create mtty mtty-2 --uuid $U2 --dry-run
[ "$(cat "$TMP/out")" = "would create $U2 (mtty-2 on mtty)" ] && ok "mdev create --dry-run: the plan" || fail "mdev create --dry-run: the plan" "$(cat "$TMP/out")"
unchanged "mdev create --dry-run of an unknown type" 1 hf mdev create mtty nope --dry-run
[ "$(cat "$TMP/err")" = "hostdevctl: mdev create: unknown mdev type 'nope' for parent mtty (see 'hostdevctl mdev types mtty')" ] \
        && ok "mdev create --dry-run checks the type" || fail "mdev create --dry-run checks the type" "$(cat "$TMP/err")"
[ "$(hf mdev list | wc -l)" = 2 ] && ok "mdev list: the two fixture mdevs" || fail "mdev list"

# --- create / remove
expect_exit 0 "mdev create mtty mtty-2 --uuid" hf mdev create mtty mtty-2 --uuid $U1
[ "$(cat "$TMP/out")" = $U1 ] && ok "create prints the UUID" || fail "create prints the UUID"
hf nodedev-list --cap mdev | grep -qx "mdev_${U1//-/_}_mtty" && ok "created mdev listed as a nodedev" || fail "created mdev listed as a nodedev"
hf nodedev-dumpxml $U1 | xmllint --noout --relaxng "$LIBVIRT_RNG" - 2>/dev/null && ok "its XML validates against libvirt's schema" \
        || fail "its XML validates against libvirt's schema"
hf nodedev-info $U1 | grep -q '^Active: *yes' && ok "nodedev-info: active" || fail "nodedev-info: active"
unchanged "create with a duplicate UUID" 1 hf mdev create mtty mtty-1 --uuid $U1
unchanged "create with an unknown type" 1 hf mdev create mtty mtty-7
unchanged "create with an unknown parent" 1 hf mdev create 0000:00:1f.0 mtty-1
unchanged "create with a bad UUID" 64 hf mdev create mtty mtty-1 --uuid 1234
grep -q "unknown mdev type 'mtty-7'" <(hf mdev create mtty mtty-7 2>&1) && ok "unknown type: clear message" || fail "unknown type: clear message"
expect_exit 0 "create with a random UUID" hf mdev create pci_0000_00_02_0 i915-GVTg_V5_4
R=$(cat "$TMP/out")
unchanged "create with no instance left" 1 hf mdev create 0000:00:02.0 i915-GVTg_V5_4
grep -q "no available instances" "$TMP/err" && ok "no instance: clear message" || fail "no instance: clear message"
expect_exit 0 "mdev remove" hf mdev remove "$R"
[ ! -e "$F/sys/bus/mdev/devices/$R" ] && ok "removed from sysfs" || fail "removed from sysfs"
unchanged "remove of an unknown mdev" 1 hf mdev remove $U2

# in use: a process holds the group open (through /proc of the tree)
G=$(basename "$(readlink "$F/sys/bus/mdev/devices/$U1/iommu_group")")
mkdir -p "$F/proc/777/fd" && ln -s "/dev/vfio/$G" "$F/proc/777/fd/20"
unchanged "remove while in use" 2 hf mdev remove $U1
grep -q "in use" "$TMP/err" && ok "in use: clear message" || fail "in use: clear message"
unchanged "nodedev-destroy while in use" 2 hf nodedev-destroy "mdev_${U1//-/_}_mtty"
rm -rf "$F/proc"

# --- define / list --defined / nodedev-list --inactive / dumpxml / info
expect_exit 0 "mdev define --parent --type --auto --attr" hf mdev define $U2 --parent pci_0000_00_02_0 --type i915-GVTg_V5_8 --auto --attr a=b
[ -f "$C/0000:00:02.0/$U2" ] && ok "definition in mdevctl's place" || fail "definition in mdevctl's place"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d=={"mdev_type":"i915-GVTg_V5_8","start":"auto","attrs":[{"a":"b"}]}, d' \
        "$C/0000:00:02.0/$U2" && ok "definition is mdevctl JSON" || fail "definition is mdevctl JSON"
unchanged "define twice" 1 hf mdev define $U2 --parent 0000:00:02.0 --type i915-GVTg_V5_8
unchanged "define with an unknown type" 1 hf mdev define $U1 --parent mtty --type nope
printf '{"mdev_type": "mtty-1", "start": "auto", "attrs": [' > "$TMP/bad.json"
unchanged "define from malformed JSON" 1 hf mdev define $U1 --parent mtty --jsonfile "$TMP/bad.json"
grep -q "malformed JSON" "$TMP/err" && ok "malformed JSON: clear message" || fail "malformed JSON: clear message"
hf mdev list --defined | grep -q "^$U2 0000:00:02.0 i915-GVTg_V5_8 auto$" && ok "mdev list --defined" || fail "mdev list --defined"
N2=mdev_${U2//-/_}_0000_00_02_0
hf nodedev-list --inactive | grep -qx "$N2" && ok "nodedev-list --inactive" || fail "nodedev-list --inactive"
hf nodedev-list | grep -qx "$N2" && fail "plain nodedev-list hides inactive" || ok "plain nodedev-list hides inactive"
hf nodedev-list --all | grep -qx "$N2" && ok "nodedev-list --all" || fail "nodedev-list --all"
[ "$(hf nodedev-list --persistent)" = "$N2" ] || true
hf nodedev-list --all --persistent | grep -qx "$N2" && ok "nodedev-list --all --persistent" || fail "nodedev-list --all --persistent"
hf nodedev-list --transient | grep -qx "$N2" && fail "--transient excludes defined" || ok "--transient excludes defined"
hf nodedev-dumpxml "$N2" > "$TMP/inactive.xml"
grep -q "<start type='auto'/>" "$TMP/inactive.xml" && grep -q "<attr name='a' value='b'/>" "$TMP/inactive.xml" \
        && ok "dumpxml of an inactive mdev" || fail "dumpxml of an inactive mdev"
xmllint --noout --relaxng "$OUR_RNG" "$TMP/inactive.xml" 2>/dev/null && ok "inactive XML validates against our schema" \
        || fail "inactive XML validates against our schema"
hf nodedev-info "$N2" | tr -s ' ' > "$TMP/info"
grep -q "^Active: no" "$TMP/info" && grep -q "^Persistent: yes" "$TMP/info" && grep -q "^Autostart: yes" "$TMP/info" \
        && ok "nodedev-info: inactive, persistent, autostart" || fail "nodedev-info" "$(tr '\n' ' ' < "$TMP/info")"

# --- modify / autostart / start / stop / undefine
expect_exit 0 "mdev modify --manual --attr --delattr" hf mdev modify $U2 --manual --attr c=d --delattr a
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["start"]=="manual" and d["attrs"]==[{"c":"d"}], d' \
        "$C/0000:00:02.0/$U2" && ok "modify changed the definition" || fail "modify changed the definition"
unchanged "modify to an unknown type" 1 hf mdev modify $U2 --type nope
unchanged "modify an undefined mdev" 1 hf mdev modify $U1 --auto
expect_exit 0 "mdev autostart" hf mdev autostart $U2
expect_exit 0 "mdev autostart --disable" hf mdev autostart --disable $U2
grep -q '"manual"' "$C/0000:00:02.0/$U2" && ok "autostart --disable wrote manual" || fail "autostart --disable wrote manual"
expect_exit 0 "mdev start" hf mdev start $U2
[ -e "$F/sys/bus/mdev/devices/$U2/c" ] && ok "start wrote the attribute" || fail "start wrote the attribute"
hf nodedev-info "$N2" | tr -s ' ' | grep -q "^Active: yes" && ok "nodedev-info: now active" || fail "nodedev-info: now active"
unchanged "start of a running mdev" 1 hf mdev start $U2
expect_exit 0 "mdev stop" hf mdev stop $U2
[ -f "$C/0000:00:02.0/$U2" ] && [ ! -e "$F/sys/bus/mdev/devices/$U2" ] && ok "stop keeps the definition" || fail "stop keeps the definition"
expect_exit 0 "mdev undefine" hf mdev undefine $U2
[ ! -e "$C/0000:00:02.0/$U2" ] && ok "undefine removed the file" || fail "undefine removed the file"
unchanged "undefine an undefined mdev" 1 hf mdev undefine $U2

# --- apply (hostdevctl apply and mdev apply)
expect_exit 0 "define auto on mtty" hf mdev define $U1 --auto
[ -f "$C/mtty/$U1" ] && ok "define of a running mdev by UUID" || fail "define of a running mdev by UUID"
expect_exit 0 "remove it" hf mdev remove $U1
expect_exit 0 "mdev apply" hf mdev apply
grep -q "$U1.*started" "$TMP/out" && [ -e "$F/sys/bus/mdev/devices/$U1" ] && ok "apply re-created it" || fail "apply re-created it" "$(cat "$TMP/out")"
expect_exit 0 "mdev apply again" hf mdev apply
grep -q "$U1.*unchanged" "$TMP/out" && ok "apply is idempotent" || fail "apply is idempotent"
expect_exit 0 "remove again" hf mdev remove $U1
unchanged "mdev apply --dry-run" 0 hf mdev apply --dry-run
[ "$(grep "$U1" "$TMP/out")" = "mdev $U1  mtty mtty-2  would start" ] && ok "mdev apply --dry-run: would start" || fail "mdev apply --dry-run: would start" "$(cat "$TMP/out")"
unchanged "hostdevctl apply --dry-run" 0 hf apply --dry-run
grep -q "^mdev $U1  mtty mtty-2  would start$" "$TMP/out" && ok "apply --dry-run includes mdevs" || fail "apply --dry-run includes mdevs" "$(cat "$TMP/out")"
unchanged "hostdevctl apply --dry-run --json" 0 hf apply --dry-run --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); m=[x for x in d["mdevs"] if x["uuid"]==sys.argv[2]]; assert d["status"]=="ok" and m[0]["result"]=="would start" and m[0]["error"] is None, d' \
        "$TMP/out" $U1 && ok "apply --dry-run --json: the mdev in 'mdevs'" || fail "apply --dry-run --json: the mdev in 'mdevs'" "$(cat "$TMP/out")"
expect_exit 0 "hostdevctl apply --json" hf apply --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); m=[x for x in d["mdevs"] if x["uuid"]==sys.argv[2]]; assert d["status"]=="ok" and m[0]["result"]=="started", d' \
        "$TMP/out" $U1 && ok "apply --json reports the mdev it started" || fail "apply --json reports the mdev it started" "$(cat "$TMP/out")"
[ -e "$F/sys/bus/mdev/devices/$U1" ] && ok "hostdevctl apply starts auto mdevs" || fail "hostdevctl apply starts auto mdevs"
mkdir -p "$C/0000:09:00.0" && printf '{"mdev_type":"x","start":"auto","attrs":[]}' > "$C/0000:09:00.0/$U2"
expect_exit 0 "apply with an absent parent" hf mdev apply --json
python3 -c 'import json,sys; s=[x for x in json.load(open(sys.argv[1])) if x["uuid"]==sys.argv[2]]; assert s[0]["result"]=="parent absent", s' \
        "$TMP/out" $U2 && ok "absent parent: skipped" || fail "absent parent: skipped"
rm -rf "$C/0000:09:00.0"
echo garbage > "$C/mtty/$U2"
expect_exit 0 "a malformed definition is skipped" hf mdev list --defined
grep -q "invalid mdev definition" "$TMP/err" && ok "malformed definition: warned" || fail "malformed definition: warned"
rm -f "$C/mtty/$U2"

# --- libvirt-style verbs
cat > "$TMP/mdev.xml" <<XML
<device>
  <parent>mtty_mtty</parent>
  <capability type='mdev'>
    <type id='mtty-2'/>
    <uuid>$U2</uuid>
    <attr name='k' value='v'/>
  </capability>
</device>
XML
NM=mdev_${U2//-/_}_mtty
expect_exit 0 "nodedev-create" hf nodedev-create "$TMP/mdev.xml"
grep -q "^Node device $NM created from" "$TMP/out" && [ -e "$F/sys/bus/mdev/devices/$U2/k" ] && ok "nodedev-create: created with attr" \
        || fail "nodedev-create: created with attr"
[ ! -e "$C/mtty/$U2" ] && ok "nodedev-create is transient" || fail "nodedev-create is transient"
hf nodedev-info $NM | tr -s ' ' | grep -q "^Persistent: no" && ok "transient: Persistent no" || fail "transient: Persistent no"
unchanged "nodedev-create twice" 1 hf nodedev-create "$TMP/mdev.xml"
unchanged "nodedev-undefine of a transient mdev" 1 hf nodedev-undefine $NM
expect_exit 0 "nodedev-destroy" hf nodedev-destroy $NM
[ ! -e "$F/sys/bus/mdev/devices/$U2" ] && ok "destroyed" || fail "destroyed"
sed 's|</capability>|  <start type='"'auto'"'/>\n  </capability>|' "$TMP/mdev.xml" > "$TMP/auto.xml"
expect_exit 0 "nodedev-define" hf nodedev-define "$TMP/auto.xml"
grep -q "^Node device '$NM' defined from" "$TMP/out" && grep -q '"auto"' "$C/mtty/$U2" && ok "nodedev-define wrote an auto definition" \
        || fail "nodedev-define wrote an auto definition"
hf nodedev-list --inactive | grep -qx $NM && ok "defined: inactive node device" || fail "defined: inactive node device"
expect_exit 0 "nodedev-autostart --disable" hf nodedev-autostart --disable $NM
grep -q '"manual"' "$C/mtty/$U2" && ok "autostart disabled" || fail "autostart disabled"
expect_exit 0 "nodedev-autostart" hf nodedev-autostart $NM
expect_exit 0 "nodedev-start" hf nodedev-start $NM
grep -q "^Device $NM started" "$TMP/out" && [ -e "$F/sys/bus/mdev/devices/$U2" ] && ok "started" || fail "started"
hf nodedev-info $NM | tr -s ' ' > "$TMP/info"
grep -q "^Active: yes" "$TMP/info" && grep -q "^Persistent: yes" "$TMP/info" && grep -q "^Autostart: yes" "$TMP/info" \
        && ok "nodedev-info: active, persistent, autostart" || fail "nodedev-info" "$(tr '\n' ' ' < "$TMP/info")"
unchanged "nodedev-start of an active mdev" 1 hf nodedev-start $NM
expect_exit 0 "nodedev-destroy of a defined mdev" hf nodedev-destroy $NM
hf nodedev-list --inactive | grep -qx $NM && ok "destroyed defined mdev stays inactive" || fail "destroyed defined mdev stays inactive"
expect_exit 0 "nodedev-undefine" hf nodedev-undefine $NM
hf nodedev-list --all | grep -qx $NM && fail "undefined mdev gone" || ok "undefined mdev gone"
unchanged "nodedev-destroy of a PCI device" 1 hf nodedev-destroy pci_0000_00_02_0

# bad XML: clear error, nothing changed
bad() { printf '%s' "$2" > "$TMP/bad.xml"; unchanged "$1" 1 hf "${3:-nodedev-create}" "$TMP/bad.xml"; grep -q "$4" "$TMP/err" \
        && ok "$1: says '$4'" || fail "$1: says '$4'" "$(cat "$TMP/err")"; }
bad "malformed XML" "<device><parent>mtty_mtty</parent><capability type='mdev'>" nodedev-create "malformed XML"
bad "unknown parent" "<device><parent>pci_0000_7f_00_0</parent><capability type='mdev'><type id='mtty-1'/></capability></device>" nodedev-define "unknown parent"
bad "unknown type" "<device><parent>mtty_mtty</parent><capability type='mdev'><type id='mtty-5'/></capability></device>" nodedev-define "unknown mdev type"
bad "bad UUID" "<device><parent>mtty_mtty</parent><capability type='mdev'><type id='mtty-1'/><uuid>xyz</uuid></capability></device>" nodedev-define "not a valid UUID"
bad "no parent" "<device><capability type='mdev'><type id='mtty-1'/></capability></device>" nodedev-create "needs a <parent>"
bad "not an mdev" "<device><parent>computer</parent><capability type='pci'/></device>" nodedev-create "only mediated devices"
unchanged "nodedev-create of a missing file" 1 hf nodedev-create "$TMP/none.xml"

# HOSTDEV_MDEVCTL_DIR moves the config root
mkdir -p "$TMP/cfg"
HOSTDEV_MDEVCTL_DIR=$TMP/cfg "$HOSTDEVCTL_FAKE" --sysroot "$F" mdev define $U2 --parent mtty --type mtty-1 >/dev/null 2>&1
[ -f "$TMP/cfg/mtty/$U2" ] && [ ! -e "$C/mtty/$U2" ] && ok "HOSTDEV_MDEVCTL_DIR" || fail "HOSTDEV_MDEVCTL_DIR"

# help for every verb
for v in mdev nodedev-create nodedev-destroy nodedev-define nodedev-undefine nodedev-start nodedev-autostart; do
        hd "$v" --help > "$TMP/help" 2>&1 && grep -q "^Usage: hostdevctl" "$TMP/help" && ok "$v --help" || fail "$v --help"
done
finish
