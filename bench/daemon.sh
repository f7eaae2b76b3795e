#!/bin/bash
# hostdevd against issue 12's goals, on bench/gen-tree.py's synthetic trees,
# through a private dbus-daemon:
#
#   bench/daemon.sh [N]            (default 5000 PCI functions)
#
#   start: hostdevd --sysroot TREE to its name on the bus
#   ListDevices: REPS calls one after the other (tests/daemon-client bench):
#       p50, p99, max                                   goal p50/p99 <= 20 ms
#   RSS (VmRSS of /proc/PID/status): after start, after the ListDevices
#       calls, after the clients                        goal <= 25 MB
#   CLIENTS connections with a ListDevices in flight at once (daemon-client
#       clients): all answered alike                    goal: served
#   uevent to signal: in a private user, mount and network namespace
#       (unshare -Urmn) the tree is bound over /sys as bench/ns.sh does and
#       hostdevd serves "the live host"; ROUNDS times a PCI function's driver
#       link is taken away or given back and the unbind/bind uevent sent into
#       the namespace's kernel uevent socket (bench/uevent-latency.py): from
#       the send to a client's receipt of DeviceChanged, p50 and p99
#                                                       goal < 10 ms
#       and the first ListDevices after each event (the touched devices'
#       objects rendered again)
#   Detach (dry run) on the live host: DETACH_REPS calls one after the
#       other of one of those PCI functions, p50, p99 (a write's
#       preparation: the queued uevents, the device and its IOMMU group
#       read again; no enumeration)
#   definition to signal (--sysroot, HOSTDEV_MDEVCTL_DIR a directory of
#       its own): DEF_ROUNDS times an mdev definition is renamed into a
#       parent's directory as mdevctl writes it, then removed; from the
#       rename (removal) to a client's receipt of DeviceAdded
#       (DeviceRemoved), p50 and max: the watch's 150 ms settle and the
#       re-read (that parent's defined mdevs; a full enumeration before),
#       and the daemon's full enumerations meanwhile
#
# Environment: REPS=200 CLIENTS=100 ROUNDS=60 DETACH_REPS=20 DEF_ROUNDS=20 BENCH_DIR=build/bench
#   HOSTDEVD, HOSTDEVCTL, DAEMON_CLIENT (default: the build/ ones)
# Writes BENCH_DIR/daemon-N.txt besides printing.  A benchmark, not a
# test: MISS marks do not fail it.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
TOP=$(cd "$HERE/.." && pwd -P)
N=${1:-5000}
REPS=${REPS:-200}
CLIENTS=${CLIENTS:-100}
ROUNDS=${ROUNDS:-60}
DETACH_REPS=${DETACH_REPS:-20}
DEF_ROUNDS=${DEF_ROUNDS:-20}
BENCH_DIR=${BENCH_DIR:-$TOP/build/bench}
HOSTDEVD=${HOSTDEVD:-$TOP/build/daemon/hostdevd}
HOSTDEVCTL=${HOSTDEVCTL:-$TOP/build/tools/hostdevctl}
DAEMON_CLIENT=${DAEMON_CLIENT:-$TOP/build/tests/daemon-client}
export LC_ALL=C
die() { echo "daemon.sh: $*" >&2; exit 1; }
for b in "$HOSTDEVD" "$HOSTDEVCTL" "$DAEMON_CLIENT"; do
        [ -x "$b" ] || die "$b not found: build first (meson setup build && ninja -C build)"
done
command -v dbus-daemon >/dev/null || die "no dbus-daemon"
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)

# the tree: as bench/run.sh makes and caches it
gen_key() { cat "$HERE/gen-tree.py" "$TOP"/tests/fakesys/*.py 2>/dev/null | sha256sum | cut -c1-16; }
T=$BENCH_DIR/trees/$N
if [ ! -f "$T/.bench-key" ] || [ "$(cat "$T/.bench-key")" != "$(gen_key)" ]; then
        echo "# generating N=$N ..." >&2
        rm -rf "$T"; mkdir -p "$BENCH_DIR/trees"
        python3 "$HERE/gen-tree.py" --pci "$N" --no-manifest "$T" >&2
        gen_key > "$T/.bench-key"
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/hostdev-bench-daemon.XXXXXX")
DPID= BPID=
cleanup() {
        [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
        [ -n "$BPID" ] && kill "$BPID" 2>/dev/null
        rm -rf "$W"
}
trap cleanup EXIT
OUT=$BENCH_DIR/daemon-$N.txt
: > "$OUT"
say() { echo "$*" | tee -a "$OUT"; }
verdict() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g) ? "ok" : "MISS" }'; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
bus_conf() {    # FILE ADDRESS: a bus that lets everyone own and call
        cat > "$1" <<EOC
<busconfig><type>custom</type><listen>$2</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>
EOC
}
wait_name() {   # ADDRESS: until hostdevd owns its name, 60 s at most
        for _ in $(seq 600); do
                [ "$(busctl --address="$1" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                        NameHasOwner s org.hostdev.Hostdev1 2>/dev/null)" = "b true" ] && return 0
                sleep 0.1
        done
        return 1
}

say "# hostdevd, N=$N PCI functions ($(find "$T/sys/devices" -name uevent | wc -l) device directories), $(date -u +%F), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"

# --- the sysroot: start, ListDevices, RSS, clients
A=unix:path=$W/bus
bus_conf "$W/bus.conf" "$A"
dbus-daemon --config-file="$W/bus.conf" --fork --print-pid=3 3> "$W/bus.pid"
BPID=$(cat "$W/bus.pid")
t0=$(date +%s%N)
"$HOSTDEVD" --sysroot "$T" --bus-address "$A" 2> "$W/daemon.log" &
DPID=$!
wait_name "$A" || die "hostdevd did not take its name: $(tail -3 "$W/daemon.log")"
t1=$(date +%s%N)
say "start to name on the bus: $(( (t1 - t0) / 1000000 )) ms"
rss0=$(rss_mb "$DPID")
say "RSS after start: $rss0 MB"
line=$("$DAEMON_CLIENT" "$A" bench "$REPS")
p50=$(sed -n 's/.* p50 \([0-9.]*\) ms.*/\1/p' <<< "$line")
p99=$(sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p' <<< "$line")
say "$line"
say "ListDevices p50 $p50 ms: $(verdict "$p50" 20) (goal <= 20 ms); p99 $p99 ms: $(verdict "$p99" 20)"
rss1=$(rss_mb "$DPID")
say "RSS after $REPS ListDevices: $rss1 MB: $(verdict "$rss1" 25) (goal <= 25 MB)"
line=$("$DAEMON_CLIENT" "$A" clients "$CLIENTS") || true
say "$line"
rss2=$(rss_mb "$DPID")
say "RSS after $CLIENTS clients: $rss2 MB: $(verdict "$rss2" 25)"
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=

# --- definition to signal: a daemon of its own (-v -v: its log counts the
# enumerations) with the definitions in a directory of its own, whose
# parent's directory exists before the start (its creation is a change of
# the top directory: a full enumeration)
MD=$W/mdevctl.d
mkdir -p "$MD/mtty"
HOSTDEV_MDEVCTL_DIR=$MD "$HOSTDEVD" -v -v --sysroot "$T" --bus-address "$A" 2> "$W/def-daemon.log" &
DPID=$!
wait_name "$A" || die "hostdevd did not take its name: $(tail -3 "$W/def-daemon.log")"
full0=$(grep -c 'tree rebuilt' "$W/def-daemon.log" || true)
: > "$W/def-add"; : > "$W/def-rm"
# def_round FILE MEMBER CMD...: CMD's latency to the MEMBER signal, in µs, into FILE
def_round() {
        local f=$1 member=$2 t0 ts
        shift 2
        "$DAEMON_CLIENT" "$A" watch 1 10 > "$W/w" &
        local wp=$!
        for _ in $(seq 500); do grep -q '^ready$' "$W/w" && break; sleep 0.01; done
        t0=$(date +%s%N)
        "$@"
        wait "$wp" || true
        ts=$(awk -v m="$member" '$1 == "Signal" && $2 == m { print $4; exit }' "$W/w")
        [ -n "$ts" ] && echo $(( (ts - t0) / 1000 )) >> "$f"
}
for i in $(seq "$DEF_ROUNDS"); do
        u=$(printf '%08x-0000-4000-8000-%012x' "$i" "$i")
        printf '{\n  "mdev_type": "mtty-1",\n  "start": "manual",\n  "attrs": []\n}' > "$MD/mtty/.$u.tmp"
        def_round "$W/def-add" DeviceAdded mv "$MD/mtty/.$u.tmp" "$MD/mtty/$u"
        def_round "$W/def-rm" DeviceRemoved rm "$MD/mtty/$u"
done
full1=$(grep -c 'tree rebuilt' "$W/def-daemon.log" || true)
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
kill "$BPID" 2>/dev/null || true; BPID=
defq() { sort -n "$1" | awk -v q="$2" '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } i = int(NR * q + 0.999999); if (i < 1) i = 1; printf "%.1f", v[i] / 1000 }'; }
say "definition to DeviceAdded ($(wc -l < "$W/def-add") of $DEF_ROUNDS rounds): p50 $(defq "$W/def-add" 0.5) ms, max $(defq "$W/def-add" 1) ms; to DeviceRemoved ($(wc -l < "$W/def-rm")): p50 $(defq "$W/def-rm" 0.5) ms, max $(defq "$W/def-rm" 1) ms (150 ms of it the settle)"
say "full enumerations for the $((2 * DEF_ROUNDS)) definition changes: $((full1 - full0)) ($(grep -c 're-read defined mdevs of' "$W/def-daemon.log" || true) parents re-read instead)"

# --- uevent to signal, "the live host" in private namespaces
command -v ip >/dev/null && unshare -Urmn true 2>/dev/null || { say "uevent to signal: skipped (no unshare -Urmn or ip)"; exit 0; }
# PCI functions with a driver, spread over the tree
mapfile -t DEVS < <(cd "$T/sys/bus/pci/devices" && for a in *; do
        [ -L "$a/driver" ] && readlink -f "$a" | sed "s|^$(cd "$T" && pwd -P)/sys||"; done | awk 'NR % 97 == 0' | head -16)
[ ${#DEVS[@]} -gt 0 ] || die "no PCI function with a driver in $T"
cat > "$W/ns.sh" <<'EONS'
set -u
T=$1 W=$2; shift 2
# the namespace and the daemon as the live-host tests set them up
. "$SRCDIR/tests/daemon-ns-lib.sh"
ns_enter "$T"
NS_WAIT_S=60 ns_start_daemon "$W" -v -v
python3 "$HERE/uevent-latency.py" "$DAEMON_CLIENT" "$A" "$ROUNDS" "$@"
# a write's preparation on the live host: dry-run Detach calls
"$DAEMON_CLIENT" "$A" detach "$DETACH_REPS" "${1##*/}"
echo "rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' /proc/$dpid/status)"
kill "$dpid"; wait "$dpid" 2>/dev/null
kill "$(cat "$W/ns-bus.pid")" 2>/dev/null
EONS
SRCDIR=$TOP HERE=$HERE HOSTDEVD=$HOSTDEVD DAEMON_CLIENT=$DAEMON_CLIENT ROUNDS=$ROUNDS DETACH_REPS=$DETACH_REPS \
        unshare -Urmn bash "$W/ns.sh" "$T" "$W" "${DEVS[@]}" > "$W/lat" 2> "$W/lat.err" || true
grep -E '^[0-9]+$' "$W/lat" | sort -n > "$W/lat.sorted" || true
n=$(wc -l < "$W/lat.sorted")
[ "$n" -gt 0 ] || die "no latency measured: $(tail -5 "$W/lat.err")"
pick() { awk -v q="$1" '{ v[NR] = $1 } END { i = int(NR * q + 0.999999); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 }' "$W/lat.sorted"; }
l50=$(pick 0.5) l99=$(pick 0.99) lmax=$(pick 1)
say "uevent to DeviceChanged ($n rounds, unbind/bind of ${#DEVS[@]} PCI functions): p50 $l50 ms: $(verdict "$l50" 10); p99 $l99 ms: $(verdict "$l99" 10) (goal < 10 ms); max $lmax ms"
sed -n 's/^list //p' "$W/lat" | sort -g > "$W/list.sorted"
if [ -s "$W/list.sorted" ]; then
        q() { awk -v q="$1" '{ v[NR] = $1 } END { i = int(NR * q + 0.999999); if (i < 1) i = 1; print v[i] }' "$W/list.sorted"; }
        say "first ListDevices after an event ($(wc -l < "$W/list.sorted") events): p50 $(q 0.5) ms, p99 $(q 0.99) ms"
fi
line=$(grep '^Detach (dry run)' "$W/lat" || true)
say "live host, ${line:-Detach (dry run): no answer} (a write's preparation: the queued uevents, the device and its group read again)"
say "full enumerations in the namespace: $(grep -c 'tree rebuilt' "$W/ns-daemon.log") (1: the start; every event placed)"
say "RSS of the live daemon after the events: $(sed -n 's/^rss=//p' "$W/lat") MB"
cp "$W/ns-daemon.log" "$BENCH_DIR/daemon-ns-$N.log"     # its -v -v log: each event and answer timed
