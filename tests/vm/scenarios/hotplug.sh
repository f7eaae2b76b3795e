#!/bin/sh
# PCIe hotplug driven over QMP (device_add/device_del on empty root port rp8),
# with a vfio-pci bind of the hot-added function in between.
# hdtest: qmp timeout=300
. /hdtest/lib.sh

PCI=/sys/bus/pci/devices
# rp8 is the root port at 00:0b.0; find its secondary bus number.
RP=0000:00:0b.0
SEC=$(cat "$PCI/$RP/subordinate_bus_number" 2>/dev/null || true)
check hotplug-rootport-present test -e "$PCI/$RP"
BUSHEX=$(printf '%02x' "${SEC:-0}")
BDF=0000:$BUSHEX:00.0
check hotplug-slot-empty sh -c "! test -e $PCI/$BDF"

qmp device_add driver=e1000e id=hp0 bus=rp8 mac=52:54:00:4d:00:10
if wait_for 60 test -e "$PCI/$BDF/vendor"; then
	pass hotplug-add-appears
	check_eq hotplug-add-id "0x8086 0x10d3" sh -c "echo \$(cat $PCI/$BDF/vendor $PCI/$BDF/device)"
	check hotplug-add-bound wait_for 20 test -e "/sys/bus/pci/drivers/e1000e/$BDF"
	G=$(pci_group "$BDF")
	check hotplug-add-iommu-group test "$G" != -
	echo vfio-pci >"$PCI/$BDF/driver_override"
	echo "$BDF" >"$PCI/$BDF/driver/unbind"
	echo "$BDF" >/sys/bus/pci/drivers_probe 2>/dev/null
	check_eq hotplug-vfio-bound vfio-pci pci_driver "$BDF"
	check hotplug-vfio-node test -c "/dev/vfio/$G"
	echo >"$PCI/$BDF/driver_override"
	echo "$BDF" >"$PCI/$BDF/driver/unbind"
	echo "$BDF" >/sys/bus/pci/drivers_probe 2>/dev/null
	check_eq hotplug-rebound-e1000e e1000e pci_driver "$BDF"

	qmp device_del id=hp0
	if wait_for 60 sh -c "! test -e $PCI/$BDF"; then
		pass hotplug-del-removed
		check hotplug-del-group-gone sh -c "! test -e /sys/kernel/iommu_groups/$G/devices/$BDF"
	else
		fail hotplug-del-removed "$BDF still present 60 s after device_del"
	fi
else
	fail hotplug-add-appears "no device at $BDF 60 s after device_add (is qmp.py serving? see LOG.hook)"
fi

done_tests
