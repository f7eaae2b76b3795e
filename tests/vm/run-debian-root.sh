#!/usr/bin/env bash
# Boot-time passthrough across real reboots, on the "debian-root" flavour
# (tests/vm/build-debian-root.sh): a Debian 12 root on a disk image with the
# Debian kernel, initramfs-tools, udev and GRUB's configuration tools.
#
#   boot 1  (root=/dev/vda, intel_iommu=off intremap=off): doctor fails the
#           IOMMU checks;
#           hostdevctl boot apply 01:00.0 runs the real update-initramfs and
#           update-grub.
#   boot 2  with the initramfs and the kernel command line that boot 1
#           generated (the linux line of the image's /boot/grub/grub.cfg):
#           01:00.0 is on vfio-pci and e1000e never probed it; the identical
#           02:00.0 is on e1000e; boot status says active; doctor passes the
#           IOMMU checks; boot undo.
#   boot 3  with the regenerated files again: the original state.  Then a
#           driverctl-format override for 01:00.0 (/etc/driverctl.d).
#   boot 4  01:00.0 is on vfio-pci through the override, 02:00.0 on e1000e.
#
# run-debian-root.sh --libvirt (meson test vm-debian-libvirt): one boot of the
# image with libvirt's daemon and qemu-system-x86 (build-debian-root.sh
# --libvirt), intel_iommu=on, and for this boot only a pcie-pci-bridge with two
# e1000 (03:01.0, 03:02.0: one IOMMU group): debian-root/libvirt.sh attaches
# 01:00.0 to a TCG domain and runs hostdev's qemu hook (docs/libvirt.md), and
# watches hostdevd's InUse follow libvirt's domain events.
#
# QEMU loads the kernel and initramfs directly: they are read out of the
# image with debugfs after each boot.  Prints PASS/FAIL lines and
# "vm-debian-root: N passed, N failed"; exit 0, 1, or 77 (cannot run here).
set -uo pipefail
. "$(dirname "$0")/common.sh"
MODE=root
[ "${1:-}" != --libvirt ] || MODE=libvirt
HERE=$HDVM_SRC
HOSTDEVCTL=${HOSTDEVCTL:-$HDVM_REPO/build/tools/hostdevctl}
[ -x "$HOSTDEVCTL" ] || hdvm_skip "no hostdevctl binary ($HOSTDEVCTL)"
hdvm_ensure_qemu || hdvm_skip "qemu-system-x86_64 is not available"
command -v debugfs >/dev/null || hdvm_skip "debugfs (e2fsprogs) is not installed"
# KVM unless told otherwise or the busybox guest's probe found it unusable
# (run-guest.sh caches its verdict in the guest cache's "accel")
accel=${HOSTDEV_VM_ACCEL:-}
[ -n "$accel" ] || accel=$(head -n1 "$(hdvm_default_dir)/accel" 2>/dev/null || true)
if [ -z "$accel" ]; then
	# no verdict yet (a fresh machine): a /dev/kvm that exists may still hang
	# or abort a stock kernel, so run the busybox guest's probe, which caches it
	"$HERE/run-guest.sh" --build-dir "$(hdvm_default_dir)" --probe-accel >&2 ||
		hdvm_log "the KVM probe failed; using TCG"
	accel=$(head -n1 "$(hdvm_default_dir)/accel" 2>/dev/null || true)
	[ -n "$accel" ] || accel=tcg
fi
if [ "$accel" = kvm ]; then ACCEL=(-accel kvm -cpu host); else ACCEL=(-accel tcg -cpu max); fi
# Under TCG the four boots (two of them regenerate the initramfs) take about
# 8 minutes on a loaded 2-core machine; HOSTDEV_VM_DEBIAN_ROOT=0 leaves them out.
[ "${HOSTDEV_VM_DEBIAN_ROOT:-1}" != 0 ] ||
	hdvm_skip "HOSTDEV_VM_DEBIAN_ROOT=0: the debian-root boots were not asked for"
# the libvirt boot: about 6 minutes under TCG (docs/testing.md)
[ "$MODE" = root ] || [ "${HOSTDEV_VM_DEBIAN_LIBVIRT:-1}" != 0 ] ||
	hdvm_skip "HOSTDEV_VM_DEBIAN_LIBVIRT=0: the debian-root libvirt boot was not asked for"
if [ "$MODE" = libvirt ]; then DIR=$("$HERE/build-debian-root.sh" --libvirt) || exit $?
else DIR=$("$HERE/build-debian-root.sh") || exit $?; fi
KVER=$(cat "$DIR/kver")
W=$(mktemp -d "${TMPDIR:-/tmp}/hostdev-debian-root.XXXXXX")
[ -n "${HOSTDEV_VM_KEEP_TREE:-}" ] || trap 'rm -rf "$W"' EXIT
cp --sparse=always "$DIR/root.img" "$W/root.img"
# one boot takes one to two minutes here under TCG: 900 s is room for a loaded machine
TIMEOUT=${HOSTDEV_VM_TIMEOUT:-900}
npass=0 nfail=0

extract() { # PATH-IN-IMAGE DEST
	rm -f "$2"
	debugfs -R "dump -p $1 $2" "$W/root.img" >/dev/null 2>&1 && [ -s "$2" ]
}

# the linux line of the first menu entry of the image's grub.cfg, without the kernel path
grub_cmdline() {
	extract /boot/grub/grub.cfg "$W/grub.cfg" || return 1
	awk '/^[ \t]*linux[ \t]/ { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$W/grub.cfg"
}

# payload_daemon DIR: for the libvirt boot's hostdevd checks (debian-root/
# libvirt.sh, part 3), hostdevd of this build and the host's dbus-daemon,
# dbus-send and dbus-monitor, the libraries the image lacks in DIR/lib (the
# image is the host's Debian release), the guest's bus configuration and
# hostdevd's bus policy; nothing when hostdevd was not built (the checks skip)
payload_daemon() {
	local p=$1 hdd=${HOSTDEVD:-$(dirname "$(dirname "$HOSTDEVCTL")")/daemon/hostdevd} b bin lib
	[ -x "$hdd" ] || return 0
	for b in dbus-daemon dbus-send dbus-monitor; do command -v $b >/dev/null || return 0; done
	mkdir -p "$p/lib"
	cp "$hdd" "$p/hostdevd"
	for b in "$hdd" dbus-daemon dbus-send dbus-monitor; do
		bin=$b
		case $b in */*) ;; *) bin=$(command -v "$b"); cp -L "$bin" "$p/$b" ;; esac
		for lib in $(ldd "$bin" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p'); do
			case ${lib##*/} in libhostdev.so.*) continue ;; esac
			[ -e "$p/lib/${lib##*/}" ] && continue
			# the image's own (glibc, libxml2 and its ICU, ...) stay
			debugfs -R "stat /usr/lib/x86_64-linux-gnu/${lib##*/}" "$W/root.img" 2>/dev/null | grep -q '^Inode:' ||
				cp -L "$lib" "$p/lib/"
		done
	done
	cp "$HERE/dbus-system.conf" "$p/dbus-system.conf"
	cp "$HDVM_REPO/daemon/data/org.hostdev.Hostdev1.conf" "$p/"
}

boot() { # N|NAME CMDLINE [QEMU-ARGS...]: step debian-root/bootN.sh or NAME.sh
	local n=$1 cmdline=$2 p step
	shift 2
	case $n in [0-9]*) step=boot$n ;; *) step=$n ;; esac
	p=$W/payload$n
	rm -rf "$p"; mkdir -p "$p"
	cp "$HOSTDEVCTL" "$p/hostdevctl"
	cp -L "$(dirname "$HOSTDEVCTL")"/../libhostdev.so.0 "$p/" 2>/dev/null ||
		cp -L "$(ldd "$HOSTDEVCTL" | awk '/libhostdev/ { print $3 }')" "$p/libhostdev.so.0"
	cp "$HERE/debian-root/lib.sh" "$p/lib.sh"
	cp "$HERE/debian-root/$step.sh" "$p/step.sh"
	[ "$MODE" = root ] || cp "$HDVM_REPO/scripts/libvirt/qemu-hook" "$p/qemu-hook"
	[ "$MODE" = root ] || payload_daemon "$p"
	truncate -s 32M "$W/payload$n.img"
	mkfs.ext4 -q -F -d "$p" "$W/payload$n.img" || return 1
	extract "/boot/vmlinuz-$KVER" "$W/vmlinuz" || { echo "FAIL boot $n: no /boot/vmlinuz-$KVER in the image"; return 1; }
	extract "/boot/initrd.img-$KVER" "$W/initrd" || { echo "FAIL boot $n: no /boot/initrd.img-$KVER in the image"; return 1; }
	echo "vm-debian-root: boot $n: $cmdline" >&2
	timeout "$TIMEOUT" "${HOSTDEV_VM_QEMU:-qemu-system-x86_64}" "${ACCEL[@]}" \
		-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on \
		-m 1024 -smp 2 -nodefaults -display none -no-reboot \
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x4 \
		-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x5 \
		-netdev hubport,id=net0,hubid=0 -device e1000e,id=nic0,netdev=net0,bus=rp1,mac=52:54:00:4d:00:01 \
		-netdev hubport,id=net1,hubid=0 -device e1000e,id=nic1,netdev=net1,bus=rp2,mac=52:54:00:4d:00:02 \
		"$@" \
		-drive file="$W/root.img",format=raw,if=virtio \
		-drive file="$W/payload$n.img",format=raw,if=virtio,readonly=on \
		-kernel "$W/vmlinuz" -initrd "$W/initrd" -append "$cmdline" \
		-serial file:"$W/serial$n.log" >/dev/null 2>&1
	local rc=$?
	grep -a '^HDTEST: \(PASS\|FAIL\|SKIP\|NOTE\) ' "$W/serial$n.log" | sed 's/^HDTEST: //; s/\r$//'
	if ! grep -aq '^HDTEST: DONE' "$W/serial$n.log"; then
		echo "FAIL boot $n: the guest did not finish (qemu exit $rc$([ $rc = 124 ] && echo ": killed after ${TIMEOUT}s")); last step the guest reported: $(grep -a '^HDTEST: NOTE ' "$W/serial$n.log" | tail -n 1 | sed 's/^HDTEST: NOTE //; s/\r$//' | grep . || echo none)"
		# the kernel's own complaints (stalls, lockups, hung tasks, oopses)
		# say more than the tail of a stack dump
		grep -a -m 8 'rcu.*stall\|soft lockup\|hard LOCKUP\|blocked for more than\|BUG:\|Oops\|Kernel panic' "$W/serial$n.log" |
			sed 's/\r$//; s/^/    kernel: /'
		echo "    last console lines:"
		tail -n 15 "$W/serial$n.log" | sed 's/\r$//; s/^/    /'
		return 1
	fi
}

report() { while IFS= read -r line; do
	echo "$line"
	case $line in PASS*) npass=$((npass + 1)) ;; FAIL*) nfail=$((nfail + 1)) ;; esac
done; }

run_all() {
	# Debian's kernel turns the Intel IOMMU on by default: boot 1 is a host
	# without one (intel_iommu=off intremap=off), as far as doctor can tell
	boot 1 "root=/dev/vda rw console=ttyS0 init=/usr/local/sbin/hdtest-init panic=-1 intel_iommu=off intremap=off" || return
	c=$(grub_cmdline) || { echo "FAIL boot 2: no linux line in the generated /boot/grub/grub.cfg"; return; }
	boot 2 "$c" || return
	c=$(grub_cmdline) || { echo "FAIL boot 3: no linux line in /boot/grub/grub.cfg after undo"; return; }
	case " $c " in *" intel_iommu=on "*) echo "FAIL boot 3: undo left intel_iommu=on in grub.cfg: $c" ;;
	*) echo "PASS undo: the regenerated grub.cfg has the original kernel command line" ;; esac
	boot 3 "$c" || return
	# the override needs the IOMMU: boot 4 adds the argument by hand
	boot 4 "$c intel_iommu=on iommu=pt" || return
}
run_libvirt() {
	# no_timer_check: under TCG on a loaded machine the kernel's check of the
	# IO-APIC timer can miss its ticks, and with interrupt remapping on it
	# panics ("timer doesn't work through Interrupt-remapped IO-APIC")
	# modprobe.blacklist=kvm...: the domains are type='qemu' (TCG).  Under
	# TCG with -cpu max the guest sees SVM and loads kvm_amd, and libvirtd
	# then probes QEMU's capabilities with KVM too: nested virtualization
	# emulated by TCG, which once stalled the guest kernel for 25 minutes
	# right at libvirtd's start (CI, stop 17).  No /dev/kvm, no such probe.
	boot libvirt "root=/dev/vda rw console=ttyS0 init=/usr/local/sbin/hdtest-init panic=-1 intel_iommu=on no_timer_check modprobe.blacklist=kvm,kvm_amd,kvm_intel" \
		-device pcie-pci-bridge,id=pb,bus=pcie.0,addr=0x6 \
		-netdev hubport,id=net2,hubid=0 -device e1000,netdev=net2,bus=pb,addr=0x1,romfile=,mac=52:54:00:4d:00:03 \
		-netdev hubport,id=net3,hubid=0 -device e1000,netdev=net3,bus=pb,addr=0x2,romfile=,mac=52:54:00:4d:00:04
}
if [ "$MODE" = libvirt ]; then report < <(run_libvirt); else report < <(run_all); fi
echo "vm-debian-$MODE: $npass passed, $nfail failed"
[ "$nfail" = 0 ] && [ "$npass" -gt 0 ]
