#!/usr/bin/env bash
# hostdevctl behaviour: lookups, bad input, exit codes, damaged and hostile
# trees, capture round trips.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

build_fixtures full minimal broken hostile
F=$TMP/fx/full

# expect_exit CODE NAME CMD... ; stderr must be exactly one line on failure
expect_exit() {
        local code=$1 name=$2; shift 2
        "$@" > "$TMP/out" 2> "$TMP/err"
        local rc=$?
        if [ $rc != "$code" ]; then
                fail "$name" "exit $rc, expected $code: $(head -2 "$TMP/err" | tr '\n' ' ')"
        elif [ "$code" != 0 ] && [ "$(wc -l < "$TMP/err")" != 1 ]; then
                fail "$name" "expected one error line, got: $(tr '\n' '|' < "$TMP/err")"
        else
                ok "$name"
        fi
}

# expect_err CODE NAME MESSAGE CMD... : exit CODE and exactly MESSAGE on stderr
expect_err() {
        local code=$1 name=$2 msg=$3; shift 3
        "$@" > "$TMP/out" 2> "$TMP/err"
        local rc=$?
        if [ $rc != "$code" ]; then
                fail "$name" "exit $rc, expected $code: $(head -2 "$TMP/err" | tr '\n' ' ')"
        elif [ "$(cat "$TMP/err")" != "$msg" ]; then
                fail "$name" "stderr: $(cat -A "$TMP/err" | head -3) -- expected: $msg"
        else
                ok "$name"
        fi
}

# --- lookups: every spelling resolves to the same device
for q in pci_0000_02_00_0 0000:02:00.0 02:00.0 enp2s0 /sys/bus/pci/devices/0000:02:00.0 \
         /sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0; do
        n=$(hd --sysroot "$F" nodedev-dumpxml "$q" 2>/dev/null | sed -n 's|^  <name>\(.*\)</name>|\1|p')
        want=pci_0000_02_00_0
        [ "$q" = enp2s0 ] && want=$(hd --sysroot "$F" nodedev-list | grep '^net_enp2s0_')
        [ "$n" = "$want" ] && ok "lookup '$q'" || fail "lookup '$q'" "got '$n', want '$want'"
done
n=$(hd --sysroot "$F" nodedev-dumpxml 4b20d080-1b54-4048-85b3-a6a62d165c01 | sed -n 's|^  <name>\(.*\)</name>|\1|p')
[ "$n" = mdev_4b20d080_1b54_4048_85b3_a6a62d165c01_0000_00_02_0 ] && ok "lookup by mdev UUID" || fail "lookup by mdev UUID" "$n"
n=$(hd --sysroot "$F" nodedev-dumpxml /sys/class/net/enp2s0 | sed -n 's|^  <name>\(.*\)</name>|\1|p')
case "$n" in net_enp2s0_*) ok "lookup by /sys/class path";; *) fail "lookup by /sys/class path" "$n";; esac

# block and DRM devices by their device node or its name, as lsblk users name them
for q in sda /dev/sda /dev/disk/by-id/ata-HTS721010G9SA00_MPCZ12Y0GNGWSE; do
        n=$(hd --sysroot "$F" nodedev-dumpxml "$q" 2>/dev/null | sed -n 's|^  <name>\(.*\)</name>|\1|p')
        [ "$n" = block_sda_HTS721010G9SA00_MPCZ12Y0GNGWSE ] && ok "lookup '$q'" || fail "lookup '$q'" "got '$n'"
done
n=$(hd --sysroot "$F" nodedev-dumpxml /dev/dri/card0 2>/dev/null | sed -n 's|^  <name>\(.*\)</name>|\1|p')
[ "$n" = drm_card0 ] && ok "lookup '/dev/dri/card0'" || fail "lookup '/dev/dri/card0'" "got '$n'"
n=$(hd --sysroot "$F" nodedev-dumpxml eno1 2>/dev/null | sed -n 's|^  <name>\(.*\)</name>|\1|p')
[ "$n" = net_eno1_98_fa_9b_11_22_33 ] && ok "lookup 'eno1'" || fail "lookup 'eno1'" "got '$n'"
expect_err 1 "a device node nothing owns" "hostdevctl: no node device matches '/dev/nope'" \
        hd --sysroot "$F" nodedev-dumpxml /dev/nope

# --- what a new user types wrong: exact message and exit status
expect_err 64 "typo of a verb: did you mean" \
        "hostdevctl: unknown verb 'nodedev-lst'; did you mean 'nodedev-list'? (see 'hostdevctl --help')" hd nodedev-lst
expect_err 64 "virsh short form: did you mean" \
        "hostdevctl: unknown verb 'list'; did you mean 'nodedev-list'? (see 'hostdevctl --help')" hd list
expect_err 64 "no suggestion for an unrelated word" \
        "hostdevctl: unknown verb 'frobnicate' (see 'hostdevctl --help')" hd frobnicate
expect_err 64 "typo of a sub-verb: did you mean" \
        "hostdevctl: mdev: unknown subcommand 'lst'; did you mean 'list'? (see 'hostdevctl mdev --help')" hd mdev lst
expect_err 64 "transposed letters in a verb: did you mean" \
        "hostdevctl: unknown verb 'nodedev-lsit'; did you mean 'nodedev-list'? (see 'hostdevctl --help')" hd nodedev-lsit
# every sub-verb table goes through the same dispatch, with the same suggestions
expect_err 64 "typo of a boot sub-verb: did you mean" \
        "hostdevctl: boot: unknown subcommand 'staus'; did you mean 'status'? (see 'hostdevctl boot --help')" hd boot staus
expect_err 64 "typo of an override sub-verb: did you mean" \
        "hostdevctl: override: unknown subcommand 'unst'; did you mean 'unset'? (see 'hostdevctl override --help')" \
        hd override unst
expect_err 64 "typo of a vgpu sub-verb: did you mean" \
        "hostdevctl: vgpu: unknown subcommand 'tpyes'; did you mean 'types'? (see 'hostdevctl vgpu --help')" hd vgpu tpyes
expect_err 64 "typo of an sriov sub-verb: did you mean" \
        "hostdevctl: sriov: unknown subcommand 'lits'; did you mean 'list'? (see 'hostdevctl sriov --help')" hd sriov lits
expect_err 64 "no suggestion for an unrelated sub-verb" \
        "hostdevctl: mdev: unknown subcommand 'frobnicate' (see 'hostdevctl mdev --help')" hd mdev frobnicate
expect_err 64 "a sub-verb's own missing-subcommand text" \
        "hostdevctl: boot: expected plan, apply, status or undo (see 'hostdevctl boot --help')" hd boot
expect_err 64 "missing subcommand" \
        "hostdevctl: sriov: missing subcommand (see 'hostdevctl sriov --help')" hd sriov
# argument counts, checked by the verb table after the options
expect_err 64 "too many arguments: the first extra one is named" \
        "hostdevctl: mdev list: unexpected argument 'extra'" hd --sysroot "$F" mdev list --all extra
expect_err 64 "too few arguments: the verb's own text" \
        "hostdevctl: sriov vf: expected a physical function and a VF index" hd --sysroot "$F" sriov vf 05:00.0 --trust on
expect_err 64 "too many arguments: the verb's own text" \
        "hostdevctl: iommu explain: expected exactly one device" hd --sysroot "$F" iommu explain a b
expect_err 64 "a verb with an optional sub-verb: the hint" \
        "hostdevctl: iommu: unexpected argument 'expalin' (did you mean 'iommu explain DEV'?)" hd --sysroot "$F" iommu expalin
expect_err 64 "an option of another sub-verb" \
        "hostdevctl: boot status: unrecognized option or missing argument '--driver' (see 'hostdevctl boot status --help')" \
        hd --sysroot "$F" boot status --driver vfio
expect_err 64 "a verb without arguments" "hostdevctl: recover: takes no arguments" hd --sysroot "$F" recover now
expect_err 64 "a global option after the verb" \
        "hostdevctl: nodedev-list: --sysroot is a global option: give it before the verb (hostdevctl --sysroot DIR nodedev-list ...)" \
        hd nodedev-list --sysroot "$F"
expect_err 64 "a global option after the verb (--opt=value)" \
        "hostdevctl: nodedev-list: --state-dir is a global option: give it before the verb (hostdevctl --state-dir DIR nodedev-list ...)" \
        hd nodedev-list --state-dir=/tmp
expect_err 64 "a global option after a verb without options" \
        "hostdevctl: nodedev-info: --sysroot is a global option: give it before the verb (hostdevctl --sysroot DIR nodedev-info ...)" \
        hd nodedev-info --sysroot "$F" 01:00.0
expect_err 64 "a global option after a sub-verb" \
        "hostdevctl: mdev: --state-dir is a global option: give it before the verb (hostdevctl --state-dir DIR mdev ...)" \
        hd mdev list --state-dir /tmp
expect_err 64 "a verb option before the verb" \
        "hostdevctl: unrecognized option '--tree': options of a verb go after it (hostdevctl nodedev-list --tree)" \
        hd --tree nodedev-list
expect_err 1 "malformed PCI address: not a PCI address" \
        "hostdevctl: '00:1g.0' is not a PCI address ([[DOMAIN:]BUS:]SLOT.FUNC in hex, slot 00-1f, function 0-7)" \
        hd --sysroot "$F" nodedev-dumpxml 00:1g.0
expect_err 1 "PCI function 8: not a PCI address" \
        "hostdevctl: '0000:00:02.8' is not a PCI address ([[DOMAIN:]BUS:]SLOT.FUNC in hex, slot 00-1f, function 0-7)" \
        hd --sysroot "$F" nodedev-dumpxml 0000:00:02.8
expect_err 1 "control characters in an argument are escaped in the error" \
        "hostdevctl: no node device matches 'a\x1b[31mb\nc'" \
        hd --sysroot "$F" nodedev-dumpxml "$(printf 'a\033[31mb\nc')"

expect_err 1 "a file name with a newline: quoted and escaped" \
        "hostdevctl: nodedev-define: cannot open '$TMP/a\nb.xml': No such file or directory" \
        hd --sysroot "$F" nodedev-define "$TMP/a
b.xml"
expect_err 64 "a verb with an escape sequence: quoted and escaped" \
        "hostdevctl: unknown verb '\x1b]0;x\x07' (see 'hostdevctl --help')" hd "$(printf '\033]0;x\007')"

# --- bad input: one-line error, exit 1 (not found) or 64 (usage)
expect_exit 1 "unknown name" hd --sysroot "$F" nodedev-dumpxml pci_0000_ff_00_0
expect_exit 1 "unknown PCI address" hd --sysroot "$F" nodedev-dumpxml 0000:7f:1f.7
expect_exit 1 "malformed PCI address (function 8)" hd --sysroot "$F" nodedev-dumpxml 0000:00:02.8
expect_exit 1 "malformed PCI address (slot 0x20)" hd --sysroot "$F" nodedev-dumpxml 00:20.0
expect_exit 1 "relative path with .." hd --sysroot "$F" nodedev-dumpxml ../../etc/passwd
expect_exit 1 "absolute path leaving /sys" hd --sysroot "$F" nodedev-dumpxml /sys/../etc/passwd
expect_exit 1 "path outside /sys" hd --sysroot "$F" nodedev-dumpxml /etc/passwd
expect_exit 1 "empty name" hd --sysroot "$F" nodedev-dumpxml ""
expect_exit 1 "unknown UUID" hd --sysroot "$F" show 00000000-0000-0000-0000-000000000001
expect_exit 1 "nodedev-info of unknown device" hd --sysroot "$F" nodedev-info nope
expect_exit 1 "nonexistent sysroot" hd --sysroot "$TMP/does-not-exist" nodedev-list
mkdir -p "$TMP/empty"
expect_exit 1 "sysroot without sys/devices" hd --sysroot "$TMP/empty" nodedev-list
expect_exit 64 "unknown verb" hd frobnicate
expect_exit 64 "unknown capability" hd --sysroot "$F" nodedev-list --cap gpu
expect_exit 64 "--tree with --cap" hd --sysroot "$F" nodedev-list --tree --cap pci
expect_exit 64 "dumpxml without name" hd --sysroot "$F" nodedev-dumpxml
expect_exit 64 "no verb" hd
for v in nodedev-list nodedev-dumpxml nodedev-info show capture iommu nodedev-detach nodedev-reattach \
         nodedev-reset recover hostdev-xml; do
        hd "$v" --help > "$TMP/help" 2>&1 && grep -q "^Usage: hostdevctl" "$TMP/help" && ok "$v --help" || fail "$v --help"
done
hd --help | grep -q "Exit status" && ok "hostdevctl --help documents exit status" || fail "hostdevctl --help documents exit status"

# --- nodedev-list columns (lsblk's model): -o, --list-columns, --noheadings,
# --raw, --width, and --json from the same column table
cols=$(hd nodedev-list --list-columns | awk '{print $1}')
[ "$(echo "$cols" | wc -l)" -ge 17 ] && ok "--list-columns lists the columns" || fail "--list-columns lists the columns" "$cols"
bad=0
for col in $cols; do
        head=$(hd --sysroot "$F" nodedev-list -o "$col" | head -1 | sed 's/ *$//')
        [ "$head" = "$col" ] || { bad=1; diag "-o $col: header '$head'"; }
        hd --sysroot "$F" nodedev-list -o "NAME,$col" --raw --noheadings > "$TMP/col.raw" || { bad=1; diag "-o $col failed"; }
        hd --sysroot "$F" nodedev-list -o "NAME,$col" --json > "$TMP/col.json" || { bad=1; diag "-o $col --json failed"; }
        # the JSON value and the table cell of every device are the same datum
        python3 - "$TMP/col.raw" "$TMP/col.json" "$col" <<'PY' || { bad=1; diag "-o $col: JSON and table differ"; }
import json, sys
raw = [l.rstrip("\n").split(" ", 1) for l in open(sys.argv[1])]
js = json.load(open(sys.argv[2]))
assert len(raw) == len(js), (len(raw), len(js))
def text(v):
    if v is None: return "-"
    if v is True: return "yes"
    if v is False: return "no"
    return str(v)
for (name, cell), d in zip(raw, js):
    assert len(d) == (1 if sys.argv[3] == "NAME" else 2), d
    key = [k for k in d if k != "name"][0] if sys.argv[3] != "NAME" else "name"
    # --raw escapes blanks as \x20
    assert d["name"] == name and text(d[key]) == cell.replace("\\x20", " "), (name, cell, d)
PY
done
[ $bad = 0 ] && ok "-o with every column: header, and JSON equal to the table" || fail "-o with every column: header, and JSON equal to the table"
hd --sysroot "$F" nodedev-list -o ID,CLASS --json | python3 -c '
import json, re, sys
d = [x for x in json.load(sys.stdin) if x["id"]]
assert d and all(re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{4}", x["id"]) for x in d), d
assert all(x["class"] is None or re.fullmatch(r"0x[0-9a-f]{6}", x["class"]) for x in d), d' \
        && ok "ID and CLASS columns: lowercase 8086:15bc, 0x020000" || fail "ID and CLASS columns: lowercase 8086:15bc, 0x020000"
hd --sysroot "$F" nodedev-list --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert list(d[0]) == ["name", "parent", "capability", "subsystem", "path", "devnode", "driver", "iommu_group", "iommu_group_viable"], list(d[0])' \
        && ok "nodedev-list --json keeps its keys" || fail "nodedev-list --json keeps its keys"
[ "$(hd --sysroot "$F" nodedev-list -o NAME,DRIVER -s 01:00.0)" = "NAME             DRIVER
pci_0000_01_00_0 nouveau" ] && ok "-o NAME,DRIVER: an exact table" || fail "-o NAME,DRIVER: an exact table" "$(hd --sysroot "$F" nodedev-list -o NAME,DRIVER -s 01:00.0)"
[ "$(hd --sysroot "$F" nodedev-list -o +ID -s 01:00.1 --noheadings --raw)" = "pci_0000_01_00_1 pci snd_hda_intel 2 no pci_0000_00_01_0 10de:10f0" ] \
        && ok "-o +ID adds to --long's columns; --raw --noheadings" || fail "-o +ID adds to --long's columns; --raw --noheadings" "$(hd --sysroot "$F" nodedev-list -o +ID -s 01:00.1 --noheadings --raw)"
[ "$(hd --sysroot "$F" nodedev-list -o VENDOR,PRODUCT -s 01:00.0 --noheadings | sed 's/  */ /g')" = "NVIDIA Corporation GP104 [GeForce GTX 1080]" ] \
        && ok "VENDOR and PRODUCT columns (pci.ids)" || fail "VENDOR and PRODUCT columns (pci.ids)"
[ "$(hd --sysroot "$F" nodedev-list -o ID,VENDOR,PRODUCT --cap usb_device --noheadings | grep '^0781' | sed 's/  */ /g')" = "0781:5583 SanDisk Corp. Ultra Fit" ] \
        && ok "ID, VENDOR and PRODUCT of a USB device (udev hwdb)" || fail "ID, VENDOR and PRODUCT of a USB device (udev hwdb)"
w=$(hd --sysroot "$F" nodedev-list --long --width 100 | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$w" -le 100 ] && ok "--long fits 100 columns (--width 100)" || fail "--long fits 100 columns (--width 100)" "widest line $w"
[ "$(hd --sysroot "$F" nodedev-list --long --width 100 | wc -l)" = "$(( $(hd --sysroot "$F" nodedev-list | wc -l) + 1 ))" ] \
        && ok "--long: one line per device" || fail "--long: one line per device"
expect_err 64 "unknown column, with a suggestion" \
        "hostdevctl: nodedev-list: unknown column 'DRIVR'; did you mean 'DRIVER'? (see 'hostdevctl nodedev-list --list-columns')" \
        hd --sysroot "$F" nodedev-list -o NAME,DRIVR
hd --sysroot "$F" nodedev-list --tree -o NAME,DRIVER > "$TMP/tree.tab"
grep -q '^| `-mdev_3627463d_b7f0_4fea_b468_f1da537d301b_mtty  *vfio_mdev$' "$TMP/tree.tab" \
        && ok "--tree -o: a tree table" || fail "--tree -o: a tree table" "$(head -5 "$TMP/tree.tab")"

# --- lspci's filters and --driver; virsh's full --cap list
[ "$(hd --sysroot "$F" nodedev-list -s 01: | tr '\n' ' ')" = "pci_0000_01_00_0 pci_0000_01_00_1 " ] && ok "-s BUS:" || fail "-s BUS:" "$(hd --sysroot "$F" nodedev-list -s 01:)"
[ "$(hd --sysroot "$F" nodedev-list -s 0000:00:1f.6)" = "pci_0000_00_1f_6" ] && ok "-s DOMAIN:BUS:SLOT.FUNC" || fail "-s DOMAIN:BUS:SLOT.FUNC"
[ "$(hd --sysroot "$F" nodedev-list -s .1 | tr '\n' ' ')" = "pci_0000_01_00_1 " ] && ok "-s .FUNC" || fail "-s .FUNC" "$(hd --sysroot "$F" nodedev-list -s .1)"
[ "$(hd --sysroot "$F" nodedev-list -d 10de: | tr '\n' ' ')" = "pci_0000_01_00_0 pci_0000_01_00_1 " ] && ok "-d VENDOR:" || fail "-d VENDOR:"
[ "$(hd --sysroot "$F" nodedev-list -d :15BC)" = "pci_0000_00_1f_6" ] && ok "-d :DEVICE (any case)" || fail "-d :DEVICE (any case)"
[ "$(hd --sysroot "$F" nodedev-list --class 0x030000 | tr '\n' ' ')" = "pci_0000_00_02_0 pci_0000_01_00_0 " ] && ok "--class 0x030000" || fail "--class 0x030000" "$(hd --sysroot "$F" nodedev-list --class 0x030000)"
[ "$(hd --sysroot "$F" nodedev-list --class 0403 | tr '\n' ' ')" = "pci_0000_00_1f_3 pci_0000_01_00_1 " ] && ok "--class 0403 (class and subclass)" || fail "--class 0403"
[ "$(hd --sysroot "$F" nodedev-list --class 06 | wc -l)" -ge 3 ] && [ -z "$(hd --sysroot "$F" nodedev-list --class 06 -o CLASS --noheadings | grep -v '^0x06')" ] \
        && ok "--class 06 (base class)" || fail "--class 06 (base class)"
[ "$(hd --sysroot "$F" nodedev-list --driver vfio-pci)" = "pci_0000_02_10_2" ] && ok "--driver NAME" || fail "--driver NAME" "$(hd --sysroot "$F" nodedev-list --driver vfio-pci)"
[ "$(hd --sysroot "$F" nodedev-list -d 8086: --class 02 --driver igb)" = "pci_0000_02_00_0" ] && ok "filters combine" || fail "filters combine"
expect_err 64 "-s with a bad slot" "hostdevctl: nodedev-list: -s takes [[[DOMAIN]:]BUS]:][SLOT][.[FUNC]] in hex, not '00:1g.0'" \
        hd --sysroot "$F" nodedev-list -s 00:1g.0
expect_err 64 "-d without a colon" "hostdevctl: nodedev-list: -d takes [VENDOR]:[DEVICE] in hex, not '8086'" \
        hd --sysroot "$F" nodedev-list -d 8086
expect_err 64 "--class of odd length" "hostdevctl: nodedev-list: --class takes a PCI class in hex (02, 0200 or 020000), not '020'" \
        hd --sysroot "$F" nodedev-list --class 020
[ "$(hd --sysroot "$F" nodedev-list --cap 'net, usb_device' | wc -l)" = $(( $(hd --sysroot "$F" nodedev-list --cap net | wc -l) + $(hd --sysroot "$F" nodedev-list --cap usb_device | wc -l) )) ] \
        && ok "--cap: a comma list, spaces allowed" || fail "--cap: a comma list, spaces allowed"
for cap in ccw css ap_card ap_queue ap_matrix ccwgroup; do
        out=$(hd --sysroot "$F" nodedev-list --cap "$cap" 2>&1); rc=$?
        [ $rc = 0 ] && [ -z "$out" ] || { fail "--cap $cap (libvirt's s390 name): accepted, nothing matches" "rc=$rc $out"; continue; }
        ok "--cap $cap (libvirt's s390 name): accepted, nothing matches"
done
expect_err 64 "--cap with an unknown name" "hostdevctl: nodedev-list: unknown capability 'gpu' (see 'hostdevctl nodedev-list --help')" \
        hd --sysroot "$F" nodedev-list --cap gpu

# --- virsh parity: nodedev-dumpxml --xpath [--wrap], nodedev-info's field order
[ "$(hd --sysroot "$F" nodedev-dumpxml 01:00.0 --xpath '//product')" = '<product id="0x1b80">GP104 [GeForce GTX 1080]</product>' ] \
        && ok "dumpxml --xpath: the selected node" || fail "dumpxml --xpath: the selected node" "$(hd --sysroot "$F" nodedev-dumpxml 01:00.0 --xpath '//product')"
[ "$(hd --sysroot "$F" nodedev-dumpxml 01:00.0 --xpath '//product|//vendor' --wrap)" = '<nodes>
  <product id="0x1b80">GP104 [GeForce GTX 1080]</product>
  <vendor id="0x10de">NVIDIA Corporation</vendor>
</nodes>' ] && ok "dumpxml --xpath --wrap: under <nodes>" || fail "dumpxml --xpath --wrap: under <nodes>" "$(hd --sysroot "$F" nodedev-dumpxml 01:00.0 --xpath '//product|//vendor' --wrap)"
[ "$(hd --sysroot "$F" nodedev-dumpxml 01:00.0 --xpath 'string(//driver/name)')" = nouveau ] && ok "dumpxml --xpath: a string" || fail "dumpxml --xpath: a string"
[ "$(hd --sysroot "$F" nodedev-dumpxml 01:00.0 --xpath "count(//capability)")" = "$(hd --sysroot "$F" nodedev-dumpxml 01:00.0 | grep -c "<capability")" ] \
        && ok "dumpxml --xpath: a number" || fail "dumpxml --xpath: a number"
[ -z "$(hd --sysroot "$F" nodedev-dumpxml 01:00.0 --xpath '//nothing')" ] && ok "dumpxml --xpath: no match prints nothing" || fail "dumpxml --xpath: no match prints nothing"
expect_err 64 "dumpxml --xpath with a bad expression" "hostdevctl: nodedev-dumpxml: '//[' is not a valid XPath expression" \
        hd --sysroot "$F" nodedev-dumpxml 01:00.0 --xpath '//['
expect_err 64 "dumpxml --wrap without --xpath" "hostdevctl: nodedev-dumpxml: --wrap needs --xpath" hd --sysroot "$F" nodedev-dumpxml 01:00.0 --wrap
[ "$(hd --sysroot "$F" nodedev-info 01:00.0 | cut -d: -f1 | tr '\n' ' ')" = "Name Parent Active Persistent Autostart Capability Path Driver " ] \
        && ok "nodedev-info: virsh's fields in virsh's order first" || fail "nodedev-info: virsh's fields in virsh's order first" "$(hd --sysroot "$F" nodedev-info 01:00.0)"

# --- passthrough verbs that change nothing: dry runs, refusals, reports
hd --sysroot "$F" iommu > "$TMP/iommu.txt" && grep -q '^Group 2: not viable: 0000:01:00.0 is bound to nouveau' "$TMP/iommu.txt" \
        && ok "iommu: text report with viability" || fail "iommu: text report with viability"
hd --sysroot "$F" iommu --json | python3 -c '
import json, sys, os
d = json.load(sys.stdin)
assert d["iommu"]["enabled"] is True
groups = {g["number"]: g for g in d["groups"]}
real = sorted(int(x) for x in os.listdir(sys.argv[1] + "/sys/kernel/iommu_groups"))
assert sorted(groups) == real, (sorted(groups), real)
for n, g in groups.items():
    members = sorted(os.listdir(sys.argv[1] + "/sys/kernel/iommu_groups/%d/devices" % n))
    assert [x["address"] for x in g["devices"]] == members, (n, members)
assert groups[2]["viable"] is False and groups[2]["blocker"] == "0000:01:00.0"
assert groups[1]["viable"] is True' "$F" && ok "iommu --json matches sys/kernel/iommu_groups" || fail "iommu --json matches sys/kernel/iommu_groups"
hd --sysroot "$F" iommu explain 01:00.1 | grep -q "multifunction device without ACS" \
        && ok "iommu explain names the multifunction sibling" || fail "iommu explain names the multifunction sibling"
expect_exit 1 "iommu explain of a non-PCI device" hd --sysroot "$F" iommu explain computer
# the IOMMU off: said plainly, with the kernel argument that turns it on
cp -a "$TMP/fx/minimal" "$TMP/noiommu"
rm -rf "$TMP/noiommu/sys/kernel/iommu_groups"/* "$TMP/noiommu/sys/class/iommu"
mkdir -p "$TMP/noiommu/proc"
printf 'processor\t: 0\nvendor_id\t: GenuineIntel\n' > "$TMP/noiommu/proc/cpuinfo"
echo "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet" > "$TMP/noiommu/proc/cmdline"
printf '           CPU0\n 24:          0  PCI-MSI 65536-edge      ahci\n' > "$TMP/noiommu/proc/interrupts"
hd --sysroot "$TMP/noiommu" iommu > "$TMP/off.txt"
grep -q '^IOMMU: DISABLED' "$TMP/off.txt" && grep -q "intel_iommu=on" "$TMP/off.txt" && grep -q '^Interrupt remapping: NO' "$TMP/off.txt" \
        && ok "iommu: off is said plainly, with the kernel argument" || fail "iommu: off is said plainly, with the kernel argument" "$(cat "$TMP/off.txt")"
hd --sysroot "$TMP/noiommu" iommu --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["iommu"]["enabled"] is False and d["iommu"]["interrupt_remapping"] is False and "intel_iommu=on" in d["iommu"]["hint"] and d["groups"] == []' \
        && ok "iommu --json: off, no groups, hint" || fail "iommu --json: off, no groups, hint"
grep -q "^Virtual machine: QEMU/KVM$" "$TMP/off.txt" && grep -qF "Hint: this is a virtual machine (QEMU/KVM): give it a virtual IOMMU (libvirt: <iommu model='intel'/>; QEMU: -device intel-iommu,intremap=on) and boot it with intel_iommu=on" "$TMP/off.txt" \
        && ok "iommu in a VM (DMI says QEMU): the fix is a virtual IOMMU" || fail "iommu in a VM (DMI says QEMU): the fix is a virtual IOMMU" "$(cat "$TMP/off.txt")"
# the same tree as bare metal: the firmware and kernel argument hint
cp -a "$TMP/noiommu" "$TMP/metal"
for f in sys_vendor product_name bios_vendor board_vendor; do echo LENOVO > "$TMP/metal/sys/class/dmi/id/$f"; done
hd --sysroot "$TMP/metal" iommu > "$TMP/metal.txt"
! grep -q "^Virtual machine" "$TMP/metal.txt" && grep -qF "Hint: add 'intel_iommu=on iommu=pt' to the kernel command line and enable VT-d in the firmware" "$TMP/metal.txt" \
        && ok "iommu on bare metal: firmware and kernel argument" || fail "iommu on bare metal: firmware and kernel argument" "$(cat "$TMP/metal.txt")"
printf 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme hypervisor lahf_lm\n' > "$TMP/metal/proc/cpuinfo"
hd --sysroot "$TMP/metal" iommu --json | python3 -c '
import json, sys
i = json.load(sys.stdin)["iommu"]
assert i["hypervisor"] == "unknown hypervisor", i
assert "amd-iommu" in i["hint"] and "amd_iommu=on" in i["hint"] and "firmware" not in i["hint"], i' \
        && ok "iommu: the CPU hypervisor flag alone says VM (AMD guest)" || fail "iommu: the CPU hypervisor flag alone says VM (AMD guest)"
hd --sysroot "$F" iommu --json | python3 -c '
import json, re, sys
d = json.load(sys.stdin)
assert d["iommu"]["hypervisor"] is None
devs = [x for g in d["groups"] for x in g["devices"] if "class" in x]
assert devs and all(re.fullmatch(r"0x[0-9a-f]{6}", x["class"]) and re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{4}", x["id"]) for x in devs), devs
e = [x for x in devs if x["address"] == "0000:00:1f.6"][0]
assert e["class"] == "0x020000" and e["id"] == "8086:15bc", e' \
        && ok "iommu --json: class 0x020000, id 8086:15bc (the XML forms)" || fail "iommu --json: class 0x020000, id 8086:15bc (the XML forms)"
cp -a "$F" "$TMP/ro"
before=$(cd "$TMP/ro" && find . -printf '%p %l %s\n' | sort | md5sum)
hd --sysroot "$TMP/ro" --state-dir "$TMP/st" nodedev-detach 01:00.0 --group --dry-run > "$TMP/dry" \
        && grep -q '0000:01:00.0  nouveau -> vfio-pci  would move' "$TMP/dry" && grep -q '0000:01:00.1  snd_hda_intel -> vfio-pci  would move' "$TMP/dry" \
        && ok "nodedev-detach --group --dry-run plans both members" || fail "nodedev-detach --group --dry-run plans both members" "$(cat "$TMP/dry")"
after=$(cd "$TMP/ro" && find . -printf '%p %l %s\n' | sort | md5sum)
[ "$before" = "$after" ] && [ ! -e "$TMP/st" ] && ok "dry run changes nothing" || fail "dry run changes nothing"
mkdir -p "$TMP/ro/proc/self"
echo "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw" > "$TMP/ro/proc/self/mountinfo"
expect_exit 2 "detaching the controller of the root filesystem is refused (exit 2)" \
        hd --sysroot "$TMP/ro" --state-dir "$TMP/st" nodedev-detach 00:17.0
grep -q "sda2 backs the filesystem mounted on /" "$TMP/err" && ok "refusal names the mount" || fail "refusal names the mount" "$(cat "$TMP/err")"
expect_exit 1 "detaching a bridge fails" hd --sysroot "$F" --state-dir "$TMP/st" nodedev-detach 00:1c.0 --dry-run
expect_exit 64 "unknown stub driver" hd --sysroot "$F" nodedev-detach 01:00.0 --driver nouveau
hd --sysroot "$F" hostdev-xml 02:10.0 | grep -q "<interface type='hostdev'" && ok "hostdev-xml of a VF with a netdev" || fail "hostdev-xml of a VF with a netdev"
expect_exit 1 "hostdev-xml of a bridge" hd --sysroot "$F" hostdev-xml 00:1c.0
expect_err 1 "hostdev-xml of a USB root hub is refused" \
        "hostdevctl: usb_usb1: a USB root hub belongs to its host controller and cannot be given to a guest (pass the controller pci_0000_00_14_0, or a device plugged into the hub)" \
        hd --sysroot "$F" hostdev-xml usb_usb1
expect_err 1 "hostdev-xml of a USB interface names its device" \
        "hostdevctl: usb_1_1_2_1_0 is an interface of USB device usb_1_1_2; a guest gets the whole device ('hostdevctl hostdev-xml usb_1_1_2')" \
        hd --sysroot "$F" hostdev-xml usb_1_1_2_1_0
hd --sysroot "$F" hostdev-xml usb_1_1_2 | grep -q "<hostdev mode='subsystem' type='usb'" && ok "hostdev-xml of a USB device" || fail "hostdev-xml of a USB device"

# --- several devices in one detach (a GPU and its audio function): one
# transaction, on the fake kernel (hostdevctl-fake)
if [ -x "${HOSTDEVCTL_FAKE:-}" ]; then
        cp -a "$F" "$TMP/multi"
        hf() { "$HOSTDEVCTL_FAKE" --sysroot "$TMP/multi" --state-dir "$TMP/multi-st" "$@"; }
        drivers() { hf nodedev-list -s 01: -o DRIVER --noheadings | tr '\n' ' '; }
        out=$(hf nodedev-detach 01:00.0 01:00.1) && [ "$out" = "0000:01:00.0  nouveau -> vfio-pci  done
0000:01:00.1  snd_hda_intel -> vfio-pci  done" ] && [ "$(drivers)" = "vfio-pci vfio-pci " ] \
                && ok "nodedev-detach DEV DEV moves both" || fail "nodedev-detach DEV DEV moves both" "$out / $(drivers)"
        hf nodedev-reattach 01:00.0 01:00.1 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "ok" and [(x["address"], x["to"], x["result"]) for x in d["devices"]] == [
    ("0000:01:00.0", "nouveau", "done"), ("0000:01:00.1", "snd_hda_intel", "done")], d' && [ "$(drivers)" = "nouveau snd_hda_intel " ] \
                && ok "nodedev-reattach DEV DEV restores both" || fail "nodedev-reattach DEV DEV restores both"
        out=$(HOSTDEV_TEST_FAIL_BIND=0000:01:00.1 hf nodedev-detach 01:00.0 01:00.1 2>/dev/null); rc=$?
        [ $rc = 1 ] && [ "$(drivers)" = "nouveau snd_hda_intel " ] && echo "$out" | grep -q '^0000:01:00.0  nouveau -> nouveau  rolled back$' && echo "$out" | grep -q '^0000:01:00.1  .*FAILED$' \
                && ok "a failure on the second device rolls the first back" || fail "a failure on the second device rolls the first back" "rc=$rc $out / $(drivers)"
        out=$(hf nodedev-detach 01:00.0 01:00.0 --dry-run) && [ "$out" = "0000:01:00.0  nouveau -> vfio-pci  would move" ] \
                && ok "a device named twice is planned once" || fail "a device named twice is planned once" "$out"
        out=$(hf nodedev-detach 01:00.0 01:00.1 --group --dry-run | wc -l)
        [ "$out" = 2 ] && ok "--group over two members of one group: each once" || fail "--group over two members of one group: each once" "$out lines"
        mkdir -p "$TMP/multi/proc/self"
        echo "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw" > "$TMP/multi/proc/self/mountinfo"
        hf nodedev-detach 01:00.0 00:17.0 > "$TMP/out" 2> "$TMP/err"; rc=$?
        [ $rc = 2 ] && [ "$(cat "$TMP/out")" = "0000:01:00.0  nouveau -> vfio-pci  not attempted
0000:00:17.0  ahci -> vfio-pci  not attempted" ] && [ "$(cat "$TMP/err")" = "note: pci_0000_01_00_0 shares its card with 0000:01:00.1 (audio, snd_hda_intel); use --group to detach the whole card
hostdevctl: nodedev-detach refused: sda2 backs the filesystem mounted on / (use --force to override)" ] \
                && [ "$(drivers)" = "nouveau snd_hda_intel " ] \
                && ok "one refused device refuses the set; the plan shows the target driver" \
                || fail "one refused device refuses the set; the plan shows the target driver" "rc=$rc $(cat "$TMP/out" "$TMP/err")"
        expect_err 1 "a bridge among several devices" \
                "hostdevctl: nodedev-detach pci_0000_00_1c_0: not a PCI endpoint (bridges and non-PCI devices cannot be detached); nothing changed" \
                hf nodedev-detach 01:00.0 00:1c.0
        expect_err 64 "detach without a device" "hostdevctl: nodedev-detach: expected one or more devices" hf nodedev-detach
else
        skip "multi-device detach" "no hostdevctl-fake"
fi

# --- damaged tree: every healthy device still listed, damage warned, no crash
B=$TMP/fx/broken
hd --sysroot "$B" nodedev-list > "$TMP/b.names" 2> "$TMP/b.err"
rc=$?
[ $rc = 0 ] && ok "broken: nodedev-list succeeds" || fail "broken: nodedev-list succeeds" "exit $rc"
grep -q '^pci_0000_01_00_0$' "$TMP/b.names" && grep -q '^net_enp1s0_' "$TMP/b.names" \
        && ok "broken: healthy devices listed" || fail "broken: healthy devices listed"
grep -q 'warning:' "$TMP/b.err" && ok "broken: damage reported as warnings" || fail "broken: damage reported as warnings"
bad=0
while read -r n; do
        hd --sysroot "$B" nodedev-dumpxml "$n" > "$TMP/b.xml" 2>/dev/null
        rc=$?
        [ $rc -le 1 ] || { bad=1; diag "$n: exit $rc"; }
        [ $rc = 0 ] && [ -f "$OUR_RNG" ] && ! xmllint --noout --relaxng "$OUR_RNG" "$TMP/b.xml" 2>/dev/null && { bad=1; diag "$n: invalid XML"; }
        hd --sysroot "$B" show "$n" --json > /dev/null 2>&1 || [ $? = 1 ] || { bad=1; diag "$n: show crashed"; }
done < "$TMP/b.names"
[ $bad = 0 ] && ok "broken: every device formats to schema-valid XML" || fail "broken: every device formats to schema-valid XML"
hd --sysroot "$B" nodedev-dumpxml --all > /dev/null 2>&1 && ok "broken: dumpxml --all" || fail "broken: dumpxml --all"

# --- hostile tree: symlink loops are skipped, absolute links stay inside
H=$TMP/fx/hostile
hd --sysroot "$H" nodedev-list > "$TMP/h.names" 2>/dev/null && ok "hostile: symlink loops skipped" || fail "hostile: symlink loops skipped"
diff -q "$TMP/h.names" <(hd --sysroot "$TMP/fx/minimal" nodedev-list) >/dev/null \
        && ok "hostile: same devices as minimal" || fail "hostile: same devices as minimal"
# an absolute symlink in a captured tree must resolve inside the sysroot
cp -a "$TMP/fx/minimal" "$TMP/abs"
v=$(ls -d "$TMP/abs"/sys/bus/pci/devices/* | head -1)
dev=$(cd "$v" && pwd -P)
rm -f "$dev/vendor"; ln -s /etc/hostname "$dev/vendor"
echo "0x1234" > "$TMP/abs/etc-hostname-marker"
if hd --sysroot "$TMP/abs" nodedev-dumpxml "$(basename "$v")" 2>/dev/null | grep -q "$(head -c 6 /etc/hostname 2>/dev/null || echo NOPE)X"; then
        fail "absolute symlink does not escape the sysroot"
else
        ok "absolute symlink does not escape the sysroot"
fi

# --- capture: a captured sysroot replays identically
for c in full broken; do
        hd --sysroot "$TMP/fx/$c" capture "$TMP/cap-$c" 2>/dev/null
        if diff <(hd --sysroot "$TMP/fx/$c" nodedev-dumpxml --all 2>/dev/null) \
                <(hd --sysroot "$TMP/cap-$c" nodedev-dumpxml --all 2>/dev/null) > "$TMP/d"; then
                ok "capture of $c replays to identical XML"
        else
                fail "capture of $c replays to identical XML" "$(head -5 "$TMP/d" | tr '\n' ' ')"
        fi
done
hd --sysroot "$F" capture "$TMP/cap-count" 2> "$TMP/cap.err"
n=$(hd --sysroot "$TMP/cap-count" nodedev-list | wc -l)
grep -Eq "^captured $n node devices \(from [0-9]+ sysfs devices: [0-9]+ files, [0-9]+ links, [0-9]+ udev entries\) into $TMP/cap-count\$" "$TMP/cap.err" \
        && ok "capture counts node devices, and says what else it counted" || fail "capture counts node devices, and says what else it counted" "$(cat "$TMP/cap.err") (want $n)"
expect_exit 1 "capture refuses a non-empty directory" hd --sysroot "$F" capture "$TMP/cap-full"
# the live host: capture it (read-only) and replay
if hd capture "$TMP/cap-host" 2>/dev/null; then
        if diff <(hd nodedev-list --tree) <(hd --sysroot "$TMP/cap-host" nodedev-list --tree) > "$TMP/d"; then
                ok "capture of this host replays the same tree"
        else
                fail "capture of this host replays the same tree" "$(head -5 "$TMP/d" | tr '\n' ' ')"
        fi
else
        fail "capture of this host"
fi
finish
