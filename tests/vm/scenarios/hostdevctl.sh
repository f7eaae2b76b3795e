#!/bin/sh
# hostdevctl against a real 6.1 kernel's sysfs. Needs the binary copied in
# (run-tests.sh passes $HOSTDEVCTL or build/tools/hostdevctl via --binary);
# every check SKIPs without it.
# hdtest: timeout=300 requires=hostdevctl
. /hdtest/lib.sh

PCI=/sys/bus/pci/devices
HD=$(command -v hostdevctl || true)
if [ -z "$HD" ]; then
	skip hostdevctl-present "no hostdevctl binary in the guest (set HOSTDEVCTL or build build/tools/hostdevctl)"
	done_tests
	exit 0
fi
pass hostdevctl-present
nodename() { echo "pci_$1" | tr ':.' '__'; } # 0000:01:00.0 -> pci_0000_01_00_0

check hostdevctl-version hostdevctl --version
check hostdevctl-help hostdevctl --help
LIST=$(hostdevctl nodedev-list 2>&1)
NIC=$(pci_devs 8086:10d3 | head -n1)
E1000=$(pci_devs 8086:100e | head -n1)
NVME=$(pci_devs 1b36:0010 | head -n1)
for b in $NIC $E1000 $NVME; do
	check "list-has-$(nodename "$b")" sh -c "echo \"\$1\" | grep -qx '$(nodename "$b")'" _ "$LIST"
done
NPCI=$(ls $PCI | wc -l)
check_eq list-cap-pci-count "$NPCI" sh -c "hostdevctl nodedev-list --cap pci | grep -c '^pci_'"
check list-tree hostdevctl nodedev-list --tree
check list-json hostdevctl nodedev-list --json

X=$(hostdevctl nodedev-dumpxml "$(nodename "$NIC")" 2>&1)
check dumpxml-e1000e-driver sh -c "echo \"\$1\" | grep -q '<name>e1000e</name>'" _ "$X"
check dumpxml-e1000e-iommu-group sh -c "echo \"\$1\" | grep -q \"<iommuGroup number='$(pci_group "$NIC")'\"" _ "$X"
X=$(hostdevctl nodedev-dumpxml "$(nodename "$E1000")" 2>&1)
check dumpxml-e1000-shared-group sh -c "[ \$(echo \"\$1\" | grep -c \"<address domain='0x0000' bus='0x0[34]'\") -ge 3 ]" _ "$X"
X=$(hostdevctl nodedev-dumpxml "$(nodename "$NVME")" 2>&1)
check dumpxml-nvme-virt-functions sh -c "echo \"\$1\" | grep -q \"virt_functions\"" _ "$X"
check dumpxml-by-bdf hostdevctl nodedev-dumpxml "$NIC"
check dumpxml-all hostdevctl nodedev-dumpxml --all
check show-nic hostdevctl show "$(nodename "$NIC")"

# Driver changes made behind hostdevctl's back are visible.
echo vfio-pci >"$PCI/$NIC/driver_override"
echo "$NIC" >"$PCI/$NIC/driver/unbind"
echo "$NIC" >/sys/bus/pci/drivers_probe
check dumpxml-vfio-driver sh -c "hostdevctl nodedev-dumpxml $(nodename "$NIC") | grep -q '<name>vfio-pci</name>'"
echo >"$PCI/$NIC/driver_override"
echo "$NIC" >"$PCI/$NIC/driver/unbind"
echo "$NIC" >/sys/bus/pci/drivers_probe

# SR-IOV VFs appear as nodedevs with a phys_function.
echo 0 >"$PCI/$NVME/sriov_drivers_autoprobe"
echo 2 >"$PCI/$NVME/sriov_numvfs"
VF=$(basename "$(readlink "$PCI/$NVME/virtfn0")")
check dumpxml-vf-phys-function sh -c "hostdevctl nodedev-dumpxml $(nodename "$VF") | grep -q phys_function"
check list-cap-virt-functions sh -c "hostdevctl nodedev-list --cap virt_functions | grep -qx $(nodename "$NVME")"
echo 0 >"$PCI/$NVME/sriov_numvfs"

check capture hostdevctl capture /tmp/cap
check capture-replay sh -c "hostdevctl --sysroot /tmp/cap nodedev-list | grep -qx $(nodename "$NIC")"
done_tests
