#!/bin/sh
# Issue 10: four hostdevctl processes detach and reattach overlapping IOMMU
# groups at the same time (the e1000 pair as a group and as single
# functions, the e1000e), ROUNDS rounds each (default 50): afterwards every
# device is on exactly one driver, none is lost, the journal is empty.
# hdtest: timeout=2400 requires=hostdevctl
. /hdtest/lib.sh

PCI=/sys/bus/pci/devices
if ! command -v hostdevctl >/dev/null 2>&1; then
	skip hostdevctl-present "no hostdevctl binary in the guest"
	done_tests
	exit 0
fi
ROUNDS=${ROUNDS:-50}
ST=/tmp/hostdev-state
HD="hostdevctl --state-dir $ST"
NIC=$(pci_devs 8086:10d3 | head -n1)
E1=$(pci_devs 8086:100e | sed -n 1p)
E2=$(pci_devs 8086:100e | sed -n 2p)
drv() { basename "$(readlink "$PCI/$1/driver" 2>/dev/null)" 2>/dev/null; }
note "nic=$NIC e1000=$E1,$E2 rounds=$ROUNDS"

worker() { # ID DETACH-ARGS... -- REATTACH-ARGS...
	id=$1; shift
	i=0 errs=0
	while [ $i -lt "$ROUNDS" ]; do
		$HD nodedev-detach "$@" >/dev/null 2>>"/tmp/w$id.err" || errs=$((errs + 1))
		$HD nodedev-reattach "$@" >/dev/null 2>>"/tmp/w$id.err" || errs=$((errs + 1))
		i=$((i + 1))
	done
	echo "$errs" > "/tmp/w$id.rc"
}
T0=$(date +%s)
worker 1 "$E1" --group &
worker 2 "$E2" --group &
worker 3 "$E1" &
worker 4 "$NIC" &
wait
note "4 workers x $ROUNDS rounds: $(( $(date +%s) - T0 )) s"
for id in 1 2 3 4; do
	check_eq "worker-$id-no-failures" 0 cat "/tmp/w$id.rc"
	[ -s "/tmp/w$id.err" ] && note "worker $id stderr: $(sort /tmp/w$id.err | uniq -c | head -3 | tr '\n' ' ')"
done
for d in "$NIC" "$E1" "$E2"; do
	n=$(ls -d /sys/bus/pci/drivers/*/"$d" 2>/dev/null | wc -l)
	check_eq "one-driver-$d" 1 echo "$n"
done
check_eq nic-home e1000e drv "$NIC"
check_eq e1-home e1000 drv "$E1"
check_eq e2-home e1000 drv "$E2"
check_eq none-lost 3 sh -c "ls -d $PCI/$NIC $PCI/$E1 $PCI/$E2 | wc -l"
check journal-empty sh -c "! test -e $ST/transaction.json && ! ls $ST/devices/*.json 2>/dev/null | grep -q ."
check_eq overrides-clear "(null)(null)(null)" sh -c "cat $PCI/$NIC/driver_override $PCI/$E1/driver_override $PCI/$E2/driver_override | tr -d '\n'"
done_tests
