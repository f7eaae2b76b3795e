#!/bin/sh
# NVMe SR-IOV end to end: VFs, bringing their secondary controllers online
# with NVMe Virtualization Management (nvme-cli), the nvme driver on a VF,
# and handing an online VF to vfio-pci.
# hdtest: nvme-cli timeout=300
. /hdtest/lib.sh

PCI=/sys/bus/pci/devices
PF=
for b in $(pci_devs 1b36:0010); do
	[ -e "$PCI/$b/sriov_totalvfs" ] && { PF=$b; break; }
done
[ -n "$PF" ] || { fail nvme-pf "no SR-IOV capable 1b36:0010"; done_tests; exit 1; }
check nvme-pf-ctrl wait_for 20 test -c /dev/nvme0
check_eq nvme-pf-ctrl-is-pf "$PF" sh -c "basename \$(readlink /sys/class/nvme/nvme0/device)"

if ! command -v nvme >/dev/null 2>&1; then
	skip nvme-cli "nvme-cli layer not available (download failed?)"
	done_tests
	exit 0
fi
pass nvme-cli
# Primary controller capabilities: 8 flexible VQ and 4 VI resources
# (sriov_vq_flexible=8, sriov_vi_flexible=4 on the QEMU command line).
CAPS=$(nvme primary-ctrl-caps /dev/nvme0 2>&1)
check_eq nvme-vqfrt 8 sh -c "echo \"\$1\" | sed -n 's/^vqfrt *: //p'" _ "$CAPS"
check_eq nvme-vifrt 4 sh -c "echo \"\$1\" | sed -n 's/^vifrt *: //p'" _ "$CAPS"
check_eq nvme-secondary-count 4 sh -c "nvme list-secondary /dev/nvme0 | grep -c 'Secondary Controller Identifier'"

echo 0 >"$PCI/$PF/sriov_drivers_autoprobe"
echo 2 >"$PCI/$PF/sriov_numvfs"
check_eq nvme-numvfs 2 cat "$PCI/$PF/sriov_numvfs"
check_eq nvme-secondary-offline 4 sh -c "nvme list-secondary /dev/nvme0 | grep -c '(Offline)'"

# Secondary controller N belongs to VF N (SCID 1..4 = VFN 1..4 in QEMU).
for c in 1 2; do
	check "nvme-vf$c-assign-vq" nvme virt-mgmt /dev/nvme0 -c "$c" -r 0 -a 8 -n 2
	check "nvme-vf$c-assign-vi" nvme virt-mgmt /dev/nvme0 -c "$c" -r 1 -a 8 -n 1
	check "nvme-vf$c-online" nvme virt-mgmt /dev/nvme0 -c "$c" -r 0 -a 9 -n 0
done
check_eq nvme-secondary-online 2 sh -c "nvme list-secondary /dev/nvme0 | grep -c '(Online)'"

VF1=$(basename "$(readlink "$PCI/$PF/virtfn0")")
VF2=$(basename "$(readlink "$PCI/$PF/virtfn1")")
# With sriov_drivers_autoprobe=0 a VF only binds through driver_override.
echo nvme >"$PCI/$VF1/driver_override"
echo "$VF1" >/sys/bus/pci/drivers_probe
check_eq nvme-vf1-bound nvme pci_driver "$VF1"
check nvme-vf1-ctrl wait_for 20 sh -c "ls $PCI/$VF1/nvme | grep -q '^nvme[0-9]'"
echo "$VF1" >"$PCI/$VF1/driver/unbind"
echo >"$PCI/$VF1/driver_override"

echo vfio-pci >"$PCI/$VF2/driver_override"
echo "$VF2" >/sys/bus/pci/drivers_probe
check_eq nvme-vf2-vfio vfio-pci pci_driver "$VF2"
check nvme-vf2-vfio-node test -c "/dev/vfio/$(pci_group "$VF2")"
echo "$VF2" >"$PCI/$VF2/driver/unbind"
echo >"$PCI/$VF2/driver_override"

for c in 1 2; do nvme virt-mgmt /dev/nvme0 -c "$c" -r 0 -a 7 -n 0 >/dev/null 2>&1; done
check_eq nvme-secondary-offline-again 4 sh -c "nvme list-secondary /dev/nvme0 | grep -c '(Offline)'"
echo 0 >"$PCI/$PF/sriov_numvfs"
check_eq nvme-numvfs-0 0 cat "$PCI/$PF/sriov_numvfs"
check_eq nvme-pf-still-bound nvme pci_driver "$PF"
done_tests
