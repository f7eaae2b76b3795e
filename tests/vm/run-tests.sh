#!/bin/bash
# CI entry point of the real-kernel VM tests.
#
#   tests/vm/run-tests.sh [SCENARIO.sh...]
#
# Builds the guest (cached in $HOSTDEV_VM_DIR, default build/vm), then boots
# one guest per scenario (default: every tests/vm/scenarios/*.sh) and prints
# the per-check results and "vm: N passed, N failed, N skipped".
#
# Environment:
#   HOSTDEV_VM_DIR       build/cache directory (default build/vm)
#   HOSTDEVCTL           hostdevctl binary to copy into the guest
#                        (default build/tools/hostdevctl when it exists)
#   HOSTDEV_VM_ACCEL     kvm|tcg to skip the cached KVM probe
#   HOSTDEV_VM_TIMEOUT   per-boot timeout in seconds (default 300, or the
#                        scenario's "# hdtest: timeout=N")
#   HOSTDEV_VM_NO_APT=1  never apt-get install missing host tools
#
# Exit: 0 all passed, 1 a failure, 77 if the guest cannot be built/booted here
# (no qemu, no kernel package).
set -uo pipefail
. "$(dirname "$0")/common.sh"

OUT=$(hdvm_default_dir)
mkdir -p "$OUT" || hdvm_die "cannot create $OUT"

if [ $# -gt 0 ]; then
	SCENARIOS=("$@")
else
	SCENARIOS=("$HDVM_SRC"/scenarios/*.sh)
fi
[ -e "${SCENARIOS[0]}" ] || hdvm_skip "no scenarios"

if ! hdvm_ensure_qemu; then
	echo "vm: 0 passed, 0 failed, ${#SCENARIOS[@]} skipped (qemu-system-x86_64 not available)"
	hdvm_skip "qemu-system-x86_64 not available (apt-get install qemu-system-x86)"
fi

T0=$(date +%s)
rc=0
"$HDVM_SRC/build-guest.sh" "$OUT" || rc=$?
if [ "$rc" = "$HDVM_SKIP" ]; then
	echo "vm: 0 passed, 0 failed, ${#SCENARIOS[@]} skipped (cannot build the guest)"
	exit "$HDVM_SKIP"
fi
[ "$rc" = 0 ] || hdvm_die "guest build failed"

BIN=${HOSTDEVCTL:-}
if [ -z "$BIN" ] && [ -x "$HDVM_REPO/build/tools/hostdevctl" ]; then
	BIN=$HDVM_REPO/build/tools/hostdevctl
fi
BINARGS=()
if [ -n "$BIN" ]; then
	[ -x "$BIN" ] || hdvm_die "HOSTDEVCTL=$BIN is not executable"
	BINARGS=(--binary "$BIN")
	hdvm_log "guest gets $BIN as /usr/local/bin/$(basename "$BIN")"
fi

npass=0 nfail=0 nskip=0 nrunfail=0
RES=$(mktemp)
trap 'rm -f "$RES"' EXIT
for s in "${SCENARIOS[@]}"; do
	: >"$RES"
	# "# hdtest: requires=hostdevctl": skip without booting when no binary.
	if grep -q '^# hdtest:.*requires=hostdevctl' "$s" && [ -z "$BIN" ]; then
		echo "  SKIP $(basename "$s" .sh)/all no hostdevctl binary (set HOSTDEVCTL or build build/tools/hostdevctl)"
		nskip=$((nskip + 1))
		continue
	fi
	src=0
	"$HDVM_SRC/run-guest.sh" --build-dir "$OUT" "${BINARGS[@]}" --results "$RES" "$s" || src=$?
	if [ "$src" = "$HDVM_SKIP" ]; then
		echo "  SKIP $(basename "$s" .sh)/all cannot run the guest"
		nskip=$((nskip + 1))
		continue
	fi
	p=$(grep -c '^PASS ' "$RES")
	f=$(grep -c '^FAIL ' "$RES")
	k=$(grep -c '^SKIP ' "$RES")
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
