#!/bin/sh
# hostdevd on the real kernel, following real udev events: a system bus in
# the guest, the daemon on the live host (no --sysroot), its signals watched
# with tests/daemon-client. VFs created through the API (SriovSetNumVfs) are
# announced and become device objects, and their removal is announced; an
# e1000e hot-plugged into the empty root port rp8 (QMP device_add) is
# announced; with a persisted override for its identity it ends up on
# vfio-pci (PersistedConfigApplied), with one recorded for another identity
# at the same address it is refused and stays on e1000e; device_del is
# announced; after bursts of uevents (udevadm trigger on every device) the
# daemon's tree equals a fresh enumeration byte for byte. Prints the
# uevent-to-signal latencies as "DIAG daemon: latency ..." lines.
# hdtest: udev qmp dbus timeout=600 requires=hostdevctl requires=hostdevd
. /hdtest/lib.sh

PCI=/sys/bus/pci/devices
DEST=org.hostdev.Hostdev1
OBJ=/org/hostdev/Hostdev1/Manager
IFACE=org.hostdev.Hostdev1.Manager
BUS=unix:path=/run/dbus/system_bus_socket
SIG=/tmp/signals.log   # daemon-client: "Signal NAME DEVICE MONOTONIC-NS"
UEV=/tmp/uevents.log   # udevadm monitor: "KERNEL[s.us] ACTION DEVPATH (pci)"
DLOG=/tmp/hostdevd.log

for b in hostdevctl hostdevd daemon-client dbus-send udevadm; do
	if ! command -v $b >/dev/null 2>&1; then
		skip daemon-all "no $b in the guest"
		done_tests
		exit 0
	fi
done
if ! start_system_bus; then
	fail daemon-system-bus "dbus-daemon did not start (needs \"# hdtest: dbus\")"
	done_tests
	exit 0
fi
pass daemon-system-bus
# hostdevctl goes through the daemon when it runs (where it can): the
# comparison needs its own enumeration
D=
hostdevctl --direct --version >/dev/null 2>&1 && D=--direct

# --- helpers -----------------------------------------------------------------
# dcall METHOD ARGS...: the manager's reply (dbus-send's literal form, its
# indentation removed); exit status of dbus-send
dcall() {
	_m=$1; shift
	dbus-send --system --print-reply=literal --dest=$DEST $OBJ "$IFACE.$_m" "$@" >/tmp/dcall.out 2>&1
	_rc=$?
	sed '1s/^   //' /tmp/dcall.out
	return $_rc
}
dprop() { # OBJECT PROPERTY
	dbus-send --system --print-reply=literal --dest=$DEST "$1" org.freedesktop.DBus.Properties.Get \
		string:org.hostdev.Hostdev1.Device "string:$2" 2>&1 | sed 's/^ *variant *//; s/^ *//'
}
has_owner() {
	dbus-send --system --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:$DEST 2>/dev/null | grep -q true
}
# sig_count SIGNAL DEVICE: how many times it was seen
sig_count() { grep -c "^Signal $1 $2\( \|\$\)" "$SIG"; }
# sig_wait N SECONDS SIGNAL DEVICE: until it was seen N times
sig_wait() {
	_n=$1 _s=$2; shift 2
	wait_for "$_s" sh -c "[ \$(grep -c '^Signal $1 $2\\( \\|\$\\)' $SIG) -ge $_n ]"
}
# pca N DEVICE: the Nth PersistedConfigApplied result of DEVICE, compact
pca() {
	awk -v n="$1" -v dev="$2" '
		/^(Signal |ready|ok$|error)/ { inb = 0 }
		/^Signal PersistedConfigApplied / && $3 == dev { k++; if (k == n) { inb = 1; sub(/^Signal PersistedConfigApplied [^ ]* /, "") } }
		inb { print }' "$SIG" | tr -d ' \n\t'
}
# latency WHAT DEVPATH-SUFFIX ACTION SIGNAL DEVICE N: from the kernel's
# uevent (and from udevd's) to the Nth SIGNAL of DEVICE, in ms
latency() {
	_k=$(awk -v p="$2" -v a="$3" '$1 ~ /^KERNEL\[/ && $2 == a && index($3, p) && substr($3, length($3) - length(p) + 1) == p { t = $1; gsub(/KERNEL\[|\]/, "", t); print t }' "$UEV" | tail -n1)
	_u=$(awk -v p="$2" -v a="$3" '$1 == "UDEV" && $3 == a && substr($4, length($4) - length(p) + 1) == p { t = $2; gsub(/\[|\]/, "", t); print t }' "$UEV" | tail -n1)
	_s=$(grep "^Signal $4 $5 " "$SIG" | sed -n "${6}p" | awk '{ print $4 }')
	if [ -n "$_k" ] && [ -n "$_s" ]; then
		diag "$(awk -v k="$_k" -v u="${_u:-0}" -v s="$_s" -v w="$1" 'BEGIN {
			printf "latency %s: kernel uevent -> signal %.0f ms", w, (s / 1e9 - k) * 1000
			if (u > 0) printf ", udevd done -> signal %.0f ms", (s / 1e9 - u) * 1000
			printf "\n" }')"
	else
		diag "latency $1: not measured (uevent '${_k}' signal '${_s}')"
	fi
}
# same_tree NAME: ListDevices equals hostdevctl nodedev-list --json, byte
# for byte (the reply has no final newline, the CLI's output one)
same_tree() {
	_a=$(dcall ListDevices string:) || { fail "$1" "ListDevices: $_a"; return; }
	printf '%s\n' "$_a" >/tmp/tree.daemon
	hostdevctl $D nodedev-list --json >/tmp/tree.cli 2>&1
	if cmp -s /tmp/tree.daemon /tmp/tree.cli; then
		pass "$1"
		note "$1: $(grep -c '"name"' /tmp/tree.cli) devices"
	else
		fail "$1" "$(diff /tmp/tree.daemon /tmp/tree.cli | head -n 8 | tr '\n' ' ' | cut -c1-400)"
	fi
}
on_e1000e() { [ "$(pci_driver "$1")" = e1000e ]; }
quiet_for() { # SECONDS: until the signal log stops growing for SECONDS
	_l=-1
	for _ in $(seq 60); do
		_c=$(wc -l <"$SIG")
		[ "$_c" = "$_l" ] && return 0
		_l=$_c
		sleep "$1"
	done
}

# --- the daemon ----------------------------------------------------------------
udevadm monitor --kernel --udev --subsystem-match=pci >"$UEV" 2>&1 &
MONPID=$!
T0=$(cut -d' ' -f1 /proc/uptime)
hostdevd --state-dir /run/hostdev -v >"$DLOG" 2>&1 &
HDPID=$!
if wait_for 60 has_owner; then
	pass daemon-owns-name
	note "hostdevd took its name $(awk -v t="$T0" '{ printf "%.1f", $1 - t }' /proc/uptime) s after its start"
else
	fail daemon-owns-name "$(tail -n 5 "$DLOG" | tr '\n' ' ')"
	done_tests
	exit 0
fi
DAEMON_CLIENT_CLOCK=monotonic daemon-client "$BUS" watch 100000 3000 >"$SIG" 2>&1 &
WPID=$!
wait_for 20 grep -q '^ready' "$SIG" || note "signal watcher not ready: $(cat "$SIG")"
same_tree daemon-initial-tree

# --- SR-IOV VFs through the API -------------------------------------------------
PF=$(pci_devs 1b36:0010 | head -n1)
PFN=pci_$(echo "$PF" | tr ':.' '__')
if [ -z "$PF" ] || [ ! -e "$PCI/$PF/sriov_totalvfs" ]; then
	fail daemon-sriov-pf "no NVMe PF with sriov_totalvfs"
else
	# the nvme driver cannot probe these VFs (README): keep them unbound
	echo 0 >"$PCI/$PF/sriov_drivers_autoprobe"
	VF1=$(echo "$PF" | sed 's/\.0$/.1/') VF2=$(echo "$PF" | sed 's/\.0$/.2/')
	VN1=pci_$(echo "$VF1" | tr ':.' '__') VN2=pci_$(echo "$VF2" | tr ':.' '__')
	if out=$(dcall SriovSetNumVfs "string:$PFN" uint32:2 uint64:0) &&
		echo "$out" | tr -d ' \n' | grep -q '"status":"ok"'; then
		pass daemon-sriov-set-2
	else
		fail daemon-sriov-set-2 "$(echo "$out" | tr '\n' ' ' | cut -c1-300)"
	fi
	check_eq daemon-sriov-sysfs 2 cat "$PCI/$PF/sriov_numvfs"
	if sig_wait 1 60 DeviceAdded "$VN1" && sig_wait 1 60 DeviceAdded "$VN2"; then
		pass daemon-vf-added-signals
	else
		fail daemon-vf-added-signals "$(grep -c . "$SIG") signal lines: $(tail -n 4 "$SIG" | tr '\n' ' ')"
	fi
	latency "VF add" "/$VF1" add DeviceAdded "$VN1" 1
	P1=$(dcall GetDeviceObject "string:$VN1")
	check_eq daemon-vf-object-name "$VN1" dprop "$P1" Name
	check daemon-vf-object-managed sh -c "dbus-send --system --print-reply --dest=$DEST /org/hostdev/Hostdev1/devices \
		org.freedesktop.DBus.ObjectManager.GetManagedObjects | grep -q 'object path \"$P1\"'"
	check daemon-vf-in-list sh -c "hostdevctl $D nodedev-list | grep -qx $VN2"
	out=$(dcall SriovSetNumVfs "string:$PFN" uint32:0 uint64:0)
	check_eq daemon-sriov-set-0 0 cat "$PCI/$PF/sriov_numvfs"
	if sig_wait 1 60 DeviceRemoved "$VN1" && sig_wait 1 60 DeviceRemoved "$VN2"; then
		pass daemon-vf-removed-signals
	else
		fail daemon-vf-removed-signals "$(tail -n 4 "$SIG" | tr '\n' ' ')"
	fi
	latency "VF remove" "/$VF1" remove DeviceRemoved "$VN1" 1
	check daemon-vf-object-gone sh -c "! dbus-send --system --print-reply --dest=$DEST $OBJ $IFACE.GetDeviceObject string:$VN1"
	echo 1 >"$PCI/$PF/sriov_drivers_autoprobe"
fi

# --- hotplug into rp8 -----------------------------------------------------------
RP=0000:00:0b.0
SEC=$(cat "$PCI/$RP/subordinate_bus_number" 2>/dev/null || echo 0)
BDF=0000:$(printf '%02x' "$SEC"):00.0
HN=pci_$(echo "$BDF" | tr ':.' '__')
ADDED=0 REMOVED=0
hot_add() { # QEMU-ID: device_add an e1000e into rp8, wait for DeviceAdded
	qmp device_add driver=e1000e id="$1" bus=rp8 mac=52:54:00:4d:00:10
	ADDED=$((ADDED + 1))
	wait_for 60 test -e "$PCI/$BDF/vendor" && sig_wait "$ADDED" 60 DeviceAdded "$HN"
}
hot_del() { # QEMU-ID: device_del, wait for it to leave sysfs and for DeviceRemoved
	qmp device_del id="$1"
	REMOVED=$((REMOVED + 1))
	wait_for 60 sh -c "! test -e $PCI/$BDF" && sig_wait "$REMOVED" 60 DeviceRemoved "$HN"
	_r=$?
	sleep 1 # QEMU finishes the unplug after the guest powered the slot off
	return $_r
}
if ! test -e "$PCI/$RP" || test -e "$PCI/$BDF"; then
	fail daemon-hotplug-slot "root port $RP missing or $BDF not empty"
elif hot_add hp0; then
	pass daemon-hotplug-added-signal
	latency "hot-add" "/$BDF" add DeviceAdded "$HN" 1
	check daemon-hotplug-on-e1000e wait_for 30 on_e1000e "$BDF"
	check_eq daemon-hotplug-no-apply 0 sig_count PersistedConfigApplied "$HN"

	# the override for this NIC, persisted; the udev rule that comes with it
	# is taken away so that what applies it is hostdevd
	check daemon-override-set hostdevctl override set "$BDF" vfio
	rm -f /etc/udev/rules.d/40-hostdev-override.rules
	udevadm control --reload
	if hot_del hp0; then pass daemon-hotplug-removed-signal; else fail daemon-hotplug-removed-signal "$(tail -n 3 "$SIG" | tr '\n' ' ')"; fi

	if hot_add hp1 && sig_wait 1 60 PersistedConfigApplied "$HN"; then
		pass daemon-override-applied-signal
		# DeviceAdded first, then what was applied to it
		check daemon-override-signal-order sh -c "[ \$(grep -n '^Signal DeviceAdded $HN ' $SIG | sed -n 2p | cut -d: -f1) -lt \$(grep -n '^Signal PersistedConfigApplied $HN ' $SIG | sed -n 1p | cut -d: -f1) ]"
		R=$(pca 1 "$HN")
		note "PersistedConfigApplied $HN: $R"
		case $R in
		*'"status":"ok"'*'"to":"vfio-pci","result":"done"'*) pass daemon-override-applied-result ;;
		*) fail daemon-override-applied-result "$R" ;;
		esac
		check_eq daemon-override-vfio-pci vfio-pci pci_driver "$BDF"
		# PersistedConfigApplied carries no time: the DeviceChanged after it does
		latency "hot-add with override (to the last DeviceChanged)" "/$BDF" add DeviceChanged "$HN" "$(sig_count DeviceChanged "$HN")"
		check daemon-override-vfio-node test -c "/dev/vfio/$(pci_group "$BDF")"
		P=$(dcall GetDeviceObject "string:$HN")
		check daemon-override-object-driver wait_for 20 sh -c "[ \"\$(dbus-send --system --print-reply=literal --dest=$DEST $P org.freedesktop.DBus.Properties.Get string:org.hostdev.Hostdev1.Device string:Driver | tr -d ' ')\" = variantvfio-pci ]"
	else
		fail daemon-override-applied-signal "driver $(pci_driver "$BDF"); $(tail -n 3 "$SIG" | tr '\n' ' '); log: $(grep -i persist "$DLOG" | tail -n 2 | tr '\n' ' ')"
	fi
	if hot_del hp1; then pass daemon-hotplug-vfio-removed-signal; else fail daemon-hotplug-vfio-removed-signal "$(tail -n 3 "$SIG" | tr '\n' ' ')"; fi

	# an override recorded for another device at the same address: refused
	IDF=/etc/hostdev/overrides/pci-$BDF
	if [ -f "$IDF" ]; then
		sed -i 's/^device=.*/device=ffff/' "$IDF"
		if hot_add hp2 && sig_wait 2 60 PersistedConfigApplied "$HN"; then
			pass daemon-drift-signal
			R=$(pca 2 "$HN")
			note "PersistedConfigApplied $HN: $R"
			case $R in
			*'"status":"ok"'*) fail daemon-drift-refused "$R" ;;
			*'"result":"skipped"'*) pass daemon-drift-refused ;;
			*) fail daemon-drift-refused "$R" ;;
			esac
			check daemon-drift-stays-e1000e wait_for 30 on_e1000e "$BDF"
			check daemon-drift-logged grep -q "was made for 8086:ffff" "$DLOG"
		else
			fail daemon-drift-signal "driver $(pci_driver "$BDF"); $(tail -n 3 "$SIG" | tr '\n' ' ')"
		fi
		if hot_del hp2; then pass daemon-hotplug-drift-removed-signal; else fail daemon-hotplug-drift-removed-signal "$(tail -n 3 "$SIG" | tr '\n' ' ')"; fi
	else
		fail daemon-drift-signal "no identity record $IDF after override set"
	fi
	hostdevctl override unset "$BDF" >/dev/null 2>&1
else
	fail daemon-hotplug-added-signal "$(tail -n 3 "$SIG" | tr '\n' ' ') (LOG.hook for QMP)"
fi

quiet_for 1
same_tree daemon-tree-after-hotplug

# --- a burst of uevents -----------------------------------------------------------
# udevadm trigger on every device, 3 x change and 1 x add, while two VFs
# are created behind the daemon's back (sysfs) in the middle of it: the
# daemon must come out of it with exactly the kernel's tree, announcing the
# two VFs and nothing else
BEFORE_AR=$(grep -c '^Signal Device\(Added\|Removed\) ' "$SIG")
T0=$(cut -d' ' -f1 /proc/uptime)
NDEV=$(find /sys/devices -name uevent | wc -l)
(
	for _ in 1 2 3; do udevadm trigger --action=change; done
	udevadm trigger --action=add
) &
TRIG=$!
sleep 2
if [ -n "$PF" ]; then
	echo 0 >"$PCI/$PF/sriov_drivers_autoprobe"
	echo 2 >"$PCI/$PF/sriov_numvfs"
fi
wait $TRIG
udevadm settle --timeout=120
T1=$(cut -d' ' -f1 /proc/uptime)
quiet_for 2
diag "burst: 4 x udevadm trigger on $NDEV devices (2 VFs created meanwhile), settled in $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s"
if [ -n "$PF" ]; then
	check_eq daemon-burst-only-the-vfs-added "$((BEFORE_AR + 2)) 2 2" sh -c \
		"echo \$(grep -c '^Signal Device\\(Added\\|Removed\\) ' $SIG) \$(grep -c '^Signal DeviceAdded $VN1 ' $SIG) \$(grep -c '^Signal DeviceAdded $VN2 ' $SIG)"
else
	check_eq daemon-burst-no-add-remove "$BEFORE_AR" grep -c '^Signal Device\(Added\|Removed\) ' "$SIG"
fi
check daemon-alive-after-burst kill -0 "$HDPID"
same_tree daemon-burst-tree-equals-enumeration
[ -n "$PF" ] && check daemon-burst-tree-has-vfs grep -q "\"name\":\"$VN2\"" /tmp/tree.daemon
note "receive buffer overflows during the burst: $(grep -c 'uevents were lost' "$DLOG")"
note "hostdevd log: $(wc -l <"$DLOG") lines; signals: $(grep -c '^Signal ' "$SIG")"
tail -n 15 "$DLOG" | sed 's/^/# hostdevd: /'

kill "$WPID" "$MONPID" 2>/dev/null
kill "$HDPID" 2>/dev/null
done_tests
