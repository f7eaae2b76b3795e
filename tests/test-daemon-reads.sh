#!/usr/bin/env bash
# hostdevd's VgpuTypes, Doctor and MdevCreateWithAttrs (daemon/methods-reads.c)
# on a private bus (tests/daemon-bus.sh): hostdevd-fake on a fake tree and
# hostdevctl-fake on its twin, on three fixtures (full, boot, and the GPU
# tree of tests/data/sysroots/gpu.py).  The reads answer byte for byte
# what `hostdevctl vgpu types --json` and `hostdevctl doctor --json`
# print; MdevCreateWithAttrs leaves the daemon's tree as `mdev create
# --attr` leaves the twin and answers as MdevCreate; errors are named and
# carry the CLI's words; uid 65534 may read but not create.
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

build_fixtures full boot
python3 "$SRCDIR/tests/data/sysroots/gpu.py" "$TMP/fx/gpu" > /dev/null || skip_all "cannot build the GPU tree"
NOBODY=
[ "$(id -u)" = 0 ] && command -v setpriv > /dev/null && NOBODY=1

# the CLI on the twin of the daemon's tree $F: $C
hc() { "$HOSTDEVCTL_FAKE" --sysroot "$C" --state-dir "$TMP/cli-st" "$@"; }
# the CLI's error line without "hostdevctl: "
cli_err() { hc "$@" 2>&1 >/dev/null | sed 's/^hostdevctl: //'; }
# named NAME ERROR-NAME GOT WANT: GOT is ERROR-NAME with WANT's text
named() {
        [ -n "$4" ] && [ "$3" = "org.hostdev.Hostdev1.Error.$2: $4" ] && ok "$1: $2 with the CLI's text" \
                || fail "$1: $2 with the CLI's text" "got '$3', CLI '$4'"
}
# gerr [--as-nobody] METHOD GVARIANT-ARGS...: "NAME: MESSAGE" of the error
# (gdbus: dbus-send cannot send an a(ss))
gerr() {
        local pre=()
        [ "$1" = --as-nobody ] && { pre=(setpriv --reuid=65534 --regid=65534 --clear-groups); shift; }
        local m=$1; shift
        "${pre[@]}" gdbus call -a "$A" -d "$DEST" -o "$OBJ" -m "$IFACE.$m" -- "$@" 2>&1 |
                sed -n 's/^Error: GDBus.Error:\([^:]*\): \(.*\)$/\1: \2/p'
}
trees() {
        snap "$F" > "$TMP/snap.d"
        snap "$C" > "$TMP/snap.c"
        cmp -s "$TMP/snap.d" "$TMP/snap.c" && ok "$1: the trees are alike" \
                || fail "$1: the trees are alike" "$(diff "$TMP/snap.d" "$TMP/snap.c" | head -6 | tr '\n' ' ')"
}
# the PCI devices of the CLI's twin, by name
pci_names() {
        hc nodedev-list --cap pci --json | python3 -c 'import json, sys; print(" ".join(d["name"] for d in json.load(sys.stdin)))'
}
# serve FIXTURE: the daemon on a copy of it ($F), the CLI on a twin ($C)
serve() {
        [ -n "${DPID:-}" ] && stop_daemon
        F=$TMP/d-$1 C=$TMP/c-$1
        cp -a "$TMP/fx/$1" "$F"
        cp -a "$TMP/fx/$1" "$C"
        rm -rf "$TMP/cli-st"
        start_daemon "$HOSTDEVD_FAKE" --sysroot "$F" --state-dir "$TMP/st-$1" && ok "$1: hostdevd-fake takes its name" \
                || { fail "$1: hostdevd-fake takes its name" "$(cat "$TMP/daemon.log")"; finish; exit; }
}
# doctor_same LABEL DEVICES...: Doctor is doctor DEVICES... --json
doctor_same() {
        local label=$1 arr=() d; shift
        for d in "$@"; do arr+=("$d"); done
        { call Doctor as ${#arr[@]} "${arr[@]}"; echo; } > "$TMP/a"
        hc doctor "$@" --json > "$TMP/b"
        same "$label: Doctor is doctor --json ($(grep -c '"check"' "$TMP/b") checks, $(grep -c '"FAIL"' "$TMP/b") failing)" \
                "$TMP/a" "$TMP/b"
}
# vgpu_same LABEL NAME: VgpuTypes NAME is vgpu types NAME --json
vgpu_same() {
        { call VgpuTypes s "$2"; echo; } > "$TMP/a"
        hc vgpu types $2 --json > "$TMP/b"
        same "$1: VgpuTypes '$2' is vgpu types $2 --json ($(grep -c '"layout"' "$TMP/b") types)" "$TMP/a" "$TMP/b"
}

if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi

# --- the GPU tree: mdev (GVT-g) and NVIDIA per-VF vGPU types
serve gpu
for g in "" 00:02.0 03:00.0 03:00.4 pci_0000_03_00_6; do
        vgpu_same gpu "$g"
done
[ "$(call VgpuTypes s "" | grep -c '"nvidia-vf"')" -gt 0 ] && ok "gpu: VgpuTypes shows NVIDIA's per-VF types" \
        || fail "gpu: VgpuTypes shows NVIDIA's per-VF types" "$(call VgpuTypes s "")"
named "gpu: VgpuTypes of a GPU without vGPU types" NotFound "$(err VgpuTypes string:02:00.0)" "$(cli_err vgpu types 02:00.0)"
named "gpu: VgpuTypes of a VF whose vGPU is set" NotFound "$(err VgpuTypes string:pci_0000_03_00_5)" \
        "$(cli_err vgpu types pci_0000_03_00_5)"
named "gpu: VgpuTypes of an unknown name" NotFound "$(err VgpuTypes string:nosuch)" "$(cli_err vgpu types nosuch)"
named "gpu: VgpuTypes of a bad PCI address" InvalidArgument "$(err VgpuTypes string:00:99.0)" \
        "$(cli_err vgpu types 00:99.0)"
doctor_same gpu
# shellcheck disable=SC2046
doctor_same "gpu, every PCI device" $(pci_names)
doctor_same "gpu, 01:00.0 and 03:00.4" 01:00.0 03:00.4
named "gpu: Doctor of a device that is not PCI" InvalidArgument "$(err Doctor array:string:01:00.0,drm_card0)" \
        "$(cli_err doctor 01:00.0 drm_card0)"
named "gpu: Doctor of an unknown name" NotFound "$(err Doctor array:string:nosuch)" "$(cli_err doctor nosuch)"
if [ -n "$NOBODY" ]; then
        { call --as-nobody VgpuTypes s ""; echo; } > "$TMP/a"
        hc vgpu types --json > "$TMP/b"
        same "gpu: uid 65534 reads VgpuTypes" "$TMP/a" "$TMP/b"
        { call --as-nobody Doctor as 1 03:00.0; echo; } > "$TMP/a"
        hc doctor 03:00.0 --json > "$TMP/b"
        same "gpu: uid 65534 reads Doctor" "$TMP/a" "$TMP/b"
else
        skip "gpu: uid 65534 reads" "not root, or no setpriv"
fi

# --- the boot fixture: a GPU with its audio, a firmware framebuffer
serve boot
doctor_same boot
# shellcheck disable=SC2046
doctor_same "boot, every PCI device" $(pci_names)
vgpu_same boot ""

# --- the full fixture: doctor, and mdev create with attributes on mtty
serve full
doctor_same full
# shellcheck disable=SC2046
doctor_same "full, every PCI device" $(pci_names)
vgpu_same full ""
vgpu_same full 00:02.0
trees "full: after the reads"

U1=5a1e0b2c-3d4f-4a5b-8c6d-7e8f90a1b2c3
U2=6b2f1c3d-4e5a-4b6c-9d7e-8f90a1b2c3d4
# a dry run answers as MdevCreate's
{ busctl --address="$A" --json=short call "$DEST" "$OBJ" "$IFACE" MdevCreate ssst mtty mtty-1 "$U1" 2 |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0])'; } > "$TMP/a"
{ call MdevCreateWithAttrs 'sssa(ss)t' mtty mtty-1 "$U1" 2 foo bar k v 2; echo; } > "$TMP/b"
python3 - "$TMP/a" "$U1" <<'EOF' && ok "MdevCreate's dry run: a result naming the UUID" || fail "MdevCreate's dry run: a result naming the UUID" "$(head -c 300 "$TMP/a")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ok" and sys.argv[2] in json.dumps(d), d
EOF
same "MdevCreateWithAttrs' dry run answers as MdevCreate's" "$TMP/a" "$TMP/b"
trees "full: after the dry runs"
{ call MdevCreateWithAttrs 'sssa(ss)t' mtty mtty-1 "$U1" 2 foo bar k v 0; echo; } > "$TMP/a"
out=$(hc mdev create mtty mtty-1 --uuid "$U1" --attr foo=bar --attr k=v 2>&1)
[ "$out" = "$U1" ] && ok "mdev create --attr on the twin: $U1" || fail "mdev create --attr on the twin" "$out"
python3 - "$TMP/a" "$U1" <<'EOF' && ok "MdevCreateWithAttrs: a result, status ok, naming $U1" \
        || fail "MdevCreateWithAttrs: a result, status ok" "$(head -c 300 "$TMP/a")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ok" and sys.argv[2] in json.dumps(d), d
EOF
[ "$(cat "$F/sys/bus/mdev/devices/$U1/foo" 2>&1)" = bar ] && [ "$(cat "$F/sys/bus/mdev/devices/$U1/k" 2>&1)" = v ] \
        && ok "MdevCreateWithAttrs: the attributes are written" \
        || fail "MdevCreateWithAttrs: the attributes are written" "$(ls "$F/sys/bus/mdev/devices/$U1" 2>&1 | tr '\n' ' ')"
trees "full: after MdevCreateWithAttrs (mdev create --attr)"
{ call MdevList t 0; echo; } > "$TMP/a"
hc mdev list --json > "$TMP/b"
same "MdevList after the create is mdev list --json" "$TMP/a" "$TMP/b"
{ call MdevCreateWithAttrs 'sssa(ss)t' mtty mtty-1 "" 0 0; echo; } > "$TMP/a"
python3 - "$TMP/a" <<'EOF' && ok "MdevCreateWithAttrs without a UUID or attributes: a random UUID" \
        || fail "MdevCreateWithAttrs without a UUID or attributes: a random UUID" "$(head -c 300 "$TMP/a")"
import json, re, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ok" and re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", json.dumps(d)), d
EOF
hc mdev create mtty mtty-1 > /dev/null 2>&1
snap "$F" > "$TMP/before"

if command -v gdbus > /dev/null; then
        named "MdevCreateWithAttrs with a nameless attribute" InvalidArgument \
                "$(gerr MdevCreateWithAttrs "'mtty'" "'mtty-1'" "''" "[('', 'v')]" 0)" "$(cli_err mdev create mtty mtty-1 --attr =v)"
        named "MdevCreateWithAttrs with a bad UUID" InvalidArgument \
                "$(gerr MdevCreateWithAttrs "'mtty'" "'mtty-1'" "'xyz'" "[('a', 'b')]" 0)" \
                "$(cli_err mdev create mtty mtty-1 --uuid xyz --attr a=b)"
        named "MdevCreateWithAttrs of an unknown parent" NotFound \
                "$(gerr MdevCreateWithAttrs "'nosuch'" "'mtty-1'" "''" "[('a', 'b')]" 0)" \
                "$(cli_err mdev create nosuch mtty-1 --attr a=b)"
        got=$(gerr MdevCreateWithAttrs "'mtty'" "'mtty-1'" "'$U1'" "[('a', 'b')]" 0)
        want=$(cli_err mdev create mtty mtty-1 --uuid "$U1" --attr a=b)
        case $got in
        "org.hostdev.Hostdev1.Error."*": $want") [ -n "$want" ] && ok "MdevCreateWithAttrs of a UUID in use: ${got%%:*} with the CLI's text" \
                || fail "MdevCreateWithAttrs of a UUID in use: the CLI failed too" "CLI said nothing" ;;
        *) fail "MdevCreateWithAttrs of a UUID in use: the CLI's text" "got '$got', CLI '$want'" ;;
        esac
        got=$(gerr MdevCreateWithAttrs "'mtty'" "'mtty-1'" "''" "@a(ss) []" 4)
        [ "$got" = "org.hostdev.Hostdev1.Error.InvalidArgument: mdev create: unknown flags 0x4" ] \
                && ok "MdevCreateWithAttrs with an unknown flag: InvalidArgument" \
                || fail "MdevCreateWithAttrs with an unknown flag: InvalidArgument" "$got"
        if [ -n "$NOBODY" ]; then
                got=$(gerr --as-nobody MdevCreateWithAttrs "'mtty'" "'mtty-1'" "'$U2'" "[('a', 'b')]" 0)
                [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: org.hostdev.mdev needs root: polkit is not running to authorize others" ] \
                        && ok "MdevCreateWithAttrs as uid 65534: AccessDenied" || fail "MdevCreateWithAttrs as uid 65534: AccessDenied" "$got"
                got=$(gerr --as-nobody MdevCreateWithAttrs "'mtty'" "'mtty-1'" "'$U2'" "[('a', 'b')]" 2)
                [ "$got" = "org.freedesktop.DBus.Error.AccessDenied: org.hostdev.mdev needs root: polkit is not running to authorize others" ] \
                        && ok "MdevCreateWithAttrs' dry run as uid 65534: AccessDenied" \
                        || fail "MdevCreateWithAttrs' dry run as uid 65534: AccessDenied" "$got"
                { call --as-nobody Doctor as 0; echo; } > "$TMP/a"
                hc doctor --json > "$TMP/b"
                same "full: uid 65534 reads Doctor" "$TMP/a" "$TMP/b"
                { call --as-nobody VgpuTypes s 00:02.0; echo; } > "$TMP/a"
                hc vgpu types 00:02.0 --json > "$TMP/b"
                same "full: uid 65534 reads VgpuTypes" "$TMP/a" "$TMP/b"
        else
                skip "uid 65534: MdevCreateWithAttrs refused, reads allowed" "not root, or no setpriv"
        fi
else
        skip "MdevCreateWithAttrs' errors" "no gdbus"
fi
got=$(busctl --address="$A" call "$DEST" "$OBJ" "$IFACE" -- MdevCreateWithAttrs 'sssa(ss)t' mtty mtty-1 "" 1 "" v 0 2>&1)
[ "$got" = "Call failed: mdev create: attribute '=v' is not NAME=VALUE" ] \
        && ok "busctl: a nameless attribute is refused with the CLI's text" || fail "busctl: a nameless attribute is refused" "$got"
got=$(err MdevCreateWithAttrs string:mtty string:mtty-1)
case $got in org.freedesktop.DBus.Error.InvalidArgs:*) ok "MdevCreateWithAttrs with too few arguments: InvalidArgs" ;;
*) fail "MdevCreateWithAttrs with too few arguments: InvalidArgs" "$got" ;; esac
got=$(err Doctor string:01:00.0)
case $got in org.freedesktop.DBus.Error.InvalidArgs:*) ok "Doctor with a string for the array: InvalidArgs" ;;
*) fail "Doctor with a string for the array: InvalidArgs" "$got" ;; esac
snap "$F" > "$TMP/after"
cmp -s "$TMP/before" "$TMP/after" && ok "the refused calls changed nothing" \
        || fail "the refused calls changed nothing" "$(diff "$TMP/before" "$TMP/after" | head -5 | tr '\n' ' ')"
alive && ok "the daemon keeps serving" || fail "the daemon keeps serving" "$(tail -3 "$TMP/daemon.log")"
stop_daemon
finish
