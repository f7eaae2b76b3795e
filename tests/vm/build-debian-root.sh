#!/usr/bin/env bash
# The "debian-root" guest flavour: a Debian 12 root on an ext4 disk image,
# with the same Debian kernel package as the busybox guest, initramfs-tools,
# udev and GRUB's configuration tools (grub-mkconfig, update-grub).  Built
# without root privileges: mmdebstrap --mode=unshare writes a tarball, and
# mkfs.ext4 -d turns it into the image.  Cached outside the clone in
# ~/.cache/hostdev-vm/debian-KEY (KEY: this script's content).
#
#   tests/vm/build-debian-root.sh [OUTDIR]   → OUTDIR/root.img, OUTDIR/kver
#   tests/vm/build-debian-root.sh --libvirt [OUTDIR]
#       the same root plus libvirt's daemon (libvirtd, the QEMU driver),
#       virsh and qemu-system-x86, without recommends (about 250 MB more);
#       default OUTDIR: the cache folder's libvirt/ (one cache folder for
#       both, so that the pruning of old caches keeps them together)
#
# Exit 77 when it cannot be built here (no mmdebstrap, no user namespaces,
# no mirror).
set -euo pipefail
. "$(dirname "$0")/common.sh"

variant=
[ "${1:-}" != --libvirt ] || { variant=libvirt; shift; }
key=$(sha256sum "$0" | cut -c1-16)
OUT=${1:-${HOSTDEV_VM_DEBIAN_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hostdev-vm/debian-$key}${variant:+/$variant}}
if [ -s "$OUT/root.img" ] && [ -s "$OUT/kver" ]; then
	printf '%s\n' "$OUT"
	exit 0
fi
command -v mmdebstrap >/dev/null || hdvm_apt_install mmdebstrap uidmap || hdvm_skip "mmdebstrap is not installed"
command -v mkfs.ext4 >/dev/null || hdvm_skip "mkfs.ext4 (e2fsprogs) is not installed"

KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1 || true)
[ -n "$KPKG" ] || hdvm_skip "cannot determine the Debian linux-image-6.1.0-*-amd64 package"
KVER=${KPKG#linux-image-}
MIRROR=$(sed -n 's/^URIs: *\([^ ]*\/debian\)\/\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
[ -n "$MIRROR" ] || MIRROR=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\/debian\)\/\? bookworm .*/\2/p' \
	/etc/apt/sources.list 2>/dev/null | head -n1)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

mkdir -p "$OUT"
tmp=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The guest's /sbin/init for the test: no systemd, udev started by hand, the
# payload disk (/dev/vdb: hostdevctl and the step script) run, power off.
cat > "$tmp/hdtest-init" <<'INIT'
#!/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
# the essential variant has no util-linux mount: busybox's
command -v mount >/dev/null || { mount() { busybox mount "$@"; }; umount() { busybox umount "$@"; }; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /tmp && mount -t devpts devpts /dev/pts
mount -o remount,rw /
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add
udevadm settle --timeout=600
mkdir -p /hdtest && mount -o ro /dev/vdb /hdtest
echo "HDTEST: BEGIN"
sh /hdtest/step.sh 2>&1
echo "HDTEST: DONE"
sync
umount /hdtest
mount -o remount,ro /
echo o > /proc/sysrq-trigger
sleep 30
INIT

extra=() include=
if [ "$variant" = libvirt ]; then
	# the configuration (qemu.conf, libvirtd.conf for a root-only guest) is
	# written by the boot's step script: tests/vm/debian-root/libvirt.sh
	include=,libvirt-daemon,libvirt-daemon-driver-qemu,libvirt-clients,qemu-system-x86
	extra=(--aptopt='APT::Install-Recommends "false"')
fi

if [ ! -s "$OUT/root.tar" ]; then
mmdebstrap --mode=unshare --variant=essential --format=tar \
	--include="$KPKG,initramfs-tools,udev,kmod,grub-common,grub2-common,grub-pc-bin,libpci3,libjson-c5,libxml2,libsmartcols1,libdrm2,libvirt0,busybox,zstd$include" \
	"${extra[@]}" \
	--customize-hook='mkdir -p "$1/usr/local/sbin" "$1/boot/grub" "$1/etc/default"' \
	--customize-hook="upload $tmp/hdtest-init /usr/local/sbin/hdtest-init" \
	--customize-hook='chmod 0755 "$1/usr/local/sbin/hdtest-init"' \
	--customize-hook='cp "$1/usr/share/grub/default/grub" "$1/etc/default/grub"' \
	--customize-hook='sed -i "s|^GRUB_CMDLINE_LINUX=.*|GRUB_CMDLINE_LINUX=\"console=ttyS0 init=/usr/local/sbin/hdtest-init panic=-1 no_timer_check\"|; s|^GRUB_CMDLINE_LINUX_DEFAULT=.*|GRUB_CMDLINE_LINUX_DEFAULT=\"\"|" "$1/etc/default/grub"' \
	--customize-hook='echo "/dev/vda / ext4 rw 0 1" > "$1/etc/fstab"; echo hdguest > "$1/etc/hostname"' \
	--customize-hook='sed -i "s/^MODULES=.*/MODULES=dep/" "$1/etc/initramfs-tools/initramfs.conf"' \
	--customize-hook='rm -rf "$1/var/cache/apt/archives"/*.deb "$1/usr/share/doc" "$1/usr/share/man" "$1/usr/share/locale"' \
	bookworm "$tmp/root.tar" "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" \
	"deb ${MIRROR%/debian}/debian-security bookworm-security main" >"$tmp/mmdebstrap.log" 2>&1 ||
	{ tail -20 "$tmp/mmdebstrap.log" >&2; hdvm_skip "mmdebstrap failed (see above)"; }
mv "$tmp/root.tar" "$OUT/root.tar"
fi
# mkfs.ext4 -d takes a directory (a tarball only from e2fsprogs 1.47.1): unpack
# it in a user namespace where the tarball's owners exist, so that the image
# records them (root:root, not this user).
truncate -s 2G "$tmp/root.img"
ns=(unshare --map-root-user --map-auto)
[ "$(id -u)" = 0 ] && ns=()   # root needs no namespace to own files as root
"${ns[@]}" sh -c '
	mkdir "$1/root" && tar -C "$1/root" --numeric-owner -xpf "$2" &&
	mkfs.ext4 -q -F -L hdroot -d "$1/root" "$1/root.img"' _ "$tmp" "$OUT/root.tar" ||
	hdvm_die "mkfs.ext4 -d failed"
rm -f "$OUT/root.tar"
mv "$tmp/root.img" "$OUT/root.img"
printf '%s\n' "$KVER" > "$OUT/kver"
printf '%s\n' "$OUT"
