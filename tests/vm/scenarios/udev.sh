#!/bin/sh
# systemd-udevd in the guest: udev database (/run/udev/data), hwdb lookups and
# /dev/disk/by-* links, as hostdev reads them on a real host.
# hdtest: udev timeout=300
. /hdtest/lib.sh
# the init waits 60 s for coldplug; under TCG on a loaded machine that can
# run out before the database is complete
udevadm settle --timeout=200 || echo "udev queue still busy after 200 s"

PCI=/sys/bus/pci/devices
check udevd-running sh -c 'pidof systemd-udevd >/dev/null'
NIC=$(pci_devs 8086:10d3 | head -n1)
check udev-db-pci test -s "/run/udev/data/+pci:$NIC"
check udev-hwdb-vendor sh -c "udevadm info -q property -p $PCI/$NIC | grep -q '^ID_VENDOR_FROM_DATABASE=Intel'"
check udev-hwdb-model sh -c "udevadm info -q property -p $PCI/$NIC | grep -q '^ID_MODEL_FROM_DATABASE=82574L'"
check udev-net-path sh -c "udevadm info -q property -p /sys/class/net/\$(ls $PCI/$NIC/net | head -n1) | grep -q '^ID_PATH=pci-$NIC'"
check udev-disk-by-id wait_for 20 sh -c 'ls /dev/disk/by-id/ | grep -q HDSCSI0'
check udev-disk-by-path wait_for 20 sh -c 'ls /dev/disk/by-path/ | grep -q "^pci-0000:[0-9a-f:.]*-scsi-0:0:0:0$"'
check udev-disk-by-label wait_for 20 test -e /dev/disk/by-label/HDSCSI0
check udev-usb-db sh -c 'ls /run/udev/data/ | grep -q "^c189:"'
check udev-drm-tags sh -c 'udevadm info -q property -n /dev/dri/card0 | grep -q "^DEVNAME=/dev/dri/card0"'
# Bind/unbind events are seen by udev (what hostdev's monitor relies on).
udevadm monitor --kernel --subsystem-match=pci >/tmp/mon.log 2>&1 &
MON=$!
sleep 1
echo vfio-pci >"$PCI/$NIC/driver_override"
echo "$NIC" >"$PCI/$NIC/driver/unbind"
echo "$NIC" >/sys/bus/pci/drivers_probe
udevadm settle
check_eq udev-vfio-bound vfio-pci pci_driver "$NIC"
check udev-vfio-devnode wait_for 10 sh -c "test -c /dev/vfio/$(pci_group "$NIC")"
echo >"$PCI/$NIC/driver_override"
echo "$NIC" >"$PCI/$NIC/driver/unbind"
echo "$NIC" >/sys/bus/pci/drivers_probe
udevadm settle
sleep 1
kill $MON 2>/dev/null
check udev-monitor-unbind grep -q "unbind.*$NIC" /tmp/mon.log
check udev-monitor-bind grep -q "bind.*$NIC" /tmp/mon.log
check_eq udev-rebound-e1000e e1000e pci_driver "$NIC"
done_tests
