#!/bin/bash
# hostdev vs lspci vs libvirt on the same synthetic sysfs trees.
#
#   bench/run.sh [N...]            (default: 500 1000 2000 5000)
#
# For each N: build (or reuse) a tree with bench/gen-tree.py --pci N, then time
#   hostdevctl --sysroot T nodedev-list
#   hostdevctl --sysroot T nodedev-dumpxml --all
#   lspci -A linux-sysfs -O sysfs.path=T/sys/bus/pci -nn
#   lspci -A linux-sysfs -O sysfs.path=T/sys/bus/pci -nnvvv
# (wall clock, stdout to /dev/null, one warm-up run each, then REPS runs in
# round-robin order, median reported), hostdevctl's peak RSS (/usr/bin/time
# -f %M, max over the runs), and libvirt's first nodedev-list
# (tests/libvirt/libvirt-nodedev.sh --time --list-only: libvirtd spawn -> first list done, median of
# LV_REPS runs).  Prints a table with ratios and PASS/MISS per target.
#
# Environment:
#   REPS=7          timed runs per hostdev/lspci command (min 5)
#   LV_REPS=3       libvirt runs per N (1..3 is plenty; 0 = skip libvirt)
#   BENCH_DIR=build/bench   tree cache + results
#   HOSTDEVCTL=build/tools/hostdevctl   binary under test (snapshotted with
#                   its libhostdev.so.0 so a concurrent rebuild cannot change
#                   it mid-run)
#   KEEP_TREES=1    keep generated trees (default; 0 = delete each after use)
#
# Writes BENCH_DIR/results.tsv (raw medians) and BENCH_DIR/results.txt (the
# table) besides printing it.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
TOP=$(cd "$HERE/.." && pwd -P)
REPS=${REPS:-7}
LV_REPS=${LV_REPS:-3}
BENCH_DIR=${BENCH_DIR:-$TOP/build/bench}
HOSTDEVCTL=${HOSTDEVCTL:-$TOP/build/tools/hostdevctl}
KEEP_TREES=${KEEP_TREES:-1}
[ "$REPS" -ge 5 ] || { echo "run.sh: REPS must be >= 5" >&2; exit 1; }
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(500 1000 2000 5000)

export LC_ALL=C
die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$HOSTDEVCTL" ] || die "$HOSTDEVCTL not found: build first (meson setup build && ninja -C build)"
command -v lspci >/dev/null || die "lspci not found (apt-get install pciutils)"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install -y time)"
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

# ------------------------------------------------------------------ helpers
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR/2] + v[NR/2 + 1]) / 2 }'; }
rss_kb() { /usr/bin/time -f %M -o "$BENCH_DIR/rss.tmp" "$@" >/dev/null 2>/dev/null; cat "$BENCH_DIR/rss.tmp"; }

# Tree cache key: N + the generator and the fakesys library it uses.
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

# ------------------------------------------------------------------ header
{
    echo "# hostdev benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# machine: nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
    echo "# hostdev: $(cd "$TOP" && git describe --always --dirty 2>/dev/null || echo '?'), binary $HOSTDEVCTL ($(date -u -r "$HOSTDEVCTL" +%H:%M:%SZ))"
    echo "# lspci: $(lspci --version 2>&1), pci.ids: $(grep -m1 -o 'Version: .*' /usr/share/misc/pci.ids 2>/dev/null || echo '?')"
    echo "# libvirt: $(libvirtd --version 2>/dev/null || /usr/sbin/libvirtd --version 2>/dev/null || echo absent)"
    echo "# REPS=$REPS (median; warm-up 1), LV_REPS=$LV_REPS"
} | tee "$BENCH_DIR/results.txt"

TSV=$BENCH_DIR/results.tsv
printf 'N\tdevices\tlist_ms\tdumpxml_ms\tlspci_nn_ms\tlspci_nnvvv_ms\tlibvirt_first_ms\tlibvirt_second_ms\trss_list_kb\trss_dumpxml_kb\tlist_cpu_ms\tdumpxml_cpu_ms\tlspci_nn_cpu_ms\tlspci_nnvvv_cpu_ms\tlist_min_ms\tdumpxml_min_ms\tlspci_nn_min_ms\tlspci_nnvvv_min_ms\tloadavg1\tlibvirt_first_min_ms\n' > "$TSV"
RAW=$BENCH_DIR/raw.txt
: > "$RAW"

for n in "${NS[@]}"; do
    T=$(tree "$n")
    Tq=$(printf %q "$T") Hq=$(printf %q "$H")
    LSPCI="lspci -A linux-sysfs -O sysfs.path=$Tq/sys/bus/pci"
    ndev=$("$H" --sysroot "$T" nodedev-list | wc -l)
    npci=$(lspci -A linux-sysfs -O "sysfs.path=$T/sys/bus/pci" -nn 2>/dev/null | wc -l)
    [ "$npci" -eq "$n" ] || die "lspci saw $npci functions in $T, expected $n"
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "# N=$n: $ndev node devices; timing (warm-up 1 + $REPS reps, round-robin) ..." >&2
    out=$(python3 "$HERE/measure.py" --reps "$REPS" --warmup 1 \
        "list=$Hq --sysroot $Tq nodedev-list" \
        "dumpxml=$Hq --sysroot $Tq nodedev-dumpxml --all" \
        "nn=$LSPCI -nn" \
        "nnvvv=$LSPCI -nnvvv") || die "measure.py failed"
    printf '# N=%s\n%s\n' "$n" "$out" >> "$RAW"
    declare -A M=() C=() MIN=()
    while IFS=$'\t' read -r k med lo hi cpu; do
        M[$k]=$med MIN[$k]=$lo C[$k]=$cpu
    done <<<"$out"
    # Peak RSS the way the brief asks for it: GNU time's %M (max of 3 runs).
    rl=0 rd=0
    for _ in 1 2 3; do
        v=$(rss_kb "$H" --sysroot "$T" nodedev-list); [ "$v" -gt "$rl" ] && rl=$v
        v=$(rss_kb "$H" --sysroot "$T" nodedev-dumpxml --all); [ "$v" -gt "$rd" ] && rd=$v
    done
    lv1=NA lv2=NA lvmin=NA
    if [ "$LV_REPS" -gt 0 ]; then
        echo "# N=$n: libvirt ($LV_REPS runs) ..." >&2
        f=() s=()
        for ((r = 0; r < LV_REPS; r++)); do
            rc=0
            "$TOP/tests/libvirt/libvirt-nodedev.sh" "$T" "$BENCH_DIR/libvirt-out" --time --list-only \
                2>"$BENCH_DIR/libvirt.err" >/dev/null || rc=$?
            lvout=
            if [ $rc -eq 0 ]; then
                lvout="devices $(wc -l < "$BENCH_DIR/libvirt-out/names.txt")
$(cat "$BENCH_DIR/libvirt-out/time.txt")"
            fi
            if [ $rc -eq 77 ]; then echo "# libvirt skipped: $(cat "$BENCH_DIR/libvirt.err")" >&2; break; fi
            [ $rc -eq 0 ] || die "libvirt run failed: $(cat "$BENCH_DIR/libvirt.err")"
            lvn=$(awk '$1 == "devices" { print $2 }' <<<"$lvout")
            [ "$lvn" = "$ndev" ] || echo "# warning: libvirt listed $lvn devices, hostdev $ndev" >&2
            printf '# N=%s libvirt run %d\n%s\n' "$n" "$r" "$lvout" >> "$RAW"
            f+=("$(awk '$1 == "first_nodedev_list" { printf "%.1f", $2 * 1000 }' <<<"$lvout")")
            s+=("$(awk '$1 == "second_nodedev_list" { printf "%.1f", $2 * 1000 }' <<<"$lvout")")
        done
        if [ ${#f[@]} -gt 0 ]; then
            lv1=$(printf '%s\n' "${f[@]}" | median)
            lv2=$(printf '%s\n' "${s[@]}" | median)
            lvmin=$(printf '%s\n' "${f[@]}" | sort -g | head -1)
        fi
    fi
    row=("$n" "$ndev" "${M[list]}" "${M[dumpxml]}" "${M[nn]}" "${M[nnvvv]}" "$lv1" "$lv2" "$rl" "$rd"
         "${C[list]}" "${C[dumpxml]}" "${C[nn]}" "${C[nnvvv]}"
         "${MIN[list]}" "${MIN[dumpxml]}" "${MIN[nn]}" "${MIN[nnvvv]}" "$load" "$lvmin")
    (IFS=$'\t'; echo "${row[*]}") >> "$TSV"
    unset M C MIN
    [ "$KEEP_TREES" = 1 ] || rm -rf "$T"
done
rm -f "$BENCH_DIR/rss.tmp" "$BENCH_DIR/libvirt.err"

# ------------------------------------------------------------------ report
awk -F'\t' '
function pf(ok) { return ok ? "PASS" : "MISS" }
NR == 1 { next }
{ k++; N[k] = $1; D[k] = $2; L[k] = $3; X[k] = $4; NN[k] = $5; V[k] = $6; LV[k] = $7; LV2[k] = $8
  RL[k] = $9 / 1024; RD[k] = $10 / 1024
  CL[k] = $11; CX[k] = $12; CN[k] = $13; CV[k] = $14; ML[k] = $15; MX[k] = $16; MN[k] = $17; MV[k] = $18; LA[k] = $19; LVM[k] = $20 }
END {
  printf "\nWall-clock ms, median of the timed runs [min in brackets]; libvirt = libvirtd spawn -> first nodedev-list done\n"
  printf "(lv-second = one more virsh nodedev-list against the running daemon; load = 1-min loadavg before the N).\n\n"
  printf "%6s %7s | %16s %16s | %16s %16s | %9s %9s | %5s\n", "N", "nodedev", "hd-list", "hd-dumpxml-all", "lspci-nn", "lspci-nnvvv", "lv-first", "lv-second", "load"
  for (i = 1; i <= k; i++)
    printf "%6d %7d | %7.1f [%6.1f] %7.1f [%6.1f] | %7.1f [%6.1f] %7.1f [%6.1f] | %9s %9s | %5s\n", N[i], D[i], L[i], ML[i], X[i], MX[i], NN[i], MN[i], V[i], MV[i], LV[i], LV2[i], LA[i]
  printf "\nCPU ms (user+sys of the process, median):\n\n"
  printf "%6s | %8s %8s %8s %8s | %13s %13s\n", "N", "hd-list", "hd-xml", "lspci-nn", "lspci-vvv", "list/nn(cpu)", "xml/vvv(cpu)"
  for (i = 1; i <= k; i++)
    printf "%6d | %8.1f %8.1f %8.1f %8.1f | %13.2f %13.2f\n", N[i], CL[i], CX[i], CN[i], CV[i], CL[i] / CN[i], CX[i] / CV[i]
  printf "\nRatios (wall medians) and targets:\n\n"
  printf "%6s | %-17s | %-16s | %-16s | %-20s | %-s\n", "N", "libvirt/list >=20", "list/lspci <=1.5", "xml/vvv <=1.0", "list us/fn (marg.)", "peak RSS MB list/xml <=20"
  for (i = 1; i <= k; i++) {
    if (LV[i] == "NA") lvs = "n/a"; else { r = LV[i] / L[i]; lvs = sprintf("%6.1f %s", r, pf(r >= 20)) }
    r1 = L[i] / NN[i]; r2 = X[i] / V[i]
    us = L[i] * 1000 / N[i]
    if (i > 1 && N[i] != N[i-1]) mg = sprintf("(%.0f)", (L[i] - L[i-1]) * 1000 / (N[i] - N[i-1])); else mg = ""
    rss = (RL[i] > RD[i]) ? RL[i] : RD[i]
    printf "%6d | %-17s | %6.2f %-9s | %6.2f %-9s | %6.0f %-13s | %5.1f / %-5.1f %s\n", N[i], lvs, r1, pf(r1 <= 1.5), r2, pf(r2 <= 1.0), us, mg, RL[i], RD[i], pf(rss <= 20)
  }
  # The same ratios from the fastest run of each command: on a loaded
  # machine a median can catch a burst of contention; mins rarely do.
  printf "\nSame ratios from the fastest run of each (robustness check on a busy machine):\n\n"
  printf "%6s | %-17s | %-16s | %-16s\n", "N", "libvirt/list >=20", "list/lspci <=1.5", "xml/vvv <=1.0"
  for (i = 1; i <= k; i++) {
    if (LVM[i] == "NA" || LVM[i] == "") lvs = "n/a"; else { r = LVM[i] / ML[i]; lvs = sprintf("%6.1f %s", r, pf(r >= 20)) }
    r1 = ML[i] / MN[i]; r2 = MX[i] / MV[i]
    printf "%6d | %-17s | %6.2f %-9s | %6.2f %-9s\n", N[i], lvs, r1, pf(r1 <= 1.5), r2, pf(r2 <= 1.0)
  }
  # Linearity: per-function cost at the largest N vs the smallest (fixed
  # startup cost makes small N look dearer, so > 1.5 means superlinear).
  if (k > 1) {
    g = (L[k] / N[k]) / (L[1] / N[1])
    printf "\nGrowth: list    us/fn at N=%d / at N=%d = %.2f (linear if <= 1.5): %s\n", N[k], N[1], g, pf(g <= 1.5)
    g = (X[k] / N[k]) / (X[1] / N[1])
    printf "        dumpxml us/fn at N=%d / at N=%d = %.2f (linear if <= 1.5): %s\n", N[k], N[1], g, pf(g <= 1.5)
  }
}' "$TSV" | tee -a "$BENCH_DIR/results.txt"
echo "# raw: $TSV" >&2
