#!/usr/bin/env bash
# hostdevd's VgpuCreate, VgpuRemove and GpuRom (daemon/methods-gpu.c) on a
# private bus (tests/daemon-bus.sh), and `hostdevctl vgpu create`, `vgpu
# remove` and `gpu rom` through them (tools/bus.c): hostdevd-fake serves
# tree A (a copy of the GPU fixture, tests/data/sysroots/gpu.py), the CLI
# runs through it on A and with --direct on its twin B: the same stdout,
# stderr and exit status, the same ROM file written (by the CLI, never by
# the daemon), and the trees end the same.  The daemon ran each call (its
# log at -v -v counts the rebuilds).  Errors are named and carry the
# CLI's words; uid 65534 is refused (AccessDenied, naming the actions
# org.hostdev.mdev and org.hostdev.rom) and changes nothing, its ROM file
# included; malformed calls leave the daemon serving.  `hostdev-xml --rom`
# reads no ROM (the caller's file's path goes into the XML): no method, the
# CLI runs it with or without a daemon, for uid 65534 too, the same output.
set -u
unset HOSTDEV_MDEVCTL_DIR HOSTDEV_CONFIG_DIR
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${HOSTDEVCTL_FAKE:=$SRCDIR/build/tests/hostdevctl-fake}"
: "${HOSTDEVD_FAKE:=$SRCDIR/build/tests/hostdevd-fake}"

for t in dbus-daemon dbus-send busctl; do
        command -v $t >/dev/null || skip_all "no $t (Debian: apt install dbus-daemon dbus-bin systemd)"
done
[ -x "$HOSTDEVD_FAKE" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"

. "$(dirname "$0")/daemon-bus.sh"

python3 "$SRCDIR/tests/data/sysroots/gpu.py" "$TMP/fx" > /dev/null || skip_all "cannot build the GPU tree"
TA=$TMP/ta TB=$TMP/tb SA=$TMP/sta SB=$TMP/stb
cp -a "$TMP/fx" "$TA"
cp -a "$TMP/fx" "$TB"
# the CLI's working directories (the ROM files), one per tree
WA=$TMP/wa WB=$TMP/wb
mkdir -p "$WA" "$WB"
PA=$TA/sys/bus/pci/devices PB=$TB/sys/bus/pci/devices
NOBODY=
[ "$(id -u)" = 0 ] && command -v setpriv > /dev/null && NOBODY=1
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
        fail "hostdevd-fake serves tree A" "$(cat "$TMP/daemon.log")"
        finish
        exit
fi
ok "hostdevd-fake serves tree A on the private system bus"

rebuilds() {
        busctl --address="$A" get-property "$DEST" "$OBJ" "$IFACE" Version > /dev/null 2>&1
        grep -c "tree rebuilt" "$TMP/daemon.log"
}
norm() { sed -e "s,$TA,ROOT,g; s,$TB,ROOT,g; s,$SA,STATE,g; s,$SB,STATE,g; s,$WA,WORK,g; s,$WB,WORK,g" "$1"; }
viad() { (cd "$WA" && "$HOSTDEVCTL_FAKE" --sysroot "$TA" --state-dir "$SA" "$@"); }
direct() { (cd "$WB" && "$HOSTDEVCTL_FAKE" --direct --sysroot "$TB" --state-dir "$SB" "$@"); }
# the CLI's error line without "hostdevctl: " (direct, on B)
cli_err() { direct "$@" 2>&1 >/dev/null | sed 's/^hostdevctl: //'; }
# everything in a tree and a working directory, the ROM files' bytes too
sums() {
        snap "$1"
        (cd "$2" && find . -printf '%y %P\n' | sort && find . -type f -exec md5sum {} + | sort -k2)
}
trees() {
        if [ "$(sums "$TA" "$WA")" = "$(sums "$TB" "$WB")" ]; then ok "$1: trees A and B (and the ROM files) are alike"
        else fail "$1: trees A and B are alike" "$(diff <(sums "$TA" "$WA") <(sums "$TB" "$WB") | head -6 | tr '\n' ' ')"; fi
}
# twin [--local] ARGS...: the verb through the daemon on A and --direct on
# B: the same stdout, stderr and exit status, and the daemon ran the first
# (a rebuild: every method here rebuilds before it looks up); --local: an
# error the CLI finds before any call (its lookup), the daemon not called
twin() {
        local n0 n1 rca rcb why= local=
        [ "$1" = --local ] && { local=1; shift; }
        n0=$(rebuilds)
        viad "$@" > "$TMP/a.out" 2> "$TMP/a.err"; rca=$?
        n1=$(rebuilds)
        direct "$@" > "$TMP/b.out" 2> "$TMP/b.err"; rcb=$?
        [ "$rca" = "$rcb" ] || why="exit $rca through the daemon, $rcb direct;"
        [ "$(norm "$TMP/a.out")" = "$(norm "$TMP/b.out")" ] || why="$why stdout: $(diff "$TMP/a.out" "$TMP/b.out" | head -4 | tr '\n' ' ');"
        [ "$(norm "$TMP/a.err")" = "$(norm "$TMP/b.err")" ] || why="$why stderr: $(diff "$TMP/a.err" "$TMP/b.err" | head -4 | tr '\n' ' ');"
        if [ -n "$local" ]; then [ "$n1" = "$n0" ] || why="$why the daemon was called;"
        else [ "$n1" -gt "$n0" ] || why="$why the daemon did not run it;"; fi
        [ "$(rebuilds)" = "$n1" ] || why="$why the daemon ran the --direct one;"
        if [ -z "$why" ]; then ok "$* (exit $rca): the same through hostdevd and --direct"
        else fail "$*: the same through hostdevd and --direct" "$why"; fi
}
# named NAME ERROR-NAME GOT WANT: GOT is ERROR-NAME with WANT's text
named() {
        [ -n "$4" ] && [ "$3" = "org.hostdev.Hostdev1.Error.$2: $4" ] && ok "$1: $2 with the CLI's text" \
                || fail "$1: $2 with the CLI's text" "got '$3', CLI '$4'"
}

trees "at the start"

# --- -v says which way
for c in "gpu rom 01:00.0 v.rom|GpuRom" "vgpu create 02:00.0 557|VgpuCreate" "vgpu remove 0000:03:00.4|VgpuRemove"; do
        IFS='|' read -r cli method <<< "$c"
        verb=$(echo "$cli" | cut -d' ' -f1-2)
        viad -v $cli > /dev/null 2> "$TMP/err"
        grep -q "^hostdevctl: $verb: through hostdevd (org.hostdev.Hostdev1.Manager.$method)$" "$TMP/err" \
                && ok "-v: $verb through hostdevd ($method)" || fail "-v: $verb through hostdevd ($method)" "$(cat "$TMP/err")"
done
rm -f "$WA/v.rom"
trees "after the -v runs (nothing changed)"

# --- gpu rom: the daemon reads, the CLI writes the file and checks it
: > "$TA/.fake-kernel-rom.log"
twin gpu rom 01:00.0 nv.rom
[ "$(cat "$TA/.fake-kernel-rom.log")" = $'0000:01:00.0 1\n0000:01:00.0 0' ] && ok "GpuRom: the daemon enabled the ROM, then disabled it" \
        || fail "GpuRom: the daemon enabled the ROM, then disabled it" "$(tr '\n' ' ' < "$TA/.fake-kernel-rom.log")"
cmp -s "$WA/nv.rom" "$PA/0000:01:00.0/.rom-image" && ok "gpu rom through the daemon: the whole image in the file" \
        || fail "gpu rom through the daemon: the whole image in the file"
[ ! -s "$PA/0000:01:00.0/rom" ] && ok "GpuRom: the ROM disabled again" || fail "GpuRom: the ROM disabled again"
# a longer file of that name is replaced, not overwritten in part
head -c 30000 /dev/zero | tr '\0' x > "$WA/nv.rom"; cp "$WA/nv.rom" "$WB/nv.rom"
twin gpu rom 01:00.0 nv.rom --json
cmp -s "$WA/nv.rom" "$PA/0000:01:00.0/.rom-image" && ok "gpu rom through the daemon: a longer file replaced by the image" \
        || fail "gpu rom through the daemon: a longer file replaced by the image" "$(stat -c %s "$WA/nv.rom")"
# a path through a directory: the JSON's "file" is the real path
mkdir "$WA/sub" "$WB/sub"
twin gpu rom 0000:01:00.0 sub/../abs.rom --json
# unusable: a ROM for another device (exit 1, the file kept)
twin gpu rom 02:00.0 amd.rom
twin gpu rom 02:00.0 amd.rom --json
trees "after the ROM dumps"
# no ROM: the daemon's error; a file of that name is removed, as --direct does
echo old > "$WA/igpu.rom"; echo old > "$WB/igpu.rom"
twin gpu rom 00:02.0 igpu.rom
[ ! -e "$WA/igpu.rom" ] && ok "no ROM through the daemon: the file removed, as --direct does" \
        || fail "no ROM through the daemon: the file removed, as --direct does"
# an output file that cannot be created: its error before any call (the ROM
# is not enabled), also for a device without one
twin --local gpu rom 01:00.0 /nonexistent/dir/x.rom
twin --local gpu rom 00:02.0 /nonexistent/dir/x.rom
twin --local gpu rom 01:00.0 sub
# the ROM reads empty
mv "$PA/0000:01:00.0/.rom-image" "$TMP/img.a"; mv "$PB/0000:01:00.0/.rom-image" "$TMP/img.b"
twin gpu rom 01:00.0 empty.rom
mv "$TMP/img.a" "$PA/0000:01:00.0/.rom-image"; mv "$TMP/img.b" "$PB/0000:01:00.0/.rom-image"
# the CLI's lookup: before any call
twin --local gpu rom nosuch x.rom
twin --local gpu rom 00:1g.0 x.rom
twin --local gpu rom drm_card0 x.rom
trees "after gpu rom's errors"

# --- hostdev-xml --rom FILE: a read that puts FILE's absolute path (the
# caller's file, not read) into the XML; it reads no ROM and needs no
# method: the CLI runs it itself with or without a daemon, the same output
twin --local hostdev-xml 01:00.0 --rom nv.rom
twin --local hostdev-xml 01:00.0 --rom sub/../abs.rom --unmanaged
twin --local hostdev-xml 01:00.0 --rom nosuch.rom
twin --local hostdev-xml drm_card0 --rom nv.rom
twin --local hostdev-xml nosuch --rom nv.rom
viad hostdev-xml 01:00.0 --rom nv.rom | norm /dev/stdin | grep -q "<rom file='WORK/nv.rom'/>" \
        && ok "hostdev-xml --rom with a daemon serving: <rom file=/> names the caller's file" \
        || fail "hostdev-xml --rom with a daemon serving: <rom file=/> names the caller's file" "$(viad hostdev-xml 01:00.0 --rom nv.rom 2>&1 | head -c 300)"
out=$(viad -v hostdev-xml 01:00.0 --rom nv.rom 2>&1 >/dev/null)
case $out in *hostdevd*) fail "-v: hostdev-xml --rom does not go through hostdevd" "$out" ;;
*) ok "-v: hostdev-xml --rom does not go through hostdevd" ;; esac
trees "after hostdev-xml --rom (nothing written)"

# --- GpuRom on the bus: the bytes, the name and ids
busctl --address="$A" --json=short call "$DEST" "$OBJ" "$IFACE" GpuRom st 01:00.0 0 > "$TMP/rom.json"
python3 - "$TMP/rom.json" "$PA/0000:01:00.0/.rom-image" <<'EOF' && ok "GpuRom: the device's name, ids and the image's bytes" \
        || fail "GpuRom: the device's name, ids and the image's bytes" "$(head -c 200 "$TMP/rom.json")"
import json, sys
d = json.load(open(sys.argv[1]))["data"]
img = open(sys.argv[2], "rb").read()
assert d[0] == "pci_0000_01_00_0", d[0]
assert d[1] == 0x10de, d[1]
assert bytes(d[3]) == img, len(d[3])
EOF
named "GpuRom of an unknown name" NotFound "$(err GpuRom string:nosuch uint64:0)" "$(cli_err gpu rom nosuch x.rom)"
named "GpuRom of a malformed address" InvalidArgument "$(err GpuRom string:00:1g.0 uint64:0)" "$(cli_err gpu rom 00:1g.0 x.rom)"
named "GpuRom of a device that is not PCI" InvalidArgument "$(err GpuRom string:drm_card0 uint64:0)" \
        "$(cli_err gpu rom drm_card0 x.rom)"
named "GpuRom of a device without a ROM" NotFound "$(err GpuRom string:00:02.0 uint64:0)" "$(cli_err gpu rom 00:02.0 x.rom)"
named "GpuRom with an unknown flag" InvalidArgument "$(err GpuRom string:01:00.0 uint64:1)" "gpu rom: unknown flags 0x1"
rm -f "$WB/x.rom"

# --- vgpu create / remove: NVIDIA per-VF
twin vgpu create 03:00.0 558
[ "$(cat "$PA/0000:03:00.4/nvidia/current_vgpu_type")" = 558 ] && ok "VgpuCreate: current_vgpu_type written on the first free VF" \
        || fail "VgpuCreate: current_vgpu_type written on the first free VF"
twin vgpu create 0000:03:00.0 "NVIDIA L4-4Q"
twin vgpu create 03:00.0 999
twin vgpu create 03:00.5 557
twin vgpu create 03:00.0 557
twin vgpu create 03:00.0 557
twin vgpu create 02:00.0 557
twin vgpu create nosuch 557
twin vgpu create 00:1g.0 557
trees "after vgpu create"
named "VgpuCreate with none left" Failed "$(err VgpuCreate string:03:00.0 string:557 uint64:0)" "$(cli_err vgpu create 03:00.0 557)"
named "VgpuCreate of an unknown type" NotFound "$(err VgpuCreate string:03:00.0 string:999 uint64:0)" "$(cli_err vgpu create 03:00.0 999)"
named "VgpuCreate on a GPU without vGPU" NotFound "$(err VgpuCreate string:02:00.0 string:557 uint64:0)" \
        "$(cli_err vgpu create 02:00.0 557)"
named "VgpuCreate on an unknown device" NotFound "$(err VgpuCreate string:nosuch string:557 uint64:0)" "$(cli_err vgpu create nosuch 557)"
named "VgpuCreate with an empty type" InvalidArgument "$(err VgpuCreate string:03:00.0 string: uint64:0)" \
        "$(cli_err vgpu create 03:00.0 '')"
named "VgpuCreate with an unknown flag" InvalidArgument "$(err VgpuCreate string:03:00.0 string:557 uint64:2)" \
        "vgpu create: unknown flags 0x2"
# a VF whose VFIO group a process holds: refused (exit 2), nothing changes
G6=$(basename "$(readlink "$PA/0000:03:00.6/iommu_group")")
for t in "$TA" "$TB"; do
        mkdir -p "$t/proc/777/fd" && ln -s "/dev/vfio/$G6" "$t/proc/777/fd/20" && echo qemu > "$t/proc/777/comm"
done
twin vgpu remove 0000:03:00.6
named "VgpuRemove of a VF in use" Refused "$(err VgpuRemove string:0000:03:00.6 uint64:0)" "$(cli_err vgpu remove 0000:03:00.6)"
rm -rf "$TA/proc/777" "$TB/proc/777"
trees "after the refused vgpu remove"
twin vgpu remove 0000:03:00.6
[ "$(cat "$PA/0000:03:00.6/nvidia/current_vgpu_type")" = 0 ] && ok "VgpuRemove: current_vgpu_type 0" \
        || fail "VgpuRemove: current_vgpu_type 0"
twin vgpu remove 0000:03:00.6
twin vgpu remove pci_0000_03_00_4
twin vgpu remove nosuch
twin vgpu remove 00000000-0000-0000-0000-000000000000
named "VgpuRemove of no vGPU" NotFound "$(err VgpuRemove string:nosuch uint64:0)" "$(cli_err vgpu remove nosuch)"
named "VgpuRemove of an empty id" InvalidArgument "$(err VgpuRemove string: uint64:0)" "$(cli_err vgpu remove '')"
named "VgpuRemove with an unknown flag" InvalidArgument "$(err VgpuRemove string:0000:03:00.5 uint64:1)" \
        "vgpu remove: unknown flags 0x1"
long=$(head -c 5000 /dev/zero | tr '\0' a)
got=$(err VgpuRemove string:"$long" uint64:0)
case $got in "org.hostdev.Hostdev1.Error.InvalidArgument: vgpu remove: 'aaaa"*"' is too long (5000 bytes; at most 4096)") ok "VgpuRemove of a 5000-byte id: InvalidArgument" ;;
*) fail "VgpuRemove of a 5000-byte id: InvalidArgument" "${got:0:200}" ;; esac
trees "after vgpu remove"

# --- vgpu create / remove: an mdev (a random UUID each side)
viad vgpu create 00:02.0 i915-GVTg_V5_8 > "$TMP/a.out" 2> "$TMP/a.err"; rca=$?
direct vgpu create 00:02.0 i915-GVTg_V5_8 > "$TMP/b.out" 2> "$TMP/b.err"; rcb=$?
UA=$(cat "$TMP/a.out") UB=$(cat "$TMP/b.out")
uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
[ $rca = 0 ] && [ $rcb = 0 ] && [[ $UA =~ $uuid_re ]] && [[ $UB =~ $uuid_re ]] && [ ! -s "$TMP/a.err" ] && [ ! -s "$TMP/b.err" ] \
        && ok "vgpu create of an mdev: a UUID through hostdevd and --direct" \
        || fail "vgpu create of an mdev: a UUID through hostdevd and --direct" "$rca $rcb '$UA' '$UB' $(cat "$TMP/a.err" "$TMP/b.err")"
[ -e "$TA/sys/bus/mdev/devices/$UA" ] && ok "VgpuCreate: the mdev exists" || fail "VgpuCreate: the mdev exists" "$UA"
if [ "$(sums "$TA" "$WA" | sed "s/$UA/U/g" | sort)" = "$(sums "$TB" "$WB" | sed "s/$UB/U/g" | sort)" ]; then
        ok "after vgpu create of an mdev: the trees are alike but for the UUID"
else
        fail "after vgpu create of an mdev: the trees are alike but for the UUID" \
                "$(diff <(sums "$TA" "$WA" | sed "s/$UA/U/g" | sort) <(sums "$TB" "$WB" | sed "s/$UB/U/g" | sort) | head -6 | tr '\n' ' ')"
fi
viad vgpu remove "$UA" > "$TMP/a.out" 2> "$TMP/a.err"; rca=$?
direct vgpu remove "$UB" > "$TMP/b.out" 2> "$TMP/b.err"; rcb=$?
[ $rca = 0 ] && [ $rcb = 0 ] && [ ! -s "$TMP/a.out" ] && [ ! -s "$TMP/a.err" ] && [ ! -s "$TMP/b.err" ] \
        && ok "vgpu remove of the mdev: exit 0, silent, both ways" || fail "vgpu remove of the mdev" "$rca $rcb $(cat "$TMP/a.err")"
[ ! -e "$TA/sys/bus/mdev/devices/$UA" ] && ok "VgpuRemove: the mdev is gone" || fail "VgpuRemove: the mdev is gone"
twin vgpu remove "$UA"
trees "after the mdev's vgpu create and remove"
# VgpuCreate's answer: id, parent, type, layout
got=$(busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" VgpuCreate sst 03:00.0 557 0 2>&1)
[ "$got" = 'ssss "0000:03:00.4" "0000:03:00.0" "557" "nvidia-vf"' ] && ok "VgpuCreate answers id, parent, type and layout" \
        || fail "VgpuCreate answers id, parent, type and layout" "$got"
got=$(busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" VgpuRemove st 0000:03:00.4 0 2>&1)
[ -z "$got" ] && [ "$(cat "$PA/0000:03:00.4/nvidia/current_vgpu_type")" = 0 ] && ok "VgpuRemove answers nothing" \
        || fail "VgpuRemove answers nothing" "$got"
trees "after VgpuCreate and VgpuRemove on the bus"

# --- uid 65534: refused through polkit (absent here), nothing changes
if [ -n "$NOBODY" ]; then
        mkdir -m 1777 "$TMP/wn"
        echo old > "$TMP/wn/kept.rom"
        chmod 666 "$TMP/wn/kept.rom"
        before=$(sums "$TA" "$TMP/wn")
        bad=
        for c in "vgpu create 03:00.0 557|org.hostdev.mdev" "vgpu remove 0000:03:00.4|org.hostdev.mdev" \
                 "vgpu create 00:02.0 i915-GVTg_V5_8|org.hostdev.mdev" "gpu rom 01:00.0 new.rom|org.hostdev.rom" \
                 "gpu rom 01:00.0 kept.rom|org.hostdev.rom" "gpu rom 00:02.0 kept.rom|org.hostdev.rom"; do
                IFS='|' read -r cli action <<< "$c"
                verb=$(echo "$cli" | cut -d' ' -f1-2)
                out=$(cd "$TMP/wn" && setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/hostdevctl-fake" --sysroot "$TA" \
                        --state-dir "$SA" $cli 2>&1); rc=$?
                case $out in
                "hostdevctl: $verb: not authorized: hostdevd asked polkit for the action $action and was refused ($action needs root: polkit is not running to authorize others); run it as root, or have the action granted to you (polkit rules, the hostdev group)")
                        [ $rc = 1 ] || bad="$bad [$cli: exit $rc]" ;;
                *) bad="$bad [$cli: $out]" ;;
                esac
        done
        [ -z "$bad" ] && ok "uid 65534 through the daemon: vgpu create/remove, gpu rom 'not authorized', naming polkit and the action, exit 1" \
                || fail "uid 65534 through the daemon: not authorized" "$bad"
        [ "$(sums "$TA" "$TMP/wn")" = "$before" ] && [ "$(cat "$TMP/wn/kept.rom")" = old ] && [ ! -e "$TMP/wn/new.rom" ] \
                && ok "uid 65534's calls changed nothing (no ROM file written or removed)" \
                || fail "uid 65534's calls changed nothing" "$(diff <(echo "$before") <(sums "$TA" "$TMP/wn") | head -4 | tr '\n' ' ')"
        for c in "VgpuCreate string:03:00.0 string:557 uint64:0|org.hostdev.mdev" \
                 "VgpuRemove string:0000:03:00.4 uint64:0|org.hostdev.mdev" "GpuRom string:01:00.0 uint64:0|org.hostdev.rom"; do
                IFS='|' read -r args action <<< "$c"
                got=$(err --as-nobody $args)
                [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: $action needs root: polkit is not running to authorize others" ] \
                        && ok "uid 65534: ${args%% *} AccessDenied ($action)" || fail "uid 65534: ${args%% *} AccessDenied" "$got"
        done
        [ "$(sums "$TA" "$TMP/wn")" = "$before" ] && ok "uid 65534's D-Bus calls changed nothing" \
                || fail "uid 65534's D-Bus calls changed nothing"
        # hostdev-xml --rom reads no ROM: no method, no refusal; uid
        # 65534 gets the XML --direct prints (root's), its file unread
        n0=$(rebuilds)
        out=$(cd "$TMP/wn" && setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/hostdevctl-fake" --sysroot "$TA" \
                --state-dir "$SA" hostdev-xml 01:00.0 --rom kept.rom 2>&1); rc=$?
        want=$(cd "$TMP/wn" && "$HOSTDEVCTL_FAKE" --direct --sysroot "$TA" --state-dir "$SA" hostdev-xml 01:00.0 --rom kept.rom 2>&1)
        [ $rc = 0 ] && [ "$out" = "$want" ] && [ "${out#*<rom file=\'$TMP/wn/kept.rom\'/>}" != "$out" ] && [ "$(rebuilds)" = "$n0" ] \
                && [ "$(cat "$TMP/wn/kept.rom")" = old ] && ok "uid 65534: hostdev-xml --rom prints what --direct prints, no daemon call" \
                || fail "uid 65534: hostdev-xml --rom prints what --direct prints" "rc=$rc $out"
        # --direct: the CLI's own refusal, before anything is read
        out=$(cd "$TMP/wn" && setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/hostdevctl-fake" --direct gpu rom 01:00.0 d.rom 2>&1); rc=$?
        [ $rc = 1 ] && [ "$out" = "hostdevctl: gpu rom needs root: it changes this host's devices (use --sysroot DIR for a captured or fake tree)" ] \
                && [ ! -e "$TMP/wn/d.rom" ] && ok "uid 65534 --direct on the live host: gpu rom needs root" \
                || fail "uid 65534 --direct: gpu rom needs root" "rc=$rc $out"
else
        skip "uid 65534 through the daemon: not authorized" "not root, or no setpriv"
        skip "uid 65534's calls changed nothing" "not root, or no setpriv"
fi

# --- malformed calls: sd-bus's InvalidArgs; the daemon serves on
for c in "VgpuCreate string:03:00.0 uint64:0" "VgpuRemove uint64:0" "GpuRom string:01:00.0"; do
        got=$(err $c)
        case $got in org.freedesktop.DBus.Error.InvalidArgs:*) ok "${c%% *} with a wrong signature: InvalidArgs" ;;
        *) fail "${c%% *} with a wrong signature: InvalidArgs" "$got" ;; esac
done
trees "at the end"
alive && ok "the daemon keeps serving" || fail "the daemon keeps serving" "$(tail -3 "$TMP/daemon.log")"
stop_daemon
finish
