# boot 1: a plain Debian host; apply the boot-time passthrough of 01:00.0
. /hdtest/lib.sh
HD doctor 01:00.0 > /tmp/doctor.txt 2>&1; echo "doctor rc=$?" >> /tmp/doctor.txt
cat /tmp/doctor.txt
check "boot1: doctor without an IOMMU fails the iommu check" has /tmp/doctor.txt "^FAIL  iommu "
check "boot1: doctor names the kernel argument" has /tmp/doctor.txt "fix: add 'intel_iommu=on iommu=pt'"
check "boot1: doctor fails interrupt remapping" has /tmp/doctor.txt "^FAIL  interrupt-remapping"
check "boot1: doctor exit status 1" has /tmp/doctor.txt "doctor rc=1"
check "boot1: both NICs on e1000e" sh -c '. /hdtest/lib.sh; is_drv 0000:01:00.0 e1000e && is_drv 0000:02:00.0 e1000e'
mkdir -p /root/before
for f in /etc/default/grub /etc/initramfs-tools/modules; do cp -p "$f" /root/before/; done
find /etc -newer /etc/hostname -o -type f -printf '' > /dev/null
(cd / && find etc -xdev \( -type f -o -type l \) -print0 | sort -z | xargs -0 sha256sum) > /root/before/etc.sha
HD boot plan 01:00.0 > /tmp/plan.txt 2>&1
cat /tmp/plan.txt
check "boot1: plan binds by address (02:00.0 has the same ids)" has /tmp/plan.txt "Binding: by address"
check "boot1: plan detects initramfs-tools and GRUB" sh -c 'grep -q "Initramfs generator: initramfs-tools" /tmp/plan.txt && grep -q "Boot loader: grub" /tmp/plan.txt'
HD boot apply 01:00.0 > /tmp/apply.txt 2>&1; echo "apply rc=$?" >> /tmp/apply.txt
cat /tmp/apply.txt
check "boot1: apply ran update-initramfs and update-grub" sh -c 'grep -q "ran: update-initramfs -u -k all (exit status 0)" /tmp/apply.txt && grep -q "ran: update-grub (exit status 0)" /tmp/apply.txt && grep -q "apply rc=0" /tmp/apply.txt'
lsinitramfs "/boot/initrd.img-$(uname -r)" > /tmp/initrd.lst 2>&1
check "boot1: the initramfs holds vfio-pci, the modprobe file, the script and the binding" sh -c '
	grep -q "vfio-pci.ko" /tmp/initrd.lst && grep -q "etc/modprobe.d/hostdev-vfio.conf" /tmp/initrd.lst &&
	grep -q "etc/hostdev/hostdev-override.sh" /tmp/initrd.lst && grep -q "etc/driverctl.d/pci-0000:01:00.0" /tmp/initrd.lst'
check "boot1: grub.cfg has the IOMMU arguments" grep -q "intel_iommu=on iommu=pt" /boot/grub/grub.cfg
HD boot apply 01:00.0 > /tmp/apply2.txt 2>&1
check "boot1: a second apply changes nothing" has /tmp/apply2.txt "nothing to change"
HD boot status > /tmp/status.txt 2>&1; cat /tmp/status.txt
check "boot1: status: configured, active after reboot" has /tmp/status.txt "state: configured, active after reboot"
