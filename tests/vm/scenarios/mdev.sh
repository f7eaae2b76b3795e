#!/bin/sh
# Mediated devices with hostdevctl on a real 6.1 kernel, on the sample driver
# mtty (Debian builds no samples: build-mtty.sh compiles samples/vfio-mdev/mtty.c
# out of tree against the exact linux-headers of the guest kernel). Types,
# create, node devices + XML, mdevctl-format definitions with autostart,
# inactive node devices, "hostdevctl apply" re-creating them, and the refusal
# to remove an mdev whose VFIO group a process holds open.
# hdtest: timeout=400 requires=hostdevctl mtty
. /hdtest/lib.sh

MB=/sys/class/mdev_bus/mtty
MD=/sys/bus/mdev/devices
export HOSTDEV_MDEVCTL_DIR=/tmp/mdevctl.d
ST=/tmp/hdstate
HD="hostdevctl --state-dir $ST"
run_rc() { _f=$1; shift; "$@" >"$_f" 2>&1; echo $?; }
tail1() { tr '\n' ' ' <"$1" | cut -c1-300; }

# Every check this scenario makes; all of them SKIP with the reason when
# mtty cannot be built or loaded (never a silent pass).
ALL="mtty-load mdev-bus-parent sysfs-types hd-types hd-types-json create create-sysfs
create-type-link nodedev-listed nodedev-parent dumpxml mdev-list vfio-group
define define-file define-content nodedev-info remove removed definition-kept
inactive-listed inactive-not-active inactive-dumpxml apply-started apply-recreated
apply-again-unchanged in-use-exit-2 in-use-message in-use-unchanged in-use-definition-kept
destroy-in-use-exit-2 remove-after-release stop-undefine nodedev-create nodedev-destroy
create-unknown-type create-duplicate-uuid"
skip_all() {
	for _c in $ALL; do skip "$_c" "$*"; done
	done_tests
	exit 0
}
command -v hostdevctl >/dev/null 2>&1 || skip_all "no hostdevctl binary in the guest"
if [ ! -f /hdtest/extmod/mtty.ko ]; then
	skip_all "mtty.ko unavailable: $(cat /hdtest/extmod/mtty.unavailable 2>/dev/null || echo 'not built (no "# hdtest: mtty" handling?)')"
fi
modprobe vfio 2>/dev/null
modprobe mdev 2>/dev/null
if ! insmod /hdtest/extmod/mtty.ko 2>/tmp/insmod.err; then
	fail mtty-load "insmod mtty.ko: $(tail1 /tmp/insmod.err) $(dmesg | tail -n 3 | tr '\n' ' ')"
	done_tests
	exit 0
fi
pass mtty-load
note "modules: $(grep -E '^(mtty|mdev|vfio) ' /proc/modules | cut -d' ' -f1,3,4 | tr '\n' ' ')"

check mdev-bus-parent test -d "$MB/mdev_supported_types"
check_eq sysfs-types "mtty-1 mtty-2" sh -c "echo \$(ls $MB/mdev_supported_types)"
note "mtty-2 available_instances=$(cat $MB/mdev_supported_types/mtty-2/available_instances 2>/dev/null) device_api=$(cat $MB/mdev_supported_types/mtty-2/device_api 2>/dev/null)"
$HD mdev types >/tmp/types.out 2>&1
note "mdev types: $(tail1 /tmp/types.out)"
check hd-types sh -c "grep -q 'mtty-1' /tmp/types.out && grep -q 'mtty-2' /tmp/types.out"
check hd-types-json sh -c "$HD mdev types mtty --json | tr -d ' \n' | grep -q 'mtty-2'"

# --- create (transient) -----------------------------------------------------
AV0=$(cat $MB/mdev_supported_types/mtty-2/available_instances 2>/dev/null)
rc=$(run_rc /tmp/create.out $HD mdev create mtty mtty-2)
U=$(head -n1 /tmp/create.out)
note "mdev create: rc=$rc $(tail1 /tmp/create.out)"
check create sh -c "[ $rc = 0 ] && echo '$U' | grep -qx '[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}'"
check create-sysfs test -d "$MD/$U"
check_eq create-type-link mtty-2 sh -c "basename \$(readlink $MD/$U/mdev_type)"
note "mtty-2 available_instances $AV0 -> $(cat $MB/mdev_supported_types/mtty-2/available_instances)"
N=mdev_$(echo "$U" | tr '-' '_')_mtty
$HD nodedev-list --cap mdev >/tmp/ndl.out 2>&1
note "nodedev-list --cap mdev: $(tail1 /tmp/ndl.out)"
check nodedev-listed grep -qx "$N" /tmp/ndl.out
$HD nodedev-dumpxml "$N" >/tmp/mdev.xml 2>&1
note "dumpxml: $(tail1 /tmp/mdev.xml)"
check nodedev-parent grep -q '<parent>mtty_mtty</parent>' /tmp/mdev.xml
check dumpxml sh -c "grep -q \"<type id='mtty-2'/>\" /tmp/mdev.xml && grep -q '<uuid>$U</uuid>' /tmp/mdev.xml && grep -q '<name>$N</name>' /tmp/mdev.xml"
check mdev-list sh -c "$HD mdev list | grep -q '^$U mtty mtty-2 manual'"
G=$(basename "$(readlink "$MD/$U/iommu_group" 2>/dev/null)" 2>/dev/null)
note "mdev iommu group: ${G:-none}, driver $(basename "$(readlink "$MD/$U/driver" 2>/dev/null)" 2>/dev/null), /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
check vfio-group sh -c "[ -n '$G' ] && test -c /dev/vfio/$G && grep -q \"<iommuGroup number='$G'\" /tmp/mdev.xml"

# --- define with autostart ----------------------------------------------------
rc=$(run_rc /tmp/define.out $HD mdev define "$U" --auto)
note "mdev define --auto: rc=$rc $(tail1 /tmp/define.out)"
check_eq define 0 echo "$rc"
DEF=$HOSTDEV_MDEVCTL_DIR/mtty/$U
check define-file test -f "$DEF"
note "definition: $(tr '\n' ' ' <"$DEF" 2>/dev/null)"
check define-content sh -c "tr -d ' \n' <$DEF | grep -q '^{\"mdev_type\":\"mtty-2\",\"start\":\"auto\",\"attrs\":\[\]}\$'"
$HD nodedev-info "$N" >/tmp/info.out 2>&1
note "nodedev-info: $(tail1 /tmp/info.out)"
check nodedev-info sh -c "grep -q '^Active: *yes' /tmp/info.out && grep -q '^Persistent: *yes' /tmp/info.out && grep -q '^Autostart: *yes' /tmp/info.out"

# --- remove: the definition stays, an inactive node device ---------------------
rc=$(run_rc /tmp/remove.out $HD mdev remove "$U")
note "mdev remove: rc=$rc $(tail1 /tmp/remove.out)"
check_eq remove 0 echo "$rc"
check removed sh -c "! test -e $MD/$U"
check definition-kept test -f "$DEF"
check inactive-listed sh -c "$HD nodedev-list --inactive | grep -qx $N"
check inactive-not-active sh -c "! $HD nodedev-list | grep -qx $N"
$HD nodedev-dumpxml "$N" >/tmp/inactive.xml 2>&1
check inactive-dumpxml sh -c "grep -q '<uuid>$U</uuid>' /tmp/inactive.xml && ! grep -q '<iommuGroup' /tmp/inactive.xml && grep -q \"<start type='auto'/>\" /tmp/inactive.xml"

# --- apply re-creates it; a second apply changes nothing ------------------------
rc=$(run_rc /tmp/apply1.out $HD apply)
note "apply: rc=$rc $(tail1 /tmp/apply1.out)"
check apply-started sh -c "[ $rc = 0 ] && grep -q '$U.*started' /tmp/apply1.out"
check apply-recreated sh -c "test -d $MD/$U && [ \$(basename \$(readlink $MD/$U/mdev_type)) = mtty-2 ]"
rc=$(run_rc /tmp/apply2.out $HD apply)
note "apply again: rc=$rc $(tail1 /tmp/apply2.out)"
check apply-again-unchanged sh -c "[ $rc = 0 ] && grep -q '$U.*unchanged' /tmp/apply2.out && ! grep -q 'started' /tmp/apply2.out"

# --- in use: a process holds the VFIO group open ---------------------------------
G=$(basename "$(readlink "$MD/$U/iommu_group" 2>/dev/null)" 2>/dev/null)
if [ -n "$G" ] && [ -c "/dev/vfio/$G" ]; then
	sleep 30 <>"/dev/vfio/$G" &
	HOLDER=$!
	sleep 0.5
	note "holder pid $HOLDER: $(ls -l /proc/$HOLDER/fd/0 2>&1)"
	cp "$DEF" /tmp/def.before
	rc=$(run_rc /tmp/inuse.out $HD mdev remove "$U")
	note "mdev remove while held: rc=$rc $(tail1 /tmp/inuse.out)"
	check_eq in-use-exit-2 2 echo "$rc"
	check in-use-message grep -q "in use: process $HOLDER has its VFIO group open; nothing changed" /tmp/inuse.out
	check in-use-unchanged test -d "$MD/$U"
	check in-use-definition-kept cmp -s /tmp/def.before "$DEF"
	rc=$(run_rc /tmp/inuse2.out $HD nodedev-destroy "$N")
	note "nodedev-destroy while held: rc=$rc $(tail1 /tmp/inuse2.out)"
	check destroy-in-use-exit-2 sh -c "[ $rc = 2 ] && grep -q 'in use' /tmp/inuse2.out && test -d $MD/$U"
	kill "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
	rc=$(run_rc /tmp/remove2.out $HD mdev remove "$U")
	check remove-after-release sh -c "[ $rc = 0 ] && ! test -e $MD/$U"
else
	for c in in-use-exit-2 in-use-message destroy-in-use-exit-2 in-use-unchanged in-use-definition-kept remove-after-release; do
		fail "$c" "mdev $U has no VFIO group node (group '${G:-none}')"
	done
fi
# stop (already stopped: start it first) + undefine
$HD mdev start "$U" >/dev/null 2>&1
rc=$(run_rc /tmp/stop.out sh -c "$HD mdev stop $U && $HD mdev undefine $U")
check stop-undefine sh -c "[ $rc = 0 ] && ! test -e $MD/$U && ! test -e $DEF && ! $HD nodedev-list --all | grep -q $N"

# --- libvirt XML: nodedev-create / nodedev-destroy --------------------------------
U2=6b9d3a8e-44a1-4f0b-9c7e-2d5f3a1b0c01
cat >/tmp/create.xml <<EOF
<device>
  <parent>mtty_mtty</parent>
  <capability type='mdev'>
    <type id='mtty-1'/>
    <uuid>$U2</uuid>
  </capability>
</device>
EOF
rc=$(run_rc /tmp/ndc.out $HD nodedev-create /tmp/create.xml)
note "nodedev-create: rc=$rc $(tail1 /tmp/ndc.out)"
check nodedev-create sh -c "[ $rc = 0 ] && [ \$(basename \$(readlink $MD/$U2/mdev_type)) = mtty-1 ]"
ls $MD >/tmp/mdevs.before
rc=$(run_rc /tmp/unk.out $HD mdev create mtty mtty-3)
note "create unknown type: rc=$rc $(tail1 /tmp/unk.out)"
check create-unknown-type sh -c "[ $rc = 1 ] && [ \$(grep -c . /tmp/unk.out) = 1 ] && ls $MD | cmp -s - /tmp/mdevs.before"
rc=$(run_rc /tmp/dup.out $HD mdev create mtty mtty-2 --uuid $U2)
note "create duplicate uuid: rc=$rc $(tail1 /tmp/dup.out)"
check create-duplicate-uuid sh -c "[ $rc = 1 ] && [ \$(grep -c . /tmp/dup.out) = 1 ] && ls $MD | cmp -s - /tmp/mdevs.before && [ \$(basename \$(readlink $MD/$U2/mdev_type)) = mtty-1 ]"
rc=$(run_rc /tmp/ndd.out $HD nodedev-destroy "mdev_$(echo $U2 | tr '-' '_')_mtty")
check nodedev-destroy sh -c "[ $rc = 0 ] && ! test -e $MD/$U2"

done_tests
