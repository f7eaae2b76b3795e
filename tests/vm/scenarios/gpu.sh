#!/bin/sh
# hostdevctl gpu on a real kernel: bochs-display (00:03.0, a 28 KiB option
# ROM from SeaBIOS's vgabios-bochs-display.bin) and virtio-gpu (render
# node).  Neither is VGA class, so boot VGA is covered by the fake trees
# (tests/test-gpu.sh).
# hdtest: timeout=400 requires=hostdevctl
. /hdtest/lib.sh

PCI=/sys/bus/pci/devices
HD=$(command -v hostdevctl || true)
if [ -z "$HD" ]; then
	skip hostdevctl-present "no hostdevctl binary in the guest"
	done_tests
	exit 0
fi
BOCHS=$(pci_devs 1234:1111 | head -n1)
VGPU=$(pci_devs 1af4:1050 | head -n1)
check_eq bochs-present 0000:00:03.0 echo "$BOCHS"
check virtio-gpu-present test -n "$VGPU"
check wait-bochs-drm wait_for 20 sh -c "ls $PCI/$BOCHS/drm | grep -q '^card'"
check wait-virtio-render wait_for 20 sh -c "ls $PCI/$VGPU/drm | grep -q '^renderD'"
BCARD=/dev/dri/$(ls "$PCI/$BOCHS/drm" | grep '^card' | head -n1)
VRENDER=/dev/dri/$(ls "$PCI/$VGPU/drm" | grep '^renderD' | head -n1)
note "bochs $BOCHS $BCARD, virtio-gpu $VGPU $VRENDER"

# --- gpu --json: both, with DRM nodes and driver names read through libdrm
check gpu-json sh -c 'hostdevctl gpu --json > /tmp/gpu.json'
check gpu-json-lists-bochs grep -q "\"address\":\"$BOCHS\"" /tmp/gpu.json
check gpu-json-lists-virtio grep -q "\"address\":\"$VGPU\"" /tmp/gpu.json
check gpu-json-two-gpus sh -c '[ "$(grep -c "\"passthrough_ready\"" /tmp/gpu.json)" = 2 ]'
hostdevctl gpu "$BOCHS" --json > /tmp/bochs.json 2>&1
hostdevctl gpu "$VGPU" --json > /tmp/virtio.json 2>&1
check bochs-drm-driver-libdrm grep -q '"driver":"bochs-drm"' /tmp/bochs.json
check bochs-drm-source-libdrm grep -q '"source":"libdrm"' /tmp/bochs.json
check bochs-drm-version grep -q '"version":"[0-9]*\.[0-9]*\.[0-9]*"' /tmp/bochs.json
check bochs-card-node grep -q "\"card\":\"$BCARD\"" /tmp/bochs.json
check virtio-drm-driver-libdrm grep -q '"driver":"virtio_gpu"' /tmp/virtio.json
check virtio-drm-source-libdrm grep -q '"source":"libdrm"' /tmp/virtio.json
check virtio-render-node grep -q "\"render\":\"$VRENDER\"" /tmp/virtio.json
check virtio-pci-driver grep -q '"driver":"virtio-pci"' /tmp/virtio.json
check bochs-has-rom grep -q '"rom":true' /tmp/bochs.json
check gpu-text sh -c "hostdevctl gpu | grep -q '^$BOCHS'"

# --- gpu rom: a valid image, and the ROM disabled again
check rom-dump hostdevctl gpu rom "$BOCHS" /tmp/bochs.rom --json
hostdevctl gpu rom "$BOCHS" /tmp/bochs.rom --json > /tmp/rom.json 2>&1
check_eq rom-size 28672 sh -c 'wc -c < /tmp/bochs.rom | tr -d " "'
check rom-signature grep -q '"signature_ok":true' /tmp/rom.json
check rom-ids-match grep -q '"ids_match":true' /tmp/rom.json
check rom-usable grep -q '"usable":true' /tmp/rom.json
check_eq rom-magic "55aa" sh -c 'hexdump -n 2 -e "2/1 \"%02x\"" /tmp/bochs.rom'
check rom-disabled-again sh -c "! cat $PCI/$BOCHS/rom > /dev/null 2>&1"
check hostdev-xml-rom sh -c "hostdevctl hostdev-xml $BOCHS --rom /tmp/bochs.rom | grep -q \"<rom file='/tmp/bochs.rom'/>\""

# --- a process holding the card node: detach refused (exit 2) naming it
sleep 600 < "$BCARD" &
HOLDER=$!
sleep 1
check gpu-shows-user sh -c "hostdevctl gpu $BOCHS | grep -q 'drm users: $HOLDER sleep ($BCARD)'"
hostdevctl nodedev-detach "$BOCHS" > /tmp/detach.out 2> /tmp/detach.err
check_eq detach-refused-exit 2 echo $?
check detach-names-process grep -q "is open by process $HOLDER (sleep)" /tmp/detach.err
check_eq still-bound bochs-drm pci_driver "$BOCHS"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
check gpu-no-user sh -c "hostdevctl gpu $BOCHS | grep -q 'drm users: none'"
# for the record (console log)
hostdevctl gpu 2>&1 | sed 's/^/# /'
done_tests
