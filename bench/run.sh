#!/bin/bash
# hostdev vs lspci vs libvirt on the same synthetic sysfs trees, on the live
# path (what users run: no --sysroot) and with --sysroot.
#
#   bench/run.sh [N...]            (default: 500 1000 2000 5000)
#
# For each N: build (or reuse) a tree with bench/gen-tree.py --pci N.  The
# live path is timed inside a private user + mount namespace (unshare -Urm)
# where bench/ns.sh binds the tree over /sys, /run/udev and /dev, exactly as
# tests/test-udev.sh does; there, in one round-robin run (bench/measure.py:
# one warm-up, then REPS rounds, median), side by side:
#   hostdevctl nodedev-list | nodedev-dumpxml --all | iommu         (live)
#   hostdevctl --sysroot T nodedev-list | nodedev-dumpxml --all | iommu
#   lspci -nn, lspci -nnvvv                                          (the tree)
#   single-device verbs, live and --sysroot: nodedev-dumpxml NAME,
#   nodedev-info, show, hostdev-xml, iommu explain (NAME: a PCI function in
#   the middle of the tree)
# then peak RSS (GNU time %M, max of 2 runs) and syscall counts (strace -c)
# of the live and --sysroot runs and of lspci, and libvirt's first
# nodedev-list (tests/libvirt/libvirt-nodedev.sh --time --list-only, median
# of LV_REPS runs: libvirtd spawn -> first list done).
#
# Environment:
#   REPS=5          timed rounds (min 3)
#   LV_REPS=3       libvirt runs per N (0 = skip libvirt)
#   BENCH_DIR=build/bench   tree cache + results
#   HOSTDEVCTL=build/tools/hostdevctl   binary under test (snapshotted with
#                   its libhostdev.so.0 so a concurrent rebuild cannot change
#                   it mid-run)
#   KEEP_TREES=1    keep generated trees (default; 0 = delete each after use)
#   DAEMON=1        then hostdevd's measures for each N (bench/daemon.sh:
#                   ListDevices, RSS, 100 clients, uevent to signal;
#                   BENCH_DIR/daemon-N.txt)
#
# Writes BENCH_DIR/results.tsv (N, metric, value) and BENCH_DIR/results.txt
# (the tables) besides printing them.  A benchmark, not a test: MISS marks
# do not fail it.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
TOP=$(cd "$HERE/.." && pwd -P)
REPS=${REPS:-5}
LV_REPS=${LV_REPS:-3}
BENCH_DIR=${BENCH_DIR:-$TOP/build/bench}
HOSTDEVCTL=${HOSTDEVCTL:-$TOP/build/tools/hostdevctl}
KEEP_TREES=${KEEP_TREES:-1}
[ "$REPS" -ge 3 ] || { echo "run.sh: REPS must be >= 3" >&2; exit 1; }
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(500 1000 2000 5000)

export LC_ALL=C
die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$HOSTDEVCTL" ] || die "$HOSTDEVCTL not found: build first (meson setup build && ninja -C build)"
command -v lspci >/dev/null || die "lspci not found (apt-get install pciutils)"
command -v strace >/dev/null || die "strace not found (apt-get install strace)"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install -y time)"
unshare -Urm true 2>/dev/null || die "unshare -Urm failed: the live path needs user namespaces"
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)

# Snapshot the binary under test (the shared build dir may be rebuilt by
# others while this runs).  hostdevctl finds libhostdev.so.0 via $ORIGIN/..
SNAP=$BENCH_DIR/snap
rm -rf "$SNAP"; mkdir -p "$SNAP/tools"
cp "$HOSTDEVCTL" "$SNAP/tools/hostdevctl"
hdir=$(dirname "$HOSTDEVCTL")/..
for f in "$hdir"/libhostdev.so*; do [ -f "$f" ] && cp -P "$f" "$SNAP/"; done
H=$SNAP/tools/hostdevctl
"$H" --version >/dev/null 2>&1 || die "snapshot of $HOSTDEVCTL does not run"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR/2] + v[NR/2 + 1]) / 2 }'; }
gen_key() { cat "$HERE/gen-tree.py" "$TOP"/tests/fakesys/*.py 2>/dev/null | sha256sum | cut -c1-16; }
tree() {
    local n=$1 t=$BENCH_DIR/trees/$1 key
    key=$(gen_key)
    if [ ! -f "$t/.bench-key" ] || [ "$(cat "$t/.bench-key")" != "$key" ]; then
        echo "# generating N=$n ..." >&2
        rm -rf "$t"; mkdir -p "$BENCH_DIR/trees"
        python3 "$HERE/gen-tree.py" --pci "$n" --no-manifest "$t" >&2
        echo "$key" > "$t/.bench-key"
    fi
    echo "$t"
}
# live COMMAND...: run it on the live path over tree $T
live() { unshare -Urm "$HERE/ns.sh" "$T" "$@"; }

{
    echo "# hostdev benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# machine: nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
    echo "# hostdev: $(cd "$TOP" && git describe --always --dirty 2>/dev/null || echo '?'), binary $HOSTDEVCTL"
    echo "# lspci: $(lspci --version 2>&1), pci.ids: $(grep -m1 -o 'Version: .*' /usr/share/misc/pci.ids 2>/dev/null || echo '?')"
    echo "# libvirt: $(libvirtd --version 2>/dev/null || /usr/sbin/libvirtd --version 2>/dev/null || echo absent)"
    echo "# REPS=$REPS (median; warm-up 1), LV_REPS=$LV_REPS"
} | tee "$BENCH_DIR/results.txt"

TSV=$BENCH_DIR/results.tsv
printf 'N\tmetric\tvalue\n' > "$TSV"
RAW=$BENCH_DIR/raw.txt
: > "$RAW"
put() { printf '%s\t%s\t%s\n' "$n" "$1" "$2" >> "$TSV"; }

for n in "${NS[@]}"; do
    T=$(tree "$n")
    names=$("$H" --sysroot "$T" nodedev-list)
    ndev=$(wc -l <<<"$names")
    npci=$(grep -c '^pci_' <<<"$names")
    one=$(grep '^pci_' <<<"$names" | sed -n "$((npci / 2))p")
    [ "$(lspci -A linux-sysfs -O "sysfs.path=$T/sys/bus/pci" -nn 2>/dev/null | wc -l)" -eq "$n" ] \
        || die "lspci does not see $n functions in $T"
    [ "$(live "$H" nodedev-list | wc -l)" -eq "$ndev" ] || die "the live path does not list $ndev devices"
    put devices "$ndev"; put one "$one"; put load "$(cut -d' ' -f1 /proc/loadavg)"
    echo "# N=$n: $ndev node devices; timing in the namespace (warm-up 1 + $REPS rounds) ..." >&2
    out=$(live python3 "$HERE/measure.py" --reps "$REPS" --warmup 1 \
        "list=$H nodedev-list" "xml=$H nodedev-dumpxml --all" "iommu=$H iommu" \
        "sr_list=$H --sysroot $T nodedev-list" "sr_xml=$H --sysroot $T nodedev-dumpxml --all" \
        "sr_iommu=$H --sysroot $T iommu" \
        "nn=lspci -nn" "nnvvv=lspci -nnvvv" \
        "one_xml=$H nodedev-dumpxml $one" "one_info=$H nodedev-info $one" "one_show=$H show $one" \
        "one_hxml=$H hostdev-xml $one" "one_explain=$H iommu explain $one" \
        "sr_one_xml=$H --sysroot $T nodedev-dumpxml $one" "sr_one_info=$H --sysroot $T nodedev-info $one" \
        "sr_one_show=$H --sysroot $T show $one" "sr_one_hxml=$H --sysroot $T hostdev-xml $one" \
        "sr_one_explain=$H --sysroot $T iommu explain $one") || die "measure.py failed"
    printf '# N=%s\n%s\n' "$n" "$out" >> "$RAW"
    while IFS=$'\t' read -r k med lo _ cpu; do
        put "$k" "$med"; put "${k}_min" "$lo"; put "${k}_cpu" "$cpu"
    done <<<"$out"
    # peak RSS of the live runs (GNU time %M, max of 2)
    for v in "list:nodedev-list" "xml:nodedev-dumpxml --all" "iommu:iommu"; do
        k=${v%%:*} m=0
        for _ in 1 2; do
            # shellcheck disable=SC2086
            r=$(live /usr/bin/time -f %M "$H" ${v#*:} 2>&1 >/dev/null | tail -1)
            [ "$r" -gt "$m" ] && m=$r
        done
        put "rss_$k" "$m"
    done
    # system calls (strace -c, total)
    for v in "list:$H nodedev-list" "xml:$H nodedev-dumpxml --all" "iommu:$H iommu" \
             "sr_list:$H --sysroot $T nodedev-list" "nn:lspci -nn" "nnvvv:lspci -nnvvv" \
             "one_xml:$H nodedev-dumpxml $one"; do
        # shellcheck disable=SC2086
        c=$(live bash -c 'strace -f -c -o "$0" "${@}" >/dev/null 2>&1; awk '"'"'$NF == "total" { print $(NF-2) }'"'"' "$0"' \
            "/tmp/hd-bench-strace.$$" ${v#*:})
        put "sc_${v%%:*}" "${c:-NA}"
    done
    rm -f "/tmp/hd-bench-strace.$$"
    if [ "$LV_REPS" -gt 0 ]; then
        echo "# N=$n: libvirt ($LV_REPS runs) ..." >&2
        f=()
        for ((r = 0; r < LV_REPS; r++)); do
            rc=0
            "$TOP/tests/libvirt/libvirt-nodedev.sh" "$T" "$BENCH_DIR/libvirt-out" --time --list-only \
                2>"$BENCH_DIR/libvirt.err" >/dev/null || rc=$?
            if [ $rc -eq 77 ]; then echo "# libvirt skipped: $(cat "$BENCH_DIR/libvirt.err")" >&2; break; fi
            if [ $rc -ne 0 ]; then
                # on a loaded machine libvirt can exceed the runner's timeout
                # (LIBVIRT_NODEDEV_TIMEOUT): note it, keep the other runs
                echo "# N=$n: libvirt run $r failed: $(head -1 "$BENCH_DIR/libvirt.err")" | tee -a "$RAW" >&2
                continue
            fi
            lvn=$(wc -l < "$BENCH_DIR/libvirt-out/names.txt")
            [ "$lvn" = "$ndev" ] || echo "# warning: libvirt listed $lvn devices, hostdev $ndev" >&2
            t=$(awk '$1 == "first_nodedev_list" { printf "%.1f", $2 * 1000 }' "$BENCH_DIR/libvirt-out/time.txt")
            printf '# N=%s libvirt run %d: %s ms\n' "$n" "$r" "$t" >> "$RAW"
            f+=("$t")
        done
        [ ${#f[@]} -gt 0 ] && put libvirt "$(printf '%s\n' "${f[@]}" | median)"
    fi
    [ "$KEEP_TREES" = 1 ] || rm -rf "$T"
done
rm -f "$BENCH_DIR/libvirt.err"
python3 "$HERE/report.py" "$TSV" | tee -a "$BENCH_DIR/results.txt"
echo "# raw: $TSV" >&2
if [ "${DAEMON:-0}" = 1 ]; then
    for n in "${NS[@]}"; do BENCH_DIR=$BENCH_DIR "$HERE/daemon.sh" "$n"; done
fi
