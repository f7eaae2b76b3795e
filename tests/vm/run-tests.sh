#!/bin/bash
# CI entry point of the real-kernel VM tests.
#
#   tests/vm/run-tests.sh [SCENARIO.sh...]
#
# Builds the guest (cached in $HOSTDEV_VM_DIR, default ~/.cache/hostdev-vm/KEY), then boots
# one guest per scenario (default: every tests/vm/scenarios/*.sh) and prints
# the per-check results and "vm: N passed, N failed, N skipped".
#
# Environment:
#   HOSTDEV_VM_DIR       build/cache directory (default ~/.cache/hostdev-vm/KEY,
#                        KEY a hash of the scripts that build the guest)
#   HOSTDEVCTL           hostdevctl binary to copy into the guest
#                        (default build/tools/hostdevctl when it exists)
#   HOSTDEVD             hostdevd binary for "# hdtest: requires=hostdevd"
#                        scenarios (default build/daemon/hostdevd next to
#                        HOSTDEVCTL's build), copied with the same build's
#                        tests/daemon-client (signal watcher)
#   HOSTDEV_INJECT       failure-injection interposer copied with it to
#                        /usr/local/lib/libhostdev-inject.so (default: the
#                        same build's tests/libhostdev-inject.so)
#   HOSTDEV_VM_ACCEL     kvm|tcg to skip the cached KVM probe
#   HOSTDEV_VM_TIMEOUT   per-boot timeout in seconds (default 300, or the
#                        scenario's "# hdtest: timeout=N")
#   HOSTDEV_VM_NO_APT=1  never apt-get install missing host tools
#   HOSTDEV_VM_JOBS      boot up to N guests in parallel (default 1)
#
# Exit: 0 all passed, 1 a failure, 77 if the guest cannot be built/booted here
# (no qemu, no kernel package).
set -uo pipefail
. "$(dirname "$0")/common.sh"

OUT=$(hdvm_default_dir)
mkdir -p "$OUT" || hdvm_die "cannot create $OUT"
hdvm_prune_caches "$OUT"

if [ $# -gt 0 ]; then
	SCENARIOS=("$@")
else
	# X.post.sh are host-side checks of scenario X.sh's exports, not guests.
	SCENARIOS=()
	for s in "$HDVM_SRC"/scenarios/*.sh; do
		case $s in *.post.sh) continue ;; esac
		SCENARIOS+=("$s")
	done
fi
[ -e "${SCENARIOS[0]}" ] || hdvm_skip "no scenarios"

if ! hdvm_ensure_qemu; then
	echo "vm: 0 passed, 0 failed, ${#SCENARIOS[@]} skipped (qemu-system-x86_64 not available)"
	hdvm_skip "qemu-system-x86_64 not available (apt-get install qemu-system-x86)"
fi

T0=$(date +%s)
# Build every layer the scenarios ask for once, up front (also keeps parallel
# runs from building concurrently).
LAYERS=()
grep -qs '^# hdtest:.*\budev\b' "${SCENARIOS[@]}" && LAYERS+=(--udev)
grep -qs '^# hdtest:.*\bnvme-cli\b' "${SCENARIOS[@]}" && LAYERS+=(--nvme-cli)
rc=0
# One build at a time per cache folder (another checkout may share it).
exec 9>"$OUT/.lock"
command -v flock >/dev/null 2>&1 && flock 9
"$HDVM_SRC/build-guest.sh" "${LAYERS[@]}" "$OUT" || rc=$?
if [ "$rc" = "$HDVM_SKIP" ]; then
	echo "vm: 0 passed, 0 failed, ${#SCENARIOS[@]} skipped (cannot build the guest)"
	exit "$HDVM_SKIP"
fi
[ "$rc" = 0 ] || hdvm_die "guest build failed"
# "# hdtest: mtty": out-of-tree mtty.ko/netdevsim.ko (cached; a failure is
# recorded as NAME.unavailable and the scenario skips with that reason).
if grep -qs '^# hdtest:.*\b\(mtty\|netdevsim\)\b' "${SCENARIOS[@]}"; then
	"$HDVM_SRC/build-mtty.sh" "$OUT" || hdvm_die "build-mtty.sh failed"
fi
exec 9>&- # run-guest.sh takes the lock itself
"$HDVM_SRC/run-guest.sh" --build-dir "$OUT" --probe-accel || hdvm_die "accel probe failed"

BIN=${HOSTDEVCTL:-}
if [ -z "$BIN" ] && [ -x "$HDVM_REPO/build/tools/hostdevctl" ]; then
	BIN=$HDVM_REPO/build/tools/hostdevctl
fi
BINARGS=()
if [ -n "$BIN" ]; then
	[ -x "$BIN" ] || hdvm_die "HOSTDEVCTL=$BIN is not executable"
	BINARGS=(--binary "$BIN")
	hdvm_log "guest gets $BIN as /usr/local/bin/$(basename "$BIN")"
	# the failure-injection interposer (tests/inject.c, docs/testing.md) of
	# the same build, for LD_PRELOAD in the scenarios
	INJ=${HOSTDEV_INJECT:-$(dirname "$(dirname "$BIN")")/tests/libhostdev-inject.so}
	if [ -f "$INJ" ]; then
		BINARGS+=(--file "$INJ:/usr/local/lib/libhostdev-inject.so")
		hdvm_log "guest gets $INJ as /usr/local/lib/libhostdev-inject.so"
	fi
fi

# hostdevd (and the test client that watches its signals) of the same build
HDD=${HOSTDEVD:-}
if [ -z "$HDD" ] && [ -n "$BIN" ] && [ -x "$(dirname "$(dirname "$BIN")")/daemon/hostdevd" ]; then
	HDD=$(dirname "$(dirname "$BIN")")/daemon/hostdevd
fi
DAEMONARGS=()
if [ -n "$HDD" ]; then
	[ -x "$HDD" ] || hdvm_die "HOSTDEVD=$HDD is not executable"
	DAEMONARGS=(--binary "$HDD")
	DCL=$(dirname "$(dirname "$HDD")")/tests/daemon-client
	[ -x "$DCL" ] && DAEMONARGS+=(--binary "$DCL") || DCL=
	hdvm_log "guest gets $HDD${DCL:+ and $DCL} for the requires=hostdevd scenarios"
fi

# HOSTDEV_VM_JOBS=N boots up to N guests at once (each TCG guest keeps about
# two host CPUs busy); output is then printed per scenario when all are done.
JOBS=${HOSTDEV_VM_JOBS:-1}
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
run_one() { # INDEX SCENARIO
	local src=0 post=${2%.sh}.post.sh extra=()
	mkdir -p "$TMPD/$1.export"
	grep -q '^# hdtest:.*requires=hostdevd' "$2" && extra=("${DAEMONARGS[@]}")
	"$HDVM_SRC/run-guest.sh" --build-dir "$OUT" "${BINARGS[@]}" "${extra[@]}" \
		--results "$TMPD/$1.res" --export-dir "$TMPD/$1.export" "$2" || src=$?
	# Host-side checks of what the guest exported (e.g. XML validated
	# against libvirt's schemas, which the guest does not have).
	if [ "$src" = 0 ] && [ -f "$post" ]; then
		bash "$post" "$TMPD/$1.export" | tee -a "$TMPD/$1.res" | sed 's/^/  /'
	fi
	echo "$src" >"$TMPD/$1.rc"
}
i=0
for s in "${SCENARIOS[@]}"; do
	i=$((i + 1))
	: >"$TMPD/$i.res"
	# "# hdtest: requires=hostdevctl": skip without booting when no binary.
	if grep -q '^# hdtest:.*requires=hostdevctl' "$s" && [ -z "$BIN" ]; then
		echo "SKIP $(basename "$s" .sh)/all no hostdevctl binary (set HOSTDEVCTL or build build/tools/hostdevctl)" >"$TMPD/$i.res"
		echo "  $(cat "$TMPD/$i.res")"
		echo 0 >"$TMPD/$i.rc"
		continue
	fi
	# "# hdtest: requires=hostdevd": the same without a daemon binary
	if grep -q '^# hdtest:.*requires=hostdevd' "$s" && [ -z "$HDD" ]; then
		echo "SKIP $(basename "$s" .sh)/all no hostdevd binary (set HOSTDEVD or build build/daemon/hostdevd: meson option daemon, libsystemd-dev)" >"$TMPD/$i.res"
		echo "  $(cat "$TMPD/$i.res")"
		echo 0 >"$TMPD/$i.rc"
		continue
	fi
	if [ "$JOBS" -le 1 ]; then
		run_one "$i" "$s"
	else
		while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
		run_one "$i" "$s" >"$TMPD/$i.out" 2>&1 &
	fi
done
wait

npass=0 nfail=0 nskip=0 nrunfail=0
i=0
for s in "${SCENARIOS[@]}"; do
	i=$((i + 1))
	[ -f "$TMPD/$i.out" ] && cat "$TMPD/$i.out"
	src=$(cat "$TMPD/$i.rc" 2>/dev/null || echo 1)
	if [ "$src" = "$HDVM_SKIP" ]; then
		echo "  SKIP $(basename "$s" .sh)/all cannot run the guest"
		nskip=$((nskip + 1))
		continue
	fi
	p=$(grep -c '^PASS ' "$TMPD/$i.res")
	f=$(grep -c '^FAIL ' "$TMPD/$i.res")
	k=$(grep -c '^SKIP ' "$TMPD/$i.res")
	npass=$((npass + p)) nfail=$((nfail + f)) nskip=$((nskip + k))
	if [ "$src" != 0 ] && [ "$f" = 0 ]; then
		nfail=$((nfail + 1))
	fi
	[ "$src" != 0 ] && nrunfail=$((nrunfail + 1))
done
T1=$(date +%s)
echo "vm: $npass passed, $nfail failed, $nskip skipped ($((T1 - T0))s, ${#SCENARIOS[@]} scenario(s), logs in $OUT/logs)"
if [ "$nfail" -gt 0 ] || [ "$nrunfail" -gt 0 ]; then
	exit 1
fi
if [ "$npass" = 0 ] && [ "$nskip" -gt 0 ]; then
	exit "$HDVM_SKIP"
fi
exit 0
