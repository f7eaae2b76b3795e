# boot 2: the kernel command line and initramfs that boot 1 generated
. /hdtest/lib.sh
cat /proc/cmdline
dmesg > /tmp/dmesg.txt
check "boot2: the kernel command line has intel_iommu=on iommu=pt" has /proc/cmdline "intel_iommu=on iommu=pt"
check "boot2: 01:00.0 is on vfio-pci" is_drv 0000:01:00.0 vfio-pci
check "boot2: the identical 02:00.0 is on e1000e" is_drv 0000:02:00.0 e1000e
check "boot2: e1000e never probed 01:00.0 (no kernel message, no netdev)" sh -c '
	. /hdtest/lib.sh; hasnt /tmp/dmesg.txt "e1000e 0000:01:00.0" && has /tmp/dmesg.txt "e1000e 0000:02:00.0" &&
	! ls /sys/bus/pci/devices/0000:01:00.0/net 2>/dev/null && [ "$(ls /sys/class/net | grep -v lo | wc -l)" = 1 ]'
HD boot status > /tmp/status.txt 2>&1; cat /tmp/status.txt
check "boot2: status: active" has /tmp/status.txt "^state: active$"
HD doctor 01:00.0 > /tmp/doctor.txt 2>&1; cat /tmp/doctor.txt
check "boot2: doctor passes the IOMMU check" has /tmp/doctor.txt "^PASS  iommu "
check "boot2: doctor passes interrupt remapping" has /tmp/doctor.txt "^PASS  interrupt-remapping"
HD boot undo > /tmp/undo.txt 2>&1; echo "undo rc=$?" >> /tmp/undo.txt; cat /tmp/undo.txt
check "boot2: undo ran and regenerated" sh -c 'grep -q "undo rc=0" /tmp/undo.txt && grep -q "ran: update-grub (exit status 0)" /tmp/undo.txt'
check "boot2: /etc/default/grub and /etc/initramfs-tools/modules have their exact bytes back" sh -c '
	cmp /etc/default/grub /root/before/grub && cmp /etc/initramfs-tools/modules /root/before/modules'
(cd / && find etc -xdev \( -type f -o -type l \) -print0 | sort -z | xargs -0 sha256sum) > /tmp/etc.sha
check "boot2: every file of /etc is as before apply" cmp /root/before/etc.sha /tmp/etc.sha
HD boot status > /tmp/status.txt 2>&1; cat /tmp/status.txt
check "boot2: status after undo: active, no longer configured" has /tmp/status.txt "state: active, no longer configured"
