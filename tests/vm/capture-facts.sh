#!/bin/bash
# Boot the guest with tests/vm/facts.sh and write its "FACT:" output to
# tests/vm/guest-facts.txt (or $1). Uses the same cache as run-tests.sh.
set -euo pipefail
. "$(dirname "$0")/common.sh"
DEST=${1:-$HDVM_SRC/guest-facts.txt}
OUT=$(hdvm_default_dir)
RES=$(mktemp)
trap 'rm -f "$RES"' EXIT
"$HDVM_SRC/run-guest.sh" --build-dir "$OUT" --results "$RES" "$HDVM_SRC/facts.sh" >/dev/null
LOG=$(ls -t "$OUT"/logs/facts-*[0-9].log | head -n1)
{
	echo "# Guest facts captured by tests/vm/capture-facts.sh on $(date -u +%Y-%m-%d)"
	echo "# $(grep '^kernel-deb=' "$OUT/build-info"), $("${HOSTDEV_VM_QEMU:-qemu-system-x86_64}" --version | head -n1)"
	echo "# QEMU command line: see tests/vm/run-guest.sh (machine_args); accel $(head -n1 "$OUT/accel" 2>/dev/null || echo ?)"
	echo "# Not stable between boots: SCSI host numbers and sdX names (USB storage and"
	echo "# virtio-scsi probe concurrently), USEC_INITIALIZED. Everything else is."
	tr -d '\r' <"$LOG" | sed -n 's/^FACT: \{0,1\}//p'
} >"$DEST"
hdvm_log "wrote $DEST ($(wc -l <"$DEST") lines) from $LOG"
