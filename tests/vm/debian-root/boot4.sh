# boot 4: the driverctl-format override applied by hostdev's udev rule
. /hdtest/lib.sh
check "boot4: 01:00.0 is on vfio-pci through the override" is_drv 0000:01:00.0 vfio-pci
check "boot4: 02:00.0 stays on e1000e" is_drv 0000:02:00.0 e1000e
HD override unset 01:00.0 > /tmp/unset.txt 2>&1
check "boot4: override unset" sh -c '[ ! -e /etc/driverctl.d/pci-0000:01:00.0 ]'
