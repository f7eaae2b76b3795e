#!/usr/bin/env bash
# Domain device XML (hd_device_format_hostdev_xml) of fixture devices:
# golden files, libvirt domain.rng validation, refusals (bridges, devices
# that cannot be assigned), and every device of every fixture case either
# validates or fails cleanly.
#
# TEST_HOSTDEV_XML: the driver executable (tests/test-hostdev-xml.c; set by
# tests/meson.build).  HOSTDEV_XML_UPDATE_GOLDEN=1 rewrites the golden files.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

: "${TEST_HOSTDEV_XML:=${BUILDDIR:-$SRCDIR/build}/tests/test-hostdev-xml}"
: "${DOMAIN_RNG:=/usr/share/libvirt/schemas/domain.rng}"
G=$GOLDEN/hostdev-xml
[ -x "$TEST_HOSTDEV_XML" ] || skip_all "driver $TEST_HOSTDEV_XML not built"

build_fixtures full minimal broken hostile
F=$TMP/fx/full

hx() { "$TEST_HOSTDEV_XML" "$@"; }

have_rng=0
if [ -f "$DOMAIN_RNG" ] && command -v xmllint >/dev/null; then
        have_rng=1
fi

# validate FILE: wrap a device snippet in a minimal domain, check domain.rng
validate() {
        {
                echo "<domain type='kvm'><name>t</name><memory>1048576</memory><os><type>hvm</type></os><devices>"
                cat "$1"
                echo "</devices></domain>"
        } > "$1.domain.xml"
        xmllint --noout --relaxng "$DOMAIN_RNG" "$1.domain.xml" 2>&1
}

# golden NAME GOLDEN-BASENAME [FLAGS...]
golden() {
        local name=$1 gold=$2; shift 2
        local out=$TMP/$gold.$RANDOM.xml
        if ! hx --sysroot "$F" "$name" "$@" > "$out" 2> "$TMP/err"; then
                fail "$gold: $name${*:+ $*}" "$(cat "$TMP/err")"
                return
        fi
        if [ "${HOSTDEV_XML_UPDATE_GOLDEN:-0}" = 1 ]; then
                mkdir -p "$G"
                cp "$out" "$G/$gold.xml"
        fi
        if diff -u "$G/$gold.xml" "$out" > "$TMP/d" 2>&1; then
                ok "$gold: $name${*:+ $*} matches golden"
        else
                fail "$gold: $name${*:+ $*} matches golden" "$(head -20 "$TMP/d" | tr '\n' ' ')"
        fi
        if [ $have_rng = 1 ]; then
                check "$gold: $name${*:+ $*} validates against domain.rng" validate "$out"
        else
                skip "$gold: $name${*:+ $*} validates against domain.rng" "no $DOMAIN_RNG or xmllint"
        fi
}

# refuse NAME ERRNO-NAME [FLAGS...]: exit 1, no output, one error line
refuse() {
        local name=$1 err=$2; shift 2
        hx --sysroot "$F" "$name" "$@" > "$TMP/out" 2> "$TMP/err"
        local rc=$?
        if [ $rc != 1 ]; then
                fail "$name${*:+ $*}: refused with $err" "exit $rc: $(head -3 "$TMP/err" | tr '\n' ' ')"
        elif [ -s "$TMP/out" ]; then
                fail "$name${*:+ $*}: refused with $err" "wrote output"
        elif [ "$(wc -l < "$TMP/err")" != 1 ] || ! grep -q "($err)\$" "$TMP/err"; then
                fail "$name${*:+ $*}: refused with $err" "$(tr '\n' '|' < "$TMP/err")"
        else
                ok "$name${*:+ $*}: refused with $err"
        fi
}

# --- PCI: plain NIC, SR-IOV PF, GPU, VF without a netdev
golden 0000:00:1f.6 pci-nic
golden 0000:00:1f.6 pci-nic --managed
golden 0000:00:1f.6 pci-nic-unmanaged --unmanaged
golden pci_0000_02_00_0 pci-sriov-pf
golden 0000:01:00.0 pci-gpu
golden 0000:02:10.2 pci-sriov-vf-no-netdev
# --- SR-IOV VF with a netdev, by the VF and by its network interface
golden 0000:02:10.0 sriov-vf-interface
golden enp2s16 sriov-vf-interface
golden /sys/class/net/enp2s16 sriov-vf-interface
golden 0000:02:10.0 sriov-vf-interface-unmanaged --unmanaged
# --- USB device, by ids and also by address
golden usb_1_1_2 usb
golden usb_1_1_2 usb-by-address --by-address
golden usb_1_1_2 usb-unmanaged --unmanaged
# --- SCSI devices: the SATA disk, the USB stick's disk
golden scsi_0_0_0_0 scsi-disk
golden scsi_6_0_0_0 scsi-usb-disk
# --- mdev instances: GVT-g on the iGPU, mtty
golden 4b20d080-1b54-4048-85b3-a6a62d165c01 mdev-gvtg
golden 3627463d-b7f0-4fea-b468-f1da537d301b mdev-mtty

# --- refusals
refuse 0000:00:1c.0 EINVAL                 # PCIe root port (header type 1)
refuse 0000:00:1e.0 EINVAL                 # subtractive-decode PCI bridge (0x060401)
refuse 0000:06:00.0 EINVAL                 # CardBus bridge (header type 2)
refuse computer EOPNOTSUPP
refuse enp2s0 EOPNOTSUPP                   # netdev of a PF, not of a VF
refuse eno1 EOPNOTSUPP
refuse usb_1_1_2_1_0 EOPNOTSUPP            # USB interface
refuse usb_usb1 EPERM                      # USB 2.0 root hub: the controller's own device
refuse usb_usb2 EPERM                      # USB 3.0 root hub
refuse scsi_host0 EOPNOTSUPP
refuse scsi_target0_0_0 EOPNOTSUPP
refuse scsi_generic_sg0 EOPNOTSUPP
refuse drm_card0 EOPNOTSUPP
refuse vdpa_vdpa0 EOPNOTSUPP
refuse 0000:00:1f.6 EINVAL --managed --unmanaged
refuse pci_0000_ff_00_0 ENODEV             # the driver's lookup, for completeness

# --- the validator does reject a wrong snippet (so the checks above mean something)
if [ $have_rng = 1 ]; then
        printf "<hostdev mode='subsystem' type='pci' managed='maybe'><source/></hostdev>\n" > "$TMP/bad.xml"
        if validate "$TMP/bad.xml" >/dev/null; then fail "domain.rng rejects a malformed hostdev"
        else ok "domain.rng rejects a malformed hostdev"; fi
else
        skip "domain.rng rejects a malformed hostdev" "no $DOMAIN_RNG or xmllint"
fi

# --- every device of every fixture case: valid XML, or exit 1 with one line
for c in full minimal broken hostile; do
        root=$TMP/fx/$c
        hd --sysroot "$root" nodedev-list > "$TMP/$c.names" 2>/dev/null
        [ -s "$TMP/$c.names" ] || { fail "$c: device list"; continue; }
        bad=0 n_ok=0 n_refused=0
        mkdir -p "$TMP/all.$c"
        while read -r n; do
                for fl in "" --by-address --unmanaged; do
                        o=$TMP/all.$c/$n$fl.xml
                        hx --sysroot "$root" "$n" $fl > "$o" 2> "$TMP/err"
                        rc=$?
                        if [ $rc = 0 ]; then
                                n_ok=$((n_ok + 1))
                                if [ $have_rng = 1 ] && ! out=$(validate "$o"); then
                                        bad=1; diag "$c $n $fl: $out"
                                fi
                        elif [ $rc = 1 ] && [ ! -s "$o" ] && [ "$(wc -l < "$TMP/err")" = 1 ]; then
                                n_refused=$((n_refused + 1))
                        else
                                bad=1; diag "$c $n $fl: exit $rc: $(tr '\n' '|' < "$TMP/err")"
                        fi
                done
        done < "$TMP/$c.names"
        [ $bad = 0 ] && ok "$c: every device gives valid XML or a clean refusal ($n_ok valid, $n_refused refused)" \
                     || fail "$c: every device gives valid XML or a clean refusal"
done

finish
