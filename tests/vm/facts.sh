#!/bin/sh
# Guest scenario used by capture-facts.sh (not part of run-tests.sh): dumps
# the guest's PCI/IOMMU/USB/block/DRM layout as "FACT: " console lines.
# hdtest: udev timeout=300
. /hdtest/lib.sh

f() { sed 's/^/FACT: /'; }
sec() { echo; echo "## $*"; }
{
sec "uname -r; /proc/cmdline"
uname -r
cat /proc/cmdline
sec "PCI functions (BDF [class] [vendor:device] rev subsys driver iommu_group)"
lspci_nn
sec "find /sys/kernel/iommu_groups"
find /sys/kernel/iommu_groups | sort -t/ -k5,5n -k6
sec "/sys/class/iommu"
ls -l /sys/class/iommu | sed 's/.*\(dmar[0-9]*\) -> /\1 -> /' | grep -v '^total'
} | f

P=$(for b in $(pci_devs 1b36:0010); do [ -e /sys/bus/pci/devices/$b/sriov_totalvfs ] && echo $b; done | head -n1)
{
sec "NVMe PF $P SR-IOV attributes"
cd /sys/bus/pci/devices/$P && grep . sriov_* 2>/dev/null; cd /
echo 0 >/sys/bus/pci/devices/$P/sriov_drivers_autoprobe
echo 2 >/sys/bus/pci/devices/$P/sriov_numvfs
sec "after echo 2 > sriov_numvfs (sriov_drivers_autoprobe=0)"
lspci_nn | grep "^${P%.*}"
for v in /sys/bus/pci/devices/$P/virtfn*; do echo "$(basename $v) -> $(basename "$(readlink $v)")"; done
find /sys/kernel/iommu_groups | sort -t/ -k5,5n -k6 | grep "${P%.*}"
echo 0 >/sys/bus/pci/devices/$P/sriov_numvfs
echo 1 >/sys/bus/pci/devices/$P/sriov_drivers_autoprobe
sec "USB devices (busid vid:pid product driver-of-interface-0)"
for d in /sys/bus/usb/devices/*; do
	[ -f $d/idVendor ] || continue
	b=$(basename $d); i=$(ls -d $d/$b:1.0 2>/dev/null)
	drv=-; [ -n "$i" ] && [ -e $i/driver ] && drv=$(basename "$(readlink $i/driver)")
	echo "$b $(cat $d/idVendor):$(cat $d/idProduct) $(cat $d/product 2>/dev/null | tr ' ' _) $drv"
done
sec "block devices (name size-in-512B-sectors sysfs-path)"
for b in /sys/block/*; do case $(basename $b) in loop*) continue;; esac; echo "$(basename $b) $(cat $b/size) $(readlink $b | sed 's#^\.\./devices/##')"; done
sec "network interfaces (name mac pci-device driver)"
for n in /sys/class/net/*; do [ -e $n/device ] || continue; echo "$(basename $n) $(cat $n/address) $(basename "$(readlink $n/device)") $(basename "$(readlink $n/device/driver)")"; done
sec "DRM"
for c in /sys/class/drm/card*; do echo "$(basename $c) $(readlink $c | sed 's#^\.\./\.\./devices/##')"; done
ls /dev/dri
sec "vfio"
ls /dev/vfio
sec "udevadm info -q property of the first e1000e"
N=$(pci_devs 8086:10d3 | head -n1)
udevadm info -q property -p /sys/bus/pci/devices/$N 2>&1
sec "loaded modules"
cut -d' ' -f1 /proc/modules | sort | tr '\n' ' '; echo
} | f
done_tests
