#!/bin/bash
# Build (and cache) the guest kernel + base initramfs for the VM test harness.
#
#   tests/vm/build-guest.sh [--udev] [--nvme-cli] [--force] [OUTDIR]
#
# OUTDIR defaults to $HOSTDEV_VM_DIR or ~/.cache/hostdev-vm/KEY. Nothing outside OUTDIR is
# touched: the Debian kernel package is fetched with `apt-get download` and
# unpacked with `dpkg -x` (never installed, /boot is left alone).
#
# Results:
#   OUTDIR/vmlinuz            the Debian 6.1 kernel
#   OUTDIR/initrd-base.cpio.gz busybox, modules, /init
#   OUTDIR/initrd-udev.cpio.gz (with --udev) systemd-udevd, udevadm, rules, hwdb
#   OUTDIR/initrd-nvme.cpio.gz (with --nvme-cli) Debian's nvme-cli + libnvme1
#   OUTDIR/disks/*.img        small disk images (ext2 for virtio-scsi, vfat for USB)
#   OUTDIR/build-info         exact package versions
#
# Exit status: 0 ok, 77 if the kernel or busybox packages cannot be obtained.
# Offline use: put the .deb files into OUTDIR/debs/ (or $HOSTDEV_VM_DEBS).
set -euo pipefail
. "$(dirname "$0")/common.sh"

WITH_UDEV=0
WITH_NVME=0
FORCE=0
OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--udev) WITH_UDEV=1 ;;
	--nvme-cli) WITH_NVME=1 ;;
	--force) FORCE=1 ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	-*) hdvm_die "unknown option $1" ;;
	*) OUT=$1 ;;
	esac
	shift
done
[ -n "$OUT" ] || OUT=$(hdvm_default_dir)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Modules the guest loads at boot (dependencies are resolved via modules.dep).
# psample: dependency of the out-of-tree netdevsim.ko (build-mtty.sh).
MODULES="vfio vfio_iommu_type1 vfio-pci pci-stub mdev
e1000e e1000 nvme nvme-core
xhci-hcd xhci-pci usb-storage uas usbhid hid-generic evdev
virtio-pci virtio-scsi virtio-blk virtio-net sd_mod sr_mod sg
bochs virtio-gpu loop psample crc32c_generic ext4 vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1"

# Bump when the layout of the base image changes (forces a rebuild).
LAYOUT_VERSION=3
STAMP_INPUT="layout=$LAYOUT_VERSION modules=$(echo $MODULES)
$(cat "$HDVM_SRC/build-guest.sh" "$HDVM_SRC/guest-init.sh" "$HDVM_SRC/common.sh" | sha256sum)"
STAMP_HASH=$(printf '%s' "$STAMP_INPUT" | sha256sum | cut -c1-16)

base_ok() {
	[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd-base.cpio.gz" ] &&
		[ -s "$OUT/disks/scsi0.img" ] && [ -s "$OUT/disks/usb0.img" ] &&
		[ "$(cat "$OUT/stamp-base" 2>/dev/null)" = "$STAMP_HASH" ]
}
udev_ok() {
	[ -s "$OUT/initrd-udev.cpio.gz" ] &&
		[ "$(cat "$OUT/stamp-udev" 2>/dev/null)" = "$STAMP_HASH" ]
}

nvme_ok() { # the layer, or a recorded failure to obtain nvme-cli
	[ "$(cat "$OUT/stamp-nvme" 2>/dev/null)" = "$STAMP_HASH" ]
}

if [ "$FORCE" = 0 ] && base_ok && { [ "$WITH_UDEV" = 0 ] || udev_ok; } &&
	{ [ "$WITH_NVME" = 0 ] || nvme_ok; }; then
	hdvm_log "guest build in $OUT is up to date ($(sed -n 's/^kernel-package=//p' "$OUT/build-info"))"
	exit 0
fi

T0=$(date +%s)
DEBS=${HOSTDEV_VM_DEBS:-$OUT/debs}
mkdir -p "$DEBS"

# --- 1. pick and download packages --------------------------------------
# fetch PKG [VERSION]: make sure DEBS holds PKG_VERSION_amd64.deb; print its path.
fetch() {
	local pkg=$1 ver=${2:-} deb
	if [ -z "$ver" ] && command -v apt-cache >/dev/null 2>&1; then
		ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p' || true)
		[ "$ver" = "(none)" ] && ver=
	fi
	# Offline: newest local .deb for this package.
	if [ -z "$ver" ]; then
		deb=$(ls -1 "$DEBS/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n1 || true)
		[ -n "$deb" ] && { printf '%s\n' "$deb"; return 0; }
		return 1
	fi
	local verfile=${ver//:/%3a}
	deb=$(ls -1 "$DEBS/${pkg}_${verfile}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		(cd "$DEBS" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1) ||
			(cd "$DEBS" && { apt-get update -qq >/dev/null 2>&1 || true; } &&
				apt-get download -q "$pkg=$ver" >/dev/null 2>&1) || true
		deb=$(ls -1 "$DEBS/${pkg}_${verfile}_"*.deb 2>/dev/null | head -n1 || true)
	fi
	[ -n "$deb" ] || {
		deb=$(ls -1 "$DEBS/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n1 || true)
		[ -n "$deb" ] || return 1
	}
	printf '%s\n' "$deb"
}

command -v dpkg >/dev/null 2>&1 || hdvm_skip "dpkg not available (needs a Debian-like host)"

KPKG=
if command -v apt-cache >/dev/null 2>&1; then
	# The linux-image-amd64 metapackage points at the current ABI package.
	KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1 || true)
fi
if [ -z "$KPKG" ]; then
	KPKG=$(ls -1 "$DEBS"/linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | sort -V | tail -n1 |
		sed 's#.*/\(linux-image-6\.1\.0-[0-9]*-amd64\)_.*#\1#' || true)
fi
[ -n "$KPKG" ] || hdvm_skip "cannot determine the Debian linux-image-6.1.0-*-amd64 package"
KDEB=$(fetch "$KPKG") || hdvm_skip "cannot download $KPKG"
BBDEB=$(fetch busybox-static) || hdvm_skip "cannot download busybox-static"
KVER=${KPKG#linux-image-}

ROOT=$OUT/root
BB=$ROOT/bin/busybox
NMOD=$(sed -n 's/^modules-in-initramfs=//p' "$OUT/build-info" 2>/dev/null || true)
build_base() {
# --- 2. unpack -------------------------------------------------------------
UNPACKED="$(basename "$KDEB") $(basename "$BBDEB")"
if [ "$(cat "$ROOT/.unpacked" 2>/dev/null)" != "$UNPACKED" ]; then
	rm -rf "$ROOT"
	mkdir -p "$ROOT"
	dpkg -x "$KDEB" "$ROOT"
	dpkg -x "$BBDEB" "$ROOT"
	echo "$UNPACKED" >"$ROOT/.unpacked"
fi
[ -x "$BB" ] || hdvm_die "busybox missing after unpacking $BBDEB"
MODDIR=$ROOT/lib/modules/$KVER
[ -d "$MODDIR" ] || hdvm_die "no $MODDIR in $KDEB"
cp "$ROOT/boot/vmlinuz-$KVER" "$OUT/vmlinuz"

# The package ships no modules.dep (postinst runs depmod); generate it.
run_depmod() { # BASEDIR
	if command -v depmod >/dev/null 2>&1; then
		depmod -b "$1" "$KVER"
	else
		"$BB" depmod -b "$1" "$KVER"
	fi
}
if ! command -v depmod >/dev/null 2>&1; then
	hdvm_apt_install kmod || true
fi
run_depmod "$ROOT"

# --- 3. module closure ------------------------------------------------------
# modules.dep lines: "kernel/a/b.ko.xz: kernel/c.ko.xz kernel/d.ko.xz"
declare -A WANT=()
declare -A DEPS=()
declare -A BYNAME=()
while IFS= read -r line; do
	mod=${line%%:*}
	deps=${line#*:}
	name=$(basename "$mod")
	name=${name%%.ko*}
	name=${name//-/_}
	BYNAME[$name]=$mod
	DEPS[$mod]=$deps
done <"$MODDIR/modules.dep"

LOADLIST=
for m in $MODULES; do
	n=${m//-/_}
	if [ -z "${BYNAME[$n]:-}" ]; then
		if grep -q "/${m}.ko\$\|/${n}.ko\$" "$MODDIR/modules.builtin"; then
			continue
		fi
		hdvm_die "module $m not found in $KVER"
	fi
	mod=${BYNAME[$n]}
	WANT[$mod]=1
	for d in ${DEPS[$mod]}; do WANT[$d]=1; done
	LOADLIST="$LOADLIST $n"
done

# --- 4. initramfs staging ---------------------------------------------------
STAGE=$OUT/stage-base
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,mnt,root,hdtest,lib/modules/"$KVER"/kernel}
cp "$BB" "$STAGE/bin/busybox"
# Applet symlinks at their canonical paths (busybox --list-full runs on the host).
"$BB" --list-full | while read -r p; do
	[ -e "$STAGE/$p" ] || [ -L "$STAGE/$p" ] || ln -s /bin/busybox "$STAGE/$p"
done
for mod in "${!WANT[@]}"; do
	dst=$STAGE/lib/modules/$KVER/$mod
	mkdir -p "$(dirname "$dst")"
	case $mod in
	*.ko.xz) xz -dc "$MODDIR/$mod" >"${dst%.xz}" ;;
	*.ko.zst) zstd -qdc "$MODDIR/$mod" >"${dst%.zst}" ;;
	*.ko.gz) gzip -dc "$MODDIR/$mod" >"${dst%.gz}" ;;
	*) cp "$MODDIR/$mod" "$dst" ;;
	esac
done
cp "$MODDIR"/modules.builtin "$MODDIR"/modules.builtin.modinfo "$MODDIR"/modules.order \
	"$STAGE/lib/modules/$KVER/"
sed -i 's/\.ko\.\(xz\|zst\|gz\)$/.ko/' "$STAGE/lib/modules/$KVER/modules.order"
run_depmod "$STAGE"
NMOD=${#WANT[@]}

cp "$HDVM_SRC/guest-init.sh" "$STAGE/init"
chmod 0755 "$STAGE/init"
echo "$LOADLIST" | tr ' ' '\n' | sed '/^$/d' >"$STAGE/etc/hdtest-modules"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$STAGE/etc/passwd"
printf 'root:x:0:\nkvm:x:78:\n' >"$STAGE/etc/group"
printf 'hdtest-guest\n' >"$STAGE/etc/hostname"
printf '%s\n' "$KVER" >"$STAGE/etc/hdtest-kernel"
hdvm_mkcpio "$STAGE" "$OUT/initrd-base.cpio.gz" "$BB"
# Keep the cache small (CI caches OUTDIR): the unpacked module tree is ~400 MB.
# busybox and the kernel config stay; a rebuild unpacks the .deb again.
if [ -z "${HOSTDEV_VM_KEEP_TREE:-}" ]; then
	rm -rf "$STAGE" "$ROOT/lib/modules" "$ROOT/usr/lib" "$ROOT/.unpacked"
fi

# --- 5. disk images ---------------------------------------------------------
mkdir -p "$OUT/disks"
rm -f "$OUT/disks/scsi0.img" "$OUT/disks/usb0.img"
truncate -s 64M "$OUT/disks/scsi0.img"
if command -v mkfs.ext2 >/dev/null 2>&1; then
	mkfs.ext2 -q -F -L HDSCSI0 "$OUT/disks/scsi0.img"
else
	"$BB" mke2fs -L HDSCSI0 "$OUT/disks/scsi0.img" >/dev/null
fi
truncate -s 16M "$OUT/disks/usb0.img"
if command -v mkfs.vfat >/dev/null 2>&1; then
	mkfs.vfat -n HDUSB0 "$OUT/disks/usb0.img" >/dev/null
else
	"$BB" mkdosfs -n HDUSB0 "$OUT/disks/usb0.img" >/dev/null
fi

}
if [ "$FORCE" = 1 ] || ! base_ok; then
	build_base
	echo "$STAMP_HASH" >"$OUT/stamp-base"
fi

# --- 6. optional udev layer -------------------------------------------------
UDEVINFO=$(grep '^udev-package=' "$OUT/build-info" 2>/dev/null || true)
if [ "$WITH_UDEV" = 1 ] && { [ "$FORCE" = 1 ] || ! udev_ok; }; then
	UDEB=$(fetch udev) || hdvm_die "cannot download udev"
	USTAGE=$OUT/stage-udev
	UROOT=$OUT/root-udev
	rm -rf "$USTAGE" "$UROOT"
	mkdir -p "$USTAGE" "$UROOT"
	dpkg -x "$UDEB" "$UROOT"
	# Debian 12 is /usr-merged but the package still uses /lib paths, and
	# /lib/systemd/systemd-udevd is an absolute link to /bin/udevadm: resolve
	# links inside the unpacked package, never through this host's /.
	for b in lib/systemd/systemd-udevd bin/udevadm; do
		f=$(hdvm_resolve_in "$UROOT" "/$b") || hdvm_die "udev package lacks /$b"
		hdvm_copy_elf "$f" "/$b" "$USTAGE" || hdvm_die "cannot copy /$b into the udev layer"
	done
	mkdir -p "$USTAGE/lib/udev" "$USTAGE/etc/udev"
	cp -a "$UROOT/lib/udev/rules.d" "$USTAGE/lib/udev/"
	for h in "$UROOT"/lib/udev/*_id "$UROOT"/lib/udev/*-helper; do
		[ -f "$h" ] && ! [ -L "$h" ] || continue
		hdvm_copy_elf "$h" "/lib/udev/$(basename "$h")" "$USTAGE" ||
			hdvm_die "cannot copy /lib/udev/$(basename "$h") into the udev layer"
	done
	# Compile the PCI/USB/input part of the hwdb on the host (same udev
	# version); the full hwdb.bin is 11 MB and slows every TCG boot.
	HW=$OUT/hwdb-root
	rm -rf "$HW"
	mkdir -p "$HW/lib/udev/hwdb.d" "$USTAGE/etc/udev"
	for h in 20-pci-vendor-model 20-pci-classes 20-usb-vendor-model 20-usb-classes \
		20-net-ifname 60-input-id 60-evdev 60-keyboard 70-mouse; do
		[ -f "$UROOT/lib/udev/hwdb.d/$h.hwdb" ] && cp "$UROOT/lib/udev/hwdb.d/$h.hwdb" "$HW/lib/udev/hwdb.d/"
	done
	if "$UROOT/bin/udevadm" hwdb --update --root="$HW" >/dev/null 2>&1 ||
		systemd-hwdb update --root="$HW" >/dev/null 2>&1; then
		cp "$HW/etc/udev/hwdb.bin" "$USTAGE/etc/udev/hwdb.bin"
	else
		hdvm_log "warning: could not precompile hwdb (ID_VENDOR_FROM_DATABASE unavailable)"
	fi
	rm -rf "$HW"
	[ -n "${HOSTDEV_VM_KEEP_TREE:-}" ] || rm -rf "$UROOT"
	# Rules referencing missing helpers just log errors; drop the noisiest.
	printf 'udev_log=err\n' >"$USTAGE/etc/udev/udev.conf"
	touch "$USTAGE/etc/hdtest-udev"
	hdvm_mkcpio "$USTAGE" "$OUT/initrd-udev.cpio.gz" "$BB"
	[ -n "${HOSTDEV_VM_KEEP_TREE:-}" ] || rm -rf "$USTAGE"
	UDEVINFO="udev-package=$(basename "$UDEB")"
	echo "$STAMP_HASH" >"$OUT/stamp-udev"
fi

# --- 7. optional nvme-cli layer (NVMe virtualization management for SR-IOV) --
NVMEINFO=$(grep '^nvme-cli-package=' "$OUT/build-info" 2>/dev/null || true)
if [ "$WITH_NVME" = 1 ] && { [ "$FORCE" = 1 ] || ! nvme_ok; }; then
	rm -f "$OUT/initrd-nvme.cpio.gz"
	NVMEINFO="nvme-cli-package=unavailable"
	if NDEB=$(fetch nvme-cli) && LDEB=$(fetch libnvme1); then
		NROOT=$OUT/root-nvme
		NSTAGE=$OUT/stage-nvme
		rm -rf "$NROOT" "$NSTAGE"
		mkdir -p "$NROOT" "$NSTAGE"
		dpkg -x "$NDEB" "$NROOT"
		dpkg -x "$LDEB" "$NROOT"
		HOSTDEV_VM_LIBRARY_PATH=$NROOT/usr/lib/x86_64-linux-gnu 			hdvm_copy_elf "$NROOT/usr/sbin/nvme" /usr/sbin/nvme "$NSTAGE"
		# Only the copies in the default search path are needed.
		rm -rf "${NSTAGE:?}$OUT"
		if LD_LIBRARY_PATH=$NROOT/usr/lib/x86_64-linux-gnu "$NROOT/usr/sbin/nvme" version >/dev/null 2>&1; then
			hdvm_mkcpio "$NSTAGE" "$OUT/initrd-nvme.cpio.gz" "$BB"
			NVMEINFO="nvme-cli-package=$(basename "$NDEB") $(basename "$LDEB")"
		else
			hdvm_log "warning: unpacked nvme-cli does not run on this host; no nvme-cli layer"
		fi
		[ -n "${HOSTDEV_VM_KEEP_TREE:-}" ] || rm -rf "$NROOT" "$NSTAGE"
	else
		hdvm_log "warning: cannot download nvme-cli/libnvme1; scenarios needing it will skip"
	fi
	echo "$STAMP_HASH" >"$OUT/stamp-nvme"
fi

T1=$(date +%s)
{
	echo "kernel-package=$KPKG"
	echo "kernel-deb=$(basename "$KDEB")"
	echo "kernel-version=$KVER"
	echo "busybox-deb=$(basename "$BBDEB")"
	[ -n "$UDEVINFO" ] && echo "$UDEVINFO"
	[ -n "$NVMEINFO" ] && echo "$NVMEINFO"
	echo "modules-in-initramfs=$NMOD"
	echo "build-seconds=$((T1 - T0))"
} >"$OUT/build-info"
hdvm_log "built guest ($KPKG, $NMOD modules) in $((T1 - T0))s -> $OUT"
