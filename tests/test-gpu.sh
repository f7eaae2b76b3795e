#!/usr/bin/env bash
# GPUs: hostdevctl gpu / gpu rom / vgpu on the GPU fixture tree
# (tests/data/sysroots/gpu.py) through hostdevctl-fake (the CLI with the
# fake kernel: rom enable/disable, current_vgpu_type, mdev create/remove,
# driver binding), goldens for text and JSON, and the host-safety refusals
# of detaching a GPU.  HOSTDEV_GPU_UPDATE_GOLDEN=1 rewrites the goldens.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"
: "${DOMAIN_RNG:=/usr/share/libvirt/schemas/domain.rng}"
unset HOSTDEV_MDEVCTL_DIR

G=$GOLDEN/gpu
F=$TMP/gpu
python3 "$SRCDIR/tests/data/sysroots/gpu.py" "$F" || { echo "1..0 # SKIP cannot build the GPU tree"; exit 1; }
hf() { "$HOSTDEVCTL_FAKE" --sysroot "$F" --state-dir "$TMP/state" "$@"; }
PCI=$F/sys/bus/pci/devices

# expect_exit CODE NAME CMD... (stdout in $TMP/out, stderr in $TMP/err);
# a failing verb prints exactly one error line
expect_exit() {
        local code=$1 name=$2; shift 2
        "$@" > "$TMP/out" 2> "$TMP/err"
        local rc=$?
        if [ $rc != "$code" ]; then
                fail "$name" "exit $rc, expected $code: $(head -3 "$TMP/err" | tr '\n' ' ')"
        elif [ "$code" != 0 ] && [ "$(grep -vc '^note: ' "$TMP/err")" != 1 ]; then
                fail "$name" "expected one error line, got: $(tr '\n' '|' < "$TMP/err")"
        else
                ok "$name"
        fi
}
# golden NAME FILE: compare $TMP/out (with $TMP spelled TMP) to tests/data/golden/gpu/FILE
golden() {
        sed "s|$(realpath "$TMP")|TMP|g; s|$TMP|TMP|g" "$TMP/out" > "$TMP/out.g"
        if [ "${HOSTDEV_GPU_UPDATE_GOLDEN:-0}" = 1 ]; then
                mkdir -p "$G"
                cp "$TMP/out.g" "$G/$2"
        fi
        if diff -u "$G/$2" "$TMP/out.g" > "$TMP/d" 2>&1; then
                ok "$1 matches golden $2"
        else
                fail "$1 matches golden $2" "$(head -20 "$TMP/d" | tr '\n' ' ')"
        fi
}
jq_ok() { # NAME PYTHON-EXPR over the JSON in $TMP/out as `d`
        if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$TMP/out" 2> "$TMP/perr"; then
                ok "$1"
        else
                fail "$1" "$(tail -1 "$TMP/perr")"
        fi
}
drv() { basename "$(readlink "$PCI/$1/driver")" 2>/dev/null || echo -; }

# ---- gpu ------------------------------------------------------------------
expect_exit 0 "gpu" hf gpu
golden "gpu" gpu.txt
expect_exit 0 "gpu --json" hf gpu --json
golden "gpu --json" gpu.json
jq_ok "gpu --json: four GPUs, VFs left out" '[g["address"] for g in d] == ["0000:00:02.0", "0000:01:00.0", "0000:02:00.0", "0000:03:00.0"]'
jq_ok "NVIDIA: HDMI audio, USB-C and UCSI companions" \
        '[(c["address"], c["kind"]) for c in d[1]["companions"]] == [("0000:01:00.1", "audio"), ("0000:01:00.2", "usb"), ("0000:01:00.3", "serial-bus")]'
jq_ok "NVIDIA: boot VGA held by fbcon and efifb" 'd[1]["boot_vga"] and d[1]["console_holder"] == "the framebuffer console (vtcon1) and efifb"'
jq_ok "NVIDIA: Xorg holds card0" 'd[1]["drm_users"] == [{"pid": 1234, "comm": "Xorg", "node": "/dev/dri/card0"}]'
jq_ok "NVIDIA: not ready, with the reason" 'not d[1]["passthrough_ready"] and "boot VGA" in d[1]["reason"]'
jq_ok "NVIDIA: DRM nodes from sysfs" 'd[1]["drm"]["card"] == "/dev/dri/card0" and d[1]["drm"]["render"] == "/dev/dri/renderD128" and d[1]["drm"]["source"] == "sysfs"'
jq_ok "NVIDIA: romfile quirk note" '"rom file" in d[1]["quirk"]'
jq_ok "AMD Polaris: no-FLR quirk naming vendor-reset, bus reset only" \
        '"vendor-reset" in d[2]["quirk"] and d[2]["reset_methods"] == ["bus"]'
jq_ok "AMD: ready (its group is its own card)" 'd[2]["passthrough_ready"] and d[2]["reason"] is None'
jq_ok "Intel: no quirk, FLR, group 3" 'd[0]["quirk"] is None and d[0]["reset_methods"] == ["flr"] and d[0]["iommu_group"] == 3'
jq_ok "L4: 4 VFs, no DRM" 'd[3]["sriov_vfs"] == 4 and d[3]["drm"] is None'
expect_exit 0 "gpu DEV" hf gpu 02:00.0
grep -q '^  quirk: AMD Polaris 10' "$TMP/out" && ok "gpu DEV: one GPU" || fail "gpu DEV: one GPU"
expect_exit 1 "gpu of a non-GPU" hf gpu 01:00.1
grep -q "not a display-class PCI device" "$TMP/err" && ok "non-GPU: clear message" || fail "non-GPU: clear message"
expect_exit 64 "gpu: extra argument" hf gpu 01:00.0 02:00.0
expect_exit 0 "gpu --help" hf gpu --help
expect_exit 0 "vgpu --help" hf vgpu --help

# ---- gpu rom --------------------------------------------------------------
LOG=$F/.fake-kernel-rom.log
cd "$TMP" || exit 1
expect_exit 0 "gpu rom: NVIDIA" hf gpu rom 01:00.0 nv.rom
golden "gpu rom" rom-nvidia.txt
cmp -s nv.rom "$PCI/0000:01:00.0/.rom-image" && ok "rom: dumped the whole image" || fail "rom: dumped the whole image"
[ ! -s "$PCI/0000:01:00.0/rom" ] && ok "rom: disabled again" || fail "rom: disabled again"
[ "$(cat "$LOG")" = $'0000:01:00.0 1\n0000:01:00.0 0' ] && ok "rom: enable, then disable" || fail "rom: enable, then disable" "$(tr '\n' ' ' < "$LOG")"
expect_exit 0 "gpu rom --json" hf gpu rom 01:00.0 nv.rom --json
golden "gpu rom --json" rom-nvidia.json
jq_ok "rom --json: two images, x86 then EFI, usable" \
        '[i["code_type"] for i in d["images"]] == [0, 3] and d["usable"] and d["signature_ok"] and d["ids_match"]'
: > "$LOG"
expect_exit 1 "gpu rom: a ROM for another device" hf gpu rom 02:00.0 amd.rom
grep -q "the ROM is for 1002:67ff, the device is 1002:67df" "$TMP/err" && ok "ids mismatch named" || fail "ids mismatch named" "$(cat "$TMP/err")"
[ "$(tail -1 "$LOG")" = "0000:02:00.0 0" ] && [ ! -s "$PCI/0000:02:00.0/rom" ] && ok "unusable image: rom disabled again" \
        || fail "unusable image: rom disabled again"
[ -s amd.rom ] && ok "unusable image: file kept for inspection" || fail "unusable image: file kept for inspection"
: > "$LOG"
mv "$PCI/0000:01:00.0/.rom-image" "$TMP/img.saved"
expect_exit 1 "gpu rom: the ROM reads empty" hf gpu rom 01:00.0 empty.rom
grep -q "reads empty" "$TMP/err" && ok "empty ROM: clear message" || fail "empty ROM: clear message"
[ "$(cat "$LOG")" = $'0000:01:00.0 1\n0000:01:00.0 0' ] && ok "read error: rom disabled again" || fail "read error: rom disabled again" "$(tr '\n' ' ' < "$LOG")"
[ ! -e empty.rom ] && ok "read error: no output file left" || fail "read error: no output file left"
mv "$TMP/img.saved" "$PCI/0000:01:00.0/.rom-image"
: > "$LOG"
# the checks, on crafted images in the AMD card's ROM
craft() { # PYTHON-EXPR over rom_image(vendor, device, code_type, size, last) → bytes
        python3 -c "import sys; sys.path.insert(0, '$SRCDIR/tests/data/sysroots'); from gpu import rom_image, rom
import struct
sys.stdout.buffer.write($1)" > "$PCI/0000:02:00.0/.rom-image"
}
rom_case() { # NAME EXIT EXPECTED-REASON-SUBSTRING PYTHON-EXPR
        craft "$4"
        expect_exit "$2" "gpu rom: $1" hf gpu rom 02:00.0 c.rom --json
        if [ -z "$3" ]; then
                jq_ok "gpu rom: $1: usable" 'd["usable"] and d["reason"] is None'
        else
                jq_ok "gpu rom: $1: reason" "not d['usable'] and '$3' in d['reason']"
        fi
        [ ! -s "$PCI/0000:02:00.0/rom" ] && ok "gpu rom: $1: rom disabled again" || fail "gpu rom: $1: rom disabled again"
}
rom_case "bad signature" 1 "no 0x55AA ROM signature" 'b"\\x00\\x00" + rom_image(0x1002, 0x67df, 0, 0x2000, True)[2:]'
rom_case "no PCIR" 1 "no PCIR data structure" 'rom_image(0x1002, 0x67df, 0, 0x2000, True).replace(b"PCIR", b"XXXX")'
rom_case "bad checksum" 1 "bad checksum in image 0 (x86 BIOS)" 'rom_image(0x1002, 0x67df, 0, 0x2000, True)[:-1] + b"\\x01"'
rom_case "truncated" 1 "the image is truncated" 'rom_image(0x1002, 0x67df, 0, 0x4000, True)[:0x2000]'
rom_case "matching image" 0 "" 'rom(0x1002, 0x67df, [(0, 0x2000), (3, 0x1000)])'
rom_case "device in the PCI 3.0 device list" 0 "" 'rom_image(0x1002, 0x67ff, 0, 0x2000, True, devlist=[0x67ff, 0x67df])'
rom_case "device list without the device" 1 "the ROM is for 1002:67ff" 'rom_image(0x1002, 0x67ff, 0, 0x2000, True, devlist=[0x67ff, 0x67ef])'
: > "$LOG"
expect_exit 1 "gpu rom: no ROM" hf gpu rom 00:02.0 igpu.rom
[ ! -s "$LOG" ] && ok "no ROM: nothing enabled" || fail "no ROM: nothing enabled"
expect_exit 1 "gpu rom: unwritable output" hf gpu rom 01:00.0 /nonexistent/dir/x.rom
[ ! -s "$LOG" ] && ok "unwritable output: ROM never enabled" || fail "unwritable output: ROM never enabled"
expect_exit 64 "gpu rom: missing file" hf gpu rom 01:00.0
expect_exit 0 "hostdev-xml --rom" hf hostdev-xml 01:00.0 --rom nv.rom
golden "hostdev-xml --rom" hostdev-xml-rom.xml
if [ -f "$DOMAIN_RNG" ] && command -v xmllint > /dev/null; then
        { echo "<domain type='kvm'><name>t</name><memory>1048576</memory><os><type>hvm</type></os><devices>"
          cat "$TMP/out"; echo "</devices></domain>"; } > "$TMP/dom.xml"
        check "hostdev-xml --rom validates against domain.rng" xmllint --noout --relaxng "$DOMAIN_RNG" "$TMP/dom.xml"
else
        skip "hostdev-xml --rom validates against domain.rng" "no $DOMAIN_RNG or xmllint"
fi
expect_exit 1 "hostdev-xml --rom of a missing file" hf hostdev-xml 01:00.0 --rom missing.rom
cd - > /dev/null || exit 1

# ---- vgpu -----------------------------------------------------------------
expect_exit 0 "vgpu types" hf vgpu types
golden "vgpu types" vgpu-types.txt
expect_exit 0 "vgpu types --json" hf vgpu types --json
golden "vgpu types --json" vgpu-types.json
jq_ok "both layouts in one list" 'sorted({t["layout"] for t in d}) == ["mdev", "nvidia-vf"]'
jq_ok "per-VF types summed over the PF's 3 free VFs" 'all(t["available"] == 3 for t in d if t["layout"] == "nvidia-vf")'
expect_exit 0 "vgpu types of a VF" hf vgpu types 03:00.4 --json
jq_ok "a VF's own types, one instance each" '[(t["parent"], t["available"]) for t in d][:1] == [("0000:03:00.4", 1)] and len(d) == 4'
expect_exit 0 "vgpu types of the iGPU" hf vgpu types 00:02.0 --json
jq_ok "GVT-g mdev types" '[t["type"] for t in d] == ["i915-GVTg_V5_4", "i915-GVTg_V5_8"] and d[0]["available"] == 2'
expect_exit 1 "vgpu types of a GPU without vGPU" hf vgpu types 02:00.0
grep -q "offers no vGPU types" "$TMP/err" && ok "no vGPU types: clear message" || fail "no vGPU types: clear message"

expect_exit 0 "vgpu create on the PF by id" hf vgpu create 03:00.0 558
[ "$(cat "$TMP/out")" = 0000:03:00.4 ] && ok "create: first free VF chosen" || fail "create: first free VF chosen" "$(cat "$TMP/out")"
[ "$(cat "$PCI/0000:03:00.4/nvidia/current_vgpu_type")" = 558 ] && ok "create: current_vgpu_type written" || fail "create: current_vgpu_type written"
expect_exit 0 "vgpu create by name" hf vgpu create 0000:03:00.0 "NVIDIA L4-4Q"
[ "$(cat "$TMP/out")" = 0000:03:00.6 ] && ok "create by name: next free VF (03:00.5 is taken)" || fail "create by name: next free VF" "$(cat "$TMP/out")"
hf vgpu types 03:00.0 --json > "$TMP/out"
jq_ok "one instance left after two creates" 'all(t["available"] == 1 for t in d)'
snapvf() { cat "$PCI"/0000:03:00.[4-7]/nvidia/current_vgpu_type; }
snapvf > "$TMP/vf.before"
expect_exit 1 "vgpu create of an unknown type" hf vgpu create 03:00.0 999
grep -q "unknown vGPU type '999'" "$TMP/err" && ok "unknown type: clear message" || fail "unknown type: clear message"
expect_exit 1 "vgpu create on a VF that has one" hf vgpu create 03:00.5 557
grep -q "pci_0000_03_00_5 has a vGPU already" "$TMP/err" && ok "taken VF: has one already" || fail "taken VF: has one already" "$(cat "$TMP/err")"
expect_exit 0 "vgpu create: last VF" hf vgpu create 03:00.0 557
expect_exit 1 "vgpu create: none left" hf vgpu create 03:00.0 557
grep -q "no instance of vGPU type '557' left" "$TMP/err" && ok "none left: clear message" || fail "none left: clear message"
expect_exit 1 "vgpu create on a GPU without vGPU" hf vgpu create 02:00.0 557
G6=$(basename "$(readlink "$PCI/0000:03:00.6/iommu_group")")
mkdir -p "$F/proc/777/fd" && ln -s "/dev/vfio/$G6" "$F/proc/777/fd/20" && echo qemu > "$F/proc/777/comm"
snapvf > "$TMP/vf.before"
expect_exit 2 "vgpu remove of a VF in use is refused" hf vgpu remove 0000:03:00.6
snapvf > "$TMP/vf.after"
cmp -s "$TMP/vf.before" "$TMP/vf.after" && ok "refused remove: nothing changed" || fail "refused remove: nothing changed"
rm -rf "$F/proc/777"
expect_exit 0 "vgpu remove a VF's vGPU" hf vgpu remove 0000:03:00.6
[ "$(cat "$PCI/0000:03:00.6/nvidia/current_vgpu_type")" = 0 ] && ok "remove: current_vgpu_type 0" || fail "remove: current_vgpu_type 0"
expect_exit 1 "vgpu remove twice" hf vgpu remove 0000:03:00.6
expect_exit 0 "vgpu create on the iGPU (mdev)" hf vgpu create 00:02.0 i915-GVTg_V5_8
U=$(cat "$TMP/out")
[ -e "$F/sys/bus/mdev/devices/$U" ] && ok "create: the mdev exists" || fail "create: the mdev exists" "$U"
hf vgpu types 00:02.0 --json > "$TMP/out"
jq_ok "mdev instance taken" '[t["available"] for t in d] == [2, 3]'
expect_exit 0 "vgpu remove the mdev" hf vgpu remove "$U"
[ ! -e "$F/sys/bus/mdev/devices/$U" ] && ok "remove: the mdev is gone" || fail "remove: the mdev is gone"
expect_exit 64 "vgpu without an action" hf vgpu
expect_exit 64 "vgpu with an unknown action" hf vgpu frobnicate
expect_exit 64 "vgpu create without a type" hf vgpu create 00:02.0

# ---- which BAR the firmware framebuffer holds: proc/iomem, else boot VGA ----
F0=$F
F=$TMP/gpu-iomem
cp -a "$F0" "$F"
sed -i 's/^  c0000000-c07fffff : efifb$//; s/^f7000000-f701ffff : 0000:02:00.0$/&\n  f7000000-f700ffff : efifb/' "$F/proc/iomem"
hf gpu --json > "$TMP/out"
jq_ok "iomem: efifb in the AMD card's BAR, not in the boot GPU's" \
        'd[1]["console_holder"] == "the framebuffer console (vtcon1)" and d[2]["console_holder"] == "efifb" and not d[2]["passthrough_ready"]'
expect_exit 2 "detach of a GPU whose BAR efifb uses is refused (not the boot VGA)" hf nodedev-detach 02:00.0 --group
grep -q "efifb drives a framebuffer in the memory of 0000:02:00.0" "$TMP/err" && ok "refusal: efifb in that BAR" || fail "refusal: efifb in that BAR" "$(cat "$TMP/err")"
sed -i 's/^\( *\)[0-9a-f]*-[0-9a-f]* :/\100000000-00000000 :/' "$F/proc/iomem"   # as non-root reads it
hf gpu --json > "$TMP/out"
jq_ok "iomem without addresses: the boot VGA device's platform framebuffer" \
        'd[1]["console_holder"] == "the framebuffer console (vtcon1) and efifb" and d[2]["console_holder"] is None'
rm "$F/proc/iomem"
hf gpu --json > "$TMP/out"
jq_ok "no iomem: the boot VGA device's platform framebuffer" \
        'd[1]["console_holder"] == "the framebuffer console (vtcon1) and efifb" and d[2]["console_holder"] is None'
F=$F0
PCI=$F/sys/bus/pci/devices

# ---- detach: companions and host-safety refusals ----------------------------
expect_exit 2 "detach of the boot GPU with fbcon is refused" hf nodedev-detach 01:00.0
grep -q "boot VGA device and the framebuffer console (vtcon1)" "$TMP/err" && ok "refusal names fbcon" || fail "refusal names fbcon" "$(cat "$TMP/err")"
grep -q "^note: pci_0000_01_00_0 shares its card with 0000:01:00.1 (audio, snd_hda_intel).*use --group" "$TMP/err" \
        && ok "detach without --group names the audio companion and suggests --group" || fail "detach names the audio companion" "$(cat "$TMP/err")"
[ "$(drv 0000:01:00.0)" = nouveau ] && ok "refused: still on nouveau" || fail "refused: still on nouveau"
echo 0 > "$F/sys/class/vtconsole/vtcon1/bind"
expect_exit 2 "detach of the boot GPU with efifb is refused" hf nodedev-detach 01:00.0 --group
grep -q "efifb, the boot framebuffer, drives a framebuffer in the memory of 0000:01:00.0" "$TMP/err" && ok "refusal names efifb" || fail "refusal names efifb" "$(cat "$TMP/err")"
! grep -q "^note:" "$TMP/err" && ok "--group: no companion note" || fail "--group: no companion note"
# efifb unbound: the platform device loses its driver, iomem its entry
rm "$F/sys/devices/platform/efi-framebuffer.0/driver"
sed -i '/: efifb$/d' "$F/proc/iomem"
expect_exit 2 "detach of a GPU a display server holds is refused" hf nodedev-detach 01:00.0 --group
grep -q "/dev/dri/card0 is open by process 1234 (Xorg)" "$TMP/err" && ok "refusal names the process" || fail "refusal names the process" "$(cat "$TMP/err")"
hf gpu 01:00.0 --json > "$TMP/out"
jq_ok "gpu: reason names Xorg" 'd[0]["reason"] == "/dev/dri/card0 is open by process 1234 (Xorg)"'
rm -rf "$F/proc/1234"
expect_exit 0 "detach --group once nothing holds it" hf nodedev-detach 01:00.0 --group
for a in 0000:01:00.0 0000:01:00.1 0000:01:00.2 0000:01:00.3; do
        [ "$(drv $a)" = vfio-pci ] || fail "detach --group: $a on vfio-pci" "$(drv $a)"
done
ok "detach --group: the whole card on vfio-pci"
hf gpu 01:00.0 --json > "$TMP/out"
jq_ok "gpu: group viable, ready" 'd[0]["iommu_group_viable"] and d[0]["passthrough_ready"] and d[0]["driver"] == "vfio-pci"'
expect_exit 0 "detach of the AMD GPU alone (dry run)" hf nodedev-detach 02:00.0 --dry-run
grep -q "^note: pci_0000_02_00_0 shares its card with 0000:02:00.1 (audio, snd_hda_intel); use --group" "$TMP/err" \
        && ok "AMD: audio companion named" || fail "AMD: audio companion named" "$(cat "$TMP/err")"

finish
