#!/bin/sh
# SR-IOV with hostdevctl on a real 6.1 kernel: VF count changes on the
# emulated NVMe PF (1b36:0010, sriov_totalvfs 4) through sysfs, persisted
# config + "hostdevctl apply", VFs straight to vfio-pci and the refusal to
# destroy them, and per-VF link settings through rtnetlink on netdevsim
# (built out of tree by build-mtty.sh: Debian's kernel has no CONFIG_NETDEVSIM),
# checked with Debian's iproute2 "ip".
# hdtest: timeout=400 requires=hostdevctl netdevsim iproute2
. /hdtest/lib.sh

PCI=/sys/bus/pci/devices
if ! command -v hostdevctl >/dev/null 2>&1; then
	skip hostdevctl-present "no hostdevctl binary in the guest"
	done_tests
	exit 0
fi
export HOSTDEV_CONFIG_DIR=/tmp/hdcfg
ST=/tmp/hdstate
HD="hostdevctl --state-dir $ST"
# flat: compact JSON for grep (a script, so that "sh -c" checks can use it)
printf '#!/bin/sh\nexec tr -d " \\n\\t"\n' >/usr/local/bin/flat
chmod +x /usr/local/bin/flat
# run_rc FILE CMD...: run CMD, stdout+stderr to FILE, print the exit status
run_rc() { _f=$1; shift; "$@" >"$_f" 2>&1; echo $?; }
tail1() { tr '\n' ' ' <"$1" | cut -c1-300; }

PF=$(pci_devs 1b36:0010 | head -n1)
note "nvme pf=$PF"
if [ -z "$PF" ] || [ ! -e "$PCI/$PF/sriov_totalvfs" ]; then
	fail nvme-pf "no NVMe PF with sriov_totalvfs"
	done_tests
	exit 0
fi
PFN=pci_$(echo "$PF" | tr ':.' '__')
sriov_vfs() { for _l in "$PCI/$PF"/virtfn*; do [ -e "$_l" ] && basename "$(readlink "$_l")"; done; return 0; }
nd_name() { echo "pci_$1" | tr ':.' '__'; }

# --- list -------------------------------------------------------------------
$HD sriov list --json >/tmp/list0.json 2>&1
note "sriov list --json: $(flat </tmp/list0.json | cut -c1-400)"
check list-json-pf sh -c "flat </tmp/list0.json | grep -q '\"address\":\"$PF\"'"
check list-json-totalvfs sh -c "flat </tmp/list0.json | grep -q '\"totalvfs\":4'"
check list-json-numvfs-0 sh -c "flat </tmp/list0.json | grep -q '\"numvfs\":0'"
check list-text sh -c "$HD sriov list | grep -q '^$PF  1b36:0010  driver nvme.*VFs 0/4'"

# --- set 2 VFs, autoprobe off, persisted -------------------------------------
rc=$(run_rc /tmp/set2.out $HD sriov set "$PF" --numvfs 2 --autoprobe off --persist)
note "set --numvfs 2: $(tail1 /tmp/set2.out)"
check_eq set-2-exit 0 echo "$rc"
check set-2-output grep -q "$PF: sriov_numvfs 0 -> 2  done" /tmp/set2.out
check_eq sysfs-numvfs-2 2 cat "$PCI/$PF/sriov_numvfs"
check_eq sysfs-autoprobe-off 0 cat "$PCI/$PF/sriov_drivers_autoprobe"
check config-written test -f "$HOSTDEV_CONFIG_DIR/sriov/$PF.json"
note "config: $(flat <"$HOSTDEV_CONFIG_DIR/sriov/$PF.json")"
check config-numvfs-2 sh -c "flat <$HOSTDEV_CONFIG_DIR/sriov/$PF.json | grep -q '\"numvfs\":2'"
check config-autoprobe-false sh -c "flat <$HOSTDEV_CONFIG_DIR/sriov/$PF.json | grep -q '\"autoprobe\":false'"
check config-identity sh -c "flat <$HOSTDEV_CONFIG_DIR/sriov/$PF.json | grep -q '\"vendor\":\"0x1b36\",\"device\":\"0x0010\"'"
VFS=$(sriov_vfs)
VF1=$(echo "$VFS" | sed -n 1p)
VF2=$(echo "$VFS" | sed -n 2p)
note "vfs: $VF1 $VF2"
check_eq two-vfs 2 sh -c "echo '$VFS' | grep -c ."
G0=$(pci_group "$PF")
G1=$(pci_group "$VF1")
G2=$(pci_group "$VF2")
note "groups: pf=$G0 vf1=$G1 vf2=$G2"
for v in $VF1 $VF2; do
	check_eq "vf-id-$v" "0x1b36 0x0010" sh -c "echo \$(cat $PCI/$v/vendor $PCI/$v/device)"
	check_eq "vf-unbound-$v" - pci_driver "$v"
done
check vf-own-groups sh -c "[ '$G1' != - ] && [ '$G2' != - ] && [ '$G1' != '$G2' ] && [ '$G1' != '$G0' ] && [ '$G2' != '$G0' ]"
check vf1-group-alone sh -c "[ \$(ls /sys/kernel/iommu_groups/$G1/devices | wc -l) = 1 ]"
check iommu-shows-vf-group sh -c "$HD iommu --json | flat | grep -q '\"number\":$G1,'"
check list-json-numvfs-2 sh -c "$HD sriov list --json | flat | grep -q '\"numvfs\":2'"
check list-json-vf-address sh -c "$HD sriov list --json | flat | grep -q '\"address\":\"$VF2\"'"
check nodedev-list-vfs sh -c "$HD nodedev-list --cap pci | grep -qx $(nd_name "$VF1") && $HD nodedev-list --cap pci | grep -qx $(nd_name "$VF2")"
$HD nodedev-dumpxml "$(nd_name "$VF1")" >/tmp/vf1.xml 2>&1
$HD nodedev-dumpxml "$PFN" >/tmp/pf.xml 2>&1
check vf-xml-phys-function sh -c "tr -d '\n' </tmp/vf1.xml | grep -q \"<capability type='phys_function'> *<address domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>\""
check vf-xml-iommu-group grep -q "<iommuGroup number='$G1'>" /tmp/vf1.xml
check vf-xml-product grep -q "<product id='0x0010'" /tmp/vf1.xml
check pf-xml-virt-functions grep -q "<capability type='virt_functions' maxCount='4'>" /tmp/pf.xml
check_eq pf-xml-two-vf-addresses 2 sh -c "sed -n \"/virt_functions/,/<\\/capability>/p\" /tmp/pf.xml | grep -c '<address '"

rc=$(run_rc /tmp/same.out $HD sriov set "$PF" --numvfs 2 --autoprobe off)
note "set --numvfs 2 again: rc=$rc $(tail1 /tmp/same.out)"
check set-same-count-unchanged sh -c "[ $rc = 0 ] && ! grep -q 'done' /tmp/same.out && [ \$(cat $PCI/$PF/sriov_numvfs) = 2 ] && test -e $PCI/$VF2"
rc=$(run_rc /tmp/vfnvme.out $HD sriov vf "$PF" 0 --trust on)
note "sriov vf on the NVMe PF (no netdev): rc=$rc $(tail1 /tmp/vfnvme.out)"
check_eq vf-on-pf-without-netdev-exit-1 1 echo "$rc"

# --- above totalvfs: exit 1, nothing changed ---------------------------------
cp "$HOSTDEV_CONFIG_DIR/sriov/$PF.json" /tmp/cfg.before
rc=$(run_rc /tmp/set8.out $HD sriov set "$PF" --numvfs 8 --persist)
note "set --numvfs 8: rc=$rc $(tail1 /tmp/set8.out)"
check_eq set-8-exit-1 1 echo "$rc"
check_eq set-8-one-line 1 sh -c "grep -c . /tmp/set8.out"
check_eq set-8-numvfs-unchanged 2 cat "$PCI/$PF/sriov_numvfs"
check set-8-vfs-unchanged sh -c "[ \"\$(ls -d $PCI/$PF/virtfn* | wc -l)\" = 2 ] && test -e $PCI/$VF2"
check set-8-config-unchanged cmp -s /tmp/cfg.before "$HOSTDEV_CONFIG_DIR/sriov/$PF.json"

# --- 0 VFs (not persisted): removed; apply brings them back -------------------
rc=$(run_rc /tmp/set0.out $HD sriov set "$PF" --numvfs 0)
note "set --numvfs 0: rc=$rc $(tail1 /tmp/set0.out)"
check_eq set-0-exit 0 echo "$rc"
check_eq sysfs-numvfs-0 0 cat "$PCI/$PF/sriov_numvfs"
check vfs-gone sh -c "! test -e $PCI/$VF1 && ! test -e $PCI/$VF2"
check vf-nodedevs-gone sh -c "! $HD nodedev-list --cap pci | grep -q '^$(nd_name "$VF1")\$\|^$(nd_name "$VF2")\$'"
check pf-xml-no-vfs sh -c "! $HD nodedev-dumpxml $PFN | grep -q \"<capability type='virt_functions'>\""
check config-still-2 sh -c "flat <$HOSTDEV_CONFIG_DIR/sriov/$PF.json | grep -q '\"numvfs\":2'"
rc=$(run_rc /tmp/apply-dry.out $HD apply --dry-run)
note "apply --dry-run: rc=$rc $(tail1 /tmp/apply-dry.out)"
check apply-dry-run sh -c "[ $rc = 0 ] && grep -q '$PF: sriov_numvfs 0 -> 2  would change' /tmp/apply-dry.out && [ \$(cat $PCI/$PF/sriov_numvfs) = 0 ]"
rc=$(run_rc /tmp/apply1.out $HD apply)
note "apply: rc=$rc $(tail1 /tmp/apply1.out)"
check_eq apply-exit 0 echo "$rc"
check apply-output grep -q "$PF: sriov_numvfs 0 -> 2  done" /tmp/apply1.out
check_eq apply-numvfs-2 2 cat "$PCI/$PF/sriov_numvfs"
check apply-vfs-back sh -c "test -e $PCI/$VF1 && test -e $PCI/$VF2"
check_eq apply-autoprobe-off 0 cat "$PCI/$PF/sriov_drivers_autoprobe"
check apply-vf-nodedevs sh -c "$HD nodedev-list --cap pci | grep -qx $(nd_name "$VF2")"
rc=$(run_rc /tmp/apply2.out $HD apply)
note "apply again: rc=$rc $(tail1 /tmp/apply2.out)"
check_eq apply-again-exit 0 echo "$rc"
check apply-again-nothing-changed grep -q 'sriov: nothing changed' /tmp/apply2.out
check apply-again-no-done sh -c "! grep -q '  done\$' /tmp/apply2.out"

# --- VFs straight to vfio-pci; destroying them is refused ---------------------
rc=$(run_rc /tmp/setvfio.out $HD sriov set "$PF" --numvfs 2 --driver vfio --force --persist)
note "set --driver vfio: rc=$rc $(tail1 /tmp/setvfio.out)"
check_eq set-vfio-exit 0 echo "$rc"
for v in $VF1 $VF2; do
	check_eq "vfio-$v" vfio-pci pci_driver "$v"
done
check vfio-group-nodes sh -c "test -c /dev/vfio/$(pci_group "$VF1") && test -c /dev/vfio/$(pci_group "$VF2")"
check vfio-journal sh -c "ls $ST/devices/ 2>/dev/null | grep -q '$VF1'"
check config-driver-vfio sh -c "flat <$HOSTDEV_CONFIG_DIR/sriov/$PF.json | grep -q '\"driver\":\"vfio-pci\"'"
check list-vf-driver-vfio sh -c "$HD sriov list | grep -q '$VF1  vfio-pci'"
rc=$(run_rc /tmp/set0r.out $HD sriov set "$PF" --numvfs 0)
note "set --numvfs 0 with VFs on vfio-pci: rc=$rc $(tail1 /tmp/set0r.out)"
check_eq refuse-exit-2 2 echo "$rc"
check refuse-reason grep -qi 'vfio\|detached\|VM' /tmp/set0r.out
check_eq refuse-numvfs-unchanged 2 cat "$PCI/$PF/sriov_numvfs"
check_eq refuse-vf-still-vfio vfio-pci pci_driver "$VF1"
rc=$(run_rc /tmp/set0dry.out $HD sriov set "$PF" --numvfs 0 --force --dry-run)
check dry-run-force sh -c "[ $rc = 0 ] && grep -q 'sriov_numvfs 2 -> 0  would change' /tmp/set0dry.out && [ \$(cat $PCI/$PF/sriov_numvfs) = 2 ]"
rc=$(run_rc /tmp/set0f.out $HD sriov set "$PF" --numvfs 0 --force)
note "set --numvfs 0 --force: rc=$rc $(tail1 /tmp/set0f.out)"
check_eq force-exit-0 0 echo "$rc"
check_eq force-numvfs-0 0 cat "$PCI/$PF/sriov_numvfs"
check force-vfs-gone sh -c "! test -e $PCI/$VF1"
# apply with driver vfio-pci in the config: count, then drivers
rc=$(run_rc /tmp/apply3.out $HD apply)
note "apply (vfio config): rc=$rc $(tail1 /tmp/apply3.out)"
check apply-vfio-config sh -c "[ $rc = 0 ] && [ \$(cat $PCI/$PF/sriov_numvfs) = 2 ] && [ \$(basename \$(readlink $PCI/$VF2/driver)) = vfio-pci ]"
check apply-vfio-names-driver grep -q "VF 1 $VF2: (none) -> vfio-pci  done" /tmp/apply3.out
rc=$(run_rc /tmp/apply4.out $HD apply)
check apply-vfio-idempotent sh -c "[ $rc = 0 ] && grep -q 'sriov: nothing changed' /tmp/apply4.out"
$HD sriov set "$PF" --numvfs 0 --force >/dev/null 2>&1
check_eq cleanup-numvfs-0 0 cat "$PCI/$PF/sriov_numvfs"

# --- netdevsim: per-VF link settings over rtnetlink ---------------------------
NSIM_UNAVAIL=$(cat /hdtest/extmod/netdevsim.unavailable 2>/dev/null)
if [ -f /hdtest/extmod/netdevsim.ko ]; then
	modprobe psample 2>/dev/null
	if insmod /hdtest/extmod/netdevsim.ko 2>/tmp/insmod.err; then
		pass netdevsim-insmod
	else
		NSIM_UNAVAIL="insmod netdevsim.ko failed: $(tail1 /tmp/insmod.err)"
		fail netdevsim-insmod "$NSIM_UNAVAIL"
	fi
elif modprobe netdevsim 2>/dev/null; then
	pass netdevsim-modprobe
else
	NSIM_UNAVAIL=${NSIM_UNAVAIL:-no netdevsim module (not in the kernel, not built out of tree)}
fi
NSD=/sys/bus/netdevsim/devices/netdevsim10
if [ -d /sys/bus/netdevsim ]; then
	echo "10 1" >/sys/bus/netdevsim/new_device 2>/tmp/nsim.err
	wait_for 10 sh -c "ls $NSD/net/ 2>/dev/null | grep -q ."
	if ! echo 2 >"$NSD/sriov_numvfs" 2>>/tmp/nsim.err; then
		# max_vfs knob (debugfs) if the default is too low
		mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
		[ -e /sys/kernel/debug/netdevsim/netdevsim10/max_vfs ] &&
			echo 4 >/sys/kernel/debug/netdevsim/netdevsim10/max_vfs
		echo 2 >"$NSD/sriov_numvfs" 2>>/tmp/nsim.err
	fi
	IF=$(ls "$NSD/net/" 2>/dev/null | head -n1)
	note "netdevsim10 netdev=$IF sriov_numvfs=$(cat "$NSD/sriov_numvfs" 2>/dev/null) $(tail1 /tmp/nsim.err)"
	check_eq nsim-numvfs 2 cat "$NSD/sriov_numvfs"
	check nsim-netdev test -n "$IF"
fi
if [ -n "${IF:-}" ]; then
	ip link set "$IF" up
	# busybox sh runs its own "ip" applet before PATH (prefer-applets build):
	# name iproute2's copy (run-guest.sh, "# hdtest: iproute2") by path.
	IPRT=0 IP=ip
	if /usr/local/bin/ip -V 2>/dev/null | grep -q iproute2; then IPRT=1 IP=/usr/local/bin/ip; fi
	note "ip: $($IP -V 2>&1 | head -n 1)"
	rc=$(run_rc /tmp/vf1.out $HD sriov vf "$IF" 1 --mac 02:00:00:00:10:01 --vlan 100 --qos 2 --trust on --spoofchk off)
	note "sriov vf $IF 1: rc=$rc $(tail1 /tmp/vf1.out)"
	check_eq nsim-vf-set-exit 0 echo "$rc"
	if [ "$IPRT" = 1 ]; then
		$IP -d link show "$IF" >/tmp/ipl.out 2>&1
		note "ip link: $(grep 'vf 1' /tmp/ipl.out)"
		check nsim-ip-vf1-mac grep -q 'vf 1 .*link/ether 02:00:00:00:10:01' /tmp/ipl.out
		check nsim-ip-vf1-vlan grep -q 'vf 1 .*vlan 100, qos 2' /tmp/ipl.out
		check nsim-ip-vf1-spoofchk grep -q 'vf 1 .*spoof checking off' /tmp/ipl.out
		check nsim-ip-vf1-trust grep -q 'vf 1 .*trust on' /tmp/ipl.out
		check nsim-ip-vf0-untouched sh -c "grep 'vf 0 ' /tmp/ipl.out | grep -q 'link/ether 00:00:00:00:00:00'"
	else
		skip nsim-ip-vf1 "no iproute2 ip in the guest (busybox ip does not print VF info)"
	fi
	rc=$(run_rc /tmp/vf1b.out $HD sriov vf "$IF" 1 --mac 02:00:00:00:10:01 --trust on)
	note "sriov vf again: rc=$rc $(tail1 /tmp/vf1b.out)"
	check nsim-vf-unchanged sh -c "[ $rc = 0 ] && grep -q 'nothing changed' /tmp/vf1b.out"
	rc=$(run_rc /tmp/vf1d.out $HD sriov vf "$IF" 0 --mac 02:00:00:00:10:00 --dry-run)
	check nsim-vf-dry-run sh -c "[ $rc = 0 ] && grep -q 'would change' /tmp/vf1d.out && ! $IP link show $IF | grep 'vf 0 ' | grep -q 02:00:00:00:10:00"
	rc=$(run_rc /tmp/vf2.out $HD sriov vf "$IF" 2 --trust on)
	note "sriov vf $IF 2: rc=$rc $(tail1 /tmp/vf2.out)"
	check_eq nsim-vf-index-out-of-range-exit-1 1 echo "$rc"
	rc=$(run_rc /tmp/vfm.out $HD sriov vf "$IF" 0 --mac 01:00:5e:00:00:01)
	check_eq nsim-vf-multicast-mac-exit-64 64 echo "$rc"
	rc=$(run_rc /tmp/vfv.out $HD sriov vf "$IF" 0 --vlan 4096)
	check_eq nsim-vf-bad-vlan-exit-64 64 echo "$rc"
	rc=$(run_rc /tmp/vf0.out $HD sriov vf "$IF" 0 --vlan 7 --spoofchk off)
	check_eq nsim-vf0-vlan-exit 0 echo "$rc"
	[ "$IPRT" = 1 ] && check nsim-vf0-vlan sh -c "$IP link show $IF | grep 'vf 0 ' | grep -q 'vlan 7'"
	# netdevsim starts with spoof checking off, so "--spoofchk off" above sent
	# nothing for it: switch it on and off again to see both directions.
	rc=$(run_rc /tmp/vfs1.out $HD sriov vf "$IF" 1 --spoofchk on)
	note "spoofchk on: rc=$rc $(tail1 /tmp/vfs1.out)"
	check_eq nsim-vf1-spoofchk-on-exit 0 echo "$rc"
	[ "$IPRT" = 1 ] && check nsim-vf1-spoofchk-on sh -c "$IP link show $IF | grep 'vf 1 ' | grep -q 'spoof checking on'"
	rc=$(run_rc /tmp/vfs0.out $HD sriov vf "$IF" 1 --spoofchk off --trust off)
	check_eq nsim-vf1-spoofchk-off-exit 0 echo "$rc"
	[ "$IPRT" = 1 ] && check nsim-vf1-spoofchk-trust-off sh -c "$IP link show $IF | grep 'vf 1 ' | grep -q 'spoof checking off.*trust off'"
	[ "$IPRT" = 1 ] && check nsim-vf1-kept sh -c "$IP link show $IF | grep 'vf 1 ' | grep -q 'link/ether 02:00:00:00:10:01.*vlan 100'"
else
	skip nsim-vf "netdevsim unavailable: ${NSIM_UNAVAIL:-netdevsim10 has no netdev}"
fi

done_tests
