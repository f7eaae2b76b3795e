#!/bin/bash
# Run "hostdevctl capture" inside the guest (real 6.1 kernel sysfs, udev
# database) and bring the result back as a tarball usable with
# "hostdevctl --sysroot" (e.g. as a test fixture).
#
#   tests/vm/capture-sysroot.sh OUT.tar.gz [--with-vfs] [--vfio]
#
#   --with-vfs  enable 2 NVMe VFs before capturing
#   --vfio      bind the first e1000e to vfio-pci before capturing
# Uses $HOSTDEVCTL or build/tools/hostdevctl and the cache of run-tests.sh.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ $# -ge 1 ] || hdvm_die "usage: $0 OUT.tar.gz [--with-vfs] [--vfio]"
DEST=$1; shift
VFS=0 VFIO=0
for a in "$@"; do
	case $a in
	--with-vfs) VFS=1 ;;
	--vfio) VFIO=1 ;;
	*) hdvm_die "unknown option $a" ;;
	esac
done
BIN=${HOSTDEVCTL:-$HDVM_REPO/build/tools/hostdevctl}
[ -x "$BIN" ] || hdvm_die "no hostdevctl at $BIN (set HOSTDEVCTL)"
OUT=$(hdvm_default_dir)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/capture.sh" <<EOS
#!/bin/sh
# hdtest: udev timeout=400
. /hdtest/lib.sh
PCI=/sys/bus/pci/devices
if [ $VFS = 1 ]; then
	P=\$(for b in \$(pci_devs 1b36:0010); do [ -e \$PCI/\$b/sriov_totalvfs ] && echo \$b; done | head -n1)
	echo 0 >\$PCI/\$P/sriov_drivers_autoprobe
	echo 2 >\$PCI/\$P/sriov_numvfs
	udevadm settle
fi
if [ $VFIO = 1 ]; then
	N=\$(pci_devs 8086:10d3 | head -n1)
	echo vfio-pci >\$PCI/\$N/driver_override
	echo \$N >\$PCI/\$N/driver/unbind
	echo \$N >/sys/bus/pci/drivers_probe
	udevadm settle
fi
check capture hostdevctl capture /tmp/sysroot
check capture-replay sh -c 'hostdevctl --sysroot /tmp/sysroot nodedev-list | grep -q ^pci_'
tar czf /tmp/sysroot.tar.gz -C /tmp sysroot && export_file /tmp/sysroot.tar.gz sysroot.tar.gz
check tarball test -s /tmp/sysroot.tar.gz
done_tests
EOS
"$HDVM_SRC/run-guest.sh" --build-dir "$OUT" --binary "$BIN" --export-dir "$T/x" "$T/capture.sh"
[ -s "$T/x/sysroot.tar.gz" ] || hdvm_die "guest did not export the capture"
gzip -t "$T/x/sysroot.tar.gz" || hdvm_die "exported tarball is corrupt"
cp "$T/x/sysroot.tar.gz" "$DEST"
hdvm_log "wrote $DEST ($(wc -c <"$DEST") bytes; extract and use hostdevctl --sysroot DIR/sysroot)"
