#!/bin/bash
# Boot the test guest in QEMU and run one scenario script inside it.
#
#   tests/vm/run-guest.sh [--build-dir OUTDIR] [--binary PATH]... [--file SRC:DST]...
#                         [--timeout SEC] [--qmp SOCK] [--host-hook CMD]
#                         [--udev] [--accel kvm|tcg] [--verbose] [--shell]
#                         [--results FILE] [--append ARGS] SCENARIO.sh
#
#   --binary PATH    copy a host ELF binary into the guest at its host path, with
#                    a /usr/local/bin/<name> symlink, plus the shared libraries
#                    ldd lists (same paths) and ld.so
#   --file SRC:DST   copy a host file to DST in the guest
#   --timeout SEC    kill QEMU after SEC seconds (default 300, or "# hdtest: timeout=N")
#   --qmp SOCK       expose QMP on unix socket SOCK (see qmp.py)
#   --host-hook CMD  run CMD on the host while the guest runs, with env
#                    HDTEST_QMP (socket), HDTEST_CONSOLE (console log path);
#                    it is killed when QEMU exits (a --qmp socket is made if needed)
#   --udev           add the udev layer and start systemd-udevd in the guest
#                    (also enabled by a "# hdtest: udev" line in the scenario)
#                    A "# hdtest: qmp" line starts qmp.py serve-console as host
#                    hook, which runs the guest's "HDTEST-QMP: CMD ARGS" lines.
#                    A "# hdtest: nvme-cli" line adds Debian's nvme-cli
#                    (/usr/sbin/nvme) when it can be downloaded.
#                    A "# hdtest: mtty" line builds (cached) the out-of-tree
#                    mtty.ko + netdevsim.ko (build-mtty.sh) and puts them, or
#                    NAME.unavailable files with the reason, in /hdtest/extmod/.
#                    A "# hdtest: iproute2" line copies the host's iproute2
#                    "ip" (apt-get install iproute2 if missing) to
#                    /usr/local/bin/ip, ahead of busybox's ip on PATH.
#                    A "# hdtest: dbus" line copies the host's dbus-daemon and
#                    dbus-send (apt-get install dbus-daemon dbus-bin if
#                    missing), a system bus configuration
#                    (/etc/dbus-1/hdtest-system.conf, from dbus-system.conf) and
#                    hostdevd's bus policy into /usr/share/dbus-1/system.d; the
#                    scenario starts the bus (lib.sh start_system_bus).
#   --accel A        force kvm or tcg (default: cached probe, see README)
#   --verbose        stream the console to stderr, keep kernel messages on
#   --shell          interactive: drop to a guest shell after the scenario
#                    (console on stdio; exit the shell to power off)
#   --results FILE   also write the parsed "PASS|FAIL|SKIP name [reason]" lines
#   --probe-accel    only build and run the (cached) KVM probe, no scenario
#   --export-dir DIR write files the guest sent with lib.sh export_file to DIR
#
# Exit: 0 all checks passed, 1 a check failed or the guest died/timed out
# before "HDTEST: DONE", 77 if QEMU or the guest kernel cannot be obtained.
set -euo pipefail
. "$(dirname "$0")/common.sh"

OUT=
BINARIES=()
FILES=()
TIMEOUT=
QMP=
HOOK=
UDEV=0
NVME=0
ACCEL=${HOSTDEV_VM_ACCEL:-}
VERBOSE=0
SHELL_MODE=0
RESULTS=
EXTRA_APPEND=
SCEN=
PROBE_ONLY=0
EXPORT_DIR=
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) OUT=$2; shift ;;
	--binary) BINARIES+=("$2"); shift ;;
	--file) FILES+=("$2"); shift ;;
	--timeout) TIMEOUT=$2; shift ;;
	--qmp) QMP=$2; shift ;;
	--host-hook) HOOK=$2; shift ;;
	--udev) UDEV=1 ;;
	--accel) ACCEL=$2; shift ;;
	--verbose) VERBOSE=1 ;;
	--shell) SHELL_MODE=1 ;;
	--results) RESULTS=$2; shift ;;
	--probe-accel) PROBE_ONLY=1 ;;
	--export-dir) EXPORT_DIR=$2; shift ;;
	--append) EXTRA_APPEND=$2; shift ;;
	-h | --help) sed -n '2,34p' "$0"; exit 0 ;;
	-*) hdvm_die "unknown option $1" ;;
	*) [ -z "$SCEN" ] || hdvm_die "only one scenario per run"; SCEN=$1 ;;
	esac
	shift
done
if [ "$PROBE_ONLY" = 1 ]; then
	SCEN=/dev/null # --probe-accel: build, probe KVM (cached), exit
else
	[ -n "$SCEN" ] || hdvm_die "usage: $0 [options] SCENARIO.sh"
	[ -f "$SCEN" ] || hdvm_die "no such scenario: $SCEN"
fi
[ -n "$OUT" ] || OUT=$(hdvm_default_dir)
SNAME=$(basename "$SCEN" .sh)

# Per-scenario directives: "# hdtest: udev", "# hdtest: qmp", "# hdtest: timeout=N".
if grep -q '^# hdtest:.*\budev\b' "$SCEN"; then UDEV=1; fi
if grep -q '^# hdtest:.*\bnvme-cli\b' "$SCEN"; then NVME=1; fi
MTTY=0
if grep -q '^# hdtest:.*\b\(mtty\|netdevsim\)\b' "$SCEN"; then MTTY=1; fi
DBUS=0
if grep -q '^# hdtest:.*\bdbus\b' "$SCEN"; then DBUS=1; fi
IPROUTE2=0
if grep -q '^# hdtest:.*\biproute2\b' "$SCEN"; then IPROUTE2=1; fi
if [ -z "$HOOK" ] && grep -q '^# hdtest:.*\bqmp\b' "$SCEN"; then
	# Guest-driven QMP: lib.sh "qmp CMD ARGS" lines are executed by qmp.py.
	HOOK="exec python3 '$HDVM_SRC/qmp.py' \"\$HDTEST_QMP\" serve-console \"\$HDTEST_CONSOLE\""
fi
if [ -z "$TIMEOUT" ]; then
	TIMEOUT=$(sed -n 's/^# hdtest:.*timeout=\([0-9]*\).*/\1/p' "$SCEN" | head -n1)
	[ -n "$TIMEOUT" ] || TIMEOUT=${HOSTDEV_VM_TIMEOUT:-300}
fi

QEMU=${HOSTDEV_VM_QEMU:-qemu-system-x86_64}
hdvm_ensure_qemu || hdvm_skip "qemu-system-x86_64 not available (apt-get install qemu-system-x86)"

BUILD_ARGS=()
[ "$UDEV" = 1 ] && BUILD_ARGS+=(--udev)
[ "$NVME" = 1 ] && BUILD_ARGS+=(--nvme-cli)
rc=0
# Serialize builds and the probe between concurrent runs sharing OUTDIR.
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
command -v flock >/dev/null 2>&1 && flock 9
"$HDVM_SRC/build-guest.sh" "${BUILD_ARGS[@]}" "$OUT" || rc=$?
[ "$rc" = 0 ] || { [ "$rc" = "$HDVM_SKIP" ] && exit "$HDVM_SKIP"; hdvm_die "guest build failed"; }
if [ "$MTTY" = 1 ]; then
	"$HDVM_SRC/build-mtty.sh" "$OUT" || hdvm_die "build-mtty.sh failed"
	for f in "$OUT"/extmod/*.ko "$OUT"/extmod/*.unavailable; do
		[ -e "$f" ] && FILES+=("$f:/hdtest/extmod/$(basename "$f")")
	done
fi
OUT=$(cd "$OUT" && pwd)
BB=$OUT/root/bin/busybox

mkdir -p "$OUT/logs" "$OUT/run"
# Keep the newest ~300 log files (about 60 runs).
find "$OUT/logs" -maxdepth 1 -type f -printf "%T@ %p\n" | sort -rn | tail -n +301 | cut -d" " -f2- | while read -r f; do rm -f "$f"; done
TS=$(date +%Y%m%d-%H%M%S)
RUNDIR=$(mktemp -d "$OUT/run/$SNAME-$TS.XXXXXX")
LOG=$OUT/logs/$SNAME-$TS.log
QEMU_PID=
HOOK_PID=
TAIL_PID=
cleanup() {
	[ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null
	[ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2>/dev/null
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null
	rm -rf "$RUNDIR"
}
trap cleanup EXIT

# --- per-run overlay initramfs ----------------------------------------------
OV=$RUNDIR/overlay
mkdir -p "$OV/hdtest" "$OV/usr/local/bin" "$RUNDIR/export"
cp "$SCEN" "$OV/scenario.sh"
cp "$HDVM_SRC/lib.sh" "$OV/hdtest/lib.sh"
for b in "${BINARIES[@]}"; do
	[ -f "$b" ] || hdvm_die "--binary $b: no such file"
	# Keep the host path (RUNPATH $ORIGIN/.. of meson builds keeps working)
	# and put a symlink on PATH.
	real=$(readlink -f "$b")
	hdvm_copy_elf "$b" "$real" "$OV"
	[ "$real" = "/usr/local/bin/$(basename "$b")" ] || ln -sf "$real" "$OV/usr/local/bin/$(basename "$b")"
done
for f in "${FILES[@]}"; do
	src=${f%%:*}
	dst=${f#*:}
	[ -e "$src" ] && [ "${dst#/}" != "$dst" ] || hdvm_die "--file $f: need existing SRC and absolute DST"
	mkdir -p "$OV$(dirname "$dst")"
	cp -a "$src" "$OV$dst"
done
if [ "$IPROUTE2" = 1 ]; then
	IPBIN=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v ip || true)
	if [ -z "$IPBIN" ] || ! "$IPBIN" -V 2>/dev/null | grep -q iproute2; then
		hdvm_apt_install iproute2 || true
		IPBIN=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v ip || true)
	fi
	if [ -n "$IPBIN" ] && "$IPBIN" -V 2>/dev/null | grep -q iproute2; then
		hdvm_copy_elf "$IPBIN" /usr/local/bin/ip "$OV"
	else
		hdvm_log "warning: no iproute2 ip on the host; the guest has busybox ip only"
	fi
fi
if [ "$DBUS" = 1 ]; then
	# the guest's system bus: the host's dbus-daemon with its libraries
	host_bin() { PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$1" || true; }
	if [ -z "$(host_bin dbus-daemon)" ] || [ -z "$(host_bin dbus-send)" ]; then
		hdvm_apt_install dbus-daemon dbus-bin || true
	fi
	if [ -n "$(host_bin dbus-daemon)" ] && [ -n "$(host_bin dbus-send)" ]; then
		hdvm_copy_elf "$(host_bin dbus-daemon)" /usr/bin/dbus-daemon "$OV"
		hdvm_copy_elf "$(host_bin dbus-send)" /usr/bin/dbus-send "$OV"
		mkdir -p "$OV/etc/dbus-1" "$OV/usr/share/dbus-1/system.d"
		cp "$HDVM_SRC/dbus-system.conf" "$OV/etc/dbus-1/hdtest-system.conf"
		cp "$HDVM_REPO/daemon/data/org.hostdev.Hostdev1.conf" "$OV/usr/share/dbus-1/system.d/"
	else
		hdvm_log "warning: no dbus-daemon/dbus-send on the host; the guest has no system bus"
	fi
fi
hdvm_mkcpio "$OV" "$RUNDIR/overlay.cpio.gz" "$BB"
INITRD=$RUNDIR/initrd
cat "$OUT/initrd-base.cpio.gz" >"$INITRD"
[ "$UDEV" = 1 ] && cat "$OUT/initrd-udev.cpio.gz" >>"$INITRD"
if [ "$NVME" = 1 ] && [ -s "$OUT/initrd-nvme.cpio.gz" ]; then
	cat "$OUT/initrd-nvme.cpio.gz" >>"$INITRD"
fi
cat "$RUNDIR/overlay.cpio.gz" >>"$INITRD"

# --- machine ----------------------------------------------------------------
# no_timer_check: under TCG on a loaded host the IO-APIC timer check can
# fail ("timer doesn't work through Interrupt-remapped IO-APIC") and panic.
APPEND="console=ttyS0 intel_iommu=on iommu=pt panic=-1 quiet no_timer_check"
[ "$UDEV" = 1 ] && APPEND="$APPEND hdtest.udev=1"
[ "$VERBOSE" = 1 ] && APPEND="$APPEND hdtest.verbose=1"
[ "$SHELL_MODE" = 1 ] && APPEND="$APPEND hdtest.shell=1"
[ -n "$EXTRA_APPEND" ] && APPEND="$APPEND $EXTRA_APPEND"

# machine_args: the emulated platform shared by the KVM probe and real runs.
machine_args() {
	local d=$OUT/disks
	# shellcheck disable=SC2054 # commas are QEMU option syntax
	M=(
		-machine q35,kernel-irqchip=split
		-device intel-iommu,intremap=on,caching-mode=on
		-m 1024 -smp 2
		-nodefaults -display none -no-reboot
		-kernel "$OUT/vmlinuz"
		# PCIe root ports: 1-7 populated below, 8-9 left empty for hotplug.
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x4
		-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x5
		-device pcie-root-port,id=rp3,bus=pcie.0,chassis=3,addr=0x6
		-device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,addr=0x7
		-device pcie-root-port,id=rp5,bus=pcie.0,chassis=5,addr=0x8
		-device pcie-root-port,id=rp6,bus=pcie.0,chassis=6,addr=0x9
		-device pcie-root-port,id=rp7,bus=pcie.0,chassis=7,addr=0xa
		-device pcie-root-port,id=rp8,bus=pcie.0,chassis=8,addr=0xb
		-device pcie-root-port,id=rp9,bus=pcie.0,chassis=9,addr=0xc
		# Two e1000e NICs, one per root port, on an isolated hub (no host network).
		-netdev hubport,id=net0,hubid=0
		-device e1000e,id=nic0,netdev=net0,bus=rp1,mac=52:54:00:4d:00:01
		-netdev hubport,id=net1,hubid=0
		-device e1000e,id=nic1,netdev=net1,bus=rp2,mac=52:54:00:4d:00:02
		# Conventional PCI bridge with two e1000: one shared IOMMU group.
		-device pcie-pci-bridge,id=pcibr0,bus=rp3
		-netdev hubport,id=net2,hubid=1
		-device e1000,id=nic2,netdev=net2,bus=pcibr0,addr=0x1,mac=52:54:00:4d:00:03
		-netdev hubport,id=net3,hubid=1
		-device e1000,id=nic3,netdev=net3,bus=pcibr0,addr=0x2,mac=52:54:00:4d:00:04
		# NVMe controller with SR-IOV (4 VFs) in an NVM subsystem.
		-device nvme-subsys,id=nvmesubsys0,nqn=nqn.2024-01.io.hostdev:subsys0
		-device "nvme,id=nvme0,bus=rp4,serial=HDNVME0,subsys=nvmesubsys0,sriov_max_vfs=4,sriov_vq_flexible=8,sriov_vi_flexible=4,max_ioqpairs=12,msix_qsize=16"
		-blockdev driver=null-co,node-name=nvmens0,size=67108864,read-zeroes=on
		-device nvme-ns,drive=nvmens0,nsid=1
		# USB 3 controller with keyboard and mass storage.
		-device qemu-xhci,id=xhci0,bus=rp5
		-device usb-kbd,bus=xhci0.0
		-drive if=none,id=usbdisk0,file="$d/usb0.img",format=raw,snapshot=on
		-device usb-storage,bus=xhci0.0,drive=usbdisk0,serial=HDUSB0
		# virtio-scsi HBA with one disk.
		-device virtio-scsi-pci,id=scsi0,bus=rp6
		-drive if=none,id=scsidisk0,file="$d/scsi0.img",format=raw,snapshot=on
		-device scsi-hd,bus=scsi0.0,drive=scsidisk0,serial=HDSCSI0
		# Display devices: bochs-display on the root bus, virtio-gpu on a root port.
		-device bochs-display,id=vga0,bus=pcie.0,addr=0x3
		-device virtio-gpu-pci,id=gpu0,bus=rp7
	)
}

accel_args() { # kvm|tcg
	case $1 in
	kvm) A=(-accel kvm -cpu host) ;;
	*) A=(-accel tcg -cpu max) ;;
	esac
}

# KVM probe: a stock kernel hangs on some KVM variants, so boot once with KVM
# and wait for the init marker; cache the verdict in OUTDIR/accel.
probe_accel() {
	local plog=$OUT/logs/kvm-probe-$TS.log verdict=tcg why
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		why="no usable /dev/kvm"
	else
		machine_args
		accel_args kvm
		local t0 t1
		t0=$(date +%s)
		timeout -k 3 "${HOSTDEV_VM_KVM_PROBE_TIMEOUT:-20}" "$QEMU" "${A[@]}" "${M[@]}" \
			-initrd "$OUT/initrd-base.cpio.gz" -append "$APPEND hdtest.probe=1" \
			-serial "file:$plog" >"$plog.stderr" 2>&1 || true
		t1=$(date +%s)
		if grep -aq 'HDTEST-BOOT: probe ok' "$plog" 2>/dev/null; then
			verdict=kvm
			why="KVM boot reached init in $((t1 - t0))s"
		else
			why="KVM boot did not reach init within ${HOSTDEV_VM_KVM_PROBE_TIMEOUT:-20}s (log $plog)"
		fi
	fi
	printf '%s\n%s\n' "$verdict" "$why" >"$OUT/accel"
	hdvm_log "accel probe: $verdict ($why)"
}
if [ -z "$ACCEL" ]; then
	[ -s "$OUT/accel" ] || probe_accel
	ACCEL=$(head -n1 "$OUT/accel")
fi
command -v flock >/dev/null 2>&1 && flock -u 9
exec 9>&-
[ "$PROBE_ONLY" = 1 ] && { hdvm_log "accel: $ACCEL ($(sed -n 2p "$OUT/accel" 2>/dev/null))"; exit 0; }

machine_args
accel_args "$ACCEL"
CMD=("$QEMU" "${A[@]}" "${M[@]}" -initrd "$INITRD" -append "$APPEND")
if [ -n "$HOOK" ] && [ -z "$QMP" ]; then QMP=$RUNDIR/qmp.sock; fi
[ -n "$QMP" ] && CMD+=(-qmp "unix:$QMP,server=on,wait=off")

hdvm_log "running $SNAME ($ACCEL, timeout ${TIMEOUT}s), console log: $LOG"
printf '# %s\n' "${CMD[*]}" >"$LOG.cmd"
T0=$(date +%s)
QRC=0
if [ "$SHELL_MODE" = 1 ]; then
	"${CMD[@]}" -serial mon:stdio | tee "$LOG" || QRC=$?
else
	: >"$LOG"
	if [ "$VERBOSE" = 1 ]; then
		tail -n +1 -f "$LOG" >&2 &
		TAIL_PID=$!
	fi
	timeout -k 5 "$TIMEOUT" "${CMD[@]}" -serial "file:$LOG" >"$LOG.qemu" 2>&1 &
	QEMU_PID=$!
	if [ -n "$HOOK" ]; then
		for _ in $(seq 50); do [ -S "$QMP" ] && break; sleep 0.1; done
		HDTEST_QMP=$QMP HDTEST_CONSOLE=$LOG HDTEST_SCENARIO=$SNAME \
			bash -c "$HOOK" >"$LOG.hook" 2>&1 &
		HOOK_PID=$!
	fi
	wait "$QEMU_PID" || QRC=$?
	QEMU_PID=
fi
T1=$(date +%s)
if [ -n "$HOOK_PID" ]; then
	kill "$HOOK_PID" 2>/dev/null || true
	wait "$HOOK_PID" 2>/dev/null || true
	HOOK_PID=
fi
[ -n "$TAIL_PID" ] && { kill "$TAIL_PID" 2>/dev/null || true; TAIL_PID=; }
cat "$LOG.qemu" >>"$LOG" 2>/dev/null || true

# --- files exported by the guest (lib.sh export_file) -------------------------
if [ -n "$EXPORT_DIR" ]; then
	mkdir -p "$EXPORT_DIR"
	tr -d '\r' <"$LOG" | awk -v dir="$RUNDIR/export" '
		/HDTEST-FILE-BEGIN / { name = $NF; gsub(/[^A-Za-z0-9._-]/, "_", name); out = dir "/" name ".b64"; printf "" > out; next }
		/HDTEST-FILE-END / { if (out != "") close(out); out = ""; next }
		out != "" && /^HDTEST-FILE: / { sub(/^HDTEST-FILE: /, ""); print >> out }
	' 2>/dev/null || true
	for f in "$RUNDIR"/export/*.b64; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .b64)
		if base64 -d <"$f" >"$EXPORT_DIR/$n" 2>/dev/null; then
			hdvm_log "exported $EXPORT_DIR/$n ($(wc -c <"$EXPORT_DIR/$n") bytes)"
		else
			hdvm_log "warning: exported file $n is corrupt"
		fi
	done
fi

# --- results ----------------------------------------------------------------
PARSED=$RUNDIR/results
tr -d '\r' <"$LOG" | grep -a -o 'HDTEST: .*' | sed 's/^HDTEST: //' >"$PARSED" || true
npass=$(grep -c '^PASS ' "$PARSED" || true)
nfail=$(grep -c '^FAIL ' "$PARSED" || true)
nskip=$(grep -c '^SKIP ' "$PARSED" || true)
grep -E '^(PASS|FAIL|SKIP) ' "$PARSED" | sed "s/^\([A-Z]*\) /  \1 $SNAME\//" || true
# lib.sh diag lines (measurements, not checks)
tr -d '\r' <"$LOG" | grep -a -o 'HDTEST-DIAG: .*' | sed "s/^HDTEST-DIAG: /  DIAG $SNAME: /" || true
if [ -n "$RESULTS" ]; then
	grep -E '^(PASS|FAIL|SKIP) ' "$PARSED" | sed "s/^\([A-Z]*\) /\1 $SNAME\//" >"$RESULTS" || true
fi

status=0
if ! grep -q '^DONE' "$PARSED"; then
	why="guest stopped before HDTEST: DONE"
	[ "$QRC" = 124 ] || [ "$QRC" = 137 ] && why="timeout after ${TIMEOUT}s"
	[ "$QRC" != 0 ] && [ "$QRC" != 124 ] && [ "$QRC" != 137 ] && why="$why (qemu exit $QRC: $(tail -n 3 "$LOG.qemu" | tr '\n' ' '))"
	printf '  FAIL %s/harness %s\n' "$SNAME" "$why"
	[ -n "$RESULTS" ] && printf 'FAIL %s/harness %s\n' "$SNAME" "$why" >>"$RESULTS"
	nfail=$((nfail + 1))
	status=1
fi
[ "$nfail" -gt 0 ] && status=1
hdvm_log "$SNAME: $npass passed, $nfail failed, $nskip skipped in $((T1 - T0))s ($ACCEL)"
if [ "$status" != 0 ]; then
	hdvm_log "console log of the failing run: $LOG"
	echo "----- last 40 console lines ($LOG) -----" >&2
	tr -d '\r' <"$LOG" | tail -n 40 >&2
	echo "-----" >&2
fi
exit "$status"
