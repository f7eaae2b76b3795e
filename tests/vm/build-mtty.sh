#!/bin/bash
# Build the kernel modules Debian's 6.1 kernel does not ship, out of tree, on
# the host, for the exact guest kernel:
#
#   tests/vm/build-mtty.sh [--force] [OUTDIR]
#
#   mtty.ko       samples/vfio-mdev/mtty.c (CONFIG_SAMPLES is off in Debian):
#                 the mdev parent "mtty" with types mtty-1 / mtty-2
#   netdevsim.ko  drivers/net/netdevsim/ (CONFIG_NETDEVSIM is off in Debian):
#                 a netdev with VFs for the rtnetlink VF path (needs psample)
#
# OUTDIR is the VM build dir (default $HOSTDEV_VM_DIR or ~/.cache/hostdev-vm/KEY); the guest
# must have been built (OUTDIR/build-info names the kernel package). Results:
#
#   OUTDIR/extmod/mtty.ko, OUTDIR/extmod/netdevsim.ko
#   OUTDIR/extmod/build-info        versions, compiler, seconds
#   OUTDIR/extmod/mtty.unavailable  (instead of mtty.ko) one line: why not
#   OUTDIR/extmod/netdevsim.unavailable  likewise
#
# How: apt-get download linux-headers-KVER, linux-headers-KVER-common
# (KVER without -amd64), linux-kbuild-6.1 and linux-source-6.1, all at the
# version of the guest's linux-image package (never "close enough": a
# different ABI gives a module the guest refuses), dpkg -x them into a
# private root, point the -amd64 headers' Makefile (which includes the
# -common Makefile by absolute path) at the private copy (the scripts/ and
# tools/ links are relative), extract only the needed sources from
# linux-source's tarball and run "make -C HEADERS M=DIR modules" with gcc-12
# (the compiler Debian built the kernel with, CONFIG_CC_VERSION_TEXT).
# The downloads (~155 MB, mostly linux-source) and the unpacked tree are
# deleted afterwards; the cache keeps only the .ko files (~1.5 MB).
# A failure is cached too (same stamp), so every run does not retry it;
# --force retries.
#
# Exit: 0 (also when a module is unavailable: see *.unavailable), 1 on
# harness errors (no guest build).
set -euo pipefail
. "$(dirname "$0")/common.sh"

FORCE=0
OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--force) FORCE=1 ;;
	-h | --help) sed -n '2,35p' "$0"; exit 0 ;;
	-*) hdvm_die "unknown option $1" ;;
	*) OUT=$1 ;;
	esac
	shift
done
[ -n "$OUT" ] || OUT=$(hdvm_default_dir)
OUT=$(cd "$OUT" && pwd)
INFO=$OUT/build-info
[ -s "$INFO" ] || hdvm_die "no $INFO: run build-guest.sh first"
KVER=$(sed -n 's/^kernel-version=//p' "$INFO")
KDEB=$(sed -n 's/^kernel-deb=//p' "$INFO")
[ -n "$KVER" ] && [ -n "$KDEB" ] || hdvm_die "$INFO lacks kernel-version/kernel-deb"
# linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb -> 6.1.192-2 (%3a = ':')
PKGVER=$(printf '%s\n' "$KDEB" | cut -d_ -f2 | sed 's/%3a/:/g')
KMAJ=$(printf '%s\n' "$KVER" | cut -d. -f1,2)     # 6.1
KABI=${KVER%-amd64}                                 # 6.1.0-56

X=$OUT/extmod
STAMP="$(sha256sum <"$HDVM_SRC/build-mtty.sh" | cut -c1-16) $KDEB"
if [ "$FORCE" = 0 ] && [ "$(cat "$X/stamp" 2>/dev/null)" = "$STAMP" ]; then
	hdvm_log "out-of-tree modules for $KVER are cached in $X ($(cd "$X" && ls *.ko *.unavailable 2>/dev/null | tr '\n' ' '))"
	exit 0
fi

T0=$(date +%s)
rm -rf "$X"
mkdir -p "$X"
W=$X/work
mkdir -p "$W/debs" "$W/root"
# unavailable REASON: every module fails with the same reason.
unavailable() {
	local m
	for m in mtty netdevsim; do
		[ -e "$X/$m.ko" ] || [ -e "$X/$m.unavailable" ] || printf '%s\n' "$*" >"$X/$m.unavailable"
	done
	hdvm_log "out-of-tree modules unavailable: $*"
	finish
}
finish() {
	[ -n "${HOSTDEV_VM_KEEP_TREE:-}" ] || rm -rf "$W"
	{
		echo "kernel-version=$KVER"
		echo "package-version=$PKGVER"
		echo "compiler=${CCVER:-none}"
		echo "build-seconds=$(($(date +%s) - T0))"
		for m in mtty netdevsim; do
			if [ -e "$X/$m.ko" ]; then echo "$m=built"; else echo "$m=unavailable: $(cat "$X/$m.unavailable")"; fi
		done
	} >"$X/build-info"
	echo "$STAMP" >"$X/stamp"
	exit 0
}

command -v dpkg >/dev/null 2>&1 || unavailable "no dpkg on the host"
command -v make >/dev/null 2>&1 || hdvm_apt_install make || true
command -v make >/dev/null 2>&1 || unavailable "no make on the host (apt-get install make)"
command -v gcc-12 >/dev/null 2>&1 || hdvm_apt_install gcc-12 || true
command -v gcc-12 >/dev/null 2>&1 || unavailable "no gcc-12 on the host (the guest kernel was built with gcc-12; apt-get install gcc-12)"

# get PKG: the .deb of PKG at exactly $PKGVER, from $HOSTDEV_VM_DEBS or apt.
get() {
	local pkg=$1 f d
	f="${pkg}_${PKGVER//:/%3a}_"
	for d in ${HOSTDEV_VM_DEBS:-} "$W/debs"; do
		ls "$d/$f"*.deb >/dev/null 2>&1 && { ls "$d/$f"*.deb | head -n1; return 0; }
	done
	command -v apt-get >/dev/null 2>&1 || return 1
	(cd "$W/debs" && apt-get download -q "$pkg=$PKGVER" >/dev/null 2>&1) ||
		(cd "$W/debs" && { apt-get update -qq >/dev/null 2>&1 || true; } &&
			apt-get download -q "$pkg=$PKGVER" >/dev/null 2>&1) || return 1
	ls "$W/debs/$f"*.deb 2>/dev/null | head -n1
}
for p in "linux-headers-$KVER" "linux-headers-$KABI-common" "linux-kbuild-$KMAJ" "linux-source-$KMAJ"; do
	deb=$(get "$p") || unavailable "cannot download $p=$PKGVER (must match the guest's linux-image exactly)"
	[ "$p" = "linux-source-$KMAJ" ] && { SRCDEB=$deb; continue; }
	dpkg -x "$deb" "$W/root" || unavailable "dpkg -x $(basename "$deb") failed"
done

H=$W/root/usr/src/linux-headers-$KVER
[ -f "$H/Makefile" ] && [ -f "$H/.config" ] || unavailable "linux-headers-$KVER has no Makefile/.config"
# "include /usr/src/linux-headers-6.1.0-56-common/Makefile" -> private copy.
sed -i "s#^include /usr/src/#include $W/root/usr/src/#" "$H/Makefile"
[ -e "$H/scripts/Makefile.build" ] || unavailable "headers' scripts/ link does not resolve into linux-kbuild-$KMAJ"
CCVER=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"/\1/p' "$H/.config")
case $CCVER in
gcc-12*) ;;
*) unavailable "kernel built with '$CCVER', this script knows gcc-12 only" ;;
esac
HOSTCC=$(gcc-12 --version | head -n1)
[ "${CCVER#gcc-12 }" = "${HOSTCC#gcc-12 }" ] ||
	hdvm_log "note: kernel built with '$CCVER', host has '$HOSTCC' (same major version, fine for modules)"

# Only the needed sources: stream the tarball once.
SRCS="linux-source-$KMAJ/samples/vfio-mdev/mtty.c linux-source-$KMAJ/drivers/net/netdevsim"
mkdir -p "$W/src"
if ! dpkg --fsys-tarfile "$SRCDEB" | tar -xO "./usr/src/linux-source-$KMAJ.tar.xz" |
	xz -dc | tar -x -C "$W/src" $SRCS 2>"$W/tar.err"; then
	[ -f "$W/src/linux-source-$KMAJ/samples/vfio-mdev/mtty.c" ] ||
		unavailable "cannot extract samples/vfio-mdev/mtty.c from linux-source-$KMAJ: $(head -c 200 "$W/tar.err")"
fi
rm -f "$SRCDEB"
S=$W/src/linux-source-$KMAJ

# build NAME DIR MAKEARGS...: make the module, keep NAME.ko or the reason.
build() {
	local name=$1 dir=$2
	shift 2
	if [ ! -d "$dir" ]; then
		echo "source $dir missing in linux-source-$KMAJ" >"$X/$name.unavailable"
		return
	fi
	if make -C "$H" M="$dir" CC=gcc-12 "$@" modules >"$X/$name.build.log" 2>&1 &&
		[ -f "$dir/$name.ko" ]; then
		# Debug info makes netdevsim.ko 5.5 MB; the initrd stays small without.
		strip --strip-debug -o "$X/$name.ko" "$dir/$name.ko" 2>/dev/null ||
			cp "$dir/$name.ko" "$X/$name.ko"
		rm -f "$X/$name.build.log"
	else
		echo "build failed: $(grep -m1 -i 'error' "$X/$name.build.log" | head -c 200) (log $X/$name.build.log)" >"$X/$name.unavailable"
	fi
}
echo 'obj-m := mtty.o' >"$S/samples/vfio-mdev/Kbuild"
build mtty "$S/samples/vfio-mdev" -j2 &
build netdevsim "$S/drivers/net/netdevsim" CONFIG_NETDEVSIM=m -j2
wait
hdvm_log "out-of-tree modules for $KVER: $(cd "$X" && ls *.ko *.unavailable 2>/dev/null | tr '\n' ' ')in $(($(date +%s) - T0))s"
finish
