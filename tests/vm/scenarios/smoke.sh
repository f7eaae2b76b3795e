#!/bin/sh
# Smoke test of the emulated passthrough hardware and a plain-shell VFIO
# bind/unbind round trip. Runs inside the guest (busybox sh).
# hdtest: timeout=300
. /hdtest/lib.sh

PCI=/sys/bus/pci/devices

# --- IOMMU -------------------------------------------------------------------
check iommu-class-present sh -c 'ls -d /sys/class/iommu/* >/dev/null'
check iommu-groups-present sh -c '[ "$(ls /sys/kernel/iommu_groups | wc -l)" -gt 5 ]'
check iommu-dmar-enabled sh -c 'dmesg | grep -q "DMAR: IOMMU enabled"'
check iommu-intremap sh -c 'dmesg | grep -q "Enabled IRQ remapping"'
check vfio-container-node test -c /dev/vfio/vfio

# --- e1000e NICs on separate root ports ---------------------------------------
E1000E=$(pci_devs 8086:10d3)
check_eq e1000e-count 2 sh -c "echo '$E1000E' | grep -c ."
for b in $E1000E; do
	check_eq "e1000e-bound-$b" e1000e pci_driver "$b"
done
set -- $E1000E
if [ $# -eq 2 ]; then
	if [ "$(pci_group "$1")" != "$(pci_group "$2")" ] && [ "$(pci_group "$1")" != - ]; then
		pass e1000e-separate-groups
	else
		fail e1000e-separate-groups "groups $(pci_group "$1") $(pci_group "$2")"
	fi
fi

# --- two e1000 behind a PCIe-to-PCI bridge share one group ---------------------
E1000=$(pci_devs 8086:100e)
check_eq e1000-count 2 sh -c "echo '$E1000' | grep -c ."
set -- $E1000
if [ $# -eq 2 ] && [ "$(pci_group "$1")" = "$(pci_group "$2")" ] && [ "$(pci_group "$1")" != - ]; then
	pass e1000-shared-group
	g=$(pci_group "$1")
	check_eq e1000-group-members 3 sh -c "ls /sys/kernel/iommu_groups/$g/devices | wc -l"
else
	fail e1000-shared-group "groups: $(for b in $E1000; do printf '%s=%s ' "$b" "$(pci_group "$b")"; done)"
fi
for b in $E1000; do check_eq "e1000-bound-$b" e1000 pci_driver "$b"; done

# --- NVMe SR-IOV ----------------------------------------------------------------
NVME_PF=
for b in $(pci_devs 1b36:0010); do
	[ -e "$PCI/$b/sriov_totalvfs" ] && { NVME_PF=$b; break; }
done
if [ -z "$NVME_PF" ]; then
	fail nvme-sriov-pf "no 1b36:0010 function with sriov_totalvfs"
else
	pass nvme-sriov-pf
	check_eq nvme-pf-bound nvme pci_driver "$NVME_PF"
	check_eq nvme-sriov-totalvfs 4 cat "$PCI/$NVME_PF/sriov_totalvfs"
	check wait-nvme0n1 wait_for 20 test -b /dev/nvme0n1
	# The VFs' secondary controllers are offline until assigned queue/interrupt
	# resources with NVMe Virtualization Management (nvme virt-mgmt); the nvme
	# driver would fail to probe them, so do not autoprobe.
	echo 0 >"$PCI/$NVME_PF/sriov_drivers_autoprobe"
	if echo 2 >"$PCI/$NVME_PF/sriov_numvfs"; then
		pass nvme-sriov-enable
	else
		fail nvme-sriov-enable "write 2 to sriov_numvfs failed"
	fi
	check_eq nvme-sriov-numvfs 2 cat "$PCI/$NVME_PF/sriov_numvfs"
	VFS=
	for l in "$PCI/$NVME_PF"/virtfn*; do
		[ -e "$l" ] && VFS="$VFS $(basename "$(readlink "$l")")"
	done
	check_eq nvme-vf-count 2 sh -c "echo $VFS | wc -w"
	groups=
	for v in $VFS; do
		check_eq "nvme-vf-id-$v" "0x1b36 0x0010" sh -c "echo \$(cat $PCI/$v/vendor $PCI/$v/device)"
		check "nvme-vf-physfn-$v" test "$(basename "$(readlink "$PCI/$v/physfn")")" = "$NVME_PF"
		g=$(pci_group "$v")
		groups="$groups $g"
		if [ "$g" != - ] && [ "$g" != "$(pci_group "$NVME_PF")" ]; then
			pass "nvme-vf-own-group-$v"
		else
			fail "nvme-vf-own-group-$v" "group=$g pf-group=$(pci_group "$NVME_PF")"
		fi
	done
	set -- $groups
	if [ $# -eq 2 ] && [ "$1" != "$2" ]; then pass nvme-vf-groups-distinct; else fail nvme-vf-groups-distinct "groups:$groups"; fi
	# A VF can be bound to vfio-pci even while its controller is offline.
	set -- $VFS
	if [ -n "${1:-}" ]; then
		echo vfio-pci >"$PCI/$1/driver_override"
		echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null
		check_eq nvme-vf-vfio-bind vfio-pci pci_driver "$1"
		check nvme-vf-vfio-node test -c "/dev/vfio/$(pci_group "$1")"
		echo "$1" >"$PCI/$1/driver/unbind" 2>/dev/null
		echo >"$PCI/$1/driver_override"
	fi
	echo 0 >"$PCI/$NVME_PF/sriov_numvfs"
	check_eq nvme-sriov-disable 0 cat "$PCI/$NVME_PF/sriov_numvfs"
	check nvme-vfs-removed sh -c "! ls -d $PCI/$NVME_PF/virtfn* 2>/dev/null"
	echo 1 >"$PCI/$NVME_PF/sriov_drivers_autoprobe"
fi

# --- virtio-scsi disk -----------------------------------------------------------
scsi_disk() { # find an sdX whose sysfs path goes through virtio (virtio-scsi)
	for b in /sys/block/sd*; do
		case $(readlink "$b") in */virtio*/host*) basename "$b"; return 0 ;; esac
	done
	return 1
}
check virtio-scsi-disk wait_for 20 scsi_disk
SD=$(scsi_disk || true)
if [ -n "$SD" ]; then
	check_eq virtio-scsi-disk-size 131072 cat "/sys/block/$SD/size"
	check virtio-scsi-devnode wait_for 10 test -b "/dev/$SD"
	mkdir -p /mnt/scsi
	if mount -t ext2 "/dev/$SD" /mnt/scsi; then
		check virtio-scsi-mount-rw sh -c "echo hello >/mnt/scsi/t && [ \"\$(cat /mnt/scsi/t)\" = hello ]"
		umount /mnt/scsi
	else
		fail virtio-scsi-mount-rw "mount -t ext2 /dev/$SD failed"
	fi
else
	skip virtio-scsi-disk-size "no disk"
fi

# --- USB keyboard and storage -------------------------------------------------
usb_dev() { # VID:PID -> usb device dir name
	for d in /sys/bus/usb/devices/*; do
		[ -f "$d/idVendor" ] || continue
		[ "$(cat "$d/idVendor"):$(cat "$d/idProduct")" = "$1" ] && { basename "$d"; return 0; }
	done
	return 1
}
check_eq usb-xhci-bound xhci_hcd pci_driver "$(pci_devs 1b36:000d | head -n1)"
check usb-keyboard wait_for 20 usb_dev 0627:0001
check usb-storage wait_for 20 usb_dev 46f4:0001
KBD=$(usb_dev 0627:0001 || true)
STO=$(usb_dev 46f4:0001 || true)
[ -n "$KBD" ] && check usb-keyboard-usbhid wait_for 10 test -e "/sys/bus/usb/drivers/usbhid/$KBD:1.0"
[ -n "$STO" ] && check usb-storage-driver wait_for 10 sh -c "test -e /sys/bus/usb/drivers/usb-storage/$STO:1.0 || test -e /sys/bus/usb/drivers/uas/$STO:1.0"
check usb-keyboard-input sh -c 'grep -qi "QEMU USB Keyboard" /sys/class/input/*/name'
usb_disk() {
	for b in /sys/block/sd*; do
		case $(readlink "$b") in */usb*) basename "$b"; return 0 ;; esac
	done
	return 1
}
check usb-storage-disk wait_for 20 usb_disk
UD=$(usb_disk || true)
if [ -n "$UD" ] && wait_for 10 test -b "/dev/$UD"; then
	mkdir -p /mnt/usb
	check usb-storage-mount-vfat mount -t vfat -o ro "/dev/$UD" /mnt/usb
	umount /mnt/usb 2>/dev/null
fi

# --- display devices ------------------------------------------------------------
check dri-card-nodes sh -c '[ "$(ls /dev/dri/card* 2>/dev/null | wc -l)" -ge 2 ]'
check_eq bochs-bound bochs-drm pci_driver "$(pci_devs 1234:1111 | head -n1)"
check virtio-gpu-drm sh -c 'ls /sys/bus/virtio/drivers/virtio_gpu | grep -q virtio'

# --- end-to-end VFIO round trip on one e1000e (plain sysfs writes) ----------------
set -- $E1000E
BDF=${1:-}
if [ -z "$BDF" ]; then
	skip vfio-roundtrip "no e1000e"
else
	G=$(pci_group "$BDF")
	IF=$(ls "$PCI/$BDF/net" 2>/dev/null | head -n1)
	check vfio-netdev-before test -n "$IF"
	echo vfio-pci >"$PCI/$BDF/driver_override"
	echo "$BDF" >"$PCI/$BDF/driver/unbind"
	echo "$BDF" >/sys/bus/pci/drivers_probe 2>/dev/null
	check_eq vfio-bound vfio-pci pci_driver "$BDF"
	check vfio-group-node wait_for 5 test -c "/dev/vfio/$G"
	check vfio-netdev-gone sh -c "! ls $PCI/$BDF/net >/dev/null 2>&1"
	check vfio-driver-link test -e "/sys/bus/pci/drivers/vfio-pci/$BDF"
	echo >"$PCI/$BDF/driver_override"
	check_eq vfio-override-cleared "(null)" cat "$PCI/$BDF/driver_override"
	echo "$BDF" >"$PCI/$BDF/driver/unbind"
	check vfio-group-node-gone wait_for 5 sh -c "! test -e /dev/vfio/$G"
	echo "$BDF" >/sys/bus/pci/drivers_probe 2>/dev/null
	check_eq vfio-rebound-e1000e e1000e pci_driver "$BDF"
	check vfio-netdev-back wait_for 10 sh -c "ls $PCI/$BDF/net | grep -q ."
fi

done_tests
