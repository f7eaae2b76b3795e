# libvirt boot (run-debian-root.sh --libvirt, image build-debian-root.sh
# --libvirt, intel_iommu=on): hostdevctl against a real libvirtd and a real
# (TCG) QEMU inside the guest.
#   part 1: a firmware-only type='qemu' domain; hostdevctl attach gives it the
#           e1000e at 01:00.0 live (managed); libvirt's live XML, the QEMU
#           process's /dev/vfio/N and QMP query-pci see it; nodedev-reattach is
#           refused naming the domain; detach-device gives it back to e1000e.
#   part 2: hostdev's qemu hook (scripts/libvirt/qemu-hook) installed: a
#           domain with the two e1000 behind the PCIe-to-PCI bridge (one IOMMU
#           group) as unmanaged hostdevs; start moves both to vfio-pci,
#           destroy gives both back to e1000.
#   part 3: hostdevd on a system bus in the guest: a domain holding 01:00.0
#           started and destroyed changes the InUse property of 01:00.0's
#           object (PropertiesChanged) through libvirt's domain events;
#           after libvirtd restarts, the watch connects again.
. /hdtest/lib.sh
export LIBVIRT_DEFAULT_URI=qemu:///system
T0=$(cut -d. -f1 /proc/uptime)
el() { echo "$(($(cut -d. -f1 /proc/uptime) - T0))s"; }
note() { echo "HDTEST: NOTE $* (at $(el))"; }
skip() { echo "HDTEST: SKIP $*"; }
# wait up to $1 seconds for a command to succeed
wait_for() { _t=$1; shift; while ! "$@" >/dev/null 2>&1; do
	[ "$_t" -gt 0 ] || return 1; sleep 1; _t=$((_t - 1)); done; }
V() { timeout 600 virsh "$@"; }

command -v libvirtd >/dev/null && command -v virsh >/dev/null && command -v qemu-system-x86_64 >/dev/null || {
	skip "libvirt: libvirtd, virsh or qemu-system-x86_64 is not in this image (build-debian-root.sh --libvirt)"; exit 0; }

# --- libvirt for a root-only guest without systemd: QEMU runs as root, no
# security driver (no AppArmor/SELinux here), no cgroups and no private /dev
# namespace (hostdev and libvirt look at the same /dev), no polkit, QEMU's
# output straight to /var/log/libvirt/qemu (no virtlogd)
mkdir -p /etc/libvirt /var/log/libvirt /var/lib/libvirt /var/cache/libvirt
# the QEMU driver looks its compiled-in default user and group up before it
# reads qemu.conf (libvirt-daemon-system would have created them)
grep -q '^libvirt-qemu:' /etc/group || echo 'libvirt-qemu:x:64055:' >> /etc/group
grep -q '^kvm:' /etc/group || echo 'kvm:x:64056:' >> /etc/group
grep -q '^libvirt-qemu:' /etc/passwd ||
	echo 'libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin' >> /etc/passwd
cat > /etc/libvirt/qemu.conf <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
EOF
cat > /etc/libvirt/libvirtd.conf <<'EOF'
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_group = "root"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
# hostdev's qemu hook, as meson installs it (BINDIR substituted); libvirt
# reads the hook directory when the daemon starts
cat > /usr/local/bin/hostdevctl <<'EOF'
#!/bin/sh
LD_LIBRARY_PATH=/hdtest exec /hdtest/hostdevctl "$@"
EOF
chmod 0755 /usr/local/bin/hostdevctl
mkdir -p /etc/libvirt/hooks/qemu.d
sed 's|@BINDIR@|/usr/local/bin|' /hdtest/qemu-hook > /etc/libvirt/hooks/qemu.d/hostdev
chmod 0755 /etc/libvirt/hooks/qemu.d/hostdev

# /dev/vfio/vfio, as systemd-tmpfiles creates it from kmod's static nodes at
# boot (opening it loads vfio): libvirt refuses VFIO passthrough ("host
# doesn't support VFIO PCI passthrough") while it does not exist
kmod static-nodes --format=tmpfiles 2>/dev/null | while read -r _ path mode _ _ _ mm; do
	[ "$path" = /dev/vfio/vfio ] && [ ! -e "$path" ] || continue
	mkdir -p /dev/vfio && mknod -m "$mode" "$path" c "${mm%%:*}" "${mm##*:}"
done
if [ -e /dev/vfio/vfio ]; then echo "/dev/vfio/vfio: from kmod static-nodes"
else echo "/dev/vfio/vfio: not among kmod's static nodes; modprobe vfio"; modprobe vfio; fi
ls -l /dev/vfio
cat /proc/cmdline
check "libvirt: the kernel command line has intel_iommu=on" has /proc/cmdline "intel_iommu=on"
# run-debian-root.sh keeps kvm out (modprobe.blacklist): libvirtd must not
# probe QEMU with KVM nested inside TCG, which can stall the guest
check "libvirt: no /dev/kvm in the guest (the domains are TCG)" test ! -e /dev/kvm
check "libvirt: both e1000e on e1000e before" sh -c '. /hdtest/lib.sh; is_drv 0000:01:00.0 e1000e && is_drv 0000:02:00.0 e1000e'
note "starting libvirtd"
/usr/sbin/libvirtd --daemon
wait_for 120 test -S /run/libvirt/libvirt-sock
V version > /tmp/version.txt 2>&1; cat /tmp/version.txt
check "libvirt: libvirtd answers on qemu:///system" has /tmp/version.txt "Running hypervisor: QEMU"
if ! grep -q "Running hypervisor: QEMU" /tmp/version.txt; then
	echo "--- libvirtd.log"; tail -n 20 /var/log/libvirt/libvirtd.log; exit 0
fi
note "libvirtd up, QEMU capabilities probed"

# --- part 1: attach the e1000e at 01:00.0 live (managed) ---------------------
# pc-q35-6.0: native PCIe hotplug.  From pc-q35-6.1 on, q35's root ports use
# ACPI hotplug, and with no OS in the guest to run the eject method QEMU never
# completes device_del; native hotplug into a slot the firmware left powered
# off is undone at once.
# rebootTimeout=-1: SeaBIOS halts after "No bootable device" (an idle vCPU).
cat > /tmp/hdvm1.xml <<'EOF'
<domain type='qemu'>
  <name>hdvm1</name>
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-6.0'>hvm</type>
    <bios rebootTimeout='-1'/>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='pci' index='1' model='pcie-root-port'/>
    <controller type='pci' index='2' model='pcie-root-port'/>
    <controller type='usb' model='none'/>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
check "libvirt: define hdvm1" V define /tmp/hdvm1.xml
V start hdvm1 > /tmp/start1.txt 2>&1; echo "start rc=$?" >> /tmp/start1.txt; cat /tmp/start1.txt
check "libvirt: start hdvm1 (type='qemu', firmware only)" has /tmp/start1.txt "start rc=0"
note "hdvm1 started"
pid=$(cat /run/libvirt/qemu/hdvm1.pid 2>/dev/null)
echo "hdvm1 QEMU pid: $pid"
diag() { # NAME: why a domain did not start
	echo "--- /var/log/libvirt/qemu/$1.log"; tail -n 15 "/var/log/libvirt/qemu/$1.log" 2>/dev/null
	echo "--- libvirtd.log"; tail -n 15 /var/log/libvirt/libvirtd.log 2>/dev/null
}
if [ -z "$pid" ]; then
	diag hdvm1
	skip "libvirt: the attach checks: hdvm1 did not start"
else

	HD attach hdvm1 01:00.0 --live > /tmp/attach.txt 2>&1; echo "attach rc=$?" >> /tmp/attach.txt; cat /tmp/attach.txt
	check "libvirt: hostdevctl attach hdvm1 01:00.0 --live" has /tmp/attach.txt "attach rc=0"
	note "attached"
	V dumpxml hdvm1 > /tmp/live1.xml 2>&1
	check "libvirt: the live XML lists the hostdev 01:00.0" sh -c '
		. /hdtest/lib.sh; has /tmp/live1.xml "<hostdev mode=.subsystem. type=.pci. managed=.yes." &&
		has /tmp/live1.xml "bus=.0x01. slot=.0x00. function=.0x0."'
	check "libvirt: 01:00.0 is on vfio-pci (libvirt, managed)" is_drv 0000:01:00.0 vfio-pci
	grp=$(basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/iommu_group)")
	ls -l "/proc/$pid/fd" > /tmp/fd1.txt 2>&1
	check "libvirt: the QEMU process ($pid) holds /dev/vfio/$grp open" has /tmp/fd1.txt "/dev/vfio/$grp\$"
	HD show 01:00.0 > /tmp/show1.txt 2>&1; cat /tmp/show1.txt
	check "libvirt: show 01:00.0 names the domain and the QEMU process" sh -c '
		. /hdtest/lib.sh; has /tmp/show1.txt "hdvm1: running" &&
		has /tmp/show1.txt "/dev/vfio/'"$grp"' is open by process '"$pid"' "'
	V qemu-monitor-command --pretty hdvm1 '{"execute":"query-pci"}' > /tmp/qpci.json 2>&1
	tr -d ' \n' < /tmp/qpci.json > /tmp/qpci.txt
	# a function whose "id" object has device 0x10d3 and vendor 0x8086 (any key order)
	pci_id_in() { grep -o '"id":{[^}]*}' "$1" | grep '"device":4307[,}]' | grep -q '"vendor":32902[,}]' ||
		{ echo "no 8086:10d3 function in $1:"; cat "$1"; return 1; }; }
	check "libvirt: QMP query-pci inside the domain shows 8086:10d3" pci_id_in /tmp/qpci.txt

	HD nodedev-reattach 01:00.0 > /tmp/reattach.txt 2>&1; echo "reattach rc=$?" >> /tmp/reattach.txt; cat /tmp/reattach.txt
	check "libvirt: nodedev-reattach 01:00.0 is refused (exit 2) naming the domain" sh -c '
		. /hdtest/lib.sh; has /tmp/reattach.txt "reattach rc=2" &&
		has /tmp/reattach.txt "is used by running domain .hdvm1."'
	check "libvirt: 01:00.0 stays on vfio-pci after the refusal" is_drv 0000:01:00.0 vfio-pci

	HD detach-device hdvm1 01:00.0 --live > /tmp/detach.txt 2>&1; echo "detach rc=$?" >> /tmp/detach.txt; cat /tmp/detach.txt
	check "libvirt: hostdevctl detach-device hdvm1 01:00.0 --live" has /tmp/detach.txt "detach rc=0"
	V dumpxml hdvm1 > /tmp/live1b.xml 2>&1
	check "libvirt: the live XML has no hostdev any more" hasnt /tmp/live1b.xml "<hostdev"
	wait_for 30 is_drv 0000:01:00.0 e1000e
	check "libvirt: 01:00.0 is back on e1000e" is_drv 0000:01:00.0 e1000e
	ls -l "/proc/$pid/fd" > /tmp/fd1b.txt 2>&1
	check "libvirt: the QEMU process no longer holds /dev/vfio/$grp" hasnt /tmp/fd1b.txt "/dev/vfio/$grp\$"
	V destroy hdvm1 >/dev/null 2>&1
	note "part 1 done"
fi

# --- part 2: the qemu hook and the e1000 pair behind the PCIe-to-PCI bridge ---
a=0000:03:01.0 b=0000:03:02.0
if [ "$(cat /sys/bus/pci/devices/$a/device 2>/dev/null)" != 0x100e ] ||
	[ "$(cat /sys/bus/pci/devices/$b/device 2>/dev/null)" != 0x100e ]; then
	skip "libvirt hook: no e1000 pair at 03:01.0 and 03:02.0 (the pcie-pci-bridge of run-debian-root.sh --libvirt)"
else
	ga=$(basename "$(readlink /sys/bus/pci/devices/$a/iommu_group)")
	gb=$(basename "$(readlink /sys/bus/pci/devices/$b/iommu_group)")
	echo "IOMMU group of $a: $ga ($(ls /sys/kernel/iommu_groups/$ga/devices | tr '\n' ' ')), of $b: $gb"
	check "libvirt hook: the e1000 pair shares one IOMMU group" test "$ga" = "$gb"
	check "libvirt hook: both e1000 on e1000 before" sh -c ". /hdtest/lib.sh; is_drv $a e1000 && is_drv $b e1000"
	{
		echo "<domain type='qemu'>"
		sed -n '/<name>/,/<controller type=.usb/p' /tmp/hdvm1.xml | sed 's/hdvm1/hdvm2/'
		HD hostdev-xml 03:01.0 --unmanaged
		HD hostdev-xml 03:02.0 --unmanaged
		echo "    <video><model type='none'/></video>"
		echo "    <memballoon model='none'/>"
		echo "  </devices>"
		echo "</domain>"
	} > /tmp/hdvm2.xml
	cat /tmp/hdvm2.xml
	check "libvirt hook: define hdvm2 (the pair as managed='no' hostdevs)" V define /tmp/hdvm2.xml
	V start hdvm2 > /tmp/start2.txt 2>&1; echo "start rc=$?" >> /tmp/start2.txt; cat /tmp/start2.txt
	check "libvirt hook: start hdvm2" has /tmp/start2.txt "start rc=0"
	note "hdvm2 started"
	grep -q "start rc=0" /tmp/start2.txt || diag hdvm2
	check "libvirt hook: the hook moved both e1000 to vfio-pci" sh -c ". /hdtest/lib.sh; is_drv $a vfio-pci && is_drv $b vfio-pci"
	pid2=$(cat /run/libvirt/qemu/hdvm2.pid 2>/dev/null)
	ls -l "/proc/$pid2/fd" > /tmp/fd2.txt 2>&1
	check "libvirt hook: the QEMU process of hdvm2 holds /dev/vfio/$ga open" has /tmp/fd2.txt "/dev/vfio/$ga\$"
	V destroy hdvm2 > /tmp/destroy2.txt 2>&1; echo "destroy rc=$?" >> /tmp/destroy2.txt; cat /tmp/destroy2.txt
	wait_for 30 sh -c ". /hdtest/lib.sh; is_drv $a e1000 && is_drv $b e1000"
	check "libvirt hook: destroy gave both back to e1000" sh -c ". /hdtest/lib.sh; is_drv $a e1000 && is_drv $b e1000"
	note "part 2 done"
fi
# --- part 3: hostdevd's InUse follows libvirt's domain events ---------------
if [ ! -x /hdtest/hostdevd ] || [ ! -x /hdtest/dbus-daemon ]; then
	skip "hostdevd InUse: no hostdevd or dbus-daemon in the payload (hostdevd was not built)"
else
	HDL() { LD_LIBRARY_PATH=/hdtest:/hdtest/lib "$@"; }
	mkdir -p /run/dbus /usr/share/dbus-1/system.d
	cp /hdtest/org.hostdev.Hostdev1.conf /usr/share/dbus-1/system.d/
	[ -s /etc/machine-id ] || echo 6864746573746775657374000000000a > /etc/machine-id
	HDL /hdtest/dbus-daemon --config-file=/hdtest/dbus-system.conf --fork --nopidfile
	wait_for 10 test -S /run/dbus/system_bus_socket
	LD_LIBRARY_PATH=/hdtest:/hdtest/lib /hdtest/hostdevd --system -v -v > /tmp/hostdevd.log 2>&1 &
	hdd=$!
	owned() { HDL /hdtest/dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.hostdev.Hostdev1 | grep -q 'boolean true'; }
	wait_for 60 owned
	check "hostdevd InUse: hostdevd serves on the system bus" owned
	check "hostdevd InUse: it follows libvirt's domain events" has /tmp/hostdevd.log "following libvirt's domain events (the default URI)"
	GPU=/org/hostdev/Hostdev1/devices/pci_5f0000_5f01_5f00_5f0
	inuse() { HDL /hdtest/dbus-send --system --print-reply --dest=org.hostdev.Hostdev1 "$GPU" \
		org.freedesktop.DBus.Properties.Get string:org.hostdev.Hostdev1.Device string:InUse |
		sed -n 's/^ *variant *string "\(.*\)"$/\1/p'; }
	inuse_has() { inuse | grep -q -- "$1"; }
	inuse_empty() { [ "$(inuse)" = "" ] && inuse >/dev/null; }
	check "hostdevd InUse: 01:00.0 has none before" inuse_empty
	LD_LIBRARY_PATH=/hdtest/lib /hdtest/dbus-monitor --system "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',path='$GPU'" \
		> /tmp/props.txt 2>&1 &
	mon=$!
	sleep 2
	sed 's/hdvm1/hdvm3/; s|<memballoon|<hostdev mode="subsystem" type="pci" managed="yes"><source><address domain="0x0000" bus="0x01" slot="0x00" function="0x0"/></source></hostdev>\n    <memballoon|' \
		/tmp/hdvm1.xml > /tmp/hdvm3.xml
	check "hostdevd InUse: define hdvm3 holding 01:00.0 (managed)" V define /tmp/hdvm3.xml
	V start hdvm3 > /tmp/start3.txt 2>&1; echo "start rc=$?" >> /tmp/start3.txt; cat /tmp/start3.txt
	check "hostdevd InUse: start hdvm3" has /tmp/start3.txt "start rc=0"
	wait_for 60 inuse_has "running domain 'hdvm3'"
	check "hostdevd InUse: InUse of 01:00.0 names hdvm3" inuse_has "running domain 'hdvm3'"
	note "hdvm3 started; InUse: $(inuse)"
	sleep 1
	check "hostdevd InUse: PropertiesChanged(InUse) with hdvm3 on 01:00.0's object" has /tmp/props.txt "used by running domain 'hdvm3'"
	check "hostdevd InUse: asked afresh after libvirt's events" has /tmp/hostdevd.log "libvirt domain events: which guest uses which device, asked afresh"
	V destroy hdvm3 > /tmp/destroy3.txt 2>&1; echo "destroy rc=$?" >> /tmp/destroy3.txt; cat /tmp/destroy3.txt
	wait_for 60 inuse_empty
	check "hostdevd InUse: destroy: InUse of 01:00.0 empty again" inuse_empty
	sleep 1
	check "hostdevd InUse: destroy: PropertiesChanged(InUse) again" sh -c '[ "$(grep -c "string \"InUse\"" /tmp/props.txt)" -ge 2 ] || { cat /tmp/props.txt; exit 1; }'
	# libvirtd goes away and comes back: the watch connects again
	kill "$(cat /run/libvirtd.pid 2>/dev/null)" 2>/dev/null
	wait_for 30 sh -c '! test -S /run/libvirt/libvirt-sock'
	sleep 2
	/usr/sbin/libvirtd --daemon
	wait_for 120 test -S /run/libvirt/libvirt-sock
	wait_for 90 grep -q "following domain events again" /tmp/hostdevd.log
	check "hostdevd InUse: after libvirtd's restart it follows domain events again" has /tmp/hostdevd.log "following domain events again"
	V start hdvm3 > /tmp/start3b.txt 2>&1; echo "start rc=$?" >> /tmp/start3b.txt
	wait_for 60 inuse_has "running domain 'hdvm3'"
	check "hostdevd InUse: after the restart a start is seen again" inuse_has "running domain 'hdvm3'"
	V destroy hdvm3 >/dev/null 2>&1
	kill "$mon" 2>/dev/null
	kill "$hdd"; wait "$hdd"; echo "hostdevd exit $?" >> /tmp/hostdevd.log
	echo "--- hostdevd.log (tail)"; grep -v "uevent\|tree " /tmp/hostdevd.log | tail -n 25
	check "hostdevd InUse: hostdevd exits 0 on SIGTERM" has /tmp/hostdevd.log "hostdevd exit 0"
	check "hostdevd InUse: no warning about the stopped domains' devices" hasnt /tmp/hostdevd.log "in the definition of domain"
	note "part 3 done"
fi
echo "--- libvirtd.log (tail)"; tail -n 20 /var/log/libvirt/libvirtd.log 2>/dev/null
V destroy hdvm1 >/dev/null 2>&1; V destroy hdvm2 >/dev/null 2>&1
kill "$(cat /run/libvirtd.pid 2>/dev/null)" 2>/dev/null
true
