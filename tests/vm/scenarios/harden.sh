#!/bin/sh
# Issue 10 hardening on a real 6.1 kernel: nodedev-reset refuses the
# controller of a mounted filesystem; --sysroot "" is never the host; kill -9
# at timed points of group detach/reattach (the e1000 pair behind the
# PCIe-PCI bridge), single detach and recover: after recover or the next
# run every device is on exactly one driver and the journal is empty.
# hdtest: timeout=900 requires=hostdevctl
. /hdtest/lib.sh

PCI=/sys/bus/pci/devices
if ! command -v hostdevctl >/dev/null 2>&1; then
	skip hostdevctl-present "no hostdevctl binary in the guest"
	done_tests
	exit 0
fi
ST=/tmp/hostdev-state
HD="hostdevctl --state-dir $ST"
NIC=$(pci_devs 8086:10d3 | head -n1)
E1=$(pci_devs 8086:100e | sed -n 1p)
E2=$(pci_devs 8086:100e | sed -n 2p)
SCSI=$(pci_devs 1af4:1048 | head -n1)
note "nic=$NIC e1000=$E1,$E2 scsi=$SCSI"

# --- hole 1: reset of the controller under a mounted filesystem -------------
DISK=
for b in /sys/block/sd*; do
	[ -e "$b" ] || continue
	case "$(readlink -f "$b/device")" in *"$SCSI"*) DISK=$(basename "$b");; esac
done
if [ -n "$DISK" ] && mkdir -p /mnt/scsi && mount -t ext2 "/dev/$DISK" /mnt/scsi 2>/dev/null; then
	$HD nodedev-reset "$SCSI" >/tmp/reset.out 2>&1
	check_eq reset-mounted-refused-exit 2 echo $?
	check reset-mounted-reason grep -q "backs the filesystem mounted on /mnt/scsi" /tmp/reset.out
	echo hello > /mnt/scsi/after-reset 2>/dev/null
	sync
	check umount-after-refused-reset timeout 30 umount /mnt/scsi
else
	fail reset-mounted-setup "no ext2 virtio-scsi disk to mount (disk='$DISK')"
fi

# --- hole 2: an empty or / sysroot is never the live host -------------------
for s in "" / /tmp/..; do
	$HD --sysroot "$s" nodedev-detach "$NIC" >/tmp/sr.out 2>&1
	check_eq "sysroot-'$s'-usage-error" 64 echo $?
	check_eq "sysroot-'$s'-nic-untouched" e1000e pci_driver "$NIC"
done
# hostdevctl's own global options come before the verb: --sysroot "" after it is a verb error
check_eq sysroot-empty-list-exit 64 sh -c "hostdevctl --sysroot '' nodedev-list >/dev/null 2>&1; echo \$?"

# --- holes 3 and kill -9 at timed points -------------------------------------
drv() { basename "$(readlink "$PCI/$1/driver" 2>/dev/null)" 2>/dev/null; }
# every device on exactly one driver: bound (driver link + the driver's
# link back), its own driver or a stub with a record; journal empty
consistent() {
	bad=
	for d in "$NIC" "$E1" "$E2"; do
		now=$(drv "$d")
		case "$d" in "$NIC") own=e1000e;; *) own=e1000;; esac
		[ -n "$now" ] || { bad="$bad $d:no-driver"; continue; }
		[ -e "/sys/bus/pci/drivers/$now/$d" ] || bad="$bad $d:no-backlink"
		if [ "$now" = vfio-pci ]; then
			[ -f "$ST/devices/$d.json" ] || bad="$bad $d:vfio-without-record"
		elif [ "$now" != "$own" ]; then
			bad="$bad $d:on-$now"
		fi
	done
	[ -e "$ST/transaction.json" ] && bad="$bad transaction.json-left"
	[ -z "$bad" ] || { note "inconsistent:$bad"; return 1; }
}
all_home() { [ "$(drv "$E1")" = e1000 ] && [ "$(drv "$E2")" = e1000 ] && [ "$(drv "$NIC")" = e1000e ] \
	&& ! ls "$ST"/devices/*.json >/dev/null 2>&1 && [ ! -e "$ST/transaction.json" ]; }

T0=$(date +%s)
killed=0 badk=0
for t in 0.02 0.05 0.1 0.15 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0 1.2 1.5 2.0; do
	# group detach killed at t; the next run is a detach of another device
	$HD nodedev-detach "$E1" --group >/dev/null 2>&1 &
	pid=$!
	sleep "$t"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	$HD nodedev-detach "$NIC" >/tmp/next.out 2>&1 || { badk=$((badk + 1)); note "t=$t: next detach failed: $(tail -1 /tmp/next.out)"; }
	# whole either way: given back (killed midway) or both on vfio-pci (the
	# transaction had finished when the kill came)
	g="$(drv "$E1")/$(drv "$E2")"
	case $g in
	e1000/e1000) ;;
	vfio-pci/vfio-pci) $HD nodedev-reattach "$E1" --group >/dev/null 2>&1 ;;
	*) badk=$((badk + 1)); note "t=$t: group not whole: $g" ;;
	esac
	consistent || badk=$((badk + 1))
	$HD nodedev-reattach "$NIC" >/dev/null 2>&1
	all_home || { badk=$((badk + 1)); note "t=$t: not home after the next run"; }

	# group reattach killed at t; then recover
	$HD nodedev-detach "$E1" --group >/dev/null 2>&1
	$HD nodedev-reattach "$E1" --group >/dev/null 2>&1 &
	pid=$!
	sleep "$t"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	$HD recover >/tmp/rec.out 2>&1 || { badk=$((badk + 1)); note "t=$t: recover failed: $(tail -1 /tmp/rec.out)"; }
	consistent || badk=$((badk + 1))
	$HD nodedev-reattach "$E1" --group >/dev/null 2>&1
	all_home || { badk=$((badk + 1)); note "t=$t: reattach: not home: $(drv "$E1")/$(drv "$E2")"; }

	# single detach killed at t; then recover, then the next reattach
	$HD nodedev-detach "$NIC" >/dev/null 2>&1 &
	pid=$!
	sleep "$t"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	$HD recover >/tmp/rec.out 2>&1 || { badk=$((badk + 1)); note "t=$t: recover (single) failed: $(tail -1 /tmp/rec.out)"; }
	consistent || badk=$((badk + 1))
	$HD nodedev-reattach "$NIC" >/dev/null 2>&1
	all_home || { badk=$((badk + 1)); note "t=$t: single: not home: $(drv "$NIC")"; }
done
note "kill -9 at 16 timed points x 3 paths: $killed runs killed, $(( $(date +%s) - T0 )) s"
check_eq kill9-timed-points-consistent 0 echo "$badk"
[ "$killed" -ge 8 ] && pass kill9-timed-points-killed-midway || fail kill9-timed-points-killed-midway "only $killed runs were still running when killed"

# the guest case of the issue: killed between unbind and bind, the journal
# then overwritten by an old-style run -- reattach --group still gives it back
$HD nodedev-detach "$E1" --group >/dev/null 2>&1
$HD nodedev-reattach "$E1" --group >/dev/null 2>&1
echo vfio-pci > "$PCI/$E1/driver_override"
echo "$E1" > "/sys/bus/pci/drivers/e1000/unbind"
check_eq driverless-setup "" drv "$E1"
check reattach-group-driverless $HD nodedev-reattach "$E1" --group
check_eq driverless-back-on-e1000 e1000 drv "$E1"
check final-all-home all_home
done_tests
