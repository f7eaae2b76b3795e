#!/usr/bin/env bash
# libvirt domains: which domain uses which device, the refusals that name
# it, attach/detach-device, against libvirt's test:/// driver (in-process,
# no daemon) with tests/data/libvirt/node.xml over the 'full' fixture.
# State-changing runs use hostdevctl-fake (the CLI with the fake kernel).
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"
: "${HOSTDEVCTL_FAKE:=$SRCDIR/build/tests/hostdevctl-fake}"
: "${TEST_LIBVIRT:=$SRCDIR/build/tests/test-libvirt}"
: "${TEST_DOMAIN_WATCH:=$SRCDIR/build/tests/test-domain-watch}"

# run a TAP-producing program, renumbering its tests into ours
sub_tap() {
        local line out rc
        out=$("$@" 2>"$TMP/sub.err"); rc=$?
        while IFS= read -r line; do
                case $line in
                "ok "*) ok "${line#ok * - }" ;;
                "not ok "*) fail "${line#not ok * - }" ;;
                esac
        done <<<"$out"
        [ $rc -eq 0 ] || fail "$(basename "$1") exited $rc" "$(tail -n 5 "$TMP/sub.err" | tr '\n' ' ')"
}

build_fixtures full
F=$TMP/fx/full
URI="test://$SRCDIR/tests/data/libvirt/node.xml"
ST=$TMP/state

# --- the library API (domain/libvirt.c)
sub_tap "$TEST_LIBVIRT" "$F" "$URI"
# hd_domain_watch: libvirt's domain events (test:///default, in-process)
sub_tap "$TEST_DOMAIN_WATCH" "$F"

hdl() { "$HOSTDEVCTL" --sysroot "$F" --connect "$URI" "$@"; }
hdf() { "$HOSTDEVCTL_FAKE" --sysroot "$F" --state-dir "$ST" --connect "$URI" "$@"; }
expect_exit() {
        local want=$1 name=$2; shift 2
        "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
        [ $rc -eq "$want" ] && ok "$name" || fail "$name" "exit $rc, want $want: $(head -c 300 "$TMP/err")"
}
# grep_in FILE NAME PATTERN
grep_in() { grep -qF -- "$3" "$1" && ok "$2" || fail "$2" "no '$3' in: $(head -c 400 "$1")"; }
driver_of() { basename "$(readlink "$F/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null || echo none; }

# --- who uses what: nodedev-list --json
hdl nodedev-list --json > "$TMP/list.json" 2>"$TMP/list.err"
used() { # NAME → "domain:state:how;..." sorted
        python3 - "$TMP/list.json" "$1" <<'PY'
import json, sys
for d in json.load(open(sys.argv[1])):
    if d["name"] == sys.argv[2]:
        u = d.get("used_by", "absent")
        if u is None or u == "absent":
            print(u); break
        print(";".join(sorted(f'{x["domain"]}:{x["state"]}:{x["how"]}' for x in u)))
        break
else:
    print("no such device")
PY
}
want_used() {
        local got; got=$(used "$1")
        [ "$got" = "$2" ] && ok "used_by $1" || fail "used_by $1" "got '$got', want '$2'"
}
want_used pci_0000_01_00_0 "gpu-vm:running:hostdev"
want_used mdev_4b20d080_1b54_4048_85b3_a6a62d165c01_0000_00_02_0 "gpu-vm:running:hostdev"
want_used pci_0000_02_10_2 "net-vm:running:interface type='hostdev';pool-vm:running:network 'vfpool' (VF pool)"
want_used pci_0000_02_10_0 "pool-vm:running:network 'vfpool' (VF pool)"
want_used net_enp2s16_b6_4a_13_2e_7f_01 "pool-vm:running:network 'vfpool' (VF pool)"
want_used usb_1_1_2 "net-vm:running:hostdev"
want_used scsi_1_0_0_0 "idle-vm:defined:hostdev"
want_used pci_0000_03_00_0 "idle-vm:defined:hostdev"
want_used pci_0000_05_00_0 "idle-vm:defined:network 'cxpool' (VF pool)"
want_used mdev_3627463d_b7f0_4fea_b468_f1da537d301b_mtty "idle-vm:defined:hostdev"
want_used pci_0000_00_14_0 ""
want_used usb_1_1_3 ""
"$HOSTDEVCTL" --sysroot "$F" nodedev-list --json > "$TMP/list.json"
want_used pci_0000_01_00_0 "absent"     # a sysroot without --connect: libvirt not asked
grep -q '"used_by"' "$TMP/list.json" && fail "no used_by key without --connect" || ok "no used_by key without --connect"
LIBVIRT_DEFAULT_URI=$URI "$HOSTDEVCTL" --sysroot "$F" nodedev-list --json > "$TMP/list.json"
want_used pci_0000_01_00_0 "gpu-vm:running:hostdev"   # LIBVIRT_DEFAULT_URI as --connect

# --long, show, iommu
hdl nodedev-list --long > "$TMP/long" 2>&1
grep -qE '^pci_0000_02_10_2 .* pool-vm \(running\), net-vm \(running\)|^pci_0000_02_10_2 .* net-vm \(running\), pool-vm \(running\)' "$TMP/long" \
        && ok "nodedev-list --long USED-BY" || fail "nodedev-list --long USED-BY" "$(grep 02_10_2 "$TMP/long")"
hdl show 01:00.0 > "$TMP/show" 2>&1
grep_in "$TMP/show" "show names the domain" "gpu-vm: running, hostdev, on $URI"
hdl show 00:14.0 > "$TMP/show" 2>&1
grep_in "$TMP/show" "show: none" "none (on $URI)"
hdl show --json usb_1_1_2 | python3 -c 'import json,sys; u=json.load(sys.stdin)["used_by"]; assert [x["domain"] for x in u]==["net-vm"] and u[0]["connection"].startswith("test://"), u' \
        && ok "show --json used_by" || fail "show --json used_by"
hdl iommu --json | python3 -c '
import json, sys
g = [g for g in json.load(sys.stdin)["groups"] if g["number"] == 2][0]
u = {d["address"]: [x["domain"] for x in d["used_by"]] for d in g["devices"]}
assert u == {"0000:01:00.0": ["gpu-vm"], "0000:01:00.1": []}, u' && ok "iommu --json used_by" || fail "iommu --json used_by"
hdl iommu > "$TMP/iommu" 2>&1
grep_in "$TMP/iommu" "iommu text used by" "used by: gpu-vm (running)"

# --- /dev/vfio/N holders (any process, through /proc/PID/fd)
mkdir -p "$F/proc/4242/fd"
ln -s /dev/vfio/2 "$F/proc/4242/fd/7"
ln -s /dev/null "$F/proc/4242/fd/0"
echo qemu-system-x86 > "$F/proc/4242/comm"
"$HOSTDEVCTL" --sysroot "$F" show 01:00.1 > "$TMP/show" 2>&1
grep_in "$TMP/show" "show names the /dev/vfio holder" "/dev/vfio/2 is open by process 4242 (qemu-system-x86)"
"$HOSTDEVCTL" --sysroot "$F" iommu > "$TMP/iommu" 2>&1
grep_in "$TMP/iommu" "iommu names the /dev/vfio holder" "  /dev/vfio/2 is open by process 4242 (qemu-system-x86)"
"$HOSTDEVCTL" --sysroot "$F" iommu --json | python3 -c '
import json, sys
gs = {g["number"]: g for g in json.load(sys.stdin)["groups"]}
assert gs[2]["vfio_holder"] == {"pid": 4242, "comm": "qemu-system-x86"}, gs[2].get("vfio_holder")
assert "vfio_holder" not in gs[10]' && ok "iommu --json vfio_holder" || fail "iommu --json vfio_holder"
"$HOSTDEVCTL" --sysroot "$F" show 02:10.2 | grep -q "is open by process" && fail "no holder for other groups" || ok "no holder for other groups"
rm -rf "$F/proc/4242"

# --- refusals naming the running domain (exit 2), nothing changed
hdf show 00:14.0 >/dev/null 2>&1   # the fake kernel sets itself up
cp -a "$F" "$TMP/before"
expect_exit 2 "nodedev-reattach of a running domain's VF refused" hdf nodedev-reattach 02:10.2
grep -qE "used by running domain '(net-vm|pool-vm)'" "$TMP/err" && ok "reattach names the domain" || fail "reattach names the domain"
expect_exit 2 "--force does not override a running domain" hdf nodedev-reattach 02:10.2 --force
[ "$(driver_of 0000:02:10.2)" = vfio-pci ] && ok "VF still on vfio-pci" || fail "VF still on vfio-pci" "$(driver_of 0000:02:10.2)"
expect_exit 2 "nodedev-reset refused" hdf nodedev-reset 01:00.0
grep_in "$TMP/err" "reset names the domain" "used by running domain 'gpu-vm'"
expect_exit 2 "sriov shrink refused (VF pool)" hdf sriov set 02:00.0 --numvfs 1
grep_in "$TMP/err" "sriov names the pool domain" "used by running domain 'pool-vm' (network 'vfpool' (VF pool)"
[ "$(cat "$F/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs")" = 2 ] && ok "numvfs unchanged" || fail "numvfs unchanged"
expect_exit 2 "mdev remove refused" hdf mdev remove 4b20d080-1b54-4048-85b3-a6a62d165c01
grep_in "$TMP/err" "mdev remove names the domain" "used by running domain 'gpu-vm'"
[ -e "$F/sys/bus/mdev/devices/4b20d080-1b54-4048-85b3-a6a62d165c01" ] && ok "mdev still there" || fail "mdev still there"
diff -r --no-dereference -x .fake-kernel-natives "$TMP/before" "$F" >"$TMP/diff" 2>&1 && ok "refusals changed nothing" || fail "refusals changed nothing" "$(head -c 400 "$TMP/diff")"
# a defined-only domain: a warning
expect_exit 0 "reattach of a defined-only domain's device proceeds" hdf nodedev-reattach 05:00.0 --dry-run
grep_in "$TMP/err" "defined-only warning" "in the definition of domain 'idle-vm' (not running"

# --- libvirt cannot be asked: listing degrades, refusals need --force
BAD="test:///nonexistent/node.xml"
"$HOSTDEVCTL" --sysroot "$F" --connect "$BAD" nodedev-list --json > "$TMP/list.json" 2>"$TMP/err" \
        && ok "listing works without libvirt" || fail "listing works without libvirt"
want_used pci_0000_01_00_0 None
"$HOSTDEVCTL" --sysroot "$F" --connect "$BAD" nodedev-list --long 2>/dev/null | grep -q '^pci_0000_01_00_0 .* ?$' \
        && ok "--long says ?" || fail "--long says ?"
"$HOSTDEVCTL" --sysroot "$F" --connect "$BAD" show 01:00.0 2>/dev/null | grep -q "unknown: libvirt ($BAD) cannot be asked" \
        && ok "show says unknown" || fail "show says unknown"
expect_exit 2 "reset refused when libvirt cannot be asked" \
        "$HOSTDEVCTL_FAKE" --sysroot "$F" --state-dir "$ST" --connect "$BAD" nodedev-reset 00:14.0
grep_in "$TMP/err" "cannot-tell message" "0000:00:14.0: cannot tell whether a domain uses it (libvirt ($BAD) cannot be asked"
grep_in "$TMP/err" "cannot-tell suggests --force" "; --force to proceed"
expect_exit 0 "--force proceeds when libvirt cannot be asked" \
        "$HOSTDEVCTL_FAKE" --sysroot "$F" --state-dir "$ST" --connect "$BAD" nodedev-reset 00:14.0 --force

# --- libvirt's client library absent (hidden by an empty file in a mount
# namespace): it is loaded only for domain questions, so the rest works and
# the domain questions say why they cannot be answered
LVSO=$(ldconfig -p 2>/dev/null | awk '$1 == "libvirt.so.0" { print $NF; exit }')
if [ -z "$LVSO" ]; then
        skip "without libvirt.so.0" "ldconfig does not know libvirt.so.0"
elif ldd "$HOSTDEVCTL" 2>/dev/null | grep -q 'libvirt\.so'; then
        skip "without libvirt.so.0" "this build links libvirt (a sanitizer build, see meson.build)"
elif ! unshare -Urm true 2>/dev/null; then
        skip "without libvirt.so.0" "no user namespaces here"
else
        unshare -Urm sh -c 'mount --bind /dev/null "$1" && shift && "$@"' _ "$LVSO" \
                "$HOSTDEVCTL" --sysroot "$F" --connect "$URI" show 01:00.0 > "$TMP/nolv.out" 2> "$TMP/nolv.err"; rc=$?
        if [ $rc -eq 0 ] && grep -q "unknown: libvirt ($URI) cannot be asked: libvirt's client library (libvirt.so.0) is not installed" "$TMP/nolv.out"; then
                ok "without libvirt.so.0: show works and says why domains are unknown"
        else
                fail "without libvirt.so.0: show works and says why domains are unknown" "rc=$rc $(head -c 300 "$TMP/nolv.out" "$TMP/nolv.err")"
        fi
        unshare -Urm sh -c 'mount --bind /dev/null "$1" && shift && "$@"' _ "$LVSO" \
                "$HOSTDEVCTL" --sysroot "$F" nodedev-dumpxml 01:00.0 > "$TMP/nolv.xml" 2>&1 &&
                "$HOSTDEVCTL" --sysroot "$F" nodedev-dumpxml 01:00.0 | cmp -s - "$TMP/nolv.xml" \
                && ok "without libvirt.so.0: nodedev-dumpxml unchanged" || fail "without libvirt.so.0: nodedev-dumpxml unchanged"
        unshare -Urm sh -c 'mount --bind /dev/null "$1" && shift && "$@"' _ "$LVSO" \
                "$TEST_DOMAIN_WATCH" "$F" > "$TMP/nolv.tap" 2>&1
        grep -q '^ok .* - without libvirt.s client library: -EOPNOTSUPP' "$TMP/nolv.tap" \
                && ok "without libvirt.so.0: no domain watch (-EOPNOTSUPP)" \
                || fail "without libvirt.so.0: no domain watch (-EOPNOTSUPP)" "$(head -c 400 "$TMP/nolv.tap")"
fi

# --- attach
for dev in 00:14.0 usb_1_1_3 scsi_2_0_0_0 3627463d-b7f0-4fea-b468-f1da537d301b; do
        hdl attach empty-vm "$dev" --dry-run --live > "$TMP/plan" 2>"$TMP/err"; rc=$?
        "$HOSTDEVCTL" --sysroot "$F" hostdev-xml "$dev" > "$TMP/want.xml"
        if [ $rc -eq 0 ] && [ "$(sed -n '/^<hostdev\|^<interface/,$p' "$TMP/plan")" = "$(cat "$TMP/want.xml")" ]; then
                ok "attach --dry-run $dev prints hostdev-xml's XML"
        else
                fail "attach --dry-run $dev prints hostdev-xml's XML" "rc=$rc $(head -c 300 "$TMP/err")"
        fi
done
hdl attach empty-vm 00:14.0 --dry-run --unmanaged > "$TMP/plan" 2>&1
grep_in "$TMP/plan" "unmanaged plan detaches the group" "0000:00:14.0  xhci_hcd -> vfio-pci  would move"
grep_in "$TMP/plan" "unmanaged XML" "managed='no'"
expect_exit 2 "attach of a device a running domain uses" hdl attach empty-vm usb_1_1_2 --dry-run
grep_in "$TMP/err" "attach names the domain" "used by running domain 'net-vm'"
expect_exit 2 "attach refused for a group mate in use" hdl attach empty-vm 01:00.1 --unmanaged --dry-run
grep_in "$TMP/err" "group mate names the domain" "IOMMU group member 0000:01:00.0 is used by running domain 'gpu-vm'"
expect_exit 2 "attach of a VF pool member" hdl attach empty-vm 02:10.0 --dry-run
expect_exit 1 "managed attach into a non-viable group" hdl attach empty-vm 00:1f.3 --dry-run
grep_in "$TMP/err" "non-viable message" "IOMMU group 19 is not viable: 0000:00:1f.4 is bound to i801_smbus"
expect_exit 1 "attach to an unknown domain" hdl attach no-such-vm 00:14.0
grep_in "$TMP/err" "unknown domain message" "no domain 'no-such-vm' on $URI"
expect_exit 64 "attach usage" hdl attach empty-vm
expect_exit 64 "attach --managed --unmanaged" hdl attach empty-vm 00:14.0 --managed --unmanaged
# unmanaged: detached (journaled), libvirt's test driver cannot attach, so
# hostdev gives the group back
expect_exit 1 "attach --unmanaged: libvirt's error" hdf attach empty-vm 08:00.0 --unmanaged --live
grep_in "$TMP/err" "libvirt's message" "libvirt refused to attach pci_0000_08_00_0 to 'empty-vm': this function is not supported"
grep_in "$TMP/out" "the group was detached first" "0000:08:00.0  qla2xxx -> vfio-pci  done"
[ "$(driver_of 0000:08:00.0)" = qla2xxx ] && ok "rolled back to qla2xxx" || fail "rolled back to qla2xxx" "$(driver_of 0000:08:00.0)"
[ -z "$(ls "$ST/devices" 2>/dev/null)" ] && ok "no journal record left" || fail "no journal record left" "$(ls "$ST/devices")"

# --- XML round trip: what hostdev-xml prints, in a domain, is recognised
{
        echo "<node><domain type='test'><name>rt-vm</name><memory>1048576</memory><os><type>hvm</type></os><devices>"
        for dev in 08:00.0 usb_1_1_3 scsi_2_0_0_0 3627463d-b7f0-4fea-b468-f1da537d301b enp2s16; do
                "$HOSTDEVCTL" --sysroot "$F" hostdev-xml "$dev"
        done
        echo "</devices></domain></node>"
} > "$TMP/rt.xml"
"$HOSTDEVCTL" --sysroot "$F" --connect "test://$TMP/rt.xml" nodedev-list --json > "$TMP/list.json" 2>"$TMP/err" \
        || fail "round-trip domain accepted by libvirt" "$(cat "$TMP/err")"
for n in pci_0000_08_00_0 usb_1_1_3 scsi_2_0_0_0 mdev_3627463d_b7f0_4fea_b468_f1da537d301b_mtty pci_0000_02_10_0; do
        got=$(used "$n")
        case $got in rt-vm:running:*) ok "round trip $n" ;; *) fail "round trip $n" "$got" ;; esac
done

# --- detach-device
expect_exit 1 "detach-device of a device the domain lacks" hdl detach-device empty-vm 00:14.0
grep_in "$TMP/err" "not attached message" "pci_0000_00_14_0 is not attached to domain 'empty-vm'"
hdl detach-device net-vm 02:10.2 --dry-run > "$TMP/plan" 2>&1
grep_in "$TMP/plan" "detach-device uses the domain's element" "<interface type=\"hostdev\" managed=\"yes\">"
expect_exit 1 "detach-device: libvirt's error" hdf detach-device gpu-vm 01:00.0 --live
grep_in "$TMP/err" "detach libvirt message" "libvirt refused to detach pci_0000_01_00_0 from 'gpu-vm'"

# --- the qemu hook (scripts/libvirt/qemu-hook → hostdevctl qemu-hook), on the fake kernel
printf '#!/bin/sh\nexec "%s" --sysroot "%s" --state-dir "%s" "$@"\n' "$HOSTDEVCTL_FAKE" "$F" "$ST" > "$TMP/hd-wrap"
chmod +x "$TMP/hd-wrap"
hook() { HOSTDEVCTL=$TMP/hd-wrap sh "$SRCDIR/scripts/libvirt/qemu-hook" "$@"; }
cat > "$TMP/gpu.xml" <<'XML'
<domain type='kvm'><name>single-gpu</name><devices>
  <hostdev mode='subsystem' type='pci' managed='no'>
    <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>
  </hostdev>
  <hostdev mode='subsystem' type='pci' managed='yes'>
    <source><address domain='0x0000' bus='0x08' slot='0x00' function='0x0'/></source>
  </hostdev>
</devices></domain>
XML
g0=$(driver_of 0000:01:00.0) g1=$(driver_of 0000:01:00.1)
expect_exit 0 "hook: other operations do nothing" hook single-gpu started begin - < "$TMP/gpu.xml"
[ "$(driver_of 0000:01:00.0)" = "$g0" ] && ok "hook: started left the GPU alone" || fail "hook: started left the GPU alone"
expect_exit 0 "hook: prepare begin" hook single-gpu prepare begin - < "$TMP/gpu.xml"
[ "$(driver_of 0000:01:00.0)/$(driver_of 0000:01:00.1)" = vfio-pci/vfio-pci ] \
        && ok "hook: the unmanaged GPU and its group mate are on vfio-pci" \
        || fail "hook: the unmanaged GPU and its group mate are on vfio-pci" "$(driver_of 0000:01:00.0)/$(driver_of 0000:01:00.1)"
[ "$(driver_of 0000:08:00.0)" = qla2xxx ] && ok "hook: managed hostdevs are libvirt's" || fail "hook: managed hostdevs are libvirt's"
expect_exit 0 "hook: release end" hook single-gpu release end - < "$TMP/gpu.xml"
[ "$(driver_of 0000:01:00.0)/$(driver_of 0000:01:00.1)" = "$g0/$g1" ] \
        && ok "hook: release gives both back to $g0/$g1" \
        || fail "hook: release gives both back" "$(driver_of 0000:01:00.0)/$(driver_of 0000:01:00.1)"
# host safety: the SATA controller of the root filesystem
mkdir -p "$F/proc/self"
echo "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw" > "$F/proc/self/mountinfo"
cat > "$TMP/bad.xml" <<'XML'
<domain type='kvm'><name>bad-vm</name><devices>
  <hostdev mode='subsystem' type='pci'>
    <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>
  </hostdev>
  <hostdev mode='subsystem' type='pci'>
    <source><address domain='0x0000' bus='0x00' slot='0x17' function='0x0'/></source>
  </hostdev>
</devices></domain>
XML
expect_exit 1 "hook: a host-safety refusal fails the start" hook bad-vm prepare begin - < "$TMP/bad.xml"
grep_in "$TMP/err" "hook: the reason for libvirt's error" "hostdev: domain 'bad-vm': refused to detach 0000:00:17.0: "
grep_in "$TMP/err" "hook: names the mount" "mounted on /"
[ "$(driver_of 0000:01:00.0)" = "$g0" ] && ok "hook: devices detached before the refusal went back" \
        || fail "hook: devices detached before the refusal went back" "$(driver_of 0000:01:00.0)"
[ "$(driver_of 0000:00:17.0)" = ahci ] && ok "hook: the SATA controller stayed on ahci" || fail "hook: the SATA controller stayed on ahci"
rm -f "$F/proc/self/mountinfo"
echo "<domain" | hook x prepare begin - >/dev/null 2>"$TMP/err"; [ $? -eq 1 ] && grep -q "does not parse" "$TMP/err" \
        && ok "hook: broken XML fails" || fail "hook: broken XML fails"

# --- help
for v in attach detach-device; do
        hdl $v --help | grep -q -- "--connect URI" && ok "$v --help" || fail "$v --help"
done

finish
