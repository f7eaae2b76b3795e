#!/bin/bash
# Where hostdevctl spends its time on one synthetic tree.
#
#   bench/profile.sh [N] [VERB...]     (default: N=5000, VERB=nodedev-list)
#
# 1. valgrind --tool=callgrind on `hostdevctl --sysroot T VERB` (instruction
#    counts: repeatable on a noisy machine, unlike wall time); prints the top
#    functions by self (exclusive) and by inclusive Ir, and the total Ir next
#    to `lspci -nn` (for nodedev-list) or `lspci -nnvvv` (for dumpxml) under
#    callgrind on the same tree.
# 2. strace -c -f: syscall counts of hostdevctl VERB vs the same lspci command.
#
# Trees come from bench/run.sh's cache (BENCH_DIR/trees/N, generated if
# missing).  Outputs are kept in BENCH_DIR/profile-N-VERB/ (callgrind.out.*,
# strace-*.txt, annotate-*.txt).  TOP=25 sets how many functions to show.
#
# Environment: BENCH_DIR (build/bench), HOSTDEVCTL (build/tools/hostdevctl), TOP.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
TOPDIR=$(cd "$HERE/.." && pwd -P)
BENCH_DIR=${BENCH_DIR:-$TOPDIR/build/bench}
HOSTDEVCTL=${HOSTDEVCTL:-$TOPDIR/build/tools/hostdevctl}
NTOP=${TOP:-25}
N=${1:-5000}
shift || true
VERB=("$@")
[ ${#VERB[@]} -gt 0 ] || VERB=(nodedev-list)
export LC_ALL=C

die() { echo "profile.sh: $*" >&2; exit 1; }
for t in valgrind callgrind_annotate strace lspci; do
    command -v $t >/dev/null || die "$t not found (apt-get install -y valgrind strace pciutils)"
done
[ -x "$HOSTDEVCTL" ] || die "$HOSTDEVCTL not found: build first"

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
T=$BENCH_DIR/trees/$N
key=$(cat "$HERE/gen-tree.py" "$TOPDIR"/tests/fakesys/*.py 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -f "$T/.bench-key" ] || [ "$(cat "$T/.bench-key")" != "$key" ]; then
    echo "# generating N=$N ..." >&2
    rm -rf "$T"; mkdir -p "$BENCH_DIR/trees"
    python3 "$HERE/gen-tree.py" --pci "$N" --no-manifest "$T" >&2
    echo "$key" > "$T/.bench-key"
fi

tag=$(echo "${VERB[*]}" | tr -c 'A-Za-z0-9\n-' '_')
O=$BENCH_DIR/profile-$N-$tag
rm -rf "$O"; mkdir -p "$O"
# Snapshot (the shared build dir may be rebuilt concurrently).
mkdir -p "$O/snap/tools"
cp "$HOSTDEVCTL" "$O/snap/tools/hostdevctl"
for f in "$(dirname "$HOSTDEVCTL")"/../libhostdev.so*; do [ -f "$f" ] && cp -P "$f" "$O/snap/"; done
H=$O/snap/tools/hostdevctl

LSPCI=(lspci -A linux-sysfs -O "sysfs.path=$T/sys/bus/pci")
case "${VERB[*]}" in
*dumpxml*|*show*) LOPT=-nnvvv ;;
*) LOPT=-nn ;;
esac

echo "== hostdevctl --sysroot trees/$N ${VERB[*]}   vs   lspci $LOPT   (N=$N PCI functions)"
echo "   hostdev $(cd "$TOPDIR" && git describe --always --dirty 2>/dev/null), $(valgrind --version), $(strace -V | head -1)"

# ---------------------------------------------------------------- callgrind
"$H" --sysroot "$T" "${VERB[@]}" >/dev/null              # warm the page cache
valgrind --tool=callgrind --callgrind-out-file="$O/callgrind.out.hostdev" \
    "$H" --sysroot "$T" "${VERB[@]}" >/dev/null 2>"$O/valgrind-hostdev.log" \
    || die "valgrind hostdevctl failed: $(tail -5 "$O/valgrind-hostdev.log")"
valgrind --tool=callgrind --callgrind-out-file="$O/callgrind.out.lspci" \
    "${LSPCI[@]}" $LOPT >/dev/null 2>"$O/valgrind-lspci.log" \
    || die "valgrind lspci failed: $(tail -5 "$O/valgrind-lspci.log")"

ir() { sed -n 's/^summary: *//p; s/^totals: *//p' "$1" | head -1 | awk '{ print $1 }'; }
irh=$(ir "$O/callgrind.out.hostdev")
irl=$(ir "$O/callgrind.out.lspci")
echo
awk -v h="$irh" -v l="$irl" -v n="$N" 'BEGIN {
    printf "Instructions (Ir): hostdevctl %.1f M (%.0f k/function), lspci %.1f M (%.0f k/function), ratio %.2f\n",
        h / 1e6, h / n / 1e3, l / 1e6, l / n / 1e3, h / l }'

callgrind_annotate --inclusive=no "$O/callgrind.out.hostdev" > "$O/annotate-hostdev-self.txt" 2>/dev/null
callgrind_annotate --inclusive=yes "$O/callgrind.out.hostdev" > "$O/annotate-hostdev-incl.txt" 2>/dev/null
callgrind_annotate --inclusive=no "$O/callgrind.out.lspci" > "$O/annotate-lspci-self.txt" 2>/dev/null

# Function lines look like "  12,345,678 (12.34%)  file:function [obj]".
topfn() {
    awk -v n="$2" '
        /^-+$/ { sep++; next }
        sep >= 3 && /^ *[0-9,]+ / { print; if (++c >= n) exit }
    ' "$1" | sed -E 's#  [^ ]*/([^/ ]*:)#  \1#; s# \[[^]]*\]$##'
}
echo
echo "-- hostdevctl: top $NTOP functions by self Ir"
topfn "$O/annotate-hostdev-self.txt" "$NTOP"
echo
echo "-- hostdevctl: top $NTOP functions by inclusive Ir"
topfn "$O/annotate-hostdev-incl.txt" "$NTOP"
echo
echo "-- lspci $LOPT: top 12 functions by self Ir"
topfn "$O/annotate-lspci-self.txt" 12

# ---------------------------------------------------------------- strace
strace -f -c -o "$O/strace-hostdev.txt" "$H" --sysroot "$T" "${VERB[@]}" >/dev/null
strace -f -c -o "$O/strace-lspci.txt" "${LSPCI[@]}" $LOPT >/dev/null 2>&1
calls() { awk '$NF == "total" { print $(NF-2) ~ /^[0-9]+$/ ? $(NF-2) : $(NF-1) }' "$1"; }
echo
echo "-- strace -c: syscalls (hostdevctl ${VERB[*]} | lspci $LOPT), per PCI function in brackets"
join -a1 -a2 -e0 -o 0,1.2,2.2 \
    <(awk '/^-/ { s++; next } s == 1 && NF >= 5 { c = ($NF ~ /^[a-z_0-9]+$/) ? $NF : ""; print c, $4 }' "$O/strace-hostdev.txt" | sort) \
    <(awk '/^-/ { s++; next } s == 1 && NF >= 5 { c = ($NF ~ /^[a-z_0-9]+$/) ? $NF : ""; print c, $4 }' "$O/strace-lspci.txt" | sort) |
    sort -k2,2nr | awk -v n="$N" '
        BEGIN { printf "%-18s %10s %8s   %10s %8s\n", "syscall", "hostdev", "/fn", "lspci", "/fn" }
        { th += $2; tl += $3
          if ($2 + $3 >= n / 10) printf "%-18s %10d %8.2f   %10d %8.2f\n", $1, $2, $2 / n, $3, $3 / n }
        END { printf "%-18s %10d %8.2f   %10d %8.2f\n", "total", th, th / n, tl, tl / n }'
echo
echo "(raw: $O)"
