# boot 4: the driverctl-format override applied by hostdev's udev rule
. /hdtest/lib.sh
# on failure, the kernel's and the override script's word on 01:00.0
on_vfio() { is_drv 0000:01:00.0 vfio-pci && return 0; busybox dmesg | grep -E 'hostdev-override|0000:01:00.0' | tail -n 2; return 1; }
check "boot4: 01:00.0 is on vfio-pci through the override" on_vfio
check "boot4: 02:00.0 stays on e1000e" is_drv 0000:02:00.0 e1000e
HD override unset 01:00.0 > /tmp/unset.txt 2>&1
check "boot4: override unset" sh -c '[ ! -e /etc/driverctl.d/pci-0000:01:00.0 ]'
