# boot 3: after undo; then a driverctl-format override for 01:00.0
. /hdtest/lib.sh
cat /proc/cmdline
check "boot3: no IOMMU argument any more" hasnt /proc/cmdline "intel_iommu=on"
check "boot3: both NICs back on e1000e" sh -c '. /hdtest/lib.sh; is_drv 0000:01:00.0 e1000e && is_drv 0000:02:00.0 e1000e'
HD boot status > /tmp/status.txt 2>&1; cat /tmp/status.txt
check "boot3: status: not configured" has /tmp/status.txt "state: not configured"
# hostdev's udev rule and script, then the override as driverctl writes it
HD override set 01:00.0 vfio > /tmp/ovr.txt 2>&1; cat /tmp/ovr.txt
rm -f /etc/hostdev/overrides/pci-0000:01:00.0
printf 'vfio-pci\n' > /etc/driverctl.d/pci-0000:01:00.0
HD override list > /tmp/list.txt 2>&1; cat /tmp/list.txt
check "boot3: override list shows driverctl's file" has /tmp/list.txt "0000:01:00.0  vfio-pci .*no identity recorded (driverctl file)"
